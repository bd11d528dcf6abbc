//! Why a node could not start, or stopped with an error.

use crate::identity::IdentityError;
use qnode_p2p::NetworkError;
use qnode_prover::kzg_setup::SetupError;
use qnode_prover::self_test::SelfTestError;
use qnode_services::data_workers::WorkersError;
use qnode_services::master_time_reel::ReelError;
use qnode_store::StoreError;
use qnode_tasks::TaskFailure;
use std::net::SocketAddr;

/// Why the node stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// See the store's message.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// See the reel's message.
    #[error(transparent)]
    Reel(#[from] ReelError),
    /// See the setup's message.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// See the self-test's message.
    #[error(transparent)]
    SelfTest(#[from] SelfTestError),
    /// See the workers' message.
    #[error(transparent)]
    Workers(#[from] WorkersError),
    /// A critical task failed while the node ran (see its message).
    #[error(transparent)]
    Task(#[from] TaskFailure),
    /// The metrics could not be set up.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// An endpoint could not listen.
    #[error("cannot serve the {what} on {address}: {cause}; choose another address with --{option} (or `{option}` in config.toml)")]
    Bind {
        /// Which endpoint.
        what: &'static str,
        /// The option that sets its address.
        option: &'static str,
        /// The address asked for.
        address: SocketAddr,
        /// The system's error.
        cause: std::io::Error,
    },
    /// The identity or the network failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The key does not fit the stored proof chain (see its message).
    #[error(transparent)]
    Identity(#[from] IdentityError),
}
