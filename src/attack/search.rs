//! The search in f64: multi-start ascent of `phi(x) = ||g~(x) - f(x)||_2^2` on the unit
//! sphere (intersected with the non-negative orthant when the domain is), and plain random
//! sampling with the same number of evaluations.
//!
//! f and g~ have no biases, so both are positively homogeneous: `phi(c x) = c^2 phi(x)` for
//! c >= 0, and the supremum over the ball of radius r is r^2 times the supremum over the
//! unit sphere (the orthant is a cone, so this holds on ball ∩ orthant too). The search
//! therefore runs on the unit sphere, where the numbers are of order one whatever r is.
//!
//! One climb, from a start on the sphere (every accepted step increases phi):
//!
//! - a *power step*: the point of the domain's sphere that maximizes the linearization
//!   `<grad phi(x), y>`, i.e. the clamped gradient rescaled to norm 1. On one linear piece
//!   phi is `||A x||^2` and this is one step of the power method towards the top singular
//!   vector of A (for a single output, it lands there at once); taken when it increases phi;
//! - otherwise a projected gradient step along the gradient's component tangent to the
//!   sphere, clamped into the orthant and rescaled onto the sphere, with a step length that
//!   doubles after a success and shrinks by 4 after a failure; at a crease, along the
//!   least-norm combination of the gradients met nearby (see [`climb`]).
//!
//! Starts: the top two right singular vectors (both signs) of W_1, of W_l ... W_1 and of
//! block 1's error matrices P_1 - W_1 and Q_1 - W_1 (the directions where f, or the first
//! block's error, is largest) and coordinate directions in order of the norm of W_1's
//! columns, together at most half of the starts; then the best of 8 times as many random
//! points as are left (a random start where f and g~ both vanish would not move). Then
//! basin hopping from the 16 best climbs that ended at distinct points (0.05 apart): 32
//! times each, a random move of shrinking length and a new climb, kept if better (the
//! landscape has many small pieces, and good local maxima lie near each other).
//!
//! Random points come from ChaCha20 streams of the seed, each point from its own index
//! range, and every parallel map keeps its order, so the result does not depend on the
//! number of threads.

use super::model::{Model, Work};
use rayon::prelude::*;
use slth_checker::sampler::{Seed, StreamReader};

/// Stream of the random starts (away from g's streams and from eval's points).
const START_STREAM: u64 = (1 << 42) + 1;
/// Stream of plain random sampling.
const SAMPLE_STREAM: u64 = (1 << 42) + 2;

/// Points sampled per parallel task (a fixed split, so the result is the same on any
/// number of threads).
const SAMPLE_CHUNK: u64 = 512;

/// The unit sphere of R^d, or its non-negative part.
#[derive(Debug, Clone, Copy)]
pub struct Sphere {
    pub dim: usize,
    pub nonnegative: bool,
}

