//! `slth export`: the ticket g~ of a certificate as a dense network that PyTorch loads into
//! `nn.Sequential`, written as a safetensors file.
//!
//! Block i of g~ (`y -> act_i(V_i ReLU(U_i y))`, module [`crate::ticket`]) becomes two
//! `nn.Linear` layers over the kept hidden neurons only, in the order of their index j in g:
//!
//! ```text
//! index 4(i-1):     hidden Linear, weight [kept_i, n_{i-1}]: row r holds U_i[j_r][t_r] at t_r
//! index 4(i-1) + 1: ReLU
//! index 4(i-1) + 2: output Linear, weight [n_i, kept_i]:   V_i[m][j_r] at (m, r)
//! index 4(i-1) + 3: act_i (ReLU, or Identity for a linear last layer)
//! ```
//!
//! so the tensors are `0.weight`, `0.bias`, `2.weight`, `2.bias`, ... as `nn.Sequential`
//! numbers them. Every Linear has a bias (zero unless said otherwise), so that
//! `nn.Linear(in, out)` with its default `bias=True` loads the file strictly.
//!
//! A homogenized certificate (`meta.derived_from`, module [`crate::homogenize`]) is about
//! g~(x, 1). Its constant last input reaches g~ only through the hidden neurons of block 1
//! that keep it, each computing ReLU(U * 1): that weight becomes the neuron's bias, and the
//! exported network takes the user's x in R^d. The carrier neuron of later layers stays an
//! ordinary neuron (its value is g~'s approximation of 1, computed like every other output).
//!
//! The weights of g are dyadic rationals k / 2^53 with |k| < 2^53, so f64 holds each one
//! exactly and the f64 file *is* g~, up to the rounding of evaluating it in f64; f32 rounds
//! each weight to 24 bits.

use crate::network::{Activation, Network};
use crate::numbers::{format_rational, parse_rational, rational_to_f64};
use crate::ticket::Ticket;
use num_rational::BigRational;
use num_traits::{One, Signed};
use slth_checker::certificate::Certificate;
use slth_checker::sampler::WEIGHT_SCALE;
use slth_checker::statement::homogenized_from;
use std::collections::BTreeMap;

/// The floating-point type of the exported tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f64: every weight of g~ exactly.
    F64,
    /// f32: every weight rounded to the nearest f32.
    F32,
}

impl Precision {
    /// `F64` or `F32`, as safetensors names the dtype.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F64 => "F64",
            Precision::F32 => "F32",
        }
    }
}

/// One `nn.Linear` of the exported network and the activation after it; every value is a
/// numerator over 2^53 (a weight of g, or 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linear {
    pub outputs: usize,
    pub inputs: usize,
    /// `[outputs, inputs]`, row-major.
    pub weight: Vec<i64>,
    pub bias: Vec<i64>,
    /// ReLU after this layer, or nothing (Identity).
    pub activation: Activation,
}

impl Linear {
    fn zeros(outputs: usize, inputs: usize, activation: Activation) -> Linear {
        Linear {
            outputs,
            inputs,
            weight: vec![0; outputs * inputs],
            bias: vec![0; outputs],
            activation,
        }
    }

    /// The layer applied in f64 (the values are exact; the sums round).
    pub fn apply_f64(&self, x: &[f64]) -> Vec<f64> {
        let scale = WEIGHT_SCALE as f64;
        (0..self.outputs)
            .map(|o| {
                let row = &self.weight[o * self.inputs..(o + 1) * self.inputs];
                let mut z = self.bias[o] as f64 / scale;
                for (w, v) in row.iter().zip(x) {
                    if *w != 0 {
                        z += *w as f64 / scale * v;
                    }
                }
                match self.activation {
                    Activation::Relu => z.max(0.0),
                    Activation::Linear => z,
                }
            })
            .collect()
    }
}

/// g~ as a sequence of dense Linear layers, two per block, and what the safetensors
/// metadata says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedNetwork {
    /// The dimension of the user's x (the target's, minus the constant input of a
    /// homogenized target).
    pub input_dim: usize,
    pub layers: Vec<Linear>,
    /// The safetensors `__metadata__`: activations, provenance, the certified statement.
    pub metadata: BTreeMap<String, String>,
}

