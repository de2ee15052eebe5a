//! The certificate file (spec section 6): serde types, loading and deterministic writing.
//!
//! Rationals stay text here (`Rational`); whoever uses a field parses it and names the place
//! when it is malformed. Every struct rejects unknown fields and must be a JSON object
//! (serde would also take an array of its values); only `meta` is free-form.
//!
//! Reading enforces the size limits of [`Limits`] while the file streams in: a file over
//! `max_file_bytes`, nesting deeper than `max_nesting`, more layers, rows, columns or kept
//! entries than allowed, or a witness larger than `max_witness_side` stops the reader at
//! that point, so a hostile file never makes slth hold much more than its limits. (Number
//! lengths are checked by `verify`, which names the place.) Nothing in this module checks
//! mathematics.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::fmt::Write as _;
use std::io::Read;
use std::marker::PhantomData;

pub const FORMAT_NAME: &str = "slth-certificate";
pub const FORMAT_VERSION: u64 = 1;
pub const RNG_NAME: &str = "chacha20";
pub const DISTRIBUTION_NAME: &str = "uniform-dyadic-53";

/// Resource limits on reading and checking a certificate. Every default is generous for
/// real networks (a 784-500-10 certificate with 2.2 million kept weights is far inside
/// them) and each one is a flag of `slth verify`, `inspect` and `eval`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Bytes of the certificate file (`--max-file-size`).
    pub max_file_bytes: u64,
    /// Depth of nested JSON arrays and objects (`--max-nesting`; serde_json stops at 128
    /// whatever this says).
    pub max_nesting: usize,
    /// Characters of one rational's text (`--max-number-length`).
    pub max_number_chars: usize,
    /// Target layers, and so hidden widths, ticket blocks and bound blocks (`--max-layers`).
    pub max_layers: usize,
    /// input_dim, rows of a weight matrix and entries of a row (`--max-dimension`).
    /// Hidden widths are not limited: the checker never allocates in proportion to them.
    pub max_dimension: u64,
    /// Kept entries (hidden plus output, all blocks together) (`--max-kept-entries`).
    pub max_kept_entries: u64,
    /// Side of a spectral witness factor (`--max-witness-side`).
    pub max_witness_side: usize,
    /// Largest Gram side for which a `"spectral"` claim without witness is checked by
    /// exact elimination (`--max-elimination-side`).
    pub max_elimination_side: usize,
    /// Bits of a common denominator the exact check computes (of a layer's weights, of a
    /// witness), and of the numbers of the chain e_1..e_l (`--max-exact-bits`).
    pub max_exact_bits: u64,
    /// Estimated 64-bit word multiplications of an exact elimination or witness check that
    /// runs on big integers (`--max-exact-work`); about 3 x 10^8 per second on a 2-core test
    /// machine, so the default allows roughly half a minute.
    pub max_exact_work: f64,
}

impl Limits {
    /// No limit at all (for checking certificates slth has just built itself).
    pub fn unlimited() -> Limits {
        Limits {
            max_file_bytes: u64::MAX,
            max_nesting: usize::MAX,
            max_number_chars: usize::MAX,
            max_layers: usize::MAX,
            max_dimension: u64::MAX,
            max_kept_entries: u64::MAX,
            max_witness_side: usize::MAX,
            max_elimination_side: usize::MAX,
            max_exact_bits: u64::MAX,
            max_exact_work: f64::INFINITY,
        }
    }
}

/// Default of [`Limits::max_dimension`], also the largest input dimension `certify` takes.
pub const DEFAULT_MAX_DIMENSION: u64 = 1 << 20;

/// Default of [`Limits::max_file_bytes`]: 1 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_nesting: 128,
            max_number_chars: crate::numbers::DEFAULT_MAX_NUMBER_CHARS,
            max_layers: 1000,
            max_dimension: DEFAULT_MAX_DIMENSION,
            max_kept_entries: 1 << 25,
            max_witness_side: 1024,
            max_elimination_side: 128,
            max_exact_bits: 1 << 18,
            max_exact_work: 1e10,
        }
    }
}

