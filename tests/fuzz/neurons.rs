//! The fuzz campaign on neuron-subnetwork certificates (docs/FORMAT.md section 13).
//!
//! Seeds: `tests/fuzz_corpus/neurons/seed-*.json`, small certificates written by
//! `slth neurons` (one with its sample in a file beside it). Each execution mutates a seed
//! with the structure-aware and byte-level mutators of the weight-certificate campaign
//! and, in one execution of five, mutates the sample file too and names it by its new
//! SHA-256 in the certificate (so that its content reaches the reader, not only the hash
//! check). Properties, for every input:
//! - no panic in the trusted checker (`judge_file`) or the oracle, each execution under
//!   [`BUDGET_SECONDS`];
//! - VALID only when the oracle's independent checker says valid, with the same exact
//!   loss; the oracle's valid inputs accepted unless a resource limit refuses them;
//! - a rejection is one line naming its place, and when neither side's reason is a
//!   reading (JSON, shape) or number-limit one, both name the same kind and place.
//!
//! `hostile_neuron_inputs` feeds the resource-limit cases of the issue (absurd widths and
//! dimensions, huge numbers, huge samples and sample files, deep nesting) with their
//! expected kind and place.

use super::*;
use crate::mutate::make_input;
use slth_checker::certificate::Limits;
use slth_checker::neurons::{NeuronVerdict, judge_file};
use slth_checker::verdict::Verdict as CheckerVerdict;
use slth_oracle::{NeuronAnswer, NeuronKind, NeuronLimits, check_neuron_file, sha256_hex};
use std::path::Path;

fn neuron_corpus() -> Vec<(String, Vec<u8>)> {
    let files: Vec<(String, Vec<u8>)> = files_in("neurons")
        .into_iter()
        .filter(|(name, _)| name.starts_with("seed-"))
        .collect();
    assert!(
        files.len() >= 2,
        "tests/fuzz_corpus/neurons needs its seeds"
    );
    files
}

/// The sample files of the corpus (named `sample-*.json`).
fn sample_files() -> Vec<(String, Vec<u8>)> {
    files_in("neurons")
        .into_iter()
        .filter(|(name, _)| name.starts_with("sample-"))
        .collect()
}

/// What one execution showed: the checker's verdict as text (`VALID <loss>`, or its
/// failure line), and a failure of a property, if any.
fn run_one(certificate: &Path, budget: f64) -> (String, Option<String>) {
    let limits = Limits::default();
    let started = Instant::now();
    let ours = catch_unwind(AssertUnwindSafe(|| judge_file(certificate, &limits)));
    let seconds = started.elapsed().as_secs_f64();
    let theirs = catch_unwind(AssertUnwindSafe(|| {
        check_neuron_file(certificate, &NeuronLimits::default())
    }));
    let (ours, theirs) = match (ours, theirs) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(_), _) => return ("panic".into(), Some("the checker panicked".into())),
        (_, Err(_)) => return ("panic".into(), Some("the oracle panicked".into())),
    };
    let mut failure = (seconds > budget).then(|| format!("took {seconds:.2}s"));
    let outcome = match (&ours, &theirs) {
        (NeuronVerdict::Valid(report), NeuronAnswer::Valid { exact_loss }) => {
            if &report.exact_loss != exact_loss {
                failure = Some("both valid, with different exact losses".into());
            }
            format!("VALID {}", report.exact_loss)
        }
        (NeuronVerdict::Valid(_), NeuronAnswer::Invalid { kind, place, .. }) => {
            failure = Some(format!("false VALID: the oracle finds {kind:?} at {place}"));
            "VALID".into()
        }
        (NeuronVerdict::Failed(verdict), theirs) => {
            let line = verdict.failure_line().unwrap_or_default();
            if line.contains('\n') || line.is_empty() {
                failure = Some(format!("not a one-line error: {line:?}"));
            }
            let refused = matches!(verdict, CheckerVerdict::Refused(_));
            match theirs {
                NeuronAnswer::Valid { .. } if !refused => {
                    failure = Some(format!(
                        "the oracle accepts what the checker rejects: {line}"
                    ));
                }
                NeuronAnswer::Invalid { kind, place, .. } => {
                    let reading = |k: &NeuronKind| {
                        matches!(
                            k,
                            NeuronKind::Shape | NeuronKind::Limit | NeuronKind::Number
                        )
                    };
                    let failure_place = verdict.failure().map(|f| f.place.clone());
                    if !refused && !reading(kind) && failure_place.as_deref() != Some(place) {
                        failure = Some(format!(
                            "the oracle finds {kind:?} at {place} first, the checker: {line}"
                        ));
                    }
                }
                _ => {}
            }
            line
        }
    };
    (outcome, failure)
}

