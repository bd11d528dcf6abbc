//! The network services against a real (lone) swarm, store and reel: the report rules one
//! by one, challenge-proof verification, frame checks, and the channel listener on
//! arbitrary and honest requests.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use prost::Message;
use qnode_metrics::Metrics;
use qnode_p2p::{DirectHandler, DirectKind, KeyType, Network, NetworkConfig, NodeKey, PeerId};
use qnode_protocol::frame::{self, DEFAULT_FILTER};
use qnode_protocol::pb::clock::ClockFramesRequest;
use qnode_protocol::pb::node::{SelfTestReport, SyncRequest, SyncResponse, ValidationMessage};
use qnode_services::challenge_proof_verifier::{
    self, ReportHandler, ReportOutcome, ReportRules, VerifyJob, Verifying,
};
use qnode_services::channel_listener::ChannelListener;
use qnode_services::context::ServiceContext;
use qnode_services::frame_validator::{self, FrameProblem};
use qnode_services::master_time_reel::{Genesis, Insertion, MasterTimeReel};
use qnode_services::peer_info_manager::PeerInfoManager;
use qnode_store::Store;
use qnode_tasks::Services;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

const DIFFICULTY: u32 = 10;
const DIVISOR: u32 = 20_000;

struct Nothing;
impl DirectHandler for Nothing {
    fn handle(&self, _: PeerId, _: DirectKind, _: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

async fn context(dir: &std::path::Path) -> Arc<ServiceContext> {
    let store = Arc::new(Store::open_in(dir).unwrap());
    let genesis = Genesis {
        seed: b"services".to_vec(),
        difficulty: DIFFICULTY,
    };
    let reel = MasterTimeReel::start(store.clone(), &DEFAULT_FILTER, &genesis).unwrap();
    let key = NodeKey::generate(KeyType::Ed448).unwrap();
    let own = key.peer_id();
    let listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    let config = NetworkConfig::new(listen, Arc::new(Nothing));
    let (network, _events) = Network::start(key, config, &Services::without_shutdown())
        .await
        .unwrap();
    Arc::new(ServiceContext {
        network,
        peers: Arc::new(PeerInfoManager::new()),
        reel: Arc::new(Mutex::new(reel)),
        store,
        filter: DEFAULT_FILTER.to_vec(),
        master_difficulty: DIFFICULTY,
        difficulty_divisor: DIVISOR,
        own,
        metrics: Arc::new(Metrics::new().unwrap()),
    })
}

fn handler(
    ctx: &Arc<ServiceContext>,
    window: Duration,
    queue: usize,
) -> (ReportHandler, mpsc::Receiver<VerifyJob>) {
    let (verify, jobs) = mpsc::channel(queue);
    let (bandwidth, _) = mpsc::channel(4);
    let rules = ReportRules {
        window,
        ..ReportRules::default()
    };
    let handler = ReportHandler {
        ctx: ctx.clone(),
        rules,
        verify,
        bandwidth,
        verifying: Verifying::default(),
    };
    (handler, jobs)
}

fn report(proof_bytes: usize, cores: u32, memory: Vec<u8>) -> SelfTestReport {
    let mut proof = vec![0u8; proof_bytes];
    if proof_bytes >= 4 {
        proof[..4].copy_from_slice(&2u32.to_be_bytes());
    }
    SelfTestReport {
        cores,
        memory,
        proof,
        challenge: vec![9; 74],
        increment: 12,
        master_head_frame: 40,
        ..Default::default()
    }
}

fn big_memory() -> Vec<u8> {
    32_000_000_000u64.to_be_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_rules_in_the_original_order() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let (strict, _jobs) = handler(&ctx, Duration::from_secs(270), 8);

    // Our own report only refreshes our own entry, whatever it holds.
    let own = strict.handle(ctx.own, report(3, 0, vec![])).await;
    assert_eq!(own, ReportOutcome::Own);
    assert_eq!(ctx.peers.score(&ctx.own), 0);

    let short = PeerId::random();
    let outcome = strict.handle(short, report(519, 8, big_memory())).await;
    assert!(matches!(outcome, ReportOutcome::Offence(_)), "{outcome:?}");
    assert_eq!(ctx.peers.score(&short), -1000);

    let weak_ones = [
        (2, big_memory()),
        (8, 1_000u64.to_be_bytes().to_vec()),
        (8, vec![1; 4]),
    ];
    for (cores, memory) in weak_ones {
        let weak = PeerId::random();
        let outcome = strict.handle(weak, report(520, cores, memory)).await;
        assert!(matches!(outcome, ReportOutcome::Offence(_)), "{outcome:?}");
        assert_eq!(ctx.peers.score(&weak), -1000);
    }

    let good = PeerId::random();
    let first = strict.handle(good, report(520, 8, big_memory())).await;
    assert_eq!(first, ReportOutcome::NewPeer);
    let info = ctx.peers.get(&good).unwrap();
    assert_eq!((info.head_frame, info.score), (40, 0));
    assert!(info
        .manifest
        .is_some_and(|m| m.cores == 8 && m.peer_id == good.to_bytes()));
    let second = strict.handle(good, report(520, 8, big_memory())).await;
    assert_eq!(second, ReportOutcome::RecentlySeen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_peer_past_the_window_is_queued_with_its_own_challenge() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let (rules, mut jobs) = handler(&ctx, Duration::ZERO, 1);
    let peer = PeerId::random();
    let first = rules.handle(peer, report(520, 8, big_memory())).await;
    assert_eq!(first, ReportOutcome::NewPeer);
    let mut later = report(520, 8, big_memory());
    later.master_head_frame = 55;
    assert_eq!(
        rules.handle(peer, later.clone()).await,
        ReportOutcome::Queued
    );
    // Its next report, while the first waits, queues nothing more.
    assert_eq!(
        rules.handle(peer, later.clone()).await,
        ReportOutcome::AlreadyQueued
    );
    let other = PeerId::random();
    rules.handle(other, report(520, 8, big_memory())).await;
    let full = rules.handle(other, later.clone()).await;
    assert_eq!(full, ReportOutcome::QueueFull, "bounded queue");
    assert_eq!(
        rules.handle(other, later.clone()).await,
        ReportOutcome::QueueFull,
        "a report the full queue dropped does not count as waiting"
    );
    let job = jobs.recv().await.unwrap();
    rules.verifying.finish(&peer);
    assert_eq!(
        rules.handle(peer, later).await,
        ReportOutcome::Queued,
        "once decided, the next report past the window is verified"
    );
    assert_eq!(job.challenge, [peer.to_bytes(), vec![9; 74]].concat());
    assert_eq!((job.core, job.increment, job.output.len()), (2, 12, 516));
    assert_eq!(ctx.peers.get(&peer).unwrap().head_frame, 55);
}

#[test]
fn a_challenge_proof_verifies_only_for_what_it_claims() {
    let challenge = [PeerId::random().to_bytes(), vec![4; 74]].concat();
    let seed = qnode_vdf::challenge_seed(&challenge, 1);
    let difficulty = qnode_vdf::scaled_challenge_difficulty(7, DIVISOR);
    let output = qnode_vdf::solve(&seed, difficulty).unwrap();
    let job = VerifyJob {
        peer: PeerId::random(),
        challenge: challenge.clone(),
        core: 1,
        increment: 7,
        output: output.to_vec(),
    };
    assert!(challenge_proof_verifier::verify(&job, DIVISOR));
    let wrong_core = VerifyJob {
        core: 0,
        ..job.clone()
    };
    assert!(!challenge_proof_verifier::verify(&wrong_core, DIVISOR));
    let other_peer = VerifyJob {
        challenge: [PeerId::random().to_bytes(), vec![4; 74]].concat(),
        ..job.clone()
    };
    assert!(!challenge_proof_verifier::verify(&other_peer, DIVISOR));
    let garbage = VerifyJob {
        output: vec![7; 516],
        ..job
    };
    assert!(!challenge_proof_verifier::verify(&garbage, DIVISOR));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_are_checked_before_the_reel_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let head = ctx.reel.lock().await.head().clone();
    let next = frame::prove_next(&head, 1, DIFFICULTY).unwrap();

    let easier = frame::prove_next(&head, 1, DIFFICULTY - 1).unwrap();
    let problem = frame_validator::validate_and_insert(&ctx, easier.clone()).await;
    assert!(
        matches!(
            problem,
            Err(FrameProblem::Invalid {
                reason: "difficulty",
                ..
            })
        ),
        "{problem:?}"
    );

    let mut forged = next.clone();
    forged.output[100] ^= 1;
    let problem = frame_validator::validate_and_insert(&ctx, forged).await;
    assert!(
        matches!(problem, Err(FrameProblem::Invalid { reason: "vdf", .. })),
        "{problem:?}"
    );

    let inserted = frame_validator::validate_and_insert(&ctx, next.clone())
        .await
        .unwrap();
    assert_eq!(inserted, Insertion::NewHead(1));
    let again = frame_validator::validate_and_insert(&ctx, next).await;
    assert!(
        matches!(again, Err(FrameProblem::Useless(_))),
        "stale: {again:?}"
    );
    // Stale first, as the original drops it: the easier frame is now nobody's offence.
    let stale = frame_validator::validate_and_insert(&ctx, easier).await;
    assert!(
        matches!(stale, Err(FrameProblem::Useless(_))),
        "stale, whatever its difficulty: {stale:?}"
    );
    assert_eq!(ctx.store.head_number(&DEFAULT_FILTER).unwrap(), Some(1));
}

fn sync_request(filter: &[u8], from: u64, to: u64) -> Vec<u8> {
    SyncRequest {
        frames_request: Some(ClockFramesRequest {
            filter: filter.to_vec(),
            from_frame_number: from,
            to_frame_number: to,
            ..Default::default()
        }),
    }
    .encode_to_vec()
}

fn synced_numbers(answer: Option<Vec<u8>>) -> Vec<u64> {
    let response = SyncResponse::decode(answer.unwrap().as_slice()).unwrap();
    let frames = response.frames_response.unwrap().clock_frames;
    frames.iter().map(|f| f.frame_number).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_listener_echoes_and_serves_at_most_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    {
        let mut reel = ctx.reel.lock().await;
        for _ in 0..20 {
            let next = frame::prove_next(reel.head(), 1, DIFFICULTY).unwrap();
            reel.insert(next).unwrap();
        }
    }
    let listener = ChannelListener {
        store: ctx.store.clone(),
        filter: DEFAULT_FILTER.to_vec(),
    };
    let peer = PeerId::random();
    let echo = ValidationMessage {
        validation: vec![5; 1000],
    }
    .encode_to_vec();
    let answer = listener.handle(peer, DirectKind::Validation, &echo);
    assert_eq!(answer, Some(echo.clone()));

    let sync = |from, to| {
        let request = sync_request(&DEFAULT_FILTER, from, to);
        listener.handle(peer, DirectKind::Sync, &request)
    };
    assert_eq!(synced_numbers(sync(1, 0)), (1..=16).collect::<Vec<_>>());
    assert_eq!(synced_numbers(sync(3, 5)), vec![3, 4, 5]);
    assert_eq!(synced_numbers(sync(15, 100)), (15..=20).collect::<Vec<_>>());
    assert!(synced_numbers(sync(21, 0)).is_empty());
    let other = listener.handle(peer, DirectKind::Sync, &sync_request(&[1; 32], 1, 0));
    assert!(
        synced_numbers(other).is_empty(),
        "another filter gets an empty batch"
    );
}

mod arbitrary_bytes {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_channel_listener_never_panics(
            body in proptest::collection::vec(any::<u8>(), 0..2048),
            sync in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(Store::open_in(dir.path()).unwrap());
            let listener = ChannelListener { store, filter: DEFAULT_FILTER.to_vec() };
            let kind = if sync { DirectKind::Sync } else { DirectKind::Validation };
            let _ = listener.handle(PeerId::random(), kind, &body);
        }
    }
}