/// A rational as written in the file: a JSON string (a JSON number is refused). Its length
/// is checked against [`Limits::max_number_chars`] where it is parsed, which names its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rational(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub format: String,
    pub version: u64,
    #[serde(deserialize_with = "object")]
    pub target: TargetJson,
    #[serde(deserialize_with = "object")]
    pub domain: Domain,
    #[serde(deserialize_with = "object")]
    pub random_network: RandomNetwork,
    #[serde(deserialize_with = "ticket")]
    pub ticket: Vec<BlockTicket>,
    #[serde(deserialize_with = "object")]
    pub bound: Bound,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// The target network f (spec section 2) with string weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetJson {
    pub input_dim: u64,
    #[serde(deserialize_with = "layers")]
    pub layers: Vec<LayerJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
    #[serde(deserialize_with = "matrix")]
    pub weights: Vec<Vec<Rational>>,
    pub activation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    pub norm: String,
    pub radius: Rational,
    #[serde(default)]
    pub nonnegative: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomNetwork {
    pub rng: String,
    pub seed: String,
    pub distribution: String,
    #[serde(deserialize_with = "widths")]
    pub hidden_widths: Vec<u64>,
}

/// The kept weights of one block: `[j, t, U[j][t]]` and `[m, j, V[m][j]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockTicket {
    #[serde(deserialize_with = "kept")]
    pub hidden: Vec<(u64, u64, Rational)>,
    #[serde(deserialize_with = "kept")]
    pub output: Vec<(u64, u64, Rational)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    #[serde(deserialize_with = "bound_blocks")]
    pub blocks: Vec<BlockBound>,
    pub epsilon: Rational,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockBound {
    pub error: Rational,
    pub lipschitz: Rational,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lipschitz_method: Option<String>,
    #[serde(
        default,
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub lipschitz_witness: Option<LipschitzWitness>,
}

/// `L^2 I - G = R^T R + shift I + D` with `||D||_F <= shift` (spec section 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LipschitzWitness {
    pub shift: Rational,
    /// Row a holds columns a..n-1 of the upper-triangular R.
    #[serde(deserialize_with = "factor")]
    pub factor: Vec<Vec<Rational>>,
}

