//! The master clock ticks as the original's: every node proves the next frame as soon as
//! it has a new head, so a lone node's head advances at the rate its frame time and the
//! devnet's pacing allow, and the nodes of a devnet stay together without going back.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::http::get;
use common::node::spawn;
use common::{exclusive, lines_of, wait_for};
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The head a node's `/api/status` reports now.
fn head(http: u16) -> Option<u64> {
    let (code, body) = get(http, "/api/status")?;
    (code == 200).then_some(())?;
    let status: serde_json::Value = serde_json::from_str(&body).ok()?;
    status["head_frame"].as_u64()
}

#[test]
fn a_lone_nodes_head_advances_at_the_rate_its_frame_time_allows() {
    let _alone = exclusive();
    const PACING_MS: u64 = 200;
    const HTTP: u16 = 29450;
    let dir = tempfile::tempdir().unwrap();
    let pacing = PACING_MS.to_string();
    let http = format!("127.0.0.1:{HTTP}");
    let args = [
        "--workers",
        "1",
        "--worker-base-port",
        "29460",
        "--http-listen",
        &http,
        "--min-frame-interval-ms",
        &pacing,
    ];
    let _node = spawn(dir.path(), &args);
    let start = wait_for(Duration::from_secs(120), "the clock to start", || {
        head(HTTP).filter(|h| *h >= 2)
    });
    let started = Instant::now();
    // A measuring window, not a wait for an event: the rate is what is tested.
    std::thread::sleep(Duration::from_secs(6));
    let end = head(HTTP).unwrap();
    let elapsed_ms = started.elapsed().as_millis() as u64;

    let report = std::fs::read(dir.path().join("self-test.json")).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let frame_ms = report["difficulty_metric_ms"].as_u64().unwrap();
    // The pacing counts from the head's arrival, so a frame's proof comes on top of it.
    let per_frame_ms = frame_ms + PACING_MS;
    let allowed = elapsed_ms / per_frame_ms;
    let advanced = end - start;
    // Half the allowed rate at least (a loaded machine), and never faster than the pacing.
    assert!(
        advanced * 2 >= allowed,
        "{advanced} frames in {elapsed_ms} ms; a frame takes {frame_ms} ms, paced to {PACING_MS} ms"
    );
    assert!(
        advanced <= elapsed_ms / PACING_MS + 1,
        "{advanced} frames in {elapsed_ms} ms, paced to {PACING_MS} ms"
    );
}

/// The frame interval `qnode devnet` printed that it paced its nodes to, in ms.
fn paced_frame_ms(line: &str) -> Option<u64> {
    let (_, rest) = line.split_once("a frame at most every ")?;
    let (seconds, _) = rest.split_once(" s")?;
    Some((seconds.parse::<f64>().ok()? * 1000.0) as u64)
}

#[test]
fn a_devnets_heads_stay_within_two_frames_for_a_minute_and_never_go_back() {
    let _alone = exclusive();
    const BASE: u16 = 29500;
    const WINDOW: Duration = Duration::from_secs(60);
    let dir = tempfile::tempdir().unwrap();
    let mut devnet = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["devnet", "--nodes", "3", "--dir"])
        .arg(dir.path())
        .args(["--base-port", &BASE.to_string()])
        .args(["--worker-base-port", "29800"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let output = lines_of(devnet.stdout.take().unwrap());
    let _devnet = common::Process(devnet);
    // The devnet paces itself to how fast this machine runs now, so the rate it may tick at
    // is what it printed.
    let pace_ms = wait_for(Duration::from_secs(180), "the devnet's pace", || {
        output.try_iter().find_map(|line| paced_frame_ms(&line))
    });
    let https: Vec<u16> = (0..3).map(|i| BASE + 100 + i).collect();
    let heads = |https: &[u16]| https.iter().map(|p| head(*p)).collect::<Option<Vec<u64>>>();
    wait_for(Duration::from_secs(180), "every node past frame 3", || {
        heads(&https).filter(|h| h.iter().all(|h| *h >= 3))
    });

    let mut last: HashMap<usize, u64> = HashMap::new();
    let (mut samples, mut first, mut latest) = (0, None, 0);
    let until = Instant::now() + WINDOW;
    while Instant::now() < until {
        let Some(now) = heads(&https) else {
            continue;
        };
        let (low, high) = (*now.iter().min().unwrap(), *now.iter().max().unwrap());
        assert!(high - low <= 2, "heads apart: {now:?}");
        for (node, head) in now.iter().enumerate() {
            let before = last.insert(node, *head).unwrap_or(0);
            assert!(
                *head >= before,
                "node {node} went back from {before} to {head}"
            );
        }
        first.get_or_insert(low);
        latest = high;
        samples += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(samples > 100, "only {samples} samples");
    let first = first.unwrap();
    let report = std::fs::read(dir.path().join("node-0/self-test.json")).unwrap();
    let report: serde_json::Value = serde_json::from_slice(&report).unwrap();
    let proof_ms = report["difficulty_metric_ms"].as_u64().unwrap();
    // A frame's proof (and its peers' verification) comes on top of the pace.
    let allowed = WINDOW.as_millis() as u64 / (pace_ms + proof_ms);
    eprintln!("{first} → {latest} in a minute, paced to {pace_ms} ms plus {proof_ms} ms of proof");
    // Half the allowed rate at least: a loaded machine.
    assert!(
        (latest - first) * 2 >= allowed,
        "the clock barely moved in a minute: {first} → {latest}, paced to a frame every \
         {pace_ms} ms that takes {proof_ms} ms to prove"
    );
}
