//! Version 2's spectral error claims (docs/FORMAT.md section 12.2): `c_i >= ||M_i||_2` for the
//! signed error matrix of block i,
//!
//! ```text
//! M_i = [P_i - W_i | W_i - Q_i]   (n_i x 2 n_0)   block 1 on a signed domain
//! M_i =  P_i - W_i                (n_i x n_{i-1}) every other block
//! ```
//!
//! decided by the same exact checks as a spectral Lipschitz claim (elimination, or a witness
//! `c_i^2 I - G = R^T R + shift I + D`), with M_i in place of W_i.

use super::lipschitz::Subject;
use super::scaled::Scaled;
use super::{CheckedBlock, Method, Rejection, RejectionKind, TargetLayer, reject, show};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed};

/// P and Q are integers over 2^PRODUCT_SHIFT (docs/FORMAT.md section 6.1).
const PRODUCT_SHIFT: u32 = 106;

/// Names and places of block b's (0-based) error claim.
pub(super) fn subject(b: usize, signed: bool) -> Subject {
    let i = b.saturating_add(1);
    Subject {
        place: format!("bound.blocks[{b}].error"),
        witness_place: format!("bound.blocks[{b}].error_witness"),
        claim: format!("c_{i}"),
        matrix: format!("M_{i}"),
        rows_name: format!("n_{i}"),
        cols_name: if signed {
            format!("2 n_{b}")
        } else {
            format!("n_{b}")
        },
        too_small: RejectionKind::ErrorTooSmall,
    }
}

/// M_i exactly, as integer numerators over one denominator lcm(2^106, d_W), from the block's
/// path sums `p`, `q` (integers over 2^106, row-major n_i x n_{i-1}).
///
/// Cost: two multiplications per entry of W_i (and per entry of Q on a signed block).
pub(super) fn error_matrix(
    block: &CheckedBlock,
    weights: &Scaled,
    p: &[BigInt],
    q: &[BigInt],
) -> Scaled {
    let unit = BigInt::one() << PRODUCT_SHIFT;
    let denom = crate::numbers::lcm(&unit, &weights.denom);
    let (sum_scale, weight_scale) = (&denom / &unit, &denom / &weights.denom);
    let (rows, cols) = (weights.rows, weights.cols);
    let width = if block.signed_input {
        cols.saturating_mul(2)
    } else {
        cols
    };
    let mut numer = Vec::with_capacity(rows.saturating_mul(width));
    for m in 0..rows {
        let w = |t: usize| weights.at(m, t) * &weight_scale;
        let cell = |sums: &[BigInt], t: usize| {
            sums.get(m.saturating_mul(cols).saturating_add(t))
                .map_or_else(BigInt::default, |x| x * &sum_scale)
        };
        for t in 0..cols {
            numer.push(cell(p, t) - w(t));
        }
        if block.signed_input {
            for t in 0..cols {
                numer.push(w(t) - cell(q, t));
            }
        }
    }
    Scaled {
        rows,
        cols: width,
        numer,
        denom,
    }
}

/// Every |M_i entry| <= c_i, checked before the exact spectral check (docs/FORMAT.md
/// section 12.9, slth's order): ||M_i||_2 is at least the largest |entry| (the norm of one
/// column), so an entry above c_i disproves the claim, and the work estimate of
/// `verify/cost.rs` may count M_i's numerators at bits(d_M) + log2(c_i) + 1. With a witness
/// the rejection is the witness's (c_i^2 I - G is then not PSD, so no witness inequality can
/// hold, and that is the rule a checker without this shortcut reports); without one it is
/// the claim's. Cost: one product for the bound, one comparison per entry.
pub(super) fn entries_within(
    subject: &Subject,
    claim: &BigRational,
    method: &Method,
    matrix: &Scaled,
) -> Result<(), Rejection> {
    if claim.is_negative() {
        // Refused next, as negative, by the spectral check itself.
        return Ok(());
    }
    // |x / d_M| <= p / q  <=>  |x| q <= p d_M (p >= 0; q, d_M > 0).
    let bound = claim.numer().magnitude() * matrix.denom.magnitude();
    let q = claim.denom().magnitude();
    let Some(at) = matrix.numer.iter().position(|x| x.magnitude() * q > bound) else {
        return Ok(());
    };
    let cols = matrix.cols.max(1);
    let entry = BigRational::new(matrix.numer[at].clone(), matrix.denom.clone());
    let found = format!(
        "|{}[{}][{}]| = {} is above {} = {}, and a spectral norm is at least every entry",
        subject.matrix,
        at.checked_div(cols).unwrap_or(0),
        at.checked_rem(cols).unwrap_or(0),
        show(&entry.abs()),
        subject.claim,
        show(claim),
    );
    Err(match method {
        Method::Witness { .. } => reject(
            RejectionKind::WitnessInvalid,
            subject.witness_place.clone(),
            format!(
                "no witness can prove {}^2 I - G >= 0: {found}",
                subject.claim
            ),
        ),
        _ => reject(subject.too_small, subject.place.clone(), found),
    })
}

/// M_i as rationals, for the f64 filter of the sound mode. The fractions are left
/// unreduced (numerator over the common denominator, which is positive): the filter only
/// encloses each value in an f64 interval, which needs no lowest terms, and a gcd per entry
/// was a fifth of verify's time on a 784-500-10 certificate.
pub(super) fn as_layer(matrix: &Scaled) -> TargetLayer {
    TargetLayer {
        rows: matrix.rows,
        cols: matrix.cols,
        weights: matrix
            .numer
            .iter()
            .map(|x| BigRational::new_raw(x.clone(), matrix.denom.clone()))
            .collect(),
    }
}
