//! The certify pipeline: budget -> construction -> exact bound -> certificate.

use crate::bound::{Claims, claims};
use crate::construct::budget::TOLERANCE_SCALES;
use crate::construct::reachable::{Allowance, REFUSAL_FACTOR, Reachable, reachable};
use crate::construct::{
    ConstructError, PairsSettings, SubsetSumSettings, budget, pairs, subset_sum,
};
use crate::error::Error;
use crate::network::{BiasedNetwork, Network, NetworkError};
use crate::numbers::{format_rational, rational_to_f64};
use crate::ticket::Ticket;
use crate::tighten::Claims as Added;
use num_rational::BigRational;
use num_traits::{One, Signed};
use serde_json::{Value, json};
use slth_checker::certificate::{
    BlockBound, Bound, Certificate, DISTRIBUTION_NAME, Domain, FORMAT_NAME, FORMAT_VERSION,
    LipschitzWitness, RNG_NAME, RandomNetwork, Rational,
};
use slth_checker::sampler::Seed;
use slth_checker::statement::{DERIVATION_KIND, statement};
use slth_checker::verify::Rejection;

/// What the certificate must achieve.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// the certified sup-norm bound epsilon
    Epsilon(BigRational),
    /// every per-weight error `E_i[m][t]` <= T; the epsilon that follows is certified
    Tolerance(BigRational),
}

/// Which construction chooses the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Construction {
    /// Malach et al.: one product V*U per path, width O(1/tau) per input
    Pairs,
    /// Pensia et al.: a subset of a pool of O(log 1/tau) neurons per input
    SubsetSum,
}

impl Construction {
    pub fn name(self) -> &'static str {
        match self {
            Construction::Pairs => "pairs",
            Construction::SubsetSum => "subset-sum",
        }
    }
}

/// Why certify could not certify: each names the option, block or weight concerned.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The target is not a well-formed network.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// An option that does not fit the target.
    #[error("--{option}: {reason}")]
    Option {
        option: &'static str,
        reason: String,
    },
    /// The construction cannot reach a weight, or a width or pool is too small.
    #[error(transparent)]
    Construct(#[from] ConstructError),
    /// The bound of every attempt exceeds the requested epsilon.
    #[error("could not meet --epsilon: {0}")]
    EpsilonNotMet(String),
    /// The requested epsilon is far below the smallest the construction can reach at the
    /// allowed widths ([`crate::construct::reachable`]): refused before the search.
    #[error(
        "--epsilon {asked:.3e} is far below the smallest epsilon the {construction} construction can reach at the allowed widths, estimated at {estimate:.3e} ({allowance}; requests below the estimate / {factor} are refused before the search): raise --epsilon, or add --best-effort for the best certificate anyway"
    )]
    BelowReachable {
        asked: f64,
        estimate: f64,
        construction: &'static str,
        allowance: String,
        factor: f64,
    },
    /// A `--tolerance` request whose exact per-weight error came out larger.
    #[error("block {block}: the largest per-weight error is {largest:.6e}, above --tolerance")]
    ToleranceNotMet { block: usize, largest: f64 },
    /// The builder's own exact bound could not be formed (a block's path sums overflow).
    #[error(transparent)]
    Bound(#[from] crate::bound::BoundError),
    /// A spectral claim the checker rejected: certify never hands out a certificate its
    /// own checker rejects.
    #[error(
        "the spectral Lipschitz claim did not verify ({0}); certify with --lipschitz frobenius instead"
    )]
    SelfCheck(Rejection),
    /// A homogenized target's carrier weight 1, which one product V U cannot reach.
    #[error(
        "the homogenized network passes the constant 1 on with a carrier weight of 1, which the pairs construction cannot reach (one product of two weights in (-1, 1)); use the subset-sum construction"
    )]
    PairsCannotCarry,
}

impl CertifyError {
    fn option(option: &'static str, reason: impl Into<String>) -> CertifyError {
        CertifyError::Option {
            option,
            reason: reason.into(),
        }
    }
}

