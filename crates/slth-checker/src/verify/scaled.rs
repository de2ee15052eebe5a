//! A rational matrix as integer numerators over one common denominator.
//!
//! Sums of products then need no gcd: `sum_k A[k] B[k] = (sum_k a_k b_k) / (d_A d_B)`.
//! Dyadic weights (from f32/f64) share a power of two, so d stays small. The Frobenius
//! sums, Gram matrices and witness checks of docs/FORMAT.md section 6.2 are computed
//! this way.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// `value[r][c] = numer[r * cols + c] / denom`, with denom > 0.
pub(super) struct Scaled {
    pub rows: usize,
    pub cols: usize,
    pub numer: Vec<BigInt>,
    pub denom: BigInt,
}

impl Scaled {
    /// From `rows * cols` rationals in row-major order (checked by the caller): d = the lcm
    /// of their denominators, each numerator times d / its denominator. Cost: one lcm per
    /// distinct denominator, one division and multiplication per entry.
    pub fn new(rows: usize, cols: usize, values: &[BigRational]) -> Scaled {
        let denom = common_denominator(values.iter());
        let numer = values
            .iter()
            .map(|x| {
                if x.denom() == &denom {
                    x.numer().clone()
                } else {
                    x.numer() * (&denom / x.denom())
                }
            })
            .collect();
        Scaled {
            rows,
            cols,
            numer,
            denom,
        }
    }

    /// From rows of exactly `cols` rationals each.
    #[cfg(test)]
    pub fn from_rows(rows: &[Vec<BigRational>], cols: usize) -> Scaled {
        let values: Vec<BigRational> = rows.iter().flatten().cloned().collect();
        Scaled::new(rows.len(), cols, &values)
    }

    /// The numerator of entry (r, c), for r < rows and c < cols.
    pub fn at(&self, r: usize, c: usize) -> &BigInt {
        &self.numer[flat(r, self.cols, c)]
    }

    /// `sum_{r,c} value[r][c]^2` exactly, `(sum numer^2) / d^2`: the right side of the
    /// Frobenius check `L_i^2 >= sum W^2` (docs/FORMAT.md section 6.2). Cost: one square per
    /// entry and one gcd.
    pub fn frobenius_squared(&self) -> BigRational {
        let sum: BigInt = self.numer.iter().map(|x| x * x).sum();
        BigRational::new(sum, &self.denom * &self.denom)
    }

    /// The Gram matrix on the rows (`W W^T`, side `rows`) or on the columns (`W^T W`, side
    /// `cols`), as numerators over `denom^2`, row-major (G of docs/FORMAT.md section 6.2).
    /// Cost: `side^2 inner / 2` products (the upper triangle, mirrored), as i128 products of
    /// limbs ([`Limbs`]) while the numerators need at most [`MAX_LIMBS`] of them, else in
    /// BigInt; rows on every thread.
    pub fn gram(&self, on_rows: bool) -> Vec<BigInt> {
        let (side, inner) = if on_rows {
            (self.rows, self.cols)
        } else {
            (self.cols, self.rows)
        };
        let entry = |a: usize, k: usize| {
            if on_rows {
                self.at(a, k)
            } else {
                self.at(k, a)
            }
        };
        let limbs = Limbs::split(self, on_rows);
        // Row a of the upper triangle (b >= a).
        let upper = super::rows::map_rows(side, |a| {
            (a..side)
                .map(|b| match &limbs {
                    Some(limbs) => limbs.dot(a, b),
                    None => (0..inner).map(|k| entry(a, k) * entry(b, k)).sum(),
                })
                .collect::<Vec<BigInt>>()
        });
        // side^2 entries fit: side is that of a matrix or a witness factor in memory.
        let mut gram = vec![BigInt::zero(); side.saturating_mul(side)];
        for (a, row) in upper.into_iter().enumerate() {
            for (b, dot) in (a..side).zip(row) {
                gram[flat(b, side, a)] = dot.clone();
                gram[flat(a, side, b)] = dot;
            }
        }
        gram
    }
}

