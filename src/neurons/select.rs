//! Choosing the neurons to keep and the scale c > 0 that minimise the empirical squared
//! loss `(1/n) sum_s (c g~(x_s) - y_s)^2`, in f64 (a certificate then states the exact loss).
//!
//! Every method works on the columns `v_j = a_j ReLU(<w_j, x_s>)` of the training sample.
//! For a kept set S with `h = sum_{j in S} v_j`, the best c > 0 is `<h, y> / <h, h>` when
//! that is positive, with loss `(<y, y> - <h, y>^2 / <h, h>) / n`; otherwise no c > 0 beats
//! c -> 0 and the loss is `<y, y> / n` (an empty S is the same).
//!
//! - [`random_features`]: the random-features model, `sum_j u_j ReLU(<w_j, x>)` with free u,
//!   fitted by ridge regression (conjugate gradients). Not a subnetwork: the model the
//!   reduction starts from.
//! - [`reduction`]: the paper's reduction. With u fitted, a neuron can carry u_j only if its
//!   random output weight has u_j's sign; it is kept with probability `min(1, u_j / (t a_j))`,
//!   so that `t a_j P(kept) = u_j` (the paper's sampling argument). The coin of neuron j is
//!   the uniform-dyadic-53 draw of stream 2 at index j, so the selection is reproducible;
//!   t runs over 48 quantiles of the ratios `u_j / a_j` and the kept set with the least
//!   training loss (with its best c) wins.
//! - [`greedy`]: stepwise selection: from the empty set, add or remove the one neuron that
//!   lowers the training loss the most, until no step does; run with c free and with c
//!   fixed at a few smaller values, each result polished with c free.

use rayon::prelude::*;

/// A neuron subnetwork and its scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// kept neurons, ascending
    pub kept: Vec<usize>,
    /// c > 0
    pub scale: f64,
    /// training loss of c g~ (f64)
    pub train_loss: f64,
}

/// The training data of a selection: the columns and targets.
pub struct Columns<'a> {
    /// rows
    pub n: usize,
    /// `ReLU(<w_j, x_s>)` column-major (k columns of n)
    pub phi: &'a [f64],
    /// a_j
    pub a: &'a [f64],
    pub y: &'a [f64],
    /// `<phi_i, phi_j>` row-major (k x k), when computed ([`feature_gram`]); the selections
    /// then cost O(k) per step instead of O(n k).
    pub gram: Option<&'a [f64]>,
}

impl Columns<'_> {
    pub fn width(&self) -> usize {
        self.phi.len().checked_div(self.n).unwrap_or(0)
    }

    fn column(&self, j: usize) -> &[f64] {
        &self.phi[j * self.n..(j + 1) * self.n]
    }

    /// `h = sum_{j in kept} a_j phi_j`
    fn combination(&self, kept: &[usize]) -> Vec<f64> {
        let mut h = vec![0.0; self.n];
        for &j in kept {
            let a = self.a[j];
            for (h, p) in h.iter_mut().zip(self.column(j)) {
                *h += a * p;
            }
        }
        h
    }

    fn yy(&self) -> f64 {
        dot(self.y, self.y)
    }

    /// The best c > 0 for `kept`, and the training loss.
    pub fn scaled(&self, kept: Vec<usize>) -> Selection {
        let h = self.combination(&kept);
        let (scale, loss) = best_scale(dot(&h, self.y), dot(&h, &h), self.yy(), self.n);
        if scale > 0.0 {
            Selection {
                kept,
                scale,
                train_loss: loss,
            }
        } else {
            empty(self)
        }
    }
}

fn empty(columns: &Columns) -> Selection {
    Selection {
        kept: Vec::new(),
        scale: 1.0,
        train_loss: columns.yy() / columns.n.max(1) as f64,
    }
}

/// The dot product, with eight partial sums so that the compiler can vectorise it.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Widths up to which [`crate::neurons::fit`] precomputes the Gram matrix of the features
/// (k^2 doubles: 128 MiB at this width).
pub const GRAM_WIDTH: usize = 4096;