/// The verdict's label and the first word of its place: `INVALID kept`, `REFUSED (resource
/// limit) sample.file`, `VALID ...`.
fn kind_of(outcome: &str) -> String {
    let parts: Vec<&str> = outcome.split(": ").collect();
    match parts.as_slice() {
        [label, _file, place, ..] => {
            format!("{label} {}", place.split(['[', ' ']).next().unwrap_or(""))
        }
        _ => outcome.split(' ').next().unwrap_or("").to_string(),
    }
}

/// `executions` mutated inputs from base seed `seed`, on one thread.
fn neuron_campaign(executions: u64, seed: u64) -> (Stats, BTreeMap<String, usize>) {
    install_quiet_panic_hook();
    let corpus = neuron_corpus();
    let samples = sample_files();
    let trees: Vec<Option<Json>> = corpus
        .iter()
        .map(|(_, b)| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|t| json::parse(t, 128).ok())
        })
        .collect();
    let sample_trees: Vec<Option<Json>> = samples
        .iter()
        .map(|(_, b)| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|t| json::parse(t, 128).ok())
        })
        .collect();
    let folder =
        std::env::temp_dir().join(format!("slth-fuzz-neurons-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    for (name, bytes) in &samples {
        std::fs::write(folder.join(name), bytes).unwrap();
    }
    let certificate = folder.join("certificate.json");
    // The seed whose sample is a file.
    let file_seed: Option<Json> = trees
        .iter()
        .flatten()
        .find(|t| t.get("sample").and_then(|s| s.get("file")).is_some())
        .cloned();
    let mut stats = Stats::default();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..executions {
        let mut input = make_input(seed, i, &corpus, &trees);
        let mut rng = Rng::new(seed ^ i.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut written = None;
        if rng.chance(20) {
            // A mutated sample file, named by its hash in a (mutated or not) file seed.
            let sample = make_input(seed.wrapping_add(7), i, &samples, &sample_trees);
            let hash = sha256_hex(&sample);
            let name = format!("fuzzed-{hash}.json");
            std::fs::write(folder.join(&name), &sample).unwrap();
            if let Some(tree) = &file_seed {
                let mut tree = tree.clone();
                tree.set(
                    "sample",
                    Json::Obj(vec![
                        ("file".into(), Json::str(&name)),
                        ("sha256".into(), Json::str(&hash)),
                    ]),
                );
                input = tree.write().into_bytes();
                if rng.chance(30) {
                    mutate_bytes(&mut rng, &mut input, &corpus);
                }
            }
            written = Some(name);
        }
        std::fs::write(&certificate, &input).unwrap();
        stats.executions += 1;
        let (outcome, failure) = run_one(&certificate, BUDGET_SECONDS);
        if outcome.starts_with("VALID") {
            stats.accepted += 1;
        }
        *outcomes.entry(kind_of(&outcome)).or_default() += 1;
        if let Some(why) = failure {
            stats.failures.push((why, input));
        }
        if let Some(name) = written {
            let _ = std::fs::remove_file(folder.join(name));
        }
    }
    std::fs::remove_dir_all(&folder).unwrap();
    (stats, outcomes)
}

#[test]
fn neuron_seeds_are_valid_and_fuzz_3k() {
    let started = Instant::now();
    // The seeds as they are.
    let folder = corpus_dir().join("neurons");
    for (name, _) in neuron_corpus() {
        let (outcome, failure) = run_one(&folder.join(&name), BUDGET_SECONDS);
        assert!(
            failure.is_none() && outcome.starts_with("VALID"),
            "{name}: {outcome} {failure:?}"
        );
    }
    let executions = env_u64("SLTH_FUZZ_NEURON_EXECS", 3000);
    let (stats, outcomes) = neuron_campaign(executions, env_u64("SLTH_FUZZ_SEED", 1));
    report("neuron fuzz", &stats, started.elapsed().as_secs_f64());
    println!("neuron outcomes: {outcomes:?}");
    assert!(
        stats.failures.is_empty(),
        "{} failing inputs",
        stats.failures.len()
    );
    // The mutators reach the loss and the sample file, not only the reader.
    assert!(stats.accepted > 0, "no mutant stayed valid");
    for kind in ["INVALID loss", "INVALID sample.sha256", "INVALID kept"] {
        assert!(
            outcomes.keys().any(|k| k.starts_with(kind)),
            "no {kind} among {outcomes:?}"
        );
    }
}

/// A certificate text from the small seed with `change` applied to its JSON tree.
fn seed_with(change: impl FnOnce(&mut Json)) -> String {
    let text =
        std::fs::read_to_string(corpus_dir().join("neurons/seed-relu-4-small.json")).unwrap();
    let mut tree = json::parse(&text, 128).unwrap();
    change(&mut tree);
    tree.write()
}

fn set(tree: &mut Json, path: &[json::Step], value: Json) {
    *tree.at_mut(path).unwrap() = value;
}

#[test]
fn hostile_neuron_inputs() {
    use json::{idx, key};
    install_quiet_panic_hook();
    let folder = std::env::temp_dir().join(format!("slth-hostile-neurons-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let rows = |n: usize| Json::Arr(vec![Json::Arr(vec![Json::str("1/2"); 4]); n]);
    let huge_digits = "7".repeat(200_000);
    let coprime_row: Vec<Json> = [9_973u64, 9_967, 9_949, 9_941]
        .iter()
        .map(|p| {
            Json::str(format!(
                "1/{}",
                num_traits::pow(num_bigint::BigInt::from(*p), 2_400)
            ))
        })
        .collect();
    // (name, certificate text, sample file content if any, expected outcome prefix)
    let mut cases: Vec<(&str, String, Option<Vec<u8>>, &str)> = vec![
        (
            "width 2^64 - 1, a neuron near it",
            seed_with(|t| {
                set(
                    t,
                    &[key("random_network"), key("width")],
                    Json::num(u64::MAX),
                );
                set(t, &[key("kept"), idx(0), idx(0)], Json::num(u64::MAX - 1));
            }),
            None,
            "INVALID kept",
        ),
        (
            "width 2^64",
            seed_with(|t| {
                set(
                    t,
                    &[key("random_network"), key("width")],
                    Json::num("18446744073709551616"),
                )
            }),
            None,
            "INVALID line",
        ),
        (
            "input_dim 2^60",
            seed_with(|t| {
                set(
                    t,
                    &[key("random_network"), key("input_dim")],
                    Json::num(1u64 << 60),
                )
            }),
            None,
            "REFUSED (resource limit) random_network.input_dim",
        ),
        (
            "a 200,000-digit scale",
            seed_with(|t| set(t, &[key("scale")], Json::str(&huge_digits))),
            None,
            "REFUSED (resource limit) scale",
        ),
        (
            "an exponent of 10^18",
            seed_with(|t| set(t, &[key("loss")], Json::str("1e1000000000000000000"))),
            None,
            "REFUSED (resource limit) loss",
        ),
        (
            "a sample value 1e-999999",
            seed_with(|t| {
                set(
                    t,
                    &[key("sample"), key("inputs"), idx(0), idx(0)],
                    Json::str("1e-999999"),
                )
            }),
            None,
            "REFUSED (resource limit) sample.inputs",
        ),
        // Within the number limits (4 x 9,600 digits), but 127,000-bit residuals whose gcds
        // would take tens of seconds: refused by the work estimate (section 13.5).
        (
            "a row over 4 coprime 9,600-digit denominators",
            seed_with(|t| {
                set(
                    t,
                    &[key("sample"), key("inputs"), idx(0)],
                    Json::Arr(coprime_row.clone()),
                )
            }),
            None,
            "",
        ),
        (
            "2^20 + 1 sample rows",
            seed_with(|t| {
                set(t, &[key("sample"), key("inputs")], rows((1 << 20) + 1));
            }),
            None,
            "REFUSED (resource limit) sample.inputs",
        ),
        (
            "nesting 10^6 deep",
            "[".repeat(1_000_000),
            None,
            "REFUSED (resource limit) text",
        ),
        (
            "nesting 10^6 deep in the sample file",
            String::new(),
            Some(
                "{\"inputs\": "
                    .bytes()
                    .chain(std::iter::repeat_n(b'[', 1_000_000))
                    .collect(),
            ),
            "REFUSED (resource limit) sample.file",
        ),
        (
            "a sample file that is not UTF-8",
            String::new(),
            Some(vec![0xff, 0xfe, b'{', b'}']),
            "INVALID sample.file",
        ),
        (
            "a sample file that is not an object",
            String::new(),
            Some(b"[[\"1\"], [\"1\"]]".to_vec()),
            "INVALID sample.file",
        ),
        (
            "a sample named by a folder",
            seed_with(|t| {
                set(
                    t,
                    &[key("sample")],
                    Json::Obj(vec![
                        ("file".into(), Json::str("dir")),
                        ("sha256".into(), Json::str("0".repeat(64))),
                    ]),
                );
            }),
            None,
            "INVALID sample.file",
        ),
        (
            "a sample name with a NUL",
            seed_with(|t| {
                set(
                    t,
                    &[key("sample")],
                    Json::Obj(vec![
                        ("file".into(), Json::str("a\u{0}b")),
                        ("sha256".into(), Json::str("0".repeat(64))),
                    ]),
                );
            }),
            None,
            "INVALID sample.file",
        ),
        (
            "a 10^5-byte sample name",
            seed_with(|t| {
                set(
                    t,
                    &[key("sample")],
                    Json::Obj(vec![
                        ("file".into(), Json::str("a".repeat(100_000))),
                        ("sha256".into(), Json::str("0".repeat(64))),
                    ]),
                );
            }),
            None,
            "INVALID sample.file",
        ),
    ];
    std::fs::create_dir_all(folder.join("dir")).unwrap();
    // A sample file of 2^31 bytes (sparse): refused before a byte of it is read.
    let sparse = std::fs::File::create(folder.join("huge.json")).unwrap();
    sparse.set_len(1 << 31).unwrap();
    cases.push((
        "a 2 GiB sample file",
        seed_with(|t| {
            set(
                t,
                &[key("sample")],
                Json::Obj(vec![
                    ("file".into(), Json::str("huge.json")),
                    ("sha256".into(), Json::str("0".repeat(64))),
                ]),
            );
        }),
        None,
        "REFUSED (resource limit) sample.file",
    ));
    let mut failures = Vec::new();
    for (name, text, sample, expected) in cases {
        let text = match &sample {
            Some(bytes) => {
                let hash = sha256_hex(bytes);
                std::fs::write(folder.join("s.json"), bytes).unwrap();
                seed_with(|t| {
                    set(
                        t,
                        &[key("sample")],
                        Json::Obj(vec![
                            ("file".into(), Json::str("s.json")),
                            ("sha256".into(), Json::str(&hash)),
                        ]),
                    );
                })
            }
            None => text,
        };
        let path = folder.join("c.json");
        std::fs::write(&path, &text).unwrap();
        // The checker reads a certificate whole before counting its rows: the 26 MB one
        // of 2^20 + 1 rows takes seconds to parse (see BENCHMARKS.md).
        let budget = if name.starts_with("2^20") {
            30.0
        } else {
            BUDGET_SECONDS
        };
        let (outcome, failure) = run_one(&path, budget);
        let got = kind_of(&outcome);
        if let Some(why) = failure {
            failures.push(format!("{name}: {why}"));
        }
        if !got.starts_with(expected) {
            failures.push(format!("{name}: expected {expected}, got {outcome}"));
        }
    }
    std::fs::remove_dir_all(&folder).unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}
