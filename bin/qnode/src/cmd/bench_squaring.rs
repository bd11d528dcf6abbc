//! `qnode bench vdf`'s cost per squaring with the proof included, as issue 17 defines it:
//! (solve at 300000 − solve at 100000) / 200000. The difference cancels what a solve pays
//! once (the discriminant, the proof's prime), and what is left includes the proof's
//! share, which grows with the difficulty like the squarings do.

use anyhow::Result;
use std::time::{Duration, Instant};

/// The two difficulties whose solve times are subtracted.
pub const FROM: u32 = 100_000;
pub const TO: u32 = 300_000;
const CHALLENGE: &[u8] = b"qnode bench vdf marginal squaring";

/// qnode's cost per squaring, proof included.
pub fn qnode() -> Result<Duration> {
    let solve = |t: u32| -> Result<Duration> {
        let start = Instant::now();
        qnode_vdf::solve(CHALLENGE, t)?;
        Ok(start.elapsed())
    };
    per_squaring(solve(FROM)?, solve(TO)?)
}

/// The same through the original's arithmetic (crates.io `vdf` 0.1.0).
#[cfg(feature = "bench-baseline")]
pub fn baseline() -> Result<Option<Duration>> {
    use vdf_baseline::{VDFParams, WesolowskiVDFParams, VDF};
    let vdf = WesolowskiVDFParams(2048).new();
    let solve = |t: u32| -> Result<Duration> {
        let start = Instant::now();
        vdf.solve(CHALLENGE, u64::from(t))
            .map_err(|e| anyhow::anyhow!("baseline solve: {e:?}"))?;
        Ok(start.elapsed())
    };
    Ok(Some(per_squaring(solve(FROM)?, solve(TO)?)?))
}

#[cfg(not(feature = "bench-baseline"))]
pub fn baseline() -> Result<Option<Duration>> {
    Ok(None)
}

fn per_squaring(from: Duration, to: Duration) -> Result<Duration> {
    let extra = to.checked_sub(from).ok_or_else(|| {
        anyhow::anyhow!(
            "solving {TO} squarings took less than {FROM}: the machine is too noisy to measure"
        )
    })?;
    Ok(extra / (TO - FROM))
}
