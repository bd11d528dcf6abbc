//! A node that joins late catches up by sync alone; when it leaves the others notice, and
//! when it comes back under the same key they pick it up again and it catches up again.

use qnode_operator::status::CounterValues;
use qnode_services::context::ServiceContext;
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::wait;
use std::sync::Arc;
use std::time::Duration;

/// The late node's index: it starts after the first two.
const LATE: usize = 2;

fn context(network: &SimNetwork, i: usize) -> Option<Arc<ServiceContext>> {
    network.nodes[i].context()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_syncs_and_a_node_that_returns_is_picked_up_again() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        dir: dir.path().to_path_buf(),
        degree: 2,
        seed: 3,
        frame_interval: Duration::from_millis(300),
        pace: Pace::for_simulation(LATE + 1, 2),
        // The late node's own prover waits a minute between frames: only sync can bring
        // it up to date.
        tweak: Tweak::new(|i, options| {
            if i == LATE {
                options.frame_interval_ms = Some(60_000);
            }
        }),
    };
    let mut network = SimNetwork::start(&plan, LATE).await.unwrap();
    let first = wait::until("the network past frame 25", plan.windows(60), || async {
        let ctx = context(&network, 0)?;
        (ctx.head_number().await >= 25).then_some(ctx)
    })
    .await
    .unwrap();
    assert_eq!(network.add_node().await.unwrap(), LATE);
    let late = wait::until("the late node at the head", plan.windows(40), || async {
        let own = context(&network, LATE)?;
        let synced = CounterValues::of(&own.metrics).frames_synced;
        (own.head_number().await + 2 >= first.head_number().await && synced >= 10).then_some(own)
    })
    .await
    .unwrap();
    assert!(late.head_number().await >= 25);
    let accepted = late.metrics.frames.with_label_values(&["sync", "accepted"]);
    assert!(accepted.get() >= 10, "{}", accepted.get());
    let late_id = network.nodes[LATE].peer_id;

    // It leaves; the others notice; it comes back under the same key.
    network.nodes[LATE].stop().await.unwrap();
    let gone = wait::until("node 0 to see it gone", plan.windows(10), || async {
        let known = first.peers.get(&late_id)?;
        (!known.connected).then_some(known)
    })
    .await
    .unwrap();
    let gone_at = first.head_number().await;
    network.restart(LATE).unwrap();
    wait::until("the returning node picked up", plan.windows(30), || async {
        let known = first.peers.get(&late_id)?;
        (known.connected && known.reports_verified > gone.reports_verified).then_some(())
    })
    .await
    .unwrap();
    wait::until("the returning node caught up", plan.windows(30), || async {
        let own = context(&network, LATE)?;
        let connected = own.peers.sorted_by_bandwidth();
        let both = connected.iter().filter(|p| p.connected).count() == 2;
        (own.head_number().await > gone_at + 10 && both).then_some(())
    })
    .await
    .unwrap();
    network.stop().await.unwrap();
}
