//! The builder's side of docs/FORMAT.md section 6: P, Q, E for a ticket and the claims c_i, L_i, epsilon.
//!
//! The verifier recomputes all of this on its own; the duplication is deliberate (two
//! independent computations of one number).

use crate::lipschitz::{SpectralClaim, frobenius_claim, spectral_claim, spectral_claim_of};
use crate::network::{Layer, Network};
use crate::numbers::{round_up_decimal, sqrt_upper, sum_of_squares};
use crate::ticket::{BlockTicket, Ticket};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// Significant decimal digits of every claimed rational.
pub const CLAIM_DIGITS: u32 = 6;

/// Why the builder could not bound a ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    /// A weight's path sums overflow the i128 the builder sums them in.
    #[error("block {block}: too many paths per weight to sum")]
    TooManyPaths { block: usize },
}

/// The exact deviations of one block: sum and max of `E[m][t]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deviation {
    /// sum over (m, t) of `E[m][t]^2`
    pub squared_sum: BigRational,
    /// max over (m, t) of `E[m][t]`
    pub max: BigRational,
}

/// `P[m][t]` and `Q[m][t]` as numerators over 2^106, row-major (m * n_in + t).
///
/// P sums `V[m][j] U[j][t]` over kept paths with U > 0, Q over those with U < 0. Every
/// product is below 2^106 in magnitude, so i128 holds sums of up to 2^21 paths per entry;
/// beyond that, or for an output edge whose hidden neuron keeps no input or an index outside
/// the block, None is returned rather than a wrong sum.
pub fn path_sums(block: &BlockTicket, n_in: usize, n_out: usize) -> Option<(Vec<i128>, Vec<i128>)> {
    let sums = summed_paths(block, n_in, n_out);
    (sums.spilled.is_empty() && !sums.skipped).then_some((sums.p, sums.q))
}

/// The path sums of [`path_sums`] with nothing refused: a product that would overflow its
/// entry's i128 sum is set aside in `spilled` as (positive, entry, product), for the caller
/// to add in BigInt, and paths that carry nothing into the block's shape (an output edge
/// whose hidden neuron keeps no input, an index outside it) are left out, `skipped` saying so.
pub struct SummedPaths {
    pub p: Vec<i128>,
    pub q: Vec<i128>,
    pub spilled: Vec<(bool, usize, i128)>,
    pub skipped: bool,
}

pub fn summed_paths(block: &BlockTicket, n_in: usize, n_out: usize) -> SummedPaths {
    let cells = n_in * n_out;
    let mut sums = SummedPaths {
        p: vec![0i128; cells],
        q: vec![0i128; cells],
        spilled: Vec::new(),
        skipped: false,
    };
    for (&(m, j), &v) in &block.output {
        let Some(&(t, u)) = block.hidden.get(&j) else {
            sums.skipped = true;
            continue;
        };
        let (m, t) = (m as usize, t as usize);
        if m >= n_out || t >= n_in {
            sums.skipped = true;
            continue;
        }
        // |v u| < 2^106: a product of two i64 below 2^53 fits.
        let product = i128::from(v) * i128::from(u);
        let positive = u > 0;
        let at = m * n_in + t;
        let slot = if positive {
            &mut sums.p[at]
        } else {
            &mut sums.q[at]
        };
        match slot.checked_add(product) {
            Some(sum) => *slot = sum,
            None => sums.spilled.push((positive, at, product)),
        }
    }
    sums
}

/// `E[m][t]` for every weight of the block; `signed` says whether the block's input can be negative.
///
/// E = max(|P - W|, |Q - W|) for signed input, |P - W| otherwise.
pub fn deviation(
    layer: &Layer,
    block: &BlockTicket,
    n_in: usize,
    signed: bool,
) -> Option<Deviation> {
    let n_out = layer.outputs();
    let (p, q) = path_sums(block, n_in, n_out)?;
    let scale = BigRational::from_integer(BigInt::from(1) << 106);
    let mut errors = Vec::with_capacity(n_in * n_out);
    for (m, row) in layer.weights.iter().enumerate() {
        for (t, w) in row.iter().enumerate() {
            let at = m * n_in + t;
            let from_p = (BigRational::from_integer(BigInt::from(p[at])) / &scale - w).abs();
            let e = if signed {
                let from_q = (BigRational::from_integer(BigInt::from(q[at])) / &scale - w).abs();
                from_p.max(from_q)
            } else {
                from_p
            };
            errors.push(e);
        }
    }
    let max = errors
        .iter()
        .max()
        .cloned()
        .unwrap_or_else(BigRational::zero);
    Some(Deviation {
        squared_sum: sum_of_squares(errors.iter()),
        max,
    })
}

/// The claims of one block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockClaim {
    pub deviation: Deviation,
    /// c_i: the smallest CLAIM_DIGITS-digit rational with c_i^2 >= sum E^2, or the spectral
    /// claim on M_i when there is one
    pub error: BigRational,
    /// Some when c_i is version 2's spectral claim on M_i (docs/FORMAT.md section 12.2)
    pub error_spectral: Option<SpectralClaim>,
    /// L_i: the smaller of the Frobenius claim and the spectral claim (when asked for)
    pub lipschitz: BigRational,
    /// the Frobenius claim, the smallest CLAIM_DIGITS-digit L with L^2 >= ||W_i||_F^2
    pub frobenius: BigRational,
    /// Some when L_i is a spectral claim
    pub spectral: Option<SpectralClaim>,
}

/// Every claim of a certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub blocks: Vec<BlockClaim>,
    /// e_l computed exactly from the claimed c_i and L_i
    pub bound: BigRational,
    /// e_l rounded up to CLAIM_DIGITS significant digits
    pub epsilon: BigRational,
}

