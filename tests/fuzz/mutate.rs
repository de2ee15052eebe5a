//! Mutators: hostile JSON values, tree edits of a parsed certificate (numbers, strings,
//! arrays, objects, raw tokens, duplicate keys, type swaps, subtree splices) and byte edits
//! (bit flips, interesting bytes and tokens, insertions, deletions, truncations, splices
//! between corpus files); `make_input` picks one for execution i of a seed.

use super::*;

/// Hostile JSON values (as raw text where JSON itself cannot say it).
fn hostile_value(rng: &mut Rng) -> Json {
    let huge_digits = |n: usize| "9".repeat(n);
    match rng.below(44) {
        0 => Json::num("0"),
        1 => Json::num("-1"),
        2 => Json::num("-0"),
        3 => Json::num("1e2"),
        4 => Json::num("0.5"),
        5 => Json::num("18446744073709551615"),
        6 => Json::num("18446744073709551616"),
        7 => Json::num("1152921504606846976"), // 2^60
        8 => Json::num("281474976710656"),     // 2^48
        9 => Json::num("4294967296"),
        10 => Json::num(huge_digits(1000)),
        11 => Json::num("1e999999999"),
        12 => Json::Num("NaN".into()),
        13 => Json::Num("Infinity".into()),
        14 => Json::Num("-Infinity".into()),
        15 => Json::str(""),
        16 => Json::str("NaN"),
        17 => Json::str("Infinity"),
        18 => Json::str("1/0"),
        19 => Json::str("0/0"),
        20 => Json::str("1e10001"),
        21 => Json::str("1e-10000"),
        22 => Json::str("-1/3"),
        23 => Json::str("0.1"),
        24 => Json::str("a".repeat(100_000)),
        25 => Json::str(format!(
            "{}/7",
            huge_digits(if rng.chance(5) { 1_000_000 } else { 20_000 })
        )),
        26 => Json::str(huge_digits(10_000)),
        27 => Json::str(huge_digits(10_001)),
        28 => Json::str("\u{663}"),
        29 => Json::str("\u{0}"),
        30 => Json::str("1/2 "),
        31 => Json::str("+1/2"),
        32 => Json::str("1_0"),
        33 => Json::Arr(vec![]),
        34 => Json::Arr(vec![Json::Arr(vec![])]),
        35 => {
            let depth = if rng.chance(10) { 100_000 } else { 200 };
            Json::Num(format!("{}{}", "[".repeat(depth), "]".repeat(depth)))
        }
        36 => Json::Num(format!(
            "[{}0]",
            "0,".repeat(if rng.chance(10) { 100_000 } else { 1000 })
        )),
        37 => Json::Obj(vec![]),
        38 => Json::Null,
        39 => Json::Bool(true),
        40 => Json::str("relu"),
        41 => Json::str("spectral"),
        42 => Json::str("0000000000000000000000000000000000000000000000000000000000000000"),
        _ => Json::num(rng.next() >> rng.below(64)),
    }
}

/// Paths to every node of the tree (capped).
fn node_paths(v: &Json, here: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if out.len() > 20_000 {
        return;
    }
    out.push(here.clone());
    let children: Vec<&Json> = match v {
        Json::Arr(items) => items.iter().collect(),
        Json::Obj(members) => members.iter().map(|(_, x)| x).collect(),
        _ => return,
    };
    for (i, c) in children.into_iter().enumerate() {
        here.push(i);
        node_paths(c, here, out);
        here.pop();
    }
}

fn node_mut<'a>(v: &'a mut Json, path: &[usize]) -> &'a mut Json {
    let mut node = v;
    for &i in path {
        node = match node {
            Json::Arr(items) => &mut items[i],
            Json::Obj(members) => &mut members[i].1,
            _ => unreachable!(),
        };
    }
    node
}

fn node<'a>(v: &'a Json, path: &[usize]) -> &'a Json {
    let mut node = v;
    for &i in path {
        node = match node {
            Json::Arr(items) => &items[i],
            Json::Obj(members) => &members[i].1,
            _ => unreachable!(),
        };
    }
    node
}

