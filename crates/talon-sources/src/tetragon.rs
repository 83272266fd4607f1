//! Cilium Tetragon JSON export → process (and connect) events.
//!
//! Each export line (or pretty-printed object) has one top-level key naming
//! the event: `process_exec` → a process start, `process_exit` → a process
//! end, `process_connect` (older releases) → a network connection. Kprobe,
//! tracepoint and LSM events are counted as ignored by kind.
//!
//! Tetragon gives the process *and* its parent (`binary`, `arguments`,
//! `pid`, `cwd`, `start_time`, `exec_id`), so no tree is needed. Its
//! `arguments` is ONE string without argv[0]: `process.args` is the binary
//! followed by [`split_shell`] of that string, which is lossy (an argument
//! holding spaces that Tetragon did not quote comes back split), and
//! `process.command_line` is the binary and the string as Tetragon wrote it.

use serde_json::Value;

use crate::doc::{iso_date, EcsDoc, Kind};
use crate::norm::{get, get_str, DocNormalizer, Out};
use crate::split::split_shell;
use crate::stats::IgnoreReason;

/// The unset login uid.
const UNSET: i64 = 4_294_967_295;

pub(crate) struct Tetragon;

impl DocNormalizer for Tetragon {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        let Some(obj) = doc.as_object() else {
            out.ignore(
                line,
                IgnoreReason::NotARecord,
                "not a Tetragon event",
                "not an object",
            );
            return;
        };
        let kind = obj.keys().find(|k| k.starts_with("process_")).cloned();
        let Some(kind) = kind else {
            out.ignore(
                line,
                IgnoreReason::NotARecord,
                "not a Tetragon event",
                "JSON document without a process_* event",
            );
            return;
        };
        let body = &obj[&kind];
        // Every kind mapped is about a process: without one there is no
        // event to speak of (`"process": null`, or `{}`).
        if get(body, "process").is_none_or(|p| p.as_object().is_none_or(|o| o.is_empty())) {
            out.ignore(
                line,
                IgnoreReason::MissingFields,
                format!("tetragon {kind} without process"),
                format!("Tetragon {kind} event without a `process` object"),
            );
            return;
        }
        let mut d = match kind.as_str() {
            "process_exec" => lifecycle(body, &kind, "start", "exec"),
            "process_exit" => lifecycle(body, &kind, "end", "end"),
            "process_connect" => connect(body, &kind),
            other => {
                out.ignore(
                    line,
                    IgnoreReason::UnsupportedKind,
                    format!("tetragon {other}"),
                    format!("Tetragon {other} events are not mapped"),
                );
                return;
            }
        };
        // Some exports omit `time`; an exec happens when its process starts.
        // The first of them that reads as a date (a value that does not
        // is passed over, as a missing one is).
        let start = get_str(body, "process.start_time").filter(|_| kind == "process_exec");
        let time = [get_str(doc, "time"), get_str(body, "time"), start]
            .into_iter()
            .flatten()
            .find_map(|t| iso_date(&t));
        if let Some(t) = time {
            d.set("@timestamp", t);
        }
        d.text("host.name", get_str(doc, "node_name").as_deref());
        out.event(d, line, None);
    }
}

/// `kind`: the body's key (`process_exec`), where its values are.
fn lifecycle(body: &Value, kind: &str, event_type: &str, action: &str) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Process);
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec![event_type]);
    d.set("event.action", action);
    if let Some(p) = get(body, "process") {
        let at = format!("{kind}.process");
        process(&mut d, "process", p, &at);
        user(&mut d, p, &at);
        container(&mut d, p);
    }
    if let Some(p) = get(body, "parent") {
        process(&mut d, "process.parent", p, &format!("{kind}.parent"));
    }
    if action == "end" {
        if let Some(code) = d.int(body, kind, "status", "process.exit_code") {
            d.set("process.exit_code", code);
        }
        d.text("tetragon.signal", get_str(body, "signal").as_deref());
    }
    d
}

