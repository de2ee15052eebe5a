//! The structure of a certificate (docs/FORMAT.md sections 3, 4 and 7): header, domain,
//! random network, target dimensions and activations, counts, and the claims of the bound,
//! every number parsed and every failure named by its place.

use super::lipschitz::Method;
use super::report::show;
use super::{Claim, Limits, Rejection, RejectionKind, TargetLayer, parse, parse_at, reject};
use crate::certificate::{self, Certificate};
use crate::numbers;
use crate::sampler::Seed;
use num_rational::BigRational;
use num_traits::Signed;

pub(super) fn check_header(c: &Certificate) -> Result<(), Rejection> {
    // A compact certificate (docs/FORMAT.md section 14) differs only in how the reader
    // took its ticket; every check is the same.
    if c.format != certificate::FORMAT_NAME && c.format != certificate::COMPACT_FORMAT_NAME {
        return Err(reject(
            RejectionKind::Header,
            "format",
            format!(
                "expected {:?} (or {:?}), got {:?}",
                certificate::FORMAT_NAME,
                certificate::COMPACT_FORMAT_NAME,
                numbers::abbreviate(&c.format)
            ),
        ));
    }
    if c.version != certificate::FORMAT_VERSION && c.version != certificate::FORMAT_VERSION_TERMS {
        return Err(reject(
            RejectionKind::Header,
            "version",
            format!(
                "expected {} or {}, got {} (this checker knows versions {} and {})",
                certificate::FORMAT_VERSION,
                certificate::FORMAT_VERSION_TERMS,
                c.version,
                certificate::FORMAT_VERSION,
                certificate::FORMAT_VERSION_TERMS
            ),
        ));
    }
    // Version 2 adds `bound.terms`, `bound.joint` and the blocks' `error_method` / `error_witness`
    // (docs/FORMAT.md section 12.1); version 1 has none of them.
    let version_2 = c.version == certificate::FORMAT_VERSION_TERMS;
    if version_2 && !c.has_version_2_claims() {
        return Err(reject(
            RejectionKind::Header,
            "bound.terms",
            "a version 2 certificate must have \"terms\" or \"joint\" in its bound or a block with \"error_method\"",
        ));
    }
    if !version_2 {
        if c.bound.terms.is_some() {
            return Err(reject(
                RejectionKind::Header,
                "bound.terms",
                "\"terms\" belong to version 2; this certificate says version 1",
            ));
        }
        if c.bound.joint.is_some() {
            return Err(reject(
                RejectionKind::Header,
                "bound.joint",
                "\"joint\" belongs to version 2; this certificate says version 1",
            ));
        }
        for (b, block) in c.bound.blocks.iter().enumerate() {
            let key = match (&block.error_method, &block.error_witness) {
                (Some(_), _) => "error_method",
                (None, Some(_)) => "error_witness",
                (None, None) => continue,
            };
            return Err(reject(
                RejectionKind::Header,
                format!("bound.blocks[{b}].{key}"),
                format!("\"{key}\" belongs to version 2; this certificate says version 1"),
            ));
        }
    }
    Ok(())
}

/// The radius r >= 0 of the L2 ball.
pub(super) fn check_domain(
    domain: &certificate::Domain,
    limits: &Limits,
) -> Result<BigRational, Rejection> {
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
    let radius = parse(&domain.radius, "domain.radius", limits)?;
    if radius.is_negative() {
        return Err(reject(
            RejectionKind::Domain,
            "domain.radius",
            format!("radius {} is negative", show(&radius)),
        ));
    }
    Ok(radius)
}

