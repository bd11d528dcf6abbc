//! When to dial an absent bootstrap peer again: at once the first time, then after a wait
//! that doubles (3 s up to 2 min) each time it is found absent again, back to 3 s once it
//! has stayed connected a minute. A bootstrap peer that refuses or trims us (it is full, or
//! it scored us out) is then not dialled every few seconds: each dial costs both ends a
//! TCP and Noise handshake, with an Ed448 signature made and checked each way.

use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The first wait, the maintenance tick's period.
const FIRST_WAIT: Duration = Duration::from_secs(3);
/// The longest wait: a bootstrap peer that comes back is found within this.
const MAX_WAIT: Duration = Duration::from_secs(120);
/// A connection that lasted this long shows the peer takes us: the wait starts over.
const STABLE: Duration = Duration::from_secs(60);

/// Each bootstrap peer's next dial.
#[derive(Default)]
pub(crate) struct Redial {
    peers: HashMap<PeerId, Backoff>,
}

struct Backoff {
    next: Instant,
    wait: Duration,
    connected_since: Option<Instant>,
}

impl Redial {
    /// Whether to dial `peer` now, told whether it is connected now.
    pub(crate) fn due(&mut self, peer: PeerId, connected: bool, now: Instant) -> bool {
        let backoff = self.peers.entry(peer).or_insert(Backoff {
            next: now,
            wait: FIRST_WAIT,
            connected_since: None,
        });
        if connected {
            let since = *backoff.connected_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= STABLE {
                backoff.wait = FIRST_WAIT;
            }
            return false;
        }
        backoff.connected_since = None;
        if now < backoff.next {
            return false;
        }
        backoff.next = now + backoff.wait;
        backoff.wait = (backoff.wait * 2).min(MAX_WAIT);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seconds after `start` at which an always-absent peer is dialled, ticking every
    /// second for `seconds`.
    fn dials(redial: &mut Redial, peer: PeerId, start: Instant, seconds: u64) -> Vec<u64> {
        (0..seconds)
            .filter(|s| redial.due(peer, false, start + Duration::from_secs(*s)))
            .collect()
    }

    #[test]
    fn an_absent_peer_is_dialled_at_once_then_ever_less_often_up_to_two_minutes() {
        let (mut redial, peer, start) = (Redial::default(), PeerId::random(), Instant::now());
        let at = dials(&mut redial, peer, start, 600);
        assert_eq!(&at[..7], [0, 3, 9, 21, 45, 93, 189]);
        let gaps: Vec<u64> = at.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g <= 120), "{gaps:?}");
        assert_eq!(gaps.last(), Some(&120));
    }

    #[test]
    fn a_peer_that_stays_connected_a_minute_is_redialled_at_once_when_it_goes() {
        let (mut redial, peer, start) = (Redial::default(), PeerId::random(), Instant::now());
        dials(&mut redial, peer, start, 200);
        let later = start + Duration::from_secs(300);
        // Connected but briefly (a trim): the wait stays at two minutes.
        assert!(!redial.due(peer, true, later));
        assert!(redial.due(peer, false, later + Duration::from_secs(10)));
        assert!(!redial.due(peer, false, later + Duration::from_secs(13)));
        // Connected for a minute: the wait starts over.
        let back = later + Duration::from_secs(400);
        for s in 0..=60 {
            assert!(!redial.due(peer, true, back + Duration::from_secs(s)));
        }
        let gone = back + Duration::from_secs(61);
        assert!(redial.due(peer, false, gone));
        assert!(!redial.due(peer, false, gone + Duration::from_secs(2)));
        assert!(redial.due(peer, false, gone + Duration::from_secs(3)));
    }
}
