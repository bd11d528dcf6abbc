//! `qnode status` and `qnode peer-id`: what an operator asks first.

use anyhow::{Context, Result};
use clap::Args;
use qnode_operator::status::{self, Status};
use qnode_options::ConfigDir;
use qnode_protocol::clock::now_ms;
use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// A status older than this means the node is not running.
const STALE_MS: i64 = 5_000;

#[derive(Args)]
pub struct StatusArgs {
    #[command(flatten)]
    dir: ConfigDir,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PeerIdArgs {
    #[command(flatten)]
    dir: ConfigDir,
}

impl PeerIdArgs {
    pub fn run(self) -> Result<ExitCode> {
        let dir = self.dir.path()?;
        let key = qnode_identity::load_identity(&dir)?.with_context(|| {
            format!(
                "no node key in {} (a new node is made with `qnode init`)",
                dir.display()
            )
        })?;
        outln!("{}", key.peer_id());
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether the node that wrote `s` is still running (it rewrites its status every
/// second).
pub fn is_running(s: &Status) -> bool {
    !s.stopped && now_ms() - s.updated_ms < STALE_MS
}

/// Where a status came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The status file, fresh (or the node stopped, or it does not answer).
    File,
    /// The node itself, whose status file is stale: a full disk stops the file, not the
    /// node.
    NodeWithStaleFile,
}

/// The status of the node in `dir`'s file `s`: when the file is stale but the node was
/// not stopped, the node is asked over its HTTP listener (then its node API is only
/// knocked on). A node that answers is running, whatever its file says.
pub fn current(s: Status) -> (Status, Source) {
    if s.stopped || is_running(&s) {
        return (s, Source::File);
    }
    if let Some(live) = s.http_address.and_then(live_status) {
        return (live, Source::NodeWithStaleFile);
    }
    let knock = |a: &SocketAddr| TcpStream::connect_timeout(a, ASK_TIMEOUT).is_ok();
    if s.api_address.as_ref().is_some_and(knock) {
        return (s, Source::NodeWithStaleFile);
    }
    (s, Source::File)
}

/// How long a stale node is given to answer.
const ASK_TIMEOUT: Duration = Duration::from_millis(700);

/// `GET /api/status` on the node's HTTP listener.
fn live_status(address: SocketAddr) -> Option<Status> {
    let mut stream = TcpStream::connect_timeout(&address, ASK_TIMEOUT).ok()?;
    stream.set_read_timeout(Some(ASK_TIMEOUT * 3)).ok()?;
    stream
        .write_all(b"GET /api/status HTTP/1.0\r\nHost: qnode\r\n\r\n")
        .ok()?;
    let mut response = Vec::new();
    stream.take(16 << 20).read_to_end(&mut response).ok()?;
    let text = String::from_utf8(response).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let ok = head.split_whitespace().nth(1) == Some("200");
    ok.then(|| serde_json::from_str(body).ok()).flatten()
}

fn ago(ms: i64) -> String {
    if ms <= 0 {
        return "never".into();
    }
    format!("{} s ago", (now_ms() - ms).max(0) / 1000)
}

/// The one-screen summary.
pub fn render(s: &Status, source: Source) -> String {
    let mut out = String::new();
    let running = is_running(s) || source == Source::NodeWithStaleFile;
    let mut state = match (running, s.readiness.ready) {
        (false, _) if s.stopped => format!("STOPPED ({})", ago(s.updated_ms)),
        (false, _) => format!("NOT RUNNING (last status {})", ago(s.updated_ms)),
        (true, true) => "running, ready".into(),
        (true, false) => "running, NOT READY".into(),
    };
    if source == Source::NodeWithStaleFile {
        state.push_str(", its status file STALE (disk full?)");
    }
    let syncing = s.peers.iter().map(|p| p.info.head_frame).max().unwrap_or(0);
    let sync = if syncing > s.head_frame + 10 {
        format!("syncing (peers claim frame {syncing})")
    } else {
        "in sync".into()
    };
    let connected = s.peers.iter().filter(|p| p.info.connected).count();
    let _ = writeln!(out, "node       {}", s.peer_id);
    let _ = writeln!(out, "state      {state}");
    let _ = writeln!(out, "clock      head frame {} — {sync}", s.head_frame);
    let increment = s.increment.map_or("none yet".into(), |n| n.to_string());
    let _ = writeln!(out, "proofs     increment {increment}, reward {}", s.reward);
    let _ = writeln!(
        out,
        "workers    {} ({} restarts)",
        s.workers, s.worker_restarts
    );
    let _ = writeln!(
        out,
        "peers      {connected} connected, {} known",
        s.peers.len()
    );
    for p in s.peers.iter().take(10) {
        let _ = writeln!(
            out,
            "  {} {:<9} {:>12} B/s  score {:>6}  verified {:>4}  last {}",
            p.info.peer_id,
            if p.info.connected {
                "connected"
            } else {
                "away"
            },
            p.info.bandwidth,
            p.info.score,
            p.info.reports_verified,
            ago(p.info.last_verified_ms),
        );
    }
    let off = || "off".to_string();
    let _ = writeln!(
        out,
        "serving    dashboard {}, node API {}",
        s.http_address.map_or_else(off, |a| format!("http://{a}/")),
        s.api_address.map_or_else(off, |a| a.to_string()),
    );
    if let Some(last) = s.recent_warnings.last() {
        let _ = writeln!(
            out,
            "logged     {} {} ({})",
            last.level,
            last.message,
            ago(last.at_ms)
        );
    }
    if s.readiness.problems.is_empty() {
        let _ = writeln!(out, "problems   none");
    } else {
        let _ = writeln!(out, "problems");
        for problem in &s.readiness.problems {
            let _ = writeln!(out, "  - {problem}");
        }
    }
    out
}

impl StatusArgs {
    pub fn run(self) -> Result<ExitCode> {
        let dir = self.dir.path()?;
        let s = status::read(&dir).with_context(|| {
            format!(
                "no status in {}: start the node there with `qnode run --config-dir {}`",
                dir.display(),
                dir.display()
            )
        })?;
        let (s, source) = current(s);
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&s)?);
        } else {
            out!("{}", render(&s, source));
        }
        Ok(ExitCode::SUCCESS)
    }
}
