//! Exact numbers: parsing and printing the rationals of the certificate format
//! (docs/FORMAT.md section 2), and their correctly rounded f64 values (section 11).
//!
//! A rational is written as an integer (`-3`), a fraction `p/q` with `q > 0`, or a decimal
//! with optional exponent (`0.125`, `-1.5e-3`); these are the forms Python's
//! `fractions.Fraction(str)` accepts, without spaces or `_` (section 2.1). A decimal is its
//! exact value: `0.1` is 1/10. The length and the exponent are limited before anything is
//! computed (section 2.2).

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::fmt;

/// Default limit on the length of a number's text: 10,000 bytes (docs/FORMAT.md section
/// 2.2, `--max-number-length`).
pub const DEFAULT_MAX_NUMBER_CHARS: usize = 10_000;

/// Largest |exponent| of a decimal with a nonzero digit that [`parse_rational`] and
/// [`parse_rational_limited`] accept: `1e1000000000` would need a gigabyte-sized integer,
/// so it is refused instead of computed. The reader of certificates applies the smaller
/// `--max-exponent` (1,000 by default, docs/FORMAT.md section 2.2) through
/// [`parse_rational_bounded`].
pub const MAX_DECIMAL_EXPONENT: u64 = 10_000;

/// Why a number's text is not a rational of the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    TooLong {
        chars: usize,
        limit: usize,
    },
    Malformed(String),
    ZeroDenominator,
    /// An exponent beyond the limit (the second field), on a nonzero mantissa.
    ExponentTooLarge(String, u64),
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberError::Empty => write!(f, "empty number"),
            NumberError::TooLong { chars, limit } => {
                write!(
                    f,
                    "number text of {chars} characters exceeds the limit of {limit} \
                     (--max-number-length)"
                )
            }
            NumberError::Malformed(text) => {
                write!(f, "malformed rational {:?}", abbreviate(text))
            }
            NumberError::ZeroDenominator => write!(f, "zero denominator"),
            NumberError::ExponentTooLarge(text, limit) => {
                write!(f, "exponent of {:?} is beyond +-{limit}", abbreviate(text))
            }
        }
    }
}

impl std::error::Error for NumberError {}

/// The first 40 characters of `text`, for error messages about huge inputs.
pub fn abbreviate(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_string()
    } else {
        let head: String = text.chars().take(40).collect();
        format!("{head}...")
    }
}

/// The exact value of a rational's text (docs/FORMAT.md section 2.1), within
/// [`DEFAULT_MAX_NUMBER_CHARS`] and [`MAX_DECIMAL_EXPONENT`]; see [`parse_rational_bounded`]
/// for the grammar and the cost.
///
/// ```
/// use num_rational::BigRational;
/// use slth_checker::numbers::parse_rational;
///
/// let tenth = BigRational::new(1.into(), 10.into());
/// assert_eq!(parse_rational("0.1").unwrap(), tenth);
/// assert_eq!(parse_rational("1/10").unwrap(), tenth);
/// assert_eq!(parse_rational("1e-1").unwrap(), tenth);
/// assert!(parse_rational("1/-10").is_err());
/// ```
pub fn parse_rational(text: &str) -> Result<BigRational, NumberError> {
    parse_rational_limited(text, DEFAULT_MAX_NUMBER_CHARS)
}

/// [`parse_rational_bounded`] with texts of at most `limit` bytes and exponents up to
/// [`MAX_DECIMAL_EXPONENT`].
pub fn parse_rational_limited(text: &str, limit: usize) -> Result<BigRational, NumberError> {
    parse_rational_bounded(text, limit, MAX_DECIMAL_EXPONENT)
}

