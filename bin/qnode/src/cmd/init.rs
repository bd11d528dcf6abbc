//! `qnode init`: a new node directory — an identity key (mode 0600) and a commented
//! `config.toml` with every default — ready for `qnode run`; or, with `--from-original`,
//! one made from an original node's configuration (same peer key and settings).

use super::original::{self, Imported};
use super::original_chain;
use super::KeyTypeArg;
use anyhow::{bail, Context, Result};
use clap::Args;
use qnode_identity::{NodeKey, IDENTITY_FILE};
use qnode_options::{file::CONFIG_FILE, template, ConfigDir};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// The new node's identity: Ed448 as the original node's, or Ed25519.
    #[arg(long, value_enum, default_value_t)]
    key_type: KeyTypeArg,
    /// Make the node from an original node's config directory (its `.config`, holding
    /// config.yml), which is only read: its peer key (so the same peer id), network,
    /// listen address, bootstrap peers, workers and endpoints.
    #[arg(long, value_name = "DIR", conflicts_with = "key_type")]
    from_original: Option<PathBuf>,
    /// The `--network` flag the original ran with, if any: it is not in config.yml, and
    /// it changes the network's genesis (and so the proof chain's first challenge).
    #[arg(long, requires = "from_original")]
    network: Option<u8>,
}

impl InitArgs {
    pub fn run(self) -> Result<ExitCode> {
        let dir = self.dir.path()?;
        refuse_existing(&dir)?;
        match &self.from_original {
            Some(original_dir) => import(&dir, original_dir, self.network),
            None => {
                let key =
                    NodeKey::generate(self.key_type.into()).context("making the node's key")?;
                write_node(&dir, &key, &template::render()?)?;
                outln!("new node in {}", dir.display());
                outln!("  peer id  {} ({})", key.peer_id(), key.key_type());
                let (http, api) = (template::HTTP_PORT, template::API_PORT);
                next_steps(
                    &dir,
                    &format!("http://127.0.0.1:{http}/"),
                    &format!("127.0.0.1:{api}"),
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

fn refuse_existing(dir: &Path) -> Result<()> {
    for existing in [IDENTITY_FILE, CONFIG_FILE] {
        if dir.join(existing).exists() {
            bail!(
                "{} already exists: {} already holds a node, and init never replaces its key \
                 or configuration. Start it with `qnode run --config-dir {}`, or choose \
                 another --config-dir for a new node.",
                dir.join(existing).display(),
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(())
}

/// Writes the key, then the configuration; each whole or not at all.
fn write_node(dir: &Path, key: &NodeKey, config: &str) -> Result<()> {
    qnode_identity::save_identity(dir, key)?;
    let path = dir.join(CONFIG_FILE);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| f.write_all(config.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))
}

fn import(dir: &Path, original_dir: &Path, network_flag: Option<u8>) -> Result<ExitCode> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same(dir, original_dir) {
        bail!(
            "--config-dir is the original's own directory ({}): qnode never writes there; \
             choose another --config-dir",
            original_dir.display()
        );
    }
    let imported = original::read(original_dir, network_flag)?;
    let peer = imported.key.peer_id();
    let chain = if imported.store_dir.exists() {
        original_chain::read(&imported.store_dir, &peer)?
    } else {
        original_chain::OriginalChain {
            proofs: Vec::new(),
            reward: 0,
            notes: vec![format!("no store at {}", imported.store_dir.display())],
        }
    };
    let mut keys: Vec<&str> = template::STARTER_KEYS.to_vec();
    keys.extend(imported.set.iter().copied());
    let text = template::render_with(&imported.settings.clone().or(template::starter()), &keys)?;
    write_node(dir, &imported.key, &text)?;
    if !chain.proofs.is_empty() {
        let written =
            original_chain::write(dir, &peer, &chain, &imported.genesis_seed, imported.network);
        if let Err(e) = written {
            undo(dir);
            return Err(e.context("importing the proof chain; the new node was removed again"));
        }
    }
    report(original_dir, dir, &imported, &chain);
    let shown = |endpoint: Option<qnode_options::Endpoint>| match endpoint {
        Some(qnode_options::Endpoint::At(address)) => address.to_string(),
        _ => "off".to_string(),
    };
    next_steps(
        dir,
        &shown(imported.settings.http_listen),
        &shown(imported.settings.grpc_listen),
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes what an import wrote, when its last step failed.
fn undo(dir: &Path) {
    for name in [IDENTITY_FILE, CONFIG_FILE, qnode_store::STORE_FILE] {
        let _ = std::fs::remove_file(dir.join(name));
    }
}

fn report(
    original_dir: &Path,
    dir: &Path,
    imported: &Imported,
    chain: &original_chain::OriginalChain,
) {
    outln!(
        "imported the original node in {} into {} (the original's directory was only read)",
        original_dir.display(),
        dir.display()
    );
    outln!(
        "  peer id  {} (Ed448, the original's own)",
        imported.key.peer_id()
    );
    let chain_line = match chain.proofs.len() {
        0 if chain.notes.is_empty() => "no proof chain to carry over (the store holds none)".into(),
        0 => format!("no proof chain to carry over ({})", chain.notes.join("; ")),
        n => format!(
            "the proof chain: {n} increments (0 to {}), reward {} (the store in {})",
            n - 1,
            chain.reward,
            imported.store_dir.display()
        ),
    };
    let taken = imported.taken.iter().cloned().chain([chain_line]);
    for (title, lines) in [
        ("took", taken.collect::<Vec<_>>()),
        ("changed", imported.changed.clone()),
        ("ignored", imported.ignored.clone()),
    ] {
        outln!("{title}:");
        for line in lines {
            outln!("  - {line}");
        }
    }
    for note in chain.notes.iter().filter(|_| !chain.proofs.is_empty()) {
        outln!("note: {note}");
    }
}

fn next_steps(dir: &Path, dashboard: &str, api: &str) {
    let shown = dir.display();
    outln!(
        "  key      {} (keep it private; back it up)",
        dir.join(IDENTITY_FILE).display()
    );
    outln!(
        "  config   {} (every option, commented)",
        dir.join(CONFIG_FILE).display()
    );
    outln!();
    outln!("start it:        qnode run --config-dir {shown}");
    outln!("then look:       qnode status --config-dir {shown}");
    outln!("dashboard:       {dashboard}   node API: {api}");
}
