//! Publishes the proof loop's self-test reports on the filter's topic, stamped with the
//! current master head (what peers use to pick sync targets).

use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::pb::node::SelfTestReport;
use qnode_services::context::ServiceContext;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Publishes every report until the proof loop stops.
pub async fn run(ctx: Arc<ServiceContext>, mut reports: mpsc::Receiver<SelfTestReport>) {
    while let Some(mut report) = reports.recv().await {
        report.master_head_frame = ctx.head_number().await;
        let increment = report.increment;
        match envelope::seal(&ctx.filter, &Payload::SelfTestReport(report)) {
            Ok(data) => match ctx.network.publish(&ctx.filter, data).await {
                Ok(()) => tracing::debug!(increment, "self-test report published"),
                Err(e) => tracing::debug!(increment, "publishing a report: {e}"),
            },
            Err(e) => tracing::error!("sealing a report: {e}"),
        }
    }
}
