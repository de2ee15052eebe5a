//! `slth report`: one certificate as a figure (SVG) and as the numbers behind it (JSON).
//!
//! Per block: the claims c_i and L_i, the propagated bound e_i, and how much of e_l the
//! block's error accounts for. The recursion of docs/FORMAT.md section 6.3,
//! `e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}`, is `e_i = (L_i + c_i) e_{i-1} + c_i a_{i-1}`,
//! so it unrolls into a sum of one contribution per block, exactly:
//!
//! ```text
//! e_l = sum over i of  c_i a_{i-1} prod_{k > i} (L_k + c_k),   a_{i-1} = r L_1 ... L_{i-1}
//! ```
//!
//! (the error block i makes on the largest input it can see, carried through the later
//! blocks). For a version 2 certificate the terms r lambda_i are a second split, of the
//! second bound r (lambda_1 + ... + lambda_l). Beside them: the attack's proven lower bound
//! (when asked for), the widths of g against the theorems' formulas ([`theory`]) and the
//! kept weights per target weight. The certificate is read, not verified (as `inspect`).

pub mod draw;
pub mod theory;

use crate::error::Error;
use crate::numbers::{format_rational, parse_rational, rational_to_f64};
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde_json::{Value, json};
use slth_checker::certificate::{Certificate, Limits};
use std::path::Path;

/// One block's numbers.
#[derive(Debug, Clone)]
pub struct BlockReport {
    /// c_i
    pub error: BigRational,
    /// L_i and its method (`frobenius` or `spectral`)
    pub lipschitz: BigRational,
    pub lipschitz_method: String,
    /// e_i of the chain
    pub propagated: BigRational,
    /// this block's share of e_l: `c_i a_{i-1} prod_{k > i} (L_k + c_k)`
    pub contribution: BigRational,
    /// version 2: lambda_i
    pub term: Option<BigRational>,
    pub n_in: usize,
    pub n_out: usize,
    pub hidden_width: u64,
    pub kept_hidden: usize,
    pub kept_output: usize,
}

impl BlockReport {
    /// Kept weights of the block (hidden plus output edges).
    pub fn kept(&self) -> usize {
        self.kept_hidden + self.kept_output
    }

    /// Kept weights per weight of the target layer.
    pub fn kept_per_target_weight(&self) -> f64 {
        self.kept() as f64 / (self.n_in * self.n_out).max(1) as f64
    }
}

/// The attack's proven lower bound, and where it comes from.
#[derive(Debug, Clone)]
pub struct Bracket {
    pub lower: BigRational,
    /// the lower bound as the attack wrote it
    pub lower_text: String,
    pub source: String,
}

/// Everything the figure shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub file: String,
    pub version: u64,
    pub dims: Vec<usize>,
    pub radius: BigRational,
    pub nonnegative: bool,
    pub epsilon: BigRational,
    pub construction: Option<String>,
    pub blocks: Vec<BlockReport>,
    /// e_l
    pub chain: BigRational,
    /// version 2: r (lambda_1 + ... + lambda_l)
    pub terms: Option<BigRational>,
    /// version 2: r lambda of the joint form (docs/FORMAT.md section 12.10)
    pub joint: Option<BigRational>,
    pub attack: Option<Bracket>,
}

/// A rational of the certificate, or an error that names its place.
fn exact(file: &str, place: String, text: &str) -> Result<BigRational, Error> {
    parse_rational(text).map_err(|e| Error::Rejected {
        file: file.to_string(),
        place,
        reason: e.to_string(),
    })
}

/// Reads a certificate within `limits` and computes its report (without the attack).
pub fn report_file(path: &Path, limits: &Limits) -> Result<Report, Error> {
    let certificate = slth_checker::certificate::load(path, limits)?;
    report(&path.display().to_string(), &certificate)
}

