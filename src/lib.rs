//! slth: certified strong lottery tickets.
//!
//! Given a target ReLU network f with exact rational weights, slth prunes a seeded random
//! network g of twice the depth to a subnetwork g~ and writes a certificate proving
//! `||g~(x) - f(x)||_2 <= epsilon` on an L2 ball; `verify` re-checks such a certificate
//! with exact arithmetic, independently of the code that built it.
pub mod bound;
pub mod certificate;
pub mod certify;
pub mod construct;
pub mod eval;
pub mod fast;
pub mod generate;
pub mod homogenize;
pub mod import;
pub mod lipschitz;
pub mod network;
pub mod numbers;
pub mod sampler;
pub mod ticket;
pub mod verify;
