//! certify's estimate of the smallest epsilon its construction can reach at the allowed
//! widths (issue 12, item 3): it lies below what a certify run achieves, a request far below
//! it fails at once with one line naming it, and `--best-effort` still writes the best
//! certificate. Every number compared comes from a run of the tool.

mod common;

use common::run::{Output, run};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");
const TIMEOUT: Duration = Duration::from_secs(300);
const TARGET: &str = "certificates/targets/random-8-8-8-1.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slth(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(SLTH, &args, &[], &root(), TIMEOUT)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-reachable-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// certify at `epsilon` with `extra` options, `--json`: (estimate, certified epsilon).
fn certified(dir: &Path, name: &str, epsilon: &str, extra: &[&str]) -> (f64, f64) {
    let out = dir.join(format!("{name}.json"));
    let mut args = vec![
        "certify",
        TARGET,
        "--epsilon",
        epsilon,
        "--seed",
        "7",
        "-o",
        out.to_str().unwrap(),
        "--json",
    ];
    // The estimate is of the construction's own claims; the joint form certify proves by
    // default may go below it.
    args.extend(["--claims", "spectral"]);
    args.extend(extra);
    let run = slth(&args);
    assert_eq!(run.code, 0, "{name}: {}", run.stderr);
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    let estimate = summary["epsilon_reachable_approx"]
        .as_f64()
        .unwrap_or_else(|| panic!("{name}: no estimate in {summary}"));
    let achieved = summary["epsilon_approx"].as_f64().unwrap();
    (estimate, achieved)
}

#[test]
fn the_estimate_lies_below_what_certify_achieves() {
    let dir = scratch("below");
    // A pool of 3 cannot meet 0.05: --best-effort writes the best certificate found, which
    // must lie above the estimate too.
    for (name, extra) in [
        ("subset-sum", vec![]),
        ("subset-sum-nonnegative", vec!["--nonnegative"]),
        ("subset-sum-pool-3", vec!["--pool", "3", "--best-effort"]),
        ("pairs", vec!["--construction", "pairs"]),
        ("version-1", vec!["--format-version", "1"]),
    ] {
        let (estimate, achieved) = certified(&dir, name, "0.05", &extra);
        assert!(estimate > 0.0, "{name}: estimate {estimate}");
        assert!(
            estimate < achieved,
            "{name}: estimate {estimate} not below the certified {achieved}"
        );
    }
    // A smaller pool reaches less: its estimate is larger.
    let (free, _) = certified(&dir, "free", "0.05", &[]);
    let (small, _) = certified(&dir, "pool-2", "0.05", &["--pool", "2", "--best-effort"]);
    assert!(small > free, "pool 2: {small}, pool up to 30: {free}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_request_far_below_the_estimate_fails_fast_and_best_effort_still_writes() {
    let dir = scratch("refused");
    let (estimate, _) = certified(&dir, "reference", "0.05", &[]);
    // About a hundredth of the estimate, as a rational certify reads.
    let denominator = (100.0 / estimate).ceil() as u64;
    let asked = format!("1/{denominator}");
    let out = dir.join("refused.json");
    let out_text = out.to_str().unwrap();
    let base = [
        "certify",
        TARGET,
        "--epsilon",
        &asked,
        "--seed",
        "7",
        "-o",
        out_text,
    ];
    let refused = slth(&base);
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    assert_eq!(
        refused.stderr.trim_end().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.starts_with("slth: "), "{}", refused.stderr);
    let named = format!("estimated at {estimate:.3e}");
    assert!(
        refused.stderr.contains(&named),
        "{named:?} not in {}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--best-effort"),
        "{}",
        refused.stderr
    );
    assert!(!out.exists());

    // Near the estimate (a little above it) the search is tried, not refused before it:
    // it may meet epsilon or not, but it does not stop at the estimate.
    let near = format!("1/{}", (0.8 / estimate).floor() as u64);
    let mut args = base.to_vec();
    args[3] = &near;
    let tried = slth(&args);
    assert!(!tried.stderr.contains("far below"), "{}", tried.stderr);

    let mut args = base.to_vec();
    args.push("--best-effort");
    let written = slth(&args);
    assert_eq!(written.code, 0, "{}", written.stderr);
    let c = read(&out);
    assert_eq!(c["meta"]["best_effort"]["epsilon_asked"], asked.as_str());
    let verified = slth(&["verify", out_text]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}
