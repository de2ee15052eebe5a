//! `slth attack`: the other side of a certificate. A certificate claims
//! `sup ||g~(x) - f(x)||_2 <= epsilon` over its domain; the attack searches that domain for
//! the x with the largest error and proves a lower bound on the supremum by evaluating f and
//! g~ exactly at the point it found:
//!
//! ```text
//! ||g~(x) - f(x)||_2 (exact, at x)  <=  sup over the domain  <=  epsilon (certified)
//! ```
//!
//! The search (module `search`) runs in f64 on the unit sphere (f and g~ are positively
//! homogeneous, so the supremum over the ball of radius r is r times that over the unit
//! sphere); the best point is then scaled to radius r, its f64 coordinates taken as exact
//! dyadic rationals, pulled inward until exact arithmetic confirms that it lies in the
//! domain, and f and g~ are evaluated there exactly ([`IntegerEvaluator`]). Plain random
//! sampling with as many evaluations, uniform on the same sphere and from the same seed, is
//! reported beside it, also evaluated exactly at its best point.
//!
//! For a homogenized target (a network with biases, `meta.derived_from`), the domain
//! searched is the certificate's own (the ball of radius R in R^(d+1)); the point z is also
//! given in the user's coordinates, x = (z_1..z_d) / z_(d+1), where by homogeneity
//! ||g~(x, 1) - f(x)|| = ||g~(z) - f'(z)|| / z_(d+1) (recomputed exactly at (x, 1)).

mod model;
mod search;

use crate::error::Error;
use crate::eval::{Evaluable, IntegerEvaluator, user_input_dim};
use crate::numbers::{
    format_rational, parse_rational, rational_from_f64, rational_to_f64, round_down_decimal,
    round_up_decimal, sum_of_squares,
};
use model::Model;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use search::Sphere;
use serde_json::{Value, json};
use slth_checker::certificate::Limits;
use slth_checker::sampler::Seed;
use slth_checker::statement::homogenized_from;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// Starting points by default.
pub const DEFAULT_STARTS: usize = 400;
/// Most accepted steps of one climb by default.
pub const DEFAULT_STEPS: usize = 200;

/// Significant digits of the decimals `attack` prints (lower bounds rounded down, upper
/// bounds up).
const DIGITS: u32 = 7;

/// Largest input dimension whose point `attack` prints in its text report.
const PRINTED_COORDINATES: usize = 8;

/// How to attack.
#[derive(Debug, Clone)]
pub struct AttackOptions {
    /// starting points of the ascent (at least 1)
    pub starts: usize,
    /// most accepted steps per climb
    pub steps: usize,
    /// seed of the random starts and of the sampling baseline
    pub seed: Seed,
}

impl AttackOptions {
    pub fn new(seed: Seed) -> AttackOptions {
        AttackOptions {
            starts: DEFAULT_STARTS,
            steps: DEFAULT_STEPS,
            seed,
        }
    }
}

/// The point in the coordinates of the user's network with biases (a homogenized target).
#[derive(Debug, Clone)]
pub struct UserPoint {
    /// d (the target reads (x, 1) in R^(d+1))
    pub dim: usize,
    /// meta's radius r of the user's x, when meta states a readable one
    pub radius: Option<BigRational>,
    /// z_(d+1), the last coordinate of the point
    pub scale: BigRational,
    /// x = (z_1..z_d) / z_(d+1), ||x||^2 and ||g~(x, 1) - f(x)||_2^2 exactly; None when
    /// z_(d+1) = 0 (no input (x, 1) lies in that direction)
    pub x: Option<(Vec<BigRational>, BigRational, BigRational)>,
}

/// Seconds spent in each phase (not part of the deterministic report).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub search: f64,
    pub sampling: f64,
    pub exact: f64,
}