impl ExportedNetwork {
    /// g~ of `certificate`, every weight recomputed from the seed (not taken from the
    /// file). The certificate is not checked here: `slth export` verifies it first.
    pub fn from_certificate(certificate: &Certificate) -> Result<ExportedNetwork, String> {
        let target = Network::from_target_json(&certificate.target)
            .map_err(|e| format!("target: {}", e.reason))?;
        let ticket = Ticket::from_certificate(certificate, &target).map_err(|e| e.to_string())?;
        let dims = target.dims();
        let radius = parse_rational(&certificate.domain.radius.0)
            .map_err(|e| format!("domain.radius: {e}"))?;
        // The index of the constant input 1 of a homogenized target, and the user's radius.
        let (constant, user_radius) = match homogenized_from(certificate.meta.as_ref()) {
            Some(d) => (Some(d), homogenized_radius(certificate, d, &radius)?),
            None => (None, radius),
        };
        let mut layers = Vec::with_capacity(2 * target.layers.len());
        for (b, (block, layer)) in ticket.blocks.iter().zip(&target.layers).enumerate() {
            let n_in = if b == 0 {
                constant.unwrap_or(dims[0])
            } else {
                dims[b]
            };
            let kept: Vec<(u64, u64, i64)> =
                block.hidden.iter().map(|(&j, &(t, u))| (j, t, u)).collect();
            let mut hidden = Linear::zeros(kept.len(), n_in, Activation::Relu);
            let mut row_of = BTreeMap::new();
            for (r, &(j, t, u)) in kept.iter().enumerate() {
                row_of.insert(j, r);
                let t = t as usize;
                if b == 0 && Some(t) == constant {
                    hidden.bias[r] = u;
                } else {
                    hidden.weight[r * n_in + t] = u;
                }
            }
            let mut output = Linear::zeros(layer.outputs(), kept.len(), layer.activation);
            for (&(m, j), &v) in &block.output {
                // An output weight from a neuron without a kept input multiplies 0.
                if let Some(&r) = row_of.get(&j) {
                    output.weight[m as usize * kept.len() + r] = v;
                }
            }
            layers.push(hidden);
            layers.push(output);
        }
        let input_dim = constant.unwrap_or(dims[0]);
        let mut exported = ExportedNetwork {
            input_dim,
            layers,
            metadata: BTreeMap::new(),
        };
        exported.metadata = exported.describe(certificate, constant.is_some(), &user_radius);
        Ok(exported)
    }

    /// The activation after each Linear, comma-separated (`relu,relu,relu,linear`): what
    /// slth's importer reads from `__metadata__.activations`.
    pub fn activations(&self) -> String {
        crate::import::activation_list(self.layers.iter().map(|l| l.activation))
    }

    /// The widths `d-k_1-n_1-k_2-...-n_l` of the exported network.
    pub fn widths(&self) -> String {
        let mut widths = vec![self.input_dim.to_string()];
        widths.extend(self.layers.iter().map(|l| l.outputs.to_string()));
        widths.join("-")
    }

    /// Nonzero weights and biases.
    pub fn nonzero_parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| {
                l.weight.iter().filter(|w| **w != 0).count()
                    + l.bias.iter().filter(|b| **b != 0).count()
            })
            .sum()
    }

    /// The network applied to x in f64, as PyTorch computes it with f64 tensors (up to the
    /// order of the sums).
    pub fn eval_f64(&self, x: &[f64]) -> Vec<f64> {
        self.layers
            .iter()
            .fold(x.to_vec(), |y, layer| layer.apply_f64(&y))
    }

    fn describe(
        &self,
        certificate: &Certificate,
        homogenized: bool,
        radius: &BigRational,
    ) -> BTreeMap<String, String> {
        let epsilon = &certificate.bound.epsilon.0;
        let epsilon_approx = parse_rational(epsilon).map_or(f64::NAN, |e| rational_to_f64(&e));
        let orthant = if certificate.domain.nonnegative {
            " and x >= 0"
        } else {
            ""
        };
        let statement = format!(
            "if the certificate is valid (slth export verified it): for every x in R^{} with ||x||_2 <= {}{orthant}, ||net(x) - f(x)||_2 <= {epsilon} for this network net evaluated exactly (the F64 weights are g~'s exactly; evaluating in floating point adds its own rounding){}",
            self.input_dim,
            format_rational(radius),
            if homogenized {
                "; f is the network with biases"
            } else {
                ""
            },
        );
        let entries = [
            ("format", "pt".to_string()),
            ("producer", format!("slth {}", env!("CARGO_PKG_VERSION"))),
            ("content", "slth ticket g~: nn.Sequential of Linear layers, two per target layer (hidden, output), each followed by its activation (ReLU, or Identity for linear)".into()),
            ("activations", self.activations()),
            ("widths", self.widths()),
            ("epsilon", epsilon.clone()),
            ("epsilon_approx", format!("{epsilon_approx:e}")),
            ("seed", certificate.random_network.seed.clone()),
            ("radius", format_rational(radius)),
            ("nonnegative", certificate.domain.nonnegative.to_string()),
            ("homogenized", homogenized.to_string()),
            ("statement", statement),
        ];
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    /// The safetensors file: `{2k}.weight` and `{2k}.bias` of the k-th Linear, in
    /// `precision`, and [`ExportedNetwork::metadata`] with its `dtype`.
    ///
    /// Written here rather than by the `safetensors` crate, whose header follows a hash
    /// map's order: the same certificate gives the same bytes. The layout is the format's
    /// (an 8-byte little-endian header length, the JSON header padded with spaces to a
    /// multiple of 8, the tensors' data in the header's order); the tests read the result
    /// back through the crate.
    pub fn to_safetensors(&self, precision: Precision) -> Vec<u8> {
        let scale = WEIGHT_SCALE as f64;
        let bytes = |values: &[i64], data: &mut Vec<u8>| {
            for &k in values {
                let w = k as f64 / scale;
                match precision {
                    Precision::F64 => data.extend(w.to_le_bytes()),
                    Precision::F32 => data.extend((w as f32).to_le_bytes()),
                }
            }
        };
        let mut header = serde_json::Map::new();
        let mut data = Vec::new();
        for (k, layer) in self.layers.iter().enumerate() {
            let tensors = [
                ("weight", vec![layer.outputs, layer.inputs], &layer.weight),
                ("bias", vec![layer.outputs], &layer.bias),
            ];
            for (name, shape, values) in tensors {
                let begin = data.len();
                bytes(values, &mut data);
                let entry = serde_json::json!({
                    "dtype": precision.name(),
                    "shape": shape,
                    "data_offsets": [begin, data.len()],
                });
                header.insert(format!("{}.{name}", 2 * k), entry);
            }
        }
        let mut metadata = self.metadata.clone();
        metadata.insert("dtype".into(), precision.name().into());
        header.insert("__metadata__".into(), serde_json::json!(metadata));
        let mut text = serde_json::Value::Object(header).to_string().into_bytes();
        text.resize(text.len().div_ceil(8) * 8, b' ');
        let mut file = Vec::with_capacity(8 + text.len() + data.len());
        file.extend((text.len() as u64).to_le_bytes());
        file.extend(text);
        file.extend(data);
        file
    }
}

