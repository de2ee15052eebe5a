//! Classification by f and g~, and the agreements a certificate guarantees.

use super::IntegerEvaluator;
use crate::network::Network;
use crate::numbers::sum_of_squares;
use crate::ticket::Ticket;
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// How f and g~ classify a set of inputs (the predicted class is the first largest output).
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub inputs: usize,
    /// correct predictions of f and of g~, when labels are given
    pub f_correct: Option<usize>,
    pub g_correct: Option<usize>,
    /// inputs where f and g~ predict the same class
    pub agree: usize,
    /// inputs of the domain where f's top-two margin m > sqrt(2) epsilon, exactly
    pub guaranteed: usize,
    /// inputs of the domain where m > 2 epsilon (the cruder rule: no output moves by more
    /// than epsilon)
    pub guaranteed_two_epsilon: usize,
    /// inputs outside the certified domain (never counted as guaranteed)
    pub outside_domain: usize,
    /// inputs whose norm exceeds the radius
    pub beyond_radius: usize,
    /// inputs with a negative coordinate, on a non-negative domain (else 0)
    pub negative: usize,
    /// max ||x||_2^2 over all inputs, exactly (0 without inputs)
    pub max_squared_norm: BigRational,
    /// max ||f(x) - g~(x)||_2^2 over the inputs of the domain, exactly; None when no input
    /// lies in the domain
    pub max_squared_in_domain: Option<BigRational>,
    /// inputs of the domain where ||f - g~||_2 > epsilon: a false certificate if any
    pub exceeding: Vec<usize>,
    /// every input's verdicts, in the order of the inputs
    pub per_input: Vec<InputVerdict>,
}

/// One input's verdicts (`eval --json` prints them).
#[derive(Debug, Clone, PartialEq)]
pub struct InputVerdict {
    pub f_class: usize,
    pub g_class: usize,
    /// f's and g~'s top-two margins, exactly (None with fewer than two outputs)
    pub f_margin: Option<BigRational>,
    pub g_margin: Option<BigRational>,
    pub in_domain: bool,
    /// ||x||_2^2 > radius^2
    pub beyond_radius: bool,
    /// some x_k < 0 on a non-negative domain
    pub negative: bool,
    /// ||x||_2^2
    pub norm2: BigRational,
    /// m^2 > 2 eps^2 and m > 2 eps, where m is f's top-two margin (whatever the domain)
    pub safe: (bool, bool),
    /// ||f(x) - g~(x)||_2^2
    pub squared: BigRational,
}

impl InputVerdict {
    /// In the domain and f's margin exceeds sqrt(2) epsilon: g~ predicts f's class.
    pub fn guaranteed(&self) -> bool {
        self.in_domain && self.safe.0
    }
}

/// Index of the first largest entry (0 for an empty vector).
pub fn predicted_class(outputs: &[BigRational]) -> usize {
    let mut best = 0;
    for (k, v) in outputs.iter().enumerate() {
        if *v > outputs[best] {
            best = k;
        }
    }
    best
}

/// f's largest output minus its second largest (None with fewer than two outputs).
pub fn top_two_margin(outputs: &[BigRational]) -> Option<BigRational> {
    let top = predicted_class(outputs);
    outputs
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != top)
        .map(|(_, v)| v)
        .max()
        .map(|second| &outputs[top] - second)
}

