//! An independent checker of slth certificates (version 1), written from the format
//! alone (docs/FORMAT.md) without calling anything of slth or slth-checker: the oracle
//! the differential tests, the mutation campaign and the fuzz target compare with.
//!
//! It reads the text with its own JSON reader ([`json`]), draws every weight of g
//! with its own ChaCha20, computes P, Q, E, the sums, the Frobenius and spectral claims
//! (rational LDL^T elimination, or the witness inequality) and the chain with
//! `num-rational`, and answers with a [`Verdict`]: valid, invalid with EVERY violation it
//! can see (so that whatever a verifier reports first can be checked against the set), or
//! undecided (a spectral claim without witness on a Gram side above
//! [`Checker::max_elimination_side`]).

// Matrix code reads best with index loops.
#![allow(clippy::needless_range_loop)]

pub mod json;

use json::Json;
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------
// ChaCha20 and the weights of g (docs/FORMAT.md section 4)

fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] ^= s[a];
    s[d] = s[d].rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] ^= s[c];
    s[b] = s[b].rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] ^= s[a];
    s[d] = s[d].rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] ^= s[c];
    s[b] = s[b].rotate_left(7);
}

/// Block `counter` of the ChaCha20 keystream of `key` and `stream` (Bernstein's layout:
/// "expand 32-byte k", key, 64-bit counter low word first, 64-bit stream low word first).
pub fn chacha20(key: &[u8; 32], counter: u64, stream: u64) -> [u32; 16] {
    let constant = b"expand 32-byte k";
    let mut x = [0u32; 16];
    for w in 0..4 {
        x[w] = u32::from_le_bytes(constant[4 * w..4 * w + 4].try_into().unwrap());
    }
    for w in 0..8 {
        x[4 + w] = u32::from_le_bytes(key[4 * w..4 * w + 4].try_into().unwrap());
    }
    x[12] = (counter & 0xffff_ffff) as u32;
    x[13] = (counter >> 32) as u32;
    x[14] = (stream & 0xffff_ffff) as u32;
    x[15] = (stream >> 32) as u32;
    let mut s = x;
    for _round in 0..10 {
        quarter(&mut s, 0, 4, 8, 12);
        quarter(&mut s, 1, 5, 9, 13);
        quarter(&mut s, 2, 6, 10, 14);
        quarter(&mut s, 3, 7, 11, 15);
        quarter(&mut s, 0, 5, 10, 15);
        quarter(&mut s, 1, 6, 11, 12);
        quarter(&mut s, 2, 7, 8, 13);
        quarter(&mut s, 3, 4, 9, 14);
    }
    for w in 0..16 {
        s[w] = s[w].wrapping_add(x[w]);
    }
    s
}

/// `r = w_{2 index} + 2^32 w_{2 index + 1}`; None when the word lies beyond the 2^64
/// blocks of the keystream (index >= 2^67).
pub fn raw_word(key: &[u8; 32], stream: u64, index: u128) -> Option<u64> {
    let word = 2 * index;
    let block = u64::try_from(word / 16).ok()?;
    let at = (word % 16) as usize;
    let b = chacha20(key, block, stream);
    Some(u64::from(b[at]) | (u64::from(b[at + 1]) << 32))
}

/// The weight `sample(seed, stream, index)` as its numerator over 2^53.
pub fn weight(key: &[u8; 32], stream: u64, index: u128) -> Option<i64> {
    let r = raw_word(key, stream, index)?;
    let u = (r >> 11) as i64;
    Some(2 * u + 1 - (1i64 << 53))
}

/// Whether x (in lowest terms, as BigRational keeps it) is n / 2^53 for an odd n.
fn is_weight(x: &BigRational, n: i64) -> bool {
    x.numer() == &BigInt::from(n) && x.denom() == &two53()
}

pub fn two53() -> BigInt {
    BigInt::one() << 53u32
}

// ---------------------------------------------------------------------------------------
// Numbers (docs/FORMAT.md section 2): the forms of Python's `fractions.Fraction(str)` without spaces
// and `_`; texts over 10,000 characters and exponents beyond +-10,000 are refused as limits.

