//! Real swarms on 127.0.0.1 with Ed448 and Ed25519 identities side by side: gossip on a
//! filter's bitmask (forwarded only when accepted), the 1 MiB direct echo over TCP and
//! QUIC, discovery through a bootstrap peer, scores, networks kept apart, BlossomSub's
//! count of the copies received, and the peer target applied as connections are made.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use prost::Message;
use qnode_p2p::{
    DirectHandler, DirectKind, Event, KeyType, Multiaddr, Network, NetworkConfig, NodeKey, PeerId,
    Verdict, MAX_VALIDATION_BYTES,
};
use qnode_protocol::pb::clock::{ClockFramesRequest, ClockFramesResponse};
use qnode_protocol::pb::node::{SyncRequest, SyncResponse, ValidationMessage};
use qnode_tasks::Services;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Receiver;
use tokio::time::timeout;

const FILTER: &[u8] = &[0xff; 32];

/// Echoes validation requests; answers a sync request with a batch that starts where it
/// asked.
struct Echo;

impl DirectHandler for Echo {
    fn handle(&self, _: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>> {
        match kind {
            DirectKind::Validation => Some(body.to_vec()),
            DirectKind::Sync => {
                let asked = SyncRequest::decode(body).ok()?.frames_request?;
                let batch = SyncResponse {
                    frames_response: Some(ClockFramesResponse {
                        from_frame_number: asked.from_frame_number,
                        ..Default::default()
                    }),
                };
                Some(batch.encode_to_vec())
            }
        }
    }
}

fn sync_from(frame: u64) -> Vec<u8> {
    let asked = ClockFramesRequest {
        from_frame_number: frame,
        ..Default::default()
    };
    SyncRequest {
        frames_request: Some(asked),
    }
    .encode_to_vec()
}

async fn node(bootstrap: Vec<Multiaddr>) -> (Network, Receiver<Event>) {
    node_of(0, bootstrap).await
}

async fn node_of(network: u8, bootstrap: Vec<Multiaddr>) -> (Network, Receiver<Event>) {
    node_configured(bootstrap, KeyType::Ed448, |config| config.network = network).await
}

async fn node_with(key_type: KeyType, bootstrap: Vec<Multiaddr>) -> (Network, Receiver<Event>) {
    node_configured(bootstrap, key_type, |_| {}).await
}

/// A node listening on TCP and QUIC (an Ed448 node skips QUIC).
async fn node_configured(
    bootstrap: Vec<Multiaddr>,
    key_type: KeyType,
    configure: impl FnOnce(&mut NetworkConfig),
) -> (Network, Receiver<Event>) {
    let listen = vec![
        "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        "/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap(),
    ];
    let mut config = NetworkConfig::new(listen, Arc::new(Echo));
    config.bootstrap = bootstrap;
    configure(&mut config);
    Network::start(
        NodeKey::generate(key_type).unwrap(),
        config,
        &Services::without_shutdown(),
    )
    .await
    .unwrap()
}

/// Waits until `node` is connected to `peer`.
async fn wait_for_connection(node: &Network, peer: PeerId) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node
        .connected()
        .await
        .unwrap()
        .iter()
        .any(|c| c.peer == peer)
    {
        assert!(Instant::now() < deadline, "never connected to {peer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn address(network: &Network, quic: bool) -> Multiaddr {
    let address = network
        .listening()
        .iter()
        .find(|a| a.to_string().contains("quic") == quic)
        .unwrap()
        .clone();
    address.with_p2p(network.local_peer_id()).unwrap()
}

/// The next gossip message, skipping connection events.
async fn next_gossip(
    events: &mut Receiver<Event>,
    wait: Duration,
) -> Option<qnode_p2p::GossipMessage> {
    let deadline = Instant::now() + wait;
    while let Ok(Some(event)) = timeout(
        deadline.saturating_duration_since(Instant::now()),
        events.recv(),
    )
    .await
    {
        if let Event::Gossip(m) = event {
            return Some(m);
        }
    }
    None
}

/// Waits until `node`'s mesh for the filter holds every one of `peers`.
async fn wait_for_mesh(node: &Network, peers: &[PeerId]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mesh = node.mesh_peers(FILTER).await.unwrap();
        if peers.iter().all(|p| mesh.contains(p)) {
            return;
        }
        assert!(Instant::now() < deadline, "mesh never formed: {mesh:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_is_forwarded_once_accepted_and_the_direct_channel_echoes() {
    // An Ed25519 node between Ed448 ones: both identities connect, sign and relay.
    let (a, _a_events) = node_with(KeyType::Ed25519, vec![]).await;
    let (b, mut b_events) = node_with(KeyType::Ed448, vec![address(&a, false)]).await;
    let (c, mut c_events) = node_with(KeyType::Ed448, vec![address(&b, false)]).await;
    assert!(a.local_peer_id().to_base58().starts_with("12D3KooW"));
    assert!(b.local_peer_id().to_base58().starts_with("Qm"));
    for n in [&a, &b, &c] {
        n.subscribe(FILTER).await.unwrap();
    }

    // C knows only B. B forwards an accepted message at once only to its mesh peers, and
    // A can publish only once it knows B's subscription: wait for that state, not a time.
    wait_for_mesh(&a, &[b.local_peer_id()]).await;
    wait_for_mesh(&b, &[a.local_peer_id(), c.local_peer_id()]).await;
    a.publish(FILTER, b"a frame".to_vec()).await.unwrap();
    let at_b = next_gossip(&mut b_events, Duration::from_secs(10))
        .await
        .expect("B hears A's frame");
    assert_eq!(
        (at_b.author, at_b.data.as_slice()),
        (a.local_peer_id(), &b"a frame"[..])
    );
    b.judge(at_b, Verdict::Accept).await;
    let at_c = next_gossip(&mut c_events, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        at_c.author,
        a.local_peer_id(),
        "the author survives relaying"
    );

    the_direct_channel_echoes_and_syncs(&a, &b).await;

    b.set_score(a.local_peer_id(), -1000.0).await;
    let scores = b.scores().await.unwrap();
    let of_a = scores
        .iter()
        .find(|(p, _)| *p == a.local_peer_id())
        .unwrap()
        .1;
    assert!(
        of_a <= -10_000.0,
        "the app score enters with weight 10: {of_a}"
    );
}

/// The 1 MiB echo from a new node over TCP and over QUIC, a sync batch, and a request too
/// large refused, all asked of `a` (`b` is connected to it).
async fn the_direct_channel_echoes_and_syncs(a: &Network, b: &Network) {
    let validation: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let payload = ValidationMessage { validation }.encode_to_vec();
    // QUIC needs an Ed25519 identity on both sides (rust-libp2p's TLS).
    let paths = [
        ("tcp", address(a, false), KeyType::Ed448),
        ("quic", address(a, true), KeyType::Ed25519),
    ];
    for (name, target, key_type) in paths {
        let (d, _d_events) = node_with(key_type, vec![]).await;
        d.dial(target).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let echo = loop {
            match d
                .request(a.local_peer_id(), DirectKind::Validation, payload.clone())
                .await
            {
                Ok(echo) => break echo,
                Err(e) => assert!(Instant::now() < deadline, "{name}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(echo, payload, "{name}");
    }
    let sync = b
        .request(a.local_peer_id(), DirectKind::Sync, sync_from(7))
        .await
        .unwrap();
    let batch = SyncResponse::decode(sync.as_slice()).unwrap();
    assert_eq!(batch.frames_response.unwrap().from_frame_number, 7);

    let too_big = vec![0u8; MAX_VALIDATION_BYTES + 1];
    assert!(b
        .request(a.local_peer_id(), DirectKind::Validation, too_big)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_over_its_direct_rate_is_not_answered() {
    let (a, _a_events) = node(vec![]).await;
    let (b, _b_events) = node(vec![address(&a, false)]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while b
        .request(a.local_peer_id(), DirectKind::Sync, vec![])
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "never connected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The default burst is 8: a quick series runs out and then goes unanswered.
    let mut refused = 0;
    for _ in 0..12 {
        if b.request(a.local_peer_id(), DirectKind::Sync, vec![])
            .await
            .is_err()
        {
            refused += 1;
        }
    }
    assert!(refused >= 3, "only {refused} of 12 quick requests refused");
}

/// Every event that arrives within `wait`.
async fn events_within(events: &mut Receiver<Event>, wait: Duration) -> Vec<Event> {
    let deadline = Instant::now() + wait;
    let mut seen = Vec::new();
    while let Ok(Some(event)) = timeout(
        deadline.saturating_duration_since(Instant::now()),
        events.recv(),
    )
    .await
    {
        seen.push(event);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_of_two_networks_share_no_peer_gossip_or_request() {
    let (hub, mut hub_events) = node_of(1, vec![]).await;
    let (stranger, mut stranger_events) = node_of(2, vec![address(&hub, false)]).await;
    let (fellow, mut fellow_events) = node_of(1, vec![address(&hub, false)]).await;
    for n in [&hub, &stranger, &fellow] {
        n.subscribe(FILTER).await.unwrap();
    }
    // The fellow on the hub's network is its peer; gossip reaches it.
    wait_for_mesh(&hub, &[fellow.local_peer_id()]).await;
    hub.publish(FILTER, b"network one".to_vec()).await.unwrap();
    let heard = next_gossip(&mut fellow_events, Duration::from_secs(10)).await;
    assert_eq!(heard.unwrap().data, b"network one");

    // The stranger dialled the hub first, yet neither ever reported the other, it heard
    // nothing, its requests fail, and it dropped the hub as a bootstrap peer.
    let request = stranger
        .request(hub.local_peer_id(), DirectKind::Validation, vec![1])
        .await;
    assert!(request.is_err(), "a request crossed networks");
    // All either side heard of the other: that it is foreign (the stranger dropped the hub).
    let later = events_within(&mut stranger_events, Duration::from_secs(7)).await;
    let hub_id = hub.local_peer_id();
    let foreign = |e: &Event, id| matches!(e, Event::Foreign(p) if *p == id);
    assert!(later.iter().any(|e| foreign(e, hub_id)), "{later:?}");
    assert!(
        later.iter().all(|e| foreign(e, hub_id)),
        "the stranger heard {later:?}"
    );
    let hub_saw = events_within(&mut hub_events, Duration::ZERO).await;
    let stranger_id = stranger.local_peer_id();
    assert!(
        !hub_saw
            .iter()
            .any(|e| matches!(e, Event::Connected(p) if *p == stranger_id)),
        "{hub_saw:?}"
    );
    // Two redial periods have passed: a dropped bootstrap peer stays unconnected.
    let open = stranger.connected().await.unwrap();
    assert!(open.is_empty(), "the stranger is still connected: {open:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_receipts_count_every_copy_and_each_message_once() {
    let (a, _a_events) = node(vec![]).await;
    let (b, mut b_events) = node(vec![address(&a, false)]).await;
    let (c, mut c_events) = node(vec![address(&a, false), address(&b, false)]).await;
    for n in [&a, &b, &c] {
        n.subscribe(FILTER).await.unwrap();
    }
    let ids = [a.local_peer_id(), b.local_peer_id(), c.local_peer_id()];
    wait_for_mesh(&a, &[ids[1], ids[2]]).await;
    wait_for_mesh(&b, &[ids[0], ids[2]]).await;
    wait_for_mesh(&c, &[ids[0], ids[1]]).await;
    a.publish(FILTER, b"one frame".to_vec()).await.unwrap();
    let at_b = next_gossip(&mut b_events, Duration::from_secs(10))
        .await
        .unwrap();
    next_gossip(&mut c_events, Duration::from_secs(10))
        .await
        .unwrap();
    // B accepts and forwards to C, which already has A's copy: C counts two copies of one
    // message. C has not accepted it, so B has only A's.
    b.judge(at_b, Verdict::Accept).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let receipts = |copies| qnode_p2p::GossipReceipts { copies, unique: 1 };
    while c.gossip_receipts() != receipts(2) {
        assert!(Instant::now() < deadline, "C {:?}", c.gossip_receipts());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b.gossip_receipts(), receipts(1));
    assert_eq!(a.gossip_receipts().unique, 0, "the author receives nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_at_its_peer_target_dials_no_one_new_but_is_still_reachable() {
    let (hub, _hub_events) = node(vec![]).await;
    let (full, _full_events) = node_configured(vec![address(&hub, false)], KeyType::Ed448, |c| {
        c.peer_target = 1
    })
    .await;
    let (other, _other_events) = node(vec![]).await;
    wait_for_connection(&full, hub.local_peer_id()).await;

    // With its one peer, it opens no connection, even when told to.
    let refused = full.dial(address(&other, false)).await.unwrap_err();
    let causes: Vec<String> =
        std::iter::successors(Some(&refused as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect();
    assert!(causes.iter().any(|c| c.contains("target")), "{causes:?}");
    let answer = full
        .request(other.local_peer_id(), DirectKind::Sync, sync_from(0))
        .await;
    assert!(
        matches!(answer, Err(qnode_p2p::NetworkError::NotConnected)),
        "{answer:?}"
    );

    // A peer that dials it is accepted (up to its ceiling) and answered.
    other.dial(address(&full, false)).await.unwrap();
    wait_for_connection(&full, other.local_peer_id()).await;
    let message = ValidationMessage {
        validation: vec![7],
    }
    .encode_to_vec();
    let echo = other
        .request(
            full.local_peer_id(),
            DirectKind::Validation,
            message.clone(),
        )
        .await
        .unwrap();
    assert_eq!(echo, message);
}

/// The swarm is a supervised task: on the board while its handle lives, closed with its
/// last handle without stopping the others, and cut when its tasks finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_swarm_runs_under_the_supervisor_and_closes_with_its_last_handle() {
    let tasks = Services::without_shutdown();
    let listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    let config = NetworkConfig::new(listen, Arc::new(Echo));
    let key = NodeKey::generate(KeyType::Ed448).unwrap();
    let (network, _events) = Network::start(key, config, &tasks).await.unwrap();
    let swarm = |tasks: &Services| tasks.board().list().into_iter().find(|t| t.name == "swarm");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !swarm(&tasks).is_some_and(|t| t.running) {
        assert!(Instant::now() < deadline, "the swarm is not a running task");
        tokio::task::yield_now().await;
    }
    let port = network.listening().iter().find_map(|a| {
        a.iter().find_map(|p| match p {
            qnode_p2p::multiaddr::Protocol::Tcp(port) => Some(port),
            _ => None,
        })
    });
    let port = port.expect("a TCP listener");
    drop(network);
    // The swarm is gone once its listener refuses connections.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the swarm outlived its last handle"
        );
        tokio::task::yield_now().await;
    }
    // Its owner closed it: not a failure, so nothing stops (a failure would stop them
    // within microseconds; half a second is ample and never makes a correct run fail).
    let mut stop = tasks.stop_signal();
    let stopped = timeout(Duration::from_millis(500), stop.wait_for(|s| *s)).await;
    assert!(stopped.is_err(), "a closed swarm stopped the tasks");
    assert_eq!(swarm(&tasks).and_then(|t| t.last_failure), None);
    assert!(tasks.finish().await.is_ok());
}
