//! The network task: runs the swarm, carries out the node's commands, rate-limits gossip,
//! keeps bootstrap peers connected and dials what Kademlia finds. A peer becomes the node's
//! peer only once identify shows it is on our network; a peer of another network is
//! disconnected and, if it was a bootstrap peer, not redialled.

use crate::behaviour::{identify_version, Behaviour, BehaviourEvent};
use crate::identify;
use crate::rate_limit::RateLimiter;
use crate::wire::{
    bitmask_for, Command, ConnectedPeer, Event, GossipMessage, NetworkConfig, NetworkError, Verdict,
};
use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{kad, Multiaddr, PeerId, Swarm};
use qnode_blossomsub as blossomsub;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often absent bootstrap peers are redialled.
const MAINTAIN_EVERY: Duration = Duration::from_secs(3);
/// How often a node short of peers walks the DHT for more, as the original looks for
/// peers every 5 minutes while it has fewer than 16. Each walk connects to dozens of
/// peers, so walking every minute whatever the count, as qnode did, kept a node of a
/// large network busy with connections it did not need.
const WALK_EVERY: Duration = Duration::from_secs(300);

pub(crate) struct Driver {
    swarm: Swarm<Behaviour>,
    network: u8,
    gossip_limit: RateLimiter,
    bootstrap: Vec<(PeerId, Multiaddr)>,
    events: mpsc::Sender<Event>,
    /// Remote address of every open connection, for the node API.
    connections: HashMap<PeerId, HashMap<ConnectionId, Multiaddr>>,
    /// Connected peers shown to be on our network, those the node was told of.
    identified: HashSet<PeerId>,
    /// When we last walked the DHT for peers.
    last_walk: Option<Instant>,
}

