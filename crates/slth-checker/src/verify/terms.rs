//! Version 2's telescoping terms (docs/FORMAT.md section 12).
//!
//! Term i claims `||Phi_i(x)|| <= lambda_i ||x||` on the domain, where Phi_i is what block
//! i's error adds to the output once f's layers after i have carried it. It is proven by
//! the chain of term i, l matrices acting on `u = [x+; x-]` (or x on a non-negative
//! domain):
//!
//! ```text
//! A_k = B_k (g~'s block k: P_k, or [P_1 | -Q_1] on a signed block 1)   for k < i
//! A_i = M_i (P_i - W_i, or [P_1 - W_1 | W_1 - Q_1])
//! A_k = W_k                                                            for k > i
//! ```
//!
//! with ReLU between them, and a quadratic form V in `w = (u, h_1, ..., h_{l-1})`:
//!
//! ```text
//! V(w) = lambda^2 |u|^2 - |A_l h_{l-1}|^2
//!        - sum_k sum_j 2 t_kj h_kj (z_kj - h_kj)      (z_k = A_k h_{k-1}, h_0 = u)
//!        - sum of products v s_a s_b
//! ```
//!
//! which the witness shows to be positive semidefinite: `Q = R^T R + shift I + D` with
//! `sum D^2 <= shift^2`. Every subtracted term is >= 0 at the actual values (or 0 for the
//! layers k < i, whose multipliers may have any sign), which gives the claim.
//!
//! Arithmetic: every number is an integer over one scale K (the lcm of the squares and
//! products of the denominators involved), so Q, R^T R and D are BigInt matrices and
//! nothing is divided. Cost: about N^3 / 6 multiplications for the side N of w, plus N^2
//! times the last layer's width and the products' sizes; estimated and refused against
//! `--max-exact-work` before anything is computed.

use super::kept::PathSums;
use super::report::show;
use super::scaled::{SquareSum, common_denominator_within};
use super::{CheckedBlock, Limits, Rejection, RejectionKind, parse_at, reject};
use crate::certificate::TermBound;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// 2^106: the denominator of every path sum P, Q (docs/FORMAT.md section 6.1).
const PRODUCT_SHIFT: usize = 106;

/// The parsed term of one block.
#[derive(Debug, Clone)]
pub struct Term {
    /// lambda_i
    pub lambda: BigRational,
    multipliers: Vec<Vec<BigRational>>,
    products: Vec<(usize, usize, BigRational)>,
    shift: BigRational,
    factor: Vec<Vec<BigRational>>,
}

/// The sizes every term of a certificate shares.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Size of u: 2 n_0 on a signed domain, n_0 otherwise.
    pub input: usize,
    /// n_1 .. n_{l-1}: the hidden layers of every chain.
    pub hidden: Vec<usize>,
}

impl Layout {
    /// N, the side of Q.
    pub fn side(&self) -> usize {
        self.hidden
            .iter()
            .fold(self.input, |sum, &n| sum.saturating_add(n))
    }

    /// Where block k of w starts (k = 0 is u, k >= 1 is h_k).
    fn offset(&self, k: usize) -> usize {
        match k {
            0 => 0,
            _ => self
                .hidden
                .iter()
                .take(k.saturating_sub(1))
                .fold(self.input, |sum, &n| sum.saturating_add(n)),
        }
    }

    fn size(&self, k: usize) -> usize {
        if k == 0 {
            self.input
        } else {
            self.hidden.get(k.saturating_sub(1)).copied().unwrap_or(0)
        }
    }

    /// How many entries of w quantity s has: 1 for u_a and h_{k,j}, 1 + c_k for
    /// h_{k,j} - z_{k,j} (the quantities of a term with enough layers; numbering of 12.3).
    fn terms_of(&self, s: usize) -> usize {
        let mut rest = match s.checked_sub(self.input) {
            None => return 1,
            Some(rest) => rest,
        };
        for (k, &n) in self.hidden.iter().enumerate() {
            if rest < n {
                return 1;
            }
            rest = rest.saturating_sub(n);
            if rest < n {
                return self.size(k).saturating_add(1);
            }
            rest = rest.saturating_sub(n);
        }
        1
    }

