//! Mutants of version 2's spectral error claims (docs/FORMAT.md section 12.9): each
//! spectral block's c_i scaled and moved to just below and above ||M_i||_2 (found with a
//! fast fraction-free elimination on M_i, independent of the oracle's rational one) or to
//! the ends of its witness's range, the witness's shift and factor perturbed, the method
//! flipped, the witness removed or added, and the version rules of section 12.1.

use super::claims::WitnessForm;
use super::*;

fn block_path(b: usize) -> Vec<Step> {
    path(&[key("bound"), key("blocks"), idx(b)])
}

fn class(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// Scale factors below and above 1: far, near, and around f64 precision.
fn factors() -> Vec<(&'static str, BigRational)> {
    let (down, up) = nudges();
    let (lo30, hi30) = f64_scale_nudges()[0].clone();
    let (lo53, hi53) = f64_scale_nudges()[4].clone();
    vec![
        ("x 0", BigRational::zero()),
        ("x 1/2", rat(1, 2)),
        ("x 9/10", rat(9, 10)),
        ("x (1 - 2^-30)", lo30),
        ("x (1 - 2^-53)", lo53),
        ("x (1 - 1e-40)", down),
        ("x (1 + 1e-40)", up),
        ("x (1 + 2^-53)", hi53),
        ("x (1 + 2^-30)", hi30),
        ("x 11/10", rat(11, 10)),
        ("x 2", rat(2, 1)),
    ]
}

/// The mutants of every block whose `error_method` is spectral, and of the version rules.
pub(crate) fn error_mutants(mk: &mut Maker, base: &Json, facts: &Facts, full: bool) {
    let has_terms = base.get("bound").unwrap().get("terms").is_some();
    for (b, block) in facts.blocks.iter().enumerate() {
        let written = base
            .get("bound")
            .unwrap()
            .get("blocks")
            .unwrap()
            .as_array()
            .unwrap()[b]
            .clone();
        if block.error_method == "frobenius" {
            if written.get("error_method").is_none() {
                // A Frobenius block may become spectral: whether c_i covers ||M_i||_2
                // (never above ||M_i||_F >= ||E_i||_F on a non-negative block) decides.
                mk.push("error_method spectral added", Expect::Decide, |j| {
                    j.at_mut(&block_path(b))
                        .unwrap()
                        .set("error_method", Json::str("spectral"));
                });
            }
            mk.push(
                "error_witness on a frobenius block",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    j.at_mut(&block_path(b)).unwrap().set(
                        "error_witness",
                        Json::Obj(vec![
                            ("shift".into(), Json::str("0")),
                            ("factor".into(), Json::Arr(vec![])),
                        ]),
                    );
                },
            );
            continue;
        }
        let m = block
            .error_matrix
            .clone()
            .expect("a spectral block has M_i");
        let m_cols = m[0].len();
        let c = &block.error;
        let ep = claim_path(b, "error");
        for (name, f) in factors() {
            mk.set(
                class(format!("spectral error {name}")),
                Expect::Decide,
                ep.clone(),
                text_of(&(c * f)),
            );
        }
        if c.is_positive() {
            mk.set(
                "spectral error negated",
                Expect::Invalid(Kind::ErrorTooSmall),
                ep.clone(),
                text_of(&-c),
            );
        }
        // The exact threshold ||M_i||_2 on a grid of 10^-40, when the side is small.
        let side = m.len().min(m_cols);
        let witness = block.error_witness.is_some();
        if side <= 12 || (full && side <= 40) {
            let (g, den) = fp::gram_int(&m, m_cols);
            let (_, top) = fp::sqrt_neighbours(&fp::sum_squares(m.iter().flatten()), 2);
            let (below, above) = fp::bisect(&BigRational::zero(), &top, 40, |x| {
                fp::fast_psd(&g, &den, x)
            });
            mk.set(
                "spectral error just below ||M||_2",
                if witness {
                    Expect::Invalid(Kind::WitnessInvalid)
                } else {
                    Expect::Invalid(Kind::ErrorTooSmall)
                },
                ep.clone(),
                text_of(&below),
            );
            // Without a witness the smaller c still covers ||M||_2 and lowers e_l.
            mk.set(
                "spectral error just above ||M||_2",
                if witness {
                    Expect::Decide
                } else {
                    Expect::Valid
                },
                ep.clone(),
                text_of(&above),
            );
        } else {
            SKIPPED.fetch_add(2, Ordering::Relaxed);
        }
        // The witness's range of c, recomputed here (M + R^T R once, then one sum per c).
        let as_block = fp::BlockFacts {
            weights: m.clone(),
            cols: m_cols,
            witness: block.error_witness.clone(),
            ..block.clone()
        };
        if let Some(form) = WitnessForm::new(&as_block) {
            assert!(form.holds(c), "{}: error witness {b} fails", mk.source);
            if !form.holds(&BigRational::zero()) {
                let (below, above) = fp::bisect(&BigRational::zero(), c, 40, |x| form.holds(x));
                mk.set(
                    "spectral error just below its witness's range",
                    Expect::Invalid(Kind::WitnessInvalid),
                    ep.clone(),
                    text_of(&below),
                );
                mk.set(
                    "spectral error at its witness's lower end",
                    Expect::Valid,
                    ep.clone(),
                    text_of(&above),
                );
            }
            let mut top = c * rat(2, 1) + BigRational::one();
            while form.holds(&top) {
                top = &top * rat(2, 1);
            }
            let (inside, outside) = fp::bisect(c, &top, 40, |x| !form.holds(x));
            mk.set(
                "spectral error at its witness's upper end",
                Expect::Decide,
                ep.clone(),
                text_of(&inside),
            );
            mk.set(
                "spectral error just above its witness's range",
                Expect::Invalid(Kind::WitnessInvalid),
                ep.clone(),
                text_of(&outside),
            );
        }
        method_mutants(mk, b, &written);
        if let Some((shift, factor)) = &block.error_witness {
            witness_mutants(mk, b, shift, factor, full);
        }
    }
    version_mutants(mk, base, has_terms);
    if !has_terms {
        let eps = path(&[key("bound"), key("epsilon")]);
        let (down, up) = nudges();
        mk.set(
            "v2 spectral: epsilon = e_l exactly",
            Expect::Valid,
            eps.clone(),
            text_of(&facts.e_l),
        );
        mk.set(
            "v2 spectral: epsilon = e_l (1 + 1e-40)",
            Expect::Valid,
            eps.clone(),
            text_of(&(&facts.e_l * &up)),
        );
        if facts.e_l.is_positive() {
            mk.set(
                "v2 spectral: epsilon = e_l (1 - 1e-40)",
                Expect::Invalid(Kind::EpsilonTooSmall),
                eps,
                text_of(&(&facts.e_l * &down)),
            );
        }
    }
}

