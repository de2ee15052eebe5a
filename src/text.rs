//! JSON text shared by the certificate writer and the network writer: quoting and the
//! `"layers"` array (one weight row per line), kept apart so that neither imports the other.

use slth_checker::certificate::LayerJson;
use std::io;

/// `text` as a JSON string.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// Writes `quoted(text)`: directly when the text has nothing JSON escapes (a quote, a
/// backslash, a control character; a number's text never has), else through serde_json.
pub fn write_quoted(out: &mut dyn io::Write, text: &str) -> io::Result<()> {
    if text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.write_all(quoted(text).as_bytes())
    } else {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    }
}

/// Writes `"layers": [...]` with one weight row per line (shared with network files).
pub fn write_layers(out: &mut String, layers: &[LayerJson], indent: &str) {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail; the text is UTF-8.
    let _ = write_layers_to(&mut bytes, layers, indent);
    out.push_str(&String::from_utf8(bytes).unwrap_or_default());
}

pub fn write_layers_to(
    out: &mut dyn io::Write,
    layers: &[LayerJson],
    indent: &str,
) -> io::Result<()> {
    writeln!(out, "{indent}\"layers\": [")?;
    for (i, layer) in layers.iter().enumerate() {
        writeln!(out, "{indent}  {{")?;
        writeln!(out, "{indent}    \"weights\": [")?;
        for (r, row) in layer.weights.iter().enumerate() {
            write!(out, "{indent}      [")?;
            for (c, x) in row.iter().enumerate() {
                if c > 0 {
                    out.write_all(b", ")?;
                }
                write_quoted(out, &x.0)?;
            }
            let sep = if r + 1 < layer.weights.len() { "," } else { "" };
            writeln!(out, "]{sep}")?;
        }
        writeln!(out, "{indent}    ],")?;
        writeln!(
            out,
            "{indent}    \"activation\": {}",
            quoted(&layer.activation)
        )?;
        let sep = if i + 1 < layers.len() { "," } else { "" };
        writeln!(out, "{indent}  }}{sep}")?;
    }
    writeln!(out, "{indent}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_quoted_writes_serde_jsons_text() {
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
            let mut out = b"[".to_vec();
            write_quoted(&mut out, text).unwrap();
            assert_eq!(out, format!("[{}", quoted(text)).into_bytes(), "{text:?}");
        }
    }
}
