//! Mutants of version 2's fields (docs/FORMAT.md section 12): each term's lambda,
//! multipliers, products and witness; epsilon and the radius against the telescoping bound
//! r * sum lambda_i; the version and the presence, count and order of the terms.
//!
//! Most of them move a number of a semidefinite certificate, whose effect only the exact
//! computation can tell, so they are `Decide`: the independent checker's verdict is the
//! truth and slth must agree with it. Shapes, signs, orders and indices that section 12.4
//! forbids name their kind.

use super::*;

fn term_path(t: usize, steps: &[Step]) -> Vec<Step> {
    let mut p = vec![key("bound"), key("terms"), idx(t)];
    p.extend_from_slice(steps);
    p
}

fn rational_at(base: &Json, path: &[Step]) -> BigRational {
    let mut j = base.clone();
    let text = j.at_mut(path).unwrap().as_str().unwrap().to_string();
    fp::parse_rational(&text).unwrap()
}

/// Scale factors below and above 1: far, near, and around f64 precision.
fn factors() -> Vec<(&'static str, BigRational, Expect)> {
    let (down, up) = nudges();
    let (lo30, hi30) = f64_scale_nudges()[0].clone();
    let (lo53, hi53) = f64_scale_nudges()[4].clone();
    vec![
        ("x 0", BigRational::zero(), Expect::Decide),
        ("x 1/2", rat(1, 2), Expect::Decide),
        ("x 9/10", rat(9, 10), Expect::Decide),
        ("x (1 - 2^-30)", lo30, Expect::Decide),
        ("x (1 - 2^-53)", lo53, Expect::Decide),
        ("x (1 - 1e-40)", down, Expect::Decide),
        ("x (1 + 1e-40)", up, Expect::Decide),
        ("x (1 + 2^-53)", hi53, Expect::Decide),
        ("x (1 + 2^-30)", hi30, Expect::Decide),
        ("x 11/10", rat(11, 10), Expect::Decide),
        ("x 2", rat(2, 1), Expect::Decide),
        ("x -1", rat(-1, 1), Expect::Decide),
    ]
}

/// Classes are `&'static str`: one per (field, factor).
fn class(field: &str, factor: &str) -> &'static str {
    Box::leak(
        format!("v2 {field} {factor}")
            .trim_end()
            .to_string()
            .into_boxed_str(),
    )
}