/// What the user asks for.
#[derive(Debug, Clone)]
pub struct CertifyOptions {
    pub request: Request,
    pub construction: Construction,
    pub seed: Seed,
    pub radius: BigRational,
    pub nonnegative: bool,
    pub widths: Option<Vec<u64>>,
    /// pairs: how many hidden neurons a block may scan
    pub max_width: u64,
    /// subset-sum: a fixed pool size, or None for the smallest that works
    pub pool: Option<usize>,
    /// claim spectral Lipschitz bounds (with a witness for wide layers) where tighter than
    /// Frobenius
    pub spectral: bool,
    /// the format version to write: 2 (the default) claims c_i >= ||M_i||_2 with a witness
    /// where that is tighter than Frobenius (docs/FORMAT.md section 12.2); 1 writes only
    /// version 1 claims
    pub version: u64,
    /// when epsilon cannot be met, write the best certificate found (with the epsilon it
    /// proves) instead of failing (version 2's aimed search)
    pub best_effort: bool,
    /// the activations `--activations` states, one name per layer (checked against the
    /// target file by [`certify_file`])
    pub activations: Option<Vec<String>>,
    /// which semidefinite claims [`certify_file`] proves after the construction
    pub tightest: Tightest,
}

/// The semidefinite claims [`certify_file`] proves after the construction ([`crate::tighten`]),
/// writing the smaller epsilon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tightest {
    /// the joint form (docs/FORMAT.md section 12.10) when its search fits and is quick
    /// ([`crate::tighten::too_slow_for_default`]), otherwise none (and
    /// [`Certified::without_joint`] says why); nothing for format version 1
    Auto,
    /// none: the spectral claims only
    Spectral,
    /// the telescoping terms (section 12.3), or an error when their search does not fit
    Terms,
    /// the joint form, or an error when its search does not fit
    Joint,
}

impl CertifyOptions {
    /// Defaults for everything but the request and the seed.
    pub fn new(request: Request, seed: Seed) -> CertifyOptions {
        CertifyOptions {
            request,
            construction: Construction::SubsetSum,
            seed,
            radius: BigRational::one(),
            nonnegative: false,
            widths: None,
            max_width: crate::construct::DEFAULT_MAX_WIDTH,
            pool: None,
            spectral: true,
            version: 2,
            best_effort: false,
            activations: None,
            tightest: Tightest::Auto,
        }
    }
}

impl CertifyOptions {
    /// Options that cannot work whatever the target: a request that is not positive, a
    /// negative radius, a pool outside 1..=30.
    pub fn check(&self) -> Result<(), Error> {
        let (option, value) = match &self.request {
            Request::Epsilon(e) => ("epsilon", e),
            Request::Tolerance(t) => ("tolerance", t),
        };
        if !value.is_positive() {
            return Err(Error::usage(
                option,
                format!("must be positive, got {}", format_rational(value)),
            ));
        }
        Ok(())
    }
}

/// A certificate and what went into it.
///
/// The kept weights are held once, as the builder's [`Ticket`] (integers over 2^53):
/// `head` is the certificate without them (its `ticket` is empty), [`Certified::certificate`]
/// assembles the whole certificate and [`crate::write::write_certified`] writes it without
/// ever holding the millions of kept entries of a wide g as text.
#[derive(Debug, Clone)]
pub struct Certified {
    /// the certificate but its kept entries (`head.ticket` is empty; see `ticket`)
    pub head: Certificate,
    /// the kept weights: the certificate's `ticket`
    pub ticket: Ticket,
    pub claims: Claims,
    pub tolerances: Vec<f64>,
    /// subset-sum pool size per block (empty for pairs)
    pub pools: Vec<usize>,
    /// for an epsilon request, the estimate of the smallest epsilon the construction can
    /// reach at the allowed widths ([`crate::construct::reachable`])
    pub reachable: Option<f64>,
    /// why `slth verify` with its default resource limits refuses the certificate (a
    /// witness check larger than `--max-exact-work`, say), when it does; the certificate is
    /// valid (checked without limits) and verifies with the limit the reason names raised
    pub default_limits_refuse: Option<String>,
    /// with `--claims terms`: lambda_1 .. lambda_l and r * sum lambda_i, the telescoping bound
    pub terms: Option<(Vec<BigRational>, BigRational)>,
    /// when the joint form was proved (the default where it fits, or `--claims joint`):
    /// r * lambda, its bound
    pub joint: Option<BigRational>,
    /// with [`Tightest::Auto`], why the joint form was not proved (a search too large or too
    /// long for the default, or one that found no form the checker accepts)
    pub without_joint: Option<String>,
}

