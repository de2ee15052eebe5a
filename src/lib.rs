//! slth: certified strong lottery tickets.
//!
//! Given a target ReLU network f with exact rational weights, slth prunes a seeded random
//! network g of twice the depth to a subnetwork g~ and writes a certificate proving
//! `||g~(x) - f(x)||_2 <= epsilon` on an L2 ball. This crate builds certificates; the
//! checker that decides them is the separate crate `slth_checker`, which depends on nothing
//! here.
//!
//! Certifying a small network, and checking the result with the checker:
//!
//! ```
//! use num_rational::BigRational;
//! use slth::certify::{CertifyOptions, Request, certify};
//! use slth::network::Network;
//! use slth_checker::sampler::Seed;
//!
//! // f(x) = relu(x_0 / 2 - x_1 / 3): one layer, two inputs.
//! let target = Network::from_json_text(
//!     r#"{"input_dim": 2, "layers": [{"weights": [["1/2", "-1/3"]], "activation": "relu"}]}"#,
//! )
//! .unwrap();
//! let epsilon = BigRational::new(1.into(), 20.into());
//! let options = CertifyOptions::new(Request::Epsilon(epsilon.clone()), Seed::from_u64(42));
//! let certified = certify(&target, &options).unwrap();
//!
//! // The certificate goes through its text form and the independent checker.
//! let text = slth::write::to_json_text(&certified.certificate());
//! let read = slth_checker::certificate::parse(&text).unwrap();
//! let report = slth_checker::verify(&read).unwrap();
//! assert!(report.epsilon <= epsilon);
//! ```
pub mod attack;
pub mod bound;
pub mod certify;
pub mod cli;
pub mod construct;
pub mod demo;
pub mod error;
pub mod eval;
pub mod export;
pub mod fast;
pub mod generate;
pub mod homogenize;
pub mod import;
pub mod inspect;
pub mod json;
pub mod lipschitz;
pub mod network;
pub mod neurons;
pub mod numbers;
pub mod progress;
pub mod report;
pub mod sweep;
pub mod text;
pub mod ticket;
pub mod tighten;
pub mod values;
pub mod write;

pub use error::Error;
