//! The trusted checker: does a certificate prove its statement? (docs/FORMAT.md sections 5-7)
//!
//! It recomputes every kept weight of g~ from the seed and compares it exactly, then
//! decides every inequality of docs/FORMAT.md section 6, and uses only `numbers`, `sampler` and
//! `certificate` (a test enforces this). It never panics: every failure is a [`Rejection`]
//! that names the place in the certificate, with 0-based JSON paths (`ticket[0]`) and
//! 1-based block numbers in formulas (`c_1`).
//!
//! Two ways to decide the inequalities, with the same verdicts and the same rejections:
//! exact arithmetic ([`verify_with`], `slth verify --exact`; integers over a shared
//! denominator, see `kept` and `scaled`), or a sound f64 filter with outward rounding that
//! falls back to the exact check wherever it cannot decide ([`verify_sound`], the default
//! of `slth verify`; see `sound`).
//!
//! Order (after the reader enforced the counts of [`Limits`]): header, domain and random
//! network; target dimensions
//! and activations; the counts of widths, ticket blocks and bound blocks; every kept weight;
//! every claimed number; the sizes of the exact computations against [`Limits`] (all of
//! this is [`check_structure_with`]); then the inequalities block by block and finally
//! epsilon. A limit refusal is a `Limit` rejection in every mode alike.

mod cost;
mod errors;
mod kept;
mod lipschitz;
mod psd;
mod report;
mod rows;
mod scaled;
mod small;
mod sound;
mod structure;
mod terms;

pub use kept::{KeptBlock, KeptIndices, KeptPath};
pub use lipschitz::Method as LipschitzMethod;
pub use report::{Arithmetic, BlockReport, Decider, Report};
pub use terms::Term;

use crate::certificate::{Certificate, Rational};
use crate::numbers;
use lipschitz::Method;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use report::show;
use scaled::Scaled;
use std::fmt;
use structure::{
    check_count, check_domain, check_header, check_random_network, read_claim, read_target,
};

/// The resource limits of reading and checking (defined with the reader).
pub use crate::certificate::Limits;

/// What kind of rule a rejected certificate breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// Wrong `format`, `version`, `rng`, `distribution`, seed text or `lipschitz_method`.
    Header,
    /// Inconsistent dimensions or counts (rows, row lengths, widths, ticket and bound blocks).
    Dimension,
    /// An activation other than `"relu"` (or `"linear"` on the last layer).
    Activation,
    /// A rational that does not parse (docs/FORMAT.md section 2).
    Number,
    /// An index of the ticket outside its matrix or outside the ChaCha20 keystream.
    IndexOutOfRange,
    /// A hidden neuron listed twice.
    DuplicateHidden,
    /// An output edge `(m, j)` listed twice.
    DuplicateOutput,
    /// An output edge from a hidden neuron that keeps no input.
    OutputWithoutInput,
    /// A kept value that differs from the weight of g.
    ValueMismatch,
    /// `c_i < 0` or `c_i^2 < sum E_i^2`.
    ErrorTooSmall,
    /// `L_i < 0`, or `L_i` below the Frobenius or spectral bound it claims.
    LipschitzTooSmall,
    /// A spectral witness of the wrong shape, with a negative shift, or that does not prove PSD.
    WitnessInvalid,
    /// `epsilon < e_l`.
    EpsilonTooSmall,
    /// Wrong `norm` or a negative radius.
    Domain,
    /// A check refused because it exceeds [`Limits`].
    Limit,
}

/// Why a certificate is rejected: the kind, the place (a JSON path) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub kind: RejectionKind,
    pub place: String,
    pub detail: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.detail)
    }
}

impl std::error::Error for Rejection {}

fn reject(kind: RejectionKind, place: impl Into<String>, detail: impl Into<String>) -> Rejection {
    Rejection {
        kind,
        place: place.into(),
        detail: detail.into(),
    }
}

/// A rational of the certificate, or a `Number` rejection naming its place.
fn parse(
    text: &Rational,
    place: impl Into<String>,
    limits: &Limits,
) -> Result<BigRational, Rejection> {
    parse_at(text, || place.into(), limits)
}

