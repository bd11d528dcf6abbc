//! The supervisor under test: failures, restarts, stops, with paused time where waits matter.

use super::*;
use std::sync::atomic::{AtomicU32, Ordering};

fn services() -> (watch::Sender<bool>, Services) {
    let (shutdown, rx) = watch::channel(false);
    (shutdown, Services::new(rx))
}

fn state(services: &Services, name: &str) -> TaskState {
    services
        .board()
        .list()
        .into_iter()
        .find(|s| s.name == name)
        .expect("the task is on the board")
}

async fn forever() -> Result<(), TaskError> {
    std::future::pending().await
}

#[tokio::test]
async fn a_critical_task_that_panics_stops_the_node_and_is_named() {
    let (_shutdown, services) = services();
    services.spawn_critical("steady", OnStop::Abort, forever());
    services.spawn_critical("broken", OnStop::Abort, async {
        tokio::task::yield_now().await;
        panic!("disk on fire");
        #[allow(unreachable_code)]
        Ok::<(), TaskError>(())
    });
    tokio::time::timeout(Duration::from_secs(5), services.stopped())
        .await
        .expect("the failure stops the node");
    let failure = services.finish().await.expect_err("the node failed");
    assert_eq!(failure.name, "broken");
    assert_eq!(failure.to_string(), "task `broken` panicked: disk on fire");
    let broken = state(&services, "broken");
    assert!(!broken.running);
    assert_eq!(broken.policy, Policy::StopNode);
    assert_eq!(
        broken.last_failure.as_deref(),
        Some("panicked: disk on fire")
    );
    let steady = state(&services, "steady");
    assert!(!steady.running, "the other tasks are stopped");
    assert_eq!(steady.last_failure, None, "being stopped is not a failure");
}

#[tokio::test]
async fn a_critical_task_that_returns_or_fails_stops_the_node_with_its_cause() {
    let (_shutdown, services) = services();
    services.spawn_critical("quits", OnStop::Abort, async { Ok::<(), TaskError>(()) });
    services.stopped().await;
    let failure = services.finish().await.expect_err("returning is a failure");
    assert!(matches!(failure.cause, Cause::Returned), "{failure}");

    #[derive(Debug, thiserror::Error)]
    #[error("writing the store")]
    struct WriteError(#[source] std::io::Error);

    let (_shutdown, services) = self::services();
    let error = WriteError(std::io::Error::other("no space left on device"));
    services.spawn_critical("writer", OnStop::Abort, async move { Err(error) });
    services.stopped().await;
    let failure = services.finish().await.expect_err("an error is a failure");
    assert_eq!(
        failure.to_string(),
        "task `writer` failed: writing the store"
    );
    let source = std::error::Error::source(&failure).expect("the error's cause is kept");
    assert_eq!(source.to_string(), "no space left on device");
}

#[tokio::test(start_paused = true)]
async fn a_restarting_task_is_restarted_with_growing_backoff_and_shown_down_meanwhile() {
    let (_shutdown, services) = services();
    let starts = Arc::new(AtomicU32::new(0));
    let counted = starts.clone();
    services.spawn_restarting("flaky", OnStop::Abort, move || {
        let start = counted.fetch_add(1, Ordering::SeqCst);
        async move {
            if start < 3 {
                panic!("attempt {start}");
            }
            std::future::pending::<()>().await;
        }
    });
    // Paused time jumps to each backoff: 1 s, 2 s, 4 s.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let down = state(&services, "flaky");
    assert!(!down.running, "down while waiting for its restart");
    assert_eq!(down.last_failure.as_deref(), Some("panicked: attempt 0"));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(state(&services, "flaky").restarts, 1);
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(
        state(&services, "flaky").restarts,
        2,
        "the second wait is 2 s"
    );
    tokio::time::sleep(Duration::from_millis(4_000)).await;
    let up = state(&services, "flaky");
    assert!(up.running);
    assert_eq!(up.restarts, 3);
    assert_eq!(starts.load(Ordering::SeqCst), 4);
    services
        .finish()
        .await
        .expect("restarts do not stop the node");
}

#[tokio::test]
async fn shutdown_is_not_a_failure_and_finishing_tasks_get_their_grace() {
    let (shutdown, services) = services();
    let finished = Arc::new(AtomicU32::new(0));
    let marker = finished.clone();
    let mut stop = services.stop_signal();
    services.spawn_critical("tidy", OnStop::Finish, async move {
        let _ = stop.wait_for(|stop| *stop).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        marker.store(1, Ordering::SeqCst);
        Ok::<(), TaskError>(())
    });
    services.spawn_critical("idle", OnStop::Abort, forever());
    services.spawn_restarting("loop", OnStop::Abort, std::future::pending);
    shutdown.send_replace(true);
    services.stopped().await;
    services.finish().await.expect("a clean stop");
    assert_eq!(finished.load(Ordering::SeqCst), 1, "tidy finished its work");
    for task in services.board().list() {
        assert!(!task.running, "{} stopped", task.name);
        assert_eq!(task.last_failure, None, "{} did not fail", task.name);
    }
}
