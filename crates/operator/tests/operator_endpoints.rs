//! The operator's listeners under hostile clients, served by their real `serve` functions
//! on 127.0.0.1: idle connections neither starve `/healthz` nor stay open, and the node API
//! bounds its requests, its answers and its connections.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_metrics::Metrics;
use qnode_operator::connection_limits::ConnectionLimits;
use qnode_operator::health::HealthRules;
use qnode_operator::recent_warnings::RecentWarnings;
use qnode_operator::status::StatusSource;
use qnode_operator::{http, node_api};
use qnode_p2p::{DirectHandler, DirectKind, KeyType, Network, NetworkConfig, NodeKey, PeerId};
use qnode_protocol::frame::DEFAULT_FILTER;
use qnode_protocol::pb::node::node_service_client::NodeServiceClient;
use qnode_protocol::pb::node::{GetFramesRequest, GetNodeInfoRequest};
use qnode_services::context::ServiceContext;
use qnode_services::master_time_reel::{Genesis, MasterTimeReel};
use qnode_services::peer_info_manager::PeerInfoManager;
use qnode_store::Store;
use qnode_tasks::Services;
use qnode_tasks::TaskBoard;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Mutex};

struct Nothing;
impl DirectHandler for Nothing {
    fn handle(&self, _: PeerId, _: DirectKind, _: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

async fn context(dir: &std::path::Path) -> Arc<ServiceContext> {
    let store = Arc::new(Store::open_in(dir).unwrap());
    let genesis = Genesis {
        seed: b"endpoints".to_vec(),
        difficulty: 10,
    };
    let reel = MasterTimeReel::start(store.clone(), &DEFAULT_FILTER, &genesis).unwrap();
    let key = NodeKey::generate(KeyType::Ed448).unwrap();
    let own = key.peer_id();
    let listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    let (network, _events) = Network::start(
        key,
        NetworkConfig::new(listen, Arc::new(Nothing)),
        &Services::without_shutdown(),
    )
    .await
    .unwrap();
    Arc::new(ServiceContext {
        network,
        peers: Arc::new(PeerInfoManager::new()),
        reel: Arc::new(Mutex::new(reel)),
        store,
        filter: DEFAULT_FILTER.to_vec(),
        master_difficulty: 10,
        difficulty_divisor: 20_000,
        own,
        metrics: Arc::new(Metrics::new().unwrap()),
    })
}

/// `count` connections that never send a byte.
async fn idle_connections(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut idle = Vec::with_capacity(count);
    for _ in 0..count {
        idle.push(TcpStream::connect(address).await.unwrap());
    }
    idle
}

/// Whether the server has closed each connection (reading past what it sent, such as an
/// HTTP/2 server's settings), looking for at most `within`.
async fn closed(streams: &mut [TcpStream], within: Duration) -> Vec<bool> {
    futures::future::join_all(streams.iter_mut().map(|s| async move {
        let mut buf = [0u8; 256];
        let until_end = async {
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        };
        tokio::time::timeout(within, until_end).await.is_ok()
    }))
    .await
}

/// GET `path` on a new connection: the status code and the body.
async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: qnode\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let code = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1.to_string();
    (code, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http_connections_neither_starve_healthz_nor_stay_open() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let source = Arc::new(StatusSource {
        ctx,
        listen: Vec::new(),
        http_address: None,
        api_address: None,
        rules: HealthRules {
            workers_window: Duration::from_secs(10),
            head_window: Duration::from_secs(10),
            alone_ok: true,
            min_free_bytes: 0,
        },
        supervisor: None,
        workers: 1,
        warnings: Arc::new(RecentWarnings::default()),
        tasks: TaskBoard::default(),
        history: std::sync::Mutex::new(Default::default()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let limits = ConnectionLimits {
        max_connections: 256,
        idle_timeout: Duration::from_secs(3),
    };
    let server = tokio::spawn(http::serve_with(listener, source, stopped, limits));

    let opened = Instant::now();
    let mut idle = idle_connections(address, 300).await;
    let asked = Instant::now();
    let (code, body) = tokio::time::timeout(Duration::from_secs(2), get(address, "/healthz"))
        .await
        .expect("/healthz answers within 2 s despite 300 idle connections");
    assert_eq!(code, 200);
    assert!(body.contains("\"up\""), "{body}");
    let answered_in = asked.elapsed();

    // 301 connections for 256 places: the 45 idle longest (the first opened) were closed
    // to make room, and only those.
    let early = closed(&mut idle, Duration::from_millis(300)).await;
    let evicted = 300 + 1 - limits.max_connections;
    assert_eq!(
        early.iter().position(|c| !c),
        Some(evicted),
        "closed to make room: {:?}",
        early.iter().filter(|c| **c).count()
    );
    if opened.elapsed() < limits.idle_timeout - Duration::from_millis(500) {
        assert!(
            early[evicted..].iter().all(|c| !c),
            "only the evicted ones are closed before the idle timeout"
        );
    }

    // The rest are closed once idle for the timeout.
    let rest = &mut idle[evicted..];
    let left = (limits.idle_timeout + Duration::from_secs(3)).saturating_sub(opened.elapsed());
    let late = closed(rest, left).await;
    assert!(late.iter().all(|c| *c), "every idle connection is closed");
    assert!(opened.elapsed() >= limits.idle_timeout);

    let (code, _) = get(address, "/healthz").await;
    assert_eq!(code, 200);
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the endpoint stops")
        .unwrap()
        .expect("served without an error");
    eprintln!("/healthz answered in {answered_in:?} beside 300 idle connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_api_bounds_requests_answers_and_connections() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let limits = ConnectionLimits {
        max_connections: 16,
        idle_timeout: Duration::from_secs(3),
    };
    let server = tokio::spawn(node_api::serve_with(listener, ctx.clone(), stopped, limits));

    let mut idle = idle_connections(address, 40).await;
    let call = async {
        let mut api = NodeServiceClient::connect(format!("http://{address}"))
            .await
            .unwrap();
        let info = api
            .get_node_info(GetNodeInfoRequest {})
            .await
            .unwrap()
            .into_inner();
        (api, info)
    };
    let (mut api, info) = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the node API answers despite 40 idle connections");
    assert_eq!(info.peer_id, ctx.own.to_base58());
    let early = closed(&mut idle, Duration::from_millis(300)).await;
    assert!(
        early.iter().filter(|c| **c).count() >= 40 + 1 - limits.max_connections,
        "room was made by closing idle connections"
    );

    let frames = |filter: Vec<u8>| GetFramesRequest {
        filter,
        from_frame_number: 0,
        to_frame_number: 1,
        include_candidates: false,
    };
    // A filter of 60 000 bytes is refused as unknown, quoted at most 200 characters.
    let status = api
        .get_frames(frames(vec![0xab; 60_000]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert!(status.message().len() < 400, "{}", status.message().len());
    assert!(
        status.message().starts_with(&format!(
            "no clock with filter {}… (60000 bytes)",
            "ab".repeat(100)
        )),
        "{}",
        status.message()
    );
    // A request of a megabyte is refused before it is decoded, with a status (not a
    // dropped connection) ...
    let status = api
        .get_frames(frames(vec![0xab; 1 << 20]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert!(status.message().len() < 400, "{}", status.message().len());
    // ... and the connection goes on serving.
    let genesis = api
        .get_frames(frames(Vec::new()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(genesis.truncated_clock_frames.len(), 1);

    let _ = stop.send(true);
    drop(api);
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the node API stops")
        .unwrap()
        .expect("served without an error");
}
