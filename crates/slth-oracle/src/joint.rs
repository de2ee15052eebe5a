//! Version 2's joint form, written from docs/FORMAT.md section 12.10 alone: the variable
//! (u, g~'s head y_1..y_{l-1}, every chain's tail h^(i)_i..h^(i)_{l-1}), its relations,
//! output pieces and quantities (12.10.1), the form Q (12.10.2) and the checks of
//! 12.10.3. It reuses the terms' own pieces of the oracle (`terms.rs`): the matrices
//! B_k, M_k, W_k of section 12.2 ([`Network::chain`]), the quantities of term l, which
//! section 12.10.1 names as the joint form's, the products' reading and step 4, and the
//! witness inequality.

use crate::terms::{
    Matrix, Network, numbers, read_products, read_witness, subtract_products, witness_holds,
};
use crate::*;

/// What the joint form says, read from first principles; used to make mutants.
#[derive(Debug, Clone)]
pub struct JointFacts {
    /// lambda as written.
    pub lambda: BigRational,
    /// S, the number of quantities a product may multiply.
    pub quantities: usize,
    /// N, the side of Q and of the witness factor.
    pub side: usize,
    /// The head's multipliers as written (row k-1: relation "head, k").
    pub head: Vec<Vec<BigRational>>,
    /// The chains' multipliers as written (entry i-1, row k-i: relation "chain i, k").
    pub chains: Vec<Vec<Vec<BigRational>>>,
    /// The products as written, (a, b, v).
    pub products: Vec<(usize, usize, BigRational)>,
}

/// The blocks of w (section 12.10.1) and their offsets, from n_0..n_l and m_0.
pub(crate) struct Layout {
    l: usize,
    m0: usize,
    /// n_0, ..., n_l
    widths: Vec<usize>,
    /// o(y_k) for k = 0..l-1 (y_0 = u at 0)
    head: Vec<usize>,
    /// o(h^(i)_k) at [i-1][k-i]
    tails: Vec<Vec<usize>>,
    /// N
    side: usize,
}

impl Layout {
    pub(crate) fn new(widths: &[usize], m0: usize) -> Layout {
        let l = widths.len() - 1;
        let mut pos = m0;
        let mut head = vec![0];
        for k in 1..l {
            head.push(pos);
            pos += widths[k];
        }
        let mut tails = Vec::new();
        for i in 1..l {
            let mut chain = Vec::new();
            for k in i..l {
                chain.push(pos);
                pos += widths[k];
            }
            tails.push(chain);
        }
        Layout {
            l,
            m0,
            widths: widths.to_vec(),
            head,
            tails,
            side: pos,
        }
    }

    /// N without building the layout, saturating (for the undecided limit).
    pub(crate) fn side_of(widths: &[usize], m0: usize) -> usize {
        let l = widths.len() - 1;
        let mut n = m0;
        for k in 1..l {
            // y_k, and h^(i)_k for every chain i <= k.
            n = n.saturating_add(widths[k].saturating_mul(k + 1));
        }
        n
    }

    /// S = m_0 + 2 (n_1 + ... + n_{l-1}).
    pub(crate) fn quantities(widths: &[usize], m0: usize) -> usize {
        let l = widths.len() - 1;
        widths[1..l.max(1)]
            .iter()
            .fold(m0, |s, &n| s.saturating_add(n.saturating_mul(2)))
    }

    fn tail(&self, i: usize, k: usize) -> usize {
        self.tails[i - 1][k - i]
    }
}

/// The joint form's numbers; `None` entries were unreadable or misshapen (reported).
struct Joint {
    lambda: Option<BigRational>,
    head: Option<Matrix>,
    chains: Option<Vec<Matrix>>,
    products: Option<Vec<(usize, usize, BigRational)>>,
    shift: Option<BigRational>,
    factor: Option<Matrix>,
}

fn shape_violation(place: String, what: String) -> Violation {
    violation(&[Kind::Dimension, Kind::WitnessInvalid], place, what)
}