fn connect(body: &Value, kind: &str) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Network);
    d.set("event.category", vec!["network"]);
    d.set("event.type", vec!["start"]);
    d.set("event.action", "connection_attempted");
    d.set("network.direction", "egress");
    if let Some(p) = get(body, "process") {
        let at = format!("{kind}.process");
        process(&mut d, "process", p, &at);
        user(&mut d, p, &at);
        container(&mut d, p);
    }
    if let Some(p) = get(body, "parent") {
        process(&mut d, "process.parent", p, &format!("{kind}.parent"));
    }
    for side in ["source", "destination"] {
        d.text(
            &format!("{side}.ip"),
            get_str(body, &format!("{side}_ip")).as_deref(),
        );
        let field = format!("{side}.port");
        if let Some(port) = d.int(body, kind, &format!("{side}_port"), &field) {
            d.set(&field, port);
        }
    }
    let transport = get_str(body, "protocol").map(|p| p.to_ascii_lowercase());
    d.text("network.transport", transport.as_deref());
    d
}

/// One Tetragon process object under `prefix`; `at` is its path in the
/// document.
fn process(d: &mut EcsDoc, prefix: &str, p: &Value, at: &str) {
    d.text(
        &format!("{prefix}.entity_id"),
        get_str(p, "exec_id").as_deref(),
    );
    let field = format!("{prefix}.pid");
    if let Some(pid) = d.int(p, at, "pid", &field) {
        d.set(&field, pid);
    }
    let binary = get_str(p, "binary");
    d.executable(prefix, binary.as_deref());
    let arguments = get_str(p, "arguments").unwrap_or_default();
    if let Some(bin) = binary.as_deref().filter(|b| !b.is_empty()) {
        let mut args = vec![bin.to_string()];
        args.extend(split_shell(&arguments));
        d.strings(&format!("{prefix}.args"), &args);
        d.set(&format!("{prefix}.args_count"), args.len() as u64);
        let line = if arguments.is_empty() {
            bin.to_string()
        } else {
            format!("{bin} {arguments}")
        };
        d.set(&format!("{prefix}.command_line"), line);
    }
    d.text(
        &format!("{prefix}.working_directory"),
        get_str(p, "cwd").as_deref(),
    );
    if let Some(start) = get_str(p, "start_time").as_deref().and_then(iso_date) {
        d.set(&format!("{prefix}.start"), start);
    }
}

/// The user of the process object `p`, at `at` in the document.
fn user(d: &mut EcsDoc, p: &Value, at: &str) {
    if let Some(uid) = d.int(p, at, "uid", "user.id") {
        d.set("user.id", uid.to_string());
    }
    if let Some(auid) = d
        .int(p, at, "auid", "user.audit.id")
        .filter(|a| *a != UNSET)
    {
        d.set("user.audit.id", auid.to_string());
    }
}

/// Kubernetes pod and container, when the process runs in one.
fn container(d: &mut EcsDoc, p: &Value) {
    let Some(pod) = get(p, "pod") else {
        // Outside Kubernetes only the (shortened) Docker id may be known.
        d.text("container.id", get_str(p, "docker").as_deref());
        return;
    };
    d.text(
        "orchestrator.namespace",
        get_str(pod, "namespace").as_deref(),
    );
    if let Some(name) = get_str(pod, "name") {
        d.set("orchestrator.resource.name", name);
        d.set("orchestrator.resource.type", "pod");
    }
    let id = get_str(pod, "container.id").or_else(|| get_str(p, "docker"));
    // `containerd://<id>`: the runtime prefix is not part of the id.
    let id = id.map(|i| i.rsplit("://").next().unwrap_or(&i).to_string());
    d.text("container.id", id.as_deref());
    d.text("container.name", get_str(pod, "container.name").as_deref());
    d.text(
        "container.image.name",
        get_str(pod, "container.image.name").as_deref(),
    );
}
