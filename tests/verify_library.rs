//! The verifier as a library: the conformance certificates and `certificates/invalid/`.

mod common;

use common::run::json_files;
use num_bigint::BigInt;
use num_rational::BigRational;
use slth::numbers::{format_rational, parse_rational};
use slth_checker::certificate::{self, Certificate, LoadErrorKind, Rational};
use slth_checker::verify::{Limits, RejectionKind, verify, verify_with};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Certificate {
    certificate::load(path, &Limits::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn conformance_certificates() {
    let files = json_files(&root().join("tests/conformance"));
    assert_eq!(files.len(), 4, "{files:?}");
    for path in files {
        let name = file_name(&path);
        let c = load(&path);
        let verdict = verify(&c);
        if name.starts_with("valid-") {
            let report = verdict.unwrap_or_else(|r| panic!("{name} rejected: {r}"));
            assert_eq!(report.epsilon, parse_rational(&c.bound.epsilon.0).unwrap());
            assert!(report.bound_value <= report.epsilon);
            assert!(report.render_text().starts_with("VALID: "));
        } else {
            let rejection = verdict.err().unwrap_or_else(|| panic!("{name} accepted"));
            let (kind, place, detail) = match name.as_str() {
                "invalid-epsilon-just-below.json" => {
                    (RejectionKind::EpsilonTooSmall, "bound.epsilon", "e_2")
                }
                "invalid-signed-domain.json" => {
                    (RejectionKind::ErrorTooSmall, "bound.blocks[0].error", "c_1")
                }
                other => panic!("no expectation for conformance file {other}"),
            };
            assert_eq!(rejection.kind, kind, "{name}: {rejection}");
            assert_eq!(rejection.place, place, "{name}: {rejection}");
            assert!(rejection.detail.contains(detail), "{name}: {rejection}");
        }
    }
}

/// What loading and verifying an invalid certificate must give.
enum Expect {
    /// `certificate::load` refuses the shape: `LoadError::Schema` containing the text.
    Schema(&'static str),
    /// The verifier rejects with this kind, at exactly this place, with this text in the detail.
    Reject(RejectionKind, &'static str, &'static str),
}

use Expect::{Reject, Schema};
use RejectionKind as K;

/// One expectation per file of `certificates/invalid/` (the file's `meta.note` says what is wrong).
const INVALID: &[(&str, Expect)] = &[
    ("wrong-format", Reject(K::Header, "format", "slth-network")),
    ("wrong-version", Reject(K::Header, "version", "got 3")),
    ("wrong-norm", Reject(K::Domain, "domain.norm", "linf")),
    (
        "negative-radius",
        Reject(K::Domain, "domain.radius", "negative"),
    ),
    (
        "wrong-rng",
        Reject(K::Header, "random_network.rng", "pcg64"),
    ),
    (
        "wrong-distribution",
        Reject(K::Header, "random_network.distribution", "uniform-f32"),
    ),
    (
        "wrong-seed-length",
        Reject(K::Header, "random_network.seed", "62 characters"),
    ),
    (
        "zero-layers",
        Reject(K::Dimension, "target.layers", "no layers"),
    ),
    (
        "dimension-mismatch",
        Reject(
            K::Dimension,
            "target.layers[1].weights[1]",
            "row has 2 entries, expected 3 (n_1)",
        ),
    ),
    (
        "bad-activation",
        Reject(K::Activation, "target.layers[0].activation", "\"tanh\""),
    ),
    (
        "linear-not-last",
        Reject(
            K::Activation,
            "target.layers[0].activation",
            "\"linear\" only on the last layer",
        ),
    ),
    (
        "widths-count-mismatch",
        Reject(K::Dimension, "random_network.hidden_widths", "found 1"),
    ),
    (
        "ticket-count-mismatch",
        Reject(K::Dimension, "ticket", "found 1"),
    ),
    (
        "blocks-count-mismatch",
        Reject(K::Dimension, "bound.blocks", "found 3"),
    ),
    (
        "hidden-index-out-of-range",
        Reject(
            K::IndexOutOfRange,
            "ticket[0].hidden[9]",
            "index j = 731 is out of range (hidden width 731)",
        ),
    ),
    (
        "hidden-input-out-of-range",
        Reject(
            K::IndexOutOfRange,
            "ticket[0].hidden[2]",
            "input t = 4 is out of range (n_0 = 4)",
        ),
    ),
    (
        "output-index-out-of-range",
        Reject(
            K::IndexOutOfRange,
            "ticket[1].output[0]",
            "output m = 2 is out of range (n_2 = 2)",
        ),
    ),
    (
        "hidden-index-beyond-keystream",
        Reject(
            K::IndexOutOfRange,
            "ticket[0].hidden[0]",
            "beyond the 2^67 weights",
        ),
    ),
    (
        "hidden-listed-twice",
        Reject(
            K::DuplicateHidden,
            "ticket[0].hidden[2]",
            "j = 14 is listed twice (first at ticket[0].hidden[1])",
        ),
    ),
    (
        "output-listed-twice",
        Reject(
            K::DuplicateOutput,
            "ticket[1].output[6]",
            "(m = 0, j = 571) is listed twice (first at ticket[1].output[1])",
        ),
    ),
    (
        "output-without-input",
        Reject(
            K::OutputWithoutInput,
            "ticket[0].output[0]",
            "hidden neuron j = 0 keeps no input",
        ),
    ),
    (
        "value-not-g",
        Reject(
            K::ValueMismatch,
            "ticket[0].hidden[0]",
            "differs from g's weight U_1[1][1] = 2436769662091365/9007199254740992",
        ),
    ),
    (
        "output-value-not-g",
        Reject(
            K::ValueMismatch,
            "ticket[1].output[2]",
            "differs from g's weight V_2[0][623]",
        ),
    ),
    (
        "malformed-rational",
        Reject(
            K::Number,
            "bound.blocks[1].lipschitz",
            "malformed rational \"0,715399924626\"",
        ),
    ),
    (
        "malformed-weight",
        Reject(
            K::Number,
            "target.layers[0].weights[0][1]",
            "malformed rational \"1/-8\"",
        ),
    ),
    (
        "zero-denominator",
        Reject(K::Number, "domain.radius", "zero denominator"),
    ),
    (
        "number-too-long",
        Reject(
            K::Limit,
            "bound.blocks[0].error",
            "exceeds the limit of 10000 (--max-number-length)",
        ),
    ),
    ("unknown-field", Schema("unknown field `center`")),
    ("float-where-rational", Schema("expected a string")),
    ("missing-field", Schema("missing field `domain`")),
    ("negative-index", Schema("integer `-1`")),
    // Compact certificates (docs/FORMAT.md section 14).
    (
        "compact-value-not-g",
        Reject(
            K::ValueMismatch,
            "ticket[0].hidden[0]",
            "differs from g's weight U_1[1][1] = 2436769662091365/9007199254740992",
        ),
    ),
    (
        "compact-hidden-index-beyond-keystream",
        Reject(
            K::IndexOutOfRange,
            "ticket[0].hidden[0]",
            "beyond the 2^67 weights",
        ),
    ),
    (
        "compact-output-without-input",
        Reject(
            K::OutputWithoutInput,
            "ticket[0].output[0]",
            "hidden neuron j = 0 keeps no input",
        ),
    ),
    ("compact-entry-of-one-element", Schema("invalid length 1")),
    (
        "value-left-out",
        Schema("belongs to the format \"slth-compact-certificate\""),
    ),
    (
        "error-too-small",
        Reject(
            K::ErrorTooSmall,
            "bound.blocks[1].error",
            "< sum of E_2[m][t]^2",
        ),
    ),
    (
        "negative-error",
        Reject(
            K::ErrorTooSmall,
            "bound.blocks[0].error",
            "c_1 = -1339831709/50000000000 (~-0.02679663418) is negative",
        ),
    ),
    (
        "lipschitz-too-small",
        Reject(
            K::LipschitzTooSmall,
            "bound.blocks[0].lipschitz",
            "< sum of W_1[m][t]^2",
        ),
    ),
    (
        "negative-lipschitz",
        Reject(
            K::LipschitzTooSmall,
            "bound.blocks[1].lipschitz",
            "L_2 = -357699962313/500000000000 (~-0.715399924626) is negative",
        ),
    ),
    (
        "spectral-too-small",
        Reject(
            K::LipschitzTooSmall,
            "bound.blocks[0].lipschitz",
            "L_1^2 I - W_1 W_1^T is not positive semidefinite",
        ),
    ),
    (
        "unknown-lipschitz-method",
        Reject(
            K::Header,
            "bound.blocks[1].lipschitz_method",
            "\"operator\"",
        ),
    ),
    (
        "witness-without-spectral",
        Reject(
            K::WitnessInvalid,
            "bound.blocks[0].lipschitz_witness",
            "only allowed with",
        ),
    ),
    (
        "witness-invalid",
        Reject(
            K::WitnessInvalid,
            "bound.blocks[0].lipschitz_witness",
            "exceeds shift^2",
        ),
    ),
    (
        "witness-negative-shift",
        Reject(
            K::WitnessInvalid,
            "bound.blocks[0].lipschitz_witness.shift",
            "negative",
        ),
    ),
    (
        "witness-shape",
        Reject(
            K::WitnessInvalid,
            "bound.blocks[1].lipschitz_witness.factor[0]",
            "(2 entries), found 1",
        ),
    ),
    (
        "epsilon-too-small",
        Reject(K::EpsilonTooSmall, "bound.epsilon", "is below e_2 = "),
    ),
];

fn invalid_dir() -> PathBuf {
    root().join("certificates/invalid")
}

#[test]
fn every_invalid_certificate_is_rejected_as_expected() {
    for (name, expect) in INVALID {
        let path = invalid_dir().join(format!("{name}.json"));
        let loaded = certificate::load(&path, &Limits::default());
        match (expect, loaded) {
            (Schema(text), Err(e)) if e.kind == LoadErrorKind::Schema => {
                let message = e.to_string();
                assert!(message.contains(text), "{name}: {message}");
            }
            (Schema(_), other) => panic!("{name}: expected a schema error, got {other:?}"),
            (Reject(..), Err(e)) => panic!("{name}: does not load: {e}"),
            (Reject(kind, place, text), Ok(c)) => {
                let rejection = verify(&c)
                    .err()
                    .unwrap_or_else(|| panic!("{name}: accepted"));
                assert_eq!(rejection.kind, *kind, "{name}: {rejection}");
                assert_eq!(rejection.place, *place, "{name}: {rejection}");
                assert!(rejection.detail.contains(text), "{name}: {rejection}");
                assert_eq!(
                    rejection.to_string(),
                    format!("{place}: {}", rejection.detail)
                );
            }
        }
    }
}

#[test]
fn every_invalid_file_has_an_expectation() {
    let names: Vec<String> = json_files(&invalid_dir())
        .iter()
        .map(|p| file_name(p).trim_end_matches(".json").to_string())
        .collect();
    for name in &names {
        assert!(
            INVALID.iter().any(|(n, _)| n == name),
            "certificates/invalid/{name}.json has no entry in INVALID"
        );
    }
    for (name, _) in INVALID {
        assert!(names.iter().any(|n| n == name), "{name}.json is missing");
    }
    assert!(names.len() >= 14);
}

fn base() -> Certificate {
    load(&root().join("tests/conformance/valid-nonnegative-domain.json"))
}

fn rational(text: &str) -> BigRational {
    parse_rational(text).unwrap()
}

#[test]
fn values_are_compared_as_rationals_not_as_text() {
    let mut c = base();
    let text = c.ticket[0].hidden[0].2.0.clone();
    let value = rational(&text);
    // p/q written unreduced, and as its exact decimal expansion (q = 2^53 divides 10^53).
    let unreduced = format!("{}/{}", value.numer() * 2, value.denom() * 2);
    let scale = BigInt::from(10).pow(53);
    let digits = (value.numer() * &scale / value.denom()).to_string();
    assert_eq!(
        BigRational::new(digits.parse().unwrap(), scale.clone()),
        value
    );
    let decimal = format!("{digits}e-53");
    for form in [unreduced, decimal] {
        c.ticket[0].hidden[0].2 = Rational(form.clone());
        assert!(verify(&c).is_ok(), "{form}");
    }
}

#[test]
fn a_claimed_width_of_2_to_the_60_costs_nothing() {
    let mut c = base();
    c.random_network.hidden_widths[0] = 1 << 60;
    let report = verify(&c).unwrap();
    assert_eq!(report.parameters, (1u128 << 60) * (4 + 3) + 624 * (3 + 2));
    assert_eq!(report.kept_weights, 32);
    c.random_network.hidden_widths = vec![u64::MAX, u64::MAX];
    assert!(verify(&c).is_ok());
}

#[test]
fn weights_past_index_2_to_the_64_are_part_of_g() {
    // U_1[2^63 - 1][3] has index 2^65 - 1 (block counter 2^62 - 1); its value comes from an
    // independent Python implementation of docs/FORMAT.md section 4.
    const VALUE: &str = "8563494754198201/9007199254740992";
    let mut c = base();
    let j = (1u64 << 63) - 1;
    c.random_network.hidden_widths[0] = 1 << 63;
    c.ticket[0].hidden.push((j, 3, Rational(VALUE.to_string())));
    let report = verify(&c).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(report.blocks[0].kept_hidden, 11);
    c.ticket[0].hidden.last_mut().unwrap().2 = Rational("-1/2".to_string());
    assert_eq!(verify(&c).unwrap_err().kind, RejectionKind::ValueMismatch);

    // The invalid file goes past 2^67; without that entry it is a valid certificate.
    let mut c = load(&invalid_dir().join("hidden-index-beyond-keystream.json"));
    assert!(verify(&c).is_err());
    c.ticket[0].hidden.clear();
    assert!(verify(&c).is_ok());
}

/// The claim of `spectral-too-small.json`, which `meta.note` shows is 5e-9 (relatively)
/// below ||W_1||_2.
fn spectral_claim() -> BigRational {
    let c = load(&invalid_dir().join("spectral-too-small.json"));
    rational(&c.bound.blocks[0].lipschitz.0)
}

#[test]
fn spectral_claims_just_above_the_norm_pass_and_respect_the_limit() {
    let mut c = base();
    let above = spectral_claim() * BigRational::new(1_000_001.into(), 1_000_000.into());
    c.bound.blocks[0].lipschitz = Rational(format_rational(&above));
    c.bound.blocks[0].lipschitz_method = Some("spectral".to_string());
    let report = verify(&c).unwrap();
    assert_eq!(report.blocks[0].lipschitz_method, "spectral");
    assert_eq!(report.blocks[0].lipschitz, above);
    // W_1 is 3 x 4, so the elimination side is 3.
    let limit = Limits {
        max_elimination_side: 2,
        ..Limits::default()
    };
    let rejection = verify_with(&c, &limit).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::Limit);
    assert_eq!(rejection.place, "bound.blocks[0].lipschitz");
    assert!(
        rejection.detail.contains("lipschitz_witness"),
        "{rejection}"
    );
    assert!(
        verify_with(
            &c,
            &Limits {
                max_elimination_side: 3,
                ..Limits::default()
            }
        )
        .is_ok()
    );
}

#[test]
fn witnesses_for_either_gram_matrix() {
    // R = 0 and shift 1 with L = 1: D = -G and sum G^2 <= ||W_1||_F^4 < 1 = shift^2.
    let mut c = base();
    assert!(rational("1") > rational(&c.bound.blocks[0].lipschitz.0));
    c.bound.epsilon = Rational("1".to_string());
    c.bound.blocks[0].lipschitz = Rational("1".to_string());
    c.bound.blocks[0].lipschitz_method = Some("spectral".to_string());
    for side in [3usize, 4] {
        let factor = (0..side)
            .map(|a| vec![Rational("0".to_string()); side - a])
            .collect();
        c.bound.blocks[0].lipschitz_witness = Some(certificate::LipschitzWitness {
            shift: Rational("1".to_string()),
            factor,
        });
        let report = verify(&c).unwrap_or_else(|r| panic!("side {side}: {r}"));
        assert_eq!(report.blocks[0].lipschitz_method, "spectral (witness)");
    }
    // Side 5 fits neither W W^T (3) nor W^T W (4).
    c.bound.blocks[0].lipschitz_witness = Some(certificate::LipschitzWitness {
        shift: Rational("1".to_string()),
        factor: (0..5)
            .map(|a| vec![Rational("0".to_string()); 5 - a])
            .collect(),
    });
    let rejection = verify(&c).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::WitnessInvalid);
    assert!(rejection.detail.contains("n_1 = 3"), "{rejection}");
    // Shift 1/2 with L = 1: D = I/2 - G on side 3 has sum D^2 > 1/4 unless G is tiny.
    c.bound.blocks[0].lipschitz_witness = Some(certificate::LipschitzWitness {
        shift: Rational("1/2".to_string()),
        factor: (0..3)
            .map(|a| vec![Rational("0".to_string()); 3 - a])
            .collect(),
    });
    assert_eq!(verify(&c).unwrap_err().kind, RejectionKind::WitnessInvalid);
}

#[test]
fn the_report_states_what_was_proven() {
    let report = verify(&base()).unwrap();
    let text = report.render_text();
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "VALID: for every x with ||x||_2 <= 1 and x >= 0, ||g~(x) - f(x)||_2 <= 28958929/1000000000 (~0.028958929)"
    );
    assert!(
        text.contains("g: widths 4-732-3-624-2, 8244 parameters; g~ keeps 32 weights"),
        "{text}"
    );
    let json = report.to_json();
    assert_eq!(json["verdict"], "valid");
    assert_eq!(json["epsilon"], "28958929/1000000000");
    assert_eq!(json["target_dims"], serde_json::json!([4, 3, 2]));
    assert_eq!(json["parameters"], 8244);
    assert_eq!(json["blocks"][0]["lipschitz_method"], "frobenius");
    assert_eq!(json["blocks"][1]["signed_input"], false);
    // The chain e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1} from a_0 = r = 1, e_0 = 0.
    let b = &report.blocks;
    assert_eq!(b[0].propagated, b[0].error);
    let expected =
        &b[1].error * (&b[0].lipschitz + &b[0].propagated) + &b[1].lipschitz * &b[0].propagated;
    assert_eq!(report.bound_value, expected);
    assert_eq!(b[1].propagated, expected);
    for block in b {
        assert!(&block.max_deviation * &block.max_deviation <= block.error_squared);
        assert!(&block.error * &block.error >= block.error_squared);
    }
}

