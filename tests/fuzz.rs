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
//! The coverage-guided counterpart is `fuzz/` (cargo-fuzz, libFuzzer; see
//! `fuzz/fuzz_targets/verify.rs`); its minimized corpus is `tests/fuzz_corpus/coverage/`,
//! replayed here by `coverage_corpus_replays` with these properties.

mod common;

use common::modes::{self, Outcome};
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

// ---------------------------------------------------------------------------------------
// Mutators

/// Hostile JSON values (as raw text where JSON itself cannot say it).
fn hostile_value(rng: &mut Rng) -> Json {
    let huge_digits = |n: usize| "9".repeat(n);
    match rng.below(44) {
        0 => Json::num("0"),
        1 => Json::num("-1"),
        2 => Json::num("-0"),
        3 => Json::num("1e2"),
        4 => Json::num("0.5"),
        5 => Json::num("18446744073709551615"),
        6 => Json::num("18446744073709551616"),
        7 => Json::num("1152921504606846976"), // 2^60
        8 => Json::num("281474976710656"),     // 2^48
        9 => Json::num("4294967296"),
        10 => Json::num(huge_digits(1000)),
        11 => Json::num("1e999999999"),
        12 => Json::Num("NaN".into()),
        13 => Json::Num("Infinity".into()),
        14 => Json::Num("-Infinity".into()),
        15 => Json::str(""),
        16 => Json::str("NaN"),
        17 => Json::str("Infinity"),
        18 => Json::str("1/0"),
        19 => Json::str("0/0"),
        20 => Json::str("1e10001"),
        21 => Json::str("1e-10000"),
        22 => Json::str("-1/3"),
        23 => Json::str("0.1"),
        24 => Json::str("a".repeat(100_000)),
        25 => Json::str(format!(
            "{}/7",
            huge_digits(if rng.chance(5) { 1_000_000 } else { 20_000 })
        )),
        26 => Json::str(huge_digits(10_000)),
        27 => Json::str(huge_digits(10_001)),
        28 => Json::str("\u{663}"),
        29 => Json::str("\u{0}"),
        30 => Json::str("1/2 "),
        31 => Json::str("+1/2"),
        32 => Json::str("1_0"),
        33 => Json::Arr(vec![]),
        34 => Json::Arr(vec![Json::Arr(vec![])]),
        35 => {
            let depth = if rng.chance(10) { 100_000 } else { 200 };
            Json::Num(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
        }
        36 => Json::Num(format!(
            "[{}0]",
            "0,".repeat(if rng.chance(10) { 100_000 } else { 1000 })
        )),
        37 => Json::Obj(vec![]),
        38 => Json::Null,
        39 => Json::Bool(true),
        40 => Json::str("relu"),
        41 => Json::str("spectral"),
        42 => Json::str("0000000000000000000000000000000000000000000000000000000000000000"),
        _ => Json::num(rng.next() >> rng.below(64)),
    }
}

/// Paths to every node of the tree (capped).
fn node_paths(v: &Json, here: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if out.len() > 20_000 {
        return;
    }
    out.push(here.clone());
    let children: Vec<&Json> = match v {
        Json::Arr(items) => items.iter().collect(),
        Json::Obj(members) => members.iter().map(|(_, x)| x).collect(),
        _ => return,
    };
    for (i, c) in children.into_iter().enumerate() {
        here.push(i);
        node_paths(c, here, out);
        here.pop();
    }
}

fn node_mut<'a>(v: &'a mut Json, path: &[usize]) -> &'a mut Json {
    let mut node = v;
    for &i in path {
        node = match node {
            Json::Arr(items) => &mut items[i],
            Json::Obj(members) => &mut members[i].1,
            _ => unreachable!(),
        };
    }
    node
}

fn node<'a>(v: &'a Json, path: &[usize]) -> &'a Json {
    let mut node = v;
    for &i in path {
        node = match node {
            Json::Arr(items) => &items[i],
            Json::Obj(members) => &members[i].1,
            _ => unreachable!(),
        };
    }
    node
}

