//! `slth tighten`: adds version 2's telescoping terms (docs/FORMAT.md section 12) to a
//! certificate, the native counterpart of `tools/tighten.py`.
//!
//! For every block i it builds term i's chain (section 12.2) from the exact path sums,
//! scales the error matrix A_i by its spectral norm c (the solution maps back exactly:
//! lambda = c lambda', the multipliers of the layers before i and the products times c^2),
//! finds lambda_i, the multipliers and the products with the barrier method of
//! `solve` (a rough solve, then one that keeps Q - margin I positive definite with a margin
//! of 1e-3 of the rough lambda^2), rounds lambda up, keeps the products above 1e-9 of the
//! largest, and writes the witness as `tools/tighten.py` does: shift = half the smallest
//! eigenvalue of Q, R the f64 Cholesky factor of Q - shift I, every float written as the
//! exact rational it is. The result is checked by the trusted checker before it is
//! returned; a term it rejects is searched again with a ten times larger margin.
//!
//! With the environment variable `SLTH_TIGHTEN_TRACE` set, the search prints its progress
//! (every centring, every witness) on stderr.

mod dense;
mod solve;

use crate::error::Error;
use dense::{Mat, cholesky, min_eigenvalue};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use slth_checker::certificate::{Certificate, Limits, LipschitzWitness, Rational, TermBound};
use slth_checker::numbers::{format_rational, parse_rational, rational_to_f64};
use slth_checker::verify::RejectionKind;
use std::path::Path;

/// The largest side N of a term's quadratic form that `tighten` takes: the checker's
/// default `--max-witness-side`.
pub const MAX_SIDE: usize = 1024;
/// The largest number of extended quantities (m_0 + 2 (n_1 + ... + n_{l-1})): the search's
/// work grows with its cube per iteration and the number of product variables with its
/// square, so beyond this it would run for hours.
pub const MAX_QUANTITIES: usize = 400;

/// A certificate with terms, and what they gave.
#[derive(Debug, Clone)]
pub struct Tightened {
    pub certificate: Certificate,
    /// lambda_1 .. lambda_l as written.
    pub lambdas: Vec<BigRational>,
    /// r * sum lambda_i.
    pub telescoping: BigRational,
    /// The input's epsilon, and the output's.
    pub epsilon_before: BigRational,
    pub epsilon: BigRational,
    /// When `slth verify` with its default limits refuses the output (checked valid without
    /// limits), the refusal.
    pub default_limits_refuse: Option<String>,
}

/// Reads the certificate at `path` (within `limits`) and adds the terms.
pub fn tighten_file(path: &Path, limits: &Limits) -> Result<Tightened, Error> {
    let certificate = slth_checker::certificate::load(path, limits)?;
    tighten(&certificate, path)
}

fn rejected(file: &Path, place: &str, reason: impl std::fmt::Display) -> Error {
    Error::Rejected {
        file: file.display().to_string(),
        place: place.to_string(),
        reason: reason.to_string(),
    }
}

