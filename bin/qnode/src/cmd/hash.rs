//! `qnode hash …`: the protocol's hash functions on the command line.

use super::Hex;
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum HashCommand {
    /// iden3 Poseidon `HashBytes`, as 64 lowercase hex characters.
    Poseidon {
        /// Bytes to hash, hex (not empty).
        #[arg(long)]
        input: Hex,
    },
}

impl HashCommand {
    pub fn run(self) -> Result<ExitCode> {
        let HashCommand::Poseidon { input } = self;
        let hash = qnode_protocol::poseidon::hash_bytes(&input.0)?;
        outln!("{}", hex::encode(hash));
        Ok(ExitCode::SUCCESS)
    }
}
