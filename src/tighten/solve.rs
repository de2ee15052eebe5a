//! The numerical search for one telescoping term (docs/FORMAT.md section 12.3): minimise
//! lambda^2 subject to Q(lambda^2, t, N) - margin I being positive definite, N >= 0
//! entrywise and t_k >= 0 for the layers k >= i, by a log-barrier interior method:
//!
//! ```text
//! minimise  tau lambda^2 - log det (Q - margin I) - sum log N_ab - sum_{k >= i} log t_{k,j}
//! ```
//!
//! for increasing tau, each by Newton's method whose system is solved by preconditioned
//! conjugate gradients, matrix-free.
//!
//! Every piece of Q is a product of two "extended quantities" g_p, g_q (rows of G): u_a,
//! and for every hidden layer k the n_k values h_{k,j} and the n_k values h_{k,j} - z_{k,j}.
//! The first S of them are the quantities of term i. So Q = C + G^T Y G with Y symmetric and
//! linear in the variables: lambda^2 on (u_a, u_a), t_{k,j} on (h_{k,j}, h_{k,j} - z_{k,j})
//! and its mirror, -N_ab on (a, b) and (b, a). With M = G Q^{-1} G^T, the gradient of
//! log det Q is read off M and its Hessian applied to a direction dY is M dY M, so one
//! Newton step costs a few S' x S' products per conjugate-gradient iteration.
//!
//! Nothing here is trusted: the result only feeds the witness, which the checker decides.

use super::dense::{Mat, cholesky, dot, forward_solve, ln, log_det};

/// What the search found: lambda^2, the multipliers t_{k,j} (row k-1 for layer k) and the
/// product matrix's entries N_ab for a <= b (a pair's product value is 2 N_ab off the
/// diagonal, N_aa on it).
#[derive(Debug, Clone)]
pub struct Solution {
    pub lambda2: f64,
    pub multipliers: Vec<Vec<f64>>,
    pub products: Vec<(usize, usize, f64)>,
}

/// One relation of a form (docs/FORMAT.md sections 12.3 and 12.10.1): it defines the next
/// block of w, h (of `matrix`'s rows), from block `source` through z = matrix * source.
#[derive(Debug, Clone)]
pub struct Relation {
    pub source: usize,
    pub matrix: Mat,
    /// Whether its multipliers must be >= 0 (a tail) or may have any sign (the head).
    pub nonnegative: bool,
}

/// A quadratic form's shape: u's size, the relations (relation r defines block r + 1 of
/// w), the output's pieces (block, matrix), and how many leading relations give the
/// quantities the products may multiply (u, then each one's h and h - z).
#[derive(Debug, Clone)]
pub struct Shape {
    pub input: usize,
    pub relations: Vec<Relation>,
    pub output: Vec<(usize, Mat)>,
    pub quantity_relations: usize,
}

impl Shape {
    /// Term i's shape for the chain A_1 .. A_l (section 12.3).
    pub fn term(chain: &[Mat], i: usize) -> Shape {
        let l = chain.len();
        Shape {
            input: chain[0].cols,
            relations: (1..l)
                .map(|k| Relation {
                    source: k - 1,
                    matrix: chain[k - 1].clone(),
                    nonnegative: k >= i,
                })
                .collect(),
            output: vec![(l - 1, chain[l - 1].clone())],
            quantity_relations: i - 1,
        }
    }

    /// The size of block s of w.
    pub fn size(&self, s: usize) -> usize {
        if s == 0 {
            self.input
        } else {
            self.relations[s - 1].matrix.rows
        }
    }
}