/// [`parse`] with the place written only for a rejection.
fn parse_at(
    text: &Rational,
    place: impl FnOnce() -> String,
    limits: &Limits,
) -> Result<BigRational, Rejection> {
    if let Some((p, q)) = small::parse_small(&text.0, limits.max_number_chars) {
        return Ok(small::to_rational(p, q));
    }
    numbers::parse_rational_bounded(&text.0, limits.max_number_chars, limits.max_exponent)
        .map_err(|e| number_rejection(e, place()))
}

/// A `Number` rejection; a `Limit` one for a text over `--max-number-length` or an exponent
/// beyond `--max-exponent`.
fn number_rejection(e: numbers::NumberError, place: String) -> Rejection {
    match e {
        numbers::NumberError::ExponentTooLarge(..) => {
            reject(RejectionKind::Limit, place, format!("{e} (--max-exponent)"))
        }
        numbers::NumberError::TooLong { .. } => reject(RejectionKind::Limit, place, e.to_string()),
        e => reject(RejectionKind::Number, place, e.to_string()),
    }
}

/// The claims of one bound block, parsed.
struct Claim {
    error: BigRational,
    lipschitz: BigRational,
    method: Method,
    /// how c_i is justified (version 2 may say spectral)
    error_method: Method,
}

/// The weight matrix W_i of a target layer: `rows * cols` rationals, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetLayer {
    /// n_i
    pub rows: usize,
    /// n_{i-1}
    pub cols: usize,
    pub weights: Vec<BigRational>,
}

/// One block of a certificate whose structure passed every check: W_i, the kept paths
/// (every value recomputed from the seed and equal), and the parsed claims.
#[derive(Debug, Clone)]
pub struct CheckedBlock {
    pub target: TargetLayer,
    pub kept: KeptBlock,
    /// c_i (not yet compared with anything)
    pub error: BigRational,
    /// L_i (not yet compared with anything)
    pub lipschitz: BigRational,
    pub method: LipschitzMethod,
    /// How c_i is justified: Frobenius (section 6.2) or, in version 2, spectral (section 12.2).
    pub error_method: LipschitzMethod,
    /// Whether the block's input may be negative (block 1 on a signed domain).
    pub signed_input: bool,
}

/// A certificate that passed every check of docs/FORMAT.md sections 5 and 7 (format, dimensions,
/// indices, duplicates, every kept value against g, every number parsed); only the
/// inequalities of section 5 remain.
#[derive(Debug, Clone)]
pub struct Checked {
    pub radius: BigRational,
    pub nonnegative: bool,
    /// n_0 .. n_l
    pub target_dims: Vec<u64>,
    /// k_1 .. k_l
    pub hidden_widths: Vec<u64>,
    pub blocks: Vec<CheckedBlock>,
    /// The claimed epsilon (not yet compared with anything).
    pub epsilon: BigRational,
    /// Version 2: the telescoping term of every block (docs/FORMAT.md section 12), parsed and
    /// shaped but not yet decided; empty for version 1.
    pub terms: Vec<Term>,
    /// Version 2: the joint form (docs/FORMAT.md section 12.10), parsed and shaped but not
    /// yet decided.
    pub joint: Option<Term>,
    /// [`Certificate::claim_kinds`], for the report.
    pub claim_kinds: Vec<String>,
}

/// Checks a certificate exactly, with the default [`Limits`].
pub fn verify(certificate: &Certificate) -> Result<Report, Rejection> {
    verify_with(certificate, &Limits::default())
}

/// Checks a certificate exactly; `Ok` carries the proven statement and the exact numbers
/// behind it. This is `slth verify --exact`.
pub fn verify_with(certificate: &Certificate, limits: &Limits) -> Result<Report, Rejection> {
    verify_using(certificate, limits, Arithmetic::Exact)
}

/// Checks a certificate with the sound f64 filter and exact fallback (`slth verify`): the
/// same verdict and the same rejection as [`verify_with`], faster; where the filter decided,
/// the report carries proven f64 upper bounds instead of exact values.
pub fn verify_sound(certificate: &Certificate, limits: &Limits) -> Result<Report, Rejection> {
    verify_using(certificate, limits, Arithmetic::Sound)
}

/// [`verify_sound`] of a certificate whose kept entries are given apart, as indices: its
/// own `ticket` is not read, and `ticket[b]` stands for its block b with every value left
/// out (g's weight, as in a compact certificate: docs/FORMAT.md section 14.1). The same
/// checks and verdict as for the certificate with those entries, without holding millions
/// of entries as text: certify checks what it is about to write so.
///
/// Each block's indices are dropped once checked (the checks keep the paths they make).
pub fn verify_kept(
    certificate: &Certificate,
    ticket: Vec<KeptIndices>,
    limits: &Limits,
) -> Result<Report, Rejection> {
    let checked = check_structure_from(certificate, Ticket::Indices(ticket), limits)?;
    check_inequalities(checked, limits, Arithmetic::Sound)
}

