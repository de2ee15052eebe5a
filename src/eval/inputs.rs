//! The `eval` command: a certificate's f and g~ at random points of its domain, or on the
//! rows of an `.npy` array with their labels.

use super::{Classification, classify, evaluate, sample_points};
use crate::error::Error;
use crate::import::{NpyArray, NpyValues, load_npy};
use crate::network::Network;
use crate::numbers::{format_rational, parse_rational, rational_from_f64, rational_to_f64};
use crate::ticket::Ticket;
use num_rational::BigRational;
use num_traits::Signed;
use slth_checker::certificate::{self, Certificate, Limits};
use slth_checker::sampler::Seed;
use slth_checker::statement::homogenized_from;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

/// What `eval` prints, and the evidence that the certificate is false if it found any.
pub struct Evaluation {
    pub text: String,
    /// What `eval --json` prints (the same facts, and per input with `--inputs`).
    pub json: serde_json::Value,
    /// A point or input where ||f - g~|| exceeds the certified epsilon.
    pub counterexample: Option<Error>,
}

/// What `eval` needs of a certificate: f, g~, the radius and the claimed epsilon.
pub struct Evaluable {
    pub certificate: Certificate,
    pub target: Network,
    pub ticket: Ticket,
    pub radius: BigRational,
    pub epsilon: BigRational,
}

impl Evaluable {
    /// Reads a certificate within `limits` and its target, ticket, radius and epsilon.
    pub fn load(path: &Path, limits: &Limits) -> Result<Evaluable, Error> {
        let certificate = certificate::load(path, limits)?;
        let rejected = |reason: String| Error::Rejected {
            file: path.display().to_string(),
            place: String::new(),
            reason,
        };
        let target =
            Network::from_target_json(&certificate.target).map_err(|e| Error::Rejected {
                file: path.display().to_string(),
                place: e.place,
                reason: e.reason,
            })?;
        let ticket =
            Ticket::from_certificate(&certificate, &target).map_err(|e| rejected(e.to_string()))?;
        let number = |place: &str, text: &str| {
            parse_rational(text).map_err(|e| rejected(format!("{place}: {e}")))
        };
        let radius = number("domain.radius", &certificate.domain.radius.0)?;
        let epsilon = number("bound.epsilon", &certificate.bound.epsilon.0)?;
        Ok(Evaluable {
            certificate,
            target,
            ticket,
            radius,
            epsilon,
        })
    }

    fn exceeded(&self, path: &Path, what: String) -> Error {
        Error::Rejected {
            file: path.display().to_string(),
            place: String::new(),
            reason: format!("{what} exceeds the certified epsilon: the certificate is false"),
        }
    }
}

/// `eval --points N`: the largest exact ||f(x) - g~(x)||_2 at N rational points of the
/// domain, against the certified epsilon; an error (the certificate is false) if a point
/// exceeds it.
pub fn evaluate_points(
    path: &Path,
    count: usize,
    seed: &Seed,
    limits: &Limits,
) -> Result<Evaluation, Error> {
    let e = Evaluable::load(path, limits)?;
    let nonnegative = e.certificate.domain.nonnegative;
    let points = sample_points(&e.target, &e.radius, nonnegative, count, seed);
    let seen = evaluate(&e.target, &e.ticket, &points);
    let json = crate::json::eval_points(path, &e.epsilon, &seen, seed);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "points: {}\nmax ||f(x) - g~(x)||_2 seen: {:.6e}\ncertified epsilon:          {:.6e} ({})",
        seen.points,
        seen.max_distance(),
        rational_to_f64(&e.epsilon),
        format_rational(&e.epsilon)
    );
    if seen.max_squared > &e.epsilon * &e.epsilon {
        let counterexample = Some(e.exceeded(path, format!("point {}", seen.worst_point)));
        return Ok(Evaluation {
            text: out,
            json,
            counterexample,
        });
    }
    if e.epsilon.is_positive() {
        let _ = writeln!(
            out,
            "ratio seen / certified: {:.3}",
            seen.max_distance() / rational_to_f64(&e.epsilon)
        );
    }
    let _ = writeln!(
        out,
        "(eval measures; it does not check the certificate: `slth verify` does)"
    );
    Ok(Evaluation {
        text: out,
        json,
        counterexample: None,
    })
}

