//! Compact certificates and gzip files (docs/FORMAT.md section 14): every committed
//! certificate survives the round trip through both encodings and gzip, the independent
//! checker (`slth-oracle`, its own JSON reader) agrees with slth on compact files and on
//! mutations of their compact entries, and hostile gzip files (a bomb, a truncated or
//! corrupted stream, a `.gz` name on plain text) are refused with one line.

mod common;

use common::modes;
use slth::write::{Encoding, gzip, to_json_text, write_certificate};
use slth_checker::certificate::{
    COMPACT_FORMAT_NAME, Certificate, FORMAT_NAME, GZIP_MAGIC, Limits, LoadErrorKind, load,
    load_marked, parse,
};
use slth_oracle::json::{self, Json};
use slth_oracle::{Checker, Verdict};
use std::path::{Path, PathBuf};
use std::process::Command;

const SLTH: &str = env!("CARGO_BIN_EXE_slth");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("slth-compact-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The committed certificates slth's writer made (version 1).
fn committed() -> Vec<PathBuf> {
    let files = common::run::json_files(&root().join("certificates"));
    assert!(files.len() >= 6, "{files:?}");
    files
}

/// The oracle with room for digits' version 2 terms (side 98) and joint form (side 131).
fn oracle() -> Checker {
    let mut checker = Checker::default();
    checker.max_witness_side = 256;
    checker
}

fn compact_text(c: &Certificate) -> String {
    let mut compact = c.clone();
    compact.format = COMPACT_FORMAT_NAME.to_string();
    to_json_text(&compact)
}

fn rational(text: &str) -> num_rational::BigRational {
    slth_checker::numbers::parse_rational(text).unwrap()
}

/// The same certificate, kept values compared as rationals (a producer may write a value
/// in another form, `0.5` for `1/2`; the reader fills omitted ones in as `n/2^53`).
fn assert_same(read: &Certificate, original: &Certificate, what: &str) {
    for (b, (x, y)) in read.ticket.iter().zip(&original.ticket).enumerate() {
        for (list, xs, ys) in [
            ("hidden", &x.hidden, &y.hidden),
            ("output", &x.output, &y.output),
        ] {
            assert_eq!(xs.len(), ys.len(), "{what}: ticket[{b}].{list}");
            for (k, (e, f)) in xs.iter().zip(ys).enumerate() {
                let same = e.0 == f.0 && e.1 == f.1 && rational(&e.2.0) == rational(&f.2.0);
                assert!(same, "{what}: ticket[{b}].{list}[{k}]: {e:?} for {f:?}");
            }
        }
    }
    let mut read = read.clone();
    read.ticket = original.ticket.clone();
    assert!(
        read == *original,
        "{what}: a field other than the ticket differs"
    );
}

#[test]
fn every_committed_certificate_round_trips_in_both_encodings_and_gzip() {
    let scratch = Scratch::new("round-trip");
    for path in committed() {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let original = load(&path, &Limits::default()).unwrap();
        for (file, encoding) in [
            ("compact.json", Encoding::Compact),
            ("compact.json.gz", Encoding::Compact),
            ("full.json.gz", Encoding::Full),
        ] {
            let out = scratch.path(file);
            write_certificate(Some(&out), &original, encoding).unwrap();
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(
                bytes.starts_with(&GZIP_MAGIC),
                file.ends_with(".gz"),
                "{name} {file}"
            );
            let mut again = load(&out, &Limits::default()).unwrap();
            let format = match encoding {
                Encoding::Compact => COMPACT_FORMAT_NAME,
                Encoding::Full => FORMAT_NAME,
            };
            assert_eq!(again.format, format, "{name} {file}");
            again.format = original.format.clone();
            assert_same(&again, &original, &format!("{name} {file}"));
            assert!(
                slth_checker::verify::verify(&again).is_ok(),
                "{name} {file}"
            );
        }
        // The compact text: no value in the ticket, written back byte for byte, and the
        // independent checker finds it valid, as slth does in every mode.
        let text = compact_text(&original);
        assert_eq!(to_json_text(&parse(&text).unwrap()), text, "{name}");
        let ticket = &text[text.find("\"ticket\"").unwrap()..text.find("\"bound\"").unwrap()];
        assert!(
            !ticket.contains('/'),
            "{name}: a value in the compact ticket"
        );
        let verdict = oracle().check_text(&text);
        assert!(verdict.is_valid(), "{name}: oracle says {verdict:?}");
        for outcome in modes::library(&text) {
            assert!(outcome.accepted, "{name}: {outcome:?}");
        }
    }
}

/// Version 2 certificates (written by tools/tighten.py; slth's writer does not write terms)
/// made compact in their text: every value left out and the format renamed. slth reads
/// them, plain and gzip-compressed, as the same certificate, and both checkers accept them.
#[test]
fn version_2_certificates_read_compact_and_gzip() {
    let scratch = Scratch::new("v2");
    let files = common::run::json_files(&root().join("certificates/v2"));
    assert!(files.len() >= 5);
    for path in files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let original = load(&path, &Limits::default()).unwrap();
        let mut j = json::parse(&std::fs::read_to_string(&path).unwrap(), 128).unwrap();
        j.set("format", Json::str(COMPACT_FORMAT_NAME));
        for block in 0..original.ticket.len() {
            for list in ["hidden", "output"] {
                for e in entries(&mut j, block, list) {
                    e.as_array_mut().unwrap().truncate(2);
                }
            }
        }
        let text = j.write();
        assert!(assert_agree(&name, &text), "{name}");
        let gz = scratch.path("v2.json.gz");
        std::fs::write(&gz, gzip(text.as_bytes())).unwrap();
        let mut again = load(&gz, &Limits::default()).unwrap();
        again.format = original.format.clone();
        assert_same(&again, &original, &name);
    }
}