fn mutate_tree(rng: &mut Rng, tree: &mut Json) {
    let mut paths = Vec::new();
    node_paths(tree, &mut Vec::new(), &mut paths);
    let path = rng.pick(&paths).clone();
    let donor_path = rng.pick(&paths).clone();
    let donor = node(tree, &donor_path).clone();
    let target = node_mut(tree, &path);
    match rng.below(12) {
        0..=3 => *target = hostile_value(rng),
        4 => {
            // A number nudged, or a string's number turned into a JSON number.
            *target = match target {
                Json::Num(t) => match t.parse::<u64>() {
                    Ok(n) => Json::num(match rng.below(3) {
                        0 => n.wrapping_add(1),
                        1 => n.wrapping_sub(1),
                        _ => n.wrapping_mul(2),
                    }),
                    Err(_) => Json::num("1"),
                },
                Json::Str(s) => Json::Num(s.clone()),
                _ => hostile_value(rng),
            }
        }
        5 => *target = donor,
        6 => match target {
            Json::Arr(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                items.remove(i);
            }
            Json::Obj(members) if !members.is_empty() => {
                let i = rng.below(members.len());
                members.remove(i);
            }
            _ => *target = Json::Arr(vec![]),
        },
        7 => match target {
            Json::Arr(items) if !items.is_empty() => {
                let i = rng.below(items.len());
                let copy = items[i].clone();
                items.insert(rng.below(items.len() + 1), copy);
            }
            Json::Obj(members) if !members.is_empty() => {
                // A duplicate key, with the same or another value.
                let i = rng.below(members.len());
                let (k, v) = members[i].clone();
                let v = if rng.chance(50) {
                    v
                } else {
                    hostile_value(rng)
                };
                members.push((k, v));
            }
            _ => *target = hostile_value(rng),
        },
        8 => match target {
            Json::Arr(items) if items.len() >= 2 => {
                let (i, j) = (rng.below(items.len()), rng.below(items.len()));
                items.swap(i, j);
            }
            Json::Obj(members) => members.push(("extra".into(), hostile_value(rng))),
            _ => *target = hostile_value(rng),
        },
        9 => {
            // An object written as the array of its values (serde's derived readers
            // accept that for structs), or wrapped in an array.
            let replacement = match &*target {
                Json::Obj(members) => Json::Arr(members.iter().map(|(_, v)| v.clone()).collect()),
                other => Json::Arr(vec![other.clone()]),
            };
            *target = replacement;
        }
        10 => {
            if let Json::Str(s) = target {
                let mut t: Vec<char> = s.chars().collect();
                if !t.is_empty() {
                    let i = rng.below(t.len());
                    t[i] = *rng.pick(&['0', '9', '-', '/', '.', 'e', '+', ' ', 'x', '1']);
                }
                *s = t.into_iter().collect();
            } else {
                *target = hostile_value(rng);
            }
        }
        _ => *target = Json::Arr(vec![std::mem::replace(target, Json::Null)]),
    }
}

const TOKENS: [&[u8]; 16] = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-",
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b"\\u0000",
    b"\\ud800",
    b",",
    b"null",
    b"18446744073709551616",
    b"\xef\xbb\xbf",
];

pub(crate) fn mutate_bytes(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[(String, Vec<u8>)]) {
    let n = data.len().max(1);
    match rng.below(9) {
        0 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            if !data.is_empty() {
                let i = rng.below(data.len());
                data[i] = *rng.pick(b"\"',:[]{}0123456789-+./eE\\ \n\x00\xff");
            }
        }
        2 => {
            let at = rng.below(n);
            let token = rng.pick(&TOKENS);
            let at = at.min(data.len());
            data.splice(at..at, token.iter().copied());
        }
        3 => {
            let at = rng.below(n).min(data.len());
            let len = rng.below(16);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        4 => {
            let a = rng.below(n).min(data.len());
            let b = (a + rng.below(64)).min(data.len());
            data.drain(a..b);
        }
        5 => {
            let a = rng.below(n).min(data.len());
            let b = (a + rng.below(256)).min(data.len());
            let chunk = data[a..b].to_vec();
            let at = rng.below(n).min(data.len());
            data.splice(at..at, chunk);
        }
        6 => {
            let keep = rng.below(n);
            data.truncate(keep);
        }
        7 => {
            // Splice: our prefix, another corpus file's suffix.
            let other = &rng.pick(corpus).1;
            let a = rng.below(n).min(data.len());
            let b = rng.below(other.len().max(1)).min(other.len());
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
        }
        _ => {
            // A digit run changed (indices, widths, numerators).
            let digits: Vec<usize> = (0..data.len())
                .filter(|&i| data[i].is_ascii_digit())
                .collect();
            if !digits.is_empty() {
                let i = *rng.pick(&digits);
                data[i] = b'0' + rng.below(10) as u8;
            }
        }
    }
}

/// The input of execution `i` of a run with base seed `seed`.
pub(crate) fn make_input(
    seed: u64,
    i: u64,
    corpus: &[(String, Vec<u8>)],
    trees: &[Option<Json>],
) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(0x100_0000_01b3) ^ i);
    let k = rng.below(corpus.len());
    let structured = trees[k].is_some() && rng.chance(60);
    if structured {
        let mut tree = trees[k].clone().unwrap();
        for _ in 0..1 + rng.below(3) {
            mutate_tree(&mut rng, &mut tree);
        }
        let mut bytes = tree.write().into_bytes();
        if rng.chance(10) {
            mutate_bytes(&mut rng, &mut bytes, corpus);
        }
        bytes
    } else {
        let mut data = corpus[k].1.clone();
        for _ in 0..1 + rng.below(6) {
            mutate_bytes(&mut rng, &mut data, corpus);
        }
        data
    }
}
