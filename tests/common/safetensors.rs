//! Writing safetensors files in tests: an 8-byte little-endian header length, the JSON
//! header (dtype, shape and data offsets per tensor, `__metadata__`), then the data.

/// One tensor to write: name, dtype, shape, raw little-endian data.
pub struct Entry<'a> {
    pub name: &'a str,
    pub dtype: &'a str,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

pub fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn f32_entry<'a>(name: &'a str, shape: &[usize], values: &[f32]) -> Entry<'a> {
    Entry {
        name,
        dtype: "F32",
        shape: shape.to_vec(),
        data: f32s(values),
    }
}

/// A safetensors file as the format describes it (8-byte length, JSON header, data).
pub fn safetensors(entries: &[Entry], metadata: Option<serde_json::Value>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for entry in entries {
        let begin = data.len();
        data.extend_from_slice(&entry.data);
        header.insert(
            entry.name.to_string(),
            serde_json::json!({"dtype": entry.dtype, "shape": entry.shape, "data_offsets": [begin, data.len()]}),
        );
    }
    if let Some(metadata) = metadata {
        header.insert("__metadata__".into(), metadata);
    }
    let header = serde_json::Value::Object(header).to_string();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&data);
    bytes
}
