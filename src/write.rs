//! Writing a certificate: deterministic JSON text, two-space indentation, one matrix row or
//! ticket entry per line, fields in the order of docs/FORMAT.md section 7. The same text
//! for the same certificate, byte for byte, is what lets a test regenerate the committed
//! certificates exactly.

use crate::error::Error;
use slth_checker::certificate::{COMPACT_FORMAT_NAME, Certificate, LayerJson, Rational};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// Appends `quoted(text)`: directly when the text has nothing JSON escapes (a quote, a
/// backslash, a control character; a number's text never has), else through serde_json.
fn push_quoted(out: &mut String, text: &str) {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(&quoted(text));
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// The certificate as deterministic JSON text.
pub fn to_json_text(certificate: &Certificate) -> String {
    json_text(certificate, &certificate.format)
}

/// The certificate as deterministic JSON text, saying `format`.
fn json_text(certificate: &Certificate, format: &str) -> String {
    let mut out = String::new();
    let c = certificate;
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"format\": {},", quoted(format));
    let _ = writeln!(out, "  \"version\": {},", c.version);
    let _ = writeln!(out, "  \"target\": {{");
    let _ = writeln!(out, "    \"input_dim\": {},", c.target.input_dim);
    write_layers(&mut out, &c.target.layers, "    ");
    let _ = writeln!(out, "  }},");
    let _ = writeln!(out, "  \"domain\": {{");
    let _ = writeln!(out, "    \"norm\": {},", quoted(&c.domain.norm));
    let _ = writeln!(out, "    \"radius\": {},", quoted(&c.domain.radius.0));
    let _ = writeln!(out, "    \"nonnegative\": {}", c.domain.nonnegative);
    let _ = writeln!(out, "  }},");
    let rn = &c.random_network;
    let _ = writeln!(out, "  \"random_network\": {{");
    let _ = writeln!(out, "    \"rng\": {},", quoted(&rn.rng));
    let _ = writeln!(out, "    \"seed\": {},", quoted(&rn.seed));
    let _ = writeln!(out, "    \"distribution\": {},", quoted(&rn.distribution));
    let widths: Vec<String> = rn.hidden_widths.iter().map(|w| w.to_string()).collect();
    let _ = writeln!(out, "    \"hidden_widths\": [{}]", widths.join(", "));
    let _ = writeln!(out, "  }},");
    let _ = writeln!(out, "  \"ticket\": [");
    // A compact certificate leaves every value out (docs/FORMAT.md section 14.1).
    let values = format != COMPACT_FORMAT_NAME;
    for (b, block) in c.ticket.iter().enumerate() {
        let _ = writeln!(out, "    {{");
        write_entries(&mut out, "hidden", &block.hidden, true, values);
        write_entries(&mut out, "output", &block.output, false, values);
        let sep = if b + 1 < c.ticket.len() { "," } else { "" };
        let _ = writeln!(out, "    }}{sep}");
    }
    let _ = writeln!(out, "  ],");
    let _ = writeln!(out, "  \"bound\": {{");
    let _ = writeln!(out, "    \"blocks\": [");
    for (b, block) in c.bound.blocks.iter().enumerate() {
        let mut fields = vec![
            format!("\"error\": {}", quoted(&block.error.0)),
            format!("\"lipschitz\": {}", quoted(&block.lipschitz.0)),
        ];
        if let Some(method) = &block.lipschitz_method {
            fields.push(format!("\"lipschitz_method\": {}", quoted(method)));
        }
        if let Some(witness) = &block.lipschitz_witness {
            fields.push(format!("\"lipschitz_witness\": {}", witness_text(witness)));
        }
        if let Some(method) = &block.error_method {
            fields.push(format!("\"error_method\": {}", quoted(method)));
        }
        if let Some(witness) = &block.error_witness {
            fields.push(format!("\"error_witness\": {}", witness_text(witness)));
        }
        let sep = if b + 1 < c.bound.blocks.len() {
            ","
        } else {
            ""
        };
        let _ = writeln!(out, "      {{{}}}{sep}", fields.join(", "));
    }
    let _ = writeln!(out, "    ],");
    let _ = writeln!(out, "    \"epsilon\": {}", quoted(&c.bound.epsilon.0));
    match &c.meta {
        Some(meta) => {
            let _ = writeln!(out, "  }},");
            let meta = serde_json::to_string(meta).unwrap_or_else(|_| "{}".to_string());
            let _ = writeln!(out, "  \"meta\": {meta}");
        }
        None => {
            let _ = writeln!(out, "  }}");
        }
    }
    let _ = writeln!(out, "}}");
    out
}

/// Writes `"layers": [...]` with one weight row per line (shared with network files).
pub fn write_layers(out: &mut String, layers: &[LayerJson], indent: &str) {
    let _ = writeln!(out, "{indent}\"layers\": [");
    for (i, layer) in layers.iter().enumerate() {
        let _ = writeln!(out, "{indent}  {{");
        let _ = writeln!(out, "{indent}    \"weights\": [");
        for (r, row) in layer.weights.iter().enumerate() {
            let _ = write!(out, "{indent}      [");
            for (c, x) in row.iter().enumerate() {
                if c > 0 {
                    out.push_str(", ");
                }
                push_quoted(out, &x.0);
            }
            let sep = if r + 1 < layer.weights.len() { "," } else { "" };
            let _ = writeln!(out, "]{sep}");
        }
        let _ = writeln!(out, "{indent}    ],");
        let _ = writeln!(
            out,
            "{indent}    \"activation\": {}",
            quoted(&layer.activation)
        );
        let sep = if i + 1 < layers.len() { "," } else { "" };
        let _ = writeln!(out, "{indent}  }}{sep}");
    }
    let _ = writeln!(out, "{indent}]");
}