pub const MAX_NUMBER_CHARS: usize = 10_000;
pub const MAX_EXPONENT: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    Malformed,
    ZeroDenominator,
    Limit,
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_rational(text: &str) -> Result<BigRational, NumberProblem> {
    if text.chars().count() > MAX_NUMBER_CHARS {
        return Err(NumberProblem::Limit);
    }
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some((p, q)) = body.split_once('/') {
        if !all_digits(p) || !all_digits(q) {
            return Err(NumberProblem::Malformed);
        }
        // Machine words when both fit (the kept values n/2^53): reduce with a u64 gcd.
        if let (Ok(p), Ok(q)) = (p.parse::<u64>(), q.parse::<u64>()) {
            if q == 0 {
                return Err(NumberProblem::ZeroDenominator);
            }
            let g = p.gcd(&q);
            let value = BigRational::new_raw(BigInt::from(p / g), BigInt::from(q / g));
            return Ok(if negative { -value } else { value });
        }
        let q: BigInt = q.parse().unwrap();
        if q.is_zero() {
            return Err(NumberProblem::ZeroDenominator);
        }
        BigRational::new(p.parse().unwrap(), q)
    } else {
        // (?=\d|\.\d) \d* (\.\d*)? ([eE][-+]?\d+)?
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digit_first = |s: &str| s.bytes().next().is_some_and(|b| b.is_ascii_digit());
        let starts_right = digit_first(int) || digit_first(frac);
        if !starts_right
            || !(int.is_empty() || all_digits(int))
            || !(frac.is_empty() || all_digits(frac))
        {
            return Err(NumberProblem::Malformed);
        }
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.as_bytes().first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if !all_digits(digits) {
                    return Err(NumberProblem::Malformed);
                }
                let magnitude: BigInt = digits.parse().unwrap();
                if magnitude > BigInt::from(MAX_EXPONENT) {
                    return Err(NumberProblem::Limit);
                }
                sign * magnitude.to_i64().unwrap()
            }
        };
        let digits = format!("{int}{frac}");
        let mantissa: BigInt = if digits.is_empty() {
            BigInt::zero()
        } else {
            digits.parse().unwrap()
        };
        let shift = exp - frac.len() as i64;
        let ten = BigInt::from(10);
        if shift >= 0 {
            BigRational::from_integer(mantissa * num_traits::pow(ten, shift as usize))
        } else {
            BigRational::new(mantissa, num_traits::pow(ten, (-shift) as usize))
        }
    };
    Ok(if negative { -value } else { value })
}

/// A rational written as `p/q` in lowest terms (or an integer).
pub fn show(x: &BigRational) -> String {
    if x.denom().is_one() {
        x.numer().to_string()
    } else {
        format!("{}/{}", x.numer(), x.denom())
    }
}

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

// ---------------------------------------------------------------------------------------
// Exact linear algebra

/// `sum_{m,t} x^2`.
pub fn sum_squares<'a>(xs: impl Iterator<Item = &'a BigRational>) -> BigRational {
    let xs: Vec<&BigRational> = xs.collect();
    let (ints, den) = over_common_denominator(&xs);
    let sum: BigInt = ints.iter().map(|x| x * x).sum();
    BigRational::new(sum, &den * &den)
}

/// The smaller Gram matrix of W (rows x cols): `W W^T` if rows <= cols, else `W^T W`.
pub fn gram(w: &[Vec<BigRational>], cols: usize, on_rows: bool) -> Vec<Vec<BigRational>> {
    let rows = w.len();
    // Integers over the common denominator d: G = G_int / d^2.
    let flat: Vec<&BigRational> = w.iter().flatten().collect();
    let (ints, d) = over_common_denominator(&flat);
    let at = |r: usize, c: usize| &ints[r * cols + c];
    let d2 = &d * &d;
    let (side, inner) = if on_rows { (rows, cols) } else { (cols, rows) };
    let mut g = vec![vec![BigRational::zero(); side]; side];
    for a in 0..side {
        for b in a..side {
            let dot: BigInt = (0..inner)
                .map(|k| {
                    if on_rows {
                        at(a, k) * at(b, k)
                    } else {
                        at(k, a) * at(k, b)
                    }
                })
                .sum();
            let x = BigRational::new(dot, d2.clone());
            g[b][a] = x.clone();
            g[a][b] = x;
        }
    }
    g
}

