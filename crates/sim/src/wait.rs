//! Waiting on simulated nodes: poll what their service contexts say until it holds, with a
//! bound counted in the network's own pace (report windows), not in guessed seconds.

use crate::plan::Plan;
use anyhow::Result;
use std::future::Future;
use std::time::Duration;

/// How often a probe looks: far below any interval the nodes keep.
const POLL_EVERY: Duration = Duration::from_millis(50);

impl Plan {
    /// `windows` report windows of this plan's pace, each at least one master frame and one
    /// increment long: within one window every node has verified each peer's report once.
    pub fn windows(&self, windows: u32) -> Duration {
        let window = Duration::from_secs(self.pace.report_window_secs)
            .max(self.frame_interval)
            .max(Duration::from_millis(self.pace.min_increment_ms));
        window * windows
    }
}

/// Polls `probe` until it gives a value; an error naming `what` once `within` has passed.
pub async fn until<T, F, P>(what: &str, within: Duration, mut probe: P) -> Result<T>
where
    P: FnMut() -> F,
    F: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "not within {within:?}: {what}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}
