//! Mutants of the claims and the domain: each block's error and Lipschitz claim (Frobenius,
//! spectral, with or without a witness), the epsilon and the radius, moved to just below, at
//! and just above their exact thresholds, negated or respelled.

use super::*;

/// The exact grid neighbours of the threshold sqrt(s): (square just below s, square just
/// above s, whether the grid point below is sqrt(s) exactly).
fn below_above(s: &BigRational) -> (BigRational, BigRational, bool) {
    let (lo, hi) = fp::sqrt_neighbours(s, 40);
    let exact = &lo * &lo == *s;
    let unit = BigRational::new(BigInt::one(), pow10(40).to_integer() * s.denom());
    let below = if exact { lo - unit } else { lo };
    (below, hi, exact)
}

/// The matrix M = G + R^T R of a witness, so that sum D^2 = sum_a (L^2 - shift - M_aa)^2
/// + sum_{a != b} M_ab^2 is cheap for many L.
pub(crate) struct WitnessForm {
    diag: Vec<BigRational>,
    off: BigRational,
    shift: BigRational,
}

impl WitnessForm {
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn new(block: &fp::BlockFacts) -> Option<WitnessForm> {
        let (shift, factor) = block.witness.clone()?;
        let n = factor.len();
        let rows = block.weights.len();
        if n != rows && n != block.cols {
            return None;
        }
        let g = fp::gram(&block.weights, block.cols, n == rows);
        let mut diag = Vec::new();
        let mut off = BigRational::zero();
        for a in 0..n {
            for b in 0..n {
                let mut m = g[a][b].clone();
                for k in 0..=a.min(b) {
                    if let (Some(x), Some(y)) = (factor[k].get(a - k), factor[k].get(b - k)) {
                        m += x * y;
                    }
                }
                if a == b {
                    diag.push(m);
                } else {
                    off += &m * &m;
                }
            }
        }
        Some(WitnessForm { diag, off, shift })
    }

    pub(crate) fn holds(&self, l: &BigRational) -> bool {
        let l2 = l * l;
        let mut sum = self.off.clone();
        for d in &self.diag {
            let x = &l2 - &self.shift - d;
            sum += &x * &x;
        }
        sum <= &self.shift * &self.shift
    }
}

