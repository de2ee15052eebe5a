//! f and g~ in f64, with the gradient of `phi(x) = ||g~(x) - f(x)||_2^2` by one backward
//! pass. Both networks are piecewise linear, so the gradient is that of the linear piece the
//! forward pass's activation pattern selects (a ReLU at exactly 0 counts as off). Used only
//! to search; every number `attack` reports is recomputed exactly.
//!
//! Block i of g~ is evaluated in the form of docs/FORMAT.md section 10: a kept hidden
//! neuron with input t and weight u computes `max(u y_t, 0)`, which is `u max(y_t, 0)` for
//! u > 0 and `u min(y_t, 0)` for u < 0, so the block computes
//! `act_i(P_i y+ + Q_i y-)` with `P_i[m][t]` the sum of `V[m][j] U[j][t]` over kept paths
//! m <- j <- t with U[j][t] > 0, and Q_i the same over U[j][t] < 0. Two dense products per
//! block, whatever the width of g.

use crate::network::{Activation, Network};
use crate::numbers::rational_to_f64;
use crate::ticket::Ticket;
use slth_checker::sampler::WEIGHT_SCALE;

/// A dense matrix: `entries[m * cols + t]` is row m, column t.
#[derive(Debug, Clone)]
struct Dense {
    rows: usize,
    cols: usize,
    entries: Vec<f64>,
}

impl Dense {
    fn zero(rows: usize, cols: usize) -> Dense {
        Dense {
            rows,
            cols,
            entries: vec![0.0; rows * cols],
        }
    }

    fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.entries.chunks(self.cols.max(1)).take(self.rows)
    }

    fn to_rows(&self) -> Vec<Vec<f64>> {
        self.rows().map(<[f64]>::to_vec).collect()
    }

    /// `out += self * v`
    fn multiply_add(&self, v: &[f64], out: &mut [f64]) {
        for (o, row) in out.iter_mut().zip(self.rows()) {
            *o += row.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
        }
    }

    /// `out += self^T * v`
    fn transpose_multiply_add(&self, v: &[f64], out: &mut [f64]) {
        for (row, d) in self.rows().zip(v) {
            if *d != 0.0 {
                for (o, a) in out.iter_mut().zip(row) {
                    *o += a * d;
                }
            }
        }
    }
}

/// One layer of f (W) or block of g~ (P and Q).
#[derive(Debug, Clone)]
struct Layer {
    relu: bool,
    /// W for f; P for g~
    positive: Dense,
    /// Q for g~ (None for f, whose layers are linear in y)
    negative: Option<Dense>,
}

/// f and g~ in f64.
#[derive(Debug, Clone)]
pub struct Model {
    input_dim: usize,
    target: Vec<Layer>,
    ticket: Vec<Layer>,
}

/// The buffers of one forward and backward pass (one per thread).
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// f's activations a_0 = x, a_1, ..., a_l
    f: Vec<Vec<f64>>,
    /// g~'s block inputs y_0 = x, ..., y_l (y_l = g~(x))
    g: Vec<Vec<f64>>,
    /// y+ and y- of the block input being processed
    plus: Vec<f64>,
    minus: Vec<f64>,
    /// g~(x) - f(x)
    difference: Vec<f64>,
    gradient: Vec<f64>,
    delta: Vec<f64>,
    next: Vec<f64>,
    next_negative: Vec<f64>,
}

