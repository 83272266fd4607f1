//! The normalized ECS document being built for one event, and the fields
//! every normalized event shares.
//!
//! Normalizers write dotted paths (`process.parent.pid`); the document keeps
//! them nested, so its JSON text is what `talon convert` writes and what
//! Elasticsearch would index. Guarantees:
//! - placeholders meaning "unknown" (`""`, `-`, `(null)`, `?`, `<NA>`) never become
//!   values: [`EcsDoc::text`] drops them, so the field stays absent;
//! - a path is written once per kind: setting a leaf replaces it, and
//!   setting below a leaf replaces the leaf with an object (never panics);
//! - [`EcsDoc::finish`] stamps the shared fields (ECS version, kind, source
//!   provenance, `host.os.type`, data stream and index) without overwriting
//!   what a normalizer already set.

use serde_json::{Map, Value};

use crate::norm::Int;
use crate::source::Source;
use crate::stats::ValueReason;

/// ECS version the normalized documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// What kind of Elastic Defend event a document is; decides its data
/// stream (`logs-endpoint.events.<kind>-<namespace>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Process,
    Network,
    File,
    Security,
}

impl Kind {
    fn dataset(self) -> &'static str {
        match self {
            Kind::Process => "endpoint.events.process",
            Kind::Network => "endpoint.events.network",
            Kind::File => "endpoint.events.file",
            Kind::Security => "endpoint.events.security",
        }
    }
}

/// True for the values sensors write when they do not know a value
/// (`<NA>` is Falco's: a parent it never saw).
pub(crate) fn is_placeholder(s: &str) -> bool {
    matches!(s.trim(), "" | "-" | "(null)" | "?" | "(none)" | "<NA>")
}

/// One normalized event under construction.
#[derive(Clone, Debug)]
pub(crate) struct EcsDoc {
    root: Map<String, Value>,
    pub kind: Kind,
    /// Overrides the `logs-endpoint.events.*` data stream dataset (S1 keeps
    /// its integration's own stream).
    pub dataset_override: Option<&'static str>,
    /// Leave `host.os.type` absent when the source does not give it (S1
    /// records come from every OS; assuming Linux would be wrong).
    pub no_default_os: bool,
    /// Values of the record present but unreadable, left out (or, bytes
    /// that are not UTF-8, read with U+FFFD): reported with the event,
    /// which is still produced.
    pub unread: Vec<Unread>,
}

/// Where an unreadable value is in its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ValueAt {
    /// Its path in the JSON document ([`crate::norm::locate`]'s).
    Path(String),
    /// A 1-based line and column of a text log (column 0: unknown).
    Column(u64, u64),
}

/// A value present in a record but unreadable: left out of its event, or
/// read with U+FFFD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unread {
    pub at: ValueAt,
    pub reason: ValueReason,
    pub detail: String,
}

impl EcsDoc {
    pub fn new(kind: Kind) -> EcsDoc {
        EcsDoc {
            root: Map::new(),
            kind,
            dataset_override: None,
            no_default_os: false,
            unread: Vec::new(),
        }
    }

    /// Notes a value of the record that is there but unreadable: `written`
    /// as written, which would have filled `field` (bytes that are not
    /// UTF-8: `field` is what was read with U+FFFD in their place).
    pub fn unreadable(&mut self, at: ValueAt, reason: ValueReason, written: &str, field: &str) {
        let detail = match reason {
            ValueReason::NotAnInteger => format!("{written} is not an integer: {field} left out"),
            ValueReason::OutOfRange => format!("{written} is out of range: {field} left out"),
            ValueReason::InvalidUtf8 => {
                format!("{written} is not UTF-8: {field} read with U+FFFD in its place")
            }
        };
        self.unread.push(Unread { at, reason, detail });
    }

    /// The integer at `path` of the record `v`, whose own path from the
    /// document's root is `prefix` (`output_fields`; empty: the root). One
    /// there but unreadable is noted for `field`, and `None`.
    pub fn int(&mut self, v: &Value, prefix: &str, path: &str, field: &str) -> Option<i64> {
        let at = || {
            ValueAt::Path(match prefix {
                "" => path.to_string(),
                _ => format!("{prefix}.{path}"),
            })
        };
        self.int_read(crate::norm::read_i64(v, path), path, at, field)
    }