/// Share of epsilon the budget aims at; the rest absorbs the rounding up of claims.
const BUDGET_FRACTION: f64 = 0.95;

/// Certifies `target`: chooses per-block tolerances, builds a ticket, bounds it exactly.
pub fn certify(target: &Network, options: &CertifyOptions) -> Result<Certified, CertifyError> {
    target.check()?;
    if options.radius.is_negative() {
        return Err(CertifyError::option("radius", "must be >= 0"));
    }
    if let Some(widths) = &options.widths
        && widths.len() != target.layers.len()
    {
        return Err(CertifyError::option(
            "width",
            format!(
                "lists {} widths but the target has {} layers",
                widths.len(),
                target.layers.len()
            ),
        ));
    }
    if options.pool == Some(0)
        || options
            .pool
            .is_some_and(|p| p > crate::construct::subset_sum::MAX_EXACT_POOL)
    {
        return Err(CertifyError::option(
            "pool",
            format!(
                "must be between 1 and {}",
                crate::construct::subset_sum::MAX_EXACT_POOL
            ),
        ));
    }
    let layers = target.layers.len();
    match &options.request {
        Request::Epsilon(epsilon) => {
            if !epsilon.is_positive() {
                return Err(CertifyError::option(
                    "epsilon",
                    format!("must be positive, got {}", format_rational(epsilon)),
                ));
            }
            let reachable = reachable_estimate(target, options);
            let asked = rational_to_f64(epsilon);
            let construction = options.construction.name();
            let allowance = allowance_text(options);
            if crate::progress::shown() {
                eprintln!(
                    "the smallest epsilon the {construction} construction can reach at the allowed widths is estimated at {:.3e} ({allowance})",
                    reachable.epsilon
                );
            }
            if !options.best_effort && asked * REFUSAL_FACTOR < reachable.epsilon {
                return Err(CertifyError::BelowReachable {
                    asked,
                    estimate: reachable.epsilon,
                    construction,
                    allowance,
                    factor: REFUSAL_FACTOR,
                });
            }
            let mut certified = if options.version >= 2 {
                certify_aimed(target, options, epsilon)
            } else {
                certify_chain(target, options, epsilon)
            }?;
            certified.reachable = Some(reachable.epsilon);
            Ok(certified)
        }
        Request::Tolerance(tolerance) => {
            if !tolerance.is_positive() {
                return Err(CertifyError::option(
                    "tolerance",
                    format!("must be positive, got {}", format_rational(tolerance)),
                ));
            }
            // The search works in f64: aim a hair below T so that rounding cannot cross it.
            let aim = rational_to_f64(tolerance) * (1.0 - 1e-9);
            let tolerances = vec![aim; layers];
            let (ticket, pools) = build(target, options, &tolerances)?;
            let claims = claims(
                target,
                &ticket,
                &options.radius,
                options.nonnegative,
                options.spectral,
                options.version >= 2,
            )?;
            for (i, block) in claims.blocks.iter().enumerate() {
                if block.deviation.max > *tolerance {
                    return Err(CertifyError::ToleranceNotMet {
                        block: i + 1,
                        largest: rational_to_f64(&block.deviation.max),
                    });
                }
            }
            let claimed = claims.epsilon.clone();
            finish(target, options, ticket, claims, claimed, tolerances, pools)
        }
    }
}

