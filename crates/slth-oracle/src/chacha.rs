//! ChaCha20 and the weights of g, written from docs/FORMAT.md section 4 (the oracle's own,
//! not rand_chacha).

use crate::*;
// ---------------------------------------------------------------------------------------
// ChaCha20 and the weights of g (docs/FORMAT.md section 4)

pub(crate) fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] ^= s[a];
    s[d] = s[d].rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] ^= s[c];
    s[b] = s[b].rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] ^= s[a];
    s[d] = s[d].rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] ^= s[c];
    s[b] = s[b].rotate_left(7);
}

/// Block `counter` of the ChaCha20 keystream of `key` and `stream` (Bernstein's layout:
/// "expand 32-byte k", key, 64-bit counter low word first, 64-bit stream low word first).
pub fn chacha20(key: &[u8; 32], counter: u64, stream: u64) -> [u32; 16] {
    let constant = b"expand 32-byte k";
    let mut x = [0u32; 16];
    for w in 0..4 {
        x[w] = u32::from_le_bytes(constant[4 * w..4 * w + 4].try_into().unwrap());
    }
    for w in 0..8 {
        x[4 + w] = u32::from_le_bytes(key[4 * w..4 * w + 4].try_into().unwrap());
    }
    x[12] = (counter & 0xffff_ffff) as u32;
    x[13] = (counter >> 32) as u32;
    x[14] = (stream & 0xffff_ffff) as u32;
    x[15] = (stream >> 32) as u32;
    let mut s = x;
    for _round in 0..10 {
        quarter(&mut s, 0, 4, 8, 12);
        quarter(&mut s, 1, 5, 9, 13);
        quarter(&mut s, 2, 6, 10, 14);
        quarter(&mut s, 3, 7, 11, 15);
        quarter(&mut s, 0, 5, 10, 15);
        quarter(&mut s, 1, 6, 11, 12);
        quarter(&mut s, 2, 7, 8, 13);
        quarter(&mut s, 3, 4, 9, 14);
    }
    for w in 0..16 {
        s[w] = s[w].wrapping_add(x[w]);
    }
    s
}

/// `r = w_{2 index} + 2^32 w_{2 index + 1}`; None when the word lies beyond the 2^64
/// blocks of the keystream (index >= 2^67).
pub fn raw_word(key: &[u8; 32], stream: u64, index: u128) -> Option<u64> {
    let word = 2 * index;
    let block = u64::try_from(word / 16).ok()?;
    let at = (word % 16) as usize;
    let b = chacha20(key, block, stream);
    Some(u64::from(b[at]) | (u64::from(b[at + 1]) << 32))
}

/// The weight `sample(seed, stream, index)` as its numerator over 2^53.
pub fn weight(key: &[u8; 32], stream: u64, index: u128) -> Option<i64> {
    let r = raw_word(key, stream, index)?;
    let u = (r >> 11) as i64;
    Some(2 * u + 1 - (1i64 << 53))
}

/// Whether x (in lowest terms, as BigRational keeps it) is n / 2^53 for an odd n.
pub(crate) fn is_weight(x: &BigRational, n: i64) -> bool {
    x.numer() == &BigInt::from(n) && x.denom() == &two53()
}

pub fn two53() -> BigInt {
    BigInt::one() << 53u32
}