impl Model {
    /// f and g~ of a certificate, rounded to f64. Output entries whose hidden neuron is not
    /// kept contribute nothing, as in the exact evaluators.
    pub fn new(target: &Network, ticket: &Ticket) -> Model {
        let dims = target.dims();
        let scale = WEIGHT_SCALE as f64;
        let layers = target
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let (rows, cols) = (dims[i + 1], dims[i]);
                let mut w = Dense::zero(rows, cols);
                for (m, row) in layer.weights.iter().enumerate() {
                    for (t, x) in row.iter().enumerate() {
                        w.entries[m * cols + t] = rational_to_f64(x);
                    }
                }
                Layer {
                    relu: layer.activation == Activation::Relu,
                    positive: w,
                    negative: None,
                }
            })
            .collect();
        let blocks = ticket
            .blocks
            .iter()
            .enumerate()
            .zip(&target.layers)
            .map(|((i, block), layer)| {
                let (rows, cols) = (dims[i + 1], dims[i]);
                let mut p = Dense::zero(rows, cols);
                let mut q = Dense::zero(rows, cols);
                for (&(m, j), &v) in &block.output {
                    let Some(&(t, u)) = block.hidden.get(&j) else {
                        continue;
                    };
                    let (m, t) = (m as usize, t as usize);
                    if m >= rows || t >= cols {
                        continue;
                    }
                    let side = if u > 0 { &mut p } else { &mut q };
                    side.entries[m * cols + t] += (v as f64 / scale) * (u as f64 / scale);
                }
                Layer {
                    relu: layer.activation == Activation::Relu,
                    positive: p,
                    negative: Some(q),
                }
            })
            .collect();
        Model {
            input_dim: target.input_dim,
            target: layers,
            ticket: blocks,
        }
    }

    /// The first layer of f as rows (empty for a target without layers).
    pub fn first_layer(&self) -> Vec<Vec<f64>> {
        self.target
            .first()
            .map_or_else(Vec::new, |layer| layer.positive.to_rows())
    }

    /// The product W_l ... W_1 (f with every ReLU replaced by the identity), n_l x d,
    /// multiplied from the left end (n_l is the narrowest side of most networks).
    pub fn linear_product(&self) -> Vec<Vec<f64>> {
        let Some(last) = self.target.last() else {
            return Vec::new();
        };
        let mut product = last.positive.to_rows();
        for layer in self.target.iter().rev().skip(1) {
            product = product
                .iter()
                .map(|row| {
                    let mut out = vec![0.0; layer.positive.cols];
                    layer.positive.transpose_multiply_add(row, &mut out);
                    out
                })
                .collect();
        }
        product
    }

    /// Block 1's error matrices `P_1 - W_1` and `Q_1 - W_1`: the first block's error on
    /// the positive and on the negative orthant.
    pub fn first_block_errors(&self) -> [Vec<Vec<f64>>; 2] {
        let (Some(w), Some(block)) = (self.target.first(), self.ticket.first()) else {
            return [Vec::new(), Vec::new()];
        };
        let minus = |a: &Dense| -> Vec<Vec<f64>> {
            a.rows()
                .zip(w.positive.rows())
                .map(|(a, w)| a.iter().zip(w).map(|(a, w)| a - w).collect())
                .collect()
        };
        let q = block.negative.as_ref().map(minus).unwrap_or_default();
        [minus(&block.positive), q]
    }

    /// `phi(x) = ||g~(x) - f(x)||_2^2`; leaves the pass in `work` for [`Model::gradient`].
    pub fn value(&self, x: &[f64], work: &mut Work) -> f64 {
        let Work {
            f,
            g,
            plus,
            minus,
            difference,
            ..
        } = work;
        forward(&self.target, x, f, plus, minus);
        forward(&self.ticket, x, g, plus, minus);
        let (Some(f), Some(g)) = (f.last(), g.last()) else {
            return 0.0;
        };
        difference.clear();
        difference.extend(g.iter().zip(f).map(|(g, f)| g - f));
        difference.iter().map(|e| e * e).sum()
    }

    /// The gradient of phi at the point of the last [`Model::value`]:
    /// `2 (J_g~ - J_f)^T (g~(x) - f(x))` on the activation pattern of that pass.
    pub fn gradient<'a>(&self, work: &'a mut Work) -> &'a [f64] {
        let Work {
            f,
            g,
            difference,
            gradient,
            delta,
            next,
            next_negative,
            ..
        } = work;
        gradient.clear();
        gradient.resize(self.input_dim, 0.0);
        for (layers, activations, sign) in [(&self.target, &*f, -2.0), (&self.ticket, &*g, 2.0)] {
            delta.clear();
            delta.extend(difference.iter().map(|e| sign * e));
            for (i, layer) in layers.iter().enumerate().rev() {
                if layer.relu {
                    for (d, a) in delta.iter_mut().zip(&activations[i + 1]) {
                        if *a <= 0.0 {
                            *d = 0.0;
                        }
                    }
                }
                let input = &activations[i];
                next.clear();
                next.resize(input.len(), 0.0);
                layer.positive.transpose_multiply_add(delta, next);
                if let Some(q) = &layer.negative {
                    // d z / d y_t is P[.][t] where y_t >= 0 (the right derivative at 0) and
                    // Q[.][t] where y_t < 0.
                    next_negative.clear();
                    next_negative.resize(input.len(), 0.0);
                    q.transpose_multiply_add(delta, next_negative);
                    for ((n, q), y) in next.iter_mut().zip(next_negative.iter()).zip(input) {
                        if *y < 0.0 {
                            *n = *q;
                        }
                    }
                }
                std::mem::swap(delta, next);
            }
            for (g, d) in gradient.iter_mut().zip(delta.iter()) {
                *g += d;
            }
        }
        gradient
    }
}

