//! Noise handshake payloads recorded at a running original node (`recorded/noise.json`):
//! the original's own, sent to a qnode node, and qnode's, as the original received them.
//! qnode's payload check accepts every one: the key decodes (Ed448), it signs the static
//! key it came with, and it names the peer the original says it is.

use qnode_p2p::noise::{verify_payload, HandshakePayload};
use qnode_test_vectors::{recorded, unhex};
use serde::Deserialize;

#[derive(Deserialize)]
struct Recorded {
    original: String,
    payloads: Vec<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    /// `sent` by the original, or `received` by it (from qnode).
    direction: String,
    payload: String,
    /// The X25519 static key the payload's signature covers.
    static_key: String,
}

#[test]
fn the_originals_noise_payloads_and_qnodes_as_it_received_them_verify() {
    let recorded: Recorded = recorded("noise.json");
    let (mut sent, mut received) = (0, 0);
    for p in &recorded.payloads {
        let payload = unhex(&p.payload);
        let static_key = unhex(&p.static_key);
        let key = verify_payload(&payload, &static_key).expect("a valid identity proof");
        let peer = key.to_peer_id().to_base58();
        match p.direction.as_str() {
            "sent" => {
                assert_eq!(peer, recorded.original, "the original's own identity");
                sent += 1;
            }
            _ => {
                assert_ne!(peer, recorded.original, "a qnode node's identity");
                received += 1;
            }
        }
        let mut other_static = static_key.clone();
        other_static[0] ^= 1;
        assert!(verify_payload(&payload, &other_static).is_err());
        let decoded =
            <HandshakePayload as prost::Message>::decode(payload.as_slice()).expect("decodes");
        assert_eq!(decoded.identity_sig.len(), 114, "an Ed448 signature");
    }
    assert!(sent >= 1 && received >= 1, "both directions were recorded");
}
