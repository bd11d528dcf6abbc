//! The master clock ticks as the original's: every node proves the next frame as soon as
//! it has a new head, so a lone node's head advances at the rate its frame time and its
//! pacing allow, and the nodes of a network stay together without going back.

use qnode_prover::self_test::REPORT_FILE;
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::wait;
use std::path::Path;
use std::time::{Duration, Instant};

/// Frames each test watches go by.
const FRAMES: u64 = 20;

fn plan(dir: &Path, nodes: usize, tweak: Tweak) -> Plan {
    Plan {
        dir: dir.to_path_buf(),
        degree: 2,
        seed: 9,
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(nodes, 2),
        tweak,
    }
}

/// What proving one frame took on this machine, as node 0's self-test measured it.
fn proof_ms(network: &SimNetwork) -> u64 {
    let report = std::fs::read(network.nodes[0].dir.join(REPORT_FILE)).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    report["difficulty_metric_ms"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_nodes_head_advances_at_the_rate_its_frame_time_allows() {
    const PACING_MS: u64 = 200;
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let pacing = Tweak::new(|_, options| options.min_frame_interval_ms = Some(PACING_MS));
    let plan = plan(dir.path(), 1, pacing);
    let network = SimNetwork::start(&plan, 1).await.unwrap();
    let ctx = wait::until("the clock to start", plan.windows(20), || async {
        let ctx = network.nodes[0].context()?;
        (ctx.head_number().await >= 2).then_some(ctx)
    })
    .await
    .unwrap();
    // Time FRAMES new heads as they arrive.
    let mut heads = ctx.reel.lock().await.subscribe_heads();
    let start = ctx.head_number().await;
    let started = Instant::now();
    while ctx.head_number().await < start + FRAMES {
        let next = tokio::time::timeout(plan.windows(2), heads.recv()).await;
        assert!(next.is_ok(), "no new head within two windows");
    }
    let advanced = ctx.head_number().await - start;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let frame_ms = proof_ms(&network);
    // The pacing counts from the head's arrival, so a frame's proof comes on top of it.
    let allowed = elapsed_ms / (frame_ms + PACING_MS);
    // Half the allowed rate at least (a loaded machine), and never faster than the pacing.
    assert!(
        advanced * 2 >= allowed,
        "{advanced} frames in {elapsed_ms} ms; a frame takes {frame_ms} ms, paced to {PACING_MS} ms"
    );
    assert!(
        advanced <= elapsed_ms / PACING_MS + 1,
        "{advanced} frames in {elapsed_ms} ms, paced to {PACING_MS} ms"
    );
    network.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_networks_heads_stay_within_two_frames_and_never_go_back() {
    const NODES: usize = 3;
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path(), NODES, Tweak::default());
    let network = SimNetwork::start(&plan, NODES).await.unwrap();
    let heads = || async {
        let mut heads = Vec::with_capacity(NODES);
        for node in &network.nodes {
            heads.push(node.context()?.head_number().await);
        }
        Some(heads)
    };
    wait::until("every node past frame 3", plan.windows(30), || async {
        heads().await.filter(|h| h.iter().all(|h| *h >= 3))
    })
    .await
    .unwrap();
    // Sample every node's head as the network moves FRAMES frames on.
    let mut last = vec![0; NODES];
    let (mut samples, mut first) = (0, None);
    let started = Instant::now();
    let deadline = started + plan.windows(60);
    let latest = loop {
        let now = heads().await.unwrap();
        let (low, high) = (*now.iter().min().unwrap(), *now.iter().max().unwrap());
        assert!(high - low <= 2, "heads apart: {now:?}");
        for (node, (head, before)) in now.iter().zip(&mut last).enumerate() {
            assert!(
                *head >= *before,
                "node {node} went back from {before} to {head}"
            );
            *before = *head;
        }
        samples += 1;
        if high >= *first.get_or_insert(low) + FRAMES {
            break high;
        }
        assert!(
            Instant::now() < deadline,
            "the network did not move {FRAMES} frames on"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(samples > 20, "only {samples} samples");
    let (first, elapsed_ms) = (first.unwrap(), started.elapsed().as_millis() as u64);
    let (pace_ms, proof_ms) = (plan.pace.min_frame_interval_ms, proof_ms(&network));
    // A frame's proof (and its peers' verification) comes on top of the pace.
    let allowed = elapsed_ms / (pace_ms + proof_ms);
    // Half the allowed rate at least: a loaded machine.
    assert!(
        (latest - first) * 2 >= allowed,
        "the clock barely moved: {first} → {latest} in {elapsed_ms} ms, paced to a frame every \
         {pace_ms} ms that takes {proof_ms} ms to prove"
    );
    network.stop().await.unwrap();
}
