//! The trusted checker of neuron certificates (`slth_checker::neurons`) against the
//! independent one of the oracle crate (`slth_oracle::check_neuron_text`, written from
//! docs/FORMAT.md section 13 alone), on every committed example, valid or not, and on
//! mutants of the examples and of the sample file: the same verdict, the same first failure
//! (kind and place), and the same exact loss when valid.

use num_rational::BigRational;
use slth_checker::certificate::Limits;
use slth_checker::neurons::{NeuronRejectionKind, parse_neuron, verify_neuron_in};
use slth_oracle::json::{self, Json};
use slth_oracle::{NeuronAnswer, NeuronKind, NeuronLimits, check_neuron_text, sha256_hex};
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/neurons")
}

/// The checker's answer in the oracle's vocabulary.
fn checker(text: &str, folder: &Path) -> NeuronAnswer {
    let limits = Limits::default();
    match parse_neuron(text, &limits).and_then(|c| verify_neuron_in(&c, Some(folder), &limits)) {
        Ok(report) => NeuronAnswer::Valid {
            exact_loss: report.exact_loss,
        },
        Err(r) => {
            use NeuronRejectionKind as R;
            let kind = match r.kind {
                R::Shape => NeuronKind::Shape,
                R::Header => NeuronKind::Header,
                R::NotRecomputable => NeuronKind::NotRecomputable,
                R::Dimension => NeuronKind::Dimension,
                R::Number => NeuronKind::Number,
                R::IndexOutOfRange => NeuronKind::IndexOutOfRange,
                R::DuplicateNeuron => NeuronKind::DuplicateNeuron,
                R::ValueMismatch => NeuronKind::ValueMismatch,
                R::ScaleNotPositive => NeuronKind::ScaleNotPositive,
                R::LossTooSmall => NeuronKind::LossTooSmall,
                R::Limit => NeuronKind::Limit,
                R::SamplePath => NeuronKind::SamplePath,
                R::SampleFile => NeuronKind::SampleFile,
                R::SampleHash => NeuronKind::SampleHash,
            };
            assert!(
                !r.to_string().contains('\n') && !r.place.is_empty(),
                "not a one-line error naming its place: {r:?}"
            );
            NeuronAnswer::Invalid {
                kind,
                place: r.place,
                what: r.detail,
            }
        }
    }
}

/// The outcome as one comparable string: `valid <loss>`, or the kind and place of the first
/// failure. Where the format leaves the reader's wording open (a JSON or schema error, named
/// by a line and column or by a member), only the kind is kept; a number beyond the number
/// limits may be named a Limit or a Number (section 2.2).
fn outcome(answer: &NeuronAnswer) -> String {
    match answer {
        NeuronAnswer::Valid { exact_loss } => format!("valid {exact_loss}"),
        NeuronAnswer::Invalid { kind, place, .. } => match kind {
            NeuronKind::Shape => "Shape".into(),
            NeuronKind::Limit | NeuronKind::Number
                if place.starts_with("kept[")
                    || place.starts_with("sample.inputs[")
                    || place.starts_with("sample.targets[")
                    || place == "scale"
                    || place == "loss" =>
            {
                format!("Number/Limit at {place}")
            }
            kind => format!("{kind:?} at {place}"),
        },
    }
}

struct Tally {
    valid: usize,
    invalid: usize,
}

fn compare(name: &str, text: &str, folder: &Path, tally: &mut Tally) {
    let ours = checker(text, folder);
    let theirs = check_neuron_text(text, Some(folder), &NeuronLimits::default());
    assert_eq!(
        outcome(&ours),
        outcome(&theirs),
        "{name}: the checker and the oracle disagree\n checker: {ours:?}\n oracle: {theirs:?}"
    );
    if ours.is_valid() {
        tally.valid += 1;
    } else {
        tally.invalid += 1;
    }
}

