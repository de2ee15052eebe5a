//! Random targets that meet the theorem's assumptions, with exact dyadic weights.
//!
//! Layer i's entries start uniform in (-b, b) with b = 1/sqrt(n_{i-1}) (rounded down to a
//! dyadic), then the layer is scaled by a dyadic s <= 1 until ||W_i||_2 <= 1 is proven
//! exactly (I - W^T W positive semidefinite by an exact LDL^T factorization).

use crate::error::Error;
use crate::lipschitz::spectral_norm_estimate;
use crate::network::{Activation, Layer, Network};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE};

/// Streams of the target generator, far from the streams of g (0, 1, ..., 2l - 1).
const TARGET_STREAM_BASE: u64 = 1 << 40;

/// Bits after the binary point kept in generated weights.
const WEIGHT_BITS: u32 = 24;

/// Largest Gram side the exact spectral proof is attempted for; beyond it the bound
/// ||W||_2 <= sqrt(||W||_1 ||W||_inf) is used (looser, but exact and cheap).
const EXACT_SPECTRAL_SIDE: usize = 128;

/// How the entries of a random target are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryRange {
    /// uniform in (-1/sqrt(n_in), 1/sqrt(n_in)), then scaled so that ||W_i||_2 <= 1
    Theorem,
    /// uniform in (low, high), no scaling (the weight range of a trained network)
    Uniform { low: f64, high: f64 },
}

impl EntryRange {
    /// The range of `random-target --range LOW,HIGH` (the theorem's when absent).
    pub fn from_option(range: Option<&[f64]>) -> Result<EntryRange, Error> {
        match range {
            None => Ok(EntryRange::Theorem),
            Some(&[low, high]) if low.is_finite() && high.is_finite() && low < high => {
                Ok(EntryRange::Uniform { low, high })
            }
            Some(_) => Err(Error::usage(
                "range",
                "takes two finite numbers LOW,HIGH with LOW < HIGH",
            )),
        }
    }
}

/// A random target with the given dims n_0, ..., n_l.
pub fn random_target(
    dims: &[usize],
    seed: &Seed,
    linear_output: bool,
    range: &EntryRange,
) -> Result<Network, Error> {
    if dims.len() < 2 {
        return Err(Error::usage(
            "dims",
            "needs at least two numbers (input and output width)",
        ));
    }
    if let Some(zero) = dims.iter().position(|&d| d == 0) {
        return Err(Error::usage(
            "dims",
            format!("entry {zero} is 0; every width must be >= 1"),
        ));
    }
    let count: u128 = dims.windows(2).map(|w| w[0] as u128 * w[1] as u128).sum();
    if count > 50_000_000 {
        return Err(Error::usage(
            "dims",
            format!("{count} weights is more than this command makes (50,000,000)"),
        ));
    }
    let mut layers = Vec::with_capacity(dims.len() - 1);
    for (i, pair) in dims.windows(2).enumerate() {
        let (n_in, n_out) = (pair[0], pair[1]);
        let last = i + 2 == dims.len();
        let activation = if last && linear_output {
            Activation::Linear
        } else {
            Activation::Relu
        };
        let mut reader = StreamReader::new(*seed, TARGET_STREAM_BASE + i as u64);
        let unit =
            |k: u64, reader: &mut StreamReader| reader.numerator(k) as f64 / WEIGHT_SCALE as f64;
        let weights: Vec<Vec<BigRational>> = match range {
            EntryRange::Theorem => {
                let bound = dyadic_down(1.0 / (n_in as f64).sqrt());
                let layer: Vec<Vec<BigRational>> = (0..n_out)
                    .map(|m| {
                        (0..n_in)
                            .map(|t| {
                                let x = unit((m * n_in + t) as u64, &mut reader);
                                dyadic_toward_zero(x) * &bound
                            })
                            .collect()
                    })
                    .collect();
                scale_to_unit_spectral_norm(layer)
            }
            EntryRange::Uniform { low, high } => (0..n_out)
                .map(|m| {
                    (0..n_in)
                        .map(|t| {
                            let x = unit((m * n_in + t) as u64, &mut reader);
                            dyadic_toward_zero(low + (high - low) * (x + 1.0) / 2.0)
                        })
                        .collect()
                })
                .collect(),
        };
        layers.push(Layer {
            weights,
            activation,
        });
    }
    Ok(Network {
        input_dim: dims[0],
        layers,
    })
}

/// x rounded toward zero to a multiple of 2^-WEIGHT_BITS.
fn dyadic_toward_zero(x: f64) -> BigRational {
    let scale = (1u64 << WEIGHT_BITS) as f64;
    BigRational::new(
        BigInt::from((x * scale).trunc() as i64),
        BigInt::from(1u64 << WEIGHT_BITS),
    )
}

/// The largest multiple of 2^-WEIGHT_BITS that is <= x (for x >= 0).
fn dyadic_down(x: f64) -> BigRational {
    let scale = (1u64 << WEIGHT_BITS) as f64;
    BigRational::new(
        BigInt::from((x * scale).floor() as i64),
        BigInt::from(1u64 << WEIGHT_BITS),
    )
}

