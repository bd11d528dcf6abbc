//! Service 5, the bandwidth test: sends a peer 1 MiB of random bytes over the direct
//! channel and expects them echoed within 2 s; the measured rate goes to the peer-info
//! manager, a failure (no answer, a different echo, too slow) is an offence.

use crate::services::context::ServiceContext;
use prost::Message;
use qnode_p2p::{DirectKind, PeerId};
use qnode_protocol::limits::{self, Kind};
use qnode_protocol::pb::node::ValidationMessage;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// The test's payload size.
pub const PAYLOAD_BYTES: usize = 1_048_576;
/// Slower than this is an offence.
pub const MAX_MILLIS: u128 = 2000;
/// Peers waiting for a test; more are dropped (they are asked again on a later report).
pub const QUEUE_CAPACITY: usize = 64;

/// Why a test failed.
#[derive(Debug, thiserror::Error)]
pub enum BandwidthFailure {
    /// The request failed or timed out.
    #[error("no echo: {0}")]
    NoEcho(#[source] qnode_p2p::NetworkError),
    /// The answer was not our payload.
    #[error("the echo differs from what was sent")]
    WrongEcho,
    /// It took too long.
    #[error("echo took {0} ms (limit 2000)")]
    TooSlow(u128),
    /// No randomness for the payload (not the peer's fault).
    #[error("random payload: {0}")]
    Local(#[source] getrandom::Error),
}

/// Measures `peer`; returns bytes per second.
pub async fn measure(ctx: &ServiceContext, peer: PeerId) -> Result<u64, BandwidthFailure> {
    let mut payload = vec![0u8; PAYLOAD_BYTES];
    getrandom::fill(&mut payload).map_err(BandwidthFailure::Local)?;
    let request = ValidationMessage {
        validation: payload,
    };
    let started = Instant::now();
    let answer = ctx
        .network
        .request(peer, DirectKind::Validation, request.encode_to_vec())
        .await
        .map_err(BandwidthFailure::NoEcho)?;
    let millis = started.elapsed().as_millis();
    let echo: ValidationMessage = limits::decode(Kind::ValidationMessage, &answer)
        .map_err(|_| BandwidthFailure::WrongEcho)?;
    if echo.validation != request.validation {
        return Err(BandwidthFailure::WrongEcho);
    }
    if millis > MAX_MILLIS {
        return Err(BandwidthFailure::TooSlow(millis));
    }
    // The original divides by the milliseconds as measured; a local echo can take < 1 ms.
    Ok((PAYLOAD_BYTES as u128 * 1000 / millis.max(1)) as u64)
}

/// Tests queued peers one at a time.
pub async fn run(ctx: Arc<ServiceContext>, mut peers: mpsc::Receiver<PeerId>) {
    while let Some(peer) = peers.recv().await {
        if !ctx.peers.get(&peer).is_some_and(|info| info.connected) {
            tracing::debug!(%peer, "bandwidth test skipped: not connected");
            continue;
        }
        match measure(&ctx, peer).await {
            Ok(bandwidth) => {
                ctx.metrics
                    .bandwidth_tests
                    .with_label_values(&["passed"])
                    .inc();
                ctx.peers.update(peer, |info| info.bandwidth = bandwidth);
                tracing::info!(%peer, bandwidth, "bandwidth test passed");
            }
            Err(BandwidthFailure::Local(e)) => tracing::error!("bandwidth test: {e}"),
            Err(failure) => {
                ctx.metrics
                    .bandwidth_tests
                    .with_label_values(&["failed"])
                    .inc();
                ctx.penalize(peer, &format!("bandwidth test: {failure}"))
                    .await;
            }
        }
    }
}
