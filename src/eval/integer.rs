//! f and g~ as integer arithmetic over one denominator per vector.

use crate::network::{Activation, Network};
use crate::numbers::lcm;
use crate::ticket::{BlockTicket, Ticket};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

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
/// denominator by D_W. No gcd is taken until the outputs are turned back into rationals,
/// which makes it about 70 times faster than BigRational arithmetic on a 65-33-10 target
/// (the results are identical).
///
/// g~'s block k is evaluated through its path sums (docs/FORMAT.md section 6.1), integers
/// over 2^106: with `P[m][t] = sum V[m][j] max(U[j][t], 0)` and `Q[m][t] = sum V[m][j]
/// min(U[j][t], 0)` over the kept paths, `sum_j V[m][j] ReLU(U[j][t] y_t)` is `P[m][t] y_t`
/// when y_t >= 0 and `Q[m][t] y_t` when y_t < 0, so the block's pre-activation is
/// `sum_t (P or Q)[m][t] y_t`, the same integers the kept paths give one by one. That is
/// one product per target weight instead of one per kept path (a LeNet-300-100 ticket keeps
/// about six paths per weight).
#[derive(Debug, Clone)]
pub struct IntegerEvaluator {
    /// per layer: integer weights M, their common denominator D_W, the activation
    layers: Vec<(Vec<Vec<BigInt>>, BigInt, Activation)>,
    /// per block of g~: P and Q, row-major n_k x n_{k-1}, over 2^106
    blocks: Vec<(Vec<BigInt>, Vec<BigInt>)>,
}

impl IntegerEvaluator {
    /// Prepares f's integer weights and `ticket`'s path sums.
    pub fn new(target: &Network, ticket: &Ticket) -> IntegerEvaluator {
        let layers: Vec<(Vec<Vec<BigInt>>, BigInt, Activation)> = target
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
        let dims = target.dims();
        let blocks = ticket
            .blocks
            .iter()
            .zip(target.layers.iter().enumerate())
            .map(|(block, (k, layer))| path_sums(block, layer.outputs(), dims[k]))
            .collect();
        IntegerEvaluator { layers, blocks }
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

    /// g~(x) exactly: each block's pre-activation `sum_t (P or Q)[m][t] y_t`, numerators
    /// over 2^106 (2^53 for U times 2^53 for V).
    pub fn ticket(&self, x: &ScaledVector) -> ScaledVector {
        let mut y = x.clone();
        for ((p, q), (rows, _, activation)) in self.blocks.iter().zip(&self.layers) {
            let cols = y.numerators.len();
            let mut z = vec![BigInt::zero(); rows.len()];
            for (m, slot) in z.iter_mut().enumerate() {
                for (t, v) in y.numerators.iter().enumerate() {
                    if v.is_zero() {
                        continue;
                    }
                    let sums = if v.is_negative() { q } else { p };
                    if let Some(w) = sums.get(m * cols + t).filter(|w| !w.is_zero()) {
                        *slot += w * v;
                    }
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
    pub fn both(&self, x: &[BigRational]) -> (Vec<BigRational>, Vec<BigRational>) {
        let x = ScaledVector::from_rationals(x);
        (
            self.target(&x).to_rationals(),
            self.ticket(&x).to_rationals(),
        )
    }
}

/// P and Q of one block, row-major `rows x cols`, as integers over 2^106
/// ([`crate::bound::summed_paths`], whatever did not fit in i128 added in BigInt). Paths
/// outside the target's shape are left out, as the path-by-path evaluation ignored them.
fn path_sums(block: &BlockTicket, rows: usize, cols: usize) -> (Vec<BigInt>, Vec<BigInt>) {
    let sums = crate::bound::summed_paths(block, cols, rows);
    let mut p: Vec<BigInt> = sums.p.into_iter().map(BigInt::from).collect();
    let mut q: Vec<BigInt> = sums.q.into_iter().map(BigInt::from).collect();
    for (positive, cell, product) in sums.spilled {
        let target = if positive { &mut p } else { &mut q };
        target[cell] += product;
    }
    (p, q)
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
        let evaluator = IntegerEvaluator::new(&target, &certified.ticket);
        let points = sample_points(&target, &q(3, 2), false, 60, &Seed::from_u64(2));
        for x in &points {
            let (f, g) = evaluator.both(x);
            assert_eq!(f, target.eval_exact(x));
            assert_eq!(g, certified.ticket.eval_exact(&target, x));
        }
    }
}
