//! The random two-layer network g of the neuron theorem, and points on the unit sphere.
//!
//! `g(x) = sum_j a_j ReLU(<w_j, x>)`, width k, input dimension d. The output weights a_j
//! and the `uniform` first layer are the checker's (`slth_checker::neurons`: stream 0 at
//! index `j d + t` for `w_j[t]`, stream 1 at index j for `a_j`, the uniform-dyadic-53
//! sampler), so a certificate's verifier recomputes them exactly.
//!
//! The `sphere` first layer is uniform on the unit sphere, built the usual way: d standard
//! normals by Box-Muller, normalised. Normal t of neuron j takes the two uniform-dyadic-53
//! draws of stream 0 at indices `2 (j d + t)` and `2 (j d + t) + 1`, maps each v to
//! p = (v + 1) / 2 in (0, 1) (exact: never 0 or 1) and returns `sqrt(-2 ln p1) cos(2 pi p2)`.
//! The logarithm, cosine and square root are f64 library functions that are not correctly
//! rounded and differ between platforms, so these weights are approximate: no certificate
//! can use them (the checker rejects `sphere-gaussian-f64` with that reason).
//!
//! Sample points uniform on the unit sphere use the same construction with their own seed
//! (`--points-seed`): point s, coordinate t from indices `2 (s d + t)` and `2 (s d + t) + 1`
//! of stream 0 (the training sample) or stream 1 (the held-out sample).

use slth_checker::neurons::{INPUT_STREAM, input_weights, output_weight};
use slth_checker::sampler::{Seed, StreamReader, WEIGHT_SCALE};

/// The distribution of g's first layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLayer {
    /// every weight uniform-dyadic-53 in (-1, 1), as in the weight-subnetwork g (exact)
    Uniform,
    /// each w_j uniform on the unit sphere (Box-Muller in f64: approximate)
    Sphere,
}

impl FirstLayer {
    /// The name a certificate's `first_layer` gives it.
    pub fn name(self) -> &'static str {
        match self {
            FirstLayer::Uniform => slth_checker::neurons::UNIFORM_LAYER,
            FirstLayer::Sphere => slth_checker::neurons::SPHERE_LAYER,
        }
    }
}

/// The first k neurons of g (a wider g only appends neurons).
#[derive(Debug, Clone)]
pub struct RandomTwoLayer {
    pub input_dim: usize,
    pub width: usize,
    pub first_layer: FirstLayer,
    /// `w_j[t]` at `j * input_dim + t`
    pub w: Vec<f64>,
    /// a_j
    pub a: Vec<f64>,
    /// For the uniform first layer: the exact numerators over 2^53 (w, then a).
    pub numerators: Option<(Vec<i64>, Vec<i64>)>,
}

fn value(numerator: i64) -> f64 {
    numerator as f64 / WEIGHT_SCALE as f64
}

/// A standard normal from two uniform-dyadic-53 draws (Box-Muller, f64).
fn normal(v1: i64, v2: i64) -> f64 {
    // (v + 1) / 2 = (n + 2^53) / 2^54 with n odd and |n| < 2^53: in (0, 1), exact in f64.
    let p = |n: i64| (n as f64 + WEIGHT_SCALE as f64) / (2.0 * WEIGHT_SCALE as f64);
    (-2.0 * p(v1).ln()).sqrt() * (2.0 * std::f64::consts::PI * p(v2)).cos()
}

/// Unit vectors: `count` of them in R^d from `stream` of `seed`, vector s from indices
/// `2 (s d + t)` and `2 (s d + t) + 1`.
pub fn sphere_vectors(seed: &Seed, stream: u64, count: usize, d: usize) -> Vec<f64> {
    let mut reader = StreamReader::new(*seed, stream);
    let mut out = Vec::with_capacity(count * d);
    for s in 0..count {
        let start = out.len();
        for t in 0..d {
            let index = 2 * (s * d + t) as u64;
            out.push(normal(reader.numerator(index), reader.numerator(index + 1)));
        }
        let norm = out[start..].iter().map(|z| z * z).sum::<f64>().sqrt();
        for z in &mut out[start..] {
            *z /= norm;
        }
    }
    out
}

