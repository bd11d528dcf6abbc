//! Wesolowski's proof: `π = x^⌊2^t / B⌋` for the prime `B` hashed from `x`, `y` and `t`,
//! checked as `π^B · x^(2^t mod B) = y`.

use crate::form::{Form, FORM_BYTES};
use crate::group::ClassGroup;
use rug::integer::{IsPrime, Order};
use rug::Integer;
use sha2::{Digest, Sha256};

/// The proof's prime: the first SHA-256("prime" || BE u64 j || x || y || BE u32 t), cut to
/// 16 bytes, that GMP calls probably prime. The `t` term is the original's fork; upstream
/// `vdf` 0.1.0 hashes without it.
pub(crate) fn hash_prime(x: &[u8; FORM_BYTES], y: &[u8; FORM_BYTES], t: u32) -> Integer {
    (0u64..)
        .map(|j| {
            let digest = Sha256::new()
                .chain_update(b"prime")
                .chain_update(j.to_be_bytes())
                .chain_update(x)
                .chain_update(y)
                .chain_update(t.to_be_bytes())
                .finalize();
            Integer::from_digits(&digest[..16], Order::Msf)
        })
        .find(|candidate| candidate.is_probably_prime(1) != IsPrime::No)
        .expect("primes are dense among 128-bit integers")
}

/// The window width `k` minimising the multiplications of [`prove`]: `t/k` to gather the
/// checkpoints into buckets plus about `2^(k+1)` to combine the buckets.
pub(crate) fn window_bits(t: u32) -> u32 {
    (1..=20)
        .min_by_key(|&k| u64::from(t) / u64::from(k) + (2u64 << k))
        .unwrap_or(1)
}

/// Computes `π = x^⌊2^t / B⌋` from `checkpoints[i] = x^(2^(k·i))`.
///
/// Write `⌊2^t / B⌋ = Σ bᵢ·2^(k·i)` with k-bit digits `bᵢ`; then `π = Π_b (Π_{bᵢ = b}
/// checkpoints[i])^b`. Each digit is `⌊2^k·(2^(t−k(i+1)) mod B) / B⌋`. Digits with
/// `k(i+1) > t` are zero: there `2^(t−k·i) < 2^k < 2^127 < B`.
pub(crate) fn prove(
    group: &mut ClassGroup,
    checkpoints: &[Form],
    k: u32,
    t: u32,
    b: &Integer,
) -> Form {
    let mut buckets: Vec<Option<Form>> = vec![None; 1 << k];
    let two_k = Integer::from(1) << k;
    // Walk i downward so 2^(t−k(i+1)) mod B grows by a factor 2^k per step.
    let top = (t / k) as usize; // largest i with k(i+1) ≤ t is top − 1
    let mut residue = Integer::new();
    for i in (0..top).rev() {
        let e = t - k * (i as u32 + 1);
        if i + 1 == top {
            residue = Integer::from(2)
                .pow_mod(&Integer::from(e), b)
                .expect("B is an odd prime");
        } else {
            residue *= &two_k;
            residue %= b;
        }
        let digit = Integer::from(&residue * &two_k) / b;
        let digit = digit.to_usize().expect("a digit is below 2^k");
        if digit == 0 {
            continue;
        }
        match &mut buckets[digit] {
            Some(acc) => group.multiply(acc, &checkpoints[i]),
            slot @ None => *slot = Some(checkpoints[i].clone()),
        }
    }
    // Π_b bucket_b^b as Π_{j} (Π_{b ≥ j} bucket_b): two multiplications per bucket.
    let mut running: Option<Form> = None;
    let mut proof = group.identity();
    for bucket in buckets.into_iter().skip(1).rev() {
        if let Some(bucket) = bucket {
            match &mut running {
                Some(r) => group.multiply(r, &bucket),
                None => running = Some(bucket),
            }
        }
        if let Some(r) = &running {
            group.multiply(&mut proof, r);
        }
    }
    proof
}

/// Whether `π^B · x^(2^t mod B) = y`.
pub(crate) fn check(group: &mut ClassGroup, x: &Form, y: &Form, proof: &Form, t: u32) -> bool {
    let b = hash_prime(&x.to_bytes(), &y.to_bytes(), t);
    let r = Integer::from(2)
        .pow_mod(&Integer::from(t), &b)
        .expect("B is an odd prime");
    group.pow_product(proof, &b, x, &r) == *y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bits_follows_the_cost_model() {
        assert_eq!(window_bits(1), 1);
        assert_eq!(window_bits(200_000), 10);
        assert!(window_bits(u32::MAX) <= 20);
    }
}
