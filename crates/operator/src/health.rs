//! Readiness: is this node doing its job? Every task running, workers answering, store
//! readable, peers (or a devnet allowed to be alone), and the master clock advancing —
//! each judged against a window, each failure said in words.

use qnode_protocol::clock::now_ms;
use qnode_services::context::ServiceContext;
use qnode_tasks::{Policy, TaskState};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How readiness is judged.
#[derive(Debug, Clone)]
pub struct HealthRules {
    /// Every worker must have answered within this time.
    pub workers_window: Duration,
    /// The head must have moved within this time.
    pub head_window: Duration,
    /// A node with no peers is still ready (a devnet of one).
    pub alone_ok: bool,
    /// Not ready, and a warning, when less than this many bytes are free under the store
    /// (0: never): an operator hears of a filling disk before the store cannot be written.
    pub min_free_bytes: u64,
}

/// Bytes free (to an unprivileged writer) on the file system holding `path`.
pub fn free_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let fs = nix::sys::statfs::statfs(path).map_err(std::io::Error::from)?;
    Ok(fs.blocks_available().saturating_mul(fs.block_size() as u64))
}

/// What is wrong when the store's file system has less free space than the floor.
pub fn low_space(ctx: &ServiceContext, rules: &HealthRules) -> Option<String> {
    if rules.min_free_bytes == 0 {
        return None;
    }
    let path = ctx.store.path();
    let dir = path.parent().unwrap_or(path);
    let free = free_bytes(dir).ok()?;
    (free < rules.min_free_bytes).then(|| {
        format!(
            "only {} MiB free under {} (min-free-space is {} MiB): free some space before \
             the store cannot be written",
            free >> 20,
            dir.display(),
            rules.min_free_bytes >> 20
        )
    })
}

/// The verdict, as `/readyz` returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Readiness {
    /// True when nothing is wrong.
    pub ready: bool,
    /// What is wrong, in words an operator can act on.
    pub problems: Vec<String>,
}

fn stale(last_ms: i64, window: Duration, now: i64) -> bool {
    last_ms == 0 || now.saturating_sub(last_ms) > window.as_millis() as i64
}

/// What is wrong with a task that failed and is not running (yet) again.
fn task_problem(task: &TaskState) -> Option<String> {
    let failure = task.last_failure.as_deref().filter(|_| !task.running)?;
    Some(match task.policy {
        Policy::StopNode => format!("task `{}` {failure}: the node is stopping", task.name),
        Policy::Restart => format!(
            "task `{}` is down and restarting ({} restarts so far): {failure}",
            task.name, task.restarts
        ),
    })
}

/// Judges the node now, with its tasks as they are.
pub fn readiness(ctx: &ServiceContext, rules: &HealthRules, tasks: &[TaskState]) -> Readiness {
    let now = now_ms();
    let mut problems: Vec<String> = tasks.iter().filter_map(task_problem).collect();
    let store_failure = ctx.metrics.store_write_failure();
    if let Some(why) = &store_failure {
        problems.push(format!(
            "store writes failing, proof loop and master clock paused: {why}"
        ));
    }
    // A loop paused on the store asks the workers nothing; they are not the problem.
    if store_failure.is_none() && stale(ctx.metrics.last_workers_ok_ms(), rules.workers_window, now)
    {
        problems.push(format!(
            "no proof from every data worker in the last {} s: are the workers running?",
            rules.workers_window.as_secs()
        ));
    }
    problems.extend(low_space(ctx, rules));
    if let Err(e) = ctx.store.head_number(&ctx.filter) {
        problems.push(format!("store unreadable: {e}"));
    }
    if !rules.alone_ok && ctx.metrics.peers.get() == 0 {
        problems.push("no connected peers: check --bootstrap and the firewall".into());
    }
    if stale(ctx.metrics.last_head_change_ms(), rules.head_window, now) {
        problems.push(format!(
            "the master clock has not advanced in {} s",
            rules.head_window.as_secs()
        ));
    }
    Readiness {
        ready: problems.is_empty(),
        problems,
    }
}
