//! Service 2, the peer-info manager: what we know of each peer — its manifest (from its
//! self-test reports), when its last report was accepted, its measured bandwidth, whether
//! it is connected, and our score of it — listed fastest first.

use qnode_p2p::PeerId;
use qnode_protocol::clock::now_ms;
use qnode_protocol::pb::node::{PeerManifest, SelfTestReport};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// What each offence costs a peer (the original's −1000). Offences add up here; the
/// original sets the score to −1000, which the first offence reproduces.
pub const OFFENCE_PENALTY: i64 = 1000;

/// One peer as we know it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer id (base58 in JSON).
    #[serde(with = "base58")]
    pub peer_id: PeerId,
    /// Its self-test manifest, once a report was accepted.
    #[serde(skip)]
    pub manifest: Option<PeerManifest>,
    /// The master head frame its last accepted report claimed.
    pub head_frame: u64,
    /// The highest master frame it published that we kept waiting for its parent: it
    /// holds the frames in between, so frame sync asks it for them.
    #[serde(default)]
    pub frame_ahead: u64,
    /// When a report of it was last accepted or verified (ms since the epoch; the
    /// original's `LastSeen`).
    pub last_seen_ms: i64,
    /// Measured bandwidth in bytes per second (0 until a bandwidth test passed).
    pub bandwidth: u64,
    /// Our score of it: 0, minus [`OFFENCE_PENALTY`] per offence.
    pub score: i64,
    /// Whether a connection to it is open.
    pub connected: bool,
    /// Reports whose challenge proof verified.
    pub reports_verified: u64,
    /// When a report's proof last verified (ms since the epoch; 0 never).
    pub last_verified_ms: i64,
    /// Reports whose challenge proof failed.
    pub reports_failed: u64,
    /// Gossip messages ignored because of its score.
    pub messages_ignored: u64,
}

impl PeerInfo {
    /// A peer we know nothing of yet.
    pub fn new(peer_id: PeerId) -> PeerInfo {
        PeerInfo {
            peer_id,
            manifest: None,
            head_frame: 0,
            frame_ahead: 0,
            last_seen_ms: 0,
            bandwidth: 0,
            score: 0,
            connected: false,
            reports_verified: 0,
            last_verified_ms: 0,
            reports_failed: 0,
            messages_ignored: 0,
        }
    }

    fn manifest_from(peer: &PeerId, report: &SelfTestReport, now: i64) -> PeerManifest {
        PeerManifest {
            peer_id: peer.to_bytes(),
            difficulty: report.difficulty,
            difficulty_metric: report.difficulty_metric,
            commit_16_metric: report.commit_16_metric,
            commit_128_metric: report.commit_128_metric,
            commit_1024_metric: report.commit_1024_metric,
            commit_65536_metric: report.commit_65536_metric,
            proof_16_metric: report.proof_16_metric,
            proof_128_metric: report.proof_128_metric,
            proof_1024_metric: report.proof_1024_metric,
            proof_65536_metric: report.proof_65536_metric,
            cores: report.cores,
            memory: minimal_be(&report.memory),
            storage: minimal_be(&report.storage),
            capabilities: report.capabilities.clone(),
            master_head_frame: report.master_head_frame,
            last_seen: now,
            increment: report.increment,
        }
    }
}

/// A big-endian number without its leading zero bytes (zero is no bytes): how the
/// original lists memory and storage (`big.Int.Bytes()`), whatever width a report used.
fn minimal_be(bytes: &[u8]) -> Vec<u8> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// At most this many peers are remembered, so made-up peer ids cannot grow the table
/// without bound.
pub const MAX_PEERS: usize = 10_000;

/// Forgets the disconnected peer seen longest ago, preferring those in good standing (a
/// penalised peer is remembered as long as possible, so that a new identity is the only
/// way around its score).
fn evict_one(peers: &mut HashMap<PeerId, PeerInfo>) {
    let victim = peers
        .iter()
        .filter(|(_, info)| !info.connected)
        .min_by_key(|(_, info)| (info.score < 0, info.last_seen_ms))
        .map(|(peer, _)| *peer);
    if let Some(peer) = victim {
        peers.remove(&peer);
    }
}

