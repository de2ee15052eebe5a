//! safetensors files of PyTorch MLPs (`safetensors.torch.save_file(model.state_dict(), path)`),
//! read with the `safetensors` crate, every value converted to its exact rational.
//!
//! The crate checks the layout (an 8-byte little-endian header length N, N bytes of JSON
//! `{name: {"dtype", "shape", "data_offsets": [a, b]}, "__metadata__": {...}}`, then the raw
//! little-endian data, each tensor's bytes following the previous one's); when it refuses a
//! file, [`parse_safetensors`] says which tensor is at fault. Dtypes F32, F64, F16 and BF16
//! are read; each of their finite values is a dyadic rational, exactly an f64, and is kept
//! exactly (f16 and bf16 are decoded bit by bit). NaN and infinities are refused.
//!
//! Which tensors make a network (see [`network_from_tensors`]): every tensor is the `weight`
//! (`[out, in]`) or `bias` (`[out]`) of an `nn.Linear`; the layers are ordered by their
//! `nn.Sequential` index (`0.weight`, `2.weight`, ..., with any common prefix such as
//! `net.`), or else by a number ending their names (`fc1`, `fc2`, ...), or else by the unique
//! order in which their shapes chain. The activations are those `__metadata__` states
//! (`"activations": "relu,relu,linear"`, one per layer), or those `certify --activations`
//! states (both: they must agree), else assumed: hidden ReLU and a linear last layer (logits).
//! A state_dict does not record activations: slth cannot see a Tanh between two Linears, so
//! the assumption is never silent ([`crate::import::ActivationSource`]).

use super::error::{ImportError, Place};
use super::{ActivationSource, activation_list, parse_activations};
use crate::network::{Activation, BiasedNetwork, Layer, Network};
use ::safetensors::SafeTensorError;
use ::safetensors::tensor::TensorInfo;
use num_rational::BigRational;
use serde_json::Value;
use std::collections::BTreeMap;

