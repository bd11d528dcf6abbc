//! libp2p's key encodings (`crypto.proto` of the libp2p specs, proto2): a key is its type
//! and its raw bytes. go-libp2p's Quilibrium fork adds `Ed448 = 4`.

/// The key types of libp2p's `crypto.proto`, with the fork's Ed448.
#[derive(Clone, Copy, Debug, PartialEq, Eq, prost::Enumeration)]
#[repr(i32)]
pub(crate) enum KeyTypePb {
    Rsa = 0,
    Ed25519 = 1,
    Secp256k1 = 2,
    Ecdsa = 3,
    Ed448 = 4,
}

/// `message PublicKey { required KeyType Type = 1; required bytes Data = 2; }`; the private
/// key's message has the same shape.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct KeyPb {
    #[prost(enumeration = "KeyTypePb", required, tag = "1")]
    pub(crate) key_type: i32,
    #[prost(bytes = "vec", required, tag = "2")]
    pub(crate) data: Vec<u8>,
}
