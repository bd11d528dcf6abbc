//! The node API as JSON over HTTP, on the operator's HTTP listener, at the original's
//! grpc-gateway paths: `POST /quilibrium.node.node.pb.NodeService/<Method>` with the
//! request as protojson (an empty body is `{}`), answered with the response as protojson
//! (lowerCamelCase names, 64-bit integers as strings, bytes as base64, every field
//! present, as grpc-gateway v2 writes them).
//!
//! Each call goes through the gRPC service's own code ([`NodeApi`]), so the two never
//! disagree. Errors are grpc-gateway's JSON status, `{"code", "message", "details"}`, with
//! its HTTP code for the gRPC code. Unlike the gateway, fields the request type does not
//! have are refused (a misspelt field is a mistake worth reporting, not ignoring).

use crate::node_api::{NodeApi, CALL_TIMEOUT, MAX_REQUEST_BYTES};
use crate::status::StatusSource;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use prost::Message;
use prost_reflect::{
    DescriptorPool, DeserializeOptions, DynamicMessage, MethodDescriptor, SerializeOptions,
};
use qnode_protocol::pb::node::node_service_server::NodeService;
use qnode_protocol::pb::{FILE_DESCRIPTOR_SET, NODE_SERVICE};
use qnode_protocol::quote::clip;
use std::future::Future;
use std::sync::{Arc, LazyLock};
use tonic::{Code, Request, Status};

/// The route's path, with `{method}` for the method's name.
pub fn path() -> String {
    format!("/{NODE_SERVICE}/{{method}}")
}

/// The route: POST only, bodies of at most [`MAX_REQUEST_BYTES`].
pub fn route() -> MethodRouter<Arc<StatusSource>> {
    post(call)
        .fallback(|| async {
            let status = Status::new(
                Code::InvalidArgument,
                "use POST with the request as a JSON body (an empty body is {})",
            );
            with_code(StatusCode::METHOD_NOT_ALLOWED, &status)
        })
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

/// The descriptors of the compiled-in `.proto` files.
#[allow(clippy::expect_used)]
static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    // Compiled in and read back by the JSON API's tests: failing to decode them is a
    // broken build, not an input error.
    DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("compiled-in descriptors")
});

async fn call(
    State(source): State<Arc<StatusSource>>,
    method: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = async {
        let Path(method) = method.map_err(|e| Status::invalid_argument(e.body_text()))?;
        let body = body.map_err(|e| {
            let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Code::ResourceExhausted
            } else {
                Code::InvalidArgument
            };
            Status::new(code, e.body_text())
        })?;
        let api = NodeApi::new(source.ctx.clone());
        match tokio::time::timeout(CALL_TIMEOUT, answer(&api, &method, &body)).await {
            Ok(answer) => answer,
            Err(_) => Err(Status::deadline_exceeded("the call took too long")),
        }
    };
    match answer.await {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(status) => error(status),
    }
}

/// The response to `body` as protojson.
async fn answer(api: &NodeApi, method: &str, body: &[u8]) -> Result<Vec<u8>, Status> {
    let method = find(method)?;
    let request = from_json(&method, body)?.encode_to_vec();
    let response = match method.name() {
        "GetFrames" => unary(&request, |r| api.get_frames(r)).await,
        "GetFrameInfo" => unary(&request, |r| api.get_frame_info(r)).await,
        "GetPeerInfo" => unary(&request, |r| api.get_peer_info(r)).await,
        "GetNodeInfo" => unary(&request, |r| api.get_node_info(r)).await,
        "GetNetworkInfo" => unary(&request, |r| api.get_network_info(r)).await,
        "GetTokenInfo" => unary(&request, |r| api.get_token_info(r)).await,
        "GetPeerManifests" => unary(&request, |r| api.get_peer_manifests(r)).await,
        other => Err(Status::unimplemented(format!("{other} is not served"))),
    }?;
    to_json(&method, &response)
}

fn find(name: &str) -> Result<MethodDescriptor, Status> {
    let service = POOL
        .get_service_by_name(NODE_SERVICE)
        .ok_or_else(|| Status::internal("NodeService is not among the compiled-in descriptors"))?;
    let found = service.methods().find(|m| m.name() == name);
    found.ok_or_else(|| {
        let known: Vec<String> = service.methods().map(|m| m.name().to_owned()).collect();
        Status::not_found(format!(
            "{NODE_SERVICE} has no method {:?}; it has {}",
            clip(name),
            known.join(", ")
        ))
    })
}

