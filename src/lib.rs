//! slth: certified strong lottery tickets.
pub mod numbers;
pub mod sampler;
