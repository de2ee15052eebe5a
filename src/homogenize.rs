//! Biases without changing the certificate format: the homogenized target.
//!
//! For f with layers (W_i, b_i), i = 1..l, the homogenized f' reads x' = (x, 1) in R^(d+1):
//!
//! ```text
//! layer 1:          W'_1 = [W_1 | b_1]            plus the carrier row (0, ..., 0, 1)
//! layer 1 < i < l:  W'_i = [[W_i, b_i], [0, 1]]   (the carrier row (0, ..., 0, 1) again)
//! layer l:          W'_l = [W_l | b_l]
//! ```
//!
//! The carrier neuron computes ReLU(1) = 1, so every hidden layer of f' passes the constant
//! on, and f'(x, 1) = f(x) exactly. The bias column and the carrier are kept only as long as
//! a later layer has a non-zero bias (for the usual MLP with biases everywhere: in every
//! layer, as above).
//!
//! A certificate for f' on the ball ||z||_2 <= R with R^2 >= r^2 + 1 proves, at z = (x, 1):
//! for every x with ||x||_2 <= r, ||g~(x, 1) - f(x)||_2 <= epsilon. In the non-negative
//! orthant, z >= 0 if and only if x >= 0, so `--nonnegative` keeps its meaning.

use crate::certificate::Certificate;
use crate::certify::{Certified, CertifyOptions, Construction, certify};
use crate::network::{BiasedNetwork, Layer, Network};
use crate::numbers::{format_rational, parse_rational, sqrt_upper};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde_json::{Value, json};

/// `meta.derived_from.kind` of a certificate whose target is a homogenized network.
pub const DERIVATION_KIND: &str = "homogenized-biases";

/// Significant digits of the homogenized radius R.
const RADIUS_DIGITS: u32 = 6;

/// The homogenized network f' with f'(x, 1) = f(x); `network` itself if it has no bias.
pub fn homogenize(network: &BiasedNetwork) -> Network {
    let layers = &network.network.layers;
    let count = layers.len();
    // carries[i]: the input of layer i (0-based) ends with the constant 1.
    let mut carries = vec![false; count + 1];
    for i in (0..count).rev() {
        carries[i] = carries[i + 1] || network.biases[i].iter().any(|b| !b.is_zero());
    }
    let homogenized = layers
        .iter()
        .zip(&network.biases)
        .enumerate()
        .map(|(i, (layer, biases))| {
            let mut weights: Vec<Vec<BigRational>> = layer
                .weights
                .iter()
                .zip(biases)
                .map(|(row, b)| {
                    let mut row = row.clone();
                    if carries[i] {
                        row.push(b.clone());
                    }
                    row
                })
                .collect();
            if carries[i + 1] {
                let width = weights.first().map_or(0, Vec::len).max(1);
                let mut carrier = vec![BigRational::zero(); width];
                carrier[width - 1] = BigRational::one();
                weights.push(carrier);
            }
            Layer {
                weights,
                activation: layer.activation,
            }
        })
        .collect();
    Network {
        input_dim: network.network.input_dim + usize::from(carries[0]),
        layers: homogenized,
    }
}

/// The radius R of the homogenized domain: the smallest rational of six significant digits
/// with R^2 >= r^2 + 1, so that ||x|| <= r implies ||(x, 1)|| <= R.
pub fn homogenized_radius(radius: &BigRational) -> BigRational {
    sqrt_upper(&(radius * radius + BigRational::one()), RADIUS_DIGITS)
}

/// (x, 1): the input of the homogenized network.
pub fn homogenized_input(x: &[BigRational]) -> Vec<BigRational> {
    let mut z = x.to_vec();
    z.push(BigRational::one());
    z
}

/// What the certificate implies for the user's network f, in words.
fn statement(d: usize, radius: &str, nonnegative: bool, epsilon: &str) -> String {
    let orthant = if nonnegative { " and x >= 0" } else { "" };
    format!(
        "for every x in R^{d} with ||x||_2 <= {radius}{orthant}: ||g~(x, 1) - f(x)||_2 <= {epsilon}, where g~ receives the constant 1 as its last input"
    )
}

