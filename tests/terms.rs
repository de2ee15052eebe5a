//! Version 2's telescoping terms (docs/FORMAT.md section 12): the committed version 2
//! certificates verify in both arithmetics and are tighter than their version 1 claims;
//! each way of breaking a term is rejected with its kind and place.

mod common;

use common::run::json_files;
use num_rational::BigRational;
use serde_json::{Value, json};
use slth::numbers::parse_rational;
use slth_checker::certificate::{self, Certificate};
use slth_checker::verify::{Limits, Rejection, RejectionKind, verify_sound, verify_with};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The version 2 certificates with terms (the `*-spectral-errors.json` ones have none and
/// are checked by tests/spectral_errors.rs, the `*-joint.json` ones by tests/joint.rs).
fn v2_files() -> Vec<PathBuf> {
    json_files(&root().join("certificates/v2"))
        .into_iter()
        .filter(|p| {
            let name = p.to_string_lossy();
            !name.ends_with("-spectral-errors.json") && !name.ends_with("-joint.json")
        })
        .collect()
}

fn value(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn certificate(v: &Value) -> Certificate {
    certificate::parse(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn exact(v: &Value) -> Result<slth_checker::verify::Report, Rejection> {
    verify_with(&certificate(v), &Limits::default())
}

fn sound(v: &Value) -> Result<slth_checker::verify::Report, Rejection> {
    verify_sound(&certificate(v), &Limits::default())
}

fn rational(v: &Value) -> BigRational {
    parse_rational(v.as_str().unwrap()).unwrap()
}

/// The smallest committed version 2 certificate with more than one hidden layer in its
/// chains, and the two-layer one.
fn deep() -> Value {
    value(&root().join("certificates/v2/random-8-8-8-1.json"))
}

fn tiny() -> Value {
    value(&root().join("certificates/v2/tiny-3-2-1.json"))
}

#[test]
fn committed_version_2_certificates_verify_and_are_tighter() {
    let files = v2_files();
    assert!(files.len() >= 5, "{files:?}");
    for path in files {
        let v = value(&path);
        assert_eq!(v["version"], 2, "{}", path.display());
        let report = exact(&v).unwrap_or_else(|r| panic!("{}: {r}", path.display()));
        let again = sound(&v).unwrap_or_else(|r| panic!("{}: {r}", path.display()));
        let telescoping = report.telescoping.clone().unwrap();
        assert_eq!(again.telescoping, Some(telescoping.clone()));
        let epsilon = rational(&v["bound"]["epsilon"]);
        assert!(telescoping <= epsilon);
        // The same ticket's version 1 certificate claims more.
        let v1 = value(&root().join("certificates").join(path.file_name().unwrap()));
        assert_eq!(v1["ticket"], v["ticket"], "{}", path.display());
        assert!(
            epsilon < rational(&v1["bound"]["epsilon"]),
            "{}",
            path.display()
        );
        // ... and the version 1 chain alone would not prove the new epsilon.
        assert!(report.bound_value > epsilon, "{}", path.display());
        let json = report.to_json();
        assert_eq!(json["version"], 2);
        assert!(
            json["claim_kinds"]
                .as_array()
                .unwrap()
                .contains(&json!("chain-sdp"))
        );
    }
}

/// The rejection of a mutated certificate, which must be the same in both arithmetics.
fn rejected(v: &Value) -> Rejection {
    let exact = exact(v).expect_err("the exact check accepted a broken certificate");
    let sound = sound(v).expect_err("the sound check accepted a broken certificate");
    assert_eq!(exact, sound);
    exact
}

fn assert_rejected(v: &Value, kind: RejectionKind, place: &str) {
    let r = rejected(v);
    assert_eq!(r.kind, kind, "{r}");
    assert!(r.place.starts_with(place), "{r}");
}

#[test]
fn a_smaller_lambda_breaks_the_witness() {
    for v in [tiny(), deep()] {
        let terms = v["bound"]["terms"].as_array().unwrap().len();
        for b in 0..terms {
            let mut m = v.clone();
            let lambda = rational(&m["bound"]["terms"][b]["lipschitz"]);
            let smaller = lambda * BigRational::new(9.into(), 10.into());
            m["bound"]["terms"][b]["lipschitz"] = json!(smaller.to_string());
            assert_rejected(
                &m,
                RejectionKind::WitnessInvalid,
                &format!("bound.terms[{b}].witness"),
            );
        }
    }
}

#[test]
fn epsilon_below_both_bounds_is_rejected_and_above_one_is_not() {
    let v = deep();
    let report = exact(&v).unwrap();
    let telescoping = report.telescoping.unwrap();
    let mut m = v.clone();
    let below = &telescoping * BigRational::new(99.into(), 100.into());
    m["bound"]["epsilon"] = json!(below.to_string());
    assert_rejected(&m, RejectionKind::EpsilonTooSmall, "bound.epsilon");
    // Exactly the telescoping bound is enough.
    m["bound"]["epsilon"] = json!(telescoping.to_string());
    assert!(exact(&m).is_ok());
    assert!(sound(&m).is_ok());
}

#[test]
fn the_witness_is_tied_to_its_lambda() {
    // Q contains lambda^2 |u|^2, so a witness of one lambda does not factor the Q of
    // another, even of a larger one: the claim and its witness must agree exactly.
    let mut m = deep();
    let lambda = rational(&m["bound"]["terms"][0]["lipschitz"]);
    m["bound"]["terms"][0]["lipschitz"] =
        json!((lambda * BigRational::from_integer(2.into())).to_string());
    assert_rejected(&m, RejectionKind::WitnessInvalid, "bound.terms[0].witness");
}

#[test]
fn multipliers_products_and_witness_shapes_are_checked() {
    let v = deep();
    // Term 1: every layer of the chain is at or after block 1, so multipliers must be >= 0.
    let mut m = v.clone();
    let t = rational(&m["bound"]["terms"][0]["multipliers"][0][0]);
    m["bound"]["terms"][0]["multipliers"][0][0] =
        json!((-(num_traits::Signed::abs(&t)) - BigRational::from_integer(1.into())).to_string());
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[0].multipliers[0][0]",
    );

    let mut m = v.clone();
    m["bound"]["terms"][1]["multipliers"][0]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_rejected(
        &m,
        RejectionKind::Dimension,
        "bound.terms[1].multipliers[0]",
    );

    let mut m = v.clone();
    m["bound"]["terms"][2]["multipliers"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_rejected(&m, RejectionKind::Dimension, "bound.terms[2].multipliers");

    // Products: a negative weight, an index beyond the quantities, an unsorted list.
    let products = |m: &mut Value, b: usize| -> Vec<Value> {
        m["bound"]["terms"][b]["products"]
            .as_array()
            .unwrap()
            .clone()
    };
    let mut m = v.clone();
    let list = products(&mut m, 2);
    assert!(
        list.len() >= 2,
        "term 3 of random-8-8-8-1 should multiply quantities"
    );
    m["bound"]["terms"][2]["products"][0][2] = json!("-1/1000");
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[2].products[0]",
    );

    let mut m = v.clone();
    // Term 1 may multiply only u: 16 quantities for a signed 8-dimensional input.
    m["bound"]["terms"][0]["products"] = json!([[0, 16, "1"]]);
    assert_rejected(
        &m,
        RejectionKind::IndexOutOfRange,
        "bound.terms[0].products[0]",
    );

    let mut m = v.clone();
    let mut list = products(&mut m, 2);
    list.swap(0, 1);
    m["bound"]["terms"][2]["products"] = Value::Array(list);
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[2].products[1]",
    );

    let mut m = v.clone();
    m["bound"]["terms"][0]["products"] = json!([[3, 2, "1"]]);
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[0].products[0]",
    );

    // Witness: negative shift, a row of the wrong length, a changed entry.
    let mut m = v.clone();
    m["bound"]["terms"][1]["witness"]["shift"] = json!("-1");
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[1].witness.shift",
    );

    let mut m = v.clone();
    m["bound"]["terms"][1]["witness"]["factor"][3]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_rejected(
        &m,
        RejectionKind::WitnessInvalid,
        "bound.terms[1].witness.factor[3]",
    );

    let mut m = v.clone();
    let r = rational(&m["bound"]["terms"][1]["witness"]["factor"][0][0]);
    m["bound"]["terms"][1]["witness"]["factor"][0][0] =
        json!((r * BigRational::new(3.into(), 2.into())).to_string());
    assert_rejected(&m, RejectionKind::WitnessInvalid, "bound.terms[1].witness");
}

