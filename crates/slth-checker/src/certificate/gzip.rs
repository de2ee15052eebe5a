//! Gzip certificates (docs/FORMAT.md section 14.2): a file that starts with the gzip magic
//! bytes 1f 8b is one or more gzip members (RFC 1952) whose concatenated contents are the
//! certificate's JSON text. The decompressed bytes stream through the same limits as a
//! plain file's (`--max-file-size` counts them), so a small file that inflates without end
//! is refused once its text passes the limit, never held whole.

use flate2::read::MultiGzDecoder;
use std::io::{BufRead, Read};
use std::path::Path;

/// The first two bytes of every gzip member (RFC 1952 section 2.3.1). No JSON text starts
/// with byte 1f (a control character), so the two kinds of file cannot be confused.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `path`'s name ends in `.gz` (the name under which slth writes gzip).
pub fn named_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Whether the buffered file starts with [`GZIP_MAGIC`], without consuming anything. A
/// regular file's first read fills the buffer with its first bytes (all of them when it
/// is shorter than the buffer), so one look decides.
pub(super) fn starts_gzip<R: BufRead>(reader: &mut R) -> std::io::Result<bool> {
    Ok(reader.fill_buf()?.starts_with(&GZIP_MAGIC))
}

/// The decompressed text of a gzip file, with the decoder's errors told as gzip errors.
pub(super) struct Gunzip<R: BufRead>(MultiGzDecoder<R>);

impl<R: BufRead> Gunzip<R> {
    pub(super) fn new(inner: R) -> Gunzip<R> {
        Gunzip(MultiGzDecoder::new(inner))
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let what = match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    "the gzip stream ends early (a truncated file)".to_string()
                }
                _ => format!("not a valid gzip stream: {e}"),
            };
            std::io::Error::other(what)
        })
    }
}
