//! `slth report` and `slth sweep` end to end on small committed certificates and targets:
//! the SVG is one well-formed `<svg>` document holding the expected series; `--json`
//! parses and its numbers agree with the certificate, recomputed here with exact rationals
//! from the certificate's text (the oracle's number reader and `num-rational`, nothing of
//! slth); the sweep's rows agree with `slth certify` run on its own; the same inputs give
//! the same bytes; bad inputs fail in one line with exit 2.

mod common;

use common::run::{Output, run};
use num_rational::BigRational;
use num_traits::Zero;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");
const TIMEOUT: Duration = Duration::from_secs(300);
const TINY: &str = "certificates/tiny-3-2-1.json";
const TINY_V2: &str = "certificates/v2/tiny-3-2-1.json";
const TINY_TARGET: &str = "certificates/targets/tiny-3-2-1.json";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn slth(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    run(SLTH, &args, &[], &root(), TIMEOUT)
}

fn ok(run: &Output) {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

/// A failure: exit 2 and one line on stderr that contains every word of `words`.
fn usage(run: &Output, words: &[&str]) {
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    for word in words {
        assert!(run.stderr.contains(word), "{word:?} not in {}", run.stderr);
    }
}

/// A temporary folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("slth-figures-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn number(text: &str) -> BigRational {
    slth_oracle::parse_rational(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
}

fn exact(value: &Value) -> BigRational {
    number(
        value
            .as_str()
            .unwrap_or_else(|| panic!("{value} is not a string")),
    )
}

fn read_json(path: impl AsRef<Path>) -> Value {
    let path = root().join(path);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// An SVG document: one `<svg ...>` element, closed at the end, with balanced tags.
fn check_svg(text: &str, names: &[&str]) {
    let body = text.trim();
    assert!(body.starts_with("<svg"), "{}", &body[..body.len().min(80)]);
    assert!(body.ends_with("</svg>"));
    let opened = body.matches("<text").count();
    assert_eq!(opened, body.matches("</text>").count(), "unbalanced <text>");
    assert_eq!(body.matches("<svg").count(), 1);
    for name in names {
        assert!(text.contains(name), "{name:?} not in the SVG");
    }
}

/// The report's numbers recomputed from the certificate's text: c_i, L_i, the chain e_i,
/// each block's part `c_i r L_1..L_(i-1) (L_(i+1) + c_(i+1))..(L_l + c_l)`, and the terms.
fn check_report(certificate: &Value, report: &Value) {
    let blocks = certificate["bound"]["blocks"].as_array().unwrap();
    let r = exact(&certificate["domain"]["radius"]);
    let claims: Vec<(BigRational, BigRational)> = blocks
        .iter()
        .map(|b| (exact(&b["error"]), exact(&b["lipschitz"])))
        .collect();
    let rows = report["blocks"].as_array().unwrap();
    assert_eq!(rows.len(), claims.len());
    let (mut a, mut e) = (r.clone(), BigRational::zero());
    let mut parts = BigRational::zero();
    for (i, (c, l)) in claims.iter().enumerate() {
        e = c * (&a + &e) + l * &e;
        a = l * &a;
        let before: BigRational = claims[..i].iter().map(|x| x.1.clone()).product();
        let after: BigRational = claims[i + 1..].iter().map(|x| &x.0 + &x.1).product();
        let part = c * &r * before * after;
        let row = &rows[i];
        assert_eq!(exact(&row["error"]), *c);
        assert_eq!(exact(&row["lipschitz"]), *l);
        assert_eq!(exact(&row["propagated"]), e, "e_{}", i + 1);
        assert_eq!(exact(&row["contribution"]), part, "block {}", i + 1);
        parts += part;
        let ticket = &certificate["ticket"][i];
        let kept =
            ticket["hidden"].as_array().unwrap().len() + ticket["output"].as_array().unwrap().len();
        assert_eq!(row["kept_weights"], kept);
        let widths = &certificate["random_network"]["hidden_widths"];
        assert_eq!(row["hidden_width"], widths[i]);
    }
    assert_eq!(exact(&report["chain_bound"]), e);
    assert_eq!(parts, e, "the parts add up to e_l");
    assert_eq!(
        exact(&report["epsilon"]),
        exact(&certificate["bound"]["epsilon"])
    );
    match certificate["bound"].get("terms") {
        Some(terms) => {
            let sum: BigRational = terms
                .as_array()
                .unwrap()
                .iter()
                .map(|t| exact(&t["lipschitz"]))
                .sum();
            assert_eq!(exact(&report["terms_bound"]), &r * sum);
        }
        None => assert!(report["terms_bound"].is_null()),
    }
    match certificate["bound"].get("joint") {
        Some(joint) => {
            assert_eq!(
                exact(&report["joint_bound"]),
                &r * exact(&joint["lipschitz"])
            );
        }
        None => assert!(report["joint_bound"].is_null()),
    }
}

#[test]
fn report_draws_and_its_numbers_agree_with_the_certificate() {
    let scratch = Scratch::new("report");
    for (file, v2) in [
        (TINY, false),
        (TINY_V2, true),
        ("certificates/random-8-8-8-1-subset-sum.json", false),
        ("certificates/v2/random-8-8-8-1-joint.json", false),
    ] {
        let svg = scratch.path("report.svg");
        let run = slth(&["report", file, "-o", &svg, "--json"]);
        ok(&run);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        check_report(&read_json(file), &report);
        let text = std::fs::read_to_string(&svg).unwrap();
        let mut names = vec![
            "c_i (block error)",
            "L_i (Lipschitz)",
            "e_i (chain bound)",
            "block 1",
            "block 2",
            "certified epsilon",
            "Pensia et al.",
            "Malach et al.",
            "Kept weights",
            "hidden edges",
        ];
        if v2 {
            names.extend(["lambda_i (v2 term)", "terms (v2)"]);
        }
        if file.ends_with("-joint.json") {
            names.extend(["joint form (v2)", "r lambda = "]);
        }
        check_svg(&text, &names);
        // Same inputs, same bytes.
        let again = scratch.path("again.svg");
        let second = slth(&["report", file, "-o", &again, "--json"]);
        ok(&second);
        assert_eq!(std::fs::read(&svg).unwrap(), std::fs::read(&again).unwrap());
        assert_eq!(run.stdout, second.stdout);
    }
}

#[test]
fn report_draws_the_attack_bracket() {
    let scratch = Scratch::new("attack");
    let attack = slth(&["attack", TINY, "--json", "--starts", "40"]);
    ok(&attack);
    let saved = scratch.path("attack.json");
    std::fs::write(&saved, &attack.stdout).unwrap();
    let attack: Value = serde_json::from_str(&attack.stdout).unwrap();
    let svg = scratch.path("report.svg");
    let run = slth(&[
        "report",
        TINY,
        "--attack-json",
        &saved,
        "-o",
        &svg,
        "--json",
    ]);
    ok(&run);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["attack"]["lower_bound"], attack["lower_bound"]);
    let lower = number(attack["lower_bound"].as_str().unwrap());
    assert!(lower > BigRational::zero() && lower <= exact(&report["epsilon"]));
    check_svg(
        &std::fs::read_to_string(&svg).unwrap(),
        &["attack: proven lower bound", "Attack bracket"],
    );
    // Running the attack here gives a bracket too (seed 0, as `slth attack` by default).
    let run = slth(&["report", TINY, "--attack", "--json"]);
    ok(&run);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let lower = number(report["attack"]["lower_bound"].as_str().unwrap());
    assert!(lower > BigRational::zero() && lower <= exact(&report["epsilon"]));
    // An attack on another certificate is refused.
    usage(
        &slth(&[
            "report",
            "certificates/random-8-8-8-1.json",
            "--attack-json",
            &saved,
            "--json",
        ]),
        &["another certificate"],
    );
}

/// The CSV's rows as maps from the header's names.
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            header
                .iter()
                .map(|h| h.to_string())
                .zip(fields.iter().map(|f| f.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn sweep_writes_csv_json_and_svg_that_agree_with_certify() {
    let scratch = Scratch::new("sweep");
    let (csv, svg) = (scratch.path("sweep.csv"), scratch.path("sweep.svg"));
    let args = [
        "sweep",
        TINY_TARGET,
        "--epsilon",
        "0.1,1/20",
        "--seed",
        "42",
        "--csv",
        &csv,
        "-o",
        &svg,
        "--json",
    ];
    let run = slth(&args);
    ok(&run);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = csv_rows(&std::fs::read_to_string(&csv).unwrap());
    let expected = [
        ("1/10", "subset-sum"),
        ("1/10", "pairs"),
        ("1/20", "subset-sum"),
        ("1/20", "pairs"),
    ];
    assert_eq!(rows.len(), expected.len());
    for (k, (row, (epsilon, construction))) in rows.iter().zip(expected).enumerate() {
        assert_eq!(row["epsilon_requested"], epsilon);
        assert_eq!(row["construction"], construction);
        assert_eq!(row["status"], "certified");
        assert!(number(&row["epsilon_certified"]) <= number(epsilon));
        let out = scratch.path("cert.json");
        let certify = slth(&[
            "certify",
            TINY_TARGET,
            "--epsilon",
            epsilon,
            "--seed",
            "42",
            "--construction",
            construction,
            // The sweep reports the construction's claims, without the semidefinite search.
            "--claims",
            "spectral",
            "-o",
            &out,
        ]);
        ok(&certify);
        let certificate = read_json(&out);
        assert_eq!(
            number(&row["epsilon_certified"]),
            exact(&certificate["bound"]["epsilon"])
        );
        let widths: Vec<String> = certificate["random_network"]["hidden_widths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.to_string())
            .collect();
        assert_eq!(row["hidden_widths"], widths.join(";"));
        let kept: usize = certificate["ticket"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["hidden"].as_array().unwrap().len() + t["output"].as_array().unwrap().len())
            .sum();
        assert_eq!(row["kept_weights"], kept.to_string());
        assert_eq!(row["target_weights"], "8");
        let j = &json["rows"][k];
        assert_eq!(j["construction"], construction);
        assert_eq!(j["kept_weights"], kept);
        assert_eq!(
            exact(&j["epsilon_certified"]),
            number(&row["epsilon_certified"])
        );
    }
    check_svg(
        &std::fs::read_to_string(&svg).unwrap(),
        &[
            "subset sum: width of g",
            "pairs: width of g",
            "kept weights of g~",
            "Pensia et al.",
            "Malach et al.",
            "weights of the target f: 8",
        ],
    );
    // Same inputs, same bytes (times go to stderr only).
    let (csv2, svg2) = (scratch.path("again.csv"), scratch.path("again.svg"));
    let again = slth(&[
        "sweep",
        TINY_TARGET,
        "--epsilon",
        "0.1,1/20",
        "--seed",
        "42",
        "--csv",
        &csv2,
        "-o",
        &svg2,
        "--json",
    ]);
    ok(&again);
    assert_eq!(run.stdout, again.stdout);
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&csv2).unwrap());
    assert_eq!(std::fs::read(&svg).unwrap(), std::fs::read(&svg2).unwrap());
    // Without --csv and --json, the CSV goes to stdout.
    let plain = slth(&[
        "sweep",
        TINY_TARGET,
        "--epsilon",
        "0.1,1/20",
        "--seed",
        "42",
    ]);
    ok(&plain);
    assert_eq!(plain.stdout, std::fs::read_to_string(&csv).unwrap());
}

#[test]
fn a_construction_that_cannot_reach_a_target_is_a_failed_row() {
    // Pairs cannot carry a homogenized network's constant 1; subset sum can.
    let run = slth(&[
        "sweep",
        "examples/digits/model.safetensors",
        "--epsilon",
        "1",
        "--nonnegative",
        "--json",
    ]);
    if run.code != 0 {
        panic!("{}", run.stderr);
    }
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["rows"][0]["status"], "certified");
    assert_eq!(json["rows"][1]["status"], "failed");
    assert!(
        json["rows"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("pairs")
    );
}

#[test]
fn bad_inputs_fail_in_one_line() {
    let missing = "no-such-file.json";
    usage(&slth(&["report", missing, "--json"]), &[missing]);
    usage(&slth(&["report", TINY]), &["-o", "--json"]);
    usage(
        &slth(&["report", TINY, "--attack-json", missing, "--json"]),
        &[missing],
    );
    usage(&slth(&["sweep", missing, "--epsilon", "0.1"]), &[missing]);
    usage(
        &slth(&["sweep", TINY_TARGET, "--epsilon", ""]),
        &["--epsilon", "at least one"],
    );
    usage(
        &slth(&["sweep", TINY_TARGET, "--epsilon", ","]),
        &["--epsilon", "at least one"],
    );
    usage(
        &slth(&["sweep", TINY_TARGET, "--epsilon", "-0.05"]),
        &["--epsilon", "positive", "-0.05"],
    );
    usage(
        &slth(&["sweep", TINY_TARGET, "--epsilon", "0.1,-0.05"]),
        &["--epsilon", "positive"],
    );
    usage(
        &slth(&["sweep", TINY_TARGET, "--epsilon", "0.1,zero"]),
        &["--epsilon"],
    );
    usage(&slth(&["sweep", TINY_TARGET]), &["--epsilon"]);
    usage(
        &slth(&[
            "sweep",
            TINY_TARGET,
            "--epsilon",
            "0.1",
            "--csv",
            "/nonexistent-folder/x.csv",
        ]),
        &["nonexistent"],
    );
}

#[test]
fn the_committed_figures_regenerate_byte_for_byte() {
    // The commands of the README's "report and sweep: figures".
    let scratch = Scratch::new("regenerate");
    let (report, sweep, csv) = (
        scratch.path("report.svg"),
        scratch.path("sweep.svg"),
        scratch.path("sweep.csv"),
    );
    ok(&slth(&[
        "report",
        "certificates/v2/digits-64-32-10.json",
        "--attack",
        "-o",
        &report,
    ]));
    let args = [
        "sweep",
        "certificates/targets/random-8-8-8-1.json",
        "--epsilon",
        "0.2,0.1,0.05,0.02",
        "--seed",
        "7",
        "-o",
        &sweep,
        "--csv",
        &csv,
    ];
    ok(&slth(&args));
    for (made, committed) in [
        (report, "docs/report-digits.svg"),
        (sweep, "docs/sweep-random-8-8-8-1.svg"),
        (csv, "docs/sweep-random-8-8-8-1.csv"),
    ] {
        let committed_bytes = std::fs::read(root().join(committed)).unwrap();
        assert!(
            std::fs::read(&made).unwrap() == committed_bytes,
            "{committed} differs from what its command makes now: rerun the command in README.md"
        );
    }
}

#[test]
fn a_certificate_whose_numbers_are_zero_is_still_drawn() {
    // epsilon 0 makes Pensia et al.'s width infinite; every claim 0 makes empty ranges.
    let scratch = Scratch::new("zero");
    let mut certificate = read_json(TINY);
    for block in certificate["bound"]["blocks"].as_array_mut().unwrap() {
        block["error"] = "0".into();
    }
    certificate["bound"]["epsilon"] = "0".into();
    let file = scratch.path("zero.json");
    std::fs::write(&file, certificate.to_string()).unwrap();
    let svg = scratch.path("zero.svg");
    let run = slth(&["report", &file, "-o", &svg, "--json"]);
    ok(&run);
    check_svg(&std::fs::read_to_string(&svg).unwrap(), &["block 1"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["chain_bound"], "0");
}
