//! What a new user meets at the command line (issue 14): clap's whole message in one line,
//! negative option values, `-o -`, the output folder checked before the work, help for
//! every argument, options that do not apply, the demo's certified epsilon.

use super::*;
use clap::CommandFactory;

fn certify_tiny(extra: &[&str]) -> Run {
    let mut args = vec!["certify", TINY_TARGET, "--epsilon", "0.05", "--seed", "1"];
    args.extend_from_slice(extra);
    slth(&args)
}

fn assert_usage(run: &Run, fragments: &[&str]) {
    run.expect(EXIT_USAGE);
    assert!(run.stderr.starts_with("slth: "), "{}", run.show());
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.show());
    for fragment in fragments {
        assert!(
            run.stderr.contains(fragment),
            "lacks {fragment:?}: {}",
            run.show()
        );
    }
}

#[test]
fn clap_messages_name_the_missing_argument_and_keep_suggestions() {
    assert_usage(
        &slth(&["certify", TINY_TARGET, "--epsilon", "0.05"]),
        &["not provided", "--seed <SEED>"],
    );
    assert_usage(
        &slth(&["certify", TINY_TARGET, "--seed", "1"]),
        &["--epsilon <EPSILON>", "--tolerance <TOLERANCE>"],
    );
    assert_usage(
        &slth(&["verfy", TINY_CERTIFICATE]),
        &["'verfy'", "'verify'"],
    );
    assert_usage(&certify_tiny(&["--nonegative"]), &["'--nonnegative'"]);
}

#[test]
fn negative_option_values_get_the_real_error() {
    let run = slth(&["certify", TINY_TARGET, "--epsilon", "-0.05", "--seed", "1"]);
    assert_usage(&run, &["--epsilon", "positive", "-1/20"]);
    assert!(
        !run.stderr.contains("unexpected argument"),
        "{}",
        run.show()
    );
    let run = slth(&[
        "certify",
        TINY_TARGET,
        "--tolerance",
        "-1/10",
        "--seed",
        "1",
    ]);
    assert_usage(&run, &["--tolerance"]);
    assert!(
        !run.stderr.contains("unexpected argument"),
        "{}",
        run.show()
    );
    let run = certify_tiny(&["--radius", "-1"]);
    assert_usage(&run, &["--radius", ">= 0"]);
}

#[test]
fn dash_writes_to_stdout() {
    let scratch = Scratch::new("dash");
    let run = slth(&[
        "certify",
        TINY_TARGET,
        "--epsilon",
        TINY_EPSILON,
        "--seed",
        TINY_SEED,
        "-o",
        "-",
    ]);
    run.expect(EXIT_VALID);
    assert!(!root().join("-").exists(), "a file named - was written");
    let file = scratch.path("cert.json");
    let args = [
        "certify",
        TINY_TARGET,
        "--epsilon",
        TINY_EPSILON,
        "--seed",
        TINY_SEED,
    ];
    let mut to_file = args.to_vec();
    to_file.extend(["-o", file.to_str().unwrap()]);
    slth(&to_file).expect(EXIT_VALID);
    assert_eq!(run.stdout, std::fs::read_to_string(&file).unwrap());
    assert!(run.stdout.contains("\"format\": \"slth-certificate\""));
    let run = slth(&["random-target", "--dims", "2,2,1", "--seed", "3", "-o", "-"]);
    run.expect(EXIT_VALID);
    assert!(run.stdout.contains("\"input_dim\": 2"), "{}", run.show());
    drop(scratch);
}

#[test]
fn the_output_folder_is_checked_before_the_work() {
    let scratch = Scratch::new("output_folder");
    let missing = path_text(&scratch.path("no-such-folder").join("cert.json"));
    for run in [
        certify_tiny(&["-o", &missing]),
        slth(&[
            "random-target",
            "--dims",
            "2,1",
            "--seed",
            "1",
            "-o",
            &missing,
        ]),
        slth(&["export", TINY_CERTIFICATE, "-o", &missing]),
    ] {
        assert_usage(&run, &["cannot write here", "does not exist"]);
        assert!(run.stdout.is_empty(), "{}", run.show());
    }
    let folder = path_text(&scratch.0);
    assert_usage(&certify_tiny(&["-o", &folder]), &["is a directory"]);
    // The check leaves nothing behind.
    assert_eq!(std::fs::read_dir(&scratch.0).unwrap().count(), 0);
}