fn method_mutants(mk: &mut Maker, b: usize, written: &Json) {
    let bp = block_path(b);
    mk.push("error_method spectral -> frobenius", Expect::Decide, |j| {
        let blk = j.at_mut(&bp).unwrap();
        blk.set("error_method", Json::str("frobenius"));
        blk.remove("error_witness");
    });
    mk.push(
        "error_method removed (frobenius by default)",
        Expect::Decide,
        |j| {
            let blk = j.at_mut(&bp).unwrap();
            blk.remove("error_method");
            blk.remove("error_witness");
        },
    );
    mk.set(
        "error_method misspelled",
        Expect::Invalid(Kind::Header),
        claim_path(b, "error_method"),
        Json::str("Spectral"),
    );
    mk.set(
        "error_method null",
        Expect::Invalid(Kind::Schema),
        claim_path(b, "error_method"),
        Json::Null,
    );
    let has_witness = written.get("error_witness").is_some();
    if has_witness {
        mk.push(
            "error_witness kept, method frobenius",
            Expect::Invalid(Kind::WitnessInvalid),
            |j| {
                j.at_mut(&bp)
                    .unwrap()
                    .set("error_method", Json::str("frobenius"));
            },
        );
        mk.push(
            "error_witness removed (elimination decides)",
            Expect::Decide,
            |j| j.at_mut(&bp).unwrap().remove("error_witness"),
        );
        mk.set(
            "error_witness null",
            Expect::Invalid(Kind::Schema),
            claim_path(b, "error_witness"),
            Json::Null,
        );
    } else {
        // A witness that proves nothing: R = 0 and shift 0 need c^2 I = G exactly.
        mk.push("error_witness added (zero)", Expect::Decide, |j| {
            j.at_mut(&bp).unwrap().set(
                "error_witness",
                Json::Obj(vec![
                    ("shift".into(), Json::str("0")),
                    ("factor".into(), Json::Arr(vec![])),
                ]),
            );
        });
    }
    if let Some(w) = written.get("lipschitz_witness") {
        // The Lipschitz witness proves c_i^2 I - G(W_i) >= 0, not anything about M_i.
        let w = w.clone();
        mk.push(
            "error_witness = the block's lipschitz_witness",
            Expect::Decide,
            move |j| {
                j.at_mut(&bp).unwrap().set("error_witness", w);
            },
        );
    }
}