/// Why a certificate file could not be read as a certificate.
#[derive(Debug)]
pub enum LoadError {
    /// The file is missing, unreadable, or not JSON at all (usage/input error).
    Unreadable(String),
    /// Well-formed JSON that is not a certificate of this format (a rejected certificate).
    Schema(String),
    /// The file exceeds one of the [`Limits`] (a refused certificate).
    Limit(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Unreadable(m) | LoadError::Schema(m) | LoadError::Limit(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn prefixed(self, prefix: &str) -> LoadError {
        match self {
            LoadError::Unreadable(m) => LoadError::Unreadable(format!("{prefix}: {m}")),
            LoadError::Schema(m) => LoadError::Schema(format!("{prefix}: {m}")),
            LoadError::Limit(m) => LoadError::Limit(format!("{prefix}: {m}")),
        }
    }
}

/// Reads a certificate file within `limits`, streaming it (the file is never held whole).
pub fn load(path: &std::path::Path, limits: &Limits) -> Result<Certificate, LoadError> {
    let shown = path.display().to_string();
    let file =
        std::fs::File::open(path).map_err(|e| LoadError::Unreadable(format!("{shown}: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| LoadError::Unreadable(format!("{shown}: {e}")))?
        .len();
    if size > limits.max_file_bytes {
        return Err(LoadError::Limit(format!(
            "{shown}: file of {size} bytes exceeds the limit of {} bytes (--max-file-size)",
            limits.max_file_bytes
        )));
    }
    let reader = std::io::BufReader::with_capacity(
        1 << 16,
        Guarded {
            inner: file,
            scan: Scan::new(limits),
        },
    );
    read_with(limits, serde_json::Deserializer::from_reader(reader)).map_err(|e| e.prefixed(&shown))
}

/// Parses certificate text within the default [`Limits`].
pub fn parse(text: &str) -> Result<Certificate, LoadError> {
    parse_with(text, &Limits::default())
}

/// Parses certificate text within `limits`. JSON syntax errors are `Unreadable`, shape
/// errors `Schema`, exceeded limits `Limit`.
pub fn parse_with(text: &str, limits: &Limits) -> Result<Certificate, LoadError> {
    if text.len() as u64 > limits.max_file_bytes {
        return Err(LoadError::Limit(format!(
            "text of {} bytes exceeds the limit of {} bytes (--max-file-size)",
            text.len(),
            limits.max_file_bytes
        )));
    }
    let mut scan = Scan::new(limits);
    if let Err(m) = scan.feed(text.as_bytes()) {
        return Err(LoadError::Limit(m));
    }
    read_with(limits, serde_json::Deserializer::from_str(text))
}

// ---------------------------------------------------------------------------------------
// Limits while reading

/// What the reader of this thread enforces, and what it has counted so far.
#[derive(Clone, Copy)]
struct Reading {
    limits: Limits,
    kept: u64,
    /// Set when a limit stopped the reader (its error then becomes `LoadError::Limit`).
    limit_hit: bool,
}

thread_local! {
    static READING: Cell<Option<Reading>> = const { Cell::new(None) };
}

fn limits_now() -> Limits {
    READING.with(|r| r.get().map_or_else(Limits::default, |r| r.limits))
}

/// A limit error: marks the reading so that the error is reported as `LoadError::Limit`.
fn over_limit<E: de::Error>(message: String) -> E {
    mark_limit_hit();
    E::custom(message)
}

fn mark_limit_hit() {
    READING.with(|r| {
        if let Some(mut state) = r.get() {
            state.limit_hit = true;
            r.set(Some(state));
        }
    });
}

/// Reads one certificate (objects only, nothing after it) from `de` with `limits`
/// installed for this thread, and sorts its error.
fn read_with<'de, R: serde_json::de::Read<'de>>(
    limits: &Limits,
    mut de: serde_json::Deserializer<R>,
) -> Result<Certificate, LoadError> {
    let outer = READING.with(|r| {
        r.replace(Some(Reading {
            limits: *limits,
            kept: 0,
            limit_hit: false,
        }))
    });
    let result = Certificate::deserialize(ObjectOnly(&mut de)).and_then(|value| {
        de.end()?;
        Ok(value)
    });
    let hit = READING
        .with(|r| r.replace(outer))
        .is_some_and(|s| s.limit_hit);
    result.map_err(|e| {
        use serde_json::error::Category;
        if hit {
            return LoadError::Limit(e.to_string());
        }
        match e.classify() {
            Category::Data => LoadError::Schema(format!("not a valid certificate: {e}")),
            Category::Io | Category::Syntax | Category::Eof => {
                LoadError::Unreadable(format!("not valid JSON: {e}"))
            }
        }
    })
}

/// Tracks JSON nesting depth (outside strings) byte by byte.
struct Scan {
    max_nesting: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    bytes: u64,
    max_bytes: u64,
}

impl Scan {
    fn new(limits: &Limits) -> Scan {
        Scan {
            max_nesting: limits.max_nesting,
            depth: 0,
            in_string: false,
            escaped: false,
            bytes: 0,
            max_bytes: limits.max_file_bytes,
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        self.bytes += data.len() as u64;
        if self.bytes > self.max_bytes {
            return Err(format!(
                "more than {} bytes (--max-file-size)",
                self.max_bytes
            ));
        }
        let mut k = 0;
        while k < data.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    k += 1;
                    continue;
                }
                // Most of a certificate is string content: jump to its next quote or escape.
                match data[k..].iter().position(|&b| b == b'"' || b == b'\\') {
                    None => return Ok(()),
                    Some(skip) => {
                        k += skip;
                        if data[k] == b'"' {
                            self.in_string = false;
                        } else {
                            self.escaped = true;
                        }
                        k += 1;
                        continue;
                    }
                }
            }
            match data[k] {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > self.max_nesting {
                        let at = self.bytes - (data.len() - k) as u64;
                        return Err(format!(
                            "arrays and objects nested deeper than {} at byte {at} (--max-nesting)",
                            self.max_nesting
                        ));
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            k += 1;
        }
        Ok(())
    }
}

/// A reader that counts bytes and nesting as they pass (limits on a streamed file).
struct Guarded<R> {
    inner: R,
    scan: Scan,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(m) = self.scan.feed(&buf[..n]) {
            mark_limit_hit();
            return Err(std::io::Error::other(m));
        }
        Ok(n)
    }
}

/// A deserializer that reads structs only from JSON objects: serde's derived structs also
/// accept an array of the field values, which is not the format.
struct ObjectOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A struct read through [`ObjectOnly`].
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        T::deserialize(ObjectOnly(d)).map(Obj)
    }
}

fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Obj<T>>::deserialize(d)?.map(|o| o.0))
}

