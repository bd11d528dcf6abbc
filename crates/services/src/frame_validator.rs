//! Service 4, the frame validator: checks a frame a peer sent (difficulty, shape, position,
//! parent selector, VDF) and hands valid ones to the time reel. Gossip frames queue here
//! (bounded); sync checks its frames with the same [`validate_and_insert`].

use crate::context::ServiceContext;
use crate::master_time_reel::{Insertion, ReelError};
use qnode_p2p::{GossipMessage, PeerId, Verdict};
use qnode_protocol::frame::{self, FrameError};
use qnode_protocol::pb::clock::ClockFrame;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Frames waiting for VDF verification; more are dropped (the sender is not at fault).
pub const QUEUE_CAPACITY: usize = 64;

/// Why a frame was not taken.
#[derive(Debug, thiserror::Error)]
pub enum FrameProblem {
    /// Behind the head, or too far ahead: nobody's fault.
    #[error("not useful now: {0}")]
    Useless(#[source] FrameError),
    /// Wrong in itself: the sender is penalised.
    #[error("invalid ({reason}): {detail}")]
    Invalid {
        /// One of [`REJECT_REASONS`] (a metric label).
        reason: &'static str,
        /// What exactly.
        detail: String,
    },
    /// The node could not check it (the check's thread failed).
    #[error("checking: {0}")]
    Check(#[source] tokio::task::JoinError),
    /// The node could not store it.
    #[error("storing: {0}")]
    Store(#[source] ReelError),
}

/// Why frames are refused, as metric labels.
pub const REJECT_REASONS: [&str; 5] = ["difficulty", "shape", "selector", "vdf", "parent"];

fn invalid(reason: &'static str, detail: impl ToString) -> FrameProblem {
    FrameProblem::Invalid {
        reason,
        detail: detail.to_string(),
    }
}

/// Where a frame came from, as a metric label.
#[derive(Debug, Clone, Copy)]
pub enum FrameSource {
    /// Gossip.
    Gossip,
    /// Frame sync.
    Sync,
}

impl FrameSource {
    fn label(self) -> &'static str {
        match self {
            FrameSource::Gossip => "gossip",
            FrameSource::Sync => "sync",
        }
    }
}

/// Counts a frame's fate in `qnode_frames_total`.
pub fn count(ctx: &ServiceContext, source: FrameSource, result: &Result<Insertion, FrameProblem>) {
    let outcome = match result {
        Ok(Insertion::NewHead(_) | Insertion::Pending) => "accepted",
        Err(FrameProblem::Invalid { reason, .. }) => reason,
        _ => return,
    };
    ctx.metrics
        .frames
        .with_label_values(&[source.label(), outcome])
        .inc();
}

/// A gossip frame and the message that carried it.
pub struct FrameJob {
    /// The frame.
    pub frame: ClockFrame,
    /// Its envelope as gossip, for the verdict.
    pub message: GossipMessage,
}

/// Everything but the reel: position after `head`, difficulty, shape, parent selector,
/// VDF. Blocking (the VDF), so callers run it off the async threads. A stale frame is
/// dropped before anything else is judged, as the original drops it: it costs its sender
/// nothing, whatever its difficulty.
pub fn check(
    frame: ClockFrame,
    filter: &[u8],
    head: u64,
    difficulty: u32,
) -> Result<ClockFrame, FrameProblem> {
    frame::check_position(&frame, head).map_err(FrameProblem::Useless)?;
    if frame.difficulty != difficulty {
        let detail = format!("{} instead of {difficulty}", frame.difficulty);
        return Err(invalid("difficulty", detail));
    }
    frame::validate(&frame, filter, head)
        .map(|()| frame)
        .map_err(|e| match e {
            FrameError::Stale { .. } | FrameError::TooFarAhead { .. } => FrameProblem::Useless(e),
            FrameError::ParentSelector => invalid("selector", e),
            FrameError::Vdf(_) => invalid("vdf", e),
            e => invalid("shape", e),
        })
}

/// [`check`] against `head` on a blocking thread.
pub async fn check_off_thread(
    ctx: &ServiceContext,
    frame: ClockFrame,
    head: u64,
) -> Result<ClockFrame, FrameProblem> {
    let (filter, difficulty) = (ctx.filter.clone(), ctx.master_difficulty);
    qnode_compute::run(move || check(frame, &filter, head, difficulty))
        .await
        .map_err(FrameProblem::Check)?
}

/// Hands a checked frame to the reel.
pub async fn insert(ctx: &ServiceContext, frame: ClockFrame) -> Result<Insertion, FrameProblem> {
    let outcome = ctx.insert_frame(frame).await.map_err(FrameProblem::Store)?;
    match outcome {
        Insertion::WrongParent => Err(invalid("parent", "it claims another parent")),
        Insertion::WrongFilter => Err(invalid("shape", "another filter")),
        other => Ok(other),
    }
}

/// [`check`] against the current head, then [`insert`].
pub async fn validate_and_insert(
    ctx: &ServiceContext,
    frame: ClockFrame,
) -> Result<Insertion, FrameProblem> {
    let head = ctx.head_number().await;
    let frame = check_off_thread(ctx, frame, head).await?;
    insert(ctx, frame).await
}

/// Judges a frame's problem: penalises the author of invalid frames.
pub async fn verdict_for(
    ctx: &ServiceContext,
    author: PeerId,
    result: &Result<Insertion, FrameProblem>,
) -> Verdict {
    match result {
        Ok(Insertion::NewHead(_) | Insertion::Pending) => Verdict::Accept,
        Ok(_) | Err(FrameProblem::Useless(_) | FrameProblem::Check(_) | FrameProblem::Store(_)) => {
            Verdict::Ignore
        }
        Err(problem @ FrameProblem::Invalid { .. }) => {
            ctx.penalize(author, &format!("frame {problem}")).await;
            Verdict::Reject
        }
    }
}

/// Validates queued gossip frames one at a time until the queue closes.
pub async fn run(ctx: Arc<ServiceContext>, mut jobs: mpsc::Receiver<FrameJob>) {
    while let Some(job) = jobs.recv().await {
        let number = job.frame.frame_number;
        let result = validate_and_insert(&ctx, job.frame).await;
        if let Err(e @ (FrameProblem::Check(_) | FrameProblem::Store(_))) = &result {
            tracing::error!(number, "frame validator: {e}");
        }
        count(&ctx, FrameSource::Gossip, &result);
        if let Ok(Insertion::Pending) = result {
            // Its author proved it on frames we lack: frame sync fetches them from it.
            ctx.peers.update(job.message.author, |info| {
                info.frame_ahead = info.frame_ahead.max(number);
            });
        }
        let verdict = verdict_for(&ctx, job.message.author, &result).await;
        ctx.network.judge(job.message, verdict).await;
    }
}
