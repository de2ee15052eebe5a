//! The constructions that choose a ticket, and the tolerance budget that steers them: one
//! file each. [`mod@pairs`] is Malach et al.'s construction (one product V U per path, width
//! O(1/tau) per input), [`mod@subset_sum`] Pensia et al.'s (a subset of a pool of O(log 1/tau)
//! neurons per input), [`mod@budget`] the per-block tolerances that make a requested epsilon.

pub mod budget;
pub mod pairs;
pub mod reachable;
pub mod subset_sum;

pub use budget::budget;
pub use pairs::{DEFAULT_MAX_WIDTH, PairsSettings, pairs, pairs_block, within_tolerance};
pub use subset_sum::{SubsetSumSettings, subset_sum};

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
