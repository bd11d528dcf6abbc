//! KZG polynomial commitments on BLS48-581 (MIRACL Core), as the Quilibrium proof loop
//! uses them, and qnode's own powers-of-tau ceremony.
//!
//! Values are evaluations on a domain of 16, 128 or 1024 roots of unity (the largest the
//! scalar field has); a commitment is a multi-scalar multiplication over Lagrange-basis
//! points, an opening divides by (X − ω^i), and verification is one pairing equation.

mod ceremony;
mod domain;
mod fixed_base;
mod msm;
mod points;
mod scalar;
mod setup;

pub use ceremony::{Ceremony, CeremonyError, Contribution, Forgery, Stage};
pub use domain::{Domain, SIZES};
pub use fixed_base::FixedBases;
pub use msm::{msm, msm_naive};
pub use points::{g1_from_bytes, g1_to_bytes, g2_from_bytes, g2_to_bytes, G1_BYTES, G2_BYTES};
pub use scalar::{values_from_bytes, Scalar, SCALAR_BYTES, VALUE_BYTES};
pub use setup::{Opening, Setup};

/// The G1 point type (MIRACL `ECP`).
pub use miracl_core::bls48581::ecp::ECP as G1;
/// The G2 point type (MIRACL `ECP8`).
pub use miracl_core::bls48581::ecp8::ECP8 as G2;

/// Why a KZG operation or a decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KzgError {
    /// Bytes of the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length {
        /// What was being decoded.
        what: &'static str,
        /// The encoding's length.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// Not the encoding of a curve point.
    #[error("{0}: not a compressed point on the curve")]
    NotAPoint(&'static str),
    /// On the curve but outside the prime-order subgroup.
    #[error("{0}: not in the prime-order subgroup")]
    NotInSubgroup(&'static str),
    /// A scalar encoding ≥ r.
    #[error("scalar is not below the group order")]
    ScalarOutOfRange,
    /// A domain size other than 16, 128 or 1024.
    #[error(
        "domain of {0} points is not supported: BLS48-581's scalar field has roots of unity \
         only up to 1024 (use parallelism ≤ 1024)"
    )]
    UnsupportedSize(usize),
    /// The setup has fewer powers than the domain needs.
    #[error("the setup has {have} powers; a domain of {needed} needs that many")]
    SetupTooSmall {
        /// Powers the domain needs.
        needed: usize,
        /// Powers the setup has.
        have: usize,
    },
    /// More values than domain points.
    #[error("{values} values do not fit a domain of {size}")]
    TooManyValues {
        /// Values given.
        values: usize,
        /// Domain size.
        size: usize,
    },
    /// An opening index outside the domain.
    #[error("index {index} is outside the domain of {size}")]
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// Domain size.
        size: usize,
    },
    /// The operating system's random generator failed.
    #[error("no randomness: {0}")]
    Randomness(#[source] getrandom::Error),
}