/// Where the checks read the kept entries from.
enum Ticket {
    Certificate,
    Indices(Vec<KeptIndices>),
}

/// Checks a certificate; `arithmetic` chooses how the inequalities of docs/FORMAT.md section 6 are
/// decided. Everything else ([`check_structure`]) is exact in every mode.
pub fn verify_using(
    certificate: &Certificate,
    limits: &Limits,
    arithmetic: Arithmetic,
) -> Result<Report, Rejection> {
    let checked = check_structure_with(certificate, limits)?;
    check_inequalities(checked, limits, arithmetic)
}

/// [`check_structure_with`] the default [`Limits`].
pub fn check_structure(certificate: &Certificate) -> Result<Checked, Rejection> {
    check_structure_with(certificate, &Limits::default())
}

/// Every check of docs/FORMAT.md sections 5 and 7: header, domain and random network; target
/// dimensions and activations; the counts of widths, ticket blocks and bound blocks; every
/// kept weight (recomputed from the seed and compared exactly); every claimed number.
/// Then the sizes the exact checks would meet, against `limits` (see `cost`), so that a
/// limit refuses a certificate in every mode alike.
pub fn check_structure_with(
    certificate: &Certificate,
    limits: &Limits,
) -> Result<Checked, Rejection> {
    check_structure_from(certificate, Ticket::Certificate, limits)
}

fn check_structure_from(
    certificate: &Certificate,
    ticket: Ticket,
    limits: &Limits,
) -> Result<Checked, Rejection> {
    let c = certificate;
    let (blocks, mut given) = match ticket {
        Ticket::Certificate => (c.ticket.len(), None),
        Ticket::Indices(t) => (t.len(), Some(t.into_iter())),
    };
    check_header(c)?;
    let radius = check_domain(&c.domain, limits)?;
    let seed = check_random_network(&c.random_network)?;
    let (dims, layers) = read_target(&c.target, limits)?;
    let depth = layers.len();
    let widths = &c.random_network.hidden_widths;
    check_count(
        "random_network.hidden_widths",
        "hidden widths",
        widths.len(),
        depth,
    )?;
    check_count("ticket", "ticket blocks", blocks, depth)?;
    check_count("bound.blocks", "bound blocks", c.bound.blocks.len(), depth)?;

    let mut kept = Vec::with_capacity(depth);
    for (b, (&width, n)) in widths.iter().zip(dims.windows(2)).enumerate().take(blocks) {
        let shape = kept::Shape {
            block: b,
            inputs: n[0],
            outputs: n[1],
            width,
            max_number_chars: limits.max_number_chars,
            max_exponent: limits.max_exponent,
        };
        kept.push(match given.as_mut().and_then(Iterator::next) {
            None => KeptBlock::check(&shape, &c.ticket[b], &seed)?,
            Some(indices) => KeptBlock::check_indices(&shape, indices, &seed)?,
        });
    }

    let mut claims = Vec::with_capacity(depth);
    for (b, block) in c.bound.blocks.iter().enumerate() {
        claims.push(read_claim(b, block, limits)?);
    }
    let epsilon = parse(&c.bound.epsilon, "bound.epsilon", limits)?;
    cost::check_exact_sizes(&radius, &layers, &claims, !c.domain.nonnegative, limits)?;
    let mut terms = Vec::new();
    if let Some(json) = &c.bound.terms {
        check_count("bound.terms", "terms", json.len(), depth)?;
        let layout = terms_layout(&dims, c.domain.nonnegative);
        for (b, term) in json.iter().enumerate() {
            terms.push(terms::read_term(b, term, &layout, limits)?);
        }
    }
    let joint = match &c.bound.joint {
        Some(json) => Some(terms::read_joint(
            json,
            &terms_layout(&dims, c.domain.nonnegative),
            limits,
        )?),
        None => None,
    };

    let blocks = layers
        .into_iter()
        .zip(kept)
        .zip(claims)
        .enumerate()
        .map(|(b, ((target, kept), claim))| CheckedBlock {
            target,
            kept,
            error: claim.error,
            lipschitz: claim.lipschitz,
            method: claim.method,
            error_method: claim.error_method,
            signed_input: b == 0 && !c.domain.nonnegative,
        })
        .collect();
    Ok(Checked {
        radius,
        nonnegative: c.domain.nonnegative,
        target_dims: dims,
        hidden_widths: widths.clone(),
        blocks,
        epsilon,
        terms,
        joint,
        claim_kinds: c.claim_kinds(),
    })
}

