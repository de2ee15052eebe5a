//! Version 2's joint form (docs/FORMAT.md section 12.10): the committed joint examples
//! (`certificates/v2/*-joint.json`) are true for the independent checker
//! (`crates/slth-oracle`) and for slth in both arithmetics, with the same lambda, and
//! tighter than the same tickets' telescoping terms; every `certificates/invalid/v2/joint-*.json`
//! (made by `tools/joint_invalid.py`) is rejected by both, where its name says.

mod common;

use common::run::json_files;
use num_rational::BigRational;
use serde_json::Value;
use slth::numbers::parse_rational;
use slth_checker::certificate::{self, Certificate, LoadErrorKind};
use slth_checker::verify::{Limits, Rejection, verify_sound, verify_with};
use slth_oracle::{Checker, Kind, Verdict, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn joint_files() -> Vec<PathBuf> {
    json_files(&root().join("certificates/v2"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-joint.json"))
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn value(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

fn rational(v: &Value) -> BigRational {
    parse_rational(v.as_str().unwrap()).unwrap()
}

fn certificate(text: &str) -> Certificate {
    certificate::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The oracle's verdict and, when valid, the joint form's lambda and r * lambda.
fn oracle(text: &str) -> (Verdict, Option<(BigRational, BigRational)>) {
    // The digits ticket's joint form has side 131, above the oracle's default of 64.
    let mut checker = Checker::default();
    checker.max_witness_side = 256;
    let root = json::parse(text, 128).unwrap();
    let (verdict, facts) = checker.check_with_facts(&root);
    let joint = facts.and_then(|f| Some((f.joint?.lambda, f.joint_bound?)));
    (verdict, joint)
}

#[test]
fn the_oracle_accepts_the_joint_examples_and_they_are_tighter_than_the_terms() {
    let files = joint_files();
    assert!(files.len() >= 2, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(&path);
        let (verdict, joint) = oracle(&text);
        assert!(verdict.is_valid(), "{name}: {verdict:?}");
        let (lambda, bound) = joint.unwrap_or_else(|| panic!("{name}: no joint facts"));
        let v = value(&path);
        assert_eq!(v["version"], 2, "{name}");
        let epsilon = rational(&v["bound"]["epsilon"]);
        assert_eq!(bound, rational(&v["domain"]["radius"]) * &lambda, "{name}");
        assert!(bound <= epsilon, "{name}");
        // The same ticket's terms certificate (section 12) claims more.
        let stem = name.trim_end_matches("-joint.json");
        let terms = value(&root().join(format!("certificates/v2/{stem}.json")));
        assert_eq!(terms["ticket"], v["ticket"], "{name}");
        assert!(
            epsilon < rational(&terms["bound"]["epsilon"]),
            "{name}: the joint form is not tighter than the terms"
        );
        // And only the joint form covers epsilon: lowering it to r lambda (1 - 1e-30)
        // makes the certificate false.
        let below = &bound
            * (BigRational::from_integer(1.into())
                - BigRational::new(1.into(), num_bigint::BigInt::from(10).pow(30)));
        let mut m = v.clone();
        m["bound"]["epsilon"] = Value::String(below.to_string());
        let (verdict, _) = oracle(&m.to_string());
        assert!(
            verdict.kinds().contains(&Kind::EpsilonTooSmall),
            "{name}: {verdict:?}"
        );
    }
}

/// slth accepts the examples in both arithmetics and proves the oracle's bound r * lambda
/// (`Report::joint`; the digits ticket's radius is sqrt(2) rounded up, its target homogenized).
#[test]
fn slth_accepts_the_joint_examples_with_the_oracles_lambda() {
    for path in joint_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(&path);
        let (_, joint) = oracle(&text);
        let (lambda, bound) = joint.unwrap();
        assert_eq!(
            bound,
            rational(&value(&path)["domain"]["radius"]) * &lambda,
            "{name}"
        );
        let c = certificate(&text);
        let exact = verify_with(&c, &Limits::default()).unwrap_or_else(|r| panic!("{name}: {r}"));
        let sound = verify_sound(&c, &Limits::default()).unwrap_or_else(|r| panic!("{name}: {r}"));
        assert_eq!(exact.joint, Some(bound.clone()), "{name}");
        assert_eq!(sound.joint, Some(bound.clone()), "{name}");
        // Only the joint form covers epsilon.
        assert!(exact.bound_value > exact.epsilon, "{name}");
        assert!(exact.telescoping.is_none(), "{name}");
        assert_eq!(
            exact.to_json()["joint"],
            Value::String(bound.to_string()),
            "{name}"
        );
    }
}

/// What each invalid example breaks: (name, kind, place), the kind named as slth's
/// `RejectionKind` (and the oracle's `Kind`), or "Schema" for a load error.
fn expected() -> Vec<(&'static str, &'static str, String)> {
    let products = value(
        &root().join("certificates/invalid/v2/joint-product-index-out-of-range.json"),
    )["bound"]["joint"]["products"]
        .as_array()
        .unwrap()
        .len();
    let j = |s: &str| format!("bound.joint{s}");
    vec![
        ("chain-row-count", "Dimension", j(".chains[0]")),
        ("chain-row-length", "Dimension", j(".chains[0][0]")),
        ("chains-count", "Dimension", j(".chains")),
        (
            "epsilon-too-small",
            "EpsilonTooSmall",
            "bound.epsilon".into(),
        ),
        ("head-row-count", "Dimension", j(".head")),
        ("head-row-length", "Dimension", j(".head[0]")),
        ("in-version-1", "Header", j("")),
        ("lambda-too-small", "WitnessInvalid", j(".witness")),
        (
            "negative-chain-multiplier",
            "WitnessInvalid",
            j(".chains[0][0][0]"),
        ),
        ("negative-lambda", "LipschitzTooSmall", j(".lipschitz")),
        ("negative-product", "WitnessInvalid", j(".products[0]")),
        (
            "product-index-out-of-range",
            "IndexOutOfRange",
            j(&format!(".products[{}]", products - 1)),
        ),
        ("products-unsorted", "WitnessInvalid", j(".products[1]")),
        ("unknown-key", "Schema", j("")),
        ("witness-invalid", "WitnessInvalid", j(".witness")),
        (
            "witness-negative-shift",
            "WitnessInvalid",
            j(".witness.shift"),
        ),
        ("witness-shape", "WitnessInvalid", j(".witness.factor[1]")),
    ]
}

fn invalid(name: &str) -> String {
    read(&root().join(format!("certificates/invalid/v2/joint-{name}.json")))
}

#[test]
fn every_invalid_joint_example_has_an_expectation() {
    let mut files: Vec<String> = json_files(&root().join("certificates/invalid/v2"))
        .into_iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("joint-"))
        .collect();
    files.sort();
    let mut names: Vec<String> = expected()
        .into_iter()
        .map(|(n, _, _)| format!("joint-{n}.json"))
        .collect();
    names.sort();
    assert_eq!(files, names);
    for (name, _, _) in expected() {
        let v: Value = serde_json::from_str(&invalid(name)).unwrap();
        assert!(v["meta"]["note"].is_string(), "{name} has no meta.note");
    }
}

#[test]
fn the_oracle_rejects_every_invalid_joint_example_where_its_name_says() {
    for (name, kind, place) in expected() {
        let (verdict, _) = oracle(&invalid(name));
        let Verdict::Invalid(violations) = &verdict else {
            panic!("{name}: {verdict:?}")
        };
        assert!(
            violations
                .iter()
                .any(|v| v.place == place && v.kinds.iter().any(|k| k.name() == kind)),
            "{name}: expected {kind} at {place}, the oracle finds {violations:?}"
        );
    }
}

/// slth rejects each example with the same kind and place in both arithmetics (a schema
/// error at load for the unknown key).
#[test]
fn slth_rejects_every_invalid_joint_example_where_its_name_says() {
    let mut wrong = Vec::new();
    for (name, kind, place) in expected() {
        let text = invalid(name);
        if kind == "Schema" {
            match certificate::parse(&text) {
                Err(e) if e.kind == LoadErrorKind::Schema && e.to_string().contains("note") => {}
                other => wrong.push(format!("{name}: expected a schema error, got {other:?}")),
            }
            continue;
        }
        let c = match certificate::parse(&text) {
            Ok(c) => c,
            Err(e) => {
                wrong.push(format!("{name}: does not load: {e}"));
                continue;
            }
        };
        let exact: Result<_, Rejection> = verify_with(&c, &Limits::default());
        let sound: Result<_, Rejection> = verify_sound(&c, &Limits::default());
        match (exact, sound) {
            (Err(e), Err(s)) if e == s && format!("{:?}", e.kind) == kind && e.place == place => {}
            (e, s) => wrong.push(format!(
                "{name}: expected {kind} at {place}, exact {:?}, sound {:?}",
                e.err(),
                s.err()
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A certificate may carry terms and the joint form together (section 12.1): epsilon needs
/// to cover one of e_l, r * sum lambda_i and r * lambda. Both checkers agree on either side
/// of the smallest, the joint bound.
#[test]
fn terms_and_joint_together() {
    let mut v = value(&root().join("certificates/v2/tiny-3-2-1-joint.json"));
    let terms = value(&root().join("certificates/v2/tiny-3-2-1.json"));
    assert_eq!(terms["bound"]["blocks"], v["bound"]["blocks"]);
    v["bound"]["terms"] = terms["bound"]["terms"].clone();
    let text = v.to_string();
    let (verdict, joint) = oracle(&text);
    assert!(verdict.is_valid(), "{verdict:?}");
    let (_, bound) = joint.unwrap();
    let report = verify_with(&certificate(&text), &Limits::default()).unwrap();
    assert_eq!(report.joint, Some(bound.clone()));
    let telescoping = report.telescoping.clone().unwrap();
    assert!(bound < telescoping);
    let one = BigRational::from_integer(1.into());
    let tiny = BigRational::new(1.into(), num_bigint::BigInt::from(10).pow(30));
    for (epsilon, valid) in [
        (&bound * (&one + &tiny), true),
        (bound.clone(), true),
        (&bound * (&one - &tiny), false),
    ] {
        let mut m = v.clone();
        m["bound"]["epsilon"] = Value::String(epsilon.to_string());
        let text = m.to_string();
        let (verdict, _) = oracle(&text);
        assert_eq!(verdict.is_valid(), valid, "{epsilon}: {verdict:?}");
        let c = certificate(&text);
        let exact = verify_with(&c, &Limits::default());
        let sound = verify_sound(&c, &Limits::default());
        assert_eq!(exact.is_ok(), valid, "{epsilon}: {exact:?}");
        assert_eq!(sound.is_ok(), valid, "{epsilon}: {sound:?}");
        if !valid {
            assert_eq!(format!("{:?}", exact.unwrap_err().kind), "EpsilonTooSmall");
        }
    }
}
