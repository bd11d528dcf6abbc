//! `qnode ceremony …` and `qnode self-test`, run as real processes.

use crate::common::{qnode, text};
use std::path::Path;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn init_contribute_contribute_verify_and_tampering_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..3).map(|i| dir.path().join(format!("pot{i}"))).collect();
    let out = qnode(&[
        "ceremony",
        "init",
        "--powers",
        "16",
        "--out",
        path(&files[0]),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for i in 0..2 {
        let out = qnode(&[
            "ceremony",
            "contribute",
            "--in",
            path(&files[i]),
            "--out",
            path(&files[i + 1]),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out = qnode(&["ceremony", "verify", path(&files[2])]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "valid: 16 powers, 3 contributions\n");

    let mut bytes = std::fs::read(&files[2]).unwrap();
    bytes[24 + 74 * 3 + 10] ^= 0x40; // inside the fourth G1 power
    let tampered = dir.path().join("tampered");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = qnode(&["ceremony", "verify", path(&tampered)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "invalid\n");
    assert!(
        text(&out.stderr).contains("is not a valid setup"),
        "{}",
        text(&out.stderr)
    );

    let refused = qnode(&[
        "ceremony",
        "init",
        "--powers",
        "16",
        "--out",
        path(&files[0]),
    ]);
    assert!(
        !refused.status.success(),
        "existing files are not overwritten"
    );
    let too_big = qnode(&[
        "ceremony",
        "init",
        "--powers",
        "2048",
        "--out",
        path(&dir.path().join("big")),
    ]);
    assert!(text(&too_big.stderr).contains("roots of unity only up to 1024"));
}

#[test]
fn self_test_runs_once_and_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let config = path(dir.path());
    let first = qnode(&["self-test", "--config-dir", config, "--difficulty", "20"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stderr).contains("local, single-party setup"));
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(report["fingerprint"]["difficulty"], 20);
    assert_eq!(report["commit_ms"].as_array().unwrap().len(), 3);

    let second = qnode(&["self-test", "--config-dir", config, "--difficulty", "20"]);
    assert!(text(&second.stderr).contains("reusing the stored self-test"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&second.stdout).unwrap(),
        report
    );

    let other = qnode(&["self-test", "--config-dir", config, "--difficulty", "21"]);
    assert!(
        !text(&other.stderr).contains("reusing"),
        "a new difficulty measures again"
    );
    let forced = qnode(&[
        "self-test",
        "--config-dir",
        config,
        "--difficulty",
        "21",
        "--force",
    ]);
    assert!(!text(&forced.stderr).contains("reusing"));
}
