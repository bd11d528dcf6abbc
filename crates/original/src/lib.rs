//! The original node's files, read only, for `qnode init --from-original`: its pebble
//! store ([`pebble`]: WAL, MANIFEST and sstables, as the original writes them) and the
//! proof chain in it ([`proofs`]).
//!
//! Nothing here writes to, locks or repairs the original's directory. What does not parse
//! is refused with the file and what is wrong; a WAL's torn tail (a write cut short) ends
//! the read there, and is reported.

pub mod pebble;
pub mod proofs;
