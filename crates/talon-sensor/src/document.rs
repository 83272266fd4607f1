//! The Elastic Defend-shaped process event document: what is known about a
//! process and its parent, as the ECS fields Defend writes into
//! `logs-endpoint.events.process-*`, so detection rules written for Defend
//! read it unchanged.
//!
//! A field is written only when its value is known: a process whose
//! `/proc` entry was gone has no `process.executable` rather than an empty
//! one, which keeps `?process.parent.executable != null` and friends
//! meaning what they mean on Defend data.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::procfs::Ids;

/// The data stream (and so the index) of every sensor event.
pub const DATASET: &str = "endpoint.events.process";
pub const NAMESPACE: &str = "default";
pub const INDEX: &str = "logs-endpoint.events.process-default";
/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// What is known about one process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: Option<i32>,
    /// `process.entity_id`, when the start time is known.
    pub entity_id: Option<String>,
    /// Start, milliseconds since the epoch, and the raw ticks it came
    /// from (which tell two processes with the same pid apart).
    pub start_ms: Option<i64>,
    pub start_ticks: Option<u64>,
    pub name: Option<String>,
    pub executable: Option<String>,
    /// Empty when unknown.
    pub args: Vec<String>,
    pub working_directory: Option<String>,
    pub ids: Option<Ids>,
    pub pgrp: Option<i32>,
    pub session: Option<i32>,
}

/// Names resolved for a process's ids.
#[derive(Clone, Debug, Default)]
pub struct IdNames {
    pub user: Option<String>,
    pub real_user: Option<String>,
    pub group: Option<String>,
    pub real_group: Option<String>,
}

/// The event-level facts of one document.
pub struct Meta<'a> {
    /// `start` or `end`.
    pub event_type: &'static str,
    /// `exec` or `end`.
    pub action: &'static str,
    pub event_id: &'a str,
    /// When the kernel raised the event.
    pub timestamp: DateTime<Utc>,
    /// When the document was built (`event.ingested`).
    pub ingested: DateTime<Utc>,
    /// Something `/proc` should have told was missing.
    pub partial: bool,
    pub exit_code: Option<i64>,
}

/// `2024-05-01T10:00:00.123Z`, as Defend and Kibana write dates.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn iso_millis(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms).single().map(|t| iso(&t))
}

/// Builds the whole document.
pub fn document(
    meta: &Meta<'_>,
    process: &ProcessInfo,
    names: &IdNames,
    parent: Option<&ProcessInfo>,
    host: &Value,
    agent: &Value,
) -> Value {
    let mut doc = Map::new();
    doc.insert("@timestamp".into(), json!(iso(&meta.timestamp)));
    doc.insert("agent".into(), agent.clone());
    doc.insert(
        "data_stream".into(),
        json!({ "type": "logs", "dataset": DATASET, "namespace": NAMESPACE }),
    );
    doc.insert("ecs".into(), json!({ "version": ECS_VERSION }));
    doc.insert(
        "event".into(),
        json!({
            "kind": "event",
            "category": ["process"],
            "type": [meta.event_type],
            "action": meta.action,
            "id": meta.event_id,
            "created": iso(&meta.timestamp),
            "ingested": iso(&meta.ingested),
            "dataset": DATASET,
            "module": "endpoint",
        }),
    );
    doc.insert("host".into(), host.clone());

    let mut p = process_fields(process);
    if let Some(code) = meta.exit_code {
        p.insert("exit_code".into(), json!(code));
        p.insert("end".into(), json!(iso(&meta.timestamp)));
    }
    if let Some(ids) = &process.ids {
        p.insert(
            "user".into(),
            id_object(ids.effective_uid(), names.user.as_deref()),
        );
        p.insert(
            "real_user".into(),
            id_object(ids.real_uid(), names.real_user.as_deref()),
        );
        p.insert(
            "group".into(),
            id_object(ids.effective_gid(), names.group.as_deref()),
        );
        p.insert(
            "real_group".into(),
            id_object(ids.real_gid(), names.real_group.as_deref()),
        );
        p.insert(
            "saved_user".into(),
            json!({ "id": ids.saved_uid().to_string() }),
        );
        p.insert(
            "saved_group".into(),
            json!({ "id": ids.saved_gid().to_string() }),
        );
    }
    for (key, pid) in [
        ("group_leader", process.pgrp),
        ("session_leader", process.session),
    ] {
        if let Some(pid) = pid.filter(|p| *p > 0) {
            p.insert(key.into(), json!({ "pid": pid }));
        }
    }
    match parent {
        Some(parent) => {
            p.insert("parent".into(), Value::Object(process_fields(parent)));
        }
        None => {
            if let Some(ppid) = process.ppid {
                p.insert("parent".into(), json!({ "pid": ppid }));
            }
        }
    }
    doc.insert("process".into(), Value::Object(p));

    if let Some(ids) = &process.ids {
        doc.insert(
            "user".into(),
            id_object(ids.effective_uid(), names.user.as_deref()),
        );
        doc.insert(
            "group".into(),
            id_object(ids.effective_gid(), names.group.as_deref()),
        );
    }
    if meta.partial {
        doc.insert("talon".into(), json!({ "partial": true }));
    }
    Value::Object(doc)
}

