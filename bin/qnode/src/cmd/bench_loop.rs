//! `qnode bench loop`: the real proof loop against stub workers that stand in for the
//! VDFs by waiting, so what is measured is everything an increment costs besides the VDFs
//! themselves. The critical path (from the last answer to the next challenge: digests and
//! commitment) is what delays the next increment; the opening and the store run while the
//! workers prove. The old, sequential loop paid for all of it between increments.

use anyhow::{Context, Result};
use qnode_kzg::{Scalar, Setup};
use qnode_protocol::pb::data::data_ipc_service_server::{DataIpcService, DataIpcServiceServer};
use qnode_protocol::pb::data::{ChallengeProofRequest, ChallengeProofResponse};
use qnode_prover::proof_loop::ProofLoop;
use qnode_store::Store;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// How long a stub worker takes to "prove": long enough for the previous increment's
/// opening and store to finish meanwhile, as they do behind real VDFs.
const STUB_PROOF_TIME: Duration = Duration::from_millis(150);

/// Answers every request after `STUB_PROOF_TIME` with an output derived from the request,
/// so digests differ per core and increment without any VDF work.
struct StubWorker;

#[tonic::async_trait]
impl DataIpcService for StubWorker {
    async fn calculate_challenge_proof(
        &self,
        request: Request<ChallengeProofRequest>,
    ) -> Result<Response<ChallengeProofResponse>, Status> {
        let r = request.into_inner();
        tokio::time::sleep(STUB_PROOF_TIME).await;
        let mut output = vec![0u8; qnode_vdf::OUTPUT_BYTES];
        output[..4].copy_from_slice(&r.core.to_be_bytes());
        output[4..8].copy_from_slice(&r.increment.to_be_bytes());
        Ok(Response::new(ChallengeProofResponse { output }))
    }
}

fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Serves [`StubWorker`] on a port the OS picks; its endpoint.
async fn serve_stub_worker() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DataIpcServiceServer::new(StubWorker))
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            ),
    );
    Ok(endpoint)
}

pub fn run(increments: u32) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let endpoint = serve_stub_worker().await?;
        eprintln!("generating a 128-power setup for the bench…");
        let setup = Arc::new(Setup::from_secret(&Scalar::random()?, 128)?);
        outln!(
            "proof-loop cost per increment beyond the VDFs (stub workers), mean of \
             {increments} increments, in ms"
        );
        outln!(
            "{:>12}{:>15}{:>11}{:>9}{:>8}{:>18}{:>11}",
            "parallelism",
            "critical path",
            "gRPC",
            "open",
            "store",
            "old loop total",
            "RSS (MiB)"
        );
        for parallelism in [1usize, 16, 128] {
            let dir = tempfile::tempdir()?;
            let store = Arc::new(Store::open_in(dir.path())?);
            let metrics = Arc::new(qnode_metrics::Metrics::new()?);
            let (reports, mut rx) = tokio::sync::mpsc::channel(1024);
            tokio::spawn(async move { while rx.recv().await.is_some() {} });
            let proof_loop = ProofLoop {
                store: store.clone(),
                setup: setup.clone(),
                workers: qnode_services::data_workers::clients(&vec![
                    endpoint.clone();
                    parallelism
                ])?,
                supervisor: None,
                peer_id: vec![7; 32],
                genesis_output: vec![0; qnode_vdf::OUTPUT_BYTES],
                difficulty_divisor: 1,
                report_template: Default::default(),
                reports,
                call_timeout: Duration::from_secs(30),
                min_increment: Duration::ZERO,
                metrics: metrics.clone(),
            };
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let task = tokio::spawn(proof_loop.run(stopped));
            // Increment n is stored once n + 1 is committed: wait for `increments` records.
            while store
                .latest_data_time_proof(&[7; 32])?
                .map_or(0, |l| l.increment + 1)
                < increments
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let _ = stop.send(true);
            task.await.context("proof loop task")??;
            let mean_ms = |part: &str| {
                let h = metrics.increment_seconds.with_label_values(&[part]);
                h.get_sample_sum() * 1000.0 / h.get_sample_count().max(1) as f64
            };
            let round_trip = (mean_ms("workers") - STUB_PROOF_TIME.as_secs_f64() * 1000.0).max(0.0);
            let [critical, open, store] = ["critical_path", "open", "store"].map(mean_ms);
            outln!(
                "{parallelism:>12}{critical:>15.1}{round_trip:>11.1}{open:>9.1}{store:>8.1}{:>18.1}{:>11.1}",
                round_trip + critical + open + store,
                resident_kib() as f64 / 1024.0
            );
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
