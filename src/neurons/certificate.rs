//! The certificate of a neuron subnetwork (docs/FORMAT.md section 13): the seed and
//! shape of g, the kept neurons with their weights, c, the sample inline, and the exact
//! empirical loss rounded up. Before it is returned, the trusted checker decides it.

use super::draw::{FirstLayer, RandomTwoLayer};
use super::{Sample, Selection};
use crate::numbers::{format_rational, rational_from_f64, round_up_decimal};
use slth_checker::certificate::{Limits, Rational};
use slth_checker::neurons::{
    NEURON_FORMAT_NAME, NEURON_FORMAT_VERSION, NeuronCertificate, NeuronNetwork, NeuronReport,
    Sample as SampleJson, SampleData, UNIFORM_LAYER, sha256_hex, verify_neuron_in,
    verify_neuron_with,
};
use slth_checker::sampler::Seed;
use std::fmt::Write as _;

/// Why a selection cannot be certified.
#[derive(Debug, thiserror::Error)]
pub enum NeuronCertifyError {
    #[error(
        "the sphere first layer is computed with f64 logarithms and cosines that no verifier can recompute exactly; certificates need --first-layer uniform"
    )]
    NotRecomputable,
    #[error("the sample holds a value that is not a finite number: {0}")]
    NotFinite(f64),
    #[error("the checker rejected the certificate slth built: {0}")]
    SelfCheck(String),
}

fn exact(x: f64) -> Result<Rational, NeuronCertifyError> {
    rational_from_f64(x)
        .map(|q| Rational(format_rational(&q)))
        .ok_or(NeuronCertifyError::NotFinite(x))
}

/// The certificate of `selection` in the first `width` neurons of g on `sample` (the claim
/// is the exact loss rounded up to 8 significant digits), and the checker's report on it.
pub fn certify_selection(
    seed: &Seed,
    g: &RandomTwoLayer,
    width: usize,
    selection: &Selection,
    sample: &Sample,
    method: &str,
) -> Result<(NeuronCertificate, NeuronReport), NeuronCertifyError> {
    let Some((w, a)) = g
        .numerators
        .as_ref()
        .filter(|_| g.first_layer == FirstLayer::Uniform)
    else {
        return Err(NeuronCertifyError::NotRecomputable);
    };
    let weight = |n: i64| Rational(crate::ticket::weight_text(n).0);
    let d = g.input_dim;
    let kept = selection
        .kept
        .iter()
        .map(|&j| {
            (
                j as u64,
                w[j * d..(j + 1) * d].iter().map(|&n| weight(n)).collect(),
                weight(a[j]),
            )
        })
        .collect();
    let inputs = sample
        .x
        .chunks(d.max(1))
        .take(sample.len())
        .map(|row| row.iter().map(|&x| exact(x)).collect::<Result<Vec<_>, _>>())
        .collect::<Result<Vec<_>, _>>()?;
    let targets = sample
        .y
        .iter()
        .map(|&y| exact(y))
        .collect::<Result<Vec<_>, _>>()?;
    let mut certificate = NeuronCertificate {
        format: NEURON_FORMAT_NAME.into(),
        version: NEURON_FORMAT_VERSION,
        random_network: NeuronNetwork {
            rng: "chacha20".into(),
            seed: seed.to_hex(),
            input_dim: d as u64,
            width: width as u64,
            first_layer: UNIFORM_LAYER.into(),
            second_layer: UNIFORM_LAYER.into(),
        },
        kept,
        scale: exact(selection.scale)?,
        sample: SampleJson::inline(SampleData { inputs, targets }),
        // Any claim at all, to learn the exact loss from the checker; replaced below.
        loss: Rational("1e300".into()),
        meta: Some(serde_json::json!({
            "producer": format!("slth {}", env!("CARGO_PKG_VERSION")),
            "selection": method,
            "train_loss_f64": selection.train_loss,
        })),
    };
    let unlimited = Limits::unlimited();
    let self_check = |c: &NeuronCertificate| {
        verify_neuron_with(c, &unlimited).map_err(|e| NeuronCertifyError::SelfCheck(e.to_string()))
    };
    let exact_loss = self_check(&certificate)?.exact_loss;
    certificate.loss = Rational(format_rational(&round_up_decimal(&exact_loss, 8)));
    let report = self_check(&certificate)?;
    Ok((certificate, report))
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

fn list(items: &[Rational]) -> String {
    let texts: Vec<String> = items.iter().map(|r| quoted(&r.0)).collect();
    format!("[{}]", texts.join(", "))
}

/// The text of an inline sample or of a sample file: one row per line, `indent` before
/// each line but the first.
fn sample_text(inputs: &[Vec<Rational>], targets: &[Rational], indent: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "{indent}  \"inputs\": [");
    for (s, row) in inputs.iter().enumerate() {
        let sep = if s + 1 < inputs.len() { "," } else { "" };
        let _ = writeln!(out, "{indent}    {}{sep}", list(row));
    }
    let _ = writeln!(out, "{indent}  ],");
    let _ = writeln!(out, "{indent}  \"targets\": {}", list(targets));
    let _ = write!(out, "{indent}}}");
    out
}

