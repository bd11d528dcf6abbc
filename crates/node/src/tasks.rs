//! Every long-running task of a node runs under a name, spawned through [`Services`], with
//! a policy for when it ends while the node runs (it returned, failed or panicked). The
//! failure is logged at ERROR with the task's name and cause, and then:
//!
//! - [`Policy::StopNode`]: every other task is stopped and `qnode run` exits non-zero with a
//!   message naming the task. For tasks that own what nobody can recreate (the network's
//!   event stream, a service's queue, a listening socket) or without which the node is of
//!   no use: `message_subscriber`, `frame_validator`, `challenge_proof_verifier`,
//!   `bandwidth_test`, `report_publisher`, `proof_loop`, `http`, `node_api`.
//! - [`Policy::Restart`]: the task is started again after a backoff of 1 s, doubling up to
//!   30 s, back to 1 s once it has run for a minute. For tasks that keep no state of their
//!   own: `frame_sync`, `master_prover`, `data_workers` (the worker processes'
//!   supervisor), `status_writer`, `head_tracker`.
//!
//! While a task is down, readiness names it; `status.json`, `/api/status` and the dashboard
//! list every task with its policy, whether it runs, its restarts and its last failure.
//!
//! Debug builds have one test-only hook: `QNODE_TEST_FAIL_TASK=<name>` makes that task
//! panic each time it starts. Release builds ignore the variable.

use futures::FutureExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Once};
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

/// What happens when a task ends while the node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The node stops, naming the task.
    StopNode,
    /// The task is restarted with backoff.
    Restart,
}

/// What a task does when the node stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// It holds nothing to finish: it is cut at once.
    Abort,
    /// It watches [`Services::stop_signal`] and finishes within a short grace.
    Finish,
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

/// Why a task ended while the node ran.
#[derive(Debug)]
pub enum Cause {
    /// It returned: the input it serves closed.
    Returned,
    /// It returned an error.
    Failed(TaskError),
    /// It panicked.
    Panicked(String),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Returned => write!(f, "returned while the node was running"),
            Cause::Failed(error) => write!(f, "failed: {error}"),
            Cause::Panicked(message) => write!(f, "panicked: {message}"),
        }
    }
}

/// A task whose failure stops the node.
#[derive(Debug)]
pub struct TaskFailure {
    /// The task.
    pub name: &'static str,
    /// What happened to it.
    pub cause: Cause,
}

impl std::fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "task `{}` {}", self.name, self.cause)
    }
}

impl std::error::Error for TaskFailure {
    /// The failed task's error's own cause: the error itself is already in the message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Failed(error) => error.source(),
            Cause::Returned | Cause::Panicked(_) => None,
        }
    }
}

/// The tasks' states, shared with readiness and the status.
#[derive(Debug, Clone, Default)]
pub struct TaskBoard(Arc<Mutex<BTreeMap<&'static str, TaskState>>>);

impl TaskBoard {
    /// Every task, by name.
    pub fn list(&self) -> Vec<TaskState> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, TaskState>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, name: &'static str, policy: Policy, change: impl FnOnce(&mut TaskState)) {
        Self::change(&mut self.lock(), name, policy, change);
    }

    fn change(
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

/// How a task ended, and when.
type Ended = (Instant, std::thread::Result<TaskResult>);

/// The task being polled, for the panic hook.
#[derive(Clone)]
struct Current {
    name: &'static str,
    policy: Policy,
    services: Services,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// Runs `task` as the current task, catching its panic, and says when it ended.
async fn watched(current: Current, task: BoxedTask) -> Ended {
    install_panic_hook();
    let outcome = CURRENT
        .scope(current, AssertUnwindSafe(task).catch_unwind())
        .await;
    (Instant::now(), outcome)
}

/// Marks a panicking task down at once, before the default hook prints: a backtrace can
/// take a second to print, readiness must not call the task up meanwhile, and the panic
/// must be known as the first failure before its unwinding ends other tasks.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let print = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = CURRENT.try_with(|task| {
                let message = panic_text(info.payload());
                task.services.panicking(task.name, task.policy, message);
            });
            print(info);
        }));
    });
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(debug_assertions)]
fn injected_failure() -> Option<String> {
    std::env::var(FAIL_TASK_VARIABLE).ok()
}

#[cfg(not(debug_assertions))]
fn injected_failure() -> Option<String> {
    None
}

#[cfg(test)]
mod tests;
