//! The swarm and a handle to drive it from the node's tasks.

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{gossipsub, identify, noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The largest validation message (the 1 MiB bandwidth echo and some room).
pub const MAX_VALIDATION_BYTES: usize = 1024 * 1024 + 1024;
/// The largest gossip message (an envelope around a frame or report).
const MAX_GOSSIP_BYTES: usize = 64 * 1024;
const VALIDATION_PROTOCOL: &str = "/quilibrium/validation/1";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The gossipsub topic of a filter.
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

/// What the network tells the node.
#[derive(Debug, Clone)]
pub enum Event {
    /// A gossip message on a subscribed filter.
    Gossip {
        /// The peer that relayed it.
        from: PeerId,
        /// The message bytes (an envelope).
        data: Vec<u8>,
    },
    /// A connection to a peer opened.
    Connected(PeerId),
    /// The last connection to a peer closed.
    Disconnected(PeerId),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bytes(#[serde(with = "serde_bytes")] Vec<u8>);

#[derive(NetworkBehaviour)]
struct Behaviour {
    gossipsub: gossipsub::Behaviour,
    identify: identify::Behaviour,
    validation: request_response::cbor::Behaviour<Bytes, Bytes>,
}

enum Command {
    Subscribe(Vec<u8>, oneshot::Sender<Result<(), NetworkError>>),
    Publish(Vec<u8>, Vec<u8>, oneshot::Sender<Result<(), NetworkError>>),
    Dial(Multiaddr, oneshot::Sender<Result<(), NetworkError>>),
    Validate(
        PeerId,
        Vec<u8>,
        oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    ),
}

/// A handle to the running swarm.
#[derive(Clone)]
pub struct Network {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
}

fn setup<E: std::fmt::Display>(e: E) -> NetworkError {
    NetworkError::Setup(e.to_string())
}

impl Network {
    /// Starts the swarm listening on `listen`; returns the handle, the events and the
    /// address actually listened on.
    pub async fn start(
        key: Keypair,
        listen: Multiaddr,
    ) -> Result<(Network, mpsc::Receiver<Event>, Multiaddr), NetworkError> {
        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .max_transmit_size(MAX_GOSSIP_BYTES)
            .heartbeat_interval(Duration::from_secs(1))
            .build()
            .map_err(setup)?;
        let codec = request_response::cbor::codec::Codec::default()
            .set_request_size_maximum(MAX_VALIDATION_BYTES as u64 + 64)
            .set_response_size_maximum(MAX_VALIDATION_BYTES as u64 + 64);
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )
            .map_err(setup)?
            .with_behaviour(|key| {
                Ok(Behaviour {
                    gossipsub: gossipsub::Behaviour::new(
                        gossipsub::MessageAuthenticity::Signed(key.clone()),
                        gossip_config,
                    )?,
                    identify: identify::Behaviour::new(identify::Config::new(
                        "/quilibrium/qnode/1".into(),
                        key.public(),
                    )),
                    validation: request_response::cbor::Behaviour::with_codec(
                        codec,
                        [(
                            StreamProtocol::new(VALIDATION_PROTOCOL),
                            ProtocolSupport::Full,
                        )],
                        request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
                    ),
                })
            })
            .map_err(setup)?
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        swarm.listen_on(listen).map_err(setup)?;
        let address = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        let local_peer_id = *swarm.local_peer_id();
        let (commands, command_rx) = mpsc::channel(64);
        let (events, event_rx) = mpsc::channel(256);
        tokio::spawn(drive(swarm, command_rx, events));
        Ok((
            Network {
                commands,
                local_peer_id,
            },
            event_rx,
            address,
        ))
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, NetworkError>>) -> Command,
    ) -> Result<T, NetworkError> {
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

    /// Sends `data` over the direct validation channel and returns the peer's echo.
    pub async fn validate(&self, peer: PeerId, data: Vec<u8>) -> Result<Vec<u8>, NetworkError> {
        if data.len() > MAX_VALIDATION_BYTES {
            return Err(NetworkError::Operation(
                "validation message too large".into(),
            ));
        }
        self.ask(|tx| Command::Validate(peer, data, tx)).await
    }
}

type Pending = std::collections::HashMap<
    request_response::OutboundRequestId,
    oneshot::Sender<Result<Vec<u8>, NetworkError>>,
>;

async fn drive(
    mut swarm: libp2p::Swarm<Behaviour>,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let mut pending: Pending = Pending::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(c) => handle_command(&mut swarm, &mut pending, c),
            },
            event = swarm.select_next_some() => {
                if let Some(e) = handle_event(&mut swarm, &mut pending, event) {
                    if events.try_send(e).is_err() {
                        tracing::debug!("node is behind on network events; one dropped");
                    }
                }
            }
        }
    }
}

fn operation<E: std::fmt::Display>(e: E) -> NetworkError {
    NetworkError::Operation(e.to_string())
}

fn handle_command(swarm: &mut libp2p::Swarm<Behaviour>, pending: &mut Pending, command: Command) {
    match command {
        Command::Subscribe(filter, done) => {
            let r = swarm
                .behaviour_mut()
                .gossipsub
                .subscribe(&topic_for(&filter));
            let _ = done.send(r.map(|_| ()).map_err(operation));
        }
        Command::Publish(filter, data, done) => {
            let r = swarm
                .behaviour_mut()
                .gossipsub
                .publish(topic_for(&filter), data);
            let _ = done.send(r.map(|_| ()).map_err(operation));
        }
        Command::Dial(address, done) => {
            let _ = done.send(swarm.dial(address).map_err(operation));
        }
        Command::Validate(peer, data, done) => {
            let id = swarm
                .behaviour_mut()
                .validation
                .send_request(&peer, Bytes(data));
            pending.insert(id, done);
        }
    }
}

fn handle_event(
    swarm: &mut libp2p::Swarm<Behaviour>,
    pending: &mut Pending,
    event: SwarmEvent<BehaviourEvent>,
) -> Option<Event> {
    match event {
        SwarmEvent::ConnectionEstablished { peer_id, .. } => Some(Event::Connected(peer_id)),
        SwarmEvent::ConnectionClosed {
            peer_id,
            num_established: 0,
            ..
        } => Some(Event::Disconnected(peer_id)),
        SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
            propagation_source,
            message,
            ..
        })) => Some(Event::Gossip {
            from: propagation_source,
            data: message.data,
        }),
        SwarmEvent::Behaviour(BehaviourEvent::Validation(request_response::Event::Message {
            message,
            ..
        })) => {
            match message {
                // The validation service echoes what it is sent (the bandwidth test).
                request_response::Message::Request {
                    request, channel, ..
                } => {
                    let _ = swarm
                        .behaviour_mut()
                        .validation
                        .send_response(channel, request);
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(done) = pending.remove(&request_id) {
                        let _ = done.send(Ok(response.0));
                    }
                }
            }
            None
        }
        SwarmEvent::Behaviour(BehaviourEvent::Validation(
            request_response::Event::OutboundFailure {
                request_id, error, ..
            },
        )) => {
            if let Some(done) = pending.remove(&request_id) {
                let _ = done.send(Err(operation(error)));
            }
            None
        }
        _ => None,
    }
}