/// The Gram matrix `<phi_i, phi_j>` of feature columns (`phi` column-major with `n` rows),
/// row-major.
pub fn feature_gram(phi: &[f64], n: usize) -> Vec<f64> {
    let k = phi.len().checked_div(n).unwrap_or(0);
    let column = |j: usize| &phi[j * n..(j + 1) * n];
    let mut g = vec![0.0; k * k];
    // Blocks of 128 samples, so that the k column pieces a block reads (1 KiB each) stay
    // in cache while every pair is multiplied.
    let rows = 128;
    for start in (0..n).step_by(rows) {
        let end = (start + rows).min(n);
        g.par_chunks_mut(k.max(1)).enumerate().for_each(|(i, row)| {
            let ci = &column(i)[start..end];
            for (j, out) in row.iter_mut().enumerate().take(i + 1) {
                *out += dot(ci, &column(j)[start..end]);
            }
        });
    }
    // The upper triangle from the lower one.
    for i in 0..k {
        for j in 0..i {
            g[j * k + i] = g[i * k + j];
        }
    }
    g
}

/// `(c, loss)` for `<h, y>`, `<h, h>`, `<y, y>`; c = 0 when no c > 0 helps.
fn best_scale(hy: f64, hh: f64, yy: f64, n: usize) -> (f64, f64) {
    let n = n.max(1) as f64;
    if hy > 0.0 && hh > 0.0 {
        (hy / hh, ((yy - hy * hy / hh) / n).max(0.0))
    } else {
        (0.0, yy / n)
    }
}

/// The random-features model's weights u, by ridge regression:
/// `(Phi^T Phi + lambda I) u = Phi^T y` with `lambda = ridge * trace(Phi^T Phi) / k`,
/// solved by conjugate gradients (at most 400 steps, relative residual 1e-10).
pub fn random_features(columns: &Columns, ridge: f64) -> Vec<f64> {
    let k = columns.width();
    let n = columns.n;
    if k == 0 {
        return Vec::new();
    }
    let trace: f64 = columns.phi.iter().map(|p| p * p).sum();
    let lambda = ridge * trace / k as f64;
    let apply = |u: &[f64]| -> Vec<f64> {
        if let Some(gram) = columns.gram {
            return gram
                .par_chunks(k)
                .zip(u)
                .map(|(row, uj)| dot(row, u) + lambda * uj)
                .collect();
        }
        // Phi u by row blocks, then Phi^T (Phi u) by columns.
        let mut z = vec![0.0; n];
        z.par_chunks_mut(256).enumerate().for_each(|(b, out)| {
            let start = b * 256;
            for (j, &uj) in u.iter().enumerate() {
                let col = &columns.phi[j * n + start..j * n + start + out.len()];
                for (o, p) in out.iter_mut().zip(col) {
                    *o += uj * p;
                }
            }
        });
        (0..k)
            .into_par_iter()
            .map(|j| dot(columns.column(j), &z) + lambda * u[j])
            .collect()
    };
    let b: Vec<f64> = (0..k)
        .into_par_iter()
        .map(|j| dot(columns.column(j), columns.y))
        .collect();
    let mut u = vec![0.0; k];
    let mut r = b.clone();
    let mut p = r.clone();
    let mut rr = dot(&r, &r);
    let target = dot(&b, &b) * 1e-20;
    for _ in 0..400 {
        if rr <= target {
            break;
        }
        let ap = apply(&p);
        let alpha = rr / dot(&p, &ap);
        for j in 0..k {
            u[j] += alpha * p[j];
            r[j] -= alpha * ap[j];
        }
        let next = dot(&r, &r);
        let beta = next / rr;
        rr = next;
        for j in 0..k {
            p[j] = r[j] + beta * p[j];
        }
    }
    u
}

/// The random-features model's training loss `(1/n) ||Phi u - y||^2`.
pub fn random_features_loss(columns: &Columns, u: &[f64]) -> f64 {
    let mut z = vec![0.0; columns.n];
    for (j, &uj) in u.iter().enumerate() {
        for (o, p) in z.iter_mut().zip(columns.column(j)) {
            *o += uj * p;
        }
    }
    z.iter()
        .zip(columns.y)
        .map(|(z, y)| (z - y) * (z - y))
        .sum::<f64>()
        / columns.n.max(1) as f64
}