/// The content of a sample file (docs/FORMAT.md section 13.3) for `data`, and the file's
/// name: `sample-<its SHA-256>.json`.
pub fn sample_file(data: &SampleData) -> (String, String) {
    let mut text = sample_text(&data.inputs, &data.targets, "");
    text.push('\n');
    let name = format!("sample-{}.json", sha256_hex(text.as_bytes()));
    (name, text)
}

/// Above this many bytes of sample text, `slth neurons` writes the sample to its own file
/// even without `--sample-file`.
pub const INLINE_SAMPLE_MAX_BYTES: usize = 1 << 20;

/// Moves the inline sample of `c` to a file in `folder` named by its SHA-256 (written
/// there), leaving a reference; the checker then decides the certificate as it will be
/// read from that folder. Returns the file's name.
pub fn move_sample_to_file(
    c: &mut NeuronCertificate,
    folder: &std::path::Path,
) -> Result<String, crate::error::Error> {
    let (Some(inputs), Some(targets)) = (c.sample.inputs.take(), c.sample.targets.take()) else {
        return Err(crate::error::Error::usage(
            "sample-file",
            "the certificate's sample is not inline",
        ));
    };
    let (name, text) = sample_file(&SampleData { inputs, targets });
    crate::write::write_output(Some(&folder.join(&name)), &text)?;
    let hash = sha256_hex(text.as_bytes());
    c.sample = SampleJson::reference(name.clone(), hash);
    verify_neuron_in(c, Some(folder), &Limits::unlimited()).map_err(|e| {
        crate::error::Error::usage("certificate", NeuronCertifyError::SelfCheck(e.to_string()))
    })?;
    Ok(name)
}

/// The size of the inline sample text of `c` (0 for a sample file).
pub fn inline_sample_bytes(c: &NeuronCertificate) -> usize {
    match (&c.sample.inputs, &c.sample.targets) {
        (Some(inputs), Some(targets)) => sample_text(inputs, targets, "  ").len(),
        _ => 0,
    }
}

/// Deterministic JSON text: one kept neuron or sample row per line.
pub fn to_json_text(c: &NeuronCertificate) -> String {
    let mut out = String::new();
    let n = &c.random_network;
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"format\": {},", quoted(&c.format));
    let _ = writeln!(out, "  \"version\": {},", c.version);
    let _ = writeln!(out, "  \"random_network\": {{");
    let _ = writeln!(out, "    \"rng\": {},", quoted(&n.rng));
    let _ = writeln!(out, "    \"seed\": {},", quoted(&n.seed));
    let _ = writeln!(out, "    \"input_dim\": {},", n.input_dim);
    let _ = writeln!(out, "    \"width\": {},", n.width);
    let _ = writeln!(out, "    \"first_layer\": {},", quoted(&n.first_layer));
    let _ = writeln!(out, "    \"second_layer\": {}", quoted(&n.second_layer));
    let _ = writeln!(out, "  }},");
    let _ = writeln!(out, "  \"kept\": [");
    for (e, (j, w, a)) in c.kept.iter().enumerate() {
        let sep = if e + 1 < c.kept.len() { "," } else { "" };
        let _ = writeln!(out, "    [{j}, {}, {}]{sep}", list(w), quoted(&a.0));
    }
    let _ = writeln!(out, "  ],");
    let _ = writeln!(out, "  \"scale\": {},", quoted(&c.scale.0));
    match &c.sample {
        SampleJson {
            inputs: Some(inputs),
            targets: Some(targets),
            ..
        } => {
            let _ = writeln!(out, "  \"sample\": {},", sample_text(inputs, targets, "  "));
        }
        other => {
            let field = |x: &Option<String>| quoted(x.as_deref().unwrap_or_default());
            let _ = writeln!(out, "  \"sample\": {{");
            let _ = writeln!(out, "    \"file\": {},", field(&other.file));
            let _ = writeln!(out, "    \"sha256\": {}", field(&other.sha256));
            let _ = writeln!(out, "  }},");
        }
    }
    let meta = c.meta.as_ref().map(|m| {
        format!(
            ",\n  \"meta\": {}",
            serde_json::to_string(m).unwrap_or_default()
        )
    });
    let _ = writeln!(
        out,
        "  \"loss\": {}{}",
        quoted(&c.loss.0),
        meta.unwrap_or_default()
    );
    let _ = writeln!(out, "}}");
    out
}