fn mutate_tree(rng: &mut Rng, tree: &mut Json) {
    let mut paths = Vec::new();
    node_paths(tree, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let donor_path = rng.pick(&paths).clone();
    let donor = node(tree, &donor_path).clone();
    let target = node_mut(tree, &path);
    match rng.below(12) {
        0..=3 => *target = hostile_value(rng),
        4 => {
            // A number nudged, or a string's number turned into a JSON number.
            *target = match target {
                Json::Num(t) => match t.parse::<u64>() {
                    Ok(n) => Json::num(match rng.below(3) {
                        0 => n.wrapping_add(1),
                        1 => n.wrapping_sub(1),
                        _ => n.wrapping_mul(2),
                    }),
                    Err(_) => Json::num("1"),
                },
                Json::Str(s) => Json::Num(s.clone()),
                _ => hostile_value(rng),
            }
        }
        5 => *target = donor,
        6 => match target {
            Json::Arr(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                items.remove(i);
            }
            Json::Obj(members) if !members.is_empty() => {
                let i = rng.below(members.len());
                members.remove(i);
            }
            _ => *target = Json::Arr(vec![]),
        },
        7 => match target {
            Json::Arr(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                let copy = items[i].clone();
                items.insert(rng.below(items.len() + 1), copy);
            }
            Json::Obj(members) if !members.is_empty() => {
                // A duplicate key, with the same or another value.
                let i = rng.below(members.len());
                let (k, v) = members[i].clone();
                let v = if rng.chance(50) {
                    v
                } else {
                    hostile_value(rng)
                };
                members.push((k, v));
            }
            _ => *target = hostile_value(rng),
        },
        8 => match target {
            Json::Arr(items) if items.len() >= 2 => {
                let (i, j) = (rng.below(items.len()), rng.below(items.len()));
                items.swap(i, j);
            }
            Json::Obj(members) => members.push(("extra".into(), hostile_value(rng))),
            _ => *target = hostile_value(rng),
        },
        9 => {
            // An object written as the array of its values (serde's derived readers
            // accept that for structs), or wrapped in an array.
            let replacement = match &*target {
                Json::Obj(members) => Json::Arr(members.iter().map(|(_, v)| v.clone()).collect()),
                other => Json::Arr(vec![other.clone()]),
            };
            *target = replacement;
        }
        10 => {
            if let Json::Str(s) = target {
                let mut t: Vec<char> = s.chars().collect();
                if !t.is_empty() {
                    let i = rng.below(t.len());
                    t[i] = *rng.pick(&['0', '9', '-', '/', '.', 'e', '+', ' ', 'x', '1']);
                }
                *s = t.into_iter().collect();
            } else {
                *target = hostile_value(rng);
            }
        }
        _ => *target = Json::Arr(vec![std::mem::replace(target, Json::Null)]),
    }
}

const TOKENS: [&[u8]; 16] = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b",",
    b"null",
    b"18446744073709551616",
    b"\xef\xbb\xbf",
];

fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[(String, Vec<u8>)]) {
    let n = data.len().max(1);
    match rng.below(9) {
        0 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] = *rng.pick(b"\"',:[]{}0123456789-+./eE\\ \n\x00\xff");
            }
        }
        2 => {
            let at = rng.below(n);
            let token = rng.pick(&TOKENS);
            let at = at.min(data.len());
            data.splice(at..at, token.iter().copied());
        }
        3 => {
            let at = rng.below(n).min(data.len());
            let len = rng.below(16);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 => {
            let a = rng.below(n).min(data.len());
            let b = (a + rng.below(64)).min(data.len());
            data.drain(a..b);
        }
        5 => {
            let a = rng.below(n).min(data.len());
            let b = (a + rng.below(256)).min(data.len());
            let chunk = data[a..b].to_vec();
            let at = rng.below(n).min(data.len());
            data.splice(at..at, chunk);
        }
        6 => {
            let keep = rng.below(n);
            data.truncate(keep);
        }
        7 => {
            // Splice: our prefix, another corpus file's suffix.
            let other = &rng.pick(corpus).1;
            let a = rng.below(n).min(data.len());
            let b = rng.below(other.len().max(1)).min(other.len());
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
        }
        _ => {
            // A digit run changed (indices, widths, numerators).
            let digits: Vec<usize> = (0..data.len())
                .filter(|&i| data[i].is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                let i = *rng.pick(&digits);
                data[i] = b'0' + rng.below(10) as u8;
            }
        }
    }
}

