//! Exact linear algebra for the oracle: sums of squares, elimination, common denominators.

use crate::*;
// ---------------------------------------------------------------------------------------
// Exact linear algebra

/// `sum_{m,t} x^2`.
pub fn sum_squares<'a>(xs: impl Iterator<Item = &'a BigRational>) -> BigRational {
    let xs: Vec<&BigRational> = xs.collect();
    let (ints, den) = over_common_denominator(&xs);
    let sum: BigInt = ints.iter().map(|x| x * x).sum();
    BigRational::new(sum, &den * &den)
}

/// The smaller Gram matrix of W (rows x cols): `W W^T` if rows <= cols, else `W^T W`.
pub fn gram(w: &[Vec<BigRational>], cols: usize, on_rows: bool) -> Vec<Vec<BigRational>> {
    let rows = w.len();
    // Integers over the common denominator d: G = G_int / d^2.
    let flat: Vec<&BigRational> = w.iter().flatten().collect();
    let (ints, d) = over_common_denominator(&flat);
    let at = |r: usize, c: usize| &ints[r * cols + c];
    let d2 = &d * &d;
    let (side, inner) = if on_rows { (rows, cols) } else { (cols, rows) };
    let mut g = vec![vec![BigRational::zero(); side]; side];
    for a in 0..side {
        for b in a..side {
            let dot: BigInt = (0..inner)
                .map(|k| {
                    if on_rows {
                        at(a, k) * at(b, k)
                    } else {
                        at(k, a) * at(k, b)
                    }
                })
                .sum();
            let x = BigRational::new(dot, d2.clone());
            g[b][a] = x.clone();
            g[a][b] = x;
        }
    }
    g
}

/// The spec's test: symmetric Gaussian elimination without pivoting on rationals; PSD iff
/// every pivot is >= 0 and a zero pivot has a zero rest of row.
pub fn is_psd(mut m: Vec<Vec<BigRational>>) -> bool {
    let n = m.len();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if m[k][k + 1..].iter().any(|x| !x.is_zero()) {
                return false;
            }
            continue;
        }
        for i in k + 1..n {
            if m[i][k].is_zero() {
                continue;
            }
            let factor = &m[i][k] / &pivot;
            for j in k + 1..n {
                let update = &factor * &m[k][j];
                m[i][j] -= update;
            }
        }
    }
    true
}

/// Whether `L^2 I - G` is PSD for the smaller Gram matrix of W.
pub fn spectral_holds(w: &[Vec<BigRational>], cols: usize, l: &BigRational) -> bool {
    let on_rows = w.len() <= cols;
    let g = gram(w, cols, on_rows);
    let l2 = l * l;
    let m = g
        .into_iter()
        .enumerate()
        .map(|(a, row)| {
            row.into_iter()
                .enumerate()
                .map(|(b, x)| if a == b { &l2 - x } else { -x })
                .collect()
        })
        .collect();
    is_psd(m)
}

/// `sum_{a,b} D[a][b]^2` for `D = L^2 I - G - shift I - R^T R` (R upper triangular, row a
/// holds columns a..n-1), G the Gram matrix of side n. Computed over one common
/// denominator C: `D = D_int / C`.
pub fn witness_residual(
    g: &[Vec<BigRational>],
    l2: &BigRational,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
) -> BigRational {
    let n = g.len();
    let g_flat: Vec<&BigRational> = g.iter().flatten().collect();
    let (g_int, g_den) = over_common_denominator(&g_flat);
    let r_flat: Vec<&BigRational> = factor.iter().flatten().collect();
    let (r_ints, r_den) = over_common_denominator(&r_flat);
    // r[k][a] for a >= k, as integers over r_den.
    let mut r: Vec<Vec<BigInt>> = Vec::with_capacity(n);
    let mut next = r_ints.into_iter();
    for row in factor {
        r.push(next.by_ref().take(row.len()).collect());
    }
    let at = |k: usize, a: usize| -> Option<&BigInt> { r.get(k)?.get(a.checked_sub(k)?) };
    let t = l2 - shift;
    let r_den2 = &r_den * &r_den;
    let c = t.denom().lcm(&g_den).lcm(&r_den2);
    let (t_scale, g_scale, s_scale) = (&c / t.denom(), &c / &g_den, &c / &r_den2);
    let diag = t.numer() * &t_scale;
    let mut sum = BigInt::zero();
    for a in 0..n {
        for b in 0..n {
            let mut s_ab = BigInt::zero();
            for k in 0..=a.min(b) {
                if let (Some(x), Some(y)) = (at(k, a), at(k, b)) {
                    s_ab += x * y;
                }
            }
            let mut d = -(&g_int[a * n + b] * &g_scale) - s_ab * &s_scale;
            if a == b {
                d += &diag;
            }
            sum += &d * &d;
        }
    }
    BigRational::new(sum, &c * &c)
}

// ---------------------------------------------------------------------------------------
/// The numerators of `xs` over their least common denominator, and that denominator.
pub fn over_common_denominator(xs: &[&BigRational]) -> (Vec<BigInt>, BigInt) {
    let mut den = BigInt::one();
    for x in xs {
        if !(&den % x.denom()).is_zero() {
            den = den.lcm(x.denom());
        }
    }
    let ints = xs.iter().map(|x| x.numer() * (&den / x.denom())).collect();
    (ints, den)
}

/// `sum_{m,t} E[m][t]^2` from the kept paths (m, t, V, U), straight from docs/FORMAT.md section 6:
/// P and Q are integers over 2^106, W integers over its common denominator D, so every
/// E is an integer over D 2^106 and the sum of squares is one integer over (D 2^106)^2.
pub fn deviation_squared(
    w: &[Vec<BigRational>],
    cols: usize,
    paths: &[Path],
    signed: bool,
) -> BigRational {
    let rows = w.len();
    let mut p = vec![BigInt::zero(); rows * cols];
    let mut q = vec![BigInt::zero(); rows * cols];
    for &(m, t, v, u) in paths {
        let product = BigInt::from(v) * BigInt::from(u);
        if u > 0 {
            p[m * cols + t] += product;
        } else {
            q[m * cols + t] += product;
        }
    }
    let flat: Vec<&BigRational> = w.iter().flatten().collect();
    let (w_int, den) = over_common_denominator(&flat);
    let two106 = BigInt::one() << 106u32;
    let mut sum = BigInt::zero();
    for cell in 0..rows * cols {
        let target = &w_int[cell] * &two106;
        let mut e = (&p[cell] * &den - &target).abs();
        if signed {
            let eq = (&q[cell] * &den - &target).abs();
            if eq > e {
                e = eq;
            }
        }
        sum += &e * &e;
    }
    let scale = den * two106;
    BigRational::new(sum, &scale * &scale)
}
