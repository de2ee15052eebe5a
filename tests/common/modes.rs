//! slth's reader and verifier in every mode it offers, as one normalized outcome.
//!
//! Library modes: `verify` (exact, default limits), `verify_using(.., Arithmetic::Exact)`
//! (the `--exact` path) and `verify_using(.., Arithmetic::Sound)` (the sound-f64 default
//! of `slth verify`). [`cli`] runs the binary in its modes for a sample of inputs.

use slth_checker::certificate::{self, LoadError, LoadErrorKind};
use slth_checker::verify::{self, Arithmetic, Limits};
use std::path::Path;
use std::process::Command;

/// What slth said about one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub accepted: bool,
    /// The `RejectionKind` name, or `Json` / `Schema` for load errors; empty when accepted.
    pub kind: String,
    pub place: String,
}

impl Outcome {
    fn accept() -> Outcome {
        Outcome {
            accepted: true,
            kind: String::new(),
            place: String::new(),
        }
    }

    fn reject(kind: impl Into<String>, place: impl Into<String>) -> Outcome {
        Outcome {
            accepted: false,
            kind: kind.into(),
            place: place.into(),
        }
    }
}

/// The outcome of a certificate the reader refused: `Json` (not JSON, or unreadable),
/// `Schema` or `Limit`, with the message.
fn load_outcome(e: LoadError) -> Outcome {
    let kind = match e.kind {
        LoadErrorKind::Io | LoadErrorKind::Syntax => "Json",
        LoadErrorKind::Schema => "Schema",
        LoadErrorKind::Limit => "Limit",
    };
    Outcome::reject(kind, e.to_string())
}

/// Names of the library modes, in the order [`library`] returns them.
pub const LIBRARY_MODES: [&str; 3] = ["verify", "exact", "sound"];

/// Reads `text` and verifies it in every library mode.
pub fn library(text: &str) -> Vec<Outcome> {
    let certificate = match certificate::parse(text) {
        Ok(c) => c,
        Err(e) => return vec![load_outcome(e); 3],
    };
    let limits = Limits::default();
    let runs = [
        verify::verify(&certificate),
        verify::verify_using(&certificate, &limits, Arithmetic::Exact),
        verify::verify_using(&certificate, &limits, Arithmetic::Sound),
    ];
    runs.into_iter()
        .map(|r| match r {
            Ok(_) => Outcome::accept(),
            Err(rejection) => Outcome::reject(format!("{:?}", rejection.kind), rejection.place),
        })
        .collect()
}

/// Only the default library mode (for the fuzzer's hot loop).
pub fn default_mode(text: &str) -> Outcome {
    match certificate::parse(text) {
        Ok(c) => match verify::verify_using(&c, &Limits::default(), Arithmetic::Sound) {
            Ok(_) => Outcome::accept(),
            Err(rejection) => Outcome::reject(format!("{:?}", rejection.kind), rejection.place),
        },
        Err(e) => load_outcome(e),
    }
}

/// The command-line modes tried by [`cli`]: the default (sound) and `--exact`.
pub const CLI_MODES: [&[&str]; 2] = [&[], &["--exact"]];

/// `slth verify --json [mode] FILE` for every CLI mode: (accepted, place) from the exit
/// code (0 valid, 1 rejected) and the JSON verdict.
pub fn cli(binary: &Path, file: &Path) -> Vec<(bool, String)> {
    CLI_MODES
        .iter()
        .map(|flags| {
            let out = Command::new(binary)
                .arg("verify")
                .arg("--json")
                .args(*flags)
                .arg(file)
                .output()
                .expect("run slth");
            let code = out.status.code();
            assert!(
                matches!(code, Some(0) | Some(1)),
                "slth verify {flags:?} {} exited with {code:?}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let place = serde_json::from_str::<serde_json::Value>(stdout.trim())
                .ok()
                .and_then(|v| v.get("place").and_then(|p| p.as_str()).map(String::from))
                .unwrap_or_default();
            (code == Some(0), place)
        })
        .collect()
}