pub(crate) fn claim_mutants(mk: &mut Maker, facts: &Facts, full: bool) {
    let (down, up) = nudges();
    for (b, block) in facts.blocks.iter().enumerate() {
        // error: c^2 against sum E^2.
        let (below, above, exact) = below_above(&block.error_squared);
        if exact {
            let (x, _) = fp::sqrt_neighbours(&block.error_squared, 40);
            mk.set(
                "error = sqrt(sum E^2) exactly",
                Expect::Valid,
                claim_path(b, "error"),
                text_of(&x),
            );
        }
        mk.set(
            "error just below sqrt(sum E^2)",
            Expect::Invalid(Kind::ErrorTooSmall),
            claim_path(b, "error"),
            text_of(&below),
        );
        mk.set(
            "error just above sqrt(sum E^2)",
            Expect::Decide,
            claim_path(b, "error"),
            text_of(&above),
        );
        // Near f64 precision, where an outward-rounded filter must not decide wrongly.
        for (lower, upper) in f64_scale_nudges() {
            if block.error_squared.is_positive() {
                mk.set(
                    "error = sqrt(sum E^2)(1 - 2^-k), k = 30..60",
                    Expect::Invalid(Kind::ErrorTooSmall),
                    claim_path(b, "error"),
                    text_of(&(&below * &lower)),
                );
            }
            mk.set(
                "error = sqrt(sum E^2)(1 + 2^-k), k = 30..60",
                Expect::Decide,
                claim_path(b, "error"),
                text_of(&(&above * &upper)),
            );
        }
        if block.error.is_positive() {
            mk.set(
                "error negated",
                Expect::Invalid(Kind::ErrorTooSmall),
                claim_path(b, "error"),
                text_of(&-&block.error),
            );
        }

        // lipschitz: the true threshold of the block's method.
        match block.method.as_str() {
            "frobenius" => {
                let (below, above, _) = below_above(&block.frobenius_squared);
                mk.set(
                    "lipschitz just below sqrt(sum W^2) (frobenius)",
                    Expect::Invalid(Kind::LipschitzTooSmall),
                    claim_path(b, "lipschitz"),
                    text_of(&below),
                );
                for (lower, upper) in f64_scale_nudges() {
                    mk.set(
                        "lipschitz = sqrt(sum W^2)(1 - 2^-k), k = 30..60",
                        Expect::Invalid(Kind::LipschitzTooSmall),
                        claim_path(b, "lipschitz"),
                        text_of(&(&below * &lower)),
                    );
                    mk.set(
                        "lipschitz = sqrt(sum W^2)(1 + 2^-k), k = 30..60",
                        Expect::Decide,
                        claim_path(b, "lipschitz"),
                        text_of(&(&above * &upper)),
                    );
                }
                mk.set(
                    "lipschitz just above sqrt(sum W^2) (frobenius)",
                    Expect::Decide,
                    claim_path(b, "lipschitz"),
                    text_of(&above),
                );
                mk.push("method frobenius -> spectral", Expect::Decide, |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .set("lipschitz_method", Json::str("spectral"));
                });
            }
            method => {
                let side = block.weights.len().min(block.cols);
                if side <= 12 || (full && side <= 40) {
                    let (g, den) = fp::gram_int(&block.weights, block.cols);
                    let (_, top) = fp::sqrt_neighbours(&block.frobenius_squared, 2);
                    if block.frobenius_squared.is_positive() {
                        let (below, above) = fp::bisect(&BigRational::zero(), &top, 40, |x| {
                            fp::fast_psd(&g, &den, x)
                        });
                        mk.set(
                            "lipschitz just below ||W||_2 (spectral)",
                            if method == "spectral" {
                                Expect::Invalid(Kind::LipschitzTooSmall)
                            } else {
                                Expect::Invalid(Kind::WitnessInvalid)
                            },
                            claim_path(b, "lipschitz"),
                            text_of(&below),
                        );
                        mk.set(
                            "lipschitz just above ||W||_2 (spectral)",
                            Expect::Decide,
                            claim_path(b, "lipschitz"),
                            text_of(&above),
                        );
                    }
                } else {
                    SKIPPED.fetch_add(2, Ordering::Relaxed);
                }
                mk.push("method spectral -> frobenius", Expect::Decide, |j| {
                    let blk = j
                        .at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap();
                    blk.set("lipschitz_method", Json::str("frobenius"));
                    blk.remove("lipschitz_witness");
                });
                mk.push(
                    "method removed (frobenius by default)",
                    Expect::Decide,
                    |j| {
                        let blk = j
                            .at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                            .unwrap();
                        blk.remove("lipschitz_method");
                        blk.remove("lipschitz_witness");
                    },
                );
                mk.set(
                    "method misspelled",
                    Expect::Invalid(Kind::Header),
                    claim_path(b, "lipschitz_method"),
                    Json::str("Spectral"),
                );
            }
        }
        if block.lipschitz.is_positive() {
            mk.set(
                "lipschitz negated",
                Expect::Invalid(Kind::LipschitzTooSmall),
                claim_path(b, "lipschitz"),
                text_of(&-&block.lipschitz),
            );
        }

        // The witness: its own boundaries in L, its shift and factor.
        if let Some(form) = WitnessForm::new(block) {
            let l = &block.lipschitz;
            assert!(
                form.holds(l),
                "{}: witness of block {b} does not hold",
                mk.source
            );
            if !form.holds(&BigRational::zero()) {
                let (below, above) = fp::bisect(&BigRational::zero(), l, 40, |x| form.holds(x));
                mk.set(
                    "lipschitz just below the witness's range",
                    Expect::Invalid(Kind::WitnessInvalid),
                    claim_path(b, "lipschitz"),
                    text_of(&below),
                );
                mk.set(
                    "lipschitz at the witness's lower end",
                    Expect::Decide,
                    claim_path(b, "lipschitz"),
                    text_of(&above),
                );
            }
            let mut top = l * rat(2, 1) + BigRational::one();
            while form.holds(&top) {
                top = &top * rat(2, 1);
            }
            let (inside, outside) = fp::bisect(l, &top, 40, |x| !form.holds(x));
            mk.set(
                "lipschitz at the witness's upper end",
                Expect::Decide,
                claim_path(b, "lipschitz"),
                text_of(&inside),
            );
            mk.set(
                "lipschitz just above the witness's range",
                Expect::Invalid(Kind::WitnessInvalid),
                claim_path(b, "lipschitz"),
                text_of(&outside),
            );
            let wpath = |k: &str| {
                path(&[
                    key("bound"),
                    key("blocks"),
                    idx(b),
                    key("lipschitz_witness"),
                    key(k),
                ])
            };
            mk.set(
                "witness shift x (1 - 1e-40)",
                Expect::Decide,
                wpath("shift"),
                text_of(&(&form.shift * &down)),
            );
            mk.set(
                "witness shift x (1 + 1e-40)",
                Expect::Decide,
                wpath("shift"),
                text_of(&(&form.shift * &up)),
            );
            mk.set(
                "witness shift 0",
                Expect::Decide,
                wpath("shift"),
                Json::str("0"),
            );
            if form.shift.is_positive() {
                mk.set(
                    "witness shift negated",
                    Expect::Invalid(Kind::WitnessInvalid),
                    wpath("shift"),
                    text_of(&-&form.shift),
                );
            }
            let (_, factor) = block.witness.clone().unwrap();
            for (a, c) in [(0usize, 0usize), (factor.len() - 1, 0)] {
                let x = &factor[a][c];
                let mut p = wpath("factor");
                p.extend([idx(a), idx(c)]);
                mk.set(
                    "witness factor entry x (1 + 1e-40)",
                    Expect::Decide,
                    p.clone(),
                    text_of(&(x * &up)),
                );
                mk.set(
                    "witness factor entry + 1/1000",
                    Expect::Decide,
                    p,
                    text_of(&(x + rat(1, 1000))),
                );
            }
            mk.push(
                "witness factor row dropped",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    j.at_mut(&wpath("factor"))
                        .unwrap()
                        .as_array_mut()
                        .unwrap()
                        .pop();
                },
            );
            mk.push(
                "witness factor row shortened",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    let mut p = wpath("factor");
                    p.push(idx(0));
                    j.at_mut(&p).unwrap().as_array_mut().unwrap().pop();
                },
            );
            mk.push(
                "witness removed (elimination decides)",
                Expect::Decide,
                |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .remove("lipschitz_witness");
                },
            );
            mk.push(
                "witness on a frobenius block",
                Expect::Invalid(Kind::WitnessInvalid),
                |j| {
                    j.at_mut(&path(&[key("bound"), key("blocks"), idx(b)]))
                        .unwrap()
                        .remove("lipschitz_method");
                },
            );
        }
    }

    // epsilon against e_l, exactly.
    let eps = path(&[key("bound"), key("epsilon")]);
    let e_l = &facts.e_l;
    mk.set(
        "epsilon = e_l exactly",
        Expect::Valid,
        eps.clone(),
        text_of(e_l),
    );
    if e_l.is_positive() {
        mk.set(
            "epsilon = e_l (1 - 1e-40)",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps.clone(),
            text_of(&(e_l * &down)),
        );
        mk.set(
            "epsilon negated",
            Expect::Invalid(Kind::EpsilonTooSmall),
            eps.clone(),
            text_of(&-&facts.epsilon),
        );
    }
    for (lower, upper) in f64_scale_nudges() {
        if e_l.is_positive() {
            mk.set(
                "epsilon = e_l (1 - 2^-k), k = 30..60",
                Expect::Invalid(Kind::EpsilonTooSmall),
                eps.clone(),
                text_of(&(e_l * &lower)),
            );
        }
        mk.set(
            "epsilon = e_l (1 + 2^-k), k = 30..60",
            Expect::Valid,
            eps.clone(),
            text_of(&(e_l * &upper)),
        );
    }
    mk.set(
        "epsilon = e_l (1 + 1e-40)",
        Expect::Valid,
        eps.clone(),
        text_of(&(e_l * &up)),
    );

    // radius: e_l is linear in r, so the largest radius is epsilon / (e_l / r).
    let radius = path(&[key("domain"), key("radius")]);
    if facts.radius.is_positive() && e_l.is_positive() {
        let r_max = &facts.epsilon * &facts.radius / e_l;
        mk.set(
            "radius = largest certified radius",
            Expect::Valid,
            radius.clone(),
            text_of(&r_max),
        );
        for (lower, upper) in f64_scale_nudges() {
            mk.set(
                "radius = largest (1 + 2^-k), k = 30..60",
                Expect::Invalid(Kind::EpsilonTooSmall),
                radius.clone(),
                text_of(&(&r_max * &upper)),
            );
            mk.set(
                "radius = largest (1 - 2^-k), k = 30..60",
                Expect::Valid,
                radius.clone(),
                text_of(&(&r_max * &lower)),
            );
        }
        mk.set(
            "radius just below the largest",
            Expect::Valid,
            radius.clone(),
            text_of(&(&r_max * &down)),
        );
        mk.set(
            "radius just above the largest",
            Expect::Invalid(Kind::EpsilonTooSmall),
            radius.clone(),
            text_of(&(&r_max * &up)),
        );
        mk.set(
            "radius negated",
            Expect::Invalid(Kind::Domain),
            radius.clone(),
            text_of(&-&facts.radius),
        );
    }
    mk.set("radius 0", Expect::Valid, radius.clone(), Json::str("0"));

    // The same numbers spelled otherwise, and malformed spellings.
    let eps_value = &facts.epsilon;
    let (p, q) = (eps_value.numer(), eps_value.denom());
    let spell_valid: Vec<(&'static str, String)> = vec![
        (
            "epsilon respelled unreduced",
            format!("{}/{}", p * 3, q * 3),
        ),
        ("epsilon respelled with +", format!("+{p}/{q}")),
        (
            "epsilon respelled as 0.1-style decimal x 10^k",
            decimal_of(eps_value).unwrap_or(format!("{p}/{q}")),
        ),
        (
            "epsilon respelled with exponent",
            format!(
                "{}e-3",
                decimal_of(&(eps_value * pow10(3))).unwrap_or(format!("{}", p))
            ),
        ),
    ];
    for (class, text) in spell_valid {
        if class.contains("exponent") && decimal_of(&(eps_value * pow10(3))).is_none() {
            continue;
        }
        mk.set(class, Expect::Valid, eps.clone(), Json::str(text));
    }
    let spell_invalid: Vec<(&'static str, String)> = vec![
        ("epsilon with a leading space", format!(" {p}/{q}")),
        ("epsilon with a trailing space", format!("{p}/{q} ")),
        ("epsilon with a signed denominator", format!("{p}/-{q}")),
        ("epsilon with a zero denominator", format!("{p}/0")),
        ("epsilon with an underscore", format!("{p}_0/{q}")),
        ("epsilon in hexadecimal", "0x1".to_string()),
        ("epsilon empty", String::new()),
        ("epsilon NaN", "NaN".to_string()),
        ("epsilon inf", "inf".to_string()),
        ("epsilon fraction of decimals", format!("{p}.0/{q}")),
    ];
    for (class, text) in spell_invalid {
        mk.set(
            class,
            Expect::Invalid(Kind::Number),
            eps.clone(),
            Json::str(text),
        );
    }
    mk.set(
        "epsilon text beyond 10,000 characters",
        Expect::Invalid(Kind::Number),
        eps.clone(),
        Json::str(format!("{}{p}/{q}", "0".repeat(10_001))),
    );
    mk.set(
        "epsilon as a JSON float",
        Expect::Invalid(Kind::Schema),
        eps.clone(),
        Json::num("0.05"),
    );
    mk.set(
        "epsilon as a JSON integer",
        Expect::Invalid(Kind::Schema),
        eps.clone(),
        Json::num("1"),
    );
    mk.set(
        "error as a JSON float",
        Expect::Invalid(Kind::Schema),
        claim_path(0, "error"),
        Json::num("0.5"),
    );
    mk.set(
        "radius as a JSON float",
        Expect::Invalid(Kind::Schema),
        radius,
        Json::num("1.0"),
    );
}
