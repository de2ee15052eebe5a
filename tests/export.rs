//! `slth export`: g~ as a dense nn.Sequential in safetensors. Checked through slth's own
//! safetensors reader (the file is read back as a network and evaluated exactly), against
//! g~ evaluated exactly from the certificate, and against f within the certified epsilon,
//! for a plain and a homogenized (biased) certificate; and the binary end to end.

use num_bigint::BigInt;
use num_rational::BigRational;
use slth::certify::{CertifyOptions, Request, certify_with_biases};
use slth::eval::sample_points;
use slth::export::{ExportedNetwork, Precision};
use slth::homogenize::homogenized_input;
use slth::import::{network_from_tensors, parse_safetensors};
use slth::network::{Activation, BiasedNetwork, Network};
use slth::numbers::{parse_rational, rational_to_f64};
use slth::ticket::Ticket;
use slth_checker::certificate::{self, Certificate};
use slth_checker::sampler::Seed;
use std::path::{Path, PathBuf};
use std::process::Command;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// Points of the domain checked per certificate.
const POINTS: usize = 200;

/// A 3-4-3-2 network with biases in every layer and linear logits (as in tests/biases.rs).
const BIASED: &str = r#"{"format": "slth-network", "version": 1, "input_dim": 3, "layers": [
  {"weights": [["1/2", "-1/3", "1/4"], ["-0.6", "0.2", "0.7"], ["0.3", "0.5", "-0.4"], ["0.1", "-0.8", "0.25"]],
   "biases": ["0.3", "-0.2", "0.45", "0.1"], "activation": "relu"},
  {"weights": [["0.6", "-0.5", "0.3", "0.2"], ["-0.4", "0.7", "0.1", "-0.3"], ["0.2", "0.2", "-0.6", "0.5"]],
   "biases": ["-0.15", "0.35", "0.05"], "activation": "relu"},
  {"weights": [["0.9", "-0.7", "0.4"], ["-0.3", "0.8", "0.6"]],
   "biases": ["0.5", "-0.25"], "activation": "linear"}]}"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed(name: &str) -> Certificate {
    let text = std::fs::read_to_string(root().join("certificates").join(name)).unwrap();
    certificate::parse(&text).unwrap()
}

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn to_f64(x: &[BigRational]) -> Vec<f64> {
    x.iter().map(rational_to_f64).collect()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// A homogenized certificate of the biased network, through its text form.
fn biased_certificate(radius: BigRational, nonnegative: bool) -> (BiasedNetwork, Certificate) {
    let f = BiasedNetwork::from_json_text(BIASED).unwrap();
    let mut options = CertifyOptions::new(Request::Epsilon(q(1, 20)), Seed::from_u64(7));
    options.radius = radius;
    options.nonnegative = nonnegative;
    let certified = certify_with_biases(&f, &options).unwrap();
    let text = slth::write::to_json_text(&certified.certificate());
    let read = certificate::parse(&text).unwrap();
    slth_checker::verify::verify(&read).unwrap();
    (f, read)
}

/// Exports `certificate`, reads the file back with slth's importer, and checks at points of
/// the user's ball (radius `radius`, dimension d): the imported network evaluated exactly
/// equals g~ evaluated exactly from the certificate; the exported network evaluated in f64
/// agrees with it to f64 accuracy; and it is within the certified epsilon of `f`.
/// Returns the largest f64 distance to f seen.
fn check_export(certificate: &Certificate, f: &BiasedNetwork, radius: &BigRational) -> f64 {
    let target = Network::from_target_json(&certificate.target).unwrap();
    let ticket = Ticket::from_certificate(certificate, &target).unwrap();
    let homogenized = target.input_dim == f.network.input_dim + 1;
    let epsilon = rational_to_f64(&parse_rational(&certificate.bound.epsilon.0).unwrap());

    let exported = ExportedNetwork::from_certificate(certificate).unwrap();
    assert_eq!(exported.input_dim, f.network.input_dim);
    assert_eq!(exported.layers.len(), 2 * target.layers.len());
    let bytes = exported.to_safetensors(Precision::F64);
    let file = parse_safetensors(&bytes).unwrap();
    let read = network_from_tensors(&file).unwrap();
    assert_eq!(read.network.input_dim, f.network.input_dim);
    let mut expected_activations = Vec::new();
    for layer in &target.layers {
        expected_activations.extend([Activation::Relu, layer.activation]);
    }
    let activations: Vec<Activation> = read.network.layers.iter().map(|l| l.activation).collect();
    assert_eq!(activations, expected_activations);
    assert_eq!(read.has_biases(), homogenized);
    assert_eq!(
        file.metadata["epsilon"], certificate.bound.epsilon.0,
        "provenance"
    );
    assert_eq!(file.metadata["seed"], certificate.random_network.seed);
    assert_eq!(file.metadata["homogenized"], homogenized.to_string());

    let nonnegative = certificate.domain.nonnegative;
    let points = sample_points(&f.network, radius, nonnegative, POINTS, &Seed::from_u64(3));
    let mut largest = 0.0f64;
    for x in &points {
        let z = if homogenized {
            homogenized_input(x)
        } else {
            x.clone()
        };
        let g_exact = ticket.eval_exact(&target, &z);
        assert_eq!(
            read.eval_exact(x),
            g_exact,
            "the file is g~ exactly at {x:?}"
        );
        let g = to_f64(&g_exact);
        let exported_f64 = exported.eval_f64(&to_f64(x));
        let scale = g.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            distance(&exported_f64, &g) <= 1e-12 * scale,
            "f64 evaluation {exported_f64:?} vs exact {g:?}"
        );
        let seen = distance(&exported_f64, &to_f64(&f.eval_exact(x)));
        assert!(
            seen <= epsilon * (1.0 + 1e-12),
            "{seen} > epsilon {epsilon}"
        );
        largest = largest.max(seen);
    }
    largest
}

