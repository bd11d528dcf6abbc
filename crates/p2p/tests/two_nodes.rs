//! Two real swarms on 127.0.0.1: identity persistence, gossip on a filter's topic, and the
//! 1 MiB validation echo.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_p2p::{load_or_create_identity, Event, Keypair, Network, MAX_VALIDATION_BYTES};
use std::time::{Duration, Instant};
use tokio::time::timeout;

const FILTER: &[u8] = &[0xff; 32];

async fn node() -> (
    Network,
    tokio::sync::mpsc::Receiver<Event>,
    qnode_p2p::Multiaddr,
) {
    let key = Keypair::generate_ed25519();
    Network::start(key, "/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .await
        .unwrap()
}

#[test]
fn the_identity_is_created_once_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let first = load_or_create_identity(dir.path()).unwrap();
    let again = load_or_create_identity(dir.path()).unwrap();
    assert_eq!(first.public().to_peer_id(), again.public().to_peer_id());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join(qnode_p2p::IDENTITY_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_reaches_the_other_node_and_validation_echoes() {
    let (a, _a_events, a_addr) = node().await;
    let (b, mut b_events, _) = node().await;
    a.subscribe(FILTER).await.unwrap();
    b.subscribe(FILTER).await.unwrap();
    b.dial(a_addr).await.unwrap();

    // Publishing fails until the peers know each other's subscriptions; retry briefly.
    let deadline = Instant::now() + Duration::from_secs(20);
    let received = loop {
        assert!(Instant::now() < deadline, "gossip never arrived");
        let _ = a.publish(FILTER, b"a frame".to_vec()).await;
        match timeout(Duration::from_millis(500), b_events.recv()).await {
            Ok(Some(Event::Gossip { from, data })) => break (from, data),
            _ => continue,
        }
    };
    assert_eq!(received, (a.local_peer_id(), b"a frame".to_vec()));

    let payload: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let started = Instant::now();
    let echo = b
        .validate(a.local_peer_id(), payload.clone())
        .await
        .unwrap();
    let millis = started.elapsed().as_millis().max(1);
    assert_eq!(echo, payload);
    eprintln!(
        "1 MiB echo in {millis} ms = {} bytes/s",
        1_048_576 * 1000 / millis
    );

    let too_big = vec![0u8; MAX_VALIDATION_BYTES + 1];
    assert!(b.validate(a.local_peer_id(), too_big).await.is_err());
}
