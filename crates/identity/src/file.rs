//! The node's key file, `CONFIG_DIR/node-key`: libp2p's protobuf encoding of the private
//! key (Ed448 or Ed25519), mode 0600.
//!
//! A key file is read only when it is a regular file of a sane size, so a FIFO or device
//! put in its place cannot block or flood the start. A key readable by group or others is
//! used, with a warning (as ssh warns for its config; qnode does not refuse, because
//! restoring a backup often loses the mode and the key is still the node's identity).

use crate::{KeyType, NodeKey};
use qnode_files::FileError;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The key file's name in a config directory.
pub const IDENTITY_FILE: &str = "node-key";

/// An Ed448 key file is 118 bytes, an Ed25519 one 68; anything much larger is not one.
const MAX_KEY_BYTES: u64 = 4096;

/// A key file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("identity {}: {cause}", path.display())]
pub struct KeyFileError {
    /// The key file.
    pub path: PathBuf,
    /// What failed, and what to do.
    pub cause: String,
}

/// The node's key pair, or `None` when there is no key file. Never creates one.
pub fn load_identity(config_dir: &Path) -> Result<Option<NodeKey>, KeyFileError> {
    let path = config_dir.join(IDENTITY_FILE);
    let fail = |cause: String| KeyFileError {
        path: path.clone(),
        cause,
    };
    let bytes = match qnode_files::read_regular(&path, MAX_KEY_BYTES) {
        Ok(Some(bytes)) => zeroize::Zeroizing::new(bytes),
        Ok(None) => return Ok(None),
        Err(e @ FileError::NotRegular(_)) => {
            return Err(fail(format!(
                "{e}; it must be the key file `qnode init` wrote"
            )))
        }
        Err(FileError::TooLarge { len, .. }) => {
            return Err(fail(format!(
                "{len} bytes is too large for a key file; restore node-key from your backup"
            )))
        }
        Err(FileError::Io(e)) => return Err(fail(e.to_string())),
    };
    if bytes.is_empty() {
        return Err(fail(
            "the file is empty (an interrupted copy?); restore node-key from your backup".into(),
        ));
    }
    if let Some(warning) = std::fs::metadata(&path)
        .ok()
        .and_then(|meta| permission_warning(meta.permissions().mode()))
    {
        tracing::warn!(path = %path.display(), "{warning}");
    }
    NodeKey::from_protobuf_encoding(&bytes)
        .map(Some)
        .map_err(|e| {
            fail(format!(
                "{} bytes that are not an Ed448 or Ed25519 node key ({e}; truncated or \
                 damaged?); restore node-key from your backup",
                bytes.len()
            ))
        })
}

/// What to say about a key file's mode, if anything.
fn permission_warning(mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "the node key is readable by others (mode {:o}); anyone who can read it can \
             impersonate this node. Run: chmod 600 on it",
            mode & 0o777
        )
    })
}

/// Loads the key pair, creating one of `kind` (readable by the owner only) when there is
/// none: for a new directory, where no proof chain can hang on a lost key.
pub fn load_or_create_identity(config_dir: &Path, kind: KeyType) -> Result<NodeKey, KeyFileError> {
    match load_identity(config_dir)? {
        Some(key) => Ok(key),
        None => create_identity(config_dir, kind),
    }
}

/// Creates a new key pair of `kind` (readable by the owner only); never replaces an
/// existing key, because a node's peer id and proof chain hang on it.
pub fn create_identity(config_dir: &Path, kind: KeyType) -> Result<NodeKey, KeyFileError> {
    let key = NodeKey::generate(kind).map_err(|e| KeyFileError {
        path: config_dir.join(IDENTITY_FILE),
        cause: e.to_string(),
    })?;
    save_identity(config_dir, &key)?;
    Ok(key)
}

