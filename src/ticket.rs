//! The ticket g~: the kept weights of g, block by block (docs/FORMAT.md section 5), and its evaluation.
//!
//! Block i computes `h_j = ReLU(U_i[j][t_j] y_{t_j})` for each kept hidden neuron j (t_j its
//! kept input) and `out_m = act_i(sum over kept (m, j) of V_i[m][j] h_j)`.

use crate::network::{Activation, Network, activate};
use crate::numbers::format_rational;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use slth_checker::certificate::{BlockTicket as BlockTicketJson, Certificate, Rational};
use slth_checker::sampler::{Seed, WEIGHT_SCALE, hidden_stream, output_stream, sample_numerator};
use slth_checker::verify::{KeptIndices, Rejection, RejectionKind};
use std::collections::BTreeMap;

/// Kept weights of one block; values are numerators over 2^53.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockTicket {
    /// j -> (t, `U[j][t]`)
    pub hidden: BTreeMap<u64, (u64, i64)>,
    /// (m, j) -> `V[m][j]`
    pub output: BTreeMap<(u64, u64), i64>,
}

impl BlockTicket {
    /// The smallest width of g that holds every kept hidden neuron.
    pub fn width(&self) -> u64 {
        self.hidden.keys().next_back().map_or(0, |j| j + 1)
    }

    pub fn kept_weights(&self) -> usize {
        self.hidden.len() + self.output.len()
    }

    /// The certificate's `hidden` / `output` lists, sorted by (j, t) and (m, j).
    pub fn to_json(&self) -> BlockTicketJson {
        BlockTicketJson {
            hidden: self
                .hidden
                .iter()
                .map(|(&j, &(t, u))| (j, t, weight_text(u)))
                .collect(),
            output: self
                .output
                .iter()
                .map(|(&(m, j), &v)| (m, j, weight_text(v)))
                .collect(),
        }
    }
}

/// Position of a weight in its stream (`U_i[j][t]` at j n_{i-1} + t, `V_i[m][j]` at
/// j n_i + m); None when it does not fit in u64.
fn weight_index(row_major: u64, width: u64, column: u64) -> Option<u64> {
    row_major.checked_mul(width)?.checked_add(column)
}

/// A weight of g (numerator over 2^53) as canonical certificate text.
pub fn weight_text(numerator: i64) -> Rational {
    Rational(format_rational(&weight_exact(numerator)))
}

/// A weight of g (numerator over 2^53) as an exact rational.
pub fn weight_exact(numerator: i64) -> BigRational {
    BigRational::new(BigInt::from(numerator), BigInt::from(WEIGHT_SCALE))
}

/// All blocks of a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ticket {
    pub blocks: Vec<BlockTicket>,
}

impl Ticket {
    pub fn kept_weights(&self) -> usize {
        self.blocks.iter().map(BlockTicket::kept_weights).sum()
    }

    /// The kept entries' indices, block by block, in the certificate's order (`[j, t]` by j,
    /// `[m, j]` by (m, j)): what [`slth_checker::verify::verify_kept`] checks.
    pub fn indices(&self) -> Vec<KeptIndices> {
        self.blocks
            .iter()
            .map(|b| KeptIndices {
                hidden: b.hidden.iter().map(|(&j, &(t, _))| (j, t)).collect(),
                output: b.output.keys().copied().collect(),
            })
            .collect()
    }

