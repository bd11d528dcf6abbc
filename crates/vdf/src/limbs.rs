//! Little-endian limb arithmetic for the extended Euclid in `xgcd.rs`: the one-pass 2×2
//! matrix products, comparisons, and the moves between limbs and GMP integers.

use rug::Integer;

/// `(o2, o1) ← (p2·x − q2·y, p1·y − q1·x)` in one pass; `false` if either is negative.
/// Entries below 2^62 keep every partial sum inside an `i128`.
pub(crate) fn mul_sub(
    o2: &mut [u64],
    o1: &mut [u64],
    x: &[u64],
    y: &[u64],
    [p2, q2, p1, q1]: [u64; 4],
) -> bool {
    let (mut carry2, mut carry1) = (0i128, 0i128);
    for (((o2, o1), &x), &y) in o2.iter_mut().zip(o1.iter_mut()).zip(x).zip(y) {
        let (x, y) = (u128::from(x), u128::from(y));
        let v2 = carry2 + (u128::from(p2) * x) as i128 - (u128::from(q2) * y) as i128;
        let v1 = carry1 + (u128::from(p1) * y) as i128 - (u128::from(q1) * x) as i128;
        (*o2, *o1) = (v2 as u64, v1 as u64);
        (carry2, carry1) = (v2 >> 64, v1 >> 64);
    }
    carry2 == 0 && carry1 == 0
}

/// `(o2, o1) ← (a2·x + b2·y, a1·x + b1·y)` in one pass, one limb longer than `x` and `y`.
pub(crate) fn mul_add(
    o2: &mut [u64],
    o1: &mut [u64],
    x: &[u64],
    y: &[u64],
    [a2, b2, a1, b1]: [u64; 4],
) {
    let (mut carry2, mut carry1) = (0u128, 0u128);
    for (((o2, o1), &x), &y) in o2.iter_mut().zip(o1.iter_mut()).zip(x).zip(y) {
        let (x, y) = (u128::from(x), u128::from(y));
        let v2 = carry2 + u128::from(a2) * x + u128::from(b2) * y;
        let v1 = carry1 + u128::from(a1) * x + u128::from(b1) * y;
        (*o2, *o1) = (v2 as u64, v1 as u64);
        (carry2, carry1) = (v2 >> 64, v1 >> 64);
    }
    (o2[x.len()], o1[x.len()]) = (carry2 as u64, carry1 as u64);
}

pub(crate) fn bit_length(x: &[u64]) -> u32 {
    x.iter()
        .rposition(|&l| l != 0)
        .map_or(0, |i| 64 * i as u32 + 64 - x[i].leading_zeros())
}

/// Whether adding some `e` with `|e| < error` to `y` could change `⌊y / 2^shift⌋`, for
/// `64 ≤ shift ≤ 64·3 − 62` and `error ≤ 2^63`.
pub(crate) fn near_a_carry(y: &[u64; 3], shift: u32, error: u64) -> bool {
    let width = shift - 64;
    let mask = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    let middle = (u128::from(y[1]) | u128::from(y[2]) << 64) & mask;
    (middle == 0 && y[0] < error) || (middle == mask && y[0] > u64::MAX - error)
}

/// `x > y` for little-endian limbs of any lengths.
pub(crate) fn greater(x: &[u64], y: &[u64]) -> bool {
    let n = x.len().max(y.len());
    for i in (0..n).rev() {
        let (a, b) = (
            x.get(i).copied().unwrap_or(0),
            y.get(i).copied().unwrap_or(0),
        );
        if a != b {
            return a > b;
        }
    }
    false
}

pub(crate) fn load(x: &mut Integer, limbs: &[u64]) {
    x.assign_digits(limbs, rug::integer::Order::Lsf);
}

/// Writes the non-negative `x` over all of `limbs`, zero-padded.
pub(crate) fn store(x: &Integer, limbs: &mut [u64]) {
    let src = x.as_limbs();
    limbs[..src.len()].copy_from_slice(src);
    limbs[src.len()..].fill(0);
}

/// `⌊x / 2^shift⌋` for `0 ≤ x < 2^(shift + 62)`, read straight from the limbs.
pub(crate) fn top_bits(limbs: &[u64], shift: u32) -> i64 {
    let word = (shift / 64) as usize;
    let bit = shift % 64;
    let lo = limbs.get(word).copied().unwrap_or(0) >> bit;
    let hi = match (bit, limbs.get(word + 1)) {
        (0, _) | (_, None) => 0,
        (_, Some(&h)) => h << (64 - bit),
    };
    // The caller's shift leaves at most 62 significant bits.
    ((lo | hi) & (u64::MAX >> 2)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limb() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0u64),
            Just(u64::MAX),
            0u64..1 << 20,
            (u64::MAX - (1 << 20))..=u64::MAX,
            any::<u64>(),
        ]
    }

    proptest! {
        /// "Not near a carry" must mean that every y + e with |e| < error has the same
        /// bits from `shift` up; the extremes of e decide it.
        #[test]
        fn far_from_a_carry_means_the_top_bits_cannot_move(
            y in proptest::array::uniform3(limb()),
            shift in 64u32..=130,
            error in prop_oneof![1u64..1 << 20, 1u64..=1 << 63],
        ) {
            let value = Integer::from_digits(&y, rug::integer::Order::Lsf);
            let top = |v: Integer| v >> shift;
            let margin = Integer::from(error - 1);
            let moved = top(Integer::from(&value - &margin)) != top(value.clone())
                || top(Integer::from(&value + &margin)) != top(value.clone());
            if moved {
                prop_assert!(near_a_carry(&y, shift, error));
            }
        }
    }
}
