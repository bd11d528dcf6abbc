//! The ceremony: init → contribute → contribute verifies, any change to the file makes
//! verification fail, and forgeries that decode cleanly (every point valid, every size
//! right) are refused by the pairing or consistency check meant to catch them.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_kzg::{
    g1_to_bytes, g2_to_bytes, Ceremony, CeremonyError, Contribution, Forgery, Scalar, Setup, G1,
    G1_BYTES, G2, G2_BYTES,
};
use sha3::{Digest, Sha3_256};
use std::ops::Range;
use std::sync::OnceLock;

/// G1 powers in every file here: one Lagrange domain, of 16 points.
const N: usize = 16;

/// Where each field sits in a file of `N` powers (the layout in `src/ceremony.rs`).
mod at {
    use super::{G1_BYTES, G2_BYTES, N};
    use std::ops::Range;

    /// Magic, version, counts.
    pub const HEADER: usize = 24;
    /// The number of contributions, in the header.
    pub const CONTRIBUTION_COUNT: Range<usize> = 20..24;
    /// One contribution's record: s·G2, τ_j·G1, proof.
    const CONTRIBUTION: usize = G2_BYTES + 2 * G1_BYTES;

    fn g1(start: usize, i: usize) -> Range<usize> {
        start + i * G1_BYTES..start + (i + 1) * G1_BYTES
    }

    /// τ^i·G1.
    pub fn g1_power(i: usize) -> Range<usize> {
        g1(HEADER, i)
    }

    /// G2 (i = 0) and τ·G2 (i = 1).
    pub fn g2_power(i: usize) -> Range<usize> {
        let start = HEADER + N * G1_BYTES + i * G2_BYTES;
        start..start + G2_BYTES
    }

    /// L_j(τ)·G1 of the `N`-point domain.
    pub fn lagrange(j: usize) -> Range<usize> {
        g1(g2_power(1).end, j)
    }

    /// Contribution j's whole record (0-based).
    pub fn contribution(j: usize) -> Range<usize> {
        let start = lagrange(N - 1).end + j * CONTRIBUTION;
        start..start + CONTRIBUTION
    }

    /// Contribution j's s·G2.
    pub fn public_key(j: usize) -> Range<usize> {
        let start = contribution(j).start;
        start..start + G2_BYTES
    }

    /// Contribution j's running product τ_j·G1.
    pub fn running_product(j: usize) -> Range<usize> {
        g1(public_key(j).end, 0)
    }

    /// Contribution j's proof of knowledge s·H_j.
    pub fn proof(j: usize) -> Range<usize> {
        g1(public_key(j).end, 1)
    }
}

/// One ceremony of `N` powers after one, two and three contributions; each file verifies.
fn stages() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut c = Ceremony::init(N).unwrap();
        let mut files = vec![c.to_bytes()];
        for _ in 0..2 {
            c = c.contribute().unwrap();
            files.push(c.to_bytes());
        }
        for (j, file) in files.iter().enumerate() {
            assert!(
                verify(file).is_ok(),
                "the untampered file after {} verifies",
                j + 1
            );
        }
        files
    })
}

fn three_party_file() -> &'static [u8] {
    &stages()[2]
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
    assert_ne!(first[at::g1_power(1)], two[at::g1_power(1)]);
    assert!(verify(&two).is_ok());
}

/// One position inside every region of the file, and a spread of others.
fn positions(len: usize) -> Vec<usize> {
    let mut at = vec![
        3,
        11,
        15,
        19,
        23, // magic, version, counts
        at::g1_power(0).start + 40,
        at::g1_power(1).start + 1,
        at::g1_power(9).start + 70, // G1 powers
        at::g2_power(0).start + 1,
        at::g2_power(0).start + 300,
        at::g2_power(1).start + 584, // G2 powers
        at::lagrange(0).start + 5,
        at::lagrange(15).start + 33, // Lagrange points
    ];
    for j in 0..3 {
        at.extend([
            at::public_key(j).start + 2,
            at::running_product(j).start + 10,
            at::proof(j).start + 60,
        ]);
    }
    at.extend((0..20).map(|i| (i * 7919 + 13) % len));
    at
}

