//! The kept weights of one block (spec section 4) and its deviation E_i (spec section 5).
//!
//! Kept hidden neurons live in a map keyed by j, so a claimed width of 2^60 costs nothing.

use super::scaled::Scaled;
use super::{Rejection, RejectionKind, parse, reject};
use crate::certificate::{BlockTicket, Rational};
use crate::numbers::format_rational;
use crate::sampler::{self, Seed, WEIGHT_SCALE};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use std::collections::{BTreeMap, HashMap};

/// Where a block sits: index b (0-based; the paper's block i = b + 1) and its sizes.
pub(super) struct Shape {
    pub block: usize,
    /// n_{i-1}
    pub inputs: u64,
    /// n_i
    pub outputs: u64,
    /// k_i
    pub width: u64,
}

/// The checked kept weights of one block; values are numerators over 2^53.
pub(super) struct KeptBlock {
    /// hidden neuron j -> (its kept input t, U_i[j][t])
    hidden: BTreeMap<u64, (u64, i64)>,
    /// (m, j, V_i[m][j]) in file order
    output: Vec<(u64, u64, i64)>,
}

/// `sum_{m,t} E_i[m][t]^2` and `max_{m,t} E_i[m][t]`.
pub(super) struct Deviation {
    pub squared_sum: BigRational,
    pub max: BigRational,
}

impl KeptBlock {
    /// Checks every index, duplicate and value of `ticket[b]` against g.
    pub fn check(shape: &Shape, ticket: &BlockTicket, seed: &Seed) -> Result<KeptBlock, Rejection> {
        let b = shape.block;
        let i = b + 1;
        let mut hidden = BTreeMap::new();
        let mut first_hidden = HashMap::new();
        for (k, (j, t, value)) in ticket.hidden.iter().enumerate() {
            let (j, t) = (*j, *t);
            let place = format!("ticket[{b}].hidden[{k}]");
            check_index(
                &place,
                "index j",
                j,
                shape.width,
                format!("hidden width {}", shape.width),
            )?;
            check_index(
                &place,
                "input t",
                t,
                shape.inputs,
                format!("n_{b} = {}", shape.inputs),
            )?;
            if let Some(first) = first_hidden.insert(j, k) {
                return Err(reject(
                    RejectionKind::DuplicateHidden,
                    place,
                    format!(
                        "hidden neuron j = {j} is listed twice (first at ticket[{b}].hidden[{first}]); \
                         a hidden neuron keeps at most one input"
                    ),
                ));
            }
            let name = format!("U_{i}[{j}][{t}]");
            let index = u128::from(j) * u128::from(shape.inputs) + u128::from(t);
            let u = check_value(&place, &name, value, seed, sampler::hidden_stream(i), index)?;
            hidden.insert(j, (t, u));
        }

        let mut output = Vec::with_capacity(ticket.output.len());
        let mut first_output = HashMap::new();
        for (k, (m, j, value)) in ticket.output.iter().enumerate() {
            let (m, j) = (*m, *j);
            let place = format!("ticket[{b}].output[{k}]");
            check_index(
                &place,
                "output m",
                m,
                shape.outputs,
                format!("n_{i} = {}", shape.outputs),
            )?;
            check_index(
                &place,
                "index j",
                j,
                shape.width,
                format!("hidden width {}", shape.width),
            )?;
            if let Some(first) = first_output.insert((m, j), k) {
                return Err(reject(
                    RejectionKind::DuplicateOutput,
                    place,
                    format!(
                        "edge (m = {m}, j = {j}) is listed twice (first at ticket[{b}].output[{first}])"
                    ),
                ));
            }
            if !hidden.contains_key(&j) {
                return Err(reject(
                    RejectionKind::OutputWithoutInput,
                    place,
                    format!(
                        "hidden neuron j = {j} keeps no input (it has no ticket[{b}].hidden entry)"
                    ),
                ));
            }
            let name = format!("V_{i}[{m}][{j}]");
            let index = u128::from(j) * u128::from(shape.outputs) + u128::from(m);
            let v = check_value(&place, &name, value, seed, sampler::output_stream(i), index)?;
            output.push((m, j, v));
        }
        Ok(KeptBlock { hidden, output })
    }

    pub fn hidden_count(&self) -> u64 {
        self.hidden.len() as u64
    }

    pub fn output_count(&self) -> u64 {
        self.output.len() as u64
    }