fn json_files(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn both_checkers_agree_on_every_example() {
    let mut tally = Tally {
        valid: 0,
        invalid: 0,
    };
    for folder in [dir(), dir().join("invalid")] {
        for path in json_files(&folder) {
            let text = std::fs::read_to_string(&path).unwrap();
            // The target network and the sample files are not certificates.
            if !text.contains("slth-neuron-certificate") && !text.contains("\"kept\"") {
                continue;
            }
            compare(&path.display().to_string(), &text, &folder, &mut tally);
        }
    }
    assert_eq!(tally.valid, 2, "the two valid examples");
    assert_eq!(tally.invalid, 18, "every invalid example");
}

/// Every leaf of `v` (strings and numbers), as a path.
fn leaves(v: &Json, here: &mut Vec<json::Step>, out: &mut Vec<Vec<json::Step>>) {
    match v {
        Json::Arr(items) => {
            for (i, x) in items.iter().enumerate() {
                here.push(json::idx(i));
                leaves(x, here, out);
                here.pop();
            }
        }
        Json::Obj(members) => {
            for (k, x) in members {
                here.push(json::key(k));
                leaves(x, here, out);
                here.pop();
            }
        }
        _ => out.push(here.clone()),
    }
}

/// Variants of one leaf: numbers moved a little or far, hostile texts, other types.
fn variants(leaf: &Json) -> Vec<Json> {
    let mut out = vec![
        Json::str("0"),
        Json::str("-1/2"),
        Json::str("1e2000"),
        Json::str("x"),
        Json::num("18446744073709551616"),
        Json::Null,
        Json::Arr(vec![]),
    ];
    match leaf {
        Json::Str(s) => {
            if let Ok(x) = slth_oracle::parse_rational(s) {
                for by in ["1/9007199254740992", "-1/8", "1/1000000000"] {
                    let y = x.clone() + slth_oracle::parse_rational(by).unwrap();
                    out.push(Json::str(slth_oracle::show(&y)));
                }
                out.push(Json::str(slth_oracle::show(
                    &(x * BigRational::from_integer(2.into())),
                )));
            }
            out.push(Json::str(format!("{s}0")));
        }
        Json::Num(n) => {
            if let Ok(k) = n.parse::<u64>() {
                for m in [k.saturating_sub(1), k + 1, 0, 1 << 60, u64::MAX] {
                    out.push(Json::num(m));
                }
            }
        }
        _ => {}
    }
    out
}

/// Mutants of a certificate: each variant of each leaf (all leaves but the sample's, of
/// which every 11th), each member removed, each member given twice.
fn mutants(root: &Json) -> Vec<(String, Json)> {
    let mut paths = Vec::new();
    leaves(root, &mut Vec::new(), &mut paths);
    let mut out = Vec::new();
    for (p, path) in paths.iter().enumerate() {
        let in_sample = matches!(path.first(), Some(json::Step::Key(k)) if k == "sample" || k == "inputs" || k == "targets");
        if in_sample && p % 11 != 0 {
            continue;
        }
        let mut probe = root.clone();
        let leaf = probe.at_mut(path).unwrap().clone();
        for (v, variant) in variants(&leaf).into_iter().enumerate() {
            let mut m = root.clone();
            *m.at_mut(path).unwrap() = variant;
            out.push((format!("{path:?} variant {v}"), m));
        }
    }
    if let Json::Obj(members) = root {
        for (i, (k, _)) in members.iter().enumerate() {
            let mut removed = root.clone();
            removed.remove(k);
            out.push((format!("without {k}"), removed));
            let mut twice = root.clone();
            if let Json::Obj(m) = &mut twice {
                let member = m[i].clone();
                m.push(member);
            }
            out.push((format!("{k} twice"), twice));
        }
    }
    out
}

#[test]
fn both_checkers_agree_on_mutants_of_the_inline_example() {
    let text = std::fs::read_to_string(dir().join("relu-4-stepwise.json")).unwrap();
    let root = json::parse(&text, 128).unwrap();
    let mut tally = Tally {
        valid: 0,
        invalid: 0,
    };
    let all = mutants(&root);
    for (name, m) in &all {
        compare(name, &m.write(), &dir(), &mut tally);
    }
    eprintln!(
        "inline mutants: {} valid, {} invalid",
        tally.valid, tally.invalid
    );
    // Both outcomes occur (a larger loss claim or a harmless meta change stays valid).
    assert!(
        tally.valid >= 5 && tally.invalid >= 500,
        "{} valid, {} invalid",
        tally.valid,
        tally.invalid
    );
}

/// Mutants of the sample file itself, each written to a fresh folder with the certificate
/// naming it by its new hash (so that its content reaches both readers), and certificates
/// whose reference is changed.
#[test]
fn both_checkers_agree_on_mutants_of_the_sample_file() {
    let text = std::fs::read_to_string(dir().join("relu-4-stepwise-file.json")).unwrap();
    let mut root = json::parse(&text, 128).unwrap();
    let name = root
        .get("sample")
        .unwrap()
        .get("file")
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let sample_text = std::fs::read_to_string(dir().join(&name)).unwrap();
    let sample = json::parse(&sample_text, 128).unwrap();
    let tmp = std::env::temp_dir().join(format!("slth-neurons-oracle-{}", std::process::id()));
    let mut tally = Tally {
        valid: 0,
        invalid: 0,
    };
    let mut files: Vec<(String, String)> = vec![("as committed".into(), sample_text.clone())];
    for (m, (what, mutant)) in mutants(&sample).into_iter().enumerate() {
        if m % 3 == 0 {
            files.push((what, mutant.write()));
        }
    }
    files.push(("not JSON".into(), "{\"inputs\": [".into()));
    files.push(("an array".into(), "[[], []]".into()));
    files.push(("deep".into(), "[".repeat(100_000)));
    files.push(("empty".into(), String::new()));
    for (i, (what, content)) in files.iter().enumerate() {
        let folder = tmp.join(i.to_string());
        std::fs::create_dir_all(&folder).unwrap();
        let hash = sha256_hex(content.as_bytes());
        let file = format!("sample-{hash}.json");
        std::fs::write(folder.join(&file), content).unwrap();
        let reference = Json::Obj(vec![
            ("file".into(), Json::str(&file)),
            ("sha256".into(), Json::str(&hash)),
        ]);
        root.set("sample", reference);
        compare(
            &format!("sample file {what}"),
            &root.write(),
            &folder,
            &mut tally,
        );
    }
    // Changed references, in the folder of the committed sample file.
    let hash = sha256_hex(sample_text.as_bytes());
    for (file, sha) in [
        (name.clone(), hash.to_uppercase()),
        (name.clone(), hash[..63].to_string()),
        (format!("./{name}"), hash.clone()),
        (format!("invalid/../{name}"), hash.clone()),
        (format!("{name}/"), hash.clone()),
        ("invalid/samples".into(), hash.clone()),
        (format!("invalid/samples/{name}"), hash.clone()),
        ("target-relu-4.json".into(), hash.clone()),
        ("c:\\x.json".into(), hash.clone()),
    ] {
        let reference = Json::Obj(vec![
            ("file".into(), Json::str(&file)),
            ("sha256".into(), Json::str(&sha)),
        ]);
        root.set("sample", reference);
        compare(
            &format!("reference {file} {sha}"),
            &root.write(),
            &dir(),
            &mut tally,
        );
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    eprintln!(
        "sample-file mutants: {} valid, {} invalid",
        tally.valid, tally.invalid
    );
    assert!(
        tally.valid >= 3 && tally.invalid >= 50,
        "{} valid, {} invalid",
        tally.valid,
        tally.invalid
    );
}
