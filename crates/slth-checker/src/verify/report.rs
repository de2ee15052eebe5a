//! What a valid certificate proves, and the numbers behind it, as text and as JSON.

use crate::numbers::{format_rational, rational_to_f64};
use num_rational::BigRational;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// How the inequalities of docs/FORMAT.md section 6 are decided (every other check is exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arithmetic {
    /// f64 with outward rounding, exact wherever that cannot decide (`slth verify`).
    #[default]
    Sound,
    /// Exact arithmetic throughout (`slth verify --exact`).
    Exact,
}

impl Arithmetic {
    pub fn name(self) -> &'static str {
        match self {
            Arithmetic::Sound => "sound-f64",
            Arithmetic::Exact => "exact",
        }
    }
}

/// What decided one inequality, and so what the numbers reported for it are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// Exact arithmetic (the `--exact` path): numbers are exact.
    Exact,
    /// The outward-rounded f64 filter: numbers are proven f64 upper bounds.
    SoundF64,
    /// The filter could not decide and the exact check did: numbers are exact.
    ExactFallback,
}

impl Decider {
    pub fn name(self) -> &'static str {
        match self {
            Decider::Exact => "exact",
            Decider::SoundF64 => "sound-f64",
            Decider::ExactFallback => "exact-fallback",
        }
    }
}

/// The statement a certificate proved: for every x with `||x||_2 <= radius` (and x >= 0
/// when `nonnegative`), `||g~(x) - f(x)||_2 <= epsilon`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The claimed epsilon, now proven.
    pub epsilon: BigRational,
    /// e_l, computed from the claims: `e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}`; a proven
    /// f64 upper bound of it when `epsilon_decided_by` is `SoundF64`.
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
    /// How the inequalities were decided.
    pub arithmetic: Arithmetic,
    /// What decided `epsilon >= e_l` (or, in version 2, `epsilon >= min(e_l, telescoping)`).
    pub epsilon_decided_by: Decider,
    /// Version 2: lambda_1 .. lambda_l of the telescoping terms, each proven exactly by its
    /// witness (docs/FORMAT.md section 12); empty for version 1.
    pub terms: Vec<BigRational>,
    /// Version 2: `r * sum lambda_i`, the telescoping bound on the error.
    pub telescoping: Option<BigRational>,
    /// Version 2: `r * lambda` of the joint form (docs/FORMAT.md section 12.10), proven exactly.
    pub joint: Option<BigRational>,
    /// What kinds of claim were checked ([`crate::certificate::Certificate::claim_kinds`]).
    pub claim_kinds: Vec<String>,
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
    /// How c_i is justified: "frobenius", "spectral" or "spectral (witness)" (version 2).
    pub error_method: String,
    /// e_i (an f64 upper bound when the report's `epsilon_decided_by` is `SoundF64`).
    pub propagated: BigRational,
    /// `max_{m,t} E_i[m][t]` (the paper's |A*W - w|; an f64 upper bound when
    /// `error_decided_by` is `SoundF64`).
    pub max_deviation: BigRational,
    /// `sum_{m,t} E_i[m][t]^2` (an f64 upper bound when `error_decided_by` is `SoundF64`).
    pub error_squared: BigRational,
    pub kept_hidden: u64,
    pub kept_output: u64,
    /// Whether the block's input may be negative (block 1 on a signed domain).
    pub signed_input: bool,
    /// What decided `c_i^2 >= sum E_i^2`.
    pub error_decided_by: Decider,
    /// What decided the claim on L_i.
    pub lipschitz_decided_by: Decider,
}

/// `= x` for an exact value, `<= x` for a proven f64 upper bound.
fn show_as(x: &BigRational, decider: Decider) -> String {
    match decider {
        Decider::SoundF64 => format!("<= {:?} (f64 upper bound)", rational_to_f64(x)),
        Decider::Exact | Decider::ExactFallback => format!("= {}", show(x)),
    }
}

/// `1/20 (~0.05)`; a rational of more than 128 bits as `~0.0255 (exact: 70-bit / 76-bit
/// fraction)`, since a cut fraction would read as a different number (and printing a huge
/// one in decimal costs more than checking it).
pub(super) fn show(x: &BigRational) -> String {
    let (numer_bits, denom_bits) = (x.numer().bits(), x.denom().bits());
    let approx = approximate(x);
    if numer_bits.saturating_add(denom_bits) <= 128 {
        return format!("{} ({approx})", format_rational(x));
    }
    format!("{approx} (exact: {numer_bits}-bit / {denom_bits}-bit fraction)")
}

