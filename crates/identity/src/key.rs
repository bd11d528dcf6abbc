//! A node's own key pair: Ed448 (the original's key type and qnode's default) or Ed25519
//! (qnode's keys before Ed448, which keep working).

use crate::pb::{KeyPb, KeyTypePb};
use crate::public::{PublicKey, ED448_PUBLIC_KEY_BYTES};
use crate::KeyError;
use ed448_goldilocks_plus as ed448;
use libp2p_identity::PeerId;
use prost::Message;
use zeroize::Zeroizing;

/// Bytes of an Ed448 secret key (the RFC 8032 seed).
pub const ED448_SECRET_KEY_BYTES: usize = 57;
/// Bytes of the original's Ed448 private key: the seed followed by its public key
/// (go-libp2p's `Ed448PrivateKey.Raw()`, circl's private key form).
pub const ED448_KEYPAIR_BYTES: usize = ED448_SECRET_KEY_BYTES + ED448_PUBLIC_KEY_BYTES;

/// The kinds of identity a node can have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Ed448, as the original node's identities are: peer ids "Qm…".
    #[default]
    Ed448,
    /// Ed25519: peer ids "12D3KooW…".
    Ed25519,
}

impl KeyType {
    /// The name flags and files use.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ed448 => "ed448",
            KeyType::Ed25519 => "ed25519",
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyType {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<KeyType, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "ed448" => Ok(KeyType::Ed448),
            "ed25519" => Ok(KeyType::Ed25519),
            _ => Err(KeyError::Unsupported(format!(
                "`{s}` (use ed448 or ed25519)"
            ))),
        }
    }
}

/// A node's key pair.
#[derive(Clone)]
pub struct NodeKey(Secret);

#[derive(Clone)]
enum Secret {
    Ed448(Box<ed448::SigningKey>),
    Ed25519(Box<libp2p_identity::Keypair>),
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: the type and whose key it is.
        write!(f, "NodeKey({}, {})", self.key_type(), self.peer_id())
    }
}

impl NodeKey {
    /// A new random key of `kind`.
    pub fn generate(kind: KeyType) -> Result<NodeKey, KeyError> {
        match kind {
            KeyType::Ed25519 => Ok(NodeKey(Secret::Ed25519(Box::new(
                libp2p_identity::Keypair::generate_ed25519(),
            )))),
            KeyType::Ed448 => {
                let mut seed = Zeroizing::new([0u8; ED448_SECRET_KEY_BYTES]);
                getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
                Ok(NodeKey::ed448_from_seed(&seed))
            }
        }
    }

    fn ed448_from_seed(seed: &[u8; ED448_SECRET_KEY_BYTES]) -> NodeKey {
        let secret = ed448::SecretKey::from(*seed);
        NodeKey(Secret::Ed448(Box::new(ed448::SigningKey::from(&secret))))
    }

    /// An Ed448 key from the original's raw form: 114 bytes (seed ‖ public key, as its
    /// `config.yml` holds it in hex) or the 57-byte seed alone. A public half that is not
    /// the seed's is refused (go-libp2p does not check it).
    pub fn from_ed448_bytes(bytes: &[u8]) -> Result<NodeKey, KeyError> {
        let seed: &[u8; ED448_SECRET_KEY_BYTES] = match bytes.len() {
            ED448_SECRET_KEY_BYTES | ED448_KEYPAIR_BYTES => bytes[..ED448_SECRET_KEY_BYTES]
                .try_into()
                .map_err(|_| KeyError::Mismatch)?,
            got => {
                return Err(KeyError::Length {
                    what: "Ed448 private key",
                    expected: ED448_KEYPAIR_BYTES,
                    got,
                })
            }
        };
        let key = NodeKey::ed448_from_seed(seed);
        if bytes.len() == ED448_KEYPAIR_BYTES
            && key.public().raw_bytes() != bytes[ED448_SECRET_KEY_BYTES..]
        {
            return Err(KeyError::Mismatch);
        }
        Ok(key)
    }

    /// An Ed25519 key pair as rust-libp2p holds it.
    pub fn from_libp2p(key: libp2p_identity::Keypair) -> Result<NodeKey, KeyError> {
        match key.key_type() {
            libp2p_identity::KeyType::Ed25519 => Ok(NodeKey(Secret::Ed25519(Box::new(key)))),
            other => Err(KeyError::Unsupported(format!("{other:?}"))),
        }
    }

    /// Which kind of key this is.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Secret::Ed448(_) => KeyType::Ed448,
            Secret::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        match &self.0 {
            Secret::Ed448(key) => PublicKey::ed448(key.verifying_key()),
            Secret::Ed25519(key) => PublicKey::ed25519(key.public()),
        }
    }

    /// The node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.public().to_peer_id()
    }

    /// Signs `message` (RFC 8032 Ed448 with an empty context, or Ed25519).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.0 {
            Secret::Ed448(key) => Ok(key.sign_raw(message).to_bytes().to_vec()),
            Secret::Ed25519(key) => key
                .sign(message)
                .map_err(|e| KeyError::Signing(e.to_string())),
        }
    }

    /// The key as rust-libp2p's transports take it (QUIC's TLS needs it): Ed25519 keys
    /// only, as rust-libp2p has no Ed448.
    pub fn as_libp2p(&self) -> Option<&libp2p_identity::Keypair> {
        match &self.0 {
            Secret::Ed448(_) => None,
            Secret::Ed25519(key) => Some(key),
        }
    }

    /// libp2p's protobuf encoding of the private key (the key file's content): for Ed448
    /// the original's 114-byte form, as go-libp2p's `MarshalPrivateKey` writes it.
    pub fn to_protobuf_encoding(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match &self.0 {
            Secret::Ed448(key) => Ok(Zeroizing::new(
                KeyPb {
                    key_type: KeyTypePb::Ed448 as i32,
                    data: key.to_keypair_bytes().to_vec(),
                }
                .encode_to_vec(),
            )),
            Secret::Ed25519(key) => key
                .to_protobuf_encoding()
                .map(Zeroizing::new)
                .map_err(|e| KeyError::Malformed(e.to_string())),
        }
    }

    /// Decodes libp2p's protobuf encoding of a private key.
    pub fn from_protobuf_encoding(bytes: &[u8]) -> Result<NodeKey, KeyError> {
        let message = KeyPb::decode(bytes).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let data = Zeroizing::new(message.data);
        match KeyTypePb::try_from(message.key_type) {
            Ok(KeyTypePb::Ed448) => NodeKey::from_ed448_bytes(&data),
            Ok(KeyTypePb::Ed25519) => libp2p_identity::Keypair::from_protobuf_encoding(bytes)
                .map(|key| NodeKey(Secret::Ed25519(Box::new(key))))
                .map_err(|e| KeyError::Malformed(e.to_string())),
            Ok(other) => Err(KeyError::Unsupported(format!("{other:?}"))),
            Err(_) => Err(KeyError::Unsupported(format!("type {}", message.key_type))),
        }
    }
}
