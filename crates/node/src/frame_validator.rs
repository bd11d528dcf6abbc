//! Service 4, the frame validator: checks a frame a peer sent (difficulty, shape, position,
//! parent selector, VDF) and hands valid ones to the time reel. Gossip frames queue here
//! (bounded); sync checks its frames with the same [`validate_and_insert`].

use crate::master_time_reel::Insertion;
use crate::services::{Context, Counters};
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
    Useless(String),
    /// Wrong in itself: the sender is penalised.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The node could not store it.
    #[error("storing: {0}")]
    Internal(String),
}

/// A gossip frame and the message that carried it.
pub struct FrameJob {
    /// The frame.
    pub frame: ClockFrame,
    /// Its envelope as gossip, for the verdict.
    pub message: GossipMessage,
}

/// Everything but the reel: difficulty, shape and position after `head`, parent
/// selector, VDF. Blocking (the VDF), so callers run it off the async threads.
pub fn check(
    frame: ClockFrame,
    filter: &[u8],
    head: u64,
    difficulty: u32,
) -> Result<ClockFrame, FrameProblem> {
    if frame.difficulty != difficulty {
        return Err(FrameProblem::Invalid(format!(
            "difficulty {} instead of {difficulty}",
            frame.difficulty
        )));
    }
    frame::validate(&frame, filter, head)
        .map(|()| frame)
        .map_err(|e| match e {
            FrameError::Stale { .. } | FrameError::TooFarAhead { .. } => {
                FrameProblem::Useless(e.to_string())
            }
            e => FrameProblem::Invalid(e.to_string()),
        })
}

/// [`check`] against `head` on a blocking thread.
pub async fn check_off_thread(
    ctx: &Context,
    frame: ClockFrame,
    head: u64,
) -> Result<ClockFrame, FrameProblem> {
    let (filter, difficulty) = (ctx.filter.clone(), ctx.master_difficulty);
    tokio::task::spawn_blocking(move || check(frame, &filter, head, difficulty))
        .await
        .map_err(|e| FrameProblem::Internal(e.to_string()))?
}

/// Hands a checked frame to the reel.
pub async fn insert(ctx: &Context, frame: ClockFrame) -> Result<Insertion, FrameProblem> {
    let outcome = ctx
        .reel
        .lock()
        .await
        .insert(frame)
        .map_err(|e| FrameProblem::Internal(e.to_string()))?;
    match outcome {
        Insertion::WrongParent => Err(FrameProblem::Invalid("it claims another parent".into())),
        Insertion::WrongFilter => Err(FrameProblem::Invalid("another filter".into())),
        other => Ok(other),
    }
}

/// [`check`] against the current head, then [`insert`].
pub async fn validate_and_insert(
    ctx: &Context,
    frame: ClockFrame,
) -> Result<Insertion, FrameProblem> {
    let head = ctx.head_number().await;
    let frame = check_off_thread(ctx, frame, head).await?;
    insert(ctx, frame).await
}

/// Judges a frame's problem: penalises the author of invalid frames.
pub async fn verdict_for(
    ctx: &Context,
    author: PeerId,
    result: &Result<Insertion, FrameProblem>,
) -> Verdict {
    match result {
        Ok(Insertion::NewHead(_) | Insertion::Pending) => Verdict::Accept,
        Ok(_) | Err(FrameProblem::Useless(_) | FrameProblem::Internal(_)) => Verdict::Ignore,
        Err(problem @ FrameProblem::Invalid(_)) => {
            Counters::bump(&ctx.counters.frames_rejected);
            ctx.penalize(author, &format!("frame {problem}")).await;
            Verdict::Reject
        }
    }
}

/// Validates queued gossip frames one at a time until the queue closes.
pub async fn run(ctx: Arc<Context>, mut jobs: mpsc::Receiver<FrameJob>) {
    while let Some(job) = jobs.recv().await {
        let number = job.frame.frame_number;
        let result = validate_and_insert(&ctx, job.frame).await;
        if let Err(FrameProblem::Internal(e)) = &result {
            tracing::error!(number, "frame validator: {e}");
        }
        if matches!(result, Ok(Insertion::NewHead(_) | Insertion::Pending)) {
            Counters::bump(&ctx.counters.frames_from_gossip);
        }
        let verdict = verdict_for(&ctx, job.message.author, &result).await;
        ctx.network.judge(job.message, verdict).await;
    }
}