/// Classifies every input with f and g~, exactly, and counts the agreements the certificate
/// guarantees.
///
/// `inputs` are the certificate target's own inputs (for a homogenized target, (x, 1)).
/// Since ||g~(x) - f(x)||_2 <= epsilon on the domain, any two outputs of g~ differ from
/// those of f by at most sqrt(2) epsilon in their difference (|d_a - d_b| <= sqrt(2) ||d||),
/// so g~ predicts f's class wherever f's top-two margin exceeds sqrt(2) epsilon. An input is
/// in the domain when ||x||_2 <= radius (and x >= 0 if `nonnegative`), checked exactly.
/// Cost: one exact evaluation of f and of g~ per input ([`IntegerEvaluator`]), in parallel
/// over inputs.
pub fn classify(
    target: &Network,
    ticket: &Ticket,
    inputs: &[Vec<BigRational>],
    labels: Option<&[i64]>,
    radius: &BigRational,
    nonnegative: bool,
    epsilon: &BigRational,
) -> Classification {
    use rayon::prelude::*;
    let radius2 = radius * radius;
    let epsilon2 = epsilon * epsilon;
    let two = BigRational::from_integer(BigInt::from(2));
    let evaluator = IntegerEvaluator::new(target, ticket);
    let progress = crate::progress::Progress::bar(inputs.len() as u64, "eval", "inputs");
    let verdicts: Vec<InputVerdict> = inputs
        .par_iter()
        .map(|x| {
            let (f, g) = evaluator.both(x);
            progress.inc(1);
            let norm2: BigRational = sum_of_squares(x.iter());
            let beyond_radius = norm2 > radius2;
            let negative = nonnegative && x.iter().any(Signed::is_negative);
            let in_domain = !beyond_radius && !negative;
            let differences: Vec<BigRational> = f.iter().zip(&g).map(|(a, b)| a - b).collect();
            let f_margin = top_two_margin(&f);
            let safe = match &f_margin {
                None => (true, true),
                Some(m) => (
                    m.is_positive() && m * m > &two * &epsilon2,
                    *m > &two * epsilon,
                ),
            };
            InputVerdict {
                f_class: predicted_class(&f),
                g_class: predicted_class(&g),
                f_margin,
                g_margin: top_two_margin(&g),
                in_domain,
                beyond_radius,
                negative,
                norm2,
                safe,
                squared: sum_of_squares(differences.iter()),
            }
        })
        .collect();
    let mut result = Classification {
        inputs: inputs.len(),
        f_correct: labels.map(|_| 0),
        g_correct: labels.map(|_| 0),
        agree: 0,
        guaranteed: 0,
        guaranteed_two_epsilon: 0,
        outside_domain: 0,
        beyond_radius: 0,
        negative: 0,
        max_squared_norm: BigRational::zero(),
        max_squared_in_domain: None,
        exceeding: Vec::new(),
        per_input: Vec::new(),
    };
    for (k, verdict) in verdicts.iter().enumerate() {
        if let Some(labels) = labels {
            let label = labels.get(k).copied();
            let hit = |class: usize| usize::from(label == i64::try_from(class).ok());
            *result.f_correct.get_or_insert(0) += hit(verdict.f_class);
            *result.g_correct.get_or_insert(0) += hit(verdict.g_class);
        }
        result.agree += usize::from(verdict.f_class == verdict.g_class);
        result.beyond_radius += usize::from(verdict.beyond_radius);
        result.negative += usize::from(verdict.negative);
        if verdict.norm2 > result.max_squared_norm {
            result.max_squared_norm = verdict.norm2.clone();
        }
        if !verdict.in_domain {
            result.outside_domain += 1;
            continue;
        }
        result.guaranteed += usize::from(verdict.safe.0);
        result.guaranteed_two_epsilon += usize::from(verdict.safe.1);
        if verdict.squared > epsilon2 {
            result.exceeding.push(k);
        }
        if result
            .max_squared_in_domain
            .as_ref()
            .is_none_or(|max| verdict.squared > *max)
        {
            result.max_squared_in_domain = Some(verdict.squared.clone());
        }
    }
    result.per_input = verdicts;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;

    #[test]
    fn margins_and_classes_are_exact() {
        let q = |n: i64, d: i64| BigRational::new(BigInt::from(n), BigInt::from(d));
        let outputs = [q(1, 3), q(2, 3), q(2, 3), q(-5, 1)];
        assert_eq!(predicted_class(&outputs), 1);
        assert_eq!(top_two_margin(&outputs), Some(q(0, 1)));
        assert_eq!(top_two_margin(&[q(1, 2), q(1, 8)]), Some(q(3, 8)));
        assert_eq!(top_two_margin(&[q(1, 2)]), None);
    }
}
