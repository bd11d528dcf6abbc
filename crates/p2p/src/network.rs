//! A handle to the running swarm: what the node can ask of the network and what the
//! network tells the node.

use crate::behaviour::{
    build_swarm, speaks_quic, Behaviour, MAX_VALIDATION_BYTES, REQUEST_TIMEOUT,
};
use crate::direct;
use crate::driver::Driver;
use crate::wire::{
    Command, ConnectedPeer, DirectKind, Event, GossipMessage, NetworkConfig, NetworkError, Reply,
    Verdict,
};
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use qnode_blossomsub::{ReceiptCounter, Receipts};
use qnode_identity::NodeKey;
use qnode_tasks::{OnStop, Services};
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// A handle to the running swarm.
#[derive(Clone)]
pub struct Network {
    commands: mpsc::Sender<Command>,
    streams: libp2p_stream::Control,
    local_peer_id: PeerId,
    listening: Vec<Multiaddr>,
    receipts: Arc<ReceiptCounter>,
}

/// The peer id a bootstrap address ends with.
pub fn bootstrap_peer(address: &Multiaddr) -> Result<PeerId, NetworkError> {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(NetworkError::setup(format!(
            "bootstrap address {address} must end with /p2p/<peer id>"
        ))),
    }
}

const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A swarm listening on its addresses that does not serve yet. Binding first lets a node
/// find a taken port before it writes anything; serving needs what it writes (the store).
pub struct BoundSwarm {
    swarm: Swarm<Behaviour>,
    receipts: Arc<ReceiptCounter>,
    network: u8,
    listening: Vec<Multiaddr>,
}

impl BoundSwarm {
    /// The addresses the swarm listens on (ports resolved), without `/p2p/…`.
    pub fn listening(&self) -> &[Multiaddr] {
        &self.listening
    }

    /// Starts serving with `config` (its `listen` and `network` are what was bound): joins
    /// through the bootstrap peers, answers the direct channel and relays gossip. The swarm
    /// runs as the task `swarm` under `tasks`, until its last handle is dropped.
    pub fn start(
        self,
        config: NetworkConfig,
        tasks: &Services,
    ) -> Result<(Network, mpsc::Receiver<Event>), NetworkError> {
        if config.network != self.network {
            return Err(NetworkError::setup(format!(
                "the swarm was bound for network {}, not {}",
                self.network, config.network
            )));
        }
        let bootstrap = config
            .bootstrap
            .iter()
            .map(|a| Ok((bootstrap_peer(a)?, a.clone())))
            .collect::<Result<Vec<_>, NetworkError>>()?;
        let local_peer_id = *self.swarm.local_peer_id();
        let (commands, command_rx) = mpsc::channel(256);
        let (events, event_rx) = mpsc::channel(1024);
        let streams = self.swarm.behaviour().streams.new_control();
        let handler = config.handler.clone();
        let rate = config.direct_rate;
        direct::serve(
            streams.clone(),
            local_peer_id,
            handler,
            rate,
            commands.clone(),
            tasks,
        )?;
        let driver = Driver::new(self.swarm, &config, bootstrap, events);
        tasks.spawn_critical(
            "swarm",
            OnStop::Abort,
            drive(driver, command_rx, tasks.stop_signal()),
        );
        Ok((
            Network {
                commands,
                streams,
                local_peer_id,
                listening: self.listening,
                receipts: self.receipts,
            },
            event_rx,
        ))
    }
}

/// Runs the swarm until its last handle is dropped, then waits for the stop: a network its
/// owner closed (a simulated forger that reconnects as a new peer) is not a failure, while
/// a panic of the swarm still stops the node.
async fn drive(
    driver: Driver,
    commands: mpsc::Receiver<Command>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), Infallible> {
    driver.run(commands).await;
    let _ = stop.wait_for(|stop| *stop).await;
    Ok(())
}

impl Network {
    /// Starts the swarm; returns once it listens on every configured address.
    pub async fn start(
        key: NodeKey,
        config: NetworkConfig,
        tasks: &Services,
    ) -> Result<(Network, mpsc::Receiver<Event>), NetworkError> {
        Network::bind(key, config.network, &config.listen)
            .await?
            .start(config, tasks)
    }

