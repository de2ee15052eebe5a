//! Helpers shared by the integration tests (each uses a part of them). The independent
//! first-principles checker they compare with is the `slth-oracle` crate.
#![allow(dead_code)]

pub mod modes;
pub mod run;
pub mod safetensors;