/// Adds `bound.terms` to `certificate` (version 1, or version 2 without terms); `file`
/// names it in errors. The input must be valid (it is verified first, without limits); the
/// output is verified before it is returned.
pub fn tighten(certificate: &Certificate, file: &Path) -> Result<Tightened, Error> {
    if certificate.bound.terms.is_some() {
        return Err(rejected(
            file,
            "bound.terms",
            "the certificate already has telescoping terms",
        ));
    }
    let unlimited = Limits::unlimited();
    slth_checker::verify_sound(certificate, &unlimited).map_err(|r| {
        rejected(
            file,
            &r.place,
            format!("{} (only a valid certificate can be tightened)", r.detail),
        )
    })?;
    let input = Input::read(certificate, file)?;
    let l = input.weights.len();
    let side = input.m0()
        + input.weights[..l - 1]
            .iter()
            .map(|w| w.len())
            .sum::<usize>();
    let quantities = input.m0() + 2 * (side - input.m0());
    if side > MAX_SIDE {
        return Err(rejected(
            file,
            "target",
            format!(
                "a term's quadratic form would have side {side}, above slth verify's default \
                 --max-witness-side {MAX_SIDE}"
            ),
        ));
    }
    if quantities > MAX_QUANTITIES {
        return Err(rejected(
            file,
            "target",
            format!(
                "the terms' search would handle {quantities} quantities (input entries and two \
                 per hidden neuron), above the {MAX_QUANTITIES} it finishes in reasonable time"
            ),
        ));
    }
    let radius = parse_rational(&certificate.domain.radius.0)
        .map_err(|e| rejected(file, "domain.radius", e))?;
    let epsilon_before = parse_rational(&certificate.bound.epsilon.0)
        .map_err(|e| rejected(file, "bound.epsilon", e))?;

    let mut margins = vec![1e-3; l];
    let mut terms: Vec<Option<(TermBound, BigRational)>> = vec![None; l];
    for _round in 0..4 {
        for i in 1..=l {
            if terms[i - 1].is_none() {
                terms[i - 1] = term_for(&input, i, margins[i - 1]);
            }
        }
        let (output, lambdas, telescoping, epsilon) =
            assemble(certificate, &terms, &radius, &epsilon_before);
        let defaults = Limits::default();
        // Valid under the default limits, or valid without them (the refusal then noted).
        let checked = match slth_checker::verify_sound(&output, &defaults) {
            Ok(_) => Ok(None),
            Err(refusal) if refusal.kind == RejectionKind::Limit => {
                slth_checker::verify_sound(&output, &unlimited).map(|_| Some(refusal.to_string()))
            }
            Err(rejection) => Err(rejection),
        };
        let failed = match checked {
            Ok(default_limits_refuse) => {
                return Ok(Tightened {
                    certificate: output,
                    lambdas,
                    telescoping,
                    epsilon_before,
                    epsilon,
                    default_limits_refuse,
                });
            }
            Err(rejection) => rejection,
        };
        if std::env::var_os("SLTH_TIGHTEN_TRACE").is_some() {
            eprintln!("check: {failed}");
        }
        // A term the checker rejects (or that could not be built) is searched again with a
        // larger margin; anything else is a bug to report, not to retry.
        let mut retried = false;
        for (b, term) in terms.iter_mut().enumerate() {
            let place = format!("bound.terms[{b}]");
            if term.is_none() || failed.place.starts_with(&place) {
                *term = None;
                margins[b] *= 10.0;
                retried = true;
            }
        }
        if !retried {
            return Err(rejected(
                file,
                &failed.place,
                format!(
                    "the tightened certificate does not verify: {}",
                    failed.detail
                ),
            ));
        }
    }
    Err(rejected(
        file,
        "bound.terms",
        "no set of terms passed the checker, even with margins up to 1000 times the first",
    ))
}

/// The exact target weights and path sums of a certificate, and its domain's sign.
struct Input {
    weights: Vec<Vec<Vec<BigRational>>>,
    /// P_k, Q_k of docs/FORMAT.md section 6.1.
    positive: Vec<Vec<Vec<BigRational>>>,
    negative: Vec<Vec<Vec<BigRational>>>,
    signed: bool,
}

impl Input {
    fn read(certificate: &Certificate, file: &Path) -> Result<Input, Error> {
        let mut weights = Vec::new();
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        for (b, (layer, block)) in certificate
            .target
            .layers
            .iter()
            .zip(&certificate.ticket)
            .enumerate()
        {
            let parse = |x: &Rational, place: &str| {
                parse_rational(&x.0).map_err(|e| rejected(file, place, e))
            };
            let mut w = Vec::new();
            for row in &layer.weights {
                let mut out = Vec::new();
                for x in row {
                    out.push(parse(x, &format!("target.layers[{b}]"))?);
                }
                w.push(out);
            }
            let (rows, cols) = (w.len(), w.first().map_or(0, Vec::len));
            let mut hidden = std::collections::BTreeMap::new();
            for (j, t, value) in &block.hidden {
                hidden.insert(
                    *j,
                    (*t as usize, parse(value, &format!("ticket[{b}].hidden"))?),
                );
            }
            let mut p = vec![vec![BigRational::zero(); cols]; rows];
            let mut q = p.clone();
            for (m, j, value) in &block.output {
                let v = parse(value, &format!("ticket[{b}].output"))?;
                let Some((t, u)) = hidden.get(j) else {
                    return Err(rejected(file, &format!("ticket[{b}].output"), "no input"));
                };
                let sums = if u.is_positive() { &mut p } else { &mut q };
                sums[*m as usize][*t] += v * u;
            }
            weights.push(w);
            positive.push(p);
            negative.push(q);
        }
        Ok(Input {
            weights,
            positive,
            negative,
            signed: !certificate.domain.nonnegative,
        })
    }

