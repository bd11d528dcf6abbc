//! BlossomSub RPCs as two original nodes sent them to each other, and a PRUNE one sent to a
//! qnode identity (recorded from their streams, `recorded/blossomsub.json`): qnode's RPC types decode every one and encode it
//! back to the same bytes; every published message carries a StrictSign signature that
//! qnode checks; its payload opens as qnode's envelope, seals back to the same bytes, and
//! the self-test report's challenge proof verifies with qnode's VDF.

use prost::Message as _;
use qnode_blossomsub::message::{self, MessageId};
use qnode_blossomsub::rpc::Rpc;
use qnode_protocol::envelope::{self, Payload};
use qnode_test_vectors::{recorded, unhex};
use serde::Deserialize;
use std::collections::HashSet;

#[derive(Deserialize)]
struct Recorded {
    network: u8,
    peers: Vec<String>,
    rpcs: Vec<RecordedRpc>,
}

#[derive(Deserialize)]
struct RecordedRpc {
    /// The frame as written: varint length ‖ RPC (sent ones only).
    frame: Option<String>,
    rpc: String,
    what: Vec<String>,
}

fn load() -> Recorded {
    recorded("blossomsub.json")
}

#[test]
fn every_recorded_rpc_decodes_and_encodes_back_to_its_bytes() {
    let recorded = load();
    let bitmask = [&[recorded.network][..], &[0xff; 32]].concat();
    let mut seen = HashSet::new();
    for r in &recorded.rpcs {
        let bytes = unhex(&r.rpc);
        let rpc = Rpc::decode(bytes.as_slice()).expect("decodes");
        assert_eq!(rpc.encode_to_vec(), bytes, "{:?} encodes back", r.what);
        if let Some(frame) = &r.frame {
            // As written on the stream: the RPC's length as a varint, then the RPC.
            let frame = unhex(frame);
            let len = prost::decode_length_delimiter(frame.as_slice()).expect("a length");
            assert_eq!(len, bytes.len());
            assert_eq!(&frame[frame.len() - len..], bytes.as_slice());
        }
        for subscription in &rpc.subscriptions {
            assert_eq!(subscription.bitmask, bitmask, "the network byte ‖ 32 × ff");
            seen.insert(if subscription.subscribe {
                "subscribe"
            } else {
                "unsubscribe"
            });
        }
        if let Some(control) = &rpc.control {
            for graft in &control.graft {
                assert_eq!(graft.bitmask, bitmask);
                seen.insert("graft");
            }
            for prune in &control.prune {
                // The original's PRUNE of a peer it scored below zero: no peer exchange
                // for it, and its default backoff of a minute.
                assert_eq!(prune.bitmask, bitmask);
                assert!(prune.peers.is_empty());
                assert_eq!(prune.backoff, 60);
                seen.insert("prune");
            }
        }
        if !rpc.publish.is_empty() {
            seen.insert("publish");
        }
    }
    for wanted in ["subscribe", "graft", "prune", "publish"] {
        assert!(seen.contains(wanted), "the recording holds a {wanted}");
    }
}

#[test]
fn every_published_message_is_signed_by_an_original_and_its_report_verifies() {
    let recorded = load();
    let mut reports = 0;
    for r in &recorded.rpcs {
        let rpc = Rpc::decode(unhex(&r.rpc).as_slice()).expect("decodes");
        for published in rpc.publish {
            let author = message::check(&published, 64 * 1024).expect("StrictSign checks");
            assert!(
                recorded.peers.contains(&author.to_base58()),
                "{author} is one of the originals"
            );
            assert!(
                !published.key.is_empty(),
                "an Ed448 author attaches its key"
            );
            let id = MessageId::of(&published);
            assert_eq!(id.0, [author.to_bytes(), published.seqno.clone()].concat());
            let (filter, payload) = envelope::open(&published.data).expect("opens");
            assert_eq!(filter, [0xff; 32]);
            assert_eq!(
                envelope::seal(&filter, &payload).expect("seals"),
                published.data,
                "qnode's envelope is byte for byte the original's"
            );
            let Payload::SelfTestReport(report) = payload else {
                panic!("the original gossips only self-test reports");
            };
            let index = u32::from_be_bytes(report.proof[..4].try_into().expect("4 bytes"));
            let challenge = [author.to_bytes(), report.challenge.clone()].concat();
            let seed = qnode_vdf::challenge_seed(&challenge, index);
            let difficulty = qnode_vdf::scaled_challenge_difficulty(report.increment, 1);
            qnode_vdf::verify(&seed, difficulty, &report.proof[4..])
                .expect("the original's challenge proof verifies");
            reports += 1;
        }
    }
    assert!(reports >= 2, "reports of both originals were recorded");
}

#[test]
fn a_tampered_recorded_message_is_refused() {
    let recorded = load();
    let rpc = recorded
        .rpcs
        .iter()
        .map(|r| Rpc::decode(unhex(&r.rpc).as_slice()).expect("decodes"))
        .find(|rpc| !rpc.publish.is_empty())
        .expect("a publication");
    let mut message = rpc.publish[0].clone();
    let last = message.data.len() - 1;
    message.data[last] ^= 1;
    assert!(message::check(&message, 64 * 1024).is_err());
}