/// The paths (keys and array positions) of every leaf of a JSON value.
fn leaves(value: &serde_json::Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let mut p = path.clone();
                p.push(k.clone());
                leaves(v, p, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (k, v) in items.iter().enumerate() {
                let mut p = path.clone();
                p.push(k.to_string());
                leaves(v, p, out);
            }
        }
        _ => out.push(path),
    }
}

/// The leaf at `path`.
fn leaf_mut<'a>(value: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    path.iter().fold(value, |v, key| match v {
        serde_json::Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => &mut other[key.as_str()],
    })
}

#[test]
fn single_leaf_mutations_never_panic() {
    use serde_json::json;
    let replacements = [
        json!("0"),
        json!("-1"),
        json!("1/0"),
        json!(""),
        json!("1e1000"),
        json!(0),
        json!(u64::MAX),
        json!(1u64 << 62),
        json!("relu"),
    ];
    for file in [
        "valid-nonnegative-domain.json",
        "valid-spectral-witness.json",
    ] {
        let text = std::fs::read_to_string(root().join("tests/conformance").join(file)).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut paths = Vec::new();
        leaves(&original, Vec::new(), &mut paths);
        let mut outcomes = [0usize; 3];
        for path in &paths {
            for replacement in &replacements {
                let mut mutated = original.clone();
                *leaf_mut(&mut mutated, path) = replacement.clone();
                let outcome = match certificate::parse(&mutated.to_string()) {
                    Err(_) => 0,
                    Ok(c) => match verify(&c) {
                        Err(_) => 1,
                        Ok(report) => {
                            // Accepted: the mutation kept the statement true (a larger claim,
                            // meta, a value rewritten equal, ...); the report must still hold.
                            assert!(report.bound_value <= report.epsilon);
                            2
                        }
                    },
                };
                outcomes[outcome] += 1;
            }
        }
        assert!(outcomes.iter().all(|&n| n > 0), "{file}: {outcomes:?}");
    }
}
