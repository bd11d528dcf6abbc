//! `qnode bench …`: speed measured in this run, against the original's arithmetic when
//! built with `--features bench-baseline`.

use super::bench_cold::ColdPlan;
use super::bench_squaring::Marginal;
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// VDF squarings per second, solve and verify times (2048-bit discriminant), the cost
    /// per squaring with the proof included (solves at 300000 and 100000 subtracted), and
    /// the mean and 95th percentile of cold verification over many challenges.
    Vdf {
        /// Squarings per solve.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
        difficulty: u32,
        /// Distinct challenges behind the cold-verification figure.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
        challenges: u32,
        /// Picks those challenges: the same seed measures the same ones.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Squarings per cold-verification proof: small, so the discriminant dominates.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
        cold_difficulty: u32,
        /// The smaller difficulty of the per-squaring figure.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
        squaring_from: u32,
        /// The larger difficulty of the per-squaring figure (above --squaring-from).
        #[arg(long, default_value_t = 300_000, value_parser = clap::value_parser!(u32).range(2..))]
        squaring_to: u32,
    },
    /// Peers' reports verified per second, in all and per core: distinct challenges at the
    /// real challenge-proof difficulty, each verification cold (a new discriminant).
    Verify {
        /// Reports proved and then verified.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
        reports: u32,
        /// Picks the challenges: the same seed measures the same ones.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The increment the reports claim (its difficulty is 200000 − increment/4).
        #[arg(long, default_value_t = 0)]
        increment: u32,
    },
    /// One proof-loop increment's cost beyond the workers' VDF time (stub workers that
    /// wait instead of proving), at parallelism 1, 16 and 128: the critical path between
    /// the last answer and the next challenge, the parts done meanwhile, what the old
    /// sequential loop paid in all, and the process's resident memory.
    Loop {
        /// Increments measured per parallelism.
        #[arg(long, default_value_t = 20)]
        increments: u32,
    },
}

struct Measured {
    squarings_per_second: f64,
    solve: Duration,
    verify: Duration,
}

const CHALLENGE: &[u8] = b"qnode bench vdf";

impl BenchCommand {
    pub fn run(self) -> Result<ExitCode> {
        let (difficulty, marginal, cold) = match self {
            BenchCommand::Vdf {
                difficulty,
                challenges,
                seed,
                cold_difficulty,
                squaring_from,
                squaring_to,
            } => (
                difficulty,
                Marginal {
                    from: squaring_from,
                    to: squaring_to,
                },
                ColdPlan {
                    challenges,
                    seed,
                    difficulty: cold_difficulty,
                },
            ),
            BenchCommand::Loop { increments } => return super::bench_loop::run(increments),
            BenchCommand::Verify {
                reports,
                seed,
                increment,
            } => return super::bench_verify::run(reports, seed, increment),
        };
        anyhow::ensure!(
            marginal.to > marginal.from,
            "--squaring-to must be above --squaring-from"
        );
        let ours = measure_qnode(difficulty)?;
        outln!("VDF at 2048 bits, difficulty {difficulty}");
        outln!("{:<22}{:>14}{:>14}{:>10}", "", "qnode", "baseline", "ratio");
        match measure_baseline(difficulty)? {
            Some(base) => {
                row(
                    "squarings/s",
                    ours.squarings_per_second,
                    base.squarings_per_second,
                    |x| format!("{x:.0}"),
                );
                row(
                    "solve incl. proof (s)",
                    secs(ours.solve),
                    secs(base.solve),
                    |x| format!("{x:.3}"),
                );
                row("verify (s)", secs(ours.verify), secs(base.verify), |x| {
                    format!("{x:.4}")
                });
            }
            None => {
                outln!("{:<22}{:>14.0}", "squarings/s", ours.squarings_per_second);
                outln!("{:<22}{:>14.3}", "solve incl. proof (s)", secs(ours.solve));
                outln!("{:<22}{:>14.4}", "verify (s)", secs(ours.verify));
                outln!(
                    "baseline not compiled in: run `cargo run --release -p qnode \
                     --features bench-baseline -- bench vdf` to measure it in the same run"
                );
            }
        }
        print_squaring_with_proof(marginal)?;
        print_cold(&cold)?;
        Ok(ExitCode::SUCCESS)
    }
}

