//! The sieve in front of the discriminant's prime search: which offsets i of a window make
//! `n + M·i` divisible by a prime 17 ≤ p < 2^20 (M already rules out 2 to 13).
//!
//! Finding the first such i for a prime needs n mod p, and one of those per prime on a
//! 2048-bit n is most of the sieve's cost. So the primes are grouped into products of about
//! 512 bits: n mod P for the group first (GMP), then each prime's residue from that
//! quarter-size number by multiplications with a stored reciprocal instead of divisions,
//! and the groups are split over every core (docs/performance.md has the timings).

use rug::integer::Order;
use rug::{Assign, Integer};
use std::sync::OnceLock;

/// The candidates' step: n + M·i is never divisible by 2, 3, 5, 7, 11 or 13.
pub(crate) const M: u32 = 8 * 3 * 5 * 7 * 11 * 13;

/// Threads for the sieve and the search: every core, since a verification waits on them.
pub(crate) fn search_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

const PRIME_LIMIT: u32 = 1 << 20;
const GROUP_PRODUCT_BITS: u32 = 512;
const GROUP_LIMBS: usize = (GROUP_PRODUCT_BITS / 64) as usize;
const INTERLEAVED: usize = 4;

/// Primes whose product has at most [`GROUP_PRODUCT_BITS`] bits.
struct PrimeGroup {
    product: Integer,
    primes: Vec<SievePrime>,
}

/// A prime of the sieve, with what finding its first multiple needs.
#[derive(Clone, Copy)]
struct SievePrime {
    p: u32,
    /// M⁻¹ mod p.
    m_inverse: u32,
    /// ⌊(2^64 − 1) / p⌋: remainders by two multiplications instead of a division.
    reciprocal: u64,
}

impl SievePrime {
    fn new(p: u32) -> Self {
        Self {
            p,
            m_inverse: mod_inverse(M % p, p),
            reciprocal: u64::MAX / u64::from(p),
        }
    }

    /// x mod p (Barrett: the quotient estimate is exact or one short).
    fn reduce(self, x: u64) -> u64 {
        let p = u64::from(self.p);
        let quotient = ((u128::from(x) * u128::from(self.reciprocal)) >> 64) as u64;
        let r = x - quotient * p;
        if r >= p {
            r - p
        } else {
            r
        }
    }

    /// The number with these 64-bit limbs (least significant first) mod p, half a limb at
    /// a time so that each step stays below 2^64.
    fn residue(self, limbs: &[u64]) -> u64 {
        Self::residues([self], limbs)[0]
    }

    /// [`Self::residue`] for several primes at once: one prime's steps wait on each other,
    /// so interleaving independent primes keeps the multiplier busy (1.6× faster here).
    fn residues<const K: usize>(primes: [Self; K], limbs: &[u64]) -> [u64; K] {
        let mut acc = [0u64; K];
        for &limb in limbs.iter().rev() {
            for half in [limb >> 32, limb & 0xffff_ffff] {
                for (acc, prime) in acc.iter_mut().zip(primes) {
                    *acc = prime.reduce((*acc << 32) | half);
                }
            }
        }
        acc
    }

    /// The first offset i with p | n + M·i, from n mod p: i ≡ −n·M⁻¹ (mod p).
    fn first_multiple(self, n_mod_p: u64) -> u32 {
        let neg_n = if n_mod_p == 0 {
            0
        } else {
            u64::from(self.p) - n_mod_p
        };
        self.reduce(neg_n * u64::from(self.m_inverse)) as u32
    }
}

