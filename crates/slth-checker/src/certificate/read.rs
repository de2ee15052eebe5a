//! The streaming reader: a certificate file within [`Limits`], never held whole. It
//! decides the shape of docs/FORMAT.md section 7 (every key, type and count; duplicate and
//! unknown keys refused, section 9 item 1) and the resource limits of section 11; numbers
//! stay text until the checks parse them.
//!
//! Reading enforces the size limits while the file streams in: a file over
//! `max_file_bytes`, nesting deeper than `max_nesting`, more layers, rows, columns or kept
//! entries than allowed, or a witness larger than `max_witness_side` stops the reader at
//! that point, so a hostile file never makes the checker hold much more than its limits.
//! (Number lengths are checked where numbers are parsed, which names the place.) The
//! rules applied on the way, and the counts they keep, are in `shape.rs`.

use super::gzip;
use super::shape::{ObjectOnly, READING, Reading, mark_limit_hit};
use super::{Certificate, Limits};
use serde::Deserialize;
use std::io::Read;

/// Why a certificate could not be read; see [`LoadError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadErrorKind {
    /// The file is missing or cannot be read (an input error, exit code 2).
    Io,
    /// The text is not JSON (an input error, exit code 2).
    Syntax,
    /// Well-formed JSON that is not a certificate of this format (a rejected certificate).
    Schema,
    /// The file exceeds one of the [`Limits`] (a refused certificate).
    Limit,
}

/// A certificate that could not be read: what went wrong, and where.
///
/// `place` is never empty: a JSON path (`bound.blocks[0].error`) where the reader knows
/// one, else the position in the text (`line 3 column 7`), else `file` for an I/O error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{place}: {detail}", file.as_ref().map(|f| format!("{f}: ")).unwrap_or_default())]
pub struct LoadError {
    pub kind: LoadErrorKind,
    /// The file the certificate was read from, if any.
    pub file: Option<String>,
    pub place: String,
    pub detail: String,
}

impl LoadError {
    pub(super) fn new(
        kind: LoadErrorKind,
        place: impl Into<String>,
        detail: impl Into<String>,
    ) -> LoadError {
        LoadError {
            kind,
            file: None,
            place: place.into(),
            detail: detail.into(),
        }
    }

    fn in_file(mut self, file: &str) -> LoadError {
        self.file = Some(file.to_string());
        self
    }
}

/// Reads a certificate file within `limits`, streaming it (the file is never held whole).
///
/// Refused before parsing: a directory, and a file larger than `max_file_bytes` (1 GiB by
/// default, docs/FORMAT.md section 2.2). A file that starts with the gzip magic bytes is
/// decompressed as it streams, its text held to the same `max_file_bytes` (section 14.2);
/// a file named `.gz` that is not gzip is refused. Cost: one pass over the bytes; memory is
/// that of the certificate itself, which the counted limits bound (section 11).
pub fn load(path: &std::path::Path, limits: &Limits) -> Result<Certificate, LoadError> {
    load_with(path, limits, true)
}

/// [`load`] for the checks alone: a compact certificate's kept entries without value keep
/// the value [`super::OMITTED`], which the checks take as g's weight (docs/FORMAT.md
/// section 14.1), instead of g's weight written out. Anything else must use [`load`].
pub fn load_marked(path: &std::path::Path, limits: &Limits) -> Result<Certificate, LoadError> {
    load_with(path, limits, false)
}

