//! Service 1, the data worker: a gRPC server for `DataIPCService.CalculateChallengeProof`
//! that computes one core's VDF challenge proof per request. It runs as its own process,
//! one per core, and exits by itself when its parent (the node) is gone.

use qnode_protocol::limits::Kind;
use qnode_protocol::pb::data::data_ipc_service_server::{DataIpcService, DataIpcServiceServer};
use qnode_protocol::pb::data::{ChallengeProofRequest, ChallengeProofResponse};
use std::net::SocketAddr;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// The address of core `n`'s worker: 127.0.0.1, port `base_port + n` (the original used
/// 40000 + n, inside Linux's ephemeral range, where outgoing connections may take it first).
pub fn default_address(core: u32, base_port: u16) -> Result<SocketAddr, WorkerError> {
    let port = u16::try_from(u32::from(base_port) + core)
        .map_err(|_| WorkerError::Port { core, base_port })?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Why a worker could not serve.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Could not listen on the address.
    #[error(
        "cannot listen on {addr}: {source}. Another program (or another qnode) uses that port: \
         stop it or choose other ports with --worker-base-port"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system's error.
        source: std::io::Error,
    },
    /// base port + core does not fit a port number.
    #[error("core {core} has no port above base port {base_port}")]
    Port {
        /// The core.
        core: u32,
        /// The base port.
        base_port: u16,
    },
    /// The listener's own address could not be read.
    #[error("cannot read the worker's listening address: {0}")]
    Address(std::io::Error),
    /// The gRPC server failed.
    #[error("worker server: {0}")]
    Serve(#[source] tonic::transport::Error),
}

/// Proves challenges for one core, and refuses requests for any other (as the original's
/// worker does): the core is part of the challenge's seed, so a node that sends a worker
/// another core's request is misconfigured and would store a proof for the wrong core.
pub struct ChallengeProver {
    /// The core this worker proves for.
    pub core: u32,
    /// Devnet difficulty divisor (1 on a real network).
    pub difficulty_divisor: u32,
}

#[tonic::async_trait]
impl DataIpcService for ChallengeProver {
    async fn calculate_challenge_proof(
        &self,
        request: Request<ChallengeProofRequest>,
    ) -> Result<Response<ChallengeProofResponse>, Status> {
        let r = request.into_inner();
        if r.core != self.core {
            return Err(Status::invalid_argument(format!(
                "this worker proves for core {}, not core {}; check the node's worker \
                 addresses (worker-addr lists them in core order)",
                self.core, r.core
            )));
        }
        if r.challenge.len() > Kind::ChallengeProof.max_bytes() {
            return Err(Status::invalid_argument("challenge too large"));
        }
        let difficulty =
            qnode_vdf::scaled_challenge_difficulty(r.increment, self.difficulty_divisor);
        let seed = qnode_vdf::challenge_seed(&r.challenge, r.core);
        // The proof is the answer, so it runs at the worker's own priority: the node
        // starts its local workers niced as a whole (`qnode worker --niceness`), and a
        // worker serving another node competes as that node's own workers would.
        let output = tokio::task::spawn_blocking(move || qnode_vdf::solve(&seed, difficulty))
            .await
            .map_err(|e| Status::internal(format!("prover task: {e}")))?
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(ChallengeProofResponse {
            output: output.to_vec(),
        }))
    }
}

/// Whether process `pid` is still running (Linux: its /proc entry, and not a zombie
/// waiting for its own parent to reap it).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state letter follows the command name, which is in parentheses and may hold
    // spaces or parentheses itself.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// Returns once process `pid` no longer exists (checked every 250 ms).
pub async fn process_exit(pid: u32) {
    while alive(pid) {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Serves `prover` on `addr` until `parent` (if given) exits. A worker whose parent is
/// gone has nobody to answer, so it stops at once rather than finishing requests in flight.
pub async fn serve(
    addr: SocketAddr,
    prover: ChallengeProver,
    parent: Option<u32>,
) -> Result<(), WorkerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| WorkerError::Bind { addr, source })?;
    serve_on(listener, prover, parent).await
}

/// Serves `prover` on `listener` (bound by the caller: a simulation binds port 0 and
/// learns the port first) until `parent` (if given) exits.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    prover: ChallengeProver,
    parent: Option<u32>,
) -> Result<(), WorkerError> {
    let addr = listener.local_addr().map_err(WorkerError::Address)?;
    tracing::info!(
        %addr,
        core = prover.core,
        difficulty_divisor = prover.difficulty_divisor,
        "data worker listening"
    );
    // Without TCP_NODELAY an answer's last small segment waits for the node's delayed ACK:
    // 40 ms on every increment's critical path.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = tonic::transport::Server::builder()
        .add_service(DataIpcServiceServer::new(prover))
        .serve_with_incoming(incoming);
    let parent_gone = async move {
        match parent {
            Some(pid) => {
                process_exit(pid).await;
                tracing::info!(pid, "parent process is gone; worker exiting");
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server => served.map_err(WorkerError::Serve),
        () = parent_gone => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::{alive, ChallengeProofRequest, ChallengeProver, DataIpcService, Request};

    #[tokio::test]
    async fn a_request_for_another_core_is_refused_and_its_own_is_proved() {
        let prover = ChallengeProver {
            core: 2,
            difficulty_divisor: 10_000,
        };
        let request = |core| {
            Request::new(ChallengeProofRequest {
                challenge: vec![7; 32],
                core,
                increment: 0,
            })
        };
        let refused = prover.calculate_challenge_proof(request(3)).await;
        let status = refused.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains("core 2, not core 3"), "{status}");
        let proved = prover.calculate_challenge_proof(request(2)).await.unwrap();
        assert_eq!(proved.into_inner().output.len(), qnode_vdf::OUTPUT_BYTES);
    }

    #[test]
    fn a_zombie_counts_as_gone() {
        let mut running = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert!(alive(running.id()));
        let mut finished = std::process::Command::new("true").spawn().unwrap();
        // Not yet reaped: once it has exited, a zombie whose /proc entry still exists.
        let stat = format!("/proc/{}/stat", finished.id());
        let exited = std::time::Instant::now();
        while !std::fs::read_to_string(&stat)
            .unwrap()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            assert!(exited.elapsed().as_secs() < 10, "`true` never exited");
            std::thread::yield_now();
        }
        assert!(!alive(finished.id()));
        finished.wait().unwrap();
        assert!(!alive(finished.id()));
        running.kill().unwrap();
        running.wait().unwrap();
    }
}