/// The checks of section 12.10.3 that need no matrix: every number, lambda >= 0, the
/// shapes of `head`, `chains`, the products and the witness, the chains' signs, the
/// products' order. `widths` are n_0..n_l.
fn read_joint(text: &JointText, widths: &[usize], m0: usize, out: &mut Vec<Violation>) -> Joint {
    let place = "bound.joint";
    let l = widths.len() - 1;
    let lambda = number(&text.lipschitz, &format!("{place}.lipschitz"), out);
    if lambda.as_ref().is_some_and(Signed::is_negative) {
        out.push(violation(
            &[Kind::LipschitzTooSmall, Kind::WitnessInvalid],
            format!("{place}.lipschitz"),
            "lambda < 0",
        ));
    }

    // head: l - 1 rows, row k-1 with n_k entries, any sign.
    let hplace = format!("{place}.head");
    let mut head = numbers(&text.head, &hplace, out);
    if text.head.len() != l.saturating_sub(1) {
        head = None;
        out.push(shape_violation(
            hplace.clone(),
            format!("{} rows, l - 1 = {}", text.head.len(), l.saturating_sub(1)),
        ));
    }
    for (r, row) in text.head.iter().enumerate() {
        let k = r + 1;
        if k < l && row.len() != widths[k] {
            head = None;
            out.push(shape_violation(
                format!("{hplace}[{r}]"),
                format!("{} entries, n_{k} = {}", row.len(), widths[k]),
            ));
        }
    }

    // chains: l - 1 entries, chain i with l - i rows, row k-i with n_k entries, all >= 0.
    let cplace = format!("{place}.chains");
    let mut chains = Some(Vec::new());
    if text.chains.len() != l.saturating_sub(1) {
        chains = None;
        out.push(shape_violation(
            cplace.clone(),
            format!(
                "{} chains, l - 1 = {}",
                text.chains.len(),
                l.saturating_sub(1)
            ),
        ));
    }
    for (c, chain) in text.chains.iter().enumerate() {
        let i = c + 1;
        let here = format!("{cplace}[{c}]");
        let rows = numbers(chain, &here, out);
        let mut ok = rows.is_some();
        if i < l && chain.len() != l - i {
            ok = false;
            out.push(shape_violation(
                here.clone(),
                format!("{} rows, l - i = {}", chain.len(), l - i),
            ));
        }
        for (r, row) in chain.iter().enumerate() {
            let k = i + r;
            if k < l && row.len() != widths[k] {
                ok = false;
                out.push(shape_violation(
                    format!("{here}[{r}]"),
                    format!("{} entries, n_{k} = {}", row.len(), widths[k]),
                ));
            }
        }
        if let Some(rows) = &rows {
            for (r, row) in rows.iter().enumerate() {
                for (j, t) in row.iter().enumerate() {
                    if t.is_negative() {
                        out.push(violation(
                            &[Kind::WitnessInvalid],
                            format!("{here}[{r}][{j}]"),
                            format!("a multiplier of chain {i} < 0"),
                        ));
                    }
                }
            }
        }
        match (ok, rows, chains.as_mut()) {
            (true, Some(rows), Some(list)) => list.push(rows),
            _ => chains = None,
        }
    }

    let s = Layout::quantities(widths, m0);
    let products = read_products(&text.products, s, place, out);
    let n = Layout::side_of(widths, m0);
    let (shift, factor) = read_witness(
        &text.shift,
        &text.factor,
        n,
        &format!("{place}.witness"),
        out,
    );
    Joint {
        lambda,
        head,
        chains,
        products,
        shift,
        factor,
    }
}

