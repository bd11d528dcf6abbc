//! Keeps a node's connections near its peer target. Kademlia's queries and peers that dial
//! in open connections that gossipsub then keeps alive, so without a bound every node of a
//! network of some hundred nodes ends up connected to every other: the simulation showed
//! each of 50 nodes connected to all 49 others, and memory and bandwidth tests per node
//! growing with the network. The original gets its bound from go-libp2p's default
//! connection manager (above 192 connections it trims to 160, sparing those younger than a
//! minute); this is the same rule, scaled to the target.

use libp2p::PeerId;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// A new connection is kept at least this long, so that identify and the mesh can show
/// what the peer is worth. Shorter than go-libp2p's minute: Kademlia's walks open
/// connections to peers a node only needs briefly, and at 100 simulated nodes a minute's
/// grace kept every node connected to half the network.
const GRACE: Duration = Duration::from_secs(10);
/// After a peer's request to us, its connection is kept this long so the answer (up to
/// 1 MiB) gets out: a bandwidth echo slower than its 2 s limit is an offence anyway.
const ANSWER_TIME: Duration = Duration::from_secs(3);

/// When each connected peer came, and what it has in flight on the direct channel.
pub(crate) struct Trimmer {
    target: usize,
    since: HashMap<PeerId, Instant>,
    /// Our requests to the peer not answered yet: cutting them would turn the peer's
    /// honest answer into a failed bandwidth test or sync.
    outbound: HashMap<PeerId, usize>,
    /// When the peer's last request to us arrived.
    last_inbound: HashMap<PeerId, Instant>,
}

impl Trimmer {
    pub(crate) fn new(target: usize) -> Self {
        Trimmer {
            target,
            since: HashMap::new(),
            outbound: HashMap::new(),
            last_inbound: HashMap::new(),
        }
    }

    /// The number of peers trimming comes back down to.
    /// The node's own target, set when the swarm is handed to the driver; the peers
    /// already counted (the swarm runs while it binds) stay counted.
    pub(crate) fn set_target(&mut self, target: usize) {
        self.target = target;
    }

    pub(crate) fn target(&self) -> usize {
        self.target
    }

    /// Trimming starts above this many peers (a quarter over the target).
    fn high_water(&self) -> usize {
        self.target + (self.target / 4).max(2)
    }

    /// No new peer is accepted beyond this many: a guard against floods, set well above
    /// the high water mark so that a node with enough peers still lets joiners in
    /// (trimming then makes room again).
    fn ceiling(&self) -> usize {
        2 * self.high_water()
    }

    /// Whether we may open a connection to `peer`, with `dialling` dials of ours under way
    /// (`None`: an address only, which only the operator or a bootstrap redial dials).
    /// Once we have our target of peers, or will when those dials connect, we open none:
    /// new connections then come only from peers that dial us. Kademlia would
    /// otherwise go on dialling, to walk and to check that the peers in its table are
    /// alive, and every connection it opens is kept through its grace: on a 50-node
    /// simulation that churn kept each node connected to half the network.
    pub(crate) fn may_dial(&self, peer: Option<&PeerId>, dialling: usize) -> bool {
        peer.is_none_or(|peer| {
            self.since.len() + dialling < self.target || self.since.contains_key(peer)
        })
    }

    /// Whether a connection `peer` opened to us may stay.
    pub(crate) fn may_accept(&self, peer: &PeerId) -> bool {
        self.since.len() < self.ceiling() || self.since.contains_key(peer)
    }

    pub(crate) fn connected(&mut self, peer: PeerId, now: Instant) {
        self.since.entry(peer).or_insert(now);
    }

    pub(crate) fn disconnected(&mut self, peer: &PeerId) {
        self.since.remove(peer);
        self.outbound.remove(peer);
        self.last_inbound.remove(peer);
    }

    /// We sent `peer` a direct request.
    pub(crate) fn request_sent(&mut self, peer: PeerId) {
        *self.outbound.entry(peer).or_default() += 1;
    }

