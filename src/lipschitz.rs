//! The builder's Lipschitz claims: Frobenius, or spectral with a witness (docs/FORMAT.md section 6).
//!
//! A spectral claim L >= ||W||_2 is proven by `L^2 I - G = R^T R + delta I + D` with
//! `||D||_F <= delta`, G the smaller Gram matrix (W W^T or W^T W). R comes from an f64
//! Cholesky factorization of `L^2 I - G - delta I`; its entries are f64, hence exact dyadic
//! rationals, and D is only the rounding error of that factorization, far below delta.

use crate::network::Layer;
use crate::numbers::{rational_from_f64, round_up_decimal, sqrt_upper};
use num_rational::BigRational;
use num_traits::Zero;

/// Significant digits of a spectral claim.
const SPECTRAL_DIGITS: u32 = 6;

/// Relative margins tried, in order, between the estimated ||W||_2 and the claim.
const MARGINS: [f64; 4] = [1e-5, 1e-4, 1e-3, 1e-2];

/// Bits of the witness factor's entries below its largest one. The rounding adds about
/// sqrt(n) 2^-FACTOR_BITS |R|^2 to each entry of D, far below the shift.
const FACTOR_BITS: i32 = 36;

/// Gram sides up to this are left to the verifier's exact elimination (no witness needed);
/// larger ones carry a witness.
pub const ELIMINATION_SIDE: usize = 32;

/// A spectral Lipschitz claim for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralClaim {
    /// L >= ||W||_2
    pub lipschitz: BigRational,
    /// (delta, rows of R) when the Gram side exceeds ELIMINATION_SIDE
    pub witness: Option<(BigRational, Vec<Vec<BigRational>>)>,
}

/// ||W||_2 estimated by power iteration on W^T W (an estimate, typically from below).
///
/// Cost: O(iterations * n_out * n_in) flops, at most 2000 iterations.
pub fn spectral_norm_estimate(weights: &[Vec<f64>]) -> f64 {
    let n_in = weights.first().map_or(0, Vec::len);
    if n_in == 0 {
        return 0.0;
    }
    let mut v: Vec<f64> = (0..n_in)
        .map(|k| 1.0 + (k as f64 * 0.618).fract())
        .collect();
    let rows = InterleavedRows::new(weights, n_in);
    let mut sigma = 0.0;
    for _ in 0..2000 {
        let wv = rows.products(&v);
        let next = column_products(weights, &wv, n_in);
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        let new_sigma = norm.sqrt();
        v = next.into_iter().map(|x| x / norm).collect();
        if (new_sigma - sigma).abs() <= 1e-13 * new_sigma {
            return new_sigma;
        }
        sigma = new_sigma;
    }
    sigma
}

/// Rows in groups of eight, each group interleaved (entry k of its eight rows side by
/// side, zero rows padding the last group) for `W v`: eight independent sums in four
/// vector registers instead of one chain of additions per row. Built once per estimate
/// (one copy of W).
struct InterleavedRows<'a> {
    weights: &'a [Vec<f64>],
    /// None for a group with a row whose length is not n_in (its rows are summed plainly)
    groups: Vec<Option<Vec<f64>>>,
    n_in: usize,
}

/// Rows per interleaved group.
const LANES: usize = 8;

impl<'a> InterleavedRows<'a> {
    fn new(weights: &'a [Vec<f64>], n_in: usize) -> Self {
        let groups = weights
            .chunks(LANES)
            .map(|rows| {
                if rows.iter().any(|row| row.len() != n_in) {
                    return None;
                }
                let mut group = vec![0.0; LANES * n_in];
                for (j, row) in rows.iter().enumerate() {
                    for (k, &a) in row.iter().enumerate() {
                        group[k * LANES + j] = a;
                    }
                }
                Some(group)
            })
            .collect();
        InterleavedRows {
            weights,
            groups,
            n_in,
        }
    }