    /// Listens on every address in `listen` with `network`'s protocols, without serving
    /// yet (see [`BoundSwarm`]). QUIC addresses are skipped (logged) under an Ed448 key
    /// (rust-libp2p's QUIC takes only its own key types); TCP carries the node then.
    pub async fn bind(
        key: NodeKey,
        network: u8,
        listen: &[Multiaddr],
    ) -> Result<BoundSwarm, NetworkError> {
        let quic = speaks_quic(&key);
        let (mut swarm, receipts) = build_swarm(Arc::new(key), network)?;
        let mut waiting = HashSet::new();
        for address in listen {
            if !quic && is_quic(address) {
                // Expected with the defaults (TCP and QUIC) and an Ed448 key: not a warning.
                tracing::info!(
                    %address,
                    "not listening on QUIC: qnode speaks QUIC only with an Ed25519 identity; \
                     this node is reached over TCP"
                );
                continue;
            }
            let id = swarm.listen_on(address.clone()).map_err(|e| {
                // Some transport errors display as nothing; their debug form says it.
                let cause = match e.to_string() {
                    shown if shown.trim().is_empty() => format!("{e:?}"),
                    shown => shown,
                };
                NetworkError::setup(format!(
                    "cannot listen on {address}: {cause}; is the port taken? choose \
                         another with --listen"
                ))
            })?;
            waiting.insert(id);
        }
        if waiting.is_empty() {
            return Err(NetworkError::setup(
                "no address to listen on: give a TCP address with --listen",
            ));
        }
        let mut listening = Vec::new();
        let started = tokio::time::timeout(LISTEN_TIMEOUT, async {
            while !waiting.is_empty() {
                match swarm.select_next_some().await {
                    SwarmEvent::NewListenAddr {
                        listener_id,
                        address,
                    } => {
                        waiting.remove(&listener_id);
                        listening.push(address);
                    }
                    SwarmEvent::ListenerClosed { reason, .. } => {
                        return Err(NetworkError::setup(format!(
                            "a listener closed: {reason:?}; is the port taken? choose another \
                             with --listen"
                        )))
                    }
                    SwarmEvent::ListenerError { error, .. } => {
                        return Err(NetworkError::setup(format!("listening failed: {error}")))
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await;
        started.map_err(|_| NetworkError::setup("listening did not start within 10 s"))??;
        Ok(BoundSwarm {
            swarm,
            receipts,
            network,
            listening,
        })
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses the swarm listens on (ports resolved), without `/p2p/…`.
    pub fn listening(&self) -> &[Multiaddr] {
        &self.listening
    }

    /// Gossip messages received since start, every copy and the distinct ones.
    pub fn gossip_receipts(&self) -> Receipts {
        self.receipts.get()
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, NetworkError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        rx.await.map_err(|_| NetworkError::Stopped)?
    }

    /// Joins the gossip topic of `filter`.
    pub async fn subscribe(&self, filter: &[u8]) -> Result<(), NetworkError> {
        self.ask(|tx| Command::Subscribe(filter.to_vec(), tx)).await
    }

    /// Publishes `data` on `filter`'s topic.
    pub async fn publish(&self, filter: &[u8], data: Vec<u8>) -> Result<(), NetworkError> {
        self.ask(|tx| Command::Publish(filter.to_vec(), data, tx))
            .await
    }

    /// Connects to a peer.
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NetworkError> {
        self.ask(|tx| Command::Dial(address, tx)).await
    }

    /// Sends a direct request and waits (at most the request timeout) for the answer.
    pub async fn request(
        &self,
        peer: PeerId,
        kind: DirectKind,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, NetworkError> {
        if body.len() > MAX_VALIDATION_BYTES {
            return Err(NetworkError::operation("direct request too large"));
        }
        // Told so the connection is not trimmed while the request is in flight.
        let _ = self.commands.send(Command::RequestSent(peer)).await;
        let call = direct::call(self.streams.clone(), peer, kind, &body);
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, call).await;
        let _ = self.commands.send(Command::RequestDone(peer)).await;
        answer.unwrap_or(Err(NetworkError::TimedOut))
    }

    /// Tells BlossomSub whether to forward a message.
    pub async fn judge(&self, message: GossipMessage, verdict: Verdict) {
        let _ = self.commands.send(Command::Judge(message, verdict)).await;
    }

    /// Sets the application-specific score of a peer (weighted by
    /// [`crate::APP_SCORE_WEIGHT`] in BlossomSub's score).
    pub async fn set_score(&self, peer: PeerId, score: f64) {
        let _ = self.commands.send(Command::SetScore(peer, score)).await;
    }

    /// BlossomSub's current score of every connected peer.
    pub async fn scores(&self) -> Result<Vec<(PeerId, f64)>, NetworkError> {
        let peers = self.connected().await?;
        Ok(peers
            .into_iter()
            .filter_map(|c| c.score.map(|score| (c.peer, score)))
            .collect())
    }

    /// The peers with open connections, their addresses and BlossomSub scores.
    pub async fn connected(&self) -> Result<Vec<ConnectedPeer>, NetworkError> {
        self.ask(Command::Connected).await
    }

    /// The peers in BlossomSub's mesh for `filter`'s bitmask: those an accepted message is
    /// forwarded to at once (the rest hear of it only through gossip at a heartbeat).
    pub async fn mesh_peers(&self, filter: &[u8]) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|tx| Command::Mesh(filter.to_vec(), tx)).await
    }
}

/// Whether `address` is a QUIC address.
fn is_quic(address: &Multiaddr) -> bool {
    address
        .iter()
        .any(|p| matches!(p, Protocol::QuicV1 | Protocol::Quic))
}
