//! The numerical search for one quadratic form (docs/FORMAT.md sections 12.3 and 12.10):
//! minimise lambda^2 subject to Q(lambda^2, t, N) - margin I being positive definite,
//! N >= 0 entrywise and t_k >= 0 for the relations that require it.
//!
//! It is a semidefinite program in the "dual" form: S = Q(y) - margin I >= 0 for the
//! variables y = (lambda^2, t, N), plus y_v >= 0 for those that must be non-negative. The
//! search is a primal-dual interior-point method (the HKM direction with Mehrotra's
//! predictor and corrector, as in SDPT3 or CSDP): each iteration solves one Schur
//! complement system, whose factor serves both the predictor and the corrector.
//!
//! Every piece of Q is a product of two "extended quantities" g_p, g_q (rows of G): u_a,
//! and for every relation's n values h_j and h_j - z_j. The first S of them are the
//! quantities the products may multiply. So Q = C + G^T Y G with Y symmetric and linear in
//! the variables: lambda^2 on (u_a, u_a), t_j on (h_j, h_j - z_j) and its mirror, -N_ab on
//! (a, b) and (b, a). The Schur complement's entry for variables v, w is
//! tr(dY_v (G X G^T) dY_w (G S^-1 G^T)), read off two rows x rows matrices.
//!
//! The products are generated as columns: a round solves with a working set of pairs, then
//! adds the pairs whose primal constraint is most violated. The search uses IEEE 754's
//! basic operations and square roots only (no logarithm or other library function whose
//! last bit may differ between machines), and a fixed order of operations whatever the
//! thread count, so that the same input gives the same bits everywhere.
//!
//! Nothing here is trusted: the result only feeds the witness, which the checker decides.

use super::dense::{Mat, cholesky, dot, forward_solve};

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

    /// The Schur complement tr(A_v X A_w S^-1) of the HKM direction, from
    /// x = G X G^T and m = G S^-1 G^T: with A_v = G^T dY_v G it is tr(dY_v x dY_w m).
    fn schur(&self, x: &Mat, m: &Mat) -> Mat {
        let count = self.count();
        let mut h = Mat::zeros(count, count);
        let entries: Vec<Vec<(usize, usize, f64)>> = (1..count).map(|v| self.entries(v)).collect();
        // Row 0 (lambda^2, dY_0 the identity on u): sum over u of m_sa x_ar = P_sr.
        let mut p = Mat::zeros(self.rows, self.rows);
        for s in 0..self.rows {
            for r in 0..self.rows {
                let mut sum = 0.0;
                for a in 0..self.m0 {
                    sum += m.at(s, a) * x.at(a, r);
                }
                p.set(s, r, sum);
            }
        }
        let mut h00 = 0.0;
        for a in 0..self.m0 {
            for b in 0..self.m0 {
                h00 += x.at(a, b) * m.at(b, a);
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
                        value += alpha * beta * x.at(q, r) * m.at(s, p);
                    }
                }
                h.set(v + 1, w + 1, value);
                h.set(w + 1, v + 1, value);
            }
        }
        h
    }

    /// The objective's gradient b: 1 for lambda^2, 0 for the multipliers, the penalty for
    /// the products.
    fn objective(&self) -> Vec<f64> {
        (0..self.count())
            .map(|v| match v {
                0 => 1.0,
                _ if v <= self.tees.len() => 0.0,
                _ => PENALTY,
            })
            .collect()
    }

    /// S = Q - margin I at y and its Cholesky factor, when S is positive definite.
    fn slack(&self, y: &[f64]) -> Option<(Mat, Mat)> {
        let s = self.q_of(y);
        cholesky(&s).map(|l| (s, l))
    }

    /// The change of S along dy: G^T Y(dy) G.
    fn change(&self, dy: &[f64]) -> Mat {
        self.gt.mul(&self.y_of(dy).mul(&self.g))
    }

    /// M = G Q^{-1} G^T at x.
    fn m_of(&self, x: &[f64]) -> Option<Mat> {
        let (_, l) = self.slack(x)?;
        let solved = forward_solve(&l, &self.gt);
        Some(solved.transpose().mul(&solved))
    }
}

