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

use super::kept::PathSums;
use super::lipschitz::Subject;
use super::scaled::Scaled;
use super::{CheckedBlock, Method, Rejection, RejectionKind, reject, show};
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

/// M_i as a view on the block's path sums and W_i: each entry computed when asked for, so
/// that the f64 filter reads M_i without it being held ([`ErrorMatrix::exact`] builds it
/// for the exact check). Entries are integer numerators over one denominator
/// lcm(2^106, d_W); the path sums `p`, `q` are integers over 2^106, row-major n_i x n_{i-1}.
pub(super) struct ErrorMatrix<'a> {
    weights: &'a Scaled,
    p: &'a PathSums,
    q: &'a PathSums,
    signed: bool,
    sum_scale: BigInt,
    weight_scale: BigInt,
    pub denom: BigInt,
    pub rows: usize,
    pub cols: usize,
}

impl<'a> ErrorMatrix<'a> {
    pub(super) fn new(
        block: &CheckedBlock,
        weights: &'a Scaled,
        p: &'a PathSums,
        q: &'a PathSums,
    ) -> ErrorMatrix<'a> {
        let unit = BigInt::one() << PRODUCT_SHIFT;
        let denom = crate::numbers::lcm(&unit, &weights.denom);
        let (sum_scale, weight_scale) = (&denom / &unit, &denom / &weights.denom);
        let width = if block.signed_input {
            weights.cols.saturating_mul(2)
        } else {
            weights.cols
        };
        ErrorMatrix {
            weights,
            p,
            q,
            signed: block.signed_input,
            sum_scale,
            weight_scale,
            denom,
            rows: weights.rows,
            cols: width,
        }
    }

    /// The numerator of entry k (row-major): `P - W` in the first n_{i-1} columns, `W - Q`
    /// in the others on a signed block. Cost: two multiplications.
    pub(super) fn numerator(&self, k: usize) -> BigInt {
        let cols = self.weights.cols;
        let width = self.cols.max(1);
        let (m, c) = (
            k.checked_div(width).unwrap_or(0),
            k.checked_rem(width).unwrap_or(0),
        );
        let (t, from_q) = if self.signed && c >= cols {
            (c.saturating_sub(cols), true)
        } else {
            (c, false)
        };
        let w = self.weights.at(m, t) * &self.weight_scale;
        let sums = if from_q { self.q } else { self.p };
        let cell = sums.value(m.saturating_mul(cols).saturating_add(t)) * &self.sum_scale;
        if from_q { w - cell } else { cell - w }
    }

    /// M_i exactly. Cost: two multiplications per entry of W_i (and per entry of Q on a
    /// signed block).
    pub(super) fn exact(&self) -> Scaled {
        let count = self.rows.saturating_mul(self.cols);
        Scaled {
            rows: self.rows,
            cols: self.cols,
            numer: (0..count).map(|k| self.numerator(k)).collect(),
            denom: self.denom.clone(),
        }
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
