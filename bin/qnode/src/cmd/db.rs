//! `qnode db check|stats|version`: a stopped node's store, read from a verified in-memory
//! copy. None of them writes the file, so they work on a backup on read-only media.

use anyhow::Result;
use clap::{Args, Subcommand};
use qnode_options::ConfigDir;
use qnode_store::{peer_name, Store, StoreReport, SCHEMA_VERSION};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Verify every page checksum, record, chain link, head, latest pointer and reward sum;
    /// exit 1 and list what is wrong.
    Check(DbArgs),
    /// Size, schema version, frames per filter and proof chains per peer.
    Stats(DbArgs),
    /// The store's schema version and the newest this qnode knows.
    Version(DbArgs),
    /// From a damaged store, a new config directory (--out) with every frame and proof
    /// record that verifies: the chain's longest verifiable prefix. Only reads DIR.
    Salvage(super::db_salvage::SalvageArgs),
}

#[derive(Args)]
pub struct DbArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl DbCommand {
    pub fn run(self) -> Result<ExitCode> {
        match self {
            DbCommand::Check(a) => a.check(),
            DbCommand::Stats(a) => a.stats(),
            DbCommand::Version(a) => a.version(),
            DbCommand::Salvage(a) => a.run(),
        }
    }
}

impl DbArgs {
    fn open(&self) -> Result<Store> {
        Ok(Store::open_read_only_in(&self.dir.path()?)?)
    }

    fn check(self) -> Result<ExitCode> {
        let store = self.open()?;
        let report = store.check()?;
        if self.json {
            outln!("{}", summary(&store, &report)?);
        } else {
            for problem in &report.problems {
                outln!("PROBLEM  {problem}");
            }
            if report.problem_count > report.problems.len() {
                outln!("… {} problems in all", report.problem_count);
            }
        }
        if report.problem_count > 0 {
            eprintln!(
                "store {} FAILS its check. Restore it from a backup, or keep what still \
                 verifies with `qnode db salvage --out NEWDIR` (a proof chain cannot be \
                 resynced; frames can be, from peers).",
                store.path().display()
            );
            return Ok(ExitCode::FAILURE);
        }
        if !self.json {
            outln!(
                "store {} is intact: every page checksum, {} frames, {} increments",
                store.path().display(),
                report.filters.iter().map(|f| f.frames).sum::<u64>(),
                report.chains.iter().map(|c| c.increments).sum::<u64>()
            );
        }
        Ok(ExitCode::SUCCESS)
    }

    fn stats(self) -> Result<ExitCode> {
        let store = self.open()?;
        let report = store.check()?;
        let json = summary(&store, &report)?;
        if self.json {
            outln!("{json}");
            return Ok(ExitCode::SUCCESS);
        }
        outln!("file       {}", store.path().display());
        outln!("bytes      {}", json["bytes"]);
        outln!("schema     {}", json["schema_version"]);
        for f in &report.filters {
            outln!(
                "frames     filter {}…  {} frames, head {:?}",
                hex::encode(&f.filter[..f.filter.len().min(8)]),
                f.frames,
                f.head
            );
        }
        for c in &report.chains {
            outln!(
                "proofs     peer {}  {} increments, reward {}",
                peer_name(&c.peer),
                c.increments,
                c.latest.map_or(0, |l| l.reward)
            );
        }
        outln!("problems   {}", report.problem_count);
        Ok(ExitCode::SUCCESS)
    }

    fn version(self) -> Result<ExitCode> {
        let store = self.open()?;
        let found = store.schema_version()?;
        if self.json {
            outln!(
                "{}",
                serde_json::json!({"schema_version": found, "supported": SCHEMA_VERSION})
            );
        } else {
            outln!("schema version {found} (this qnode writes {SCHEMA_VERSION})");
            if found < SCHEMA_VERSION {
                outln!("the node migrates it when it next starts");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn summary(store: &Store, report: &StoreReport) -> Result<serde_json::Value> {
    let bytes = std::fs::metadata(store.path())?.len();
    Ok(serde_json::json!({
        "path": store.path(),
        "bytes": bytes,
        "schema_version": store.schema_version()?,
        "filters": report.filters.iter().map(|f| serde_json::json!({
            "filter": hex::encode(&f.filter), "frames": f.frames, "head": f.head,
        })).collect::<Vec<_>>(),
        "chains": report.chains.iter().map(|c| serde_json::json!({
            "peer": peer_name(&c.peer),
            "increments": c.increments,
            "latest": c.latest.map(|l| l.increment),
            "reward": c.latest.map(|l| l.reward.to_string()),
            "reward_sum": c.reward_sum.to_string(),
        })).collect::<Vec<_>>(),
        "problems": report.problems,
        "problem_count": report.problem_count,
    }))
}
