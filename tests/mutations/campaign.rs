//! Running the mutants: the independent verdict of each, slth in every mode, the CLI on a
//! sample, and the table of classes.

use super::*;

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
pub(crate) struct Campaign {
    pub(crate) checker: Checker,
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
    pub(crate) fn judge_all(&self, batch: &[Mutant]) {
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

pub(crate) fn run(full: bool) {
    run_sources(full, sources(full), (100, 1000));
}

/// Runs the campaign on `sources` (a filter in `SLTH_MUTATIONS_ONLY`, a substring of the
/// source names, keeps only the matching ones) and requires at least `least` mutants
/// found true and false.
pub(crate) fn run_sources(full: bool, mut sources: Vec<(String, String)>, least: (usize, usize)) {
    if let Ok(only) = std::env::var("SLTH_MUTATIONS_ONLY") {
        sources.retain(|(name, _)| name.contains(&only));
        assert!(!sources.is_empty(), "no source matches {only:?}");
    }
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
        total.accepted > least.0 && total.rejected > least.1,
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
