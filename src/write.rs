//! Writing a certificate: deterministic JSON text, two-space indentation, one matrix row or
//! ticket entry per line, fields in the order of docs/FORMAT.md section 7. The same text
//! for the same certificate, byte for byte, is what lets a test regenerate the committed
//! certificates exactly.

use crate::error::Error;
use crate::ticket::Ticket;
use slth_checker::certificate::{COMPACT_FORMAT_NAME, Certificate, Rational};
use slth_checker::sampler::WEIGHT_SCALE;
use std::io::{self, Write as _};
use std::path::Path;

use crate::text::{quoted, write_layers_to};

/// The certificate as deterministic JSON text.
pub fn to_json_text(certificate: &Certificate) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and the text is UTF-8 (every string is JSON-quoted).
    let _ = write_json(&mut out, certificate, None, &certificate.format);
    String::from_utf8(out).unwrap_or_default()
}

/// Where the kept entries written come from: the certificate's own `ticket`, or the
/// builder's [`Ticket`] (integers over 2^53, formatted as they are written, so that a
/// certificate of millions of kept weights never holds them all as text).
#[derive(Clone, Copy)]
enum Entries<'a> {
    Text(&'a [(u64, u64, Rational)]),
    Hidden(&'a std::collections::BTreeMap<u64, (u64, i64)>),
    Output(&'a std::collections::BTreeMap<(u64, u64), i64>),
}

impl Entries<'_> {
    fn len(&self) -> usize {
        match self {
            Entries::Text(e) => e.len(),
            Entries::Hidden(e) => e.len(),
            Entries::Output(e) => e.len(),
        }
    }
}

/// Writes the certificate as deterministic JSON text, saying `format`, to `out`; the kept
/// entries come from `ticket` when given (`certificate.ticket` is then not read).
fn write_json(
    out: &mut dyn io::Write,
    certificate: &Certificate,
    ticket: Option<&Ticket>,
    format: &str,
) -> io::Result<()> {
    let c = certificate;
    writeln!(out, "{{")?;
    writeln!(out, "  \"format\": {},", quoted(format))?;
    writeln!(out, "  \"version\": {},", c.version)?;
    writeln!(out, "  \"target\": {{")?;
    writeln!(out, "    \"input_dim\": {},", c.target.input_dim)?;
    write_layers_to(out, &c.target.layers, "    ")?;
    writeln!(out, "  }},")?;
    writeln!(out, "  \"domain\": {{")?;
    writeln!(out, "    \"norm\": {},", quoted(&c.domain.norm))?;
    writeln!(out, "    \"radius\": {},", quoted(&c.domain.radius.0))?;
    writeln!(out, "    \"nonnegative\": {}", c.domain.nonnegative)?;
    writeln!(out, "  }},")?;
    let rn = &c.random_network;
    writeln!(out, "  \"random_network\": {{")?;
    writeln!(out, "    \"rng\": {},", quoted(&rn.rng))?;
    writeln!(out, "    \"seed\": {},", quoted(&rn.seed))?;
    writeln!(out, "    \"distribution\": {},", quoted(&rn.distribution))?;
    let widths: Vec<String> = rn.hidden_widths.iter().map(|w| w.to_string()).collect();
    writeln!(out, "    \"hidden_widths\": [{}]", widths.join(", "))?;
    writeln!(out, "  }},")?;
    writeln!(out, "  \"ticket\": [")?;
    // A compact certificate leaves every value out (docs/FORMAT.md section 14.1).
    let values = format != COMPACT_FORMAT_NAME;
    let blocks: Vec<(Entries, Entries)> = match ticket {
        Some(t) => t
            .blocks
            .iter()
            .map(|b| (Entries::Hidden(&b.hidden), Entries::Output(&b.output)))
            .collect(),
        None => c
            .ticket
            .iter()
            .map(|b| (Entries::Text(&b.hidden), Entries::Text(&b.output)))
            .collect(),
    };
    for (b, (hidden, output)) in blocks.iter().enumerate() {
        writeln!(out, "    {{")?;
        write_entries(out, "hidden", *hidden, true, values)?;
        write_entries(out, "output", *output, false, values)?;
        let sep = if b + 1 < blocks.len() { "," } else { "" };
        writeln!(out, "    }}{sep}")?;
    }
    writeln!(out, "  ],")?;
    writeln!(out, "  \"bound\": {{")?;
    writeln!(out, "    \"blocks\": [")?;
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
        writeln!(out, "      {{{}}}{sep}", fields.join(", "))?;
    }
    writeln!(out, "    ],")?;
    if let Some(terms) = &c.bound.terms {
        write_terms(out, terms)?;
    }
    if let Some(joint) = &c.bound.joint {
        write_joint(out, joint)?;
    }
    writeln!(out, "    \"epsilon\": {}", quoted(&c.bound.epsilon.0))?;
    match &c.meta {
        Some(meta) => {
            writeln!(out, "  }},")?;
            let meta = serde_json::to_string(meta).unwrap_or_else(|_| "{}".to_string());
            writeln!(out, "  \"meta\": {meta}")?;
        }
        None => {
            writeln!(out, "  }}")?;
        }
    }
    writeln!(out, "}}")
}