    /// Reads a certificate's ticket, taking every weight from the seed rather than the file.
    ///
    /// Index ranges are checked here too, so that evaluating an unverified certificate
    /// cannot go wrong; whether the file's values match g is the verifier's business.
    pub fn from_certificate(
        certificate: &Certificate,
        target: &Network,
    ) -> Result<Ticket, Rejection> {
        let reject = |kind, place: String, detail: String| Rejection {
            kind,
            place,
            detail,
        };
        let seed = Seed::from_hex(&certificate.random_network.seed).map_err(|e| {
            reject(
                RejectionKind::Header,
                "random_network.seed".into(),
                e.to_string(),
            )
        })?;
        let dims = target.dims();
        if certificate.ticket.len() != target.layers.len() {
            return Err(reject(
                RejectionKind::Dimension,
                "ticket".into(),
                format!(
                    "ticket has {} blocks, the target {} layers",
                    certificate.ticket.len(),
                    target.layers.len()
                ),
            ));
        }
        let out_of_range = |place: String| {
            reject(
                RejectionKind::IndexOutOfRange,
                place,
                "index out of range".into(),
            )
        };
        let mut blocks = Vec::with_capacity(certificate.ticket.len());
        for (b, block) in certificate.ticket.iter().enumerate() {
            let (n_in, n_out) = (dims[b] as u64, dims[b + 1] as u64);
            let mut ticket = BlockTicket::default();
            for (k, &(j, t, _)) in block.hidden.iter().enumerate() {
                let index = weight_index(j, n_in, t)
                    .filter(|_| t < n_in)
                    .ok_or_else(|| out_of_range(format!("ticket[{b}].hidden[{k}]")))?;
                let u = sample_numerator(&seed, hidden_stream(b + 1), index);
                ticket.hidden.insert(j, (t, u));
            }
            for (k, &(m, j, _)) in block.output.iter().enumerate() {
                let index = weight_index(j, n_out, m)
                    .filter(|_| m < n_out)
                    .ok_or_else(|| out_of_range(format!("ticket[{b}].output[{k}]")))?;
                let v = sample_numerator(&seed, output_stream(b + 1), index);
                ticket.output.insert((m, j), v);
            }
            blocks.push(ticket);
        }
        Ok(Ticket { blocks })
    }

    /// g~(x) exactly; `target` supplies the dimensions and activations.
    pub fn eval_exact(&self, target: &Network, x: &[BigRational]) -> Vec<BigRational> {
        let mut y = x.to_vec();
        for (block, layer) in self.blocks.iter().zip(&target.layers) {
            let hidden: BTreeMap<u64, BigRational> = block
                .hidden
                .iter()
                .map(|(&j, &(t, u))| {
                    let input = y.get(t as usize).cloned().unwrap_or_else(BigRational::zero);
                    let h = weight_exact(u) * input;
                    (
                        j,
                        if h.is_negative() {
                            BigRational::zero()
                        } else {
                            h
                        },
                    )
                })
                .collect();
            let mut z = vec![BigRational::zero(); layer.outputs()];
            for (&(m, j), &v) in &block.output {
                if let (Some(h), Some(slot)) = (hidden.get(&j), z.get_mut(m as usize))
                    && !h.is_zero()
                {
                    *slot += weight_exact(v) * h;
                }
            }
            y = z
                .into_iter()
                .map(|z| activate(layer.activation, z))
                .collect();
        }
        y
    }

    /// g~(x) in f64 (rounded).
    pub fn eval_f64(&self, target: &Network, x: &[f64]) -> Vec<f64> {
        let scale = WEIGHT_SCALE as f64;
        let mut y = x.to_vec();
        for (block, layer) in self.blocks.iter().zip(&target.layers) {
            let hidden: BTreeMap<u64, f64> = block
                .hidden
                .iter()
                .map(|(&j, &(t, u))| {
                    let input = y.get(t as usize).copied().unwrap_or(0.0);
                    (j, (u as f64 / scale * input).max(0.0))
                })
                .collect();
            let mut z = vec![0.0; layer.outputs()];
            for (&(m, j), &v) in &block.output {
                if let (Some(h), Some(slot)) = (hidden.get(&j), z.get_mut(m as usize)) {
                    *slot += v as f64 / scale * h;
                }
            }
            y = z
                .into_iter()
                .map(|z| match layer.activation {
                    Activation::Relu => z.max(0.0),
                    Activation::Linear => z,
                })
                .collect();
        }
        y
    }
}
