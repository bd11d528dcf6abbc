//! Elements of BLS48-581's scalar field (r, 518 bits) on MIRACL's `BIG`.

use crate::KzgError;
use miracl_core::arch::Chunk;
use miracl_core::bls48581::big::{BASEBITS, BIG, BMASK, MODBYTES, NLEN};
use miracl_core::bls48581::dbig::DBIG;
use miracl_core::bls48581::rom;
use std::sync::OnceLock;
use zeroize::Zeroize;

/// Bytes of an encoded scalar (MIRACL `MODBYTES`), big-endian.
pub const SCALAR_BYTES: usize = MODBYTES;

/// A scalar mod r, always reduced.
#[derive(Clone, Copy)]
pub struct Scalar(pub(crate) BIG);

/// The group order r.
pub(crate) fn order() -> BIG {
    BIG::new_ints(&rom::CURVE_ORDER)
}

/// What Montgomery multiplication mod r needs, with R = 2^(BASEBITS·NLEN). MIRACL's
/// `BIG::modmul` reduces bit by bit (about 20 µs a product); its `monty` reduction does
/// the same work in two word-level passes.
struct Montgomery {
    r: BIG,
    /// R² mod r.
    r_squared: BIG,
    /// −r⁻¹ mod 2^BASEBITS.
    minus_r_inverse: Chunk,
}

fn montgomery() -> &'static Montgomery {
    static M: OnceLock<Montgomery> = OnceLock::new();
    M.get_or_init(|| {
        let r = order();
        // Newton's iteration for r⁻¹ mod 2^64: each step doubles the correct low bits.
        let low = r.w[0] as u64;
        let mut inverse = 1u64;
        for _ in 0..6 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(low.wrapping_mul(inverse)));
        }
        let minus_r_inverse = (inverse.wrapping_neg() & BMASK as u64) as Chunk;
        let mut big_r = DBIG::new_scopy(&BIG::new_int(1));
        big_r.shl(BASEBITS * NLEN);
        let r_mod = big_r.dmod(&r);
        let r_squared = BIG::mul(&r_mod, &r_mod).dmod(&r);
        Montgomery {
            r,
            r_squared,
            minus_r_inverse,
        }
    })
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Self) -> bool {
        BIG::comp(&self.0, &other.0) == 0
    }
}

impl Eq for Scalar {}

impl std::fmt::Debug for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scalar({})", self.0.tostring())
    }
}

impl Scalar {
    /// 0.
    pub fn zero() -> Scalar {
        Scalar(BIG::new())
    }

    /// A small integer.
    pub fn from_u64(v: u64) -> Scalar {
        let mut b = [0u8; SCALAR_BYTES];
        b[SCALAR_BYTES - 8..].copy_from_slice(&v.to_be_bytes());
        Scalar(BIG::frombytes(&b))
    }

    /// Any big-endian byte string up to 146 bytes, reduced mod r. The proof loop's 64-byte
    /// hashes are below r, so for them this is the plain integer.
    pub fn from_be_bytes_reduced(bytes: &[u8]) -> Scalar {
        let mut wide = [0u8; 2 * SCALAR_BYTES];
        let take = bytes.len().min(wide.len());
        wide[2 * SCALAR_BYTES - take..].copy_from_slice(&bytes[bytes.len() - take..]);
        let mut d = DBIG::frombytes(&wide);
        let s = Scalar(d.dmod(&order()));
        wide.zeroize();
        s
    }

    /// Decodes a canonical 73-byte scalar (< r).
    pub fn from_bytes(bytes: &[u8]) -> Result<Scalar, KzgError> {
        if bytes.len() != SCALAR_BYTES {
            return Err(KzgError::Length {
                what: "scalar",
                expected: SCALAR_BYTES,
                got: bytes.len(),
            });
        }
        let b = BIG::frombytes(bytes);
        if BIG::comp(&b, &order()) >= 0 {
            return Err(KzgError::ScalarOutOfRange);
        }
        Ok(Scalar(b))
    }

    /// The 73-byte big-endian encoding.
    pub fn to_bytes(&self) -> [u8; SCALAR_BYTES] {
        let mut out = [0u8; SCALAR_BYTES];
        self.0.tobytes(&mut out);
        out
    }

