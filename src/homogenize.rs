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

use crate::network::{BiasedNetwork, Layer, Network};
use crate::numbers::sqrt_upper;
use num_rational::BigRational;
use num_traits::{One, Zero};

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
