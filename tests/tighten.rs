//! `slth tighten`'s native producer of version 2's terms: on each committed version 1
//! certificate its output verifies VALID (through its text form and the trusted checker) and
//! its epsilon is at most 1.10 times the one `tools/tighten.py` (cvxpy) found independently:
//! committed in certificates/v2/ for the tickets whose terms cvxpy made, written below for
//! those whose committed terms `slth tighten` made (whose epsilon it must then reproduce).
//! A tampered term is INVALID.

use num_rational::BigRational;
use slth_checker::certificate::{self, Certificate, Limits};
use slth_checker::numbers::parse_rational;
use slth_checker::verify::{RejectionKind, verify_sound};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The native output for certificates/NAME.json, read back from its text.
fn tightened(name: &str) -> Certificate {
    let path = root().join(format!("certificates/{name}.json"));
    let out = slth::tighten::tighten_file(&path, &Limits::default()).unwrap();
    let text = slth::write::to_json_text(&out.certificate);
    certificate::parse(&text).unwrap()
}

fn check(name: &str) {
    let committed = committed(name);
    check_against(name, &committed.bound.epsilon.0);
}

/// certificates/v2/NAME.json, made by `slth tighten`: the native output must be the same
/// epsilon, at most 1.10 times `cvxpy`'s, the epsilon `tools/tighten.py` finds on the same
/// version 1 certificate.
fn check_native(name: &str, cvxpy: &str) {
    let committed = committed(name);
    let producer = committed
        .meta
        .as_ref()
        .map(|m| m["tightened_by"].to_string());
    assert!(
        producer
            .as_deref()
            .is_some_and(|p| p.contains("tighten (native")),
        "{name}: committed terms not made by slth tighten: {producer:?}"
    );
    let ours = check_against(name, cvxpy);
    assert_eq!(ours, parse_rational(&committed.bound.epsilon.0).unwrap());
}

fn committed(name: &str) -> Certificate {
    certificate::load(
        &root().join(format!("certificates/v2/{name}.json")),
        &Limits::default(),
    )
    .unwrap()
}

/// Tightens certificates/NAME.json, checks the result and that its epsilon is at most 1.10
/// times `cvxpy`; returns the epsilon.
fn check_against(name: &str, cvxpy: &str) -> BigRational {
    let out = tightened(name);
    assert_eq!(out.version, 2);
    let terms = out.bound.terms.as_ref().unwrap();
    assert_eq!(terms.len(), out.target.layers.len());
    let report = verify_sound(&out, &Limits::default()).unwrap();
    assert_eq!(report.terms.len(), terms.len());
    let ours = parse_rational(&out.bound.epsilon.0).unwrap();
    assert_eq!(report.epsilon, ours);
    let limit = parse_rational(cvxpy).unwrap() * BigRational::new(11.into(), 10.into());
    assert!(
        ours <= limit,
        "{name}: native epsilon {ours} above 1.10 x cvxpy's {cvxpy}"
    );
    ours
}

#[test]
fn tiny() {
    check("tiny-3-2-1");
}

#[test]
fn deep_linear_output() {
    check("deep-linear-output");
}

/// cvxpy: `tools/tighten.py certificates/deep-linear-output-subset-sum.json` (cvxpy 1.9.3,
/// CLARABEL) on the ticket of targeted pool growth.
#[test]
fn deep_linear_output_subset_sum() {
    check_native("deep-linear-output-subset-sum", "28093/25000000");
}

#[test]
fn random_8_8_8_1() {
    check("random-8-8-8-1");
}

/// cvxpy: `tools/tighten.py certificates/random-8-8-8-1-subset-sum.json` (cvxpy 1.9.3,
/// CLARABEL) on the ticket of targeted pool growth.
#[test]
fn random_8_8_8_1_subset_sum() {
    check_native("random-8-8-8-1-subset-sum", "51401/6250000");
}

#[test]
fn digits() {
    // cvxpy: `tools/tighten.py certificates/digits-64-32-10.json` (cvxpy 1.9.3, CLARABEL,
    // 14 minutes) on the ticket of targeted pool growth.
    check_native("digits-64-32-10", "126607/25000000");
}

/// Lowering a lambda below what the witness proves, with epsilon lowered to match, is
/// rejected at that term.
#[test]
fn tampered_lambda_is_invalid() {
    let mut out = tightened("tiny-3-2-1");
    let terms = out.bound.terms.as_mut().unwrap();
    let lambda = parse_rational(&terms[0].lipschitz.0).unwrap();
    let lowered = lambda * BigRational::new(9.into(), 10.into());
    terms[0].lipschitz.0 = slth_checker::numbers::format_rational(&lowered);
    let rejection = verify_sound(&out, &Limits::default()).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::WitnessInvalid, "{rejection}");
    assert!(rejection.place.starts_with("bound.terms[0]"), "{rejection}");
}