fn write_entries(
    out: &mut dyn io::Write,
    name: &str,
    entries: Entries,
    comma: bool,
    values: bool,
) -> io::Result<()> {
    let comma = if comma { "," } else { "" };
    let count = entries.len();
    if count == 0 {
        return writeln!(out, "      \"{name}\": []{comma}");
    }
    writeln!(out, "      \"{name}\": [")?;
    let mut entry = |k: usize, a: u64, b: u64, value: &dyn std::fmt::Display| {
        let sep = if k + 1 < count { "," } else { "" };
        match values {
            true => writeln!(out, "        [{a}, {b}, \"{value}\"]{sep}"),
            false => writeln!(out, "        [{a}, {b}]{sep}"),
        }
    };
    match entries {
        Entries::Text(list) => {
            for (k, (a, b, value)) in list.iter().enumerate() {
                // The quoted text without its quotes: a rational needs no escapes, but
                // any text is written as serde_json quotes it.
                let text = quoted(&value.0);
                let inner = &text[1..text.len() - 1];
                entry(k, *a, *b, &inner)?;
            }
        }
        Entries::Hidden(map) => {
            for (k, (&j, &(t, u))) in map.iter().enumerate() {
                entry(k, j, t, &WeightText(u))?;
            }
        }
        Entries::Output(map) => {
            for (k, (&(m, j), &v)) in map.iter().enumerate() {
                entry(k, m, j, &WeightText(v))?;
            }
        }
    }
    writeln!(out, "      ]{comma}")
}

/// A weight of g, numerator over 2^53, as [`crate::ticket::weight_text`] writes it (the
/// reduced fraction, an integer when the denominator is 1), without allocating.
struct WeightText(i64);

impl std::fmt::Display for WeightText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        if n == 0 {
            return write!(f, "0");
        }
        let shift = n.trailing_zeros().min(WEIGHT_SCALE.trailing_zeros());
        let denominator = WEIGHT_SCALE >> shift;
        match denominator {
            1 => write!(f, "{}", n >> shift),
            d => write!(f, "{}/{d}", n >> shift),
        }
    }
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
    stream_certificate(path, certificate, None, encoding)
}

/// [`write_certificate`] for certify's result: `head` is the certificate without its kept
/// entries (its `ticket` is not read), which come from the builder's `ticket`, formatted as
/// they are written.
pub fn write_certified(
    path: Option<&Path>,
    head: &Certificate,
    ticket: &Ticket,
    encoding: Encoding,
) -> Result<(), Error> {
    stream_certificate(path, head, Some(ticket), encoding)
}

