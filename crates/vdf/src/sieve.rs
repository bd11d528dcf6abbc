//! The sieve in front of the discriminant's prime search: which offsets i of a window make
//! `n + M·i` divisible by a prime 17 ≤ p < 2^20 (M already rules out 2 to 13).
//!
//! Finding the first such i for a prime needs n mod p, and 82,000 of those on a 2048-bit n
//! are most of the sieve's cost. So the primes are grouped into products of about 512 bits:
//! n mod P for the group first, then each prime's residue from that quarter-size number:
//! about 41 ns a prime instead of 52, and the groups are split over every core
//! (docs/performance.md has the timings).

use crate::discriminant::{search_threads, M};
use rug::{Assign, Integer};
use std::sync::OnceLock;

const PRIME_LIMIT: u32 = 1 << 20;
const GROUP_PRODUCT_BITS: u32 = 512;

/// Primes whose product has at most [`GROUP_PRODUCT_BITS`] bits.
struct PrimeGroup {
    product: Integer,
    /// Each prime p with M⁻¹ mod p.
    primes: Vec<(u32, u32)>,
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
    for group in groups {
        residue.assign(n % &group.product);
        for &(p, m_inverse) in &group.primes {
            // i ≡ −n·M⁻¹ (mod p); n mod p = (n mod P) mod p.
            let neg_n = (p - residue.mod_u(p)) % p;
            let first = u64::from(neg_n) * u64::from(m_inverse) % u64::from(p);
            out.push((p, first as u32));
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
            group.primes.push((p, mod_inverse(M % p, p)));
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
            .flat_map(|g| g.primes.iter().map(|&(p, _)| p))
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
                .fold(Integer::from(1), |acc, &(p, _)| acc * p);
            assert_eq!(product, g.product);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Exactly the offsets with a factor in range are marked: checked by trial division.
        #[test]
        fn marks_exactly_the_offsets_with_a_small_factor(
            bytes in proptest::collection::vec(any::<u8>(), 256),
        ) {
            let n = Integer::from_digits(&bytes, rug::integer::Order::Msf);
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
