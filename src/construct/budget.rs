//! The tolerance budget: per-block tolerances tau_i whose worst case meets epsilon.

use crate::network::Network;
use crate::numbers::rational_to_f64;

/// Per-block tolerances tau_i whose worst case meets `epsilon`.
///
/// Every `E_i[m][t]` < tau_i gives c_i <= tau_i sqrt(n_i n_{i-1}). Blocks get equal shares of
/// the first-order bound r sum_i c_i prod_{k != i} L_k; a bisection on the common scale
/// makes the exact recursion of docs/FORMAT.md section 6 (in f64, with L_i rounded up) land at
/// `fraction * epsilon`. With `spectral`, L_i is the estimated ||W_i||_2 plus 1% (the
/// claim made later is within 1e-5 of the estimate, or falls back to Frobenius and the
/// exact bound decides).
pub fn budget(
    target: &Network,
    radius: f64,
    epsilon: f64,
    fraction: f64,
    spectral: bool,
) -> Vec<f64> {
    let dims = target.dims();
    let lipschitz: Vec<f64> = target
        .layers
        .iter()
        .map(|l| {
            let frobenius = rational_to_f64(&l.frobenius_squared()).sqrt() * (1.0 + 1e-9);
            if spectral {
                let estimate = crate::lipschitz::spectral_norm_estimate(&l.weights_f64());
                frobenius.min(estimate * (1.0 + 1e-2))
            } else {
                frobenius
            }
        })
        .collect();
    let counts: Vec<f64> = dims
        .windows(2)
        .map(|w| (w[0] * w[1]).max(1) as f64)
        .collect();
    let weight_of = |i: usize| -> f64 {
        let others: f64 = (0..lipschitz.len())
            .filter(|&k| k != i)
            .map(|k| lipschitz[k].max(1e-6))
            .product();
        1.0 / others
    };
    let shares: Vec<f64> = (0..lipschitz.len()).map(weight_of).collect();
    let chain = |s: f64| -> f64 {
        let (mut a, mut e) = (radius, 0.0);
        for (i, l) in lipschitz.iter().enumerate() {
            let c = s * shares[i];
            e = c * (a + e) + l * e;
            a *= l;
        }
        e
    };
    let goal = epsilon * fraction;
    let (mut low, mut high) = (0.0f64, 1.0f64);
    while chain(high) < goal && high < 1e300 {
        low = high;
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if chain(mid) <= goal {
            low = mid;
        } else {
            high = mid;
        }
    }
    shares
        .iter()
        .zip(&counts)
        .map(|(share, n)| low * share / n.sqrt())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Activation;
    use crate::network::Layer;
    use crate::numbers::rational_from_f64;
    use num_bigint::BigInt;
    use num_rational::BigRational;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn layer(weights: Vec<Vec<BigRational>>) -> Layer {
        Layer {
            weights,
            activation: Activation::Relu,
        }
    }

    #[test]
    fn budget_meets_epsilon_in_the_worst_case() {
        let f = Network {
            input_dim: 2,
            layers: vec![
                layer(vec![vec![q(1, 2), q(1, 3)], vec![q(1, 4), q(-1, 5)]]),
                layer(vec![vec![q(1, 2), q(-1, 2)]]),
            ],
        };
        let tolerances = budget(&f, 1.0, 0.1, 0.95, false);
        // Worst case c_i = tau_i sqrt(n_i n_{i-1}), pushed through the exact recursion.
        let blocks: Vec<(BigRational, BigRational)> = f
            .layers
            .iter()
            .zip(&tolerances)
            .map(|(l, tau)| {
                let count = (l.outputs() * l.weights[0].len()) as f64;
                let c = rational_from_f64(tau * count.sqrt()).unwrap();
                let big_l = crate::numbers::sqrt_upper(&l.frobenius_squared(), 9);
                (c, big_l)
            })
            .collect();
        let e = crate::bound::propagate(&q(1, 1), &blocks);
        assert!(e <= q(1, 10), "worst case {e} exceeds epsilon");
        assert!(e >= q(9, 100), "budget wastes too much: {e}");
    }
}