/// What the attack found, proven by exact evaluation.
#[derive(Debug, Clone)]
pub struct Attack {
    pub file: String,
    /// the certificate's epsilon, as written and exactly
    pub epsilon_text: String,
    pub epsilon: BigRational,
    pub radius_text: String,
    pub radius: BigRational,
    pub nonnegative: bool,
    pub input_dim: usize,
    /// the point, in the domain (checked exactly)
    pub point: Vec<BigRational>,
    /// ||g~(x) - f(x)||_2^2 at the point, exactly
    pub lower_squared: BigRational,
    /// plain random sampling's best point and its exact squared error
    pub sampling_point: Vec<BigRational>,
    pub sampling_squared: BigRational,
    pub starts: usize,
    pub structured: usize,
    pub steps: usize,
    /// forward passes plus gradient passes of the search; also the number of sampled points
    pub evaluations: u64,
    pub seed: Seed,
    /// for a homogenized target (according to meta): the point in the user's coordinates,
    /// or why meta cannot be read that way
    pub user: Option<Result<UserPoint, String>>,
    pub timing: Timing,
}

/// Reads a certificate within `limits` and attacks it.
pub fn attack_file(path: &Path, options: &AttackOptions, limits: &Limits) -> Result<Attack, Error> {
    if options.starts == 0 {
        return Err(Error::usage("starts", "at least one start is needed"));
    }
    let e = Evaluable::load(path, limits)?;
    let file = path.display().to_string();
    let d = e.target.input_dim;
    let nonnegative = e.certificate.domain.nonnegative;
    let sphere = Sphere {
        dim: d,
        nonnegative,
    };
    let model = Model::new(&e.target, &e.ticket);
    let started = Instant::now();
    let step = crate::progress::Progress::spinner(format!(
        "attack: ascent from {} starts, then sampling and exact evaluation",
        options.starts
    ));
    let found = search::search(&model, sphere, options.starts, options.steps, &options.seed);
    let search_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (sampled, _) = search::sample(&model, sphere, found.evaluations, &options.seed);
    let sampling_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let evaluator = IntegerEvaluator::new(&e.target, &e.ticket);
    let squared_error = |x: &[BigRational]| {
        let (f, g) = evaluator.both(x);
        let differences: Vec<BigRational> = g.iter().zip(&f).map(|(a, b)| a - b).collect();
        sum_of_squares(differences.iter())
    };
    let point = exact_point(&found.best.point, &e.radius, nonnegative);
    let lower_squared = squared_error(&point);
    let sampling_point = exact_point(&sampled, &e.radius, nonnegative);
    let sampling_squared = squared_error(&sampling_point);
    let user = homogenized_from(e.certificate.meta.as_ref()).map(|claimed| {
        let dim = user_input_dim(Some(claimed), d)
            .map_err(|reason| format!("meta.derived_from.input_dim {reason}"))?;
        let radius = e
            .certificate
            .meta
            .as_ref()
            .and_then(|m| m.get("derived_from")?.get("radius")?.as_str())
            .and_then(|t| parse_rational(t).ok());
        Ok(user_point(&point, dim, radius, &|x: &[BigRational]| {
            squared_error(x)
        }))
    });
    let exact_seconds = started.elapsed().as_secs_f64();
    drop(step);
    Ok(Attack {
        file,
        epsilon_text: e.certificate.bound.epsilon.0.clone(),
        epsilon: e.epsilon,
        radius_text: e.certificate.domain.radius.0.clone(),
        radius: e.radius,
        nonnegative,
        input_dim: d,
        point,
        lower_squared,
        sampling_point,
        sampling_squared,
        starts: found.starts,
        structured: found.structured,
        steps: options.steps,
        evaluations: found.evaluations,
        seed: options.seed,
        user,
        timing: Timing {
            search: search_seconds,
            sampling: sampling_seconds,
            exact: exact_seconds,
        },
    })
}

