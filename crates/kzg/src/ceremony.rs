//! qnode's powers-of-tau ceremony: a file of G1 and G2 powers of a secret τ nobody knows,
//! built by successive contributors who each multiply τ by a fresh secret and leave a
//! proof of doing so.
//!
//! File layout (all integers big-endian):
//!
//! | field | bytes |
//! | --- | --- |
//! | magic `QNODEPOT` | 8 |
//! | version (1) | 4 |
//! | n = G1 powers (16, 128 or 1024) | 4 |
//! | G2 powers (2) | 4 |
//! | k = contributions (≥ 1) | 4 |
//! | τ^i·G1, i < n | n × 74 |
//! | G2, τ·G2 | 2 × 585 |
//! | L_j(τ)·G1 for each domain size d ≤ n, ascending | Σ d × 74 |
//! | per contribution: s·G2, running product τ_j·G1, proof s·H_j | k × (585 + 74 + 74) |
//!
//! Contribution j multiplies τ by s_j: τ_j = τ_{j−1}·s_j with τ_0 = 1. Its record proves
//! it: `e(τ_j·G1, G2) = e(τ_{j−1}·G1, s_j·G2)`, and `s_j·H_j` with `H_j` hashed to G1
//! from the previous running product and `s_j·G2` shows knowledge of s_j bound to this
//! place in the chain.

use crate::domain::{Domain, SIZES};
use crate::msm::msm;
use crate::points::{
    g1_from_bytes, g1_mul, g1_to_bytes, g2_from_bytes, g2_mul, g2_to_bytes, pairings_equal,
    G1_BYTES, G2_BYTES,
};
use crate::scalar::Scalar;
use crate::setup::Setup;
use crate::KzgError;
use miracl_core::bls48581::ecp::ECP;
use miracl_core::bls48581::ecp8::ECP8;
use sha3::{Digest, Sha3_256};
use zeroize::Zeroize;

const MAGIC: &[u8; 8] = b"QNODEPOT";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 24;
const CONTRIBUTION_BYTES: usize = G2_BYTES + 2 * G1_BYTES;

/// One contributor's record.
pub struct Contribution {
    /// s·G2.
    pub public_key: ECP8,
    /// τ_j·G1 after this contribution.
    pub running_product: ECP,
    /// s·H_j: knowledge of s, bound to the previous state.
    pub proof: ECP,
}

/// A setup with the history of how it was made.
pub struct Ceremony {
    /// The powers and Lagrange points.
    pub setup: Setup,
    /// Every contribution, first to last.
    pub contributions: Vec<Contribution>,
}

/// Why a ceremony file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CeremonyError {
    /// Not a qnode powers-of-tau file, or a version we do not read.
    #[error("not a qnode powers-of-tau file (version {VERSION}): {0}")]
    Format(String),
    /// A point or size in the file is invalid.
    #[error(transparent)]
    Kzg(#[from] KzgError),
    /// A check failed: the file was tampered with or damaged.
    #[error("verification failed: {0}")]
    Invalid(#[from] Forgery),
}

/// Which check a setup file failed, each catching a different forgery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Forgery {
    /// The first G1 or G2 power is not the generator.
    #[error("the first powers are not the generators")]
    NotGenerators,
    /// A contribution's running product is not its secret times the previous one (a
    /// contribution dropped, reordered or replayed).
    #[error("contribution {0} does not extend the chain")]
    ChainBroken(usize),
    /// A contribution's proof of knowledge does not prove its secret (a proof taken from
    /// elsewhere, or forged).
    #[error("contribution {0} has a bad proof of knowledge")]
    BadProofOfKnowledge(usize),
    /// τ·G1 is not the last contribution's running product.
    #[error("τ·G1 is not the last running product")]
    NotLastProduct,
    /// The G1 powers are not successive powers of the τ in τ·G2 (swapped or replaced
    /// powers, a reset τ·G2).
    #[error("the G1 powers are not powers of one τ")]
    NotPowersOfOneTau,
    /// τ·G2 and τ·G1 hold different τ. (Implied by the powers check, which is randomized;
    /// this one is deterministic and cheap.)
    #[error("τ·G2 does not match τ·G1")]
    G2Mismatch,
    /// The Lagrange points of a domain are not the powers' Lagrange basis.
    #[error("the Lagrange points of the {0}-point domain do not match the powers")]
    LagrangeMismatch(usize),
}

/// What `verify` is doing, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Decoding and subgroup-checking points.
    Decode,
    /// Checking each contribution's pairings.
    Contributions,
    /// Checking that the powers are powers of one τ.
    Powers,
    /// Checking the Lagrange points against the powers.
    Lagrange,
}

fn hash_to_g1(previous: &ECP, public_key: &ECP8) -> ECP {
    let digest = Sha3_256::new()
        .chain_update(b"qnode powers of tau")
        .chain_update(g1_to_bytes(previous))
        .chain_update(g2_to_bytes(public_key))
        .finalize();
    ECP::mapit(&digest)
}

