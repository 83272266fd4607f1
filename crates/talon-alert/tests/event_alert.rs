//! One alert for one event: the values Kibana would write, and the ids.
//!
//! Expected ids were computed outside talon (Python's `uuid5` and
//! `hashlib.sha256`) from the formulas in `build/ids.rs`, so a change to
//! the id scheme cannot pass unnoticed.

mod common;

use common::*;
use serde_json::{json, Value};
use talon_alert::{build_event_alert, Alert, AlertError};

const RULE_UUID: &str = "17940347-756e-5129-b50e-4516bde0dcd9";
const SYSCTL_ALERT_ID: &str = "02cf96f6b6d5c2d920769e5a7a9b93ab96b672c9c7a93b0df1565e50dbadbe2a";
const SEED_REASON: &str = "process event with process sysctl, parent process bash, by root on \
                           web-01 created low alert IPv4/IPv6 Forwarding Activity.";

fn seed_alert() -> Alert {
    match build_event_alert(&seed_rule(), &sysctl_event(), &ctx()) {
        Ok(alert) => alert,
        Err(e) => panic!("building the seed alert failed: {e}"),
    }
}

fn get<'a>(alert: &'a Alert, key: &str) -> &'a Value {
    alert.doc().get(key).unwrap_or(&Value::Null)
}

#[test]
fn the_rule_fields_are_the_seed_rules() {
    let a = seed_alert();
    assert_eq!(
        get(&a, "kibana.alert.rule.name"),
        "IPv4/IPv6 Forwarding Activity"
    );
    assert_eq!(get(&a, "kibana.alert.rule.rule_id"), RULE_ID);
    assert_eq!(get(&a, "kibana.alert.rule.uuid"), RULE_UUID);
    assert_eq!(get(&a, "kibana.alert.severity"), "low");
    assert_eq!(get(&a, "kibana.alert.risk_score"), 21);
    assert_eq!(get(&a, "kibana.alert.rule.severity"), "low");
    assert_eq!(get(&a, "kibana.alert.rule.risk_score"), 21);
    assert_eq!(get(&a, "kibana.alert.rule.type"), "eql");
    assert_eq!(get(&a, "kibana.alert.rule.rule_type_id"), "siem.eqlRule");
    assert_eq!(
        get(&a, "kibana.alert.rule.category"),
        "Event Correlation Rule"
    );
    assert_eq!(get(&a, "kibana.alert.rule.consumer"), "siem");
    assert_eq!(get(&a, "kibana.alert.rule.producer"), "siem");
    assert_eq!(get(&a, "kibana.alert.rule.from"), "now-9m");
    assert_eq!(get(&a, "kibana.alert.rule.to"), "now");
    assert_eq!(get(&a, "kibana.alert.rule.interval"), "5m");
    assert_eq!(get(&a, "kibana.alert.rule.max_signals"), 100);
    assert_eq!(get(&a, "kibana.alert.rule.version"), 1);
    assert_eq!(get(&a, "kibana.alert.rule.revision"), 0);
    assert_eq!(get(&a, "kibana.alert.rule.enabled"), true);
    assert_eq!(get(&a, "kibana.alert.rule.immutable"), true);
    assert_eq!(get(&a, "kibana.alert.rule.license"), "Elastic License v2");
    assert_eq!(
        get(&a, "kibana.alert.rule.timestamp_override"),
        "event.ingested"
    );
    assert_eq!(get(&a, "kibana.alert.rule.author"), &json!(["Elastic"]));
    assert_eq!(
        get(&a, "kibana.alert.rule.created_at"),
        "2024-11-04T00:00:00.000Z"
    );
    assert_eq!(
        get(&a, "kibana.alert.rule.updated_at"),
        "2026-03-24T00:00:00.000Z"
    );
    assert_eq!(
        get(&a, "kibana.alert.rule.execution.uuid"),
        "126ef10b-c8bc-579a-86f9-ed602e34121e"
    );
    assert_eq!(
        get(&a, "kibana.alert.rule.indices"),
        &json!(["endgame-*", "logs-endpoint.events.process*"])
    );
    assert_eq!(
        get(&a, "kibana.alert.rule.tags"),
        &json!([
            "Domain: Endpoint",
            "OS: Linux",
            "Tactic: Command and Control"
        ])
    );
    assert!(!a
        .doc()
        .contains_key("kibana.alert.rule.building_block_type"));
    assert!(!a.doc().contains_key("kibana.alert.building_block_type"));
}