    fn m0(&self) -> usize {
        let n0 = self.weights[0].first().map_or(0, Vec::len);
        if self.signed { 2 * n0 } else { n0 }
    }

    /// A_1 .. A_l of term i (docs/FORMAT.md section 12.2), each entry the f64 nearest the
    /// exact one.
    fn chain(&self, i: usize) -> Vec<Mat> {
        let l = self.weights.len();
        let f = rational_to_f64;
        (1..=l)
            .map(|k| {
                let (w, p, q) = (
                    &self.weights[k - 1],
                    &self.positive[k - 1],
                    &self.negative[k - 1],
                );
                let rows = w.len();
                let cols = w.first().map_or(0, Vec::len);
                let wide = k == 1 && self.signed && k <= i;
                let mut a = Mat::zeros(rows, if wide { 2 * cols } else { cols });
                for m in 0..rows {
                    for t in 0..cols {
                        if k < i {
                            a.set(m, t, f(&p[m][t]));
                            if wide {
                                a.set(m, cols + t, f(&-&q[m][t]));
                            }
                        } else if k == i {
                            a.set(m, t, f(&(&p[m][t] - &w[m][t])));
                            if wide {
                                a.set(m, cols + t, f(&(&w[m][t] - &q[m][t])));
                            }
                        } else {
                            a.set(m, t, f(&w[m][t]));
                        }
                    }
                }
                a
            })
            .collect()
    }
}

/// The exact rational of an f64.
fn exact(x: f64) -> BigRational {
    BigRational::from_float(x).unwrap_or_else(BigRational::zero)
}

fn text(x: &BigRational) -> Rational {
    Rational(format_rational(x))
}

/// The smallest decimal with 6 significant digits that is >= x (x > 0), as
/// `tools/tighten.py` rounds.
pub fn round_up(x: &BigRational) -> BigRational {
    if !x.is_positive() {
        return BigRational::zero();
    }
    let e = rational_to_f64(x).log10().floor() as i64 - 5;
    let ten = BigInt::from(10);
    let unit = if e >= 0 {
        BigRational::from_integer(num_traits::pow(ten, e as usize))
    } else {
        BigRational::new(BigInt::from(1), num_traits::pow(ten, (-e) as usize))
    };
    (x / &unit).ceil() * unit
}

