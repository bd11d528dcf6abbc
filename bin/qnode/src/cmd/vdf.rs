//! `qnode vdf …`: the VDF from the command line. Output formats are a stable contract.

use super::Hex;
use anyhow::Result;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum VdfCommand {
    /// Print the 516-byte output (y || proof) for a challenge as hex.
    Solve {
        /// Challenge bytes, hex.
        #[arg(long)]
        challenge: Hex,
        /// Number of squarings (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        difficulty: u32,
    },
    /// Check an output: prints `valid` (exit 0) or `invalid` (exit 1).
    Verify {
        /// Challenge bytes, hex.
        #[arg(long)]
        challenge: Hex,
        /// Number of squarings (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        difficulty: u32,
        /// The 516-byte output to check, hex.
        #[arg(long)]
        proof: Hex,
    },
    /// The data worker's proof for (challenge, core, increment), as hex.
    ChallengeProof {
        /// Challenge bytes, hex (peer id || previous commitment in the proof loop).
        #[arg(long)]
        challenge: Hex,
        /// Worker core number.
        #[arg(long)]
        core: u32,
        /// Proof-loop increment; difficulty is 200000 − increment/4 (at least 1).
        #[arg(long)]
        increment: u32,
    },
}

impl VdfCommand {
    pub fn run(self) -> Result<ExitCode> {
        match self {
            VdfCommand::Solve {
                challenge,
                difficulty,
            } => {
                let out = solve_showing_progress(&challenge.0, difficulty)?;
                outln!("{}", hex::encode(out));
            }
            VdfCommand::Verify {
                challenge,
                difficulty,
                proof,
            } => {
                return Ok(
                    match qnode_vdf::verify(&challenge.0, difficulty, &proof.0) {
                        Ok(()) => {
                            outln!("valid");
                            ExitCode::SUCCESS
                        }
                        Err(why) => {
                            outln!("invalid");
                            eprintln!("{why}");
                            ExitCode::from(1)
                        }
                    },
                );
            }
            VdfCommand::ChallengeProof {
                challenge,
                core,
                increment,
            } => {
                let seed = qnode_vdf::challenge_seed(&challenge.0, core);
                let difficulty = qnode_vdf::challenge_difficulty(increment);
                let out = solve_showing_progress(&seed, difficulty)?;
                outln!("{}", hex::encode(out));
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Solves with a progress bar on stderr (drawn only when stderr is a terminal).
pub fn solve_showing_progress(challenge: &[u8], difficulty: u32) -> Result<qnode_vdf::Output> {
    let bar = ProgressBar::new(u64::from(difficulty)).with_style(
        ProgressStyle::with_template("{spinner} squaring {pos}/{len} [{bar:30}] {eta} left")
            .expect("static template")
            .progress_chars("=> "),
    );
    let out = qnode_vdf::solve_with_progress(challenge, difficulty, |done| {
        bar.set_position(u64::from(done));
    })?;
    bar.finish_and_clear();
    Ok(out)
}
