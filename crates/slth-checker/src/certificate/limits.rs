//! The resource limits of reading and checking a certificate (docs/FORMAT.md sections 2.2
//! and 11, where the table lists each default and flag). A certificate beyond one is
//! REFUSED, never judged valid or invalid.

/// Resource limits on reading and checking a certificate. Every default is generous for
/// real networks (a 784-500-10 certificate with 2.2 million kept weights is far inside
/// them) and each one is a flag of `slth verify`, `inspect` and `eval`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Bytes of the certificate file (`--max-file-size`).
    pub max_file_bytes: u64,
    /// Depth of nested JSON arrays and objects (`--max-nesting`; serde_json stops at 128
    /// whatever this says).
    pub max_nesting: usize,
    /// Characters of one rational's text (`--max-number-length`).
    pub max_number_chars: usize,
    /// |exponent| of a decimal with a nonzero mantissa (`--max-exponent`): the one part of
    /// a number's text that expands (`1e9999` is 6 bytes and a 10,000-digit integer). It
    /// is counted before anything is computed (docs/FORMAT.md section 2.2).
    pub max_exponent: u64,
    /// Target layers, and so hidden widths, ticket blocks and bound blocks (`--max-layers`).
    pub max_layers: usize,
    /// input_dim, rows of a weight matrix and entries of a row (`--max-dimension`).
    /// Hidden widths are not limited: the checker never allocates in proportion to them.
    pub max_dimension: u64,
    /// Kept entries (hidden plus output, all blocks together) (`--max-kept-entries`).
    pub max_kept_entries: u64,
    /// Side of a spectral witness factor (`--max-witness-side`).
    pub max_witness_side: usize,
    /// Largest Gram side for which a `"spectral"` claim without witness is checked by
    /// exact elimination (`--max-elimination-side`).
    pub max_elimination_side: usize,
    /// Bits of a common denominator the exact check computes (of a layer's weights, of a
    /// witness), and of the numbers of the chain e_1..e_l (`--max-exact-bits`).
    pub max_exact_bits: u64,
    /// Bits of the target weights and witness factors written as integers over their
    /// common denominators, all layers together: entries times the bits of the largest
    /// such integer (`--max-scaled-bits`). A common denominator within `max_exact_bits`
    /// still multiplies every entry of its matrix, "1" included.
    pub max_scaled_bits: u64,
    /// Estimated 64-bit word multiplications of an exact elimination or witness check that
    /// runs on big integers (`--max-exact-work`; the estimate is `cost`'s). The checker does
    /// 1.1 to 1.6 x 10^9 such units a second on a quiet 2-core machine (4 to 8 x 10^8 on a
    /// busy one), so the default of 6 x 10^8 keeps one check under about 0.5 s (1.5 s busy;
    /// docs/FORMAT.md section 11).
    pub max_exact_work: f64,
}

impl Limits {
    /// No limit at all (for checking certificates slth has just built itself).
    pub fn unlimited() -> Limits {
        Limits {
            max_file_bytes: u64::MAX,
            max_nesting: usize::MAX,
            max_number_chars: usize::MAX,
            max_exponent: u64::MAX,
            max_layers: usize::MAX,
            max_dimension: u64::MAX,
            max_kept_entries: u64::MAX,
            max_witness_side: usize::MAX,
            max_elimination_side: usize::MAX,
            max_exact_bits: u64::MAX,
            max_scaled_bits: u64::MAX,
            max_exact_work: f64::INFINITY,
        }
    }
}

/// Default of [`Limits::max_dimension`], also the largest input dimension `certify` takes.
pub const DEFAULT_MAX_DIMENSION: u64 = 1 << 20;

/// Default of [`Limits::max_file_bytes`]: 1 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_nesting: 128,
            max_number_chars: crate::numbers::DEFAULT_MAX_NUMBER_CHARS,
            max_exponent: 1000,
            max_layers: 1000,
            max_dimension: DEFAULT_MAX_DIMENSION,
            max_kept_entries: 1 << 25,
            max_witness_side: 1024,
            max_elimination_side: 128,
            max_exact_bits: 1 << 18,
            max_scaled_bits: 1 << 29,
            max_exact_work: 6e8,
        }
    }
}
