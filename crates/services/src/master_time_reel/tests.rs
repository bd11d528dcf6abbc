//! One test per rule of the reel.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::*;
use qnode_protocol::frame::DEFAULT_FILTER;

fn reel(dir: &std::path::Path) -> MasterTimeReel {
    let store = Arc::new(Store::open_in(dir).unwrap());
    let genesis = Genesis {
        seed: b"reel tests".to_vec(),
        difficulty: 3,
    };
    MasterTimeReel::start(store, &DEFAULT_FILTER, &genesis).unwrap()
}

/// A frame after `parent` with a stand-in output (the reel does not check the VDF).
fn child(parent: &ClockFrame, salt: u8) -> ClockFrame {
    let n = parent.frame_number + 1;
    ClockFrame {
        filter: parent.filter.clone(),
        frame_number: n,
        difficulty: 3,
        parent_selector: frame::selector(parent).unwrap().to_vec(),
        input: parent.output.clone(),
        output: [n.to_be_bytes().as_slice(), &[salt; 508]].concat(),
        ..Default::default()
    }
}

fn chain_from(start: &ClockFrame, len: usize) -> Vec<ClockFrame> {
    let mut out = vec![child(start, 0)];
    while out.len() < len {
        let next = child(out.last().unwrap(), 0);
        out.push(next);
    }
    out
}

#[test]
fn genesis_is_created_once_and_the_head_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    assert_eq!(r.head().frame_number, 0);
    let genesis = r.head().clone();
    for f in chain_from(&genesis, 3) {
        r.insert(f).unwrap();
    }
    drop(r);
    let r = reel(dir.path());
    assert_eq!(r.head().frame_number, 3);
    assert_eq!(r.store.frame(&DEFAULT_FILTER, 0).unwrap(), Some(genesis));
}

#[test]
fn in_order_frames_advance_the_head_and_notify() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let mut heads = r.subscribe_heads();
    let chain = chain_from(r.head(), 2);
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::NewHead(1));
    assert_eq!(r.insert(chain[1].clone()).unwrap(), Insertion::NewHead(2));
    assert_eq!(heads.try_recv().unwrap(), chain[0]);
    assert_eq!(heads.try_recv().unwrap(), chain[1]);
    assert_eq!(r.store.head_number(&DEFAULT_FILTER).unwrap(), Some(2));
}

#[test]
fn out_of_order_arrival_is_assembled() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let chain = chain_from(r.head(), 3);
    assert_eq!(r.insert(chain[2].clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(chain[1].clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::NewHead(3));
    assert_eq!(r.pending_len(), 0);
}

#[test]
fn a_gap_is_filled_later() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let mut heads = r.subscribe_heads();
    let chain = chain_from(r.head(), 4);
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::NewHead(1));
    assert_eq!(r.insert(chain[2].clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(chain[3].clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.head().frame_number, 1);
    assert_eq!(r.insert(chain[1].clone()).unwrap(), Insertion::NewHead(4));
    let seen: Vec<u64> = std::iter::from_fn(|| heads.try_recv().ok())
        .map(|f| f.frame_number)
        .collect();
    assert_eq!(seen, [1, 2, 3, 4]);
}

#[test]
fn a_wrong_parent_is_reported_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let mut forged = child(r.head(), 9);
    forged.parent_selector = vec![7; 32];
    assert_eq!(r.insert(forged.clone()).unwrap(), Insertion::WrongParent);
    assert_eq!(r.head().frame_number, 0);
    assert_eq!(r.pending_len(), 0);
}

#[test]
fn a_wrong_parent_waiting_in_pending_is_dropped_and_a_good_one_wins() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let chain = chain_from(r.head(), 2);
    let mut forged = child(&chain[0], 5);
    forged.parent_selector = vec![1; 32];
    assert_eq!(r.insert(forged.clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(chain[1].clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::NewHead(2));
    assert_eq!(r.head(), &chain[1]);
    assert_eq!(r.pending_len(), 0, "the forged frame is not kept");
}

#[test]
fn duplicates_and_old_frames_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let chain = chain_from(r.head(), 2);
    r.insert(chain[0].clone()).unwrap();
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::Stale);
    assert_eq!(r.insert(chain[1].clone()).unwrap(), Insertion::NewHead(2));
    assert_eq!(r.insert(chain[0].clone()).unwrap(), Insertion::Stale);
    let waiting = child(&child(&chain[1], 0), 0);
    assert_eq!(r.insert(waiting.clone()).unwrap(), Insertion::Pending);
    assert_eq!(r.insert(waiting).unwrap(), Insertion::Dropped);
    assert_eq!(r.pending_len(), 1);
    assert_eq!(r.store.frames(&DEFAULT_FILTER, 0..=10).unwrap().len(), 3);
}

#[test]
fn far_future_frames_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let mut far = child(r.head(), 0);
    far.frame_number = MAX_FRAMES_AHEAD + 1;
    assert_eq!(r.insert(far).unwrap(), Insertion::TooFarAhead);
    assert_eq!(r.pending_len(), 0);
}

#[test]
fn pending_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let chain = chain_from(r.head(), MAX_FRAMES_AHEAD as usize);
    for salt in 1..=MAX_CANDIDATES_PER_NUMBER as u8 {
        assert_eq!(
            r.insert(child(&chain[0], salt)).unwrap(),
            Insertion::Pending
        );
    }
    assert_eq!(
        r.insert(child(&chain[0], 200)).unwrap(),
        Insertion::Dropped,
        "per number"
    );
    // Competing candidates for frames 3, 4, …: the total cap is reached before the range.
    let mut candidates = chain[1..].iter().flat_map(|parent| {
        (1..=MAX_CANDIDATES_PER_NUMBER as u8).map(move |salt| child(parent, salt))
    });
    while r.pending_len() < MAX_PENDING_FRAMES {
        let c = candidates
            .next()
            .expect("enough candidates to fill the queue");
        assert_eq!(r.insert(c).unwrap(), Insertion::Pending);
    }
    let c = candidates.next().unwrap();
    assert_eq!(r.insert(c).unwrap(), Insertion::Dropped, "in total");
    assert_eq!(r.pending_len(), MAX_PENDING_FRAMES);
}

#[test]
fn frames_of_another_filter_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = reel(dir.path());
    let mut other = child(r.head(), 0);
    other.filter = vec![0; 32];
    assert_eq!(r.insert(other).unwrap(), Insertion::WrongFilter);
}
