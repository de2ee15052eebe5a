//! The tolerance budget: per-block tolerances tau_i whose worst case meets epsilon.

use crate::network::Network;
use crate::numbers::rational_to_f64;

/// Scales of the worst-case tolerances tried in order for an epsilon request. Typical
/// errors are well below the tolerance (E^2 averages tau^2 / 3 for uniform errors), so a
/// looser tolerance usually still meets epsilon with a smaller g; 1.0 is guaranteed by
/// the budget.
pub const TOLERANCE_SCALES: [f64; 4] = [1.6, 1.0, 0.8, 0.5];

/// The loosest of [`TOLERANCE_SCALES`]: version 1 accepts tolerances this much above the
/// worst case (what [`super::reachable`] assumes).
pub const LOOSEST_TOLERANCE_SCALE: f64 = TOLERANCE_SCALES[0];

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
    let lipschitz = lipschitz_estimates(target, spectral);
    let counts: Vec<f64> = dims
        .windows(2)
        .map(|w| (w[0] * w[1]).max(1) as f64)
        .collect();
    let shares: Vec<f64> = (0..lipschitz.len())
        .map(|i| others(&lipschitz, i))
        .collect();
    let low = bisect(radius, epsilon * fraction, &lipschitz, &shares);
    shares
        .iter()
        .zip(&counts)
        .map(|(share, n)| low * share / n.sqrt())
        .collect()
}

/// L_i as the budget sees them: the Frobenius norm (a hair up), or with `spectral` the
/// smaller of it and the estimated ||W_i||_2 plus 1%.
fn lipschitz_estimates(target: &Network, spectral: bool) -> Vec<f64> {
    target
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
        .collect()
}

/// 1 / prod_{k != i} L_k: block i's error reaches the output stretched by the other layers.
fn others(lipschitz: &[f64], i: usize) -> f64 {
    let product: f64 = (0..lipschitz.len())
        .filter(|&k| k != i)
        .map(|k| lipschitz[k].max(1e-6))
        .product();
    1.0 / product
}

/// e_l of the recursion of docs/FORMAT.md section 6.3 (in f64) with the claims `errors` as
/// c_i and the L_i of [`budget`]: the epsilon those block errors make.
pub fn chain_of_errors(target: &Network, radius: f64, spectral: bool, errors: &[f64]) -> f64 {
    let lipschitz = lipschitz_estimates(target, spectral);
    let (mut a, mut e) = (radius, 0.0);
    for (c, l) in errors.iter().zip(&lipschitz) {
        e = c * (a + e) + l * e;
        a *= l;
    }
    e
}

/// The largest s for which the exact recursion of docs/FORMAT.md section 6.3 with
/// c_i = s shares_i stays within `goal` (in f64; 200 bisection steps).
fn bisect(radius: f64, goal: f64, lipschitz: &[f64], shares: &[f64]) -> f64 {
    let chain = |s: f64| -> f64 {
        let (mut a, mut e) = (radius, 0.0);
        for (i, l) in lipschitz.iter().enumerate() {
            let c = s * shares[i];
            e = c * (a + e) + l * e;
            a *= l;
        }
        e
    };
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
    low
}

/// Version 2's block targets: for each block, the spectral error c_i* it may claim, with the
/// per-weight tolerance a construction aims at and the one that guarantees c_i*.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockTarget {
    /// c_i*: the claim the split of epsilon leaves to block i
    pub error: f64,
    /// the tolerance to try first: c_i* / (AIM_RATIO (sqrt(rows) + sqrt(cols))) for the
    /// n_i x cols signed error matrix M_i of docs/FORMAT.md section 12.9
    pub aim: f64,
    /// c_i* / sqrt(n_i n_{i-1}): every `E_i[m][t]` below it gives ||E_i||_F <= c_i*, whatever
    /// the signs
    pub guaranteed: f64,
}

/// The measured ratio ||M_i||_2 / (tau (sqrt(rows) + sqrt(cols))) of the committed tickets is
/// 0.35 to 0.48 (subset sum and pairs, 3- to 65-wide blocks: errors below tau, of both
/// signs, nearly independent); 0.5 aims a little above it.
pub const AIM_RATIO: f64 = 0.5;

/// Splits epsilon across blocks for version 2 (spectral error claims) to make g narrow.
///
/// Cost model: a block's width is about (its inputs, counted twice on a signed block 1)
/// times log2(1 / tau_i) (the subset-sum pool per input). To first order the error is
/// r sum_i c_i prod_{k != i} L_k; minimising sum_i w_i log(1 / c_i) under that sum gives
/// every block a share of epsilon proportional to w_i, its input count. A bisection on the
/// common scale then makes the exact recursion of docs/FORMAT.md section 6.3 (in f64, with the
/// L_i of [`budget`]) land at `fraction * epsilon`.
pub fn block_targets(
    target: &Network,
    radius: f64,
    epsilon: f64,
    fraction: f64,
    spectral: bool,
    signed_input: bool,
) -> Vec<BlockTarget> {
    let dims = target.dims();
    let lipschitz = lipschitz_estimates(target, spectral);
    let columns: Vec<f64> = dims
        .windows(2)
        .enumerate()
        .map(|(i, w)| (w[0] * if i == 0 && signed_input { 2 } else { 1 }) as f64)
        .collect();
    let shares: Vec<f64> = (0..lipschitz.len())
        .map(|i| columns[i].max(1.0) * others(&lipschitz, i))
        .collect();
    let scale = bisect(radius, epsilon * fraction, &lipschitz, &shares);
    dims.windows(2)
        .zip(shares.iter().zip(&columns))
        .map(|(w, (share, &cols))| {
            let error = scale * share;
            let rows = w[1].max(1) as f64;
            BlockTarget {
                error,
                aim: error / (AIM_RATIO * (rows.sqrt() + cols.max(1.0).sqrt())),
                guaranteed: error / ((w[0] * w[1]).max(1) as f64).sqrt(),
            }
        })
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
