//! The subset-sum construction (Pensia et al., NeurIPS 2020; Lueker's random subset sum).
//!
//! Each input t of block i owns a pool of p hidden neurons with U > 0 (and, where the
//! block's input can be negative, p more with U < 0). For every weight `W[m][t]` the output m
//! keeps the subset S of the pool whose products `V[m][j] U[j][t]` sum closest to `W[m][t]`:
//! `P[m][t]` = sum over S of V U. Since p random products reach any target in their range to
//! within about 2^-p, O(log(1/tau)) neurons per input suffice where the pairs construction
//! needs O(1/tau).

use super::ConstructError;
use crate::network::{Layer, Network};
use crate::ticket::BlockTicket;
use crate::ticket::Ticket;
use rayon::prelude::*;
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE, hidden_stream, output_stream};

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
    /// a weight that misses its tolerance even with the largest pool keeps its best subset
    /// instead of failing the block: the block's error norm, which the claims bound, decides
    /// (format version 2's aimed search)
    pub lenient: bool,
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
                match build_block(
                    layer,
                    dims[i],
                    block_number,
                    seed,
                    signed,
                    pool,
                    pool,
                    aim,
                    false,
                    settings.lenient,
                ) {
                    Ok(result) => (pool, result),
                    Err(
                        BlockFailure::BaseTooSmall { m, t } | BlockFailure::Unreachable { m, t },
                    ) => {
                        let needed = smallest_pool(
                            layer,
                            dims[i],
                            block_number,
                            seed,
                            signed,
                            tolerance,
                            pool + 1,
                            MAX_EXACT_POOL,
                            false,
                            false,
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
            None => {
                // a small block is cheap to build several times: search for its best base
                let search = dims[i] * dims[i + 1] <= SEARCHED_BLOCK_WEIGHTS;
                let above = if search { 0 } else { BASE_ABOVE_GUESS };
                smallest_pool(
                    layer,
                    dims[i],
                    block_number,
                    seed,
                    signed,
                    tolerance,
                    first_pool_guess(layer, tolerance) + above,
                    DEFAULT_MAX_POOL,
                    settings.lenient,
                    search,
                )?
            }
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

/// Largest pool the exact meet-in-the-middle search handles (2^(p/2) sums per half; masks
/// are u32).
pub const MAX_EXACT_POOL: usize = 30;

/// Largest base pool (shared by every input) tried when the size is chosen automatically;
/// single inputs may still grow to MAX_EXACT_POOL.
pub const DEFAULT_MAX_POOL: usize = 24;

/// The automatic base pool of a block with more than SEARCHED_BLOCK_WEIGHTS weights:
/// first_pool_guess plus this, built once. A smaller base leaves more weights to
/// `grow_targeted`, which places neurons better but scores every missed weight: 784-500 at
/// 0.01 gives 11.60 neurons per input from base 5 (the guess), 11.88 from 7 in about half
/// the time.
const BASE_ABOVE_GUESS: usize = 2;

/// Blocks with at most this many weights search for their narrowest base pool from
/// first_pool_guess upward (a build costs milliseconds there).
const SEARCHED_BLOCK_WEIGHTS: usize = 1 << 16;

/// The pools of one block: `pools[s][t]` lists (j, `U[j][t]`) with s = 0 for U > 0, 1 for U < 0.
#[derive(Debug, Clone)]
pub struct Pools {
    pub pools: [Vec<Vec<(u64, i64)>>; 2],
    /// smallest width of g that holds every pooled neuron
    pub width: u64,
}

impl Pools {
    /// Grows the pools of `inputs` to `size` neurons per sign with neurons j >= width,
    /// chosen as in `assign_pools` among these inputs only.
    pub fn extend(
        &mut self,
        inputs: &[usize],
        size: usize,
        block_number: usize,
        seed: &Seed,
        signed: bool,
    ) {
        let signs = if signed { 2 } else { 1 };
        let n = self.pools[0].len() as u64;
        let mut open: usize = inputs
            .iter()
            .map(|&t| {
                (0..signs)
                    .map(|s| size.saturating_sub(self.pools[s][t].len()))
                    .sum::<usize>()
            })
            .sum();
        let mut hidden = StreamReader::new(*seed, hidden_stream(block_number));
        let mut j = self.width;
        while open > 0 {
            let mut best: Option<(usize, usize, i64)> = None;
            for &t in inputs {
                let u = hidden.numerator(j * n + t as u64);
                let s = usize::from(u < 0);
                if s < signs
                    && self.pools[s][t].len() < size
                    && best.is_none_or(|(_, _, b)| u.abs() > b.abs())
                {
                    best = Some((s, t, u));
                }
            }
            if let Some((s, t, u)) = best {
                self.pools[s][t].push((j, u));
                open -= 1;
            }
            j += 1;
        }
        self.width = j;
    }
}

/// Assigns hidden neurons j = 0, 1, ... to pools: j keeps, among the inputs t whose pool
/// of the sign of `U[j][t]` still has room, the one with the largest `|U[j][t]|`; in a block with
/// non-negative input only U > 0 pools exist.
///
/// Any assignment is allowed (each neuron keeps one input), and a large |U| makes the
/// products V U spread over (-1, 1) instead of crowding near 0, so fewer of them reach
/// every target. Costs n_{i-1} weights of U per scanned neuron.
#[allow(clippy::needless_range_loop)] // several arrays share the index
pub fn assign_pools(
    n_in: usize,
    block_number: usize,
    seed: &Seed,
    signed: bool,
    pool: usize,
) -> Pools {
    let signs = if signed { 2 } else { 1 };
    let mut pools: [Vec<Vec<(u64, i64)>>; 2] = [vec![Vec::new(); n_in], vec![Vec::new(); n_in]];
    let mut open = n_in * signs * pool;
    let mut hidden = StreamReader::new(*seed, hidden_stream(block_number));
    let n = n_in as u64;
    let mut j: u64 = 0;
    while open > 0 {
        let mut best: Option<(usize, usize, i64)> = None;
        for t in 0..n_in {
            let u = hidden.numerator(j * n + t as u64);
            let s = usize::from(u < 0);
            if s < signs
                && pools[s][t].len() < pool
                && best.is_none_or(|(_, _, b)| u.abs() > b.abs())
            {
                best = Some((s, t, u));
            }
        }
        if let Some((s, t, u)) = best {
            pools[s][t].push((j, u));
            open -= 1;
        }
        j += 1;
    }
    Pools { pools, width: j }
}

/// The best subset of `products` for `target`: (error, mask), smallest error first, then
/// fewest elements.
///
/// Meet in the middle: the 2^h subset sums of the first half against the sorted 2^(p-h)
/// sums of the second; O(2^(p/2) p) per call.
pub fn best_subset(products: &[f64], target: f64) -> (f64, u32) {
    let h = products.len() / 2;
    let left = subset_sums(&products[..h]);
    let mut right = subset_sums(&products[h..]);
    right.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.count_ones().cmp(&b.1.count_ones()))
    });
    let mut best = (f64::INFINITY, 0u32, u32::MAX);
    for &(a, mask_a) in &left {
        let want = target - a;
        let at = right.partition_point(|&(b, _)| b < want);
        for k in [at.wrapping_sub(1), at] {
            if let Some(&(b, mask_b)) = right.get(k) {
                let mask = mask_a | (mask_b << h);
                let error = (a + b - target).abs();
                let count = mask.count_ones();
                if error < best.0 || (error == best.0 && count < best.2) {
                    best = (error, mask, count);
                }
            }
        }
    }
    (best.0, best.1)
}