/// Writes `key` as the directory's key (readable by the owner only), whole or not at all:
/// a crash part way leaves no key file rather than a truncated one. Never replaces an
/// existing key.
pub fn save_identity(config_dir: &Path, key: &NodeKey) -> Result<(), KeyFileError> {
    let path = config_dir.join(IDENTITY_FILE);
    let fail = |cause: String| KeyFileError {
        path: path.clone(),
        cause,
    };
    let bytes = key
        .to_protobuf_encoding()
        .map_err(|e| fail(e.to_string()))?;
    std::fs::create_dir_all(config_dir).map_err(|e| fail(e.to_string()))?;
    write_private(config_dir, &path, &bytes).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            fail("a key already exists; it is the node's identity and is kept".into())
        }
        _ => fail(e.to_string()),
    })
}

/// Writes a temporary file, then links it in place: the link appears whole, and fails
/// rather than replace a file that is there.
fn write_private(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let partial = dir.join(format!("{IDENTITY_FILE}.partial"));
    let _ = std::fs::remove_file(&partial); // left by a crash during an earlier write
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&partial, path));
    let _ = std::fs::remove_file(&partial);
    written?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_private_mode_is_quiet() {
        assert_eq!(permission_warning(0o100600), None);
        assert_eq!(permission_warning(0o100400), None);
        let warning = permission_warning(0o100644).expect("world-readable warns");
        assert!(
            warning.contains("644") && warning.contains("chmod 600"),
            "{warning}"
        );
        assert!(permission_warning(0o100640).is_some());
    }

    #[test]
    fn odd_key_files_are_refused_in_words() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(load_identity(dir.path()).expect("no key is fine").is_none());
        let key = dir.path().join(IDENTITY_FILE);
        let refused = |what: &str| {
            let err = load_identity(dir.path()).expect_err(what).to_string();
            assert!(err.contains("node-key"), "{what}: {err}");
            err
        };
        std::fs::create_dir(&key).expect("dir");
        assert!(refused("a directory").contains("not a regular file"));
        std::fs::remove_dir(&key).expect("rm");
        nix::unistd::mkfifo(&key, nix::sys::stat::Mode::S_IRWXU).expect("fifo");
        assert!(refused("a FIFO").contains("not a regular file"));
        std::fs::remove_file(&key).expect("rm");
        std::fs::write(&key, b"").expect("empty");
        assert!(refused("empty").contains("empty"));
        std::fs::write(&key, vec![0u8; 10_000]).expect("huge");
        assert!(refused("huge").contains("too large"));
        for kind in [KeyType::Ed448, KeyType::Ed25519] {
            let good = NodeKey::generate(kind)
                .expect("key")
                .to_protobuf_encoding()
                .expect("encode");
            std::fs::write(&key, &good[..good.len() / 2]).expect("truncated");
            assert!(refused("truncated").contains("truncated or damaged"));
            std::fs::write(&key, &*good).expect("good");
            let loaded = load_identity(dir.path()).expect("loads").expect("some");
            assert_eq!(
                loaded.public(),
                NodeKey::from_protobuf_encoding(&good)
                    .expect("decode")
                    .public()
            );
            assert_eq!(loaded.key_type(), kind);
        }
    }

    #[test]
    fn a_new_key_is_private_and_never_replaced() {
        for kind in [KeyType::Ed448, KeyType::Ed25519] {
            let dir = tempfile::tempdir().expect("temp dir");
            let first = load_or_create_identity(dir.path(), kind).expect("create");
            let again = load_or_create_identity(dir.path(), KeyType::Ed25519).expect("load");
            assert_eq!(first.peer_id(), again.peer_id(), "{kind}: the key is kept");
            assert_eq!(again.key_type(), kind);
            let mode = std::fs::metadata(dir.path().join(IDENTITY_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let other = NodeKey::generate(kind).expect("key");
            let refused = save_identity(dir.path(), &other).expect_err("kept");
            assert!(refused.to_string().contains("already exists"), "{refused}");
        }
    }
}
