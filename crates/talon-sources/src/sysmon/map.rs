//! Sysmon EventIDs → Elastic Defend-shaped events.
//!
//! | EventID | event | data stream |
//! |---|---|---|
//! | 1 ProcessCreate | process start, `exec` | process |
//! | 5 ProcessTerminate | process end, `end` | process |
//! | 3 NetworkConnect | network start, `connection_attempted` / `connection_accepted` | network |
//! | 11 FileCreate | file creation, `creation` | file |
//! | 23 FileDelete | file deletion, `deletion` | file |
//!
//! Other EventIDs are counted as ignored (`sysmon EventID 4`). Sysmon's
//! "unknown" placeholders (`-`, `(null)`, an all-zero GUID) leave the field
//! absent, so `?process.parent.executable != null` stays false for a
//! parent Sysmon could not see. A pid or port that is there but no number
//! is left out too, and said where it is written.

use serde_json::Value;

use crate::doc::{basename, iso_date, EcsDoc, Kind};
use crate::norm::{int_of, Out};
use crate::split::split_shell;
use crate::stats::{IgnoreReason, ValueReason};
use crate::sysmon::SysmonRecord;

pub(crate) fn answer(rec: &SysmonRecord, line: u64, out: &mut Out) {
    let Some(id) = rec.event_id else {
        out.ignore(
            line,
            IgnoreReason::NotARecord,
            "not a Sysmon event",
            "no EventID",
        );
        return;
    };
    let map: fn(&SysmonRecord) -> EcsDoc = match id {
        1 => process_create,
        5 => process_end,
        3 => network,
        11 => |rec| file(rec, "creation"),
        23 => |rec| file(rec, "deletion"),
        other => {
            out.ignore(
                line,
                IgnoreReason::UnsupportedKind,
                format!("sysmon EventID {other}"),
                format!("Sysmon EventID {other} is not mapped"),
            );
            return;
        }
    };
    if rec.data.is_empty() {
        // Its <System> part alone: no process, file or connection to show.
        out.ignore(
            line,
            IgnoreReason::MissingFields,
            "sysmon event without EventData",
            format!("Sysmon EventID {id} with no <EventData> values"),
        );
        return;
    }
    let doc = map(rec);
    out.event(doc, line, None);
}

/// The fields every Sysmon event has.
fn base(rec: &SysmonRecord, kind: Kind) -> EcsDoc {
    let mut d = EcsDoc::new(kind);
    let time = rec
        .get("UtcTime")
        .and_then(iso_date)
        .or_else(|| rec.time_created.as_deref().and_then(iso_date));
    if let Some(t) = time {
        d.set("@timestamp", t);
    }
    d.text("host.name", rec.computer.as_deref());
    d.text("user.name", rec.get("User"));
    d.text("rule.name", rec.get("RuleName"));
    if let Some(id) = rec.event_id {
        d.set("event.code", id.to_string());
    }
    if let Some((at, bytes)) = rec.not_utf8() {
        d.unreadable(at, ValueReason::InvalidUtf8, &bytes, "the Sysmon event");
    }
    d
}

/// The integer `EventData` value `name`, for `field`: one there but
/// unreadable is noted where it is written, and `None`.
fn int(d: &mut EcsDoc, rec: &SysmonRecord, name: &str, field: &str) -> Option<i64> {
    let datum = rec.datum(name)?;
    let int = int_of(&Value::from(datum.value.as_str()));
    d.int_read(int, name, || rec.value_at(datum), field)
}

/// The acting process (`ProcessId`, `ProcessGuid`, `Image`).
fn process(d: &mut EcsDoc, rec: &SysmonRecord) {
    if let Some(pid) = int(d, rec, "ProcessId", "process.pid") {
        d.set("process.pid", pid);
    }
    d.text(
        "process.entity_id",
        rec.get("ProcessGuid").filter(|g| !is_zero_guid(g)),
    );
    d.executable("process", rec.get("Image"));
}

