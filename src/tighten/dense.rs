//! The little dense linear algebra the term producer needs, in f64 and row-major: products,
//! a Cholesky factor and triangular solves. Every entry is computed by the same sequence of
//! operations whatever the thread count (the Cholesky factor splits its rows over threads,
//! never a sum), so the same input gives the same bits.

/// A dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Mat {
    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// value times the n x n identity.
    pub fn diagonal(n: usize, value: f64) -> Mat {
        let mut m = Mat::zeros(n, n);
        for p in 0..n {
            m.set(p, p, value);
        }
        m
    }

    pub fn at(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    pub fn set(&mut self, r: usize, c: usize, value: f64) {
        self.data[r * self.cols + c] = value;
    }

    pub fn add(&mut self, r: usize, c: usize, value: f64) {
        self.data[r * self.cols + c] += value;
    }

    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    pub fn transpose(&self) -> Mat {
        let mut t = Mat::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                t.data[c * self.rows + r] = self.data[r * self.cols + c];
            }
        }
        t
    }

    /// self * other.
    pub fn mul(&self, other: &Mat) -> Mat {
        debug_assert_eq!(self.cols, other.rows);
        let mut out = Mat::zeros(self.rows, other.cols);
        let n = other.cols;
        for r in 0..self.rows {
            let target = &mut out.data[r * n..(r + 1) * n];
            for k in 0..self.cols {
                let a = self.data[r * self.cols + k];
                if a == 0.0 {
                    continue;
                }
                let source = &other.data[k * n..(k + 1) * n];
                for (t, s) in target.iter_mut().zip(source) {
                    *t += a * s;
                }
            }
        }
        out
    }

    /// The Frobenius norm.
    pub fn frobenius(&self) -> f64 {
        self.data.iter().map(|x| x * x).sum::<f64>().sqrt()
    }

    /// The largest singular value, by power iteration on self^T self (deterministic start);
    /// accurate to a few digits, enough for scaling.
    pub fn spectral_norm(&self) -> f64 {
        let gram = self.transpose().mul(self);
        let n = gram.rows;
        if n == 0 {
            return 0.0;
        }
        let mut v: Vec<f64> = (0..n).map(|k| 1.0 + (k % 7) as f64 * 0.1).collect();
        let mut estimate = 0.0;
        for _ in 0..500 {
            let w = gram.apply(&v);
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                return 0.0;
            }
            let next = norm / v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = w.iter().map(|x| x / norm).collect();
            if (next - estimate).abs() <= 1e-12 * next {
                estimate = next;
                break;
            }
            estimate = next;
        }
        estimate.sqrt()
    }

    /// self * v.
    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        (0..self.rows)
            .map(|r| self.row(r).iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }
}

/// The dot product of two equally long slices, with four running sums (which the compiler
/// vectorises; the order of the additions is fixed, so the result is deterministic).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            sums[k] += x[k] * y[k];
        }
    }
    let mut total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for (x, y) in ra.iter().zip(rb) {
        total += x * y;
    }
    total
}

/// [dot(a, b[0]), ..., dot(a, b[3])], each with exactly [`dot`]'s operations (so the same
/// bits), a's entries loaded once for the four.
pub fn dot4(a: &[f64], b: [&[f64]; 4]) -> [f64; 4] {
    let mut sums = [[0.0f64; 4]; 4];
    let whole = a.len() / 4 * 4;
    for k0 in (0..whole).step_by(4) {
        let x: &[f64; 4] = a[k0..k0 + 4].try_into().expect("four");
        for (sum, column) in sums.iter_mut().zip(&b) {
            let y: &[f64; 4] = column[k0..k0 + 4].try_into().expect("four");
            for k in 0..4 {
                sum[k] += x[k] * y[k];
            }
        }
    }
    let mut out = [0.0; 4];
    for ((total, sum), column) in out.iter_mut().zip(&sums).zip(&b) {
        *total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        for (x, y) in a[whole..].iter().zip(&column[whole..]) {
            *total += x * y;
        }
    }
    out
}

