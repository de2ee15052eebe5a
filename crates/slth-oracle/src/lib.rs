//! An independent checker of slth certificates (versions 1 and 2, full or compact), written from the format
//! alone (docs/FORMAT.md; version 2's terms from its section 12 only, in `terms.rs`, and
//! the joint form from its section 12.10 only, in `joint.rs`)
//! without calling anything of slth or slth-checker: the oracle the differential tests,
//! the mutation campaign and the fuzz target compare with.
//!
//! It reads the text with its own JSON reader ([`json`]), draws every weight of g
//! with its own ChaCha20, computes P, Q, E, the sums, the Frobenius and spectral claims
//! (rational LDL^T elimination, or the witness inequality) and the chain with
//! `num-rational`, and answers with a [`Verdict`]: valid, invalid with EVERY violation it
//! can see (so that whatever a verifier reports first can be checked against the set), or
//! undecided (a spectral claim without witness on a Gram side above
//! [`Checker::max_elimination_side`]).
//!
//! Neuron-subnetwork certificates (section 13) have their own checker,
//! [`check_neuron_text`] and [`check_neuron_file`] (in `neurons.rs`, with its own SHA-256
//! for sample files), which answers with the first failure in the section's order.

// Matrix code reads best with index loops.
#![allow(clippy::needless_range_loop)]

mod algebra;
mod chacha;
mod errors;
mod joint;
pub mod json;
mod mutants;
mod neurons;
mod numbers;
mod sha256;
mod shape;
mod terms;

pub use algebra::*;
pub use chacha::*;
pub use errors::error_matrix;
use errors::*;
pub use joint::JointFacts;
pub use mutants::*;
pub use neurons::*;
pub use numbers::*;
pub use sha256::sha256_hex;
pub use shape::*;
pub use terms::TermFacts;

use json::Json;
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------
// Verdicts

/// The rule a violation breaks; the names are those of `slth::verify::RejectionKind`, plus
/// `Json` (not JSON text) and `Schema` (JSON that does not have the certificate's shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Json,
    Schema,
    Header,
    Dimension,
    Activation,
    Number,
    IndexOutOfRange,
    DuplicateHidden,
    DuplicateOutput,
    OutputWithoutInput,
    ValueMismatch,
    ErrorTooSmall,
    LipschitzTooSmall,
    WitnessInvalid,
    EpsilonTooSmall,
    Domain,
    Limit,
}

impl Kind {
    pub fn name(self) -> String {
        format!("{self:?}")
    }
}

/// One broken rule; `kinds` lists every name a verifier may fairly give it (a number text
/// over the documented limit is a `Number` or a `Limit` rejection, for instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub kinds: Vec<Kind>,
    pub place: String,
    pub what: String,
}

#[derive(Debug, Clone)]
pub enum Verdict {
    Valid,
    Invalid(Vec<Violation>),
    Undecided(String),
}

impl Verdict {
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }

    /// Every kind a verifier may report for this certificate.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = match self {
            Verdict::Invalid(v) => v.iter().flat_map(|x| x.kinds.iter().copied()).collect(),
            _ => Vec::new(),
        };
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

fn violation(kinds: &[Kind], place: impl Into<String>, what: impl Into<String>) -> Violation {
    Violation {
        kinds: kinds.to_vec(),
        place: place.into(),
        what: what.into(),
    }
}

// The checker

/// What a certificate, read from first principles, says; used to make mutants.
#[derive(Debug, Clone)]
pub struct Facts {
    pub radius: BigRational,
    pub epsilon: BigRational,
    /// Per block: sum of E^2, sum of W^2, the claims and W.
    pub blocks: Vec<BlockFacts>,
    /// e_l for the claims as written.
    pub e_l: BigRational,
    /// Version 2: what each readable term says (empty for version 1).
    pub terms: Vec<TermFacts>,
    /// Version 2: r * (lambda_1 + ... + lambda_l), when every lambda could be read.
    pub telescoping: Option<BigRational>,
    /// Version 2 (section 12.10): what the joint form says, when it could be read.
    pub joint: Option<JointFacts>,
    /// Version 2: r * lambda of the joint form, when its lambda could be read.
    pub joint_bound: Option<BigRational>,
}

