//! A node's HTTP endpoints as a test reads them: plain GETs and parsed metrics.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A plain HTTP/1.1 GET: (status code, body).
pub fn get(port: u16, path: &str) -> Option<(u16, String)> {
    request(port, "GET", path, b"")
}

/// A plain HTTP/1.1 request with `body`: (status code, body).
pub fn request(port: u16, method: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .ok()?;
    // A server may answer (413) before reading the whole body: the answer still counts.
    let _ = stream.write_all(body);
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let code = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_string();
    Some((code, body))
}

/// `/metrics` on `port`, parsed.
pub fn scrape(port: u16) -> prometheus_parse::Scrape {
    let (code, text) = get(port, "/metrics").expect("/metrics answers");
    assert_eq!(code, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus text")
}

/// The value of the one sample of `name` (with `label`, if given).
pub fn sample(scrape: &prometheus_parse::Scrape, name: &str, label: Option<(&str, &str)>) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| value(&s.value))
        .next()
        .unwrap_or_else(|| panic!("no sample {name} {label:?}"))
}

/// A counter's, gauge's or untyped sample's value (histograms and summaries: NaN).
pub fn value(v: &prometheus_parse::Value) -> f64 {
    match v {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        _ => f64::NAN,
    }
}
