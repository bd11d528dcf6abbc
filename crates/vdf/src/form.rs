//! Binary quadratic forms (a, b, c) of a negative discriminant, their reduction to the
//! canonical representative and the original's 258-byte encoding.

use crate::VdfError;
use rug::integer::Order;
use rug::ops::{DivRoundingAssign, NegAssign};
use rug::{Assign, Integer};

/// Bytes for one of `a`, `b`: two's complement, big-endian, `(2048 + 16) / 16`.
pub const INT_BYTES: usize = 129;
/// Bytes for one serialized form (`a || b`).
pub const FORM_BYTES: usize = 2 * INT_BYTES;

/// A form `a·x² + b·xy + c·y²` with `b² − 4ac` equal to the group's discriminant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub(crate) a: Integer,
    pub(crate) b: Integer,
    pub(crate) c: Integer,
}

/// Scratch integers for reduction, kept between calls so the squaring loop never allocates.
#[derive(Default)]
pub(crate) struct ReduceScratch {
    r: Integer,
    t: Integer,
}

impl Form {
    /// The form with the given `a`, `b` and `c = (b² − d) / 4a`, if that is an integer and
    /// `a > 0`; `None` for anything else (the original divides by zero or truncates there).
    pub(crate) fn from_ab(a: Integer, b: Integer, d: &Integer) -> Option<Form> {
        if a.cmp0().is_le() {
            return None;
        }
        let mut c = Integer::from(b.square_ref());
        c -= d;
        let four_a = Integer::from(&a << 2);
        if !c.is_divisible(&four_a) {
            return None;
        }
        c.div_exact_mut(&four_a);
        Some(Form { a, b, c })
    }

    /// The identity `(1, 1, (1 − d) / 4)`.
    pub(crate) fn identity(d: &Integer) -> Form {
        Form::from_ab(Integer::from(1), Integer::from(1), d)
            .expect("d ≡ 1 mod 4 for every discriminant we build")
    }

    /// The VDF's starting element `(2, 1, (1 − d) / 8)`; reduced for any |d| > 8.
    pub(crate) fn generator(d: &Integer) -> Form {
        Form::from_ab(Integer::from(2), Integer::from(1), d)
            .expect("d ≡ 1 mod 8 for every discriminant we build")
    }

    /// Whether `−a < b ≤ a ≤ c` with `b ≥ 0` when `a = c`: the one representative per class.
    pub(crate) fn is_reduced(&self) -> bool {
        if self.a.cmp0().is_le() || self.b.cmp_abs(&self.a).is_gt() {
            return false;
        }
        // |b| ≤ a here; b = −a is not normal.
        if self.b.cmp0().is_lt() && self.b.cmp_abs(&self.a).is_eq() {
            return false;
        }
        match self.a.cmp(&self.c) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => self.b.cmp0().is_ge(),
            std::cmp::Ordering::Greater => false,
        }
    }

    /// Moves `b` into `(−a, a]` without changing the class.
    fn normalize(&mut self, s: &mut ReduceScratch) {
        let neg_a_lt_b = self.b.cmp_abs(&self.a).is_lt() || self.b == self.a;
        if neg_a_lt_b {
            return;
        }
        // r = ⌊(a − b) / 2a⌋; (a, b, c) ← (a, b + 2ra, ar² + br + c).
        s.r.assign(&self.a - &self.b);
        s.t.assign(&self.a << 1);
        s.r.div_floor_assign(&s.t);
        s.t.assign(&s.r * &self.a); // ra
        self.b += &s.t; // b + ra
        self.c += &s.r * &self.b; // c + r(b + ra)
        self.b += &s.t; // b + 2ra
    }

    /// Brings the form to its reduced representative.
    pub(crate) fn reduce(&mut self, s: &mut ReduceScratch) {
        self.normalize(s);
        while self.a > self.c || (self.a == self.c && self.b.cmp0().is_lt()) {
            std::mem::swap(&mut self.a, &mut self.c);
            self.b.neg_assign();
            self.normalize(s);
        }
    }

    /// Writes `a || b` in the original's encoding.
    pub(crate) fn write_bytes(&self, out: &mut [u8]) {
        let (a, b) = out.split_at_mut(INT_BYTES);
        write_twos_complement(&self.a, a);
        write_twos_complement(&self.b, b);
    }

    /// The 258-byte encoding of this form.
    pub fn to_bytes(&self) -> [u8; FORM_BYTES] {
        let mut out = [0u8; FORM_BYTES];
        self.write_bytes(&mut out);
        out
    }

    /// Decodes a form and insists on the canonical encoding: `c` integral, `a > 0` and the
    /// form reduced. The original accepts any `(a, b)` here; a non-reduced encoding of a
    /// valid class is refused by qnode so that every class has exactly one encoding.
    pub(crate) fn from_bytes(bytes: &[u8], d: &Integer) -> Result<Form, VdfError> {
        if bytes.len() != FORM_BYTES {
            return Err(VdfError::Length {
                expected: FORM_BYTES,
                got: bytes.len(),
            });
        }
        let (a, b) = bytes.split_at(INT_BYTES);
        let form = Form::from_ab(read_twos_complement(a), read_twos_complement(b), d)
            .ok_or(VdfError::NotAForm)?;
        if !form.is_reduced() {
            return Err(VdfError::NotReduced);
        }
        Ok(form)
    }
}

fn write_twos_complement(value: &Integer, out: &mut [u8]) {
    let bits = 8 * out.len() as u32;
    debug_assert!(value.signed_bits() <= bits, "a reduced form always fits");
    if value.cmp0().is_lt() {
        let wrapped: Integer = value + (Integer::from(1) << bits);
        wrapped.write_digits(out, Order::Msf);
    } else {
        value.write_digits(out, Order::Msf);
    }
}

fn read_twos_complement(bytes: &[u8]) -> Integer {
    let mut value = Integer::from_digits(bytes, Order::Msf);
    if bytes.first().is_some_and(|&top| top & 0x80 != 0) {
        value -= Integer::from(1) << (8 * bytes.len() as u32);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twos_complement_round_trips_at_the_edges() {
        for v in [0i64, 1, -1, 127, 128, -128, -129, i64::MAX, i64::MIN] {
            let mut buf = [0u8; INT_BYTES];
            write_twos_complement(&Integer::from(v), &mut buf);
            assert_eq!(read_twos_complement(&buf), v);
        }
        let mut buf = [0u8; INT_BYTES];
        write_twos_complement(&Integer::from(-1), &mut buf);
        assert!(buf.iter().all(|&x| x == 0xff));
    }

    #[test]
    fn reduction_matches_a_known_small_case() {
        // d = −0xdeadbeef; (16, −23, c) normalizes to (16, 9, …) as in the original's test.
        let d = Integer::from(-0xdead_beef_i64);
        let mut f = Form::from_ab(Integer::from(16), Integer::from(-23), &d).unwrap();
        f.reduce(&mut ReduceScratch::default());
        assert!(f.is_reduced());
        assert_eq!(f.b, 9);
        assert_eq!(f.c, 58_373_885);
    }

    #[test]
    fn from_ab_refuses_zero_negative_and_fractional() {
        let d = Integer::from(-23);
        assert!(Form::from_ab(Integer::from(0), Integer::from(1), &d).is_none());
        assert!(Form::from_ab(Integer::from(-2), Integer::from(1), &d).is_none());
        assert!(Form::from_ab(Integer::from(5), Integer::from(1), &d).is_none());
        assert!(Form::from_ab(Integer::from(2), Integer::from(1), &d).is_some());
    }
}
