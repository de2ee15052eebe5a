//! The certificate's shape, read from the oracle's own JSON tree.

use crate::*;
pub(crate) type Shape<T> = Result<T, Violation>;

pub(crate) fn schema(place: impl Into<String>, what: impl Into<String>) -> Violation {
    violation(&[Kind::Schema], place, what)
}

/// What a violation says when an array stands where the spec wants an object (serde's
/// derived readers accept a struct as the array of its field values; the spec does not).
pub const ARRAY_FOR_OBJECT: &str = "an array where the format has an object";

/// serde's derived readers also take a struct as the JSON array of its field values (in
/// declaration order, trailing defaulted fields optional). This rewrites such arrays into
/// the objects they stand for, so the rest of the certificate can still be judged; whether
/// it did is returned, and is itself a violation of the format.
pub fn objectify(root: &Json) -> (Json, bool) {
    let mut changed = false;
    let mut v = root.clone();
    as_object(&mut v, &CERTIFICATE_FIELDS, &mut changed);
    if let Json::Obj(_) = v {
        if let Some(t) = v.get_mut("target") {
            as_object(t, &["input_dim", "layers"], &mut changed);
            if let Some(Json::Arr(layers)) = t.get_mut("layers") {
                for l in layers {
                    as_object(l, &["weights", "activation"], &mut changed);
                }
            }
        }
        if let Some(d) = v.get_mut("domain") {
            as_object(d, &["norm", "radius", "nonnegative?"], &mut changed);
        }
        if let Some(r) = v.get_mut("random_network") {
            as_object(
                r,
                &["rng", "seed", "distribution", "hidden_widths"],
                &mut changed,
            );
        }
        if let Some(Json::Arr(blocks)) = v.get_mut("ticket") {
            for b in blocks {
                as_object(b, &["hidden", "output"], &mut changed);
            }
        }
        if let Some(b) = v.get_mut("bound") {
            as_object(b, &["blocks", "epsilon"], &mut changed);
            if let Some(Json::Arr(blocks)) = b.get_mut("blocks") {
                for c in blocks {
                    as_object(
                        c,
                        &[
                            "error",
                            "lipschitz",
                            "lipschitz_method?",
                            "lipschitz_witness?",
                            "error_method?",
                            "error_witness?",
                        ],
                        &mut changed,
                    );
                    for name in ["lipschitz_witness", "error_witness"] {
                        if let Some(w) = c.get_mut(name) {
                            as_object(w, &["shift", "factor"], &mut changed);
                        }
                    }
                }
            }
        }
    }
    (v, changed)
}

pub(crate) const CERTIFICATE_FIELDS: [&str; 8] = [
    "format",
    "version",
    "target",
    "domain",
    "random_network",
    "ticket",
    "bound",
    "meta?",
];

/// An array of as many values as `fields` (names ending in `?` may be left off at the
/// end) becomes the object; anything else stays as it is.
pub(crate) fn as_object(v: &mut Json, fields: &[&str], changed: &mut bool) {
    let Json::Arr(items) = v else { return };
    let required = fields.iter().filter(|f| !f.ends_with('?')).count();
    if items.len() < required || items.len() > fields.len() {
        return;
    }
    let members = fields
        .iter()
        .zip(items.iter())
        .map(|(f, x)| (f.trim_end_matches('?').to_string(), x.clone()))
        .collect();
    *v = Json::Obj(members);
    *changed = true;
}

/// An object with exactly the allowed members, each at most once.
pub(crate) fn members<'a>(
    v: &'a Json,
    place: &str,
    required: &[&str],
    optional: &[&str],
) -> Shape<BTreeMap<&'a str, &'a Json>> {
    let Json::Obj(list) = v else {
        return Err(schema(place, "expected an object"));
    };
    let mut map = BTreeMap::new();
    for (k, x) in list {
        if !required.contains(&k.as_str()) && !optional.contains(&k.as_str()) {
            return Err(schema(place, format!("unknown field {k:?}")));
        }
        if map.insert(k.as_str(), x).is_some() {
            return Err(schema(place, format!("duplicate field {k:?}")));
        }
    }
    for r in required {
        if !map.contains_key(r) {
            return Err(schema(place, format!("missing field {r:?}")));
        }
    }
    Ok(map)
}

pub(crate) fn string<'a>(v: &'a Json, place: &str) -> Shape<&'a str> {
    v.as_str().ok_or_else(|| schema(place, "expected a string"))
}

