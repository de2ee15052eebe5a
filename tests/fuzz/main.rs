//! A fuzzer for slth's certificate reader and verifier that runs on stable Rust.
//!
//! Inputs come from the committed corpus in `tests/fuzz_corpus/` (small valid
//! certificates, plus every input that ever crashed, hung or was slow), mutated by a
//! structure-aware mutator (JSON level: hostile numbers, strings, arrays, objects, raw
//! tokens such as NaN, duplicate keys, type swaps, subtree splices) or a byte-level one
//! (bit flips, interesting bytes and tokens, insertions, deletions, truncations, splices
//! between corpus files), driven by a deterministic PRNG: execution i of a run with base
//! seed s always sees the same input, whatever the thread count.
//!
//! Every input goes through `slth_checker::certificate::parse` and, if it parses, every library
//! mode of `slth_checker::verify` (see `common/modes.rs`). Properties:
//! - no panic (caught with `catch_unwind`), no hang (a watchdog aborts after
//!   [`HANG_SECONDS`] and saves the input), every execution under [`BUDGET_SECONDS`];
//! - all modes give the same verdict and rejection;
//! - VALID only when the independent checker (the `slth-oracle` crate) says valid, and
//!   the independent checker's valid inputs are accepted; a rejection names a kind the
//!   independent checker also finds.
//!
//! Runs:
//! - `cargo test --release --test fuzz` replays the corpus and makes 20,000 executions;
//! - `SLTH_FUZZ_EXECS=1000000 cargo test --release --test fuzz -- --ignored --nocapture`
//!   runs a long campaign (`SLTH_FUZZ_SEED` sets the base seed, `SLTH_FUZZ_THREADS` the
//!   threads); failing inputs are written to `/tmp/slth-fuzz-*`; minimize them and add them
//!   to `tests/fuzz_corpus/`.
//!
//! Neuron-subnetwork certificates (docs/FORMAT.md section 13) have their own campaign
//! against the oracle's neuron checker, with seeds in `tests/fuzz_corpus/neurons/`: see
//! `neurons.rs` (`neuron_seeds_are_valid_and_fuzz_3k`, `hostile_neuron_inputs`).
//!
//! The coverage-guided counterpart is `fuzz/` (cargo-fuzz, libFuzzer; see
//! `fuzz/fuzz_targets/verify.rs`); its minimized corpus is `tests/fuzz_corpus/coverage/`,
//! replayed here by `coverage_corpus_replays` with these properties.

#[path = "../common/mod.rs"]
mod common;
mod execution;
mod hostile;
mod mutate;
mod neurons;

use common::modes::{self, Outcome};
use execution::{Stats, campaign, env_u64, execute, install_quiet_panic_hook, report, threads};
use mutate::mutate_bytes;
use slth_oracle::json::{self, Json};
use slth_oracle::{Checker, Verdict};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every execution must finish within this many seconds.
const BUDGET_SECONDS: f64 = 2.0;
/// The watchdog aborts the run when one execution takes this long.
const HANG_SECONDS: u64 = 60;
/// Inputs above this size are not given to the independent checker.
const CHECKER_MAX_BYTES: usize = 300_000;

// ---------------------------------------------------------------------------------------
// PRNG

/// SplitMix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// Corpus

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus")
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus_dir())
        .expect("tests/fuzz_corpus")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the corpus needs its seed files");
    files
}

/// The regression inputs: every input that ever crashed, hung, was slow or showed a
/// deviation, minimized, and the small hostile shapes of the resource-limit list.
fn regressions() -> Vec<(String, Vec<u8>)> {
    files_in("regressions")
}