    /// What [`EcsDoc::int`] answers for an integer already read, written
    /// under `key`: its value, or `None`, one there but unreadable noted
    /// at `at` for `field`.
    pub fn int_read(
        &mut self,
        int: Int,
        key: &str,
        at: impl FnOnce() -> ValueAt,
        field: &str,
    ) -> Option<i64> {
        match int {
            Int::Value(n) => Some(n),
            Int::Absent => None,
            Int::Unreadable(reason, written) => {
                self.unreadable(at(), reason, &format!("{key} {written}"), field);
                None
            }
        }
    }

    /// Merges a JSON value in at a dotted path: objects merge key by key
    /// (so `{"process.name": ..}` and `{"process": {..}}` meet), anything
    /// else replaces what is there.
    pub fn merge(&mut self, path: &str, value: &Value) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    self.merge(&format!("{path}.{k}"), v);
                }
            }
            other => self.set(path, other.clone()),
        }
    }

    /// Sets a value at a dotted path; nulls are ignored.
    pub fn set(&mut self, path: &str, value: impl Into<Value>) {
        let value = value.into();
        if value.is_null() {
            return;
        }
        let mut map = &mut self.root;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return;
            }
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(m) => map = m,
                _ => return,
            }
        }
    }

    /// Sets a string unless it is absent or a placeholder.
    pub fn text(&mut self, path: &str, value: Option<&str>) {
        if let Some(v) = value {
            if !is_placeholder(v) {
                self.set(path, v);
            }
        }
    }

    /// Sets a string array unless it is empty. Elements are kept as they
    /// are: an argument may legitimately be `-`.
    pub fn strings(&mut self, path: &str, values: &[String]) {
        if !values.is_empty() {
            self.set(
                path,
                Value::Array(values.iter().map(|s| Value::from(s.as_str())).collect()),
            );
        }
    }

    /// Sets `<prefix>.args`, `.args_count` and `.command_line` from an argv
    /// (the command line is the arguments joined by spaces) unless the
    /// command line is already known.
    pub fn argv(&mut self, prefix: &str, args: &[String]) {
        if args.is_empty() {
            return;
        }
        self.strings(&format!("{prefix}.args"), args);
        self.set(&format!("{prefix}.args_count"), args.len() as u64);
        let cl = format!("{prefix}.command_line");
        if !self.has(&cl) {
            self.set(&cl, crate::split::join_args(args));
        }
    }

    /// Sets `<prefix>.command_line` and, with `split`, `.args` and
    /// `.args_count` from it.
    pub fn command_line(
        &mut self,
        prefix: &str,
        line: Option<&str>,
        split: fn(&str) -> Vec<String>,
    ) {
        let Some(line) = line.filter(|l| !is_placeholder(l)) else {
            return;
        };
        self.set(&format!("{prefix}.command_line"), line);
        let args = split(line);
        if !args.is_empty() {
            self.strings(&format!("{prefix}.args"), &args);
            self.set(&format!("{prefix}.args_count"), args.len() as u64);
        }
    }

    /// Sets `<prefix>.executable` and `<prefix>.name` (its last path
    /// component, unless a name is already set).
    pub fn executable(&mut self, prefix: &str, path: Option<&str>) {
        let Some(path) = path.filter(|p| !is_placeholder(p)) else {
            return;
        };
        self.set(&format!("{prefix}.executable"), path);
        let name = format!("{prefix}.name");
        if !self.has(&name) {
            if let Some(base) = basename(path) {
                self.set(&name, base);
            }
        }
    }

    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut cur = &self.root;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let v = cur.get(part)?;
            if parts.peek().is_none() {
                return Some(v);
            }
            cur = v.as_object()?;
        }
        None
    }

    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    pub fn get_i64(&self, path: &str) -> Option<i64> {
        match self.get(path)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn has(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// Appends a string to an array field, creating it.
    pub fn push_str(&mut self, path: &str, value: &str) {
        match self.get(path).cloned() {
            Some(Value::Array(mut items)) => {
                items.push(Value::from(value));
                self.set(path, Value::Array(items));
            }
            _ => self.set(path, Value::Array(vec![Value::from(value)])),
        }
    }

    /// Stamps the fields every normalized event carries and returns the
    /// index the event belongs to.
    pub fn finish(&mut self, source: Source, opts: &FinishOptions<'_>) -> String {
        self.default("ecs.version", ECS_VERSION);
        self.default("event.kind", "event");
        self.default("event.module", source.module());
        self.default("event.dataset", source.dataset());
        self.default("agent.type", source.agent_type());
        if !self.no_default_os {
            self.default("host.os.type", "linux");
        }
        if let Some(host) = opts.host {
            self.default("host.name", host);
        }
        let dataset = self.dataset_override.unwrap_or(self.kind.dataset());
        self.set("data_stream.type", "logs");
        self.set("data_stream.dataset", dataset);
        self.set("data_stream.namespace", opts.namespace);
        format!("logs-{dataset}-{}", opts.namespace)
    }

    fn default(&mut self, path: &str, value: &str) {
        if !self.has(path) {
            self.set(path, value);
        }
    }

    /// The document as one JSON text.
    pub fn to_json(&self) -> String {
        // Serializing a map of JSON values cannot fail; an empty object is a
        // safe answer should that ever change.
        serde_json::to_string(&self.root).unwrap_or_else(|_| "{}".to_string())
    }
}

/// What [`EcsDoc::finish`] needs from the reader's options.
pub(crate) struct FinishOptions<'a> {
    pub namespace: &'a str,
    pub host: Option<&'a str>,
}