/// Sizes and the fixed parts of one form's problem.
struct Problem {
    /// u's entries m_0, and every relation's size.
    m0: usize,
    hidden: Vec<usize>,
    /// Side of Q.
    side: usize,
    /// Extended quantities (rows of G).
    rows: usize,
    /// G^T (side x rows) and G (rows x side).
    g: Mat,
    gt: Mat,
    /// The constant part of Q: -Z^T Z over the output's blocks, and -margin I.
    constant: Mat,
    /// Every multiplier: (row of h_j, row of h_j - z_j, whether t >= 0 is required).
    tees: Vec<(usize, usize, bool)>,
    /// The product pairs that are variables (a <= b < S).
    pairs: Vec<(usize, usize)>,
    /// Q - margin I must stay positive definite.
    margin: f64,
}

impl Problem {
    fn new(shape: &Shape, margin: f64) -> Problem {
        let m0 = shape.input;
        let hidden: Vec<usize> = shape.relations.iter().map(|r| r.matrix.rows).collect();
        let side = m0 + hidden.iter().sum::<usize>();
        let rows = m0 + 2 * hidden.iter().sum::<usize>();
        // Offsets of the blocks in w, and of each relation's rows in G.
        let mut offset = vec![0usize; hidden.len() + 1];
        for s in 1..offset.len() {
            offset[s] = offset[s - 1] + shape.size(s - 1);
        }
        let mut g = Mat::zeros(rows, side);
        for a in 0..m0 {
            g.set(a, a, 1.0);
        }
        let mut tees = Vec::new();
        let mut row = m0;
        for (r, relation) in shape.relations.iter().enumerate() {
            let (a, n) = (&relation.matrix, hidden[r]);
            for j in 0..n {
                let (h, hz) = (row + j, row + n + j);
                g.set(h, offset[r + 1] + j, 1.0);
                g.set(hz, offset[r + 1] + j, 1.0);
                for c in 0..a.cols {
                    g.add(hz, offset[relation.source] + c, -a.at(j, c));
                }
                tees.push((h, hz, relation.nonnegative));
            }
            row += 2 * n;
        }
        let mut constant = Mat::zeros(side, side);
        for (s, a) in &shape.output {
            for (s2, b) in &shape.output {
                let gram = a.transpose().mul(b);
                for c in 0..a.cols {
                    for d in 0..b.cols {
                        constant.add(offset[*s] + c, offset[*s2] + d, -gram.at(c, d));
                    }
                }
            }
        }
        // The quantities: u, then h and h - z of the first relations.
        let quantities = m0 + 2 * hidden[..shape.quantity_relations].iter().sum::<usize>();
        let mut pairs = Vec::new();
        for a in 0..quantities {
            for b in a..quantities {
                // N_aa on u_a only lowers Q (lambda^2 covers it), and N on
                // (h_j, h_j - z_j) of a head relation is what its free t_j does.
                let useless =
                    (a == b && a < m0) || tees.iter().any(|&(h, hz, _)| (h, hz) == (a, b));
                if !useless {
                    pairs.push((a, b));
                }
            }
        }
        let gt = g.transpose();
        Problem {
            m0,
            hidden,
            side,
            rows,
            g,
            gt,
            constant,
            tees,
            pairs,
            margin,
        }
    }

    /// The number of log barriers: log det Q's side and every positive variable.
    fn barriers(&self) -> usize {
        self.side + (0..self.count()).filter(|&v| self.positive(v)).count()
    }

    fn count(&self) -> usize {
        1 + self.tees.len() + self.pairs.len()
    }

    /// Whether variable v carries a log barrier.
    fn positive(&self, v: usize) -> bool {
        match v {
            0 => false,
            _ if v <= self.tees.len() => self.tees[v - 1].2,
            _ => true,
        }
    }

    /// Y for the variables x (the linear part only).
    fn y_of(&self, x: &[f64]) -> Mat {
        let mut y = Mat::zeros(self.rows, self.rows);
        for a in 0..self.m0 {
            y.add(a, a, x[0]);
        }
        for (n, &(h, hz, _)) in self.tees.iter().enumerate() {
            let t = x[1 + n];
            y.add(h, hz, t);
            y.add(hz, h, t);
        }
        let base = 1 + self.tees.len();
        for (n, &(a, b)) in self.pairs.iter().enumerate() {
            let v = x[base + n];
            y.add(a, b, -v);
            if a != b {
                y.add(b, a, -v);
            }
        }
        y
    }

