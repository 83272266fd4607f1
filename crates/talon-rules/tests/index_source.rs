//! Which indices a rule searches, as Kibana's detection engine chooses them
//! (`getInputIndex`): a `data_view_id` wins (its patterns live in Kibana,
//! so talon says it cannot apply it), else `index` as written (an empty
//! list too), else the default of `securitySolution:defaultIndex`.

use std::path::Path;

use talon_rules::{load_str, IndexSource, Rule, RuleFormat, DEFAULT_INDEX_PATTERNS};

const TOML_HEAD: &str = "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"Idx\"\n\
    rule_id = \"id-1\"\ntype = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\nseverity = \"low\"\n\
    query = 'process where true'\n";

fn toml(extra: &str) -> Rule {
    let text = format!("{TOML_HEAD}{extra}");
    let (mut rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    rules.remove(0)
}

/// The rule's accepted-but-unapplied notes: line, column, message.
fn notes_of(rule: &Rule) -> Vec<(usize, usize, &str)> {
    rule.unapplied
        .iter()
        .map(|n| (n.line, n.column, n.message.as_str()))
        .collect()
}

fn ndjson(extra: &str) -> Rule {
    let text = format!(
        "{{\"rule_id\":\"id-2\",\"name\":\"Viewed\",\"type\":\"eql\",\"language\":\"eql\",\
         \"query\":\"process where true\",\"risk_score\":21,\"severity\":\"low\",\
         \"description\":\"d\"{extra}}}\n"
    );
    let (mut rules, errors) = load_str(&text, Path::new("export.ndjson"), RuleFormat::KibanaNdjson);
    assert!(errors.is_empty(), "{errors:?}");
    rules.remove(0)
}

#[test]
fn the_default_list_is_kibanas() {
    assert_eq!(
        DEFAULT_INDEX_PATTERNS,
        [
            "apm-*-transaction*",
            "auditbeat-*",
            "endgame-*",
            "filebeat-*",
            "logs-*",
            "packetbeat-*",
            "traces-apm*",
            "winlogbeat-*",
            "-*elastic-cloud-logs-*",
        ]
    );
}

#[test]
fn no_index_and_no_data_view_searches_the_default_patterns() {
    for rule in [toml(""), ndjson(""), ndjson(",\"index\":null")] {
        assert_eq!(rule.index_source(), IndexSource::Default, "{}", rule.name);
        assert!(rule.index.is_empty());
        assert_eq!(rule.searched_index(), DEFAULT_INDEX_PATTERNS);
        assert!(rule.unapplied.is_empty(), "{:?}", rule.unapplied);
    }
    // An empty `data_view_id` is no data view, in Kibana too.
    let rule = ndjson(",\"data_view_id\":\"\"");
    assert_eq!(rule.index_source(), IndexSource::Default);
    assert!(rule.unapplied.is_empty(), "{:?}", rule.unapplied);
}

#[test]
fn an_empty_index_list_is_written_not_the_default() {
    for rule in [toml("index = []\n"), ndjson(",\"index\":[]")] {
        assert_eq!(rule.index_source(), IndexSource::Written, "{}", rule.name);
        assert!(rule.searched_index().is_empty());
        assert!(rule.unapplied.is_empty(), "{:?}", rule.unapplied);
    }
    let rule = toml("index = [\"logs-endpoint.events.process-*\"]\n");
    assert_eq!(rule.index_source(), IndexSource::Written);
    assert_eq!(rule.searched_index(), ["logs-endpoint.events.process-*"]);
}

#[test]
fn a_data_view_is_a_note_at_its_key_naming_the_rule() {
    let rule = ndjson(",\"data_view_id\":\"security-solution-default\"");
    assert_eq!(
        rule.index_source(),
        IndexSource::DataView("security-solution-default")
    );
    // Every index: talon cannot know the data view's patterns.
    assert!(rule.searched_index().is_empty());
    let notes = notes_of(&rule);
    assert_eq!(
        notes,
        [(
            1,
            160,
            "rule \"Viewed\": `data_view_id` is accepted but not applied: Kibana searches the \
             data view's index patterns, which talon cannot know, so talon searches every \
             event (write `index` to choose)"
        )]
    );
    let shown = rule.unapplied[0].as_warning().to_string();
    assert_eq!(
        shown.lines().next(),
        Some(
            format!(
                "export.ndjson:1:160: warning: {}",
                rule.unapplied[0].message
            )
            .as_str()
        )
    );

    // With `index` too, Kibana still searches the data view; talon
    // searches `index`, and says so.
    let rule = toml("index = [\"logs-*\"]\ndata_view_id = \"dv-1\"\n");
    assert_eq!(rule.index_source(), IndexSource::DataView("dv-1"));
    assert_eq!(rule.searched_index(), ["logs-*"]);
    let notes = notes_of(&rule);
    assert_eq!(
        notes,
        [(
            13,
            16,
            "rule \"Idx\": `data_view_id` is accepted but not applied: Kibana searches the data \
             view's index patterns, which talon cannot know, so talon searches `index` instead"
        )]
    );
}

#[test]
fn rule_types_that_read_no_index_do_not_search_the_defaults() {
    // ES|QL names its indices in the query; machine learning rules read
    // their jobs' results. Neither searches `securitySolution:defaultIndex`.
    let text = TOML_HEAD
        .replace(
            "type = \"eql\"\nlanguage = \"eql\"",
            "type = \"esql\"\nlanguage = \"esql\"",
        )
        .replace("'process where true'", "'from logs-* | limit 1'");
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules[0].rule_type, "esql");
    assert_eq!(rules[0].index_source(), IndexSource::NotRead);
    assert!(rules[0].searched_index().is_empty());
    let ml = ndjson(",\"index\":null");
    let ml = Rule {
        rule_type: "machine_learning".into(),
        ..ml
    };
    assert_eq!(ml.index_source(), IndexSource::NotRead);
}
