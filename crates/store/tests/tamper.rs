//! Records changed behind qnode's back, with valid page checksums (written through redb
//! itself): the check names the chain and the increment, and the node's open refuses the
//! store. Plus the schema version: an old store is migrated, a newer one refused.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_store::{DataTimeProof, Store, StoreError, SCHEMA_VERSION, STORE_FILE};
use redb::{Database, TableDefinition};
use std::path::Path;

const PROOFS: TableDefinition<(&[u8], u32), &[u8]> = TableDefinition::new("data_time_proofs");
const LATEST: TableDefinition<&[u8], &[u8]> = TableDefinition::new("data_time_proof_latest");
const META: TableDefinition<&str, u32> = TableDefinition::new("qnode_meta");
const PEER: &[u8] = b"\x00\x24\x08\x01\x12\x20peer-id-bytes-of-thirty-two-b";

fn chain(dir: &Path) {
    let store = Store::open_in(dir).unwrap();
    for i in 0..6 {
        let proof = DataTimeProof {
            difficulty: 100,
            parallelism: 2,
            input: vec![i as u8; 8],
            output: vec![i as u8; 668],
        };
        store.append_data_time_proof(PEER, i, &proof).unwrap();
    }
}

/// Changes the store with redb directly, as a hostile editor with the right tools would.
fn tamper(dir: &Path, change: impl FnOnce(&redb::WriteTransaction)) {
    let db = Database::open(dir.join(STORE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    change(&txn);
    txn.commit().unwrap();
}

fn latest(increment: u32, reward: u128) -> [u8; 36] {
    let mut v = [0u8; 36];
    v[..4].copy_from_slice(&increment.to_be_bytes());
    v[20..].copy_from_slice(&reward.to_be_bytes());
    v
}

/// The check's problems, after making sure the node's open refuses the store.
fn problems_after(change: impl FnOnce(&redb::WriteTransaction)) -> String {
    let dir = tempfile::tempdir().unwrap();
    chain(dir.path());
    tamper(dir.path(), change);
    let refused = Store::open_in(dir.path())
        .err()
        .expect("the node refuses it");
    assert!(matches!(refused, StoreError::Corrupt { .. }), "{refused}");
    let report = Store::open_read_only_in(dir.path())
        .unwrap()
        .check()
        .unwrap();
    assert!(report.problem_count > 0);
    format!("{refused} | {}", report.problems.join(" | "))
}

#[test]
fn a_lowered_latest_pointer_is_named() {
    let found = problems_after(|txn| {
        let mut t = txn.open_table(LATEST).unwrap();
        t.insert(PEER, latest(3, 4 * 2_400_000).as_slice()).unwrap();
    });
    assert!(
        found.contains("latest pointer says increment 3") && found.contains("increment 5"),
        "{found}"
    );
}

#[test]
fn an_edited_reward_is_named() {
    let found = problems_after(|txn| {
        let mut t = txn.open_table(LATEST).unwrap();
        t.insert(PEER, latest(5, 6 * 2_400_000 + 1).as_slice())
            .unwrap();
    });
    assert!(
        found.contains("stored reward 14400001 at increment 5"),
        "{found}"
    );
}

#[test]
fn a_removed_or_garbled_increment_is_named() {
    let found = problems_after(|txn| {
        let mut t = txn.open_table(PROOFS).unwrap();
        t.remove((PEER, 2)).unwrap();
    });
    assert!(
        found.contains("increment 3 follows a gap (expected increment 2)"),
        "{found}"
    );
    let found = problems_after(|txn| {
        let mut t = txn.open_table(PROOFS).unwrap();
        t.insert((PEER, 4), [1u8, 2, 3].as_slice()).unwrap();
    });
    assert!(found.contains("increment 4 does not decode"), "{found}");
}

#[test]
fn an_unversioned_store_is_migrated_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    chain(dir.path());
    tamper(dir.path(), |txn| {
        txn.delete_table(META).unwrap();
    });
    assert_eq!(
        Store::open_read_only_in(dir.path())
            .unwrap()
            .schema_version()
            .unwrap(),
        0,
        "read-only opens never migrate"
    );
    let store = Store::open_in(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(
        store
            .latest_data_time_proof(PEER)
            .unwrap()
            .unwrap()
            .increment,
        5
    );
    drop(store);

    tamper(dir.path(), |txn| {
        let mut t = txn.open_table(META).unwrap();
        t.insert("schema_version", SCHEMA_VERSION + 1).unwrap();
    });
    let before = std::fs::read(dir.path().join(STORE_FILE)).unwrap();
    for refused in [
        Store::open_in(dir.path()).err().expect("refused"),
        Store::open_read_only_in(dir.path()).err().expect("refused"),
    ] {
        assert!(
            matches!(refused, StoreError::TooNew { found: 2, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("newer qnode"), "{refused}");
    }
    assert_eq!(std::fs::read(dir.path().join(STORE_FILE)).unwrap(), before);
}

#[test]
fn read_only_opens_never_write() {
    let dir = tempfile::tempdir().unwrap();
    chain(dir.path());
    let path = dir.path().join(STORE_FILE);
    let before = (
        std::fs::read(&path).unwrap(),
        std::fs::metadata(&path).unwrap().modified().unwrap(),
    );
    let store = Store::open_read_only_in(dir.path()).unwrap();
    assert_eq!(store.check().unwrap().problem_count, 0);
    let refused = store
        .append_data_time_proof(
            PEER,
            6,
            &DataTimeProof {
                difficulty: 1,
                parallelism: 1,
                input: vec![],
                output: vec![],
            },
        )
        .expect_err("no writes");
    assert!(matches!(refused, StoreError::ReadOnly { .. }), "{refused}");
    drop(store);
    let after = (
        std::fs::read(&path).unwrap(),
        std::fs::metadata(&path).unwrap().modified().unwrap(),
    );
    assert!(before == after, "bytes and mtime unchanged");
}