fn print_squaring_with_proof(marginal: Marginal) -> Result<()> {
    let Marginal { from, to } = marginal;
    outln!(
        "per squaring incl. proof: (solve at {to} − solve at {from}) / {}, fastest of 3",
        to - from
    );
    let ours = marginal.qnode()?;
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    match marginal.baseline()? {
        Some(base) => row("µs", micros(ours), micros(base), |x| format!("{x:.2}")),
        None => outln!("{:<22}{:>14.2}", "µs", micros(ours)),
    }
    Ok(())
}

fn print_cold(plan: &ColdPlan) -> Result<()> {
    outln!(
        "cold verify, {} seeded challenges (seed {}), difficulty {}",
        plan.challenges,
        plan.seed,
        plan.difficulty
    );
    let ours = plan.qnode()?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let one_decimal = |x: f64| format!("{x:.1}");
    match plan.baseline()? {
        Some(base) => {
            row("mean (ms)", ms(ours.mean), ms(base.mean), one_decimal);
            row("p95 (ms)", ms(ours.p95), ms(base.p95), one_decimal);
        }
        None => {
            outln!("{:<22}{:>14.1}", "mean (ms)", ms(ours.mean));
            outln!("{:<22}{:>14.1}", "p95 (ms)", ms(ours.p95));
        }
    }
    Ok(())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Prints one comparison; the ratio is always "how many times better qnode is".
fn row(name: &str, ours: f64, base: f64, fmt: impl Fn(f64) -> String) {
    let higher_is_better = name.ends_with("/s");
    let ratio = if higher_is_better {
        ours / base
    } else {
        base / ours
    };
    outln!(
        "{name:<22}{:>14}{:>14}{:>9.2}×",
        fmt(ours),
        fmt(base),
        ratio
    );
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn measure_qnode(t: u32) -> Result<Measured> {
    let mut group = qnode_vdf::ClassGroup::new(qnode_vdf::create_discriminant(CHALLENGE));
    let mut x = group.generator();
    let ((), squaring) = timed(|| group.square_n(&mut x, u64::from(t)));
    let (out, solve) = timed(|| qnode_vdf::solve(CHALLENGE, t));
    let out = out?;
    // The first verify of a challenge pays for the discriminant, like a fresh peer's proof.
    let (ok, verify) = timed(|| qnode_vdf::verify(CHALLENGE, t, &out));
    ok?;
    Ok(Measured {
        squarings_per_second: f64::from(t) / squaring.as_secs_f64(),
        solve,
        verify,
    })
}

#[cfg(feature = "bench-baseline")]
fn measure_baseline(t: u32) -> Result<Option<Measured>> {
    use classgroup_baseline::gmp::mpz::Mpz;
    use vdf_baseline::{VDFParams, WesolowskiVDFParams, VDF};
    let d: Mpz = vdf_baseline::create_discriminant(CHALLENGE, 2048);
    let (_, squaring) = timed(|| classgroup_baseline::do_compute(d, u64::from(t)));
    let vdf = WesolowskiVDFParams(2048).new();
    let (out, solve) = timed(|| vdf.solve(CHALLENGE, u64::from(t)));
    let out = out.map_err(|e| anyhow::anyhow!("baseline solve: {e:?}"))?;
    let (ok, verify) = timed(|| vdf.verify(CHALLENGE, u64::from(t), &out));
    anyhow::ensure!(ok.is_ok(), "baseline rejected its own proof");
    Ok(Some(Measured {
        squarings_per_second: f64::from(t) / squaring.as_secs_f64(),
        solve,
        verify,
    }))
}

#[cfg(not(feature = "bench-baseline"))]
fn measure_baseline(_t: u32) -> Result<Option<Measured>> {
    Ok(None)
}