pub(crate) fn term_mutants(mk: &mut Maker, base: &Json, facts: &Facts, full: bool) {
    let terms = base
        .get("bound")
        .unwrap()
        .get("terms")
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(facts.terms.len(), terms.len(), "{}", mk.source);
    let cap = if full { 12 } else { 3 };
    for (t, (term, tf)) in terms.iter().zip(&facts.terms).enumerate() {
        let i = t + 1;
        lambda_mutants(mk, t, tf);
        multiplier_mutants(mk, t, i, tf, cap);
        product_mutants(mk, t, tf, cap);
        witness_mutants(mk, base, t, term, cap);
        mk.push(
            "v2 term with an unknown key",
            Expect::Invalid(Kind::Schema),
            |j| {
                j.at_mut(&term_path(t, &[]))
                    .unwrap()
                    .set("note", Json::str("x"));
            },
        );
        for name in ["lipschitz", "multipliers", "witness"] {
            mk.push(
                "v2 term without a required key",
                Expect::Invalid(Kind::Schema),
                |j| j.at_mut(&term_path(t, &[])).unwrap().remove(name),
            );
        }
    }
    epsilon_mutants(mk, facts);
    presence_mutants(mk, terms.len());
    // The chains are made of the target and the ticket: changing them moves Q.
    mk.push("v2 target weight W_l[0][0] + 1/4", Expect::Decide, |j| {
        let layers = j
            .at_mut(&path(&[key("target"), key("layers")]))
            .unwrap()
            .as_array_mut()
            .unwrap();
        let last = layers.len() - 1;
        let w = layers[last]
            .at_mut(&path(&[key("weights"), idx(0), idx(0)]))
            .unwrap();
        let x = fp::parse_rational(w.as_str().unwrap()).unwrap() + rat(1, 4);
        *w = text_of(&x);
    });
    mk.push(
        "v2 ticket: last output entry of block 1 removed",
        Expect::Decide,
        |j| {
            j.at_mut(&path(&[key("ticket"), idx(0), key("output")]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .pop();
        },
    );
    mk.push("v2 domain nonnegative flipped", Expect::Decide, |j| {
        let d = j.get_mut("domain").unwrap();
        let nonneg = d.get("nonnegative") == Some(&Json::Bool(true));
        d.set("nonnegative", Json::Bool(!nonneg));
    });
}

fn lambda_mutants(mk: &mut Maker, t: usize, tf: &fp::TermFacts) {
    let p = term_path(t, &[key("lipschitz")]);
    for (name, f, expect) in factors() {
        let expect = if name == "x -1" && tf.lambda.is_positive() {
            Expect::Invalid(Kind::LipschitzTooSmall)
        } else {
            expect
        };
        mk.set(
            class("lambda", name),
            expect,
            p.clone(),
            text_of(&(&tf.lambda * f)),
        );
    }
    let (n, d) = (tf.lambda.numer(), tf.lambda.denom());
    mk.set(
        "v2 lambda respelled unreduced",
        Expect::Valid,
        p.clone(),
        Json::str(format!("{}/{}", n * 3, d * 3)),
    );
    if let Some(dec) = decimal_of(&tf.lambda) {
        mk.set(
            "v2 lambda respelled as a decimal",
            Expect::Valid,
            p.clone(),
            Json::str(dec),
        );
    }
    mk.set(
        "v2 lambda as a JSON number",
        Expect::Invalid(Kind::Schema),
        p.clone(),
        Json::num(1),
    );
    mk.set(
        "v2 lambda malformed",
        Expect::Invalid(Kind::Number),
        p,
        Json::str("1/-2"),
    );
}

fn multiplier_mutants(mk: &mut Maker, t: usize, i: usize, tf: &fp::TermFacts, cap: usize) {
    let rows = &tf.multipliers;
    for (r, row) in rows.iter().enumerate() {
        let k = r + 1;
        for j in pick(row.len(), cap, false) {
            let x = &row[j];
            let p = term_path(t, &[key("multipliers"), idx(r), idx(j)]);
            let layer = if k >= i { "k >= i" } else { "k < i" };
            mk.set(
                class(&format!("multiplier ({layer}) sign flipped"), ""),
                if k >= i && x.is_positive() {
                    Expect::Invalid(Kind::WitnessInvalid)
                } else {
                    Expect::Decide
                },
                p.clone(),
                text_of(&-x),
            );
            for (name, f, _) in factors() {
                if name == "x -1" {
                    continue;
                }
                mk.set(
                    class(&format!("multiplier ({layer})"), name),
                    Expect::Decide,
                    p.clone(),
                    text_of(&(x * f)),
                );
            }
            mk.set(
                class(&format!("multiplier ({layer}) + 1/1000"), ""),
                Expect::Decide,
                p,
                text_of(&(x + rat(1, 1000))),
            );
        }
        mk.push(
            "v2 multiplier row: last entry removed",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&term_path(t, &[key("multipliers"), idx(r)]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
        );
        mk.push(
            "v2 multiplier row: entry \"0\" added",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&term_path(t, &[key("multipliers"), idx(r)]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .push(Json::str("0"));
            },
        );
    }
    let mp = term_path(t, &[key("multipliers")]);
    if !rows.is_empty() {
        mk.push(
            "v2 multipliers: last row removed",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&mp).unwrap().as_array_mut().unwrap().pop();
            },
        );
        mk.set(
            "v2 multiplier as a JSON number",
            Expect::Invalid(Kind::Schema),
            term_path(t, &[key("multipliers"), idx(0), idx(0)]),
            Json::num(0),
        );
    }
    mk.push(
        "v2 multipliers: a row added",
        Expect::Invalid(Kind::Dimension),
        |j| {
            j.at_mut(&mp)
                .unwrap()
                .as_array_mut()
                .unwrap()
                .push(Json::Arr(vec![]));
        },
    );
}

type Products = Vec<(usize, usize, BigRational)>;

fn product_entry(a: usize, b: usize, v: &BigRational) -> Json {
    Json::Arr(vec![Json::num(a), Json::num(b), text_of(v)])
}

fn product_mutants(mk: &mut Maker, t: usize, tf: &fp::TermFacts, cap: usize) {
    let list = &tf.products;
    let s = tf.quantities;
    let lp = term_path(t, &[key("products")]);
    let set_list = |mk: &mut Maker, class: &'static str, expect: Expect, l: Products| {
        let entries = Json::Arr(l.iter().map(|(a, b, v)| product_entry(*a, *b, v)).collect());
        mk.set(class, expect, lp.clone(), entries);
    };
    for q in pick(list.len(), cap, false) {
        let (a, b, v) = list[q].clone();
        let with = |f: &dyn Fn(&mut Products)| {
            let mut l = list.clone();
            f(&mut l);
            l
        };
        for (name, f, _) in factors() {
            let expect = if name == "x -1" && v.is_positive() {
                Expect::Invalid(Kind::WitnessInvalid)
            } else {
                Expect::Decide
            };
            set_list(
                mk,
                class("product value", name),
                expect,
                with(&|l| l[q].2 = &v * &f),
            );
        }
        set_list(
            mk,
            "v2 product value + 1",
            Expect::Decide,
            with(&|l| l[q].2 = &v + rat(1, 1)),
        );
        set_list(
            mk,
            "v2 product removed",
            Expect::Decide,
            with(&|l| {
                l.remove(q);
            }),
        );
        set_list(
            mk,
            "v2 product repeated",
            Expect::Invalid(Kind::WitnessInvalid),
            with(&|l| {
                l.insert(q, l[q].clone());
            }),
        );
        // Indices: b = S is beyond the quantities; a > b; a neighbour pair.
        set_list(
            mk,
            "v2 product b = S",
            Expect::Invalid(Kind::IndexOutOfRange),
            with(&|l| {
                l[q].1 = s;
            }),
        );
        if a < b {
            set_list(
                mk,
                "v2 product as [b, a]",
                Expect::Invalid(Kind::WitnessInvalid),
                with(&|l| {
                    l[q] = (b, a, v.clone());
                }),
            );
        }
        let moved: Vec<(usize, usize)> = [(a, b + 1), (a + 1, b), (a, b.saturating_sub(1))]
            .into_iter()
            .filter(|&(x, y)| x <= y && y < s && !list.iter().any(|p| (p.0, p.1) == (x, y)))
            .collect();
        for (x, y) in moved {
            // Moved, then the list sorted again: a legal product on other quantities.
            let mut l = with(&|l| l[q] = (x, y, v.clone()));
            l.sort_by_key(|p| (p.0, p.1));
            set_list(
                mk,
                "v2 product indices moved (list kept sorted)",
                Expect::Decide,
                l,
            );
        }
        if q + 1 < list.len() {
            set_list(
                mk,
                "v2 products: two neighbours swapped",
                Expect::Invalid(Kind::WitnessInvalid),
                with(&|l| {
                    l.swap(q, q + 1);
                }),
            );
        }
    }
    if list.len() >= 2 {
        set_list(
            mk,
            "v2 products reversed",
            Expect::Invalid(Kind::WitnessInvalid),
            list.iter().rev().cloned().collect(),
        );
    }
    // Additions at free pairs, keeping the order: small weights, and a large one.
    if s == 0 {
        return;
    }
    let free: Vec<(usize, usize)> = [(0, 0), (0, s - 1), (s - 1, s - 1), (s / 2, s / 2)]
        .into_iter()
        .filter(|&(a, b)| !list.iter().any(|p| (p.0, p.1) == (a, b)))
        .collect();
    for (a, b) in free {
        for (name, v) in [
            (
                "1e-30",
                BigRational::new(1.into(), BigInt::from(10).pow(30u32)),
            ),
            ("1/1000", rat(1, 1000)),
            ("1000", rat(1000, 1)),
        ] {
            let mut l = list.clone();
            l.push((a, b, v));
            l.sort_by_key(|p| (p.0, p.1));
            set_list(mk, class("product added, weight", name), Expect::Decide, l);
        }
        let mut l = list.clone();
        l.push((a, b, rat(-1, 1000)));
        l.sort_by_key(|p| (p.0, p.1));
        set_list(
            mk,
            "v2 product added with weight -1/1000",
            Expect::Invalid(Kind::WitnessInvalid),
            l,
        );
    }
    mk.push("v2 products key removed", Expect::Decide, |j| {
        j.at_mut(&term_path(t, &[])).unwrap().remove("products");
    });
    set_list(mk, "v2 products emptied", Expect::Decide, Vec::new());
    mk.set(
        "v2 products null",
        Expect::Invalid(Kind::Schema),
        lp.clone(),
        Json::Null,
    );
    mk.push(
        "v2 product with two elements",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&lp)
                .unwrap()
                .as_array_mut()
                .unwrap()
                .push(Json::Arr(vec![Json::num(0), Json::num(0)]));
        },
    );
    mk.push(
        "v2 product with a negative index",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&lp).unwrap().as_array_mut().unwrap().insert(
                0,
                Json::Arr(vec![Json::num(-1), Json::num(0), Json::str("0")]),
            );
        },
    );
    mk.push(
        "v2 product with a value as a JSON number",
        Expect::Invalid(Kind::Schema),
        |j| {
            let l = j.at_mut(&lp).unwrap().as_array_mut().unwrap();
            l.clear();
            l.push(Json::Arr(vec![Json::num(0), Json::num(0), Json::num(0)]));
        },
    );
}