/// `r u` for u on the unit sphere (of the orthant) as exact rationals in the domain
/// `||x||_2 <= r` (x >= 0): the f64 products r u_k, pulled inward by a few ulps until the
/// exact norm is at most r. For a radius beyond f64's normal range, `r u` in exact
/// rationals pulled inward by 2^-30; the origin if even that fails (never for a finite u).
fn exact_point(u: &[f64], radius: &BigRational, nonnegative: bool) -> Vec<BigRational> {
    let r2 = radius * radius;
    let inside = |x: &[BigRational]| {
        sum_of_squares(x.iter()) <= r2 && (!nonnegative || x.iter().all(|v| !v.is_negative()))
    };
    let exact = |x: Vec<f64>| -> Option<Vec<BigRational>> {
        x.into_iter().map(rational_from_f64).collect()
    };
    let r = rational_to_f64(radius);
    if r.is_normal() {
        let mut shrink = 1.0;
        for attempt in 0..64 {
            let x: Vec<f64> = u
                .iter()
                .map(|v| {
                    let x = v * r * shrink;
                    if nonnegative { x.max(0.0) } else { x }
                })
                .collect();
            if let Some(x) = exact(x)
                && inside(&x)
            {
                return x;
            }
            shrink *= 1.0 - f64::EPSILON * f64::from(1u32 << attempt.min(30));
        }
    }
    let pull = BigRational::one() - BigRational::new(BigInt::one(), BigInt::one() << 30usize);
    if let Some(x) = exact(u.to_vec()) {
        let x: Vec<BigRational> = x.iter().map(|v| v * radius * &pull).collect();
        if inside(&x) {
            return x;
        }
    }
    vec![BigRational::zero(); u.len()]
}

/// The point z of a homogenized target in the user's coordinates.
fn user_point(
    z: &[BigRational],
    dim: usize,
    radius: Option<BigRational>,
    squared_error: &dyn Fn(&[BigRational]) -> BigRational,
) -> UserPoint {
    let scale = z.get(dim).cloned().unwrap_or_else(BigRational::zero);
    let x = scale.is_positive().then(|| {
        let x: Vec<BigRational> = z[..dim].iter().map(|v| v / &scale).collect();
        let norm = sum_of_squares(x.iter());
        let mut lifted = x.clone();
        lifted.push(BigRational::one());
        let error = squared_error(&lifted);
        (x, norm, error)
    });
    UserPoint {
        dim,
        radius,
        scale,
        x,
    }
}

/// x in scientific notation with `digits` significant digits, rounded down (or up), e.g.
/// `2.451230e-2`; exact for the decimals [`sqrt_down`] returns.
fn scientific(x: &BigRational, up: bool) -> String {
    if x.is_zero() {
        return "0".to_string();
    }
    let sign = if x.is_negative() { "-" } else { "" };
    let magnitude = x.abs();
    let rounded = match (up, x.is_negative()) {
        (true, false) | (false, true) => round_up_decimal(&magnitude, DIGITS),
        _ => round_down_decimal(&magnitude, DIGITS),
    };
    // rounded = m 10^(e - DIGITS + 1) with 10^(DIGITS-1) <= m < 10^DIGITS.
    let mut e: i64 = i64::try_from(rounded.numer().to_string().len()).unwrap_or(0)
        - i64::try_from(rounded.denom().to_string().len()).unwrap_or(0);
    let ten = BigRational::from_integer(BigInt::from(10));
    let power = |k: i64| -> BigRational {
        let p = num_traits::pow(ten.clone(), usize::try_from(k.unsigned_abs()).unwrap_or(0));
        if k >= 0 { p } else { p.recip() }
    };
    while power(e) > rounded {
        e -= 1;
    }
    while power(e + 1) <= rounded {
        e += 1;
    }
    let mantissa = (&rounded / power(e - i64::from(DIGITS) + 1)).to_integer();
    let digits = mantissa.to_string();
    format!("{sign}{}.{}e{e}", &digits[..1], &digits[1..])
}

/// A decimal of 7 significant digits whose square is at most `square` (so it
/// stays a lower bound of the square root), within one unit of the last digit.
pub fn sqrt_down(square: &BigRational) -> BigRational {
    if !square.is_positive() {
        return BigRational::zero();
    }
    // square = s 10^(2k) with s near 1, so that the f64 estimate neither under- nor
    // overflows whatever the magnitude.
    let digits = |n: &BigInt| i64::try_from(n.to_string().len()).unwrap_or(0);
    let k = (digits(square.numer()) - digits(square.denom())) / 2;
    let ten = BigRational::from_integer(BigInt::from(10));
    let scale = num_traits::pow(ten, usize::try_from(k.unsigned_abs()).unwrap_or(0));
    let scale = if k >= 0 { scale } else { scale.recip() };
    let estimate = rational_to_f64(&(square / (&scale * &scale))).sqrt();
    let Some(mut c) = rational_from_f64(estimate)
        .filter(|c| c.is_positive())
        .map(|c| c * &scale)
    else {
        return BigRational::zero();
    };
    c = round_down_decimal(&c, DIGITS);
    let step = BigRational::one() - BigRational::new(BigInt::one(), BigInt::from(10).pow(DIGITS));
    while &(&c * &c) > square {
        c = round_down_decimal(&(&c * &step), DIGITS);
    }
    c
}

