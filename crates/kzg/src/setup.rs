//! A powers-of-tau setup and the KZG operations on it: commit to evaluations over a
//! domain, open at an index, verify an opening with one pairing equation.

use crate::domain::{Domain, SIZES};
use crate::fixed_base::FixedBases;
use crate::points::{g1_mul, g2_mul, pairings_equal};
use crate::scalar::Scalar;
use crate::KzgError;
use miracl_core::bls48581::ecp::ECP;
use miracl_core::bls48581::ecp8::ECP8;
use std::sync::OnceLock;

/// τ^i·G1 for i < n, [1]G2 and [τ]G2, and for each supported domain that fits, the
/// Lagrange-basis points L_j(τ)·G1.
pub struct Setup {
    pub(crate) g1: Vec<ECP>,
    pub(crate) g2: [ECP8; 2],
    pub(crate) lagrange: Vec<Vec<ECP>>,
    /// Each domain's fixed-base table, built on its first commitment or opening.
    tables: Vec<OnceLock<FixedBases>>,
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
        Ok(Setup::assemble(g1, g2, lagrange))
    }

    /// A setup of verified parts: `lagrange` holds the points of each supported size
    /// that fits, smallest first.
    pub(crate) fn assemble(g1: Vec<ECP>, g2: [ECP8; 2], lagrange: Vec<Vec<ECP>>) -> Setup {
        let tables = lagrange.iter().map(|_| OnceLock::new()).collect();
        Setup {
            g1,
            g2,
            lagrange,
            tables,
        }
    }

    /// The number of G1 powers, which bounds the largest domain.
    pub fn powers(&self) -> usize {
        self.g1.len()
    }

    /// The fixed-base table of the `n`-point domain's Lagrange points, built on first use.
    fn lagrange_table(&self, n: usize) -> Result<&FixedBases, KzgError> {
        let index = SIZES
            .iter()
            .position(|&s| s == n)
            .ok_or(KzgError::UnsupportedSize(n))?;
        let points = self.lagrange.get(index).ok_or(KzgError::SetupTooSmall {
            needed: n,
            have: self.g1.len(),
        })?;
        Ok(self.tables[index].get_or_init(|| FixedBases::new(points)))
    }

    /// Builds what commitments and openings on `n` points need (a fixed-base table: about
    /// 0.1 s and 2 MB at 128 points), so that the first commitment does not wait for it.
    pub fn prepare(&self, n: usize) -> Result<(), KzgError> {
        self.lagrange_table(n).map(drop)
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
        Ok(self.lagrange_table(n)?.msm(evals))
    }

    /// Opens the polynomial with evaluations `evals` on the `n`-point domain at ω^index:
    /// the quotient is committed from its evaluations, against the same Lagrange points
    /// as the commitment.
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
        let table = self.lagrange_table(n)?;
        let value = evals.get(index).copied().unwrap_or_else(Scalar::zero);
        Ok(Opening {
            value,
            proof: table.msm(&quotient_evaluations(&domain, evals, index, &value)),
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

/// The evaluations on the domain of q(X) = (p(X) − y)/(X − z), for z = ω^m and y = p(z):
/// q_j = (p_j − y)/(ω^j − z) for j ≠ m, and q_m = p'(z) = −Σ_{j≠m} q_j·ω^(j−m), because
/// L_j'(ω^m) = ω^(j−m)/(ω^m − ω^j) and the L_j' sum to zero.
fn quotient_evaluations(domain: &Domain, evals: &[Scalar], m: usize, y: &Scalar) -> Vec<Scalar> {
    let n = domain.size();
    let z = domain.root(m);
    let one = Scalar::from_u64(1);
    let differences: Vec<Scalar> = (0..n)
        .map(|j| if j == m { one } else { domain.root(j).sub(&z) })
        .collect();
    let mut quotient: Vec<Scalar> = batch_inverse(&differences)
        .iter()
        .enumerate()
        .map(|(j, inverse)| {
            let p_j = evals.get(j).copied().unwrap_or_else(Scalar::zero);
            p_j.sub(y).mul(inverse)
        })
        .collect();
    let mut at_z = Scalar::zero();
    for (j, q_j) in quotient.iter().enumerate().filter(|&(j, _)| j != m) {
        at_z = at_z.sub(&q_j.mul(&domain.root(j + n - m)));
    }
    quotient[m] = at_z;
    quotient
}

/// Every element's inverse with one inversion (Montgomery's trick); none may be zero.
fn batch_inverse(xs: &[Scalar]) -> Vec<Scalar> {
    let mut prefixes = Vec::with_capacity(xs.len());
    let mut product = Scalar::from_u64(1);
    for x in xs {
        prefixes.push(product);
        product = product.mul(x);
    }
    let mut inverse = product.inverse();
    let mut out = vec![Scalar::zero(); xs.len()];
    for (i, x) in xs.iter().enumerate().rev() {
        out[i] = inverse.mul(&prefixes[i]);
        inverse = inverse.mul(x);
    }
    out
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

    /// The textbook opening: coefficients by inverse FFT, (p(X) − y)/(X − z) by synthetic
    /// division, committed against the monomial points.
    fn open_by_division(setup: &Setup, n: usize, evals: &[Scalar], index: usize) -> ECP {
        let domain = Domain::new(n).unwrap();
        let value = evals.get(index).copied().unwrap_or_else(Scalar::zero);
        let z = domain.root(index);
        let mut coeffs = domain.ifft(evals);
        coeffs[0] = coeffs[0].sub(&value);
        let mut quotient = vec![Scalar::zero(); n - 1];
        let mut carry = Scalar::zero();
        for i in (1..n).rev() {
            carry = coeffs[i].add(&carry.mul(&z));
            quotient[i - 1] = carry;
        }
        crate::msm::msm_naive(&setup.g1, &quotient)
    }

    #[test]
    fn openings_from_evaluations_equal_the_textbook_division() {
        let setup = Setup::from_secret(&Scalar::random().unwrap(), 128).unwrap();
        for (n, filled, index) in [(16, 16, 0), (16, 5, 15), (128, 128, 77), (128, 16, 3)] {
            let evals: Vec<Scalar> = (0..filled).map(|_| Scalar::random().unwrap()).collect();
            let opening = setup.open(n, &evals, index).unwrap();
            assert!(
                opening
                    .proof
                    .equals(&open_by_division(&setup, n, &evals, index)),
                "n = {n}, {filled} values, index {index}"
            );
            let commitment = setup.commit(n, &evals).unwrap();
            assert!(setup.verify(n, &commitment, index, &opening).unwrap());
        }
    }

    #[test]
    fn batch_inverse_inverts_each_element() {
        let xs: Vec<Scalar> = (1..20).map(|i| Scalar::from_u64(i * 7919)).collect();
        for (x, inverse) in xs.iter().zip(batch_inverse(&xs)) {
            assert_eq!(x.mul(&inverse), Scalar::from_u64(1));
        }
    }

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
