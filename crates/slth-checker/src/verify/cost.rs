//! What the exact checks would cost, against [`Limits`], before any of them runs
//! (docs/FORMAT.md section 11: `--max-exact-bits`, `--max-scaled-bits`,
//! `--max-elimination-side`, `--max-exact-work`). (The
//! counts of layers, dimensions, kept entries and witness sides are the reader's: they
//! bound what a file makes the checker hold, and a certificate already in memory has been
//! paid for.)
//!
//! Every mode refuses the same certificates: the sound f64 filter could often decide a
//! certificate whose exact check is too big, but a verdict that depends on the mode (or
//! on how far the filter got) would be worse than a clear refusal. A refusal is a
//! `Limit` rejection that names the flag that raises the limit.
//!
//! The work of an elimination or a witness check is estimated in 64-bit word
//! multiplications: an operation on b-bit integers counts `max(1, b / 64)^2`, and the
//! counts follow the loops of `psd` and `lipschitz`. The square is the schoolbook cost: the
//! elimination divides by the previous pivot at every step, and num-bigint divides in
//! quadratic time (an exponent of 1.6, Karatsuba's, underestimated a side-128 elimination
//! on 200-bit entries about sixfold: estimated 4.5e9, it took 24 s on a quiet 2-core
//! machine, 83 s on a busy one).

use super::scaled::common_denominator_within;
use super::{Claim, Limits, Method, Rejection, RejectionKind, TargetLayer, reject};
use num_rational::BigRational;

/// A `Limit` rejection (REFUSED) at `place`.
fn refuse(place: impl Into<String>, detail: String) -> Rejection {
    reject(RejectionKind::Limit, place, detail)
}

/// Word multiplications of `count` operations on `bits`-bit integers:
/// `count * max(1, bits / 64)^2` (module docs).
fn work(count: f64, bits: f64) -> f64 {
    count * (bits / 64.0).max(1.0).powi(2)
}

fn bits(x: &num_bigint::BigInt) -> f64 {
    x.bits() as f64
}

/// Bits of a numerator of M_i over d_M = lcm(2^106, d_W), for a certificate whose every
/// |M_i entry| is at most c_i (checked before the exact work): bits(d_M) plus an upper
/// bound of log2(c_i), plus one, and at least 1. bits(d_M) is exact: d_W = 2^z o with o odd
/// gives d_M = 2^max(z, 106) o.
fn error_entry_bits(d_w: &num_bigint::BigInt, error: &BigRational) -> f64 {
    let zeros = d_w.trailing_zeros().unwrap_or(0);
    let d_m = d_w
        .bits()
        .saturating_sub(zeros)
        .saturating_add(zeros.max(106));
    // c = a / b < 2^(bits(a) - bits(b) + 1).
    let log2_c = bits(error.numer()) - bits(error.denom()) + 1.0;
    (d_m as f64 + log2_c.max(-(d_m as f64)) + 1.0).max(1.0)
}

/// The common denominator of `count` values and the bits of the numerators over it, or a
/// refusal at `place`. `count` times the numerators' bits is charged to `scaled`, the
/// budget of `--max-scaled-bits`, and the denominator stops growing as soon as either
/// limit is passed (before an lcm of 2^18 bits is reduced by every entry, "1" or not).
fn scaled_bits<'a>(
    values: impl Iterator<Item = &'a BigRational>,
    count: usize,
    scaled: &mut u64,
    place: impl FnOnce() -> String,
    what: &str,
    limits: &Limits,
) -> Result<(num_bigint::BigInt, f64), Rejection> {
    let count = (count as u64).max(1);
    let within = limits
        .max_exact_bits
        .min(scaled.checked_div(count).unwrap_or_default());
    let too_many = |bits: String| {
        format!(
            "{count} entries of {what} over their common denominator need {bits} bits, above \
             what remains of the limit of {} (--max-scaled-bits)",
            limits.max_scaled_bits
        )
    };
    let result = match common_denominator_within(values, within) {
        Ok((denom, excess)) => {
            let entry = denom.bits().saturating_add(excess).saturating_add(1);
            let total = count.saturating_mul(entry);
            match scaled.checked_sub(total) {
                Some(rest) => {
                    *scaled = rest;
                    Ok((denom, entry as f64))
                }
                None => Err(too_many(total.to_string())),
            }
        }
        Err(reached) if within < limits.max_exact_bits => Err(too_many(format!(
            "more than {}",
            count.saturating_mul(reached)
        ))),
        Err(reached) => Err(format!(
            "the common denominator of {what} has more than {reached} bits, above the limit \
             of {} (--max-exact-bits)",
            limits.max_exact_bits
        )),
    };
    result.map_err(|detail| refuse(place(), detail))
}

