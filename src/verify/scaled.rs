//! A rational matrix as integer numerators over one common denominator.
//!
//! Sums of products then need no gcd: `sum_k A[k] B[k] = (sum_k a_k b_k) / (d_A d_B)`.
//! Dyadic weights (from f32/f64) share a power of two, so d stays small.

use num_bigint::BigInt;
use num_integer::Integer;
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
    /// From rows of exactly `cols` rationals each (checked by the caller).
    pub fn from_rows(rows: &[Vec<BigRational>], cols: usize) -> Scaled {
        let denom = common_denominator(rows.iter().flatten());
        let numer = rows
            .iter()
            .flatten()
            .map(|x| x.numer() * (&denom / x.denom()))
            .collect();
        Scaled {
            rows: rows.len(),
            cols,
            numer,
            denom,
        }
    }

    /// The numerator of entry (r, c), for r < rows and c < cols.
    pub fn at(&self, r: usize, c: usize) -> &BigInt {
        &self.numer[r * self.cols + c]
    }

    /// `sum_{r,c} value[r][c]^2` exactly.
    pub fn frobenius_squared(&self) -> BigRational {
        let sum: BigInt = self.numer.iter().map(|x| x * x).sum();
        BigRational::new(sum, &self.denom * &self.denom)
    }

    /// The Gram matrix on the rows (`W W^T`, side `rows`) or on the columns (`W^T W`, side
    /// `cols`), as numerators over `denom^2`, row-major.
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
        let mut gram = vec![BigInt::zero(); side * side];
        for a in 0..side {
            for b in a..side {
                let dot: BigInt = (0..inner).map(|k| entry(a, k) * entry(b, k)).sum();
                gram[b * side + a] = dot.clone();
                gram[a * side + b] = dot;
            }
        }
        gram
    }
}

/// The least common multiple of the denominators (1 for no values).
pub(super) fn common_denominator<'a>(values: impl Iterator<Item = &'a BigRational>) -> BigInt {
    let mut denom = BigInt::one();
    for x in values {
        if !(&denom % x.denom()).is_zero() {
            denom = denom.lcm(x.denom());
        }
    }
    denom
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
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