/// A JSON integer >= 0 written without sign, fraction or exponent; beyond u64 is a limit.
pub(crate) fn integer(v: &Json, place: &str) -> Shape<u64> {
    let Json::Num(text) = v else {
        return Err(schema(place, "expected an integer"));
    };
    if text.starts_with('-') {
        // Negative, or -0 (a float to serde, and not how the format writes 0).
        return Err(schema(place, format!("{text} is not an integer >= 0")));
    }
    if !all_digits(text) {
        return Err(schema(place, format!("{text} is not an integer")));
    }
    let value: Option<u64> = if text.len() > 25 {
        None
    } else {
        text.parse().ok()
    };
    value.ok_or_else(|| {
        violation(
            &[Kind::Schema, Kind::Limit],
            place,
            format!("{text} is beyond 2^64"),
        )
    })
}

pub(crate) fn array<'a>(v: &'a Json, place: &str) -> Shape<&'a Vec<Json>> {
    v.as_array()
        .ok_or_else(|| schema(place, "expected an array"))
}

/// `[a, b, "value"]`
pub(crate) fn entry(v: &Json, place: &str) -> Shape<(u64, u64, String)> {
    let items = array(v, place)?;
    if items.len() != 3 {
        return Err(schema(place, "expected [index, index, value]"));
    }
    Ok((
        integer(&items[0], place)?,
        integer(&items[1], place)?,
        string(&items[2], place)?.to_string(),
    ))
}

/// A kept entry: `[a, b, "value"]`, or `[a, b]` with the value left out (a compact certificate,
/// docs/FORMAT.md section 14.1; whether the format allows it is checked with the header).
pub(crate) fn kept_entry(v: &Json, place: &str) -> Shape<KeptEntry> {
    let items = array(v, place)?;
    if items.len() != 2 && items.len() != 3 {
        return Err(schema(
            place,
            "expected [index, index, value] or [index, index]",
        ));
    }
    let value = match items.get(2) {
        Some(x) => Some(string(x, place)?.to_string()),
        None => None,
    };
    Ok((
        integer(&items[0], place)?,
        integer(&items[1], place)?,
        value,
    ))
}

pub(crate) type KeptEntry = (u64, u64, Option<String>);

/// The `format` of a compact certificate (docs/FORMAT.md section 14.1).
pub(crate) const COMPACT: &str = "slth-compact-certificate";

/// The place of the first kept entry without value, if any.
pub(crate) fn first_omitted(c: &Parsed) -> Option<String> {
    c.ticket
        .iter()
        .enumerate()
        .find_map(|(b, (hidden, output))| {
            let at = |name: &str, list: &[KeptEntry]| {
                let k = list.iter().position(|e| e.2.is_none())?;
                Some(format!("ticket[{b}].{name}[{k}]"))
            };
            at("hidden", hidden).or_else(|| at("output", output))
        })
}

pub(crate) struct Layer {
    pub(crate) weights: Vec<Vec<String>>,
    pub(crate) activation: String,
}

pub(crate) struct BlockClaim {
    pub(crate) error: String,
    pub(crate) lipschitz: String,
    pub(crate) method: Option<String>,
    pub(crate) witness: Option<(String, Vec<Vec<String>>)>,
    /// Version 2 (section 12.9).
    pub(crate) error_method: Option<String>,
    pub(crate) error_witness: Option<(String, Vec<Vec<String>>)>,
}

/// An optional `{"shift", "factor"}` witness object (null is not absence).
fn read_witness(
    c: &BTreeMap<&str, &Json>,
    name: &str,
    place: &str,
) -> Shape<Option<(String, Vec<Vec<String>>)>> {
    let place = format!("{place}.{name}");
    match c.get(name) {
        None => Ok(None),
        Some(Json::Null) => Err(schema(&place, format!("{name} is null"))),
        Some(w) => {
            let w = members(w, &place, &["shift", "factor"], &[])?;
            let mut rows = Vec::new();
            for row in array(w["factor"], &place)? {
                rows.push(
                    array(row, &place)?
                        .iter()
                        .map(|x| string(x, &place).map(str::to_string))
                        .collect::<Shape<Vec<_>>>()?,
                );
            }
            Ok(Some((string(w["shift"], &place)?.to_string(), rows)))
        }
    }
}

pub(crate) type Entries = Vec<(u64, u64, String)>;

/// A version 2 term (docs/FORMAT.md section 12.5), every number still text.
#[derive(Hash)]
pub(crate) struct TermText {
    pub(crate) lipschitz: String,
    pub(crate) multipliers: Vec<Vec<String>>,
    pub(crate) products: Entries,
    pub(crate) shift: String,
    pub(crate) factor: Vec<Vec<String>>,
}

