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
        let mut entries = |value: &dyn Fn(f64) -> i64| -> Vec<Vec<i128>> {
            (0..n_out)
                .map(|m| {
                    (0..n_in)
                        .map(|t| {
                            let x = unit((m * n_in + t) as u64, &mut reader);
                            i128::from(value(x))
                        })
                        .collect()
                })
                .collect()
        };
        let weights = match range {
            EntryRange::Theorem => {
                // b = bound_numerator / 2^24 and each entry (x cut to 24 bits) times b.
                let bound = dyadic_numerator((1.0 / (n_in as f64).sqrt()).max(0.0), f64::floor);
                let layer = Dyadic {
                    numerators: entries(&|x| dyadic_numerator(x, f64::trunc) * bound),
                    bits: 2 * WEIGHT_BITS,
                };
                scale_to_unit_spectral_norm(layer)
            }
            EntryRange::Uniform { low, high } => Dyadic {
                numerators: entries(&|x| {
                    dyadic_numerator(low + (high - low) * (x + 1.0) / 2.0, f64::trunc)
                }),
                bits: WEIGHT_BITS,
            }
            .to_rationals(),
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

/// One layer's entries as integers over a power of two: `numerators[m][t] / 2^bits`.
struct Dyadic {
    numerators: Vec<Vec<i128>>,
    bits: u32,
}

impl Dyadic {
    /// The entries as reduced rationals, without a gcd: only powers of two can cancel.
    fn to_rationals(&self) -> Vec<Vec<BigRational>> {
        let bits = self.bits;
        let rational = |n: i128| {
            if n == 0 {
                return BigRational::zero();
            }
            let shift = n.trailing_zeros().min(bits);
            BigRational::new_raw(BigInt::from(n >> shift), BigInt::one() << (bits - shift))
        };
        self.numerators
            .iter()
            .map(|row| row.iter().map(|&n| rational(n)).collect())
            .collect()
    }

    /// The entries in f64 (exact while |numerator| < 2^53).
    fn to_f64(&self) -> Vec<Vec<f64>> {
        let unit = (-f64::from(self.bits)).exp2();
        self.numerators
            .iter()
            .map(|row| row.iter().map(|&n| n as f64 * unit).collect())
            .collect()
    }

    /// Every entry times `factor / 2^WEIGHT_BITS`.
    fn scaled(&self, factor: i64) -> Dyadic {
        Dyadic {
            numerators: self
                .numerators
                .iter()
                .map(|row| row.iter().map(|&n| n * i128::from(factor)).collect())
                .collect(),
            bits: self.bits + WEIGHT_BITS,
        }
    }
}

/// The numerator over 2^WEIGHT_BITS of x rounded by `round` (trunc: toward zero; floor:
/// down) to a multiple of 2^-WEIGHT_BITS.
fn dyadic_numerator(x: f64, round: fn(f64) -> f64) -> i64 {
    round(x * (1u64 << WEIGHT_BITS) as f64) as i64
}

/// x rounded toward zero to a multiple of 2^-WEIGHT_BITS.
#[cfg(test)]
fn dyadic_toward_zero(x: f64) -> BigRational {
    BigRational::new(
        BigInt::from(dyadic_numerator(x, f64::trunc)),
        BigInt::from(1u64 << WEIGHT_BITS),
    )
}

/// Scales W by a dyadic s <= 1 so that ||s W||_2 <= 1 holds exactly.
///
/// Wide layers use the bound ||sW||_2^2 <= ||sW||_1 ||sW||_inf = s^2 ||W||_1 ||W||_inf
/// (s >= 0), so the two norms of W are summed once, in integers, and each trial factor
/// costs a few multiplications; scaling W in rationals for every trial, and summing it
/// again, took minutes for a 500 x 784 layer. The factors tried, and so the result, are
/// those of testing every scaled matrix.
fn scale_to_unit_spectral_norm(weights: Dyadic) -> Vec<Vec<BigRational>> {
    let estimate = spectral_norm_estimate(&weights.to_f64());
    let mut s = if estimate <= 0.99 {
        1.0
    } else {
        0.99 / estimate
    };
    let n_out = weights.numerators.len();
    let n_in = weights.numerators.first().map_or(0, Vec::len);
    let norms_product =
        (n_out.min(n_in) > EXACT_SPECTRAL_SIDE).then(|| one_times_inf_norm(&weights));
    for _ in 0..200 {
        let factor = dyadic_numerator(s.min(1.0), f64::floor);
        let fits = match &norms_product {
            // factor^2 R C / 2^(2 (bits + WEIGHT_BITS)) <= 1, with R C over 2^(2 bits)
            Some(product) => {
                let f = BigInt::from(factor);
                &f * &f * product <= BigInt::one() << (2 * (weights.bits + WEIGHT_BITS))
            }
            None => spectral_norm_at_most_one(&weights.scaled(factor).to_rationals()),
        };
        if fits {
            return weights.scaled(factor).to_rationals();
        }
        s *= 0.95;
    }
    // Frobenius <= 1 is always enough (and reached long before here in practice).
    let weights = weights.to_rationals();
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

/// ||W||_1 ||W||_inf times 2^(2 bits): the largest column sum of |numerator| times the
/// largest row sum.
fn one_times_inf_norm(weights: &Dyadic) -> BigInt {
    let n_in = weights.numerators.first().map_or(0, Vec::len);
    let mut columns = vec![0i128; n_in];
    let mut row_max = 0i128;
    for row in &weights.numerators {
        let mut sum = 0i128;
        for (column, n) in columns.iter_mut().zip(row) {
            *column += n.abs();
            sum += n.abs();
        }
        row_max = row_max.max(sum);
    }
    let column_max = columns.into_iter().max().unwrap_or(0);
    BigInt::from(row_max) * BigInt::from(column_max)
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
    fn wide_layers_get_the_weights_of_the_rational_loop() {
        // The scaling loop as it was, in rationals: scale W by each trial factor, then test
        // the scaled matrix with the 1-norm/inf-norm bound (the Gram side here exceeds
        // EXACT_SPECTRAL_SIDE).
        let (n_in, n_out) = (140usize, 130usize);
        let f = random_target(
            &[n_in, n_out],
            &Seed::from_u64(5),
            false,
            &EntryRange::Theorem,
        )
        .unwrap();
        let mut reader = StreamReader::new(Seed::from_u64(5), TARGET_STREAM_BASE);
        let dyadic = |n: i64| BigRational::new(BigInt::from(n), BigInt::from(1u64 << WEIGHT_BITS));
        let bound = dyadic(dyadic_numerator(1.0 / (n_in as f64).sqrt(), f64::floor));
        let raw: Vec<Vec<BigRational>> = (0..n_out)
            .map(|m| {
                (0..n_in)
                    .map(|t| {
                        let k = (m * n_in + t) as u64;
                        let x = reader.numerator(k) as f64 / WEIGHT_SCALE as f64;
                        dyadic_toward_zero(x) * &bound
                    })
                    .collect()
            })
            .collect();
        let f64_weights: Vec<Vec<f64>> = raw
            .iter()
            .map(|row| row.iter().map(crate::numbers::rational_to_f64).collect())
            .collect();
        let estimate = spectral_norm_estimate(&f64_weights);
        let mut s = if estimate <= 0.99 {
            1.0
        } else {
            0.99 / estimate
        };
        let expected = loop {
            let factor = dyadic(dyadic_numerator(s.min(1.0), f64::floor));
            let scaled: Vec<Vec<BigRational>> = raw
                .iter()
                .map(|row| row.iter().map(|w| w * &factor).collect())
                .collect();
            if spectral_norm_at_most_one(&scaled) {
                break scaled;
            }
            s *= 0.95;
        };
        assert!(expected[0][0] != raw[0][0], "the layer was scaled");
        assert_eq!(f.layers[0].weights, expected);
    }

    #[test]
    fn bad_dims_are_refused() {
        assert!(random_target(&[3], &Seed::from_u64(1), false, &EntryRange::Theorem).is_err());
        assert!(
            random_target(&[3, 0, 1], &Seed::from_u64(1), false, &EntryRange::Theorem).is_err()
        );
    }
}