#[test]
fn a_product_on_a_signed_quantity_is_not_free() {
    // Adding a large weight on u_0 u_0 subtracts v u_0^2 from V: that is allowed (u >= 0
    // holds) but costs margin, so a big one breaks the witness rather than helping it.
    let mut m = tiny();
    let mut list = m["bound"]["terms"][0]["products"]
        .as_array()
        .unwrap()
        .clone();
    list.retain(|p| p[0] != 0 || p[1] != 0);
    list.insert(0, json!([0, 0, "1000"]));
    m["bound"]["terms"][0]["products"] = Value::Array(list);
    assert_rejected(&m, RejectionKind::WitnessInvalid, "bound.terms[0].witness");
}

#[test]
fn the_target_and_the_ticket_are_bound_to_the_terms() {
    // A different target weight changes the chains; the same witness no longer proves them.
    let mut m = deep();
    let w = rational(&m["target"]["layers"][1]["weights"][0][0]);
    m["target"]["layers"][1]["weights"][0][0] =
        json!((w + BigRational::new(1.into(), 4.into())).to_string());
    let r = rejected(&m);
    assert!(
        matches!(
            r.kind,
            RejectionKind::WitnessInvalid
                | RejectionKind::ErrorTooSmall
                | RejectionKind::LipschitzTooSmall
        ),
        "{r}"
    );
}

