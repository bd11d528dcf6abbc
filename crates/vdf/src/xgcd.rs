//! Extended Euclid for NUCOMP/NUDUPL: the partial run that stops at |d|^¼, and the full
//! run that gives NUDUPL its modular inverse. Lehmer's speed-up: most quotient steps run
//! on the leading 62 bits of the remainders in machine words, two rounds of them at a time
//! where that is exact, and their 2×2 cofactor matrix is applied to the full numbers in
//! one pass over their limbs. The numbers live in limb vectors for the whole run: applying
//! a matrix through GMP's integer calls took longer than GMP's own inverse (profile of
//! 3 December).

use crate::limbs::{bit_length, greater, load, mul_add, mul_sub, near_a_carry, store, top_bits};
use rug::ops::{NegAssign, RemRoundingAssign};
use rug::{Assign, Integer};

/// Limb vectors and integers reused between runs, so the hot loop never allocates.
#[derive(Default)]
pub(crate) struct XgcdScratch {
    /// The remainders, `r2 ≥ r1 ≥ 0`, little-endian, `len` limbs in use.
    r2: Vec<u64>,
    r1: Vec<u64>,
    /// The cofactors' magnitudes, `clen` limbs in use. Their signs alternate (`co2` and
    /// `co1` always have opposite signs, or `co2 = 0`), so a matrix only ever adds
    /// magnitudes; `co1_negative` holds the sign.
    c2: Vec<u64>,
    c1: Vec<u64>,
    t2: Vec<u64>,
    t1: Vec<u64>,
    bound: Vec<u64>,
    len: usize,
    clen: usize,
    co1_negative: bool,
    /// For the rare quotient too large for a word step.
    big: [Integer; 4],
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
    s.start(r2, r1, bound);
    s.run();
    load(co2, &s.c2[..s.clen]);
    load(co1, &s.c1[..s.clen]);
    if s.co1_negative {
        co1.neg_assign();
    } else {
        co2.neg_assign();
    }
    load(r2, &s.r2[..s.len]);
    load(r1, &s.r1[..s.len]);
}

/// `b⁻¹ mod a` into `out`, or `false` when there is none (`gcd(a, b) ≠ 1` or `a ≤ 0`).
pub(crate) fn invert(out: &mut Integer, b: &Integer, a: &Integer, s: &mut XgcdScratch) -> bool {
    if a.cmp0().is_le() {
        return false;
    }
    out.assign(b);
    out.rem_euc_assign(a);
    s.start(a, out, &Integer::ZERO);
    s.run();
    if s.len != 1 || s.r2[0] != 1 {
        return false;
    }
    // 1 ≡ −co2·b (mod a), and |co2| < a.
    load(out, &s.c2[..s.clen]);
    if s.co1_negative && out.cmp0().is_ne() {
        out.neg_assign();
        *out += a;
    }
    true
}

impl XgcdScratch {
    fn start(&mut self, r2: &Integer, r1: &Integer, bound: &Integer) {
        // A cofactor never exceeds the first r2; one limb spare for a matrix's carry.
        let n = r2.as_limbs().len() + 2;
        for v in [
            &mut self.r2,
            &mut self.r1,
            &mut self.c2,
            &mut self.c1,
            &mut self.t2,
            &mut self.t1,
        ] {
            v.clear();
            v.resize(n, 0);
        }
        self.r2[..r2.as_limbs().len()].copy_from_slice(r2.as_limbs());
        self.r1[..r1.as_limbs().len()].copy_from_slice(r1.as_limbs());
        self.c1[0] = 1;
        self.bound.clear();
        self.bound.extend_from_slice(bound.as_limbs());
        self.len = r2.as_limbs().len();
        self.clen = 1;
        self.co1_negative = true;
    }

    fn run(&mut self) {
        // r1 > bound ≥ 0 also means r1 ≠ 0.
        while greater(&self.r1[..self.len], &self.bound) {
            let top = &self.r2[..self.len];
            let shift = bit_length(top).saturating_sub(62);
            let m = word_steps(
                top_bits(top, shift),
                top_bits(&self.r1[..self.len], shift),
                top_bits(&self.bound, shift),
            );
            if m.is_identity() {
                self.exact_step();
            } else {
                let m = self.second_round(&m).unwrap_or(m);
                self.apply(&m);
            }
        }
    }

