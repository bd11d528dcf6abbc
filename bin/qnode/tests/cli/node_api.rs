//! The node API of a running two-node network: every `NodeService` call checked against
//! what the node's status says, reflection as grpcurl uses it, the same calls as JSON over
//! HTTP, the Grafana dashboard's metric names, then `qnode node-info`, `qnode peers` and
//! `qnode frames` through it. The nodes run in this process (the simulator's network, on
//! ports from the OS, watched through their service contexts); the clients are the real
//! ones: tonic, HTTP, and the `qnode` commands as processes.

use crate::common::{listed_frame_numbers, qnode, text};
use qnode_operator::status::{self, Status};
use qnode_protocol::pb::node::node_service_client::NodeServiceClient;
use qnode_protocol::pb::node::{
    GetFrameInfoRequest, GetFramesRequest, GetNetworkInfoRequest, GetNodeInfoRequest,
    GetPeerInfoRequest, GetPeerManifestsRequest, GetTokenInfoRequest,
};
use qnode_sim::network::SimNetwork;
use qnode_sim::pace::Pace;
use qnode_sim::plan::{Plan, Tweak};
use qnode_sim::wait;
use std::path::Path;
use std::time::Duration;
use tonic::Code;

const MASTER_FILTER: [u8; 32] = [0xff; 32];

fn peer_bytes(status: &Status) -> Vec<u8> {
    status
        .peer_id
        .parse::<qnode_p2p::PeerId>()
        .unwrap()
        .to_bytes()
}

fn frames(from: u64, to: u64, filter: &[u8]) -> GetFramesRequest {
    GetFramesRequest {
        filter: filter.to_vec(),
        from_frame_number: from,
        to_frame_number: to,
        include_candidates: false,
    }
}

fn cli_json(args: &[&str], dir: &Path) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--json", "--config-dir", dir.to_str().unwrap()]);
    let out = qnode(&all);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Two nodes with their HTTP listener and node API on ports the OS gives.
fn plan(dir: &Path) -> Plan {
    Plan {
        dir: dir.to_path_buf(),
        degree: 1,
        seed: 1,
        frame_interval: Duration::from_secs(1),
        pace: Pace::for_simulation(2, 2),
        tweak: Tweak::operator_listeners(),
    }
}

/// Node 0 once it has verified node 1's report, is past frame 3 and has stored an
/// increment; then the two nodes' statuses (where their listeners are, and what the API's
/// answers are checked against), once node 0's shows the same.
async fn verified_and_proving(plan: &Plan, network: &SimNetwork) -> (Status, Status) {
    let other = network.nodes[1].peer_id;
    wait::until(
        "a verified peer and an increment",
        plan.windows(30),
        || async {
            let ctx = network.nodes[0].context()?;
            let peer = ctx.peers.get(&other)?;
            let proved = ctx.metrics.proof_increment.get() >= 1;
            (peer.reports_verified > 0 && ctx.head_number().await >= 3 && proved).then_some(())
        },
    )
    .await
    .unwrap();
    // The status writer writes every second.
    wait::until("the statuses", plan.windows(2), || async {
        let node = status::read(&network.nodes[0].dir)?;
        let other = status::read(&network.nodes[1].dir)?;
        let peer = node
            .peers
            .iter()
            .find(|p| p.info.peer_id.to_base58() == other.peer_id)?;
        (peer.info.reports_verified > 0 && node.increment.is_some()).then_some((node, other))
    })
    .await
    .unwrap()
}

