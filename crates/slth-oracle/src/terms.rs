//! Version 2's telescoping terms, written from docs/FORMAT.md section 12 alone: the chain
//! of each term (12.2), its quantities and quadratic form Q (12.3), and the checks of
//! 12.4, in plain `BigRational` arithmetic except for the final sum of D^2, which reuses
//! the version 1 witness residual ([`witness_residual`]) with G = -Q and L = 0.

use crate::*;

/// What a term says, read from first principles; used to make mutants.
#[derive(Debug, Clone)]
pub struct TermFacts {
    /// lambda_i as written.
    pub lambda: BigRational,
    /// S, the number of quantities a product may multiply.
    pub quantities: usize,
    /// N, the side of Q and of the witness factor.
    pub side: usize,
    /// The multipliers as written (row k-1 holds t_{k,j}).
    pub multipliers: Vec<Vec<BigRational>>,
    /// The products as written, (a, b, v).
    pub products: Vec<(usize, usize, BigRational)>,
}

/// Sparse vector over the positions of w.
pub(crate) type Sparse = Vec<(usize, BigRational)>;
pub(crate) type Matrix = Vec<Vec<BigRational>>;

/// The path sums of one block (section 6.1) as rational matrices: (P, Q), n_k x n_{k-1}.
fn path_sums(rows: usize, cols: usize, paths: &[Path]) -> (Matrix, Matrix) {
    let mut p = vec![vec![BigInt::zero(); cols]; rows];
    let mut q = vec![vec![BigInt::zero(); cols]; rows];
    for &(m, t, v, u) in paths {
        let product = BigInt::from(v) * BigInt::from(u);
        if u > 0 {
            p[m][t] += product;
        } else {
            q[m][t] += product;
        }
    }
    let den = BigInt::one() << 106u32;
    let rational = |m: Vec<Vec<BigInt>>| -> Matrix {
        m.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|x| BigRational::new(x, den.clone()))
                    .collect()
            })
            .collect()
    };
    (rational(p), rational(q))
}

/// Everything the chains of every term are made of: widths, f's weights, g~'s path sums.
pub(crate) struct Network<'a> {
    /// n_0, ..., n_l
    pub(crate) widths: Vec<usize>,
    /// W_1, ..., W_l (index k-1)
    pub(crate) weights: Vec<&'a Matrix>,
    /// P_k and Q_k of section 6.1 (index k-1)
    sums: Vec<(Matrix, Matrix)>,
    /// Whether block 1's input is signed (u = (x+, x-)).
    pub(crate) signed: bool,
}

