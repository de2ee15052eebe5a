//! `slth neurons`: the second theorem of Malach et al. made concrete. Neuron subnetworks of a
//! random two-layer network are random features: this module draws g, chooses the neurons
//! to keep and the scale c > 0 that minimise the empirical squared loss of c g~ (the paper's
//! reduction and a stronger stepwise selection), and writes a certificate the trusted
//! checker decides exactly (`slth_checker::neurons`, docs/FORMAT.md section 13).
//!
//! - `draw`: g from the seed (stream layout), the unit-sphere first layer and sample points;
//! - `select`: random features, the reduction, stepwise selection;
//! - `certificate`: the certificate of a selection;
//! - `experiment`: `slth experiment neurons-vs-weights`;
//! - `cli`: the arguments of both commands.

pub mod certificate;
pub mod cli;
pub mod draw;
pub mod experiment;
pub mod select;

pub use draw::{FirstLayer, RandomTwoLayer, draw, features, sphere_vectors};
pub use select::{Columns, Selection};

use crate::error::Error;
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE};
use std::fmt::Write as _;

/// The stream of the reduction's coins (index j for neuron j); not part of any certificate.
pub const COIN_STREAM: u64 = 2;

/// A sample: n rows of d inputs, and n targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub input_dim: usize,
    /// row-major, n * d
    pub x: Vec<f64>,
    pub y: Vec<f64>,
}

impl Sample {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// `(1/n) sum y^2`: the loss of c g~ with nothing kept.
    pub fn trivial_loss(&self) -> f64 {
        self.y.iter().map(|y| y * y).sum::<f64>() / self.len().max(1) as f64
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Sample {
        let n = n.min(self.len());
        Sample {
            input_dim: self.input_dim,
            x: self.x[..n * self.input_dim].to_vec(),
            y: self.y[..n].to_vec(),
        }
    }

    /// Splits off the last `rows` rows.
    pub fn split_tail(&self, rows: usize) -> (Sample, Sample) {
        let keep = self.len().saturating_sub(rows);
        let d = self.input_dim;
        (
            self.head(keep),
            Sample {
                input_dim: d,
                x: self.x[keep * d..].to_vec(),
                y: self.y[keep..].to_vec(),
            },
        )
    }
}

/// `n` points uniform on the unit sphere of R^d (stream 0 of `seed` for a training sample,
/// stream 1 for a held-out one; see `draw`) and a target's values there.
pub fn sphere_sample(
    seed: &Seed,
    stream: u64,
    n: usize,
    d: usize,
    target: impl Fn(&[f64]) -> f64,
) -> Sample {
    let x = sphere_vectors(seed, stream, n, d);
    let y = x.chunks(d.max(1)).take(n).map(&target).collect();
    Sample { input_dim: d, x, y }
}

/// The reduction's coins: `(v + 1) / 2` in (0, 1) for the draw v of [`COIN_STREAM`] at j.
pub fn coins(seed: &Seed, width: usize) -> Vec<f64> {
    let mut reader = StreamReader::new(*seed, COIN_STREAM);
    (0..width as u64)
        .map(|j| (reader.numerator(j) as f64 + WEIGHT_SCALE as f64) / (2.0 * WEIGHT_SCALE as f64))
        .collect()
}

/// Train and held-out losses of one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    pub train: f64,
    pub test: f64,
}

/// What `slth neurons` found for one width.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub width: usize,
    /// c g~ = 0
    pub trivial: Losses,
    /// the random-features model (free u; not a subnetwork)
    pub random_features: Losses,
    pub reduction: Selection,
    pub reduction_losses: Losses,
    pub greedy: Selection,
    pub greedy_losses: Losses,
}

/// Which selections to run (stepwise selection is the costly one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods {
    pub reduction: bool,
    pub greedy: bool,
}

