//! `slth experiment neurons-vs-weights`: the separation of the paper's two theorems on a
//! single ReLU neuron `f(x) = ReLU(<w*, x>)`, x uniform on the unit sphere of R^d.
//!
//! For each d:
//!
//! - **neuron pruning**: g of growing width (first layer uniform on the sphere, second
//!   Unif(-1, 1); the widths are prefixes of one g), the paper's reduction and stepwise
//!   selection fitted on a training sample; the first width whose better held-out loss
//!   reaches the threshold, or the loss at the largest width. Losses are reported as they
//!   are and **normalised**: divided by twice the held-out loss of c g~ = 0, which is the
//!   loss for the target rescaled to E f^2 = 1/2 (its value for x ~ N(0, I_d), where the
//!   random-features lower bound of Yehudai and Shamir is stated). Unnormalised, the
//!   threshold would mean little: E f^2 = 1/(2d) on the unit sphere, so keeping nothing
//!   already has loss 0.0078 at d = 64.
//! - **weight pruning**: `slth certify` on the one-neuron target (epsilon = sup-norm error
//!   on the unit ball), with the subset-sum and pairs constructions: the width of g and the
//!   kept weights.
//!
//! w* has entries `+-q` with `q = floor(2^20 / sqrt(d)) / 2^20` and alternating signs
//! (||w*|| <= 1, each entry within the theorem's 1/sqrt(d)).

use super::{FirstLayer, Methods, Outcome, Sample, coins, draw, fit, sphere_sample};
use crate::certify::{CertifyOptions, Construction, Request, certify};
use crate::error::Error;
use crate::network::{Activation, Layer, Network};
use num_bigint::BigInt;
use num_rational::BigRational;
use slth_checker::sampler::Seed;
use std::fmt::Write as _;
use std::time::Instant;

/// The experiment's settings (each a flag of the command).
#[derive(Debug, Clone)]
pub struct Settings {
    pub dims: Vec<usize>,
    /// widths of g tried for neuron pruning, ascending
    pub widths: Vec<usize>,
    pub train: usize,
    pub test: usize,
    /// the normalised held-out loss neuron pruning must reach
    pub threshold: f64,
    /// the certified sup-norm error of weight pruning
    pub epsilon: BigRational,
    pub seed: Seed,
    pub points_seed: Seed,
    pub ridge: f64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            dims: vec![2, 4, 8, 16, 32, 64],
            widths: (3..=11).map(|e| 1usize << e).collect(),
            train: 4096,
            test: 2048,
            threshold: 0.01,
            epsilon: BigRational::new(1.into(), 10.into()),
            seed: Seed::from_u64(1),
            points_seed: Seed::from_u64(2),
            ridge: 1e-3,
        }
    }
}

/// One width of g tried for neuron pruning.
#[derive(Debug, Clone)]
pub struct NeuronStep {
    pub outcome: Outcome,
    /// the better held-out loss of the two selections, normalised
    pub normalised: f64,
    /// which selection gave it
    pub method: &'static str,
}

/// What weight pruning needed.
#[derive(Debug, Clone)]
pub struct WeightResult {
    pub construction: &'static str,
    pub width: u64,
    pub kept_weights: usize,
    pub certified_epsilon: f64,
    pub seconds: f64,
}

/// One dimension's results.
#[derive(Debug, Clone)]
pub struct Row {
    pub d: usize,
    pub steps: Vec<NeuronStep>,
    /// the first width that reached the threshold
    pub neuron_width: Option<usize>,
    pub neuron_seconds: f64,
    pub weights: Vec<WeightResult>,
}

impl Row {
    /// The last step tried (the reaching one, or the largest width).
    pub fn last(&self) -> Option<&NeuronStep> {
        self.steps.last()
    }
}

/// w* of the experiment.
pub fn target_weights(d: usize) -> Vec<BigRational> {
    let scale = 1u64 << 20;
    let q = ((scale as f64) / (d as f64).sqrt()).floor() as i64;
    (0..d)
        .map(|t| {
            let sign = if t % 2 == 0 { 1 } else { -1 };
            BigRational::new(BigInt::from(sign * q), BigInt::from(scale))
        })
        .collect()
}

