//! The certify -> verify -> eval -> inspect round trip on the tiny and a random target, and
//! the widths a certificate is made with.

use super::*;

#[test]
fn demo_certifies_and_verifies() {
    let run = slth(&["demo"]);
    run.expect(EXIT_VALID);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("VALID: for every x")),
        "{}",
        run.show()
    );
    assert!(!run.stdout.contains("INVALID"), "{}", run.show());
}

#[test]
fn round_trip_on_the_tiny_target() {
    let scratch = Scratch::new("round_trip_tiny");
    let certificate = round_trip(
        &scratch,
        "tiny.json",
        TINY_TARGET,
        &["--epsilon", TINY_EPSILON, "--seed", TINY_SEED],
    );
    assert_eq!(certificate["domain"]["radius"], "1");
    assert_eq!(certificate["domain"]["nonnegative"], false);
}

#[test]
fn certify_without_output_writes_the_certificate_to_stdout() {
    let scratch = Scratch::new("stdout");
    let file = path_text(&scratch.path("file.json"));
    let options = ["--epsilon", "1/10", "--seed", "5"];
    let mut to_file = vec!["certify", TINY_TARGET, "-o", &file];
    to_file.extend_from_slice(&options);
    slth(&to_file).expect(EXIT_VALID);
    let mut to_stdout = vec!["certify", TINY_TARGET];
    to_stdout.extend_from_slice(&options);
    let run = slth(&to_stdout);
    run.expect(EXIT_VALID);
    assert_eq!(run.stdout, std::fs::read_to_string(&file).unwrap());
    assert!(
        run.stdout
            .starts_with("{\n  \"format\": \"slth-certificate\""),
        "{}",
        run.show()
    );
    // The summary goes to stderr, so stdout stays a certificate.
    assert!(
        run.stderr.starts_with("certified epsilon "),
        "{}",
        run.show()
    );
}

#[test]
fn round_trip_on_a_random_target_with_options() {
    let scratch = Scratch::new("round_trip_random");
    let target = path_text(&scratch.path("target.json"));
    slth(&[
        "random-target",
        "--dims",
        "4,5,3",
        "--seed",
        "11",
        "-o",
        &target,
    ])
    .expect(EXIT_VALID);
    let network = read_json(Path::new(&target));
    assert_eq!(network["format"], "slth-network");
    assert_eq!(network["input_dim"], 4);
    assert_eq!(network["layers"].as_array().map(Vec::len), Some(2));

    for (k, construction) in CONSTRUCTIONS.iter().enumerate() {
        let file = |name: &str| format!("{k}-{name}.json");
        let mut base = vec!["--epsilon", "0.1", "--seed", "3"];
        base.extend_from_slice(construction);
        let plain = round_trip(&scratch, &file("plain"), &target, &base);

        let mut options = base.clone();
        options.push("--nonnegative");
        let nonnegative = round_trip(&scratch, &file("nonnegative"), &target, &options);
        assert_eq!(nonnegative["domain"]["nonnegative"], true);
        // Block 1 needs paths for U > 0 only on the orthant, so it keeps fewer edges.
        let kept = |c: &Value| {
            c["ticket"][0]["output"]
                .as_array()
                .map(Vec::len)
                .expect("output")
        };
        assert!(
            kept(&nonnegative) < kept(&plain),
            "{construction:?}: nonnegative keeps {} block-1 edges, signed {}",
            kept(&nonnegative),
            kept(&plain)
        );

        let mut options = base.clone();
        options.extend_from_slice(&["--radius", "2"]);
        let radius_two = round_trip(&scratch, &file("radius2"), &target, &options);
        assert_eq!(radius_two["domain"]["radius"], "2");

        // A fixed width above what the search used works and is written as given.
        let fixed: Vec<u64> = widths_of(&plain).iter().map(|w| w + 17).collect();
        let fixed_text = fixed
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut options = base.clone();
        options.extend_from_slice(&["--width", &fixed_text]);
        let wide = round_trip(&scratch, &file("fixed-width"), &target, &options);
        assert_eq!(widths_of(&wide), fixed);
    }
}

/// The default construction, and pairs (Malach et al.) chosen explicitly.
const CONSTRUCTIONS: &[&[&str]] = &[&[], &["--construction", "pairs"]];

/// A width far above what either construction needs for the tiny target.
const AMPLE_WIDTH: &str = "100000";

fn certify_tiny_with_widths(construction: &[&str], widths: &str, output: Option<&str>) -> Run {
    let mut args = vec![
        "certify",
        TINY_TARGET,
        "--epsilon",
        TINY_EPSILON,
        "--seed",
        TINY_SEED,
        "--width",
        widths,
    ];
    args.extend_from_slice(construction);
    if let Some(path) = output {
        args.extend_from_slice(&["-o", path]);
    }
    slth(&args)
}

#[test]
fn a_too_small_width_names_the_block_and_the_width_it_needs() {
    let scratch = Scratch::new("too_small_width");
    for construction in CONSTRUCTIONS {
        let run = certify_tiny_with_widths(construction, &format!("1,{AMPLE_WIDTH}"), None);
        run.expect(EXIT_USAGE);
        assert!(run.stdout.is_empty(), "{}", run.show());
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
        assert!(
            run.stderr.contains("block 1: --width 1 is too small"),
            "{}",
            run.show()
        );
        let needed: u64 = run
            .stderr
            .split("needs width ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no needed width: {}", run.show()));
        assert!(needed > 1, "{}", run.show());

        // The width the message names is enough for that block.
        let out = path_text(&scratch.path("needed.json"));
        certify_tiny_with_widths(construction, &format!("{needed},{AMPLE_WIDTH}"), Some(&out))
            .expect(EXIT_VALID);
        let widths = widths_of(&read_json(Path::new(&out)));
        assert_eq!(widths, vec![needed, AMPLE_WIDTH.parse().unwrap()]);
        slth(&["verify", &out]).expect(EXIT_VALID);

        let run = certify_tiny_with_widths(construction, &format!("{AMPLE_WIDTH},1"), None);
        run.expect(EXIT_USAGE);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
        assert!(
            run.stderr.contains("block 2: --width 1 is too small"),
            "{}",
            run.show()
        );
        assert!(run.stderr.contains("needs width "), "{}", run.show());
    }
}
