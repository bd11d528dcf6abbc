//! The node API: the original's `NodeService` over gRPC — stored frames, peers and their
//! manifests, the node's own head and proof-chain reward — for `qnode node-info`,
//! `qnode peers`, `qnode frames` and scripts, with gRPC server reflection (v1 and
//! v1alpha) so `grpcurl` lists and calls it with no `.proto` files. Read-only. The node binds it to
//! 127.0.0.1 unless the operator configures another address. Connections are capped and
//! closed when idle ([`crate::connection_limits`]); calls are bounded in size, time and
//! number per connection.

use crate::connection_limits::{ConnectionLimits, LimitedListener};
use qnode_protocol::pb::node::node_service_server::{NodeService, NodeServiceServer};
use qnode_protocol::pb::node::{
    FrameInfoResponse, FramesResponse, GetFrameInfoRequest, GetFramesRequest,
    GetNetworkInfoRequest, GetNodeInfoRequest, GetPeerInfoRequest, GetPeerManifestsRequest,
    GetTokenInfoRequest, NetworkInfo, NetworkInfoResponse, NodeInfoResponse, PeerInfo,
    PeerInfoResponse, PeerManifestsResponse, TokenInfoResponse,
};
use qnode_protocol::pb::{FILE_DESCRIPTOR_SET, NODE_SERVICE};
use qnode_protocol::quote::clip_hex;
use qnode_services::context::ServiceContext;
use qnode_store::StoreError;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;
use tonic::{Request, Response, Status};
use tonic_reflection::server::v1::{ServerReflection, ServerReflectionServer};
use tonic_reflection::server::v1alpha;

/// The protocol version the node reports: what the original at 20eadfa reports (its
/// `GetVersion` still says 1.4.19 although the release is tagged 1.4.20).
pub const PROTOCOL_VERSION: [u8; 3] = [1, 4, 19];
/// `GetFrames` answers with at most this many frames; ask again from the last one + 1.
pub const MAX_FRAMES_PER_CALL: u64 = 1024;

/// The service, over the node's shared state.
pub struct NodeApi {
    ctx: Arc<ServiceContext>,
}

fn internal(e: StoreError) -> Status {
    tracing::warn!("node API: {e}");
    Status::internal(e.to_string())
}

impl NodeApi {
    /// The service over `ctx`.
    pub fn new(ctx: Arc<ServiceContext>) -> NodeApi {
        NodeApi { ctx }
    }

    /// Checks the request's filter: empty means the master clock, the only clock kept.
    fn filter<'a>(&'a self, filter: &'a [u8]) -> Result<&'a [u8], Status> {
        if filter.is_empty() || filter == self.ctx.filter.as_slice() {
            Ok(&self.ctx.filter)
        } else {
            Err(Status::not_found(unknown_filter(filter, &self.ctx.filter)))
        }
    }
}

/// The answer to a filter this node does not keep: the filter quoted at most
/// [`qnode_protocol::quote::MAX_QUOTED`] characters of hex, however long it is.
fn unknown_filter(filter: &[u8], master: &[u8]) -> String {
    format!(
        "no clock with filter {}: this node keeps only the master clock ({})",
        clip_hex(filter),
        hex::encode(master)
    )
}

#[tonic::async_trait]
impl NodeService for NodeApi {
    /// Frames `from..to` (`to` exclusive, swapped when reversed, as the original does),
    /// at most [`MAX_FRAMES_PER_CALL`].
    async fn get_frames(
        &self,
        request: Request<GetFramesRequest>,
    ) -> Result<Response<FramesResponse>, Status> {
        let r = request.into_inner();
        let filter = self.filter(&r.filter)?;
        let (from, to) = if r.from_frame_number <= r.to_frame_number {
            (r.from_frame_number, r.to_frame_number)
        } else {
            (r.to_frame_number, r.from_frame_number)
        };
        let to = to.min(from.saturating_add(MAX_FRAMES_PER_CALL));
        let frames = if from < to {
            self.ctx
                .store
                .frames(filter, from..=to - 1)
                .map_err(internal)?
        } else {
            Vec::new()
        };
        Ok(Response::new(FramesResponse {
            truncated_clock_frames: frames,
        }))
    }