/// The files of one folder of the corpus, sorted by name.
fn files_in(folder: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir().join(folder);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The minimized corpus of the coverage-guided fuzzer (`fuzz/`, cargo-fuzz and libFuzzer):
/// inputs that each reach code the others do not. Every one must meet every property.
#[test]
fn coverage_corpus_replays() {
    install_quiet_panic_hook();
    let checker = Checker::default();
    let mut stats = Stats::default();
    let started = Instant::now();
    let inputs = files_in("coverage");
    for (_, input) in &inputs {
        execute(input, &checker, &mut stats);
    }
    report(
        "coverage corpus replay",
        &stats,
        started.elapsed().as_secs_f64(),
    );
    assert!(
        stats.failures.is_empty(),
        "{} coverage-corpus inputs fail: {:?}",
        stats.failures.len(),
        stats.failures.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert!(inputs.len() >= 100, "the coverage corpus is missing");
}

/// Every corpus file, as it is: the seeds stay valid, and the committed crashers, slow
/// inputs and hostile shapes keep meeting every property; `*-valid.json` must be accepted.
#[test]
fn corpus_replays() {
    install_quiet_panic_hook();
    let checker = Checker::default();
    let mut stats = Stats::default();
    let started = Instant::now();
    for (_, input) in corpus() {
        execute(&input, &checker, &mut stats);
    }
    assert_eq!(
        stats.accepted, stats.executions,
        "every seed is a valid certificate"
    );
    for (name, input) in regressions() {
        let before = stats.accepted;
        execute(&input, &checker, &mut stats);
        let accepted = stats.accepted > before;
        assert_eq!(accepted, name.ends_with("-valid.json"), "{name}");
    }
    report("corpus replay", &stats, started.elapsed().as_secs_f64());
    assert!(
        stats.failures.is_empty(),
        "{} corpus inputs fail",
        stats.failures.len()
    );
    assert!(stats.executions >= 15);
}

#[test]
fn fuzz_20k() {
    let started = Instant::now();
    let stats = campaign(20_000, env_u64("SLTH_FUZZ_SEED", 1), threads());
    report("fuzz", &stats, started.elapsed().as_secs_f64());
    assert!(
        stats.failures.is_empty(),
        "{} failing inputs",
        stats.failures.len()
    );
    assert!(
        stats.accepted > 0 && stats.outcomes.len() > 8,
        "the mutators must reach the verifier"
    );
}

/// `SLTH_FUZZ_EXECS=1000000 cargo test --release --test fuzz -- --ignored --nocapture`
#[test]
#[ignore]
fn fuzz_long() {
    let executions = env_u64("SLTH_FUZZ_EXECS", 1_000_000);
    let started = Instant::now();
    let stats = campaign(executions, env_u64("SLTH_FUZZ_SEED", 1000), threads());
    report("fuzz (long)", &stats, started.elapsed().as_secs_f64());
    assert!(
        stats.failures.is_empty(),
        "{} failing inputs",
        stats.failures.len()
    );
}

/// Writes the seed files of `tests/fuzz_corpus/` (small certificates made by the library,
/// and copies of the smallest committed ones):
/// `cargo test --release --test fuzz -- --ignored write_seed_corpus`
#[test]
#[ignore]
fn write_seed_corpus() {
    use num_rational::BigRational;
    use slth::certify::{CertifyOptions, Construction, Request, certify};
    use slth::network::Network;
    use slth_checker::sampler::Seed;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let targets = [
        (
            "seed-1x1-pairs.json",
            r#"{"format": "slth-network", "version": 1, "input_dim": 1, "layers": [
                {"weights": [["1/2"]], "activation": "linear"}]}"#,
            Construction::Pairs,
            false,
            (1, 10),
        ),
        (
            "seed-2-1-subset-sum-nonnegative.json",
            r#"{"format": "slth-network", "version": 1, "input_dim": 2, "layers": [
                {"weights": [["0.3", "-0.7"]], "activation": "relu"}]}"#,
            Construction::SubsetSum,
            true,
            (1, 20),
        ),
        (
            "seed-2-2-1-pairs.json",
            r#"{"format": "slth-network", "version": 1, "input_dim": 2, "layers": [
                {"weights": [["0.5", "-0.25"], ["1/3", "0.125"]], "activation": "relu"},
                {"weights": [["0.5", "-0.5"]], "activation": "linear"}]}"#,
            Construction::Pairs,
            false,
            (1, 8),
        ),
        (
            "seed-2-2-1-subset-sum.json",
            r#"{"format": "slth-network", "version": 1, "input_dim": 2, "layers": [
                {"weights": [["0.5", "-0.25"], ["1/3", "0.125"]], "activation": "relu"},
                {"weights": [["0.5", "-0.5"]], "activation": "relu"}]}"#,
            Construction::SubsetSum,
            false,
            (1, 10),
        ),
    ];
    for (name, target, construction, nonnegative, (p, q)) in targets {
        let net = Network::from_json_text(target).unwrap();
        let mut options = CertifyOptions::new(
            Request::Epsilon(BigRational::new(p.into(), q.into())),
            Seed::from_u64(7),
        );
        options.construction = construction;
        options.nonnegative = nonnegative;
        let certified = certify(&net, &options).unwrap();
        let text = slth::write::to_json_text(&certified.certificate());
        std::fs::write(corpus_dir().join(name), text).unwrap();
    }
    for (from, name) in [
        ("certificates/tiny-3-2-1.json", "seed-tiny-3-2-1.json"),
        ("certificates/v2/tiny-3-2-1.json", "seed-v2-tiny-3-2-1.json"),
        (
            "certificates/v2/tiny-3-2-1-joint.json",
            "seed-v2-tiny-3-2-1-joint.json",
        ),
        (
            "tests/conformance/valid-spectral-witness.json",
            "seed-spectral-witness.json",
        ),
        (
            "tests/conformance/valid-nonnegative-domain.json",
            "seed-nonnegative-domain.json",
        ),
    ] {
        std::fs::copy(root.join(from), corpus_dir().join(name)).unwrap();
    }
}