fn contribution(previous: &ECP, secret: &Scalar) -> Contribution {
    let public_key = g2_mul(&ECP8::generator(), &secret.to_big());
    let proof = g1_mul(&hash_to_g1(previous, &public_key), &secret.to_big());
    Contribution {
        running_product: g1_mul(previous, &secret.to_big()),
        public_key,
        proof,
    }
}

impl Ceremony {
    /// A new ceremony of `powers` G1 powers from a fresh secret that is dropped (zeroed)
    /// before returning.
    pub fn init(powers: usize) -> Result<Ceremony, KzgError> {
        let mut secret = Scalar::random()?;
        let setup = Setup::from_secret(&secret, powers);
        let record = contribution(&ECP::generator(), &secret);
        secret.zeroize();
        Ok(Ceremony {
            setup: setup?,
            contributions: vec![record],
        })
    }

    /// A ceremony whose τ is `tau`, known to the caller: for tests and for checking what
    /// was committed under another setup of a known τ (the stand-in ceremony the original
    /// node ran with in this project's interop runs). Nothing made with it is secure.
    pub fn from_known_secret(tau: &Scalar, powers: usize) -> Result<Ceremony, KzgError> {
        Ok(Ceremony {
            setup: Setup::from_secret(tau, powers)?,
            contributions: vec![contribution(&ECP::generator(), tau)],
        })
    }

    /// Multiplies τ by a fresh secret (zeroed before returning) and records the proof.
    pub fn contribute(mut self) -> Result<Ceremony, KzgError> {
        let mut secret = Scalar::random()?;
        let previous = self
            .contributions
            .last()
            .map_or_else(ECP::generator, |c| c.running_product.clone());
        let record = contribution(&previous, &secret);
        let mut power = Scalar::from_u64(1);
        for p in self.setup.g1.iter_mut() {
            *p = g1_mul(p, &power.to_big());
            power = power.mul(&secret);
        }
        self.setup.g2[1] = g2_mul(&self.setup.g2[1], &secret.to_big());
        secret.zeroize();
        power.zeroize();
        let setup =
            Setup::from_powers(std::mem::take(&mut self.setup.g1), clone_g2(&self.setup.g2))?;
        self.contributions.push(record);
        Ok(Ceremony {
            setup,
            contributions: self.contributions,
        })
    }

    /// The file encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = &self.setup;
        let mut out = Vec::with_capacity(HEADER_BYTES + s.g1.len() * 3 * G1_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&(s.g1.len() as u32).to_be_bytes());
        out.extend_from_slice(&(s.g2.len() as u32).to_be_bytes());
        out.extend_from_slice(&(self.contributions.len() as u32).to_be_bytes());
        s.g1.iter()
            .for_each(|p| out.extend_from_slice(&g1_to_bytes(p)));
        s.g2.iter()
            .for_each(|p| out.extend_from_slice(&g2_to_bytes(p)));
        s.lagrange
            .iter()
            .flatten()
            .for_each(|p| out.extend_from_slice(&g1_to_bytes(p)));
        for c in &self.contributions {
            out.extend_from_slice(&g2_to_bytes(&c.public_key));
            out.extend_from_slice(&g1_to_bytes(&c.running_product));
            out.extend_from_slice(&g1_to_bytes(&c.proof));
        }
        out
    }

    /// Decodes a file whose full verification already passed (its hash is known good):
    /// every point is still decoded and subgroup-checked, the pairing checks are skipped.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Ceremony, CeremonyError> {
        decode(bytes, &mut |_, _, _| {})
    }

    /// Decodes a file and fully verifies it: every point, every contribution, the powers
    /// and the Lagrange points. `progress(stage, done, total)` is called as it goes.
    pub fn verify_bytes(
        bytes: &[u8],
        mut progress: impl FnMut(Stage, usize, usize),
    ) -> Result<Ceremony, CeremonyError> {
        let ceremony = decode(bytes, &mut progress)?;
        ceremony.verify(&mut progress)?;
        Ok(ceremony)
    }

    fn verify(&self, progress: &mut impl FnMut(Stage, usize, usize)) -> Result<(), CeremonyError> {
        let s = &self.setup;
        let (g, h) = (ECP::generator(), ECP8::generator());
        if !s.g1[0].equals(&g) || !s.g2[0].equals(&h) {
            return Err(Forgery::NotGenerators.into());
        }
        let mut previous = g.clone();
        let k = self.contributions.len();
        for (j, c) in self.contributions.iter().enumerate() {
            progress(Stage::Contributions, j, k);
            if !pairings_equal(&c.running_product, &h, &previous, &c.public_key) {
                return Err(Forgery::ChainBroken(j + 1).into());
            }
            let hashed = hash_to_g1(&previous, &c.public_key);
            if !pairings_equal(&c.proof, &h, &hashed, &c.public_key) {
                return Err(Forgery::BadProofOfKnowledge(j + 1).into());
            }
            previous = c.running_product.clone();
        }
        progress(Stage::Contributions, k, k);
        if !s.g1[1].equals(&previous) {
            return Err(Forgery::NotLastProduct.into());
        }
        progress(Stage::Powers, 0, 1);
        // One random linear combination: Σ ρ_i·τ^(i+1)·G1 against τ·(Σ ρ_i·τ^i·G1).
        let n = s.g1.len();
        let rho: Vec<Scalar> = (0..n - 1)
            .map(|_| Scalar::random())
            .collect::<Result<_, _>>()?;
        let shifted = msm(&s.g1[1..], &rho);
        let base = msm(&s.g1[..n - 1], &rho);
        if !pairings_equal(&shifted, &h, &base, &s.g2[1]) {
            return Err(Forgery::NotPowersOfOneTau.into());
        }
        if !pairings_equal(&s.g1[1], &h, &g, &s.g2[1]) {
            return Err(Forgery::G2Mismatch.into());
        }
        progress(Stage::Powers, 1, 1);
        for (i, lagrange) in s.lagrange.iter().enumerate() {
            progress(Stage::Lagrange, i, s.lagrange.len());
            let domain = Domain::new(lagrange.len())?;
            let rho: Vec<Scalar> = (0..lagrange.len())
                .map(|_| Scalar::random())
                .collect::<Result<_, _>>()?;
            let coefficients = domain.ifft(&rho);
            if !msm(lagrange, &rho).equals(&msm(&s.g1[..lagrange.len()], &coefficients)) {
                return Err(Forgery::LagrangeMismatch(lagrange.len()).into());
            }
        }
        progress(Stage::Lagrange, s.lagrange.len(), s.lagrange.len());
        Ok(())
    }
}

