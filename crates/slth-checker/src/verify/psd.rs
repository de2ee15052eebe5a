//! Exact positive-semidefiniteness of a symmetric integer matrix (docs/FORMAT.md section
//! 6.2, a `"spectral"` claim without witness).
//!
//! Symmetric Gaussian elimination without pivoting: M is PSD iff every pivot is >= 0 and,
//! whenever a pivot is 0, the rest of its row in the current Schur complement is 0 too.
//! The elimination is done fraction-free (Bareiss): after pivots p_0 .. p_{k-1} every
//! entry is the rational Schur-complement entry times the previous pivot, a positive
//! leading principal minor, so signs and zeros are those of the rational elimination, and
//! the update `M[i][j] = (p M[i][j] - M[i][k] M[k][j]) / p_prev` divides exactly
//! (Sylvester's identity). A zero pivot with a zero row is skipped: the rest of the
//! elimination is then that of M with row and column k deleted.
//! Cost: n^3 / 3 big-integer multiplications for side n.

use super::scaled::flat;
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};

/// `Err(k)` with the 0-based elimination step that proves `matrix` (row-major, side `n`,
/// symmetric) is not PSD; only the upper triangle is read. Decides M >= 0 (x^T M x >= 0
/// for every x) by the pivot rule of the module docs (docs/FORMAT.md section 6.2); a
/// matrix of the wrong length is `Err(0)`. Cost: at most n^3 / 3 multiplications and
/// n^3 / 6 exact divisions of integers that grow to about k times the entries' bits at
/// step k.
pub(super) fn check_psd(mut matrix: Vec<BigInt>, n: usize) -> Result<(), usize> {
    if n.checked_mul(n) != Some(matrix.len()) {
        return Err(0);
    }
    let at = |i: usize, j: usize| flat(i, n, j);
    // 1 or the last pivot, which was checked positive: never a division by zero.
    let mut previous = BigInt::one();
    for k in 0..n {
        let pivot = matrix[at(k, k)].clone();
        if pivot.is_negative() {
            return Err(k);
        }
        if pivot.is_zero() {
            if (k..n).skip(1).any(|j| !matrix[at(k, j)].is_zero()) {
                return Err(k);
            }
            continue;
        }
        for i in (k..n).skip(1) {
            let left = matrix[at(k, i)].clone();
            for j in i..n {
                let updated = (&pivot * &matrix[at(i, j)] - &left * &matrix[at(k, j)]) / &previous;
                matrix[at(i, j)] = updated;
            }
        }
        previous = pivot;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use num_rational::BigRational;

    fn matrix(rows: &[&[i64]]) -> (Vec<BigInt>, usize) {
        let n = rows.len();
        (
            rows.iter()
                .flat_map(|r| r.iter().map(|&x| BigInt::from(x)))
                .collect(),
            n,
        )
    }

    fn psd(rows: &[&[i64]]) -> bool {
        let (m, n) = matrix(rows);
        check_psd(m, n).is_ok()
    }

    /// The rational elimination of the spec, written naively, to compare against.
    fn psd_rational(m: &[BigInt], n: usize) -> bool {
        let mut a: Vec<BigRational> = m
            .iter()
            .map(|x| BigRational::from_integer(x.clone()))
            .collect();
        for k in 0..n {
            let pivot = a[k * n + k].clone();
            if pivot.is_negative() {
                return false;
            }
            if pivot.is_zero() {
                if (k + 1..n).any(|j| !a[k * n + j].is_zero()) {
                    return false;
                }
                continue;
            }
            for i in k + 1..n {
                for j in k + 1..n {
                    let update = &a[i * n + k] * &a[k * n + j] / &pivot;
                    a[i * n + j] -= update;
                }
            }
        }
        true
    }

    #[test]
    fn hand_computed_matrices() {
        assert!(psd(&[&[1, 0], &[0, 0]]));
        assert!(!psd(&[&[0, 1], &[1, 0]]));
        assert!(!psd(&[&[-1]]));
        assert!(psd(&[&[0]]));
        assert!(psd(&[]));
        assert!(psd(&[&[2, -1, 0], &[-1, 2, -1], &[0, -1, 2]]));
        // Singular PSD: [1 1; 1 1] has eigenvalues 0 and 2.
        assert!(psd(&[&[1, 1], &[1, 1]]));
        // Eigenvalues 0 and 2 for the 1-1 block, and the last row ties them: indefinite.
        assert!(!psd(&[&[1, 1, 0], &[1, 1, 1], &[0, 1, 1]]));
        // A zero pivot whose row is not zero in the Schur complement: indefinite.
        assert!(!psd(&[&[1, 1, 1], &[1, 1, 2], &[1, 2, 5]]));
        // A zero pivot with a zero row is skipped; the rest is PSD.
        assert!(psd(&[&[1, 1, 1], &[1, 1, 1], &[1, 1, 3]]));
        // Determinant zero but a negative eigenvalue hides behind the first pivot.
        assert!(!psd(&[&[4, 2, 2], &[2, 1, 1], &[2, 1, 0]]));
    }

    #[test]
    fn agrees_with_the_rational_elimination() {
        // Gram matrices minus multiples of I, many of them singular or borderline.
        let mut state: u64 = 12345;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 5) as i64 - 2
        };
        let mut outcomes = [0usize; 2];
        for n in 1..=6usize {
            for _ in 0..60 {
                let rank = (next() + 3) as usize % (n + 1);
                let v: Vec<i64> = (0..rank * n).map(|_| next()).collect();
                let shift = next() + 1;
                let m: Vec<BigInt> = (0..n * n)
                    .map(|ij| {
                        let (i, j) = (ij / n, ij % n);
                        let dot: i64 = (0..rank).map(|r| v[r * n + i] * v[r * n + j]).sum();
                        BigInt::from(dot - if i == j { shift } else { 0 })
                    })
                    .collect();
                let expected = psd_rational(&m, n);
                assert_eq!(check_psd(m.clone(), n).is_ok(), expected, "{m:?}");
                outcomes[usize::from(expected)] += 1;
            }
        }
        assert!(outcomes.iter().all(|&count| count >= 50), "{outcomes:?}");
    }
}
