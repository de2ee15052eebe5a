//! The shape rules the reader applies while a certificate streams in: structs only from
//! JSON objects, and arrays whose lengths the [`Limits`] bound (layers, rows, columns, kept
//! entries, witness sides), each refusal naming its place and flag. The counts live in a
//! thread-local [`Reading`] for the duration of one read, since serde's derived readers
//! take no context.

use super::compact::OMITTED;
use super::{BlockBound, BlockTicket, JointBound, LayerJson, Limits, Rational, TermBound};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::cell::Cell;
use std::marker::PhantomData;

/// What the reader of this thread enforces, and what it has counted so far.
#[derive(Clone, Copy)]
pub(super) struct Reading {
    pub(super) limits: Limits,
    pub(super) kept: u64,
    /// Set when a limit stopped the reader (its error then becomes `LoadError::Limit`).
    pub(super) limit_hit: bool,
}

thread_local! {
    pub(super) static READING: Cell<Option<Reading>> = const { Cell::new(None) };
}

/// The limits of the read in progress on this thread (the defaults outside a read).
pub(super) fn limits_now() -> Limits {
    READING.with(|r| r.get().map_or_else(Limits::default, |r| r.limits))
}

/// A limit error: marks the reading so that the error is reported as `LoadError::Limit`.
pub(super) fn over_limit<E: de::Error>(message: String) -> E {
    mark_limit_hit();
    E::custom(message)
}

/// Records that a limit stopped the read in progress on this thread.
pub(super) fn mark_limit_hit() {
    READING.with(|r| {
        if let Some(mut state) = r.get() {
            state.limit_hit = true;
            r.set(Some(state));
        }
    });
}

/// A deserializer that reads structs only from JSON objects: serde's derived structs also
/// accept an array of the field values, which is not the format (docs/FORMAT.md section
/// 11: every object of section 7 must be a JSON object).
pub(super) struct ObjectOnly<D>(pub(super) D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A struct read through [`ObjectOnly`].
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj<T>, D::Error> {
        T::deserialize(ObjectOnly(d)).map(Obj)
    }
}

/// A struct field read through [`ObjectOnly`]: a JSON object, never an array.
pub(super) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

/// An optional object field that is present: absence is `None` (`#[serde(default)]`), but
/// `null` is not a value of the format and is rejected like any other wrong type
/// (docs/FORMAT.md section 11: `null` is not absence).
pub(super) fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Some(Obj::<T>::deserialize(d)?.0))
}

/// An optional field that is present (see [`optional_object`]): `null` is rejected.
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Which limit bounds an array's length.
#[derive(Clone, Copy)]
enum Limit {
    Layers,
    Dimension,
    WitnessSide,
    Kept,
}

/// An array's limit and its place in the certificate (for the message).
#[derive(Clone, Copy)]
struct Bounded {
    limit: Limit,
    place: &'static str,
}

impl Bounded {
    /// `Err` with the message when one more item would pass the limit: `count >= max` for
    /// the array's own `count` items, or for the kept entries of the whole ticket so far
    /// (docs/FORMAT.md section 11: `--max-layers`, `--max-dimension`, `--max-witness-side`,
    /// `--max-kept-entries`). Cost: constant.
    fn admit(self, count: usize) -> Result<(), String> {
        let limits = limits_now();
        let (max, flag) = match self.limit {
            Limit::Layers => (limits.max_layers as u64, "--max-layers"),
            Limit::Dimension => (limits.max_dimension, "--max-dimension"),
            Limit::WitnessSide => (limits.max_witness_side as u64, "--max-witness-side"),
            Limit::Kept => (limits.max_kept_entries, "--max-kept-entries"),
        };
        let (count, what) = match self.limit {
            Limit::Kept => (
                READING.with(|r| r.get().map_or(0, |state| state.kept)),
                "kept entries and products in the whole certificate",
            ),
            _ => (count as u64, "entries"),
        };
        if count >= max {
            return Err(format!(
                "{}: more than {max} {what}, the limit of {flag}",
                self.place
            ));
        }
        Ok(())
    }

    /// Counts an item read (kept entries are counted across the whole certificate).
    fn count(self) {
        if let Limit::Kept = self.limit {
            READING.with(|r| {
                if let Some(mut state) = r.get() {
                    state.kept = state.kept.saturating_add(1);
                    r.set(Some(state));
                }
            });
        }
    }
}