    /// `W v`, each entry summed in the order of `row.iter().zip(v).map(|(a, b)| a * b).sum()`
    /// (so the same bits): a row's sum is one lane, its own additions in its own order.
    /// The groups are split among the threads, each row within one task.
    fn products(&self, v: &[f64]) -> Vec<f64> {
        use rayon::prelude::*;
        // The value a float sum starts from (-0.0 in today's std).
        let start: f64 = std::iter::empty::<f64>().sum();
        let plain = |row: &Vec<f64>| -> f64 { row.iter().zip(v).map(|(a, b)| a * b).sum() };
        let per_task = self
            .groups
            .len()
            .div_ceil(rayon::current_num_threads())
            .max(1);
        self.groups
            .par_chunks(per_task)
            .zip(self.weights.par_chunks(per_task * LANES))
            .flat_map_iter(|(groups, rows)| {
                let mut out = Vec::with_capacity(rows.len());
                for (group, rows) in groups.iter().zip(rows.chunks(LANES)) {
                    match group {
                        Some(group) if v.len() == self.n_in => {
                            let mut sums = [start; LANES];
                            for (entries, x) in group.chunks_exact(LANES).zip(v) {
                                for j in 0..LANES {
                                    sums[j] += entries[j] * x;
                                }
                            }
                            out.extend_from_slice(&sums[..rows.len()]);
                        }
                        _ => out.extend(rows.iter().map(plain)),
                    }
                }
                out
            })
            .collect()
    }
}

/// `W^T x` (n_in entries), each entry summed over the rows in order from +0.0, as
/// `for (row, x) in W.zip(x) { for (slot, a) in next.zip(row) { *slot += a * x } }` does
/// (so the same bits): the columns split among the threads, each entry within one task, so
/// the thread count does not change a sum.
fn column_products(weights: &[Vec<f64>], x: &[f64], n_in: usize) -> Vec<f64> {
    use rayon::prelude::*;
    let columns = n_in.div_ceil(rayon::current_num_threads()).max(1);
    let mut next = vec![0.0; n_in];
    next.par_chunks_mut(columns)
        .enumerate()
        .for_each(|(group, slots)| {
            let (first, width) = (group * columns, slots.len());
            let plain = |slots: &mut [f64], row: &[f64], x: f64| {
                for (slot, a) in slots.iter_mut().zip(row.get(first..).unwrap_or(&[])) {
                    *slot += a * x;
                }
            };
            // Four rows per pass over the group (each slot still adds row m before row
            // m + 1), so the slots are loaded and stored a quarter as often.
            let mut rows = weights.chunks_exact(4).zip(x.chunks_exact(4));
            for (four, x) in &mut rows {
                let cut = first..first + width;
                match (
                    four[0].get(cut.clone()),
                    four[1].get(cut.clone()),
                    four[2].get(cut.clone()),
                    four[3].get(cut),
                ) {
                    (Some(a), Some(b), Some(c), Some(d)) => {
                        for ((((slot, a), b), c), d) in slots.iter_mut().zip(a).zip(b).zip(c).zip(d)
                        {
                            let mut sum = *slot;
                            sum += a * x[0];
                            sum += b * x[1];
                            sum += c * x[2];
                            sum += d * x[3];
                            *slot = sum;
                        }
                    }
                    _ => {
                        for (row, &x) in four.iter().zip(x) {
                            plain(slots, row, x);
                        }
                    }
                }
            }
            let done = weights.len().min(x.len()) / 4 * 4;
            for (row, &x) in weights[done..].iter().zip(&x[done..]) {
                plain(slots, row, x);
            }
        });
    next
}

/// The smaller Gram matrix of W in f64: W W^T if n_out <= n_in, else W^T W.
fn gram(weights: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n_out = weights.len();
    let n_in = weights.first().map_or(0, Vec::len);
    if n_out <= n_in {
        (0..n_out)
            .map(|a| {
                (0..n_out)
                    .map(|b| weights[a].iter().zip(&weights[b]).map(|(x, y)| x * y).sum())
                    .collect()
            })
            .collect()
    } else {
        let mut g = vec![vec![0.0; n_in]; n_in];
        for row in weights {
            for a in 0..n_in {
                if row[a] == 0.0 {
                    continue;
                }
                for b in 0..n_in {
                    g[a][b] += row[a] * row[b];
                }
            }
        }
        g
    }
}

