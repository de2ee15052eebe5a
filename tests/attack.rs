//! `slth attack` end to end: on every committed certificate the proven lower bound lies below
//! the certified epsilon, is at least plain sampling's best, and equals an independent exact
//! evaluation of f and g~ at the point the attack writes (here, from the certificate's text
//! with the oracle's number reader and `num-rational`, nothing of slth); the output is the
//! same bytes on every run and thread count; bad inputs fail in one line.

mod common;

use common::run::{Output, json_files, run};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// A run that takes longer than this is a hang (the digits certificate takes a few seconds).
const TIMEOUT: Duration = Duration::from_secs(300);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slth(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run(SLTH, &args, env, &root(), TIMEOUT)
}

/// A temporary folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("slth-attack-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A number of the certificate format (decimal, fraction, exponent), by the oracle.
fn number(text: &str) -> BigRational {
    slth_oracle::parse_rational(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
}

/// An exact rational as attack writes it: `p/q` or an integer, of any length.
fn exact(value: &Value) -> BigRational {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    let integer =
        |t: &str| BigInt::parse_bytes(t.as_bytes(), 10).unwrap_or_else(|| panic!("{t:?}"));
    match text.split_once('/') {
        Some((p, q)) => BigRational::new(integer(p), integer(q)),
        None => BigRational::from_integer(integer(text)),
    }
}

fn square(x: &BigRational) -> BigRational {
    x * x
}

fn norm_squared(x: &[BigRational]) -> BigRational {
    x.iter().map(square).sum()
}

/// f(x) and g~(x) from the certificate's text alone: f's layers, and g~'s kept entries with
/// the values the file lists (a valid certificate's values are g's weights).
fn evaluate(certificate: &Value, x: &[BigRational]) -> (Vec<BigRational>, Vec<BigRational>) {
    let layers = certificate["target"]["layers"].as_array().unwrap();
    let relu = |layer: &Value, z: BigRational| {
        if layer["activation"] == "relu" && z.is_negative() {
            BigRational::zero()
        } else {
            z
        }
    };
    let mut f = x.to_vec();
    for layer in layers {
        f = layer["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let z = row
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(&f)
                    .map(|(w, y)| number(w.as_str().unwrap()) * y)
                    .sum();
                relu(layer, z)
            })
            .collect();
    }
    let mut g = x.to_vec();
    let tickets = certificate["ticket"].as_array().unwrap();
    for (layer, ticket) in layers.iter().zip(tickets) {
        let index = |v: &Value| v.as_u64().unwrap() as usize;
        let mut hidden = BTreeMap::new();
        for entry in ticket["hidden"].as_array().unwrap() {
            let (j, t) = (index(&entry[0]), index(&entry[1]));
            let h = number(entry[2].as_str().unwrap()) * &g[t];
            hidden.insert(
                j,
                if h.is_negative() {
                    BigRational::zero()
                } else {
                    h
                },
            );
        }
        let mut z = vec![BigRational::zero(); layer["weights"].as_array().unwrap().len()];
        for entry in ticket["output"].as_array().unwrap() {
            let (m, j) = (index(&entry[0]), index(&entry[1]));
            z[m] += number(entry[2].as_str().unwrap()) * &hidden[&j];
        }
        g = z.into_iter().map(|z| relu(layer, z)).collect();
    }
    (f, g)
}

fn squared_error(certificate: &Value, x: &[BigRational]) -> BigRational {
    let (f, g) = evaluate(certificate, x);
    f.iter().zip(&g).map(|(a, b)| square(&(a - b))).sum()
}

/// The point of an `.npy` file attack wrote: shape [1, n], little-endian f64.
fn read_npy_row(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x93NUMPY\x01\x00"),
        "{}",
        path.display()
    );
    let header_length = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = std::str::from_utf8(&bytes[10..10 + header_length]).unwrap();
    assert!(header.contains("'descr': '<f8'"), "{header}");
    let data = &bytes[10 + header_length..];
    let n = data.len() / 8;
    assert!(header.contains(&format!("'shape': (1, {n})")), "{header}");
    data.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// On every committed certificate: the bracket holds, the bound is exact at the written
