//! Elements of BLS48-581's scalar field (r, 518 bits) on MIRACL's `BIG`.

use crate::KzgError;
use miracl_core::bls48581::big::{BIG, MODBYTES};
use miracl_core::bls48581::dbig::DBIG;
use miracl_core::bls48581::rom;
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

    /// self · other.
    pub fn mul(&self, other: &Scalar) -> Scalar {
        Scalar(BIG::modmul(&self.0, &other.0, &order()))
    }

    /// self⁻¹ (0 stays 0).
    pub fn inverse(&self) -> Scalar {
        let mut b = self.0;
        b.invmodp(&order());
        Scalar(b)
    }

    /// self^e.
    pub fn pow(&self, e: &BIG) -> Scalar {
        let mut b = self.0;
        Scalar(b.powmod(e, &order()))
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
