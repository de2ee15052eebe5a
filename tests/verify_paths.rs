//! The verification paths agree: the sound f64 filter (the default of `slth verify`) gives
//! exactly the verdict and the rejection of the exact path (`--exact`) on every certificate
//! of the repository, and on claims placed exactly at, one part in 10^30 below and one part
//! in 10^30 above the true values, where only the exact fallback can decide. The plain f64
//! path (`--f64`) shares every structural check.

mod common;

use common::run::json_files;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::fast;
use slth::generate::{EntryRange, random_target};
use slth::numbers::{format_rational, parse_rational};
use slth_checker::certificate::{self, Certificate, Rational};
use slth_checker::sampler::{Seed, WEIGHT_SCALE};
use slth_checker::verify::{
    Arithmetic, Decider, Limits, Rejection, RejectionKind, Report, check_structure, exact_chain,
    verify_using,
};
use std::collections::HashMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn exact(c: &Certificate) -> Result<Report, Rejection> {
    verify_using(c, &Limits::default(), Arithmetic::Exact)
}

fn sound(c: &Certificate) -> Result<Report, Rejection> {
    verify_using(c, &Limits::default(), Arithmetic::Sound)
}

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn text(x: &BigRational) -> Rational {
    Rational(format_rational(x))
}

fn rational(x: &Rational) -> BigRational {
    parse_rational(&x.0).unwrap()
}

/// 1 - 10^-30 and 1 + 10^-30.
fn just_below_and_above() -> (BigRational, BigRational) {
    let tiny = BigRational::new(BigInt::one(), BigInt::from(10).pow(30));
    (BigRational::one() - &tiny, BigRational::one() + tiny)
}

/// Rejections that come from an inequality of docs/FORMAT.md section 6 (the rest are structural).
fn is_inequality(kind: RejectionKind) -> bool {
    matches!(
        kind,
        RejectionKind::ErrorTooSmall
            | RejectionKind::LipschitzTooSmall
            | RejectionKind::WitnessInvalid
            | RejectionKind::EpsilonTooSmall
            | RejectionKind::Limit
    )
}

/// Sound and exact agree (same rejection, or both accept with the same claims, the sound
/// numbers bounding the exact ones from above); returns the exact verdict.
fn assert_agree(name: &str, c: &Certificate) -> Result<Report, Rejection> {
    let (e, s) = (exact(c), sound(c));
    match (&e, &s) {
        (Ok(e), Ok(s)) => {
            assert_eq!(e.epsilon, s.epsilon, "{name}");
            assert_eq!(e.kept_weights, s.kept_weights, "{name}");
            assert_eq!(e.arithmetic, Arithmetic::Exact);
            assert_eq!(s.arithmetic, Arithmetic::Sound);
            assert!(
                e.bound_value <= s.bound_value,
                "{name}: sound e_l below exact"
            );
            assert!(s.bound_value <= s.epsilon, "{name}");
            for (eb, sb) in e.blocks.iter().zip(&s.blocks) {
                assert!(eb.error_squared <= sb.error_squared, "{name}");
                assert!(eb.max_deviation <= sb.max_deviation, "{name}");
                assert!(&sb.error * &sb.error >= sb.error_squared, "{name}");
            }
        }
        (Err(e), Err(s)) => assert_eq!(e, s, "{name}: different rejections"),
        _ => panic!("{name}: exact says {e:?}, sound says {s:?}"),
    }
    e
}