impl<'a> Network<'a> {
    pub(crate) fn new(
        widths: Vec<usize>,
        weights: Vec<&'a Matrix>,
        paths: &[&[Path]],
        signed: bool,
    ) -> Network<'a> {
        let sums = (0..weights.len())
            .map(|b| path_sums(widths[b + 1], widths[b], paths[b]))
            .collect();
        Network {
            widths,
            weights,
            sums,
            signed,
        }
    }

    pub(crate) fn depth(&self) -> usize {
        self.weights.len()
    }

    /// m_0: 2 n_0 on a signed domain, n_0 on a non-negative one.
    pub(crate) fn m0(&self) -> usize {
        if self.signed {
            2 * self.widths[0]
        } else {
            self.widths[0]
        }
    }

    /// o_k: o_0 = 0, o_k = m_0 + n_1 + ... + n_{k-1}.
    fn offset(&self, k: usize) -> usize {
        if k == 0 {
            0
        } else {
            self.m0() + self.widths[1..k].iter().sum::<usize>()
        }
    }

    /// c_k: the columns of A_k (m_0 for k = 1, n_{k-1} after).
    fn columns(&self, k: usize) -> usize {
        if k == 1 {
            self.m0()
        } else {
            self.widths[k - 1]
        }
    }

    /// N = m_0 + n_1 + ... + n_{l-1}.
    pub(crate) fn side(&self) -> usize {
        self.offset(self.depth() - 1) + self.columns(self.depth())
    }

    /// S of term i = m_0 + 2 (n_1 + ... + n_{i-1}).
    pub(crate) fn quantities(&self, i: usize) -> usize {
        self.m0() + 2 * self.widths[1..i].iter().sum::<usize>()
    }

    /// A_k of term i (section 12.2 table), n_k x c_k.
    pub(crate) fn chain(&self, i: usize, k: usize) -> Matrix {
        let w = self.weights[k - 1];
        let (p, q) = &self.sums[k - 1];
        let rows = self.widths[k];
        if k > i {
            return w.clone();
        }
        let error = k == i;
        (0..rows)
            .map(|m| {
                let mut row: Vec<BigRational> = (0..self.widths[k - 1])
                    .map(|t| {
                        if error {
                            &p[m][t] - &w[m][t]
                        } else {
                            p[m][t].clone()
                        }
                    })
                    .collect();
                if k == 1 && self.signed {
                    // The x- half: -Q_1, or W_1 - Q_1 for the error block.
                    row.extend((0..self.widths[0]).map(|t| {
                        if error {
                            &w[m][t] - &q[m][t]
                        } else {
                            -&q[m][t]
                        }
                    }));
                }
                row
            })
            .collect()
    }

    /// sigma_0, ..., sigma_{S-1} of term i (section 12.3), given its chain.
    pub(crate) fn quantity_vectors(&self, i: usize, chain: &[Matrix]) -> Vec<Sparse> {
        let mut out: Vec<Sparse> = (0..self.m0())
            .map(|a| vec![(a, BigRational::one())])
            .collect();
        for k in 1..i {
            let (o, before) = (self.offset(k), self.offset(k - 1));
            for j in 0..self.widths[k] {
                out.push(vec![(o + j, BigRational::one())]);
            }
            for j in 0..self.widths[k] {
                let mut s = vec![(o + j, BigRational::one())];
                for (c, x) in chain[k - 1][j].iter().enumerate() {
                    if !x.is_zero() {
                        s.push((before + c, -x));
                    }
                }
                out.push(s);
            }
        }
        out
    }

    /// Q of term i, steps 1 to 4 of section 12.3, every step adding to the previous ones.
    pub(crate) fn form(
        &self,
        i: usize,
        lambda: &BigRational,
        multipliers: &[Vec<BigRational>],
        products: &[(usize, usize, BigRational)],
    ) -> Matrix {
        let l = self.depth();
        let n = self.side();
        let chain: Vec<Matrix> = (1..=l).map(|k| self.chain(i, k)).collect();
        let mut q = vec![vec![BigRational::zero(); n]; n];
        // 1. lambda^2 on u.
        let l2 = lambda * lambda;
        for p in 0..self.m0() {
            q[p][p] += &l2;
        }
        // 2. minus A_l^T A_l on h_{l-1}.
        let (o, cl) = (self.offset(l - 1), self.columns(l));
        let a = &chain[l - 1];
        for c in 0..cl {
            for d in 0..cl {
                let mut s = BigRational::zero();
                for row in a {
                    if !row[c].is_zero() && !row[d].is_zero() {
                        s += &row[c] * &row[d];
                    }
                }
                q[o + c][o + d] -= s;
            }
        }
        // 3. the multipliers.
        for k in 1..l {
            let (ok, before) = (self.offset(k), self.offset(k - 1));
            for j in 0..self.widths[k] {
                let t = &multipliers[k - 1][j];
                if t.is_zero() {
                    continue;
                }
                let h = ok + j;
                q[h][h] += t * BigRational::from_integer(2.into());
                for c in 0..self.columns(k) {
                    let x = &chain[k - 1][j][c];
                    if x.is_zero() {
                        continue;
                    }
                    let y = t * x;
                    q[h][before + c] -= &y;
                    q[before + c][h] -= y;
                }
            }
        }
        // 4. the products.
        let sigma = self.quantity_vectors(i, &chain);
        subtract_products(&mut q, &sigma, products);
        q
    }
}

