//! A state_dict does not carry activations: certify and inspect say which were assumed or
//! stated, meta.activations records them, and statements that disagree are refused naming
//! both (issue 10 item 6).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::safetensors::{Entry, f32_entry, safetensors};

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// A safetensors file of a 3-2-1 nn.Sequential(Linear(3, 2), ?, Linear(2, 1)) in float32,
/// with the given `__metadata__`.
fn small_mlp(metadata: Option<serde_json::Value>) -> Vec<u8> {
    let tensors: [(&str, Vec<usize>, Vec<f32>); 4] = [
        (
            "0.weight",
            vec![2, 3],
            vec![0.5, -0.25, 0.75, -0.625, 0.125, 0.375],
        ),
        ("0.bias", vec![2], vec![0.75, -0.5]),
        ("2.weight", vec![1, 2], vec![1.0, -1.0]),
        ("2.bias", vec![1], vec![0.0625]),
    ];
    let entries: Vec<Entry> = tensors
        .iter()
        .map(|(name, shape, values)| f32_entry(name, shape, values))
        .collect();
    safetensors(&entries, metadata)
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn slth(args: &[&str]) -> Out {
    let out = Command::new(SLTH)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-activations-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn certify(model: &Path, certificate: &Path, extra: &[&str]) -> Out {
    let mut args = vec![
        "certify",
        model.to_str().unwrap(),
        "--epsilon",
        "0.05",
        "--seed",
        "3",
        "-o",
        certificate.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    slth(&args)
}

fn meta_activations(certificate: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(certificate).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["meta"]["activations"].clone()
}

#[test]
fn assumed_activations_are_said_recorded_and_inspected() {
    let dir = scratch("assumed");
    let model = dir.join("model.safetensors");
    std::fs::write(&model, small_mlp(None)).unwrap();
    let certificate = dir.join("c.json");
    let run = certify(&model, &certificate, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("certified epsilon "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("activations: relu,linear (assumed: hidden ReLU, last layer linear)")
            && run.stderr.contains("--activations relu,linear"),
        "{}",
        run.stderr
    );
    assert_eq!(
        meta_activations(&certificate),
        serde_json::json!({"layers": "relu,linear", "source": "assumed: hidden ReLU, last layer linear"})
    );
    let inspect = slth(&["inspect", certificate.to_str().unwrap()]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    assert!(
        inspect
            .stdout
            .contains("activations: relu,linear (assumed: hidden ReLU, last layer linear)")
            && inspect.stdout.contains("--activations relu,linear"),
        "{}",
        inspect.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stated_activations_are_recorded_with_their_source() {
    let dir = scratch("stated");
    let model = dir.join("model.safetensors");
    std::fs::write(&model, small_mlp(None)).unwrap();
    let certificate = dir.join("flag.json");
    let run = certify(&model, &certificate, &["--activations", "relu,relu"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        meta_activations(&certificate),
        serde_json::json!({"layers": "relu,relu", "source": "stated by --activations"})
    );
    assert!(!run.stderr.contains("assumed"), "{}", run.stderr);

    let stated = dir.join("stated.safetensors");
    std::fs::write(
        &stated,
        small_mlp(Some(serde_json::json!({"activations": "relu,linear"}))),
    )
    .unwrap();
    let certificate = dir.join("metadata.json");
    let run = certify(&stated, &certificate, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        meta_activations(&certificate)["source"],
        "stated in metadata"
    );
    let inspect = slth(&["inspect", certificate.to_str().unwrap()]);
    assert!(
        inspect
            .stdout
            .contains("activations: relu,linear (stated in metadata)"),
        "{}",
        inspect.stdout
    );
    let run = certify(&stated, &certificate, &["--activations", "relu,linear"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        meta_activations(&certificate)["source"],
        "stated in metadata and by --activations"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn disagreeing_or_unsupported_activations_are_refused_in_one_line() {
    let dir = scratch("refused");
    let stated = dir.join("stated.safetensors");
    std::fs::write(
        &stated,
        small_mlp(Some(serde_json::json!({"activations": "relu,linear"}))),
    )
    .unwrap();
    let certificate = dir.join("c.json");
    let run = certify(&stated, &certificate, &["--activations", "relu,relu"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("__metadata__.activations says relu,linear but --activations says relu,relu")
            && run.stderr.lines().count() == 1,
        "{}",
        run.stderr
    );
    // Linear, Tanh, Linear, Softmax: stating them is refused, not certified as ReLU.
    let plain = dir.join("plain.safetensors");
    std::fs::write(&plain, small_mlp(None)).unwrap();
    let run = certify(&plain, &certificate, &["--activations", "tanh,softmax"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--activations: layer 1: activation \"tanh\" is not supported"),
        "{}",
        run.stderr
    );
    let run = certify(&plain, &certificate, &["--activations", "relu"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--activations: 1 names for 2 layers"),
        "{}",
        run.stderr
    );
    assert!(!certificate.exists());
    // A JSON network file states its activations: --activations must agree.
    let tiny = Path::new("certificates/targets/tiny-3-2-1.json");
    let run = certify(tiny, &certificate, &["--activations", "relu,linear"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "the network file states the activations relu,relu but --activations says relu,linear"
        ),
        "{}",
        run.stderr
    );
    let run = certify(tiny, &certificate, &["--activations", "relu,relu"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        meta_activations(&certificate),
        serde_json::json!({"layers": "relu,relu", "source": "stated in the network file"})
    );
    let _ = std::fs::remove_dir_all(&dir);
}
