//! `contrib/grafana/dashboards/qnode.json` queries only metrics the node exports.

use crate::common::http::get;
use serde_json::Value;
use std::collections::BTreeSet;

/// Every string under a key named `expr` or `query`, or a templating `definition`.
fn queries(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr" | "query" | "definition", Value::String(s)) => out.push(s.clone()),
                    _ => queries(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

/// `qnode_…` names in a PromQL expression.
fn metric_names(query: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = query;
    while let Some(at) = rest.find("qnode_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

/// The names `/metrics` on `port` exports, series by series (histograms' `_bucket`,
/// `_sum` and `_count` included).
fn exported(port: u16) -> BTreeSet<String> {
    let (code, text) = get(port, "/metrics").unwrap();
    assert_eq!(code, 200);
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l[..l.find(['{', ' ']).unwrap_or(l.len())].to_owned())
        .collect()
}

pub fn dashboard_queries_only_exported_metrics(port: u16) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../contrib/grafana/dashboards/qnode.json"
    );
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found = Vec::new();
    queries(&dashboard, &mut found);
    let used: BTreeSet<String> = found.iter().flat_map(|q| metric_names(q)).collect();
    let exported = exported(port);
    let unknown: Vec<&String> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "not exported: {unknown:?}; exported: {exported:?}"
    );
    for needed in [
        "qnode_head_frame",
        "qnode_increments_total",
        "qnode_increment_seconds_sum",
        "qnode_peers",
        "qnode_peer_score",
        "qnode_frames_total",
        "qnode_reports_total",
        "qnode_worker_restarts",
        "qnode_store_bytes",
        "qnode_ready",
        "qnode_unclaimed_reward",
        "qnode_proof_increment",
    ] {
        assert!(used.contains(needed), "the dashboard shows {needed}");
    }
}