/// Every peer we heard of.
#[derive(Debug, Default)]
pub struct PeerInfoManager {
    peers: Mutex<HashMap<PeerId, PeerInfo>>,
}

impl PeerInfoManager {
    /// An empty manager.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, peer: PeerId, f: impl FnOnce(&mut PeerInfo) -> T) -> T {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        if peers.len() >= MAX_PEERS && !peers.contains_key(&peer) {
            evict_one(&mut peers);
        }
        let info = peers.entry(peer).or_insert_with(|| PeerInfo::new(peer));
        f(info)
    }

    /// A copy of what we know of `peer`.
    pub fn get(&self, peer: &PeerId) -> Option<PeerInfo> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.get(peer).cloned()
    }

    /// Changes what we know of `peer` (creating its entry).
    pub fn update<T>(&self, peer: PeerId, f: impl FnOnce(&mut PeerInfo) -> T) -> T {
        self.with(peer, f)
    }

    /// Records the manifest of a report and when it was accepted.
    pub fn add_manifest(&self, peer: PeerId, report: &SelfTestReport) {
        let now = now_ms();
        self.with(peer, |info| {
            info.manifest = Some(PeerInfo::manifest_from(&peer, report, now));
            info.head_frame = report.master_head_frame;
            info.last_seen_ms = now;
        });
    }

    /// A later report, past the window: its head and difficulty metric, in the manifest
    /// too (the original updates its manifests in place; cores, memory and storage stay
    /// as the first report gave them, as there).
    pub fn later_report(&self, peer: PeerId, report: &SelfTestReport) {
        self.with(peer, |info| {
            info.head_frame = report.master_head_frame;
            if let Some(manifest) = &mut info.manifest {
                manifest.master_head_frame = report.master_head_frame;
                manifest.difficulty_metric = report.difficulty_metric;
            }
        });
    }

    /// When `peer` was last seen (a verified proof, or the node's own report), in the
    /// manifest too.
    pub fn seen(&self, peer: PeerId, now: i64) {
        self.with(peer, |info| {
            info.last_seen_ms = now;
            if let Some(manifest) = &mut info.manifest {
                manifest.last_seen = now;
            }
        });
    }

    /// Records an offence; returns the peer's new score.
    pub fn penalize(&self, peer: PeerId) -> i64 {
        self.with(peer, |info| {
            info.score = info.score.saturating_sub(OFFENCE_PENALTY);
            info.score
        })
    }

    /// Our score of `peer` (0 if unknown).
    pub fn score(&self, peer: &PeerId) -> i64 {
        self.get(peer).map_or(0, |info| info.score)
    }

    /// Every peer, fastest first (unmeasured last), then by peer id for a stable order.
    pub fn sorted_by_bandwidth(&self) -> Vec<PeerInfo> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let mut list: Vec<PeerInfo> = peers.values().cloned().collect();
        list.sort_by(|a, b| {
            b.bandwidth
                .cmp(&a.bandwidth)
                .then_with(|| a.peer_id.cmp(&b.peer_id))
        });
        list
    }

    /// Peers to sync from when our head is `head`, most ahead first, at most `limit`:
    /// connected, not penalised, and either claiming in a report a head more than
    /// `min_lead` frames past ours (the original's rule) or having published a frame we
    /// cannot connect to our head (a gap that gossip alone never fills).
    pub fn sync_candidates(&self, head: u64, min_lead: u64, limit: usize) -> Vec<(PeerId, u64)> {
        let peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let mut ahead: Vec<(PeerId, u64)> = peers
            .iter()
            .filter(|(_, info)| info.connected && info.score >= 0)
            .filter_map(|(peer, info)| {
                let claimed = Some(info.head_frame).filter(|&f| f > head + min_lead);
                let published = Some(info.frame_ahead).filter(|&f| f > head + 1);
                Some((*peer, claimed.max(published)?))
            })
            .collect();
        ahead.sort_by_key(|(_, head)| std::cmp::Reverse(*head));
        ahead.truncate(limit);
        ahead
    }
}

