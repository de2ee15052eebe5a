//! Reading trained networks: safetensors files (PyTorch MLPs, [`load_safetensors`]) and
//! `.npy` arrays ([`load_npy`]), every value converted to its exact rational.
//!
//! The file formats are read by the `safetensors` and `npyz` crates; what is slth's own is
//! turning tensors into a network (names, layer order, activations: module `mlp`),
//! decoding every value exactly (modules `safetensors` and `npy`), and saying which tensor,
//! key or byte is at fault, apart from why (module `error`).
//!
//! A state_dict does not carry activations, so [`load_target_stated`] says where a
//! network's activations come from ([`ActivationSource`]): the network file, the
//! safetensors `__metadata__`, `certify --activations`, or the assumption hidden ReLU and a
//! linear last layer. Two statements that disagree are refused, naming both.

pub mod error;
mod mlp;
mod npy;
mod safetensors;

pub use self::error::{ImportError, Place};
pub use self::mlp::{
    load_safetensors, load_safetensors_stated, network_from_tensors, network_from_tensors_stated,
};
pub use self::npy::{NpyArray, NpyValues, load_npy, parse_npy};
pub use self::safetensors::{
    Dtype, MAX_HEADER_BYTES, SafeTensors, Tensor, bf16_to_f64, f16_to_f64, parse_safetensors,
};

use crate::network::{Activation, BiasedNetwork};

/// Where the activations of a network come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationSource {
    /// a JSON network file, which states one per layer (and `--activations` agreed if given)
    NetworkFile,
    /// the safetensors `__metadata__` {"activations": "..."}
    Metadata,
    /// both the metadata and `--activations`, which agree
    MetadataAndFlag,
    /// `certify --activations`
    Flag,
    /// nothing stated them: hidden ReLU, last layer linear
    Assumed,
}

impl ActivationSource {
    /// The words `meta.activations.source` records and `certify` and `inspect` print.
    pub fn describe(self) -> &'static str {
        match self {
            ActivationSource::NetworkFile => "stated in the network file",
            ActivationSource::Metadata => "stated in metadata",
            ActivationSource::MetadataAndFlag => "stated in metadata and by --activations",
            ActivationSource::Flag => "stated by --activations",
            ActivationSource::Assumed => ASSUMED,
        }
    }
}

/// `meta.activations.source` of activations nobody stated.
pub const ASSUMED: &str = "assumed: hidden ReLU, last layer linear";

/// The names of activations as `--activations` and the metadata write them: `relu,linear`.
pub fn activation_list(activations: impl IntoIterator<Item = Activation>) -> String {
    activations
        .into_iter()
        .map(Activation::name)
        .collect::<Vec<_>>()
        .join(",")
}

/// How a user states activations that were assumed: the option and the metadata entry.
pub fn how_to_state(list: &str) -> String {
    format!(
        "state them with `certify --activations {list}` (or the safetensors __metadata__ {{\"activations\": \"{list}\"}}); slth reads only ReLU and a linear last layer, so a model with Tanh, Sigmoid or Softmax cannot be certified"
    )
}

/// Parses the names of the activations of a network of `count` layers, as stated at
/// `place` (`--activations`, or the safetensors `__metadata__.activations`).
pub fn parse_activations(
    names: &[String],
    count: usize,
    place: Place,
) -> Result<Vec<Activation>, ImportError> {
    if names.len() != count {
        return Err(ImportError::at(
            place,
            format!("{} names for {count} layers", names.len()),
        ));
    }
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Activation::parse(name.trim(), i + 1 == count)
                .map_err(|e| ImportError::at(place.clone(), format!("layer {}: {e}", i + 1)))
        })
        .collect()
}

/// Reads a target network file, recognised by its content (not its name): a safetensors
/// file (a PyTorch MLP), else a JSON network file (docs/FORMAT.md section 3). A pickled
/// `torch.save` file, a zip archive (`.pt`, `.npz`) or an `.npy` array is refused with the
/// conversion that makes it readable.
pub fn load_target(path: &std::path::Path) -> Result<BiasedNetwork, ImportError> {
    load_target_stated(path, None).map(|(network, _)| network)
}

