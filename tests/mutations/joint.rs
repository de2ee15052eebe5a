//! Mutants of version 2's joint form (docs/FORMAT.md section 12.10): its lambda, the head's
//! and the chains' multipliers, the products, the witness's factor and shift, rows added and
//! removed, keys removed and added, the version, and epsilon against r * lambda.
//!
//! As for the terms, a moved number of the semidefinite certificate is `Decide`: the
//! independent checker's verdict is the truth and slth must agree with it. Shapes, signs,
//! orders and indices that section 12.10.3 forbids name their kind. A few dozen per source:
//! the default campaign runs them on the small `v2/tiny-3-2-1-joint.json`.

use super::*;

type Products = Vec<(usize, usize, BigRational)>;

fn joint_path(steps: &[Step]) -> Vec<Step> {
    let mut p = vec![key("bound"), key("joint")];
    p.extend_from_slice(steps);
    p
}

fn rational_at(base: &Json, path: &[Step]) -> BigRational {
    let mut j = base.clone();
    let text = j.at_mut(path).unwrap().as_str().unwrap().to_string();
    fp::parse_rational(&text).unwrap()
}

/// A few scale factors: far and near below 1, around f64 precision, above.
fn factors() -> Vec<(&'static str, BigRational)> {
    let (lo30, hi30) = f64_scale_nudges()[0].clone();
    vec![
        ("x 0", BigRational::zero()),
        ("x 1/2", rat(1, 2)),
        ("x (1 - 2^-30)", lo30),
        ("x (1 + 2^-30)", hi30),
        ("x 2", rat(2, 1)),
    ]
}

fn class(what: &str, factor: &str) -> &'static str {
    Box::leak(
        format!("joint {what} {factor}")
            .trim_end()
            .to_string()
            .into_boxed_str(),
    )
}

