//! The node API as JSON, the way `curl` calls it: the original's grpc-gateway paths,
//! protojson bodies, and a JSON error with a 4xx status for every kind of bad input.

use crate::common::http::{get, request};
use qnode_operator::status::Status;
use serde_json::Value;

const PREFIX: &str = "/quilibrium.node.node.pb.NodeService";

fn post(port: u16, method: &str, body: &[u8]) -> (u16, Value) {
    let (code, text) = request(port, "POST", &format!("{PREFIX}/{method}"), body)
        .unwrap_or_else(|| panic!("{method} answers"));
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: {e}: {text}"));
    (code, json)
}

/// A refusal: the given 4xx, with grpc-gateway's `{code, message, details}`.
fn refused(port: u16, method: &str, body: &[u8], http: u16, grpc: i64) -> String {
    let (code, json) = post(port, method, body);
    assert_eq!(
        code,
        http,
        "{method} {:?}: {json}",
        String::from_utf8_lossy(&body[..body.len().min(80)])
    );
    assert_eq!(json["code"], grpc, "{json}");
    assert!(json["details"].is_array(), "{json}");
    json["message"].as_str().unwrap().to_owned()
}

/// Calls answer as the gRPC service does, in protojson.
pub fn answers_like_the_grpc_service(port: u16, node: &Status) {
    let (code, info) = post(port, "GetNodeInfo", b"");
    assert_eq!(code, 200, "{info}");
    assert_eq!(info["peerId"], node.peer_id.as_str());
    assert_eq!(info["version"], "AQQT", "bytes 1.4.19 in base64");
    let max_frame: u64 = info["maxFrame"].as_str().unwrap().parse().unwrap();
    assert!(max_frame >= node.head_frame, "uint64 as a string: {info}");
    assert_eq!(info["peerScore"], "0", "every field present, defaults too");

    let (code, frames) = post(
        port,
        "GetFrames",
        br#"{"fromFrameNumber": 0, "toFrameNumber": "3"}"#,
    );
    assert_eq!(code, 200, "{frames}");
    let numbers: Vec<&str> = frames["truncatedClockFrames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["frameNumber"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["0", "1", "2"]);

    for method in [
        "GetPeerInfo",
        "GetNetworkInfo",
        "GetTokenInfo",
        "GetPeerManifests",
    ] {
        let (code, json) = post(port, method, b"{}");
        assert_eq!(code, 200, "{method}: {json}");
        assert!(json.is_object());
    }
    let (_, tokens) = post(port, "GetTokenInfo", b"");
    assert_eq!(
        tokens["unconfirmedOwnedTokens"].as_str().unwrap().len(),
        44,
        "32 bytes in base64"
    );
}

/// Bad input of every kind is a 4xx with a JSON error, never a 5xx.
pub fn refuses_bad_input_with_json_4xx(port: u16) {
    let message = refused(
        port,
        "GetFrameInfo",
        br#"{"frameNumber": "1099511627776"}"#,
        404,
        5,
    );
    assert!(message.contains("not stored"), "{message}");
    let message = refused(port, "GetFrames", br#"{"filter": "AQEB"}"#, 404, 5);
    assert!(message.contains("master clock"), "{message}");
    refused(port, "NoSuchMethod", b"{}", 404, 5);
    for bad in [
        &b"{"[..],
        b"[]",
        b"\"text\"",
        br#"{"fromFrameNumber": -1}"#,
        br#"{"fromFrameNumber": 1e30}"#,
        br#"{"fromFrameNumber": "18446744073709551616"}"#,
        br#"{"filter": "not base64!"}"#,
        br#"{"fromFrame": 1}"#,
        b"{} {}",
        b"\xff\xfe",
    ] {
        refused(port, "GetFrames", bad, 400, 3);
    }
    let huge = vec![b' '; 1 << 20];
    refused(port, "GetFrames", &huge, 413, 8);

    let (code, text) = get(port, &format!("{PREFIX}/GetNodeInfo")).unwrap();
    assert_eq!(code, 405, "{text}");
    assert!(text.contains("use POST"), "{text}");
    let (code, text) = get(port, "/no/such/path").unwrap();
    assert_eq!(code, 404, "{text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["code"], 5);
}
