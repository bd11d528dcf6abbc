//! The operator side: the node API (gRPC, and JSON on the HTTP listener), the HTTP
//! listener (dashboard, metrics, `/healthz`, `/readyz`), readiness, the status file, the
//! recent warnings they show, and the connection limits that guard both listeners.

pub mod connection_limits;
pub mod health;
pub mod history;
pub mod http;
pub mod node_api;
pub mod node_api_json;
pub mod recent_warnings;
pub mod status;
