//! The Lipschitz claims L_i (docs/FORMAT.md section 6.2): Frobenius, spectral by exact elimination,
//! or spectral with a witness. Each proves L_i >= ||W_i||_2, so that layer i of f is
//! L_i-Lipschitz (section 10).

use super::psd::check_psd;
use super::scaled::{Scaled, SquareSum, common_denominator, flat};
use super::{Limits, Rejection, RejectionKind, reject, show};
use crate::numbers;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Signed;

/// How a block justifies `L_i >= ||W_i||_2`.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// `L_i^2 >= sum W^2`.
    Frobenius,
    /// `L_i^2 I - G` PSD, by elimination.
    Spectral,
    /// `L_i^2 I - G = R^T R + shift I + D` with `sum D^2 <= shift^2`; row a of `factor`
    /// holds columns a..n-1 of the upper-triangular R.
    Witness {
        shift: BigRational,
        factor: Vec<Vec<BigRational>>,
    },
}

impl Method {
    /// The method's name in reports: its `lipschitz_method` (docs/FORMAT.md section 7.6),
    /// with a witness said.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Frobenius => "frobenius",
            Method::Spectral => "spectral",
            Method::Witness { .. } => "spectral (witness)",
        }
    }
}

/// What a spectral-norm claim is about, for places and messages: `L_i` of `W_i` (section
/// 6.2) or, in version 2, `c_i` of the signed error matrix `M_i` (section 12.2).
pub(super) struct Subject {
    /// the claimed number's place, e.g. `bound.blocks[0].lipschitz`
    pub place: String,
    /// the witness's place, e.g. `bound.blocks[0].lipschitz_witness`
    pub witness_place: String,
    /// the claim's symbol, e.g. `L_1`
    pub claim: String,
    /// the matrix's symbol, e.g. `W_1`
    pub matrix: String,
    /// the names of its row and column counts, e.g. `n_1` and `n_0`
    pub rows_name: String,
    pub cols_name: String,
    /// the kind of a claim below the norm
    pub too_small: RejectionKind,
}

impl Subject {
    /// The subject of block b's (0-based) Lipschitz claim.
    pub fn lipschitz(b: usize) -> Subject {
        let i = b.saturating_add(1);
        Subject {
            place: format!("bound.blocks[{b}].lipschitz"),
            witness_place: format!("bound.blocks[{b}].lipschitz_witness"),
            claim: format!("L_{i}"),
            matrix: format!("W_{i}"),
            rows_name: format!("n_{i}"),
            cols_name: format!("n_{b}"),
            too_small: RejectionKind::LipschitzTooSmall,
        }
    }

    /// `W_i W_i^T` or `W_i^T W_i`, for messages.
    fn gram_name(&self, on_rows: bool) -> String {
        let m = &self.matrix;
        if on_rows {
            format!("{m} {m}^T")
        } else {
            format!("{m}^T {m}")
        }
    }
}

