//! Falco JSON alerts → process start events.
//!
//! Falco writes one JSON object per alert: the rule that fired, its
//! priority, and `output_fields`, the sinsp fields its output format named
//! (`proc.cmdline`, `proc.exepath`, `proc.pid`, `proc.pname`, …). An alert
//! on an `execve`/`execveat` is a process start and is mapped; alerts on
//! other syscalls (`openat`, `connect`) describe something a process did,
//! not a process starting, and are counted as ignored by `evt.type`. An
//! alert without `evt.type` is taken as an exec when it names a command
//! line, since process rules are what such custom outputs are written for.
//!
//! Falco gives `proc.cmdline` as ONE string (`name arg1 arg2`, the argv
//! joined by spaces), so `process.args` comes from [`split_shell`], which
//! cannot restore an argument that contained spaces.

use serde_json::Value;

use crate::doc::{is_placeholder, iso_date, iso_nanos, EcsDoc, Kind};
use crate::norm::{get, get_str, DocNormalizer, Out};
use crate::split::split_shell;
use crate::stats::IgnoreReason;

pub(crate) struct Falco;

impl DocNormalizer for Falco {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        let Some(fields) = get(doc, "output_fields").filter(|f| f.is_object()) else {
            out.ignore(
                line,
                IgnoreReason::NotARecord,
                "not a Falco alert",
                "JSON document without output_fields",
            );
            return;
        };
        let evt_type = get_str(fields, "evt.type");
        let is_exec = match evt_type.as_deref() {
            Some("execve" | "execveat") => true,
            Some(_) => false,
            None => get_str(fields, "proc.cmdline").is_some(),
        };
        if !is_exec {
            let t = evt_type.unwrap_or_else(|| "?".to_string());
            out.ignore(
                line,
                IgnoreReason::UnsupportedKind,
                format!("falco evt.type {t}"),
                format!("Falco alert on {t} is not a process start"),
            );
            return;
        }
        out.event(exec_doc(doc, fields), line, None);
    }
}

fn exec_doc(alert: &Value, f: &Value) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Process);
    match timestamp(alert, f) {
        Some(t) => d.set("@timestamp", t),
        // Kept as written: a hunt then names the value it could not read,
        // where an absent time would say there was none.
        None => d.text("@timestamp", get_str(alert, "time").as_deref()),
    }
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec!["start"]);
    d.set("event.action", "exec");
    d.text("host.name", get_str(alert, "hostname").as_deref());
    d.text("rule.name", get_str(alert, "rule").as_deref());
    d.text("falco.priority", get_str(alert, "priority").as_deref());
    if let Some(Value::Array(tags)) = get(alert, "tags") {
        for t in tags.iter().filter_map(Value::as_str) {
            d.push_str("tags", t);
        }
    }

    if let Some(pid) = d.int(f, "output_fields", "proc.pid", "process.pid") {
        d.set("process.pid", pid);
    }
    if let Some(ppid) = d.int(f, "output_fields", "proc.ppid", "process.parent.pid") {
        d.set("process.parent.pid", ppid);
    }
    // `proc.name` is the task name (a busybox applet is `login`, not
    // `busybox`): it goes first so the executable's name does not win.
    d.text("process.name", field(f, "proc.name").as_deref());
    d.executable(
        "process",
        executable(f, "proc.exepath", "proc.exe").as_deref(),
    );
    d.command_line("process", field(f, "proc.cmdline").as_deref(), split_shell);
    d.text("process.working_directory", field(f, "proc.cwd").as_deref());
    d.text("process.parent.name", field(f, "proc.pname").as_deref());
    d.executable(
        "process.parent",
        executable(f, "proc.pexepath", "proc.pexe").as_deref(),
    );
    d.command_line(
        "process.parent",
        field(f, "proc.pcmdline").as_deref(),
        split_shell,
    );

    d.text("user.name", field(f, "user.name").as_deref());
    d.text("user.id", field(f, "user.uid").as_deref());
    // -1 and 4294967295: no login session.
    if let Some(login) = d
        .int(f, "output_fields", "user.loginuid", "user.audit.id")
        .filter(|l| *l >= 0 && *l != 4_294_967_295)
    {
        d.set("user.audit.id", login.to_string());
    }
    d.text(
        "container.id",
        field(f, "container.id").filter(|c| c != "host").as_deref(),
    );
    d.text("container.name", field(f, "container.name").as_deref());
    let image = field(f, "container.image.repository").or_else(|| field(f, "container.image"));
    d.text("container.image.name", image.as_deref());
    d.text(
        "container.image.tag",
        field(f, "container.image.tag").as_deref(),
    );
    d.text("orchestrator.namespace", field(f, "k8s.ns.name").as_deref());
    if let Some(pod) = field(f, "k8s.pod.name") {
        d.text("orchestrator.resource.name", Some(&pod));
        d.set("orchestrator.resource.type", "pod");
    }
    d
}

/// An output field's text, unless it is a placeholder (Falco writes `<NA>`
/// for a value it does not have, a parent it never saw): a fallback such
/// as `proc.exe` for `proc.exepath` is then read instead.
fn field(f: &Value, path: &str) -> Option<String> {
    get_str(f, path).filter(|v| !is_placeholder(v))
}

/// `proc.exepath` is the full path; `proc.exe` is argv[0] as typed and
/// only taken when it is absolute.
fn executable(f: &Value, full: &str, typed: &str) -> Option<String> {
    field(f, full).or_else(|| field(f, typed).filter(|e| e.starts_with('/')))
}

/// The alert's `time`, else `evt.time` (nanoseconds since the epoch, also
/// written under `evt.time.iso8601` as a number by some versions).
fn timestamp(alert: &Value, f: &Value) -> Option<String> {
    if let Some(t) = get_str(alert, "time").and_then(|t| iso_date(&t)) {
        return Some(t);
    }
    ["evt.time", "evt.time.iso8601"]
        .iter()
        .find_map(|k| match get(f, k)? {
            Value::Number(n) => n.as_i64().map(iso_nanos),
            Value::String(s) => iso_date(s),
            _ => None,
        })
}
