//! `qnode db salvage`: from a store the checks refuse, a new config directory whose store
//! holds every frame and proof record that verifies — each filter's frames from genesis up
//! to the first that does not link or validate, each proof chain's longest prefix that
//! `qnode proofs --verify` would pass — with the directory's other files copied beside
//! it. The damaged directory is only read. A proof chain cannot be synced from peers, so
//! this is what is left of it without a backup.

use anyhow::{bail, Context, Result};
use clap::Args;
use prost::Message;
use qnode_kzg::Setup;
use qnode_options::ConfigDir;
use qnode_protocol::frame::{self, DEFAULT_FILTER};
use qnode_protocol::pb::clock::ClockFrame;
use qnode_prover::kzg_setup;
use qnode_prover::proof_chain::{check, Record};
use qnode_store::{peer_name, DataTimeProof, Salvage, Store, STORE_FILE};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct SalvageArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// The new config directory to write (it must not exist yet, or be empty).
    #[arg(long)]
    out: PathBuf,
}

impl SalvageArgs {
    pub fn run(self) -> Result<ExitCode> {
        let dir = self.dir.path()?;
        let salvage = read_bounded(dir.join(STORE_FILE))?;
        let setup = kzg_setup::load(&dir, None)?.ceremony.setup;
        make_empty_dir(&self.out)?;
        let store = Store::open_in(&self.out)?;
        let mut genesis = Vec::new();
        for (filter, frames) in &salvage.frames {
            let kept = keep_frames(&store, filter, frames)?;
            if filter.as_slice() == DEFAULT_FILTER {
                genesis = kept.first().map(|f| f.output.clone()).unwrap_or_default();
            }
            report("frames", &hex::encode(filter), kept.len(), frames.len());
        }
        for (peer, records) in &salvage.chains {
            let imported = salvage.imported.get(peer).copied();
            let kept = keep_chain(&store, peer, records, &genesis, &setup, imported)?;
            report("increments", &peer_name(peer), kept, records.len());
        }
        for what in &salvage.unreadable {
            eprintln!("unreadable: {what}");
        }
        store.close()?;
        copy_the_rest(&dir, &self.out)?;
        outln!(
            "salvaged into {} (check it with `qnode proofs --verify --config-dir {}`); {} \
             was only read",
            self.out.display(),
            self.out.display(),
            dir.display()
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// How long reading the damaged store may take: a damaged tree can point back into
/// itself, and redb would follow it for ever.
const READ_LIMIT: Duration = Duration::from_secs(60);

/// [`qnode_store::salvage`] on a thread of its own, given up after [`READ_LIMIT`] (the
/// process then ends with it, having written nothing).
fn read_bounded(path: PathBuf) -> Result<Salvage> {
    let (tx, rx) = std::sync::mpsc::channel();
    let reading = path.clone();
    std::thread::spawn(move || {
        let _ = tx.send(qnode_store::salvage(&reading));
    });
    match rx.recv_timeout(READ_LIMIT) {
        Ok(read) => Ok(read?),
        Err(_) => bail!(
            "reading {} did not end within {} s: its damaged tree loops back on itself; \
             nothing was written",
            path.display(),
            READ_LIMIT.as_secs()
        ),
    }
}

fn report(what: &str, whose: &str, kept: usize, read: usize) {
    outln!(
        "{whose}: kept {kept} {what}, dropped {} of those read",
        read - kept
    );
}

/// A new directory, or an empty one: salvage never writes over anything.
fn make_empty_dir(out: &Path) -> Result<()> {
    if out.exists() {
        let mut entries = std::fs::read_dir(out).with_context(|| format!("{}", out.display()))?;
        if entries.next().is_some() {
            bail!("{} is not empty: give --out a new directory", out.display());
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))
}

/// Stores the frames from genesis on for as long as each decodes, is the next number,
/// names the previous one as its parent and validates; returns them.
fn keep_frames(store: &Store, filter: &[u8], read: &[(u64, Vec<u8>)]) -> Result<Vec<ClockFrame>> {
    let mut kept: Vec<ClockFrame> = Vec::new();
    for (number, bytes) in read {
        let Ok(frame) = ClockFrame::decode(bytes.as_slice()) else {
            break;
        };
        let expected = kept.len() as u64;
        if *number != expected || frame.frame_number != expected || frame.filter != filter {
            break;
        }
        if let Some(parent) = kept.last() {
            let links = frame::selector(parent).is_ok_and(|s| s[..] == frame.parent_selector[..]);
            if !links || frame::validate(&frame, filter, parent.frame_number).is_err() {
                break;
            }
        }
        store.append_frame(&frame)?;
        kept.push(frame);
    }
    Ok(kept)
}

/// Stores the chain's longest prefix of contiguous increments that each verify, alone and
/// with the next one's opened index; returns how many.
fn keep_chain(
    store: &Store,
    peer: &[u8],
    read: &[(u32, DataTimeProof)],
    genesis: &[u8],
    setup: &Setup,
    imported: Option<u32>,
) -> Result<usize> {
    let chain: Vec<Record> = read
        .iter()
        .enumerate()
        .take_while(|(i, (increment, _))| *increment as usize == *i)
        .map(|(_, (increment, proof))| Record {
            increment: *increment,
            proof: proof.clone(),
        })
        .collect();
    let mut kept = 0;
    for i in 0..chain.len() {
        let alone = check(&chain[..=i], i, peer, genesis, setup, imported);
        let with_next =
            i == 0 || check(&chain[..=i], i - 1, peer, genesis, setup, imported).is_ok();
        if alone.is_err() || !with_next {
            break;
        }
        kept = i + 1;
    }
    let proofs: Vec<DataTimeProof> = chain[..kept].iter().map(|r| r.proof.clone()).collect();
    let from_original = imported.map_or(0, |last| (last as usize + 1).min(kept));
    if from_original > 0 {
        store.import_original_chain(peer, &proofs[..from_original])?;
    }
    for (increment, proof) in proofs.iter().enumerate().skip(from_original) {
        store.append_data_time_proof(peer, increment as u32, proof)?;
    }
    Ok(kept)
}

/// Every other regular file of the directory (key, config, setup, self-test), so the new
/// directory runs as the old one did; not the store, its status, or its lock files.
fn copy_the_rest(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("{}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        let skip = name
            .to_str()
            .is_some_and(|n| n.starts_with(STORE_FILE) || n == "status.json");
        if skip || !entry.file_type()?.is_file() {
            continue;
        }
        std::fs::copy(entry.path(), to.join(&name))
            .with_context(|| format!("copying {} to {}", entry.path().display(), to.display()))?;
    }
    Ok(())
}