/// The spec's test: symmetric Gaussian elimination without pivoting on rationals; PSD iff
/// every pivot is >= 0 and a zero pivot has a zero rest of row.
pub fn is_psd(mut m: Vec<Vec<BigRational>>) -> bool {
    let n = m.len();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if m[k][k + 1..].iter().any(|x| !x.is_zero()) {
                return false;
            }
            continue;
        }
        for i in k + 1..n {
            if m[i][k].is_zero() {
                continue;
            }
            let factor = &m[i][k] / &pivot;
            for j in k + 1..n {
                let update = &factor * &m[k][j];
                m[i][j] -= update;
            }
        }
    }
    true
}

/// Whether `L^2 I - G` is PSD for the smaller Gram matrix of W.
pub fn spectral_holds(w: &[Vec<BigRational>], cols: usize, l: &BigRational) -> bool {
    let on_rows = w.len() <= cols;
    let g = gram(w, cols, on_rows);
    let l2 = l * l;
    let m = g
        .into_iter()
        .enumerate()
        .map(|(a, row)| {
            row.into_iter()
                .enumerate()
                .map(|(b, x)| if a == b { &l2 - x } else { -x })
                .collect()
        })
        .collect();
    is_psd(m)
}

/// `sum_{a,b} D[a][b]^2` for `D = L^2 I - G - shift I - R^T R` (R upper triangular, row a
/// holds columns a..n-1), G the Gram matrix of side n. Computed over one common
/// denominator C: `D = D_int / C`.
pub fn witness_residual(
    g: &[Vec<BigRational>],
    l2: &BigRational,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
) -> BigRational {
    let n = g.len();
    let g_flat: Vec<&BigRational> = g.iter().flatten().collect();
    let (g_int, g_den) = over_common_denominator(&g_flat);
    let r_flat: Vec<&BigRational> = factor.iter().flatten().collect();
    let (r_ints, r_den) = over_common_denominator(&r_flat);
    // r[k][a] for a >= k, as integers over r_den.
    let mut r: Vec<Vec<BigInt>> = Vec::with_capacity(n);
    let mut next = r_ints.into_iter();
    for row in factor {
        r.push(next.by_ref().take(row.len()).collect());
    }
    let at = |k: usize, a: usize| -> Option<&BigInt> { r.get(k)?.get(a.checked_sub(k)?) };
    let t = l2 - shift;
    let r_den2 = &r_den * &r_den;
    let c = t.denom().lcm(&g_den).lcm(&r_den2);
    let (t_scale, g_scale, s_scale) = (&c / t.denom(), &c / &g_den, &c / &r_den2);
    let diag = t.numer() * &t_scale;
    let mut sum = BigInt::zero();
    for a in 0..n {
        for b in 0..n {
            let mut s_ab = BigInt::zero();
            for k in 0..=a.min(b) {
                if let (Some(x), Some(y)) = (at(k, a), at(k, b)) {
                    s_ab += x * y;
                }
            }
            let mut d = -(&g_int[a * n + b] * &g_scale) - s_ab * &s_scale;
            if a == b {
                d += &diag;
            }
            sum += &d * &d;
        }
    }
    BigRational::new(sum, &c * &c)
}

// ---------------------------------------------------------------------------------------
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
}

impl Default for Checker {
    fn default() -> Self {
        Checker {
            max_elimination_side: 40,
            max_witness_side: 64,
            max_depth: 128,
            lipschitz: Mutex::new(HashMap::new()),
        }
    }
}

/// A problem with the certificate's shape (a `Schema` violation), as an error.
type Shape<T> = Result<T, Violation>;

fn schema(place: impl Into<String>, what: impl Into<String>) -> Violation {
    violation(&[Kind::Schema], place, what)
}

/// What a violation says when an array stands where the spec wants an object (serde's
/// derived readers accept a struct as the array of its field values; the spec does not).
pub const ARRAY_FOR_OBJECT: &str = "an array where the format has an object";