/// Runs the neuron-pruning side for one d.
pub fn neuron_side(
    settings: &Settings,
    d: usize,
    w_star: &[f64],
) -> (Vec<NeuronStep>, Option<usize>) {
    let target = |x: &[f64]| {
        x.iter()
            .zip(w_star)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            .max(0.0)
    };
    let train: Sample = sphere_sample(&settings.points_seed, 0, settings.train, d, target);
    let test: Sample = sphere_sample(&settings.points_seed, 1, settings.test, d, target);
    let largest = settings.widths.iter().copied().max().unwrap_or(0);
    let g = draw(&settings.seed, d, largest, FirstLayer::Sphere);
    let coins = coins(&settings.seed, largest);
    let baseline = 2.0 * test.trivial_loss();
    let mut steps = Vec::new();
    for &width in &settings.widths {
        let outcome = fit(
            &g,
            width,
            &train,
            &test,
            settings.ridge,
            &coins,
            Methods {
                reduction: true,
                greedy: true,
            },
        );
        let (best, method) = if outcome.greedy_losses.test <= outcome.reduction_losses.test {
            (outcome.greedy_losses.test, "stepwise")
        } else {
            (outcome.reduction_losses.test, "reduction")
        };
        let normalised = best / baseline;
        steps.push(NeuronStep {
            outcome,
            normalised,
            method,
        });
        if normalised <= settings.threshold {
            return (steps, Some(width));
        }
    }
    (steps, None)
}

