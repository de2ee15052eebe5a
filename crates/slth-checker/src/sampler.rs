//! The random network g: any single weight from (seed, stream, index) (docs/FORMAT.md
//! section 4).
//!
//! `sample(seed, stream, index)` reads the u64 `r = w[2 index] + 2^32 w[2 index + 1]` of the
//! ChaCha20 keystream (key = seed, 64-bit block counter, 64-bit stream id) and maps its top
//! 53 bits u to the odd multiple `(2u + 1 - 2^53) / 2^53` of 2^-53 in (-1, 1).
//! Nothing is materialized: a weight costs one ChaCha20 block (8 weights share a block).
//! ChaCha20 itself is rand_chacha's; the test vectors of the format pin it.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::fmt;

/// 2^53: the denominator of every weight of g (docs/FORMAT.md section 4.3, step 4).
pub const WEIGHT_SCALE: i64 = 1 << 53;

/// A seed's text that is not 64 hexadecimal digits (the text, abbreviated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seed must be 64 hexadecimal digits, got {0:?}")]
pub struct SeedError(pub String);

/// The 32-byte ChaCha20 key g is drawn from.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(pub [u8; 32]);

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seed({})", self.to_hex())
    }
}

impl Seed {
    /// The key of a command-line seed N: N little-endian in the first 8 bytes, then 24
    /// zero bytes (docs/FORMAT.md section 4.4; seed 42 is `2a00...00`).
    pub fn from_u64(n: u64) -> Seed {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&n.to_le_bytes());
        Seed(key)
    }

    /// The key written as exactly 64 hexadecimal digits, either case, byte 0 first
    /// (docs/FORMAT.md sections 4.3 and 7.4); anything else is a [`SeedError`].
    pub fn from_hex(text: &str) -> Result<Seed, SeedError> {
        let malformed = || SeedError(crate::numbers::abbreviate(text));
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let mut key = [0u8; 32];
        for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| malformed())?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| malformed())?;
        }
        Ok(Seed(key))
    }

    /// Lowercase hex, byte 0 first, as written in certificates (docs/FORMAT.md section 7.4).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The stream of U_i, 2i - 2 (docs/FORMAT.md section 4.2; block i counts from 1). Blocks
/// are counted in a Vec, far below 2^63, so the saturating operations never saturate.
pub fn hidden_stream(block: usize) -> u64 {
    (block as u64).saturating_sub(1).saturating_mul(2)
}

/// The stream of V_i, 2i - 1 (docs/FORMAT.md section 4.2; block i counts from 1).
pub fn output_stream(block: usize) -> u64 {
    hidden_stream(block) | 1
}

/// The raw u64 `r = w_{2 index} + 2^32 w_{2 index + 1}` of docs/FORMAT.md section 4.3,
/// step 3: words of block floor(index / 8) of the ChaCha20 keystream with key `seed` and
/// stream id `stream`. Cost: one ChaCha20 block per call (read many weights of a stream
/// with a [`StreamReader`]).
pub fn raw(seed: &Seed, stream: u64, index: u64) -> u64 {
    let mut reader = StreamReader::new(*seed, stream);
    reader.raw(u128::from(index)).unwrap_or_default()
}

/// The numerator over 2^53 of the weight with raw value r: 2 floor(r / 2^11) + 1 - 2^53
/// (docs/FORMAT.md section 4.3, step 4), an odd integer with |n| < 2^53, so the weight
/// n / 2^53 lies strictly inside (-1, 1) and is never 0.
#[inline]
pub fn numerator_of_raw(r: u64) -> i64 {
    // 2 floor(r / 2^11) + 1 = (r >> 10) | 1 < 2^54, so the difference never saturates.
    (((r >> 10) | 1) as i64).saturating_sub(WEIGHT_SCALE)
}

/// `sample(seed, stream, index)` of docs/FORMAT.md section 4.3 as its numerator over 2^53
/// (odd, |n| < 2^53). Cost: one ChaCha20 block.
///
/// ```
/// use slth_checker::sampler::{Seed, sample_numerator};
///
/// // docs/FORMAT.md section 4.5: seed 42, stream 0, index 0.
/// assert_eq!(sample_numerator(&Seed::from_u64(42), 0, 0), -1485704009238179);
/// ```
pub fn sample_numerator(seed: &Seed, stream: u64, index: u64) -> i64 {
    numerator_of_raw(raw(seed, stream, index))
}

/// Reader of one stream of g: rand_chacha's ChaCha20 (the format's layout is rand_chacha's:
/// 64-bit block counter and 64-bit stream, each low word first), positioned at word
/// `2 * index` for the weight at `index`.
///
/// Reading indices in increasing order (as the constructions and the checker do) costs one
/// ChaCha20 block per 8 weights; a jump costs a refill of rand_chacha's 4-block buffer.
pub struct StreamReader {
    rng: ChaCha20Rng,
    /// The word position of the next `next_u64`, when known.
    position: Option<u128>,
}