/// `composite[i]` becomes true for each offset i below its length at which `n + M·i`
/// has a prime factor below 2^20; the rest are left as they were.
pub(crate) fn mark_small_factors(n: &Integer, composite: &mut [bool]) {
    let groups = prime_groups();
    let chunk = groups.len().div_ceil(search_threads());
    let firsts: Vec<Vec<(u32, u32)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .chunks(chunk)
            .map(|part| scope.spawn(move || first_multiples(n, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    for (p, first) in firsts.into_iter().flatten() {
        composite
            .iter_mut()
            .skip(first as usize)
            .step_by(p as usize)
            .for_each(|c| *c = true);
    }
}

/// For each prime p of `groups`, the first offset i with p | n + M·i.
fn first_multiples(n: &Integer, groups: &[PrimeGroup]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(groups.iter().map(|g| g.primes.len()).sum());
    let mut residue = Integer::new();
    let mut limbs = [0u64; GROUP_LIMBS];
    for group in groups {
        // n mod p = (n mod P) mod p.
        residue.assign(n % &group.product);
        residue.write_digits(&mut limbs, Order::Lsf);
        let (batches, rest) = group.primes.as_chunks::<INTERLEAVED>();
        for &prime in rest {
            out.push((prime.p, prime.first_multiple(prime.residue(&limbs))));
        }
        for &batch in batches {
            let residues = SievePrime::residues(batch, &limbs);
            out.extend(
                batch
                    .iter()
                    .zip(residues)
                    .map(|(prime, r)| (prime.p, prime.first_multiple(r))),
            );
        }
    }
    out
}

fn prime_groups() -> &'static [PrimeGroup] {
    static GROUPS: OnceLock<Vec<PrimeGroup>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let mut groups = Vec::new();
        let mut group = PrimeGroup {
            product: Integer::from(1),
            primes: Vec::new(),
        };
        for p in primes_from_17_below(PRIME_LIMIT) {
            if group.product.significant_bits() + 32 - p.leading_zeros() > GROUP_PRODUCT_BITS {
                groups.push(std::mem::replace(
                    &mut group,
                    PrimeGroup {
                        product: Integer::from(1),
                        primes: Vec::new(),
                    },
                ));
            }
            group.product *= p;
            group.primes.push(SievePrime::new(p));
        }
        groups.push(group);
        groups
    })
}

fn primes_from_17_below(limit: u32) -> impl Iterator<Item = u32> {
    let limit = limit as usize;
    let mut is_prime = vec![true; limit];
    let mut p = 2;
    while p * p < limit {
        if is_prime[p] {
            (p * p..limit).step_by(p).for_each(|j| is_prime[j] = false);
        }
        p += 1;
    }
    (17..limit as u32).filter(move |&p| is_prime[p as usize])
}

/// x⁻¹ mod p for prime p not dividing x, by Fermat.
fn mod_inverse(x: u32, p: u32) -> u32 {
    let (mut base, mut exp, mut acc) = (u64::from(x), p - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % u64::from(p);
        }
        base = base * base % u64::from(p);
        exp >>= 1;
    }
    acc as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn groups_cover_every_prime_once_within_the_size() {
        let groups = prime_groups();
        let grouped: Vec<u32> = groups
            .iter()
            .flat_map(|g| g.primes.iter().map(|prime| prime.p))
            .collect();
        assert_eq!(
            grouped,
            primes_from_17_below(PRIME_LIMIT).collect::<Vec<_>>()
        );
        assert_eq!(grouped.len(), 82_019);
        for g in groups {
            assert!(g.product.significant_bits() <= GROUP_PRODUCT_BITS);
            let product = g
                .primes
                .iter()
                .fold(Integer::from(1), |acc, prime| acc * prime.p);
            assert_eq!(product, g.product);
        }
    }

    proptest! {
        /// The division-free residues are GMP's, for any primes the sieve could hold, one
        /// at a time or interleaved.
        #[test]
        fn residues_without_division_are_gmps(
            limbs in proptest::array::uniform8(any::<u64>()),
            odd in proptest::array::uniform4(3u32..),
        ) {
            let primes = odd.map(|p| SievePrime::new(p | 1));
            let n = Integer::from_digits(&limbs, Order::Lsf);
            let expected = primes.map(|prime| u64::from(n.mod_u(prime.p)));
            prop_assert_eq!(SievePrime::residues(primes, &limbs), expected);
            prop_assert_eq!(primes[0].residue(&limbs), expected[0]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Exactly the offsets with a factor in range are marked: checked by trial division.
        #[test]
        fn marks_exactly_the_offsets_with_a_small_factor(
            bytes in proptest::collection::vec(any::<u8>(), 256),
        ) {
            let n = Integer::from_digits(&bytes, Order::Msf);
            let mut composite = vec![false; 24];
            mark_small_factors(&n, &mut composite);
            let primes: Vec<u32> = primes_from_17_below(PRIME_LIMIT).collect();
            for (i, &marked) in composite.iter().enumerate() {
                let candidate = Integer::from(&n + M * i as u32);
                let has_factor = primes.iter().any(|&p| candidate.is_divisible_u(p));
                prop_assert_eq!(marked, has_factor, "offset {}", i);
            }
        }
    }
}
