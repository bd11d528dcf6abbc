//! Multi-scalar multiplication Σ eᵢ·Pᵢ in G1: Pippenger's bucket method with a window
//! sized to the input, split across the available cores.

use crate::scalar::{Scalar, SCALAR_BYTES};
use miracl_core::bls48581::ecp::ECP;
use std::ops::Range;

/// Below this many terms, separate GLV multiplications beat bucketing.
const SMALL: usize = 32;

/// Σ scalars[i]·points[i] (extra points or scalars are ignored).
pub fn msm(points: &[ECP], scalars: &[Scalar]) -> ECP {
    let n = points.len().min(scalars.len());
    if n <= SMALL {
        return msm_naive(&points[..n], &scalars[..n]);
    }
    sum_in_parallel(n, |range| {
        pippenger(&points[range.clone()], &scalars[range])
    })
}

/// Σ f(range) over `0..n` split in one contiguous range per core.
pub(crate) fn sum_in_parallel(n: usize, f: impl Fn(Range<usize>) -> ECP + Sync) -> ECP {
    let mut sum = ECP::new();
    for part in in_chunks(n, f) {
        sum.add(&part);
    }
    sum
}

/// `f` over `0..n` split in one contiguous range per core, results in range order.
pub(crate) fn in_chunks<T: Send>(n: usize, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                scope.spawn(move || f(start..(start + chunk).min(n)))
            })
            .collect();
        parts
            .into_iter()
            .map(|part| part.join().expect("an MSM thread does not panic"))
            .collect()
    })
}

/// The baseline: one scalar multiplication per term, summed.
pub fn msm_naive(points: &[ECP], scalars: &[Scalar]) -> ECP {
    let mut sum = ECP::new();
    for (p, s) in points.iter().zip(scalars) {
        sum.add(&crate::points::g1_mul(p, &s.0));
    }
    sum
}

/// About log2(n) − 2 bits: balances the n additions per window against the 2·2^c
/// additions that combine the buckets.
fn window_bits(n: usize) -> usize {
    ((usize::BITS - n.leading_zeros()) as usize)
        .saturating_sub(3)
        .clamp(3, 12)
}

/// The c-bit digit of a big-endian scalar at window `w` (bits w·c … w·c + c − 1).
pub(crate) fn digit(bytes: &[u8; SCALAR_BYTES], w: usize, c: usize) -> usize {
    let mut d = 0usize;
    for bit in (w * c..(w + 1) * c).rev() {
        let byte = SCALAR_BYTES.checked_sub(1 + bit / 8);
        let set = byte.is_some_and(|i| bytes[i] >> (bit % 8) & 1 == 1);
        d = (d << 1) | usize::from(set);
    }
    d
}

fn pippenger(points: &[ECP], scalars: &[Scalar]) -> ECP {
    let c = window_bits(points.len());
    let bytes: Vec<[u8; SCALAR_BYTES]> = scalars.iter().map(Scalar::to_bytes).collect();
    // Scalars are below r, so windows above r's bit length are always zero.
    let windows = crate::scalar::order().nbits().div_ceil(c);
    let mut acc = ECP::new();
    let mut buckets = vec![ECP::new(); (1 << c) - 1];
    for w in (0..windows).rev() {
        for _ in 0..c {
            acc.dbl();
        }
        buckets.iter_mut().for_each(ECP::inf);
        for (p, b) in points.iter().zip(&bytes) {
            let d = digit(b, w, c);
            if d != 0 {
                buckets[d - 1].add(p);
            }
        }
        // Σ d·bucket_d as running sums from the top.
        let (mut running, mut window_sum) = (ECP::new(), ECP::new());
        for bucket in buckets.iter().rev() {
            running.add(bucket);
            window_sum.add(&running);
        }
        acc.add(&window_sum);
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pippenger_equals_the_naive_sum() {
        let g = ECP::generator();
        for n in [1usize, 5, 16, 70, 130] {
            let points: Vec<ECP> = (0..n)
                .map(|i| crate::points::g1_mul(&g, &Scalar::from_u64(i as u64 + 2).0))
                .collect();
            let scalars: Vec<Scalar> = (0..n).map(|_| Scalar::random().unwrap()).collect();
            assert!(
                msm(&points, &scalars).equals(&msm_naive(&points, &scalars)),
                "n = {n}"
            );
        }
    }
}
