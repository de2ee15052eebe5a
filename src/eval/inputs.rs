//! The `eval` command: a certificate's f and g~ at random points of its domain, or on the
//! rows of an `.npy` array with their labels.

use super::{classify, evaluate, sample_points};
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
                place: format!("{}: ", e.place),
                reason: e.reason,
            })?;
        let ticket = Ticket::from_certificate(&certificate, &target).map_err(rejected)?;
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
    let d = match homogenized {
        Some(d) if d + 1 == e.target.input_dim => d,
        Some(d) => {
            return Err(Error::Rejected {
                file: path.display().to_string(),
                place: "meta.derived_from.input_dim: ".into(),
                reason: format!(
                    "{d} is not the target's input dimension {} minus 1",
                    e.target.input_dim
                ),
            });
        }
        None => e.target.input_dim,
    };
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
    let radius_text = &e.certificate.domain.radius.0;
    let ball = if homogenized.is_some() {
        format!(
            "||(x, 1)||_2 > R = {radius_text}, i.e. ||x||_2 > ~{:.6}",
            (rational_to_f64(&e.radius).powi(2) - 1.0).max(0.0).sqrt()
        )
    } else {
        format!("||x||_2 > {radius_text}")
    };
    let orthant = if nonnegative { " or some x_k < 0" } else { "" };
    let _ = writeln!(
        out,
        "outside the certified domain ({ball}{orthant}; never counted as guaranteed): {}",
        seen.outside_domain
    );
    let _ = writeln!(
        out,
        "max ||f(x) - g~(x)||_2 on the inputs of the domain: {:.6e}; certified epsilon {:.6e} ({})",
        rational_to_f64(&seen.max_squared_in_domain).sqrt(),
        rational_to_f64(&e.epsilon),
        format_rational(&e.epsilon)
    );
    if let Some(k) = seen.exceeding.first() {
        let counterexample = Some(e.exceeded(path, format!("input {k} of {}", inputs.display())));
        return Ok(Evaluation {
            text: out,
            counterexample,
        });
    }
    let _ = writeln!(
        out,
        "(the guarantee holds if `slth verify` accepts the certificate; eval does not check it)"
    );
    Ok(Evaluation {
        text: out,
        counterexample: None,
    })
}
