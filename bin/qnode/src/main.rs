//! `qnode`: the Quilibrium master-clock node and its tools.

#[macro_use]
mod out;
mod cmd;
mod logging;
mod rlimit;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// qnode — a Quilibrium master-clock node.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Solve and verify the class-group VDF.
    #[command(subcommand)]
    Vdf(cmd::vdf::VdfCommand),
    /// Measure qnode's speed (and the original's, where compiled in).
    #[command(subcommand)]
    Bench(cmd::bench::BenchCommand),
    /// Hash functions of the protocol.
    #[command(subcommand)]
    Hash(cmd::hash::HashCommand),
    /// Prove master clock frames.
    #[command(subcommand)]
    Frame(cmd::frame::FrameCommand),
    /// List a node's master clock frames (through its node API while it runs).
    Frames(cmd::frame::FramesArgs),
    /// Make, extend and check KZG powers-of-tau setups.
    #[command(subcommand)]
    Ceremony(cmd::ceremony::CeremonyCommand),
    /// Measure this machine (VDF and KZG) and store the report in the config directory.
    SelfTest(cmd::self_test::SelfTestArgs),
    /// Create a node: an identity key and a commented config.toml with every default.
    Init(cmd::init::InitArgs),
    /// Run the node: data workers, proof loop and master clock, until stopped.
    Run(Box<cmd::run::RunArgs>),
    /// Run a local network of qnodes on 127.0.0.1 with a live table, until Ctrl-C.
    Devnet(cmd::devnet::DevnetArgs),
    /// Simulate a network of real nodes in this one process, with forgers, and print its
    /// figures (propagation, graylisting, a late joiner's sync, memory and CPU) as JSON.
    Sim(cmd::sim::SimArgs),
    /// One screen on a node: state, clock, proofs, workers, peers, problems.
    Status(cmd::status::StatusArgs),
    /// Print the node's peer id.
    PeerId(cmd::status::PeerIdArgs),
    /// A running node's id, head frame, version and reward (through its node API).
    NodeInfo(cmd::api::NodeInfoArgs),
    /// A running node's peers: connections, scores, manifests (through its node API).
    Peers(cmd::api::PeersArgs),
    /// Serve challenge proofs for one core (started by `qnode run`).
    Worker(cmd::run::WorkerArgs),
    /// List (and re-check) the stored proof chain.
    Proofs(cmd::proofs::ProofsArgs),
    /// Check a stopped node's store, or show its size and schema version (never writes).
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::CompletionsArgs),
    /// Print qnode's man page (roff: `qnode man | man -l -`), or write every command's.
    Man(cmd::completions::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Vdf(c) => c.run(),
        Command::Bench(c) => c.run(),
        Command::Hash(c) => c.run(),
        Command::Frame(c) => c.run(),
        Command::Frames(a) => a.run(),
        Command::Ceremony(c) => c.run(),
        Command::SelfTest(a) => a.run(),
        Command::Init(a) => a.run(),
        Command::Run(a) => a.run(),
        Command::Devnet(a) => a.run(),
        Command::Sim(a) => a.run(),
        Command::Status(a) => a.run(),
        Command::PeerId(a) => a.run(),
        Command::NodeInfo(a) => a.run(),
        Command::Peers(a) => a.run(),
        Command::Worker(a) => a.run(),
        Command::Proofs(a) => a.run(),
        Command::Db(c) => c.run(),
        Command::Completions(a) => a.run(Cli::command()),
        Command::Man(a) => a.run(Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", with_causes(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and each cause its message does not already quote (an error that keeps its
/// source often shows it too).
fn with_causes(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}