    /// The adjoint of `y_of`: <Z, y_of(e_v)> for every variable v.
    fn adjoint(&self, z: &Mat) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.count());
        out.push((0..self.m0).map(|a| z.at(a, a)).sum());
        for &(h, hz, _) in &self.tees {
            out.push(z.at(h, hz) + z.at(hz, h));
        }
        for &(a, b) in &self.pairs {
            out.push(if a == b {
                -z.at(a, a)
            } else {
                -z.at(a, b) - z.at(b, a)
            });
        }
        out
    }

    fn q_of(&self, x: &[f64]) -> Mat {
        let y = self.y_of(x);
        let mut q = self.gt.mul(&y.mul(&self.g));
        for (t, c) in q.data.iter_mut().zip(&self.constant.data) {
            *t += c;
        }
        for p in 0..self.side {
            q.add(p, p, -self.margin);
        }
        q
    }

    /// The changes of Y along variable v: (p, q, factor) entries.
    fn entries(&self, v: usize) -> Vec<(usize, usize, f64)> {
        if v == 0 {
            return (0..self.m0).map(|a| (a, a, 1.0)).collect();
        }
        if v <= self.tees.len() {
            let (h, hz, _) = self.tees[v - 1];
            return vec![(h, hz, 1.0), (hz, h, 1.0)];
        }
        let (a, b) = self.pairs[v - 1 - self.tees.len()];
        if a == b {
            vec![(a, a, -1.0)]
        } else {
            vec![(a, b, -1.0), (b, a, -1.0)]
        }
    }

    /// The Hessian of -log det Q at M: H_vw = tr(M dY_v M dY_w), dense.
    fn hessian(&self, m: &Mat) -> Mat {
        let count = self.count();
        let mut h = Mat::zeros(count, count);
        let entries: Vec<Vec<(usize, usize, f64)>> = (1..count).map(|v| self.entries(v)).collect();
        // Row 0 (lambda^2): sum over u of M_sa M_ar = P_sr.
        let mut p = Mat::zeros(self.rows, self.rows);
        for s in 0..self.rows {
            for r in 0..self.rows {
                let mut sum = 0.0;
                for a in 0..self.m0 {
                    sum += m.at(s, a) * m.at(a, r);
                }
                p.set(s, r, sum);
            }
        }
        let mut h00 = 0.0;
        for a in 0..self.m0 {
            for b in 0..self.m0 {
                h00 += m.at(a, b) * m.at(b, a);
            }
        }
        h.set(0, 0, h00);
        for (w, list) in entries.iter().enumerate() {
            let value: f64 = list.iter().map(|&(r, s, beta)| beta * p.at(s, r)).sum();
            h.set(0, w + 1, value);
            h.set(w + 1, 0, value);
        }
        for (v, first) in entries.iter().enumerate() {
            for (w, second) in entries.iter().enumerate().skip(v) {
                let mut value = 0.0;
                for &(p, q, alpha) in first {
                    for &(r, s, beta) in second {
                        value += alpha * beta * m.at(q, r) * m.at(s, p);
                    }
                }
                h.set(v + 1, w + 1, value);
                h.set(w + 1, v + 1, value);
            }
        }
        h
    }

    /// tau lambda^2 - log det Q - barriers, or None outside the domain.
    fn value(&self, x: &[f64], tau: f64) -> Option<f64> {
        let mut barrier = 0.0;
        for (v, &value) in x.iter().enumerate() {
            if self.positive(v) {
                if value <= 0.0 {
                    return None;
                }
                barrier -= ln(value);
            }
        }
        let l = cholesky(&self.q_of(x))?;
        let products: f64 = x[1 + self.tees.len()..].iter().sum();
        Some(tau * (x[0] + PENALTY * products) - log_det(&l) + barrier)
    }

    /// M = G Q^{-1} G^T at x.
    fn m_of(&self, x: &[f64]) -> Option<Mat> {
        let l = cholesky(&self.q_of(x))?;
        let solved = forward_solve(&l, &self.gt);
        Some(solved.transpose().mul(&solved))
    }
}

