//! `qnode frame chain` proves a chain of master clock frames; `qnode frames` lists the
//! frames a node has stored (through its node API while it runs).

use super::api::{connect, ApiTarget, Target};
use super::run::runtime;
use super::Hex;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use qnode_protocol::frame::{self, DEFAULT_FILTER};
use qnode_protocol::pb::clock::ClockFrame;
use qnode_protocol::pb::node::{GetFramesRequest, GetNodeInfoRequest};
use qnode_store::Store;
use std::path::Path;
use std::process::ExitCode;

/// Frames asked for per node API call: 1024 of the original's (about 1.1 KB each) stay
/// under a gRPC client's 4 MiB limit, and qnode's node API answers at most 1024.
const PAGE: u64 = 1024;

#[derive(Subcommand)]
pub enum FrameCommand {
    /// Genesis and COUNT frames after it, one JSON object per line.
    Chain {
        /// Genesis seed, hex.
        #[arg(long)]
        seed: Hex,
        /// Master clock difficulty.
        #[arg(long, default_value_t = frame::DEFAULT_DIFFICULTY,
              value_parser = clap::value_parser!(u32).range(1..))]
        difficulty: u32,
        /// Frames after genesis.
        #[arg(long)]
        count: u64,
        /// Filter, hex (default: 32 bytes of ff).
        #[arg(long)]
        filter: Option<Hex>,
        /// Network id: anything but 0 (mainnet) prefixes the seed with that byte.
        #[arg(long, default_value_t = 0)]
        network: u8,
    },
}

#[derive(Args)]
pub struct FramesArgs {
    /// A running node is asked through its node API; a stopped one's store is read.
    #[command(flatten)]
    target: ApiTarget,
    /// First frame number to list.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// Last frame number to list (default: the head).
    #[arg(long)]
    to: Option<u64>,
    /// Filter, hex (default: 32 bytes of ff).
    #[arg(long)]
    filter: Option<Hex>,
    /// One JSON object per frame instead of a table.
    #[arg(long)]
    json: bool,
}

/// A frame as the original's `ClockFrame` holds it, for JSON lines.
fn frame_json(f: &ClockFrame) -> serde_json::Value {
    serde_json::json!({
        "frame_number": f.frame_number,
        "difficulty": f.difficulty,
        "input": hex::encode(&f.input),
        "output": hex::encode(&f.output),
        "parent_selector": hex::encode(&f.parent_selector),
    })
}

fn filter_or_default(filter: Option<Hex>) -> Vec<u8> {
    filter.map_or_else(|| DEFAULT_FILTER.to_vec(), |h| h.0)
}

impl FrameCommand {
    pub fn run(self) -> Result<ExitCode> {
        let FrameCommand::Chain {
            seed,
            difficulty,
            count,
            filter,
            network,
        } = self;
        let filter = filter_or_default(filter);
        let seed = frame::network_seed(&seed.0, network);
        let mut current = frame::genesis(&filter, &seed, difficulty).context("proving genesis")?;
        outln!("{}", frame_json(&current));
        for _ in 0..count {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            current = frame::prove_next(&current, now, difficulty)
                .with_context(|| format!("proving frame {}", current.frame_number + 1))?;
            outln!("{}", frame_json(&current));
        }
        Ok(ExitCode::SUCCESS)
    }
}

impl FramesArgs {
    pub fn run(self) -> Result<ExitCode> {
        let filter = filter_or_default(self.filter.clone());
        let listed = match self.target.target()? {
            Target::Api(url) => runtime()?.block_on(self.through_api(&url, &filter))?,
            Target::Stopped(dir) => self.read_store(&dir, &filter)?,
        };
        let Some((frames, head)) = listed else {
            eprintln!("no frames stored for filter {}", hex::encode(&filter));
            return Ok(ExitCode::SUCCESS);
        };
        if self.json {
            for f in &frames {
                outln!("{}", frame_json(f));
            }
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{:>10}  {:>10}  {:>14}  {:<18}  output",
            "frame",
            "difficulty",
            "timestamp",
            "parent"
        );
        for f in &frames {
            outln!(
                "{:>10}  {:>10}  {:>14}  {:<18}  {}…",
                f.frame_number,
                f.difficulty,
                f.timestamp,
                hex::encode(f.parent_selector.get(..8).unwrap_or(&f.parent_selector)),
                hex::encode(f.output.get(..8).unwrap_or(&f.output)),
            );
        }
        outln!("head: {head}");
        Ok(ExitCode::SUCCESS)
    }

    /// The frames and the head, from a stopped node's store.
    fn read_store(&self, dir: &Path, filter: &[u8]) -> Result<Option<(Vec<ClockFrame>, u64)>> {
        let store = Store::open_read_only_in(dir)?;
        let Some(head) = store.head_number(filter)? else {
            return Ok(None);
        };
        let to = self.to.unwrap_or(head).min(head);
        Ok(Some((store.frames(filter, self.from..=to)?, head)))
    }

    /// The frames and the head, from a running node, page by page: each page asks for at
    /// most [`PAGE`] frames, as the original answers a whole range in one message (about
    /// 1.1 KB a frame) and a client refuses messages over 4 MiB.
    async fn through_api(
        &self,
        url: &str,
        filter: &[u8],
    ) -> Result<Option<(Vec<ClockFrame>, u64)>> {
        let mut client = connect(url).await?;
        let head = client
            .get_node_info(GetNodeInfoRequest {})
            .await?
            .into_inner()
            .max_frame;
        let to = self.to.unwrap_or(head).min(head);
        let mut frames = Vec::new();
        let mut next = self.from;
        while next <= to {
            let page = client
                .get_frames(GetFramesRequest {
                    filter: filter.to_vec(),
                    from_frame_number: next,
                    to_frame_number: to.min(next.saturating_add(PAGE - 1)).saturating_add(1),
                    include_candidates: false,
                })
                .await?
                .into_inner()
                .truncated_clock_frames;
            let Some(last) = page.last().map(|f| f.frame_number) else {
                break;
            };
            frames.extend(page);
            next = last + 1;
        }
        Ok(Some((frames, head)))
    }
}
