//! `slth inspect`: what a certificate claims, read without checking it.

use slth_checker::certificate::Certificate;
use slth_checker::statement::statement_for_user;
use std::fmt::Write as _;
use std::path::Path;

/// The summary `inspect` prints: dimensions, claim, seed, widths, per-block counts and
/// claims, meta, and the statement for a network with biases.
pub fn summary(path: &Path, certificate: &Certificate) -> String {
    let c = certificate;
    let mut out = String::new();
    let dims: Vec<String> = std::iter::once(c.target.input_dim)
        .chain(c.target.layers.iter().map(|l| l.weights.len() as u64))
        .map(|d| d.to_string())
        .collect();
    let _ = writeln!(
        out,
        "certificate {} (not verified; run `slth verify` for that)",
        path.display()
    );
    let _ = writeln!(
        out,
        "target: {} ({} layers)",
        dims.join("-"),
        c.target.layers.len()
    );
    let orthant = if c.domain.nonnegative {
        " and x >= 0"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "claim: ||g~(x) - f(x)||_2 <= {} for ||x||_2 <= {}{orthant}",
        c.bound.epsilon.0, c.domain.radius.0
    );
    let _ = writeln!(out, "seed: {}", c.random_network.seed);
    let _ = writeln!(
        out,
        "hidden widths of g: {:?}",
        c.random_network.hidden_widths
    );
    for (i, (block, claim)) in c.ticket.iter().zip(&c.bound.blocks).enumerate() {
        let _ = writeln!(
            out,
            "block {}: {} hidden + {} output weights kept; c = {} ({}), L = {} ({})",
            i + 1,
            block.hidden.len(),
            block.output.len(),
            claim.error.0,
            claim.error_method.as_deref().unwrap_or("frobenius"),
            claim.lipschitz.0,
            claim.lipschitz_method.as_deref().unwrap_or("frobenius")
        );
    }
    // A compact certificate (docs/FORMAT.md section 14.1) says so; the claims are the same.
    let compact = match c.format == slth_checker::certificate::COMPACT_FORMAT_NAME {
        true => " (compact ticket)",
        false => "",
    };
    let _ = writeln!(
        out,
        "format version {}{compact}: {}",
        c.version,
        c.claim_kinds().join(", ")
    );
    if let Some(terms) = &c.bound.terms {
        for (i, term) in terms.iter().enumerate() {
            let _ = writeln!(
                out,
                "term {}: lambda = {} (chain-sdp: {} multiplier rows, {} products, witness side {})",
                i + 1,
                term.lipschitz.0,
                term.multipliers.len(),
                term.products.len(),
                term.witness.factor.len()
            );
        }
    }
    let in_target = c
        .target
        .layers
        .iter()
        .map(|l| l.activation.as_str())
        .collect::<Vec<_>>()
        .join(",");
    match crate::certify::activation_lines(c.meta.as_ref()) {
        Some(lines) => {
            let _ = writeln!(out, "{lines}");
            let said = c
                .meta
                .as_ref()
                .and_then(|m| m.pointer("/activations/layers"))
                .and_then(|v| v.as_str());
            if said != Some(in_target.as_str()) {
                let _ = writeln!(
                    out,
                    "  but the target's layers say {in_target}: meta is not verified, the target is what the certificate is about"
                );
            }
        }
        None => {
            let _ = writeln!(
                out,
                "activations: {in_target} (as the target's layers say; meta does not record whether they were stated or assumed)"
            );
        }
    }
    if let Some(meta) = &c.meta {
        let _ = writeln!(out, "meta: {meta}");
    }
    if let Some(line) = statement_for_user(c) {
        let _ = writeln!(out, "{line}");
    }
    out
}
