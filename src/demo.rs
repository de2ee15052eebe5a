//! `slth demo`: certify the bundled 3-2-1 target, verify the certificate with the checker,
//! evaluate it at exact points, and explain each step.

use crate::certify::{CertifyOptions, Request, certify};
use crate::error::Error;
use crate::network::Network;
use crate::numbers::rational_to_f64;
use crate::ticket::Ticket;
use num_rational::BigRational;
use slth_checker::sampler::Seed;
use std::fmt::Write as _;
use std::time::Instant;

/// The small target the demo certifies (also under certificates/targets/).
const DEMO_TARGET: &str = include_str!("../certificates/targets/tiny-3-2-1.json");

/// Runs the demo and returns what it has to say.
pub fn run() -> Result<String, Error> {
    let bundled = |reason: String| Error::Input {
        file: "certificates/targets/tiny-3-2-1.json".into(),
        reason,
    };
    let target = Network::from_json_text(DEMO_TARGET).map_err(|e| bundled(e.to_string()))?;
    let requested = BigRational::new(1.into(), 20.into());
    let options = CertifyOptions::new(Request::Epsilon(requested), Seed::from_u64(42));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Target f: a 3-2-1 ReLU network with exact rational weights (certificates/targets/tiny-3-2-1.json)."
    );
    let _ = writeln!(
        out,
        "Random g: depth 4, every weight uniform in (-1, 1), drawn by ChaCha20 from seed 42."
    );
    let _ = writeln!(
        out,
        "Goal: a subnetwork g~ of g with ||g~(x) - f(x)||_2 <= 1/20 for every ||x||_2 <= 1.\n"
    );
    let started = Instant::now();
    let certified = certify(&target, &options).map_err(|e| bundled(e.to_string()))?;
    let built = started.elapsed();
    let c = &certified.head;
    let widths = &c.random_network.hidden_widths;
    let dims = target.dims();
    let parameters: u64 = widths
        .iter()
        .enumerate()
        .map(|(i, k)| k * (dims[i] + dims[i + 1]) as u64)
        .sum();
    let _ = writeln!(
        out,
        "1. certify (subset-sum construction, pools of {:?} neurons per input): kept {} of g's {} weights (widths {:?}) in {:.2}s",
        certified.pools,
        certified.ticket.kept_weights(),
        parameters,
        widths,
        built.as_secs_f64()
    );
    // The demo checks what it made the way a user would: the text goes through the file
    // format and the independent checker.
    let text = crate::write::to_json_text(&certified.certificate());
    let reread = slth_checker::certificate::parse(&text)?;
    let started = Instant::now();
    let report = slth_checker::verify(&reread).map_err(|r| Error::Rejected {
        file: "the demo's certificate".into(),
        place: r.place,
        reason: r.detail,
    })?;
    let _ = writeln!(
        out,
        "2. verify (exact arithmetic, weights recomputed from the seed) in {:.3}s:",
        started.elapsed().as_secs_f64()
    );
    for line in report.render_text().lines() {
        let _ = writeln!(out, "   {line}");
    }
    let ticket = Ticket::from_certificate(&reread, &target).map_err(|e| bundled(e.to_string()))?;
    let radius = BigRational::from_integer(1.into());
    let points = crate::eval::sample_points(&target, &radius, false, 200, &Seed::from_u64(0));
    let seen = crate::eval::evaluate(&target, &ticket, &points);
    let _ = writeln!(
        out,
        "3. eval: at 200 exact rational points of the ball, the largest ||f - g~|| is {:.3e}, below the certified {:.3e}.",
        seen.max_distance(),
        rational_to_f64(&report.epsilon)
    );
    let _ = writeln!(
        out,
        "\nTry: cargo run --release -- certify certificates/targets/tiny-3-2-1.json --epsilon 0.05 --seed 42 -o cert.json"
    );
    let _ = writeln!(out, "     cargo run --release -- verify cert.json");
    Ok(out)
}