/// serde's derived readers also take a struct as the JSON array of its field values (in
/// declaration order, trailing defaulted fields optional). This rewrites such arrays into
/// the objects they stand for, so the rest of the certificate can still be judged; whether
/// it did is returned, and is itself a violation of the format.
pub fn objectify(root: &Json) -> (Json, bool) {
    let mut changed = false;
    let mut v = root.clone();
    as_object(&mut v, &CERTIFICATE_FIELDS, &mut changed);
    if let Json::Obj(_) = v {
        if let Some(t) = v.get_mut("target") {
            as_object(t, &["input_dim", "layers"], &mut changed);
            if let Some(Json::Arr(layers)) = t.get_mut("layers") {
                for l in layers {
                    as_object(l, &["weights", "activation"], &mut changed);
                }
            }
        }
        if let Some(d) = v.get_mut("domain") {
            as_object(d, &["norm", "radius", "nonnegative?"], &mut changed);
        }
        if let Some(r) = v.get_mut("random_network") {
            as_object(
                r,
                &["rng", "seed", "distribution", "hidden_widths"],
                &mut changed,
            );
        }
        if let Some(Json::Arr(blocks)) = v.get_mut("ticket") {
            for b in blocks {
                as_object(b, &["hidden", "output"], &mut changed);
            }
        }
        if let Some(b) = v.get_mut("bound") {
            as_object(b, &["blocks", "epsilon"], &mut changed);
            if let Some(Json::Arr(blocks)) = b.get_mut("blocks") {
                for c in blocks {
                    as_object(
                        c,
                        &[
                            "error",
                            "lipschitz",
                            "lipschitz_method?",
                            "lipschitz_witness?",
                        ],
                        &mut changed,
                    );
                    if let Some(w) = c.get_mut("lipschitz_witness") {
                        as_object(w, &["shift", "factor"], &mut changed);
                    }
                }
            }
        }
    }
    (v, changed)
}

const CERTIFICATE_FIELDS: [&str; 8] = [
    "format",
    "version",
    "target",
    "domain",
    "random_network",
    "ticket",
    "bound",
    "meta?",
];

/// An array of as many values as `fields` (names ending in `?` may be left off at the
/// end) becomes the object; anything else stays as it is.
fn as_object(v: &mut Json, fields: &[&str], changed: &mut bool) {
    let Json::Arr(items) = v else { return };
    let required = fields.iter().filter(|f| !f.ends_with('?')).count();
    if items.len() < required || items.len() > fields.len() {
        return;
    }
    let members = fields
        .iter()
        .zip(items.iter())
        .map(|(f, x)| (f.trim_end_matches('?').to_string(), x.clone()))
        .collect();
    *v = Json::Obj(members);
    *changed = true;
}

/// An object with exactly the allowed members, each at most once.
fn members<'a>(
    v: &'a Json,
    place: &str,
    required: &[&str],
    optional: &[&str],
) -> Shape<BTreeMap<&'a str, &'a Json>> {
    let Json::Obj(list) = v else {
        return Err(schema(place, "expected an object"));
    };
    let mut map = BTreeMap::new();
    for (k, x) in list {
        if !required.contains(&k.as_str()) && !optional.contains(&k.as_str()) {
            return Err(schema(place, format!("unknown field {k:?}")));
        }
        if map.insert(k.as_str(), x).is_some() {
            return Err(schema(place, format!("duplicate field {k:?}")));
        }
    }
    for r in required {
        if !map.contains_key(r) {
            return Err(schema(place, format!("missing field {r:?}")));
        }
    }
    Ok(map)
}

fn string<'a>(v: &'a Json, place: &str) -> Shape<&'a str> {
    v.as_str().ok_or_else(|| schema(place, "expected a string"))
}

/// A JSON integer >= 0 written without sign, fraction or exponent; beyond u64 is a limit.
fn integer(v: &Json, place: &str) -> Shape<u64> {
    let Json::Num(text) = v else {
        return Err(schema(place, "expected an integer"));
    };
    if text.starts_with('-') {
        // Negative, or -0 (a float to serde, and not how the format writes 0).
        return Err(schema(place, format!("{text} is not an integer >= 0")));
    }
    if !all_digits(text) {
        return Err(schema(place, format!("{text} is not an integer")));
    }
    let value: Option<u64> = if text.len() > 25 {
        None
    } else {
        text.parse().ok()
    };
    value.ok_or_else(|| {
        violation(
            &[Kind::Schema, Kind::Limit],
            place,
            format!("{text} is beyond 2^64"),
        )
    })
}

fn array<'a>(v: &'a Json, place: &str) -> Shape<&'a Vec<Json>> {
    v.as_array()
        .ok_or_else(|| schema(place, "expected an array"))
}

/// `[a, b, "value"]`
fn entry(v: &Json, place: &str) -> Shape<(u64, u64, String)> {
    let items = array(v, place)?;
    if items.len() != 3 {
        return Err(schema(place, "expected [index, index, value]"));
    }
    Ok((
        integer(&items[0], place)?,
        integer(&items[1], place)?,
        string(&items[2], place)?.to_string(),
    ))
}

