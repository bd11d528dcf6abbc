//! A walk over every record: each must decode and agree with its key, every chain must be
//! contiguous from 0, each head must be its chain's last frame, and each latest-proof
//! record must name the chain's last increment and carry the sum of its rewards.
//!
//! redb's checksums prove the pages are as redb wrote them; this proves the records are
//! as qnode wrote them (a lowered latest pointer or an edited reward passes the first and
//! fails here).

use crate::frames::{FRAMES, HEADS};
use crate::proofs::{LATEST, PROOFS};
use crate::{existing_table, guard, DataTimeProof, LatestProof, StoreError, REWARD_PER_CORE};
use prost::Message;
use qnode_protocol::pb::clock::ClockFrame;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use std::path::Path;

/// How many problems a report lists; the count is kept beyond it.
const LISTED_PROBLEMS: usize = 20;

/// One filter's master clock frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSummary {
    /// The filter.
    pub filter: Vec<u8>,
    /// Frames stored.
    pub frames: u64,
    /// The stored head, if any.
    pub head: Option<u64>,
}

/// One peer's proof chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// The peer id bytes.
    pub peer: Vec<u8>,
    /// Increments stored.
    pub increments: u64,
    /// The stored latest-proof record, if any.
    pub latest: Option<LatestProof>,
    /// The reward the stored increments add up to.
    pub reward_sum: u128,
}

/// What a walk over the whole store found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    /// Per filter, in key order.
    pub filters: Vec<FilterSummary>,
    /// Per peer, in key order.
    pub chains: Vec<ChainSummary>,
    /// What is wrong, in words (at most [`LISTED_PROBLEMS`]).
    pub problems: Vec<String>,
    /// How many problems there are in all.
    pub problem_count: usize,
}

impl StoreReport {
    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(text);
        }
    }

    /// `Ok` when nothing is wrong, else a `Corrupt` error quoting the first problems.
    pub fn into_result(self, path: &Path) -> Result<StoreReport, StoreError> {
        if self.problem_count == 0 {
            return Ok(self);
        }
        let mut cause = self.problems[..self.problems.len().min(3)].join("; ");
        if self.problem_count > 3 {
            cause.push_str(&format!(
                "; and {} more (qnode db check lists them)",
                self.problem_count - 3
            ));
        }
        Err(StoreError::corrupt(path, cause))
    }
}

/// A peer id as libp2p prints it (base58 of its bytes).
pub fn peer_name(peer: &[u8]) -> String {
    bs58::encode(peer).into_string()
}

/// Walks every record of `db`.
pub(crate) fn records(path: &Path, db: &impl ReadableDatabase) -> Result<StoreReport, StoreError> {
    guard::run(path, || {
        let err = |e: redb::Error| StoreError::from_redb(path, e);
        let txn = db.begin_read().map_err(|e| err(e.into()))?;
        let mut report = StoreReport::default();
        let heads: BTreeMap<Vec<u8>, u64> = read_all(&txn, HEADS, |k, v| (k.to_vec(), v))
            .map_err(err)?
            .into_iter()
            .collect();
        let latest: BTreeMap<Vec<u8>, Vec<u8>> =
            read_all(&txn, LATEST, |k, v| (k.to_vec(), v.to_vec()))
                .map_err(err)?
                .into_iter()
                .collect();
        frames(&txn, &heads, &mut report).map_err(err)?;
        chains(&txn, &latest, &mut report).map_err(err)?;
        Ok(report)
    })
}

fn read_all<K: redb::Key + 'static, V: redb::Value + 'static, T>(
    txn: &redb::ReadTransaction,
    table: TableDefinition<K, V>,
    mut each: impl FnMut(K::SelfType<'_>, V::SelfType<'_>) -> T,
) -> Result<Vec<T>, redb::Error>
where
    T: Sized,
{
    let Some(table) = existing_table(txn, table)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (k, v) = entry?;
        out.push(each(k.value(), v.value()));
    }
    Ok(out)
}

