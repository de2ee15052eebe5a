//! The errors of slth's library: each says what went wrong and where (an option, a file
//! and the place in it, a block of the construction). The binary turns them into one line
//! and an exit code, in one place.

use crate::import::error::ImportError;
use slth_checker::LoadError;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An option that cannot be used as given.
    #[error("--{option}: {reason}")]
    Usage { option: String, reason: String },
    /// An input file that cannot be read as what it should be (`reason` names the place in
    /// it).
    #[error("{file}: {reason}")]
    Input { file: String, reason: String },
    /// A trained network or array that cannot be imported: the file, the place in it (a
    /// tensor, a key of the metadata, a part of an `.npy`) and the reason.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A target that the construction cannot handle, or an epsilon it cannot meet.
    #[error("{file}: {reason}")]
    Certify { file: String, reason: String },
    /// A certificate that could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A certificate that was read and is wrong: its target or ticket cannot be used, or
    /// an exact evaluation exceeds its epsilon.
    #[error("{file}: {}{reason}", after(place))]
    Rejected {
        file: String,
        /// The place in the certificate (empty when the reason names it).
        place: String,
        reason: String,
    },
}

/// `place: `, or nothing for an empty place.
fn after(place: &str) -> String {
    if place.is_empty() {
        String::new()
    } else {
        format!("{place}: ")
    }
}

impl Error {
    /// A usage error of option `--option`.
    pub fn usage(option: &str, reason: impl std::fmt::Display) -> Error {
        Error::Usage {
            option: option.to_string(),
            reason: reason.to_string(),
        }
    }

    /// An input error in `file`.
    pub fn input(file: &std::path::Path, reason: impl std::fmt::Display) -> Error {
        Error::Input {
            file: file.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
