//! One simulation: honest nodes, forgers that connect to every honest node and send
//! garbage, one honest node that joins halfway, and the figures of issue 18 at the end.

use crate::forger;
use crate::heads::{HeadLog, Propagation};
use crate::network::SimNetwork;
use crate::plan::{self, Plan};
use anyhow::{Context, Result};
use qnode_p2p::{KeyType, Network, NodeKey, PeerId};
use qnode_services::bandwidth_test::Outcome;
use qnode_tasks::Services;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the nodes are looked at: the resolution of the propagation figures.
const SAMPLE_EVERY: Duration = Duration::from_millis(25);
/// How often each forger sends a garbage report and frame.
const FORGE_EVERY: Duration = Duration::from_secs(1);
/// How often the honest nodes' connections are counted.
const DEGREE_EVERY: Duration = Duration::from_secs(1);
/// After the run, how long the honest heads get to settle on one frame.
const SETTLE: Duration = Duration::from_secs(10);

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every node, honest or not, the late joiner included.
    pub peers: usize,
    /// The share of `peers` that forge, in percent.
    pub forgers_percent: u8,
    /// How long the run lasts; the late node joins halfway.
    pub seconds: u64,
    /// The network's layout.
    pub plan: Plan,
}

/// The run's figures, printed as one JSON object.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Every node, as asked.
    pub peers: usize,
    /// Of which forgers.
    pub forgers: usize,
    /// Time for a new frame to reach 50, 90 and 100 % of the honest nodes started at once
    /// (sampled every 25 ms).
    pub propagation_ms: Propagation,
    /// Gossip copies an honest node received per distinct message, over the run (from
    /// BlossomSub's own counts: it drops duplicates before the node sees them); null if
    /// no message arrived.
    pub copies_per_message: Option<f64>,
    /// Seconds from the forgers' start until every honest node they were sent to (the
    /// late joiner is not: no forger knows it) held every forger below zero (so ignored
    /// its messages), or null if that never happened.
    pub graylist_all_s: Option<f64>,
    /// Honest nodes that some honest node holds below zero: must be 0.
    pub honest_penalized: usize,
    /// The honest nodes' bandwidth tests by outcome, over the run.
    pub bandwidth_tests: BandwidthTests,
    /// Whether every honest node had the same head at one moment after the run.
    pub heads_agree: bool,
    /// Seconds the late node took to reach the head the others had when it joined.
    pub late_join_sync_s: Option<f64>,
    /// Frames it was behind when it joined.
    pub late_join_gap_frames: u64,
    /// Connected peers of the honest nodes (forgers included), sampled every second over
    /// the run: the layout's degree.
    pub degree: Degree,
    /// The process's resident memory at the end, per node (forgers included).
    pub rss_kib_per_peer: u64,
    /// The process's CPU time over the run, per node and second.
    pub cpu_ms_per_peer_per_s: f64,
}

/// Bandwidth tests by outcome (`qnode_bandwidth_tests_total`), summed over the nodes.
#[derive(Debug, Default, Serialize)]
pub struct BandwidthTests {
    /// The echo came back whole within 2 s.
    pub passed: u64,
    /// An offence: no echo, a wrong one, or a slow one while the tester kept running.
    pub failed: u64,
    /// The connection closed first: no offence.
    pub interrupted: u64,
    /// Late, but the tester itself was stalled meanwhile (in a simulation, usually by
    /// the other nodes' work on the same cores): no offence.
    pub inconclusive: u64,
}

/// The mean and the largest number of peers an honest node is connected to.
#[derive(Debug, Default, Serialize)]
pub struct Degree {
    /// Mean over the honest nodes and the samples.
    pub mean: f64,
    /// The most any honest node had at any sample.
    pub max: usize,
}

