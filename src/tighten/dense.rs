//! The little dense linear algebra the term producer needs, in f64 and row-major: products,
//! a Cholesky factor and triangular solves. Sequential loops only, so the same input gives
//! the same bits on every machine and thread count.

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

/// The lower-triangular L with L L^T = a, or None when a is not (numerically) positive
/// definite. Only the lower triangle of `a` is read.
pub fn cholesky(a: &Mat) -> Option<Mat> {
    let n = a.rows;
    let mut l = Mat::zeros(n, n);
    for j in 0..n {
        let mut d = a.at(j, j);
        {
            let row = l.row(j);
            d -= dot(&row[..j], &row[..j]);
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        l.set(j, j, d);
        for i in j + 1..n {
            let s: f64 = {
                let (ri, rj) = (l.row(i), l.row(j));
                dot(&ri[..j], &rj[..j])
            };
            l.set(i, j, (a.at(i, j) - s) / d);
        }
    }
    Some(l)
}

/// log det a = 2 sum log L_jj for the Cholesky factor L of a.
pub fn log_det(l: &Mat) -> f64 {
    (0..l.rows).map(|j| 2.0 * l.at(j, j).ln()).sum()
}

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
