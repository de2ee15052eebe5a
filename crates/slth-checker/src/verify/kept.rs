//! The kept weights of one block (docs/FORMAT.md section 5; section 9, items 8 to 10) and
//! its deviation E_i (section 6.1). Cost: a sort, a ChaCha20 block per 8 weights.
//!
//! The entries of `hidden` and `output` are judged as if checked one by one in file order:
//! the earliest entry that breaks a rule is reported, and at one entry the rules come in
//! the order index range, duplicate, missing input, value. The work is done in sorted
//! order instead: sorting by index puts duplicates side by side, joins each output edge to
//! its hidden neuron, and lets neighbouring weights share their ChaCha20 block (8 weights
//! per block). Nothing is stored per hidden neuron of g, so a claimed width of 2^60 costs
//! nothing.

use super::scaled::{Scaled, SquareSum};
use super::small;
use super::{Rejection, RejectionKind, reject};
use crate::certificate::{BlockTicket, OMITTED, Rational};
use crate::numbers::{self, NumberError, format_rational};
use crate::sampler::{self, Seed, StreamReader, WEIGHT_SCALE};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::HashMap;

/// 2^106: the denominator of every product V * U and of every sum of them.
const PRODUCT_SHIFT: u32 = 106;

/// Where a block sits: index b (0-based; the paper's block i = b + 1) and its sizes.
pub(super) struct Shape {
    pub block: usize,
    /// n_{i-1}
    pub inputs: u64,
    /// n_i
    pub outputs: u64,
    /// k_i
    pub width: u64,
    /// Longest text of a kept value that is parsed.
    pub max_number_chars: usize,
    pub max_exponent: u64,
}

/// One kept path of block i: input t -> hidden neuron j -> output m.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptPath {
    /// `m * n_{i-1} + t`: the entry of W_i (row-major) the path contributes to.
    pub cell: usize,
    /// `V_i[m][j]` as a numerator over 2^53.
    pub output: i64,
    /// `U_i[j][t]` as a numerator over 2^53 (the sign says whether it counts in P or Q).
    pub hidden: i64,
}

/// The checked kept weights of one block, as paths.
#[derive(Debug, Clone)]
pub struct KeptBlock {
    hidden_count: u64,
    output_count: u64,
    /// sorted by (j, m)
    paths: Vec<KeptPath>,
}

/// `sum_{m,t} E_i[m][t]^2` and `max_{m,t} E_i[m][t]`.
pub(super) struct Deviation {
    pub squared_sum: BigRational,
    pub max: BigRational,
}

/// The rules an entry can break, in the order a one-by-one check meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    Index,
    Duplicate,
    MissingInput,
    Value,
}

/// The earliest broken rule seen so far, by (entry, rule).
#[derive(Default)]
struct FirstFailure {
    at: Option<(usize, Rule)>,
    rejection: Option<Rejection>,
}

impl FirstFailure {
    /// Whether a failure of `rule` at entry k would be reported instead of the current one.
    fn beats(&self, k: usize, rule: Rule) -> bool {
        self.at.is_none_or(|at| (k, rule) < at)
    }

    fn offer(&mut self, k: usize, rule: Rule, rejection: impl FnOnce() -> Rejection) {
        if self.beats(k, rule) {
            self.at = Some((k, rule));
            self.rejection = Some(rejection());
        }
    }

    fn result<T>(self, value: T) -> Result<T, Rejection> {
        match self.rejection {
            Some(rejection) => Err(rejection),
            None => Ok(value),
        }
    }
}

impl KeptBlock {
    /// Checks every index, duplicate and value of `ticket[b]` against g (docs/FORMAT.md
    /// section 5); the earliest entry in file order that breaks a rule is reported.
    pub(super) fn check(
        shape: &Shape,
        ticket: &BlockTicket,
        seed: &Seed,
    ) -> Result<KeptBlock, Rejection> {
        KeptBlock::check_entries(shape, &ticket.hidden[..], &ticket.output[..], seed)
    }

