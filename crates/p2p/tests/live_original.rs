//! Against a running original node (ignored unless asked for; CI has no original): set
//! `QNODE_ORIGINAL` to its TCP address (`/ip4/127.0.0.1/tcp/PORT/p2p/Qm…`) and
//! `QNODE_ORIGINAL_NETWORK` to its network, then
//! `cargo test -p qnode-p2p --test live_original -- --ignored --nocapture`.
//! It takes up to three of the original's report intervals (a report a minute or so).
//!
//! An Ed448 qnode identity connects over qnode's Noise, identifies the original (and is
//! identified), subscribes to the master bitmask and:
//! 1. receives the original's next self-test report in the mesh, StrictSign checked;
//! 2. leaves the original's mesh (PRUNE) but stays subscribed: the original's gossip to it
//!    fails (its IHAVE cannot carry binary message ids), so it resets its stream and sends
//!    its hello again instead of an IHAVE (`docs/interop.md`);
//! 3. as a second identity in the original's mesh, publishes a report the original must
//!    refuse (a proof of the wrong length), for which it scores that identity −1000 and
//!    prunes it from its mesh at its next heartbeat (the original's PRUNE).

use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm};
use qnode_blossomsub as blossomsub;
use qnode_identity::{KeyType, NodeKey};
use qnode_p2p::identify;
use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::pb::node::SelfTestReport;
use std::sync::Arc;
use std::time::Duration;

#[derive(NetworkBehaviour)]
struct Probe {
    pubsub: blossomsub::Behaviour,
    identify: identify::Behaviour,
}

/// Backoffs long enough that the probe stays out of the original's mesh for a report or
/// two once it left it.
fn params() -> blossomsub::Params {
    blossomsub::Params {
        prune_backoff: Duration::from_secs(600),
        unsubscribe_backoff: Duration::from_secs(600),
        ..blossomsub::Params::default()
    }
}