fn witness_mutants(mk: &mut Maker, base: &Json, t: usize, term: &Json, cap: usize) {
    let sp = term_path(t, &[key("witness"), key("shift")]);
    let shift = rational_at(base, &sp);
    for (name, f, _) in factors() {
        let expect = if name == "x -1" && shift.is_positive() {
            Expect::Invalid(Kind::WitnessInvalid)
        } else {
            Expect::Decide
        };
        mk.set(
            class("witness shift", name),
            expect,
            sp.clone(),
            text_of(&(&shift * f)),
        );
    }
    let factor = term
        .get("witness")
        .unwrap()
        .get("factor")
        .unwrap()
        .as_array()
        .unwrap();
    let n = factor.len();
    for a in pick(n, cap, false) {
        let row = factor[a].as_array().unwrap();
        for c in pick(row.len(), cap.min(2), false) {
            let p = term_path(t, &[key("witness"), key("factor"), idx(a), idx(c)]);
            let x = rational_at(base, &p);
            for (name, f, _) in factors() {
                mk.set(
                    class("witness factor entry", name),
                    Expect::Decide,
                    p.clone(),
                    text_of(&(&x * f)),
                );
            }
            mk.set(
                class("witness factor entry + 1e-6", ""),
                Expect::Decide,
                p,
                text_of(&(&x + BigRational::new(1.into(), 1_000_000.into()))),
            );
        }
    }
    let fp_ = term_path(t, &[key("witness"), key("factor")]);
    if n > 0 {
        mk.push(
            "v2 witness factor: a row shortened",
            Expect::Invalid(Kind::WitnessInvalid),
            |j| {
                let rows = j.at_mut(&fp_).unwrap().as_array_mut().unwrap();
                rows[n / 2].as_array_mut().unwrap().pop();
            },
        );
        mk.push(
            "v2 witness factor: last row removed",
            Expect::Invalid(Kind::WitnessInvalid),
            |j| {
                j.at_mut(&fp_).unwrap().as_array_mut().unwrap().pop();
            },
        );
    }
    mk.push(
        "v2 witness factor: a row added",
        Expect::Invalid(Kind::WitnessInvalid),
        |j| {
            j.at_mut(&fp_)
                .unwrap()
                .as_array_mut()
                .unwrap()
                .push(Json::Arr(vec![]));
        },
    );
    mk.push("v2 witness factor: zero", Expect::Decide, |j| {
        for (a, row) in j
            .at_mut(&fp_)
            .unwrap()
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            *row = Json::Arr(vec![Json::str("0"); n - a]);
        }
    });
    mk.push(
        "v2 witness without shift",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&term_path(t, &[key("witness")]))
                .unwrap()
                .remove("shift");
        },
    );
}

