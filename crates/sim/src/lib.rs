//! Simulated qnode networks, for measuring how the design scales: many real nodes — the
//! node's own services, unmodified — in one process, on 127.0.0.1, each handed to the
//! simulation through [`qnode_node::ContextObserver`] so it can be watched.
//!
//! One process also shares what a machine of many processes would compute again and
//! again: the discriminant cache, so a frame's or a report's discriminant is found once
//! for every node that verifies it.

pub mod forger;
pub mod heads;
pub mod network;
pub mod node;
pub mod pace;
pub mod plan;
pub mod run;
pub mod wait;
