//! The discriminant derived from a challenge, exactly as the original: 2048-bit `n` from
//! SHA-256 in counter mode, moved to a residue class mod `M = 8·3·5·7·11·13`, then the
//! smallest probable prime `n + M·i`, negated.
//!
//! Candidates are tested in the same order as the original, with GMP's own primality
//! test, so the same prime comes out; a base-2 Fermat test on OpenSSL's faster arithmetic
//! first throws out the composites GMP would throw out (`fermat`). We sieve deeper (primes
//! below 2^20 instead of 2^16, `sieve`): that only drops candidates with a small factor,
//! which the primality test would reject anyway, and saves about a fifth of the expensive
//! tests. The survivors are tested on every core at once, and the smallest one found prime
//! wins, so the result does not depend on which thread finishes first. While GMP confirms
//! that one, a verifier checks its proof under it on another core.

use crate::fermat::FermatBase2;
use crate::sieve::{mark_small_factors, search_threads, M};
use qnode_memo::{recent, Memo};
use rug::integer::{IsPrime, Order};
use rug::{Assign, Integer};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Bits of |d|.
pub const DISCRIMINANT_BITS: u32 = 2048;
const WINDOW: usize = 1 << 16;

/// The negative prime discriminant for `seed`.
pub fn create_discriminant(seed: &[u8]) -> Integer {
    create_discriminant_meanwhile(seed, |_| ()).0
}

/// [`create_discriminant`], running `meanwhile` on the answer while GMP's test confirms
/// it. That test is the search's last step and takes one core for a few milliseconds, so a
/// verifier can check its proof on another core in that time. A candidate that passes the
/// Fermat pre-test is prime, bar a base-2 pseudoprime, which GMP rejects: then `meanwhile`'s
/// result is thrown away and the search goes on.
pub(crate) fn create_discriminant_meanwhile<T: Send>(
    seed: &[u8],
    meanwhile: impl Fn(&Integer) -> T + Sync,
) -> (Integer, T) {
    let bytes = random_bytes_from_seed(seed, (DISCRIMINANT_BITS / 8) as usize + 2);
    let (n_bytes, tail) = bytes.split_at(bytes.len() - 2);
    let pick = usize::from(u16::from_be_bytes([tail[0], tail[1]]));
    let residues = residues();
    let residue = residues[pick % residues.len()];

    let mut n = Integer::from_digits(n_bytes, Order::Msf);
    n.set_bit(DISCRIMINANT_BITS - 1, true);
    let rem = n.mod_u(M);
    n += i64::from(residue) - i64::from(rem);

    let mut composite = vec![false; WINDOW];
    loop {
        composite.fill(false);
        mark_small_factors(&n, &mut composite);
        let survivors: Vec<usize> = (0..WINDOW).filter(|&i| !composite[i]).collect();
        let negated = |candidate: &Integer| meanwhile(&Integer::from(-candidate));
        if let Some((i, result)) = first_probable_prime(&n, &survivors, negated) {
            return (-(n + u64::from(M) * i as u64), result);
        }
        n += u64::from(M) * WINDOW as u64;
    }
}

/// The first offset i of `offsets` (ascending) for which n + M·i is a probable prime, by
/// GMP's test, with `meanwhile`'s result for that prime (computed while GMP tests it).
fn first_probable_prime<T: Send>(
    n: &Integer,
    offsets: &[usize],
    meanwhile: impl Fn(&Integer) -> T + Sync,
) -> Option<(usize, T)> {
    let mut from = 0;
    while let Some(k) = first_fermat_survivor(n, &offsets[from..]).map(|k| from + k) {
        let candidate = Integer::from(n + u64::from(M) * offsets[k] as u64);
        let (prime, result) = std::thread::scope(|scope| {
            let gmp = scope.spawn(|| candidate.is_probably_prime(1) != IsPrime::No);
            let result = meanwhile(&candidate);
            let prime = gmp
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (prime, result)
        });
        if prime {
            return Some((offsets[k], result));
        }
        from = k + 1;
    }
    None
}

/// The index of the first offset of `offsets` whose candidate n + M·i the base-2 Fermat
/// test does not prove composite. Threads take offsets in order from a shared counter; one
/// stops at a survivor or once its next offset lies beyond the smallest survivor found.
/// Every offset below that survivor was handed out before it, so each is tested and the
/// answer is the sequential one.
fn first_fermat_survivor(n: &Integer, offsets: &[usize]) -> Option<usize> {
    let next = AtomicUsize::new(0);
    let found = AtomicUsize::new(usize::MAX);
    let search = || {
        let mut candidate = Integer::new();
        let mut fermat = FermatBase2::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            if k >= offsets.len() || k > found.load(Ordering::Relaxed) {
                return;
            }
            candidate.assign(n + u64::from(M) * offsets[k] as u64);
            if !fermat
                .as_mut()
                .is_some_and(|f| f.proves_composite(&candidate))
            {
                found.fetch_min(k, Ordering::Relaxed);
                return;
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..search_threads() {
            scope.spawn(search);
        }
        search();
    });
    Some(found.into_inner()).filter(|&k| k < offsets.len())
}

