//! Values of command-line options that more than one command reads (the argument structs
//! of `cli` and `neurons::cli`): seeds and rationals, each refused with a usage error that
//! names its option.

use crate::error::Error;
use num_rational::BigRational;
use slth_checker::sampler::Seed;

/// A seed given on the command line (docs/FORMAT.md section 4.4): an unsigned 64-bit
/// integer N (the key N little-endian, then zeros), or the 64 hex digits of the key.
pub fn seed(text: &str) -> Result<Seed, Error> {
    if text.len() == 64 {
        return Seed::from_hex(text).map_err(|e| Error::usage("seed", e));
    }
    text.parse::<u64>().map(Seed::from_u64).map_err(|_| {
        Error::usage(
            "seed",
            format!(
                "seed must be an unsigned 64-bit integer or 64 hexadecimal digits, got {:?}",
                crate::numbers::abbreviate(text)
            ),
        )
    })
}

/// A rational given to `--option`.
pub fn rational(option: &str, text: &str) -> Result<BigRational, Error> {
    crate::numbers::parse_rational(text).map_err(|e| Error::usage(option, e))
}
