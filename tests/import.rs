//! Importing trained networks: safetensors files of PyTorch MLPs (every dtype decoded to its
//! exact value, every unrepresentable thing refused naming the tensor), `.npy` arrays, and
//! the committed digits example read back without Python.

use num_bigint::BigInt;
use num_rational::BigRational;
use slth::import::{
    NpyValues, load_npy, load_safetensors, network_from_tensors, parse_safetensors,
};
use slth::network::{Activation, BiasedNetwork};
use std::path::PathBuf;
use std::process::Command;

mod common;

use common::safetensors::{Entry, f32_entry, f32s, safetensors};

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// The committed example (examples/digits/README.md).
const DIGITS_MODEL: &str = "examples/digits/model.safetensors";
const DIGITS_INPUTS: &str = "examples/digits/test_inputs.npy";
const DIGITS_LABELS: &str = "examples/digits/test_labels.npy";
/// Held-out digits in the example (30% of scikit-learn's 1,797).
const DIGITS_TEST_COUNT: usize = 540;
/// Correct test predictions of the float32 model, as train.py printed when it wrote the files.
const DIGITS_TRAIN_PY_CORRECT: usize = 529;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

fn import(bytes: &[u8]) -> Result<BiasedNetwork, String> {
    parse_safetensors(bytes)
        .and_then(|file| network_from_tensors(&file))
        .map_err(|e| e.to_string())
}

fn import_error(bytes: &[u8]) -> String {
    import(bytes).expect_err("the import should fail")
}

/// A 3-2-1 MLP as nn.Sequential(Linear(3, 2), ReLU(), Linear(2, 1)) names it.
fn small_mlp() -> Vec<Entry<'static>> {
    vec![
        f32_entry(
            "0.weight",
            &[2, 3],
            &[0.5, -0.25, 0.75, -0.625, 0.125, 0.375],
        ),
        f32_entry("0.bias", &[2], &[0.75, -0.5]),
        f32_entry("2.weight", &[1, 2], &[1.0, -1.0]),
        f32_entry("2.bias", &[1], &[0.0625]),
    ]
}

#[test]
fn a_sequential_mlp_is_read_exactly() {
    let f = import(&safetensors(&small_mlp(), None)).unwrap();
    assert_eq!(f.network.dims(), vec![3, 2, 1]);
    assert_eq!(f.network.layers[0].activation, Activation::Relu);
    assert_eq!(f.network.layers[1].activation, Activation::Linear);
    assert_eq!(
        f.network.layers[0].weights,
        vec![
            vec![q(1, 2), q(-1, 4), q(3, 4)],
            vec![q(-5, 8), q(1, 8), q(3, 8)]
        ]
    );
    assert_eq!(f.biases, vec![vec![q(3, 4), q(-1, 2)], vec![q(1, 16)]]);
}

#[test]
fn f32_values_keep_every_bit() {
    let tenth = 0.1f32; // 13421773 / 2^27, not 1/10
    let f = import(&safetensors(
        &[f32_entry("0.weight", &[1, 1], &[tenth])],
        None,
    ))
    .unwrap();
    assert_eq!(f.network.layers[0].weights[0][0], q(13_421_773, 1 << 27));
}