#[derive(Debug, Clone)]
pub struct BlockFacts {
    pub error_squared: BigRational,
    pub frobenius_squared: BigRational,
    pub error: BigRational,
    pub lipschitz: BigRational,
    pub method: String,
    pub witness: Option<(BigRational, Vec<Vec<BigRational>>)>,
    pub weights: Vec<Vec<BigRational>>,
    pub cols: usize,
    /// Version 2 (section 12.9): "frobenius", "spectral" or "witness"; the error witness;
    /// M_i when the claim is spectral.
    pub error_method: String,
    pub error_witness: Option<(BigRational, Vec<Vec<BigRational>>)>,
    pub error_matrix: Option<Vec<Vec<BigRational>>>,
}

/// The checker, with caches for the costly pure parts (weights of g, Lipschitz decisions).
pub struct Checker {
    /// Largest Gram side decided by elimination for a spectral claim without witness.
    pub max_elimination_side: usize,
    /// Largest witness side decided; larger ones are undecided.
    pub max_witness_side: usize,
    /// JSON nesting accepted by the reader.
    pub max_depth: usize,
    lipschitz: Mutex<HashMap<u64, Result<(), Violation>>>,
    /// Witness decisions of version 2 terms, by a hash of everything Q depends on.
    terms: Mutex<HashMap<u64, bool>>,
}

impl Default for Checker {
    fn default() -> Self {
        Checker {
            max_elimination_side: 40,
            max_witness_side: 64,
            max_depth: 128,
            lipschitz: Mutex::new(HashMap::new()),
            terms: Mutex::new(HashMap::new()),
        }
    }
}

