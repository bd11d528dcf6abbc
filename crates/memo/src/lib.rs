//! Memos of pure work: a discriminant from its seed, a VDF proof from its challenge, a
//! verdict on a proof or a signature, a hash. Every node proves each master frame from the
//! same parent and checks the same frames, reports and gossip signatures, so a process
//! holding many nodes (the simulator) would compute each answer once per node; with a memo
//! it is computed once and the other nodes wait for it. A single node gains too: what it
//! receives twice is checked once. The answers are pure functions of their keys, so a
//! remembered answer is the answer.
//!
//! A memo is a [`moka`] cache: [`Cache::get_with`] runs a key's computation once even when
//! many threads ask at the same moment (the others wait for its answer).

use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use std::hash::Hash;
use std::sync::LazyLock;

/// A process-wide memo, created on first use: `static M: Memo<K, V> = Memo::new(|| recent(N));`.
pub type Memo<K, V> = LazyLock<Cache<K, V>>;

/// A memo of the last `capacity` keys asked for, least recently used out first (moka's
/// default admission could turn away a new frame's key, the one every node is about to
/// ask for).
pub fn recent<K, V>(capacity: u64) -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity)
        .eviction_policy(EvictionPolicy::lru())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn an_answer_is_computed_once_however_many_ask_at_once() {
        static MEMO: Memo<&str, u64> = Memo::new(|| recent(8));
        let computed = AtomicU32::new(0);
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|scope| {
            for _ in 0..6 {
                scope.spawn(|| {
                    barrier.wait();
                    let answer = MEMO.get_with("asked at once", || {
                        computed.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        42
                    });
                    assert_eq!(answer, 42);
                });
            }
        });
        assert_eq!(computed.into_inner(), 1);
    }

    #[test]
    fn a_memo_stays_within_its_capacity_and_keeps_the_newest() {
        let memo = recent::<u32, u32>(8);
        for key in 0..100 {
            memo.get_with(key, || key * 2);
        }
        memo.run_pending_tasks();
        assert!(memo.entry_count() <= 8, "{}", memo.entry_count());
        assert_eq!(memo.get(&99), Some(198));
    }
}