/// Step 4 of sections 12.3 and 12.10.2: Q[p][q] -= v (sigma_a[p] sigma_b[q] + sigma_b[p]
/// sigma_a[q]) / 2 for every product [a, b, v]. The sum over the products is accumulated in
/// integers (sigma entries over their common denominator, v over theirs) and divided once
/// per entry: plain rationals here cost seconds per term on the committed certificates.
pub(crate) fn subtract_products(
    q: &mut Matrix,
    sigma: &[Sparse],
    products: &[(usize, usize, BigRational)],
) {
    let n = q.len();
    let entries: Vec<&BigRational> = sigma.iter().flatten().map(|(_, x)| x).collect();
    let (ints, d_sigma) = over_common_denominator(&entries);
    let mut ints = ints.into_iter();
    let sigma: Vec<Vec<(usize, BigInt)>> = sigma
        .iter()
        .map(|s| s.iter().map(|(p, _)| (*p, ints.next().unwrap())).collect())
        .collect();
    let values: Vec<&BigRational> = products.iter().map(|(_, _, v)| v).collect();
    let (v_ints, d_v) = over_common_denominator(&values);
    let mut sum = vec![vec![BigInt::zero(); n]; n];
    for ((a, b, _), v) in products.iter().zip(&v_ints) {
        if v.is_zero() {
            continue;
        }
        for (p, x) in &sigma[*a] {
            let vx = v * x;
            for (r, y) in &sigma[*b] {
                let c = &vx * y;
                sum[*p][*r] += &c;
                sum[*r][*p] += c;
            }
        }
    }
    // Q[p][q] -= sum[p][q] / (2 d_v d_sigma^2)
    let den = BigInt::from(2) * d_v * &d_sigma * &d_sigma;
    for (qrow, srow) in q.iter_mut().zip(sum) {
        for (x, s) in qrow.iter_mut().zip(srow) {
            if !s.is_zero() {
                *x -= BigRational::new(s, den.clone());
            }
        }
    }
}

/// Whether sum D^2 <= shift^2 for D = Q - shift I - R^T R (section 12.4, check 4).
pub(crate) fn witness_holds(q: &Matrix, shift: &BigRational, factor: &[Vec<BigRational>]) -> bool {
    let minus_q: Matrix = q
        .iter()
        .map(|row| row.iter().map(|x| -x).collect())
        .collect();
    witness_residual(&minus_q, &BigRational::zero(), shift, factor) <= shift * shift
}

/// One term with its numbers read; `None` entries were unreadable (already reported).
pub(crate) struct Term {
    pub(crate) lambda: Option<BigRational>,
    pub(crate) multipliers: Option<Vec<Vec<BigRational>>>,
    pub(crate) products: Option<Vec<(usize, usize, BigRational)>>,
    pub(crate) shift: Option<BigRational>,
    pub(crate) factor: Option<Vec<Vec<BigRational>>>,
}

pub(crate) fn numbers(
    rows: &[Vec<String>],
    place: &str,
    out: &mut Vec<Violation>,
) -> Option<Matrix> {
    let mut ok = true;
    let mut m = Vec::new();
    for (a, row) in rows.iter().enumerate() {
        let mut r = Vec::new();
        for (b, x) in row.iter().enumerate() {
            match number(x, &format!("{place}[{a}][{b}]"), out) {
                Some(x) => r.push(x),
                None => ok = false,
            }
        }
        m.push(r);
    }
    ok.then_some(m)
}

/// Products (section 12.4 item 3, and 12.10.3 item 3): a <= b < S, v >= 0, sorted by
/// (a, b) without repeats. None when one could not be read or lies outside the quantities
/// (already reported); `place` is the term's or the joint form's.
pub(crate) fn read_products(
    list: &Entries,
    s: usize,
    place: &str,
    out: &mut Vec<Violation>,
) -> Option<Vec<(usize, usize, BigRational)>> {
    let mut products = Some(Vec::new());
    let mut previous: Option<(u64, u64)> = None;
    for (p, (a, b, v)) in list.iter().enumerate() {
        let pplace = format!("{place}.products[{p}]");
        let v = number(v, &pplace, out);
        let mut ok = v.is_some();
        if a > b {
            ok = false;
            out.push(violation(
                &[Kind::WitnessInvalid, Kind::IndexOutOfRange],
                &pplace,
                "a > b",
            ));
        }
        if *b >= s as u64 || *a >= s as u64 {
            ok = false;
            out.push(violation(
                &[Kind::IndexOutOfRange, Kind::WitnessInvalid],
                &pplace,
                format!("index beyond S = {s}"),
            ));
        }
        if previous.is_some_and(|q| q >= (*a, *b)) {
            out.push(violation(
                &[Kind::WitnessInvalid],
                &pplace,
                "products not sorted by (a, b), or a pair twice",
            ));
        }
        previous = Some((*a, *b));
        if let Some(v) = &v
            && v.is_negative()
        {
            out.push(violation(&[Kind::WitnessInvalid], &pplace, "v < 0"));
        }
        match (ok, v, products.as_mut()) {
            (true, Some(v), Some(list)) => list.push((*a as usize, *b as usize, v)),
            _ => products = None,
        }
    }
    products
}

