//! Service 5, the bandwidth test: sends a peer 1 MiB of random bytes over the direct
//! channel and expects them echoed within 2 s; the measured rate goes to the peer-info
//! manager, a failure (no answer, a different echo, too slow) is an offence. A slow echo
//! measured while this node itself was stalled (its CPU taken by its own verifications, a
//! self-test, or other processes) says nothing about the peer, and is not held against it.

use crate::context::ServiceContext;
use prost::Message;
use qnode_p2p::{DirectKind, NetworkError, PeerId};
use qnode_protocol::limits::{self, Kind};
use qnode_protocol::pb::node::ValidationMessage;
use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant, MissedTickBehavior};

/// The test's payload size.
pub const PAYLOAD_BYTES: usize = 1_048_576;
/// Slower than this is an offence.
pub const MAX_MILLIS: u128 = 2000;
/// Peers waiting for a test; more are dropped (they are asked again on a later report).
pub const QUEUE_CAPACITY: usize = 64;
/// While it waits for the echo, the test wakes this often to see whether this node is
/// scheduled on time.
const STALL_PROBE: Duration = Duration::from_millis(50);
/// A wake-up later than this counts as a stall: timer jitter on a busy but healthy
/// runtime stays well below it.
const STALL_SLACK: Duration = Duration::from_millis(20);
/// A slow echo is held against the peer only if this node was stalled for less than this
/// while it waited: a tenth of the limit.
pub const MAX_STALL_MILLIS: u128 = MAX_MILLIS / 10;

/// Why a test failed.
#[derive(Debug, thiserror::Error)]
pub enum BandwidthFailure {
    /// The request failed or timed out.
    #[error("no echo: {0}")]
    NoEcho(#[source] NetworkError),
    /// The answer was not our payload.
    #[error("the echo differs from what was sent")]
    WrongEcho,
    /// It took too long.
    #[error("echo took {0} ms (limit 2000)")]
    TooSlow(u128),
    /// The echo was late or never came, but this node was itself stalled while it waited
    /// (not the peer's fault: asked again at its next report).
    #[error("no timely echo, but this node was stalled for {stalled_ms} ms of the {waited_ms} ms it waited")]
    LocalStall {
        /// How long the test waited.
        waited_ms: u128,
        /// How much of that this node was not scheduled.
        stalled_ms: u128,
    },
    /// No randomness for the payload (not the peer's fault).
    #[error("random payload: {0}")]
    Local(#[source] getrandom::Error),
}

/// Measures `peer`; returns bytes per second.
pub async fn measure(ctx: &ServiceContext, peer: PeerId) -> Result<u64, BandwidthFailure> {
    let mut payload = vec![0u8; PAYLOAD_BYTES];
    getrandom::fill(&mut payload).map_err(BandwidthFailure::Local)?;
    let request = ValidationMessage {
        validation: payload,
    };
    let exchange = ctx
        .network
        .request(peer, DirectKind::Validation, request.encode_to_vec());
    let (answer, waited, stalled) = watch_for_stalls(exchange).await;
    judge(answer, &request.validation, waited, stalled)
}

/// The test's outcome: the answer to `payload` came (or failed) after `waited`, `stalled`
/// of which this node could not run. Lateness is blamed on the peer only when this node
/// was not stalled; a wrong echo is the peer's whatever our state.
fn judge(
    answer: Result<Vec<u8>, NetworkError>,
    payload: &[u8],
    waited: Duration,
    stalled: Duration,
) -> Result<u64, BandwidthFailure> {
    let (millis, stalled_ms) = (waited.as_millis(), stalled.as_millis());
    let late = |failure| {
        if stalled_ms >= MAX_STALL_MILLIS {
            BandwidthFailure::LocalStall {
                waited_ms: millis,
                stalled_ms,
            }
        } else {
            failure
        }
    };
    let answer = answer.map_err(|e| match e {
        NetworkError::TimedOut => late(BandwidthFailure::NoEcho(e)),
        e => BandwidthFailure::NoEcho(e),
    })?;
    let echo: ValidationMessage = limits::decode(Kind::ValidationMessage, &answer)
        .map_err(|_| BandwidthFailure::WrongEcho)?;
    if echo.validation != payload {
        return Err(BandwidthFailure::WrongEcho);
    }
    if millis > MAX_MILLIS {
        return Err(late(BandwidthFailure::TooSlow(millis)));
    }
    // The original divides by the milliseconds as measured; a local echo can take < 1 ms.
    Ok((PAYLOAD_BYTES as u128 * 1000 / millis.max(1)) as u64)
}

/// Awaits `work`; also returns how long that took, and for how much of it this task was
/// woken late (by more than [`STALL_SLACK`] per wake-up): the time this node could not run.
async fn watch_for_stalls<T>(work: impl Future<Output = T>) -> (T, Duration, Duration) {
    let started = Instant::now();
    let mut probe = tokio::time::interval_at(started + STALL_PROBE, STALL_PROBE);
    probe.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stalled = Duration::ZERO;
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            output = &mut work => return (output, started.elapsed(), stalled),
            due = probe.tick() => stalled += due.elapsed().saturating_sub(STALL_SLACK),
        }
    }
}

