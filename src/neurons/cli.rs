//! The arguments of `slth neurons` and `slth experiment`, and what each runs.

use super::experiment::{self, Settings};
use super::{FirstLayer, Methods, Sample, coins, draw, fit, load_sample, sphere_sample};
use crate::error::Error;
use crate::values::{rational, seed};
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FirstLayerArg {
    /// every weight uniform in (-1, 1), as in the weight-subnetwork g (exact; certifiable)
    Uniform,
    /// each neuron's weights uniform on the unit sphere (Box-Muller in f64: approximate,
    /// not certifiable)
    Sphere,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SelectionArg {
    /// the paper's reduction from random features
    Reduction,
    /// stepwise selection
    Stepwise,
}

/// The arguments of `slth neurons`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("data").required(true).args(["inputs", "target"])))]
pub struct NeuronsArgs {
    /// Sample inputs: a .npy array `[n, d]` (float or int).
    #[arg(long, requires = "targets")]
    pub inputs: Option<PathBuf>,
    /// Sample targets: a .npy array `[n]` or `[n, 1]`.
    #[arg(long, requires = "inputs")]
    pub targets: Option<PathBuf>,
    /// Held-out inputs (.npy); without them the last --holdout of the sample is held out.
    #[arg(long, requires_all = ["test_targets", "inputs"])]
    pub test_inputs: Option<PathBuf>,
    /// Held-out targets (.npy), one per row of --test-inputs.
    #[arg(long, requires = "test_inputs")]
    pub test_targets: Option<PathBuf>,
    /// Share of the .npy sample held out when no --test-inputs are given.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Instead of a sample: a target network file with one output, evaluated at --points
    /// points uniform on the unit sphere of R^d.
    #[arg(long, conflicts_with = "inputs")]
    pub target: Option<PathBuf>,
    /// Training points drawn for --target.
    #[arg(long, default_value_t = 1000)]
    pub points: usize,
    /// Held-out points drawn for --target.
    #[arg(long, default_value_t = 1000)]
    pub test_points: usize,
    /// Seed of the points (stream 0: training, stream 1: held out).
    #[arg(long, default_value = "0")]
    pub points_seed: String,
    /// Seed of g: an unsigned 64-bit integer or 64 hexadecimal digits.
    #[arg(long)]
    pub seed: String,
    /// Hidden width k of g.
    #[arg(long)]
    pub width: usize,
    /// Distribution of g's first layer: Unif[-1, 1] per weight as in the weight-subnetwork
    /// g (exactly recomputable, so certifiable), or uniform on the unit sphere (f64 only).
    #[arg(long, value_enum, default_value_t = FirstLayerArg::Uniform)]
    pub first_layer: FirstLayerArg,
    /// Ridge parameter of the random-features fit (times trace(Phi^T Phi) / k).
    #[arg(long, default_value_t = 1e-3)]
    pub ridge: f64,
    /// Write the certificate of a selection's training loss here (uniform first layer only;
    /// the training sample goes into it inline, or into a file beside it, see --sample-file).
    #[arg(long)]
    pub certificate: Option<PathBuf>,
    /// Write the certificate's sample to its own file next to the certificate, named
    /// `sample-<SHA-256 of its bytes>.json` (done without this flag when the sample text
    /// exceeds 1 MiB).
    #[arg(long, requires = "certificate")]
    pub sample_file: bool,
    /// The selection the certificate is about.
    #[arg(long, value_enum, default_value_t = SelectionArg::Stepwise)]
    pub certify: SelectionArg,
    /// Print the losses as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `slth experiment`.
#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// The experiment to rerun.
    #[arg(value_enum)]
    pub name: ExperimentName,
    /// Input dimensions.
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().dims)]
    pub dims: Vec<usize>,
    /// Widths of g tried for neuron pruning, ascending.
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().widths)]
    pub widths: Vec<usize>,
    /// Training points.
    #[arg(long, default_value_t = Settings::default().train)]
    pub train: usize,
    /// Held-out points.
    #[arg(long, default_value_t = Settings::default().test)]
    pub test: usize,
    /// Normalised held-out loss neuron pruning must reach.
    #[arg(long, default_value_t = Settings::default().threshold)]
    pub threshold: f64,
    /// Certified sup-norm error of weight pruning.
    #[arg(long, default_value = "1/10")]
    pub epsilon: String,
    /// Seed of g, for both kinds of pruning.
    #[arg(long, default_value = "1")]
    pub seed: String,
    /// Seed of the training and held-out points.
    #[arg(long, default_value = "2")]
    pub points_seed: String,
    /// Write the plot here (SVG).
    #[arg(long)]
    pub svg: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExperimentName {
    /// the width neuron pruning and weight pruning need for one ReLU neuron
    NeuronsVsWeights,
}

fn first_layer(arg: FirstLayerArg) -> FirstLayer {
    match arg {
        FirstLayerArg::Uniform => FirstLayer::Uniform,
        FirstLayerArg::Sphere => FirstLayer::Sphere,
    }
}