/// The search for the form `shape` (a term's or the joint one), with Q - margin I kept
/// positive definite, stopped when the barrier's duality gap is below `gap` times
/// lambda^2. `name` labels the trace. None when no strictly feasible start was found or
/// Newton's method broke down.
pub fn solve(shape: &Shape, name: &str, margin: f64, gap: f64) -> Option<Solution> {
    let mut problem = Problem::new(shape, 0.0);
    // Column generation: every candidate pair when they are few, otherwise none at first and
    // then, round by round, the pairs whose dual constraint (M_ab >= 0 at the centre) is
    // most violated. Any working set gives a valid (if looser) term.
    let candidates = std::mem::take(&mut problem.pairs);
    if candidates.len() <= ALL_PAIRS {
        problem.pairs = candidates.clone();
    }
    let mut x = start(&mut problem, shape, margin)?;
    let trace = std::env::var_os("SLTH_TIGHTEN_TRACE").is_some();
    let mut tau = problem.barriers() as f64 / x[0];
    for round in 0..=ROUNDS {
        loop {
            // The margin follows lambda^2 down the path: lowering it keeps x feasible, and
            // raising it (after a start below it) only where x stays feasible.
            let target = margin * x[0];
            if target < problem.margin {
                problem.margin = target;
            } else if target > problem.margin {
                let before = std::mem::replace(&mut problem.margin, target);
                if problem.value(&x, tau).is_none() {
                    problem.margin = before;
                }
            }
            let steps = centre(&problem, &mut x, tau)?;
            if trace {
                eprintln!(
                    "{name} round {round} pairs {}: tau {tau:e} lambda2 {:e} steps {steps}",
                    problem.pairs.len(),
                    x[0]
                );
            }
            if problem.barriers() as f64 / tau <= gap * x[0] {
                break;
            }
            tau *= 8.0;
        }
        if round == ROUNDS || problem.pairs.len() >= MAX_PAIRS {
            break;
        }
        // The most violated dual constraints among the pairs not yet in the working set.
        let m = problem.m_of(&x)?;
        let present: std::collections::BTreeSet<(usize, usize)> =
            problem.pairs.iter().copied().collect();
        let mut violated: Vec<(f64, (usize, usize))> = candidates
            .iter()
            .filter(|pair| !present.contains(pair))
            .filter_map(|&(a, b)| {
                let scale = (m.at(a, a) * m.at(b, b)).sqrt();
                let value = m.at(a, b) / scale;
                (scale > 0.0 && value < -1e-4).then_some((value, (a, b)))
            })
            .collect();
        if violated.is_empty() {
            break;
        }
        violated.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
        violated.truncate(BATCH.min(MAX_PAIRS - problem.pairs.len()));
        violated.sort_by_key(|v| v.1);
        let added: Vec<(usize, usize)> = violated.iter().map(|v| v.1).collect();
        // Each new product starts near its natural scale, where its barrier's pull 1/N
        // matches log det's 2 |M_ab| (a tiny start would cost Newton many damped steps),
        // shrunk until Q stays positive definite.
        let natural: Vec<f64> = added
            .iter()
            .map(|&(a, b)| 0.25 / (2.0 * m.at(a, b).abs()))
            .collect();
        let base = x.clone();
        let mut grown = problem.pairs.clone();
        grown.extend_from_slice(&added);
        let before = std::mem::replace(&mut problem.pairs, grown);
        let mut factor = 1.0;
        loop {
            let mut trial = base.clone();
            trial.extend(natural.iter().map(|v| v * factor));
            if problem.value(&trial, tau).is_some() {
                x = trial;
                break;
            }
            factor /= 4.0;
            if factor < 1e-30 {
                problem.pairs = before;
                return None;
            }
        }
        tau /= 64.0;
    }
    let mut multipliers = Vec::new();
    let mut next = 1;
    for &n in &problem.hidden {
        multipliers.push(x[next..next + n].to_vec());
        next += n;
    }
    let products = problem
        .pairs
        .iter()
        .zip(&x[next..])
        .map(|(&(a, b), &v)| (a, b, v))
        .collect();
    Some(Solution {
        lambda2: x[0],
        multipliers,
        products,
    })
}

