//! `qnode devnet`: a local network of qnode processes on 127.0.0.1 — one shared devnet
//! KZG setup, node 0 as everyone's bootstrap peer — with a live table of every node until
//! Ctrl-C, which stops them all.

use super::run::{runtime, watch_shutdown_signals};
use anyhow::{bail, Context, Result};
use clap::Args;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use qnode_operator::status::{self, Status};
use qnode_protocol::clock::now_ms;
use qnode_prover::kzg_setup::{self, SETUP_FILE};
use qnode_sim::pace::{self, Pace};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct DevnetArgs {
    /// How many nodes.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=50))]
    nodes: u16,
    /// Each node's data goes to DIR/node-I (kept between runs: a restart resumes).
    #[arg(long, default_value = "devnet-data")]
    dir: PathBuf,
    /// Node I listens on 127.0.0.1:(base + I), TCP (and QUIC for Ed25519 nodes); its
    /// dashboard on base + 100 + I and its node API on base + 200 + I.
    #[arg(long, default_value_t = 18_336)]
    base_port: u16,
    /// Node I's workers listen from 127.0.0.1:(worker base + 100·I). The default keeps
    /// every worker of the largest devnet (50 nodes of 100 workers) below Linux's ephemeral
    /// port range (32768–60999) and clear of `qnode run`'s own default (28000 on).
    #[arg(long, default_value_t = 20_000)]
    worker_base_port: u16,
    /// Data workers per node.
    #[arg(long, default_value_t = 1)]
    workers: u32,
    /// Milliseconds without a new head before a node proves the next master frame.
    #[arg(long, default_value_t = 2_000)]
    frame_interval_ms: u64,
    /// Each node's `--min-frame-interval-ms`. Left out, this and the next two are chosen
    /// to fit this many nodes on this machine, from a dozen timed prime searches.
    #[arg(long)]
    min_frame_interval_ms: Option<u64>,
    /// Each node's `--report-window-secs` (measured if left out).
    #[arg(long)]
    report_window_secs: Option<u64>,
    /// Each node's `--min-increment-ms` (measured if left out).
    #[arg(long)]
    min_increment_ms: Option<u64>,
    /// The devnet's network id: it is in the genesis, the gossip topics and the protocol
    /// names, so devnets of different ids that meet share nothing.
    #[arg(long, default_value_t = 0)]
    network: u8,
    /// Every node also joins through this peer (`/ip4/…/tcp/…/p2p/<peer id>`), for
    /// example another devnet's node 0; repeat the flag for more.
    #[arg(long)]
    bootstrap: Vec<qnode_p2p::Multiaddr>,
    /// The identity of nodes created now (nodes that have a key keep it): Ed448 as the
    /// original node's, or Ed25519.
    #[arg(long, value_enum, default_value_t)]
    key_type: super::KeyTypeArg,
}

/// Powers of the shared setup: enough for up to 128 workers per node.
const SETUP_POWERS: usize = 128;
const STOP_GRACE: Duration = Duration::from_secs(10);
/// Larger devnets start one node per `STAGGER`.
const STAGGER_ABOVE: usize = 3;
const STAGGER: Duration = Duration::from_secs(1);
/// Node I's workers start at the worker base port + this·I.
const WORKER_PORT_STRIDE: usize = 100;

struct NodeProcess {
    dir: PathBuf,
    child: Child,
    exited: Option<String>,
}

