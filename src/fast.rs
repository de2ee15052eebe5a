//! f64 paths: the computation of docs/FORMAT.md section 6 in plain f64 (`slth verify --f64`).
//!
//! NOT a proof. Rounding to nearest can make a false claim look true (or a true one look
//! false) when it sits within rounding of the truth; `slth verify` (the sound filter of
//! `verify::sound`) and `slth verify --exact` are the proofs. What stays exact here is
//! everything structural: [`verify::check_structure`] recomputes every kept weight from the
//! seed and compares integers, exactly as the proofs do. Only the inequalities are
//! estimated, and the report says how far the f64 e_l is from the exact one.

use crate::numbers::{format_rational, rational_from_f64, rational_to_f64};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::{Value, json};
use slth_checker::certificate::{Certificate, Limits};
use slth_checker::sampler::WEIGHT_SCALE;
use slth_checker::verify::{self, Checked, CheckedBlock, LipschitzMethod, Rejection, TargetLayer};
use std::fmt::Write as _;

/// One block in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct F64Block {
    /// `sum_{m,t} E_i[m][t]^2`
    pub error_squared: f64,
    /// `max_{m,t} E_i[m][t]`
    pub max_deviation: f64,
    /// c_i rounded to f64
    pub error: f64,
    /// L_i rounded to f64
    pub lipschitz: f64,
    /// "frobenius", "spectral" or "spectral (witness)"
    pub lipschitz_method: String,
    /// `sum W^2` for a Frobenius claim; for a spectral one the smallest pivot of the f64
    /// elimination of `L^2 I - G`, or `shift^2 - sum D^2` for a witness.
    pub lipschitz_margin: f64,
    /// `c_i >= 0` and `c_i^2 >= sum E_i^2` in f64.
    pub error_holds: bool,
    /// The claim on L_i in f64.
    pub lipschitz_holds: bool,
    /// e_i in f64.
    pub propagated: f64,
}

/// The f64 estimate of a certificate's inequalities; the structure was checked exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct F64Report {
    /// The claimed epsilon rounded to f64.
    pub epsilon: f64,
    /// e_l in f64.
    pub bound_value: f64,
    /// e_l from the same claims in exact arithmetic (a few operations per block).
    pub exact_bound_value: BigRational,
    /// `|bound_value - exact_bound_value| / exact_bound_value` (0 when both are 0).
    pub relative_difference: f64,
    /// e_l in f64 with every c_i replaced by `sqrt(sum E_i^2)`: the epsilon this ticket
    /// supports with these L_i.
    pub tight_bound_value: f64,
    pub blocks: Vec<F64Block>,
    pub kept_weights: u64,
}

impl F64Report {
    /// Whether every inequality holds in f64 (an estimate, not a proof).
    pub fn holds(&self) -> bool {
        self.epsilon_holds()
            && self
                .blocks
                .iter()
                .all(|b| b.error_holds && b.lipschitz_holds)
    }

    fn epsilon_holds(&self) -> bool {
        self.bound_value <= self.epsilon
    }