/// A certificate that already has terms is refused with one line naming the place.
#[test]
fn terms_twice_refused() {
    let path = root().join("certificates/v2/tiny-3-2-1.json");
    let error = slth::tighten::tighten_file(&path, &Limits::default()).unwrap_err();
    let line = error.to_string();
    assert!(
        line.contains("bound.terms") && !line.contains('\n'),
        "{line}"
    );
}

/// Runs `slth certify` on the tiny target (pairs, epsilon 0.05, seed 42, `--json`) with
/// `extra` flags, writing into `dir`; its JSON and the certificate written.
fn certify_tiny(
    dir: &std::path::Path,
    extra: &[&str],
    name: &str,
) -> (serde_json::Value, Certificate) {
    let target = root().join("certificates/targets/tiny-3-2-1.json");
    let run = |extra: &[&str], out: &PathBuf| {
        let mut args = vec![
            "certify".to_string(),
            target.display().to_string(),
            "--construction".into(),
            "pairs".into(),
            "--epsilon".into(),
            "0.05".into(),
            "--seed".into(),
            "42".into(),
            "--json".into(),
            "-o".into(),
            out.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_slth"))
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let file = certificate::load(out, &Limits::default()).unwrap();
        (json, file)
    };
    run(extra, &dir.join(name))
}

/// `certify --terms`: the same ticket as without the flag, the terms added, epsilon the
/// telescoping bound (smaller here), the file VALID, and `--json` naming the lambdas.
#[test]
fn certify_with_terms() {
    let dir = std::env::temp_dir().join(format!("slth-certify-terms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain_json, plain) = certify_tiny(&dir, &["--claims", "spectral"], "plain.json");
    let (json, tight) = certify_tiny(&dir, &["--terms"], "tight.json");
    assert!(plain_json.get("terms").is_none());
    assert_eq!(plain.ticket, tight.ticket);
    assert_eq!(tight.version, 2);
    let terms = tight.bound.terms.as_ref().unwrap();
    assert_eq!(terms.len(), tight.target.layers.len());
    let report = verify_sound(&tight, &Limits::default()).unwrap();
    assert_eq!(report.terms.len(), terms.len());
    let epsilon = parse_rational(&tight.bound.epsilon.0).unwrap();
    let before = parse_rational(&plain.bound.epsilon.0).unwrap();
    assert!(epsilon < before, "{epsilon} not below {before}");
    let lambdas = json["terms"]["lambdas"].as_array().unwrap();
    assert_eq!(lambdas.len(), terms.len());
    for (lambda, term) in lambdas.iter().zip(terms) {
        assert_eq!(lambda.as_str(), Some(term.lipschitz.0.as_str()));
    }
    assert_eq!(
        json["epsilon"].as_str(),
        Some(tight.bound.epsilon.0.as_str())
    );
    // The telescoping bound, rounded up, is the epsilon (it is below the block claims' e_l).
    let telescoping = parse_rational(json["terms"]["telescoping"].as_str().unwrap()).unwrap();
    assert!(telescoping <= epsilon && epsilon < before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `certify --joint`: the same ticket, the joint form added (docs/FORMAT.md section 12.10),
/// epsilon its bound r * lambda rounded up, below both the block claims' and the terms'
/// bounds on this ticket, the file VALID with the bound the checker recomputes.
#[test]
fn certify_with_joint() {
    let dir = std::env::temp_dir().join(format!("slth-certify-joint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain_json, plain) = certify_tiny(&dir, &["--claims", "spectral"], "plain.json");
    let (_, terms) = certify_tiny(&dir, &["--terms"], "terms.json");
    let (json, joint) = certify_tiny(&dir, &["--joint"], "joint.json");
    assert!(plain_json.get("joint").is_none());
    assert_eq!(plain.ticket, joint.ticket);
    assert_eq!(joint.version, 2);
    assert!(joint.bound.terms.is_none() && joint.bound.joint.is_some());
    let report = verify_sound(&joint, &Limits::default()).unwrap();
    let bound = report.joint.clone().unwrap();
    assert_eq!(
        parse_rational(json["joint"]["bound"].as_str().unwrap()).unwrap(),
        bound
    );
    let epsilon = parse_rational(&joint.bound.epsilon.0).unwrap();
    let before = parse_rational(&plain.bound.epsilon.0).unwrap();
    let with_terms = parse_rational(&terms.bound.epsilon.0).unwrap();
    assert!(bound <= epsilon, "{bound} above {epsilon}");
    assert!(
        epsilon < with_terms && with_terms < before,
        "{epsilon}, {with_terms}, {before}"
    );
    assert!(report.claim_kinds.contains(&"joint-sdp".to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without `--claims`, certify proves the joint form when its search fits: the same bytes
/// as `--claims joint` and `--joint`.
#[test]
fn certify_proves_the_joint_form_by_default() {
    let dir = std::env::temp_dir().join(format!("slth-certify-default-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, default) = certify_tiny(&dir, &[], "default.json");
    assert!(default.bound.joint.is_some() && json.get("joint_not_proved").is_none());
    let bytes = std::fs::read(dir.join("default.json")).unwrap();
    for (extra, name) in [
        (&["--claims", "joint"][..], "claims.json"),
        (&["--joint"], "flag.json"),
    ] {
        certify_tiny(&dir, extra, name);
        assert!(std::fs::read(dir.join(name)).unwrap() == bytes, "{extra:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs slth with `args`.
fn slth(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_slth"))
        .args(args)
        .output()
        .unwrap()
}

/// certify at epsilon 0.05, seed 1, of a random target of `dims` (made in `dir`), with
/// `extra`: (the run, the certificate's path).
fn certify_random(
    dir: &std::path::Path,
    dims: &str,
    extra: &[&str],
    name: &str,
) -> (std::process::Output, PathBuf) {
    let target = dir.join(format!("target-{dims}.json"));
    let target_arg = target.to_str().unwrap();
    if !target.exists() {
        let made = slth(&[
            "random-target",
            "--dims",
            dims,
            "--seed",
            "1",
            "-o",
            target_arg,
        ]);
        assert!(made.status.success(), "{made:?}");
    }
    let out = dir.join(name);
    let mut args = vec!["certify", target_arg, "--epsilon", "0.05", "--seed", "1"];
    args.extend(extra);
    args.extend(["-o", out.to_str().unwrap()]);
    (slth(&args), out)
}

/// certify's default on a random target of `dims` where it does not prove the joint form:
/// the same bytes as `--claims spectral`, and the reason `--json` gives.
fn default_without_joint(dir: &std::path::Path, dims: &str) -> String {
    let (default, default_file) = certify_random(dir, dims, &["--json"], "default.json");
    assert!(default.status.success(), "{default:?}");
    let json: serde_json::Value = serde_json::from_slice(&default.stdout).unwrap();
    let (spectral, spectral_file) =
        certify_random(dir, dims, &["--claims", "spectral"], "spectral.json");
    assert!(spectral.status.success(), "{spectral:?}");
    assert!(std::fs::read(&default_file).unwrap() == std::fs::read(&spectral_file).unwrap());
    json["joint_not_proved"].as_str().unwrap().to_string()
}

/// Where the joint form's search does not fit (a 201-2-1 target on a signed domain: 402
/// input entries and two per hidden neuron, 406 quantities, above the search's 400),
/// certify keeps the spectral claims and says why, in the summary and in `--json`;
/// `--claims joint` refuses in one line.
#[test]
fn certify_says_why_the_joint_form_is_not_proved() {
    let dir = std::env::temp_dir().join(format!("slth-certify-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dims = "201,2,1";
    let reason = default_without_joint(&dir, dims);
    assert!(reason.contains("406 quantities"), "{reason}");
    let (plain, _) = certify_random(&dir, dims, &[], "plain.json");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(
        stderr.contains("joint form not proved (the spectral claims stand): "),
        "{stderr}"
    );
    let (required, _) = certify_random(&dir, dims, &["--claims", "joint"], "joint.json");
    assert!(!required.status.success());
    let stderr = String::from_utf8_lossy(&required.stderr);
    assert!(
        stderr.contains("406 quantities") && !stderr.trim().contains('\n'),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A deep network whose joint form fits the search but whose search would be long (a
/// 4-16-16-16-16-1 target, signed: 8 input entries and two per neuron of its 224 relations,
/// 456 > 400): the default keeps the spectral claims and points to `--claims joint`, without
/// searching (same bytes as `--claims spectral`).
#[test]
fn certify_leaves_a_long_joint_search_to_claims_joint() {
    let dir = std::env::temp_dir().join(format!("slth-certify-deep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reason = default_without_joint(&dir, "4,16,16,16,16,1");
    assert!(
        reason.contains("make 456") && reason.contains("--claims joint runs it"),
        "{reason}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--terms` and `--joint` with `--format-version 1` are usage errors naming the option.
#[test]
fn certify_terms_need_version_2() {
    for flag in ["--terms", "--joint"] {
        refused_with_version_1(flag);
    }
}

fn refused_with_version_1(flag: &str) {
    let target = root().join("certificates/targets/tiny-3-2-1.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_slth"))
        .args([
            "certify",
            &target.display().to_string(),
            "--epsilon",
            "0.05",
        ])
        .args(["--seed", "1", flag, "--format-version", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{flag}: ")) && !stderr.trim().contains('\n'),
        "{stderr}"
    );
}
