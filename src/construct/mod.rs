//! The constructions that choose a ticket, and the tolerance budget that steers them.
//!
//! Pairs (Malach et al. 2020): hidden neuron j of block i keeps input t = j mod n_{i-1}.
//! For every weight `W[m][t]` with `|W[m][t]|` >= tau_i, output m keeps one neuron j of input t
//! with `U[j][t]` > 0 and `|V[m][j] U[j][t] - W[m][t]|` < tau_i (the P path), and, where the
//! block's input can be negative, one with `U[j][t]` < 0 (the Q path). Smaller weights get no
//! path; their error is `|W[m][t]|` < tau_i. So every `E_i[m][t]` < tau_i.

pub mod subset_sum;

use rayon::prelude::*;

use crate::network::{Layer, Network};
use crate::numbers::{rational_from_f64, rational_to_f64};
use crate::sampler::{Seed, StreamReader, WEIGHT_SCALE, hidden_stream, output_stream};
use crate::ticket::{BlockTicket, Ticket};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed};

/// A path the f64 search found: (j, m, t, U[j][t], V[m][j]), to be confirmed exactly.
type Candidate = (u64, usize, usize, i64, i64);

/// Hidden neurons of one round of the parallel pairs search, and of one parallel piece.
const SCAN_CHUNK: u64 = 1 << 15;
const SCAN_PIECE: u64 = 1 << 12;

/// Default for how far a block's hidden neurons are scanned before giving up.
pub const DEFAULT_MAX_WIDTH: u64 = 1 << 26;

/// Why no ticket was built.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstructError {
    /// A target weight no single product of two weights in (-1, 1) can reach.
    Unreachable {
        block: usize,
        m: usize,
        t: usize,
        weight: f64,
    },
    /// No path within the scanned width.
    TooNarrow {
        block: usize,
        m: usize,
        t: usize,
        weight: f64,
        tolerance: f64,
        scanned: u64,
    },
    /// The subset-sum pool cannot bring some weight within tolerance.
    PoolTooSmall {
        block: usize,
        m: usize,
        t: usize,
        weight: f64,
        tolerance: f64,
        pool: usize,
        /// the smallest pool that works, when one up to the largest tried does
        needed: Option<usize>,
    },
    /// The user fixed a width smaller than the construction needs.
    WidthTooSmall {
        block: usize,
        width: u64,
        needed: u64,
        tolerance: f64,
    },
}

/// A target weight for a message (one too large for f64 cannot be reached by any subset).
fn shown(weight: f64) -> String {
    if weight.is_finite() {
        weight.to_string()
    } else {
        "a number beyond f64's range (no subset of random weights reaches it; scale the network down)"
            .to_string()
    }
}

impl std::fmt::Display for ConstructError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConstructError::Unreachable {
                block,
                m,
                t,
                weight,
            } => write!(
                f,
                "block {block}: target weight W_{block}[{m}][{t}] = {weight} has |w| >= 1, which one product \
                 V*U of two weights in (-1, 1) cannot reach (the pairs construction needs |w| < 1; \
                 scale the layer down or use a construction that sums several paths)"
            ),
            ConstructError::TooNarrow {
                block,
                m,
                t,
                weight,
                tolerance,
                scanned,
            } => write!(
                f,
                "block {block}: no path for W_{block}[{m}][{t}] = {} within tolerance {tolerance:.3e} among \
                 the first {scanned} hidden neurons; raise --max-width or --epsilon",
                shown(*weight)
            ),
            ConstructError::PoolTooSmall {
                block,
                m,
                t,
                weight,
                tolerance,
                pool,
                needed,
            } => {
                write!(
                    f,
                    "block {block}: a pool of {pool} hidden neurons per input leaves W_{block}[{m}][{t}] = {} \
                     farther than the tolerance {tolerance:.3e} from every subset sum; ",
                    shown(*weight)
                )?;
                match needed {
                    Some(n) => write!(f, "the pool would have to hold {n} neurons (--pool {n})"),
                    None => write!(
                        f,
                        "pools up to {} neurons do not suffice (raise --epsilon or --tolerance)",
                        subset_sum::MAX_EXACT_POOL
                    ),
                }
            }
            ConstructError::WidthTooSmall {
                block,
                width,
                needed,
                tolerance,
            } => write!(
                f,
                "block {block}: --width {width} is too small; the construction at per-weight \
                 tolerance {tolerance:.3e} needs width {needed} for this block"
            ),
        }
    }
}

