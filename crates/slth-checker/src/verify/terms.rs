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
use crate::certificate::{JointBound, LipschitzWitness, Rational, TermBound};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

/// 2^106: the denominator of every path sum P, Q (docs/FORMAT.md section 6.1).
const PRODUCT_SHIFT: usize = 106;

/// A parsed term of one block (docs/FORMAT.md section 12.5) or the joint form (12.10.4):
/// lambda, one row of multipliers per relation of its form, products, witness.
#[derive(Debug, Clone)]
pub struct Term {
    /// lambda_i, or the joint form's lambda
    pub lambda: BigRational,
    multipliers: Vec<Vec<BigRational>>,
    products: Vec<(usize, usize, BigRational)>,
    shift: BigRational,
    factor: Vec<Vec<BigRational>>,
}

/// The sizes every form of a certificate shares.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Size of u: 2 n_0 on a signed domain, n_0 otherwise.
    pub input: usize,
    /// n_1 .. n_{l-1}: the hidden layers of every chain.
    pub hidden: Vec<usize>,
    /// n_l, the output's width.
    pub outputs: usize,
}

/// Which matrix of section 12.2 (k is 1-based).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Which {
    /// B_k: g~'s block k.
    Head(usize),
    /// M_k: block k's signed error matrix.
    Error(usize),
    /// W_k: f's layer k (k >= 2).
    Target(usize),
}

/// One relation h = "ReLU" of z = A s: it defines block `block` of w (of A's rows) from
/// block `source`.
#[derive(Debug, Clone)]
struct Relation {
    block: usize,
    source: usize,
    matrix: Which,
    /// Its multipliers must be >= 0 (a tail); otherwise any sign (the head).
    nonnegative: bool,
    /// The layer k, for messages.
    layer: usize,
}

/// The shape of one quadratic form: w's blocks (block 0 is u), the relations in multiplier
/// order, the output's pieces (block, matrix), and how many leading relations give
/// quantities (u, then each one's h and h - z).
#[derive(Debug, Clone)]
pub(super) struct Form {
    sizes: Vec<usize>,
    relations: Vec<Relation>,
    output: Vec<(usize, Which)>,
    quantity_relations: usize,
    outputs: usize,
}

impl Layout {
    /// n_k (k >= 1) or, for k = 0, the size of u.
    fn width(&self, k: usize) -> usize {
        if k == 0 {
            self.input
        } else {
            self.hidden
                .get(k.saturating_sub(1))
                .copied()
                .unwrap_or(self.outputs)
        }
    }

    /// Term i's form (section 12.3): w = (u, h_1, ..., h_{l-1}), relation k = 1..l-1 from
    /// block k-1 through A_k, A_l to the output.
    pub fn term(&self, i: usize) -> Form {
        let depth = self.hidden.len().saturating_add(1);
        let which = |k: usize| match k.cmp(&i) {
            std::cmp::Ordering::Less => Which::Head(k),
            std::cmp::Ordering::Equal => Which::Error(k),
            std::cmp::Ordering::Greater => Which::Target(k),
        };
        let relations = (1..depth)
            .map(|k| Relation {
                block: k,
                source: k.saturating_sub(1),
                matrix: which(k),
                nonnegative: k >= i,
                layer: k,
            })
            .collect();
        Form {
            sizes: (0..depth).map(|k| self.width(k)).collect(),
            relations,
            output: vec![(depth.saturating_sub(1), which(depth))],
            quantity_relations: i.saturating_sub(1),
            outputs: self.outputs,
        }
    }

    /// The joint form (section 12.10.1): u, the head y_1..y_{l-1}, then every chain's tail.
    pub fn joint(&self) -> Form {
        let depth = self.hidden.len().saturating_add(1);
        let mut sizes: Vec<usize> = (0..depth).map(|k| self.width(k)).collect();
        let mut relations: Vec<Relation> = (1..depth)
            .map(|k| Relation {
                block: k,
                source: k.saturating_sub(1),
                matrix: Which::Head(k),
                nonnegative: false,
                layer: k,
            })
            .collect();
        let last = depth.saturating_sub(1);
        let mut output = vec![(last, Which::Error(depth))];
        for i in 1..depth {
            let mut source = i.saturating_sub(1);
            for k in i..depth {
                let block = sizes.len();
                sizes.push(self.width(k));
                relations.push(Relation {
                    block,
                    source,
                    matrix: if k == i {
                        Which::Error(k)
                    } else {
                        Which::Target(k)
                    },
                    nonnegative: true,
                    layer: k,
                });
                source = block;
            }
            output.push((source, Which::Target(depth)));
        }
        Form {
            sizes,
            relations,
            output,
            quantity_relations: depth.saturating_sub(1),
            outputs: self.outputs,
        }
    }
}

