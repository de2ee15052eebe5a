//! Version 2's spectral error claims (docs/FORMAT.md section 12.9): the committed
//! `certificates/v2/*-spectral-errors.json` are true for slth in every mode and for the
//! independent checker (`slth-oracle`), and need the spectral reading; every example of
//! `certificates/invalid/v2/spectral-error-*.json` is rejected by both, with the kind and
//! place its name says.

mod common;

use common::modes;
use common::run::json_files;
use num_rational::BigRational;
use num_traits::Zero;
use slth_oracle::{Checker, Kind, Verdict, json, sum_squares};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn spectral_files() -> Vec<PathBuf> {
    json_files(&root().join("certificates/v2"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-spectral-errors.json"))
        .collect()
}

fn read(p: &PathBuf) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn committed_spectral_error_certificates_are_true_for_both_checkers() {
    let checker = Checker::default();
    let files = spectral_files();
    assert!(files.len() >= 4, "{files:?}");
    let (mut needs_spectral, mut witnesses, mut signed, mut nonnegative) = (0, 0, 0, 0);
    for p in &files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(p);
        let v = json::parse(&text, 128).unwrap();
        assert_eq!(v.get("version"), Some(&json::Json::num(2)), "{name}");
        assert!(v.get("bound").unwrap().get("terms").is_none(), "{name}");
        for o in modes::library(&text) {
            assert!(o.accepted, "{name}: slth says {o:?}");
        }
        let (verdict, facts) = checker.check_with_facts(&v);
        assert!(verdict.is_valid(), "{name}: {verdict:?}");
        let facts = facts.unwrap();
        let domain = v.get("domain").unwrap();
        if domain.get("nonnegative") == Some(&json::Json::Bool(true)) {
            nonnegative += 1;
        } else {
            signed += 1;
        }
        let mut spectral = 0;
        for (b, block) in facts.blocks.iter().enumerate() {
            if block.error_method == "frobenius" {
                continue;
            }
            spectral += 1;
            witnesses += usize::from(block.error_witness.is_some());
            // Two independent computations of the oracle agree: M_i from the kept paths
            // (12.9) against sum E_i^2 (6.1). Where only P counts, E = |M| entrywise; on a
            // signed block 1, E^2 is the larger of each pair of squares of M's two halves.
            let m = block.error_matrix.as_ref().unwrap();
            let m_squares = sum_squares(m.iter().flatten());
            let signed_block = m[0].len() == 2 * block.cols;
            if signed_block {
                assert!(block.error_squared <= m_squares, "{name} block {b}");
                assert!(
                    m_squares <= &block.error_squared * BigRational::from_integer(2.into()),
                    "{name} block {b}"
                );
            } else {
                assert_eq!(m[0].len(), block.cols, "{name} block {b}");
                assert_eq!(m_squares, block.error_squared, "{name} block {b}");
            }
            // A claim below ||E_i||_F: only the spectral reading makes it true, and the
            // Frobenius reading is rejected by both checkers.
            if &block.error * &block.error < block.error_squared {
                needs_spectral += 1;
                let mut flipped = v.clone();
                let at = [
                    json::key("bound"),
                    json::key("blocks"),
                    json::idx(b),
                    json::key("error_method"),
                ];
                *flipped.at_mut(&at).unwrap() = json::Json::str("frobenius");
                flipped.at_mut(&at[..3]).unwrap().remove("error_witness");
                let text = flipped.write();
                let verdict = checker.check_text(&text);
                assert!(
                    verdict.kinds().contains(&Kind::ErrorTooSmall),
                    "{name} block {b}: {verdict:?}"
                );
                for o in modes::library(&text) {
                    assert!(!o.accepted, "{name} block {b} as frobenius: {o:?}");
                    assert_eq!(o.kind, "ErrorTooSmall", "{name} block {b}: {o:?}");
                }
            }
            assert!(!block.error.is_zero() || m_squares.is_zero());
        }
        assert!(spectral >= 1, "{name} has no spectral error claim");
    }
    assert!(
        needs_spectral >= 1,
        "no committed claim needs the spectral reading"
    );
    assert!(witnesses >= 2, "{witnesses} error witnesses");
    assert!(
        signed >= 1 && nonnegative >= 1,
        "{signed} signed, {nonnegative} non-negative"
    );
}

#[test]
fn invalid_spectral_error_examples_are_rejected_by_both_checkers() {
    let error = "bound.blocks[0].error";
    let method = "bound.blocks[0].error_method";
    let witness = "bound.blocks[0].error_witness";
    let expected: [(&str, Kind, String); 9] = [
        ("method-in-version-1", Kind::Header, method.into()),
        ("negative", Kind::ErrorTooSmall, error.into()),
        ("too-small", Kind::ErrorTooSmall, error.into()),
        ("unknown-method", Kind::Header, method.into()),
        (
            "version-2-without-either",
            Kind::Header,
            "bound.terms".into(),
        ),
        ("witness-invalid", Kind::WitnessInvalid, witness.into()),
        (
            "witness-negative-shift",
            Kind::WitnessInvalid,
            format!("{witness}.shift"),
        ),
        (
            "witness-shape",
            Kind::WitnessInvalid,
            format!("{witness}.factor[1]"),
        ),
        (
            "witness-without-spectral",
            Kind::WitnessInvalid,
            witness.into(),
        ),
    ];
    let files: Vec<PathBuf> = json_files(&root().join("certificates/invalid/v2"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("spectral-error-")
        })
        .collect();
    assert_eq!(files.len(), expected.len(), "{files:?}");
    let checker = Checker::default();
    for (name, kind, place) in expected {
        let p = root().join(format!(
            "certificates/invalid/v2/spectral-error-{name}.json"
        ));
        let text = read(&p);
        let outcomes = modes::library(&text);
        for o in &outcomes {
            assert_eq!(o, &outcomes[0], "{name}: modes disagree");
        }
        let o = &outcomes[0];
        assert!(!o.accepted, "{name}: slth accepts it");
        assert_eq!(o.kind, kind.name(), "{name}: {o:?}");
        assert_eq!(o.place, place, "{name}: {o:?}");
        let verdict = checker.check_text(&text);
        assert!(
            matches!(verdict, Verdict::Invalid(_)),
            "{name}: {verdict:?}"
        );
        assert!(
            verdict.kinds().contains(&kind),
            "{name}: the oracle finds {verdict:?}"
        );
    }
}
