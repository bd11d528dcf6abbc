//! Two networks whose nodes dial each other share nothing: each agrees on its own clock and
//! verifies its own peers, every node meets the other network's node 0 and drops it, and no
//! node counts an offence.

use qnode_operator::status::CounterValues;
use qnode_p2p::Multiaddr;
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::wait;
use std::path::Path;
use std::time::Duration;

const NODES: usize = 2;

fn plan(dir: &Path, network: u8) -> Plan {
    Plan {
        dir: dir.join(format!("network-{network}")),
        degree: 2,
        seed: u64::from(network),
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(2 * NODES, 2),
        tweak: Tweak::new(move |_, options| options.network = Some(network)),
    }
}

/// The facts the test judges a node by.
struct Seen {
    head: u64,
    output: Vec<u8>,
    peers: Vec<qnode_p2p::PeerId>,
    honest: bool,
    verified_a_peer: bool,
    met_a_stranger: bool,
    counters: CounterValues,
}

async fn seen(network: &SimNetwork, i: usize) -> Option<Seen> {
    let ctx = network.nodes[i].context()?;
    let (head, output) = {
        let reel = ctx.reel.lock().await;
        (reel.head().frame_number, reel.head().output.clone())
    };
    // The table holds the node's own entry too (its manifest); the status leaves it out.
    let mut peers = ctx.peers.sorted_by_bandwidth();
    peers.retain(|p| p.peer_id != ctx.own);
    Some(Seen {
        head,
        output,
        honest: peers.iter().all(|p| p.score == 0),
        verified_a_peer: peers.iter().any(|p| p.reports_verified > 0),
        peers: peers.iter().map(|p| p.peer_id).collect(),
        met_a_stranger: ctx.metrics.foreign_peers.get() > 0,
        counters: CounterValues::of(&ctx.metrics),
    })
}

/// Every node of `network`, once its nodes agree past frame 3, have verified each other and
/// have met a node of the other network. A node that has not met it yet dials `stranger`
/// (again), as a node bootstrapped to it would.
async fn settled(network: &SimNetwork, stranger: &Multiaddr) -> Option<Vec<Seen>> {
    let mut all = Vec::new();
    for i in 0..NODES {
        let s = seen(network, i).await?;
        if !s.met_a_stranger {
            let ctx = network.nodes[i].context()?;
            let _ = ctx.network.dial(stranger.clone()).await;
        }
        all.push(s);
    }
    let done = |s: &Seen| s.head >= 3 && s.verified_a_peer && s.met_a_stranger;
    all.iter().all(done).then_some(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_networks_whose_nodes_dial_each_other_share_nothing() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plans = [plan(dir.path(), 10), plan(dir.path(), 11)];
    let mut networks = Vec::new();
    for plan in &plans {
        networks.push(SimNetwork::start(plan, NODES).await.unwrap());
    }
    // Every node dials the other network's node 0, as if bootstrapped to it.
    let strangers = [
        networks[1].address(0).await.unwrap(),
        networks[0].address(0).await.unwrap(),
    ];
    let mut settled_networks = Vec::new();
    for (k, network) in networks.iter().enumerate() {
        let what = format!("network {k} agreed, verified and having met the other");
        let all = wait::until(&what, plans[k].windows(20), || {
            settled(network, &strangers[k])
        })
        .await
        .unwrap();
        settled_networks.push(all);
    }
    for (k, network) in networks.iter().enumerate() {
        let other_head = &settled_networks[1 - k][0].output;
        for (i, s) in settled_networks[k].iter().enumerate() {
            let fellows: Vec<_> = (0..NODES)
                .filter(|&j| j != i)
                .map(|j| network.nodes[j].peer_id)
                .collect();
            assert_eq!(s.peers, fellows, "network {k} node {i}: only its fellow");
            assert!(s.honest, "network {k} node {i} penalised a peer");
            let c = &s.counters;
            assert_eq!(
                (c.frames_rejected, c.reports_rejected, c.messages_ignored),
                (0, 0, 0),
                "network {k} node {i}: {c:?}"
            );
            assert_ne!(&s.output, other_head, "the networks share a chain");
        }
    }
    for network in networks {
        network.stop().await.unwrap();
    }
}