    /// [`KeptBlock::check`] for kept entries given as indices alone (every value left out,
    /// taken as g's weight like a compact certificate's: docs/FORMAT.md section 14.1).
    /// The output indices are freed once sorted, before the paths are made.
    pub(super) fn check_indices(
        shape: &Shape,
        ticket: KeptIndices,
        seed: &Seed,
    ) -> Result<KeptBlock, Rejection> {
        KeptBlock::check_entries(shape, &ticket.hidden[..], ticket.output, seed)
    }

    fn check_entries(
        shape: &Shape,
        hidden: impl Entries,
        output: impl Entries,
        seed: &Seed,
    ) -> Result<KeptBlock, Rejection> {
        let hidden = check_hidden(shape, hidden, seed)?;
        let paths = check_output(shape, output, &hidden, seed)?;
        Ok(KeptBlock {
            hidden_count: hidden.len() as u64,
            output_count: paths.len() as u64,
            paths,
        })
    }

    pub fn hidden_count(&self) -> u64 {
        self.hidden_count
    }

    pub fn output_count(&self) -> u64 {
        self.output_count
    }

    /// P and Q of every one of `cells` entries: the sums of V U over the kept paths with
    /// U > 0 and with U <= 0 (i128 per entry, spilling into a BigInt where they overflow).
    pub(super) fn path_sums(&self, cells: usize) -> (PathSums, PathSums) {
        let (mut p, mut q) = (PathSums::new(cells), PathSums::new(cells));
        for path in &self.paths {
            if path.cell >= cells {
                continue;
            }
            // Never saturates: a product of two i64 fits in i128.
            let product = i128::from(path.output).saturating_mul(i128::from(path.hidden));
            if path.hidden > 0 {
                p.add(path.cell, product);
            } else {
                q.add(path.cell, product);
            }
        }
        (p, q)
    }

    /// Every kept output edge with the hidden weight in front of it, sorted by (j, m).
    pub fn paths(&self) -> &[KeptPath] {
        &self.paths
    }

    /// E_i against `weights` = W_i (docs/FORMAT.md section 6.1):
    ///
    /// `P[m][t] = sum V[m][j] max(U[j][t], 0)`, `Q[m][t] = sum V[m][j] min(U[j][t], 0)` over
    /// kept (m, j) with j keeping t; `E = max(|P - W|, |Q - W|)` for a signed input, else
    /// `|P - W|`. P and Q are integers over 2^106 (i128 sums, spilling into BigInt), W
    /// integers over d, so E is an integer over `C = lcm(d, 2^106) = A 2^106` with
    /// `A = d / gcd(d, 2^106)`: `E C = |P A - W B|`, `B = 2^106 / gcd(d, 2^106)`. That stays
    /// in i128 for dyadic targets and the squares are summed in 256 bits; anything larger
    /// is done with BigInt. Cost: one multiply-add per path, a few per entry of W.
    pub(super) fn deviation(&self, weights: &Scaled, signed: bool) -> Deviation {
        let cells = weights.numer.len();
        let mut p = PathSums::new(cells);
        let mut q = PathSums::new(if signed { cells } else { 0 });
        for path in &self.paths {
            // Never saturates: a product of two i64 fits in i128.
            let product = i128::from(path.output).saturating_mul(i128::from(path.hidden));
            if path.hidden > 0 {
                p.add(path.cell, product);
            } else if signed {
                q.add(path.cell, product);
            }
        }

        let d = &weights.denom;
        let twos = d
            .trailing_zeros()
            .unwrap_or(0)
            .min(u64::from(PRODUCT_SHIFT));
        let a: BigInt = d >> twos;
        let b: BigInt = (BigInt::one() << PRODUCT_SHIFT) >> twos;
        let small_scales = i128::try_from(&a).ok().zip(i128::try_from(&b).ok());

        let mut squares = SquareSum::default();
        let (mut max_small, mut max_big) = (0u128, BigInt::zero());
        for (cell, w) in weights.numer.iter().enumerate() {
            let small = small_scales.and_then(|(a, b)| {
                let w = i128::try_from(w).ok()?.checked_mul(b)?;
                let e = distance_small(p.small(cell)?, a, w)?;
                if signed {
                    Some(e.max(distance_small(q.small(cell)?, a, w)?))
                } else {
                    Some(e)
                }
            });
            match small {
                Some(e) => {
                    squares.add_square(e);
                    max_small = max_small.max(e);
                }
                None => {
                    let w = w * &b;
                    let mut e = (p.value(cell) * &a - &w).abs();
                    if signed {
                        e = e.max((q.value(cell) * &a - &w).abs());
                    }
                    squares.add_big(&e * &e);
                    max_big = max_big.max(e);
                }
            }
        }
        let scale: BigInt = a << PRODUCT_SHIFT;
        let max = max_big.max(BigInt::from(max_small));
        Deviation {
            squared_sum: BigRational::new(squares.value(), &scale * &scale),
            max: BigRational::new(max, scale),
        }
    }
}

