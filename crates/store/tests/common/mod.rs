//! What the store tests share: a frame of a given number and output.

use qnode_protocol::pb::clock::ClockFrame;

/// Frame `n` of `filter`, its output standing in for the VDF proof (its size decides how
/// many pages a chain of them takes).
pub fn frame(filter: &[u8], n: u64, output: Vec<u8>) -> ClockFrame {
    ClockFrame {
        filter: filter.to_vec(),
        frame_number: n,
        difficulty: 10,
        output,
        ..Default::default()
    }
}
