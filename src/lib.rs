//! slth: certified strong lottery tickets.
//!
//! Given a target ReLU network f with exact rational weights, slth prunes a seeded random
//! network g of twice the depth to a subnetwork g~ and writes a certificate proving
//! `||g~(x) - f(x)||_2 <= epsilon` on an L2 ball. This crate builds certificates; the
//! checker that decides them is the separate crate `slth_checker`, which depends on nothing
//! here.
pub mod bound;
pub mod certify;
pub mod cli;
pub mod construct;
pub mod demo;
pub mod error;
pub mod eval;
pub mod fast;
pub mod generate;
pub mod homogenize;
pub mod import;
pub mod inspect;
pub mod lipschitz;
pub mod network;
pub mod numbers;
pub mod ticket;
pub mod write;

pub use error::Error;