/// e_l of the chain `e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}`, `a_i = L_i a_{i-1}`, a_0 = r.
pub fn propagate(radius: &BigRational, blocks: &[(BigRational, BigRational)]) -> BigRational {
    let mut a = radius.clone();
    let mut e = BigRational::zero();
    for (c, l) in blocks {
        e = c * (&a + &e) + l * &e;
        a = l * &a;
    }
    e
}

/// Version 2's signed error matrix M_i in f64 (docs/FORMAT.md section 12.2):
/// `[P - W | W - Q]` on a signed block, `P - W` otherwise; None when the path sums overflow.
pub fn error_matrix(
    layer: &Layer,
    block: &BlockTicket,
    n_in: usize,
    signed: bool,
) -> Option<Vec<Vec<f64>>> {
    let (p, q) = path_sums(block, n_in, layer.outputs())?;
    let unit = 2f64.powi(-106);
    let weights = layer.weights_f64();
    Some(
        weights
            .iter()
            .enumerate()
            .map(|(m, row)| {
                let cell = |sums: &[i128], t: usize| sums[m * n_in + t] as f64 * unit;
                let mut out: Vec<f64> = row
                    .iter()
                    .enumerate()
                    .map(|(t, w)| cell(&p, t) - w)
                    .collect();
                if signed {
                    out.extend(row.iter().enumerate().map(|(t, w)| w - cell(&q, t)));
                }
                out
            })
            .collect(),
    )
}

/// Computes the claims for `ticket` against `target` on the ball of `radius`; with
/// `spectral_errors`, c_i is version 2's spectral claim on M_i wherever it is below the
/// Frobenius norm of E_i.
///
/// Block 1's input is signed unless `nonnegative`; later blocks read ReLU outputs.
pub fn claims(
    target: &Network,
    ticket: &Ticket,
    radius: &BigRational,
    nonnegative: bool,
    spectral: bool,
    spectral_errors: bool,
) -> Result<Claims, BoundError> {
    let dims = target.dims();
    let mut blocks = Vec::with_capacity(target.layers.len());
    for (i, (layer, block)) in target.layers.iter().zip(&ticket.blocks).enumerate() {
        let signed = i == 0 && !nonnegative;
        let _step = crate::progress::Progress::spinner(format!(
            "block {}: exact error bound{}",
            i + 1,
            if spectral {
                " and spectral witness"
            } else {
                ""
            }
        ));
        let deviation = deviation(layer, block, dims[i], signed)
            .ok_or(BoundError::TooManyPaths { block: i + 1 })?;
        let frobenius_error = sqrt_upper(&deviation.squared_sum, CLAIM_DIGITS);
        let error_spectral = if spectral_errors {
            let matrix = error_matrix(layer, block, dims[i], signed)
                .ok_or(BoundError::TooManyPaths { block: i + 1 })?;
            spectral_claim_of(&matrix).filter(|s| s.lipschitz < frobenius_error)
        } else {
            None
        };
        let error = error_spectral
            .as_ref()
            .map_or_else(|| frobenius_error.clone(), |s| s.lipschitz.clone());
        let frobenius = frobenius_claim(layer, CLAIM_DIGITS);
        let spectral = if spectral {
            spectral_claim(layer).filter(|s| s.lipschitz < frobenius)
        } else {
            None
        };
        let lipschitz = spectral
            .as_ref()
            .map_or_else(|| frobenius.clone(), |s| s.lipschitz.clone());
        blocks.push(BlockClaim {
            deviation,
            error,
            error_spectral,
            lipschitz,
            frobenius,
            spectral,
        });
    }
    let pairs: Vec<(BigRational, BigRational)> = blocks
        .iter()
        .map(|b| (b.error.clone(), b.lipschitz.clone()))
        .collect();
    let bound = propagate(radius, &pairs);
    let epsilon = if bound.is_positive() {
        round_up_decimal(&bound, CLAIM_DIGITS)
    } else {
        BigRational::zero()
    };
    Ok(Claims {
        blocks,
        bound,
        epsilon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn propagation_follows_the_recursion_by_hand() {
        // r = 1, (c, L) = (1/10, 1/2), (1/5, 2):
        // e_1 = 1/10 * 1 = 1/10, a_1 = 1/2; e_2 = 1/5 (1/2 + 1/10) + 2 * 1/10 = 8/25.
        let e = propagate(&q(1, 1), &[(q(1, 10), q(1, 2)), (q(1, 5), q(2, 1))]);
        assert_eq!(e, q(8, 25));
    }

    #[test]
    fn deviation_of_an_empty_ticket_is_the_target() {
        let layer = Layer {
            weights: vec![vec![q(3, 4), q(-1, 2)]],
            activation: crate::network::Activation::Linear,
        };
        let d = deviation(&layer, &BlockTicket::default(), 2, true).unwrap();
        assert_eq!(d.squared_sum, q(13, 16));
        assert_eq!(d.max, q(3, 4));
    }

    #[test]
    fn one_path_per_sign_gives_p_and_q() {
        let layer = Layer {
            weights: vec![vec![q(1, 4)]],
            activation: crate::network::Activation::Relu,
        };
        let mut block = BlockTicket::default();
        let half = 1i64 << 52; // 1/2 over 2^53
        block.hidden.insert(0, (0, half)); // U = 1/2
        block.hidden.insert(1, (0, -half)); // U = -1/2
        block.output.insert((0, 0), half); // V = 1/2: P = 1/4
        block.output.insert((0, 1), -half / 2); // V = -1/4: Q = 1/8
        let signed = deviation(&layer, &block, 1, true).unwrap();
        assert_eq!(signed.max, q(1, 8));
        let nonnegative = deviation(&layer, &block, 1, false).unwrap();
        assert_eq!(nonnegative.max, q(0, 1));
    }
}
