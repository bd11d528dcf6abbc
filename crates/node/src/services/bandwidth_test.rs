//! Service 5, the bandwidth test: sends a peer 1 MiB of random bytes over the direct
//! channel and expects them echoed within 2 s; the measured rate goes to the peer-info
//! manager, a failure (no answer, a different echo, too slow) is an offence.

use crate::services::context::ServiceContext;
use prost::Message;
use qnode_p2p::{DirectKind, NetworkError, PeerId};
use qnode_protocol::limits::{self, Kind};
use qnode_protocol::pb::node::ValidationMessage;
use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

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
    NoEcho(#[source] NetworkError),
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

/// How long a queued test may wait, at random, before it runs: a tenth of the report
/// window (27 s on a real network). A node's first report reaches all its peers at once,
/// and each then asks it for 1 MiB: run together, those echoes share its uplink and all
/// miss the 2 s limit (the simulation saw 5 s echoes when fifty nodes did so on one
/// machine). A peer is tested at most once per window anyway, so spreading costs no
/// coverage; a paced devnet's long window spreads its tests as thinly as its reports.
pub fn spread_for(report_window: Duration) -> Duration {
    report_window / 10
}

/// Tests queued peers one at a time, each at a random moment within `spread` of its
/// queueing (see [`spread_for`]), until the queue closes.
pub async fn run(ctx: Arc<ServiceContext>, mut peers: mpsc::Receiver<PeerId>, spread: Duration) {
    let mut due: BinaryHeap<Reverse<(Instant, PeerId)>> = BinaryHeap::new();
    loop {
        let next = due.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            queued = peers.recv() => match queued {
                None => return,
                Some(peer) if due.iter().any(|Reverse((_, p))| *p == peer) => {}
                Some(peer) if due.len() >= QUEUE_CAPACITY => {
                    tracing::debug!(%peer, "bandwidth tests full; asked again at its next report");
                }
                Some(peer) => {
                    let wait = rand::thread_rng().gen_range(Duration::ZERO..=spread);
                    due.push(Reverse((Instant::now() + wait, peer)));
                }
            },
            () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                if let Some(Reverse((_, peer))) = due.pop() {
                    test(&ctx, peer).await;
                }
            }
        }
    }
}

async fn test(ctx: &ServiceContext, peer: PeerId) {
    if !ctx.peers.get(&peer).is_some_and(|info| info.connected) {
        tracing::debug!(%peer, "bandwidth test skipped: not connected");
        return;
    }
    let outcome = match measure(ctx, peer).await {
        Ok(bandwidth) => {
            ctx.peers.update(peer, |info| info.bandwidth = bandwidth);
            tracing::info!(%peer, bandwidth, "bandwidth test passed");
            "passed"
        }
        Err(BandwidthFailure::Local(e)) => {
            tracing::error!("bandwidth test: {e}");
            return;
        }
        Err(BandwidthFailure::NoEcho(
            e @ (NetworkError::ConnectionClosed | NetworkError::NotConnected),
        )) => {
            // Its connection manager (or ours) closed the connection: no offence, and its
            // next report asks again.
            tracing::debug!(%peer, "bandwidth test interrupted: {e}");
            "interrupted"
        }
        Err(failure) => {
            ctx.penalize(peer, &format!("bandwidth test: {failure}"))
                .await;
            "failed"
        }
    };
    ctx.metrics
        .bandwidth_tests
        .with_label_values(&[outcome])
        .inc();
}
