//! The empirical side of a certificate: f and g~ evaluated exactly at rational points.
//!
//! Points: each row of W_1 (and its negation) scaled to lie just inside the ball, exact
//! points of the sphere from the inverse stereographic projection
//! `y in Q^(d-1) -> (2y, |y|^2 - 1) / (|y|^2 + 1)` (norm exactly 1), and those scaled by a
//! random rational in [0, 1]. In a non-negative domain coordinates are replaced by their
//! absolute values, which keeps the norm.

use crate::network::Network;
use crate::numbers::{rational_from_f64, rational_to_f64, sum_of_squares};
use crate::ticket::Ticket;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use slth_checker::sampler::{Seed, StreamReader};

mod classify;
mod inputs;
mod integer;

pub use classify::{Classification, classify, predicted_class, top_two_margin};
pub use inputs::{
    Evaluable, Evaluation, classify_file, domain_report, evaluate_points, user_input_dim,
};
pub use integer::{IntegerEvaluator, ScaledVector};

/// Stream of the point generator, away from g's and the target generator's.
const POINT_STREAM: u64 = 1 << 41;

/// Rational points of the domain `||x||_2 <= radius` (and x >= 0 if `nonnegative`).
pub fn sample_points(
    target: &Network,
    radius: &BigRational,
    nonnegative: bool,
    count: usize,
    seed: &Seed,
) -> Vec<Vec<BigRational>> {
    let d = target.input_dim;
    let mut points = Vec::with_capacity(count);
    if d == 0 {
        return vec![Vec::new(); count.min(1)];
    }
    let fix_sign = |mut x: Vec<BigRational>| {
        if nonnegative {
            for v in &mut x {
                *v = v.abs();
            }
        }
        x
    };
    // Rows of W_1 and their negations: the directions where block 1's errors line up.
    let rows = target
        .layers
        .first()
        .map(|l| l.weights.clone())
        .unwrap_or_default();
    for row in rows.iter().take(count / 4) {
        for sign in [1i64, -1] {
            if points.len() >= count / 4 {
                break;
            }
            if let Some(x) = scaled_into_ball(row, radius) {
                let x = x.into_iter().map(|v| v * BigInt::from(sign)).collect();
                points.push(fix_sign(x));
            }
        }
    }
    let mut reader = StreamReader::new(*seed, POINT_STREAM);
    let mut next = 0u64;
    let mut uniform = move || {
        next += 1;
        reader.value(next - 1)
    };
    while points.len() < count {
        let y: Vec<BigRational> = (0..d - 1)
            .map(|_| {
                BigRational::new(
                    BigInt::from((uniform() * 1024.0).round() as i64),
                    BigInt::from(512),
                )
            })
            .collect();
        let norm2: BigRational = sum_of_squares(y.iter());
        let denominator = &norm2 + BigRational::one();
        let mut x: Vec<BigRational> = y
            .iter()
            .map(|v| v * BigInt::from(2) / &denominator)
            .collect();
        x.push((&norm2 - BigRational::one()) / &denominator);
        let on_sphere = points.len() % 2 == 0;
        let factor = if on_sphere {
            radius.clone()
        } else {
            let s = BigRational::new(
                BigInt::from(((uniform() + 1.0) * 512.0).floor() as i64),
                BigInt::from(1024),
            );
            radius * s
        };
        points.push(fix_sign(x.into_iter().map(|v| v * &factor).collect()));
    }
    points
}

/// `row * q` with a dyadic q <= radius / ||row|| (None for a zero row).
fn scaled_into_ball(row: &[BigRational], radius: &BigRational) -> Option<Vec<BigRational>> {
    let norm2 = sum_of_squares(row.iter());
    if norm2.is_zero() {
        return None;
    }
    let radius2 = radius * radius;
    let mut q = rational_to_f64(radius) / rational_to_f64(&norm2).sqrt();
    for _ in 0..64 {
        let exact = rational_from_f64(q)?;
        if &norm2 * &exact * &exact <= radius2 {
            return Some(row.iter().map(|w| w * &exact).collect());
        }
        q *= 1.0 - 1e-12;
    }
    None
}

/// What `eval` saw.
#[derive(Debug, Clone)]
pub struct Empirical {
    pub points: usize,
    /// max over points of ||f(x) - g~(x)||_2^2, exactly
    pub max_squared: BigRational,
    /// index of the point where it was seen
    pub worst_point: usize,
}

impl Empirical {
    /// max ||f - g~||_2 (rounded).
    pub fn max_distance(&self) -> f64 {
        rational_to_f64(&self.max_squared).sqrt()
    }
}

/// Evaluates f and g~ exactly at every point ([`IntegerEvaluator`], in parallel over points).
pub fn evaluate(target: &Network, ticket: &Ticket, points: &[Vec<BigRational>]) -> Empirical {
    use rayon::prelude::*;
    let mut result = Empirical {
        points: points.len(),
        max_squared: BigRational::zero(),
        worst_point: 0,
    };
    let evaluator = IntegerEvaluator::new(target, ticket);
    let progress = crate::progress::Progress::bar(points.len() as u64, "eval", "points");
    let squares: Vec<BigRational> = points
        .par_iter()
        .map(|x| {
            let (f, g) = evaluator.both(x);
            progress.inc(1);
            let differences: Vec<BigRational> = f.iter().zip(&g).map(|(a, b)| a - b).collect();
            sum_of_squares(differences.iter())
        })
        .collect();
    for (k, squared) in squares.into_iter().enumerate() {
        if squared > result.max_squared {
            result.max_squared = squared;
            result.worst_point = k;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Activation, Layer};

    fn target() -> Network {
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        Network {
            input_dim: 3,
            layers: vec![Layer {
                weights: vec![vec![q(1, 2), q(-1, 3), q(0, 1)]],
                activation: Activation::Linear,
            }],
        }
    }

    #[test]
    fn points_lie_in_the_domain_and_reach_the_sphere() {
        let radius = BigRational::new(BigInt::from(3), BigInt::from(2));
        for nonnegative in [false, true] {
            let points = sample_points(&target(), &radius, nonnegative, 40, &Seed::from_u64(1));
            assert_eq!(points.len(), 40);
            let r2 = &radius * &radius;
            let mut on_sphere = 0;
            for x in &points {
                let n2 = sum_of_squares(x.iter());
                assert!(n2 <= r2);
                on_sphere += usize::from(n2 == r2);
                assert!(!nonnegative || x.iter().all(|v| !v.is_negative()));
            }
            assert!(on_sphere >= 15, "only {on_sphere} points on the sphere");
        }
    }

    #[test]
    fn empty_ticket_shows_the_whole_target() {
        let f = target();
        let ticket = Ticket {
            blocks: vec![Default::default()],
        };
        let x = vec![vec![
            BigRational::one(),
            BigRational::zero(),
            BigRational::zero(),
        ]];
        let seen = evaluate(&f, &ticket, &x);
        assert_eq!(
            seen.max_squared,
            BigRational::new(BigInt::from(1), BigInt::from(4))
        );
    }
}