/// The lower-triangular L with L L^T = a, or None when a is not (numerically) positive
/// definite. Only the lower triangle of `a` is read.
///
/// Blocked by [`BLOCK`] columns (right-looking): factor the diagonal block, solve the rows
/// below it against it, then subtract the panel's products from the trailing lower
/// triangle. The trailing update is nearly all the work and reads the panel from a small
/// contiguous copy instead of streaming the whole triangle once per column, which made the
/// unblocked version memory-bound on the search's Schur complement systems (side ~1,300). Rows
/// are updated on rayon's threads; each entry's arithmetic is the same sequence whatever
/// the thread count, so the bits are too.
pub fn cholesky(a: &Mat) -> Option<Mat> {
    use rayon::prelude::*;
    let n = a.rows;
    let mut w = a.clone();
    for k0 in (0..n).step_by(BLOCK) {
        let k1 = (k0 + BLOCK).min(n);
        // The diagonal block (earlier blocks' products already subtracted).
        for j in k0..k1 {
            let d = {
                let row = &w.row(j)[k0..j];
                w.at(j, j) - dot(row, row)
            };
            if d <= 0.0 || !d.is_finite() {
                return None;
            }
            let d = d.sqrt();
            w.set(j, j, d);
            for i in j + 1..k1 {
                let s = dot(&w.row(i)[k0..j], &w.row(j)[k0..j]);
                let value = (w.at(i, j) - s) / d;
                w.set(i, j, value);
            }
        }
        if k1 == n {
            break;
        }
        // The panel: rows below the block, columns k0..k1.
        let (top, below) = w.data.split_at_mut(k1 * n);
        let diagonal = &top[k0 * n..];
        let solve_row = |row: &mut [f64]| {
            for j in k0..k1 {
                let pivot = &diagonal[(j - k0) * n..(j - k0 + 1) * n];
                let s = dot(&row[k0..j], &pivot[k0..j]);
                row[j] = (row[j] - s) / pivot[j];
            }
        };
        if below.len() / n > PARALLEL_ROWS {
            below.par_chunks_mut(n).for_each(solve_row);
        } else {
            below.chunks_mut(n).for_each(solve_row);
        }
        let width = k1 - k0;
        let panel: Vec<f64> = below
            .chunks(n)
            .flat_map(|row| row[k0..k1].iter().copied())
            .collect();
        // The trailing lower triangle: entry (i, j), k1 <= j <= i, loses panel_i . panel_j.
        // Four entries of a row at a time share the loads of the row's panel (the same sums,
        // bit for bit, as one dot product each).
        let update = |(r, row): (usize, &mut [f64])| {
            let mine = &panel[r * width..(r + 1) * width];
            let of = |c: usize| &panel[c * width..(c + 1) * width];
            let cells = &mut row[k1..=k1 + r];
            let four = cells.len() / 4 * 4;
            for c in (0..four).step_by(4) {
                let products = dot4(mine, [of(c), of(c + 1), of(c + 2), of(c + 3)]);
                for (cell, product) in cells[c..c + 4].iter_mut().zip(products) {
                    *cell -= product;
                }
            }
            for (c, cell) in cells.iter_mut().enumerate().skip(four) {
                *cell -= dot(mine, of(c));
            }
        };
        if below.len() / n > PARALLEL_ROWS {
            below.par_chunks_mut(n).enumerate().for_each(update);
        } else {
            below.chunks_mut(n).enumerate().for_each(update);
        }
    }
    for r in 0..n {
        for c in r + 1..n {
            w.set(r, c, 0.0);
        }
    }
    Some(w)
}

/// Columns per block of [`cholesky`]: the panel of a 1,200-row system then fits in L2.
const BLOCK: usize = 48;
/// Below this many trailing rows [`cholesky`] stays on the calling thread.
const PARALLEL_ROWS: usize = 128;

