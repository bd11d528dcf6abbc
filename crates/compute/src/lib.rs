//! Where a qnode process runs its CPU-heavy work: proving and checking VDFs (each check
//! starts with a 2048-bit prime search), KZG commitments and openings, the self-test.
//!
//! That work runs on its own threads, at a lower scheduling priority ([`NICENESS`]) than
//! the async threads that carry the node's networking. Peers judge a node by how fast it
//! answers: a bandwidth echo later than 2 s is an offence. When the machine is saturated
//! (a burst of reports to verify, a self-test, many devnet nodes on two cores, another
//! program), the kernel now gives the CPU to the echo first and lets the verifications
//! wait, instead of sharing it out evenly. On an idle machine nothing changes.
//!
//! The priority is the thread's Linux nice value. An unprivileged process cannot raise
//! it back, so these threads never run anything else; if lowering it fails, the work
//! runs at normal priority and a warning says so once.

use std::sync::{Once, OnceLock};
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinError;

/// How much nicer the compute threads are than the process: the kernel then gives a ready
/// networking thread about nine times the CPU share of a compute thread.
pub const NICENESS: i32 = 10;
/// The largest nice value Linux has.
const NICEST: i32 = 19;
/// The compute threads' name, as `top -H` and `perf` show it.
pub const THREAD_NAME: &str = "qnode-compute";

/// Runs `work` on a compute thread and waits for it without blocking the caller's runtime.
/// `work` must not use tokio itself: the compute threads belong to no running runtime.
pub async fn run<T, F>(work: F) -> Result<T, JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pool().spawn_blocking(work).await
}

/// The compute threads: the blocking pool of a runtime that is never driven, so it runs
/// nothing but what [`run`] hands it.
fn pool() -> &'static Runtime {
    static POOL: OnceLock<Runtime> = OnceLock::new();
    POOL.get_or_init(|| {
        Builder::new_current_thread()
            .thread_name(THREAD_NAME)
            .on_thread_start(lower_this_thread)
            .build()
            .expect("a runtime without I/O or timers needs nothing the OS can refuse")
    })
}

/// Relative, as `nice -n 10`: a node the operator already runs niced keeps its compute
/// threads below its own networking, and root's never end up above the process.
fn lower_this_thread() {
    if let Err(e) = lower_calling_thread(NICENESS) {
        static WARNED: Once = Once::new();
        WARNED.call_once(|| {
            tracing::warn!(error = %e, "could not lower the compute threads' priority; \
                heavy work competes with networking on equal terms");
        });
    }
}

/// Makes the calling thread `by` nicer than it is (capped at Linux's nicest). Threads it
/// starts afterwards inherit that, so a process that calls this before it starts any
/// runs niced as a whole, as `nice -n BY` would have started it.
pub fn lower_calling_thread(by: i32) -> rustix::io::Result<()> {
    let thread = Some(rustix::thread::gettid());
    let niceness = rustix::process::getpriority_process(thread)?;
    rustix::process::setpriority_process(thread, (niceness + by).min(NICEST))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_niceness() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid()))
            .expect("reading one's own priority")
    }

    #[tokio::test]
    async fn work_runs_niced_and_the_caller_keeps_its_priority() {
        let before = own_niceness();
        let (niceness, name) = run(|| {
            let name = std::thread::current().name().map(str::to_owned);
            (own_niceness(), name)
        })
        .await
        .expect("the work returns");
        assert_eq!(niceness, (before + NICENESS).min(NICEST));
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
        assert_eq!(own_niceness(), before, "the caller's thread is untouched");
    }

    #[tokio::test]
    async fn a_panic_in_the_work_is_an_error_for_the_caller() {
        let failed = run(|| panic!("broken invariant")).await;
        assert!(failed.expect_err("the panic is reported").is_panic());
        assert_eq!(run(|| 7).await.expect("the pool still works"), 7);
    }
}
