//! Small files that expand (issue 10, item 2): a number whose exponent makes 10^|e|, and
//! many entries times a huge common denominator. Each is decided or refused, the same way
//! in every mode; the hang guard of `common::run` fails a test instead of hanging. No
//! timings are asserted. The hostile files for measurements are written by
//! `SLTH_EXPAND_DIR=/tmp/x cargo test --release --test expanding_numbers -- --ignored`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");
const TIMEOUT: Duration = Duration::from_secs(120);

/// A one-layer certificate (linear, `rows` x `cols`) with weights `weight(r, c)`, an empty
/// ticket and the claims `error`, `lipschitz` and `epsilon`.
fn certificate(
    rows: usize,
    cols: usize,
    weight: impl Fn(usize, usize) -> String,
    claims: [&str; 3],
) -> String {
    let rows_text: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (0..cols).map(|c| format!("\"{}\"", weight(r, c))).collect();
            format!("[{}]", row.join(","))
        })
        .collect();
    format!(
        r#"{{"format":"slth-certificate","version":1,"target":{{"input_dim":{cols},"layers":[{{"weights":[{}],"activation":"linear"}}]}},"domain":{{"norm":"l2","radius":"1","nonnegative":false}},"random_network":{{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]}},"ticket":[{{"hidden":[],"output":[]}}],"bound":{{"blocks":[{{"error":"{}","lipschitz":"{}","lipschitz_method":"frobenius"}}],"epsilon":"{}"}}}}"#,
        rows_text.join(","),
        claims[0],
        claims[1],
        claims[2]
    )
}

/// `count` distinct primes above 2^30 (31-bit), by a sieve of the window above it.
fn primes_31_bit(count: usize) -> Vec<u64> {
    let base: u64 = 1 << 30;
    let window = 200_000usize;
    let mut composite = vec![false; window];
    for d in 2..=46_341u64 {
        let start = base.div_ceil(d) * d;
        let mut m = start;
        while m < base + window as u64 {
            composite[(m - base) as usize] = true;
            m += d;
        }
    }
    let primes: Vec<u64> = (0..window)
        .filter(|&i| !composite[i])
        .map(|i| base + i as u64)
        .take(count)
        .collect();
    assert_eq!(primes.len(), count);
    primes
}

/// 900 KB: 100,000 target weights "1e9999" (9 bytes of text, 4 KB each once expanded).
fn exponent_file() -> String {
    certificate(100, 1000, |_, _| "1e9999".into(), ["0", "0", "0"])
}

/// About 820 KB: 2,000 weights 1/p (distinct 31-bit primes, a 62,000-bit common
/// denominator) and 198,000 weights "1"; the claims are false, so the sound filter falls
/// back to the exact check.
fn prime_file() -> String {
    let primes = primes_31_bit(2000);
    certificate(
        200,
        1000,
        |r, c| {
            if c < 10 {
                format!("1/{}", primes[r * 10 + c])
            } else {
                "1".into()
            }
        },
        ["0", "0", "0"],
    )
}

