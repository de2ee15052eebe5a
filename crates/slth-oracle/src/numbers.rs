//! The rationals of docs/FORMAT.md section 2, parsed by the oracle's own reader.

use crate::*;
// ---------------------------------------------------------------------------------------
// Numbers (docs/FORMAT.md section 2): the forms of Python's `fractions.Fraction(str)` without spaces
// and `_`; texts over 10,000 characters and exponents beyond +-10,000 on a non-zero
// mantissa are refused as limits (a zero is zero whatever its exponent).

pub const MAX_NUMBER_CHARS: usize = 10_000;
pub const MAX_EXPONENT: u64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberProblem {
    Malformed,
    ZeroDenominator,
    Limit,
}

pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn parse_rational(text: &str) -> Result<BigRational, NumberProblem> {
    if text.chars().count() > MAX_NUMBER_CHARS {
        return Err(NumberProblem::Limit);
    }
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = if let Some((p, q)) = body.split_once('/') {
        if !all_digits(p) || !all_digits(q) {
            return Err(NumberProblem::Malformed);
        }
        // Machine words when both fit (the kept values n/2^53): reduce with a u64 gcd.
        if let (Ok(p), Ok(q)) = (p.parse::<u64>(), q.parse::<u64>()) {
            if q == 0 {
                return Err(NumberProblem::ZeroDenominator);
            }
            let g = p.gcd(&q);
            let value = BigRational::new_raw(BigInt::from(p / g), BigInt::from(q / g));
            return Ok(if negative { -value } else { value });
        }
        let q: BigInt = q.parse().unwrap();
        if q.is_zero() {
            return Err(NumberProblem::ZeroDenominator);
        }
        BigRational::new(p.parse().unwrap(), q)
    } else {
        // (?=\d|\.\d) \d* (\.\d*)? ([eE][-+]?\d+)?
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digit_first = |s: &str| s.bytes().next().is_some_and(|b| b.is_ascii_digit());
        let starts_right = digit_first(int) || digit_first(frac);
        if !starts_right
            || !(int.is_empty() || all_digits(int))
            || !(frac.is_empty() || all_digits(frac))
        {
            return Err(NumberProblem::Malformed);
        }
        let exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let (sign, digits) = match e.as_bytes().first() {
                    Some(b'-') => (-1, &e[1..]),
                    Some(b'+') => (1, &e[1..]),
                    _ => (1, e),
                };
                if !all_digits(digits) {
                    return Err(NumberProblem::Malformed);
                }
                let magnitude: BigInt = digits.parse().unwrap();
                // Zero digits are 0 whatever the exponent: nothing expands.
                if format!("{int}{frac}").bytes().all(|b| b == b'0') {
                    return Ok(BigRational::zero());
                }
                if magnitude > BigInt::from(MAX_EXPONENT) {
                    return Err(NumberProblem::Limit);
                }
                sign * magnitude.to_i64().unwrap()
            }
        };
        let digits = format!("{int}{frac}");
        let mantissa: BigInt = if digits.is_empty() {
            BigInt::zero()
        } else {
            digits.parse().unwrap()
        };
        let shift = exp - frac.len() as i64;
        let ten = BigInt::from(10);
        if shift >= 0 {
            BigRational::from_integer(mantissa * num_traits::pow(ten, shift as usize))
        } else {
            BigRational::new(mantissa, num_traits::pow(ten, (-shift) as usize))
        }
    };
    Ok(if negative { -value } else { value })
}

/// A rational written as `p/q` in lowest terms (or an integer).
pub fn show(x: &BigRational) -> String {
    if x.denom().is_one() {
        x.numer().to_string()
    } else {
        format!("{}/{}", x.numer(), x.denom())
    }
}

pub(crate) fn number(text: &str, place: &str, out: &mut Vec<Violation>) -> Option<BigRational> {
    match parse_rational(text) {
        Ok(x) => Some(x),
        Err(NumberProblem::Limit) => {
            out.push(violation(
                &[Kind::Number, Kind::Limit],
                place,
                "number beyond the documented limits",
            ));
            None
        }
        Err(p) => {
            out.push(violation(&[Kind::Number], place, format!("{p:?}")));
            None
        }
    }
}

pub(crate) fn seed_bytes(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_with_any_exponent_are_zero_and_other_huge_exponents_are_limits() {
        for zero in ["0e10001", "-0.000e99999999999999999999", "0.e+10001"] {
            assert_eq!(parse_rational(zero), Ok(BigRational::zero()), "{zero}");
        }
        assert_eq!(parse_rational("1e10001"), Err(NumberProblem::Limit));
        assert_eq!(parse_rational("0e"), Err(NumberProblem::Malformed));
    }
}
