//! `qnode run`'s options. Each has one name used three ways: the flag `--NAME`, the
//! environment variable `QNODE_NAME` (upper case, `_` for `-`) and the key `NAME` in
//! `CONFIG_DIR/config.toml`. A flag beats the environment, which beats the file, which
//! beats the built-in default. [`Settings`] holds what was given; [`Settings::resolve`]
//! checks it and fills in the defaults.

pub mod file;
pub mod logging;
mod resolve;
pub mod template;

use clap::builder::{BoolValueParser, TypedValueParser, ValueParserFactory};
use clap::error::{ContextKind, ContextValue};
use clap::Args;
pub use logging::{ByteSize, LogFile, LogFormat};
use qnode_p2p::Multiaddr;
use qnode_protocol::quote::clip;
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

pub use resolve::{Resolved, DEFAULT_WORKER_BASE_PORT};

/// The node's directory: `--config-dir`, else `QNODE_CONFIG_DIR`, else `~/.qnode`.
#[derive(Args, Clone, Debug)]
pub struct ConfigDir {
    /// The node's directory: keys, config.toml, store, KZG setup, status (default
    /// ~/.qnode).
    #[arg(long = "config-dir", env = "QNODE_CONFIG_DIR")]
    dir: Option<PathBuf>,
}

impl ConfigDir {
    /// The directory to use.
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".qnode"))
                .ok_or_else(|| {
                    anyhow::anyhow!("no --config-dir given and no HOME to default to; pass one")
                }),
        }
    }
}

/// A listen address, or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Not served.
    Off,
    /// Served here (port 0: any free port, shown in the log and `qnode status`).
    At(SocketAddr),
}

impl Endpoint {
    /// The address, when on.
    pub fn address(self) -> Option<SocketAddr> {
        match self {
            Endpoint::Off => None,
            Endpoint::At(a) => Some(a),
        }
    }
}

impl FromStr for Endpoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "off" {
            return Ok(Endpoint::Off);
        }
        s.parse().map(Endpoint::At).map_err(|_| {
            format!(
                "{:?} is not an address like 127.0.0.1:8337, nor `off`",
                clip(s)
            )
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Off => f.write_str("off"),
            Endpoint::At(a) => a.fmt(f),
        }
    }
}

/// A flag's or environment variable's value parser whose error quotes the value through
/// [`clip`] (clap's own quotes the whole value, up to the kernel's 128 KiB).
#[derive(Clone)]
pub struct Clipped<P>(P);

/// A clap parser (a bool's), [`Clipped`].
fn clipped<P: TypedValueParser>(parser: P) -> Clipped<P> {
    Clipped(parser)
}

/// The clap parser of a number type, [`Clipped`].
fn number<T>() -> Clipped<T::Parser>
where
    T: ValueParserFactory,
    T::Parser: TypedValueParser,
{
    Clipped(T::value_parser())
}

/// `T`'s `FromStr` as a clap parser.
type FromText<T> = fn(&str) -> Result<T, <T as FromStr>::Err>;

/// A parser through `T`'s `FromStr`, [`Clipped`].
fn text<T>() -> Clipped<FromText<T>>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    Clipped(T::from_str)
}

impl<P: TypedValueParser> TypedValueParser for Clipped<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        self.0.parse_ref(cmd, arg, value).map_err(|mut e| {
            if value.len() > qnode_protocol::quote::MAX_QUOTED {
                let quoted = clip(&value.to_string_lossy()).into_owned();
                e.insert(ContextKind::InvalidValue, ContextValue::String(quoted));
            }
            e
        })
    }
}

/// Reads a value the way its flag does (from a string), so the file accepts exactly what
/// the command line accepts.
fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = String::deserialize(d)?;
    text.parse()
        .map(Some)
        .map_err(|e: T::Err| serde::de::Error::custom(clip(&e.to_string())))
}

fn parsed_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|text| {
            text.parse().map_err(|e: T::Err| {
                let problem = e.to_string();
                serde::de::Error::custom(format!("{:?}: {}", clip(text), clip(&problem)))
            })
        })
        .collect()
}

