//! PyTorch MLPs from the tensors of a safetensors file (module `safetensors`): the layers,
//! their order and their activations, every value kept exact.
//!
//! Which tensors make a network (see [`network_from_tensors`]): every tensor is the
//! `weight` (`[out, in]`) or `bias` (`[out]`) of an `nn.Linear`; the layers are ordered by
//! their `nn.Sequential` index (`0.weight`, `2.weight`, ..., with any common prefix such as
//! `net.`), or else by a number ending their names (`fc1`, `fc2`, ...), or else by the unique
//! order in which their shapes chain. The activations are those `__metadata__` states
//! (`"activations": "relu,relu,linear"`, one per layer), or those `certify --activations`
//! states (both: they must agree), else assumed: hidden ReLU and a linear last layer (logits).
//! A state_dict does not record activations: slth cannot see a Tanh between two Linears, so
//! the assumption is never silent ([`crate::import::ActivationSource`]).

use super::error::{ImportError, Place, not_linear};
use super::safetensors::{SafeTensors, Tensor, parse_safetensors};
use super::{ActivationSource, activation_list, parse_activations};
use crate::network::{Activation, BiasedNetwork, Layer, Network};
use num_rational::BigRational;
use std::collections::BTreeMap;

/// One `nn.Linear`: its module name, weight and optional bias.
struct Linear<'a> {
    module: String,
    weight: &'a Tensor,
    bias: Option<&'a Tensor>,
}

/// Assembles the network of a PyTorch MLP's tensors (module docs: names, order, activations).
///
/// A Linear without bias (`bias=False`) gets zero biases. Errors name the tensor: a weight
/// that is not 2-D (a convolution's is 4-D), a bias without weight or of the wrong length,
/// a tensor that is neither `weight` nor `bias`, shapes that do not chain.
pub fn network_from_tensors(file: &SafeTensors) -> Result<BiasedNetwork, ImportError> {
    network_from_tensors_stated(file, None).map(|(network, _)| network)
}

