//! KZG on BLS48-581: MSM over fixed bases (what commitments and openings use) against
//! Pippenger and the naive sum of scalar multiplications over the same points in the same
//! run, at 128 and 1024 points; then commit, open and verify times at each size.
//! `cargo bench -p qnode-kzg`.

#![allow(missing_docs, clippy::unwrap_used)] // criterion_group! generates undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use qnode_kzg::{msm, msm_naive, FixedBases, Scalar, Setup, SIZES};
use std::time::Duration;

fn values(n: usize) -> Vec<Scalar> {
    (0..n)
        .map(|i| Scalar::from_be_bytes_reduced(&[i as u8 ^ 0x5a; 64]))
        .collect()
}

fn bench(c: &mut Criterion) {
    let setup = Setup::from_secret(&Scalar::random().unwrap(), 1024).unwrap();

    for n in [128usize, 1024] {
        let mut group = c.benchmark_group(format!("msm_{n}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(10));
        let evals = values(n);
        let points: Vec<_> = (0..n)
            .map(|i| qnode_kzg::G1::generator().mul(&Scalar::from_u64(i as u64 + 1).to_big()))
            .collect();
        let table = FixedBases::new(&points);
        group.bench_function("fixed_bases", |b| b.iter(|| table.msm(&evals)));
        group.bench_function("pippenger", |b| b.iter(|| msm(&points, &evals)));
        group.bench_function("naive", |b| b.iter(|| msm_naive(&points, &evals)));
        group.finish();
    }

    let mut group = c.benchmark_group("kzg");
    group.sample_size(10);
    for n in SIZES {
        let evals = values(n);
        let commitment = setup.commit(n, &evals).unwrap();
        group.bench_function(format!("commit_{n}"), |b| {
            b.iter(|| setup.commit(n, &evals).unwrap())
        });
        group.bench_function(format!("open_{n}"), |b| {
            b.iter(|| setup.open(n, &evals, 3).unwrap())
        });
        let opening = setup.open(n, &evals, 3).unwrap();
        group.bench_function(format!("verify_{n}"), |b| {
            b.iter(|| setup.verify(n, &commitment, 3, &opening).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
