//! What the dashboard's charts draw: the head and latest increment every second for ten
//! minutes, and each known peer's bandwidth and score every ten seconds for ten minutes.
//! A peer's samples go when the peer-info manager forgets the peer, so this stays as big
//! as the peer table times sixty samples.

use qnode_p2p::PeerId;
use qnode_services::peer_info_manager::PeerInfo;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};

/// Samples of head and increment kept (one a second: 10 minutes).
pub const NODE_SAMPLES: usize = 600;
/// Samples kept of each peer.
pub const PEER_SAMPLES: usize = 60;
/// A peer sample is taken every this many node samples (10 s).
pub const PEER_EVERY: usize = 10;

/// One point of the head and increment charts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sample {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// The head frame then.
    pub head_frame: u64,
    /// The latest increment then.
    pub increment: u32,
}

/// One point of a peer's charts.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PeerSample {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// Its measured bandwidth then (bytes/s, 0 before a test).
    pub bandwidth: u64,
    /// Our score of it then.
    pub score: i64,
}

/// The charts' samples.
#[derive(Debug, Default)]
pub struct History {
    node: VecDeque<Sample>,
    taken: usize,
    peers: HashMap<PeerId, VecDeque<PeerSample>>,
}

fn push<T>(samples: &mut VecDeque<T>, cap: usize, sample: T) {
    if samples.len() == cap {
        samples.pop_front();
    }
    samples.push_back(sample);
}

impl History {
    /// Takes this second's sample, and every [`PEER_EVERY`]th time each peer's.
    pub fn record<'a>(&mut self, sample: Sample, peers: impl Iterator<Item = &'a PeerInfo>) {
        push(&mut self.node, NODE_SAMPLES, sample);
        let peers_due = self.taken.is_multiple_of(PEER_EVERY);
        self.taken = self.taken.wrapping_add(1);
        if !peers_due {
            return;
        }
        let peers: Vec<&PeerInfo> = peers.collect();
        let known: HashSet<PeerId> = peers.iter().map(|info| info.peer_id).collect();
        self.peers.retain(|peer, _| known.contains(peer));
        for info in peers {
            let samples = self.peers.entry(info.peer_id).or_default();
            let point = PeerSample {
                at_ms: sample.at_ms,
                bandwidth: info.bandwidth,
                score: info.score,
            };
            push(samples, PEER_SAMPLES, point);
        }
    }

    /// The head and increment samples, oldest first.
    pub fn node(&self) -> Vec<Sample> {
        self.node.iter().copied().collect()
    }

    /// `peer`'s samples, oldest first (none for a peer not sampled or forgotten).
    pub fn peer(&self, peer: &PeerId) -> Vec<PeerSample> {
        self.peers
            .get(peer)
            .map_or_else(Vec::new, |samples| samples.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: PeerId, score: i64) -> PeerInfo {
        let mut info = PeerInfo::new(id);
        info.score = score;
        info
    }

    fn at(ms: i64) -> Sample {
        Sample {
            at_ms: ms,
            ..Sample::default()
        }
    }

    #[test]
    fn samples_are_capped_and_a_forgotten_peer_takes_its_samples_with_it() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut history = History::default();
        for second in 0..2_000 {
            let peers = if second < 1_000 {
                vec![peer(a, second), peer(b, -second)]
            } else {
                vec![peer(a, second)]
            };
            history.record(at(second * 1_000), peers.iter());
        }
        assert_eq!(history.node().len(), NODE_SAMPLES);
        assert_eq!(history.node()[0].at_ms, 1_400_000);
        let samples = history.peer(&a);
        assert_eq!(samples.len(), PEER_SAMPLES);
        // One every ten seconds, the last at second 1990.
        assert_eq!(
            samples.last().map(|s| (s.at_ms, s.score)),
            Some((1_990_000, 1_990))
        );
        assert_eq!(samples[1].at_ms - samples[0].at_ms, 10_000);
        assert!(
            history.peer(&b).is_empty(),
            "b was forgotten at second 1000"
        );
        assert_eq!(history.peers.len(), 1);
    }
}
