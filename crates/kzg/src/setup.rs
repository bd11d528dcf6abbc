//! A powers-of-tau setup and the KZG operations on it: commit to evaluations over a
//! domain, open at an index, verify an opening with one pairing equation.

use crate::domain::{Domain, SIZES};
use crate::msm::msm;
use crate::points::{g1_mul, g2_mul, pairings_equal};
use crate::scalar::Scalar;
use crate::KzgError;
use miracl_core::bls48581::ecp::ECP;
use miracl_core::bls48581::ecp8::ECP8;

/// τ^i·G1 for i < n, [1]G2 and [τ]G2, and for each supported domain that fits, the
/// Lagrange-basis points L_j(τ)·G1.
pub struct Setup {
    pub(crate) g1: Vec<ECP>,
    pub(crate) g2: [ECP8; 2],
    pub(crate) lagrange: Vec<Vec<ECP>>,
}

/// An opening of a committed polynomial at ω^index.
#[derive(Clone)]
pub struct Opening {
    /// The value at ω^index (the committed evaluation itself).
    pub value: Scalar,
    /// The KZG proof, a G1 point.
    pub proof: ECP,
}

impl Setup {
    /// Builds the setup for a known τ — for tests and the first contribution of a
    /// ceremony. `powers` must be one of the supported domain sizes.
    pub fn from_secret(tau: &Scalar, powers: usize) -> Result<Setup, KzgError> {
        Domain::new(powers)?;
        let g = ECP::generator();
        let mut g1 = Vec::with_capacity(powers);
        let mut t = Scalar::from_u64(1);
        for _ in 0..powers {
            g1.push(g1_mul(&g, &t.0));
            t = t.mul(tau);
        }
        let h = ECP8::generator();
        let tau_h = g2_mul(&h, &tau.0);
        let g2 = [h, tau_h];
        Setup::from_powers(g1, g2)
    }

    /// Completes a setup from its monomial powers by computing the Lagrange points.
    pub(crate) fn from_powers(g1: Vec<ECP>, g2: [ECP8; 2]) -> Result<Setup, KzgError> {
        let mut lagrange = Vec::new();
        for n in SIZES.into_iter().filter(|&n| n <= g1.len()) {
            lagrange.push(lagrange_points(&Domain::new(n)?, &g1[..n]));
        }
        Ok(Setup { g1, g2, lagrange })
    }

    /// The number of G1 powers, which bounds the largest domain.
    pub fn powers(&self) -> usize {
        self.g1.len()
    }

    fn lagrange_for(&self, n: usize) -> Result<&[ECP], KzgError> {
        let index = SIZES
            .iter()
            .position(|&s| s == n)
            .ok_or(KzgError::UnsupportedSize(n))?;
        self.lagrange
            .get(index)
            .map(Vec::as_slice)
            .ok_or(KzgError::SetupTooSmall {
                needed: n,
                have: self.g1.len(),
            })
    }

    /// The commitment Σ evals[i]·L_i(τ)·G1 to the polynomial with these evaluations on
    /// the domain of `n` points (missing evaluations are 0).
    pub fn commit(&self, n: usize, evals: &[Scalar]) -> Result<ECP, KzgError> {
        if evals.len() > n {
            return Err(KzgError::TooManyValues {
                values: evals.len(),
                size: n,
            });
        }
        Ok(msm(self.lagrange_for(n)?, evals))
    }

    /// Opens the polynomial with evaluations `evals` on the `n`-point domain at ω^index.
    pub fn open(&self, n: usize, evals: &[Scalar], index: usize) -> Result<Opening, KzgError> {
        let domain = Domain::new(n)?;
        if evals.len() > n {
            return Err(KzgError::TooManyValues {
                values: evals.len(),
                size: n,
            });
        }
        if index >= n {
            return Err(KzgError::IndexOutOfRange { index, size: n });
        }
        self.lagrange_for(n)?;
        let value = evals.get(index).copied().unwrap_or_else(Scalar::zero);
        let z = domain.root(index);
        let mut coeffs = domain.ifft(evals);
        coeffs[0] = coeffs[0].sub(&value);
        // (p(X) − y) / (X − z) by synthetic division, highest coefficient first.
        let mut quotient = vec![Scalar::zero(); n - 1];
        let mut carry = Scalar::zero();
        for i in (1..n).rev() {
            carry = coeffs[i].add(&carry.mul(&z));
            quotient[i - 1] = carry;
        }
        Ok(Opening {
            value,
            proof: msm(&self.g1, &quotient),
        })
    }

    /// Checks `e(proof, [τ − z]G2) = e(commitment − value·G1, G2)` with z = ω^index, in
    /// the equivalent form `e(proof, τ·G2) = e(commitment − value·G1 + z·proof, G2)`: the
    /// scalar multiplication moves to G1, and both G2 points are fixed.
    pub fn verify(
        &self,
        n: usize,
        commitment: &ECP,
        index: usize,
        opening: &Opening,
    ) -> Result<bool, KzgError> {
        let domain = Domain::new(n)?;
        if index >= n {
            return Err(KzgError::IndexOutOfRange { index, size: n });
        }
        let z = domain.root(index);
        let mut rhs = commitment.clone();
        let mut y = g1_mul(&self.g1[0], &opening.value.0);
        y.neg();
        rhs.add(&y);
        rhs.add(&g1_mul(&opening.proof, &z.0));
        Ok(pairings_equal(
            &opening.proof,
            &self.g2[1],
            &rhs,
            &self.g2[0],
        ))
    }
}

/// L_j(τ)·G1 for the domain from the monomial points τ^i·G1: an inverse FFT in the group.
pub(crate) fn lagrange_points(domain: &Domain, monomials: &[ECP]) -> Vec<ECP> {
    let n = domain.size();
    let mut a: Vec<ECP> = monomials[..n].to_vec();
    crate::domain::bit_reverse(&mut a);
    let mut len = 2;
    while len <= n {
        let step = n / len;
        for start in (0..n).step_by(len) {
            for k in 0..len / 2 {
                let twiddle = domain.root((n - k * step) % n);
                let t = g1_mul(&a[start + k + len / 2], &twiddle.0);
                let mut u = a[start + k].clone();
                let mut v = u.clone();
                u.add(&t);
                v.sub(&t);
                a[start + k] = u;
                a[start + k + len / 2] = v;
            }
        }
        len <<= 1;
    }
    let inv_n = Scalar::from_u64(n as u64).inverse();
    a.iter().map(|p| g1_mul(p, &inv_n.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lagrange_points_match_the_secret() {
        let tau = Scalar::from_u64(123_456_789);
        let setup = Setup::from_secret(&tau, 16).unwrap();
        let domain = Domain::new(16).unwrap();
        // L_j(τ) = (τ^n − 1)/n · ω^j / (τ − ω^j)
        let mut tau_n = Scalar::from_u64(1);
        for _ in 0..16 {
            tau_n = tau_n.mul(&tau);
        }
        let factor = tau_n
            .sub(&Scalar::from_u64(1))
            .mul(&Scalar::from_u64(16).inverse());
        for j in 0..16 {
            let w = domain.root(j);
            let l = factor.mul(&w).mul(&tau.sub(&w).inverse());
            let expected = g1_mul(&ECP::generator(), &l.0);
            assert!(setup.lagrange[0][j].equals(&expected), "L_{j}");
        }
    }
}
