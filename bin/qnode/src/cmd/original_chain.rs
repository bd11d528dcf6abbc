//! The original's proof chain carried into the new node's store, so the chain and its
//! reward go on under the same peer id. Everything is read and checked before anything
//! is written: the increments must run from 0 without a gap, every value must be the
//! stored layout, the latest index must name the last increment and hold the sum of the
//! rewards, and increment 0 must have been proved over this network's genesis output.

use anyhow::{bail, Context, Result};
use qnode_original::{pebble, proofs};
use qnode_p2p::PeerId;
use qnode_protocol::frame::{self, DEFAULT_FILTER};
use qnode_services::master_time_reel::{Genesis, MasterTimeReel};
use qnode_store::{DataTimeProof, Store, REWARD_PER_CORE};
use std::path::Path;
use std::sync::Arc;

/// The original's master clock difficulty, which its genesis frame carries.
const ORIGINAL_DIFFICULTY: u32 = 100_000;

/// A chain read from the original's store and checked.
pub struct OriginalChain {
    /// Its increments, from 0.
    pub proofs: Vec<DataTimeProof>,
    /// The reward they add up to.
    pub reward: u128,
    /// Where reading the store stopped early (a torn WAL tail), if it did.
    pub notes: Vec<String>,
}

/// `peer`'s chain in the original's store at `store_dir`; an empty chain when the store
/// holds none.
pub fn read(store_dir: &Path, peer: &PeerId) -> Result<OriginalChain> {
    let snapshot = pebble::read(store_dir).with_context(|| {
        format!(
            "reading the original's store in {} (stop the original node first; nothing was \
             written)",
            store_dir.display()
        )
    })?;
    let chain = proofs::chain(&snapshot, &peer.to_bytes());
    let mut decoded = Vec::with_capacity(chain.proofs.len());
    for (expected, stored) in chain.proofs.iter().enumerate() {
        if u64::from(stored.increment) != expected as u64 {
            bail!(
                "{}: the proof chain has no increment {expected} (the next is {}); nothing \
                 was written",
                store_dir.display(),
                stored.increment
            );
        }
        let proof = DataTimeProof::decode(&stored.value).with_context(|| {
            format!(
                "{}: increment {} is not a stored proof; nothing was written",
                store_dir.display(),
                stored.increment
            )
        })?;
        decoded.push(proof);
    }
    let reward = decoded
        .iter()
        .map(|p| REWARD_PER_CORE * u128::from(p.parallelism))
        .sum();
    check_latest(store_dir, chain.latest.as_ref(), decoded.len(), reward)?;
    Ok(OriginalChain {
        proofs: decoded,
        reward,
        notes: snapshot.notes,
    })
}

/// The latest index must name the last increment and hold the sum of the rewards.
fn check_latest(
    store_dir: &Path,
    latest: Option<&(u32, Vec<u8>)>,
    count: usize,
    reward: u128,
) -> Result<()> {
    match (latest, count) {
        (None, 0) => Ok(()),
        (Some((increment, stored)), n) if n > 0 && *increment as usize == n - 1 => {
            let (high, low) = stored.split_at(stored.len().saturating_sub(16));
            let matches = stored.len() == 32
                && high.iter().all(|b| *b == 0)
                && low.try_into().map(u128::from_be_bytes).ok() == Some(reward);
            if matches {
                Ok(())
            } else {
                bail!(
                    "{}: the stored reward is not the sum of the chain's increments; nothing \
                     was written",
                    store_dir.display()
                )
            }
        }
        _ => bail!(
            "{}: the latest-proof index does not match the {count} stored increments; \
             nothing was written",
            store_dir.display()
        ),
    }
}

/// Writes the genesis frame of `seed` on `network` and the chain into the new node's store
/// in `config_dir`.
pub fn write(
    config_dir: &Path,
    peer: &PeerId,
    chain: &OriginalChain,
    seed: &[u8],
    network: u8,
) -> Result<()> {
    let store = Arc::new(Store::open_in(config_dir)?);
    let genesis = Genesis {
        seed: frame::network_seed(seed, network),
        difficulty: ORIGINAL_DIFFICULTY,
    };
    outln!("proving this network's genesis frame (difficulty {ORIGINAL_DIFFICULTY})…");
    MasterTimeReel::start(store.clone(), &DEFAULT_FILTER, &genesis)?;
    let genesis_output = store
        .frame(&DEFAULT_FILTER, 0)?
        .map(|f| f.output)
        .unwrap_or_default();
    if chain
        .proofs
        .first()
        .is_some_and(|first| first.input != genesis_output)
    {
        bail!(
            "the chain's first challenge is not network {network}'s genesis output: the \
             original ran on another network or genesis seed than its config.yml says. If it \
             ran with --network N, import with --network N too"
        );
    }
    store.import_original_chain(&peer.to_bytes(), &chain.proofs)?;
    store.close()?;
    Ok(())
}
