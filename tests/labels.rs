//! Verdict labels and exit codes (issue 10, items 3 and 5): no mode exits 0 on a false
//! certificate, resource limits are REFUSED, shapes are INVALID, I/O errors are named.

mod common;

use common::run::{Output, run};
use serde_json::Value;
use slth_checker::certificate::{LoadErrorKind, parse};
use slth_checker::verify;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slth(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(
        env!("CARGO_BIN_EXE_slth"),
        &args,
        &[],
        &root(),
        Duration::from_secs(120),
    )
}

fn conformance(name: &str) -> String {
    format!("tests/conformance/{name}.json")
}

fn read(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join(conformance(name))).expect("read");
    serde_json::from_str(&text).expect("json")
}

/// Writes `value` under the target directory and returns its path.
fn scratch(name: &str, value: &Value) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("labels");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write");
    path.display().to_string()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

#[test]
fn f64_mode_takes_its_exit_code_from_the_exact_decision() {
    let file = conformance("invalid-epsilon-just-below");
    let out = slth(&["verify", "--f64", &file]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("exact verdict (the exit code): INVALID")
    );
    assert!(out.stderr.contains("INVALID") && out.stderr.contains("bound.epsilon"));
    let out = slth(&["verify", "--f64", "--json", &file]);
    assert_eq!(out.code, 1);
    let json = json_of(&out);
    assert_eq!(json["exact_verdict"], "invalid");
    assert_eq!(json["place"], "bound.epsilon");
    assert!(!json["reason"].as_str().unwrap().contains("INVALID"));
    let valid = conformance("valid-spectral-witness");
    let out = slth(&["verify", "--f64", "--json", &valid]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_of(&out)["exact_verdict"], "valid");
}

#[test]
fn a_number_over_the_length_limit_is_refused_in_every_mode() {
    let file = conformance("valid-spectral-witness");
    for mode in ["--exact", "--f64", "--json"] {
        // "--json" twice is refused, so the default mode is "--json" alone.
        let mut args = vec!["verify", mode, "--max-number-length", "5", &file];
        if mode != "--json" {
            args.push("--json");
        }
        let out = slth(&args);
        assert_eq!(out.code, 1, "{mode}: {}", out.stderr);
        let json = json_of(&out);
        assert_eq!(json["verdict"], "refused", "{mode}");
        assert!(
            json["reason"]
                .as_str()
                .unwrap()
                .contains("--max-number-length")
        );
        assert!(!json["reason"].as_str().unwrap().contains("REFUSED"));
        assert!(out.stderr.contains("REFUSED"), "{mode}: {}", out.stderr);
    }
}

#[test]
fn the_length_limit_applies_to_short_fractions_too() {
    let mut c = read("valid-spectral-witness");
    c["domain"]["radius"] = "100000/100000".into();
    let file = scratch("short-fraction.json", &c);
    let out = slth(&["verify", "--json", "--max-number-length", "5", &file]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_eq!(json_of(&out)["place"], "domain.radius");
    assert_eq!(json_of(&out)["verdict"], "refused");
}

#[test]
fn a_zero_with_a_huge_exponent_is_zero() {
    let mut c = read("valid-spectral-witness");
    c["target"]["layers"][0]["weights"][0][3] = "0e10001".into();
    let file = scratch("zero-exponent.json", &c);
    let out = slth(&["verify", &file]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    c["target"]["layers"][0]["weights"][0][3] = "1e10001".into();
    let out = slth(&["verify", &scratch("huge-exponent.json", &c)]);
    assert_eq!(out.code, 1, "{}", out.stderr);
}

#[test]
fn a_kept_entry_of_four_elements_is_a_schema_error() {
    let mut c = read("valid-spectral-witness");
    c["ticket"][0]["hidden"][0]
        .as_array_mut()
        .unwrap()
        .push(5.into());
    let text = c.to_string();
    let e = parse(&text).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Schema, "{e}");
    assert_eq!(e.place, "ticket[0].hidden[0]");
    let out = slth(&["verify", "--json", &scratch("four.json", &c)]);
    assert_eq!(out.code, 1);
    assert_eq!(json_of(&out)["verdict"], "invalid");
    // Two elements stay a schema error too.
    let mut c = read("valid-spectral-witness");
    c["ticket"][0]["hidden"][0].as_array_mut().unwrap().pop();
    assert_eq!(
        parse(&c.to_string()).unwrap_err().kind,
        LoadErrorKind::Schema
    );
}

#[test]
fn minus_zero_as_an_index_is_a_schema_error() {
    // serde_json reads `-0` as a float, indistinguishable from `-0.0`; section 2.4 rejects
    // floats, so `-0` is rejected as one, with the place.
    let c = read("valid-spectral-witness");
    let text = c.to_string();
    let entry = serde_json::to_string(&c["ticket"][0]["hidden"][0]).unwrap();
    let first = &c["ticket"][0]["hidden"][0][0];
    let index_zero = entry.replacen(&format!("[{first},"), "[-0,", 1);
    assert_ne!(index_zero, entry);
    let e = parse(&text.replacen(&entry, &index_zero, 1)).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Schema, "{e}");
    assert_eq!(e.place, "ticket[0].hidden[0][0]", "{e}");
}

