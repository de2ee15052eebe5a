//! Executing: one input through every library mode and the properties against the
//! independent checker, a campaign of many on several threads with a watchdog, and its
//! report.

use super::*;
use crate::mutate::make_input;

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) executions: usize,
    not_utf8: usize,
    pub(crate) parsed: usize,
    pub(crate) accepted: usize,
    pub(crate) outcomes: BTreeMap<String, usize>,
    pub(crate) checker_undecided: usize,
    pub(crate) limit_refusals: usize,
    pub(crate) slowest: (f64, Vec<u8>),
    pub(crate) failures: Vec<(String, Vec<u8>)>,
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

pub(crate) fn install_quiet_panic_hook() {
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
pub(crate) fn execute(input: &[u8], checker: &Checker, stats: &mut Stats) {
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
pub(crate) fn campaign(executions: u64, seed: u64, threads: usize) -> Stats {
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

pub(crate) fn report(name: &str, stats: &Stats, seconds: f64) {
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

pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn threads() -> usize {
    env_u64(
        "SLTH_FUZZ_THREADS",
        std::thread::available_parallelism().map_or(2, |n| n.get()) as u64,
    ) as usize
}
