//! An operator's original node read for `qnode init --from-original DIR`: its `config.yml`
//! (the ceremonyclient's, v1.4.x) mapped onto qnode's options, with a list of what was
//! taken, what was changed and what was ignored. DIR is only read.
//!
//! Strict where the original is lax: a file that is not the original's config (unknown
//! top-level keys, no `p2p` section), bad hex, a peer key of the wrong length or whose
//! public half is not its seed's, or an address that does not parse is refused, naming
//! the file and the field, before anything is written.

use crate::cmd::Hex;
use anyhow::{bail, Context, Result};
use qnode_identity::NodeKey;
use qnode_options::{Endpoint, LogFile, Settings};
use qnode_p2p::multiaddr::Protocol;
use qnode_p2p::Multiaddr;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The original's config file in its directory.
pub const ORIGINAL_CONFIG: &str = "config.yml";
/// A config.yml is a few tens of kilobytes (the genesis seed is the bulk of it).
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// The first of the original's built-in mainnet bootstrap peers: a list starting with it
/// is the built-in one (the original itself tests it this way).
const MAINNET_BOOTSTRAP: &str = "/dns/bootstrap.quilibrium.com/";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OriginalConfig {
    #[serde(default)]
    key: Option<serde_norway::Value>,
    p2p: P2p,
    #[serde(default)]
    engine: Engine,
    #[serde(default)]
    db: Option<Db>,
    #[serde(rename = "listenGrpcMultiaddr", default)]
    listen_grpc: String,
    #[serde(rename = "listenRESTMultiaddr", default)]
    listen_rest: String,
    #[serde(rename = "logFile", default)]
    log_file: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Db {
    path: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct P2p {
    peer_priv_key: String,
    listen_multiaddr: String,
    bootstrap_peers: Vec<String>,
    network: u8,
    /// The gossip tuning (d, dLo, …), trace file and peer minimum: not taken.
    #[serde(flatten)]
    other: BTreeMap<String, serde_norway::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Engine {
    genesis_seed: String,
    filter: String,
    difficulty: u32,
    data_worker_multiaddrs: Vec<String>,
    data_worker_base_listen_port: u16,
    data_worker_base_listen_multiaddr: String,
    /// Proving key id, max frames, stats address, …: not taken.
    #[serde(flatten)]
    other: BTreeMap<String, serde_norway::Value>,
}

/// What the import made and said.
pub struct Imported {
    /// The original's peer key.
    pub key: NodeKey,
    /// The options to write.
    pub settings: Settings,
    /// The option names set (uncommented in config.toml).
    pub set: Vec<&'static str>,
    /// Taken as they were.
    pub taken: Vec<String>,
    /// Taken, with a change qnode needs.
    pub changed: Vec<String>,
    /// Not taken.
    pub ignored: Vec<String>,
    /// The original's store (its `db.path`, else `store` beside config.yml).
    pub store_dir: PathBuf,
    /// The genesis seed (as in the file, before the network byte).
    pub genesis_seed: Vec<u8>,
    /// The network.
    pub network: u8,
}

/// Reads the original node in `dir` (never writing there); `network_flag` is the
/// `--network` the original ran with, which config.yml does not hold.
pub fn read(dir: &Path, network_flag: Option<u8>) -> Result<Imported> {
    let path = dir.join(ORIGINAL_CONFIG);
    let bytes = qnode_files::read_regular(&path, MAX_CONFIG_BYTES)
        .with_context(|| format!("reading {}", path.display()))?
        .with_context(|| {
            format!(
                "{} does not exist: --from-original takes the original node's config \
                 directory (its .config, holding config.yml and keys.yml)",
                path.display()
            )
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not text: {e}", path.display()))?;
    let deserializer = serde_norway::Deserializer::from_str(text);
    let config: OriginalConfig = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        anyhow::anyhow!(
            "{} is not an original node's config.yml: {}: {}",
            path.display(),
            field_name(e.path()),
            e.inner()
        )
    })?;
    map(config, dir, &path, network_flag)
}

fn field_name(path: &serde_path_to_error::Path) -> String {
    match path.to_string().as_str() {
        "." => "the file".to_string(),
        shown => shown.to_string(),
    }
}

/// A field's error, naming the file and the field.
fn bad(path: &Path, field: &str, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{}: {field}: {why}; nothing was written", path.display())
}

fn map(
    config: OriginalConfig,
    dir: &Path,
    path: &Path,
    network_flag: Option<u8>,
) -> Result<Imported> {
    let store_dir = store_dir(config.db.as_ref().map(|db| db.path.as_str()), dir);
    let mut imported = Imported {
        key: peer_key(&config.p2p.peer_priv_key, path)?,
        settings: Settings {
            // The original runs at the real difficulty; qnode's init makes a devnet.
            devnet: Some(false),
            ..Settings::default()
        },
        set: vec!["devnet"],
        taken: Vec::new(),
        changed: Vec::new(),
        ignored: Vec::new(),
        store_dir,
        genesis_seed: Vec::new(),
        network: network_flag.unwrap_or(config.p2p.network),
    };
    imported.taken.push(format!(
        "the peer key (p2p.peerPrivKey), Ed448: peer id {}",
        imported.key.peer_id()
    ));
    imported.changed.push(
        "devnet = false: the original runs at the real difficulty (100000), where qnode's \
         init makes a devnet; outside a devnet qnode needs CONFIG_DIR/kzg-setup.pot"
            .to_string(),
    );
    network(&config.p2p, network_flag, &mut imported);
    listen(&config.p2p, path, &mut imported)?;
    bootstrap(&config.p2p, path, &mut imported)?;
    engine(&config.engine, path, &mut imported)?;
    endpoints(&config, path, &mut imported)?;
    ignored(&config, &mut imported);
    Ok(imported)
}

/// The original's store: its `db.path` (a relative one is the original's working
/// directory's, normally the config directory's parent), else `store` in the config
/// directory, the first that exists.
fn store_dir(db_path: Option<&str>, dir: &Path) -> PathBuf {
    let default = dir.join("store");
    let given = match db_path {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => return default,
    };
    let candidate = match (given.is_absolute(), dir.parent()) {
        (true, _) => given,
        (false, Some(parent)) => parent.join(given),
        (false, None) => given,
    };
    match candidate.is_dir() {
        true => candidate,
        false => default,
    }
}

fn peer_key(hex_key: &str, path: &Path) -> Result<NodeKey> {
    if hex_key.is_empty() {
        bail!(
            "{}: p2p.peerPrivKey is empty: the original writes its key on its first start. \
             Start it once, or make a new qnode identity with plain `qnode init`; nothing \
             was written",
            path.display()
        );
    }
    let raw = zeroize::Zeroizing::new(
        hex::decode(hex_key).map_err(|e| bad(path, "p2p.peerPrivKey", format!("not hex ({e})")))?,
    );
    NodeKey::from_ed448_bytes(&raw).map_err(|e| bad(path, "p2p.peerPrivKey", e))
}

/// The network: the original's `--network` flag when given (it prefixes the genesis seed,
/// as qnode's `network` does), else config.yml's `p2p.network`.
fn network(p2p: &P2p, flag: Option<u8>, imported: &mut Imported) {
    let network = flag.unwrap_or(p2p.network);
    imported.settings.network = Some(network);
    imported.set.push("network");
    imported.taken.push(match flag {
        Some(n) => format!("network {n} (the original's --network flag, given here)"),
        None => format!("network {network} (p2p.network)"),
    });
}

/// The listen address: TCP as it is; QUIC moved to TCP on the same port, as qnode speaks
/// QUIC only with Ed25519 identities.
fn listen(p2p: &P2p, path: &Path, imported: &mut Imported) -> Result<()> {
    if p2p.listen_multiaddr.is_empty() {
        return Ok(());
    }
    let original: Multiaddr = p2p.listen_multiaddr.parse().map_err(|e| {
        bad(
            path,
            "p2p.listenMultiaddr",
            format!("not a multiaddr ({e})"),
        )
    })?;
    let (address, moved) = tcp_of(&original);
    if moved {
        imported.changed.push(format!(
            "listen {address} (p2p.listenMultiaddr was {original}): qnode speaks QUIC only \
             with Ed25519 identities, so this Ed448 node listens on TCP"
        ));
    } else {
        imported
            .taken
            .push(format!("listen {address} (p2p.listenMultiaddr)"));
    }
    imported.settings.listen = vec![address];
    imported.set.push("listen");
    Ok(())
}

/// The TCP address on the same host and port as a QUIC one (and whether it changed).
fn tcp_of(address: &Multiaddr) -> (Multiaddr, bool) {
    let mut moved = false;
    let mut tcp = Multiaddr::empty();
    for part in address.iter() {
        match part {
            Protocol::Udp(port) => {
                tcp.push(Protocol::Tcp(port));
                moved = true;
            }
            Protocol::Quic | Protocol::QuicV1 => {}
            other => tcp.push(other),
        }
    }
    (tcp, moved)
}

fn bootstrap(p2p: &P2p, path: &Path, imported: &mut Imported) -> Result<()> {
    let peers = &p2p.bootstrap_peers;
    if peers.is_empty() || peers[0].starts_with(MAINNET_BOOTSTRAP) {
        imported.ignored.push(
            "p2p.bootstrapPeers: the built-in mainnet list; qnode does not join mainnet".into(),
        );
        return Ok(());
    }
    for (i, text) in peers.iter().enumerate() {
        let field = format!("p2p.bootstrapPeers[{i}]");
        let address: Multiaddr = text
            .parse()
            .map_err(|e| bad(path, &field, format!("not a multiaddr ({e})")))?;
        qnode_p2p::bootstrap_peer(&address).map_err(|e| bad(path, &field, e))?;
        if address
            .iter()
            .any(|p| matches!(p, Protocol::Quic | Protocol::QuicV1))
        {
            imported.ignored.push(format!(
                "{field} {address}: a QUIC address, which an Ed448 qnode node cannot dial \
                 yet (give its TCP address with --bootstrap)"
            ));
            continue;
        }
        imported
            .taken
            .push(format!("bootstrap {address} ({field})"));
        imported.settings.bootstrap.push(address);
    }
    if !imported.settings.bootstrap.is_empty() {
        imported.set.push("bootstrap");
    }
    Ok(())
}

fn engine(engine: &Engine, path: &Path, imported: &mut Imported) -> Result<()> {
    match engine.genesis_seed.as_str() {
        // The original's own marker for its built-in seed, which the file does not hold.
        "" | "00" => imported.ignored.push(
            "engine.genesisSeed: the original's built-in seed, which config.yml does not hold"
                .into(),
        ),
        seed => {
            let seed: Hex = seed
                .parse()
                .map_err(|e: String| bad(path, "engine.genesisSeed", e))?;
            imported.genesis_seed = seed.0.clone();
            imported.settings.genesis_seed = Some(seed);
            imported.set.push("genesis-seed");
            imported
                .taken
                .push("the genesis seed (engine.genesisSeed)".into());
        }
    }
    workers(engine, path, imported)?;
    if engine.difficulty != 0 && engine.difficulty != 10_000 && engine.difficulty != 100_000 {
        imported.ignored.push(format!(
            "engine.difficulty {}: a test setting; the original's frames carry 100000",
            engine.difficulty
        ));
    }
    let master = "f".repeat(64);
    if !engine.filter.is_empty() && !engine.filter.eq_ignore_ascii_case(&master) {
        imported.ignored.push(format!(
            "engine.filter {}: qnode runs the master clock's filter ({master})",
            engine.filter
        ));
    }
    Ok(())
}

/// Remote workers become qnode's `worker-addr` (`http://host:port`); a base port its
/// `worker-base-port`.
fn workers(engine: &Engine, path: &Path, imported: &mut Imported) -> Result<()> {
    for (i, text) in engine.data_worker_multiaddrs.iter().enumerate() {
        let field = format!("engine.dataWorkerMultiaddrs[{i}]");
        let address = socket_of(text).map_err(|e| bad(path, &field, e))?;
        imported
            .settings
            .worker_addr
            .push(format!("http://{address}"));
        imported
            .taken
            .push(format!("worker http://{address} ({field})"));
    }
    if !engine.data_worker_multiaddrs.is_empty() {
        imported.set.push("worker-addr");
        return Ok(());
    }
    if engine.data_worker_base_listen_port != 0 {
        imported.settings.worker_base_port = Some(engine.data_worker_base_listen_port);
        imported.set.push("worker-base-port");
        imported.taken.push(format!(
            "worker base port {} (engine.dataWorkerBaseListenPort)",
            engine.data_worker_base_listen_port
        ));
    }
    let local = "/ip4/127.0.0.1/tcp/%d";
    if !engine.data_worker_base_listen_multiaddr.is_empty()
        && engine.data_worker_base_listen_multiaddr != local
    {
        imported.ignored.push(format!(
            "engine.dataWorkerBaseListenMultiaddr {}: qnode's local workers listen on \
             127.0.0.1",
            engine.data_worker_base_listen_multiaddr
        ));
    }
    Ok(())
}

/// `/ip4|ip6/…/tcp/…` as a socket address.
fn socket_of(text: &str) -> Result<SocketAddr, String> {
    let address: Multiaddr = text.parse().map_err(|e| format!("not a multiaddr ({e})"))?;
    let mut ip: Option<IpAddr> = None;
    let mut port = None;
    for part in address.iter() {
        match part {
            Protocol::Ip4(a) => ip = Some(a.into()),
            Protocol::Ip6(a) => ip = Some(a.into()),
            Protocol::Tcp(p) => port = Some(p),
            other => return Err(format!("{other} is not an IP or TCP part")),
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) => Ok(SocketAddr::new(ip, port)),
        _ => Err("not an /ip4|ip6/…/tcp/… address".into()),
    }
}

/// The gRPC and REST endpoints become qnode's node API and HTTP (JSON API, dashboard)
/// addresses; off where the original had them off. The log file is taken too.
fn endpoints(config: &OriginalConfig, path: &Path, imported: &mut Imported) -> Result<()> {
    let endpoint = |text: &str, field: &str| -> Result<Endpoint> {
        if text.is_empty() {
            return Ok(Endpoint::Off);
        }
        socket_of(text)
            .map(Endpoint::At)
            .map_err(|e| bad(path, field, e))
    };
    let grpc = endpoint(&config.listen_grpc, "listenGrpcMultiaddr")?;
    let http = endpoint(&config.listen_rest, "listenRESTMultiaddr")?;
    imported
        .taken
        .push(format!("node API {} (listenGrpcMultiaddr)", shown(grpc)));
    imported.taken.push(format!(
        "JSON API and dashboard {} (listenRESTMultiaddr)",
        shown(http)
    ));
    imported.settings.grpc_listen = Some(grpc);
    imported.settings.http_listen = Some(http);
    imported.set.extend(["grpc-listen", "http-listen"]);
    if !config.log_file.is_empty() {
        imported.settings.log_file = Some(LogFile::At(PathBuf::from(&config.log_file)));
        imported.set.push("log-file");
        imported
            .taken
            .push(format!("log file {} (logFile)", config.log_file));
    }
    Ok(())
}

fn shown(endpoint: Endpoint) -> String {
    match endpoint {
        Endpoint::Off => "off".into(),
        Endpoint::At(address) => address.to_string(),
    }
}

/// Whether an engine setting qnode does not have holds the original's own default, which
/// is not worth a line.
fn engine_default(name: &str, value: &serde_norway::Value) -> bool {
    let number = value.as_i64();
    match name {
        "maxFrames" => number == Some(-1),
        "pendingCommitWorkers" => number == Some(4),
        "provingKeyId" => value.as_str() == Some("default-proving-key"),
        _ => false,
    }
}

/// Everything else the original's file holds, named, when it is not its default.
fn ignored(config: &OriginalConfig, imported: &mut Imported) {
    let set = |value: &serde_norway::Value| match value {
        serde_norway::Value::Null => false,
        serde_norway::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_norway::Value::String(s) => !s.is_empty() && s != "0s",
        serde_norway::Value::Sequence(s) => !s.is_empty(),
        _ => true,
    };
    for (name, value) in &config.p2p.other {
        if set(value) {
            imported
                .ignored
                .push(format!("p2p.{name}: qnode runs the original's defaults"));
        }
    }
    for (name, value) in &config.engine.other {
        if set(value) && !engine_default(name, value) {
            imported
                .ignored
                .push(format!("engine.{name}: not a qnode setting"));
        }
    }
    if config.key.is_some() {
        imported.ignored.push(
            "key (keys.yml, the proving key): qnode's proof loop signs nothing with it".into(),
        );
    }
}