impl Attack {
    /// The lower bound as a decimal rounded down.
    pub fn lower(&self) -> BigRational {
        sqrt_down(&self.lower_squared)
    }

    /// Sampling's best as a decimal rounded down.
    pub fn sampling_lower(&self) -> BigRational {
        sqrt_down(&self.sampling_squared)
    }

    /// certified / lower (rounded), None when the lower bound is 0.
    pub fn ratio(&self) -> Option<f64> {
        let lower = rational_to_f64(&self.lower_squared).sqrt();
        (lower > 0.0).then(|| rational_to_f64(&self.epsilon) / lower)
    }

    /// Whether the point disproves the certificate: ||g~(x) - f(x)||_2 > epsilon, exactly.
    pub fn exceeds(&self) -> bool {
        self.lower_squared > &self.epsilon * &self.epsilon
    }

    /// The error `attack` ends with when the point disproves the certificate.
    pub fn counterexample(&self) -> Option<Error> {
        self.exceeds().then(|| Error::Rejected {
            file: self.file.clone(),
            place: "bound.epsilon".into(),
            reason: format!(
                "the attack's point has ||g~(x) - f(x)||_2 >= {} > epsilon {}: the certificate is false",
                scientific(&self.lower(), false),
                self.epsilon_text
            ),
        })
    }

    /// The one line of `--quiet`.
    pub fn bracket_line(&self) -> String {
        format!(
            "{} <= sup ||g~(x) - f(x)||_2 <= {}",
            scientific(&self.lower(), false),
            scientific(&self.epsilon, true)
        )
    }

    fn domain_text(&self) -> String {
        format!(
            "||x||_2 <= {}{}, x in R^{}",
            self.radius_text,
            if self.nonnegative { ", x >= 0" } else { "" },
            self.input_dim
        )
    }

