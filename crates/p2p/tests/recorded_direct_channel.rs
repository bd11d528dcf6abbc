//! The original's `ValidationService` exchanges (recorded from running originals:
//! `recorded/validation.json`, `perform_validation.pb`) replayed through qnode's direct
//! channel, gRPC over a libp2p stream on `/p2p/direct-channel/<peer id>validation`: the
//! behind node's `Sync` request reaches the server byte for byte and the original's first
//! batch comes back byte for byte; the 1 MiB bandwidth message is echoed whole.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_p2p::{DirectHandler, DirectKind, KeyType, Network, NetworkConfig, NodeKey, PeerId};
use qnode_tasks::Services;
use qnode_test_vectors::{recorded_perform_validation, recorded_sync};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Answers as the recorded original did, and keeps what it was asked.
struct RecordedOriginal {
    sync_request: Vec<u8>,
    first_batch: Vec<u8>,
    asked: Mutex<Vec<Vec<u8>>>,
}

impl DirectHandler for RecordedOriginal {
    fn handle(&self, _: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>> {
        self.asked.lock().unwrap().push(body.to_vec());
        match kind {
            DirectKind::Validation => Some(body.to_vec()),
            DirectKind::Sync => (body == self.sync_request).then(|| self.first_batch.clone()),
        }
    }
}

async fn node(handler: Arc<dyn DirectHandler>) -> Network {
    let listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    let config = NetworkConfig::new(listen, handler);
    let key = NodeKey::generate(KeyType::Ed448).unwrap();
    Network::start(key, config, &Services::without_shutdown())
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_originals_exchanges_cross_the_direct_channel_byte_for_byte() {
    let recorded = recorded_sync();
    let original = Arc::new(RecordedOriginal {
        sync_request: recorded.request,
        first_batch: recorded.responses[0].clone(),
        asked: Mutex::default(),
    });
    let server = node(original.clone()).await;
    let client = node(Arc::new(RecordedOriginal {
        sync_request: Vec::new(),
        first_batch: Vec::new(),
        asked: Mutex::default(),
    }))
    .await;
    let address = server.listening()[0].clone();
    client.dial(address).await.unwrap();

    let message = recorded_perform_validation();
    let peer = server.local_peer_id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let echo = loop {
        match client
            .request(peer, DirectKind::Validation, message.clone())
            .await
        {
            Ok(echo) => break echo,
            Err(e) => assert!(Instant::now() < deadline, "no echo: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(echo, message, "the 1 MiB message echoed whole");

    let batch = client
        .request(peer, DirectKind::Sync, original.sync_request.clone())
        .await
        .unwrap();
    assert_eq!(batch, original.first_batch, "the original's first batch");
    let asked = original.asked.lock().unwrap();
    assert_eq!(asked.last().unwrap(), &original.sync_request);
}
