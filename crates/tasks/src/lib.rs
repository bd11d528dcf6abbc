//! Every long-running task of a node runs under a name, spawned through [`Services`], with
//! a policy for when it ends while the node runs (it returned, failed or panicked). The
//! failure is logged at ERROR with the task's name and cause, and then:
//!
//! - [`Policy::StopNode`]: every other task is stopped and `qnode run` exits non-zero with a
//!   message naming the task. For tasks that own what nobody can recreate (the network's
//!   event stream, a service's queue, a listening socket) or without which the node is of
//!   no use: `swarm`, `direct_channel`, `message_subscriber`, `frame_validator`,
//!   `challenge_proof_verifier`, `bandwidth_test`, `report_publisher`, `proof_loop`, `http`,
//!   `node_api`.
//! - [`Policy::Restart`]: the task is started again after a backoff of 1 s, doubling up to
//!   30 s, back to 1 s once it has run for a minute. For tasks that keep no state of their
//!   own: `frame_sync`, `master_prover`, `data_workers` (the worker processes'
//!   supervisor), `status_writer`, `head_tracker`.
//!
//! While a task is down, readiness names it; `status.json`, `/api/status` and the dashboard
//! list every task with its policy, whether it runs, its restarts and its last failure.
//!
//! The node's start-up, the swarm (`swarm`, in qnode-p2p) and the simulator's forgers all
//! run their tasks through one [`Services`].
//!
//! Tests fail a task on purpose: [`Services::failing`] makes one task panic each time it
//! starts, for one node of a process of many; in debug builds, `QNODE_TEST_FAIL_TASK=<name>`
//! does the same for a whole `qnode` process (release builds ignore the variable).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinError, JoinHandle};

/// What a task ends with: an error is its failure's cause.
pub type TaskResult = Result<(), TaskError>;
/// A task's error, kept whole (with its sources) for the log and the exit message.
pub type TaskError = Box<dyn std::error::Error + Send + Sync>;
type BoxedTask = Pin<Box<dyn Future<Output = TaskResult> + Send>>;

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A task that ran this long before failing starts again from the first backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
/// How long tasks that finish their work on stop (the proof loop, the listeners, the last
/// status) get before they are cut; `qnode run` allows the whole stop one second.
const STOP_GRACE: Duration = Duration::from_millis(500);
#[cfg(debug_assertions)]
const FAIL_TASK_VARIABLE: &str = "QNODE_TEST_FAIL_TASK";

/// What a task does when the node stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// It holds nothing to finish: it is cut at once.
    Abort,
    /// It watches [`Services::stop_signal`] and finishes within a short grace.
    Finish,
}

/// Spawns, watches and stops the node's tasks.
#[derive(Clone)]
pub struct Services {
    stop: watch::Sender<bool>,
    board: TaskBoard,
    failure: Arc<Mutex<Option<(Instant, TaskFailure)>>>,
    running: Arc<Mutex<Vec<(OnStop, AbortHandle)>>>,
    supervisors: Arc<Mutex<Vec<JoinHandle<()>>>>,
    fail_task: Option<String>,
}

impl Services {
    /// No tasks yet; they all stop when `shutdown` becomes true or one of them fails.
    pub fn new(mut shutdown: watch::Receiver<bool>) -> Services {
        let (stop, _) = watch::channel(false);
        let forward = stop.clone();
        tokio::spawn(async move {
            if shutdown.wait_for(|stop| *stop).await.is_ok() {
                forward.send_replace(true);
            }
        });
        Services {
            stop,
            board: TaskBoard::default(),
            failure: Arc::default(),
            running: Arc::default(),
            supervisors: Arc::default(),
            fail_task: injected_failure(),
        }
    }

    /// The same, but `task` panics each time it starts: a supervision test's fault.
    pub fn failing(mut self, task: &str) -> Services {
        self.fail_task = Some(task.to_owned());
        self
    }

    /// Tasks stopped only by [`Services::finish`] or by a critical task's failure: for a
    /// test or a simulated peer with no shutdown signal of its own.
    pub fn without_shutdown() -> Services {
        Services::new(watch::channel(false).1)
    }

    /// Becomes true when the node stops.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// The tasks' states.
    pub fn board(&self) -> TaskBoard {
        self.board.clone()
    }

