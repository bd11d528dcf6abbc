//! A handle to the running swarm: what the node can ask of the network and what the
//! network tells the node.

use crate::behaviour::{build_swarm, Behaviour, MAX_VALIDATION_BYTES};
use crate::driver::Driver;
use crate::rate_limit::Rate;
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, Multiaddr, PeerId, Swarm};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The gossipsub topic of a filter: `quilibrium/filter/<hex of the filter bytes>` (the
/// original publishes to the filter bytes as a BlossomSub bitmask).
pub fn topic_for(filter: &[u8]) -> gossipsub::IdentTopic {
    gossipsub::IdentTopic::new(format!("quilibrium/filter/{}", hex::encode(filter)))
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The key file could not be read or written.
    #[error("identity {path}: {cause}")]
    Identity {
        /// The key file.
        path: String,
        /// What failed.
        cause: String,
    },
    /// The swarm could not be built or could not listen.
    #[error("network setup: {0}")]
    Setup(String),
    /// Publishing, dialing or a request failed.
    #[error("network: {0}")]
    Operation(String),
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
}

/// The two services of the direct channel (the original's `ValidationService`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectKind {
    /// `PerformValidation`: a `ValidationMessage`, answered with one (the bandwidth echo).
    Validation,
    /// `Sync`: a `SyncRequest`, answered with one `SyncResponse` batch.
    Sync,
}

/// A direct request on the wire: which service, and the protobuf bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DirectRequest {
    pub(crate) kind: DirectKind,
    #[serde(with = "serde_bytes")]
    pub(crate) body: Vec<u8>,
}

/// A direct response on the wire: the protobuf bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DirectResponse(#[serde(with = "serde_bytes")] pub(crate) Vec<u8>);

/// Answers the direct channel's requests (the node's channel listener). It runs on the
/// network task, so it must be quick; `None` sends no answer (the peer times out).
pub trait DirectHandler: Send + Sync + 'static {
    /// The answer to `body` of `kind` from `from`.
    fn handle(&self, from: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>>;
}

/// What the network needs at start.
#[derive(Clone)]
pub struct NetworkConfig {
    /// Addresses to listen on (`/ip4/…/tcp/…`, `/ip4/…/udp/…/quic-v1`).
    pub listen: Vec<Multiaddr>,
    /// Peers to join through, each ending in `/p2p/<peer id>`; redialled while away.
    pub bootstrap: Vec<Multiaddr>,
    /// Serves the direct channel.
    pub handler: Arc<dyn DirectHandler>,
    /// Gossip messages accepted per relaying peer.
    pub gossip_rate: Rate,
    /// Direct requests served per peer.
    pub direct_rate: Rate,
}

impl NetworkConfig {
    /// Listening on `listen` with the default rates and no bootstrap peers.
    pub fn new(listen: Vec<Multiaddr>, handler: Arc<dyn DirectHandler>) -> Self {
        NetworkConfig {
            listen,
            bootstrap: Vec::new(),
            handler,
            gossip_rate: Rate {
                burst: 200.0,
                per_second: 50.0,
            },
            direct_rate: Rate {
                burst: 8.0,
                per_second: 2.0,
            },
        }
    }
}

/// The node's judgement of a gossip message, which decides whether it is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Invalid: drop it and penalise the peer that relayed it.
    Reject,
    /// Not useful (stale, duplicate, over a rate): drop it quietly.
    Ignore,
}

/// A gossip message waiting for the node's verdict.
#[derive(Debug, Clone)]
pub struct GossipMessage {
    /// Gossipsub's id of the message.
    pub id: gossipsub::MessageId,
    /// The peer that signed (authored) it.
    pub author: PeerId,
    /// The peer that relayed it to us.
    pub relayed_by: PeerId,
    /// The message bytes (an envelope).
    pub data: Vec<u8>,
}

/// What the network tells the node.
#[derive(Debug, Clone)]
pub enum Event {
    /// A gossip message on a subscribed filter; answer it with [`Network::judge`].
    Gossip(GossipMessage),
    /// A connection to a peer opened.
    Connected(PeerId),
    /// The last connection to a peer closed.
    Disconnected(PeerId),
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, NetworkError>>;

pub(crate) enum Command {
    Subscribe(Vec<u8>, Reply<()>),
    Publish(Vec<u8>, Vec<u8>, Reply<()>),
    Dial(Multiaddr, Reply<()>),
    Direct(PeerId, DirectKind, Vec<u8>, Reply<Vec<u8>>),
    Judge(GossipMessage, Verdict),
    SetScore(PeerId, f64),
    Connected(Reply<Vec<ConnectedPeer>>),
    Mesh(Vec<u8>, Reply<Vec<PeerId>>),
}

/// A peer with an open connection.
#[derive(Debug, Clone)]
pub struct ConnectedPeer {
    /// Its id.
    pub peer: PeerId,
    /// The remote address of each open connection.
    pub addresses: Vec<Multiaddr>,
    /// Gossipsub's score of it, if gossipsub knows it.
    pub score: Option<f64>,
}

/// A handle to the running swarm.
#[derive(Clone)]
pub struct Network {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
    listening: Vec<Multiaddr>,
}

fn setup<E: std::fmt::Display>(e: E) -> NetworkError {
    NetworkError::Setup(e.to_string())
}

/// The peer id a bootstrap address ends with.
pub fn bootstrap_peer(address: &Multiaddr) -> Result<PeerId, NetworkError> {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(NetworkError::Setup(format!(
            "bootstrap address {address} must end with /p2p/<peer id>"
        ))),
    }
}

