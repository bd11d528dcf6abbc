//! qnode's node services, one module per service of the original's master clock engine.
//! So far: the master time reel (service 3).

pub mod master_time_reel;
