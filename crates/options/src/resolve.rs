//! Checks the given settings and fills in the defaults (some differ on a devnet).

use super::{ByteSize, Endpoint, LogFile, LogFormat, Settings};
use qnode_operator::health::HealthRules;
use qnode_p2p::Multiaddr;
use qnode_protocol::frame;
use qnode_protocol::quote::clip;
use qnode_services::challenge_proof_verifier::ReportRules;
use serde::{Serialize, Serializer};
use std::fmt::Display;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The genesis seed of a devnet (mainnet's seed is not embedded).
const DEVNET_SEED: &[u8] = b"qnode devnet";
const DEVNET_DIVISOR: u32 = 10_000;
/// Two increments a second at most, so devnet nodes on one machine share it.
const DEVNET_MIN_INCREMENT_MS: u64 = 500;
/// One master frame a second at most: at devnet difficulty a frame costs microseconds.
const DEVNET_MIN_FRAME_INTERVAL_MS: u64 = 1_000;
/// The original waits 270 s between a peer's reports; a devnet wants answers sooner.
const DEVNET_REPORT_WINDOW_SECS: u64 = 3;
const DEFAULT_LISTEN: [&str; 2] = ["/ip4/0.0.0.0/tcp/8336", "/ip4/0.0.0.0/udp/8336/quic-v1"];
/// Local worker i listens on this + i by default: below Linux's ephemeral port range
/// (32768–60999), where the system picks the local ports of outgoing connections, so a
/// worker never finds its port taken by one; with [`MAX_WORKERS`] workers the last port is
/// 29023, clear of the node's own 8336–8338.
pub const DEFAULT_WORKER_BASE_PORT: u16 = 28_000;

// The ranges of the numeric options (each option's help states its own).
/// Local data workers, and remote worker addresses, at most.
pub const MAX_WORKERS: u32 = 1024;
/// A day: the most any `*-secs` option may be.
pub const MAX_SECS: u64 = 86_400;
/// An hour: the most `frame-interval-ms`, `min-frame-interval-ms` and `min-increment-ms`
/// may be.
pub const MAX_MS: u64 = 3_600_000;
/// The least `frame-interval-ms` may be.
pub const MIN_FRAME_INTERVAL_MS: u64 = 100;
/// A thousand times the default master clock difficulty.
pub const MAX_DIFFICULTY: u32 = 100_000_000;
/// Five times the first challenge difficulty (200000): every proof is then 1 squaring.
pub const MAX_DIFFICULTY_DIVISOR: u32 = 1_000_000;
/// The most cores a peer may be asked to report.
pub const MAX_MIN_PEER_CORES: u32 = 65_536;
/// The most memory a peer may be asked to report: 1 PiB.
pub const MAX_MIN_PEER_MEMORY: u64 = 1 << 50;

/// The most log files `log-file-max-files` may keep.
pub const MAX_LOG_FILES: u32 = 1000;

/// Every option with its value, checked.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Resolved {
    /// A local devnet: divided difficulties, a generated setup, relaxed pace.
    pub devnet: bool,
    /// How many local data workers to start.
    pub workers: u32,
    /// The first local worker's port (one more per core).
    pub worker_base_port: u16,
    /// Running workers to use instead of local ones (`http://host:port`).
    pub worker_addr: Vec<String>,
    /// A worker call slower than this counts as hung.
    pub worker_timeout_secs: u64,
    /// The P2P listen addresses.
    #[serde(serialize_with = "display_list")]
    pub listen: Vec<Multiaddr>,
    /// The peers to join through (`…/p2p/<peer id>`).
    #[serde(serialize_with = "display_list")]
    pub bootstrap: Vec<Multiaddr>,
    /// Where HTTP (dashboard, metrics, health) listens, or off.
    #[serde(serialize_with = "display")]
    pub http_listen: Endpoint,
    /// Where the node API (gRPC) listens, or off.
    #[serde(serialize_with = "display")]
    pub grpc_listen: Endpoint,
    /// Not ready when the workers have not answered for this long.
    pub ready_workers_secs: u64,
    /// Not ready when the head has not moved for this long (with peers).
    pub ready_head_secs: u64,
    /// Not ready when the store's disk has less free space than this.
    #[serde(serialize_with = "display")]
    pub min_free_space: ByteSize,
    /// The genesis seed, before the network byte.
    #[serde(serialize_with = "as_hex")]
    pub genesis_seed: Vec<u8>,
    /// The network id (0 is mainnet).
    pub network: u8,
    /// The master clock difficulty, before any devnet divisor.
    pub difficulty: u32,
    /// How long the master prover waits for a new head before it proves.
    pub frame_interval_ms: u64,
    /// How often each peer's report is verified.
    pub report_window_secs: u64,
    /// Fewer cores than this in a peer's report is an offence.
    pub min_peer_cores: u32,
    /// Less memory than this in a peer's report is an offence.
    pub min_peer_memory: u64,
    /// The devnet divisor of every difficulty.
    pub difficulty_divisor: u32,
    /// The shortest time an increment may take (devnet).
    pub min_increment_ms: u64,
    /// The shortest time between two frames this node proves (devnet).
    pub min_frame_interval_ms: u64,
    /// The powers of a devnet's generated KZG setup.
    pub devnet_setup_powers: usize,
    /// The log's format on stderr and in the log file.
    #[serde(serialize_with = "display")]
    pub log_format: LogFormat,
    /// Where the log file is written, or off.
    #[serde(serialize_with = "display")]
    pub log_file: LogFile,
    /// A log file is rolled at this size.
    #[serde(serialize_with = "display")]
    pub log_file_max_size: ByteSize,
    /// How many rolled log files are kept.
    pub log_file_max_files: u32,
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

/// An option's value is wrong: names the option everywhere it can be set. A `value` from
/// text is quoted through [`clip`].
fn invalid(field: &str, value: impl Display, problem: &str, fix: &str) -> anyhow::Error {
    let env = field.to_uppercase().replace('-', "_");
    anyhow::anyhow!(
        "`{field}` = {value}: {problem}.\n  fix: {fix} (it is set by --{field}, QNODE_{env} \
         or `{field}` in config.toml)"
    )
}

/// `value` when it lies in `min..=max`; else an error naming the bound it crosses.
fn within<T: PartialOrd + Display + Copy>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> anyhow::Result<T> {
    if value < min {
        return Err(invalid(
            field,
            value,
            &format!("must be at least {min}"),
            &format!("use {min} to {max}, or remove it for the default"),
        ));
    }
    if value > max {
        return Err(invalid(
            field,
            value,
            &format!("must be at most {max}"),
            &format!("use {min} to {max}, or remove it for the default"),
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
        let frame_interval_ms = within(
            "frame-interval-ms",
            self.frame_interval_ms.unwrap_or(20_000),
            MIN_FRAME_INTERVAL_MS,
            MAX_MS,
        )?;
        let rules = self.devnet_rules(devnet)?;
        let ready = self.readiness(devnet, frame_interval_ms)?;
        let logs = self.log_file_limits()?;
        let resolved = Resolved {
            devnet,
            workers: within(
                "workers",
                self.workers
                    .unwrap_or(cores.saturating_sub(1).clamp(1, MAX_WORKERS)),
                1,
                MAX_WORKERS,
            )?,
            worker_base_port: self.worker_base_port.unwrap_or(DEFAULT_WORKER_BASE_PORT),
            worker_addr: self.worker_addr,
            worker_timeout_secs: within(
                "worker-timeout-secs",
                self.worker_timeout_secs.unwrap_or(600),
                1,
                MAX_SECS,
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
            ready_workers_secs: ready.ready_workers_secs,
            ready_head_secs: ready.ready_head_secs,
            min_free_space: ready.min_free_space,
            genesis_seed: self
                .genesis_seed
                .map_or_else(|| DEVNET_SEED.to_vec(), |h| h.0),
            network: self.network.unwrap_or(0),
            difficulty: within(
                "difficulty",
                self.difficulty.unwrap_or(frame::DEFAULT_DIFFICULTY),
                1,
                MAX_DIFFICULTY,
            )?,
            frame_interval_ms,
            report_window_secs: rules.report_window_secs,
            min_peer_cores: rules.min_peer_cores,
            min_peer_memory: rules.min_peer_memory,
            difficulty_divisor: rules.difficulty_divisor,
            min_increment_ms: rules.min_increment_ms,
            min_frame_interval_ms: rules.min_frame_interval_ms,
            devnet_setup_powers: self
                .devnet_setup_powers
                .unwrap_or(qnode_prover::kzg_setup::DEVNET_POWERS),
            log_format: self.log_format.unwrap_or_default(),
            log_file: self.log_file.unwrap_or_default(),
            log_file_max_size: logs.0,
            log_file_max_files: logs.1,
        };
        resolved.check()?;
        Ok(resolved)
    }

    /// The rules a devnet may weaken (`Resolved::check` refuses them elsewhere).
    fn devnet_rules(&self, devnet: bool) -> anyhow::Result<DevnetRules> {
        let real_rules = ReportRules::default();
        Ok(DevnetRules {
            report_window_secs: within(
                "report-window-secs",
                self.report_window_secs.unwrap_or(pick(
                    devnet,
                    DEVNET_REPORT_WINDOW_SECS,
                    real_rules.window.as_secs(),
                )),
                0,
                MAX_SECS,
            )?,
            min_peer_cores: within(
                "min-peer-cores",
                self.min_peer_cores
                    .unwrap_or(pick(devnet, 1, real_rules.min_cores)),
                0,
                MAX_MIN_PEER_CORES,
            )?,
            min_peer_memory: within(
                "min-peer-memory",
                self.min_peer_memory
                    .unwrap_or(pick(devnet, 0, real_rules.min_memory)),
                0,
                MAX_MIN_PEER_MEMORY,
            )?,
            difficulty_divisor: within(
                "difficulty-divisor",
                self.difficulty_divisor
                    .unwrap_or(pick(devnet, DEVNET_DIVISOR, 1)),
                1,
                MAX_DIFFICULTY_DIVISOR,
            )?,
            min_increment_ms: within(
                "min-increment-ms",
                self.min_increment_ms
                    .unwrap_or(pick(devnet, DEVNET_MIN_INCREMENT_MS, 0)),
                0,
                MAX_MS,
            )?,
            min_frame_interval_ms: within(
                "min-frame-interval-ms",
                self.min_frame_interval_ms
                    .unwrap_or(pick(devnet, DEVNET_MIN_FRAME_INTERVAL_MS, 0)),
                0,
                MAX_MS,
            )?,
        })
    }

    /// When the node counts as ready, and the free space it wants under its store.
    fn readiness(&self, devnet: bool, frame_interval_ms: u64) -> anyhow::Result<Readiness> {
        Ok(Readiness {
            ready_workers_secs: within(
                "ready-workers-secs",
                self.ready_workers_secs.unwrap_or(pick(devnet, 10, 300)),
                1,
                MAX_SECS,
            )?,
            ready_head_secs: within(
                "ready-head-secs",
                self.ready_head_secs
                    .unwrap_or(3 * frame_interval_ms / 1000 + 10),
                1,
                MAX_SECS,
            )?,
            min_free_space: within(
                "min-free-space",
                self.min_free_space
                    .unwrap_or(ByteSize(pick(devnet, 64 << 20, 1 << 30))),
                ByteSize(0),
                ByteSize(1 << 40),
            )?,
        })
    }

    /// The log file's size and count limits.
    fn log_file_limits(&self) -> anyhow::Result<(ByteSize, u32)> {
        Ok((
            within(
                "log-file-max-size",
                self.log_file_max_size.unwrap_or(ByteSize(100 << 20)),
                ByteSize(1 << 10),
                ByteSize(1 << 40),
            )?,
            within(
                "log-file-max-files",
                self.log_file_max_files.unwrap_or(5),
                2,
                MAX_LOG_FILES,
            )?,
        ))
    }
}

/// [`Settings::devnet_rules`]' part of [`Resolved`].
struct DevnetRules {
    report_window_secs: u64,
    min_peer_cores: u32,
    min_peer_memory: u64,
    difficulty_divisor: u32,
    min_increment_ms: u64,
    min_frame_interval_ms: u64,
}

/// [`Settings::readiness`]' part of [`Resolved`].
struct Readiness {
    ready_workers_secs: u64,
    ready_head_secs: u64,
    min_free_space: ByteSize,
}

impl Resolved {
    /// The rules that span options.
    fn check(&self) -> anyhow::Result<()> {
        if !self.devnet {
            let weakening = [
                ("difficulty-divisor", u64::from(self.difficulty_divisor), 1),
                ("min-increment-ms", self.min_increment_ms, 0),
                ("min-frame-interval-ms", self.min_frame_interval_ms, 0),
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
        if !qnode_kzg::SIZES.contains(&powers) {
            return Err(invalid(
                "devnet-setup-powers",
                powers,
                "a KZG setup has 16, 128 or 1024 powers (the only roots-of-unity domains)",
                "use 16, 128 or 1024",
            ));
        }
        self.check_workers()?;
        for address in &self.bootstrap {
            if let Err(e) = qnode_p2p::bootstrap_peer(address) {
                return Err(invalid(
                    "bootstrap",
                    format!("{:?}", clip(&address.to_string())),
                    &clip(&e.to_string()),
                    "append /p2p/<peer id> (the peer's `qnode peer-id`)",
                ));
            }
        }
        Ok(())
    }

    /// The worker ports and addresses.
    fn check_workers(&self) -> anyhow::Result<()> {
        if self.worker_base_port == 0 {
            return Err(invalid(
                "worker-base-port",
                0,
                "port 0 is no port a worker can be found at",
                &format!("use a port from 1 to 65535, e.g. {DEFAULT_WORKER_BASE_PORT}"),
            ));
        }
        // Local workers listen on base..=base + workers - 1.
        let last_port = u32::from(self.worker_base_port) + self.workers - 1;
        if self.worker_addr.is_empty() && last_port > u32::from(u16::MAX) {
            return Err(invalid(
                "worker-base-port",
                self.worker_base_port,
                &format!(
                    "{} local workers would need ports up to {last_port}, past 65535",
                    self.workers
                ),
                &format!(
                    "use a base port of at most {}, or fewer workers",
                    u32::from(u16::MAX) + 1 - self.workers
                ),
            ));
        }
        if self.worker_addr.len() > MAX_WORKERS as usize {
            return Err(invalid(
                "worker-addr",
                format!("{} addresses", self.worker_addr.len()),
                &format!("at most {MAX_WORKERS} workers are used"),
                &format!("give at most {MAX_WORKERS} worker addresses"),
            ));
        }
        for address in &self.worker_addr {
            if !(address.starts_with("http://") || address.starts_with("https://")) {
                return Err(invalid(
                    "worker-addr",
                    format!("{:?}", clip(address)),
                    "a worker address is a URL",
                    "write it as http://host:port",
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
            min_free_bytes: self.min_free_space.0,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn devnet() -> Settings {
        Settings {
            devnet: Some(true),
            ..Settings::default()
        }
    }

    fn refused(settings: Settings) -> String {
        settings.resolve().map(|_| ()).unwrap_err().to_string()
    }

    type Set = fn(&mut Settings, u64);

    /// Every bounded number: its name, least and most, and how to set it.
    const BOUNDED: [(&str, u64, u64, Set); 12] = [
        ("workers", 1, MAX_WORKERS as u64, |s, v| {
            s.workers = Some(u32::try_from(v).unwrap())
        }),
        ("worker-timeout-secs", 1, MAX_SECS, |s, v| {
            s.worker_timeout_secs = Some(v)
        }),
        ("ready-workers-secs", 1, MAX_SECS, |s, v| {
            s.ready_workers_secs = Some(v)
        }),
        ("ready-head-secs", 1, MAX_SECS, |s, v| {
            s.ready_head_secs = Some(v)
        }),
        ("difficulty", 1, MAX_DIFFICULTY as u64, |s, v| {
            s.difficulty = Some(u32::try_from(v).unwrap())
        }),
        (
            "frame-interval-ms",
            MIN_FRAME_INTERVAL_MS,
            MAX_MS,
            |s, v| s.frame_interval_ms = Some(v),
        ),
        ("report-window-secs", 0, MAX_SECS, |s, v| {
            s.report_window_secs = Some(v)
        }),
        ("min-peer-cores", 0, MAX_MIN_PEER_CORES as u64, |s, v| {
            s.min_peer_cores = Some(u32::try_from(v).unwrap())
        }),
        ("min-peer-memory", 0, MAX_MIN_PEER_MEMORY, |s, v| {
            s.min_peer_memory = Some(v)
        }),
        (
            "difficulty-divisor",
            1,
            MAX_DIFFICULTY_DIVISOR as u64,
            |s, v| s.difficulty_divisor = Some(u32::try_from(v).unwrap()),
        ),
        ("min-increment-ms", 0, MAX_MS, |s, v| {
            s.min_increment_ms = Some(v)
        }),
        ("min-frame-interval-ms", 0, MAX_MS, |s, v| {
            s.min_frame_interval_ms = Some(v)
        }),
    ];

    #[test]
    fn every_bounded_number_is_accepted_at_its_ends_and_refused_past_them() {
        for (field, min, max, set) in BOUNDED {
            for ok in [min, max] {
                let mut settings = devnet();
                set(&mut settings, ok);
                let resolved = settings.resolve();
                assert!(resolved.is_ok(), "{field} = {ok}: {resolved:?}");
                let table = toml::Table::try_from(resolved.unwrap()).unwrap();
                assert_eq!(table[field].as_integer(), i64::try_from(ok).ok(), "{field}");
            }
            let mut settings = devnet();
            set(&mut settings, max + 1);
            let error = refused(settings);
            assert!(
                error.starts_with(&format!("`{field}` = {}: must be at most {max}", max + 1)),
                "{error}"
            );
            assert!(error.contains(&format!("use {min} to {max}")), "{error}");
            if min > 0 {
                let mut settings = devnet();
                set(&mut settings, min - 1);
                let error = refused(settings);
                assert!(
                    error.starts_with(&format!("`{field}` = {}: must be at least {min}", min - 1)),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn min_increment_ms_of_u64_max_is_refused() {
        let error = refused(Settings {
            min_increment_ms: Some(u64::MAX),
            ..devnet()
        });
        assert!(
            error.starts_with("`min-increment-ms` = 18446744073709551615: must be at most 3600000"),
            "{error}"
        );
        assert!(error.contains("QNODE_MIN_INCREMENT_MS"), "{error}");
    }

    #[test]
    fn a_devnet_setup_has_16_128_or_1024_powers() {
        for powers in [16, 128, 1024] {
            let resolved = Settings {
                devnet_setup_powers: Some(powers),
                ..devnet()
            }
            .resolve()
            .unwrap();
            assert_eq!(resolved.devnet_setup_powers, powers);
        }
        for powers in [0, 32, 2048, 65_536] {
            let error = refused(Settings {
                devnet_setup_powers: Some(powers),
                ..devnet()
            });
            assert!(
                error.starts_with(&format!(
                    "`devnet-setup-powers` = {powers}: a KZG setup has"
                )),
                "{error}"
            );
            assert!(error.contains("use 16, 128 or 1024"), "{error}");
        }
    }

    #[test]
    fn worker_ports_are_non_zero_and_fit_below_65536() {
        let with = |base: u16, workers: u32| Settings {
            worker_base_port: Some(base),
            workers: Some(workers),
            ..devnet()
        };
        let error = refused(with(0, 1));
        assert!(
            error.starts_with("`worker-base-port` = 0: port 0 is no port"),
            "{error}"
        );
        assert_eq!(with(1, 1).resolve().unwrap().worker_base_port, 1);
        assert_eq!(with(65_535, 1).resolve().unwrap().worker_base_port, 65_535);
        // 1024 workers from 64512 end at 65535 exactly; one port higher does not fit.
        assert!(with(64_512, MAX_WORKERS).resolve().is_ok());
        let error = refused(with(64_513, MAX_WORKERS));
        assert!(
            error.contains("1024 local workers would need ports up to 65536, past 65535"),
            "{error}"
        );
        assert!(error.contains("at most 64512, or fewer workers"), "{error}");
        let error = refused(with(65_535, 2));
        assert!(error.starts_with("`worker-base-port` = 65535"), "{error}");
        // Remote workers use no local port: only a zero base is refused.
        let remote = |base| Settings {
            worker_addr: vec!["http://127.0.0.1:9".into()],
            ..with(base, 2)
        };
        assert!(remote(65_535).resolve().is_ok());
        assert!(refused(remote(0)).starts_with("`worker-base-port` = 0"));
    }

    #[test]
    fn the_default_worker_ports_are_outside_the_ephemeral_range() {
        let ephemeral = 32_768..=60_999;
        for devnet in [true, false] {
            let resolved = Settings {
                devnet: Some(devnet),
                workers: Some(MAX_WORKERS),
                ..Settings::default()
            }
            .resolve()
            .unwrap();
            let first = u32::from(resolved.worker_base_port);
            let last = first + MAX_WORKERS - 1;
            assert_eq!(first, 28_000);
            assert!(!ephemeral.contains(&first) && !ephemeral.contains(&last));
            assert!(last < *ephemeral.start());
            // Nor do they meet the node's own default ports (p2p, node API, dashboard).
            for port in [
                8336,
                super::super::template::API_PORT,
                super::super::template::HTTP_PORT,
            ] {
                assert!(!(first..=last).contains(&u32::from(port)));
            }
        }
    }

    #[test]
    fn too_many_worker_addresses_are_refused() {
        let addresses = |n: usize| Settings {
            worker_addr: (0..n)
                .map(|i| format!("http://10.0.0.1:{}", 1000 + i))
                .collect(),
            ..devnet()
        };
        assert!(addresses(MAX_WORKERS as usize).resolve().is_ok());
        let error = refused(addresses(MAX_WORKERS as usize + 1));
        assert!(
            error.starts_with("`worker-addr` = 1025 addresses"),
            "{error}"
        );
    }

    #[test]
    fn a_long_worker_address_is_quoted_clipped() {
        let long = "x".repeat(1_000_000);
        let error = refused(Settings {
            worker_addr: vec![long],
            ..devnet()
        });
        assert!(error.len() < 600, "{} bytes", error.len());
        assert!(error.contains("… (1000000 bytes)"), "{error}");
    }
}