#[test]
fn every_float_dtype_decodes_to_its_exact_value() {
    // 1.0, -2.0, the smallest subnormal and the largest finite value of each 16-bit type.
    let f16: Vec<u8> = [0x3c00u16, 0xc000, 0x0001, 0x7bff]
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .collect();
    let bf16: Vec<u8> = [0x3f80u16, 0xc000, 0x0001, 0x7f7f]
        .iter()
        .flat_map(|b| b.to_le_bytes())
        .collect();
    let f64s: Vec<u8> = [1.0f64, -2.0, 1e-300, 1.0 / 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let pow2 = |k: i32| -> BigRational {
        if k >= 0 {
            BigRational::from_integer(BigInt::from(1) << k as usize)
        } else {
            BigRational::new(BigInt::from(1), BigInt::from(1) << (-k) as usize)
        }
    };
    let cases: [(&str, Vec<u8>, Vec<BigRational>); 3] = [
        ("F16", f16, vec![q(1, 1), q(-2, 1), pow2(-24), q(65504, 1)]),
        (
            "BF16",
            bf16,
            vec![q(1, 1), q(-2, 1), pow2(-133), q(255, 128) * pow2(127)],
        ),
        (
            "F64",
            f64s,
            [1.0f64, -2.0, 1e-300, 1.0 / 3.0]
                .iter()
                .map(|v| BigRational::from_float(*v).unwrap())
                .collect(),
        ),
    ];
    for (dtype, data, expected) in cases {
        let entry = Entry {
            name: "0.weight",
            dtype,
            shape: vec![2, 2],
            data,
        };
        let f = import(&safetensors(&[entry], None)).unwrap();
        let read: Vec<BigRational> = f.network.layers[0].weights.concat();
        assert_eq!(read, expected, "{dtype}");
    }
}

#[test]
fn non_finite_values_are_refused_naming_tensor_and_index() {
    for (value, shown) in [(f32::NAN, "NaN"), (f32::NEG_INFINITY, "-inf")] {
        let mut entries = small_mlp();
        entries[0] = f32_entry(
            "0.weight",
            &[2, 3],
            &[0.5, -0.25, 0.75, -0.625, value, 0.375],
        );
        let error = import_error(&safetensors(&entries, None));
        assert!(
            error.contains("tensor 0.weight: entry [1, 1] is") && error.contains(shown),
            "{error}"
        );
    }
    let half_nan = Entry {
        name: "0.bias",
        dtype: "F16",
        shape: vec![1],
        data: 0x7e00u16.to_le_bytes().to_vec(),
    };
    let entries = vec![f32_entry("0.weight", &[1, 1], &[1.0]), half_nan];
    let error = import_error(&safetensors(&entries, None));
    assert!(error.contains("tensor 0.bias: entry [0] is NaN"), "{error}");
}

#[test]
fn what_cannot_be_represented_is_refused_naming_the_tensor() {
    let with = |k: usize, entry: Entry<'static>| {
        let mut entries = small_mlp();
        entries[k] = entry;
        safetensors(&entries, None)
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            with(0, f32_entry("0.weight", &[2, 3, 1, 1], &[0.0; 6])),
            "tensor 0.weight: shape [2, 3, 1, 1] is 4-D, a convolution's weight",
        ),
        (
            with(2, f32_entry("2.weight", &[1, 3], &[1.0, 1.0, 1.0])),
            "tensor 2.weight: W_2 has shape 1x3 but layer 1 (0.weight) has 2 outputs",
        ),
        (
            with(1, f32_entry("0.bias", &[3], &[0.0; 3])),
            "tensor 0.bias: shape [3], but 0.weight has 2 outputs",
        ),
        (
            with(2, f32_entry("2.running_mean", &[1], &[0.0])),
            "tensor 2.running_mean: a BatchNorm buffer (running_mean), not the weight or bias of an nn.Linear",
        ),
        (
            safetensors(
                &[
                    f32_entry("0.weight", &[2, 3], &[0.5; 6]),
                    f32_entry("1.weight", &[1, 2], &[1.0, 1.0]),
                ],
                None,
            ),
            "tensor 1.weight: module 1 directly follows module 0",
        ),
        (
            with(
                0,
                Entry {
                    name: "0.weight",
                    dtype: "I64",
                    shape: vec![2, 3],
                    data: vec![0; 48],
                },
            ),
            "tensor 0.weight: dtype I64 is not supported",
        ),
        (
            with(0, f32_entry("0.weight", &[6], &[0.0; 6])),
            "tensor 0.weight: shape [6] is 1-D",
        ),
    ];
    for (bytes, expected) in cases {
        let error = import_error(&bytes);
        assert!(
            error.contains(expected),
            "expected {expected:?}, got {error:?}"
        );
    }
    // A bias whose weight is missing.
    let entries: Vec<Entry> = small_mlp()
        .into_iter()
        .filter(|e| e.name != "2.weight")
        .collect();
    let error = import_error(&safetensors(&entries, None));
    assert!(
        error.contains("tensor 2.bias: there is no 2.weight for this bias"),
        "{error}"
    );
}

