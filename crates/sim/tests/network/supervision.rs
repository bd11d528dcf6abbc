//! Each long-running task of a real node, failed on purpose ([`Services::failing`] makes it
//! panic each time it starts), on one node in this process, restarted once per task. A
//! task whose policy is to stop the node stops it, with an error naming the task; a task
//! restarted with backoff leaves the node running, and its supervisor's board and the
//! node's readiness name it as down for as long as it is.
//!
//! `data_workers` supervises worker processes, which a node in this process does not start:
//! `bin/qnode/tests/cli/supervision.rs` fails it in a real `qnode run`, with the exit code,
//! `/readyz` and `/api/status` an operator sees.
//!
//! [`Services::failing`]: qnode_tasks::Services::failing

use qnode_operator::health::{readiness, HealthRules};
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::wait;
use qnode_tasks::{Policy, TaskState};
use std::path::Path;
use std::time::Duration;

/// Tasks whose failure stops the node (see `qnode_tasks`).
const STOPPING: [&str; 10] = [
    "swarm",
    "direct_channel",
    "message_subscriber",
    "frame_validator",
    "challenge_proof_verifier",
    "bandwidth_test",
    "report_publisher",
    "proof_loop",
    "http",
    "node_api",
];

/// Tasks restarted with backoff (and `data_workers`, see above).
const RESTARTING: [&str; 4] = [
    "frame_sync",
    "master_prover",
    "status_writer",
    "head_tracker",
];

/// One node with its HTTP listener and node API on (each a task to fail), on ports the OS
/// gives.
fn plan(dir: &Path) -> Plan {
    Plan {
        dir: dir.to_path_buf(),
        degree: 1,
        seed: 1,
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(1, 2),
        tweak: Tweak::operator_listeners(),
    }
}

/// The node, started once (its key, store and self-test made) and stopped, so that each
/// failing run starts in a moment.
async fn prepared(plan: &Plan) -> SimNetwork {
    let mut network = SimNetwork::start(plan, 1).await.unwrap();
    network.nodes[0].stop().await.unwrap();
    network
}

fn state(network: &SimNetwork, task: &str) -> Option<TaskState> {
    let tasks = network.nodes[0].tasks().list();
    tasks.into_iter().find(|t| t.name == task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_task_that_stops_the_node_stops_it_naming_the_task() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let mut network = prepared(&plan).await;
    for task in STOPPING {
        network.restart_failing(0, Some(task)).unwrap();
        let stopped = || async { network.nodes[0].is_finished().then_some(()) };
        wait::until(task, plan.windows(4), stopped).await.unwrap();
        let failed = state(&network, task).unwrap();
        assert_eq!(failed.policy, Policy::StopNode, "{failed:?}");
        assert!(!failed.running, "{failed:?}");
        let error = network.nodes[0].stop().await.unwrap_err().to_string();
        let cause = format!("task `{task}` panicked: failure injected for a test into `{task}`");
        assert!(error.contains(&cause), "{task}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_task_that_restarts_is_shown_down_by_name_while_the_node_runs() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let mut network = prepared(&plan).await;
    let rules = HealthRules {
        workers_window: Duration::from_secs(60),
        head_window: Duration::from_secs(60),
        alone_ok: true,
        min_free_bytes: 0,
    };
    for task in RESTARTING {
        network.restart_failing(0, Some(task)).unwrap();
        // Restarted after 1 s, then after 2 s more: four report windows (12 s) hold that
        // and the node's start.
        let restarted_twice = || async {
            let failed = state(&network, task)?;
            (failed.restarts >= 2 && !failed.running).then_some(failed)
        };
        let failed = wait::until(task, plan.windows(4), restarted_twice)
            .await
            .unwrap();
        assert_eq!(failed.policy, Policy::Restart, "{failed:?}");
        assert!(failed.last_failure.unwrap().contains("failure injected"));
        let tasks = network.nodes[0].tasks().list();
        let others_run = tasks.iter().filter(|t| t.name != task).all(|t| t.running);
        assert!(others_run, "only {task} is down: {tasks:?}");
        let ctx = network.nodes[0].context().unwrap();
        let verdict = readiness(&ctx, &rules, &tasks);
        let down = format!("task `{task}` is down and restarting");
        assert!(!verdict.ready, "{task} is down, yet ready");
        assert!(
            verdict.problems.iter().any(|p| p.contains(&down)),
            "{verdict:?}"
        );
        assert!(!network.nodes[0].is_finished(), "{task}: the node stopped");
        network.nodes[0].stop().await.unwrap();
    }
}