impl Driver {
    pub(crate) fn new(
        mut swarm: Swarm<Behaviour>,
        config: &NetworkConfig,
        bootstrap: Vec<(PeerId, Multiaddr)>,
        events: mpsc::Sender<Event>,
    ) -> Self {
        swarm
            .behaviour_mut()
            .gate
            .trimmer
            .set_target(config.peer_target);
        for (peer, address) in &bootstrap {
            swarm.behaviour_mut().kad.add_address(peer, address.clone());
        }
        Driver {
            swarm,
            network: config.network,
            gossip_limit: RateLimiter::new(config.gossip_rate),
            bootstrap,
            events,
            connections: HashMap::new(),
            identified: HashSet::new(),
            last_walk: None,
        }
    }

    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.maintain();
        let mut maintain = tokio::time::interval(MAINTAIN_EVERY);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => return,
                    Some(c) => self.command(c),
                },
                event = self.swarm.select_next_some() => self.event(event),
                _ = maintain.tick() => self.maintain(),
            }
        }
    }

    /// While we have fewer peers than the target, redials absent bootstrap peers and
    /// walks the DHT now and then; trims connections far over the target; forgets idle
    /// rate buckets. A bootstrap peer is a way in, not a lifelong link: redialling it
    /// while we have enough peers would give a bootstrap node of a large network a
    /// connection from every node, which it could never trim.
    fn maintain(&mut self) {
        let now = Instant::now();
        if self.connections.len() < self.trimmer().target() {
            for (peer, address) in &self.bootstrap {
                if !self.swarm.is_connected(peer) {
                    // By peer id, so a dial still under way is not doubled: a node that
                    // dials many peers on a busy machine redialled each one every tick
                    // (the simulation's forgers held two to four connections a node).
                    let dial = DialOpts::peer_id(*peer)
                        .addresses(vec![address.clone()])
                        .build();
                    if let Err(e) = self.swarm.dial(dial) {
                        tracing::debug!(%peer, "dialling bootstrap peer: {e}");
                    }
                }
            }
            self.walk(now);
        }
        self.trim(now);
        self.gossip_limit.forget_idle(now);
    }

    /// Looks up our own key and a random key per bucket, dialling what it finds, unless
    /// the last walk was under [`WALK_EVERY`] ago.
    fn walk(&mut self, now: Instant) {
        if self
            .last_walk
            .is_some_and(|at| now.saturating_duration_since(at) < WALK_EVERY)
        {
            return;
        }
        match self.swarm.behaviour_mut().kad.bootstrap() {
            Ok(_) => self.last_walk = Some(now),
            Err(e) => tracing::debug!("walking the DHT: {e}"),
        }
    }

    /// Disconnects the peers the trimmer picks, sparing bootstrap peers and the gossip
    /// mesh (those carry our messages) and any peer with a direct request in flight.
    fn trim(&mut self, now: Instant) {
        let behaviour = self.swarm.behaviour();
        let gossip = &behaviour.pubsub;
        let protected: HashSet<PeerId> = self
            .bootstrap
            .iter()
            .map(|(peer, _)| *peer)
            .chain(gossip.all_mesh_peers().copied())
            .collect();
        let excess = behaviour.gate.trimmer.excess(
            &protected,
            |peer| gossip.peer_score(peer).unwrap_or(0.0),
            now,
        );
        for peer in excess {
            tracing::debug!(%peer, "over the peer target: disconnecting");
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    fn trimmer(&mut self) -> &mut crate::trim::Trimmer {
        &mut self.swarm.behaviour_mut().gate.trimmer
    }

    fn emit(&self, event: Event) -> bool {
        self.events.try_send(event).is_ok()
    }

    fn command(&mut self, command: Command) {
        let behaviour = self.swarm.behaviour_mut();
        match command {
            Command::Subscribe(filter, done) => {
                behaviour
                    .pubsub
                    .subscribe(&bitmask_for(self.network, &filter));
                let _ = done.send(Ok(()));
            }
            Command::Publish(filter, data, done) => {
                let r = behaviour
                    .pubsub
                    .publish(&bitmask_for(self.network, &filter), data);
                let _ = done.send(r.map(|_| ()).map_err(NetworkError::operation));
            }
            Command::Dial(address, done) => {
                let _ = done.send(self.swarm.dial(address).map_err(NetworkError::operation));
            }
            Command::RequestSent(peer) => behaviour.gate.trimmer.request_sent(peer),
            Command::RequestDone(peer) => behaviour.gate.trimmer.request_done(&peer),
            Command::RequestReceived(peer) => {
                behaviour
                    .gate
                    .trimmer
                    .request_received(peer, Instant::now());
            }
            Command::Judge(message, verdict) => self.judge(&message, verdict),
            Command::SetScore(peer, score) => {
                behaviour.pubsub.set_application_score(&peer, score);
            }
            Command::Connected(done) => {
                let gossip = &behaviour.pubsub;
                let peers = self
                    .connections
                    .iter()
                    .map(|(peer, open)| ConnectedPeer {
                        peer: *peer,
                        addresses: open.values().cloned().collect(),
                        score: gossip.peer_score(peer),
                    })
                    .collect();
                let _ = done.send(Ok(peers));
            }
            Command::Mesh(filter, done) => {
                let bitmask = bitmask_for(self.network, &filter);
                let _ = done.send(Ok(behaviour.pubsub.mesh_peers(&bitmask).copied().collect()));
            }
        }
    }

    fn judge(&mut self, message: &GossipMessage, verdict: Verdict) {
        let acceptance = match verdict {
            Verdict::Accept => blossomsub::Acceptance::Accept,
            Verdict::Reject => blossomsub::Acceptance::Reject,
            Verdict::Ignore => blossomsub::Acceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .pubsub
            .report_validation(&message.id, acceptance);
    }

    fn event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                self.connections
                    .entry(peer_id)
                    .or_default()
                    .insert(connection_id, endpoint.get_remote_address().clone());
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if let Some(open) = self.connections.get_mut(&peer_id) {
                    open.remove(&connection_id);
                }
                if num_established == 0 {
                    self.connections.remove(&peer_id);
                    if self.identified.remove(&peer_id) {
                        self.emit(Event::Disconnected(peer_id));
                    }
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Pubsub(blossomsub::Event::Message {
                propagation_source,
                message_id,
                author,
                message,
            })) => self.gossip(propagation_source, message_id, author, message.data),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identify(peer_id, info),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, ..
            })) if !self.swarm.is_connected(&peer) => {
                // The gate refuses the dial once we have our target of peers.
                let _ = self.swarm.dial(peer);
            }
            _ => {}
        }
    }

    fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        let ours = identify_version(self.network);
        if info.protocol_version != ours {
            return self.foreign(peer, &info.protocol_version, &ours);
        }
        for address in info.listen_addrs {
            self.swarm.behaviour_mut().kad.add_address(&peer, address);
        }
        if self.swarm.is_connected(&peer) && self.identified.insert(peer) {
            self.emit(Event::Connected(peer));
        }
    }

    /// Drops a peer of another network (or an incompatible version): it shares no topic or
    /// protocol with us, so all it could do is hold a connection slot.
    fn foreign(&mut self, peer: PeerId, theirs: &str, ours: &str) {
        let before = self.bootstrap.len();
        self.bootstrap.retain(|(bootstrap, _)| *bootstrap != peer);
        if self.bootstrap.len() < before {
            tracing::warn!(
                %peer,
                "bootstrap peer speaks {theirs:?}, we speak {ours:?}: it is on another \
                 network (or an incompatible version); not dialling it again"
            );
        } else {
            tracing::debug!(%peer, "peer speaks {theirs:?}, we speak {ours:?}; disconnecting");
        }
        self.swarm.behaviour_mut().kad.remove_peer(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
        self.emit(Event::Foreign(peer));
    }

    fn gossip(
        &mut self,
        relayed_by: PeerId,
        id: blossomsub::MessageId,
        author: PeerId,
        data: Vec<u8>,
    ) {
        let message = GossipMessage {
            id,
            author,
            relayed_by,
            data,
        };
        if !self.gossip_limit.allow(relayed_by, Instant::now()) {
            tracing::debug!(peer = %relayed_by, "gossip over the rate limit, dropped");
            return self.judge(&message, Verdict::Ignore);
        }
        if let Err(mpsc::error::TrySendError::Full(Event::Gossip(message))) =
            self.events.try_send(Event::Gossip(message))
        {
            tracing::debug!("node is behind on gossip; a message dropped");
            self.judge(&message, Verdict::Ignore);
        }
    }
}
