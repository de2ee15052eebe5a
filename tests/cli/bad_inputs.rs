//! Bad inputs. Each case writes its input (if any) to `input.json`, runs the command with
//! `@input` and `@tiny` substituted, and expects the exit code and one stderr line that
//! contains every listed fragment; then the errors clap finds, and a width of 2^60 that must
//! cost nothing.

use super::*;

/// Not JSON at all (cut off in the middle).
const TRUNCATED_TARGET: &str = r#"{"input_dim": 3, "layers": [{"weights": [["1/2""#;
const TRUNCATED_CERTIFICATE: &str = "{\n  \"format\": \"slth-certificate\",\n  \"version\": 1,\n";
/// Row 1 of layer 0 has 2 entries where input_dim is 3.
const SHORT_ROW_TARGET: &str = r#"{"input_dim": 3, "layers": [
  {"weights": [["1/2", "0", "1/4"], ["1/4", "0"]], "activation": "relu"}]}"#;
const NO_LAYERS_TARGET: &str = r#"{"input_dim": 3, "layers": []}"#;
/// A zero-row first layer leaves input_dim free of the file's size.
const HUGE_INPUT_TARGET: &str =
    r#"{"input_dim": 1000000000000, "layers": [{"weights": [], "activation": "relu"}]}"#;
/// One product V*U of two weights in (-1, 1) cannot reach 3/2.
const THREE_HALVES_TARGET: &str = r#"{"input_dim": 2, "layers": [
  {"weights": [["1/4", "3/2"]], "activation": "relu"}]}"#;
/// A million-digit numerator: far beyond the 10,000-character limit of docs/FORMAT.md section 2.
const HUGE_DIGITS: usize = 1_000_000;
/// A width no machine could hold as a matrix; g stays lazy, so it must cost nothing.
const HUGE_WIDTH: u64 = 1 << 60;

fn huge_number() -> String {
    format!("{}/3", "7".repeat(HUGE_DIGITS))
}

fn huge_target() -> String {
    format!(
        r#"{{"input_dim": 1, "layers": [{{"weights": [["{}"]], "activation": "relu"}}]}}"#,
        huge_number()
    )
}

fn edited_certificate(edit: impl FnOnce(&mut Value)) -> String {
    let mut certificate = committed_tiny_certificate();
    edit(&mut certificate);
    serde_json::to_string_pretty(&certificate).unwrap()
}

fn huge_claim_certificate() -> String {
    edited_certificate(|c| c["bound"]["blocks"][0]["error"] = Value::String(huge_number()))
}

fn negative_index_certificate() -> String {
    edited_certificate(|c| c["ticket"][0]["hidden"][0][0] = Value::from(-1))
}

fn fractional_index_certificate() -> String {
    edited_certificate(|c| {
        c["ticket"][0]["hidden"][0][0] = serde_json::from_str("6.5").expect("a JSON float")
    })
}

fn huge_width_certificate() -> String {
    edited_certificate(|c| {
        c["random_network"]["hidden_widths"] = Value::from(vec![HUGE_WIDTH, HUGE_WIDTH])
    })
}

enum Input {
    None,
    Text(&'static str),
    Made(fn() -> String),
}

struct BadInput {
    name: &'static str,
    input: Input,
    args: &'static [&'static str],
    /// Accepted exit codes (one, except where the outcome is left to the verifier).
    codes: &'static [i32],
    /// Fragments the stderr line must contain (what, and where).
    mentions: &'static [&'static str],
}

const CERTIFY_INPUT: &[&str] = &["certify", INPUT, "--epsilon", "0.05", "--seed", "1"];
const VERIFY_INPUT: &[&str] = &["verify", INPUT];