/// The search for the form `shape` (a term's or the joint one), with Q - margin I kept
/// positive definite, stopped when the duality gap is below `gap` times lambda^2. `name`
/// labels the trace. None when no strictly feasible start was found.
///
/// A primal-dual interior-point method (the HKM direction with Mehrotra's predictor and
/// corrector) on the pair: the dual is the problem above, with S = Q - margin I and the
/// variables y = (lambda^2, t, N); the primal has X >= 0 (side x side) with
/// <A_v, X> = b_v for the free variables and <A_v, X> + x_v = b_v, x_v >= 0, for those that
/// must stay >= 0, where A_v = G^T dY_v G and b is the objective's gradient. The dual stays
/// strictly feasible at every iterate (S is recomputed from y and must factor), so any
/// iterate gives a valid form; the primal starts infeasible and becomes feasible on the way.
pub fn solve(shape: &Shape, name: &str, margin: f64, gap: f64) -> Option<Solution> {
    let mut problem = Problem::new(shape, 0.0);
    // Column generation: every candidate pair when they are few, otherwise none at first and
    // then, round by round, the pairs whose primal constraint (G X G^T)_ab >= 0 is most
    // violated. Any working set gives a valid (if looser) form.
    let candidates = std::mem::take(&mut problem.pairs);
    if candidates.len() <= ALL_PAIRS {
        problem.pairs = candidates.clone();
    }
    let mut y = start(&mut problem, shape, margin)?;
    let trace = std::env::var_os("SLTH_TIGHTEN_TRACE").is_some();
    let (mut primal, mut slacks) = primal_start(&problem);
    for round in 0..=ROUNDS {
        let mut steps = 0;
        while steps < ITERATIONS {
            steps += 1;
            follow_margin(&mut problem, &y, margin);
            match iterate(&problem, &mut y, &mut primal, &mut slacks, gap) {
                Some(Step::Moved) => {}
                Some(Step::Converged) | None => break,
            }
        }
        if trace {
            eprintln!(
                "{name} round {round} pairs {}: lambda2 {:e} iterations {steps}",
                problem.pairs.len(),
                y[0]
            );
        }
        if round == ROUNDS || problem.pairs.len() >= MAX_PAIRS {
            break;
        }
        // The most violated primal constraints among the pairs not yet in the working set.
        let x = problem.g.mul(&primal).mul(&problem.gt);
        let present: std::collections::BTreeSet<(usize, usize)> =
            problem.pairs.iter().copied().collect();
        let mut violated: Vec<(f64, (usize, usize))> = candidates
            .iter()
            .filter(|pair| !present.contains(pair))
            .filter_map(|&(a, b)| {
                let scale = (x.at(a, a) * x.at(b, b)).sqrt();
                let value = x.at(a, b) / scale;
                (scale > 0.0 && value < -1e-4 && 2.0 * x.at(a, b) + PENALTY < 0.0)
                    .then_some((value, (a, b)))
            })
            .collect();
        if violated.is_empty() {
            break;
        }
        violated.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
        violated.truncate(BATCH.min(MAX_PAIRS - problem.pairs.len()));
        violated.sort_by_key(|v| v.1);
        let added: Vec<(usize, usize)> = violated.iter().map(|v| v.1).collect();
        // Each new product starts near its natural scale, where a log barrier's pull 1/N
        // would match log det's 2 |M_ab| (M = G S^-1 G^T), shrunk until S stays positive
        // definite. Where no scale does, the search ends with the working set it has.
        let m = problem.m_of(&y)?;
        let natural: Vec<f64> = added
            .iter()
            .map(|&(a, b)| 0.25 / (2.0 * m.at(a, b).abs()))
            .collect();
        let mut grown = problem.pairs.clone();
        grown.extend_from_slice(&added);
        let before = std::mem::replace(&mut problem.pairs, grown);
        let warm = std::iter::successors(Some(1.0f64), |f| Some(f / 4.0))
            .take_while(|&f| f >= 1e-30)
            .map(|factor| {
                let mut trial = y.clone();
                trial.extend(natural.iter().map(|v| v * factor));
                trial
            })
            .find(|trial| problem.slack(trial).is_some());
        let Some(warm) = warm else {
            problem.pairs = before;
            break;
        };
        // The last iterate sits near the boundary, where the new constraints leave the
        // primal far from feasible and the steps short: the search restarts from halfway
        // between it and a fresh start (both strictly feasible, so the mean is too), with a
        // fresh primal.
        let kept = problem.margin;
        y = match start(&mut problem, shape, margin) {
            Some(fresh) => {
                problem.margin = kept.min(problem.margin);
                warm.iter()
                    .zip(&fresh)
                    .map(|(w, c)| 0.5 * (w + c))
                    .collect()
            }
            None => {
                problem.margin = kept;
                warm
            }
        };
        (primal, slacks) = primal_start(&problem);
    }
    let mut multipliers = Vec::new();
    let mut next = 1;
    for &n in &problem.hidden {
        multipliers.push(y[next..next + n].to_vec());
        next += n;
    }
    let products = problem
        .pairs
        .iter()
        .zip(&y[next..])
        .map(|(&(a, b), &v)| (a, b, v))
        .collect();
    Some(Solution {
        lambda2: y[0],
        multipliers,
        products,
    })
}