    /// Our request to `peer` was answered or failed.
    pub(crate) fn request_done(&mut self, peer: &PeerId) {
        if let Some(open) = self.outbound.get_mut(peer) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                self.outbound.remove(peer);
            }
        }
    }

    /// `peer` sent us a direct request.
    pub(crate) fn request_received(&mut self, peer: PeerId, now: Instant) {
        self.last_inbound.insert(peer, now);
    }

    /// The peers to disconnect so that `target` remain: none unless more than the high
    /// water mark are connected, then the lowest-scored among those not `protected`,
    /// past their grace and with nothing in flight on the direct channel.
    pub(crate) fn excess(
        &self,
        protected: &HashSet<PeerId>,
        score: impl Fn(&PeerId) -> f64,
        now: Instant,
    ) -> Vec<PeerId> {
        if self.since.len() <= self.high_water() {
            return Vec::new();
        }
        let within = |at: Option<&Instant>, span: Duration| {
            at.is_some_and(|&at| now.saturating_duration_since(at) < span)
        };
        let mut candidates: Vec<(f64, PeerId)> = self
            .since
            .iter()
            .filter(|(peer, since)| {
                !protected.contains(peer)
                    && !within(Some(since), GRACE)
                    && !self.outbound.contains_key(peer)
                    && !within(self.last_inbound.get(peer), ANSWER_TIME)
            })
            .map(|(peer, _)| (score(peer), *peer))
            .collect();
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
        let over = self.since.len() - self.target;
        candidates.into_iter().take(over).map(|(_, p)| p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trimmer_with(peers: &[PeerId], at: Instant) -> Trimmer {
        let mut trimmer = Trimmer::new(8);
        for &peer in peers {
            trimmer.connected(peer, at);
        }
        trimmer
    }

    #[test]
    fn nothing_is_trimmed_up_to_the_high_water_mark() {
        let start = Instant::now();
        let peers: Vec<PeerId> = (0..10).map(|_| PeerId::random()).collect();
        let trimmer = trimmer_with(&peers, start);
        let later = start + GRACE * 2;
        assert!(trimmer.excess(&HashSet::new(), |_| 0.0, later).is_empty());
    }

    #[test]
    fn the_lowest_scored_unprotected_old_quiet_peers_go_down_to_the_target() {
        let start = Instant::now();
        let peers: Vec<PeerId> = (0..16).map(|_| PeerId::random()).collect();
        let mut trimmer = trimmer_with(&peers, start);
        let later = start + GRACE * 2;
        // Peer 15 is new, 14 awaits our answer, 13 asked us just now, 12 is protected:
        // none of them may go.
        trimmer.disconnected(&peers[15]);
        trimmer.connected(peers[15], later);
        trimmer.request_sent(peers[14]);
        trimmer.request_received(peers[13], later);
        let protected = HashSet::from([peers[12]]);
        let score = |p: &PeerId| peers.iter().position(|q| q == p).unwrap_or(0) as f64;
        let gone = trimmer.excess(&protected, score, later);
        // 16 connected, target 8: the 8 lowest-scored of the eligible go.
        assert_eq!(gone, peers[..8].to_vec());
        // Once answered, and the other's answer sent, both may go.
        trimmer.request_done(&peers[14]);
        let all_done = later + ANSWER_TIME;
        let eligible = trimmer.excess(&HashSet::new(), |_| 0.0, all_done);
        assert_eq!(eligible.len(), 8);
        let freed = &peers[12..15];
        let lowest_first = |p: &PeerId| if freed.contains(p) { -1.0 } else { 0.0 };
        let gone = trimmer.excess(&HashSet::new(), lowest_first, all_done);
        assert!(freed.iter().all(|p| gone.contains(p)), "{gone:?}");
    }

    #[test]
    fn at_the_target_nothing_new_is_dialled_and_past_the_ceiling_nothing_accepted() {
        let start = Instant::now();
        let peers: Vec<PeerId> = (0..20).map(|_| PeerId::random()).collect();
        let stranger = PeerId::random();
        let trimmer = trimmer_with(&peers[..7], start);
        assert!(trimmer.may_dial(Some(&stranger), 0));
        assert!(
            !trimmer.may_dial(Some(&stranger), 1),
            "one dial already under way"
        );
        let trimmer = trimmer_with(&peers[..8], start);
        assert!(!trimmer.may_dial(Some(&stranger), 0));
        assert!(
            trimmer.may_dial(Some(&peers[0]), 0),
            "a second connection to a peer"
        );
        assert!(trimmer.may_dial(None, 0), "an address the operator gave");
        assert!(trimmer.may_accept(&stranger));
        let trimmer = trimmer_with(&peers[..19], start);
        assert!(trimmer.may_accept(&stranger));
        let trimmer = trimmer_with(&peers, start);
        assert!(!trimmer.may_accept(&stranger));
        assert!(trimmer.may_accept(&peers[3]));
    }

    #[test]
    fn when_too_few_are_eligible_only_those_go() {
        let start = Instant::now();
        let peers: Vec<PeerId> = (0..12).map(|_| PeerId::random()).collect();
        let trimmer = trimmer_with(&peers, start);
        let protected: HashSet<PeerId> = peers[2..].iter().copied().collect();
        let gone = trimmer.excess(&protected, |_| 0.0, start + GRACE);
        assert_eq!(gone.len(), 2);
        assert!(gone.iter().all(|p| peers[..2].contains(p)));
    }
}
