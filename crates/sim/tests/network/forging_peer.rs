//! A forging peer is scored out and the honest nodes go on: a message of an unknown type is
//! ignored, not punished; forged reports and frames put the forger below zero, then its
//! messages are ignored and BlossomSub ranks it below its thresholds; the node API lists it
//! as uncooperative; and coming back under the same key on a new connection does not wash
//! the penalty away.

use qnode_operator::node_api::NodeApi;
use qnode_operator::status::CounterValues;
use qnode_p2p::{KeyType, Network, NodeKey, PeerId, GRAYLIST_THRESHOLD, PUBLISH_THRESHOLD};
use qnode_protocol::clock::now_ms;
use qnode_protocol::pb::node::node_service_server::NodeService;
use qnode_protocol::pb::node::{GetPeerInfoRequest, PeerInfo};
use qnode_services::context::ServiceContext;
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{master_difficulty, Plan, Tweak};
use qnode_sim::{forger, wait};
use qnode_tasks::Services;
use std::sync::Arc;
use std::time::Duration;

const NODES: usize = 2;

async fn gossip_score(ctx: &ServiceContext, peer: &PeerId) -> Option<f64> {
    let scores = ctx.network.scores().await.ok()?;
    scores.iter().find(|(p, _)| p == peer).map(|(_, s)| *s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forging_peer_is_scored_out_and_the_honest_nodes_go_on() {
    let _alone = crate::alone().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = Plan {
        dir: dir.path().to_path_buf(),
        degree: 1,
        seed: 5,
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(NODES + 1, 2),
        tweak: Tweak::default(),
    };
    let network = SimNetwork::start(&plan, NODES).await.unwrap();
    let node0 = wait::until("two verified nodes", plan.windows(30), || async {
        let ctx = network.nodes[0].context()?;
        let verified = ctx.peers.sorted_by_bandwidth();
        let verified = verified
            .iter()
            .any(|p| p.reports_verified > 0 && p.connected);
        verified.then_some(ctx)
    })
    .await
    .unwrap();
    let key = NodeKey::generate(KeyType::Ed448).unwrap();
    let bootstrap = vec![network.address(0).await.unwrap()];
    let tasks = Services::without_shutdown();
    let forger = forger::start_as(key.clone(), bootstrap.clone(), &tasks)
        .await
        .unwrap();
    unknown_types_are_ignored_not_punished(&plan, &node0, &forger).await;
    let ignored_at = forging_is_scored_out(&plan, &node0, &forger).await;
    honest_nodes_go_on(&plan, &network, &node0, ignored_at, forger.local_peer_id()).await;
    // Penalties last: the forger leaves and comes back under its key on a new connection;
    // BlossomSub forgets a departed peer's score after a while, the node does not.
    drop(forger);
    tasks.finish().await.unwrap();
    penalties_outlast_a_new_connection(&plan, &node0, key, bootstrap).await;
    network.stop().await.unwrap();
}

/// A message of a type this version does not know is ignored and counted, not punished.
async fn unknown_types_are_ignored_not_punished(
    plan: &Plan,
    node0: &ServiceContext,
    forger: &Network,
) {
    wait::until("an unknown type ignored", plan.windows(30), || async {
        forger::publish(forger, [forger::unknown_type().unwrap()]).await;
        (CounterValues::of(&node0.metrics).unknown_messages > 0).then_some(())
    })
    .await
    .unwrap();
    assert_eq!(node0.peers.score(&forger.local_peer_id()), 0);
}

/// Forges until node 0 holds the forger below zero, then until its messages are ignored
/// and BlossomSub ranks it below its thresholds; when that was.
async fn forging_is_scored_out(plan: &Plan, node0: &ServiceContext, forger: &Network) -> i64 {
    let id = forger.local_peer_id();
    let scored = wait::until("the forger penalised", plan.windows(30), || async {
        let head = node0.head_number().await;
        let forgeries = [
            forger::report(520, head).unwrap(),
            forger::frame(head + 1, master_difficulty()).unwrap(),
        ];
        forger::publish(forger, forgeries).await;
        node0.peers.get(&id).filter(|p| p.score < 0)
    })
    .await
    .unwrap();
    let counters = CounterValues::of(&node0.metrics);
    assert!(
        counters.frames_rejected + counters.reports_rejected >= 1,
        "{counters:?}"
    );
    assert!(scored.score <= -1000, "{scored:?}");
    // From now on what it sends is ignored, and BlossomSub ranks it below its thresholds.
    wait::until(
        "the forger's messages ignored",
        plan.windows(20),
        || async {
            let head = node0.head_number().await;
            forger::publish(forger, [forger::report(100, head).unwrap()]).await;
            let known = node0.peers.get(&id)?;
            let gossip = gossip_score(node0, &id).await.unwrap_or(0.0);
            // Ignored by the node (its score is negative) or, once a second offence put it
            // below the graylist, by BlossomSub before the node sees it.
            let ignored = known.messages_ignored > 0 || gossip < GRAYLIST_THRESHOLD;
            (ignored && gossip <= PUBLISH_THRESHOLD).then_some(())
        },
    )
    .await
    .unwrap();
    now_ms()
}

/// The honest nodes go on, and the node API lists the forger as uncooperative and the
/// honest node (and the node itself) as peers.
async fn honest_nodes_go_on(
    plan: &Plan,
    network: &SimNetwork,
    node0: &Arc<ServiceContext>,
    ignored_at: i64,
    forger: PeerId,
) {
    let head_then = node0.head_number().await;
    let honest = network.nodes[1].peer_id;
    wait::until("the honest nodes going on", plan.windows(20), || async {
        let known = node0.peers.get(&honest)?;
        (node0.head_number().await >= head_then + 3
            && known.score == 0
            && known.connected
            && known.last_verified_ms > ignored_at)
            .then_some(())
    })
    .await
    .unwrap();
    let api = NodeApi::new(node0.clone());
    let listed = api.get_peer_info(tonic::Request::new(GetPeerInfoRequest {}));
    let listed = listed.await.unwrap().into_inner();
    let ids = |list: &[PeerInfo]| {
        let mut ids: Vec<Vec<u8>> = list.iter().map(|p| p.peer_id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&listed.uncooperative_peer_info), [forger.to_bytes()]);
    // The node lists itself too, as the original does.
    let mut expected = vec![node0.own.to_bytes(), honest.to_bytes()];
    expected.sort();
    assert_eq!(ids(&listed.peer_info), expected);
}

/// The forger, back under its key on a new connection, is still below the publish
/// threshold and its score still negative: nothing it publishes reaches the node.
async fn penalties_outlast_a_new_connection(
    plan: &Plan,
    node0: &ServiceContext,
    key: NodeKey,
    bootstrap: Vec<qnode_p2p::Multiaddr>,
) {
    let id = key.peer_id();
    let gone = wait::until("the forger gone", plan.windows(20), || async {
        node0.peers.get(&id).filter(|p| !p.connected)
    })
    .await
    .unwrap();
    let tasks = Services::without_shutdown();
    let forger = forger::start_as(key, bootstrap, &tasks).await.unwrap();
    // Back, it is still below the publish threshold: nothing is published to it, its
    // GRAFTs are refused (a negative score) and its gossip is not heard (below the gossip
    // threshold), so whatever it publishes never reaches the node.
    wait::until("the forger back, penalised", plan.windows(20), || async {
        let head = node0.head_number().await;
        forger::publish(&forger, [forger::report(100, head).unwrap()]).await;
        let known = node0.peers.get(&id)?;
        let gossip = gossip_score(node0, &id).await?;
        (known.connected && gossip <= PUBLISH_THRESHOLD).then_some(())
    })
    .await
    .unwrap();
    let back = node0.peers.get(&id).unwrap();
    assert_eq!(back.reports_verified, gone.reports_verified);
    assert!(back.score < 0, "{back:?}");
    drop(forger);
    tasks.finish().await.unwrap();
}
