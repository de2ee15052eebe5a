//! The certificate file (spec section 6): serde types, loading and deterministic writing.
//!
//! Rationals stay text here (`Rational`); whoever uses a field parses it and names the place
//! when it is malformed. Every struct rejects unknown fields; only `meta` is free-form.
//! Nothing in this module checks mathematics.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

pub const FORMAT_NAME: &str = "slth-certificate";
pub const FORMAT_VERSION: u64 = 1;
pub const RNG_NAME: &str = "chacha20";
pub const DISTRIBUTION_NAME: &str = "uniform-dyadic-53";

/// Default limit on a certificate file's size in bytes (1 GiB).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

/// A rational as written in the file: a JSON string (JSON numbers are refused by serde).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rational(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub format: String,
    pub version: u64,
    pub target: TargetJson,
    pub domain: Domain,
    pub random_network: RandomNetwork,
    pub ticket: Vec<BlockTicket>,
    pub bound: Bound,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// The target network f (spec section 2) with string weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetJson {
    pub input_dim: u64,
    pub layers: Vec<LayerJson>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
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
    pub hidden_widths: Vec<u64>,
}

/// The kept weights of one block: `[j, t, U[j][t]]` and `[m, j, V[m][j]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockTicket {
    pub hidden: Vec<(u64, u64, Rational)>,
    pub output: Vec<(u64, u64, Rational)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lipschitz_witness: Option<LipschitzWitness>,
}

/// `L^2 I - G = R^T R + shift I + D` with `||D||_F <= shift` (spec section 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LipschitzWitness {
    pub shift: Rational,
    /// Row a holds columns a..n-1 of the upper-triangular R.
    pub factor: Vec<Vec<Rational>>,
}

/// Why a certificate file could not be read as a certificate.
#[derive(Debug)]
pub enum LoadError {
    /// The file is missing, unreadable, too large, or not JSON at all (usage/input error).
    Unreadable(String),
    /// Well-formed JSON that is not a certificate of this format (a rejected certificate).
    Schema(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Unreadable(m) | LoadError::Schema(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads a certificate file, refusing files over `max_bytes`.
pub fn load(path: &std::path::Path, max_bytes: u64) -> Result<Certificate, LoadError> {
    let shown = path.display();
    let size = std::fs::metadata(path)
        .map_err(|e| LoadError::Unreadable(format!("{shown}: {e}")))?
        .len();
    if size > max_bytes {
        return Err(LoadError::Unreadable(format!(
            "{shown}: file of {size} bytes exceeds the limit of {max_bytes} bytes"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::Unreadable(format!("{shown}: {e}")))?;
    parse(&text).map_err(|e| match e {
        LoadError::Unreadable(m) => LoadError::Unreadable(format!("{shown}: {m}")),
        LoadError::Schema(m) => LoadError::Schema(format!("{shown}: {m}")),
    })
}

/// Parses certificate text. JSON syntax errors are `Unreadable`, shape errors `Schema`.
pub fn parse(text: &str) -> Result<Certificate, LoadError> {
    serde_json::from_str::<Certificate>(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => LoadError::Schema(format!("not a valid certificate: {e}")),
            Category::Io | Category::Syntax | Category::Eof => {
                LoadError::Unreadable(format!("not valid JSON: {e}"))
            }
        }
    })
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

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
    }
}
