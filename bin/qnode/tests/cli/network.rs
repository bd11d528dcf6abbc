//! Real qnode processes on 127.0.0.1 forming a network: `qnode devnet` brings up nodes
//! that agree on the master clock and verify each other; a late node syncs; a peer that
//! leaves and returns is picked up again; a forging peer is scored out while the honest
//! nodes go on; two devnets of different networks that meet share nothing; six nodes pace
//! themselves to the machine. Tests run one at a time (each network keeps both cores
//! busy).

use crate::common::http::{sample, scrape, value};
use crate::common::{exclusive, fixed_pace, lines_of, processes_mentioning, signal, wait_for};
use qnode_operator::status::{self, Status};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `qnode devnet` running in a temporary directory, its output collected.
struct Devnet {
    child: Child,
    dir: tempfile::TempDir,
    output: mpsc::Receiver<String>,
}

impl Devnet {
    fn start(nodes: u16, base_port: u16, worker_base_port: u16, frame_ms: u64) -> Devnet {
        let ports = [base_port, worker_base_port];
        let mut args = vec!["--frame-interval-ms".to_string(), frame_ms.to_string()];
        args.extend(fixed_pace(nodes));
        Devnet::start_in(tempfile::tempdir().unwrap(), nodes, ports, &args)
    }

