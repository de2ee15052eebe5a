//! Exact numbers: parsing and printing the rationals of the certificate format
//! (docs/FORMAT.md section 2).
//!
//! A rational is written as an integer (`-3`), a fraction `p/q` with `q > 0`, or a decimal
//! with optional exponent (`0.125`, `-1.5e-3`); these are the forms Python's
//! `fractions.Fraction(str)` accepts, without spaces or `_`. A decimal is its exact value:
//! `0.1` is 1/10.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::fmt;

/// Default limit on the length of a number's text (docs/FORMAT.md section 2 suggests 10,000).
pub const DEFAULT_MAX_NUMBER_CHARS: usize = 10_000;

/// Largest decimal exponent accepted in `1e...` notation; `1e1000000000` would need a
/// gigabyte-sized integer, so it is refused instead of computed.
pub const MAX_DECIMAL_EXPONENT: i64 = 10_000;

/// Why a number's text is not a rational of the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    Empty,
    TooLong { chars: usize, limit: usize },
    Malformed(String),
    ZeroDenominator,
    ExponentTooLarge(String),
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
            NumberError::ExponentTooLarge(text) => write!(
                f,
                "exponent of {:?} is beyond +-{MAX_DECIMAL_EXPONENT}",
                abbreviate(text)
            ),
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

/// Parses a rational with the default length limit.
pub fn parse_rational(text: &str) -> Result<BigRational, NumberError> {
    parse_rational_limited(text, DEFAULT_MAX_NUMBER_CHARS)
}

/// Parses `[sign] digits [/ digits]` or `[sign] (digits [. digits*] | . digits) [e [sign] digits]`.
///
/// Linear in the text length apart from the big-integer conversion.
pub fn parse_rational_limited(text: &str, limit: usize) -> Result<BigRational, NumberError> {
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
        BigRational::new(num, den)
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
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if !all_digits(digits) {
                    return Err(malformed());
                }
                // All-zero digits are 0 whatever the exponent: nothing to scale.
                if [int_part, frac_part].concat().bytes().all(|b| b == b'0') {
                    return Ok(BigRational::zero());
                }
                let magnitude: i64 = digits
                    .trim_start_matches('0')
                    .parse::<i64>()
                    .ok()
                    .or(if digits.trim_start_matches('0').is_empty() {
                        Some(0)
                    } else {
                        None
                    })
                    .filter(|m| *m <= MAX_DECIMAL_EXPONENT)
                    .ok_or_else(|| NumberError::ExponentTooLarge(text.to_string()))?;
                if e.starts_with('-') {
                    magnitude.saturating_neg() // never saturates: magnitude >= 0
                } else {
                    magnitude
                }
            }
        };
        let exp = exp
            .checked_sub_unsigned(frac_part.len() as u64)
            .ok_or_else(|| NumberError::ExponentTooLarge(text.to_string()))?;
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

/// Canonical text of a rational: an integer, or `p/q` in lowest terms with q > 1.
pub fn format_rational(value: &BigRational) -> String {
    // BigRational keeps itself reduced with a positive denominator.
    if value.denom().is_one() {
        value.numer().to_string()
    } else {
        format!("{}/{}", value.numer(), value.denom())
    }
}

/// A rational approximated by an f64 (nearest or close to it; not exact).
pub fn rational_to_f64(value: &BigRational) -> f64 {
    let (n, d) = (value.numer(), value.denom());
    // Scale both to about 60 significant bits so the division happens in f64 range.
    let shift_n = n.bits().saturating_sub(60);
    let shift_d = d.bits().saturating_sub(60);
    let nf = num_traits::ToPrimitive::to_f64(&(n >> shift_n)).unwrap_or(f64::NAN);
    let df = num_traits::ToPrimitive::to_f64(&(d >> shift_d)).unwrap_or(f64::NAN);
    // Clamped right after, so saturating changes nothing.
    let scale = (shift_n as i64)
        .saturating_sub(shift_d as i64)
        .clamp(-4000, 4000) as i32;
    nf / df * 2f64.powi(scale)
}

/// The greatest common divisor of |a| and |b|. One remainder first brings the larger down
/// to the size of the smaller: num-bigint's binary gcd takes time in proportion to the
/// larger's bits times its words, hopeless for a huge common denominator and a small one.
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

/// The least common multiple of |a| and |b| (0 if either is 0), with [`gcd`].
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
            Err(NumberError::ExponentTooLarge(_))
        ));
        assert!(matches!(
            parse_rational("1e99999999999999999999999"),
            Err(NumberError::ExponentTooLarge(_))
        ));
        assert_eq!(parse_rational("1e-0").unwrap(), q(1, 1));
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
            Err(NumberError::ExponentTooLarge(_))
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
