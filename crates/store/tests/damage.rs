//! Damaged stores: every page zeroed in turn and 2,000 seeded single-byte flips. Each copy
//! either opens and reads back exactly what was written, or is refused as corrupt naming
//! the file; nothing panics, nothing damaged is read as good, and nothing is written.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{DataTimeProof, Store, StoreError, STORE_FILE};
use std::path::Path;

const FILTER: &[u8] = &[0xff; 32];
const PAGE: usize = 4096;
const FRAMES: u64 = 60;
const INCREMENTS: u32 = 24;
const PEER: &[u8] = b"a peer id of some thirty-eight bytes..";

fn frame(n: u64) -> ClockFrame {
    common::frame(
        FILTER,
        n,
        (0..516).map(|i| (i as u64 * 7 + n) as u8).collect(),
    )
}

fn proof(i: u32) -> DataTimeProof {
    DataTimeProof {
        difficulty: 200_000 - i,
        parallelism: 1 + i % 3,
        input: vec![i as u8; 40],
        output: (0..668).map(|b| (b as u32 * 3 + i) as u8).collect(),
    }
}

/// A store of a few dozen pages, like a node's after some increments.
fn original() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    for n in 0..FRAMES {
        store.append_frame(&frame(n)).unwrap();
    }
    for i in 0..INCREMENTS {
        store.append_data_time_proof(PEER, i, &proof(i)).unwrap();
    }
    drop(store);
    std::fs::read(dir.path().join(STORE_FILE)).unwrap()
}

/// Everything a reader can get out of the store must be exactly what was written.
fn reads_back_whole(store: &Store) -> Result<(), StoreError> {
    let report = store.check()?;
    assert_eq!(report.problem_count, 0, "{:?}", report.problems);
    assert_eq!(store.head_number(FILTER)?, Some(FRAMES - 1));
    let frames = store.frames(FILTER, 0..=FRAMES)?;
    assert_eq!(frames, (0..FRAMES).map(frame).collect::<Vec<_>>());
    let latest = store.latest_data_time_proof(PEER)?.unwrap();
    assert_eq!(latest.increment, INCREMENTS - 1);
    for i in 0..INCREMENTS {
        assert_eq!(
            store.data_time_proof(PEER, i)?,
            Some(proof(i)),
            "increment {i}"
        );
    }
    Ok(())
}

#[derive(Default, Debug)]
struct Outcomes {
    read_whole: usize,
    refused: usize,
}

/// Opens a damaged copy read-only and for writing; counts what happened.
fn try_copy(damaged: &[u8], outcomes: &mut Outcomes) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    std::fs::write(&path, damaged).unwrap();
    for writable in [false, true] {
        let opened = if writable {
            Store::open(&path)
        } else {
            Store::open_read_only(&path)
        };
        match opened.and_then(|store| reads_back_whole(&store)) {
            Ok(()) => outcomes.read_whole += 1,
            Err(e) => {
                assert_refused(&e, &path);
                // A refused store is left exactly as it was.
                assert_eq!(std::fs::read(&path).unwrap(), damaged, "file changed");
                outcomes.refused += 1;
            }
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no stray files"
    );
}

fn assert_refused(e: &StoreError, path: &Path) {
    let message = e.to_string();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{message}");
    assert!(
        message.contains(&path.display().to_string()),
        "names the file: {message}"
    );
}

#[test]
fn every_zeroed_page_is_read_whole_or_refused() {
    let original = original();
    let pages = original.len().div_ceil(PAGE);
    assert!(pages >= 20, "a store of {pages} pages is too small to test");
    let mut outcomes = Outcomes::default();
    for page in 0..pages {
        let mut damaged = original.clone();
        let end = ((page + 1) * PAGE).min(damaged.len());
        if damaged[page * PAGE..end].iter().all(|&b| b == 0) {
            continue;
        }
        damaged[page * PAGE..end].fill(0);
        try_copy(&damaged, &mut outcomes);
    }
    assert!(outcomes.refused > 0, "{outcomes:?}");
    eprintln!("{pages} pages: {outcomes:?}");
}

#[test]
fn two_thousand_flipped_bytes_are_read_whole_or_refused() {
    let original = original();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut outcomes = Outcomes::default();
    for _ in 0..2000 {
        let mut damaged = original.clone();
        let at = (next() % damaged.len() as u64) as usize;
        damaged[at] ^= 1 << (next() % 8);
        try_copy(&damaged, &mut outcomes);
    }
    assert!(outcomes.refused > 0, "{outcomes:?}");
    eprintln!("2000 flips: {outcomes:?}");
}
