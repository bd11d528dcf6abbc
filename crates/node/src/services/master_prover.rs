//! The master frame prover: when no new head has arrived for the frame interval (the
//! original's 20 s), prove the next frame from the head, insert it and publish it.
//! Master frames depend only on their parent, so nodes that race produce the same chain.

use crate::clock::now_ms;
use crate::services::context::ServiceContext;
use crate::services::master_time_reel::Insertion;
use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::frame;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Proves frames until shutdown.
pub async fn run(
    ctx: Arc<ServiceContext>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut heads = ctx.reel.lock().await.subscribe_heads();
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            head = heads.recv() => match head {
                // Someone extended the clock: wait a full interval from now.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tokio::time::sleep(interval) => {}
        }
        prove_and_publish(&ctx).await;
    }
}

async fn prove_and_publish(ctx: &ServiceContext) {
    let head = ctx.reel.lock().await.head().clone();
    let difficulty = ctx.master_difficulty;
    let proved =
        tokio::task::spawn_blocking(move || frame::prove_next(&head, now_ms(), difficulty)).await;
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