/// Largest safetensors header accepted (the reference implementation's limit, which the
/// `safetensors` crate enforces before it reads the header).
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
    fn of(dtype: ::safetensors::Dtype) -> Option<Dtype> {
        match dtype {
            ::safetensors::Dtype::F16 => Some(Dtype::F16),
            ::safetensors::Dtype::BF16 => Some(Dtype::BF16),
            ::safetensors::Dtype::F32 => Some(Dtype::F32),
            ::safetensors::Dtype::F64 => Some(Dtype::F64),
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

/// Parses a safetensors file; every error names the tensor (or the key of the metadata, or
/// the bytes of the header or data section) apart from the reason.
pub fn parse_safetensors(bytes: &[u8]) -> Result<SafeTensors, ImportError> {
    let (header_length, header) =
        ::safetensors::SafeTensors::read_metadata(bytes).map_err(|e| explain(bytes, e))?;
    // The crate has checked that the tensors' data exactly fills the rest of the file.
    let data = bytes.get(8 + header_length..).unwrap_or_default();
    // Sorted by name, so that the first error reported does not depend on hashing.
    let infos: BTreeMap<String, &TensorInfo> = header.tensors().into_iter().collect();
    let tensors = infos
        .into_iter()
        .map(|(name, info)| read_tensor(name, info, data))
        .collect::<Result<_, _>>()?;
    let metadata = header.metadata().iter().flatten();
    Ok(SafeTensors {
        tensors,
        metadata: metadata.map(|(k, v)| (k.clone(), v.clone())).collect(),
    })
}

/// The tensor `name` of the data section `data`, every value decoded exactly; refused if
/// its dtype is not read or a value is not finite.
fn read_tensor(name: String, info: &TensorInfo, data: &[u8]) -> Result<Tensor, ImportError> {
    let place = || Place::Tensor(name.clone());
    let dtype = Dtype::of(info.dtype).ok_or_else(|| {
        ImportError::at(
            place(),
            format!(
                "dtype {} is not supported (F32, F64, F16 or BF16)",
                info.dtype
            ),
        )
    })?;
    let (begin, end) = info.data_offsets;
    let bytes = data.get(begin..end).ok_or_else(|| {
        ImportError::at(
            place(),
            format!(
                "data_offsets [{begin}, {end}] lie outside the data section ({} bytes)",
                data.len()
            ),
        )
    })?;
    let values: Vec<f64> = bytes
        .chunks_exact(dtype.size())
        .map(|b| dtype.decode(b))
        .collect();
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(ImportError::at(
            place(),
            format!(
                "entry {:?} is {}; only finite values have an exact rational value",
                unravel(k, &info.shape),
                values[k]
            ),
        ));
    }
    Ok(Tensor {
        name,
        dtype,
        shape: info.shape.clone(),
        values,
    })
}

/// Why the `safetensors` crate refused a file, naming the tensor or header field at fault
/// where the crate's error does not.
fn explain(bytes: &[u8], error: SafeTensorError) -> ImportError {
    let available = bytes.len().saturating_sub(8);
    let header_length = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    let beyond = || {
        ImportError::at(
            Place::HeaderLength,
            format!(
                "{header_length} goes beyond the file ({available} bytes after the length; truncated, or not a safetensors file)"
            ),
        )
    };
    // Past the length checks, the header is the `header_length` bytes after the length.
    let header = || {
        let end = usize::try_from(header_length).map_or(0, |n| n.saturating_add(8));
        bytes.get(8..end).unwrap_or_default()
    };
    let in_header = Place::Header {
        end: header_length.saturating_add(8),
    };
    match error {
        SafeTensorError::HeaderTooSmall => ImportError::whole(format!(
            "truncated: {} bytes, shorter than the 8-byte header length of a safetensors file",
            bytes.len()
        )),
        SafeTensorError::HeaderTooLarge if header_length > available as u64 => beyond(),
        SafeTensorError::HeaderTooLarge => ImportError::at(
            Place::HeaderLength,
            format!("{header_length} exceeds the limit of {MAX_HEADER_BYTES} bytes"),
        ),
        SafeTensorError::InvalidHeaderLength => beyond(),
        SafeTensorError::InvalidHeader(e) => {
            ImportError::at(in_header, format!("not UTF-8 text: {e}"))
        }
        SafeTensorError::InvalidHeaderDeserialization(e) if e.is_data() => {
            misread_entry(header(), &in_header).unwrap_or(ImportError::at(in_header, e))
        }
        SafeTensorError::InvalidHeaderDeserialization(e) => {
            ImportError::at(in_header, format!("not valid JSON: {e}"))
        }
        SafeTensorError::InvalidOffset(name) => ImportError::at(
            Place::Tensor(name),
            "data_offsets do not begin where the data of the tensor before it ends (each tensor's data must follow the previous one's, from byte 0)",
        ),
        other => {
            let start = 8 + header().len();
            misplaced_data(header(), start, bytes.len()).unwrap_or(ImportError::whole(other))
        }
    }
}

/// The header entry that the crate could not read as a tensor's (or as string metadata);
/// `in_header` is the place of the whole header.
fn misread_entry(header: &[u8], in_header: &Place) -> Option<ImportError> {
    let entries: BTreeMap<String, Value> = match serde_json::from_slice(header) {
        Ok(entries) => entries,
        Err(e) => {
            return Some(ImportError::at(
                in_header.clone(),
                format!("not a JSON object of tensors: {e}"),
            ));
        }
    };
    entries.into_iter().find_map(|(name, entry)| {
        if name == "__metadata__" {
            let Value::Object(fields) = entry else {
                return Some(ImportError::at(Place::Metadata(None), "expected an object"));
            };
            let (key, _) = fields.iter().find(|(_, v)| !v.is_string())?;
            return Some(ImportError::at(
                Place::Metadata(Some(key.clone())),
                "expected a string",
            ));
        }
        if let Some(dtype) = entry.get("dtype").and_then(Value::as_str)
            && serde_json::from_value::<::safetensors::Dtype>(dtype.into()).is_err()
        {
            return Some(ImportError::at(
                Place::Tensor(name),
                format!("dtype {dtype} is not supported (F32, F64, F16 or BF16)"),
            ));
        }
        let error = serde_json::from_value::<TensorInfo>(entry).err()?;
        Some(ImportError::at(Place::Tensor(name), error))
    })
}

/// The tensor whose data_offsets do not fit its shape and dtype, or run past the data
/// section (bytes `start..end` of the file), or the bytes of that section that belong to
/// no tensor.
fn misplaced_data(header: &[u8], start: usize, end: usize) -> Option<ImportError> {
    let data_length = end.saturating_sub(start);
    let entries: BTreeMap<String, Value> = serde_json::from_slice(header).ok()?;
    let mut infos: Vec<(String, TensorInfo)> = entries
        .into_iter()
        .filter(|(name, _)| name != "__metadata__")
        .filter_map(|(name, entry)| Some((name, serde_json::from_value(entry).ok()?)))
        .collect();
    infos.sort_by_key(|(_, info)| info.data_offsets);
    let mut data_end = 0;
    for (name, info) in infos {
        let (shape, dtype) = (&info.shape, info.dtype);
        let (begin, end) = info.data_offsets;
        let Some(bits) = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|count| count.checked_mul(dtype.bitsize()))
        else {
            return Some(ImportError::at(
                Place::Tensor(name),
                format!("shape {shape:?} is too large"),
            ));
        };
        let count = bits / dtype.bitsize().max(1);
        if bits % 8 != 0 || begin > end || end - begin != bits / 8 {
            return Some(ImportError::at(
                Place::Tensor(name),
                format!(
                    "data_offsets [{begin}, {end}] do not hold {count} values of {dtype} for shape {shape:?}"
                ),
            ));
        }
        if end > data_length {
            return Some(ImportError::at(
                Place::Tensor(name),
                format!(
                    "its data ends at byte {end} of the data section, which has only {data_length} bytes (truncated file?)"
                ),
            ));
        }
        data_end = end;
    }
    (data_end < data_length).then(|| {
        ImportError::at(
            Place::Data {
                start: start as u64,
                end: end as u64,
            },
            format!(
                "{data_length} bytes, but the tensors' data ends at its byte {data_end}: the last {} belong to no tensor",
                data_length - data_end
            ),
        )
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
pub fn network_from_tensors(file: &SafeTensors) -> Result<BiasedNetwork, ImportError> {
    network_from_tensors_stated(file, None).map(|(network, _)| network)
}

/// [`network_from_tensors`] with the activations `certify --activations` states, if any:
/// they must agree with `__metadata__.activations` when both are given (else an error naming
/// both). Returns where the activations come from.
pub fn network_from_tensors_stated(
    file: &SafeTensors,
    stated: Option<&[String]>,
) -> Result<(BiasedNetwork, ActivationSource), ImportError> {
    let mut modules: BTreeMap<String, (Option<&Tensor>, Option<&Tensor>)> = BTreeMap::new();
    for tensor in &file.tensors {
        let (module, parameter) = tensor.name.rsplit_once('.').unwrap_or(("", &tensor.name));
        let slot = modules.entry(module.to_string()).or_default();
        match parameter {
            "weight" => slot.0 = Some(tensor),
            "bias" => slot.1 = Some(tensor),
            _ => {
                return Err(ImportError::at(
                    Place::Tensor(tensor.name.clone()),
                    "not the weight or bias of an nn.Linear (slth reads MLPs made of nn.Linear and nn.ReLU)",
                ));
            }
        }
    }
    if modules.is_empty() {
        return Err(ImportError::whole(
            "no tensors: expected the weights of an nn.Linear MLP",
        ));
    }
    let mut layers = Vec::new();
    for (module, (weight, bias)) in modules {
        let weight = weight.ok_or_else(|| {
            ImportError::at(
                Place::Tensor(format!("{module}.bias")),
                format!("there is no {module}.weight for this bias"),
            )
        })?;
        let only_linear = "slth reads only nn.Linear layers (2-D weights [out, in])";
        let kind = match weight.shape.len() {
            2 => None,
            4 => Some("is 4-D, a convolution's weight"),
            1 => Some("is 1-D, as of a normalization layer"),
            _ => Some("is not 2-D"),
        };
        if let Some(kind) = kind {
            return Err(ImportError::at(
                Place::Tensor(weight.name.clone()),
                format!("shape {:?} {kind}; {only_linear}", weight.shape),
            ));
        }
        if let Some(bias) = bias
            && bias.shape != [weight.shape[0]]
        {
            return Err(ImportError::at(
                Place::Tensor(bias.name.clone()),
                format!(
                    "shape {:?}, but {} has {} outputs (expected [{}])",
                    bias.shape, weight.name, weight.shape[0], weight.shape[0]
                ),
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
            return Err(ImportError::at(
                Place::Tensor(next.weight.name.clone()),
                format!(
                    "shape {:?} does not chain: its {} inputs differ from the {} outputs of {}",
                    next.weight.shape,
                    next.weight.shape[1],
                    previous.weight.shape[0],
                    previous.weight.name
                ),
            ));
        }
    }
    let (activations, source) = activations(&file.metadata, stated, layers.len())?;
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
    // What the checks above leave to BiasedNetwork::check is the limit on the input
    // dimension, which the first weight sets; its place is that tensor.
    biased.check().map_err(|e| {
        ImportError::at(
            Place::Tensor(layers[0].weight.name.clone()),
            format!("{}: {}", e.place, e.reason),
        )
    })?;
    Ok((biased, source))
}

/// Orders the layers: by nn.Sequential index, else by trailing number, else by shape chaining.
fn order_layers(mut layers: Vec<Linear<'_>>) -> Result<Vec<Linear<'_>>, ImportError> {
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
                return Err(ImportError::at(
                    Place::Tensor(pair[1].1.weight.name.clone()),
                    format!(
                        "module {} directly follows module {} in the nn.Sequential, with no activation between them (slth needs a ReLU between Linear layers)",
                        pair[1].0, pair[0].0
                    ),
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
    let ambiguous = || {
        ImportError::whole(format!(
            "cannot tell the order of the layers {} from their names or shapes; name them as an nn.Sequential (0, 2, 4, ...) or fc1, fc2, ...",
            names()
        ))
    };
    let starts: Vec<usize> = (0..layers.len())
        .filter(|&a| {
            !(0..layers.len())
                .any(|b| b != a && layers[b].weight.shape[0] == layers[a].weight.shape[1])
        })
        .collect();
    let [mut current] = starts[..] else {
        return Err(ambiguous());
    };
    let mut order = vec![current];
    while order.len() < layers.len() {
        let next: Vec<usize> = (0..layers.len())
            .filter(|b| !order.contains(b))
            .filter(|&b| layers[b].weight.shape[1] == layers[current].weight.shape[0])
            .collect();
        let [b] = next[..] else {
            return Err(ambiguous());
        };
        order.push(b);
        current = b;
    }
    let mut slots: Vec<Option<Linear<'_>>> = layers.drain(..).map(Some).collect();
    Ok(order.into_iter().filter_map(|k| slots[k].take()).collect())
}

/// The activation of each layer and where it comes from: `__metadata__["activations"]`
/// and `--activations` (`stated`) where given (they must agree), else ReLU and a linear last
/// layer, assumed.
fn activations(
    metadata: &BTreeMap<String, String>,
    stated: Option<&[String]>,
    count: usize,
) -> Result<(Vec<Activation>, ActivationSource), ImportError> {
    let from_metadata = metadata
        .get("activations")
        .map(|text| {
            let names: Vec<String> = text.split(',').map(|n| n.trim().to_string()).collect();
            let place = Place::Metadata(Some("activations".into()));
            parse_activations(&names, count, place)
        })
        .transpose()?;
    let from_flag = stated
        .map(|names| parse_activations(names, count, Place::Option("activations")))
        .transpose()?;
    Ok(match (from_metadata, from_flag) {
        (Some(m), Some(f)) if m != f => {
            return Err(ImportError::whole(format!(
                "__metadata__.activations says {} but --activations says {}: state the activations once, or make them agree",
                activation_list(m),
                activation_list(f)
            )));
        }
        (Some(m), Some(_)) => (m, ActivationSource::MetadataAndFlag),
        (Some(m), None) => (m, ActivationSource::Metadata),
        (None, Some(f)) => (f, ActivationSource::Flag),
        (None, None) => {
            let mut all = vec![Activation::Relu; count];
            all[count - 1] = Activation::Linear;
            (all, ActivationSource::Assumed)
        }
    })
}

/// Reads a PyTorch MLP from a safetensors file; an error names the file.
pub fn load_safetensors(path: &std::path::Path) -> Result<BiasedNetwork, ImportError> {
    load_safetensors_stated(path, None).map(|(network, _)| network)
}

/// [`load_safetensors`] with the activations `certify --activations` states, if any (see
/// [`network_from_tensors_stated`]).
pub fn load_safetensors_stated(
    path: &std::path::Path,
    stated: Option<&[String]>,
) -> Result<(BiasedNetwork, ActivationSource), ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::whole(e).in_file(path))?;
    parse_safetensors(&bytes)
        .and_then(|file| network_from_tensors_stated(&file, stated))
        .map_err(|e| e.in_file(path))
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

    /// A safetensors file with this header text and data section.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn hostile_headers_are_refused_naming_the_place() {
        let entry = |name: &str, dtype: &str, shape: &str, offsets: &str| {
            format!(
                r#""{name}": {{"dtype": "{dtype}", "shape": {shape}, "data_offsets": {offsets}}}"#
            )
        };
        let w = entry("0.weight", "F32", "[1, 1]", "[0, 4]");
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 16]);
        let mut large = (MAX_HEADER_BYTES + 1).to_le_bytes().to_vec();
        large.resize(MAX_HEADER_BYTES as usize + 9, b' ');
        let cases: Vec<(Vec<u8>, String)> =
            vec![
            (
                huge,
                format!("header length (bytes 0..8): {} goes beyond the file", u64::MAX),
            ),
            (
                large,
                format!("exceeds the limit of {MAX_HEADER_BYTES} bytes"),
            ),
            (
                file("[1, 2]", &[]),
                "header (bytes 8..14): not a JSON object of tensors".into(),
            ),
            (
                file(
                    &format!("{{{}}}", entry("a.weight", "F128", "[1]", "[0, 16]")),
                    &[0; 16],
                ),
                "tensor a.weight: dtype F128 is not supported".into(),
            ),
            (
                file(
                    &format!("{{{}}}", entry("a.weight", "F32", "[-1]", "[0, 4]")),
                    &[0; 4],
                ),
                "tensor a.weight: invalid".into(),
            ),
            (
                file(
                    &format!(r#"{{{w}, "__metadata__": {{"activations": 3}}}}"#),
                    &[0; 4],
                ),
                "__metadata__.activations: expected a string".into(),
            ),
            (
                file(&format!("{{{w}}}"), &[0; 8]),
                "data section (bytes 79..87): 8 bytes, but the tensors' data ends at its byte 4: the last 4"
                    .into(),
            ),
            (
                file(
                    &format!("{{{w}, {}}}", entry("0.bias", "F32", "[1]", "[0, 4]")),
                    &[0; 8],
                ),
                "data_offsets do not begin where the data of the tensor before it ends".into(),
            ),
            (
                file(
                    &format!(
                        "{{{}}}",
                        entry("a.weight", "F32", "[4294967296, 4294967296, 2]", "[0, 0]")
                    ),
                    &[],
                ),
                "tensor a.weight: shape [4294967296, 4294967296, 2] is too large".into(),
            ),
        ];
        for (bytes, expected) in cases {
            let error = parse_safetensors(&bytes).unwrap_err().to_string();
            assert!(
                error.contains(&expected),
                "expected {expected:?}, got {error:?}"
            );
        }
    }

    #[test]
    fn unravel_is_c_order() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[4]), vec![0]);
    }
}
