//! Real nodes in this process on the simulator's network (`qnode_sim`): ports from the OS,
//! each node watched through its service context, bounds counted in the network's report
//! windows. One test binary, since each links the whole node; its tests take turns
//! ([`alone`]), since they share the cores and their bounds are on rates.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod clock;
mod forging_peer;
mod in_process;
mod late_node;
mod supervision;
mod two_networks;

/// Held for a test's whole run: one network at a time.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    ALONE.lock().await
}
