//! qnode's VDF against the original node's arithmetic (crates.io `vdf`/`classgroup` 0.1.0,
//! POA Networks' code that the original forked), in the same run at 2048 bits.
//!
//! `cargo bench -p qnode-vdf` — `QNODE_BENCH_DIFFICULTY` sets the solve difficulty
//! (default 10000). Compare the `qnode` and `baseline` lines of each group.

#![allow(missing_docs)] // criterion_group! generates undocumented items

use classgroup_baseline::{do_compute, gmp::mpz::Mpz};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;
use vdf_baseline::{VDFParams, WesolowskiVDFParams, VDF};

const CHALLENGE: &[u8] = b"qnode benchmark challenge";
const SQUARINGS: u64 = 1000;

fn difficulty() -> u32 {
    std::env::var("QNODE_BENCH_DIFFICULTY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn squaring(c: &mut Criterion) {
    let d = qnode_vdf::create_discriminant(CHALLENGE);
    let d_baseline: Mpz = vdf_baseline::create_discriminant(CHALLENGE, 2048);
    let mut group = c.benchmark_group("square_2048");
    group.throughput(Throughput::Elements(SQUARINGS));
    group.bench_function(BenchmarkId::new("qnode", SQUARINGS), |b| {
        let mut g = qnode_vdf::ClassGroup::new(d.clone());
        b.iter(|| {
            let mut x = g.generator();
            g.square_n(&mut x, SQUARINGS);
            x
        })
    });
    group.bench_function(BenchmarkId::new("baseline", SQUARINGS), |b| {
        b.iter(|| do_compute(d_baseline.clone(), SQUARINGS))
    });
    group.finish();
}

fn solve(c: &mut Criterion) {
    let t = difficulty();
    let mut group = c.benchmark_group("solve_2048");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(u64::from(t)));
    group.bench_function(BenchmarkId::new("qnode", t), |b| {
        b.iter(|| qnode_vdf::solve(CHALLENGE, t))
    });
    let baseline = WesolowskiVDFParams(2048).new();
    group.bench_function(BenchmarkId::new("baseline", t), |b| {
        b.iter(|| baseline.solve(CHALLENGE, u64::from(t)))
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let t = 1000;
    let ours = qnode_vdf::solve(CHALLENGE, t).expect("difficulty > 0");
    let baseline = WesolowskiVDFParams(2048).new();
    let theirs = baseline.solve(CHALLENGE, u64::from(t)).expect("solves");
    let mut group = c.benchmark_group("verify_2048");
    group.sample_size(10);
    // Both sides derive the discriminant on every call, as a verifier of fresh challenges does.
    group.bench_function("qnode", |b| {
        b.iter(|| {
            let d = qnode_vdf::create_discriminant(CHALLENGE);
            (d, qnode_vdf::verify(CHALLENGE, t, &ours))
        })
    });
    group.bench_function("baseline", |b| {
        b.iter(|| baseline.verify(CHALLENGE, u64::from(t), &theirs))
    });
    group.bench_function("qnode_discriminant_cached", |b| {
        b.iter(|| qnode_vdf::verify(CHALLENGE, t, &ours))
    });
    group.finish();

    let mut group = c.benchmark_group("discriminant_2048");
    group.sample_size(10);
    group.bench_function("qnode", |b| {
        b.iter(|| qnode_vdf::create_discriminant(CHALLENGE))
    });
    group.bench_function("baseline", |b| {
        b.iter(|| vdf_baseline::create_discriminant::<Mpz>(CHALLENGE, 2048))
    });
    group.finish();
}

criterion_group!(benches, squaring, solve, verify);
criterion_main!(benches);