#[test]
fn every_certificate_in_the_repository_gets_one_verdict() {
    let mut files = Vec::new();
    for dir in ["certificates", "certificates/invalid", "tests/conformance"] {
        files.extend(json_files(&root().join(dir)));
    }
    assert!(files.len() >= 45, "{}", files.len());
    let (mut valid, mut rejected, mut decided_in_f64) = (0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let Ok(c) = certificate::load(path, &Limits::default()) else {
            continue; // a schema error: no verifier path is reached
        };
        let verdict = assert_agree(&name, &c);
        let f64_verdict = fast::verify_f64(&c, &Limits::default());
        match &verdict {
            Ok(_) => {
                valid += 1;
                let report = sound(&c).unwrap();
                decided_in_f64 += report
                    .blocks
                    .iter()
                    .filter(|b| b.error_decided_by == Decider::SoundF64)
                    .count();
                let estimate = f64_verdict.unwrap_or_else(|r| panic!("{name}: {r}"));
                assert!(estimate.holds(), "{name}: {:?}", estimate.failures());
                assert!(estimate.relative_difference < 1e-12, "{name}");
            }
            Err(r) => {
                rejected += 1;
                // Structural rejections are shared; past them f64 only estimates.
                match check_structure(&c) {
                    Err(structural) => {
                        assert_eq!(&structural, r, "{name}");
                        assert_eq!(f64_verdict.as_ref().err(), Some(r), "{name}");
                    }
                    Ok(_) => {
                        assert!(is_inequality(r.kind), "{name}: {r}");
                        assert!(f64_verdict.is_ok(), "{name}");
                    }
                }
            }
        }
    }
    assert!(
        valid >= 8 && rejected >= 30,
        "{valid} valid, {rejected} rejected"
    );
    // The filter is not a formality: it decides the ordinary certificates by itself.
    assert!(
        decided_in_f64 >= valid,
        "{decided_in_f64} blocks decided in f64"
    );
}

#[test]
fn a_claim_1e_40_too_small_is_left_to_the_exact_check() {
    let path = root().join("tests/conformance/invalid-epsilon-just-below.json");
    let mut c = certificate::load(&path, &Limits::default()).unwrap();
    let rejection = assert_agree("just below", &c).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::EpsilonTooSmall);
    assert_eq!(
        sound(&c).unwrap_err(),
        rejection,
        "the sound path rejects with the exact numbers"
    );
    // Raised to the exact e_l it holds, and only the exact fallback can tell.
    let claims: Vec<(BigRational, BigRational)> = c
        .bound
        .blocks
        .iter()
        .map(|b| (rational(&b.error), rational(&b.lipschitz)))
        .collect();
    let e_l = exact_chain(
        &rational(&c.domain.radius),
        claims.iter().map(|(e, l)| (e, l)),
    )
    .pop()
    .unwrap();
    assert!(rational(&c.bound.epsilon) < e_l);
    c.bound.epsilon = text(&e_l);
    let report = assert_agree("at e_l", &c).unwrap();
    assert_eq!(report.bound_value, e_l);
    let report = sound(&c).unwrap();
    assert_eq!(report.epsilon_decided_by, Decider::ExactFallback);
    assert!(
        report
            .checked_by()
            .contains("e_2 <= epsilon by the exact fallback"),
        "{}",
        report.checked_by()
    );
}

/// A small certificate from the library's own builder.
fn small_certificate(
    dims: &[usize],
    seed: u64,
    construction: Construction,
    nonnegative: bool,
) -> Certificate {
    let seed = Seed::from_u64(seed);
    let range = EntryRange::Uniform {
        low: -0.5,
        high: 0.5,
    };
    let target = random_target(dims, &seed, false, &range).unwrap();
    let mut options = CertifyOptions::new(Request::Tolerance(q(1, 20)), seed);
    options.construction = construction;
    options.nonnegative = nonnegative;
    // The claims these tests move to their edges are version 1's (Frobenius c_i).
    options.version = 1;
    certify(&target, &options).unwrap().certificate()
}

/// The cases of the randomized tests: dims, seed, construction, non-negative domain.
fn cases() -> Vec<(Vec<usize>, u64, Construction, bool)> {
    let dims = [vec![3, 2, 1], vec![4, 3, 2], vec![2, 3], vec![5, 2, 2, 1]];
    let mut out = Vec::new();
    for (k, d) in dims.iter().enumerate() {
        for seed in 0..2u64 {
            let construction = if (k as u64 + seed).is_multiple_of(2) {
                Construction::SubsetSum
            } else {
                Construction::Pairs
            };
            out.push((d.clone(), 10 * k as u64 + seed, construction, seed == 1));
        }
    }
    out
}

