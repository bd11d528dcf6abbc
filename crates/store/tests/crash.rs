//! Kill -9 at random moments: the store must reopen with every committed frame and proof,
//! contiguous, intact, and nothing twice.
//!
//! The writer is this test binary re-run as a child (`crash_child_writer`, ignored in
//! normal runs); it prints each frame and proof after its commit returns, so the parent
//! knows a lower bound of what must have survived.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{DataTimeProof, Store, REWARD_PER_CORE};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CHILD_DIR_ENV: &str = "QNODE_CRASH_CHILD_DIR";
const FILTER: &[u8] = &[0xee; 32];
const PEER: &[u8] = b"crash-test-peer";
const KILLS: usize = 32;

fn frame(n: u64) -> ClockFrame {
    ClockFrame {
        filter: FILTER.to_vec(),
        frame_number: n,
        difficulty: 7,
        parent_selector: n.to_be_bytes().repeat(4),
        input: n
            .wrapping_sub(1)
            .to_be_bytes()
            .repeat(64)
            .into_iter()
            .chain([1; 4])
            .collect(),
        output: n
            .to_be_bytes()
            .repeat(64)
            .into_iter()
            .chain([2; 4])
            .collect(),
        ..Default::default()
    }
}

fn proof(increment: u32) -> DataTimeProof {
    DataTimeProof {
        difficulty: 200_000 - increment / 4,
        parallelism: 1 + increment % 7,
        input: increment.to_be_bytes().repeat(20),
        output: increment.to_be_bytes().repeat(167),
    }
}

#[test]
#[ignore = "the writer half of sigkill_at_random_moments_loses_nothing_committed"]
fn crash_child_writer() {
    let dir = std::env::var_os(CHILD_DIR_ENV).expect("run by the crash test");
    let store = Store::open_in(Path::new(&dir)).expect("store reopens after a kill");
    let mut next_frame = store.head_number(FILTER).unwrap().map_or(0, |h| h + 1);
    let mut next_proof = store
        .latest_data_time_proof(PEER)
        .unwrap()
        .map_or(0, |l| l.increment + 1);
    let mut out = std::io::stdout().lock();
    loop {
        store.append_frame(&frame(next_frame)).unwrap();
        writeln!(out, "committed frame {next_frame}").unwrap();
        out.flush().unwrap();
        next_frame += 1;
        store
            .append_data_time_proof(PEER, next_proof, &proof(next_proof))
            .unwrap();
        writeln!(out, "committed proof {next_proof}").unwrap();
        out.flush().unwrap();
        next_proof += 1;
    }
}

/// xorshift64*: enough randomness for kill timing without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_committed() {
    let seed = std::env::var("QNODE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("QNODE_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let (mut frames_seen, mut proofs_seen) = (None::<u64>, None::<u32>);

    for kill in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "crash_child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for line in reader.join().unwrap() {
            if let Some(n) = line.strip_prefix("committed frame ") {
                frames_seen = frames_seen.max(Some(n.parse().unwrap()));
            } else if let Some(n) = line.strip_prefix("committed proof ") {
                proofs_seen = proofs_seen.max(Some(n.parse().unwrap()));
            }
        }

        check_after_kill(kill, dir.path(), frames_seen, proofs_seen);
    }
    assert!(
        frames_seen.unwrap_or(0) > KILLS as u64,
        "the writer made progress between kills"
    );
}

/// After kill `kill`: the store opens, and holds every frame and proof the writer said it
/// committed, whole, with no gap, nothing beyond, and the reward counted once.
fn check_after_kill(kill: usize, dir: &Path, frames_seen: Option<u64>, proofs_seen: Option<u32>) {
    let store = Store::open_in(dir).unwrap_or_else(|e| panic!("kill {kill}: {e}"));
    let head = store.head_number(FILTER).unwrap();
    assert!(
        head >= frames_seen,
        "kill {kill}: head {head:?} lost committed frame {frames_seen:?}"
    );
    if let Some(head) = head {
        let frames = store.frames(FILTER, 0..=head).unwrap();
        assert_eq!(
            frames.len() as u64,
            head + 1,
            "kill {kill}: gap below the head"
        );
        for (n, f) in frames.iter().enumerate() {
            assert_eq!(*f, frame(n as u64), "kill {kill}: frame {n} torn");
        }
        assert_eq!(store.frame(FILTER, head + 1).unwrap(), None);
    }
    let latest = store.latest_data_time_proof(PEER).unwrap();
    let latest_increment = latest.map(|l| l.increment);
    assert!(
        latest_increment >= proofs_seen,
        "kill {kill}: lost committed proof {proofs_seen:?}"
    );
    if let Some(latest) = latest {
        let mut reward = 0;
        for i in 0..=latest.increment {
            let p = store.data_time_proof(PEER, i).unwrap();
            assert_eq!(p, Some(proof(i)), "kill {kill}: proof {i} missing or torn");
            reward += REWARD_PER_CORE * u128::from(proof(i).parallelism);
        }
        assert_eq!(
            latest.reward, reward,
            "kill {kill}: reward counted twice or lost"
        );
        assert_eq!(
            store.data_time_proof(PEER, latest.increment + 1).unwrap(),
            None
        );
    }
}
