//! The trusted checker: does a certificate prove its statement? (spec sections 4-6)
//!
//! It recomputes every kept weight of g~ from the seed, every `E_i[m][t]` and every
//! inequality of spec section 5 in exact arithmetic, and uses only `numbers`, `sampler` and
//! `certificate` (a test enforces this). It never panics: every failure is a [`Rejection`]
//! that names the place in the certificate, with 0-based JSON paths (`ticket[0]`) and
//! 1-based block numbers in formulas (`c_1`).
//!
//! Order: header, domain and random network; target dimensions and activations; the counts
//! of widths, ticket blocks and bound blocks; every kept weight; every claimed number; then
//! the inequalities block by block and finally epsilon.

mod kept;
mod lipschitz;
mod psd;
mod report;
mod scaled;

pub use report::{BlockReport, Report};

use crate::certificate::{self, Certificate, Rational};
use crate::numbers;
use crate::sampler::Seed;
use kept::KeptBlock;
use lipschitz::Method;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use report::show;
use scaled::Scaled;
use std::fmt;

/// Default of `Limits::max_elimination_side`: elimination at this side takes seconds.
pub const DEFAULT_MAX_ELIMINATION_SIDE: usize = 128;

/// Resource limits of the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest Gram side for which a `"spectral"` claim without witness is checked by exact
    /// elimination; larger ones are refused and need a witness. The elimination makes
    /// n^3 / 3 big-integer operations on entries that grow with n: about 2 s for n = 100 and
    /// 45 s for n = 200 (784 columns, release build).
    pub max_elimination_side: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_elimination_side: DEFAULT_MAX_ELIMINATION_SIDE,
        }
    }
}

/// What kind of rule a rejected certificate breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// Wrong `format`, `version`, `rng`, `distribution`, seed text or `lipschitz_method`.
    Header,
    /// Inconsistent dimensions or counts (rows, row lengths, widths, ticket and bound blocks).
    Dimension,
    /// An activation other than `"relu"` (or `"linear"` on the last layer).
    Activation,
    /// A rational that does not parse (spec section 1).
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
fn parse(text: &Rational, place: impl Into<String>) -> Result<BigRational, Rejection> {
    numbers::parse_rational(&text.0)
        .map_err(|e| reject(RejectionKind::Number, place, e.to_string()))
}

/// The claims of one bound block, parsed.
struct Claim {
    error: BigRational,
    lipschitz: BigRational,
    method: Method,
}

/// Checks a certificate with the default [`Limits`].
pub fn verify(certificate: &Certificate) -> Result<Report, Rejection> {
    verify_with(certificate, &Limits::default())
}

/// Checks a certificate; `Ok` carries the proven statement and the numbers behind it.
pub fn verify_with(certificate: &Certificate, limits: &Limits) -> Result<Report, Rejection> {
    let c = certificate;
    check_header(c)?;
    let radius = check_domain(&c.domain)?;
    let seed = check_random_network(&c.random_network)?;
    let (dims, layers) = read_target(&c.target)?;
    let depth = layers.len();
    let widths = &c.random_network.hidden_widths;
    check_count(
        "random_network.hidden_widths",
        "hidden widths",
        widths.len(),
        depth,
    )?;
    check_count("ticket", "ticket blocks", c.ticket.len(), depth)?;
    check_count("bound.blocks", "bound blocks", c.bound.blocks.len(), depth)?;

    let mut kept = Vec::with_capacity(depth);
    for (b, ((ticket, &width), n)) in c.ticket.iter().zip(widths).zip(dims.windows(2)).enumerate() {
        let shape = kept::Shape {
            block: b,
            inputs: n[0],
            outputs: n[1],
            width,
        };
        kept.push(KeptBlock::check(&shape, ticket, &seed)?);
    }

    let mut claims = Vec::with_capacity(depth);
    for (b, block) in c.bound.blocks.iter().enumerate() {
        claims.push(read_claim(b, block)?);
    }
    let epsilon = parse(&c.bound.epsilon, "bound.epsilon")?;

    let mut blocks = Vec::with_capacity(depth);
    let (mut a, mut e) = (radius.clone(), BigRational::zero());
    for (b, ((weights, kept), claim)) in layers.iter().zip(&kept).zip(claims).enumerate() {
        let signed_input = b == 0 && !c.domain.nonnegative;
        let deviation = kept.deviation(weights, signed_input);
        check_error(b, &claim.error, &deviation.squared_sum)?;
        lipschitz::check(b, &claim.lipschitz, &claim.method, weights, limits)?;
        // e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1},  a_i = L_i a_{i-1}
        e = &claim.error * (&a + &e) + &claim.lipschitz * &e;
        a = &claim.lipschitz * &a;
        blocks.push(BlockReport {
            error: claim.error,
            lipschitz: claim.lipschitz,
            lipschitz_method: claim.method.name().to_string(),
            propagated: e.clone(),
            max_deviation: deviation.max,
            error_squared: deviation.squared_sum,
            kept_hidden: kept.hidden_count(),
            kept_output: kept.output_count(),
            signed_input,
        });
    }
    if epsilon < e {
        return Err(reject(
            RejectionKind::EpsilonTooSmall,
            "bound.epsilon",
            format!(
                "claimed epsilon = {} is below e_{depth} = {}, the bound the blocks prove, by {}",
                show(&epsilon),
                show(&e),
                show(&(&e - &epsilon))
            ),
        ));
    }

    let parameters = widths
        .iter()
        .zip(dims.windows(2))
        .map(|(&k, n)| (k as u128).saturating_mul(n[0] as u128 + n[1] as u128))
        .fold(0u128, u128::saturating_add);
    let kept_weights = blocks
        .iter()
        .map(|b| b.kept_hidden.saturating_add(b.kept_output))
        .fold(0u64, u64::saturating_add);
    Ok(Report {
        epsilon,
        bound_value: e,
        radius,
        nonnegative: c.domain.nonnegative,
        input_dim: c.target.input_dim,
        target_dims: dims,
        hidden_widths: widths.clone(),
        parameters,
        kept_weights,
        blocks,
    })
}