/// [`network_from_tensors`] with the activations `certify --activations` states, if any:
/// they must agree with `__metadata__.activations` when both are given (else an error naming
/// both). Returns where the activations come from.
pub fn network_from_tensors_stated(
    file: &SafeTensors,
    stated: Option<&[String]>,
) -> Result<(BiasedNetwork, ActivationSource), ImportError> {
    let mut modules: BTreeMap<String, (Option<&Tensor>, Option<&Tensor>)> = BTreeMap::new();
    for tensor in &file.tensors {
        let (module, parameter) = tensor.name.rsplit_once('.').unwrap_or(("", &tensor.name));
        let slot = modules.entry(module.to_string()).or_default();
        match parameter {
            "weight" => slot.0 = Some(tensor),
            "bias" => slot.1 = Some(tensor),
            _ => {
                return Err(ImportError::at(
                    Place::Tensor(tensor.name.clone()),
                    not_linear(parameter),
                ));
            }
        }
    }
    if modules.is_empty() {
        return Err(ImportError::whole(
            "no tensors: expected the weights of an nn.Linear MLP",
        ));
    }
    let mut layers = Vec::new();
    for (module, (weight, bias)) in modules {
        let weight = weight.ok_or_else(|| {
            ImportError::at(
                Place::Tensor(format!("{module}.bias")),
                format!("there is no {module}.weight for this bias"),
            )
        })?;
        let only_linear = "slth reads only nn.Linear layers (2-D weights [out, in])";
        let kind = match weight.shape.len() {
            2 => None,
            4 => Some("is 4-D, a convolution's weight"),
            1 => Some("is 1-D, as of a normalization layer"),
            _ => Some("is not 2-D"),
        };
        if let Some(kind) = kind {
            return Err(ImportError::at(
                Place::Tensor(weight.name.clone()),
                format!("shape {:?} {kind}; {only_linear}", weight.shape),
            ));
        }
        if let Some(bias) = bias
            && bias.shape != [weight.shape[0]]
        {
            let transposed = if bias.shape == [weight.shape[1]] {
                format!(
                    "; is {} transposed? nn.Linear stores its weight as [out, in]",
                    weight.name
                )
            } else {
                String::new()
            };
            return Err(ImportError::at(
                Place::Tensor(bias.name.clone()),
                format!(
                    "shape {:?}, but {} has {} outputs (expected [{}]){transposed}",
                    bias.shape, weight.name, weight.shape[0], weight.shape[0]
                ),
            ));
        }
        layers.push(Linear {
            module,
            weight,
            bias,
        });
    }
    let activations_stated = stated.is_some() || file.metadata.contains_key("activations");
    let layers = order_layers(layers, activations_stated)?;
    for (k, pair) in layers.windows(2).enumerate() {
        let (previous, next) = (&pair[0], &pair[1]);
        if next.weight.shape[1] != previous.weight.shape[0] {
            let transposed = if next.weight.shape[0] == previous.weight.shape[0] {
                "; is it transposed? nn.Linear stores its weight as [out, in]"
            } else {
                ""
            };
            return Err(ImportError::at(
                Place::Tensor(next.weight.name.clone()),
                format!(
                    "W_{} has shape {}x{} but layer {} ({}) has {} outputs{transposed}",
                    k + 2,
                    next.weight.shape[0],
                    next.weight.shape[1],
                    k + 1,
                    previous.weight.name,
                    previous.weight.shape[0],
                ),
            ));
        }
    }
    let (activations, source) = activations(&file.metadata, stated, layers.len())?;
    let exact = |v: &f64| BigRational::from_float(*v).unwrap_or_default();
    let network = Network {
        input_dim: layers[0].weight.shape[1],
        layers: layers
            .iter()
            .zip(activations)
            .map(|(linear, activation)| Layer {
                weights: linear
                    .weight
                    .values
                    .chunks(linear.weight.shape[1].max(1))
                    .take(linear.weight.shape[0])
                    .map(|row| row.iter().map(exact).collect())
                    .collect(),
                activation,
            })
            .collect(),
    };
    let biases = layers
        .iter()
        .map(|linear| match linear.bias {
            Some(bias) => bias.values.iter().map(exact).collect(),
            None => vec![BigRational::default(); linear.weight.shape[0]],
        })
        .collect();
    let biased = BiasedNetwork { network, biases };
    // What the checks above leave to BiasedNetwork::check is the limit on the input
    // dimension, which the first weight sets; its place is that tensor.
    biased.check().map_err(|e| {
        ImportError::at(
            Place::Tensor(layers[0].weight.name.clone()),
            format!("{}: {}", e.place, e.reason),
        )
    })?;
    Ok((biased, source))
}