fn epsilon_mutants(mk: &mut Maker, facts: &Facts) {
    let telescoping = facts
        .telescoping
        .clone()
        .expect("a version 2 source has its bound");
    let e_l = &facts.e_l;
    let (down, up) = nudges();
    let eps = path(&[key("bound"), key("epsilon")]);
    // Below the smaller bound: invalid; at or above either: valid. (With a joint form,
    // r * lambda is a third bound: the smallest of the three decides.)
    let mut min = if &telescoping < e_l {
        telescoping.clone()
    } else {
        e_l.clone()
    };
    if let Some(j) = facts.joint_bound.as_ref().filter(|j| *j < &min) {
        min = j.clone();
    }
    let max = if &telescoping < e_l {
        e_l.clone()
    } else {
        telescoping.clone()
    };
    mk.set(
        "v2 epsilon = r * sum lambda exactly",
        Expect::Valid,
        eps.clone(),
        text_of(&telescoping),
    );
    mk.set(
        "v2 epsilon = e_l exactly",
        Expect::Valid,
        eps.clone(),
        text_of(e_l),
    );
    if min.is_positive() {
        mk.set(
            "v2 epsilon = min(e_l, r sum lambda)(1 - 1e-40)",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps.clone(),
            text_of(&(&min * &down)),
        );
        for (lower, upper) in f64_scale_nudges() {
            mk.set(
                "v2 epsilon = min(e_l, r sum lambda)(1 - 2^-k)",
                Expect::Invalid(Kind::EpsilonTooSmall),
                eps.clone(),
                text_of(&(&min * &lower)),
            );
            mk.set(
                "v2 epsilon = min(e_l, r sum lambda)(1 + 2^-k)",
                Expect::Valid,
                eps.clone(),
                text_of(&(&min * &upper)),
            );
        }
    }
    mk.set(
        "v2 epsilon = min(e_l, r sum lambda)(1 + 1e-40)",
        Expect::Valid,
        eps.clone(),
        text_of(&(&min * &up)),
    );
    mk.set(
        "v2 epsilon = max(e_l, r sum lambda)(1 - 1e-40)",
        Expect::Valid,
        eps.clone(),
        text_of(&(&max * &down)),
    );
    // The radius: both bounds are linear in r, so the largest radius is epsilon / (min / r).
    if facts.radius.is_positive() && min.is_positive() {
        let rp = path(&[key("domain"), key("radius")]);
        let r_max = &facts.epsilon * &facts.radius / &min;
        mk.set(
            "v2 radius = largest certified radius",
            Expect::Valid,
            rp.clone(),
            text_of(&r_max),
        );
        mk.set(
            "v2 radius = largest (1 + 1e-40)",
            Expect::Invalid(Kind::EpsilonTooSmall),
            rp.clone(),
            text_of(&(&r_max * &up)),
        );
        mk.set(
            "v2 radius = largest (1 - 1e-40)",
            Expect::Valid,
            rp,
            text_of(&(&r_max * &down)),
        );
    }
}

