//! Checks the given settings and fills in the defaults (some differ on a devnet).

use super::{Endpoint, Settings};
use qnode_node::challenge_proof_verifier::ReportRules;
use qnode_node::health::HealthRules;
use qnode_p2p::Multiaddr;
use qnode_protocol::frame;
use serde::{Serialize, Serializer};
use std::fmt::Display;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The genesis seed of a devnet (mainnet's seed is not embedded).
const DEVNET_SEED: &[u8] = b"qnode devnet";
const DEVNET_DIVISOR: u32 = 10_000;
/// Two increments a second at most, so devnet nodes on one machine share it.
const DEVNET_MIN_INCREMENT_MS: u64 = 500;
/// The original waits 270 s between a peer's reports; a devnet wants answers sooner.
const DEVNET_REPORT_WINDOW_SECS: u64 = 3;
const DEFAULT_LISTEN: [&str; 2] = ["/ip4/0.0.0.0/tcp/8336", "/ip4/0.0.0.0/udp/8336/quic-v1"];

/// Every option with its value, checked.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Resolved {
    pub devnet: bool,
    pub workers: u32,
    pub worker_base_port: u16,
    pub worker_addr: Vec<String>,
    pub worker_timeout_secs: u64,
    #[serde(serialize_with = "display_list")]
    pub listen: Vec<Multiaddr>,
    #[serde(serialize_with = "display_list")]
    pub bootstrap: Vec<Multiaddr>,
    #[serde(serialize_with = "display")]
    pub http_listen: Endpoint,
    #[serde(serialize_with = "display")]
    pub grpc_listen: Endpoint,
    pub ready_workers_secs: u64,
    pub ready_head_secs: u64,
    #[serde(serialize_with = "as_hex")]
    pub genesis_seed: Vec<u8>,
    pub network: u8,
    pub difficulty: u32,
    pub frame_interval_ms: u64,
    pub report_window_secs: u64,
    pub min_peer_cores: u32,
    pub min_peer_memory: u64,
    pub difficulty_divisor: u32,
    pub min_increment_ms: u64,
    pub devnet_setup_powers: usize,
}

fn display<S: Serializer, T: Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

fn display_list<S: Serializer, T: Display>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(ToString::to_string))
}

fn as_hex<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// An option's value is wrong: names the option everywhere it can be set.
fn invalid(field: &str, value: impl Display, problem: &str, fix: &str) -> anyhow::Error {
    let env = field.to_uppercase().replace('-', "_");
    anyhow::anyhow!(
        "`{field}` = {value}: {problem}.\n  fix: {fix} (it is set by --{field}, QNODE_{env} \
         or `{field}` in config.toml)"
    )
}

fn at_least<T: PartialOrd + Display + Copy>(field: &str, value: T, min: T) -> anyhow::Result<T> {
    if value < min {
        return Err(invalid(
            field,
            value,
            &format!("must be at least {min}"),
            &format!("use {min} or more, or remove it for the default"),
        ));
    }
    Ok(value)
}

/// A default that differs on a devnet.
fn pick<T>(devnet: bool, on_devnet: T, otherwise: T) -> T {
    if devnet {
        on_devnet
    } else {
        otherwise
    }
}