/// Which limit bounds an array's length.
#[derive(Clone, Copy)]
enum Limit {
    Layers,
    Dimension,
    WitnessSide,
    Kept,
}

/// An array's limit and its place in the certificate (for the message).
#[derive(Clone, Copy)]
struct Bounded {
    limit: Limit,
    place: &'static str,
}

impl Bounded {
    /// `Err` with the message when the array already holds `count` items and one more comes.
    fn admit(self, count: usize) -> Result<(), String> {
        let limits = limits_now();
        let (max, flag) = match self.limit {
            Limit::Layers => (limits.max_layers as u64, "--max-layers"),
            Limit::Dimension => (limits.max_dimension, "--max-dimension"),
            Limit::WitnessSide => (limits.max_witness_side as u64, "--max-witness-side"),
            Limit::Kept => (limits.max_kept_entries, "--max-kept-entries"),
        };
        let (count, what) = match self.limit {
            Limit::Kept => (
                READING.with(|r| r.get().map_or(0, |state| state.kept)),
                "kept entries in the whole ticket",
            ),
            _ => (count as u64, "entries"),
        };
        if count >= max {
            return Err(format!(
                "{}: more than {max} {what}, the limit of {flag}",
                self.place
            ));
        }
        Ok(())
    }

    /// Counts an item read (kept entries are counted across the whole certificate).
    fn count(self) {
        if let Limit::Kept = self.limit {
            READING.with(|r| {
                if let Some(mut state) = r.get() {
                    state.kept += 1;
                    r.set(Some(state));
                }
            });
        }
    }
}

/// A JSON array whose length a limit bounds, of items read by `T`.
struct BoundedVec<T> {
    bound: Bounded,
    item: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BoundedVec<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        loop {
            if let Err(m) = self.bound.admit(items.len()) {
                // Only an item that is actually there breaks the limit.
                return match seq.next_element::<de::IgnoredAny>()? {
                    Some(_) => Err(over_limit(m)),
                    None => Ok(items),
                };
            }
            match seq.next_element::<T>()? {
                Some(item) => {
                    self.bound.count();
                    items.push(item);
                }
                None => return Ok(items),
            }
        }
    }
}

fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    limit: Limit,
    place: &'static str,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(BoundedVec {
        bound: Bounded { limit, place },
        item: PhantomData,
    })
}

/// An array of objects, one per layer, at most `max_layers`.
fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    place: &'static str,
) -> Result<Vec<T>, D::Error> {
    let items: Vec<Obj<T>> = bounded(d, Limit::Layers, place)?;
    Ok(items.into_iter().map(|o| o.0).collect())
}

fn layers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LayerJson>, D::Error> {
    objects(d, "target.layers")
}

fn ticket<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BlockTicket>, D::Error> {
    objects(d, "ticket")
}

fn bound_blocks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BlockBound>, D::Error> {
    objects(d, "bound.blocks")
}

fn widths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    bounded(d, Limit::Layers, "random_network.hidden_widths")
}

fn kept<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, u64, Rational)>, D::Error> {
    bounded(d, Limit::Kept, "ticket")
}

/// A row of a weight matrix, at most `max_dimension` entries.
struct DimensionRow(Vec<Rational>);

impl<'de> Deserialize<'de> for DimensionRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DimensionRow, D::Error> {
        bounded(d, Limit::Dimension, "target.layers[].weights[]").map(DimensionRow)
    }
}

fn matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<DimensionRow> = bounded(d, Limit::Dimension, "target.layers[].weights")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A row of a witness factor, at most `max_witness_side` entries.
struct WitnessRow(Vec<Rational>);

impl<'de> Deserialize<'de> for WitnessRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WitnessRow, D::Error> {
        bounded(d, Limit::WitnessSide, "lipschitz_witness.factor[]").map(WitnessRow)
    }
}

