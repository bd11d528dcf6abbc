//! Real nodes in one process: they meet, agree on the master clock, and stop.

use qnode_sim::heads::HeadLog;
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use std::time::{Duration, Instant};

const PEERS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_in_one_process_meet_agree_on_the_clock_and_stop() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        dir: dir.path().to_path_buf(),
        degree: 2,
        seed: 1,
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(PEERS, 2),
        tweak: Tweak::default(),
    };
    let network = SimNetwork::start(&plan, PEERS).await.unwrap();
    let started = Instant::now();
    let mut log = HeadLog::default();
    let heads = loop {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no agreement within 120 s"
        );
        for (i, node) in network.nodes.iter().enumerate() {
            assert!(!node.is_finished(), "{} stopped", node.dir.display());
            if let Some(ctx) = node.context() {
                log.sample(i, ctx.head_number().await, started.elapsed());
            }
        }
        if let Some(heads) = agreed_heads(&network).await {
            break heads;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(heads.iter().all(|&h| h >= 3), "{heads:?}");
    // Frames proved while all three watched reached all three, each within the run.
    let all = log
        .propagation(&[0, 1, 2])
        .all
        .expect("a frame every node got");
    // Three nodes on one machine pass a frame on in milliseconds (a 24-peer debug sim:
    // p99 0.16 s); two seconds is the bound a network of hundreds must meet (issue 34).
    assert!(all.frames >= 1 && all.p99 <= 2_000.0, "{all:?}");
    assert!(
        all.p99 < started.elapsed().as_secs_f64() * 1000.0,
        "{all:?}"
    );
    let stopping = Instant::now();
    network.stop().await.unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(15),
        "{:?}",
        stopping.elapsed()
    );
}

/// Every node's head, once every node is up, connected to the other two, past frame 3
/// and within one frame of the others.
async fn agreed_heads(network: &SimNetwork) -> Option<Vec<u64>> {
    let mut heads = Vec::new();
    for node in &network.nodes {
        let ctx = node.context()?;
        let connected = ctx.network.connected().await.ok()?;
        let others = network.nodes.iter().filter(|n| n.peer_id != node.peer_id);
        if !others
            .map(|n| n.peer_id)
            .all(|id| connected.iter().any(|c| c.peer == id))
        {
            return None;
        }
        heads.push(ctx.head_number().await);
    }
    let (low, high) = (heads.iter().min()?, heads.iter().max()?);
    (*low >= 3 && high - low <= 1).then_some(heads)
}