#[test]
fn epsilon_exactly_at_just_below_and_just_above_e_l() {
    let (below, above) = just_below_and_above();
    for (dims, seed, construction, nonnegative) in cases() {
        let name = format!("{dims:?} seed {seed}");
        let mut c = small_certificate(&dims, seed, construction, nonnegative);
        let e_l = exact(&c).unwrap().bound_value;
        for (factor, valid) in [
            (BigRational::one(), true),
            (below.clone(), false),
            (above.clone(), true),
        ] {
            c.bound.epsilon = text(&(&e_l * &factor));
            let verdict = assert_agree(&name, &c);
            assert_eq!(verdict.is_ok(), valid, "{name} x {factor}");
            if let Err(r) = verdict {
                assert_eq!(r.kind, RejectionKind::EpsilonTooSmall);
            } else {
                let report = sound(&c).unwrap();
                assert_eq!(report.epsilon_decided_by, Decider::ExactFallback, "{name}");
            }
        }
        // With room to spare the filter decides alone.
        c.bound.epsilon = text(&(&e_l * q(1001, 1000)));
        assert_eq!(sound(&c).unwrap().epsilon_decided_by, Decider::SoundF64);
    }
}

/// A rational unit vector with n non-zero entries: the inverse stereographic projection
/// `(2v, |v|^2 - 1) / (|v|^2 + 1)` of an integer v with |v|^2 > 1.
fn unit_vector(n: usize, seed: u64) -> Vec<BigRational> {
    if n == 1 {
        return vec![BigRational::one()];
    }
    let v: Vec<i64> = (0..n - 1)
        .map(|k| 1 + ((seed + 3 * k as u64) % 5) as i64)
        .collect();
    let norm: i64 = v.iter().map(|x| x * x).sum::<i64>().max(2);
    let mut x: Vec<BigRational> = v.iter().map(|&a| q(2 * a, norm + 1)).collect();
    x.push(q(norm - 1, norm + 1));
    let length: BigRational = x.iter().map(|a| a * a).sum();
    assert!(length.is_one() && x.iter().all(|a| !a.is_zero()));
    x
}

/// P and Q of block 1 (docs/FORMAT.md section 6) from the ticket, exactly, row-major.
fn paths_of_block_one(c: &Certificate) -> (Vec<BigRational>, Vec<BigRational>) {
    let cols = c.target.input_dim as usize;
    let rows = c.target.layers[0].weights.len();
    let scale = q(WEIGHT_SCALE, 1);
    let hidden: HashMap<u64, (u64, BigRational)> = c.ticket[0]
        .hidden
        .iter()
        .map(|(j, t, u)| (*j, (*t, rational(u))))
        .collect();
    let (mut p, mut n) = (
        vec![BigRational::zero(); rows * cols],
        vec![BigRational::zero(); rows * cols],
    );
    for (m, j, v) in &c.ticket[0].output {
        let (t, u) = &hidden[j];
        let cell = *m as usize * cols + *t as usize;
        let sums = if u.is_positive() { &mut p } else { &mut n };
        sums[cell] += rational(v) * u;
    }
    assert!(
        p.iter()
            .chain(&n)
            .all(|x| (x * &scale * &scale).is_integer())
    );
    (p, n)
}