#[test]
fn a_plain_certificate_exports_g_tilde() {
    for name in ["tiny-3-2-1.json", "random-8-8-8-1-subset-sum.json"] {
        let c = committed(name);
        let target = Network::from_target_json(&c.target).unwrap();
        let radius = parse_rational(&c.domain.radius.0).unwrap();
        let largest = check_export(&c, &BiasedNetwork::unbiased(target), &radius);
        assert!(largest > 0.0, "{name}: g~ equals f at every point");
    }
}

#[test]
fn a_homogenized_certificate_exports_a_network_with_biases_on_the_users_x() {
    for (radius, nonnegative) in [(q(1, 1), false), (q(3, 2), true)] {
        let (f, c) = biased_certificate(radius.clone(), nonnegative);
        let largest = check_export(&c, &f, &radius);
        assert!(largest > 0.0);
        // The constant input went into block 1's biases: some are nonzero.
        let exported = ExportedNetwork::from_certificate(&c).unwrap();
        assert!(exported.layers[0].bias.iter().any(|b| *b != 0));
        assert!(
            exported.layers[1..]
                .iter()
                .all(|l| l.bias.iter().all(|b| *b == 0))
        );
    }
}

#[test]
fn the_committed_digits_certificate_exports_a_64_input_network() {
    let c = committed("digits-64-32-10.json");
    let exported = ExportedNetwork::from_certificate(&c).unwrap();
    assert_eq!(exported.input_dim, 64);
    assert_eq!(exported.activations(), "relu,relu,relu,linear");
    assert_eq!(exported.layers[3].outputs, 10);
    // 32 hidden neurons of f and its carrier.
    assert_eq!(exported.layers[1].outputs, 33);
}

#[test]
fn f32_rounds_each_weight_and_is_read_back() {
    let c = committed("tiny-3-2-1.json");
    let exported = ExportedNetwork::from_certificate(&c).unwrap();
    let bytes = exported.to_safetensors(Precision::F32);
    let crate_view = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(crate_view.len(), 8, "the safetensors crate reads the file");
    let file = parse_safetensors(&bytes).unwrap();
    assert_eq!(file.metadata["dtype"], "F32");
    let weight = file.tensors.iter().find(|t| t.name == "0.weight").unwrap();
    assert_eq!(weight.dtype, slth::import::Dtype::F32);
    let scale = slth_checker::sampler::WEIGHT_SCALE as f64;
    let rounded: Vec<f64> = exported.layers[0]
        .weight
        .iter()
        .map(|&k| f64::from((k as f64 / scale) as f32))
        .collect();
    assert_eq!(weight.values, rounded);
    let exact: Vec<f64> = exported.layers[0]
        .weight
        .iter()
        .map(|&k| k as f64 / scale)
        .collect();
    assert_ne!(weight.values, exact, "f32 rounds 53-bit weights");
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(SLTH)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn temporary(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-export-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_binary_verifies_then_writes_the_file_or_stdout() {
    let dir = temporary("binary");
    let out = dir.join("ticket.safetensors");
    let o = run(&[
        "export",
        "certificates/tiny-3-2-1.json",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("verified: VALID"), "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    let exported = ExportedNetwork::from_certificate(&committed("tiny-3-2-1.json")).unwrap();
    assert_eq!(bytes, exported.to_safetensors(Precision::F64));

    let o = run(&["export", "certificates/tiny-3-2-1.json", "-o", "-"]);
    assert!(o.status.success());
    assert_eq!(o.stdout, bytes, "-o - writes the same bytes to stdout");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_invalid_certificate_is_not_exported() {
    let dir = temporary("invalid");
    let out = dir.join("ticket.safetensors");
    for name in ["value-not-g.json", "epsilon-too-small.json"] {
        let path = Path::new("certificates/invalid").join(name);
        let o = run(&[
            "export",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains("INVALID"), "{name}: {stderr}");
        assert!(!out.exists(), "{name}: a file was written");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