/// X = L^{-1} B for lower-triangular L (forward substitution on every column of B).
pub fn forward_solve(l: &Mat, b: &Mat) -> Mat {
    let n = l.rows;
    let m = b.cols;
    let mut x = b.clone();
    for i in 0..n {
        for k in 0..i {
            let f = l.at(i, k);
            if f == 0.0 {
                continue;
            }
            let (done, rest) = x.data.split_at_mut(i * m);
            let source = &done[k * m..(k + 1) * m];
            for (t, s) in rest[..m].iter_mut().zip(source) {
                *t -= f * s;
            }
        }
        let d = l.at(i, i);
        for t in &mut x.data[i * m..(i + 1) * m] {
            *t /= d;
        }
    }
    x
}

/// The smallest eigenvalue of the symmetric `a`, bracketed by bisection on the Cholesky
/// test to a relative width of about 1e-6 of the matrix's scale. None when a is not
/// positive definite at all.
pub fn min_eigenvalue(a: &Mat) -> Option<f64> {
    cholesky(a)?;
    let n = a.rows;
    let scale = (0..n).map(|j| a.at(j, j).abs()).fold(0.0, f64::max);
    let shifted = |s: f64| {
        let mut b = a.clone();
        for j in 0..n {
            b.add(j, j, -s);
        }
        cholesky(&b).is_some()
    };
    // The smallest eigenvalue is at most the smallest diagonal entry.
    let (mut low, mut high) = (
        0.0,
        (0..n).map(|j| a.at(j, j)).fold(f64::INFINITY, f64::min),
    );
    if !shifted(high) {
        for _ in 0..200 {
            let mid = 0.5 * (low + high);
            if shifted(mid) {
                low = mid;
            } else {
                high = mid;
            }
            if high - low <= 1e-6 * high.max(1e-300) || high - low <= 1e-17 * scale {
                break;
            }
        }
    } else {
        low = high;
    }
    Some(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(n: usize, seed: u64) -> Mat {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut b = Mat::zeros(n, n);
        for x in &mut b.data {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *x = ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
        }
        let mut a = b.mul(&b.transpose());
        for j in 0..n {
            a.add(j, j, n as f64 * 0.01 + 0.1);
        }
        a
    }

    /// The textbook column-by-column factor, for comparison.
    fn reference(a: &Mat) -> Option<Mat> {
        let n = a.rows;
        let mut l = Mat::zeros(n, n);
        for j in 0..n {
            let mut d = a.at(j, j);
            for k in 0..j {
                d -= l.at(j, k) * l.at(j, k);
            }
            if d <= 0.0 {
                return None;
            }
            let d = d.sqrt();
            l.set(j, j, d);
            for i in j + 1..n {
                let mut s = a.at(i, j);
                for k in 0..j {
                    s -= l.at(i, k) * l.at(j, k);
                }
                l.set(i, j, s / d);
            }
        }
        Some(l)
    }

    #[test]
    fn blocked_cholesky_matches_the_textbook_factor() {
        // Sizes below, at and across the block and the parallel threshold.
        for (n, seed) in [
            (1, 1),
            (5, 2),
            (47, 3),
            (48, 4),
            (49, 5),
            (130, 6),
            (301, 7),
        ] {
            let a = spd(n, seed);
            let ours = cholesky(&a).unwrap();
            let theirs = reference(&a).unwrap();
            let scale = a.data.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for r in 0..n {
                for c in 0..n {
                    let (x, y) = (ours.at(r, c), theirs.at(r, c));
                    assert!(
                        (x - y).abs() <= 1e-9 * scale.sqrt(),
                        "n {n} ({r}, {c}): {x} vs {y}"
                    );
                    if c > r {
                        assert_eq!(x, 0.0);
                    }
                }
            }
        }
    }

    #[test]
    fn blocked_cholesky_refuses_an_indefinite_matrix() {
        for n in [3, 60, 200] {
            let mut a = spd(n, 9);
            // A negative eigenvalue: subtract more than the largest diagonal along a vector.
            let top = (0..n).map(|j| a.at(j, j)).fold(0.0, f64::max);
            let last = n - 1;
            a.add(last, last, -(top * n as f64 * 10.0));
            assert!(cholesky(&a).is_none(), "n {n}");
            assert!(reference(&a).is_none(), "n {n}");
        }
    }
}