/// How long a queued test may wait, at random, before it runs: a tenth of the report
/// window (27 s on a real network). A node's first report reaches all its peers at once,
/// and each then asks it for 1 MiB: run together, those echoes share its uplink and all
/// miss the 2 s limit (the simulation saw 5 s echoes when fifty nodes did so on one
/// machine). A peer is tested at most once per window anyway, so spreading costs no
/// coverage; a paced devnet's long window spreads its tests as thinly as its reports.
pub fn spread_for(report_window: Duration) -> Duration {
    report_window / 10
}

/// Tests queued peers one at a time, each at a random moment within `spread` of its
/// queueing (see [`spread_for`]), until the queue closes.
pub async fn run(ctx: Arc<ServiceContext>, mut peers: mpsc::Receiver<PeerId>, spread: Duration) {
    let mut due: BinaryHeap<Reverse<(Instant, PeerId)>> = BinaryHeap::new();
    loop {
        let next = due.peek().map(|Reverse((at, _))| *at);
        tokio::select! {
            queued = peers.recv() => match queued {
                None => return,
                Some(peer) if due.iter().any(|Reverse((_, p))| *p == peer) => {}
                Some(peer) if due.len() >= QUEUE_CAPACITY => {
                    tracing::debug!(%peer, "bandwidth tests full; asked again at its next report");
                }
                Some(peer) => {
                    let wait = rand::thread_rng().gen_range(Duration::ZERO..=spread);
                    due.push(Reverse((Instant::now() + wait, peer)));
                }
            },
            () = sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                if let Some(Reverse((_, peer))) = due.pop() {
                    test(&ctx, peer).await;
                }
            }
        }
    }
}

/// What became of a test: the label of `qnode_bandwidth_tests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The echo came back whole within the limit.
    Passed,
    /// An offence: no echo, a wrong one, or a late one while this node kept running.
    Failed,
    /// The connection closed first: no offence.
    Interrupted,
    /// Late, but this node was stalled meanwhile: no offence.
    Inconclusive,
}

