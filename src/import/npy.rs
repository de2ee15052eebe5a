//! `.npy` arrays (`numpy.save`), read with the `npyz` crate: magic `\x93NUMPY`, version,
//! header length, a Python dict `{'descr': '<f4', 'fortran_order': False, 'shape': (N, d), }`,
//! then the data. slth reads C-ordered arrays of little-endian f4, f8, i4, i8 and u1.

use super::error::{ImportError, Place};

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

/// The element types slth reads, as numpy writes them in `descr`.
const ACCEPTED: &str = "little-endian f4, f8, i4, i8, or u1";

/// Parses a `.npy` file (format versions 1 to 3, little-endian, C order); an error names
/// the key of the header dict or the byte where the data begins.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, ImportError> {
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err(ImportError::whole("not a .npy file (no \\x93NUMPY magic)"));
    }
    let mut rest = bytes;
    let header = npyz::NpyHeader::from_reader(&mut rest).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                format!("truncated (the file has {} bytes)", bytes.len())
            }
            _ => e.to_string(),
        };
        ImportError::at(Place::NpyHeader(None), reason)
    })?;
    if header.order() == npyz::Order::Fortran {
        return Err(ImportError::at(
            Place::NpyHeader(Some("fortran_order")),
            "True: arrays in Fortran order are not supported (save a C-ordered array)",
        ));
    }
    let dtype = match header.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => other.descr(),
    };
    let size = match dtype.as_str() {
        "<f4" | "<i4" => 4,
        "<f8" | "<i8" => 8,
        "|u1" => 1,
        other => {
            return Err(ImportError::at(
                Place::NpyHeader(Some("descr")),
                format!("dtype {other} is not supported ({ACCEPTED})"),
            ));
        }
    };
    let too_large = || {
        ImportError::at(
            Place::NpyHeader(Some("shape")),
            format!("shape {:?} is too large", header.shape()),
        )
    };
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| too_large())?;
    // The checked product: npyz's own (header.len()) wraps around on absurd shapes.
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(too_large)?;
    let data = Place::NpyData {
        start: (bytes.len() - rest.len()) as u64,
    };
    // Checked before reading, so that a shape the data cannot fill allocates nothing.
    if count.checked_mul(size) != Some(rest.len()) {
        return Err(ImportError::at(
            data,
            format!(
                "{} bytes, expected {count} values of {size} bytes for shape {shape:?}",
                rest.len()
            ),
        ));
    }
    let npy = npyz::NpyFile::with_header(header, rest);
    let widen = |e: std::io::Error| ImportError::at(data.clone(), e);
    let values = match dtype.as_str() {
        "<f4" => NpyValues::Float(widen_all(npy.into_vec::<f32>(), f64::from).map_err(widen)?),
        "<f8" => NpyValues::Float(widen_all(npy.into_vec::<f64>(), |v| v).map_err(widen)?),
        "<i4" => NpyValues::Int(widen_all(npy.into_vec::<i32>(), i64::from).map_err(widen)?),
        "<i8" => NpyValues::Int(widen_all(npy.into_vec::<i64>(), |v| v).map_err(widen)?),
        _ => NpyValues::Int(widen_all(npy.into_vec::<u8>(), i64::from).map_err(widen)?),
    };
    Ok(NpyArray { shape, values })
}

/// The values read by npyz, each converted exactly to slth's wider type.
fn widen_all<T, U>(read: std::io::Result<Vec<T>>, convert: fn(T) -> U) -> std::io::Result<Vec<U>> {
    read.map(|values| values.into_iter().map(convert).collect())
}

/// Reads a `.npy` file; an error names the file.
pub fn load_npy(path: &std::path::Path) -> Result<NpyArray, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::whole(e).in_file(path))?;
    parse_npy(&bytes).map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 `.npy` file with this header dict and data.
    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{header:<54}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn npy_headers_parse() {
        let data: Vec<u8> = [7i64, -1, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut bytes = npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
            &data,
        );
        let array = parse_npy(&bytes).unwrap();
        assert_eq!(array.shape, vec![3]);
        assert_eq!(array.values, NpyValues::Int(vec![7, -1, 2]));
        bytes.pop();
        let error = parse_npy(&bytes).unwrap_err();
        assert_eq!(
            error.place,
            Place::NpyData {
                start: (bytes.len() - 23) as u64
            }
        );
        assert!(error.reason.starts_with("23 bytes"), "{error}");
    }

    #[test]
    fn every_accepted_dtype_is_read() {
        let cases: [(&str, Vec<u8>, NpyValues); 4] = [
            (
                "<f8",
                [0.1f64, -2.0]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                NpyValues::Float(vec![0.1, -2.0]),
            ),
            (
                "<f4",
                [0.1f32, -2.0]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                NpyValues::Float(vec![f64::from(0.1f32), -2.0]),
            ),
            (
                "<i4",
                [i32::MIN, 5].iter().flat_map(|v| v.to_le_bytes()).collect(),
                NpyValues::Int(vec![i64::from(i32::MIN), 5]),
            ),
            ("|u1", vec![255, 0], NpyValues::Int(vec![255, 0])),
        ];
        for (descr, data, expected) in cases {
            let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}");
            assert_eq!(parse_npy(&npy(&header, &data)).unwrap().values, expected);
        }
    }

    #[test]
    fn hostile_npy_files_are_refused_without_panicking() {
        let cases: [(Vec<u8>, &str); 7] = [
            (b"\x93NUM".to_vec(), "not a .npy file"),
            (b"\x93NUMPY\x01\x00\xff".to_vec(), ".npy header: truncated"),
            (
                b"\x93NUMPY\x02\x00\xff\xff\xff\xff{'descr'".to_vec(),
                ".npy header: truncated",
            ),
            (b"\x93NUMPY\x07\x00\x10\x00".to_vec(), ".npy header:"),
            (
                npy(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 2), }",
                    &[],
                ),
                "too large",
            ),
            (
                npy(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                    &[0; 8],
                ),
                "expected 1000000000000 values",
            ),
            (
                npy(
                    "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
                    &[0; 2],
                ),
                ".npy header['descr']: dtype <f2 is not supported",
            ),
        ];
        for (bytes, expected) in cases {
            let error = parse_npy(&bytes).unwrap_err().to_string();
            assert!(
                error.contains(expected),
                "expected {expected:?}, got {error:?}"
            );
        }
    }
}
