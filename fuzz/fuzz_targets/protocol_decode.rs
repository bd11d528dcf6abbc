//! Every decoder the network feeds: the envelope (hash, `Any`, inner message), frames,
//! reports and sync messages, each under its size limit. Any answer is fine; a panic or
//! abort is a bug. Decoded frames also go through frame validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnode_protocol::limits::{decode, Kind};
use qnode_protocol::pb::{clock, data, node};

fuzz_target!(|data: &[u8]| {
    let _ = qnode_protocol::envelope::open(data);
    if let Ok(frame) = decode::<clock::ClockFrame>(Kind::ClockFrame, data) {
        // Shape and selector checks only: the VDF is fuzzed by vdf_verify.
        let _ = qnode_protocol::frame::check_shape(&frame, &[0xff; 32], 0);
        let _ = qnode_protocol::frame::selector(&frame);
    }
    let _ = decode::<node::SelfTestReport>(Kind::SelfTestReport, data);
    let _ = decode::<clock::ClockFramesResponse>(Kind::ClockFramesResponse, data);
    let _ = decode::<clock::ClockFramesRequest>(Kind::ClockFramesRequest, data);
    let _ = decode::<node::ValidationMessage>(Kind::ValidationMessage, data);
    let _ = decode::<node::SyncRequest>(Kind::ClockFramesRequest, data);
    let _ = decode::<node::SyncResponse>(Kind::ClockFramesResponse, data);
    let _ = decode::<data::ChallengeProofResponse>(Kind::ChallengeProof, data);
});