/// Draws the first `width` neurons of g.
pub fn draw(
    seed: &Seed,
    input_dim: usize,
    width: usize,
    first_layer: FirstLayer,
) -> RandomTwoLayer {
    let a_numerators: Vec<i64> = {
        let mut reader = StreamReader::new(*seed, slth_checker::neurons::OUTPUT_STREAM);
        (0..width as u64).map(|j| reader.numerator(j)).collect()
    };
    debug_assert!(width == 0 || a_numerators[0] == output_weight(seed, 0));
    let a = a_numerators.iter().map(|&n| value(n)).collect();
    match first_layer {
        FirstLayer::Uniform => {
            let mut reader = StreamReader::new(*seed, INPUT_STREAM);
            let w_numerators: Vec<i64> = (0..(width * input_dim) as u64)
                .map(|i| reader.numerator(i))
                .collect();
            debug_assert!(
                width == 0
                    || input_dim == 0
                    || input_weights(seed, input_dim as u64, 0).unwrap()[..]
                        == w_numerators[..input_dim]
            );
            RandomTwoLayer {
                input_dim,
                width,
                first_layer,
                w: w_numerators.iter().map(|&n| value(n)).collect(),
                a,
                numerators: Some((w_numerators, a_numerators)),
            }
        }
        FirstLayer::Sphere => RandomTwoLayer {
            input_dim,
            width,
            first_layer,
            w: sphere_vectors(seed, INPUT_STREAM, width, input_dim),
            a,
            numerators: None,
        },
    }
}

/// The feature matrix `ReLU(<w_j, x_s>)` of the first `k` neurons on the rows of `x`
/// (n rows of d), column-major: neuron j's n values at `j * n ..`.
pub fn features(g: &RandomTwoLayer, k: usize, x: &[f64]) -> Vec<f64> {
    use rayon::prelude::*;
    let d = g.input_dim;
    let n = x.len().checked_div(d).unwrap_or(0);
    let mut phi = vec![0.0; k * n];
    if n == 0 {
        return phi;
    }
    phi.par_chunks_mut(n).enumerate().for_each(|(j, column)| {
        let w = &g.w[j * d..(j + 1) * d];
        for (s, out) in column.iter_mut().enumerate() {
            let z: f64 = w
                .iter()
                .zip(&x[s * d..(s + 1) * d])
                .map(|(a, b)| a * b)
                .sum();
            *out = z.max(0.0);
        }
    });
    phi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_g_appends_neurons() {
        let seed = Seed::from_u64(5);
        for first in [FirstLayer::Uniform, FirstLayer::Sphere] {
            let narrow = draw(&seed, 3, 4, first);
            let wide = draw(&seed, 3, 9, first);
            assert_eq!(narrow.w[..], wide.w[..12]);
            assert_eq!(narrow.a[..], wide.a[..4]);
        }
    }

    #[test]
    fn sphere_vectors_are_unit_and_spread() {
        let v = sphere_vectors(&Seed::from_u64(1), 0, 2000, 3);
        for row in v.chunks(3) {
            let norm: f64 = row.iter().map(|z| z * z).sum();
            assert!((norm - 1.0).abs() < 1e-12);
        }
        // Each coordinate of a uniform unit vector in R^3 has mean 0 and variance 1/3.
        for t in 0..3 {
            let mean: f64 = v.chunks(3).map(|r| r[t]).sum::<f64>() / 2000.0;
            let var: f64 = v.chunks(3).map(|r| r[t] * r[t]).sum::<f64>() / 2000.0;
            assert!(mean.abs() < 0.05, "{mean}");
            assert!((var - 1.0 / 3.0).abs() < 0.03, "{var}");
        }
    }
}
