//! `qnode proofs`: the stored proof chain, optionally re-checked record by record.

use anyhow::Result;
use clap::Args;
use qnode_node::identity as node_identity;
use qnode_options::ConfigDir;
use qnode_protocol::frame::DEFAULT_FILTER;
use qnode_prover::kzg_setup;
use qnode_prover::proof_chain::{check, original_seams, records};
use qnode_store::Store;
use std::process::ExitCode;

#[derive(Args)]
pub struct ProofsArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// Re-check every VDF output, KZG opening and chain link.
    #[arg(long)]
    verify: bool,
    /// One JSON object per increment.
    #[arg(long)]
    json: bool,
}

impl ProofsArgs {
    pub fn run(self) -> Result<ExitCode> {
        let config_dir = self.dir.path()?;
        // A verified in-memory copy: this command never writes the store or creates a key.
        let store = Store::open_read_only_in(&config_dir)?;
        let report = store.check()?;
        let stored: Vec<Vec<u8>> = report.chains.iter().map(|c| c.peer.clone()).collect();
        let peer = node_identity::chain_owner(&config_dir, &stored)?.unwrap_or_default();
        if self.verify {
            // Links, latest pointer and reward sum first: a tampered pointer names itself.
            report.into_result(store.path())?;
        }
        let chain = records(&store, &peer)?;
        let genesis = store
            .frame(&DEFAULT_FILTER, 0)?
            .map(|f| f.output)
            .unwrap_or_default();
        let setup = if self.verify {
            Some(kzg_setup::load(&config_dir, None)?)
        } else {
            None
        };
        let reward = store.latest_data_time_proof(&peer)?.map_or(0, |l| l.reward);
        let imported = store.imported_through(&peer)?;
        let mut failed = None;
        for i in 0..chain.len() {
            let r = &chain[i];
            let parsed = r.parsed();
            let verdict = setup
                .as_ref()
                .map(|s| check(&chain, i, &peer, &genesis, &s.ceremony.setup, imported));
            if let Some(Err(why)) = &verdict {
                failed.get_or_insert((r.increment, why.to_string()));
            }
            let status = match &verdict {
                None => "",
                Some(Ok(())) => "ok",
                Some(Err(_)) => "FAILED",
            };
            if self.json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "increment": r.increment,
                        "difficulty": r.proof.difficulty,
                        "parallelism": r.proof.parallelism,
                        "index": parsed.as_ref().map(|p| p.opened.index).ok(),
                        "commitment": parsed.as_ref().map(|p| hex::encode(p.commitment)).ok(),
                        "verified": verdict.as_ref().map(|v| v.is_ok()),
                        "error": verdict.and_then(|v| v.err()).map(|e| e.to_string()),
                    })
                );
            } else {
                outln!(
                    "{:>8}  difficulty {:>6}  workers {:>4}  opened {:>4}  {}",
                    r.increment,
                    r.proof.difficulty,
                    r.proof.parallelism,
                    parsed.as_ref().map_or(0, |p| p.opened.index),
                    status
                );
            }
        }
        if !self.json {
            outln!("{} increments, reward {reward}", chain.len());
            if let Some(last) = imported {
                imported_note(&chain, &genesis, last);
            }
        }
        if let Some((increment, why)) = failed {
            eprintln!("increment {increment} fails: {why}");
            return Ok(ExitCode::FAILURE);
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Says which increments came from an original node, and where its restarts broke the
/// chain's links (accepted: the original's own rules check each record alone).
fn imported_note(chain: &[qnode_prover::proof_chain::Record], genesis: &[u8], last: u32) {
    outln!(
        "increments 0 to {last} came from the original node (qnode init --from-original): \
         each was checked alone, as the original checks its chain"
    );
    let seams = original_seams(chain, genesis, last);
    if !seams.is_empty() {
        let shown: Vec<String> = seams.iter().map(u32::to_string).collect();
        outln!(
            "the original restarted before increment(s) {}: its resume does not link them to \
             the increment before (docs/proof-loop.md)",
            shown.join(", ")
        );
    }
}
