//! Random targets that meet the theorem's assumptions, with exact dyadic weights.
//!
//! Layer i's entries start uniform in (-b, b) with b = 1/sqrt(n_{i-1}) (rounded down to a
//! dyadic), then the layer is scaled by a dyadic s <= 1 until ||W_i||_2 <= 1 is proven
//! exactly (I - W^T W positive semidefinite, decided by fraction-free elimination of the
//! integer matrix 4^k I - N^T N for W = N / 2^k).

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
    // Either ||W||_1 ||W||_inf or the Gram matrix of the numerators, once for every factor.
    let bound = match n_out.min(n_in) > EXACT_SPECTRAL_SIDE {
        true => Err(one_times_inf_norm(&weights)),
        false => Ok(integer_gram(&weights.numerators)),
    };
    // s W = factor N / 2^(bits + WEIGHT_BITS)
    let denominator = BigInt::one() << (weights.bits + WEIGHT_BITS);
    for _ in 0..200 {
        let factor = dyadic_numerator(s.min(1.0), f64::floor);
        let f = BigInt::from(factor);
        let fits = match &bound {
            // factor^2 R C / 2^(2 (bits + WEIGHT_BITS)) <= 1, with R C over 2^(2 bits)
            Err(product) => &f * &f * product <= &denominator * &denominator,
            Ok(gram) => scaled_norm_at_most(gram, &f, &denominator),
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

/// The smaller Gram matrix of the integer matrix N (N N^T if it has no more rows than
/// columns, else N^T N), exactly: each entry summed in i128, or in BigInt if that overflows.
///
/// Cost: O(min(rows, columns)^2 max(rows, columns)) machine multiplications.
fn integer_gram(numerators: &[Vec<i128>]) -> Vec<Vec<BigInt>> {
    let n_out = numerators.len();
    let n_in = numerators.first().map_or(0, Vec::len);
    let transposed: Vec<Vec<i128>>;
    let vectors = if n_out <= n_in {
        numerators
    } else {
        transposed = (0..n_in)
            .map(|t| numerators.iter().map(|row| row[t]).collect())
            .collect();
        &transposed
    };
    let dot = |x: &[i128], y: &[i128]| -> BigInt {
        let mut sum = 0i128;
        for (a, b) in x.iter().zip(y) {
            match a.checked_mul(*b).and_then(|p| sum.checked_add(p)) {
                Some(next) => sum = next,
                None => {
                    return x
                        .iter()
                        .zip(y)
                        .map(|(a, b)| BigInt::from(*a) * BigInt::from(*b))
                        .sum();
                }
            }
        }
        BigInt::from(sum)
    };
    let n = vectors.len();
    let mut gram = vec![vec![BigInt::zero(); n]; n];
    for a in 0..n {
        for b in a..n {
            let entry = dot(&vectors[a], &vectors[b]);
            gram[b][a] = entry.clone();
            gram[a][b] = entry;
        }
    }
    gram
}

/// Exactly: ||factor N||_2 <= denominator for the integer matrix N whose smaller Gram matrix
/// is `gram`, i.e. `denominator^2 I - factor^2 G` is PSD.
fn scaled_norm_at_most(gram: &[Vec<BigInt>], factor: &BigInt, denominator: &BigInt) -> bool {
    let factor_squared = factor * factor;
    let identity = denominator * denominator;
    let m = gram
        .iter()
        .enumerate()
        .map(|(a, row)| {
            row.iter()
                .enumerate()
                .map(|(b, g)| {
                    let entry = -(&factor_squared * g);
                    if a == b { entry + &identity } else { entry }
                })
                .collect()
        })
        .collect();
    integer_positive_semidefinite(m)
}

/// The decision of [`positive_semidefinite`] for a symmetric integer matrix, in integers:
/// fraction-free (Bareiss) elimination, where after the pivots P the entry (a, b) is the
/// minor det M[P + a, P + b] = the rational elimination's entry times det M[P, P] > 0 (the
/// product of P's positive pivots), so every sign, hence every decision, is the same. A
/// zero pivot with a zero row leaves P (and the entries) as they are, as the rational
/// elimination does. Only the upper triangle is kept. O(n^3) integer operations whose
/// sizes grow linearly with the step.
fn integer_positive_semidefinite(mut m: Vec<Vec<BigInt>>) -> bool {
    let n = m.len();
    let mut previous = BigInt::one();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if m[k][k + 1..].iter().any(|x| !x.is_zero()) {
                return false;
            }
            continue;
        }
        let (done, rest) = m.split_at_mut(k + 1);
        let row_k = &done[k];
        for (a, row) in (k + 1..n).zip(rest.iter_mut()) {
            for b in a..n {
                // exact: Sylvester's identity for the minors
                row[b] = (&pivot * &row[b] - &row_k[a] * &row_k[b]) / &previous;
            }
        }
        previous = pivot;
    }
    true
}

