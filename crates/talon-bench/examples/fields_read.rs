//! Prints the field paths a set of rules reads (`talon_engine::fields_read`),
//! one per line, sorted: the projection `talon hunt` gives its reader. The
//! scanner's tests and benchmarks in `talon-event` read this list from a
//! file, since that crate cannot depend on the engine.
//!
//! ```sh
//! cargo run --release -p talon-bench --example fields_read -- \
//!     ../shared/corpora/detection-rules/rules
//! ```

use std::path::PathBuf;

use talon_engine::compile_rules;
use talon_event::mapping::Mapping;

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: fields_read RULE_FILE_OR_DIR...");
        std::process::exit(2);
    }
    let report = talon_rules::load_paths(&paths);
    let (compiled, problems) = compile_rules(report.rules, &Mapping::default());
    eprintln!(
        "{} rules compiled ({} load errors, {} compile problems)",
        compiled.len(),
        report.errors.len(),
        problems.len()
    );
    for field in talon_engine::fields_read(&compiled) {
        println!("{field}");
    }
}
