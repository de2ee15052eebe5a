//! Verifying certificates whose target weights have wide dyadic denominators (2^70, the
//! denominators `random-target` writes without `--range`) and whose first layer carries a
//! spectral witness: the case where the default verifier (sound f64 with exact fallback)
//! was 5 to 7 times slower than the plain-f64 estimate, because every weight and witness
//! entry entered the filter through a slow exact enclosure.
//!
//! `cargo bench --bench witness`; CI runs `cargo bench -- --test` (each benchmark once).
//! Groups (CPU time of the benchmark thread is not used here: the paths are
//! single-threaded, and the ratios on one run are the figures that matter):
//!
//! - `verify-wide-dyadic/sound`: `verify_sound`, i.e. `slth verify` (the default);
//! - `verify-wide-dyadic/f64`: `fast::verify_f64`, i.e. `slth verify --f64` (not a proof);
//! - `verify-wide-dyadic/exact`: `verify_with`, i.e. `slth verify --exact`.

use criterion::{Criterion, criterion_group, criterion_main};
use num_bigint::BigInt;
use num_rational::BigRational;
use slth::certify::{CertifyOptions, Request, certify};
use slth::network::{Activation, Layer, Network};
use slth_checker::certificate::{Certificate, Limits};
use slth_checker::sampler::{Seed, StreamReader};
use std::hint::black_box;
use std::sync::OnceLock;

/// Dims of the target: a square first layer (witness side 128) and a small output layer.
const DIMS: [usize; 3] = [128, 128, 4];

/// A target whose weights are `n / 2^70` with n uniform in (-2^70, 2^70) / sqrt(n_in): as
/// wide as `random-target` writes them, drawn here directly (proving the spectral norm
/// exactly, as `random-target` does, takes minutes at this size).
fn wide_dyadic_target() -> Network {
    let mut reader = StreamReader::new(Seed::from_u64(5), 1 << 42);
    let mut next = 0u64;
    let layers = DIMS
        .windows(2)
        .enumerate()
        .map(|(i, pair)| {
            let (n_in, n_out) = (pair[0], pair[1]);
            let scale = (n_in as f64).sqrt();
            let weights = (0..n_out)
                .map(|_| {
                    (0..n_in)
                        .map(|_| {
                            next += 1;
                            // 53 random bits shifted to a 70-bit numerator, plus a low bit
                            // so that the denominator stays 2^70 in lowest terms.
                            let n = BigInt::from(reader.numerator(next)) << 17u32;
                            BigRational::new(n + 1, BigInt::from(1) << 70u32)
                                / BigRational::from_float(scale).expect("finite")
                        })
                        .collect()
                })
                .collect();
            let activation = if i + 2 == DIMS.len() {
                Activation::Linear
            } else {
                Activation::Relu
            };
            Layer {
                weights,
                activation,
            }
        })
        .collect();
    Network {
        input_dim: DIMS[0],
        layers,
    }
}

fn certificate() -> &'static Certificate {
    static CERTIFICATE: OnceLock<Certificate> = OnceLock::new();
    CERTIFICATE.get_or_init(|| {
        let target = wide_dyadic_target();
        let tolerance = BigRational::new(1.into(), 50.into());
        let mut options = CertifyOptions::new(Request::Tolerance(tolerance), Seed::from_u64(9));
        // The recorded figures are version 1's (Lipschitz witnesses only).
        options.version = 1;
        let certified = certify(&target, &options).expect("certify");
        let witness = certified.head.bound.blocks[0].lipschitz_witness.is_some();
        assert!(witness, "block 1 should carry a spectral witness");
        certified.certificate()
    })
}

fn verify_wide_dyadic(c: &mut Criterion) {
    let certificate = certificate();
    let limits = Limits::default();
    let mut group = c.benchmark_group("verify-wide-dyadic");
    group.sample_size(10);
    group.bench_function("sound", |b| {
        b.iter(|| slth_checker::verify_sound(black_box(certificate), &limits).expect("valid"))
    });
    group.bench_function("f64", |b| {
        b.iter(|| slth::fast::verify_f64(black_box(certificate), &limits).expect("valid"))
    });
    group.bench_function("exact", |b| {
        b.iter(|| slth_checker::verify_with(black_box(certificate), &limits).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, verify_wide_dyadic);
criterion_main!(benches);