/// The exact value of `[sign] digits [/ digits]` or
/// `[sign] (digits [. digits*] | . digits) [e [sign] digits]` (docs/FORMAT.md section 2.1):
/// `p/q` with q != 0, or `D * 10^(e - f)` for the digits D of a decimal, f of them after
/// the point.
///
/// Refused, before anything is computed (section 2.2): an empty text, a text of more than
/// `limit` bytes, and a nonzero mantissa whose |exponent| exceeds `max_exponent`. The
/// exponent is the only part of the text that expands (`1e9999` is 6 bytes and a
/// 10,000-digit integer, about 4 KB), and a zero mantissa is 0 whatever its exponent.
///
/// Cost: one pass over the text; then the base-10 conversion of at most `limit` digits
/// (quadratic in their number with num-bigint), and for a decimal one power 10^k with
/// k <= `max_exponent` + `limit` (by repeated squaring) and one multiplication or gcd.
pub fn parse_rational_bounded(
    text: &str,
    limit: usize,
    max_exponent: u64,
) -> Result<BigRational, NumberError> {
    if text.is_empty() {
        return Err(NumberError::Empty);
    }
    if text.len() > limit {
        return Err(NumberError::TooLong {
            chars: text.len(),
            limit,
        });
    }
    let malformed = || NumberError::Malformed(text.to_string());
    let bytes = text.as_bytes();
    let (negative, body) = match bytes[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());

    let value = if let Some((num, den)) = body.split_once('/') {
        if !all_digits(num) || !all_digits(den) {
            return Err(malformed());
        }
        let num = parse_digits(num);
        let den = parse_digits(den);
        if den.is_zero() {
            return Err(NumberError::ZeroDenominator);
        }
        lowest_terms(num, den)
    } else {
        let (mantissa, exponent) = body
            .split_once(['e', 'E'])
            .map_or((body, None), |(m, e)| (m, Some(e)));
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        let int_ok = int_part.is_empty() || all_digits(int_part);
        let frac_ok = frac_part.is_empty() || all_digits(frac_part);
        // At least one digit before or after the point (".5" and "5." are fine, "." is not).
        if !int_ok || !frac_ok || (int_part.is_empty() && frac_part.is_empty()) {
            return Err(malformed());
        }
        let zero = int_part.bytes().chain(frac_part.bytes()).all(|b| b == b'0');
        let too_large = || NumberError::ExponentTooLarge(text.to_string(), max_exponent);
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if !all_digits(digits) {
                    return Err(malformed());
                }
                if zero {
                    return Ok(BigRational::zero());
                }
                let magnitude: i64 = digits
                    .trim_start_matches('0')
                    .parse::<u64>()
                    .ok()
                    .or(if digits.trim_start_matches('0').is_empty() {
                        Some(0)
                    } else {
                        None
                    })
                    .filter(|m| *m <= max_exponent)
                    .and_then(|m| i64::try_from(m).ok())
                    .ok_or_else(too_large)?;
                if e.starts_with('-') {
                    magnitude.saturating_neg() // never saturates: magnitude >= 0
                } else {
                    magnitude
                }
            }
        };
        let exp = exp
            .checked_sub_unsigned(frac_part.len() as u64)
            .ok_or_else(too_large)?;
        let mantissa = parse_digits(&[int_part, frac_part].concat());
        let ten = BigInt::from(10u32);
        if exp >= 0 {
            BigRational::from_integer(mantissa * num_traits::pow(ten, exp as usize))
        } else {
            BigRational::new(mantissa, num_traits::pow(ten, exp.unsigned_abs() as usize))
        }
    };
    Ok(if negative { -value } else { value })
}

fn parse_digits(digits: &str) -> BigInt {
    // Only ASCII digits reach here, so parsing cannot fail.
    BigInt::parse_bytes(digits.as_bytes(), 10).unwrap_or_default()
}

/// Canonical text of a rational (docs/FORMAT.md section 2.3): an integer, or `p/q` in
/// lowest terms with q > 1 and the sign on p. Reading it back gives the same value.
pub fn format_rational(value: &BigRational) -> String {
    // BigRational keeps itself reduced with a positive denominator.
    if value.denom().is_one() {
        value.numer().to_string()
    } else {
        format!("{}/{}", value.numer(), value.denom())
    }
}

/// |q| = (m + f) 2^e with integers m < 2^53 and e = max(floor(log2 |q|) - 52, -1074), and
/// 0 <= f < 1: m 2^e is |q| cut to f64 precision (a normal f64 for m >= 2^52, else a
/// subnormal). Returns m, e, whether f = 0 and how f compares with 1/2; None when
/// |q| >= 2^1024, beyond every f64 (the conversion of docs/FORMAT.md section 11).
///
/// floor(log2 |q|) comes from the bit lengths of numerator and denominator and one
/// comparison. Cost: shifts of at most 1074 bits beyond the inputs' own sizes and one
/// division with a quotient below 2^53, so any magnitude costs the same.
fn cut_to_f64(q: &BigRational) -> Option<(u64, i64, bool, std::cmp::Ordering)> {
    let (n, d) = (q.numer().magnitude(), q.denom().magnitude());
    // (a, b) with a / b = |q| / 2^k.
    let scaled = |k: i64| match u64::try_from(k) {
        Ok(k) => (n.clone(), d << k),
        Err(_) => (n << k.unsigned_abs(), d.clone()),
    };
    let bits = |x: &num_bigint::BigUint| i64::try_from(x.bits()).unwrap_or(i64::MAX);
    // 2^(k-1) < |q| < 2^(k+1) for nonzero q; one comparison decides which half.
    let k = bits(n).saturating_sub(bits(d));
    let log2 = match scaled(k) {
        _ if n.is_zero() => i64::MIN,
        (a, b) if a >= b => k,
        _ => k.saturating_sub(1),
    };
    if log2 > 1023 {
        return None;
    }
    let e = log2.saturating_sub(52).max(-1074);
    let (a, b) = scaled(e);
    let (m, rest) = a.div_rem(&b);
    let half = (rest.clone() << 1u8).cmp(&b);
    Some((m.to_u64().unwrap_or(u64::MAX), e, rest.is_zero(), half))
}

