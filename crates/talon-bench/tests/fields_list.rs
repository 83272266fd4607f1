//! The field list the scanner's tests and benchmark in `talon-event` read
//! (`crates/talon-event/tests/data/prebuilt-rule-fields.txt`) is what the
//! prebuilt rules of the shared corpus read today: that crate cannot ask
//! the engine itself.

mod common;

use std::path::PathBuf;

use talon_engine::compile_rules;
use talon_event::mapping::Mapping;

fn prebuilt_rules() -> Option<PathBuf> {
    common::corpus_path("detection-rules/rules")
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