fn factor<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<WitnessRow> = bounded(d, Limit::WitnessSide, "lipschitz_witness.factor")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// The certificate as deterministic JSON text: two-space indentation, one matrix row or
/// ticket entry per line, fields in the order of spec section 6.
pub fn to_json_text(certificate: &Certificate) -> String {
    let mut out = String::new();
    let c = certificate;
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"format\": {},", quoted(&c.format));
    let _ = writeln!(out, "  \"version\": {},", c.version);
    let _ = writeln!(out, "  \"target\": {{");
    let _ = writeln!(out, "    \"input_dim\": {},", c.target.input_dim);
    write_layers(&mut out, &c.target.layers, "    ");
    let _ = writeln!(out, "  }},");
    let _ = writeln!(out, "  \"domain\": {{");
    let _ = writeln!(out, "    \"norm\": {},", quoted(&c.domain.norm));
    let _ = writeln!(out, "    \"radius\": {},", quoted(&c.domain.radius.0));
    let _ = writeln!(out, "    \"nonnegative\": {}", c.domain.nonnegative);
    let _ = writeln!(out, "  }},");
    let rn = &c.random_network;
    let _ = writeln!(out, "  \"random_network\": {{");
    let _ = writeln!(out, "    \"rng\": {},", quoted(&rn.rng));
    let _ = writeln!(out, "    \"seed\": {},", quoted(&rn.seed));
    let _ = writeln!(out, "    \"distribution\": {},", quoted(&rn.distribution));
    let widths: Vec<String> = rn.hidden_widths.iter().map(|w| w.to_string()).collect();
    let _ = writeln!(out, "    \"hidden_widths\": [{}]", widths.join(", "));
    let _ = writeln!(out, "  }},");
    let _ = writeln!(out, "  \"ticket\": [");
    for (b, block) in c.ticket.iter().enumerate() {
        let _ = writeln!(out, "    {{");
        write_entries(&mut out, "hidden", &block.hidden, true);
        write_entries(&mut out, "output", &block.output, false);
        let sep = if b + 1 < c.ticket.len() { "," } else { "" };
        let _ = writeln!(out, "    }}{sep}");
    }
    let _ = writeln!(out, "  ],");
    let _ = writeln!(out, "  \"bound\": {{");
    let _ = writeln!(out, "    \"blocks\": [");
    for (b, block) in c.bound.blocks.iter().enumerate() {
        let mut fields = vec![
            format!("\"error\": {}", quoted(&block.error.0)),
            format!("\"lipschitz\": {}", quoted(&block.lipschitz.0)),
        ];
        if let Some(method) = &block.lipschitz_method {
            fields.push(format!("\"lipschitz_method\": {}", quoted(method)));
        }
        if let Some(witness) = &block.lipschitz_witness {
            let rows: Vec<String> = witness
                .factor
                .iter()
                .map(|row| {
                    let cells: Vec<String> = row.iter().map(|x| quoted(&x.0)).collect();
                    format!("[{}]", cells.join(", "))
                })
                .collect();
            fields.push(format!(
                "\"lipschitz_witness\": {{\"shift\": {}, \"factor\": [{}]}}",
                quoted(&witness.shift.0),
                rows.join(", ")
            ));
        }
        let sep = if b + 1 < c.bound.blocks.len() {
            ","
        } else {
            ""
        };
        let _ = writeln!(out, "      {{{}}}{sep}", fields.join(", "));
    }
    let _ = writeln!(out, "    ],");
    let _ = writeln!(out, "    \"epsilon\": {}", quoted(&c.bound.epsilon.0));
    match &c.meta {
        Some(meta) => {
            let _ = writeln!(out, "  }},");
            let meta = serde_json::to_string(meta).unwrap_or_else(|_| "{}".to_string());
            let _ = writeln!(out, "  \"meta\": {meta}");
        }
        None => {
            let _ = writeln!(out, "  }}");
        }
    }
    let _ = writeln!(out, "}}");
    out
}

