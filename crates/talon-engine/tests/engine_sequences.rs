//! Sequence rules inside the engine: routed by index, fed one shared event
//! at a time, each sequence handed out once, with the rule it belongs to.

use std::path::Path;
use std::sync::Arc;

use talon_engine::{compile_rules, Engine, EngineOptions};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};

const RULE: &str = r#"
[rule]
name = "Download then execute"
rule_id = "11111111-2222-3333-4444-555555555555"
type = "eql"
language = "eql"
risk_score = 47
severity = "medium"
index = ["logs-endpoint.events.*"]
query = '''
sequence by host.id with maxspan=1m
  [network where process.name == "curl"]
  [process where event.type == "start" and process.parent.name == "curl"]
'''
"#;

fn event(id: u32, ts: &str, host: &str, cat: &str, body: &str) -> String {
    format!(
        r#"{{"@timestamp":"{ts}","event":{{"id":"{id}","category":["{cat}"],"type":["start"]}},"host":{{"id":"{host}"}},"data_stream":{{"type":"logs","dataset":"endpoint.events.{cat}","namespace":"default"}},{body}}}"#
    )
}

#[test]
fn a_sequence_rule_fires_once_per_sequence_with_its_events() {
    let (rules, errors) =
        talon_rules::load_str(RULE, Path::new("seq.toml"), talon_rules::RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let (compiled, problems) = compile_rules(rules, &Mapping::default());
    assert!(problems.is_empty());
    let (mut engine, problems) = Engine::new(compiled, &EngineOptions::default());
    assert!(problems.is_empty(), "sequence rules run");
    assert_eq!(engine.sequence_rules().count(), 1);

    let lines = [
        event(
            1,
            "2026-01-01T00:00:00Z",
            "h1",
            "network",
            r#""process":{"name":"curl"}"#,
        ),
        event(
            2,
            "2026-01-01T00:00:10Z",
            "h2",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
        event(
            3,
            "2026-01-01T00:00:20Z",
            "h1",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
        // Too late for maxspan after the h1 network event at 00:00.
        event(
            4,
            "2026-01-01T00:05:00Z",
            "h2",
            "network",
            r#""process":{"name":"curl"}"#,
        ),
        event(
            5,
            "2026-01-01T00:07:00Z",
            "h2",
            "process",
            r#""process":{"name":"sh","parent":{"name":"curl"}}"#,
        ),
    ];
    let text = lines.join("\n");
    let reader = EventReader::from_reader(
        "t",
        std::io::Cursor::new(text.into_bytes()),
        ReadOptions::default(),
    );
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    let mut record = |d: talon_engine::SequenceDetection<'_>| {
        let ids = d
            .matched
            .events
            .iter()
            .map(|e| {
                e.as_ref()
                    .and_then(|e| e.first_str("event.id"))
                    .unwrap_or("-")
                    .to_string()
            })
            .collect();
        found.push((d.rule.name.clone(), ids));
    };
    for e in reader.filter_map(Result::ok) {
        engine.on_shared_event(&Arc::new(e), |_| {}, &mut record);
    }
    let warnings = engine.finish(&mut record);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        found,
        [(
            "Download then execute".to_string(),
            vec!["1".to_string(), "3".to_string()]
        )]
    );
    assert_eq!(engine.sequence_matches(), [1]);
    assert_eq!(
        engine.stats().index_not_searched,
        0,
        "sequence rules search these indices"
    );
}
