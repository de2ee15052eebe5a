//! Issue 10, item 1: numbers near the ends of f64's range (a radius near 5e-309, a target
//! weight near 5e-315, an epsilon near 2^1023 written as a fraction of large integers) once
//! made the sound f64 verifier walk one ulp at a time for hours. Each such certificate must
//! verify VALID quickly in every mode, and `certify` with a tiny radius must finish.

mod common;

use common::run::run;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");
/// Far above the milliseconds these take; the old walk took hours.
const TIMEOUT: Duration = Duration::from_secs(20);
const TINY_CERTIFICATE: &str = "certificates/tiny-3-2-1.json";

fn slth(args: &[&str]) -> common::run::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run(
        SLTH,
        &args,
        &[],
        Path::new(env!("CARGO_MANIFEST_DIR")),
        TIMEOUT,
    )
}

/// A file name of this process in the temporary folder.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("slth-extreme-{name}-{}.json", std::process::id()))
}

/// The committed tiny certificate with one field changed, written to a temporary file.
fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(TINY_CERTIFICATE);
    let mut certificate: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut certificate);
    let file = scratch(name);
    std::fs::write(&file, certificate.to_string()).unwrap();
    file
}

fn assert_valid_in_every_mode(file: &Path) -> String {
    let file = file.to_str().unwrap();
    let mut texts = Vec::new();
    for mode in [&[][..], &["--exact"][..]] {
        let mut args = vec!["verify", file];
        args.extend_from_slice(mode);
        let out = slth(&args);
        assert_eq!(out.code, 0, "{mode:?}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stdout.starts_with("VALID"), "{mode:?}: {}", out.stdout);
        assert!(
            out.elapsed < Duration::from_secs(5),
            "{mode:?}: {:?}",
            out.elapsed
        );
        texts.push(out.stdout);
    }
    texts.join("\n")
}

#[test]
fn a_radius_near_the_bottom_of_the_range_verifies() {
    let file = edited("radius", |c| {
        c["domain"]["radius"] = "5.0000000000000000000000001e-309".into();
    });
    assert_valid_in_every_mode(&file);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_subnormal_target_weight_verifies() {
    let file = edited("weight", |c| {
        c["target"]["layers"][0]["weights"][0][2] = "5.0000000000000000001e-315".into();
    });
    assert_valid_in_every_mode(&file);
    let _ = std::fs::remove_file(&file);
}

#[test]
fn an_epsilon_near_2_1023_verifies_and_prints_as_a_finite_number() {
    // (2^1100 + 1) / (2^77 - 1), just above 2^1023: the old conversion scaled by 2^1024.
    let numerator = "13582985290493858492773514283592667786034938469317445497485196697278130927542418487205392083207560592298578262953847383475038725543234929971155548342800628721885763499406390331782864144164680730766837160526223176512798435772129956553355286032203080380775759732320198985094884004069116123084147875437183658467465148948790552744165377";
    let epsilon = format!("{numerator}/151115727451828646838271");
    let file = edited("epsilon", |c| c["bound"]["epsilon"] = epsilon.into());
    let text = assert_valid_in_every_mode(&file);
    let _ = std::fs::remove_file(&file);
    assert!(!text.contains("inf"), "{text}");
    assert!(text.contains("~8.98846567431158e307"), "{text}");
}

#[test]
fn certify_with_a_subnormal_radius_finishes() {
    let out = slth(&[
        "certify",
        "certificates/targets/tiny-3-2-1.json",
        "--epsilon",
        "0.05",
        "--seed",
        "42",
        "--radius",
        "5.0000000000000000001e-315",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = scratch("certified");
    std::fs::write(&file, &out.stdout).unwrap();
    assert_valid_in_every_mode(&file);
    let _ = std::fs::remove_file(&file);
}
