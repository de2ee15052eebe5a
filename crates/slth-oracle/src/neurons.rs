//! An independent checker of neuron-subnetwork certificates, written from docs/FORMAT.md
//! section 13 only: the oracle's own JSON reader, ChaCha20, SHA-256 and rationals, nothing
//! of slth-checker. It follows the section's order of checks (13.4) and limits (13.5) and
//! reports the first failure with its kind and place, so that a differential test can hold
//! the trusted checker to the same answer; the loss is summed in plain rationals (the
//! checker's integer evaluation is not copied).

use crate::json::{self, Json};
use crate::numbers::{NumberProblem, parse_rational};
use crate::sha256::sha256_hex;
use crate::shape::{array, integer, members, string};
use crate::{Violation, weight};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeSet;
use std::path::Path;

/// The rule a neuron certificate breaks (the names of section 13.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NeuronKind {
    Shape,
    Header,
    NotRecomputable,
    Dimension,
    Number,
    IndexOutOfRange,
    DuplicateNeuron,
    ValueMismatch,
    ScaleNotPositive,
    LossTooSmall,
    Limit,
    SamplePath,
    SampleFile,
    SampleHash,
}

/// The oracle's answer: valid with the exact loss, or the first failure.
#[derive(Debug, Clone, PartialEq)]
pub enum NeuronAnswer {
    Valid {
        exact_loss: BigRational,
    },
    Invalid {
        kind: NeuronKind,
        place: String,
        what: String,
    },
}

impl NeuronAnswer {
    pub fn is_valid(&self) -> bool {
        matches!(self, NeuronAnswer::Valid { .. })
    }
}

/// The limits of section 13.5 with their documented defaults.
#[derive(Debug, Clone)]
pub struct NeuronLimits {
    pub file_bytes: u64,
    pub nesting: usize,
    pub number_bytes: usize,
    pub exponent: u64,
    pub dimension: u64,
    pub kept: u64,
    pub exact_bits: u64,
    pub exact_work: f64,
}

impl Default for NeuronLimits {
    fn default() -> Self {
        NeuronLimits {
            file_bytes: 1 << 30,
            nesting: 128,
            number_bytes: 10_000,
            exponent: 1000,
            dimension: 1 << 20,
            kept: 1 << 25,
            exact_bits: 1 << 18,
            exact_work: 6e8,
        }
    }
}

type Check<T> = Result<T, NeuronAnswer>;

fn fail(kind: NeuronKind, place: impl Into<String>, what: impl Into<String>) -> NeuronAnswer {
    NeuronAnswer::Invalid {
        kind,
        place: place.into(),
        what: what.into(),
    }
}

fn shape(v: Violation) -> NeuronAnswer {
    fail(NeuronKind::Shape, v.place, v.what)
}

/// The certificate as read (texts untouched).
struct Text {
    format: String,
    version: u64,
    rng: String,
    seed: String,
    d: u64,
    width: u64,
    first: String,
    second: String,
    kept: Vec<(u64, Vec<String>, String)>,
    scale: String,
    sample: SampleText,
    loss: String,
}

enum SampleText {
    Inline(Vec<Vec<String>>, Vec<String>),
    File(String, String),
    /// Neither form exactly (a Shape failure of step 2).
    Mixed,
}

/// Size, nesting, JSON: the reading of any JSON file of the format.
fn read_json(text: &str, limits: &NeuronLimits, prefix: &str) -> Check<Json> {
    if text.len() as u64 > limits.file_bytes {
        return Err(fail(
            NeuronKind::Limit,
            format!("{prefix}file"),
            "too large",
        ));
    }
    match json::parse(text, limits.nesting) {
        Ok(v) => Ok(v),
        Err(json::JsonError::TooDeep) => Err(fail(
            NeuronKind::Limit,
            format!("{prefix}text"),
            "nested too deep",
        )),
        Err(json::JsonError::Syntax(e)) => Err(fail(NeuronKind::Shape, format!("{prefix}$"), e)),
    }
}

fn strings(v: &Json, place: &str) -> Result<Vec<String>, Violation> {
    array(v, place)?
        .iter()
        .map(|x| string(x, place).map(str::to_string))
        .collect()
}

fn rows(v: &Json, place: &str) -> Result<Vec<Vec<String>>, Violation> {
    array(v, place)?.iter().map(|r| strings(r, place)).collect()
}

