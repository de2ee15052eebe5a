//! What a valid certificate proves, and the numbers behind it, as text and as JSON.

use crate::numbers::{format_rational, rational_to_f64};
use num_rational::BigRational;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The statement a certificate proved: for every x with `||x||_2 <= radius` (and x >= 0
/// when `nonnegative`), `||g~(x) - f(x)||_2 <= epsilon`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The claimed epsilon, now proven.
    pub epsilon: BigRational,
    /// e_l, computed from the claims: `e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}`.
    pub bound_value: BigRational,
    pub radius: BigRational,
    pub nonnegative: bool,
    pub input_dim: u64,
    /// n_0 .. n_l.
    pub target_dims: Vec<u64>,
    /// k_1 .. k_l.
    pub hidden_widths: Vec<u64>,
    /// Weights of g: `sum_i k_i (n_{i-1} + n_i)`, saturating at `u128::MAX`.
    pub parameters: u128,
    /// Kept weights of g~: every hidden and output entry.
    pub kept_weights: u64,
    pub blocks: Vec<BlockReport>,
}

/// One block's claims and the exact quantities they were checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockReport {
    /// c_i, with `c_i^2 >= error_squared`.
    pub error: BigRational,
    /// L_i.
    pub lipschitz: BigRational,
    /// "frobenius", "spectral" or "spectral (witness)".
    pub lipschitz_method: String,
    /// e_i.
    pub propagated: BigRational,
    /// `max_{m,t} E_i[m][t]` (the paper's |A*W - w|).
    pub max_deviation: BigRational,
    /// `sum_{m,t} E_i[m][t]^2`.
    pub error_squared: BigRational,
    pub kept_hidden: u64,
    pub kept_output: u64,
    /// Whether the block's input may be negative (block 1 on a signed domain).
    pub signed_input: bool,
}

/// `1/20 (~0.05)`; a rational of more than 128 bits as `~0.0255 (exact: 70-bit / 76-bit
/// fraction)`, since a cut fraction would read as a different number (and printing a huge
/// one in decimal costs more than checking it).
pub(super) fn show(x: &BigRational) -> String {
    let approx = rational_to_f64(x);
    let (numer_bits, denom_bits) = (x.numer().bits(), x.denom().bits());
    if numer_bits + denom_bits <= 128 {
        return format!("{} (~{approx:?})", format_rational(x));
    }
    format!("~{approx:?} (exact: {numer_bits}-bit / {denom_bits}-bit fraction)")
}

fn text(x: &BigRational) -> Value {
    Value::String(format_rational(x))
}

impl Report {
    /// The proven statement in one line, then the numbers behind it.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let orthant = if self.nonnegative { " and x >= 0" } else { "" };
        let _ = writeln!(
            out,
            "VALID: for every x with ||x||_2 <= {}{orthant}, ||g~(x) - f(x)||_2 <= {} (~{:?})",
            format_rational(&self.radius),
            format_rational(&self.epsilon),
            rational_to_f64(&self.epsilon)
        );
        let l = self.blocks.len();
        let _ = writeln!(out, "  bound e_{l} = {}", show(&self.bound_value));
        for (b, block) in self.blocks.iter().enumerate() {
            let i = b + 1;
            let input = if block.signed_input {
                "signed"
            } else {
                "non-negative"
            };
            let _ = writeln!(
                out,
                "  block {i} ({input} input): c_{i} = {}, L_{i} = {} [{}]",
                show(&block.error),
                show(&block.lipschitz),
                block.lipschitz_method
            );
            let _ = writeln!(
                out,
                "    e_{i} = {}, max E_{i} = {}, kept {} hidden + {} output weights",
                show(&block.propagated),
                show(&block.max_deviation),
                block.kept_hidden,
                block.kept_output
            );
        }
        let mut widths = vec![self.input_dim.to_string()];
        for (k, n) in self
            .hidden_widths
            .iter()
            .zip(self.target_dims.iter().skip(1))
        {
            widths.push(k.to_string());
            widths.push(n.to_string());
        }
        let _ = writeln!(
            out,
            "  g: widths {}, {} parameters; g~ keeps {} weights",
            widths.join("-"),
            self.parameters,
            self.kept_weights
        );
        out
    }

    /// The same fields as one JSON object with `"verdict": "valid"`; rationals as canonical
    /// strings with `_approx` f64 companions.
    pub fn to_json(&self) -> Value {
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .map(|b| {
                json!({
                    "error": text(&b.error),
                    "error_approx": rational_to_f64(&b.error),
                    "lipschitz": text(&b.lipschitz),
                    "lipschitz_approx": rational_to_f64(&b.lipschitz),
                    "lipschitz_method": b.lipschitz_method,
                    "propagated": text(&b.propagated),
                    "propagated_approx": rational_to_f64(&b.propagated),
                    "max_deviation": text(&b.max_deviation),
                    "max_deviation_approx": rational_to_f64(&b.max_deviation),
                    "error_squared": text(&b.error_squared),
                    "kept_hidden": b.kept_hidden,
                    "kept_output": b.kept_output,
                    "signed_input": b.signed_input,
                })
            })
            .collect();
        json!({
            "verdict": "valid",
            "epsilon": text(&self.epsilon),
            "epsilon_approx": rational_to_f64(&self.epsilon),
            "bound_value": text(&self.bound_value),
            "bound_value_approx": rational_to_f64(&self.bound_value),
            "radius": text(&self.radius),
            "nonnegative": self.nonnegative,
            "input_dim": self.input_dim,
            "target_dims": self.target_dims,
            "hidden_widths": self.hidden_widths,
            "parameters": self.parameters,
            "kept_weights": self.kept_weights,
            "blocks": blocks,
        })
    }
}