/// The kept entries of one block, `[j, t]` or `[m, j]` with their values, as given to
/// [`verify_kept`](super::verify_kept): indices alone, every value left out (g's weight).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptIndices {
    /// `[j, t]` per kept hidden weight
    pub hidden: Vec<(u64, u64)>,
    /// `[m, j]` per kept output weight
    pub output: Vec<(u64, u64)>,
}

/// A list of kept entries as the checks read it: the two indices of entry k, and its
/// value (None when left out: g's weight).
trait Entries {
    fn count(&self) -> usize;
    fn indices(&self, k: usize) -> (u64, u64);
    fn value(&self, k: usize) -> Option<&Rational>;
    /// The list once only values are asked for (`indices` no more): an owned list of
    /// indices alone frees itself here.
    fn shed(self) -> Self
    where
        Self: Sized,
    {
        self
    }
}

impl Entries for &[(u64, u64, Rational)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn indices(&self, k: usize) -> (u64, u64) {
        (self[k].0, self[k].1)
    }
    fn value(&self, k: usize) -> Option<&Rational> {
        Some(&self[k].2)
    }
}

impl Entries for &[(u64, u64)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn indices(&self, k: usize) -> (u64, u64) {
        self[k]
    }
    fn value(&self, _: usize) -> Option<&Rational> {
        None
    }
}

impl Entries for Vec<(u64, u64)> {
    fn count(&self) -> usize {
        self.len()
    }
    fn indices(&self, k: usize) -> (u64, u64) {
        self[k]
    }
    fn value(&self, _: usize) -> Option<&Rational> {
        None
    }
    fn shed(self) -> Self {
        Vec::new()
    }
}

/// `|s a - w|` (E's numerator over `a 2^106`, see `deviation`) when it fits in i128.
fn distance_small(s: i128, a: i128, w: i128) -> Option<u128> {
    Some(s.checked_mul(a)?.checked_sub(w)?.unsigned_abs())
}

