//! Per-peer token buckets: a peer may burst, then is held to a steady rate; what exceeds it
//! is dropped before any decoding or verification work is spent on it.

use libp2p::PeerId;
use std::collections::HashMap;
use std::time::Instant;

/// A burst size and a steady rate per peer.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Messages allowed at once.
    pub burst: f64,
    /// Messages per second after the burst.
    pub per_second: f64,
}

/// Token buckets for every peer that sent something recently.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: Rate,
    buckets: HashMap<PeerId, (f64, Instant)>,
}

/// Buckets of peers idle this long are full again, so they are forgotten.
const FORGET_AFTER_SECS: f64 = 600.0;

impl RateLimiter {
    pub(crate) fn new(rate: Rate) -> Self {
        RateLimiter {
            rate,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `peer`; false when the peer is over its rate.
    pub(crate) fn allow(&mut self, peer: PeerId, now: Instant) -> bool {
        let rate = self.rate;
        let (tokens, last) = self.buckets.entry(peer).or_insert((rate.burst, now));
        let refill = now.saturating_duration_since(*last).as_secs_f64() * rate.per_second;
        *tokens = (*tokens + refill).min(rate.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops the buckets of peers quiet for long enough to be full again.
    pub(crate) fn forget_idle(&mut self, now: Instant) {
        self.buckets.retain(|_, (_, last)| {
            now.saturating_duration_since(*last).as_secs_f64() < FORGET_AFTER_SECS
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let mut limiter = RateLimiter::new(Rate {
            burst: 3.0,
            per_second: 2.0,
        });
        let (peer, other) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(peer, t0)));
        assert!(!limiter.allow(peer, t0), "the burst is spent");
        assert!(limiter.allow(other, t0), "peers are limited separately");
        assert!(!limiter.allow(peer, t0 + Duration::from_millis(400)));
        assert!(
            limiter.allow(peer, t0 + Duration::from_millis(600)),
            "one token after 0.5 s"
        );
        let later = t0 + Duration::from_secs(100);
        assert!((0..3).all(|_| limiter.allow(peer, later)));
        assert!(!limiter.allow(peer, later), "refill stops at the burst");
    }
}
