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

mod common;

use common::modes;
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
    let cases: [(&str, &Network, Construction, bool, bool, i64, u64); 4] = [
        (
            "pairs-signed",
            &two_layer,
            Construction::Pairs,
            false,
            true,
            10,
            11,
        ),
        (
            "subset-sum-nonneg",
            &two_layer,
            Construction::SubsetSum,
            true,
            true,
            20,
            12,
        ),
        (
            "subset-sum-frobenius",
            &three_layer,
            Construction::SubsetSum,
            false,
            false,
            12,
            13,
        ),
        (
            "pairs-nonneg-3",
            &three_layer,
            Construction::Pairs,
            true,
            true,
            8,
            14,
        ),
    ];
    cases
        .iter()
        .map(
            |(name, net, construction, nonneg, spectral, inv_eps, seed)| {
                let mut options =
                    CertifyOptions::new(Request::Epsilon(rat(1, *inv_eps)), Seed::from_u64(*seed));
                options.construction = *construction;
                options.nonnegative = *nonneg;
                options.spectral = *spectral;
                let certified = certify(net, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
                (
                    format!("generated/{name}"),
                    slth::write::to_json_text(&certified.certificate),
                )
            },
        )
        .collect()
}

fn sources() -> Vec<(String, String)> {
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

/// The exact grid neighbours of the threshold sqrt(s): (square just below s, square just
/// above s, whether the grid point below is sqrt(s) exactly).
fn below_above(s: &BigRational) -> (BigRational, BigRational, bool) {
    let (lo, hi) = fp::sqrt_neighbours(s, 40);
    let exact = &lo * &lo == *s;
    let unit = BigRational::new(BigInt::one(), pow10(40).to_integer() * s.denom());
    let below = if exact { lo - unit } else { lo };
    (below, hi, exact)
}

/// The matrix M = G + R^T R of a witness, so that sum D^2 = sum_a (L^2 - shift - M_aa)^2
/// + sum_{a != b} M_ab^2 is cheap for many L.
struct WitnessForm {
    diag: Vec<BigRational>,
    off: BigRational,
    shift: BigRational,
}

impl WitnessForm {
    #[allow(clippy::needless_range_loop)]
    fn new(block: &fp::BlockFacts) -> Option<WitnessForm> {
        let (shift, factor) = block.witness.clone()?;
        let n = factor.len();
        let rows = block.weights.len();
        if n != rows && n != block.cols {
            return None;
        }
        let g = fp::gram(&block.weights, block.cols, n == rows);
        let mut diag = Vec::new();
        let mut off = BigRational::zero();
        for a in 0..n {
            for b in 0..n {
                let mut m = g[a][b].clone();
                for k in 0..=a.min(b) {
                    if let (Some(x), Some(y)) = (factor[k].get(a - k), factor[k].get(b - k)) {
                        m += x * y;
                    }
                }
                if a == b {
                    diag.push(m);
                } else {
                    off += &m * &m;
                }
            }
        }
        Some(WitnessForm { diag, off, shift })
    }

    fn holds(&self, l: &BigRational) -> bool {
        let l2 = l * l;
        let mut sum = self.off.clone();
        for d in &self.diag {
            let x = &l2 - &self.shift - d;
            sum += &x * &x;
        }
        sum <= &self.shift * &self.shift
    }
}

fn claim_mutants(mk: &mut Maker, facts: &Facts, full: bool) {
    let (down, up) = nudges();
    for (b, block) in facts.blocks.iter().enumerate() {
        // error: c^2 against sum E^2.
        let (below, above, exact) = below_above(&block.error_squared);
        if exact {
            let (x, _) = fp::sqrt_neighbours(&block.error_squared, 40);
            mk.set(
                "error = sqrt(sum E^2) exactly",
                Expect::Valid,
                claim_path(b, "error"),
                text_of(&x),
            );
        }
        mk.set(
            "error just below sqrt(sum E^2)",
            Expect::Invalid(Kind::ErrorTooSmall),
            claim_path(b, "error"),
            text_of(&below),
        );
        mk.set(
            "error just above sqrt(sum E^2)",
            Expect::Decide,
            claim_path(b, "error"),
            text_of(&above),
        );
        // Near f64 precision, where an outward-rounded filter must not decide wrongly.
        for (lower, upper) in f64_scale_nudges() {
            if block.error_squared.is_positive() {
                mk.set(
                    "error = sqrt(sum E^2)(1 - 2^-k), k = 30..60",
                    Expect::Invalid(Kind::ErrorTooSmall),
                    claim_path(b, "error"),
                    text_of(&(&below * &lower)),
                );
            }
            mk.set(
                "error = sqrt(sum E^2)(1 + 2^-k), k = 30..60",
                Expect::Decide,
                claim_path(b, "error"),
                text_of(&(&above * &upper)),
            );
        }
        if block.error.is_positive() {
            mk.set(
                "error negated",
                Expect::Invalid(Kind::ErrorTooSmall),
                claim_path(b, "error"),
                text_of(&-&block.error),
            );
        }

        // lipschitz: the true threshold of the block's method.
        match block.method.as_str() {
            "frobenius" => {
                let (below, above, _) = below_above(&block.frobenius_squared);
                mk.set(
                    "lipschitz just below sqrt(sum W^2) (frobenius)",
                    Expect::Invalid(Kind::LipschitzTooSmall),
                    claim_path(b, "lipschitz"),
                    text_of(&below),
                );
                for (lower, upper) in f64_scale_nudges() {
                    mk.set(
                        "lipschitz = sqrt(sum W^2)(1 - 2^-k), k = 30..60",
                        Expect::Invalid(Kind::LipschitzTooSmall),
                        claim_path(b, "lipschitz"),
                        text_of(&(&below * &lower)),
                    );
                    mk.set(
                        "lipschitz = sqrt(sum W^2)(1 + 2^-k), k = 30..60",
                        Expect::Decide,
                        claim_path(b, "lipschitz"),
                        text_of(&(&above * &upper)),
                    );
                }
                mk.set(
                    "lipschitz just above sqrt(sum W^2) (frobenius)",
                    Expect::Decide,
                    claim_path(b, "lipschitz"),
                    text_of(&above),
                );
                mk.push("method frobenius -> spectral", Expect::Decide, |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .set("lipschitz_method", Json::str("spectral"));
                });
            }
            method => {
                let side = block.weights.len().min(block.cols);
                if side <= 12 || (full && side <= 40) {
                    let (g, den) = fp::gram_int(&block.weights, block.cols);
                    let (_, top) = fp::sqrt_neighbours(&block.frobenius_squared, 2);
                    if block.frobenius_squared.is_positive() {
                        let (below, above) = fp::bisect(&BigRational::zero(), &top, 40, |x| {
                            fp::fast_psd(&g, &den, x)
                        });
                        mk.set(
                            "lipschitz just below ||W||_2 (spectral)",
                            if method == "spectral" {
                                Expect::Invalid(Kind::LipschitzTooSmall)
                            } else {
                                Expect::Invalid(Kind::WitnessInvalid)
                            },
                            claim_path(b, "lipschitz"),
                            text_of(&below),
                        );
                        mk.set(
                            "lipschitz just above ||W||_2 (spectral)",
                            Expect::Decide,
                            claim_path(b, "lipschitz"),
                            text_of(&above),
                        );
                    }
                } else {
                    SKIPPED.fetch_add(2, Ordering::Relaxed);
                }
                mk.push("method spectral -> frobenius", Expect::Decide, |j| {
                    let blk = j
                        .at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap();
                    blk.set("lipschitz_method", Json::str("frobenius"));
                    blk.remove("lipschitz_witness");
                });
                mk.push(
                    "method removed (frobenius by default)",
                    Expect::Decide,
                    |j| {
                        let blk = j
                            .at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                            .unwrap();
                        blk.remove("lipschitz_method");
                        blk.remove("lipschitz_witness");
                    },
                );
                mk.set(
                    "method misspelled",
                    Expect::Invalid(Kind::Header),
                    claim_path(b, "lipschitz_method"),
                    Json::str("Spectral"),
                );
            }
        }
        if block.lipschitz.is_positive() {
            mk.set(
                "lipschitz negated",
                Expect::Invalid(Kind::LipschitzTooSmall),
                claim_path(b, "lipschitz"),
                text_of(&-&block.lipschitz),
            );
        }

        // The witness: its own boundaries in L, its shift and factor.
        if let Some(form) = WitnessForm::new(block) {
            let l = &block.lipschitz;
            assert!(
                form.holds(l),
                "{}: witness of block {b} does not hold",
                mk.source
            );
            if !form.holds(&BigRational::zero()) {
                let (below, above) = fp::bisect(&BigRational::zero(), l, 40, |x| form.holds(x));
                mk.set(
                    "lipschitz just below the witness's range",
                    Expect::Invalid(Kind::WitnessInvalid),
                    claim_path(b, "lipschitz"),
                    text_of(&below),
                );
                mk.set(
                    "lipschitz at the witness's lower end",
                    Expect::Decide,
                    claim_path(b, "lipschitz"),
                    text_of(&above),
                );
            }
            let mut top = l * rat(2, 1) + BigRational::one();
            while form.holds(&top) {
                top = &top * rat(2, 1);
            }
            let (inside, outside) = fp::bisect(l, &top, 40, |x| !form.holds(x));
            mk.set(
                "lipschitz at the witness's upper end",
                Expect::Decide,
                claim_path(b, "lipschitz"),
                text_of(&inside),
            );
            mk.set(
                "lipschitz just above the witness's range",
                Expect::Invalid(Kind::WitnessInvalid),
                claim_path(b, "lipschitz"),
                text_of(&outside),
            );
            let wpath = |k: &str| {
                path(&[
                    key("bound"),
                    key("blocks"),
                    idx(b),
                    key("lipschitz_witness"),
                    key(k),
                ])
            };
            mk.set(
                "witness shift x (1 - 1e-40)",
                Expect::Decide,
                wpath("shift"),
                text_of(&(&form.shift * &down)),
            );
            mk.set(
                "witness shift x (1 + 1e-40)",
                Expect::Decide,
                wpath("shift"),
                text_of(&(&form.shift * &up)),
            );
            mk.set(
                "witness shift 0",
                Expect::Decide,
                wpath("shift"),
                Json::str("0"),
            );
            if form.shift.is_positive() {
                mk.set(
                    "witness shift negated",
                    Expect::Invalid(Kind::WitnessInvalid),
                    wpath("shift"),
                    text_of(&-&form.shift),
                );
            }
            let (_, factor) = block.witness.clone().unwrap();
            for (a, c) in [(0usize, 0usize), (factor.len() - 1, 0)] {
                let x = &factor[a][c];
                let mut p = wpath("factor");
                p.extend([idx(a), idx(c)]);
                mk.set(
                    "witness factor entry x (1 + 1e-40)",
                    Expect::Decide,
                    p.clone(),
                    text_of(&(x * &up)),
                );
                mk.set(
                    "witness factor entry + 1/1000",
                    Expect::Decide,
                    p,
                    text_of(&(x + rat(1, 1000))),
                );
            }
            mk.push(
                "witness factor row dropped",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    j.at_mut(&wpath("factor"))
                        .unwrap()
                        .as_array_mut()
                        .unwrap()
                        .pop();
                },
            );
            mk.push(
                "witness factor row shortened",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    let mut p = wpath("factor");
                    p.push(idx(0));
                    j.at_mut(&p).unwrap().as_array_mut().unwrap().pop();
                },
            );
            mk.push(
                "witness removed (elimination decides)",
                Expect::Decide,
                |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .remove("lipschitz_witness");
                },
            );
            mk.push(
                "witness on a frobenius block",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .remove("lipschitz_method");
                },
            );
        }
    }

    // epsilon against e_l, exactly.
    let eps = path(&[key("bound"), key("epsilon")]);
    let e_l = &facts.e_l;
    mk.set(
        "epsilon = e_l exactly",
        Expect::Valid,
        eps.clone(),
        text_of(e_l),
    );
    if e_l.is_positive() {
        mk.set(
            "epsilon = e_l (1 - 1e-40)",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps.clone(),
            text_of(&(e_l * &down)),
        );
        mk.set(
            "epsilon negated",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps.clone(),
            text_of(&-&facts.epsilon),
        );
    }
    for (lower, upper) in f64_scale_nudges() {
        if e_l.is_positive() {
            mk.set(
                "epsilon = e_l (1 - 2^-k), k = 30..60",
                Expect::Invalid(Kind::EpsilonTooSmall),
                eps.clone(),
                text_of(&(e_l * &lower)),
            );
        }
        mk.set(
            "epsilon = e_l (1 + 2^-k), k = 30..60",
            Expect::Valid,
            eps.clone(),
            text_of(&(e_l * &upper)),
        );
    }
    mk.set(
        "epsilon = e_l (1 + 1e-40)",
        Expect::Valid,
        eps.clone(),
        text_of(&(e_l * &up)),
    );

    // radius: e_l is linear in r, so the largest radius is epsilon / (e_l / r).
    let radius = path(&[key("domain"), key("radius")]);
    if facts.radius.is_positive() && e_l.is_positive() {
        let r_max = &facts.epsilon * &facts.radius / e_l;
        mk.set(
            "radius = largest certified radius",
            Expect::Valid,
            radius.clone(),
            text_of(&r_max),
        );
        for (lower, upper) in f64_scale_nudges() {
            mk.set(
                "radius = largest (1 + 2^-k), k = 30..60",
                Expect::Invalid(Kind::EpsilonTooSmall),
                radius.clone(),
                text_of(&(&r_max * &upper)),
            );
            mk.set(
                "radius = largest (1 - 2^-k), k = 30..60",
                Expect::Valid,
                radius.clone(),
                text_of(&(&r_max * &lower)),
            );
        }
        mk.set(
            "radius just below the largest",
            Expect::Valid,
            radius.clone(),
            text_of(&(&r_max * &down)),
        );
        mk.set(
            "radius just above the largest",
            Expect::Invalid(Kind::EpsilonTooSmall),
            radius.clone(),
            text_of(&(&r_max * &up)),
        );
        mk.set(
            "radius negated",
            Expect::Invalid(Kind::Domain),
            radius.clone(),
            text_of(&-&facts.radius),
        );
    }
    mk.set("radius 0", Expect::Valid, radius.clone(), Json::str("0"));

    // The same numbers spelled otherwise, and malformed spellings.
    let eps_value = &facts.epsilon;
    let (p, q) = (eps_value.numer(), eps_value.denom());
    let spell_valid: Vec<(&'static str, String)> = vec![
        (
            "epsilon respelled unreduced",
            format!("{}/{}", p * 3, q * 3),
        ),
        ("epsilon respelled with +", format!("+{p}/{q}")),
        (
            "epsilon respelled as 0.1-style decimal x 10^k",
            decimal_of(eps_value).unwrap_or(format!("{p}/{q}")),
        ),
        (
            "epsilon respelled with exponent",
            format!(
                "{}e-3",
                decimal_of(&(eps_value * pow10(3))).unwrap_or(format!("{}", p))
            ),
        ),
    ];
    for (class, text) in spell_valid {
        if class.contains("exponent") && decimal_of(&(eps_value * pow10(3))).is_none() {
            continue;
        }
        mk.set(class, Expect::Valid, eps.clone(), Json::str(text));
    }
    let spell_invalid: Vec<(&'static str, String)> = vec![
        ("epsilon with a leading space", format!(" {p}/{q}")),
        ("epsilon with a trailing space", format!("{p}/{q} ")),
        ("epsilon with a signed denominator", format!("{p}/-{q}")),
        ("epsilon with a zero denominator", format!("{p}/0")),
        ("epsilon with an underscore", format!("{p}_0/{q}")),
        ("epsilon in hexadecimal", "0x1".to_string()),
        ("epsilon empty", String::new()),
        ("epsilon NaN", "NaN".to_string()),
        ("epsilon inf", "inf".to_string()),
        ("epsilon fraction of decimals", format!("{p}.0/{q}")),
    ];
    for (class, text) in spell_invalid {
        mk.set(
            class,
            Expect::Invalid(Kind::Number),
            eps.clone(),
            Json::str(text),
        );
    }
    mk.set(
        "epsilon text beyond 10,000 characters",
        Expect::Invalid(Kind::Number),
        eps.clone(),
        Json::str(format!("{}{p}/{q}", "0".repeat(10_001))),
    );
    mk.set(
        "epsilon as a JSON float",
        Expect::Invalid(Kind::Schema),
        eps.clone(),
        Json::num("0.05"),
    );
    mk.set(
        "epsilon as a JSON integer",
        Expect::Invalid(Kind::Schema),
        eps.clone(),
        Json::num("1"),
    );
    mk.set(
        "error as a JSON float",
        Expect::Invalid(Kind::Schema),
        claim_path(0, "error"),
        Json::num("0.5"),
    );
    mk.set(
        "radius as a JSON float",
        Expect::Invalid(Kind::Schema),
        radius,
        Json::num("1.0"),
    );
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