/// Checks `ticket[b].hidden`; returns (j, t, U numerator) sorted by j. Decides j < k_i,
/// t < n_{i-1}, j listed once and value = U_i[j][t], the weight at index `j n_{i-1} + t`
/// of stream 2i - 2 (docs/FORMAT.md sections 4.2 and 5), reading g in index order.
fn check_hidden(
    shape: &Shape,
    entries: impl Entries,
    seed: &Seed,
) -> Result<Vec<(u64, u64, i64)>, Rejection> {
    let b = shape.block;
    let i = b.saturating_add(1); // b indexes a Vec of blocks: far below usize::MAX
    let place = |k: usize| format!("ticket[{b}].hidden[{k}]");
    let mut failure = FirstFailure::default();

    // Entries from the first index out of range on are never reached.
    let end = (0..entries.count())
        .position(|k| {
            let (j, t) = entries.indices(k);
            j >= shape.width || t >= shape.inputs
        })
        .unwrap_or(entries.count());
    if end < entries.count() {
        let (j, t) = entries.indices(end);
        failure.offer(end, Rule::Index, || {
            if j >= shape.width {
                out_of_range(
                    place(end),
                    "index j",
                    j,
                    format!("hidden width {}", shape.width),
                )
            } else {
                out_of_range(
                    place(end),
                    "input t",
                    t,
                    format!("n_{b} = {}", shape.inputs),
                )
            }
        });
    }

    let mut order: Vec<(u64, u64, usize)> = (0..end)
        .map(|k| {
            let (j, t) = entries.indices(k);
            (j, t, k)
        })
        .collect();
    order.sort_unstable();

    // Within a run of one j, every entry but the earliest lists the neuron twice.
    for run in order.chunk_by(|x, y| x.0 == y.0) {
        if run.len() < 2 {
            continue;
        }
        let mut ks: Vec<usize> = run.iter().map(|e| e.2).collect();
        ks.sort_unstable();
        let (first, second, j) = (ks[0], ks[1], run[0].0);
        failure.offer(second, Rule::Duplicate, || {
            reject(
                RejectionKind::DuplicateHidden,
                place(second),
                format!(
                    "hidden neuron j = {j} is listed twice (first at ticket[{b}].hidden[{first}]); \
                     a hidden neuron keeps at most one input"
                ),
            )
        });
    }

    let mut cache = BlockCache::new(seed, sampler::hidden_stream(i));
    cache.max_chars = shape.max_number_chars;
    cache.max_exponent = shape.max_exponent;
    let mut hidden = Vec::with_capacity(order.len());
    for &(j, t, k) in &order {
        if !failure.beats(k, Rule::Value) {
            continue;
        }
        let index = flat_index(j, shape.inputs, t);
        match cache.check(index, entries.value(k)) {
            Ok(u) => hidden.push((j, t, u)),
            Err(value_failure) => failure.offer(k, Rule::Value, || {
                value_failure.rejection(&place(k), &format!("U_{i}[{j}][{t}]"), index)
            }),
        }
    }
    failure.result(hidden)
}

/// Checks `ticket[b].output` against the checked `hidden` (sorted by j); returns the paths.
/// Decides m < n_i, j < k_i, (m, j) listed once, a hidden entry for j and value =
/// V_i[m][j], the weight at index `j n_i + m` of stream 2i - 1 (docs/FORMAT.md sections
/// 4.2 and 5); each path t -> j -> m goes to cell `m n_{i-1} + t` of W_i (section 6.1).
fn check_output(
    shape: &Shape,
    entries: impl Entries,
    hidden: &[(u64, u64, i64)],
    seed: &Seed,
) -> Result<Vec<KeptPath>, Rejection> {
    let b = shape.block;
    let i = b.saturating_add(1);
    let place = |k: usize| format!("ticket[{b}].output[{k}]");
    let mut failure = FirstFailure::default();

    let end = (0..entries.count())
        .position(|k| {
            let (m, j) = entries.indices(k);
            m >= shape.outputs || j >= shape.width
        })
        .unwrap_or(entries.count());
    if end < entries.count() {
        let (m, j) = entries.indices(end);
        failure.offer(end, Rule::Index, || {
            if m >= shape.outputs {
                out_of_range(
                    place(end),
                    "output m",
                    m,
                    format!("n_{i} = {}", shape.outputs),
                )
            } else {
                out_of_range(
                    place(end),
                    "index j",
                    j,
                    format!("hidden width {}", shape.width),
                )
            }
        });
    }

    // Sorted by (j, m): the order of the stream index j n_i + m.
    let mut order: Vec<(u64, u64, usize)> = (0..end)
        .map(|k| {
            let (m, j) = entries.indices(k);
            (j, m, k)
        })
        .collect();
    order.sort_unstable();

    for run in order.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        if let [(j, m, first), (_, _, second), ..] = run {
            failure.offer(*second, Rule::Duplicate, || {
                reject(
                    RejectionKind::DuplicateOutput,
                    place(*second),
                    format!(
                        "edge (m = {m}, j = {j}) is listed twice (first at ticket[{b}].output[{first}])"
                    ),
                )
            });
        }
    }

    // From here on only values are read.
    let entries = entries.shed();
    let mut cache = BlockCache::new(seed, sampler::output_stream(i));
    cache.max_chars = shape.max_number_chars;
    cache.max_exponent = shape.max_exponent;
    let mut paths = Vec::with_capacity(order.len());
    let mut hidden = hidden;
    for &(j, m, k) in &order {
        while let [h, after @ ..] = hidden
            && h.0 < j
        {
            hidden = after;
        }
        let Some(&(_, t, u)) = hidden.first().filter(|h| h.0 == j) else {
            failure.offer(k, Rule::MissingInput, || {
                reject(
                    RejectionKind::OutputWithoutInput,
                    place(k),
                    format!(
                        "hidden neuron j = {j} keeps no input (it has no ticket[{b}].hidden entry)"
                    ),
                )
            });
            continue;
        };
        if !failure.beats(k, Rule::Value) {
            continue;
        }
        let index = flat_index(j, shape.outputs, m);
        let v = match cache.check(index, entries.value(k)) {
            Ok(v) => v,
            Err(value_failure) => {
                failure.offer(k, Rule::Value, || {
                    value_failure.rejection(&place(k), &format!("V_{i}[{m}][{j}]"), index)
                });
                continue;
            }
        };
        // m < n_i rows of n_{i-1} target weights each are in memory, so the cell fits.
        let cell = flat_index(m, shape.inputs, t);
        match usize::try_from(cell) {
            Ok(cell) => paths.push(KeptPath {
                cell,
                output: v,
                hidden: u,
            }),
            Err(_) => failure.offer(k, Rule::Index, || {
                reject(
                    RejectionKind::Limit,
                    place(k),
                    format!("entry W_{i}[{m}][{t}] is beyond this machine's address space"),
                )
            }),
        }
    }
    failure.result(paths)
}

