//! Commit, open and verify at every supported size; encodings round-trip and refuse bad
//! bytes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_kzg::{
    g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes, values_from_bytes, KzgError, Scalar,
    Setup, G1, G2, SCALAR_BYTES, SIZES, VALUE_BYTES,
};
use std::sync::OnceLock;

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| Setup::from_secret(&Scalar::random().unwrap(), 1024).unwrap())
}

/// Values as the proof loop makes them: concatenated 64-byte SHA3-512 digests.
fn values(n: usize, salt: u8) -> Vec<Scalar> {
    let bytes: Vec<u8> = (0..n * VALUE_BYTES)
        .map(|i| (i / VALUE_BYTES) as u8 ^ (i as u8).wrapping_mul(31) ^ salt)
        .collect();
    values_from_bytes(&bytes)
}

#[test]
fn digests_map_to_big_endian_integers() {
    let mut digest = [0u8; VALUE_BYTES];
    digest[63] = 5;
    digest[62] = 1;
    let mut two = digest.to_vec();
    two.extend_from_slice(&[0, 7]); // a short last piece, read as it is
    assert_eq!(
        values_from_bytes(&two),
        [Scalar::from_u64(261), Scalar::from_u64(7)]
    );
    // The largest digest is below r, so it is kept exactly.
    let max = Scalar::from_be_bytes_reduced(&[0xff; VALUE_BYTES]);
    assert_eq!(&max.to_bytes()[9..], &[0xff; VALUE_BYTES][..]);
}

#[test]
fn openings_verify_at_every_size_and_wrong_ones_do_not() {
    let s = setup();
    for n in SIZES {
        let evals = values(n, n as u8);
        let c = s.commit(n, &evals).unwrap();
        for index in [0, 1, n / 2 + 3, n - 1] {
            let opening = s.open(n, &evals, index).unwrap();
            assert_eq!(opening.value, evals[index]);
            assert!(
                s.verify(n, &c, index, &opening).unwrap(),
                "n={n} index={index}"
            );

            let mut wrong_value = opening.clone();
            wrong_value.value = opening.value.add(&Scalar::from_u64(1));
            assert!(
                !s.verify(n, &c, index, &wrong_value).unwrap(),
                "wrong value n={n}"
            );
            let other = (index + 1) % n;
            assert!(
                !s.verify(n, &c, other, &opening).unwrap(),
                "wrong index n={n}"
            );
        }
        let other_commitment = s.commit(n, &values(n, 99)).unwrap();
        let opening = s.open(n, &evals, 2).unwrap();
        assert!(!s.verify(n, &other_commitment, 2, &opening).unwrap());
    }
}

#[test]
fn short_data_is_padded_with_zeros() {
    let s = setup();
    let evals = values(5, 1);
    let mut padded = evals.clone();
    padded.resize(128, Scalar::zero());
    let c = s.commit(128, &evals).unwrap();
    assert!(c.equals(&s.commit(128, &padded).unwrap()));
    let opening = s.open(128, &evals, 100).unwrap();
    assert_eq!(opening.value, Scalar::zero());
    assert!(s.verify(128, &c, 100, &opening).unwrap());
}

#[test]
fn unsupported_sizes_and_bad_indices_are_errors() {
    let s = setup();
    assert_eq!(
        s.commit(2048, &[]).err(),
        Some(KzgError::UnsupportedSize(2048))
    );
    assert!(matches!(
        s.open(16, &values(16, 0), 16),
        Err(KzgError::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        s.commit(16, &values(17, 0)),
        Err(KzgError::TooManyValues { .. })
    ));
    let small = Setup::from_secret(&Scalar::from_u64(5), 16).unwrap();
    assert!(matches!(
        small.commit(128, &[]),
        Err(KzgError::SetupTooSmall { .. })
    ));
}

#[test]
fn encodings_round_trip() {
    let s = setup();
    let evals = values(16, 7);
    let c = s.commit(16, &evals).unwrap();
    let bytes = g1_to_bytes(&c);
    assert_eq!(bytes.len(), 74);
    assert!(g1_from_bytes(&bytes).unwrap().equals(&c));
    let h = G2::generator();
    let hb = g2_to_bytes(&h);
    assert_eq!(hb.len(), 585);
    assert!(g2_from_bytes(&hb).unwrap().equals(&h));
    for v in &evals {
        assert_eq!(Scalar::from_bytes(&v.to_bytes()).unwrap(), *v);
    }
}

#[test]
fn bad_encodings_are_refused() {
    let g = g1_to_bytes(&G1::generator());
    assert!(matches!(
        g1_from_bytes(&g[..73]),
        Err(KzgError::Length { .. })
    ));
    let mut flag = g;
    flag[0] = 0x04;
    assert_eq!(
        g1_from_bytes(&flag).err(),
        Some(KzgError::NotAPoint("G1 point"))
    );
    // x ≥ p is not canonical.
    let mut big_x = g;
    big_x[1..].fill(0xff);
    assert_eq!(
        g1_from_bytes(&big_x).err(),
        Some(KzgError::NotAPoint("G1 point"))
    );
    // Some x has no point above it, and most points above an x are outside the subgroup.
    let (mut off_curve, mut off_group) = (false, false);
    for k in 1u8..=60 {
        let mut b = [0u8; 74];
        b[0] = 0x02;
        b[73] = k;
        match g1_from_bytes(&b) {
            Err(KzgError::NotAPoint(_)) => off_curve = true,
            Err(KzgError::NotInSubgroup(_)) => off_group = true,
            other => panic!("x = {k}: {:?}", other.map(|p| g1_to_bytes(&p))),
        }
    }
    assert!(off_curve && off_group);

    let h = g2_to_bytes(&G2::generator());
    assert!(matches!(
        g2_from_bytes(&h[..584]),
        Err(KzgError::Length { .. })
    ));
    let mut hx = h;
    hx[1..].fill(0xff);
    assert!(g2_from_bytes(&hx).is_err());
    let mut g2_off_group = false;
    for k in 1u8..=30 {
        let mut b = [0u8; 585];
        b[0] = 0x02;
        b[584] = k;
        if let Err(KzgError::NotInSubgroup(_)) = g2_from_bytes(&b) {
            g2_off_group = true;
        }
    }
    assert!(
        g2_off_group,
        "some G2 points outside the subgroup are found and refused"
    );

    let mut r_minus_nothing = [0xffu8; SCALAR_BYTES];
    assert_eq!(
        Scalar::from_bytes(&r_minus_nothing).err(),
        Some(KzgError::ScalarOutOfRange)
    );
    r_minus_nothing[0] = 0;
    assert!(Scalar::from_bytes(&r_minus_nothing[..72]).is_err());
}
