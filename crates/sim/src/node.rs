//! One simulated node: `qnode_node::run` on its own directory, watched through its service
//! context, stopped and started again on its own.

use crate::plan::Plan;
use anyhow::{Context, Result};
use qnode_node::NodeError;
use qnode_p2p::multiaddr::Protocol;
use qnode_p2p::{KeyType, Multiaddr, PeerId};
use qnode_services::context::ServiceContext;
use qnode_tasks::{Services, TaskBoard};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A node's start (its checks, store and self-test copy) before its network listens takes
/// well under a second; this bound only catches a node that never comes up.
const NETWORK_UP_WAIT: Duration = Duration::from_secs(120);

/// A node running in this process.
pub struct SimNode {
    /// Its peer id.
    pub peer_id: PeerId,
    /// Its directory (key, store, setup).
    pub dir: PathBuf,
    index: usize,
    worker_port: u16,
    bootstrap: Vec<Multiaddr>,
    context: Arc<OnceLock<Arc<ServiceContext>>>,
    tasks: TaskBoard,
    stop: watch::Sender<bool>,
    /// `None` once a stop has awaited it.
    task: Option<JoinHandle<Result<(), NodeError>>>,
}

impl SimNode {
    /// Starts node `index` of `plan` in `dir` (its key made there if new), with its worker
    /// on `worker_port`, joining through `bootstrap`.
    pub(crate) fn start(
        plan: &Plan,
        index: usize,
        dir: PathBuf,
        worker_port: u16,
        bootstrap: Vec<Multiaddr>,
    ) -> Result<SimNode> {
        let key = qnode_identity::load_or_create_identity(&dir, KeyType::Ed448)?;
        let mut node = SimNode {
            peer_id: key.peer_id(),
            dir,
            index,
            worker_port,
            bootstrap,
            context: Arc::default(),
            tasks: TaskBoard::default(),
            stop: watch::channel(false).0,
            task: None,
        };
        node.launch(plan, None)?;
        Ok(node)
    }

    /// Runs the node (again): a fresh context slot, stop signal and supervisor, with the
    /// task `failing` (if any) made to panic each time it starts.
    fn launch(&mut self, plan: &Plan, failing: Option<&str>) -> Result<()> {
        self.context = Arc::new(OnceLock::new());
        let config = plan.node_config(
            self.index,
            self.dir.clone(),
            self.worker_port,
            self.bootstrap.clone(),
            &self.context,
        )?;
        let (stop, stopped) = watch::channel(false);
        let mut services = Services::new(stopped);
        if let Some(task) = failing {
            services = services.failing(task);
        }
        self.stop = stop;
        self.tasks = services.board();
        self.task = Some(tokio::spawn(qnode_node::run_under(config, services)));
        Ok(())
    }

    /// Its services, once its network is up.
    pub fn context(&self) -> Option<Arc<ServiceContext>> {
        self.context.get().cloned()
    }

    /// Its tasks, as their supervisor sees them (of its latest run).
    pub fn tasks(&self) -> &TaskBoard {
        &self.tasks
    }

    /// Whether its `run` has returned (a failure or a stop).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Where peers reach it (its TCP address, on the port the OS gave it), once its network
    /// is up; waits for that, as long as the node runs.
    pub async fn address(&self) -> Result<Multiaddr> {
        let deadline = tokio::time::Instant::now() + NETWORK_UP_WAIT;
        let ctx = loop {
            if let Some(ctx) = self.context() {
                break ctx;
            }
            anyhow::ensure!(!self.is_finished(), "{} stopped", self.dir.display());
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "{}: no network within {NETWORK_UP_WAIT:?}",
                self.dir.display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let listening = ctx.network.listening();
        let tcp = listening
            .iter()
            .find(|a| a.iter().any(|p| matches!(p, Protocol::Tcp(_))))
            .context("a simulated node listens on TCP")?;
        Ok(tcp.clone().with(Protocol::P2p(self.peer_id)))
    }

    /// Tells it to stop, without waiting.
    pub(crate) fn signal_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Stops it (its worker keeps serving) and waits for its run to end: its error, if any.
    pub async fn stop(&mut self) -> Result<()> {
        self.signal_stop();
        let Some(task) = self.task.take() else {
            return Ok(());
        };
        let at = self.dir.display();
        match task.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!("{at}: {e}")),
            Err(e) => Err(anyhow::anyhow!("{at}: {e}")),
        }
    }

    /// Starts it again after [`SimNode::stop`]: the same key, store and bootstrap peers, on
    /// a new port.
    pub fn restart(&mut self, plan: &Plan) -> Result<()> {
        self.restart_failing(plan, None)
    }

    /// [`SimNode::restart`], with the task `failing` (if any) made to panic each time it
    /// starts: a supervision test's fault.
    pub fn restart_failing(&mut self, plan: &Plan, failing: Option<&str>) -> Result<()> {
        anyhow::ensure!(self.task.is_none(), "{} still runs", self.dir.display());
        self.launch(plan, failing)
    }
}