impl std::error::Error for ConstructError {}

/// Per-block tolerances tau_i whose worst case meets `epsilon`.
///
/// Every `E_i[m][t]` < tau_i gives c_i <= tau_i sqrt(n_i n_{i-1}). Blocks get equal shares of
/// the first-order bound r sum_i c_i prod_{k != i} L_k; a bisection on the common scale
/// makes the exact recursion of spec section 5 (in f64, with L_i rounded up) land at
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

/// Settings of the pairs construction.
#[derive(Debug, Clone)]
pub struct PairsSettings {
    pub seed: Seed,
    /// tau_i per block
    pub tolerances: Vec<f64>,
    /// whether block 1's input can be negative (false for a non-negative domain)
    pub signed_input: bool,
    /// user-fixed widths, one per block
    pub widths: Option<Vec<u64>>,
    /// how many hidden neurons a block may scan at most
    pub max_width: u64,
}

/// Settings of the subset-sum construction.
#[derive(Debug, Clone)]
pub struct SubsetSumSettings {
    pub seed: Seed,
    /// tau_i per block: every `E_i[m][t]` must come out <= tau_i
    pub tolerances: Vec<f64>,
    pub signed_input: bool,
    pub widths: Option<Vec<u64>>,
    /// a fixed pool size (neurons per input and sign of U), or None to find the smallest
    pub pool: Option<usize>,
}

/// Builds the subset-sum ticket for every block; returns it with the pool size per block.
pub fn subset_sum(
    target: &Network,
    settings: &SubsetSumSettings,
) -> Result<(Ticket, Vec<usize>), ConstructError> {
    let dims = target.dims();
    let mut blocks = Vec::with_capacity(target.layers.len());
    let mut pools = Vec::with_capacity(target.layers.len());
    for (i, layer) in target.layers.iter().enumerate() {
        let block_number = i + 1;
        let tolerance = settings.tolerances[i];
        let signed = i == 0 && settings.signed_input;
        let seed = &settings.seed;
        let (pool, result) = match settings.pool {
            Some(pool) => {
                let aim = tolerance * (1.0 - 1e-9);
                match subset_sum::build_block(
                    layer,
                    dims[i],
                    block_number,
                    seed,
                    signed,
                    pool,
                    pool,
                    aim,
                    false,
                ) {
                    Ok(result) => (pool, result),
                    Err(
                        subset_sum::BlockFailure::BaseTooSmall { m, t }
                        | subset_sum::BlockFailure::Unreachable { m, t },
                    ) => {
                        let needed = subset_sum::smallest_pool(
                            layer,
                            dims[i],
                            block_number,
                            seed,
                            signed,
                            tolerance,
                            pool + 1,
                            subset_sum::MAX_EXACT_POOL,
                        )
                        .ok()
                        .map(|(n, _)| n);
                        return Err(ConstructError::PoolTooSmall {
                            block: block_number,
                            m,
                            t,
                            weight: layer.weights_f64()[m][t],
                            tolerance,
                            pool,
                            needed,
                        });
                    }
                }
            }
            None => subset_sum::smallest_pool(
                layer,
                dims[i],
                block_number,
                seed,
                signed,
                tolerance,
                subset_sum::first_pool_guess(layer, tolerance),
                subset_sum::DEFAULT_MAX_POOL,
            )?,
        };
        let width = result.ticket.width();
        if let Some(fixed) = settings.widths.as_ref().map(|w| w[i])
            && width > fixed
        {
            return Err(ConstructError::WidthTooSmall {
                block: block_number,
                width: fixed,
                needed: width,
                tolerance,
            });
        }
        blocks.push(result.ticket);
        pools.push(pool);
    }
    Ok((Ticket { blocks }, pools))
}

