//! Mutants of the header and the schema: seed, format, version, rng, distribution and norm;
//! unknown, duplicate and missing fields; meta; the domain's nonnegative flag.

use super::*;

pub(crate) fn header_mutants(mk: &mut Maker, base: &Json, seed_bytes: usize) {
    let seed = base
        .get("random_network")
        .unwrap()
        .get("seed")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let sp = path(&[key("random_network"), key("seed")]);
    let bytes: Vec<usize> = if seed_bytes >= 32 {
        (0..32).collect()
    } else {
        vec![0, 1, 13, 31]
    };
    for byte in bytes {
        let mut key_bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&seed[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        key_bytes[byte] ^= 1 << (byte % 8);
        let flipped: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
        mk.set(
            "seed byte flipped",
            Expect::Invalid(Kind::ValueMismatch),
            sp.clone(),
            Json::str(flipped),
        );
    }
    mk.set(
        "seed in upper case",
        Expect::Valid,
        sp.clone(),
        Json::str(seed.to_uppercase()),
    );
    mk.set(
        "seed 63 digits",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(&seed[1..]),
    );
    mk.set(
        "seed 65 digits",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(format!("{seed}0")),
    );
    mk.set(
        "seed not hex",
        Expect::Invalid(Kind::Header),
        sp.clone(),
        Json::str(format!("g{}", &seed[1..])),
    );
    mk.set(
        "seed with 0x",
        Expect::Invalid(Kind::Header),
        sp,
        Json::str(format!("0x{}", &seed[2..])),
    );

    mk.set(
        "format wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("format")]),
        Json::str("slth-network"),
    );
    mk.set(
        "version 2",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(2),
    );
    mk.set(
        "version 0",
        Expect::Invalid(Kind::Header),
        path(&[key("version")]),
        Json::num(0),
    );
    mk.set(
        "version as a string",
        Expect::Invalid(Kind::Schema),
        path(&[key("version")]),
        Json::str("1"),
    );
    mk.set(
        "version 1.0",
        Expect::Invalid(Kind::Schema),
        path(&[key("version")]),
        Json::num("1.0"),
    );
    mk.set(
        "rng wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("random_network"), key("rng")]),
        Json::str("chacha8"),
    );
    mk.set(
        "distribution wrong",
        Expect::Invalid(Kind::Header),
        path(&[key("random_network"), key("distribution")]),
        Json::str("uniform-dyadic-52"),
    );
    mk.set(
        "norm l1",
        Expect::Invalid(Kind::Domain),
        path(&[key("domain"), key("norm")]),
        Json::str("l1"),
    );
    mk.set(
        "norm L2",
        Expect::Invalid(Kind::Domain),
        path(&[key("domain"), key("norm")]),
        Json::str("L2"),
    );
    mk.push(
        "unknown top-level field",
        Expect::Invalid(Kind::Schema),
        |j| j.set("extra", Json::Null),
    );
    mk.push(
        "unknown field in a bound block",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.at_mut(&path(&[key("bound"), key("blocks"), idx(0)]))
                .unwrap()
                .set("note", Json::str("x"));
        },
    );
    mk.push(
        "unknown field in the domain",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.get_mut("domain").unwrap().set("center", Json::str("0"));
        },
    );
    mk.push(
        "duplicate key (version twice, same value)",
        Expect::Invalid(Kind::Schema),
        |j| {
            if let Json::Obj(m) = j {
                m.push(("version".into(), Json::num(1)));
            }
        },
    );
    mk.push(
        "duplicate key (epsilon twice)",
        Expect::Invalid(Kind::Schema),
        |j| {
            if let Some(Json::Obj(m)) = j.get_mut("bound") {
                m.push(("epsilon".into(), Json::str("1000")));
            }
        },
    );
    mk.push(
        "missing field (domain.norm)",
        Expect::Invalid(Kind::Schema),
        |j| {
            j.get_mut("domain").unwrap().remove("norm");
        },
    );
    mk.push("meta replaced", Expect::Valid, |j| {
        j.set(
            "meta",
            Json::Obj(vec![
                ("producer".into(), Json::str("someone else")),
                ("n".into(), Json::num("1e999")),
            ]),
        );
    });
    mk.push("meta removed", Expect::Valid, |j| j.remove("meta"));
    mk.push("meta deeply nested (100 levels)", Expect::Valid, |j| {
        let mut v = Json::Arr(vec![]);
        for _ in 0..100 {
            v = Json::Arr(vec![v]);
        }
        j.set("meta", v);
    });
    mk.push("meta with duplicate keys", Expect::Valid, |j| {
        j.set(
            "meta",
            Json::Obj(vec![("a".into(), Json::num(1)), ("a".into(), Json::num(2))]),
        );
    });
    let nonneg = base.get("domain").unwrap().get("nonnegative") == Some(&Json::Bool(true));
    let np = path(&[key("domain"), key("nonnegative")]);
    mk.push("domain nonnegative flipped", Expect::Decide, |j| {
        j.get_mut("domain")
            .unwrap()
            .set("nonnegative", Json::Bool(!nonneg));
    });
    mk.push("domain nonnegative removed", Expect::Decide, |j| {
        j.get_mut("domain").unwrap().remove("nonnegative")
    });
    mk.set(
        "domain nonnegative as a string",
        Expect::Invalid(Kind::Schema),
        np.clone(),
        Json::str("true"),
    );
    mk.set(
        "domain nonnegative as 1",
        Expect::Invalid(Kind::Schema),
        np,
        Json::num(1),
    );
}