/// The input of execution `i` of a run with base seed `seed`.
fn make_input(seed: u64, i: u64, corpus: &[(String, Vec<u8>)], trees: &[Option<Json>]) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(0x100_0000_01b3) ^ i);
    let k = rng.below(corpus.len());
    let structured = trees[k].is_some() && rng.chance(60);
    if structured {
        let mut tree = trees[k].clone().unwrap();
        for _ in 0..1 + rng.below(3) {
            mutate_tree(&mut rng, &mut tree);
        }
        let mut bytes = tree.write().into_bytes();
        if rng.chance(10) {
            mutate_bytes(&mut rng, &mut bytes, corpus);
        }
        bytes
    } else {
        let mut data = corpus[k].1.clone();
        for _ in 0..1 + rng.below(6) {
            mutate_bytes(&mut rng, &mut data, corpus);
        }
        data
    }
}

// ---------------------------------------------------------------------------------------
// Executing

#[derive(Default)]
struct Stats {
    executions: usize,
    not_utf8: usize,
    parsed: usize,
    accepted: usize,
    outcomes: BTreeMap<String, usize>,
    checker_undecided: usize,
    limit_refusals: usize,
    slowest: (f64, Vec<u8>),
    failures: Vec<(String, Vec<u8>)>,
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn install_quiet_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let here = format!("{info}");
            let in_fuzz = LAST_PANIC.with(|p| {
                let mut p = p.borrow_mut();
                if p.as_str() == "armed" {
                    *p = here.clone();
                    true
                } else {
                    false
                }
            });
            if !in_fuzz {
                default(info);
            }
        }));
    });
}

/// One execution: slth in every library mode, then the properties against the independent
/// checker. Returns the failure, if any, and slth's outcome.
fn execute(input: &[u8], checker: &Checker, stats: &mut Stats) {
    stats.executions += 1;
    let Ok(text) = std::str::from_utf8(input) else {
        // `certificate::load` refuses non-UTF-8 files before parsing.
        stats.not_utf8 += 1;
        return;
    };
    LAST_PANIC.with(|p| *p.borrow_mut() = "armed".into());
    let started = Instant::now();
    let run = catch_unwind(AssertUnwindSafe(|| modes::library(text)));
    let seconds = started.elapsed().as_secs_f64();
    let panic = LAST_PANIC.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if seconds > stats.slowest.0 {
        stats.slowest = (seconds, input.to_vec());
    }
    let outcomes = match run {
        Ok(o) => o,
        Err(_) => {
            stats
                .failures
                .push((format!("panic: {panic}"), input.to_vec()));
            return;
        }
    };
    if seconds > BUDGET_SECONDS {
        stats.failures.push((
            format!("slow: {seconds:.2}s (budget {BUDGET_SECONDS}s)"),
            input.to_vec(),
        ));
    }
    if outcomes.iter().any(|o| o != &outcomes[0]) {
        stats
            .failures
            .push((format!("modes disagree: {outcomes:?}"), input.to_vec()));
    }
    let o: &Outcome = &outcomes[0];
    if o.kind != "Json" {
        stats.parsed += 1;
    }
    if o.accepted {
        stats.accepted += 1;
    }
    let label = if o.accepted {
        "VALID".to_string()
    } else {
        o.kind.clone()
    };
    *stats.outcomes.entry(label).or_default() += 1;

    if input.len() > CHECKER_MAX_BYTES {
        stats.checker_undecided += 1;
        return;
    }
    LAST_PANIC.with(|p| *p.borrow_mut() = "armed".into());
    let verdict = catch_unwind(AssertUnwindSafe(|| checker.check_text(text)));
    let panic = LAST_PANIC.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let Ok(verdict) = verdict else {
        stats.failures.push((
            format!("the independent checker panicked: {panic}"),
            input.to_vec(),
        ));
        return;
    };
    match verdict {
        Verdict::Undecided(_) => stats.checker_undecided += 1,
        Verdict::Valid => {
            if !o.accepted && o.kind != "Limit" {
                stats
                    .failures
                    .push((format!("true certificate rejected: {o:?}"), input.to_vec()));
            }
        }
        Verdict::Invalid(violations) => {
            if o.accepted {
                stats.failures.push((
                    format!("FALSE certificate accepted: {violations:?}"),
                    input.to_vec(),
                ));
            } else if o.kind == "Limit" {
                // A resource limit refuses before the rule the checker names is reached:
                // safe, and counted.
                stats.limit_refusals += 1;
            } else {
                let kinds: Vec<String> = violations
                    .iter()
                    .flat_map(|v| v.kinds.iter().map(|k| k.name()))
                    .collect();
                // JSON text slth cannot read is also text we cannot, and vice versa.
                let json_like = |k: &str| k == "Json" || k == "Schema" || k == "Limit";
                let fine = kinds.contains(&o.kind)
                    || (json_like(&o.kind) && kinds.iter().all(|k| json_like(k)));
                if !fine {
                    stats.failures.push((
                        format!(
                            "rejected as {} at {} but the violations are {violations:?}",
                            o.kind, o.place
                        ),
                        input.to_vec(),
                    ));
                }
            }
        }
    }
}

