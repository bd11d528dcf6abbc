//! `qnode bench vdf`'s cost per squaring with the proof included, as issue 17 defines it:
//! (solve at 300000 − solve at 100000) / 200000 by default. The difference cancels what a
//! solve pays once (the proof's prime, and the discriminant, which is computed before
//! timing), and what is left includes the proof's share, which grows with the difficulty
//! like the squarings do. Each solve is timed three times and the fastest counts, so a
//! moment of load on a shared machine does not skew the difference.

use anyhow::Result;
use std::time::{Duration, Instant};

const CHALLENGE: &[u8] = b"qnode bench vdf marginal squaring";
const RUNS: usize = 3;

/// The two difficulties whose solve times are subtracted.
#[derive(Clone, Copy)]
pub struct Marginal {
    pub from: u32,
    pub to: u32,
}

impl Marginal {
    /// qnode's cost per squaring, proof included.
    pub fn qnode(&self) -> Result<Duration> {
        qnode_vdf::discriminant_cached(CHALLENGE);
        self.per_squaring(|t| {
            qnode_vdf::solve_shared(CHALLENGE, t)?;
            Ok(())
        })
    }

    /// The same through the original's arithmetic (crates.io `vdf` 0.1.0), which computes
    /// the discriminant in every solve: the difference cancels it.
    #[cfg(feature = "bench-baseline")]
    pub fn baseline(&self) -> Result<Option<Duration>> {
        use vdf_baseline::{VDFParams, WesolowskiVDFParams, VDF};
        let vdf = WesolowskiVDFParams(2048).new();
        let per_squaring = self.per_squaring(|t| {
            vdf.solve(CHALLENGE, u64::from(t))
                .map(drop)
                .map_err(|e| anyhow::anyhow!("baseline solve: {e:?}"))
        })?;
        Ok(Some(per_squaring))
    }

    #[cfg(not(feature = "bench-baseline"))]
    pub fn baseline(&self) -> Result<Option<Duration>> {
        Ok(None)
    }

    fn per_squaring(&self, mut solve: impl FnMut(u32) -> Result<()>) -> Result<Duration> {
        let mut fastest = |t: u32| -> Result<Duration> {
            let mut best = Duration::MAX;
            for _ in 0..RUNS {
                let start = Instant::now();
                solve(t)?;
                best = best.min(start.elapsed());
            }
            Ok(best)
        };
        let (from, to) = (fastest(self.from)?, fastest(self.to)?);
        let extra = to.checked_sub(from).ok_or_else(|| {
            anyhow::anyhow!(
                "solving {} squarings took less than {}: raise --squaring-to",
                self.to,
                self.from
            )
        })?;
        Ok(extra / (self.to - self.from))
    }
}
