//! Shared fixtures: the seed rule (IPv4/IPv6 Forwarding Activity) as a
//! literal `Rule`, realistic Linux process events, and a pinned context.
//!
//! The rule is written out here rather than loaded, so these tests do not
//! depend on the rule loader; its values are those of the detection-rules
//! TOML for rule 5a138e2e-aec3-4240-9843-56825d0bc569.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use chrono::DateTime;
use serde_json::{json, Map, Value as Json};
use talon_alert::AlertContext;
use talon_event::{Event, Origin, Value};
use talon_rules::{Rule, RuleFormat, RuleOrigin, Technique, Threat, ThreatRef};

pub const NOW: &str = "2025-02-03T04:05:06.789Z";
pub const RULE_ID: &str = "5a138e2e-aec3-4240-9843-56825d0bc569";
pub const RULE_NAME: &str = "IPv4/IPv6 Forwarding Activity";
pub const INDEX: &str = ".ds-logs-endpoint.events.process-default-2025.02.03-000001";

pub const QUERY: &str = "process where host.os.type == \"linux\" and event.type == \"start\" and \
    process.command_line like (\"*net.ipv4.ip_forward*\", \"*/proc/sys/net/ipv4/ip_forward*\")";

pub fn ctx() -> AlertContext {
    let now = DateTime::parse_from_rfc3339(NOW)
        .map(|t| t.to_utc())
        .unwrap_or_default();
    AlertContext::new(now)
}

fn reference(id: &str, name: &str, url: &str) -> ThreatRef {
    ThreatRef {
        id: id.into(),
        name: name.into(),
        reference: url.into(),
    }
}

pub fn seed_rule() -> Rule {
    let mut metadata = Map::new();
    metadata.insert("creation_date".into(), json!("2024/11/04"));
    metadata.insert(
        "integration".into(),
        json!(["endpoint", "sentinel_one_cloud_funnel"]),
    );
    metadata.insert("maturity".into(), json!("production"));
    metadata.insert("updated_date".into(), json!("2026/03/24"));

    let threat = Threat {
        framework: "MITRE ATT&CK".into(),
        tactic: reference(
            "TA0011",
            "Command and Control",
            "https://attack.mitre.org/tactics/TA0011/",
        ),
        technique: vec![
            Technique {
                id: "T1090".into(),
                name: "Proxy".into(),
                reference: "https://attack.mitre.org/techniques/T1090/".into(),
                subtechnique: vec![reference(
                    "T1090.001",
                    "Internal Proxy",
                    "https://attack.mitre.org/techniques/T1090/001/",
                )],
            },
            Technique {
                id: "T1572".into(),
                name: "Protocol Tunneling".into(),
                reference: "https://attack.mitre.org/techniques/T1572/".into(),
                subtechnique: vec![],
            },
        ],
    };

    Rule {
        rule_id: RULE_ID.into(),
        name: RULE_NAME.into(),
        description: "This rule monitors for the execution of commands that enable IPv4 and \
                      IPv6 forwarding on Linux systems.\n"
            .into(),
        rule_type: "eql".into(),
        language: Some("eql".into()),
        query: Some(QUERY.into()),
        index: vec!["endgame-*".into(), "logs-endpoint.events.process*".into()],
        index_written: true,
        severity: "low".into(),
        risk_score: 21,
        interval: None,
        from: Some("now-9m".into()),
        to: None,
        max_signals: None,
        timestamp_override: Some("event.ingested".into()),
        event_category_override: None,
        timestamp_field: None,
        tiebreaker_field: None,
        tags: vec![
            "Domain: Endpoint".into(),
            "OS: Linux".into(),
            "Tactic: Command and Control".into(),
        ],
        threat: vec![threat],
        note: Some("## Triage and analysis".into()),
        setup: None,
        references: vec![],
        false_positives: vec![],
        author: vec!["Elastic".into()],
        license: Some("Elastic License v2".into()),
        building_block_type: None,
        version: None,
        enabled: None,
        filters: Default::default(),
        extra: Map::new(),
        metadata,
        origin: RuleOrigin {
            path: PathBuf::from("rules/linux/command_and_control_ip_forwarding_activity.toml"),
            format: RuleFormat::Toml,
            text: Arc::from(""),
            query_offsets: Arc::from(Vec::new()),
        },
        schedule_errors: Vec::new(),
        unapplied: Vec::new(),
    }
}

/// `sysctl -w net.ipv4.ip_forward=1` run by root from bash on web-01.
pub fn sysctl_json() -> Json {
    json!({
        "@timestamp": "2025-02-03T04:01:02.345Z",
        "agent": {"type": "endpoint", "version": "8.17.0"},
        "data_stream": {"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
        "event": {
            "action": "exec",
            "category": ["process"],
            "dataset": "endpoint.events.process",
            "ingested": "2025-02-03T04:01:05Z",
            "kind": "event",
            "module": "endpoint",
            "type": ["start"]
        },
        "host": {"name": "web-01", "os": {"type": "linux", "family": "debian"}},
        "process": {
            "args": ["sysctl", "-w", "net.ipv4.ip_forward=1"],
            "command_line": "sysctl -w net.ipv4.ip_forward=1",
            "executable": "/usr/sbin/sysctl",
            "name": "sysctl",
            "pid": 48213,
            "parent": {"executable": "/usr/bin/bash", "name": "bash", "pid": 48190}
        },
        "user": {"id": "0", "name": "root"}
    })
}

/// `bash -c "echo 1 > /proc/sys/net/ipv4/ip_forward"` by admin on db-02.
pub fn echo_json() -> Json {
    json!({
        "@timestamp": "2025-02-03T04:02:03.456Z",
        "event": {"action": "exec", "category": ["process"], "kind": "event", "type": ["start"]},
        "host": {"name": "db-02", "os": {"type": "linux"}},
        "process": {
            "args": ["bash", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"],
            "command_line": "bash -c \"echo 1 > /proc/sys/net/ipv4/ip_forward\"",
            "name": "bash",
            "pid": 7001,
            "parent": {"executable": "/usr/bin/python3", "name": "python3", "pid": 6990}
        },
        "user": {"name": "admin"}
    })
}

/// An event as the readers make it: flattened fields, the source text,
/// index, id and origin.
pub fn event(doc: &Json, index: Option<&str>, id: Option<&str>, line: u64) -> Event {
    let mut event = Event::new(Default::default(), Arc::from(doc.to_string()));
    flatten(&mut event, "", doc);
    event.index = index.map(Arc::from);
    event.id = id.map(Arc::from);
    event.origin = Origin {
        file: Arc::from("events.ndjson"),
        line,
    };
    event
}

fn flatten(event: &mut Event, prefix: &str, value: &Json) {
    match value {
        Json::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(event, &path, inner);
            }
        }
        Json::Array(items) => items.iter().for_each(|item| flatten(event, prefix, item)),
        Json::String(s) => event.push(prefix, Value::str(s)),
        Json::Bool(b) => event.push(prefix, Value::Bool(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => event.push(prefix, Value::Int(i)),
            None => event.push(prefix, Value::Float(n.as_f64().unwrap_or_default())),
        },
        Json::Null => {}
    }
}

pub fn sysctl_event() -> Event {
    event(&sysctl_json(), Some(INDEX), Some("sysctl-1"), 1)
}

pub fn echo_event() -> Event {
    event(&echo_json(), Some(INDEX), Some("echo-2"), 2)
}
