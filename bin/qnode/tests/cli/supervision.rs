//! A task failed on purpose in a real `qnode run`, through the debug builds' hook
//! (`QNODE_TEST_FAIL_TASK` makes the named task panic each time it starts), for what only
//! a process shows: a task that stops the node makes `qnode run` exit with code 1 and a
//! message naming it; `data_workers`, which supervises worker processes, restarts with
//! backoff while `/readyz` and `/api/status` name it as down. Every other task is failed
//! in-process, on a node of the simulator (`crates/sim/tests/network/supervision.rs`).

use crate::common::http::get;
use crate::common::node::{spawn, spawn_with_env, Node};
use crate::common::{remaining_lines, signal, wait_for};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

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
fn a_failed_task_stops_the_process_naming_it_or_is_shown_down_while_it_restarts() {
    let template = prepared(0);
    stopping_task_ends_the_process(template.path(), "proof_loop", 1);
    restarting_task_is_shown_down(template.path(), "data_workers", 2);
}

fn stopping_task_ends_the_process(template: &Path, task: &str, slot: usize) {
    let (_dir, mut node) = failing(template, task, slot);
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

fn restarting_task_is_shown_down(template: &Path, task: &str, slot: usize) {
    let (_dir, mut node) = failing(template, task, slot);
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
