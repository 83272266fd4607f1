//! The whole detection-rules corpus loads: 2068 production rules with the
//! type counts of docs/detection-rules.md, and the 124 deprecated rules.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use talon_rules::load_paths;

#[test]
fn production_rules_load_with_documented_counts() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let start = Instant::now();
    let report = load_paths(&[dir.join("rules")]);
    println!(
        "loaded {} rules in {:?}",
        report.rules.len(),
        start.elapsed()
    );
    for e in report.errors.iter().take(5) {
        println!("{e}");
    }
    assert_eq!(report.errors.len(), 0);
    assert_eq!(report.rules.len(), 2068);
    assert_eq!(report.files, 2068);
    // rules/rules/integrations/aws/NOTICE.txt
    assert_eq!(report.skipped.non_rule_files, 1);
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &report.rules {
        *by_type.entry(r.rule_type.as_str()).or_default() += 1;
    }
    let expect: BTreeMap<&str, usize> = [
        ("eql", 1024),
        ("query", 454),
        ("new_terms", 241),
        ("esql", 209),
        ("machine_learning", 106),
        ("threshold", 28),
        ("threat_match", 6),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_type, expect);
    assert_eq!(
        report
            .rules
            .iter()
            .filter(|r| r.is_building_block())
            .count(),
        128
    );
    assert_eq!(report.deprecated, 0);
    let mut by_lang: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &report.rules {
        *by_lang
            .entry(r.language.as_deref().unwrap_or("(none)"))
            .or_default() += 1;
    }
    assert_eq!(by_lang["eql"], 1024);
    assert_eq!(by_lang["kuery"], 729);
    assert_eq!(by_lang["esql"], 209);
    assert_eq!(by_lang["(none)"], 106);
    // Counts from the schema table of docs/detection-rules.md section 2.
    let count =
        |f: &dyn Fn(&talon_rules::Rule) -> bool| report.rules.iter().filter(|r| f(r)).count();
    assert_eq!(
        count(&|r| r.timestamp_override.as_deref() == Some("event.ingested")),
        1814
    );
    assert_eq!(count(&|r| r.max_signals.is_some()), 65);
    assert_eq!(count(&|r| r.interval.is_some()), 461);
    assert_eq!(count(&|r| r.extra.contains_key("transform")), 254);
    assert_eq!(
        count(&|r| r.extra.contains_key("investigation_fields")),
        504
    );
    assert_eq!(count(&|r| r.extra.contains_key("new_terms")), 241);
    // TOML's nested new_terms shape reads through the accessors.
    assert_eq!(
        count(&|r| r.rule_type == "new_terms" && !r.new_terms_fields().is_empty()),
        241
    );
    assert_eq!(
        count(&|r| r
            .history_window_start()
            .is_some_and(|h| h.starts_with("now-"))),
        241
    );
    assert_eq!(count(&|r| r.event_category_override.is_some()), 15);
    assert_eq!(count(&|r| r.enabled.is_some()), 11);
    assert_eq!(count(&|r| !r.threat.is_empty()), 1998);
    // Every query maps back to the file: its first byte is the first byte of
    // the literal's content.
    for r in &report.rules {
        if let Some(q) = &r.query {
            assert_eq!(
                r.origin.query_offsets.len(),
                q.len() + 1,
                "{}",
                r.origin.path.display()
            );
            // Each query byte is the file byte it maps to, except bytes an
            // escape produced (they map to the backslash).
            let file = r.origin.text.as_bytes();
            for (i, b) in q.bytes().enumerate() {
                let f = file[r.origin.file_offset(i)];
                assert!(
                    f == b || f == b'\\',
                    "{}: query byte {i}",
                    r.origin.path.display()
                );
            }
        }
    }
}

#[test]
fn deprecated_rules_load_and_are_flagged() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let report = load_paths(&[dir.join("deprecated")]);
    for e in report.errors.iter().take(5) {
        println!("{e}");
    }
    assert_eq!(report.errors.len(), 0);
    assert_eq!(report.rules.len(), 124);
    assert_eq!(report.deprecated, 124);
    assert!(report.rules.iter().all(|r| r.is_deprecated()));
    assert!(report
        .rules
        .iter()
        .all(|r| r.metadata.contains_key("deprecation_date")));
}
