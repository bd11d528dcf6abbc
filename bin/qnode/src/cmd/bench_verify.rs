//! `qnode bench verify`: how many peers' reports a node verifies per second, in all and
//! per core. Each report gets a distinct challenge at the real challenge-proof difficulty,
//! so every verification is cold (a new discriminant), the same work a node does for each
//! peer's report. Reports are verified several at once, one per core, as a node does;
//! each verification's prime search also spreads over the cores, so the per-core figure
//! is the total divided by the cores.

use super::bench_cold::spread;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::process::ExitCode;
use std::time::Instant;

/// A report's challenge: the author's peer id bytes (38) followed by its commitment (74).
fn challenge(seed: u64, i: u32) -> Vec<u8> {
    let mut bytes = format!("qnode bench verify peer {seed} {i}").into_bytes();
    bytes.resize(38 + 74, 0x5a);
    bytes
}

/// A report's challenge, the core it claims and its proof.
type Proved = (Vec<u8>, u32, [u8; qnode_vdf::OUTPUT_BYTES]);

/// `f(0) … f(count − 1)` on one thread per core (thread t takes t, t + cores, …).
fn on_every_core<T: Send>(count: u32, f: impl Fn(u32) -> Result<T> + Sync) -> Result<Vec<T>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..cores as u32)
            .map(|first| {
                let f = &f;
                s.spawn(move || {
                    (first..count)
                        .step_by(cores)
                        .map(f)
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut done = Vec::new();
        for thread in threads {
            let part = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a benchmark thread panicked"))?;
            done.extend(part?);
        }
        Ok(done)
    })
}

pub fn run(reports: u32, seed: u64, increment: u32) -> Result<ExitCode> {
    let difficulty = qnode_vdf::challenge_difficulty(increment);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    outln!(
        "proving {reports} reports at difficulty {difficulty} (increment {increment}), then \
         verifying them, both on all {cores} cores…"
    );
    let bar = ProgressBar::new(u64::from(reports)).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} proved, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let proved: Vec<Proved> = on_every_core(reports, |i| {
        let (challenge, core) = (challenge(seed, i), i % 4);
        let output = qnode_vdf::challenge_proof(&challenge, core, increment)?;
        bar.inc(1);
        Ok((challenge, core, output))
    })?;
    bar.finish_and_clear();
    // As a node verifies its peers' reports: several at once, each on its own thread.
    let started = Instant::now();
    let times = on_every_core(reports, |i| {
        let (challenge, core, output) = &proved[i as usize];
        let start = Instant::now();
        qnode_vdf::verify_challenge_proof(challenge, *core, increment, 1, output)?;
        Ok(start.elapsed())
    })?;
    let per_second = f64::from(reports) / started.elapsed().as_secs_f64();
    let s = spread(times);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    outln!("cold report verification, {reports} distinct challenges (seed {seed})");
    outln!("{:<28}{:>10.1}", "mean (ms)", ms(s.mean));
    outln!("{:<28}{:>10.1}", "p95 (ms)", ms(s.p95));
    outln!("{:<28}{:>10.2}", "reports/s, all cores", per_second);
    outln!(
        "{:<28}{:>10.2}",
        "reports/s per core",
        per_second / cores as f64
    );
    Ok(ExitCode::SUCCESS)
}
