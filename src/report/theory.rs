//! The width formulas of the two theorems, as the figures draw them. Neither paper gives
//! its constant, so both are drawn with constant 1: they show the theory's trend up to a
//! constant, not a bound one can compare to the digit.
//!
//! - Pensia et al. (NeurIPS 2020, Theorem 1): block i of g has hidden width
//!   `C n_{i-1} log(n_{i-1} n_i l / epsilon)`; drawn as [`pensia_width`], C = 1, natural
//!   logarithm (the measured subset-sum widths of BENCHMARKS.md are 0.8 to 1.0 times this).
//! - Malach et al. (ICML 2020, Theorem 2.1): a width polynomial in d, l and 1/epsilon, which
//!   Pensia et al. summarize as a factor O(d^4 l^2) wider than the target (d its largest
//!   width). The report draws [`malach_width`], `n_{i-1} d^4 l^2` with constant 1 and
//!   without the epsilon factor that summary leaves out; the sweep draws its trend in
//!   epsilon, `1 / epsilon` (a single product V U lands within a tolerance tau of a weight
//!   with probability about tau, so one product per path needs about 1/tau neurons per
//!   weight, and tau is proportional to epsilon), through the pairs width measured at the
//!   largest epsilon.

/// What the figures and `--json` say about the formulas.
pub const PENSIA: &str = "Pensia et al. (NeurIPS 2020), subset sum: block i width C n_(i-1) ln(n_(i-1) n_i l / epsilon), drawn with C = 1 (C is not given)";
/// What the figures and `--json` say about the report's Malach et al. reference.
pub const MALACH: &str = "Malach et al. (ICML 2020), pairs: width polynomial in d, l, 1/epsilon; drawn as n_(i-1) d^4 l^2 (Pensia et al.'s summary: a factor O(d^4 l^2) wider than the target, d its largest width), constant 1, without the epsilon factor";
/// What the sweep says about its Malach et al. trend.
pub const MALACH_TREND: &str = "Malach et al. (ICML 2020), pairs: trend 1/epsilon (one product per path), through the pairs width at the largest epsilon; the constant and the theorem's exponents are not reproduced";

/// Pensia et al.'s hidden width of one block with constant 1: `n_in ln(n_in n_out l / epsilon)`
/// (at least 0).
pub fn pensia_width(n_in: usize, n_out: usize, layers: usize, epsilon: f64) -> f64 {
    let argument = (n_in * n_out * layers) as f64 / epsilon;
    (n_in as f64 * argument.ln()).max(0.0)
}

/// Pensia et al.'s widths summed over the blocks of a target with widths `dims`.
pub fn pensia_total(dims: &[usize], epsilon: f64) -> f64 {
    let l = dims.len().saturating_sub(1);
    dims.windows(2)
        .map(|w| pensia_width(w[0], w[1], l, epsilon))
        .sum()
}

/// The report's Malach et al. reference for one block: `n_in d^4 l^2`, d the largest width
/// of the target.
pub fn malach_width(n_in: usize, dims: &[usize]) -> f64 {
    let d = dims.iter().copied().max().unwrap_or(1) as f64;
    let l = dims.len().saturating_sub(1) as f64;
    n_in as f64 * d.powi(4) * l * l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_by_hand() {
        // 8 ln(8 * 8 * 3 / 0.1) = 8 ln 1920
        let w = pensia_width(8, 8, 3, 0.1);
        assert!((w - 8.0 * 1920f64.ln()).abs() < 1e-9);
        assert!((pensia_total(&[8, 8, 8, 1], 0.1) - (2.0 * w + 8.0 * 240f64.ln())).abs() < 1e-9);
        assert_eq!(malach_width(3, &[3, 2, 1]), 3.0 * 81.0 * 4.0);
    }
}