/// The primal start: X = I / m0 meets lambda^2's constraint (the trace of G X G^T over u
/// is 1), and each slack x_v closes its constraint's residual b_v - <A_v, X> where that is
/// positive, and is 1 / m0 where it is not.
fn primal_start(problem: &Problem) -> (Mat, Vec<f64>) {
    let primal = Mat::diagonal(problem.side, 1.0 / problem.m0 as f64);
    let x = problem.g.mul(&primal).mul(&problem.gt);
    let applied = problem.adjoint(&x);
    let b = problem.objective();
    let floor = 1.0 / problem.m0 as f64;
    let slacks = (0..problem.count())
        .map(|v| {
            if !problem.positive(v) {
                0.0
            } else {
                (b[v] - applied[v]).max(floor)
            }
        })
        .collect();
    (primal, slacks)
}

/// The margin follows lambda^2 down the path: lowering it keeps S positive definite, and
/// raising it (after a start below it) happens only where S stays positive definite.
fn follow_margin(problem: &mut Problem, y: &[f64], margin: f64) {
    let target = margin * y[0];
    if target < problem.margin {
        problem.margin = target;
    } else if target > problem.margin {
        let before = std::mem::replace(&mut problem.margin, target);
        if problem.slack(y).is_none() {
            problem.margin = before;
        }
    }
}

/// What one iteration did.
enum Step {
    Moved,
    Converged,
}

/// <A, B> for two square matrices.
fn inner(a: &Mat, b: &Mat) -> f64 {
    dot(&a.data, &b.data)
}

/// (A B + (A B)^T) / 2.
fn symmetric_product(a: &Mat, b: &Mat) -> Mat {
    let p = a.mul(b);
    let n = p.rows;
    let mut out = Mat::zeros(n, n);
    for r in 0..n {
        for c in 0..n {
            out.set(r, c, 0.5 * (p.at(r, c) + p.at(c, r)));
        }
    }
    out
}

/// a + s b, entrywise.
fn plus(a: &Mat, s: f64, b: &Mat) -> Mat {
    let mut out = a.clone();
    for (t, d) in out.data.iter_mut().zip(&b.data) {
        *t += s * d;
    }
    out
}

