//! Neuron-subnetwork certificates (docs/FORMAT.md section 13): the second theorem of
//! Malach et al., made checkable.
//!
//! g is a random two-layer network `g(x) = sum_j a_j ReLU(<w_j, x>)` of width k on R^d,
//! drawn from a seed with the sampler of docs/FORMAT.md section 4 (`w_j[t]` from stream 0
//! at index `j d + t`, `a_j` from stream 1 at index j: exactly the first block of the
//! weight-subnetwork g of a one-output target). A neuron subnetwork g~ keeps whole hidden
//! neurons (every weight of a kept neuron unchanged, every other neuron removed), and the
//! certificate claims that `c g~` has empirical squared loss at most L on a sample given
//! inline or in a file beside the certificate, named by the SHA-256 of its bytes (section
//! 13.3.1; hashed with the `sha2` crate before it is read):
//!
//! ```text
//!     (1/n) sum over s of (c g~(x_s) - y_s)^2  <=  L
//! ```
//!
//! The checker recomputes every kept weight from the seed, compares it exactly with the
//! value written, and computes the loss exactly in rationals, within the resource
//! [`Limits`] of the weight-subnetwork certificates. It shares nothing with that checker
//! but the sampler, the number parser and the limits.

use crate::certificate::{Limits, Rational};
use crate::numbers::{self, abbreviate};
use crate::sampler::{Seed, StreamReader, WEIGHT_SCALE};
use crate::verdict::{Failure, Verdict};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// `format` of a neuron-subnetwork certificate.
pub const NEURON_FORMAT_NAME: &str = "slth-neuron-certificate";
/// The one version of the format.
pub const NEURON_FORMAT_VERSION: u64 = 1;
/// The distribution of each weight of g: the sampler's odd multiples of 2^-53 in (-1, 1).
pub const UNIFORM_LAYER: &str = "uniform-dyadic-53";
/// The approximate unit-sphere first layer of `slth neurons --first-layer sphere`
/// (Box-Muller in f64, then normalised): named so that a certificate using it is rejected
/// with the reason, since no verifier can recompute its weights exactly.
pub const SPHERE_LAYER: &str = "sphere-gaussian-f64";
/// The stream of the first-layer weights `w_j[t]` (index `j d + t`).
pub const INPUT_STREAM: u64 = 0;
/// The stream of the output weights `a_j` (index `j`).
pub const OUTPUT_STREAM: u64 = 1;
/// Indices a stream holds: 2^64 blocks of 8 weights.
const STREAM_WEIGHTS: u128 = 1 << 67;

/// The index of `w_j[t]` in [`INPUT_STREAM`] for input dimension `d`, or None when it lies
/// beyond the keystream's 2^67 weights.
pub fn input_index(d: u64, j: u64, t: u64) -> Option<u128> {
    let index = u128::from(j)
        .checked_mul(u128::from(d))?
        .checked_add(u128::from(t))?;
    (index < STREAM_WEIGHTS).then_some(index)
}

/// The numerators over 2^53 of `w_j[0..d]` (None beyond the keystream).
pub fn input_weights(seed: &Seed, d: u64, j: u64) -> Option<Vec<i64>> {
    let mut reader = StreamReader::new(*seed, INPUT_STREAM);
    (0..d)
        .map(|t| reader.numerator_at(input_index(d, j, t)?))
        .collect()
}

/// The numerator over 2^53 of `a_j`.
pub fn output_weight(seed: &Seed, j: u64) -> i64 {
    StreamReader::new(*seed, OUTPUT_STREAM).numerator(j)
}

// ---------------------------------------------------------------------------------------
// The file

/// A neuron-subnetwork certificate as written (rationals stay text until checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronCertificate {
    pub format: String,
    pub version: u64,
    pub random_network: NeuronNetwork,
    /// `[j, [w_j[0], ..., w_j[d-1]], a_j]` for each kept hidden neuron j.
    pub kept: Vec<(u64, Vec<Rational>, Rational)>,
    /// c > 0
    pub scale: Rational,
    pub sample: Sample,
    /// The claimed bound L on the empirical squared loss of c g~.
    pub loss: Rational,
    /// Free-form; a verifier ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// How to regenerate g.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronNetwork {
    pub rng: String,
    pub seed: String,
    pub input_dim: u64,
    pub width: u64,
    pub first_layer: String,
    pub second_layer: String,
}

