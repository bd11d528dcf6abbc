//! What a peer sends before and around gossip: key encodings (identify, Noise, signed
//! messages), Noise handshake payloads, identify messages, BlossomSub RPCs and the
//! StrictSign check of every message in them. Any answer is fine; a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let _ = qnode_identity::PublicKey::try_decode_protobuf(data);
    let _ = qnode_identity::NodeKey::from_protobuf_encoding(data);
    let _ = qnode_p2p::noise::verify_payload(data, &[0u8; 32]);
    let _ = qnode_p2p::identify::IdentifyMessage::decode(data);
    if let Ok(rpc) = qnode_blossomsub::rpc::Rpc::decode(data) {
        for message in &rpc.publish {
            let _ = qnode_blossomsub::message::check(message, 64 * 1024);
        }
    }
});