    /// Lehmer's word steps continued for a second round before any matrix touches the
    /// full numbers, which halves the passes over their limbs. The second round's words
    /// come from `m1` applied to the top three limbs only; the limbs below can move that
    /// result by less than `m1`'s largest entry, so the round runs only when its words
    /// are certainly the floors the full numbers would give. `None`: apply `m1` alone.
    fn second_round(&self, m1: &Cofactors) -> Option<Cofactors> {
        const TOP: usize = 3;
        let low = self.len.checked_sub(TOP)?;
        let (mut y2, mut y1) = ([0u64; TOP], [0u64; TOP]);
        let (x2, x1) = (&self.r2[low..self.len], &self.r1[low..self.len]);
        if !m1.apply_to_remainders(&mut y2, &mut y1, x2, x1) {
            return None;
        }
        // y = m1·(top limbs) is within `error` of m1·(full numbers) / 2^(64·low).
        let error = m1.magnitudes().into_iter().max().unwrap_or(0) + 1;
        let shift = bit_length(&y2).checked_sub(62)?;
        if shift < 64 || near_a_carry(&y2, shift, error) || near_a_carry(&y1, shift, error) {
            return None;
        }
        let bound_shift = 64 * low as u32 + shift;
        if bit_length(&self.bound) > bound_shift + 62 {
            return None;
        }
        let m2 = word_steps(
            top_bits(&y2, shift),
            top_bits(&y1, shift),
            top_bits(&self.bound, bound_shift),
        );
        if m2.is_identity() {
            return None;
        }
        m2.after(m1)
    }

    /// One quotient step on the full numbers, for a quotient too large for `word_steps`.
    fn exact_step(&mut self) {
        let [q, r, m2, m1] = &mut self.big;
        load(r, &self.r2[..self.len]);
        load(m1, &self.r1[..self.len]);
        q.assign(&*r / &*m1);
        *r -= &*q * &*m1;
        load(m2, &self.c2[..self.clen]);
        load(m1, &self.c1[..self.clen]);
        *m2 += &*q * &*m1;
        // (r2, r1, c2, c1) ← (r1, r, c1, c2 + q·c1); co1's sign flips.
        std::mem::swap(&mut self.r2, &mut self.r1);
        store(r, &mut self.r1);
        std::mem::swap(&mut self.c2, &mut self.c1);
        store(m2, &mut self.c1);
        // The limbs of c2 above its old length may hold a buffer's earlier contents.
        let grown = self.clen.max(m2.as_limbs().len());
        self.c2[self.clen..grown].fill(0);
        self.clen = grown;
        self.co1_negative = !self.co1_negative;
        self.trim();
    }

    fn apply(&mut self, m: &Cofactors) {
        let n = self.len;
        let fits = m.apply_to_remainders(
            &mut self.t2[..n],
            &mut self.t1[..n],
            &self.r2[..n],
            &self.r1[..n],
        );
        assert!(fits, "a Lehmer step left the remainder sequence");
        std::mem::swap(&mut self.r2, &mut self.t2);
        std::mem::swap(&mut self.r1, &mut self.t1);

        let cn = self.clen;
        let (c2, c1) = (&self.c2[..cn], &self.c1[..cn]);
        mul_add(
            &mut self.t2[..=cn],
            &mut self.t1[..=cn],
            c2,
            c1,
            m.magnitudes(),
        );
        std::mem::swap(&mut self.c2, &mut self.t2);
        std::mem::swap(&mut self.c1, &mut self.t1);
        self.clen = cn + 1;
        if m.odd {
            self.co1_negative = !self.co1_negative;
        }
        self.trim();
    }

    fn trim(&mut self) {
        while self.len > 1 && self.r2[self.len - 1] == 0 {
            self.len -= 1;
        }
        while self.clen > 1 && self.c2[self.clen - 1] == 0 && self.c1[self.clen - 1] == 0 {
            self.clen -= 1;
        }
    }
}

/// `(x2, x1) ← (v2·x2 + u2·x1, u1·x1 + v1·x2)`, after an odd or even number of steps.
#[derive(Debug, PartialEq, Eq)]
struct Cofactors {
    u2: i64,
    u1: i64,
    v2: i64,
    v1: i64,
    odd: bool,
}

impl Cofactors {
    /// `[|v2|, |u2|, |v1|, |u1|]`.
    fn magnitudes(&self) -> [u64; 4] {
        [self.v2, self.u2, self.v1, self.u1].map(i64::unsigned_abs)
    }

    /// `(o2, o1) ← self·(x2, x1)` on remainders; `false` if a result would be negative.
    /// Lehmer's matrices alternate in sign: after an even number of steps
    /// (v2, u2, v1, u1) ≥ (0, ≤ 0, ≤ 0, 0), after an odd number the reverse, so each
    /// result is one product minus another.
    fn apply_to_remainders(&self, o2: &mut [u64], o1: &mut [u64], x2: &[u64], x1: &[u64]) -> bool {
        let [a2, b2, a1, b1] = self.magnitudes();
        if self.odd {
            mul_sub(o2, o1, x1, x2, [b2, a2, a1, b1])
        } else {
            mul_sub(o2, o1, x2, x1, [a2, b2, b1, a1])
        }
    }

