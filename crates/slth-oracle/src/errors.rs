//! The block claims that a spectral test decides, written from docs/FORMAT.md alone: the
//! `lipschitz_method` / `lipschitz_witness` of section 6.2 (L_i against W_i) and version 2's
//! `error_method` / `error_witness` of section 12.9 (c_i against the signed error matrix
//! M_i, built here from the kept paths exactly), with the version rules of section 12.1.
//! Both reuse the same exact algebra ([`spectral_holds`], [`gram`], [`witness_residual`]).

use crate::*;

type Matrix = Vec<Vec<BigRational>>;

/// How a claim is justified.
#[derive(Debug, Clone)]
pub(crate) enum Method {
    Frobenius,
    Spectral,
    Witness(BigRational, Vec<Vec<BigRational>>),
}

impl Method {
    pub(crate) fn name(&self) -> String {
        match self {
            Method::Frobenius => "frobenius",
            Method::Spectral => "spectral",
            Method::Witness(..) => "witness",
        }
        .to_string()
    }
}

/// Reads a method key and its witness (`lipschitz` or `error`: the keys are
/// `{what}_method` and `{what}_witness` of `bound.blocks[b]`); None after pushing the
/// violation when they do not make a method (section 6.2 and 12.9: an unknown method is a
/// header error, a witness is allowed only with `"spectral"`).
pub(crate) fn read_method(
    place: &str,
    what: &str,
    method: Option<&str>,
    witness: Option<&(String, Vec<Vec<String>>)>,
    out: &mut Vec<Violation>,
) -> Option<Method> {
    let wplace = format!("{place}.{what}_witness");
    match (method, witness) {
        (None | Some("frobenius"), None) => Some(Method::Frobenius),
        (Some("spectral"), None) => Some(Method::Spectral),
        (Some("spectral"), Some((shift, factor))) => {
            let shift = number(shift, &format!("{wplace}.shift"), out);
            let mut rows = Vec::new();
            let mut ok = true;
            for row in factor {
                let mut r = Vec::new();
                for x in row {
                    match number(x, &format!("{wplace}.factor"), out) {
                        Some(x) => r.push(x),
                        None => ok = false,
                    }
                }
                rows.push(r);
            }
            match (shift, ok) {
                (Some(s), true) => Some(Method::Witness(s, rows)),
                _ => None,
            }
        }
        (None | Some("frobenius"), Some(_)) => {
            out.push(violation(
                &[Kind::WitnessInvalid],
                wplace,
                format!("{what}_witness without \"{what}_method\": \"spectral\""),
            ));
            None
        }
        (Some(other), _) => {
            out.push(violation(
                &[Kind::Header],
                format!("{place}.{what}_method"),
                other,
            ));
            None
        }
    }
}

/// Section 12.1: a version 1 certificate has no `error_method` and no `error_witness`.
pub(crate) fn version_rules(c: &Parsed, out: &mut Vec<Violation>) {
    if c.version != 1 {
        return;
    }
    for (b, block) in c.blocks.iter().enumerate() {
        for (present, name) in [
            (block.error_method.is_some(), "error_method"),
            (block.error_witness.is_some(), "error_witness"),
        ] {
            if present {
                out.push(violation(
                    &[Kind::Header, Kind::Schema],
                    format!("bound.blocks[{b}].{name}"),
                    format!("{name} in a version 1 certificate"),
                ));
            }
        }
    }
}

/// Block i's signed error matrix M_i of section 12.9 from the kept paths (m, t, V, U) (V,
/// U integers over 2^53): `[P - W | W - Q]` (n_i x 2 n_{i-1}) when the block's input is
/// signed, else `P - W` (n_i x n_{i-1}); P and Q the path sums of section 6.1.
pub fn error_matrix(w: &[Vec<BigRational>], cols: usize, paths: &[Path], signed: bool) -> Matrix {
    let rows = w.len();
    let mut p = vec![vec![BigInt::zero(); cols]; rows];
    let mut q = vec![vec![BigInt::zero(); cols]; rows];
    for &(m, t, v, u) in paths {
        let vu = BigInt::from(v) * BigInt::from(u);
        if u > 0 {
            p[m][t] += vu;
        } else {
            q[m][t] += vu;
        }
    }
    let two106 = BigInt::one() << 106u32;
    let sum = |x: &BigInt| BigRational::new(x.clone(), two106.clone());
    (0..rows)
        .map(|m| {
            let mut row: Vec<BigRational> = (0..cols).map(|t| sum(&p[m][t]) - &w[m][t]).collect();
            if signed {
                row.extend((0..cols).map(|t| &w[m][t] - sum(&q[m][t])));
            }
            row
        })
        .collect()
}

/// Where a claim's violations go and what kind a too small value is.
pub(crate) struct ClaimPlace {
    /// `bound.blocks[b].lipschitz` or `.error`
    pub(crate) value: String,
    /// `bound.blocks[b].lipschitz_witness` or `.error_witness`
    pub(crate) witness: String,
    pub(crate) too_small: Kind,
}

impl ClaimPlace {
    pub(crate) fn new(b: usize, what: &str, too_small: Kind) -> ClaimPlace {
        let value = match what {
            "lipschitz" => format!("bound.blocks[{b}].lipschitz"),
            _ => format!("bound.blocks[{b}].error"),
        };
        ClaimPlace {
            witness: format!("bound.blocks[{b}].{what}_witness"),
            value,
            too_small,
        }
    }
}