/// The most limbs a numerator is split into (16 dot products per Gram entry); wider
/// numerators take the BigInt path.
const MAX_LIMBS: usize = 4;

/// The Gram vectors of a [`Scaled`] matrix with numerators split into signed limbs:
/// x = sum_p limb_p 2^(bits p) with |limb_p| < 2^bits (each limb carries the sign of x).
/// `bits` is chosen so that a dot product of two limb vectors of length `inner` is below
/// inner 2^(2 bits) <= 2^126 in absolute value: it never overflows an i128, and an entry of
/// the Gram matrix is the exact sum of count^2 such dot products shifted into place.
/// Cost: count^2 i128 multiply-adds per product of entries, no allocation.
struct Limbs {
    count: usize,
    bits: u32,
    inner: usize,
    /// planes[p][a * inner + k]: limb p of entry k of vector a.
    planes: Vec<Vec<i64>>,
}

impl Limbs {
    /// None when a numerator needs more than [`MAX_LIMBS`] limbs, or the inner dimension
    /// leaves less than 8 bits a limb.
    fn split(matrix: &Scaled, on_rows: bool) -> Option<Limbs> {
        let (side, inner) = if on_rows {
            (matrix.rows, matrix.cols)
        } else {
            (matrix.cols, matrix.rows)
        };
        // inner <= 2^c, so inner 2^(2 bits) <= 2^(2 bits + c) <= 2^126.
        let c = usize::BITS.saturating_sub(inner.saturating_sub(1).leading_zeros());
        let bits = (126u32.checked_sub(c)? / 2).min(62);
        if bits < 8 {
            return None;
        }
        let widest = matrix.numer.iter().map(BigInt::bits).max().unwrap_or(0);
        let count = usize::try_from(widest.div_ceil(u64::from(bits)))
            .ok()?
            .max(1);
        if count > MAX_LIMBS {
            return None;
        }
        let cells = side.checked_mul(inner)?;
        let mut planes = vec![vec![0i64; cells]; count];
        for r in 0..matrix.rows {
            for col in 0..matrix.cols {
                let x = matrix.at(r, col);
                let (a, k) = if on_rows { (r, col) } else { (col, r) };
                let negative = x.sign() == num_bigint::Sign::Minus;
                let digits = x.magnitude().to_u64_digits();
                for (p, plane) in planes.iter_mut().enumerate() {
                    let limb = bit_range(&digits, u64::from(bits).saturating_mul(p as u64), bits);
                    // limb < 2^bits <= 2^62: both signs fit an i64.
                    let limb = limb as i64;
                    plane[flat(a, inner, k)] = if negative { limb.wrapping_neg() } else { limb };
                }
            }
        }
        Some(Limbs {
            count,
            bits,
            inner,
            planes,
        })
    }

    /// The exact dot product of vectors a and b.
    fn dot(&self, a: usize, b: usize) -> BigInt {
        let range = |v: usize| flat(v, self.inner, 0)..flat(v, self.inner, self.inner);
        let mut total = BigInt::zero();
        for p in 0..self.count {
            for q in 0..self.count {
                let (x, y) = (&self.planes[p][range(a)], &self.planes[q][range(b)]);
                // Never wraps: |x_k y_k| < 2^(2 bits) and inner of them sum below 2^126.
                let dot = x.iter().zip(y).fold(0i128, |sum, (&x, &y)| {
                    sum.wrapping_add(i128::from(x).wrapping_mul(i128::from(y)))
                });
                if dot != 0 {
                    total += BigInt::from(dot)
                        << u64::from(self.bits).saturating_mul(p.saturating_add(q) as u64);
                }
            }
        }
        total
    }
}

