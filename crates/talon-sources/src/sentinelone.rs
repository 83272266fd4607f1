//! SentinelOne Cloud Funnel raw events → ECS, the way Elastic's
//! `sentinel_one_cloud_funnel` integration maps them.
//!
//! Cloud Funnel writes flat dotted keys: `src.process.*` is the process
//! that acted (for a `ProcessCreation`, the creator), `tgt.process.*` the
//! process acted on (the new one). Following the integration:
//! - `process.*` ← `tgt.process.*`, `process.parent.*` ← `src.process.*`;
//! - `event.type: ["start"]` and `event.action: ["start"]` (an array: the
//!   integration copies the type) for `PROCESSCREATION`, `["end"]` for
//!   process exit/termination;
//! - `process.args` is the command line split with the Windows
//!   `CommandLineToArgvW` rules ([`split_windows`]) on every OS, after one
//!   pair of enclosing double quotes is removed, exactly as the
//!   integration's script does, so rules see what Elasticsearch would hold;
//! - `host.os.type` from `endpoint.os` only for the OS names ECS knows;
//! - the index is `logs-sentinel_one_cloud_funnel.event-<namespace>`.
//!
//! The integration's own `sentinel_one_cloud_funnel.event.*` copies of the
//! raw keys are not reproduced. Other event types (file, network,
//! registry…) are counted as ignored by type.

use serde_json::Value;

use crate::doc::{iso_nanos, parse_date, EcsDoc, Kind};
use crate::norm::{get, get_str, DocNormalizer, Out};
use crate::split::split_windows;
use crate::stats::IgnoreReason;

pub(crate) struct SentinelOne;

/// The OS names the integration copies to `host.os.type`.
const OS_TYPES: [&str; 5] = ["linux", "windows", "macos", "ios", "android"];

impl DocNormalizer for SentinelOne {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        let event_type = get_str(doc, "event.type");
        let meta = get_str(doc, "meta.event.name");
        let phase = match (meta.as_deref(), event_type.as_deref()) {
            (Some("PROCESSCREATION"), _) | (_, Some("ProcessCreation" | "Process Creation")) => {
                "start"
            }
            (
                _,
                Some("ProcessExit" | "ProcessTermination" | "Process Exit" | "Process Termination"),
            ) => "end",
            _ => {
                if get(doc, "event.type").is_none() && get(doc, "tgt.process.pid").is_none() {
                    out.ignore(
                        line,
                        IgnoreReason::NotARecord,
                        "not a Cloud Funnel event",
                        "JSON document without event.type or tgt.process",
                    );
                } else {
                    let t = event_type.or(meta).unwrap_or_else(|| "?".to_string());
                    out.ignore(
                        line,
                        IgnoreReason::UnsupportedKind,
                        format!("sentinelone {t}"),
                        format!("Cloud Funnel {t} events are not mapped"),
                    );
                }
                return;
            }
        };
        out.event(process_doc(doc, phase), line, None);
    }
}

