//! What the router sends: subscriptions, the node's own messages, forwarded messages once
//! the node accepted them, and control.

use super::{Acceptance, Behaviour, Bitmask, PublishError};
use crate::handler::HandlerIn;
use crate::message::{self, MessageId};
use crate::rpc;
use libp2p::swarm::{NotifyHandler, ToSwarm};
use libp2p::PeerId;
use prost::Message;
use rand::seq::SliceRandom;
use std::collections::HashSet;
use std::time::Instant;

impl Behaviour {
    /// Hands `rpc` to the peer's first connection.
    pub(crate) fn send(&mut self, peer: &PeerId, rpc: rpc::Rpc) {
        let Some(connection) = self.first_connection(peer) else {
            return;
        };
        self.events.push_back(ToSwarm::NotifyHandler {
            peer_id: *peer,
            handler: NotifyHandler::One(connection),
            event: HandlerIn::Send(rpc.encode_to_vec().into()),
        });
    }

    pub(crate) fn send_control(&mut self, peer: &PeerId, control: rpc::ControlMessage) {
        self.send(
            peer,
            rpc::Rpc {
                control: Some(control),
                ..Default::default()
            },
        );
    }

    fn announce(&mut self, bitmask: &Bitmask, subscribe: bool) {
        let peers: Vec<PeerId> = self.connections.keys().copied().collect();
        for peer in peers {
            let subscriptions = vec![rpc::SubOpts {
                subscribe,
                bitmask: bitmask.clone(),
            }];
            self.send(
                &peer,
                rpc::Rpc {
                    subscriptions,
                    ..Default::default()
                },
            );
        }
    }

    /// Subscribes to `bitmask` and joins its mesh; false if already subscribed.
    pub fn subscribe(&mut self, bitmask: &[u8]) -> bool {
        if !self.subscribed.insert(bitmask.to_vec()) {
            return false;
        }
        let bitmask = bitmask.to_vec();
        self.announce(&bitmask, true);
        self.join(&bitmask);
        true
    }

    /// Leaves `bitmask`'s mesh (pruning its peers with the unsubscribe backoff).
    pub fn unsubscribe(&mut self, bitmask: &[u8]) -> bool {
        if !self.subscribed.remove(bitmask) {
            return false;
        }
        let bitmask = bitmask.to_vec();
        self.announce(&bitmask, false);
        let backoff = self.params.unsubscribe_backoff;
        for peer in self.mesh.remove(&bitmask).unwrap_or_default() {
            self.add_backoff(&peer, &bitmask, backoff);
            let prune = self.prune_for(&bitmask, backoff);
            self.send_control(
                &peer,
                rpc::ControlMessage {
                    prune: vec![prune],
                    ..Default::default()
                },
            );
        }
        true
    }

    /// Builds the mesh of a bitmask we just subscribed to: the fanout's peers if we
    /// published to it, topped up to D with subscribed peers.
    fn join(&mut self, bitmask: &Bitmask) {
        let now = Instant::now();
        let mut mesh: HashSet<PeerId> = self.fanout.remove(bitmask).unwrap_or_default();
        self.last_published.remove(bitmask);
        mesh.retain(|p| self.score(p) >= 0.0 && !self.backing_off(p, bitmask, now));
        let wanted = self.params.d.saturating_sub(mesh.len());
        let more = self.pick_peers(bitmask, wanted, |router, p| {
            !mesh.contains(p) && router.score(p) >= 0.0 && !router.backing_off(p, bitmask, now)
        });
        mesh.extend(more);
        for peer in &mesh {
            self.send_control(
                peer,
                rpc::ControlMessage {
                    graft: vec![rpc::ControlGraft {
                        bitmask: bitmask.clone(),
                    }],
                    ..Default::default()
                },
            );
        }
        self.mesh.insert(bitmask.clone(), mesh);
    }

