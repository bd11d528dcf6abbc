//! `qnode sim`: a simulated network of real qnode nodes in this one process (see
//! `crates/sim`), run for a while and summed up as one JSON object on stdout.

use super::run::{runtime, watch_shutdown_signals};
use crate::logging;
use anyhow::{Context, Result};
use clap::Args;
use qnode_options::LogFormat;
use qnode_sim::network::MAX_NODES;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::run::{simulate, Settings};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct SimArgs {
    /// Nodes in all: honest ones (one of them joins halfway) and forgers.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u16).range(2..=MAX_NODES as i64))]
    peers: u16,
    /// The share of the peers that forge (garbage reports and frames), in percent.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=50))]
    forgers: u8,
    /// How long the run lasts, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(10..=3600))]
    seconds: u64,
    /// Picks the topology: the same seed builds the same network.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Each node bootstraps to at most this many earlier nodes.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    degree: u16,
    /// Where the nodes' directories go (a fresh temporary directory, removed after, if
    /// not given).
    #[arg(long)]
    dir: Option<PathBuf>,
}

impl SimArgs {
    pub fn run(self) -> Result<ExitCode> {
        // The nodes' logs go to stderr, filtered by QNODE_LOG (errors only by default:
        // hundreds of nodes' routine warnings would bury the figures).
        if std::env::var_os("QNODE_LOG").is_none() {
            std::env::set_var("QNODE_LOG", "error");
        }
        logging::init(LogFormat::Text, None);
        crate::rlimit::ensure_open_files(open_files_needed(self.peers, self.forgers))?;
        let temporary = tempfile::tempdir().context("creating a temporary directory")?;
        let dir = self
            .dir
            .clone()
            .unwrap_or_else(|| temporary.path().to_path_buf());
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let settings = Settings {
            peers: usize::from(self.peers),
            forgers_percent: self.forgers,
            seconds: self.seconds,
            plan: Plan {
                dir,
                degree: usize::from(self.degree),
                seed: self.seed,
                frame_interval: Duration::from_secs(2),
                pace: Pace::for_simulation(usize::from(self.peers), cores),
                tweak: Tweak::default(),
            },
        };
        let runtime = runtime()?;
        let (stop, mut stopping) = tokio::sync::watch::channel(false);
        let report = runtime.block_on(async {
            watch_shutdown_signals(stop)?;
            tokio::select! {
                report = simulate(&settings) => report.map(Some),
                _ = stopping.changed() => Ok(None),
            }
        })?;
        // The nodes stop with the runtime, before their temporary directory is removed.
        drop(runtime);
        let Some(report) = report else {
            eprintln!("interrupted: no figures");
            return Ok(ExitCode::from(130));
        };
        outln!("{}", serde_json::to_string_pretty(&report)?);
        Ok(ExitCode::SUCCESS)
    }
}

/// Open files a simulation holds, all its nodes' in one process: per node its listeners,
/// store, worker connection and its peers' connections (a margin over the ~20 a node holds
/// at its degree, for the churn while nodes start), and both ends of every forger's
/// connection to every node. Measured: 9,000 in all through a 200-node run with 20
/// forgers, against an estimate of 18,624.
fn open_files_needed(peers: u16, forgers_percent: u8) -> u64 {
    let peers = u64::from(peers);
    let forgers = peers * u64::from(forgers_percent) / 100;
    1024 + peers * 48 + 2 * forgers * peers
}
