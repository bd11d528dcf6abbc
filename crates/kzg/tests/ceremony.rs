//! The ceremony: init → contribute → contribute verifies, and any change to the file
//! makes verification fail.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_kzg::{Ceremony, CeremonyError, Scalar, G1_BYTES, G2_BYTES};
use std::sync::OnceLock;

fn three_party_file() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let c = Ceremony::init(16)
            .unwrap()
            .contribute()
            .unwrap()
            .contribute()
            .unwrap();
        c.to_bytes()
    })
}

fn verify(bytes: &[u8]) -> Result<Ceremony, CeremonyError> {
    Ceremony::verify_bytes(bytes, |_, _, _| {})
}

#[test]
fn a_three_party_ceremony_verifies_and_commits() {
    let mut stages = Vec::new();
    let c = Ceremony::verify_bytes(three_party_file(), |stage, _, _| stages.push(stage)).unwrap();
    assert_eq!(c.contributions.len(), 3);
    assert!(stages.len() > 4, "progress is reported");
    // The verified setup is a working KZG setup.
    let evals: Vec<Scalar> = (0..16).map(|i| Scalar::from_u64(i * 7 + 1)).collect();
    let commitment = c.setup.commit(16, &evals).unwrap();
    let opening = c.setup.open(16, &evals, 5).unwrap();
    assert!(c.setup.verify(16, &commitment, 5, &opening).unwrap());
}

#[test]
fn each_contribution_changes_tau() {
    let one = Ceremony::init(16).unwrap();
    let first = one.to_bytes();
    let two = one.contribute().unwrap().to_bytes();
    // τ·G1 (the second power) moved.
    let at = 24 + G1_BYTES;
    assert_ne!(first[at..at + G1_BYTES], two[at..at + G1_BYTES]);
    assert!(verify(&two).is_ok());
}

/// One position inside every region of the file, and a spread of others.
fn positions(len: usize) -> Vec<usize> {
    let n = 16;
    let g2_at = 24 + n * G1_BYTES;
    let lagrange_at = g2_at + 2 * G2_BYTES;
    let contributions_at = lagrange_at + n * G1_BYTES;
    let mut at = vec![
        3,
        11,
        15,
        19,
        23, // magic, version, counts
        24 + 40,
        24 + G1_BYTES + 1,
        24 + 9 * G1_BYTES + 70, // G1 powers
        g2_at + 1,
        g2_at + 300,
        g2_at + G2_BYTES + 584, // G2 powers
        lagrange_at + 5,
        lagrange_at + 15 * G1_BYTES + 33, // Lagrange points
    ];
    for j in 0..3 {
        let c = contributions_at + j * (G2_BYTES + 2 * G1_BYTES);
        at.extend([c + 2, c + G2_BYTES + 10, c + G2_BYTES + G1_BYTES + 60]);
    }
    at.extend((0..20).map(|i| (i * 7919 + 13) % len));
    at
}

#[test]
fn flipping_any_byte_fails_verification() {
    let good = three_party_file();
    for at in positions(good.len()) {
        for mask in [0x01u8, 0x80] {
            let mut bad = good.to_vec();
            bad[at] ^= mask;
            assert!(verify(&bad).is_err(), "flip {mask:#x} at {at} was accepted");
        }
    }
}

#[test]
fn wrong_sizes_are_refused() {
    let good = three_party_file();
    assert!(matches!(
        verify(&good[..good.len() - 1]),
        Err(CeremonyError::Format(_))
    ));
    let mut longer = good.to_vec();
    longer.push(0);
    assert!(matches!(verify(&longer), Err(CeremonyError::Format(_))));
    // A header claiming 32 powers (not a supported domain size).
    let mut wrong_powers = good.to_vec();
    wrong_powers[12..16].copy_from_slice(&32u32.to_be_bytes());
    assert!(verify(&wrong_powers).is_err());
    // A header claiming 128 powers over a 16-power body.
    let mut more_powers = good.to_vec();
    more_powers[12..16].copy_from_slice(&128u32.to_be_bytes());
    assert!(matches!(
        verify(&more_powers),
        Err(CeremonyError::Format(_))
    ));
    assert!(Ceremony::init(2048).is_err());
}