// Forgeries that decode cleanly: each is built from valid points in the right places, so
// only the pairing and consistency checks can refuse it.

/// `file` with the fields at `a` and `b` exchanged.
fn swapped(file: &[u8], a: Range<usize>, b: Range<usize>) -> Vec<u8> {
    assert_eq!(a.len(), b.len());
    let mut out = file.to_vec();
    out[a.clone()].copy_from_slice(&file[b.clone()]);
    out[b].copy_from_slice(&file[a]);
    out
}

/// `file` with the field at `at` replaced by `with`.
fn replaced(file: &[u8], at: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = file.to_vec();
    out[at].copy_from_slice(with);
    out
}

/// `file` with its contributions' records, 0-based, in `order` (any left out are dropped)
/// and the header's count to match.
fn with_contributions(file: &[u8], order: &[usize]) -> Vec<u8> {
    let mut out = file[..at::contribution(0).start].to_vec();
    out[at::CONTRIBUTION_COUNT].copy_from_slice(&(order.len() as u32).to_be_bytes());
    for &j in order {
        out.extend_from_slice(&file[at::contribution(j)]);
    }
    out
}

/// Asserts `forgery` decodes cleanly but fails verification at `check`: the
/// check meant to catch it, not an earlier one and not the decoder.
#[track_caller]
fn assert_refused(forgery: &[u8], check: Forgery) {
    if let Err(e) = Ceremony::decode_bytes(forgery) {
        panic!("the forgery should decode cleanly, but: {e}");
    }
    match verify(forgery) {
        Err(CeremonyError::Invalid(why)) => assert_eq!(why, check),
        Err(other) => panic!("refused by {other:?}, not by the check `{check}`"),
        Ok(_) => panic!("a forgery that `{check}` should catch was accepted"),
    }
}

#[test]
fn swapped_g1_powers_are_refused() {
    let good = three_party_file();
    let swap = |i, j| swapped(good, at::g1_power(i), at::g1_power(j));
    assert_refused(&swap(2, 5), Forgery::NotPowersOfOneTau);
    assert_refused(&swap(14, 15), Forgery::NotPowersOfOneTau);
    assert_refused(&swap(1, 2), Forgery::NotLastProduct);
    assert_refused(&swap(0, 1), Forgery::NotGenerators);
}

#[test]
fn swapped_g2_powers_are_refused() {
    let good = three_party_file();
    assert_refused(
        &swapped(good, at::g2_power(0), at::g2_power(1)),
        Forgery::NotGenerators,
    );
}

#[test]
fn a_reset_tau_g2_is_refused() {
    let [one, two, three] = stages() else {
        unreachable!()
    };
    let generator = g2_to_bytes(&G2::generator());
    assert_refused(
        &replaced(three, at::g2_power(1), &generator),
        Forgery::NotPowersOfOneTau,
    );
    // τ·G2 as it stood before the last contribution, or the one before that.
    for earlier in [two, one] {
        assert_refused(
            &replaced(three, at::g2_power(1), &earlier[at::g2_power(1)]),
            Forgery::NotPowersOfOneTau,
        );
    }
}

#[test]
fn swapped_lagrange_points_are_refused() {
    let good = three_party_file();
    let lagrange = Forgery::LagrangeMismatch(N);
    assert_refused(
        &swapped(good, at::lagrange(3), at::lagrange(11)),
        lagrange.clone(),
    );
    assert_refused(&swapped(good, at::lagrange(0), at::lagrange(1)), lagrange);
}

#[test]
fn a_bad_proof_of_knowledge_is_refused() {
    let good = three_party_file();
    // Another contribution's proof.
    assert_refused(
        &swapped(good, at::proof(1), at::proof(2)),
        Forgery::BadProofOfKnowledge(2),
    );
    assert_refused(
        &replaced(good, at::proof(0), &good[at::proof(2)]),
        Forgery::BadProofOfKnowledge(1),
    );
    // Valid points that are not the proof: G1 itself, the contribution's own product.
    let generator = g1_to_bytes(&G1::generator());
    assert_refused(
        &replaced(good, at::proof(2), &generator),
        Forgery::BadProofOfKnowledge(3),
    );
    assert_refused(
        &replaced(good, at::proof(1), &good[at::running_product(1)]),
        Forgery::BadProofOfKnowledge(2),
    );
}

