//! `slth sweep`: certify one target at several epsilons with both constructions (same seed,
//! same domain), through the library's [`crate::certify::certify_with_biases`], and report
//! the width of g and the kept weights against epsilon as CSV, JSON and an SVG plot with the
//! theory's curves ([`crate::report::theory`]). Times go to stderr only, so that the same
//! inputs give the same bytes.

pub mod draw;

use crate::certify::{Certified, CertifyOptions, Construction, Request, certify_with_biases};
use crate::error::Error;
use crate::numbers::{format_rational, rational_to_f64};
use crate::report::theory;
use num_rational::BigRational;
use num_traits::Signed;
use serde_json::{Value, json};
use slth_checker::sampler::Seed;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// Both constructions, in the order of the rows.
pub const CONSTRUCTIONS: [Construction; 2] = [Construction::SubsetSum, Construction::Pairs];

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub epsilons: Vec<BigRational>,
    pub seed: Seed,
    /// the seed as the user wrote it (for the CSV and JSON)
    pub seed_text: String,
    pub radius: BigRational,
    pub nonnegative: bool,
}

/// One certify run.
#[derive(Debug, Clone)]
pub struct Row {
    pub epsilon: BigRational,
    pub construction: Construction,
    pub outcome: Result<Outcome, String>,
}

/// What a run that certified produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub certified: BigRational,
    pub hidden_widths: Vec<u64>,
    pub kept_weights: usize,
    /// weights of g: sum over blocks of k_i (n_{i-1} + n_i)
    pub parameters: u64,
}

impl Outcome {
    /// The hidden widths of g added up.
    pub fn total_width(&self) -> u64 {
        self.hidden_widths.iter().sum()
    }
}

/// The sweep's result.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub target: String,
    /// the dimensions of the certified network (for a network with biases, its
    /// homogenized form's), as read from the target
    pub dims: Vec<usize>,
    pub options: SweepOptions,
    pub rows: Vec<Row>,
}

/// Parses `--epsilon LIST`: comma-separated positive rationals, at least one.
pub fn parse_epsilons(text: &str) -> Result<Vec<BigRational>, Error> {
    let parts: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(Error::usage(
            "epsilon",
            "give at least one epsilon (a comma-separated list such as 0.2,0.1,0.05)",
        ));
    }
    parts
        .iter()
        .map(|p| {
            let e = crate::values::rational("epsilon", p)?;
            if e.is_positive() {
                Ok(e)
            } else {
                Err(Error::usage(
                    "epsilon",
                    format!("every epsilon must be positive, got {p}"),
                ))
            }
        })
        .collect()
}

fn outcome(certified: &Certified, dims: &[usize]) -> Outcome {
    let c = &certified.head;
    let widths = c.random_network.hidden_widths.clone();
    let parameters = widths
        .iter()
        .zip(dims.windows(2))
        .map(|(k, w)| k * (w[0] + w[1]) as u64)
        .sum();
    Outcome {
        certified: crate::numbers::parse_rational(&c.bound.epsilon.0).unwrap_or_default(),
        hidden_widths: widths,
        kept_weights: certified.ticket.kept_weights(),
        parameters,
    }
}

/// Certifies the target at every epsilon with both constructions; `progress` receives one
/// line per run (with its time).
pub fn sweep_file(
    path: &Path,
    options: &SweepOptions,
    mut progress: impl FnMut(&str),
) -> Result<Sweep, Error> {
    let (target, _) = crate::import::load_target_stated(path, None)?;
    let file = path.display().to_string();
    let mut dims = None;
    let mut rows = Vec::new();
    for epsilon in &options.epsilons {
        for construction in CONSTRUCTIONS {
            let mut certify = CertifyOptions::new(Request::Epsilon(epsilon.clone()), options.seed);
            certify.construction = construction;
            certify.radius = options.radius.clone();
            certify.nonnegative = options.nonnegative;
            let started = Instant::now();
            let result = certify_with_biases(&target, &certify);
            let seconds = started.elapsed().as_secs_f64();
            let outcome = match result {
                Ok(certified) => {
                    let c = &certified.head;
                    let d: Vec<usize> = std::iter::once(c.target.input_dim as usize)
                        .chain(c.target.layers.iter().map(|l| l.weights.len()))
                        .collect();
                    let o = outcome(&certified, &d);
                    dims.get_or_insert(d);
                    progress(&format!(
                        "epsilon {} {}: certified {}, widths of g {:?}, {} kept weights, in {seconds:.2}s",
                        format_rational(epsilon),
                        construction.name(),
                        format_rational(&o.certified),
                        o.hidden_widths,
                        o.kept_weights
                    ));
                    Ok(o)
                }
                Err(e) => {
                    progress(&format!(
                        "epsilon {} {}: failed: {e}",
                        format_rational(epsilon),
                        construction.name()
                    ));
                    Err(e.to_string())
                }
            };
            rows.push(Row {
                epsilon: epsilon.clone(),
                construction,
                outcome,
            });
        }
    }
    let dims = dims.unwrap_or_else(|| target.network.dims());
    Ok(Sweep {
        target: file,
        dims,
        options: options.clone(),
        rows,
    })
}

