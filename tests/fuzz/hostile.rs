//! Hostile inputs (issue 6, resource limits): the tiny certificate with 10 MB numbers, huge
//! depths and widths, deep nesting, non-JSON tokens and duplicate keys, each of which `slth
//! verify` must decide quickly and with the expected verdict.

use super::*;

/// The hostile inputs of the resource-limit list, each built from certificates/tiny-3-2-1.json.
fn hostile_inputs_list() -> Vec<(&'static str, String)> {
    use slth_oracle as fp;
    let base = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certificates/tiny-3-2-1.json"),
    )
    .unwrap();
    let tree = json::parse(&base, 128).unwrap();
    let edit = |f: &dyn Fn(&mut Json)| {
        let mut t = tree.clone();
        f(&mut t);
        t.write()
    };
    use json::{idx, key};
    let set = |path: Vec<json::Step>, value: Json| {
        edit(&|t: &mut Json| *t.at_mut(&path).unwrap() = value.clone())
    };
    let ten_mb = "9".repeat(10_000_000);
    let layers = |n: usize, w: &str, c: &str, l: &str, eps: &str| {
        let mut s = String::from(
            r#"{"format":"slth-certificate","version":1,"target":{"input_dim":1,"layers":["#,
        );
        s.push_str(&vec![format!(r#"{{"weights":[["{w}"]],"activation":"relu"}}"#); n].join(","));
        s.push_str(
            r#"]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":""#,
        );
        s.push_str(&"00".repeat(32));
        s.push_str(r#"","distribution":"uniform-dyadic-53","hidden_widths":["#);
        s.push_str(&vec!["1"; n].join(","));
        s.push_str(r#"]},"ticket":["#);
        s.push_str(&vec![r#"{"hidden":[],"output":[]}"#; n].join(","));
        s.push_str(r#"],"bound":{"blocks":["#);
        s.push_str(&vec![format!(r#"{{"error":"{c}","lipschitz":"{l}"}}"#); n].join(","));
        s.push_str(&format!(r#"],"epsilon":"{eps}"}}}}"#));
        s
    };
    let key42 = [42u8; 1]
        .iter()
        .copied()
        .chain([0u8; 31])
        .collect::<Vec<u8>>();
    let key42: [u8; 32] = key42.try_into().unwrap();
    let far = (1u64 << 60) - 1;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let eps = || vec![key("bound"), key("epsilon")];
    vec![
        ("10 MB numerator (epsilon)", set(eps(), Json::str(format!("{ten_mb}/7")))),
        (
            "10 MB numerator (kept value)",
            set(
                vec![key("ticket"), idx(0), key("hidden"), idx(0), idx(2)],
                Json::str(format!("{ten_mb}/9007199254740992")),
            ),
        ),
        (
            "10 MB numerator (target weight)",
            set(
                vec![key("target"), key("layers"), idx(0), key("weights"), idx(0), idx(0)],
                Json::str(format!("{ten_mb}/7")),
            ),
        ),
        (
            "hidden widths 2^60 (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(1u64 << 60), Json::num(1u64 << 60)]),
            ),
        ),
        (
            "width 2^60, kept neuron j = 2^60 - 1 (valid)",
            edit(&|t: &mut Json| {
                let w = Json::Arr(vec![Json::num(1u64 << 60), Json::num(1u64 << 60)]);
                t.get_mut("random_network").unwrap().set("hidden_widths", w);
                let u = fp::weight(&key42, 0, u128::from(far) * 3).unwrap();
                let v = fp::weight(&key42, 1, u128::from(far) * 2).unwrap();
                let b0 = t.at_mut(&[key("ticket"), idx(0)]).unwrap();
                b0.get_mut("hidden").unwrap().as_array_mut().unwrap().push(Json::Arr(vec![
                    Json::num(far),
                    Json::num(0),
                    Json::str(format!("{u}/9007199254740992")),
                ]));
                b0.get_mut("output").unwrap().as_array_mut().unwrap().push(Json::Arr(vec![
                    Json::num(0),
                    Json::num(far),
                    Json::str(format!("{v}/9007199254740992")),
                ]));
                *t.at_mut(&[key("bound"), key("blocks"), idx(0), key("error")]).unwrap() = Json::str("1");
                *t.at_mut(&[key("bound"), key("epsilon")]).unwrap() = Json::str("10");
            }),
        ),
        (
            "hidden widths 2^64 - 1 (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(u64::MAX), Json::num(u64::MAX)]),
            ),
        ),
        ("10^6 layers of 1x1, zero claims (valid)", layers(1_000_000, "0", "0", "0", "0")),
        ("10^4 layers of 1x1 weight 1/2 (valid)", layers(10_000, "1/2", "1/2", "1/2", "1")),
        ("10^5 layers of 1x1 weight 1/2 (valid)", layers(100_000, "1/2", "1/2", "1/2", "1")),
        ("10^3 layers of 1x1 weight 1/2 (valid)", layers(1000, "1/2", "1/2", "1/2", "1")),
        (
            "10^3 layers, 7-digit decimal claims (valid)",
            layers(1000, "1/2", "0.5000001", "0.9999999", "1e1000"),
        ),
        (
            "billion-wide g, 18-entry ticket (valid)",
            set(
                vec![key("random_network"), key("hidden_widths")],
                Json::Arr(vec![Json::num(1_000_000_000u64), Json::num(1_000_000_000u64)]),
            ),
        ),
        (
            "input_dim 2^60, zero-row first layer (valid)",
            r#"{"format":"slth-certificate","version":1,"target":{"input_dim":1152921504606846976,"layers":[{"weights":[],"activation":"relu"},{"weights":[[]],"activation":"relu"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1,1]},"ticket":[{"hidden":[],"output":[]},{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"0"},{"error":"0","lipschitz":"0"}],"epsilon":"0"}}"#.to_string(),
        ),
        ("10^5-deep arrays in meta", base.replacen("\"meta\": {", &format!("\"meta\": {{\"x\": {deep}, "), 1)),
        ("10^5-deep arrays in weights", base.replacen("\"weights\": [", &format!("\"weights\": [{deep}, "), 1)),
        ("10^5-deep arrays (whole file)", deep.clone()),
        ("NaN token", base.replacen("\"radius\": \"1\"", "\"radius\": NaN", 1)),
        ("Infinity token", base.replacen("\"version\": 1", "\"version\": Infinity", 1)),
        ("\"NaN\" as a rational", set(eps(), Json::str("NaN"))),
        ("JSON float for a rational", set(eps(), Json::num("0.0488329"))),
        ("JSON 1e999 for a rational", set(eps(), Json::num("1e999"))),
        ("duplicate key (version)", base.replacen("\"version\": 1", "\"version\": 1, \"version\": 1", 1)),
        ("duplicate key (epsilon)", base.replacen("\"epsilon\": ", "\"epsilon\": \"0\", \"epsilon\": ", 1)),
        ("duplicate key (in meta, valid)", base.replacen("\"meta\": {", "\"meta\": {\"a\": 1, \"a\": 2, ", 1)),
        (
            "100 weights with coprime 10^4-digit denominators",
            {
                let big = num_traits::pow(num_bigint::BigInt::from(10), 9990);
                let row: Vec<Json> = (0..100).map(|i| Json::str(format!("1/{}", &big + i))).collect();
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":100,"layers":[{"weights":["#);
                s.push_str(&Json::Arr(row).write());
                s.push_str(r#"],"activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"1/100","lipschitz":"1"}],"epsilon":"1"}}"#);
                s
            },
        ),
        (
            "spectral claim, side 128, 19-digit denominators",
            {
                let mut rng = Rng::new(1);
                let rows: Vec<Json> = (0..128)
                    .map(|_| {
                        Json::Arr(
                            (0..128)
                                .map(|_| Json::str(format!("{}/{}", rng.next() % 1000, 1 + rng.next() % 10_000_000_000_000_000_000)))
                                .collect(),
                        )
                    })
                    .collect();
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":128,"layers":[{"weights":"#);
                s.push_str(&Json::Arr(rows).write());
                s.push_str(r#","activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"0","lipschitz_method":"spectral"}],"epsilon":"0"}}"#);
                s
            },
        ),
        (
            "witness of side 2000 (zeros)",
            {
                let n = 2000;
                let mut s = String::from(r#"{"format":"slth-certificate","version":1,"target":{"input_dim":2000,"layers":[{"weights":[["#);
                s.push_str(&vec!["\"0\""; n].join(","));
                s.push_str(r#"]],"activation":"linear"}]},"domain":{"norm":"l2","radius":"1"},"random_network":{"rng":"chacha20","seed":"2a00000000000000000000000000000000000000000000000000000000000000","distribution":"uniform-dyadic-53","hidden_widths":[1]},"ticket":[{"hidden":[],"output":[]}],"bound":{"blocks":[{"error":"0","lipschitz":"1","lipschitz_method":"spectral","lipschitz_witness":{"shift":"1","factor":["#);
                let rows: Vec<String> = (0..n).map(|a| format!("[{}]", vec!["\"0\""; n - a].join(","))).collect();
                s.push_str(&rows.join(","));
                s.push_str(r#"]}}],"epsilon":"1"}}"#);
                s
            },
        ),
        ("certificate written as arrays", {
            let t = &tree;
            let g = |k: &str| t.get(k).unwrap().clone();
            let obj_vals = |v: &Json, ks: &[&str]| Json::Arr(ks.iter().map(|k| v.get(k).cloned().unwrap_or(Json::Null)).collect());
            let target = g("target");
            let layers: Vec<Json> = target.get("layers").unwrap().as_array().unwrap().iter().map(|l| obj_vals(l, &["weights", "activation"])).collect();
            let ticket: Vec<Json> = g("ticket").as_array().unwrap().iter().map(|b| obj_vals(b, &["hidden", "output"])).collect();
            let blocks: Vec<Json> = g("bound").get("blocks").unwrap().as_array().unwrap().iter().map(|b| {
                let mut v = vec![b.get("error").unwrap().clone(), b.get("lipschitz").unwrap().clone()];
                if let Some(m) = b.get("lipschitz_method") { v.push(m.clone()); }
                Json::Arr(v)
            }).collect();
            Json::Arr(vec![
                g("format"),
                g("version"),
                Json::Arr(vec![target.get("input_dim").unwrap().clone(), Json::Arr(layers)]),
                obj_vals(&g("domain"), &["norm", "radius", "nonnegative"]),
                obj_vals(&g("random_network"), &["rng", "seed", "distribution", "hidden_widths"]),
                Json::Arr(ticket),
                Json::Arr(vec![Json::Arr(blocks), g("bound").get("epsilon").unwrap().clone()]),
            ])
            .write()
        }),
    ]
}

/// The verdict `slth verify` must give each hostile input, in both modes and with the
/// default limits: `VALID` (exit 0), `INVALID` (exit 1), `REFUSED` (exit 1, a resource
/// limit) or `UNREADABLE` (exit 2, not JSON at all). Then some inputs again with a raised limit.
fn hostile_expectation(name: &str) -> &'static str {
    match name {
        n if n.starts_with("10 MB numerator") => "REFUSED",
        n if n.starts_with("10^3 layers") => "VALID",
        n if n.starts_with("10^") && n.contains("layers") => "REFUSED",
        n if n.contains("deep arrays") => "REFUSED",
        "input_dim 2^60, zero-row first layer (valid)" => "REFUSED",
        "100 weights with coprime 10^4-digit denominators" => "REFUSED",
        "spectral claim, side 128, 19-digit denominators" => "REFUSED",
        "witness of side 2000 (zeros)" => "REFUSED",
        "NaN token" | "Infinity token" => "UNREADABLE",
        n if n.ends_with("valid)") => "VALID",
        _ => "INVALID",
    }
}

/// Inputs of [`hostile_inputs_list`] that a raised limit lets through, with the flags.
const RAISED: [(&str, &[&str]); 2] = [
    (
        "input_dim 2^60, zero-row first layer (valid)",
        &["--max-dimension", "1152921504606846976"],
    ),
    (
        "witness of side 2000 (zeros)",
        // n^3 / 6 = 1.3e9 word operations of the witness check: over the default work too.
        &["--max-witness-side", "2000", "--max-exact-work", "2e9"],
    ),
];

/// Each hostile input through `slth verify` (default and `--exact`), measured with
/// `/usr/bin/time` when it exists. The test asserts the verdicts (and a generous hang
/// guard), never times; the table it prints is where the issue-6 figures come from:
/// `cargo test --release --test fuzz hostile_inputs -- --nocapture`
#[test]
fn hostile_inputs() {
    use std::os::unix::process::CommandExt;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_slth"));
    let time = PathBuf::from("/usr/bin/time");
    let dir = std::env::temp_dir().join(format!("slth-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let guard = env_u64("SLTH_HOSTILE_TIMEOUT", 120);
    let mut wrong = Vec::new();
    println!(
        "\n{:<52} {:<32} {:<10} {:>4} {:>8} {:>8} {:>8}",
        "input", "flags", "verdict", "exit", "seconds", "peak MB", "file MB"
    );
    let inputs = hostile_inputs_list();
    let mut runs: Vec<(usize, Vec<&str>, &str)> = Vec::new();
    for (k, (name, _)) in inputs.iter().enumerate() {
        for mode in [&[][..], &["--exact"][..]] {
            runs.push((k, mode.to_vec(), hostile_expectation(name)));
        }
        for (raised, flags) in RAISED {
            if raised == *name {
                runs.push((k, flags.to_vec(), "VALID"));
            }
        }
    }
    let mut written = None;
    for (k, flags, expected) in runs {
        let (name, text) = &inputs[k];
        let file = dir.join(format!("h{k:02}.json"));
        if written != Some(k) {
            std::fs::write(&file, text).unwrap();
            written = Some(k);
        }
        let mut cmd = if time.exists() {
            let mut c = std::process::Command::new(&time);
            c.args(["-f", "%e %M"]).arg(&binary);
            c
        } else {
            std::process::Command::new(&binary)
        };
        cmd.arg("verify").args(&flags).arg(&file);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        cmd.process_group(0);
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if started.elapsed() > Duration::from_secs(guard) {
                // The whole group: /usr/bin/time and slth.
                let _ = std::process::Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                timed_out = true;
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let wall = started.elapsed().as_secs_f64();
        let mut err = String::new();
        use std::io::Read;
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let (seconds, peak_mb) = match err.lines().last().map(str::split_whitespace) {
            Some(mut fields) if time.exists() => (
                fields.next().and_then(|x| x.parse().ok()).unwrap_or(wall),
                fields
                    .next()
                    .and_then(|x| x.parse::<f64>().ok())
                    .map_or(f64::NAN, |kb| kb / 1024.0),
            ),
            _ => (wall, f64::NAN),
        };
        let code = if timed_out { None } else { status.code() };
        let verdict = match code {
            _ if timed_out => "TIMEOUT",
            Some(0) => "VALID",
            Some(1) if err.contains("REFUSED (resource limit)") => "REFUSED",
            Some(1) => "INVALID",
            Some(2) => "UNREADABLE",
            _ => "CRASH",
        };
        println!(
            "{:<52} {:<32} {:<10} {:>4} {:>8.2} {:>8.1} {:>8.1}",
            name,
            flags.join(" "),
            verdict,
            code.map_or("-".into(), |c| c.to_string()),
            seconds,
            peak_mb,
            text.len() as f64 / 1e6
        );
        let one_line = err.lines().filter(|l| l.starts_with("slth")).count() <= 1;
        if verdict != expected || !one_line {
            wrong.push(format!(
                "{name} {flags:?}: {verdict}, expected {expected}: {}",
                err.lines().next().unwrap_or("")
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(wrong.is_empty(), "wrong verdicts: {wrong:#?}");
}