fn load_with(
    path: &std::path::Path,
    limits: &Limits,
    fill: bool,
) -> Result<Certificate, LoadError> {
    let shown = path.display().to_string();
    let io = |detail: String| LoadError::new(LoadErrorKind::Io, "file", detail).in_file(&shown);
    let os = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => io("no such file".to_string()),
        _ => io(format!("cannot be read: {e}")),
    };
    let file = std::fs::File::open(path).map_err(os)?;
    let metadata = file.metadata().map_err(os)?;
    if metadata.is_dir() {
        return Err(io("is a directory".to_string()));
    }
    within_size("file", metadata.len(), limits).map_err(|e| e.in_file(&shown))?;
    let mut file = std::io::BufReader::with_capacity(1 << 16, file);
    let compressed = gzip::starts_gzip(&mut file).map_err(os)?;
    if !compressed && gzip::named_gzip(path) {
        let detail = "is named .gz but is not gzip (it does not start with the bytes 1f 8b)";
        return Err(LoadError::new(LoadErrorKind::Syntax, "file", detail).in_file(&shown));
    }
    let text: Box<dyn Read> = match compressed {
        true => Box::new(gzip::Gunzip::new(file)),
        false => Box::new(file),
    };
    let mut scan = Scan::new(limits);
    scan.decompressed = compressed;
    let reader = std::io::BufReader::with_capacity(1 << 16, Guarded { inner: text, scan });
    let de = serde_json::Deserializer::from_reader(reader);
    read_with(limits, de, fill).map_err(|e| e.in_file(&shown))
}

/// `Ok` when a `what` ("file" or "text") of `bytes` bytes is within `--max-file-size`:
/// `bytes <= max_file_bytes` (docs/FORMAT.md section 2.2).
fn within_size(what: &str, bytes: u64, limits: &Limits) -> Result<(), LoadError> {
    if bytes <= limits.max_file_bytes {
        return Ok(());
    }
    Err(LoadError::new(
        LoadErrorKind::Limit,
        what,
        format!(
            "{what} of {bytes} bytes exceeds the limit of {} bytes (--max-file-size)",
            limits.max_file_bytes
        ),
    ))
}

/// Parses certificate text within the default [`Limits`] (see [`parse_with`]).
///
/// ```
/// let text = std::fs::read_to_string(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../certificates/tiny-3-2-1.json"
/// ))
/// .unwrap();
/// let certificate = slth_checker::certificate::parse(&text).unwrap();
/// assert_eq!(certificate.target.input_dim, 3);
/// assert!(slth_checker::certificate::parse("{\"format\": 1}").is_err());
/// ```
pub fn parse(text: &str) -> Result<Certificate, LoadError> {
    parse_with(text, &Limits::default())
}

/// Parses certificate text within `limits`: its size against `max_file_bytes`, then its
/// nesting (the same scan as [`load`]), then the shape of docs/FORMAT.md section 7 with the
/// counted limits of section 11. Cost: two passes over the text.
pub fn parse_with(text: &str, limits: &Limits) -> Result<Certificate, LoadError> {
    within_size(
        "text",
        u64::try_from(text.len()).unwrap_or(u64::MAX),
        limits,
    )?;
    let mut scan = Scan::new(limits);
    if let Err(m) = scan.feed(text.as_bytes()) {
        return Err(LoadError::new(LoadErrorKind::Limit, "text", m));
    }
    read_with(limits, serde_json::Deserializer::from_str(text), true)
}

// ---------------------------------------------------------------------------------------
// Limits while reading