/// A CSV field: quoted when it holds a comma, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The header of the CSV.
pub const CSV_HEADER: &str = "epsilon_requested,construction,status,epsilon_certified,epsilon_certified_approx,hidden_widths,total_width,kept_weights,target_weights,kept_per_target_weight,parameters_of_g,pensia_width_c1,reason";

impl Sweep {
    /// Weights of the target (of the certified network).
    pub fn target_weights(&self) -> usize {
        self.dims.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// Pensia et al.'s total width at `epsilon` (constant 1).
    pub fn pensia(&self, epsilon: f64) -> f64 {
        theory::pensia_total(&self.dims, epsilon)
    }

    /// One line per run, after a header.
    pub fn to_csv(&self) -> String {
        let mut out = format!("{CSV_HEADER}\n");
        let target = self.target_weights();
        for row in &self.rows {
            let e = format_rational(&row.epsilon);
            let pensia = format!("{:.1}", self.pensia(rational_to_f64(&row.epsilon)));
            let name = row.construction.name();
            let _ = match &row.outcome {
                Ok(o) => writeln!(
                    out,
                    "{e},{name},certified,{},{:e},{},{},{},{target},{:.4},{},{pensia},",
                    format_rational(&o.certified),
                    rational_to_f64(&o.certified),
                    o.hidden_widths
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(";"),
                    o.total_width(),
                    o.kept_weights,
                    o.kept_weights as f64 / target.max(1) as f64,
                    o.parameters,
                ),
                Err(reason) => writeln!(
                    out,
                    "{e},{name},failed,,,,,,{target},,,{pensia},{}",
                    field(reason)
                ),
            };
        }
        out
    }

    /// The sweep as one JSON object (no times).
    pub fn to_json(&self) -> Value {
        let target = self.target_weights();
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let e = rational_to_f64(&row.epsilon);
                let mut value = json!({
                    "epsilon_requested": format_rational(&row.epsilon),
                    "epsilon_requested_approx": e,
                    "construction": row.construction.name(),
                    "pensia_width": self.pensia(e),
                });
                match &row.outcome {
                    Ok(o) => {
                        value["status"] = "certified".into();
                        value["epsilon_certified"] = format_rational(&o.certified).into();
                        value["epsilon_certified_approx"] = rational_to_f64(&o.certified).into();
                        value["hidden_widths"] = json!(o.hidden_widths);
                        value["total_width"] = o.total_width().into();
                        value["kept_weights"] = o.kept_weights.into();
                        value["kept_per_target_weight"] =
                            (o.kept_weights as f64 / target.max(1) as f64).into();
                        value["parameters_of_g"] = o.parameters.into();
                    }
                    Err(reason) => {
                        value["status"] = "failed".into();
                        value["reason"] = reason.clone().into();
                    }
                }
                value
            })
            .collect();
        json!({
            "target": self.target,
            "dims": self.dims,
            "target_weights": target,
            "seed": self.options.seed_text,
            "radius": format_rational(&self.options.radius),
            "nonnegative": self.options.nonnegative,
            "epsilons": self.options.epsilons.iter().map(format_rational).collect::<Vec<_>>(),
            "rows": rows,
            "theory": {"pensia": theory::PENSIA, "malach": theory::MALACH_TREND},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_lists() {
        assert_eq!(parse_epsilons("0.1, 1/20").unwrap().len(), 2);
        assert!(parse_epsilons("").is_err());
        assert!(parse_epsilons(" , ").is_err());
        assert!(parse_epsilons("0.1,-0.05").is_err());
        assert!(parse_epsilons("0").is_err());
        assert!(parse_epsilons("abc").is_err());
    }

    #[test]
    fn csv_fields_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(field("plain"), "plain");
    }
}