/// Streams the JSON text through a buffer (and a gzip encoder for a `.gz` name) into the
/// file, never holding the whole text: the same bytes as [`to_json_text`] (then [`gzip`]).
fn stream_certificate(
    path: Option<&Path>,
    certificate: &Certificate,
    ticket: Option<&Ticket>,
    encoding: Encoding,
) -> Result<(), Error> {
    let format = match encoding {
        Encoding::Full => certificate.format.as_str(),
        Encoding::Compact => COMPACT_FORMAT_NAME,
    };
    let file = path.filter(|p| *p != Path::new("-"));
    let gzipped = file.is_some_and(slth_checker::certificate::named_gzip);
    let write = |out: &mut dyn io::Write| -> io::Result<()> {
        if gzipped {
            use flate2::{Compression, GzBuilder};
            let mut encoder = GzBuilder::new().write(out, Compression::default());
            write_json(&mut encoder, certificate, ticket, format)?;
            encoder.finish()?.flush()
        } else {
            write_json(out, certificate, ticket, format)?;
            out.flush()
        }
    };
    match file {
        Some(file) => write_file_with(file, |out| write(out)),
        None => {
            let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
            match write(&mut stdout) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(Error::input(Path::new("standard output"), e))
                }
                _ => Ok(()),
            }
        }
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
    write_file_with(path, |out| out.write_all(bytes))
}

/// Writes what `fill` writes (through a buffer) to `path` via a temporary file beside it and
/// a rename: the file is either whole or untouched.
fn write_file_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> Result<(), Error> {
    let buffered = |file: std::fs::File| -> io::Result<()> {
        let mut out = io::BufWriter::with_capacity(1 << 16, file);
        fill(&mut out)?;
        out.flush()
    };
    // A device (`-o /dev/null`), a pipe or a symbolic link is written in place: a rename
    // would replace it with a regular file (as root, /dev/null itself).
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return std::fs::File::create(path)
            .and_then(buffered)
            .map_err(|e| Error::input(path, e));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::File::create(&temporary)
        .and_then(buffered)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temporary);
            Error::input(path, e)
        })
}

/// Writes version 2's `"terms": [...]` (docs/FORMAT.md section 12.5): one product and one
/// factor row per line.
fn write_terms(
    out: &mut dyn io::Write,
    terms: &[slth_checker::certificate::TermBound],
) -> io::Result<()> {
    writeln!(out, "    \"terms\": [")?;
    for (i, term) in terms.iter().enumerate() {
        let rows: Vec<String> = term.multipliers.iter().map(|r| cells(r)).collect();
        let multipliers = [("multipliers", format!("[{}]", rows.join(", ")))];
        let sep = if i + 1 < terms.len() { "," } else { "" };
        write_form(
            out,
            ("      ", "      "),
            &term.lipschitz,
            &multipliers,
            &term.products,
            &term.witness,
            sep,
        )?;
    }
    writeln!(out, "    ],")
}

/// Writes version 2's `"joint": {...}` (docs/FORMAT.md section 12.10.4) as the terms are
/// written.
fn write_joint(
    out: &mut dyn io::Write,
    joint: &slth_checker::certificate::JointBound,
) -> io::Result<()> {
    let head: Vec<String> = joint.head.iter().map(|r| cells(r)).collect();
    let chains: Vec<String> = joint
        .chains
        .iter()
        .map(|chain| {
            let rows: Vec<String> = chain.iter().map(|r| cells(r)).collect();
            format!("[{}]", rows.join(", "))
        })
        .collect();
    let multipliers = [
        ("head", format!("[{}]", head.join(", "))),
        ("chains", format!("[{}]", chains.join(", "))),
    ];
    write_form(
        out,
        ("    \"joint\": ", "    "),
        &joint.lipschitz,
        &multipliers,
        &joint.products,
        &joint.witness,
        ",",
    )
}

/// `["a", "b", ...]` on one line.
fn cells(row: &[Rational]) -> String {
    let cells: Vec<String> = row.iter().map(|x| quoted(&x.0)).collect();
    format!("[{}]", cells.join(", "))
}