/// Certifies a network that may have biases: as it is if it has none, else through its
/// homogenized form on the ball of radius [`homogenized_radius`], with `meta.derived_from`
/// saying so and `options.radius` (r) recorded there.
pub fn certify_with_biases(
    target: &BiasedNetwork,
    options: &CertifyOptions,
) -> Result<Certified, String> {
    target.check()?;
    if !target.has_biases() {
        return certify(&target.network, options);
    }
    if options.radius.is_negative() {
        return Err("--radius must be >= 0".into());
    }
    let homogenized = homogenize(target);
    let carried = homogenized.dims()[1..] != target.network.dims()[1..];
    if carried && options.construction == Construction::Pairs {
        return Err(
            "the homogenized network passes the constant 1 on with a carrier weight of 1, which the pairs construction cannot reach (one product of two weights in (-1, 1)); use the subset-sum construction"
                .into(),
        );
    }
    let mut lifted = options.clone();
    lifted.radius = homogenized_radius(&options.radius);
    let mut certified = certify(&homogenized, &lifted)?;
    let d = target.network.input_dim;
    let r = format_rational(&options.radius);
    let big_r = format_rational(&lifted.radius);
    let c = &mut certified.certificate;
    let derivation = json!({
        "kind": DERIVATION_KIND,
        "input_dim": d,
        "radius": r,
        "note": format!(
            "the target is the homogenized form f' of a network f with biases: f'(x, 1) = f(x) for x in R^{d}; in each layer the last column holds the biases, and each hidden layer that feeds a bias ends with a carrier neuron (row 0, ..., 0, 1; ReLU(1) = 1) that passes the constant 1 on; the domain radius {big_r} satisfies {big_r}^2 >= {r}^2 + 1"
        ),
        "statement": statement(d, &r, options.nonnegative, &c.bound.epsilon.0),
    });
    match &mut c.meta {
        Some(Value::Object(meta)) => {
            meta.insert("derived_from".into(), derivation);
        }
        meta => *meta = Some(json!({ "derived_from": derivation })),
    }
    Ok(certified)
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
/// The radius r of meta is checked against the certificate's own domain (r^2 + 1 <= R^2)
/// and d against its input dimension (d + 1); if they disagree, the line says so instead.
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
        if d as u64 + 1 != certificate.target.input_dim {
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
    use crate::network::Activation;
    use num_bigint::BigInt;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn layer(rows: &[&[i64]], activation: Activation) -> Layer {
        Layer {
            weights: rows
                .iter()
                .map(|r| r.iter().map(|&w| q(w, 4)).collect())
                .collect(),
            activation,
        }
    }

    #[test]
    fn homogenized_layers_follow_the_recipe() {
        let f = BiasedNetwork {
            network: Network {
                input_dim: 2,
                layers: vec![
                    layer(&[&[1, -2], &[3, 1]], Activation::Relu),
                    layer(&[&[2, -1]], Activation::Linear),
                ],
            },
            biases: vec![vec![q(1, 2), q(-1, 3)], vec![q(5, 7)]],
        };
        let h = homogenize(&f);
        assert_eq!(h.dims(), vec![3, 3, 1]);
        assert_eq!(h.layers[0].weights[0], vec![q(1, 4), q(-1, 2), q(1, 2)]);
        assert_eq!(h.layers[0].weights[2], vec![q(0, 1), q(0, 1), q(1, 1)]);
        assert_eq!(h.layers[1].weights[0], vec![q(1, 2), q(-1, 4), q(5, 7)]);
        for x in [[q(1, 3), q(-2, 5)], [q(-1, 1), q(1, 1)], [q(0, 1), q(0, 1)]] {
            assert_eq!(h.eval_exact(&homogenized_input(&x)), f.eval_exact(&x));
        }
    }

    #[test]
    fn the_carrier_stops_after_the_last_bias() {
        let f = BiasedNetwork {
            network: Network {
                input_dim: 1,
                layers: vec![
                    layer(&[&[1]], Activation::Relu),
                    layer(&[&[2]], Activation::Relu),
                    layer(&[&[3]], Activation::Relu),
                ],
            },
            biases: vec![vec![q(1, 1)], vec![q(1, 1)], vec![q(0, 1)]],
        };
        let h = homogenize(&f);
        assert_eq!(h.dims(), vec![2, 2, 1, 1]);
        let x = [q(-3, 2)];
        assert_eq!(h.eval_exact(&homogenized_input(&x)), f.eval_exact(&x));
        let unbiased = BiasedNetwork::unbiased(f.network.clone());
        assert_eq!(homogenize(&unbiased), f.network);
    }

    #[test]
    fn radius_covers_the_lifted_ball() {
        for (n, d) in [(1, 1), (0, 1), (3, 4), (7, 3)] {
            let r = q(n, d);
            let big = homogenized_radius(&r);
            assert!(&big * &big >= &r * &r + BigRational::one());
        }
        assert_eq!(homogenized_radius(&q(3, 4)), q(5, 4));
        assert_eq!(homogenized_radius(&q(1, 1)), q(141422, 100000));
    }
}