    /// E_i against `weights` = W_i:
    ///
    /// `P[m][t] = sum V[m][j] max(U[j][t], 0)`, `Q[m][t] = sum V[m][j] min(U[j][t], 0)` over
    /// kept (m, j) with j keeping t; `E = max(|P - W|, |Q - W|)` for a signed input, else
    /// `|P - W|`. P and Q are integers over 2^106, W integers over d, so E is an integer
    /// over `d 2^106`.
    pub fn deviation(&self, weights: &Scaled, signed: bool) -> Deviation {
        let mut paths: HashMap<(u64, u64), (ExactSum, ExactSum)> = HashMap::new();
        for &(m, j, v) in &self.output {
            if let Some(&(t, u)) = self.hidden.get(&j) {
                let sums = paths.entry((m, t)).or_default();
                let product = i128::from(v) * i128::from(u);
                if u > 0 { &mut sums.0 } else { &mut sums.1 }.add(product);
            }
        }
        let d = &weights.denom;
        let mut squared_sum = BigInt::zero();
        let mut max = BigInt::zero();
        for m in 0..weights.rows {
            for t in 0..weights.cols {
                let w = weights.at(m, t);
                let sums = paths.get(&(m as u64, t as u64));
                if sums.is_none() && w.is_zero() {
                    continue;
                }
                let w: BigInt = w << 106u32;
                let (p, q): (BigInt, BigInt) =
                    sums.map_or_else(Default::default, |(p, q)| (p.value(), q.value()));
                let mut e = (p * d - &w).abs();
                if signed {
                    e = e.max((q * d - &w).abs());
                }
                squared_sum += &e * &e;
                max = max.max(e);
            }
        }
        let scale: BigInt = d << 106u32;
        Deviation {
            squared_sum: BigRational::new(squared_sum, &scale * &scale),
            max: BigRational::new(max, scale),
        }
    }
}

/// `value < limit`, or an `IndexOutOfRange` rejection.
fn check_index(
    place: &str,
    name: &str,
    value: u64,
    limit: u64,
    bound: String,
) -> Result<(), Rejection> {
    if value < limit {
        return Ok(());
    }
    Err(reject(
        RejectionKind::IndexOutOfRange,
        place,
        format!("{name} = {value} is out of range ({bound})"),
    ))
}

/// The weight `name` of g at (stream, index), after checking that `value` equals it.
fn check_value(
    place: &str,
    name: &str,
    value: &Rational,
    seed: &Seed,
    stream: u64,
    index: u128,
) -> Result<i64, Rejection> {
    let claimed = parse(value, format!("{place}[2]"))?;
    let Some(numerator) = weight_numerator(seed, stream, index) else {
        return Err(reject(
            RejectionKind::IndexOutOfRange,
            place,
            format!(
                "weight {name} has index {index}, beyond the 2^67 weights of a ChaCha20 stream \
                 (64-bit block counter, 8 weights per block)"
            ),
        ));
    };
    let weight = BigRational::new(numerator.into(), WEIGHT_SCALE.into());
    if claimed != weight {
        return Err(reject(
            RejectionKind::ValueMismatch,
            place,
            format!(
                "value {} differs from g's weight {name} = {}",
                crate::numbers::abbreviate(&value.0),
                format_rational(&weight)
            ),
        ));
    }
    Ok(numerator)
}

/// `sample(seed, stream, index)` of spec section 3 as a numerator over 2^53: the u64
/// `w_{2 index} + 2^32 w_{2 index + 1}` of the keystream, in block `index / 8`. None when
/// that block number does not fit the 64-bit counter (index >= 2^67).
fn weight_numerator(seed: &Seed, stream: u64, index: u128) -> Option<i64> {
    let counter = u64::try_from(index / 8).ok()?;
    let block = sampler::chacha20_block(&seed.0, counter, stream);
    let at = 2 * (index % 8) as usize;
    let raw = u64::from(*block.get(at)?) | (u64::from(*block.get(at + 1)?) << 32);
    Some(sampler::numerator_of_raw(raw))
}

/// An exact integer sum: i128 while it fits, spilling into a BigInt.
#[derive(Default)]
struct ExactSum {
    small: i128,
    big: BigInt,
}

impl ExactSum {
    fn add(&mut self, x: i128) {
        match self.small.checked_add(x) {
            Some(sum) => self.small = sum,
            None => {
                self.big += self.small;
                self.small = x;
            }
        }
    }

    fn value(&self) -> BigInt {
        &self.big + self.small
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_match_the_sampler_and_reach_past_2_to_the_64() {
        let seed = Seed::from_u64(42);
        for (stream, index) in [
            (0u64, 0u64),
            (1, 0),
            (3, 12345),
            (5, 1 << 40),
            (2, u64::MAX),
        ] {
            assert_eq!(
                weight_numerator(&seed, stream, u128::from(index)),
                Some(sampler::sample_numerator(&seed, stream, index))
            );
        }
        // Index 2^64 + 9 is word pair 1 of block 2^61 + 1.
        let block = sampler::chacha20_block(&seed.0, (1 << 61) + 1, 4);
        let raw = u64::from(block[2]) | (u64::from(block[3]) << 32);
        let index = (1u128 << 64) + 9;
        assert_eq!(
            weight_numerator(&seed, 4, index),
            Some(sampler::numerator_of_raw(raw))
        );
        let last = (1u128 << 67) - 1;
        assert!(weight_numerator(&seed, 0, last).is_some());
        assert_eq!(weight_numerator(&seed, 0, last + 1), None);
        assert_eq!(weight_numerator(&seed, 0, u128::MAX), None);
    }

    #[test]
    fn exact_sum_spills_without_overflow() {
        let mut sum = ExactSum::default();
        for _ in 0..4 {
            sum.add(i128::MAX);
        }
        sum.add(-1);
        assert_eq!(sum.value(), BigInt::from(i128::MAX) * 4 - 1);
    }
}
