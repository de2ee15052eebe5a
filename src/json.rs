//! The `--json` objects of `certify` and `inspect`: one JSON object on stdout per run, every
//! exact number as its rational string with an `_approx` f64 beside it (as `verify --json`).

use crate::certify::{Certified, Request};
use crate::numbers::{format_rational, parse_rational, rational_to_f64};
use num_rational::BigRational;
use serde_json::{Value, json};
use slth_checker::certificate::Certificate;
use std::path::Path;

/// An exact number's text and its f64 approximation.
fn exact(text: &str) -> (Value, Value) {
    let approx = parse_rational(text).map_or(Value::Null, |q| json!(rational_to_f64(&q)));
    (json!(text), approx)
}

fn rational(q: &BigRational) -> (Value, Value) {
    exact(&format_rational(q))
}

/// The dimensions n_0, n_1, ..., n_l of a certificate's target.
fn dims(c: &Certificate) -> Vec<u64> {
    std::iter::once(c.target.input_dim)
        .chain(c.target.layers.iter().map(|l| l.weights.len() as u64))
        .collect()
}

/// `certify --json`: the file written, the epsilon asked (or the tolerance) and certified,
/// the construction, widths, kept weights and the time.
pub fn certify(
    certified: &Certified,
    target: &Path,
    output: &Path,
    request: &Request,
    seconds: f64,
) -> Value {
    let c = &certified.certificate;
    let (epsilon, epsilon_approx) = exact(&c.bound.epsilon.0);
    let mut value = json!({
        "target": target.display().to_string(),
        "output": output.display().to_string(),
        "epsilon": epsilon,
        "epsilon_approx": epsilon_approx,
        "construction": c.meta.as_ref().and_then(|m| m.get("construction")).cloned(),
        "pool_sizes": certified.pools,
        "dims": dims(c),
        "hidden_widths": c.random_network.hidden_widths,
        "kept_weights": certified.ticket.kept_weights(),
        "seed": c.random_network.seed,
        "seconds": seconds,
    });
    let (name, asked) = match request {
        Request::Epsilon(e) => ("epsilon_requested", e),
        Request::Tolerance(t) => ("tolerance_requested", t),
    };
    let (text, approx) = rational(asked);
    value[name] = text;
    value[format!("{name}_approx")] = approx;
    if let Some(activations) = c.meta.as_ref().and_then(|m| m.get("activations")) {
        value["activations"] = activations.clone();
    }
    value
}

/// `inspect --json`: what the certificate claims, unverified (`"verified": false`).
pub fn inspect(path: &Path, c: &Certificate) -> Value {
    let (epsilon, epsilon_approx) = exact(&c.bound.epsilon.0);
    let (radius, radius_approx) = exact(&c.domain.radius.0);
    let blocks: Vec<Value> = c
        .ticket
        .iter()
        .zip(&c.bound.blocks)
        .map(|(block, claim)| {
            let (error, error_approx) = exact(&claim.error.0);
            let (lipschitz, lipschitz_approx) = exact(&claim.lipschitz.0);
            json!({
                "kept_hidden": block.hidden.len(),
                "kept_output": block.output.len(),
                "error": error,
                "error_approx": error_approx,
                "lipschitz": lipschitz,
                "lipschitz_approx": lipschitz_approx,
                "lipschitz_method": claim.lipschitz_method.as_deref().unwrap_or("frobenius"),
            })
        })
        .collect();
    let kept: usize = c
        .ticket
        .iter()
        .map(|b| b.hidden.len() + b.output.len())
        .sum();
    json!({
        "certificate": path.display().to_string(),
        "verified": false,
        "version": c.version,
        "format": c.format,
        "dims": dims(c),
        "epsilon": epsilon,
        "epsilon_approx": epsilon_approx,
        "radius": radius,
        "radius_approx": radius_approx,
        "nonnegative": c.domain.nonnegative,
        "seed": c.random_network.seed,
        "hidden_widths": c.random_network.hidden_widths,
        "kept_weights": kept,
        "blocks": blocks,
        "statement_for_user": slth_checker::statement::statement_for_user(c),
        "meta": c.meta,
    })
}
