//! Format version 2's spectral error claims as `slth certify` writes them by default, and the
//! construction aimed at them: the claims are above the spectral norm of the error matrix
//! (recomputed here from the ticket in f64, independently of slth's code), below the
//! Frobenius claim they replace, accepted by `slth verify`; version 1 stays available;
//! `--best-effort` writes the best ticket when epsilon cannot be met, and only then.

mod common;

use common::run::run;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");
const TIMEOUT: Duration = Duration::from_secs(120);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slth(args: &[&str]) -> common::run::Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(SLTH, &args, &[], &root(), TIMEOUT)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-aimed-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A rational of the certificate ("p/q", "0.25", "1e-3") in f64.
fn number(v: &Value) -> f64 {
    let text = v.as_str().expect("a rational is a string");
    match text.split_once('/') {
        Some((p, q)) => p.parse::<f64>().unwrap() / q.parse::<f64>().unwrap(),
        None => text.parse().unwrap(),
    }
}

/// M_i of docs/FORMAT.md section 12.9 in f64, from the certificate's target and ticket.
fn error_matrix(c: &Value, block: usize) -> Vec<Vec<f64>> {
    let weights: Vec<Vec<f64>> = c["target"]["layers"][block]["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(number).collect())
        .collect();
    let (rows, cols) = (weights.len(), weights[0].len());
    let signed = block == 0 && !c["domain"]["nonnegative"].as_bool().unwrap_or(false);
    let ticket = &c["ticket"][block];
    let hidden: std::collections::HashMap<u64, (usize, f64)> = ticket["hidden"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e[0].as_u64().unwrap(),
                (e[1].as_u64().unwrap() as usize, number(&e[2])),
            )
        })
        .collect();
    let (mut p, mut q) = (vec![vec![0.0; cols]; rows], vec![vec![0.0; cols]; rows]);
    for e in ticket["output"].as_array().unwrap() {
        let (m, j, v) = (
            e[0].as_u64().unwrap() as usize,
            e[1].as_u64().unwrap(),
            number(&e[2]),
        );
        let (t, u) = hidden[&j];
        if u > 0.0 {
            p[m][t] += v * u;
        } else {
            q[m][t] += v * u;
        }
    }
    (0..rows)
        .map(|m| {
            let mut row: Vec<f64> = (0..cols).map(|t| p[m][t] - weights[m][t]).collect();
            if signed {
                row.extend((0..cols).map(|t| weights[m][t] - q[m][t]));
            }
            row
        })
        .collect()
}

/// ||A||_2 by power iteration on A^T A (converges from below).
fn spectral_norm(a: &[Vec<f64>]) -> f64 {
    let cols = a[0].len();
    let mut v = vec![1.0; cols];
    let mut sigma = 0.0;
    for _ in 0..5000 {
        let av: Vec<f64> = a
            .iter()
            .map(|r| r.iter().zip(&v).map(|(x, y)| x * y).sum())
            .collect();
        let mut next = vec![0.0; cols];
        for (r, s) in a.iter().zip(&av) {
            for (n, x) in next.iter_mut().zip(r) {
                *n += x * s;
            }
        }
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        sigma = norm.sqrt();
        v = next.iter().map(|x| x / norm).collect();
    }
    sigma
}