/// Checks `L_i >= 0` and the claim of `method` for block b (0-based) with weights W_i
/// (docs/FORMAT.md section 6.2), exactly (`subject` names them; the same check decides a
/// version 2 spectral error claim `c_i >= ||M_i||_2`, section 12):
///
/// - Frobenius: `L_i^2 >= sum_{m,t} W_i[m][t]^2`; cost one square per weight.
/// - Spectral: `L_i^2 I - G` positive semidefinite for the smaller Gram matrix G (side
///   n = min(n_i, n_{i-1}), inner dimension m), refused above `max_elimination_side`
///   (section 11). With L = p/q and W = W'/d it checks the integer matrix
///   `p^2 d^2 I - q^2 G'`, G' = W' W'^T or W'^T W', which has the same signs. Cost:
///   `n^2 m / 2` products for G', then the elimination of [`check_psd`], about `n^3 / 3`.
/// - Witness: see [`check_witness`].
pub(super) fn check(
    subject: &Subject,
    lipschitz: &BigRational,
    method: &Method,
    weights: &Scaled,
    limits: &Limits,
) -> Result<(), Rejection> {
    let (l_i, w_i) = (&subject.claim, &subject.matrix);
    let place = subject.place.clone();
    if lipschitz.is_negative() {
        return Err(reject(
            subject.too_small,
            place,
            format!("claimed {l_i} = {} is negative", show(lipschitz)),
        ));
    }
    let square = lipschitz * lipschitz;
    match method {
        Method::Frobenius => {
            let frobenius = weights.frobenius_squared();
            if square < frobenius {
                return Err(reject(
                    subject.too_small,
                    place,
                    format!(
                        "claimed {l_i} = {} but {l_i}^2 = {} < sum of {w_i}[m][t]^2 = {}",
                        show(lipschitz),
                        show(&square),
                        show(&frobenius)
                    ),
                ));
            }
        }
        Method::Spectral => {
            // W W^T (side n_i) and W^T W (side n_{i-1}) have the same nonzero eigenvalues.
            let on_rows = weights.rows <= weights.cols;
            let side = weights.rows.min(weights.cols);
            let gram_name = subject.gram_name(on_rows);
            if side > limits.max_elimination_side {
                return Err(reject(
                    RejectionKind::Limit,
                    place,
                    format!(
                        "checking {l_i}^2 I - {gram_name} >= 0 by elimination needs side {side}, \
                         above the limit of {}; give a witness or raise the limit",
                        limits.max_elimination_side
                    ),
                ));
            }
            // q^2 d^2 (L^2 I - G) = p^2 d^2 I - q^2 G_int for L = p/q and G = G_int / d^2.
            let diagonal = lipschitz.numer() * lipschitz.numer() * &weights.denom * &weights.denom;
            let q2 = lipschitz.denom() * lipschitz.denom();
            let mut matrix = weights.gram(on_rows);
            for x in matrix.iter_mut() {
                *x = -(&q2 * &*x);
            }
            for x in matrix.iter_mut().step_by(side.saturating_add(1)) {
                *x += &diagonal;
            }
            if let Err(step) = check_psd(matrix, side) {
                return Err(reject(
                    subject.too_small,
                    place,
                    format!(
                        "claimed {l_i} = {} is below the spectral norm of {w_i}: \
                         {l_i}^2 I - {gram_name} is not positive semidefinite \
                         (exact elimination fails at pivot {} of {side})",
                        show(lipschitz),
                        step.saturating_add(1)
                    ),
                ));
            }
        }
        Method::Witness { shift, factor } => {
            check_witness(subject, &square, shift, factor, weights)?
        }
    }
    Ok(())
}

