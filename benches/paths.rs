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
//! - outside `--test` mode, a printed summary: the fastest of ten interleaved runs of the
//!   three fast paths and of parsing per size, in CPU and in wall time;
//! - `certify-pairs`: a 16-16-16-1 target at epsilon 0.05 and 0.01, and `pairs-sampler`: the
//!   random-stream draws of those runs alone, for the construction's sampler share.
//!
//! The verification and parse groups are measured in CPU time of the benchmark thread
//! (`ThreadCpuTime`; they are single-threaded), so that other work on a shared machine does
//! not count; the construction groups in wall time (certify may use several threads).
//!
//! Certificates (subset-sum, per-weight tolerance 1/100, seed 1, targets uniform in
//! (-1/2, 1/2)) are certified on first use and kept for every group: dims 64-32-10,
//! 128-128-10 and 384-300-10 give about 10^4, 10^5 and 10^6 kept weights (the sizes are
//! printed). The baseline is first checked to compute the checker's e_l. At 10^6 it takes
//! over a minute per iteration and is skipped unless SLTH_BENCH_LARGE=once (one timed run)
//! or SLTH_BENCH_LARGE=1 (sampled like the others, 10+ minutes).

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use num_rational::BigRational;
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::generate::{EntryRange, random_target};
use slth_checker::certificate::{self, Certificate};
use slth_checker::sampler::{self, Seed, StreamReader};
use slth_checker::verify::{self, Limits};
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
        // The rational baseline recomputes version 1's chain (Frobenius c_i).
        options.version = 1;
        let started = Instant::now();
        let certified = certify(&target, &options).expect("certify");
        let certificate = certified.certificate();
        let text = slth::write::to_json_text(&certificate);
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

/// SLTH_BENCH_LARGE: "once" or "1" for the baseline at 10^6.
fn large_baseline() -> Option<&'static str> {
    match std::env::var("SLTH_BENCH_LARGE").as_deref() {
        Ok("1") => Some("1"),
        Ok("once") => Some("once"),
        _ => None,
    }
}

/// Checks that the baseline computes the checker's e_l, timing one run of each; returns
/// the baseline's wall seconds.
fn check_baseline(g: &Generated) -> f64 {
    let exact = std::cell::RefCell::new(None);
    let (exact_wall, exact_cpu) = timed(&|| {
        *exact.borrow_mut() = Some(verify::verify(&g.certificate).expect("valid"));
    });
    let baseline = std::cell::RefCell::new(None);
    let (wall, cpu) = timed(&|| {
        *baseline.borrow_mut() = Some(rational_baseline::verify(&g.certificate));
    });
    let exact = exact.into_inner().expect("ran").bound_value;
    assert_eq!(baseline.into_inner().expect("ran"), Ok(exact));
    eprintln!(
        "paths: one run on {} kept weights, CPU s (wall s): baseline {cpu:.2} ({wall:.2}), \
         exact scaled {exact_cpu:.3} ({exact_wall:.3})",
        g.kept
    );
    wall
}

fn configure<M: Measurement>(group: &mut criterion::BenchmarkGroup<'_, M>) {
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
}

