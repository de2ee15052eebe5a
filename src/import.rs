//! Reading trained networks: safetensors files (PyTorch MLPs) and `.npy` arrays, every value
//! converted to its exact rational.
//!
//! **safetensors** (`safetensors.torch.save_file(model.state_dict(), path)`): an 8-byte
//! little-endian header length N, N bytes of JSON
//! `{name: {"dtype", "shape", "data_offsets": [a, b]}, "__metadata__": {...}}`, then the raw
//! little-endian data (offsets count from the end of the header). Dtypes F32, F64, F16 and
//! BF16 are read; each of their finite values is a dyadic rational, exactly an f64, and is
//! kept exactly (f16 and bf16 are decoded bit by bit). NaN and infinities are refused.
//!
//! Which tensors make a network (see [`network_from_tensors`]): every tensor is the `weight`
//! (`[out, in]`) or `bias` (`[out]`) of an `nn.Linear`; the layers are ordered by their
//! `nn.Sequential` index (`0.weight`, `2.weight`, ..., with any common prefix such as
//! `net.`), or else by a number ending their names (`fc1`, `fc2`, ...), or else by the unique
//! order in which their shapes chain. Hidden layers are ReLU and the last layer is linear
//! (logits), unless `__metadata__` has `"activations": "relu,relu,linear"` (one per layer).
//! A state_dict does not record activations: slth cannot see a Tanh between two Linears.
//!
//! **npy** (`numpy.save`): magic `\x93NUMPY`, version, header length, a Python dict
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (N, d), }`, then the data in C order.
//! Little-endian f4, f8, i4, i8 and u1 are read.

use crate::error::Error;
use crate::network::{Activation, BiasedNetwork, Layer, Network};
use num_rational::BigRational;
use serde_json::Value;
use std::collections::BTreeMap;

/// Largest safetensors header accepted (the reference implementation's limit).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Element types of a safetensors tensor that slth reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F16,
    BF16,
    F32,
    F64,
}

impl Dtype {
    fn parse(name: &str) -> Option<Dtype> {
        match name {
            "F16" => Some(Dtype::F16),
            "BF16" => Some(Dtype::BF16),
            "F32" => Some(Dtype::F32),
            "F64" => Some(Dtype::F64),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }

    /// The value of one little-endian element, exactly (every value of these types is an f64).
    fn decode(self, bytes: &[u8]) -> f64 {
        match self {
            Dtype::F16 => f16_to_f64(u16::from_le_bytes([bytes[0], bytes[1]])),
            Dtype::BF16 => bf16_to_f64(u16::from_le_bytes([bytes[0], bytes[1]])),
            Dtype::F32 => f32::from_le_bytes(bytes[..4].try_into().unwrap_or_default()) as f64,
            Dtype::F64 => f64::from_le_bytes(bytes[..8].try_into().unwrap_or_default()),
        }
    }
}

/// IEEE binary16: sign, 5 exponent bits (bias 15), 10 fraction bits; exact in f64.
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * fraction * 2f64.powi(-24),
        31 if fraction == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1024.0 + fraction) * 2f64.powi(e - 25),
    }
}

/// bfloat16: the top 16 bits of an f32.
pub fn bf16_to_f64(bits: u16) -> f64 {
    f64::from(f32::from_bits(u32::from(bits) << 16))
}

/// One tensor of a safetensors file, values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// A parsed safetensors file: tensors sorted by name, and the string metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeTensors {
    pub tensors: Vec<Tensor>,
    pub metadata: BTreeMap<String, String>,
}

/// Parses a safetensors file; every error names the tensor (or the header field).
pub fn parse_safetensors(bytes: &[u8]) -> Result<SafeTensors, String> {
    let length_bytes: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(
        || {
            format!(
                "truncated: {} bytes, shorter than the 8-byte header length of a safetensors file",
                bytes.len()
            )
        },
    )?;
    let header_length = u64::from_le_bytes(length_bytes);
    let available = bytes.len() as u64 - 8;
    if header_length > available {
        return Err(format!(
            "header length {header_length} goes beyond the file ({available} bytes after the length; truncated, or not a safetensors file)"
        ));
    }
    if header_length > MAX_HEADER_BYTES {
        return Err(format!(
            "header length {header_length} exceeds the limit of {MAX_HEADER_BYTES} bytes"
        ));
    }
    let header_end = 8 + header_length as usize;
    let header: Value = serde_json::from_slice(&bytes[8..header_end])
        .map_err(|e| format!("header is not valid JSON: {e}"))?;
    let entries = header
        .as_object()
        .ok_or("header is not a JSON object of tensors")?;
    let data = &bytes[header_end..];
    let mut tensors = Vec::new();
    let mut metadata = BTreeMap::new();
    for (name, entry) in entries {
        if name == "__metadata__" {
            for (key, value) in entry
                .as_object()
                .ok_or("__metadata__: expected an object")?
            {
                let text = value
                    .as_str()
                    .ok_or(format!("__metadata__.{key}: expected a string"))?;
                metadata.insert(key.clone(), text.to_string());
            }
            continue;
        }
        tensors.push(read_tensor(name, entry, data)?);
    }
    Ok(SafeTensors { tensors, metadata })
}

fn read_tensor(name: &str, entry: &Value, data: &[u8]) -> Result<Tensor, String> {
    let place = format!("tensor {name}");
    let dtype_name = entry
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or(format!("{place}: missing dtype"))?;
    let dtype = Dtype::parse(dtype_name).ok_or(format!(
        "{place}: dtype {dtype_name} is not supported (F32, F64, F16 or BF16)"
    ))?;
    let shape: Vec<usize> = entry
        .get("shape")
        .and_then(Value::as_array)
        .ok_or(format!("{place}: missing shape"))?
        .iter()
        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or(format!("{place}: shape is not a list of sizes"))?;
    let offsets: Vec<usize> = entry
        .get("data_offsets")
        .and_then(Value::as_array)
        .and_then(|o| {
            o.iter()
                .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
                .collect()
        })
        .filter(|o: &Vec<usize>| o.len() == 2)
        .ok_or(format!("{place}: data_offsets is not a pair of offsets"))?;
    let (begin, end) = (offsets[0], offsets[1]);
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or(format!("{place}: shape {shape:?} is too large"))?;
    let needed = count.checked_mul(dtype.size());
    if begin > end || Some(end - begin) != needed {
        return Err(format!(
            "{place}: data_offsets [{begin}, {end}] do not hold {count} values of {dtype_name} for shape {shape:?}"
        ));
    }
    if end > data.len() {
        return Err(format!(
            "{place}: its data ends at byte {end} of the data section, which has only {} bytes (truncated file?)",
            data.len()
        ));
    }
    let values: Vec<f64> = data[begin..end]
        .chunks_exact(dtype.size())
        .map(|b| dtype.decode(b))
        .collect();
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "{place}: entry {:?} is {}; only finite values have an exact rational value",
            unravel(k, &shape),
            values[k]
        ));
    }
    Ok(Tensor {
        name: name.to_string(),
        dtype,
        shape,
        values,
    })
}

/// The multi-index of flat position `k` in C order.
fn unravel(mut k: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &d) in index.iter_mut().zip(shape).rev() {
        if d > 0 {
            *slot = k % d;
            k /= d;
        }
    }
    index
}

/// One `nn.Linear`: its module name, weight and optional bias.
struct Linear<'a> {
    module: String,
    weight: &'a Tensor,
    bias: Option<&'a Tensor>,
}

/// Assembles the network of a PyTorch MLP's tensors (module docs: names, order, activations).
///
/// A Linear without bias (`bias=False`) gets zero biases. Errors name the tensor: a weight
/// that is not 2-D (a convolution's is 4-D), a bias without weight or of the wrong length,
/// a tensor that is neither `weight` nor `bias`, shapes that do not chain.
pub fn network_from_tensors(file: &SafeTensors) -> Result<BiasedNetwork, String> {
    let mut modules: BTreeMap<String, (Option<&Tensor>, Option<&Tensor>)> = BTreeMap::new();
    for tensor in &file.tensors {
        let (module, parameter) = tensor.name.rsplit_once('.').unwrap_or(("", &tensor.name));
        let slot = modules.entry(module.to_string()).or_default();
        match parameter {
            "weight" => slot.0 = Some(tensor),
            "bias" => slot.1 = Some(tensor),
            _ => {
                return Err(format!(
                    "tensor {}: not the weight or bias of an nn.Linear (slth reads MLPs made of nn.Linear and nn.ReLU)",
                    tensor.name
                ));
            }
        }
    }
    if modules.is_empty() {
        return Err("no tensors: expected the weights of an nn.Linear MLP".into());
    }
    let mut layers = Vec::new();
    for (module, (weight, bias)) in modules {
        let weight = weight.ok_or_else(|| {
            format!("tensor {module}.bias: there is no {module}.weight for this bias")
        })?;
        match weight.shape.len() {
            2 => {}
            4 => {
                return Err(format!(
                    "tensor {}: shape {:?} is 4-D, a convolution's weight; slth reads only nn.Linear layers (2-D weights [out, in])",
                    weight.name, weight.shape
                ));
            }
            1 => {
                return Err(format!(
                    "tensor {}: shape {:?} is 1-D, as of a normalization layer; slth reads only nn.Linear layers (2-D weights [out, in])",
                    weight.name, weight.shape
                ));
            }
            _ => {
                return Err(format!(
                    "tensor {}: shape {:?} is not 2-D; slth reads only nn.Linear layers (2-D weights [out, in])",
                    weight.name, weight.shape
                ));
            }
        }
        if let Some(bias) = bias
            && bias.shape != [weight.shape[0]]
        {
            return Err(format!(
                "tensor {}: shape {:?}, but {} has {} outputs (expected [{}])",
                bias.name, bias.shape, weight.name, weight.shape[0], weight.shape[0]
            ));
        }
        layers.push(Linear {
            module,
            weight,
            bias,
        });
    }
    let layers = order_layers(layers)?;
    for pair in layers.windows(2) {
        let (previous, next) = (&pair[0], &pair[1]);
        if next.weight.shape[1] != previous.weight.shape[0] {
            return Err(format!(
                "tensor {}: shape {:?} does not chain: its {} inputs differ from the {} outputs of {}",
                next.weight.name,
                next.weight.shape,
                next.weight.shape[1],
                previous.weight.shape[0],
                previous.weight.name
            ));
        }
    }
    let activations = activations(&file.metadata, layers.len())?;
    let exact = |v: &f64| BigRational::from_float(*v).unwrap_or_default();
    let network = Network {
        input_dim: layers[0].weight.shape[1],
        layers: layers
            .iter()
            .zip(activations)
            .map(|(linear, activation)| Layer {
                weights: linear
                    .weight
                    .values
                    .chunks(linear.weight.shape[1].max(1))
                    .take(linear.weight.shape[0])
                    .map(|row| row.iter().map(exact).collect())
                    .collect(),
                activation,
            })
            .collect(),
    };
    let biases = layers
        .iter()
        .map(|linear| match linear.bias {
            Some(bias) => bias.values.iter().map(exact).collect(),
            None => vec![BigRational::default(); linear.weight.shape[0]],
        })
        .collect();
    let biased = BiasedNetwork { network, biases };
    biased.check()?;
    Ok(biased)
}

/// Orders the layers: by nn.Sequential index, else by trailing number, else by shape chaining.
fn order_layers(mut layers: Vec<Linear<'_>>) -> Result<Vec<Linear<'_>>, String> {
    // nn.Sequential: "0", "2", or "net.0", "net.2": a common prefix and an integer.
    let sequential: Option<Vec<(String, u64)>> = layers
        .iter()
        .map(|l| {
            let (prefix, last) = l.module.rsplit_once('.').unwrap_or(("", &l.module));
            last.parse::<u64>().ok().map(|k| (prefix.to_string(), k))
        })
        .collect();
    if let Some(keys) = sequential
        && keys.iter().all(|(prefix, _)| *prefix == keys[0].0)
    {
        let mut keyed: Vec<(u64, Linear<'_>)> =
            keys.into_iter().map(|(_, k)| k).zip(layers).collect();
        keyed.sort_by_key(|(k, _)| *k);
        for pair in keyed.windows(2) {
            if pair[1].0 == pair[0].0 + 1 {
                return Err(format!(
                    "tensor {}: module {} directly follows module {} in the nn.Sequential, with no activation between them (slth needs a ReLU between Linear layers)",
                    pair[1].1.weight.name, pair[1].0, pair[0].0
                ));
            }
        }
        return Ok(keyed.into_iter().map(|(_, l)| l).collect());
    }
    // Names ending in distinct numbers: fc1, fc2, ...
    let trailing: Option<Vec<u64>> = layers
        .iter()
        .map(|l| {
            let digits = l.module.len()
                - l.module
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .len();
            l.module[l.module.len() - digits..].parse().ok()
        })
        .collect();
    if let Some(numbers) = trailing {
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() == numbers.len() {
            let mut keyed: Vec<(u64, Linear<'_>)> = numbers.into_iter().zip(layers).collect();
            keyed.sort_by_key(|(k, _)| *k);
            return Ok(keyed.into_iter().map(|(_, l)| l).collect());
        }
    }
    // Otherwise the shapes must chain in exactly one way.
    let names = || {
        layers
            .iter()
            .map(|l| l.module.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ambiguous = format!(
        "cannot tell the order of the layers {} from their names or shapes; name them as an nn.Sequential (0, 2, 4, ...) or fc1, fc2, ...",
        names()
    );
    let starts: Vec<usize> = (0..layers.len())
        .filter(|&a| {
            !(0..layers.len())
                .any(|b| b != a && layers[b].weight.shape[0] == layers[a].weight.shape[1])
        })
        .collect();
    let [mut current] = starts[..] else {
        return Err(ambiguous);
    };
    let mut order = vec![current];
    while order.len() < layers.len() {
        let next: Vec<usize> = (0..layers.len())
            .filter(|b| !order.contains(b))
            .filter(|&b| layers[b].weight.shape[1] == layers[current].weight.shape[0])
            .collect();
        let [b] = next[..] else {
            return Err(ambiguous);
        };
        order.push(b);
        current = b;
    }
    let mut slots: Vec<Option<Linear<'_>>> = layers.drain(..).map(Some).collect();
    Ok(order.into_iter().filter_map(|k| slots[k].take()).collect())
}

/// The activation of each layer: `__metadata__["activations"]` if given, else ReLU and a
/// linear last layer.
fn activations(
    metadata: &BTreeMap<String, String>,
    count: usize,
) -> Result<Vec<Activation>, String> {
    let Some(text) = metadata.get("activations") else {
        let mut all = vec![Activation::Relu; count];
        all[count - 1] = Activation::Linear;
        return Ok(all);
    };
    let names: Vec<&str> = text.split(',').map(str::trim).collect();
    if names.len() != count {
        return Err(format!(
            "__metadata__.activations: {} names for {count} layers",
            names.len()
        ));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Activation::parse(name, i + 1 == count)
                .map_err(|e| format!("__metadata__.activations: layer {}: {e}", i + 1))
        })
        .collect()
}

/// Reads a target network file by its extension: `.safetensors` (a PyTorch MLP), anything
/// else as a JSON network file (docs/FORMAT.md section 3).
pub fn load_target(path: &std::path::Path) -> Result<BiasedNetwork, Error> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
    {
        return load_safetensors(path);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(path, e))?;
    BiasedNetwork::from_json_text(&text).map_err(|e| Error::input(path, e))
}

/// Reads a PyTorch MLP from a safetensors file.
pub fn load_safetensors(path: &std::path::Path) -> Result<BiasedNetwork, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, e))?;
    parse_safetensors(&bytes)
        .and_then(|file| network_from_tensors(&file))
        .map_err(|e| Error::input(path, e))
}

/// The values of a `.npy` array.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyValues {
    /// f4 or f8, exactly
    Float(Vec<f64>),
    /// i4, i8 or u1
    Int(Vec<i64>),
}

/// A `.npy` array in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub values: NpyValues,
}

/// Parses a `.npy` file (format versions 1 to 3, little-endian, C order).
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    let (header_length, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        version => return Err(format!(".npy format version {version} is not supported")),
    };
    let header = bytes
        .get(start..start.saturating_add(header_length))
        .ok_or("truncated .npy header")?;
    let header = std::str::from_utf8(header).map_err(|_| ".npy header is not text")?;
    let descr = dict_value(header, "descr")?;
    let fortran = dict_value(header, "fortran_order")?;
    let shape_text = dict_value(header, "shape")?;
    if !fortran.starts_with("False") {
        return Err("fortran_order arrays are not supported (save a C-ordered array)".into());
    }
    let shape_inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or(format!(".npy shape {shape_text:?} is not a tuple"))?;
    let shape: Vec<usize> = shape_inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!(".npy shape: {s:?} is not a size"))
        })
        .collect::<Result<_, _>>()?;
    let dtype = descr
        .strip_prefix('\'')
        .or_else(|| descr.strip_prefix('"'))
        .and_then(|d| d.get(..3))
        .ok_or(format!(".npy descr {descr:?} is not a string"))?;
    let size = match dtype {
        "<f4" | "<i4" => 4,
        "<f8" | "<i8" => 8,
        "|u1" => 1,
        other => {
            return Err(format!(
                ".npy dtype {other} is not supported (little-endian f4, f8, i4, i8, or u1)"
            ));
        }
    };
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or(".npy shape is too large")?;
    let data = &bytes[start + header_length..];
    if count.checked_mul(size) != Some(data.len()) {
        return Err(format!(
            ".npy data has {} bytes, expected {count} values of {size} bytes for shape {shape:?}",
            data.len()
        ));
    }
    let chunks = data.chunks_exact(size);
    let values = match dtype {
        "<f4" => NpyValues::Float(
            chunks
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
        ),
        "<f8" => NpyValues::Float(
            chunks
                .map(|b| f64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
        ),
        "<i4" => NpyValues::Int(
            chunks
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
        ),
        "<i8" => NpyValues::Int(
            chunks
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
        ),
        _ => NpyValues::Int(chunks.map(|b| i64::from(b[0])).collect()),
    };
    Ok(NpyArray { shape, values })
}

/// The text after `'key':` in a .npy header dict, trimmed.
fn dict_value<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let at = header
        .find(&format!("'{key}'"))
        .ok_or(format!(".npy header has no '{key}'"))?;
    let rest = header[at + key.len() + 2..].trim_start();
    Ok(rest
        .strip_prefix(':')
        .ok_or(format!(".npy header: no ':' after '{key}'"))?
        .trim_start())
}

/// Reads a `.npy` file.
pub fn load_npy(path: &std::path::Path) -> Result<NpyArray, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, e))?;
    parse_npy(&bytes).map_err(|e| Error::input(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_values_decode_exactly() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert_eq!(f16_to_f64(0x03ff), 1023.0 * 2f64.powi(-24));
        assert_eq!(f16_to_f64(0x0400), 2f64.powi(-14));
        assert_eq!(f16_to_f64(0x7bff), 65504.0);
        assert_eq!(f16_to_f64(0x3555), 0.333251953125);
        assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
        assert!(f16_to_f64(0x7e00).is_nan());
    }

    #[test]
    fn bf16_values_decode_exactly() {
        assert_eq!(bf16_to_f64(0x3f80), 1.0);
        assert_eq!(bf16_to_f64(0x4049), 3.140625);
        assert_eq!(bf16_to_f64(0x0001), 2f64.powi(-133));
        assert_eq!(bf16_to_f64(0xbf00), -0.5);
    }

    #[test]
    fn unravel_is_c_order() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[4]), vec![0]);
    }

    #[test]
    fn npy_headers_parse() {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
        let padded = format!("{header:<54}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        for v in [7i64, -1, 2] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let array = parse_npy(&bytes).unwrap();
        assert_eq!(array.shape, vec![3]);
        assert_eq!(array.values, NpyValues::Int(vec![7, -1, 2]));
        bytes.pop();
        assert!(parse_npy(&bytes).unwrap_err().contains("23 bytes"));
    }
}