/// `row * width + column`, exact: at most (2^64 - 1)^2 + 2^64 - 1 < 2^128, so the
/// saturating operations never saturate (a stream index of docs/FORMAT.md section 4.2).
fn flat_index(row: u64, width: u64, column: u64) -> u128 {
    u128::from(row)
        .saturating_mul(u128::from(width))
        .saturating_add(u128::from(column))
}

fn out_of_range(place: String, name: &str, value: u64, bound: String) -> Rejection {
    reject(
        RejectionKind::IndexOutOfRange,
        place,
        format!("{name} = {value} is out of range ({bound})"),
    )
}

/// Why a kept value is not the weight of g.
enum ValueFailure {
    Number(NumberError),
    BeyondKeystream,
    Differs { text: String, weight: i64 },
}

impl ValueFailure {
    fn rejection(self, place: &str, name: &str, index: u128) -> Rejection {
        match self {
            ValueFailure::Number(e) => super::number_rejection(e, format!("{place}[2]")),
            ValueFailure::BeyondKeystream => reject(
                RejectionKind::IndexOutOfRange,
                place,
                format!(
                    "weight {name} has index {index}, beyond the 2^67 weights of a ChaCha20 \
                     stream (64-bit block counter, 8 weights per block)"
                ),
            ),
            ValueFailure::Differs { text, weight } => reject(
                RejectionKind::ValueMismatch,
                place,
                format!(
                    "value {} differs from g's weight {name} = {}",
                    numbers::abbreviate(&text),
                    format_rational(&BigRational::new(weight.into(), WEIGHT_SCALE.into()))
                ),
            ),
        }
    }
}

/// A claimed value, parsed: p/q with q > 0, or a big rational.
enum Claimed {
    Small(i64, u64),
    Big(BigRational),
}

/// Weights of one stream of g, read in increasing order, to compare the kept values with.
struct BlockCache {
    reader: StreamReader,
    max_chars: usize,
    max_exponent: u64,
}

impl BlockCache {
    fn new(seed: &Seed, stream: u64) -> BlockCache {
        BlockCache {
            reader: StreamReader::new(*seed, stream),
            max_chars: numbers::DEFAULT_MAX_NUMBER_CHARS,
            max_exponent: numbers::MAX_DECIMAL_EXPONENT,
        }
    }

