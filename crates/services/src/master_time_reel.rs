//! Service 3, the master time reel: holds the head of the master clock, takes frames in
//! order with the parent-selector check, keeps frames that arrive early until their parent
//! comes, reports bad frames, tells subscribers about each new head, and persists every
//! accepted frame. It trusts that frames were validated (VDF, shape) before `insert`.

use qnode_protocol::frame::{self, FrameError, MAX_FRAMES_AHEAD};
use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::broadcast;

/// At most this many frames wait for their parent; more are dropped, not queued.
pub const MAX_PENDING_FRAMES: usize = 256;
/// At most this many competing frames wait under one frame number.
pub const MAX_CANDIDATES_PER_NUMBER: usize = 4;
const CHANNEL_CAPACITY: usize = 64;

/// What happened to an inserted frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insertion {
    /// It (and maybe pending frames after it) advanced the head to this number.
    NewHead(u64),
    /// It is ahead of head + 1 and waits for its parent.
    Pending,
    /// It is at or below the head: nothing to do.
    Stale,
    /// It claims a parent other than the head: a bad frame, reported.
    WrongParent,
    /// It is too far ahead of the head to keep.
    TooFarAhead,
    /// It is for another filter.
    WrongFilter,
    /// The pending queue is full, or this exact frame already waits.
    Dropped,
}

/// Why the reel could not start or persist.
#[derive(Debug, thiserror::Error)]
pub enum ReelError {
    /// The store failed; the message says what to do.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Genesis could not be proved, or a stored frame is malformed.
    #[error("master clock frame: {0}")]
    Frame(#[from] FrameError),
    /// The blocking thread that stores frames failed or the runtime stopped under it
    /// (the store's transaction is whole or absent either way).
    #[error("storing a master clock frame: {0}")]
    Writer(#[from] tokio::task::JoinError),
}

/// How the reel creates its genesis when the store has none.
#[derive(Debug, Clone)]
pub struct Genesis {
    /// Seed bytes (with the network byte already applied, see `frame::network_seed`).
    pub seed: Vec<u8>,
    /// Master clock difficulty.
    pub difficulty: u32,
}

/// The master time reel of one filter.
pub struct MasterTimeReel {
    store: Arc<Store>,
    filter: Vec<u8>,
    head: ClockFrame,
    head_selector: [u8; frame::SELECTOR_BYTES],
    pending: BTreeMap<u64, Vec<ClockFrame>>,
    new_heads: broadcast::Sender<ClockFrame>,
}

impl MasterTimeReel {
    /// Resumes from the stored head of `filter`, or proves and stores genesis first.
    pub fn start(store: Arc<Store>, filter: &[u8], genesis: &Genesis) -> Result<Self, ReelError> {
        let head = match store.head_frame(filter)? {
            Some(head) => head,
            None => {
                tracing::info!(difficulty = genesis.difficulty, "proving the genesis frame");
                let g = frame::genesis(filter, &genesis.seed, genesis.difficulty)?;
                store.append_frame(&g)?;
                g
            }
        };
        tracing::info!(head = head.frame_number, "master time reel started");
        Ok(MasterTimeReel {
            head_selector: frame::selector(&head)?,
            store,
            filter: filter.to_vec(),
            head,
            pending: BTreeMap::new(),
            new_heads: broadcast::channel(CHANNEL_CAPACITY).0,
        })
    }

    /// The current head.
    pub fn head(&self) -> &ClockFrame {
        &self.head
    }

    /// Every new head, in order (a slow subscriber skips ahead rather than blocking us).
    pub fn subscribe_heads(&self) -> broadcast::Receiver<ClockFrame> {
        self.new_heads.subscribe()
    }

    /// How many frames wait for their parent.
    pub fn pending_len(&self) -> usize {
        self.pending.values().map(Vec::len).sum()
    }

    /// Offers a (validated) frame to the reel.
    pub fn insert(&mut self, frame: ClockFrame) -> Result<Insertion, ReelError> {
        if frame.filter != self.filter {
            return Ok(Insertion::WrongFilter);
        }
        let head = self.head.frame_number;
        if frame.frame_number <= head {
            return Ok(Insertion::Stale);
        }
        if frame.frame_number - head > MAX_FRAMES_AHEAD {
            return Ok(Insertion::TooFarAhead);
        }
        if frame.frame_number > head + 1 {
            return Ok(self.keep_pending(frame));
        }
        if !self.try_advance(frame)? {
            return Ok(Insertion::WrongParent);
        }
        self.advance_through_pending()?;
        Ok(Insertion::NewHead(self.head.frame_number))
    }

    fn keep_pending(&mut self, frame: ClockFrame) -> Insertion {
        if self.pending_len() >= MAX_PENDING_FRAMES {
            return Insertion::Dropped;
        }
        let waiting = self.pending.entry(frame.frame_number).or_default();
        if waiting.len() >= MAX_CANDIDATES_PER_NUMBER || waiting.contains(&frame) {
            return Insertion::Dropped;
        }
        waiting.push(frame);
        Insertion::Pending
    }

    /// Makes `frame` (number head + 1) the head if its parent selector is the head's;
    /// otherwise drops it (a frame offered directly is answered `WrongParent`).
    fn try_advance(&mut self, frame: ClockFrame) -> Result<bool, ReelError> {
        if frame.parent_selector[..] != self.head_selector[..] {
            tracing::warn!(number = frame.frame_number, "frame claims another parent");
            return Ok(false);
        }
        let selector = frame::selector(&frame)?;
        self.store.append_frame(&frame)?;
        self.head_selector = selector;
        self.head = frame;
        let _ = self.new_heads.send(self.head.clone());
        Ok(true)
    }

    /// Takes waiting frames whose parent is now the head, for as long as there are any,
    /// then forgets frames that can no longer attach.
    fn advance_through_pending(&mut self) -> Result<(), ReelError> {
        while let Some(candidates) = self.pending.remove(&(self.head.frame_number + 1)) {
            let mut advanced = false;
            for candidate in candidates {
                if advanced {
                    break; // master frames cannot fork: the rest lost
                }
                advanced = self.try_advance(candidate)?;
            }
            if !advanced {
                break;
            }
        }
        let head = self.head.frame_number;
        self.pending.retain(|&n, _| n > head);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