fn swarm(key: Arc<NodeKey>) -> Swarm<Probe> {
    let transport = qnode_p2p::transport(&key);
    let behaviour = Probe {
        pubsub: blossomsub::Behaviour::new(
            key.clone(),
            params(),
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

/// Runs the swarm until `done` gives a value, or panics after `within`.
async fn until<T>(
    swarm: &mut Swarm<Probe>,
    within: Duration,
    what: &str,
    mut done: impl FnMut(&mut Swarm<Probe>, SwarmEvent<ProbeEvent>) -> Option<T>,
) -> T {
    let run = async {
        loop {
            let event = swarm.select_next_some().await;
            if let SwarmEvent::ConnectionClosed { cause, .. } = &event {
                println!("connection closed: {cause:?}");
            }
            if let Some(value) = done(swarm, event) {
                return value;
            }
        }
    };
    match tokio::time::timeout(within, run).await {
        Ok(value) => value,
        Err(_) => panic!("no {what} within {within:?}"),
    }
}

/// Runs the swarm for `time`.
async fn run_for(swarm: &mut Swarm<Probe>, time: Duration) {
    let _ = tokio::time::timeout(time, async {
        loop {
            swarm.select_next_some().await;
        }
    })
    .await;
}

/// A probe with a new Ed448 identity, subscribed to `bitmask`, dialling `address`.
fn probe(address: &Multiaddr, bitmask: &[u8]) -> Swarm<Probe> {
    let key = Arc::new(NodeKey::generate(KeyType::Ed448).expect("key"));
    println!("probe {}", key.peer_id());
    let mut swarm = swarm(key);
    swarm.behaviour_mut().pubsub.subscribe(bitmask);
    swarm.dial(address.clone()).expect("dial");
    swarm
}

/// The next message of `author`, judged `Ignore` (the probe forwards nothing).
async fn next_message_of(swarm: &mut Swarm<Probe>, author: PeerId, what: &str) -> Vec<u8> {
    until(
        swarm,
        Duration::from_secs(240),
        what,
        |swarm, event| match event {
            SwarmEvent::Behaviour(ProbeEvent::Pubsub(blossomsub::Event::Message {
                message_id,
                author: from,
                message,
                ..
            })) => {
                swarm
                    .behaviour_mut()
                    .pubsub
                    .report_validation(&message_id, blossomsub::Acceptance::Ignore);
                (from == author).then_some(message.data)
            }
            _ => None,
        },
    )
    .await
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let original = qnode_p2p::bootstrap_peer(&address).expect("ends with /p2p/…");
    let bitmask = qnode_p2p::bitmask_for(network, &[0xff; 32]);
    let mut swarm = probe(&address, &bitmask);
    let info = until(
        &mut swarm,
        Duration::from_secs(30),
        "identify",
        |_, event| match event {
            SwarmEvent::Behaviour(ProbeEvent::Identify(identify::Event::Received {
                peer_id,
                info,
            })) if peer_id == original => Some(info),
            _ => None,
        },
    )
    .await;
    println!("identified {}: {:?}", info.agent_version, info.protocols);
    assert_eq!(info.public_key.to_peer_id(), original);
    assert!(info
        .protocols
        .iter()
        .any(|p| p == blossomsub::PROTOCOL.as_ref()));

    let report = next_message_of(&mut swarm, original, "report in the mesh").await;
    assert!(matches!(
        envelope::open(&report),
        Ok((_, Payload::SelfTestReport(_)))
    ));
    println!("1. a report in the mesh");

    leave_the_mesh_and_see_no_gossip(&mut swarm, original, &bitmask).await;
    drop(swarm);
    publish_a_refused_report(&address, original, &bitmask).await;
}

/// Step 2: out of the original's mesh but subscribed, nothing of it comes as gossip.
async fn leave_the_mesh_and_see_no_gossip(
    swarm: &mut Swarm<Probe>,
    original: PeerId,
    bitmask: &[u8],
) {
    // Leave the original's mesh, stay subscribed. Its next report reaches the probe only as
    // gossip, but the original's IHAVE carries the message id (from ‖ seqno, binary) in a
    // proto3 string, which protobuf-go refuses to marshal: the original resets its stream
    // instead and opens another (forgetting the probe's subscriptions, which the probe's
    // BlossomSub then sends again), so its hello comes again and no IHAVE ever does.
    swarm.behaviour_mut().pubsub.unsubscribe(bitmask);
    swarm.behaviour_mut().pubsub.subscribe(bitmask);
    let gossip = until(
        swarm,
        Duration::from_secs(240),
        "the original's stream renewed, or its report",
        |_, event| match event {
            SwarmEvent::Behaviour(ProbeEvent::Pubsub(blossomsub::Event::StreamRenewed {
                peer_id,
            })) if peer_id == original => Some(None),
            SwarmEvent::Behaviour(ProbeEvent::Pubsub(blossomsub::Event::Message {
                author,
                ..
            })) if author == original => Some(Some(author)),
            _ => None,
        },
    )
    .await;
    assert_eq!(gossip, None, "a report reached the probe outside the mesh");
    println!("2. outside the mesh: no IHAVE, the original's stream reset and its hello again");
}

/// Step 3: a second identity's refused report, and the original's PRUNE of it.
async fn publish_a_refused_report(address: &Multiaddr, original: PeerId, bitmask: &[u8]) {
    // A second identity, in the original's mesh once it hears a report there, publishes a
    // report the original refuses (a proof that is not 520 bytes): it scores the author
    // −1000 and prunes it from its mesh at its next heartbeat.
    let mut second = probe(address, bitmask);
    next_message_of(&mut second, original, "report in the second probe's mesh").await;
    let forged = SelfTestReport {
        proof: vec![0; 7],
        ..Default::default()
    };
    let data = envelope::seal(&[0xff; 32], &Payload::SelfTestReport(forged)).expect("seal");
    assert!(second.behaviour_mut().pubsub.publish(bitmask, data).is_ok());
    let pruned = tokio::time::timeout(Duration::from_secs(30), async {
        while second
            .behaviour()
            .pubsub
            .mesh_peers(bitmask)
            .any(|p| *p == original)
        {
            run_for(&mut second, Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(pruned.is_ok(), "the original kept the forger in its mesh");
    println!("3. a refused report published, and the original's PRUNE");
}
