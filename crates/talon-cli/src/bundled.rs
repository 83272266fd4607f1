//! The bundled default: rules under `rules/` and the demo events under
//! `demo/` of the repository, embedded in the binary so that `talon hunt`
//! with no arguments works from any directory.

use std::path::Path;

use include_dir::{include_dir, Dir};
use talon_rules::{load_str, LoadReport, RuleFormat};

static RULES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../rules");
static DEMO: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../demo");

/// The name shown for the bundled demo events in messages.
pub const DEMO_EVENTS_NAME: &str = "bundled:demo/events.ndjson";

/// Loads every bundled rule file (sorted by path), as loading them from a
/// folder would report them.
pub fn rules() -> LoadReport {
    let mut files: Vec<_> = Vec::new();
    collect(&RULES, &mut files);
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut report = LoadReport {
        files: files.len(),
        ..LoadReport::default()
    };
    for (path, text) in files {
        let shown = format!("bundled:rules/{path}");
        let (r, e) = load_str(text, Path::new(&shown), RuleFormat::Toml);
        report.rules.extend(r);
        report.errors.extend(e);
    }
    report
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<(String, &'a str)>) {
    for f in dir.files() {
        if f.path().extension().is_some_and(|e| e == "toml") {
            if let Some(text) = f.contents_utf8() {
                out.push((f.path().display().to_string(), text));
            }
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// The bundled demo events (NDJSON).
pub fn demo_events() -> &'static [u8] {
    DEMO.get_file("events.ndjson")
        .map(|f| f.contents())
        .unwrap_or_default()
}