/// Upper-triangular R with R^T R = M (M symmetric positive definite), or None when a
/// pivot is not positive. O(n^3 / 3) flops.
#[allow(clippy::needless_range_loop)] // the factor is indexed by two coordinates
fn cholesky_upper(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut r = vec![vec![0.0; n]; n];
    for a in 0..n {
        let mut pivot = m[a][a];
        for k in 0..a {
            pivot -= r[k][a] * r[k][a];
        }
        if pivot.is_nan() || pivot <= 0.0 {
            return None;
        }
        let diagonal = pivot.sqrt();
        r[a][a] = diagonal;
        for b in a + 1..n {
            let mut entry = m[a][b];
            for k in 0..a {
                entry -= r[k][a] * r[k][b];
            }
            r[a][b] = entry / diagonal;
        }
    }
    Some(r)
}

/// A spectral claim for the layer, or None if the f64 work fails (the Frobenius bound then
/// stands). The verifier decides whether it holds; the margins leave room for rounding.
pub fn spectral_claim(layer: &Layer) -> Option<SpectralClaim> {
    spectral_claim_of(&layer.weights_f64())
}

/// A spectral claim `L >= ||A||_2` for any matrix given in f64 by rows (a layer's W_i, or
/// version 2's error matrix M_i of docs/FORMAT.md section 12.2), with the same witness.
pub fn spectral_claim_of(weights: &[Vec<f64>]) -> Option<SpectralClaim> {
    let sigma = spectral_norm_estimate(weights);
    if sigma == 0.0 || !sigma.is_finite() {
        return None;
    }
    let side = weights.len().min(weights.first().map_or(0, Vec::len));
    let g = gram(weights);
    for margin in MARGINS {
        let lipschitz =
            round_up_decimal(&rational_from_f64(sigma * (1.0 + margin))?, SPECTRAL_DIGITS);
        if side <= ELIMINATION_SIDE {
            return Some(SpectralClaim {
                lipschitz,
                witness: None,
            });
        }
        let l = crate::numbers::rational_to_f64(&lipschitz);
        let l2 = l * l;
        let shift = (l2 - sigma * sigma) / 2.0;
        if shift.is_nan() || shift <= 0.0 {
            continue;
        }
        let m: Vec<Vec<f64>> = g
            .iter()
            .enumerate()
            .map(|(a, row)| {
                row.iter()
                    .enumerate()
                    .map(|(b, &x)| if a == b { l2 - shift - x } else { -x })
                    .collect()
            })
            .collect();
        let Some(r) = cholesky_upper(&m) else {
            continue;
        };
        // Entries on one grid of 2^-FACTOR_BITS relative to the largest keep every product
        // of the verifier's R^T R within 2^(2 FACTOR_BITS + 2): machine integers suffice.
        let largest = r.iter().flatten().fold(0.0f64, |a, x| a.max(x.abs()));
        let unit = 2f64.powi(largest.log2().ceil() as i32 - FACTOR_BITS);
        let factor: Option<Vec<Vec<BigRational>>> = r
            .iter()
            .enumerate()
            .map(|(a, row)| {
                row[a..]
                    .iter()
                    .map(|&x| rational_from_f64((x / unit).round() * unit))
                    .collect()
            })
            .collect();
        return Some(SpectralClaim {
            lipschitz,
            witness: Some((rational_from_f64(shift)?, factor?)),
        });
    }
    None
}

