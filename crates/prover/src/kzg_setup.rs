//! The node's KZG setup: `CONFIG_DIR/kzg-setup.pot`, verified once and then trusted by
//! its SHA3-256 hash (kept in `kzg-setup.pot.verified`), or generated as a local,
//! single-party setup for a fresh devnet.

use qnode_files::FileError;
use qnode_kzg::{Ceremony, CeremonyError, KzgError};
use sha3::{Digest, Sha3_256};
use std::path::{Path, PathBuf};

/// The setup's file name in a config directory.
pub const SETUP_FILE: &str = "kzg-setup.pot";
const VERIFIED_SUFFIX: &str = "verified";
/// Powers of a generated devnet setup: the largest domain the proof loop uses.
pub const DEVNET_POWERS: usize = 1024;

/// Why the setup could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file could not be read (or is not a small regular file).
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FileError,
    },
    /// The file is not a valid setup.
    #[error(
        "{path} is not a valid KZG setup: {cause}. Replace it with a verified setup \
         (`qnode ceremony verify FILE`), or delete it to let a devnet node generate one."
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What failed.
        cause: CeremonyError,
    },
    /// No setup, and generating one was not allowed.
    #[error(
        "no KZG setup at {0}; put one from a ceremony you ran there (see `qnode ceremony`), \
         or run a devnet (devnet = true in config.toml, or --devnet), which makes its own"
    )]
    Missing(PathBuf),
    /// Generating a devnet setup failed.
    #[error("generating a devnet setup: {0}")]
    Generate(#[from] KzgError),
}

/// A loaded setup and the hash of its file (which identifies it in self-test reports).
pub struct LoadedSetup {
    /// The ceremony file's contents.
    pub ceremony: Ceremony,
    /// SHA3-256 of the file.
    pub hash: [u8; 32],
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SetupError + '_ {
    move |source| SetupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the setup in `shared`, and its verified marker, into `dir` where missing: the
/// nodes of a devnet or a simulation share one setup, checked once.
pub fn copy_shared(shared: &Path, dir: &Path) -> std::io::Result<()> {
    let marker = format!("{SETUP_FILE}.{VERIFIED_SUFFIX}");
    for name in [SETUP_FILE, marker.as_str()] {
        let target = dir.join(name);
        if !target.exists() {
            std::fs::copy(shared.join(name), &target)?;
        }
    }
    Ok(())
}

/// Far above any setup qnode uses (1,024 powers take 176 KiB): a larger file is not one.
const MAX_SETUP_BYTES: u64 = 256 << 20;

/// Loads `config_dir/kzg-setup.pot`. When it is missing and `generate` gives a number of
/// powers (a devnet: [`DEVNET_POWERS`]), writes a fresh local setup first — loudly,
/// because a single-party setup is only as trustworthy as this machine.
pub fn load(config_dir: &Path, generate: Option<usize>) -> Result<LoadedSetup, SetupError> {
    let path = config_dir.join(SETUP_FILE);
    if !path.exists() {
        let Some(powers) = generate else {
            return Err(SetupError::Missing(path));
        };
        tracing::warn!(
            path = %path.display(),
            "no KZG setup: generating a LOCAL, SINGLE-PARTY setup for this devnet \
             (fine for testing; a real network needs a multi-party ceremony)"
        );
        let ceremony = Ceremony::init(powers)?;
        std::fs::create_dir_all(config_dir).map_err(io(config_dir))?;
        qnode_files::write_replacing(&path, &ceremony.to_bytes()).map_err(io(&path))?;
    }
    let bytes = qnode_files::read_regular(&path, MAX_SETUP_BYTES)
        .map_err(|source| SetupError::Read {
            path: path.clone(),
            source,
        })?
        .ok_or_else(|| SetupError::Missing(path.clone()))?;
    let hash: [u8; 32] = Sha3_256::digest(&bytes).into();
    let marker = PathBuf::from(format!("{}.{VERIFIED_SUFFIX}", path.display()));
    let verified = qnode_files::read_regular(&marker, 256)
        .is_ok_and(|m| m.is_some_and(|m| m.trim_ascii() == hex::encode(hash).as_bytes()));
    let ceremony = if verified {
        tracing::debug!("KZG setup matches its verified hash; skipping the full check");
        Ceremony::decode_bytes(&bytes)
    } else {
        tracing::info!(path = %path.display(), "verifying the KZG setup (once per file)");
        Ceremony::verify_bytes(&bytes, |_, _, _| {})
    }
    .map_err(|cause| SetupError::Invalid {
        path: path.clone(),
        cause,
    })?;
    if !verified {
        qnode_files::write_replacing(&marker, hex::encode(hash).as_bytes()).map_err(io(&marker))?;
    }
    Ok(LoadedSetup { ceremony, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_verified_once_and_tampering_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load(dir.path(), None),
            Err(SetupError::Missing(_))
        ));
        let first = load(dir.path(), Some(16)).unwrap();
        let marker = dir.path().join(format!("{SETUP_FILE}.{VERIFIED_SUFFIX}"));
        assert_eq!(
            std::fs::read_to_string(&marker).unwrap(),
            hex::encode(first.hash)
        );
        let again = load(dir.path(), Some(16)).unwrap();
        assert_eq!(again.hash, first.hash, "not regenerated");

        let path = dir.path().join(SETUP_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 5;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = load(dir.path(), Some(16))
            .err()
            .expect("tampered setup refused");
        assert!(matches!(err, SetupError::Invalid { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "left as it was");
    }
}