/// A peer id as its base58 text, the form operators read in `status.json` and `/api/status`.
mod base58 {
    use qnode_p2p::PeerId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(peer: &PeerId, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(peer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PeerId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_is_updated_in_place_and_encodes_sizes_as_the_original() {
        let manager = PeerInfoManager::new();
        let peer = PeerId::random();
        let first = SelfTestReport {
            memory: 16_000_000_000u64.to_be_bytes().to_vec(),
            storage: vec![0; 8],
            cores: 4,
            master_head_frame: 10,
            difficulty_metric: 7,
            ..Default::default()
        };
        manager.add_manifest(peer, &first);
        let manifest = manager.get(&peer).unwrap().manifest.unwrap();
        assert_eq!(manifest.memory, [0x03, 0xb9, 0xac, 0xa0, 0x00]);
        assert!(manifest.storage.is_empty(), "zero is no bytes");

        let later = SelfTestReport {
            cores: 64,
            master_head_frame: 25,
            difficulty_metric: 9,
            ..first.clone()
        };
        manager.later_report(peer, &later);
        manager.seen(peer, 1234);
        let manifest = manager.get(&peer).unwrap().manifest.unwrap();
        assert_eq!(manifest.master_head_frame, 25);
        assert_eq!(manifest.difficulty_metric, 9);
        assert_eq!(manifest.last_seen, 1234);
        assert_eq!(manifest.cores, 4, "the first report's, as in the original");
    }

    #[test]
    fn peers_are_listed_fastest_first_and_offences_add_up() {
        let manager = PeerInfoManager::new();
        let (slow, fast, unknown) = (PeerId::random(), PeerId::random(), PeerId::random());
        manager.update(slow, |i| i.bandwidth = 10);
        manager.update(fast, |i| i.bandwidth = 1000);
        manager.update(unknown, |i| i.connected = true);
        let order: Vec<u64> = manager
            .sorted_by_bandwidth()
            .iter()
            .map(|i| i.bandwidth)
            .collect();
        assert_eq!(order, [1000, 10, 0]);
        assert_eq!(manager.penalize(slow), -1000);
        assert_eq!(manager.penalize(slow), -2000);
        assert_eq!(manager.score(&fast), 0);
    }

    #[test]
    fn the_table_is_bounded_and_forgets_quiet_peers_first() {
        let manager = PeerInfoManager::new();
        let offender = PeerId::random();
        manager.penalize(offender);
        let connected = PeerId::random();
        manager.update(connected, |i| i.connected = true);
        for n in 0..MAX_PEERS + 50 {
            manager.update(PeerId::random(), |i| i.last_seen_ms = n as i64 + 1);
        }
        assert_eq!(manager.sorted_by_bandwidth().len(), MAX_PEERS);
        assert_eq!(
            manager.score(&offender),
            -1000,
            "the offender is remembered"
        );
        assert!(manager.get(&connected).is_some(), "connected peers stay");
    }

    #[test]
    fn only_connected_well_behaved_peers_ahead_are_sync_targets() {
        let manager = PeerInfoManager::new();
        let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
        for (i, peer) in peers.iter().enumerate() {
            manager.update(*peer, |info| {
                info.connected = i != 3;
                info.head_frame = 100 + i as u64;
            });
        }
        manager.penalize(peers[2]);
        assert_eq!(manager.sync_candidates(90, 10, 30), vec![(peers[1], 101)]);
        assert!(manager.sync_candidates(91, 10, 30).is_empty());
        // A frame published past a gap: worth a sync at any lead, until the gap closes.
        manager.update(peers[0], |info| info.frame_ahead = 95);
        assert_eq!(manager.sync_candidates(91, 10, 30), vec![(peers[0], 95)]);
        assert!(manager.sync_candidates(94, 10, 30).is_empty());
    }
}
