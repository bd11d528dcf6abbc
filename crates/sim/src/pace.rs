//! How fast the nodes of a devnet or a simulation may go so that all of them fit on this
//! machine. A cold discriminant search (a 2048-bit prime search) dominates every check,
//! and every node runs one for each master frame, for each peer's report it verifies and
//! (in its worker) for each of its own increments. So the load grows with nodes per frame
//! and per increment, and with nodes² per report window. A saturated machine is not just
//! slow: verifications fall behind, and a node's answers to its peers' bandwidth tests come
//! late (its compute threads yield to its networking, see `qnode-compute`, but dozens of
//! nodes' networking still shares two cores).

use std::time::Instant;

/// The simulation's assumed CPU cost of a cold discriminant (a release build on our 2
/// cores: 55–150 ms a search on 2 threads): a safe side to err on.
const ASSUMED_COLD_MS: u64 = 200;
/// CPU-ms each simulated node spends on a frame or a report another node already checked:
/// its gossip, its envelope and the memo lookups.
const SHARED_PER_NODE_MS: u64 = 2;
/// CPU-ms of one bandwidth test, both ends: 2 MiB through Noise and yamux, copied.
const BANDWIDTH_TEST_MS: u64 = 20;
/// Peers a simulated node keeps (measured: 18–19 on average from 24 to 100 nodes).
const ASSUMED_DEGREE: u64 = 20;
/// The simulation gives each kind of work (frames, reports, increments) 1/SHARES of the
/// cores.
const SHARES: u64 = 5;
/// CPU-ms per increment beyond the worker's search: the proof loop's 16 ms (bench loop,
/// parallelism 1) and the report gossiped to every peer.
const INCREMENT_EXTRA_MS: u64 = 25;

const MIN_FRAME_INTERVAL_MS: u64 = 1_000;
const REPORT_WINDOW_SECS: u64 = 3;
const MIN_INCREMENT_MS: u64 = 500;

/// A devnet may use this many thousandths of the cores in all…
const DEVNET_BUDGET: u64 = 600;
/// …of which reports may take up to this many: first, because every peer's report is
/// first verified a whole window after its first one, and the devnet must verify every
/// peer within minutes. Frames and increments share what reports leave.
const DEVNET_REPORT_BUDGET: u64 = 400;

/// The fixed challenges the devnet times: the same work on every run, so the time says how
/// fast the machine is now.
const CALIBRATION_SEARCHES: u64 = 12;
/// A search's CPU time among many nodes over its CPU time alone: 0.29 s against 0.25 s,
/// measured in a 20-node devnet on 2 cores (perf: OpenSSL's share of the samples, against
/// the searches the logs count).
const CONTENTION: (u64, u64) = (6, 5);

/// The pacing flags every node of a devnet gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// `--min-frame-interval-ms`: each node verifies (or proves) every frame.
    pub min_frame_interval_ms: u64,
    /// `--report-window-secs`: each node verifies each peer's report once per window.
    pub report_window_secs: u64,
    /// `--min-increment-ms`.
    pub min_increment_ms: u64,
}

impl Pace {
    /// The pace for a simulation of `nodes` nodes sharing `cores` cores. The nodes share
    /// one process, so a frame's or a report's checks are done once for all of them
    /// (`qnode-memo`: VDF proofs and verdicts, hashes, signatures): each costs one cold
    /// search, plus what every node still does itself with it (gossip, envelope, memo
    /// lookups). Each node's increments stay its own: their challenges differ.
    pub fn for_simulation(nodes: usize, cores: usize) -> Pace {
        let (n, cores) = (nodes as u64, cores.max(1) as u64);
        // Work of `work_ms` per period, within 1/SHARES of the cores.
        let period_ms = |work_ms: u64| (work_ms * SHARES).div_ceil(cores);
        let checked_once = ASSUMED_COLD_MS + n * SHARED_PER_NODE_MS;
        // Per window, each peer's report checked once, and each node's connected peers
        // given a bandwidth test (1 MiB each way through Noise: nothing to share).
        let window_work_ms = n * checked_once + n * ASSUMED_DEGREE * BANDWIDTH_TEST_MS;
        Pace {
            min_frame_interval_ms: MIN_FRAME_INTERVAL_MS.max(period_ms(checked_once)),
            report_window_secs: REPORT_WINDOW_SECS.max(period_ms(window_work_ms).div_ceil(1000)),
            min_increment_ms: MIN_INCREMENT_MS
                .max(period_ms(n * (ASSUMED_COLD_MS + INCREMENT_EXTRA_MS))),
        }
    }

    /// The pace for a devnet of `nodes` processes sharing `cores` cores, where a cold
    /// discriminant costs `cold_ms` of CPU ([`measure_cold_ms`]). Reports get the shortest
    /// window within their share; frames and increments split the rest of the budget.
    pub fn for_devnet(nodes: usize, cores: usize, cold_ms: u64) -> Pace {
        let (n, cores) = (nodes as u64, cores.max(1) as u64);
        // Loads in CPU-ms per second.
        let budget = cores * DEVNET_BUDGET;
        let report_work_ms = n * n.saturating_sub(1) * cold_ms;
        let report_window_secs =
            REPORT_WINDOW_SECS.max(report_work_ms.div_ceil(cores * DEVNET_REPORT_BUDGET));
        let rest_per_kind = (budget - report_work_ms / report_window_secs) / 2;
        let period_ms = |work_ms: u64| (work_ms * 1000).div_ceil(rest_per_kind);
        Pace {
            min_frame_interval_ms: MIN_FRAME_INTERVAL_MS.max(period_ms(n * cold_ms)),
            report_window_secs,
            min_increment_ms: MIN_INCREMENT_MS.max(period_ms(n * (cold_ms + INCREMENT_EXTRA_MS))),
        }
    }