fn clone_g2(g2: &[ECP8; 2]) -> [ECP8; 2] {
    let copy = |p: &ECP8| {
        let mut q = ECP8::new();
        q.copy(p);
        q
    };
    [copy(&g2[0]), copy(&g2[1])]
}

/// Reads the fixed-size fields of a file, refusing anything that does not add up.
fn decode(
    bytes: &[u8],
    progress: &mut impl FnMut(Stage, usize, usize),
) -> Result<Ceremony, CeremonyError> {
    let format = |m: &str| CeremonyError::Format(m.to_string());
    let header = bytes
        .get(..HEADER_BYTES)
        .ok_or_else(|| format("shorter than its header"))?;
    if &header[..8] != MAGIC {
        return Err(format("bad magic"));
    }
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    if word(8) != VERSION {
        return Err(format(&format!("version {}", word(8))));
    }
    let (n, n2, k) = (word(12) as usize, word(16) as usize, word(20) as usize);
    if !SIZES.contains(&n) {
        return Err(CeremonyError::Kzg(KzgError::UnsupportedSize(n)));
    }
    if n2 != 2 || k == 0 {
        return Err(format(&format!(
            "{n2} G2 powers and {k} contributions (need 2 and ≥ 1)"
        )));
    }
    let lagrange_sizes: Vec<usize> = SIZES.into_iter().filter(|&d| d <= n).collect();
    let g1_count = n + lagrange_sizes.iter().sum::<usize>();
    let expected = HEADER_BYTES + g1_count * G1_BYTES + 2 * G2_BYTES + k * CONTRIBUTION_BYTES;
    if bytes.len() != expected {
        return Err(format(&format!(
            "{} bytes, but the header implies {expected}",
            bytes.len()
        )));
    }
    let total = g1_count + 2 + 3 * k;
    let mut done = 0;
    let mut at = HEADER_BYTES;
    let mut next_g1 = |at: &mut usize, done: &mut usize| -> Result<ECP, CeremonyError> {
        let p = g1_from_bytes(&bytes[*at..*at + G1_BYTES])?;
        *at += G1_BYTES;
        *done += 1;
        if done.is_multiple_of(64) {
            progress(Stage::Decode, *done, total);
        }
        Ok(p)
    };
    let g1 = (0..n)
        .map(|_| next_g1(&mut at, &mut done))
        .collect::<Result<Vec<_>, _>>()?;
    let g2a = g2_from_bytes(&bytes[at..at + G2_BYTES])?;
    let g2b = g2_from_bytes(&bytes[at + G2_BYTES..at + 2 * G2_BYTES])?;
    at += 2 * G2_BYTES;
    let mut lagrange = Vec::new();
    for d in lagrange_sizes {
        lagrange.push(
            (0..d)
                .map(|_| next_g1(&mut at, &mut done))
                .collect::<Result<Vec<_>, _>>()?,
        );
    }
    let mut contributions = Vec::with_capacity(k);
    for _ in 0..k {
        let public_key = g2_from_bytes(&bytes[at..at + G2_BYTES])?;
        at += G2_BYTES;
        let running_product = next_g1(&mut at, &mut done)?;
        let proof = next_g1(&mut at, &mut done)?;
        contributions.push(Contribution {
            public_key,
            running_product,
            proof,
        });
    }
    progress(Stage::Decode, total, total);
    let setup = Setup::assemble(g1, [g2a, g2b], lagrange);
    Ok(Ceremony {
        setup,
        contributions,
    })
}