#[test]
fn error_claims_exactly_at_just_below_and_just_above_the_sum_of_squares() {
    let (below, above) = just_below_and_above();
    for (case, (dims, seed, construction, nonnegative)) in cases().into_iter().enumerate() {
        let name = format!("{dims:?} seed {seed}");
        let mut c = small_certificate(&dims, seed, construction, nonnegative);
        let (p, n) = paths_of_block_one(&c);
        let x = unit_vector(p.len(), case as u64);
        // E = s |x_k| needs s |x_k| >= |P - Q| / 2 on a signed domain.
        let s = p
            .iter()
            .zip(&n)
            .zip(&x)
            .map(|((p, n), x)| (p - n).abs() / (x.abs() * q(2, 1)))
            .fold(q(1, 10), |a, b| a.max(b));
        // Non-negative input: E = |P - W|, so W = P + s x. Signed: E = max(|P - W|, |Q - W|)
        // = |P - Q| / 2 + delta for W = (P + Q) / 2 + delta, delta = s |x| - |P - Q| / 2.
        let weights: Vec<BigRational> = (0..p.len())
            .map(|k| {
                if nonnegative {
                    &p[k] + &s * &x[k]
                } else {
                    (&p[k] + &n[k]) / q(2, 1) + &s * x[k].abs() - (&p[k] - &n[k]).abs() / q(2, 1)
                }
            })
            .collect();
        let cols = c.target.input_dim as usize;
        for (k, w) in weights.iter().enumerate() {
            c.target.layers[0].weights[k / cols][k % cols] = text(w);
        }
        // Generous Lipschitz claim and epsilon: only c_1 is at stake.
        let frobenius: BigRational = weights.iter().map(|w| w * w).sum();
        c.bound.blocks[0].lipschitz = text(&(frobenius + q(1, 1)));
        c.bound.blocks[0].lipschitz_method = None;
        c.bound.blocks[0].lipschitz_witness = None;
        c.bound.epsilon = Rational("1000000000000".into());
        for (factor, valid) in [
            (BigRational::one(), true),
            (below.clone(), false),
            (above.clone(), true),
        ] {
            c.bound.blocks[0].error = text(&(&s * &factor));
            let verdict = assert_agree(&name, &c);
            assert_eq!(verdict.is_ok(), valid, "{name} x {factor}");
            match verdict {
                Ok(report) => assert_eq!(report.blocks[0].error_squared, &s * &s, "{name}"),
                Err(r) => {
                    assert_eq!(r.kind, RejectionKind::ErrorTooSmall);
                    assert_eq!(r.place, "bound.blocks[0].error");
                }
            }
            if valid {
                let report = sound(&c).unwrap();
                assert_eq!(report.blocks[0].error_decided_by, Decider::ExactFallback);
                assert_eq!(report.exact_fallback_blocks(), 1, "{name}");
            }
        }
        c.bound.blocks[0].error = text(&(&s * q(1001, 1000)));
        let report = sound(&c).unwrap();
        assert_eq!(
            report.blocks[0].error_decided_by,
            Decider::SoundF64,
            "{name}"
        );
    }
}

#[test]
fn lipschitz_claims_exactly_at_just_below_and_just_above_the_frobenius_norm() {
    let (below, above) = just_below_and_above();
    for (case, (dims, seed, construction, nonnegative)) in cases().into_iter().enumerate() {
        let name = format!("{dims:?} seed {seed}");
        let mut c = small_certificate(&dims, seed, construction, nonnegative);
        // W_1 = r x with a rational unit vector x: ||W_1||_F = r exactly. The ticket stays,
        // so c_1 is recomputed for the new W_1 (with room) and epsilon is generous.
        let cols = c.target.input_dim as usize;
        let rows = c.target.layers[0].weights.len();
        let r = q(3 + case as i64, 7);
        let x = unit_vector(rows * cols, case as u64 + 1);
        for (k, xk) in x.iter().enumerate() {
            c.target.layers[0].weights[k / cols][k % cols] = text(&(&r * xk));
        }
        c.bound.blocks[0].error = Rational("1000".into());
        c.bound.blocks[0].lipschitz_method = None;
        c.bound.blocks[0].lipschitz_witness = None;
        c.bound.epsilon = Rational("1000000000000000".into());
        for (factor, valid) in [
            (BigRational::one(), true),
            (below.clone(), false),
            (above.clone(), true),
        ] {
            c.bound.blocks[0].lipschitz = text(&(&r * &factor));
            let verdict = assert_agree(&name, &c);
            assert_eq!(verdict.is_ok(), valid, "{name} x {factor}");
            match verdict {
                Ok(_) => {
                    let report = sound(&c).unwrap();
                    assert_eq!(
                        report.blocks[0].lipschitz_decided_by,
                        Decider::ExactFallback
                    );
                }
                Err(rejection) => {
                    assert_eq!(rejection.kind, RejectionKind::LipschitzTooSmall);
                    assert_eq!(rejection.place, "bound.blocks[0].lipschitz");
                }
            }
        }
    }
}