/// The shift and factor of a witness of side `n` (section 12.4 item 4): shift >= 0, an
/// upper-triangular factor stored by rows; the factor is None when its shape is wrong.
pub(crate) fn read_witness(
    shift: &str,
    factor: &[Vec<String>],
    n: usize,
    wplace: &str,
    out: &mut Vec<Violation>,
) -> (Option<BigRational>, Option<Matrix>) {
    let shift = number(shift, &format!("{wplace}.shift"), out);
    if shift.as_ref().is_some_and(Signed::is_negative) {
        out.push(violation(
            &[Kind::WitnessInvalid],
            format!("{wplace}.shift"),
            "shift < 0",
        ));
    }
    let fplace = format!("{wplace}.factor");
    let mut rows = numbers(factor, &fplace, out);
    if factor.len() != n {
        rows = None;
        out.push(violation(
            &[Kind::WitnessInvalid, Kind::Dimension],
            &fplace,
            format!("{} rows, N = {n}", factor.len()),
        ));
    } else {
        for (a, row) in factor.iter().enumerate() {
            if row.len() != n - a {
                rows = None;
                out.push(violation(
                    &[Kind::WitnessInvalid, Kind::Dimension],
                    format!("{fplace}[{a}]"),
                    format!("{} entries, N - a = {}", row.len(), n - a),
                ));
            }
        }
    }
    (shift, rows)
}

/// The checks of section 12.4 that need no chain: every number, lambda >= 0, the shapes
/// of the multipliers, products and witness, the signs, the order of the products.
/// `widths` are n_0..n_l of the target (the multiplier rows are checked against them when
/// the target has l + 1 widths), `m0` and `signed` as in section 12.2.
pub(crate) fn read_term(
    text: &TermText,
    i: usize,
    widths: &[usize],
    m0: usize,
    out: &mut Vec<Violation>,
) -> Term {
    let place = format!("bound.terms[{}]", i - 1);
    let l = widths.len() - 1;
    let lambda = number(&text.lipschitz, &format!("{place}.lipschitz"), out);
    if lambda.as_ref().is_some_and(Signed::is_negative) {
        out.push(violation(
            &[Kind::LipschitzTooSmall, Kind::WitnessInvalid],
            format!("{place}.lipschitz"),
            "lambda < 0",
        ));
    }

    let mplace = format!("{place}.multipliers");
    let mut multipliers = numbers(&text.multipliers, &mplace, out);
    let mut shape_ok = true;
    if text.multipliers.len() != l.saturating_sub(1) {
        shape_ok = false;
        out.push(violation(
            &[Kind::Dimension, Kind::WitnessInvalid],
            &mplace,
            format!(
                "{} rows, l - 1 = {}",
                text.multipliers.len(),
                l.saturating_sub(1)
            ),
        ));
    }
    for (r, row) in text.multipliers.iter().enumerate() {
        // Row k-1 = r holds t_{k,j} for j < n_k, k = r + 1.
        if let Some(&n) = widths.get(r + 1)
            && r + 1 < l
            && row.len() != n
        {
            shape_ok = false;
            out.push(violation(
                &[Kind::Dimension, Kind::WitnessInvalid],
                format!("{mplace}[{r}]"),
                format!("{} entries, n_{} = {n}", row.len(), r + 1),
            ));
        }
    }
    if let Some(m) = &multipliers {
        for (r, row) in m.iter().enumerate() {
            let k = r + 1;
            if k < i {
                continue;
            }
            for (j, t) in row.iter().enumerate() {
                if t.is_negative() {
                    out.push(violation(
                        &[Kind::WitnessInvalid],
                        format!("{mplace}[{r}][{j}]"),
                        format!("t_{{{k},{j}}} < 0 with k >= i = {i}"),
                    ));
                }
            }
        }
    }
    if !shape_ok {
        multipliers = None;
    }

    let s = m0 + 2 * widths[1..i.min(l + 1).max(1)].iter().sum::<usize>();
    let products = read_products(&text.products, s, &place, out);

    // The witness: shift >= 0, an upper-triangular factor of side N stored by rows.
    let n = m0 + widths[1..l.max(1)].iter().sum::<usize>();
    let (shift, factor) = read_witness(
        &text.shift,
        &text.factor,
        n,
        &format!("{place}.witness"),
        out,
    );
    Term {
        lambda,
        multipliers,
        products,
        shift,
        factor,
    }
}