/// The sizes of every exact computation of the inequalities: common denominators, the
/// elimination of a spectral claim without witness, a witness check, the chain e_1..e_l.
///
/// Refuses, in this order per block: a common denominator of W_i (or of a witness factor)
/// above `max_exact_bits` bits, or numerators over it that together pass
/// `max_scaled_bits`; a spectral claim without witness on a Gram side above
/// `max_elimination_side`; an estimated work above `max_exact_work`. For Gram side n,
/// inner dimension m and b-bit scaled weights, a spectral claim costs the Gram matrix,
/// `work(n^2 m / 2, b)`, plus either the elimination, `work(n^3 / 3, n e / 2)` with e the
/// bits of an entry of `p^2 d^2 I - q^2 G'`, or the witness check with b_R-bit factor
/// entries, `work(n^3 / 6, b_R) + work(n^2, 2 b_R + bits of G)`; Frobenius costs nothing
/// here.
/// Then the chain: the bits of numerator and denominator of r and every c_i and L_i together
/// above `max_exact_bits`. Cost: one lcm per distinct denominator and constant work per
/// block; nothing of the checks themselves.
pub(super) fn check_exact_sizes(
    radius: &BigRational,
    layers: &[TargetLayer],
    claims: &[Claim],
    signed_first: bool,
    limits: &Limits,
) -> Result<(), Rejection> {
    let mut scaled = limits.max_scaled_bits;
    for (b, (layer, claim)) in layers.iter().zip(claims).enumerate() {
        let (denom, entry_bits) = scaled_bits(
            layer.weights.iter(),
            layer.weights.len(),
            &mut scaled,
            || format!("target.layers[{b}].weights"),
            &format!("the weights of layer {}", b.saturating_add(1)),
            limits,
        )?;
        let i = b.saturating_add(1);
        let lipschitz = Spectral {
            place: format!("bound.blocks[{b}].lipschitz"),
            witness_key: "lipschitz_witness",
            claim: format!("L_{i}"),
            value: &claim.lipschitz,
            rows: layer.rows,
            cols: layer.cols,
            entry_bits,
        };
        lipschitz.check(&claim.method, &mut scaled, limits)?;
        // Version 2's spectral error claim works on M_i: integers over
        // d_M = lcm(2^106, d_W), with twice the columns on a signed block 1. The exact check
        // first makes sure that every |M_i entry| <= c_i (verify/errors.rs: ||M_i||_2 is at
        // least its largest entry), so a numerator has at most bits(d_M) + log2(c_i) + 1 bits.
        let error = Spectral {
            place: format!("bound.blocks[{b}].error"),
            witness_key: "error_witness",
            claim: format!("c_{i}"),
            value: &claim.error,
            rows: layer.rows,
            cols: if b == 0 && signed_first {
                layer.cols.saturating_mul(2)
            } else {
                layer.cols
            },
            entry_bits: error_entry_bits(&denom, &claim.error),
        };
        error.check(&claim.error_method, &mut scaled, limits)?;
    }
    // The chain over one common denominator: each block multiplies in the denominators and
    // numerators of c_i and L_i.
    let chain: u64 = claims
        .iter()
        .flat_map(|c| [&c.error, &c.lipschitz])
        .chain([radius])
        .map(|x| x.numer().bits().saturating_add(x.denom().bits()))
        .fold(0, u64::saturating_add);
    if chain > limits.max_exact_bits {
        return Err(refuse(
            "bound",
            format!(
                "the chain e_1..e_l needs numbers of up to {chain} bits, above the limit of {} \
                 (--max-exact-bits)",
                limits.max_exact_bits
            ),
        ));
    }
    Ok(())
}

/// One spectral-norm claim (`L_i` of W_i, or version 2's `c_i` of M_i) whose exact check
/// is estimated: a matrix of `rows x cols` entries of `entry_bits` bits over one denominator.
struct Spectral<'a> {
    place: String,
    witness_key: &'static str,
    claim: String,
    value: &'a BigRational,
    rows: usize,
    cols: usize,
    entry_bits: f64,
}

impl Spectral<'_> {
    /// Refuses, in this order: a spectral claim without witness on a Gram side above
    /// `max_elimination_side`; a witness factor whose common denominator passes the limits;
    /// an estimated work above `max_exact_work`.
    fn check(&self, method: &Method, scaled: &mut u64, limits: &Limits) -> Result<(), Rejection> {
        let (rows, cols) = (self.rows as f64, self.cols as f64);
        let side = rows.min(cols);
        let inner = rows.max(cols);
        let entry_bits = self.entry_bits;
        let gram_bits = 2.0 * entry_bits + inner.max(1.0).log2() + 1.0;
        let gram = work(side * side / 2.0 * inner, entry_bits);
        let estimate = match method {
            Method::Frobenius => 0.0,
            Method::Spectral if self.rows.min(self.cols) > limits.max_elimination_side => {
                let side = self.rows.min(self.cols);
                return Err(refuse(
                    self.place.clone(),
                    format!(
                        "checking the spectral claim {} by exact elimination needs side {side}, \
                         above the limit of {} (--max-elimination-side); give a \"{}\" or \
                         raise the limit",
                        self.claim, limits.max_elimination_side, self.witness_key
                    ),
                ));
            }
            Method::Spectral => {
                let l = self.value;
                let entry = (2.0 * bits(l.numer()) + 2.0 * entry_bits)
                    .max(2.0 * bits(l.denom()) + gram_bits)
                    + 1.0;
                // Bareiss: entries of step k are k-by-k minors, about k * entry bits.
                gram + work(side * side * side / 3.0, side * entry / 2.0)
            }
            Method::Witness { factor, .. } => {
                let n = factor.len() as f64;
                let place = self.place.rsplit_once('.').map_or("", |(head, _)| head);
                let (_, r_bits) = scaled_bits(
                    factor.iter().flatten(),
                    factor.iter().map(Vec::len).fold(0, usize::saturating_add),
                    scaled,
                    || format!("{place}.{}.factor", self.witness_key),
                    "the witness factor",
                    limits,
                )?;
                gram + work(n * n * n / 6.0, r_bits) + work(n * n, 2.0 * r_bits + gram_bits)
            }
        };
        if estimate > limits.max_exact_work {
            return Err(refuse(
                self.place.clone(),
                format!(
                    "the exact check of the {} claim {} needs about {estimate:.2e} \
                     word multiplications, above the limit of {:.2e} (--max-exact-work)",
                    method.name(),
                    self.claim,
                    limits.max_exact_work
                ),
            ));
        }
        Ok(())
    }
}