/// A JSON array whose length a limit bounds, of items read by `T`: an item that would pass
/// the limit is skipped unread and refuses the array, so memory never exceeds the limit.
struct BoundedVec<T> {
    bound: Bounded,
    item: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BoundedVec<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::new();
        loop {
            if let Err(m) = self.bound.admit(items.len()) {
                // Only an item that is actually there breaks the limit.
                return match seq.next_element::<de::IgnoredAny>()? {
                    Some(_) => Err(over_limit(m)),
                    None => Ok(items),
                };
            }
            match seq.next_element::<T>()? {
                Some(item) => {
                    self.bound.count();
                    items.push(item);
                }
                None => return Ok(items),
            }
        }
    }
}

/// An array at `place` with at most the items `limit` allows.
fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    limit: Limit,
    place: &'static str,
) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(BoundedVec {
        bound: Bounded { limit, place },
        item: PhantomData,
    })
}

/// An array of objects, one per layer, at most `max_layers`.
fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    place: &'static str,
) -> Result<Vec<T>, D::Error> {
    let items: Vec<Obj<T>> = bounded(d, Limit::Layers, place)?;
    Ok(items.into_iter().map(|o| o.0).collect())
}

/// `target.layers`: at most `max_layers` objects (docs/FORMAT.md section 7.2).
pub(super) fn layers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LayerJson>, D::Error> {
    objects(d, "target.layers")
}

/// `ticket`: at most `max_layers` objects (docs/FORMAT.md section 7.5).
pub(super) fn ticket<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BlockTicket>, D::Error> {
    objects(d, "ticket")
}

/// `bound.blocks`: at most `max_layers` objects (docs/FORMAT.md section 7.6).
pub(super) fn bound_blocks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<BlockBound>, D::Error> {
    objects(d, "bound.blocks")
}

/// Version 2's terms, one object per block; `null` is rejected (see [`present`]).
pub(super) fn terms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<TermBound>>, D::Error> {
    objects(d, "bound.terms").map(Some)
}

/// Version 2's joint form, one object; `null` is rejected (see [`present`]).
pub(super) fn joint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<JointBound>, D::Error> {
    object(d).map(Some)
}

/// A row of the joint form's multipliers, at most `max_dimension` entries.
struct JointRow(Vec<Rational>);

impl<'de> Deserialize<'de> for JointRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JointRow, D::Error> {
        bounded(d, Limit::Dimension, "bound.joint multipliers[]").map(JointRow)
    }
}

/// `bound.joint.head`: at most `max_layers` rows.
pub(super) fn joint_head<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<JointRow> = bounded(d, Limit::Layers, "bound.joint.head")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// One chain of `bound.joint.chains`: at most `max_layers` rows.
struct JointChain(Vec<Vec<Rational>>);

impl<'de> Deserialize<'de> for JointChain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JointChain, D::Error> {
        let rows: Vec<JointRow> = bounded(d, Limit::Layers, "bound.joint.chains[]")?;
        Ok(JointChain(rows.into_iter().map(|r| r.0).collect()))
    }
}

/// `bound.joint.chains`: at most `max_layers` chains.
pub(super) fn joint_chains<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<Vec<Vec<Rational>>>, D::Error> {
    let chains: Vec<JointChain> = bounded(d, Limit::Layers, "bound.joint.chains")?;
    Ok(chains.into_iter().map(|c| c.0).collect())
}

/// The joint form's products, counted with the kept entries against `max_kept_entries`.
pub(super) fn joint_products<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(u64, u64, Rational)>, D::Error> {
    let entries: Vec<Entry<3>> = bounded(d, Limit::Kept, "bound.joint.products")?;
    Ok(entries.into_iter().map(|e| e.0).collect())
}

/// A row of multipliers, at most `max_dimension` entries.
struct MultiplierRow(Vec<Rational>);

impl<'de> Deserialize<'de> for MultiplierRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MultiplierRow, D::Error> {
        bounded(d, Limit::Dimension, "bound.terms[].multipliers[]").map(MultiplierRow)
    }
}