/// The last component of a path (`/usr/sbin/sysctl` → `sysctl`); `None` for
/// an empty one (`/`).
pub(crate) fn basename(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
    (!base.is_empty()).then_some(base)
}

/// Epoch nanoseconds as an ECS date: millisecond precision unless the
/// source had finer (then nanoseconds, which `date_nanos` keeps).
pub(crate) fn iso_nanos(nanos: i64) -> String {
    if nanos % 1_000_000 == 0 {
        talon_event::time::format_millis(nanos)
    } else {
        talon_event::time::format_nanos(nanos)
    }
}

/// A date string in any form Elasticsearch reads (ISO 8601, `yyyy-MM-dd
/// HH:mm:ss.SSS` in UTC, epoch millis) as epoch nanoseconds.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    talon_event::time::parse_str_nanos(s)
}

/// A date string re-rendered as an ECS date; `None` if unreadable.
pub(crate) fn iso_date(s: &str) -> Option<String> {
    parse_date(s).map(iso_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_nest_and_placeholders_stay_absent() {
        let mut d = EcsDoc::new(Kind::Process);
        d.set("process.parent.pid", 7);
        d.text("process.parent.executable", Some("-"));
        d.text("process.parent.name", Some("(null)"));
        d.executable("process", Some("/usr/sbin/sysctl"));
        d.argv("process", &["sysctl".into(), "-w".into(), "a=1".into()]);
        let index = d.finish(
            Source::Auditd,
            &FinishOptions {
                namespace: "default",
                host: None,
            },
        );
        assert_eq!(index, "logs-endpoint.events.process-default");
        let v: Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(v["process"]["parent"], serde_json::json!({"pid": 7}));
        assert_eq!(v["process"]["name"], "sysctl");
        assert_eq!(v["process"]["command_line"], "sysctl -w a=1");
        assert_eq!(v["process"]["args_count"], 3);
        assert_eq!(v["data_stream"]["dataset"], "endpoint.events.process");
        assert_eq!(v["host"]["os"]["type"], "linux");
    }

    #[test]
    fn setting_below_a_leaf_replaces_it() {
        let mut d = EcsDoc::new(Kind::Process);
        d.set("a", 1);
        d.set("a.b", 2);
        assert_eq!(d.get_i64("a.b"), Some(2));
        assert_eq!(basename("/"), None);
        assert_eq!(basename("bash"), Some("bash"));
        assert_eq!(basename("/bin/"), Some("bin"));
    }

    #[test]
    fn dates_render_at_the_precision_they_have() {
        assert_eq!(
            iso_date("2021-10-16 00:41:20.017").as_deref(),
            Some("2021-10-16T00:41:20.017Z")
        );
        assert_eq!(
            iso_date("2022-10-18T03:16:18.273546829Z").as_deref(),
            Some("2022-10-18T03:16:18.273546829Z")
        );
        assert_eq!(
            iso_nanos(1_481_077_231_371_000_000),
            "2016-12-07T02:20:31.371Z"
        );
        assert_eq!(iso_date("yesterday"), None);
    }
}
