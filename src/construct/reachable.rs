//! A cheap estimate of the smallest epsilon a construction can reach at the widths it is
//! allowed, computed before the long search so that a request far below it fails at once.
//!
//! Method. For each block, the per-weight errors `E_i[m][t]` the construction reaches with
//! the most it may use are measured on up to [`SAMPLES`] weights of the block, spread evenly
//! over W_i, with the real sampler of g:
//!
//! * subset sum: the pools of the largest size allowed (`--pool`, else
//!   [`MAX_EXACT_POOL`], the size single inputs may grow to; fewer when given widths leave
//!   less room), assigned to inputs as the construction assigns them, and the best subset of
//!   each sampled weight's pool, as the construction solves it;
//! * pairs: the closest product V U among the neurons of the weight's input that the scan
//!   may reach (`--max-width`, or a given width, divided by n_{i-1}); at most [`PAIRS_SCAN`] of them
//!   are read and the distance is scaled by the share read (the nearest of K products in
//!   (-1, 1) lies about 1/K away), and a weight smaller than its distance keeps no path.
//!
//! The [`QUANTILE`] of a block's sampled errors is taken as its per-weight tolerance tau_i
//! and turned into a claim c_i by the model the budget steers by, at its optimistic end: for
//! format version 2, `c_i = SPECTRAL_RATIO tau_i (sqrt(rows) + sqrt(cols))` as in
//! [`super::budget::block_targets`] but with the smallest ratio measured rather than the one
//! aimed at; for version 1 the worst case `tau_i sqrt(n_i n_{i-1})` of [`super::budget::budget`]
//! divided by the loosest tolerance scale certify tries. The c_i go through the budget's
//! recursion with its Lipschitz estimates ([`super::budget::chain_of_errors`]). The
//! construction seldom uses the largest pool for every input, so what it achieves lies above
//! the estimate (measured: 5.1 times it on random-8-8-8-1 with pools up to 30, 1.4 times with
//! `--pool 3`, the best certificates `--best-effort` found); certify refuses a request below
//! the estimate divided by [`REFUSAL_FACTOR`].

use super::budget::chain_of_errors;
use super::subset_sum::{MAX_EXACT_POOL, assign_pools, best_subset};
use crate::network::Network;
use rayon::prelude::*;
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE, hidden_stream, output_stream};

/// ||M_i||_2 / (tau (sqrt(rows) + sqrt(cols))) is 0.35 to 0.48 on the committed tickets
/// ([`super::budget::AIM_RATIO`]): the estimate takes the smallest.
pub const SPECTRAL_RATIO: f64 = 0.35;

/// Weights sampled per block (all of them in a smaller block).
pub const SAMPLES: usize = 256;

/// The quantile of the sampled per-weight errors taken as a block's tolerance.
pub const QUANTILE: f64 = 0.9;

/// certify refuses an epsilon below the estimate divided by this (a request between the two
/// is tried: the estimate is rough).
pub const REFUSAL_FACTOR: f64 = 4.0;

/// Most neurons of one input the pairs estimate reads per sampled weight.
pub const PAIRS_SCAN: u64 = 1 << 14;

/// Which construction and what it may use.
#[derive(Debug, Clone)]
pub enum Allowance {
    /// subset sum with pools of at most `pool` neurons per input and sign
    SubsetSum { pool: usize },
    /// pairs scanning at most `max_width` hidden neurons per block
    Pairs { max_width: u64 },
}

/// The estimate: per block the measured per-weight tolerance and the claim it gives, and
/// the epsilon that follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Reachable {
    pub tolerances: Vec<f64>,
    pub errors: Vec<f64>,
    pub epsilon: f64,
}