/// What was given for each option (by flag, environment or file); `None` or empty means
/// "not given". Doc comments are the flags' help and the config template's comments.
#[derive(Args, Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// A local development network: a KZG setup is generated when none exists, every
    /// difficulty is divided (difficulty-divisor), increments are paced
    /// (min-increment-ms) and peers' reports are judged leniently. qnode cannot join the
    /// Quilibrium mainnet (it does not speak the original's network protocols yet, and
    /// mainnet's KZG setup and genesis are not embedded), so without this a node needs CONFIG_DIR/kzg-setup.pot from a
    /// ceremony you ran (`qnode ceremony`).
    #[arg(long, env = "QNODE_DEVNET", value_parser = clipped(BoolValueParser::new()),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub devnet: Option<bool>,
    /// Local data-worker processes, 1 to 1024 (default: one per core but one, at least
    /// 1).
    #[arg(long, env = "QNODE_WORKERS", value_parser = number::<u32>())]
    pub workers: Option<u32>,
    /// Local worker i listens on 127.0.0.1:(worker-base-port + i); 1 to 65535, and the
    /// last worker's port must fit too. The default, 28000, is below Linux's ephemeral
    /// port range (32768–60999), from which outgoing connections take their ports.
    #[arg(long, env = "QNODE_WORKER_BASE_PORT", value_parser = number::<u16>())]
    pub worker_base_port: Option<u16>,
    /// Use these running workers (http://host:port) instead of spawning local ones;
    /// repeat the flag, or separate them with commas in the environment.
    #[arg(long, env = "QNODE_WORKER_ADDR", value_delimiter = ',')]
    #[serde(default)]
    pub worker_addr: Vec<String>,
    /// Seconds before a worker call counts as hung and the worker is restarted, 1 to
    /// 86400.
    #[arg(long, env = "QNODE_WORKER_TIMEOUT_SECS", value_parser = number::<u64>())]
    pub worker_timeout_secs: Option<u64>,
    /// Listen addresses (TCP and QUIC multiaddrs); repeat the flag, or separate them
    /// with commas in the environment.
    #[arg(long, env = "QNODE_LISTEN", value_delimiter = ',', value_parser = text::<Multiaddr>())]
    #[serde(default, deserialize_with = "parsed_list")]
    pub listen: Vec<Multiaddr>,
    /// Peers to join through, `/ip4/…/tcp/…/p2p/<peer id>`; repeat the flag, or separate
    /// them with commas in the environment.
    #[arg(long, env = "QNODE_BOOTSTRAP", value_delimiter = ',', value_parser = text::<Multiaddr>())]
    #[serde(default, deserialize_with = "parsed_list")]
    pub bootstrap: Vec<Multiaddr>,
    /// Serve the dashboard, /metrics, /healthz, /readyz and /api/status here, or `off`.
    /// Port 0 takes any free port (shown by `qnode status` and in the log). Keep it on
    /// 127.0.0.1 unless you mean to expose it.
    #[arg(long, env = "QNODE_HTTP_LISTEN", value_parser = text::<Endpoint>())]
    #[serde(default, deserialize_with = "parsed")]
    pub http_listen: Option<Endpoint>,
    /// Serve the node API (gRPC NodeService, for `qnode node-info`, `peers`, `frames`)
    /// here, or `off`. Port 0 takes any free port. Keep it on 127.0.0.1 unless you mean
    /// to expose it.
    #[arg(long, env = "QNODE_GRPC_LISTEN", value_parser = text::<Endpoint>())]
    #[serde(default, deserialize_with = "parsed")]
    pub grpc_listen: Option<Endpoint>,
    /// Not ready when some data worker has not answered for this many seconds, 1 to
    /// 86400.
    #[arg(long, env = "QNODE_READY_WORKERS_SECS", value_parser = number::<u64>())]
    pub ready_workers_secs: Option<u64>,
    /// Not ready when the master clock has not moved for this many seconds, 1 to 86400
    /// (default: three frame intervals plus 10).
    #[arg(long, env = "QNODE_READY_HEAD_SECS", value_parser = number::<u64>())]
    pub ready_head_secs: Option<u64>,
    /// Not ready, and a warning, when less than this is free on the store's file system:
    /// bytes, or with a unit (KiB, MiB, GiB), up to 1024GiB; 0 never (default: 1GiB, on
    /// a devnet 64MiB).
    #[arg(long, env = "QNODE_MIN_FREE_SPACE", value_parser = text::<ByteSize>())]
    #[serde(default, deserialize_with = "parsed")]
    pub min_free_space: Option<ByteSize>,
    /// Genesis seed, hex.
    #[arg(long, env = "QNODE_GENESIS_SEED", value_parser = text::<Hex>())]
    #[serde(default, deserialize_with = "parsed")]
    pub genesis_seed: Option<Hex>,
    /// Network id, 0 to 255: it is in the gossip topics and the protocol names, so nodes
    /// of different networks share nothing, and anything but 0 prefixes the genesis seed
    /// with that byte.
    #[arg(long, env = "QNODE_NETWORK", value_parser = number::<u8>())]
    pub network: Option<u8>,
    /// Master clock difficulty (before any devnet divisor), 1 to 100000000.
    #[arg(long, env = "QNODE_DIFFICULTY", value_parser = number::<u32>())]
    pub difficulty: Option<u32>,
    /// Milliseconds without a new master frame before the node proves one itself, 100 to
    /// 3600000 (an hour).
    #[arg(long, env = "QNODE_FRAME_INTERVAL_MS", value_parser = number::<u64>())]
    pub frame_interval_ms: Option<u64>,
    /// Ignore a peer's reports for this many seconds after its last accepted one, 0 to
    /// 86400.
    #[arg(long, env = "QNODE_REPORT_WINDOW_SECS", value_parser = number::<u64>())]
    pub report_window_secs: Option<u64>,
    /// Peers reporting fewer cores are penalised; 0 to 65536.
    #[arg(long, env = "QNODE_MIN_PEER_CORES", value_parser = number::<u32>())]
    pub min_peer_cores: Option<u32>,
    /// Peers reporting less memory (bytes) are penalised; 0 to 1125899906842624 (1 PiB).
    #[arg(long, env = "QNODE_MIN_PEER_MEMORY", value_parser = number::<u64>())]
    pub min_peer_memory: Option<u64>,
    /// Divide every VDF difficulty by this, 1 to 1000000 (devnet only).
    #[arg(long, env = "QNODE_DIFFICULTY_DIVISOR", value_parser = number::<u32>())]
    pub difficulty_divisor: Option<u32>,
    /// Each increment takes at least this many milliseconds, 0 to 3600000 (an hour), so
    /// devnet nodes on one machine share it (devnet only).
    #[arg(long, env = "QNODE_MIN_INCREMENT_MS", value_parser = number::<u64>())]
    pub min_increment_ms: Option<u64>,
    /// The next master frame is proved no sooner than this many milliseconds after the
    /// head arrived, whoever proved it, 0 to 3600000 (an hour): at devnet difficulty a
    /// frame costs microseconds, so the clock is paced to about one frame a second by
    /// default (devnet only).
    #[arg(long, env = "QNODE_MIN_FRAME_INTERVAL_MS", value_parser = number::<u64>())]
    pub min_frame_interval_ms: Option<u64>,
    /// Powers of a generated devnet KZG setup, 16, 128 or 1024: 1024 serves any
    /// parallelism, 128 up to 128 workers (devnet only).
    #[arg(long, env = "QNODE_DEVNET_SETUP_POWERS", value_parser = text::<usize>())]
    pub devnet_setup_powers: Option<usize>,
    /// Log lines as `text`, or `json`: one object a line with timestamp, level, target,
    /// message and the event's fields. On stderr and in log-file alike. `QNODE_LOG`
    /// chooses what is logged (e.g. `debug`, or `info,qnode_p2p=debug`).
    #[arg(long, env = "QNODE_LOG_FORMAT", value_parser = text::<LogFormat>())]
    #[serde(default, deserialize_with = "parsed")]
    pub log_format: Option<LogFormat>,
    /// Log to this file as well as stderr, or `off`. A relative path is taken within the
    /// config directory. Rotated by size (log-file-max-size, log-file-max-files).
    #[arg(long, env = "QNODE_LOG_FILE", value_parser = text::<LogFile>())]
    #[serde(default, deserialize_with = "parsed")]
    pub log_file: Option<LogFile>,
    /// Start a new log file once it reaches this size: bytes, or with a unit (KiB, MiB,
    /// GiB), 1KiB to 1024GiB.
    #[arg(long, env = "QNODE_LOG_FILE_MAX_SIZE", value_parser = text::<ByteSize>())]
    #[serde(default, deserialize_with = "parsed")]
    pub log_file_max_size: Option<ByteSize>,
    /// Log files kept, the one being written included, 2 to 1000; the oldest goes.
    #[arg(long, env = "QNODE_LOG_FILE_MAX_FILES", value_parser = number::<u32>())]
    pub log_file_max_files: Option<u32>,
}

