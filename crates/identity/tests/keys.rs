//! Ed448 keys and signatures checked against implementations that are not ours: RFC 8032's
//! test vector and OpenSSL's Ed448 (random keys and messages); the libp2p encodings and
//! peer ids against what go-libp2p and rust-libp2p produce.

use openssl::pkey::{Id, PKey};
use openssl::sign::{Signer, Verifier};
use proptest::prelude::*;
use qnode_identity::{KeyError, KeyType, NodeKey, PublicKey};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// RFC 8032 §7.4, "Blank": the empty message.
#[test]
fn rfc8032_blank_message_vector() {
    let seed = unhex(
        "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3\
         528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b",
    );
    let public = unhex(
        "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778\
         edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180",
    );
    let signature = unhex(
        "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f\
         2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a\
         9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4db\
         b61149f05a7363268c71d95808ff2e652600",
    );
    let key = NodeKey::from_ed448_bytes(&seed).expect("seed");
    assert_eq!(key.public().raw_bytes(), public);
    assert_eq!(key.sign(b"").expect("sign"), signature);
    assert!(key.public().verify(b"", &signature));
    assert!(!key.public().verify(b"x", &signature));
}

fn openssl_sign(seed: &[u8], message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let key = PKey::private_key_from_raw_bytes(seed, Id::ED448).expect("openssl key");
    let mut signer = Signer::new_without_digest(&key).expect("signer");
    let signature = signer.sign_oneshot_to_vec(message).expect("openssl sign");
    (key.raw_public_key().expect("public"), signature)
}

fn openssl_verifies(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let key = PKey::public_key_from_raw_bytes(public, Id::ED448).expect("openssl public");
    let mut verifier = Verifier::new_without_digest(&key).expect("verifier");
    verifier.verify_oneshot(signature, message).unwrap_or(false)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Ed448 signing is deterministic, so ours and OpenSSL's must be the same bytes, and
    /// each must verify the other's.
    #[test]
    fn signatures_match_openssl(
        seed in prop::collection::vec(any::<u8>(), 57),
        message in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let ours = NodeKey::from_ed448_bytes(&seed).expect("seed");
        let (public, theirs) = openssl_sign(&seed, &message);
        prop_assert_eq!(ours.public().raw_bytes(), public.clone());
        let signature = ours.sign(&message).expect("sign");
        prop_assert_eq!(&signature, &theirs);
        prop_assert!(openssl_verifies(&public, &message, &signature));
        prop_assert!(ours.public().verify(&message, &theirs));
        let mut flipped = signature.clone();
        let at = message.len() % flipped.len();
        flipped[at] ^= 1;
        prop_assert!(!ours.public().verify(&message, &flipped));
        prop_assert!(!openssl_verifies(&public, &message, &flipped));
    }

    /// No bytes make a key decoder or a verifier panic.
    #[test]
    fn any_bytes_decode_or_fail_cleanly(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = PublicKey::try_decode_protobuf(&bytes);
        let _ = NodeKey::from_protobuf_encoding(&bytes);
        let _ = PublicKey::from_ed448_bytes(&bytes);
        let key = NodeKey::generate(KeyType::Ed448).expect("key");
        prop_assert!(!key.public().verify(b"message", &bytes));
    }
}

#[test]
fn an_ed448_peer_id_is_the_sha256_multihash_of_the_key_encoding() {
    let key = NodeKey::generate(KeyType::Ed448).expect("key");
    let encoding = key.public().encode_protobuf();
    // {Type = 4, Data = 57 bytes}: 08 04 12 39 ‖ key.
    assert_eq!(&encoding[..4], &[0x08, 0x04, 0x12, 0x39]);
    assert_eq!(encoding.len(), 61);
    let id = key.peer_id();
    let bytes = id.to_bytes();
    assert_eq!(&bytes[..2], &[0x12, 0x20], "sha2-256 multihash");
    use sha2::Digest;
    assert_eq!(&bytes[2..], sha2::Sha256::digest(&encoding).as_slice());
    assert!(id.to_base58().starts_with("Qm"), "{id}");
    let decoded = PublicKey::try_decode_protobuf(&encoding).expect("decode");
    assert_eq!(decoded.to_peer_id(), id);
}

#[test]
fn ed25519_keys_keep_rust_libp2ps_ids_and_encodings() {
    let libp2p_key = libp2p_identity::Keypair::generate_ed25519();
    let key = NodeKey::from_libp2p(libp2p_key.clone()).expect("ed25519");
    assert_eq!(key.peer_id(), libp2p_key.public().to_peer_id());
    assert_eq!(
        key.public().encode_protobuf(),
        libp2p_key.public().encode_protobuf()
    );
    assert_eq!(
        *key.to_protobuf_encoding().expect("encode"),
        libp2p_key.to_protobuf_encoding().expect("encode")
    );
    let signature = key.sign(b"hello").expect("sign");
    assert!(libp2p_key.public().verify(b"hello", &signature));
    assert!(key.public().verify(b"hello", &signature));
    assert!(key.peer_id().to_base58().starts_with("12D3KooW"));
}

#[test]
fn private_keys_round_trip_and_odd_ones_are_refused() {
    for kind in [KeyType::Ed448, KeyType::Ed25519] {
        let key = NodeKey::generate(kind).expect("key");
        let encoded = key.to_protobuf_encoding().expect("encode");
        let back = NodeKey::from_protobuf_encoding(&encoded).expect("decode");
        assert_eq!(back.public(), key.public(), "{kind}");
        assert_eq!(
            back.sign(b"m").expect("sign"),
            key.sign(b"m").expect("sign")
        );
    }
    let key = NodeKey::generate(KeyType::Ed448).expect("key");
    let encoded = key.to_protobuf_encoding().expect("encode");
    // 08 04 12 72 ‖ seed (57) ‖ public key (57).
    assert_eq!(&encoded[..4], &[0x08, 0x04, 0x12, 0x72]);
    let mut wrong_half = encoded.to_vec();
    wrong_half[4 + 57] ^= 1;
    assert!(matches!(
        NodeKey::from_protobuf_encoding(&wrong_half),
        Err(KeyError::Mismatch)
    ));
    let seed_only = NodeKey::from_ed448_bytes(&encoded[4..4 + 57]).expect("seed alone");
    assert_eq!(seed_only.public(), key.public());
    assert!(matches!(
        NodeKey::from_ed448_bytes(&encoded[4..4 + 56]),
        Err(KeyError::Length { got: 56, .. })
    ));
    let rsa = [0x08, 0x00, 0x12, 0x01, 0x00];
    assert!(matches!(
        NodeKey::from_protobuf_encoding(&rsa),
        Err(KeyError::Unsupported(_))
    ));
}

#[test]
fn only_canonical_public_key_encodings_are_accepted() {
    let key = NodeKey::generate(KeyType::Ed448).expect("key");
    let encoding = key.public().encode_protobuf();
    // The same fields in the other order: valid protobuf, another peer id's hash.
    let swapped = [&encoding[2..], &encoding[..2]].concat();
    assert!(matches!(
        PublicKey::try_decode_protobuf(&swapped),
        Err(KeyError::NonCanonical)
    ));
    let mut short = encoding.clone();
    short[3] = 56;
    short.pop();
    assert!(matches!(
        PublicKey::try_decode_protobuf(&short),
        Err(KeyError::Length { got: 56, .. })
    ));
    // 57 bytes with no curve point above them (y = p, not canonical).
    let not_a_point = [0xffu8; 57];
    assert!(PublicKey::from_ed448_bytes(&not_a_point).is_err());
}
