//! Which key a node runs under. The proof chain, and so the operator's reward, hangs on
//! the peer id, so a start never quietly swaps it: a missing key, or a key that is not the
//! one the stored chain belongs to, stops the start until the operator restores the key
//! or asks for a new identity on purpose.

use qnode_identity::{KeyFileError, KeyType, NodeKey, IDENTITY_FILE};
use std::path::{Path, PathBuf};

/// Why the node will not start under the key it found.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The key file cannot be used, or no key could be made (see its message).
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The key is gone but the store holds a chain.
    #[error(
        "{key} is missing, but the store holds the proof chain of {stored}. Restore node-key \
         from your backup to keep that chain and its reward; to start a new identity on \
         purpose (the stored chain stays in the store, orphaned), run with --new-identity"
    )]
    Missing {
        /// The key file.
        key: PathBuf,
        /// The peer ids with chains in the store.
        stored: String,
    },
    /// The key is not the one the stored chain belongs to.
    #[error(
        "{key} is peer {found}, but the store holds the proof chain of {stored}, not of \
         {found}. Put that peer's node-key back to keep its chain; to run as {found} and \
         start a new chain on purpose, run with --new-identity"
    )]
    Mismatch {
        /// The key file.
        key: PathBuf,
        /// The key's peer id (base58, as the message shows it).
        found: String,
        /// The peer ids with chains in the store.
        stored: String,
    },
}

/// What the start will do about the key: nothing is written until every check passed.
pub enum KeyPlan {
    /// Use this key.
    Use(Box<NodeKey>),
    /// There is no key and nothing depends on one: this new key, written once the start
    /// may write.
    Create(Box<NodeKey>),
}

impl KeyPlan {
    /// The key the node runs under.
    pub fn key(&self) -> &NodeKey {
        match self {
            KeyPlan::Use(key) | KeyPlan::Create(key) => key,
        }
    }
}

/// Decides the key from the key file and the peers whose chains the store holds; a key
/// made here is of `new_key_type`.
pub fn plan(
    config_dir: &Path,
    stored_chains: &[Vec<u8>],
    new_identity: bool,
    new_key_type: KeyType,
) -> Result<KeyPlan, IdentityError> {
    let key_path = config_dir.join(IDENTITY_FILE);
    let stored = || {
        stored_chains
            .iter()
            .map(|p| qnode_store::peer_name(p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match qnode_identity::load_identity(config_dir)? {
        None if stored_chains.is_empty() || new_identity => {
            let key = NodeKey::generate(new_key_type).map_err(|e| KeyFileError {
                path: key_path.clone(),
                cause: e.to_string(),
            })?;
            Ok(KeyPlan::Create(Box::new(key)))
        }
        None => Err(IdentityError::Missing {
            key: key_path,
            stored: stored(),
        }),
        Some(key) => {
            let found = key.peer_id();
            let known =
                stored_chains.is_empty() || stored_chains.iter().any(|p| p == &found.to_bytes());
            if known || new_identity {
                Ok(KeyPlan::Use(Box::new(key)))
            } else {
                Err(IdentityError::Mismatch {
                    key: key_path,
                    found: found.to_base58(),
                    stored: stored(),
                })
            }
        }
    }
}

/// Whose proof chain a read-only tool shows, never creating a key: the key's peer; with
/// no key, the store's only chain (a backup may be checked without its key).
pub fn chain_owner(
    config_dir: &Path,
    stored_chains: &[Vec<u8>],
) -> Result<Option<Vec<u8>>, IdentityError> {
    if let Some(key) = qnode_identity::load_identity(config_dir)? {
        return Ok(Some(key.peer_id().to_bytes()));
    }
    match stored_chains {
        [] => Ok(None),
        [only] => Ok(Some(only.clone())),
        _ => Err(IdentityError::Missing {
            key: config_dir.join(IDENTITY_FILE),
            stored: stored_chains
                .iter()
                .map(|p| qnode_store::peer_name(p))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_in(dir: &Path) -> qnode_p2p::PeerId {
        qnode_identity::create_identity(dir, KeyType::Ed448)
            .expect("key")
            .peer_id()
    }

    #[test]
    fn a_new_directory_gets_a_new_key_of_the_type_asked_for() {
        let dir = tempfile::tempdir().expect("dir");
        for kind in [KeyType::Ed448, KeyType::Ed25519] {
            match plan(dir.path(), &[], false, kind) {
                Ok(KeyPlan::Create(key)) => assert_eq!(key.key_type(), kind),
                _ => panic!("a new {kind} key was expected"),
            }
        }
    }

    #[test]
    fn a_missing_key_with_a_stored_chain_is_refused_unless_asked() {
        let dir = tempfile::tempdir().expect("dir");
        let other = tempfile::tempdir().expect("dir");
        let owner = key_in(other.path());
        let chains = [owner.to_bytes()];
        let err = plan(dir.path(), &chains, false, KeyType::Ed448)
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains(&owner.to_string()), "names the chain: {err}");
        assert!(
            err.contains("--new-identity") && err.contains("Restore"),
            "{err}"
        );
        assert!(matches!(
            plan(dir.path(), &chains, true, KeyType::Ed448),
            Ok(KeyPlan::Create(_))
        ));
    }

    #[test]
    fn another_peers_key_is_refused_unless_asked() {
        let dir = tempfile::tempdir().expect("dir");
        let other = tempfile::tempdir().expect("dir");
        let mine = key_in(dir.path());
        let owner = key_in(other.path());
        let err = plan(dir.path(), &[owner.to_bytes()], false, KeyType::Ed448)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains(&owner.to_string()) && err.contains(&mine.to_string()),
            "names both ids: {err}"
        );
        assert!(matches!(
            plan(dir.path(), &[owner.to_bytes()], true, KeyType::Ed448),
            Ok(KeyPlan::Use(_))
        ));
        assert!(matches!(
            plan(dir.path(), &[mine.to_bytes()], false, KeyType::Ed448),
            Ok(KeyPlan::Use(_))
        ));
    }
}
