//! Checks of a running node with the tools operators bring: a gRPC reflection client (what
//! `grpcurl list` and `describe` do), JSON over HTTP (what `curl` does) and the Grafana
//! dashboard's queries against the node's `/metrics`.

pub mod grafana;
pub mod json_api;
pub mod reflection;