const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A swarm listening on its addresses that does not serve yet. Binding first lets a node
/// find a taken port before it writes anything; serving needs what it writes (the store).
pub struct BoundSwarm {
    swarm: Swarm<Behaviour>,
    listening: Vec<Multiaddr>,
}

impl BoundSwarm {
    /// The addresses the swarm listens on (ports resolved), without `/p2p/…`.
    pub fn listening(&self) -> &[Multiaddr] {
        &self.listening
    }

    /// Starts serving with `config` (its `listen` is what was bound): joins through the
    /// bootstrap peers, answers the direct channel and relays gossip.
    pub fn start(
        self,
        config: NetworkConfig,
    ) -> Result<(Network, mpsc::Receiver<Event>), NetworkError> {
        let bootstrap = config
            .bootstrap
            .iter()
            .map(|a| Ok((bootstrap_peer(a)?, a.clone())))
            .collect::<Result<Vec<_>, NetworkError>>()?;
        let local_peer_id = *self.swarm.local_peer_id();
        let (commands, command_rx) = mpsc::channel(256);
        let (events, event_rx) = mpsc::channel(1024);
        let driver = Driver::new(self.swarm, &config, bootstrap, events);
        tokio::spawn(driver.run(command_rx));
        Ok((
            Network {
                commands,
                local_peer_id,
                listening: self.listening,
            },
            event_rx,
        ))
    }
}

impl Network {
    /// Starts the swarm; returns once it listens on every configured address.
    pub async fn start(
        key: Keypair,
        config: NetworkConfig,
    ) -> Result<(Network, mpsc::Receiver<Event>), NetworkError> {
        Network::bind(key, &config.listen).await?.start(config)
    }

    /// Listens on every address in `listen`, without serving yet (see [`BoundSwarm`]).
    pub async fn bind(key: Keypair, listen: &[Multiaddr]) -> Result<BoundSwarm, NetworkError> {
        let mut swarm = build_swarm(key)?;
        let mut waiting = HashSet::new();
        for address in listen {
            let id = swarm.listen_on(address.clone()).map_err(|e| {
                // Some transport errors display as nothing; their debug form says it.
                let cause = match e.to_string() {
                    shown if shown.trim().is_empty() => format!("{e:?}"),
                    shown => shown,
                };
                setup(format!(
                    "cannot listen on {address}: {cause}; is the port taken? choose \
                         another with --listen"
                ))
            })?;
            waiting.insert(id);
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
                        return Err(setup(format!(
                            "a listener closed: {reason:?}; is the port taken? choose another \
                             with --listen"
                        )))
                    }
                    SwarmEvent::ListenerError { error, .. } => {
                        return Err(setup(format!("listening failed: {error}")))
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await;
        started.map_err(|_| setup("listening did not start within 10 s"))??;
        Ok(BoundSwarm { swarm, listening })
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses the swarm listens on (ports resolved), without `/p2p/…`.
    pub fn listening(&self) -> &[Multiaddr] {
        &self.listening
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
            return Err(NetworkError::Operation("direct request too large".into()));
        }
        self.ask(|tx| Command::Direct(peer, kind, body, tx)).await
    }

    /// Tells gossipsub whether to forward a message (and whom to penalise).
    pub async fn judge(&self, message: GossipMessage, verdict: Verdict) {
        let _ = self.commands.send(Command::Judge(message, verdict)).await;
    }

    /// Sets the application-specific score of a peer (weighted by
    /// [`crate::APP_SCORE_WEIGHT`] in gossipsub's score).
    pub async fn set_score(&self, peer: PeerId, score: f64) {
        let _ = self.commands.send(Command::SetScore(peer, score)).await;
    }

    /// Gossipsub's current score of every connected peer it scores.
    pub async fn scores(&self) -> Result<Vec<(PeerId, f64)>, NetworkError> {
        let peers = self.connected().await?;
        Ok(peers
            .into_iter()
            .filter_map(|c| c.score.map(|score| (c.peer, score)))
            .collect())
    }

    /// The peers with open connections, their addresses and gossipsub scores.
    pub async fn connected(&self) -> Result<Vec<ConnectedPeer>, NetworkError> {
        self.ask(Command::Connected).await
    }

    /// The peers in gossipsub's mesh for `filter`'s topic: those an accepted message is
    /// forwarded to at once (the rest hear of it only through gossip at a heartbeat).
    pub async fn mesh_peers(&self, filter: &[u8]) -> Result<Vec<PeerId>, NetworkError> {
        self.ask(|tx| Command::Mesh(filter.to_vec(), tx)).await
    }
}
