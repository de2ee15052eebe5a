//! `slth tighten`: adds version 2's telescoping terms (docs/FORMAT.md section 12) to a
//! certificate, the native counterpart of `tools/tighten.py`.
//!
//! For every block i it builds term i's chain (section 12.2) from the exact path sums,
//! scales the error matrix A_i by its spectral norm c (the solution maps back exactly:
//! lambda = c lambda', the multipliers of the layers before i and the products times c^2),
//! finds lambda_i, the multipliers and the products with the primal-dual interior-point
//! search of `solve` (which keeps Q - margin I positive definite, the margin 1e-3 of
//! lambda^2 as it falls), rounds lambda up, keeps the products above 1e-9 of the
//! largest, and writes the witness as `tools/tighten.py` does: shift = half the smallest
//! eigenvalue of Q, R the f64 Cholesky factor of Q - shift I, every float written as the
//! exact rational it is. The result is checked by the trusted checker before it is
//! returned; a term it rejects is searched again with a ten times larger margin. The joint
//! form (section 12.10) is found the same way, on its larger form; [`too_large`] says
//! beforehand when a form is beyond the search's limits.
//!
//! With the environment variable `SLTH_TIGHTEN_TRACE` set, the search prints its progress
//! (every column-generation round, every witness) on stderr.

mod dense;
mod solve;

use crate::error::Error;
use dense::{Mat, cholesky, min_eigenvalue};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};
use slth_checker::certificate::{
    Certificate, JointBound, Limits, LipschitzWitness, Rational, TermBound,
};
use slth_checker::numbers::{format_rational, parse_rational, rational_to_f64};
use slth_checker::verify::RejectionKind;
use solve::{Relation, Shape};
use std::path::Path;

/// The largest side N of a term's quadratic form that `tighten` takes: the checker's
/// default `--max-witness-side`.
pub const MAX_SIDE: usize = 1024;
/// The largest number of extended quantities (m_0 + 2 (n_1 + ... + n_{l-1})): the search's
/// work grows with its cube per iteration and the number of product variables with its
/// square, so beyond this it would run for hours.
pub const MAX_QUANTITIES: usize = 400;

/// Which claims `tighten` adds: one telescoping term per block (docs/FORMAT.md section
/// 12.2 to 12.6), or the joint form (section 12.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claims {
    Terms,
    Joint,
}

impl Claims {
    /// What the search is doing, for the progress spinner of `tighten` and `certify`.
    pub fn searching(self) -> &'static str {
        match self {
            Claims::Terms => "searching the telescoping terms",
            Claims::Joint => "searching the joint form",
        }
    }
}

/// A certificate with terms or a joint form, and what they gave.
#[derive(Debug, Clone)]
pub struct Tightened {
    pub certificate: Certificate,
    /// lambda_1 .. lambda_l as written (empty with the joint form).
    pub lambdas: Vec<BigRational>,
    /// r * sum lambda_i (terms), or r * lambda (the joint form).
    pub telescoping: BigRational,
    /// Which claims were added.
    pub claims: Claims,
    /// The input's epsilon, and the output's.
    pub epsilon_before: BigRational,
    pub epsilon: BigRational,
    /// When `slth verify` with its default limits refuses the output (checked valid without
    /// limits), the refusal.
    pub default_limits_refuse: Option<String>,
}

/// Reads the certificate at `path` (within `limits`) and adds the terms.
pub fn tighten_file(path: &Path, limits: &Limits) -> Result<Tightened, Error> {
    tighten_file_with(path, limits, Claims::Terms)
}

/// Reads the certificate at `path` (within `limits`) and adds `claims`.
pub fn tighten_file_with(path: &Path, limits: &Limits, claims: Claims) -> Result<Tightened, Error> {
    let certificate = slth_checker::certificate::load(path, limits)?;
    tighten_with(&certificate, path, claims)
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
    tighten_with(certificate, file, Claims::Terms)
}