struct Layer {
    weights: Vec<Vec<String>>,
    activation: String,
}

struct BlockClaim {
    error: String,
    lipschitz: String,
    method: Option<String>,
    witness: Option<(String, Vec<Vec<String>>)>,
}

type Entries = Vec<(u64, u64, String)>;

/// A kept path: (row m, column t, V numerator, U numerator), values over 2^53.
pub type Path = (usize, usize, i64, i64);

/// The certificate with its shape checked, every number still text.
struct Parsed {
    format: String,
    version: u64,
    input_dim: u64,
    layers: Vec<Layer>,
    norm: String,
    radius: String,
    nonnegative: bool,
    rng: String,
    seed: String,
    distribution: String,
    widths: Vec<u64>,
    ticket: Vec<(Entries, Entries)>,
    blocks: Vec<BlockClaim>,
    epsilon: String,
}

fn read_shape(root: &Json) -> Shape<Parsed> {
    let top = members(
        root,
        "$",
        &[
            "format",
            "version",
            "target",
            "domain",
            "random_network",
            "ticket",
            "bound",
        ],
        &["meta"],
    )?;
    let target = members(top["target"], "target", &["input_dim", "layers"], &[])?;
    let mut layers = Vec::new();
    for (i, layer) in array(target["layers"], "target.layers")?.iter().enumerate() {
        let place = format!("target.layers[{i}]");
        let l = members(layer, &place, &["weights", "activation"], &[])?;
        let mut weights = Vec::new();
        for row in array(l["weights"], &place)? {
            let row = array(row, &place)?
                .iter()
                .map(|x| string(x, &place).map(str::to_string))
                .collect::<Shape<Vec<_>>>()?;
            weights.push(row);
        }
        layers.push(Layer {
            weights,
            activation: string(l["activation"], &place)?.to_string(),
        });
    }
    let domain = members(
        top["domain"],
        "domain",
        &["norm", "radius"],
        &["nonnegative"],
    )?;
    let nonnegative = match domain.get("nonnegative") {
        None => false,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err(schema("domain.nonnegative", "expected a boolean")),
    };
    let rn = members(
        top["random_network"],
        "random_network",
        &["rng", "seed", "distribution", "hidden_widths"],
        &[],
    )?;
    let widths = array(rn["hidden_widths"], "hidden_widths")?
        .iter()
        .map(|w| integer(w, "hidden_widths"))
        .collect::<Shape<Vec<_>>>()?;
    let mut ticket = Vec::new();
    for (b, block) in array(top["ticket"], "ticket")?.iter().enumerate() {
        let place = format!("ticket[{b}]");
        let t = members(block, &place, &["hidden", "output"], &[])?;
        let read = |name: &str| -> Shape<Entries> {
            array(t[name], &place)?
                .iter()
                .map(|e| entry(e, &place))
                .collect()
        };
        ticket.push((read("hidden")?, read("output")?));
    }
    let bound = members(top["bound"], "bound", &["blocks", "epsilon"], &[])?;
    let mut blocks = Vec::new();
    for (b, block) in array(bound["blocks"], "bound.blocks")?.iter().enumerate() {
        let place = format!("bound.blocks[{b}]");
        let c = members(
            block,
            &place,
            &["error", "lipschitz"],
            &["lipschitz_method", "lipschitz_witness"],
        )?;
        let method = match c.get("lipschitz_method") {
            None | Some(Json::Null) => None,
            Some(m) => Some(string(m, &place)?.to_string()),
        };
        let witness = match c.get("lipschitz_witness") {
            None | Some(Json::Null) => None,
            Some(w) => {
                let w = members(w, &place, &["shift", "factor"], &[])?;
                let mut rows = Vec::new();
                for row in array(w["factor"], &place)? {
                    rows.push(
                        array(row, &place)?
                            .iter()
                            .map(|x| string(x, &place).map(str::to_string))
                            .collect::<Shape<Vec<_>>>()?,
                    );
                }
                Some((string(w["shift"], &place)?.to_string(), rows))
            }
        };
        blocks.push(BlockClaim {
            error: string(c["error"], &place)?.to_string(),
            lipschitz: string(c["lipschitz"], &place)?.to_string(),
            method,
            witness,
        });
    }
    Ok(Parsed {
        format: string(top["format"], "format")?.to_string(),
        version: integer(top["version"], "version")?,
        input_dim: integer(target["input_dim"], "target.input_dim")?,
        layers,
        norm: string(domain["norm"], "domain.norm")?.to_string(),
        radius: string(domain["radius"], "domain.radius")?.to_string(),
        nonnegative,
        rng: string(rn["rng"], "random_network.rng")?.to_string(),
        seed: string(rn["seed"], "random_network.seed")?.to_string(),
        distribution: string(rn["distribution"], "random_network.distribution")?.to_string(),
        widths,
        ticket,
        blocks,
        epsilon: string(bound["epsilon"], "bound.epsilon")?.to_string(),
    })
}