fn witness_mutants(
    mk: &mut Maker,
    b: usize,
    shift: &BigRational,
    factor: &[Vec<BigRational>],
    full: bool,
) {
    let wp = |steps: &[Step]| {
        let mut p = claim_path(b, "error_witness");
        p.extend_from_slice(steps);
        p
    };
    for (name, f) in factors() {
        mk.set(
            class(format!("error witness shift {name}")),
            Expect::Decide,
            wp(&[key("shift")]),
            text_of(&(shift * f)),
        );
    }
    if shift.is_positive() {
        mk.set(
            "error witness shift negated",
            Expect::Invalid(Kind::WitnessInvalid),
            wp(&[key("shift")]),
            text_of(&-shift),
        );
    }
    let n = factor.len();
    let (_, up) = nudges();
    let (_, hi30) = f64_scale_nudges()[0].clone();
    for a in pick(n, if full { n } else { 3 }, full) {
        for k in pick(n - a, 2, full) {
            let x = &factor[a][k];
            for (name, y) in [
                ("x (1 + 1e-40)", x * &up),
                ("x (1 + 2^-30)", x * &hi30),
                ("+ 1/1000", x + rat(1, 1000)),
                ("negated", -x),
            ] {
                mk.set(
                    class(format!("error witness entry {name}")),
                    Expect::Decide,
                    wp(&[key("factor"), idx(a), idx(k)]),
                    text_of(&y),
                );
            }
        }
    }
    mk.push(
        "error witness row 0 shortened",
        Expect::Invalid(Kind::WitnessInvalid),
        |j| {
            j.at_mut(&wp(&[key("factor"), idx(0)]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .pop();
        },
    );
    mk.push(
        "error witness last row removed",
        Expect::Invalid(Kind::WitnessInvalid),
        |j| {
            j.at_mut(&wp(&[key("factor")]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .pop();
        },
    );
    mk.push(
        "error witness with an unknown key",
        Expect::Invalid(Kind::Schema),
        |j| j.at_mut(&wp(&[])).unwrap().set("note", Json::str("x")),
    );
}

/// Section 12.1: version 2 needs terms or an error_method; version 1 has neither.
fn version_mutants(mk: &mut Maker, base: &Json, has_terms: bool) {
    let blocks = base
        .get("bound")
        .unwrap()
        .get("blocks")
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    mk.set(
        "v2 spectral: version 1",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(1),
    );
    mk.push(
        "v2 spectral: every error_method and error_witness removed",
        if has_terms {
            Expect::Decide
        } else {
            Expect::Invalid(Kind::Header)
        },
        move |j| {
            for b in 0..blocks {
                let blk = j.at_mut(&block_path(b)).unwrap();
                blk.remove("error_method");
                blk.remove("error_witness");
            }
        },
    );
    mk.push(
        "v2 spectral: methods removed and version 1",
        if has_terms {
            Expect::Invalid(Kind::Header)
        } else {
            Expect::Decide
        },
        move |j| {
            for b in 0..blocks {
                let blk = j.at_mut(&block_path(b)).unwrap();
                blk.remove("error_method");
                blk.remove("error_witness");
            }
            j.set("version", Json::num(1));
        },
    );
}
