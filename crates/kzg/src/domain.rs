//! Evaluation domains: the n-th roots of unity for n = 16, 128, 1024, with FFTs.
//!
//! r − 1 = 2^10 · odd, so 1024 is the largest power-of-two domain that exists. The
//! original also builds "domains" of 2048 and 65536 points by raising 37 to
//! ⌊(r − 1)/n⌋; those are not roots of unity (see the tests), so qnode refuses them.

use crate::scalar::{order, Scalar};
use crate::KzgError;
use miracl_core::bls48581::big::BIG;

/// The domain sizes qnode supports.
pub const SIZES: [usize; 3] = [16, 128, 1024];
/// The base the original raises to (r − 1)/n for its roots; it generates the 2-part.
const GENERATOR: u64 = 37;

/// The n-th roots of unity ω^0 … ω^(n−1) for one supported n.
#[derive(Clone, Debug)]
pub struct Domain {
    roots: Vec<Scalar>,
}

/// `37^⌊(r − 1)/n⌋`, the original's candidate root for n.
pub(crate) fn candidate_root(n: usize) -> Scalar {
    let mut exp = order();
    exp.dec(1);
    exp.norm();
    let (q, _) = div_small(&exp, n as u64);
    Scalar::from_u64(GENERATOR).pow(&q)
}

/// ⌊a / d⌋ and a mod d for a small d.
fn div_small(a: &BIG, d: u64) -> (BIG, u64) {
    let mut bytes = [0u8; crate::scalar::SCALAR_BYTES];
    let a = *a;
    a.tobytes(&mut bytes);
    let mut rem: u128 = 0;
    for b in bytes.iter_mut() {
        let cur = (rem << 8) | u128::from(*b);
        *b = (cur / u128::from(d)) as u8;
        rem = cur % u128::from(d);
    }
    (BIG::frombytes(&bytes), rem as u64)
}

impl Domain {
    /// The domain of `n` points, if qnode supports it.
    pub fn new(n: usize) -> Result<Domain, KzgError> {
        if !SIZES.contains(&n) {
            return Err(KzgError::UnsupportedSize(n));
        }
        let omega = candidate_root(n);
        let mut roots = Vec::with_capacity(n);
        let mut x = Scalar::from_u64(1);
        for _ in 0..n {
            roots.push(x);
            x = x.mul(&omega);
        }
        Ok(Domain { roots })
    }

    /// The number of points.
    pub fn size(&self) -> usize {
        self.roots.len()
    }

    /// ω^i.
    pub fn root(&self, i: usize) -> Scalar {
        self.roots[i % self.roots.len()]
    }

    /// Coefficients → evaluations at ω^i.
    pub fn fft(&self, coeffs: &[Scalar]) -> Vec<Scalar> {
        self.transform(coeffs, false)
    }

    /// Evaluations at ω^i → coefficients.
    pub fn ifft(&self, evals: &[Scalar]) -> Vec<Scalar> {
        let inv_n = Scalar::from_u64(self.size() as u64).inverse();
        self.transform(evals, true)
            .iter()
            .map(|c| c.mul(&inv_n))
            .collect()
    }

    /// Iterative radix-2 transform; `inverse` uses ω^−1 (without the 1/n factor).
    fn transform(&self, input: &[Scalar], inverse: bool) -> Vec<Scalar> {
        let n = self.size();
        let mut a: Vec<Scalar> = (0..n)
            .map(|i| input.get(i).copied().unwrap_or_else(Scalar::zero))
            .collect();
        bit_reverse(&mut a);
        let mut len = 2;
        while len <= n {
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..len / 2 {
                    let idx = if inverse {
                        (n - k * step) % n
                    } else {
                        k * step
                    };
                    let t = a[start + k + len / 2].mul(&self.roots[idx]);
                    let u = a[start + k];
                    a[start + k] = u.add(&t);
                    a[start + k + len / 2] = u.sub(&t);
                }
            }
            len <<= 1;
        }
        a
    }
}

/// Reorders `a` by bit-reversed index, as iterative FFTs need.
pub(crate) fn bit_reverse<T>(a: &mut [T]) {
    let n = a.len();
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            a.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pow2(x: Scalar, k: usize) -> Scalar {
        (0..k).fold(x, |acc, _| acc.mul(&acc))
    }

    #[test]
    fn two_adicity_of_r_minus_1_is_10() {
        let mut e = order();
        e.dec(1);
        e.norm();
        let (q, rem) = div_small(&e, 1024);
        assert_eq!(rem, 0);
        let (_, rem) = div_small(&q, 2);
        assert_eq!(rem, 1, "(r − 1)/1024 is odd");
    }

    #[test]
    fn supported_roots_have_exactly_their_order() {
        for n in SIZES {
            let w = candidate_root(n);
            let k = n.trailing_zeros() as usize;
            assert_eq!(pow2(w, k), Scalar::from_u64(1), "ω^{n} = 1");
            assert_ne!(pow2(w, k - 1), Scalar::from_u64(1), "ω^{} ≠ 1", n / 2);
        }
    }

    #[test]
    fn the_originals_2048_and_65536_roots_are_not_roots_of_unity() {
        for n in [2048usize, 65536] {
            let w = candidate_root(n);
            let k = n.trailing_zeros() as usize;
            assert_ne!(
                pow2(w, k),
                Scalar::from_u64(1),
                "37^⌊(r−1)/{n}⌋ is not an {n}-th root"
            );
            assert!(matches!(Domain::new(n), Err(KzgError::UnsupportedSize(_))));
        }
    }

    #[test]
    fn ifft_inverts_fft() {
        let d = Domain::new(16).unwrap();
        let coeffs: Vec<Scalar> = (0..16).map(|i| Scalar::from_u64(i * i + 3)).collect();
        let evals = d.fft(&coeffs);
        // Evaluations agree with Horner at each root.
        for (i, e) in evals.iter().enumerate() {
            let x = d.root(i);
            let horner = coeffs
                .iter()
                .rev()
                .fold(Scalar::zero(), |acc, c| acc.mul(&x).add(c));
            assert_eq!(*e, horner);
        }
        assert_eq!(d.ifft(&evals), coeffs);
    }
}