/// The activations of `layers` from x: `outputs[0] = x`, `outputs[i + 1] = act(W y)` for f
/// and `act(P y+ + Q y-)` for g~.
fn forward(
    layers: &[Layer],
    x: &[f64],
    outputs: &mut Vec<Vec<f64>>,
    plus: &mut Vec<f64>,
    minus: &mut Vec<f64>,
) {
    outputs.resize_with(layers.len() + 1, Vec::new);
    outputs[0].clear();
    outputs[0].extend_from_slice(x);
    for (i, layer) in layers.iter().enumerate() {
        let (before, after) = outputs.split_at_mut(i + 1);
        let (input, output) = (&before[i], &mut after[0]);
        output.clear();
        output.resize(layer.positive.rows, 0.0);
        match &layer.negative {
            None => layer.positive.multiply_add(input, output),
            Some(q) => {
                plus.clear();
                plus.extend(input.iter().map(|y| y.max(0.0)));
                minus.clear();
                minus.extend(input.iter().map(|y| y.min(0.0)));
                layer.positive.multiply_add(plus, output);
                q.multiply_add(minus, output);
            }
        }
        if layer.relu {
            for z in output.iter_mut() {
                *z = z.max(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::{CertifyOptions, Request, certify};
    use crate::network::Layer;
    use num_bigint::BigInt;
    use num_rational::BigRational;
    use slth_checker::sampler::Seed;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(BigInt::from(n), BigInt::from(d))
    }

    fn example() -> (Network, Ticket) {
        let target = Network {
            input_dim: 3,
            layers: vec![
                Layer {
                    weights: vec![
                        vec![q(1, 3), q(-2, 7), q(1, 2)],
                        vec![q(-1, 5), q(3, 8), q(1, 9)],
                    ],
                    activation: Activation::Relu,
                },
                Layer {
                    weights: vec![vec![q(2, 3), q(-1, 10)], vec![q(1, 4), q(1, 1)]],
                    activation: Activation::Linear,
                },
            ],
        };
        let options = CertifyOptions::new(Request::Epsilon(q(1, 5)), Seed::from_u64(5));
        let ticket = certify(&target, &options).unwrap().ticket;
        (target, ticket)
    }

    /// phi agrees with the exact evaluation, and the gradient with central differences
    /// (at generic points, where no ReLU sits at its kink within the step).
    #[test]
    fn value_and_gradient_match_exact_evaluation_and_differences() {
        let (target, ticket) = example();
        let model = Model::new(&target, &ticket);
        let mut work = Work::default();
        for x in [[0.3, -0.7, 0.2], [-0.5, 0.1, 0.8], [0.9, 0.4, -0.1]] {
            let exact: Vec<BigRational> = x
                .iter()
                .map(|v| BigRational::from_float(*v).unwrap())
                .collect();
            let f = target.eval_exact(&exact);
            let g = ticket.eval_exact(&target, &exact);
            let phi: BigRational = f.iter().zip(&g).map(|(a, b)| (a - b) * (a - b)).sum();
            let value = model.value(&x, &mut work);
            assert!((value - rational_to_f64(&phi)).abs() <= 1e-12 * value.max(1e-12));
            let gradient = model.gradient(&mut work).to_vec();
            for k in 0..3 {
                let h = 1e-7;
                let (mut up, mut down) = (x, x);
                up[k] += h;
                down[k] -= h;
                let numeric =
                    (model.value(&up, &mut work) - model.value(&down, &mut work)) / (2.0 * h);
                assert!(
                    (numeric - gradient[k]).abs() <= 1e-5 * (1.0 + numeric.abs()),
                    "x = {x:?}, k = {k}: {numeric} vs {}",
                    gradient[k]
                );
            }
        }
    }

    #[test]
    fn the_linear_product_is_w2_times_w1() {
        let (target, ticket) = example();
        let model = Model::new(&target, &ticket);
        let w = |i: usize| target.layers[i].weights_f64();
        let (w1, w2) = (w(0), w(1));
        let product = model.linear_product();
        assert_eq!(product.len(), 2);
        for (m, row) in product.iter().enumerate() {
            assert_eq!(row.len(), 3);
            for (t, value) in row.iter().enumerate() {
                let expected: f64 = (0..2).map(|k| w2[m][k] * w1[k][t]).sum();
                assert!((value - expected).abs() < 1e-15, "({m}, {t})");
            }
        }
    }
}
