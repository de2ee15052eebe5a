//! Every command's `--json` parses, and its fields agree with values computed here from the
//! certificate file and from the other fields (issue 14, item 4). Each run's stderr is
//! empty: no progress is drawn when stderr is not a terminal.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs slth in the repository root; its exit code, stdout parsed as JSON, and stderr.
fn json_of(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(SLTH)
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON value ({e}):\n{stdout}"));
    (out.status.code().unwrap_or(-1), value, stderr)
}

/// An exact rational from its text ("p/q" or an integer).
fn q(value: &Value) -> BigRational {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    match text.split_once('/') {
        Some((n, d)) => BigRational::new(n.parse().unwrap(), d.parse().unwrap()),
        None => BigRational::from_integer(text.parse::<BigInt>().unwrap()),
    }
}

fn certificate(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("certificates").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn approx(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

#[test]
fn verify_json_and_f64_json_agree_with_the_file() {
    let file = certificate("tiny-3-2-1.json");
    let (code, v, stderr) = json_of(&["verify", "certificates/tiny-3-2-1.json", "--json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(v["verdict"], "valid");
    assert_eq!(q(&v["epsilon"]), q(&file["bound"]["epsilon"]));
    assert_eq!(v["hidden_widths"], file["random_network"]["hidden_widths"]);
    assert_eq!(v["target_dims"], serde_json::json!([3, 2, 1]));
    let blocks = v["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2);
    for (block, claimed) in blocks
        .iter()
        .zip(file["bound"]["blocks"].as_array().unwrap())
    {
        assert_eq!(q(&block["error"]), q(&claimed["error"]));
        assert_eq!(q(&block["lipschitz"]), q(&claimed["lipschitz"]));
        // E_i's squared Frobenius norm under the claimed error, max deviation under both.
        let error = q(&claimed["error"]);
        assert!(q(&block["error_squared"]) <= &error * &error);
        assert!(q(&block["max_deviation"]) <= error);
    }
    assert!(q(&v["bound_value"]) <= q(&v["epsilon"]));

    let (code, f, stderr) = json_of(&["verify", "certificates/tiny-3-2-1.json", "--json", "--f64"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(f["exact_verdict"], "valid");
    assert_eq!(f["proof"], false);
    let exact = approx(&v["bound_value_approx"]);
    assert!((approx(&f["bound_value"]) - exact).abs() <= 1e-12 * exact);
    assert_eq!(approx(&f["epsilon"]), approx(&v["epsilon_approx"]));
}

#[test]
fn certify_and_inspect_json_describe_the_written_file() {
    let dir = std::env::temp_dir().join(format!("slth-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = dir.join("c.json");
    let output_text = output.to_str().unwrap();
    let (code, c, stderr) = json_of(&[
        "certify",
        "certificates/targets/tiny-3-2-1.json",
        "--epsilon",
        "1/2",
        "--seed",
        "1",
        "-o",
        output_text,
        "--json",
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(c["output"], output_text);
    assert_eq!(q(&c["epsilon"]), q(&written["bound"]["epsilon"]));
    assert_eq!(
        q(&c["epsilon_requested"]),
        BigRational::new(1.into(), 2.into())
    );
    assert!(q(&c["epsilon"]) <= q(&c["epsilon_requested"]));
    assert_eq!(
        c["hidden_widths"],
        written["random_network"]["hidden_widths"]
    );
    assert_eq!(c["seed"], written["random_network"]["seed"]);

    let (code, i, stderr) = json_of(&["inspect", output_text, "--json"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(q(&i["epsilon"]), q(&written["bound"]["epsilon"]));
    assert_eq!(i["dims"], serde_json::json!([3, 2, 1]));
    assert_eq!(
        i["hidden_widths"],
        written["random_network"]["hidden_widths"]
    );
    assert_eq!(i["kept_weights"], c["kept_weights"]);
    assert_eq!(i["verified"], false);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The guarantee of each input recomputed from its exact margin and the certified epsilon:
/// in the domain and m^2 > 2 epsilon^2 (m > 0); the summary's counts from the inputs.
#[test]
fn eval_json_gives_every_input_and_its_guarantee() {
    let (code, v, stderr) = json_of(&[
        "eval",
        "certificates/digits-64-32-10.json",
        "--inputs",
        "examples/digits/test_inputs.npy",
        "--labels",
        "examples/digits/test_labels.npy",
        "--json",
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let file = certificate("digits-64-32-10.json");
    let epsilon = q(&file["bound"]["epsilon"]);
    assert_eq!(q(&v["epsilon"]), epsilon);
    assert_eq!(v["mode"], "inputs");
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 540);
    let two_epsilon2 = BigRational::from_integer(2.into()) * &epsilon * &epsilon;
    let (mut guaranteed, mut agree, mut outside) = (0, 0, 0);
    for (k, input) in inputs.iter().enumerate() {
        assert_eq!(input["index"], k);
        let margin = q(&input["f"]["margin"]);
        let in_domain = input["in_domain"].as_bool().unwrap();
        let expected = in_domain && margin.is_positive() && &margin * &margin > two_epsilon2;
        assert_eq!(input["guaranteed"], expected, "input {k}");
        let agrees = input["f"]["class"] == input["g"]["class"];
        assert_eq!(input["agree"], agrees, "input {k}");
        assert_eq!(
            input["outside_domain_because"]
                .as_array()
                .unwrap()
                .is_empty(),
            in_domain
        );
        if in_domain {
            assert!(approx(&input["distance_approx"]) <= approx(&v["epsilon_approx"]));
        }
        guaranteed += usize::from(expected);
        agree += usize::from(agrees);
        outside += usize::from(!in_domain);
        assert!(!q(&input["g"]["margin"]).is_negative());
    }
    let summary = &v["summary"];
    assert_eq!(summary["inputs"], 540);
    assert_eq!(summary["guaranteed"], guaranteed);
    assert_eq!(summary["agree"], agree);
    assert_eq!(summary["outside_domain"], outside);
    assert!(guaranteed > 0);

    let (code, p, stderr) = json_of(&[
        "eval",
        "certificates/tiny-3-2-1.json",
        "--points",
        "40",
        "--json",
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(p["mode"], "points");
    assert_eq!(p["points"], 40);
    let epsilon = q(&certificate("tiny-3-2-1.json")["bound"]["epsilon"]);
    let max_squared = q(&p["max_squared_distance"]);
    assert_eq!(p["exceeds_epsilon"], max_squared > &epsilon * &epsilon);
    assert_eq!(p["exceeds_epsilon"], false);
    let distance = approx(&p["max_distance_approx"]);
    let squared = approx(&p["max_squared_distance_approx"]);
    assert!((distance * distance - squared).abs() <= 1e-12);
}

/// The attack's point lies in the domain and its exact error is below epsilon^2.
#[test]
fn attack_json_point_and_bracket_are_consistent() {
    let (code, a, stderr) = json_of(&[
        "attack",
        "certificates/tiny-3-2-1.json",
        "--json",
        "--starts",
        "20",
        "--steps",
        "20",
    ]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let epsilon = q(&a["certified_epsilon"]);
    assert_eq!(
        epsilon,
        q(&certificate("tiny-3-2-1.json")["bound"]["epsilon"])
    );
    let lower = q(&a["lower_bound_squared"]);
    assert!(lower <= &epsilon * &epsilon);
    assert_eq!(a["exceeds_epsilon"], false);
    let point: Vec<BigRational> = a["point"].as_array().unwrap().iter().map(q).collect();
    assert_eq!(point.len(), 3);
    let norm2 = point.iter().fold(BigRational::zero(), |s, x| s + x * x);
    assert!(norm2 <= q(&a["domain"]["radius"]).pow(2));
    assert_eq!(a["starts"], 20);
}
