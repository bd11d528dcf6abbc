//! A full disk, on a real 1 MiB tmpfs: a write that does not fit fails with the system's
//! error and changes nothing; once space is back the same store takes the write; a store
//! on a full disk still opens, for reading and for writing, and checks clean.
//!
//! Needs root (CI and these machines run as root) to mount the tmpfs; elsewhere it says so
//! and passes without testing.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{Store, StoreError};
use std::path::Path;
use std::process::Command;

const FILTER: &[u8] = &[0xff; 32];

fn frame(n: u64) -> ClockFrame {
    common::frame(FILTER, n, vec![n as u8; 20_000])
}

struct Tmpfs<'a>(&'a Path);

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

/// Fills the file system at `dir` with a filler file until a write fails.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    let _ = filler.sync_all();
}

#[test]
fn a_full_disk_fails_the_write_loses_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(dir.path())
        .status();
    if !matches!(mounted, Ok(s) if s.success()) {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?)");
        return;
    }
    let _unmount = Tmpfs(dir.path());
    let store = Store::open_in(dir.path()).unwrap();
    let mut stored = 0;
    while stored < 5 {
        store.append_frame(&frame(stored)).unwrap();
        stored += 1;
    }
    fill(dir.path());
    let failure = (stored..stored + 200)
        .find_map(|n| match store.append_frame(&frame(n)) {
            Ok(()) => {
                stored += 1;
                None
            }
            Err(e) => Some(e),
        })
        .expect("the disk fills up");
    let message = failure.to_string();
    assert!(matches!(failure, StoreError::Io { .. }), "{message}");
    assert!(
        message.contains("No space left on device"),
        "says why: {message}"
    );
    assert_eq!(store.head_number(FILTER).unwrap(), Some(stored - 1));

    std::fs::remove_file(dir.path().join("filler")).unwrap();
    store
        .append_frame(&frame(stored))
        .unwrap_or_else(|e| panic!("the same store takes the write once space is back: {e}"));
    stored += 1;
    drop(store);

    // Full again: reading needs no space at all, opening for writing needs none to spare.
    fill(dir.path());
    let read_only = Store::open_read_only_in(dir.path()).unwrap();
    assert_eq!(read_only.check().unwrap().problem_count, 0);
    assert_eq!(read_only.head_number(FILTER).unwrap(), Some(stored - 1));
    drop(read_only);
    let reopened = Store::open_in(dir.path()).unwrap();
    assert_eq!(reopened.head_number(FILTER).unwrap(), Some(stored - 1));
    drop(reopened);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["filler", "store.redb"], "no temporary files");
}
