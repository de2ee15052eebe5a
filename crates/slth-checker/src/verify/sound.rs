//! The sound f64 filter for the inequalities of docs/FORMAT.md section 6 (the default of `slth verify`).
//!
//! Every quantity is computed in f64 and rounded outward after every operation. If the
//! exact result of an operation on f64 operands is x and the f64 result (rounded to
//! nearest) is r, then `next_down(r) <= x <= next_up(r)`: rounding to nearest moves by less
//! than one ulp, and a result that overflows to +-inf lies beyond +-f64::MAX. So a lower
//! bound is carried as `next_down` of the operation on lower bounds, an upper bound as
//! `next_up` of the operation on upper bounds, and a rational of the certificate enters as
//! the closest f64 on each side ([`enclose`]).
//!
//! Each check compares an upper bound of the computed side with a lower bound of the claim,
//! so "holds in f64" implies "holds exactly". A NaN (inf - inf, 0 * inf) fails every
//! comparison and can only leave the filter undecided, never make it accept. Where the
//! filter is undecided (a false claim, or a true one within rounding of the truth) the
//! caller runs the exact check, as CGAL's filtered predicates do.

use super::TargetLayer;
use super::kept::KeptBlock;
use super::scaled::flat;
use crate::numbers::enclose;
use crate::sampler::WEIGHT_SCALE;
use num_rational::BigRational;

/// The next f64 toward +inf: an upper bound of the exact result whose rounding to nearest
/// gave x (module docs).
#[inline]
fn up(x: f64) -> f64 {
    x.next_up()
}

/// The next f64 toward -inf: a lower bound of the exact result whose rounding to nearest
/// gave x.
#[inline]
fn down(x: f64) -> f64 {
    x.next_down()
}