    /// The report `attack` prints (deterministic: no times).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "attack on {} (the upper bound is the certificate's claim; `slth verify` proves it)",
            self.file
        );
        let _ = writeln!(out, "domain: {}", self.domain_text());
        let _ = writeln!(
            out,
            "starts: {} ({} structured, {} random; seed {}), at most {} steps each; evaluations: {}",
            self.starts,
            self.structured,
            self.starts - self.structured,
            seed_text(&self.seed),
            self.steps,
            self.evaluations
        );
        let _ = writeln!(
            out,
            "lower (exact, at x) <= sup ||g~(x) - f(x)||_2 <= certified"
        );
        let _ = writeln!(out, "{}", self.bracket_line());
        let _ = writeln!(
            out,
            "exactly: epsilon = {}, ||g~(x) - f(x)||_2^2 at x = {}",
            self.epsilon_text,
            abbreviated(&self.lower_squared)
        );
        match self.ratio() {
            Some(ratio) => {
                let _ = writeln!(out, "ratio certified / lower: {ratio:.3}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "ratio certified / lower: undefined (the lower bound is 0)"
                );
            }
        }
        let sampling = rational_to_f64(&self.sampling_squared).sqrt();
        let attack = rational_to_f64(&self.lower_squared).sqrt();
        let comparison = if sampling > 0.0 {
            format!("; the attack's is {:.3} times larger", attack / sampling)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "plain random sampling, {} points uniform on the sphere of radius {}: best {} (exact){comparison}",
            self.evaluations,
            self.radius_text,
            scientific(&self.sampling_lower(), false)
        );
        if self.input_dim <= PRINTED_COORDINATES {
            let shown: Vec<String> = self
                .point
                .iter()
                .map(|v| format!("{:.6}", rational_to_f64(v)))
                .collect();
            let _ = writeln!(
                out,
                "x ~ [{}] (exactly: --json or --point-out)",
                shown.join(", ")
            );
        } else {
            let _ = writeln!(
                out,
                "x: {} coordinates (exactly: --json or --point-out)",
                self.input_dim
            );
        }
        match &self.user {
            None => {}
            Some(Err(reason)) => {
                let _ = writeln!(
                    out,
                    "meta says the target is a homogenized network with biases, but {reason}: no point in the user's coordinates"
                );
            }
            Some(Ok(user)) => {
                let _ = writeln!(out, "{}", user_text(user));
            }
        }
        if self.exceeds() {
            let _ = writeln!(
                out,
                "the point's error exceeds the certified epsilon: the certificate is false"
            );
        }
        out
    }

    /// The report as one JSON object (deterministic: no times).
    pub fn to_json(&self) -> Value {
        let rationals = |x: &[BigRational]| -> Value {
            Value::Array(
                x.iter()
                    .map(|v| Value::String(format_rational(v)))
                    .collect(),
            )
        };
        let user = match &self.user {
            None => Value::Null,
            Some(Err(reason)) => json!({ "error": reason }),
            Some(Ok(user)) => {
                let mut value = json!({
                    "input_dim": user.dim,
                    "radius": user.radius.as_ref().map(format_rational),
                    "scale": format_rational(&user.scale),
                    "point": Value::Null,
                });
                if let Some((x, norm, error)) = &user.x {
                    value["point"] = rationals(x);
                    value["norm_squared"] = format_rational(norm).into();
                    value["inside_user_ball"] = user
                        .radius
                        .as_ref()
                        .map(|r| Value::Bool(norm <= &(r * r)))
                        .unwrap_or(Value::Null);
                    value["error"] = scientific(&sqrt_down(error), false).into();
                    value["error_squared"] = format_rational(error).into();
                }
                value
            }
        };
        json!({
            "file": self.file,
            "certified_epsilon": self.epsilon_text,
            "lower_bound": scientific(&self.lower(), false),
            "lower_bound_squared": format_rational(&self.lower_squared),
            "ratio": self.ratio(),
            "exceeds_epsilon": self.exceeds(),
            "point": rationals(&self.point),
            "domain": {
                "radius": self.radius_text,
                "nonnegative": self.nonnegative,
                "input_dim": self.input_dim,
            },
            "sampling": {
                "points": self.evaluations,
                "best": scientific(&self.sampling_lower(), false),
                "best_squared": format_rational(&self.sampling_squared),
            },
            "starts": self.starts,
            "structured_starts": self.structured,
            "steps": self.steps,
            "evaluations": self.evaluations,
            "seed": self.seed.to_hex(),
            "homogenized": user,
        })
    }

    /// Writes the point: a `.npy` file of f64 with shape `[1, n]` when the name ends in
    /// `.npy` (exact: every coordinate is an f64), otherwise a JSON array of exact
    /// rationals.
    pub fn write_point(&self, path: &Path) -> Result<(), Error> {
        let bytes = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
        {
            let values: Vec<f64> = self
                .point
                .iter()
                .map(|v| {
                    let f = rational_to_f64(v);
                    (rational_from_f64(f).as_ref() == Some(v)).then_some(f)
                })
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    Error::input(
                        path,
                        "the point's coordinates are not all f64 (the radius lies beyond f64's range): write it as .json",
                    )
                })?;
            npy_row(&values)
        } else {
            let values: Vec<String> = self.point.iter().map(format_rational).collect();
            let mut text = serde_json::to_string(&values).unwrap_or_default();
            text.push('\n');
            text.into_bytes()
        };
        crate::write::write_file(path, &bytes)
    }
}

/// A seed as the command line gives it back: N for a key that is N little-endian, else hex.
fn seed_text(seed: &Seed) -> String {
    let (low, rest) = seed.0.split_at(8);
    if rest.iter().all(|b| *b == 0) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(low);
        u64::from_le_bytes(bytes).to_string()
    } else {
        seed.to_hex()
    }
}

