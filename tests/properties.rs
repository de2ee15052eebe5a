//! Properties of the whole pipeline on random small targets: certify succeeds, the
//! certificate text parses back to the same certificate, the independent verifier accepts
//! it with an epsilon no larger than requested, and exact evaluation of f and g~ at
//! rational points of the domain never exceeds that epsilon.

use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::prelude::*;
use proptest::test_runner::Config;
use slth::certify::{CertifyOptions, Construction, Request, certify};
use slth::eval::{evaluate, sample_points};
use slth::network::{Activation, Layer, Network};
use slth::numbers::sum_of_squares;
use slth::ticket::Ticket;
use slth::write::to_json_text;
use slth_checker::certificate::parse;
use slth_checker::sampler::Seed;
use slth_checker::verify::verify;

/// Cases per run: a few seconds in release on two cores.
const CASES: u32 = 24;
/// Depth l of the target.
const DEPTHS: std::ops::RangeInclusive<usize> = 1..=3;
/// Every width n_0..n_l.
const WIDTHS: std::ops::RangeInclusive<usize> = 1..=4;
/// Denominators q of the weights p/q.
const DENOMINATORS: std::ops::RangeInclusive<i64> = 1..=12;
/// |p/q| <= MAX_WEIGHT_TENTHS / 10, safely inside the pairs construction's |w| < 1.
const MAX_WEIGHT_TENTHS: i64 = 9;
/// epsilon = k/100 for k in this range, i.e. epsilon in [0.05, 0.5].
const EPSILON_HUNDREDTHS: std::ops::RangeInclusive<i64> = 5..=50;
/// Radii of the ball, as (numerator, denominator): 1, 1/2, 2.
const RADII: [(i64, i64); 3] = [(1, 1), (1, 2), (2, 1)];
/// Rational points at which f and g~ are compared exactly.
const POINTS: usize = 20;

fn rational(p: i64, q: i64) -> BigRational {
    BigRational::new(BigInt::from(p), BigInt::from(q))
}

/// p/q with q in DENOMINATORS and |p/q| <= 0.9.
fn weight() -> impl Strategy<Value = BigRational> {
    DENOMINATORS.prop_flat_map(|q| {
        let p = MAX_WEIGHT_TENTHS * q / 10;
        (-p..=p).prop_map(move |p| rational(p, q))
    })
}

/// A target of depth 1..=3 and widths 1..=4; the last layer is ReLU or linear.
fn target() -> impl Strategy<Value = Network> {
    DEPTHS
        .prop_flat_map(|depth| proptest::collection::vec(WIDTHS, depth + 1))
        .prop_flat_map(|dims| {
            let layers: Vec<_> = dims
                .windows(2)
                .map(|pair| {
                    proptest::collection::vec(proptest::collection::vec(weight(), pair[0]), pair[1])
                })
                .collect();
            (Just(dims[0]), layers, any::<bool>())
        })
        .prop_map(|(input_dim, weights, linear_output)| {
            let depth = weights.len();
            let layers = weights
                .into_iter()
                .enumerate()
                .map(|(i, weights)| Layer {
                    weights,
                    activation: if linear_output && i + 1 == depth {
                        Activation::Linear
                    } else {
                        Activation::Relu
                    },
                })
                .collect();
            Network { input_dim, layers }
        })
}

fn construction() -> impl Strategy<Value = Construction> {
    prop_oneof![Just(Construction::SubsetSum), Just(Construction::Pairs)]
}