/// Term i with the given margin (relative to the rough lambda^2), and its lambda; None when
/// the search or the witness failed.
fn term_for(input: &Input, i: usize, margin: f64) -> Option<(TermBound, BigRational)> {
    let chain = input.chain(i);
    let c = match chain[i - 1].spectral_norm() {
        c if c > 0.0 && c.is_finite() => c,
        _ => 1.0,
    };
    let mut scaled = chain.clone();
    for x in &mut scaled[i - 1].data {
        *x /= c;
    }
    let solution = solve::solve(&scaled, i, margin, 2e-3)?;
    let c2 = c * c;
    let lambda2 = solution.lambda2 * c2;
    let multipliers: Vec<Vec<f64>> = solution
        .multipliers
        .iter()
        .enumerate()
        .map(|(k, row)| {
            row.iter()
                .map(|&t| if k + 1 < i { t * c2 } else { t.max(0.0) })
                .collect()
        })
        .collect();
    let lambda = round_up(&exact((lambda2 * (1.0 + 1e-6)).sqrt()));
    let top = solution
        .products
        .iter()
        .map(|p| p.2 * c2)
        .fold(0.0, f64::max);
    let mut products = Vec::new();
    let mut kept = Vec::new();
    let mut pairs = solution.products.clone();
    pairs.sort_by_key(|&(a, b, _)| (a, b));
    for &(a, b, v) in &pairs {
        let v = v * c2;
        if v > top * 1e-9 && v > 0.0 {
            let value = if a == b { v } else { 2.0 * v };
            products.push((a as u64, b as u64, text(&exact(value))));
            kept.push((a, b, v));
        }
    }
    let lambda_f = rational_to_f64(&lambda);
    let q = solve::form(&chain, i, lambda_f * lambda_f, &multipliers, &kept);
    let n = q.rows;
    let mut sym = q.clone();
    for a in 0..n {
        for b in 0..n {
            sym.set(a, b, 0.5 * (q.at(a, b) + q.at(b, a)));
        }
    }
    let trace = std::env::var_os("SLTH_TIGHTEN_TRACE").is_some();
    let low = min_eigenvalue(&sym);
    if trace {
        eprintln!("term {i}: lambda {lambda_f:e}, smallest eigenvalue {low:?}");
    }
    let low = low?;
    if low <= 0.0 {
        return None;
    }
    let shift = low / 2.0;
    let mut shifted = sym.clone();
    for a in 0..n {
        shifted.add(a, a, -shift);
    }
    let r = cholesky(&shifted)?.transpose();
    let residual = {
        let rtr = r.transpose().mul(&r);
        let mut s = 0.0;
        for (x, y) in shifted.data.iter().zip(&rtr.data) {
            s += (x - y) * (x - y);
        }
        s.sqrt()
    };
    if trace {
        eprintln!("term {i}: shift {shift:e}, residual {residual:e}");
    }
    if residual > shift / 4.0 {
        return None;
    }
    let term = TermBound {
        lipschitz: text(&lambda),
        multipliers: multipliers
            .iter()
            .map(|row| row.iter().map(|&t| text(&exact(t))).collect())
            .collect(),
        products,
        witness: LipschitzWitness {
            shift: text(&exact(shift)),
            factor: (0..n)
                .map(|a| (a..n).map(|b| text(&exact(r.at(a, b)))).collect())
                .collect(),
        },
    };
    Some((term, lambda))
}

/// The output certificate: version 2, the terms, epsilon = min(input's, r * sum lambda
/// rounded up) and meta naming the producer.
fn assemble(
    certificate: &Certificate,
    terms: &[Option<(TermBound, BigRational)>],
    radius: &BigRational,
    epsilon_before: &BigRational,
) -> (Certificate, Vec<BigRational>, BigRational, BigRational) {
    let mut out = certificate.clone();
    let mut bounds = Vec::new();
    let mut lambdas = Vec::new();
    for term in terms.iter().flatten() {
        bounds.push(term.0.clone());
        lambdas.push(term.1.clone());
    }
    let total: BigRational = lambdas.iter().fold(BigRational::zero(), |s, x| s + x);
    let telescoping = radius * total;
    let epsilon = epsilon_before.clone().min(round_up(&telescoping));
    out.version = slth_checker::certificate::FORMAT_VERSION_TERMS;
    out.bound.terms = Some(bounds);
    out.bound.epsilon = text(&epsilon);
    let mut meta = match out.meta.take() {
        Some(serde_json::Value::Object(map)) => map,
        Some(other) => {
            let mut map = serde_json::Map::new();
            map.insert("note".to_string(), other);
            map
        }
        None => serde_json::Map::new(),
    };
    meta.insert(
        "tightened_by".to_string(),
        serde_json::Value::String(format!(
            "slth {} tighten (native log-barrier search)",
            env!("CARGO_PKG_VERSION")
        )),
    );
    meta.insert(
        "epsilon_without_terms".to_string(),
        serde_json::Value::String(certificate.bound.epsilon.0.clone()),
    );
    out.meta = Some(serde_json::Value::Object(meta));
    (out, lambdas, telescoping, epsilon)
}

/// f64 value of a rational, for messages.
pub fn approximate(x: &BigRational) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl Tightened {
    /// One line for stderr: the lambdas, r * sum lambda and the epsilons.
    pub fn summary(&self, seconds: f64) -> String {
        let lambdas: Vec<String> = self
            .lambdas
            .iter()
            .map(|x| format!("{:.6}", approximate(x)))
            .collect();
        format!(
            "terms: lambda = [{}], r * sum lambda = {:.6}; epsilon {} -> {} ({:.2}s)",
            lambdas.join(", "),
            approximate(&self.telescoping),
            format_rational(&self.epsilon_before),
            format_rational(&self.epsilon),
            seconds
        )
    }
}