/// Reads one certificate (objects only, nothing after it) from `de` with `limits`
/// installed for this thread, and sorts its error: a limit that stopped the reader is
/// `Limit` (REFUSED), JSON of the wrong shape `Schema` (INVALID, docs/FORMAT.md section 9
/// item 1), text that is not JSON `Syntax` and a failed read `Io` (exit code 2, section 11).
/// The place is the JSON path where serde knows one, else the line and column.
fn read_with<'de, R: serde_json::de::Read<'de>>(
    limits: &Limits,
    mut de: serde_json::Deserializer<R>,
    fill: bool,
) -> Result<Certificate, LoadError> {
    let outer = READING.with(|r| {
        r.replace(Some(Reading {
            limits: *limits,
            kept: 0,
            limit_hit: false,
        }))
    });
    let mut track = serde_path_to_error::Track::new();
    let result = Certificate::deserialize(ObjectOnly(serde_path_to_error::Deserializer::new(
        &mut de, &mut track,
    )))
    .and_then(|value| {
        de.end()?;
        Ok(value)
    });

    let hit = READING
        .with(|r| r.replace(outer))
        .is_some_and(|s| s.limit_hit);
    result
        .map_err(|e| {
            use serde_json::error::Category;
            let position = format!("line {} column {}", e.line(), e.column());
            let path = track.path().to_string();
            let place = if path.is_empty() || path == "." || path == "?" {
                position
            } else {
                path
            };
            // serde_json appends the position to its message; the place carries it now.
            let message = e.to_string();
            let at = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&at).unwrap_or(&message).to_string();
            if hit {
                return LoadError::new(LoadErrorKind::Limit, place, message);
            }
            match e.classify() {
                Category::Data => LoadError::new(
                    LoadErrorKind::Schema,
                    place,
                    format!("not a valid certificate: {message}{at}"),
                ),
                Category::Io => LoadError::new(
                    LoadErrorKind::Io,
                    "file",
                    format!("cannot be read: {message}"),
                ),
                Category::Syntax | Category::Eof => LoadError::new(
                    LoadErrorKind::Syntax,
                    format!("line {} column {}", e.line(), e.column()),
                    format!("not valid JSON: {message}"),
                ),
            }
        })
        .and_then(|mut certificate| {
            super::compact::complete(&mut certificate, fill).map_err(|e| {
                LoadError::new(
                    LoadErrorKind::Schema,
                    e.place,
                    format!(
                        "not a valid certificate: a kept entry without its value belongs to the format {:?} (docs/FORMAT.md section 14)",
                        super::COMPACT_FORMAT_NAME
                    ),
                )
            })?;
            Ok(certificate)
        })
}

/// Tracks JSON nesting depth (outside strings) byte by byte, and the bytes seen: refuses
/// depth > `max_nesting` or more than `max_file_bytes` bytes (docs/FORMAT.md section 11),
/// before serde_json recurses that deep.
struct Scan {
    max_nesting: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    bytes: u64,
    max_bytes: u64,
    /// Whether the bytes are a gzip file's decompressed text (for the message).
    decompressed: bool,
}

impl Scan {
    fn new(limits: &Limits) -> Scan {
        Scan {
            max_nesting: limits.max_nesting,
            depth: 0,
            in_string: false,
            escaped: false,
            bytes: 0,
            max_bytes: limits.max_file_bytes,
            decompressed: false,
        }
    }

    /// Scans the next chunk; `Err` with the message at the first byte past a limit. The
    /// state carries across chunks, so any chunking gives the same answer. Cost: linear in
    /// the chunk, with string contents skipped by a search for the next quote or escape.
    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        // Saturating: u64::MAX bytes is over any limit anyway.
        self.bytes = self.bytes.saturating_add(data.len() as u64);
        if self.bytes > self.max_bytes {
            let what = match self.decompressed {
                true => "the decompressed text has ",
                false => "",
            };
            return Err(format!(
                "{what}more than {} bytes (--max-file-size)",
                self.max_bytes
            ));
        }
        // `rest` starts at the next byte to scan.
        let mut rest = data;
        while let Some((&byte, after)) = rest.split_first() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    rest = after;
                    continue;
                }
                // Most of a certificate is string content: jump to its next quote or escape.
                match rest.iter().position(|&b| b == b'"' || b == b'\\') {
                    None => return Ok(()),
                    Some(skip) => {
                        if rest[skip] == b'"' {
                            self.in_string = false;
                        } else {
                            self.escaped = true;
                        }
                        rest = &rest[skip..][1..];
                        continue;
                    }
                }
            }
            match byte {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth = self.depth.saturating_add(1);
                    if self.depth > self.max_nesting {
                        let at = self.bytes.saturating_sub(rest.len() as u64);
                        return Err(format!(
                            "arrays and objects nested deeper than {} at byte {at} (--max-nesting)",
                            self.max_nesting
                        ));
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            rest = after;
        }
        Ok(())
    }
}