fn from_json(method: &MethodDescriptor, body: &[u8]) -> Result<DynamicMessage, Status> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    DynamicMessage::deserialize_with_options(method.input(), &mut json, &options)
        .and_then(|message| json.end().map(|()| message))
        .map_err(|e| {
            Status::invalid_argument(format!(
                "the body is not a {} in JSON: {}",
                method.input().name(),
                clip(&e.to_string())
            ))
        })
}

fn to_json(method: &MethodDescriptor, response: &[u8]) -> Result<Vec<u8>, Status> {
    let message = DynamicMessage::decode(method.output(), response)
        .map_err(|e| Status::internal(format!("re-reading our own response: {e}")))?;
    let mut json = serde_json::Serializer::new(Vec::new());
    message
        .serialize_with_options(
            &mut json,
            &SerializeOptions::new().skip_default_fields(false),
        )
        .map_err(|e| Status::internal(format!("writing JSON: {e}")))?;
    Ok(json.into_inner())
}

/// Decodes the request, calls, encodes the response.
async fn unary<Req, Resp, Fut>(
    request: &[u8],
    call: impl FnOnce(Request<Req>) -> Fut,
) -> Result<Vec<u8>, Status>
where
    Req: Message + Default,
    Resp: Message,
    Fut: Future<Output = Result<tonic::Response<Resp>, Status>>,
{
    // The bytes were encoded from a message of this very type: they always decode.
    let request = Req::decode(request).map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(call(Request::new(request))
        .await?
        .into_inner()
        .encode_to_vec())
}

/// grpc-gateway's JSON error with its HTTP code for `status`.
pub fn error(status: Status) -> Response {
    with_code(http_code(status.code()), &status)
}

fn with_code(http: StatusCode, status: &Status) -> Response {
    let body = serde_json::json!({
        "code": status.code() as i32,
        "message": status.message(),
        "details": [],
    });
    (http, axum::Json(body)).into_response()
}

/// grpc-gateway's `HTTPStatusFromCode`.
fn http_code(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        // The gateway answers 429; a body over the limit is the one case here, and 413
        // says what is wrong.
        Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn every_node_service_method_has_a_json_mapping() {
        let service = POOL.get_service_by_name(NODE_SERVICE).unwrap();
        assert_eq!(service.methods().len(), 7);
        for method in service.methods() {
            from_json(&method, b"").unwrap();
            from_json(&method, b"  {}\n").unwrap();
        }
    }

    #[test]
    fn requests_decode_from_protojson_and_bad_ones_are_refused() {
        let method = find("GetFrames").unwrap();
        let request = from_json(
            &method,
            br#"{"filter": "//8=", "fromFrameNumber": "3", "toFrameNumber": 9}"#,
        )
        .unwrap();
        let decoded =
            qnode_protocol::pb::node::GetFramesRequest::decode(&*request.encode_to_vec()).unwrap();
        assert_eq!(decoded.filter, vec![0xff, 0xff]);
        assert_eq!((decoded.from_frame_number, decoded.to_frame_number), (3, 9));
        for bad in [
            r#"{"fromFrameNumber": -1}"#,
            r#"{"fromFrameNumber": 1e30}"#,
            r#"{"fromFrameNumber": "18446744073709551616"}"#,
            r#"{"filter": "not base64!"}"#,
            r#"{"fromFrame": 1}"#,
            r#"{"fromFrameNumber": 1} trailing"#,
            r#"[1, 2]"#,
            "{",
        ] {
            let refused = from_json(&method, bad.as_bytes()).unwrap_err();
            assert_eq!(refused.code(), Code::InvalidArgument, "{bad}");
        }
        assert_eq!(find("Nope").unwrap_err().code(), Code::NotFound);
    }

    #[test]
    fn bad_input_maps_to_4xx() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::ResourceExhausted,
            Code::OutOfRange,
        ] {
            assert!(http_code(code).is_client_error(), "{code:?}");
        }
    }
}
