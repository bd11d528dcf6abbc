//! The RPC of BlossomSub (`go-libp2p-blossomsub/pb/rpc.proto` of the original): gossipsub's
//! RPC with bitmasks (byte strings) where gossipsub has topic names. Message ids in IHAVE
//! and IWANT are proto3 `string`s on the original's side, but it fills them with raw bytes
//! (`from ‖ seqno`), which are rarely UTF-8: they are read and written here as `bytes`,
//! which has the same wire form.

/// One exchange of subscriptions, messages and control.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Rpc {
    /// Subscription changes.
    #[prost(message, repeated, tag = "1")]
    pub subscriptions: Vec<SubOpts>,
    /// Published or forwarded messages.
    #[prost(message, repeated, tag = "2")]
    pub publish: Vec<Message>,
    /// Mesh and gossip control.
    #[prost(message, optional, tag = "3")]
    pub control: Option<ControlMessage>,
}

/// A subscription change.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SubOpts {
    /// Subscribe (true) or unsubscribe.
    #[prost(bool, tag = "1")]
    pub subscribe: bool,
    /// The bitmask.
    #[prost(bytes = "vec", tag = "2")]
    pub bitmask: Vec<u8>,
}

/// A message on a bitmask.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct Message {
    /// The author's peer id bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub from: Vec<u8>,
    /// The payload.
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
    /// The author's sequence number (8 bytes, big-endian).
    #[prost(bytes = "vec", tag = "3")]
    pub seqno: Vec<u8>,
    /// The bitmask it is published on.
    #[prost(bytes = "vec", tag = "4")]
    pub bitmask: Vec<u8>,
    /// The author's signature (StrictSign).
    #[prost(bytes = "vec", tag = "5")]
    pub signature: Vec<u8>,
    /// The author's public key, when its peer id does not hold it (Ed448: always).
    #[prost(bytes = "vec", tag = "6")]
    pub key: Vec<u8>,
}

/// Control messages.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlMessage {
    /// Message ids we have.
    #[prost(message, repeated, tag = "1")]
    pub ihave: Vec<ControlIHave>,
    /// Message ids we want.
    #[prost(message, repeated, tag = "2")]
    pub iwant: Vec<ControlIWant>,
    /// Mesh joins.
    #[prost(message, repeated, tag = "3")]
    pub graft: Vec<ControlGraft>,
    /// Mesh leaves.
    #[prost(message, repeated, tag = "4")]
    pub prune: Vec<ControlPrune>,
}

/// Message ids of a bitmask the sender has.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIHave {
    /// The bitmask.
    #[prost(bytes = "vec", tag = "1")]
    pub bitmask: Vec<u8>,
    /// The ids (`string` in the original's schema, raw bytes in fact).
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub message_ids: Vec<Vec<u8>>,
}

/// Message ids the sender wants.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlIWant {
    /// The ids (`string` in the original's schema, raw bytes in fact).
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub message_ids: Vec<Vec<u8>>,
}

/// The sender added us to its mesh of a bitmask.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlGraft {
    /// The bitmask.
    #[prost(bytes = "vec", tag = "1")]
    pub bitmask: Vec<u8>,
}

/// The sender removed us from its mesh of a bitmask.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ControlPrune {
    /// The bitmask.
    #[prost(bytes = "vec", tag = "1")]
    pub bitmask: Vec<u8>,
    /// Peer exchange (qnode neither sends nor follows it).
    #[prost(message, repeated, tag = "2")]
    pub peers: Vec<PeerInfo>,
    /// Seconds before the sender accepts a graft from us again.
    #[prost(uint64, tag = "3")]
    pub backoff: u64,
}

/// A peer offered in peer exchange.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PeerInfo {
    /// Its peer id.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub peer_id: Option<Vec<u8>>,
    /// Its signed peer record.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signed_peer_record: Option<Vec<u8>>,
}