fn process_create(rec: &SysmonRecord) -> EcsDoc {
    let mut d = base(rec, Kind::Process);
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec!["start"]);
    d.set("event.action", "exec");
    process(&mut d, rec);
    d.command_line("process", rec.get("CommandLine"), split_shell);
    d.text("process.working_directory", rec.get("CurrentDirectory"));
    if let Some(ppid) = int(&mut d, rec, "ParentProcessId", "process.parent.pid") {
        d.set("process.parent.pid", ppid);
    }
    d.text(
        "process.parent.entity_id",
        rec.get("ParentProcessGuid").filter(|g| !is_zero_guid(g)),
    );
    d.executable("process.parent", rec.get("ParentImage"));
    d.command_line("process.parent", rec.get("ParentCommandLine"), split_shell);
    d.text("process.parent.user.name", rec.get("ParentUser"));
    if let Some(start) = rec.get("UtcTime").and_then(iso_date) {
        d.set("process.start", start);
    }
    hashes(&mut d, "process.hash", rec.get("Hashes"));
    d
}

fn process_end(rec: &SysmonRecord) -> EcsDoc {
    let mut d = base(rec, Kind::Process);
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec!["end"]);
    d.set("event.action", "end");
    process(&mut d, rec);
    d
}

fn network(rec: &SysmonRecord) -> EcsDoc {
    let mut d = base(rec, Kind::Network);
    d.set("event.category", vec!["network"]);
    d.set("event.type", vec!["start"]);
    let initiated = rec.get("Initiated").map(|v| v.eq_ignore_ascii_case("true"));
    let (action, direction) = match initiated {
        Some(false) => ("connection_accepted", "ingress"),
        _ => ("connection_attempted", "egress"),
    };
    d.set("event.action", action);
    d.set("network.direction", direction);
    process(&mut d, rec);
    d.text(
        "network.transport",
        rec.get("Protocol").map(str::to_ascii_lowercase).as_deref(),
    );
    for (side, prefix) in [("source", "Source"), ("destination", "Destination")] {
        d.text(&format!("{side}.ip"), rec.get(&format!("{prefix}Ip")));
        d.text(
            &format!("{side}.domain"),
            rec.get(&format!("{prefix}Hostname")),
        );
        let field = format!("{side}.port");
        if let Some(port) = int(&mut d, rec, &format!("{prefix}Port"), &field) {
            d.set(&field, port);
        }
    }
    d
}

fn file(rec: &SysmonRecord, action: &str) -> EcsDoc {
    let mut d = base(rec, Kind::File);
    d.set("event.category", vec!["file"]);
    d.set("event.type", vec![action]);
    d.set("event.action", action);
    process(&mut d, rec);
    if let Some(path) = rec
        .get("TargetFilename")
        .filter(|p| !crate::doc::is_placeholder(p))
    {
        d.set("file.path", path);
        d.text("file.name", basename(path));
        if let Some((dir, _)) = path.rsplit_once('/') {
            d.text(
                "file.directory",
                Some(if dir.is_empty() { "/" } else { dir }),
            );
        }
    }
    if let Some(created) = rec.get("CreationUtcTime").and_then(iso_date) {
        d.set("file.created", created);
    }
    hashes(&mut d, "file.hash", rec.get("Hashes"));
    d
}

/// `SHA256=ab…,MD5=cd…` → `<prefix>.sha256`, `<prefix>.md5`.
fn hashes(d: &mut EcsDoc, prefix: &str, value: Option<&str>) {
    let Some(value) = value else { return };
    for part in value.split(',') {
        if let Some((algo, hash)) = part.split_once('=') {
            let algo = algo.trim().to_ascii_lowercase();
            if matches!(algo.as_str(), "md5" | "sha1" | "sha256" | "sha512") {
                d.text(&format!("{prefix}.{algo}"), Some(hash.trim()));
            }
        }
    }
}

fn is_zero_guid(g: &str) -> bool {
    g.chars().all(|c| matches!(c, '0' | '-' | '{' | '}'))
}
