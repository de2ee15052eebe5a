//! The builder's exact-number helpers: rounding claims up to a few decimal digits, square
//! roots from above, sums of squares. Parsing and printing rationals belong to the checker
//! (`slth_checker::numbers`), re-exported here for the builder's convenience.

pub use slth_checker::numbers::{
    NumberError, abbreviate, format_rational, gcd, lcm, parse_rational, parse_rational_limited,
    rational_to_f64,
};

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// The exact value of a finite f64 as a rational.
pub fn rational_from_f64(x: f64) -> Option<BigRational> {
    BigRational::from_float(x)
}

/// `2^k` as a BigInt.
pub fn pow2(k: u64) -> BigInt {
    BigInt::one() << k as usize
}

/// The smallest rational with at most `digits` significant decimal digits that is >= `x`.
///
/// For x > 0 with 10^e <= x < 10^(e+1): ceil(x / 10^(e-digits+1)) * 10^(e-digits+1).
pub fn round_up_decimal(x: &BigRational, digits: u32) -> BigRational {
    if !x.is_positive() {
        return if x.is_zero() {
            BigRational::zero()
        } else {
            -round_down_decimal(&-x, digits)
        };
    }
    let unit = decimal_unit(x, digits);
    let q = x / &unit;
    q.ceil() * unit
}

/// The largest rational with at most `digits` significant decimal digits that is <= `x`.
pub fn round_down_decimal(x: &BigRational, digits: u32) -> BigRational {
    if !x.is_positive() {
        return if x.is_zero() {
            BigRational::zero()
        } else {
            -round_up_decimal(&-x, digits)
        };
    }
    let unit = decimal_unit(x, digits);
    let q = x / &unit;
    q.floor() * unit
}

/// 10^(e - digits + 1) where 10^e <= x < 10^(e+1), for x > 0.
fn decimal_unit(x: &BigRational, digits: u32) -> BigRational {
    let ten = BigRational::from_integer(BigInt::from(10));
    // Estimate e from digit counts, then correct by at most a couple of steps.
    let mut e: i64 = x.numer().to_string().len() as i64 - x.denom().to_string().len() as i64;
    let power = |k: i64| -> BigRational {
        if k >= 0 {
            num_traits::pow(ten.clone(), k as usize)
        } else {
            num_traits::pow(ten.clone(), (-k) as usize).recip()
        }
    };
    while &power(e) > x {
        e -= 1;
    }
    while &power(e + 1) <= x {
        e += 1;
    }
    power(e - digits as i64 + 1)
}

/// Exact square root bound: the smallest rational with `digits` significant digits whose
/// square is >= `square` (for square >= 0).
pub fn sqrt_upper(square: &BigRational, digits: u32) -> BigRational {
    if !square.is_positive() {
        return BigRational::zero();
    }
    let guess = rational_to_f64(square).sqrt();
    let mut candidate = match rational_from_f64(guess) {
        Some(g) if g.is_positive() => round_up_decimal(&g, digits),
        _ => BigRational::one(),
    };
    // The f64 guess may be slightly low; step up by one unit in the last digit until it holds.
    while &(&candidate * &candidate) < square {
        let unit = decimal_unit(&candidate, digits);
        candidate = round_up_decimal(&(&candidate + &unit), digits);
    }
    candidate
}

/// Sign-aware absolute value for BigRational (re-exported for readability).
pub fn abs(x: &BigRational) -> BigRational {
    x.abs()
}

/// Sign of a BigInt as -1, 0, 1.
pub fn sign_of(x: &BigInt) -> i32 {
    match x.sign() {
        Sign::Minus => -1,
        Sign::NoSign => 0,
        Sign::Plus => 1,
    }
}

/// Sum of x^2 over `values`, exactly.
///
/// Values that share a denominator q are summed as integers (sum p^2) / q^2, so a dyadic
/// matrix costs one big division at the end instead of a gcd per term.
pub fn sum_of_squares<'a>(values: impl IntoIterator<Item = &'a BigRational>) -> BigRational {
    let mut by_denominator: std::collections::HashMap<BigInt, BigInt> =
        std::collections::HashMap::new();
    for x in values {
        if x.is_zero() {
            continue;
        }
        let square = x.numer() * x.numer();
        *by_denominator.entry(x.denom().clone()).or_default() += square;
    }
    let mut groups: Vec<(BigInt, BigInt)> = by_denominator.into_iter().collect();
    groups.sort(); // a fixed order keeps the work deterministic
    groups
        .into_iter()
        .map(|(q, sum)| BigRational::new(sum, &q * &q))
        .sum()
}