/// The fields a process and its parent share: pid, entity id, image,
/// arguments, start.
fn process_fields(p: &ProcessInfo) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("pid".into(), json!(p.pid));
    if let Some(id) = &p.entity_id {
        m.insert("entity_id".into(), json!(id));
    }
    if let Some(exe) = &p.executable {
        m.insert("executable".into(), json!(exe));
    }
    if let Some(name) = &p.name {
        m.insert("name".into(), json!(name));
    }
    if !p.args.is_empty() {
        m.insert("args".into(), json!(p.args));
        m.insert("args_count".into(), json!(p.args.len()));
        m.insert("command_line".into(), json!(p.args.join(" ")));
    }
    if let Some(cwd) = &p.working_directory {
        m.insert("working_directory".into(), json!(cwd));
    }
    if let Some(start) = p.start_ms.and_then(iso_millis) {
        m.insert("start".into(), json!(start));
    }
    m
}

fn id_object(id: u32, name: Option<&str>) -> Value {
    match name {
        Some(n) => json!({ "id": id.to_string(), "name": n }),
        None => json!({ "id": id.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(partial: bool) -> Meta<'static> {
        let t = Utc
            .timestamp_millis_opt(1_700_000_000_123)
            .single()
            .unwrap();
        Meta {
            event_type: "start",
            action: "exec",
            event_id: "e1",
            timestamp: t,
            ingested: t + chrono::Duration::milliseconds(2),
            partial,
            exit_code: None,
        }
    }

    #[test]
    fn full_document() {
        let proc = ProcessInfo {
            pid: 10,
            ppid: Some(9),
            entity_id: Some("ent10".into()),
            start_ms: Some(1_700_000_000_000),
            start_ticks: Some(5),
            name: Some("sh".into()),
            executable: Some("/usr/bin/dash".into()),
            args: vec!["sh".into(), "-c".into(), "echo hi".into()],
            working_directory: Some("/tmp".into()),
            ids: Some(Ids {
                uid: [1000, 0, 0, 0],
                gid: [100, 100, 100, 100],
            }),
            pgrp: Some(10),
            session: Some(3),
        };
        let parent = ProcessInfo {
            pid: 9,
            name: Some("bash".into()),
            executable: Some("/usr/bin/bash".into()),
            args: vec!["bash".into()],
            ..ProcessInfo::default()
        };
        let names = IdNames {
            user: Some("root".into()),
            real_user: Some("alice".into()),
            ..IdNames::default()
        };
        let doc = document(
            &meta(false),
            &proc,
            &names,
            Some(&parent),
            &json!({"name": "h"}),
            &json!({}),
        );
        assert_eq!(doc["@timestamp"], "2023-11-14T22:13:20.123Z");
        assert_eq!(doc["event"]["ingested"], "2023-11-14T22:13:20.125Z");
        assert_eq!(doc["event"]["type"], json!(["start"]));
        assert_eq!(doc["event"]["category"], json!(["process"]));
        assert_eq!(doc["data_stream"]["dataset"], DATASET);
        let p = &doc["process"];
        assert_eq!(p["pid"], 10);
        assert_eq!(p["args"], json!(["sh", "-c", "echo hi"]));
        assert_eq!(p["args_count"], 3);
        assert_eq!(p["command_line"], "sh -c echo hi");
        assert_eq!(p["start"], "2023-11-14T22:13:20.000Z");
        assert_eq!(p["user"], json!({"id": "0", "name": "root"}));
        assert_eq!(p["real_user"], json!({"id": "1000", "name": "alice"}));
        assert_eq!(p["group"], json!({"id": "100"}));
        assert_eq!(p["session_leader"], json!({"pid": 3}));
        assert_eq!(p["parent"]["executable"], "/usr/bin/bash");
        assert_eq!(p["parent"]["command_line"], "bash");
        assert_eq!(doc["user"], json!({"id": "0", "name": "root"}));
        assert!(doc.get("talon").is_none());
    }

    #[test]
    fn partial_document_has_only_what_is_known() {
        let proc = ProcessInfo {
            pid: 77,
            ppid: Some(70),
            ..ProcessInfo::default()
        };
        let doc = document(
            &meta(true),
            &proc,
            &IdNames::default(),
            None,
            &json!({}),
            &json!({}),
        );
        assert_eq!(doc["talon"]["partial"], true);
        assert_eq!(doc["process"], json!({"pid": 77, "parent": {"pid": 70}}));
        assert!(doc.get("user").is_none());
    }
}
