//! Neuron-subnetwork certificates (docs/FORMAT.md section 13) and `slth neurons`: the
//! committed example is valid and written back by slth byte for byte, every invalid example
//! is rejected with its kind and place, mutations of every field never give a false VALID
//! (checked against an evaluation written here from the format's definition), and the
//! resource limits refuse.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use slth_checker::certificate::{Limits, Rational};
use slth_checker::neurons::{
    NeuronCertificate, NeuronRejectionKind as Kind, judge_file, parse_neuron, verify_neuron,
    verify_neuron_in, verify_neuron_with,
};
use slth_checker::sampler::{Seed, sample_numerator};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/neurons")
}

fn valid() -> NeuronCertificate {
    let text = std::fs::read_to_string(dir().join("relu-4-stepwise.json")).unwrap();
    parse_neuron(&text, &Limits::default()).unwrap()
}

/// The rows of an inline sample.
fn inputs(c: &NeuronCertificate) -> &Vec<Vec<Rational>> {
    c.sample.inputs.as_ref().expect("an inline sample")
}

fn q(text: &str) -> BigRational {
    slth_checker::numbers::parse_rational(text).unwrap()
}

/// The claim of a certificate decided from the definition, independently of the checker's
/// integer evaluation: every kept weight read from the sampler at its documented address,
/// and the loss summed in plain rationals. True when the certificate's statement holds.
fn claim_holds(c: &NeuronCertificate) -> bool {
    let net = &c.random_network;
    // The statement is defined for this format and these distributions only.
    let uniform = "uniform-dyadic-53";
    if (c.format.as_str(), c.version, net.rng.as_str())
        != ("slth-neuron-certificate", 1, "chacha20")
        || net.first_layer != uniform
        || net.second_layer != uniform
    {
        return false;
    }
    let Ok(seed) = Seed::from_hex(&net.seed) else {
        return false;
    };
    let d = net.input_dim as usize;
    let parse = |r: &Rational| slth_checker::numbers::parse_rational(&r.0).ok();
    let weight = |n: i64| BigRational::new(n.into(), BigInt::from(1i64 << 53));
    let mut neurons = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (j, w, a) in &c.kept {
        if *j >= net.width || !seen.insert(*j) || w.len() != d {
            return false;
        }
        let true_w: Vec<BigRational> = (0..d as u64)
            .map(|t| weight(sample_numerator(&seed, 0, j * d as u64 + t)))
            .collect();
        let true_a = weight(sample_numerator(&seed, 1, *j));
        for (given, truth) in w.iter().zip(&true_w) {
            if parse(given).as_ref() != Some(truth) {
                return false;
            }
        }
        if parse(a).as_ref() != Some(&true_a) {
            return false;
        }
        neurons.push((true_w, true_a));
    }
    let (Some(scale), Some(loss)) = (parse(&c.scale), parse(&c.loss)) else {
        return false;
    };
    let (Some(inputs), Some(targets)) = (&c.sample.inputs, &c.sample.targets) else {
        // A sample file: [`claim_holds_in`] reads it.
        return false;
    };
    if c.sample.file.is_some() || c.sample.sha256.is_some() {
        return false;
    }
    let n = inputs.len();
    if !scale.is_positive() || n == 0 || targets.len() != n {
        return false;
    }
    let mut total = BigRational::zero();
    for (row, y) in inputs.iter().zip(targets) {
        let (Some(x), Some(y)) = (row.iter().map(parse).collect::<Option<Vec<_>>>(), parse(y))
        else {
            return false;
        };
        if x.len() != d {
            return false;
        }
        let mut g = BigRational::zero();
        for (w, a) in &neurons {
            let z: BigRational = w.iter().zip(&x).map(|(w, x)| w * x).sum();
            if z.is_positive() {
                g += a * z;
            }
        }
        let r = &scale * g - y;
        total += &r * &r;
    }
    total / BigRational::from_integer(BigInt::from(n)) <= loss
}

