//! Certifying a 64-32-10 target the shape of a small trained classifier (entries uniform in
//! (-0.464, 0.541), linear output) with every per-weight error <= 0.01, by the subset-sum
//! and the pairs construction, on the non-negative unit ball.
//!
//! `cargo bench --bench construct`; the 784-500-10 figures in BENCHMARKS.md come from the
//! command documented there (one run takes tens of seconds, too long for criterion).

use criterion::{Criterion, criterion_group, criterion_main};
use num_bigint::BigInt;
use num_rational::BigRational;
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::generate::{EntryRange, random_target};
use slth_checker::sampler::Seed;
use std::hint::black_box;

/// The weight range of Pensia et al.'s trained MNIST network.
const RANGE: EntryRange = EntryRange::Uniform {
    low: -0.464,
    high: 0.541,
};

fn certify_small_classifier(c: &mut Criterion) {
    let target = random_target(&[64, 32, 10], &Seed::from_u64(1), true, &RANGE).expect("target");
    let mut group = c.benchmark_group("certify-64-32-10-tolerance-0.01");
    group.sample_size(10);
    for construction in [Construction::SubsetSum, Construction::Pairs] {
        let mut options = CertifyOptions::new(
            Request::Tolerance(BigRational::new(BigInt::from(1), BigInt::from(100))),
            Seed::from_u64(3),
        );
        options.nonnegative = true;
        options.construction = construction;
        // The recorded figures are version 1's.
        options.version = 1;
        group.bench_function(construction.name(), |b| {
            b.iter(|| certify(black_box(&target), &options).expect("certifies"))
        });
    }
    group.finish();
}

/// `slth random-target --dims 784,500,10 --seed 1`: the theorem's entries, scaled until
/// ||W_i||_2 <= 1 is proven exactly (issue 14: 139 s before the scaling loop stopped
/// rescaling the whole layer in rationals for every trial factor).
fn random_target_mnist_shape(c: &mut Criterion) {
    let mut group = c.benchmark_group("random-target-784-500-10");
    group.sample_size(10);
    group.bench_function("theorem", |b| {
        b.iter(|| {
            let f = random_target(
                &[784, 500, 10],
                &Seed::from_u64(1),
                false,
                &EntryRange::Theorem,
            )
            .expect("target");
            black_box(f.to_json_text())
        })
    });
    group.finish();
}

criterion_group!(benches, certify_small_classifier, random_target_mnist_shape);
criterion_main!(benches);