/// Version 1, an epsilon request: the worst-case budget's tolerances, scaled by
/// [`TOLERANCE_SCALES`] in turn, until the exact bound meets epsilon.
fn certify_chain(
    target: &Network,
    options: &CertifyOptions,
    epsilon: &BigRational,
) -> Result<Certified, CertifyError> {
    let worst_case = budget(
        target,
        rational_to_f64(&options.radius),
        rational_to_f64(epsilon),
        BUDGET_FRACTION,
        options.spectral,
    );
    let mut last_error = String::new();
    for (attempt, scale) in TOLERANCE_SCALES.iter().enumerate() {
        let guaranteed = *scale <= 1.0;
        let tolerances: Vec<f64> = worst_case.iter().map(|t| t * scale).collect();
        let (ticket, pools) = match build(target, options, &tolerances) {
            Ok(built) => built,
            Err(e) if guaranteed => return Err(e.into()),
            Err(e) => {
                last_error = e.to_string();
                continue;
            }
        };
        let claims = claims(
            target,
            &ticket,
            &options.radius,
            options.nonnegative,
            options.spectral,
            options.version >= 2,
        )?;
        let claimed = if claims.epsilon <= *epsilon {
            claims.epsilon.clone()
        } else if claims.bound <= *epsilon {
            epsilon.clone()
        } else {
            last_error = format!(
                "the bound {:.6e} exceeds epsilon after {} attempts",
                rational_to_f64(&claims.bound),
                attempt + 1
            );
            continue;
        };
        return finish(target, options, ticket, claims, claimed, tolerances, pools);
    }
    Err(CertifyError::EpsilonNotMet(last_error))
}

/// Attempts of version 2's aimed search before it gives up (the last one at the guaranteed
/// tolerances).
const AIM_ATTEMPTS: usize = 4;

/// Version 2, an epsilon request: aims every block's spectral error claim at its share of
/// epsilon ([`crate::construct::budget::block_targets`]), first at the tolerance where a
/// typical error matrix meets it; a block whose claim comes out above its share gets its
/// tolerance scaled down by the ratio (with 10% to spare) for the next attempt, never below
/// the tolerance that guarantees it. Keeps the attempt with the smallest bound for
/// `--best-effort`.
fn certify_aimed(
    target: &Network,
    options: &CertifyOptions,
    epsilon: &BigRational,
) -> Result<Certified, CertifyError> {
    let targets = crate::construct::budget::block_targets(
        target,
        rational_to_f64(&options.radius),
        rational_to_f64(epsilon),
        BUDGET_FRACTION,
        options.spectral,
        !options.nonnegative,
    );
    let mut tolerances: Vec<f64> = targets.iter().map(|t| t.aim.max(t.guaranteed)).collect();
    // The smallest bound seen, with its epsilon; the attempt itself is kept only when
    // --best-effort will write it (a wide g's ticket is large).
    let mut best: Option<(BigRational, BigRational)> = None;
    let mut best_attempt: Option<(Ticket, Claims, Vec<f64>, Vec<usize>)> = None;
    let mut last_error = String::new();
    for attempt in 0..AIM_ATTEMPTS {
        let last = attempt + 1 == AIM_ATTEMPTS;
        if last {
            for (tau, t) in tolerances.iter_mut().zip(&targets) {
                *tau = tau.min(t.guaranteed);
            }
        }
        let (ticket, pools) = match build(target, options, &tolerances) {
            Ok(built) => built,
            Err(e) if last => {
                last_error = e.to_string();
                break;
            }
            Err(e) => {
                // A tolerance too tight for the construction will not loosen by aiming
                // lower; the guaranteed one is tighter still.
                last_error = e.to_string();
                break;
            }
        };
        let claims = claims(
            target,
            &ticket,
            &options.radius,
            options.nonnegative,
            options.spectral,
            true,
        )?;
        if claims.bound <= *epsilon {
            let claimed = if claims.epsilon <= *epsilon {
                claims.epsilon.clone()
            } else {
                epsilon.clone()
            };
            return finish(target, options, ticket, claims, claimed, tolerances, pools);
        }
        last_error = format!(
            "the bound {:.6e} exceeds epsilon after {} attempts",
            rational_to_f64(&claims.bound),
            attempt + 1
        );
        let mut moved = false;
        for ((tau, t), block) in tolerances.iter_mut().zip(&targets).zip(&claims.blocks) {
            let ratio = rational_to_f64(&block.error) / t.error;
            if ratio > 1.0 && *tau > t.guaranteed {
                *tau = (*tau * 0.9 / ratio).max(t.guaranteed);
                moved = true;
            }
        }
        if best.as_ref().is_none_or(|(bound, _)| claims.bound < *bound) {
            best = Some((claims.bound.clone(), claims.epsilon.clone()));
            best_attempt = None;
            if options.best_effort {
                best_attempt = Some((ticket, claims, tolerances.clone(), pools));
            }
        } else {
            drop((ticket, claims));
        }
        if !moved {
            // Every block over its share already sits at its guaranteed tolerance (or the
            // Lipschitz claims came out above the budget's estimates): what is left is the
            // guaranteed tolerance everywhere, once.
            let before = tolerances.clone();
            for (tau, t) in tolerances.iter_mut().zip(&targets) {
                *tau = tau.min(t.guaranteed);
            }
            if tolerances == before {
                break;
            }
        }
    }
    match (best, best_attempt) {
        (_, Some((ticket, claims, tolerances, pools))) => {
            let claimed = claims.epsilon.clone();
            let mut certified =
                finish(target, options, ticket, claims, claimed, tolerances, pools)?;
            insert_meta(
                &mut certified.head.meta,
                "best_effort",
                json!({ "epsilon_asked": format_rational(epsilon), "note": last_error }),
            );
            Ok(certified)
        }
        (Some((_, best_epsilon)), None) => Err(CertifyError::EpsilonNotMet(format!(
            "{last_error}; the best ticket found certifies {:.6e} (--best-effort writes it)",
            rational_to_f64(&best_epsilon)
        ))),
        (None, None) => Err(CertifyError::EpsilonNotMet(last_error)),
    }
}

