//! A new operator's first steps: `qnode init`, then `qnode run` with nothing edited; and
//! mistakes — a misspelt option, a bad value, in the file, a flag or the environment —
//! refused with a message naming the option, before anything starts.

use crate::common::{qnode, quiet, text, wait_for};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn init(dir: &Path) -> Output {
    qnode(&["init", "--config-dir", dir.to_str().unwrap()])
}

/// `qnode run` expected to refuse its settings; a node that starts instead is killed and
/// fails the test.
fn refused_run(dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["run", "--config-dir", dir.to_str().unwrap()])
        .args(flags)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("qnode run {flags:?} {env:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    text(&output.stderr)
}

#[test]
fn init_then_run_starts_with_nothing_edited() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("node");
    let out = init(&dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    let key = dir.join("node-key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let config = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(config.contains("\ndevnet = true\n"), "{config}");
    assert!(
        config.contains("\n# worker-timeout-secs = 600\n"),
        "{config}"
    );

    let key_bytes = std::fs::read(&key).unwrap();
    let again = init(&dir);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&key).unwrap(), key_bytes, "the key was kept");
    assert_eq!(
        std::fs::read_to_string(dir.join("config.toml")).unwrap(),
        config
    );

    let mut node = quiet(|c| c.args(["run", "--config-dir"]).arg(&dir));
    let status = wait_for(
        Duration::from_secs(240),
        "the node's first increment",
        || {
            if let Ok(Some(exit)) = node.0.try_wait() {
                // Nothing edited means the default ports, so nothing else may hold them.
                panic!("the node exited ({exit}); are 127.0.0.1:8337 and :8338 free?");
            }
            qnode_operator::status::read(&dir).filter(|s| s.increment.is_some() && !s.stopped)
        },
    );
    assert!(printed.contains(&status.peer_id), "{printed}");
    assert_eq!(status.api_address, Some("127.0.0.1:8337".parse().unwrap()));
    assert_eq!(status.http_address, Some("127.0.0.1:8338".parse().unwrap()));
    let info = qnode(&["node-info", "--api", "127.0.0.1:8337", "--json"]);
    assert!(info.status.success(), "{}", text(&info.stderr));
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["peer_id"], status.peer_id.as_str());
}

#[test]
fn mistakes_are_refused_naming_the_option() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    assert!(init(dir).status.success());
    let path = dir.join("config.toml");
    let template = std::fs::read_to_string(&path).unwrap();
    let line = template.lines().count() + 1;
    let with = |extra: &str| std::fs::write(&path, format!("{template}{extra}\n")).unwrap();

    with("htp-listen = \"127.0.0.1:9000\"");
    let error = refused_run(dir, &[], &[]);
    assert!(
        error.contains(&format!(
            "config.toml line {line}: unknown option `htp-listen` — did you mean `http-listen`?"
        )),
        "{error}"
    );

    with("workers = \"two\"");
    let error = refused_run(dir, &[], &[]);
    assert!(error.contains("bad value for `workers`"), "{error}");
    assert!(error.contains("\"two\""), "{error}");

    // A flag beats the environment, which beats the file: the file's bad `workers` is
    // overridden by QNODE_WORKERS, so the flag's bad divisor is what is refused ...
    with("workers = 0");
    let error = refused_run(
        dir,
        &["--difficulty-divisor", "0"],
        &[("QNODE_WORKERS", "1")],
    );
    assert!(
        error.contains("`difficulty-divisor` = 0: must be at least 1"),
        "{error}"
    );
    // ... and a flag overrides that environment variable.
    let error = refused_run(dir, &["--workers", "0"], &[("QNODE_WORKERS", "1")]);
    assert!(
        error.contains("`workers` = 0: must be at least 1"),
        "{error}"
    );
    assert!(error.contains("QNODE_WORKERS"), "{error}");

    with("");
    let error = refused_run(dir, &[], &[("QNODE_GRPC_LISTEN", "nowhere")]);
    assert!(error.contains("--grpc-listen"), "{error}");
    assert!(error.contains("\"nowhere\" is not an address"), "{error}");
    // Outside a devnet a node needs a setup from a real ceremony; it says so at once. (Any
    // free ports: the start binds them before that check, and the template's fixed ones
    // may be taken by the test beside this one.)
    let any_ports = [
        "--http-listen",
        "127.0.0.1:0",
        "--grpc-listen",
        "127.0.0.1:0",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
    ];
    let error = refused_run(dir, &any_ports, &[("QNODE_DEVNET", "false")]);
    assert!(error.contains("no KZG setup at"), "{error}");
    let error = refused_run(dir, &["--devnet=false", "--difficulty-divisor", "10"], &[]);
    assert!(
        error.contains("`difficulty-divisor` = 10: only a devnet may weaken"),
        "{error}"
    );
    log_files_that_cannot_be_written_are_refused(dir);
}