impl Sphere {
    /// Moves y onto the sphere: negative coordinates clamped to 0 on the orthant, then
    /// scaled to norm 1. This is also the maximizer over the domain of `<y, x>`. False
    /// (and y untouched in meaning) when nothing is left or y is not finite.
    pub fn onto(&self, y: &mut [f64]) -> bool {
        if self.nonnegative {
            for v in y.iter_mut() {
                *v = v.max(0.0);
            }
        }
        let norm = norm(y);
        if !(norm > 0.0 && norm.is_finite()) {
            return false;
        }
        for v in y.iter_mut() {
            *v /= norm;
        }
        true
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Where a start came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    Structured,
    Random,
}

/// The best point of one climb.
#[derive(Debug, Clone)]
pub struct Climb {
    /// on the unit sphere (of the orthant)
    pub point: Vec<f64>,
    /// phi at the point
    pub value: f64,
    /// forward passes plus gradient passes
    pub evaluations: u64,
}

/// What the whole search found.
#[derive(Debug, Clone)]
pub struct Found {
    pub best: Climb,
    pub structured: usize,
    pub starts: usize,
    /// forward plus gradient passes of all climbs
    pub evaluations: u64,
}

/// A standard normal vector of R^d from the uniforms at `base..base + 2 ceil(d/2)` of the
/// stream (Box-Muller).
fn gaussian(reader: &mut StreamReader, base: u64, dim: usize) -> Vec<f64> {
    let mut v = Vec::with_capacity(dim + 1);
    let mut index = base;
    while v.len() < dim {
        // g's weights are odd multiples of 2^-53 in (-1, 1): (w + 1) / 2 lies in (0, 1).
        let u1 = (reader.value(index) + 1.0) / 2.0;
        let u2 = (reader.value(index + 1) + 1.0) / 2.0;
        index += 2;
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        v.push(radius * angle.cos());
        v.push(radius * angle.sin());
    }
    v.truncate(dim);
    v
}

/// Uniforms one random point uses.
fn uniforms_per_point(dim: usize) -> u64 {
    dim.div_ceil(2) as u64 * 2
}

/// A uniform point of the sphere (of the orthant: the absolute values of a normal vector).
fn random_point(reader: &mut StreamReader, index: u64, sphere: Sphere) -> Vec<f64> {
    let mut v = gaussian(reader, index * uniforms_per_point(sphere.dim), sphere.dim);
    if sphere.nonnegative {
        for x in v.iter_mut() {
            *x = x.abs();
        }
    }
    if !sphere.onto(&mut v) {
        // Only for d = 0 (a normal vector is never 0 in practice): the domain's one point.
        v = vec![0.0; sphere.dim];
    }
    v
}

/// The top `count` right singular vectors of `a` (rows of equal length `cols`), by power
/// iteration on `A^T A` with deflation; fewer if `a` has lower rank.
fn top_singular_vectors(a: &[Vec<f64>], cols: usize, count: usize) -> Vec<Vec<f64>> {
    let mut found: Vec<Vec<f64>> = Vec::new();
    for c in 0..count {
        // A fixed, generic start: 1 + k / (d + c + 1).
        let mut v: Vec<f64> = (0..cols)
            .map(|k| 1.0 + (k as f64 + 0.5) / (cols + c + 1) as f64)
            .collect();
        let mut converged = false;
        for _ in 0..300 {
            for u in &found {
                let along = dot(&v, u);
                for (x, y) in v.iter_mut().zip(u) {
                    *x -= along * y;
                }
            }
            let n = norm(&v);
            if !(n > 0.0 && n.is_finite()) {
                break;
            }
            v.iter_mut().for_each(|x| *x /= n);
            let av: Vec<f64> = a.iter().map(|row| dot(row, &v)).collect();
            let mut next = vec![0.0; cols];
            for (row, s) in a.iter().zip(&av) {
                for (n, w) in next.iter_mut().zip(row) {
                    *n += w * s;
                }
            }
            let change: f64 = {
                let n = norm(&next);
                if !(n > 0.0 && n.is_finite()) {
                    break;
                }
                next.iter().zip(&v).map(|(a, b)| (a / n - b).abs()).sum()
            };
            v = next;
            converged = true;
            if change < 1e-12 {
                break;
            }
        }
        if !converged {
            break;
        }
        for u in &found {
            let along = dot(&v, u);
            for (x, y) in v.iter_mut().zip(u) {
                *x -= along * y;
            }
        }
        let n = norm(&v);
        if !(n > 1e-300 && n.is_finite()) {
            break;
        }
        v.iter_mut().for_each(|x| *x /= n);
        found.push(v);
    }
    found
}

/// The structured starts, in a fixed order, at most `limit` of them.
fn structured_starts(model: &Model, sphere: Sphere, limit: usize) -> Vec<Vec<f64>> {
    let d = sphere.dim;
    let first = model.first_layer();
    let [p, q] = model.first_block_errors();
    let mut matrices = vec![first.clone(), model.linear_product(), p];
    if !sphere.nonnegative {
        matrices.push(q);
    }
    let mut starts = Vec::new();
    for matrix in &matrices {
        for v in top_singular_vectors(matrix, d, 2) {
            for sign in [1.0, -1.0] {
                starts.push(v.iter().map(|x| sign * x).collect());
            }
        }
    }
    // Coordinate directions, the inputs W_1 weighs most first.
    let mut columns: Vec<(f64, usize)> = (0..d)
        .map(|k| (first.iter().map(|row| row[k] * row[k]).sum(), k))
        .collect();
    columns.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, k) in columns {
        for sign in [1.0, -1.0] {
            let mut e = vec![0.0; d];
            e[k] = sign;
            starts.push(e);
        }
    }
    starts
        .into_iter()
        .filter_map(|mut v: Vec<f64>| sphere.onto(&mut v).then_some(v))
        .take(limit)
        .collect()
}

