//! Each task runs as the "current task" so that a panic hook can mark it down, and stop the
//! node if its policy says so, the moment it panics.

use super::failure::panic_text;
use super::{BoxedTask, Policy, Services, TaskResult};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Once;
use std::time::Instant;

/// How a task ended, and when.
pub(super) type Ended = (Instant, std::thread::Result<TaskResult>);

/// The task being polled, for the panic hook.
#[derive(Clone)]
pub(super) struct Current {
    pub(super) name: &'static str,
    pub(super) policy: Policy,
    pub(super) services: Services,
}

tokio::task_local! {
    static CURRENT: Current;
}

/// Runs `task` as the current task, catching its panic, and says when it ended.
pub(super) async fn watched(current: Current, task: BoxedTask) -> Ended {
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
