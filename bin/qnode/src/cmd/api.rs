//! `qnode node-info` and `qnode peers`: ask a running node through its node API (gRPC),
//! found from `--api`, or from the status the node in `--config-dir` writes.

use super::status::{current, is_running, Source};
use anyhow::{bail, Context, Result};
use clap::Args;
use qnode_operator::status;
use qnode_options::ConfigDir;
use qnode_p2p::PeerId;
use qnode_protocol::pb::node::node_service_client::NodeServiceClient;
use qnode_protocol::pb::node::{
    GetNetworkInfoRequest, GetNodeInfoRequest, GetPeerInfoRequest, GetPeerManifestsRequest,
    GetTokenInfoRequest, NetworkInfo, PeerInfo, PeerManifest,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tonic::transport::Channel;

/// Which node to ask.
#[derive(Args)]
pub struct ApiTarget {
    /// The node API's address, host:port or a URL (default: where the node in
    /// --config-dir serves it).
    #[arg(long, env = "QNODE_API")]
    api: Option<String>,
    #[command(flatten)]
    dir: ConfigDir,
}

/// Where a node is: its API, or its directory when it is not running.
pub enum Target {
    /// A running node's API URL.
    Api(String),
    /// The directory of a node that is not running.
    Stopped(PathBuf),
}

impl ApiTarget {
    /// Finds the node.
    pub fn target(&self) -> Result<Target> {
        if let Some(api) = &self.api {
            let url = if api.contains("://") {
                api.clone()
            } else {
                format!("http://{api}")
            };
            return Ok(Target::Api(url));
        }
        let dir = self.dir.path()?;
        let running = |s: &status::Status| current(s.clone()).1 == Source::NodeWithStaleFile;
        match status::read(&dir).filter(|s| is_running(s) || running(s)) {
            Some(s) => match s.api_address {
                Some(address) => Ok(Target::Api(format!("http://{address}"))),
                None => bail!(
                    "the node in {} runs with its node API off; set grpc-listen (e.g. \
                     127.0.0.1:8337) in its config.toml and restart it",
                    dir.display()
                ),
            },
            None => Ok(Target::Stopped(dir)),
        }
    }

    /// A client of the running node's API.
    pub async fn client(&self) -> Result<NodeServiceClient<Channel>> {
        match self.target()? {
            Target::Api(url) => connect(&url).await,
            Target::Stopped(dir) => bail!(
                "no node is running in {dir} (no fresh status.json); start it with `qnode run \
                 --config-dir {dir}`, or give its API with --api HOST:PORT",
                dir = dir.display()
            ),
        }
    }
}

/// Connects, bounded in time so a wrong address fails fast.
pub async fn connect(url: &str) -> Result<NodeServiceClient<Channel>> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .with_context(|| format!("{url} is not a valid address"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| {
            format!("cannot reach the node API at {url}; is the node running with grpc-listen on?")
        })?;
    Ok(NodeServiceClient::new(channel))
}

/// A peer id from its bytes, base58 (hex when they are not a peer id).
pub fn peer_text(bytes: &[u8]) -> String {
    PeerId::from_bytes(bytes).map_or_else(|_| hex::encode(bytes), |p| p.to_base58())
}

#[derive(Args)]
pub struct NodeInfoArgs {
    #[command(flatten)]
    target: ApiTarget,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl NodeInfoArgs {
    pub fn run(self) -> Result<ExitCode> {
        let info = super::run::runtime()?.block_on(async {
            let mut client = self.target.client().await?;
            let node = client
                .get_node_info(GetNodeInfoRequest {})
                .await?
                .into_inner();
            let tokens = client
                .get_token_info(GetTokenInfoRequest {})
                .await?
                .into_inner();
            anyhow::Ok((node, tokens))
        })?;
        let (node, tokens) = info;
        let reward = tokens
            .unconfirmed_owned_tokens
            .iter()
            .fold(0u128, |total, b| total.wrapping_shl(8) | u128::from(*b));
        let version = node
            .version
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".");
        if self.json {
            let value = json!({
                "peer_id": node.peer_id,
                "max_frame": node.max_frame,
                "peer_score": node.peer_score,
                "version": version,
                "software_version": node.software_version,
                "reward": reward.to_string(),
            });
            outln!("{value}");
        } else {
            outln!("peer id     {}", node.peer_id);
            outln!("head frame  {}", node.max_frame);
            // The original fills only the protocol version; qnode adds its software's.
            match node.software_version.as_str() {
                "" => outln!("version     {version}"),
                software => outln!("version     {version} ({software})"),
            }
            outln!("reward      {reward} (proof chain, as the original counts it)");
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Args)]
pub struct PeersArgs {
    #[command(flatten)]
    target: ApiTarget,
    /// Print JSON: the node's answers to GetNetworkInfo, GetPeerInfo and
    /// GetPeerManifests.
    #[arg(long)]
    json: bool,
}

fn network_json(n: &NetworkInfo) -> Value {
    json!({
        "peer_id": peer_text(&n.peer_id),
        "multiaddrs": n.multiaddrs,
        "peer_score": n.peer_score,
    })
}

fn peer_json(p: &PeerInfo) -> Value {
    json!({
        "peer_id": peer_text(&p.peer_id),
        "multiaddrs": p.multiaddrs,
        "max_frame": p.max_frame,
        "timestamp": p.timestamp,
    })
}

fn manifest_json(m: &PeerManifest) -> Value {
    json!({
        "peer_id": peer_text(&m.peer_id),
        "difficulty": m.difficulty,
        "difficulty_metric": m.difficulty_metric,
        "cores": m.cores,
        "memory": hex::encode(&m.memory),
        "storage": hex::encode(&m.storage),
        "master_head_frame": m.master_head_frame,
        "last_seen": m.last_seen,
        "increment": m.increment,
    })
}

impl PeersArgs {
    pub fn run(self) -> Result<ExitCode> {
        let answers = super::run::runtime()?.block_on(async {
            let mut client = self.target.client().await?;
            let network = client
                .get_network_info(GetNetworkInfoRequest {})
                .await?
                .into_inner();
            let peers = client
                .get_peer_info(GetPeerInfoRequest {})
                .await?
                .into_inner();
            let manifests = client
                .get_peer_manifests(GetPeerManifestsRequest {})
                .await?
                .into_inner();
            anyhow::Ok((network, peers, manifests))
        })?;
        let (network, peers, manifests) = answers;
        if self.json {
            let value = json!({
                "network": network.network_info.iter().map(network_json).collect::<Vec<_>>(),
                "peers": peers.peer_info.iter().map(peer_json).collect::<Vec<_>>(),
                "uncooperative": peers.uncooperative_peer_info.iter().map(peer_json)
                    .collect::<Vec<_>>(),
                "manifests": manifests.peer_manifests.iter().map(manifest_json)
                    .collect::<Vec<_>>(),
            });
            outln!("{value}");
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{:<54} {:>9} {:>10} {:>5} {:>9}  address",
            "peer",
            "score",
            "head",
            "cores",
            "increment"
        );
        for n in &network.network_info {
            let manifest = manifests
                .peer_manifests
                .iter()
                .find(|m| m.peer_id == n.peer_id);
            let field = |f: fn(&PeerManifest) -> String| manifest.map_or("–".into(), f);
            outln!(
                "{:<54} {:>9.1} {:>10} {:>5} {:>9}  {}",
                peer_text(&n.peer_id),
                n.peer_score,
                field(|m| m.master_head_frame.to_string()),
                field(|m| m.cores.to_string()),
                field(|m| m.increment.to_string()),
                n.multiaddrs.first().map_or("", String::as_str),
            );
        }
        for p in &peers.uncooperative_peer_info {
            outln!("{:<54} uncooperative (penalised)", peer_text(&p.peer_id));
        }
        outln!(
            "{} connected, {} with manifests",
            network.network_info.len(),
            manifests.peer_manifests.len()
        );
        Ok(ExitCode::SUCCESS)
    }
}