fn config() -> Config {
    Config {
        cases: CASES,
        // Regression files would land in tests/; a failure prints its minimal case instead.
        failure_persistence: None,
        // Cases cost up to a second each; shrinking stays within a minute or two.
        max_shrink_iters: 500,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn certify_verify_and_exact_evaluation_agree(
        target in target(),
        construction in construction(),
        seed in any::<u64>(),
        hundredths in EPSILON_HUNDREDTHS,
        radius in proptest::sample::select(RADII.to_vec()),
        nonnegative in any::<bool>(),
        point_seed in any::<u64>(),
    ) {
        let epsilon = rational(hundredths, 100);
        let radius = rational(radius.0, radius.1);
        let mut options = CertifyOptions::new(Request::Epsilon(epsilon.clone()), Seed::from_u64(seed));
        options.construction = construction;
        options.radius = radius.clone();
        options.nonnegative = nonnegative;

        let certified = match (construction, certify(&target, &options)) {
            (_, Ok(certified)) => certified,
            // Subset sum caps its pools at 24 neurons, so a draw with too few products of the
            // needed sign fails now and then (about 1 case in 300 here; see
            // `subset_sum_certifies_a_single_weight` below). The target must still be
            // certifiable, by pairs, and the soundness checks run on that certificate.
            (Construction::SubsetSum, Err(e)) => {
                prop_assert!(e.to_string().starts_with("block "), "unclear failure: {}", e);
                options.construction = Construction::Pairs;
                certify(&target, &options).map_err(|p| {
                    TestCaseError::fail(format!("subset sum failed ({e}) and pairs too: {p}"))
                })?
            }
            (Construction::Pairs, Err(e)) => {
                return Err(TestCaseError::fail(format!("certify failed: {e}")));
            }
        };

        // The text is the certificate: it parses back to the same value and prints the same.
        let text = to_json_text(&certified.certificate());
        let reread = parse(&text)
            .map_err(|e| TestCaseError::fail(format!("written certificate does not parse: {e}")))?;
        prop_assert_eq!(&reread, &certified.certificate());
        prop_assert_eq!(to_json_text(&reread), text);

        let report = verify(&reread)
            .map_err(|r| TestCaseError::fail(format!("verifier rejects: {r}")))?;
        prop_assert!(report.epsilon <= epsilon, "certified {} > requested {}", report.epsilon, epsilon);
        prop_assert!(report.bound_value <= report.epsilon);
        prop_assert_eq!(&report.radius, &radius);
        prop_assert_eq!(report.nonnegative, nonnegative);

        // The ticket as a reader of the file sees it (weights recomputed from the seed) is
        // the one the builder made.
        let ticket = Ticket::from_certificate(&reread, &target)
            .map_err(|e| TestCaseError::fail(format!("ticket of the certificate: {e}")))?;
        prop_assert_eq!(&ticket, &certified.ticket);

        let points = sample_points(&target, &radius, nonnegative, POINTS, &Seed::from_u64(point_seed));
        prop_assert_eq!(points.len(), POINTS);
        let radius_squared = &radius * &radius;
        for x in &points {
            prop_assert!(sum_of_squares(x.iter()) <= radius_squared, "point outside the ball");
            prop_assert!(!nonnegative || x.iter().all(|v| *v >= rational(0, 1)));
        }
        let seen = evaluate(&target, &ticket, &points);
        let epsilon_squared = &report.epsilon * &report.epsilon;
        prop_assert!(
            seen.max_squared <= epsilon_squared,
            "at point {}: ||f - g~||^2 = {} > epsilon^2 = {}",
            seen.worst_point,
            seen.max_squared,
            epsilon_squared
        );
    }
}

/// A draw where 20 of the first 24 pooled products V*U are negative, so no subset of them
/// sums to 3/4 within the tolerance; pairs certifies the same target and seed, and subset
/// sum must too (by growing that input's pool).
const UNLUCKY_SEED: u64 = 191;

#[test]
fn subset_sum_certifies_a_single_weight() {
    let target = Network {
        input_dim: 1,
        layers: vec![Layer {
            weights: vec![vec![rational(3, 4)]],
            activation: Activation::Relu,
        }],
    };
    let mut options = CertifyOptions::new(
        Request::Epsilon(rational(1, 10)),
        Seed::from_u64(UNLUCKY_SEED),
    );
    options.nonnegative = true;
    options.construction = Construction::Pairs;
    let pairs = certify(&target, &options).expect("pairs certifies");
    verify(&pairs.certificate()).expect("the pairs certificate verifies");
    options.construction = Construction::SubsetSum;
    if let Err(e) = certify(&target, &options) {
        panic!("subset sum: {e}");
    }
}