    /// A devnet in `dir` (which may hold keys already), with `extra` arguments.
    fn start_in(
        dir: tempfile::TempDir,
        nodes: u16,
        [base_port, worker_base_port]: [u16; 2],
        extra: &[String],
    ) -> Devnet {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qnode"))
            .arg("devnet")
            .args(["--nodes", &nodes.to_string()])
            .arg("--dir")
            .arg(dir.path())
            .args(["--base-port", &base_port.to_string()])
            .args(["--worker-base-port", &worker_base_port.to_string()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let output = lines_of(child.stdout.take().unwrap());
        Devnet { child, dir, output }
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("node-{i}"))
    }

    fn status(&self, i: usize) -> Option<Status> {
        status::read(&self.node_dir(i))
    }

    /// [`wait_for`]; on a timeout it first prints each node's last status and the end of
    /// its log, so a failure (in CI above all) shows which condition was missing and why.
    fn wait_for<T>(&self, within: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
        let waited = std::panic::catch_unwind(AssertUnwindSafe(|| wait_for(within, what, check)));
        waited.unwrap_or_else(|timeout| {
            self.describe();
            std::panic::resume_unwind(timeout)
        })
    }

    fn describe(&self) {
        const LOG_LINES: usize = 40;
        for i in (0..).take_while(|i| self.node_dir(*i).exists()) {
            match self.status(i) {
                Some(s) => {
                    let peers: Vec<_> = s.peers.iter().map(|p| &p.info).collect();
                    eprintln!(
                        "node {i}: head {} ({}), increment {:?}, peers {peers:?}",
                        s.head_frame, s.head_output, s.increment
                    );
                }
                None => eprintln!("node {i}: no status"),
            }
            let log =
                std::fs::read_to_string(self.node_dir(i).join("node.log")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            for line in &lines[lines.len().saturating_sub(LOG_LINES)..] {
                eprintln!("  node {i}: {line}");
            }
        }
    }

    /// SIGTERM (what Ctrl-C amounts to), then the exit code within `within`.
    fn stop(mut self, within: Duration) -> (Option<i32>, Vec<String>, tempfile::TempDir) {
        signal("TERM", self.child.id());
        let deadline = Instant::now() + within;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("devnet did not stop within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let lines = crate::common::remaining_lines(&self.output, Duration::from_secs(10));
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (code, lines, dir)
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        signal("TERM", self.child.id());
        let _ = self.child.wait();
    }
}

fn peer<'a>(status: &'a Status, id: &str) -> Option<&'a status::PeerStatus> {
    status
        .peers
        .iter()
        .find(|p| p.info.peer_id.to_base58() == id)
}

/// Every series a node exports, with what it must show once a 3-node devnet agrees.
fn assert_every_metric_series(http: u16) {
    let scrape = scrape(http);
    let mut names: Vec<&str> = scrape
        .samples
        .iter()
        .map(|s| s.metric.as_str())
        .map(|m| m.trim_end_matches("_bucket").trim_end_matches("_sum"))
        .map(|m| m.trim_end_matches("_count"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let every = [
        "qnode_bandwidth_tests_total",
        "qnode_foreign_peers_total",
        "qnode_frames_total",
        "qnode_head_frame",
        "qnode_increment_seconds",
        "qnode_increments_total",
        "qnode_messages_ignored_total",
        "qnode_peer_score",
        "qnode_peers",
        "qnode_proof_increment",
        "qnode_ready",
        "qnode_reports_total",
        "qnode_store_bytes",
        "qnode_sync_target_frame",
        "qnode_unclaimed_reward",
        "qnode_worker_restarts",
    ];
    assert_eq!(
        names, every,
        "the exported series changed: update this list and the docs"
    );
    let values = |name: &str| -> Vec<f64> {
        let named = scrape.samples.iter().filter(|s| s.metric == name);
        named.map(|s| value(&s.value)).collect()
    };
    assert!(sample(&scrape, "qnode_head_frame", None) >= 5.0);
    // Which gossip frames count as accepted depends on which node proves first; the late
    // node's sync below must count some.
    assert!(values("qnode_frames_total").iter().all(|v| *v >= 0.0));
    assert!(sample(&scrape, "qnode_increments_total", None) > 0.0);
    for part in ["workers", "critical_path", "open", "store"] {
        let count = sample(
            &scrape,
            "qnode_increment_seconds_count",
            Some(("part", part)),
        );
        assert!(count > 0.0, "{part} timed");
    }
    assert_eq!(sample(&scrape, "qnode_worker_restarts", None), 0.0);
    assert_eq!(sample(&scrape, "qnode_peers", None), 2.0);
    let scores = values("qnode_peer_score");
    assert_eq!(scores, [0.0, 0.0], "both honest peers scored 0");
    let verified = sample(
        &scrape,
        "qnode_reports_total",
        Some(("outcome", "verified")),
    );
    assert!(verified > 0.0);
    let passed = sample(
        &scrape,
        "qnode_bandwidth_tests_total",
        Some(("outcome", "passed")),
    );
    assert!(passed > 0.0);
    assert_eq!(sample(&scrape, "qnode_messages_ignored_total", None), 0.0);
    assert!(sample(&scrape, "qnode_sync_target_frame", None) >= 0.0);
    assert!(sample(&scrape, "qnode_store_bytes", None) > 0.0);
    assert_eq!(sample(&scrape, "qnode_ready", None), 1.0);
    assert!(sample(&scrape, "qnode_proof_increment", None) >= 1.0);
    assert!(sample(&scrape, "qnode_unclaimed_reward", None) > 0.0);
}

#[test]
fn a_devnet_agrees_on_the_clock_and_every_node_verifies_the_others() {
    let _one = exclusive();
    let devnet = Devnet::start(3, 23_000, 23_300, 1000);
    let statuses = devnet.wait_for(
        Duration::from_secs(180),
        "3 nodes at one head, peers verified",
        || {
            let all: Vec<Status> = (0..3).map(|i| devnet.status(i)).collect::<Option<_>>()?;
            let same_head = all
                .iter()
                .all(|s| s.head_frame >= 5 && s.head_output == all[0].head_output);
            let know_each_other = all.iter().all(|s| {
                all.iter().filter(|o| o.peer_id != s.peer_id).all(|other| {
                    peer(s, &other.peer_id).is_some_and(|p| {
                        p.info.connected && p.info.bandwidth > 0 && p.info.reports_verified > 0
                    })
                })
            });
            (same_head && know_each_other).then_some(all)
        },
    );
    for s in &statuses {
        assert_eq!(s.peers.len(), 2, "{s:?}");
        assert!(
            s.peers.iter().all(|p| p.info.score == 0),
            "honest peers keep score 0"
        );
        let bandwidths: Vec<u64> = s.peers.iter().map(|p| p.info.bandwidth).collect();
        assert!(
            bandwidths.windows(2).all(|w| w[0] >= w[1]),
            "fastest first: {bandwidths:?}"
        );
        assert!(s.increment.is_some_and(|n| n > 0));
    }
    let http = statuses[0]
        .http_address
        .expect("devnet nodes serve HTTP")
        .port();
    assert_every_metric_series(http);
    let dir_name = devnet.dir.path().display().to_string();
    let (code, output, _dir) = devnet.stop(Duration::from_secs(20));
    assert_eq!(code, Some(0));
    assert!(
        output.iter().any(|l| l.starts_with("NODE")),
        "the table was printed"
    );
    assert!(output.iter().any(|l| l.contains("devnet stopped")));
    let left = processes_mentioning(&dir_name);
    assert!(left.is_empty(), "processes left running: {left:?}");
}

/// Issue 18's twenty-node devnet at a size CI can afford: `qnode devnet --nodes 6` with no
/// pacing flags paces itself to the machine, and every node then holds one head (within a
/// frame of the others, one output per frame number), sees the five others connected and
/// verifies a report from each, and penalises no one; Ctrl-C leaves nothing behind.
#[test]
fn six_nodes_pace_themselves_agree_and_verify_every_peer() {
    let _one = exclusive();
    const NODES: usize = 6;
    let started = Instant::now();
    let devnet = Devnet::start_in(
        tempfile::tempdir().unwrap(),
        NODES as u16,
        [25_600, 25_900],
        &[],
    );
    let statuses = devnet.wait_for(
        Duration::from_secs(300),
        "6 nodes at one head, every peer verified",
        || {
            let all: Vec<Status> = (0..NODES)
                .map(|i| devnet.status(i))
                .collect::<Option<_>>()?;
            let every_peer_verified = all.iter().all(|s| {
                let verified = s
                    .peers
                    .iter()
                    .filter(|p| p.info.connected && p.info.reports_verified > 0);
                verified.count() == NODES - 1
            });
            (every_peer_verified && heads_agree(&all)).then_some(all)
        },
    );
    eprintln!(
        "6 nodes agreed and verified every peer after {:?}",
        started.elapsed()
    );
    for s in &statuses {
        assert!(
            s.peers.iter().all(|p| p.info.score == 0),
            "no one penalised: {s:?}"
        );
        assert!(s.increment.is_some_and(|n| n > 0));
    }
    let dir_name = devnet.dir.path().display().to_string();
    let (code, output, _dir) = devnet.stop(Duration::from_secs(30));
    assert_eq!(code, Some(0));
    assert!(
        output.iter().any(|l| l.contains("a frame at most every")),
        "the pace was printed: {output:?}"
    );
    let left = processes_mentioning(&dir_name);
    assert!(left.is_empty(), "processes left running: {left:?}");
}

/// Heads within one frame of each other, and nodes at the same frame number with the same
/// output (status files are read one after another, so a frame may land in between).
fn heads_agree(all: &[Status]) -> bool {
    let lowest = all.iter().map(|s| s.head_frame).min().unwrap_or(0);
    let highest = all.iter().map(|s| s.head_frame).max().unwrap_or(0);
    let one_output_per_frame = all.iter().all(|a| {
        all.iter()
            .filter(|b| b.head_frame == a.head_frame)
            .all(|b| b.head_output == a.head_output)
    });
    lowest >= 3 && highest - lowest <= 1 && one_output_per_frame
}

/// A devnet killed outright leaves no node or worker behind: each child watches its
/// parent. (The forger, sync and network-id tests run in-process: `crates/sim/tests`.)
#[test]
fn a_devnet_killed_outright_leaves_no_process_behind() {
    let _one = exclusive();
    let devnet = Devnet::start(2, 25_000, 25_300, 1000);
    devnet.wait_for(Duration::from_secs(120), "both nodes up", || {
        (0..2).all(|i| devnet.status(i).is_some()).then_some(())
    });
    let dir_name = devnet.dir.path().display().to_string();
    assert!(!processes_mentioning(&dir_name).is_empty(), "no node found");
    signal("KILL", devnet.child.id());
    devnet.wait_for(Duration::from_secs(15), "the orphaned nodes gone", || {
        processes_mentioning(&dir_name).is_empty().then_some(())
    });
}