impl Form {
    /// N, the side of Q.
    pub fn side(&self) -> usize {
        self.sizes
            .iter()
            .fold(0usize, |sum, &n| sum.saturating_add(n))
    }

    /// Where block s of w starts.
    fn offset(&self, s: usize) -> usize {
        self.sizes
            .iter()
            .take(s)
            .fold(0usize, |sum, &n| sum.saturating_add(n))
    }

    fn size(&self, s: usize) -> usize {
        self.sizes.get(s).copied().unwrap_or(0)
    }

    /// S: u, then h and h - z of every quantity relation.
    fn sign_count(&self) -> usize {
        self.relations
            .iter()
            .take(self.quantity_relations)
            .fold(self.size(0), |sum, r| {
                sum.saturating_add(self.size(r.block).saturating_mul(2))
            })
    }

    /// Quantity s as (the relation it belongs to, its entry j, whether it is h - z), or None
    /// for u_s.
    fn quantity(&self, s: usize) -> Option<(&Relation, usize, bool)> {
        let mut rest = s.checked_sub(self.size(0))?;
        for relation in self.relations.iter().take(self.quantity_relations) {
            let n = self.size(relation.block);
            if rest < n {
                return Some((relation, rest, false));
            }
            rest = rest.saturating_sub(n);
            if rest < n {
                return Some((relation, rest, true));
            }
            rest = rest.saturating_sub(n);
        }
        None
    }

    /// How many entries of w quantity s has: 1 for u_a and h_j, 1 + the source's size for
    /// h_j - z_j.
    fn terms_of(&self, s: usize) -> usize {
        match self.quantity(s) {
            Some((relation, _, true)) => self.size(relation.source).saturating_add(1),
            _ => 1,
        }
    }