#[test]
fn the_threat_mapping_is_copied_whole() {
    let a = seed_alert();
    let threat = get(&a, "kibana.alert.rule.threat");
    assert_eq!(threat[0]["framework"], "MITRE ATT&CK");
    assert_eq!(threat[0]["tactic"]["id"], "TA0011");
    assert_eq!(threat[0]["tactic"]["name"], "Command and Control");
    assert_eq!(threat[0]["technique"][0]["id"], "T1090");
    assert_eq!(
        threat[0]["technique"][0]["subtechnique"][0]["id"],
        "T1090.001"
    );
    assert_eq!(threat[0]["technique"][1]["id"], "T1572");
    assert_eq!(threat[0]["technique"][1].get("subtechnique"), None);
    assert_eq!(&get(&a, "kibana.alert.rule.parameters")["threat"], threat);
}

#[test]
fn the_alert_fields_are_kibanas() {
    let a = seed_alert();
    assert_eq!(get(&a, "@timestamp"), NOW);
    assert_eq!(get(&a, "kibana.alert.start"), NOW);
    assert_eq!(get(&a, "kibana.alert.intended_timestamp"), NOW);
    assert_eq!(
        get(&a, "kibana.alert.original_time"),
        "2025-02-03T04:01:02.345Z"
    );
    assert_eq!(get(&a, "event.kind"), "signal");
    assert_eq!(get(&a, "kibana.alert.status"), "active");
    assert_eq!(get(&a, "kibana.alert.workflow_status"), "open");
    assert_eq!(get(&a, "kibana.alert.depth"), 1);
    assert_eq!(get(&a, "kibana.alert.reason"), SEED_REASON);
    assert_eq!(get(&a, "kibana.space_ids"), &json!(["default"]));
    assert_eq!(get(&a, "kibana.version"), "9.0.0");
    assert_eq!(get(&a, "kibana.alert.rule.execution.type"), "scheduled");
    assert_eq!(
        get(&a, "kibana.alert.ancestors"),
        &json!([{"id": "sysctl-1", "type": "event", "index": INDEX, "depth": 0}])
    );
    assert_eq!(a.uuid(), SYSCTL_ALERT_ID);
    assert_eq!(a.origin().map(|o| o.line), Some(1));
}

#[test]
fn the_event_fields_stay_nested_and_original_event_is_copied() {
    let a = seed_alert();
    assert_eq!(get(&a, "kibana.alert.original_event.action"), "exec");
    assert_eq!(get(&a, "kibana.alert.original_event.kind"), "event");
    assert_eq!(
        get(&a, "kibana.alert.original_event.category"),
        &json!(["process"])
    );
    assert_eq!(
        get(&a, "kibana.alert.original_data_stream.dataset"),
        "endpoint.events.process"
    );
    assert_eq!(get(&a, "process")["parent"]["name"], "bash");
    assert_eq!(get(&a, "host")["name"], "web-01");
    assert_eq!(get(&a, "event")["action"], "exec");
    assert_eq!(
        get(&a, "event").get("kind"),
        None,
        "event.kind is only the alert's own"
    );
    assert_eq!(
        a.get_str("process.command_line"),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );
}