impl DevnetArgs {
    pub fn run(self) -> Result<ExitCode> {
        if self.workers > 128 {
            bail!(
                "--workers {} exceeds the shared setup's 128; use at most 128",
                self.workers
            );
        }
        self.check_ports()?;
        let dirs: Vec<PathBuf> = (0..self.nodes)
            .map(|i| self.dir.join(format!("node-{i}")))
            .collect();
        let bootstrap = self.prepare(&dirs)?;
        let pace = self.pace();
        let mut nodes = Vec::new();
        for (i, dir) in dirs.iter().enumerate() {
            if i > 0 && dirs.len() > STAGGER_ABOVE {
                // Nodes started together run their self-tests and meet every peer at the
                // same moment; the burst starves the bandwidth echoes.
                std::thread::sleep(STAGGER);
            }
            let child = self.spawn(i, dir, (i > 0).then_some(bootstrap.as_str()), pace)?;
            nodes.push(NodeProcess {
                dir: dir.clone(),
                child,
                exited: None,
            });
        }
        outln!(
            "devnet: {} nodes in {} (logs: node-I/node.log); Ctrl-C stops them all",
            self.nodes,
            self.dir.display()
        );
        for i in 0..nodes.len() {
            outln!(
                "node {i} dashboard: http://127.0.0.1:{}/  node API: 127.0.0.1:{} (qnode \
                 node-info --config-dir {})",
                self.http_port(i),
                self.api_port(i),
                self.dir.join(format!("node-{i}")).display()
            );
        }
        let interactive = std::io::stdout().is_terminal();
        let all_exited: Result<bool> = runtime()?.block_on(async {
            let (tx, mut stop) = tokio::sync::watch::channel(false);
            watch_shutdown_signals(tx)?;
            let mut last_print = Instant::now() - Duration::from_secs(60);
            loop {
                for node in &mut nodes {
                    node.check_exit();
                }
                if nodes.iter().all(|n| n.exited.is_some()) {
                    print_table(&nodes, interactive);
                    break Ok(true);
                }
                if interactive || last_print.elapsed() >= Duration::from_secs(5) {
                    // Whoever read the table has gone: stop the nodes as Ctrl-C would.
                    if !print_table(&nodes, interactive) {
                        break Ok(false);
                    }
                    last_print = Instant::now();
                }
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => break Ok(false),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
        stop_all(&mut nodes);
        if all_exited? {
            eprintln!("every node exited; their logs say why (node-I/node.log)");
            return Ok(ExitCode::FAILURE);
        }
        outln!("devnet stopped");
        Ok(ExitCode::SUCCESS)
    }

    /// Creates each node's key and the shared setup; returns node 0's bootstrap address.
    fn prepare(&self, dirs: &[PathBuf]) -> Result<String> {
        let mut peer_ids = Vec::new();
        for dir in dirs {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let key = qnode_identity::load_or_create_identity(dir, self.key_type.into())?;
            peer_ids.push(key.peer_id());
        }
        let shared = self.dir.join("shared-setup");
        if !shared.join(SETUP_FILE).exists() {
            outln!("generating the devnet's shared KZG setup ({SETUP_POWERS} powers)…");
        }
        kzg_setup::load(&shared, Some(SETUP_POWERS))?;
        for dir in dirs {
            kzg_setup::copy_shared(&shared, dir)
                .with_context(|| format!("copying the setup to {}", dir.display()))?;
        }
        Ok(format!(
            "/ip4/127.0.0.1/tcp/{}/p2p/{}",
            self.base_port, peer_ids[0]
        ))
    }

    /// Refuses port plans where the p2p, dashboard, node API and worker ranges overlap.
    fn check_ports(&self) -> Result<()> {
        let n = usize::from(self.nodes);
        if n > 1 && self.workers as usize > WORKER_PORT_STRIDE {
            bail!(
                "--workers {} would overlap the next node's worker ports (node I's start at \
                 --worker-base-port + {WORKER_PORT_STRIDE}·I); use at most {WORKER_PORT_STRIDE} \
                 workers per node, or one node",
                self.workers
            );
        }
        let base = usize::from(self.base_port);
        let workers = usize::from(self.worker_base_port);
        let ranges = [
            ("p2p", base, base + n),
            ("dashboard", self.http_port(0), self.http_port(n)),
            ("node API", self.api_port(0), self.api_port(n)),
            (
                "worker",
                workers,
                workers + WORKER_PORT_STRIDE * (n - 1) + self.workers as usize,
            ),
        ];
        for (i, (a, a0, a1)) in ranges.iter().enumerate() {
            for (b, b0, b1) in &ranges[i + 1..] {
                if a0 < b1 && b0 < a1 {
                    bail!(
                        "the {a} ports {a0}..{a1} overlap the {b} ports {b0}..{b1}; choose \
                         --base-port and --worker-base-port further apart"
                    );
                }
            }
        }
        if ranges
            .iter()
            .any(|(_, _, end)| *end > usize::from(u16::MAX))
        {
            bail!("ports run past 65535; choose lower --base-port or --worker-base-port");
        }
        Ok(())
    }

    /// The pace the flags ask for; what they leave out fits this many nodes on this
    /// machine as fast as it runs now.
    fn pace(&self) -> Pace {
        let asked = (
            self.min_frame_interval_ms,
            self.report_window_secs,
            self.min_increment_ms,
        );
        if let (Some(frame), Some(window), Some(increment)) = asked {
            let pace = Pace {
                min_frame_interval_ms: frame,
                report_window_secs: window,
                min_increment_ms: increment,
            };
            outln!("paced as asked: {pace}");
            return pace;
        }
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        outln!("timing this machine (a dozen prime searches)…");
        let cold_ms = pace::measure_cold_ms();
        let fitted = Pace::for_devnet(usize::from(self.nodes), cores, cold_ms);
        let pace = Pace {
            min_frame_interval_ms: asked.0.unwrap_or(fitted.min_frame_interval_ms),
            report_window_secs: asked.1.unwrap_or(fitted.report_window_secs),
            min_increment_ms: asked.2.unwrap_or(fitted.min_increment_ms),
        };
        let flags = if pace == fitted {
            ""
        } else {
            " (part of it from your flags)"
        };
        outln!(
            "a cold discriminant costs about {cold_ms} ms of CPU here among many nodes; paced \
             to fit {} nodes on {cores} cores{flags}: {pace}",
            self.nodes
        );
        pace
    }

    /// Node I's dashboard and metrics port: 100 above its p2p port.
    fn http_port(&self, i: usize) -> usize {
        self.base_port as usize + 100 + i
    }

    /// Node I's node API port: 200 above its p2p port.
    fn api_port(&self, i: usize) -> usize {
        self.base_port as usize + 200 + i
    }

    fn spawn(&self, i: usize, dir: &Path, bootstrap: Option<&str>, pace: Pace) -> Result<Child> {
        let port = self.base_port as usize + i;
        let worker_port = self.worker_base_port as usize + WORKER_PORT_STRIDE * i;
        let log = std::fs::File::create(dir.join("node.log"))
            .with_context(|| format!("creating {}/node.log", dir.display()))?;
        let mut command = Command::new(std::env::current_exe()?);
        // QUIC only for Ed25519 nodes: qnode's QUIC (rust-libp2p's TLS) takes no Ed448.
        let ed25519 = qnode_identity::load_identity(dir)?
            .is_some_and(|key| key.key_type() == qnode_identity::KeyType::Ed25519);
        if ed25519 {
            command.args(["--listen", &format!("/ip4/127.0.0.1/udp/{port}/quic-v1")]);
        }
        // The devnet decides its nodes' settings; an operator's QNODE_* environment (meant
        // for their own node) must not leak into them. The log filter may.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("QNODE_") && name != "QNODE_LOG" {
                command.env_remove(&name);
            }
        }
        command
            .arg("run")
            .arg("--devnet")
            .arg("--config-dir")
            .arg(dir)
            .args(["--workers", &self.workers.to_string()])
            .args(["--worker-base-port", &worker_port.to_string()])
            .args(["--listen", &format!("/ip4/127.0.0.1/tcp/{port}")])
            .args(["--frame-interval-ms", &self.frame_interval_ms.to_string()])
            .args(pace.args())
            .args(["--network", &self.network.to_string()])
            .args(["--http-listen", &format!("127.0.0.1:{}", self.http_port(i))])
            .args(["--grpc-listen", &format!("127.0.0.1:{}", self.api_port(i))])
            .args(["--parent-process", &std::process::id().to_string()])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let extra = self.bootstrap.iter().map(ToString::to_string);
        for address in bootstrap.map(str::to_string).into_iter().chain(extra) {
            command.args(["--bootstrap", &address]);
        }
        command
            .spawn()
            .with_context(|| format!("starting node {i}"))
    }
}

/// Copies the shared setup (and its verified-hash marker) unless the node has it.
impl NodeProcess {
    fn check_exit(&mut self) {
        if self.exited.is_none() {
            if let Ok(Some(code)) = self.child.try_wait() {
                self.exited = Some(format!(
                    "exited ({code}); see {}/node.log",
                    self.dir.display()
                ));
            }
        }
    }
}

fn short(peer: &str) -> String {
    let tail: String = peer
        .chars()
        .rev()
        .take(6)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn ago(ms: i64) -> String {
    if ms <= 0 {
        return "never".into();
    }
    format!("{:.0}s ago", ((now_ms() - ms).max(0) as f64) / 1000.0)
}

fn row(i: usize, node: &NodeProcess, status: Option<&Status>) -> String {
    let Some(s) = status else {
        let state = node.exited.as_deref().unwrap_or("starting");
        return format!("{i:<5} {:<9} {state}", "-");
    };
    let connected = s.peers.iter().filter(|p| p.info.connected).count();
    let verified: u64 = s.peers.iter().map(|p| p.info.reports_verified).sum();
    let last_verified = s
        .peers
        .iter()
        .map(|p| p.info.last_verified_ms)
        .max()
        .unwrap_or(0);
    let state = node
        .exited
        .as_deref()
        .unwrap_or(if now_ms() - s.updated_ms < 5_000 {
            "running"
        } else {
            "not responding"
        });
    format!(
        "{i:<5} {:<9} {:>6} {:>9} {:>6} {:>9} {:>14}  {state}",
        short(&s.peer_id),
        s.head_frame,
        s.increment.map_or("-".into(), |n| n.to_string()),
        connected,
        verified,
        ago(last_verified),
    )
}

/// False when stdout's reader has gone.
fn print_table(nodes: &[NodeProcess], interactive: bool) -> bool {
    let mut out = String::new();
    if interactive {
        out.push_str("\x1b[2J\x1b[H");
    }
    out.push_str(&format!(
        "{:<5} {:<9} {:>6} {:>9} {:>6} {:>9} {:>14}  {}\n",
        "NODE", "PEER", "HEAD", "INCREMENT", "PEERS", "VERIFIED", "LAST VERIFIED", "STATE"
    ));
    for (i, node) in nodes.iter().enumerate() {
        out.push_str(&row(i, node, status::read(&node.dir).as_ref()));
        out.push('\n');
    }
    crate::out::try_write(format_args!("{out}"))
}

/// SIGTERM to every node, then SIGKILL to any still running after the grace period.
fn stop_all(nodes: &mut [NodeProcess]) {
    for node in nodes.iter() {
        if let Ok(pid) = i32::try_from(node.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    for node in nodes.iter_mut() {
        while Instant::now() < deadline {
            if matches!(node.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if !matches!(node.child.try_wait(), Ok(Some(_))) {
            eprintln!("{} did not stop in time; killing it", node.dir.display());
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        devnet: DevnetArgs,
    }

    fn plan(args: &[&str]) -> DevnetArgs {
        Cli::try_parse_from(std::iter::once("devnet").chain(args.iter().copied()))
            .unwrap()
            .devnet
    }

    /// Every port the plan uses: p2p, dashboard, node API and workers of every node.
    fn ports(p: &DevnetArgs) -> Vec<usize> {
        (0..usize::from(p.nodes))
            .flat_map(|i| {
                let workers = usize::from(p.worker_base_port) + WORKER_PORT_STRIDE * i;
                [usize::from(p.base_port) + i, p.http_port(i), p.api_port(i)]
                    .into_iter()
                    .chain(workers..workers + p.workers as usize)
            })
            .collect()
    }

    #[test]
    fn the_default_plans_pass_and_stay_below_the_ephemeral_range() {
        for args in [&[][..], &["--nodes", "50", "--workers", "100"][..]] {
            let p = plan(args);
            p.check_ports().unwrap();
            let ports = ports(&p);
            assert!(ports.iter().all(|&port| port < 32_768), "{args:?}");
            let unique: std::collections::BTreeSet<_> = ports.iter().collect();
            assert_eq!(unique.len(), ports.len(), "{args:?}: a port used twice");
        }
        assert_eq!(plan(&[]).worker_base_port, 20_000);
    }

    #[test]
    fn overlapping_plans_are_refused() {
        let error = plan(&["--nodes", "2", "--workers", "101"])
            .check_ports()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("use at most 100 workers per node"),
            "{error}"
        );
        assert!(plan(&["--nodes", "1", "--workers", "128"])
            .check_ports()
            .is_ok());
        let error = plan(&["--worker-base-port", "18400"])
            .check_ports()
            .unwrap_err()
            .to_string();
        assert!(error.contains("overlap"), "{error}");
    }
}