#[test]
fn versions_and_terms_go_together() {
    let mut m = deep();
    m["version"] = json!(1);
    assert_rejected(&m, RejectionKind::Header, "bound.terms");

    let mut m = deep();
    m["bound"].as_object_mut().unwrap().remove("terms");
    assert_rejected(&m, RejectionKind::Header, "bound.terms");

    let mut m = deep();
    m["bound"]["terms"].as_array_mut().unwrap().pop();
    assert_rejected(&m, RejectionKind::Dimension, "bound.terms");

    let mut m = deep();
    m["version"] = json!(3);
    assert_rejected(&m, RejectionKind::Header, "version");
}

#[test]
fn a_term_beyond_the_work_limit_is_refused_in_every_mode() {
    let v = deep();
    let c = certificate(&v);
    let limits = Limits {
        max_exact_work: 1e3,
        ..Limits::default()
    };
    let exact = verify_with(&c, &limits).unwrap_err();
    let sound = verify_sound(&c, &limits).unwrap_err();
    assert_eq!(exact, sound);
    assert_eq!(exact.kind, RejectionKind::Limit, "{exact}");
    assert!(exact.detail.contains("--max-exact-work"), "{exact}");
}

#[test]
fn invalid_version_2_examples_are_rejected_where_their_names_say() {
    let expected = [
        (
            "epsilon-too-small",
            RejectionKind::EpsilonTooSmall,
            "bound.epsilon",
        ),
        (
            "lambda-too-small",
            RejectionKind::WitnessInvalid,
            "bound.terms[0].witness",
        ),
        ("missing-terms", RejectionKind::Header, "bound.terms"),
        (
            "multiplier-row-length",
            RejectionKind::Dimension,
            "bound.terms[0].multipliers[0]",
        ),
        (
            "negative-lambda",
            RejectionKind::LipschitzTooSmall,
            "bound.terms[0].lipschitz",
        ),
        (
            "negative-product",
            RejectionKind::WitnessInvalid,
            "bound.terms[1].products[0]",
        ),
        (
            "negative-tail-multiplier",
            RejectionKind::WitnessInvalid,
            "bound.terms[0].multipliers[0][0]",
        ),
        (
            "product-index-out-of-range",
            RejectionKind::IndexOutOfRange,
            "bound.terms[0].products[0]",
        ),
        (
            "products-unsorted",
            RejectionKind::WitnessInvalid,
            "bound.terms[1].products[1]",
        ),
        (
            "terms-count-mismatch",
            RejectionKind::Dimension,
            "bound.terms",
        ),
        ("terms-in-version-1", RejectionKind::Header, "bound.terms"),
        (
            "witness-invalid",
            RejectionKind::WitnessInvalid,
            "bound.terms[1].witness",
        ),
        (
            "witness-negative-shift",
            RejectionKind::WitnessInvalid,
            "bound.terms[1].witness.shift",
        ),
        (
            "witness-shape",
            RejectionKind::WitnessInvalid,
            "bound.terms[1].witness.factor[1]",
        ),
    ];
    // The spectral-error-*.json examples are tests/spectral_errors.rs's, the joint-*.json
    // ones tests/joint.rs's.
    let files: Vec<PathBuf> = json_files(&root().join("certificates/invalid/v2"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            !name.starts_with("spectral-error-") && !name.starts_with("joint-")
        })
        .collect();
    assert_eq!(files.len(), expected.len(), "{files:?}");
    for (name, kind, place) in expected {
        let v = value(&root().join(format!("certificates/invalid/v2/{name}.json")));
        let r = rejected(&v);
        assert_eq!(r.kind, kind, "{name}: {r}");
        assert_eq!(r.place, place, "{name}: {r}");
    }
}

#[test]
fn inspect_and_verify_name_the_claim_kinds() {
    let path = root().join("certificates/v2/random-8-8-8-1.json");
    let v = value(&path);
    let text = slth::inspect::summary(&path, &certificate(&v));
    assert!(
        text.contains(
            "format version 2: error-frobenius, lipschitz-spectral, lipschitz-frobenius, chain-sdp"
        ),
        "{text}"
    );
    assert!(text.contains("term 3: lambda = "), "{text}");
    let v1 = value(&root().join("certificates/random-8-8-8-1.json"));
    let report = exact(&v1).unwrap();
    assert_eq!(
        report.claim_kinds,
        [
            "error-frobenius",
            "lipschitz-spectral",
            "lipschitz-frobenius"
        ]
    );
    assert!(report.telescoping.is_none());
    assert_eq!(report.to_json()["version"], 1);
}