fn presence_mutants(mk: &mut Maker, l: usize) {
    let vp = path(&[key("version")]);
    mk.set(
        "v2 version 1 with terms",
        Expect::Invalid(Kind::Header),
        vp.clone(),
        Json::num(1),
    );
    mk.set(
        "v2 version 3",
        Expect::Invalid(Kind::Header),
        vp.clone(),
        Json::num(3),
    );
    mk.set(
        "v2 version \"2\"",
        Expect::Invalid(Kind::Schema),
        vp,
        Json::str("2"),
    );
    let tp = path(&[key("bound"), key("terms")]);
    mk.push("v2 terms removed", Expect::Invalid(Kind::Header), |j| {
        j.get_mut("bound").unwrap().remove("terms");
    });
    mk.push("v2 terms removed and version 1", Expect::Decide, |j| {
        j.get_mut("bound").unwrap().remove("terms");
        j.set("version", Json::num(1));
    });
    mk.push(
        "v2 last term removed",
        Expect::Invalid(Kind::Dimension),
        |j| {
            j.at_mut(&tp).unwrap().as_array_mut().unwrap().pop();
        },
    );
    mk.push(
        "v2 first term repeated at the end",
        Expect::Invalid(Kind::Dimension),
        |j| {
            let terms = j.at_mut(&tp).unwrap().as_array_mut().unwrap();
            let first = terms[0].clone();
            terms.push(first);
        },
    );
    mk.set(
        "v2 terms emptied",
        Expect::Invalid(Kind::Dimension),
        tp.clone(),
        Json::Arr(vec![]),
    );
    mk.set(
        "v2 terms null",
        Expect::Invalid(Kind::Schema),
        tp.clone(),
        Json::Null,
    );
    if l >= 2 {
        mk.push("v2 terms 1 and 2 swapped", Expect::Decide, |j| {
            j.at_mut(&tp).unwrap().as_array_mut().unwrap().swap(0, 1);
        });
    }
    mk.push(
        "v2 a term as an array of its values",
        Expect::Invalid(Kind::Schema),
        |j| {
            let t = j
                .at_mut(&path(&[key("bound"), key("terms"), idx(0)]))
                .unwrap();
            let Json::Obj(members) = t.clone() else {
                panic!()
            };
            *t = Json::Arr(members.into_iter().map(|(_, v)| v).collect());
        },
    );
}
