//! Target networks (docs/FORMAT.md section 3): exact weights, evaluation, network files.
//!
//! `a_0 = x, a_i = act_i(W_i a_{i-1}), f(x) = a_l`, no biases; every layer is ReLU except
//! that the last may be linear. Network files may also give biases ([`BiasedNetwork`]); those
//! are certified through their homogenized form (`crate::homogenize`).

use crate::numbers::{parse_rational, rational_to_f64};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use serde_json::Value;
use slth_checker::certificate::{LayerJson, Rational, TargetJson};

pub const NETWORK_FORMAT_NAME: &str = "slth-network";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Linear,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Linear => "linear",
        }
    }

    /// The activation of a layer's name; `linear` only where `last` is true.
    pub fn parse(name: &str, last: bool) -> Result<Activation, ActivationError> {
        match name {
            "relu" => Ok(Activation::Relu),
            "linear" if last => Ok(Activation::Linear),
            "linear" => Err(ActivationError::LinearNotLast),
            other => Err(ActivationError::Unsupported(crate::numbers::abbreviate(
                other,
            ))),
        }
    }
}

/// An activation name slth cannot certify where it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationError {
    #[error("activation \"linear\" is allowed only on the last layer")]
    LinearNotLast,
    #[error("activation {0:?} is not supported (\"relu\", or \"linear\" on the last layer)")]
    Unsupported(String),
}

/// One layer: `weights[m][t]` is `W[m][t]` (n_i rows of n_{i-1} entries).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub weights: Vec<Vec<BigRational>>,
    pub activation: Activation,
}

impl Layer {
    pub fn outputs(&self) -> usize {
        self.weights.len()
    }

    /// Sum of `W[m][t]^2` (the squared Frobenius norm).
    pub fn frobenius_squared(&self) -> BigRational {
        crate::numbers::sum_of_squares(self.weights.iter().flatten())
    }

    /// One layer exactly: `activation(W a + b)`, with b = 0 when `biases` is None.
    pub fn apply_exact(
        &self,
        a: &[BigRational],
        biases: Option<&[BigRational]>,
    ) -> Vec<BigRational> {
        self.weights
            .iter()
            .enumerate()
            .map(|(m, row)| {
                let mut z: BigRational = row
                    .iter()
                    .zip(a)
                    .filter(|(w, y)| !w.is_zero() && !y.is_zero())
                    .map(|(w, y)| w * y)
                    .sum();
                if let Some(b) = biases.and_then(|b| b.get(m)) {
                    z += b;
                }
                activate(self.activation, z)
            })
            .collect()
    }

    /// One layer in f64 (rounded; for searching and reporting only).
    pub fn apply_f64(&self, a: &[f64], biases: Option<&[BigRational]>) -> Vec<f64> {
        self.weights
            .iter()
            .enumerate()
            .map(|(m, row)| {
                let mut z: f64 = row.iter().zip(a).map(|(w, y)| rational_to_f64(w) * y).sum();
                if let Some(b) = biases.and_then(|b| b.get(m)) {
                    z += rational_to_f64(b);
                }
                match self.activation {
                    Activation::Relu => z.max(0.0),
                    Activation::Linear => z,
                }
            })
            .collect()
    }

    /// The weights as f64 (nearest, not exact).
    pub fn weights_f64(&self) -> Vec<Vec<f64>> {
        self.weights
            .iter()
            .map(|row| row.iter().map(rational_to_f64).collect())
            .collect()
    }
}

/// A ReLU network with exact rational weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    pub input_dim: usize,
    pub layers: Vec<Layer>,
}

impl Network {
    /// n_0, n_1, ..., n_l.
    pub fn dims(&self) -> Vec<usize> {
        let mut dims = vec![self.input_dim];
        dims.extend(self.layers.iter().map(Layer::outputs));
        dims
    }

    /// Number of weights of f: sum n_i n_{i-1}.
    pub fn weight_count(&self) -> usize {
        let dims = self.dims();
        dims.windows(2).map(|w| w[0] * w[1]).sum()
    }

    /// f(x) exactly.
    pub fn eval_exact(&self, x: &[BigRational]) -> Vec<BigRational> {
        self.layers
            .iter()
            .fold(x.to_vec(), |a, layer| layer.apply_exact(&a, None))
    }