    /// The inequalities that fail in f64, as sentences.
    /// The one-line message of an estimate that does not hold; None when it holds.
    pub fn failure_line(&self, file: &str) -> Option<String> {
        if self.holds() {
            return None;
        }
        Some(format!(
            "{file}: f64 estimate, not a proof: {}; run without --f64 for the exact verdict",
            self.failures().join("; ")
        ))
    }

    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (b, block) in self.blocks.iter().enumerate() {
            let i = b + 1;
            if !block.error_holds {
                out.push(format!(
                    "c_{i}^2 = {:e} < sum of E_{i}[m][t]^2 = {:e} in f64",
                    block.error * block.error,
                    block.error_squared
                ));
            }
            if !block.lipschitz_holds {
                out.push(format!(
                    "the {} claim L_{i} = {:e} fails in f64 (margin {:e})",
                    block.lipschitz_method, block.lipschitz, block.lipschitz_margin
                ));
            }
        }
        if !self.epsilon_holds() {
            out.push(format!(
                "epsilon = {:e} < e_{} = {:e} in f64",
                self.epsilon,
                self.blocks.len(),
                self.bound_value
            ));
        }
        out
    }

    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let l = self.blocks.len();
        let verdict = if self.holds() {
            "the inequalities of docs/FORMAT.md section 6 hold in plain f64"
        } else {
            "an inequality of docs/FORMAT.md section 6 fails in plain f64"
        };
        let _ = writeln!(
            out,
            "F64 ESTIMATE, NOT A PROOF: {verdict} (run without --f64 for a proof)"
        );
        let _ = writeln!(
            out,
            "  e_{l} ~ {:e} in f64, claimed epsilon ~ {:e}",
            self.bound_value, self.epsilon
        );
        let _ = writeln!(
            out,
            "  exact e_{l} = {} (~{:e}); relative difference of the f64 e_{l}: {:e}",
            format_rational(&self.exact_bound_value),
            rational_to_f64(&self.exact_bound_value),
            self.relative_difference
        );
        let _ = writeln!(
            out,
            "  with c_i = sqrt(sum E_i^2) the bound would be e_{l} ~ {:e}",
            self.tight_bound_value
        );
        for (b, block) in self.blocks.iter().enumerate() {
            let i = b + 1;
            let _ = writeln!(
                out,
                "  block {i}: sum E_{i}^2 ~ {:e} vs c_{i}^2 ~ {:e} ({}); max E_{i} ~ {:e}; L_{i} ~ {:e} [{}] ({})",
                block.error_squared,
                block.error * block.error,
                if block.error_holds { "holds" } else { "FAILS" },
                block.max_deviation,
                block.lipschitz,
                block.lipschitz_method,
                if block.lipschitz_holds {
                    "holds"
                } else {
                    "FAILS"
                },
            );
        }
        for failure in self.failures() {
            let _ = writeln!(out, "  fails: {failure}");
        }
        let _ = writeln!(
            out,
            "  {} kept weights recomputed from the seed and compared exactly",
            self.kept_weights
        );
        out
    }

    pub fn to_json(&self) -> Value {
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .map(|b| {
                json!({
                    "error_squared": b.error_squared,
                    "max_deviation": b.max_deviation,
                    "error": b.error,
                    "lipschitz": b.lipschitz,
                    "lipschitz_method": b.lipschitz_method,
                    "lipschitz_margin": b.lipschitz_margin,
                    "error_holds": b.error_holds,
                    "lipschitz_holds": b.lipschitz_holds,
                    "propagated": b.propagated,
                })
            })
            .collect();
        json!({
            "verdict": if self.holds() { "f64-estimate-holds" } else { "f64-estimate-fails" },
            "proof": false,
            "note": "f64 estimate, not a proof",
            "epsilon": self.epsilon,
            "bound_value": self.bound_value,
            "exact_bound_value": format_rational(&self.exact_bound_value),
            "relative_difference": self.relative_difference,
            "tight_bound_value": self.tight_bound_value,
            "kept_weights": self.kept_weights,
            "failures": self.failures(),
            "blocks": blocks,
        })
    }
}

/// Checks the structure exactly (within `limits`), then estimates the inequalities in f64.
pub fn verify_f64(certificate: &Certificate, limits: &Limits) -> Result<F64Report, Rejection> {
    Ok(estimate(&verify::check_structure_with(
        certificate,
        limits,
    )?))
}

