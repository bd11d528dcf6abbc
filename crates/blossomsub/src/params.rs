//! The router's parameters: the original's defaults (`go-libp2p-blossomsub/blossomsub.go`,
//! which the node does not override) and its score thresholds (`node/p2p/blossomsub.go`).

use std::time::Duration;

/// Mesh, gossip and timing parameters.
#[derive(Clone, Debug)]
pub struct Params {
    /// The mesh degree aimed at.
    pub d: usize,
    /// Below this many mesh peers, more are grafted.
    pub d_lo: usize,
    /// Above this many, some are pruned.
    pub d_hi: usize,
    /// Mesh peers kept for their score when pruning.
    pub d_score: usize,
    /// Outbound mesh peers kept.
    pub d_out: usize,
    /// Heartbeats a message stays in the cache (and can be asked for).
    pub history_length: usize,
    /// Heartbeats of messages announced in IHAVE.
    pub history_gossip: usize,
    /// Peers at least gossiped to per heartbeat.
    pub d_lazy: usize,
    /// Share of the non-mesh peers gossiped to.
    pub gossip_factor: f64,
    /// Times a peer may ask for the same message.
    pub gossip_retransmission: usize,
    /// Between heartbeats.
    pub heartbeat_interval: Duration,
    /// How long a bitmask we publish to without subscribing keeps its fanout.
    pub fanout_ttl: Duration,
    /// How long a pruned peer waits before grafting again.
    pub prune_backoff: Duration,
    /// How long after we leave a bitmask we wait before grafting again.
    pub unsubscribe_backoff: Duration,
    /// Heartbeats between opportunistic grafts.
    pub opportunistic_graft_ticks: u64,
    /// Peers grafted opportunistically at a time.
    pub opportunistic_graft_peers: usize,
    /// A graft this soon after a prune is penalised (as behaviour, weight 0 here).
    pub graft_flood_threshold: Duration,
    /// Message ids asked for per peer per heartbeat.
    pub max_ihave_length: usize,
    /// IHAVE messages read per peer per heartbeat.
    pub max_ihave_messages: usize,
    /// How long a message id is remembered as seen.
    pub seen_ttl: Duration,
    /// The largest RPC read from a peer.
    pub max_rpc_bytes: usize,
    /// The largest message payload accepted.
    pub max_data_bytes: usize,
    /// RPCs queued for a peer before further ones to it are dropped.
    pub max_queued_rpcs: usize,
    /// Messages awaiting the node's verdict before further ones are ignored.
    pub max_pending_validation: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            d: 6,
            d_lo: 5,
            d_hi: 12,
            d_score: 4,
            d_out: 2,
            history_length: 5,
            history_gossip: 3,
            d_lazy: 6,
            gossip_factor: 0.25,
            gossip_retransmission: 1,
            heartbeat_interval: Duration::from_secs(1),
            fanout_ttl: Duration::from_secs(60),
            prune_backoff: Duration::from_secs(60),
            unsubscribe_backoff: Duration::from_secs(10),
            opportunistic_graft_ticks: 60,
            opportunistic_graft_peers: 2,
            graft_flood_threshold: Duration::from_secs(10),
            max_ihave_length: 5000,
            max_ihave_messages: 100,
            seen_ttl: Duration::from_secs(120),
            // The original reads up to 16 MiB; qnode's messages are at most 64 KiB and an
            // IHAVE of 5000 ids is about 210 KiB.
            max_rpc_bytes: 4 * 1024 * 1024,
            max_data_bytes: 64 * 1024,
            max_queued_rpcs: 512,
            max_pending_validation: 4096,
        }
    }
}

/// Score thresholds. A peer's score is its application score times [`APP_SCORE_WEIGHT`]:
/// the original sets every other weight to 0.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// Below it, no gossip goes to or comes from the peer.
    pub gossip: f64,
    /// Below it, our own messages are not published to the peer.
    pub publish: f64,
    /// Below it, everything the peer sends is ignored.
    pub graylist: f64,
    /// Opportunistic grafting runs while the mesh's median score is below it.
    pub opportunistic_graft: f64,
}

/// The weight of the application score in a peer's score.
pub const APP_SCORE_WEIGHT: f64 = 10.0;

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            gossip: -2000.0,
            publish: -5000.0,
            graylist: -10000.0,
            opportunistic_graft: 2.0,
        }
    }
}