/// [`crate::construct::reachable::reachable`] for these options.
fn reachable_estimate(target: &Network, options: &CertifyOptions) -> Reachable {
    reachable(
        target,
        &allowance(options),
        &options.seed,
        !options.nonnegative,
        // A fixed --width too small for the construction is refused by it, with the
        // width it needs: a better message than the estimate's.
        None,
        rational_to_f64(&options.radius),
        options.spectral,
        options.version,
    )
}

/// What the construction may use at most, for the estimate.
fn allowance(options: &CertifyOptions) -> Allowance {
    match options.construction {
        Construction::SubsetSum => Allowance::SubsetSum {
            pool: options
                .pool
                .unwrap_or(crate::construct::subset_sum::MAX_EXACT_POOL),
        },
        Construction::Pairs => Allowance::Pairs {
            max_width: options.max_width,
        },
    }
}

/// The allowance in words, for the messages.
fn allowance_text(options: &CertifyOptions) -> String {
    match allowance(options) {
        Allowance::SubsetSum { pool } => {
            format!("pools of at most {pool} neurons per input and sign")
        }
        Allowance::Pairs { max_width } => {
            format!("at most {max_width} hidden neurons scanned per block")
        }
    }
}

/// Runs the chosen construction at the given per-block tolerances.
fn build(
    target: &Network,
    options: &CertifyOptions,
    tolerances: &[f64],
) -> Result<(Ticket, Vec<usize>), ConstructError> {
    match options.construction {
        Construction::Pairs => {
            let settings = PairsSettings {
                seed: options.seed,
                tolerances: tolerances.to_vec(),
                signed_input: !options.nonnegative,
                widths: options.widths.clone(),
                max_width: options.max_width,
            };
            Ok((pairs(target, &settings)?, Vec::new()))
        }
        Construction::SubsetSum => {
            let settings = SubsetSumSettings {
                seed: options.seed,
                tolerances: tolerances.to_vec(),
                signed_input: !options.nonnegative,
                widths: options.widths.clone(),
                pool: options.pool,
                lenient: options.version >= 2 && matches!(options.request, Request::Epsilon(_)),
            };
            subset_sum(target, &settings)
        }
    }
}

