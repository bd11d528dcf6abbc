//! The Quilibrium node's protocol core: protobuf wire types (compiled from our own
//! `.proto` files, wire-compatible with the original), the pubsub envelope, iden3
//! Poseidon, master clock frames (genesis, proving, validation) and the proof chain's
//! record layout; with them the clock frames are stamped by and how outside input is
//! quoted back in messages.

pub mod clock;
pub mod envelope;
pub mod frame;
pub mod limits;
pub mod pb;
pub mod poseidon;
pub mod proof_record;
pub mod quote;
