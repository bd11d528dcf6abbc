//! Wall-clock time as the node records it: frame timestamps, when a peer was last seen,
//! when the head last moved. One function, so every service reads the same clock.

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