/// Q of section 12.10.2, steps 1 to 4.
fn form(
    network: &Network,
    lay: &Layout,
    lambda: &BigRational,
    head: &[Vec<BigRational>],
    chains: &[Matrix],
    products: &[(usize, usize, BigRational)],
) -> Matrix {
    let l = lay.l;
    let n = lay.side;
    // B_k = A_k of term l for k < l; M_k = A_k of term k; W_k = f's layer k.
    let b: Vec<Matrix> = (1..l).map(|k| network.chain(l, k)).collect();
    let m: Vec<Matrix> = (1..=l).map(|k| network.chain(k, k)).collect();
    let w = |k: usize| network.weights[k - 1];
    let mut q = vec![vec![BigRational::zero(); n]; n];

    // 1. lambda^2 on u.
    let l2 = lambda * lambda;
    for p in 0..lay.m0 {
        q[p][p] += &l2;
    }

    // 2. minus Z^T Z, Z the sum of the pieces (A, s) written as one n_l x N matrix: the
    // sum over every ordered pair of pieces of A^T A' at (o(s), o(s')).
    let pieces: Vec<(&Matrix, usize)> = if l == 1 {
        vec![(&m[0], 0)]
    } else {
        let mut v = vec![(&m[l - 1], lay.head[l - 1])];
        for i in 1..l {
            v.push((w(l), lay.tail(i, l - 1)));
        }
        v
    };
    let mut z = vec![vec![BigRational::zero(); n]; lay.widths[l]];
    for (a, o) in &pieces {
        for (row, zrow) in a.iter().zip(z.iter_mut()) {
            for (c, x) in row.iter().enumerate() {
                zrow[o + c] += x;
            }
        }
    }
    let (z_ints, d_z) = over_common_denominator(&z.iter().flatten().collect::<Vec<_>>());
    let d_z2 = &d_z * &d_z;
    for p in 0..n {
        for r in p..n {
            let dot: BigInt = (0..z.len())
                .map(|row| &z_ints[row * n + p] * &z_ints[row * n + r])
                .sum();
            if dot.is_zero() {
                continue;
            }
            let x = BigRational::new(dot, d_z2.clone());
            if p != r {
                q[r][p] -= &x;
            }
            q[p][r] -= x;
        }
    }

    // 3. the relations: (h offset, s offset, A, multipliers).
    let mut relations: Vec<(usize, usize, &Matrix, &Vec<BigRational>)> = Vec::new();
    for k in 1..l {
        relations.push((lay.head[k], lay.head[k - 1], &b[k - 1], &head[k - 1]));
    }
    for i in 1..l {
        relations.push((
            lay.tail(i, i),
            lay.head[i - 1],
            &m[i - 1],
            &chains[i - 1][0],
        ));
        for k in i + 1..l {
            relations.push((
                lay.tail(i, k),
                lay.tail(i, k - 1),
                w(k),
                &chains[i - 1][k - i],
            ));
        }
    }
    let two = BigRational::from_integer(2.into());
    for (oh, os, a, ts) in relations {
        for (j, t) in ts.iter().enumerate() {
            if t.is_zero() {
                continue;
            }
            let h = oh + j;
            q[h][h] += t * &two;
            for (c, x) in a[j].iter().enumerate() {
                if x.is_zero() {
                    continue;
                }
                let y = t * x;
                q[h][os + c] -= &y;
                q[os + c][h] -= y;
            }
        }
    }

    // 4. the products, over the quantities of term l (u, then y_k and y_k - B_k y_{k-1}),
    // which sit at the same positions in the joint form's w.
    let chain_l: Vec<Matrix> = (1..=l).map(|k| network.chain(l, k)).collect();
    let sigma = network.quantity_vectors(l, &chain_l);
    subtract_products(&mut q, &sigma, products);
    q
}