/// A small price on the products in the objective: products of linearly dependent
/// quantities can cancel in Q, and without a price the barrier would drive them to
/// infinity along such a direction.
const PENALTY: f64 = 1e-6;

/// Newton steps per centring at most: after a round adds products the centre can be far,
/// and a partly centred point is still strictly feasible (only accuracy is at stake).
const STEPS: usize = 30;

/// Below this many candidate pairs, all of them are variables from the start.
const ALL_PAIRS: usize = 200;
/// Pairs added per round of column generation, the rounds, and the most pairs in all.
const BATCH: usize = 250;
const ROUNDS: usize = 6;
const MAX_PAIRS: usize = 1200;

/// A strictly feasible point: multipliers growing backwards along the relations so that
/// each relation's diagonal 2 t dominates its couplings (-t A to its source block, the
/// relations reading its block, and -Z^T Z on the output's blocks), lambda^2 above u's
/// couplings, and small products; doubled until Q - margin I is positive definite.
fn start(problem: &mut Problem, shape: &Shape, margin: f64) -> Option<Vec<f64>> {
    let blocks = shape.relations.len() + 1;
    let pieces = shape.output.len() as f64;
    // What block s must dominate: its readers' 2 t ||A||^2 and the output's pieces on it.
    let mut load = vec![0.0; blocks];
    for (s, a) in &shape.output {
        load[*s] += pieces * a.frobenius().powi(2);
    }
    let mut t = vec![0.0; blocks];
    for r in (0..shape.relations.len()).rev() {
        t[r + 1] = load[r + 1] + margin + 1.0;
        let relation = &shape.relations[r];
        load[relation.source] += 2.0 * t[r + 1] * relation.matrix.frobenius().powi(2);
    }
    let mut lambda2 = load[0] + margin + 1.0;
    for _ in 0..60 {
        let mut x = vec![lambda2];
        for (r, &n) in problem.hidden.iter().enumerate() {
            x.extend(std::iter::repeat_n(t[r + 1], n));
        }
        let scale = t[1..].iter().copied().fold(lambda2, f64::min);
        // The margin relative to lambda^2, or, where some block's multiplier is far below
        // lambda^2 (a head block read only by the output, next to a long chain), relative
        // to the smallest multiplier: doubling everything keeps the ratio, so the first
        // would never become feasible. `solve` raises it later where it can.
        for relative in [lambda2, scale] {
            problem.margin = margin * relative;
            let mut eps = scale / (4.0 * (problem.rows as f64).powi(2));
            x.resize(problem.count(), eps);
            for _ in 0..40 {
                if cholesky(&problem.q_of(&x)).is_some() {
                    return Some(x);
                }
                eps /= 4.0;
                let base = 1 + problem.tees.len();
                for v in &mut x[base..] {
                    *v = eps;
                }
            }
        }
        lambda2 *= 2.0;
        for v in &mut t {
            *v *= 2.0;
        }
    }
    None
}

