//! Kibana rule exports: the NDJSON that the detection engine's rule export
//! (and the saved-objects export) writes, plus a `.json` file holding one
//! rule object or an array of them.
//!
//! Each line is classified, not guessed at:
//! * a rule in the detection-engine API shape (`rule_id`, `name`, `type`,
//!   ...) becomes a [`Rule`](crate::Rule), unknown fields kept in `extra`;
//! * a saved object of type `alert` (`attributes.params` in camelCase) is
//!   converted to the API shape first;
//! * the trailing `{"exported_count": ..}` summary is counted (and checked
//!   against what the file holds: a disagreement is a warning);
//! * exception lists and items (`list_id`, `item_id`, `entries`) are kept as
//!   raw JSON in the report for later use, and counted;
//! * other saved objects (connectors) are counted as skipped;
//! * anything else, and invalid JSON, is a [`LoadError`] at its line/column.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};
use talon_event::json_span::{array_elements, object_members, skip_ws};

use crate::error::{LoadError, LoadErrorKind};
use crate::fields::{build_rule, placed_in_order, Step};
use crate::jsonspan::{nested_span, path_span};
use crate::load::{ExportedException, FileOutcome, Loaded};
use crate::rule::{RuleFormat, RuleOrigin};
use crate::strings::{identity_offsets, json_string};

/// Per-file state while reading objects.
struct Reader<'a> {
    text: Arc<str>,
    path: &'a Path,
    out: FileOutcome,
    /// Rule objects met (loaded or failed), to check the export summary.
    rule_objects: usize,
    /// NDJSON lines that are not valid JSON: whether each was a rule
    /// cannot be told, so the summary check counts them apart.
    broken_lines: usize,
    /// `exported_rules_count` (or `exported_count`) of the summary, with the
    /// summary's span.
    summary: Option<(u64, Range<usize>)>,
    /// Objects that are neither rules, exception objects nor summaries,
    /// and where the first one not reported on its own stands.
    unrecognized: usize,
    first_unreported: Option<usize>,
}

/// Objects of one file reported one by one as not rules; the rest are
/// counted in one error (an event file given as rules has thousands).
const UNRECOGNIZED_SHOWN: usize = 3;

pub(crate) fn load_kibana(text: Arc<str>, path: &Path) -> FileOutcome {
    let mut r = Reader {
        text: text.clone(),
        path,
        out: FileOutcome::default(),
        rule_objects: 0,
        broken_lines: 0,
        summary: None,
        unrecognized: 0,
        first_unreported: None,
    };
    let body = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let start = skip_ws(text.as_bytes(), body);
    if start >= text.len() {
        r.out.not_rules = true;
        r.out.errors.push(LoadError::file(
            path,
            LoadErrorKind::NotARule,
            "empty file: no rules in it",
        ));
        return r.out;
    }
    match serde_json::from_str::<Value>(&text[body..]) {
        Ok(Value::Array(items)) => {
            let spans = array_elements(&text, start).unwrap_or_default();
            for (i, item) in items.into_iter().enumerate() {
                let at = spans.get(i).map(|s| s.start).unwrap_or(start);
                r.object(item, at);
            }
        }
        Ok(v) => r.object(v, start),
        Err(e) if whole_document(&text, start) => {
            r.out.errors.push(json_error(path, &text, body, &e));
        }
        Err(_) => r.lines(body),
    }
    r.finish()
}

/// Whether a parse failure is about the whole text (a pretty-printed JSON
/// document) rather than one line of NDJSON: true when there is only one
/// line, or when no line is a complete JSON object on its own. A broken
/// first line (an export cut short, a hand edit) does not make the file a
/// document: the lines after it that parse alone show it is NDJSON, and
/// the broken line is reported at its own line and column.
fn whole_document(text: &str, start: usize) -> bool {
    let rest = &text[start..];
    let Some((first, more)) = rest.split_once('\n') else {
        return true;
    };
    if more.trim().is_empty() {
        return true;
    }
    let is_object = |line: &str| {
        let line = line.trim();
        line.starts_with('{') && matches!(serde_json::from_str::<Value>(line), Ok(Value::Object(_)))
    };
    !(is_object(first) || more.lines().any(is_object))
}