/// The inequalities of docs/FORMAT.md section 6 in plain f64 for a structurally checked certificate.
pub fn estimate(checked: &Checked) -> F64Report {
    let mut blocks: Vec<F64Block> = checked.blocks.iter().map(estimate_block).collect();
    let radius = rational_to_f64(&checked.radius);
    let chain = |errors: &mut dyn Iterator<Item = f64>| {
        let (mut a, mut e) = (radius, 0.0f64);
        let mut out = Vec::new();
        for (c, block) in errors.zip(&blocks) {
            e = c * (a + e) + block.lipschitz * e;
            a *= block.lipschitz;
            out.push(e);
        }
        out
    };
    let propagated = chain(&mut blocks.iter().map(|b| b.error));
    let tight = chain(&mut blocks.iter().map(|b| b.error_squared.sqrt()));
    for (block, e) in blocks.iter_mut().zip(&propagated) {
        block.propagated = *e;
    }
    let bound_value = propagated.last().copied().unwrap_or(0.0);
    let exact = verify::exact_chain(
        &checked.radius,
        checked.blocks.iter().map(|b| (&b.error, &b.lipschitz)),
    )
    .pop()
    .unwrap_or_default();
    F64Report {
        epsilon: rational_to_f64(&checked.epsilon),
        bound_value,
        relative_difference: relative_difference(bound_value, &exact),
        exact_bound_value: exact,
        tight_bound_value: tight.last().copied().unwrap_or(0.0),
        kept_weights: checked
            .blocks
            .iter()
            .map(|b| b.kept.hidden_count() + b.kept.output_count())
            .sum(),
        blocks,
    }
}

/// `|x - exact| / |exact|`, computed exactly and rounded; 0 when both are 0.
fn relative_difference(x: f64, exact: &BigRational) -> f64 {
    let Some(x) = rational_from_f64(x) else {
        return f64::NAN;
    };
    if exact.is_zero() {
        return if x.is_zero() { 0.0 } else { f64::INFINITY };
    }
    rational_to_f64(&((x - exact) / exact).abs())
}

fn weights_f64(target: &TargetLayer) -> Vec<f64> {
    target.weights.iter().map(rational_to_f64).collect()
}

fn estimate_block(block: &CheckedBlock) -> F64Block {
    let w = weights_f64(&block.target);
    let signed = block.signed_input;
    let mut p = vec![0.0f64; w.len()];
    let mut q = vec![0.0f64; if signed { w.len() } else { 0 }];
    let scale = WEIGHT_SCALE as f64;
    for path in block.kept.paths() {
        let product = (path.output as f64 / scale) * (path.hidden as f64 / scale);
        if path.hidden > 0 {
            p[path.cell] += product;
        } else if signed {
            q[path.cell] += product;
        }
    }
    let (mut error_squared, mut max_deviation) = (0.0f64, 0.0f64);
    for (cell, &weight) in w.iter().enumerate() {
        let mut e = (p[cell] - weight).abs();
        if signed {
            e = e.max((q[cell] - weight).abs());
        }
        error_squared += e * e;
        max_deviation = max_deviation.max(e);
    }
    let error = rational_to_f64(&block.error);
    let lipschitz = rational_to_f64(&block.lipschitz);
    let (lipschitz_margin, lipschitz_holds) = match &block.method {
        LipschitzMethod::Frobenius => {
            let frobenius: f64 = w.iter().map(|x| x * x).sum();
            (
                frobenius,
                lipschitz >= 0.0 && frobenius <= lipschitz * lipschitz,
            )
        }
        LipschitzMethod::Spectral => {
            let pivot = smallest_pivot(shifted_gram(&w, &block.target, lipschitz));
            (pivot, lipschitz >= 0.0 && pivot >= 0.0)
        }
        LipschitzMethod::Witness { shift, factor } => {
            let margin = witness_margin(&w, &block.target, lipschitz, shift, factor);
            (
                margin,
                lipschitz >= 0.0 && !shift.is_negative() && margin >= 0.0,
            )
        }
    };
    F64Block {
        error_squared,
        max_deviation,
        error,
        lipschitz,
        lipschitz_method: block.method.name().to_string(),
        lipschitz_margin,
        error_holds: error >= 0.0 && error_squared <= error * error,
        lipschitz_holds,
        propagated: 0.0,
    }
}