    /// f(x) in f64 (rounded; for searching and reporting only).
    pub fn eval_f64(&self, x: &[f64]) -> Vec<f64> {
        self.layers
            .iter()
            .fold(x.to_vec(), |a, layer| layer.apply_f64(&a, None))
    }

    /// Checks the shape: at least one layer, rows of n_{i-1} entries, activations.
    pub fn check(&self) -> Result<(), NetworkError> {
        if self.layers.is_empty() {
            return Err(NetworkError::at("layers", "network has no layers"));
        }
        // A zero-row first layer makes input_dim free of the file's size; the builders
        // allocate per input, so an absurd one is refused here.
        let limit = slth_checker::certificate::DEFAULT_MAX_DIMENSION;
        if self.input_dim as u64 > limit {
            return Err(NetworkError::at(
                "input_dim",
                format!("{} is above the limit of {limit} inputs", self.input_dim),
            ));
        }
        let mut width = self.input_dim;
        for (i, layer) in self.layers.iter().enumerate() {
            for (m, row) in layer.weights.iter().enumerate() {
                if row.len() != width {
                    return Err(NetworkError::at(
                        format!("layers[{i}].weights[{m}]"),
                        format!("row has {} entries, expected {width}", row.len()),
                    ));
                }
            }
            if layer.activation == Activation::Linear && i + 1 != self.layers.len() {
                return Err(NetworkError::at(
                    format!("layers[{i}].activation"),
                    "\"linear\" is allowed only on the last layer",
                ));
            }
            width = layer.outputs();
        }
        Ok(())
    }

    /// The target as it is written inside a certificate (string weights).
    pub fn to_target_json(&self) -> TargetJson {
        let mut formatter = crate::numbers::RationalFormatter::default();
        TargetJson {
            input_dim: self.input_dim as u64,
            layers: self
                .layers
                .iter()
                .map(|layer| LayerJson {
                    weights: layer
                        .weights
                        .iter()
                        .map(|row| row.iter().map(|w| Rational(formatter.format(w))).collect())
                        .collect(),
                    activation: layer.activation.name().to_string(),
                })
                .collect(),
        }
    }

    /// Reads the target of a certificate (string weights only).
    pub fn from_target_json(target: &TargetJson) -> Result<Network, NetworkError> {
        let input_dim = usize::try_from(target.input_dim).map_err(|_| {
            NetworkError::at(
                "target.input_dim",
                format!("{} is too large", target.input_dim),
            )
        })?;
        let count = target.layers.len();
        let mut layers = Vec::with_capacity(count);
        for (i, layer) in target.layers.iter().enumerate() {
            let activation = Activation::parse(&layer.activation, i + 1 == count)
                .map_err(|e| NetworkError::at(format!("target.layers[{i}].activation"), e))?;
            let mut weights = Vec::with_capacity(layer.weights.len());
            for (m, row) in layer.weights.iter().enumerate() {
                let mut parsed = Vec::with_capacity(row.len());
                for (t, w) in row.iter().enumerate() {
                    parsed.push(parse_rational(&w.0).map_err(|e| {
                        NetworkError::at(format!("target.layers[{i}].weights[{m}][{t}]"), e)
                    })?);
                }
                weights.push(parsed);
            }
            layers.push(Layer {
                weights,
                activation,
            });
        }
        let network = Network { input_dim, layers };
        network.check().map_err(|e| e.within("target"))?;
        Ok(network)
    }

    /// Parses a standalone network file without biases (see [`BiasedNetwork::from_json_text`]).
    ///
    /// A file whose `biases` are all zero is accepted; one with a non-zero bias is refused,
    /// naming it: a `Network` is the bias-free target of a certificate.
    pub fn from_json_text(text: &str) -> Result<Network, NetworkError> {
        BiasedNetwork::from_json_text(text)?.into_unbiased()
    }

    /// The network file text (strings for weights, one row per line).
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        out.push_str("{\n");
        out.push_str(&format!("  \"format\": \"{NETWORK_FORMAT_NAME}\",\n"));
        out.push_str("  \"version\": 1,\n");
        out.push_str(&format!("  \"input_dim\": {},\n", self.input_dim));
        crate::text::write_layers(&mut out, &self.to_target_json().layers, "  ");
        out.push_str("}\n");
        out
    }

    /// The largest `|W_i[m][t]|` of the network.
    pub fn max_abs_weight(&self) -> BigRational {
        self.layers
            .iter()
            .flat_map(|l| l.weights.iter().flatten())
            .map(|w| w.abs())
            .max()
            .unwrap_or_else(BigRational::zero)
    }
}

