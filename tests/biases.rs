//! Networks with biases, certified through their homogenized form: checked end to end by
//! exact evaluation of the user's f (biases included) against g~(x, 1) at rational points of
//! the user's ball, through the certificate file as a user would read it.

use num_bigint::BigInt;
use num_rational::BigRational;
use slth::certify::certify_with_biases;
use slth::certify::{CertifyOptions, Request, certify};
use slth::eval::sample_points;
use slth::homogenize::homogenized_input;
use slth::network::{BiasedNetwork, Network};
use slth::numbers::{parse_rational, sum_of_squares};
use slth::ticket::Ticket;
use slth_checker::certificate::{self, Certificate};
use slth_checker::sampler::Seed;
use slth_checker::statement::statement_for_user;
use std::path::{Path, PathBuf};
use std::process::Command;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// A 3-4-3-2 network with biases in every layer and linear logits.
const BIASED: &str = r#"{"format": "slth-network", "version": 1, "input_dim": 3, "layers": [
  {"weights": [["1/2", "-1/3", "1/4"], ["-0.6", "0.2", "0.7"], ["0.3", "0.5", "-0.4"], ["0.1", "-0.8", "0.25"]],
   "biases": ["0.3", "-0.2", "0.45", "0.1"], "activation": "relu"},
  {"weights": [["0.6", "-0.5", "0.3", "0.2"], ["-0.4", "0.7", "0.1", "-0.3"], ["0.2", "0.2", "-0.6", "0.5"]],
   "biases": ["-0.15", "0.35", "0.05"], "activation": "relu"},
  {"weights": [["0.9", "-0.7", "0.4"], ["-0.3", "0.8", "0.6"]],
   "biases": ["0.5", "-0.25"], "activation": "linear"}]}"#;

/// The committed digits example and its certificate (certificates/README.md).
const DIGITS_CERTIFICATE: &str = "certificates/digits-64-32-10.json";
const DIGITS_INPUTS: &str = "examples/digits/test_inputs.npy";
const DIGITS_LABELS: &str = "examples/digits/test_labels.npy";
/// The issue's goal: g~ provably agrees with f on at least 95% of the held-out digits.
const GUARANTEED_SHARE_GOAL: f64 = 0.95;

/// Points of the user's ball checked per certificate.
const POINTS: usize = 300;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn biased() -> BiasedNetwork {
    BiasedNetwork::from_json_text(BIASED).unwrap()
}

/// Certifies f, writes and re-reads the certificate, verifies it, and checks
/// ||g~(x, 1) - f(x)||_2 <= epsilon exactly at rational points of ||x|| <= r.
fn certify_and_check(f: &BiasedNetwork, radius: BigRational, nonnegative: bool, seed: u64) {
    let mut options = CertifyOptions::new(Request::Epsilon(q(1, 20)), Seed::from_u64(seed));
    options.radius = radius.clone();
    options.nonnegative = nonnegative;
    let certified = certify_with_biases(f, &options).unwrap();
    let text = slth::write::to_json_text(&certified.certificate());
    let read: Certificate = certificate::parse(&text).unwrap();
    slth_checker::verify::verify(&read).unwrap_or_else(|r| panic!("rejected: {r}"));

    let target = Network::from_target_json(&read.target).unwrap();
    assert_eq!(target.input_dim, f.network.input_dim + 1);
    let ticket = Ticket::from_certificate(&read, &target).unwrap();
    let epsilon = parse_rational(&read.bound.epsilon.0).unwrap();
    let big_r = parse_rational(&read.domain.radius.0).unwrap();
    assert!(&big_r * &big_r >= &radius * &radius + q(1, 1));
    assert_eq!(read.domain.nonnegative, nonnegative);

    let derivation = &read.meta.as_ref().unwrap()["derived_from"];
    assert_eq!(derivation["kind"], "homogenized-biases");
    assert_eq!(derivation["input_dim"], 3);
    assert_eq!(
        parse_rational(derivation["radius"].as_str().unwrap()).unwrap(),
        radius
    );

    let points = sample_points(&f.network, &radius, nonnegative, POINTS, &Seed::from_u64(9));
    let r2 = &radius * &radius;
    let mut largest = BigRational::default();
    for x in &points {
        assert!(sum_of_squares(x.iter()) <= r2);
        let expected = f.eval_exact(x);
        let z = homogenized_input(x);
        assert_eq!(target.eval_exact(&z), expected, "f'(x, 1) = f(x)");
        let g = ticket.eval_exact(&target, &z);
        let differences: Vec<BigRational> = g.iter().zip(&expected).map(|(a, b)| a - b).collect();
        let squared = sum_of_squares(differences.iter());
        assert!(
            squared <= &epsilon * &epsilon,
            "||g~(x, 1) - f(x)||^2 = {squared} > epsilon^2 at x = {x:?}"
        );
        largest = largest.max(squared);
    }
    assert!(
        largest > BigRational::default(),
        "g~ equals f everywhere: the check would see nothing"
    );
}