/// The training and held-out samples `slth neurons` reads or draws.
fn samples(args: &NeuronsArgs) -> Result<(Sample, Sample), Error> {
    if let (Some(inputs), Some(targets)) = (&args.inputs, &args.targets) {
        let sample = load_sample(inputs, targets)?;
        if let (Some(ti), Some(tt)) = (&args.test_inputs, &args.test_targets) {
            let test = load_sample(ti, tt)?;
            if test.input_dim != sample.input_dim {
                return Err(Error::input(
                    ti,
                    format!(
                        "{} columns, the sample has {}",
                        test.input_dim, sample.input_dim
                    ),
                ));
            }
            return Ok((sample, test));
        }
        if !(0.0..1.0).contains(&args.holdout) {
            return Err(Error::usage("holdout", "must be in [0, 1)"));
        }
        let rows = (sample.len() as f64 * args.holdout).round() as usize;
        return Ok(sample.split_tail(rows));
    }
    let Some(path) = &args.target else {
        return Err(Error::usage(
            "inputs",
            "give --inputs and --targets, or --target",
        ));
    };
    let network = crate::import::load_target(path)?;
    let dims = network.network.dims();
    if dims.last() != Some(&1) {
        return Err(Error::input(
            path,
            "the target must have exactly one output",
        ));
    }
    let d = network.network.input_dim;
    let points_seed = seed(&args.points_seed)?;
    let f = |x: &[f64]| network.eval_f64(x)[0];
    Ok((
        sphere_sample(&points_seed, 0, args.points, d, f),
        sphere_sample(&points_seed, 1, args.test_points, d, f),
    ))
}

/// `slth neurons`: the text (or JSON) to print.
pub fn run_neurons(args: &NeuronsArgs) -> Result<String, Error> {
    let seed = seed(&args.seed)?;
    if !(args.ridge > 0.0 && args.ridge.is_finite()) {
        return Err(Error::usage("ridge", "must be a positive number"));
    }
    let (train, test) = samples(args)?;
    if train.is_empty() {
        return Err(Error::usage("points", "the training sample is empty"));
    }
    let first = first_layer(args.first_layer);
    if args.certificate.is_some() && first != FirstLayer::Uniform {
        return Err(Error::usage(
            "certificate",
            super::certificate::NeuronCertifyError::NotRecomputable,
        ));
    }
    let g = draw(&seed, train.input_dim, args.width, first);
    let outcome = fit(
        &g,
        args.width,
        &train,
        &test,
        args.ridge,
        &coins(&seed, args.width),
        Methods {
            reduction: true,
            greedy: true,
        },
    );
    let mut out = String::new();
    let mut json = outcome.to_json();
    if !args.json {
        let _ = writeln!(
            out,
            "g: width {}, input dimension {}, first layer {}, seed {}; {} training and {} held-out samples",
            args.width,
            train.input_dim,
            first.name(),
            seed.to_hex(),
            train.len(),
            test.len()
        );
        out.push_str(&outcome.render_text());
    }
    if let Some(path) = &args.certificate {
        let (selection, name) = match args.certify {
            SelectionArg::Reduction => (&outcome.reduction, "reduction"),
            SelectionArg::Stepwise => (&outcome.greedy, "stepwise"),
        };
        let (mut certificate, report) =
            super::certificate::certify_selection(&seed, &g, args.width, selection, &train, name)
                .map_err(|e| Error::usage("certificate", e))?;
        let large = super::certificate::inline_sample_bytes(&certificate)
            > super::certificate::INLINE_SAMPLE_MAX_BYTES;
        let mut sample_name: Option<String> = None;
        if args.sample_file || large {
            if path.as_path() == std::path::Path::new("-") {
                return Err(Error::usage(
                    "sample-file",
                    "a sample file is written next to the certificate, which needs a file, not standard output",
                ));
            }
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => std::path::Path::new("."),
            };
            crate::write::check_output(Some(path))?;
            let file = super::certificate::move_sample_to_file(&mut certificate, folder)?;
            sample_name = Some(file);
        }
        crate::write::write_output(Some(path), &super::certificate::to_json_text(&certificate))?;
        let claimed = crate::numbers::format_rational(&report.claimed_loss);
        if args.json {
            json["certificate"] = serde_json::json!({"file": path.display().to_string(), "selection": name, "claimed_loss": claimed, "sample_file": sample_name});
        } else {
            let sample_note = sample_name
                .map(|f| format!(", sample in {f}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "certificate: {} ({name} selection, {} kept neurons, claimed training loss {claimed}, checked{sample_note})",
                path.display(),
                selection.kept.len()
            );
        }
    }
    if args.json {
        let _ = writeln!(out, "{json}");
    }
    Ok(out)
}

/// `slth experiment NAME`: prints the table (lines as they finish go to `progress`).
pub fn run_experiment(args: &ExperimentArgs, progress: impl FnMut(&str)) -> Result<String, Error> {
    let ExperimentName::NeuronsVsWeights = args.name;
    let mut widths = args.widths.clone();
    widths.sort_unstable();
    widths.dedup();
    let settings = Settings {
        dims: args.dims.clone(),
        widths,
        train: args.train,
        test: args.test,
        threshold: args.threshold,
        epsilon: rational("epsilon", &args.epsilon)?,
        seed: seed(&args.seed)?,
        points_seed: seed(&args.points_seed)?,
        ridge: Settings::default().ridge,
    };
    if args.dims.contains(&0) || args.train == 0 || args.test == 0 {
        return Err(Error::usage(
            "dims",
            "dimensions and sample sizes must be positive",
        ));
    }
    let rows = experiment::run(&settings, progress)?;
    let table = experiment::table(&rows, &settings);
    if let Some(path) = &args.svg {
        let svg = experiment::plot(&rows, &settings).map_err(|e| Error::input(path, e))?;
        crate::write::write_output(Some(path), &svg)?;
    }
    Ok(table)
}
