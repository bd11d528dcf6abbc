//! Messages under StrictSign, the original's signature policy: every message carries its
//! author (`from`), a sequence number and the author's signature of
//! `"libp2p-pubsub:" ‖ the message encoded without its signature and key`; the key is
//! attached when the author's peer id does not hold it (Ed448 ids never do). A message's
//! id is `from ‖ seqno` (the original's `DefaultMsgIdFn`).

use crate::rpc;
use libp2p::PeerId;
use prost::Message as _;
use qnode_identity::{NodeKey, PublicKey};

/// What the signature covers, before the encoded message.
pub const SIGN_PREFIX: &[u8] = b"libp2p-pubsub:";
/// Bytes of a sequence number (the original's: a big-endian counter).
pub const SEQNO_BYTES: usize = 8;

/// A message's id: its author's peer id bytes followed by its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub Vec<u8>);

impl MessageId {
    /// The id of `message`.
    pub fn of(message: &rpc::Message) -> MessageId {
        MessageId([message.from.as_slice(), &message.seqno].concat())
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

/// Why a received message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Its payload is over the limit.
    #[error("payload of {0} bytes is over the limit")]
    TooLarge(usize),
    /// `from` is no peer id.
    #[error("the author is not a peer id")]
    BadAuthor,
    /// No sequence number, or not 8 bytes.
    #[error("the sequence number is not {SEQNO_BYTES} bytes")]
    BadSeqno,
    /// No signature.
    #[error("unsigned")]
    Unsigned,
    /// The attached key is malformed or not the author's.
    #[error("the attached key is not the author's: {0}")]
    BadKey(String),
    /// No key attached and none in the peer id.
    #[error("no key to check the signature with")]
    NoKey,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

/// The bytes the author signs: the message without its signature and key.
fn signed_bytes(message: &rpc::Message) -> Vec<u8> {
    let unsigned = rpc::Message {
        signature: Vec::new(),
        key: Vec::new(),
        ..message.clone()
    };
    [SIGN_PREFIX, &unsigned.encode_to_vec()].concat()
}

/// A message by `key` on `bitmask`, signed.
pub fn sign(
    key: &NodeKey,
    bitmask: Vec<u8>,
    data: Vec<u8>,
    seqno: u64,
) -> Result<rpc::Message, qnode_identity::KeyError> {
    let author = key.peer_id();
    let mut message = rpc::Message {
        from: author.to_bytes(),
        data,
        seqno: seqno.to_be_bytes().to_vec(),
        bitmask,
        signature: Vec::new(),
        key: Vec::new(),
    };
    message.signature = key.sign(&signed_bytes(&message))?;
    if PublicKey::from_peer_id(&author).is_none() {
        message.key = key.public().encode_protobuf();
    }
    Ok(message)
}

/// Checks a received message's form and signature; returns its author.
pub fn check(message: &rpc::Message, max_data_bytes: usize) -> Result<PeerId, Invalid> {
    if message.data.len() > max_data_bytes {
        return Err(Invalid::TooLarge(message.data.len()));
    }
    let author = PeerId::from_bytes(&message.from).map_err(|_| Invalid::BadAuthor)?;
    if message.seqno.len() != SEQNO_BYTES {
        return Err(Invalid::BadSeqno);
    }
    if message.signature.is_empty() {
        return Err(Invalid::Unsigned);
    }
    let key = if message.key.is_empty() {
        PublicKey::from_peer_id(&author).ok_or(Invalid::NoKey)?
    } else {
        let key = PublicKey::try_decode_protobuf(&message.key)
            .map_err(|e| Invalid::BadKey(e.to_string()))?;
        if key.to_peer_id() != author {
            return Err(Invalid::BadKey(format!("it is {}'s", key.to_peer_id())));
        }
        key
    };
    if !key.verify(&signed_bytes(message), &message.signature) {
        return Err(Invalid::BadSignature);
    }
    Ok(author)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qnode_identity::KeyType;

    #[test]
    fn signed_messages_check_and_tampered_ones_do_not() {
        for kind in [KeyType::Ed448, KeyType::Ed25519] {
            let key = NodeKey::generate(kind).expect("key");
            let message = sign(&key, vec![7; 33], b"frame".to_vec(), 42).expect("sign");
            assert_eq!(message.key.is_empty(), kind == KeyType::Ed25519, "{kind}");
            assert_eq!(check(&message, 1024), Ok(key.peer_id()));
            assert_eq!(
                MessageId::of(&message).0.len(),
                key.peer_id().to_bytes().len() + 8
            );
            let mut other_data = message.clone();
            other_data.data.push(0);
            assert_eq!(check(&other_data, 1024), Err(Invalid::BadSignature));
            let mut other_bitmask = message.clone();
            other_bitmask.bitmask[0] = 8;
            assert_eq!(check(&other_bitmask, 1024), Err(Invalid::BadSignature));
            let stranger = NodeKey::generate(kind).expect("key");
            let mut other_author = message.clone();
            other_author.from = stranger.peer_id().to_bytes();
            assert!(check(&other_author, 1024).is_err());
            assert_eq!(check(&message, 3), Err(Invalid::TooLarge(5)));
        }
    }
}
