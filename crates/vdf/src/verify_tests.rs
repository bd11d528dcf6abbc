//! `verify` against hostile bytes: it must answer, never panic, and accept exactly the
//! canonical encoding of a correct output.

use crate::form::{Form, INT_BYTES};
use crate::{solve, verify, ClassGroup, VdfError, FORM_BYTES, OUTPUT_BYTES};
use proptest::prelude::*;
use rug::Integer;
use std::sync::OnceLock;

const CHALLENGE: &[u8] = b"verify properties";
const T: u32 = 50;

fn valid() -> &'static [u8; OUTPUT_BYTES] {
    static OUT: OnceLock<[u8; OUTPUT_BYTES]> = OnceLock::new();
    OUT.get_or_init(|| solve(CHALLENGE, T).expect("t > 0"))
}

fn group() -> ClassGroup {
    ClassGroup::new(crate::discriminant_cached(CHALLENGE))
}

/// `valid()` with the proof replaced by `form`, encoded without any canonical checks.
fn with_proof(form: &Form) -> Vec<u8> {
    let mut out = valid().to_vec();
    form.write_bytes(&mut out[FORM_BYTES..]);
    out
}

#[test]
fn the_valid_output_verifies() {
    assert_eq!(verify(CHALLENGE, T, valid()), Ok(()));
}

/// The first verification of a challenge checks its proof while the discriminant's prime
/// is confirmed; later ones check it after. Both must give the same verdict.
#[test]
fn a_cold_verification_answers_as_a_warm_one() {
    for (i, damage) in [None, Some(FORM_BYTES - 1), Some(OUTPUT_BYTES - 1), Some(3)]
        .into_iter()
        .enumerate()
    {
        let challenge = format!("cold verification {i}").into_bytes();
        let mut out = solve(&challenge, T).expect("t > 0");
        if let Some(at) = damage {
            out[at] ^= 1;
        }
        let cold = verify(&challenge, T, &out);
        assert_eq!(cold.is_ok(), damage.is_none(), "{damage:?}: {cold:?}");
        assert_eq!(verify(&challenge, T, &out), cold, "warm, {damage:?}");
    }
}

#[test]
fn difficulty_zero_is_an_error_not_a_panic() {
    assert_eq!(verify(CHALLENGE, 0, valid()), Err(VdfError::ZeroDifficulty));
    assert_eq!(solve(CHALLENGE, 0), Err(VdfError::ZeroDifficulty));
}

#[test]
fn a_zero_is_refused_where_the_original_divides_by_zero() {
    let mut out = valid().to_vec();
    out[FORM_BYTES..FORM_BYTES + INT_BYTES].fill(0);
    assert_eq!(verify(CHALLENGE, T, &out), Err(VdfError::NotAForm));
    out[..INT_BYTES].fill(0);
    assert_eq!(verify(CHALLENGE, T, &out), Err(VdfError::NotAForm));
}

#[test]
fn an_equivalent_but_unreduced_proof_is_refused() {
    let g = group();
    let pi = g.decode(&valid()[FORM_BYTES..]).expect("canonical");
    // (a, b + 2a, a + b + c) is the same class, shifted out of the normal range.
    let shifted = Form {
        b: Integer::from(&pi.a * 2u32) + &pi.b,
        c: Integer::from(&pi.a + &pi.b) + &pi.c,
        a: pi.a.clone(),
    };
    assert_eq!(
        verify(CHALLENGE, T, &with_proof(&shifted)),
        Err(VdfError::NotReduced)
    );
    // (a, −b, c) is the inverse class unless b = 0: refused as a wrong proof.
    let inverse = Form {
        b: Integer::from(-&pi.b),
        ..pi.clone()
    };
    assert!(verify(CHALLENGE, T, &with_proof(&inverse)).is_err());
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), 0..1100), t in any::<u32>()) {
        prop_assert!(verify(CHALLENGE, t, &bytes).is_err());
    }

    #[test]
    fn arbitrary_516_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), OUTPUT_BYTES)) {
        prop_assert!(verify(CHALLENGE, T, &bytes).is_err());
    }

    #[test]
    fn any_changed_byte_is_rejected(at in 0..OUTPUT_BYTES, mask in 1u8..=255) {
        let mut out = valid().to_vec();
        out[at] ^= mask;
        prop_assert!(verify(CHALLENGE, T, &out).is_err());
    }

    #[test]
    fn a_wrong_difficulty_is_rejected(t in 1u32..100_000) {
        prop_assume!(t != T);
        prop_assert!(verify(CHALLENGE, t, valid()).is_err());
    }
}
