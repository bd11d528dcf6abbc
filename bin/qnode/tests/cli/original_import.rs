//! `qnode init --from-original DIR` on an original node's directory recorded from a
//! running original (`crates/test-vectors/recorded/original-node`: its config.yml,
//! keys.yml and pebble store): the same peer id, the settings that map, the proof chain
//! carried over and verified link by link, VDF by VDF and opening by opening; the
//! original's directory untouched; damaged files refused with nothing written.

use crate::common::{qnode, text};
use qnode_kzg::{Ceremony, Scalar, Setup};
use qnode_protocol::frame::DEFAULT_FILTER;
use qnode_prover::proof_chain::{check, original_seams, records};
use qnode_store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The τ of the stand-in KZG ceremony the recorded originals ran with (its powers are
/// τⁱ·G1 and τⁱ·G2), so its commitments and openings are checked by a qnode setup of the
/// same τ.
const ORIGINAL_TAU: u64 = 0x5eed_1234;
/// The recorded node's peer id (its config.yml's key, as the original printed it).
const ORIGINAL_PEER: &str = "Qmf9EsZTB81nPSEHRHReKcoMWkx3wb9paQ7faTPJh37mE9";

fn recorded_node() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/test-vectors/recorded/original-node")
}

/// A copy of the recorded node whose config.yml's `db.path` names the copy's store (the
/// recording names the store where the original ran).
fn copy_node() -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("dir");
    let source = recorded_node();
    std::fs::create_dir(copy.path().join("store")).expect("store dir");
    for entry in walk(&source) {
        let relative = entry.strip_prefix(&source).expect("inside");
        std::fs::copy(&entry, copy.path().join(relative)).expect("copy");
    }
    let config = copy.path().join("config.yml");
    let store = copy.path().join("store");
    let text = std::fs::read_to_string(&config).expect("config.yml");
    let moved: Vec<String> = text
        .lines()
        .map(
            |l| match l.starts_with("  path: ") && l.ends_with("/store") {
                true => format!("  path: {}", store.display()),
                false => l.to_string(),
            },
        )
        .collect();
    std::fs::write(&config, moved.join("\n")).expect("write");
    copy
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        match path.is_dir() {
            true => files.extend(walk(&path)),
            false => files.push(path),
        }
    }
    files
}

fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

/// The recorded originals ran with `--network 7`, which config.yml does not hold.
fn import(original: &Path, into: &Path) -> std::process::Output {
    import_as(original, into, &["--network", "7"])
}

fn import_as(original: &Path, into: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "init",
        "--config-dir",
        into.to_str().expect("utf-8"),
        "--from-original",
        original.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    qnode(&args)
}

