//! The Quilibrium node's protocol core: protobuf wire types (compiled from our own
//! `.proto` files, wire-compatible with the original), the pubsub envelope, iden3
//! Poseidon, and master clock frames (genesis, proving, validation).

pub mod envelope;
pub mod frame;
pub mod limits;
pub mod pb;
pub mod poseidon;