/// ||E_i||_F of section 6.1 in f64.
fn frobenius_of_e(m: &[Vec<f64>], signed_cols: Option<usize>) -> f64 {
    m.iter()
        .map(|row| match signed_cols {
            Some(n) => (0..n)
                .map(|t| row[t].abs().max(row[n + t].abs()).powi(2))
                .sum::<f64>(),
            None => row.iter().map(|x| x * x).sum(),
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn default_certificates_claim_spectral_errors_that_hold_and_verify() {
    let dir = scratch("default");
    for (name, extra) in [
        ("pairs-signed", vec!["--construction", "pairs"]),
        ("subset-sum-signed", vec![]),
        ("subset-sum-nonnegative", vec!["--nonnegative"]),
    ] {
        let out = dir.join(format!("{name}.json"));
        let mut args = vec![
            "certify",
            "certificates/targets/random-8-8-8-1.json",
            "--epsilon",
            "0.05",
            "--seed",
            "7",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let certified = slth(&args);
        assert_eq!(certified.code, 0, "{name}: {}", certified.stderr);
        let c = read(&out);
        assert_eq!(c["version"], 2, "{name}");
        let mut spectral = 0;
        for (b, block) in c["bound"]["blocks"].as_array().unwrap().iter().enumerate() {
            let m = error_matrix(&c, b);
            let signed = b == 0 && !name.ends_with("nonnegative");
            let claim = number(&block["error"]);
            let frobenius = frobenius_of_e(&m, signed.then(|| m[0].len() / 2));
            if block["error_method"] == "spectral" {
                spectral += 1;
                let norm = spectral_norm(&m);
                assert!(
                    claim >= norm * (1.0 - 1e-9),
                    "{name} block {b}: c = {claim} < ||M|| = {norm}"
                );
                assert!(
                    claim < frobenius,
                    "{name} block {b}: spectral {claim} not below {frobenius}"
                );
            } else {
                assert!(claim >= frobenius * (1.0 - 1e-9), "{name} block {b}");
            }
        }
        assert!(spectral > 0, "{name}: no spectral error claim");
        let verified = slth(&["verify", out.to_str().unwrap()]);
        assert_eq!(verified.code, 0, "{name}: {}", verified.stdout);
        assert!(verified.stdout.starts_with("VALID"), "{name}");
        let exact = slth(&["verify", "--exact", out.to_str().unwrap()]);
        assert_eq!(exact.code, 0, "{name}: {}", exact.stdout);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_ticket_two_versions_and_version_2_is_tighter() {
    let dir = scratch("versions");
    let mut epsilons = Vec::new();
    let mut tickets = Vec::new();
    for version in ["1", "2"] {
        let out = dir.join(format!("v{version}.json"));
        let certified = slth(&[
            "certify",
            "certificates/targets/deep-linear-output.json",
            "--tolerance",
            "0.001",
            "--nonnegative",
            "--seed",
            "3",
            "--format-version",
            version,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(certified.code, 0, "{}", certified.stderr);
        let c = read(&out);
        assert_eq!(c["version"].as_u64().unwrap().to_string(), version);
        assert_eq!(slth(&["verify", out.to_str().unwrap()]).code, 0);
        epsilons.push(number(&c["bound"]["epsilon"]));
        tickets.push(c["ticket"].clone());
    }
    // A per-weight tolerance builds the same ticket either way; only the claims differ.
    assert_eq!(tickets[0], tickets[1]);
    assert!(epsilons[1] < epsilons[0], "{epsilons:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn best_effort_writes_the_best_ticket_and_only_when_asked() {
    let dir = scratch("best-effort");
    let out = dir.join("best.json");
    let out_str = out.to_str().unwrap();
    let base = [
        "certify",
        "certificates/targets/random-8-8-8-1.json",
        "--epsilon",
        "0.001",
        "--pool",
        "2",
        "--seed",
        "7",
        "-o",
        out_str,
    ];
    // A pool of 2 neurons per input cannot reach epsilon 0.001.
    let failed = slth(&base);
    assert_ne!(failed.code, 0);
    assert!(failed.stderr.contains("--best-effort"), "{}", failed.stderr);
    assert_eq!(failed.stderr.trim().lines().count(), 1, "{}", failed.stderr);
    assert!(!out.exists());

    let mut args = base.to_vec();
    args.push("--best-effort");
    let written = slth(&args);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert!(written.stderr.contains("best effort"), "{}", written.stderr);
    let c = read(&out);
    assert_eq!(c["meta"]["best_effort"]["epsilon_asked"], "1/1000");
    assert!(number(&c["bound"]["epsilon"]) > 0.001);
    let verified = slth(&["verify", out_str]);
    assert_eq!(verified.code, 0, "{}", verified.stdout);

    for refused in [vec!["--format-version", "1"], vec!["--tolerance", "0.01"]] {
        let mut args = vec![
            "certify",
            "certificates/targets/random-8-8-8-1.json",
            "--seed",
            "7",
            "--best-effort",
            "-o",
            out_str,
        ];
        if refused[0] == "--format-version" {
            args.extend(["--epsilon", "0.05"]);
        }
        args.extend(refused.iter().copied());
        let run = slth(&args);
        assert_ne!(run.code, 0, "{refused:?}");
        assert!(
            run.stderr.contains("best-effort"),
            "{refused:?}: {}",
            run.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
