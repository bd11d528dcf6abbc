//! Store errors: each names the file, the cause, and what the operator can do.

use std::path::{Path, PathBuf};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not a readable qnode store (garbage, truncated, or damaged).
    #[error(
        "store {path} is corrupt: {cause}. qnode left the file untouched. Restore it from a \
         backup; or keep every frame and proof that still verifies with `qnode db salvage \
         --config-dir DIR --out NEWDIR` (DIR: this store's directory), since a proof chain \
         cannot be resynced; or move it aside (mv {path} {path}.corrupt) and start again to \
         resync the frames from peers."
    )]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What was wrong.
        cause: String,
    },
    /// Another process (a running node?) has the store open.
    #[error(
        "store {path} is in use by another process (is a qnode running with this config \
         directory?). Stop it, or ask it through its API."
    )]
    InUse {
        /// The store file.
        path: PathBuf,
    },
    /// Reading or writing failed at the operating-system level.
    #[error("store {path}: {source}. Check the disk and permissions, then try again.")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The system's error (or why the store cannot write).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store was written by a newer qnode.
    #[error(
        "store {path} has schema version {found}, but this qnode knows versions up to \
         {supported}. Run the newer qnode that wrote it, or restore a backup made by this one."
    )]
    TooNew {
        /// The store file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A write was asked of a store opened only to read.
    #[error("store {path} was opened read-only; this command does not change it")]
    ReadOnly {
        /// The store file.
        path: PathBuf,
    },
    /// There is no store where one was expected.
    #[error(
        "no store at {path}: is this the node's config directory? (a node creates it on first run)"
    )]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A change would break a chain (a gap, a fork or a repeat).
    #[error("refused: {0}")]
    OutOfOrder(String),
}

impl StoreError {
    pub(crate) fn from_redb(path: &Path, e: impl Into<redb::Error>) -> StoreError {
        let path = path.to_path_buf();
        match e.into() {
            redb::Error::DatabaseAlreadyOpen => StoreError::InUse { path },
            redb::Error::PreviousIo => StoreError::Io {
                path,
                source: "an earlier write failed (see the error before this one)".into(),
            },
            // redb reports a bad magic number or a short file as I/O errors of these kinds.
            redb::Error::Io(io)
                if matches!(
                    io.kind(),
                    std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                StoreError::Corrupt {
                    path,
                    cause: io.to_string(),
                }
            }
            redb::Error::Io(io) => StoreError::Io {
                path,
                source: io.into(),
            },
            other => StoreError::Corrupt {
                path,
                cause: other.to_string(),
            },
        }
    }

    pub(crate) fn io(path: &Path, e: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        }
    }

    pub(crate) fn corrupt(path: &Path, cause: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            cause: cause.into(),
        }
    }
}