fn local_any_port() -> Endpoint {
    Endpoint::At(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
}

impl Settings {
    /// Checks every given value and fills in the rest.
    pub fn resolve(self) -> anyhow::Result<Resolved> {
        let devnet = self.devnet.unwrap_or(false);
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        let frame_interval_ms = at_least(
            "frame-interval-ms",
            self.frame_interval_ms.unwrap_or(20_000),
            1,
        )?;
        let real_rules = ReportRules::default();
        let resolved = Resolved {
            devnet,
            workers: at_least(
                "workers",
                self.workers.unwrap_or(cores.saturating_sub(1).max(1)),
                1,
            )?,
            worker_base_port: self.worker_base_port.unwrap_or(40_000),
            worker_addr: self.worker_addr,
            worker_timeout_secs: at_least(
                "worker-timeout-secs",
                self.worker_timeout_secs.unwrap_or(600),
                1,
            )?,
            listen: if self.listen.is_empty() {
                DEFAULT_LISTEN
                    .iter()
                    .filter_map(|a| a.parse().ok())
                    .collect()
            } else {
                self.listen
            },
            bootstrap: self.bootstrap,
            http_listen: self
                .http_listen
                .unwrap_or(pick(devnet, local_any_port(), Endpoint::Off)),
            grpc_listen: self
                .grpc_listen
                .unwrap_or(pick(devnet, local_any_port(), Endpoint::Off)),
            ready_workers_secs: at_least(
                "ready-workers-secs",
                self.ready_workers_secs.unwrap_or(pick(devnet, 10, 300)),
                1,
            )?,
            ready_head_secs: at_least(
                "ready-head-secs",
                self.ready_head_secs
                    .unwrap_or(3 * frame_interval_ms / 1000 + 10),
                1,
            )?,
            genesis_seed: self
                .genesis_seed
                .map_or_else(|| DEVNET_SEED.to_vec(), |h| h.0),
            network: self.network.unwrap_or(0),
            difficulty: at_least(
                "difficulty",
                self.difficulty.unwrap_or(frame::DEFAULT_DIFFICULTY),
                1,
            )?,
            frame_interval_ms,
            report_window_secs: self.report_window_secs.unwrap_or(pick(
                devnet,
                DEVNET_REPORT_WINDOW_SECS,
                real_rules.window.as_secs(),
            )),
            min_peer_cores: self
                .min_peer_cores
                .unwrap_or(pick(devnet, 1, real_rules.min_cores)),
            min_peer_memory: self
                .min_peer_memory
                .unwrap_or(pick(devnet, 0, real_rules.min_memory)),
            difficulty_divisor: at_least(
                "difficulty-divisor",
                self.difficulty_divisor
                    .unwrap_or(pick(devnet, DEVNET_DIVISOR, 1)),
                1,
            )?,
            min_increment_ms: self.min_increment_ms.unwrap_or(pick(
                devnet,
                DEVNET_MIN_INCREMENT_MS,
                0,
            )),
            devnet_setup_powers: self
                .devnet_setup_powers
                .unwrap_or(qnode_node::kzg_setup::DEVNET_POWERS),
        };
        resolved.check()?;
        Ok(resolved)
    }
}

impl Resolved {
    /// The rules that span options.
    fn check(&self) -> anyhow::Result<()> {
        if !self.devnet {
            let weakening = [
                ("difficulty-divisor", u64::from(self.difficulty_divisor), 1),
                ("min-increment-ms", self.min_increment_ms, 0),
            ];
            for (field, value, neutral) in weakening {
                if value != neutral {
                    return Err(invalid(
                        field,
                        value,
                        "only a devnet may weaken the protocol this way",
                        &format!("remove it (or set it to {neutral}), or set devnet = true"),
                    ));
                }
            }
        }
        let powers = self.devnet_setup_powers;
        if !powers.is_power_of_two() || !(16..=65_536).contains(&powers) {
            return Err(invalid(
                "devnet-setup-powers",
                powers,
                "a setup needs a power of two from 16 to 65536 powers",
                "use 128 or 1024",
            ));
        }
        for address in &self.worker_addr {
            if !(address.starts_with("http://") || address.starts_with("https://")) {
                return Err(invalid(
                    "worker-addr",
                    format!("{address:?}"),
                    "a worker address is a URL",
                    "write it as http://host:port",
                ));
            }
        }
        for address in &self.bootstrap {
            if let Err(e) = qnode_p2p::bootstrap_peer(address) {
                return Err(invalid(
                    "bootstrap",
                    format!("{:?}", address.to_string()),
                    &e.to_string(),
                    "append /p2p/<peer id> (the peer's `qnode peer-id`)",
                ));
            }
        }
        Ok(())
    }

    /// How readiness is judged.
    pub fn health_rules(&self) -> HealthRules {
        HealthRules {
            workers_window: Duration::from_secs(self.ready_workers_secs),
            head_window: Duration::from_secs(self.ready_head_secs),
            alone_ok: self.devnet,
        }
    }

    /// How peers' reports are judged.
    pub fn report_rules(&self) -> ReportRules {
        ReportRules {
            window: Duration::from_secs(self.report_window_secs),
            min_cores: self.min_peer_cores,
            min_memory: self.min_peer_memory,
        }
    }
}
