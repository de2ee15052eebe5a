//! Coverage-guided fuzzing of the certificate reader and the verifier (libFuzzer, through
//! cargo-fuzz; needs a nightly toolchain):
//!
//!     cargo +nightly fuzz run verify fuzz/corpus/verify tests/fuzz_corpus -- \
//!         -dict=fuzz/verify.dict -max_len=8192 -timeout=10 -rss_limit_mb=2048
//!
//! The properties are those of tests/fuzz/, which replays its corpus in every
//! `cargo test`: no panic (libFuzzer reports it as a crash), the exact and the sound mode
//! give the same verdict and the same rejection, and the verdict agrees with the
//! independent first-principles checker (the slth-oracle crate): never VALID where it finds a
//! violation, never a rejection (other than a resource-limit refusal) where it finds the
//! certificate true.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slth_checker::certificate::{self, LoadErrorKind};
use slth_checker::verify::{self, Arithmetic, Limits};
use slth_oracle::{Checker, Verdict};
use std::sync::OnceLock;

/// (accepted, rejection kind, place) of one mode.
fn outcome(result: Result<verify::Report, verify::Rejection>) -> (bool, String, String) {
    match result {
        Ok(_) => (true, String::new(), String::new()),
        Err(r) => (false, format!("{:?}", r.kind), r.place),
    }
}

fuzz_target!(|data: &[u8]| {
    static CHECKER: OnceLock<Checker> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let (accepted, kind) = match certificate::parse_with(text, &limits) {
        Ok(c) => {
            let exact = outcome(verify::verify_using(&c, &limits, Arithmetic::Exact));
            let sound = outcome(verify::verify_using(&c, &limits, Arithmetic::Sound));
            assert_eq!(exact, sound, "the exact and the sound mode disagree");
            (exact.0, exact.1)
        }
        Err(e) if e.kind == LoadErrorKind::Limit => (false, "Limit".to_string()),
        Err(_) => (false, "Json".to_string()),
    };
    let checker = CHECKER.get_or_init(Checker::default);
    match checker.check_text(text) {
        Verdict::Invalid(violations) => {
            assert!(!accepted, "FALSE certificate accepted: {violations:?}");
        }
        Verdict::Valid => {
            assert!(
                accepted || kind == "Limit",
                "true certificate rejected as {kind}"
            );
        }
        Verdict::Undecided(_) => {}
    }
});
