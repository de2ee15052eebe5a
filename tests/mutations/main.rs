//! The mutation campaign: every single-point mutation class applied to every valid
//! certificate, each mutant's TRUE verdict decided from first principles
//! (the `slth-oracle` crate, which calls nothing of slth), and slth required to agree
//! in every mode: accepted iff valid, and when rejected, with a kind the independent
//! checker also finds (the class's expected kind where only one is possible).
//!
//! `cargo test --release --test mutations -- --nocapture` prints the table. The default
//! run mutates a deterministic sample of the kept entries and target weights of each
//! certificate (8 per list, 2 for the 800 KB digits certificate; every claim, header,
//! width, seed and layer mutation is always made) and runs the CLI (`slth verify` and
//! `slth verify --exact`) on every 40th mutant; the full campaign mutates every entry and
//! weight (40 per list of the digits certificate) and runs the CLI on every 10th mutant:
//!
//! ```text
//! cargo test --release --test mutations mutation_campaign_full -- --ignored --nocapture
//! ```

mod campaign;
mod claims;
#[path = "../common/mod.rs"]
mod common;
mod errors;
mod header;
mod joint;
mod target;
mod terms;
mod ticket;

use campaign::{Campaign, run, run_sources};
use claims::claim_mutants;
use common::modes;
use errors::error_mutants;
use header::header_mutants;
use joint::joint_mutants;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::network::Network;
use slth_checker::sampler::Seed;
use slth_oracle::json::{self, Json, Step, idx, key};
use slth_oracle::{self as fp, Checker, Facts, Kind, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use target::target_mutants;
use terms::term_mutants;
use ticket::ticket_mutants;

/// What the mutation class says the verdict must be (checked against the independent
/// checker, so a wrong expectation fails the test as loudly as a wrong verifier).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// still a true certificate
    Valid,
    /// false, and this kind is among its violations
    Invalid(Kind),
    /// true or false: the independent computation decides
    Decide,
}

struct Mutant {
    source: String,
    class: &'static str,
    expect: Expect,
    text: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rat(n: i64, d: i64) -> BigRational {
    BigRational::new(n.into(), d.into())
}

fn pow10(k: u32) -> BigRational {
    BigRational::from_integer(num_traits::pow(BigInt::from(10), k as usize))
}

/// (1 - 2^-k, 1 + 2^-k) for k around the 53 bits of an f64.
fn f64_scale_nudges() -> Vec<(BigRational, BigRational)> {
    [30u32, 45, 50, 52, 53, 54, 56, 60]
        .iter()
        .map(|&k| {
            let unit = BigRational::new(BigInt::one(), BigInt::one() << k);
            (BigRational::one() - &unit, BigRational::one() + unit)
        })
        .collect()
}

/// 1 - 10^-40 and 1 + 10^-40.
fn nudges() -> (BigRational, BigRational) {
    let tiny = pow10(40).recip();
    (BigRational::one() - &tiny, BigRational::one() + tiny)
}

fn text_of(x: &BigRational) -> Json {
    Json::str(fp::show(x))
}

// ---------------------------------------------------------------------------------------
// Sources

/// Small targets certified freshly by the library, both constructions, signed and
/// non-negative, spectral and Frobenius claims.
fn generated() -> Vec<(String, String)> {
    let target = |text: &str| Network::from_json_text(text).expect("target");
    let two_layer = target(
        r#"{"format": "slth-network", "version": 1, "input_dim": 2, "layers": [
            {"weights": [["0.3", "-0.2"], ["1/7", "0.25"], ["-0.125", "0"]], "activation": "relu"},
            {"weights": [["0.5", "-0.4", "1/3"]], "activation": "linear"}]}"#,
    );
    let three_layer = target(
        r#"{"format": "slth-network", "version": 1, "input_dim": 3, "layers": [
            {"weights": [["1/4", "-1/5", "0.1"], ["0", "1/3", "-0.3"]], "activation": "relu"},
            {"weights": [["0.6", "-0.2"], ["0.125", "0.5"]], "activation": "relu"},
            {"weights": [["0.7", "-0.35"]], "activation": "relu"}]}"#,
    );
    // (name, target, construction, non-negative, spectral, 1/epsilon, seed, format version)
    type Case<'a> = (
        &'a str,
        &'a Network,
        Construction,
        bool,
        bool,
        i64,
        u64,
        u64,
    );
    let cases: [Case; 6] = [
        (
            "pairs-signed",
            &two_layer,
            Construction::Pairs,
            false,
            true,
            10,
            11,
            1,
        ),
        (
            "subset-sum-nonneg",
            &two_layer,
            Construction::SubsetSum,
            true,
            true,
            20,
            12,
            1,
        ),
        (
            "subset-sum-frobenius",
            &three_layer,
            Construction::SubsetSum,
            false,
            false,
            12,
            13,
            1,
        ),
        (
            "pairs-nonneg-3",
            &three_layer,
            Construction::Pairs,
            true,
            true,
            8,
            14,
            1,
        ),
        (
            "v2-spectral-errors-pairs-signed",
            &three_layer,
            Construction::Pairs,
            false,
            true,
            8,
            15,
            2,
        ),
        (
            "v2-spectral-errors-subset-sum-nonneg",
            &two_layer,
            Construction::SubsetSum,
            true,
            true,
            20,
            16,
            2,
        ),
    ];
    cases
        .iter()
        .map(
            |(name, net, construction, nonneg, spectral, inv_eps, seed, version)| {
                let mut options =
                    CertifyOptions::new(Request::Epsilon(rat(1, *inv_eps)), Seed::from_u64(*seed));
                options.construction = *construction;
                options.nonnegative = *nonneg;
                options.spectral = *spectral;
                options.version = *version;
                let certified = certify(net, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
                (
                    format!("generated/{name}"),
                    slth::write::to_json_text(&certified.certificate()),
                )
            },
        )
        .collect()
}

