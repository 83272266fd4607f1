//! Which events a rule without `index` sees: Kibana's default index
//! patterns (`securitySolution:defaultIndex`) when it has no data view
//! either; every event with a data view (talon cannot know its patterns)
//! or an empty `index` list (what Kibana passes on as it is).

use std::path::Path;

use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::Event;
use talon_rules::{load_str, RuleFormat};

const INDICES: &[&str] = &[
    "logs-endpoint.events.process-default",
    ".ds-logs-endpoint.events.process-default-2024.01.01-000001",
    "winlogbeat-8.12.0",
    "apm-8.0.0-transaction-000001",
    "logs-elastic-cloud-logs-8-default",
    "metrics-system.process-default",
    "my-app-events",
];

/// One process event per index, its `_id` the index name.
fn events() -> Vec<Event> {
    let mut text = String::new();
    for ix in INDICES {
        text.push_str(&format!(
            r#"{{"_index":"{ix}","_id":"{ix}","_source":{{"@timestamp":"2024-01-01T00:00:00Z","event":{{"category":"process"}},"process":{{"name":"sysctl"}}}}}}"#
        ));
        text.push('\n');
    }
    EventReader::from_reader(
        "events",
        std::io::Cursor::new(text.into_bytes()),
        ReadOptions::default(),
    )
    .filter_map(Result::ok)
    .collect()
}

/// The `_id`s of the events a rule with `extra` in its `[rule]` table
/// alerts on (its query matches every event).
fn alerted(extra: &str) -> Vec<String> {
    let text = format!(
        "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"No index\"\n\
         rule_id = \"id-1\"\ntype = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\n\
         severity = \"low\"\nquery = 'process where process.name == \"sysctl\"'\n{extra}"
    );
    let (rules, errors) = load_str(&text, Path::new("r.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let (compiled, problems) = compile_rules(rules, &Mapping::default());
    assert!(problems.is_empty(), "{problems:?}");
    let (mut engine, _) = Engine::new(compiled, &EngineOptions::default());
    let mut ids = Vec::new();
    for e in &events() {
        engine.on_event(e, |d| {
            ids.push(d.event.id.as_deref().unwrap_or("-").to_string())
        });
    }
    ids
}

#[test]
fn no_index_searches_kibanas_default_patterns() {
    assert_eq!(
        alerted(""),
        [
            "logs-endpoint.events.process-default",
            ".ds-logs-endpoint.events.process-default-2024.01.01-000001",
            "winlogbeat-8.12.0",
            "apm-8.0.0-transaction-000001",
        ]
    );
}

#[test]
fn a_data_view_or_an_empty_index_searches_every_event() {
    for extra in ["data_view_id = \"dv-1\"\n", "index = []\n"] {
        assert_eq!(alerted(extra), INDICES, "{extra}");
    }
}

#[test]
fn a_written_index_is_searched_as_written() {
    assert_eq!(alerted("index = [\"my-app-*\"]\n"), ["my-app-events"]);
    // With a data view too, talon searches `index` (and says so at load).
    assert_eq!(
        alerted("index = [\"my-app-*\"]\ndata_view_id = \"dv-1\"\n"),
        ["my-app-events"]
    );
}
