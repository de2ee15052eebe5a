//! The compact ticket (docs/FORMAT.md section 14.1): a kept entry may leave out its
//! value, `[j, t]` or `[m, j]`, since the value is g's weight at that place anyway. The
//! reader marks such an entry with [`OMITTED`]; once the whole certificate is read (its
//! version, seed and target may come after the ticket in the file), [`complete`] refuses
//! the mark outside a compact certificate and writes g's weight in its place, so that everything after
//! the reader (the checks, eval, export, attack) sees an ordinary ticket. The checks then
//! compare that value with g's weight like any other: they decide the same things
//! (indices, duplicates, the keystream's end) for an entry with or without its value.

use super::{COMPACT_FORMAT_NAME, Certificate, Rational};
use crate::sampler::{Seed, StreamReader, WEIGHT_SCALE, hidden_stream, output_stream};

/// The value the reader gives a kept entry written without one. It is not a rational, and
/// a written value equal to it is refused by the reader, so it only ever means "omitted".
pub const OMITTED: &str = "\u{0}omitted";

/// The value written for an omitted entry whose weight cannot be computed: its block has no
/// layer, or its index lies beyond the keystream. The checks reject such an entry for that
/// reason (docs/FORMAT.md sections 5 and 9) before they look at a value.
const UNKNOWN: &str = "0";

/// A kept entry without its value (at `place`) in a certificate whose format is not the
/// compact one (docs/FORMAT.md section 14).
#[derive(Debug)]
pub(super) struct ValueLeftOut {
    pub place: String,
}

/// Refuses omitted values outside a compact certificate (INVALID, at the first such entry) and replaces
/// each with g's weight `n/2^53` as slth writes it. Cost: one pass over the ticket, and one
/// weight of g per omitted entry, read in increasing index order per stream.
///
/// With `write_values` false the marks stay (for the checks alone, which take [`OMITTED`] as g's
/// weight without formatting and parsing it: `verify` reads a compact file faster so).
pub(super) fn complete(c: &mut Certificate, write_values: bool) -> Result<(), ValueLeftOut> {
    let first = c.ticket.iter().enumerate().find_map(|(b, block)| {
        [("hidden", &block.hidden), ("output", &block.output)]
            .into_iter()
            .find_map(|(name, entries)| {
                let k = entries.iter().position(|e| e.2.0 == OMITTED)?;
                Some(format!("ticket[{b}].{name}[{k}]"))
            })
    });
    let Some(place) = first else {
        return Ok(());
    };
    if c.format != COMPACT_FORMAT_NAME {
        return Err(ValueLeftOut { place });
    }
    if !write_values {
        return Ok(());
    }
    // A malformed seed is rejected by the checks; the values written meanwhile are moot.
    let seed = Seed::from_hex(&c.random_network.seed).ok();
    let mut dims = vec![c.target.input_dim];
    dims.extend(c.target.layers.iter().map(|l| l.weights.len() as u64));
    for (b, block) in c.ticket.iter_mut().enumerate() {
        // Block i = b + 1; b counts a Vec, far below usize::MAX.
        let i = b.saturating_add(1);
        let (n_in, n_out) = match (dims.get(b), dims.get(i), &seed) {
            (Some(&n_in), Some(&n_out), Some(_)) => (Some(n_in), Some(n_out)),
            _ => (None, None),
        };
        let seed = seed.unwrap_or(Seed([0; 32]));
        fill(&mut block.hidden, n_in, &seed, hidden_stream(i));
        fill(&mut block.output, n_out, &seed, output_stream(i));
    }
    Ok(())
}

/// Writes g's weight at index `first * n + second` of `stream` into every omitted entry
/// (docs/FORMAT.md section 4.2: `[j, t]` at `j n_{i-1} + t`, `[m, j]` at `j n_i + m`), or
/// [`UNKNOWN`] when `n` is unknown or the index lies beyond the stream.
fn fill(entries: &mut [(u64, u64, Rational)], n: Option<u64>, seed: &Seed, stream: u64) {
    let mut omitted: Vec<(u128, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.2.0 == OMITTED)
        .map(|(k, &(a, b, _))| {
            // hidden [j, t]: j n + t; output [m, j]: j n + m. Below 2^128 since a, b, n
            // < 2^64, so the saturation never happens.
            let (j, other) = if stream & 1 == 0 { (a, b) } else { (b, a) };
            let index = n.map_or(u128::MAX, |n| {
                u128::from(j)
                    .saturating_mul(u128::from(n))
                    .saturating_add(u128::from(other))
            });
            (index, k)
        })
        .collect();
    // In index order, neighbouring weights share their ChaCha20 block.
    omitted.sort_unstable();
    let mut reader = StreamReader::new(*seed, stream);
    for (index, k) in omitted {
        let text = match reader.numerator_at(index) {
            Some(numerator) if n.is_some() => format!("{numerator}/{WEIGHT_SCALE}"),
            _ => UNKNOWN.to_string(),
        };
        entries[k].2 = Rational(text);
    }
}
