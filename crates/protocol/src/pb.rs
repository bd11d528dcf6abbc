//! Generated protobuf types and gRPC services, nested by package as the `.proto` files
//! declare them, with short aliases.
#![allow(missing_docs, unused_qualifications, clippy::all)]

/// The packages of the original node, `quilibrium.node.*.pb`.
pub mod quilibrium {
    pub mod node {
        pub mod application {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.application.pb");
            }
        }
        pub mod channel {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.channel.pb");
            }
        }
        pub mod clock {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.clock.pb");
            }
        }
        pub mod data {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.data.pb");
            }
        }
        pub mod keys {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.keys.pb");
            }
        }
        pub mod node {
            pub mod pb {
                tonic::include_proto!("quilibrium.node.node.pb");
            }
        }
    }
}

pub use quilibrium::node::application::pb as application;
pub use quilibrium::node::channel::pb as channel;
pub use quilibrium::node::clock::pb as clock;
pub use quilibrium::node::data::pb as data;
pub use quilibrium::node::keys::pb as keys;
pub use quilibrium::node::node::pb as node;

/// Every `.proto` file above as an encoded `FileDescriptorSet`: what the node API's
/// reflection service describes and its JSON mapping reads field names from.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/file_descriptor_set.bin"));

/// The node API's gRPC service name, as the original's `node.proto` declares it.
pub const NODE_SERVICE: &str = "quilibrium.node.node.pb.NodeService";
