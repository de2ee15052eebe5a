//! What a certificate of a homogenized target says about the user's network with biases:
//! the line `slth verify` prints after the verdict.
//!
//! `meta` is free-form and not verified (docs/FORMAT.md section 7.1), so this is a reading
//! of the proven statement of section 1, not a new claim: if `meta.derived_from` says the
//! target is the homogenized form f' of a network f with biases (f'(x, 1) = f(x), inputs
//! in R^d), then the proven statement about f' on the ball of radius R gives, for every x
//! with ||x||_2 <= r where r^2 + 1 <= R^2, ||g~(x, 1) - f(x)||_2 <= epsilon, because
//! ||(x, 1)||_2^2 = ||x||_2^2 + 1 <= R^2. (A non-negative domain carries over: x >= 0
//! makes (x, 1) >= 0.) The line checks d + 1 = input_dim and r^2 + 1 <= R^2 itself and
//! says so when meta disagrees.

use crate::certificate::Certificate;
use crate::numbers::{format_rational, parse_rational};
use num_rational::BigRational;
use num_traits::{One, Signed};
use serde_json::Value;

/// `meta.derived_from.kind` of a certificate whose target is a homogenized network.
pub const DERIVATION_KIND: &str = "homogenized-biases";

/// What the certificate implies for the user's network f, in words: for every x in R^d
/// with ||x||_2 <= `radius` (and x >= 0 when `nonnegative`),
/// ||g~(x, 1) - f(x)||_2 <= `epsilon`. The caller has checked that this follows.
pub fn statement(d: usize, radius: &str, nonnegative: bool, epsilon: &str) -> String {
    let orthant = if nonnegative { " and x >= 0" } else { "" };
    format!(
        "for every x in R^{d} with ||x||_2 <= {radius}{orthant}: ||g~(x, 1) - f(x)||_2 <= {epsilon}, where g~ receives the constant 1 as its last input"
    )
}

/// d when `meta.derived_from` says the target is homogenized from R^d (untrusted: meta is
/// not verified).
pub fn homogenized_from(meta: Option<&Value>) -> Option<usize> {
    let derivation = meta?.get("derived_from")?;
    if derivation.get("kind")?.as_str()? != DERIVATION_KIND {
        return None;
    }
    usize::try_from(derivation.get("input_dim")?.as_u64()?).ok()
}

/// The line `verify` and `inspect` print for a homogenized certificate: what follows for the
/// user's network f, according to meta. None when meta does not say homogenized.
///
/// Decides, exactly, d + 1 = `target.input_dim` for meta's d and r >= 0 with
/// r^2 + 1 <= R^2 for meta's r and the domain's radius R (docs/FORMAT.md section 1); if
/// either fails, the line says so instead. Cost: two rational squares.
pub fn statement_for_user(certificate: &Certificate) -> Option<String> {
    let derivation = certificate.meta.as_ref()?.get("derived_from")?;
    if derivation.get("kind").and_then(Value::as_str) != Some(DERIVATION_KIND) {
        return None;
    }
    let claimed = || -> Result<(usize, BigRational), String> {
        let d = homogenized_from(certificate.meta.as_ref())
            .ok_or("meta.derived_from.input_dim is not a dimension")?;
        let r = derivation
            .get("radius")
            .and_then(Value::as_str)
            .ok_or("meta.derived_from.radius is not a rational string".to_string())
            .and_then(|t| {
                parse_rational(t).map_err(|e| format!("meta.derived_from.radius: {e}"))
            })?;
        // Checked: d = u64::MAX would wrap to the input dimension 0.
        if (d as u64).checked_add(1) != Some(certificate.target.input_dim) {
            return Err(format!(
                "meta.derived_from.input_dim {d} is not the target's input dimension {} minus 1",
                certificate.target.input_dim
            ));
        }
        let big_r = parse_rational(&certificate.domain.radius.0)
            .map_err(|e| format!("domain.radius: {e}"))?;
        if r.is_negative() || &r * &r + BigRational::one() > &big_r * &big_r {
            return Err(format!(
                "meta.derived_from.radius {} does not satisfy r^2 + 1 <= R^2 with the domain's radius R = {}",
                format_rational(&r),
                certificate.domain.radius.0
            ));
        }
        Ok((d, r))
    };
    Some(match claimed() {
        Ok((d, r)) => format!(
            "according to meta, the target is the homogenized form of a network f with biases; for f: {}",
            statement(
                d,
                &format_rational(&r),
                certificate.domain.nonnegative,
                &certificate.bound.epsilon.0
            )
        ),
        Err(reason) => format!(
            "meta says the target is a homogenized network with biases, but {reason}: nothing about such a network follows beyond the statement above"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// meta's d = u64::MAX once wrapped to d + 1 = 0 and matched a target with input_dim 0.
    #[test]
    fn a_huge_meta_dimension_does_not_wrap_to_the_input_dimension() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../certificates/tiny-3-2-1.json"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut certificate = crate::certificate::parse(&text).unwrap();
        certificate.target.input_dim = 0;
        certificate.meta = Some(serde_json::json!({"derived_from": {
            "kind": DERIVATION_KIND, "input_dim": u64::MAX, "radius": "0"
        }}));
        let line = statement_for_user(&certificate).unwrap();
        assert!(
            line.contains("is not the target's input dimension"),
            "{line}"
        );
    }
}
