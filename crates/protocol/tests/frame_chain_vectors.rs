//! `shared/vectors/vdf.json` → `frame_chain`: genesis and the frames after it, exactly as
//! the original's `ClockFrame`s hold them.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_protocol::frame::{genesis, prove_next, selector, validate};
use qnode_test_vectors::schema::Frame;
use qnode_test_vectors::{assert_checked_all, cases, raw_cases, raw_frame_count};

fn same(ours: &qnode_protocol::pb::clock::ClockFrame, theirs: &Frame) {
    assert_eq!(ours.frame_number, theirs.frame_number);
    assert_eq!(ours.difficulty, theirs.difficulty);
    assert_eq!(
        hex::encode(&ours.input),
        theirs.input,
        "input of {}",
        theirs.frame_number
    );
    assert_eq!(
        hex::encode(&ours.output),
        theirs.output,
        "output of {}",
        theirs.frame_number
    );
    assert_eq!(
        hex::encode(&ours.parent_selector),
        theirs.parent_selector,
        "selector of {}",
        theirs.frame_number
    );
}

#[test]
fn chains_are_proved_byte_for_byte_and_validate() {
    let (mut chains, mut frames) = (0, 0);
    for chain in qnode_test_vectors::vdf().frame_chain {
        let filter = hex::decode(&chain.filter).unwrap();
        let seed = hex::decode(&chain.seed).unwrap();
        assert_eq!(chain.frames.len(), chain.count + 1);
        let mut frame = genesis(&filter, &seed, chain.difficulty).unwrap();
        same(&frame, &chain.frames[0]);
        frames += 1;
        for expected in &chain.frames[1..] {
            let next = prove_next(&frame, 0, chain.difficulty).unwrap();
            same(&next, expected);
            assert_eq!(next.parent_selector, selector(&frame).unwrap());
            assert_eq!(validate(&next, &filter, frame.frame_number), Ok(()));
            frame = next;
            frames += 1;
        }
        chains += 1;
    }
    let chains_in_file = raw_cases("vdf.json", "frame_chain").len();
    assert_checked_all("frame_chain", chains, chains_in_file, cases::FRAME_CHAINS);
    assert_checked_all("frames", frames, raw_frame_count(), cases::FRAMES);
}