/// The committed certificates (version 1, and version 2 under certificates/v2/: only the
/// small ones unless `full`, since every version 2 mutant of a deep certificate costs about
/// half a second of exact arithmetic), the conformance certificates, the generated ones.
fn sources(full: bool) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = Vec::new();
    for (dir, prefix) in [("certificates", ""), ("tests/conformance", "valid-")] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") && name.starts_with(prefix) {
                files.push(path);
            }
        }
    }
    for entry in std::fs::read_dir(root().join("certificates/v2")).unwrap() {
        let path = entry.unwrap().path();
        let small = std::fs::metadata(&path).unwrap().len() < 100_000;
        if path.extension().is_some_and(|e| e == "json") && (full || small) {
            files.push(path);
        }
    }
    files.sort();
    let mut out: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            (
                p.strip_prefix(root()).unwrap().display().to_string(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    out.extend(generated());
    out
}

// ---------------------------------------------------------------------------------------
// Making mutants

struct Maker<'a> {
    source: &'a str,
    base: &'a Json,
    out: Vec<Mutant>,
    campaign: &'a Campaign,
    made: usize,
}

impl Maker<'_> {
    fn push(&mut self, class: &'static str, expect: Expect, edit: impl FnOnce(&mut Json)) {
        let mut j = self.base.clone();
        edit(&mut j);
        self.out.push(Mutant {
            source: self.source.to_string(),
            class,
            expect,
            text: j.write(),
        });
        // Judged in batches, so that memory holds a few thousand mutants, not all of them.
        let bytes: usize = self.out.iter().map(|m| m.text.len()).sum();
        if self.out.len() >= 2048 || bytes > 64 << 20 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.out);
        self.made += batch.len();
        self.campaign.judge_all(&batch);
    }

    /// Replaces the value at `path`.
    fn set(&mut self, class: &'static str, expect: Expect, path: Vec<Step>, value: Json) {
        self.push(class, expect, move |j| {
            *j.at_mut(&path).unwrap_or_else(|| panic!("no {path:?}")) = value;
        });
    }
}

fn path(steps: &[Step]) -> Vec<Step> {
    steps.to_vec()
}

fn claim_path(b: usize, name: &str) -> Vec<Step> {
    path(&[key("bound"), key("blocks"), idx(b), key(name)])
}

/// Which of `n` items to mutate: all in the full campaign, else first, last and evenly
/// spaced ones, `cap` in all.
fn pick(n: usize, cap: usize, _full: bool) -> Vec<usize> {
    if n <= cap {
        return (0..n).collect();
    }
    let mut v: Vec<usize> = (0..cap).map(|k| k * (n - 1) / (cap - 1)).collect();
    v.dedup();
    v
}

fn num_of(j: &Json) -> u64 {
    match j {
        Json::Num(t) => t.parse().unwrap(),
        _ => panic!("not a number: {j:?}"),
    }
}

