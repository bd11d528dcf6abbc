//! The original's `ValidationService` messages as its server saw and sent them (recorded
//! from a running original, `recorded/validation.json` and `perform_validation.pb`): the
//! 1 MiB bandwidth-test message and a `Sync` stream decode with qnode's types and encode
//! back to the same bytes, and every synced frame passes qnode's full frame validation
//! and links to the one before.

use prost::Message;
use qnode_protocol::frame::{self, DEFAULT_FILTER};
use qnode_protocol::pb::node::{SyncRequest, SyncResponse, ValidationMessage};
use qnode_test_vectors::{recorded_perform_validation, recorded_sync};

#[test]
fn the_originals_bandwidth_test_message_decodes_and_encodes_back() {
    let bytes = recorded_perform_validation();
    let message = ValidationMessage::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(message.validation.len(), 1024 * 1024, "the 1 MiB echo");
    assert_eq!(message.encode_to_vec(), bytes);
}

#[test]
fn the_originals_sync_stream_decodes_and_every_frame_validates() {
    let recorded = recorded_sync();
    let request_bytes = recorded.request;
    let request = SyncRequest::decode(request_bytes.as_slice()).expect("decodes");
    assert_eq!(request.encode_to_vec(), request_bytes);
    let asked = request.frames_request.expect("a frames request");
    assert_eq!(asked.filter, DEFAULT_FILTER);
    let mut expected = asked.from_frame_number;
    let mut parent_output: Option<Vec<u8>> = None;
    assert!(recorded.responses.len() >= 2, "more than one batch");
    for bytes in &recorded.responses {
        let decoded = SyncResponse::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(&decoded.encode_to_vec(), bytes);
        let batch = decoded.frames_response.expect("frames");
        assert_eq!(batch.from_frame_number, expected);
        // The original serves [from, from + 15): at most 15 frames a batch.
        assert!(!batch.clock_frames.is_empty() && batch.clock_frames.len() <= 15);
        for clock_frame in &batch.clock_frames {
            assert_eq!(clock_frame.frame_number, expected);
            frame::validate(clock_frame, &DEFAULT_FILTER, expected - 1)
                .unwrap_or_else(|e| panic!("frame {expected}: {e}"));
            if let Some(parent) = &parent_output {
                assert_eq!(&clock_frame.input, parent, "frame {expected} links");
            }
            parent_output = Some(clock_frame.output.clone());
            expected += 1;
        }
    }
}