    /// The matrices the form uses, each once.
    fn matrices(&self) -> Vec<Which> {
        let mut all: Vec<Which> = Vec::new();
        let used = self
            .relations
            .iter()
            .map(|r| r.matrix)
            .chain(self.output.iter().map(|o| o.1));
        for which in used {
            if !all.contains(&which) {
                all.push(which);
            }
        }
        all
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
    let form = layout.term(i);
    let lambda = read_lambda(&place, &format!("lambda_{i}"), &term.lipschitz, limits)?;
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
    let rows: Vec<(String, &Vec<Rational>)> = term
        .multipliers
        .iter()
        .enumerate()
        .map(|(k, row)| (format!("{place}.multipliers[{k}]"), row))
        .collect();
    let multipliers = read_multipliers(&rows, &form, limits, &|_| {
        format!("only the layers before block {i} may have multipliers of either sign")
    })?;
    let who = format!("term {i}");
    let products = read_products(&place, &who, &term.products, form.sign_count(), limits)?;
    let (shift, factor) = read_witness(&place, &term.witness, form.side(), limits)?;
    Ok(Term {
        lambda,
        multipliers,
        products,
        shift,
        factor,
    })
}

/// Parses `bound.joint` and checks its shape (docs/FORMAT.md section 12.10.3): l - 1 head
/// rows of n_1 .. n_{l-1} entries, l - 1 chains, chain i with rows for n_i .. n_{l-1},
/// every chain multiplier >= 0; products, lambda and witness as for a term.
pub(super) fn read_joint(
    joint: &JointBound,
    layout: &Layout,
    limits: &Limits,
) -> Result<Term, Rejection> {
    let place = "bound.joint";
    let form = layout.joint();
    let lambda = read_lambda(place, "the joint lambda", &joint.lipschitz, limits)?;
    let depth = layout.hidden.len();
    let count = |key: &str, found: usize, expected: usize, what: &str| {
        if found == expected {
            Ok(())
        } else {
            Err(reject(
                RejectionKind::Dimension,
                format!("{place}.{key}"),
                format!("expected {expected} {what}, found {found}"),
            ))
        }
    };
    count(
        "head",
        joint.head.len(),
        depth,
        "rows (one per hidden layer of the target)",
    )?;
    count(
        "chains",
        joint.chains.len(),
        depth,
        "chains (one per hidden layer of the target)",
    )?;
    let mut rows: Vec<(String, &Vec<Rational>)> = joint
        .head
        .iter()
        .enumerate()
        .map(|(k, row)| (format!("{place}.head[{k}]"), row))
        .collect();
    for (c, chain) in joint.chains.iter().enumerate() {
        count(
            &format!("chains[{c}]"),
            chain.len(),
            depth.saturating_sub(c),
            &format!("rows (layers {}..{depth})", c.saturating_add(1)),
        )?;
        rows.extend(
            chain
                .iter()
                .enumerate()
                .map(|(r, row)| (format!("{place}.chains[{c}][{r}]"), row)),
        );
    }
    let multipliers = read_multipliers(&rows, &form, limits, &|_| {
        "the chains' multipliers must be >= 0".to_string()
    })?;
    let products = read_products(
        place,
        "the joint form",
        &joint.products,
        form.sign_count(),
        limits,
    )?;
    let (shift, factor) = read_witness(place, &joint.witness, form.side(), limits)?;
    Ok(Term {
        lambda,
        multipliers,
        products,
        shift,
        factor,
    })
}

fn read_lambda(
    place: &str,
    name: &str,
    text: &Rational,
    limits: &Limits,
) -> Result<BigRational, Rejection> {
    let at = || format!("{place}.lipschitz");
    let lambda = parse_at(text, at, limits)?;
    if lambda.is_negative() {
        return Err(reject(
            RejectionKind::LipschitzTooSmall,
            at(),
            format!("claimed {name} = {} is negative", show(&lambda)),
        ));
    }
    Ok(lambda)
}

/// The multiplier rows (one per relation of `form`, each named by its place): each of its
/// relation's size, non-negative where the relation requires it (`why` says so, given the
/// layer).
fn read_multipliers(
    rows: &[(String, &Vec<Rational>)],
    form: &Form,
    limits: &Limits,
    why: &dyn Fn(usize) -> String,
) -> Result<Vec<Vec<BigRational>>, Rejection> {
    let mut multipliers = Vec::with_capacity(rows.len());
    for ((place, row), relation) in rows.iter().zip(&form.relations) {
        let (layer, n) = (relation.layer, form.size(relation.block));
        if row.len() != n {
            return Err(reject(
                RejectionKind::Dimension,
                place.clone(),
                format!("expected n_{layer} = {n} entries, found {}", row.len()),
            ));
        }
        let mut parsed = Vec::with_capacity(n);
        for (j, text) in row.iter().enumerate() {
            let at = || format!("{place}[{j}]");
            let t = parse_at(text, at, limits)?;
            if relation.nonnegative && t.is_negative() {
                return Err(invalid(
                    at(),
                    format!(
                        "multiplier {} of layer {layer} is negative; {}",
                        show(&t),
                        why(layer)
                    ),
                ));
            }
            parsed.push(t);
        }
        multipliers.push(parsed);
    }
    Ok(multipliers)
}

/// Products sorted by (a, b) without repetition, a <= b < `signs`, values >= 0.
fn read_products(
    place: &str,
    who: &str,
    list: &[(u64, u64, Rational)],
    signs: usize,
    limits: &Limits,
) -> Result<Vec<(usize, usize, BigRational)>, Rejection> {
    let mut products = Vec::with_capacity(list.len());
    let mut previous: Option<(u64, u64)> = None;
    for (e, (a, c, text)) in list.iter().enumerate() {
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
                    "an index is not below {signs}, the count of quantities {who} may multiply"
                ),
            ));
        };
        let v = parse_at(text, || format!("{place}.products[{e}][2]"), limits)?;
        if v.is_negative() {
            return Err(invalid(
                at(),
                format!("product weight {} is negative", show(&v)),
            ));
        }
        products.push((a, c, v));
    }
    Ok(products)
}

