//! Mutants of the target: weights nudged or respelled, activations changed, a column or a
//! layer removed, the input dimension moved.

use super::*;

pub(crate) fn target_mutants(mk: &mut Maker, base: &Json, full: bool, cap: usize) {
    let layers = base
        .get("target")
        .unwrap()
        .get("layers")
        .unwrap()
        .as_array()
        .unwrap();
    let depth = layers.len();
    for (i, layer) in layers.iter().enumerate() {
        let rows = layer.get("weights").unwrap().as_array().unwrap();
        let cols = rows.first().map_or(0, |r| r.as_array().unwrap().len());
        let cells = rows.len() * cols;
        for cell in pick(cells, cap, full) {
            let (m, t) = (cell / cols, cell % cols);
            let w = fp::parse_rational(rows[m].as_array().unwrap()[t].as_str().unwrap()).unwrap();
            let p = path(&[
                key("target"),
                key("layers"),
                idx(i),
                key("weights"),
                idx(m),
                idx(t),
            ]);
            mk.set(
                "target weight + 2^-60",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 1 << 60))),
            );
            mk.set(
                "target weight + 1/100",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 100))),
            );
            mk.set(
                "target weight - 1/100",
                Expect::Decide,
                p.clone(),
                text_of(&(&w - rat(1, 100))),
            );
            mk.set(
                "target weight + 1",
                Expect::Decide,
                p.clone(),
                text_of(&(&w + rat(1, 1))),
            );
            mk.set(
                "target weight respelled unreduced",
                Expect::Valid,
                p.clone(),
                Json::str(format!("{}/{}", w.numer() * 7, w.denom() * 7)),
            );
            mk.set(
                "target weight 1/0",
                Expect::Invalid(Kind::Number),
                p.clone(),
                Json::str("1/0"),
            );
            mk.set(
                "target weight as a JSON float",
                Expect::Invalid(Kind::Schema),
                p,
                Json::num("0.25"),
            );
        }
        let lpath = path(&[key("target"), key("layers"), idx(i)]);
        let act = |j: &mut Json, a: &str| {
            j.at_mut(&lpath).unwrap().set("activation", Json::str(a));
        };
        if i + 1 == depth {
            let flipped = if layer.get("activation").unwrap().as_str() == Some("relu") {
                "linear"
            } else {
                "relu"
            };
            mk.push("last activation relu <-> linear", Expect::Valid, |j| {
                act(j, flipped)
            });
        } else {
            mk.push(
                "hidden layer made linear",
                Expect::Invalid(Kind::Activation),
                |j| act(j, "linear"),
            );
        }
        mk.push("activation tanh", Expect::Invalid(Kind::Activation), |j| {
            act(j, "tanh")
        });
        mk.push(
            "activation ReLU (case)",
            Expect::Invalid(Kind::Activation),
            |j| act(j, "ReLU"),
        );
        let wpath = path(&[key("target"), key("layers"), idx(i), key("weights")]);
        mk.push("target row dropped", Expect::Decide, |j| {
            j.at_mut(&wpath).unwrap().as_array_mut().unwrap().pop();
        });
        mk.push(
            "target column dropped in one row",
            Expect::Invalid(Kind::Dimension),
            |j| {
                let mut p = wpath.clone();
                p.push(idx(0));
                j.at_mut(&p).unwrap().as_array_mut().unwrap().pop();
            },
        );
        mk.push(
            "layer removed from the target only",
            Expect::Invalid(Kind::Dimension),
            |j| {
                j.at_mut(&path(&[key("target"), key("layers")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
            },
        );
        mk.push(
            "layer removed with its block, claims and width",
            Expect::Decide,
            |j| {
                j.at_mut(&path(&[key("target"), key("layers")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.get_mut("ticket")
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.at_mut(&path(&[key("bound"), key("blocks")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                j.at_mut(&path(&[key("random_network"), key("hidden_widths")]))
                    .unwrap()
                    .as_array_mut()
                    .unwrap()
                    .remove(i);
                if i == 0 {
                    let n1 = rows.len();
                    j.at_mut(&path(&[key("target")]))
                        .unwrap()
                        .set("input_dim", Json::num(n1));
                }
            },
        );
    }
    let input_dim = num_of(base.get("target").unwrap().get("input_dim").unwrap());
    let p = path(&[key("target"), key("input_dim")]);
    mk.set(
        "input_dim + 1",
        Expect::Invalid(Kind::Dimension),
        p.clone(),
        Json::num(input_dim + 1),
    );
    mk.set(
        "input_dim - 1",
        Expect::Invalid(Kind::Dimension),
        p,
        Json::num(input_dim - 1),
    );
}
