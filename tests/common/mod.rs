//! Helpers shared by tests/mutations.rs and tests/fuzz.rs (each uses a part of them).
#![allow(dead_code)]

pub mod first_principles;
pub mod json;
pub mod modes;
