//! Exact verification of the committed example certificates.
//!
//! `cargo bench --bench verify`; CI runs `cargo bench -- --test` (each benchmark once).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;

fn verify_committed(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify-exact");
    for name in ["tiny-3-2-1", "random-8-8-8-1", "deep-linear-output"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("certificates/{name}.json"));
        let certificate =
            slth_checker::certificate::load(&path, &slth_checker::certificate::Limits::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        group.bench_function(name, |b| {
            b.iter(|| {
                slth_checker::verify::verify(black_box(&certificate))
                    .expect("committed certificates verify")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verify_committed);
criterion_main!(benches);
