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
    /// Cost: `side^2 inner / 2` products (the upper triangle, mirrored), in i128 while
    /// the numerators fit an i64 and a dot product does not overflow, else in BigInt.
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
        // i64 numerators make i128 products; a sum that overflows is redone in BigInt.
        let small: Option<Vec<i64>> = self.numer.iter().map(|x| i64::try_from(x).ok()).collect();
        let small_entry = |small: &[i64], a: usize, k: usize| {
            i128::from(if on_rows {
                small[flat(a, self.cols, k)]
            } else {
                small[flat(k, self.cols, a)]
            })
        };
        // side^2 entries fit: side is that of a matrix or a witness factor in memory.
        let mut gram = vec![BigInt::zero(); side.saturating_mul(side)];
        for a in 0..side {
            for b in a..side {
                let fast = small.as_deref().and_then(|small| {
                    (0..inner).try_fold(0i128, |sum, k| {
                        // i64 times i64 never saturates an i128.
                        sum.checked_add(
                            small_entry(small, a, k).saturating_mul(small_entry(small, b, k)),
                        )
                    })
                });
                let dot: BigInt = match fast {
                    Some(dot) => dot.into(),
                    None => (0..inner).map(|k| entry(a, k) * entry(b, k)).sum(),
                };
                gram[flat(b, side, a)] = dot.clone();
                gram[flat(a, side, b)] = dot;
            }
        }
        gram
    }
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
}
