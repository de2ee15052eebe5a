//! `slth tighten`'s native producer of version 2's terms: on each committed version 1
//! certificate its output verifies VALID (through its text form and the trusted checker) and
//! its epsilon is at most 1.10 times the one `tools/tighten.py` (cvxpy) found independently,
//! committed in certificates/v2/. A tampered term is INVALID.

use num_rational::BigRational;
use slth_checker::certificate::{self, Certificate, Limits};
use slth_checker::numbers::parse_rational;
use slth_checker::verify::{RejectionKind, verify_sound};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The native output for certificates/NAME.json, read back from its text.
fn tightened(name: &str) -> Certificate {
    let path = root().join(format!("certificates/{name}.json"));
    let out = slth::tighten::tighten_file(&path, &Limits::default()).unwrap();
    let text = slth::write::to_json_text(&out.certificate);
    certificate::parse(&text).unwrap()
}

fn check(name: &str) {
    let out = tightened(name);
    assert_eq!(out.version, 2);
    let terms = out.bound.terms.as_ref().unwrap();
    assert_eq!(terms.len(), out.target.layers.len());
    let report = verify_sound(&out, &Limits::default()).unwrap();
    assert_eq!(report.terms.len(), terms.len());
    let ours = parse_rational(&out.bound.epsilon.0).unwrap();
    assert_eq!(report.epsilon, ours);
    let committed = certificate::load(
        &root().join(format!("certificates/v2/{name}.json")),
        &Limits::default(),
    )
    .unwrap();
    let cvxpy = parse_rational(&committed.bound.epsilon.0).unwrap();
    let limit = cvxpy * BigRational::new(11.into(), 10.into());
    assert!(
        ours <= limit,
        "{name}: native epsilon {ours} above 1.10 x cvxpy's {}",
        committed.bound.epsilon.0
    );
}

#[test]
fn tiny() {
    check("tiny-3-2-1");
}

#[test]
fn deep_linear_output() {
    check("deep-linear-output");
}

#[test]
fn deep_linear_output_subset_sum() {
    check("deep-linear-output-subset-sum");
}

#[test]
fn random_8_8_8_1() {
    check("random-8-8-8-1");
}

#[test]
fn random_8_8_8_1_subset_sum() {
    check("random-8-8-8-1-subset-sum");
}

#[test]
#[ignore = "slow: about a minute in release, as long as the other tests together (run with --ignored)"]
fn digits() {
    check("digits-64-32-10");
}

/// Lowering a lambda below what the witness proves, with epsilon lowered to match, is
/// rejected at that term.
#[test]
fn tampered_lambda_is_invalid() {
    let mut out = tightened("tiny-3-2-1");
    let terms = out.bound.terms.as_mut().unwrap();
    let lambda = parse_rational(&terms[0].lipschitz.0).unwrap();
    let lowered = lambda * BigRational::new(9.into(), 10.into());
    terms[0].lipschitz.0 = slth_checker::numbers::format_rational(&lowered);
    let rejection = verify_sound(&out, &Limits::default()).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::WitnessInvalid, "{rejection}");
    assert!(rejection.place.starts_with("bound.terms[0]"), "{rejection}");
}

/// A certificate that already has terms is refused with one line naming the place.
#[test]
fn terms_twice_refused() {
    let path = root().join("certificates/v2/tiny-3-2-1.json");
    let error = slth::tighten::tighten_file(&path, &Limits::default()).unwrap_err();
    let line = error.to_string();
    assert!(
        line.contains("bound.terms") && !line.contains('\n'),
        "{line}"
    );
}