#[test]
fn the_example_is_valid_and_its_claim_holds() {
    let c = valid();
    let report = verify_neuron(&c).unwrap();
    assert!(claim_holds(&c));
    assert_eq!(report.input_dim, 4);
    assert_eq!(report.width, 64);
    assert_eq!(report.samples, 64);
    assert_eq!(report.kept.len(), c.kept.len());
    assert!(report.exact_loss <= report.claimed_loss);
    // The claim is the exact loss rounded up to 8 significant digits: tight.
    assert!(report.claimed_loss.clone() - report.exact_loss.clone() < q("1e-9"));
}

/// The committed example is what `slth neurons` writes today, byte for byte (regenerate it
/// with the command in docs/FORMAT.md section 13.6 when the selection changes).
#[test]
fn slth_neurons_writes_the_example_back() {
    let out = std::env::temp_dir().join(format!("slth-neurons-{}.json", std::process::id()));
    let status = Command::new(env!("CARGO_BIN_EXE_slth"))
        .args(["neurons", "--target"])
        .arg(dir().join("target-relu-4.json"))
        .args([
            "--points",
            "64",
            "--test-points",
            "500",
            "--points-seed",
            "3",
        ])
        .args(["--seed", "42", "--width", "64", "--certificate"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let written = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let committed = std::fs::read_to_string(dir().join("relu-4-stepwise.json")).unwrap();
    assert_eq!(written, committed);
    let text = String::from_utf8_lossy(&status.stdout);
    for line in [
        "nothing kept",
        "random features",
        "paper's reduction",
        "stepwise selection",
    ] {
        assert!(text.contains(line), "{text}");
    }
}

#[test]
fn every_invalid_example_is_rejected_with_its_reason() {
    let cases: [(&str, Kind, &str); 18] = [
        ("wrong-format-version", Kind::Header, "version"),
        (
            "sphere-first-layer",
            Kind::NotRecomputable,
            "random_network.first_layer",
        ),
        ("row-too-short", Kind::Dimension, "sample.inputs[0]"),
        ("targets-count", Kind::Dimension, "sample.targets"),
        ("neuron-beyond-width", Kind::IndexOutOfRange, "kept[9]"),
        ("neuron-twice", Kind::DuplicateNeuron, "kept[1]"),
        ("weight-not-g", Kind::ValueMismatch, "kept[0][1][0]"),
        ("output-weight-not-g", Kind::ValueMismatch, "kept[0][2]"),
        ("zero-scale", Kind::ScaleNotPositive, "scale"),
        ("loss-too-small", Kind::LossTooSmall, "loss"),
        ("target-changed", Kind::LossTooSmall, "loss"),
        ("malformed-number", Kind::Number, "sample.inputs[0][0]"),
        ("unknown-field", Kind::Shape, "line 96 column 9"),
        ("sample-hash-mismatch", Kind::SampleHash, "sample.sha256"),
        ("sample-file-missing", Kind::SampleFile, "sample.file"),
        ("sample-path-escapes", Kind::SamplePath, "sample.file"),
        ("sample-path-absolute", Kind::SamplePath, "sample.file"),
        ("sample-inline-and-file", Kind::Shape, "sample"),
    ];
    // The certificates; invalid/samples/ holds the sample file some of them name.
    let listed = std::fs::read_dir(dir().join("invalid"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert_eq!(
        listed,
        cases.len(),
        "an invalid example without a case here"
    );
    for (name, kind, place) in cases {
        let text = std::fs::read_to_string(dir().join(format!("invalid/{name}.json"))).unwrap();
        let rejection = parse_neuron(&text, &Limits::default())
            .and_then(|c| {
                assert!(!claim_holds(&c), "{name} states something true");
                verify_neuron_in(&c, Some(&dir().join("invalid")), &Limits::default())
            })
            .unwrap_err();
        assert_eq!(
            (rejection.kind, rejection.place.as_str()),
            (kind, place),
            "{name}: {rejection}"
        );
    }
}

/// One change to one field at a time: whatever the checker accepts must hold by the
/// independent evaluation, and the changes that break the claim must all be rejected.
#[test]
fn mutations_of_every_field_never_give_a_false_valid() {
    let base = valid();
    let mut mutants: Vec<(String, NeuronCertificate)> = Vec::new();
    let mut push = |name: String, f: &dyn Fn(&mut NeuronCertificate)| {
        let mut c = base.clone();
        f(&mut c);
        mutants.push((name, c));
    };
    let shift = |text: &Rational, by: &str| {
        Rational(slth_checker::numbers::format_rational(
            &(q(&text.0) + q(by)),
        ))
    };
    let tiny = "1/4503599627370496"; // 2^-52: the next odd multiple of 2^-53
    for e in 0..base.kept.len() {
        for t in 0..4 {
            push(format!("kept[{e}][1][{t}]"), &|c| {
                c.kept[e].1[t] = shift(&c.kept[e].1[t], tiny)
            });
        }
        push(format!("kept[{e}][2]"), &|c| {
            c.kept[e].2 = shift(&c.kept[e].2, tiny)
        });
        push(format!("kept[{e}][0] + 1"), &|c| c.kept[e].0 += 1);
        push(format!("drop kept[{e}]"), &|c| {
            c.kept.remove(e);
        });
    }
    for (s, t) in (0..inputs(&base).len()).step_by(5).zip((0..4).cycle()) {
        for by in ["1/8", "-1/8"] {
            push(format!("sample.inputs[{s}][{t}] {by}"), &|c| {
                let row = &mut c.sample.inputs.as_mut().unwrap()[s];
                row[t] = shift(&row[t], by)
            });
        }
        push(format!("sample.targets[{s}]"), &|c| {
            let targets = c.sample.targets.as_mut().unwrap();
            targets[s] = shift(&targets[s], "1/8")
        });
    }
    for by in ["1/1000000", "-1/1000000", "1/10", "-1/10"] {
        push(format!("scale {by}"), &|c| c.scale = shift(&c.scale, by));
    }
    push("scale 0".into(), &|c| c.scale = Rational("0".into()));
    push("loss - 1e-12".into(), &|c| {
        c.loss = shift(&c.loss, "-1e-12")
    });
    push("loss + 1".into(), &|c| c.loss = shift(&c.loss, "1"));
    push("seed".into(), &|c| {
        c.random_network.seed = format!("2b{}", &c.random_network.seed[2..])
    });
    push("width".into(), &|c| c.random_network.width = 10);
    push("first row dropped".into(), &|c| {
        c.sample.inputs.as_mut().unwrap().remove(0);
        c.sample.targets.as_mut().unwrap().remove(0);
    });
    let (mut accepted, mut rejected) = (0, 0);
    for (name, mutant) in &mutants {
        let holds = claim_holds(mutant);
        match verify_neuron(mutant) {
            Ok(_) => {
                assert!(holds, "false VALID after {name}");
                accepted += 1;
            }
            Err(r) => {
                assert!(!holds, "{name} holds but was rejected: {r}");
                rejected += 1;
            }
        }
    }
    // Both outcomes occur, so neither branch is vacuous.
    assert!(
        rejected >= 60 && accepted >= 3,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn resource_limits_refuse() {
    let c = valid();
    let refused = |set: &dyn Fn(&mut Limits)| {
        let mut limits = Limits::default();
        set(&mut limits);
        verify_neuron_with(&c, &limits).unwrap_err()
    };
    let kept = c.kept.len() as u64;
    let r = refused(&|l| l.max_kept_entries = kept - 1);
    assert_eq!((r.kind, r.place.as_str()), (Kind::Limit, "kept"));
    assert!(
        verify_neuron_with(
            &c,
            &Limits {
                max_kept_entries: kept,
                ..Limits::default()
            }
        )
        .is_ok()
    );
    let r = refused(&|l| l.max_dimension = 3);
    assert_eq!(
        (r.kind, r.place.as_str()),
        (Kind::Limit, "random_network.input_dim")
    );
    let r = refused(&|l| l.max_exact_work = 1000.0);
    assert_eq!(r.kind, Kind::Limit);
    assert!(r.detail.contains("--max-exact-work"), "{r}");
    let r = refused(&|l| l.max_number_chars = 20);
    assert_eq!(r.kind, Kind::Limit);
    let r = refused(&|l| l.max_exact_bits = 8);
    assert_eq!(
        (r.kind, r.place.as_str()),
        (Kind::Limit, "sample.inputs[0]")
    );
    let text = std::fs::read_to_string(dir().join("relu-4-stepwise.json")).unwrap();
    let small = Limits {
        max_nesting: 3,
        ..Limits::default()
    };
    assert_eq!(parse_neuron(&text, &small).unwrap_err().kind, Kind::Limit);
    let small = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(parse_neuron(&text, &small).unwrap_err().kind, Kind::Limit);
}

fn slth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_slth"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn slth_verify_recognises_neuron_certificates() {
    let valid = dir().join("relu-4-stepwise.json");
    let out = slth(&["verify", valid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("VALID: a neuron subnetwork"));
    let out = slth(&["verify", "--json", valid.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "valid");
    assert_eq!(json["kept_neurons"], 10);
    let invalid = dir().join("invalid/weight-not-g.json");
    let out = slth(&["verify", invalid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("INVALID") && err.contains("kept[0][1][0]"),
        "{err}"
    );
    let out = slth(&["verify", "--max-kept-entries", "2", valid.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REFUSED"));
}

/// A version-1 `.npy` file of little-endian f8 values.
fn npy_f8(shape: &str, values: &[f64]) -> Vec<u8> {
    let header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let padded = format!("{header:<118}\n");
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

#[test]
fn slth_neurons_reads_npy_samples_and_certifies_them() {
    let tmp = std::env::temp_dir().join(format!("slth-neurons-npy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // y = ReLU(x_0 - x_1) on a grid of 40 points in [-1, 1]^2.
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for s in 0..40 {
        let (a, b) = ((s % 8) as f64 / 4.0 - 0.875, (s / 8) as f64 / 2.0 - 1.0);
        x.extend([a, b]);
        y.push((a - b).max(0.0));
    }
    std::fs::write(tmp.join("x.npy"), npy_f8("(40, 2)", &x)).unwrap();
    std::fs::write(tmp.join("y.npy"), npy_f8("(40,)", &y)).unwrap();
    let path = |name: &str| tmp.join(name).to_str().unwrap().to_string();
    let out = slth(&[
        "neurons",
        "--inputs",
        &path("x.npy"),
        "--targets",
        &path("y.npy"),
        "--seed",
        "7",
        "--width",
        "40",
        "--certify",
        "reduction",
        "--certificate",
        &path("c.json"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("32 training and 8 held-out samples"),
        "{text}"
    );
    let certificate = std::fs::read_to_string(tmp.join("c.json")).unwrap();
    let c = parse_neuron(&certificate, &Limits::default()).unwrap();
    assert_eq!(inputs(&c).len(), 32);
    assert!(claim_holds(&c));
    assert_eq!(slth(&["verify", &path("c.json")]).status.code(), Some(0));
    // The sphere layer cannot be certified: a usage error before any work.
    let out = slth(&[
        "neurons",
        "--inputs",
        &path("x.npy"),
        "--targets",
        &path("y.npy"),
        "--seed",
        "7",
        "--width",
        "4",
        "--first-layer",
        "sphere",
        "--certificate",
        &path("d.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("recompute exactly"));
    let wrong = npy_f8("(39,)", &y[..39]);
    std::fs::write(tmp.join("y39.npy"), wrong).unwrap();
    let out = slth(&[
        "neurons",
        "--inputs",
        &path("x.npy"),
        "--targets",
        &path("y39.npy"),
        "--seed",
        "7",
        "--width",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// The example whose sample is a file: `slth neurons --sample-file` writes both files back
/// byte for byte, the sample file is named by the SHA-256 of its bytes (computed by the
/// oracle's own SHA-256), it holds exactly the inline example's sample, and the checker
/// finds the same exact loss in both.
#[test]
fn the_sample_file_example_is_valid_and_written_back() {
    let text = std::fs::read_to_string(dir().join("relu-4-stepwise-file.json")).unwrap();
    let c = parse_neuron(&text, &Limits::default()).unwrap();
    let (name, hash) = (
        c.sample.file.clone().unwrap(),
        c.sample.sha256.clone().unwrap(),
    );
    assert_eq!(name, format!("sample-{hash}.json"));
    let bytes = std::fs::read(dir().join(&name)).unwrap();
    assert_eq!(slth_oracle::sha256_hex(&bytes), hash);
    let data: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let inline = valid();
    assert_eq!(
        data["inputs"],
        serde_json::to_value(inline.sample.inputs.as_ref().unwrap()).unwrap()
    );
    assert_eq!(
        data["targets"],
        serde_json::to_value(inline.sample.targets.as_ref().unwrap()).unwrap()
    );
    // Without the folder the file cannot be found; with it the loss is the inline one.
    assert_eq!(verify_neuron(&c).unwrap_err().kind, Kind::SampleFile);
    let report = verify_neuron_in(&c, Some(&dir()), &Limits::default()).unwrap();
    assert_eq!(
        report.exact_loss,
        verify_neuron(&inline).unwrap().exact_loss
    );
    assert!(matches!(
        judge_file(&dir().join("relu-4-stepwise-file.json"), &Limits::default()),
        slth_checker::neurons::NeuronVerdict::Valid(_)
    ));
    // The size limit applies to the sample file before it is read.
    let small = Limits {
        max_file_bytes: bytes.len() as u64 - 1,
        ..Limits::default()
    };
    let r = verify_neuron_in(&c, Some(&dir()), &small).unwrap_err();
    assert_eq!((r.kind, r.place.as_str()), (Kind::Limit, "sample.file"));

    let tmp = std::env::temp_dir().join(format!("slth-neurons-file-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_slth"))
        .args(["neurons", "--target"])
        .arg(dir().join("target-relu-4.json"))
        .args([
            "--points",
            "64",
            "--test-points",
            "500",
            "--points-seed",
            "3",
        ])
        .args([
            "--seed",
            "42",
            "--width",
            "64",
            "--sample-file",
            "--certificate",
        ])
        .arg(tmp.join("c.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(tmp.join("c.json")).unwrap(), text);
    assert_eq!(std::fs::read(tmp.join(&name)).unwrap(), bytes);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("sample in {name}")));
    // A changed byte of the sample file: the hash no longer matches.
    let mut changed = bytes.clone();
    let at = changed.iter().position(|b| b.is_ascii_digit()).unwrap();
    changed[at] = if changed[at] == b'7' { b'8' } else { b'7' };
    std::fs::write(tmp.join(&name), &changed).unwrap();
    let out = slth(&["verify", tmp.join("c.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("INVALID") && err.contains("sample.sha256") && err.lines().count() == 1,
        "{err}"
    );
    // A sample file cannot go to standard output's folder.
    let out = slth(&[
        "neurons",
        "--target",
        dir().join("target-relu-4.json").to_str().unwrap(),
        "--points",
        "8",
        "--test-points",
        "8",
        "--seed",
        "1",
        "--width",
        "4",
        "--sample-file",
        "--certificate",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// Names that would leave the certificate's folder, and a symbolic link that does.
#[test]
fn sample_file_names_stay_in_the_folder() {
    use slth_checker::neurons::sample_name_problem;
    for bad in [
        "",
        "/etc/passwd",
        "../x.json",
        "a/../../x.json",
        "a/./x.json",
        "a//x.json",
        "./x.json",
        "a\\..\\x.json",
        "C:x.json",
        "x\u{0}.json",
        "x/",
    ] {
        assert!(sample_name_problem(bad).is_some(), "{bad:?} accepted");
    }
    for good in [
        "sample.json",
        "samples/sample-ab.json",
        "a..b.json",
        ".hidden",
    ] {
        assert_eq!(sample_name_problem(good), None, "{good:?} refused");
    }
    assert!(sample_name_problem(&"x".repeat(256)).is_some());
    #[cfg(unix)]
    {
        let tmp = std::env::temp_dir().join(format!("slth-neurons-link-{}", std::process::id()));
        let inner = tmp.join("inner");
        std::fs::create_dir_all(&inner).unwrap();
        let text = std::fs::read_to_string(dir().join("relu-4-stepwise-file.json")).unwrap();
        let c = parse_neuron(&text, &Limits::default()).unwrap();
        let name = c.sample.file.clone().unwrap();
        std::fs::copy(dir().join(&name), tmp.join(&name)).unwrap();
        std::os::unix::fs::symlink(tmp.join(&name), inner.join(&name)).unwrap();
        let r = verify_neuron_in(&c, Some(&inner), &Limits::default()).unwrap_err();
        assert_eq!(
            (r.kind, r.place.as_str()),
            (Kind::SamplePath, "sample.file"),
            "{r}"
        );
        // The same file inside the folder is accepted.
        assert!(verify_neuron_in(&c, Some(&tmp), &Limits::default()).is_ok());
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

/// The mutation campaign through a sample file: every mutant of the sample (a value moved,
/// a row dropped, a target moved) written to a file named by its SHA-256 and referenced by
/// the certificate, and every mutant of the reference (the hash's last digit, the name).
/// The checker's verdict must be the independent evaluation's on the same sample inline,
/// and a reference that does not name the file's bytes must be rejected.
#[test]
fn mutations_through_a_sample_file_never_give_a_false_valid() {
    let base = valid();
    let tmp = std::env::temp_dir().join(format!("slth-neurons-mut-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let shift = |text: &Rational, by: &str| {
        Rational(slth_checker::numbers::format_rational(
            &(q(&text.0) + q(by)),
        ))
    };
    let mut mutants: Vec<(String, NeuronCertificate)> = vec![("as is".into(), base.clone())];
    let n = inputs(&base).len();
    for s in (0..n).step_by(3) {
        for (t, by) in [(0, "1/4"), (1, "-1/4"), (2, "1/1024"), (3, "-3")] {
            let mut c = base.clone();
            let row = &mut c.sample.inputs.as_mut().unwrap()[s];
            row[t] = shift(&row[t], by);
            mutants.push((format!("sample.inputs[{s}][{t}] {by}"), c));
        }
        let mut c = base.clone();
        let targets = c.sample.targets.as_mut().unwrap();
        targets[s] = shift(&targets[s], "-1/16");
        mutants.push((format!("sample.targets[{s}]"), c));
        let mut c = base.clone();
        c.sample.inputs.as_mut().unwrap().remove(s);
        c.sample.targets.as_mut().unwrap().remove(s);
        mutants.push((format!("without row {s}"), c));
    }
    let (mut accepted, mut rejected) = (0, 0);
    for (name, inline) in &mutants {
        let holds = claim_holds(inline);
        let data = slth_checker::neurons::SampleData {
            inputs: inline.sample.inputs.clone().unwrap(),
            targets: inline.sample.targets.clone().unwrap(),
        };
        let (file, text) = slth::neurons::certificate::sample_file(&data);
        std::fs::write(tmp.join(&file), &text).unwrap();
        let hash = slth_oracle::sha256_hex(text.as_bytes());
        let mut c = inline.clone();
        c.sample = slth_checker::neurons::Sample::reference(file.clone(), hash.clone());
        match verify_neuron_in(&c, Some(&tmp), &Limits::default()) {
            Ok(_) => {
                assert!(holds, "false VALID after {name}");
                accepted += 1;
            }
            Err(r) => {
                assert!(!holds, "{name} holds but was rejected: {r}");
                rejected += 1;
            }
        }
        // The same file under a wrong hash, a wrong name, or a name leaving the folder.
        let last = if hash.ends_with('0') { "1" } else { "0" };
        for (f, h, kind) in [
            (
                file.clone(),
                format!("{}{last}", &hash[..63]),
                Kind::SampleHash,
            ),
            (format!("x{file}"), hash.clone(), Kind::SampleFile),
            (format!("../{file}"), hash.clone(), Kind::SamplePath),
        ] {
            let mut m = c.clone();
            m.sample = slth_checker::neurons::Sample::reference(f, h);
            let r = verify_neuron_in(&m, Some(&tmp), &Limits::default()).unwrap_err();
            assert_eq!(r.kind, kind, "{name}: {r}");
        }
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(
        accepted >= 3 && rejected >= 20,
        "{accepted} accepted, {rejected} rejected"
    );
}
