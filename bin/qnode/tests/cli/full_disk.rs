//! A node's directory on a small tmpfs: when the disk fills, the node says so (ERROR log,
//! `/readyz` naming the store) and waits, and goes on once there is space; it starts, and
//! `proofs --verify` works, on a full disk; a read-only copy is read by every read command.
//! Nothing temporary is left behind.
//!
//! Needs root to mount (CI and these machines run as root); elsewhere each test says
//! SKIPPED and passes without testing.

use crate::common::http::get;
use crate::common::node::{spawn, start, Node};
use crate::common::{qnode, text, wait_for};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A tmpfs mounted over a temporary directory, unmounted when dropped.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        if !matches!(mounted, Ok(s) if s.success()) {
            eprintln!("SKIPPED: cannot mount a tmpfs here (not root?)");
            return None;
        }
        Some(Tmpfs(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn remount_read_only(&self) {
        let done = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(done.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.path()).status();
    }
}

/// Writes a filler file until the file system is full.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    let _ = filler.sync_all();
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial") || n.ends_with(".tmp") || n.ends_with(".creating"))
        .collect()
}

const HTTP: u16 = 22_300;

fn node_on(dir: &Path) -> Node {
    let http = format!("127.0.0.1:{HTTP}");
    spawn(
        dir,
        &[
            "--workers",
            "1",
            "--worker-base-port",
            "22310",
            "--http-listen",
            &http,
        ],
    )
}

#[test]
fn a_full_disk_pauses_the_node_says_why_and_it_goes_on_with_space() {
    let Some(disk) = Tmpfs::mount("4m") else {
        return;
    };
    let dir = disk.path();
    let node = node_on(dir);
    // 4 MiB is below a devnet's floor of 64 MiB: said before the disk is full.
    assert!(
        node.log_contains("min-free-space is 64 MiB", Duration::from_secs(60)),
        "a warning while there is still space"
    );
    let (code, body) = get(HTTP, "/readyz").unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("free some space"), "{body}");
    let before = node.wait_for_increment(2, Duration::from_secs(120));
    fill(dir);
    assert!(
        node.log_contains("cannot store the increment", Duration::from_secs(60)),
        "the failed write is logged"
    );
    let store = dir.join("store.redb").display().to_string();
    let (code, body) = wait_for(Duration::from_secs(30), "/readyz naming the store", || {
        get(HTTP, "/readyz").filter(|(_, body)| body.contains("store writes failing"))
    });
    assert_eq!(code, 503, "{body}");
    assert!(body.contains(&store), "names the file: {body}");
    assert!(body.contains("No space left on device"), "{body}");
    assert!(!body.contains("are the workers running"), "{body}");
    // The status file cannot be rewritten either; `qnode status` asks the node itself.
    wait_for(Duration::from_secs(30), "a stale status file", || {
        let s = qnode_operator::status::read(dir)?;
        (qnode_protocol::clock::now_ms() - s.updated_ms > 6_000).then_some(())
    });
    let out = qnode(&["status", "--config-dir", dir.to_str().unwrap()]);
    let screen = text(&out.stdout);
    assert!(
        screen.contains("state      running, NOT READY, its status file STALE (disk full?)"),
        "{screen}"
    );
    assert!(
        screen.contains("store writes failing"),
        "the node's own problems: {screen}"
    );

    std::fs::remove_file(dir.join("filler")).unwrap();
    let after = node.wait_for_increment(before + 3, Duration::from_secs(120));
    assert!(after > before);
    node.terminate(Duration::from_secs(5));

    // Full again: the node still starts (its store intact), and --verify works.
    fill(dir);
    let d = dir.to_str().unwrap();
    let verify = qnode(&["proofs", "--verify", "--config-dir", d]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    let restarted = node_on(dir);
    assert!(
        restarted.log_contains("proof loop starting", Duration::from_secs(120)),
        "a node starts on a full disk"
    );
    restarted.terminate(Duration::from_secs(5));
    assert_eq!(leftovers(dir), Vec::<String>::new());
}

#[test]
fn every_read_command_works_on_a_read_only_copy() {
    let Some(disk) = Tmpfs::mount("8m") else {
        return;
    };
    let node = start(disk.path(), 22_320, 1);
    node.wait_for_increment(2, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    disk.remount_read_only();
    let d = disk.path().to_str().unwrap();
    let reads: [&[&str]; 5] = [
        &["proofs", "--verify"],
        &["frames"],
        &["db", "check"],
        &["db", "stats"],
        &["db", "version"],
    ];
    for args in reads {
        let out = qnode(&[args, &["--config-dir", d]].concat());
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
}
