//! The semidefinite search of `slth tighten` and of `certify`'s default (the primal-dual
//! interior-point method of `src/tighten/solve.rs`), on committed tickets, and what the
//! default costs `certify` against `--claims spectral`.
//!
//! `cargo bench --bench tighten`; CI runs `cargo bench -- --test` (each benchmark once).
//! Groups (wall time; the search's Cholesky factors use rayon's threads):
//!
//! - `joint-search/NAME`: `slth tighten certificates/NAME.json --joint`, the check of the
//!   input and of the result by the trusted checker included;
//! - `terms-search/NAME`: `slth tighten certificates/NAME.json` (one term per block);
//! - `certify-random-8-8-8-1/{spectral,auto}`: `slth certify
//!   certificates/targets/random-8-8-8-1.json --epsilon 0.05 --seed 7` with `--claims
//!   spectral` and with the default (the joint form proved after the construction).
//!
//! The digits ticket's searches (5 s each) are left to the commands of BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use num_bigint::BigInt;
use num_rational::BigRational;
use slth::certify::{CertifyOptions, Request, Tightest, certify_file};
use slth::tighten::{Claims, tighten_file_with};
use slth_checker::certificate::Limits;
use slth_checker::sampler::Seed;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("certificates/{name}.json"))
}

fn searches(c: &mut Criterion) {
    let limits = Limits::default();
    for (group, claims, names) in [
        (
            "joint-search",
            Claims::Joint,
            &["random-8-8-8-1", "deep-linear-output-subset-sum"][..],
        ),
        (
            "terms-search",
            Claims::Terms,
            &["random-8-8-8-1-subset-sum"],
        ),
    ] {
        let mut group = c.benchmark_group(group);
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        for name in names {
            let path = committed(name);
            group.bench_function(*name, |b| {
                b.iter(|| tighten_file_with(black_box(&path), &limits, claims).expect("tightens"))
            });
        }
        group.finish();
    }
}

fn certify_default(c: &mut Criterion) {
    let target = committed("targets/random-8-8-8-1");
    let mut group = c.benchmark_group("certify-random-8-8-8-1");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (label, tightest) in [("spectral", Tightest::Spectral), ("auto", Tightest::Auto)] {
        let mut options = CertifyOptions::new(
            Request::Epsilon(BigRational::new(BigInt::from(1), BigInt::from(20))),
            Seed::from_u64(7),
        );
        options.tightest = tightest;
        group.bench_function(label, |b| {
            b.iter(|| certify_file(black_box(&target), &options).expect("certifies"))
        });
    }
    group.finish();
}

criterion_group!(benches, searches, certify_default);
criterion_main!(benches);
