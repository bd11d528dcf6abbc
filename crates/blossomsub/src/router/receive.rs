//! What the router does with a peer's RPC: subscriptions, messages (checked, then handed to
//! the node), and control (IHAVE, IWANT, GRAFT, PRUNE). A graylisted peer is not heard at
//! all; a peer below the gossip threshold gets no answer to IHAVE or IWANT.

use super::{Behaviour, Event, Pending};
use crate::message::{self, MessageId};
use crate::rpc;
use libp2p::swarm::ToSwarm;
use libp2p::PeerId;
use rand::seq::SliceRandom;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Behaviour {
    pub(crate) fn on_rpc(&mut self, peer: PeerId, rpc: rpc::Rpc) {
        if self.score(&peer) < self.thresholds.graylist {
            tracing::debug!(%peer, "RPC from a graylisted peer ignored");
            return;
        }
        for subscription in rpc.subscriptions {
            self.on_subscription(peer, subscription);
        }
        for message in rpc.publish {
            self.on_message(peer, message);
        }
        if let Some(control) = rpc.control {
            self.on_control(peer, control);
        }
    }

    fn on_subscription(&mut self, peer: PeerId, subscription: rpc::SubOpts) {
        let bitmask = subscription.bitmask;
        let peer_bitmasks = self.peer_bitmasks.entry(peer).or_default();
        let changed = if subscription.subscribe {
            peer_bitmasks.insert(bitmask.clone())
        } else {
            peer_bitmasks.remove(&bitmask)
        };
        if !changed {
            return;
        }
        let peers = self.bitmask_peers.entry(bitmask.clone()).or_default();
        let event = if subscription.subscribe {
            peers.insert(peer);
            Event::Subscribed {
                peer_id: peer,
                bitmask,
            }
        } else {
            peers.remove(&peer);
            if let Some(mesh) = self.mesh.get_mut(&bitmask) {
                mesh.remove(&peer);
            }
            if let Some(fanout) = self.fanout.get_mut(&bitmask) {
                fanout.remove(&peer);
            }
            Event::Unsubscribed {
                peer_id: peer,
                bitmask,
            }
        };
        self.events.push_back(ToSwarm::GenerateEvent(event));
    }

    fn on_message(&mut self, source: PeerId, message: rpc::Message) {
        self.receipts.copies.fetch_add(1, Ordering::Relaxed);
        let id = MessageId::of(&message);
        if self.seen.contains(&id) {
            return;
        }
        if !self.subscribed.contains(&message.bitmask) {
            tracing::debug!(peer = %source, "message on a bitmask we are not in, dropped");
            return;
        }
        let author = match message::check(&message, self.params.max_data_bytes) {
            Ok(author) => author,
            Err(e) => {
                tracing::debug!(peer = %source, "message refused: {e}");
                return;
            }
        };
        if author == self.local {
            tracing::debug!(peer = %source, "a message in our name we did not publish, dropped");
            return;
        }
        if self.pending.len() >= self.params.max_pending_validation {
            tracing::debug!("the node is behind on verdicts; a message dropped");
            return;
        }
        let now = Instant::now();
        self.seen.insert(id.clone(), now);
        self.receipts.unique.fetch_add(1, Ordering::Relaxed);
        self.pending.insert(
            id.clone(),
            Pending {
                message: message.clone(),
                source,
                since: now,
            },
        );
        self.events
            .push_back(ToSwarm::GenerateEvent(Event::Message {
                propagation_source: source,
                message_id: id,
                author,
                message: Box::new(message),
            }));
    }

    fn on_control(&mut self, peer: PeerId, control: rpc::ControlMessage) {
        let iwant = self.on_ihave(peer, control.ihave);
        let messages = self.on_iwant(peer, control.iwant);
        let prune = self.on_graft(peer, control.graft);
        self.on_prune(peer, control.prune);
        if !messages.is_empty() {
            self.send(
                &peer,
                rpc::Rpc {
                    publish: messages,
                    ..Default::default()
                },
            );
        }
        if !iwant.is_empty() || !prune.is_empty() {
            let iwant = if iwant.is_empty() {
                Vec::new()
            } else {
                vec![rpc::ControlIWant { message_ids: iwant }]
            };
            self.send_control(
                &peer,
                rpc::ControlMessage {
                    iwant,
                    prune,
                    ..Default::default()
                },
            );
        }
    }

    /// The ids to ask for: unseen ones of bitmasks we are in, within the per-heartbeat
    /// limits on IHAVEs read and ids asked.
    fn on_ihave(&mut self, peer: PeerId, ihaves: Vec<rpc::ControlIHave>) -> Vec<Vec<u8>> {
        if ihaves.is_empty() || self.score(&peer) < self.thresholds.gossip {
            return Vec::new();
        }
        let read = self.ihaves_read.entry(peer).or_insert(0);
        *read += 1;
        let asked = self.ids_asked.get(&peer).copied().unwrap_or(0);
        if *read > self.params.max_ihave_messages || asked >= self.params.max_ihave_length {
            return Vec::new();
        }
        let mut wanted: Vec<Vec<u8>> = ihaves
            .into_iter()
            .filter(|ihave| self.mesh.contains_key(&ihave.bitmask))
            .flat_map(|ihave| ihave.message_ids)
            .filter(|id| !self.seen.contains(&MessageId(id.clone())))
            .collect();
        wanted.sort();
        wanted.dedup();
        wanted.shuffle(&mut rand::thread_rng());
        wanted.truncate(self.params.max_ihave_length - asked);
        *self.ids_asked.entry(peer).or_insert(0) += wanted.len();
        wanted
    }

    /// The cached messages asked for, each at most `gossip_retransmission` times a peer.
    fn on_iwant(&mut self, peer: PeerId, iwants: Vec<rpc::ControlIWant>) -> Vec<rpc::Message> {
        if iwants.is_empty() || self.score(&peer) < self.thresholds.gossip {
            return Vec::new();
        }
        let limit = self.params.gossip_retransmission;
        let mut messages = Vec::new();
        for id in iwants.into_iter().flat_map(|iwant| iwant.message_ids) {
            if let Some((message, asked)) = self.mcache.get_for(&MessageId(id), peer) {
                if asked <= limit {
                    messages.push(message.clone());
                }
            }
        }
        messages
    }

    /// Adds the peer to the meshes it grafted us into, unless it must back off, scores
    /// below zero, or the mesh is full (an outbound peer is still taken); answers the
    /// refusals with PRUNEs. GRAFTs for bitmasks we are not in are ignored.
    fn on_graft(&mut self, peer: PeerId, grafts: Vec<rpc::ControlGraft>) -> Vec<rpc::ControlPrune> {
        let now = Instant::now();
        let mut prunes = Vec::new();
        for graft in grafts {
            let bitmask = graft.bitmask;
            let in_mesh = match self.mesh.get(&bitmask) {
                None => continue,
                Some(mesh) => mesh.contains(&peer),
            };
            if in_mesh {
                continue;
            }
            let full = self
                .mesh
                .get(&bitmask)
                .is_some_and(|mesh| mesh.len() >= self.params.d_hi);
            let refused = self.backing_off(&peer, &bitmask, now)
                || self.score(&peer) < 0.0
                || (full && !self.outbound.contains(&peer));
            if refused {
                let backoff = self.params.prune_backoff;
                self.add_backoff(&peer, &bitmask, backoff);
                prunes.push(self.prune_for(&bitmask, backoff));
                continue;
            }
            if let Some(mesh) = self.mesh.get_mut(&bitmask) {
                mesh.insert(peer);
            }
        }
        prunes
    }

    /// Removes the peer from the meshes it pruned us from, backing off for as long as it
    /// asks (or our default). Peer exchange in the PRUNE is not followed.
    fn on_prune(&mut self, peer: PeerId, prunes: Vec<rpc::ControlPrune>) {
        for prune in prunes {
            if let Some(mesh) = self.mesh.get_mut(&prune.bitmask) {
                mesh.remove(&peer);
            }
            let backoff = match prune.backoff {
                0 => self.params.prune_backoff,
                // A day at most: a peer must not keep us away for ever.
                secs => std::time::Duration::from_secs(secs.min(86_400)),
            };
            self.add_backoff(&peer, &prune.bitmask, backoff);
        }
    }
}
