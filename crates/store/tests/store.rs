//! Chains in the store: order is enforced, data survives reopening, bad files are refused
//! and left untouched.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{DataTimeProof, Store, StoreError, REWARD_PER_CORE, STORE_FILE};

const FILTER: &[u8] = &[0xff; 32];

fn frame(n: u64) -> ClockFrame {
    common::frame(FILTER, n, vec![n as u8; 516])
}

fn proof(parallelism: u32) -> DataTimeProof {
    DataTimeProof {
        difficulty: 200_000,
        parallelism,
        input: vec![1, 2, 3],
        output: vec![4; 668],
    }
}

#[test]
fn frames_append_in_order_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_in(dir.path()).unwrap();
        assert_eq!(store.head_frame(FILTER).unwrap(), None);
        assert!(matches!(
            store.append_frame(&frame(1)),
            Err(StoreError::OutOfOrder(_))
        ));
        for n in 0..5 {
            store.append_frame(&frame(n)).unwrap();
        }
        assert!(matches!(
            store.append_frame(&frame(4)),
            Err(StoreError::OutOfOrder(_))
        ));
        assert!(matches!(
            store.append_frame(&frame(6)),
            Err(StoreError::OutOfOrder(_))
        ));
    }
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.head_number(FILTER).unwrap(), Some(4));
    assert_eq!(store.head_frame(FILTER).unwrap(), Some(frame(4)));
    let range: Vec<u64> = store
        .frames(FILTER, 1..=3)
        .unwrap()
        .iter()
        .map(|f| f.frame_number)
        .collect();
    assert_eq!(range, [1, 2, 3]);
    assert_eq!(store.head_number(&[0; 32]).unwrap(), None);
}

#[test]
fn proofs_are_consecutive_and_accumulate_reward() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    let peer = b"peer";
    assert!(matches!(
        store.append_data_time_proof(peer, 1, &proof(3)),
        Err(StoreError::OutOfOrder(_))
    ));
    store.append_data_time_proof(peer, 0, &proof(3)).unwrap();
    let latest = store.append_data_time_proof(peer, 1, &proof(5)).unwrap();
    assert_eq!(latest.increment, 1);
    assert_eq!(latest.reward, REWARD_PER_CORE * 8);
    assert!(matches!(
        store.append_data_time_proof(peer, 1, &proof(5)),
        Err(StoreError::OutOfOrder(_))
    ));
    assert_eq!(store.data_time_proof(peer, 1).unwrap(), Some(proof(5)));
    assert_eq!(store.latest_data_time_proof(b"other").unwrap(), None);
}

#[test]
fn a_second_opener_is_told_the_store_is_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open_in(dir.path()).unwrap();
    let second = Store::open_in(dir.path()).err().expect("refused");
    assert!(matches!(second, StoreError::InUse { .. }), "{second}");
}

fn assert_corrupt_and_untouched(bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(STORE_FILE);
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open_in(dir.path()).err().expect("refused");
    let message = err.to_string();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("left the file untouched"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "file modified");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no stray files");
}

#[test]
fn garbage_is_refused_and_left_alone() {
    assert_corrupt_and_untouched(b"this is not a database".repeat(1000));
    assert_corrupt_and_untouched(Vec::new());
}

#[test]
fn a_truncated_store_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open_in(dir.path()).unwrap();
        for n in 0..200 {
            store.append_frame(&frame(n)).unwrap();
        }
    }
    let full = std::fs::read(dir.path().join(STORE_FILE)).unwrap();
    for keep in [full.len() / 2, 4096, 100] {
        assert_corrupt_and_untouched(full[..keep].to_vec());
    }
}