fn verify_paths(c: &mut Criterion<ThreadCpuTime>) {
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
        ("verify-plain-f64", |c, limits| {
            assert!(slth::fast::verify_f64(c, limits).expect("valid").holds());
        }),
    ];
    for (name, path) in paths {
        let mut group = c.benchmark_group(name);
        configure(&mut group);
        for (k, size) in SIZES.iter().enumerate() {
            let baseline = name == "verify-exact-rational";
            if baseline && k == 2 && large_baseline() != Some("1") {
                if large_baseline() == Some("once") {
                    let seconds = check_baseline(generated(k));
                    eprintln!(
                        "paths: {name}/{}: one run of {seconds:.1} s, not sampled \
                         (SLTH_BENCH_LARGE=1 samples it)",
                        size.name
                    );
                } else {
                    eprintln!(
                        "paths: {name}/{} skipped (over a minute per iteration; \
                         SLTH_BENCH_LARGE=once times one run, =1 samples it)",
                        size.name
                    );
                }
                continue;
            }
            let g = generated(k);
            let checked = OnceLock::new();
            group.throughput(Throughput::Elements(g.kept));
            group.bench_with_input(BenchmarkId::from_parameter(size.name), g, |b, g| {
                if baseline {
                    checked.get_or_init(|| check_baseline(g));
                }
                b.iter(|| path(black_box(&g.certificate), &limits))
            });
        }
        group.finish();
    }

    if !quick_mode() {
        interleaved_minimums(&limits);
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

/// CPU time of the calling thread in seconds (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`).
#[cfg(target_os = "linux")]
fn thread_cpu_seconds() -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        seconds: i64,
        nanoseconds: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut time = Timespec {
        seconds: 0,
        nanoseconds: 0,
    };
    // SAFETY: `time` is a valid timespec (two 64-bit fields on 64-bit Linux) that the call
    // only writes.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
    (status == 0).then_some(time.seconds as f64 + time.nanoseconds as f64 * 1e-9)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

/// Wall and CPU seconds of one call (CPU NaN where the thread clock is unavailable).
fn timed(run: &dyn Fn()) -> (f64, f64) {
    let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
    run();
    let cpu = match (cpu, thread_cpu_seconds()) {
        (Some(before), Some(after)) => after - before,
        _ => f64::NAN,
    };
    (wall.elapsed().as_secs_f64(), cpu)
}

/// Runs of the three fast paths and of parsing, interleaved, ten rounds per size; prints
/// the fastest run of each in CPU time of the thread (and in wall time). On a machine
/// shared with other work, wall time counts the waits for a core; the thread's CPU time
/// does not, and interleaving exposes every path to the same cache disturbances.
fn interleaved_minimums(limits: &Limits) {
    eprintln!(
        "paths: fastest of 10 interleaved runs, CPU ms (wall ms): \
         size, kept, exact-scaled, sound-f64, plain-f64, parse"
    );
    for (k, size) in SIZES.iter().enumerate() {
        let g = generated(k);
        let mut best = [(f64::INFINITY, f64::INFINITY); 4];
        for _ in 0..10 {
            let runs: [&dyn Fn(); 4] = [
                &|| {
                    verify::verify_with(&g.certificate, limits).expect("valid");
                },
                &|| {
                    verify::verify_sound(&g.certificate, limits).expect("valid");
                },
                &|| {
                    slth::fast::verify_f64(&g.certificate, limits).expect("valid");
                },
                &|| {
                    certificate::parse(&g.text).expect("parses");
                },
            ];
            for (run, best) in runs.iter().zip(best.iter_mut()) {
                let (wall, cpu) = timed(*run);
                *best = (best.0.min(cpu * 1e3), best.1.min(wall * 1e3));
            }
        }
        let cells: Vec<String> = best
            .iter()
            .map(|(cpu, wall)| format!("{cpu:.2} ({wall:.2})"))
            .collect();
        eprintln!("paths: {} {} {}", size.name, g.kept, cells.join(" "));
    }
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
    // The recorded figures are version 1's.
    options.version = 1;
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
            .certificate();
        for (bound, all_outputs) in [("U only", false), ("U and every V", true)] {
            let name = format!("16-16-16-1 eps 0.{epsilon:03} {bound}");
            group.bench_function(&name, |b| {
                b.iter(|| pairs_draws(black_box(&certificate), all_outputs))
            });
        }
    }
    group.finish();
}

/// Criterion measured in CPU time of the benchmark thread (nanoseconds), for the
/// single-threaded verification paths: on a machine shared with other work, wall time also
/// counts the waits for a core.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = f64;
    type Value = f64;

    fn start(&self) -> f64 {
        thread_cpu_seconds().unwrap_or(f64::NAN)
    }

    fn end(&self, start: f64) -> f64 {
        thread_cpu_seconds().unwrap_or(f64::NAN) - start
    }

    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, seconds: &f64) -> f64 {
        seconds * 1e9
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuTimeFormatter
    }
}

/// Nanoseconds shown as "cpu ms" or "cpu s", throughput in elements per CPU second.
struct CpuTimeFormatter;

impl ValueFormatter for CpuTimeFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e9 {
            (1e-6, "cpu ms")
        } else {
            (1e-9, "cpu s")
        };
        for value in values {
            *value *= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let count = match *throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => n,
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Bits(n) => n,
        };
        for value in values {
            *value = count as f64 / (*value * 1e-9) / 1e6;
        }
        "M/cpu s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group! {
    name = verification;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = verify_paths
}
criterion_group!(construction, certify_pairs);
criterion_main!(verification, construction);