/// `shift >= 0` and `sum_{a,b} D[a][b]^2 <= shift^2` for `D = L^2 I - G - shift I - R^T R`,
/// G = W W^T if R has n_i rows, else W^T W (n_{i-1} rows) (docs/FORMAT.md section 6.2).
/// Refused first: a factor whose size is neither, or whose row a does not hold n - a
/// entries (section 9, item 11).
///
/// With common denominators `G = G_int / d_W^2` and `R^T R = S_int / d_R^2`, every entry of
/// D is an integer over `C = lcm(den(L^2 - shift), d_W^2, d_R^2)`. Only multiplications
/// and additions: for side n and inner dimension m, `n^2 m / 2` products for G, `n^3 / 6`
/// for R^T R (the upper triangle, R triangular) and one square per entry of D, in i128
/// where the entries fit and BigInt otherwise. Why the inequality proves
/// `L^2 I - G >= 0`: section 10.
fn check_witness(
    subject: &Subject,
    square: &BigRational,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
    weights: &Scaled,
) -> Result<(), Rejection> {
    let place = subject.witness_place.clone();
    let (w_i, rows_name, cols_name) = (&subject.matrix, &subject.rows_name, &subject.cols_name);
    if shift.is_negative() {
        return Err(reject(
            RejectionKind::WitnessInvalid,
            format!("{place}.shift"),
            format!("shift {} is negative", show(shift)),
        ));
    }
    let n = factor.len();
    let on_rows = if n == weights.rows {
        true
    } else if n == weights.cols {
        false
    } else {
        return Err(reject(
            RejectionKind::WitnessInvalid,
            format!("{place}.factor"),
            format!(
                "factor has {n} rows; expected {rows_name} = {} (for {w_i} {w_i}^T) or {cols_name} = {} (for {w_i}^T {w_i})",
                weights.rows, weights.cols
            ),
        ));
    };
    for (a, row) in factor.iter().enumerate() {
        if a.checked_add(row.len()) != Some(n) {
            return Err(reject(
                RejectionKind::WitnessInvalid,
                format!("{place}.factor[{a}]"),
                format!(
                    "row {a} of the upper-triangular factor must hold columns {a}..{} ({} entries), found {}",
                    n.saturating_sub(1),
                    n.saturating_sub(a),
                    row.len()
                ),
            ));
        }
    }

    // R as integers over d_R: r[c][a] for c <= a is factor[c][a - c].
    let d_r = common_denominator(factor.iter().flatten());
    let r: Vec<Vec<BigInt>> = factor
        .iter()
        .map(|row| row.iter().map(|x| x.numer() * (&d_r / x.denom())).collect())
        .collect();
    let r_at = |c: usize, a: usize| -> Option<&BigInt> { r.get(c)?.get(a.checked_sub(c)?) };

    let diagonal = square - shift;
    // Every divisor below is a denominator (> 0) or a square of one: no division by zero.
    let d_w2 = &weights.denom * &weights.denom;
    let d_r2 = &d_r * &d_r;
    let common = numbers::lcm(&numbers::lcm(diagonal.denom(), &d_w2), &d_r2);
    let diagonal = diagonal.numer() * (&common / diagonal.denom());
    let (g_scale, s_scale) = (&common / &d_w2, &common / &d_r2);

    let gram = weights.gram(on_rows);
    // Column a of R (R[k][a] for k <= a) and the scales as machine integers where they fit:
    // then an entry of D is a few i128 operations, and the BigInt path is taken only for an
    // entry where one of them overflows.
    let small_columns: Option<Vec<Vec<i64>>> = (0..n)
        .map(|a| {
            (0..=a)
                .map(|k| r_at(k, a).and_then(|x| i64::try_from(x).ok()))
                .collect()
        })
        .collect();
    let small_scales = i128::try_from(&g_scale)
        .ok()
        .zip(i128::try_from(&s_scale).ok())
        .zip(i128::try_from(&diagonal).ok());
    // (R^T R)[a][c] = sum_{k <= a} R[k][a] R[k][c] (a <= c), in i128 where it fits.
    let small_product = |a: usize, c: usize| -> Option<i128> {
        let columns = small_columns.as_ref()?;
        columns[a]
            .iter()
            .zip(&columns[c])
            .try_fold(0i128, |sum, (x, y)| {
                // i64 times i64 never saturates an i128.
                sum.checked_add(i128::from(*x).saturating_mul(i128::from(*y)))
            })
    };
    let small_entry = |a: usize, c: usize, s: i128| -> Option<u128> {
        let ((g_scale, s_scale), diagonal) = small_scales?;
        let g = i128::try_from(&gram[flat(a, n, c)]).ok()?;
        let mut d = g
            .checked_mul(g_scale)?
            .checked_neg()?
            .checked_sub(s.checked_mul(s_scale)?)?;
        if a == c {
            d = d.checked_add(diagonal)?;
        }
        Some(d.unsigned_abs())
    };
    // D is symmetric: each off-diagonal square counts twice. Row a (columns c >= a) on
    // every thread; the sums are exact, so their order does not matter.
    let rows = super::rows::map_rows(n, |a| {
        let mut sum = SquareSum::default();
        for c in a..n {
            let product = small_product(a, c);
            if let Some(d) = product.and_then(|s| small_entry(a, c, s)) {
                sum.add_square(d);
                if a != c {
                    sum.add_square(d);
                }
                continue;
            }
            // A Gram entry or scale past i128 (M_i's entries over 2^106): only this entry's
            // few operations in BigInt, the product of columns still from i128 if it fit.
            let s: BigInt = match product {
                Some(s) => s.into(),
                None => (0..=a)
                    .filter_map(|k| Some(r_at(k, a)? * r_at(k, c)?))
                    .sum(),
            };
            let mut d = -(&gram[flat(a, n, c)] * &g_scale) - s * &s_scale;
            if a == c {
                d += &diagonal;
                sum.add_big(&d * &d);
            } else {
                sum.add_big((&d * &d) << 1);
            }
        }
        sum.value()
    });
    let total: BigInt = rows.into_iter().sum();
    let d_squared = BigRational::new(total, &common * &common);
    let shift_squared = shift * shift;
    if d_squared > shift_squared {
        return Err(reject(
            RejectionKind::WitnessInvalid,
            place,
            format!(
                "sum of D[a][b]^2 = {} exceeds shift^2 = {}, so the witness does not prove \
                 {}^2 I - {} >= 0",
                show(&d_squared),
                show(&shift_squared),
                subject.claim,
                subject.gram_name(on_rows)
            ),
        ));
    }
    Ok(())
}