impl Checker {
    /// Section 12: pushes every violation of the terms (and of their presence), and
    /// returns what the terms say and the telescoping bound r * (lambda_1 + ... + lambda_l)
    /// when it is defined (version 2, one readable term per block, a readable radius).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_terms(
        &self,
        c: &Parsed,
        dims: &[u64],
        weights: &[Option<Matrix>],
        paths: &[Option<Vec<Path>>],
        structure_ok: bool,
        radius: Option<&BigRational>,
        out: &mut Vec<Violation>,
        undecided: &mut Option<String>,
    ) -> (Vec<TermFacts>, Option<BigRational>) {
        let texts = match (c.version, &c.terms) {
            (2, Some(t)) => t,
            (1, Some(_)) => {
                out.push(violation(
                    &[Kind::Header, Kind::Schema],
                    "bound.terms",
                    "terms in a version 1 certificate",
                ));
                return (Vec::new(), None);
            }
            // Section 12.1: version 2 needs terms, joint or at least one `error_method`.
            (2, None) if c.joint.is_some() || c.blocks.iter().any(|b| b.error_method.is_some()) => {
                return (Vec::new(), None);
            }
            (2, None) => {
                out.push(violation(
                    &[Kind::Header, Kind::Schema],
                    "bound.terms",
                    "version 2 without terms, joint or an error_method",
                ));
                return (Vec::new(), None);
            }
            // Another version: already a header violation; its terms mean nothing.
            _ => return (Vec::new(), None),
        };
        let l = c.layers.len();
        if texts.len() != l {
            out.push(violation(
                &[Kind::Dimension],
                "bound.terms",
                format!("{} terms for {l} blocks", texts.len()),
            ));
        }
        let widths: Vec<usize> = dims
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
            .collect();
        let signed = !c.nonnegative;
        let m0 = if signed {
            widths[0].saturating_mul(2)
        } else {
            widths[0]
        };
        let terms: Vec<Term> = texts
            .iter()
            .enumerate()
            .map(|(t, text)| read_term(text, t + 1, &widths, m0, out))
            .collect();

        let mut facts = Vec::new();
        let side = widths[1..l.max(1)]
            .iter()
            .fold(m0, |s, &n| s.saturating_add(n));
        let chains_defined = structure_ok
            && l >= 1
            && texts.len() == l
            && weights.iter().all(Option::is_some)
            && paths.iter().all(Option::is_some);
        if chains_defined && side > self.max_witness_side {
            *undecided = Some(format!("terms of side N = {side}"));
        } else if chains_defined {
            let network = Network::new(
                widths.clone(),
                weights.iter().map(|w| w.as_ref().unwrap()).collect(),
                &paths
                    .iter()
                    .map(|p| p.as_deref().unwrap())
                    .collect::<Vec<_>>(),
                signed,
            );
            for (t, term) in terms.iter().enumerate() {
                let i = t + 1;
                let (Some(lambda), Some(multipliers), Some(products)) =
                    (&term.lambda, &term.multipliers, &term.products)
                else {
                    continue;
                };
                facts.push(TermFacts {
                    lambda: lambda.clone(),
                    quantities: network.quantities(i),
                    side,
                    multipliers: multipliers.clone(),
                    products: products.clone(),
                });
                let (Some(shift), Some(factor)) = (&term.shift, &term.factor) else {
                    continue;
                };
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (i, &texts[t], c.nonnegative, c.input_dim, &c.seed).hash(&mut h);
                for layer in &c.layers {
                    layer.weights.hash(&mut h);
                }
                c.ticket.hash(&mut h);
                let memo = h.finish();
                let cached = self.terms.lock().unwrap().get(&memo).copied();
                let holds = cached.unwrap_or_else(|| {
                    let q = network.form(i, lambda, multipliers, products);
                    let holds = witness_holds(&q, shift, factor);
                    self.terms.lock().unwrap().insert(memo, holds);
                    holds
                });
                if !holds {
                    out.push(violation(
                        &[Kind::WitnessInvalid],
                        format!("bound.terms[{t}].witness"),
                        "sum D^2 > shift^2 for D = Q - shift I - R^T R",
                    ));
                }
            }
        }
        let telescoping = match (radius, texts.len() == l) {
            (Some(r), true) if terms.iter().all(|t| t.lambda.is_some()) => {
                let sum: BigRational = terms.iter().map(|t| t.lambda.clone().unwrap()).sum();
                Some(r * sum)
            }
            _ => None,
        };
        (facts, telescoping)
    }
}