/// A long rational shortened for the text report (--json has it whole).
fn abbreviated(x: &BigRational) -> String {
    let text = format_rational(x);
    if text.len() <= 60 {
        text
    } else {
        format!(
            "{}... ({} characters, whole in --json)",
            &text[..40],
            text.len()
        )
    }
}

/// The text report's line on a homogenized target.
fn user_text(user: &UserPoint) -> String {
    let d = user.dim;
    let Some((_, norm, error)) = &user.x else {
        return format!(
            "homogenized target (according to meta): z_{} = 0 at the point, so it is no input (x, 1) of the network with biases at any scale",
            d + 1
        );
    };
    let norm_f = rational_to_f64(norm).sqrt();
    let inside = match &user.radius {
        Some(r) if norm <= &(r * r) => format!(
            " (inside the user's ball ||x||_2 <= {})",
            format_rational(r)
        ),
        Some(r) => format!(
            " (outside the user's ball ||x||_2 <= {})",
            format_rational(r)
        ),
        None => String::new(),
    };
    format!(
        "homogenized target (according to meta): in the user's coordinates the point is x = (z_1..z_{d}) / z_{} with z_{} ~ {:.6}, ||x||_2 ~ {norm_f:.6}{inside}, where ||g~(x, 1) - f(x)||_2 >= {} (exact)",
        d + 1,
        d + 1,
        rational_to_f64(&user.scale),
        scientific(&sqrt_down(error), false)
    )
}

/// A `.npy` file (version 1.0) holding one row of little-endian f64.
fn npy_row(values: &[f64]) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': (1, {}), }}",
        values.len()
    );
    // magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64,
    // ending in a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(
        &u16::try_from(header.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn square_roots_round_down_and_print_exactly() {
        for (n, d) in [(2, 1), (1, 3), (49, 100), (1, 1_000_000_007), (10_000, 1)] {
            let s = q(n, d);
            let r = sqrt_down(&s);
            assert!(&r * &r <= s, "{r}^2 > {s}");
            let above = &r * q(1_000_001, 1_000_000);
            assert!(&above * &above > s, "{r} is not within a unit of sqrt({s})");
        }
        assert_eq!(scientific(&sqrt_down(&q(2, 1)), false), "1.414213e0");
        assert_eq!(scientific(&q(488329, 10_000_000), true), "4.883290e-2");
        assert_eq!(scientific(&q(1, 3), true), "3.333334e-1");
        assert_eq!(scientific(&q(1, 3), false), "3.333333e-1");
        assert_eq!(scientific(&BigRational::zero(), false), "0");
        // Far beyond f64's range, in both directions.
        let tiny = BigRational::new(BigInt::from(2), BigInt::from(10).pow(600));
        assert_eq!(scientific(&sqrt_down(&tiny), false), "1.414213e-300");
        let huge = BigRational::from_integer(BigInt::from(2) * BigInt::from(10).pow(800));
        assert_eq!(scientific(&sqrt_down(&huge), false), "1.414213e400");
    }

    #[test]
    fn exact_points_lie_in_the_domain() {
        let u = [0.6, 0.8, 0.0];
        for radius in [q(1, 1), q(70711, 50000), q(1, 3), q(10, 1)] {
            let x = exact_point(&u, &radius, true);
            assert!(sum_of_squares(x.iter()) <= &radius * &radius);
            assert!(sum_of_squares(x.iter()) > &radius * &radius * q(999, 1000));
        }
        let tiny = BigRational::new(BigInt::one(), BigInt::from(10).pow(400));
        let x = exact_point(&u, &tiny, false);
        assert!(sum_of_squares(x.iter()) <= &tiny * &tiny);
        assert!(x[0].is_positive());
    }

    #[test]
    fn npy_header_is_aligned() {
        let bytes = npy_row(&[1.0, -2.5]);
        let header = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header) % 64, 0);
        assert_eq!(bytes.len(), 10 + header + 16);
        let parsed = crate::import::parse_npy(&bytes).unwrap();
        assert_eq!(parsed.shape, vec![1, 2]);
    }
}