#[test]
fn a_spectral_witness_is_decided_by_the_filter_and_agrees_when_broken() {
    let path = root().join("tests/conformance/valid-spectral-witness.json");
    let c = certificate::load(&path, &Limits::default()).unwrap();
    assert_agree("witness", &c).unwrap();
    let report = sound(&c).unwrap();
    let b = report
        .blocks
        .iter()
        .position(|b| b.lipschitz_method == "spectral (witness)")
        .expect("a witness block");
    assert_eq!(report.blocks[b].lipschitz_decided_by, Decider::SoundF64);
    // Shrinking the shift breaks the witness (sum D^2 stays, shift^2 shrinks) or not; the
    // paths must agree either way, and on a grossly wrong L as well.
    let shift = rational(&c.bound.blocks[b].lipschitz_witness.as_ref().unwrap().shift);
    let mut outcomes = Vec::new();
    for factor in [q(1, 1_000_000), q(1, 2), q(2, 1)] {
        let mut probe = c.clone();
        probe.bound.blocks[b]
            .lipschitz_witness
            .as_mut()
            .unwrap()
            .shift = text(&(&shift * &factor));
        outcomes.push(assert_agree(&format!("shift x {factor}"), &probe).is_ok());
    }
    assert!(outcomes.contains(&false), "{outcomes:?}");
    let mut probe = c.clone();
    probe.bound.blocks[b].lipschitz = Rational("1/1000".into());
    let r = assert_agree("small L", &probe).unwrap_err();
    assert_eq!(r.kind, RejectionKind::WitnessInvalid);
}

#[test]
fn the_earliest_broken_entry_is_reported_in_every_mode() {
    let path = root().join("tests/conformance/valid-nonnegative-domain.json");
    let base = certificate::load(&path, &Limits::default()).unwrap();
    assert!(base.ticket[0].hidden.len() >= 6 && base.ticket[0].output.len() >= 6);
    let wrong_value = Rational("1/2".into());
    let expect = |c: &Certificate, kind: RejectionKind, place: &str| {
        let r = assert_agree(place, c).unwrap_err();
        assert_eq!((r.kind, r.place.as_str()), (kind, place), "{r}");
        assert_eq!(fast::verify_f64(c, &Limits::default()).unwrap_err(), r);
    };

    // A wrong value before a duplicate, and after it.
    let mut c = base.clone();
    c.ticket[0].hidden[2].2 = wrong_value.clone();
    c.ticket[0].hidden[4].0 = c.ticket[0].hidden[1].0;
    expect(&c, RejectionKind::ValueMismatch, "ticket[0].hidden[2]");
    let mut c = base.clone();
    c.ticket[0].hidden[5].2 = wrong_value.clone();
    c.ticket[0].hidden[3].0 = c.ticket[0].hidden[0].0;
    expect(&c, RejectionKind::DuplicateHidden, "ticket[0].hidden[3]");
    // An index out of range hides everything after it, not before it.
    let mut c = base.clone();
    c.ticket[0].hidden[1].2 = wrong_value.clone();
    c.ticket[0].hidden[3].1 = 1 << 40;
    expect(&c, RejectionKind::ValueMismatch, "ticket[0].hidden[1]");
    let mut c = base.clone();
    c.ticket[0].hidden[3].1 = 1 << 40;
    c.ticket[0].hidden[4].2 = wrong_value.clone();
    expect(&c, RejectionKind::IndexOutOfRange, "ticket[0].hidden[3]");
    // At one entry the duplicate comes before its value; three copies report the second.
    let mut c = base.clone();
    let first = c.ticket[0].output[0].clone();
    c.ticket[0].output[4] = (first.0, first.1, wrong_value.clone());
    c.ticket[0].output[2] = first.clone();
    expect(&c, RejectionKind::DuplicateOutput, "ticket[0].output[2]");
    // An output from a neuron without input, after a wrong value and before one.
    let mut c = base.clone();
    c.ticket[0].output[3].1 = 1 << 20;
    c.random_network.hidden_widths[0] = 1 << 21;
    c.ticket[0].output[5].2 = wrong_value.clone();
    expect(&c, RejectionKind::OutputWithoutInput, "ticket[0].output[3]");
    c.ticket[0].output[1].2 = wrong_value;
    expect(&c, RejectionKind::ValueMismatch, "ticket[0].output[1]");
}

