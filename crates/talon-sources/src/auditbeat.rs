//! Auditbeat / Elastic Agent auditd-module documents → Elastic Defend-shaped
//! ECS.
//!
//! These documents are ECS already, but not Defend's ECS: an exec is
//! `event.action: "executed"`, and `process.command_line` and the parent's
//! name and executable are missing (only `process.parent.pid`). An
//! `executed` event becomes `event.action: "exec"`, `event.type: ["start"]`,
//! gets `process.command_line` joined from `process.args` when it has none
//! (and `process.args_count`, `process.name`), and is left to the process
//! tree for its parent. Every other document is kept as it is and routed
//! to the data stream of its `event.category`; dotted and nested keys are
//! merged into one nested document.

use serde_json::Value;

use crate::doc::{EcsDoc, Kind};
use crate::norm::{get_str, DocNormalizer, Out};
use crate::stats::IgnoreReason;

pub(crate) struct Auditbeat;

impl DocNormalizer for Auditbeat {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        let Some(obj) = doc.as_object() else {
            out.ignore(
                line,
                IgnoreReason::NotARecord,
                "not an Auditbeat document",
                "not an object",
            );
            return;
        };
        let mut d = EcsDoc::new(kind_of(doc));
        for (k, v) in obj {
            d.merge(k, v);
        }
        let action = get_str(doc, "event.action").or_else(|| get_str(doc, "auditd.summary.action"));
        if action.as_deref() == Some("executed") {
            d.set("event.action", "exec");
            d.set("event.type", vec!["start"]);
            if !d.has("event.category") {
                d.set("event.category", vec!["process"]);
            }
            d.kind = Kind::Process;
            exec_fields(&mut d);
        }
        out.event(d, line, None);
    }
}

fn exec_fields(d: &mut EcsDoc) {
    let args: Vec<String> = match d.get("process.args") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    if !args.is_empty() && !d.has("process.args_count") {
        d.set("process.args_count", args.len() as u64);
    }
    if !args.is_empty() && !d.has("process.command_line") {
        d.set("process.command_line", crate::split::join_args(&args));
    }
    if !d.has("process.name") {
        let exe = d.get_str("process.executable").map(str::to_string);
        if let Some(base) = exe.as_deref().and_then(crate::doc::basename) {
            d.set("process.name", base);
        }
    }
}

/// The data stream a kept document goes to, from its first category.
fn kind_of(doc: &Value) -> Kind {
    let category = match crate::norm::get(doc, "event.category") {
        Some(Value::Array(c)) => c.first().and_then(Value::as_str).map(str::to_string),
        Some(Value::String(c)) => Some(c.clone()),
        _ => None,
    };
    match category.as_deref() {
        Some("network") => Kind::Network,
        Some("file") => Kind::File,
        Some("process") | None => Kind::Process,
        Some(_) => Kind::Security,
    }
}