/// The rows of an `.npy` array `[count, d]` as exact rationals.
fn rows_of(array: &NpyArray, file: &Path, d: usize) -> Result<Vec<Vec<BigRational>>, Error> {
    let [count, columns] = array.shape[..] else {
        return Err(Error::input(
            file,
            format!("expected a 2-D array [N, {d}], got shape {:?}", array.shape),
        ));
    };
    if columns != d {
        return Err(Error::input(
            file,
            format!("rows have {columns} entries, the network takes {d} inputs"),
        ));
    }
    let values: Vec<BigRational> = match &array.values {
        NpyValues::Float(v) => v
            .iter()
            .map(|x| rational_from_f64(*x))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::input(file, "a value is not finite"))?,
        NpyValues::Int(v) => v
            .iter()
            .map(|&x| BigRational::from_integer(x.into()))
            .collect(),
    };
    Ok(values
        .chunks(d.max(1))
        .take(count)
        .map(<[BigRational]>::to_vec)
        .collect())
}

/// `count` integer labels from an `.npy` file.
fn labels_of(file: &Path, count: usize) -> Result<Vec<i64>, Error> {
    match load_npy(file)? {
        NpyArray {
            shape,
            values: NpyValues::Int(v),
        } if shape == [count] => Ok(v),
        other => Err(Error::input(
            file,
            format!(
                "expected {count} integer labels, got shape {:?}{}",
                other.shape,
                if matches!(other.values, NpyValues::Float(_)) {
                    " of floats"
                } else {
                    ""
                }
            ),
        )),
    }
}

