//! Node identities: who a node is on the network.
//!
//! - **Ed448**, the original node's key type and qnode's default. Its libp2p encoding is
//!   the protobuf `{Type = 4, Data}` of go-libp2p's Quilibrium fork (57-byte public key;
//!   114-byte private key, seed ‖ public key), its peer id the SHA2-256 multihash of the
//!   public key's encoding (a "Qm…" id), its signatures RFC 8032 Ed448 with an empty
//!   context (`ed448-goldilocks-plus`).
//! - **Ed25519**, qnode's keys before it spoke the original's identities: rust-libp2p's
//!   key type, kept working (peer ids "12D3KooW…").
//!
//! rust-libp2p's identity types have no Ed448, so this crate holds its own key types and
//! hands rust-libp2p only what it can take: peer ids, and Ed25519 key pairs.
//!
//! Strict where go-libp2p is lax: a key encoding must be canonical, and an Ed448 private
//! key's public half must be its seed's.

mod file;
mod key;
mod pb;
mod public;

pub use file::{
    create_identity, load_identity, load_or_create_identity, save_identity, KeyFileError,
    IDENTITY_FILE,
};
pub use key::{KeyType, NodeKey, ED448_KEYPAIR_BYTES, ED448_SECRET_KEY_BYTES};
pub use libp2p_identity::PeerId;
pub use public::{PublicKey, ED448_PUBLIC_KEY_BYTES, ED448_SIGNATURE_BYTES};

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a libp2p key encoding.
    #[error("not a libp2p key encoding: {0}")]
    Malformed(String),
    /// A key type qnode does not run.
    #[error("{0} keys are not supported; qnode runs Ed448 and Ed25519 identities")]
    Unsupported(String),
    /// Raw key bytes of the wrong length.
    #[error("an {what} is {expected} bytes, not {got}")]
    Length {
        /// Which kind of bytes.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        got: usize,
    },
    /// The public half of an Ed448 key pair is not its seed's.
    #[error("the key's public half does not belong to its secret half")]
    Mismatch,
    /// 57 bytes that are no point of the curve.
    #[error("not an Ed448 public key: no point of the curve")]
    NotAPoint,
    /// A valid key in an encoding other than the canonical one.
    #[error("the key is not in libp2p's canonical encoding")]
    NonCanonical,
    /// The system gave no randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    Random(String),
    /// The signer refused.
    #[error("signing failed: {0}")]
    Signing(String),
}