/// The estimate for `target` on the ball of `radius` (see the module's comment); `widths`
/// are the user's fixed widths, when given; `version` the format version written.
#[allow(clippy::too_many_arguments)]
pub fn reachable(
    target: &Network,
    allowance: &Allowance,
    seed: &Seed,
    signed_input: bool,
    widths: Option<&[u64]>,
    radius: f64,
    spectral: bool,
    version: u64,
) -> Reachable {
    let dims = target.dims();
    let mut tolerances = Vec::with_capacity(target.layers.len());
    let mut errors = Vec::with_capacity(target.layers.len());
    for (i, layer) in target.layers.iter().enumerate() {
        let (n_in, n_out) = (dims[i], dims[i + 1]);
        let signed = i == 0 && signed_input;
        let signs = if signed { 2 } else { 1 };
        let width = widths.map(|w| w[i]);
        let weights = layer.weights_f64();
        let cells = n_in * n_out;
        let count = cells.min(SAMPLES);
        let sampled: Vec<(usize, usize)> = (0..count)
            .map(|k| {
                let cell = k * cells / count.max(1);
                (cell / n_in.max(1), cell % n_in.max(1))
            })
            .collect();
        let block_number = i + 1;
        let mut found: Vec<f64> = match allowance {
            Allowance::SubsetSum { pool } => {
                let room = width.map_or(usize::MAX, |w| {
                    usize::try_from(w / (n_in.max(1) * signs) as u64).unwrap_or(usize::MAX)
                });
                let pool = (*pool).min(MAX_EXACT_POOL).min(room);
                subset_sum_errors(
                    &sampled,
                    &weights,
                    n_in,
                    n_out,
                    block_number,
                    seed,
                    signs,
                    pool,
                )
            }
            Allowance::Pairs { max_width } => {
                let scanned = width.unwrap_or(*max_width).min(*max_width);
                let per_input = scanned / n_in.max(1) as u64;
                pairs_errors(
                    &sampled,
                    &weights,
                    n_in,
                    n_out,
                    block_number,
                    seed,
                    signs,
                    per_input,
                )
            }
        };
        found.sort_by(f64::total_cmp);
        let tau = if found.is_empty() {
            0.0
        } else {
            let at = ((found.len() as f64 * QUANTILE).ceil() as usize).clamp(1, found.len());
            found[at - 1]
        };
        let error = if version >= 2 {
            let rows = n_out.max(1) as f64;
            let cols = (n_in * signs).max(1) as f64;
            SPECTRAL_RATIO * tau * (rows.sqrt() + cols.sqrt())
        } else {
            tau * (cells.max(1) as f64).sqrt() / super::budget::LOOSEST_TOLERANCE_SCALE
        };
        tolerances.push(tau);
        errors.push(error);
    }
    let epsilon = chain_of_errors(target, radius, spectral, &errors);
    Reachable {
        tolerances,
        errors,
        epsilon,
    }
}

/// The construction's error for each sampled (m, t) with pools of `pool` (the larger of
/// the errors of the two signs of U on a signed block, as the construction counts it).
#[allow(clippy::too_many_arguments)]
fn subset_sum_errors(
    sampled: &[(usize, usize)],
    weights: &[Vec<f64>],
    n_in: usize,
    n_out: usize,
    block_number: usize,
    seed: &Seed,
    signs: usize,
    pool: usize,
) -> Vec<f64> {
    if pool == 0 || n_in == 0 {
        return sampled.iter().map(|&(m, t)| weights[m][t].abs()).collect();
    }
    let pools = assign_pools(n_in, block_number, seed, signs == 2, pool);
    let scale = WEIGHT_SCALE as f64;
    sampled
        .par_iter()
        .map(|&(m, t)| {
            let mut output = StreamReader::new(*seed, output_stream(block_number));
            (0..signs)
                .map(|s| {
                    let products: Vec<f64> = pools.pools[s][t]
                        .iter()
                        .map(|&(j, u)| {
                            let v = output.numerator(j * n_out as u64 + m as u64);
                            (v as f64 / scale) * (u as f64 / scale)
                        })
                        .collect();
                    best_subset(&products, weights[m][t]).0
                })
                .fold(0.0, f64::max)
        })
        .collect()
}

/// The pairs construction's error for each sampled (m, t) when `per_input` neurons of
/// input t may be scanned (see the module's comment).
#[allow(clippy::too_many_arguments)]
fn pairs_errors(
    sampled: &[(usize, usize)],
    weights: &[Vec<f64>],
    n_in: usize,
    n_out: usize,
    block_number: usize,
    seed: &Seed,
    signs: usize,
    per_input: u64,
) -> Vec<f64> {
    let scale = WEIGHT_SCALE as f64;
    let read = per_input.min(PAIRS_SCAN);
    // The nearest of K products lies about 1/K away: reading `read` of `per_input`.
    let shrink = if per_input == 0 {
        1.0
    } else {
        read as f64 / per_input as f64
    };
    let (n_in64, n_out64) = (n_in as u64, n_out as u64);
    sampled
        .par_iter()
        .map(|&(m, t)| {
            let w = weights[m][t];
            let mut hidden = StreamReader::new(*seed, hidden_stream(block_number));
            let mut output = StreamReader::new(*seed, output_stream(block_number));
            let mut nearest = [f64::INFINITY; 2];
            for k in 0..read {
                let j = k * n_in64 + t as u64;
                let u = hidden.numerator(j * n_in64 + t as u64);
                let s = usize::from(u < 0);
                if s >= signs {
                    continue;
                }
                let v = output.numerator(j * n_out64 + m as u64);
                let distance = (v as f64 / scale * (u as f64 / scale) - w).abs();
                nearest[s] = nearest[s].min(distance);
            }
            // A weight below its reachable distance keeps no path: its error is |w|.
            (0..signs)
                .map(|s| (nearest[s] * shrink).min(w.abs()))
                .fold(0.0, f64::max)
        })
        .collect()
}
