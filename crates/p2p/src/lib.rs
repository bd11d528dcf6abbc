//! qnode's peer-to-peer layer on rust-libp2p.
//!
//! - Identity: an Ed25519 key pair in the config directory (rust-libp2p has no Ed448, the
//!   original's identity type), so peer ids differ from the original's.
//! - Gossip: gossipsub, one topic per filter named `quilibrium/filter/<hex>` (stands in for
//!   the original's BlossomSub bitmasks).
//! - Direct channel: request/response on `/quilibrium/validation/1`, carrying the
//!   validation message bytes (the bandwidth echo), bounded in size and time.

mod identity;
mod network;

pub use identity::{load_or_create_identity, IDENTITY_FILE};
pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use network::{topic_for, Event, Network, NetworkError, MAX_VALIDATION_BYTES};