fn process_doc(doc: &Value, phase: &str) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Process);
    d.dataset_override = Some("sentinel_one_cloud_funnel.event");
    d.no_default_os = true;
    if let Some(t) = date(doc, "event.time") {
        d.set("@timestamp", t);
    }
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec![phase]);
    d.set("event.action", vec![phase]);
    d.text("event.id", get_str(doc, "event.id").as_deref());
    d.text("group.id", get_str(doc, "group.id").as_deref());

    let endpoint_name = get_str(doc, "endpoint.name");
    let os = get_str(doc, "endpoint.os");
    let endpoint_type = get_str(doc, "endpoint.type");
    d.text("host.hostname", endpoint_name.as_deref());
    d.text("host.id", get_str(doc, "agent.uuid").as_deref());
    d.text("host.os.name", get_str(doc, "os.name").as_deref());
    d.text("host.os.platform", os.as_deref());
    if let Some(os) = os.as_deref().filter(|o| OS_TYPES.contains(o)) {
        d.set("host.os.type", os);
    }
    d.text("host.type", endpoint_type.as_deref());

    process(&mut d, "process", doc, "tgt.process");
    process(&mut d, "process.parent", doc, "src.process");
    if let Some(user) =
        get_str(doc, "src.process.user").or_else(|| get_str(doc, "tgt.process.user"))
    {
        match user.split_once('\\') {
            Some((domain, name)) => {
                d.text("user.domain", Some(domain));
                d.text("user.name", Some(name));
            }
            None => d.text("user.name", Some(&user)),
        }
    }

    let mut hashes = Vec::new();
    for who in [
        "src.process.image",
        "src.process.parent.image",
        "tgt.process.image",
    ] {
        // The integration appends the parent's sha1 and sha256 before its
        // md5; the order is kept so documents compare equal.
        let order: &[&str] = if who == "src.process.parent.image" {
            &["sha1", "sha256", "md5"]
        } else {
            &["md5", "sha1", "sha256"]
        };
        for algo in order {
            hashes.extend(get_str(doc, &format!("{who}.{algo}")));
        }
    }
    related(&mut d, "related.hash", hashes);
    related(
        &mut d,
        "related.hosts",
        [endpoint_name, os, endpoint_type]
            .into_iter()
            .flatten()
            .collect(),
    );
    let users = [
        "src.process.parent.user",
        "src.process.user",
        "tgt.process.user",
    ];
    related(
        &mut d,
        "related.user",
        users.iter().filter_map(|k| get_str(doc, k)).collect(),
    );
    d
}

/// One side of the creation: `prefix` (`process`, `process.parent`) from
/// the Cloud Funnel keys under `from` (`tgt.process`, `src.process`).
fn process(d: &mut EcsDoc, prefix: &str, doc: &Value, from: &str) {
    let key = |k: &str| format!("{from}.{k}");
    d.text(
        &format!("{prefix}.name"),
        get_str(doc, &key("name")).as_deref(),
    );
    d.executable(prefix, get_str(doc, &key("image.path")).as_deref());
    let field = format!("{prefix}.pid");
    if let Some(pid) = d.int(doc, "", &key("pid"), &field) {
        d.set(&field, pid);
    }
    d.text(
        &format!("{prefix}.entity_id"),
        get_str(doc, &key("uid")).as_deref(),
    );
    let cmdline = get_str(doc, &key("cmdline")).map(|c| strip_quotes(&c).to_string());
    d.command_line(prefix, cmdline.as_deref(), split_windows);
    for algo in ["md5", "sha1", "sha256"] {
        d.text(
            &format!("{prefix}.hash.{algo}"),
            get_str(doc, &key(&format!("image.{algo}"))).as_deref(),
        );
    }
    if let Some(start) = date(doc, &key("startTime")) {
        d.set(&format!("{prefix}.start"), start);
    }
    d.text(
        &format!("{prefix}.title"),
        get_str(doc, &key("displayName")).as_deref(),
    );
    d.text(
        &format!("{prefix}.user.name"),
        get_str(doc, &key("user")).as_deref(),
    );
    if let Some(signed) = get_str(doc, &key("signedStatus")) {
        let exists = signed == "signed";
        d.set(&format!("{prefix}.code_signature.exists"), exists);
        d.text(
            &format!("{prefix}.code_signature.subject_name"),
            get_str(doc, &key("publisher")).as_deref(),
        );
        let verified = get_str(doc, &key("verifiedStatus")).is_some_and(|v| v == "verified");
        if verified || exists {
            d.set(&format!("{prefix}.code_signature.trusted"), verified);
        }
    }
}

/// Epoch milliseconds (number or digits) or an ISO string.
fn date(doc: &Value, path: &str) -> Option<String> {
    match get(doc, path)? {
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .map(iso_nanos),
        Value::String(s) => parse_date(s).map(iso_nanos),
        _ => None,
    }
}

/// Removes one pair of enclosing double quotes.
fn strip_quotes(s: &str) -> &str {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => s,
    }
}

/// An array of distinct values, in first-seen order.
fn related(d: &mut EcsDoc, path: &str, values: Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    for v in values {
        if !v.is_empty() && !seen.contains(&v) {
            seen.push(v);
        }
    }
    d.strings(path, &seen);
}
