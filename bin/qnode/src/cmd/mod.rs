//! One module per top-level subcommand.

pub mod api;
pub mod bench;
mod bench_cold;
mod bench_loop;
mod bench_squaring;
mod bench_verify;
pub mod ceremony;
pub mod completions;
pub mod db;
mod db_salvage;
pub mod devnet;
pub mod frame;
pub mod hash;
pub mod init;
mod original;
mod original_chain;
pub mod proofs;
pub mod run;
pub mod self_test;
pub mod sim;
pub mod status;
pub mod vdf;

/// The identity a new node gets (`--key-type`).
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum KeyTypeArg {
    /// Ed448, the original node's key type: "Qm…" peer ids.
    #[default]
    Ed448,
    /// Ed25519: "12D3KooW…" peer ids (qnode's keys before Ed448).
    Ed25519,
}

impl From<KeyTypeArg> for qnode_identity::KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::Ed448 => qnode_identity::KeyType::Ed448,
            KeyTypeArg::Ed25519 => qnode_identity::KeyType::Ed25519,
        }
    }
}

pub use qnode_options::Hex;
