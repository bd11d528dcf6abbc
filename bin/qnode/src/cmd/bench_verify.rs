//! `qnode bench verify`: how many peers' reports one core verifies per second. Each report
//! gets a distinct challenge at the real challenge-proof difficulty, so every verification
//! is cold (a new discriminant), the same work a node does for each peer's report.

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

fn prove_on_every_core(
    reports: u32,
    seed: u64,
    increment: u32,
    bar: &ProgressBar,
) -> Result<Vec<Proved>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let prove = |i: u32| -> Result<Proved> {
        let (challenge, core) = (challenge(seed, i), i % 4);
        let output = qnode_vdf::challenge_proof(&challenge, core, increment)?;
        bar.inc(1);
        Ok((challenge, core, output))
    };
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..cores as u32)
            .map(|first| {
                s.spawn(move || {
                    (first..reports)
                        .step_by(cores)
                        .map(prove)
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut proved = Vec::new();
        for thread in threads {
            let done = thread
                .join()
                .map_err(|_| anyhow::anyhow!("a proving thread panicked"))?;
            proved.extend(done?);
        }
        Ok(proved)
    })
}

pub fn run(reports: u32, seed: u64, increment: u32) -> Result<ExitCode> {
    let difficulty = qnode_vdf::challenge_difficulty(increment);
    println!(
        "proving {reports} reports at difficulty {difficulty} (increment {increment}) on every \
         core, then verifying them on one…"
    );
    let bar = ProgressBar::new(u64::from(reports)).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} proved, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let proved = prove_on_every_core(reports, seed, increment, &bar)?;
    bar.finish_and_clear();
    let mut times = Vec::new();
    for (challenge, core, output) in &proved {
        let start = Instant::now();
        qnode_vdf::verify_challenge_proof(challenge, *core, increment, 1, output)?;
        times.push(start.elapsed());
    }
    let s = spread(times);
    let per_second = 1.0 / s.mean.as_secs_f64();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!("cold report verification, {reports} distinct challenges (seed {seed})");
    println!("{:<28}{:>10.1}", "mean (ms)", ms(s.mean));
    println!("{:<28}{:>10.1}", "p95 (ms)", ms(s.p95));
    println!("{:<28}{:>10.2}", "reports/s per core", per_second);
    Ok(ExitCode::SUCCESS)
}