/// Memoised [`create_discriminant`]: verification recomputes the discriminant of the same
/// challenge often (a frame and its re-broadcasts, a report and its retries), and the
/// prime search dominates verification time. A seed is searched once even when many
/// callers ask at the same moment: the first searches, the others wait for its answer.
/// (The simulation's fifty nodes, each checking a new frame within the same few
/// milliseconds, used to run fifty identical searches and stall the process for seconds.)
pub fn discriminant_cached(seed: &[u8]) -> Integer {
    discriminant_cached_meanwhile(seed, |_| ()).0
}

/// [`discriminant_cached`], with [`create_discriminant_meanwhile`]'s result when this call
/// is the one that searched; `None` when the discriminant was known or another caller
/// searched for it. `meanwhile` runs within the search, so other callers of the seed wait
/// for it too: it should take less than GMP's test beside it, as a proof check does.
pub(crate) fn discriminant_cached_meanwhile<T: Send>(
    seed: &[u8],
    meanwhile: impl Fn(&Integer) -> T + Sync,
) -> (Integer, Option<T>) {
    static RECENT: Memo<Vec<u8>, Integer> = Memo::new(|| recent(256));
    let mut searched = None;
    let discriminant = RECENT.get_with(seed.to_vec(), || {
        let (discriminant, result) = create_discriminant_meanwhile(seed, &meanwhile);
        searched = Some(result);
        discriminant
    });
    (discriminant, searched)
}

/// SHA-256(seed || BE u16 counter) for counter = 0, 1, …, truncated to `len` bytes.
fn random_bytes_from_seed(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 32);
    let mut counter: u16 = 0;
    while out.len() < len {
        let mut h = Sha256::new();
        h.update(seed);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// The integers in [0, M) that are 7 mod 8 and coprime to 3·5·7·11·13, ascending.
fn residues() -> &'static [u32] {
    static R: OnceLock<Vec<u32>> = OnceLock::new();
    R.get_or_init(|| {
        (0..M)
            .filter(|x| x % 8 == 7 && [3, 5, 7, 11, 13].iter().all(|p| x % p != 0))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parallel_search_finds_the_smallest_prime_offset() {
        // Many offsets are prime here, so threads race; the smallest must still win.
        let n = Integer::from(1);
        let offsets: Vec<usize> = (0..400).collect();
        let sequential = offsets.iter().copied().find(|&i| {
            (Integer::from(1) + u64::from(M) * i as u64).is_probably_prime(30) != IsPrime::No
        });
        let first = |n: &Integer, offsets: &[usize]| {
            first_probable_prime(n, offsets, |candidate| candidate.clone()).map(|(i, prime)| {
                assert_eq!(
                    prime,
                    Integer::from(n + M * i as u32),
                    "meanwhile saw the answer"
                );
                i
            })
        };
        for _ in 0..50 {
            assert_eq!(first(&n, &offsets), sequential);
        }
        assert_eq!(first(&n, &[]), None);
        assert_eq!(first(&Integer::from(4), &[0, 2, 4]), None);
    }

    #[test]
    fn residue_table_has_the_original_size() {
        assert_eq!(residues().len(), 5760);
        assert_eq!(residues()[0], 23);
    }

    #[test]
    fn random_bytes_match_the_original() {
        // From the original's own test of random_bytes_from_seed.
        assert_eq!(
            random_bytes_from_seed(b"\xaa", 7),
            b"\x9f\x9d*\xe5\xe7<\xcb"
        );
    }

    #[test]
    fn discriminant_matches_the_original_for_aa() {
        // The original's check_discriminant_2 (seed 0xaa, 2048 bits).
        let expected: Integer = concat!(
            "201493927071865251625903550712920535753645598483515670853547009",
            "878440933309489362800393797428711071833308081461824159206915864",
            "150805748296170245037221957772328044276705571745811271212292422",
            "075849739248257870371300001313586036515879618764093772248760562",
            "386804073478433157526816295216137723803793411828867470089409596",
            "238958950007370719325959579892866588928887249912429688364409867",
            "895510817680171869190054122881274299350947669820596157115994418",
            "034091728887584373727555384075665624624856766441009974642693066",
            "751400054217209981490667208950669417773785631693879782993019167",
            "69407006303085854796535778826115224633447713584423"
        )
        .parse()
        .unwrap();
        assert_eq!(create_discriminant(b"\xaa"), -expected);
    }

    #[test]
    fn cache_returns_the_same_value() {
        assert_eq!(discriminant_cached(b"x"), create_discriminant(b"x"));
        assert_eq!(discriminant_cached(b"x"), create_discriminant(b"x"));
    }

    #[test]
    fn concurrent_callers_of_a_new_seed_all_get_its_discriminant() {
        let expected = create_discriminant(b"asked at once");
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|scope| {
            let callers: Vec<_> = (0..6)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        discriminant_cached(b"asked at once")
                    })
                })
                .collect();
            for caller in callers {
                assert_eq!(caller.join().unwrap(), expected);
            }
        });
    }
}