pub(crate) fn joint_mutants(mk: &mut Maker, base: &Json, facts: &Facts) {
    let jf = facts
        .joint
        .clone()
        .expect("a source with joint has its facts");
    let bound = base.get("bound").unwrap();
    // Whether the certificate stays a version 2 one without `joint`.
    let other_claims = bound.get("terms").is_some()
        || bound
            .get("blocks")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b.get("error_method").is_some());

    // lambda: scaled (the witness decides), negated (check 1), respelled.
    let lp = joint_path(&[key("lipschitz")]);
    for (name, f) in factors() {
        mk.set(
            class("lambda", name),
            Expect::Decide,
            lp.clone(),
            text_of(&(&jf.lambda * f)),
        );
    }
    if jf.lambda.is_positive() {
        mk.set(
            "joint lambda x -1",
            Expect::Invalid(Kind::LipschitzTooSmall),
            lp.clone(),
            text_of(&-&jf.lambda),
        );
    }
    let (n, d) = (jf.lambda.numer(), jf.lambda.denom());
    mk.set(
        "joint lambda respelled unreduced",
        Expect::Valid,
        lp,
        Json::str(format!("{}/{}", n * 7, d * 7)),
    );

    // The head's multipliers: any sign, so every change is decided by the witness.
    if let Some(row) = jf.head.first() {
        for j in pick(row.len(), 2, false) {
            let p = joint_path(&[key("head"), idx(0), idx(j)]);
            let x = &row[j];
            mk.set(
                "joint head multiplier sign flipped",
                Expect::Decide,
                p.clone(),
                text_of(&-x),
            );
            mk.set(
                "joint head multiplier x 2",
                Expect::Decide,
                p,
                text_of(&(x * rat(2, 1))),
            );
        }
    }
    // The chains' multipliers: >= 0.
    if let Some(row) = jf.chains.first().and_then(|c| c.first()) {
        for j in pick(row.len(), 2, false) {
            let p = joint_path(&[key("chains"), idx(0), idx(0), idx(j)]);
            let x = &row[j];
            mk.set(
                "joint chain multiplier sign flipped",
                if x.is_positive() {
                    Expect::Invalid(Kind::WitnessInvalid)
                } else {
                    Expect::Decide
                },
                p.clone(),
                text_of(&-x),
            );
            mk.set(
                "joint chain multiplier x 1/2",
                Expect::Decide,
                p,
                text_of(&(x * rat(1, 2))),
            );
        }
    }

    // Shapes of head and chains (check 2).
    let l1 = jf.head.len();
    if l1 > 0 {
        mk.push(
            "joint head: last row removed",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&joint_path(&[key("head")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
        );
        mk.push(
            "joint head row: entry \"0\" added",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&joint_path(&[key("head"), idx(0)]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .push(Json::str("0"));
            },
        );
        mk.push(
            "joint chains: last chain removed",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&joint_path(&[key("chains")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
        );
        mk.push(
            "joint chain 1: a row of zeros added",
            Expect::Invalid(Kind::Dimension),
            |j| {
                let rows = j
                    .at_mut(&joint_path(&[key("chains"), idx(0)]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap();
                let width = rows[0].as_array().unwrap().len();
                rows.push(Json::Arr(vec![Json::str("0"); width]));
            },
        );
        mk.push(
            "joint chain 1 row 0: last entry removed",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&joint_path(&[key("chains"), idx(0), idx(0)]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .pop();
            },
        );
    }
    mk.push(
        "joint head: a row added",
        Expect::Invalid(Kind::Dimension),
        |j| {
            j.at_mut(&joint_path(&[key("head")]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .push(Json::Arr(vec![]));
        },
    );

    // Products (check 3).
    let list = &jf.products;
    let s = jf.quantities;
    let entries = |l: &[(usize, usize, BigRational)]| {
        Json::Arr(
            l.iter()
                .map(|(a, b, v)| Json::Arr(vec![Json::num(*a), Json::num(*b), text_of(v)]))
                .collect(),
        )
    };
    let pp = joint_path(&[key("products")]);
    if let Some((a, b, v)) = list.first().cloned() {
        let with = |f: &dyn Fn(&mut Products)| {
            let mut l = list.clone();
            f(&mut l);
            entries(&l)
        };
        mk.set(
            "joint product value x 1/2",
            Expect::Decide,
            pp.clone(),
            with(&|l| l[0].2 = &v * rat(1, 2)),
        );
        mk.set(
            "joint product value x -1",
            if v.is_positive() {
                Expect::Invalid(Kind::WitnessInvalid)
            } else {
                Expect::Decide
            },
            pp.clone(),
            with(&|l| l[0].2 = -&v),
        );
        mk.set(
            "joint product removed",
            Expect::Decide,
            pp.clone(),
            with(&|l| {
                l.remove(0);
            }),
        );
        mk.set(
            "joint product repeated",
            Expect::Invalid(Kind::WitnessInvalid),
            pp.clone(),
            with(&|l| l.insert(0, l[0].clone())),
        );
        mk.set(
            "joint product b = S",
            Expect::Invalid(Kind::IndexOutOfRange),
            pp.clone(),
            with(&|l| {
                let last = l.len() - 1;
                l[last].1 = s;
            }),
        );
        if a < b {
            mk.set(
                "joint product as [b, a]",
                Expect::Invalid(Kind::WitnessInvalid),
                pp.clone(),
                with(&|l| l[0] = (b, a, v.clone())),
            );
        }
        if list.len() >= 2 {
            mk.set(
                "joint products: first two swapped",
                Expect::Invalid(Kind::WitnessInvalid),
                pp.clone(),
                with(&|l| l.swap(0, 1)),
            );
        }
    }
    if s > 0 && !list.iter().any(|p| (p.0, p.1) == (s - 1, s - 1)) {
        for (name, v) in [("1/1000", rat(1, 1000)), ("1000", rat(1000, 1))] {
            let mut l = list.clone();
            l.push((s - 1, s - 1, v));
            mk.set(
                class("product added at (S-1, S-1), weight", name),
                Expect::Decide,
                pp.clone(),
                entries(&l),
            );
        }
    }
    mk.push("joint products key removed", Expect::Decide, |j| {
        j.at_mut(&joint_path(&[])).unwrap().remove("products");
    });

    // The witness (check 4).
    let sp = joint_path(&[key("witness"), key("shift")]);
    let shift = rational_at(base, &sp);
    for (name, f) in factors() {
        mk.set(
            class("witness shift", name),
            Expect::Decide,
            sp.clone(),
            text_of(&(&shift * f)),
        );
    }
    if shift.is_positive() {
        mk.set(
            "joint witness shift x -1",
            Expect::Invalid(Kind::WitnessInvalid),
            sp,
            text_of(&-&shift),
        );
    }
    let n = jf.side;
    for (a, c) in [(0, 0), (n / 2, 0), (n / 2, (n - n / 2) / 2), (n - 1, 0)] {
        let p = joint_path(&[key("witness"), key("factor"), idx(a), idx(c)]);
        let x = rational_at(base, &p);
        for (name, f) in [
            ("x 9/10", rat(9, 10)),
            ("x (1 + 2^-30)", f64_scale_nudges()[0].1.clone()),
        ] {
            mk.set(
                class("witness factor entry", name),
                Expect::Decide,
                p.clone(),
                text_of(&(&x * f)),
            );
        }
    }
    let fp_ = joint_path(&[key("witness"), key("factor")]);
    mk.push(
        "joint witness factor: a row shortened",
        Expect::Invalid(Kind::WitnessInvalid),
        |j| {
            let rows = j.at_mut(&fp_).unwrap().as_array_mut().unwrap();
            rows[n / 2].as_array_mut().unwrap().pop();
        },
    );
    mk.push(
        "joint witness factor: last row removed",
        Expect::Invalid(Kind::WitnessInvalid),
        |j| {
            j.at_mut(&fp_).unwrap().as_array_mut().unwrap().pop();
        },
    );

    // Keys and versions (sections 12.1 and 12.10.4).
    for name in ["lipschitz", "head", "chains", "witness"] {
        mk.push(
            "joint without a required key",
            Expect::Invalid(Kind::Schema),
            |j| j.at_mut(&joint_path(&[])).unwrap().remove(name),
        );
    }
    mk.push(
        "joint with an unknown key",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&joint_path(&[]))
                .unwrap()
                .set("note", Json::str("x"));
        },
    );
    mk.push(
        "joint removed",
        if other_claims {
            Expect::Decide
        } else {
            Expect::Invalid(Kind::Header)
        },
        |j| {
            j.get_mut("bound").unwrap().remove("joint");
        },
    );
    mk.set(
        "joint null",
        Expect::Invalid(Kind::Schema),
        joint_path(&[]),
        Json::Null,
    );
    mk.set(
        "joint version 1 with joint",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(1),
    );
    mk.push("joint removed and version 1", Expect::Decide, |j| {
        j.get_mut("bound").unwrap().remove("joint");
        j.set("version", Json::num(1));
    });

    // epsilon against the smallest bound, r * lambda among them.
    let joint_bound = facts.joint_bound.clone().unwrap();
    let mut min = facts.e_l.clone();
    for b in [&facts.telescoping, &facts.joint_bound]
        .into_iter()
        .flatten()
    {
        if b < &min {
            min = b.clone();
        }
    }
    let (down, up) = nudges();
    let eps = path(&[key("bound"), key("epsilon")]);
    mk.set(
        "joint epsilon = r * lambda exactly",
        Expect::Valid,
        eps.clone(),
        text_of(&joint_bound),
    );
    mk.set(
        "joint epsilon = smallest bound (1 + 1e-40)",
        Expect::Valid,
        eps.clone(),
        text_of(&(&min * &up)),
    );
    if min.is_positive() {
        mk.set(
            "joint epsilon = smallest bound (1 - 1e-40)",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps,
            text_of(&(&min * &down)),
        );
    }
}
