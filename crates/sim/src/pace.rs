//! How fast the nodes of a devnet or a simulation may go so that all of them fit on this
//! machine. A cold discriminant search costs about 0.1 CPU-second, and every node runs one
//! for each master frame, for each peer's report it verifies and (in its worker) for each
//! of its own increments (in one process, nodes share the discriminant cache, so this
//! overestimates a simulation's load: a safe side to err on). So a devnet's load grows with nodes per frame and per increment, and
//! with nodes² per report window. Each kind of work gets a fifth of the cores; a small
//! devnet keeps the defaults. A saturated machine is not just slow: peers' bandwidth
//! echoes then miss their 2 s limit, and honest nodes penalise each other.

/// CPU-seconds of one cold discriminant when many nodes share the machine: 87 ms alone
/// (docs/performance.md), but 0.16 s per worker proof and about 0.29 s per node
/// verification measured in a saturated 20-node devnet on 2 cores (docs/devnet.md).
const COLD_VERIFY_MS: u64 = 200;
/// Each kind of work (frames, reports, increments) may take 1/SHARES of the cores.
const SHARES: u64 = 5;
/// CPU-seconds per increment at devnet difficulty: the worker's cold discriminant, the
/// proof loop's 16 ms (bench loop, parallelism 1) and the report gossiped to every peer.
const INCREMENT_MS: u64 = COLD_VERIFY_MS + 25;

const MIN_FRAME_INTERVAL_MS: u64 = 1_000;
const REPORT_WINDOW_SECS: u64 = 3;
const MIN_INCREMENT_MS: u64 = 500;

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
    /// The pace for `nodes` nodes sharing `cores` cores.
    pub fn for_machine(nodes: usize, cores: usize) -> Pace {
        let (n, cores) = (nodes as u64, cores.max(1) as u64);
        // Work of `work_ms` per period, within 1/SHARES of the cores.
        let period_ms = |work_ms: u64| (work_ms * SHARES).div_ceil(cores);
        Pace {
            min_frame_interval_ms: MIN_FRAME_INTERVAL_MS.max(period_ms(n * COLD_VERIFY_MS)),
            report_window_secs: REPORT_WINDOW_SECS
                .max(period_ms(n * n.saturating_sub(1) * COLD_VERIFY_MS).div_ceil(1000)),
            min_increment_ms: MIN_INCREMENT_MS.max(period_ms(n * INCREMENT_MS)),
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

    #[test]
    fn small_devnets_keep_the_report_window_and_nearly_the_frame_pace() {
        for nodes in 1..=3 {
            assert_eq!(Pace::for_machine(nodes, 2).report_window_secs, 3);
        }
        assert_eq!(Pace::for_machine(2, 2).min_frame_interval_ms, 1_000);
        let three = Pace::for_machine(3, 2);
        assert_eq!(three.min_frame_interval_ms, 1_500);
        // Three workers' cold discriminants twice a second would take most of the cores.
        assert_eq!(three.min_increment_ms, 1_688);
    }

    #[test]
    fn twenty_nodes_on_two_cores_slow_down_to_fit() {
        let pace = Pace::for_machine(20, 2);
        assert_eq!(pace.min_frame_interval_ms, 10_000);
        assert_eq!(pace.report_window_secs, 190);
        assert_eq!(pace.min_increment_ms, 11_250);
        // The load the pace allows, in CPU-ms per second: within 3/5 of the two cores.
        let load = 20 * COLD_VERIFY_MS * 1000 / 10_000
            + 20 * 19 * COLD_VERIFY_MS / 190
            + 20 * INCREMENT_MS * 1000 / 11_250;
        assert!(load <= 2 * 1000 * 3 / 5, "{load}");
    }

    #[test]
    fn more_cores_allow_a_faster_pace() {
        let (two, eight) = (Pace::for_machine(20, 2), Pace::for_machine(20, 8));
        assert!(eight.min_frame_interval_ms < two.min_frame_interval_ms);
        assert!(eight.report_window_secs < two.report_window_secs);
    }
}
