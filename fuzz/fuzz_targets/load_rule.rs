//! Any text as a rule file of each format: loading never panics and
//! errors carry positions inside the file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use talon_rules::{load_str, RuleFormat};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, format) in [
        ("r.toml", RuleFormat::Toml),
        ("r.ndjson", RuleFormat::KibanaNdjson),
        ("r.md", RuleFormat::Markdown),
    ] {
        let (_rules, errors) = load_str(text, Path::new(name), format);
        for e in errors {
            if let Some(span) = &e.span {
                assert!(span.end <= text.len());
            }
        }
    }
});