/// Runs `executions` executions from base seed `seed` on `threads` threads.
fn campaign(executions: u64, seed: u64, threads: usize) -> Stats {
    install_quiet_panic_hook();
    let corpus = corpus();
    let trees: Vec<Option<Json>> = corpus
        .iter()
        .map(|(_, b)| {
            std::str::from_utf8(b)
                .ok()
                .and_then(|t| json::parse(t, 128).ok())
        })
        .collect();
    let checker = Checker::default();
    let next = AtomicU64::new(0);
    let done = Arc::new(AtomicBool::new(false));
    // The watchdog: the running execution of each thread and since when.
    type Running = Mutex<(Instant, Vec<u8>)>;
    let current: Arc<Vec<Running>> = Arc::new(
        (0..threads)
            .map(|_| Mutex::new((Instant::now(), Vec::new())))
            .collect(),
    );
    let watchdog = {
        let (done, current) = (done.clone(), current.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                for slot in current.iter() {
                    let Ok(slot) = slot.try_lock() else { continue };
                    if slot.0.elapsed() > Duration::from_secs(HANG_SECONDS) && !slot.1.is_empty() {
                        let file = format!("/tmp/slth-fuzz-hang-{}.json", std::process::id());
                        let _ = std::fs::write(&file, &slot.1);
                        eprintln!(
                            "HANG: an execution ran over {HANG_SECONDS}s; input saved to {file}"
                        );
                        std::process::abort();
                    }
                }
            }
        })
    };
    let progress = AtomicUsize::new(0);
    let started = Instant::now();
    let per_thread: Vec<Stats> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (corpus, trees, checker, next, current, progress) =
                    (&corpus, &trees, &checker, &next, &current, &progress);
                s.spawn(move || {
                    let mut stats = Stats::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= executions {
                            break;
                        }
                        let input = make_input(seed, i, corpus, trees);
                        *current[t].lock().unwrap() = (Instant::now(), input.clone());
                        execute(&input, checker, &mut stats);
                        current[t].lock().unwrap().1.clear();
                        let p = progress.fetch_add(1, Ordering::Relaxed) + 1;
                        if executions >= 200_000 && p % 100_000 == 0 {
                            eprintln!(
                                "fuzz: {p} executions, {:.0}s",
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    stats
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    done.store(true, Ordering::Relaxed);
    watchdog.join().unwrap();
    let mut total = Stats::default();
    for s in per_thread {
        total.executions += s.executions;
        total.not_utf8 += s.not_utf8;
        total.parsed += s.parsed;
        total.accepted += s.accepted;
        total.checker_undecided += s.checker_undecided;
        total.limit_refusals += s.limit_refusals;
        for (k, v) in s.outcomes {
            *total.outcomes.entry(k).or_default() += v;
        }
        if s.slowest.0 > total.slowest.0 {
            total.slowest = s.slowest;
        }
        total.failures.extend(s.failures);
    }
    total
}

fn report(name: &str, stats: &Stats, seconds: f64) {
    println!(
        "\n{name}: {} executions in {seconds:.1}s ({:.0}/s); {} not UTF-8, {} parsed as JSON, {} VALID, {} left undecided by the independent checker; {} invalid ones refused by a resource limit",
        stats.executions,
        stats.executions as f64 / seconds.max(1e-9),
        stats.not_utf8,
        stats.parsed,
        stats.accepted,
        stats.checker_undecided,
        stats.limit_refusals,
    );
    println!("outcomes: {:?}", stats.outcomes);
    let slowest = &stats.slowest.1;
    println!(
        "slowest execution: {:.3}s on a {}-byte input starting {:?}",
        stats.slowest.0,
        slowest.len(),
        String::from_utf8_lossy(&slowest[..slowest.len().min(120)])
    );
    if stats.slowest.0 > 0.2 {
        let file = format!("/tmp/slth-fuzz-slowest-{}.json", std::process::id());
        let _ = std::fs::write(&file, slowest);
        println!("slowest input saved to {file}");
    }
    for (k, (why, input)) in stats.failures.iter().enumerate().take(20) {
        let file = format!("/tmp/slth-fuzz-failure-{}-{k}.json", std::process::id());
        let _ = std::fs::write(&file, input);
        println!("FAILURE {k}: {why} (input: {file})");
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn threads() -> usize {
    env_u64(
        "SLTH_FUZZ_THREADS",
        std::thread::available_parallelism().map_or(2, |n| n.get()) as u64,
    ) as usize
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
        let text = slth::write::to_json_text(&certified.certificate);
        std::fs::write(corpus_dir().join(name), text).unwrap();
    }
    for (from, name) in [
        ("certificates/tiny-3-2-1.json", "seed-tiny-3-2-1.json"),
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

// ---------------------------------------------------------------------------------------
// Hostile inputs (issue 6, resource limits)

/// The hostile inputs of the resource-limit list, each built from certificates/tiny-3-2-1.json.
fn hostile_inputs_list() -> Vec<(&'static str, String)> {
    use slth_oracle as fp;
    let base = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certificates/tiny-3-2-1.json"),
    )
    .unwrap();
    let tree = json::parse(&base, 128).unwrap();
    let edit = |f: &dyn Fn(&mut Json)| {
        let mut t = tree.clone();
        f(&mut t);
        t.write()
    };
    use json::{idx, key};
    let set = |path: Vec<json::Step>, value: Json| {
        edit(&|t: &mut Json| *t.at_mut(&path).unwrap() = value.clone())
    };
    let ten_mb = "9".repeat(10_000_000);
    let layers = |n: usize, w: &str, c: &str, l: &str, eps: &str| {
        let mut s = String::from(
            r#"{"format":"slth-certificate","version":1,"target":{"input_dim":1,"layers":["#,
        );
        s.push_str(&vec![format!(r#"{{"weights":[["{w}"]],"activation":"relu"}}"#); n].join(","));
        s.push_str(
            r#"]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":""#,
        );
        s.push_str(&"00".repeat(32));
        s.push_str(r#"","distribution":"uniform-dyadic-53","hidden_widths":["#);
        s.push_str(&vec!["1"; n].join(","));
        s.push_str(r#"]},"ticket":["#);
        s.push_str(&vec![r#"{"hidden":[],"output":[]}"#; n].join(","));
        s.push_str(r#"],"bound":{"blocks":["#);
        s.push_str(&vec![format!(r#"{{"error":"{c}","lipschitz":"{l}"}}"#); n].join(","));
        s.push_str(&format!(r#"],"epsilon":"{eps}"}}}}"#));
        s
    };
    let key42 = [42u8; 1]
        .iter()
        .copied()
        .chain([0u8; 31])
        .collect::<Vec<u8>>();
    let key42: [u8; 32] = key42.try_into().unwrap();
    let far = (1u64 << 60) - 1;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let eps = || vec![key("bound"), key("epsilon")];
    vec![
        ("10 MB numerator (epsilon)", set(eps(), Json::str(format!("{ten_mb}/7")))),
        (
            "10 MB numerator (kept value)",
            set(
                vec![key("ticket"), idx(0), key("hidden"), idx(0), idx(2)],
                Json::str(format!("{ten_mb}/9007199254740992")),
            ),
        ),
        (
            "10 MB numerator (target weight)",
            set(
                vec![key("target"), key("layers"), idx(0), key("weights"), idx(0), idx(0)],
                Json::str(format!("{ten_mb}/7")),
            ),
        ),
        (
            "hidden widths 2^60 (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(1u64 << 60), Json::num(1u64 << 60)]),
            ),
        ),
        (
            "width 2^60, kept neuron j = 2^60 - 1 (valid)",
            edit(&|t: &mut Json| {
                let w = Json::Arr(vec![Json::num(1u64 << 60), Json::num(1u64 << 60)]);
                t.get_mut("random_network").unwrap().set("hidden_widths", w);
                let u = fp::weight(&key42, 0, u128::from(far) * 3).unwrap();
                let v = fp::weight(&key42, 1, u128::from(far) * 2).unwrap();
                let b0 = t.at_mut(&[key("ticket"), idx(0)]).unwrap();
                b0.get_mut("hidden").unwrap().as_array_mut().unwrap().push(Json::Arr(vec![
                    Json::num(far),
                    Json::num(0),
                    Json::str(format!("{u}/9007199254740992")),
                ]));
                b0.get_mut("output").unwrap().as_array_mut().unwrap().push(Json::Arr(vec![
                    Json::num(0),
                    Json::num(far),
                    Json::str(format!("{v}/9007199254740992")),
                ]));
                *t.at_mut(&[key("bound"), key("blocks"), idx(0), key("error")]).unwrap() = Json::str("1");
                *t.at_mut(&[key("bound"), key("epsilon")]).unwrap() = Json::str("10");
            }),
        ),
        (
            "hidden widths 2^64 - 1 (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(u64::MAX), Json::num(u64::MAX)]),
            ),
        ),
        ("10^6 layers of 1x1, zero claims (valid)", layers(1_000_000, "0", "0", "0", "0")),
        ("10^4 layers of 1x1 weight 1/2 (valid)", layers(10_000, "1/2", "1/2", "1/2", "1")),
        ("10^5 layers of 1x1 weight 1/2 (valid)", layers(100_000, "1/2", "1/2", "1/2", "1")),
        ("10^3 layers of 1x1 weight 1/2 (valid)", layers(1000, "1/2", "1/2", "1/2", "1")),
        (
            "10^3 layers, 7-digit decimal claims (valid)",
            layers(1000, "1/2", "0.5000001", "0.9999999", "1e1000"),
        ),
        (
            "billion-wide g, 18-entry ticket (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(1_000_000_000u64), Json::num(1_000_000_000u64)]),
            ),
        ),
        (
            "input_dim 2^60, zero-row first layer (valid)",
            r#"{"format":"slth-certificate","version":1,"target":{"input_dim":1152921504606846976,"layers":[{"weights":[],"activation":"relu"},{"weights":[[]],"activation":"relu"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1,1]},"ticket":[{"hidden":[],"output":[]},{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"0"},{"error":"0","lipschitz":"0"}],"epsilon":"0"}}"#.to_string(),
        ),
        ("10^5-deep arrays in meta", base.replacen("\"meta\": {", &format!("\"meta\": {{\"x\": {deep}, "), 1)),
        ("10^5-deep arrays in weights", base.replacen("\"weights\": [", &format!("\"weights\": [{deep}, "), 1)),
        ("10^5-deep arrays (whole file)", deep.clone()),
        ("NaN token", base.replacen("\"radius\": \"1\"", "\"radius\": NaN", 1)),
        ("Infinity token", base.replacen("\"version\": 1", "\"version\": Infinity", 1)),
        ("\"NaN\" as a rational", set(eps(), Json::str("NaN"))),
        ("JSON float for a rational", set(eps(), Json::num("0.0488329"))),
        ("JSON 1e999 for a rational", set(eps(), Json::num("1e999"))),
        ("duplicate key (version)", base.replacen("\"version\": 1", "\"version\": 1, \"version\": 1", 1)),
        ("duplicate key (epsilon)", base.replacen("\"epsilon\": ", "\"epsilon\": \"0\", \"epsilon\": ", 1)),
        ("duplicate key (in meta, valid)", base.replacen("\"meta\": {", "\"meta\": {\"a\": 1, \"a\": 2, ", 1)),
        (
            "100 weights with coprime 10^4-digit denominators",
            {
                let big = num_traits::pow(num_bigint::BigInt::from(10), 9990);
                let row: Vec<Json> = (0..100).map(|i| Json::str(format!("1/{}", &big + i))).collect();
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":100,"layers":[{"weights":["#);
                s.push_str(&Json::Arr(row).write());
                s.push_str(r#"],"activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"1/100","lipschitz":"1"}],"epsilon":"1"}}"#);
                s
            },
        ),
        (
            "spectral claim, side 128, 19-digit denominators",
            {
                let mut rng = Rng::new(1);
                let rows: Vec<Json> = (0..128)
                    .map(|_| {
                        Json::Arr(
                            (0..128)
                                .map(|_| Json::str(format!("{}/{}", rng.next() % 1000, 1 + rng.next() % 10_000_000_000_000_000_000)))
                                .collect(),
                        )
                    })
                    .collect();
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":128,"layers":[{"weights":"#);
                s.push_str(&Json::Arr(rows).write());
                s.push_str(r#","activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"0","lipschitz_method":"spectral"}],"epsilon":"0"}}"#);
                s
            },
        ),
        (
            "witness of side 2000 (zeros)",
            {
                let n = 2000;
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":2000,"layers":[{"weights":[["#);
                s.push_str(&vec!["\"0\""; n].join(","));
                s.push_str(r#"]],"activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"1","lipschitz_method":"spectral","lipschitz_witness":{"shift":"1","factor":["#);
                let rows: Vec<String> = (0..n).map(|a| format!("[{}]", vec!["\"0\""; n - a].join(","))).collect();
                s.push_str(&rows.join(","));
                s.push_str(r#"]}}],"epsilon":"1"}}"#);
                s
            },
        ),
        ("certificate written as arrays", {
            let t = &tree;
            let g = |k: &str| t.get(k).unwrap().clone();
            let obj_vals = |v: &Json, ks: &[&str]| Json::Arr(ks.iter().map(|k| v.get(k).cloned().unwrap_or(Json::Null)).collect());
            let target = g("target");
            let layers: Vec<Json> = target.get("layers").unwrap().as_array().unwrap().iter().map(|l| obj_vals(l, &["weights", "activation"])).collect();
            let ticket: Vec<Json> = g("ticket").as_array().unwrap().iter().map(|b| obj_vals(b, &["hidden", "output"])).collect();
            let blocks: Vec<Json> = g("bound").get("blocks").unwrap().as_array().unwrap().iter().map(|b| {
                let mut v = vec![b.get("error").unwrap().clone(), b.get("lipschitz").unwrap().clone()];
                if let Some(m) = b.get("lipschitz_method") { v.push(m.clone()); }
                Json::Arr(v)
            }).collect();
            Json::Arr(vec![
                g("format"),
                g("version"),
                Json::Arr(vec![target.get("input_dim").unwrap().clone(), Json::Arr(layers)]),
                obj_vals(&g("domain"), &["norm", "radius", "nonnegative"]),
                obj_vals(&g("random_network"), &["rng", "seed", "distribution", "hidden_widths"]),
                Json::Arr(ticket),
                Json::Arr(vec![Json::Arr(blocks), g("bound").get("epsilon").unwrap().clone()]),
            ])
            .write()
        }),
    ]
}

/// The verdict `slth verify` must give each hostile input, in both modes and with the
/// default limits: `VALID` (exit 0), `INVALID` (exit 1), `REFUSED` (exit 1, a resource
/// limit) or `UNREADABLE` (exit 2, not JSON at all). Then some inputs again with a raised limit.
fn hostile_expectation(name: &str) -> &'static str {
    match name {
        n if n.starts_with("10 MB numerator") => "REFUSED",
        n if n.starts_with("10^3 layers") => "VALID",
        n if n.starts_with("10^") && n.contains("layers") => "REFUSED",
        n if n.contains("deep arrays") => "REFUSED",
        "input_dim 2^60, zero-row first layer (valid)" => "REFUSED",
        "100 weights with coprime 10^4-digit denominators" => "REFUSED",
        "spectral claim, side 128, 19-digit denominators" => "REFUSED",
        "witness of side 2000 (zeros)" => "REFUSED",
        "NaN token" | "Infinity token" => "UNREADABLE",
        n if n.ends_with("valid)") => "VALID",
        _ => "INVALID",
    }
}

/// Inputs of [`hostile_inputs_list`] that a raised limit lets through, with the flags.
const RAISED: [(&str, &[&str]); 2] = [
    (
        "input_dim 2^60, zero-row first layer (valid)",
        &["--max-dimension", "1152921504606846976"],
    ),
    (
        "witness of side 2000 (zeros)",
        // n^3 / 6 = 1.3e9 word operations of the witness check: over the default work too.
        &["--max-witness-side", "2000", "--max-exact-work", "2e9"],
    ),
];

/// Each hostile input through `slth verify` (default and `--exact`), measured with
/// `/usr/bin/time` when it exists. The test asserts the verdicts (and a generous hang
/// guard), never times; the table it prints is where the issue-6 figures come from:
/// `cargo test --release --test fuzz hostile_inputs -- --nocapture`
#[test]
fn hostile_inputs() {
    use std::os::unix::process::CommandExt;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_slth"));
    let time = PathBuf::from("/usr/bin/time");
    let dir = std::env::temp_dir().join(format!("slth-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let guard = env_u64("SLTH_HOSTILE_TIMEOUT", 120);
    let mut wrong = Vec::new();
    println!(
        "\n{:<52} {:<32} {:<10} {:>4} {:>8} {:>8} {:>8}",
        "input", "flags", "verdict", "exit", "seconds", "peak MB", "file MB"
    );
    let inputs = hostile_inputs_list();
    let mut runs: Vec<(usize, Vec<&str>, &str)> = Vec::new();
    for (k, (name, _)) in inputs.iter().enumerate() {
        for mode in [&[][..], &["--exact"][..]] {
            runs.push((k, mode.to_vec(), hostile_expectation(name)));
        }
        for (raised, flags) in RAISED {
            if raised == *name {
                runs.push((k, flags.to_vec(), "VALID"));
            }
        }
    }
    let mut written = None;
    for (k, flags, expected) in runs {
        let (name, text) = &inputs[k];
        let file = dir.join(format!("h{k:02}.json"));
        if written != Some(k) {
            std::fs::write(&file, text).unwrap();
            written = Some(k);
        }
        let mut cmd = if time.exists() {
            let mut c = std::process::Command::new(&time);
            c.args(["-f", "%e %M"]).arg(&binary);
            c
        } else {
            std::process::Command::new(&binary)
        };
        cmd.arg("verify").args(&flags).arg(&file);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd.process_group(0);
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(guard) {
                // The whole group: /usr/bin/time and slth.
                let _ = std::process::Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                timed_out = true;
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let wall = started.elapsed().as_secs_f64();
        let mut err = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let (seconds, peak_mb) = match err.lines().last().map(str::split_whitespace) {
            Some(mut fields) if time.exists() => (
                fields.next().and_then(|x| x.parse().ok()).unwrap_or(wall),
                fields
                    .next()
                    .and_then(|x| x.parse::<f64>().ok())
                    .map_or(f64::NAN, |kb| kb / 1024.0),
            ),
            _ => (wall, f64::NAN),
        };
        let code = if timed_out { None } else { status.code() };
        let verdict = match code {
            _ if timed_out => "TIMEOUT",
            Some(0) => "VALID",
            Some(1) if err.contains("REFUSED (resource limit)") => "REFUSED",
            Some(1) => "INVALID",
            Some(2) => "UNREADABLE",
            _ => "CRASH",
        };
        println!(
            "{:<52} {:<32} {:<10} {:>4} {:>8.2} {:>8.1} {:>8.1}",
            name,
            flags.join(" "),
            verdict,
            code.map_or("-".into(), |c| c.to_string()),
            seconds,
            peak_mb,
            text.len() as f64 / 1e6
        );
        let one_line = err.lines().filter(|l| l.starts_with("slth")).count() <= 1;
        if verdict != expected || !one_line {
            wrong.push(format!(
                "{name} {flags:?}: {verdict}, expected {expected}: {}",
                err.lines().next().unwrap_or("")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:#?}");
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