/// Assembles the certificate. Spectral claims rest on f64 work (an estimate and a Cholesky
/// factor), so a certificate that carries one is run through the verifier before it is
/// returned: certify never hands out a certificate its own checker rejects.
fn finish(
    target: &Network,
    options: &CertifyOptions,
    ticket: Ticket,
    claims: Claims,
    epsilon: BigRational,
    tolerances: Vec<f64>,
    pools: Vec<usize>,
) -> Result<Certified, CertifyError> {
    let head = assemble(
        target,
        options,
        &ticket,
        &claims,
        &epsilon,
        &tolerances,
        &pools,
    );
    let mut default_limits_refuse = None;
    if claims
        .blocks
        .iter()
        .any(|b| b.spectral.is_some() || b.error_spectral.is_some())
    {
        // The default verifier (sound f64 with exact fallback), first with its default
        // limits; a refusal by a limit is recorded and the claims are checked again without
        // limits: the question is whether they hold, not whether the file is small.
        let _step =
            crate::progress::Progress::spinner("checking the certificate (spectral claims)");
        // The kept entries go to the checker as indices: it takes every value from the seed
        // itself, as for a compact certificate, instead of reading millions of texts.
        let defaults = slth_checker::verify::Limits::default();
        match slth_checker::verify::verify_kept(&head, ticket.indices(), &defaults) {
            Ok(_) => {}
            Err(refusal) if refusal.kind == slth_checker::verify::RejectionKind::Limit => {
                let unlimited = slth_checker::verify::Limits::unlimited();
                slth_checker::verify::verify_kept(&head, ticket.indices(), &unlimited)
                    .map_err(CertifyError::SelfCheck)?;
                default_limits_refuse = Some(refusal.to_string());
            }
            Err(rejection) => return Err(CertifyError::SelfCheck(rejection)),
        }
    }
    Ok(Certified {
        head,
        ticket,
        claims,
        tolerances,
        pools,
        reachable: None,
        default_limits_refuse,
        terms: None,
        joint: None,
        without_joint: None,
    })
}

fn assemble(
    target: &Network,
    options: &CertifyOptions,
    ticket: &Ticket,
    claims: &Claims,
    epsilon: &BigRational,
    tolerances: &[f64],
    pools: &[usize],
) -> Certificate {
    let widths = match &options.widths {
        Some(w) => w.clone(),
        None => ticket.blocks.iter().map(|b| b.width()).collect(),
    };
    let text = |x: &BigRational| Rational(format_rational(x));
    Certificate {
        format: FORMAT_NAME.to_string(),
        version: if claims.blocks.iter().any(|b| b.error_spectral.is_some()) {
            slth_checker::certificate::FORMAT_VERSION_TERMS
        } else {
            FORMAT_VERSION
        },
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
        // The kept entries stay in the builder's ticket (see [`Certified`]).
        ticket: Vec::new(),
        bound: Bound {
            blocks: claims
                .blocks
                .iter()
                .map(|b| BlockBound {
                    error: text(&b.error),
                    lipschitz: text(&b.lipschitz),
                    lipschitz_method: b.spectral.as_ref().map(|_| "spectral".to_string()),
                    lipschitz_witness: witness_json(b.spectral.as_ref()),
                    error_method: b.error_spectral.as_ref().map(|_| "spectral".to_string()),
                    error_witness: witness_json(b.error_spectral.as_ref()),
                })
                .collect(),
            terms: None,
            joint: None,
            epsilon: text(epsilon),
        },
        meta: Some({
            let mut meta = serde_json::json!({
                "producer": format!("slth {}", env!("CARGO_PKG_VERSION")),
                "construction": options.construction.name(),
                "tolerances": tolerances.iter().map(|t| format!("{t:.6e}")).collect::<Vec<_>>(),
            });
            if !pools.is_empty() {
                meta["pool_sizes"] = serde_json::json!(pools);
            }
            meta
        }),
    }
}

/// The JSON of a spectral claim's witness, when it has one.
fn witness_json(claim: Option<&crate::lipschitz::SpectralClaim>) -> Option<LipschitzWitness> {
    let text = |x: &BigRational| Rational(format_rational(x));
    claim
        .and_then(|s| s.witness.as_ref())
        .map(|(shift, factor)| LipschitzWitness {
            shift: text(shift),
            factor: factor
                .iter()
                .map(|row| row.iter().map(text).collect())
                .collect(),
        })
}