/// The largest step in [0, cap] (to a relative 1e-4) along `direction` that keeps `base`
/// positive definite, by bisection on the Cholesky test.
fn longest(base: &Mat, direction: &Mat, cap: f64) -> f64 {
    if cholesky(&plus(base, cap, direction)).is_some() {
        return cap;
    }
    let (mut low, mut high) = (0.0, cap);
    while high - low > 1e-4 * cap {
        let mid = 0.5 * (low + high);
        if cholesky(&plus(base, mid, direction)).is_some() {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

/// The largest step in [0, cap] keeping the entries `positive` of values + s direction > 0.
fn longest_positive(values: &[f64], direction: &[f64], positive: &[usize], cap: f64) -> f64 {
    positive
        .iter()
        .filter(|&&v| direction[v] < 0.0)
        .map(|&v| -values[v] / direction[v])
        .fold(cap, f64::min)
}

/// One predictor-corrector iteration from the strictly dual feasible y (and X > 0, x > 0).
/// None when the linear system broke down (y is unchanged and still valid).
fn iterate(
    problem: &Problem,
    y: &mut Vec<f64>,
    primal: &mut Mat,
    slacks: &mut [f64],
    gap: f64,
) -> Option<Step> {
    let count = problem.count();
    let positive: Vec<usize> = (0..count).filter(|&v| problem.positive(v)).collect();
    let (s, l) = problem.slack(y)?;
    let inverse_factor = forward_solve(&l, &Mat::diagonal(problem.side, 1.0));
    let s_inverse = inverse_factor.transpose().mul(&inverse_factor);
    let m = problem.g.mul(&s_inverse).mul(&problem.gt);
    let x = problem.g.mul(primal).mul(&problem.gt);
    let complementarity =
        inner(primal, &s) + positive.iter().map(|&v| slacks[v] * y[v]).sum::<f64>();
    let mu = complementarity / problem.barriers() as f64;
    // The objective's gradient b, and the primal residual b - A(X) - x.
    let b = problem.objective();
    let applied = problem.adjoint(&x);
    let residual: f64 = (0..count)
        .map(|v| {
            let r = b[v] - applied[v] - if problem.positive(v) { slacks[v] } else { 0.0 };
            r * r
        })
        .sum::<f64>()
        .sqrt();
    if complementarity <= gap * y[0] && residual <= 1e-6 {
        return Some(Step::Converged);
    }
    // The Schur complement: tr(A_v X A_w S^-1) plus x_v / y_v.
    let mut h = problem.schur(&x, &m);
    for &v in &positive {
        h.add(v, v, slacks[v] / y[v]);
    }
    let factor = Factor::new(&h)?;
    let trace_inverse = problem.adjoint(&m);
    // The directions for the right-hand side `rhs`, with the extra terms of the corrector.
    let directions = |rhs: &[f64], sigma_mu: f64, extra: Option<(&Mat, &[f64])>| {
        let dy = factor.solve(rhs);
        let ds = problem.change(&dy);
        let mut dx = s_inverse.clone();
        for t in &mut dx.data {
            *t *= sigma_mu;
        }
        let mut dx = plus(&dx, -1.0, primal);
        dx = plus(&dx, -1.0, &symmetric_product(primal, &ds.mul(&s_inverse)));
        let mut dslack = vec![0.0; count];
        for &v in &positive {
            dslack[v] = sigma_mu / y[v] - slacks[v] - slacks[v] * dy[v] / y[v];
        }
        if let Some((second, lp)) = extra {
            dx = plus(&dx, -1.0, second);
            for &v in &positive {
                dslack[v] -= lp[v];
            }
        }
        (dy, ds, dx, dslack)
    };
    let steps = |ds: &Mat, dx: &Mat, dy: &[f64], dslack: &[f64]| {
        let cap = 1.0 / 0.95;
        let primal_cap = longest_positive(slacks, dslack, &positive, cap);
        let dual_cap = longest_positive(y, dy, &positive, cap);
        let primal_step = longest(primal, dx, primal_cap);
        let dual_step = longest(&s, ds, dual_cap);
        ((0.95 * primal_step).min(1.0), (0.95 * dual_step).min(1.0))
    };
    // Predictor: sigma = 0.
    let rhs: Vec<f64> = b.iter().map(|v| -v).collect();
    let (dy, ds, dx, dslack) = directions(&rhs, 0.0, None);
    let (ap, ad) = steps(&ds, &dx, &dy, &dslack);
    let predicted_steps = (ap, ad);
    let predicted = inner(&plus(primal, ap, &dx), &plus(&s, ad, &ds))
        + positive
            .iter()
            .map(|&v| (slacks[v] + ap * dslack[v]) * (y[v] + ad * dy[v]))
            .sum::<f64>();
    let sigma = (predicted / complementarity).clamp(0.0, 1.0).powi(3);
    // Corrector: sigma mu, and the second-order terms of the predicted step.
    let second = symmetric_product(&dx, &ds.mul(&s_inverse));
    let lp: Vec<f64> = (0..count)
        .map(|v| {
            if problem.positive(v) {
                dslack[v] * dy[v] / y[v]
            } else {
                0.0
            }
        })
        .collect();
    let second_applied = problem.adjoint(&problem.g.mul(&second).mul(&problem.gt));
    // The centred right-hand side sigma mu (A(S^-1) + 1/y) - b, then the corrector's.
    let centred: Vec<f64> = (0..count)
        .map(|v| {
            let barrier = if problem.positive(v) { 1.0 / y[v] } else { 0.0 };
            sigma * mu * (trace_inverse[v] + barrier) - b[v]
        })
        .collect();
    let rhs: Vec<f64> = (0..count)
        .map(|v| centred[v] - second_applied[v] - lp[v])
        .collect();
    let (mut dy, mut ds, mut dx, mut dslack) = directions(&rhs, sigma * mu, Some((&second, &lp)));
    let (mut ap, mut ad) = steps(&ds, &dx, &dy, &dslack);
    if ap.min(ad) < 0.5 * predicted_steps.0.min(predicted_steps.1) {
        // The second-order terms spoiled the step (far from the central path): the
        // centred direction without them.
        (dy, ds, dx, dslack) = directions(&centred, sigma * mu, None);
        (ap, ad) = steps(&ds, &dx, &dy, &dslack);
    }
    // The dual step is taken only where S, recomputed from y, still factors.
    let moved = loop {
        let trial: Vec<f64> = y.iter().zip(&dy).map(|(a, d)| a + ad * d).collect();
        if problem.slack(&trial).is_some() {
            break trial;
        }
        ad *= 0.5;
        if ad < 1e-12 {
            return None;
        }
    };
    *y = moved;
    *primal = plus(primal, ap, &dx);
    for &v in &positive {
        slacks[v] += ap * dslack[v];
    }
    Some(Step::Moved)
}

/// A small price on the products in the objective: products of linearly dependent
/// quantities can cancel in Q, and without a price the barrier would drive them to
/// infinity along such a direction.
const PENALTY: f64 = 1e-6;

/// Iterations per round at most: a stopped search still has a strictly feasible y (only
/// accuracy is at stake).
const ITERATIONS: usize = 60;

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
                if problem.slack(&x).is_some() {
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

/// The Cholesky factor of a symmetric positive definite system h d = rhs, scaled to a unit
/// diagonal (the slacks make the diagonal span many orders of magnitude), with a growing
/// regularisation when rounding makes it indefinite; one factor serves the predictor and
/// the corrector.
struct Factor {
    l: Mat,
    scale: Vec<f64>,
}

impl Factor {
    fn new(h: &Mat) -> Option<Factor> {
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
                return Some(Factor { l, scale });
            }
            jitter = if jitter == 0.0 { 1e-13 } else { jitter * 10.0 };
        }
        None
    }

    fn solve(&self, rhs: &[f64]) -> Vec<f64> {
        let (l, n) = (&self.l, self.l.rows);
        let mut y: Vec<f64> = rhs.iter().zip(&self.scale).map(|(r, s)| r * s).collect();
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
        y.iter().zip(&self.scale).map(|(y, s)| y * s).collect()
    }
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