fn read_term(v: &Json, place: &str) -> Shape<TermText> {
    let t = members(
        v,
        place,
        &["lipschitz", "multipliers", "witness"],
        &["products"],
    )?;
    // Section 12.5: "no, default empty"; null is not absence (as section 11 says of the
    // optional keys of version 1).
    let products = match t.get("products") {
        None => Vec::new(),
        Some(p) => {
            let place = format!("{place}.products");
            array(p, &place)?
                .iter()
                .map(|e| entry(e, &place))
                .collect::<Shape<_>>()?
        }
    };
    let wplace = format!("{place}.witness");
    let w = members(t["witness"], &wplace, &["shift", "factor"], &[])?;
    Ok(TermText {
        lipschitz: string(t["lipschitz"], &format!("{place}.lipschitz"))?.to_string(),
        multipliers: rows(t["multipliers"], &format!("{place}.multipliers"))?,
        products,
        shift: string(w["shift"], &format!("{wplace}.shift"))?.to_string(),
        factor: rows(w["factor"], &format!("{wplace}.factor"))?,
    })
}

/// Version 2's joint form (docs/FORMAT.md section 12.10.4), every number still text.
#[derive(Hash)]
pub(crate) struct JointText {
    pub(crate) lipschitz: String,
    pub(crate) head: Vec<Vec<String>>,
    pub(crate) chains: Vec<Vec<Vec<String>>>,
    pub(crate) products: Entries,
    pub(crate) shift: String,
    pub(crate) factor: Vec<Vec<String>>,
}

fn strings(v: &Json, place: &str) -> Shape<Vec<String>> {
    array(v, place)?
        .iter()
        .map(|x| string(x, place).map(str::to_string))
        .collect()
}

fn rows(v: &Json, place: &str) -> Shape<Vec<Vec<String>>> {
    array(v, place)?
        .iter()
        .map(|row| strings(row, place))
        .collect()
}

/// `bound.joint`: a closed object; `products` may be left out (default empty), null is
/// not absence.
fn read_joint(v: &Json, place: &str) -> Shape<JointText> {
    let t = members(
        v,
        place,
        &["lipschitz", "head", "chains", "witness"],
        &["products"],
    )?;
    let products = match t.get("products") {
        None => Vec::new(),
        Some(p) => {
            let place = format!("{place}.products");
            array(p, &place)?
                .iter()
                .map(|e| entry(e, &place))
                .collect::<Shape<_>>()?
        }
    };
    let cplace = format!("{place}.chains");
    let chains = array(t["chains"], &cplace)?
        .iter()
        .enumerate()
        .map(|(i, c)| rows(c, &format!("{cplace}[{i}]")))
        .collect::<Shape<Vec<_>>>()?;
    let wplace = format!("{place}.witness");
    let w = members(t["witness"], &wplace, &["shift", "factor"], &[])?;
    Ok(JointText {
        lipschitz: string(t["lipschitz"], &format!("{place}.lipschitz"))?.to_string(),
        head: rows(t["head"], &format!("{place}.head"))?,
        chains,
        products,
        shift: string(w["shift"], &format!("{wplace}.shift"))?.to_string(),
        factor: rows(w["factor"], &format!("{wplace}.factor"))?,
    })
}

/// A kept path: (row m, column t, V numerator, U numerator), values over 2^53.
pub type Path = (usize, usize, i64, i64);

/// The certificate with its shape checked, every number still text.
pub(crate) struct Parsed {
    pub(crate) format: String,
    pub(crate) version: u64,
    pub(crate) input_dim: u64,
    pub(crate) layers: Vec<Layer>,
    pub(crate) norm: String,
    pub(crate) radius: String,
    pub(crate) nonnegative: bool,
    pub(crate) rng: String,
    pub(crate) seed: String,
    pub(crate) distribution: String,
    pub(crate) widths: Vec<u64>,
    pub(crate) ticket: Vec<(Vec<KeptEntry>, Vec<KeptEntry>)>,
    pub(crate) blocks: Vec<BlockClaim>,
    pub(crate) epsilon: String,
    /// `bound.terms` when the key is present (version 2).
    pub(crate) terms: Option<Vec<TermText>>,
    /// `bound.joint` when the key is present (version 2, section 12.10).
    pub(crate) joint: Option<JointText>,
}

