//! What every gossip message and every frame costs the node: Poseidon over a frame output
//! and over an envelope payload, sealing and opening an envelope.

#![allow(clippy::unwrap_used, missing_docs)] // a bench harness

use criterion::{criterion_group, criterion_main, Criterion};
use qnode_protocol::envelope::{self, Payload};
use qnode_protocol::pb::node::SelfTestReport;
use qnode_protocol::poseidon::hash_bytes;
use std::hint::black_box;

/// qnode's HashBytes against bloock-poseidon-rs (go-iden3-crypto's, ported), the baseline
/// it replaced, in one group so the ratio is measured in one run.
fn poseidon(c: &mut Criterion) {
    let output = vec![0xab; 516];
    // Constants load once per process, outside the measurement.
    hash_bytes(&output).unwrap();
    let baseline = &*bloock_poseidon_rs::POSEIDON;
    baseline.hash_bytes(&output).unwrap();
    let mut group = c.benchmark_group("poseidon HashBytes 516 B");
    group.bench_function("qnode", |b| {
        b.iter(|| hash_bytes(black_box(&output)).unwrap())
    });
    group.bench_function("bloock-poseidon-rs", |b| {
        b.iter(|| baseline.hash_bytes(black_box(&output)).unwrap())
    });
    group.finish();
}

fn envelopes(c: &mut Criterion) {
    let report = Payload::SelfTestReport(SelfTestReport {
        cores: 8,
        memory: vec![0; 8],
        proof: vec![7; 520],
        challenge: vec![1; 74],
        ..Default::default()
    });
    let sealed = envelope::seal(&[0xff; 32], &report).unwrap();
    c.bench_function("envelope/seal report", |b| {
        b.iter(|| envelope::seal(black_box(&[0xff; 32]), black_box(&report)).unwrap())
    });
    c.bench_function("envelope/open report", |b| {
        b.iter(|| envelope::open(black_box(&sealed)).unwrap())
    });
}

criterion_group!(benches, poseidon, envelopes);
criterion_main!(benches);
