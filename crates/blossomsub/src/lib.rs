//! BlossomSub, the original node's pubsub, as a libp2p `NetworkBehaviour`.
//!
//! BlossomSub (`/blossomsub/1.2.0`, the original's `go-libp2p-blossomsub`) is gossipsub
//! v1.1 with byte-string "bitmasks" where gossipsub has topic names: the same RPC, with
//! bitmasks as bytes; the same mesh, fanout, gossip and control. The original's node runs
//! it with:
//! - **StrictSign**: messages signed by their author's host key (Ed448 on the original),
//!   the key attached, message id = `from ‖ seqno` ([`message`]);
//! - its default parameters: D 6/5/12, D_score 4, D_out 2, a 1 s heartbeat, history 5/3,
//!   gossip factor 0.25 ([`Params`]);
//! - a peer score that is only the application score, weight 10, with thresholds −2000
//!   (gossip), −5000 (publish) and −10000 (graylist) ([`Thresholds`]).
//!
//! rust-libp2p's gossipsub cannot speak it: its topics are UTF-8 strings and its signatures
//! take rust-libp2p's key types, which have no Ed448. This crate is qnode's own, written
//! from the original's protocol, not a fork of either.

mod cache;
mod handler;
pub mod message;
mod params;
mod router;
pub mod rpc;

pub use handler::{HandlerIn, HandlerOut, PROTOCOL};
pub use message::{Invalid, MessageId};
pub use params::{Params, Thresholds, APP_SCORE_WEIGHT};
pub use router::{Acceptance, Behaviour, Bitmask, Event, PublishError, ReceiptCounter, Receipts};