    /// Runs `task` under `name`; if it ends while the node runs, the node stops.
    pub fn spawn_critical<F, E>(&self, name: &'static str, on_stop: OnStop, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<TaskError> + 'static,
    {
        let mut once = Some(task);
        self.supervise(name, Policy::StopNode, on_stop, move || {
            let task = once.take();
            Box::pin(async move {
                match task {
                    Some(task) => task.await.map_err(Into::into),
                    None => Ok(()),
                }
            })
        });
    }

    /// Runs the task `make` builds under `name`, and builds and runs it again with backoff
    /// each time it ends while the node runs.
    pub fn spawn_restarting<F, Fut>(&self, name: &'static str, on_stop: OnStop, mut make: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.supervise(name, Policy::Restart, on_stop, move || {
            let task = make();
            Box::pin(async move {
                task.await;
                Ok(())
            })
        });
    }

    fn supervise(
        &self,
        name: &'static str,
        policy: Policy,
        on_stop: OnStop,
        make: impl FnMut() -> BoxedTask + Send + 'static,
    ) {
        self.board.update(name, policy, |_| {});
        let services = self.clone();
        let supervisor = tokio::spawn(services.keep(name, policy, on_stop, make));
        lock(&self.supervisors).push(supervisor);
    }

    async fn keep(
        self,
        name: &'static str,
        policy: Policy,
        on_stop: OnStop,
        mut make: impl FnMut() -> BoxedTask,
    ) {
        let mut backoff = FIRST_BACKOFF;
        let current = Current {
            name,
            policy,
            services: self.clone(),
        };
        loop {
            let started = Instant::now();
            // Up before it runs: a panic hook may mark it down before this returns.
            self.board.update(name, policy, |s| s.running = true);
            let task = self.with_injected_failure(name, make());
            let task = tokio::spawn(watched(current.clone(), task));
            {
                let mut running = lock(&self.running);
                running.retain(|(_, task)| !task.is_finished());
                running.push((on_stop, task.abort_handle()));
            }
            let ended = task.await;
            self.board.update(name, policy, |s| s.running = false);
            let Some((at, cause)) = self.cause(ended) else {
                return;
            };
            self.board
                .update(name, policy, |s| s.last_failure = Some(cause.to_string()));
            if policy == Policy::StopNode {
                // A panic was logged by the hook, as it began.
                if !matches!(cause, Cause::Panicked(_)) {
                    tracing::error!(task = name, "task `{name}` {cause}; stopping the node");
                }
                self.fail(at, TaskFailure { name, cause });
                return;
            }
            if *self.stop.borrow() {
                return;
            }
            if started.elapsed() >= HEALTHY_RUN {
                backoff = FIRST_BACKOFF;
            }
            tracing::error!(
                task = name,
                "task `{name}` {cause}; restarting in {backoff:?}"
            );
            let mut stop = self.stop_signal();
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            self.board.update(name, policy, |s| s.restarts += 1);
        }
    }

    /// When and why a task's end is a failure, or `None` when it ended because the node
    /// stops.
    fn cause(&self, ended: Result<Ended, JoinError>) -> Option<(Instant, Cause)> {
        let stopping = *self.stop.borrow();
        // Cancelled: aborted at stop.
        let (at, outcome) = ended.ok()?;
        let cause = match outcome {
            Ok(Ok(())) if stopping => return None,
            Ok(Ok(())) => Cause::Returned,
            Ok(Err(e)) => Cause::Failed(e),
            Err(payload) => Cause::Panicked(panic_text(payload.as_ref())),
        };
        Some((at, cause))
    }

    /// Stops the node for `failure`. One failure often ends others (a task whose queue's
    /// sender died returns): the one reported is an error or panic before a return, and
    /// the earliest of those.
    fn fail(&self, at: Instant, failure: TaskFailure) {
        // try_lock: called from the panic hook too, maybe on a thread holding the lock.
        if let Ok(mut first) = self.failure.try_lock() {
            let rank = |f: &TaskFailure| matches!(f.cause, Cause::Returned);
            let worse = |(t, f): &(Instant, TaskFailure)| (rank(f), *t) > (rank(&failure), at);
            if first.as_ref().is_none_or(worse) {
                *first = Some((at, failure));
            }
        }
        self.stop.send_replace(true);
    }

    /// From the panic hook: `name` is panicking. It is down from now, and if its policy is
    /// to stop the node, the node stops now, not once the panic is printed.
    fn panicking(&self, name: &'static str, policy: Policy, message: String) {
        let cause = format!("panicked: {message}");
        if let Ok(mut board) = self.board.0.try_lock() {
            TaskBoard::change(&mut board, name, policy, |s| {
                s.running = false;
                s.last_failure = Some(cause);
            });
        }
        if policy == Policy::StopNode {
            tracing::error!(
                task = name,
                "task `{name}` panicked: {message}; stopping the node"
            );
            let cause = Cause::Panicked(message);
            self.fail(Instant::now(), TaskFailure { name, cause });
        }
    }

    fn with_injected_failure(&self, name: &'static str, task: BoxedTask) -> BoxedTask {
        if self.fail_task.as_deref() != Some(name) {
            return task;
        }
        Box::pin(async move { panic!("failure injected for a test into `{name}`") })
    }

    /// Waits until the node stops: on shutdown or when a critical task failed.
    pub async fn stopped(&self) {
        let mut stop = self.stop_signal();
        let _ = stop.wait_for(|stop| *stop).await;
    }

    /// Stops every task (giving those that finish on stop a short grace) and returns the
    /// failure that stopped the node, if one did.
    pub async fn finish(&self) -> Result<(), TaskFailure> {
        self.stop.send_replace(true);
        let tasks = std::mem::take(&mut *lock(&self.running));
        let deadline = tokio::time::Instant::now() + STOP_GRACE;
        for (on_stop, task) in tasks {
            if on_stop == OnStop::Finish {
                while !task.is_finished() && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            task.abort();
        }
        // A supervisor that was just restarting its task may have started it after the
        // list was taken; it then sees the stop signal, so bound the wait anyway.
        let supervisors = std::mem::take(&mut *lock(&self.supervisors));
        for supervisor in supervisors {
            let abort = supervisor.abort_handle();
            if tokio::time::timeout(STOP_GRACE, supervisor).await.is_err() {
                abort.abort();
            }
        }
        for (_, task) in lock(&self.running).drain(..) {
            task.abort();
        }
        lock(&self.failure)
            .take()
            .map_or(Ok(()), |(_, failure)| Err(failure))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(debug_assertions)]
fn injected_failure() -> Option<String> {
    std::env::var(FAIL_TASK_VARIABLE).ok()
}

#[cfg(not(debug_assertions))]
fn injected_failure() -> Option<String> {
    None
}

mod board;
mod failure;
mod panics;
#[cfg(test)]
mod tests;

pub use board::{Policy, TaskBoard, TaskState};
use failure::panic_text;
pub use failure::{Cause, TaskFailure};
use panics::{watched, Current, Ended};