/// The witness: shift >= 0 and an upper-triangular factor of side `n`.
fn read_witness(
    place: &str,
    witness: &LipschitzWitness,
    n: usize,
    limits: &Limits,
) -> Result<(BigRational, Vec<Vec<BigRational>>), Rejection> {
    let wplace = format!("{place}.witness");
    let number = |text, at: &dyn Fn() -> String| parse_at(text, at, limits);
    let shift = number(&witness.shift, &|| format!("{wplace}.shift"))?;
    if shift.is_negative() {
        return Err(invalid(
            format!("{wplace}.shift"),
            format!("shift {} is negative", show(&shift)),
        ));
    }
    if witness.factor.len() != n {
        return Err(invalid(
            format!("{wplace}.factor"),
            format!("factor has {} rows; expected N = {n}", witness.factor.len()),
        ));
    }
    let mut factor = Vec::with_capacity(n);
    for (a, row) in witness.factor.iter().enumerate() {
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
    Ok((shift, factor))
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

/// Matrix `which` (docs/FORMAT.md section 12.2) as rows of rationals over its input (u for
/// k = 1, so twice as wide on a signed domain).
fn matrix(blocks: &[CheckedBlock], sums: &BlockSums, which: Which) -> Vec<Vec<BigRational>> {
    let unit = BigRational::from_integer(BigInt::one() << PRODUCT_SHIFT);
    let k = match which {
        Which::Head(k) | Which::Error(k) | Which::Target(k) => k,
    };
    let b = k.saturating_sub(1);
    let (Some(block), Some((p, q))) = (blocks.get(b), sums.get(b)) else {
        return Vec::new();
    };
    let w = |m: usize, t: usize| {
        block
            .target
            .weights
            .get(m.saturating_mul(block.target.cols).saturating_add(t))
            .cloned()
            .unwrap_or_default()
    };
    let cell = |sums: &PathSums, m: usize, t: usize| {
        BigRational::from_integer(sums.value(m.saturating_mul(block.target.cols).saturating_add(t)))
            / &unit
    };
    (0..block.target.rows)
        .map(|m| {
            let mut row: Vec<BigRational> = (0..block.target.cols)
                .map(|t| match which {
                    Which::Head(_) => cell(p, m, t),
                    Which::Error(_) => cell(p, m, t) - w(m, t),
                    Which::Target(_) => w(m, t),
                })
                .collect();
            if block.signed_input {
                // The columns of x- (taken as |min(x, 0)|): -Q, or W - Q for M_1.
                row.extend((0..block.target.cols).map(|t| match which {
                    Which::Head(_) => -cell(q, m, t),
                    Which::Error(_) => w(m, t) - cell(q, m, t),
                    Which::Target(_) => w(m, t),
                }));
            }
            row
        })
        .collect()
}

/// Word multiplications of the check of one form, for `--max-exact-work`.
fn work(form: &Form, term: &Term, bits: u64) -> f64 {
    let n = form.side() as f64;
    let columns = form
        .output
        .iter()
        .fold(0usize, |sum, &(s, _)| sum.saturating_add(form.size(s))) as f64;
    let widest = form.sizes.iter().copied().max().unwrap_or(0) as f64;
    let products: f64 = term
        .products
        .iter()
        .map(|&(a, c, _)| form.terms_of(a) as f64 * form.terms_of(c) as f64)
        .sum();
    let count = n * n * n / 6.0 + columns * columns * form.outputs as f64 + n * widest + products;
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
    check_form(
        &place,
        &format!("term {i}"),
        term,
        &layout.term(i),
        blocks,
        sums,
        limits,
    )
}

/// Decides the joint form (docs/FORMAT.md section 12.10).
pub(super) fn check_joint(
    joint: &Term,
    blocks: &[CheckedBlock],
    sums: &BlockSums,
    layout: &Layout,
    limits: &Limits,
) -> Result<(), Rejection> {
    check_form(
        "bound.joint",
        "the joint form",
        joint,
        &layout.joint(),
        blocks,
        sums,
        limits,
    )
}

/// Builds the Q of `form` with `term`'s numbers exactly and checks the witness; `who` names
/// the form in messages.
fn check_form(
    place: &str,
    who: &str,
    term: &Term,
    form: &Form,
    blocks: &[CheckedBlock],
    sums: &BlockSums,
    limits: &Limits,
) -> Result<(), Rejection> {
    let used = form.matrices();
    let matrices: Vec<Vec<Vec<BigRational>>> =
        used.iter().map(|&w| matrix(blocks, sums, w)).collect();

    // Denominators: d_A of every matrix used, d_t, d_v, d_lambda, d_s (shift), d_R.
    let d_a = denominator(
        matrices.iter().flatten().flatten(),
        limits,
        place,
        "the chain",
    )?;
    let d_t = denominator(
        term.multipliers.iter().flatten(),
        limits,
        place,
        "the multipliers",
    )?;
    let d_v = denominator(
        term.products.iter().map(|p| &p.2),
        limits,
        place,
        "the products",
    )?;
    let d_l = term.lambda.denom().clone();
    let d_s = term.shift.denom().clone();
    let d_r = denominator(term.factor.iter().flatten(), limits, place, "the factor")?;
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
    let estimate = work(form, term, bits);
    if estimate > limits.max_exact_work {
        return Err(reject(
            RejectionKind::Limit,
            place,
            format!(
                "checking {who} needs about {estimate:.3e} word multiplications, above the \
                 limit of {:.3e} (--max-exact-work)",
                limits.max_exact_work
            ),
        ));
    }

    let n = form.side();
    let at = |r: usize, c: usize| r.saturating_mul(n).saturating_add(c);
    let mut q = vec![BigInt::zero(); n.saturating_mul(n)];
    // Every matrix as integers over d_A, row-major, with its column count.
    let ints: Vec<(Over, usize)> = matrices
        .iter()
        .map(|m| {
            let cols = m.first().map_or(0, Vec::len);
            let flat: Vec<BigRational> = m.iter().flatten().cloned().collect();
            (Over::of(&flat, d_a.clone()), cols)
        })
        .collect();
    let a_at = |which: Which, j: usize, c: usize| -> BigInt {
        used.iter()
            .position(|&w| w == which)
            .and_then(|x| ints.get(x))
            .and_then(|(m, cols)| m.numer.get(j.saturating_mul(*cols).saturating_add(c)))
            .cloned()
            .unwrap_or_default()
    };

    // lambda^2 |u|^2
    let lambda2 = (term.lambda.numer() * term.lambda.numer()) * (&scale / (&d_l * &d_l));
    for a in 0..form.size(0) {
        q[at(a, a)] += &lambda2;
    }
    // - |Z|^2, Z the sum of the output's pieces A w_s
    let k_a2 = &scale / &a2;
    for &(s, x_which) in &form.output {
        for &(s2, y_which) in &form.output {
            let (off, off2) = (form.offset(s), form.offset(s2));
            for m in 0..form.outputs {
                for a in 0..form.size(s) {
                    let x = a_at(x_which, m, a);
                    if x.is_zero() {
                        continue;
                    }
                    for c in 0..form.size(s2) {
                        let y = a_at(y_which, m, c);
                        if !y.is_zero() {
                            q[at(off.saturating_add(a), off2.saturating_add(c))] -= &x * &y * &k_a2;
                        }
                    }
                }
            }
        }
    }
    // - 2 t h (z - h) for every entry of every relation
    let k_ta = &scale / (&d_t * &d_a);
    for (relation, row) in form.relations.iter().zip(&term.multipliers) {
        let (here, below) = (form.offset(relation.block), form.offset(relation.source));
        for (j, t) in row.iter().enumerate() {
            let t = t.numer() * (&d_t / t.denom());
            if t.is_zero() {
                continue;
            }
            let h = here.saturating_add(j);
            // 2 t h^2 over d_t: times d_A / d_A to share k_ta.
            q[at(h, h)] += (&t * &d_a * 2) * &k_ta;
            for c in 0..form.size(relation.source) {
                let x = a_at(relation.matrix, j, c);
                if !x.is_zero() {
                    let v = &t * &x * &k_ta;
                    let z = below.saturating_add(c);
                    q[at(h, z)] -= &v;
                    q[at(z, h)] -= v;
                }
            }
        }
    }
    // - v s_a s_b: s is u_a, h_j or h_j - z_j, a sparse vector over d_A.
    let sign_vector = |s: usize| -> Vec<(usize, BigInt)> {
        match form.quantity(s) {
            None => vec![(s, d_a.clone())],
            Some((relation, j, minus_z)) => {
                let h = form.offset(relation.block).saturating_add(j);
                let mut v = vec![(h, d_a.clone())];
                if minus_z {
                    let below = form.offset(relation.source);
                    v.extend(
                        (0..form.size(relation.source))
                            .map(|c| (below.saturating_add(c), -a_at(relation.matrix, j, c)))
                            .filter(|(_, x)| !x.is_zero()),
                    );
                }
                v
            }
        }
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
                 that the quadratic form of {who} is positive semidefinite",
                show(&d_squared),
                show(&shift_squared)
            ),
        ));
    }
    Ok(())
}