#[test]
fn damaged_files_are_refused() {
    let good = safetensors(&small_mlp(), None);
    let truncated = &good[..good.len() - 3];
    let error = import_error(truncated);
    assert!(
        error.contains("tensor 2.bias: its data ends at byte") && error.contains("truncated"),
        "{error}"
    );
    let mut beyond = good.clone();
    beyond[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
    let error = import_error(&beyond);
    assert!(
        error.contains("header length") && error.contains("goes beyond the file"),
        "{error}"
    );
    assert!(import_error(&good[..5]).contains("truncated"));
    let mut wrong_size = small_mlp();
    wrong_size[3].data.pop();
    let error = import_error(&safetensors(&wrong_size, None));
    assert!(error.contains("tensor 2.bias: data_offsets"), "{error}");
    let mut not_json = good.clone();
    not_json[8] = b'x';
    let error = import_error(&not_json);
    assert!(
        error.contains("header (bytes 8..") && error.contains("not valid JSON"),
        "{error}"
    );
}

#[test]
fn layer_order_comes_from_sequential_indices_names_or_shapes() {
    // Sequential indices sort numerically (10 after 2), under a common prefix.
    let entries = vec![
        f32_entry("net.10.weight", &[1, 2], &[1.0, 1.0]),
        f32_entry("net.2.weight", &[2, 4], &[0.5; 8]),
        f32_entry("net.0.weight", &[4, 3], &[0.25; 12]),
    ];
    let f = import(&safetensors(&entries, None)).unwrap();
    assert_eq!(f.network.dims(), vec![3, 4, 2, 1]);
    assert!(
        !f.has_biases(),
        "Linear(bias=False) layers have zero biases"
    );
    // fc1, fc2, ... by their numbers.
    let entries = vec![
        f32_entry("fc2.weight", &[1, 2], &[1.0, 1.0]),
        f32_entry("fc1.weight", &[2, 2], &[0.5; 4]),
        f32_entry("fc1.bias", &[2], &[0.5; 2]),
    ];
    let f = import(&safetensors(&entries, None)).unwrap();
    assert_eq!(f.network.dims(), vec![2, 2, 1]);
    assert_eq!(f.biases[0], vec![q(1, 2), q(1, 2)]);
    // Other names: the unique chain of shapes.
    let entries = vec![
        f32_entry("out.weight", &[1, 5], &[1.0; 5]),
        f32_entry("hidden.weight", &[5, 3], &[0.5; 15]),
    ];
    let f = import(&safetensors(&entries, None)).unwrap();
    assert_eq!(f.network.dims(), vec![3, 5, 1]);
    // Square layers with uninformative names cannot be ordered.
    let entries = vec![
        f32_entry("a.weight", &[2, 2], &[1.0; 4]),
        f32_entry("b.weight", &[2, 2], &[1.0; 4]),
    ];
    assert!(import_error(&safetensors(&entries, None)).contains("cannot tell the order"));
}

#[test]
fn metadata_may_state_the_activations() {
    let relu_out = serde_json::json!({"activations": "relu, relu"});
    let f = import(&safetensors(&small_mlp(), Some(relu_out))).unwrap();
    assert_eq!(f.network.layers[1].activation, Activation::Relu);
    let tanh = serde_json::json!({"activations": "tanh,linear"});
    let error = import_error(&safetensors(&small_mlp(), Some(tanh)));
    assert!(
        error.contains("__metadata__.activations: layer 1: activation \"tanh\" is not supported"),
        "{error}"
    );
    let short = serde_json::json!({"activations": "relu"});
    assert!(import_error(&safetensors(&small_mlp(), Some(short))).contains("1 names for 2 layers"));
}

#[test]
fn the_committed_digits_model_and_test_set_are_read() {
    let f = load_safetensors(&root().join(DIGITS_MODEL)).unwrap();
    assert_eq!(f.network.dims(), vec![64, 32, 10]);
    assert!(f.has_biases());
    assert_eq!(f.network.layers[1].activation, Activation::Linear);
    // f32 values: every weight is a dyadic rational with at most 24 significant bits.
    for w in f
        .network
        .layers
        .iter()
        .flat_map(|l| l.weights.iter().flatten())
    {
        assert!(
            w.denom().magnitude().count_ones() == 1 && w.numer().bits() <= 24,
            "{w}"
        );
    }
    let inputs = load_npy(&root().join(DIGITS_INPUTS)).unwrap();
    assert_eq!(inputs.shape, vec![DIGITS_TEST_COUNT, 64]);
    let NpyValues::Float(x) = inputs.values else {
        panic!("inputs are floats")
    };
    let labels = load_npy(&root().join(DIGITS_LABELS)).unwrap();
    assert_eq!(labels.shape, vec![DIGITS_TEST_COUNT]);
    let NpyValues::Int(y) = labels.values else {
        panic!("labels are integers")
    };
    assert!(y.iter().all(|c| (0..10).contains(c)));
    let mut correct = 0;
    for (row, &label) in x.chunks(64).zip(&y) {
        let norm2: f64 = row.iter().map(|v| v * v).sum();
        assert!((norm2 - 1.0).abs() < 1e-5 && row.iter().all(|v| *v >= 0.0));
        let logits = f.eval_f64(row);
        let class = (0..10)
            .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
            .unwrap();
        correct += usize::from(class as i64 == label);
    }
    assert_eq!(correct, DIGITS_TRAIN_PY_CORRECT);
}

#[test]
fn npy_errors_are_clear() {
    let dir = std::env::temp_dir().join(format!("slth-import-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, header: &str, data: &[u8]| {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<118}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(data);
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let big = write(
        "big.npy",
        "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
        &[0; 8],
    );
    assert!(
        load_npy(&big)
            .unwrap_err()
            .to_string()
            .contains("dtype >f8 is not supported")
    );
    let fortran = write(
        "fortran.npy",
        "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }",
        &[0; 8],
    );
    assert!(
        load_npy(&fortran)
            .unwrap_err()
            .to_string()
            .contains("fortran_order")
    );
    let ok = write(
        "ok.npy",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }",
        &f32s(&[0.5, -1.0]),
    );
    let array = load_npy(&ok).unwrap();
    assert_eq!(array.shape, vec![2, 1]);
    assert_eq!(array.values, NpyValues::Float(vec![0.5, -1.0]));
    let text = dir.join("text.npy");
    std::fs::write(&text, "hello").unwrap();
    assert!(
        load_npy(&text)
            .unwrap_err()
            .to_string()
            .contains("not a .npy file")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cli_certifies_a_safetensors_file_and_names_bad_tensors() {
    let dir = std::env::temp_dir().join(format!("slth-import-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.safetensors");
    std::fs::write(&model, safetensors(&small_mlp(), None)).unwrap();
    let certificate = dir.join("cert.json");
    let run = |args: &[&str]| {
        Command::new(SLTH)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{SLTH}: {e}"))
    };
    let certify = run(&[
        "certify",
        model.to_str().unwrap(),
        "--epsilon",
        "0.05",
        "--seed",
        "3",
        "-o",
        certificate.to_str().unwrap(),
    ]);
    assert!(
        certify.status.success(),
        "{}",
        String::from_utf8_lossy(&certify.stderr)
    );
    let verify = run(&["verify", certificate.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let conv = dir.join("conv.safetensors");
    let entries = vec![f32_entry("features.0.weight", &[1, 1, 1, 1], &[1.0])];
    std::fs::write(&conv, safetensors(&entries, None)).unwrap();
    let refused = run(&[
        "certify",
        conv.to_str().unwrap(),
        "--epsilon",
        "0.05",
        "--seed",
        "3",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("conv.safetensors: tensor features.0.weight: shape [1, 1, 1, 1] is 4-D")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 4-3-2 MLP without biases whose weights are named `prefix.0`, `prefix.1` (an
/// nn.ModuleList) or `0`, `2` (an nn.Sequential).
fn two_layers(first: &'static str, second: &'static str) -> Vec<Entry<'static>> {
    vec![
        f32_entry(first, &[3, 4], &[0.5; 12]),
        f32_entry(second, &[2, 3], &[0.25; 6]),
    ]
}

#[test]
fn a_module_list_is_read_when_its_activations_are_stated() {
    let entries = two_layers("layers.0.weight", "layers.1.weight");
    let error = import_error(&safetensors(&entries, None));
    assert!(
        error.contains("directly follows module 0") && error.contains("nn.ModuleList"),
        "{error}"
    );
    let stated = serde_json::json!({"activations": "relu,linear"});
    let network = import(&safetensors(&entries, Some(stated))).unwrap();
    assert_eq!(network.network.dims(), vec![4, 3, 2]);
    assert_eq!(network.network.layers[0].activation, Activation::Relu);
    // Stated on the command line instead of in the metadata.
    let file = parse_safetensors(&safetensors(&entries, None)).unwrap();
    let names = ["relu".to_string(), "linear".to_string()];
    let (network, _) = slth::import::network_from_tensors_stated(&file, Some(&names)).unwrap();
    assert_eq!(network.network.dims(), vec![4, 3, 2]);
}

#[test]
fn a_transposed_weight_is_explained() {
    // nn.Sequential(Linear(4, 3), ReLU(), Linear(3, 2)) with 2.weight stored [in, out].
    let mut entries = two_layers("0.weight", "2.weight");
    entries[1] = f32_entry("2.weight", &[3, 2], &[0.25; 6]);
    let error = import_error(&safetensors(&entries, None));
    assert!(
        error.contains("tensor 2.weight: W_2 has shape 3x2 but layer 1 (0.weight) has 3 outputs; is it transposed?"),
        "{error}"
    );
    // With its bias, the bias's length gives it away first.
    entries.push(f32_entry("2.bias", &[2], &[0.0; 2]));
    let error = import_error(&safetensors(&entries, None));
    assert!(error.contains("is 2.weight transposed?"), "{error}");
    // A shape that is wrong but not a transpose is not called one.
    entries[1] = f32_entry("2.weight", &[2, 5], &[0.25; 10]);
    entries.pop();
    let error = import_error(&safetensors(&entries, None));
    assert!(!error.contains("transposed"), "{error}");
}

#[test]
fn batchnorm_buffers_are_named_as_such() {
    let mut entries = two_layers("0.weight", "3.weight");
    entries.push(Entry {
        name: "1.num_batches_tracked",
        dtype: "I64",
        shape: vec![],
        data: vec![0; 8],
    });
    let error = import_error(&safetensors(&entries, None));
    assert!(
        error.contains(
            "tensor 1.num_batches_tracked: dtype I64: a BatchNorm buffer (num_batches_tracked)"
        ),
        "{error}"
    );
    assert!(!error.contains("is not supported"), "{error}");
    entries.pop();
    entries.push(f32_entry("1.running_var", &[3], &[1.0; 3]));
    let error = import_error(&safetensors(&entries, None));
    assert!(
        error.contains("tensor 1.running_var: a BatchNorm buffer"),
        "{error}"
    );
}

/// Runs `slth certify FILE` on `bytes` written as `name`; its exit code and stderr.
fn certify_bytes(name: &str, bytes: &[u8]) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("slth-import-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new(SLTH)
        .args([
            "certify",
            path.to_str().unwrap(),
            "--epsilon",
            "0.2",
            "--seed",
            "1",
        ])
        .args(["-o", dir.join("cert.json").to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn files_are_recognised_by_content_not_name() {
    let model = std::fs::read(root().join(DIGITS_MODEL)).unwrap();
    let (code, stderr) = certify_bytes("model.bin", &model);
    assert_eq!(
        code,
        Some(0),
        "a safetensors file named model.bin: {stderr}"
    );

    let convert = "save_file(model.state_dict(), \"model.safetensors\")";
    let npy = std::fs::read(root().join(DIGITS_LABELS)).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "model.pt",
            b"PK\x03\x04\x14\x00archive".to_vec(),
            "a zip archive",
        ),
        (
            "weights.npz",
            b"PK\x03\x04\x14\x00archive".to_vec(),
            "numpy.savez (.npz)",
        ),
        ("legacy.pt", b"\x80\x02}q\x00(X".to_vec(), "a pickle"),
        ("weights.npy", npy, "a .npy array, not a network"),
    ];
    for (name, bytes, kind) in cases {
        let (code, stderr) = certify_bytes(name, &bytes);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(kind), "{name}: {stderr}");
        assert!(stderr.contains(convert), "{name}: {stderr}");
        assert!(!stderr.contains("UTF-8"), "{name}: {stderr}");
    }
    // A JSON network file needs no particular name either.
    let json = std::fs::read(root().join("certificates/targets/tiny-3-2-1.json")).unwrap();
    let (code, stderr) = certify_bytes("net.txt", &json);
    assert_eq!(code, Some(0), "{stderr}");
}