/// `eval --inputs X.npy [--labels Y.npy]`: f and g~ on every row, exactly; the accuracy of
/// each, their agreement, and the agreements the certificate guarantees. An error (the
/// certificate is false) if an input of the domain exceeds epsilon.
pub fn classify_file(
    path: &Path,
    inputs: &Path,
    labels: Option<&Path>,
    limits: &Limits,
) -> Result<Evaluation, Error> {
    let e = Evaluable::load(path, limits)?;
    let homogenized = homogenized_from(e.certificate.meta.as_ref());
    let d = user_input_dim(homogenized, e.target.input_dim).map_err(|reason| Error::Rejected {
        file: path.display().to_string(),
        place: "meta.derived_from.input_dim".into(),
        reason,
    })?;
    let mut rows = rows_of(&load_npy(inputs)?, inputs, d)?;
    if homogenized.is_some() {
        for row in &mut rows {
            row.push(BigRational::from_integer(1.into()));
        }
    }
    let count = rows.len();
    let labels = labels.map(|file| labels_of(file, count)).transpose()?;
    let started = Instant::now();
    let nonnegative = e.certificate.domain.nonnegative;
    let seen = classify(
        &e.target,
        &e.ticket,
        &rows,
        labels.as_deref(),
        &e.radius,
        nonnegative,
        &e.epsilon,
    );
    let json = crate::json::eval_inputs(path, inputs, homogenized.is_some(), &e, &seen);
    let share = |k: usize| {
        format!(
            "{:.2}% ({k}/{count})",
            100.0 * k as f64 / count.max(1) as f64
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "inputs: {count} from {} (d = {d})", inputs.display());
    if homogenized.is_some() {
        let _ = writeln!(
            out,
            "homogenized target (according to meta): each input x is evaluated as (x, 1), so f is the network with biases"
        );
    }
    let _ = writeln!(
        out,
        "arithmetic: exact, for f and g~ (integers over a common denominator; {:.2}s)",
        started.elapsed().as_secs_f64()
    );
    if let (Some(f), Some(g)) = (seen.f_correct, seen.g_correct) {
        let _ = writeln!(out, "accuracy of f:  {}", share(f));
        let _ = writeln!(out, "accuracy of g~: {}", share(g));
    }
    let _ = writeln!(
        out,
        "f and g~ predict the same class: {}",
        share(seen.agree)
    );
    let _ = writeln!(
        out,
        "guaranteed by the certificate: {} (in the domain, and f's top-two margin > sqrt(2)*epsilon, checked exactly)",
        share(seen.guaranteed)
    );
    let _ = writeln!(
        out,
        "  (by the cruder rule margin > 2*epsilon: {})",
        share(seen.guaranteed_two_epsilon)
    );
    out.push_str(&domain_report(
        &seen,
        &e.certificate.domain.radius.0,
        &e.radius,
        homogenized.is_some(),
        nonnegative,
    ));
    match &seen.max_squared_in_domain {
        Some(max) => {
            let _ = writeln!(
                out,
                "max ||f(x) - g~(x)||_2 on the inputs of the domain ({} of {count}): {:.6e}; certified epsilon {:.6e} ({})",
                count - seen.outside_domain,
                rational_to_f64(max).sqrt(),
                rational_to_f64(&e.epsilon),
                format_rational(&e.epsilon)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "no input lies in the domain: the certificate says nothing about these inputs, and eval compared none of them with the certified epsilon {:.6e} ({})",
                rational_to_f64(&e.epsilon),
                format_rational(&e.epsilon)
            );
        }
    }
    if let Some(k) = seen.exceeding.first() {
        let counterexample = Some(e.exceeded(path, format!("input {k} of {}", inputs.display())));
        return Ok(Evaluation {
            text: out,
            json,
            counterexample,
        });
    }
    let _ = writeln!(
        out,
        "(the guarantee holds if `slth verify` accepts the certificate; eval does not check it)"
    );
    Ok(Evaluation {
        text: out,
        json,
        counterexample: None,
    })
}

/// The dimension d of the rows `eval --inputs` reads: the target's input dimension, or for a
/// target homogenized according to meta (`meta.derived_from.input_dim` = d), d with
/// d + 1 = the target's input dimension, computed without wrapping.
pub fn user_input_dim(homogenized: Option<usize>, input_dim: usize) -> Result<usize, String> {
    match homogenized {
        None => Ok(input_dim),
        Some(d) => match d.checked_add(1) {
            Some(lifted) if lifted == input_dim => Ok(d),
            Some(_) => Err(format!(
                "{d} is not the target's input dimension {input_dim} minus 1"
            )),
            None => Err(format!(
                "{d} is too large: the homogenized target would take {d} + 1 inputs, more than a machine word counts (the target's input_dim is {input_dim})"
            )),
        },
    }
}

/// Significant digits of the radius `eval` proposes to cover every input.
const PROPOSED_RADIUS_DIGITS: u32 = 6;

/// The lines on the inputs outside the certified domain: how many, by how much (the largest
/// norm and its ratio to the radius; how many have a negative coordinate on a non-negative
/// domain), and the `certify` options whose domain would hold them all. For a homogenized
/// target the norms and the radius are those of the user's x (||(x, 1)||^2 = ||x||^2 + 1).
pub fn domain_report(
    seen: &Classification,
    radius_text: &str,
    radius: &BigRational,
    homogenized: bool,
    nonnegative: bool,
) -> String {
    let mut out = String::new();
    let one = BigRational::from_integer(1.into());
    // The user's radius r and largest squared norm of x.
    let (r, max_x2) = if homogenized {
        let r = (rational_to_f64(radius).powi(2) - 1.0).max(0.0).sqrt();
        let max = if seen.inputs == 0 {
            BigRational::from_integer(0.into())
        } else {
            &seen.max_squared_norm - &one
        };
        (r, max)
    } else {
        (rational_to_f64(radius), seen.max_squared_norm.clone())
    };
    let ball = if homogenized {
        format!("||(x, 1)||_2 > R = {radius_text}, i.e. ||x||_2 > ~{r:.6}")
    } else {
        format!("||x||_2 > {radius_text}")
    };
    let orthant = if nonnegative { " or some x_k < 0" } else { "" };
    let _ = writeln!(
        out,
        "outside the certified domain ({ball}{orthant}; never counted as guaranteed): {}",
        seen.outside_domain
    );
    if seen.outside_domain == 0 {
        return out;
    }
    let largest = rational_to_f64(&max_x2).max(0.0).sqrt();
    let name = if homogenized {
        "the radius of x that R covers, ~"
    } else {
        "the radius "
    };
    if seen.beyond_radius > 0 {
        let ratio = if r > 0.0 {
            format!("{:.9} times {name}{r:.6}", largest / r)
        } else {
            "the radius is 0".to_string()
        };
        let _ = writeln!(
            out,
            "  beyond the radius: {}; the largest ||x||_2 is {largest:.9} ({ratio})",
            seen.beyond_radius
        );
    }
    if seen.negative > 0 {
        let _ = writeln!(
            out,
            "  with a negative coordinate on the non-negative domain: {}",
            seen.negative
        );
    }
    let mut fixes = Vec::new();
    if seen.beyond_radius > 0 {
        let cover = crate::numbers::sqrt_upper(&max_x2, PROPOSED_RADIUS_DIGITS);
        let cover = format!("{}", rational_to_f64(&cover));
        let of = if homogenized {
            " (the r of the user's x; the homogenized ball grows to match)"
        } else {
            ""
        };
        fixes.push(format!("`certify --radius {cover}`{of}"));
    }
    if seen.negative > 0 {
        fixes.push("certify without --nonnegative".to_string());
    }
    let _ = writeln!(
        out,
        "  a domain holding every input: {}",
        fixes.join(", and ")
    );
    out
}