/// What a file is, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// an 8-byte little-endian header length, then a JSON header beginning with `{`
    Safetensors,
    /// `PK\x03\x04`: a zip archive, as `torch.save` (since PyTorch 1.6) and `numpy.savez` write
    Zip,
    /// `\x80` and a protocol number 2 to 5: a pickle, as older `torch.save` writes
    Pickle,
    /// `\x93NUMPY`: a `.npy` array
    Npy,
    /// anything else, read as JSON text
    Other,
}

/// Recognises a file by its first bytes (`bytes` may be the whole file or its beginning).
pub fn file_kind(bytes: &[u8]) -> FileKind {
    if bytes.starts_with(b"PK\x03\x04") {
        return FileKind::Zip;
    }
    if bytes.starts_with(b"\x93NUMPY") {
        return FileKind::Npy;
    }
    if let [0x80, 2..=5, ..] = bytes {
        return FileKind::Pickle;
    }
    if bytes.len() >= 9 && bytes[8] == b'{' && bytes[..8].iter().skip(6).all(|b| *b == 0) {
        return FileKind::Safetensors;
    }
    FileKind::Other
}

/// How to make a PyTorch model readable, for the refusals of pickles and archives.
const CONVERT: &str = "convert it with `from safetensors.torch import save_file; save_file(model.state_dict(), \"model.safetensors\")` (a state_dict of tensors) and certify that file";

/// The refusal of a file that is not a network slth reads, by its kind; None for the kinds
/// it reads.
pub fn refusal(kind: FileKind) -> Option<String> {
    match kind {
        FileKind::Zip => Some(format!(
            "a zip archive, as torch.save (.pt, .pth) and numpy.savez (.npz) write, which slth does not read (unpickling runs code); {CONVERT}; for a .npz of weight arrays, save them with safetensors.numpy.save_file"
        )),
        FileKind::Pickle => Some(format!(
            "a pickle, as torch.save (.pt, .pth, .bin) writes, which slth does not read (unpickling runs code); {CONVERT}"
        )),
        FileKind::Npy => Some(format!(
            "a .npy array, not a network (slth reads .npy only for eval --inputs and --labels); {CONVERT}"
        )),
        FileKind::Safetensors | FileKind::Other => None,
    }
}

/// [`load_target`] with the activations `certify --activations` states (if any): they must
/// agree with what the file states, and the result says where the activations come from.
pub fn load_target_stated(
    path: &std::path::Path,
    stated: Option<&[String]>,
) -> Result<(BiasedNetwork, ActivationSource), ImportError> {
    let mut start = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut file| {
        use std::io::Read as _;
        let mut filled = 0;
        while filled < start.len() {
            match file.read(&mut start[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    });
    let read = read.map_err(|e| ImportError::whole(e).in_file(path))?;
    let kind = file_kind(&start[..read]);
    if let Some(reason) = refusal(kind) {
        return Err(ImportError::whole(format!("this file is {reason}")).in_file(path));
    }
    // A damaged file named .safetensors gets the safetensors reader's message.
    let named = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    if kind == FileKind::Safetensors || named {
        return load_safetensors_stated(path, stated);
    }
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::whole(e).in_file(path))?;
    let network =
        BiasedNetwork::from_json_text(&text).map_err(|e| ImportError::whole(e).in_file(path))?;
    if let Some(names) = stated {
        let layers = &network.network.layers;
        let flag = parse_activations(names, layers.len(), Place::Option("activations"))
            .map_err(|e| e.in_file(path))?;
        let file = activation_list(layers.iter().map(|l| l.activation));
        if activation_list(flag.iter().copied()) != file {
            return Err(ImportError::whole(format!(
                "the network file states the activations {file} but --activations says {}: drop --activations or make it agree",
                names.join(",")
            ))
            .in_file(path));
        }
    }
    Ok((network, ActivationSource::NetworkFile))
}
