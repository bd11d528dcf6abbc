//! A peer that ends its BlossomSub stream and opens another, as the original node does when
//! writing to us fails (it then forgets what we are subscribed to): qnode's BlossomSub
//! reports the renewed stream and says its subscriptions again. The peer is played byte by
//! byte on raw streams, as the original's wire is recorded in `recorded/blossomsub.json`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Stream, Swarm};
use prost::Message;
use qnode_blossomsub::rpc::{Rpc, SubOpts};
use qnode_blossomsub::{self as blossomsub, PROTOCOL};
use qnode_identity::{KeyType, NodeKey};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A swarm on qnode's own transport (TCP, its Noise, yamux for an Ed448 key).
fn swarm<B: libp2p::swarm::NetworkBehaviour>(key: Arc<NodeKey>, behaviour: B) -> Swarm<B> {
    Swarm::new(
        qnode_p2p::transport(&key),
        behaviour,
        key.peer_id(),
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(Duration::from_secs(60)),
    )
}

async fn write_rpc(stream: &mut Stream, rpc: &Rpc) {
    let mut frame = Vec::new();
    rpc.encode_length_delimited(&mut frame).unwrap();
    stream.write_all(&frame).await.unwrap();
    stream.flush().await.unwrap();
}

async fn read_rpc(stream: &mut Stream) -> Rpc {
    let mut length = Vec::new();
    loop {
        let mut byte = [0];
        stream.read_exact(&mut byte).await.unwrap();
        length.push(byte[0]);
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    let length = prost::decode_length_delimiter(length.as_slice()).unwrap();
    let mut rpc = vec![0; length];
    stream.read_exact(&mut rpc).await.unwrap();
    Rpc::decode(rpc.as_slice()).unwrap()
}

/// The next RPC that says what the sender is subscribed to (GRAFTs may come between).
async fn read_subscriptions(stream: &mut Stream) -> Rpc {
    loop {
        let rpc = read_rpc(stream).await;
        if !rpc.subscriptions.is_empty() {
            return rpc;
        }
    }
}

fn subscription(bitmask: &[u8]) -> Rpc {
    Rpc {
        subscriptions: vec![SubOpts {
            subscribe: true,
            bitmask: bitmask.to_vec(),
        }],
        ..Default::default()
    }
}

/// The next event of qnode's BlossomSub about `peer` that `wanted` picks.
async fn next_event<T>(
    events: &mut mpsc::UnboundedReceiver<blossomsub::Event>,
    mut wanted: impl FnMut(blossomsub::Event) -> Option<T>,
) -> T {
    loop {
        let event = events.recv().await.expect("qnode's swarm runs");
        if let Some(value) = wanted(event) {
            return value;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_renews_its_stream_hears_our_subscriptions_again() {
    let bitmask = qnode_p2p::bitmask_for(7, &[0xff; 32]);
    let key = Arc::new(NodeKey::generate(KeyType::Ed448).unwrap());
    let ours = key.peer_id();
    let behaviour = blossomsub::Behaviour::new(
        key.clone(),
        blossomsub::Params::default(),
        blossomsub::Thresholds::default(),
    );
    let mut qnode = swarm(key, behaviour);
    qnode.behaviour_mut().subscribe(&bitmask);
    qnode
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let address = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = qnode.select_next_some().await {
            break address;
        }
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            if let SwarmEvent::Behaviour(event) = qnode.select_next_some().await {
                let _ = events_tx.send(event);
            }
        }
    });

    let peer_key = Arc::new(NodeKey::generate(KeyType::Ed448).unwrap());
    let theirs: PeerId = peer_key.peer_id();
    let raw = libp2p_stream::Behaviour::new();
    let mut control = raw.new_control();
    let mut incoming = control.accept(PROTOCOL).unwrap();
    let mut peer = swarm(peer_key, raw);
    peer.dial(address).unwrap();
    tokio::spawn(async move {
        loop {
            peer.select_next_some().await;
        }
    });

    let test = async {
        // qnode's hello on its stream to the peer: its subscription.
        let (from, mut from_qnode) = incoming.next().await.unwrap();
        assert_eq!(from, ours);
        assert_eq!(read_rpc(&mut from_qnode).await, subscription(&bitmask));

        // The peer's first stream: its hello, which subscribes.
        let mut first = control.open_stream(ours, PROTOCOL).await.unwrap();
        write_rpc(&mut first, &subscription(&bitmask)).await;
        next_event(&mut events, |e| {
            matches!(e, blossomsub::Event::Subscribed { peer_id, .. } if peer_id == theirs)
                .then_some(())
        })
        .await;

        // It ends that stream and opens another, with an empty hello (the original's after
        // its writer failed).
        first.close().await.unwrap();
        let mut second = control.open_stream(ours, PROTOCOL).await.unwrap();
        write_rpc(&mut second, &Rpc::default()).await;
        next_event(&mut events, |e| {
            matches!(e, blossomsub::Event::StreamRenewed { peer_id } if peer_id == theirs)
                .then_some(())
        })
        .await;
        assert_eq!(
            read_subscriptions(&mut from_qnode).await,
            subscription(&bitmask),
            "qnode's subscriptions again, on its own stream"
        );
    };
    tokio::time::timeout(Duration::from_secs(60), test)
        .await
        .expect("within a minute");
}
