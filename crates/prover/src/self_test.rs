//! The self-test: how long this machine takes to prove a master clock frame (the
//! original's difficulty metric) and to commit and open KZG polynomials at each supported
//! size. The report is kept in `CONFIG_DIR/self-test.json` and reused at start unless the
//! hardware, qnode's version, the difficulty or the KZG setup changed.

use qnode_kzg::{Scalar, Setup, SIZES};
use qnode_protocol::frame;
use qnode_protocol::pb::clock::ClockFrame;
use qnode_protocol::pb::node::SelfTestReport;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// The report's file name in a config directory.
pub const REPORT_FILE: &str = "self-test.json";

/// What a report is valid for: if any of this changes, the test runs again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// qnode's version.
    pub version: String,
    /// Logical cores.
    pub cores: u32,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// The processor's model name.
    pub cpu: String,
    /// The master clock difficulty measured.
    pub difficulty: u32,
    /// SHA3-256 of the KZG setup file, hex.
    pub setup_sha3: String,
}

/// Measurements in milliseconds, as the original's `SelfTestReport` carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTest {
    /// What the measurements were made on.
    pub fingerprint: Fingerprint,
    /// Proving one master clock frame at `fingerprint.difficulty`.
    pub difficulty_metric_ms: i64,
    /// Committing to 16, 128 and 1024 values.
    pub commit_ms: [i64; 3],
    /// Opening at one index for 16, 128 and 1024 values.
    pub proof_ms: [i64; 3],
}

/// Why the self-test could not run or be stored.
#[derive(Debug, thiserror::Error)]
pub enum SelfTestError {
    /// Proving the frame failed.
    #[error("self-test frame: {0}")]
    Frame(#[from] frame::FrameError),
    /// A KZG operation failed.
    #[error("self-test KZG: {0}")]
    Kzg(#[from] qnode_kzg::KzgError),
    /// The report could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The report file.
        path: std::path::PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The report could not be put into JSON.
    #[error("the self-test report as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Fingerprint {
    /// This machine, this build, this difficulty and this setup.
    pub fn current(difficulty: u32, setup_hash: &[u8; 32]) -> Fingerprint {
        Fingerprint {
            version: env!("CARGO_PKG_VERSION").to_string(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            memory_bytes: proc_value("/proc/meminfo", "MemTotal")
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            cpu: proc_value("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".into()),
            difficulty,
            setup_sha3: hex::encode(setup_hash),
        }
    }
}

fn proc_value(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The stored report, if it was made for `fingerprint`.
pub fn load_current(config_dir: &Path, fingerprint: &Fingerprint) -> Option<SelfTest> {
    // Anything odd (a FIFO, a huge file, damage) just means the test runs again.
    let bytes = qnode_files::read_regular(&config_dir.join(REPORT_FILE), 1 << 20).ok()??;
    let report: SelfTest = serde_json::from_slice(&bytes).ok()?;
    (report.fingerprint == *fingerprint).then_some(report)
}

fn millis(start: Instant) -> i64 {
    start.elapsed().as_millis() as i64
}

/// Runs every measurement, calling `progress(step, done, total)` before each, and stores
/// the report.
pub fn run(
    config_dir: &Path,
    fingerprint: Fingerprint,
    setup: &Setup,
    mut progress: impl FnMut(&str, usize, usize),
) -> Result<SelfTest, SelfTestError> {
    let total = 1 + 2 * SIZES.len();
    progress("proving a master clock frame", 0, total);
    let zero = ClockFrame {
        filter: vec![0],
        input: vec![0; qnode_vdf::OUTPUT_BYTES],
        output: vec![0; qnode_vdf::OUTPUT_BYTES],
        ..Default::default()
    };
    let start = Instant::now();
    frame::prove_next(&zero, 0, fingerprint.difficulty)?;
    let difficulty_metric_ms = millis(start);

    // Sizes the setup cannot serve stay 0, as the original's unsupported 65536 metrics.
    let (mut commit_ms, mut proof_ms) = ([0; 3], [0; 3]);
    for (i, n) in SIZES
        .into_iter()
        .enumerate()
        .filter(|&(_, n)| n <= setup.powers())
    {
        let values: Vec<Scalar> = (0..n).map(|_| Scalar::random()).collect::<Result<_, _>>()?;
        progress(&format!("committing to {n} values"), 1 + 2 * i, total);
        let start = Instant::now();
        setup.commit(n, &values)?;
        commit_ms[i] = millis(start);
        progress(&format!("opening {n} values"), 2 + 2 * i, total);
        let start = Instant::now();
        setup.open(n, &values, n / 2)?;
        proof_ms[i] = millis(start);
    }
    progress("done", total, total);
    let report = SelfTest {
        fingerprint,
        difficulty_metric_ms,
        commit_ms,
        proof_ms,
    };
    let path = config_dir.join(REPORT_FILE);
    let json = serde_json::to_string_pretty(&report)?;
    qnode_files::write_replacing(&path, json.as_bytes())
        .map_err(|source| SelfTestError::Write { path, source })?;
    Ok(report)
}

impl SelfTest {
    /// The measurement fields of the original's `SelfTestReport` (memory as BE u64 bytes,
    /// as the original reads it; the 65536 metrics stay 0 since qnode refuses that size).
    pub fn to_report(&self) -> SelfTestReport {
        SelfTestReport {
            difficulty: self.fingerprint.difficulty,
            difficulty_metric: self.difficulty_metric_ms,
            commit_16_metric: self.commit_ms[0],
            commit_128_metric: self.commit_ms[1],
            commit_1024_metric: self.commit_ms[2],
            proof_16_metric: self.proof_ms[0],
            proof_128_metric: self.proof_ms[1],
            proof_1024_metric: self.proof_ms[2],
            cores: self.fingerprint.cores,
            memory: self.fingerprint.memory_bytes.to_be_bytes().to_vec(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_reused_only_for_the_same_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let setup = Setup::from_secret(&Scalar::from_u64(9), 1024).unwrap();
        let fp = Fingerprint::current(5, &[1; 32]);
        assert!(fp.cores >= 1 && fp.memory_bytes > 0);
        let mut steps = 0;
        let report = run(dir.path(), fp.clone(), &setup, |_, _, _| steps += 1).unwrap();
        assert_eq!(steps, 8, "progress before each step and at the end");
        assert_eq!(load_current(dir.path(), &fp), Some(report.clone()));
        let other_setup = Fingerprint {
            setup_sha3: hex::encode([2; 32]),
            ..fp.clone()
        };
        assert_eq!(load_current(dir.path(), &other_setup), None);
        let other_difficulty = Fingerprint {
            difficulty: 6,
            ..fp.clone()
        };
        assert_eq!(load_current(dir.path(), &other_difficulty), None);
        let r = report.to_report();
        assert_eq!(r.memory, fp.memory_bytes.to_be_bytes());
        assert_eq!(r.commit_1024_metric, report.commit_ms[2]);
    }
}
