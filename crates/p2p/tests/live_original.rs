//! Against a running original node (ignored unless asked for; CI has no original): set
//! `QNODE_ORIGINAL` to its TCP address (`/ip4/127.0.0.1/tcp/PORT/p2p/Qm…`) and
//! `QNODE_ORIGINAL_NETWORK` to its network, then
//! `cargo test -p qnode-p2p --test live_original -- --ignored --nocapture`.
//!
//! An Ed448 qnode identity connects over qnode's Noise, is identified by the original
//! (and identifies it), subscribes to the master bitmask, and receives the original's
//! next self-test report through BlossomSub with a StrictSign signature qnode checks.

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, Swarm};
use qnode_blossomsub as blossomsub;
use qnode_identity::{KeyType, NodeKey};
use qnode_p2p::identify;
use std::sync::Arc;
use std::time::Duration;

#[derive(NetworkBehaviour)]
struct Probe {
    pubsub: blossomsub::Behaviour,
    identify: identify::Behaviour,
}

fn swarm(key: Arc<NodeKey>) -> Swarm<Probe> {
    use libp2p::core::muxing::StreamMuxerBox;
    use libp2p::core::upgrade::Version;
    use libp2p::Transport;
    let transport = libp2p::tcp::tokio::Transport::new(libp2p::tcp::Config::default())
        .upgrade(Version::V1Lazy)
        .authenticate(qnode_p2p::noise::NoiseConfig::new(key.clone()))
        .multiplex(libp2p::yamux::Config::default())
        .map(|(peer, connection), _| (peer, StreamMuxerBox::new(connection)))
        .boxed();
    let behaviour = Probe {
        pubsub: blossomsub::Behaviour::new(
            key.clone(),
            blossomsub::Params::default(),
            blossomsub::Thresholds::default(),
        ),
        identify: identify::Behaviour::new(&key.public(), "qnode-probe/1".into()),
    };
    Swarm::new(
        transport,
        behaviour,
        key.peer_id(),
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(Duration::from_secs(600)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a running original node: QNODE_ORIGINAL=/ip4/…/tcp/…/p2p/Qm…"]
async fn an_original_node_hears_and_is_heard_by_qnode() {
    let address: Multiaddr = std::env::var("QNODE_ORIGINAL")
        .expect("QNODE_ORIGINAL")
        .parse()
        .expect("a multiaddr");
    let network: u8 =
        std::env::var("QNODE_ORIGINAL_NETWORK").map_or(0, |n| n.parse().expect("a network byte"));
    let original = qnode_p2p::bootstrap_peer(&address).expect("ends with /p2p/…");
    let key = Arc::new(NodeKey::generate(KeyType::Ed448).expect("key"));
    let mut swarm = swarm(key);
    let bitmask = qnode_p2p::bitmask_for(network, &[0xff; 32]);
    swarm.behaviour_mut().pubsub.subscribe(&bitmask);
    swarm.dial(address).expect("dial");
    let (mut identified, mut report) = (None, None);
    let outcome = tokio::time::timeout(Duration::from_secs(300), async {
        while identified.is_none() || report.is_none() {
            match swarm.select_next_some().await {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                    println!("connected to {peer_id} over qnode's Noise");
                }
                SwarmEvent::Behaviour(ProbeEvent::Identify(identify::Event::Received {
                    peer_id,
                    info,
                })) if peer_id == original => {
                    println!("identified: {} {:?}", info.agent_version, info.protocols);
                    identified = Some(info);
                }
                SwarmEvent::Behaviour(ProbeEvent::Pubsub(blossomsub::Event::Message {
                    message_id,
                    author,
                    message,
                    ..
                })) => {
                    println!(
                        "message {message_id} by {author}, {} bytes",
                        message.data.len()
                    );
                    swarm
                        .behaviour_mut()
                        .pubsub
                        .report_validation(&message_id, blossomsub::Acceptance::Ignore);
                    report = Some((author, message));
                }
                SwarmEvent::ConnectionClosed { cause, .. } => {
                    panic!("the original closed the connection: {cause:?}")
                }
                _ => {}
            }
        }
    })
    .await;
    assert!(outcome.is_ok(), "no identify or report within 5 minutes");
    let info = identified.expect("identified");
    assert_eq!(info.public_key.to_peer_id(), original);
    assert!(info
        .protocols
        .iter()
        .any(|p| p == blossomsub::PROTOCOL.as_ref()));
    let (author, message) = report.expect("a report");
    assert_eq!(author, original);
    assert_eq!(message.bitmask, bitmask);
}
