//! `eval --inputs` on inputs outside the certified domain: how many, by how much, the radius
//! that would cover them, never a maximum over an empty set; and a meta dimension that
//! would wrap is refused (issue 10, items 7 and 4).

use std::path::{Path, PathBuf};
use std::process::Command;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A float32 `.npy` array of `rows`.
fn write_f32_npy(path: &Path, rows: &[Vec<f32>]) {
    let header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        rows.len(),
        rows[0].len()
    );
    let padded = format!("{header}{}\n", " ".repeat(63 - (10 + header.len()) % 64));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(padded.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(padded.as_bytes());
    for v in rows.iter().flatten() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn eval(certificate: &str, inputs: &Path) -> (i32, String, String) {
    let out = Command::new(SLTH)
        .current_dir(root())
        .args(["eval", certificate, "--inputs", inputs.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-eval-domain-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The number after `label` up to the next space or closing bracket.
fn value_after<'a>(text: &'a str, label: &str) -> &'a str {
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in\n{text}"))
        + label.len();
    text[start..].split([' ', '`', ')', ';']).next().unwrap()
}

/// Unit vectors normalised in float32 have exact norms just above 1: eval says how many,
/// by how much, and the radius that covers them.
#[test]
fn inputs_just_outside_the_ball_are_counted_and_a_covering_radius_named() {
    let dir = scratch("unit");
    let inputs = dir.join("unit.npy");
    // In float32, 1/sqrt(3) and 0.6, 0.8 round so that the norm is not exactly 1.
    let third = (1.0f64 / 3.0).sqrt() as f32;
    let rows: Vec<Vec<f32>> = vec![vec![third; 3], vec![0.6, 0.8, 0.0], vec![0.0, 0.0, 0.5]];
    let norms: Vec<f64> = rows
        .iter()
        .map(|r| r.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt())
        .collect();
    let beyond = norms.iter().filter(|&&n| n > 1.0).count();
    assert!(beyond >= 1, "{norms:?}");
    write_f32_npy(&inputs, &rows);
    let (code, stdout, stderr) = eval("certificates/tiny-3-2-1.json", &inputs);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "outside the certified domain (||x||_2 > 1; never counted as guaranteed): {beyond}"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  beyond the radius: {beyond};")),
        "{stdout}"
    );
    let largest: f64 = value_after(&stdout, "the largest ||x||_2 is ")
        .parse()
        .unwrap();
    let max = norms.iter().copied().fold(0.0, f64::max);
    assert!((largest - max).abs() < 1e-8, "{largest} vs {max}\n{stdout}");
    let proposed: f64 = value_after(&stdout, "`certify --radius ").parse().unwrap();
    assert!(proposed >= max && proposed < 1.0001, "{proposed}\n{stdout}");
    assert!(
        stdout.contains(&format!(
            "max ||f(x) - g~(x)||_2 on the inputs of the domain ({} of 3)",
            3 - beyond
        )),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Raw pixels: no input in the domain, and no maximum over the empty set is printed.
#[test]
fn no_input_in_the_domain_prints_no_maximum() {
    let dir = scratch("raw");
    let inputs = dir.join("raw.npy");
    write_f32_npy(&inputs, &[vec![16.0, 0.0, 3.0], vec![4.0, 4.0, 4.0]]);
    let (code, stdout, stderr) = eval("certificates/tiny-3-2-1.json", &inputs);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("no input lies in the domain"), "{stdout}");
    assert!(!stdout.contains("max ||f(x) - g~(x)||_2"), "{stdout}");
    assert!(stdout.contains("`certify --radius 16.2789`"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A homogenized certificate on the non-negative orthant: the radius proposed is the r of
/// the user's x, and negative coordinates are counted.
#[test]
fn a_homogenized_certificate_names_r_and_counts_negative_coordinates() {
    let dir = scratch("digits");
    let inputs = dir.join("digits.npy");
    let mut rows = vec![vec![0.0f32; 64]; 3];
    rows[0][0] = -0.5;
    rows[1][1] = 2.0;
    rows[2][2] = 0.5;
    write_f32_npy(&inputs, &rows);
    let (code, stdout, stderr) = eval("certificates/digits-64-32-10.json", &inputs);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("x_k < 0; never counted as guaranteed): 2"),
        "{stdout}"
    );
    assert!(stdout.contains("  beyond the radius: 1;"), "{stdout}");
    assert!(
        stdout.contains("  with a negative coordinate on the non-negative domain: 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`certify --radius 2` (the r of the user's x")
            && stdout.contains("certify without --nonnegative"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// meta.derived_from.input_dim = 2^64 - 1 once wrapped to d + 1 = 0.
#[test]
fn a_meta_dimension_that_would_wrap_is_refused() {
    let huge = usize::MAX;
    let reason = slth::eval::user_input_dim(Some(huge), 0).unwrap_err();
    assert!(reason.contains("is too large"), "{reason}");
    assert!(slth::eval::user_input_dim(Some(3), 0).is_err());
    assert_eq!(slth::eval::user_input_dim(Some(64), 65), Ok(64));
    assert_eq!(slth::eval::user_input_dim(None, 7), Ok(7));
}
