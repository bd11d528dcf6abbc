//! Wire format: golden encodings (field numbers and types as the original), round trips,
//! the envelope, and decoding arbitrary bytes without panicking.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use proptest::prelude::*;
use prost::Message;
use qnode_protocol::envelope::{open, seal, EnvelopeError, Payload, CLOCK_FRAME_TYPE};
use qnode_protocol::limits::{decode, DecodeError, Kind};
use qnode_protocol::pb::{application, clock::ClockFrame, data, node::SelfTestReport};

#[test]
fn clock_frame_fields_have_the_original_numbers_and_types() {
    let frame = ClockFrame {
        filter: vec![0xaa],
        frame_number: 2,
        timestamp: -1,
        difficulty: 3,
        parent_selector: vec![0xbb],
        input: vec![0xcc],
        output: vec![0xdd],
        aggregate_proofs: vec![],
        public_key_signature: None,
    };
    let expected = [
        0x0a, 1, 0xaa, // 1: bytes filter
        0x10, 2, // 2: uint64 frame_number
        0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x01, // 3: int64 timestamp
        0x20, 3, // 4: uint32 difficulty
        0x2a, 1, 0xbb, // 5: bytes parent_selector
        0x32, 1, 0xcc, // 6: bytes input
        0x3a, 1, 0xdd, // 7: bytes output
    ];
    assert_eq!(frame.encode_to_vec(), expected);
}

#[test]
fn report_and_ipc_fields_have_the_original_numbers() {
    let report = SelfTestReport {
        cores: 7,
        proof: vec![1],
        challenge: vec![2],
        increment: 9,
        master_head_frame: 5,
        ..Default::default()
    };
    assert_eq!(
        report.encode_to_vec(),
        [0x58, 7, 0x78, 5, 0x82, 0x01, 1, 1, 0x8a, 0x01, 1, 2, 0x90, 0x01, 9]
    );
    let request = data::ChallengeProofRequest {
        challenge: vec![0xee],
        core: 1,
        increment: 2,
    };
    assert_eq!(request.encode_to_vec(), [0x0a, 1, 0xee, 0x10, 1, 0x18, 2]);
}

#[test]
fn an_envelope_round_trips_and_its_hash_is_checked() {
    let frame = ClockFrame {
        filter: vec![0xff; 32],
        frame_number: 9,
        output: vec![1; 516],
        input: vec![2; 516],
        ..Default::default()
    };
    let sealed = seal(&[0xff; 32], &Payload::ClockFrame(frame.clone())).unwrap();
    let (address, payload) = open(&sealed).unwrap();
    assert_eq!(address, vec![0xff; 32]);
    assert_eq!(payload, Payload::ClockFrame(frame));

    let mut message = application::Message::decode(&sealed[..]).unwrap();
    let any = prost_types::Any::decode(&message.payload[..]).unwrap();
    assert_eq!(any.type_url, CLOCK_FRAME_TYPE);
    message.hash[0] ^= 1;
    assert_eq!(
        open(&message.encode_to_vec()),
        Err(EnvelopeError::HashMismatch)
    );
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let big = vec![0u8; Kind::ClockFrame.max_bytes() + 1];
    assert!(matches!(
        decode::<ClockFrame>(Kind::ClockFrame, &big),
        Err(DecodeError::TooLarge { .. })
    ));
}

fn arb_frame() -> impl Strategy<Value = ClockFrame> {
    (
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<u64>(),
        any::<i64>(),
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..600),
        proptest::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(
            |(filter, frame_number, timestamp, difficulty, input, output)| ClockFrame {
                filter,
                frame_number,
                timestamp,
                difficulty,
                parent_selector: output.iter().take(32).copied().collect(),
                input,
                output,
                aggregate_proofs: vec![],
                public_key_signature: None,
            },
        )
}

proptest! {
    #[test]
    fn frames_round_trip(frame in arb_frame()) {
        let bytes = frame.encode_to_vec();
        prop_assert_eq!(decode::<ClockFrame>(Kind::ClockFrame, &bytes).unwrap(), frame);
    }

    #[test]
    fn reports_round_trip(cores in any::<u32>(), increment in any::<u32>(), proof in proptest::collection::vec(any::<u8>(), 0..600), metric in any::<i64>()) {
        let report = SelfTestReport { cores, increment, proof, difficulty_metric: metric, ..Default::default() };
        let bytes = report.encode_to_vec();
        prop_assert_eq!(decode::<SelfTestReport>(Kind::SelfTestReport, &bytes).unwrap(), report);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode::<ClockFrame>(Kind::ClockFrame, &bytes);
        let _ = decode::<SelfTestReport>(Kind::SelfTestReport, &bytes);
        let _ = decode::<data::ChallengeProofResponse>(Kind::ChallengeProof, &bytes);
        let _ = open(&bytes);
    }

    #[test]
    fn corrupted_envelopes_are_refused_or_equal(frame in arb_frame(), at in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let sealed = seal(&[7; 32], &Payload::ClockFrame(frame.clone())).unwrap();
        let mut bad = sealed.clone();
        let i = at.index(bad.len());
        bad[i] ^= mask;
        // A flipped byte either breaks the envelope or, if it only touched the address,
        // changes nothing else.
        if let Ok((address, payload)) = open(&bad) {
            prop_assert_eq!(payload, Payload::ClockFrame(frame));
            prop_assert_ne!(address, vec![7u8; 32]);
        }
    }
}