/// The invalid compact examples: `slth verify`'s marked reading rejects each where the
/// filled reading does.
#[test]
fn invalid_compact_examples_are_rejected_alike_by_both_readings() {
    let mut seen = 0;
    for path in common::run::json_files(&root().join("certificates/invalid")) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("compact-") || name == "value-left-out.json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!assert_agree(&name, &text), "{name}");
        seen += 1;
    }
    assert_eq!(seen, 5);
}

/// The valid compact examples of certificates/compact/ (one gzip-compressed) verify, and
/// the oracle agrees on their text.
#[test]
fn committed_compact_examples_verify_and_the_oracle_agrees() {
    let dir = root().join("certificates/compact");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let certificate = load(&path, &Limits::default()).unwrap();
        assert_eq!(
            certificate.format,
            COMPACT_FORMAT_NAME,
            "{}",
            path.display()
        );
        assert!(slth_checker::verify::verify(&certificate).is_ok());
        let text = to_json_text(&certificate);
        if !path.to_string_lossy().ends_with(".gz") {
            assert_eq!(text, std::fs::read_to_string(&path).unwrap());
        }
        assert!(oracle().check_text(&text).is_valid(), "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 3);
}

/// The compact tiny-3-2-1 certificate as the oracle's JSON.
fn tiny_compact() -> Json {
    let c = load(
        &root().join("certificates/tiny-3-2-1.json"),
        &Limits::default(),
    )
    .unwrap();
    json::parse(&compact_text(&c), 128).unwrap()
}

fn entries<'a>(j: &'a mut Json, block: usize, list: &str) -> &'a mut Vec<Json> {
    let ticket = j.get_mut("ticket").unwrap().as_array_mut().unwrap();
    ticket[block].get_mut(list).unwrap().as_array_mut().unwrap()
}

/// The outcome of `slth verify`'s own path on `text`: the file read with its missing
/// values marked (`load_marked`), then checked in the default arithmetic.
fn marked_outcome(text: &str) -> modes::Outcome {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = Scratch::new(&format!("marked-{n}"));
    let path = scratch.path("c.json");
    std::fs::write(&path, text).unwrap();
    let (accepted, kind, place) = match load_marked(&path, &Limits::default()) {
        Err(e) => (false, format!("{:?}", e.kind), String::new()),
        Ok(c) => match slth_checker::verify::verify(&c) {
            Ok(_) => (true, String::new(), String::new()),
            Err(r) => (false, format!("{:?}", r.kind), r.place),
        },
    };
    let kind = if kind == "Io" || kind == "Syntax" {
        "Json".to_string()
    } else {
        kind
    };
    modes::Outcome {
        accepted,
        kind,
        place,
    }
}

/// slth (every library mode, and verify's marked reading) and the oracle on `text`: both
/// accept, or both reject and the oracle finds the kind slth names.
fn assert_agree(what: &str, text: &str) -> bool {
    let verdict = oracle().check_text(text);
    let mut outcomes = modes::library(text);
    let marked = marked_outcome(text);
    if !outcomes[0].accepted {
        assert_eq!(
            marked.kind, outcomes[0].kind,
            "{what}: marked {marked:?}, {outcomes:?}"
        );
        if !outcomes[0].place.contains(':') {
            assert_eq!(marked.place, outcomes[0].place, "{what}");
        }
    }
    outcomes.push(marked);
    for o in &outcomes {
        assert_eq!(
            o.accepted,
            verdict.is_valid(),
            "{what}: slth {o:?}, oracle {verdict:?}"
        );
    }
    if let Verdict::Invalid(_) = verdict {
        assert!(
            verdict.kinds().iter().any(|k| k.name() == outcomes[0].kind),
            "{what}: slth says {:?}, oracle {verdict:?}",
            outcomes[0]
        );
    }
    verdict.is_valid()
}