/// The gradient's part tangent to the unit sphere at x (|x| = 1), with the components that
/// would leave the orthant at a zero coordinate removed.
fn tangent(gradient: &[f64], x: &[f64], sphere: Sphere) -> Vec<f64> {
    let radial = dot(gradient, x);
    gradient
        .iter()
        .zip(x)
        .map(|(g, x)| {
            let d = g - radial * x;
            if sphere.nonnegative && *x <= 0.0 && d < 0.0 {
                0.0
            } else {
                d
            }
        })
        .collect()
}

/// The point of least norm in the convex hull of `vectors` (Frank-Wolfe on the simplex
/// with exact line search; a handful of vectors, so a few hundred iterations are cheap).
fn least_norm(vectors: &[Vec<f64>]) -> Vec<f64> {
    let m = vectors.len();
    let gram: Vec<Vec<f64>> = vectors
        .iter()
        .map(|a| vectors.iter().map(|b| dot(a, b)).collect())
        .collect();
    let mut weights = vec![0.0; m];
    weights[0] = 1.0;
    for _ in 0..200 {
        let k_weights: Vec<f64> = gram.iter().map(|row| dot(row, &weights)).collect();
        let Some(i) = (0..m).min_by(|&a, &b| k_weights[a].total_cmp(&k_weights[b])) else {
            break;
        };
        // Direction e_i - w: (w + t (e_i - w))^T K (w + t (e_i - w)) is least at t below.
        let w_k_w = dot(&weights, &k_weights);
        let slope = k_weights[i] - w_k_w;
        let curvature = gram[i][i] - 2.0 * k_weights[i] + w_k_w;
        if slope >= 0.0 || curvature <= 0.0 {
            break;
        }
        let t = (-slope / curvature).min(1.0);
        for (k, w) in weights.iter_mut().enumerate() {
            *w = (1.0 - t) * *w + if k == i { t } else { 0.0 };
        }
    }
    let mut point = vec![0.0; vectors.first().map_or(0, Vec::len)];
    for (v, w) in vectors.iter().zip(&weights) {
        for (p, x) in point.iter_mut().zip(v) {
            *p += w * x;
        }
    }
    point
}

/// Gradients kept from failed trial points, at most this many.
const BUNDLE: usize = 8;

