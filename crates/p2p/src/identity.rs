//! The node's key pair: Ed25519, protobuf-encoded in `CONFIG_DIR/node-key`, mode 0600.

use crate::NetworkError;
use libp2p::identity::Keypair;
use std::path::Path;

/// The key file's name in a config directory.
pub const IDENTITY_FILE: &str = "node-key";

/// Loads the key pair, creating it (readable by the owner only) on first use.
pub fn load_or_create_identity(config_dir: &Path) -> Result<Keypair, NetworkError> {
    let path = config_dir.join(IDENTITY_FILE);
    let fail = |cause: String| NetworkError::Identity {
        path: path.display().to_string(),
        cause,
    };
    match std::fs::read(&path) {
        Ok(bytes) => Keypair::from_protobuf_encoding(&bytes).map_err(|e| fail(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_identity(config_dir),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Creates a new key pair (readable by the owner only); never replaces an existing key,
/// because a node's peer id and proof chain hang on it.
pub fn create_identity(config_dir: &Path) -> Result<Keypair, NetworkError> {
    let path = config_dir.join(IDENTITY_FILE);
    let fail = |cause: String| NetworkError::Identity {
        path: path.display().to_string(),
        cause,
    };
    let key = Keypair::generate_ed25519();
    let bytes = key
        .to_protobuf_encoding()
        .map_err(|e| fail(e.to_string()))?;
    std::fs::create_dir_all(config_dir).map_err(|e| fail(e.to_string()))?;
    write_private(&path, &bytes).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            fail("a key already exists; it is the node's identity and is kept".into())
        }
        _ => fail(e.to_string()),
    })?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