/// Newton's method on the barrier function at tau, from the strictly feasible x.
fn centre(problem: &Problem, x: &mut Vec<f64>, tau: f64) -> Option<usize> {
    let count = problem.count();
    for newton in 0..STEPS {
        let m = problem.m_of(x)?;
        let mut gradient = problem.adjoint(&m);
        for g in &mut gradient {
            *g = -*g;
        }
        gradient[0] += tau;
        for g in &mut gradient[1 + problem.tees.len()..] {
            *g += tau * PENALTY;
        }
        let mut full = problem.hessian(&m);
        for v in 0..count {
            if problem.positive(v) {
                gradient[v] -= 1.0 / x[v];
                full.add(v, v, 1.0 / (x[v] * x[v]));
            }
        }
        let rhs: Vec<f64> = gradient.iter().map(|g| -g).collect();
        let step = dense_solve(&full, &rhs)?;
        let decrement = -dot(&gradient, &step);
        if !decrement.is_finite() {
            return None;
        }
        if decrement < 1e-6 {
            return Some(newton);
        }
        // The longest step that keeps the barrier variables positive.
        let mut s: f64 = 1.0;
        for v in 0..count {
            if problem.positive(v) && step[v] < 0.0 {
                s = s.min(-0.99 * x[v] / step[v]);
            }
        }
        let now = problem.value(x, tau)?;
        let mut accepted = false;
        for _ in 0..60 {
            let trial: Vec<f64> = x.iter().zip(&step).map(|(a, d)| a + s * d).collect();
            if let Some(value) = problem.value(&trial, tau)
                && value <= now - 0.25 * s * decrement
            {
                *x = trial;
                accepted = true;
                break;
            }
            s *= 0.5;
        }
        if !accepted {
            // No progress possible at this precision: x is as central as it gets.
            return Some(newton);
        }
        if decrement < 1e-3 {
            return Some(newton);
        }
    }
    Some(STEPS)
}

/// The solution of the symmetric positive definite system h d = rhs, by Cholesky of the
/// system scaled to a unit diagonal (the barrier makes the diagonal span many orders of
/// magnitude), with a growing regularisation when rounding makes it indefinite.
fn dense_solve(h: &Mat, rhs: &[f64]) -> Option<Vec<f64>> {
    let n = h.rows;
    let scale: Vec<f64> = (0..n)
        .map(|v| match h.at(v, v) {
            d if d > 0.0 && d.is_finite() => 1.0 / d.sqrt(),
            _ => 1.0,
        })
        .collect();
    let mut scaled = Mat::zeros(n, n);
    for v in 0..n {
        for w in 0..n {
            scaled.set(v, w, h.at(v, w) * scale[v] * scale[w]);
        }
    }
    let mut jitter = 0.0;
    for _ in 0..12 {
        let mut shifted = scaled.clone();
        for v in 0..n {
            shifted.add(v, v, jitter);
        }
        if let Some(l) = cholesky(&shifted) {
            let mut y: Vec<f64> = rhs.iter().zip(&scale).map(|(r, s)| r * s).collect();
            for i in 0..n {
                let row = l.row(i);
                let s = dot(&row[..i], &y[..i]);
                y[i] = (y[i] - s) / row[i];
            }
            for i in (0..n).rev() {
                let mut s = y[i];
                for (k, yk) in y.iter().enumerate().skip(i + 1) {
                    s -= l.at(k, i) * yk;
                }
                y[i] = s / l.at(i, i);
            }
            return Some(y.iter().zip(&scale).map(|(y, s)| y * s).collect());
        }
        jitter = if jitter == 0.0 { 1e-13 } else { jitter * 10.0 };
    }
    None
}

/// Q of the form `shape` (docs/FORMAT.md sections 12.3 and 12.10.2) for the given lambda^2,
/// multipliers (one row per relation) and product matrix entries N_ab (a <= b; the pairs
/// `solve` returns).
pub fn form(
    shape: &Shape,
    lambda2: f64,
    multipliers: &[Vec<f64>],
    products: &[(usize, usize, f64)],
) -> Mat {
    let problem = Problem::new(shape, 0.0);
    let mut x = vec![lambda2];
    for row in multipliers {
        x.extend_from_slice(row);
    }
    let values: std::collections::BTreeMap<(usize, usize), f64> =
        products.iter().map(|&(a, b, v)| ((a, b), v)).collect();
    for pair in &problem.pairs {
        x.push(values.get(pair).copied().unwrap_or(0.0));
    }
    problem.q_of(&x)
}