/// Runs one simulation; an error if the run itself failed (a node stopped).
pub async fn simulate(settings: &Settings) -> Result<Report> {
    let forger_count = settings.peers * usize::from(settings.forgers_percent) / 100;
    let honest_at_start = settings
        .peers
        .checked_sub(forger_count + 1)
        .filter(|&n| n >= 1)
        .context(
            "too few peers: the honest nodes, the late joiner and the forgers need 2 or more",
        )?;
    let cpu_before = cpu_ms()?;
    let started = Instant::now();
    let mut network = SimNetwork::start(&settings.plan, honest_at_start).await?;
    let forger_tasks = Services::without_shutdown();
    let forgers = start_forgers(&network, forger_count, &forger_tasks).await?;
    let forging_since = started.elapsed();
    let forger_ids: Vec<PeerId> = forgers.iter().map(Network::local_peer_id).collect();
    let head = Arc::new(AtomicU64::new(0));
    let forging = tokio::spawn(forge(forgers, head.clone()));
    let mut watch = Watch::default();
    let half = Duration::from_secs(settings.seconds) / 2;
    let end = Duration::from_secs(settings.seconds);
    let mut late: Option<LateJoin> = None;
    while started.elapsed() < end {
        watch
            .sample(&network, (&forger_ids, honest_at_start), started.elapsed())
            .await?;
        let highest = (0..network.nodes.len())
            .map(|i| watch.heads.head(i))
            .max()
            .unwrap_or(0);
        head.store(highest, Ordering::Relaxed);
        if late.is_none() && started.elapsed() >= half {
            let node = network.add_node().await?;
            late = Some(LateJoin {
                node,
                target: highest,
                since: started.elapsed(),
                synced: None,
            });
        }
        if let Some(join) = &mut late {
            if join.synced.is_none() && watch.heads.head(join.node) >= join.target {
                join.synced = Some(started.elapsed() - join.since);
            }
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let heads_agree = settle(&network).await;
    // The late joiner's catching up is its own figure, not propagation.
    let from_the_start: Vec<usize> = (0..honest_at_start).collect();
    let report = Report {
        peers: settings.peers,
        forgers: forger_count,
        propagation_ms: watch.heads.propagation(&from_the_start),
        copies_per_message: copies_per_message(&network),
        degree: watch.degrees.degree(),
        graylist_all_s: watch
            .graylisted_all
            .map(|at| at.saturating_sub(forging_since).as_secs_f64()),
        honest_penalized: honest_penalized(&network),
        bandwidth_tests: bandwidth_tests(&network),
        heads_agree,
        late_join_sync_s: late
            .as_ref()
            .and_then(|j| j.synced)
            .map(|d| d.as_secs_f64()),
        late_join_gap_frames: late.as_ref().map_or(0, |j| j.target),
        rss_kib_per_peer: rss_kib()? / settings.peers as u64,
        cpu_ms_per_peer_per_s: (cpu_ms()? - cpu_before) as f64
            / settings.peers as f64
            / started.elapsed().as_secs_f64(),
    };
    forging.abort();
    let _ = forger_tasks.finish().await;
    network.stop().await?;
    Ok(report)
}

struct LateJoin {
    node: usize,
    target: u64,
    since: Duration,
    synced: Option<Duration>,
}

#[derive(Default)]
struct Watch {
    heads: HeadLog,
    graylisted_all: Option<Duration>,
    degrees: DegreeLog,
}

/// The honest nodes' connection counts, sampled every [`DEGREE_EVERY`]: one look at the
/// end would catch a moment, such as a wave of Kademlia walks, rather than the layout.
#[derive(Default)]
struct DegreeLog {
    sum_of_means: f64,
    samples: u32,
    max: usize,
    next: Duration,
}

impl DegreeLog {
    async fn sample(&mut self, network: &SimNetwork, at: Duration) {
        if at < self.next {
            return;
        }
        self.next = at + DEGREE_EVERY;
        let mut counts = Vec::new();
        for ctx in network.nodes.iter().filter_map(|n| n.context()) {
            counts.push(ctx.network.connected().await.map_or(0, |peers| peers.len()));
        }
        if counts.is_empty() {
            return;
        }
        self.sum_of_means += counts.iter().sum::<usize>() as f64 / counts.len() as f64;
        self.samples += 1;
        self.max = counts.iter().copied().fold(self.max, usize::max);
    }

    fn degree(&self) -> Degree {
        Degree {
            mean: self.sum_of_means / f64::from(self.samples.max(1)),
            max: self.max,
        }
    }
}

impl Watch {
    /// Samples every node; the forgers' `judges` are the first nodes, those they dial.
    async fn sample(
        &mut self,
        network: &SimNetwork,
        (forgers, judges): (&[PeerId], usize),
        at: Duration,
    ) -> Result<()> {
        network.check()?;
        let mut all_graylisted = true;
        for (i, node) in network.nodes.iter().enumerate() {
            match node.context() {
                Some(ctx) => {
                    self.heads.sample(i, ctx.head_number().await, at);
                    if i < judges {
                        all_graylisted &= forgers.iter().all(|f| ctx.peers.score(f) < 0);
                    }
                }
                None => all_graylisted = false,
            }
        }
        if all_graylisted && !forgers.is_empty() && self.graylisted_all.is_none() {
            self.graylisted_all = Some(at);
        }
        self.degrees.sample(network, at).await;
        Ok(())
    }
}

async fn start_forgers(
    network: &SimNetwork,
    count: usize,
    tasks: &Services,
) -> Result<Vec<Network>> {
    let mut everyone = Vec::with_capacity(network.nodes.len());
    for node in &network.nodes {
        everyone.push(node.address().await?);
    }
    let mut forgers = Vec::with_capacity(count);
    for _ in 0..count {
        forgers.push(
            forger::start_as(NodeKey::generate(KeyType::Ed448)?, everyone.clone(), tasks).await?,
        );
    }
    Ok(forgers)
}

/// Each forger, every [`FORGE_EVERY`], sends a report whose proof has the wrong length
/// and a frame on the honest `head` whose VDF output is garbage.
async fn forge(forgers: Vec<Network>, head: Arc<AtomicU64>) {
    loop {
        let head = head.load(Ordering::Relaxed);
        for network in &forgers {
            if let (Ok(report), Ok(frame)) = (
                forger::report(520, head),
                forger::frame(head + 1, plan::master_difficulty()),
            ) {
                forger::publish(network, [report, frame]).await;
            }
        }
        tokio::time::sleep(FORGE_EVERY).await;
    }
}

/// Whether the honest heads are all equal at some sample within [`SETTLE`].
async fn settle(network: &SimNetwork) -> bool {
    let deadline = Instant::now() + SETTLE;
    while Instant::now() < deadline {
        let mut heads = Vec::new();
        for node in &network.nodes {
            match node.context() {
                Some(ctx) => heads.push(ctx.head_number().await),
                None => return false,
            }
        }
        if heads.windows(2).all(|w| w[0] == w[1]) {
            return true;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    false
}

fn copies_per_message(network: &SimNetwork) -> Option<f64> {
    let (copies, unique) = network
        .nodes
        .iter()
        .filter_map(|n| n.context())
        .map(|ctx| ctx.network.gossip_receipts())
        .fold((0, 0), |(c, u), r| (c + r.copies, u + r.unique));
    (unique > 0).then(|| copies as f64 / unique as f64)
}

fn honest_penalized(network: &SimNetwork) -> usize {
    let contexts: Vec<_> = network.nodes.iter().filter_map(|n| n.context()).collect();
    network
        .nodes
        .iter()
        .filter(|node| {
            contexts
                .iter()
                .any(|ctx| ctx.peers.score(&node.peer_id) < 0)
        })
        .count()
}

fn bandwidth_tests(network: &SimNetwork) -> BandwidthTests {
    let contexts: Vec<_> = network.nodes.iter().filter_map(|n| n.context()).collect();
    let total = |outcome: Outcome| -> u64 {
        let label = [outcome.label()];
        contexts
            .iter()
            .map(|ctx| ctx.metrics.bandwidth_tests.with_label_values(&label).get())
            .sum()
    };
    BandwidthTests {
        passed: total(Outcome::Passed),
        failed: total(Outcome::Failed),
        interrupted: total(Outcome::Interrupted),
        inconclusive: total(Outcome::Inconclusive),
    }
}

/// This process's resident memory, from `/proc/self/status`.
fn rss_kib() -> Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/self/status")
}

/// This process's user and system CPU time, from `/proc/self/stat` (in clock ticks of
/// 10 ms: Linux's USER_HZ is 100 on every architecture it exports).
fn cpu_ms() -> Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based).
    let ticks = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let (user, system) = ticks(14)
        .zip(ticks(15))
        .context("no CPU times in /proc/self/stat")?;
    Ok((user + system) * 10)
}