/// The larger of two bounds; NaN if either is NaN (`f64::max` would drop a NaN).
#[inline]
fn larger(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Upper bounds of what block i's checks compare with its claims (docs/FORMAT.md sections
/// 6.1 and 6.2).
pub(super) struct BlockBounds {
    /// `>= sum_{m,t} E_i[m][t]^2`
    pub squared_sum: f64,
    /// `>= max_{m,t} E_i[m][t]`
    pub max: f64,
    /// `>= sum_{m,t} W_i[m][t]^2`
    pub frobenius_squared: f64,
}

/// An upper bound of |S - W| for S in [s.0, s.1] and W in [w.0, w.1]:
/// max(s.1 - w.0, w.1 - s.0), each rounded up.
#[inline]
fn distance_upper(s: (f64, f64), w: (f64, f64)) -> f64 {
    larger(up(s.1 - w.0), up(w.1 - s.0))
}

/// Outward-rounded P, Q, E and Frobenius sums of one block (docs/FORMAT.md sections 6.1 and
/// 6.2): upper bounds of sum E_i^2, max E_i and sum W_i^2.
///
/// P and Q are intervals per entry of W: every weight of g is an odd multiple of 2^-53,
/// exact in f64, and a product V * U has magnitude >= 2^-106, far from underflow. Cost:
/// one product and four roundings per path, one enclosure of W per entry.
pub(super) fn block_bounds(kept: &KeptBlock, target: &TargetLayer, signed: bool) -> BlockBounds {
    let cells = target.weights.len();
    let mut p = vec![(0.0f64, 0.0f64); cells];
    let mut q = vec![(0.0f64, 0.0f64); if signed { cells } else { 0 }];
    let scale = WEIGHT_SCALE as f64;
    for path in kept.paths() {
        let sums = if path.hidden > 0 {
            &mut p[path.cell]
        } else if signed {
            &mut q[path.cell]
        } else {
            continue;
        };
        let product = (path.output as f64 / scale) * (path.hidden as f64 / scale);
        sums.0 = down(sums.0 + down(product));
        sums.1 = up(sums.1 + up(product));
    }

    let mut bounds = BlockBounds {
        squared_sum: 0.0,
        max: 0.0,
        frobenius_squared: 0.0,
    };
    for (cell, weight) in target.weights.iter().enumerate() {
        let w = enclose(weight);
        let mut e = distance_upper(p[cell], w);
        if signed {
            e = larger(e, distance_upper(q[cell], w));
        }
        bounds.squared_sum = up(bounds.squared_sum + up(e * e));
        bounds.max = larger(bounds.max, e);
        let w_abs = larger(w.1, -w.0);
        bounds.frobenius_squared = up(bounds.frobenius_squared + up(w_abs * w_abs));
    }
    bounds
}

/// An enclosure `(lo, hi)` of a product of enclosures: the smallest and largest of the
/// four products of ends, rounded outward (NaN if one is NaN).
#[inline]
fn times(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    if a.0 == a.1 && b.0 == b.1 {
        let p = a.0 * b.0;
        return (down(p), up(p));
    }
    let products = [a.0 * b.0, a.0 * b.1, a.1 * b.0, a.1 * b.1];
    if products.iter().any(|p| p.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let lo = products.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = products.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (down(lo), up(hi))
}

/// An enclosure of `sum_k x_k y_k`: the products' enclosures summed with outward rounding.
/// Cost: four products and a few roundings per term.
fn dot(x: &[(f64, f64)], y: &[(f64, f64)]) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(y) {
        let p = times(a, b);
        lo = down(lo + p.0);
        hi = up(hi + p.1);
    }
    (lo, hi)
}

/// Largest magnitude of an entry for [`dot_exact`]: with |x|, |y| <= 2^100 every product is
/// at most 2^200 and every sum of fewer than 2^64 of them at most 2^264, so nothing in the
/// loop is infinite or NaN.
const DOT_EXACT_LIMIT: f64 = 1.2676506002282294e30; // 2^100

/// `next_up` for a finite x, without branches: after `x + 0.0` (which turns -0 into +0) the
/// bit pattern of a value >= +0 steps up by one and that of a negative value down by one,
/// which moves it one ulp toward +inf. (`f64::next_up` branches on the sign, and the signs
/// of products in a dot product are unpredictable.)
#[inline]
fn up_finite(x: f64) -> f64 {
    let y = x + 0.0;
    let step: i64 = if y < 0.0 { -1 } else { 1 };
    f64::from_bits((y.to_bits() as i64).wrapping_add(step) as u64)
}

/// `next_down` for a finite x: `-next_up(-x)`.
#[inline]
fn down_finite(x: f64) -> f64 {
    -up_finite(-x)
}

/// An enclosure of `sum_k x_k y_k` for exact f64 vectors with entries of magnitude at most
/// [`DOT_EXACT_LIMIT`], in four independent partial sums (the rounding chain of a single
/// sum would serialize the loop).
fn dot_exact(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (mut lo, mut hi) = ([0.0f64; 4], [0.0f64; 4]);
    let (xs, ys) = (x.chunks_exact(4), y.chunks_exact(4));
    let tail = xs.remainder().iter().zip(ys.remainder());
    for (a, b) in xs.zip(ys) {
        for lane in 0..4 {
            let p = a[lane] * b[lane];
            lo[lane] = down_finite(lo[lane] + down_finite(p));
            hi[lane] = up_finite(hi[lane] + up_finite(p));
        }
    }
    for (a, b) in tail {
        let p = a * b;
        lo[0] = down_finite(lo[0] + down_finite(p));
        hi[0] = up_finite(hi[0] + up_finite(p));
    }
    (
        down(down(lo[0] + lo[1]) + down(lo[2] + lo[3])),
        up(up(hi[0] + hi[1]) + up(hi[2] + hi[3])),
    )
}

/// Vectors of enclosures `[lo, hi]`, and, when every end is within [`DOT_EXACT_LIMIT`], the
/// same as lower ends and widths: x = lo + d with 0 <= d <= width (width = 0 for a point).
struct Vectors {
    enclosures: Vec<(f64, f64)>,
    split: Option<Split>,
}

/// Lower ends, widths rounded up, and whether every width is 0; for vectors of `inner`
/// entries each (a Gram matrix's), per vector the sum of |lower ends| and the largest
/// width, both rounded up.
struct Split {
    low: Vec<f64>,
    width: Vec<f64>,
    points: bool,
    inner: usize,
    sums: Vec<(f64, f64)>,
}

impl Vectors {
    fn new(enclosures: Vec<(f64, f64)>) -> Vectors {
        Vectors::of_length(enclosures, 0)
    }

    /// Vectors of `inner` entries each, laid end to end. Cost: one pass, and per vector a
    /// sum of |lower ends| when some width is not 0.
    fn of_length(enclosures: Vec<(f64, f64)>, inner: usize) -> Vectors {
        let within = |x: f64| x.abs() <= DOT_EXACT_LIMIT;
        let split = enclosures
            .iter()
            .all(|e| within(e.0) && within(e.1))
            .then(|| {
                let low: Vec<f64> = enclosures.iter().map(|e| e.0).collect();
                let width: Vec<f64> = enclosures
                    .iter()
                    .map(|e| if e.0 == e.1 { 0.0 } else { up(e.1 - e.0) })
                    .collect();
                let points = width.iter().all(|w| *w == 0.0);
                // Per-vector sums serve only where some width is not 0.
                let sums = if points || inner == 0 {
                    Vec::new()
                } else {
                    low.chunks(inner)
                        .zip(width.chunks(inner))
                        .map(|(l, w)| {
                            let l1 = l.iter().fold(0.0, |sum, x| up_finite(sum + x.abs()));
                            (l1, w.iter().copied().fold(0.0, f64::max))
                        })
                        .collect()
                };
                Split {
                    low,
                    width,
                    points,
                    inner,
                    sums,
                }
            });
        Vectors { enclosures, split }
    }

    /// An enclosure of the dot product of the slices `a` and `b`: for x = lo_x + d_x and
    /// y = lo_y + d_y, `x y - lo_x lo_y = lo_x d_y + d_x lo_y + d_x d_y`, at most
    /// `|lo_x| w_y + w_x |lo_y| + w_x w_y` in size, so the exact dot product of the lower
    /// ends widened by the sum of those bounds (rounded up) encloses it.
    fn dot(&self, a: std::ops::Range<usize>, b: std::ops::Range<usize>) -> (f64, f64) {
        let Some(split) = &self.split else {
            return dot(&self.enclosures[a], &self.enclosures[b]);
        };
        let (lo, hi) = dot_exact(&split.low[a.clone()], &split.low[b.clone()]);
        if split.points {
            return (lo, hi);
        }
        // Whole vectors: sum_k |lo_x| w_y <= ||lo_x||_1 max w_y, and sum_k w_x w_y <=
        // inner max w_x max w_y, from the sums kept per vector.
        let whole = |r: &std::ops::Range<usize>| {
            let vector = r.start.checked_div(split.inner)?;
            (r.len() == split.inner && r.start.is_multiple_of(split.inner))
                .then(|| split.sums.get(vector))
                .flatten()
        };
        if let (Some(&(l1_a, w_a)), Some(&(l1_b, w_b))) = (whole(&a), whole(&b)) {
            let cross = up_finite(up_finite(l1_a * w_b) + up_finite(w_a * l1_b));
            let square = up_finite(up_finite(split.inner as f64 * w_a) * w_b);
            let spread = up_finite(cross + square);
            return (down(lo - spread), up(hi + spread));
        }
        let terms = split.low[a.clone()]
            .iter()
            .zip(&split.width[a])
            .zip(split.low[b.clone()].iter().zip(&split.width[b]));
        let mut spread = 0.0f64;
        for ((x, wx), (y, wy)) in terms {
            let term = up_finite(
                up_finite(up_finite(x.abs() * wy) + up_finite(wx * y.abs())) + up_finite(wx * wy),
            );
            spread = up_finite(spread + term);
        }
        (down(lo - spread), up(hi + spread))
    }
}

/// A matrix as the f64 filter reads it: its shape and an enclosure of each entry,
/// row-major. A target layer, or an error matrix M_i kept as integers over one denominator
/// (each entry made a rational only while it is enclosed, so that M_i is never held as
/// rationals).
pub(super) trait Enclosed {
    fn rows(&self) -> usize;
    fn cols(&self) -> usize;
    /// How many entries there are (rows times cols, as held in memory).
    fn len(&self) -> usize;
    /// An enclosure of entry k (row-major).
    fn enclosure(&self, k: usize) -> (f64, f64);
}

impl Enclosed for TargetLayer {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
    fn len(&self) -> usize {
        self.weights.len()
    }
    fn enclosure(&self, k: usize) -> (f64, f64) {
        enclose(&self.weights[k])
    }
}

impl Enclosed for super::scaled::Scaled {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
    fn len(&self) -> usize {
        self.numer.len()
    }
    fn enclosure(&self, k: usize) -> (f64, f64) {
        // Unreduced (the denominator is positive): an enclosure needs no lowest terms.
        enclose(&BigRational::new_raw(
            self.numer[k].clone(),
            self.denom.clone(),
        ))
    }
}

impl Enclosed for super::errors::ErrorMatrix<'_> {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
    fn len(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }
    fn enclosure(&self, k: usize) -> (f64, f64) {
        // Unreduced, as above: a gcd per entry of M_i was a fifth of verify's time on a
        // 784-500-10 certificate.
        enclose(&BigRational::new_raw(self.numerator(k), self.denom.clone()))
    }
}