/// m 2^e for m <= 2^53 and -1074 <= e <= 971, exactly (+inf for 2^53 2^971 = 2^1024): the
/// bits of an f64 are its biased exponent times 2^52 plus its fraction, and the leading bit
/// of m carries into the exponent (0 for a subnormal, where e = -1074).
fn compose(m: u64, e: i64) -> f64 {
    let biased = u64::try_from(e.saturating_add(1074)).unwrap_or(0);
    f64::from_bits(biased.saturating_mul(1 << 52).saturating_add(m))
}

/// q correctly rounded to an f64 (to nearest, ties to even; +-inf only beyond f64::MAX and
/// its half ulp), for any magnitude (docs/FORMAT.md section 11). Reports and messages
/// print it; no verdict rests on it. Cost: that of `cut_to_f64`, one division.
pub fn rational_to_f64(q: &BigRational) -> f64 {
    let x = cut_to_f64(q).map_or(f64::INFINITY, |(m, e, _, half)| {
        let up = half.is_gt() || (half.is_eq() && m & 1 == 1);
        compose(m.saturating_add(u64::from(up)), e)
    });
    if q.is_negative() { -x } else { x }
}

/// `(lo, hi)` with lo <= q <= hi, equal when q is an f64, else adjacent f64s (-inf or +inf
/// beyond the finite range): how a rational enters the sound f64 filter (docs/FORMAT.md
/// section 11), which compares such bounds and never the rounded value. Cost: that of
/// `cut_to_f64`, one division, at any magnitude.
pub fn enclose(q: &BigRational) -> (f64, f64) {
    let (lo, hi) = cut_to_f64(q).map_or((f64::MAX, f64::INFINITY), |(m, e, exact, _)| {
        let lo = compose(m, e);
        (
            lo,
            if exact {
                lo
            } else {
                compose(m.saturating_add(1), e)
            },
        )
    });
    if q.is_negative() {
        (-hi, -lo)
    } else {
        (lo, hi)
    }
}

/// num / den in lowest terms, for den > 0. A power-of-two denominator (every dyadic weight
/// of an f32 or f64 network, and slth's own 2^k denominators) is reduced by shifting out the
/// common trailing zeros instead of a gcd, which was a tenth of verify's time on a
/// 784-500-10 certificate; any other denominator takes num-rational's reduction.
pub fn lowest_terms(num: BigInt, den: BigInt) -> BigRational {
    let power_of_two = den.trailing_zeros().filter(|&zeros| {
        den.sign() == num_bigint::Sign::Plus && den.bits() == zeros.saturating_add(1)
    });
    match power_of_two {
        Some(den_zeros) => match num.trailing_zeros() {
            None => BigRational::zero(),
            Some(num_zeros) => {
                let shift = num_zeros.min(den_zeros);
                // The shifted-out bits are zeros: both shifts are exact.
                BigRational::new_raw(num >> shift, den >> shift)
            }
        },
        None => BigRational::new(num, den),
    }
}

/// The greatest common divisor of |a| and |b| (|a| if b = 0). One remainder first brings
/// the larger down to the size of the smaller: num-bigint's binary gcd takes time in
/// proportion to the larger's bits times its words, hopeless for a huge common denominator
/// and a small one. Cost: one division (the larger's words times the smaller's), then a
/// gcd of numbers no larger than the smaller.
pub fn gcd(a: &BigInt, b: &BigInt) -> BigInt {
    let (a, b) = (a.magnitude(), b.magnitude());
    let (large, small) = if a >= b { (a, b) } else { (b, a) };
    if small.is_zero() {
        return BigInt::from(large.clone());
    }
    let rest = large % small;
    BigInt::from(if rest.is_zero() {
        small.clone()
    } else {
        small.gcd(&rest)
    })
}