/// A serde_json error at its line/column of `text[base..]`, as a file error.
fn json_error(path: &Path, text: &str, base: usize, e: &serde_json::Error) -> LoadError {
    let sub = &text[base..];
    let line_start: usize = sub
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (base + line_start + e.column().saturating_sub(1)).min(text.len());
    let msg = format!("invalid JSON: {}", strip_position(&e.to_string()));
    LoadError::at(path, text, at..at + 1, LoadErrorKind::Syntax, msg)
}

/// serde_json appends " at line L column C", which LoadError prints itself.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

impl Reader<'_> {
    fn lines(&mut self, body: usize) {
        let text = self.text.clone();
        let mut pos = body;
        for raw in text[body..].split_inclusive('\n') {
            let line_start = pos;
            pos += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            let start = skip_ws(text.as_bytes(), line_start);
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => self.object(v, start),
                Err(e) => {
                    self.broken_lines += 1;
                    let e = json_error(self.path, &text, line_start, &e);
                    self.out.errors.push(e);
                }
            }
        }
    }

    fn error(&mut self, span: Range<usize>, kind: LoadErrorKind, msg: impl Into<String>) {
        let e = LoadError::at(self.path, &self.text, span, kind, msg);
        self.out.errors.push(e);
    }

    /// Classifies one JSON value whose first byte is at `start`.
    fn object(&mut self, value: Value, start: usize) {
        let Value::Object(obj) = value else {
            let msg = "expected a JSON object (a rule, an exception list or an export summary)";
            self.error(start..start + 1, LoadErrorKind::UnrecognizedObject, msg);
            return;
        };
        let has = |k: &str| obj.contains_key(k);
        if has("rule_id") || (has("name") && has("type") && (has("risk_score") || has("severity")))
        {
            self.api_rule(obj, start);
        } else if has("exported_count") || has("exported_rules_count") || has("exportedCount") {
            self.summary_line(&obj, start);
        } else if has("list_id") || (has("item_id") && has("entries")) {
            self.exception(obj, start);
        } else if let (Some(Value::Object(_)), Some(Value::String(t))) =
            (obj.get("attributes"), obj.get("type"))
        {
            match t.as_str() {
                "alert" | "rule" => self.saved_object_rule(obj, start),
                "exception-list" | "exception-list-agnostic" => self.exception(obj, start),
                _ => self.out.skipped.other_saved_objects += 1,
            }
        } else {
            self.unrecognized(&obj, start);
        }
    }

    /// An object that is no rule, exception object or summary: reported,
    /// with a hint when it looks like an event, up to
    /// [`UNRECOGNIZED_SHOWN`] a file; the rest are counted by
    /// [`Reader::finish`].
    fn unrecognized(&mut self, obj: &Map<String, Value>, start: usize) {
        self.unrecognized += 1;
        if self.unrecognized > UNRECOGNIZED_SHOWN {
            self.first_unreported.get_or_insert(start);
            return;
        }
        let msg = "JSON object is not a rule, an exception list or item, or an export summary";
        let event_key = ["@timestamp", "event", "_source"]
            .into_iter()
            .find(|k| obj.contains_key(*k));
        match event_key {
            Some(k) => self.error(
                start..start + 1,
                LoadErrorKind::UnrecognizedObject,
                format!(
                    "{msg}; it looks like an event (it has `{k}`): events are read from the \
                     inputs, not from --rules"
                ),
            ),
            None => self.error(start..start + 1, LoadErrorKind::UnrecognizedObject, msg),
        }
    }

    /// Keeps an exception list or item, with where it stands, for whoever
    /// applies exceptions (and reports their problems) later.
    fn exception(&mut self, obj: Map<String, Value>, start: usize) {
        self.out.skipped.exception_objects += 1;
        self.out.exceptions.push(ExportedException {
            value: Value::Object(obj),
            path: self.path.to_path_buf(),
            text: self.text.clone(),
            start,
        });
    }

    fn summary_line(&mut self, obj: &Map<String, Value>, start: usize) {
        self.out.skipped.export_summaries += 1;
        let count = ["exported_rules_count", "exported_count", "exportedCount"]
            .iter()
            .find_map(|k| obj.get(*k).and_then(Value::as_u64).map(|n| (*k, n)));
        if let Some((key, n)) = count {
            // Without `exported_rules_count`, `exported_count` counts every
            // object exported: exception lists and items too (older Kibana
            // exported none, so there it is the rules alone).
            let n = match key {
                "exported_rules_count" => n,
                _ => n.saturating_sub(self.out.skipped.exception_objects as u64),
            };
            self.summary = Some((n, start..start + 1));
        }
        let missing = obj
            .get("missing_rules")
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if missing > 0 {
            let msg = format!(
                "the export summary lists {missing} missing rule(s) that are not in this file"
            );
            let w = LoadError::at(
                self.path,
                &self.text,
                start..start + 1,
                LoadErrorKind::ExportMismatch,
                msg,
            );
            self.out.warnings.push(w);
        }
    }

    /// A rule in the detection-engine API shape at `start`.
    fn api_rule(&mut self, map: Map<String, Value>, start: usize) {
        self.rule_objects += 1;
        let members = object_members(&self.text, start).unwrap_or_default();
        let span_of = |k: &str| members.iter().find(|m| m.key == k).map(|m| m.value.clone());
        let query_span = span_of("query");
        let rule_id_span = span_of("rule_id");
        let key_span = |k: &str| span_of(k);
        self.build(map, start, query_span, rule_id_span, &key_span);
    }

    /// A saved object `{"type": "alert", "attributes": {"params": {..}}}`:
    /// params are the rule fields in camelCase; name, tags, enabled and the
    /// schedule sit beside them. The rest of the object is kept in
    /// `extra["saved_object"]`.
    fn saved_object_rule(&mut self, mut obj: Map<String, Value>, start: usize) {
        self.rule_objects += 1;
        let mut map = Map::new();
        if let Some(Value::Object(attrs)) = obj.get_mut("attributes") {
            if let Some(Value::Object(params)) = attrs.remove("params") {
                for (k, v) in params {
                    map.insert(snake_case(&k), v);
                }
            }
            for k in ["name", "tags", "enabled"] {
                if let Some(v) = attrs.remove(k) {
                    map.insert(k.to_string(), v);
                }
            }
            if let Some(i) = attrs
                .get("schedule")
                .and_then(|s| s.get("interval"))
                .cloned()
            {
                map.insert("interval".to_string(), i);
            }
        }
        if let Some(id) = obj.get("id").cloned() {
            map.entry("id").or_insert(id);
        }
        map.insert("saved_object".to_string(), Value::Object(obj));
        let text = self.text.clone();
        let query_span = path_span(&text, start, &["attributes", "params", "query"]);
        let rule_id_span = path_span(&text, start, &["attributes", "params", "ruleId"]);
        let key_span = |k: &str| match k {
            "name" | "tags" | "enabled" => path_span(&text, start, &["attributes", k]),
            "interval" => path_span(&text, start, &["attributes", "schedule", "interval"]),
            _ => path_span(&text, start, &["attributes", "params", &camel_case(k)]),
        };
        self.build(map, start, query_span, rule_id_span, &key_span);
    }

    fn build(
        &mut self,
        map: Map<String, Value>,
        start: usize,
        query_span: Option<Range<usize>>,
        rule_id_span: Option<Range<usize>>,
        key_span: &dyn Fn(&str) -> Option<Range<usize>>,
    ) {
        let offsets = match (map.get("query").and_then(Value::as_str), query_span) {
            (Some(q), Some(span)) => query_offsets(&self.text, span, q),
            _ => Vec::new(),
        };
        let origin = RuleOrigin {
            path: self.path.to_path_buf(),
            format: RuleFormat::KibanaNdjson,
            text: self.text.clone(),
            query_offsets: Arc::from(offsets),
        };
        let text = &self.text;
        let span_of = |key: Option<&str>, within: &[Step]| match key.and_then(key_span) {
            Some(span) => nested_span(text, span, within),
            None => start..start + 1,
        };
        match build_rule(map, Map::new(), origin) {
            Ok(built) => {
                let rule = built.placed(self.path, &self.text, &span_of);
                self.out.rules.push(Loaded { rule, rule_id_span });
            }
            Err(es) => self
                .out
                .errors
                .extend(placed_in_order(es, self.path, &self.text, &span_of)),
        }
    }

    fn finish(mut self) -> FileOutcome {
        if let Some(at) = self.first_unreported {
            let more = self.unrecognized - UNRECOGNIZED_SHOWN;
            let msg = match more {
                1 => "1 more JSON object from here on is not a rule either".to_string(),
                _ => format!("{more} more JSON objects from here on are not rules either"),
            };
            self.error(at..at + 1, LoadErrorKind::UnrecognizedObject, msg);
        }
        if let Some((n, span)) = self.summary.take() {
            if n != self.rule_objects as u64 {
                // A line that is not JSON was most likely one of the
                // rules: it counts among the lines, not the rules read.
                let lines = (self.rule_objects + self.broken_lines) as u64;
                let read = self.rule_objects;
                let broken = self.broken_lines;
                let said = format!("the export summary says {n} rule(s) were exported");
                let msg = if broken == 0 {
                    format!("{said}, but this file holds {read}")
                } else if lines == n {
                    // The count agrees with the lines: some were damaged.
                    format!(
                        "{said}, and this file holds {lines} rule lines, but only {read} can be \
                         read ({broken} not valid JSON)"
                    )
                } else {
                    format!(
                        "{said}, but this file holds {lines} rule lines, of which {read} can be \
                         read ({broken} not valid JSON)"
                    )
                };
                let w = LoadError::at(
                    self.path,
                    &self.text,
                    span,
                    LoadErrorKind::ExportMismatch,
                    msg,
                );
                self.out.warnings.push(w);
            }
        }
        let nothing = self.rule_objects == 0
            && self.out.exceptions.is_empty()
            && self.out.skipped.total() == 0;
        // A `.json` met in a folder that holds no rule-like object at all
        // (a package.json, a schema) is not an error, just not a rule file.
        if nothing
            && self
                .out
                .errors
                .iter()
                .all(|e| e.kind == LoadErrorKind::UnrecognizedObject)
        {
            self.out.not_rules = true;
            if self.out.errors.is_empty() {
                self.out.errors.push(LoadError::file(
                    self.path,
                    LoadErrorKind::NotARule,
                    "no rules in this file",
                ));
            }
        }
        self.out
    }
}

