//! osquery `process_events` result logs → exec events.
//!
//! osqueryd's filesystem logger writes scheduled-query results in three
//! shapes, all handled:
//! - event format: one row per line, `{"name", "hostIdentifier",
//!   "unixTime", "columns": {…}, "action": "added"}`;
//! - batch format: `{"name", …, "diffResults": {"added": [rows],
//!   "removed": [rows]}}`;
//! - snapshot format: `{"name", …, "snapshot": [rows], "action":
//!   "snapshot"}`.
//!
//! A row is a `process_events` row when the query is named so (packs write
//! `pack_<pack>_<query>`) or its columns are the table's (`path`,
//! `cmdline`, `pid`, `parent`). Every row is one record: a batch of three
//! rows counts three. Rows of other queries, `removed` rows (events are
//! never removed; a differential query reports them only when a query is
//! re-run), and fork/clone rows (no new image) are counted as ignored.
//!
//! `cmdline` is the argv joined by spaces (osquery reads it from the audit
//! EXECVE record), so `process.args` comes from [`split_shell`] and is
//! lossy; `parent` is only a pid, which the process tree resolves.

use serde_json::Value;

use crate::doc::{iso_nanos, EcsDoc, Kind, ValueAt};
use crate::norm::{get, get_str, DocNormalizer, Out};
use crate::split::split_shell;
use crate::stats::{IgnoreReason, ValueReason};

pub(crate) struct Osquery;

impl DocNormalizer for Osquery {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        let name = get_str(doc, "name").unwrap_or_default();
        // Each row with its action and its path in the document.
        let mut rows: Vec<(&Value, &str, String)> = Vec::new();
        if let Some(cols) = get(doc, "columns") {
            let action = get(doc, "action")
                .and_then(Value::as_str)
                .unwrap_or("added");
            rows.push((cols, action, "columns".to_string()));
        }
        if let Some(diff) = get(doc, "diffResults") {
            for action in ["added", "removed"] {
                if let Some(Value::Array(list)) = get(diff, action) {
                    rows.extend(
                        list.iter()
                            .enumerate()
                            .map(|(i, r)| (r, action, format!("diffResults.{action}.[{i}]"))),
                    );
                }
            }
        }
        if let Some(Value::Array(list)) = get(doc, "snapshot") {
            rows.extend(
                list.iter()
                    .enumerate()
                    .map(|(i, r)| (r, "snapshot", format!("snapshot.[{i}]"))),
            );
        }
        if rows.is_empty() {
            let (reason, detail) = if get(doc, "hostIdentifier").is_some() {
                (IgnoreReason::MissingFields, "osquery result without rows")
            } else {
                (IgnoreReason::NotARecord, "not an osquery result log")
            };
            out.ignore(line, reason, "not an osquery result", detail);
            return;
        }
        out.more_records(rows.len() as u64 - 1);
        for (row, action, at) in rows {
            answer_row(doc, &name, (row, &at), action, line, out);
        }
    }
}

fn is_process_events(name: &str, row: &Value) -> bool {
    name == "process_events"
        || name.ends_with("_process_events")
        || name.ends_with("/process_events")
        || ["path", "cmdline", "pid", "parent"]
            .iter()
            .all(|c| get(row, c).is_some())
}

/// One row, at path `at` of the document.
fn answer_row(
    doc: &Value,
    name: &str,
    (row, at): (&Value, &str),
    action: &str,
    line: u64,
    out: &mut Out,
) {
    if !row.is_object() {
        out.ignore(
            line,
            IgnoreReason::NotARecord,
            "osquery row",
            "a result row that is not an object",
        );
        return;
    }
    if !is_process_events(name, row) {
        let what = if name.is_empty() { "?" } else { name };
        out.ignore(
            line,
            IgnoreReason::UnsupportedKind,
            format!("osquery {what}"),
            format!("rows of query {what} are not process events"),
        );
        return;
    }
    if action == "removed" {
        out.ignore(
            line,
            IgnoreReason::UnsupportedKind,
            "osquery removed row",
            "a removed process_events row",
        );
        return;
    }
    let syscall = get_str(row, "syscall");
    if let Some(s) = syscall
        .as_deref()
        .filter(|s| !s.is_empty() && !s.starts_with("exec"))
    {
        out.ignore(
            line,
            IgnoreReason::NotExec,
            format!("osquery syscall {s}"),
            format!("process_events row for {s} is not an exec"),
        );
        return;
    }
    out.event(exec_doc(doc, row, at), line, None);
}

fn exec_doc(doc: &Value, row: &Value, at: &str) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Process);
    // The row's own event time beats the query's run time; one that is
    // there but unreadable is said, and the run time used.
    let time = d
        .int(row, at, "time", "@timestamp")
        .filter(|t| *t > 0)
        .map(|t| (t, format!("{at}.time"), "time"));
    let secs = time.or_else(|| {
        d.int(doc, "", "unixTime", "@timestamp")
            .map(|t| (t, "unixTime".to_string(), "unixTime"))
    });
    if let Some((secs, path, key)) = secs {
        // Seconds whose nanoseconds overflow a `long` (past year 2262).
        match secs.checked_mul(1_000_000_000) {
            Some(nanos) => d.set("@timestamp", iso_nanos(nanos)),
            None => d.unreadable(
                ValueAt::Path(path),
                ValueReason::OutOfRange,
                &format!("{key} {secs}"),
                "@timestamp",
            ),
        }
    }
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec!["start"]);
    d.set("event.action", "exec");
    let host = get_str(doc, "decorations.hostname").or_else(|| get_str(doc, "hostIdentifier"));
    d.text("host.name", host.as_deref());
    d.text("host.id", get_str(doc, "decorations.host_uuid").as_deref());
    d.text("osquery.query_name", get_str(doc, "name").as_deref());

    if let Some(pid) = d.int(row, at, "pid", "process.pid") {
        d.set("process.pid", pid);
    }
    // -1: osquery knows no parent.
    if let Some(ppid) = d
        .int(row, at, "parent", "process.parent.pid")
        .filter(|p| *p >= 0)
    {
        d.set("process.parent.pid", ppid);
    }
    d.executable("process", get_str(row, "path").as_deref());
    d.command_line("process", get_str(row, "cmdline").as_deref(), split_shell);
    // The audit CWD value arrives with its quotes on some versions.
    let cwd = get_str(row, "cwd").map(|c| c.trim_matches('"').to_string());
    d.text("process.working_directory", cwd.as_deref());
    for (col, field) in [
        ("uid", "user.id"),
        ("euid", "user.effective.id"),
        ("gid", "group.id"),
        ("egid", "user.effective.group.id"),
        ("auid", "user.audit.id"),
    ] {
        let v = get_str(row, col).filter(|v| v != "4294967295" && v != "-1");
        d.text(field, v.as_deref());
    }
    d
}
