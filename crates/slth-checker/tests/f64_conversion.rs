//! `rational_to_f64` is the correctly rounded f64 and `enclose` the tightest f64 bracket,
//! for every magnitude (2^-1100 to 2^1100), checked against exact neighbours.

use num_bigint::{BigInt, Sign};
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;
use slth_checker::numbers::{enclose, rational_to_f64};

/// The exact value of an f64, with +-inf standing for +-2^1024: rounding to nearest treats
/// 2^1024 as the (even) neighbour of f64::MAX.
fn value(x: f64) -> BigRational {
    if x.is_infinite() {
        let v = BigRational::from_integer(BigInt::one() << 1024u32);
        if x > 0.0 { v } else { -v }
    } else {
        BigRational::from_float(x).unwrap()
    }
}

fn assert_nearest(q: &BigRational) {
    let x = rational_to_f64(q);
    assert!(!x.is_nan(), "{q}");
    let distance = |y: f64| (value(y) - q).abs();
    let own = distance(x);
    for neighbour in [x.next_up(), x.next_down()] {
        if neighbour == x || neighbour.is_nan() {
            continue;
        }
        let other = distance(neighbour);
        assert!(own <= other, "{q}: {x:e} is farther than {neighbour:e}");
        if own == other {
            assert_eq!(
                x.to_bits() & 1,
                0,
                "{q}: a tie goes to the even {neighbour:e}"
            );
        }
    }
    if q.is_zero() {
        assert_eq!(x, 0.0);
    }
}

fn assert_enclosed(q: &BigRational) {
    let (lo, hi) = enclose(q);
    assert!(
        lo == hi || lo.next_up() == hi,
        "{q}: {lo:e} .. {hi:e} not adjacent"
    );
    if lo == hi {
        assert!(lo.is_finite() && &value(lo) == q, "{q}: {lo:e} is not q");
    }
    let max = value(f64::MAX);
    match lo.is_finite() {
        true => assert!(&value(lo) <= q, "{q}: lo {lo:e}"),
        false => assert!(lo < 0.0 && q < &-max.clone(), "{q}: lo {lo:e}"),
    }
    match hi.is_finite() {
        true => assert!(&value(hi) >= q, "{q}: hi {hi:e}"),
        false => assert!(hi > 0.0 && q > &max, "{q}: hi {hi:e}"),
    }
}

fn check(q: &BigRational) {
    assert_nearest(q);
    assert_enclosed(q);
}

/// (sign) n / d * 2^k.
fn scaled(negative: bool, n: BigInt, d: BigInt, k: i32) -> BigRational {
    let two = BigRational::from_integer(BigInt::from(2));
    let q = BigRational::new(n, d) * two.pow(k);
    if negative { -q } else { q }
}

fn big(digits: Vec<u32>) -> BigInt {
    BigInt::from_slice(Sign::Plus, &digits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn non_dyadic_fractions(
        negative: bool,
        n in proptest::collection::vec(any::<u32>(), 1..5),
        d in proptest::collection::vec(any::<u32>(), 1..5),
        k in -1100i32..1100,
    ) {
        let (n, d) = (big(n), big(d) | BigInt::one());
        if !d.is_one() {
            check(&scaled(negative, n, d, k));
        }
    }

    #[test]
    fn dyadics(
        negative: bool,
        n in proptest::collection::vec(any::<u32>(), 1..4),
        k in -1200i32..1100,
    ) {
        check(&scaled(negative, big(n), BigInt::one(), k));
    }

    /// Subnormals and the edge of the normal range, from 2^-1080 to 2^-1015.
    #[test]
    fn subnormals(negative: bool, n: u64, d in 1u64.., k in -1080i32..-1015) {
        check(&scaled(negative, n.into(), d.into(), k));
    }

    /// Every f64, and the midpoints and near-midpoints next to it (ties to even).
    #[test]
    fn f64s_and_midpoints(bits: u64, nudge in -1i64..=1) {
        let x = f64::from_bits(bits);
        if x.is_finite() {
            let q = value(x);
            assert_eq!(rational_to_f64(&q), x);
            assert_eq!(enclose(&q), (x, x));
            let mid = (value(x) + value(x.next_up())) / BigRational::from_integer(2.into());
            let tiny = BigRational::new(1.into(), BigInt::one() << 1200u32);
            check(&(mid + tiny * BigRational::from_integer(nudge.into())));
        }
    }
}

#[test]
fn edges_of_the_range() {
    let max = value(f64::MAX);
    let ulp_max = BigRational::from_integer(BigInt::one() << 971u32);
    let half = BigRational::new(1.into(), 2.into());
    let tiny = BigRational::new(1.into(), BigInt::one() << 2000u32);
    let min_sub = value(f64::from_bits(1));
    for q in [
        BigRational::zero(),
        max.clone(),
        &max + &ulp_max * &half,
        &max + &ulp_max * &half - &tiny,
        &max + &ulp_max,
        BigRational::from_integer(BigInt::one() << 5000u32),
        min_sub.clone(),
        &min_sub * &half,
        &min_sub * &half + &tiny,
        tiny.clone(),
        BigRational::new(BigInt::one() << 1100u32, 3.into()),
        BigRational::new(1.into(), BigInt::one() << 1100u32),
    ] {
        check(&q);
        check(&-q);
    }
    assert_eq!(rational_to_f64(&(&max + &ulp_max * &half)), f64::INFINITY);
    assert_eq!(enclose(&(&max + &tiny)), (f64::MAX, f64::INFINITY));
    assert_eq!(enclose(&-(&max + &tiny)), (f64::NEG_INFINITY, -f64::MAX));
    assert_eq!(rational_to_f64(&(&min_sub * &half)), 0.0);
    assert_eq!(enclose(&tiny), (0.0, f64::from_bits(1)));
    // The examples of issue 10: a fraction of two large integers near 2^1023, and decimals
    // near the bottom of the range.
    let near_2_1023 = BigRational::new(
        (BigInt::one() << 1100u32) + BigInt::one(),
        (BigInt::one() << 77u32) - BigInt::one(),
    );
    check(&near_2_1023);
    assert!(rational_to_f64(&near_2_1023).is_finite());
    for text in [
        "5.0000000000000000000000001e-309",
        "5.0000000000000000001e-315",
    ] {
        check(&slth_checker::numbers::parse_rational(text).unwrap());
    }
}