/// The user's radius r of a homogenized certificate (meta's d and r, checked against the
/// target: d + 1 inputs, r^2 + 1 <= R^2), or why the export cannot take the user's x.
fn homogenized_radius(
    certificate: &Certificate,
    d: usize,
    big_r: &BigRational,
) -> Result<BigRational, String> {
    if (d as u64).checked_add(1) != Some(certificate.target.input_dim) {
        return Err(format!(
            "meta.derived_from.input_dim {d} is not the target's input dimension {} minus 1",
            certificate.target.input_dim
        ));
    }
    let r = certificate
        .meta
        .as_ref()
        .and_then(|m| m["derived_from"]["radius"].as_str())
        .ok_or("meta.derived_from.radius is not a rational string")?;
    let r = parse_rational(r).map_err(|e| format!("meta.derived_from.radius: {e}"))?;
    if r.is_negative() || &r * &r + BigRational::one() > big_r * big_r {
        return Err(format!(
            "meta.derived_from.radius {} does not satisfy r^2 + 1 <= R^2 with the domain's radius R = {}",
            format_rational(&r),
            format_rational(big_r)
        ));
    }
    Ok(r)
}

/// What `slth export` did: wrote the file (the summary line for stderr), or found the
/// certificate not valid (the checker's verdict, which decides the exit code).
pub enum Outcome {
    Written(String),
    NotValid(Box<slth_checker::verdict::Verdict>),
}

/// `slth export`: verifies the certificate at `path` (sound f64 with exact fallback, as
/// `slth verify`), then writes its g~ to `output` (`-` or None: standard output).
pub fn export_file(
    path: &std::path::Path,
    output: Option<&std::path::Path>,
    precision: Precision,
    limits: &slth_checker::certificate::Limits,
) -> Result<Outcome, crate::Error> {
    use slth_checker::verdict::{self, Verdict};
    crate::write::check_output(output)?;
    let certificate = match verdict::read(path, limits) {
        Ok(certificate) => certificate,
        Err(verdict) => return Ok(Outcome::NotValid(Box::new(verdict))),
    };
    let file = path.display().to_string();
    let arithmetic = slth_checker::verify::Arithmetic::Sound;
    let verdict = verdict::judge(&file, &certificate, limits, arithmetic);
    if !matches!(verdict, Verdict::Valid(_)) {
        return Ok(Outcome::NotValid(Box::new(verdict)));
    }
    let rejected = |reason: String| crate::Error::Rejected {
        file: file.clone(),
        place: String::new(),
        reason,
    };
    let exported = ExportedNetwork::from_certificate(&certificate).map_err(rejected)?;
    let bytes = exported.to_safetensors(precision);
    crate::write::write_bytes(output, &bytes)?;
    let to = match output {
        Some(o) if o != std::path::Path::new("-") => o.display().to_string(),
        _ => "standard output".into(),
    };
    Ok(Outcome::Written(format!(
        "exported g~ of {file} (verified: VALID, epsilon {}) to {to}: nn.Sequential of {} Linear layers, widths {}, activations {}, {} nonzero parameters, {}",
        certificate.bound.epsilon.0,
        exported.layers.len(),
        exported.widths(),
        exported.activations(),
        exported.nonzero_parameters(),
        precision.name(),
    )))
}
