//! The certify pipeline: budget -> construction -> exact bound -> certificate.

use crate::bound::{Claims, claims};
use crate::certificate::{
    BlockBound, Bound, Certificate, DISTRIBUTION_NAME, Domain, FORMAT_NAME, FORMAT_VERSION,
    RNG_NAME, RandomNetwork, Rational,
};
use crate::construct::{ConstructError, PairsSettings, budget, pairs};
use crate::network::Network;
use crate::numbers::{format_rational, rational_to_f64};
use crate::sampler::Seed;
use crate::ticket::Ticket;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// What the user asks for.
#[derive(Debug, Clone)]
pub struct CertifyOptions {
    pub epsilon: BigRational,
    pub seed: Seed,
    pub radius: BigRational,
    pub nonnegative: bool,
    pub widths: Option<Vec<u64>>,
    pub max_width: u64,
}

/// A certificate and what went into it.
#[derive(Debug, Clone)]
pub struct Certified {
    pub certificate: Certificate,
    pub ticket: Ticket,
    pub claims: Claims,
    pub tolerances: Vec<f64>,
}

/// Scales of the worst-case tolerances tried in order. Typical errors are well below the
/// tolerance (E^2 averages tau^2 / 3 for uniform errors), so a looser tolerance usually
/// still meets epsilon and needs a narrower g; 1.0 is guaranteed by the budget.
const TOLERANCE_SCALES: [f64; 4] = [1.6, 1.0, 0.8, 0.5];

/// Share of epsilon the budget aims at; the rest absorbs the rounding up of claims.
const BUDGET_FRACTION: f64 = 0.95;

/// Certifies `target` with the pairs construction.
pub fn certify(target: &Network, options: &CertifyOptions) -> Result<Certified, String> {
    target.check()?;
    if !options.epsilon.is_positive() {
        return Err(format!(
            "--epsilon must be positive, got {}",
            format_rational(&options.epsilon)
        ));
    }
    if options.radius.is_negative() {
        return Err("--radius must be >= 0".into());
    }
    if let Some(widths) = &options.widths {
        if widths.len() != target.layers.len() {
            return Err(format!(
                "--width lists {} widths but the target has {} layers",
                widths.len(),
                target.layers.len()
            ));
        }
    }
    let epsilon = rational_to_f64(&options.epsilon);
    let radius = rational_to_f64(&options.radius);
    let worst_case = budget(target, radius, epsilon, BUDGET_FRACTION);
    let mut last_error = String::new();
    for scale in TOLERANCE_SCALES {
        let tolerances: Vec<f64> = worst_case.iter().map(|t| t * scale).collect();
        let settings = PairsSettings {
            seed: options.seed,
            tolerances: tolerances.clone(),
            signed_input: !options.nonnegative,
            widths: options.widths.clone(),
            max_width: options.max_width,
        };
        let ticket = match pairs(target, &settings) {
            Ok(ticket) => ticket,
            // A wider search cannot help these; a tighter tolerance only makes them worse.
            Err(
                e @ (ConstructError::Unreachable { .. } | ConstructError::WidthTooSmall { .. }),
            ) if scale <= 1.0 => {
                return Err(e.to_string());
            }
            Err(ConstructError::Unreachable { .. }) if scale > 1.0 => continue,
            Err(e) => {
                last_error = e.to_string();
                if scale <= 1.0 {
                    return Err(last_error);
                }
                continue;
            }
        };
        let claims = claims(target, &ticket, &options.radius, options.nonnegative)?;
        let claimed = if claims.epsilon <= options.epsilon {
            claims.epsilon.clone()
        } else if claims.bound <= options.epsilon {
            options.epsilon.clone()
        } else {
            last_error = format!(
                "bound {} exceeds epsilon at tolerance scale {scale}",
                rational_to_f64(&claims.bound)
            );
            continue;
        };
        let certificate = assemble(target, options, &ticket, &claims, &claimed, &tolerances);
        return Ok(Certified {
            certificate,
            ticket,
            claims,
            tolerances,
        });
    }
    Err(format!("could not meet --epsilon: {last_error}"))
}

fn assemble(
    target: &Network,
    options: &CertifyOptions,
    ticket: &Ticket,
    claims: &Claims,
    epsilon: &BigRational,
    tolerances: &[f64],
) -> Certificate {
    let widths = match &options.widths {
        Some(w) => w.clone(),
        None => ticket.blocks.iter().map(|b| b.width()).collect(),
    };
    let text = |x: &BigRational| Rational(format_rational(x));
    Certificate {
        format: FORMAT_NAME.to_string(),
        version: FORMAT_VERSION,
        target: target.to_target_json(),
        domain: Domain {
            norm: "l2".to_string(),
            radius: text(&options.radius),
            nonnegative: options.nonnegative,
        },
        random_network: RandomNetwork {
            rng: RNG_NAME.to_string(),
            seed: options.seed.to_hex(),
            distribution: DISTRIBUTION_NAME.to_string(),
            hidden_widths: widths,
        },
        ticket: ticket.blocks.iter().map(|b| b.to_json()).collect(),
        bound: Bound {
            blocks: claims
                .blocks
                .iter()
                .map(|b| BlockBound {
                    error: text(&b.error),
                    lipschitz: text(&b.lipschitz),
                    lipschitz_method: None,
                    lipschitz_witness: None,
                })
                .collect(),
            epsilon: text(if epsilon.is_zero() {
                &claims.epsilon
            } else {
                epsilon
            }),
        },
        meta: Some(serde_json::json!({
            "producer": format!("slth {}", env!("CARGO_PKG_VERSION")),
            "construction": "pairs",
            "tolerances": tolerances.iter().map(|t| format!("{t:.6e}")).collect::<Vec<_>>(),
        })),
    }
}