#[test]
fn biased_networks_are_certified_on_the_users_ball() {
    certify_and_check(&biased(), q(1, 1), false, 1);
    certify_and_check(&biased(), q(3, 2), true, 2);
}

#[test]
fn a_bias_only_in_the_first_layer_needs_no_carrier() {
    let mut f = biased();
    for biases in &mut f.biases[1..] {
        biases.iter_mut().for_each(|b| *b = q(0, 1));
    }
    let h = slth::homogenize::homogenize(&f);
    assert_eq!(h.dims(), vec![4, 4, 3, 2]);
    certify_and_check(&f, q(1, 2), false, 3);
}

#[test]
fn the_pairs_construction_is_refused_where_a_carrier_is_needed() {
    let mut options = CertifyOptions::new(Request::Epsilon(q(1, 20)), Seed::from_u64(1));
    options.construction = slth::certify::Construction::Pairs;
    let error = certify_with_biases(&biased(), &options)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("carrier weight of 1, which the pairs construction cannot reach"),
        "{error}"
    );
    // With biases only in the first layer no carrier is needed, and pairs works.
    let mut first_only = biased();
    for biases in &mut first_only.biases[1..] {
        biases.iter_mut().for_each(|b| *b = q(0, 1));
    }
    let certified = certify_with_biases(&first_only, &options).unwrap();
    slth_checker::verify::verify(&certified.certificate()).unwrap();
}

