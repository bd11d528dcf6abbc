//! The seed's eight services of the master clock engine, each in the module named after
//! it, plus the two that keep the clock moving (frame sync, the master prover). They share
//! one [`context::ServiceContext`]; every queue between them is bounded.

pub mod bandwidth_test;
pub mod challenge_proof_verifier;
pub mod channel_listener;
pub mod context;
pub mod data_workers;
pub mod frame_sync;
pub mod frame_validator;
pub mod master_prover;
pub mod master_time_reel;
pub mod message_subscriber;
pub mod peer_info_manager;
