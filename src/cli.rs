//! The command line's arguments, and the typed options each one becomes: this is the one
//! place where text from the command line turns into [`CertifyOptions`], [`Limits`],
//! seeds and rationals. The binary parses [`Cli`] and calls the library with the result.

use crate::certify::{CertifyOptions, Construction, Request};
use crate::error::Error;
use crate::generate::EntryRange;
pub use crate::values::{rational, seed};
use clap::{Parser, Subcommand};
use slth_checker::certificate::Limits;
use std::path::PathBuf;

/// The arguments of `slth`.
#[derive(Parser)]
#[command(
    name = "slth",
    version,
    about = "Certified strong lottery tickets: prune a seeded random ReLU network until it provably \
             approximates a target network, and check such proofs exactly."
)]
pub struct Cli {
    /// Print no progress on stderr (progress is drawn only when stderr is a terminal, and
    /// cleared when each step ends); with attack, also print only the bracket line.
    #[arg(long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `slth`.
#[derive(Subcommand)]
pub enum Command {
    /// Find a ticket in the random network drawn from SEED and write its certificate.
    Certify(CertifyArgs),
    /// Check a certificate. The proof: every kept weight is recomputed from the seed and
    /// compared exactly, and the inequalities are decided in f64 with outward rounding,
    /// falling back to exact arithmetic wherever that cannot decide.
    Verify(VerifyArgs),
    /// Write a random target network with exact weights.
    RandomTarget(RandomTargetArgs),
    /// Evaluate f and g~ exactly at rational points of the domain.
    Eval(EvalArgs),
    /// Certify and verify a small bundled target, and explain the result.
    Demo,
    /// Summarize a certificate without verifying it.
    Inspect(InspectArgs),
    /// Search the certificate's domain for the largest ||g~(x) - f(x)||_2 and prove it by
    /// exact evaluation: a lower bound beside the certified upper bound.
    Attack(AttackArgs),
    /// Prune whole neurons of a random 2-layer network to fit a sample (the paper's second
    /// theorem): the paper's reduction and stepwise selection, train and held-out losses,
    /// and optionally a certificate of the empirical loss.
    Neurons(crate::neurons::cli::NeuronsArgs),
    /// Rerun an experiment of the documentation.
    Experiment(crate::neurons::cli::ExperimentArgs),
    /// Verify a certificate and write its ticket g~ as a safetensors file that PyTorch
    /// loads into nn.Sequential (only the kept hidden neurons, dense).
    Export(ExportArgs),
    /// Draw one certificate as an SVG figure: per block c_i, L_i, e_i and its part of
    /// epsilon (and version 2's terms), the attack's bracket, the widths of g against
    /// Pensia et al.'s and Malach et al.'s formulas, the kept weights per target weight.
    Report(ReportArgs),
    /// Certify a target at several epsilons with both constructions (same seed) and write
    /// the widths of g and kept weights against epsilon as CSV, JSON and an SVG plot.
    Sweep(SweepArgs),
    /// Add version 2's telescoping terms (docs/FORMAT.md section 12) to a valid certificate:
    /// one semidefinite bound per block, found by a native interior-point search, with an
    /// exact witness checked before the file is written; epsilon becomes r * sum lambda_i
    /// (rounded up to 6 significant digits) when that is smaller. With --joint, the joint
    /// form instead (section 12.10): one such bound for the whole error, epsilon >= r lambda.
    Tighten(TightenArgs),
}

/// The arguments of `slth tighten`.
#[derive(clap::Args)]
pub struct TightenArgs {
    /// The certificate to tighten: version 1, or version 2 without terms (its spectral
    /// error claims are kept). It must be valid; it is verified first.
    pub certificate: PathBuf,
    /// Write the version 2 certificate here (atomically; `.gz` writes a compact gzip
    /// certificate); `-` writes it to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Add the joint form (docs/FORMAT.md section 12.10) instead of the terms: one
    /// quadratic form over g~'s head and every block's error chain, which does not add the
    /// blocks' shares at separate worst cases (usually tighter; one larger search).
    #[arg(long)]
    pub joint: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth certify`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("request").required(true).args(["epsilon", "tolerance"])))]
pub struct CertifyArgs {
    /// Target network: a JSON network file (docs/FORMAT.md section 3, optionally with
    /// per-layer "biases") or a PyTorch MLP saved with safetensors (.safetensors). A
    /// network with biases is certified through its homogenized form (input (x, 1)).
    pub target: PathBuf,
    /// Certified bound on ||g~(x) - f(x)||_2 over the domain (a rational: 0.05, 1/20).
    #[arg(long, allow_hyphen_values = true)]
    pub epsilon: Option<String>,
    /// Instead of --epsilon: every per-weight error `E_i[m][t]` <= T; the certificate
    /// carries the epsilon that follows.
    #[arg(long, allow_hyphen_values = true)]
    pub tolerance: Option<String>,
    /// Seed of g: an unsigned 64-bit integer or 64 hexadecimal digits.
    #[arg(long)]
    pub seed: String,
    /// subset-sum (Pensia et al., logarithmic width) or pairs (Malach et al.).
    #[arg(long, value_enum, default_value_t = ConstructionArg::SubsetSum)]
    pub construction: ConstructionArg,
    /// subset-sum: hidden neurons per input and sign of U (default: the smallest that works).
    #[arg(long)]
    pub pool: Option<usize>,
    /// Fix the hidden width of each block (comma-separated, one per layer).
    #[arg(long, value_delimiter = ',')]
    pub width: Option<Vec<u64>>,
    /// Radius of the L2 ball the statement covers.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub radius: String,
    /// Restrict the domain to x >= 0 (one path per weight suffices then).
    #[arg(long)]
    pub nonnegative: bool,
    /// The activation of each layer, comma-separated (relu, or linear on the last layer):
    /// a safetensors state_dict does not record them, and without this option or the
    /// file's __metadata__ {"activations": ...} slth assumes hidden ReLU and a linear last
    /// layer (and says so). Must agree with the metadata, or with a JSON network file.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub activations: Option<Vec<String>>,
    /// Lipschitz claims: "best" (spectral, with an exact witness for wide layers, where
    /// it is tighter than Frobenius) or "frobenius".
    #[arg(long, value_enum, default_value_t = LipschitzArg::Best)]
    pub lipschitz: LipschitzArg,
    /// Certificate format to write: 2 (default) also claims c_i >= ||M_i||_2, the spectral
    /// norm of block i's signed error matrix, with an exact witness where that is tighter
    /// than the Frobenius norm (docs/FORMAT.md section 12); 1 writes only version 1 claims,
    /// which any version 1 checker accepts.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=2))]
    pub format_version: u64,
    /// When --epsilon cannot be met, write the certificate of the best ticket found, with
    /// the (larger) epsilon it proves, and say so, instead of failing (format version 2).
    #[arg(long)]
    pub best_effort: bool,
    /// Semidefinite claims proved after the construction (format version 2), as `slth
    /// tighten` proves them: "auto" (the default) proves the joint form (docs/FORMAT.md
    /// section 12.10), the tightest claim slth writes, when its search fits (a quadratic
    /// form of side at most 1,024, at most 400 input entries plus two per hidden neuron)
    /// and is quick (input entries plus two per neuron of all the form's relations at most
    /// 400), and otherwise keeps the spectral claims and says why; "spectral" skips the
    /// search (fastest); "terms" (one bound per block, section 12.3) and "joint" require it
    /// wherever it fits, however long it takes, and fail where it does not. Epsilon becomes
    /// their bound when that is smaller.
    #[arg(long, value_enum, default_value_t = ClaimsArg::Auto)]
    pub claims: ClaimsArg,
    /// Same as --claims terms.
    #[arg(long, conflicts_with_all = ["claims", "joint"])]
    pub terms: bool,
    /// Same as --claims joint.
    #[arg(long, conflicts_with = "claims")]
    pub joint: bool,
    /// pairs: how many hidden neurons per block the search may scan before giving up
    /// [default: 2^26].
    #[arg(long)]
    pub max_width: Option<u64>,
    /// Write the certificate here (atomically) instead of stdout (`-`: stdout); the folder
    /// is checked before the work starts.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Print a JSON summary on stdout instead of the summary line on stderr (output file,
    /// epsilon asked and certified, widths, kept weights, time); needs -o FILE.
    #[arg(long, requires = "output")]
    pub json: bool,
    /// How the ticket is written: "full" (every kept weight with its value, the format
    /// "slth-certificate") or "compact" (indices only, the format
    /// "slth-compact-certificate", docs/FORMAT.md section 14). Default: compact when -o
    /// names a gzip file (NAME.json.gz, written gzip-compressed), full otherwise.
    #[arg(long, value_enum)]
    pub encoding: Option<EncodingArg>,
}

/// The ticket encoding of `slth certify --encoding`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EncodingArg {
    Full,
    Compact,
}