fn check_header(c: &Certificate) -> Result<(), Rejection> {
    if c.format != certificate::FORMAT_NAME {
        return Err(reject(
            RejectionKind::Header,
            "format",
            format!(
                "expected {:?}, got {:?}",
                certificate::FORMAT_NAME,
                numbers::abbreviate(&c.format)
            ),
        ));
    }
    if c.version != certificate::FORMAT_VERSION {
        return Err(reject(
            RejectionKind::Header,
            "version",
            format!(
                "expected {}, got {} (this checker knows version {} only)",
                certificate::FORMAT_VERSION,
                c.version,
                certificate::FORMAT_VERSION
            ),
        ));
    }
    Ok(())
}

/// The radius r >= 0 of the L2 ball.
fn check_domain(domain: &certificate::Domain) -> Result<BigRational, Rejection> {
    if domain.norm != "l2" {
        return Err(reject(
            RejectionKind::Domain,
            "domain.norm",
            format!(
                "expected \"l2\", got {:?}",
                numbers::abbreviate(&domain.norm)
            ),
        ));
    }
    let radius = parse(&domain.radius, "domain.radius")?;
    if radius.is_negative() {
        return Err(reject(
            RejectionKind::Domain,
            "domain.radius",
            format!("radius {} is negative", show(&radius)),
        ));
    }
    Ok(radius)
}

fn check_random_network(rn: &certificate::RandomNetwork) -> Result<Seed, Rejection> {
    let expect = |place: &str, want: &str, got: &str| {
        if got == want {
            Ok(())
        } else {
            Err(reject(
                RejectionKind::Header,
                place,
                format!("expected {want:?}, got {:?}", numbers::abbreviate(got)),
            ))
        }
    };
    expect("random_network.rng", certificate::RNG_NAME, &rn.rng)?;
    expect(
        "random_network.distribution",
        certificate::DISTRIBUTION_NAME,
        &rn.distribution,
    )?;
    Seed::from_hex(&rn.seed).map_err(|_| {
        reject(
            RejectionKind::Header,
            "random_network.seed",
            format!(
                "expected exactly 64 hexadecimal digits, got {} characters {:?}",
                rn.seed.chars().count(),
                numbers::abbreviate(&rn.seed)
            ),
        )
    })
}