/// The `sample` member as written: inline (`inputs` and `targets`) or a reference to a
/// file in the certificate's folder (`file` and `sha256`, docs/FORMAT.md section 13.3);
/// exactly one of the two forms, checked by [`verify_neuron_in`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Vec<Vec<Rational>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Rational>>,
    /// The sample file's name, relative to the certificate's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The SHA-256 of the sample file's bytes, 64 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Sample {
    /// An inline sample.
    pub fn inline(data: SampleData) -> Sample {
        Sample {
            inputs: Some(data.inputs),
            targets: Some(data.targets),
            file: None,
            sha256: None,
        }
    }

    /// A reference to the sample file `file` whose bytes hash to `sha256`.
    pub fn reference(file: String, sha256: String) -> Sample {
        Sample {
            inputs: None,
            targets: None,
            file: Some(file),
            sha256: Some(sha256),
        }
    }
}

/// The sample the loss is measured on: n rows of d rationals, and n targets. Also the
/// whole content of a sample file (one closed JSON object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleData {
    pub inputs: Vec<Vec<Rational>>,
    pub targets: Vec<Rational>,
}

/// What kind of rule a rejected neuron certificate breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeuronRejectionKind {
    /// Not JSON of the certificate's shape (missing or unknown key, wrong type).
    Shape,
    /// Wrong `format`, `version`, `rng`, layer distribution or seed text.
    Header,
    /// A first layer no verifier can recompute exactly (`sphere-gaussian-f64`).
    NotRecomputable,
    /// A row or weight list of the wrong length, a target count that is not n, no sample.
    Dimension,
    /// A rational that does not parse.
    Number,
    /// A kept neuron at or beyond the width, or beyond the keystream.
    IndexOutOfRange,
    /// A neuron listed twice.
    DuplicateNeuron,
    /// A kept weight that is not g's.
    ValueMismatch,
    /// c <= 0.
    ScaleNotPositive,
    /// The exact loss exceeds the claim.
    LossTooSmall,
    /// A resource limit.
    Limit,
    /// A sample file name that is not a plain relative path inside the certificate's
    /// folder (absolute, a `..` or `.` component, a forbidden character, a link out).
    SamplePath,
    /// A sample file that cannot be found or read.
    SampleFile,
    /// A `sha256` that is not 64 lowercase hex digits, or is not the hash of the file.
    SampleHash,
}

/// Why a neuron certificate is rejected, and where (a JSON path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuronRejection {
    pub kind: NeuronRejectionKind,
    pub place: String,
    pub detail: String,
}

impl std::fmt::Display for NeuronRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.detail)
    }
}

impl std::error::Error for NeuronRejection {}

fn reject(
    kind: NeuronRejectionKind,
    place: impl Into<String>,
    detail: impl Into<String>,
) -> NeuronRejection {
    NeuronRejection {
        kind,
        place: place.into(),
        detail: detail.into(),
    }
}

/// Parses a neuron certificate within `limits`: the text's size and nesting first, then
/// the schema (every object closed, duplicate keys refused, objects never given as arrays,
/// no `null` in `sample`).
pub fn parse_neuron(text: &str, limits: &Limits) -> Result<NeuronCertificate, NeuronRejection> {
    parse_closed(text, limits, "", "neuron certificate", |value| {
        let sample = value.get("sample");
        let objects = [
            ("certificate", Some(value)),
            ("random_network", value.get("random_network")),
            ("sample", sample),
        ];
        for (place, object) in objects {
            if object.is_some_and(|v| !v.is_object()) {
                return Err(reject(
                    NeuronRejectionKind::Shape,
                    place,
                    "must be a JSON object",
                ));
            }
        }
        if let Some(Value::Object(members)) = sample
            && let Some((key, _)) = members.iter().find(|(_, v)| v.is_null())
        {
            return Err(reject(
                NeuronRejectionKind::Shape,
                format!("sample.{}", abbreviate(key)),
                "null where the format has a value (leave the key out instead)",
            ));
        }
        Ok(())
    })
}