/// All 2^k subset sums of `values` with their masks.
fn subset_sums(values: &[f64]) -> Vec<(f64, u32)> {
    let mut sums = Vec::with_capacity(1 << values.len());
    sums.push((0.0, 0u32));
    for (k, &v) in values.iter().enumerate() {
        let len = sums.len();
        for i in 0..len {
            let (s, mask) = sums[i];
            sums.push((s + v, mask | (1 << k)));
        }
    }
    sums
}

/// One block at pool size `pool`: the ticket and the largest f64 error with its (m, t).
pub struct BlockResult {
    pub ticket: BlockTicket,
    pub max_error: f64,
    pub worst: (usize, usize),
    /// neurons per input (per sign of U) after extension
    pub pool_sizes: Vec<usize>,
}

/// Outputs solved together between two checks for an early stop; a fixed chunking keeps
/// the result (and which failure is reported) independent of the number of threads.
const OUTPUT_CHUNK: usize = 32;

/// Neurons added at a time to the pools of inputs that miss the tolerance.
const EXTENSION_STEP: usize = 2;

/// A base pool size is rejected when more than this share of inputs need extending.
const MAX_EXTENDED_SHARE: f64 = 0.125;

/// The chosen subset for one weight W[m][t]: its f64 error and (j, V[m][j]) per kept edge.
#[derive(Debug, Clone, Default)]
struct Choice {
    error: f64,
    kept: Vec<(u64, i64)>,
}

/// Why a block could not be built at some pool size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockFailure {
    /// too many inputs miss the tolerance at this base pool (only with `strict`)
    BaseTooSmall { m: usize, t: usize },
    /// weight (m, t) misses the tolerance even with a pool of `max_pool`
    Unreachable { m: usize, t: usize },
}

