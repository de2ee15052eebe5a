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
//! Which tensors make a network is module `mlp`'s concern.

use super::error::{ImportError, Place};
use ::safetensors::SafeTensorError;
use ::safetensors::tensor::TensorInfo;
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
        ImportError::at(place(), super::error::unsupported_dtype(&name, info.dtype))
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
