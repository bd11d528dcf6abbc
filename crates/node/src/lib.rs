//! qnode's node services, one module per service of the original's master clock engine,
//! and what the node prepares before they start. So far: the master time reel (service
//! 3), the KZG setup and the self-test.

pub mod data_workers;
pub mod kzg_setup;
pub mod master_time_reel;
pub mod node;
pub mod proof_chain;
pub mod proof_loop;
pub mod self_test;