#[test]
fn null_is_not_an_absent_optional_field() {
    let base = read("valid-spectral-witness");
    type Set = fn(&mut Value);
    let cases: [(&str, Set); 3] = [
        ("domain.nonnegative", |c| {
            c["domain"]["nonnegative"] = Value::Null
        }),
        ("bound.blocks[0].lipschitz_method", |c| {
            c["bound"]["blocks"][0]["lipschitz_method"] = Value::Null
        }),
        ("bound.blocks[0].lipschitz_witness", |c| {
            c["bound"]["blocks"][0]["lipschitz_witness"] = Value::Null
        }),
    ];
    for (place, set) in cases {
        let mut c = base.clone();
        set(&mut c);
        let e = parse(&c.to_string()).unwrap_err();
        assert_eq!(e.kind, LoadErrorKind::Schema, "{place}: {e}");
        assert_eq!(e.place, place, "{e}");
        assert!(e.detail.contains("null"), "{e}");
    }
    // `meta` is any JSON value (docs/FORMAT.md section 7), null included; it is ignored.
    let mut c = base.clone();
    c["meta"] = Value::Null;
    let read = parse(&c.to_string()).expect("meta null is accepted");
    assert!(verify::verify(&read).is_ok());
    // Absent optional fields still read as before.
    let mut c = base;
    c["bound"]["blocks"][0]
        .as_object_mut()
        .unwrap()
        .remove("lipschitz_witness");
    c["bound"]["blocks"][0]
        .as_object_mut()
        .unwrap()
        .remove("lipschitz_method");
    let read = parse(&c.to_string()).expect("absent fields");
    assert!(read.bound.blocks[0].lipschitz_method.is_none());
}

#[test]
fn limit_flags_refuse_nan_and_negative_values() {
    let file = conformance("valid-spectral-witness");
    for value in ["NaN", "nan", "-1", "-inf", "x"] {
        let out = slth(&["verify", &format!("--max-exact-work={value}"), &file]);
        assert_eq!(out.code, 2, "{value}: {}", out.stderr);
        assert!(out.stderr.contains("--max-exact-work"), "{}", out.stderr);
    }
    let out = slth(&["verify", "--max-exact-work=inf", &file]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn io_errors_are_unreadable_with_a_reason_that_says_which() {
    let missing = slth(&["verify", "--json", "tests/conformance/no-such-file.json"]);
    let directory = slth(&["verify", "--json", "tests/conformance"]);
    for (out, reason) in [(missing, "no such file"), (directory, "is a directory")] {
        assert_eq!(out.code, 2, "{}", out.stderr);
        let json = json_of(&out);
        assert_eq!(json["verdict"], "unreadable");
        assert_eq!(json["place"], "file");
        assert_eq!(json["reason"], reason);
        assert!(out.stderr.contains(reason), "{}", out.stderr);
    }
    for flags in [&["--exact"][..], &["--f64"], &[]] {
        let mut args = vec!["verify", "--json"];
        args.extend_from_slice(flags);
        args.push("tests/conformance");
        assert_eq!(json_of(&slth(&args))["reason"], "is a directory");
    }
}

#[test]
fn json_reasons_never_carry_the_label_or_the_file() {
    let mut invalid = read("valid-spectral-witness");
    invalid["domain"]["norm"] = "l1".into();
    let mut schema = read("valid-spectral-witness");
    schema["domain"]["center"] = "0".into();
    let files = [
        scratch("norm.json", &invalid),
        scratch("schema.json", &schema),
        conformance("invalid-epsilon-just-below"),
    ];
    for file in &files {
        for mode in ["--exact", "--f64", "--json"] {
            let mut args = vec!["verify", mode, file];
            if mode != "--json" {
                args.push("--json");
            }
            let out = slth(&args);
            let json = json_of(&out);
            let reason = json["reason"].as_str().unwrap_or_else(|| panic!("{json}"));
            for bad in ["INVALID", "REFUSED", file.as_str()] {
                assert!(!reason.contains(bad), "{mode} {file}: {reason}");
            }
        }
    }
}