#[test]
fn a_network_without_biases_is_certified_as_before() {
    let text = BIASED
        .lines()
        .map(|l| {
            if let Some(at) = l.find("\"biases\"") {
                let end = l[at..].find(']').unwrap() + at + 2;
                format!("{}{}", &l[..at], l[end..].trim_start())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let f = BiasedNetwork::from_json_text(&text).unwrap();
    assert!(!f.has_biases());
    let options = CertifyOptions::new(Request::Epsilon(q(1, 20)), Seed::from_u64(4));
    let plain = certify(&f.network, &options).unwrap().certificate();
    let through = certify_with_biases(&f, &options).unwrap().certificate();
    assert_eq!(plain, through);
    assert!(statement_for_user(&through).is_none());
}

#[test]
fn the_statement_for_the_user_is_checked_against_the_certificate() {
    let mut options = CertifyOptions::new(Request::Epsilon(q(1, 10)), Seed::from_u64(5));
    options.radius = q(2, 1);
    options.nonnegative = true;
    let mut c = certify_with_biases(&biased(), &options)
        .unwrap()
        .certificate();
    let line = statement_for_user(&c).unwrap();
    assert_eq!(
        line,
        format!(
            "according to meta, the target is the homogenized form of a network f with biases; for f: for every x in R^3 with ||x||_2 <= 2 and x >= 0: ||g~(x, 1) - f(x)||_2 <= {}, where g~ receives the constant 1 as its last input",
            c.bound.epsilon.0
        )
    );
    let meta = c.meta.as_mut().unwrap();
    meta["derived_from"]["radius"] = serde_json::json!("3");
    let line = statement_for_user(&c).unwrap();
    assert!(
        line.contains("meta.derived_from.radius 3 does not satisfy r^2 + 1 <= R^2"),
        "{line}"
    );
    let meta = c.meta.as_mut().unwrap();
    meta["derived_from"]["radius"] = serde_json::json!("2");
    meta["derived_from"]["input_dim"] = serde_json::json!(5);
    assert!(
        statement_for_user(&c)
            .unwrap()
            .contains("is not the target's input dimension")
    );
    c.meta.as_mut().unwrap()["derived_from"]["kind"] = serde_json::json!("something-else");
    assert!(statement_for_user(&c).is_none());
    c.meta = None;
    assert!(statement_for_user(&c).is_none());
}

/// A little-endian `.npy` file of f8 values or i8 integers.
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let padded = format!("{header:<118}\n");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(SLTH)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{SLTH}: {e}"));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The count in a line `label: P% (k/N)...`.
fn count_after(stdout: &str, label: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no line {label:?} in\n{stdout}"));
    let inside = line.split('(').nth(1).unwrap_or("");
    inside
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

#[test]
fn the_cli_certifies_a_biased_json_network_and_evaluates_inputs() {
    let dir = std::env::temp_dir().join(format!("slth-biases-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let network = dir.join("biased.json");
    std::fs::write(&network, BIASED).unwrap();
    let cert = dir.join("cert.json");
    let cert_arg = cert.to_str().unwrap();
    let (code, _, stderr) = run(&[
        "certify",
        network.to_str().unwrap(),
        "--epsilon",
        "0.05",
        "--seed",
        "6",
        "-o",
        cert_arg,
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = run(&["verify", cert_arg]);
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = run(&["inspect", cert_arg]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("for f: for every x in R^3 with ||x||_2 <= 1: ||g~(x, 1) - f(x)||_2 <="),
        "{stdout}"
    );

    // Five inputs in the unit ball, one outside it; labels 0 and 1.
    let rows: [[f64; 3]; 6] = [
        [0.5, 0.25, -0.5],
        [-0.75, 0.5, 0.125],
        [0.0, 0.0, 0.0],
        [0.25, -0.875, 0.25],
        [0.6, 0.0, 0.8],
        [2.0, 0.0, 0.0],
    ];
    let f = biased();
    let labels: Vec<i64> = rows
        .iter()
        .map(|x| {
            let logits = f.eval_f64(x);
            i64::from(logits[1] > logits[0])
        })
        .collect();
    let inputs = dir.join("x.npy");
    let data: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write_npy(&inputs, "<f8", &[6, 3], &data);
    let label_file = dir.join("y.npy");
    let label_data: Vec<u8> = labels.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&label_file, "<i8", &[6], &label_data);
    let (code, stdout, stderr) = run(&[
        "eval",
        cert_arg,
        "--inputs",
        inputs.to_str().unwrap(),
        "--labels",
        label_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(count_after(&stdout, "accuracy of f:"), 6, "{stdout}");
    assert_eq!(
        count_after(&stdout, "f and g~ predict the same class:"),
        6,
        "{stdout}"
    );
    let outside = stdout
        .lines()
        .find(|l| l.starts_with("outside the certified domain"))
        .unwrap();
    assert!(outside.ends_with(": 1"), "{stdout}");
    assert!(count_after(&stdout, "guaranteed by the certificate:") <= 5);

    let wrong = dir.join("wide.npy");
    write_npy(&wrong, "<f8", &[1, 4], &[0; 32]);
    let (code, _, stderr) = run(&["eval", cert_arg, "--inputs", wrong.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("rows have 4 entries, the network takes 3 inputs"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_committed_digits_certificate_guarantees_the_held_out_predictions() {
    let (code, stdout, stderr) = run(&[
        "eval",
        DIGITS_CERTIFICATE,
        "--inputs",
        DIGITS_INPUTS,
        "--labels",
        DIGITS_LABELS,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let total = 540;
    assert!(stdout.starts_with(&format!("inputs: {total} ")), "{stdout}");
    assert_eq!(
        count_after(&stdout, "f and g~ predict the same class:"),
        total,
        "{stdout}"
    );
    let guaranteed = count_after(&stdout, "guaranteed by the certificate:");
    assert!(
        guaranteed as f64 >= GUARANTEED_SHARE_GOAL * total as f64,
        "{stdout}"
    );
    let c = certificate::load(
        &root().join(DIGITS_CERTIFICATE),
        &certificate::Limits::default(),
    )
    .unwrap();
    let line = statement_for_user(&c).unwrap();
    assert!(
        line.contains("for every x in R^64 with ||x||_2 <= 1 and x >= 0"),
        "{line}"
    );
}
