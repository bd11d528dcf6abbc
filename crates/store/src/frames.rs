//! Master clock frames by (filter, number), and each filter's head.

use crate::{Store, StoreError};
use prost::Message;
use qnode_protocol::pb::clock::ClockFrame;
use redb::{ReadableTable, TableDefinition};
use std::ops::RangeInclusive;

pub(crate) const FRAMES: TableDefinition<(&[u8], u64), &[u8]> =
    TableDefinition::new("clock_frames");
pub(crate) const HEADS: TableDefinition<&[u8], u64> = TableDefinition::new("clock_heads");

impl Store {
    /// Appends `frame` as the new head of its filter: frame 0 into an empty chain, or
    /// exactly head + 1. Frame and head are written in one transaction.
    pub fn append_frame(&self, frame: &ClockFrame) -> Result<(), StoreError> {
        self.guarded(|| {
            let txn = self.begin_write()?;
            {
                let mut heads = txn.open_table(HEADS).map_err(|e| self.err(e))?;
                let head = heads
                    .get(frame.filter.as_slice())
                    .map_err(|e| self.err(e))?
                    .map(|g| g.value());
                let expected = head.map_or(0, |h| h + 1);
                if frame.frame_number != expected {
                    return Err(StoreError::OutOfOrder(format!(
                        "frame {} is not the next frame ({expected})",
                        frame.frame_number
                    )));
                }
                let mut frames = txn.open_table(FRAMES).map_err(|e| self.err(e))?;
                frames
                    .insert(
                        (frame.filter.as_slice(), frame.frame_number),
                        frame.encode_to_vec().as_slice(),
                    )
                    .map_err(|e| self.err(e))?;
                heads
                    .insert(frame.filter.as_slice(), frame.frame_number)
                    .map_err(|e| self.err(e))?;
            }
            txn.commit().map_err(|e| self.err(e))
        })
    }

    /// The head frame of `filter`, if any frame is stored.
    pub fn head_frame(&self, filter: &[u8]) -> Result<Option<ClockFrame>, StoreError> {
        match self.head_number(filter)? {
            Some(n) => self.frame(filter, n),
            None => Ok(None),
        }
    }

    /// The head's frame number of `filter`.
    pub fn head_number(&self, filter: &[u8]) -> Result<Option<u64>, StoreError> {
        self.guarded(|| {
            let Some(heads) = self.read_table(HEADS)? else {
                return Ok(None);
            };
            let head = heads.get(filter).map_err(|e| self.err(e))?;
            Ok(head.map(|g| g.value()))
        })
    }

    /// Frame `number` of `filter`.
    pub fn frame(&self, filter: &[u8], number: u64) -> Result<Option<ClockFrame>, StoreError> {
        Ok(self.frames(filter, number..=number)?.pop())
    }

    /// The stored frames of `filter` with numbers in `range`, in order.
    pub fn frames(
        &self,
        filter: &[u8],
        range: RangeInclusive<u64>,
    ) -> Result<Vec<ClockFrame>, StoreError> {
        self.guarded(|| {
            let Some(table) = self.read_table(FRAMES)? else {
                return Ok(Vec::new());
            };
            let (from, to) = (*range.start(), *range.end());
            let mut out = Vec::new();
            for entry in table
                .range((filter, from)..=(filter, to))
                .map_err(|e| self.err(e))?
            {
                let (key, value) = entry.map_err(|e| self.err(e))?;
                let frame = ClockFrame::decode(value.value()).map_err(|e| {
                    StoreError::corrupt(&self.path, format!("frame {}: {e}", key.value().1))
                })?;
                out.push(frame);
            }
            Ok(out)
        })
    }
}
