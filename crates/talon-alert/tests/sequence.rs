//! EQL sequence alerts: a shell first, then one building block per event.
//!
//! Expected ids were computed outside talon from Kibana's formulas
//! (`generateBuildingBlockIds`, `generateAlertId`), see `build/ids.rs`.

mod common;

use common::*;
use serde_json::{json, Value};
use talon_alert::{build_sequence_alerts, Alert, AlertError};

const RULE_UUID: &str = "17940347-756e-5129-b50e-4516bde0dcd9";
const BB0: &str = "0691f0239bdd772182a7820829099fce8e4437dfb5990526151da125e9c30323";
const BB1: &str = "503994b48c438769355d9bcc82c9887824d624afec1b2d97e8ea925828a98a2a";
const SHELL: &str = "1a2c93ca92f3803a0041ba84b0300e0c912d5fa8c552ff2e509d0ae13984c6c8";

/// A two-event sequence on one host: sysctl, then the echo form, both root.
fn two_step() -> Vec<Alert> {
    let first = sysctl_event();
    let mut second_doc = echo_json();
    second_doc["host"] = json!({"name": "web-01", "os": {"type": "linux"}});
    second_doc["user"] = json!({"name": "root"});
    let second = event(&second_doc, Some(INDEX), Some("echo-2"), 2);
    match build_sequence_alerts(&seed_rule(), &[&first, &second], &ctx()) {
        Ok(alerts) => alerts,
        Err(e) => panic!("building the sequence failed: {e}"),
    }
}

fn get<'a>(alert: &'a Alert, key: &str) -> &'a Value {
    alert.doc().get(key).unwrap_or(&Value::Null)
}

#[test]
fn two_events_give_a_shell_and_two_building_blocks_in_one_group() {
    let alerts = two_step();
    assert_eq!(alerts.len(), 3);
    let uuids: Vec<&str> = alerts.iter().map(Alert::uuid).collect();
    assert_eq!(uuids, [SHELL, BB0, BB1]);
    for alert in &alerts {
        assert_eq!(get(alert, "kibana.alert.group.id"), SHELL);
        assert_eq!(get(alert, "kibana.alert.rule.uuid"), RULE_UUID);
        assert_eq!(get(alert, "event.kind"), "signal");
        assert_eq!(get(alert, "kibana.alert.workflow_status"), "open");
    }
    assert!(!alerts[0].is_building_block());
    assert!(!alerts[0].doc().contains_key("kibana.alert.group.index"));
    for (i, block) in alerts[1..].iter().enumerate() {
        assert_eq!(get(block, "kibana.alert.building_block_type"), "default");
        assert_eq!(get(block, "kibana.alert.group.index"), i);
        assert_eq!(get(block, "kibana.alert.depth"), 1);
    }
}

#[test]
fn building_blocks_are_their_events_alerts() {
    let alerts = two_step();
    let (first, second) = (&alerts[1], &alerts[2]);
    assert_eq!(
        get(first, "kibana.alert.ancestors"),
        &json!([{"id": "sysctl-1", "type": "event", "index": INDEX, "depth": 0}])
    );
    assert_eq!(
        get(first, "kibana.alert.original_time"),
        "2025-02-03T04:01:02.345Z"
    );
    assert_eq!(
        get(second, "kibana.alert.original_time"),
        "2025-02-03T04:02:03.456Z"
    );
    assert_eq!(first.get_str("process.name"), Some("sysctl"));
    assert_eq!(second.get_str("process.name"), Some("bash"));
    assert_eq!(
        get(second, "kibana.alert.reason"),
        "process event with process bash, parent process python3, by root on web-01 \
         created low alert IPv4/IPv6 Forwarding Activity."
    );
    assert_eq!(first.origin().map(|o| o.line), Some(1));
    assert_eq!(second.origin().map(|o| o.line), Some(2));
}

#[test]
fn the_shell_links_every_event_and_building_block() {
    let alerts = two_step();
    let shell = &alerts[0];
    assert_eq!(
        get(shell, "kibana.alert.ancestors"),
        &json!([
            {"id": "sysctl-1", "type": "event", "index": INDEX, "depth": 0},
            {"id": BB0, "type": "signal", "index": "", "depth": 1, "rule": RULE_UUID},
            {"id": "echo-2", "type": "event", "index": INDEX, "depth": 0},
            {"id": BB1, "type": "signal", "index": "", "depth": 1, "rule": RULE_UUID},
        ])
    );
    assert_eq!(get(shell, "kibana.alert.depth"), 2);
    assert_eq!(
        get(shell, "kibana.alert.original_time"),
        "2025-02-03T04:01:02.345Z"
    );
    assert_eq!(shell.origin().map(|o| o.line), Some(1));
}

#[test]
fn the_shell_keeps_only_what_the_events_share() {
    let alerts = two_step();
    let shell = &alerts[0];
    assert_eq!(shell.get_str("host.name"), Some("web-01"));
    assert_eq!(shell.get_str("user.name"), Some("root"));
    assert_eq!(shell.get("event.category"), Some(&json!(["process"])));
    assert_eq!(get(shell, "kibana.alert.original_event.action"), "exec");
    assert_eq!(shell.get("process.name"), None);
    assert_eq!(shell.get("process.command_line"), None);
    assert_eq!(shell.get("process.args"), Some(&json!([])));
    assert_eq!(
        shell.get("agent"),
        None,
        "only the first event has agent fields"
    );
    assert_eq!(
        get(shell, "kibana.alert.reason"),
        "process event by root on web-01 created low alert IPv4/IPv6 Forwarding Activity."
    );
}

#[test]
fn the_same_sequence_always_gives_the_same_ids() {
    let again: Vec<String> = two_step().iter().map(|a| a.uuid().to_owned()).collect();
    assert_eq!(again, [SHELL, BB0, BB1]);
    let later = ctx().with_kibana_version("8.18.0");
    let (a, b) = (sysctl_event(), echo_event());
    let other_order = build_sequence_alerts(&seed_rule(), &[&b, &a], &later);
    let other: Vec<String> = other_order
        .map(|v| v.iter().map(|a| a.uuid().to_owned()).collect())
        .unwrap_or_default();
    assert_eq!(other.len(), 3);
    assert!(other.iter().all(|id| id != SHELL && id != BB0 && id != BB1));
}

#[test]
fn an_empty_sequence_is_an_error() {
    let err = build_sequence_alerts(&seed_rule(), &[], &ctx()).err();
    assert!(matches!(err, Some(AlertError::EmptySequence)));
}