/// `~x` as an f64, or `~2^k` when x is beyond f64's range (k = floor(log2 |x|), within one).
fn approximate(x: &BigRational) -> String {
    let approx = rational_to_f64(x);
    if approx.is_finite() && (approx != 0.0 || x.numer().bits() == 0) {
        return format!("~{approx:?}");
    }
    let k = (x.numer().bits() as i64).saturating_sub(x.denom().bits() as i64);
    let sign = if x.numer().sign() == num_bigint::Sign::Minus {
        "-"
    } else {
        ""
    };
    format!("~{sign}2^{k}")
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
            "VALID: for every x with ||x||_2 <= {}{orthant}, ||g~(x) - f(x)||_2 <= {} ({})",
            format_rational(&self.radius),
            format_rational(&self.epsilon),
            approximate(&self.epsilon)
        );
        let l = self.blocks.len();
        let _ = writeln!(
            out,
            "  bound e_{l} {}",
            show_as(&self.bound_value, self.epsilon_decided_by)
        );
        if let Some(t) = &self.telescoping {
            let _ = writeln!(
                out,
                "  telescoping bound r * sum lambda_i = {} [version 2: chain-sdp terms, exact]",
                show(t)
            );
            for (b, lambda) in self.terms.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "    term {}: lambda = {}",
                    b.saturating_add(1),
                    show(lambda)
                );
            }
        }
        if let Some(j) = &self.joint {
            let _ = writeln!(
                out,
                "  joint bound r * lambda = {} [version 2: joint-sdp form, exact]",
                show(j)
            );
        }
        let _ = writeln!(out, "  checked by: {}", self.checked_by());
        for (b, block) in self.blocks.iter().enumerate() {
            let i = b.saturating_add(1);
            let input = if block.signed_input {
                "signed"
            } else {
                "non-negative"
            };
            let _ = writeln!(
                out,
                "  block {i} ({input} input): c_{i} = {} [{}], L_{i} = {} [{}]",
                show(&block.error),
                block.error_method,
                show(&block.lipschitz),
                block.lipschitz_method
            );
            let _ = writeln!(
                out,
                "    e_{i} {}, max E_{i} {}, kept {} hidden + {} output weights",
                show_as(&block.propagated, self.epsilon_decided_by),
                show_as(&block.max_deviation, block.error_decided_by),
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

    /// Blocks whose error or Lipschitz check the f64 filter left to the exact check.
    pub fn exact_fallback_blocks(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| {
                b.error_decided_by == Decider::ExactFallback
                    || b.lipschitz_decided_by == Decider::ExactFallback
            })
            .count()
    }

    /// Which path decided: `exact rational arithmetic`, or `sound f64 (exact fallback in 0 of
    /// 2 blocks; e_2 <= epsilon in f64)`.
    pub fn checked_by(&self) -> String {
        let l = self.blocks.len();
        match self.arithmetic {
            Arithmetic::Exact => "exact rational arithmetic".to_string(),
            Arithmetic::Sound => {
                let epsilon = match self.epsilon_decided_by {
                    Decider::SoundF64 => "in f64",
                    Decider::Exact | Decider::ExactFallback => "by the exact fallback",
                };
                format!(
                    "sound f64 with outward rounding (exact fallback in {} of {l} blocks; \
                     e_{l} <= epsilon {epsilon})",
                    self.exact_fallback_blocks()
                )
            }
        }
    }

    /// The same fields as one JSON object with `"verdict": "valid"`; rationals as canonical
    /// strings with `_approx` f64 companions. Where a `*_decided_by` field says `sound-f64`,
    /// the computed quantities it covers (`error_squared`, `max_deviation`; for epsilon
    /// `propagated` and `bound_value`) are proven f64 upper bounds, written exactly.
    pub fn to_json(&self) -> Value {
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .map(|b| {
                json!({
                    "error": text(&b.error),
                    "error_approx": rational_to_f64(&b.error),
                    "error_method": b.error_method,
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
                    "error_decided_by": b.error_decided_by.name(),
                    "lipschitz_decided_by": b.lipschitz_decided_by.name(),
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
            "version": if self.telescoping.is_some() { 2 } else { 1 },
            "claim_kinds": self.claim_kinds,
            "terms": self.terms.iter().map(|t| json!({
                "kind": "chain-sdp",
                "lipschitz": text(t),
                "lipschitz_approx": rational_to_f64(t),
            })).collect::<Vec<_>>(),
            "telescoping": self.telescoping.as_ref().map(text),
            "joint": self.joint.as_ref().map(text),
            "checked_by": {
                "arithmetic": self.arithmetic.name(),
                "exact_fallback_blocks": self.exact_fallback_blocks(),
                "blocks": self.blocks.len(),
                "epsilon_decided_by": self.epsilon_decided_by.name(),
                "text": self.checked_by(),
            },
        })
    }
}