/// Reads one closed JSON object of type T from `text` within `limits`: size, nesting (both
/// Limit), JSON syntax, `objects` (a check of the untyped value that tells objects from
/// arrays, since serde would read a struct from an array of its fields), then the typed
/// read, which refuses unknown and duplicate keys. `prefix` starts every place.
fn parse_closed<T: serde::de::DeserializeOwned>(
    text: &str,
    limits: &Limits,
    prefix: &str,
    what: &str,
    objects: impl FnOnce(&Value) -> Result<(), NeuronRejection>,
) -> Result<T, NeuronRejection> {
    let bytes = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if bytes > limits.max_file_bytes {
        return Err(reject(
            NeuronRejectionKind::Limit,
            format!("{prefix}file"),
            format!(
                "{bytes} bytes exceed the limit of {} bytes (--max-file-size)",
                limits.max_file_bytes
            ),
        ));
    }
    if let Some(at) = too_deep(text.as_bytes(), limits.max_nesting) {
        return Err(reject(
            NeuronRejectionKind::Limit,
            format!("{prefix}text"),
            format!(
                "arrays and objects nested deeper than {} at byte {at} (--max-nesting)",
                limits.max_nesting
            ),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        reject(
            NeuronRejectionKind::Shape,
            format!("{prefix}line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    objects(&value).map_err(|mut r| {
        r.place = format!("{prefix}{}", r.place);
        r
    })?;
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends the position, which the place carries.
        let at = format!("line {} column {}", e.line(), e.column());
        let message = e.to_string();
        let message = message
            .strip_suffix(&format!(" at {at}"))
            .unwrap_or(&message)
            .to_string();
        reject(
            NeuronRejectionKind::Shape,
            format!("{prefix}{at}"),
            format!("not a valid {what}: {message}"),
        )
    })
}

/// The byte at which JSON arrays and objects (outside strings) nest deeper than `max`.
fn too_deep(text: &[u8], max: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &b) in text.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > max {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The `format` of a JSON file, read without keeping the rest (None if the file cannot be
/// read, is larger than `limits` allow, or has no string `format`).
pub fn format_of_file(path: &Path, limits: &Limits) -> Option<String> {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
    }
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > limits.max_file_bytes {
        return None;
    }
    let head: Head = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    head.format
}

// ---------------------------------------------------------------------------------------
// The check

/// What a valid neuron certificate proves, with the exact numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronReport {
    pub seed: String,
    pub input_dim: u64,
    pub width: u64,
    /// The kept neurons, ascending.
    pub kept: Vec<u64>,
    pub scale: BigRational,
    pub samples: usize,
    /// The exact empirical squared loss of c g~.
    pub exact_loss: BigRational,
    /// The claim L >= exact_loss.
    pub claimed_loss: BigRational,
}

impl NeuronReport {
    /// The proven statement and its numbers.
    pub fn render_text(&self) -> String {
        format!(
            "VALID: a neuron subnetwork g~ of the random 2-layer network g (seed {}, input \
             dimension {}, width {}, both layers uniform-dyadic-53) keeping {} neurons, scaled \
             by c = {} (~{:.6e}), has empirical squared loss (1/n) sum (c g~(x_s) - y_s)^2 \
             = {:.6e} <= {} on the certificate's {} samples\n",
            self.seed,
            self.input_dim,
            self.width,
            self.kept.len(),
            numbers::format_rational(&self.scale),
            numbers::rational_to_f64(&self.scale),
            numbers::rational_to_f64(&self.exact_loss),
            numbers::format_rational(&self.claimed_loss),
            self.samples,
        )
    }

    /// The report as one JSON object (`"verdict": "valid"`).
    pub fn to_json(&self) -> Value {
        json!({
            "verdict": "valid",
            "format": NEURON_FORMAT_NAME,
            "seed": self.seed,
            "input_dim": self.input_dim,
            "width": self.width,
            "kept_neurons": self.kept.len(),
            "scale": numbers::format_rational(&self.scale),
            "samples": self.samples,
            "exact_loss": numbers::format_rational(&self.exact_loss),
            "exact_loss_f64": numbers::rational_to_f64(&self.exact_loss),
            "claimed_loss": numbers::format_rational(&self.claimed_loss),
        })
    }
}

fn parse_number(
    text: &Rational,
    place: impl FnOnce() -> String,
    limits: &Limits,
) -> Result<BigRational, NeuronRejection> {
    numbers::parse_rational_bounded(&text.0, limits.max_number_chars, limits.max_exponent).map_err(
        |e| match e {
            numbers::NumberError::TooLong { .. } => {
                reject(NeuronRejectionKind::Limit, place(), e.to_string())
            }
            numbers::NumberError::ExponentTooLarge(..) => reject(
                NeuronRejectionKind::Limit,
                place(),
                format!("{e} (--max-exponent)"),
            ),
            e => reject(NeuronRejectionKind::Number, place(), e.to_string()),
        },
    )
}

/// A kept value against g's weight with numerator `numerator` over 2^53.
fn check_weight(
    text: &Rational,
    numerator: i64,
    place: impl Fn() -> String,
    what: impl FnOnce() -> String,
    limits: &Limits,
) -> Result<(), NeuronRejection> {
    let value = parse_number(text, &place, limits)?;
    let expected = BigRational::new(numerator.into(), WEIGHT_SCALE.into());
    if value == expected {
        return Ok(());
    }
    Err(reject(
        NeuronRejectionKind::ValueMismatch,
        place(),
        format!(
            "{} given for {} is not g's weight {} (~{})",
            abbreviate(&text.0),
            what(),
            numbers::format_rational(&expected),
            expected.to_f64().unwrap_or(f64::NAN),
        ),
    ))
}

/// Checks a neuron certificate with the default [`Limits`] (an inline sample only: a
/// sample file needs the certificate's folder, see [`verify_neuron_in`]).
pub fn verify_neuron(certificate: &NeuronCertificate) -> Result<NeuronReport, NeuronRejection> {
    verify_neuron_with(certificate, &Limits::default())
}

/// Checks a neuron certificate whose sample is inline; a sample file is rejected
/// (`SampleFile`), since there is no folder to find it in.
pub fn verify_neuron_with(
    c: &NeuronCertificate,
    limits: &Limits,
) -> Result<NeuronReport, NeuronRejection> {
    verify_neuron_in(c, None, limits)
}

/// The longest sample file name accepted, in bytes.
pub const MAX_SAMPLE_NAME_BYTES: usize = 255;

/// Why `name` is not an acceptable sample file name (docs/FORMAT.md section 13.3): it must
/// be a relative path of `/`-separated components, each non-empty and neither `.` nor
/// `..`, of at most [`MAX_SAMPLE_NAME_BYTES`] bytes without `\\`, `:` or control characters.
pub fn sample_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if name.len() > MAX_SAMPLE_NAME_BYTES {
        return Some(format!(
            "the name has {} bytes, more than {MAX_SAMPLE_NAME_BYTES}",
            name.len()
        ));
    }
    if name.starts_with('/') {
        return Some(format!(
            "{:?} is an absolute path; the name must be relative to the certificate's folder",
            abbreviate(name)
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| c == '\\' || c == ':' || c.is_control())
    {
        return Some(format!(
            "{:?} holds the character {c:?}, which a sample file name may not hold",
            abbreviate(name)
        ));
    }
    for component in name.split('/') {
        match component {
            ".." => {
                return Some(format!(
                    "{:?} has a \"..\" component, which would leave the certificate's folder",
                    abbreviate(name)
                ));
            }
            "." | "" => {
                return Some(format!(
                    "{:?} has an empty or \".\" component",
                    abbreviate(name)
                ));
            }
            _ => {}
        }
    }
    None
}

/// Whether `text` is a SHA-256 as the format writes it: 64 lowercase hex digits.
fn is_sha256_text(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write as _;
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The sample of `c`: inline, or read from its file in `folder` (docs/FORMAT.md section
/// 13.4, step 2): the form; the name; the hash text; the file found, inside the folder and
/// within the size limit; its bytes hashed and compared; then read as a closed
/// `{"inputs": ..., "targets": ...}` object within the limits.
fn resolve_sample<'a>(
    sample: &'a Sample,
    folder: Option<&Path>,
    limits: &Limits,
) -> Result<Resolved<'a>, NeuronRejection> {
    use NeuronRejectionKind as K;
    let (name, hash) = match sample {
        Sample {
            inputs: Some(inputs),
            targets: Some(targets),
            file: None,
            sha256: None,
        } => {
            return Ok(Resolved::Inline(inputs, targets));
        }
        Sample {
            inputs: None,
            targets: None,
            file: Some(name),
            sha256: Some(hash),
        } => (name, hash),
        _ => {
            return Err(reject(
                K::Shape,
                "sample",
                "give either \"inputs\" and \"targets\" (inline) or \"file\" and \"sha256\" \
                 (a sample file), nothing else",
            ));
        }
    };
    if let Some(problem) = sample_name_problem(name) {
        return Err(reject(K::SamplePath, "sample.file", problem));
    }
    if !is_sha256_text(hash) {
        return Err(reject(
            K::SampleHash,
            "sample.sha256",
            format!("{:?} is not 64 lowercase hex digits", abbreviate(hash)),
        ));
    }
    let Some(folder) = folder else {
        return Err(reject(
            K::SampleFile,
            "sample.file",
            format!(
                "{:?}: a sample file is looked up in the certificate's folder, and this \
                 certificate was not read from a file",
                name
            ),
        ));
    };
    let path = folder.join(name);
    let missing = |e: std::io::Error| {
        reject(
            K::SampleFile,
            "sample.file",
            format!("{:?} cannot be read next to the certificate: {e}", name),
        )
    };
    let metadata = std::fs::metadata(&path).map_err(missing)?;
    if !metadata.is_file() {
        return Err(reject(
            K::SampleFile,
            "sample.file",
            format!("{:?} is not a regular file", name),
        ));
    }
    // A symbolic link may not lead out of the folder.
    let inside = match (folder.canonicalize(), path.canonicalize()) {
        (Ok(folder), Ok(file)) => file.starts_with(folder),
        _ => false,
    };
    if !inside {
        return Err(reject(
            K::SamplePath,
            "sample.file",
            format!(
                "{:?} resolves to a file outside the certificate's folder",
                name
            ),
        ));
    }
    let too_big = |size: u64| {
        reject(
            K::Limit,
            "sample.file",
            format!(
                "{:?} has {size} bytes, more than the limit of {} bytes (--max-file-size)",
                name, limits.max_file_bytes
            ),
        )
    };
    if metadata.len() > limits.max_file_bytes {
        return Err(too_big(metadata.len()));
    }
    // Read at most one byte past the limit, in case the file grew since.
    let mut bytes = Vec::new();
    {
        use std::io::Read as _;
        let file = std::fs::File::open(&path).map_err(missing)?;
        file.take(limits.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(missing)?;
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > limits.max_file_bytes {
        return Err(too_big(size));
    }
    let actual = sha256_hex(&bytes);
    if actual != *hash {
        return Err(reject(
            K::SampleHash,
            "sample.sha256",
            format!(
                "{:?} hashes to {actual}, not to the {hash} the certificate names",
                name
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        reject(
            K::Shape,
            "sample.file",
            format!("{:?} is not UTF-8 text: {e}", name),
        )
    })?;
    let data: SampleData = parse_closed(&text, limits, "sample.file ", "sample file", |value| {
        if value.is_object() {
            Ok(())
        } else {
            Err(reject(K::Shape, "", "must be a JSON object"))
        }
    })?;
    Ok(Resolved::File(data))
}

/// A sample as the check reads it: borrowed from the certificate, or read from its file.
enum Resolved<'a> {
    Inline(&'a [Vec<Rational>], &'a [Rational]),
    File(SampleData),
}

impl Resolved<'_> {
    fn parts(&self) -> (&[Vec<Rational>], &[Rational]) {
        match self {
            Resolved::Inline(inputs, targets) => (inputs, targets),
            Resolved::File(data) => (&data.inputs, &data.targets),
        }
    }
}

/// Checks a neuron certificate (docs/FORMAT.md section 13.4, in that order): header and
/// random network; the sample (inline, or its file looked up in `folder` and its hash
/// compared) and its dimensions; every kept neuron (index, duplicates, every weight
/// recomputed from the seed); c > 0; the size of the exact computation against `limits`;
/// the exact loss against the claim.
pub fn verify_neuron_in(
    c: &NeuronCertificate,
    folder: Option<&Path>,
    limits: &Limits,
) -> Result<NeuronReport, NeuronRejection> {
    use NeuronRejectionKind as K;
    if c.format != NEURON_FORMAT_NAME {
        return Err(reject(
            K::Header,
            "format",
            format!("{:?} is not {NEURON_FORMAT_NAME:?}", abbreviate(&c.format)),
        ));
    }
    if c.version != NEURON_FORMAT_VERSION {
        return Err(reject(
            K::Header,
            "version",
            format!("version {} is not {NEURON_FORMAT_VERSION}", c.version),
        ));
    }
    let net = &c.random_network;
    if net.rng != "chacha20" {
        return Err(reject(
            K::Header,
            "random_network.rng",
            format!("{:?} is not \"chacha20\"", abbreviate(&net.rng)),
        ));
    }
    let seed = Seed::from_hex(&net.seed)
        .map_err(|e| reject(K::Header, "random_network.seed", e.to_string()))?;
    match net.first_layer.as_str() {
        UNIFORM_LAYER => {}
        SPHERE_LAYER => {
            return Err(reject(
                K::NotRecomputable,
                "random_network.first_layer",
                format!(
                    "{SPHERE_LAYER:?} weights come from f64 logarithms, cosines and square roots, \
                     which no verifier can recompute exactly; certificates need {UNIFORM_LAYER:?}"
                ),
            ));
        }
        other => {
            return Err(reject(
                K::Header,
                "random_network.first_layer",
                format!("{:?} is not {UNIFORM_LAYER:?}", abbreviate(other)),
            ));
        }
    }
    if net.second_layer != UNIFORM_LAYER {
        return Err(reject(
            K::Header,
            "random_network.second_layer",
            format!(
                "{:?} is not {UNIFORM_LAYER:?}",
                abbreviate(&net.second_layer)
            ),
        ));
    }
    let d = net.input_dim;
    if d > limits.max_dimension {
        return Err(reject(
            K::Limit,
            "random_network.input_dim",
            format!(
                "{d} exceeds the limit of {} (--max-dimension)",
                limits.max_dimension
            ),
        ));
    }
    let d_len = usize::try_from(d).unwrap_or(usize::MAX);

    // The sample.
    let resolved = resolve_sample(&c.sample, folder, limits)?;
    let (inputs, targets) = resolved.parts();
    let n = inputs.len();
    if u64::try_from(n).unwrap_or(u64::MAX) > limits.max_dimension {
        return Err(reject(
            K::Limit,
            "sample.inputs",
            format!(
                "{n} samples exceed the limit of {} (--max-dimension)",
                limits.max_dimension
            ),
        ));
    }
    if n == 0 {
        return Err(reject(
            K::Dimension,
            "sample.inputs",
            "the sample is empty (the loss is an average over it)",
        ));
    }
    if targets.len() != n {
        return Err(reject(
            K::Dimension,
            "sample.targets",
            format!("{} targets for {n} inputs", targets.len()),
        ));
    }
    for (s, row) in inputs.iter().enumerate() {
        if row.len() != d_len {
            return Err(reject(
                K::Dimension,
                format!("sample.inputs[{s}]"),
                format!("{} entries, but input_dim is {d}", row.len()),
            ));
        }
    }

    // The kept neurons.
    let kept_count = u64::try_from(c.kept.len()).unwrap_or(u64::MAX);
    if kept_count > limits.max_kept_entries {
        return Err(reject(
            K::Limit,
            "kept",
            format!(
                "{kept_count} kept neurons exceed the limit of {} (--max-kept-entries)",
                limits.max_kept_entries
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut neurons: Vec<(Vec<i64>, i64)> = Vec::with_capacity(c.kept.len());
    for (e, (j, weights, a)) in c.kept.iter().enumerate() {
        let j = *j;
        if j >= net.width {
            return Err(reject(
                K::IndexOutOfRange,
                format!("kept[{e}]"),
                format!("neuron {j} is not below the width {}", net.width),
            ));
        }
        if !seen.insert(j) {
            return Err(reject(
                K::DuplicateNeuron,
                format!("kept[{e}]"),
                format!("neuron {j} is listed twice"),
            ));
        }
        if weights.len() != d_len {
            return Err(reject(
                K::Dimension,
                format!("kept[{e}]"),
                format!("{} input weights, but input_dim is {d}", weights.len()),
            ));
        }
        let Some(w) = input_weights(&seed, d, j) else {
            return Err(reject(
                K::IndexOutOfRange,
                format!("kept[{e}]"),
                format!("the weights of neuron {j} lie beyond the keystream's 2^67 weights"),
            ));
        };
        for (t, (text, &numerator)) in weights.iter().zip(&w).enumerate() {
            check_weight(
                text,
                numerator,
                || format!("kept[{e}][1][{t}]"),
                || format!("w_{j}[{t}]"),
                limits,
            )?;
        }
        let a_j = output_weight(&seed, j);
        check_weight(
            a,
            a_j,
            || format!("kept[{e}][2]"),
            || format!("a_{j}"),
            limits,
        )?;
        neurons.push((w, a_j));
    }

    // The numbers.
    let scale = parse_number(&c.scale, || "scale".into(), limits)?;
    if !scale.is_positive() {
        return Err(reject(
            K::ScaleNotPositive,
            "scale",
            format!(
                "c = {} is not positive (the theorem's c > 0)",
                numbers::format_rational(&scale)
            ),
        ));
    }
    let claimed = parse_number(&c.loss, || "loss".into(), limits)?;
    let mut rows = Vec::with_capacity(n);
    for (s, (row, y)) in inputs.iter().zip(targets).enumerate() {
        let values = row
            .iter()
            .enumerate()
            .map(|(t, x)| parse_number(x, || format!("sample.inputs[{s}][{t}]"), limits))
            .collect::<Result<Vec<_>, _>>()?;
        let y = parse_number(y, || format!("sample.targets[{s}]"), limits)?;
        rows.push((common_denominator(&values, s, limits)?, y));
    }

    // The size of the exact computation (docs/FORMAT.md section 13.5): every kept neuron's
    // dot product with every row, and the rational arithmetic of each row's residual, whose
    // gcds cost about B^2/64 word operations each (about 8 per row) on B-bit numbers.
    let widest = rows
        .iter()
        .map(|((integers, _), _)| integers.iter().map(BigInt::bits).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let row_bits = rows
        .iter()
        .map(|((_, denominator), y)| {
            denominator
                .bits()
                .saturating_add(y.numer().bits())
                .saturating_add(y.denom().bits())
        })
        .max()
        .unwrap_or(0);
    let residual_bits = widest
        .saturating_add(row_bits)
        .saturating_add(scale.numer().bits())
        .saturating_add(scale.denom().bits())
        .saturating_add(128) as f64;
    let words = (widest.saturating_add(64) / 64).max(1) as f64;
    let products = n as f64 * c.kept.len() as f64 * (d as f64 + 1.0) * words;
    let fractions = n as f64 * residual_bits * residual_bits / 8.0;
    let work = products + fractions;
    if work > limits.max_exact_work {
        let detail = if products >= fractions {
            format!(
                "{n} samples x {} kept neurons x {} weights",
                c.kept.len(),
                d.saturating_add(1)
            )
        } else {
            format!("{n} samples with {residual_bits}-bit residuals")
        };
        return Err(reject(
            K::Limit,
            if products >= fractions {
                "kept"
            } else {
                "sample"
            },
            format!(
                "the exact loss needs about {work:.3e} word operations ({detail}), above the \
                 limit of {:.3e} (--max-exact-work)",
                limits.max_exact_work
            ),
        ));
    }

    // The loss, exactly.
    let exact = exact_loss(&neurons, &scale, &rows);
    if exact > claimed {
        return Err(reject(
            K::LossTooSmall,
            "loss",
            format!(
                "the claimed loss {} (~{:.6e}) is below the exact empirical loss {:.9e}",
                abbreviate(&c.loss.0),
                numbers::rational_to_f64(&claimed),
                numbers::rational_to_f64(&exact),
            ),
        ));
    }
    Ok(NeuronReport {
        seed: seed.to_hex(),
        input_dim: d,
        width: net.width,
        kept: seen.into_iter().collect(),
        scale,
        samples: n,
        exact_loss: exact,
        claimed_loss: claimed,
    })
}

/// A row as integers over their least common denominator, which must stay within
/// `--max-exact-bits`.
fn common_denominator(
    values: &[BigRational],
    s: usize,
    limits: &Limits,
) -> Result<(Vec<BigInt>, BigInt), NeuronRejection> {
    let mut denominator = BigInt::one();
    for x in values {
        denominator = denominator.lcm(x.denom());
        if denominator.bits() > limits.max_exact_bits {
            return Err(reject(
                NeuronRejectionKind::Limit,
                format!("sample.inputs[{s}]"),
                format!(
                    "the common denominator of the row exceeds {} bits (--max-exact-bits)",
                    limits.max_exact_bits
                ),
            ));
        }
    }
    let integers = values
        .iter()
        .map(|x| x.numer() * (&denominator / x.denom()))
        .collect();
    Ok((integers, denominator))
}

/// `(1/n) sum_s (c g~(x_s) - y_s)^2` exactly, each row being integers X over D: then
/// `<w_j, x_s> = sum_t W_j[t] X_t / (2^53 D)` and `g~(x_s) = sum_j A_j ReLU(Z_j) / (2^106 D)`
/// with the integer `Z_j = sum_t W_j[t] X_t`.
pub fn exact_loss(
    neurons: &[(Vec<i64>, i64)],
    scale: &BigRational,
    rows: &[((Vec<BigInt>, BigInt), BigRational)],
) -> BigRational {
    let mut total = BigRational::zero();
    for ((x, denominator), y) in rows {
        let mut sum = BigInt::zero();
        for (w, a) in neurons {
            let z: BigInt = w.iter().zip(x).map(|(&w, x)| x * w).sum();
            if z.is_positive() {
                sum += z * a;
            }
        }
        let scaled_denominator: BigInt = denominator << 106u32;
        let output = BigRational::new(sum, scaled_denominator) * scale;
        let residual = output - y;
        total += &residual * &residual;
    }
    let n = BigInt::from(rows.len().max(1));
    total / BigRational::from_integer(n)
}

// ---------------------------------------------------------------------------------------
// The verdict

/// `slth verify` on a neuron certificate: the report, or the checker's verdict on why not
/// (INVALID, REFUSED or unreadable, with the exit codes of [`Verdict`]).
#[derive(Debug, Clone)]
pub enum NeuronVerdict {
    Valid(Box<NeuronReport>),
    Failed(Verdict),
}

impl NeuronVerdict {
    pub fn exit_code(&self) -> u8 {
        match self {
            NeuronVerdict::Valid(_) => crate::verdict::EXIT_VALID,
            NeuronVerdict::Failed(v) => v.exit_code(),
        }
    }
}

/// Turns a rejection into the verdict of the weight-subnetwork checker's vocabulary.
pub fn verdict_of(file: &str, rejection: NeuronRejection) -> Verdict {
    let failure = Failure {
        file: file.to_string(),
        place: rejection.place,
        reason: rejection.detail,
    };
    match rejection.kind {
        NeuronRejectionKind::Limit => Verdict::Refused(failure),
        _ => Verdict::Invalid(failure),
    }
}

/// Reads and checks a neuron certificate file within `limits`.
pub fn judge_file(path: &Path, limits: &Limits) -> NeuronVerdict {
    let file = path.display().to_string();
    let unreadable = |reason: String| {
        NeuronVerdict::Failed(Verdict::Unreadable(Failure {
            file: file.clone(),
            place: "file".into(),
            reason,
        }))
    };
    let size = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return unreadable("is a directory".into()),
        Ok(m) => m.len(),
        Err(e) => return unreadable(format!("cannot be read: {e}")),
    };
    if size > limits.max_file_bytes {
        return NeuronVerdict::Failed(verdict_of(
            &file,
            reject(
                NeuronRejectionKind::Limit,
                "file",
                format!(
                    "file of {size} bytes exceeds the limit of {} bytes (--max-file-size)",
                    limits.max_file_bytes
                ),
            ),
        ));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return unreadable(format!("cannot be read: {e}")),
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match parse_neuron(&text, limits).and_then(|c| verify_neuron_in(&c, Some(folder), limits)) {
        Ok(report) => NeuronVerdict::Valid(Box::new(report)),
        Err(r) => NeuronVerdict::Failed(verdict_of(&file, r)),
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_the_first_block_of_the_weight_subnetwork_g() {
        let seed = Seed::from_u64(42);
        // d = 3: w_j[t] is U_1[j][t] (stream 0, index 3 j + t), a_j is V_1[0][j].
        let w = input_weights(&seed, 3, 2).unwrap();
        for (t, &numerator) in w.iter().enumerate() {
            assert_eq!(
                numerator,
                crate::sampler::sample_numerator(&seed, 0, 6 + t as u64)
            );
        }
        assert_eq!(
            output_weight(&seed, 0),
            crate::sampler::sample_numerator(&seed, 1, 0)
        );
        assert_eq!(input_index(1 << 20, u64::MAX, 0), None);
    }

    #[test]
    fn the_loss_is_exact() {
        // One neuron w = (1/2), a = 1/4 (as numerators over 2^53), c = 2, x = 1, y = 0:
        // c a ReLU(w x) = 2 * 1/4 * 1/2 = 1/4, loss 1/16.
        let half = WEIGHT_SCALE / 2;
        let quarter = WEIGHT_SCALE / 4;
        let rows = vec![((vec![BigInt::one()], BigInt::one()), BigRational::zero())];
        let loss = exact_loss(
            &[(vec![half], quarter)],
            &BigRational::from_integer(2.into()),
            &rows,
        );
        assert_eq!(loss, BigRational::new(1.into(), 16.into()));
        // x = -1: the neuron is off, the loss is y^2 = 0.
        let rows = vec![((vec![-BigInt::one()], BigInt::one()), BigRational::zero())];
        let loss = exact_loss(
            &[(vec![half], quarter)],
            &BigRational::from_integer(2.into()),
            &rows,
        );
        assert!(loss.is_zero());
    }

    #[test]
    fn nesting_is_counted_outside_strings() {
        assert_eq!(too_deep(br#"[[1]]"#, 2), None);
        assert_eq!(too_deep(br#"[[[1]]]"#, 2), Some(2));
        assert_eq!(too_deep(br#"["[[[\"[["]"#, 1), None);
    }
}