fn query_offsets(text: &str, span: Range<usize>, query: &str) -> Vec<u32> {
    match text
        .get(span.clone())
        .and_then(|raw| json_string(raw, span.start))
    {
        Some(m) if m.text == query => m.offsets,
        _ => identity_offsets(span.start + 1, query.len()),
    }
}

/// `riskScore` -> `risk_score`, `ruleId` -> `rule_id` (saved-object params
/// are the API fields in camelCase).
fn snake_case(k: &str) -> String {
    let mut s = String::with_capacity(k.len() + 4);
    for c in k.chars() {
        if c.is_ascii_uppercase() {
            s.push('_');
            s.push(c.to_ascii_lowercase());
        } else {
            s.push(c);
        }
    }
    s
}

fn camel_case(k: &str) -> String {
    let mut s = String::with_capacity(k.len());
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            s.push(c.to_ascii_uppercase());
            up = false;
        } else {
            s.push(c);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> FileOutcome {
        load_kibana(Arc::from(text), Path::new("e.ndjson"))
    }

    const RULE: &str = r#"{"rule_id":"r1","name":"n","type":"eql","language":"eql","risk_score":21,"severity":"low","query":"process where process.name == \"a\"","id":"so-1","max_signals":100}"#;

    #[test]
    fn rules_summary_and_exceptions() {
        let text = format!(
            "{RULE}\n{}\n{}\n{}\n",
            r#"{"list_id":"l1","type":"detection","name":"L","namespace_type":"single"}"#,
            r#"{"item_id":"i1","list_id":"l1","type":"simple","entries":[{"field":"a","operator":"included","type":"match","value":"x"}]}"#,
            r#"{"exported_count":3,"exported_rules_count":1,"missing_rules":[],"missing_rules_count":0,"exported_exception_list_count":1,"exported_exception_list_item_count":1}"#
        );
        let out = load(&text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.rules.len(), 1);
        assert_eq!(out.skipped.export_summaries, 1);
        assert_eq!(out.skipped.exception_objects, 2);
        assert_eq!(out.exceptions[1].value["item_id"], "i1");
        let rule = &out.rules[0].rule;
        assert_eq!(rule.extra["id"], "so-1");
        assert_eq!(rule.max_signals, Some(100));
        let q = rule.query.as_deref().unwrap();
        let a = q.find("\"a\"").unwrap();
        assert_eq!(&text[rule.origin.file_offset(a)..][..2], "\\\"");
        let n = q.find("name").unwrap();
        assert_eq!(&text[rule.origin.file_offset(n)..][..4], "name");
    }

    #[test]
    fn invalid_json_line_reports_line_and_column() {
        let text = format!("{RULE}\n{{\"rule_id\": \"x\", oops}}\n");
        let out = load(&text);
        assert_eq!(out.rules.len(), 1);
        assert_eq!(out.errors.len(), 1);
        let e = &out.errors[0];
        assert_eq!(e.kind, LoadErrorKind::Syntax);
        assert_eq!((e.line, e.column), (2, 18));
    }

    #[test]
    fn broken_first_line_is_reported_there_and_the_rest_load() {
        let second = RULE.replace("\"r1\"", "\"r2\"").replace("so-1", "so-2");
        let summary = r#"{"exported_count":2,"exported_rules_count":2,"missing_rules":[],"missing_rules_count":0}"#;
        let cut = &RULE[..60];
        let text = format!("{cut}\n{second}\n{summary}\n");
        let out = load(&text);
        assert_eq!(out.rules.len(), 1, "{:?}", out.errors);
        assert_eq!(out.rules[0].rule.rule_id, "r2");
        let syntax: Vec<_> = out
            .errors
            .iter()
            .filter(|e| e.kind == LoadErrorKind::Syntax)
            .collect();
        assert_eq!(syntax.len(), 1, "{:?}", out.errors);
        assert_eq!((syntax[0].line, syntax[0].column), (1, 60));
        assert!(
            syntax[0].to_string().contains("invalid JSON"),
            "{}",
            syntax[0]
        );
    }

    #[test]
    fn summary_mismatch_is_a_warning() {
        let out = load(&format!(
            "{RULE}\n{{\"exported_count\":2,\"missing_rules\":[{{\"rule_id\":\"zz\"}}]}}\n"
        ));
        assert!(out.errors.is_empty());
        assert_eq!(out.warnings.len(), 2);
        assert!(out
            .warnings
            .iter()
            .all(|w| w.kind == LoadErrorKind::ExportMismatch));
        // Shown as a warning at its place, not as an error.
        let shown: Vec<String> = out
            .warnings
            .iter()
            .map(|w| w.as_warning().to_string())
            .collect();
        assert!(
            shown.iter().any(|w| w.starts_with(
                "e.ndjson:2:1: warning: the export summary says 2 rule(s) were exported"
            )),
            "{shown:?}"
        );
        assert!(shown.iter().all(|w| !w.contains("error")), "{shown:?}");
    }

    #[test]
    fn exported_count_alone_counts_exception_objects_too() {
        // One rule, one exception list, one item: `exported_count` is 3.
        let list = r#"{"list_id":"l1","name":"L","type":"detection","namespace_type":"single","description":"d"}"#;
        let item = r#"{"item_id":"i1","list_id":"l1","name":"I","type":"simple","namespace_type":"single","description":"d","entries":[{"field":"a","type":"match","operator":"included","value":"x"}]}"#;
        let text = format!("{RULE}\n{list}\n{item}\n{{\"exported_count\":3}}\n");
        let out = load(&text);
        assert_eq!(out.rules.len(), 1);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        // Four would still be one rule too many.
        let out = load(&text.replace("\"exported_count\":3", "\"exported_count\":4"));
        let shown: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            shown,
            ["the export summary says 2 rule(s) were exported, but this file holds 1"]
        );
    }

    #[test]
    fn summary_mismatch_counts_a_line_that_is_not_json_apart() {
        let rules: Vec<String> = (1..=3)
            .map(|i| RULE.replace("\"r1\"", &format!("\"r{i}\"")))
            .collect();
        let text = format!(
            "{}\n{}\n{{\"rule_id\": \"r4\", oops}}\n{}\n{{\"exported_count\":5}}\n",
            rules[0], rules[1], rules[2]
        );
        let out = load(&text);
        assert_eq!(out.rules.len(), 3);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].line, 3);
        let shown: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            shown,
            [
                "the export summary says 5 rule(s) were exported, but this file holds 4 \
              rule lines, of which 3 can be read (1 not valid JSON)"
            ]
        );
        // When the lines agree with the summary, only the damage is news.
        let text = text.replace("\"exported_count\":5", "\"exported_count\":4");
        let out = load(&text);
        let shown: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            shown,
            [
                "the export summary says 4 rule(s) were exported, and this file holds 4 \
              rule lines, but only 3 can be read (1 not valid JSON)"
            ]
        );
    }

    #[test]
    fn saved_object_alert_is_converted() {
        let text = r#"{"attributes":{"name":"n","tags":["t"],"enabled":false,"alertTypeId":"siem.eqlRule","schedule":{"interval":"10m"},"params":{"ruleId":"r9","type":"eql","language":"eql","riskScore":47,"severity":"medium","maxSignals":5,"timestampOverride":"event.ingested","query":"any where true","from":"now-12m"}},"id":"abc","type":"alert","references":[]}"#;
        let out = load(text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let r = &out.rules[0].rule;
        assert_eq!(
            (r.rule_id.as_str(), r.risk_score, r.max_signals),
            ("r9", 47, Some(5))
        );
        assert_eq!(r.interval.as_deref(), Some("10m"));
        assert_eq!(r.timestamp_override.as_deref(), Some("event.ingested"));
        assert_eq!(r.enabled, Some(false));
        assert_eq!(r.extra["id"], "abc");
        assert_eq!(
            r.extra["saved_object"]["attributes"]["alertTypeId"],
            "siem.eqlRule"
        );
        assert_eq!(&text[r.origin.file_offset(0)..][..3], "any");
    }

    #[test]
    fn an_unreadable_schedule_is_kept_at_its_member() {
        // The saved-object shape keeps `interval` under `schedule`, the
        // rule API shape `from` among the params.
        let saved = r#"{"attributes":{"name":"n","alertTypeId":"siem.eqlRule","schedule":{"interval":"5x"},"params":{"ruleId":"r9","type":"eql","language":"eql","riskScore":47,"severity":"medium","query":"any where true","from":"yesterday"}},"id":"abc","type":"alert","references":[]}"#;
        let out = load(saved);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let errors = &out.rules[0].rule.schedule_errors;
        let at: Vec<(usize, &str)> = errors
            .iter()
            .map(|e| (e.column, &saved[e.span.clone().unwrap()]))
            .collect();
        assert_eq!(
            at,
            vec![
                (saved.find("\"5x\"").unwrap() + 1, "\"5x\""),
                (saved.find("\"yesterday\"").unwrap() + 1, "\"yesterday\""),
            ]
        );
        assert!(errors[0]
            .message
            .starts_with("cannot read interval = \"5x\""));
        let api = RULE.replace("\"max_signals\":100", "\"from\":\"now\",\"to\":\"now-5m\"");
        let errors = &load(&api).rules[0].rule.schedule_errors;
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "from = \"now\" is not before to = \"now-5m\": every run would search an empty window"
        );
        assert_eq!(errors[0].column, api.find("\"now\"").unwrap() + 1);
    }

    #[test]
    fn pretty_json_and_arrays() {
        let pretty = "[\n  {\"rule_id\": \"a\", \"name\": \"n\", \"type\": \"machine_learning\",\n   \"risk_score\": 1, \"severity\": \"low\"}\n]\n";
        let out = load(pretty);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.rules.len(), 1);
        let broken = "{\n  \"rule_id\": \"a\",\n  \"name\": \n}\n";
        let out = load(broken);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].line, 4);
    }

    #[test]
    fn field_error_points_at_member() {
        let text = r#"{"rule_id":"r","name":"n","type":"eql","risk_score":"high","severity":"low","query":"x"}"#;
        let e = &load(text).errors[0];
        assert_eq!(e.kind, LoadErrorKind::InvalidField);
        assert_eq!(e.column, text.find("\"high\"").unwrap() + 1);
        let e = &load(r#"{"name":"n","type":"eql","severity":"low"}"#).errors[0];
        assert_eq!(e.kind, LoadErrorKind::MissingField);
        assert_eq!(e.column, 1);
    }

    #[test]
    fn non_rule_json_is_marked() {
        let out = load(r#"{"name":"pkg","version":"1.0.0"}"#);
        assert!(out.not_rules);
        assert!(load("").not_rules);
    }

    #[test]
    fn case_conversion() {
        assert_eq!(snake_case("riskScoreMapping"), "risk_score_mapping");
        assert_eq!(camel_case("risk_score_mapping"), "riskScoreMapping");
    }
}
