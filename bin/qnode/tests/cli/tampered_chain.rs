//! A real proof chain with one byte of one record changed behind qnode's back, through
//! redb itself (so the file's checksums are right and the record decodes): the index, the
//! opened proof, the commitment or the opening. `qnode proofs --verify` must fail that
//! increment and name it.

use crate::common::node::spawn;
use crate::common::{qnode, text};
use qnode_protocol::proof_record::{IndexedProof, ProofRecord};
use redb::{Database, ReadableTable, TableDefinition};
use std::path::Path;
use std::time::Duration;

const PROOFS: TableDefinition<(&[u8], u32), &[u8]> = TableDefinition::new("data_time_proofs");
const TAMPERED: u32 = 2;

/// The stored value's layout: difficulty, parallelism, then length-prefixed input and
/// output (the original's); the output is the record's last 668 bytes.
fn flip_output_byte(dir: &Path, offset: usize) {
    let db = Database::open(dir.join(qnode_store::STORE_FILE)).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut table = txn.open_table(PROOFS).unwrap();
        let key = table
            .iter()
            .unwrap()
            .map(|entry| entry.unwrap().0.value().0.to_vec())
            .next()
            .expect("a stored record");
        let mut value = table
            .get((key.as_slice(), TAMPERED))
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        let start = value.len() - ProofRecord::BYTES;
        value[start + offset] ^= 0x01;
        table
            .insert((key.as_slice(), TAMPERED), value.as_slice())
            .unwrap();
    }
    txn.commit().unwrap();
}

#[test]
fn a_flipped_byte_in_any_field_of_a_record_fails_that_increment() {
    let template = tempfile::tempdir().unwrap();
    let node = spawn(
        template.path(),
        &["--workers", "2", "--worker-base-port", "22600"],
    );
    node.wait_for_increment(TAMPERED + 3, Duration::from_secs(120));
    node.terminate(Duration::from_secs(10));
    let d = template.path().to_str().unwrap();
    let intact = qnode(&["proofs", "--verify", "--config-dir", d]);
    assert!(intact.status.success(), "{}", text(&intact.stderr));

    let fields = [
        ("index", 3),
        ("opened proof", 4 + 100),
        ("commitment", IndexedProof::BYTES + 10),
        ("opening", IndexedProof::BYTES + 74 + 10),
    ];
    for (field, offset) in fields {
        let copy = crate::common::copy_of(template.path());
        flip_output_byte(copy.path(), offset);
        let c = copy.path().to_str().unwrap();
        let out = qnode(&["proofs", "--verify", "--config-dir", c]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            !out.status.success(),
            "{field}: a flipped byte verified\n{stdout}"
        );
        assert!(stderr.contains(" fails: "), "{field}: {stderr}");
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&TAMPERED.to_string()))
            .unwrap_or_else(|| panic!("{field}: no line for increment {TAMPERED}\n{stdout}"));
        assert!(
            line.ends_with("FAILED"),
            "{field}: increment {TAMPERED} passed: {line}"
        );
    }
}