fn read_text(root: &Json) -> Result<Text, Violation> {
    let top = members(
        root,
        "certificate",
        &[
            "format",
            "version",
            "random_network",
            "kept",
            "scale",
            "sample",
            "loss",
        ],
        &["meta"],
    )?;
    let net = members(
        top["random_network"],
        "random_network",
        &[
            "rng",
            "seed",
            "input_dim",
            "width",
            "first_layer",
            "second_layer",
        ],
        &[],
    )?;
    let mut kept = Vec::new();
    for entry in array(top["kept"], "kept")? {
        let items = array(entry, "kept")?;
        if items.len() != 3 {
            return Err(crate::shape::schema("kept", "expected [j, [w], a]"));
        }
        kept.push((
            integer(&items[0], "kept")?,
            strings(&items[1], "kept")?,
            string(&items[2], "kept")?.to_string(),
        ));
    }
    let sample = members(
        top["sample"],
        "sample",
        &[],
        &["inputs", "targets", "file", "sha256"],
    )?;
    // Every member present must have its type (no null), whatever the form.
    let inputs = sample
        .get("inputs")
        .map(|v| rows(v, "sample"))
        .transpose()?;
    let targets = sample
        .get("targets")
        .map(|v| strings(v, "sample"))
        .transpose()?;
    let file = sample
        .get("file")
        .map(|v| string(v, "sample"))
        .transpose()?;
    let hash = sample
        .get("sha256")
        .map(|v| string(v, "sample"))
        .transpose()?;
    let sample = match (inputs, targets, file, hash) {
        (Some(i), Some(t), None, None) => SampleText::Inline(i, t),
        (None, None, Some(f), Some(h)) => SampleText::File(f.to_string(), h.to_string()),
        _ => SampleText::Mixed,
    };
    Ok(Text {
        format: string(top["format"], "format")?.to_string(),
        version: integer(top["version"], "version")?,
        rng: string(net["rng"], "random_network")?.to_string(),
        seed: string(net["seed"], "random_network")?.to_string(),
        d: integer(net["input_dim"], "random_network")?,
        width: integer(net["width"], "random_network")?,
        first: string(net["first_layer"], "random_network")?.to_string(),
        second: string(net["second_layer"], "random_network")?.to_string(),
        kept,
        scale: string(top["scale"], "scale")?.to_string(),
        sample,
        loss: string(top["loss"], "loss")?.to_string(),
    })
}

/// Section 13.3's rule for a sample file name; Some(reason) when it is broken.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("empty or longer than 255 bytes");
    }
    if name.starts_with('/') {
        return Some("absolute");
    }
    if name
        .chars()
        .any(|c| c == '\\' || c == ':' || (c as u32) < 0x20 || c as u32 == 0x7f)
        || name.chars().any(char::is_control)
    {
        return Some("a forbidden character");
    }
    if name
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Some("an empty, . or .. component");
    }
    None
}

/// Step 2 for a sample file: the rows and targets it holds.
fn sample_file(
    name: &str,
    hash: &str,
    folder: Option<&Path>,
    limits: &NeuronLimits,
) -> Check<(Vec<Vec<String>>, Vec<String>)> {
    use NeuronKind as K;
    if let Some(why) = name_problem(name) {
        return Err(fail(K::SamplePath, "sample.file", why));
    }
    if hash.len() != 64
        || !hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(fail(
            K::SampleHash,
            "sample.sha256",
            "not 64 lowercase hex digits",
        ));
    }
    let Some(folder) = folder else {
        return Err(fail(K::SampleFile, "sample.file", "no folder"));
    };
    let path = folder.join(name);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => {
            let inside = match (folder.canonicalize(), path.canonicalize()) {
                (Ok(f), Ok(p)) => p.starts_with(f),
                _ => false,
            };
            if !inside {
                return Err(fail(K::SamplePath, "sample.file", "outside the folder"));
            }
            if m.len() > limits.file_bytes {
                return Err(fail(K::Limit, "sample.file", "too large"));
            }
        }
        _ => return Err(fail(K::SampleFile, "sample.file", "not a readable file")),
    }
    let bytes =
        std::fs::read(&path).map_err(|e| fail(K::SampleFile, "sample.file", e.to_string()))?;
    if bytes.len() as u64 > limits.file_bytes {
        return Err(fail(K::Limit, "sample.file", "too large"));
    }
    if sha256_hex(&bytes) != hash {
        return Err(fail(
            K::SampleHash,
            "sample.sha256",
            "the bytes hash to another value",
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| fail(K::Shape, "sample.file", "not UTF-8"))?;
    let root = read_json(&text, limits, "sample.file ")?;
    let m = members(&root, "sample.file", &["inputs", "targets"], &[]).map_err(shape)?;
    let inputs = rows(m["inputs"], "sample.file").map_err(shape)?;
    let targets = strings(m["targets"], "sample.file").map_err(shape)?;
    Ok((inputs, targets))
}

/// A rational within the number limits of section 2.2 (a Limit failure beyond them).
fn number(text: &str, place: &str, limits: &NeuronLimits) -> Check<BigRational> {
    if text.len() > limits.number_bytes {
        return Err(fail(NeuronKind::Limit, place, "number text too long"));
    }
    if exponent_too_large(text, limits.exponent) {
        return Err(fail(NeuronKind::Limit, place, "exponent too large"));
    }
    match parse_rational(text) {
        Ok(x) => Ok(x),
        Err(NumberProblem::Limit) => Err(fail(NeuronKind::Limit, place, "beyond the limits")),
        Err(p) => Err(fail(NeuronKind::Number, place, format!("{p:?}"))),
    }
}

/// A well-formed decimal with a non-zero digit whose exponent exceeds `max` in magnitude.
fn exponent_too_large(text: &str, max: u64) -> bool {
    if text.contains('/') {
        return false;
    }
    let Some(at) = text.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exponent) = (&text[..at], &text[at + 1..]);
    if !mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        return false;
    }
    // Only a text that is otherwise a number is a limit case; a malformed one is Number.
    if parse_rational(&format!("{mantissa}e0")).is_err() {
        return false;
    }
    let digits = exponent.trim_start_matches(['+', '-']);
    if exponent.len() - digits.len() > 1
        || digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let digits = digits.trim_start_matches('0');
    digits.len() > 20 || digits.parse::<u64>().map_or(true, |e| e > max)
}