impl From<EncodingArg> for crate::write::Encoding {
    fn from(e: EncodingArg) -> Self {
        match e {
            EncodingArg::Full => crate::write::Encoding::Full,
            EncodingArg::Compact => crate::write::Encoding::Compact,
        }
    }
}

/// The arguments of `slth verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The certificate file (JSON) to check.
    pub certificate: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Decide every inequality in exact rational arithmetic (same verdict, slower).
    #[arg(long, conflicts_with = "plain_f64")]
    pub exact: bool,
    /// Estimate the inequalities in plain f64 instead: NOT a proof (kept weights are
    /// still recomputed and compared exactly); reports how far its e_l is from the exact one.
    #[arg(long = "f64")]
    pub plain_f64: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth random-target`.
#[derive(clap::Args)]
pub struct RandomTargetArgs {
    /// Widths n_0,n_1,...,n_l.
    #[arg(long, value_delimiter = ',', required = true)]
    pub dims: Vec<usize>,
    /// Seed of the weights: an unsigned 64-bit integer or 64 hexadecimal digits.
    #[arg(long)]
    pub seed: String,
    /// Make the last layer linear instead of ReLU.
    #[arg(long)]
    pub linear_output: bool,
    /// Draw entries uniformly from LOW,HIGH instead of the theorem's assumptions
    /// (entries <= 1/sqrt(n_in), spectral norm <= 1).
    #[arg(long, value_delimiter = ',', num_args = 1, allow_hyphen_values = true)]
    pub range: Option<Vec<f64>>,
    /// Write the network here (atomically) instead of stdout (`-`: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// The arguments of `slth eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The certificate whose f and g~ are evaluated (it is not verified).
    pub certificate: PathBuf,
    /// How many rational points of the domain to evaluate f and g~ at.
    #[arg(long, default_value_t = 1000)]
    pub points: usize,
    /// Seed of the random points.
    #[arg(long, default_value = "0")]
    pub seed: String,
    /// Instead of random points: classify the rows of this .npy array ([N, d], float or
    /// int) with f and g~, and count the agreements the certificate guarantees.
    #[arg(long, conflicts_with = "points")]
    pub inputs: Option<PathBuf>,
    /// Class labels of the inputs (.npy, `[N]` integers): report the accuracy of f and g~.
    #[arg(long, requires = "inputs")]
    pub labels: Option<PathBuf>,
    /// Print one JSON object instead of the text: with --inputs, per input its domain
    /// membership, f's and g~'s class and margin, agreement and guarantee (README, "JSON
    /// output").
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The certificate to summarize.
    pub certificate: PathBuf,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth attack`.
#[derive(clap::Args)]
pub struct AttackArgs {
    /// The certificate whose domain is searched (it is not verified; `slth verify` proves
    /// the upper bound).
    pub certificate: PathBuf,
    /// Starting points of the ascent: structured ones (singular vectors, coordinate
    /// directions; at most half) and random points of the sphere.
    #[arg(long, value_name = "N", default_value_t = crate::attack::DEFAULT_STARTS)]
    pub starts: usize,
    /// Most accepted steps of the ascent from one start.
    #[arg(long, value_name = "N", default_value_t = crate::attack::DEFAULT_STEPS)]
    pub steps: usize,
    /// Seed of the random starts and of the sampling baseline (an unsigned 64-bit integer
    /// or 64 hexadecimal digits). The result does not depend on the number of threads.
    #[arg(long, default_value = "0")]
    pub seed: String,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write the point: a .npy array of f64 with shape [1, n] when FILE ends in .npy (the
    /// coordinates are f64, so it is exact), else a JSON array of exact rationals.
    #[arg(long, value_name = "FILE")]
    pub point_out: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The certificate whose ticket g~ is exported (it is verified first).
    pub certificate: PathBuf,
    /// The safetensors file to write (atomically); `-` writes to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Tensor dtype: f64 holds every weight of g~ exactly; f32 rounds them.
    #[arg(long, value_enum, default_value_t = DtypeArg::F64)]
    pub dtype: DtypeArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The certificate to draw (it is read, not verified; `slth verify` proves it).
    pub certificate: PathBuf,
    /// Write the SVG figure here (atomically); `-` writes it to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the numbers of the figure as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    /// Run `slth attack` (seed 0, default starts and steps) and draw its proven lower bound
    /// beside epsilon.
    #[arg(long, conflicts_with = "attack_json")]
    pub attack: bool,
    /// Draw the lower bound of a saved `slth attack --json` output of this certificate.
    #[arg(long, value_name = "FILE")]
    pub attack_json: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The arguments of `slth sweep`.
#[derive(clap::Args)]
pub struct SweepArgs {
    /// Target network, as for `slth certify` (a JSON network file or a safetensors MLP;
    /// activations as its file states them, else hidden ReLU and a linear last layer).
    pub target: PathBuf,
    /// The epsilons to certify, comma-separated positive rationals (0.2,0.1,0.05,1/50).
    #[arg(long, value_name = "LIST", allow_hyphen_values = true)]
    pub epsilon: String,
    /// Seed of g, the same for every run: an unsigned 64-bit integer or 64 hex digits.
    #[arg(long, default_value = "0")]
    pub seed: String,
    /// Radius of the L2 ball the certificates cover.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub radius: String,
    /// Restrict the domain to x >= 0.
    #[arg(long)]
    pub nonnegative: bool,
    /// Write the SVG plot here (atomically); `-` writes it to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the CSV (one row per epsilon and construction) here; without it and without
    /// --json the CSV goes to standard output.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Print the results as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

impl SweepArgs {
    /// The options of the sweep.
    pub fn options(&self) -> Result<crate::sweep::SweepOptions, Error> {
        let epsilons = crate::sweep::parse_epsilons(&self.epsilon)?;
        let radius = rational("radius", &self.radius)?;
        if num_traits::Signed::is_negative(&radius) {
            return Err(Error::usage("radius", "must be >= 0"));
        }
        Ok(crate::sweep::SweepOptions {
            epsilons,
            seed: seed(&self.seed)?,
            seed_text: self.seed.clone(),
            radius,
            nonnegative: self.nonnegative,
        })
    }
}

impl AttackArgs {
    /// The options of the attack.
    pub fn options(&self) -> Result<crate::attack::AttackOptions, Error> {
        let mut options = crate::attack::AttackOptions::new(seed(&self.seed)?);
        options.starts = self.starts;
        options.steps = self.steps;
        Ok(options)
    }
}

/// The dtype of exported tensors.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DtypeArg {
    F64,
    F32,
}

impl From<DtypeArg> for crate::export::Precision {
    fn from(d: DtypeArg) -> Self {
        match d {
            DtypeArg::F64 => crate::export::Precision::F64,
            DtypeArg::F32 => crate::export::Precision::F32,
        }
    }
}

/// The resource limits of reading and checking a certificate (`Limits`; the defaults are
/// generous for real networks and refuse hostile files early).
#[derive(clap::Args)]
#[command(next_help_heading = "Resource limits")]
pub struct LimitArgs {
    /// Largest certificate file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_file_bytes)]
    pub max_file_size: u64,
    /// Deepest nesting of JSON arrays and objects (at most 128).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_nesting)]
    pub max_nesting: usize,
    /// Longest text of one rational number, in characters.
    #[arg(long, value_name = "CHARS", default_value_t = Limits::default().max_number_chars)]
    pub max_number_length: usize,
    /// Largest |exponent| of a decimal number written with e (each unit adds a digit the
    /// text does not pay for; a zero is never refused).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_exponent)]
    pub max_exponent: u64,
    /// Most target layers.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_layers)]
    pub max_layers: usize,
    /// Largest input_dim, number of rows, or row length of a target layer.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_dimension)]
    pub max_dimension: u64,
    /// Most kept entries in the whole ticket.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_kept_entries)]
    pub max_kept_entries: u64,
    /// Largest side of a spectral witness factor.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_witness_side)]
    pub max_witness_side: usize,
    /// Largest Gram side checked by exact elimination for a "spectral" claim without a
    /// witness (the time grows like side^3 with growing numbers).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_elimination_side)]
    pub max_elimination_side: usize,
    /// Most bits of a common denominator, and of the numbers of the chain e_1..e_l, in the
    /// exact check.
    #[arg(long, value_name = "BITS", default_value_t = Limits::default().max_exact_bits)]
    pub max_exact_bits: u64,
    /// Most bits of all target weights and witness factors written as integers over their
    /// common denominators: entries times bits, all layers together.
    #[arg(long, value_name = "BITS", default_value_t = Limits::default().max_scaled_bits)]
    pub max_scaled_bits: u64,
    /// Most estimated 64-bit word multiplications of one exact elimination or witness
    /// check (about 3 x 10^8 per second on a small machine).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_exact_work,
          value_parser = work_limit)]
    pub max_exact_work: f64,
}

/// A work limit: a number >= 0 (`inf` switches it off); NaN would switch it off unseen.
fn work_limit(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n >= 0.0 => Ok(n),
        _ => Err(format!("{text:?} is not a number >= 0")),
    }
}

impl From<&LimitArgs> for Limits {
    fn from(a: &LimitArgs) -> Limits {
        Limits {
            max_file_bytes: a.max_file_size,
            max_nesting: a.max_nesting,
            max_number_chars: a.max_number_length,
            max_exponent: a.max_exponent,
            max_layers: a.max_layers,
            max_dimension: a.max_dimension,
            max_kept_entries: a.max_kept_entries,
            max_witness_side: a.max_witness_side,
            max_elimination_side: a.max_elimination_side,
            max_exact_bits: a.max_exact_bits,
            max_scaled_bits: a.max_scaled_bits,
            max_exact_work: a.max_exact_work,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LipschitzArg {
    Best,
    Frobenius,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClaimsArg {
    Auto,
    Spectral,
    Terms,
    Joint,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ConstructionArg {
    SubsetSum,
    Pairs,
}

/// clap's rendered error message as one line: every line but the usage and the pointer to
/// `--help` (so the missing argument and the suggestion stay), without `error: `, then
/// where the help is.
pub fn one_line(rendered: &str) -> String {
    let mut line = String::new();
    for part in rendered.lines().map(str::trim) {
        if part.is_empty() || part.starts_with("Usage:") || part.starts_with("For more information")
        {
            continue;
        }
        let part = part.strip_prefix("error: ").unwrap_or(part);
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    if line.is_empty() {
        line.push_str("invalid arguments");
    }
    format!("{line} (see slth --help)")
}

impl CertifyArgs {
    /// The options of the certify pipeline.
    pub fn options(&self) -> Result<CertifyOptions, Error> {
        let request = match (&self.epsilon, &self.tolerance) {
            (Some(e), _) => Request::Epsilon(rational("epsilon", e)?),
            (None, Some(t)) => Request::Tolerance(rational("tolerance", t)?),
            (None, None) => return Err(Error::usage("epsilon", "give --epsilon or --tolerance")),
        };
        let mut options = CertifyOptions::new(request, seed(&self.seed)?);
        options.construction = match self.construction {
            ConstructionArg::SubsetSum => Construction::SubsetSum,
            ConstructionArg::Pairs => Construction::Pairs,
        };
        let pairs = matches!(self.construction, ConstructionArg::Pairs);
        if pairs && self.pool.is_some() {
            return Err(Error::usage(
                "pool",
                "applies to the subset-sum construction only, not to --construction pairs: drop --pool",
            ));
        }
        if !pairs && self.max_width.is_some() {
            return Err(Error::usage(
                "max-width",
                "applies to --construction pairs only (subset sum's widths follow from --pool, or are fixed by --width): drop --max-width",
            ));
        }
        if self.best_effort && (self.format_version < 2 || self.epsilon.is_none()) {
            return Err(Error::usage(
                "best-effort",
                "applies to an --epsilon request in format version 2 only: drop --best-effort",
            ));
        }
        options.pool = self.pool;
        options.widths = self.width.clone();
        options.radius = rational("radius", &self.radius)?;
        options.nonnegative = self.nonnegative;
        options.activations = self.activations.clone();
        options.spectral = matches!(self.lipschitz, LipschitzArg::Best);
        options.version = self.format_version;
        options.best_effort = self.best_effort;
        let (flag, claims) = if self.terms {
            ("terms", ClaimsArg::Terms)
        } else if self.joint {
            ("joint", ClaimsArg::Joint)
        } else {
            ("claims", self.claims)
        };
        // auto and spectral search nothing: with version 1 they write version 1 claims.
        let version_2_only = match claims {
            ClaimsArg::Terms => Some("the terms are"),
            ClaimsArg::Joint => Some("the joint form is"),
            ClaimsArg::Spectral | ClaimsArg::Auto => None,
        };
        if let Some(what) = version_2_only.filter(|_| self.format_version < 2) {
            let reason = format!("{what} a format version 2 claim: drop --format-version 1");
            return Err(Error::usage(flag, reason));
        }
        options.tightest = match claims {
            ClaimsArg::Auto => crate::certify::Tightest::Auto,
            ClaimsArg::Spectral => crate::certify::Tightest::Spectral,
            ClaimsArg::Terms => crate::certify::Tightest::Terms,
            ClaimsArg::Joint => crate::certify::Tightest::Joint,
        };
        options.max_width = self
            .max_width
            .unwrap_or(crate::construct::DEFAULT_MAX_WIDTH);
        options.check()?;
        Ok(options)
    }
}

impl RandomTargetArgs {
    /// How the entries are drawn.
    pub fn range(&self) -> Result<EntryRange, Error> {
        EntryRange::from_option(self.range.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slth_checker::sampler::Seed;

    #[test]
    fn seeds_parse_and_reject() {
        assert_eq!(seed("0").unwrap(), Seed([0; 32]));
        assert_eq!(
            seed("42").unwrap().to_hex(),
            format!("2a{}", "0".repeat(62))
        );
        assert!(seed("-1").is_err());
        assert!(seed("18446744073709551616").is_err());
        assert_eq!(seed(&"ff".repeat(32)).unwrap(), Seed([255; 32]));
        assert!(seed(&"g".repeat(64)).is_err());
    }
}