/// The paper's reduction from random-features weights u (see the module documentation);
/// `coins[j]` in (0, 1) decides neuron j.
pub fn reduction(columns: &Columns, u: &[f64], coins: &[f64]) -> Selection {
    let matching: Vec<(usize, f64)> = u
        .iter()
        .zip(columns.a)
        .enumerate()
        .filter(|(_, (u, a))| **u * **a > 0.0)
        .map(|(j, (u, a))| (j, u / a))
        .collect();
    if matching.is_empty() {
        return empty(columns);
    }
    let mut ratios: Vec<f64> = matching.iter().map(|&(_, r)| r).collect();
    ratios.sort_by(f64::total_cmp);
    let steps = 48;
    let mut best = empty(columns);
    let mut tried = Vec::new();
    for q in 0..steps {
        // Quantiles from the smallest ratio (every matching neuron kept with certainty
        // beyond it) down... to the largest (each kept with probability ratio / max).
        let position = (q * (ratios.len() - 1)) / (steps - 1);
        let t = ratios[position];
        if tried.last() == Some(&t) {
            continue;
        }
        tried.push(t);
        let kept: Vec<usize> = matching
            .iter()
            .filter(|&&(j, r)| coins[j] < (r / t).min(1.0))
            .map(|&(j, _)| j)
            .collect();
        let candidate = columns.scaled(kept);
        if candidate.train_loss < best.train_loss {
            best = candidate;
        }
    }
    best
}

/// Stepwise selection (see the module documentation): from the empty set with c free, and
/// from the empty set with c fixed at the free run's c divided by 3, 9, 27 and 81 (a small c
/// lets many neurons each add a little, where a free c locks onto the first neuron's
/// scale), each then polished with c free; the least training loss wins.
pub fn greedy(columns: &Columns) -> Selection {
    let gram = columns.gram;
    let mut best = stepwise(columns, gram, None, &[]);
    if best.kept.is_empty() {
        return best;
    }
    let free_scale = best.scale;
    for m in 1..=4 {
        let fixed = free_scale / 3f64.powi(m);
        let start = stepwise(columns, gram, Some(fixed), &[]);
        let polished = stepwise(columns, gram, None, &start.kept);
        if polished.train_loss < best.train_loss {
            best = polished;
        }
    }
    best
}

/// Add or remove the one neuron that lowers the training loss the most (with c fixed, or
/// the best c for each candidate set), from `start`, until no change does; at most 4 k
/// steps. The result carries its best c. `gram`, when given, is [`feature_gram`]'s matrix.
fn stepwise(
    columns: &Columns,
    gram: Option<&[f64]>,
    fixed: Option<f64>,
    start: &[usize],
) -> Selection {
    let k = columns.width();
    let n = columns.n;
    let vy: Vec<f64> = (0..k)
        .into_par_iter()
        .map(|j| columns.a[j] * dot(columns.column(j), columns.y))
        .collect();
    let vv: Vec<f64> = (0..k)
        .into_par_iter()
        .map(|j| columns.a[j] * columns.a[j] * dot(columns.column(j), columns.column(j)))
        .collect();
    let yy = columns.yy();
    let loss_of = |hy: f64, hh: f64| match fixed {
        Some(c) => ((yy - 2.0 * c * hy + c * c * hh) / n.max(1) as f64).max(0.0),
        None => best_scale(hy, hh, yy, n).1,
    };
    let mut kept = vec![false; k];
    for &j in start {
        kept[j] = true;
    }
    let h = columns.combination(start);
    let (mut hy, mut hh) = (dot(&h, columns.y), dot(&h, &h));
    // gh[i] = <h, v_i>
    let mut gh: Vec<f64> = (0..k)
        .into_par_iter()
        .map(|i| columns.a[i] * dot(columns.column(i), &h))
        .collect();
    let mut loss = loss_of(hy, hh);
    for _ in 0..4 * k {
        // The best single change: add j (not kept) or remove j (kept).
        // Sequential: O(k) per step is far below rayon's cost of waking its threads.
        let (j, new_loss) = (0..k)
            .map(|j| {
                let (nhy, nhh) = if kept[j] {
                    (hy - vy[j], hh - 2.0 * gh[j] + vv[j])
                } else {
                    (hy + vy[j], hh + 2.0 * gh[j] + vv[j])
                };
                (j, loss_of(nhy, nhh))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, f64::INFINITY));
        // NaN never improves.
        if new_loss.partial_cmp(&(loss * (1.0 - 1e-12))) != Some(std::cmp::Ordering::Less) {
            break;
        }
        let sign = if kept[j] { -1.0 } else { 1.0 };
        if kept[j] {
            hy -= vy[j];
            hh += -2.0 * gh[j] + vv[j];
        } else {
            hy += vy[j];
            hh += 2.0 * gh[j] + vv[j];
        }
        kept[j] = !kept[j];
        match gram {
            Some(gram) => {
                let aj = sign * columns.a[j];
                for ((g, p), a) in gh.iter_mut().zip(&gram[j * k..(j + 1) * k]).zip(columns.a) {
                    *g += aj * a * p;
                }
            }
            None => {
                let vj: Vec<f64> = columns.column(j).iter().map(|p| columns.a[j] * p).collect();
                gh.par_iter_mut().enumerate().for_each(|(i, g)| {
                    *g += sign * columns.a[i] * dot(columns.column(i), &vj);
                });
            }
        }
        loss = new_loss;
    }
    let kept: Vec<usize> = (0..k).filter(|&j| kept[j]).collect();
    // Recomputed from scratch (the running sums drift a little), with the best c.
    columns.scaled(kept)
}