/// One climb from `start` (on the sphere), at most `steps` accepted steps.
///
/// At a crease of phi (where a ReLU switches), the gradient of one side may point into the
/// other side, where phi is smaller: every short step fails. The climb then collects the
/// gradients at its failed trial points (each within the current step length of x, made
/// tangent at x) and moves along the least-norm element of their convex hull with x's own
/// gradient, which points along the crease when there is a way up (the idea of gradient
/// sampling, Burke, Lewis and Overton 2005). It stops when that element vanishes or the
/// step length falls below 1e-10.
fn climb(model: &Model, sphere: Sphere, start: Vec<f64>, steps: usize, work: &mut Work) -> Climb {
    let mut x = start;
    let mut value = model.value(&x, work);
    let mut gradient = model.gradient(work).to_vec();
    let mut evaluations = 2;
    let mut step: f64 = 0.5;
    let mut power = true;
    let mut y = vec![0.0; x.len()];
    // (distance from x, gradient) at failed trial points near x
    let mut bundle: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut accepted = 0;
    while accepted < steps && step >= 1e-10 {
        if power {
            y.copy_from_slice(&gradient);
            if sphere.onto(&mut y) && y != x {
                let candidate = model.value(&y, work);
                evaluations += 1;
                if candidate > value {
                    std::mem::swap(&mut x, &mut y);
                    value = candidate;
                    gradient.copy_from_slice(model.gradient(work));
                    evaluations += 1;
                    bundle.clear();
                    accepted += 1;
                    continue;
                }
            }
            // Power steps resume after the next accepted gradient step.
            power = false;
        }
        bundle.retain(|(distance, _)| *distance <= 4.0 * step);
        let mut directions = vec![tangent(&gradient, &x, sphere)];
        directions.extend(bundle.iter().map(|(_, g)| tangent(g, &x, sphere)));
        let direction = if directions.len() == 1 {
            directions.pop().unwrap_or_default()
        } else {
            tangent(&least_norm(&directions), &x, sphere)
        };
        let length = norm(&direction);
        if !(length > 1e-14 * norm(&gradient) && length.is_finite()) {
            break;
        }
        for ((y, x), d) in y.iter_mut().zip(&x).zip(&direction) {
            *y = x + step * d / length;
        }
        if !sphere.onto(&mut y) {
            step /= 4.0;
            continue;
        }
        let candidate = model.value(&y, work);
        evaluations += 1;
        let failed_gradient = model.gradient(work).to_vec();
        evaluations += 1;
        if candidate > value {
            std::mem::swap(&mut x, &mut y);
            value = candidate;
            gradient = failed_gradient;
            step = (2.0 * step).min(1.0);
            bundle.clear();
            power = true;
            accepted += 1;
        } else {
            let distance = y
                .iter()
                .zip(&x)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f64>()
                .sqrt();
            if bundle.len() == BUNDLE {
                bundle.remove(0);
            }
            bundle.push((distance, failed_gradient));
            step /= 4.0;
        }
    }
    Climb {
        point: x,
        value,
        evaluations,
    }
}

/// Random points screened per random start: each random start is one of the best
/// `SCREEN * k` of that many random points (k random starts), so that few climbs begin
/// where f and g~ are both zero (phi and its gradient vanish there).
const SCREEN: u64 = 8;

/// The starts of a search: structured ones (at most half), then the best of screened
/// random points; and the evaluations the screening cost.
pub fn starts(
    model: &Model,
    sphere: Sphere,
    count: usize,
    seed: &Seed,
) -> (Vec<(StartKind, Vec<f64>)>, u64) {
    let structured = structured_starts(model, sphere, count / 2);
    let random = (count - structured.len()) as u64;
    let screened = random * SCREEN;
    let values = sample_values(model, sphere, screened, seed, START_STREAM);
    let mut order: Vec<u64> = (0..screened).collect();
    order.sort_by(|&a, &b| {
        values[b as usize]
            .total_cmp(&values[a as usize])
            .then(a.cmp(&b))
    });
    let mut reader = StreamReader::new(*seed, START_STREAM);
    let chosen = order
        .into_iter()
        .take(random as usize)
        .map(|k| (StartKind::Random, random_point(&mut reader, k, sphere)));
    let starts = structured
        .into_iter()
        .map(|v| (StartKind::Structured, v))
        .chain(chosen)
        .collect();
    (starts, screened)
}

/// phi at the random points `0..count` of `stream`, in parallel over fixed chunks.
fn sample_values(model: &Model, sphere: Sphere, count: u64, seed: &Seed, stream: u64) -> Vec<f64> {
    let chunks: Vec<Vec<f64>> = (0..count.div_ceil(SAMPLE_CHUNK))
        .into_par_iter()
        .map_init(Work::default, |work, chunk| {
            let mut reader = StreamReader::new(*seed, stream);
            (chunk * SAMPLE_CHUNK..((chunk + 1) * SAMPLE_CHUNK).min(count))
                .map(|k| model.value(&random_point(&mut reader, k, sphere), work))
                .collect()
        })
        .collect();
    chunks.concat()
}