pub(super) fn check_random_network(rn: &certificate::RandomNetwork) -> Result<Seed, Rejection> {
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
/// all the bound of docs/FORMAT.md section 6 uses.
pub(super) fn read_target(
    target: &certificate::TargetJson,
    limits: &Limits,
) -> Result<(Vec<u64>, Vec<TargetLayer>), Rejection> {
    // The one count the reader cannot bound by an array's length: a zero-row first layer
    // leaves input_dim free of the file's size.
    if target.input_dim > limits.max_dimension {
        return Err(reject(
            RejectionKind::Limit,
            "target.input_dim",
            format!(
                "input dimension {} is above the limit of {} (--max-dimension)",
                target.input_dim, limits.max_dimension
            ),
        ));
    }
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
        let last = i.saturating_add(1) == depth;
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
                    i.saturating_add(1)
                ),
            ));
        }
        let columns = dims[i];
        let mut weights = Vec::new();
        for (m, row) in layer.weights.iter().enumerate() {
            if row.len() as u64 != columns {
                return Err(reject(
                    RejectionKind::Dimension,
                    format!("{place}.weights[{m}]"),
                    format!("row has {} entries, expected {columns} (n_{i})", row.len()),
                ));
            }
            for (t, x) in row.iter().enumerate() {
                weights.push(parse_at(
                    x,
                    || format!("{place}.weights[{m}][{t}]"),
                    limits,
                )?);
            }
        }
        let columns = usize::try_from(columns).map_err(|_| {
            reject(
                RejectionKind::Dimension,
                "target.input_dim",
                format!("input dimension {columns} does not fit this machine's memory"),
            )
        })?;
        let rows = layer.weights.len();
        dims.push(rows as u64);
        layers.push(TargetLayer {
            rows,
            cols: columns,
            weights,
        });
    }
    Ok((dims, layers))
}

pub(super) fn check_count(
    place: &str,
    what: &str,
    count: usize,
    depth: usize,
) -> Result<(), Rejection> {
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
pub(super) fn read_claim(
    b: usize,
    block: &certificate::BlockBound,
    limits: &Limits,
) -> Result<Claim, Rejection> {
    let place = format!("bound.blocks[{b}]");
    let error = parse(&block.error, format!("{place}.error"), limits)?;
    let lipschitz = parse(&block.lipschitz, format!("{place}.lipschitz"), limits)?;
    let method = read_method(
        &place,
        "lipschitz",
        block.lipschitz_method.as_deref(),
        block.lipschitz_witness.as_ref(),
        limits,
    )?;
    let error_method = read_method(
        &place,
        "error",
        block.error_method.as_deref(),
        block.error_witness.as_ref(),
        limits,
    )?;
    Ok(Claim {
        error,
        lipschitz,
        method,
        error_method,
    })
}

/// The method of the `lipschitz` or `error` claim of a block at `place`, from its
/// `{claim}_method` and `{claim}_witness` keys.
fn read_method(
    place: &str,
    claim: &str,
    method: Option<&str>,
    witness: Option<&certificate::LipschitzWitness>,
    limits: &Limits,
) -> Result<Method, Rejection> {
    Ok(match (method, witness) {
        (None | Some("frobenius"), None) => Method::Frobenius,
        (Some("spectral"), None) => Method::Spectral,
        (Some("spectral"), Some(witness)) => {
            let wplace = format!("{place}.{claim}_witness");
            let shift = parse(&witness.shift, format!("{wplace}.shift"), limits)?;
            let mut factor = Vec::with_capacity(witness.factor.len());
            for (a, row) in witness.factor.iter().enumerate() {
                let parsed = row
                    .iter()
                    .enumerate()
                    .map(|(k, x)| parse(x, format!("{wplace}.factor[{a}][{k}]"), limits))
                    .collect::<Result<Vec<_>, _>>()?;
                factor.push(parsed);
            }
            Method::Witness { shift, factor }
        }
        (None | Some("frobenius"), Some(_)) => {
            return Err(reject(
                RejectionKind::WitnessInvalid,
                format!("{place}.{claim}_witness"),
                format!("a witness is only allowed with \"{claim}_method\": \"spectral\""),
            ));
        }
        (Some(other), _) => {
            return Err(reject(
                RejectionKind::Header,
                format!("{place}.{claim}_method"),
                format!(
                    "unknown method {:?}; expected \"frobenius\" or \"spectral\"",
                    numbers::abbreviate(other)
                ),
            ));
        }
    })
}