    /// A uniformly random nonzero scalar from the operating system's generator.
    pub fn random() -> Result<Scalar, KzgError> {
        loop {
            let mut seed = [0u8; 2 * SCALAR_BYTES];
            getrandom::fill(&mut seed).map_err(KzgError::Randomness)?;
            let s = Scalar::from_be_bytes_reduced(&seed);
            seed.zeroize();
            if !s.is_zero() {
                return Ok(s);
            }
        }
    }

    /// The MIRACL integer, for point multiplication.
    pub fn to_big(&self) -> BIG {
        self.0
    }

    /// Whether this is 0.
    pub fn is_zero(&self) -> bool {
        self.0.iszilch()
    }

    /// self + other.
    pub fn add(&self, other: &Scalar) -> Scalar {
        Scalar(BIG::modadd(&self.0, &other.0, &order()))
    }

    /// self − other.
    pub fn sub(&self, other: &Scalar) -> Scalar {
        self.add(&other.neg())
    }

    /// −self.
    pub fn neg(&self) -> Scalar {
        Scalar(BIG::modneg(&self.0, &order()))
    }

    /// self · other: monty(a·b) = a·b/R, then monty(that · R²) = a·b, each below 2r.
    pub fn mul(&self, other: &Scalar) -> Scalar {
        let m = montgomery();
        let over_r = BIG::monty(&m.r, m.minus_r_inverse, &mut BIG::mul(&self.0, &other.0));
        let mut product = BIG::monty(
            &m.r,
            m.minus_r_inverse,
            &mut BIG::mul(&over_r, &m.r_squared),
        );
        if BIG::comp(&product, &m.r) >= 0 {
            product.sub(&m.r);
            product.norm();
        }
        Scalar(product)
    }

    /// self⁻¹ (0 stays 0).
    pub fn inverse(&self) -> Scalar {
        let mut b = self.0;
        b.invmodp(&order());
        Scalar(b)
    }

    /// self^e, by squaring and multiplying from the top bit.
    pub fn pow(&self, e: &BIG) -> Scalar {
        let mut acc = Scalar::from_u64(1);
        for i in (0..e.nbits()).rev() {
            acc = acc.mul(&acc);
            if e.bit(i) == 1 {
                acc = acc.mul(self);
            }
        }
        acc
    }
}

/// Bytes per value in the proof loop: one SHA3-512 digest.
pub const VALUE_BYTES: usize = 64;

/// The proof loop's values from the workers' concatenated digests, as the original's
/// `BytesToPolynomial`: each 64-byte piece (and a shorter last piece, if any) read as a
/// big-endian integer.
pub fn values_from_bytes(bytes: &[u8]) -> Vec<Scalar> {
    bytes
        .chunks(VALUE_BYTES)
        .map(Scalar::from_be_bytes_reduced)
        .collect()
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zero();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference_mul(a: &Scalar, b: &Scalar) -> Scalar {
        Scalar(BIG::modmul(&a.0, &b.0, &order()))
    }

    fn edges() -> Vec<Scalar> {
        let minus = |k: u64| Scalar::zero().sub(&Scalar::from_u64(k));
        vec![
            Scalar::zero(),
            Scalar::from_u64(1),
            Scalar::from_u64(2),
            minus(1),
            minus(2),
        ]
    }

    #[test]
    fn montgomery_products_equal_the_exact_reduction_at_the_edges() {
        for a in edges() {
            for b in edges() {
                assert_eq!(a.mul(&b), reference_mul(&a, &b), "{a:?} · {b:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn montgomery_products_equal_the_exact_reduction(
            a in proptest::collection::vec(any::<u8>(), 73..146),
            b in proptest::collection::vec(any::<u8>(), 73..146),
        ) {
            let (a, b) = (Scalar::from_be_bytes_reduced(&a), Scalar::from_be_bytes_reduced(&b));
            prop_assert_eq!(a.mul(&b), reference_mul(&a, &b));
        }

        #[test]
        fn powers_equal_miracls(a in proptest::collection::vec(any::<u8>(), 80), e in any::<u64>()) {
            let a = Scalar::from_be_bytes_reduced(&a);
            let e = Scalar::from_u64(e).0;
            let mut base = a.0;
            prop_assert_eq!(a.pow(&e), Scalar(base.powmod(&e, &order())));
        }
    }
}