impl Settings {
    /// These settings where given, `fallback`'s elsewhere.
    pub fn or(self, fallback: Settings) -> Settings {
        fn list<T>(mine: Vec<T>, theirs: Vec<T>) -> Vec<T> {
            if mine.is_empty() {
                theirs
            } else {
                mine
            }
        }
        Settings {
            devnet: self.devnet.or(fallback.devnet),
            workers: self.workers.or(fallback.workers),
            worker_base_port: self.worker_base_port.or(fallback.worker_base_port),
            worker_addr: list(self.worker_addr, fallback.worker_addr),
            worker_timeout_secs: self.worker_timeout_secs.or(fallback.worker_timeout_secs),
            listen: list(self.listen, fallback.listen),
            bootstrap: list(self.bootstrap, fallback.bootstrap),
            http_listen: self.http_listen.or(fallback.http_listen),
            grpc_listen: self.grpc_listen.or(fallback.grpc_listen),
            ready_workers_secs: self.ready_workers_secs.or(fallback.ready_workers_secs),
            ready_head_secs: self.ready_head_secs.or(fallback.ready_head_secs),
            min_free_space: self.min_free_space.or(fallback.min_free_space),
            genesis_seed: self.genesis_seed.or(fallback.genesis_seed),
            network: self.network.or(fallback.network),
            difficulty: self.difficulty.or(fallback.difficulty),
            frame_interval_ms: self.frame_interval_ms.or(fallback.frame_interval_ms),
            report_window_secs: self.report_window_secs.or(fallback.report_window_secs),
            min_peer_cores: self.min_peer_cores.or(fallback.min_peer_cores),
            min_peer_memory: self.min_peer_memory.or(fallback.min_peer_memory),
            difficulty_divisor: self.difficulty_divisor.or(fallback.difficulty_divisor),
            min_increment_ms: self.min_increment_ms.or(fallback.min_increment_ms),
            min_frame_interval_ms: self
                .min_frame_interval_ms
                .or(fallback.min_frame_interval_ms),
            devnet_setup_powers: self.devnet_setup_powers.or(fallback.devnet_setup_powers),
            log_format: self.log_format.or(fallback.log_format),
            log_file: self.log_file.or(fallback.log_file),
            log_file_max_size: self.log_file_max_size.or(fallback.log_file_max_size),
            log_file_max_files: self.log_file_max_files.or(fallback.log_file_max_files),
        }
    }
}