fn weight_of(key: &[u8; 32], stream: u64, index: u128) -> Option<BigRational> {
    weight(key, stream, index).map(|n| BigRational::new(n.into(), BigInt::one() << 53u32))
}

/// The verdict on a neuron certificate's text; a sample file is looked up in `folder`.
pub fn check_neuron_text(text: &str, folder: Option<&Path>, limits: &NeuronLimits) -> NeuronAnswer {
    match check(text, folder, limits) {
        Ok(loss) => NeuronAnswer::Valid { exact_loss: loss },
        Err(answer) => answer,
    }
}

/// The verdict on a neuron certificate file (its sample file looked up beside it).
pub fn check_neuron_file(path: &Path, limits: &NeuronLimits) -> NeuronAnswer {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > limits.file_bytes => {
            return fail(NeuronKind::Limit, "file", "too large");
        }
        Ok(_) => {}
        Err(e) => return fail(NeuronKind::SampleFile, "file", e.to_string()),
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return fail(NeuronKind::Shape, "file", "not UTF-8 text");
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_neuron_text(&text, Some(folder), limits)
}

fn check(text: &str, folder: Option<&Path>, limits: &NeuronLimits) -> Check<BigRational> {
    use NeuronKind as K;
    // 0. Reading.
    let root = read_json(text, limits, "")?;
    let c = read_text(&root).map_err(shape)?;

    // 1. Header.
    if c.format != "slth-neuron-certificate" {
        return Err(fail(K::Header, "format", &c.format));
    }
    if c.version != 1 {
        return Err(fail(K::Header, "version", c.version.to_string()));
    }
    if c.rng != "chacha20" {
        return Err(fail(K::Header, "random_network.rng", &c.rng));
    }
    let Some(key) = crate::numbers::seed_bytes(&c.seed) else {
        return Err(fail(K::Header, "random_network.seed", &c.seed));
    };
    match c.first.as_str() {
        "uniform-dyadic-53" => {}
        "sphere-gaussian-f64" => {
            return Err(fail(
                K::NotRecomputable,
                "random_network.first_layer",
                "sphere",
            ));
        }
        other => return Err(fail(K::Header, "random_network.first_layer", other)),
    }
    if c.second != "uniform-dyadic-53" {
        return Err(fail(K::Header, "random_network.second_layer", &c.second));
    }
    let d = c.d;
    if d > limits.dimension {
        return Err(fail(K::Limit, "random_network.input_dim", d.to_string()));
    }

    // 2. The sample.
    let (inputs, targets) = match c.sample {
        SampleText::Inline(i, t) => (i, t),
        SampleText::File(name, hash) => sample_file(&name, &hash, folder, limits)?,
        SampleText::Mixed => return Err(fail(K::Shape, "sample", "neither form")),
    };
    let n = inputs.len();
    if n as u64 > limits.dimension {
        return Err(fail(K::Limit, "sample.inputs", n.to_string()));
    }
    if n == 0 {
        return Err(fail(K::Dimension, "sample.inputs", "empty"));
    }
    if targets.len() != n {
        return Err(fail(K::Dimension, "sample.targets", "count"));
    }
    for (s, row) in inputs.iter().enumerate() {
        if row.len() as u64 != d {
            return Err(fail(K::Dimension, format!("sample.inputs[{s}]"), "length"));
        }
    }

    // 3. Kept neurons.
    if c.kept.len() as u64 > limits.kept {
        return Err(fail(K::Limit, "kept", "too many"));
    }
    let mut seen = BTreeSet::new();
    let mut neurons: Vec<(Vec<BigRational>, BigRational)> = Vec::new();
    for (e, (j, w_text, a_text)) in c.kept.iter().enumerate() {
        let j = *j;
        if j >= c.width {
            return Err(fail(
                K::IndexOutOfRange,
                format!("kept[{e}]"),
                "beyond the width",
            ));
        }
        if !seen.insert(j) {
            return Err(fail(K::DuplicateNeuron, format!("kept[{e}]"), "twice"));
        }
        if w_text.len() as u64 != d {
            return Err(fail(K::Dimension, format!("kept[{e}]"), "weights"));
        }
        let mut w = Vec::new();
        let base = u128::from(j) * u128::from(d);
        if d > 0 && base + u128::from(d) > 1u128 << 67 {
            return Err(fail(
                K::IndexOutOfRange,
                format!("kept[{e}]"),
                "beyond the keystream",
            ));
        }
        for (t, text) in w_text.iter().enumerate() {
            let place = format!("kept[{e}][1][{t}]");
            let given = number(text, &place, limits)?;
            let truth = weight_of(&key, 0, base + t as u128)
                .ok_or_else(|| fail(K::IndexOutOfRange, format!("kept[{e}]"), "keystream"))?;
            if given != truth {
                return Err(fail(K::ValueMismatch, place, "not g's weight"));
            }
            w.push(truth);
        }
        let place = format!("kept[{e}][2]");
        let given = number(a_text, &place, limits)?;
        let truth = weight_of(&key, 1, u128::from(j)).expect("j < 2^64 is in the stream");
        if given != truth {
            return Err(fail(K::ValueMismatch, place, "not g's weight"));
        }
        neurons.push((w, truth));
    }

    // 4. Numbers.
    let scale = number(&c.scale, "scale", limits)?;
    if !scale.is_positive() {
        return Err(fail(K::ScaleNotPositive, "scale", "c <= 0"));
    }
    let claimed = number(&c.loss, "loss", limits)?;
    let mut values = Vec::with_capacity(n);
    let mut widest = 0u64;
    let mut row_bits = 0u64;
    for (s, (row, y)) in inputs.iter().zip(&targets).enumerate() {
        let x = row
            .iter()
            .enumerate()
            .map(|(t, v)| number(v, &format!("sample.inputs[{s}][{t}]"), limits))
            .collect::<Check<Vec<_>>>()?;
        let y = number(y, &format!("sample.targets[{s}]"), limits)?;
        let lcm = x.iter().fold(BigInt::one(), |l, v| l.lcm(v.denom()));
        if lcm.bits() > limits.exact_bits {
            return Err(fail(K::Limit, format!("sample.inputs[{s}]"), "denominator"));
        }
        for v in &x {
            let integer = v.numer() * (&lcm / v.denom());
            widest = widest.max(integer.bits());
        }
        row_bits = row_bits.max(lcm.bits() + y.numer().bits() + y.denom().bits());
        values.push((x, y));
    }

    // 5. The work, then the loss.
    let words = (widest.saturating_add(64) / 64).max(1) as f64;
    let products = n as f64 * neurons.len() as f64 * (d as f64 + 1.0) * words;
    let b = (widest + row_bits + scale.numer().bits() + scale.denom().bits() + 128) as f64;
    let fractions = n as f64 * b * b / 8.0;
    if products + fractions > limits.exact_work {
        let place = if products >= fractions {
            "kept"
        } else {
            "sample"
        };
        return Err(fail(K::Limit, place, "work"));
    }
    // <w, x> as an unreduced fraction p/q (q > 0): sum of w_t x_t by cross-multiplying,
    // one gcd per neuron instead of one per term.
    let mut total = BigRational::zero();
    for (x, y) in &values {
        let mut g = BigRational::zero();
        for (w, a) in &neurons {
            let (mut p, mut q) = (BigInt::zero(), BigInt::one());
            for (w, x) in w.iter().zip(x) {
                let (tp, tq) = (w.numer() * x.numer(), w.denom() * x.denom());
                p = p * &tq + tp * &q;
                q *= tq;
            }
            if p.is_positive() {
                g += a * BigRational::new(p, q);
            }
        }
        let r = &scale * g - y;
        total += &r * &r;
    }
    let loss = total / BigRational::from_integer(BigInt::from(n));
    if loss > claimed {
        return Err(fail(K::LossTooSmall, "loss", "below the exact loss"));
    }
    Ok(loss)
}
