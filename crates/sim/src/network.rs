//! Starts nodes in this process, each in its own directory under one root, with
//! one shared KZG setup, a data worker each (served in this process) and a bounded number
//! of bootstrap peers picked from the nodes started before it.

use crate::node::SimNode;
use crate::plan::{Plan, DIFFICULTY_DIVISOR, SETUP_POWERS};
use anyhow::{Context, Result};
use qnode_prover::{kzg_setup, self_test};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const SHARED_SETUP: &str = "shared-setup";
/// The most nodes a simulation holds (each takes a worker, a store and ~40 descriptors).
pub const MAX_NODES: usize = 1000;

/// Node 0's self-test at devnet difficulty takes a few seconds.
const SELF_TEST_WAIT: Duration = Duration::from_secs(120);

/// The running network.
pub struct SimNetwork {
    /// In start order.
    pub nodes: Vec<SimNode>,
    plan: Plan,
    topology: Topology,
    workers: Vec<JoinHandle<()>>,
}

impl SimNetwork {
    /// Prepares the shared setup, then starts `peers` nodes, each with its worker, spread
    /// evenly over one increment period. Nodes started at one moment prove in step: each
    /// node's reports would reach every other at the same moment, and the burst of
    /// verifications (every node checking every other's report, all on this machine's
    /// cores) stalled the whole process for 3–4 s at 50 nodes, failing bandwidth echoes.
    /// A real network's nodes do not start in step, so their reports are spread too.
    pub async fn start(plan: &Plan, peers: usize) -> Result<SimNetwork> {
        let shared = plan.dir.join(SHARED_SETUP);
        kzg_setup::load(&shared, Some(SETUP_POWERS)).context("generating the shared setup")?;
        let mut network = SimNetwork {
            nodes: Vec::with_capacity(peers),
            plan: plan.clone(),
            topology: Topology::new(plan.seed),
            workers: Vec::with_capacity(peers),
        };
        let stagger = Duration::from_millis(plan.pace.min_increment_ms) / peers.max(1) as u32;
        for i in 0..peers {
            network.add_node().await?;
            if i == 0 {
                network.first_self_test().await?;
            }
            tokio::time::sleep(stagger).await;
        }
        Ok(network)
    }

    /// Starts one more node, bootstrapped like the others to earlier ones; its index. The
    /// node and its worker listen on ports the OS picks.
    pub async fn add_node(&mut self) -> Result<usize> {
        let (plan, i) = (&self.plan, self.nodes.len());
        anyhow::ensure!(
            i < MAX_NODES,
            "a simulation holds at most {MAX_NODES} nodes"
        );
        let dir = plan.dir.join(format!("node-{i}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        kzg_setup::copy_shared(&plan.dir.join(SHARED_SETUP), &dir)
            .with_context(|| format!("copying the setup to {}", dir.display()))?;
        if let Some(first) = self.nodes.first() {
            let report = first.dir.join(self_test::REPORT_FILE);
            std::fs::copy(&report, dir.join(self_test::REPORT_FILE))
                .with_context(|| format!("copying {}", report.display()))?;
        }
        let worker = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("a port for a simulated worker")?;
        let worker_port = worker.local_addr()?.port();
        self.workers.push(tokio::spawn(serve_worker(worker)));
        let mut bootstrap = Vec::new();
        for j in self.topology.pick(i, self.plan.degree) {
            bootstrap.push(self.nodes[j].address().await?);
        }
        let node = SimNode::start(&self.plan, i, dir, worker_port, bootstrap)?;
        self.nodes.push(node);
        Ok(i)
    }

    /// Waits for node 0's self-test report. Every node measures the same machine with the
    /// same setup, so the others start with a copy: nodes all running their self-test at
    /// once starve each other's bandwidth echoes, and honest nodes penalise each other.
    async fn first_self_test(&self) -> Result<()> {
        let report = self.nodes[0].dir.join(self_test::REPORT_FILE);
        let deadline = tokio::time::Instant::now() + SELF_TEST_WAIT;
        while !report.exists() {
            anyhow::ensure!(
                !self.nodes[0].is_finished(),
                "node 0 stopped during its self-test"
            );
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "node 0 wrote no self-test report within {SELF_TEST_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// An error if a node or a worker has stopped: the run would then measure a broken
    /// network.
    pub fn check(&self) -> Result<()> {
        for node in &self.nodes {
            anyhow::ensure!(!node.is_finished(), "{} stopped", node.dir.display());
        }
        for (i, worker) in self.workers.iter().enumerate() {
            anyhow::ensure!(!worker.is_finished(), "the worker of node {i} stopped");
        }
        Ok(())
    }

    /// The address other peers (forgers too) reach node `i` at.
    pub async fn address(&self, i: usize) -> Result<qnode_p2p::Multiaddr> {
        self.nodes
            .get(i)
            .context("no such simulated node")?
            .address()
            .await
    }

    /// Starts node `i` again after [`SimNode::stop`]: the same key, store and bootstrap
    /// peers, on a new port.
    pub fn restart(&mut self, i: usize) -> Result<()> {
        self.restart_failing(i, None)
    }

    /// [`SimNetwork::restart`], with the task `failing` (if any) of node `i` made to panic
    /// each time it starts: a supervision test's fault.
    pub fn restart_failing(&mut self, i: usize, failing: Option<&str>) -> Result<()> {
        let node = self.nodes.get_mut(i).context("no such simulated node")?;
        node.restart_failing(&self.plan, failing)
    }

    /// Stops every node and worker; the first node error, if any.
    pub async fn stop(mut self) -> Result<()> {
        for node in &self.nodes {
            node.signal_stop();
        }
        let mut first_error = None;
        for node in &mut self.nodes {
            if let Err(e) = node.stop().await {
                first_error.get_or_insert(e);
            }
        }
        self.workers.iter().for_each(JoinHandle::abort);
        first_error.map_or(Ok(()), Err)
    }
}

async fn serve_worker(listener: TcpListener) {
    let prover = qnode_worker::ChallengeProver {
        core: 0,
        difficulty_divisor: DIFFICULTY_DIVISOR,
    };
    if let Err(e) = qnode_worker::serve_on(listener, prover, None).await {
        tracing::error!("simulated worker: {e}");
    }
}

/// Seeded choice of bootstrap peers.
struct Topology(StdRng);

impl Topology {
    fn new(seed: u64) -> Topology {
        Topology(StdRng::seed_from_u64(seed))
    }

    /// Up to `degree` distinct nodes among `0..i`.
    fn pick(&mut self, i: usize, degree: usize) -> Vec<usize> {
        rand::seq::index::sample(&mut self.0, i, degree.min(i)).into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::Topology;

    #[test]
    fn bootstrap_peers_are_distinct_earlier_nodes_and_follow_the_seed() {
        let mut a = Topology::new(7);
        let mut b = Topology::new(7);
        for i in 0..50 {
            let picked = a.pick(i, 3);
            assert_eq!(picked.len(), i.min(3));
            assert!(picked.iter().all(|&j| j < i));
            let mut unique = picked.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), picked.len());
            assert_eq!(picked, b.pick(i, 3));
        }
        assert_ne!(Topology::new(1).pick(40, 3), Topology::new(2).pick(40, 3));
    }
}