/// A problem with the certificate's shape (a `Schema` violation), as an error.
impl Checker {
    fn weight(&self, key: &[u8; 32], stream: u64, index: u128) -> Option<i64> {
        type Cache = HashMap<([u8; 32], u64, u128), Option<i64>>;
        thread_local! {
            static WEIGHTS: std::cell::RefCell<Cache> = std::cell::RefCell::new(HashMap::new());
        }
        WEIGHTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(w) = cache.get(&(*key, stream, index)) {
                return *w;
            }
            if cache.len() > 1_000_000 {
                cache.clear();
            }
            let w = weight(key, stream, index);
            cache.insert((*key, stream, index), w);
            w
        })
    }

    /// The verdict on certificate text.
    pub fn check_text(&self, text: &str) -> Verdict {
        match json::parse(text, self.max_depth) {
            Ok(v) => self.check(&v),
            Err(json::JsonError::TooDeep) => Verdict::Invalid(vec![violation(
                &[Kind::Json, Kind::Schema, Kind::Limit],
                "$",
                "nesting deeper than the reader's limit",
            )]),
            Err(json::JsonError::Syntax(e)) => {
                Verdict::Invalid(vec![violation(&[Kind::Json], "$", e)])
            }
        }
    }

    pub fn check(&self, root: &Json) -> Verdict {
        self.check_with_facts(root).0
    }

    /// The verdict and, when every number could be read, the facts behind it.
    pub fn check_with_facts(&self, root: &Json) -> (Verdict, Option<Facts>) {
        let (root, arrays) = objectify(root);
        let mut out: Vec<Violation> = Vec::new();
        if arrays {
            out.push(schema("$", ARRAY_FOR_OBJECT));
        }
        let c = match read_shape(&root) {
            Ok(c) => c,
            Err(v) => {
                out.push(v);
                return (Verdict::Invalid(out), None);
            }
        };
        let mut undecided: Option<String> = None;

        // Header, domain, random network.
        if c.format != "slth-certificate" && c.format != COMPACT {
            out.push(violation(&[Kind::Header], "format", &c.format));
        }
        if c.version != 1 && c.version != 2 {
            out.push(violation(&[Kind::Header], "version", c.version.to_string()));
        }
        // Section 14.1: only a compact certificate may leave a kept entry's value out.
        if let Some(place) = first_omitted(&c).filter(|_| c.format != COMPACT) {
            out.push(schema(
                place,
                "a value left out outside a compact certificate",
            ));
        }
        if c.norm != "l2" {
            out.push(violation(&[Kind::Domain], "domain.norm", &c.norm));
        }
        let radius = number(&c.radius, "domain.radius", &mut out);
        if radius.as_ref().is_some_and(Signed::is_negative) {
            out.push(violation(&[Kind::Domain], "domain.radius", "negative"));
        }
        if c.rng != "chacha20" {
            out.push(violation(&[Kind::Header], "random_network.rng", &c.rng));
        }
        if c.distribution != "uniform-dyadic-53" {
            out.push(violation(
                &[Kind::Header],
                "random_network.distribution",
                &c.distribution,
            ));
        }
        let key = seed_bytes(&c.seed);
        if key.is_none() {
            out.push(violation(&[Kind::Header], "random_network.seed", &c.seed));
        }

        // Target: dimensions, activations, weights.
        let depth = c.layers.len();
        if depth == 0 {
            out.push(violation(&[Kind::Dimension], "target.layers", "no layers"));
        }
        let mut dims = vec![c.input_dim];
        let mut weights: Vec<Option<Vec<Vec<BigRational>>>> = Vec::new();
        let mut dims_ok = true;
        for (i, layer) in c.layers.iter().enumerate() {
            let last = i + 1 == depth;
            if !(layer.activation == "relu" || (last && layer.activation == "linear")) {
                out.push(violation(
                    &[Kind::Activation],
                    format!("target.layers[{i}].activation"),
                    &layer.activation,
                ));
            }
            let mut rows = Vec::new();
            let mut ok = true;
            for (m, row) in layer.weights.iter().enumerate() {
                if row.len() as u64 != dims[i] {
                    dims_ok = false;
                    out.push(violation(
                        &[Kind::Dimension],
                        format!("target.layers[{i}].weights[{m}]"),
                        "row length",
                    ));
                    ok = false;
                    continue;
                }
                let mut parsed = Vec::new();
                for (t, x) in row.iter().enumerate() {
                    match number(
                        x,
                        &format!("target.layers[{i}].weights[{m}][{t}]"),
                        &mut out,
                    ) {
                        Some(x) => parsed.push(x),
                        None => ok = false,
                    }
                }
                rows.push(parsed);
            }
            dims.push(layer.weights.len() as u64);
            weights.push(ok.then_some(rows));
        }
        for (place, count) in [
            ("random_network.hidden_widths", c.widths.len()),
            ("ticket", c.ticket.len()),
            ("bound.blocks", c.blocks.len()),
        ] {
            if count != depth {
                dims_ok = false;
                out.push(violation(&[Kind::Dimension], place, "count"));
            }
        }
        let structure_ok = out.iter().all(|v| v.what == ARRAY_FOR_OBJECT) && dims_ok;

        // The ticket (docs/FORMAT.md section 5), only when the shape around it is sound.
        let mut paths: Vec<Option<Vec<Path>>> = vec![None; depth];
        if structure_ok {
            let key = key.unwrap();
            for (b, p) in paths.iter_mut().enumerate() {
                *p = self.check_ticket(b, &c, &dims, &key, &mut out);
            }
        }

        // Claims (every number), then the inequalities of section 5 where defined.
        let mut claims = Vec::new();
        let mut error_methods = Vec::new();
        version_rules(&c, &mut out);
        for (b, block) in c.blocks.iter().enumerate() {
            let place = format!("bound.blocks[{b}]");
            let error = number(&block.error, &format!("{place}.error"), &mut out);
            let lipschitz = number(&block.lipschitz, &format!("{place}.lipschitz"), &mut out);
            let method = read_method(
                &place,
                "lipschitz",
                block.method.as_deref(),
                block.witness.as_ref(),
                &mut out,
            );
            let error_method = read_method(
                &place,
                "error",
                block.error_method.as_deref(),
                block.error_witness.as_ref(),
                &mut out,
            );
            error_methods.push(error_method);
            claims.push((error, lipschitz, method));
        }
        let epsilon = number(&c.epsilon, "bound.epsilon", &mut out);

        let signed_first = !c.nonnegative;
        let mut block_facts = Vec::new();
        for (b, (error, lipschitz, method)) in claims.iter().enumerate() {
            let Some(Some(w)) = weights.get(b) else {
                continue;
            };
            if !structure_ok {
                continue;
            }
            let cols = dims[b] as usize;
            let frobenius_squared = sum_squares(w.iter().flatten());
            let mut error_squared = None;
            let mut error_matrix = None;
            let error_method = error_methods[b].as_ref();
            let spectral_error = !matches!(error_method, None | Some(Method::Frobenius));
            if let Some(p) = &paths[b] {
                let signed = b == 0 && signed_first;
                let s = deviation_squared(w, cols, p, signed);
                if let (Some(e), Some(m), true) = (error, error_method, spectral_error) {
                    error_matrix = Some(self.spectral_error(
                        b,
                        &c,
                        w,
                        cols,
                        p,
                        signed,
                        e,
                        m,
                        &mut out,
                        &mut undecided,
                    ));
                } else if let Some(e) = error
                    && error_method.is_some()
                    && (e.is_negative() || e * e < s)
                {
                    out.push(violation(
                        &[Kind::ErrorTooSmall],
                        format!("bound.blocks[{b}].error"),
                        format!("c^2 < sum E^2 = {}", show(&s)),
                    ));
                }
                error_squared = Some(s);
            }
            if let (Some(l), Some(m)) = (lipschitz, method) {
                let block = &c.blocks[b];
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (b, &c.layers[b].weights, &block.lipschitz, &block.method).hash(&mut h);
                block.witness.hash(&mut h);
                let memo = h.finish();
                let at = ClaimPlace::new(b, "lipschitz", Kind::LipschitzTooSmall);
                match self.claim_check(memo, w, cols, l, m, &at) {
                    Ok(Ok(())) => {}
                    Ok(Err(v)) => out.push(v),
                    Err(why) => undecided = Some(why),
                }
            }
            if let (Some(s), Some(e), Some(l), Some(m)) = (error_squared, error, lipschitz, method)
            {
                block_facts.push(BlockFacts {
                    error_squared: s,
                    frobenius_squared,
                    error: e.clone(),
                    lipschitz: l.clone(),
                    method: m.name(),
                    witness: match m {
                        Method::Witness(s, f) => Some((s.clone(), f.clone())),
                        _ => None,
                    },
                    weights: w.clone(),
                    cols,
                    error_method: error_method.map_or("frobenius".into(), Method::name),
                    error_witness: match error_method {
                        Some(Method::Witness(s, f)) => Some((s.clone(), f.clone())),
                        _ => None,
                    },
                    error_matrix,
                });
            }
        }

        // Version 2's terms (section 12).
        let (term_facts, telescoping) = self.check_terms(
            &c,
            &dims,
            &weights,
            &paths,
            structure_ok,
            radius.as_ref(),
            &mut out,
            &mut undecided,
        );
        // Section 12.10: the joint form.
        let (joint_facts, joint_bound, joint_unread) = self.check_joint(
            &c,
            &dims,
            &weights,
            &paths,
            structure_ok,
            radius.as_ref(),
            &mut out,
            &mut undecided,
        );
        // Section 12.1: in version 2, epsilon needs to cover e_l OR the telescoping bound
        // OR the joint bound; a bound that is undefined (terms missing, miscounted or
        // unreadable, all reported above) is not compared, except that an unreadable
        // lambda leaves the epsilon rule undecided and unreported.
        let version_2 = c.version == 2 && c.terms.is_some();
        let lambdas_unread = version_2
            && telescoping.is_none()
            && c.terms.as_ref().is_some_and(|t| t.len() == depth);
        let joint_bound = joint_bound.filter(|_| c.version == 2);
        let joint_unread = c.version == 2 && joint_unread;

        // The chain: e_i = c_i (a_{i-1} + e_{i-1}) + L_i e_{i-1}, a_i = L_i a_{i-1}.
        let mut facts = None;
        let all_read = claims.iter().all(|(e, l, _)| e.is_some() && l.is_some());
        if let (Some(r), Some(eps), true) = (&radius, &epsilon, all_read && !claims.is_empty()) {
            let (mut a, mut e) = (r.clone(), BigRational::zero());
            for (ci, li, _) in &claims {
                let (ci, li) = (ci.as_ref().unwrap(), li.as_ref().unwrap());
                e = ci * (&a + &e) + li * &e;
                a = li * &a;
            }
            let covered = (version_2 && telescoping.as_ref().is_some_and(|t| eps >= t))
                || joint_bound.as_ref().is_some_and(|j| eps >= j);
            if eps < &e && !covered && !lambdas_unread && !joint_unread {
                let mut what = format!("epsilon < e_l = {}", show(&e));
                if let (Some(t), true) = (&telescoping, version_2) {
                    what += &format!(" and epsilon < r * sum lambda_i = {}", show(t));
                }
                if let Some(j) = &joint_bound {
                    what += &format!(" and epsilon < r * lambda (joint) = {}", show(j));
                }
                out.push(violation(&[Kind::EpsilonTooSmall], "bound.epsilon", what));
            }
            if block_facts.len() == claims.len() {
                facts = Some(Facts {
                    radius: r.clone(),
                    epsilon: eps.clone(),
                    blocks: block_facts,
                    e_l: e,
                    terms: term_facts,
                    telescoping,
                    joint: joint_facts,
                    joint_bound,
                });
            }
        }

        let verdict = if !out.is_empty() {
            Verdict::Invalid(out)
        } else if let Some(why) = undecided {
            Verdict::Undecided(why)
        } else {
            Verdict::Valid
        };
        (verdict, facts)
    }

    /// The kept paths (cell row m, column t, V, U) of block b, or None after pushing every
    /// violation of docs/FORMAT.md section 5 it finds.
    fn check_ticket(
        &self,
        b: usize,
        c: &Parsed,
        dims: &[u64],
        key: &[u8; 32],
        out: &mut Vec<Violation>,
    ) -> Option<Vec<Path>> {
        let before = out.len();
        let (n_in, n_out, width) = (dims[b], dims[b + 1], c.widths[b]);
        let (hidden, output) = &c.ticket[b];
        let hidden_stream = 2 * b as u64;
        let output_stream = 2 * b as u64 + 1;
        let keystream_end: u128 = 1 << 67;
        let mut kept: HashMap<u64, (u64, i64)> = HashMap::new();
        let mut listed: HashSet<u64> = HashSet::new();
        for (k, (j, t, value)) in hidden.iter().enumerate() {
            let place = format!("ticket[{b}].hidden[{k}]");
            if *j >= width || *t >= n_in {
                out.push(violation(&[Kind::IndexOutOfRange], &place, "index"));
                continue;
            }
            if !listed.insert(*j) {
                out.push(violation(&[Kind::DuplicateHidden], &place, "j twice"));
                continue;
            }
            let index = u128::from(*j) * u128::from(n_in) + u128::from(*t);
            if index >= keystream_end {
                out.push(violation(
                    &[Kind::IndexOutOfRange],
                    &place,
                    "beyond keystream",
                ));
                continue;
            }
            // A value left out (compact certificates) is g's weight; one given must equal it.
            let u = self.weight(key, hidden_stream, index).unwrap();
            if let Some(text) = value {
                let Some(claimed) = number(text, &place, out) else {
                    continue;
                };
                if !is_weight(&claimed, u) {
                    out.push(violation(&[Kind::ValueMismatch], &place, "U differs"));
                    continue;
                }
            }
            kept.insert(*j, (*t, u));
        }
        let mut edges: HashSet<(u64, u64)> = HashSet::new();
        let mut paths = Vec::new();
        for (k, (m, j, value)) in output.iter().enumerate() {
            let place = format!("ticket[{b}].output[{k}]");
            if *m >= n_out || *j >= width {
                out.push(violation(&[Kind::IndexOutOfRange], &place, "index"));
                continue;
            }
            if !edges.insert((*m, *j)) {
                out.push(violation(&[Kind::DuplicateOutput], &place, "edge twice"));
                continue;
            }
            if !listed.contains(j) {
                out.push(violation(&[Kind::OutputWithoutInput], &place, "no input"));
                continue;
            }
            let index = u128::from(*j) * u128::from(n_out) + u128::from(*m);
            if index >= keystream_end {
                out.push(violation(
                    &[Kind::IndexOutOfRange],
                    &place,
                    "beyond keystream",
                ));
                continue;
            }
            let v = self.weight(key, output_stream, index).unwrap();
            if let Some(text) = value {
                let Some(claimed) = number(text, &place, out) else {
                    continue;
                };
                if !is_weight(&claimed, v) {
                    out.push(violation(&[Kind::ValueMismatch], &place, "V differs"));
                    continue;
                }
            }
            if let Some(&(t, u)) = kept.get(j) {
                paths.push((*m as usize, t as usize, v, u));
            }
        }
        (out.len() == before).then_some(paths)
    }
}