fn frames(
    txn: &redb::ReadTransaction,
    heads: &BTreeMap<Vec<u8>, u64>,
    report: &mut StoreReport,
) -> Result<(), redb::Error> {
    let mut problems = Vec::new();
    let mut filters: Vec<FilterSummary> = Vec::new();
    for (filter, number, value) in read_all(txn, FRAMES, |(f, n), v| (f.to_vec(), n, v.to_vec()))? {
        let name = hex::encode(&filter);
        if filters.last().is_none_or(|s| s.filter != filter) {
            filters.push(FilterSummary {
                filter: filter.clone(),
                frames: 0,
                head: heads.get(&filter).copied(),
            });
        }
        let summary = filters.last_mut().expect("pushed above");
        if number != summary.frames {
            problems.push(format!(
                "filter {name}: frame {number} follows a gap (expected frame {})",
                summary.frames
            ));
        }
        summary.frames = number + 1;
        match ClockFrame::decode(value.as_slice()) {
            Ok(f) if f.frame_number == number && f.filter == filter => {}
            Ok(_) => problems.push(format!(
                "filter {name}: frame {number} holds another frame's record"
            )),
            Err(e) => problems.push(format!(
                "filter {name}: frame {number} does not decode: {e}"
            )),
        }
    }
    for summary in &filters {
        let last = summary.frames - 1;
        if summary.head != Some(last) {
            problems.push(format!(
                "filter {}: the head says {:?} but the last frame is {last}",
                hex::encode(&summary.filter),
                summary.head
            ));
        }
    }
    for (filter, head) in heads {
        if !filters.iter().any(|s| &s.filter == filter) {
            problems.push(format!(
                "filter {}: a head ({head}) but no frames",
                hex::encode(filter)
            ));
        }
    }
    problems.into_iter().for_each(|p| report.problem(p));
    report.filters = filters;
    Ok(())
}

fn chains(
    txn: &redb::ReadTransaction,
    latest: &BTreeMap<Vec<u8>, Vec<u8>>,
    report: &mut StoreReport,
) -> Result<(), redb::Error> {
    let mut problems = Vec::new();
    let mut chains: Vec<ChainSummary> = Vec::new();
    for (peer, increment, value) in read_all(txn, PROOFS, |(p, i), v| (p.to_vec(), i, v.to_vec()))?
    {
        let name = peer_name(&peer);
        if chains.last().is_none_or(|c| c.peer != peer) {
            chains.push(ChainSummary {
                latest: latest.get(&peer).and_then(|v| LatestProof::decode(v)),
                peer: peer.clone(),
                increments: 0,
                reward_sum: 0,
            });
        }
        let chain = chains.last_mut().expect("pushed above");
        if u64::from(increment) != chain.increments {
            problems.push(format!(
                "proof chain {name}: increment {increment} follows a gap (expected increment {})",
                chain.increments
            ));
        }
        chain.increments = u64::from(increment) + 1;
        match DataTimeProof::decode(&value) {
            Some(proof) => {
                chain.reward_sum += REWARD_PER_CORE * u128::from(proof.parallelism);
            }
            None => problems.push(format!(
                "proof chain {name}: increment {increment} does not decode"
            )),
        }
    }
    for chain in &chains {
        let name = peer_name(&chain.peer);
        let last = chain.increments - 1;
        match (latest.get(&chain.peer), chain.latest) {
            (None, _) => problems.push(format!("proof chain {name}: no latest-proof record")),
            (Some(_), None) => problems.push(format!(
                "proof chain {name}: the latest-proof record does not decode"
            )),
            (Some(_), Some(l)) if u64::from(l.increment) != last => problems.push(format!(
                "proof chain {name}: the latest pointer says increment {} but the last stored \
                 is increment {last}",
                l.increment
            )),
            (Some(_), Some(l)) if l.reward != chain.reward_sum => problems.push(format!(
                "proof chain {name}: the stored reward {} at increment {last} is not the sum \
                 of its increments' rewards ({})",
                l.reward, chain.reward_sum
            )),
            _ => {}
        }
    }
    for peer in latest.keys() {
        if !chains.iter().any(|c| &c.peer == peer) {
            problems.push(format!(
                "proof chain {}: a latest-proof record but no increments",
                peer_name(peer)
            ));
        }
    }
    problems.into_iter().for_each(|p| report.problem(p));
    report.chains = chains;
    Ok(())
}
