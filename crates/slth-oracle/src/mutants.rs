//! Exact neighbours of thresholds, for making mutants.

use crate::*;
// ---------------------------------------------------------------------------------------
// Exact neighbours of thresholds, for making mutants

/// The two rationals `k / (q 10^digits)` and `(k + 1) / (q 10^digits)` around `sqrt(s)`
/// (s >= 0 with denominator q): the first has square <= s (== only if s is a square of
/// that grid), the second square > s.
pub fn sqrt_neighbours(s: &BigRational, digits: u32) -> (BigRational, BigRational) {
    let scale = num_traits::pow(BigInt::from(10), digits as usize) * s.denom();
    // sqrt(s) = sqrt(p q) / q, and on the grid 1/(q 10^d): k = floor(sqrt(p q 10^{2d})).
    let radicand = s.numer() * s.denom() * num_traits::pow(BigInt::from(10), 2 * digits as usize);
    let k = radicand.sqrt();
    (
        BigRational::new(k.clone(), scale.clone()),
        BigRational::new(k + 1, scale),
    )
}

/// Bisection on the grid 1/10^digits for the boundary of a monotone predicate:
/// `holds(lo)` is false and `holds(hi)` is true; returns (x, x + 10^-digits) with
/// holds(x) false and holds(x + 10^-digits) true.
pub fn bisect(
    lo: &BigRational,
    hi: &BigRational,
    digits: u32,
    holds: impl Fn(&BigRational) -> bool,
) -> (BigRational, BigRational) {
    let unit = num_traits::pow(BigInt::from(10), digits as usize);
    let mut a = (lo * BigRational::from_integer(unit.clone()))
        .floor()
        .to_integer();
    let mut b = (hi * BigRational::from_integer(unit.clone()))
        .ceil()
        .to_integer();
    let at = |k: &BigInt| BigRational::new(k.clone(), unit.clone());
    assert!(!holds(&at(&a)) && holds(&at(&b)), "bisect: bad bracket");
    while &b - &a > BigInt::one() {
        let mid: BigInt = (&a + &b).div_floor(&BigInt::from(2));
        if holds(&at(&mid)) {
            b = mid;
        } else {
            a = mid;
        }
    }
    (at(&a), at(&b))
}

/// Fraction-free PSD test (Bareiss) of `x^2 I - G` for G given as integers over `den`,
/// used only to FIND mutation points quickly; verdicts use [`is_psd`].
pub fn fast_psd(g_int: &[Vec<BigInt>], den: &BigInt, x: &BigRational) -> bool {
    let n = g_int.len();
    // q^2 den (x^2 I - G) = p^2 den I - q^2 G_int
    let (p, q) = (x.numer(), x.denom());
    let diag = p * p * den;
    let q2 = q * q;
    let mut m: Vec<Vec<BigInt>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    let mut v = -(&q2 * &g_int[a][b]);
                    if a == b {
                        v += &diag;
                    }
                    v
                })
                .collect()
        })
        .collect();
    let mut prev = BigInt::one();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if m[k][k + 1..].iter().any(|v| !v.is_zero()) {
                return false;
            }
            continue;
        }
        for i in k + 1..n {
            for j in i..n {
                let v = (&pivot * &m[i][j] - &m[k][i] * &m[k][j]) / &prev;
                m[i][j] = v.clone();
                m[j][i] = v;
            }
        }
        prev = pivot;
    }
    true
}

/// The Gram matrix (smaller side) of W as integers over a common denominator.
pub fn gram_int(w: &[Vec<BigRational>], cols: usize) -> (Vec<Vec<BigInt>>, BigInt) {
    let g = gram(w, cols, w.len() <= cols);
    let mut den = BigInt::one();
    for x in g.iter().flatten() {
        den = den.lcm(x.denom());
    }
    let ints = g
        .iter()
        .map(|row| row.iter().map(|x| x.numer() * (&den / x.denom())).collect())
        .collect();
    (ints, den)
}
