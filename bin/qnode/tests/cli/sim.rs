//! `qnode sim` as a user runs it: twenty-four real nodes in one process, two of
//! them forgers, one honest node joining halfway; the JSON it prints shows the forgers scored
//! out by every honest node, no honest node penalised, one head, and the late node caught
//! up (with the first frame it hears past its gap). And Ctrl-C: the run stops and removes
//! its temporary directory.

use crate::common::{exclusive, qnode, quiet, signal, wait_for};
use std::time::Duration;

#[test]
fn twenty_four_peers_with_ten_percent_forgers_score_out_every_forger_and_agree() {
    // Its propagation and bandwidth bounds are not for a machine shared with a devnet.
    let _one = exclusive();
    let out = qnode(&[
        "sim",
        "--peers",
        "24",
        "--forgers",
        "10",
        // Long enough for a debug build on a machine at half speed to give the forgers
        // frames to be caught on (60 s left one honest node short on 3 December).
        "--seconds",
        "90",
        "--seed",
        "7",
        // Ports from the OS. A release build on two cores holds 100 nodes (docs/scale.md);
        // a debug build costs more, so the test stays well below that.
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["peers"], 24, "{report}");
    assert_eq!(report["forgers"], 2, "{report}");
    assert!(report["graylist_all_s"].as_f64().is_some(), "{report}");
    assert_eq!(report["honest_penalized"], 0, "{report}");
    // The honest nodes measured each other (a slow echo while the tester itself was
    // stalled is inconclusive, not an offence, and never a pass).
    assert!(
        report["bandwidth_tests"]["passed"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert_eq!(report["heads_agree"], true, "{report}");
    // It joins 2 to 6 frames behind: fewer than the 10 a report must claim before frame
    // sync starts. The first frame it hears past that gap starts a sync (CI, 6 December:
    // 6 frames behind, never caught up, heads apart). Measured since: 7.8 s.
    assert!(report["late_join_sync_s"].as_f64().is_some(), "{report}");
    let all = &report["propagation_ms"]["100%"];
    assert!(all["frames"].as_u64().unwrap() >= 1, "{report}");
    // To 90 % of the nodes, measured here (debug build, 2 cores, seed 7): p99 0.14 to
    // 0.25 s. Reaching the very last node is its slowest moment on a loaded machine (3.4 s
    // seen), so the bound is on the network's pace, not on its straggler.
    let most = &report["propagation_ms"]["90%"];
    assert!(most["p99"].as_f64().unwrap() <= 2_000.0, "{report}");
    // Every honest node received gossip, and each message at least once.
    assert!(
        report["copies_per_message"].as_f64().unwrap() >= 1.0,
        "{report}"
    );
    // Measured here: 9.7 MiB a peer; a peer that costs three times that is a leak.
    let rss = report["rss_kib_per_peer"].as_u64().unwrap();
    assert!((1024..=32 * 1024).contains(&rss), "{report}");
    // Measured here: 0.72 of 2 cores. The sim paces itself to leave the machine room (a
    // saturated machine delays echoes into offences): 90 % of every core is a regression.
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    let used = report["cpu_ms_per_peer_per_s"].as_f64().unwrap() * 24.0 / 1000.0;
    assert!(used > 0.05 && used <= 0.9 * cores, "{used} cores: {report}");
}

#[test]
fn an_interrupted_sim_stops_and_leaves_no_directory_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sim = quiet(|c| {
        c.args(["sim", "--peers", "3", "--seconds", "600"])
            .env("TMPDIR", tmp.path())
    });
    let entries = || std::fs::read_dir(tmp.path()).unwrap().count();
    wait_for(Duration::from_secs(60), "the nodes' directory", || {
        (entries() > 0).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    signal("INT", sim.0.id());
    let status = wait_for(Duration::from_secs(30), "the sim to stop", || {
        sim.0.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(130));
    assert_eq!(entries(), 0, "the temporary directory is removed");
}
