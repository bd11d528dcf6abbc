//! `qnode bench vdf`'s cold-verification figure: the time to verify a proof of a challenge
//! never seen before, which must first find that challenge's discriminant. The prime search
//! behind it tests a number of candidates that varies about tenfold between challenges, so
//! the figure is a mean and a 95th percentile over many seeded challenges, never one.

use anyhow::Result;
use std::time::{Duration, Instant};

/// What to measure.
pub struct ColdPlan {
    /// Distinct challenges.
    pub challenges: u32,
    /// Picks the challenges: the same seed measures the same ones.
    pub seed: u64,
    /// Squarings per proof: small, so that the discriminant dominates.
    pub difficulty: u32,
}

/// Mean and 95th percentile of a set of timings.
pub struct Spread {
    pub mean: Duration,
    pub p95: Duration,
}

impl ColdPlan {
    fn challenge(&self, i: u32) -> Vec<u8> {
        format!("qnode bench cold verify {} {i}", self.seed).into_bytes()
    }

    /// qnode's cold verifications (each challenge's proof made first, untimed).
    pub fn qnode(&self) -> Result<Spread> {
        let mut times = Vec::new();
        for i in 0..self.challenges {
            let challenge = self.challenge(i);
            let output = qnode_vdf::solve(&challenge, self.difficulty)?;
            let start = Instant::now();
            qnode_vdf::verify(&challenge, self.difficulty, &output)?;
            times.push(start.elapsed());
        }
        Ok(spread(times))
    }

    /// The same challenges through the original's arithmetic (crates.io `vdf` 0.1.0).
    #[cfg(feature = "bench-baseline")]
    pub fn baseline(&self) -> Result<Option<Spread>> {
        use vdf_baseline::{VDFParams, WesolowskiVDFParams, VDF};
        let vdf = WesolowskiVDFParams(2048).new();
        let difficulty = u64::from(self.difficulty);
        let mut times = Vec::new();
        for i in 0..self.challenges {
            let challenge = self.challenge(i);
            let output = vdf
                .solve(&challenge, difficulty)
                .map_err(|e| anyhow::anyhow!("baseline solve: {e:?}"))?;
            let start = Instant::now();
            let verified = vdf.verify(&challenge, difficulty, &output);
            times.push(start.elapsed());
            anyhow::ensure!(verified.is_ok(), "baseline rejected its own proof");
        }
        Ok(Some(spread(times)))
    }

    #[cfg(not(feature = "bench-baseline"))]
    pub fn baseline(&self) -> Result<Option<Spread>> {
        Ok(None)
    }
}

/// Mean and nearest-rank 95th percentile.
pub fn spread(mut times: Vec<Duration>) -> Spread {
    times.sort();
    let n = times.len().max(1);
    let total: Duration = times.iter().sum();
    let rank = (n * 95).div_ceil(100).max(1) - 1;
    Spread {
        mean: total / n as u32,
        p95: times.get(rank).copied().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::{spread, Duration};

    #[test]
    fn the_95th_percentile_is_the_nearest_rank() {
        let ms = |v: u64| Duration::from_millis(v);
        let times: Vec<Duration> = (1..=40).rev().map(ms).collect();
        let s = spread(times);
        assert_eq!(s.p95, ms(38));
        assert_eq!(s.mean, Duration::from_micros(20_500));
        assert_eq!(spread(vec![ms(7)]).p95, ms(7));
    }
}