/// The sizes of version 2's chains: u has 2 n_0 entries on a signed domain, n_0 otherwise;
/// the hidden layers are the target's n_1 .. n_{l-1}.
fn terms_layout(dims: &[u64], nonnegative: bool) -> terms::Layout {
    let size = |n: &u64| usize::try_from(*n).unwrap_or(usize::MAX);
    let n0 = dims.first().map_or(0, size);
    let hidden = dims
        .iter()
        .skip(1)
        .take(dims.len().saturating_sub(2))
        .map(size)
        .collect();
    terms::Layout {
        outputs: dims.last().map_or(0, size),
        input: if nonnegative {
            n0
        } else {
            n0.saturating_mul(2)
        },
        hidden,
    }
}

/// The inequalities of docs/FORMAT.md section 6, block by block and then epsilon.
///
/// Exact: E_i, the Frobenius sums and the chain in exact arithmetic. Sound: the f64 filter
/// of `sound` first; a block check it cannot decide is done exactly (and a false claim is
/// rejected with the exact numbers), likewise the final comparison with epsilon. Either
/// way the first failed inequality is the one the exact path reports.
pub fn check_inequalities(
    checked: Checked,
    limits: &Limits,
    arithmetic: Arithmetic,
) -> Result<Report, Rejection> {
    let depth = checked.blocks.len();
    let mut blocks = Vec::with_capacity(depth);
    // P and Q of every block, for version 2's spectral error claims and terms.
    let needs_sums = !checked.terms.is_empty()
        || checked.joint.is_some()
        || checked
            .blocks
            .iter()
            .any(|b| b.error_method != Method::Frobenius);
    let sums = if needs_sums {
        terms::path_sums_of(&checked.blocks)
    } else {
        Vec::new()
    };
    for (b, block) in checked.blocks.iter().enumerate() {
        let mut scaled = None;
        let exact_target =
            || Scaled::new(block.target.rows, block.target.cols, &block.target.weights);
        let filter = match arithmetic {
            Arithmetic::Sound => Some(sound::block_bounds(
                &block.kept,
                &block.target,
                block.signed_input,
            )),
            Arithmetic::Exact => None,
        };

        let frobenius_error = block.error_method == Method::Frobenius;
        let (error_squared, max_deviation, mut error_decided_by) = match &filter {
            Some(bounds)
                if !frobenius_error || sound::square_covers(&block.error, bounds.squared_sum) =>
            {
                (
                    f64_bound(bounds.squared_sum),
                    f64_bound(bounds.max),
                    Decider::SoundF64,
                )
            }
            _ => {
                let weights = scaled.get_or_insert_with(exact_target);
                let deviation = block.kept.deviation(weights, block.signed_input);
                if frobenius_error {
                    check_error(b, &block.error, &deviation.squared_sum)?;
                }
                let decider = match filter {
                    Some(_) => Decider::ExactFallback,
                    None => Decider::Exact,
                };
                (deviation.squared_sum, deviation.max, decider)
            }
        };
        if !frobenius_error {
            // Version 2: c_i >= ||M_i||_2 (docs/FORMAT.md section 12.2).
            let (p, q) = &sums[b];
            let weights = scaled.get_or_insert_with(exact_target);
            let matrix = errors::ErrorMatrix::new(block, weights, p, q);
            let side = matrix.rows.min(matrix.cols);
            let filtered = match (&filter, &block.error_method) {
                (Some(_), Method::Witness { shift, factor }) => {
                    Some(sound::witness_holds(&block.error, shift, factor, &matrix))
                }
                (Some(_), Method::Spectral) if side <= limits.max_elimination_side => {
                    Some(sound::spectral_holds(&block.error, &matrix))
                }
                _ => None,
            };
            error_decided_by = match filtered {
                Some(true) => Decider::SoundF64,
                undecided => {
                    let subject = errors::subject(b, block.signed_input);
                    let exact = matrix.exact();
                    errors::entries_within(&subject, &block.error, &block.error_method, &exact)?;
                    lipschitz::check(&subject, &block.error, &block.error_method, &exact, limits)?;
                    match undecided {
                        Some(_) => Decider::ExactFallback,
                        None => Decider::Exact,
                    }
                }
            };
        }

        // A spectral claim beyond the elimination limit is refused exactly as on the exact
        // path, so it is not filtered.
        let side = block.target.rows.min(block.target.cols);
        let lipschitz_filtered = match (&filter, &block.method) {
            (Some(bounds), Method::Frobenius) => Some(sound::square_covers(
                &block.lipschitz,
                bounds.frobenius_squared,
            )),
            (Some(_), Method::Witness { shift, factor }) => Some(sound::witness_holds(
                &block.lipschitz,
                shift,
                factor,
                &block.target,
            )),
            (Some(_), Method::Spectral) if side <= limits.max_elimination_side => {
                Some(sound::spectral_holds(&block.lipschitz, &block.target))
            }
            (Some(_), Method::Spectral) | (None, _) => None,
        };
        let lipschitz_decided_by = match lipschitz_filtered {
            Some(true) => Decider::SoundF64,
            undecided => {
                let weights = scaled.get_or_insert_with(exact_target);
                let subject = lipschitz::Subject::lipschitz(b);
                lipschitz::check(&subject, &block.lipschitz, &block.method, weights, limits)?;
                match undecided {
                    Some(_) => Decider::ExactFallback,
                    None => Decider::Exact,
                }
            }
        };

        blocks.push(BlockReport {
            error: block.error.clone(),
            lipschitz: block.lipschitz.clone(),
            lipschitz_method: block.method.name().to_string(),
            error_method: block.error_method.name().to_string(),
            propagated: BigRational::zero(),
            max_deviation,
            error_squared,
            kept_hidden: block.kept.hidden_count(),
            kept_output: block.kept.output_count(),
            signed_input: block.signed_input,
            error_decided_by,
            lipschitz_decided_by,
        });
    }

    // Version 2: every term decided exactly, and the telescoping bound r * sum lambda_i.
    let telescoping = if checked.terms.is_empty() {
        None
    } else {
        let layout = terms_layout(&checked.target_dims, checked.nonnegative);
        for (b, term) in checked.terms.iter().enumerate() {
            terms::check_term(b, term, &checked.blocks, &sums, &layout, limits)?;
        }
        let sum: BigRational = checked.terms.iter().map(|t| &t.lambda).sum();
        Some(&checked.radius * sum)
    };
    // Version 2: the joint form decided exactly, and its bound r * lambda.
    let joint = match &checked.joint {
        Some(form) => {
            let layout = terms_layout(&checked.target_dims, checked.nonnegative);
            terms::check_joint(form, &checked.blocks, &sums, &layout, limits)?;
            Some(&checked.radius * &form.lambda)
        }
        None => None,
    };
    let epsilon = &checked.epsilon;
    let covered = telescoping.as_ref().is_some_and(|t| epsilon >= t)
        || joint.as_ref().is_some_and(|j| epsilon >= j);
    let claims = || checked.blocks.iter().map(|b| (&b.error, &b.lipschitz));
    let sound_chain = match arithmetic {
        Arithmetic::Sound => Some(sound::chain_upper(&checked.radius, claims())),
        Arithmetic::Exact => None,
    };
    let (propagated, epsilon_decided_by) = match sound_chain {
        Some(bounds) if covered || bounds.last().is_some_and(|&e| sound::at_least(epsilon, e)) => (
            bounds.into_iter().map(f64_bound).collect(),
            Decider::SoundF64,
        ),
        filter => {
            let chain = exact_chain(&checked.radius, claims());
            let e = chain.last().cloned().unwrap_or_default();
            if epsilon < &e && !covered {
                let mut also = match &telescoping {
                    Some(t) => format!(
                        " and below r * sum lambda_i = {}, the terms' bound",
                        show(t)
                    ),
                    None => String::new(),
                };
                if let Some(j) = &joint {
                    also.push_str(&format!(
                        " and below r * lambda = {}, the joint form's bound",
                        show(j)
                    ));
                }
                return Err(reject(
                    RejectionKind::EpsilonTooSmall,
                    "bound.epsilon",
                    format!(
                        "claimed epsilon = {} is below e_{depth} = {}, the bound the blocks prove, by {}{also}",
                        show(epsilon),
                        show(&e),
                        show(&(&e - epsilon))
                    ),
                ));
            }
            let decider = match filter {
                Some(_) => Decider::ExactFallback,
                None => Decider::Exact,
            };
            (chain, decider)
        }
    };
    for (block, e) in blocks.iter_mut().zip(&propagated) {
        block.propagated = e.clone();
    }

    let dims = checked.target_dims;
    let widths = checked.hidden_widths;
    let parameters = widths
        .iter()
        .zip(dims.windows(2))
        .map(|(&k, n)| (k as u128).saturating_mul((n[0] as u128).saturating_add(n[1] as u128)))
        .fold(0u128, u128::saturating_add);
    let kept_weights = blocks
        .iter()
        .map(|b| b.kept_hidden.saturating_add(b.kept_output))
        .fold(0u64, u64::saturating_add);
    Ok(Report {
        epsilon: checked.epsilon.clone(),
        bound_value: propagated.last().cloned().unwrap_or_default(),
        radius: checked.radius,
        nonnegative: checked.nonnegative,
        input_dim: dims[0],
        target_dims: dims,
        hidden_widths: widths,
        parameters,
        kept_weights,
        blocks,
        arithmetic,
        epsilon_decided_by,
        terms: checked.terms.iter().map(|t| t.lambda.clone()).collect(),
        telescoping,
        joint,
        claim_kinds: checked.claim_kinds,
    })
}