impl Checker {
    /// Section 12.10: pushes every violation of the joint form (and of its presence), and
    /// returns what it says and r * lambda when defined (version 2, a readable lambda and
    /// radius), with whether a present joint form's lambda was unreadable.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check_joint(
        &self,
        c: &Parsed,
        dims: &[u64],
        weights: &[Option<Matrix>],
        paths: &[Option<Vec<Path>>],
        structure_ok: bool,
        radius: Option<&BigRational>,
        out: &mut Vec<Violation>,
        undecided: &mut Option<String>,
    ) -> (Option<JointFacts>, Option<BigRational>, bool) {
        let Some(text) = &c.joint else {
            return (None, None, false);
        };
        match c.version {
            2 => {}
            1 => {
                out.push(violation(
                    &[Kind::Header, Kind::Schema],
                    "bound.joint",
                    "joint in a version 1 certificate",
                ));
                return (None, None, false);
            }
            // Another version: already a header violation.
            _ => return (None, None, false),
        }
        let l = c.layers.len();
        if l == 0 {
            return (None, None, false);
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
        let joint = read_joint(text, &widths, m0, out);
        let bound = match (radius, &joint.lambda) {
            (Some(r), Some(lambda)) => Some(r * lambda),
            _ => None,
        };
        let unread = joint.lambda.is_none();

        let side = Layout::side_of(&widths, m0);
        let defined = structure_ok
            && weights.iter().all(Option::is_some)
            && paths.iter().all(Option::is_some);
        let (Some(lambda), Some(head), Some(chains), Some(products), true) = (
            &joint.lambda,
            &joint.head,
            &joint.chains,
            &joint.products,
            defined,
        ) else {
            return (None, bound, unread);
        };
        let facts = JointFacts {
            lambda: lambda.clone(),
            quantities: Layout::quantities(&widths, m0),
            side,
            head: head.clone(),
            chains: chains.clone(),
            products: products.clone(),
        };
        if side > self.max_witness_side {
            *undecided = Some(format!("joint form of side N = {side}"));
            return (Some(facts), bound, unread);
        }
        let (Some(shift), Some(factor)) = (&joint.shift, &joint.factor) else {
            return (Some(facts), bound, unread);
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        ("joint", text, c.nonnegative, c.input_dim, &c.seed).hash(&mut h);
        for layer in &c.layers {
            layer.weights.hash(&mut h);
        }
        c.ticket.hash(&mut h);
        let memo = h.finish();
        let cached = self.terms.lock().unwrap().get(&memo).copied();
        let holds = cached.unwrap_or_else(|| {
            let network = Network::new(
                widths.clone(),
                weights.iter().map(|w| w.as_ref().unwrap()).collect(),
                &paths
                    .iter()
                    .map(|p| p.as_deref().unwrap())
                    .collect::<Vec<_>>(),
                signed,
            );
            let lay = Layout::new(&widths, m0);
            let q = form(&network, &lay, lambda, head, chains, products);
            let holds = witness_holds(&q, shift, factor);
            self.terms.lock().unwrap().insert(memo, holds);
            holds
        });
        if !holds {
            out.push(violation(
                &[Kind::WitnessInvalid],
                "bound.joint.witness",
                "sum D^2 > shift^2 for D = Q - shift I - R^T R",
            ));
        }
        (Some(facts), bound, unread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(name: &str) -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        std::fs::read_to_string(root.join("certificates/v2").join(name)).unwrap()
    }

    fn rat(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn the_layout_follows_section_12_10_1() {
        // n = 3, 8, 8, 1 on a signed domain: u 6, y_1 8, y_2 8, h^(1)_1 8, h^(1)_2 8, h^(2)_2 8.
        let lay = Layout::new(&[3, 8, 8, 1], 6);
        assert_eq!(lay.head, [0, 6, 14]);
        assert_eq!(lay.tails, [vec![22, 30], vec![38]]);
        assert_eq!(lay.side, 46);
        assert_eq!(Layout::side_of(&[3, 8, 8, 1], 6), 46);
        assert_eq!(Layout::quantities(&[3, 8, 8, 1], 6), 6 + 32);
        // l = 1: w is u alone, and only u is a quantity.
        assert_eq!(Layout::side_of(&[4, 2], 8), 8);
        assert_eq!(Layout::new(&[4, 2], 8).side, 8);
        assert_eq!(Layout::quantities(&[4, 2], 8), 8);
    }

    /// Q as built in steps 1 to 4 against V(w) evaluated straight from its definition in
    /// section 12.10.2, at a few rational points w (entries of both signs), on a 3-layer
    /// signed network with every relation, product and output piece present.
    #[test]
    fn the_form_is_v_of_its_definition() {
        let widths = [2usize, 3, 2, 2];
        let l = 3;
        let m0 = 4;
        let w1 = vec![
            vec![rat(1, 2), rat(-1, 3)],
            vec![rat(1, 5), rat(2, 7)],
            vec![rat(-3, 4), rat(1, 9)],
        ];
        let w2 = vec![
            vec![rat(1, 3), rat(-1, 2), rat(1, 4)],
            vec![rat(2, 5), rat(1, 6), rat(-1, 7)],
        ];
        let w3 = vec![vec![rat(3, 5), rat(-2, 9)], vec![rat(1, 8), rat(5, 6)]];
        // Kept paths (m, t, V, U), values over 2^53: both signs of U on block 1.
        let big = 1i64 << 50;
        let p1: Vec<Path> = vec![
            (0, 0, big, big),
            (0, 1, -big / 2, -big),
            (2, 1, big / 4, big),
        ];
        let p2: Vec<Path> = vec![(1, 2, big, big / 3), (0, 0, -big, big)];
        let p3: Vec<Path> = vec![(1, 1, big, big)];
        let weights = [&w1, &w2, &w3];
        let network = Network::new(
            widths.to_vec(),
            weights.to_vec(),
            &[&p1[..], &p2[..], &p3[..]],
            true,
        );
        let lay = Layout::new(&widths, m0);
        assert_eq!(lay.side, 4 + 3 + 2 + 3 + 2 + 2);
        let lambda = rat(7, 3);
        let head = vec![
            vec![rat(1, 2), rat(-1, 3), rat(2, 1)],
            vec![rat(-1, 4), rat(3, 2)],
        ];
        let chains = vec![
            vec![
                vec![rat(1, 3), rat(0, 1), rat(5, 4)],
                vec![rat(2, 3), rat(1, 7)],
            ],
            vec![vec![rat(3, 2), rat(1, 5)]],
        ];
        let s = Layout::quantities(&widths, m0);
        assert_eq!(s, 4 + 2 * 5);
        let products = vec![
            (0, 0, rat(1, 2)),
            (1, 5, rat(1, 3)),
            (4, 9, rat(2, 7)),
            (7, 13, rat(1, 11)),
            (13, 13, rat(3, 1)),
        ];
        let q = form(&network, &lay, &lambda, &head, &chains, &products);

        let b: Vec<Matrix> = (1..l).map(|k| network.chain(l, k)).collect();
        let m: Vec<Matrix> = (1..=l).map(|k| network.chain(k, k)).collect();
        let apply = |a: &Matrix, x: &[BigRational]| -> Vec<BigRational> {
            a.iter()
                .map(|row| row.iter().zip(x).map(|(p, q)| p * q).sum())
                .collect()
        };
        let n = lay.side;
        for seed in 1..4i64 {
            let w: Vec<BigRational> = (0..n as i64)
                .map(|p| rat((p * 7 + seed * 3) % 11 - 5, 1 + (p + seed) % 4))
                .collect();
            let block = |o: usize, len: usize| w[o..o + len].to_vec();
            let u = block(0, m0);
            let y = |k: usize| {
                if k == 0 {
                    u.clone()
                } else {
                    block(lay.head[k], widths[k])
                }
            };
            let h = |i: usize, k: usize| block(lay.tail(i, k), widths[k]);
            // Z = M_l y_{l-1} + sum_i W_l h^(i)_{l-1}
            let mut z = apply(&m[l - 1], &y(l - 1));
            for i in 1..l {
                for (zj, x) in z.iter_mut().zip(apply(&w3, &h(i, l - 1))) {
                    *zj += x;
                }
            }
            let mut v: BigRational =
                &lambda * &lambda * u.iter().map(|x| x * x).sum::<BigRational>()
                    - z.iter().map(|x| x * x).sum::<BigRational>();
            let mut relation = |hv: Vec<BigRational>, zv: Vec<BigRational>, t: &[BigRational]| {
                for j in 0..hv.len() {
                    v -= rat(2, 1) * &t[j] * &hv[j] * (&zv[j] - &hv[j]);
                }
            };
            for k in 1..l {
                relation(y(k), apply(&b[k - 1], &y(k - 1)), &head[k - 1]);
            }
            for i in 1..l {
                relation(h(i, i), apply(&m[i - 1], &y(i - 1)), &chains[i - 1][0]);
                for k in i + 1..l {
                    let a = if k == 2 { &w2 } else { &w3 };
                    relation(h(i, k), apply(a, &h(i, k - 1)), &chains[i - 1][k - i]);
                }
            }
            // The quantities: u, then y_k and y_k - B_k y_{k-1}.
            let mut quantity = u.clone();
            for k in 1..l {
                let bk = apply(&b[k - 1], &y(k - 1));
                quantity.extend(y(k));
                quantity.extend(y(k).iter().zip(&bk).map(|(a, c)| a - c));
            }
            for (a, bb, val) in &products {
                v -= val * &quantity[*a] * &quantity[*bb];
            }
            let mut wqw = BigRational::zero();
            for p in 0..n {
                for r in 0..n {
                    assert_eq!(q[p][r], q[r][p], "Q is symmetric");
                    wqw += &w[p] * &q[p][r] * &w[r];
                }
            }
            assert_eq!(wqw, v, "w^T Q w = V(w) at seed {seed}");
        }
    }

    #[test]
    fn the_committed_joint_certificates_are_valid_and_their_lambda_matters() {
        let checker = Checker::default();
        for name in ["tiny-3-2-1-joint.json", "random-8-8-8-1-joint.json"] {
            let text = committed(name);
            let root = json::parse(&text, 128).unwrap();
            let (verdict, facts) = checker.check_with_facts(&root);
            assert!(verdict.is_valid(), "{name}: {verdict:?}");
            let facts = facts.unwrap();
            let joint = facts.joint.unwrap();
            assert_eq!(
                facts.joint_bound.clone().unwrap(),
                &facts.radius * &joint.lambda,
                "{name}"
            );
            assert!(facts.joint_bound.unwrap() <= facts.epsilon);
            assert!(
                facts.e_l > facts.epsilon,
                "{name}: e_l alone covers epsilon"
            );
            // lambda x 9/10, with epsilon left alone: the witness no longer proves Q PSD.
            let lowered = text.replacen(
                &format!("\"lipschitz\": \"{}\"", show(&joint.lambda)),
                &format!("\"lipschitz\": \"{}\"", show(&(&joint.lambda * rat(9, 10)))),
                1,
            );
            assert_ne!(lowered, text);
            let verdict = checker.check_text(&lowered);
            let Verdict::Invalid(v) = verdict else {
                panic!("{name}: {verdict:?}")
            };
            assert!(
                v.iter().any(|v| v.place == "bound.joint.witness"),
                "{name}: {v:?}"
            );
        }
    }
}