pub(super) fn multipliers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<MultiplierRow> = bounded(d, Limit::Layers, "bound.terms[].multipliers")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The products of a term, counted with the kept entries against `max_kept_entries`.
pub(super) fn products<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(u64, u64, Rational)>, D::Error> {
    let entries: Vec<Entry<3>> = bounded(d, Limit::Kept, "bound.terms[].products")?;
    Ok(entries.into_iter().map(|e| e.0).collect())
}

/// `random_network.hidden_widths`: at most `max_layers` integers; the widths themselves
/// are not limited (docs/FORMAT.md sections 7.4 and 11).
pub(super) fn widths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    bounded(d, Limit::Layers, "random_network.hidden_widths")
}

/// `ticket[i].hidden` or `ticket[i].output`: entries of three elements, or two (the value
/// left out, compact certificates only: docs/FORMAT.md section 14.1), counted against `max_kept_entries`
/// across the whole ticket (sections 7.5 and 11).
pub(super) fn kept<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u64, u64, Rational)>, D::Error> {
    let entries: Vec<Entry<2>> = bounded(d, Limit::Kept, "ticket")?;
    Ok(entries.into_iter().map(|e| e.0).collect())
}

/// An entry `[index, index, value]`, or with `SHORTEST = 2` also `[index, index]`, whose
/// value becomes [`OMITTED`] (filled in once the certificate is read). serde_json reports a
/// fourth element of a tuple as "trailing characters", a syntax error; here it is a wrong
/// shape (`invalid length`).
struct Entry<const SHORTEST: usize>((u64, u64, Rational));

impl<'de, const SHORTEST: usize> Deserialize<'de> for Entry<SHORTEST> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry<SHORTEST>, D::Error> {
        d.deserialize_seq(EntryVisitor::<SHORTEST>)
    }
}

struct EntryVisitor<const SHORTEST: usize>;

impl<'de, const SHORTEST: usize> Visitor<'de> for EntryVisitor<SHORTEST> {
    type Value = Entry<SHORTEST>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if SHORTEST == 2 {
            f.write_str("an array [index, index, value] or [index, index]")
        } else {
            f.write_str("an array of 3 elements [index, index, value]")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry<SHORTEST>, A::Error> {
        let length = |n| de::Error::invalid_length(n, &self);
        let a = seq.next_element()?.ok_or_else(|| length(0))?;
        let b = seq.next_element()?.ok_or_else(|| length(1))?;
        let c = match seq.next_element::<Rational>()? {
            None if SHORTEST == 2 => return Ok(Entry((a, b, Rational(OMITTED.to_string())))),
            None => return Err(length(2)),
            Some(c) if c.0 == OMITTED => {
                return Err(de::Error::custom("a kept value is not a rational"));
            }
            Some(c) => c,
        };
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "a kept entry has more than 3 elements, expected [index, index, value]",
            ));
        }
        Ok(Entry((a, b, c)))
    }
}

/// A row of a weight matrix, at most `max_dimension` entries.
struct DimensionRow(Vec<Rational>);

impl<'de> Deserialize<'de> for DimensionRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DimensionRow, D::Error> {
        bounded(d, Limit::Dimension, "target.layers[].weights[]").map(DimensionRow)
    }
}

/// `target.layers[i].weights`: at most `max_dimension` rows of at most `max_dimension`
/// entries (docs/FORMAT.md sections 7.2 and 11); that each row has n_{i-1} entries is
/// checked with the target.
pub(super) fn matrix<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<DimensionRow> = bounded(d, Limit::Dimension, "target.layers[].weights")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// A row of a witness factor, at most `max_witness_side` entries.
struct WitnessRow(Vec<Rational>);

impl<'de> Deserialize<'de> for WitnessRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WitnessRow, D::Error> {
        bounded(d, Limit::WitnessSide, "lipschitz_witness.factor[]").map(WitnessRow)
    }
}

/// `lipschitz_witness.factor`: at most `max_witness_side` rows of at most as many entries
/// (docs/FORMAT.md sections 6.2 and 11); the triangular shape is checked with the claim.
pub(super) fn factor<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Rational>>, D::Error> {
    let rows: Vec<WitnessRow> = bounded(d, Limit::WitnessSide, "lipschitz_witness.factor")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