#[test]
fn keys_come_in_kibanas_order() {
    let a = seed_alert();
    let keys: Vec<&str> = a.doc().keys().map(String::as_str).collect();
    let head = [
        "kibana.alert.rule.execution.timestamp",
        "kibana.alert.start",
        "kibana.alert.last_detected",
        "kibana.version",
        "kibana.alert.rule.parameters",
        "kibana.alert.rule.category",
        "kibana.alert.rule.consumer",
        "kibana.alert.rule.execution.uuid",
        "kibana.alert.rule.name",
        "kibana.alert.rule.producer",
        "kibana.alert.rule.revision",
        "kibana.alert.rule.rule_type_id",
        "kibana.alert.rule.uuid",
        "kibana.space_ids",
        "kibana.alert.rule.tags",
        "@timestamp",
        "agent",
        "data_stream",
        "event",
        "host",
        "process",
        "user",
        "kibana.alert.original_data_stream.dataset",
    ];
    assert_eq!(&keys[..head.len()], head);
    let at = |k: &str| keys.iter().position(|x| *x == k).unwrap_or(usize::MAX);
    assert!(at("kibana.alert.original_event.type") < at("event.kind"));
    assert!(at("event.kind") < at("kibana.alert.original_time"));
    assert!(at("kibana.alert.reason") < at("kibana.alert.severity"));
    assert!(at("kibana.alert.rule.version") < at("kibana.alert.uuid"));
    assert_eq!(
        keys.last().copied(),
        Some("kibana.alert.rule.execution.type")
    );
}

#[test]
fn the_parameters_are_the_rule_params_in_snake_case() {
    let a = seed_alert();
    let p = get(&a, "kibana.alert.rule.parameters");
    let keys: Vec<&str> = p
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "description",
            "risk_score",
            "severity",
            "note",
            "license",
            "timestamp_override",
            "author",
            "false_positives",
            "from",
            "rule_id",
            "max_signals",
            "risk_score_mapping",
            "severity_mapping",
            "threat",
            "to",
            "references",
            "version",
            "exceptions_list",
            "immutable",
            "rule_source",
            "related_integrations",
            "required_fields",
            "setup",
            "type",
            "language",
            "index",
            "query",
        ]
    );
    assert_eq!(
        p["rule_source"],
        json!({"type": "external", "is_customized": false})
    );
    assert_eq!(p["query"], QUERY);
    assert_eq!(p["setup"], "");
}

#[test]
fn the_same_event_and_rule_always_give_the_same_id() {
    let (rule, event) = (seed_rule(), sysctl_event());
    let first = build_event_alert(&rule, &event, &ctx()).map(|a| a.uuid().to_owned());
    let later = ctx().with_space("default");
    let again = build_event_alert(&rule, &event, &later).map(|a| a.uuid().to_owned());
    assert_eq!(first.as_deref().ok(), Some(SYSCTL_ALERT_ID));
    assert_eq!(again.as_deref().ok(), Some(SYSCTL_ALERT_ID));
}

