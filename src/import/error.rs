//! The error of an import: which file, where in it, and what is wrong there, kept apart so
//! that a caller can tell the place from the reason ([`ImportError`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in an imported file something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole: its length, its magic string, or what several tensors say
    /// together (the order of the layers).
    File,
    /// The 8-byte little-endian header length that begins a safetensors file.
    HeaderLength,
    /// The JSON header of a safetensors file, which ends before byte `end` of the file.
    Header { end: u64 },
    /// The data section of a safetensors file: bytes `start..end` of the file.
    Data { start: u64, end: u64 },
    /// A tensor of a safetensors file, by name.
    Tensor(String),
    /// The `__metadata__` of a safetensors file, or one key of it.
    Metadata(Option<String>),
    /// A command-line option that states something about the file (`activations` for
    /// `--activations`).
    Option(&'static str),
    /// The header dict of a `.npy` file, or one key of it (`descr`, `fortran_order`,
    /// `shape`).
    NpyHeader(Option<&'static str>),
    /// The data of a `.npy` file, which begins at byte `start`.
    NpyData { start: u64 },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => Ok(()),
            Place::HeaderLength => write!(f, "header length (bytes 0..8)"),
            Place::Header { end } => write!(f, "header (bytes 8..{end})"),
            Place::Data { start, end } => write!(f, "data section (bytes {start}..{end})"),
            Place::Tensor(name) => write!(f, "tensor {name}"),
            Place::Metadata(None) => write!(f, "__metadata__"),
            Place::Metadata(Some(key)) => write!(f, "__metadata__.{key}"),
            Place::Option(name) => write!(f, "--{name}"),
            Place::NpyHeader(None) => write!(f, ".npy header"),
            Place::NpyHeader(Some(key)) => write!(f, ".npy header['{key}']"),
            Place::NpyData { start } => write!(f, ".npy data (from byte {start})"),
        }
    }
}

/// A file that cannot be imported: the file (once known: the parsers see only bytes, and
/// the loaders add the path), the place in it, and the reason. Displayed as one line,
/// `file: place: reason`, leaving out what is not known or not needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file, when the error came through a loader that read it from disk.
    pub file: Option<PathBuf>,
    /// Where in the file.
    pub place: Place,
    /// What is wrong there.
    pub reason: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}: ", file.display())?;
        }
        if self.place != Place::File {
            write!(f, "{}: ", self.place)?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ImportError {}

impl ImportError {
    /// An error at `place` of a file not yet named.
    pub fn at(place: Place, reason: impl fmt::Display) -> ImportError {
        ImportError {
            file: None,
            place,
            reason: reason.to_string(),
        }
    }

    /// An error about the file as a whole.
    pub fn whole(reason: impl fmt::Display) -> ImportError {
        ImportError::at(Place::File, reason)
    }

    /// The same error, in `file`.
    pub fn in_file(self, file: &Path) -> ImportError {
        ImportError {
            file: Some(file.to_path_buf()),
            ..self
        }
    }
}

/// What a tensor that is neither `weight` nor `bias` is, and why it is refused.
pub(super) fn not_linear(parameter: &str) -> String {
    let only = "slth reads MLPs made of nn.Linear and nn.ReLU";
    if matches!(
        parameter,
        "running_mean" | "running_var" | "num_batches_tracked"
    ) {
        format!(
            "a BatchNorm buffer ({parameter}), not the weight or bias of an nn.Linear; {only}: fold the BatchNorm into the Linear before it (W' = diag(gamma / sqrt(var + eps)) W, b' likewise) and save that model"
        )
    } else {
        format!("not the weight or bias of an nn.Linear ({only})")
    }
}

/// The refusal of a tensor whose dtype slth does not read: a BatchNorm buffer
/// (`num_batches_tracked` is I64) is named as such.
pub(super) fn unsupported_dtype(name: &str, dtype: impl std::fmt::Display) -> String {
    let parameter = name.rsplit_once('.').map_or(name, |(_, p)| p);
    if matches!(parameter, "weight" | "bias") {
        format!("dtype {dtype} is not supported (F32, F64, F16 or BF16)")
    } else {
        format!("dtype {dtype}: {}", not_linear(parameter))
    }
}