/// The exact decimal of x when its denominator is 2^a 5^b.
fn decimal_of(x: &BigRational) -> Option<String> {
    let mut q = x.denom().clone();
    let (two, five) = (BigInt::from(2), BigInt::from(5));
    let mut k = 0usize;
    while (&q % &two).is_zero() || (&q % &five).is_zero() {
        if (&q % &two).is_zero() {
            q /= &two;
        } else {
            q /= &five;
        }
        k += 1;
    }
    if !q.is_one() {
        return None;
    }
    // x = N / 10^k with k large enough.
    let scaled = x * pow10(k as u32);
    let n = scaled.to_integer();
    let digits = n.abs().to_string();
    let digits = format!(
        "{}{digits}",
        "0".repeat((k + 1).saturating_sub(digits.len()))
    );
    let (int, frac) = digits.split_at(digits.len() - k);
    let sign = if n.is_negative() { "-" } else { "" };
    Some(if k == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}
/// Makes and judges every mutant of one source; returns how many.
fn all_mutants(source: &str, text: &str, campaign: &Campaign, full: bool) -> usize {
    let base = json::parse(text, 128).unwrap();
    let (verdict, facts) = campaign.checker.check_with_facts(&base);
    assert!(
        verdict.is_valid(),
        "{source}: the independent checker rejects the original: {verdict:?}"
    );
    let facts = facts.unwrap();
    let mut mk = Maker {
        source,
        base: &base,
        out: Vec::new(),
        campaign,
        made: 0,
    };
    let big = text.len() > 200_000;
    let cap = match (big, full) {
        (false, false) => 8,
        (true, false) => 2,
        (false, true) => usize::MAX,
        (true, true) => 40,
    };
    let (dims, widths) = dims_and_widths(&base);
    if base.get("version") == Some(&Json::num(2)) {
        // The version 1 classes expect epsilon >= e_l and Frobenius error claims; version
        // 2 has its own.
        let bound = base.get("bound").unwrap();
        let has_terms = bound.get("terms").is_some();
        if has_terms {
            term_mutants(&mut mk, &base, &facts, full);
        }
        if bound.get("joint").is_some() {
            joint_mutants(&mut mk, &base, &facts);
        }
        let blocks = bound.get("blocks").unwrap().as_array().unwrap();
        if blocks.iter().any(|b| b.get("error_method").is_some()) {
            error_mutants(&mut mk, &base, &facts, full);
            // The ticket and the target make M_i (in the default sample on the small
            // sources only: every such mutant of a larger one redoes its exact checks).
            if !has_terms && (full || text.len() < 20_000) {
                ticket_mutants(&mut mk, &base, &dims, &widths, full, cap);
                target_mutants(&mut mk, &base, full, cap);
            }
        }
        mk.flush();
        return mk.made;
    }
    claim_mutants(&mut mk, &facts, full);
    ticket_mutants(&mut mk, &base, &dims, &widths, full, cap);
    target_mutants(&mut mk, &base, full, cap);
    header_mutants(&mut mk, &base, if big && !full { 4 } else { 32 });
    mk.flush();
    mk.made
}

/// n_0, ..., n_l and the hidden widths of g, as written.
fn dims_and_widths(base: &Json) -> (Vec<u64>, Vec<u64>) {
    let target = base.get("target").unwrap();
    let mut dims = vec![num_of(target.get("input_dim").unwrap())];
    for layer in target.get("layers").unwrap().as_array().unwrap() {
        dims.push(layer.get("weights").unwrap().as_array().unwrap().len() as u64);
    }
    let widths: Vec<u64> = base
        .get("random_network")
        .unwrap()
        .get("hidden_widths")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(num_of)
        .collect();
    (dims, widths)
}

static SKIPPED: AtomicUsize = AtomicUsize::new(0);
static CHECKER_NS: AtomicUsize = AtomicUsize::new(0);
static SLTH_NS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn mutation_campaign() {
    run(false);
}

/// Every kept entry and target weight of every certificate (40 of each list of the
/// 800 KB digits certificate), spectral thresholds up to Gram side 40, and the CLI on every
/// 10th mutant; about 15 minutes on 2 cores:
/// `cargo test --release --test mutations mutation_campaign_full -- --ignored --nocapture`
#[test]
#[ignore]
fn mutation_campaign_full() {
    run(true);
}

/// The version 2 classes on the certificates of certificates/v2/ but digits, the deep ones included
/// (about half a second per mutant; `SLTH_MUTATIONS_ONLY=random-8-8-8-1.json` picks one):
/// `cargo test --release --test mutations mutation_campaign_version_2 -- --ignored --nocapture`
#[test]
#[ignore]
fn mutation_campaign_version_2() {
    let v2 = sources(true)
        .into_iter()
        .filter(|(name, _)| name.starts_with("certificates/v2/"))
        // digits-64-32-10's terms have side 98, above the campaign checker's 64 (its file
        // is checked by first_principles_checker_agrees_on_the_version_2_files).
        .filter(|(name, _)| !name.contains("digits"))
        .collect();
    run_sources(false, v2, (10, 100));
}

/// Our ChaCha20 agrees with the spec's test vectors and with slth's sampler (the only
/// place the campaign looks at slth's own weight code, and not for any verdict).
#[test]
fn first_principles_sampler_matches_the_spec_and_slth() {
    let key: [u8; 32] = std::array::from_fn(|i| ((7 * i + 3) % 256) as u8);
    let vectors: [(u64, u128, u64, i64); 6] = [
        (0, 0, 1923361524001297530, -7128916516458475),
        (0, 1, 6612263058979633945, -2549911111206193),
        (0, 8, 34058864819009500, -8973938644566179),
        (1, 0, 3545465468947637988, -5544830632721815),
        (3, 12345, 8780681911547434067, -432314575495451),
        (5, 1 << 40, 18389034165420613691, 8950841922427577),
    ];
    for (stream, index, raw, numerator) in vectors {
        assert_eq!(fp::raw_word(&key, stream, index), Some(raw));
        assert_eq!(fp::weight(&key, stream, index), Some(numerator));
    }
    let seed42 = Seed::from_u64(42);
    assert_eq!(fp::weight(&seed42.0, 0, 0), Some(-1485704009238179));
    assert_eq!(fp::weight(&seed42.0, 1, 0), Some(2530848373222757));
    for stream in 0..6u64 {
        for index in [0u64, 1, 7, 8, 1000, 1 << 33, u64::MAX / 2] {
            assert_eq!(
                fp::weight(&key, stream, u128::from(index)),
                Some(slth_checker::sampler::sample_numerator(
                    &slth_checker::sampler::Seed(key),
                    stream,
                    index
                ))
            );
        }
    }
    assert!(fp::weight(&key, 0, (1u128 << 67) - 1).is_some());
    assert_eq!(fp::weight(&key, 0, 1u128 << 67), None);
}

/// The independent checker itself: it accepts every valid certificate, and rejects every
/// file of certificates/invalid/ and the conformance invalid-*.json.
#[test]
fn first_principles_checker_agrees_on_the_committed_files() {
    let checker = Checker::default();
    let mut seen = 0;
    for dir in ["certificates/invalid", "tests/conformance"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.starts_with("valid-") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let verdict = checker.check_text(&text);
            let outcome = &modes::library(&text)[0];
            assert!(
                matches!(verdict, Verdict::Invalid(_)),
                "{name}: {verdict:?}"
            );
            assert!(
                verdict.kinds().iter().any(|k| k.name() == outcome.kind),
                "{name}: slth says {outcome:?}, checker {verdict:?}"
            );
            seen += 1;
        }
    }
    assert!(seen >= 40, "{seen}");
    let _ = Path::new("");
}