pub(crate) fn read_shape(root: &Json) -> Shape<Parsed> {
    let top = members(
        root,
        "$",
        &[
            "format",
            "version",
            "target",
            "domain",
            "random_network",
            "ticket",
            "bound",
        ],
        &["meta"],
    )?;
    let target = members(top["target"], "target", &["input_dim", "layers"], &[])?;
    let mut layers = Vec::new();
    for (i, layer) in array(target["layers"], "target.layers")?.iter().enumerate() {
        let place = format!("target.layers[{i}]");
        let l = members(layer, &place, &["weights", "activation"], &[])?;
        let mut weights = Vec::new();
        for row in array(l["weights"], &place)? {
            let row = array(row, &place)?
                .iter()
                .map(|x| string(x, &place).map(str::to_string))
                .collect::<Shape<Vec<_>>>()?;
            weights.push(row);
        }
        layers.push(Layer {
            weights,
            activation: string(l["activation"], &place)?.to_string(),
        });
    }
    let domain = members(
        top["domain"],
        "domain",
        &["norm", "radius"],
        &["nonnegative"],
    )?;
    let nonnegative = match domain.get("nonnegative") {
        None => false,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err(schema("domain.nonnegative", "expected a boolean")),
    };
    let rn = members(
        top["random_network"],
        "random_network",
        &["rng", "seed", "distribution", "hidden_widths"],
        &[],
    )?;
    let widths = array(rn["hidden_widths"], "hidden_widths")?
        .iter()
        .map(|w| integer(w, "hidden_widths"))
        .collect::<Shape<Vec<_>>>()?;
    let mut ticket = Vec::new();
    for (b, block) in array(top["ticket"], "ticket")?.iter().enumerate() {
        let place = format!("ticket[{b}]");
        let t = members(block, &place, &["hidden", "output"], &[])?;
        let read = |name: &str| -> Shape<Vec<KeptEntry>> {
            array(t[name], &place)?
                .iter()
                .map(|e| kept_entry(e, &place))
                .collect()
        };
        ticket.push((read("hidden")?, read("output")?));
    }
    let bound = members(
        top["bound"],
        "bound",
        &["blocks", "epsilon"],
        &["terms", "joint"],
    )?;
    let terms = match bound.get("terms") {
        None => None,
        Some(t) => Some(
            array(t, "bound.terms")?
                .iter()
                .enumerate()
                .map(|(i, t)| read_term(t, &format!("bound.terms[{i}]")))
                .collect::<Shape<Vec<_>>>()?,
        ),
    };
    let joint = match bound.get("joint") {
        None => None,
        Some(j) => Some(read_joint(j, "bound.joint")?),
    };
    let mut blocks = Vec::new();
    for (b, block) in array(bound["blocks"], "bound.blocks")?.iter().enumerate() {
        let place = format!("bound.blocks[{b}]");
        let c = members(
            block,
            &place,
            &["error", "lipschitz"],
            &[
                "lipschitz_method",
                "lipschitz_witness",
                "error_method",
                "error_witness",
            ],
        )?;
        // Section 11: these may be omitted, but null is not absence.
        let text = |name: &str| -> Shape<Option<String>> {
            match c.get(name) {
                None => Ok(None),
                Some(m) => Ok(Some(string(m, &place)?.to_string())),
            }
        };
        let (method, error_method) = (text("lipschitz_method")?, text("error_method")?);
        let witness = read_witness(&c, "lipschitz_witness", &place)?;
        let error_witness = read_witness(&c, "error_witness", &place)?;
        blocks.push(BlockClaim {
            error: string(c["error"], &place)?.to_string(),
            lipschitz: string(c["lipschitz"], &place)?.to_string(),
            method,
            witness,
            error_method,
            error_witness,
        });
    }
    Ok(Parsed {
        format: string(top["format"], "format")?.to_string(),
        version: integer(top["version"], "version")?,
        input_dim: integer(target["input_dim"], "target.input_dim")?,
        layers,
        norm: string(domain["norm"], "domain.norm")?.to_string(),
        radius: string(domain["radius"], "domain.radius")?.to_string(),
        nonnegative,
        rng: string(rn["rng"], "random_network.rng")?.to_string(),
        seed: string(rn["seed"], "random_network.seed")?.to_string(),
        distribution: string(rn["distribution"], "random_network.distribution")?.to_string(),
        widths,
        ticket,
        blocks,
        epsilon: string(bound["epsilon"], "bound.epsilon")?.to_string(),
        terms,
        joint,
    })
}