/// The vectors whose dot products make the Gram matrix, `inner` entries each: the rows of
/// W (G = W W^T, `on_rows`) or its columns (G = W^T W).
fn gram_vectors(target: &impl Enclosed, on_rows: bool) -> (Vectors, usize) {
    let inner = if on_rows {
        target.cols()
    } else {
        target.rows()
    };
    let mut vectors = vec![(0.0, 0.0); target.len()];
    // Rows of `cols` weights (no weights at all when cols = 0).
    let cols = target.cols().max(1);
    for k in 0..target.len() {
        let (m, t) = (
            k.checked_div(cols).unwrap_or(0),
            k.checked_rem(cols).unwrap_or(0),
        );
        let at = if on_rows {
            flat(m, inner, t)
        } else {
            flat(t, inner, m)
        };
        vectors[at] = target.enclosure(k);
    }
    (Vectors::of_length(vectors, inner), inner)
}

/// An enclosure of a / p for an enclosure p of a positive number (p.0 > 0): the smallest
/// and largest of the four quotients of ends, rounded outward.
fn divide(a: (f64, f64), p: (f64, f64)) -> (f64, f64) {
    let quotients = [a.0 / p.0, a.0 / p.1, a.1 / p.0, a.1 / p.1];
    if quotients.iter().any(|q| q.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let lo = quotients.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = quotients.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (down(lo), up(hi))
}

/// Whether `L^2 I - G` is positive definite (so positive semidefinite, the spectral claim
/// of docs/FORMAT.md section 6.2), G on the smaller side as in the exact check: symmetric elimination
/// without pivoting in interval arithmetic. Every interval contains the value the exact
/// elimination computes at that step, so pivots with positive lower bounds prove every
/// exact pivot positive. False when a pivot interval reaches 0 or below (a false claim, a
/// singular matrix or a claim within rounding of ||W||_2: the exact check decides).
///
/// Cost: `n^2 m / 2` enclosed products for the Gram matrix and `n^3 / 6` for the elimination
/// (side n, inner dimension m).
pub(super) fn spectral_holds(lipschitz: &BigRational, target: &impl Enclosed) -> bool {
    let on_rows = target.rows() <= target.cols();
    let n = target.rows().min(target.cols());
    let l = enclose(lipschitz);
    if l.0.is_nan() || l.0 < 0.0 {
        return false;
    }
    let square = (down(l.0 * l.0), up(l.1 * l.1));
    let (vectors, inner) = gram_vectors(target, on_rows);
    // The upper triangle of L^2 I - G, row-major.
    // n^2 <= rows cols, the weights in memory.
    let mut m = vec![(0.0, 0.0); n.saturating_mul(n)];
    let vector = |a: usize| flat(a, inner, 0)..flat(a, inner, inner);
    for a in 0..n {
        for c in a..n {
            let g = vectors.dot(vector(a), vector(c));
            m[flat(a, n, c)] = if a == c {
                (down(square.0 - g.1), up(square.1 - g.0))
            } else {
                (-g.1, -g.0)
            };
        }
    }
    for k in 0..n {
        let pivot = m[flat(k, n, k)];
        if pivot.0.is_nan() || pivot.0 <= 0.0 {
            return false;
        }
        for i in (k..n).skip(1) {
            // M[i][j] -= (M[k][i] / M[k][k]) M[k][j]  for j >= i
            let factor = divide(m[flat(k, n, i)], pivot);
            for j in i..n {
                let t = times(factor, m[flat(k, n, j)]);
                let x = m[flat(i, n, j)];
                m[flat(i, n, j)] = (down(x.0 - t.1), up(x.1 - t.0));
            }
        }
    }
    true
}

/// Whether a spectral witness (docs/FORMAT.md section 6.2) holds in f64 with outward rounding:
/// `shift >= 0`, `L >= 0` and `sum_{a,b} D[a][b]^2 <= shift^2` for
/// `D = L^2 I - G - shift I - R^T R`, G the Gram matrix on the side of R. False also for a
/// witness of the wrong shape (the exact check names the problem).
///
/// Cost: `n^2 m / 2 + n^3 / 6` enclosed products for side n and inner dimension m.
pub(super) fn witness_holds(
    lipschitz: &BigRational,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
    target: &impl Enclosed,
) -> bool {
    let n = factor.len();
    let on_rows = if n == target.rows() {
        true
    } else if n == target.cols() {
        false
    } else {
        return false;
    };
    if factor
        .iter()
        .enumerate()
        .any(|(a, row)| a.checked_add(row.len()) != Some(n))
    {
        return false;
    }
    let (l, delta) = (enclose(lipschitz), enclose(shift));
    if !(l.0 >= 0.0 && delta.0 >= 0.0) {
        return false;
    }
    // L^2 - shift, the diagonal of D before G and R^T R.
    let diagonal = (down(down(l.0 * l.0) - delta.1), up(up(l.1 * l.1) - delta.0));
    let (vectors, inner) = gram_vectors(target, on_rows);
    let vector = |a: usize| flat(a, inner, 0)..flat(a, inner, inner);
    // Column a of R, R[k][a] for k <= a (stored at factor[k][a - k]), from offset a(a+1)/2
    // (below the n(n+1)/2 entries of the factor in memory, so nothing saturates).
    let column = |a: usize, len: usize| {
        let start = a.saturating_mul(a.saturating_add(1)) / 2;
        start..start.saturating_add(len)
    };
    let columns = Vectors::new(
        (0..n)
            .flat_map(|a| (0..=a).map(move |k| (k, a)))
            .map(|(k, a)| enclose(&factor[k][a.saturating_sub(k)]))
            .collect(),
    );

    // Row a's part of sum D^2 (columns c >= a), rows on every thread, then added in row
    // order: the same upper bound whatever the thread count.
    let rows = super::rows::map_rows(n, |a| {
        let mut sum = 0.0f64;
        for c in a..n {
            let g = vectors.dot(vector(a), vector(c));
            // (R^T R)[a][c] = sum_{k <= a} R[k][a] R[k][c]
            let len = a.saturating_add(1);
            let s = columns.dot(column(a, len), column(c, len));
            let base = if a == c { diagonal } else { (0.0, 0.0) };
            let d = (down(down(base.0 - g.1) - s.1), up(up(base.1 - g.0) - s.0));
            let magnitude = larger(d.1, -d.0);
            let square = up(magnitude * magnitude);
            // D is symmetric: an off-diagonal square counts twice.
            sum = up(sum + if a == c { square } else { up(2.0 * square) });
        }
        sum
    });
    let sum = rows.into_iter().fold(0.0f64, |sum, row| up(sum + row));
    sum <= down(delta.0 * delta.0)
}

/// Whether `x >= 0` and `x^2 >= bound` follow from the f64 enclosure of x: `lo >= 0` and
/// `bound <= lo^2` rounded down, for an upper bound `bound` of the other side. Used for
/// `c_i^2 >= sum E_i^2` and `L_i^2 >= sum W_i^2` (docs/FORMAT.md section 6.2).
pub(super) fn square_covers(x: &BigRational, bound: f64) -> bool {
    let (lo, _) = enclose(x);
    lo >= 0.0 && bound <= down(lo * lo)
}

/// Whether `x >= bound` follows from the f64 enclosure of x, for an upper bound `bound` of
/// the other side: `epsilon >= e_l` (docs/FORMAT.md section 6.3).
pub(super) fn at_least(x: &BigRational, bound: f64) -> bool {
    bound <= enclose(x).0
}

/// Upper bounds of e_1..e_l (docs/FORMAT.md section 6.3) for the claims (c_i, L_i), all >= 0, and radius r >= 0:
/// `a_0 = r, e_0 = 0, e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}, a_i = L_i a_{i-1}`.
/// Every term is non-negative, so upper bounds in give upper bounds out.
pub(super) fn chain_upper<'a>(
    radius: &BigRational,
    claims: impl IntoIterator<Item = (&'a BigRational, &'a BigRational)>,
) -> Vec<f64> {
    let (mut a, mut e) = (enclose(radius).1, 0.0f64);
    claims
        .into_iter()
        .map(|(error, lipschitz)| {
            let (c, l) = (enclose(error).1, enclose(lipschitz).1);
            e = up(up(c * up(a + e)) + up(l * e));
            a = up(l * a);
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_traits::{One, Zero};

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    fn exact(x: f64) -> BigRational {
        BigRational::from_float(x).unwrap()
    }

    /// The enclosure is tight: lo <= x <= hi, adjacent or equal, equal only for an f64.
    fn assert_tight(x: &BigRational) {
        let (lo, hi) = enclose(x);
        if lo.is_finite() {
            assert!(&exact(lo) <= x, "{x}: lo {lo:e}");
        }
        if hi.is_finite() {
            assert!(&exact(hi) >= x, "{x}: hi {hi:e}");
        }
        assert!(
            lo == hi || up(lo) == hi,
            "{x}: {lo:e} .. {hi:e} not adjacent"
        );
        if lo == hi {
            assert_eq!(&exact(lo), x);
        }
    }

    #[test]
    fn enclosures_are_tight_and_contain_the_value() {
        let mut cases = vec![
            q(0, 1),
            q(1, 3),
            q(-1, 3),
            q(1, 10),
            q(-7, 1 << 40),
            q(1 << 53, 3),
            q((1 << 53) + 1, 1),
            q(-((1 << 53) + 1), 7),
            q(i64::MAX, 1 << 62),
            q(1, i64::MAX),
        ];
        let big = BigInt::one() << 1100u32;
        cases.push(BigRational::new(big.clone(), BigInt::from(3)));
        cases.push(BigRational::new(-big.clone(), BigInt::from(3)));
        cases.push(BigRational::new(BigInt::from(1), big.clone()));
        cases.push(BigRational::new(BigInt::from(-1), big.clone()));
        cases.push(exact(f64::MAX));
        cases.push(exact(f64::MAX) + q(1, 1));
        cases.push(exact(f64::MIN_POSITIVE) / q(3, 1));
        let mut state: u64 = 17;
        for _ in 0..300 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = (state >> 1) as i64 >> (state % 60);
            let d = ((state >> 20) % (1 << 40)) as i64 + 1;
            cases.push(q(n, d));
            cases.push(q(-n, d) * q(10, 1).pow((state % 40) as i32 - 20));
        }
        for x in &cases {
            assert_tight(x);
        }
        assert_eq!(enclose(&(exact(f64::MAX) + q(1, 1))).1, f64::INFINITY);
    }

    #[test]
    fn branch_free_steps_match_next_up_and_next_down() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            1e300,
            -1e300,
            0.1,
            -2.5e-200,
        ];
        for x in values {
            assert_eq!(up_finite(x).to_bits(), up(x).to_bits(), "{x:e}");
            assert_eq!(down_finite(x).to_bits(), down(x).to_bits(), "{x:e}");
        }
        assert_eq!(up_finite(-5e-324), 0.0);
        assert_eq!(DOT_EXACT_LIMIT, 2.0f64.powi(100));
    }

    #[test]
    fn dot_products_enclose_the_exact_sum() {
        let mut state: u64 = 5;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
                * 2.0f64.powi((state % 40) as i32 - 20)
        };
        for len in [0usize, 1, 3, 4, 5, 17, 64] {
            let x: Vec<f64> = (0..len).map(|_| next()).collect();
            let y: Vec<f64> = (0..len).map(|_| next()).collect();
            let sum: BigRational = x.iter().zip(&y).map(|(a, b)| exact(*a) * exact(*b)).sum();
            let (lo, hi) = dot_exact(&x, &y);
            assert!(exact(lo) <= sum && sum <= exact(hi), "len {len}");
            let points: Vec<(f64, f64)> = x.iter().map(|&a| (a, a)).collect();
            let others: Vec<(f64, f64)> = y.iter().map(|&b| (down(b), up(b))).collect();
            let (lo, hi) = dot(&points, &others);
            assert!(exact(lo) <= sum && sum <= exact(hi), "len {len}");
        }
    }

    #[test]
    fn rounded_operations_bound_the_exact_ones() {
        let xs = [0.1, 1.0 / 3.0, 2.0f64.powi(-106), 1e150, -7.25, 3.0e-10];
        for &a in &xs {
            for &b in &xs {
                let (ea, eb) = (exact(a), exact(b));
                let sum = &ea + &eb;
                assert!(exact(down(a + b)) <= sum && sum <= exact(up(a + b)));
                let product = &ea * &eb;
                assert!(exact(down(a * b)) <= product && product <= exact(up(a * b)));
            }
        }
    }

    #[test]
    fn square_and_epsilon_checks_never_accept_a_false_claim() {
        let third = q(1, 3);
        let square = &third * &third;
        let (_, square_hi) = enclose(&square);
        assert!(square_covers(&q(1, 2), square_hi));
        // c = 1/3 exactly meets c^2 = 1/9, but its rounded square cannot prove it.
        assert!(!square_covers(&third, square_hi));
        assert!(!square_covers(&q(-1, 2), 0.0));
        assert!(!square_covers(&q(1, 2), f64::NAN));
        assert!(at_least(&q(1, 2), 0.5));
        assert!(!at_least(&q(1, 2), 0.5f64.next_up()));
        assert!(!at_least(&q(1, 2), f64::NAN));
    }

    fn layer(rows: usize, cols: usize, values: &[i64], denominator: i64) -> TargetLayer {
        TargetLayer {
            rows,
            cols,
            weights: values.iter().map(|&v| q(v, denominator)).collect(),
        }
    }

    #[test]
    fn interval_elimination_proves_only_true_spectral_claims() {
        // W = [[3, 4], [0, 5]] / 10: W W^T = [[25, 20], [20, 25]] / 100 has eigenvalues 0.45
        // and 0.05, so ||W||_2 = sqrt(0.45) ~ 0.67082.
        let w = layer(2, 2, &[3, 4, 0, 5], 10);
        assert!(spectral_holds(&q(6709, 10000), &w));
        assert!(spectral_holds(&q(1, 1), &w));
        assert!(!spectral_holds(&q(6708, 10000), &w));
        assert!(!spectral_holds(&q(-1, 1), &w));
        // A single row [2, 3, 6] / 10: ||W||_2 = 7/10 exactly. At 7/10 the matrix is
        // singular and only the exact check can accept.
        let row = layer(1, 3, &[2, 3, 6], 10);
        assert!(!spectral_holds(&q(7, 10), &row));
        assert!(spectral_holds(&q(7001, 10000), &row));
        assert!(!spectral_holds(&q(6999, 10000), &row));
        // The same as a column; an empty side holds for any L >= 0.
        let column = layer(3, 1, &[2, 3, 6], 10);
        assert!(spectral_holds(&q(7001, 10000), &column));
        assert!(!spectral_holds(&q(6999, 10000), &column));
        assert!(spectral_holds(&q(0, 1), &layer(0, 4, &[], 1)));
    }

    #[test]
    fn the_chain_bounds_the_exact_chain() {
        let claims = [(q(1, 100), q(3, 2)), (q(1, 7), q(5, 4)), (q(0, 1), q(1, 1))];
        let radius = q(10, 3);
        let bounds = chain_upper(&radius, claims.iter().map(|(c, l)| (c, l)));
        let (mut a, mut e) = (radius.clone(), BigRational::zero());
        for ((c, l), bound) in claims.iter().zip(bounds) {
            e = c * (&a + &e) + l * &e;
            a = l * &a;
            assert!(e <= exact(bound), "{e} vs {bound:e}");
            assert!(exact(bound) <= &e * q(1_000_001, 1_000_000));
        }
        // a_i overflows and 0 * inf is NaN: no epsilon can be proven in f64 then.
        let (zero, huge, one) = (q(0, 1), exact(f64::MAX), q(1, 1));
        let overflow = chain_upper(&one, [(&zero, &huge), (&zero, &huge), (&one, &one)]);
        let last = *overflow.last().unwrap();
        assert!(last.is_nan() || last == f64::INFINITY, "{last}");
        assert!(!at_least(&(exact(f64::MAX) * exact(f64::MAX)), last));
    }
}