/// Mutations of the compact fields: every index of every entry moved, the value written
/// (right, and one off), the entry cut short, lengthened, duplicated or removed, the format
/// changed. slth and the oracle agree on each.
#[test]
fn mutations_of_compact_entries_are_decided_alike() {
    let base = tiny_compact();
    assert!(assert_agree("base", &base.write()));
    let mut rejected = 0;
    let mut total = 0;
    for block in 0..2 {
        for list in ["hidden", "output"] {
            let count = entries(&mut base.clone(), block, list).len();
            for k in 0..count {
                let mut mutants: Vec<(String, Json)> = Vec::new();
                for position in 0..2 {
                    for value in ["0", "1", "2", "199", "247", "18446744073709551615"] {
                        let mut j = base.clone();
                        let entry = entries(&mut j, block, list)[k].as_array_mut().unwrap();
                        entry[position] = Json::num(value);
                        mutants.push((format!("{list}[{k}][{position}] = {value}"), j));
                    }
                }
                // The value written: g's (valid) and g's numerator plus 2 (invalid).
                let c = parse(&base.write()).unwrap();
                let entry = match list {
                    "hidden" => &c.ticket[block].hidden[k],
                    _ => &c.ticket[block].output[k],
                };
                let (numerator, _) = entry.2.0.split_once('/').unwrap();
                let numerator: i64 = numerator.parse().unwrap();
                for (tag, n) in [("right", numerator), ("off", numerator + 2)] {
                    let mut j = base.clone();
                    let e = entries(&mut j, block, list)[k].as_array_mut().unwrap();
                    e.push(Json::str(format!("{n}/9007199254740992")));
                    mutants.push((format!("{list}[{k}] value {tag}"), j));
                }
                let mut j = base.clone();
                entries(&mut j, block, list)[k]
                    .as_array_mut()
                    .unwrap()
                    .truncate(1);
                mutants.push((format!("{list}[{k}] one element"), j));
                let mut j = base.clone();
                let e = entries(&mut j, block, list)[k].as_array_mut().unwrap();
                e.extend([Json::str("1/2"), Json::str("1/2")]);
                mutants.push((format!("{list}[{k}] four elements"), j));
                let mut j = base.clone();
                let e = entries(&mut j, block, list)[k].as_array_mut().unwrap();
                e.push(Json::num(0));
                mutants.push((format!("{list}[{k}] a number for the value"), j));
                let mut j = base.clone();
                let copy = entries(&mut j, block, list)[k].clone();
                entries(&mut j, block, list).push(copy);
                mutants.push((format!("{list}[{k}] twice"), j));
                let mut j = base.clone();
                entries(&mut j, block, list).remove(k);
                mutants.push((format!("{list}[{k}] removed"), j));
                for (what, j) in mutants {
                    total += 1;
                    if !assert_agree(&what, &j.write()) {
                        rejected += 1;
                    }
                }
            }
        }
    }
    let mut j = base.clone();
    j.set("format", Json::str(FORMAT_NAME));
    assert!(!assert_agree("format slth-certificate", &j.write()));
    let mut j = base;
    j.set("format", Json::str("slth-compact"));
    assert!(!assert_agree("format slth-compact", &j.write()));
    assert!(total > 300 && rejected > total / 2, "{rejected} of {total}");
}

fn limits(max_file_bytes: u64) -> Limits {
    Limits {
        max_file_bytes,
        ..Limits::default()
    }
}

#[test]
fn a_gzip_bomb_is_refused_at_the_file_size_limit() {
    let scratch = Scratch::new("bomb");
    let bomb = scratch.path("bomb.json.gz");
    // 4 MiB of spaces after "{" compress to about 4 KB.
    let mut text = b"{".to_vec();
    text.resize(4 << 20, b' ');
    std::fs::write(&bomb, gzip(&text)).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 10_000);
    let e = load(&bomb, &limits(1 << 20)).unwrap_err();
    assert_eq!(e.kind, LoadErrorKind::Limit, "{e}");
    let message = e.to_string();
    assert!(
        message.contains("decompressed text has more than 1048576 bytes (--max-file-size)"),
        "{message}"
    );
    let out = Command::new(SLTH)
        .args(["verify", "--max-file-size", "1048576"])
        .arg(&bomb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("REFUSED") && stderr.contains("--max-file-size"),
        "{stderr}"
    );
}

fn tiny_gzip(scratch: &Scratch) -> Vec<u8> {
    let c = load(
        &root().join("certificates/tiny-3-2-1.json"),
        &Limits::default(),
    )
    .unwrap();
    let path = scratch.path("tiny.json.gz");
    write_certificate(Some(&path), &c, Encoding::Compact).unwrap();
    std::fs::read(path).unwrap()
}