#[test]
fn another_event_rule_or_space_gives_another_id() {
    let rule = seed_rule();
    let echo = uuid(&rule, &echo_event(), &ctx());
    assert_eq!(
        echo,
        "6ef9b6ed1f2b90bfdca81d9369895cff85f4a2f1610bbabc55941b9975b0a79c"
    );

    let mut other_rule = seed_rule();
    other_rule.rule_id = "00000000-0000-4000-8000-000000000000".into();
    let ids = [
        uuid(&rule, &sysctl_event(), &ctx()),
        echo,
        uuid(&other_rule, &sysctl_event(), &ctx()),
        uuid(&rule, &sysctl_event(), &ctx().with_space("soc")),
    ];
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

#[test]
fn an_event_without_id_is_known_by_its_source_text() {
    let rule = seed_rule();
    let text_of = |e: &talon_event::Event| e.source().to_owned();
    let a = event(&sysctl_json(), None, None, 7);
    let b = event(&sysctl_json(), None, None, 9);
    let c = event(&echo_json(), None, None, 7);
    let id = |e| {
        build_event_alert(&rule, e, &ctx())
            .map(|a| a.uuid().to_owned())
            .ok()
    };
    assert_eq!(id(&a), id(&b));
    assert_ne!(id(&a), id(&c));

    let alert = build_event_alert(&rule, &a, &ctx()).ok();
    let ancestors = alert
        .as_ref()
        .map(|x| x.doc()["kibana.alert.ancestors"].clone());
    let expected_id = sha256_of(&text_of(&a));
    assert_eq!(
        ancestors,
        Some(json!([{"id": expected_id, "type": "event", "index": "", "depth": 0}]))
    );
}

fn uuid(
    rule: &talon_rules::Rule,
    event: &talon_event::Event,
    ctx: &talon_alert::AlertContext,
) -> String {
    match build_event_alert(rule, event, ctx) {
        Ok(a) => a.uuid().to_owned(),
        Err(e) => e.to_string(),
    }
}

fn sha256_of(text: &str) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn missing_time_host_and_user_leave_their_parts_out() {
    let mut doc = sysctl_json();
    if let Some(map) = doc.as_object_mut() {
        map.remove("@timestamp");
        map.remove("host");
        map.remove("user");
    }
    let e = event(&doc, Some(INDEX), Some("bare-3"), 3);
    let a = build_event_alert(&seed_rule(), &e, &ctx());
    let a = a.map_err(|e| e.to_string());
    let reason = a
        .as_ref()
        .map(|a| a.get_str("kibana.alert.reason").map(str::to_owned));
    assert_eq!(
        reason,
        Ok(Some(
            "process event with process sysctl, parent process bash, created low alert \
             IPv4/IPv6 Forwarding Activity."
                .to_owned()
        ))
    );
    let has_time = a
        .as_ref()
        .map(|a| a.doc().contains_key("kibana.alert.original_time"));
    assert_eq!(has_time, Ok(false));
}

#[test]
fn a_building_block_rule_marks_its_alerts() {
    let mut rule = seed_rule();
    rule.building_block_type = Some("default".into());
    let a = build_event_alert(&rule, &sysctl_event(), &ctx()).ok();
    let bb = |k: &str| a.as_ref().and_then(|a| a.get_str(k)).map(str::to_owned);
    assert_eq!(
        bb("kibana.alert.building_block_type").as_deref(),
        Some("default")
    );
    assert_eq!(
        bb("kibana.alert.rule.building_block_type").as_deref(),
        Some("default")
    );
    assert_eq!(a.map(|a| a.is_building_block()), Some(true));
}

#[test]
fn alert_fields_in_the_event_do_not_leak_into_the_alert() {
    let mut doc = sysctl_json();
    if let Some(map) = doc.as_object_mut() {
        map.insert("kibana.alert.rule.name".into(), json!("forged"));
        map.insert("kibana".into(), json!({"alert": {"severity": "critical"}}));
        map.insert("signal".into(), json!({"rule": {"id": "x"}}));
    }
    let e = event(&doc, Some(INDEX), Some("forged-4"), 4);
    let a = build_event_alert(&seed_rule(), &e, &ctx()).ok();
    let a = a.as_ref();
    assert_eq!(
        a.and_then(|a| a.get_str("kibana.alert.rule.name")),
        Some(RULE_NAME)
    );
    assert_eq!(a.map(|a| a.doc().contains_key("kibana")), Some(false));
    assert_eq!(a.map(|a| a.doc().contains_key("signal")), Some(false));
}

#[test]
fn a_source_that_is_not_an_object_is_an_error_with_its_location() {
    let mut bad = sysctl_event();
    bad = talon_event::Event::new(Default::default(), std::sync::Arc::from("{\"a\": "))
        .with_origin(bad);
    let err = build_event_alert(&seed_rule(), &bad, &ctx()).err();
    assert!(matches!(err, Some(AlertError::SourceNotJson { .. })));
    let msg = err.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        msg.starts_with("events.ndjson:1: the event is not valid JSON"),
        "{msg}"
    );

    let array = event(&json!([1, 2]), None, None, 5);
    let err = build_event_alert(&seed_rule(), &array, &ctx())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("events.ndjson:5: the event is a JSON array, not an object")
    );
}

/// Test-only: give a hand-made event the origin of another.
trait WithOrigin {
    fn with_origin(self, from: talon_event::Event) -> talon_event::Event;
}

impl WithOrigin for talon_event::Event {
    fn with_origin(mut self, from: talon_event::Event) -> talon_event::Event {
        self.origin = from.origin;
        self
    }
}
