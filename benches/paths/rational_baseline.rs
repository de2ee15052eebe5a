//! A deliberately naive exact verifier, the baseline of `benches/paths.rs`: docs/FORMAT.md sections 5
//! and 6 computed the obvious way with num-rational's `BigRational` (a gcd after every
//! operation), every weight of g drawn with its own ChaCha20 block, maps keyed by (m, t).
//!
//! Only for measuring: no rejection places, no limits, no care for adversarial input.

// Matrix code in the textbook index style, as a naive implementation would be written.
#![allow(clippy::needless_range_loop)]

use num_rational::BigRational;
use num_traits::{Signed, Zero};
use slth::numbers::parse_rational;
use slth_checker::certificate::Certificate;
use slth_checker::sampler::{self, Seed};
use std::collections::{HashMap, HashSet};

fn number(text: &str) -> Result<BigRational, String> {
    parse_rational(text).map_err(|e| e.to_string())
}

/// e_l when every inequality of docs/FORMAT.md section 6 holds (and every kept value is g's weight).
pub fn verify(c: &Certificate) -> Result<BigRational, String> {
    let seed = Seed::from_hex(&c.random_network.seed).map_err(|e| e.to_string())?;
    let (mut a, mut e) = (number(&c.domain.radius.0)?, BigRational::zero());
    let mut n_in = c.target.input_dim;
    let blocks = c.target.layers.iter().zip(&c.ticket).zip(&c.bound.blocks);
    for (b, ((layer, ticket), claim)) in blocks.enumerate() {
        let i = b + 1;
        let w: Vec<Vec<BigRational>> = layer
            .weights
            .iter()
            .map(|row| row.iter().map(|x| number(&x.0)).collect())
            .collect::<Result<_, _>>()?;
        let n_out = w.len() as u64;

        let mut hidden: HashMap<u64, (u64, BigRational)> = HashMap::new();
        for (j, t, value) in &ticket.hidden {
            let index = j
                .checked_mul(n_in)
                .and_then(|x| x.checked_add(*t))
                .ok_or("index")?;
            let u = weight(&seed, sampler::hidden_stream(i), index);
            if number(&value.0)? != u {
                return Err(format!("block {i}: U[{j}][{t}] differs"));
            }
            if hidden.insert(*j, (*t, u)).is_some() {
                return Err(format!("block {i}: hidden {j} twice"));
            }
        }

        let mut p: HashMap<(u64, u64), BigRational> = HashMap::new();
        let mut q: HashMap<(u64, u64), BigRational> = HashMap::new();
        let mut seen = HashSet::new();
        for (m, j, value) in &ticket.output {
            let index = j
                .checked_mul(n_out)
                .and_then(|x| x.checked_add(*m))
                .ok_or("index")?;
            let v = weight(&seed, sampler::output_stream(i), index);
            if number(&value.0)? != v {
                return Err(format!("block {i}: V[{m}][{j}] differs"));
            }
            if !seen.insert((*m, *j)) {
                return Err(format!("block {i}: output ({m}, {j}) twice"));
            }
            let (t, u) = hidden.get(j).ok_or("output without input")?;
            let sums = if u.is_positive() { &mut p } else { &mut q };
            *sums.entry((*m, *t)).or_insert_with(BigRational::zero) += &v * u;
        }

        let signed = b == 0 && !c.domain.nonnegative;
        let zero = BigRational::zero();
        let mut squared_sum = BigRational::zero();
        for (m, row) in w.iter().enumerate() {
            for (t, weight) in row.iter().enumerate() {
                let key = (m as u64, t as u64);
                let mut deviation = (p.get(&key).unwrap_or(&zero) - weight).abs();
                if signed {
                    deviation = deviation.max((q.get(&key).unwrap_or(&zero) - weight).abs());
                }
                squared_sum += &deviation * &deviation;
            }
        }
        let error = number(&claim.error.0)?;
        if error.is_negative() || &error * &error < squared_sum {
            return Err(format!("block {i}: c_{i} too small"));
        }

        let lipschitz = number(&claim.lipschitz.0)?;
        if lipschitz.is_negative() {
            return Err(format!("block {i}: L_{i} negative"));
        }
        let square = &lipschitz * &lipschitz;
        let holds = match (claim.lipschitz_method.as_deref(), &claim.lipschitz_witness) {
            (None | Some("frobenius"), None) => {
                let frobenius: BigRational = w.iter().flatten().map(|x| x * x).sum();
                frobenius <= square
            }
            (Some("spectral"), None) => {
                let on_rows = w.len() <= n_in as usize;
                let mut matrix = gram(&w, on_rows);
                for (k, row) in matrix.iter_mut().enumerate() {
                    for x in row.iter_mut() {
                        *x = -&*x;
                    }
                    row[k] += &square;
                }
                positive_semidefinite(matrix)
            }
            (Some("spectral"), Some(witness)) => {
                let shift = number(&witness.shift.0)?;
                let r: Vec<Vec<BigRational>> = witness
                    .factor
                    .iter()
                    .map(|row| row.iter().map(|x| number(&x.0)).collect())
                    .collect::<Result<_, _>>()?;
                let n = r.len();
                let g = gram(&w, n == w.len());
                let r_at = |k: usize, a: usize| &r[k][a - k];
                // D is symmetric: each off-diagonal square counts twice.
                let two = BigRational::from_integer(2.into());
                let mut sum = BigRational::zero();
                for a in 0..n {
                    for col in a..n {
                        let rtr: BigRational = (0..=a).map(|k| r_at(k, a) * r_at(k, col)).sum();
                        let mut d = -&g[a][col] - rtr;
                        if a == col {
                            d += &square - &shift;
                            sum += &d * &d;
                        } else {
                            sum += &d * &d * &two;
                        }
                    }
                }
                !shift.is_negative() && sum <= &shift * &shift
            }
            _ => return Err(format!("block {i}: unknown Lipschitz method")),
        };
        if !holds {
            return Err(format!("block {i}: L_{i} too small"));
        }

        e = &error * (&a + &e) + &lipschitz * &e;
        a = &lipschitz * &a;
        n_in = n_out;
    }
    if number(&c.bound.epsilon.0)? < e {
        return Err("epsilon below e_l".into());
    }
    Ok(e)
}