/// Bits start..start+bits (bits <= 63) of the little-endian magnitude `digits`.
fn bit_range(digits: &[u64], start: u64, bits: u32) -> u64 {
    let word = usize::try_from(start / 64).unwrap_or(usize::MAX);
    let shift = (start % 64) as u32;
    let low = digits.get(word).map_or(0, |&d| d >> shift);
    let high = match shift {
        0 => 0,
        _ => digits
            .get(word.saturating_add(1))
            .map_or(0, |&d| d << 64u32.saturating_sub(shift)),
    };
    (low | high) & (1u64 << bits).wrapping_sub(1)
}

/// The row-major index `r * cols + c`. Every caller has r < rows and c < cols of a matrix
/// held in memory, so the saturating operations never saturate.
pub(super) fn flat(r: usize, cols: usize, c: usize) -> usize {
    r.saturating_mul(cols).saturating_add(c)
}

/// The least common multiple of the denominators (1 for no values; never 0, since no
/// BigInt has more than u64::MAX bits, so the fallback 0 below is never taken).
pub(super) fn common_denominator<'a>(values: impl Iterator<Item = &'a BigRational>) -> BigInt {
    common_denominator_within(values, u64::MAX)
        .map(|(denom, _)| denom)
        .unwrap_or_default()
}

/// The least common multiple of the denominators and the largest `bits(numerator) -
/// bits(denominator)`, or `Err(bits)` as soon as the multiple passes `max_bits` bits (the
/// `--max-exact-bits` and `--max-scaled-bits` refusals of docs/FORMAT.md section 11, made
/// before a huge multiple is built). Cost: one remainder per value, one lcm per
/// denominator that does not divide the multiple so far.
pub(super) fn common_denominator_within<'a>(
    values: impl Iterator<Item = &'a BigRational>,
    max_bits: u64,
) -> Result<(BigInt, u64), u64> {
    let mut denom = BigInt::one();
    let mut excess = i64::MIN;
    for x in values {
        if !x.is_zero() {
            excess = excess.max((x.numer().bits() as i64).saturating_sub(x.denom().bits() as i64));
        }
        if x.denom().is_one() || (&denom % x.denom()).is_zero() {
            continue;
        }
        denom = crate::numbers::lcm(&denom, x.denom());
        if denom.bits() > max_bits {
            return Err(denom.bits());
        }
    }
    Ok((denom, excess.max(0).unsigned_abs()))
}

/// An exact sum of squares: 256 bits (`high 2^128 + low`) while it fits, then a BigInt.
/// sum E^2 (docs/FORMAT.md section 6.1) and sum D^2 (section 6.2) are summed in it.
#[derive(Default)]
pub(super) struct SquareSum {
    low: u128,
    high: u128,
    spilled: BigInt,
}

impl SquareSum {
    /// Adds x^2 exactly, from three 64-bit products: no BigInt unless the sum passes 2^256.
    pub fn add_square(&mut self, x: u128) {
        // x = x1 2^64 + x0: x^2 = x1^2 2^128 + x1 x0 2^65 + x0^2, each product < 2^128.
        let (x1, x0) = (x >> 64, x & u128::from(u64::MAX));
        // Nothing saturates: x1, x0 < 2^64, and x^2 < 2^256, so its high half fits.
        let middle = x1.saturating_mul(x0);
        let (low, carry) = x0.saturating_mul(x0).overflowing_add(middle << 65);
        let high = x1
            .saturating_mul(x1)
            .saturating_add(middle >> 63)
            .saturating_add(u128::from(carry));
        let (sum_low, carry) = self.low.overflowing_add(low);
        match self
            .high
            .checked_add(high)
            .and_then(|h| h.checked_add(u128::from(carry)))
        {
            Some(sum_high) => (self.low, self.high) = (sum_low, sum_high),
            None => {
                self.spilled += self.wide();
                (self.low, self.high) = (low, high);
            }
        }
    }

    /// Adds x (a square computed in BigInt).
    pub fn add_big(&mut self, x: BigInt) {
        self.spilled += x;
    }

    fn wide(&self) -> BigInt {
        (BigInt::from(self.high) << 128u32) + self.low
    }