/// Writes `"layers": [...]` with one weight row per line (shared with network files).
pub fn write_layers(out: &mut String, layers: &[LayerJson], indent: &str) {
    let _ = writeln!(out, "{indent}\"layers\": [");
    for (i, layer) in layers.iter().enumerate() {
        let _ = writeln!(out, "{indent}  {{");
        let _ = writeln!(out, "{indent}    \"weights\": [");
        for (r, row) in layer.weights.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|x| quoted(&x.0)).collect();
            let sep = if r + 1 < layer.weights.len() { "," } else { "" };
            let _ = writeln!(out, "{indent}      [{}]{sep}", cells.join(", "));
        }
        let _ = writeln!(out, "{indent}    ],");
        let _ = writeln!(
            out,
            "{indent}    \"activation\": {}",
            quoted(&layer.activation)
        );
        let sep = if i + 1 < layers.len() { "," } else { "" };
        let _ = writeln!(out, "{indent}  }}{sep}");
    }
    let _ = writeln!(out, "{indent}]");
}

fn write_entries(out: &mut String, name: &str, entries: &[(u64, u64, Rational)], comma: bool) {
    if entries.is_empty() {
        let _ = writeln!(out, "      \"{name}\": []{}", if comma { "," } else { "" });
        return;
    }
    let _ = writeln!(out, "      \"{name}\": [");
    for (k, (a, b, value)) in entries.iter().enumerate() {
        let sep = if k + 1 < entries.len() { "," } else { "" };
        let _ = writeln!(out, "        [{a}, {b}, {}]{sep}", quoted(&value.0));
    }
    let _ = writeln!(out, "      ]{}", if comma { "," } else { "" });
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{"format": "slth-certificate", "version": 1,
      "target": {"input_dim": 1, "layers": [{"weights": [["1/2"]], "activation": "linear"}]},
      "domain": {"norm": "l2", "radius": "1"},
      "random_network": {"rng": "chacha20", "seed": "00", "distribution": "uniform-dyadic-53",
                         "hidden_widths": [1]},
      "ticket": [{"hidden": [[0, 0, "1/4"]], "output": []}],
      "bound": {"blocks": [{"error": "1", "lipschitz": "1"}], "epsilon": "1"},
      "meta": {"anything": [1, 2.5]}}"#;

    #[test]
    fn written_text_parses_back_to_the_same_certificate() {
        let certificate = parse(SMALL).unwrap();
        assert!(!certificate.domain.nonnegative);
        let text = to_json_text(&certificate);
        let again = parse(&text).unwrap();
        assert_eq!(again, certificate);
        assert_eq!(to_json_text(&again), text);
    }

    #[test]
    fn unknown_fields_floats_and_syntax_are_told_apart() {
        let unknown = SMALL.replace("\"version\": 1,", "\"version\": 1, \"extra\": 0,");
        assert!(matches!(parse(&unknown), Err(LoadError::Schema(m)) if m.contains("extra")));
        let float = SMALL.replace("\"radius\": \"1\"", "\"radius\": 1.0");
        assert!(matches!(parse(&float), Err(LoadError::Schema(_))));
        let negative = SMALL.replace("[[0, 0, ", "[[-1, 0, ");
        assert!(matches!(parse(&negative), Err(LoadError::Schema(_))));
        assert!(matches!(
            parse("{\"format\": "),
            Err(LoadError::Unreadable(_))
        ));
        assert!(matches!(
            parse("{\"format\": NaN}"),
            Err(LoadError::Unreadable(_))
        ));
        let duplicate = SMALL.replace("\"version\": 1,", "\"version\": 1, \"version\": 1,");
        assert!(matches!(parse(&duplicate), Err(LoadError::Schema(m)) if m.contains("duplicate")));
    }

    fn limited(text: &str, set: impl FnOnce(&mut Limits)) -> Result<Certificate, LoadError> {
        let mut limits = Limits::default();
        set(&mut limits);
        parse_with(text, &limits)
    }

    fn limit_message(result: Result<Certificate, LoadError>) -> String {
        match result {
            Err(LoadError::Limit(m)) => m,
            other => panic!("expected a limit error, got {other:?}"),
        }
    }

    #[test]
    fn structs_must_be_objects_not_arrays() {
        let arrays = SMALL.replace(
            r#""domain": {"norm": "l2", "radius": "1"}"#,
            r#""domain": ["l2", "1"]"#,
        );
        assert_ne!(arrays, SMALL);
        assert!(matches!(parse(&arrays), Err(LoadError::Schema(m)) if m.contains("sequence")));
        let witness = SMALL.replace(
            r#""lipschitz": "1"}"#,
            r#""lipschitz": "1", "lipschitz_method": "spectral", "lipschitz_witness": ["0", [["1"]]]}"#,
        );
        assert!(matches!(parse(&witness), Err(LoadError::Schema(_))));
        let whole = r#"["slth-certificate", 1]"#;
        assert!(matches!(parse(whole), Err(LoadError::Schema(_))));
    }

    #[test]
    fn each_count_limit_is_enforced_while_reading_and_exact_at_the_limit() {
        assert!(limited(SMALL, |l| l.max_layers = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_layers = 0));
        assert!(
            m.contains("target.layers") && m.contains("--max-layers"),
            "{m}"
        );
        assert!(limited(SMALL, |l| l.max_dimension = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_dimension = 0));
        assert!(m.contains("--max-dimension"), "{m}");
        assert!(limited(SMALL, |l| l.max_kept_entries = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_kept_entries = 0));
        assert!(m.contains("--max-kept-entries"), "{m}");
        // Kept entries are counted across blocks and lists.
        let two = SMALL.replace(r#""output": []"#, r#""output": [[0, 0, "1"]]"#);
        assert!(limited(&two, |l| l.max_kept_entries = 2).is_ok());
        assert!(matches!(
            limited(&two, |l| l.max_kept_entries = 1),
            Err(LoadError::Limit(_))
        ));
        let witness = SMALL.replace(
            r#""lipschitz": "1"}"#,
            r#""lipschitz": "1", "lipschitz_method": "spectral", "lipschitz_witness": {"shift": "0", "factor": [["1", "0"], ["1"]]}}"#,
        );
        assert!(limited(&witness, |l| l.max_witness_side = 2).is_ok());
        let m = limit_message(limited(&witness, |l| l.max_witness_side = 1));
        assert!(m.contains("--max-witness-side"), "{m}");
        let m = limit_message(limited(SMALL, |l| l.max_file_bytes = 100));
        assert!(m.contains("--max-file-size"), "{m}");
    }

    #[test]
    fn nesting_is_limited_outside_strings_only() {
        // SMALL nests 6 deep: object, target, layers, a layer, weights, a row.
        assert!(limited(SMALL, |l| l.max_nesting = 6).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_nesting = 5));
        assert!(m.contains("--max-nesting"), "{m}");
        let brackets_in_strings = SMALL.replace("\"anything\"", "\"[[[[[[{{{{\\\"\"");
        assert_ne!(brackets_in_strings, SMALL);
        assert!(limited(&brackets_in_strings, |l| l.max_nesting = 6).is_ok());
    }

    #[test]
    fn the_nesting_scan_gives_the_same_answer_in_any_chunking() {
        // Valid JSON, 5 deep, with brackets, escaped quotes and backslashes inside strings.
        let text = r#"{"a": ["x\\\"[[[", {"b": "\\"}, [[["]]]\"{"]]]]}"#;
        let depth_of = |chunk: usize, max_nesting: usize| {
            let limits = Limits {
                max_nesting,
                ..Limits::default()
            };
            let mut scan = Scan::new(&limits);
            text.as_bytes()
                .chunks(chunk)
                .try_for_each(|c| scan.feed(c))
                .map(|()| (scan.depth, scan.in_string))
        };
        for chunk in 1..=text.len() {
            assert_eq!(depth_of(chunk, 5), Ok((0, false)), "chunk {chunk}");
            assert!(depth_of(chunk, 4).is_err(), "chunk {chunk}");
        }
    }

    #[test]
    fn files_stream_through_the_same_limits() {
        let dir = std::env::temp_dir().join(format!("slth-cert-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.json");
        std::fs::write(&path, SMALL).unwrap();
        let whole = load(&path, &Limits::default()).unwrap();
        assert_eq!(whole, parse(SMALL).unwrap());
        let limits = Limits {
            max_file_bytes: 100,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(LoadError::Limit(m)) if m.contains("--max-file-size"))
        );
        let limits = Limits {
            max_layers: 0,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(LoadError::Limit(m)) if m.contains("target.layers"))
        );
        let limits = Limits {
            max_nesting: 5,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(LoadError::Limit(m)) if m.contains("--max-nesting"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
    }
}