#[test]
fn every_argument_has_help() {
    let command = slth::cli::Cli::command();
    let mut missing = Vec::new();
    for sub in command.get_subcommands() {
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{} {id}", sub.get_name()));
            }
        }
    }
    assert!(missing.is_empty(), "arguments without help: {missing:?}");
}

#[test]
fn options_that_do_not_apply_are_refused() {
    assert_usage(
        &certify_tiny(&["--construction", "pairs", "--pool", "3"]),
        &["--pool", "subset-sum construction only"],
    );
    assert_usage(
        &certify_tiny(&["--max-width", "1000"]),
        &["--max-width", "pairs only"],
    );
    // Where they apply they are taken.
    certify_tiny(&["--construction", "pairs", "--max-width", "100000"]).expect(EXIT_VALID);
    certify_tiny(&["--pool", "10"]).expect(EXIT_VALID);
}

#[test]
fn the_demo_prints_the_certified_epsilon() {
    let run = slth(&["demo"]);
    run.expect(EXIT_VALID);
    // "VALID: ... <= 51657/2000000 (~0.0258285)" and "... below the certified 2.583e-2."
    let after = |label: &str, end: char| -> f64 {
        let at = run
            .stdout
            .find(label)
            .unwrap_or_else(|| panic!("no {label:?}: {}", run.show()));
        let rest = &run.stdout[at + label.len()..];
        rest[..rest.find(end).unwrap()]
            .trim_end_matches('.')
            .parse()
            .unwrap()
    };
    let certified = after("(~", ')');
    let said = after("below the certified ", '\n');
    assert!(
        (said - certified).abs() <= 1e-3 * certified,
        "said {said}, certified {certified}: {}",
        run.show()
    );
    assert!(
        certified < 0.05,
        "the demo certifies below the requested 1/20"
    );
}

#[test]
fn certify_and_inspect_print_one_json_object() {
    let scratch = Scratch::new("json");
    let out = scratch.path("cert.json");
    let out_text = path_text(&out);
    let run = slth(&[
        "certify",
        TINY_TARGET,
        "--epsilon",
        TINY_EPSILON,
        "--seed",
        TINY_SEED,
        "-o",
        &out_text,
        "--json",
    ]);
    run.expect(EXIT_VALID);
    assert_eq!(run.stdout.trim_end().lines().count(), 1, "{}", run.show());
    let summary: Value = serde_json::from_str(&run.stdout).unwrap();
    let certificate = read_json(&out);
    assert_eq!(summary["output"], out_text.as_str());
    assert_eq!(
        summary["epsilon"].as_str(),
        Some(epsilon_of(&certificate).as_str())
    );
    assert_eq!(summary["epsilon_requested"], "1/20");
    assert!(summary["epsilon_approx"].as_f64().unwrap() <= 0.05);
    assert_eq!(
        summary["hidden_widths"],
        Value::from(widths_of(&certificate))
    );
    let kept: usize = certificate["ticket"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hidden"].as_array().unwrap().len() + b["output"].as_array().unwrap().len())
        .sum();
    assert_eq!(summary["kept_weights"], kept);
    assert!(summary["seconds"].as_f64().unwrap() >= 0.0);

    // Without a file the certificate itself would be on stdout: refused.
    assert_usage(
        &slth(&[
            "certify",
            TINY_TARGET,
            "--epsilon",
            "0.05",
            "--seed",
            "1",
            "--json",
        ]),
        &["--output"],
    );
    assert_usage(
        &certify_tiny(&["--json", "-o", "-"]),
        &["--json", "give -o a file"],
    );

    let run = slth(&["inspect", "--json", &out_text]);
    run.expect(EXIT_VALID);
    let inspected: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(inspected["verified"], false);
    assert_eq!(inspected["epsilon"], summary["epsilon"]);
    assert_eq!(inspected["kept_weights"], kept);
    assert_eq!(inspected["dims"], serde_json::json!([3, 2, 1]));
    assert_eq!(inspected["blocks"].as_array().unwrap().len(), 2);
}
