//! Exit codes: 0 for a valid certificate, 1 for a rejected one (tampered values, the
//! invalid examples, a resource limit just below the certificate), 2 for usage errors.

use super::*;

/// A certificate edited as JSON, written to the scratch folder.
fn tampered(scratch: &Scratch, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut certificate = committed_tiny_certificate();
    edit(&mut certificate);
    let text = serde_json::to_string_pretty(&certificate).unwrap();
    path_text(&scratch.write(name, &text))
}

/// `"p/q"` -> `"(p + delta)/q"`.
fn shift_numerator(value: &Value, delta: i64) -> Value {
    let text = value.as_str().expect("a rational string");
    let (p, q) = text.split_once('/').expect("p/q");
    let p: i64 = p.parse().expect("numerator");
    Value::String(format!("{}/{q}", p + delta))
}

#[test]
fn exit_codes_valid_rejected_usage() {
    let scratch = Scratch::new("exit_codes");
    slth(&["verify", TINY_CERTIFICATE]).expect(EXIT_VALID);

    let changed_value = tampered(&scratch, "value.json", |c| {
        let entry = &mut c["ticket"][0]["hidden"][0][2];
        *entry = shift_numerator(entry, 2);
    });
    let run = slth(&["verify", &changed_value]);
    run.expect(EXIT_REJECTED);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
    assert!(
        run.stderr.starts_with(&format!(
            "slth: INVALID: {changed_value}: ticket[0].hidden[0]: "
        )),
        "{}",
        run.show()
    );
    assert!(
        run.stderr.contains("differs from g's weight U_1["),
        "{}",
        run.show()
    );

    let changed_output = tampered(&scratch, "output.json", |c| {
        let entry = &mut c["ticket"][1]["output"][0][2];
        *entry = shift_numerator(entry, -2);
    });
    let run = slth(&["verify", &changed_output]);
    run.expect(EXIT_REJECTED);
    assert!(
        run.stderr.contains("ticket[1].output[0]: "),
        "{}",
        run.show()
    );
    assert!(run.stderr.contains("V_2["), "{}", run.show());

    let lowered = tampered(&scratch, "epsilon.json", |c| {
        c["bound"]["epsilon"] = Value::String("1/100".into());
    });
    let run = slth(&["verify", &lowered]);
    run.expect(EXIT_REJECTED);
    assert!(
        run.stderr
            .contains("bound.epsilon: claimed epsilon = 1/100"),
        "{}",
        run.show()
    );

    // --json reports the rejection on stdout as well.
    let run = slth(&["verify", "--json", &lowered]);
    run.expect(EXIT_REJECTED);
    let report: Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.show()));
    assert_eq!(report["verdict"], "invalid");
    assert_eq!(report["place"], "bound.epsilon");

    slth(&["verify", "certificates/no-such-certificate.json"]).expect(EXIT_USAGE);
}

#[test]
fn every_invalid_example_is_rejected_with_exit_1() {
    let dir = root().join("certificates/invalid");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // written by another stream of work; nothing to check yet
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for path in files {
        let shown = path_text(path.strip_prefix(root()).unwrap());
        let run = slth(&["verify", &shown]);
        run.expect(EXIT_REJECTED);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.show());
        // A number over --max-number-length is a resource limit: REFUSED, also exit 1.
        let label = if shown.ends_with("number-too-long.json") {
            "REFUSED (resource limit)"
        } else {
            "INVALID"
        };
        assert!(
            run.stderr.starts_with(&format!("slth: {label}: {shown}: ")),
            "{}",
            run.show()
        );
        assert!(!run.stdout.contains("VALID"), "{}", run.show());
        // eval and inspect do not verify, but must not crash on these either.
        for args in [
            vec!["eval", &shown, "--points", "5"],
            vec!["inspect", &shown],
        ] {
            let run = slth(&args);
            assert!(
                matches!(run.code, EXIT_VALID | EXIT_REJECTED | EXIT_USAGE),
                "{}",
                run.show()
            );
            assert!(!run.stderr.contains("panicked"), "{}", run.show());
        }
    }
}

/// Every resource-limit flag: just at the certificate's size it verifies, just below it the
/// certificate is refused with exit 1, one line naming the flag, and a JSON verdict.
#[test]
fn resource_limit_flags_refuse_just_below_the_certificate_and_accept_at_it() {
    // certificates/random-8-8-8-1.json: 3 layers of 8, 8, 1 rows over 8 inputs.
    let certificate = "certificates/random-8-8-8-1.json";
    let value = read_json(&root().join(certificate));
    let kept: usize = value["ticket"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["hidden"].as_array().unwrap().len() + b["output"].as_array().unwrap().len())
        .sum();
    let size = std::fs::metadata(root().join(certificate)).unwrap().len();
    let kept = kept.to_string();
    let below_kept = (kept.parse::<usize>().unwrap() - 1).to_string();
    let size_text = size.to_string();
    let below_size = (size - 1).to_string();
    let cases: [(&str, &str, &str); 5] = [
        ("--max-layers", "3", "2"),
        ("--max-dimension", "8", "7"),
        ("--max-kept-entries", &kept, &below_kept),
        ("--max-file-size", &size_text, &below_size),
        // The deepest nesting is a target row: object, target, layers, layer, weights, row.
        ("--max-nesting", "6", "5"),
    ];
    for (flag, at, below) in cases {
        slth(&["verify", flag, at, certificate]).expect(EXIT_VALID);
        let run = slth(&["verify", flag, below, certificate]);
        run.expect(EXIT_REJECTED);
        assert!(
            run.stderr.contains("REFUSED (resource limit)"),
            "{}",
            run.show()
        );
        assert!(run.stderr.contains(flag), "{}", run.show());
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.show());
        let run = slth(&["verify", "--json", flag, below, certificate]);
        run.expect(EXIT_REJECTED);
        let verdict: Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(verdict["verdict"], "refused", "{}", run.show());
    }
    // The exact-arithmetic limits: the committed certificates are dyadic with 6-digit claims.
    let run = slth(&["verify", "--max-exact-bits", "8", certificate]);
    run.expect(EXIT_REJECTED);
    assert!(run.stderr.contains("--max-exact-bits"), "{}", run.show());
    let witness = "tests/conformance/valid-spectral-witness.json";
    slth(&["verify", witness]).expect(EXIT_VALID);
    let run = slth(&["verify", "--max-exact-work", "1", witness]);
    run.expect(EXIT_REJECTED);
    assert!(run.stderr.contains("--max-exact-work"), "{}", run.show());
    let run = slth(&["verify", "--max-witness-side", "1", witness]);
    run.expect(EXIT_REJECTED);
    assert!(run.stderr.contains("--max-witness-side"), "{}", run.show());
}