/// `certificate::load` streams a file through its own reader (byte and nesting counts on
/// the fly); it must agree with `certificate::parse` on the text (same certificate, or the
/// same kind of error), for every corpus file, every regression and a few thousand mutants.
#[test]
fn streaming_load_agrees_with_parse() {
    use slth_checker::certificate::{self, LoadError};
    let dir = std::env::temp_dir().join(format!("slth-fuzz-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("input.json");
    let kind = |r: &Result<certificate::Certificate, LoadError>| match r {
        Ok(c) => format!("ok {}", slth::write::to_json_text(c)),
        Err(e) => format!("{:?}", e.kind),
    };
    let corpus = corpus();
    let mut inputs: Vec<Vec<u8>> = corpus.iter().map(|(_, b)| b.clone()).collect();
    inputs.extend(regressions().into_iter().map(|(_, b)| b));
    let mut rng = Rng::new(7);
    for _ in 0..3000 {
        let mut data = rng.pick(&corpus).1.clone();
        mutate_bytes(&mut rng, &mut data, &corpus);
        inputs.push(data);
    }
    let limits = certificate::Limits {
        max_nesting: 40,
        ..certificate::Limits::default()
    };
    let mut counts = BTreeMap::new();
    for data in &inputs {
        std::fs::write(&path, data).unwrap();
        let loaded = kind(&certificate::load(&path, &limits));
        let parsed = match std::str::from_utf8(data) {
            Ok(text) => kind(&certificate::parse_with(text, &limits)),
            // Not text at all. The stream may meet another error before the bad byte, so
            // any rejection will do, never a certificate.
            Err(_) if !loaded.starts_with("ok") => loaded.clone(),
            Err(_) => "unreadable".to_string(),
        };
        if loaded != parsed {
            std::fs::write("/tmp/slth-load-parse.json", data).unwrap();
        }
        assert_eq!(loaded, parsed, "saved to /tmp/slth-load-parse.json");
        *counts
            .entry(loaded.split(' ').next().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "load and parse agree on {} inputs: {counts:?}",
        inputs.len()
    );
    assert!(
        counts.len() >= 3,
        "the inputs must reach several outcomes: {counts:?}"
    );
}