impl Checker {
    /// Whether `bound >= ||a||` for the method's norm (Frobenius, or spectral by elimination
    /// or witness, section 6.2), `a` an n x cols matrix: Ok(verdict), or Err(why undecided).
    /// Decisions are cached under `memo`, a hash of everything they depend on.
    pub(crate) fn claim_check(
        &self,
        memo: u64,
        a: &[Vec<BigRational>],
        cols: usize,
        bound: &BigRational,
        method: &Method,
        at: &ClaimPlace,
    ) -> Result<Result<(), Violation>, String> {
        if bound.is_negative() {
            return Ok(Err(violation(&[at.too_small], &at.value, "negative")));
        }
        if let Some(r) = self.lipschitz.lock().unwrap().get(&memo) {
            return Ok(r.clone());
        }
        let rows = a.len();
        let b2 = bound * bound;
        let result = match method {
            Method::Frobenius => {
                if b2 < sum_squares(a.iter().flatten()) {
                    Err(violation(
                        &[at.too_small],
                        &at.value,
                        "bound^2 < sum of squares",
                    ))
                } else {
                    Ok(())
                }
            }
            Method::Spectral => {
                let side = rows.min(cols);
                if side > self.max_elimination_side {
                    return Err(format!(
                        "spectral claim of Gram side {side} without witness"
                    ));
                }
                if spectral_holds(a, cols, bound) {
                    Ok(())
                } else {
                    Err(violation(
                        &[at.too_small],
                        &at.value,
                        "bound^2 I - G not PSD",
                    ))
                }
            }
            Method::Witness(shift, factor) => {
                let n = factor.len();
                if n != rows && n != cols {
                    Err(violation(
                        &[Kind::WitnessInvalid],
                        &at.witness,
                        "factor side",
                    ))
                } else if factor.iter().enumerate().any(|(k, r)| r.len() != n - k) {
                    Err(violation(
                        &[Kind::WitnessInvalid],
                        &at.witness,
                        "factor row length",
                    ))
                } else if shift.is_negative() {
                    Err(violation(
                        &[Kind::WitnessInvalid],
                        &at.witness,
                        "negative shift",
                    ))
                } else if n > self.max_witness_side {
                    return Err(format!("witness of side {n}"));
                } else {
                    let g = gram(a, cols, n == rows);
                    if witness_residual(&g, &b2, shift, factor) > shift * shift {
                        Err(violation(
                            &[Kind::WitnessInvalid],
                            &at.witness,
                            "sum D^2 > shift^2",
                        ))
                    } else {
                        Ok(())
                    }
                }
            }
        };
        self.lipschitz.lock().unwrap().insert(memo, result.clone());
        Ok(result)
    }

    /// Section 12.9: c_i >= ||M_i||_2 for a block whose `error_method` is `"spectral"`.
    /// Pushes the violation (or records why it is undecided) and returns M_i.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn spectral_error(
        &self,
        b: usize,
        c: &Parsed,
        w: &[Vec<BigRational>],
        cols: usize,
        paths: &[Path],
        signed: bool,
        error: &BigRational,
        method: &Method,
        out: &mut Vec<Violation>,
        undecided: &mut Option<String>,
    ) -> Matrix {
        let m = error_matrix(w, cols, paths, signed);
        let m_cols = if signed { 2 * cols } else { cols };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let block = &c.blocks[b];
        (
            "error",
            b,
            signed,
            &c.seed,
            &c.layers[b].weights,
            &c.ticket[b],
            &block.error,
            &block.error_method,
            &block.error_witness,
        )
            .hash(&mut h);
        let at = ClaimPlace::new(b, "error", Kind::ErrorTooSmall);
        match self.claim_check(h.finish(), &m, m_cols, error, method, &at) {
            Ok(Ok(())) => {}
            Ok(Err(v)) => out.push(v),
            Err(why) => *undecided = Some(format!("error claim of block {}: {why}", b + 1)),
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    /// M_i by hand from section 12.9's table for W = [1/2, -1/4] and three kept paths:
    /// V U = 1/2 * 1/2 and 1/2 * -1/4 into column 0, -1/2 * 1/4 into column 1, so P = [1/4,
    /// -1/8] and Q = [-1/8, 0].
    #[test]
    fn error_matrix_by_hand() {
        let w = vec![vec![r(1, 2), r(-1, 4)]];
        let half = 1i64 << 52;
        let quarter = 1i64 << 51;
        let paths: Vec<Path> = vec![
            (0, 0, half, half),
            (0, 0, half, -quarter),
            (0, 1, -half, quarter),
        ];
        let signed = error_matrix(&w, 2, &paths, true);
        assert_eq!(signed, vec![vec![r(-1, 4), r(1, 8), r(5, 8), r(-1, 4)]]);
        let nonneg = error_matrix(&w, 2, &paths, false);
        assert_eq!(nonneg, vec![vec![r(-1, 4), r(1, 8)]]);
        // One row: ||M||_2^2 is its sum of squares, 34/64 on the signed side.
        assert!(spectral_holds(&signed, 4, &r(3, 4)));
        assert!(!spectral_holds(&signed, 4, &r(72, 100)));
    }
}