fn number(text: &str, place: &str, out: &mut Vec<Violation>) -> Option<BigRational> {
    match parse_rational(text) {
        Ok(x) => Some(x),
        Err(NumberProblem::Limit) => {
            out.push(violation(
                &[Kind::Number, Kind::Limit],
                place,
                "number beyond the documented limits",
            ));
            None
        }
        Err(p) => {
            out.push(violation(&[Kind::Number], place, format!("{p:?}")));
            None
        }
    }
}

fn seed_bytes(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

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
        if c.format != "slth-certificate" {
            out.push(violation(&[Kind::Header], "format", &c.format));
        }
        if c.version != 1 {
            out.push(violation(&[Kind::Header], "version", c.version.to_string()));
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
        for (b, block) in c.blocks.iter().enumerate() {
            let place = format!("bound.blocks[{b}]");
            let error = number(&block.error, &format!("{place}.error"), &mut out);
            let lipschitz = number(&block.lipschitz, &format!("{place}.lipschitz"), &mut out);
            let method = match (block.method.as_deref(), &block.witness) {
                (None | Some("frobenius"), None) => Some(Method::Frobenius),
                (Some("spectral"), None) => Some(Method::Spectral),
                (Some("spectral"), Some((shift, factor))) => {
                    let shift =
                        number(shift, &format!("{place}.lipschitz_witness.shift"), &mut out);
                    let mut rows = Vec::new();
                    let mut ok = true;
                    for row in factor {
                        let mut r = Vec::new();
                        for x in row {
                            match number(x, &format!("{place}.lipschitz_witness.factor"), &mut out)
                            {
                                Some(x) => r.push(x),
                                None => ok = false,
                            }
                        }
                        rows.push(r);
                    }
                    match (shift, ok) {
                        (Some(s), true) => Some(Method::Witness(s, rows)),
                        _ => None,
                    }
                }
                (None | Some("frobenius"), Some(_)) => {
                    // The spec defines the witness for spectral blocks only.
                    out.push(violation(
                        &[Kind::WitnessInvalid],
                        format!("{place}.lipschitz_witness"),
                        "witness on a frobenius block",
                    ));
                    None
                }
                (Some(other), _) => {
                    out.push(violation(
                        &[Kind::Header],
                        format!("{place}.lipschitz_method"),
                        other,
                    ));
                    None
                }
            };
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
            if let Some(p) = &paths[b] {
                let s = deviation_squared(w, cols, p, b == 0 && signed_first);
                if let Some(e) = error
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
                match self.lipschitz_check(memo, b, w, cols, l, m) {
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
                });
            }
        }

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
            if eps < &e {
                out.push(violation(
                    &[Kind::EpsilonTooSmall],
                    "bound.epsilon",
                    format!("epsilon < e_l = {}", show(&e)),
                ));
            }
            if block_facts.len() == claims.len() {
                facts = Some(Facts {
                    radius: r.clone(),
                    epsilon: eps.clone(),
                    blocks: block_facts,
                    e_l: e,
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
            let Some(claimed) = number(value, &place, out) else {
                continue;
            };
            let u = self.weight(key, hidden_stream, index).unwrap();
            if !is_weight(&claimed, u) {
                out.push(violation(&[Kind::ValueMismatch], &place, "U differs"));
                continue;
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
            let Some(claimed) = number(value, &place, out) else {
                continue;
            };
            let v = self.weight(key, output_stream, index).unwrap();
            if !is_weight(&claimed, v) {
                out.push(violation(&[Kind::ValueMismatch], &place, "V differs"));
                continue;
            }
            if let Some(&(t, u)) = kept.get(j) {
                paths.push((*m as usize, t as usize, v, u));
            }
        }
        (out.len() == before).then_some(paths)
    }

    /// Ok(verdict) or Err(reason undecided).
    fn lipschitz_check(
        &self,
        memo: u64,
        b: usize,
        w: &[Vec<BigRational>],
        cols: usize,
        l: &BigRational,
        method: &Method,
    ) -> Result<Result<(), Violation>, String> {
        let place = format!("bound.blocks[{b}].lipschitz");
        if l.is_negative() {
            return Ok(Err(violation(
                &[Kind::LipschitzTooSmall],
                place,
                "negative",
            )));
        }
        if let Some(r) = self.lipschitz.lock().unwrap().get(&memo) {
            return Ok(r.clone());
        }
        let rows = w.len();
        let l2 = l * l;
        let result = match method {
            Method::Frobenius => {
                if l2 < sum_squares(w.iter().flatten()) {
                    Err(violation(
                        &[Kind::LipschitzTooSmall],
                        place,
                        "L^2 < sum W^2",
                    ))
                } else {
                    Ok(())
                }
            }
            Method::Spectral => {
                let side = rows.min(cols);
                if side > self.max_elimination_side {
                    return Err(format!(
                        "spectral claim of Gram side {side} without witness"
                    ));
                }
                if spectral_holds(w, cols, l) {
                    Ok(())
                } else {
                    Err(violation(
                        &[Kind::LipschitzTooSmall],
                        place,
                        "L^2 I - G not PSD",
                    ))
                }
            }
            Method::Witness(shift, factor) => {
                let wplace = format!("bound.blocks[{b}].lipschitz_witness");
                let n = factor.len();
                if n != rows && n != cols {
                    Err(violation(&[Kind::WitnessInvalid], wplace, "factor side"))
                } else if factor.iter().enumerate().any(|(a, r)| r.len() != n - a) {
                    Err(violation(
                        &[Kind::WitnessInvalid],
                        wplace,
                        "factor row length",
                    ))
                } else if shift.is_negative() {
                    Err(violation(&[Kind::WitnessInvalid], wplace, "negative shift"))
                } else if n > self.max_witness_side {
                    return Err(format!("witness of side {n}"));
                } else {
                    let g = gram(w, cols, n == rows);
                    if witness_residual(&g, &l2, shift, factor) > shift * shift {
                        Err(violation(
                            &[Kind::WitnessInvalid],
                            wplace,
                            "sum D^2 > shift^2",
                        ))
                    } else {
                        Ok(())
                    }
                }
            }
        };
        self.lipschitz.lock().unwrap().insert(memo, result.clone());
        Ok(result)
    }
}

#[derive(Debug, Clone)]
enum Method {
    Frobenius,
    Spectral,
    Witness(BigRational, Vec<Vec<BigRational>>),
}

impl Method {
    fn name(&self) -> String {
        match self {
            Method::Frobenius => "frobenius",
            Method::Spectral => "spectral",
            Method::Witness(..) => "witness",
        }
        .to_string()
    }
}

/// The numerators of `xs` over their least common denominator, and that denominator.
pub fn over_common_denominator(xs: &[&BigRational]) -> (Vec<BigInt>, BigInt) {
    let mut den = BigInt::one();
    for x in xs {
        if !(&den % x.denom()).is_zero() {
            den = den.lcm(x.denom());
        }
    }
    let ints = xs.iter().map(|x| x.numer() * (&den / x.denom())).collect();
    (ints, den)
}

/// `sum_{m,t} E[m][t]^2` from the kept paths (m, t, V, U), straight from docs/FORMAT.md section 6:
/// P and Q are integers over 2^106, W integers over its common denominator D, so every
/// E is an integer over D 2^106 and the sum of squares is one integer over (D 2^106)^2.
pub fn deviation_squared(
    w: &[Vec<BigRational>],
    cols: usize,
    paths: &[Path],
    signed: bool,
) -> BigRational {
    let rows = w.len();
    let mut p = vec![BigInt::zero(); rows * cols];
    let mut q = vec![BigInt::zero(); rows * cols];
    for &(m, t, v, u) in paths {
        let product = BigInt::from(v) * BigInt::from(u);
        if u > 0 {
            p[m * cols + t] += product;
        } else {
            q[m * cols + t] += product;
        }
    }
    let flat: Vec<&BigRational> = w.iter().flatten().collect();
    let (w_int, den) = over_common_denominator(&flat);
    let two106 = BigInt::one() << 106u32;
    let mut sum = BigInt::zero();
    for cell in 0..rows * cols {
        let target = &w_int[cell] * &two106;
        let mut e = (&p[cell] * &den - &target).abs();
        if signed {
            let eq = (&q[cell] * &den - &target).abs();
            if eq > e {
                e = eq;
            }
        }
        sum += &e * &e;
    }
    let scale = den * two106;
    BigRational::new(sum, &scale * &scale)
}

// ---------------------------------------------------------------------------------------
// Exact neighbours of thresholds, for making mutants

/// The two rationals `k / (q 10^digits)` and `(k + 1) / (q 10^digits)` around `sqrt(s)`
/// (s >= 0 with denominator q): the first has square <= s (== only if s is a square of
/// that grid), the second square > s.
pub fn sqrt_neighbours(s: &BigRational, digits: u32) -> (BigRational, BigRational) {
    let scale = num_traits::pow(BigInt::from(10), digits as usize) * s.denom();
    // sqrt(s) = sqrt(p q) / q, and on the grid 1/(q 10^d): k = floor(sqrt(p q 10^{2d})).
    let radicand = s.numer() * s.denom() * num_traits::pow(BigInt::from(10), 2 * digits as usize);
    let k = radicand.sqrt();
    (
        BigRational::new(k.clone(), scale.clone()),
        BigRational::new(k + 1, scale),
    )
}

/// Bisection on the grid 1/10^digits for the boundary of a monotone predicate:
/// `holds(lo)` is false and `holds(hi)` is true; returns (x, x + 10^-digits) with
/// holds(x) false and holds(x + 10^-digits) true.
pub fn bisect(
    lo: &BigRational,
    hi: &BigRational,
    digits: u32,
    holds: impl Fn(&BigRational) -> bool,
) -> (BigRational, BigRational) {
    let unit = num_traits::pow(BigInt::from(10), digits as usize);
    let mut a = (lo * BigRational::from_integer(unit.clone()))
        .floor()
        .to_integer();
    let mut b = (hi * BigRational::from_integer(unit.clone()))
        .ceil()
        .to_integer();
    let at = |k: &BigInt| BigRational::new(k.clone(), unit.clone());
    assert!(!holds(&at(&a)) && holds(&at(&b)), "bisect: bad bracket");
    while &b - &a > BigInt::one() {
        let mid: BigInt = (&a + &b).div_floor(&BigInt::from(2));
        if holds(&at(&mid)) {
            b = mid;
        } else {
            a = mid;
        }
    }
    (at(&a), at(&b))
}

/// Fraction-free PSD test (Bareiss) of `x^2 I - G` for G given as integers over `den`,
/// used only to FIND mutation points quickly; verdicts use [`is_psd`].
pub fn fast_psd(g_int: &[Vec<BigInt>], den: &BigInt, x: &BigRational) -> bool {
    let n = g_int.len();
    // q^2 den (x^2 I - G) = p^2 den I - q^2 G_int
    let (p, q) = (x.numer(), x.denom());
    let diag = p * p * den;
    let q2 = q * q;
    let mut m: Vec<Vec<BigInt>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| {
                    let mut v = -(&q2 * &g_int[a][b]);
                    if a == b {
                        v += &diag;
                    }
                    v
                })
                .collect()
        })
        .collect();
    let mut prev = BigInt::one();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if m[k][k + 1..].iter().any(|v| !v.is_zero()) {
                return false;
            }
            continue;
        }
        for i in k + 1..n {
            for j in i..n {
                let v = (&pivot * &m[i][j] - &m[k][i] * &m[k][j]) / &prev;
                m[i][j] = v.clone();
                m[j][i] = v;
            }
        }
        prev = pivot;
    }
    true
}

/// The Gram matrix (smaller side) of W as integers over a common denominator.
pub fn gram_int(w: &[Vec<BigRational>], cols: usize) -> (Vec<Vec<BigInt>>, BigInt) {
    let g = gram(w, cols, w.len() <= cols);
    let mut den = BigInt::one();
    for x in g.iter().flatten() {
        den = den.lcm(x.denom());
    }
    let ints = g
        .iter()
        .map(|row| row.iter().map(|x| x.numer() * (&den / x.denom())).collect())
        .collect();
    (ints, den)
}