fn entry_path(b: usize, list: &str, k: usize) -> Vec<Step> {
    path(&[key("ticket"), idx(b), key(list), idx(k)])
}

fn ticket_mutants(
    mk: &mut Maker,
    base: &Json,
    dims: &[u64],
    widths: &[u64],
    full: bool,
    cap: usize,
) {
    let depth = widths.len();
    let ticket = base.get("ticket").unwrap().as_array().unwrap();
    for b in 0..depth {
        let other = if b + 1 < depth {
            b + 1
        } else {
            b.saturating_sub(1)
        };
        let (n_in, n_out, width) = (dims[b], dims[b + 1], widths[b]);
        let mut max_j = None::<u64>;
        for list in ["hidden", "output"] {
            let entries = ticket[b].get(list).unwrap().as_array().unwrap();
            for e in entries {
                let a = e.as_array().unwrap();
                let j = if list == "hidden" {
                    num_of(&a[0])
                } else {
                    num_of(&a[1])
                };
                max_j = Some(max_j.map_or(j, |m: u64| m.max(j)));
            }
            for k in pick(entries.len(), cap, full) {
                let here = entry_path(b, list, k);
                let e = entries[k].as_array().unwrap();
                let (x, y) = (num_of(&e[0]), num_of(&e[1]));
                let value = fp::parse_rational(e[2].as_str().unwrap()).unwrap();
                let numer = (&value * BigRational::from_integer(fp::two53())).to_integer();
                let over = |n: BigInt| Json::str(format!("{n}/9007199254740992"));
                let at = |i: usize| {
                    let mut p = here.clone();
                    p.push(idx(i));
                    p
                };
                let mismatch = Expect::Invalid(Kind::ValueMismatch);
                mk.set("value +2/2^53", mismatch, at(2), over(&numer + 2));
                mk.set("value -2/2^53", mismatch, at(2), over(&numer - 2));
                mk.set(
                    "value +1/2^53 (even numerator)",
                    mismatch,
                    at(2),
                    over(&numer + 1),
                );
                mk.set("value negated", mismatch, at(2), over(-&numer));
                mk.set(
                    "value respelled unreduced",
                    Expect::Valid,
                    at(2),
                    Json::str(format!("{}/18014398509481984", &numer * 2)),
                );
                mk.set(
                    "value respelled as exact decimal",
                    Expect::Valid,
                    at(2),
                    Json::str(decimal_of(&value).unwrap()),
                );
                mk.set(
                    "value as a JSON float",
                    Expect::Invalid(Kind::Schema),
                    at(2),
                    Json::num("0.5"),
                );
                mk.set(
                    "value malformed",
                    Expect::Invalid(Kind::Number),
                    at(2),
                    Json::str("1/2/3"),
                );

                // Indices: neighbours, the first out of range, the largest u64, beyond u64.
                let (first_bound, second_bound) = if list == "hidden" {
                    (width, n_in)
                } else {
                    (n_out, width)
                };
                let range = Expect::Invalid(Kind::IndexOutOfRange);
                mk.set("index +1 (first)", Expect::Decide, at(0), Json::num(x + 1));
                if x > 0 {
                    mk.set("index -1 (first)", Expect::Decide, at(0), Json::num(x - 1));
                }
                mk.set("index +1 (second)", Expect::Decide, at(1), Json::num(y + 1));
                if y > 0 {
                    mk.set("index -1 (second)", Expect::Decide, at(1), Json::num(y - 1));
                }
                mk.set(
                    "index = bound (first)",
                    range,
                    at(0),
                    Json::num(first_bound),
                );
                mk.set(
                    "index = bound (second)",
                    range,
                    at(1),
                    Json::num(second_bound),
                );
                mk.set("index = 2^64 - 1", range, at(0), Json::num(u64::MAX));
                mk.set(
                    "index = 2^64",
                    Expect::Invalid(Kind::Schema),
                    at(0),
                    Json::num("18446744073709551616"),
                );
                mk.set(
                    "index = -1",
                    Expect::Invalid(Kind::Schema),
                    at(1),
                    Json::num("-1"),
                );
                mk.set(
                    "index as a JSON float",
                    Expect::Invalid(Kind::Schema),
                    at(1),
                    Json::num(format!("{y}.0")),
                );

                // Entries dropped, duplicated, moved and swapped between blocks.
                let list_path = path(&[key("ticket"), idx(b), key(list)]);
                let entry = entries[k].clone();
                mk.push(
                    if list == "hidden" {
                        "hidden entry dropped"
                    } else {
                        "output entry dropped"
                    },
                    Expect::Decide,
                    |j| {
                        j.at_mut(&list_path)
                            .unwrap()
                            .as_array_mut()
                            .unwrap()
                            .remove(k);
                    },
                );
                let dup_kind = if list == "hidden" {
                    Kind::DuplicateHidden
                } else {
                    Kind::DuplicateOutput
                };
                let e2 = entry.clone();
                mk.push("entry duplicated", Expect::Invalid(dup_kind), |j| {
                    j.at_mut(&list_path)
                        .unwrap()
                        .as_array_mut()
                        .unwrap()
                        .push(e2);
                });
                if other != b {
                    let to = path(&[key("ticket"), idx(other), key(list)]);
                    let e2 = entry.clone();
                    mk.push("entry moved to the other block", Expect::Decide, |j| {
                        j.at_mut(&list_path)
                            .unwrap()
                            .as_array_mut()
                            .unwrap()
                            .remove(k);
                        j.at_mut(&to).unwrap().as_array_mut().unwrap().push(e2);
                    });
                    let others = ticket[other].get(list).unwrap().as_array().unwrap();
                    if !others.is_empty() {
                        let k2 = k % others.len();
                        let (a, c) = (entry.clone(), others[k2].clone());
                        mk.push("entries swapped between blocks", Expect::Decide, |j| {
                            j.at_mut(&list_path).unwrap().as_array_mut().unwrap()[k] = c;
                            j.at_mut(&to).unwrap().as_array_mut().unwrap()[k2] = a;
                        });
                    }
                }
            }
        }
        // A kept neuron moved to the far end of a width-2^64 - 1 layer of g, with the true
        // weights there (u128 index arithmetic; beyond 2^67 the keystream ends).
        let hidden = ticket[b].get("hidden").unwrap().as_array().unwrap();
        let output = ticket[b].get("output").unwrap().as_array().unwrap();
        let seed_text = base
            .get("random_network")
            .unwrap()
            .get("seed")
            .unwrap()
            .as_str()
            .unwrap();
        let key_bytes: [u8; 32] =
            std::array::from_fn(|i| u8::from_str_radix(&seed_text[2 * i..2 * i + 2], 16).unwrap());
        for k in pick(hidden.len(), 2, false) {
            let e = hidden[k].as_array().unwrap();
            let (j, t) = (num_of(&e[0]), num_of(&e[1]));
            let far = u64::MAX - 1;
            let value = |stream: u64, index: u128, old: &Json| match fp::weight(
                &key_bytes, stream, index,
            ) {
                Some(n) => Json::str(format!("{n}/9007199254740992")),
                None => old.clone(),
            };
            let beyond = u128::from(far) * u128::from(n_in) + u128::from(t) >= 1 << 67
                || output.iter().any(|o| {
                    let o = o.as_array().unwrap();
                    num_of(&o[1]) == j
                        && u128::from(far) * u128::from(n_out) + u128::from(num_of(&o[0]))
                            >= 1 << 67
                });
            let expect = if beyond {
                Expect::Invalid(Kind::IndexOutOfRange)
            } else {
                Expect::Decide
            };
            mk.push(
                "neuron moved to j = 2^64 - 2 with g's weights there",
                expect,
                |root| {
                    *root
                        .at_mut(&path(&[
                            key("random_network"),
                            key("hidden_widths"),
                            idx(b),
                        ]))
                        .unwrap() = Json::num(u64::MAX);
                    let block = root.at_mut(&path(&[key("ticket"), idx(b)])).unwrap();
                    let h = &mut block.get_mut("hidden").unwrap().as_array_mut().unwrap()[k];
                    let h = h.as_array_mut().unwrap();
                    h[2] = value(
                        2 * b as u64,
                        u128::from(far) * u128::from(n_in) + u128::from(t),
                        &h[2],
                    );
                    h[0] = Json::num(far);
                    for o in block.get_mut("output").unwrap().as_array_mut().unwrap() {
                        let o = o.as_array_mut().unwrap();
                        if num_of(&o[1]) == j {
                            let m = num_of(&o[0]);
                            o[2] = value(
                                2 * b as u64 + 1,
                                u128::from(far) * u128::from(n_out) + u128::from(m),
                                &o[2],
                            );
                            o[1] = Json::num(far);
                        }
                    }
                },
            );
        }
        let block_path = path(&[key("ticket"), idx(b)]);
        mk.push("entries listed in reverse order", Expect::Valid, |j| {
            for list in ["hidden", "output"] {
                j.at_mut(&block_path)
                    .unwrap()
                    .get_mut(list)
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .reverse();
            }
        });
        // Widths: the prefix property makes any width above the largest index valid.
        let wpath = path(&[key("random_network"), key("hidden_widths"), idx(b)]);
        if let Some(max_j) = max_j {
            mk.set(
                "width = largest index + 1",
                Expect::Valid,
                wpath.clone(),
                Json::num(max_j + 1),
            );
            mk.set(
                "width = largest index (shrunk below it)",
                Expect::Invalid(Kind::IndexOutOfRange),
                wpath.clone(),
                Json::num(max_j),
            );
            mk.set(
                "width 0",
                Expect::Invalid(Kind::IndexOutOfRange),
                wpath.clone(),
                Json::num(0),
            );
        }
        mk.set(
            "width 2^60",
            Expect::Valid,
            wpath.clone(),
            Json::num(1u64 << 60),
        );
        mk.set(
            "width 2^64 - 1",
            Expect::Valid,
            wpath.clone(),
            Json::num(u64::MAX),
        );
        mk.set(
            "width 2^64",
            Expect::Invalid(Kind::Schema),
            wpath.clone(),
            Json::num("18446744073709551616"),
        );
        mk.push(
            "ticket block dropped",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.get_mut("ticket")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(b);
            },
        );
        mk.push(
            "bound block dropped",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&path(&[key("bound"), key("blocks")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(b);
            },
        );
        mk.push("width dropped", Expect::Invalid(Kind::Dimension), |j| {
            j.at_mut(&path(&[key("random_network"), key("hidden_widths")]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .remove(b);
        });
    }
}

fn target_mutants(mk: &mut Maker, base: &Json, full: bool, cap: usize) {
    let layers = base
        .get("target")
        .unwrap()
        .get("layers")
        .unwrap()
        .as_array()
        .unwrap();
    let depth = layers.len();
    for (i, layer) in layers.iter().enumerate() {
        let rows = layer.get("weights").unwrap().as_array().unwrap();
        let cols = rows.first().map_or(0, |r| r.as_array().unwrap().len());
        let cells = rows.len() * cols;
        for cell in pick(cells, cap, full) {
            let (m, t) = (cell / cols, cell % cols);
            let w = fp::parse_rational(rows[m].as_array().unwrap()[t].as_str().unwrap()).unwrap();
            let p = path(&[
                key("target"),
                key("layers"),
                idx(i),
                key("weights"),
                idx(m),
                idx(t),
            ]);
            mk.set(
                "target weight + 2^-60",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 1 << 60))),
            );
            mk.set(
                "target weight + 1/100",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 100))),
            );
            mk.set(
                "target weight - 1/100",
                Expect::Decide,
                p.clone(),
                text_of(&(&w - rat(1, 100))),
            );
            mk.set(
                "target weight + 1",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 1))),
            );
            mk.set(
                "target weight respelled unreduced",
                Expect::Valid,
                p.clone(),
                Json::str(format!("{}/{}", w.numer() * 7, w.denom() * 7)),
            );
            mk.set(
                "target weight 1/0",
                Expect::Invalid(Kind::Number),
                p.clone(),
                Json::str("1/0"),
            );
            mk.set(
                "target weight as a JSON float",
                Expect::Invalid(Kind::Schema),
                p,
                Json::num("0.25"),
            );
        }
        let lpath = path(&[key("target"), key("layers"), idx(i)]);
        let act = |j: &mut Json, a: &str| {
            j.at_mut(&lpath).unwrap().set("activation", Json::str(a));
        };
        if i + 1 == depth {
            let flipped = if layer.get("activation").unwrap().as_str() == Some("relu") {
                "linear"
            } else {
                "relu"
            };
            mk.push("last activation relu <-> linear", Expect::Valid, |j| {
                act(j, flipped)
            });
        } else {
            mk.push(
                "hidden layer made linear",
                Expect::Invalid(Kind::Activation),
                |j| act(j, "linear"),
            );
        }
        mk.push("activation tanh", Expect::Invalid(Kind::Activation), |j| {
            act(j, "tanh")
        });
        mk.push(
            "activation ReLU (case)",
            Expect::Invalid(Kind::Activation),
            |j| act(j, "ReLU"),
        );
        let wpath = path(&[key("target"), key("layers"), idx(i), key("weights")]);
        mk.push("target row dropped", Expect::Decide, |j| {
            j.at_mut(&wpath).unwrap().as_array_mut().unwrap().pop();
        });
        mk.push(
            "target column dropped in one row",
            Expect::Invalid(Kind::Dimension),
            |j| {
                let mut p = wpath.clone();
                p.push(idx(0));
                j.at_mut(&p).unwrap().as_array_mut().unwrap().pop();
            },
        );
        mk.push(
            "layer removed from the target only",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&path(&[key("target"), key("layers")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
            },
        );
        mk.push(
            "layer removed with its block, claims and width",
            Expect::Decide,
            |j| {
                j.at_mut(&path(&[key("target"), key("layers")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.get_mut("ticket")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.at_mut(&path(&[key("bound"), key("blocks")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.at_mut(&path(&[key("random_network"), key("hidden_widths")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                if i == 0 {
                    let n1 = rows.len();
                    j.at_mut(&path(&[key("target")]))
                        .unwrap()
                        .set("input_dim", Json::num(n1));
                }
            },
        );
    }
    let input_dim = num_of(base.get("target").unwrap().get("input_dim").unwrap());
    let p = path(&[key("target"), key("input_dim")]);
    mk.set(
        "input_dim + 1",
        Expect::Invalid(Kind::Dimension),
        p.clone(),
        Json::num(input_dim + 1),
    );
    mk.set(
        "input_dim - 1",
        Expect::Invalid(Kind::Dimension),
        p,
        Json::num(input_dim - 1),
    );
}

fn header_mutants(mk: &mut Maker, base: &Json, seed_bytes: usize) {
    let seed = base
        .get("random_network")
        .unwrap()
        .get("seed")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let sp = path(&[key("random_network"), key("seed")]);
    let bytes: Vec<usize> = if seed_bytes >= 32 {
        (0..32).collect()
    } else {
        vec![0, 1, 13, 31]
    };
    for byte in bytes {
        let mut key_bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        key_bytes[byte] ^= 1 << (byte % 8);
        let flipped: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
        mk.set(
            "seed byte flipped",
            Expect::Invalid(Kind::ValueMismatch),
            sp.clone(),
            Json::str(flipped),
        );
    }
    mk.set(
        "seed in upper case",
        Expect::Valid,
        sp.clone(),
        Json::str(seed.to_uppercase()),
    );
    mk.set(
        "seed 63 digits",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(&seed[1..]),
    );
    mk.set(
        "seed 65 digits",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(format!("{seed}0")),
    );
    mk.set(
        "seed not hex",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(format!("g{}", &seed[1..])),
    );
    mk.set(
        "seed with 0x",
        Expect::Invalid(Kind::Header),
        sp,
        Json::str(format!("0x{}", &seed[2..])),
    );

    mk.set(
        "format wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("format")]),
        Json::str("slth-network"),
    );
    mk.set(
        "version 2",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(2),
    );
    mk.set(
        "version 0",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(0),
    );
    mk.set(
        "version as a string",
        Expect::Invalid(Kind::Schema),
        path(&[key("version")]),
        Json::str("1"),
    );
    mk.set(
        "version 1.0",
        Expect::Invalid(Kind::Schema),
        path(&[key("version")]),
        Json::num("1.0"),
    );
    mk.set(
        "rng wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("random_network"), key("rng")]),
        Json::str("chacha8"),
    );
    mk.set(
        "distribution wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("random_network"), key("distribution")]),
        Json::str("uniform-dyadic-52"),
    );
    mk.set(
        "norm l1",
        Expect::Invalid(Kind::Domain),
        path(&[key("domain"), key("norm")]),
        Json::str("l1"),
    );
    mk.set(
        "norm L2",
        Expect::Invalid(Kind::Domain),
        path(&[key("domain"), key("norm")]),
        Json::str("L2"),
    );
    mk.push(
        "unknown top-level field",
        Expect::Invalid(Kind::Schema),
        |j| j.set("extra", Json::Null),
    );
    mk.push(
        "unknown field in a bound block",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&path(&[key("bound"), key("blocks"), idx(0)]))
                .unwrap()
                .set("note", Json::str("x"));
        },
    );
    mk.push(
        "unknown field in the domain",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.get_mut("domain").unwrap().set("center", Json::str("0"));
        },
    );
    mk.push(
        "duplicate key (version twice, same value)",
        Expect::Invalid(Kind::Schema),
        |j| {
            if let Json::Obj(m) = j {
                m.push(("version".into(), Json::num(1)));
            }
        },
    );
    mk.push(
        "duplicate key (epsilon twice)",
        Expect::Invalid(Kind::Schema),
        |j| {
            if let Some(Json::Obj(m)) = j.get_mut("bound") {
                m.push(("epsilon".into(), Json::str("1000")));
            }
        },
    );
    mk.push(
        "missing field (domain.norm)",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.get_mut("domain").unwrap().remove("norm");
        },
    );
    mk.push("meta replaced", Expect::Valid, |j| {
        j.set(
            "meta",
            Json::Obj(vec![
                ("producer".into(), Json::str("someone else")),
                ("n".into(), Json::num("1e999")),
            ]),
        );
    });
    mk.push("meta removed", Expect::Valid, |j| j.remove("meta"));
    mk.push("meta deeply nested (100 levels)", Expect::Valid, |j| {
        let mut v = Json::Arr(vec![]);
        for _ in 0..100 {
            v = Json::Arr(vec![v]);
        }
        j.set("meta", v);
    });
    mk.push("meta with duplicate keys", Expect::Valid, |j| {
        j.set(
            "meta",
            Json::Obj(vec![("a".into(), Json::num(1)), ("a".into(), Json::num(2))]),
        );
    });
    let nonneg = base.get("domain").unwrap().get("nonnegative") == Some(&Json::Bool(true));
    let np = path(&[key("domain"), key("nonnegative")]);
    mk.push("domain nonnegative flipped", Expect::Decide, |j| {
        j.get_mut("domain")
            .unwrap()
            .set("nonnegative", Json::Bool(!nonneg));
    });
    mk.push("domain nonnegative removed", Expect::Decide, |j| {
        j.get_mut("domain").unwrap().remove("nonnegative")
    });
    mk.set(
        "domain nonnegative as a string",
        Expect::Invalid(Kind::Schema),
        np.clone(),
        Json::str("true"),
    );
    mk.set(
        "domain nonnegative as 1",
        Expect::Invalid(Kind::Schema),
        np,
        Json::num(1),
    );
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
    claim_mutants(&mut mk, &facts, full);
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
    ticket_mutants(&mut mk, &base, &dims, &widths, full, cap);
    target_mutants(&mut mk, &base, full, cap);
    header_mutants(&mut mk, &base, if big && !full { 4 } else { 32 });
    mk.flush();
    mk.made
}

static SKIPPED: AtomicUsize = AtomicUsize::new(0);
static CHECKER_NS: AtomicUsize = AtomicUsize::new(0);
static SLTH_NS: AtomicUsize = AtomicUsize::new(0);

// ---------------------------------------------------------------------------------------
// Running them

#[derive(Default, Clone)]
struct Row {
    mutants: usize,
    accepted: usize,
    rejected: usize,
    /// rejected with the kind the class names (classes that name one)
    as_expected: usize,
    undecided: usize,
    /// rejection kinds seen
    kinds: BTreeMap<String, usize>,
    /// checker + slth seconds, summed over threads
    seconds: f64,
}

/// The shared state of a campaign: the independent checker, the tallies, the failures.
struct Campaign {
    checker: Checker,
    binary: PathBuf,
    scratch: PathBuf,
    cli_every: usize,
    threads: usize,
    count: AtomicUsize,
    cli_runs: AtomicUsize,
    table: Mutex<BTreeMap<&'static str, Row>>,
    per_source: Mutex<BTreeMap<String, Row>>,
    failures: Mutex<Vec<String>>,
}

impl Campaign {
    /// Judges a batch on every thread.
    fn judge_all(&self, batch: &[Mutant]) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.threads {
                s.spawn(|| {
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(m) = batch.get(k) else { break };
                        let n = self.count.fetch_add(1, Ordering::Relaxed);
                        self.judge(n, m);
                    }
                });
            }
        });
    }

    /// Judges one mutant: the independent verdict, slth in every mode, the CLI on a sample.
    fn judge(&self, n: usize, m: &Mutant) {
        let t0 = Instant::now();
        let verdict = self.checker.check_text(&m.text);
        let t1 = Instant::now();
        let outcomes = modes::library(&m.text);
        CHECKER_NS.fetch_add((t1 - t0).as_nanos() as usize, Ordering::Relaxed);
        SLTH_NS.fetch_add(t1.elapsed().as_nanos() as usize, Ordering::Relaxed);
        let mut row = Row {
            mutants: 1,
            seconds: t0.elapsed().as_secs_f64(),
            ..Row::default()
        };
        let fail = |why: String| {
            self.failures
                .lock()
                .unwrap()
                .push(format!("[{}] {}: {why}", m.source, m.class));
        };
        // Every mode gives the same verdict, kind and place.
        if outcomes.iter().any(|o| o != &outcomes[0]) {
            fail(format!("modes disagree: {outcomes:?}"));
        }
        let o = &outcomes[0];
        if o.accepted {
            row.accepted = 1;
        } else {
            row.rejected = 1;
        }
        match (&verdict, m.expect) {
            (Verdict::Valid, Expect::Invalid(k)) => fail(format!(
                "class expects {k:?} but the checker finds it valid"
            )),
            (Verdict::Invalid(v), Expect::Valid) => {
                fail(format!("class expects valid but the checker finds {v:?}"))
            }
            (Verdict::Invalid(_), Expect::Invalid(k)) if !verdict.kinds().contains(&k) => {
                fail(format!(
                    "class expects {k:?}, the checker finds {:?}",
                    verdict.kinds()
                ))
            }
            _ => {}
        }
        match &verdict {
            Verdict::Undecided(_) => row.undecided = 1,
            Verdict::Valid => {
                if !o.accepted {
                    fail(format!("TRUE certificate rejected: {o:?}"));
                }
            }
            Verdict::Invalid(violations) => {
                if o.accepted {
                    fail(format!(
                        "FALSE certificate accepted; violations {violations:?}"
                    ));
                } else if !verdict.kinds().iter().any(|k| k.name() == o.kind) {
                    fail(format!(
                        "rejected as {} at {} but the violations are {:?}",
                        o.kind, o.place, violations
                    ));
                }
                if matches!(m.expect, Expect::Invalid(k) if k.name() == o.kind) {
                    row.as_expected = 1;
                }
            }
        }
        if !o.accepted {
            row.kinds.insert(o.kind.clone(), 1);
        }
        // The command line in its modes, on a sample (every mutant when full).
        if n.is_multiple_of(self.cli_every) {
            let file = self.scratch.join(format!("m{n}.json"));
            std::fs::write(&file, &m.text).unwrap();
            for (accepted, place) in modes::cli(&self.binary, &file) {
                if accepted != o.accepted
                    || (!o.accepted && o.kind != "Schema" && o.kind != "Json" && place != o.place)
                {
                    fail(format!(
                        "CLI says accepted={accepted} at {place:?}, library {o:?}"
                    ));
                }
            }
            self.cli_runs.fetch_add(1, Ordering::Relaxed);
            let _ = std::fs::remove_file(&file);
        }
        let mut t = self.table.lock().unwrap();
        add(t.entry(m.class).or_default(), &row);
        drop(t);
        add(
            self.per_source
                .lock()
                .unwrap()
                .entry(m.source.clone())
                .or_default(),
            &row,
        );
    }
}