/// H_j as the verifier hashes it (`hash_to_g1` in `src/ceremony.rs`).
fn hash_to_g1(previous: &G1, public_key: &G2) -> G1 {
    let digest = Sha3_256::new()
        .chain_update(b"qnode powers of tau")
        .chain_update(g1_to_bytes(previous))
        .chain_update(g2_to_bytes(public_key))
        .finalize();
    G1::mapit(&digest)
}

/// The records of contributions with these known secrets, in order, each proof made at
/// its place as `Ceremony::contribute` makes it.
fn chain(secrets: &[Scalar]) -> Vec<Contribution> {
    let mut previous = G1::generator();
    secrets
        .iter()
        .map(|s| {
            let public_key = G2::generator().mul(&s.to_big());
            let proof = hash_to_g1(&previous, &public_key).mul(&s.to_big());
            previous = previous.mul(&s.to_big());
            Contribution {
                public_key,
                running_product: previous.clone(),
                proof,
            }
        })
        .collect()
}

/// The file of a ceremony whose τ is the product of `secrets`, with these records.
fn file_of(secrets: &[Scalar], contributions: Vec<Contribution>) -> Vec<u8> {
    let tau = secrets.iter().fold(Scalar::from_u64(1), |t, s| t.mul(s));
    let setup = Setup::from_secret(&tau, N).unwrap();
    Ceremony {
        setup,
        contributions,
    }
    .to_bytes()
}

/// Claiming someone else's contribution: a forger who publishes s_f·G2, s_f·G1 and its
/// proof can put the victim's published s_v·G2 after it, with running product
/// s_f·(s_v·G1) — everything but the victim's proof at that place, which needs s_v. The
/// victim's published proof is bound to the start of the chain and is refused there.
#[test]
fn a_proof_of_knowledge_moved_to_another_place_in_the_chain_is_refused() {
    let (forger, victim) = (Scalar::from_u64(0x5eed_f0f0), Scalar::from_u64(0x0b5e_55ed));
    let secrets = [forger, victim];
    // With the proof only the victim could make there, the same file verifies.
    assert!(verify(&file_of(&secrets, chain(&secrets))).is_ok());
    let published = chain(&[victim]).remove(0);
    let mut claimed = chain(&secrets);
    assert!(claimed[1].public_key.equals(&published.public_key));
    assert!(claimed[1]
        .running_product
        .equals(&published.running_product.mul(&forger.to_big())));
    claimed[1].proof = published.proof;
    assert_refused(&file_of(&secrets, claimed), Forgery::BadProofOfKnowledge(2));
}

#[test]
fn a_dropped_contribution_is_refused() {
    let good = three_party_file();
    assert_refused(&with_contributions(good, &[0, 2]), Forgery::ChainBroken(2));
    assert_refused(&with_contributions(good, &[1, 2]), Forgery::ChainBroken(1));
    assert_refused(&with_contributions(good, &[0, 1]), Forgery::NotLastProduct);
}

#[test]
fn reordered_contributions_are_refused() {
    let good = three_party_file();
    assert!(verify(&with_contributions(good, &[0, 1, 2])).is_ok());
    assert_refused(
        &with_contributions(good, &[0, 2, 1]),
        Forgery::ChainBroken(2),
    );
    assert_refused(
        &with_contributions(good, &[1, 0, 2]),
        Forgery::ChainBroken(1),
    );
    assert_refused(
        &with_contributions(good, &[2, 1, 0]),
        Forgery::ChainBroken(1),
    );
    // A contribution replayed in place of the next.
    assert_refused(
        &with_contributions(good, &[0, 1, 1]),
        Forgery::ChainBroken(3),
    );
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
