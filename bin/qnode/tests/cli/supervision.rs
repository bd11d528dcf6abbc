//! Each long-running task of a real node, failed on purpose through the debug builds' test
//! hook (`QNODE_TEST_FAIL_TASK` makes the named task panic each time it starts). A task
//! whose policy is to stop the node stops it, with exit code 1 and a message naming the
//! task; a task restarted with backoff leaves the node running, and readiness, the status
//! and the dashboard's data name it as down for as long as it is.

use crate::common::http::get;
use crate::common::node::{spawn, spawn_with_env, Node};
use crate::common::{remaining_lines, signal, wait_for};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

/// Tasks whose failure stops the node (see `qnode_tasks`).
const STOPPING: [&str; 9] = [
    "swarm",
    "message_subscriber",
    "frame_validator",
    "challenge_proof_verifier",
    "bandwidth_test",
    "report_publisher",
    "proof_loop",
    "http",
    "node_api",
];

/// Tasks restarted with backoff.
const RESTARTING: [&str; 5] = [
    "frame_sync",
    "master_prover",
    "data_workers",
    "status_writer",
    "head_tracker",
];

/// Ports outside Linux's ephemeral range and the other tests' ranges: HTTP at 29100 + slot,
/// the worker at 29200 + slot, the node API at 29300 + slot.
fn port(base: u16, slot: usize) -> String {
    (base + slot as u16).to_string()
}

/// A node directory with its setup, self-test, key and a few increments, to copy from, so
/// that each failing node starts in seconds.
fn prepared(slot: usize) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(
        dir.path(),
        &["--workers", "1", "--worker-base-port", &port(29200, slot)],
    );
    node.wait_for_increment(1, Duration::from_secs(120));
    node.terminate(Duration::from_secs(10));
    dir
}

/// A node in a copy of `template` whose task `task` fails each time it starts.
fn failing(template: &Path, task: &str, slot: usize) -> (TempDir, Node) {
    let dir = crate::common::copy_of(template);
    let http = format!("127.0.0.1:{}", port(29100, slot));
    let api = format!("127.0.0.1:{}", port(29300, slot));
    let args = [
        "--workers",
        "1",
        "--worker-base-port",
        &port(29200, slot),
        "--http-listen",
        &http,
        "--grpc-listen",
        &api,
    ];
    let node = spawn_with_env(dir.path(), &args, &[("QNODE_TEST_FAIL_TASK", task)]);
    (dir, node)
}

#[test]
fn a_failed_task_that_stops_the_node_stops_it_naming_the_task() {
    let template = prepared(0);
    for (i, task) in STOPPING.iter().enumerate() {
        let (_dir, mut node) = failing(template.path(), task, 1 + i);
        let status = node.wait_exit(Duration::from_secs(60));
        let status = status.unwrap_or_else(|| panic!("{task}: the node kept running"));
        let log = remaining_lines(&node.log, Duration::from_secs(10)).join("\n");
        assert_eq!(status.code(), Some(1), "{task}: {log}");
        let cause = format!("task `{task}` panicked: failure injected for a test into `{task}`");
        assert!(
            log.contains(&format!("{cause}; stopping the node")),
            "{task}: {log}"
        );
        assert!(log.contains(&format!("error: {cause}")), "{task}: {log}");
    }
}

#[test]
fn a_failed_task_that_restarts_is_shown_down_by_name_while_the_node_runs() {
    let template = prepared(20);
    for (i, task) in RESTARTING.iter().enumerate() {
        let slot = 21 + i;
        let (_dir, mut node) = failing(template.path(), task, slot);
        let http: u16 = port(29100, slot).parse().unwrap();
        let down = format!("task `{task}` is down and restarting");
        // Restarted after 1 s, then after 2 s more; never ready in between.
        wait_for(Duration::from_secs(60), "a second restart", || {
            let (code, body) = get(http, "/readyz")?;
            if code == 200 {
                let log = node.log.try_iter().collect::<Vec<_>>().join("\n");
                panic!("{task} is down, yet ready: {body}\n{log}");
            }
            (body.contains(&down) && body.contains("(2 restarts so far)")).then_some(())
        });
        let (_, status) = get(http, "/api/status").unwrap();
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        let tasks = status["tasks"].as_array().unwrap();
        let entry = tasks.iter().find(|t| t["name"] == *task).unwrap();
        assert_eq!(entry["policy"], "restart", "{entry}");
        assert_eq!(entry["running"], false, "{entry}");
        assert!(entry["restarts"].as_u64().unwrap() >= 2, "{entry}");
        let last = entry["last_failure"].as_str().unwrap();
        assert!(last.contains("failure injected"), "{entry}");
        let others_run = tasks
            .iter()
            .filter(|t| t["name"] != *task)
            .all(|t| t["running"] == true);
        assert!(others_run, "only {task} is down: {tasks:?}");

        assert!(node.child.try_wait().unwrap().is_none(), "{task}: exited");
        signal("TERM", node.pid());
        let stopped = node.wait_exit(Duration::from_secs(10));
        assert!(stopped.unwrap().success(), "{task}: a clean stop");
    }
}