    /// How many non-negative quantities term i may multiply: u, then h_k and h_k - z_k for
    /// every layer k < i.
    fn sign_count(&self, i: usize) -> usize {
        self.hidden
            .iter()
            .take(i.saturating_sub(1))
            .fold(self.input, |sum, &n| {
                sum.saturating_add(n.saturating_mul(2))
            })
    }
}

fn invalid(place: String, detail: String) -> Rejection {
    reject(RejectionKind::WitnessInvalid, place, detail)
}

/// Parses `bound.terms[b]` and checks its shape: l - 1 multiplier rows of n_1 .. n_{l-1}
/// entries, those of layers k >= i non-negative; products sorted by (a, b) with a <= b <
/// the sign count, values >= 0; lambda >= 0, shift >= 0 and a factor of side N.
pub(super) fn read_term(
    b: usize,
    term: &TermBound,
    layout: &Layout,
    limits: &Limits,
) -> Result<Term, Rejection> {
    let i = b.saturating_add(1);
    let place = format!("bound.terms[{b}]");
    let number = |text, at: &dyn Fn() -> String| parse_at(text, at, limits);
    let lambda = number(&term.lipschitz, &|| format!("{place}.lipschitz"))?;
    if lambda.is_negative() {
        return Err(reject(
            RejectionKind::LipschitzTooSmall,
            format!("{place}.lipschitz"),
            format!("claimed lambda_{i} = {} is negative", show(&lambda)),
        ));
    }
    if term.multipliers.len() != layout.hidden.len() {
        return Err(reject(
            RejectionKind::Dimension,
            format!("{place}.multipliers"),
            format!(
                "expected {} rows (one per hidden layer of the target), found {}",
                layout.hidden.len(),
                term.multipliers.len()
            ),
        ));
    }
    let mut multipliers = Vec::with_capacity(layout.hidden.len());
    for (k, (row, &n)) in term.multipliers.iter().zip(&layout.hidden).enumerate() {
        let layer = k.saturating_add(1);
        if row.len() != n {
            return Err(reject(
                RejectionKind::Dimension,
                format!("{place}.multipliers[{k}]"),
                format!("expected n_{layer} = {n} entries, found {}", row.len()),
            ));
        }
        let mut parsed = Vec::with_capacity(n);
        for (j, text) in row.iter().enumerate() {
            let at = || format!("{place}.multipliers[{k}][{j}]");
            let t = number(text, &at)?;
            if layer >= i && t.is_negative() {
                return Err(invalid(
                    at(),
                    format!(
                        "multiplier {} of layer {layer} is negative; only the layers before \
                         block {i} may have multipliers of either sign",
                        show(&t)
                    ),
                ));
            }
            parsed.push(t);
        }
        multipliers.push(parsed);
    }

    let signs = layout.sign_count(i);
    let mut products = Vec::with_capacity(term.products.len());
    let mut previous: Option<(u64, u64)> = None;
    for (e, (a, c, text)) in term.products.iter().enumerate() {
        let at = || format!("{place}.products[{e}]");
        if a > c || previous.is_some_and(|p| p >= (*a, *c)) {
            return Err(invalid(
                at(),
                "products must have a <= b and be sorted by (a, b) without repetition".into(),
            ));
        }
        previous = Some((*a, *c));
        let index = |x: u64| usize::try_from(x).ok().filter(|&x| x < signs);
        let (Some(a), Some(c)) = (index(*a), index(*c)) else {
            return Err(reject(
                RejectionKind::IndexOutOfRange,
                at(),
                format!(
                    "an index is not below {signs}, the count of quantities term {i} may multiply"
                ),
            ));
        };
        let v = number(text, &|| format!("{place}.products[{e}][2]"))?;
        if v.is_negative() {
            return Err(invalid(
                at(),
                format!("product weight {} is negative", show(&v)),
            ));
        }
        products.push((a, c, v));
    }

    let wplace = format!("{place}.witness");
    let shift = number(&term.witness.shift, &|| format!("{wplace}.shift"))?;
    if shift.is_negative() {
        return Err(invalid(
            format!("{wplace}.shift"),
            format!("shift {} is negative", show(&shift)),
        ));
    }
    let n = layout.side();
    if term.witness.factor.len() != n {
        return Err(invalid(
            format!("{wplace}.factor"),
            format!(
                "factor has {} rows; expected N = {n}",
                term.witness.factor.len()
            ),
        ));
    }
    let mut factor = Vec::with_capacity(n);
    for (a, row) in term.witness.factor.iter().enumerate() {
        if a.checked_add(row.len()) != Some(n) {
            return Err(invalid(
                format!("{wplace}.factor[{a}]"),
                format!(
                    "row {a} of the upper-triangular factor must hold columns {a}..{} ({} entries), found {}",
                    n.saturating_sub(1),
                    n.saturating_sub(a),
                    row.len()
                ),
            ));
        }
        let parsed = row
            .iter()
            .enumerate()
            .map(|(k, x)| number(x, &|| format!("{wplace}.factor[{a}][{k}]")))
            .collect::<Result<Vec<_>, _>>()?;
        factor.push(parsed);
    }
    Ok(Term {
        lambda,
        multipliers,
        products,
        shift,
        factor,
    })
}