/// Orders the layers: by nn.Sequential index, else by trailing number, else by shape
/// chaining. Consecutive indices (an nn.ModuleList, `layers.0`, `layers.1`, whose
/// activations live in `forward`) are read only when the activations are `stated`.
fn order_layers(mut layers: Vec<Linear<'_>>, stated: bool) -> Result<Vec<Linear<'_>>, ImportError> {
    // nn.Sequential: "0", "2", or "net.0", "net.2": a common prefix and an integer.
    let sequential: Option<Vec<(String, u64)>> = layers
        .iter()
        .map(|l| {
            let (prefix, last) = l.module.rsplit_once('.').unwrap_or(("", &l.module));
            last.parse::<u64>().ok().map(|k| (prefix.to_string(), k))
        })
        .collect();
    if let Some(keys) = sequential
        && keys.iter().all(|(prefix, _)| *prefix == keys[0].0)
    {
        let mut keyed: Vec<(u64, Linear<'_>)> =
            keys.into_iter().map(|(_, k)| k).zip(layers).collect();
        keyed.sort_by_key(|(k, _)| *k);
        for pair in keyed.windows(2) {
            if pair[1].0 == pair[0].0 + 1 && !stated {
                return Err(ImportError::at(
                    Place::Tensor(pair[1].1.weight.name.clone()),
                    format!(
                        "module {} directly follows module {} in the nn.Sequential, with no activation between them (slth needs a ReLU between Linear layers); if this is an nn.ModuleList whose forward applies the activations, state them with --activations or __metadata__ {{\"activations\": ...}}",
                        pair[1].0, pair[0].0
                    ),
                ));
            }
        }
        return Ok(keyed.into_iter().map(|(_, l)| l).collect());
    }
    // Names ending in distinct numbers: fc1, fc2, ...
    let trailing: Option<Vec<u64>> = layers
        .iter()
        .map(|l| {
            let digits = l.module.len()
                - l.module
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .len();
            l.module[l.module.len() - digits..].parse().ok()
        })
        .collect();
    if let Some(numbers) = trailing {
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() == numbers.len() {
            let mut keyed: Vec<(u64, Linear<'_>)> = numbers.into_iter().zip(layers).collect();
            keyed.sort_by_key(|(k, _)| *k);
            return Ok(keyed.into_iter().map(|(_, l)| l).collect());
        }
    }
    // Otherwise the shapes must chain in exactly one way.
    let names = || {
        layers
            .iter()
            .map(|l| l.module.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ambiguous = || {
        ImportError::whole(format!(
            "cannot tell the order of the layers {} from their names or shapes; name them as an nn.Sequential (0, 2, 4, ...) or fc1, fc2, ...",
            names()
        ))
    };
    let starts: Vec<usize> = (0..layers.len())
        .filter(|&a| {
            !(0..layers.len())
                .any(|b| b != a && layers[b].weight.shape[0] == layers[a].weight.shape[1])
        })
        .collect();
    let [mut current] = starts[..] else {
        return Err(ambiguous());
    };
    let mut order = vec![current];
    while order.len() < layers.len() {
        let next: Vec<usize> = (0..layers.len())
            .filter(|b| !order.contains(b))
            .filter(|&b| layers[b].weight.shape[1] == layers[current].weight.shape[0])
            .collect();
        let [b] = next[..] else {
            return Err(ambiguous());
        };
        order.push(b);
        current = b;
    }
    let mut slots: Vec<Option<Linear<'_>>> = layers.drain(..).map(Some).collect();
    Ok(order.into_iter().filter_map(|k| slots[k].take()).collect())
}

/// The activation of each layer and where it comes from: `__metadata__["activations"]`
/// and `--activations` (`stated`) where given (they must agree), else ReLU and a linear last
/// layer, assumed.
fn activations(
    metadata: &BTreeMap<String, String>,
    stated: Option<&[String]>,
    count: usize,
) -> Result<(Vec<Activation>, ActivationSource), ImportError> {
    let from_metadata = metadata
        .get("activations")
        .map(|text| {
            let names: Vec<String> = text.split(',').map(|n| n.trim().to_string()).collect();
            let place = Place::Metadata(Some("activations".into()));
            parse_activations(&names, count, place)
        })
        .transpose()?;
    let from_flag = stated
        .map(|names| parse_activations(names, count, Place::Option("activations")))
        .transpose()?;
    Ok(match (from_metadata, from_flag) {
        (Some(m), Some(f)) if m != f => {
            return Err(ImportError::whole(format!(
                "__metadata__.activations says {} but --activations says {}: state the activations once, or make them agree",
                activation_list(m),
                activation_list(f)
            )));
        }
        (Some(m), Some(_)) => (m, ActivationSource::MetadataAndFlag),
        (Some(m), None) => (m, ActivationSource::Metadata),
        (None, Some(f)) => (f, ActivationSource::Flag),
        (None, None) => {
            let mut all = vec![Activation::Relu; count];
            all[count - 1] = Activation::Linear;
            (all, ActivationSource::Assumed)
        }
    })
}

/// Reads a PyTorch MLP from a safetensors file; an error names the file.
pub fn load_safetensors(path: &std::path::Path) -> Result<BiasedNetwork, ImportError> {
    load_safetensors_stated(path, None).map(|(network, _)| network)
}

/// [`load_safetensors`] with the activations `certify --activations` states, if any (see
/// [`network_from_tensors_stated`]).
pub fn load_safetensors_stated(
    path: &std::path::Path,
    stated: Option<&[String]>,
) -> Result<(BiasedNetwork, ActivationSource), ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::whole(e).in_file(path))?;
    parse_safetensors(&bytes)
        .and_then(|file| network_from_tensors_stated(&file, stated))
        .map_err(|e| e.in_file(path))
}