/// Spec section 6 defines the certificate as JSON objects with named fields; serde's derived
/// readers would also take every struct as the JSON array of its field values
/// (`["slth-certificate", 1, [3, [...]], ["l2", "1", false], ...]`, or mixed forms such as
/// `"domain": ["l2", "1"]`). slth refuses them like the independent checker.
#[test]
fn objects_written_as_arrays_are_rejected() {
    let checker = Checker::default();
    let text = std::fs::read_to_string(
        root().join("tests/fuzz_corpus/regressions/certificate-as-arrays.json"),
    )
    .unwrap();
    assert!(matches!(checker.check_text(&text), Verdict::Invalid(_)));
    let tiny = std::fs::read_to_string(root().join("certificates/tiny-3-2-1.json")).unwrap();
    let mixed = tiny.replace(
        "\"domain\": {\n    \"norm\": \"l2\",\n    \"radius\": \"1\",\n    \"nonnegative\": false\n  }",
        "\"domain\": [\"l2\", \"1\"]",
    );
    assert_ne!(mixed, tiny);
    for text in [&text, &mixed] {
        for outcome in modes::library(text) {
            assert!(
                !outcome.accepted,
                "accepted an array for an object: {outcome:?}"
            );
        }
    }
}

/// Version 2 (docs/FORMAT.md section 12): the independent checker accepts every
/// certificate of certificates/v2/ and rejects every file of certificates/invalid/v2/,
/// with a kind slth also gives, and slth agrees in every mode.
#[test]
fn first_principles_checker_agrees_on_the_version_2_files() {
    // digits-64-32-10's terms have side N = 98 and its joint form 131, above the oracle's
    // default of 64.
    let mut checker = Checker::default();
    checker.max_witness_side = 256;
    let mut seen = (0, 0);
    for (dir, valid) in [
        ("certificates/v2", true),
        ("certificates/invalid/v2", false),
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for p in files {
            let name = p.strip_prefix(root()).unwrap().display().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            let verdict = checker.check_text(&text);
            let outcomes = modes::library(&text);
            for o in &outcomes {
                assert_eq!(o.accepted, valid, "{name}: slth says {o:?}");
            }
            if valid {
                assert!(verdict.is_valid(), "{name}: {verdict:?}");
                seen.0 += 1;
            } else {
                assert!(
                    matches!(verdict, Verdict::Invalid(_)),
                    "{name}: {verdict:?}"
                );
                assert!(
                    verdict.kinds().iter().any(|k| k.name() == outcomes[0].kind),
                    "{name}: slth says {:?}, checker {verdict:?}",
                    outcomes[0]
                );
                seen.1 += 1;
            }
        }
    }
    assert!(seen.0 >= 5 && seen.1 >= 14, "{seen:?}");
}