/// Adds `claims` (the terms, or the joint form) to a valid `certificate` that does not
/// have them yet, as [`tighten`] does.
pub fn tighten_with(
    certificate: &Certificate,
    file: &Path,
    claims: Claims,
) -> Result<Tightened, Error> {
    let (present, key) = match claims {
        Claims::Terms => (certificate.bound.terms.is_some(), "bound.terms"),
        Claims::Joint => (certificate.bound.joint.is_some(), "bound.joint"),
    };
    if present {
        return Err(rejected(
            file,
            key,
            match claims {
                Claims::Terms => "the certificate already has telescoping terms",
                Claims::Joint => "the certificate already has a joint form",
            },
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
    if let Some(reason) = too_large(certificate, claims) {
        return Err(rejected(file, "target", reason));
    }
    let input = Input::read(certificate, file)?;
    let l = input.weights.len();
    let radius = parse_rational(&certificate.domain.radius.0)
        .map_err(|e| rejected(file, "domain.radius", e))?;
    let epsilon_before = parse_rational(&certificate.bound.epsilon.0)
        .map_err(|e| rejected(file, "bound.epsilon", e))?;

    // One search per term, or one for the joint form (kept as the last entry).
    let count = match claims {
        Claims::Terms => l,
        Claims::Joint => 1,
    };
    let mut margins = vec![1e-3; count];
    let mut terms: Vec<Option<(TermBound, BigRational)>> = vec![None; l];
    let mut joint: Option<(JointBound, BigRational)> = None;
    for _round in 0..4 {
        match claims {
            Claims::Terms => {
                for i in 1..=l {
                    if terms[i - 1].is_none() {
                        terms[i - 1] = term_for(&input, i, margins[i - 1]);
                    }
                }
            }
            Claims::Joint => {
                if joint.is_none() {
                    joint = joint_for(&input, margins[0]);
                }
                if joint.is_none() {
                    // No form to check (the certificate without it is valid): search again.
                    margins[0] *= 10.0;
                    continue;
                }
            }
        }
        let (output, lambdas, telescoping, epsilon) = assemble(
            certificate,
            &terms,
            joint.as_ref(),
            &radius,
            &epsilon_before,
        );
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
                    claims,
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
        // A form the checker rejects (or that could not be built) is searched again with a
        // larger margin; anything else is a bug to report, not to retry.
        let mut retried = false;
        match claims {
            Claims::Terms => {
                for (b, term) in terms.iter_mut().enumerate() {
                    let place = format!("bound.terms[{b}]");
                    if term.is_none() || failed.place.starts_with(&place) {
                        *term = None;
                        margins[b] *= 10.0;
                        retried = true;
                    }
                }
            }
            Claims::Joint => {
                if joint.is_none() || failed.place.starts_with("bound.joint") {
                    joint = None;
                    margins[0] *= 10.0;
                    retried = true;
                }
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
        key,
        match claims {
            Claims::Terms => {
                "no set of terms passed the checker, even with margins up to 1000 times the first"
            }
            Claims::Joint => {
                "no joint form passed the checker, even with margins up to 1000 times the first"
            }
        },
    ))
}

/// The size of a form's search, from the target's shape: u's entries m_0, the hidden
/// neurons of the head, and the neurons of every relation (the head's, plus the chains' for
/// the joint form).
struct FormSize {
    m0: usize,
    head: usize,
    relations: usize,
}

impl FormSize {
    fn of(certificate: &Certificate, claims: Claims) -> FormSize {
        let layers = &certificate.target.layers;
        let l = layers.len();
        let n0 = certificate.target.input_dim as usize;
        let m0 = if certificate.domain.nonnegative {
            n0
        } else {
            2 * n0
        };
        let hidden: Vec<usize> = layers[..l.saturating_sub(1)]
            .iter()
            .map(|layer| layer.weights.len())
            .collect();
        let head: usize = hidden.iter().sum();
        let relations = match claims {
            Claims::Terms => head,
            Claims::Joint => {
                head + (0..hidden.len())
                    .map(|i| hidden[i..].iter().sum::<usize>())
                    .sum::<usize>()
            }
        };
        FormSize {
            m0,
            head,
            relations,
        }
    }
}

fn form_name(claims: Claims) -> &'static str {
    match claims {
        Claims::Terms => "a term's quadratic form",
        Claims::Joint => "the joint form",
    }
}

/// Why the search for `claims` does not run on `certificate` (the quadratic form's side
/// m_0 + relations above [`MAX_SIDE`], or more than [`MAX_QUANTITIES`] quantities
/// m_0 + 2 * head), from the target's shape alone; None when it fits.
pub fn too_large(certificate: &Certificate, claims: Claims) -> Option<String> {
    let size = FormSize::of(certificate, claims);
    let what = form_name(claims);
    let side = size.m0 + size.relations;
    if side > MAX_SIDE {
        return Some(format!(
            "{what} would have side {side}, above slth verify's default --max-witness-side \
             {MAX_SIDE}"
        ));
    }
    let quantities = size.m0 + 2 * size.head;
    if quantities > MAX_QUANTITIES {
        return Some(format!(
            "the search for {what} would handle {quantities} quantities (input entries and two \
             per hidden neuron), above the {MAX_QUANTITIES} it finishes in reasonable time"
        ));
    }
    None
}

/// Why `certify`'s default does not try the joint form on `certificate` although it fits
/// [`too_large`]: its search is quick (seconds on the networks of BENCHMARKS.md) while
/// m_0 + 2 * relations, counting the chains' neurons too, stays within
/// [`MAX_QUANTITIES`]; deeper networks take tens of seconds or more (a 4-16-16-16-16-1
/// target 27 s, a 40-40-40-40-2 one 65 s), so the default leaves them to `--claims joint`. None when the default tries it.
pub fn too_slow_for_default(certificate: &Certificate) -> Option<String> {
    if let Some(reason) = too_large(certificate, Claims::Joint) {
        return Some(reason);
    }
    let size = FormSize::of(certificate, Claims::Joint);
    let count = size.m0 + 2 * size.relations;
    (count > MAX_QUANTITIES).then(|| {
        format!(
            "its search would take tens of seconds or more here ({} input entries plus two per neuron \
             of its {} relations make {count}, above the {MAX_QUANTITIES} the default takes \
             on); --claims joint runs it",
            size.m0, size.relations
        )
    })
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

    /// A_1 .. A_l of term i (docs/FORMAT.md section 12.2).
    fn chain(&self, i: usize) -> Vec<Mat> {
        let which = |k: usize| match k.cmp(&i) {
            std::cmp::Ordering::Less => Which::Head,
            std::cmp::Ordering::Equal => Which::Error,
            std::cmp::Ordering::Greater => Which::Target,
        };
        (1..=self.weights.len())
            .map(|k| self.matrix(which(k), k))
            .collect()
    }

    /// B_k, M_k or W_k of docs/FORMAT.md section 12.2 (twice as wide for k = 1 on a signed
    /// domain, except W_k, which only occurs for k >= 2), each entry the f64 nearest the
    /// exact one.
    fn matrix(&self, which: Which, k: usize) -> Mat {
        let f = rational_to_f64;
        let (w, p, q) = (
            &self.weights[k - 1],
            &self.positive[k - 1],
            &self.negative[k - 1],
        );
        let rows = w.len();
        let cols = w.first().map_or(0, Vec::len);
        let wide = k == 1 && self.signed && which != Which::Target;
        let mut a = Mat::zeros(rows, if wide { 2 * cols } else { cols });
        for m in 0..rows {
            for t in 0..cols {
                match which {
                    Which::Head => {
                        a.set(m, t, f(&p[m][t]));
                        if wide {
                            a.set(m, cols + t, f(&-&q[m][t]));
                        }
                    }
                    Which::Error => {
                        a.set(m, t, f(&(&p[m][t] - &w[m][t])));
                        if wide {
                            a.set(m, cols + t, f(&(&w[m][t] - &q[m][t])));
                        }
                    }
                    Which::Target => a.set(m, t, f(&w[m][t])),
                }
            }
        }
        a
    }
}

/// Which matrix of docs/FORMAT.md section 12.2.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Which {
    /// B_k, g~'s block k.
    Head,
    /// M_k, block k's signed error matrix.
    Error,
    /// W_k, f's layer k.
    Target,
}

/// The exact rational of an f64.
fn exact_of(x: f64) -> BigRational {
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
    // floor(log10 x), exactly (a platform's log10 may round across a power of ten): with n
    // and d the digit counts of x's numerator and denominator, 10^(n-d-1) < x < 10^(n-d+1).
    let digits = |v: &BigInt| v.to_string().trim_start_matches('-').len() as i64;
    let mut e = digits(x.numer()) - digits(x.denom());
    if x < &power_of_ten(e) {
        e -= 1;
    }
    let unit = power_of_ten(e - 5);
    (x / &unit).ceil() * unit
}

/// 10^e as a rational.
fn power_of_ten(e: i64) -> BigRational {
    let ten = BigInt::from(10);
    if e >= 0 {
        BigRational::from_integer(num_traits::pow(ten, e as usize))
    } else {
        BigRational::new(BigInt::from(1), num_traits::pow(ten, (-e) as usize))
    }
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
    let name = format!("term {i}");
    let found = search(
        &Shape::term(&scaled, i),
        &Shape::term(&chain, i),
        c,
        &name,
        margin,
    )?;
    let term = TermBound {
        lipschitz: text(&found.lambda),
        multipliers: found.multipliers,
        products: found.products,
        witness: found.witness,
    };
    Some((term, found.lambda))
}

/// The joint form (docs/FORMAT.md section 12.10) with the given margin, and its lambda.
/// Every error matrix M_k is scaled by the largest spectral norm c among them, which maps
/// back as for a term: lambda = c lambda', the head's multipliers and the products times c^2.
fn joint_for(input: &Input, margin: f64) -> Option<(JointBound, BigRational)> {
    let l = input.weights.len();
    let errors: Vec<Mat> = (1..=l).map(|k| input.matrix(Which::Error, k)).collect();
    let c = match errors.iter().map(Mat::spectral_norm).fold(0.0, f64::max) {
        c if c > 0.0 && c.is_finite() => c,
        _ => 1.0,
    };
    let shape = |scale: f64| {
        let error = |k: usize| {
            let mut m = errors[k - 1].clone();
            for x in &mut m.data {
                *x /= scale;
            }
            m
        };
        let mut relations: Vec<Relation> = (1..l)
            .map(|k| Relation {
                source: k - 1,
                matrix: input.matrix(Which::Head, k),
                nonnegative: false,
            })
            .collect();
        let mut output = vec![(l - 1, error(l))];
        for i in 1..l {
            let mut source = i - 1;
            for k in i..l {
                relations.push(Relation {
                    source,
                    matrix: if k == i {
                        error(k)
                    } else {
                        input.matrix(Which::Target, k)
                    },
                    nonnegative: true,
                });
                source = relations.len();
            }
            output.push((source, input.matrix(Which::Target, l)));
        }
        Shape {
            input: input.m0(),
            relations,
            output,
            quantity_relations: l - 1,
        }
    };
    let found = search(&shape(c), &shape(1.0), c, "joint form", margin)?;
    let mut rows = found.multipliers.into_iter();
    let head: Vec<Vec<Rational>> = rows.by_ref().take(l - 1).collect();
    let chains = (1..l)
        .map(|i| rows.by_ref().take(l - i).collect())
        .collect();
    let joint = JointBound {
        lipschitz: text(&found.lambda),
        head,
        chains,
        products: found.products,
        witness: found.witness,
    };
    Some((joint, found.lambda))
}

/// What [`search`] found, written as the certificate writes it.
struct Found {
    lambda: BigRational,
    multipliers: Vec<Vec<Rational>>,
    products: Vec<(u64, u64, Rational)>,
    witness: LipschitzWitness,
}

/// Solves the form `scaled` (`exact`'s error matrices divided by `c`), maps the solution
/// back to `exact`, rounds lambda up, keeps the products above 1e-9 of the largest and
/// makes the witness: shift = half the smallest eigenvalue of Q, R the f64 Cholesky factor
/// of Q - shift I. None when the search or the witness failed.
fn search(scaled: &Shape, exact: &Shape, c: f64, name: &str, margin: f64) -> Option<Found> {
    let solution = solve::solve(scaled, name, margin, 2e-3)?;
    let c2 = c * c;
    let lambda2 = solution.lambda2 * c2;
    let multipliers: Vec<Vec<f64>> = solution
        .multipliers
        .iter()
        .zip(&exact.relations)
        .map(|(row, relation)| {
            row.iter()
                .map(|&t| {
                    if relation.nonnegative {
                        t.max(0.0)
                    } else {
                        t * c2
                    }
                })
                .collect()
        })
        .collect();
    let lambda = round_up(&exact_of((lambda2 * (1.0 + 1e-6)).sqrt()));
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
            products.push((a as u64, b as u64, text(&exact_of(value))));
            kept.push((a, b, v));
        }
    }
    let lambda_f = rational_to_f64(&lambda);
    let q = solve::form(exact, lambda_f * lambda_f, &multipliers, &kept);
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
        eprintln!("{name}: lambda {lambda_f:e}, smallest eigenvalue {low:?}");
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
        eprintln!("{name}: shift {shift:e}, residual {residual:e}");
    }
    if residual > shift / 4.0 {
        return None;
    }
    Some(Found {
        lambda,
        multipliers: multipliers
            .iter()
            .map(|row| row.iter().map(|&t| text(&exact_of(t))).collect())
            .collect(),
        products,
        witness: LipschitzWitness {
            shift: text(&exact_of(shift)),
            factor: (0..n)
                .map(|a| (a..n).map(|b| text(&exact_of(r.at(a, b)))).collect())
                .collect(),
        },
    })
}