    /// `sample(seed, stream, index)` (section 4.3) over 2^53; None beyond the stream (2^67).
    fn numerator(&mut self, index: u128) -> Option<i64> {
        self.reader.numerator_at(index)
    }

    /// The weight at `index` (numerator over 2^53) once `value` equals it exactly (section 5;
    /// p/q = n/2^53 iff p 2^53 = n q, i128 to 18 digits a side) or is left out (section 14.1:
    /// [`OMITTED`], or None).
    fn check(&mut self, index: u128, value: Option<&Rational>) -> Result<i64, ValueFailure> {
        let Some(value) = value.filter(|v| v.0 != OMITTED) else {
            return self.numerator(index).ok_or(ValueFailure::BeyondKeystream);
        };
        let claimed = match small::parse_small(&value.0, self.max_chars) {
            Some((p, q)) => Claimed::Small(p, q),
            None => Claimed::Big(
                numbers::parse_rational_bounded(&value.0, self.max_chars, self.max_exponent)
                    .map_err(ValueFailure::Number)?,
            ),
        };
        let weight = self.numerator(index).ok_or(ValueFailure::BeyondKeystream)?;
        let equal = match claimed {
            // p/q = n/2^53 iff p 2^53 = n q; |p| < 2^63, q < 2^64, |n| < 2^53: both < 2^117.
            // An overflow (impossible by these bounds) would count as a mismatch.
            Claimed::Small(p, q) => i128::from(p)
                .checked_mul(i128::from(WEIGHT_SCALE))
                .is_some_and(|x| Some(x) == i128::from(weight).checked_mul(i128::from(q))),
            Claimed::Big(x) => x == BigRational::new(weight.into(), WEIGHT_SCALE.into()),
        };
        if equal {
            Ok(weight)
        } else {
            Err(ValueFailure::Differs {
                text: value.0.clone(),
                weight,
            })
        }
    }
}

/// Exact sums of products V * U (integers over 2^106) per entry of W: i128 while they
/// fit, spilling into a BigInt per entry: P_i and Q_i of docs/FORMAT.md section 6.1.
pub(super) struct PathSums {
    small: Vec<i128>,
    spilled: HashMap<usize, BigInt>,
}

impl PathSums {
    fn new(cells: usize) -> PathSums {
        PathSums {
            small: vec![0; cells],
            spilled: HashMap::new(),
        }
    }

    fn add(&mut self, cell: usize, x: i128) {
        let sum = &mut self.small[cell];
        match sum.checked_add(x) {
            Some(s) => *sum = s,
            None => {
                *self.spilled.entry(cell).or_default() += *sum;
                *sum = x;
            }
        }
    }

    /// The sum when it never spilled (0 for an entry without paths).
    fn small(&self, cell: usize) -> Option<i128> {
        if self.spilled.contains_key(&cell) {
            return None;
        }
        Some(self.small.get(cell).copied().unwrap_or(0))
    }