/// point (recomputed here), the point lies in the domain, the .npy point is the same point,
/// the decimal is rounded down, and the attack is at least plain sampling's best.
#[test]
fn the_lower_bound_is_proven_below_epsilon_and_beats_sampling() {
    let scratch = Scratch::new("committed");
    let files = json_files(&root().join("certificates"));
    assert!(files.len() >= 6, "only {} certificates", files.len());
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let point_json = scratch.path(&format!("{name}.json"));
        let point_npy = scratch.path(&format!("{name}.npy"));
        let text_file = file.to_string_lossy().into_owned();
        let out = slth(
            &[
                "attack",
                &text_file,
                "--json",
                "--point-out",
                point_json.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        let report: Value = serde_json::from_str(out.stdout.trim()).unwrap();
        let certificate: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();

        let epsilon = number(certificate["bound"]["epsilon"].as_str().unwrap());
        assert_eq!(report["certified_epsilon"], certificate["bound"]["epsilon"]);
        let lower_squared = exact(&report["lower_bound_squared"]);
        assert!(
            lower_squared.is_positive(),
            "{name}: the attack found nothing"
        );
        assert!(
            lower_squared <= square(&epsilon),
            "{name}: lower bound above epsilon"
        );
        assert_eq!(report["exceeds_epsilon"], false);
        let lower = number(report["lower_bound"].as_str().unwrap());
        assert!(
            square(&lower) <= lower_squared,
            "{name}: decimal rounded up"
        );

        // The point: the file, the report and the .npy agree, and it lies in the domain.
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(&point_json).unwrap()).unwrap();
        assert_eq!(written, report["point"], "{name}");
        let x: Vec<BigRational> = written.as_array().unwrap().iter().map(exact).collect();
        assert_eq!(
            x.len() as u64,
            certificate["target"]["input_dim"].as_u64().unwrap()
        );
        let radius = number(certificate["domain"]["radius"].as_str().unwrap());
        assert!(
            norm_squared(&x) <= square(&radius),
            "{name}: outside the ball"
        );
        if certificate["domain"]["nonnegative"] == true {
            assert!(
                x.iter().all(|v| !v.is_negative()),
                "{name}: outside the orthant"
            );
        }
        assert_eq!(
            squared_error(&certificate, &x),
            lower_squared,
            "{name}: the exact error at the written point differs"
        );

        let out = slth(
            &[
                "attack",
                &text_file,
                "--quiet",
                "--point-out",
                point_npy.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(out.code, 0, "{name}: {}", out.stderr);
        let row = read_npy_row(&point_npy);
        let from_npy: Vec<BigRational> = row
            .iter()
            .map(|v| BigRational::from_float(*v).unwrap())
            .collect();
        assert_eq!(from_npy, x, "{name}: the .npy point is not the point");

        let sampling = exact(&report["sampling"]["best_squared"]);
        assert!(
            lower_squared >= sampling,
            "{name}: sampling found more than the attack"
        );
        assert_eq!(report["sampling"]["points"], report["evaluations"]);
        eprintln!(
            "{name}: lower {} (sampling {}), epsilon {}",
            report["lower_bound"], report["sampling"]["best"], report["certified_epsilon"]
        );

        // A homogenized target: the point in the user's coordinates, (x, 1) recomputed.
        if let Some(user) = report["homogenized"].as_object() {
            let scale = exact(&user["scale"]);
            assert_eq!(&scale, x.last().unwrap());
            let mut lifted: Vec<BigRational> = user["point"]
                .as_array()
                .unwrap()
                .iter()
                .map(exact)
                .collect();
            for (u, z) in lifted.iter().zip(&x) {
                assert_eq!(u * &scale, *z);
            }
            lifted.push(BigRational::one());
            let error = squared_error(&certificate, &lifted);
            assert_eq!(error, exact(&user["error_squared"]));
            assert_eq!(error, &lower_squared / square(&scale), "homogeneity");
        }
    }
}

/// The same bytes on two runs, and on one thread as on two.
#[test]
fn the_report_is_deterministic_whatever_the_threads() {
    for file in [
        "certificates/random-8-8-8-1-subset-sum.json",
        "certificates/deep-linear-output-subset-sum.json",
    ] {
        let run = |threads: &str| {
            let out = slth(
                &["attack", file, "--json", "--seed", "7"],
                &[("RAYON_NUM_THREADS", threads)],
            );
            assert_eq!(out.code, 0, "{file}: {}", out.stderr);
            out.stdout
        };
        let one = run("1");
        assert_eq!(one, run("1"), "{file}: two runs differ");
        assert_eq!(one, run("2"), "{file}: 1 and 2 threads differ");
        let text =
            |threads: &str| slth(&["attack", file], &[("RAYON_NUM_THREADS", threads)]).stdout;
        assert_eq!(text("1"), text("2"), "{file}: the text report differs");
    }
}

/// Every failure is one line on stderr that names what and where, with the exit code of the
/// other commands (1 for a certificate that is wrong, 2 for unusable input).
#[test]
fn bad_inputs_fail_in_one_line() {
    let scratch = Scratch::new("bad");
    let not_json = scratch.path("not-json.json");
    std::fs::write(&not_json, "this is not JSON").unwrap();
    let missing = scratch.path("missing.json");
    let unwritable = scratch.path("no-such-folder/point.json");
    let cases: Vec<(Vec<String>, i32, Vec<String>)> = vec![
        (
            vec![missing.display().to_string()],
            2,
            vec![missing.display().to_string()],
        ),
        (
            vec![not_json.display().to_string()],
            2,
            vec![not_json.display().to_string()],
        ),
        (
            vec!["certificates/invalid/zero-layers.json".into()],
            1,
            vec!["zero-layers.json".into(), "target.layers".into()],
        ),
        (
            vec!["certificates/invalid/hidden-input-out-of-range.json".into()],
            1,
            vec!["hidden-input-out-of-range.json".into(), "ticket[".into()],
        ),
        (
            vec![
                "certificates/tiny-3-2-1.json".into(),
                "--starts".into(),
                "0".into(),
            ],
            2,
            vec!["--starts".into()],
        ),
        (
            vec![
                "certificates/tiny-3-2-1.json".into(),
                "--seed".into(),
                "x".into(),
            ],
            2,
            vec!["--seed".into()],
        ),
        (
            vec![
                "certificates/tiny-3-2-1.json".into(),
                "--point-out".into(),
                unwritable.display().to_string(),
            ],
            2,
            vec![unwritable.display().to_string()],
        ),
    ];
    for (args, code, named) in cases {
        let mut all = vec!["attack"];
        all.extend(args.iter().map(String::as_str));
        let out = slth(&all, &[]);
        let shown = format!("slth {}: exit {}\n{}", all.join(" "), out.code, out.stderr);
        assert_eq!(out.code, code, "{shown}");
        assert_eq!(out.stderr.lines().count(), 1, "{shown}");
        assert!(out.stderr.starts_with("slth: "), "{shown}");
        assert!(!out.stderr.contains("panicked"), "{shown}");
        for word in named {
            assert!(out.stderr.contains(&word), "{shown}\n(should name {word})");
        }
    }
}

/// A certificate whose epsilon is below the real error is caught: the report says so and
/// the exit code is 1, like `eval` on a counterexample.
#[test]
fn a_false_epsilon_is_disproven() {
    let scratch = Scratch::new("false");
    let text = std::fs::read_to_string(root().join("certificates/tiny-3-2-1.json")).unwrap();
    let epsilon = "\"epsilon\": \"488329/10000000\"";
    assert!(text.contains(epsilon));
    let lowered = scratch.path("lowered.json");
    std::fs::write(&lowered, text.replace(epsilon, "\"epsilon\": \"1/50\"")).unwrap();
    let out = slth(&["attack", lowered.to_str().unwrap(), "--json"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(report["exceeds_epsilon"], true);
    assert!(exact(&report["lower_bound_squared"]) > square(&number("1/50")));
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("the certificate is false"),
        "{}",
        out.stderr
    );
}
