//! Frame sync: when a connected, well-behaved peer claims a head more than 10 frames past
//! ours, or published a frame that waits in our reel for a missing parent, ask it for the
//! frames after our head, 16 per request, one request per second, until it has no more;
//! each frame goes through the frame validator. An invalid frame, an undecodable answer or
//! an oversized batch is an offence and ends the sync with that peer; no answer (a
//! timeout, a closed connection) only ends it.

use crate::channel_listener::SYNC_BATCH;
use crate::context::ServiceContext;
use crate::frame_validator::{check_off_thread, count, insert, FrameProblem, FrameSource};
use crate::master_time_reel::Insertion;
use prost::Message;
use qnode_p2p::{DirectKind, NetworkError, PeerId};
use qnode_protocol::limits::{self, Kind};
use qnode_protocol::pb::clock::ClockFramesRequest;
use qnode_protocol::pb::node::{SyncRequest, SyncResponse};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// A peer must be this many frames ahead to be worth syncing from.
pub const MIN_LEAD: u64 = 10;
/// Candidates tried per round, most ahead first.
pub const MAX_CANDIDATES: usize = 4;
/// Time between two requests (and between rounds).
pub const PACING: Duration = Duration::from_secs(1);

/// Why a sync with a peer stopped early.
#[derive(Debug, thiserror::Error)]
enum SyncStop {
    #[error("no answer: {0}")]
    NoAnswer(#[source] NetworkError),
    #[error("{0}")]
    Offence(String),
    #[error("storing: {0}")]
    Internal(#[source] FrameProblem),
    #[error("shutting down")]
    Shutdown,
}

/// Syncs from peers ahead of us until shutdown.
pub async fn run(ctx: Arc<ServiceContext>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if pause(&mut shutdown).await {
            return;
        }
        let head = ctx.head_number().await;
        for (peer, claimed) in ctx.peers.sync_candidates(head, MIN_LEAD, MAX_CANDIDATES) {
            tracing::info!(%peer, head, claimed, "syncing frames from a peer ahead");
            ctx.metrics.sync_target.set(claimed as i64);
            match sync_from(&ctx, peer, &mut shutdown).await {
                Ok(0) => continue,
                Ok(count) => {
                    let head = ctx.head_number().await;
                    tracing::info!(%peer, count, head, "synced frames");
                    break;
                }
                Err(SyncStop::Shutdown) => return,
                Err(SyncStop::Offence(reason)) => {
                    ctx.penalize(peer, &format!("sync: {reason}")).await;
                }
                Err(e) => tracing::warn!(%peer, "sync stopped: {e}"),
            }
        }
        ctx.metrics.sync_target.set(0);
    }
}

/// Waits the pacing interval; true when the node is shutting down.
async fn pause(shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = shutdown.wait_for(|stop| *stop) => true,
        _ = tokio::time::sleep(PACING) => false,
    }
}

/// Requests batches after our head until the peer has none; returns frames inserted.
async fn sync_from(
    ctx: &ServiceContext,
    peer: PeerId,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<u64, SyncStop> {
    let mut inserted = 0;
    loop {
        let from = ctx.head_number().await + 1;
        let request = SyncRequest {
            frames_request: Some(ClockFramesRequest {
                filter: ctx.filter.clone(),
                from_frame_number: from,
                to_frame_number: from + SYNC_BATCH - 1,
                ..Default::default()
            }),
        };
        let asked = std::time::Instant::now();
        let answer = ctx
            .network
            .request(peer, DirectKind::Sync, request.encode_to_vec())
            .await
            .map_err(SyncStop::NoAnswer)?;
        let response: SyncResponse = limits::decode(Kind::ClockFramesResponse, &answer)
            .map_err(|e| SyncStop::Offence(format!("undecodable answer: {e}")))?;
        let frames = response
            .frames_response
            .map(|r| r.clock_frames)
            .unwrap_or_default();
        if frames.len() as u64 > SYNC_BATCH {
            return Err(SyncStop::Offence(format!(
                "{} frames in one batch",
                frames.len()
            )));
        }
        if frames.is_empty() {
            return Ok(inserted);
        }
        let answered = asked.elapsed();
        // The VDFs of a batch are independent: check them side by side, insert in order.
        let head = ctx.head_number().await;
        let checks = frames
            .into_iter()
            .map(|frame| check_off_thread(ctx, frame, head));
        for checked in futures::future::join_all(checks).await {
            let result = async { insert(ctx, checked?).await }.await;
            count(ctx, FrameSource::Sync, &result);
            match result {
                Ok(Insertion::NewHead(_)) => inserted += 1,
                Ok(_) | Err(FrameProblem::Useless(_)) => {}
                Err(e @ FrameProblem::Invalid { .. }) => {
                    return Err(SyncStop::Offence(format!("frame {e}")));
                }
                Err(e @ (FrameProblem::Check(_) | FrameProblem::Store(_))) => {
                    return Err(SyncStop::Internal(e))
                }
            }
        }
        tracing::debug!(%peer, from, ?answered, checked = ?asked.elapsed(), "sync batch");
        if pause(shutdown).await {
            return Err(SyncStop::Shutdown);
        }
    }
}