    /// The steps of `first` followed by those of `self`, if every entry stays below
    /// 2^62.
    fn after(&self, first: &Cofactors) -> Option<Cofactors> {
        let entry = |x: i64, y: i64, z: i64, w: i64| {
            let e = i128::from(x) * i128::from(y) + i128::from(z) * i128::from(w);
            i64::try_from(e).ok().filter(|e| e.unsigned_abs() < 1 << 62)
        };
        Some(Cofactors {
            v2: entry(self.v2, first.v2, self.u2, first.v1)?,
            u2: entry(self.v2, first.u2, self.u2, first.u1)?,
            v1: entry(self.v1, first.v2, self.u1, first.v1)?,
            u1: entry(self.v1, first.u2, self.u1, first.u1)?,
            odd: self.odd != first.odd,
        })
    }

    fn is_identity(&self) -> bool {
        *self
            == Cofactors {
                u2: 0,
                u1: 1,
                v2: 1,
                v1: 0,
                odd: false,
            }
    }
}

/// Euclid on the leading words with Jebelean's exactness test: a step is taken only when
/// the quotient computed from the approximations is certainly the true one.
fn word_steps(mut x2: i64, mut x1: i64, bound: i64) -> Cofactors {
    let mut m = Cofactors {
        u2: 0,
        u1: 1,
        v2: 1,
        v1: 0,
        odd: false,
    };
    while x1 != 0 && x1 > bound {
        // One division gives both; taking the remainder as x2 − q·x1 would put a
        // multiplication on the loop's critical path.
        let (q, t1) = (x2 / x1, x2 % x1);
        // Every step here is an exact Euclid step on (x2, x1) themselves, so no cofactor
        // exceeds the first x2 < 2^62 and none of this overflows.
        let (t2, t3) = (m.u2 - q * m.u1, m.v2 - q * m.v1);
        let exact = if m.odd {
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
        m.odd = !m.odd;
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

    /// Guards the speed-up, not the result: on NUDUPL-sized numbers almost every round
    /// goes on for a second one before touching the full numbers.
    #[test]
    fn a_round_usually_goes_on_for_a_second() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut limbs = |n: usize| -> Integer {
            let words: Vec<u64> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                })
                .collect();
            Integer::from_digits(&words, rug::integer::Order::Lsf)
        };
        let mut extended = 0;
        for _ in 0..100 {
            let (a, b) = (limbs(16), limbs(16));
            let (r2, r1) = if a > b { (a, b) } else { (b, a) };
            let mut s = XgcdScratch::default();
            s.start(&r2, &r1, &Integer::from(1));
            let shift = r2.significant_bits() - 62;
            let m1 = word_steps(top_bits(&s.r2, shift), top_bits(&s.r1, shift), 0);
            extended += usize::from(s.second_round(&m1).is_some());
        }
        assert!(extended >= 95, "only {extended} of 100 rounds went on");
    }

    /// `(r2, r1)` whose Euclid quotients are `quotients`, in order.
    fn with_quotients(quotients: &[Integer]) -> (Integer, Integer) {
        let (mut r2, mut r1) = (Integer::from(1), Integer::from(0));
        for q in quotients.iter().rev() {
            (r2, r1) = (Integer::from(q * &r2) + &r1, r2);
        }
        (r2, r1)
    }

    /// Limbs that sit on the edges the word steps and the second round must get right:
    /// runs of zeros and ones across limb boundaries (carries), a lone top bit, small
    /// words, and random ones in between.
    fn edgy_limbs(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u64>> {
        let limb = prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            Just(1u64 << 63),
            Just((1u64 << 63) - 1),
            0u64..4,
            any::<u64>(),
        ];
        proptest::collection::vec(limb, len)
    }

    /// The partial run from `(hi, lo)` lands on a state of the exact one-quotient-at-a-time
    /// sequence. Word-sized steps see the bound only approximately, so they may run a step
    /// or two past it; they must never stop early or leave the exact sequence.
    fn lands_on_the_sequence(
        hi: Integer,
        lo: Integer,
        bound: &Integer,
    ) -> Result<(), TestCaseError> {
        let states = all_states(hi.clone(), lo.clone());
        let first_in_bound = states.iter().position(|s| s[1] <= *bound).unwrap();
        let (mut r2, mut r1) = (hi, lo);
        let (mut c2, mut c1) = (Integer::new(), Integer::new());
        partial_xgcd(
            &mut c2,
            &mut c1,
            &mut r2,
            &mut r1,
            bound,
            &mut XgcdScratch::default(),
        );
        let landed = states
            .iter()
            .position(|s| *s == [r2.clone(), r1.clone(), c2.clone(), c1.clone()]);
        let landed = landed.expect("a state of the exact remainder sequence");
        prop_assert!(landed >= first_in_bound);
        prop_assert!(
            landed <= first_in_bound + 2,
            "overshot by {}",
            landed - first_in_bound
        );
        Ok(())
    }

    /// Our inverse of `lo` modulo `hi` is GMP's, or none when GMP has none.
    fn inverse_matches_gmp(hi: &Integer, lo: &Integer) -> Result<(), TestCaseError> {
        let mut ours = Integer::new();
        let found = invert(&mut ours, lo, hi, &mut XgcdScratch::default());
        prop_assert_eq!(found.then_some(ours), lo.invert_ref(hi).map(Integer::from));
        Ok(())
    }

    proptest! {
        /// Pairs built from limbs on carry boundaries, the same limbs shifted by a few
        /// bits, and a close neighbour (quotient 1, then whatever the difference gives).
        #[test]
        fn edge_limbs_stay_on_the_exact_sequence(
            x in edgy_limbs(1..36),
            y in edgy_limbs(1..36),
            shift in 0u32..130,
            close in any::<bool>(),
            bound_bits in 1u32..1100,
        ) {
            let x = Integer::from_digits(&x, rug::integer::Order::Lsf) + 2;
            let y = Integer::from_digits(&y, rug::integer::Order::Lsf) >> shift;
            let y = if close { Integer::from(&x - &y).abs() + 1 } else { y + 1 };
            let (hi, lo) = if x > y { (x, y) } else { (y + 1, x) };
            inverse_matches_gmp(&hi, &lo)?;
            lands_on_the_sequence(hi, lo, &(Integer::from(1) << bound_bits))?;
        }

        /// Long runs of quotient 1 (Fibonacci numbers) make the largest matrix entries a
        /// round can build, the case the second round's error margin is for.
        #[test]
        fn runs_of_unit_quotients_stay_on_the_exact_sequence(
            runs in proptest::collection::vec((1u32..5, 1usize..400), 1..8),
            bound_bits in 1u32..600,
        ) {
            let quotients: Vec<Integer> = runs
                .iter()
                .flat_map(|&(q, len)| std::iter::repeat_n(Integer::from(q), len))
                .chain([Integer::from(2)])
                .collect();
            let (hi, lo) = with_quotients(&quotients);
            inverse_matches_gmp(&hi, &lo)?;
            lands_on_the_sequence(hi, lo, &(Integer::from(1) << bound_bits))?;
        }
    }

    proptest! {
        /// A quotient too large for a word step, anywhere in the sequence, goes through
        /// the exact step and the run stays on the exact sequence.
        #[test]
        fn huge_quotients_take_the_exact_step(
            small in proptest::collection::vec(1u32..50, 2..60),
            at in proptest::collection::vec((0usize..60, 40u32..400), 1..4),
        ) {
            let mut quotients: Vec<Integer> = small.iter().map(|&q| Integer::from(q)).collect();
            for (i, bits) in at {
                let i = i % quotients.len();
                quotients[i] = (Integer::from(1) << bits) + 3;
            }
            quotients[0] += 1; // r2 > r1
            let (hi, lo) = with_quotients(&quotients);
            let states = all_states(hi.clone(), lo.clone());
            let (mut r2, mut r1) = (hi.clone(), lo.clone());
            let (mut c2, mut c1) = (Integer::new(), Integer::new());
            partial_xgcd(&mut c2, &mut c1, &mut r2, &mut r1, &Integer::from(1), &mut XgcdScratch::default());
            prop_assert!(states.contains(&[r2, r1, c2, c1]));
            let mut ours = Integer::new();
            prop_assert!(invert(&mut ours, &lo, &hi, &mut XgcdScratch::default()));
            prop_assert_eq!(Some(ours), lo.invert_ref(&hi).map(Integer::from));
        }

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
            lands_on_the_sequence(hi, lo, &bound)?;
        }

        #[test]
        fn inverse_is_gmps(
            a in proptest::collection::vec(any::<u8>(), 1..160),
            b in proptest::collection::vec(any::<u8>(), 0..170),
            negative in any::<bool>(),
        ) {
            let a = from_bytes(&a);
            prop_assume!(a.cmp0().is_gt());
            let mut b = from_bytes(&b);
            if negative {
                b = -b;
            }
            let mut ours = Integer::new();
            let found = invert(&mut ours, &b, &a, &mut XgcdScratch::default());
            match b.invert_ref(&a).map(Integer::from) {
                Some(gmp) if a != 1 => prop_assert!(found && ours == gmp, "{ours} against {gmp}"),
                // GMP calls nothing the inverse modulo 1; 0 is the one residue there.
                Some(_) => prop_assert!(found && ours == 0),
                None => prop_assert!(!found),
            }
        }
    }
}