/// The same 2,000 weights 1/p with 2,000 "1"s: small enough to decide exactly; the error
/// claim 0 is false (the ticket keeps nothing), so every mode but --f64 falls back.
fn small_prime_file(error: &str) -> String {
    let primes = primes_31_bit(2000);
    certificate(
        2,
        2000,
        |r, c| {
            if c % 2 == 0 {
                format!("1/{}", primes[r * 1000 + c / 2])
            } else {
                "1".into()
            }
        },
        [error, "100000", "1000000"],
    )
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slth-expand-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Exit code and stderr of `slth verify FILE flags`.
fn verify(path: &Path, flags: &[&str]) -> (i32, String) {
    let mut args = vec!["verify".to_string(), path.display().to_string()];
    args.extend(flags.iter().map(|s| s.to_string()));
    let out = common::run::run(SLTH, &args, &[], &std::env::temp_dir(), TIMEOUT);
    (out.code, out.stderr)
}

const MODES: [&[&str]; 3] = [&[], &["--exact"], &["--f64"]];

fn assert_refused(path: &Path, flag: &str, place: &str) {
    for mode in MODES {
        let (code, stderr) = verify(path, mode);
        assert_eq!(code, 1, "{mode:?}: {stderr}");
        assert!(
            stderr.contains("REFUSED (resource limit)"),
            "{mode:?}: {stderr}"
        );
        assert!(
            stderr.contains(flag) && stderr.contains(place),
            "{mode:?}: {stderr}"
        );
    }
}

#[test]
fn a_number_that_expands_is_refused_before_it_expands() {
    let path = write("exponent.json", &exponent_file());
    assert_refused(&path, "--max-exponent", "target.layers[0].weights[0][0]");
}

#[test]
fn a_zero_with_any_exponent_is_not_refused() {
    let path = write(
        "zero-exponent.json",
        &certificate(
            1,
            2,
            |_, c| ["0e10001", "-0.0e-99999"][c].into(),
            ["0", "0", "0"],
        ),
    );
    for mode in MODES {
        let (code, stderr) = verify(&path, mode);
        assert_eq!(code, 0, "{mode:?}: {stderr}");
    }
}

#[test]
fn many_entries_times_a_huge_common_denominator_are_refused() {
    let path = write("primes.json", &prime_file());
    assert_refused(&path, "--max-scaled-bits", "target.layers[0].weights");
}

#[test]
fn a_false_claim_over_a_large_denominator_is_decided_in_every_mode() {
    let path = write("small-primes.json", &small_prime_file("0"));
    for mode in MODES {
        let (code, stderr) = verify(&path, mode);
        assert_eq!(code, 1, "{mode:?}: {stderr}");
        assert!(!stderr.contains("REFUSED"), "{mode:?}: {stderr}");
    }
    let path = write("small-primes-true.json", &small_prime_file("100"));
    for mode in [&[][..], &["--exact"]] {
        let (code, stderr) = verify(&path, mode);
        assert_eq!(code, 0, "{mode:?}: {stderr}");
    }
}

/// 1.1 MB: a 128 x 128 layer of 100-bit numerators over 2^110 with a spectral claim and
/// no witness. Its exact elimination took 24 s (83 s on a busy machine) under the old work
/// limit (10^10 with an exponent of 1.6 on the operand size); it must be refused at once,
/// in every mode, even though the sound filter could decide it.
fn elimination_file() -> String {
    // A different 100-bit numerator per entry, from a multiplicative hash of its place.
    let mix = |x: u64| x.wrapping_mul(6364136223846793005).rotate_left(29) ^ x;
    let text = certificate(
        128,
        128,
        |r, c| {
            let h = mix((r * 128 + c) as u64 + 1);
            let numerator = (u128::from(h) << 36) ^ u128::from(mix(h));
            format!("{numerator}/{}", 1u128 << 110)
        },
        ["100", "100", "1000000000"],
    );
    text.replace(
        r#""lipschitz_method":"frobenius""#,
        r#""lipschitz_method":"spectral""#,
    )
}

#[test]
fn an_elimination_beyond_the_work_limit_is_refused_in_every_mode() {
    let path = write("elimination.json", &elimination_file());
    assert_refused(&path, "--max-exact-work", "bound.blocks[0].lipschitz");
}

/// Writes the hostile files of issue 10 item 2 to `$SLTH_EXPAND_DIR` for
/// `/usr/bin/time -v target/release/slth verify FILE [--exact | --f64]`.
#[test]
#[ignore]
fn write_hostile_files() {
    let dir = PathBuf::from(std::env::var("SLTH_EXPAND_DIR").expect("SLTH_EXPAND_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("exponent-1e9999.json"), exponent_file()).unwrap();
    std::fs::write(dir.join("primes-2000.json"), prime_file()).unwrap();
    std::fs::write(dir.join("small-primes.json"), small_prime_file("0")).unwrap();
}
