//! Service 7, the message subscriber: takes the network's events — connections and gossip
//! on the filter's topic — opens each envelope and routes its payload: a `ClockFrame` to
//! the frame validator's queue, a `SelfTestReport` to the report handler. Messages whose
//! author we scored below zero are ignored; malformed ones are offences.

use crate::challenge_proof_verifier::{ReportHandler, ReportOutcome};
use crate::context::ServiceContext;
use crate::frame_validator::FrameJob;
use qnode_p2p::{Event, GossipMessage, Verdict};
use qnode_protocol::envelope::{self, EnvelopeError, Payload};
use qnode_protocol::quote::clip;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Routes network events until the network stops.
pub async fn run(
    ctx: Arc<ServiceContext>,
    mut events: mpsc::Receiver<Event>,
    frames: mpsc::Sender<FrameJob>,
    reports: ReportHandler,
) {
    while let Some(event) = events.recv().await {
        match event {
            Event::Connected(peer) => {
                tracing::info!(%peer, "peer connected");
                ctx.peers.update(peer, |info| info.connected = true);
                // Gossipsub forgets a peer's score some time after it disconnects; ours
                // lasts, so a penalised peer stays penalised on every new connection.
                let score = ctx.peers.score(&peer);
                if score != 0 {
                    ctx.network.set_score(peer, score as f64).await;
                }
            }
            Event::Disconnected(peer) => {
                tracing::info!(%peer, "peer disconnected");
                ctx.peers.update(peer, |info| info.connected = false);
            }
            // The network logged it and dropped the peer; it never joined our peer table.
            Event::Foreign(_) => ctx.metrics.foreign_peers.inc(),
            Event::Gossip(message) => {
                let verdict = route(&ctx, message.clone(), &frames, &reports).await;
                if let Some(verdict) = verdict {
                    ctx.network.judge(message, verdict).await;
                }
            }
        }
    }
}

/// The verdict now, or `None` when the frame validator will give it.
async fn route(
    ctx: &ServiceContext,
    message: GossipMessage,
    frames: &mpsc::Sender<FrameJob>,
    reports: &ReportHandler,
) -> Option<Verdict> {
    let author = message.author;
    if ctx.peers.score(&author) < 0 {
        ctx.metrics
            .messages_ignored
            .with_label_values(&["author_score"])
            .inc();
        ctx.peers.update(author, |info| info.messages_ignored += 1);
        return Some(Verdict::Ignore);
    }
    let payload = match envelope::open_shared(&message.data) {
        Ok((address, _)) if address != ctx.filter => {
            ctx.penalize(author, "envelope for another filter").await;
            return Some(Verdict::Reject);
        }
        Ok((_, payload)) => payload,
        // A newer version's message: the original only logs these, and punishing them
        // would penalise every peer that upgrades first.
        Err(EnvelopeError::UnknownType(kind)) => {
            tracing::debug!(%author, "ignoring a message of unknown type {}", clip(&kind));
            ctx.metrics
                .messages_ignored
                .with_label_values(&["unknown_type"])
                .inc();
            return Some(Verdict::Ignore);
        }
        Err(e) => {
            ctx.penalize(author, &format!("malformed envelope: {e}"))
                .await;
            return Some(Verdict::Reject);
        }
    };
    match payload {
        Payload::ClockFrame(frame) => {
            let job = FrameJob { frame, message };
            match frames.try_send(job) {
                Ok(()) => None,
                Err(_) => {
                    tracing::debug!("frame validator busy; a gossip frame dropped");
                    Some(Verdict::Ignore)
                }
            }
        }
        Payload::SelfTestReport(report) => Some(match reports.handle(author, report).await {
            ReportOutcome::Offence(_) => Verdict::Reject,
            ReportOutcome::Own
            | ReportOutcome::RecentlySeen
            | ReportOutcome::AlreadyQueued
            | ReportOutcome::QueueFull => Verdict::Ignore,
            ReportOutcome::Queued | ReportOutcome::NewPeer => Verdict::Accept,
        }),
    }
}
