//! qnode's node: the seed's master clock engine and what runs around it.
//!
//! - [`services`]: the seed's eight services — data workers (1), peer-info manager (2),
//!   master time reel (3), frame validator (4), bandwidth test (5), challenge-proof
//!   verifier (6), message subscriber (7), channel listener (8) — plus frame sync and the
//!   master prover;
//! - [`prover`]: the proof loop, its proof chain, the KZG setup and self-test it needs, and
//!   the publisher of its reports;
//! - [`operator`]: what an operator reads and calls — node API, HTTP (dashboard, metrics,
//!   health), readiness, status;
//! - [`node`]: `qnode run`'s start-up in stages and its supervised tasks ([`tasks`]);
//! - [`clock`] for time.

pub mod clock;
pub mod node;
pub mod operator;
pub mod prover;
pub mod quote;
pub mod services;
pub mod tasks;