/// A directory or a FIFO as the log file, or a size too small, stops the start with what
/// to do (a FIFO would otherwise block the start until something read it).
fn log_files_that_cannot_be_written_are_refused(dir: &Path) {
    let fifo = dir.join("log.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for odd in [dir.to_path_buf(), fifo] {
        let error = refused_run(dir, &["--log-file", odd.to_str().unwrap()], &[]);
        assert!(
            error.contains("not a regular file") && error.contains("set log-file to"),
            "{error}"
        );
    }
    let error = refused_run(dir, &[], &[("QNODE_LOG_FILE_MAX_SIZE", "10")]);
    assert!(
        error.contains("`log-file-max-size` = 10: must be at least 1KiB"),
        "{error}"
    );
    let error = refused_run(dir, &["--log-format", "xml"], &[]);
    assert!(
        error.contains("\"xml\" is not `text` nor `json`"),
        "{error}"
    );
}

#[test]
fn config_files_that_are_not_small_regular_files_are_refused_at_once() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let path = dir.join("config.toml");
    let refused = |what: &str| {
        let started = Instant::now();
        let error = refused_run(dir, &[], &[]);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: took {:?}",
            started.elapsed()
        );
        assert!(
            error.len() < 2_000,
            "{what}: {} bytes of error",
            error.len()
        );
        assert!(error.contains("fix:"), "{what}: {error}");
        error
    };

    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    let error = refused("a link to /dev/zero");
    assert!(error.contains("is a character device"), "{error}");
    std::fs::remove_file(&path).unwrap();

    let fifo = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(fifo.success());
    let error = refused("a FIFO");
    assert!(error.contains("is a named pipe (FIFO)"), "{error}");
    std::fs::remove_file(&path).unwrap();

    std::fs::create_dir(&path).unwrap();
    let error = refused("a directory");
    assert!(error.contains("is a directory"), "{error}");
    std::fs::remove_dir(&path).unwrap();

    std::fs::write(&path, "#".repeat(2 << 20)).unwrap();
    let error = refused("2 MiB");
    assert!(
        error.contains("2097152 bytes or more; at most 1048576 bytes (1 MiB)"),
        "{error}"
    );

    // Under the limit, a long unknown option is named in at most 200 bytes.
    std::fs::write(&path, format!("{} = 1\n", "k".repeat(1_000_000))).unwrap();
    let error = refused("a long unknown option");
    assert!(
        error.contains(&format!(
            "line 1: unknown option `{}… (1000000 bytes)`",
            "k".repeat(200)
        )),
        "{error}"
    );

    // A number past its range, from the file.
    std::fs::write(&path, "devnet = true\nmin-increment-ms = 3600001\n").unwrap();
    let error = refused("min-increment-ms past an hour");
    assert!(
        error.contains("`min-increment-ms` = 3600001: must be at most 3600000"),
        "{error}"
    );
    std::fs::write(&path, "devnet = true\ndevnet-setup-powers = 2048\n").unwrap();
    let error = refused("2048 powers");
    assert!(error.contains("use 16, 128 or 1024"), "{error}");
    std::fs::write(&path, "devnet = true\n").unwrap();
    let error = refused_run(dir, &["--worker-base-port", "0"], &[]);
    assert!(error.contains("`worker-base-port` = 0"), "{error}");
}
