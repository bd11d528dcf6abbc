//! Public keys as peers show them: libp2p's protobuf encoding, the peer id derived from
//! it, and signature checks.

use crate::pb::{KeyPb, KeyTypePb};
use crate::{KeyError, KeyType};
use ed448_goldilocks_plus as ed448;
use libp2p_identity::PeerId;
use prost::Message;
use qnode_memo::{recent, Memo};
use sha2::{Digest, Sha256};

/// Bytes of an Ed448 public key (a compressed Edwards point).
pub const ED448_PUBLIC_KEY_BYTES: usize = 57;
/// Bytes of an Ed448 signature (R ‖ S).
pub const ED448_SIGNATURE_BYTES: usize = 114;
/// The longest key encoding that becomes its own peer id (an identity multihash); longer
/// ones are hashed with SHA2-256, as libp2p's peer id spec says (and go-libp2p does).
const MAX_INLINE_KEY_BYTES: usize = 42;
/// Multihash codes of the two peer id forms.
const MULTIHASH_IDENTITY: u8 = 0x00;
const MULTIHASH_SHA2_256: u8 = 0x12;

/// A peer's public key: Ed448 or Ed25519.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(Public);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Public {
    Ed448(ed448::VerifyingKey),
    Ed25519(libp2p_identity::PublicKey),
}

impl PublicKey {
    pub(crate) fn ed448(key: ed448::VerifyingKey) -> PublicKey {
        PublicKey(Public::Ed448(key))
    }

    pub(crate) fn ed25519(key: libp2p_identity::PublicKey) -> PublicKey {
        PublicKey(Public::Ed25519(key))
    }

    /// An Ed448 public key from its 57 raw bytes.
    pub fn from_ed448_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let raw: &[u8; ED448_PUBLIC_KEY_BYTES] =
            bytes.try_into().map_err(|_| KeyError::Length {
                what: "Ed448 public key",
                expected: ED448_PUBLIC_KEY_BYTES,
                got: bytes.len(),
            })?;
        // Decompressing a point checks its order (a scalar multiplication, a millisecond):
        // peers' keys arrive with every gossip message, so each is decompressed once.
        static DECOMPRESSED: Memo<[u8; ED448_PUBLIC_KEY_BYTES], Option<ed448::VerifyingKey>> =
            Memo::new(|| recent(4096));
        let key = DECOMPRESSED.get_with(*raw, || ed448::VerifyingKey::from_bytes(raw).ok());
        key.map(PublicKey::ed448).ok_or(KeyError::NotAPoint)
    }

    /// Which kind of key this is.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            Public::Ed448(_) => KeyType::Ed448,
            Public::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The raw key bytes (57 for Ed448, 32 for Ed25519).
    pub fn raw_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Public::Ed448(key) => key.as_bytes().to_vec(),
            Public::Ed25519(key) => key
                .clone()
                .try_into_ed25519()
                .map(|key| key.to_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    /// libp2p's protobuf encoding, as identify, Noise and signed messages carry it.
    pub fn encode_protobuf(&self) -> Vec<u8> {
        match &self.0 {
            Public::Ed448(key) => KeyPb {
                key_type: KeyTypePb::Ed448 as i32,
                data: key.as_bytes().to_vec(),
            }
            .encode_to_vec(),
            Public::Ed25519(key) => key.encode_protobuf(),
        }
    }

    /// Decodes libp2p's protobuf encoding. Only the canonical encoding is accepted: the
    /// peer id is the hash of that encoding, so two encodings of one key would otherwise
    /// name one peer twice.
    pub fn try_decode_protobuf(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let message = KeyPb::decode(bytes).map_err(|e| KeyError::Malformed(e.to_string()))?;
        let key = match KeyTypePb::try_from(message.key_type) {
            Ok(KeyTypePb::Ed448) => PublicKey::from_ed448_bytes(&message.data)?,
            Ok(KeyTypePb::Ed25519) => PublicKey::ed25519(
                libp2p_identity::PublicKey::try_decode_protobuf(bytes)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?,
            ),
            Ok(other) => return Err(KeyError::Unsupported(format!("{other:?}"))),
            Err(_) => return Err(KeyError::Unsupported(format!("type {}", message.key_type))),
        };
        if key.encode_protobuf() != bytes {
            return Err(KeyError::NonCanonical);
        }
        Ok(key)
    }

    /// The key a peer id holds, when it holds one: an identity multihash of a key encoding
    /// (Ed25519 ids). Ed448 ids are hashes, so their key must be given separately.
    pub fn from_peer_id(peer: &PeerId) -> Option<PublicKey> {
        let multihash = peer.as_ref();
        (multihash.code() == u64::from(MULTIHASH_IDENTITY))
            .then(|| PublicKey::try_decode_protobuf(multihash.digest()).ok())
            .flatten()
    }

    /// The peer id: the key's encoding itself when it is short (Ed25519), else its SHA2-256
    /// multihash (Ed448: a "Qm…" id).
    pub fn to_peer_id(&self) -> PeerId {
        peer_id_of_encoding(&self.encode_protobuf())
    }

    /// Whether `signature` is this key's signature of `message` (RFC 8032 Ed448 with an
    /// empty context, or Ed25519). Any malformed signature is simply not valid.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.0 {
            Public::Ed448(key) => verify_ed448_shared(key, message, signature),
            Public::Ed25519(key) => key.verify(message, signature),
        }
    }
}

/// An Ed448 verdict, once per (key, signature, message) in this process: every node of a
/// simulation checks the signature of every gossip message, and Ed448 on
/// `ed448-goldilocks-plus` costs about a millisecond (it took most of a 100-node
/// simulation's CPU). Keyed by SHA2-256 of the three: the key and the signature have fixed
/// lengths, so the concatenation is unambiguous.
fn verify_ed448_shared(key: &ed448::VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    static VERIFIED: Memo<[u8; 32], bool> = Memo::new(|| recent(4096));
    if signature.len() != ED448_SIGNATURE_BYTES {
        return false;
    }
    let mut digest = Sha256::new();
    digest.update(key.as_bytes());
    digest.update(signature);
    digest.update(message);
    // Parsing the signature decompresses R (a scalar multiplication): inside the memo too.
    VERIFIED.get_with(digest.finalize().into(), || {
        ed448::Signature::from_slice(signature)
            .is_ok_and(|signature| key.verify_raw(&signature, message).is_ok())
    })
}

/// The peer id of a key encoding (libp2p's peer id spec).
fn peer_id_of_encoding(encoding: &[u8]) -> PeerId {
    let multihash: Vec<u8> = if encoding.len() <= MAX_INLINE_KEY_BYTES {
        // The length fits one varint byte: at most 42.
        [&[MULTIHASH_IDENTITY, encoding.len() as u8], encoding].concat()
    } else {
        let digest = Sha256::digest(encoding);
        [&[MULTIHASH_SHA2_256, digest.len() as u8], digest.as_slice()].concat()
    };
    match PeerId::from_bytes(&multihash) {
        Ok(peer) => peer,
        // Both forms above are multihashes a peer id accepts.
        Err(e) => unreachable!("a peer id multihash was refused: {e}"),
    }
}
