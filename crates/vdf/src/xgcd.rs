//! Partial extended Euclid for NUCOMP/NUDUPL, with Lehmer's speed-up: most quotient steps
//! run on the leading 63 bits of the remainders in machine words, and their 2×2 cofactor
//! matrix is applied to the full integers once per round.

use rug::ops::NegAssign;
use rug::{Assign, Integer};

/// Scratch integers so the hot loop never allocates.
#[derive(Default)]
pub(crate) struct XgcdScratch {
    q: Integer,
    t: Integer,
}

/// Runs the remainder sequence `r2, r1 → r1, r2 − q·r1` (cofactors alongside, starting at
/// `co2 = 0, co1 = −1`) until `r1 ≤ bound` or `r1 = 0`. The word-sized steps see the bound
/// only approximately and may take a step or two past it; NUCOMP is correct at any point
/// of the sequence, the bound only keeps its output small. On return `r2 ≥ 0`, and
/// `co2·r1 − co1·r2` equals the original `r2` up to sign, as NUCOMP needs.
///
/// Expects `r2 > r1 ≥ 0` and `bound > 0`.
pub(crate) fn partial_xgcd(
    co2: &mut Integer,
    co1: &mut Integer,
    r2: &mut Integer,
    r1: &mut Integer,
    bound: &Integer,
    s: &mut XgcdScratch,
) {
    co2.assign(0);
    co1.assign(-1);
    while r1.cmp0().is_ne() && *r1 > *bound {
        let shift = r2
            .significant_bits()
            .max(r1.significant_bits())
            .saturating_sub(63);
        let m = word_steps(
            top_bits(r2, shift),
            top_bits(r1, shift),
            top_bits(bound, shift),
        );
        if m.is_identity() {
            // Quotient too large for a word-sized step: one exact step on the integers.
            s.q.assign(&*r2 / &*r1);
            s.t.assign(&*r2 - &s.q * &*r1);
            std::mem::swap(r2, r1);
            std::mem::swap(r1, &mut s.t);
            *co2 -= &s.q * &*co1;
            std::mem::swap(co2, co1);
        } else {
            m.apply(r2, r1, &mut s.t);
            m.apply(co2, co1, &mut s.t);
            if r1.cmp0().is_lt() {
                r1.neg_assign();
                co1.neg_assign();
            }
            if r2.cmp0().is_lt() {
                r2.neg_assign();
                co2.neg_assign();
            }
        }
    }
    if r2.cmp0().is_lt() {
        r2.neg_assign();
        co2.neg_assign();
        co1.neg_assign();
    }
}

/// `(x2, x1) ← (v2·x2 + u2·x1, u1·x1 + v1·x2)`.
#[derive(Debug, PartialEq, Eq)]
struct Cofactors {
    u2: i64,
    u1: i64,
    v2: i64,
    v1: i64,
}

impl Cofactors {
    fn is_identity(&self) -> bool {
        *self
            == Cofactors {
                u2: 0,
                u1: 1,
                v2: 1,
                v1: 0,
            }
    }

    fn apply(&self, x2: &mut Integer, x1: &mut Integer, t: &mut Integer) {
        t.assign(&*x2 * self.v2);
        *t += &*x1 * self.u2;
        *x1 *= self.u1;
        *x1 += &*x2 * self.v1;
        std::mem::swap(x2, t);
    }
}

/// `⌊x / 2^shift⌋` for `0 ≤ x < 2^(shift + 63)`, read straight from the limbs.
fn top_bits(x: &Integer, shift: u32) -> i64 {
    let limbs = x.as_limbs();
    let word = (shift / 64) as usize;
    let bit = shift % 64;
    let lo = limbs.get(word).copied().unwrap_or(0) >> bit;
    let hi = match (bit, limbs.get(word + 1)) {
        (0, _) | (_, None) => 0,
        (_, Some(&h)) => h << (64 - bit),
    };
    // The caller's shift leaves at most 63 significant bits.
    ((lo | hi) & (u64::MAX >> 1)) as i64
}

/// Euclid on the leading words with Jebelean's exactness test: a step is taken only when
/// the quotient computed from the approximations is certainly the true one.
fn word_steps(mut x2: i64, mut x1: i64, bound: i64) -> Cofactors {
    let mut m = Cofactors {
        u2: 0,
        u1: 1,
        v2: 1,
        v1: 0,
    };
    let mut odd = false;
    while x1 != 0 && x1 > bound {
        let q = x2 / x1;
        let (Some(t1), Some(t2), Some(t3)) = (
            q.checked_mul(x1).and_then(|p| x2.checked_sub(p)),
            q.checked_mul(m.u1).and_then(|p| m.u2.checked_sub(p)),
            q.checked_mul(m.v1).and_then(|p| m.v2.checked_sub(p)),
        ) else {
            break;
        };
        let exact = if odd {
            t1 >= -t3 && x1 - t1 >= t2 - m.u1
        } else {
            t1 >= -t2 && x1 - t1 >= t3 - m.v1
        };
        if !exact {
            break;
        }
        (x2, x1) = (x1, t1);
        (m.u2, m.u1) = (m.u1, t2);
        (m.v2, m.v1) = (m.v1, t3);
        odd = !odd;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every state `(r2, r1, co2, co1)` of the sequence, one exact quotient at a time,
    /// down to `r1 = 0`.
    fn all_states(mut r2: Integer, mut r1: Integer) -> Vec<[Integer; 4]> {
        let (mut co2, mut co1) = (Integer::from(0), Integer::from(-1));
        let mut states = vec![[r2.clone(), r1.clone(), co2.clone(), co1.clone()]];
        while r1.cmp0().is_ne() {
            let q = Integer::from(&r2 / &r1);
            let r = Integer::from(&r2 - &q * &r1);
            r2 = std::mem::replace(&mut r1, r);
            let c = Integer::from(&co2 - &q * &co1);
            co2 = std::mem::replace(&mut co1, c);
            states.push([r2.clone(), r1.clone(), co2.clone(), co1.clone()]);
        }
        states
    }

    fn from_bytes(b: &[u8]) -> Integer {
        Integer::from_digits(b, rug::integer::Order::Msf)
    }

    proptest! {
        #[test]
        fn lehmer_matches_one_step_at_a_time(
            x in proptest::collection::vec(any::<u8>(), 1..160),
            y in proptest::collection::vec(any::<u8>(), 1..160),
            bound_bytes in 1usize..70,
        ) {
            let (x, y) = (from_bytes(&x), from_bytes(&y));
            prop_assume!(x != y && x.cmp0().is_gt() && y.cmp0().is_gt());
            let (hi, lo) = if x > y { (x, y) } else { (y, x) };
            let bound = Integer::from(1) << (8 * bound_bytes as u32);
            let states = all_states(hi.clone(), lo.clone());
            let first_in_bound = states.iter().position(|s| s[1] <= bound).unwrap();
            let (mut r2, mut r1) = (hi, lo);
            let (mut c2, mut c1) = (Integer::new(), Integer::new());
            partial_xgcd(&mut c2, &mut c1, &mut r2, &mut r1, &bound, &mut XgcdScratch::default());
            let landed = states.iter().position(|s| *s == [r2.clone(), r1.clone(), c2.clone(), c1.clone()]);
            // Word-sized steps see the bound only approximately, so they may run a step or
            // two past it; they must never stop early or leave the exact sequence.
            let landed = landed.expect("a state of the exact remainder sequence");
            prop_assert!(landed >= first_in_bound);
            prop_assert!(landed <= first_in_bound + 2, "overshot by {}", landed - first_in_bound);
        }
    }
}