/// Integers over one denominator.
struct Over {
    numer: Vec<BigInt>,
}

impl Over {
    fn of(values: &[BigRational], denom: BigInt) -> Over {
        let numer = values
            .iter()
            .map(|x| x.numer() * (&denom / x.denom()))
            .collect();
        Over { numer }
    }
}

/// The common denominator of `values`, or a `Limit` refusal at `place`.
fn denominator<'a>(
    values: impl Iterator<Item = &'a BigRational>,
    limits: &Limits,
    place: &str,
    what: &str,
) -> Result<BigInt, Rejection> {
    common_denominator_within(values, limits.max_exact_bits)
        .map(|(d, _)| d)
        .map_err(|bits| {
            reject(
                RejectionKind::Limit,
                place,
                format!(
                    "the common denominator of {what} has more than {bits} bits, above the \
                     limit of {} (--max-exact-bits)",
                    limits.max_exact_bits
                ),
            )
        })
}

/// P and Q of every block (integers over 2^106, row-major), computed once for all terms.
pub(super) type BlockSums = Vec<(PathSums, PathSums)>;

/// [`BlockSums`] of `blocks`.
pub(super) fn path_sums_of(blocks: &[CheckedBlock]) -> BlockSums {
    blocks
        .iter()
        .map(|block| {
            let cells = block.target.rows.saturating_mul(block.target.cols);
            block.kept.path_sums(cells)
        })
        .collect()
}

/// The l matrices of term i's chain, as rows of rationals over the chain input of each.
fn chain(blocks: &[CheckedBlock], sums: &BlockSums, i: usize) -> Vec<Vec<Vec<BigRational>>> {
    let unit = BigRational::from_integer(BigInt::one() << PRODUCT_SHIFT);
    blocks
        .iter()
        .zip(sums)
        .enumerate()
        .map(|(b, (block, (p, q)))| {
            let k = b.saturating_add(1);
            let w = |m: usize, t: usize| {
                block
                    .target
                    .weights
                    .get(m.saturating_mul(block.target.cols).saturating_add(t))
                    .cloned()
                    .unwrap_or_default()
            };
            let cell = |sums: &PathSums, m: usize, t: usize| {
                BigRational::from_integer(
                    sums.value(m.saturating_mul(block.target.cols).saturating_add(t)),
                ) / &unit
            };
            (0..block.target.rows)
                .map(|m| {
                    let mut row: Vec<BigRational> = (0..block.target.cols)
                        .map(|t| match k.cmp(&i) {
                            std::cmp::Ordering::Less => cell(p, m, t),
                            std::cmp::Ordering::Equal => cell(p, m, t) - w(m, t),
                            std::cmp::Ordering::Greater => w(m, t),
                        })
                        .collect();
                    if block.signed_input {
                        // The columns of x- (taken as |min(x, 0)|): -Q, or W - Q for M_1.
                        row.extend((0..block.target.cols).map(|t| match k.cmp(&i) {
                            std::cmp::Ordering::Less => -cell(q, m, t),
                            std::cmp::Ordering::Equal => w(m, t) - cell(q, m, t),
                            std::cmp::Ordering::Greater => w(m, t),
                        }));
                    }
                    row
                })
                .collect()
        })
        .collect()
}

/// Word multiplications of the check of one term, for `--max-exact-work`.
fn work(layout: &Layout, outputs: usize, term: &Term, bits: u64) -> f64 {
    let n = layout.side() as f64;
    let last = layout.size(layout.hidden.len()) as f64;
    let widest = layout.hidden.iter().fold(layout.input, |m, &x| m.max(x)) as f64;
    let products: f64 = term
        .products
        .iter()
        .map(|&(a, c, _)| layout.terms_of(a) as f64 * layout.terms_of(c) as f64)
        .sum();
    let count = n * n * n / 6.0 + last * last * outputs as f64 + n * widest + products;
    count * (bits as f64 / 64.0).max(1.0).powi(2)
}

