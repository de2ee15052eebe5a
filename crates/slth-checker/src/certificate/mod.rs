//! The certificate file (docs/FORMAT.md section 7): its schema, the resource limits of
//! reading it (`limits.rs`) and the streaming reader (`read.rs`). Writing lives with the
//! builder; nothing here checks mathematics.
//!
//! Rationals stay text here ([`Rational`]); whoever uses a field parses it and names the
//! place when it is malformed. Every struct rejects unknown fields and must be a JSON
//! object (serde would also take an array of its values); only `meta` is free-form.

mod compact;
mod gzip;
mod limits;
mod read;
mod shape;

pub use compact::OMITTED;
pub use gzip::{GZIP_MAGIC, named_gzip};
pub use limits::{DEFAULT_MAX_DIMENSION, DEFAULT_MAX_FILE_BYTES, Limits};
pub use read::{LoadError, LoadErrorKind, load, load_marked, parse, parse_with};

use serde::{Deserialize, Serialize};

pub const FORMAT_NAME: &str = "slth-certificate";
/// The `format` of a compact certificate: a certificate of version 1 or 2 whose kept
/// entries may leave out their values (docs/FORMAT.md section 14.1).
pub const COMPACT_FORMAT_NAME: &str = "slth-compact-certificate";
/// Version 1: the bound is the chain of docs/FORMAT.md section 6.
pub const FORMAT_VERSION: u64 = 1;
/// Version 2: version 1 plus the telescoping terms of docs/FORMAT.md section 12.
pub const FORMAT_VERSION_TERMS: u64 = 2;
pub const RNG_NAME: &str = "chacha20";
pub const DISTRIBUTION_NAME: &str = "uniform-dyadic-53";

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
    #[serde(deserialize_with = "shape::object")]
    pub target: TargetJson,
    #[serde(deserialize_with = "shape::object")]
    pub domain: Domain,
    #[serde(deserialize_with = "shape::object")]
    pub random_network: RandomNetwork,
    #[serde(deserialize_with = "shape::ticket")]
    pub ticket: Vec<BlockTicket>,
    #[serde(deserialize_with = "shape::object")]
    pub bound: Bound,
    /// Free-form, any JSON value; `"meta": null` is accepted and read as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

impl Certificate {
    /// The kinds of claim the certificate makes, as `verify` and `inspect` name them:
    /// `error-frobenius` (every block's c_i), `lipschitz-frobenius`, `lipschitz-spectral` or
    /// `lipschitz-spectral-witness` (section 6.2) as used, and `chain-sdp` for version 2's
    /// terms (section 12) and `joint-sdp` for its joint form (section 12.10).
    pub fn claim_kinds(&self) -> Vec<String> {
        let mut kinds = Vec::new();
        for claim in &self.bound.blocks {
            let method = claim.error_method.as_deref().unwrap_or("frobenius");
            let witness = if claim.error_witness.is_some() {
                "-witness"
            } else {
                ""
            };
            let kind = format!("error-{method}{witness}");
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            kinds.push("error-frobenius".to_string());
        }
        for claim in &self.bound.blocks {
            let method = claim.lipschitz_method.as_deref().unwrap_or("frobenius");
            let witness = if claim.lipschitz_witness.is_some() {
                "-witness"
            } else {
                ""
            };
            let kind = format!("lipschitz-{method}{witness}");
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if self.bound.terms.is_some() {
            kinds.push("chain-sdp".to_string());
        }
        if self.bound.joint.is_some() {
            kinds.push("joint-sdp".to_string());
        }
        kinds
    }

    /// Whether the certificate uses a claim that only version 2 defines: `terms`, `joint`,
    /// or a block's `error_method` / `error_witness` (docs/FORMAT.md section 12.1).
    pub fn has_version_2_claims(&self) -> bool {
        self.bound.terms.is_some()
            || self.bound.joint.is_some()
            || self
                .bound
                .blocks
                .iter()
                .any(|b| b.error_method.is_some() || b.error_witness.is_some())
    }
}

/// The target network f (docs/FORMAT.md section 3) with string weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetJson {
    pub input_dim: u64,
    #[serde(deserialize_with = "shape::layers")]
    pub layers: Vec<LayerJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
    #[serde(deserialize_with = "shape::matrix")]
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
    #[serde(deserialize_with = "shape::widths")]
    pub hidden_widths: Vec<u64>,
}