/// The report of a certificate that was read (not verified).
pub fn report(file: &str, c: &Certificate) -> Result<Report, Error> {
    let l = c.target.layers.len();
    let mismatch = |what: &str, count: usize| Error::Rejected {
        file: file.to_string(),
        place: what.to_string(),
        reason: format!("has {count} entries for {l} target layers"),
    };
    if c.bound.blocks.len() != l {
        return Err(mismatch("bound.blocks", c.bound.blocks.len()));
    }
    if c.ticket.len() != l {
        return Err(mismatch("ticket", c.ticket.len()));
    }
    if c.random_network.hidden_widths.len() != l {
        let count = c.random_network.hidden_widths.len();
        return Err(mismatch("random_network.hidden_widths", count));
    }
    let dims: Vec<usize> = std::iter::once(c.target.input_dim as usize)
        .chain(c.target.layers.iter().map(|layer| layer.weights.len()))
        .collect();
    let radius = exact(file, "domain.radius".into(), &c.domain.radius.0)?;
    let epsilon = exact(file, "bound.epsilon".into(), &c.bound.epsilon.0)?;
    let mut claims = Vec::with_capacity(l);
    for (i, b) in c.bound.blocks.iter().enumerate() {
        let error = exact(file, format!("bound.blocks[{i}].error"), &b.error.0)?;
        let lipschitz = exact(file, format!("bound.blocks[{i}].lipschitz"), &b.lipschitz.0)?;
        claims.push((error, lipschitz));
    }
    let contributions = contributions(&radius, &claims);
    let mut blocks = Vec::with_capacity(l);
    let (mut a, mut e) = (radius.clone(), BigRational::zero());
    for (i, ((error, lipschitz), contribution)) in claims.into_iter().zip(contributions).enumerate()
    {
        e = &error * (&a + &e) + &lipschitz * &e;
        a = &lipschitz * &a;
        let term = match &c.bound.terms {
            Some(terms) => match terms.get(i) {
                Some(t) => Some(exact(
                    file,
                    format!("bound.terms[{i}].lipschitz"),
                    &t.lipschitz.0,
                )?),
                None => return Err(mismatch("bound.terms", terms.len())),
            },
            None => None,
        };
        blocks.push(BlockReport {
            error,
            lipschitz,
            lipschitz_method: c.bound.blocks[i]
                .lipschitz_method
                .clone()
                .unwrap_or_else(|| "frobenius".to_string()),
            propagated: e.clone(),
            contribution,
            term,
            n_in: dims[i],
            n_out: dims[i + 1],
            hidden_width: c.random_network.hidden_widths[i],
            kept_hidden: c.ticket[i].hidden.len(),
            kept_output: c.ticket[i].output.len(),
        });
    }
    let terms = c.bound.terms.as_ref().map(|_| {
        let sum: BigRational = blocks.iter().filter_map(|b| b.term.clone()).sum();
        &radius * sum
    });
    let joint = match &c.bound.joint {
        Some(form) => {
            let lambda = exact(file, "bound.joint.lipschitz".into(), &form.lipschitz.0)?;
            Some(&radius * lambda)
        }
        None => None,
    };
    let construction = c
        .meta
        .as_ref()
        .and_then(|m| m.get("construction"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Report {
        file: file.to_string(),
        version: c.version,
        dims,
        radius,
        nonnegative: c.domain.nonnegative,
        epsilon,
        construction,
        blocks,
        chain: e,
        terms,
        joint,
        attack: None,
    })
}

/// Each block's share of e_l: `c_i a_{i-1} prod_{k > i} (L_k + c_k)` with
/// `a_{i-1} = r L_1 ... L_{i-1}`; they add up to e_l exactly.
pub fn contributions(
    radius: &BigRational,
    claims: &[(BigRational, BigRational)],
) -> Vec<BigRational> {
    let mut out = Vec::with_capacity(claims.len());
    let mut a = radius.clone();
    for (i, (c, l)) in claims.iter().enumerate() {
        let carried: BigRational = claims[i + 1..]
            .iter()
            .map(|(c_k, l_k)| c_k + l_k)
            .fold(BigRational::one(), |p, x| p * x);
        out.push(c * &a * carried);
        a = &a * l;
    }
    out
}

impl Report {
    /// Adds the attack's bracket from `slth attack --json` output saved in `path`; its
    /// certified epsilon must be this certificate's.
    pub fn read_attack_json(&mut self, path: &Path) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(path, format!("not JSON: {e}")))?;
        let field = |key: &str| -> Result<String, Error> {
            value
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!("{key}: missing (is this `slth attack --json` output?)"),
                    )
                })
        };
        let lower_text = field("lower_bound")?;
        let lower = parse_rational(&lower_text)
            .map_err(|e| Error::input(path, format!("lower_bound: {e}")))?;
        let certified = field("certified_epsilon")?;
        let same = parse_rational(&certified).is_ok_and(|e| e == self.epsilon);
        if !same {
            return Err(Error::input(
                path,
                format!(
                    "certified_epsilon {certified} is not this certificate's epsilon {}: an attack on another certificate",
                    format_rational(&self.epsilon)
                ),
            ));
        }
        self.attack = Some(Bracket {
            lower,
            lower_text,
            source: path.display().to_string(),
        });
        Ok(())
    }

    /// Adds the bracket of an attack run here (`seed` as the user gave it).
    pub fn set_attack(&mut self, attack: &crate::attack::Attack, seed: &str) {
        let lower = attack.lower();
        let starts = attack.starts;
        self.attack = Some(Bracket {
            lower_text: attack.to_json()["lower_bound"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            lower,
            source: format!("slth attack (seed {seed}, {starts} starts)"),
        });
    }

    /// All kept weights, and the target's weights.
    pub fn kept(&self) -> (usize, usize) {
        let kept = self.blocks.iter().map(BlockReport::kept).sum();
        let target = self.blocks.iter().map(|b| b.n_in * b.n_out).sum();
        (kept, target)
    }

    /// The numbers of the figure as one JSON object: every exact number as a rational
    /// string with an `_approx` f64 beside it.
    pub fn to_json(&self) -> Value {
        let r = |x: &BigRational| Value::String(format_rational(x));
        let f = |x: &BigRational| json!(rational_to_f64(x));
        let layers = self.blocks.len();
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let term_contribution = b.term.as_ref().map(|t| &self.radius * t);
                json!({
                    "block": i + 1,
                    "error": r(&b.error), "error_approx": f(&b.error),
                    "lipschitz": r(&b.lipschitz), "lipschitz_approx": f(&b.lipschitz),
                    "lipschitz_method": b.lipschitz_method,
                    "propagated": r(&b.propagated), "propagated_approx": f(&b.propagated),
                    "contribution": r(&b.contribution), "contribution_approx": f(&b.contribution),
                    "share_of_chain": rational_to_f64(&b.contribution) / rational_to_f64(&self.chain),
                    "share_of_epsilon": rational_to_f64(&b.contribution) / rational_to_f64(&self.epsilon),
                    "term_lambda": b.term.as_ref().map(r),
                    "term_lambda_approx": b.term.as_ref().map(f),
                    "term_contribution": term_contribution.as_ref().map(r),
                    "term_contribution_approx": term_contribution.as_ref().map(f),
                    "n_in": b.n_in, "n_out": b.n_out,
                    "hidden_width": b.hidden_width,
                    "kept_hidden": b.kept_hidden, "kept_output": b.kept_output,
                    "kept_weights": b.kept(), "target_weights": b.n_in * b.n_out,
                    "kept_per_target_weight": b.kept_per_target_weight(),
                    "pensia_width": theory::pensia_width(b.n_in, b.n_out, layers, rational_to_f64(&self.epsilon)),
                    "malach_width": theory::malach_width(b.n_in, &self.dims),
                })
            })
            .collect();
        let (kept, target) = self.kept();
        json!({
            "file": self.file,
            "verified": false,
            "version": self.version,
            "construction": self.construction,
            "dims": self.dims,
            "radius": r(&self.radius), "radius_approx": f(&self.radius),
            "nonnegative": self.nonnegative,
            "epsilon": r(&self.epsilon), "epsilon_approx": f(&self.epsilon),
            "chain_bound": r(&self.chain), "chain_bound_approx": f(&self.chain),
            "terms_bound": self.terms.as_ref().map(r),
            "terms_bound_approx": self.terms.as_ref().map(f),
            "joint_bound": self.joint.as_ref().map(r),
            "joint_bound_approx": self.joint.as_ref().map(f),
            "attack": self.attack.as_ref().map(|a| json!({
                "lower_bound": a.lower_text,
                "lower_bound_approx": rational_to_f64(&a.lower),
                "source": a.source,
            })),
            "blocks": blocks,
            "kept_weights": kept,
            "target_weights": target,
            "kept_per_target_weight": kept as f64 / target.max(1) as f64,
            "theory": {"pensia": theory::PENSIA, "malach": theory::MALACH},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn contributions_add_up_to_the_chain() {
        let claims = vec![
            (q(1, 10), q(1, 2)),
            (q(1, 5), q(2, 1)),
            (q(3, 100), q(7, 10)),
        ];
        let parts = contributions(&q(3, 2), &claims);
        let total: BigRational = parts.iter().cloned().sum();
        assert_eq!(total, crate::bound::propagate(&q(3, 2), &claims));
        // Block 1 by hand: c_1 r (L_2 + c_2)(L_3 + c_3) = 1/10 * 3/2 * 11/5 * 73/100.
        assert_eq!(parts[0], q(1, 10) * q(3, 2) * q(11, 5) * q(73, 100));
    }
}