/// Builds block `block_number`: pools of `pool` neurons per input and sign; then, for the
/// weights `W[m][t]` that miss `tolerance`, input t's pool grows by the neurons that fix
/// most of its missed weights (`grow_targeted`, up to TRACKED_POOL), then, for any weight
/// still missed, by EXTENSION_STEP neurons at a time up to `max_pool`; only those weights
/// are solved again (a larger pool never does worse).
///
/// With `strict`, a base pool that leaves more than MAX_EXTENDED_SHARE of the inputs to be
/// extended is refused early, so that the smallest workable base is found cheaply. With
/// `lenient`, weights still missing the tolerance at `max_pool` keep their best subsets.
#[allow(clippy::too_many_arguments)]
pub fn build_block(
    layer: &Layer,
    n_in: usize,
    block_number: usize,
    seed: &Seed,
    signed: bool,
    pool: usize,
    max_pool: usize,
    tolerance: f64,
    strict: bool,
    lenient: bool,
) -> Result<BlockResult, BlockFailure> {
    let n_out = layer.outputs();
    if n_in == 0 || n_out == 0 || pool == 0 {
        let (max_error, (m, t)) = largest_weight(layer);
        if max_error > tolerance {
            return Err(BlockFailure::Unreachable { m, t });
        }
        return Ok(BlockResult {
            ticket: BlockTicket::default(),
            max_error,
            worst: (m, t),
            pool_sizes: vec![0; n_in],
        });
    }
    let max_pool = max_pool.min(MAX_EXACT_POOL);
    let mut pools = assign_pools(n_in, block_number, seed, signed, pool);
    let targets = layer.weights_f64();
    let signs = if signed { 2 } else { 1 };
    let all_inputs: Vec<usize> = (0..n_in).collect();
    let mut choices: Vec<Vec<Choice>> = vec![Vec::new(); n_out];
    let allowed_inputs = if strict {
        (MAX_EXTENDED_SHARE * n_in as f64).ceil() as usize
    } else {
        n_in
    };
    let mut failing_inputs = std::collections::BTreeSet::new();
    let progress = crate::progress::Progress::bar(
        (n_out * n_in) as u64,
        format!("block {block_number}: base pool {pool}"),
        "weights",
    );
    for chunk_start in (0..n_out).step_by(OUTPUT_CHUNK) {
        let chunk = chunk_start..(chunk_start + OUTPUT_CHUNK).min(n_out);
        let solved: Vec<Vec<Choice>> = chunk
            .into_par_iter()
            .map(|m| {
                let inputs: Vec<(usize, f64)> =
                    all_inputs.iter().map(|&t| (t, targets[m][t])).collect();
                let row = solve_weights(&pools, &inputs, m, n_out, block_number, seed, signs);
                progress.inc(n_in as u64);
                row
            })
            .collect();
        for (offset, row) in solved.into_iter().enumerate() {
            failing_inputs.extend(
                row.iter()
                    .enumerate()
                    .filter(|(_, c)| c.error > tolerance)
                    .map(|(t, _)| t),
            );
            choices[chunk_start + offset] = row;
        }
        if failing_inputs.len() > allowed_inputs {
            let (m, t) = worst_of(&choices);
            return Err(BlockFailure::BaseTooSmall { m, t });
        }
    }
    let mut failing: Vec<(usize, usize)> = (0..n_out)
        .flat_map(|m| failing_inputs.iter().map(move |&t| (m, t)))
        .filter(|&(m, t)| choices[m][t].error > tolerance)
        .collect();
    if !failing.is_empty() && max_pool > pool {
        grow_targeted(
            &mut pools,
            &failing,
            &targets,
            tolerance,
            max_pool.min(TRACKED_POOL),
            (n_out, block_number, seed, signs),
            &progress,
        );
        failing = solve_again(
            &pools,
            &failing,
            &targets,
            &mut choices,
            tolerance,
            (n_out, block_number, seed, signs),
            &progress,
        );
    }
    // Weights the targeted growth left failing (pools past TRACKED_POOL): their inputs'
    // pools grow EXTENSION_STEP neurons at a time.
    let mut size = failing
        .iter()
        .flat_map(|&(_, t)| (0..signs).map(move |s| (s, t)))
        .map(|(s, t)| pools.pools[s][t].len())
        .max()
        .unwrap_or(pool)
        .max(pool);
    while !failing.is_empty() {
        if size >= max_pool && lenient {
            break;
        }
        if size >= max_pool {
            let &(m, t) = failing
                .iter()
                .max_by(|a, b| choices[a.0][a.1].error.total_cmp(&choices[b.0][b.1].error))
                .unwrap_or(&(0, 0));
            return Err(BlockFailure::Unreachable { m, t });
        }
        size = (size + EXTENSION_STEP).min(max_pool);
        let inputs: Vec<usize> = failing
            .iter()
            .map(|&(_, t)| t)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        pools.extend(&inputs, size, block_number, seed, signed);
        progress.message(|| {
            format!(
                "block {block_number}: pools of {} inputs grown to {size}",
                inputs.len()
            )
        });
        failing = solve_again(
            &pools,
            &failing,
            &targets,
            &mut choices,
            tolerance,
            (n_out, block_number, seed, signs),
            &progress,
        );
    }
    let (m, t) = worst_of(&choices);
    let max_error = choices[m][t].error;
    let hidden_of: std::collections::HashMap<u64, (u64, i64)> = (0..signs)
        .flat_map(|s| {
            pools.pools[s]
                .iter()
                .enumerate()
                .flat_map(|(t, members)| members.iter().map(move |&(j, u)| (j, (t as u64, u))))
        })
        .collect();
    // Collected and then built in one go: a map built from sorted entries has full nodes,
    // a third smaller than one grown by insertions (a wide block keeps millions).
    let kept: usize = choices.iter().flatten().map(|c| c.kept.len()).sum();
    let mut output = Vec::with_capacity(kept);
    let mut hidden = Vec::new();
    for (m, row) in choices.into_iter().enumerate() {
        for choice in row {
            for (j, v) in choice.kept {
                output.push(((m as u64, j), v));
                if let Some(&entry) = hidden_of.get(&j) {
                    hidden.push((j, entry));
                }
            }
        }
    }
    // Every (m, j) is kept once (j belongs to one pool); sorting by key alone keeps the
    // result whatever the order.
    output.sort_unstable_by_key(|&(key, _)| key);
    hidden.sort_by_key(|&(j, _)| j);
    hidden.dedup_by_key(|&mut (j, _)| j);
    let ticket = BlockTicket {
        hidden: hidden.into_iter().collect(),
        output: output.into_iter().collect(),
    };
    let pool_sizes = (0..n_in)
        .map(|t| {
            (0..signs)
                .map(|s| pools.pools[s][t].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    Ok(BlockResult {
        ticket,
        max_error,
        worst: (m, t),
        pool_sizes,
    })
}

/// Largest pool whose subset sums `grow_targeted` keeps for each failing weight (2^16 sums;
/// beyond it the pools grow blindly, EXTENSION_STEP neurons at a time).
const TRACKED_POOL: usize = 16;

/// Neurons scored together against every pool by `grow_targeted`.
const GROWTH_WINDOW: usize = 1024;

/// Subset sums `grow_targeted` keeps at once, over all missed weights: 2^25 of 8 bytes,
/// 256 MB. A weight whose pool has more sums than its share keeps them in two parts (see
/// `Missed`), which costs a binary search per sum of the second part.
const TRACKED_SUMS: usize = 1 << 25;

/// One weight `W[m][t]` that pool (s, t) misses, with the subset sums of the pool's
/// products for output m and the smallest distance from the weight to one of them.
///
/// The subset sums are every `a + e` with `a` in `sums` (sorted: the subset sums of the
/// pool's first products) and `e` in `extra` (the subset sums of its later products, in
/// the order they were made; just 0 while every sum fits `sums`). Storing 2^p sums for each
/// missed weight took 2.1 GB on 784-500-10 at per-weight error 0.001 (137,490 weights
/// missed by base pools of 11); two parts of 2^k and 2^(p-k) fit TRACKED_SUMS.
struct Missed {
    m: usize,
    weight: f64,
    sums: Vec<f64>,
    extra: Vec<f64>,
    error: f64,
}

impl Missed {
    /// The subset sums of `products` (the pool's, in pool order) kept as `sums` and `extra`
    /// with at most `share` values in `sums` unless they all fit in `share`.
    fn new(m: usize, weight: f64, products: &[f64], share: usize) -> Missed {
        let k = sorted_part(products.len(), share);
        let sums = sorted_sums(&products[..k]);
        let mut extra = vec![0.0];
        for &c in &products[k..] {
            shift_into(&mut extra, c);
        }
        let mut missed = Missed {
            m,
            weight,
            sums,
            extra,
            error: f64::INFINITY,
        };
        missed.error = missed.distance(weight);
        missed
    }

    /// Distance from `x` to the nearest subset sum.
    fn distance(&self, x: f64) -> f64 {
        self.extra.iter().fold(f64::INFINITY, |best, &e| {
            best.min(nearest(&self.sums, x - e))
        })
    }

    /// The pool gained a product `c`: the error is updated, and the sums doubled, in one
    /// sorted list if their number fits `share`, else in `extra`.
    fn add(&mut self, c: f64, share: usize) {
        self.error = self.error.min(self.distance(self.weight - c));
        let count = self.sums.len() * self.extra.len() * 2;
        if self.extra.len() == 1 && count <= share {
            self.sums = merge_shifted(&self.sums, c);
        } else if count <= share {
            shift_into(&mut self.extra, c);
            let mut all: Vec<f64> = self
                .extra
                .iter()
                .flat_map(|&e| self.sums.iter().map(move |&a| a + e))
                .collect();
            all.sort_unstable_by(f64::total_cmp);
            self.sums = all;
            self.extra = vec![0.0];
        } else {
            shift_into(&mut self.extra, c);
        }
    }
}

/// How many of a pool's `p` products go into the sorted part for a share of `share` sums:
/// all if their 2^p sums fit, else the most whose sums fit, but at least half (so that
/// neither part exceeds 2^ceil(p/2) when the share is very small).
fn sorted_part(p: usize, share: usize) -> usize {
    let fits = share.max(1).ilog2() as usize;
    if p <= fits { p } else { fits.max(p / 2) }
}

/// `values` followed by `values + c`.
fn shift_into(values: &mut Vec<f64>, c: f64) {
    let n = values.len();
    values.extend_from_within(..n);
    for v in &mut values[n..] {
        *v += c;
    }
}

/// Each missed weight's share of TRACKED_SUMS when `count` weights are tracked.
fn share_of(count: usize) -> usize {
    TRACKED_SUMS / count.max(1)
}

/// The pool of sign s of input t with the weights it misses.
struct Missing {
    s: usize,
    t: usize,
    missed: Vec<Missed>,
}

/// Distance from `x` to the nearest of the sorted `sums`.
fn nearest(sums: &[f64], x: f64) -> f64 {
    let at = sums.partition_point(|&y| y < x);
    let below = at.checked_sub(1).and_then(|k| sums.get(k)).map(|&y| x - y);
    let above = sums.get(at).map(|&y| y - x);
    below
        .unwrap_or(f64::INFINITY)
        .min(above.unwrap_or(f64::INFINITY))
}

/// The sorted subset sums of `values` (2^len of them).
fn sorted_sums(values: &[f64]) -> Vec<f64> {
    let mut sums = vec![0.0];
    for &c in values {
        sums = merge_shifted(&sums, c);
    }
    sums
}

/// `sums` and `sums + c` merged in order (`sums` sorted).
fn merge_shifted(sums: &[f64], c: f64) -> Vec<f64> {
    let mut merged = Vec::with_capacity(sums.len() * 2);
    let (mut a, mut b) = (0, 0);
    while a < sums.len() || b < sums.len() {
        let take_a = b == sums.len() || (a < sums.len() && sums[a] <= sums[b] + c);
        if take_a {
            merged.push(sums[a]);
            a += 1;
        } else {
            merged.push(sums[b] + c);
            b += 1;
        }
    }
    merged
}

/// Grows the pools of the inputs with `failing` weights, choosing for each neuron the pool
/// it helps most. The neurons j >= pools.width are taken GROWTH_WINDOW at a time; within a
/// window, the (neuron, pool) pair whose products `V[m][j] U[j][t]` bring the most missed
/// weights of the pool within `tolerance` is placed first (then: the largest total decrease
/// of their errors, the largest |U|, the first pool, the first neuron), the pool's scores
/// are computed again with its new neuron, and so on until every neuron of the window has a
/// pool or none is usable (a pool takes neurons of one sign of U). The subset sums of every
/// missed weight are kept sorted, so scoring a neuron on a pool costs one binary search per
/// missed weight, or one per sum of the second part where the weights' share of
/// TRACKED_SUMS splits them (`Missed`). A pool that is full drops its missed weights.
///
/// Random growth needs about 16 neurons per input on a 784-500 block at 0.01 (each of the
/// 500 outputs must be met by the same pool); choosing the pool by what a neuron fixes, with
/// a window's worth of neurons to choose from, needs about 12. Pools stop at `max_pool`;
/// weights still missed are left to the caller. Deterministic: scores are computed in
/// parallel and compared in a fixed order. `block` is (n_out, block number, seed, signs), as
/// [`solve_again`] takes it.
fn grow_targeted(
    pools: &mut Pools,
    failing: &[(usize, usize)],
    targets: &[Vec<f64>],
    tolerance: f64,
    max_pool: usize,
    block: (usize, usize, &Seed, usize),
    progress: &crate::progress::Progress,
) {
    let (n_out, block_number, seed, signs) = block;
    let scale = WEIGHT_SCALE as f64;
    let n_in = pools.pools[0].len();
    let mut by_pool: std::collections::BTreeMap<(usize, usize), Vec<usize>> =
        std::collections::BTreeMap::new();
    for &(m, t) in failing {
        for s in 0..signs {
            by_pool.entry((t, s)).or_default().push(m);
        }
    }
    let candidates: usize = by_pool.values().map(Vec::len).sum();
    let share = share_of(candidates);
    let mut missing: Vec<Missing> = by_pool
        .into_par_iter()
        .map(|((t, s), outputs)| {
            let mut output = StreamReader::new(*seed, output_stream(block_number));
            let members = &pools.pools[s][t];
            let missed = outputs
                .into_iter()
                .filter_map(|m| {
                    let products: Vec<f64> = members
                        .iter()
                        .map(|&(j, u)| {
                            let v = output.numerator(j * n_out as u64 + m as u64);
                            (v as f64 / scale) * (u as f64 / scale)
                        })
                        .collect();
                    let missed = Missed::new(m, targets[m][t], &products, share);
                    (missed.error > tolerance).then_some(missed)
                })
                .collect();
            Missing { s, t, missed }
        })
        .collect();
    let total: usize = missing.iter().map(|p| p.missed.len()).sum();
    progress.restart(total as u64);
    progress.message(|| format!("block {block_number}: growing pools for {total} weights"));
    let mut hidden = StreamReader::new(*seed, hidden_stream(block_number));
    let mut output = StreamReader::new(*seed, output_stream(block_number));
    let mut j = pools.width;
    loop {
        missing.retain(|p| !p.missed.is_empty());
        if missing
            .iter()
            .all(|p| pools.pools[p.s][p.t].len() >= max_pool)
        {
            break;
        }
        // Near the end, fewer neurons than missed weights suffice: a window no larger
        // leaves few of its neurons unplaced below a placed one.
        let total: usize = missing.iter().map(|p| p.missed.len()).sum();
        let share = share_of(total);
        let window = GROWTH_WINDOW.min(total.div_ceil(4));
        let u_rows: Vec<Vec<i64>> = (0..window as u64)
            .map(|b| {
                (0..n_in as u64)
                    .map(|t| hidden.numerator((j + b) * n_in as u64 + t))
                    .collect()
            })
            .collect();
        let v_cols: Vec<Vec<f64>> = (0..window as u64)
            .map(|b| {
                (0..n_out as u64)
                    .map(|m| output.numerator((j + b) * n_out as u64 + m) as f64 / scale)
                    .collect()
            })
            .collect();
        // (fixed, decrease) of each window neuron still to place on pool p, if usable
        let score_pool = |p: &Missing, open: &[bool], full: bool| -> Vec<Option<(usize, f64)>> {
            let usable: Vec<Option<f64>> = (0..window)
                .map(|b| {
                    let u = u_rows[b][p.t];
                    (open[b] && !full && !p.missed.is_empty() && usize::from(u < 0) == p.s)
                        .then_some(u as f64 / scale)
                })
                .collect();
            let mut scores: Vec<Option<(usize, f64)>> =
                usable.iter().map(|u| u.map(|_| (0, 0.0))).collect();
            for missed in &p.missed {
                for ((u, score), v) in usable.iter().zip(scores.iter_mut()).zip(&v_cols) {
                    if let (Some(u), Some(score)) = (u, score.as_mut()) {
                        let error = missed.distance(missed.weight - v[missed.m] * u);
                        if error <= tolerance {
                            score.0 += 1;
                        }
                        score.1 += (missed.error - error).max(0.0);
                    }
                }
            }
            scores
        };
        let mut open = vec![true; window];
        let mut scores: Vec<Vec<Option<(usize, f64)>>> = missing
            .par_iter()
            .map(|p| score_pool(p, &open, pools.pools[p.s][p.t].len() >= max_pool))
            .collect();
        // the best neuron of each pool: (b, (fixed, decrease, |U|)), the first b on ties
        let inputs: Vec<usize> = missing.iter().map(|p| p.t).collect();
        let row_best = |k: usize, row: &[Option<(usize, f64)>]| {
            let mut best: Option<(usize, Key)> = None;
            for (b, score) in row.iter().enumerate() {
                if let Some((fixed, decrease)) = *score {
                    let key = (fixed, decrease, u_rows[b][inputs[k]].abs());
                    if best.is_none_or(|(_, best)| better(key, best)) {
                        best = Some((b, key));
                    }
                }
            }
            best
        };
        let mut bests: Vec<Option<(usize, Key)>> = scores
            .iter()
            .enumerate()
            .map(|(k, row)| row_best(k, row))
            .collect();
        let mut last = None;
        loop {
            let mut best: Option<(usize, usize, Key)> = None;
            for (k, row) in bests.iter().enumerate() {
                if let Some((b, key)) = *row
                    && best.is_none_or(|(_, _, best)| better(key, best))
                {
                    best = Some((k, b, key));
                }
            }
            let Some((k, b, _)) = best else {
                break;
            };
            open[b] = false;
            let p = &mut missing[k];
            let u = u_rows[b][p.t];
            pools.pools[p.s][p.t].push((j + b as u64, u));
            last = Some(last.map_or(j + b as u64, |l: u64| l.max(j + b as u64)));
            let u = u as f64 / scale;
            let before = p.missed.len();
            p.missed
                .par_iter_mut()
                .for_each(|missed| missed.add(v_cols[b][missed.m] * u, share));
            p.missed.retain(|missed| missed.error > tolerance);
            progress.inc((before - p.missed.len()) as u64);
            let full = pools.pools[p.s][p.t].len() >= max_pool;
            if full {
                // a full pool takes no more neurons: its sums are of no further use
                p.missed = Vec::new();
            }
            scores[k] = score_pool(&missing[k], &open, full);
            for (other, row) in scores.iter_mut().enumerate() {
                row[b] = None;
                if other == k || bests[other].is_some_and(|(b2, _)| b2 == b) {
                    bests[other] = row_best(other, row);
                }
            }
            if missing.iter().all(|p| p.missed.is_empty()) {
                break;
            }
        }
        if let Some(last) = last {
            pools.width = last + 1;
        }
        j += window as u64;
    }
}

/// How a neuron scores on a pool: missed weights fixed, total decrease of their errors,
/// |U| (larger first).
type Key = (usize, f64, i64);

/// Whether score `a` beats `b` (equal keys keep the earlier one).
fn better(a: Key, b: Key) -> bool {
    a.0 > b.0 || (a.0 == b.0 && (a.1 > b.1 || (a.1 == b.1 && a.2 > b.2)))
}

/// The (m, t) of the largest error among the solved weights (first in row-major order on ties).
fn worst_of(choices: &[Vec<Choice>]) -> (usize, usize) {
    let mut worst = (f64::NEG_INFINITY, (0, 0));
    for (m, row) in choices.iter().enumerate() {
        for (t, choice) in row.iter().enumerate() {
            if choice.error > worst.0 {
                worst = (choice.error, (m, t));
            }
        }
    }
    worst.1
}

/// Solves the weights of `failing` again with the grown pools (the progress bar restarted
/// to count them), keeps each choice that errs less than the one before, and returns the
/// weights still above `tolerance`.
/// `block` is (n_out, block number, seed, signs), as [`solve_weights`] takes them.
fn solve_again(
    pools: &Pools,
    failing: &[(usize, usize)],
    targets: &[Vec<f64>],
    choices: &mut [Vec<Choice>],
    tolerance: f64,
    block: (usize, usize, &Seed, usize),
    progress: &crate::progress::Progress,
) -> Vec<(usize, usize)> {
    let (n_out, block_number, seed, signs) = block;
    progress.restart(failing.len() as u64);
    let solved: Vec<Choice> = failing
        .par_iter()
        .map(|&(m, t)| {
            let choice = solve_weights(
                pools,
                &[(t, targets[m][t])],
                m,
                n_out,
                block_number,
                seed,
                signs,
            )
            .pop()
            .unwrap_or_default();
            progress.inc(1);
            choice
        })
        .collect();
    let mut still = Vec::new();
    for (&(m, t), choice) in failing.iter().zip(solved) {
        if choice.error > tolerance {
            still.push((m, t));
        }
        if choice.error < choices[m][t].error {
            choices[m][t] = choice;
        }
    }
    still
}

/// For each listed (t, W[m][t]) and each sign of U: the best subset of t's pool.
fn solve_weights(
    pools: &Pools,
    weights: &[(usize, f64)],
    m: usize,
    n_out: usize,
    block_number: usize,
    seed: &Seed,
    signs: usize,
) -> Vec<Choice> {
    let scale = WEIGHT_SCALE as f64;
    let mut output = StreamReader::new(*seed, output_stream(block_number));
    let mut v = Vec::new();
    let mut products = Vec::new();
    weights
        .iter()
        .map(|&(t, w)| {
            let mut choice = Choice::default();
            for s in 0..signs {
                let members = &pools.pools[s][t];
                v.clear();
                v.extend(
                    members
                        .iter()
                        .map(|&(j, _)| output.numerator(j * n_out as u64 + m as u64)),
                );
                products.clear();
                products.extend(
                    members
                        .iter()
                        .zip(&v)
                        .map(|(&(_, u), &v)| (v as f64 / scale) * (u as f64 / scale)),
                );
                let (error, mask) = best_subset(&products, w);
                choice.error = choice.error.max(error);
                for (k, &(j, _)) in members.iter().enumerate() {
                    if mask & (1 << k) != 0 {
                        choice.kept.push((j, v[k]));
                    }
                }
            }
            choice
        })
        .collect()
}

fn largest_weight(layer: &Layer) -> (f64, (usize, usize)) {
    let mut best = (0.0, (0, 0));
    for (m, row) in layer.weights_f64().iter().enumerate() {
        for (t, w) in row.iter().enumerate() {
            if w.abs() > best.0 {
                best = (w.abs(), (m, t));
            }
        }
    }
    best
}

/// The block built from a base pool from `first` upward with which every error ends below
/// `tolerance` in f64 (with a relative margin; the exact bound decides later): with
/// `search`, the narrowest, trying bases until the width grows again; without, the first
/// that works.
///
/// Growing pools by `grow_targeted` places each neuron better than the base assignment
/// does, so a smaller base tends to give a narrower block (784-500 at 0.01: 11.83 neurons
/// per input from base 3, 11.88 from 5, 12.02 from 7, with a window of 256) but costs more
/// time (every weight the base misses is tracked), and each base tried costs a build.
#[allow(clippy::too_many_arguments)]
pub fn smallest_pool(
    layer: &Layer,
    n_in: usize,
    block_number: usize,
    seed: &Seed,
    signed: bool,
    tolerance: f64,
    first: usize,
    max_pool: usize,
    lenient: bool,
    search: bool,
) -> Result<(usize, BlockResult), ConstructError> {
    let aim = tolerance * (1.0 - 1e-9);
    let mut best: Option<(usize, BlockResult)> = None;
    let mut failed_at = (0, 0);
    for pool in first.max(1)..=max_pool.min(MAX_EXACT_POOL) {
        match build_block(
            layer,
            n_in,
            block_number,
            seed,
            signed,
            pool,
            MAX_EXACT_POOL,
            aim,
            false,
            lenient,
        ) {
            Ok(result) if !search => return Ok((pool, result)),
            Ok(result) => {
                let width = result.ticket.width();
                match &best {
                    Some((_, b)) if width > b.ticket.width() => break,
                    Some((_, b)) if width == b.ticket.width() => {}
                    _ => best = Some((pool, result)),
                }
            }
            Err(BlockFailure::BaseTooSmall { m, t } | BlockFailure::Unreachable { m, t }) => {
                failed_at = (m, t);
                if best.is_some() {
                    break;
                }
            }
        }
    }
    if let Some(found) = best {
        return Ok(found);
    }
    let (m, t) = failed_at;
    Err(ConstructError::PoolTooSmall {
        block: block_number,
        m,
        t,
        weight: layer.weights_f64()[m][t],
        tolerance,
        pool: MAX_EXACT_POOL,
        needed: None,
    })
}

/// A first base pool to try: about log2(max |W| / tau) products are needed for 2^p subset
/// sums to be tau apart over the weights' range.
pub fn first_pool_guess(layer: &Layer, tolerance: f64) -> usize {
    let largest = layer
        .weights_f64()
        .iter()
        .flatten()
        .fold(0.0f64, |a, w| a.max(w.abs()));
    if largest <= tolerance || tolerance <= 0.0 {
        return 1;
    }
    ((largest / tolerance).log2().floor() as usize).clamp(1, DEFAULT_MAX_POOL)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subset, checked one by one.
    fn brute_force(products: &[f64], target: f64) -> (f64, u32) {
        let mut best = (f64::INFINITY, 0u32);
        for mask in 0u32..(1 << products.len()) {
            let sum: f64 = (0..products.len())
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| products[k])
                .sum();
            let error = (sum - target).abs();
            if error < best.0 || (error == best.0 && mask.count_ones() < best.1.count_ones()) {
                best = (error, mask);
            }
        }
        best
    }

    #[test]
    fn meet_in_the_middle_matches_brute_force() {
        let mut reader = StreamReader::new(Seed::from_u64(3), 99);
        let mut next = 0u64;
        for size in 0..=12usize {
            for _ in 0..20 {
                let products: Vec<f64> = (0..size)
                    .map(|_| {
                        next += 2;
                        reader.value(next) * reader.value(next + 1)
                    })
                    .collect();
                next += 1;
                let target = reader.value(next) * 1.5;
                let (error, _) = best_subset(&products, target);
                let (expected, _) = brute_force(&products, target);
                assert!(
                    (error - expected).abs() <= 1e-12,
                    "size {size}: {error} vs {expected}"
                );
            }
        }
    }

    /// A missed weight's distance, whole or split in two parts by a small share, is the
    /// distance to the nearest of every subset sum, as products are added.
    #[test]
    fn split_sums_keep_every_subset_sum() {
        let mut reader = StreamReader::new(Seed::from_u64(5), 7);
        let mut next = 0u64;
        for share in [1, 4, 16, 1 << 20] {
            for start in [0, 1, 3, 6] {
                let products: Vec<f64> = (0..10)
                    .map(|_| {
                        next += 1;
                        reader.value(next)
                    })
                    .collect();
                next += 1;
                let weight = reader.value(next) * 2.0;
                let mut missed = Missed::new(0, weight, &products[..start], share);
                for p in start..=products.len() {
                    if p > start {
                        missed.add(products[p - 1], share);
                    }
                    assert!(missed.sums.is_sorted());
                    assert_eq!(missed.sums.len() * missed.extra.len(), 1 << p);
                    if share >= 1 << p {
                        assert_eq!(missed.extra, [0.0]);
                    }
                    let (expected, _) = brute_force(&products[..p], weight);
                    assert!(
                        (missed.error - expected).abs() <= 1e-12,
                        "share {share}, {p} products: {} vs {expected}",
                        missed.error
                    );
                    for x in [-1.0, 0.0, 0.3, weight] {
                        let (expected, _) = brute_force(&products[..p], x);
                        assert!((missed.distance(x) - expected).abs() <= 1e-12);
                    }
                }
            }
        }
    }

    #[test]
    fn pools_hold_the_right_signs_and_inputs() {
        let seed = Seed::from_u64(1);
        let pools = assign_pools(5, 1, &seed, true, 4);
        let mut seen = std::collections::HashSet::new();
        for s in 0..2 {
            for (t, members) in pools.pools[s].iter().enumerate() {
                assert_eq!(members.len(), 4);
                for &(j, u) in members {
                    assert!(seen.insert(j), "neuron {j} in two pools");
                    assert_eq!(
                        u,
                        slth_checker::sampler::sample_numerator(&seed, 0, j * 5 + t as u64)
                    );
                    assert_eq!(u < 0, s == 1);
                    assert!(j < pools.width);
                }
            }
        }
        let nonnegative = assign_pools(5, 2, &seed, false, 4);
        assert!(nonnegative.pools[1].iter().all(Vec::is_empty));
        // Almost every neuron is used when it may pick its input (20 are pooled).
        assert!(nonnegative.width <= 30, "width {}", nonnegative.width);
    }
}