#[test]
fn the_plain_f64_path_reports_its_distance_from_the_exact_e_l() {
    let c = small_certificate(&[4, 3, 2], 5, Construction::SubsetSum, false);
    let estimate = fast::verify_f64(&c, &Limits::default()).unwrap();
    let report = exact(&c).unwrap();
    assert!(estimate.holds());
    assert_eq!(estimate.exact_bound_value, report.bound_value);
    assert!(
        estimate.relative_difference < 1e-14,
        "{}",
        estimate.relative_difference
    );
    assert!(estimate.tight_bound_value <= estimate.bound_value);
    let text = estimate.render_text();
    assert!(text.starts_with("F64 ESTIMATE, NOT A PROOF: "), "{text}");
    let json = estimate.to_json();
    assert_eq!(json["proof"], false);
    assert_eq!(json["verdict"], "f64-estimate-holds");
    for (f, e) in estimate.blocks.iter().zip(&report.blocks) {
        let exact_sum = slth::numbers::rational_to_f64(&e.error_squared);
        assert!((f.error_squared - exact_sum).abs() <= 1e-12 * exact_sum.max(1e-300));
    }
}

#[test]
fn spectral_claims_at_the_norm_of_a_rank_one_target() {
    // W_1 = r u v^T with unit vectors u = (2, 3, 6) / 7 and v = (1, 2, 2, 4) / 5:
    // ||W_1||_2 = r exactly and L_1^2 I - W_1 W_1^T is singular at L_1 = r.
    let path = root().join("tests/conformance/valid-nonnegative-domain.json");
    let mut c = certificate::load(&path, &Limits::default()).unwrap();
    let (u, v) = ([2, 3, 6], [1, 2, 2, 4]);
    let r = q(5, 3);
    for (m, row) in c.target.layers[0].weights.iter_mut().enumerate() {
        for (t, w) in row.iter_mut().enumerate() {
            *w = text(&(&r * q(u[m] * v[t], 35)));
        }
    }
    c.bound.blocks[0].error = Rational("1000".into());
    c.bound.blocks[0].lipschitz_method = Some("spectral".into());
    c.bound.blocks[0].lipschitz_witness = None;
    c.bound.epsilon = Rational("1000000000".into());
    let (below, above) = just_below_and_above();
    for (factor, valid, decider) in [
        (BigRational::one(), true, Decider::ExactFallback),
        (below, false, Decider::ExactFallback),
        (above, true, Decider::ExactFallback),
        (q(1001, 1000), true, Decider::SoundF64),
    ] {
        c.bound.blocks[0].lipschitz = text(&(&r * &factor));
        let verdict = assert_agree("rank one", &c);
        assert_eq!(verdict.is_ok(), valid, "x {factor}");
        match verdict {
            Ok(_) => assert_eq!(sound(&c).unwrap().blocks[0].lipschitz_decided_by, decider),
            Err(rejection) => {
                assert_eq!(rejection.kind, RejectionKind::LipschitzTooSmall);
                assert!(rejection.detail.contains("not positive semidefinite"));
            }
        }
    }
}