/// The Gram matrix on the rows (`W W^T`) or the columns (`W^T W`), row-major, side n.
fn gram(w: &[f64], target: &TargetLayer, on_rows: bool) -> (Vec<f64>, usize) {
    let (rows, cols) = (target.rows, target.cols);
    let (side, inner) = if on_rows { (rows, cols) } else { (cols, rows) };
    let at = |a: usize, k: usize| {
        if on_rows {
            w[a * cols + k]
        } else {
            w[k * cols + a]
        }
    };
    let mut g = vec![0.0; side * side];
    for a in 0..side {
        for b in a..side {
            let dot: f64 = (0..inner).map(|k| at(a, k) * at(b, k)).sum();
            g[a * side + b] = dot;
            g[b * side + a] = dot;
        }
    }
    (g, side)
}

/// `L^2 I - G` on the smaller side.
fn shifted_gram(w: &[f64], target: &TargetLayer, lipschitz: f64) -> (Vec<f64>, usize) {
    let (mut g, side) = gram(w, target, target.rows <= target.cols);
    for (k, x) in g.iter_mut().enumerate() {
        *x = -*x;
        if k % (side + 1) == 0 {
            *x += lipschitz * lipschitz;
        }
    }
    (g, side)
}

/// The smallest pivot of symmetric elimination without pivoting (the f64 image of the exact
/// PSD test); `-inf` when a zero pivot has a nonzero row.
fn smallest_pivot((mut m, n): (Vec<f64>, usize)) -> f64 {
    let mut smallest = f64::INFINITY;
    for k in 0..n {
        let pivot = m[k * n + k];
        smallest = smallest.min(pivot);
        if pivot < 0.0 {
            return pivot;
        }
        if pivot == 0.0 {
            if (k + 1..n).any(|j| m[k * n + j] != 0.0) {
                return f64::NEG_INFINITY;
            }
            continue;
        }
        for i in k + 1..n {
            let factor = m[k * n + i] / pivot;
            for j in i..n {
                m[i * n + j] -= factor * m[k * n + j];
            }
        }
    }
    if n == 0 { 0.0 } else { smallest }
}

/// `shift^2 - sum D^2` for `D = L^2 I - G - shift I - R^T R` (negative: the witness fails).
fn witness_margin(
    w: &[f64],
    target: &TargetLayer,
    lipschitz: f64,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
) -> f64 {
    let n = factor.len();
    let on_rows = if n == target.rows {
        true
    } else if n == target.cols {
        false
    } else {
        return f64::NEG_INFINITY;
    };
    if factor.iter().enumerate().any(|(a, row)| row.len() != n - a) {
        return f64::NEG_INFINITY;
    }
    let r: Vec<Vec<f64>> = factor
        .iter()
        .map(|row| row.iter().map(rational_to_f64).collect())
        .collect();
    let r_at = |c: usize, a: usize| r[c][a - c];
    let (g, _) = gram(w, target, on_rows);
    let shift = rational_to_f64(shift);
    let mut sum = 0.0;
    for a in 0..n {
        for c in a..n {
            let s: f64 = (0..=a).map(|k| r_at(k, a) * r_at(k, c)).sum();
            let mut d = -g[a * n + c] - s;
            if a == c {
                d += lipschitz * lipschitz - shift;
                sum += d * d;
            } else {
                sum += 2.0 * d * d;
            }
        }
    }
    shift * shift - sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elimination_signs() {
        assert_eq!(smallest_pivot((vec![2.0, -1.0, -1.0, 2.0], 2)), 1.5);
        assert!(smallest_pivot((vec![0.0, 1.0, 1.0, 0.0], 2)) < 0.0);
        assert!(smallest_pivot((vec![1.0, 2.0, 2.0, 1.0], 2)) < 0.0);
        assert_eq!(smallest_pivot((vec![], 0)), 0.0);
    }

    #[test]
    fn relative_differences() {
        let third = BigRational::new(1.into(), 3.into());
        let d = relative_difference(1.0 / 3.0, &third);
        assert!(d > 0.0 && d < 1e-15, "{d}");
        assert_eq!(
            relative_difference(0.5, &BigRational::new(1.into(), 2.into())),
            0.0
        );
        assert_eq!(relative_difference(0.0, &BigRational::zero()), 0.0);
        assert_eq!(
            relative_difference(1.0, &BigRational::zero()),
            f64::INFINITY
        );
    }
}
