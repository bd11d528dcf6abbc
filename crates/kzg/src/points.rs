//! G1 and G2 points of BLS48-581 and their encodings: compressed G1 in 74 bytes (flag +
//! 73-byte x, MIRACL `toBytes(compress)`), compressed G2 in 585 bytes (flag + 8 × 73).
//! Decoding checks length, flag, that x is canonical and on the curve, and subgroup
//! membership; the point at infinity is never accepted from outside.

use crate::KzgError;
use miracl_core::bls48581::big::{BIG, MODBYTES};
use miracl_core::bls48581::ecp::ECP;
use miracl_core::bls48581::ecp8::ECP8;
use miracl_core::bls48581::pair8;

/// Bytes of a compressed G1 point.
pub const G1_BYTES: usize = 1 + MODBYTES;
/// Bytes of a compressed G2 point.
pub const G2_BYTES: usize = 1 + 8 * MODBYTES;

/// Encodes a G1 point compressed.
pub fn g1_to_bytes(p: &ECP) -> [u8; G1_BYTES] {
    let mut out = [0u8; G1_BYTES];
    p.tobytes(&mut out, true);
    out
}

/// Encodes a G2 point compressed.
pub fn g2_to_bytes(p: &ECP8) -> [u8; G2_BYTES] {
    let mut out = [0u8; G2_BYTES];
    p.tobytes(&mut out, true);
    out
}

fn check_len(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), KzgError> {
    if bytes.len() != expected {
        return Err(KzgError::Length {
            what,
            expected,
            got: bytes.len(),
        });
    }
    if bytes[0] != 0x02 && bytes[0] != 0x03 {
        return Err(KzgError::NotAPoint(what));
    }
    Ok(())
}

/// Decodes a compressed G1 point of the prime-order subgroup.
pub fn g1_from_bytes(bytes: &[u8]) -> Result<ECP, KzgError> {
    check_len("G1 point", bytes, G1_BYTES)?;
    let p = ECP::frombytes(bytes);
    // frombytes answers infinity for a non-canonical x or one with no point above it.
    if p.is_infinity() {
        return Err(KzgError::NotAPoint("G1 point"));
    }
    if !pair8::g1member(&p) {
        return Err(KzgError::NotInSubgroup("G1 point"));
    }
    Ok(p)
}

/// Decodes a compressed G2 point of the prime-order subgroup.
pub fn g2_from_bytes(bytes: &[u8]) -> Result<ECP8, KzgError> {
    check_len("G2 point", bytes, G2_BYTES)?;
    let p = ECP8::frombytes(bytes);
    if p.is_infinity() {
        return Err(KzgError::NotAPoint("G2 point"));
    }
    if !pair8::g2member(&p) {
        return Err(KzgError::NotInSubgroup("G2 point"));
    }
    Ok(p)
}

/// `s·P` in G1 (GLV).
pub(crate) fn g1_mul(p: &ECP, s: &BIG) -> ECP {
    pair8::g1mul(p, s)
}

/// `s·Q` in G2 (GLS).
pub(crate) fn g2_mul(q: &ECP8, s: &BIG) -> ECP8 {
    pair8::g2mul(q, s)
}

/// Whether `e(a, b) = e(c, d)`, as one multi-pairing.
pub(crate) fn pairings_equal(a: &ECP, b: &ECP8, c: &ECP, d: &ECP8) -> bool {
    let mut neg_c = c.clone();
    neg_c.neg();
    let m = pair8::ate2(b, a, d, &neg_c);
    pair8::fexp(&m).isunity()
}