/// Runs the weight-pruning side for one d.
pub fn weight_side(
    settings: &Settings,
    w_star: &[BigRational],
) -> Result<Vec<WeightResult>, Error> {
    let target = Network {
        input_dim: w_star.len(),
        layers: vec![Layer {
            weights: vec![w_star.to_vec()],
            activation: Activation::Relu,
        }],
    };
    let mut out = Vec::new();
    for construction in [Construction::SubsetSum, Construction::Pairs] {
        let mut options =
            CertifyOptions::new(Request::Epsilon(settings.epsilon.clone()), settings.seed);
        options.construction = construction;
        let started = Instant::now();
        let certified = certify(&target, &options).map_err(|e| Error::Certify {
            file: format!("one-neuron target, d = {}", w_star.len()),
            reason: e.to_string(),
        })?;
        let epsilon =
            crate::numbers::parse_rational(&certified.head.bound.epsilon.0).unwrap_or_default();
        out.push(WeightResult {
            construction: construction.name(),
            width: certified.head.random_network.hidden_widths[0],
            kept_weights: certified.ticket.kept_weights(),
            certified_epsilon: crate::numbers::rational_to_f64(&epsilon),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(out)
}

/// Runs the whole experiment; `progress` hears one line per finished step.
pub fn run(settings: &Settings, mut progress: impl FnMut(&str)) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    for &d in &settings.dims {
        let w_star = target_weights(d);
        let w_f64: Vec<f64> = w_star.iter().map(crate::numbers::rational_to_f64).collect();
        let started = Instant::now();
        let (steps, neuron_width) = neuron_side(settings, d, &w_f64);
        let neuron_seconds = started.elapsed().as_secs_f64();
        let weights = weight_side(settings, &w_star)?;
        let row = Row {
            d,
            steps,
            neuron_width,
            neuron_seconds,
            weights,
        };
        progress(&table_line(&row, settings));
        rows.push(row);
    }
    Ok(rows)
}

fn table_line(row: &Row, settings: &Settings) -> String {
    let neuron = match (row.neuron_width, row.last()) {
        (Some(w), Some(s)) => format!("{w} ({}: {:.4})", s.method, s.normalised),
        (None, Some(s)) => format!(
            "> {} (at {}: {:.4}, {})",
            s.outcome.width, s.outcome.width, s.normalised, s.method
        ),
        _ => "-".into(),
    };
    let last = row.last();
    let raw = last.map_or(f64::NAN, |s| {
        s.outcome
            .greedy_losses
            .test
            .min(s.outcome.reduction_losses.test)
    });
    let trivial = last.map_or(f64::NAN, |s| s.outcome.trivial.test);
    let rf = last.map_or(f64::NAN, |s| {
        s.outcome.random_features.test / (2.0 * trivial)
    });
    let reduction = last.map_or(f64::NAN, |s| {
        s.outcome.reduction_losses.test / (2.0 * trivial)
    });
    let weights: Vec<String> = row
        .weights
        .iter()
        .map(|w| format!("{} / {}", w.width, w.kept_weights))
        .collect();
    let _ = settings;
    format!(
        "| {} | {neuron} | {raw:.3e} | {trivial:.3e} | {reduction:.4} | {rf:.4} | {} | {:.1} s |",
        row.d,
        weights.join(" | "),
        row.neuron_seconds + row.weights.iter().map(|w| w.seconds).sum::<f64>()
    )
}

/// The results as a Markdown table.
pub fn table(rows: &[Row], settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| d | neuron pruning: width for normalised held-out loss <= {} (selection: normalised loss) | held-out loss there, unnormalised | held-out loss of c g~ = 0 | the paper's reduction there, normalised | random features (free u) there, normalised | weight pruning, subset-sum: width / kept weights | weight pruning, pairs: width / kept weights | time |",
        settings.threshold
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let _ = writeln!(out, "{}", table_line(row, settings));
    }
    out
}

/// The SVG plot: both widths against d on log-log axes, with the theory's trends.
pub fn plot(rows: &[Row], settings: &Settings) -> Result<String, String> {
    use plotters::prelude::*;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let d_max = rows.iter().map(|r| r.d).max().unwrap_or(64) as f64;
        let d_min = rows.iter().map(|r| r.d).min().unwrap_or(2) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "One ReLU neuron on the unit sphere of R^d: width of g for sup error {} (weights), normalised held-out loss {} (neurons)",
                    crate::numbers::format_rational(&settings.epsilon),
                    settings.threshold
                ),
                ("sans-serif", 17),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(
                (d_min / 1.2..d_max * 1.2).log_scale().base(2.0),
                (1f64..1e7f64).log_scale(),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("input dimension d")
            .y_desc("hidden width of g")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0e}"))
            .draw()
            .map_err(|e| e.to_string())?;
        let e = |e: DrawingAreaErrorKind<_>| e.to_string();
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(255, 127, 14);
        let green = RGBColor(44, 160, 44);
        let grey = RGBColor(120, 120, 120);

        // Neuron pruning: reached widths (filled), lower bounds where out of reach (hollow).
        let reached: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|r| r.neuron_width.map(|w| (r.d as f64, w as f64)))
            .collect();
        let beyond: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.neuron_width.is_none())
            .filter_map(|r| r.last().map(|s| (r.d as f64, s.outcome.width as f64)))
            .collect();
        chart
            .draw_series(LineSeries::new(reached.clone(), blue.stroke_width(2)))
            .map_err(e)?
            .label(
                "neuron pruning: width for the loss (filled) / not reached at this width (hollow)",
            )
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2))
            });
        chart
            .draw_series(reached.iter().map(|&p| Circle::new(p, 5, blue.filled())))
            .map_err(e)?;
        chart
            .draw_series(
                beyond
                    .iter()
                    .map(|&p| Circle::new(p, 6, blue.stroke_width(2))),
            )
            .map_err(e)?;

        // Weight pruning.
        for (index, colour, name) in [
            (
                0usize,
                orange,
                "weight pruning, subset-sum: certified width",
            ),
            (
                1usize,
                green,
                "weight pruning, pairs (Malach et al.): certified width",
            ),
        ] {
            let points: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| r.weights.get(index).map(|w| (r.d as f64, w.width as f64)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(e)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| TriangleMarker::new(p, 6, colour.filled())),
                )
                .map_err(e)?;
        }

        // Trends, each anchored at the smallest d measured.
        let ds: Vec<f64> = {
            let mut v = Vec::new();
            let mut d = d_min;
            while d <= d_max * 1.0001 {
                v.push(d);
                d *= 2f64.powf(0.25);
            }
            v
        };
        let eps = crate::numbers::rational_to_f64(&settings.epsilon);
        let anchor = |row: &Row| -> Option<(f64, f64)> {
            row.neuron_width.map(|w| (row.d as f64, w as f64))
        };
        if let Some((d0, w0)) = rows.first().and_then(anchor) {
            let trend: Vec<(f64, f64)> = ds
                .iter()
                .map(|&d| (d, w0 * 2f64.powf(d - d0)))
                .filter(|p| p.1 < 1e7)
                .collect();
            chart
                .draw_series(DashedLineSeries::new(trend, 6, 4, blue.stroke_width(1)))
                .map_err(e)?
                .label("trend 2^d (exponential: random features, Yehudai-Shamir), through the first point")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(1)));
        }
        let trend_through = |index: usize, shape: &dyn Fn(f64) -> f64| -> Option<Vec<(f64, f64)>> {
            let first = rows.first()?;
            let w0 = first.weights.get(index)?.width as f64;
            let d0 = first.d as f64;
            Some(ds.iter().map(|&d| (d, w0 * shape(d) / shape(d0))).collect())
        };
        if let Some(trend) = trend_through(0, &|d: f64| d * (d / eps).log2()) {
            chart
                .draw_series(DashedLineSeries::new(trend, 6, 4, orange.stroke_width(1)))
                .map_err(e)?
                .label("trend d log(d/epsilon) (subset-sum, Pensia et al.)")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(1))
                });
        }
        if let Some(trend) = trend_through(1, &|d: f64| d * d) {
            chart
                .draw_series(DashedLineSeries::new(trend, 6, 4, green.stroke_width(1)))
                .map_err(e)?
                .label("trend d^2 / epsilon (pairs, Malach et al.)")
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], green.stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(grey)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(e)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