/// Largest index plus one that a stream holds: 2^64 blocks of 8 weights.
const STREAM_WEIGHTS: u128 = 1 << 67;

impl StreamReader {
    /// A reader of stream `stream` of the keystream with key `seed` (docs/FORMAT.md
    /// section 4.3, step 2), not yet positioned.
    pub fn new(seed: Seed, stream: u64) -> StreamReader {
        let mut rng = ChaCha20Rng::from_seed(seed.0);
        rng.set_stream(stream);
        StreamReader {
            rng,
            position: None,
        }
    }

    /// `r` at `index` (docs/FORMAT.md section 4.3, step 3), or None when the index lies
    /// beyond the 2^67 weights of the stream (the 64-bit block counter's 2^64 blocks of 8;
    /// section 11). Cost: none beyond the buffer when `index` follows the previous one,
    /// else one reposition and a refill of 4 ChaCha20 blocks.
    pub fn raw(&mut self, index: u128) -> Option<u64> {
        if index >= STREAM_WEIGHTS {
            return None;
        }
        // index < 2^67, so 2 index + 2 < 2^68 cannot overflow.
        let word = index.checked_mul(2)?;
        if self.position != Some(word) {
            self.rng.set_word_pos(word);
        }
        self.position = word.checked_add(2);
        Some(self.rng.next_u64())
    }

    /// The numerator over 2^53 of the weight at `index` (every u64 index is in the stream).
    #[inline]
    pub fn numerator(&mut self, index: u64) -> i64 {
        self.numerator_at(u128::from(index)).unwrap_or_default()
    }

    /// The numerator over 2^53 of the weight at `index`, or None beyond the stream.
    #[inline]
    pub fn numerator_at(&mut self, index: u128) -> Option<i64> {
        self.raw(index).map(numerator_of_raw)
    }

    /// The weight at `index` as an f64 (exact).
    #[inline]
    pub fn value(&mut self, index: u64) -> f64 {
        self.numerator(index) as f64 / WEIGHT_SCALE as f64
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn vector_key() -> Seed {
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = ((7 * i + 3) % 256) as u8;
        }
        Seed(key)
    }

    /// The test vectors of docs/FORMAT.md section 4.5 (r and the value's numerator over 2^53).
    const SPEC_VECTORS: [(u64, u64, u64, i64); 6] = [
        (0, 0, 1923361524001297530, -7128916516458475),
        (0, 1, 6612263058979633945, -2549911111206193),
        (0, 8, 34058864819009500, -8973938644566179),
        (1, 0, 3545465468947637988, -5544830632721815),
        (3, 12345, 8780681911547434067, -432314575495451),
        (5, 1 << 40, 18389034165420613691, 8950841922427577),
    ];

    #[test]
    fn spec_test_vectors() {
        let seed = vector_key();
        for (stream, index, r, numerator) in SPEC_VECTORS {
            assert_eq!(
                raw(&seed, stream, index),
                r,
                "r at stream {stream} index {index}"
            );
            assert_eq!(sample_numerator(&seed, stream, index), numerator);
        }
    }

    #[test]
    fn seed_42_vectors() {
        let seed = Seed::from_u64(42);
        assert_eq!(
            seed.to_hex(),
            "2a00000000000000000000000000000000000000000000000000000000000000"
        );
        assert_eq!(sample_numerator(&seed, 0, 0), -1485704009238179);
        assert_eq!(sample_numerator(&seed, 1, 0), 2530848373222757);
    }

    #[test]
    fn reader_matches_random_access() {
        let seed = Seed::from_u64(7);
        let mut reader = StreamReader::new(seed, 3);
        for index in [0u64, 1, 7, 8, 100, 5, 1 << 20, 2] {
            assert_eq!(reader.numerator(index), sample_numerator(&seed, 3, index));
        }
    }

    #[test]
    fn values_are_odd_multiples_inside_the_interval() {
        assert_eq!(numerator_of_raw(0), 1 - WEIGHT_SCALE);
        assert_eq!(numerator_of_raw(u64::MAX), WEIGHT_SCALE - 1);
        let seed = Seed::from_u64(1);
        for index in 0..64 {
            let n = sample_numerator(&seed, 0, index);
            assert!(n % 2 != 0 && n.abs() < WEIGHT_SCALE);
        }
    }

    #[test]
    fn seeds_parse_and_reject() {
        assert!(Seed::from_hex(&"g".repeat(64)).is_err());
        assert!(Seed::from_hex("2a").is_err());
        assert_eq!(Seed::from_hex(&"ff".repeat(32)).unwrap(), Seed([255; 32]));
        assert_eq!(Seed::from_u64(42).to_hex(), format!("2a{}", "0".repeat(62)));
    }
}