fn write_entries(
    out: &mut String,
    name: &str,
    entries: &[(u64, u64, Rational)],
    comma: bool,
    values: bool,
) {
    if entries.is_empty() {
        let _ = writeln!(out, "      \"{name}\": []{}", if comma { "," } else { "" });
        return;
    }
    let _ = writeln!(out, "      \"{name}\": [");
    for (k, (a, b, value)) in entries.iter().enumerate() {
        let sep = if k + 1 < entries.len() { "," } else { "" };
        match values {
            true => writeln!(out, "        [{a}, {b}, {}]{sep}", quoted(&value.0)),
            false => writeln!(out, "        [{a}, {b}]{sep}"),
        }
        .unwrap_or_default();
    }
    let _ = writeln!(out, "      ]{}", if comma { "," } else { "" });
}

/// How `certify` writes a certificate's ticket (docs/FORMAT.md section 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Every kept entry with its value (format "slth-certificate").
    Full,
    /// Kept entries without their values (format "slth-compact-certificate").
    Compact,
}

impl Encoding {
    /// The encoding asked for, else compact for a gzip name (`.gz`) and full otherwise.
    pub fn for_output(asked: Option<Encoding>, path: Option<&Path>) -> Encoding {
        let gzip = path.is_some_and(slth_checker::certificate::named_gzip);
        asked.unwrap_or(if gzip {
            Encoding::Compact
        } else {
            Encoding::Full
        })
    }
}

/// Writes a certificate to `path` (stdout for None or `-`) in `encoding`, gzip-compressed
/// when the name ends in `.gz` (docs/FORMAT.md section 14.2).
pub fn write_certificate(
    path: Option<&Path>,
    certificate: &Certificate,
    encoding: Encoding,
) -> Result<(), Error> {
    let text = match encoding {
        Encoding::Full => to_json_text(certificate),
        Encoding::Compact => json_text(certificate, COMPACT_FORMAT_NAME),
    };
    let file = path.filter(|p| *p != Path::new("-"));
    match file.filter(|p| slth_checker::certificate::named_gzip(p)) {
        Some(file) => write_file(file, &gzip(text.as_bytes())),
        None => write_output(path, &text),
    }
}

/// `bytes` as one gzip member (RFC 1952), deterministic: no name, modification time 0.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use flate2::{Compression, GzBuilder};
    let mut encoder = GzBuilder::new().write(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Writes `text` to `path` through a temporary file beside it and a rename, so that the file
/// is either whole or untouched; to standard output when `path` is None or `-` (a reader
/// that went away is not an error).
pub fn write_output(path: Option<&Path>, text: &str) -> Result<(), Error> {
    write_bytes(path, text.as_bytes())
}

/// Checks, before the work that produces it, that output can be written to `path`: its
/// folder exists and a file can be created in it (a file is created and removed). Nothing
/// to check for standard output (None or `-`).
pub fn check_output(path: Option<&Path>) -> Result<(), Error> {
    let Some(path) = path.filter(|p| *p != Path::new("-")) else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(Error::input(path, "is a directory, not a file to write"));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::input(
            path,
            format!(
                "cannot write here: the folder {} does not exist",
                folder.display()
            ),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let probe = folder.join(format!(".{name}.{}.probe", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| Error::input(path, format!("cannot write here: {e}")))
}

/// [`write_output`] for bytes.
pub fn write_bytes(path: Option<&Path>, bytes: &[u8]) -> Result<(), Error> {
    match path.filter(|p| *p != Path::new("-")) {
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(Error::input(Path::new("standard output"), e))
                }
                _ => Ok(()),
            }
        }
        Some(path) => write_file(path, bytes),
    }
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename: the file is
/// either whole or untouched.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    // A device (`-o /dev/null`), a pipe or a symbolic link is written in place: a rename
    // would replace it with a regular file (as root, /dev/null itself).
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return std::fs::write(path, bytes).map_err(|e| Error::input(path, e));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            Error::input(path, e)
        })
}

/// A witness `{"shift": ..., "factor": [[...], ...]}` on one line.
fn witness_text(witness: &slth_checker::certificate::LipschitzWitness) -> String {
    let rows: Vec<String> = witness
        .factor
        .iter()
        .map(|row| {
            let cells: Vec<String> = row.iter().map(|x| quoted(&x.0)).collect();
            format!("[{}]", cells.join(", "))
        })
        .collect();
    format!(
        "{{\"shift\": {}, \"factor\": [{}]}}",
        quoted(&witness.shift.0),
        rows.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use slth_checker::certificate::parse;

    #[test]
    fn push_quoted_writes_serde_jsons_text() {
        let texts = [
            "",
            "-3/4",
            "1",
            "a\"b",
            "back\\slash",
            "tab\there",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "é/ü",
            "\u{2028}",
            "/",
            "new\nline",
        ];
        for text in texts {
            let mut out = String::from("[");
            push_quoted(&mut out, text);
            assert_eq!(out, format!("[{}", quoted(text)), "{text:?}");
        }
    }

    /// A symbolic link stays a link and its target gets the bytes (a rename over the link
    /// would replace it, as it replaced /dev/null with a regular file before).
    #[cfg(unix)]
    #[test]
    fn links_are_written_through_not_replaced() {
        let dir = std::env::temp_dir().join(format!("slth-write-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target.json");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let plain = dir.join("plain.json");
        write_file(&plain, b"bytes").unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), b"bytes");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The committed certificates were written by this writer: reading one and writing it
    /// again gives the file back, byte for byte.
    #[test]
    fn committed_certificates_are_written_back_byte_for_byte() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let certificate = parse(&text).unwrap();
            assert_eq!(to_json_text(&certificate), text, "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 6, "only {seen} certificates");
    }
}