/// A proven f64 bound as an exact rational (a NaN or infinity never gets here: it fails
/// every comparison of the filter).
fn f64_bound(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap_or_default()
}

/// e_1..e_l exactly: `a_0 = r, e_0 = 0, e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1},
/// a_i = L_i a_{i-1}`.
pub fn exact_chain<'a>(
    radius: &BigRational,
    claims: impl IntoIterator<Item = (&'a BigRational, &'a BigRational)>,
) -> Vec<BigRational> {
    let (mut a, mut e) = (radius.clone(), BigRational::zero());
    claims
        .into_iter()
        .map(|(error, lipschitz)| {
            e = error * (&a + &e) + lipschitz * &e;
            a = lipschitz * &a;
            e.clone()
        })
        .collect()
}

/// `c_i >= 0` and `c_i^2 >= sum_{m,t} E_i[m][t]^2`.
fn check_error(b: usize, error: &BigRational, squared_sum: &BigRational) -> Result<(), Rejection> {
    let place = format!("bound.blocks[{b}].error");
    let i = b.saturating_add(1);
    if error.is_negative() {
        return Err(reject(
            RejectionKind::ErrorTooSmall,
            place,
            format!("claimed c_{i} = {} is negative", show(error)),
        ));
    }
    let square = error * error;
    if &square < squared_sum {
        return Err(reject(
            RejectionKind::ErrorTooSmall,
            place,
            format!(
                "claimed c_{i} = {} but c_{i}^2 = {} < sum of E_{i}[m][t]^2 = {}",
                show(error),
                show(&square),
                show(squared_sum)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_displays_place_then_detail() {
        let r = reject(RejectionKind::Number, "domain.radius", "zero denominator");
        assert_eq!(r.to_string(), "domain.radius: zero denominator");
    }

    #[test]
    fn numbers_beyond_f64_are_shown_as_powers_of_two() {
        let huge = BigRational::from_integer(num_bigint::BigInt::from(1) << 5000u32);
        assert_eq!(show(&huge), "~2^5000 (exact: 5001-bit / 1-bit fraction)");
        let tiny = huge.recip();
        assert_eq!(show(&tiny), "~2^-5000 (exact: 1-bit / 5001-bit fraction)");
        assert_eq!(show(&-huge), "~-2^5000 (exact: 5001-bit / 1-bit fraction)");
        // Near 2^1023 the f64 is finite and shown, not ~inf.
        let near_max = BigRational::new(
            (num_bigint::BigInt::from(1) << 1100u32) + 1,
            (num_bigint::BigInt::from(1) << 77u32) - 1,
        );
        assert_eq!(
            show(&near_max),
            "~8.98846567431158e307 (exact: 1101-bit / 77-bit fraction)"
        );
    }

    #[test]
    fn show_abbreviates_and_approximates() {
        let x = BigRational::new(1.into(), 20.into());
        assert_eq!(show(&x), "1/20 (~0.05)");
    }
}
