//! A peer speaking the protocol but lying: reports whose proofs do not verify or have
//! the wrong length, and frames whose VDF is garbage. The network tests and the
//! simulation use it to check that honest nodes score such peers out.

use prost::Message;
use qnode_p2p::{DirectHandler, DirectKind, Multiaddr, Network, NetworkConfig, NodeKey, PeerId};
use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::frame;
use qnode_protocol::pb::application;
use qnode_protocol::pb::clock::ClockFrame;
use qnode_protocol::pb::node::SelfTestReport;
use qnode_protocol::poseidon::{hash_bytes, hash_bytes_minimal, PoseidonError};
use qnode_tasks::Services;
use std::sync::Arc;

struct Silent;
impl DirectHandler for Silent {
    fn handle(&self, _: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>> {
        // Passes bandwidth tests, so only the forgeries are held against it.
        (kind == DirectKind::Validation).then(|| body.to_vec())
    }
}

/// A forger under `key`, on a port the OS picks, joining through `bootstrap`, its swarm
/// under `tasks`: with the same key again, the same peer on a new connection.
pub async fn start_as(
    key: NodeKey,
    bootstrap: Vec<Multiaddr>,
    tasks: &Services,
) -> anyhow::Result<Network> {
    let any_port = "/ip4/127.0.0.1/tcp/0".parse()?;
    let mut config = NetworkConfig::new(vec![any_port], Arc::new(Silent));
    config.bootstrap = bootstrap;
    // A forger keeps dialling every node it is given, however many: it keeps no peer
    // target, as an honest node does.
    config.peer_target = crate::network::MAX_NODES;
    let (network, _events) = Network::start(key, config, tasks).await?;
    network.subscribe(&frame::DEFAULT_FILTER).await?;
    Ok(network)
}

/// Publishes on the master filter; failures (no mesh yet) are retried by the caller.
pub async fn publish<const N: usize>(network: &Network, messages: [Vec<u8>; N]) {
    for message in messages {
        let _ = network.publish(&frame::DEFAULT_FILTER, message).await;
    }
}

/// A well-formed envelope of a type this version does not know (a newer peer's).
pub fn unknown_type() -> Result<Vec<u8>, PoseidonError> {
    let any = prost_types::Any {
        type_url: "types.quilibrium.com/quilibrium.node.future.pb.Announcement".into(),
        value: vec![1, 2, 3],
    };
    let payload = any.encode_to_vec();
    let message = application::Message {
        hash: hash_bytes_minimal(&payload)?,
        address: frame::DEFAULT_FILTER.to_vec(),
        payload,
    };
    Ok(message.encode_to_vec())
}

/// A report claiming `head`, whose proof of `proof_bytes` garbage bytes cannot verify.
pub fn report(proof_bytes: usize, head: u64) -> Result<Vec<u8>, PoseidonError> {
    let report = SelfTestReport {
        cores: 8,
        memory: 64_000_000_000u64.to_be_bytes().to_vec(),
        proof: vec![7; proof_bytes],
        challenge: vec![1; 74],
        increment: 5,
        master_head_frame: head,
        ..Default::default()
    };
    envelope::seal(&frame::DEFAULT_FILTER, &Payload::SelfTestReport(report))
}

/// A frame at `number` with the devnet's difficulty and a garbage VDF output.
pub fn frame(number: u64, difficulty: u32) -> Result<Vec<u8>, PoseidonError> {
    let input = vec![3u8; 516];
    let frame = ClockFrame {
        filter: frame::DEFAULT_FILTER.to_vec(),
        frame_number: number,
        timestamp: 1,
        difficulty,
        parent_selector: hash_bytes(&input)?.to_vec(),
        input,
        output: vec![5u8; 516],
        ..Default::default()
    };
    envelope::seal(&frame::DEFAULT_FILTER, &Payload::ClockFrame(frame))
}
