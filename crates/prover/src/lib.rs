//! The prover side: the proof loop that has the data workers prove each increment, the
//! proof chain it stores, the KZG setup and the self-test it needs before it starts, and
//! the publisher that announces its reports.

pub mod kzg_setup;
pub mod proof_chain;
pub mod proof_loop;
pub mod report_publisher;
pub mod self_test;