/// A reader that counts bytes and nesting as they pass (limits on a streamed file).
struct Guarded<R> {
    inner: R,
    scan: Scan,
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(m) = self.scan.feed(&buf[..n]) {
            mark_limit_hit();
            return Err(std::io::Error::other(m));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{"format": "slth-certificate", "version": 1,
      "target": {"input_dim": 1, "layers": [{"weights": [["1/2"]], "activation": "linear"}]},
      "domain": {"norm": "l2", "radius": "1"},
      "random_network": {"rng": "chacha20", "seed": "00", "distribution": "uniform-dyadic-53",
                         "hidden_widths": [1]},
      "ticket": [{"hidden": [[0, 0, "1/4"]], "output": []}],
      "bound": {"blocks": [{"error": "1", "lipschitz": "1"}], "epsilon": "1"},
      "meta": {"anything": [1, 2.5]}}"#;

    #[test]
    fn written_text_parses_back_to_the_same_certificate() {
        let certificate = parse(SMALL).unwrap();
        assert!(!certificate.domain.nonnegative);
        let text = serde_json::to_string(&certificate).unwrap();
        let again = parse(&text).unwrap();
        assert_eq!(again, certificate);
        assert_eq!(serde_json::to_string(&again).unwrap(), text);
    }

    #[test]
    fn unknown_fields_floats_and_syntax_are_told_apart() {
        let unknown = SMALL.replace("\"version\": 1,", "\"version\": 1, \"extra\": 0,");
        assert!(
            matches!(parse(&unknown), Err(e) if e.kind == LoadErrorKind::Schema && e.to_string().contains("extra"))
        );
        let float = SMALL.replace("\"radius\": \"1\"", "\"radius\": 1.0");
        assert!(matches!(
            parse(&float),
            Err(LoadError {
                kind: LoadErrorKind::Schema,
                ..
            })
        ));
        let negative = SMALL.replace("[[0, 0, ", "[[-1, 0, ");
        assert!(matches!(
            parse(&negative),
            Err(LoadError {
                kind: LoadErrorKind::Schema,
                ..
            })
        ));
        assert!(matches!(
            parse("{\"format\": "),
            Err(LoadError {
                kind: LoadErrorKind::Syntax,
                ..
            })
        ));
        assert!(matches!(
            parse("{\"format\": NaN}"),
            Err(LoadError {
                kind: LoadErrorKind::Syntax,
                ..
            })
        ));
        let duplicate = SMALL.replace("\"version\": 1,", "\"version\": 1, \"version\": 1,");
        assert!(
            matches!(parse(&duplicate), Err(e) if e.kind == LoadErrorKind::Schema && e.to_string().contains("duplicate"))
        );
    }

    fn limited(text: &str, set: impl FnOnce(&mut Limits)) -> Result<Certificate, LoadError> {
        let mut limits = Limits::default();
        set(&mut limits);
        parse_with(text, &limits)
    }

    fn limit_message(result: Result<Certificate, LoadError>) -> String {
        match result {
            Err(e) if e.kind == LoadErrorKind::Limit => e.to_string(),
            other => panic!("expected a limit error, got {other:?}"),
        }
    }

    #[test]
    fn structs_must_be_objects_not_arrays() {
        let arrays = SMALL.replace(
            r#""domain": {"norm": "l2", "radius": "1"}"#,
            r#""domain": ["l2", "1"]"#,
        );
        assert_ne!(arrays, SMALL);
        assert!(
            matches!(parse(&arrays), Err(e) if e.kind == LoadErrorKind::Schema && e.to_string().contains("sequence"))
        );
        let witness = SMALL.replace(
            r#""lipschitz": "1"}"#,
            r#""lipschitz": "1", "lipschitz_method": "spectral", "lipschitz_witness": ["0", [["1"]]]}"#,
        );
        assert!(matches!(
            parse(&witness),
            Err(LoadError {
                kind: LoadErrorKind::Schema,
                ..
            })
        ));
        let whole = r#"["slth-certificate", 1]"#;
        assert!(matches!(
            parse(whole),
            Err(LoadError {
                kind: LoadErrorKind::Schema,
                ..
            })
        ));
    }

    #[test]
    fn each_count_limit_is_enforced_while_reading_and_exact_at_the_limit() {
        assert!(limited(SMALL, |l| l.max_layers = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_layers = 0));
        assert!(
            m.contains("target.layers") && m.contains("--max-layers"),
            "{m}"
        );
        assert!(limited(SMALL, |l| l.max_dimension = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_dimension = 0));
        assert!(m.contains("--max-dimension"), "{m}");
        assert!(limited(SMALL, |l| l.max_kept_entries = 1).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_kept_entries = 0));
        assert!(m.contains("--max-kept-entries"), "{m}");
        // Kept entries are counted across blocks and lists.
        let two = SMALL.replace(r#""output": []"#, r#""output": [[0, 0, "1"]]"#);
        assert!(limited(&two, |l| l.max_kept_entries = 2).is_ok());
        assert!(matches!(
            limited(&two, |l| l.max_kept_entries = 1),
            Err(LoadError {
                kind: LoadErrorKind::Limit,
                ..
            })
        ));
        let witness = SMALL.replace(
            r#""lipschitz": "1"}"#,
            r#""lipschitz": "1", "lipschitz_method": "spectral", "lipschitz_witness": {"shift": "0", "factor": [["1", "0"], ["1"]]}}"#,
        );
        assert!(limited(&witness, |l| l.max_witness_side = 2).is_ok());
        let m = limit_message(limited(&witness, |l| l.max_witness_side = 1));
        assert!(m.contains("--max-witness-side"), "{m}");
        let m = limit_message(limited(SMALL, |l| l.max_file_bytes = 100));
        assert!(m.contains("--max-file-size"), "{m}");
    }

    #[test]
    fn nesting_is_limited_outside_strings_only() {
        // SMALL nests 6 deep: object, target, layers, a layer, weights, a row.
        assert!(limited(SMALL, |l| l.max_nesting = 6).is_ok());
        let m = limit_message(limited(SMALL, |l| l.max_nesting = 5));
        assert!(m.contains("--max-nesting"), "{m}");
        let brackets_in_strings = SMALL.replace("\"anything\"", "\"[[[[[[{{{{\\\"\"");
        assert_ne!(brackets_in_strings, SMALL);
        assert!(limited(&brackets_in_strings, |l| l.max_nesting = 6).is_ok());
    }

    #[test]
    fn the_nesting_scan_gives_the_same_answer_in_any_chunking() {
        // Valid JSON, 5 deep, with brackets, escaped quotes and backslashes inside strings.
        let text = r#"{"a": ["x\\\"[[[", {"b": "\\"}, [[["]]]\"{"]]]]}"#;
        let depth_of = |chunk: usize, max_nesting: usize| {
            let limits = Limits {
                max_nesting,
                ..Limits::default()
            };
            let mut scan = Scan::new(&limits);
            text.as_bytes()
                .chunks(chunk)
                .try_for_each(|c| scan.feed(c))
                .map(|()| (scan.depth, scan.in_string))
        };
        for chunk in 1..=text.len() {
            assert_eq!(depth_of(chunk, 5), Ok((0, false)), "chunk {chunk}");
            assert!(depth_of(chunk, 4).is_err(), "chunk {chunk}");
        }
    }

    #[test]
    fn files_stream_through_the_same_limits() {
        let dir = std::env::temp_dir().join(format!("slth-cert-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.json");
        std::fs::write(&path, SMALL).unwrap();
        let whole = load(&path, &Limits::default()).unwrap();
        assert_eq!(whole, parse(SMALL).unwrap());
        let limits = Limits {
            max_file_bytes: 100,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(e) if e.kind == LoadErrorKind::Limit && e.to_string().contains("--max-file-size"))
        );
        let limits = Limits {
            max_layers: 0,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(e) if e.kind == LoadErrorKind::Limit && e.to_string().contains("target.layers"))
        );
        let limits = Limits {
            max_nesting: 5,
            ..Limits::default()
        };
        assert!(
            matches!(load(&path, &limits), Err(e) if e.kind == LoadErrorKind::Limit && e.to_string().contains("--max-nesting"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep).is_err());
    }
}