/// [`format_rational`]'s text, faster for many entries with few denominators (a layer's
/// weights): a numerator that fits an i128 is printed as one, and the text of each
/// denominator that fits a u128 is made once and kept.
#[derive(Default)]
pub struct RationalFormatter {
    denominators: std::collections::HashMap<u128, String>,
}

impl RationalFormatter {
    /// Denominators kept at most (a layer of dyadic weights has a few dozen).
    const KEPT: usize = 256;

    /// The same text as `format_rational(value)`.
    pub fn format(&mut self, value: &BigRational) -> String {
        use num_traits::ToPrimitive;
        use std::fmt::Write as _;
        let (Some(numerator), Some(denominator)) =
            (value.numer().to_i128(), value.denom().to_u128())
        else {
            return format_rational(value);
        };
        if denominator == 1 {
            return numerator.to_string();
        }
        if !self.denominators.contains_key(&denominator) && self.denominators.len() >= Self::KEPT {
            self.denominators.clear();
        }
        let denominator = self
            .denominators
            .entry(denominator)
            .or_insert_with(|| denominator.to_string());
        let mut text = String::with_capacity(41 + denominator.len());
        let _ = write!(text, "{numerator}/");
        text.push_str(denominator);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    #[test]
    fn decimal_rounding_brackets_the_value() {
        let x = q(123_456_789, 1_000_000_000); // 0.123456789
        assert_eq!(round_up_decimal(&x, 3), q(124, 1000));
        assert_eq!(round_down_decimal(&x, 3), q(123, 1000));
        assert_eq!(round_up_decimal(&q(1, 100), 3), q(1, 100));
        assert_eq!(round_up_decimal(&q(-1234, 1000), 2), q(-12, 10));
        assert_eq!(round_up_decimal(&q(99999, 1), 2), q(100000, 1));
    }

    #[test]
    fn sqrt_upper_is_an_upper_bound_with_few_digits() {
        for (n, d) in [(2, 1), (1, 3), (10_000, 1), (1, 1_000_000_007), (49, 100)] {
            let s = q(n, d);
            let r = sqrt_upper(&s, 6);
            assert!(&r * &r >= s);
            let below = &r - decimal_unit(&r, 6);
            assert!(
                &below * &below < s,
                "sqrt_upper({n}/{d}) = {r} is not the smallest"
            );
        }
        assert_eq!(sqrt_upper(&q(49, 100), 6), q(7, 10));
    }

    #[test]
    fn sum_of_squares_matches_the_naive_sum() {
        let values = [q(1, 2), q(-1, 3), q(3, 4), q(0, 1), q(5, 6), q(-1, 2)];
        let naive: BigRational = values.iter().map(|x| x * x).sum();
        assert_eq!(sum_of_squares(values.iter()), naive);
    }

    #[test]
    fn the_formatter_writes_format_rationals_text() {
        let big: BigInt = BigInt::one() << 130u32;
        let mut values = vec![
            q(0, 1),
            q(7, 1),
            q(-7, 1),
            q(1, 3),
            q(-5, 1 << 40),
            q(i64::MAX, 1 << 62),
            q(i64::MIN, 1),
            BigRational::new(big.clone() + 1u32, BigInt::from(3)),
            BigRational::new(BigInt::from(-3), big.clone() + 1u32),
            BigRational::new(-(big.clone() - 1u32), BigInt::one()),
            BigRational::new(BigInt::from(i128::MIN), BigInt::one()),
            BigRational::new(BigInt::from(i128::MIN) - 1u32, BigInt::from(7)),
            BigRational::new(BigInt::from(5), BigInt::from(u128::MAX)),
            BigRational::new(BigInt::from(5), BigInt::from(u128::MAX) + 2u32),
        ];
        // more denominators than are kept
        values.extend((1..600).map(|d| q(d - 300, 2 * d + 1)));
        let mut formatter = RationalFormatter::default();
        for _ in 0..2 {
            for value in &values {
                assert_eq!(formatter.format(value), format_rational(value));
            }
        }
    }

    #[test]
    fn f64_round_trip() {
        let x = -1485704009238179.0 / 9007199254740992.0;
        let r = rational_from_f64(x).unwrap();
        assert_eq!(format_rational(&r), "-1485704009238179/9007199254740992");
        assert_eq!(rational_to_f64(&r), x);
        assert_eq!(rational_to_f64(&q(1, 3)), 1.0 / 3.0);
    }
}