/// The output certificate: version 2, the terms and the joint form found (either may be
/// missing), epsilon = min(input's, r * sum lambda rounded up, r * lambda rounded up) and
/// meta naming the producer. Returns it, the terms' lambdas, and the bound the added
/// claims give (r * sum lambda_i, or r * lambda of the joint form).
fn assemble(
    certificate: &Certificate,
    terms: &[Option<(TermBound, BigRational)>],
    joint: Option<&(JointBound, BigRational)>,
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
    let mut bound = radius * total;
    let mut epsilon = epsilon_before.clone();
    if !bounds.is_empty() {
        epsilon = epsilon.min(round_up(&bound));
        out.bound.terms = Some(bounds);
    }
    if let Some((form, lambda)) = joint {
        bound = radius * lambda;
        epsilon = epsilon.min(round_up(&bound));
        out.bound.joint = Some(form.clone());
    }
    out.version = slth_checker::certificate::FORMAT_VERSION_TERMS;
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
            "slth {} tighten (native interior-point search)",
            env!("CARGO_PKG_VERSION")
        )),
    );
    meta.insert(
        "epsilon_without_terms".to_string(),
        serde_json::Value::String(certificate.bound.epsilon.0.clone()),
    );
    out.meta = Some(serde_json::Value::Object(meta));
    (out, lambdas, bound, epsilon)
}