/// The kept weights of one block: `[j, t, U[j][t]]` and `[m, j, V[m][j]]`. Entries that a
/// compact certificate writes without value (`[j, t]`, `[m, j]`) carry g's weight once read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockTicket {
    #[serde(deserialize_with = "shape::kept")]
    pub hidden: Vec<(u64, u64, Rational)>,
    #[serde(deserialize_with = "shape::kept")]
    pub output: Vec<(u64, u64, Rational)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    #[serde(deserialize_with = "shape::bound_blocks")]
    pub blocks: Vec<BlockBound>,
    /// Version 2 only: one telescoping term per block (docs/FORMAT.md section 12).
    #[serde(
        default,
        deserialize_with = "shape::terms",
        skip_serializing_if = "Option::is_none"
    )]
    pub terms: Option<Vec<TermBound>>,
    /// Version 2 only: the joint form (docs/FORMAT.md section 12.10).
    #[serde(
        default,
        deserialize_with = "shape::joint",
        skip_serializing_if = "Option::is_none"
    )]
    pub joint: Option<JointBound>,
    pub epsilon: Rational,
}

/// The joint form (docs/FORMAT.md section 12.10): `sup ||g~(x) - f(x)|| <= lambda r`, proven
/// by one quadratic form over u, g~'s head and every block's error chain being PSD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointBound {
    pub lipschitz: Rational,
    /// The head relations' multipliers: row k-1 for y_k (n_k entries, any sign).
    #[serde(deserialize_with = "shape::joint_head")]
    pub head: Vec<Vec<Rational>>,
    /// Chain i's multipliers (entry i-1): row k-i for h^(i)_k (n_k entries, >= 0).
    #[serde(deserialize_with = "shape::joint_chains")]
    pub chains: Vec<Vec<Vec<Rational>>>,
    /// `[a, b, value]` over the head's quantities, as for a term.
    #[serde(default, deserialize_with = "shape::joint_products")]
    pub products: Vec<(u64, u64, Rational)>,
    #[serde(deserialize_with = "shape::object")]
    pub witness: LipschitzWitness,
}

/// The telescoping term of block i (docs/FORMAT.md section 12): `sup ||Phi_i(x)|| <= lambda_i r`,
/// proven by the quadratic form built from the multipliers and products being PSD, which
/// the witness shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermBound {
    pub lipschitz: Rational,
    /// One array per hidden layer of the chain (n_1, ..., n_{l-1} entries).
    #[serde(deserialize_with = "shape::multipliers")]
    pub multipliers: Vec<Vec<Rational>>,
    /// `[a, b, value]` with a <= b, sorted, value >= 0: the product s_a s_b of two
    /// non-negative quantities.
    #[serde(default, deserialize_with = "shape::products")]
    pub products: Vec<(u64, u64, Rational)>,
    #[serde(deserialize_with = "shape::object")]
    pub witness: LipschitzWitness,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockBound {
    pub error: Rational,
    pub lipschitz: Rational,
    #[serde(
        default,
        deserialize_with = "shape::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub lipschitz_method: Option<String>,
    #[serde(
        default,
        deserialize_with = "shape::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub lipschitz_witness: Option<LipschitzWitness>,
    /// Version 2 only: how `error` bounds block i's error, `"frobenius"` (the default, c_i
    /// at least the Frobenius norm of E_i, section 6.2) or `"spectral"` (c_i at least the
    /// spectral norm of the signed error matrix M_i, docs/FORMAT.md section 12.2).
    #[serde(
        default,
        deserialize_with = "shape::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_method: Option<String>,
    /// Version 2 only, with `"spectral"`: `c_i^2 I - G(M_i) = R^T R + shift I + D`.
    #[serde(
        default,
        deserialize_with = "shape::optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_witness: Option<LipschitzWitness>,
}

/// `L^2 I - G = R^T R + shift I + D` with `||D||_F <= shift` (docs/FORMAT.md section 6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LipschitzWitness {
    pub shift: Rational,
    /// Row a holds columns a..n-1 of the upper-triangular R.
    #[serde(deserialize_with = "shape::factor")]
    pub factor: Vec<Vec<Rational>>,
}
