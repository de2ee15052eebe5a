//! The verification paths of issue 3 on certificates generated here, and the pairs
//! construction.
//!
//! `cargo bench --bench paths`; CI runs `cargo bench --bench paths -- --test` (each
//! benchmark once). Groups:
//!
//! - `verify-exact-rational`: the naive num-rational baseline (`paths/rational_baseline.rs`);
//! - `verify-exact-scaled`: `verify::verify_with`, i.e. `slth verify --exact`;
//! - `verify-sound-f64`: `verify::verify_sound`, i.e. `slth verify` (the default);
//! - `verify-plain-f64`: `fast::verify_f64`, i.e. `slth verify --f64` (not a proof);
//! - `parse`: `certificate::parse` of the certificate text (every verify group starts from
//!   a parsed `Certificate`, so parsing is measured here on its own);
//! - `certify-pairs`: a 16-16-16-1 target at epsilon 0.05 and 0.01, and `pairs-sampler`: the
//!   random-stream draws of those runs alone, for the construction's sampler share.
//!
//! Certificates (subset-sum, per-weight tolerance 1/100, seed 1, targets uniform in
//! (-1/2, 1/2)) are certified on first use and kept for every group: dims 64-32-10,
//! 128-128-10 and 384-300-10 give about 10^4, 10^5 and 10^6 kept weights (the sizes are
//! printed). At 10^6 the baseline takes over a minute per iteration: it is timed once (and
//! checked against the exact e_l, as at every size) but sampled only with
//! SLTH_BENCH_LARGE=1, and skipped in `--test` mode.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use num_rational::BigRational;
use slth::certificate::{self, Certificate};
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::generate::{EntryRange, random_target};
use slth::sampler::{self, Seed, StreamReader};
use slth::verify::{self, Limits};
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[path = "paths/rational_baseline.rs"]
mod rational_baseline;

/// A generated certificate size.
struct Size {
    name: &'static str,
    dims: &'static [usize],
}

const SIZES: [Size; 3] = [
    Size {
        name: "1e4",
        dims: &[64, 32, 10],
    },
    Size {
        name: "1e5",
        dims: &[128, 128, 10],
    },
    Size {
        name: "1e6",
        dims: &[384, 300, 10],
    },
];

struct Generated {
    certificate: Certificate,
    text: String,
    kept: u64,
}

static GENERATED: [OnceLock<Generated>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// Certificate number `k` of [`SIZES`], certified on first use.
fn generated(k: usize) -> &'static Generated {
    GENERATED[k].get_or_init(|| {
        let size = &SIZES[k];
        let seed = Seed::from_u64(1);
        let range = EntryRange::Uniform {
            low: -0.5,
            high: 0.5,
        };
        let target = random_target(size.dims, &seed, false, &range).expect("random target");
        let tolerance = BigRational::new(1.into(), 100.into());
        let mut options = CertifyOptions::new(Request::Tolerance(tolerance), seed);
        options.construction = Construction::SubsetSum;
        let started = Instant::now();
        let certified = certify(&target, &options).expect("certify");
        let certificate = certified.certificate;
        let text = certificate::to_json_text(&certificate);
        let report = verify::verify(&certificate).expect("the generated certificate verifies");
        eprintln!(
            "paths: {} certificate: dims {:?}, {} kept weights, {} MB of JSON, certified in {:.1} s",
            size.name,
            size.dims,
            report.kept_weights,
            text.len() / 1_000_000,
            started.elapsed().as_secs_f64()
        );
        Generated {
            certificate,
            text,
            kept: report.kept_weights,
        }
    })
}

/// `--test` (CI): every benchmark runs once.
fn quick_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

fn large_baseline() -> bool {
    std::env::var("SLTH_BENCH_LARGE").is_ok_and(|v| v == "1")
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
}