/// A network as the user gave it, with biases: `a_i = act_i(W_i a_{i-1} + b_i)`.
///
/// The certificate's target is always bias-free ([`Network`]); a network with biases is
/// certified through its homogenized form (`crate::homogenize`).
#[derive(Debug, Clone, PartialEq)]
pub struct BiasedNetwork {
    /// W_i and act_i
    pub network: Network,
    /// b_i: one entry per output of layer i (zeros where the file gives none)
    pub biases: Vec<Vec<BigRational>>,
}

impl BiasedNetwork {
    /// The network with all biases zero.
    pub fn unbiased(network: Network) -> BiasedNetwork {
        let biases = network
            .layers
            .iter()
            .map(|l| vec![BigRational::zero(); l.outputs()])
            .collect();
        BiasedNetwork { network, biases }
    }

    /// Whether some bias is non-zero.
    pub fn has_biases(&self) -> bool {
        self.biases.iter().flatten().any(|b| !b.is_zero())
    }

    /// The network itself if every bias is zero; otherwise an error naming the first bias.
    pub fn into_unbiased(self) -> Result<Network, NetworkError> {
        for (i, biases) in self.biases.iter().enumerate() {
            if let Some(m) = biases.iter().position(|b| !b.is_zero()) {
                return Err(NetworkError::at(
                    format!("layers[{i}].biases[{m}]"),
                    "non-zero bias; a bias-free network is needed here (certify homogenizes networks with biases)",
                ));
            }
        }
        Ok(self.network)
    }

