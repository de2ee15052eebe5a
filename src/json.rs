//! The `--json` objects of `certify`, `inspect` and `eval`: one JSON object on stdout per run, every
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
    let c = &certified.head;
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
        "version": c.version,
        "default_limits_refuse": certified.default_limits_refuse,
        "epsilon_reachable_approx": certified.reachable,
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
    if let Some((lambdas, telescoping)) = &certified.terms {
        let lambdas: Vec<Value> = lambdas.iter().map(|x| rational(x).0).collect();
        let (sum, sum_approx) = rational(telescoping);
        value["terms"] = json!({
            "lambdas": lambdas,
            "telescoping": sum,
            "telescoping_approx": sum_approx,
        });
    }
    if let Some(bound) = &certified.joint {
        let (bound, approx) = rational(bound);
        value["joint"] = json!({ "bound": bound, "bound_approx": approx });
    }
    if let Some(reason) = &certified.without_joint {
        value["joint_not_proved"] = json!(reason);
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
                "error_method": claim.error_method.as_deref().unwrap_or("frobenius"),
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

/// `eval --points N --json`: the largest distance seen against the certified epsilon.
pub fn eval_points(
    certificate: &Path,
    epsilon: &BigRational,
    seen: &crate::eval::Empirical,
    seed: &slth_checker::sampler::Seed,
) -> Value {
    let (epsilon_text, epsilon_approx) = rational(epsilon);
    let (max_squared, max_squared_approx) = rational(&seen.max_squared);
    json!({
        "certificate": certificate.display().to_string(),
        "mode": "points",
        "seed": seed.to_hex(),
        "points": seen.points,
        "max_squared_distance": max_squared,
        "max_squared_distance_approx": max_squared_approx,
        "max_distance_approx": seen.max_distance(),
        "worst_point": seen.worst_point,
        "epsilon": epsilon_text,
        "epsilon_approx": epsilon_approx,
        "exceeds_epsilon": seen.max_squared > epsilon * epsilon,
    })
}

/// `eval --inputs X.npy --json`: per input, whether it lies in the domain (and why not), the
/// classes and top-two margins of f and g~, their agreement, the distance ||f - g~||_2 and
/// whether the certificate guarantees the agreement; then the counts of the text output.
pub fn eval_inputs(
    certificate: &Path,
    inputs: &Path,
    homogenized: bool,
    e: &crate::eval::Evaluable,
    seen: &crate::eval::Classification,
) -> Value {
    let margin = |m: &Option<BigRational>| -> (Value, Value) {
        m.as_ref().map_or((Value::Null, Value::Null), rational)
    };
    let per_input: Vec<Value> = seen
        .per_input
        .iter()
        .enumerate()
        .map(|(index, v)| {
            let mut outside = Vec::new();
            if v.beyond_radius {
                outside.push("beyond_radius");
            }
            if v.negative {
                outside.push("negative_coordinate");
            }
            let (f_margin, f_margin_approx) = margin(&v.f_margin);
            let (g_margin, g_margin_approx) = margin(&v.g_margin);
            json!({
                "index": index,
                "in_domain": v.in_domain,
                "outside_domain_because": outside,
                "norm_approx": rational_to_f64(&v.norm2).sqrt(),
                "f": {"class": v.f_class, "margin": f_margin, "margin_approx": f_margin_approx},
                "g": {"class": v.g_class, "margin": g_margin, "margin_approx": g_margin_approx},
                "agree": v.f_class == v.g_class,
                "distance_approx": rational_to_f64(&v.squared).sqrt(),
                "guaranteed": v.guaranteed(),
            })
        })
        .collect();
    let (epsilon, epsilon_approx) = rational(&e.epsilon);
    let (radius, radius_approx) = rational(&e.radius);
    json!({
        "certificate": certificate.display().to_string(),
        "mode": "inputs",
        "inputs_file": inputs.display().to_string(),
        "homogenized": homogenized,
        "epsilon": epsilon,
        "epsilon_approx": epsilon_approx,
        "radius": radius,
        "radius_approx": radius_approx,
        "nonnegative": e.certificate.domain.nonnegative,
        "summary": {
            "inputs": seen.inputs,
            "f_correct": seen.f_correct,
            "g_correct": seen.g_correct,
            "agree": seen.agree,
            "guaranteed": seen.guaranteed,
            "guaranteed_two_epsilon": seen.guaranteed_two_epsilon,
            "outside_domain": seen.outside_domain,
            "beyond_radius": seen.beyond_radius,
            "negative": seen.negative,
            "max_distance_in_domain_approx":
                seen.max_squared_in_domain.as_ref().map(|m| rational_to_f64(m).sqrt()),
            "exceeding": seen.exceeding,
        },
        "inputs": per_input,
    })
}