/// W W^T (on rows) or W^T W.
fn gram(w: &[Vec<BigRational>], on_rows: bool) -> Vec<Vec<BigRational>> {
    let cols = w.first().map_or(0, Vec::len);
    let (side, inner) = if on_rows {
        (w.len(), cols)
    } else {
        (cols, w.len())
    };
    let at = |a: usize, k: usize| if on_rows { &w[a][k] } else { &w[k][a] };
    let mut g = vec![vec![BigRational::zero(); side]; side];
    for a in 0..side {
        for b in a..side {
            let dot: BigRational = (0..inner).map(|k| at(a, k) * at(b, k)).sum();
            g[b][a] = dot.clone();
            g[a][b] = dot;
        }
    }
    g
}

/// Symmetric elimination without pivoting on rationals (docs/FORMAT.md section 6).
fn positive_semidefinite(mut m: Vec<Vec<BigRational>>) -> bool {
    let n = m.len();
    for k in 0..n {
        let pivot = m[k][k].clone();
        if pivot.is_negative() {
            return false;
        }
        if pivot.is_zero() {
            if (k + 1..n).any(|j| !m[k][j].is_zero()) {
                return false;
            }
            continue;
        }
        for i in k + 1..n {
            let factor = &m[i][k] / &pivot;
            for j in k + 1..n {
                let update = &factor * &m[k][j];
                m[i][j] -= update;
            }
        }
    }
    true
}

/// The weight of g at (stream, index) as a rational, one ChaCha20 block per call.
fn weight(seed: &sampler::Seed, stream: u64, index: u64) -> BigRational {
    let numerator = sampler::sample_numerator(seed, stream, index);
    BigRational::new(numerator.into(), sampler::WEIGHT_SCALE.into())
}
