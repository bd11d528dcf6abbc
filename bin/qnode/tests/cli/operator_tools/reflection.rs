//! What `grpcurl -plaintext ADDR list` and `describe` ask: the services, then the file
//! declaring a symbol and every file it imports, through server reflection (v1 and the
//! v1alpha older grpcurl versions use).

use prost::Message;
use prost_types::FileDescriptorProto;
use qnode_protocol::pb::NODE_SERVICE;
use std::collections::BTreeMap;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};
use tonic_reflection::pb::v1alpha;

async fn channel(url: &str) -> tonic::transport::Channel {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned()).unwrap();
    endpoint.connect().await.unwrap()
}

/// The answers to `requests`, sent on one reflection stream.
async fn stream(
    url: &str,
    requests: Vec<MessageRequest>,
) -> tonic::Streaming<ServerReflectionResponse> {
    let mut client = ServerReflectionClient::new(channel(url).await);
    let requests = requests.into_iter().map(|m| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(m),
    });
    client
        .server_reflection_info(futures::stream::iter(requests))
        .await
        .unwrap()
        .into_inner()
}

async fn ask(url: &str, requests: Vec<MessageRequest>) -> Vec<MessageResponse> {
    let count = requests.len();
    let mut answers = stream(url, requests).await;
    let mut out = Vec::new();
    while out.len() < count {
        let answer = answers.message().await.unwrap().expect("an answer each");
        out.push(answer.message_response.unwrap());
    }
    out
}

fn files(answer: &MessageResponse) -> Vec<FileDescriptorProto> {
    match answer {
        MessageResponse::FileDescriptorResponse(files) => files
            .file_descriptor_proto
            .iter()
            .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).unwrap())
            .collect(),
        other => panic!("not a file: {other:?}"),
    }
}

/// `list`, `describe NodeService`, `describe GetFramesRequest`, every import resolved.
pub async fn lists_and_describes_node_service(url: &str) {
    let answers = ask(
        url,
        vec![
            MessageRequest::ListServices(String::new()),
            MessageRequest::FileContainingSymbol(NODE_SERVICE.into()),
            MessageRequest::FileContainingSymbol("quilibrium.node.node.pb.GetFramesRequest".into()),
        ],
    )
    .await;
    let MessageResponse::ListServicesResponse(list) = &answers[0] else {
        panic!("{:?}", answers[0]);
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, [NODE_SERVICE], "only the node API is listed");

    let mut known: BTreeMap<String, FileDescriptorProto> = BTreeMap::new();
    for answer in &answers[1..] {
        for file in files(answer) {
            known.insert(file.name().to_owned(), file);
        }
    }
    let node = known.get("node.proto").expect("node.proto described");
    let service = node
        .service
        .iter()
        .find(|s| s.name() == "NodeService")
        .unwrap();
    let methods: Vec<&str> = service.method.iter().map(|m| m.name()).collect();
    assert_eq!(
        methods,
        [
            "GetFrames",
            "GetFrameInfo",
            "GetPeerInfo",
            "GetNodeInfo",
            "GetNetworkInfo",
            "GetTokenInfo",
            "GetPeerManifests"
        ]
    );
    let request = node
        .message_type
        .iter()
        .find(|m| m.name() == "GetFramesRequest")
        .unwrap();
    let fields: Vec<&str> = request.field.iter().map(|f| f.name()).collect();
    assert!(fields.contains(&"from_frame_number"), "{fields:?}");

    // grpcurl resolves each import by name before it can describe a type.
    let imports: Vec<String> = node.dependency.clone();
    assert!(!imports.is_empty());
    let by_name = ask(
        url,
        imports
            .iter()
            .map(|name| MessageRequest::FileByFilename(name.clone()))
            .collect(),
    )
    .await;
    for (name, answer) in imports.iter().zip(&by_name) {
        assert!(files(answer).iter().any(|f| f.name() == name), "{name}");
    }
    unknown_symbol_is_not_found(url).await;
}

/// An unknown symbol ends the stream with NOT_FOUND, which grpcurl reports as such.
async fn unknown_symbol_is_not_found(url: &str) {
    let unknown = MessageRequest::FileContainingSymbol("no.such.Symbol".into());
    let mut answers = stream(url, vec![unknown]).await;
    let refused = answers.message().await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound, "{refused:?}");
}

/// The older protocol lists the same service.
pub async fn v1alpha_lists_node_service(url: &str) {
    use v1alpha::server_reflection_client::ServerReflectionClient as Client;
    use v1alpha::server_reflection_request::MessageRequest as Request;
    use v1alpha::server_reflection_response::MessageResponse as Response;
    let mut client = Client::new(channel(url).await);
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(Request::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(Response::ListServicesResponse(list)) = answer.message_response else {
        panic!("{answer:?}");
    };
    assert_eq!(list.service[0].name, NODE_SERVICE);
}