/// The dimensions n_0..n_l and the weight matrices W_1..W_l of f, every weight parsed.
///
/// The activations only need checking: ReLU and identity are both 1-Lipschitz, which is
/// all the bound of spec section 5 uses.
fn read_target(target: &certificate::TargetJson) -> Result<(Vec<u64>, Vec<Scaled>), Rejection> {
    if target.layers.is_empty() {
        return Err(reject(
            RejectionKind::Dimension,
            "target.layers",
            "the target has no layers",
        ));
    }
    let depth = target.layers.len();
    let mut dims = vec![target.input_dim];
    let mut layers = Vec::with_capacity(depth);
    for (i, layer) in target.layers.iter().enumerate() {
        let place = format!("target.layers[{i}]");
        let last = i + 1 == depth;
        let allowed = layer.activation == "relu" || (last && layer.activation == "linear");
        if !allowed {
            let rule = if last {
                "\"relu\" or \"linear\""
            } else {
                "\"relu\" (\"linear\" only on the last layer)"
            };
            return Err(reject(
                RejectionKind::Activation,
                format!("{place}.activation"),
                format!(
                    "activation {:?} of layer {} is not allowed; expected {rule}",
                    numbers::abbreviate(&layer.activation),
                    i + 1
                ),
            ));
        }
        let columns = dims[i];
        let mut rows = Vec::with_capacity(layer.weights.len());
        for (m, row) in layer.weights.iter().enumerate() {
            if row.len() as u64 != columns {
                return Err(reject(
                    RejectionKind::Dimension,
                    format!("{place}.weights[{m}]"),
                    format!("row has {} entries, expected {columns} (n_{i})", row.len()),
                ));
            }
            let parsed = row
                .iter()
                .enumerate()
                .map(|(t, x)| parse(x, format!("{place}.weights[{m}][{t}]")))
                .collect::<Result<Vec<_>, _>>()?;
            rows.push(parsed);
        }
        let columns = usize::try_from(columns).map_err(|_| {
            reject(
                RejectionKind::Dimension,
                "target.input_dim",
                format!("input dimension {columns} does not fit this machine's memory"),
            )
        })?;
        dims.push(rows.len() as u64);
        layers.push(Scaled::from_rows(&rows, columns));
    }
    Ok((dims, layers))
}

fn check_count(place: &str, what: &str, count: usize, depth: usize) -> Result<(), Rejection> {
    if count == depth {
        return Ok(());
    }
    Err(reject(
        RejectionKind::Dimension,
        place,
        format!("expected {depth} {what} (one per target layer), found {count}"),
    ))
}

/// The parsed claims of `bound.blocks[b]`.
fn read_claim(b: usize, block: &certificate::BlockBound) -> Result<Claim, Rejection> {
    let place = format!("bound.blocks[{b}]");
    let error = parse(&block.error, format!("{place}.error"))?;
    let lipschitz = parse(&block.lipschitz, format!("{place}.lipschitz"))?;
    let method = match (block.lipschitz_method.as_deref(), &block.lipschitz_witness) {
        (None | Some("frobenius"), None) => Method::Frobenius,
        (Some("spectral"), None) => Method::Spectral,
        (Some("spectral"), Some(witness)) => {
            let wplace = format!("{place}.lipschitz_witness");
            let shift = parse(&witness.shift, format!("{wplace}.shift"))?;
            let mut factor = Vec::with_capacity(witness.factor.len());
            for (a, row) in witness.factor.iter().enumerate() {
                let parsed = row
                    .iter()
                    .enumerate()
                    .map(|(k, x)| parse(x, format!("{wplace}.factor[{a}][{k}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                factor.push(parsed);
            }
            Method::Witness { shift, factor }
        }
        (None | Some("frobenius"), Some(_)) => {
            return Err(reject(
                RejectionKind::WitnessInvalid,
                format!("{place}.lipschitz_witness"),
                "a witness is only allowed with \"lipschitz_method\": \"spectral\"",
            ));
        }
        (Some(other), _) => {
            return Err(reject(
                RejectionKind::Header,
                format!("{place}.lipschitz_method"),
                format!(
                    "unknown method {:?}; expected \"frobenius\" or \"spectral\"",
                    numbers::abbreviate(other)
                ),
            ));
        }
    };
    Ok(Claim {
        error,
        lipschitz,
        method,
    })
}

/// `c_i >= 0` and `c_i^2 >= sum_{m,t} E_i[m][t]^2`.
fn check_error(b: usize, error: &BigRational, squared_sum: &BigRational) -> Result<(), Rejection> {
    let place = format!("bound.blocks[{b}].error");
    let i = b + 1;
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
    fn show_abbreviates_and_approximates() {
        let x = BigRational::new(1.into(), 20.into());
        assert_eq!(show(&x), "1/20 (~0.05)");
    }
}