/// Climbs from every start (in parallel) and keeps the best climb (the first of equals).
pub fn search(model: &Model, sphere: Sphere, count: usize, steps: usize, seed: &Seed) -> Found {
    let (starts, screened) = starts(model, sphere, count, seed);
    let structured = starts
        .iter()
        .filter(|(kind, _)| *kind == StartKind::Structured)
        .count();
    let climbs: Vec<Climb> = starts
        .into_par_iter()
        .map_init(Work::default, |work, (_, start)| {
            climb(model, sphere, start, steps, work)
        })
        .collect();
    let mut evaluations = screened + climbs.iter().map(|c| c.evaluations).sum::<u64>();
    // The best climbs, best first (the first of equals), each the start of a chain of hops.
    let mut order: Vec<usize> = (0..climbs.len()).collect();
    order.sort_by(|&a, &b| climbs[b].value.total_cmp(&climbs[a].value).then(a.cmp(&b)));
    // Distinct basins: a climb that ended within DISTINCT of a chosen one starts no chain.
    let mut chosen: Vec<usize> = Vec::with_capacity(CHAINS);
    for &k in &order {
        if chosen.len() == CHAINS {
            break;
        }
        let near = |c: &usize| {
            let (a, b) = (&climbs[*c].point, &climbs[k].point);
            a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() < DISTINCT * DISTINCT
        };
        if !chosen.iter().any(near) {
            chosen.push(k);
        }
    }
    let hopped: Vec<Climb> = chosen
        .par_iter()
        .enumerate()
        .map_init(Work::default, |work, (chain, &k)| {
            hop(
                model,
                sphere,
                climbs[k].clone(),
                steps,
                seed,
                chain as u64,
                work,
            )
        })
        .collect();
    evaluations += hopped.iter().map(|c| c.evaluations).sum::<u64>();
    let best = climbs
        .into_iter()
        .chain(hopped)
        .fold(None::<Climb>, |best, climb| match best {
            Some(b) if b.value >= climb.value => Some(b),
            _ => Some(climb),
        })
        .unwrap_or_else(|| Climb {
            point: vec![0.0; sphere.dim],
            value: 0.0,
            evaluations: 0,
        });
    Found {
        best,
        structured,
        starts: count,
        evaluations,
    }
}

/// Chains of hops, from the best climbs that ended at distinct points.
const CHAINS: usize = 16;
/// Two climbs that end closer than this (on the unit sphere) are in one basin.
const DISTINCT: f64 = 0.05;
/// Hops per chain.
const HOPS: u64 = 32;
/// Stream of the hops' perturbations.
const HOP_STREAM: u64 = (1 << 42) + 3;

/// Basin hopping from a climb's point: `HOPS` times, move by a random step of length
/// sigma (shrinking geometrically from 0.5 to 0.01), climb, and keep the result if it is
/// better. The returned climb counts the evaluations of all hops.
fn hop(
    model: &Model,
    sphere: Sphere,
    mut best: Climb,
    steps: usize,
    seed: &Seed,
    chain: u64,
    work: &mut Work,
) -> Climb {
    let mut reader = StreamReader::new(*seed, HOP_STREAM);
    let mut evaluations = 0;
    for h in 0..HOPS {
        let sigma = 0.5 * (0.01f64 / 0.5).powf(h as f64 / (HOPS - 1) as f64);
        let noise = gaussian(
            &mut reader,
            (chain * HOPS + h) * uniforms_per_point(sphere.dim),
            sphere.dim,
        );
        let length = norm(&noise);
        let mut y: Vec<f64> = best
            .point
            .iter()
            .zip(&noise)
            .map(|(x, n)| x + sigma * n / length)
            .collect();
        if !sphere.onto(&mut y) {
            continue;
        }
        let climbed = climb(model, sphere, y, steps, work);
        evaluations += climbed.evaluations;
        if climbed.value > best.value {
            best = climbed;
        }
    }
    best.evaluations = evaluations;
    best
}

/// Plain random sampling: `count` points uniform on the sphere (of the orthant), the best
/// one (the first of equals) and its phi.
pub fn sample(model: &Model, sphere: Sphere, count: u64, seed: &Seed) -> (Vec<f64>, f64) {
    let values = sample_values(model, sphere, count, seed, SAMPLE_STREAM);
    let best = values
        .iter()
        .enumerate()
        .fold(None::<(usize, f64)>, |best, (k, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((k, v)),
        });
    match best {
        Some((k, value)) => {
            let mut reader = StreamReader::new(*seed, SAMPLE_STREAM);
            (random_point(&mut reader, k as u64, sphere), value)
        }
        None => (vec![0.0; sphere.dim], 0.0),
    }
}
