//! slth-checker: the trusted checker of slth certificates.
//!
//! A certificate claims that for every x in the ball ||x||_2 <= r (optionally x >= 0),
//! ||g~(x) - f(x)||_2 <= epsilon, where f is a target ReLU network with exact rational
//! weights, g is a random network drawn from a seed by ChaCha20, and g~ keeps the listed
//! weights of g. This crate decides such a claim, and is all that a VALID verdict rests on:
//! it depends on nothing that builds certificates (the `slth` crate depends on it, never
//! the reverse).
//!
//! The pipeline, one module each:
//!
//! - [`numbers`]: the exact rationals of the format (docs/FORMAT.md section 2);
//! - [`sampler`]: the weights of g from (seed, stream, index) (section 4);
//! - [`certificate`]: the schema, the resource [`Limits`] and the streaming reader
//!   (sections 7 and 11);
//! - [`mod@verify`]: every check, the kept weights against g (section 5) and the inequalities
//!   of the bound (section 6), in exact arithmetic or a sound f64 filter with exact
//!   fallback, and the [`Report`] of what was proven;
//! - [`statement`]: what a certificate of a homogenized target says about a network with
//!   biases;
//! - [`verdict`]: the verdict of `slth verify` on a file, its message and exit code;
//! - [`neurons`]: neuron-subnetwork certificates (section 12), checked on their own.
//!
//! Verifying a certificate given as text:
//!
//! ```
//! let text = std::fs::read_to_string(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../certificates/tiny-3-2-1.json"
//! ))
//! .unwrap();
//! let certificate = slth_checker::certificate::parse(&text).unwrap();
//! let report = slth_checker::verify(&certificate).unwrap();
//! assert!(report.bound_value <= report.epsilon);
//!
//! // A kept weight that is not g's (no weight of g is 0), rejected at its place.
//! let mut tampered = certificate.clone();
//! tampered.ticket[0].hidden[0].2 .0 = "0".to_string();
//! let rejection = slth_checker::verify(&tampered).unwrap_err();
//! assert_eq!(rejection.place, "ticket[0].hidden[0]");
//! ```

#![warn(clippy::arithmetic_side_effects)]

pub mod certificate;
pub mod neurons;
pub mod numbers;
pub mod sampler;
pub mod statement;
pub mod verdict;
pub mod verify;

pub use certificate::{Certificate, Limits, LoadError};
pub use verify::{
    Arithmetic, Rejection, RejectionKind, Report, verify, verify_sound, verify_using, verify_with,
};