/// Builds the pairs ticket for every block.
pub fn pairs(target: &Network, settings: &PairsSettings) -> Result<Ticket, ConstructError> {
    let dims = target.dims();
    let mut blocks = Vec::with_capacity(target.layers.len());
    for (i, layer) in target.layers.iter().enumerate() {
        let block_number = i + 1;
        let tolerance = settings.tolerances[i];
        let signed = i == 0 && settings.signed_input;
        let fixed = settings.widths.as_ref().map(|w| w[i]);
        let block = pairs_block(
            layer,
            dims[i],
            block_number,
            &settings.seed,
            tolerance,
            signed,
            settings.max_width,
        )?;
        if let Some(width) = fixed
            && block.width() > width
        {
            return Err(ConstructError::WidthTooSmall {
                block: block_number,
                width,
                needed: block.width(),
                tolerance,
            });
        }
        blocks.push(block);
    }
    Ok(Ticket { blocks })
}

/// The pairs ticket of one block: scan j = 0, 1, ... and give each open (m, t, sign of U)
/// the first neuron that serves it.
///
/// Cost: one U weight per scanned neuron and one V weight per open output of its input,
/// i.e. O(width * n_i / n_{i-1}) sampler calls at worst.
#[allow(clippy::needless_range_loop)] // several arrays share the index
pub fn pairs_block(
    layer: &Layer,
    n_in: usize,
    block_number: usize,
    seed: &Seed,
    tolerance: f64,
    signed: bool,
    max_width: u64,
) -> Result<BlockTicket, ConstructError> {
    let n_out = layer.outputs();
    let mut block = BlockTicket::default();
    if n_in == 0 || n_out == 0 {
        return Ok(block);
    }
    let targets = layer.weights_f64();
    let tolerance_exact = rational_from_f64(tolerance).unwrap_or_else(BigRational::one);
    // open[s][m * n_in + t]: W[m][t] still needs a path through a neuron with sign s of U
    // (s = 0: U > 0, s = 1: U < 0); open_per_input[s][t] counts them.
    let mut open = [vec![false; n_in * n_out], vec![false; n_in * n_out]];
    let mut open_per_input = [vec![0usize; n_in], vec![0usize; n_in]];
    let mut remaining = 0usize;
    for (m, row) in layer.weights.iter().enumerate() {
        for (t, w) in row.iter().enumerate() {
            if w.abs() < tolerance_exact {
                continue;
            }
            if w.abs() >= BigRational::one() {
                return Err(ConstructError::Unreachable {
                    block: block_number,
                    m,
                    t,
                    weight: targets[m][t],
                });
            }
            for s in 0..if signed { 2 } else { 1 } {
                open[s][m * n_in + t] = true;
                open_per_input[s][t] += 1;
                remaining += 1;
            }
        }
    }
    let scale = WEIGHT_SCALE as f64;
    let (n_in64, n_out64) = (n_in as u64, n_out as u64);
    let mut j: u64 = 0;
    while remaining > 0 {
        if j >= max_width {
            let at = (0..2)
                .flat_map(|s| (0..n_in * n_out).map(move |at| (s, at)))
                .find(|&(s, at)| open[s][at])
                .map_or(0, |(_, at)| at);
            let (m, t) = (at / n_in, at % n_in);
            return Err(ConstructError::TooNarrow {
                block: block_number,
                m,
                t,
                weight: targets[m][t],
                tolerance,
                scanned: max_width,
            });
        }
        // The f64 search of neurons j..end runs in parallel pieces against the needs open
        // now; the merge below walks the candidates in order of j and confirms them
        // exactly, so every need gets the first neuron that serves it, as a sequential
        // scan would give it, whatever the number of threads.
        let end = (j + SCAN_CHUNK).min(max_width);
        let pieces: Vec<(u64, u64)> = (j..end)
            .step_by(SCAN_PIECE as usize)
            .map(|start| (start, (start + SCAN_PIECE).min(end)))
            .collect();
        let candidates: Vec<Vec<Candidate>> = pieces
            .par_iter()
            .map(|&(start, stop)| {
                let mut hidden = StreamReader::new(*seed, hidden_stream(block_number));
                let mut output = StreamReader::new(*seed, output_stream(block_number));
                let mut found = Vec::new();
                for jj in start..stop {
                    let t = (jj % n_in64) as usize;
                    let u = hidden.numerator(jj * n_in64 + t as u64);
                    let s = usize::from(u < 0);
                    if open_per_input[s][t] == 0 {
                        continue;
                    }
                    let uf = u as f64 / scale;
                    for m in 0..n_out {
                        if !open[s][m * n_in + t] {
                            continue;
                        }
                        let v = output.numerator(jj * n_out64 + m as u64);
                        // f64 filter with a margin for rounding; the exact test decides.
                        if (v as f64 / scale * uf - targets[m][t]).abs() < tolerance * (1.0 + 1e-9)
                        {
                            found.push((jj, m, t, u, v));
                        }
                    }
                }
                found
            })
            .collect();
        for (jj, m, t, u, v) in candidates.into_iter().flatten() {
            let s = usize::from(u < 0);
            let at = m * n_in + t;
            if !open[s][at] || !within_tolerance(v, u, &layer.weights[m][t], &tolerance_exact) {
                continue;
            }
            block.hidden.insert(jj, (t as u64, u));
            block.output.insert((m as u64, jj), v);
            open[s][at] = false;
            open_per_input[s][t] -= 1;
            remaining -= 1;
        }
        j = end;
    }
    Ok(block)
}

