//! The committed example certificates cannot drift from the code: the commands of
//! certificates/README.md, run again, write byte-identical files; certify is deterministic;
//! every committed certificate verifies and survives exact evaluation.

mod common;

use common::run::number_after;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

/// A run that takes longer than this is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The README whose fenced block lists the commands that made every certificate.
const README: &str = "certificates/README.md";
/// Where the committed certificates live (inputs and outputs of the README's commands).
const CERTIFICATES: &str = "certificates";
/// How the README writes a command.
const COMMAND_PREFIX: &str = "slth ";
/// Points `slth eval` checks on every committed certificate.
const EVAL_POINTS: usize = 300;
/// Thread counts whose outputs must agree (guards later parallel code).
const THREAD_COUNTS: [&str; 2] = ["1", "2"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary folder for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("slth-regenerate-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    shown: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn show(&self) -> String {
        format!(
            "{}\nexit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.shown, self.code, self.stdout, self.stderr
        )
    }

    fn expect_success(&self) -> &Run {
        assert_eq!(self.code, 0, "{}", self.show());
        self
    }
}

/// Runs `slth args` from the repository root with extra environment variables.
fn slth(args: &[String], env: &[(&str, &str)]) -> Run {
    let out = common::run::run(SLTH, args, env, &root(), TIMEOUT);
    Run {
        shown: format!("{env:?} slth {}", args.join(" ")),
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of the README's first fenced code block that start with `slth `.
fn readme_commands() -> Vec<String> {
    let path = root().join(README);
    let text = String::from_utf8(read(&path)).expect("README is UTF-8");
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("```"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("```"))
        .collect();
    let commands: Vec<String> = block
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.starts_with(COMMAND_PREFIX))
        .map(str::to_string)
        .collect();
    assert!(!commands.is_empty(), "no `slth ` lines in {README}");
    commands
}

/// One README command with its outputs redirected into a scratch folder.
struct Redirected {
    line: String,
    args: Vec<String>,
    /// committed path (relative to the root) -> where this run writes it
    outputs: Vec<(String, PathBuf)>,
}

/// Rewrites `-o certificates/...` into `scratch`, and inputs that an earlier command of the
/// block wrote to where that command wrote them; other inputs are read from the repository.
fn redirect(commands: &[String], scratch: &Path) -> Vec<Redirected> {
    let mut written: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut redirected = Vec::new();
    for line in commands {
        let words: Vec<&str> = line[COMMAND_PREFIX.len()..].split_whitespace().collect();
        let mut args = Vec::new();
        let mut outputs = Vec::new();
        for (k, &word) in words.iter().enumerate() {
            let after_output = k > 0 && matches!(words[k - 1], "-o" | "--output");
            if after_output {
                assert!(
                    word.starts_with(&format!("{CERTIFICATES}/")),
                    "{line}: output {word} is not under {CERTIFICATES}/"
                );
                let to = scratch.join(word);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                args.push(to.to_string_lossy().into_owned());
                outputs.push((word.to_string(), to));
            } else if let Some(made) = written.get(word) {
                args.push(made.to_string_lossy().into_owned());
            } else {
                args.push(word.to_string());
            }
        }
        assert!(!outputs.is_empty(), "{line}: writes no file with -o");
        written.extend(outputs.iter().cloned());
        redirected.push(Redirected {
            line: line.clone(),
            args,
            outputs,
        });
    }
    redirected
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(made: &[u8], committed: &[u8]) -> String {
    let made = String::from_utf8_lossy(made);
    let committed = String::from_utf8_lossy(committed);
    for (k, (a, b)) in made.lines().zip(committed.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  made:      {a}\n  committed: {b}", k + 1);
        }
    }
    format!(
        "one is a prefix of the other ({} vs {} lines)",
        made.lines().count(),
        committed.lines().count()
    )
}

#[test]
fn readme_commands_regenerate_every_file_byte_for_byte() {
    let scratch = Scratch::new("readme");
    let mut drift = Vec::new();
    for command in redirect(&readme_commands(), &scratch.0) {
        slth(&command.args, &[]).expect_success();
        for (committed, made) in &command.outputs {
            let made = read(made);
            let committed_bytes = read(&root().join(committed));
            if made != committed_bytes {
                drift.push(format!(
                    "{committed} differs from what `{}` writes now; {}",
                    command.line,
                    first_difference(&made, &committed_bytes)
                ));
            }
        }
    }
    assert!(drift.is_empty(), "\n{}", drift.join("\n"));
}

/// The committed certificates (not targets, not invalid examples).
fn committed_certificates() -> Vec<PathBuf> {
    let dir = root().join(CERTIFICATES);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no certificates in {}", dir.display());
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_committed_certificate_is_made_by_a_readme_command() {
    let scratch = Scratch::new("coverage");
    let made: Vec<String> = redirect(&readme_commands(), &scratch.0)
        .into_iter()
        .flat_map(|c| c.outputs.into_iter().map(|(committed, _)| committed))
        .collect();
    for path in committed_certificates() {
        let name = relative(&path);
        assert!(
            made.contains(&name),
            "{name} is not written by any command of {README}"
        );
    }
}

#[test]
fn certify_is_deterministic_across_runs_and_thread_counts() {
    let scratch = Scratch::new("determinism");
    let certify_lines: Vec<String> = readme_commands()
        .into_iter()
        .filter(|l| l.starts_with("slth certify "))
        .collect();
    assert!(!certify_lines.is_empty(), "no certify command in {README}");
    // Each certify line reads its committed target (checked byte-identical above) and
    // writes one copy per thread count and a second copy with the first count.
    for (k, command) in redirect(&certify_lines, &scratch.0).into_iter().enumerate() {
        let (_, output) = &command.outputs[0];
        let mut copies: Vec<(String, Vec<u8>)> = Vec::new();
        for (run, threads) in THREAD_COUNTS.iter().chain(&THREAD_COUNTS[..1]).enumerate() {
            let copy = scratch.0.join(format!("{k}-{run}-threads-{threads}.json"));
            let args: Vec<String> = command
                .args
                .iter()
                .map(|a| {
                    if Path::new(a) == output {
                        copy.to_string_lossy().into_owned()
                    } else {
                        a.clone()
                    }
                })
                .collect();
            slth(&args, &[("RAYON_NUM_THREADS", threads)]).expect_success();
            copies.push((
                format!("run {run} with RAYON_NUM_THREADS={threads}"),
                read(&copy),
            ));
        }
        let (first_name, first) = &copies[0];
        for (name, bytes) in &copies[1..] {
            assert!(
                bytes == first,
                "`{}`: {name} differs from {first_name}; {}",
                command.line,
                first_difference(bytes, first)
            );
        }
    }
}

/// `bound.epsilon` of a certificate file, as f64.
fn certified_epsilon(path: &Path) -> f64 {
    let value: serde_json::Value = serde_json::from_slice(&read(path)).expect("certificate JSON");
    let text = value["bound"]["epsilon"].as_str().expect("bound.epsilon");
    let exact = slth::numbers::parse_rational(text).expect("a rational");
    slth::numbers::rational_to_f64(&exact)
}

#[test]
fn every_committed_certificate_verifies_and_evaluates_within_epsilon() {
    for path in committed_certificates() {
        let name = relative(&path);
        let verify = slth(&["verify".to_string(), name.clone()], &[]);
        verify.expect_success();
        assert!(verify.stdout.starts_with("VALID: "), "{}", verify.show());

        let args = [
            "eval".to_string(),
            name.clone(),
            "--points".to_string(),
            EVAL_POINTS.to_string(),
        ];
        let eval = slth(&args, &[]);
        eval.expect_success();
        assert!(
            eval.stdout.contains(&format!("points: {EVAL_POINTS}\n")),
            "{}",
            eval.show()
        );
        let seen = number_after(&eval.stdout, "max ||f(x) - g~(x)||_2 seen:");
        let printed = number_after(&eval.stdout, "certified epsilon:");
        let epsilon = certified_epsilon(&path);
        assert!(
            (printed - epsilon).abs() <= 1e-6 * epsilon,
            "{name}: eval prints epsilon {printed}, the file says {epsilon}"
        );
        assert!(
            (0.0..=epsilon).contains(&seen),
            "{name}: seen {seen} > certified {epsilon}\n{}",
            eval.show()
        );
    }
}
