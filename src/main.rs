//! The `slth` command line: argument parsing, progress and printing; the mathematics lives in
//! the library.

use clap::{Parser, Subcommand};
use num_rational::BigRational;
use num_traits::Signed;
use slth::certificate::{self, Certificate, Limits, LoadError};
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::construct::DEFAULT_MAX_WIDTH;
use slth::generate::{EntryRange, random_target};
use slth::homogenize::certify_with_biases;
use slth::network::{BiasedNetwork, Network};
use slth::numbers::{format_rational, parse_rational, rational_to_f64};
use slth::sampler::Seed;
use slth::ticket::Ticket;
use slth::verify;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Prints a line to stdout; a reader that went away (`slth verify c | head -1`) is not an
/// error, and the verdict still goes out as the exit code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Exit code of a certificate that was read but rejected.
const EXIT_REJECTED: u8 = 1;
/// Exit code of a usage error or an unreadable input.
const EXIT_USAGE: u8 = 2;

/// The small target `slth demo` certifies (also under certificates/targets/).
const DEMO_TARGET: &str = include_str!("../certificates/targets/tiny-3-2-1.json");

#[derive(Parser)]
#[command(
    name = "slth",
    version,
    about = "Certified strong lottery tickets: prune a seeded random ReLU network until it provably \
             approximates a target network, and check such proofs exactly."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find a ticket in the random network drawn from SEED and write its certificate.
    #[command(group(clap::ArgGroup::new("request").required(true).args(["epsilon", "tolerance"])))]
    Certify {
        /// Target network: a JSON network file (spec section 2, optionally with per-layer
        /// "biases") or a PyTorch MLP saved with safetensors (.safetensors). A network with
        /// biases is certified through its homogenized form (input (x, 1)).
        target: PathBuf,
        /// Certified bound on ||g~(x) - f(x)||_2 over the domain (a rational: 0.05, 1/20).
        #[arg(long)]
        epsilon: Option<String>,
        /// Instead of --epsilon: every per-weight error E_i[m][t] <= T; the certificate
        /// carries the epsilon that follows.
        #[arg(long)]
        tolerance: Option<String>,
        /// Seed of g: an unsigned 64-bit integer or 64 hexadecimal digits.
        #[arg(long)]
        seed: String,
        /// subset-sum (Pensia et al., logarithmic width) or pairs (Malach et al.).
        #[arg(long, value_enum, default_value_t = ConstructionArg::SubsetSum)]
        construction: ConstructionArg,
        /// subset-sum: hidden neurons per input and sign of U (default: the smallest that works).
        #[arg(long)]
        pool: Option<usize>,
        /// Fix the hidden width of each block (comma-separated, one per layer).
        #[arg(long, value_delimiter = ',')]
        width: Option<Vec<u64>>,
        /// Radius of the L2 ball the statement covers.
        #[arg(long, default_value = "1")]
        radius: String,
        /// Restrict the domain to x >= 0 (one path per weight suffices then).
        #[arg(long)]
        nonnegative: bool,
        /// Lipschitz claims: "best" (spectral, with an exact witness for wide layers, where
        /// it is tighter than Frobenius) or "frobenius".
        #[arg(long, value_enum, default_value_t = LipschitzArg::Best)]
        lipschitz: LipschitzArg,
        /// pairs: how many hidden neurons per block the search may scan before giving up.
        #[arg(long, default_value_t = DEFAULT_MAX_WIDTH)]
        max_width: u64,
        /// Write the certificate here (atomically) instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check a certificate. The proof: every kept weight is recomputed from the seed and
    /// compared exactly, and the inequalities are decided in f64 with outward rounding,
    /// falling back to exact arithmetic wherever that cannot decide.
    Verify {
        certificate: PathBuf,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Decide every inequality in exact rational arithmetic (same verdict, slower).
        #[arg(long, conflicts_with = "plain_f64")]
        exact: bool,
        /// Estimate the inequalities in plain f64 instead: NOT a proof (kept weights are
        /// still recomputed and compared exactly); reports how far its e_l is from the exact one.
        #[arg(long = "f64")]
        plain_f64: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Write a random target network with exact weights.
    RandomTarget {
        /// Widths n_0,n_1,...,n_l.
        #[arg(long, value_delimiter = ',', required = true)]
        dims: Vec<usize>,
        #[arg(long)]
        seed: String,
        /// Make the last layer linear instead of ReLU.
        #[arg(long)]
        linear_output: bool,
        /// Draw entries uniformly from LOW,HIGH instead of the theorem's assumptions
        /// (entries <= 1/sqrt(n_in), spectral norm <= 1).
        #[arg(long, value_delimiter = ',', num_args = 1, allow_hyphen_values = true)]
        range: Option<Vec<f64>>,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Evaluate f and g~ exactly at rational points of the domain.
    Eval {
        certificate: PathBuf,
        #[arg(long, default_value_t = 1000)]
        points: usize,
        /// Seed of the random points.
        #[arg(long, default_value = "0")]
        seed: String,
        /// Instead of random points: classify the rows of this .npy array ([N, d], float or
        /// int) with f and g~, and count the agreements the certificate guarantees.
        #[arg(long, conflicts_with = "points")]
        inputs: Option<PathBuf>,
        /// Class labels of the inputs (.npy, [N] integers): report the accuracy of f and g~.
        #[arg(long, requires = "inputs")]
        labels: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Certify and verify a small bundled target, and explain the result.
    Demo,
    /// Summarize a certificate without verifying it.
    Inspect {
        certificate: PathBuf,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// The resource limits of reading and checking a certificate (see `certificate::Limits`;
/// the defaults are generous for real networks and refuse hostile files early).
#[derive(clap::Args)]
#[command(next_help_heading = "Resource limits")]
struct LimitArgs {
    /// Largest certificate file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_bytes)]
    max_file_size: u64,
    /// Deepest nesting of JSON arrays and objects (at most 128).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_nesting)]
    max_nesting: usize,
    /// Longest text of one rational number, in characters.
    #[arg(long, value_name = "CHARS", default_value_t = Limits::default().max_number_chars)]
    max_number_length: usize,
    /// Most target layers.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_layers)]
    max_layers: usize,
    /// Largest input_dim, number of rows, or row length of a target layer.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_dimension)]
    max_dimension: u64,
    /// Most kept entries in the whole ticket.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_kept_entries)]
    max_kept_entries: u64,
    /// Largest side of a spectral witness factor.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_witness_side)]
    max_witness_side: usize,
    /// Largest Gram side checked by exact elimination for a "spectral" claim without a
    /// witness (the time grows like side^3 with growing numbers).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_elimination_side)]
    max_elimination_side: usize,
    /// Most bits of a common denominator, and of the numbers of the chain e_1..e_l, in the
    /// exact check.
    #[arg(long, value_name = "BITS", default_value_t = Limits::default().max_exact_bits)]
    max_exact_bits: u64,
    /// Most estimated 64-bit word multiplications of one exact elimination or witness
    /// check (about 3 x 10^8 per second on a small machine).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_exact_work)]
    max_exact_work: f64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_file_bytes: self.max_file_size,
            max_nesting: self.max_nesting,
            max_number_chars: self.max_number_length,
            max_layers: self.max_layers,
            max_dimension: self.max_dimension,
            max_kept_entries: self.max_kept_entries,
            max_witness_side: self.max_witness_side,
            max_elimination_side: self.max_elimination_side,
            max_exact_bits: self.max_exact_bits,
            max_exact_work: self.max_exact_work,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LipschitzArg {
    Best,
    Frobenius,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ConstructionArg {
    SubsetSum,
    Pairs,
}

/// An error for the user: message and exit code.
struct Failure {
    message: String,
    code: u8,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: EXIT_USAGE,
    }
}

fn rejected(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: EXIT_REJECTED,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || matches!(
                    e.kind(),
                    ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
                )
            {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(EXIT_USAGE)
                } else {
                    ExitCode::SUCCESS
                };
            }
            // One line, like every other error of slth; --help has the details.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("slth: {first} (see slth --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Certify {
            target,
            epsilon,
            tolerance,
            seed,
            construction,
            pool,
            width,
            radius,
            nonnegative,
            lipschitz,
            max_width,
            output,
        } => (|| {
            let request = match (epsilon, tolerance) {
                (Some(e), _) => Request::Epsilon(parse_number("epsilon", &e)?),
                (None, Some(t)) => Request::Tolerance(parse_number("tolerance", &t)?),
                (None, None) => return Err(usage("give --epsilon or --tolerance")),
            };
            let (Request::Epsilon(value) | Request::Tolerance(value)) = &request;
            if !value.is_positive() {
                let name = if matches!(request, Request::Epsilon(_)) {
                    "epsilon"
                } else {
                    "tolerance"
                };
                return Err(usage(format!(
                    "--{name} must be positive, got {}",
                    format_rational(value)
                )));
            }
            let seed = Seed::parse_cli(&seed).map_err(|e| usage(format!("--seed: {e}")))?;
            let mut options = CertifyOptions::new(request, seed);
            options.construction = match construction {
                ConstructionArg::SubsetSum => Construction::SubsetSum,
                ConstructionArg::Pairs => Construction::Pairs,
            };
            options.pool = pool;
            options.widths = width;
            options.radius = parse_number("radius", &radius)?;
            options.nonnegative = nonnegative;
            options.spectral = matches!(lipschitz, LipschitzArg::Best);
            options.max_width = max_width;
            run_certify(&target, &options, output.as_deref())
        })(),
        Command::Verify {
            certificate,
            json,
            exact,
            plain_f64,
            limits,
        } => run_verify(
            &certificate,
            json,
            match (exact, plain_f64) {
                (true, _) => VerifyPath::Exact,
                (_, true) => VerifyPath::PlainF64,
                _ => VerifyPath::Sound,
            },
            &limits.limits(),
        ),
        Command::RandomTarget {
            dims,
            seed,
            linear_output,
            range,
            output,
        } => run_random_target(&dims, &seed, linear_output, range, output.as_deref()),
        Command::Eval {
            certificate,
            inputs: Some(inputs),
            labels,
            limits,
            ..
        } => run_eval_inputs(&certificate, &inputs, labels.as_deref(), &limits.limits()),
        Command::Eval {
            certificate,
            points,
            seed,
            inputs: None,
            limits,
            ..
        } => run_eval(&certificate, points, &seed, &limits.limits()),
        Command::Demo => run_demo(),
        Command::Inspect {
            certificate,
            limits,
        } => run_inspect(&certificate, &limits.limits()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("slth: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn parse_number(name: &str, text: &str) -> Result<BigRational, Failure> {
    parse_rational(text).map_err(|e| usage(format!("--{name}: {e}")))
}

fn run_certify(
    target_path: &Path,
    options: &CertifyOptions,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let target = BiasedNetwork::load(target_path).map_err(usage)?;
    let started = Instant::now();
    let certified = certify_with_biases(&target, options)
        .map_err(|e| usage(format!("{}: {e}", target_path.display())))?;
    let text = certificate::to_json_text(&certified.certificate);
    write_output(output, &text)?;
    let c = &certified.certificate;
    eprintln!(
        "certified epsilon {} (~{:.4e}) for {} with the {} construction{}: {} kept weights, widths of g {:?}, in {:.2}s",
        c.bound.epsilon.0,
        rational_to_f64(&parse_rational(&c.bound.epsilon.0).unwrap_or_default()),
        target_path.display(),
        options.construction.name(),
        if certified.pools.is_empty() {
            String::new()
        } else {
            format!(" (pool sizes {:?})", certified.pools)
        },
        certified.ticket.kept_weights(),
        c.random_network.hidden_widths,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes to a temporary file beside `path` and renames it, so a file is whole or absent.
fn write_output(path: Option<&Path>, text: &str) -> Result<(), Failure> {
    match path {
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(usage(format!("writing to standard output: {e}")))
                }
                _ => Ok(()),
            }
        }
        Some(path) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
            std::fs::write(&temporary, text)
                .and_then(|()| std::fs::rename(&temporary, path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temporary);
                    usage(format!("{}: {e}", path.display()))
                })
        }
    }
}

fn load_certificate(path: &Path, limits: &Limits) -> Result<Certificate, Failure> {
    certificate::load(path, limits).map_err(|e| load_failure(e).1)
}

/// A certificate that could not be read: its `--json` verdict and the failure to report.
fn load_failure(error: LoadError) -> (&'static str, Failure) {
    match error {
        LoadError::Unreadable(m) => ("unreadable", usage(m)),
        LoadError::Schema(m) => ("invalid", rejected(format!("INVALID: {m}"))),
        LoadError::Limit(m) => (
            "refused",
            rejected(format!("REFUSED (resource limit): {m}")),
        ),
    }
}

/// What `eval` needs of a certificate: f, g~, the radius and the claimed epsilon.
struct Evaluable {
    certificate: Certificate,
    target: Network,
    ticket: Ticket,
    radius: BigRational,
    epsilon: BigRational,
}

fn load_evaluable(path: &Path, limits: &Limits) -> Result<Evaluable, Failure> {
    let certificate = load_certificate(path, limits)?;
    let target = Network::from_target_json(&certificate.target).map_err(rejected)?;
    let ticket = Ticket::from_certificate(&certificate, &target).map_err(rejected)?;
    let radius = parse_rational(&certificate.domain.radius.0)
        .map_err(|e| rejected(format!("domain.radius: {e}")))?;
    let epsilon = parse_rational(&certificate.bound.epsilon.0)
        .map_err(|e| rejected(format!("bound.epsilon: {e}")))?;
    Ok(Evaluable {
        certificate,
        target,
        ticket,
        radius,
        epsilon,
    })
}

/// How `slth verify` decides the inequalities of spec section 5.
#[derive(Clone, Copy)]
enum VerifyPath {
    /// f64 with outward rounding and exact fallback (the default; a proof)
    Sound,
    /// exact arithmetic (`--exact`; a proof)
    Exact,
    /// plain f64 (`--f64`; an estimate, not a proof)
    PlainF64,
}

fn run_verify(path: &Path, json: bool, mode: VerifyPath, limits: &Limits) -> Result<(), Failure> {
    let started = Instant::now();
    let certificate = certificate::load(path, limits).map_err(|e| {
        let (verdict, failure) = load_failure(e);
        if json {
            say!(
                "{}",
                serde_json::json!({"verdict": verdict, "place": "", "reason": failure.message})
            );
        }
        failure
    })?;
    let read = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let timing = |checked: f64| format!("read in {read:.3}s, checked in {checked:.3}s");
    let invalid = |rejection: verify::Rejection| {
        let refused = rejection.kind == verify::RejectionKind::Limit;
        if json {
            say!(
                "{}",
                serde_json::json!({
                    "verdict": if refused { "refused" } else { "invalid" },
                    "place": rejection.place,
                    "reason": rejection.detail
                })
            );
        }
        let verdict = if refused {
            "REFUSED (resource limit)"
        } else {
            "INVALID"
        };
        rejected(format!("{verdict}: {}: {rejection}", path.display()))
    };
    let arithmetic = match mode {
        VerifyPath::Sound => verify::Arithmetic::Sound,
        VerifyPath::Exact => verify::Arithmetic::Exact,
        VerifyPath::PlainF64 => {
            let estimate = slth::fast::verify_f64(&certificate, limits).map_err(invalid)?;
            if json {
                say!("{}", estimate.to_json());
            } else {
                say!("{}", estimate.render_text().trim_end());
                say!("{}", timing(started.elapsed().as_secs_f64()));
            }
            if estimate.holds() {
                return Ok(());
            }
            return Err(rejected(format!(
                "{}: f64 estimate, not a proof: {}; run without --f64 for the exact verdict",
                path.display(),
                estimate.failures().join("; ")
            )));
        }
    };
    let report = verify::verify_using(&certificate, limits, arithmetic).map_err(invalid)?;
    let for_user = slth::homogenize::statement_for_user(&certificate);
    if json {
        let mut value = report.to_json();
        if let Some(line) = &for_user {
            value["statement_for_user"] = serde_json::json!(line);
        }
        say!("{value}");
    } else {
        say!("{}", report.render_text().trim_end());
        if let Some(line) = &for_user {
            say!("{line}");
        }
        say!("{}", timing(started.elapsed().as_secs_f64()));
    }
    Ok(())
}

fn run_random_target(
    dims: &[usize],
    seed: &str,
    linear_output: bool,
    range: Option<Vec<f64>>,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let seed = Seed::parse_cli(seed).map_err(|e| usage(format!("--seed: {e}")))?;
    let range = match range.as_deref() {
        None => EntryRange::Theorem,
        Some([low, high]) if low.is_finite() && high.is_finite() && low < high => {
            EntryRange::Uniform {
                low: *low,
                high: *high,
            }
        }
        Some(_) => {
            return Err(usage(
                "--range takes two finite numbers LOW,HIGH with LOW < HIGH",
            ));
        }
    };
    let target = random_target(dims, &seed, linear_output, &range).map_err(usage)?;
    write_output(output, &target.to_json_text())
}

fn run_eval(path: &Path, count: usize, seed: &str, limits: &Limits) -> Result<(), Failure> {
    let seed = Seed::parse_cli(seed).map_err(|e| usage(format!("--seed: {e}")))?;
    let Evaluable {
        certificate,
        target,
        ticket,
        radius,
        epsilon,
    } = load_evaluable(path, limits)?;
    let points = slth::eval::sample_points(
        &target,
        &radius,
        certificate.domain.nonnegative,
        count,
        &seed,
    );
    let seen = slth::eval::evaluate(&target, &ticket, &points);
    say!(
        "points: {}\nmax ||f(x) - g~(x)||_2 seen: {:.6e}\ncertified epsilon:          {:.6e} ({})",
        seen.points,
        seen.max_distance(),
        rational_to_f64(&epsilon),
        format_rational(&epsilon)
    );
    if seen.max_squared > &epsilon * &epsilon {
        return Err(rejected(format!(
            "{}: point {} exceeds the certified epsilon: the certificate is false",
            path.display(),
            seen.worst_point
        )));
    }
    if epsilon.is_positive() {
        say!(
            "ratio seen / certified: {:.3}",
            seen.max_distance() / rational_to_f64(&epsilon)
        );
    }
    say!("(eval measures; it does not check the certificate: `slth verify` does)");
    Ok(())
}

/// `eval --inputs`: f and g~ on given inputs, exactly; agreement and its guarantee.
fn run_eval_inputs(
    path: &Path,
    inputs: &Path,
    labels: Option<&Path>,
    limits: &Limits,
) -> Result<(), Failure> {
    use slth::import::{NpyValues, load_npy};
    let Evaluable {
        certificate,
        target,
        ticket,
        radius,
        epsilon,
    } = load_evaluable(path, limits)?;
    let homogenized = slth::homogenize::homogenized_from(certificate.meta.as_ref());
    let d = match homogenized {
        Some(d) if d + 1 == target.input_dim => d,
        Some(d) => {
            return Err(rejected(format!(
                "{}: meta.derived_from.input_dim {d} is not the target's input dimension {} minus 1",
                path.display(),
                target.input_dim
            )));
        }
        None => target.input_dim,
    };
    let array = load_npy(inputs).map_err(usage)?;
    let [count, columns] = array.shape[..] else {
        return Err(usage(format!(
            "{}: expected a 2-D array [N, {d}], got shape {:?}",
            inputs.display(),
            array.shape
        )));
    };
    if columns != d {
        return Err(usage(format!(
            "{}: rows have {columns} entries, the network takes {d} inputs",
            inputs.display()
        )));
    }
    let values: Vec<BigRational> = match &array.values {
        NpyValues::Float(v) => v
            .iter()
            .map(|x| slth::numbers::rational_from_f64(*x))
            .collect::<Option<_>>()
            .ok_or_else(|| usage(format!("{}: a value is not finite", inputs.display())))?,
        NpyValues::Int(v) => v
            .iter()
            .map(|&x| BigRational::from_integer(x.into()))
            .collect(),
    };
    let rows: Vec<Vec<BigRational>> = values
        .chunks(d.max(1))
        .take(count)
        .map(|x| match homogenized {
            Some(_) => slth::homogenize::homogenized_input(x),
            None => x.to_vec(),
        })
        .collect();
    let labels = match labels {
        None => None,
        Some(file) => match load_npy(file).map_err(usage)? {
            slth::import::NpyArray {
                shape,
                values: NpyValues::Int(v),
            } if shape == [count] => Some(v),
            other => {
                return Err(usage(format!(
                    "{}: expected {count} integer labels, got shape {:?}{}",
                    file.display(),
                    other.shape,
                    if matches!(other.values, NpyValues::Float(_)) {
                        " of floats"
                    } else {
                        ""
                    }
                )));
            }
        },
    };
    let started = Instant::now();
    let seen = slth::eval::classify(
        &target,
        &ticket,
        &rows,
        labels.as_deref(),
        &radius,
        certificate.domain.nonnegative,
        &epsilon,
    );
    let share = |k: usize| {
        format!(
            "{:.2}% ({k}/{count})",
            100.0 * k as f64 / count.max(1) as f64
        )
    };
    say!("inputs: {count} from {} (d = {d})", inputs.display());
    if homogenized.is_some() {
        say!(
            "homogenized target (according to meta): each input x is evaluated as (x, 1), so f is the network with biases"
        );
    }
    say!(
        "arithmetic: exact, for f and g~ (integers over a common denominator; {:.2}s)",
        started.elapsed().as_secs_f64()
    );
    if let (Some(f), Some(g)) = (seen.f_correct, seen.g_correct) {
        say!("accuracy of f:  {}", share(f));
        say!("accuracy of g~: {}", share(g));
    }
    say!("f and g~ predict the same class: {}", share(seen.agree));
    say!(
        "guaranteed by the certificate: {} (in the domain, and f's top-two margin > sqrt(2)*epsilon, checked exactly)",
        share(seen.guaranteed)
    );
    say!(
        "  (by the cruder rule margin > 2*epsilon: {})",
        share(seen.guaranteed_two_epsilon)
    );
    let ball = if homogenized.is_some() {
        format!(
            "||(x, 1)||_2 > R = {}, i.e. ||x||_2 > ~{:.6}",
            certificate.domain.radius.0,
            (rational_to_f64(&radius).powi(2) - 1.0).max(0.0).sqrt()
        )
    } else {
        format!("||x||_2 > {}", certificate.domain.radius.0)
    };
    let orthant = if certificate.domain.nonnegative {
        " or some x_k < 0"
    } else {
        ""
    };
    say!(
        "outside the certified domain ({ball}{orthant}; never counted as guaranteed): {}",
        seen.outside_domain
    );
    say!(
        "max ||f(x) - g~(x)||_2 on the inputs of the domain: {:.6e}; certified epsilon {:.6e} ({})",
        rational_to_f64(&seen.max_squared_in_domain).sqrt(),
        rational_to_f64(&epsilon),
        format_rational(&epsilon)
    );
    if let Some(k) = seen.exceeding.first() {
        return Err(rejected(format!(
            "{}: input {k} of {} exceeds the certified epsilon: the certificate is false",
            path.display(),
            inputs.display()
        )));
    }
    say!("(the guarantee holds if `slth verify` accepts the certificate; eval does not check it)");
    Ok(())
}

fn run_demo() -> Result<(), Failure> {
    let target = Network::from_json_text(DEMO_TARGET).map_err(usage)?;
    let epsilon = BigRational::new(1.into(), 20.into());
    let options = CertifyOptions::new(Request::Epsilon(epsilon.clone()), Seed::from_u64(42));
    say!(
        "Target f: a 3-2-1 ReLU network with exact rational weights (certificates/targets/tiny-3-2-1.json)."
    );
    say!("Random g: depth 4, every weight uniform in (-1, 1), drawn by ChaCha20 from seed 42.");
    say!("Goal: a subnetwork g~ of g with ||g~(x) - f(x)||_2 <= 1/20 for every ||x||_2 <= 1.\n");
    let started = Instant::now();
    let certified = certify(&target, &options).map_err(usage)?;
    let built = started.elapsed();
    let c = &certified.certificate;
    let widths = &c.random_network.hidden_widths;
    let dims = target.dims();
    let parameters: u64 = widths
        .iter()
        .enumerate()
        .map(|(i, k)| k * (dims[i] + dims[i + 1]) as u64)
        .sum();
    say!(
        "1. certify (subset-sum construction, pools of {:?} neurons per input): kept {} of g's {} weights (widths {:?}) in {:.2}s",
        certified.pools,
        certified.ticket.kept_weights(),
        parameters,
        widths,
        built.as_secs_f64()
    );
    // The demo checks what it made the way a user would: the text goes through the file
    // format and the independent verifier.
    let text = certificate::to_json_text(c);
    let reread = certificate::parse(&text).map_err(|e| usage(e.to_string()))?;
    let started = Instant::now();
    let report = verify::verify(&reread).map_err(|r| rejected(format!("INVALID: {r}")))?;
    say!(
        "2. verify (exact arithmetic, weights recomputed from the seed) in {:.3}s:",
        started.elapsed().as_secs_f64()
    );
    for line in report.render_text().lines() {
        say!("   {line}");
    }
    let ticket = Ticket::from_certificate(&reread, &target).map_err(usage)?;
    let radius = BigRational::from_integer(1.into());
    let points = slth::eval::sample_points(&target, &radius, false, 200, &Seed::from_u64(0));
    let seen = slth::eval::evaluate(&target, &ticket, &points);
    say!(
        "3. eval: at 200 exact rational points of the ball, the largest ||f - g~|| is {:.3e}, below the certified {:.3e}.",
        seen.max_distance(),
        rational_to_f64(&epsilon)
    );
    say!(
        "\nTry: cargo run --release -- certify certificates/targets/tiny-3-2-1.json --epsilon 0.05 --seed 42 -o cert.json"
    );
    say!("     cargo run --release -- verify cert.json");
    Ok(())
}

fn run_inspect(path: &Path, limits: &Limits) -> Result<(), Failure> {
    let certificate = load_certificate(path, limits)?;
    let c = &certificate;
    let dims: Vec<String> = std::iter::once(c.target.input_dim)
        .chain(c.target.layers.iter().map(|l| l.weights.len() as u64))
        .map(|d| d.to_string())
        .collect();
    say!(
        "certificate {} (not verified; run `slth verify` for that)",
        path.display()
    );
    say!(
        "target: {} ({} layers)",
        dims.join("-"),
        c.target.layers.len()
    );
    let radius = &c.domain.radius.0;
    let orthant = if c.domain.nonnegative {
        " and x >= 0"
    } else {
        ""
    };
    say!(
        "claim: ||g~(x) - f(x)||_2 <= {} for ||x||_2 <= {radius}{orthant}",
        c.bound.epsilon.0
    );
    say!("seed: {}", c.random_network.seed);
    say!("hidden widths of g: {:?}", c.random_network.hidden_widths);
    for (i, (block, claim)) in c.ticket.iter().zip(&c.bound.blocks).enumerate() {
        say!(
            "block {}: {} hidden + {} output weights kept; c = {}, L = {} ({})",
            i + 1,
            block.hidden.len(),
            block.output.len(),
            claim.error.0,
            claim.lipschitz.0,
            claim.lipschitz_method.as_deref().unwrap_or("frobenius")
        );
    }
    if let Some(meta) = &c.meta {
        say!("meta: {meta}");
    }
    if let Some(line) = slth::homogenize::statement_for_user(c) {
        say!("{line}");
    }
    Ok(())
}