fn verify_paths(c: &mut Criterion) {
    let limits = Limits::default();
    type Path = fn(&Certificate, &Limits);
    let paths: [(&str, Path); 4] = [
        ("verify-exact-rational", |c, _| {
            rational_baseline::verify(c).expect("valid");
        }),
        ("verify-exact-scaled", |c, limits| {
            verify::verify_with(c, limits).expect("valid");
        }),
        ("verify-sound-f64", |c, limits| {
            verify::verify_sound(c, limits).expect("valid");
        }),
        ("verify-plain-f64", |c, _| {
            assert!(slth::fast::verify_f64(c).expect("valid").holds());
        }),
    ];
    for (name, path) in paths {
        let mut group = c.benchmark_group(name);
        configure(&mut group);
        for (k, size) in SIZES.iter().enumerate() {
            let baseline = name == "verify-exact-rational";
            let skip = baseline && k == 2 && !large_baseline();
            if skip && quick_mode() {
                eprintln!(
                    "paths: {name}/{} skipped (set SLTH_BENCH_LARGE=1)",
                    size.name
                );
                continue;
            }
            let g = generated(k);
            if baseline {
                // The baseline computes the same e_l as the checker (one timed run each).
                let started = Instant::now();
                let exact = verify::verify(&g.certificate).expect("valid");
                let exact_seconds = started.elapsed().as_secs_f64();
                let started = Instant::now();
                assert_eq!(
                    rational_baseline::verify(&g.certificate),
                    Ok(exact.bound_value)
                );
                eprintln!(
                    "paths: one run at {}: baseline {:.2} s, exact scaled {:.3} s",
                    size.name,
                    started.elapsed().as_secs_f64(),
                    exact_seconds
                );
            }
            if skip {
                eprintln!(
                    "paths: {name}/{} not sampled (minutes per iteration; set SLTH_BENCH_LARGE=1)",
                    size.name
                );
                continue;
            }
            group.throughput(Throughput::Elements(g.kept));
            group.bench_with_input(BenchmarkId::from_parameter(size.name), g, |b, g| {
                b.iter(|| path(black_box(&g.certificate), &limits))
            });
        }
        group.finish();
    }

    let mut group = c.benchmark_group("parse");
    configure(&mut group);
    for (k, size) in SIZES.iter().enumerate() {
        let g = generated(k);
        group.throughput(Throughput::Elements(g.kept));
        group.bench_with_input(BenchmarkId::from_parameter(size.name), g, |b, g| {
            b.iter(|| certificate::parse(black_box(&g.text)).expect("parses"))
        });
    }
    group.finish();
}

/// The 16-16-16-1 target of `certify-pairs`.
fn pairs_target() -> slth::network::Network {
    random_target(
        &[16, 16, 16, 1],
        &Seed::from_u64(1),
        false,
        &EntryRange::Theorem,
    )
    .expect("random target")
}

fn pairs_options(epsilon: i64) -> CertifyOptions {
    let mut options = CertifyOptions::new(
        Request::Epsilon(BigRational::new(epsilon.into(), 1000.into())),
        Seed::from_u64(1),
    );
    options.construction = Construction::Pairs;
    options
}

/// The draws of the pairs scan: U_i[j][j mod n_{i-1}] for every scanned neuron j < k_i, and
/// V_i[m][j] for `outputs(j)` of the n_i outputs (all of them: an upper bound of the scan's
/// V draws; none: a lower bound, as the scan reads V only for outputs still open).
fn pairs_draws(certificate: &Certificate, all_outputs: bool) -> i64 {
    let seed = Seed::from_hex(&certificate.random_network.seed).expect("seed");
    let mut dims = vec![certificate.target.input_dim];
    dims.extend(
        certificate
            .target
            .layers
            .iter()
            .map(|l| l.weights.len() as u64),
    );
    let mut checksum = 0i64;
    for (b, &width) in certificate.random_network.hidden_widths.iter().enumerate() {
        let (n_in, n_out) = (dims[b], dims[b + 1]);
        let mut hidden = StreamReader::new(seed, sampler::hidden_stream(b + 1));
        let mut output = StreamReader::new(seed, sampler::output_stream(b + 1));
        for j in 0..width {
            checksum ^= hidden.numerator(j * n_in + j % n_in);
            if all_outputs {
                for m in 0..n_out {
                    checksum ^= output.numerator(j * n_out + m);
                }
            }
        }
    }
    checksum
}

fn certify_pairs(c: &mut Criterion) {
    let target = pairs_target();
    let mut group = c.benchmark_group("certify-pairs");
    configure(&mut group);
    for epsilon in [50, 10] {
        let options = pairs_options(epsilon);
        let name = format!("16-16-16-1 eps 0.{epsilon:03}");
        group.bench_function(&name, |b| {
            b.iter(|| certify(black_box(&target), &options).expect("certify"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("pairs-sampler");
    configure(&mut group);
    for epsilon in [50, 10] {
        let certificate = certify(&target, &pairs_options(epsilon))
            .expect("certify")
            .certificate;
        for (bound, all_outputs) in [("U only", false), ("U and every V", true)] {
            let name = format!("16-16-16-1 eps 0.{epsilon:03} {bound}");
            group.bench_function(&name, |b| {
                b.iter(|| pairs_draws(black_box(&certificate), all_outputs))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, verify_paths, certify_pairs);
criterion_main!(benches);