    async fn get_frame_info(
        &self,
        request: Request<GetFrameInfoRequest>,
    ) -> Result<Response<FrameInfoResponse>, Status> {
        let r = request.into_inner();
        let filter = self.filter(&r.filter)?;
        match self
            .ctx
            .store
            .frame(filter, r.frame_number)
            .map_err(internal)?
        {
            Some(frame) => Ok(Response::new(FrameInfoResponse {
                clock_frame: Some(frame),
            })),
            None => Err(Status::not_found(format!(
                "frame {} is not stored (the head is {})",
                r.frame_number,
                self.ctx.head_number().await
            ))),
        }
    }

    /// Peers with a manifest, and in `uncooperative_peer_info` every peer we have
    /// penalised, manifest or not (the original leaves that list empty). `version` stays
    /// empty: reports do not carry it (the original fills in its own).
    async fn get_peer_info(
        &self,
        _: Request<GetPeerInfoRequest>,
    ) -> Result<Response<PeerInfoResponse>, Status> {
        let connected = self.ctx.network.connected().await.unwrap_or_default();
        let mut response = PeerInfoResponse::default();
        for info in self.ctx.peers.sorted_by_bandwidth() {
            let peer = info.peer_id;
            let penalised = info.score < 0;
            if info.manifest.is_none() && !penalised {
                continue;
            }
            // Its own entry, as in the original, with the addresses it listens on.
            let multiaddrs = if peer == self.ctx.own {
                let listening = self.ctx.network.listening();
                listening.iter().map(ToString::to_string).collect()
            } else {
                connected
                    .iter()
                    .find(|c| c.peer == peer)
                    .map(|c| c.addresses.iter().map(ToString::to_string).collect())
                    .unwrap_or_default()
            };
            let entry = PeerInfo {
                peer_id: peer.to_bytes(),
                multiaddrs,
                max_frame: info.head_frame,
                timestamp: info.last_seen_ms,
                ..PeerInfo::default()
            };
            if penalised {
                response.uncooperative_peer_info.push(entry);
            } else {
                response.peer_info.push(entry);
            }
        }
        Ok(Response::new(response))
    }

    async fn get_node_info(
        &self,
        _: Request<GetNodeInfoRequest>,
    ) -> Result<Response<NodeInfoResponse>, Status> {
        Ok(Response::new(NodeInfoResponse {
            peer_id: self.ctx.own.to_base58(),
            max_frame: self.ctx.head_number().await,
            // A node's score of itself, as the original asks gossip for it: always 0.
            peer_score: 0,
            version: PROTOCOL_VERSION.to_vec(),
            software_version: format!("qnode {}", env!("CARGO_PKG_VERSION")),
        }))
    }

    /// Connected peers, their connection addresses and BlossomSub scores.
    async fn get_network_info(
        &self,
        _: Request<GetNetworkInfoRequest>,
    ) -> Result<Response<NetworkInfoResponse>, Status> {
        let connected = self
            .ctx
            .network
            .connected()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let network_info = connected
            .into_iter()
            .map(|c| NetworkInfo {
                peer_id: c.peer.to_bytes(),
                multiaddrs: c.addresses.iter().map(ToString::to_string).collect(),
                peer_score: c.score.unwrap_or(0.0),
            })
            .collect();
        Ok(Response::new(NetworkInfoResponse { network_info }))
    }

    /// The proof chain's total reward, 32 bytes big-endian in `unconfirmed_owned_tokens`,
    /// the only field the original fills at this version.
    async fn get_token_info(
        &self,
        _: Request<GetTokenInfoRequest>,
    ) -> Result<Response<TokenInfoResponse>, Status> {
        let latest = self
            .ctx
            .store
            .latest_data_time_proof(&self.ctx.own.to_bytes())
            .map_err(internal)?;
        let mut total = [0u8; 32];
        total[16..].copy_from_slice(&latest.map_or(0, |l| l.reward).to_be_bytes());
        Ok(Response::new(TokenInfoResponse {
            unconfirmed_owned_tokens: total.to_vec(),
            ..TokenInfoResponse::default()
        }))
    }