    /// The sum at `cell` (0 for an entry without paths, or beyond the matrix).
    pub(super) fn value(&self, cell: usize) -> BigInt {
        let small = BigInt::from(self.small.get(cell).copied().unwrap_or(0));
        match self.spilled.get(&cell) {
            Some(big) => big + small,
            None => small,
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn weights_match_the_sampler_and_reach_past_2_to_the_64() {
        let seed = Seed::from_u64(42);
        let numerator = |stream: u64, index: u128| BlockCache::new(&seed, stream).numerator(index);
        for (stream, index) in [
            (0u64, 0u64),
            (1, 0),
            (3, 12345),
            (5, 1 << 40),
            (2, u64::MAX),
        ] {
            assert_eq!(
                numerator(stream, u128::from(index)),
                Some(sampler::sample_numerator(&seed, stream, index))
            );
        }
        let last = (1u128 << 67) - 1;
        assert!(numerator(0, last).is_some());
        assert_eq!(numerator(0, last + 1), None);
        assert_eq!(numerator(0, u128::MAX), None);
    }

    #[test]
    fn the_block_cache_gives_every_index_its_own_weight() {
        let seed = Seed::from_u64(9);
        let mut cache = BlockCache::new(&seed, 3);
        for index in [0u64, 1, 7, 8, 9, 100, 5, 5, 1 << 30, 2] {
            assert_eq!(
                cache.numerator(u128::from(index)),
                Some(sampler::sample_numerator(&seed, 3, index))
            );
        }
    }

    #[test]
    fn path_sums_spill_without_overflow() {
        let mut sums = PathSums::new(2);
        for _ in 0..4 {
            sums.add(1, i128::MAX);
        }
        sums.add(1, -1);
        assert_eq!(sums.value(1), BigInt::from(i128::MAX) * 4 - 1);
        assert_eq!(sums.small(1), None);
        assert_eq!(sums.small(0), Some(0));
    }

    /// E_i by the formulas of docs/FORMAT.md section 6.1 in BigRational, to compare against.
    fn naive_deviation(
        paths: &[KeptPath],
        weights: &[Vec<BigRational>],
        signed: bool,
    ) -> (BigRational, BigRational) {
        let cols = weights[0].len();
        let scale = BigRational::from_integer(BigInt::from(WEIGHT_SCALE));
        let mut p = vec![BigRational::zero(); weights.len() * cols];
        let mut q = p.clone();
        for path in paths {
            let product = BigRational::from_integer(path.output.into()) / &scale
                * (BigRational::from_integer(path.hidden.into()) / &scale);
            if path.hidden > 0 {
                p[path.cell] += product;
            } else {
                q[path.cell] += product;
            }
        }
        let (mut sum, mut max) = (BigRational::zero(), BigRational::zero());
        for (cell, w) in weights.iter().flatten().enumerate() {
            let mut e = (&p[cell] - w).abs();
            if signed {
                e = e.max((&q[cell] - w).abs());
            }
            sum += &e * &e;
            max = max.max(e);
        }
        (sum, max)
    }

    #[test]
    fn deviation_agrees_with_the_formulas() {
        let mut state: u64 = 4242;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 11
        };
        let weight = |x: u64| (2 * (x >> 1) as i64 + 1) - WEIGHT_SCALE;
        // Dyadic (2^-3, 2^-120, 2^-200), decimal and mixed denominators, and huge numbers.
        let denominators: [BigInt; 6] = [
            BigInt::from(8),
            BigInt::one() << 120u32,
            BigInt::one() << 200u32,
            BigInt::from(1000),
            BigInt::from(3 * 1024),
            BigInt::from(7),
        ];
        for (case, denominator) in denominators.iter().enumerate() {
            for signed in [false, true] {
                let (rows, cols) = (3, 4);
                let weights: Vec<Vec<BigRational>> = (0..rows)
                    .map(|_| {
                        (0..cols)
                            .map(|_| {
                                let n = BigInt::from(next() as i64 - (1 << 52));
                                let n = if case == 2 { n << 150u32 } else { n };
                                BigRational::new(n, denominator.clone())
                                    / BigRational::from_integer((1i64 << 50).into())
                            })
                            .collect()
                    })
                    .collect();
                let mut paths: Vec<KeptPath> = (0..30)
                    .map(|_| KeptPath {
                        cell: (next() % (rows * cols) as u64) as usize,
                        output: weight(next()),
                        hidden: weight(next()),
                    })
                    .collect();
                paths.push(KeptPath {
                    cell: 0,
                    output: WEIGHT_SCALE - 1,
                    hidden: WEIGHT_SCALE - 1,
                });
                let kept = KeptBlock {
                    hidden_count: 0,
                    output_count: paths.len() as u64,
                    paths: paths.clone(),
                };
                let scaled = Scaled::from_rows(&weights, cols);
                let deviation = kept.deviation(&scaled, signed);
                let (sum, max) = naive_deviation(&paths, &weights, signed);
                assert_eq!(deviation.squared_sum, sum, "case {case} signed {signed}");
                assert_eq!(deviation.max, max, "case {case} signed {signed}");
            }
        }
    }
}