/// Certifies a network that may have biases: as it is if it has none, else through its
/// homogenized form on the ball of radius [`crate::homogenize::homogenized_radius`], with `meta.derived_from`
/// saying so and `options.radius` (r) recorded there.
pub fn certify_with_biases(
    target: &BiasedNetwork,
    options: &CertifyOptions,
) -> Result<Certified, CertifyError> {
    target.check()?;
    if !target.has_biases() {
        return certify(&target.network, options);
    }
    if options.radius.is_negative() {
        return Err(CertifyError::option("radius", "must be >= 0"));
    }
    let homogenized = crate::homogenize::homogenize(target);
    let carried = homogenized.dims()[1..] != target.network.dims()[1..];
    if carried && options.construction == Construction::Pairs {
        return Err(CertifyError::PairsCannotCarry);
    }
    let mut lifted = options.clone();
    lifted.radius = crate::homogenize::homogenized_radius(&options.radius);
    let mut certified = certify(&homogenized, &lifted)?;
    let d = target.network.input_dim;
    let r = format_rational(&options.radius);
    let big_r = format_rational(&lifted.radius);
    let c = &mut certified.head;
    let derivation = json!({
        "kind": DERIVATION_KIND,
        "input_dim": d,
        "radius": r,
        "note": format!(
            "the target is the homogenized form f' of a network f with biases: f'(x, 1) = f(x) for x in R^{d}; in each layer the last column holds the biases, and each hidden layer that feeds a bias ends with a carrier neuron (row 0, ..., 0, 1; ReLU(1) = 1) that passes the constant 1 on; the domain radius {big_r} satisfies {big_r}^2 >= {r}^2 + 1"
        ),
        "statement": statement(d, &r, options.nonnegative, &c.bound.epsilon.0),
    });
    insert_meta(&mut c.meta, "derived_from", derivation);
    Ok(certified)
}