/// Exactly: ||W||_2 <= 1, i.e. I - G is PSD for the smaller Gram matrix G, in rationals:
/// what random-target used before the integer Gram matrix, kept as the tests' reference.
#[cfg(test)]
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
#[cfg(test)]
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
            assert!(integer_norm_at_most_one(&layer.weights));
        }
    }

    /// The integer Gram decision of ||W||_2 <= 1 for a rational W (side <= 128): W's
    /// entries over their common denominator D, then D^2 I - N N^T (or N^T N) PSD.
    fn integer_norm_at_most_one(weights: &[Vec<BigRational>]) -> bool {
        use num_integer::Integer;
        use num_traits::ToPrimitive;
        let denominator = weights
            .iter()
            .flatten()
            .fold(BigInt::one(), |d, w| d.lcm(w.denom()));
        let numerators: Vec<Vec<i128>> = weights
            .iter()
            .map(|row| {
                row.iter()
                    .map(|w| (w.numer() * (&denominator / w.denom())).to_i128().unwrap())
                    .collect()
            })
            .collect();
        assert!(numerators.len().min(numerators[0].len()) <= EXACT_SPECTRAL_SIDE);
        scaled_norm_at_most(&integer_gram(&numerators), &BigInt::one(), &denominator)
    }

    #[test]
    fn exact_spectral_test_is_tight() {
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        // [[3/5, 4/5]] has norm exactly 1; scaled by 1 + 2^-20 it exceeds 1.
        let unit = [vec![q(3, 5), q(4, 5)]];
        let up = q((1 << 20) + 1, 1 << 20);
        let above = [vec![q(3, 5) * &up, q(4, 5) * &up]];
        let diagonal = [vec![q(1, 2), q(0, 1)], vec![q(0, 1), q(1, 1)]];
        for decide in [spectral_norm_at_most_one, integer_norm_at_most_one] {
            assert!(decide(&unit));
            assert!(!decide(&above));
            assert!(decide(&diagonal));
        }
    }

    #[test]
    fn integer_gram_decides_as_the_rational_elimination() {
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let z = || q(0, 1);
        let up = q((1 << 20) + 1, 1 << 20);
        let scale = |w: &[Vec<BigRational>], s: &BigRational| -> Vec<Vec<BigRational>> {
            w.iter()
                .map(|r| r.iter().map(|x| x * s).collect())
                .collect()
        };
        // rotation by (3/5, 4/5) times diag(1, 1/2): norm exactly 1, I - W W^T singular
        // with nonzero entries off the diagonal
        let rotated = vec![vec![q(3, 5), q(-2, 5)], vec![q(4, 5), q(3, 10)]];
        let mut cases: Vec<(Vec<Vec<BigRational>>, Option<bool>)> = vec![
            (vec![vec![z(), z()], vec![z(), z()]], Some(true)),
            // a zero pivot with a zero row in the middle, then a positive one
            (
                vec![
                    vec![q(1, 2), z(), z()],
                    vec![z(), q(1, 1), z()],
                    vec![z(), z(), q(1, 3)],
                ],
                Some(true),
            ),
            // the same, slightly above 1
            (
                vec![
                    vec![q(1, 2), z(), z()],
                    vec![z(), up.clone(), z()],
                    vec![z(), z(), q(1, 3)],
                ],
                Some(false),
            ),
            // a zero pivot whose row is not zero
            (
                vec![vec![q(3, 5), q(4, 5)], vec![q(3, 5), z()]],
                Some(false),
            ),
            // more rows than columns (N^T N): I - W^T W = 0
            (
                vec![vec![q(1, 1), z()], vec![z(), q(1, 1)], vec![z(), z()]],
                Some(true),
            ),
            (
                vec![vec![up.clone(), z()], vec![z(), q(1, 1)], vec![z(), z()]],
                Some(false),
            ),
            (rotated.clone(), Some(true)),
            (scale(&rotated, &up), Some(false)),
            (vec![vec![q(-1, 1)]], Some(true)),
            (vec![vec![q(3, 5)], vec![q(-4, 5)]], Some(true)),
        ];
        // Random matrices with a few bits, scaled to just below and just above norm 1 by
        // the f64 estimate; and entries of 70 bits, whose products overflow i128.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (rows, columns, bits) in [
            (3, 5, 6),
            (5, 3, 6),
            (1, 9, 10),
            (9, 1, 10),
            (6, 6, 4),
            (12, 7, 8),
            (7, 12, 8),
            (4, 4, 70),
            (6, 3, 70),
        ] {
            let w: Vec<Vec<BigRational>> = (0..rows)
                .map(|_| {
                    (0..columns)
                        .map(|_| {
                            // 20 random bits, signed, cut or widened to `bits`
                            let n = (next() >> 44) as i64 - (1 << 19);
                            let numerator = match bits <= 20 {
                                true => BigInt::from(n >> (20 - bits)),
                                false => BigInt::from(n) << (bits - 20),
                            };
                            BigRational::new(numerator, BigInt::one() << bits)
                        })
                        .collect()
                })
                .collect();
            let f64_weights: Vec<Vec<f64>> = w
                .iter()
                .map(|r| r.iter().map(crate::numbers::rational_to_f64).collect())
                .collect();
            let sigma = spectral_norm_estimate(&f64_weights);
            for relative in [0.5, 1.0 - 1e-6, 1.0, 1.0 + 1e-6, 2.0] {
                let s = crate::numbers::rational_from_f64(relative / sigma).unwrap();
                cases.push((scale(&w, &s), None));
            }
        }
        let mut decided = [0, 0];
        for (w, expected) in &cases {
            let old = spectral_norm_at_most_one(w);
            let new = integer_norm_at_most_one(w);
            assert_eq!(new, old, "{w:?}");
            if let Some(expected) = expected {
                assert_eq!(new, *expected, "{w:?}");
            }
            decided[usize::from(new)] += 1;
        }
        assert!(decided[0] >= 10 && decided[1] >= 10, "{decided:?}");
    }

    #[test]
    fn integer_gram_sums_past_i128_exactly() {
        let big = 1i128 << 100;
        let rows = [vec![big, -big, 3], vec![big - 1, big, 5]];
        let exact = |x: &[i128], y: &[i128]| -> BigInt {
            x.iter()
                .zip(y)
                .map(|(a, b)| BigInt::from(*a) * BigInt::from(*b))
                .sum()
        };
        let gram = integer_gram(&rows);
        assert_eq!(gram[0][0], exact(&rows[0], &rows[0]));
        assert_eq!(gram[0][1], exact(&rows[0], &rows[1]));
        assert_eq!(gram[1][0], gram[0][1]);
        assert_eq!(gram[1][1], exact(&rows[1], &rows[1]));
        // more rows than columns: the columns' products
        let tall = [vec![2, big], vec![-3, big], vec![5, 7]];
        let gram = integer_gram(&tall);
        assert_eq!(gram.len(), 2);
        assert_eq!(gram[0][0], BigInt::from(38));
        assert_eq!(gram[0][1], exact(&[2, -3, 5], &[big, big, 7]));
        assert_eq!(gram[1][1], exact(&[big, big, 7], &[big, big, 7]));
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