fn run(full: bool) {
    let started = Instant::now();
    let scratch = std::env::temp_dir().join(format!("slth-mutations-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let campaign = Campaign {
        checker: Checker::default(),
        binary: PathBuf::from(env!("CARGO_BIN_EXE_slth")),
        scratch: scratch.clone(),
        cli_every: if full { 10 } else { 40 },
        threads: std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8),
        count: AtomicUsize::new(0),
        cli_runs: AtomicUsize::new(0),
        table: Mutex::new(BTreeMap::new()),
        per_source: Mutex::new(BTreeMap::new()),
        failures: Mutex::new(Vec::new()),
    };
    let sources = sources();
    let mut made = 0;
    for (name, text) in &sources {
        // The original itself: valid for slth in every mode too.
        for (mode, outcome) in modes::LIBRARY_MODES.iter().zip(modes::library(text)) {
            assert!(
                outcome.accepted,
                "{name} rejected by mode {mode}: {outcome:?}"
            );
        }
        made += all_mutants(name, text, &campaign, full);
    }
    let Campaign {
        table,
        per_source,
        failures,
        cli_runs,
        ..
    } = campaign;
    let _ = std::fs::remove_dir_all(&scratch);

    let table = table.into_inner().unwrap();
    let mut total = Row::default();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "\nmutation campaign ({}): {} sources, {made} mutants, {} CLI cross-checks ({} modes each), {} threshold mutants skipped (spectral side > 12 without --ignored), {seconds:.1}s",
        if full { "full" } else { "default sample" },
        sources.len(),
        cli_runs.load(Ordering::Relaxed),
        modes::CLI_MODES.len(),
        SKIPPED.load(Ordering::Relaxed),
    );
    println!(
        "time: independent checker {:.1}s, slth (3 library modes) {:.1}s, summed over threads",
        CHECKER_NS.load(Ordering::Relaxed) as f64 * 1e-9,
        SLTH_NS.load(Ordering::Relaxed) as f64 * 1e-9
    );
    let kinds = |row: &Row| {
        row.kinds
            .iter()
            .map(|(k, n)| format!("{k}:{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "{:<50} {:>7} {:>8} {:>8} {:>8} {:>9}  rejection kinds",
        "class", "mutants", "accepted", "rejected", "as class", "undecided"
    );
    for (class, row) in &table {
        println!(
            "{:<50} {:>7} {:>8} {:>8} {:>8} {:>9}  {}",
            class,
            row.mutants,
            row.accepted,
            row.rejected,
            row.as_expected,
            row.undecided,
            kinds(row)
        );
        add(&mut total, row);
    }
    println!(
        "{:<50} {:>7} {:>8} {:>8} {:>8} {:>9}",
        "TOTAL", total.mutants, total.accepted, total.rejected, total.as_expected, total.undecided
    );
    println!("\nper source (seconds: checker + slth, summed over threads):");
    for (source, row) in per_source.into_inner().unwrap() {
        println!(
            "{:<50} {:>7} {:>8} {:>8} {:>8} {:>9} {:>7.1}s",
            source,
            row.mutants,
            row.accepted,
            row.rejected,
            row.as_expected,
            row.undecided,
            row.seconds
        );
    }
    println!(
        "(accepted = the independent checker finds the mutant true, rejected = it finds it false; \
         'as class' = rejected with the kind the class names; every rejection names a violation \
         the independent checker also finds)"
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} mutants wrong:\n{}",
        failures.len(),
        total.mutants,
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        total.accepted > 100 && total.rejected > 1000,
        "the campaign must exercise both verdicts"
    );
}

fn add(into: &mut Row, row: &Row) {
    into.mutants += row.mutants;
    into.accepted += row.accepted;
    into.rejected += row.rejected;
    into.as_expected += row.as_expected;
    into.undecided += row.undecided;
    into.seconds += row.seconds;
    for (k, n) in &row.kinds {
        *into.kinds.entry(k.clone()).or_default() += n;
    }
}

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