/// Bytes given as hex on the command line (`0x` prefix allowed); bad hex is a usage error.
#[derive(Clone, Debug)]
pub struct Hex(pub Vec<u8>);

impl FromStr for Hex {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("0x").unwrap_or(s);
        hex::decode(s).map(Hex).map_err(|e| format!("not hex: {e}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn refused(args: &[&str]) -> String {
        let all = std::iter::once("qnode").chain(args.iter().copied());
        Cli::try_parse_from(all).unwrap_err().to_string()
    }

    #[test]
    fn a_long_bad_flag_value_is_quoted_at_most_200_bytes() {
        let long = "9x".repeat(50_000);
        for flag in ["--workers", "--http-listen", "--listen", "--genesis-seed"] {
            let error = refused(&[flag, &long]);
            assert!(error.len() < 1_000, "{flag}: {} bytes", error.len());
            assert!(
                error.contains(&format!(
                    "invalid value '{}… (100000 bytes)' for '{flag} <",
                    "9x".repeat(100)
                )),
                "{error}"
            );
        }
        // Short values keep clap's own message.
        let error = refused(&["--workers", "two"]);
        assert!(
            error.contains("invalid value 'two' for '--workers <WORKERS>'"),
            "{error}"
        );
        let parsed = Cli::try_parse_from(["qnode", "--workers", "3", "--devnet"]).unwrap();
        assert_eq!(parsed.settings.workers, Some(3));
        assert_eq!(parsed.settings.devnet, Some(true));
    }
}