    /// The exact sum.
    pub fn value(&self) -> BigInt {
        &self.spilled + self.wide()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn square_sums_are_exact_past_256_bits() {
        let mut state: u64 = 99;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state
        };
        let mut sum = SquareSum::default();
        let mut expected = BigInt::zero();
        let mut values = vec![0, 1, u128::MAX, u128::MAX, 1 << 64, (1 << 64) - 1];
        for _ in 0..200 {
            let x = (u128::from(next()) << 64 | u128::from(next())) >> (next() % 128);
            values.push(x);
        }
        for _ in 0..8 {
            values.push(u128::MAX);
        }
        for x in values {
            sum.add_square(x);
            expected += BigInt::from(x) * BigInt::from(x);
            assert_eq!(sum.value(), expected);
        }
        sum.add_big(BigInt::from(5));
        assert_eq!(sum.value(), expected + 5);
    }

    #[test]
    fn numerators_share_the_least_common_denominator() {
        let m = Scaled::from_rows(&[vec![q(1, 2), q(-1, 3)], vec![q(0, 1), q(5, 4)]], 2);
        assert_eq!(m.denom, BigInt::from(12));
        let expected: Vec<BigInt> = [6, -4, 0, 15].into_iter().map(BigInt::from).collect();
        assert_eq!(m.numer, expected);
        assert_eq!(m.frobenius_squared(), q(1, 4) + q(1, 9) + q(25, 16));
    }

    #[test]
    fn gram_matrices_on_rows_and_columns() {
        // W = [[1, 2, 3], [4, 5, 6]]: W W^T = [[14, 32], [32, 77]], W^T W is 3 x 3.
        let w = Scaled::from_rows(
            &[
                vec![q(1, 1), q(2, 1), q(3, 1)],
                vec![q(4, 1), q(5, 1), q(6, 1)],
            ],
            3,
        );
        let rows: Vec<i64> = vec![14, 32, 32, 77];
        assert_eq!(
            w.gram(true),
            rows.into_iter().map(BigInt::from).collect::<Vec<_>>()
        );
        let cols: Vec<i64> = vec![17, 22, 27, 22, 29, 36, 27, 36, 45];
        assert_eq!(
            w.gram(false),
            cols.into_iter().map(BigInt::from).collect::<Vec<_>>()
        );
    }
    /// The limb path against the plain BigInt sum of products, on numerators of 1 to 240
    /// bits of both signs (and zeros), both Gram sides, inner dimensions up to 3,000.
    #[test]
    fn limb_gram_matches_bigint_products() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for (rows, cols, max_bits) in [(3, 5, 70), (4, 700, 130), (7, 2, 240), (2, 9, 64)] {
            let numer: Vec<BigInt> = (0..rows * cols)
                .map(|_| {
                    let bits = next() % max_bits;
                    let mut x = BigInt::zero();
                    for _ in 0..bits.div_ceil(64) {
                        x = (x << 64u32) + next();
                    }
                    x >>= (64 - bits % 64) % 64;
                    match next() % 5 {
                        0 => BigInt::zero(),
                        1 | 2 => -x,
                        _ => x,
                    }
                })
                .collect();
            let m = Scaled {
                rows,
                cols,
                numer,
                denom: BigInt::one(),
            };
            for on_rows in [true, false] {
                let (side, inner) = if on_rows { (rows, cols) } else { (cols, rows) };
                let limbs = Limbs::split(&m, on_rows);
                let limbs = limbs.expect("at most 4 limbs");
                for a in 0..side {
                    for b in 0..side {
                        let at = |v: usize, k: usize| if on_rows { m.at(v, k) } else { m.at(k, v) };
                        let plain: BigInt = (0..inner).map(|k| at(a, k) * at(b, k)).sum();
                        assert_eq!(limbs.dot(a, b), plain, "{rows}x{cols} ({a}, {b})");
                    }
                }
                // And through gram(), which takes the limb path.
                let gram = m.gram(on_rows);
                assert_eq!(gram[flat(0, side, side - 1)], limbs.dot(0, side - 1));
            }
        }
    }
}