/// Scales W by a dyadic s <= 1 so that ||s W||_2 <= 1 holds exactly.
fn scale_to_unit_spectral_norm(weights: Vec<Vec<BigRational>>) -> Vec<Vec<BigRational>> {
    let f64_weights: Vec<Vec<f64>> = weights
        .iter()
        .map(|row| row.iter().map(crate::numbers::rational_to_f64).collect())
        .collect();
    let estimate = spectral_norm_estimate(&f64_weights);
    let mut s = if estimate <= 0.99 {
        1.0
    } else {
        0.99 / estimate
    };
    for _ in 0..200 {
        let factor = dyadic_down(s.min(1.0));
        let scaled: Vec<Vec<BigRational>> = weights
            .iter()
            .map(|row| row.iter().map(|w| w * &factor).collect())
            .collect();
        if spectral_norm_at_most_one(&scaled) {
            return scaled;
        }
        s *= 0.95;
    }
    // Frobenius <= 1 is always enough (and reached long before here in practice).
    let frobenius =
        crate::numbers::sqrt_upper(&crate::numbers::sum_of_squares(weights.iter().flatten()), 6);
    let factor = if frobenius > BigRational::one() {
        frobenius.recip()
    } else {
        BigRational::one()
    };
    weights
        .iter()
        .map(|row| row.iter().map(|w| w * &factor).collect())
        .collect()
}

/// Exactly: ||W||_2 <= 1, i.e. I - G is PSD for the smaller Gram matrix G.
fn spectral_norm_at_most_one(weights: &[Vec<BigRational>]) -> bool {
    let n_out = weights.len();
    let n_in = weights.first().map_or(0, Vec::len);
    let n = n_out.min(n_in);
    if n > EXACT_SPECTRAL_SIDE {
        // ||W||_2^2 <= ||W||_1 ||W||_inf (max column sum times max row sum of |w|).
        let row_max = weights
            .iter()
            .map(|r| r.iter().map(|w| w.abs()).sum::<BigRational>())
            .max();
        let col_max = (0..n_in)
            .map(|t| weights.iter().map(|r| r[t].abs()).sum::<BigRational>())
            .max();
        return match (row_max, col_max) {
            (Some(r), Some(c)) => r * c <= BigRational::one(),
            _ => true,
        };
    }
    let entry = |a: usize, b: usize| -> BigRational {
        if n_out <= n_in {
            weights[a].iter().zip(&weights[b]).map(|(x, y)| x * y).sum()
        } else {
            weights.iter().map(|r| &r[a] * &r[b]).sum()
        }
    };
    let mut m: Vec<Vec<BigRational>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    let identity = if a == b {
                        BigRational::one()
                    } else {
                        BigRational::zero()
                    };
                    identity - entry(a, b)
                })
                .collect()
        })
        .collect();
    positive_semidefinite(&mut m)
}

/// Symmetric elimination without pivoting: PSD iff every pivot is >= 0 and a zero pivot
/// has a zero remaining row. O(n^3) rational operations.
#[allow(clippy::needless_range_loop)] // several arrays share the index
fn positive_semidefinite(m: &mut [Vec<BigRational>]) -> bool {
    let n = m.len();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if (k + 1..n).any(|b| !m[k][b].is_zero()) {
                return false;
            }
            continue;
        }
        for a in k + 1..n {
            if m[a][k].is_zero() {
                continue;
            }
            let ratio = &m[a][k] / &pivot;
            for b in k + 1..n {
                let delta = &ratio * &m[k][b];
                m[a][b] -= delta;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theorem_targets_meet_the_assumptions() {
        let f = random_target(
            &[8, 16, 16, 1],
            &Seed::from_u64(3),
            true,
            &EntryRange::Theorem,
        )
        .unwrap();
        assert_eq!(f.dims(), vec![8, 16, 16, 1]);
        assert_eq!(f.layers[2].activation, Activation::Linear);
        for layer in &f.layers {
            let n_in = layer.weights[0].len() as f64;
            let w = layer.weights_f64();
            assert!(spectral_norm_estimate(&w) <= 1.0);
            assert!(w.iter().flatten().all(|x| x.abs() <= 1.0 / n_in.sqrt()));
            assert!(spectral_norm_at_most_one(&layer.weights));
        }
    }

    #[test]
    fn exact_spectral_test_is_tight() {
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        // [[3/5, 4/5]] has norm exactly 1; scaled by 1 + 2^-20 it exceeds 1.
        assert!(spectral_norm_at_most_one(&[vec![q(3, 5), q(4, 5)]]));
        let up = q((1 << 20) + 1, 1 << 20);
        assert!(!spectral_norm_at_most_one(&[vec![
            q(3, 5) * &up,
            q(4, 5) * &up
        ]]));
        assert!(spectral_norm_at_most_one(&[
            vec![q(1, 2), q(0, 1)],
            vec![q(0, 1), q(1, 1)]
        ]));
    }

    #[test]
    fn uniform_range_is_respected_and_deterministic() {
        let range = EntryRange::Uniform {
            low: -0.464,
            high: 0.541,
        };
        let f = random_target(&[20, 10], &Seed::from_u64(9), true, &range).unwrap();
        let g = random_target(&[20, 10], &Seed::from_u64(9), true, &range).unwrap();
        assert_eq!(f, g);
        assert!(
            f.layers[0]
                .weights_f64()
                .iter()
                .flatten()
                .all(|&x| (-0.464..=0.541).contains(&x))
        );
    }

    #[test]
    fn bad_dims_are_refused() {
        assert!(random_target(&[3], &Seed::from_u64(1), false, &EntryRange::Theorem).is_err());
        assert!(
            random_target(&[3, 0, 1], &Seed::from_u64(1), false, &EntryRange::Theorem).is_err()
        );
    }
}
