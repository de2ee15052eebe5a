//! The pairs construction.
//!
//! Pairs (Malach et al. 2020): hidden neuron j of block i keeps input t = j mod n_{i-1}.
//! For every weight `W[m][t]` with `|W[m][t]|` >= tau_i, output m keeps one neuron j of input t
//! with `U[j][t]` > 0 and `|V[m][j] U[j][t] - W[m][t]|` < tau_i (the P path), and, where the
//! block's input can be negative, one with `U[j][t]` < 0 (the Q path). Smaller weights get no
//! path; their error is `|W[m][t]|` < tau_i. So every `E_i[m][t]` < tau_i.

use super::ConstructError;
use crate::network::{Layer, Network};
use crate::numbers::rational_from_f64;
use crate::ticket::{BlockTicket, Ticket};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed};
use rayon::prelude::*;
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE, hidden_stream, output_stream};

/// A path the f64 search found: (j, m, t, U[j][t], V[m][j]), to be confirmed exactly.
type Candidate = (u64, usize, usize, i64, i64);

/// Hidden neurons of one round of the parallel pairs search, and of one parallel piece.
const SCAN_CHUNK: u64 = 1 << 15;
const SCAN_PIECE: u64 = 1 << 12;

/// Default for how far a block's hidden neurons are scanned before giving up.
pub const DEFAULT_MAX_WIDTH: u64 = 1 << 26;

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
    let progress = crate::progress::Progress::bar(
        remaining as u64,
        format!("block {block_number}: pairs"),
        "weights reached",
    );
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
            progress.inc(1);
        }
        j = end;
        progress.message(|| format!("block {block_number}: {end} neurons scanned"));
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
}
