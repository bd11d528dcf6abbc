//! The master frame prover, as the original's: every new head of the reel, a peer's or
//! its own, is followed at once by proving the next frame from it, inserting it and
//! publishing it, so the clock advances one frame per VDF on every node. When no new head
//! arrives for the idle interval (the original's 20 s), it proves from the head it has.
//! A devnet paces it (`min-frame-interval-ms`): there a frame costs microseconds.
//! Master frames depend only on their parent, so nodes that race produce the same chain.

use crate::context::ServiceContext;
use crate::master_time_reel::Insertion;
use qnode_protocol::clock::now_ms;
use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::frame;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// When the prover proves.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Prove from the head anyway after this long without a new one.
    pub idle: Duration,
    /// A new head, ours or a peer's, is followed by the next proof no sooner than this.
    pub min_interval: Duration,
}

/// Proves frames until shutdown.
///
/// The pace is the chain's, not this node's: the next proof waits `min_interval` after
/// the head arrived, whoever proved it. Pacing each node's own proofs instead would let
/// N nodes take turns and run the clock N times as fast, with the nodes further apart.
pub async fn run(ctx: Arc<ServiceContext>, pacing: Pacing, mut shutdown: watch::Receiver<bool>) {
    let mut heads = ctx.reel.lock().await.subscribe_heads();
    let mut due = Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            head = heads.recv() => {
                if let Err(broadcast::error::RecvError::Closed) = head {
                    return;
                }
                // Lagged or not, the head is new now.
                due = Instant::now() + pacing.min_interval;
                continue;
            }
            _ = tokio::time::sleep_until(due) => {}
        }
        prove_and_publish(&ctx).await;
        // Our frame, once inserted, arrives as a new head and sets the next proof; this
        // holds only when none arrives.
        due = Instant::now() + pacing.idle;
    }
}

async fn prove_and_publish(ctx: &ServiceContext) {
    let head = ctx.reel.lock().await.head().clone();
    let difficulty = ctx.master_difficulty;
    let proved = qnode_compute::run(move || frame::prove_next(&head, now_ms(), difficulty)).await;
    let next = match proved {
        Ok(Ok(next)) => next,
        Ok(Err(e)) => return tracing::error!("proving a master frame: {e}"),
        Err(e) => return tracing::error!("master prover task: {e}"),
    };
    match ctx.insert_frame(next.clone()).await {
        Ok(Insertion::NewHead(number)) => tracing::info!(number, "master frame proved"),
        Ok(other) => return tracing::debug!(?other, "a proved frame lost the race"),
        Err(_) => return, // logged by insert_frame
    }
    // Sealed only once it won: the envelope's Poseidon hash costs about 2 ms.
    match envelope::seal(&ctx.filter, &Payload::ClockFrame(next)) {
        Ok(data) => {
            if let Err(e) = ctx.network.publish(&ctx.filter, data).await {
                tracing::debug!("publishing a frame: {e}");
            }
        }
        Err(e) => tracing::error!("sealing a frame: {e}"),
    }
}
