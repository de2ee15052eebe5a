//! Mutants of the ticket: kept values nudged or respelled, indices at and beyond the hidden
//! widths, a neuron moved, widths changed, blocks dropped.

use super::*;

fn entry_path(b: usize, list: &str, k: usize) -> Vec<Step> {
    path(&[key("ticket"), idx(b), key(list), idx(k)])
}

pub(crate) fn ticket_mutants(
    mk: &mut Maker,
    base: &Json,
    dims: &[u64],
    widths: &[u64],
    full: bool,
    cap: usize,
) {
    let depth = widths.len();
    let ticket = base.get("ticket").unwrap().as_array().unwrap();
    for b in 0..depth {
        let other = if b + 1 < depth {
            b + 1
        } else {
            b.saturating_sub(1)
        };
        let (n_in, n_out, width) = (dims[b], dims[b + 1], widths[b]);
        let mut max_j = None::<u64>;
        for list in ["hidden", "output"] {
            let entries = ticket[b].get(list).unwrap().as_array().unwrap();
            for e in entries {
                let a = e.as_array().unwrap();
                let j = if list == "hidden" {
                    num_of(&a[0])
                } else {
                    num_of(&a[1])
                };
                max_j = Some(max_j.map_or(j, |m: u64| m.max(j)));
            }
            for k in pick(entries.len(), cap, full) {
                let here = entry_path(b, list, k);
                let e = entries[k].as_array().unwrap();
                let (x, y) = (num_of(&e[0]), num_of(&e[1]));
                let value = fp::parse_rational(e[2].as_str().unwrap()).unwrap();
                let numer = (&value * BigRational::from_integer(fp::two53())).to_integer();
                let over = |n: BigInt| Json::str(format!("{n}/9007199254740992"));
                let at = |i: usize| {
                    let mut p = here.clone();
                    p.push(idx(i));
                    p
                };
                let mismatch = Expect::Invalid(Kind::ValueMismatch);
                mk.set("value +2/2^53", mismatch, at(2), over(&numer + 2));
                mk.set("value -2/2^53", mismatch, at(2), over(&numer - 2));
                mk.set(
                    "value +1/2^53 (even numerator)",
                    mismatch,
                    at(2),
                    over(&numer + 1),
                );
                mk.set("value negated", mismatch, at(2), over(-&numer));
                mk.set(
                    "value respelled unreduced",
                    Expect::Valid,
                    at(2),
                    Json::str(format!("{}/18014398509481984", &numer * 2)),
                );
                mk.set(
                    "value respelled as exact decimal",
                    Expect::Valid,
                    at(2),
                    Json::str(decimal_of(&value).unwrap()),
                );
                mk.set(
                    "value as a JSON float",
                    Expect::Invalid(Kind::Schema),
                    at(2),
                    Json::num("0.5"),
                );
                mk.set(
                    "value malformed",
                    Expect::Invalid(Kind::Number),
                    at(2),
                    Json::str("1/2/3"),
                );

                // Indices: neighbours, the first out of range, the largest u64, beyond u64.
                let (first_bound, second_bound) = if list == "hidden" {
                    (width, n_in)
                } else {
                    (n_out, width)
                };
                let range = Expect::Invalid(Kind::IndexOutOfRange);
                mk.set("index +1 (first)", Expect::Decide, at(0), Json::num(x + 1));
                if x > 0 {
                    mk.set("index -1 (first)", Expect::Decide, at(0), Json::num(x - 1));
                }
                mk.set("index +1 (second)", Expect::Decide, at(1), Json::num(y + 1));
                if y > 0 {
                    mk.set("index -1 (second)", Expect::Decide, at(1), Json::num(y - 1));
                }
                mk.set(
                    "index = bound (first)",
                    range,
                    at(0),
                    Json::num(first_bound),
                );
                mk.set(
                    "index = bound (second)",
                    range,
                    at(1),
                    Json::num(second_bound),
                );
                mk.set("index = 2^64 - 1", range, at(0), Json::num(u64::MAX));
                mk.set(
                    "index = 2^64",
                    Expect::Invalid(Kind::Schema),
                    at(0),
                    Json::num("18446744073709551616"),
                );
                mk.set(
                    "index = -1",
                    Expect::Invalid(Kind::Schema),
                    at(1),
                    Json::num("-1"),
                );
                mk.set(
                    "index as a JSON float",
                    Expect::Invalid(Kind::Schema),
                    at(1),
                    Json::num(format!("{y}.0")),
                );

                // Entries dropped, duplicated, moved and swapped between blocks.
                let list_path = path(&[key("ticket"), idx(b), key(list)]);
                let entry = entries[k].clone();
                mk.push(
                    if list == "hidden" {
                        "hidden entry dropped"
                    } else {
                        "output entry dropped"
                    },
                    Expect::Decide,
                    |j| {
                        j.at_mut(&list_path)
                            .unwrap()
                            .as_array_mut()
                            .unwrap()
                            .remove(k);
                    },
                );
                let dup_kind = if list == "hidden" {
                    Kind::DuplicateHidden
                } else {
                    Kind::DuplicateOutput
                };
                let e2 = entry.clone();
                mk.push("entry duplicated", Expect::Invalid(dup_kind), |j| {
                    j.at_mut(&list_path)
                        .unwrap()
                        .as_array_mut()
                        .unwrap()
                        .push(e2);
                });
                if other != b {
                    let to = path(&[key("ticket"), idx(other), key(list)]);
                    let e2 = entry.clone();
                    mk.push("entry moved to the other block", Expect::Decide, |j| {
                        j.at_mut(&list_path)
                            .unwrap()
                            .as_array_mut()
                            .unwrap()
                            .remove(k);
                        j.at_mut(&to).unwrap().as_array_mut().unwrap().push(e2);
                    });
                    let others = ticket[other].get(list).unwrap().as_array().unwrap();
                    if !others.is_empty() {
                        let k2 = k % others.len();
                        let (a, c) = (entry.clone(), others[k2].clone());
                        mk.push("entries swapped between blocks", Expect::Decide, |j| {
                            j.at_mut(&list_path).unwrap().as_array_mut().unwrap()[k] = c;
                            j.at_mut(&to).unwrap().as_array_mut().unwrap()[k2] = a;
                        });
                    }
                }
            }
        }
        // A kept neuron moved to the far end of a width-2^64 - 1 layer of g, with the true
        // weights there (u128 index arithmetic; beyond 2^67 the keystream ends).
        let hidden = ticket[b].get("hidden").unwrap().as_array().unwrap();
        let output = ticket[b].get("output").unwrap().as_array().unwrap();
        let seed_text = base
            .get("random_network")
            .unwrap()
            .get("seed")
            .unwrap()
            .as_str()
            .unwrap();
        let key_bytes: [u8; 32] =
            std::array::from_fn(|i| u8::from_str_radix(&seed_text[2 * i..2 * i + 2], 16).unwrap());
        for k in pick(hidden.len(), 2, false) {
            let e = hidden[k].as_array().unwrap();
            let (j, t) = (num_of(&e[0]), num_of(&e[1]));
            let far = u64::MAX - 1;
            let value = |stream: u64, index: u128, old: &Json| match fp::weight(
                &key_bytes, stream, index,
            ) {
                Some(n) => Json::str(format!("{n}/9007199254740992")),
                None => old.clone(),
            };
            let beyond = u128::from(far) * u128::from(n_in) + u128::from(t) >= 1 << 67
                || output.iter().any(|o| {
                    let o = o.as_array().unwrap();
                    num_of(&o[1]) == j
                        && u128::from(far) * u128::from(n_out) + u128::from(num_of(&o[0]))
                            >= 1 << 67
                });
            let expect = if beyond {
                Expect::Invalid(Kind::IndexOutOfRange)
            } else {
                Expect::Decide
            };
            mk.push(
                "neuron moved to j = 2^64 - 2 with g's weights there",
                expect,
                |root| {
                    *root
                        .at_mut(&path(&[
                            key("random_network"),
                            key("hidden_widths"),
                            idx(b),
                        ]))
                        .unwrap() = Json::num(u64::MAX);
                    let block = root.at_mut(&path(&[key("ticket"), idx(b)])).unwrap();
                    let h = &mut block.get_mut("hidden").unwrap().as_array_mut().unwrap()[k];
                    let h = h.as_array_mut().unwrap();
                    h[2] = value(
                        2 * b as u64,
                        u128::from(far) * u128::from(n_in) + u128::from(t),
                        &h[2],
                    );
                    h[0] = Json::num(far);
                    for o in block.get_mut("output").unwrap().as_array_mut().unwrap() {
                        let o = o.as_array_mut().unwrap();
                        if num_of(&o[1]) == j {
                            let m = num_of(&o[0]);
                            o[2] = value(
                                2 * b as u64 + 1,
                                u128::from(far) * u128::from(n_out) + u128::from(m),
                                &o[2],
                            );
                            o[1] = Json::num(far);
                        }
                    }
                },
            );
        }
        let block_path = path(&[key("ticket"), idx(b)]);
        mk.push("entries listed in reverse order", Expect::Valid, |j| {
            for list in ["hidden", "output"] {
                j.at_mut(&block_path)
                    .unwrap()
                    .get_mut(list)
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .reverse();
            }
        });
        // Widths: the prefix property makes any width above the largest index valid.
        let wpath = path(&[key("random_network"), key("hidden_widths"), idx(b)]);
        if let Some(max_j) = max_j {
            mk.set(
                "width = largest index + 1",
                Expect::Valid,
                wpath.clone(),
                Json::num(max_j + 1),
            );
            mk.set(
                "width = largest index (shrunk below it)",
                Expect::Invalid(Kind::IndexOutOfRange),
                wpath.clone(),
                Json::num(max_j),
            );
            mk.set(
                "width 0",
                Expect::Invalid(Kind::IndexOutOfRange),
                wpath.clone(),
                Json::num(0),
            );
        }
        mk.set(
            "width 2^60",
            Expect::Valid,
            wpath.clone(),
            Json::num(1u64 << 60),
        );
        mk.set(
            "width 2^64 - 1",
            Expect::Valid,
            wpath.clone(),
            Json::num(u64::MAX),
        );
        mk.set(
            "width 2^64",
            Expect::Invalid(Kind::Schema),
            wpath.clone(),
            Json::num("18446744073709551616"),
        );
        mk.push(
            "ticket block dropped",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.get_mut("ticket")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(b);
            },
        );
        mk.push(
            "bound block dropped",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&path(&[key("bound"), key("blocks")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(b);
            },
        );
        mk.push("width dropped", Expect::Invalid(Kind::Dimension), |j| {
            j.at_mut(&path(&[key("random_network"), key("hidden_widths")]))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .remove(b);
        });
    }
}