/// The least common multiple |a| |b| / gcd(a, b) of |a| and |b| (0 if either is 0), with
/// [`gcd`]; the common denominators of the exact checks (docs/FORMAT.md section 6) are
/// built from it.
pub fn lcm(a: &BigInt, b: &BigInt) -> BigInt {
    if a.is_zero() || b.is_zero() {
        return BigInt::zero();
    }
    let g = gcd(a, b);
    (a.abs() / g) * b.abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shift reduction gives num-rational's lowest terms, for power-of-two and other
    /// denominators, zero, both signs and numerators past 64 bits.
    #[test]
    fn lowest_terms_agree_with_gcd_reduction() {
        let big = BigInt::from(3u8) << 200u32;
        let nums = [
            BigInt::zero(),
            BigInt::from(1),
            BigInt::from(-6),
            BigInt::from(1024),
            BigInt::from(-(3i64 << 40)),
            big.clone(),
            -(big + BigInt::one()),
        ];
        let dens = [1u64, 2, 3, 6, 1 << 10, 1 << 63, 5 << 20, 7];
        for num in &nums {
            for &den in &dens {
                for den in [BigInt::from(den), BigInt::from(den) << 100u32] {
                    let expected = BigRational::new(num.clone(), den.clone());
                    let got = lowest_terms(num.clone(), den.clone());
                    assert_eq!(got.numer(), expected.numer(), "{num}/{den}");
                    assert_eq!(got.denom(), expected.denom(), "{num}/{den}");
                }
            }
        }
    }

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_rational("-3").unwrap(), q(-3, 1));
        assert_eq!(parse_rational("+7").unwrap(), q(7, 1));
        assert_eq!(parse_rational("6/4").unwrap(), q(3, 2));
        assert_eq!(parse_rational("-1/3").unwrap(), q(-1, 3));
        assert_eq!(parse_rational("0.1").unwrap(), q(1, 10));
        assert_eq!(parse_rational("0.125").unwrap(), q(1, 8));
        assert_eq!(parse_rational("-1.5e-3").unwrap(), q(-3, 2000));
        assert_eq!(parse_rational("2E3").unwrap(), q(2000, 1));
        assert_eq!(parse_rational(".5").unwrap(), q(1, 2));
        assert_eq!(parse_rational("5.").unwrap(), q(5, 1));
        assert_eq!(parse_rational("1e+2").unwrap(), q(100, 1));
        assert_eq!(parse_rational("007").unwrap(), q(7, 1));
    }

    #[test]
    fn rejects_what_fraction_rejects() {
        for bad in [
            "", " 1", "1 ", "1/", "/2", "1/-2", "-/2", "1.5/2", "1/2e3", "e5", ".", "1e", "1e+",
            "0x10", "1_000", "nan", "inf", "--1", "1//2", "1.2.3", "+", "1/ 2",
        ] {
            assert!(parse_rational(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(parse_rational("1/0"), Err(NumberError::ZeroDenominator));
        assert_eq!(parse_rational("-5/000"), Err(NumberError::ZeroDenominator));
    }

    #[test]
    fn rejects_long_text_and_huge_exponents() {
        let long = "1".repeat(DEFAULT_MAX_NUMBER_CHARS + 1);
        assert!(matches!(
            parse_rational(&long),
            Err(NumberError::TooLong { .. })
        ));
        assert!(matches!(
            parse_rational("1e1000000000"),
            Err(NumberError::ExponentTooLarge(..))
        ));
        assert!(matches!(
            parse_rational("1e99999999999999999999999"),
            Err(NumberError::ExponentTooLarge(..))
        ));
        assert_eq!(parse_rational("1e-0").unwrap(), q(1, 1));
        // The exponent is counted before 10^|e| is computed; a zero mantissa never expands.
        assert_eq!(
            parse_rational_bounded("1e9999", 100, 1000),
            Err(NumberError::ExponentTooLarge("1e9999".into(), 1000))
        );
        assert!(parse_rational_bounded("-2.5e-1000", 100, 1000).is_ok());
        for zero in ["0e10001", "-0.000e99999999999999999999999", "0e-5"] {
            assert_eq!(parse_rational_bounded(zero, 100, 1000).unwrap(), q(0, 1));
        }
        assert!(parse_rational("0e1x").is_err());
        // A zero is zero whatever its exponent; a non-zero mantissa keeps the limit.
        for zero in [
            "0e10001",
            "-0.000e-99999999999999999999",
            "0.e+10001",
            "00E123456",
        ] {
            assert_eq!(parse_rational(zero).unwrap(), q(0, 1), "{zero}");
        }
        assert!(matches!(
            parse_rational("0.001e10001"),
            Err(NumberError::ExponentTooLarge(..))
        ));
        assert!(parse_rational("0e").is_err() && parse_rational("0e1.5").is_err());
    }

    #[test]
    fn approximates_in_f64() {
        let x = BigRational::new((-1485704009238179i64).into(), 9007199254740992i64.into());
        assert_eq!(
            rational_to_f64(&x),
            -1485704009238179.0 / 9007199254740992.0
        );
        assert_eq!(rational_to_f64(&q(1, 3)), 1.0 / 3.0);
    }

    #[test]
    fn formats_canonically() {
        assert_eq!(format_rational(&q(6, -4)), "-3/2");
        assert_eq!(format_rational(&q(8, 4)), "2");
        assert_eq!(format_rational(&q(0, 5)), "0");
        for text in ["-1485704009238179/9007199254740992", "17", "-2/3"] {
            assert_eq!(format_rational(&parse_rational(text).unwrap()), text);
        }
    }
}