    /// Checks the shape of the weights and that layer i has n_i biases.
    pub fn check(&self) -> Result<(), NetworkError> {
        self.network.check()?;
        if self.biases.len() != self.network.layers.len() {
            return Err(NetworkError::at(
                "layers",
                format!(
                    "{} bias vectors for {} layers",
                    self.biases.len(),
                    self.network.layers.len()
                ),
            ));
        }
        for (i, (biases, layer)) in self.biases.iter().zip(&self.network.layers).enumerate() {
            if biases.len() != layer.outputs() {
                return Err(NetworkError::at(
                    format!("layers[{i}].biases"),
                    format!(
                        "{} entries, expected one per output ({})",
                        biases.len(),
                        layer.outputs()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// f(x) exactly, biases included.
    pub fn eval_exact(&self, x: &[BigRational]) -> Vec<BigRational> {
        let layers = self.network.layers.iter().zip(&self.biases);
        layers.fold(x.to_vec(), |a, (layer, b)| layer.apply_exact(&a, Some(b)))
    }

    /// f(x) in f64 (rounded; for reporting only).
    pub fn eval_f64(&self, x: &[f64]) -> Vec<f64> {
        let layers = self.network.layers.iter().zip(&self.biases);
        layers.fold(x.to_vec(), |a, (layer, b)| layer.apply_f64(&a, Some(b)))
    }

    /// Parses a standalone network file; JSON numbers are read as the exact value of their text.
    ///
    /// `{"format": "slth-network", "version": 1, "input_dim": d, "layers": [...]}`, where
    /// `format` and `version` may be omitted, weights may be strings or JSON numbers, and
    /// each layer may carry `"biases": [b_0, ..., b_{n_i - 1}]` (same number forms; zeros
    /// when absent).
    pub fn from_json_text(text: &str) -> Result<BiasedNetwork, NetworkError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            NetworkError::at(
                format!("line {} column {}", e.line(), e.column()),
                format!("not valid JSON: {e}"),
            )
        })?;
        let object = value.as_object().ok_or(NetworkError::at(
            "file",
            "a network file is a JSON object with input_dim and layers",
        ))?;
        for key in object.keys() {
            if !matches!(key.as_str(), "format" | "version" | "input_dim" | "layers") {
                return Err(NetworkError::at(key.as_str(), "unknown field"));
            }
        }
        if let Some(format) = object.get("format")
            && format.as_str() != Some(NETWORK_FORMAT_NAME)
        {
            return Err(NetworkError::at(
                "format",
                format!("expected \"{NETWORK_FORMAT_NAME}\", got {format}"),
            ));
        }
        if let Some(version) = object.get("version")
            && version.as_u64() != Some(1)
        {
            return Err(NetworkError::at(
                "version",
                format!("expected 1, got {version}"),
            ));
        }
        let input_dim = object
            .get("input_dim")
            .ok_or(NetworkError::at("input_dim", "missing field"))?
            .as_u64()
            .and_then(|d| usize::try_from(d).ok())
            .ok_or(NetworkError::at(
                "input_dim",
                "expected a non-negative integer",
            ))?;
        let layers_json = object
            .get("layers")
            .ok_or(NetworkError::at("layers", "missing field"))?
            .as_array()
            .ok_or(NetworkError::at("layers", "expected an array"))?;
        let count = layers_json.len();
        let mut layers = Vec::with_capacity(count);
        let mut all_biases = Vec::with_capacity(count);
        for (i, layer) in layers_json.iter().enumerate() {
            let place = format!("layers[{i}]");
            let layer = layer
                .as_object()
                .ok_or_else(|| NetworkError::at(&place, "expected an object"))?;
            for key in layer.keys() {
                if !matches!(key.as_str(), "weights" | "activation" | "biases") {
                    return Err(NetworkError::at(&place, format!("unknown field {key:?}")));
                }
            }
            let activation_name =
                layer
                    .get("activation")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        NetworkError::at(format!("{place}.activation"), "expected a string")
                    })?;
            let activation = Activation::parse(activation_name, i + 1 == count)
                .map_err(|e| NetworkError::at(format!("{place}.activation"), e))?;
            let rows = layer
                .get("weights")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    NetworkError::at(format!("{place}.weights"), "expected an array of rows")
                })?;
            let mut weights = Vec::with_capacity(rows.len());
            for (m, row) in rows.iter().enumerate() {
                let row = row.as_array().ok_or_else(|| {
                    NetworkError::at(format!("{place}.weights[{m}]"), "expected an array")
                })?;
                let parsed = row
                    .iter()
                    .enumerate()
                    .map(|(t, w)| json_rational(w, &format!("{place}.weights[{m}][{t}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                weights.push(parsed);
            }
            let biases = match layer.get("biases") {
                None => vec![BigRational::zero(); weights.len()],
                Some(list) => list
                    .as_array()
                    .ok_or_else(|| {
                        NetworkError::at(format!("{place}.biases"), "expected an array")
                    })?
                    .iter()
                    .enumerate()
                    .map(|(m, b)| json_rational(b, &format!("{place}.biases[{m}]")))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            layers.push(Layer {
                weights,
                activation,
            });
            all_biases.push(biases);
        }
        let network = BiasedNetwork {
            network: Network { input_dim, layers },
            biases: all_biases,
        };
        network.check()?;
        Ok(network)
    }
}

/// A rational of a network file: a string or a JSON number, read as the exact value of its text.
fn json_rational(value: &Value, place: &str) -> Result<BigRational, NetworkError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(NetworkError::at(
                place,
                format!("expected a number or a string, got {other}"),
            ));
        }
    };
    parse_rational(&text).map_err(|e| NetworkError::at(place, e))
}

/// What is wrong with a network, and where (a JSON path such as `layers[0].weights[2]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {reason}")]
pub struct NetworkError {
    pub place: String,
    pub reason: String,
}

impl NetworkError {
    pub fn at(place: impl Into<String>, reason: impl std::fmt::Display) -> NetworkError {
        NetworkError {
            place: place.into(),
            reason: reason.to_string(),
        }
    }

    /// The same error inside `outer` (`target` + `layers[0]` = `target.layers[0]`).
    pub fn within(self, outer: &str) -> NetworkError {
        NetworkError {
            place: format!("{outer}.{}", self.place),
            reason: self.reason,
        }
    }
}

