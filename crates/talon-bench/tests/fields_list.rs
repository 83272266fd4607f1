//! The field list the scanner's tests and benchmark in `talon-event` read
//! (`crates/talon-event/tests/data/prebuilt-rule-fields.txt`) is what the
//! prebuilt rules of the shared corpus read today: that crate cannot ask
//! the engine itself.

use std::path::PathBuf;

use talon_engine::compile_rules;
use talon_event::mapping::Mapping;

fn prebuilt_rules() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("TALON_CORPORA").map(PathBuf::from),
        Some(manifest.join("../../../shared/corpora")),
        Some(PathBuf::from("/work/shared/corpora")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .map(|c| c.join("detection-rules/rules"))
        .find(|p| p.is_dir());
    if found.is_none() {
        println!(
            "skipped: detection-rules/rules not found (set TALON_CORPORA to the shared corpora)"
        );
    }
    found
}

#[test]
fn prebuilt_rule_fields_file_is_current() {
    let Some(rules) = prebuilt_rules() else {
        return;
    };
    let report = talon_rules::load_paths(&[rules]);
    let (compiled, _) = compile_rules(report.rules, &Mapping::default());
    let want = talon_engine::fields_read(&compiled);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../talon-event/tests/data/prebuilt-rule-fields.txt");
    let text = std::fs::read_to_string(&path).expect("the field list");
    let have: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        have,
        want,
        "{} is stale; regenerate it with `cargo run --release -p talon-bench --example \
         fields_read -- <corpora>/detection-rules/rules > {}`",
        path.display(),
        path.display()
    );
}
