//! The operator's HTTP endpoint: `/metrics` (Prometheus text), `/healthz` (the process is
//! up), `/readyz` (200 or 503 with what is wrong), `/api/status` (the status as JSON),
//! the node API as JSON ([`crate::node_api_json`]) and `/`, the dashboard — one
//! page embedded in the binary. Unknown paths get a JSON 404. Connections are capped and
//! closed when idle ([`crate::connection_limits`]).

use crate::connection_limits::{ConnectionLimits, LimitedListener};
use crate::node_api_json;
use crate::status::StatusSource;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Json};
use axum::routing::get;
use axum::Router;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use tokio::sync::watch;

const DASHBOARD: &str = include_str!("dashboard.html");

async fn metrics(State(source): State<Arc<StatusSource>>) -> impl IntoResponse {
    // Sampled gauges (peers, scores, restarts, store size) are at most a second old: the
    // status task refreshes them.
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        source.ctx.metrics.render(),
    )
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "up" }))
}

async fn readyz(State(source): State<Arc<StatusSource>>) -> impl IntoResponse {
    let readiness = source.readiness();
    let code = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(readiness))
}

async fn status(State(source): State<Arc<StatusSource>>) -> impl IntoResponse {
    Json(source.snapshot_with_history().await)
}

async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD)
}

/// Serves the endpoint on a bound listener until `shutdown`, within
/// [`ConnectionLimits::HTTP`].
pub fn serve(
    listener: tokio::net::TcpListener,
    source: Arc<StatusSource>,
    shutdown: watch::Receiver<bool>,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    serve_with(listener, source, shutdown, ConnectionLimits::HTTP)
}

/// [`serve`] within other limits.
pub fn serve_with(
    listener: tokio::net::TcpListener,
    source: Arc<StatusSource>,
    mut shutdown: watch::Receiver<bool>,
    limits: ConnectionLimits,
) -> impl Future<Output = std::io::Result<()>> + Send + 'static {
    let app = Router::new()
        .route("/", get(dashboard))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/status", get(status))
        .route(&node_api_json::path(), node_api_json::route())
        .fallback(|| async { node_api_json::error(tonic::Status::not_found("no such path")) })
        .with_state(source);
    let listener = LimitedListener::new(listener, limits);
    let stop = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .into_future()
}