/// Decides term i (`b = i - 1`): builds Q exactly and checks the witness.
pub(super) fn check_term(
    b: usize,
    term: &Term,
    blocks: &[CheckedBlock],
    sums: &BlockSums,
    layout: &Layout,
    limits: &Limits,
) -> Result<(), Rejection> {
    let i = b.saturating_add(1);
    let place = format!("bound.terms[{b}]");
    let matrices = chain(blocks, sums, i);
    let depth = matrices.len();

    // Denominators: d_A of every chain matrix, d_t, d_v, d_lambda, d_s (shift), d_R.
    let d_a = denominator(
        matrices.iter().flatten().flatten(),
        limits,
        &place,
        "the chain",
    )?;
    let d_t = denominator(
        term.multipliers.iter().flatten(),
        limits,
        &place,
        "the multipliers",
    )?;
    let d_v = denominator(
        term.products.iter().map(|p| &p.2),
        limits,
        &place,
        "the products",
    )?;
    let d_l = term.lambda.denom().clone();
    let d_s = term.shift.denom().clone();
    let d_r = denominator(term.factor.iter().flatten(), limits, &place, "the factor")?;
    let a2 = &d_a * &d_a;
    let lcm = crate::numbers::lcm;
    // A product enters Q in halves v s_a s_b / 2, over 2 d_v d_A^2: that denominator itself
    // (not lcm(2, d_v d_A^2), which may hold one factor 2 fewer) must divide the scale.
    let scale = [
        &d_l * &d_l,
        a2.clone(),
        &d_t * &d_a,
        &d_v * &a2 * 2,
        d_s.clone(),
        &d_r * &d_r,
    ]
    .iter()
    .fold(BigInt::one(), |k, x| lcm(&k, x));
    let bits = scale.bits().saturating_add(64);
    let outputs = blocks.last().map_or(0, |block| block.target.rows);
    let estimate = work(layout, outputs, term, bits);
    if estimate > limits.max_exact_work {
        return Err(reject(
            RejectionKind::Limit,
            place,
            format!(
                "checking term {i} needs about {estimate:.3e} word multiplications, above the \
                 limit of {:.3e} (--max-exact-work)",
                limits.max_exact_work
            ),
        ));
    }

    let n = layout.side();
    let at = |r: usize, c: usize| r.saturating_mul(n).saturating_add(c);
    let mut q = vec![BigInt::zero(); n.saturating_mul(n)];
    // The chain as integers over d_A, row-major per matrix.
    let ints: Vec<Over> = matrices
        .iter()
        .map(|m| {
            let flat: Vec<BigRational> = m.iter().flatten().cloned().collect();
            Over::of(&flat, d_a.clone())
        })
        .collect();
    let cols = |k: usize| layout.size(k.saturating_sub(1));
    let a_at = |k: usize, j: usize, c: usize| -> BigInt {
        ints.get(k.saturating_sub(1))
            .and_then(|m| m.numer.get(j.saturating_mul(cols(k)).saturating_add(c)))
            .cloned()
            .unwrap_or_default()
    };

    // lambda^2 |u|^2
    let lambda2 = (term.lambda.numer() * term.lambda.numer()) * (&scale / (&d_l * &d_l));
    for a in 0..layout.input {
        q[at(a, a)] += &lambda2;
    }
    // - |A_l h_{l-1}|^2
    let last = depth.saturating_sub(1);
    let (off, size) = (layout.offset(last), layout.size(last));
    let k_a2 = &scale / &a2;
    for m in 0..outputs {
        for a in 0..size {
            let x = a_at(depth, m, a);
            if x.is_zero() {
                continue;
            }
            for c in 0..size {
                let y = a_at(depth, m, c);
                if !y.is_zero() {
                    q[at(off.saturating_add(a), off.saturating_add(c))] -= &x * &y * &k_a2;
                }
            }
        }
    }
    // - 2 t h (z - h) for every hidden neuron of the chain
    let multipliers = Over::of(
        &term
            .multipliers
            .iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>(),
        d_t.clone(),
    );
    let k_ta = &scale / (&d_t * &d_a);
    let mut index = 0usize;
    for k in 1..depth {
        let (here, below, width) = (
            layout.offset(k),
            layout.offset(k.saturating_sub(1)),
            cols(k),
        );
        for j in 0..layout.size(k) {
            let t = multipliers.numer.get(index).cloned().unwrap_or_default();
            index = index.saturating_add(1);
            if t.is_zero() {
                continue;
            }
            let h = here.saturating_add(j);
            // 2 t h^2 over d_t: times d_A / d_A to share k_ta.
            q[at(h, h)] += (&t * &d_a * 2) * &k_ta;
            for c in 0..width {
                let x = a_at(k, j, c);
                if !x.is_zero() {
                    let v = &t * &x * &k_ta;
                    let z = below.saturating_add(c);
                    q[at(h, z)] -= &v;
                    q[at(z, h)] -= v;
                }
            }
        }
    }
    // - v s_a s_b: s is u_a, h_kj or h_kj - z_kj, a sparse vector over d_A.
    let sign_vector = |s: usize| -> Vec<(usize, BigInt)> {
        if s < layout.input {
            return vec![(s, d_a.clone())];
        }
        let mut rest = s.saturating_sub(layout.input);
        for k in 1..depth {
            let n_k = layout.size(k);
            let h0 = layout.offset(k);
            if rest < n_k {
                return vec![(h0.saturating_add(rest), d_a.clone())];
            }
            rest = rest.saturating_sub(n_k);
            if rest < n_k {
                let below = layout.offset(k.saturating_sub(1));
                let mut v = vec![(h0.saturating_add(rest), d_a.clone())];
                v.extend(
                    (0..cols(k))
                        .map(|c| (below.saturating_add(c), -a_at(k, rest, c)))
                        .filter(|(_, x)| !x.is_zero()),
                );
                return v;
            }
            rest = rest.saturating_sub(n_k);
        }
        Vec::new()
    };
    // v (s_a s_b^T + s_b s_a^T) / 2: each pair (p in s_a, r in s_b) subtracts half its
    // product at (p, r) and at (r, p); the two orders together give the symmetric entry.
    let k_va2 = &scale / (&d_v * &a2 * 2);
    for (a, c, v) in &term.products {
        let v = v.numer() * (&d_v / v.denom()) * &k_va2;
        let (sa, sc) = (sign_vector(*a), sign_vector(*c));
        for (p, x) in &sa {
            for (r, y) in &sc {
                let w = &v * x * y;
                q[at(*p, *r)] -= &w;
                q[at(*r, *p)] -= w;
            }
        }
    }

    // D = Q - shift I - R^T R, everything over `scale`.
    let r = Over::of(
        &term.factor.iter().flatten().cloned().collect::<Vec<_>>(),
        d_r.clone(),
    );
    let row_start: Vec<usize> = (0..n)
        .scan(0usize, |start, a| {
            let here = *start;
            *start = start.saturating_add(n.saturating_sub(a));
            Some(here)
        })
        .collect();
    let r_at = |k: usize, a: usize| -> Option<&BigInt> {
        r.numer
            .get(row_start.get(k)?.checked_add(a.checked_sub(k)?)?)
    };
    let shift = term.shift.numer() * (&scale / &d_s);
    let k_r2 = &scale / (&d_r * &d_r);
    let mut squares = SquareSum::default();
    for a in 0..n {
        for c in a..n {
            let s: BigInt = (0..=a)
                .filter_map(|k| Some(r_at(k, a)? * r_at(k, c)?))
                .sum();
            let mut d = &q[at(a, c)] - s * &k_r2;
            if a == c {
                d -= &shift;
                squares.add_big(&d * &d);
            } else {
                squares.add_big((&d * &d) << 1);
            }
        }
    }
    let d_squared = BigRational::new(squares.value(), &scale * &scale);
    let shift_squared = &term.shift * &term.shift;
    if d_squared > shift_squared {
        return Err(invalid(
            format!("{place}.witness"),
            format!(
                "sum of D[a][b]^2 = {} exceeds shift^2 = {}, so the witness does not prove \
                 that the quadratic form of term {i} is positive semidefinite",
                show(&d_squared),
                show(&shift_squared)
            ),
        ));
    }
    Ok(())
}