/// Fits the first `width` neurons of g on `train` and measures on `test`.
pub fn fit(
    g: &RandomTwoLayer,
    width: usize,
    train: &Sample,
    test: &Sample,
    ridge: f64,
    coins: &[f64],
    methods: Methods,
) -> Outcome {
    let phi = features(g, width, &train.x);
    let phi_test = features(g, width, &test.x);
    let a = &g.a[..width];
    let gram = (width <= select::GRAM_WIDTH).then(|| select::feature_gram(&phi, train.len()));
    let columns = Columns {
        n: train.len(),
        phi: &phi,
        a,
        y: &train.y,
        gram: gram.as_deref(),
    };
    let test_columns = Columns {
        n: test.len(),
        phi: &phi_test,
        a,
        y: &test.y,
        gram: None,
    };
    let losses = |s: &Selection| Losses {
        train: s.train_loss,
        test: select::loss_on(s, &phi_test, a, &test.y),
    };
    let u = select::random_features(&columns, ridge);
    let random_features = Losses {
        train: select::random_features_loss(&columns, &u),
        test: select::random_features_loss(&test_columns, &u),
    };
    let nothing = columns.scaled(Vec::new());
    let reduction = if methods.reduction {
        select::reduction(&columns, &u, &coins[..width])
    } else {
        nothing.clone()
    };
    let greedy = if methods.greedy {
        select::greedy(&columns)
    } else {
        nothing
    };
    Outcome {
        width,
        trivial: Losses {
            train: train.trivial_loss(),
            test: test.trivial_loss(),
        },
        random_features,
        reduction_losses: losses(&reduction),
        reduction,
        greedy_losses: losses(&greedy),
        greedy,
    }
}

impl Outcome {
    /// The lines `slth neurons` prints.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let row = |out: &mut String, name: &str, l: Losses, extra: String| {
            let _ = writeln!(
                out,
                "  {name:<34} train {:.6e}  held-out {:.6e}{extra}",
                l.train, l.test
            );
        };
        row(
            &mut out,
            "nothing kept (c g~ = 0)",
            self.trivial,
            String::new(),
        );
        row(
            &mut out,
            "random features (free u, ridge)",
            self.random_features,
            "  (not a subnetwork)".into(),
        );
        let kept = |s: &Selection| format!("  kept {}, c = {:.6e}", s.kept.len(), s.scale);
        row(
            &mut out,
            "paper's reduction (sign-matched)",
            self.reduction_losses,
            kept(&self.reduction),
        );
        row(
            &mut out,
            "stepwise selection",
            self.greedy_losses,
            kept(&self.greedy),
        );
        out
    }

    /// The losses as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let l = |l: Losses| serde_json::json!({"train": l.train, "held_out": l.test});
        let s = |s: &Selection, losses: Losses| serde_json::json!({"kept": s.kept.len(), "scale": s.scale, "train": losses.train, "held_out": losses.test});
        serde_json::json!({
            "width": self.width,
            "nothing_kept": l(self.trivial),
            "random_features": l(self.random_features),
            "reduction": s(&self.reduction, self.reduction_losses),
            "stepwise": s(&self.greedy, self.greedy_losses),
        })
    }
}

/// Reads a sample from `.npy` files: inputs `[n, d]`, targets `[n]` or `[n, 1]`.
pub fn load_sample(inputs: &std::path::Path, targets: &std::path::Path) -> Result<Sample, Error> {
    use crate::import::{NpyValues, load_npy};
    let values = |v: NpyValues| match v {
        NpyValues::Float(v) => v,
        NpyValues::Int(v) => v.into_iter().map(|v| v as f64).collect(),
    };
    let x = load_npy(inputs)?;
    let y = load_npy(targets)?;
    let [n, d] = x.shape[..] else {
        return Err(Error::input(
            inputs,
            format!("inputs must have shape [n, d], not {:?}", x.shape),
        ));
    };
    if !(y.shape == [n] || y.shape == [n, 1]) {
        return Err(Error::input(
            targets,
            format!(
                "targets must have shape [{n}] or [{n}, 1], not {:?}",
                y.shape
            ),
        ));
    }
    let sample = Sample {
        input_dim: d,
        x: values(x.values),
        y: values(y.values),
    };
    if let Some(bad) = sample.x.iter().chain(&sample.y).find(|v| !v.is_finite()) {
        return Err(Error::input(inputs, format!("non-finite value {bad}")));
    }
    Ok(sample)
}
