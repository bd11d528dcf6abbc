//! The `qnode vdf` command-line contract, run as a real process.

use crate::common::{qnode, text};

#[test]
fn solve_prints_the_original_output_as_lowercase_hex() {
    let v = qnode_test_vectors::vdf();
    let case = v
        .solve
        .iter()
        .find(|c| c.difficulty == 100)
        .expect("a t=100 case");
    let diff = case.difficulty.to_string();
    let out = qnode(&[
        "vdf",
        "solve",
        "--challenge",
        &case.challenge,
        "--difficulty",
        &diff,
    ]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("{}\n", case.output));
}

/// `qnode vdf verify` → (exit code, stdout).
fn verify(challenge: &str, difficulty: &str, proof: &str) -> (Option<i32>, String) {
    let out = qnode(&[
        "vdf",
        "verify",
        "--challenge",
        challenge,
        "--difficulty",
        difficulty,
        "--proof",
        proof,
    ]);
    (out.status.code(), text(&out.stdout))
}

#[test]
fn verify_exit_codes_follow_the_contract() {
    let v = qnode_test_vectors::vdf();
    let case = &v.solve[0];
    let diff = case.difficulty.to_string();
    let valid = (Some(0), "valid\n".to_string());
    let invalid = (Some(1), "invalid\n".to_string());
    assert_eq!(verify(&case.challenge, &diff, &case.output), valid);

    let mut flipped = case.output.clone().into_bytes();
    flipped[600] = if flipped[600] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(verify(&case.challenge, &diff, &flipped), invalid);
    assert_eq!(verify(&case.challenge, &diff, "00"), invalid);

    // Malformed arguments are usage errors (exit 2) with a reason on stderr.
    let bad_hex = ["--challenge", "zz", "--difficulty", "5", "--proof", "00"];
    let zero = ["--challenge", "aa", "--difficulty", "0", "--proof", "00"];
    let negative = ["--challenge", "aa", "--difficulty", "-1", "--proof", "00"];
    let odd_hex = ["--challenge", "aa", "--difficulty", "5", "--proof", "abc"];
    let missing: [&str; 4] = ["--challenge", "aa", "--difficulty", "5"];
    for args in [&bad_hex[..], &zero, &negative, &odd_hex, &missing] {
        let out = qnode(&[&["vdf", "verify"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
}

#[test]
fn challenge_proof_matches_the_data_worker() {
    let v = qnode_test_vectors::vdf();
    let case = v
        .challenge_proof
        .iter()
        .min_by_key(|c| c.difficulty)
        .expect("a case");
    let (core, inc) = (case.core.to_string(), case.increment.to_string());
    let out = qnode(&[
        "vdf",
        "challenge-proof",
        "--challenge",
        &case.challenge,
        "--core",
        &core,
        "--increment",
        &inc,
    ]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("{}\n", case.output));
}

/// The number after `label` on its line of `out`.
fn figure(out: &str, label: &str) -> f64 {
    let line = out.lines().find(|l| l.starts_with(label)).unwrap();
    line[label.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn bench_vdf_reports_the_squaring_cost_and_cold_verification_over_seeded_challenges() {
    let out = qnode(&[
        "bench",
        "vdf",
        "--difficulty",
        "50",
        "--challenges",
        "4",
        "--cold-difficulty",
        "20",
        "--squaring-from",
        "100",
        "--squaring-to",
        "3000",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(
        out.contains("per squaring incl. proof: (solve at 3000 − solve at 100) / 2900"),
        "{out}"
    );
    assert!(figure(&out, "µs") > 0.0, "{out}");
    assert!(
        out.contains("cold verify, 4 seeded challenges (seed 1), difficulty 20"),
        "{out}"
    );
    let (mean, p95) = (figure(&out, "mean (ms)"), figure(&out, "p95 (ms)"));
    // With 4 challenges the nearest-rank p95 is the slowest one.
    assert!(mean > 0.0 && p95 >= mean, "{out}");
}

#[test]
fn bench_verify_reports_reports_per_second_per_core() {
    // Increment 799996 has difficulty 1: the figure is then all discriminant.
    let out = qnode(&["bench", "verify", "--reports", "3", "--increment", "799996"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(out.contains("3 distinct challenges"), "{out}");
    let (all, per_core) = (
        figure(&out, "reports/s, all cores"),
        figure(&out, "reports/s per core"),
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    assert!(per_core > 0.0, "{out}");
    assert!((all / per_core - cores).abs() < 0.05 * cores, "{out}");
}

#[test]
fn bench_loop_reports_the_critical_path_beside_the_sequential_total() {
    let out = qnode(&["bench", "loop", "--increments", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = text(&out.stdout);
    assert!(out.contains("critical path"), "{out}");
    for parallelism in ["1", "16", "128"] {
        let row: Vec<f64> = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(parallelism))
            .unwrap_or_else(|| panic!("no row for {parallelism}: {out}"))
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        let [_, critical, round_trip, open, store, total, rss] = row[..] else {
            panic!("{out}");
        };
        assert!(
            critical > 0.0 && open > 0.0 && store > 0.0 && rss > 0.0,
            "{out}"
        );
        // The total is the sum of the parts. Each of the five figures is printed rounded to
        // 0.1 ms, so they can disagree by up to 5 × 0.05 (0.2 was seen: 31.0 against 30.8).
        assert!(
            (total - (round_trip + critical + open + store)).abs() <= 0.25 + 1e-9,
            "{out}"
        );
        // The opening and the store are off the critical path, so it is shorter.
        assert!(critical < total, "{out}");
    }
}
