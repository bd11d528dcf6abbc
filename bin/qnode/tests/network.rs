//! Real qnode processes on 127.0.0.1 forming a network: `qnode devnet` brings up nodes
//! that agree on the master clock and verify each other; a late node syncs; a peer that
//! leaves and returns is picked up again; a forging peer is scored out while the honest
//! nodes go on; two devnets of different networks that meet share nothing; six nodes pace
//! themselves to the machine. Tests run one at a time (each network keeps both cores
//! busy).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use qnode_sim::forger;
use qnode_tasks::Services;

use common::http::{sample, scrape, value};
use common::{exclusive, fixed_pace, lines_of, processes_mentioning, signal, wait_for};
use qnode_operator::status::{self, Status};
use qnode_protocol::pb::node::node_service_client::NodeServiceClient;
use qnode_protocol::pb::node::{GetPeerInfoRequest, PeerInfo};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
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
        let lines = common::remaining_lines(&self.output, Duration::from_secs(10));
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

/// One `qnode run` process joining a network.
struct Node {
    child: Child,
}

impl Node {
    fn start(dir: &Path, port: u16, worker_port: u16, bootstrap: &str, frame_ms: u64) -> Node {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("node.log"))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_qnode"))
            .args(["run", "--devnet", "--workers", "1"])
            .arg("--config-dir")
            .arg(dir)
            .args(["--worker-base-port", &worker_port.to_string()])
            .args(["--listen", &format!("/ip4/127.0.0.1/tcp/{port}")])
            .args(["--bootstrap", bootstrap])
            .args(["--frame-interval-ms", &frame_ms.to_string()])
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Node { child }
    }

    fn stop(mut self) {
        signal("TERM", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "node did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new node directory with the devnet's shared setup (so it does not make its own).
fn joining_dir(devnet: &Devnet, name: &str) -> PathBuf {
    let dir = devnet.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["kzg-setup.pot", "kzg-setup.pot.verified"] {
        std::fs::copy(
            devnet.dir.path().join("shared-setup").join(file),
            dir.join(file),
        )
        .unwrap();
    }
    dir
}

fn bootstrap_of(status: &Status) -> String {
    status
        .listen
        .iter()
        .find(|a| a.contains("/tcp/"))
        .unwrap()
        .clone()
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

#[test]
fn a_late_node_syncs_and_a_node_that_returns_is_picked_up_again() {
    let _one = exclusive();
    let devnet = Devnet::start(2, 24_000, 24_300, 300);
    let first = devnet.wait_for(Duration::from_secs(120), "the devnet past frame 25", || {
        devnet.status(0).filter(|s| s.head_frame >= 25)
    });
    let late_dir = joining_dir(&devnet, "late");
    let bootstrap = bootstrap_of(&first);
    // Its own prover waits a minute between frames: only sync can bring it up to date.
    let late = Node::start(&late_dir, 24_010, 24_350, &bootstrap, 60_000);
    let synced = devnet.wait_for(
        Duration::from_secs(120),
        "the late node at the head",
        || {
            let own = status::read(&late_dir)?;
            let head = devnet.status(0)?.head_frame;
            (own.head_frame + 2 >= head && own.counters.frames_synced >= 10).then_some(own)
        },
    );
    assert!(synced.head_frame >= 25, "{synced:?}");
    let scrape = scrape(
        synced
            .http_address
            .expect("a devnet node serves HTTP")
            .port(),
    );
    let synced_frames = scrape.samples.iter().find(|s| {
        s.metric == "qnode_frames_total"
            && s.labels.get("source") == Some("sync")
            && s.labels.get("outcome") == Some("accepted")
    });
    let synced_frames = value(&synced_frames.expect("synced frames counted").value);
    assert!(synced_frames >= 10.0, "{synced_frames}");
    assert!(sample(&scrape, "qnode_sync_target_frame", None) >= 0.0);
    let late_id = synced.peer_id.clone();

    // It leaves; the others notice; it comes back on the same key and port.
    late.stop();
    devnet.wait_for(Duration::from_secs(30), "node 0 to see it gone", || {
        let s = devnet.status(0)?;
        peer(&s, &late_id)
            .is_some_and(|p| !p.info.connected)
            .then_some(())
    });
    let verified_before = devnet
        .status(0)
        .and_then(|s| peer(&s, &late_id).map(|p| p.info.reports_verified))
        .unwrap();
    let gone_at = devnet.status(0).unwrap().head_frame;
    let back = Node::start(&late_dir, 24_010, 24_350, &bootstrap, 60_000);
    devnet.wait_for(
        Duration::from_secs(90),
        "the returning node picked up again",
        || {
            let s = devnet.status(0)?;
            let p = peer(&s, &late_id)?;
            (p.info.connected && p.info.reports_verified > verified_before).then_some(())
        },
    );
    devnet.wait_for(
        Duration::from_secs(90),
        "the returning node caught up",
        || {
            let own = status::read(&late_dir)?;
            let verified_others = own.peers.iter().filter(|p| p.info.connected).count() == 2;
            (own.head_frame > gone_at + 10 && verified_others).then_some(())
        },
    );
    back.stop();
}

#[test]
fn a_forging_peer_is_scored_out_and_the_honest_nodes_go_on() {
    let _one = exclusive();
    let devnet = Devnet::start(2, 25_000, 25_300, 1000);
    let first = devnet.wait_for(Duration::from_secs(120), "two verified nodes", || {
        devnet.status(0).filter(|s| {
            s.peers
                .iter()
                .any(|p| p.info.reports_verified > 0 && p.info.connected)
        })
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let forger_key = qnode_p2p::NodeKey::generate(qnode_p2p::KeyType::Ed448).unwrap();
    let forger = runtime
        .block_on(async {
            let tasks = Services::without_shutdown();
            let bootstrap = vec![bootstrap_of(&first).parse().unwrap()];
            forger::start_as(forger_key.clone(), bootstrap, &tasks).await
        })
        .unwrap();
    let forger_id = forger.local_peer_id().to_base58();
    unknown_types_are_ignored_not_punished(&devnet, &runtime, &forger);
    let ignored = forging_is_scored_out(&devnet, &runtime, &forger);
    honest_nodes_go_on(&devnet, &runtime, &ignored, &forger_id);
    // Penalties last: the forger leaves and comes back under its key on a new connection;
    // BlossomSub forgets a departed peer's score after a while, the node does not.
    drop(forger);
    runtime.shutdown_background();
    penalties_outlast_a_new_connection(&devnet, forger_key, &first);

    // A devnet killed outright leaves no node or worker behind.
    let dir_name = devnet.dir.path().display().to_string();
    signal("KILL", devnet.child.id());
    devnet.wait_for(Duration::from_secs(15), "the orphaned nodes gone", || {
        processes_mentioning(&dir_name).is_empty().then_some(())
    });
}

/// A message of a type this version does not know is ignored and counted, not punished.
fn unknown_types_are_ignored_not_punished(
    devnet: &Devnet,
    runtime: &tokio::runtime::Runtime,
    forger: &qnode_p2p::Network,
) {
    let forger_id = forger.local_peer_id().to_base58();
    let unknown = devnet.wait_for(Duration::from_secs(90), "an unknown type ignored", || {
        runtime.block_on(forger::publish(forger, [forger::unknown_type().unwrap()]));
        devnet.status(0).filter(|s| s.counters.unknown_messages > 0)
    });
    let unscored = peer(&unknown, &forger_id).map_or(0, |p| p.info.score);
    assert_eq!(unscored, 0, "an unknown type was punished");
    let http = unknown.http_address.unwrap().port();
    let counted = sample(
        &scrape(http),
        "qnode_messages_ignored_total",
        Some(("reason", "unknown_type")),
    );
    assert!(counted >= 1.0, "{counted}");
}

/// Forges until node 0 holds the forger below zero, then until its messages are ignored
/// and BlossomSub ranks it below its thresholds; node 0's status then.
fn forging_is_scored_out(
    devnet: &Devnet,
    runtime: &tokio::runtime::Runtime,
    forger: &qnode_p2p::Network,
) -> Status {
    let forger_id = forger.local_peer_id().to_base58();
    let difficulty = (qnode_protocol::frame::DEFAULT_DIFFICULTY / 10_000).max(1);
    // Forge until node 0 holds it below zero; publishing fails until the mesh forms.
    let scored = devnet.wait_for(Duration::from_secs(90), "the forger penalised", || {
        let head = devnet.status(0)?.head_frame;
        let forgeries = [
            forger::report(520, head).unwrap(),
            forger::frame(head + 1, difficulty).unwrap(),
        ];
        runtime.block_on(forger::publish(forger, forgeries));
        let s = devnet.status(0)?;
        peer(&s, &forger_id)
            .filter(|p| p.info.score < 0)
            .cloned()
            .map(|p| (p, s))
    });
    let (forger_seen, at_penalty) = scored;
    assert!(
        at_penalty.counters.frames_rejected + at_penalty.counters.reports_rejected >= 1,
        "{at_penalty:?}"
    );
    assert!(forger_seen.info.score <= -1000);

    // From now on what it sends is ignored, and BlossomSub ranks it below its thresholds.
    let ignored = devnet.wait_for(
        Duration::from_secs(60),
        "the forger's messages ignored",
        || {
            let head = devnet.status(0)?.head_frame;
            runtime.block_on(forger::publish(
                forger,
                [forger::report(100, head).unwrap()],
            ));
            let s = devnet.status(0)?;
            let p = peer(&s, &forger_id)?;
            let gossip = p.gossip_score.unwrap_or(0.0);
            // Ignored by the node (its score is negative) or, once a second offence put
            // it below the graylist, by BlossomSub before the node sees it.
            let ignored = p.info.messages_ignored > 0 || gossip < qnode_p2p::GRAYLIST_THRESHOLD;
            (ignored && gossip <= qnode_p2p::PUBLISH_THRESHOLD).then_some(s)
        },
    );
    ignored
}

/// The honest nodes go on, and the node API lists the forger as uncooperative and the
/// honest node (and the node itself) as peers.
fn honest_nodes_go_on(
    devnet: &Devnet,
    runtime: &tokio::runtime::Runtime,
    ignored: &Status,
    forger_id: &str,
) {
    let head_then = ignored.head_frame;
    devnet.wait_for(Duration::from_secs(60), "the honest nodes going on", || {
        let a = devnet.status(0)?;
        let b = devnet.status(1)?;
        let honest = peer(&a, &b.peer_id)?;
        (a.head_frame >= head_then + 3
            && honest.info.score == 0
            && honest.info.connected
            && honest.info.last_verified_ms > ignored.updated_ms)
            .then_some(())
    });
    let (a, b) = (devnet.status(0).unwrap(), devnet.status(1).unwrap());
    let listed = runtime.block_on(async {
        let url = format!("http://{}", a.api_address.unwrap());
        let mut api = NodeServiceClient::connect(url).await.unwrap();
        api.get_peer_info(GetPeerInfoRequest {})
            .await
            .unwrap()
            .into_inner()
    });
    let id_bytes = |id: &str| id.parse::<qnode_p2p::PeerId>().unwrap().to_bytes();
    let ids = |list: &[PeerInfo]| list.iter().map(|p| p.peer_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&listed.uncooperative_peer_info), [id_bytes(forger_id)]);
    // The node lists itself too, as the original does.
    let mut listed_ids = ids(&listed.peer_info);
    listed_ids.sort();
    let mut expected = vec![id_bytes(&a.peer_id), id_bytes(&b.peer_id)];
    expected.sort();
    assert_eq!(listed_ids, expected);
}

/// The forger, back under its key on a new connection, is still below the publish
/// threshold and its score still negative: nothing it publishes reaches the node.
fn penalties_outlast_a_new_connection(
    devnet: &Devnet,
    forger_key: qnode_p2p::NodeKey,
    first: &Status,
) {
    let forger_id = forger_key.peer_id().to_base58();
    devnet.wait_for(Duration::from_secs(60), "the forger gone", || {
        let s = devnet.status(0)?;
        peer(&s, &forger_id)
            .filter(|p| !p.info.connected)
            .map(|_| ())
    });
    let verified_before = peer(&devnet.status(0).unwrap(), &forger_id)
        .unwrap()
        .info
        .reports_verified;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let forger = runtime
        .block_on(async {
            let tasks = Services::without_shutdown();
            let bootstrap = vec![bootstrap_of(first).parse().unwrap()];
            forger::start_as(forger_key, bootstrap, &tasks).await
        })
        .unwrap();
    // Back, it is still below the publish threshold: nothing is published to it, its
    // GRAFTs are refused (a negative score) and its gossip is not heard (below the
    // gossip threshold), so whatever it publishes never reaches the node.
    devnet.wait_for(
        Duration::from_secs(60),
        "the forger back, penalised",
        || {
            let head = devnet.status(0)?.head_frame;
            runtime.block_on(forger::publish(
                &forger,
                [forger::report(100, head).unwrap()],
            ));
            let s = devnet.status(0)?;
            let p = peer(&s, &forger_id)?;
            let gossip = p.gossip_score?;
            (p.info.connected && gossip <= qnode_p2p::PUBLISH_THRESHOLD).then_some(())
        },
    );
    let now = devnet.status(0).unwrap();
    let back = peer(&now, &forger_id).unwrap();
    assert_eq!(back.info.reports_verified, verified_before);
    assert!(back.info.score < 0, "{:?}", back.info);
    drop(forger);
    runtime.shutdown_background();
}

/// Devnet `i` of two has network id 10 + i and its node 0 at `base`; every node of each is
/// also bootstrapped to the other's node 0.
#[test]
fn two_networks_bootstrapped_to_each_other_share_nothing() {
    let _one = exclusive();
    let bases = [24_500u16, 25_500];
    // Node 0's keys first, so each devnet can be pointed at the other before it starts.
    let dirs = [(); 2].map(|_| tempfile::tempdir().unwrap());
    let node0 = |dir: &tempfile::TempDir, base: u16| {
        let node_dir = dir.path().join("node-0");
        std::fs::create_dir_all(&node_dir).unwrap();
        let id = qnode_identity::load_or_create_identity(&node_dir, qnode_identity::KeyType::Ed448)
            .unwrap()
            .peer_id();
        format!("/ip4/127.0.0.1/tcp/{base}/p2p/{id}")
    };
    let addresses = [node0(&dirs[0], bases[0]), node0(&dirs[1], bases[1])];
    let devnets: Vec<Devnet> = dirs
        .into_iter()
        .enumerate()
        .map(|(i, dir)| {
            let mut extra = vec![
                "--network".to_string(),
                (10 + i).to_string(),
                "--bootstrap".to_string(),
                addresses[1 - i].clone(),
                "--frame-interval-ms".to_string(),
                "1000".to_string(),
            ];
            extra.extend(fixed_pace(2));
            Devnet::start_in(dir, 2, [bases[i], bases[i] + 300], &extra)
        })
        .collect();
    // Each devnet's nodes agree and verify each other, and every node has met and
    // dropped the other devnet's node 0.
    let statuses = devnets[0].wait_for(
        Duration::from_secs(240),
        "two devnets, each agreed and verified, having met",
        || {
            let mut all = Vec::new();
            for devnet in &devnets {
                let pair: Vec<Status> = (0..2).map(|i| devnet.status(i)).collect::<Option<_>>()?;
                let agreed = pair[0].head_frame >= 3
                    && pair[1].peers.iter().any(|p| p.info.reports_verified > 0)
                    && pair[0].peers.iter().any(|p| p.info.reports_verified > 0);
                let met = (0..2).all(|i| {
                    std::fs::read_to_string(devnet.node_dir(i).join("node.log"))
                        .is_ok_and(|log| log.contains("it is on another network"))
                });
                (agreed && met).then_some(())?;
                all.push(pair);
            }
            Some(all)
        },
    );
    for (i, pair) in statuses.iter().enumerate() {
        let own: Vec<&String> = pair.iter().map(|s| &s.peer_id).collect();
        let other_head = &statuses[1 - i][0].head_output;
        for s in pair {
            let peers: Vec<String> = s.peers.iter().map(|p| p.info.peer_id.to_base58()).collect();
            let fellow: Vec<&String> = own.iter().copied().filter(|id| **id != s.peer_id).collect();
            assert_eq!(
                peers.iter().collect::<Vec<_>>(),
                fellow,
                "devnet {i}: {s:?}"
            );
            assert!(s.peers.iter().all(|p| p.info.score == 0), "{s:?}");
            let c = &s.counters;
            assert_eq!(
                (c.frames_rejected, c.reports_rejected, c.messages_ignored),
                (0, 0, 0),
                "devnet {i}: {c:?}"
            );
            assert_ne!(&s.head_output, other_head, "the devnets share a chain");
        }
    }
}
