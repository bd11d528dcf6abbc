//! The proof loop against a remote worker that answers, but wrongly (a proof of the wrong
//! length): it asks again after pauses that grow, never in a tight loop, and stores
//! nothing.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_kzg::{Scalar, Setup};
use qnode_metrics::Metrics;
use qnode_protocol::pb::data::data_ipc_service_client::DataIpcServiceClient;
use qnode_protocol::pb::data::data_ipc_service_server::{DataIpcService, DataIpcServiceServer};
use qnode_protocol::pb::data::{ChallengeProofRequest, ChallengeProofResponse};
use qnode_protocol::pb::node::SelfTestReport;
use qnode_prover::proof_loop::ProofLoop;
use qnode_store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tonic::{Request, Response, Status};

/// A worker that counts the calls it gets and answers each with 7 bytes.
struct Malformed {
    calls: Arc<AtomicUsize>,
}

#[tonic::async_trait]
impl DataIpcService for Malformed {
    async fn calculate_challenge_proof(
        &self,
        _: Request<ChallengeProofRequest>,
    ) -> Result<Response<ChallengeProofResponse>, Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(Response::new(ChallengeProofResponse { output: vec![0; 7] }))
    }
}

/// Serves [`Malformed`] on a port from the OS; its address.
async fn malformed_worker(calls: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DataIpcServiceServer::new(Malformed { calls }))
            .serve_with_incoming(incoming),
    );
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_answers_wrong_is_asked_again_after_growing_pauses() {
    let calls = Arc::new(AtomicUsize::new(0));
    let address = malformed_worker(calls.clone()).await;
    let worker = DataIpcServiceClient::connect(address).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open_in(dir.path()).unwrap());
    let (reports, _reports_rx) = mpsc::channel::<SelfTestReport>(8);
    let proof_loop = ProofLoop {
        store: store.clone(),
        setup: Arc::new(Setup::from_secret(&Scalar::from_u64(5), 128).unwrap()),
        workers: vec![worker],
        supervisor: None,
        peer_id: vec![1; 34],
        genesis_output: vec![2; 516],
        difficulty_divisor: 10_000,
        report_template: SelfTestReport::default(),
        reports,
        call_timeout: Duration::from_secs(30),
        metrics: Arc::new(Metrics::new().unwrap()),
        min_increment: Duration::ZERO,
    };
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(proof_loop.run(shutdown));

    // Pauses of 0.2, 0.4, 0.8, 1.6 s…: the fifth call comes 3 s after the first. Waiting
    // for it (and not for a time) keeps the test exact on a slow machine.
    let started = tokio::time::Instant::now();
    while calls.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker is asked again"
        );
    }
    let fifth = started.elapsed();
    assert!(
        fifth >= Duration::from_millis(2_900),
        "five calls in {fifth:?}: the pauses do not grow"
    );
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    assert!(store.latest_data_time_proof(&[1; 34]).unwrap().is_none());
}
