//! Helpers shared by the integration tests (each uses a part of them).
#![allow(dead_code)]
// Matrix code reads best with index loops.
#![allow(clippy::needless_range_loop)]

pub mod first_principles;
pub mod json;
pub mod modes;
pub mod run;
