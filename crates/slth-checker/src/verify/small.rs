//! Small rationals: the common case of docs/FORMAT.md section 2.1 without big-integer work.
//!
//! A certificate holds one rational per kept weight (`p/9007199254740992`) and per target
//! weight, so parsing dominates the checker unless texts of the form `[sign] digits` or
//! `[sign] digits / digits` with at most 18 digits on each side are read with machine
//! integers. Every other text goes to `numbers::parse_rational`, which also reports every
//! malformed one; a test checks both parsers agree.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use std::num::NonZeroU64;

/// Most decimal digits read into a u64 (10^18 < 2^63, so the numerator also fits an i64).
const MAX_DIGITS: usize = 18;

/// `(p, q)` with value p/q (q > 0, not necessarily in lowest terms) when `text` is
/// `[+-] digits [/ digits]` with at most 18 digits per part and q != 0; None otherwise
/// (the general parser decides then, including whether the text is malformed), and None
/// for a text longer than `limit` characters, which the general parser refuses. Same
/// value as `numbers::parse_rational` wherever it answers (docs/FORMAT.md section 2.1).
/// Cost: one pass over the text, no allocation.
pub(super) fn parse_small(text: &str, limit: usize) -> Option<(i64, u64)> {
    if text.len() > limit {
        return None;
    }
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (numerator, denominator) = match body.iter().position(|&b| b == b'/') {
        Some(slash) => (&body[..slash], digits(&body[slash..][1..])?),
        None => (body, 1),
    };
    if denominator == 0 {
        return None;
    }
    let magnitude = i64::try_from(digits(numerator)?).ok()?;
    let sign = if negative { -1 } else { 1 };
    Some((magnitude.checked_mul(sign)?, denominator))
}

/// The value of 1 to 18 ASCII digits.
fn digits(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > MAX_DIGITS {
        return None;
    }
    text.iter().try_fold(0u64, |value, &b| {
        value
            .checked_mul(10)?
            .checked_add(u64::from(char::from(b).to_digit(10)?))
    })
}

/// p/q in lowest terms (q > 0), reduced with a machine-word gcd: the same BigRational as
/// `BigRational::new(p, q)`, without its big-integer gcd.
pub(super) fn to_rational(p: i64, q: u64) -> BigRational {
    // divisor >= 1 because q >= 1 (the fallback 1 is for q = 0, which parse_small never gives).
    let divisor = NonZeroU64::new(p.unsigned_abs().gcd(&q)).unwrap_or(NonZeroU64::MIN);
    let numerator = BigInt::from(p.unsigned_abs() / divisor);
    let numerator = if p < 0 { -numerator } else { numerator };
    BigRational::new_raw(numerator, BigInt::from(q / divisor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::parse_rational;

    #[test]
    fn agrees_with_the_general_parser() {
        let texts = [
            "0",
            "-0",
            "+7",
            "-3",
            "1/2",
            "-2/4",
            "0/5",
            "-0/5",
            "007/008",
            "-1485704009238179/9007199254740992",
            "999999999999999999/999999999999999998",
            "-999999999999999999",
            "12/36",
            "1/0",
            "1/",
            "/2",
            "",
            "-",
            "+",
            "1//2",
            "1/-2",
            "1.5",
            "1e3",
            "0x10",
            " 1",
            "1 ",
            "1/2/3",
            "9999999999999999999",
            "1/9999999999999999999",
            "٣",
        ];
        for text in texts {
            let general = parse_rational(text);
            match parse_small(text, usize::MAX) {
                Some((p, q)) => {
                    assert_eq!(Ok(to_rational(p, q)), general, "{text:?}");
                }
                // Outside the fast path: the general parser alone decides.
                None => assert!(
                    general.is_err() || text.len() > 18 || text.contains(['.', 'e']),
                    "{text:?} should take the fast path"
                ),
            }
        }
    }

    #[test]
    fn the_length_limit_applies_to_short_numbers() {
        assert_eq!(parse_small("1/2", 3), Some((1, 2)));
        assert_eq!(parse_small("100000/100000", 5), None);
    }

    #[test]
    fn reduced_values_are_canonical() {
        let x = to_rational(-6, 4);
        assert_eq!(x, BigRational::new((-3).into(), 2.into()));
        assert_eq!(x.numer(), &BigInt::from(-3));
        assert_eq!(x.denom(), &BigInt::from(2));
        let zero = to_rational(0, 9);
        assert_eq!(zero.denom(), &BigInt::from(1));
    }
}