/// The Frobenius claim: the smallest few-digit L with L^2 >= sum W^2.
pub fn frobenius_claim(layer: &Layer, digits: u32) -> BigRational {
    let square = layer.frobenius_squared();
    if square.is_zero() {
        return BigRational::zero();
    }
    sqrt_upper(&square, digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Activation;
    use num_bigint::BigInt;

    fn layer_of(weights: Vec<Vec<f64>>) -> Layer {
        Layer {
            weights: weights
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|x| rational_from_f64(x).unwrap())
                        .collect()
                })
                .collect(),
            activation: Activation::Relu,
        }
    }

    #[test]
    fn row_products_match_the_plain_sums_bit_for_bit() {
        // 23 rows: two full groups of eight and a padded one; then a short row and a long
        // one in the second group
        let mut weights: Vec<Vec<f64>> = (0..23)
            .map(|m| {
                (0..37)
                    .map(|t| ((m * 37 + t) as f64 * 0.7193).sin() / 3.0)
                    .collect()
            })
            .collect();
        let v: Vec<f64> = (0..37).map(|t| (t as f64 * 1.3).cos()).collect();
        let bits = |x: &[f64]| x.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        for ragged in [false, true] {
            if ragged {
                weights[9].truncate(20);
                weights[12].push(0.5);
            }
            let plain: Vec<f64> = weights
                .iter()
                .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum())
                .collect();
            let rows = InterleavedRows::new(&weights, 37);
            assert_eq!(
                rows.groups.iter().filter(|g| g.is_none()).count(),
                usize::from(ragged)
            );
            assert_eq!(bits(&rows.products(&v)), bits(&plain));
            // one thread, and more threads than groups
            for threads in [1, 5] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                assert_eq!(bits(&pool.install(|| rows.products(&v))), bits(&plain));
            }
        }
    }

    #[test]
    fn column_products_match_the_plain_sums_bit_for_bit() {
        // 150 columns; a short row and a long one too.
        let mut weights: Vec<Vec<f64>> = (0..29)
            .map(|m| {
                (0..150)
                    .map(|t| ((m * 150 + t) as f64 * 0.3817).sin() / 5.0)
                    .collect()
            })
            .collect();
        weights[3].truncate(70);
        weights[5].push(0.25);
        let x: Vec<f64> = (0..29).map(|m| (m as f64 * 0.77).cos() - 0.1).collect();
        let mut plain = vec![0.0; 150];
        for (row, x) in weights.iter().zip(&x) {
            for (slot, a) in plain.iter_mut().zip(row) {
                *slot += a * x;
            }
        }
        let bits = |x: &[f64]| x.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&column_products(&weights, &x, 150)), bits(&plain));
        // one thread and more give the same bits
        for threads in [1, 3, 7] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let products = pool.install(|| column_products(&weights, &x, 150));
            assert_eq!(bits(&products), bits(&plain));
        }
    }

    #[test]
    fn power_iteration_finds_a_known_norm() {
        // [[3, 0], [4, 5]] has singular values sqrt(45) and sqrt(5).
        let sigma = spectral_norm_estimate(&[vec![3.0, 0.0], vec![4.0, 5.0]]);
        assert!((sigma - 45f64.sqrt()).abs() < 1e-9, "{sigma}");
    }

    #[test]
    fn cholesky_reproduces_its_matrix() {
        let m = vec![
            vec![4.0, 2.0, 0.4],
            vec![2.0, 5.0, 1.0],
            vec![0.4, 1.0, 3.0],
        ];
        let r = cholesky_upper(&m).unwrap();
        for a in 0..3 {
            for b in 0..3 {
                let product: f64 = (0..3).map(|k| r[k][a] * r[k][b]).sum();
                assert!((product - m[a][b]).abs() < 1e-12);
            }
        }
        assert!(cholesky_upper(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }

    #[test]
    fn witness_of_a_wide_layer_has_the_spec_shape() {
        let n = ELIMINATION_SIDE + 3;
        let weights: Vec<Vec<f64>> = (0..n)
            .map(|a| {
                (0..n + 5)
                    .map(|b| ((a * 7 + b * 3) % 11) as f64 / 16.0 - 0.3)
                    .collect()
            })
            .collect();
        let layer = layer_of(weights);
        let claim = spectral_claim(&layer).unwrap();
        let (shift, factor) = claim.witness.unwrap();
        assert!(shift > BigRational::zero());
        assert_eq!(factor.len(), n);
        assert!(factor.iter().enumerate().all(|(a, row)| row.len() == n - a));
        // The claim is below Frobenius for this layer and above the estimate.
        let frobenius = frobenius_claim(&layer, 6);
        assert!(claim.lipschitz < frobenius);
        let estimate = spectral_norm_estimate(&layer.weights_f64());
        assert!(claim.lipschitz >= rational_from_f64(estimate).unwrap());
        let _ = BigInt::from(0);
    }
}