impl Outcome {
    /// The metric's label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

async fn test(ctx: &ServiceContext, peer: PeerId) {
    if !ctx.peers.get(&peer).is_some_and(|info| info.connected) {
        tracing::debug!(%peer, "bandwidth test skipped: not connected");
        return;
    }
    let outcome = match measure(ctx, peer).await {
        Ok(bandwidth) => {
            ctx.peers.update(peer, |info| info.bandwidth = bandwidth);
            tracing::info!(%peer, bandwidth, "bandwidth test passed");
            Outcome::Passed
        }
        Err(BandwidthFailure::Local(e)) => {
            tracing::error!("bandwidth test: {e}");
            return;
        }
        Err(BandwidthFailure::NoEcho(
            e @ (NetworkError::ConnectionClosed | NetworkError::NotConnected),
        )) => {
            // Its connection manager (or ours) closed the connection: no offence, and its
            // next report asks again.
            tracing::debug!(%peer, "bandwidth test interrupted: {e}");
            Outcome::Interrupted
        }
        Err(stall @ BandwidthFailure::LocalStall { .. }) => {
            tracing::info!(%peer, "bandwidth test inconclusive: {stall}");
            Outcome::Inconclusive
        }
        Err(failure) => {
            ctx.penalize(peer, &format!("bandwidth test: {failure}"))
                .await;
            Outcome::Failed
        }
    };
    ctx.metrics
        .bandwidth_tests
        .with_label_values(&[outcome.label()])
        .inc();
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Duration = Duration::from_millis(2500);
    const STALLED: Duration = Duration::from_millis(MAX_STALL_MILLIS as u64);
    const STEADY: Duration = Duration::from_millis(MAX_STALL_MILLIS as u64 - 1);

    fn echo(payload: &[u8]) -> Result<Vec<u8>, NetworkError> {
        let message = ValidationMessage {
            validation: payload.to_vec(),
        };
        Ok(message.encode_to_vec())
    }

    #[test]
    fn a_slow_echo_is_the_peer_s_fault_only_if_this_node_kept_running() {
        let payload = [7u8; 64];
        let verdict = judge(echo(&payload), &payload, SLOW, STEADY);
        assert!(
            matches!(verdict, Err(BandwidthFailure::TooSlow(2500))),
            "{verdict:?}"
        );
        let verdict = judge(echo(&payload), &payload, SLOW, STALLED);
        assert!(
            matches!(
                verdict,
                Err(BandwidthFailure::LocalStall {
                    waited_ms: 2500,
                    stalled_ms: 200
                })
            ),
            "{verdict:?}"
        );
        let timed_out = || Err(NetworkError::TimedOut);
        let verdict = judge(timed_out(), &payload, SLOW, STEADY);
        assert!(
            matches!(
                verdict,
                Err(BandwidthFailure::NoEcho(NetworkError::TimedOut))
            ),
            "{verdict:?}"
        );
        let verdict = judge(timed_out(), &payload, SLOW, STALLED);
        assert!(
            matches!(verdict, Err(BandwidthFailure::LocalStall { .. })),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_wrong_echo_is_the_peer_s_fault_even_when_this_node_stalled() {
        let payload = [7u8; 64];
        let fast = Duration::from_millis(10);
        for waited in [fast, SLOW] {
            let verdict = judge(echo(&[8u8; 64]), &payload, waited, STALLED);
            assert!(
                matches!(verdict, Err(BandwidthFailure::WrongEcho)),
                "{verdict:?}"
            );
            let verdict = judge(Ok(vec![0xff; 3]), &payload, waited, STALLED);
            assert!(
                matches!(verdict, Err(BandwidthFailure::WrongEcho)),
                "{verdict:?}"
            );
        }
        let refused = Err(NetworkError::Operation("unsupported protocol".into()));
        let verdict = judge(refused, &payload, fast, STALLED);
        assert!(
            matches!(
                verdict,
                Err(BandwidthFailure::NoEcho(NetworkError::Operation(_)))
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_timely_echo_gives_the_rate_even_after_a_stall() {
        let payload = [7u8; 64];
        let verdict = judge(
            echo(&payload),
            &payload,
            Duration::from_millis(500),
            STALLED,
        );
        assert_eq!(verdict.unwrap(), PAYLOAD_BYTES as u64 * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_on_a_free_runtime_counts_no_stall() {
        let ((), waited, stalled) = watch_for_stalls(tokio::time::sleep(SLOW)).await;
        assert_eq!(waited, SLOW);
        assert_eq!(stalled, Duration::ZERO);
    }

    #[tokio::test]
    async fn a_blocked_runtime_counts_the_time_as_stalled() {
        // This test's runtime has one thread: the task below blocks it for 300 ms while the
        // watcher waits, so its first wake-up (due at 50 ms) comes at least 250 ms late.
        tokio::spawn(async { std::thread::sleep(Duration::from_millis(300)) });
        let work = tokio::time::sleep(Duration::from_millis(400));
        let ((), waited, stalled) = watch_for_stalls(work).await;
        assert!(stalled >= Duration::from_millis(230), "{stalled:?}");
        assert!(stalled <= waited, "{stalled:?} of {waited:?}");
    }
}