#[test]
fn an_original_node_is_imported_with_its_peer_id_settings_and_proof_chain() {
    let original = copy_node();
    let before = contents(original.path());
    let into = tempfile::tempdir().expect("dir");
    let out = import(original.path(), into.path());
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert_eq!(
        contents(original.path()),
        before,
        "the original's files are untouched"
    );
    assert!(said.contains(ORIGINAL_PEER), "{said}");
    for section in ["took:", "changed:", "ignored:", "the proof chain:"] {
        assert!(said.contains(section), "{section} in {said}");
    }
    let peer_id = qnode(&[
        "peer-id",
        "--config-dir",
        into.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(text(&peer_id.stdout).trim(), ORIGINAL_PEER);
    let config = std::fs::read_to_string(into.path().join("config.toml")).expect("config");
    for line in [
        "devnet = false",
        "network = 7",
        "listen = [\"/ip4/127.0.0.1/tcp/18401\"]",
    ] {
        assert!(config.lines().any(|l| l == line), "{line} in config.toml");
    }
    assert!(config.lines().any(|l| l.starts_with("genesis-seed = ")));
    assert!(config
        .lines()
        .any(|l| l.starts_with("bootstrap = [\"/ip4/127.0.0.1/tcp/18501/p2p/Qm")));
    chain_verifies(into.path());
    cli_verifies(into.path());
}

/// `qnode proofs --verify` on the imported node, given a setup of the original's τ.
fn cli_verifies(config_dir: &Path) {
    let ceremony =
        Ceremony::from_known_secret(&Scalar::from_u64(ORIGINAL_TAU), 128).expect("ceremony");
    std::fs::write(config_dir.join("kzg-setup.pot"), ceremony.to_bytes()).expect("setup");
    let out = qnode(&[
        "proofs",
        "--verify",
        "--config-dir",
        config_dir.to_str().expect("utf-8"),
    ]);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains("came from the original node"), "{said}");
    assert!(said.contains("restarted before increment(s) 15"), "{said}");
}

/// Every imported increment: its link to the one before (or the genesis output), its VDF
/// proof, and its KZG opening under the setup of the original's τ.
fn chain_verifies(config_dir: &Path) {
    let store = Store::open_read_only_in(config_dir).expect("store");
    let peer: qnode_p2p::PeerId = ORIGINAL_PEER.parse().expect("peer id");
    let chain = records(&store, &peer.to_bytes()).expect("records");
    assert!(chain.len() >= 20, "{} increments imported", chain.len());
    let genesis = store
        .frame(&DEFAULT_FILTER, 0)
        .expect("read")
        .expect("the genesis frame")
        .output;
    let setup = Setup::from_secret(&Scalar::from_u64(ORIGINAL_TAU), 128).expect("setup");
    let imported = store.imported_through(&peer.to_bytes()).expect("read");
    assert_eq!(
        imported,
        Some(chain.len() as u32 - 1),
        "the whole chain came from the original"
    );
    let faults: Vec<String> = (0..chain.len())
        .filter_map(|i| {
            check(&chain, i, &peer.to_bytes(), &genesis, &setup, imported)
                .err()
                .map(|e| format!("{i}: {e}"))
        })
        .collect();
    assert!(faults.is_empty(), "{faults:#?}");
    // Checked by qnode's own stricter rules, only the seam where the original restarted
    // (increment 15, after increment 14 was stored) fails: its resume skips a link.
    let strict: Vec<u32> = (0..chain.len())
        .filter(|&i| check(&chain, i, &peer.to_bytes(), &genesis, &setup, None).is_err())
        .map(|i| chain[i].increment)
        .collect();
    assert_eq!(strict, vec![14, 15]);
    assert_eq!(
        original_seams(&chain, &genesis, chain.len() as u32 - 1),
        vec![15]
    );
    let latest = store
        .latest_data_time_proof(&peer.to_bytes())
        .expect("read")
        .expect("a latest proof");
    assert_eq!(latest.increment as usize, chain.len() - 1);
    assert_eq!(latest.reward, 1_200_000 * 3 * chain.len() as u128);
}

/// Writes `config.yml` of a copy with `edit` applied; the import must refuse it, naming
/// `field`, and write nothing.
fn refused(edit: impl Fn(String) -> String, field: &str) {
    let original = copy_node();
    let path = original.path().join("config.yml");
    let text_before = std::fs::read_to_string(&path).expect("config.yml");
    std::fs::write(&path, edit(text_before)).expect("write");
    let into = tempfile::tempdir().expect("dir");
    let out = import(original.path(), into.path());
    let said = text(&out.stderr);
    assert!(!out.status.success(), "accepted: {}", text(&out.stdout));
    assert!(
        said.contains("config.yml") && said.contains(field),
        "{field}: {said}"
    );
    assert_eq!(
        std::fs::read_dir(into.path()).expect("dir").count(),
        0,
        "{said}"
    );
}

fn replace_key(text: String, with: &str) -> String {
    text.lines()
        .map(|l| match l.trim_start().starts_with("peerPrivKey:") {
            true => format!("  peerPrivKey: {with}"),
            false => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn damaged_or_foreign_config_files_are_refused_naming_the_field() {
    refused(|t| replace_key(t, "zz"), "p2p.peerPrivKey");
    refused(|t| replace_key(t, &"ab".repeat(100)), "p2p.peerPrivKey");
    // A seed whose attached public half is another key's.
    let other_half = format!("{}{}", "11".repeat(57), "22".repeat(57));
    refused(|t| replace_key(t, &other_half), "p2p.peerPrivKey");
    refused(
        |_| "foo: bar\n".to_string(),
        "not an original node's config.yml",
    );
    refused(
        |t| t.replace("genesisSeed: ", "genesisSeed: xyz"),
        "engine.genesisSeed",
    );
    refused(
        |t| t.replace("- /ip4/127.0.0.1/tcp/18501", "- /ip4/nonsense/tcp/18501"),
        "p2p.bootstrapPeers[0]",
    );
}

#[test]
fn a_chain_of_another_network_than_given_is_refused_and_the_node_removed() {
    let original = copy_node();
    let into = tempfile::tempdir().expect("dir");
    let out = import_as(original.path(), into.path(), &[]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("--network"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_dir(into.path()).expect("dir").count(), 0);
}

#[test]
fn the_originals_own_directory_is_never_written() {
    let original = copy_node();
    let out = import(original.path(), original.path());
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("never writes there"));
    assert!(!original.path().join("node-key").exists());
}