/// act(z) for one coordinate.
pub fn activate(activation: Activation, z: BigRational) -> BigRational {
    match activation {
        Activation::Relu if z.is_negative() => BigRational::zero(),
        _ => z,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    const SPEC_EXAMPLE: &str = r#"{"input_dim": 3,
      "layers": [{"weights": [["1/2", "-1/3", "0"], ["1/4", "0", "1/10"]], "activation": "relu"},
                 {"weights": [["1/2", "-1/2"]], "activation": "relu"}]}"#;

    #[test]
    fn reads_the_spec_example_and_evaluates_exactly() {
        let f = Network::from_json_text(SPEC_EXAMPLE).unwrap();
        assert_eq!(f.dims(), vec![3, 2, 1]);
        // x = (1, 0, 1): layer 1 = relu(1/2, 1/4 + 1/10) = (1/2, 7/20); layer 2 = relu(1/4 - 7/40).
        let y = f.eval_exact(&[q(1, 1), q(0, 1), q(1, 1)]);
        assert_eq!(y, vec![q(3, 40)]);
        let yf = f.eval_f64(&[1.0, 0.0, 1.0]);
        assert!((yf[0] - 0.075).abs() < 1e-15);
    }

    #[test]
    fn json_numbers_are_exact_decimals() {
        let text =
            r#"{"input_dim": 2, "layers": [{"weights": [[0.1, -3e-2]], "activation": "linear"}]}"#;
        let f = Network::from_json_text(text).unwrap();
        assert_eq!(f.layers[0].weights[0], vec![q(1, 10), q(-3, 100)]);
    }

    #[test]
    fn round_trips_through_text() {
        let f = Network::from_json_text(SPEC_EXAMPLE).unwrap();
        let again = Network::from_json_text(&f.to_json_text()).unwrap();
        assert_eq!(f, again);
    }

    #[test]
    fn biases_are_optional_and_exact() {
        let text = r#"{"input_dim": 2, "layers": [
            {"weights": [[1, 0], [0, "1/2"]], "biases": ["1/3", -0.5], "activation": "relu"},
            {"weights": [[1, 1]], "activation": "linear"}]}"#;
        let f = BiasedNetwork::from_json_text(text).unwrap();
        assert!(f.has_biases());
        assert_eq!(f.biases, vec![vec![q(1, 3), q(-1, 2)], vec![q(0, 1)]]);
        // x = (1, 3): relu(1 + 1/3, 3/2 - 1/2) = (4/3, 1); output 7/3.
        assert_eq!(f.eval_exact(&[q(1, 1), q(3, 1)]), vec![q(7, 3)]);
        assert!((f.eval_f64(&[1.0, 3.0])[0] - 7.0 / 3.0).abs() < 1e-12);
        let error = Network::from_json_text(text).unwrap_err().to_string();
        assert!(
            error.contains("layers[0].biases[0]: non-zero bias"),
            "{error}"
        );
        let zeros = text.replace(r#"["1/3", -0.5]"#, r#"[0, "0/7"]"#);
        assert_eq!(Network::from_json_text(&zeros).unwrap(), f.network);
        for (bad, expected) in [
            (
                r#"["1"]"#,
                "layers[0].biases: 1 entries, expected one per output (2)",
            ),
            (r#"["1", "x"]"#, "layers[0].biases[1]: malformed rational"),
            (r#""1""#, "layers[0].biases: expected an array"),
        ] {
            let error = BiasedNetwork::from_json_text(&text.replace(r#"["1/3", -0.5]"#, bad))
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{bad}: {error}");
        }
    }

    #[test]
    fn rejects_bad_shapes_with_places() {
        let cases = [
            (r#"{"input_dim": 2, "layers": []}"#, "no layers"),
            (
                r#"{"input_dim": 2, "layers": [{"weights": [["1"]], "activation": "relu"}]}"#,
                "layers[0].weights[0]: row has 1 entries, expected 2",
            ),
            (
                r#"{"input_dim": 1, "layers": [{"weights": [["1"]], "activation": "linear"}, {"weights": [["1"]], "activation": "relu"}]}"#,
                "layers[0].activation",
            ),
            (
                r#"{"input_dim": 1, "layers": [{"weights": [["1/0"]], "activation": "relu"}]}"#,
                "layers[0].weights[0][0]: zero denominator",
            ),
            (
                r#"{"input_dim": 1, "layers": [{"weights": [[true]], "activation": "relu"}]}"#,
                "layers[0].weights[0][0]",
            ),
            (
                r#"{"input_dim": 1, "layers": [{"weights": [["1"]], "activation": "tanh"}]}"#,
                "not supported",
            ),
            (r#"{"input_dim": -1, "layers": []}"#, "input_dim"),
            (
                r#"{"input_dim": 1, "layers": [], "bias": 1}"#,
                "unknown field",
            ),
            ("[1, 2", "not valid JSON"),
        ];
        for (text, expected) in cases {
            let error = Network::from_json_text(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: got {error:?}");
        }
    }
}