    /// Up to `count` random peers subscribed to `bitmask` that pass `keep`.
    pub(crate) fn pick_peers(
        &self,
        bitmask: &[u8],
        count: usize,
        keep: impl Fn(&Self, &PeerId) -> bool,
    ) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = self
            .bitmask_peers(bitmask)
            .filter(|p| keep(self, p))
            .copied()
            .collect();
        peers.shuffle(&mut rand::thread_rng());
        peers.truncate(count);
        peers
    }

    /// Signs and publishes `data` on `bitmask`: to the mesh if we are subscribed, else to
    /// the bitmask's fanout. The message is kept for gossip even when no peer is there
    /// to take it yet.
    pub fn publish(&mut self, bitmask: &[u8], data: Vec<u8>) -> Result<MessageId, PublishError> {
        if data.len() > self.params.max_data_bytes {
            return Err(PublishError::TooLarge(data.len()));
        }
        self.seqno = self.seqno.wrapping_add(1);
        let message = message::sign(&self.key, bitmask.to_vec(), data, self.seqno)?;
        let id = MessageId::of(&message);
        self.seen.insert(id.clone(), Instant::now());
        self.mcache.put(id.clone(), message.clone());
        let peers = self.publish_peers(bitmask);
        self.deliver(&message, peers, None);
        Ok(id)
    }

    fn publish_peers(&mut self, bitmask: &[u8]) -> HashSet<PeerId> {
        if let Some(mesh) = self.mesh.get(bitmask) {
            return mesh.clone();
        }
        self.last_published.insert(bitmask.to_vec(), Instant::now());
        let fanout = self.fanout.get(bitmask).cloned().unwrap_or_default();
        if !fanout.is_empty() {
            return fanout;
        }
        let publish = self.thresholds.publish;
        let peers: HashSet<PeerId> = self
            .pick_peers(bitmask, self.params.d, |router, p| {
                router.score(p) >= publish
            })
            .into_iter()
            .collect();
        if !peers.is_empty() {
            self.fanout.insert(bitmask.to_vec(), peers.clone());
        }
        peers
    }

    /// Sends `message` to `peers`, never back to where it came from or to its author.
    fn deliver(&mut self, message: &rpc::Message, peers: HashSet<PeerId>, source: Option<PeerId>) {
        let author = PeerId::from_bytes(&message.from).ok();
        for peer in peers {
            if Some(peer) == source || Some(peer) == author {
                continue;
            }
            self.send(
                &peer,
                rpc::Rpc {
                    publish: vec![message.clone()],
                    ..Default::default()
                },
            );
        }
    }

    /// The node's verdict on a message it was given: accepted ones are cached for gossip
    /// and forwarded to the mesh; the others are dropped (their id stays seen, so copies
    /// are dropped too).
    pub fn report_validation(&mut self, id: &MessageId, acceptance: Acceptance) {
        let Some(pending) = self.pending.remove(id) else {
            return;
        };
        if acceptance != Acceptance::Accept {
            return;
        }
        self.mcache.put(id.clone(), pending.message.clone());
        let peers = self
            .mesh
            .get(&pending.message.bitmask)
            .cloned()
            .unwrap_or_default();
        self.deliver(&pending.message, peers, Some(pending.source));
    }

    pub(crate) fn backing_off(&self, peer: &PeerId, bitmask: &[u8], now: Instant) -> bool {
        self.backoff
            .get(bitmask)
            .and_then(|peers| peers.get(peer))
            .is_some_and(|until| *until > now)
    }

    pub(crate) fn add_backoff(
        &mut self,
        peer: &PeerId,
        bitmask: &[u8],
        backoff: std::time::Duration,
    ) {
        let until = Instant::now() + backoff;
        let entry = self
            .backoff
            .entry(bitmask.to_vec())
            .or_default()
            .entry(*peer)
            .or_insert(until);
        *entry = (*entry).max(until);
    }

    /// A PRUNE of `bitmask` asking the peer to stay away for `backoff` (no peer exchange).
    pub(crate) fn prune_for(
        &self,
        bitmask: &[u8],
        backoff: std::time::Duration,
    ) -> rpc::ControlPrune {
        rpc::ControlPrune {
            bitmask: bitmask.to_vec(),
            peers: Vec::new(),
            backoff: backoff.as_secs(),
        }
    }
}