const BAD_INPUTS: &[BadInput] = &[
    BadInput {
        name: "malformed JSON target",
        input: Input::Text(TRUNCATED_TARGET),
        args: CERTIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "not valid JSON", "line 1"],
    },
    BadInput {
        name: "malformed JSON certificate (verify)",
        input: Input::Text(TRUNCATED_CERTIFICATE),
        args: VERIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "not valid JSON"],
    },
    BadInput {
        name: "malformed JSON certificate (eval)",
        input: Input::Text(TRUNCATED_CERTIFICATE),
        args: &["eval", INPUT],
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "not valid JSON"],
    },
    BadInput {
        name: "malformed JSON certificate (inspect)",
        input: Input::Text(TRUNCATED_CERTIFICATE),
        args: &["inspect", INPUT],
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "not valid JSON"],
    },
    BadInput {
        name: "target row of the wrong length",
        input: Input::Text(SHORT_ROW_TARGET),
        args: CERTIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &[
            "input.json",
            "layers[0].weights[1]",
            "2 entries, expected 3",
        ],
    },
    BadInput {
        name: "target with input_dim 10^12 and no rows",
        input: Input::Text(HUGE_INPUT_TARGET),
        args: CERTIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "input_dim", "above the limit"],
    },
    BadInput {
        name: "target with zero layers",
        input: Input::Text(NO_LAYERS_TARGET),
        args: CERTIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "no layers"],
    },
    BadInput {
        name: "certificate with hidden width 2^60",
        input: Input::Made(huge_width_certificate),
        args: VERIFY_INPUT,
        codes: &[EXIT_VALID, EXIT_REJECTED],
        mentions: &[],
    },
    BadInput {
        name: "certificate with hidden width 2^60 (eval)",
        input: Input::Made(huge_width_certificate),
        args: &["eval", INPUT, "--points", "20"],
        codes: &[EXIT_VALID, EXIT_REJECTED],
        mentions: &[],
    },
    BadInput {
        name: "1 MB numerator in a target weight",
        input: Input::Made(huge_target),
        args: CERTIFY_INPUT,
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "layers[0].weights[0][0]", "exceeds the limit"],
    },
    BadInput {
        name: "1 MB numerator in a certificate claim",
        input: Input::Made(huge_claim_certificate),
        args: VERIFY_INPUT,
        codes: &[EXIT_REJECTED],
        mentions: &[
            "REFUSED",
            "input.json",
            "bound.blocks[0].error",
            "exceeds the limit",
        ],
    },
    BadInput {
        name: "negative index in a certificate",
        input: Input::Made(negative_index_certificate),
        args: VERIFY_INPUT,
        codes: &[EXIT_REJECTED],
        mentions: &["INVALID", "input.json", "-1", "line "],
    },
    BadInput {
        name: "non-integer index in a certificate",
        input: Input::Made(fractional_index_certificate),
        args: VERIFY_INPUT,
        codes: &[EXIT_REJECTED],
        mentions: &["INVALID", "input.json", "6.5", "line "],
    },
    BadInput {
        name: "--epsilon 0",
        input: Input::None,
        args: &["certify", TINY, "--epsilon", "0", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--epsilon", "positive"],
    },
    BadInput {
        name: "--epsilon -1",
        input: Input::None,
        args: &["certify", TINY, "--epsilon=-1", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--epsilon", "positive", "-1"],
    },
    BadInput {
        name: "--epsilon abc",
        input: Input::None,
        args: &["certify", TINY, "--epsilon", "abc", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--epsilon", "\"abc\""],
    },
    BadInput {
        name: "--epsilon NaN",
        input: Input::None,
        args: &["certify", TINY, "--epsilon", "NaN", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--epsilon", "\"NaN\""],
    },
    BadInput {
        name: "--epsilon 1/0",
        input: Input::None,
        args: &["certify", TINY, "--epsilon", "1/0", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--epsilon", "zero denominator"],
    },
    BadInput {
        name: "--radius -1",
        input: Input::None,
        args: &[
            "certify",
            TINY,
            "--epsilon",
            "0.05",
            "--seed",
            "1",
            "--radius=-1",
        ],
        codes: &[EXIT_USAGE],
        mentions: &["--radius"],
    },
    BadInput {
        name: "target weight 3/2 (pairs)",
        input: Input::Text(THREE_HALVES_TARGET),
        args: &[
            "certify",
            INPUT,
            "--epsilon",
            "0.05",
            "--seed",
            "1",
            "--construction",
            "pairs",
        ],
        codes: &[EXIT_USAGE],
        mentions: &["input.json", "|w| >= 1", "W_1[0][1]"],
    },
    BadInput {
        name: "--width with one entry for two layers",
        input: Input::None,
        args: &[
            "certify",
            TINY,
            "--epsilon",
            "0.05",
            "--seed",
            "1",
            "--width",
            "500",
        ],
        codes: &[EXIT_USAGE],
        mentions: &["--width", "1 widths", "2 layers"],
    },
    BadInput {
        name: "missing target file",
        input: Input::None,
        args: &[
            "certify",
            "no-such-target.json",
            "--epsilon",
            "0.05",
            "--seed",
            "1",
        ],
        codes: &[EXIT_USAGE],
        mentions: &["no-such-target.json"],
    },
    BadInput {
        name: "missing certificate file (verify)",
        input: Input::None,
        args: &["verify", "no-such-certificate.json"],
        codes: &[EXIT_USAGE],
        mentions: &["no-such-certificate.json"],
    },
    BadInput {
        name: "missing certificate file (eval)",
        input: Input::None,
        args: &["eval", "no-such-certificate.json"],
        codes: &[EXIT_USAGE],
        mentions: &["no-such-certificate.json"],
    },
    BadInput {
        name: "missing certificate file (inspect)",
        input: Input::None,
        args: &["inspect", "no-such-certificate.json"],
        codes: &[EXIT_USAGE],
        mentions: &["no-such-certificate.json"],
    },
    BadInput {
        name: "--seed not a number (certify)",
        input: Input::None,
        args: &["certify", TINY, "--epsilon", "0.05", "--seed", "forty-two"],
        codes: &[EXIT_USAGE],
        mentions: &["--seed", "\"forty-two\""],
    },
    BadInput {
        name: "--seed not a number (random-target)",
        input: Input::None,
        args: &["random-target", "--dims", "3,2", "--seed", "0x2a"],
        codes: &[EXIT_USAGE],
        mentions: &["--seed", "\"0x2a\""],
    },
    BadInput {
        name: "--seed not a number (eval)",
        input: Input::None,
        args: &["eval", TINY_CERTIFICATE, "--seed", "1.5"],
        codes: &[EXIT_USAGE],
        mentions: &["--seed", "\"1.5\""],
    },
    BadInput {
        name: "random-target --dims 3",
        input: Input::None,
        args: &["random-target", "--dims", "3", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--dims"],
    },
    BadInput {
        name: "random-target --dims 3,0",
        input: Input::None,
        args: &["random-target", "--dims", "3,0", "--seed", "1"],
        codes: &[EXIT_USAGE],
        mentions: &["--dims", "entry 1 is 0"],
    },
];

/// Seconds within which every bad input must be decided (the 2^60 width included).
const BAD_INPUT_SECONDS: f64 = 10.0;

#[test]
fn bad_inputs_fail_with_one_line_that_names_the_place() {
    let scratch = Scratch::new("bad_inputs");
    let tiny = path_text(&root().join(TINY_TARGET));
    let mut failures = Vec::new();
    for case in BAD_INPUTS {
        let input = match &case.input {
            Input::None => None,
            Input::Text(text) => Some(scratch.write("input.json", text)),
            Input::Made(make) => Some(scratch.write("input.json", &make())),
        };
        let args: Vec<String> = case
            .args
            .iter()
            .map(|&a| match a {
                INPUT => path_text(input.as_deref().expect("the case writes an input")),
                TINY => tiny.clone(),
                other => other.to_string(),
            })
            .collect();
        let run = slth(&args);
        let mut problems = Vec::new();
        if !case.codes.contains(&run.code) {
            problems.push(format!("exit {} not in {:?}", run.code, case.codes));
        }
        if run.stderr.contains("panicked") {
            problems.push("panicked".to_string());
        }
        if run.elapsed.as_secs_f64() > BAD_INPUT_SECONDS {
            problems.push(format!("took {:.1}s", run.elapsed.as_secs_f64()));
        }
        if run.code != EXIT_VALID {
            if run.stderr.lines().count() != 1 {
                problems.push(format!("{} stderr lines", run.stderr.lines().count()));
            }
            if !run.stderr.starts_with("slth: ") {
                problems.push("stderr does not start with \"slth: \"".to_string());
            }
            if run.stderr.len() > 1000 {
                problems.push(format!("stderr of {} bytes", run.stderr.len()));
            }
            for fragment in case.mentions {
                if !run.stderr.contains(fragment) {
                    problems.push(format!("stderr lacks {fragment:?}"));
                }
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                case.name,
                problems.join("; "),
                run.show()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Errors clap itself finds (a value that looks like a flag, a non-number where a number is
/// parsed): exit 2, no panic, and one line like every other error.
const CLAP_USAGE_ERRORS: &[&[&str]] = &[
    &["certify", TINY_TARGET, "--epsilon", "-1", "--seed", "1"],
    &["certify", TINY_TARGET, "--epsilon", "0.05", "--seed", "-1"],
    &[
        "certify",
        TINY_TARGET,
        "--epsilon",
        "0.05",
        "--seed",
        "1",
        "--width",
        "x,2",
    ],
    &["certify", TINY_TARGET, "--seed", "1"],
    &["random-target", "--dims", "3,x", "--seed", "1"],
    &["eval", TINY_CERTIFICATE, "--points", "-5"],
    &["verify"],
    &["no-such-command"],
];

#[test]
fn argument_errors_found_by_clap_exit_2() {
    for args in CLAP_USAGE_ERRORS {
        let run = slth(args);
        run.expect(EXIT_USAGE);
        assert!(run.stdout.is_empty(), "{}", run.show());
        assert!(run.stderr.starts_with("slth: "), "{}", run.show());
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.show());
    }
}

#[test]
fn a_huge_width_certificate_is_verified_without_allocating_it() {
    let scratch = Scratch::new("huge_width");
    let path = path_text(&scratch.write("wide.json", &huge_width_certificate()));
    let run = slth(&["verify", "--json", &path]);
    // The kept weights and claims are those of the committed certificate and every index is
    // below 2^60, so the certificate meets the spec and must be accepted (docs/FORMAT.md section 7).
    run.expect(EXIT_VALID);
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(
        report["hidden_widths"],
        Value::from(vec![HUGE_WIDTH, HUGE_WIDTH])
    );
    assert_eq!(
        report["epsilon"].as_str(),
        Some(epsilon_of(&committed_tiny_certificate()).as_str())
    );
    assert!(
        run.elapsed.as_secs_f64() < BAD_INPUT_SECONDS,
        "{}",
        run.show()
    );
}
