//! The `slth` command line: argument parsing, progress and printing; the mathematics lives in
//! the library.

use clap::{Parser, Subcommand};
use num_rational::BigRational;
use num_traits::Signed;
use slth::certificate::{self, Certificate, LoadError};
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::construct::DEFAULT_MAX_WIDTH;
use slth::generate::{EntryRange, random_target};
use slth::network::Network;
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
        /// Target network file (JSON, spec section 2).
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
    /// Check a certificate with exact arithmetic.
    Verify {
        certificate: PathBuf,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Largest Gram side checked by exact elimination for a "spectral" claim without a
        /// witness (the time grows like side^3 with growing numbers).
        #[arg(long, default_value_t = verify::DEFAULT_MAX_ELIMINATION_SIDE)]
        max_elimination_side: usize,
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
    },
    /// Certify and verify a small bundled target, and explain the result.
    Demo,
    /// Summarize a certificate without verifying it.
    Inspect { certificate: PathBuf },
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
            max_elimination_side,
        } => run_verify(
            &certificate,
            json,
            &verify::Limits {
                max_elimination_side,
            },
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
            points,
            seed,
        } => run_eval(&certificate, points, &seed),
        Command::Demo => run_demo(),
        Command::Inspect { certificate } => run_inspect(&certificate),
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
    let target = Network::load(target_path).map_err(usage)?;
    let started = Instant::now();
    let certified =
        certify(&target, options).map_err(|e| usage(format!("{}: {e}", target_path.display())))?;
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

fn load_certificate(path: &Path) -> Result<Certificate, Failure> {
    certificate::load(path, certificate::DEFAULT_MAX_FILE_BYTES).map_err(|e| match e {
        LoadError::Unreadable(m) => usage(m),
        LoadError::Schema(m) => rejected(format!("INVALID: {m}")),
    })
}

fn run_verify(path: &Path, json: bool, limits: &verify::Limits) -> Result<(), Failure> {
    let certificate = load_certificate(path)?;
    let started = Instant::now();
    match verify::verify_with(&certificate, limits) {
        Ok(report) => {
            if json {
                say!("{}", report.to_json());
            } else {
                say!("{}", report.render_text().trim_end());
                say!("checked in {:.3}s", started.elapsed().as_secs_f64());
            }
            Ok(())
        }
        Err(rejection) => {
            if json {
                say!(
                    "{}",
                    serde_json::json!({"verdict": "invalid", "place": rejection.place, "reason": rejection.detail})
                );
            }
            Err(rejected(format!(
                "INVALID: {}: {rejection}",
                path.display()
            )))
        }
    }
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

fn run_eval(path: &Path, count: usize, seed: &str) -> Result<(), Failure> {
    let seed = Seed::parse_cli(seed).map_err(|e| usage(format!("--seed: {e}")))?;
    let certificate = load_certificate(path)?;
    let target = Network::from_target_json(&certificate.target).map_err(rejected)?;
    let ticket = Ticket::from_certificate(&certificate, &target).map_err(rejected)?;
    let radius = parse_rational(&certificate.domain.radius.0)
        .map_err(|e| rejected(format!("domain.radius: {e}")))?;
    let epsilon = parse_rational(&certificate.bound.epsilon.0)
        .map_err(|e| rejected(format!("bound.epsilon: {e}")))?;
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

fn run_inspect(path: &Path) -> Result<(), Failure> {
    let certificate = load_certificate(path)?;
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
    Ok(())
}
