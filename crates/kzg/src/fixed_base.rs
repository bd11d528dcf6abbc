//! Multi-scalar multiplication over bases known in advance: the Lagrange points every
//! commitment and opening of a domain uses. Each base's multiples 2^(c·w)·P are computed
//! once, so an MSM needs no doublings and every window shares one set of buckets: about
//! n·⌈bits/c⌉ additions plus one bucket sum, against Pippenger's ⌈bits/c⌉ bucket sums
//! and bits doublings.

use crate::msm::{digit, in_chunks, sum_in_parallel};
use crate::scalar::{order, Scalar};
use miracl_core::bls48581::ecp::ECP;

/// The precomputed multiples of a fixed set of bases.
pub struct FixedBases {
    window: usize,
    windows: usize,
    /// `multiples[i·windows + w]` = 2^(window·w)·bases[i].
    multiples: Vec<ECP>,
}

impl FixedBases {
    /// Computes every base's window multiples (window·windows doublings per base).
    pub fn new(bases: &[ECP]) -> FixedBases {
        let window = window_bits(bases.len());
        let windows = order().nbits().div_ceil(window);
        let per_thread = |range: std::ops::Range<usize>| -> Vec<ECP> {
            let mut out = Vec::with_capacity(range.len() * windows);
            for base in &bases[range] {
                let mut p = base.clone();
                for _ in 0..windows {
                    out.push(p.clone());
                    for _ in 0..window {
                        p.dbl();
                    }
                }
            }
            out
        };
        let multiples = in_chunks(bases.len(), per_thread).concat();
        FixedBases {
            window,
            windows,
            multiples,
        }
    }

    /// The number of bases.
    pub fn len(&self) -> usize {
        self.multiples.len() / self.windows
    }

    /// Whether there are no bases.
    pub fn is_empty(&self) -> bool {
        self.multiples.is_empty()
    }

    /// Σ scalars[i]·bases[i] (scalars beyond the bases are ignored).
    pub fn msm(&self, scalars: &[Scalar]) -> ECP {
        let n = self.len().min(scalars.len());
        sum_in_parallel(n, |range| self.msm_range(range, scalars))
    }

    fn msm_range(&self, range: std::ops::Range<usize>, scalars: &[Scalar]) -> ECP {
        let mut buckets = vec![ECP::new(); (1 << self.window) - 1];
        for i in range {
            let bytes = scalars[i].to_bytes();
            let multiples = &self.multiples[i * self.windows..(i + 1) * self.windows];
            for (w, multiple) in multiples.iter().enumerate() {
                let d = digit(&bytes, w, self.window);
                if d != 0 {
                    buckets[d - 1].add(multiple);
                }
            }
        }
        // Σ d·bucket_d as running sums from the top.
        let (mut running, mut sum) = (ECP::new(), ECP::new());
        for bucket in buckets.iter().rev() {
            running.add(bucket);
            sum.add(&running);
        }
        sum
    }
}

/// The window minimising the additions: n per window, plus 2·2^c for the one bucket sum.
fn window_bits(n: usize) -> usize {
    let bits = order().nbits();
    (2..=16)
        .min_by_key(|&c| n * bits.div_ceil(c) + (2 << c))
        .unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msm::msm_naive;

    #[test]
    fn fixed_base_msm_equals_the_naive_sum() {
        let g = ECP::generator();
        for n in [1usize, 5, 16, 70, 130] {
            let points: Vec<ECP> = (0..n)
                .map(|i| crate::points::g1_mul(&g, &Scalar::from_u64(i as u64 + 2).0))
                .collect();
            let table = FixedBases::new(&points);
            assert_eq!(table.len(), n);
            let scalars: Vec<Scalar> = (0..n).map(|_| Scalar::random().unwrap()).collect();
            assert!(
                table.msm(&scalars).equals(&msm_naive(&points, &scalars)),
                "n = {n}"
            );
            // Fewer scalars than bases: the rest count as zero.
            let few = &scalars[..n / 2];
            assert!(table.msm(few).equals(&msm_naive(&points[..n / 2], few)));
        }
    }

    #[test]
    fn the_window_balances_additions_against_the_bucket_sum() {
        assert_eq!(window_bits(128), 9);
        assert!(window_bits(1024) > window_bits(128));
    }
}
