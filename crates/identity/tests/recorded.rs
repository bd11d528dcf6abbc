//! The original node's own Ed448 keys, peer ids and signatures (recorded from running
//! original nodes): qnode must derive the same ids and encodings, make the same signatures
//! and accept the original's.

use qnode_identity::{NodeKey, PublicKey};
use qnode_test_vectors::{recorded, unhex};
use serde::Deserialize;

#[derive(Deserialize)]
struct Identities {
    keys: Vec<Identity>,
}

#[derive(Deserialize)]
struct Identity {
    peer_priv_key: String,
    peer_id: String,
    peer_id_bytes: String,
    public_key_protobuf: String,
    private_key_protobuf: String,
    signatures: Vec<Signed>,
}

#[derive(Deserialize)]
struct Signed {
    message: String,
    signature: String,
}

#[test]
fn the_originals_keys_give_its_peer_ids_encodings_and_signatures() {
    let identities: Identities = recorded("identity.json");
    assert!(identities.keys.len() >= 2, "two nodes' keys were recorded");
    for identity in identities.keys {
        let key = NodeKey::from_ed448_bytes(&unhex(&identity.peer_priv_key)).expect("key");
        assert_eq!(key.peer_id().to_base58(), identity.peer_id);
        assert_eq!(key.peer_id().to_bytes(), unhex(&identity.peer_id_bytes));
        let public = unhex(&identity.public_key_protobuf);
        assert_eq!(key.public().encode_protobuf(), public);
        assert_eq!(
            PublicKey::try_decode_protobuf(&public)
                .expect("the original's encoding decodes")
                .to_peer_id()
                .to_base58(),
            identity.peer_id
        );
        let private = unhex(&identity.private_key_protobuf);
        assert_eq!(*key.to_protobuf_encoding().expect("encode"), private);
        assert_eq!(
            NodeKey::from_protobuf_encoding(&private)
                .expect("decode")
                .peer_id(),
            key.peer_id()
        );
        assert!(identity.signatures.len() >= 4);
        for signed in identity.signatures {
            let (message, signature) = (unhex(&signed.message), unhex(&signed.signature));
            assert_eq!(key.sign(&message).expect("sign"), signature, "same bytes");
            assert!(key.public().verify(&message, &signature));
        }
    }
}
