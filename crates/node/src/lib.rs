//! qnode's node services, one module per service of the seed's master clock engine —
//! data workers (1), peer-info manager (2), master time reel (3), frame validator (4),
//! bandwidth test (5), challenge-proof verifier (6), message subscriber (7), channel
//! listener (8) — plus frame sync, the master prover, the proof loop and what the node
//! prepares before they start (KZG setup, self-test).

pub mod bandwidth_test;
pub mod challenge_proof_verifier;
pub mod channel_listener;
pub mod connection_limits;
pub mod data_workers;
pub mod frame_sync;
pub mod frame_validator;
pub mod health;
pub mod http;
pub mod kzg_setup;
pub mod master_prover;
pub mod master_time_reel;
pub mod message_subscriber;
pub mod metrics;
pub mod node;
pub mod node_api;
pub mod node_identity;
pub mod peer_info_manager;
pub mod proof_chain;
pub mod proof_loop;
pub mod quote;
pub mod recent_warnings;
pub mod self_test;
pub mod self_test_broadcast;
pub mod services;
pub mod status;