    /// The flags that set it on `qnode run`.
    pub fn args(&self) -> [String; 6] {
        [
            "--min-frame-interval-ms".into(),
            self.min_frame_interval_ms.to_string(),
            "--report-window-secs".into(),
            self.report_window_secs.to_string(),
            "--min-increment-ms".into(),
            self.min_increment_ms.to_string(),
        ]
    }
}

/// The CPU-ms one cold discriminant search costs on this machine now, among many nodes: a
/// fixed set of searches timed (each uses every core), times the contention measured in a
/// devnet. About a second and a half on our 2-core machine at its slowest.
pub fn measure_cold_ms() -> u64 {
    let search = |i: u64| qnode_vdf::create_discriminant(format!("qnode pace {i}").as_bytes());
    // Untimed: the first search also builds the sieve's tables.
    search(CALIBRATION_SEARCHES);
    let started = Instant::now();
    (0..CALIBRATION_SEARCHES).for_each(|i| drop(search(i)));
    let wall_ms = started.elapsed().as_millis() as u64 / CALIBRATION_SEARCHES;
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get()) as u64;
    (wall_ms * threads * CONTENTION.0 / CONTENTION.1).max(1)
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a frame at most every {:.2} s, each peer's report verified at most every {} s, \
             an increment at most every {:.2} s",
            self.min_frame_interval_ms as f64 / 1000.0,
            self.report_window_secs,
            self.min_increment_ms as f64 / 1000.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CPU-ms per second a devnet at `pace` spends, at `cold_ms` per search.
    fn devnet_load(nodes: u64, cold_ms: u64, pace: Pace) -> u64 {
        nodes * cold_ms * 1000 / pace.min_frame_interval_ms
            + nodes * nodes.saturating_sub(1) * cold_ms / pace.report_window_secs
            + nodes * (cold_ms + INCREMENT_EXTRA_MS) * 1000 / pace.min_increment_ms
    }

    #[test]
    fn a_devnet_stays_within_three_fifths_of_the_cores() {
        for nodes in 1..=50 {
            for cold_ms in [50, 130, 200, 300, 600, 2_000] {
                for cores in [1, 2, 8] {
                    let pace = Pace::for_devnet(nodes, cores, cold_ms);
                    let load = devnet_load(nodes as u64, cold_ms, pace);
                    assert!(
                        load <= cores as u64 * DEVNET_BUDGET,
                        "{nodes} nodes, {cold_ms} ms, {cores} cores: {load} ({pace})"
                    );
                }
            }
        }
    }

    #[test]
    fn twenty_nodes_verify_every_peer_within_five_minutes_on_a_machine_twice_as_slow() {
        // 130 ms: this machine at its fastest (55 ms a search on 2 threads, ×1.2); 300 ms
        // at its slowest; 400 ms: slower than we have seen it.
        for cold_ms in [130, 300, 400] {
            let pace = Pace::for_devnet(20, 2, cold_ms);
            // The last node starts after 19 s and reports its first increment within
            // seconds; its peers verify the first report that comes a window after that.
            let last_due_ms =
                19_000 + 5_000 + pace.report_window_secs * 1000 + pace.min_increment_ms;
            assert!(
                last_due_ms <= 270_000,
                "{cold_ms} ms: {last_due_ms} ({pace})"
            );
        }
    }

    #[test]
    fn a_slower_machine_gets_a_slower_devnet() {
        let (fast, slow) = (Pace::for_devnet(20, 2, 130), Pace::for_devnet(20, 2, 300));
        assert!(slow.min_frame_interval_ms > fast.min_frame_interval_ms);
        assert!(slow.report_window_secs > fast.report_window_secs);
        assert!(slow.min_increment_ms > fast.min_increment_ms);
        let (two, eight) = (Pace::for_devnet(20, 2, 200), Pace::for_devnet(20, 8, 200));
        assert!(eight.report_window_secs < two.report_window_secs);
    }

    #[test]
    fn small_devnets_keep_the_defaults_where_the_work_is_light() {
        let three = Pace::for_devnet(3, 2, 200);
        assert_eq!(three.report_window_secs, 3);
        assert_eq!(three.min_frame_interval_ms, 1_500);
        assert_eq!(Pace::for_devnet(1, 2, 200).min_frame_interval_ms, 1_000);
    }

    #[test]
    fn simulated_frames_come_every_few_seconds_up_to_hundreds_of_nodes() {
        let pace = Pace::for_simulation(20, 2);
        assert_eq!(pace.min_frame_interval_ms, 1_000);
        assert_eq!(pace.report_window_secs, 32);
        assert_eq!(pace.min_increment_ms, 11_250);
        let large = Pace::for_simulation(200, 2);
        assert_eq!(large.min_frame_interval_ms, 1_500);
        assert_eq!(large.report_window_secs, 500);
        assert_eq!(Pace::for_simulation(500, 2).min_frame_interval_ms, 3_000);
        assert_eq!(Pace::for_simulation(2, 2).report_window_secs, 4);
    }
}