/// f64 value of a rational, for messages.
pub fn approximate(x: &BigRational) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

impl Tightened {
    /// One line for stderr: the lambdas, r * sum lambda (or the joint form's r * lambda) and
    /// the epsilons.
    pub fn summary(&self, seconds: f64) -> String {
        if self.claims == Claims::Joint {
            return format!(
                "joint form: r * lambda = {:.6}; epsilon {} -> {} ({:.2}s)",
                approximate(&self.telescoping),
                format_rational(&self.epsilon_before),
                format_rational(&self.epsilon),
                seconds
            );
        }
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

#[cfg(test)]
mod tests {
    use super::round_up;
    use slth_checker::numbers::parse_rational;

    /// Six significant digits, rounded up, at and around powers of ten.
    #[test]
    fn round_up_keeps_six_significant_digits() {
        for (x, expected) in [
            ("1", "1"),
            ("1000001/1000000", "100001/100000"),
            ("999999/1000000", "999999/1000000"),
            ("9999995/10000000", "1"),
            ("1234567", "1234570"),
            ("1/3", "333334/1000000"),
            ("1/1000", "1/1000"),
            ("10000001/10000000000", "100001/100000000"),
            ("0", "0"),
        ] {
            let (x, expected) = (
                parse_rational(x).unwrap(),
                parse_rational(expected).unwrap(),
            );
            assert_eq!(round_up(&x), expected, "{x}");
        }
    }
}