/// `slth certify FILE`: reads the target (a network file or a safetensors MLP) and
/// certifies it, through its homogenized form when it has biases. `meta.activations` records
/// the activations and where they come from (stated in the file, by `--activations`, or
/// assumed), since a safetensors state_dict does not carry them.
pub fn certify_file(path: &std::path::Path, options: &CertifyOptions) -> Result<Certified, Error> {
    let (target, source) = crate::import::load_target_stated(path, options.activations.as_deref())?;
    let mut certified = certify_with_biases(&target, options).map_err(|e| Error::Certify {
        file: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let activations = json!({
        "layers": crate::import::activation_list(target.network.layers.iter().map(|l| l.activation)),
        "source": source.describe(),
    });
    insert_meta(&mut certified.head.meta, "activations", activations);
    match options.tightest {
        Tightest::Spectral => {}
        Tightest::Terms => add_claims(&mut certified, path, Added::Terms)?,
        Tightest::Joint => add_claims(&mut certified, path, Added::Joint)?,
        Tightest::Auto if options.version < 2 => {}
        Tightest::Auto => {
            // The size test reads only the target's shape, not the kept weights.
            let refused = match crate::tighten::too_slow_for_default(&certified.head) {
                Some(reason) => Some(reason),
                None => add_claims(&mut certified, path, Added::Joint)
                    .err()
                    // One line, whatever the error's text.
                    .map(|e| {
                        e.to_string()
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    }),
            };
            certified.without_joint = refused;
        }
    }
    Ok(certified)
}

/// Adds version 2's telescoping terms or joint form to `certified` as `slth tighten` does
/// (the search, then the trusted checker on the result); epsilon becomes their bound,
/// rounded up, when that is smaller. The kept weights do not change, only `bound`,
/// `version` and meta.
fn add_claims(
    certified: &mut Certified,
    path: &std::path::Path,
    claims: Added,
) -> Result<(), Error> {
    let step = crate::progress::Progress::spinner(claims.searching());
    let tightened = crate::tighten::tighten_with(&certified.certificate(), path, claims)?;
    drop(step);
    let output = tightened.certificate;
    certified.head.version = output.version;
    certified.head.bound = output.bound;
    certified.head.meta = output.meta;
    if tightened.default_limits_refuse.is_some() {
        certified.default_limits_refuse = tightened.default_limits_refuse;
    }
    match claims {
        Added::Terms => certified.terms = Some((tightened.lambdas, tightened.telescoping)),
        Added::Joint => certified.joint = Some(tightened.telescoping),
    }
    Ok(())
}

/// Sets `meta.key` (meta becomes an object if it is absent).
fn insert_meta(meta: &mut Option<Value>, key: &str, value: Value) {
    match meta {
        Some(Value::Object(object)) => {
            object.insert(key.into(), value);
        }
        other => *other = Some(json!({ key: value })),
    }
}

/// The lines `certify` and `inspect` print about `meta.activations`: the activations and
/// where they come from, and how to state them when they were assumed. None when meta does
/// not record them.
pub fn activation_lines(meta: Option<&Value>) -> Option<String> {
    let activations = meta?.get("activations")?;
    let layers = activations.get("layers")?.as_str()?;
    let source = activations
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("meta does not say where they come from");
    let mut text = format!("activations: {layers} ({source})");
    if source == crate::import::ASSUMED {
        text.push_str(&format!(
            "\n  a state_dict does not record activations; if the model has others, the certificate is about a different network: {}",
            crate::import::how_to_state(layers)
        ));
    }
    Some(text)
}

impl Certified {
    /// The whole certificate: `head` with the ticket's kept entries as text.
    pub fn certificate(&self) -> Certificate {
        let mut certificate = self.head.clone();
        certificate.ticket = self.ticket.blocks.iter().map(|b| b.to_json()).collect();
        certificate
    }

    /// The line `certify` prints: the certified epsilon, the construction, the size of g~.
    pub fn summary(&self, target: &std::path::Path, seconds: f64) -> String {
        let c = &self.head;
        let epsilon = crate::numbers::parse_rational(&c.bound.epsilon.0).unwrap_or_default();
        let construction = c
            .meta
            .as_ref()
            .and_then(|m| m.get("construction"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let pools = if self.pools.is_empty() {
            String::new()
        } else {
            format!(" (pool sizes {:?})", self.pools)
        };
        let missed = c
            .meta
            .as_ref()
            .and_then(|m| m.get("best_effort"))
            .and_then(|b| b.get("epsilon_asked"))
            .and_then(|v| v.as_str())
            .map(|asked| format!("best effort: epsilon {asked} was not met; "))
            .unwrap_or_default();
        let reachable = self
            .reachable
            .map(|e| format!(" (smallest reachable epsilon estimated at {e:.3e})"))
            .unwrap_or_default();
        let terms = self
            .terms
            .as_ref()
            .map(|(lambdas, telescoping)| {
                let lambdas: Vec<String> = lambdas
                    .iter()
                    .map(|x| format!("{:.4e}", rational_to_f64(x)))
                    .collect();
                format!(
                    "\ntelescoping terms: lambda = [{}], r * sum lambda = {:.4e}",
                    lambdas.join(", "),
                    rational_to_f64(telescoping)
                )
            })
            .unwrap_or_default();
        let joint = self
            .joint
            .as_ref()
            .map(|bound| format!("\njoint form: r * lambda = {:.4e}", rational_to_f64(bound)))
            .or_else(|| {
                self.without_joint.as_ref().map(|reason| {
                    format!("\njoint form not proved (the spectral claims stand): {reason}")
                })
            })
            .unwrap_or_default();
        missed
            + &format!(
                "certified epsilon {} (~{:.4e}) for {} with the {construction} construction{pools}: {} kept weights, widths of g {:?}, in {seconds:.2}s{reachable}",
                c.bound.epsilon.0,
                rational_to_f64(&epsilon),
                target.display(),
                self.ticket.kept_weights(),
                c.random_network.hidden_widths,
            )
            + &terms
            + &joint
            + &activation_lines(c.meta.as_ref())
                .map(|lines| format!("\n{lines}"))
                .unwrap_or_default()
    }
}
