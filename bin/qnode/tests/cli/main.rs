//! The command-line tests, one module per subject, in one test binary: each binary links
//! the whole node, so one instead of fifteen saves minutes of every test build. They run
//! `qnode` as a real process (its commands, a node's start, stop, signals, kill and resume,
//! full disk); the network's and the clock's tests run nodes in-process
//! (`crates/sim/tests`). Tests that time a node or load the machine with several hold
//! [`common::exclusive`], since libtest runs a binary's tests side by side.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
mod operator_tools;

mod config;
mod damaged_store;
mod full_disk;
mod kzg_cli;
mod network;
mod node_api;
mod node_run;
mod operator;
mod original_import;
mod protocol_cli;
mod sim;
mod startup;
#[cfg(debug_assertions)] // release builds have no failure hook
mod supervision;
mod tampered_chain;
mod vdf_cli;
