//! The row-times-state products of the permutation, reduced once per row.
//!
//! Each product of two Montgomery-form elements is below p² < 2^508, so 17 of them sum to
//! below 2^513: nine limbs hold the sum exactly. One Montgomery reduction of it gives the
//! row's value times R⁻¹ (the Montgomery form of the sum) below 5p, and at most four
//! subtractions of p make it canonical. ark-ff's `sum_of_products` reduces every three
//! products for BN254 (its spare bits allow no more in its 5-limb accumulator), so this
//! saves two thirds of the reductions of a 17-element row.

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};

const LIMBS: usize = 4;
const ACC: usize = 2 * LIMBS + 1;
const P: [u64; LIMBS] = Fr::MODULUS.0;

/// Σ a[i]·b[i].
pub fn dot<const N: usize>(a: &[Fr; N], b: &[Fr; N]) -> Fr {
    dot_pairs(a.iter().zip(b))
}

/// Σ x·y over the pairs, of which there may be at most 2^68.
pub fn dot_pairs<'a>(pairs: impl Iterator<Item = (&'a Fr, &'a Fr)>) -> Fr {
    // Nine limbs hold at most 2^576 / p² > 2^68 products: far more than any row.
    let mut acc = [0u64; ACC];
    for (x, y) in pairs {
        add_product(&mut acc, &x.0 .0, &y.0 .0);
    }
    Fr::new_unchecked(BigInt(reduce(acc)))
}

/// acc += x·y.
fn add_product(acc: &mut [u64; ACC], x: &[u64; LIMBS], y: &[u64; LIMBS]) {
    let mut product = [0u64; 2 * LIMBS];
    for (i, &xi) in x.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &yj) in y.iter().enumerate() {
            let t = u128::from(product[i + j]) + u128::from(xi) * u128::from(yj) + carry;
            product[i + j] = t as u64;
            carry = t >> 64;
        }
        product[i + LIMBS] = carry as u64;
    }
    let mut carry = 0u128;
    for (a, p) in acc.iter_mut().zip(product.iter().chain([&0])) {
        let t = u128::from(*a) + u128::from(*p) + carry;
        *a = t as u64;
        carry = t >> 64;
    }
}

/// acc·R⁻¹ mod p, canonical.
fn reduce(mut acc: [u64; ACC]) -> [u64; LIMBS] {
    for i in 0..LIMBS {
        let m = acc[i].wrapping_mul(Fr::INV);
        let mut carry = 0u128;
        for (j, &pj) in P.iter().enumerate() {
            let t = u128::from(acc[i + j]) + u128::from(m) * u128::from(pj) + carry;
            acc[i + j] = t as u64;
            carry = t >> 64;
        }
        for limb in &mut acc[i + LIMBS..] {
            let t = u128::from(*limb) + carry;
            *limb = t as u64;
            carry = t >> 64;
        }
    }
    // (acc + m·p) / R < 2^513 / 2^256 + p < 5p: at most four subtractions.
    let mut value: [u64; LIMBS + 1] = std::array::from_fn(|i| acc[LIMBS + i]);
    while at_least_p(&value) {
        subtract_p(&mut value);
    }
    std::array::from_fn(|i| value[i])
}

fn at_least_p(value: &[u64; LIMBS + 1]) -> bool {
    if value[LIMBS] != 0 {
        return true;
    }
    for i in (0..LIMBS).rev() {
        if value[i] != P[i] {
            return value[i] > P[i];
        }
    }
    true
}

fn subtract_p(value: &mut [u64; LIMBS + 1]) {
    let mut borrow = 0u64;
    for (i, limb) in value.iter_mut().enumerate() {
        let p = P.get(i).copied().unwrap_or(0);
        let (d1, b1) = limb.overflowing_sub(p);
        let (d2, b2) = d1.overflowing_sub(borrow);
        *limb = d2;
        borrow = u64::from(b1 || b2);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::{dot, Fr};
    use ark_ff::{Field, PrimeField};

    /// The largest elements (p − 1) are the worst case for the accumulator and the
    /// final subtractions; ark-ff's own sum is the reference.
    #[test]
    fn rows_of_extreme_and_mixed_elements_sum_as_ark_ff_does() {
        let max = -Fr::from(1u64);
        let cases: [[Fr; 17]; 3] = [
            [max; 17],
            std::array::from_fn(|i| Fr::from(i as u64 + 1).pow([7 + i as u64])),
            std::array::from_fn(|i| if i % 2 == 0 { max } else { Fr::from(0u64) }),
        ];
        for a in &cases {
            for b in &cases {
                let expected: Fr = a.iter().zip(b).map(|(x, y)| *x * y).sum();
                assert_eq!(dot(a, b), expected);
                assert!(dot(a, b).into_bigint() < Fr::MODULUS);
            }
        }
    }
}