/// Minimal reproducers of the disagreements the version 2 classes found (November 2026):
/// true certificates that slth rejects as WitnessInvalid. The independent checker accepts
/// each, and it must: the set of valid values of a product weight v (or of lambda^2) is
/// an interval, since D is affine in it and sum D^2 is convex, and slth itself accepts
/// values on both sides of each (v x (1 +- 2^-30); lambda_2 x (1 - 2^-25) and (1 + 2^-20)).
#[test]
fn version_2_true_certificates_found_rejected() {
    let checker = Checker::default();
    let one = BigRational::one();
    let cases: [(&str, Vec<Step>, BigRational); 4] = [
        (
            "v2/tiny-3-2-1.json",
            path(&[
                key("bound"),
                key("terms"),
                idx(0),
                key("products"),
                idx(0),
                idx(2),
            ]),
            &one + pow10(40).recip(),
        ),
        (
            "v2/tiny-3-2-1.json",
            path(&[
                key("bound"),
                key("terms"),
                idx(1),
                key("products"),
                idx(3),
                idx(2),
            ]),
            &one + BigRational::new(1.into(), BigInt::from(5).pow(20u32)),
        ),
        (
            "v2/random-8-8-8-1.json",
            path(&[key("bound"), key("terms"), idx(1), key("lipschitz")]),
            &one + BigRational::new(1.into(), BigInt::one() << 30),
        ),
        (
            "v2/random-8-8-8-1.json",
            path(&[key("bound"), key("terms"), idx(1), key("lipschitz")]),
            &one - BigRational::new(1.into(), BigInt::one() << 28),
        ),
    ];
    let mut wrong = Vec::new();
    for (file, at, factor) in cases {
        let text = std::fs::read_to_string(root().join("certificates").join(file)).unwrap();
        let mut j = json::parse(&text, 128).unwrap();
        let x = fp::parse_rational(j.at_mut(&at).unwrap().as_str().unwrap()).unwrap();
        *j.at_mut(&at).unwrap() = text_of(&(&x * &factor));
        // Only the witness is in question: epsilon covers every bound.
        *j.at_mut(&path(&[key("bound"), key("epsilon")])).unwrap() = Json::str("1000");
        let text = j.write();
        let verdict = checker.check_text(&text);
        assert!(verdict.is_valid(), "{file} {at:?}: {verdict:?}");
        let outcome = &modes::library(&text)[0];
        if !outcome.accepted {
            wrong.push(format!(
                "{file} {at:?} x {}: {outcome:?}",
                fp::show(&factor)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "slth rejects true certificates:\n{}",
        wrong.join("\n")
    );
}
