//! Reading trained networks: safetensors files (PyTorch MLPs, [`load_safetensors`]) and
//! `.npy` arrays ([`load_npy`]), every value converted to its exact rational.
//!
//! The file formats are read by the `safetensors` and `npyz` crates; what is slth's own is
//! turning tensors into a network (names, layer order, activations: module `safetensors`),
//! decoding every value exactly, and saying which tensor or field is at fault.

mod npy;
mod safetensors;

pub use self::npy::{NpyArray, NpyValues, load_npy, parse_npy};
pub use self::safetensors::{
    Dtype, MAX_HEADER_BYTES, SafeTensors, Tensor, bf16_to_f64, f16_to_f64, load_safetensors,
    network_from_tensors, parse_safetensors,
};

use crate::error::Error;
use crate::network::BiasedNetwork;

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