#[test]
fn every_node_api_call_against_a_running_network() {
    let temp = tempfile::tempdir().unwrap();
    let plan = plan(temp.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let network = runtime.block_on(SimNetwork::start(&plan, 2)).unwrap();
    let (node, other) = runtime.block_on(verified_and_proving(&plan, &network));
    runtime.block_on(async {
        let url = format!("http://{}", node.api_address.unwrap());
        let mut api = NodeServiceClient::connect(url.clone()).await.unwrap();
        node_info(&mut api, &node).await;
        frames_and_frame_info(&mut api, &node).await;
        peers_and_network(&mut api, &other).await;
        token_info(&mut api, &node).await;
        manifests_and_own_entry(&mut api, &node, &other).await;
        crate::operator_tools::reflection::lists_and_describes_node_service(&url).await;
        crate::operator_tools::reflection::v1alpha_lists_node_service(&url).await;
    });
    let http = node.http_address.unwrap().port();
    crate::operator_tools::json_api::answers_like_the_grpc_service(http, &node);
    crate::operator_tools::json_api::refuses_bad_input_with_json_4xx(http);
    crate::operator_tools::grafana::dashboard_queries_only_exported_metrics(http);
    the_commands_through_the_api(&network.nodes[0].dir, &other);
    runtime.block_on(network.stop()).unwrap();
}

/// `qnode node-info`, `peers` and `frames`, which find the API from the config directory.
fn the_commands_through_the_api(dir: &Path, other: &Status) {
    let info = cli_json(&["node-info"], dir);
    assert_eq!(info["peer_id"], status::read(dir).unwrap().peer_id.as_str());
    assert_eq!(info["version"], "1.4.19");
    let peers = cli_json(&["peers"], dir);
    assert!(peers["network"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["peer_id"] == other.peer_id.as_str()));
    assert!(peers["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["peer_id"] == other.peer_id.as_str()));
    // The store is the running node's (locked), so these frames came through the API.
    let d = dir.to_str().unwrap();
    let out = qnode(&[
        "frames",
        "--json",
        "--from",
        "0",
        "--to",
        "3",
        "--config-dir",
        d,
    ]);
    assert_eq!(listed_frame_numbers(&out), [0, 1, 2, 3]);
    let table = qnode(&["peers", "--config-dir", d]);
    assert!(
        text(&table.stdout).contains(&other.peer_id),
        "{}",
        text(&table.stdout)
    );
}

type Api = NodeServiceClient<tonic::transport::Channel>;

/// `GetNodeInfo`: the node's id, head, the original's version and ours.
async fn node_info(api: &mut Api, node: &Status) {
    let info = api
        .get_node_info(GetNodeInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.peer_id, node.peer_id);
    assert!(info.max_frame >= node.head_frame);
    assert_eq!(info.version, vec![1, 4, 19]);
    assert!(info.software_version.starts_with("qnode "));
}

/// `GetFrames` (bounds, filters) and `GetFrameInfo`.
async fn frames_and_frame_info(api: &mut Api, node: &Status) {
    let first = api
        .get_frames(frames(0, 3, &MASTER_FILTER))
        .await
        .unwrap()
        .into_inner();
    let numbers: Vec<u64> = first
        .truncated_clock_frames
        .iter()
        .map(|f| f.frame_number)
        .collect();
    assert_eq!(numbers, [0, 1, 2], "`to` is exclusive, as in the original");
    assert!(first
        .truncated_clock_frames
        .iter()
        .all(|f| f.filter == MASTER_FILTER));
    let swapped = api
        .get_frames(frames(3, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        swapped, first,
        "reversed bounds are swapped; no filter means the master clock"
    );
    let all = api
        .get_frames(frames(0, u64::MAX, &[]))
        .await
        .unwrap()
        .into_inner();
    let count = all.truncated_clock_frames.len() as u64;
    assert!(count > node.head_frame && count <= 1024, "{count} frames");
    let other_clock = api.get_frames(frames(0, 3, &[1; 32])).await.unwrap_err();
    assert_eq!(other_clock.code(), Code::NotFound);

    let two = api
        .get_frame_info(GetFrameInfoRequest {
            filter: MASTER_FILTER.to_vec(),
            frame_number: 2,
            selector: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        two.clock_frame.as_ref(),
        first.truncated_clock_frames.get(2)
    );
    let missing = api
        .get_frame_info(GetFrameInfoRequest {
            filter: vec![],
            frame_number: 1 << 40,
            selector: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains("not stored"),
        "{}",
        missing.message()
    );
}

/// `GetPeerInfo` and `GetNetworkInfo`: the other node, connected, on 127.0.0.1.
async fn peers_and_network(api: &mut Api, other: &Status) {
    let peers = api
        .get_peer_info(GetPeerInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let peer = peers
        .peer_info
        .iter()
        .find(|p| p.peer_id == peer_bytes(other))
        .unwrap();
    assert!(peer.max_frame > 0 && peer.timestamp > 0);
    assert!(
        peer.multiaddrs
            .iter()
            .any(|a| a.starts_with("/ip4/127.0.0.1/")),
        "{peer:?}"
    );
    assert!(peers.uncooperative_peer_info.is_empty());

    let network = api
        .get_network_info(GetNetworkInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let connected = network
        .network_info
        .iter()
        .find(|n| n.peer_id == peer_bytes(other))
        .unwrap();
    assert!(connected
        .multiaddrs
        .iter()
        .any(|a| a.starts_with("/ip4/127.0.0.1/")));
    assert!(connected.peer_score >= 0.0);
}

/// `GetTokenInfo`: the proof chain's reward, at least what the status said.
async fn token_info(api: &mut Api, node: &Status) {
    let tokens = api
        .get_token_info(GetTokenInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tokens.unconfirmed_owned_tokens.len(), 32);
    let reward = tokens
        .unconfirmed_owned_tokens
        .iter()
        .fold(0u128, |t, b| (t << 8) | u128::from(*b));
    assert!(
        reward > 0 && reward >= node.reward.parse::<u128>().unwrap(),
        "{reward} vs {}",
        node.reward
    );
}

/// `GetPeerManifests`, and the node's own entries among manifests and peers.
async fn manifests_and_own_entry(api: &mut Api, node: &Status, other: &Status) {
    let manifests = api
        .get_peer_manifests(GetPeerManifestsRequest {})
        .await
        .unwrap()
        .into_inner();
    let manifest = manifests
        .peer_manifests
        .iter()
        .find(|m| m.peer_id == peer_bytes(other))
        .unwrap();
    assert_eq!(manifest.cores, 2, "one worker plus the node's own core");
    // The free bytes of its data directory's filesystem, big-endian without leading
    // zeros, as the original lists them.
    let storage = &manifest.storage;
    assert!(
        !storage.is_empty() && storage.len() <= 8 && storage[0] != 0,
        "{storage:?}"
    );
    assert!(manifest.difficulty > 0 && manifest.last_seen > 0);
    // The node lists its own manifest, and itself among the peers, with its listen
    // addresses, as the original does.
    let own = peer_bytes(node);
    assert!(manifests.peer_manifests.iter().any(|m| m.peer_id == own));
    let peers = api
        .get_peer_info(GetPeerInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    let listed = peers.peer_info.iter().find(|p| p.peer_id == own).unwrap();
    assert!(!listed.multiaddrs.is_empty(), "{listed:?}");
}