/// Runs `slth verify FILE`: (exit code, stderr).
fn verify_cli(file: &Path) -> (Option<i32>, String) {
    let out = Command::new(SLTH).arg("verify").arg(file).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn truncated_corrupted_and_misnamed_gzip_files_are_unreadable() {
    let scratch = Scratch::new("broken");
    let whole = tiny_gzip(&scratch);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    for cut in [whole.len() - 1, whole.len() - 8, whole.len() / 2, 12] {
        cases.push(("truncated.json.gz", whole[..cut].to_vec(), "truncated"));
    }
    // The CRC-32 of the trailer, changed.
    let mut crc = whole.clone();
    let n = crc.len();
    crc[n - 8] ^= 1;
    cases.push(("crc.json.gz", crc, "not a valid gzip stream"));
    // Something after the member that is not another member.
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"garbage");
    cases.push(("trailing.json.gz", trailing, "gzip stream"));
    // A .gz name on plain JSON, and the magic's second byte wrong.
    let plain = std::fs::read(root().join("certificates/tiny-3-2-1.json")).unwrap();
    cases.push(("plain.json.gz", plain, "is named .gz but is not gzip"));
    let mut magic = whole.clone();
    magic[1] = 0x8c;
    cases.push(("magic.json.gz", magic, "is named .gz but is not gzip"));
    for (name, bytes, expected) in cases {
        let path = scratch.path(name);
        std::fs::write(&path, &bytes).unwrap();
        let e = load(&path, &Limits::default()).unwrap_err();
        assert!(
            matches!(e.kind, LoadErrorKind::Io | LoadErrorKind::Syntax),
            "{name}: {e}"
        );
        assert!(e.to_string().contains(expected), "{name}: {e}");
        let (code, stderr) = verify_cli(&path);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
    }
    // Two members are one text (as gunzip reads them): the certificate split in two.
    let text = std::fs::read(root().join("certificates/tiny-3-2-1.json")).unwrap();
    let (a, b) = text.split_at(text.len() / 2);
    let mut two = gzip(a);
    two.extend(gzip(b));
    let path = scratch.path("two.json.gz");
    std::fs::write(&path, two).unwrap();
    assert!(load(&path, &Limits::default()).is_ok());
}

fn slth(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(SLTH)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// certify picks the encoding from the name unless told, and every command that reads a
/// certificate reads gzip and compact files.
#[test]
fn certify_writes_and_every_command_reads_compact_gzip() {
    let scratch = Scratch::new("cli");
    let target = "certificates/targets/tiny-3-2-1.json";
    let certify = [
        "certify",
        target,
        "--construction",
        "pairs",
        "--epsilon",
        "0.05",
        // the committed certificate below is version 1's
        "--format-version",
        "1",
    ];
    let full = std::fs::read(root().join("certificates/tiny-3-2-1.json")).unwrap();
    let cases = [
        ("a.json", None, false, FORMAT_NAME),
        ("b.json.gz", None, true, COMPACT_FORMAT_NAME),
        ("c.json.gz", Some("full"), true, FORMAT_NAME),
        ("d.json", Some("compact"), false, COMPACT_FORMAT_NAME),
    ];
    for (name, encoding, gzipped, format) in cases {
        let out = scratch.path(name);
        let mut args: Vec<&str> = certify.to_vec();
        let out_text = out.to_string_lossy().into_owned();
        args.extend(["--seed", "42", "-o", &out_text]);
        if let Some(e) = encoding {
            args.extend(["--encoding", e]);
        }
        let (code, _, stderr) = slth(&args);
        assert_eq!(code, Some(0), "{name}: {stderr}");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(bytes.starts_with(&GZIP_MAGIC), gzipped, "{name}");
        let c = load(&out, &Limits::default()).unwrap();
        assert_eq!(c.format, format, "{name}");
        if name == "a.json" {
            assert_eq!(bytes, full, "the default output changed");
        }
    }
    let gz = scratch.path("b.json.gz").to_string_lossy().into_owned();
    let st = scratch
        .path("ticket.safetensors")
        .to_string_lossy()
        .into_owned();
    for args in [
        vec!["verify", gz.as_str()],
        vec!["verify", "--exact", gz.as_str()],
        vec!["verify", "--f64", gz.as_str()],
        vec!["inspect", gz.as_str()],
        vec!["eval", gz.as_str(), "--points", "20", "--seed", "1"],
        vec!["export", gz.as_str(), "-o", st.as_str()],
        vec!["attack", gz.as_str(), "--seed", "1", "--quiet"],
    ] {
        let (code, stdout, stderr) = slth(&args);
        assert_eq!(code, Some(0), "{args:?}: {stdout}{stderr}");
    }
}