/// Exactly: |V U - w| < tau, with V, U numerators over 2^53.
pub fn within_tolerance(v: i64, u: i64, w: &BigRational, tolerance: &BigRational) -> bool {
    let product = BigRational::new(BigInt::from(v as i128 * u as i128), BigInt::one() << 106);
    (product - w).abs() < *tolerance
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Activation;

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
    fn every_weight_gets_paths_within_tolerance() {
        let l = layer(vec![vec![q(1, 2), q(-1, 3)], vec![q(0, 1), q(1, 5)]]);
        let tau = 0.01;
        let block = pairs_block(&l, 2, 1, &Seed::from_u64(5), tau, true, 1 << 20).unwrap();
        // Two paths for each of the three non-zero weights, none for the zero one.
        assert_eq!(block.output.len(), 6);
        for (&(m, j), &v) in &block.output {
            let (t, u) = block.hidden[&j];
            assert_eq!(t, j % 2, "neuron {j} keeps input j mod n");
            let w = &l.weights[m as usize][t as usize];
            assert!(within_tolerance(v, u, w, &rational_from_f64(tau).unwrap()));
        }
        let d = crate::bound::deviation(&l, &block, 2, true).unwrap();
        assert!(d.max < rational_from_f64(tau).unwrap());
    }

    #[test]
    fn nonnegative_blocks_keep_one_positive_path() {
        let l = layer(vec![vec![q(1, 2), q(-1, 3)]]);
        let block = pairs_block(&l, 2, 2, &Seed::from_u64(5), 0.01, false, 1 << 20).unwrap();
        assert_eq!(block.output.len(), 2);
        assert!(block.hidden.values().all(|&(_, u)| u > 0));
    }

    #[test]
    fn large_weights_are_refused_clearly() {
        let l = layer(vec![vec![q(3, 2)]]);
        let error = pairs_block(&l, 1, 1, &Seed::from_u64(5), 0.01, true, 1 << 20).unwrap_err();
        assert!(error.to_string().contains("|w| >= 1"), "{error}");
    }

    #[test]
    fn a_too_small_scan_names_the_weight() {
        let l = layer(vec![vec![q(1, 2)]]);
        let error = pairs_block(&l, 1, 1, &Seed::from_u64(5), 1e-6, true, 100).unwrap_err();
        assert!(
            matches!(error, ConstructError::TooNarrow { m: 0, t: 0, .. }),
            "{error}"
        );
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
