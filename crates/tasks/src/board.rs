//! The tasks as readiness, the status and the dashboard see them: each task's policy,
//! whether it runs, its restarts and its last failure.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What happens when a task ends while the node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The node stops, naming the task.
    StopNode,
    /// The task is restarted with backoff.
    Restart,
}

/// One task as readiness, the status and the dashboard show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaskState {
    /// Its name (a module's name).
    pub name: String,
    /// What its failure does.
    pub policy: Policy,
    /// True while it runs.
    pub running: bool,
    /// How often it was restarted.
    pub restarts: u64,
    /// Why it last ended, if it failed.
    pub last_failure: Option<String>,
}

/// The tasks' states, shared with readiness and the status.
#[derive(Debug, Clone, Default)]
pub struct TaskBoard(pub(super) Arc<Mutex<BTreeMap<&'static str, TaskState>>>);

impl TaskBoard {
    /// Every task, by name.
    pub fn list(&self) -> Vec<TaskState> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, TaskState>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn update(
        &self,
        name: &'static str,
        policy: Policy,
        change: impl FnOnce(&mut TaskState),
    ) {
        Self::change(&mut self.lock(), name, policy, change);
    }

    pub(super) fn change(
        board: &mut BTreeMap<&'static str, TaskState>,
        name: &'static str,
        policy: Policy,
        change: impl FnOnce(&mut TaskState),
    ) {
        let state = board.entry(name).or_insert_with(|| TaskState {
            name: name.to_owned(),
            policy,
            running: false,
            restarts: 0,
            last_failure: None,
        });
        change(state);
    }
}