/// The loss of `c g~` on another sample, from its feature columns (same layout).
pub fn loss_on(selection: &Selection, phi: &[f64], a: &[f64], y: &[f64]) -> f64 {
    let n = y.len();
    let mut h = vec![0.0; n];
    for &j in &selection.kept {
        for (h, p) in h.iter_mut().zip(&phi[j * n..(j + 1) * n]) {
            *h += a[j] * p;
        }
    }
    h.iter()
        .zip(y)
        .map(|(h, y)| (selection.scale * h - y).powi(2))
        .sum::<f64>()
        / n.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three columns; y = 2 (v_0 + v_2) exactly, so the best subnetwork keeps 0 and 2 with
    /// c = 2 and loss 0.
    #[test]
    fn greedy_finds_an_exact_subnetwork() {
        let phi = [1.0, 0.0, 2.0, 0.0, 1.0, 1.0, 3.0, 1.0, 0.0];
        let a = [0.5, -0.25, 0.25];
        let y: Vec<f64> = (0..3)
            .map(|s| 2.0 * (0.5 * phi[s] + 0.25 * phi[6 + s]))
            .collect();
        let gram = feature_gram(&phi, 3);
        let columns = Columns {
            n: 3,
            phi: &phi,
            a: &a,
            y: &y,
            gram: Some(&gram),
        };
        let without = Columns {
            gram: None,
            ..columns
        };
        assert_eq!(greedy(&without).kept, vec![0, 2]);
        let g = greedy(&columns);
        assert_eq!(g.kept, vec![0, 2]);
        assert!((g.scale - 2.0).abs() < 1e-12);
        assert!(g.train_loss < 1e-20);
        assert!(loss_on(&g, &phi, &a, &y) < 1e-20);
        // Random features reproduce y too, and the reduction keeps matching signs only.
        let u = random_features(&columns, 1e-12);
        assert!(random_features_loss(&columns, &u) < 1e-12);
        let r = reduction(&columns, &u, &[0.5, 0.5, 0.5]);
        assert!(r.kept.iter().all(|&j| u[j] * a[j] > 0.0));
        assert!(r.train_loss <= columns.yy() / 3.0);
    }

    #[test]
    fn a_target_no_positive_scale_helps_keeps_nothing() {
        let phi = [1.0, 1.0];
        let a = [0.5];
        let y = [-1.0, -1.0];
        let columns = Columns {
            n: 2,
            phi: &phi,
            a: &a,
            y: &y,
            gram: None,
        };
        let g = greedy(&columns);
        assert!(g.kept.is_empty());
        assert_eq!(g.train_loss, 1.0);
    }
}