    async fn get_peer_manifests(
        &self,
        _: Request<GetPeerManifestsRequest>,
    ) -> Result<Response<PeerManifestsResponse>, Status> {
        let peer_manifests = self
            .ctx
            .peers
            .sorted_by_bandwidth()
            .into_iter()
            .filter_map(|info| info.manifest)
            .collect();
        Ok(Response::new(PeerManifestsResponse { peer_manifests }))
    }
}

/// Requests are a few bytes: anything larger is refused before it is decoded.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// A call that takes longer is answered `DEADLINE_EXCEEDED`.
pub const CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Calls in flight on one connection at most.
pub const CALLS_PER_CONNECTION: usize = 16;

/// Serves the API on a bound listener until `shutdown`, within
/// [`ConnectionLimits::NODE_API`].
pub fn serve(
    listener: tokio::net::TcpListener,
    ctx: Arc<ServiceContext>,
    shutdown: watch::Receiver<bool>,
) -> impl Future<Output = Result<(), tonic::transport::Error>> + Send + 'static {
    serve_with(listener, ctx, shutdown, ConnectionLimits::NODE_API)
}

/// [`serve`] within other limits. Besides the connection cap and idle timeout, each call
/// has [`CALL_TIMEOUT`], each connection at most [`CALLS_PER_CONNECTION`] calls at once, and
/// each request at most [`MAX_REQUEST_BYTES`]. No HTTP/2 keep-alive pings are sent: an
/// idle connection is closed instead (a ping answered would count as activity).
pub fn serve_with(
    listener: tokio::net::TcpListener,
    ctx: Arc<ServiceContext>,
    mut shutdown: watch::Receiver<bool>,
    limits: ConnectionLimits,
) -> impl Future<Output = Result<(), tonic::transport::Error>> + Send + 'static {
    let service =
        NodeServiceServer::new(NodeApi::new(ctx)).max_decoding_message_size(MAX_REQUEST_BYTES);
    let (v1, v1alpha) = reflection();
    tonic::transport::Server::builder()
        .timeout(CALL_TIMEOUT)
        .concurrency_limit_per_connection(CALLS_PER_CONNECTION)
        .max_concurrent_streams(Some(CALLS_PER_CONNECTION as u32))
        .add_service(service)
        .add_service(v1.max_decoding_message_size(MAX_REQUEST_BYTES))
        .add_service(v1alpha.max_decoding_message_size(MAX_REQUEST_BYTES))
        .serve_with_incoming_shutdown(
            LimitedListener::new(listener, limits).incoming(),
            async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            },
        )
}

/// The reflection services, v1 and the v1alpha older grpcurl versions ask for, describing
/// `NodeService` only.
#[allow(clippy::expect_used)]
fn reflection() -> (
    ServerReflectionServer<impl ServerReflection>,
    v1alpha::ServerReflectionServer<impl v1alpha::ServerReflection>,
) {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .with_service_name(NODE_SERVICE)
    };
    // The descriptors are compiled in and read back by the reflection test: failing to
    // decode them is a broken build, not an input error.
    (
        builder().build_v1().expect("compiled-in descriptors"),
        builder().build_v1alpha().expect("compiled-in descriptors"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_filter_is_quoted_at_most_200_characters() {
        let master = [0xff; 32];
        let short = unknown_filter(&[0xab; 4], &master);
        assert_eq!(
            short,
            format!(
                "no clock with filter abababab: this node keeps only the master clock ({})",
                "ff".repeat(32)
            )
        );
        let huge = unknown_filter(&[0xab; 1 << 20], &master);
        assert!(huge.len() < 400, "{} bytes", huge.len());
        assert!(
            huge.starts_with(&format!(
                "no clock with filter {}… (1048576 bytes):",
                "ab".repeat(100)
            )),
            "{huge}"
        );
    }
}
