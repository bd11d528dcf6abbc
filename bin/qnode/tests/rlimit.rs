//! `qnode run`'s open-file limit raise (`src/rlimit.rs`), tested in a process of its own:
//! the test lowers the limit before raising it.

#[path = "../src/rlimit.rs"]
mod rlimit;