/// One term or joint form: `lead.0` then `{`, its lines indented by `lead.1` and two more
/// spaces, `}` + `sep`: lipschitz, the multiplier keys (each on one line), the products and the witness'
/// factor one row per line.
fn write_form(
    out: &mut dyn io::Write,
    (open, pad): (&str, &str),
    lipschitz: &Rational,
    multipliers: &[(&str, String)],
    products: &[(u64, u64, Rational)],
    witness: &slth_checker::certificate::LipschitzWitness,
    sep: &str,
) -> io::Result<()> {
    writeln!(out, "{open}{{")?;
    writeln!(out, "{pad}  \"lipschitz\": {},", quoted(&lipschitz.0))?;
    for (key, value) in multipliers {
        writeln!(out, "{pad}  \"{key}\": {value},")?;
    }
    if products.is_empty() {
        writeln!(out, "{pad}  \"products\": [],")?;
    } else {
        writeln!(out, "{pad}  \"products\": [")?;
        for (k, (a, b, v)) in products.iter().enumerate() {
            let sep = if k + 1 < products.len() { "," } else { "" };
            writeln!(out, "{pad}    [{a}, {b}, {}]{sep}", quoted(&v.0))?;
        }
        writeln!(out, "{pad}  ],")?;
    }
    writeln!(out, "{pad}  \"witness\": {{")?;
    writeln!(out, "{pad}    \"shift\": {},", quoted(&witness.shift.0))?;
    writeln!(out, "{pad}    \"factor\": [")?;
    for (k, r) in witness.factor.iter().enumerate() {
        let sep = if k + 1 < witness.factor.len() {
            ","
        } else {
            ""
        };
        writeln!(out, "{pad}      {}{sep}", cells(r))?;
    }
    writeln!(out, "{pad}    ]")?;
    writeln!(out, "{pad}  }}")?;
    writeln!(out, "{pad}}}{sep}")
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

    /// The streamed weight text is [`crate::ticket::weight_text`]'s, for every kind of
    /// numerator: zero, odd, powers of two of both signs, the extremes, and random ones.
    #[test]
    fn weight_text_without_allocating_matches_the_rational_text() {
        let mut numerators = vec![0i64, 1, -1, 3, -3, WEIGHT_SCALE - 1, 1 - WEIGHT_SCALE];
        for k in 0..53 {
            numerators.extend([
                1i64 << k,
                -(1i64 << k),
                3i64 << k.min(50),
                -(5i64 << k.min(49)),
            ]);
        }
        let mut reader =
            slth_checker::sampler::StreamReader::new(slth_checker::sampler::Seed::from_u64(9), 0);
        numerators.extend((0..2000).map(|i| reader.numerator(i)));
        for n in numerators {
            assert_eq!(
                WeightText(n).to_string(),
                crate::ticket::weight_text(n).0,
                "numerator {n}"
            );
        }
    }

    /// certify's result streamed from its ticket is byte for byte the whole certificate
    /// written from text, in every encoding, plain and gzip.
    #[test]
    fn a_certified_ticket_streams_the_same_bytes_as_its_certificate() {
        use crate::certify::{CertifyOptions, Request, certify};
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/targets/random-8-8-8-1.json"),
        )
        .unwrap();
        let target = crate::network::Network::from_json_text(&text).unwrap();
        let epsilon = num_rational::BigRational::new(1.into(), 20.into());
        let options = CertifyOptions::new(
            Request::Epsilon(epsilon),
            slth_checker::sampler::Seed::from_u64(7),
        );
        let certified = certify(&target, &options).unwrap();
        assert!(certified.head.ticket.is_empty());
        let whole = certified.certificate();
        assert_eq!(whole.ticket.len(), 3);
        let dir = std::env::temp_dir().join(format!("slth-write-stream-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["c.json", "c.json.gz"] {
            for encoding in [Encoding::Full, Encoding::Compact] {
                let (streamed, written) = (dir.join(format!("s-{name}")), dir.join(name));
                write_certified(
                    Some(&streamed),
                    &certified.head,
                    &certified.ticket,
                    encoding,
                )
                .unwrap();
                write_certificate(Some(&written), &whole, encoding).unwrap();
                let bytes = std::fs::read(&streamed).unwrap();
                assert_eq!(bytes, std::fs::read(&written).unwrap(), "{name}");
                let expected = match encoding {
                    Encoding::Full => to_json_text(&whole),
                    Encoding::Compact => {
                        let mut compact = whole.clone();
                        compact.format = COMPACT_FORMAT_NAME.to_string();
                        let mut out = Vec::new();
                        write_json(&mut out, &compact, None, COMPACT_FORMAT_NAME).unwrap();
                        String::from_utf8(out).unwrap()
                    }
                };
                let plain = if name.ends_with(".gz") {
                    assert_eq!(bytes, gzip(expected.as_bytes()), "{name}: one gzip member");
                    expected.clone().into_bytes()
                } else {
                    bytes
                };
                assert_eq!(plain, expected.into_bytes(), "{name}");
            }
        }
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
