//! Service 8, the channel listener: answers peers on the direct channel — the validation
//! echo (bandwidth tests) and frame sync (at most 16 stored frames per request, from the
//! requested number up to our head; an empty batch for a filter we do not keep).

use prost::Message;
use qnode_p2p::{DirectHandler, DirectKind, PeerId};
use qnode_protocol::limits::{self, Kind};
use qnode_protocol::pb::clock::{ClockFrame, ClockFramesResponse};
use qnode_protocol::pb::node::{SyncRequest, SyncResponse, ValidationMessage};
use qnode_store::Store;
use std::sync::Arc;

/// Frames per sync answer (the original's batch).
pub const SYNC_BATCH: u64 = 16;

/// Serves the direct channel from the store.
pub struct ChannelListener {
    /// Frames come from here.
    pub store: Arc<Store>,
    /// The only filter served.
    pub filter: Vec<u8>,
}

impl ChannelListener {
    fn validation(&self, body: &[u8]) -> Option<Vec<u8>> {
        let message: ValidationMessage = limits::decode(Kind::ValidationMessage, body).ok()?;
        Some(message.encode_to_vec())
    }

    fn sync(&self, peer: PeerId, body: &[u8]) -> Option<Vec<u8>> {
        let request: SyncRequest = limits::decode(Kind::ClockFramesRequest, body).ok()?;
        let wanted = request.frames_request?;
        let from = wanted.from_frame_number;
        // Another filter's frames are not here: an empty batch says so at once, where
        // silence would keep the peer waiting for the request's timeout.
        if wanted.filter != self.filter {
            return Some(answer(wanted.filter, from, from, Vec::new()));
        }
        let head = self.store.head_number(&self.filter).ok()??;
        let mut to = from.saturating_add(SYNC_BATCH - 1).min(head);
        if wanted.to_frame_number >= from && wanted.to_frame_number != 0 {
            to = to.min(wanted.to_frame_number);
        }
        let frames = if from > head {
            Vec::new()
        } else {
            match self.store.frames(&self.filter, from..=to) {
                Ok(frames) => frames,
                Err(e) => {
                    tracing::error!("serving sync: {e}");
                    return None;
                }
            }
        };
        tracing::debug!(%peer, from, to, count = frames.len(), "sync request served");
        Some(answer(self.filter.clone(), from, to, frames))
    }
}

fn answer(filter: Vec<u8>, from: u64, to: u64, frames: Vec<ClockFrame>) -> Vec<u8> {
    SyncResponse {
        frames_response: Some(ClockFramesResponse {
            filter,
            from_frame_number: from,
            to_frame_number: to,
            clock_frames: frames,
        }),
    }
    .encode_to_vec()
}

impl DirectHandler for ChannelListener {
    fn handle(&self, from: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>> {
        match kind {
            DirectKind::Validation => self.validation(body),
            DirectKind::Sync => self.sync(from, body),
        }
    }
}
