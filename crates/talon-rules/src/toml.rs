//! detection-rules TOML: `[metadata]` into `Rule::metadata`, `[rule]` into the
//! typed fields (the rest into `Rule::extra`), `[transform]` and any other
//! top-level table into `Rule::extra` under its own name.
//!
//! The file is parsed once with `toml_edit`'s span-keeping document, so every
//! key and value knows its bytes in the file: syntax and field errors point at
//! the offending bytes, and the query literal is re-read to map each query
//! byte to its file byte (`RuleOrigin::query_offsets`).

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Number, Value};
use toml_edit::{ImDocument, Item, Table, TableLike};

use crate::error::{LoadError, LoadErrorKind};
use crate::fields::{build_rule, Step};
use crate::load::{FileOutcome, Loaded};
use crate::rule::{RuleFormat, RuleOrigin};
use crate::strings::{identity_offsets, toml_string};

/// Loads the one rule of a detection-rules TOML file.
///
/// A file with neither `[rule]` nor `[metadata]` is marked `not_rules` (a
/// `pyproject.toml` met while walking a folder is not an error); the caller
/// decides whether that is an error.
pub(crate) fn load_toml(text: Arc<str>, path: &Path) -> FileOutcome {
    let mut out = FileOutcome::default();
    let doc = match ImDocument::parse(&*text) {
        Ok(doc) => doc,
        Err(e) => {
            let (span, msg) = syntax_error(&text, e.span(), e.message());
            out.errors
                .push(LoadError::at(path, &text, span, LoadErrorKind::Syntax, msg));
            return out;
        }
    };
    let root = doc.as_table();
    let Some(rule_item) = root.get("rule") else {
        if root.get("metadata").is_none() {
            out.not_rules = true;
        }
        // An empty file has no place to point at.
        let error = if text.trim_start_matches('\u{feff}').trim().is_empty() {
            let msg = "empty file: no [rule] table in it";
            LoadError::file(path, LoadErrorKind::NotARule, msg)
        } else {
            let span = root.get("metadata").and_then(Item::span).unwrap_or(0..0);
            let msg = "no [rule] table in this file";
            LoadError::at(path, &text, span, LoadErrorKind::NotARule, msg)
        };
        out.errors.push(error);
        return out;
    };
    let Some(rule_table) = rule_item.as_table() else {
        let span = rule_item.span().unwrap_or(0..0);
        out.errors.push(LoadError::at(
            path,
            &text,
            span,
            LoadErrorKind::InvalidField,
            "`rule` must be a table",
        ));
        return out;
    };
    let header = rule_table.span().unwrap_or(0..0);
    out.warnings
        .extend(unknown_keys(root, rule_table, path, &text));

    let mut metadata = Map::new();
    let mut top_extra = Map::new();
    for (key, item) in root.iter() {
        match key {
            "rule" => {}
            "metadata" => match item_to_json(item) {
                Some(Value::Object(m)) => metadata = m,
                _ => {
                    let span = item.span().unwrap_or(0..0);
                    let msg = "`metadata` must be a table";
                    out.errors.push(LoadError::at(
                        path,
                        &text,
                        span,
                        LoadErrorKind::InvalidField,
                        msg,
                    ));
                    return out;
                }
            },
            _ => {
                if let Some(v) = item_to_json(item) {
                    top_extra.insert(key.to_string(), v);
                }
            }
        }
    }

    let mut fields = table_to_json(rule_table);
    let query_offsets = match (
        fields.get("query").and_then(Value::as_str),
        value_span(rule_table, "query"),
    ) {
        (Some(query), Some(span)) => query_offsets(&text, span, query),
        _ => Vec::new(),
    };
    // `[transform]` and friends are not `[rule]` keys; they go to extra under
    // their own table name unless `[rule]` already uses that name.
    for (k, v) in top_extra {
        fields.entry(k).or_insert(v);
    }
    let origin = RuleOrigin {
        path: path.to_path_buf(),
        format: RuleFormat::Toml,
        text: text.clone(),
        query_offsets: Arc::from(query_offsets),
    };
    let span_of = |key: Option<&str>, within: &[Step]| {
        key.and_then(|k| nested_span(rule_table, k, within))
            .unwrap_or(header.clone())
    };
    match build_rule(fields, metadata, origin) {
        Ok(built) => {
            let rule = built.placed(path, &text, &span_of);
            let rule_id_span = value_span(rule_table, "rule_id");
            out.rules.push(Loaded { rule, rule_id_span });
        }
        Err(es) => out
            .errors
            .extend(crate::fields::placed_in_order(es, path, &text, &span_of)),
    }
    out
}

/// The top-level tables of a detection-rules TOML file.
const TABLES: &[&str] = &["metadata", "rule", "transform"];

/// The keys of `[metadata]` that detection-rules defines (`RuleMeta`).
const METADATA_KEYS: &[&str] = &[
    "bypass_bbr_timing",
    "comments",
    "creation_date",
    "deprecated_reason",
    "deprecation_date",
    "extended",
    "integration",
    "maturity",
    "min_stack_comments",
    "min_stack_version",
    "os_type_list",
    "promotion",
    "query_schema_validation",
    "related_endpoint_rules",
    "updated_date",
];

/// The keys of `[rule]` that detection-rules or Kibana's rule API define,
/// for every rule type (and the API's flat `new_terms_fields` /
/// `history_window_start`, which talon reads too).
const RULE_KEYS: &[&str] = &[
    "actions",
    "alert_suppression",
    "anomaly_threshold",
    "author",
    "building_block_type",
    "concurrent_searches",
    "data_view_id",
    "description",
    "enabled",
    "event_category_override",
    "exceptions_list",
    "false_positives",
    "filters",
    "from",
    "history_window_start",
    "index",
    "interval",
    "investigation_fields",
    "items_per_search",
    "language",
    "license",
    "machine_learning_job_id",
    "max_signals",
    "meta",
    "name",
    "new_terms",
    "new_terms_fields",
    "note",
    "query",
    "references",
    "related_integrations",
    "required_fields",
    "response_actions",
    "revision",
    "risk_score",
    "risk_score_mapping",
    "rule_id",
    "rule_name_override",
    "saved_id",
    "setup",
    "severity",
    "severity_mapping",
    "tags",
    "threat",
    "threat_filters",
    "threat_index",
    "threat_indicator_path",
    "threat_language",
    "threat_mapping",
    "threat_mappings",
    "threat_query",
    "threshold",
    "throttle",
    "tiebreaker_field",
    "timeline_id",
    "timeline_title",
    "timestamp_field",
    "timestamp_override",
    "timestamp_override_fallback_disabled",
    "to",
    "type",
    "version",
];

/// The keys of a `threat` entry, of its tactic (and of a sub-technique),
/// and of a technique, as detection-rules defines them.
const THREAT_KEYS: &[&str] = &["framework", "tactic", "technique"];
const REFERENCE_KEYS: &[&str] = &["id", "name", "reference"];
const TECHNIQUE_KEYS: &[&str] = &["id", "name", "reference", "subtechnique"];

/// A warning for each key that no detection-rules TOML has: in `[rule]`,
/// in `[metadata]`, as a top-level table, or in a `threat` entry, its
/// tactic, a technique or a sub-technique. Such a key is most often a
/// misspelling (`licence`, `form`, `refrence`), which talon would
/// otherwise ignore in silence, and which detection-rules refuses (its
/// schema rejects unknown keys). What other nested tables hold is not
/// checked.
fn unknown_keys(root: &Table, rule: &Table, path: &Path, text: &str) -> Vec<LoadError> {
    let mut out = Vec::new();
    let mut check = |table: &dyn TableLike, known: &[&str], what: &str, after: &str| {
        for k in unknown_table_keys(table, known) {
            let mut msg = format!("unknown {what} `{}`{after}", k.key);
            if let Some(near) = k.near {
                msg.push_str(&format!(" (did you mean `{near}`?)"));
            }
            msg.push_str("; talon ignores it, and detection-rules refuses it");
            out.push(LoadError::at(
                path,
                text,
                k.span,
                LoadErrorKind::InvalidField,
                msg,
            ));
        }
    };
    check(root, TABLES, "table", "");
    check(rule, RULE_KEYS, "key", " in [rule]");
    for entry in tables_in(rule.get("threat")) {
        check(entry, THREAT_KEYS, "key", " in [[rule.threat]]");
        if let Some(tactic) = entry.get("tactic").and_then(Item::as_table_like) {
            check(tactic, REFERENCE_KEYS, "key", " in [rule.threat.tactic]");
        }
        for technique in tables_in(entry.get("technique")) {
            check(
                technique,
                TECHNIQUE_KEYS,
                "key",
                " in [[rule.threat.technique]]",
            );
            for sub in tables_in(technique.get("subtechnique")) {
                let after = " in [[rule.threat.technique.subtechnique]]";
                check(sub, REFERENCE_KEYS, "key", after);
            }
        }
    }
    if let Some(meta) = root.get("metadata").and_then(Item::as_table) {
        check(meta, METADATA_KEYS, "key", " in [metadata]");
    }
    out
}

/// The tables of a list of them (`[[rule.threat]]`, or an array of
/// inline tables); none for anything else, which the loader reports as a
/// wrong type.
fn tables_in(item: Option<&Item>) -> Vec<&dyn TableLike> {
    item.map(array_elements)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(_, table)| table)
        .collect()
}

/// An element of a TOML array: its span and, when it is a table, the
/// table.
pub type ArrayElement<'a> = (Option<Range<usize>>, Option<&'a dyn TableLike>);

/// The elements of an array of tables (`[[exceptions]]`) or of an array
/// value (`entries = [{...}]`); none for anything else.
pub fn array_elements(item: &Item) -> Vec<ArrayElement<'_>> {
    match item {
        Item::ArrayOfTables(tables) => tables
            .iter()
            .map(|t| (t.span(), Some(t as &dyn TableLike)))
            .collect(),
        Item::Value(toml_edit::Value::Array(values)) => values
            .iter()
            .map(|v| (v.span(), v.as_inline_table().map(|t| t as &dyn TableLike)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A key of a TOML table that is not among the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKey<'k> {
    pub key: String,
    /// The key as written (or its value, when the key has no span).
    pub span: Range<usize>,
    /// The known key it is most likely a misspelling of.
    pub near: Option<&'k str>,
}

/// The keys of `table` (parsed by `toml_edit` with spans) not in `known`,
/// in file order: rule files and talon's own config both warn about them.
pub fn unknown_table_keys<'k>(
    table: &dyn toml_edit::TableLike,
    known: &[&'k str],
) -> Vec<UnknownKey<'k>> {
    table
        .iter()
        .filter(|(key, _)| !known.contains(key))
        .map(|(key, item)| UnknownKey {
            key: key.to_string(),
            span: table
                .get_key_value(key)
                .and_then(|(k, _)| k.span())
                .or_else(|| item.span())
                .unwrap_or(0..0),
            near: nearest(key, known),
        })
        .collect()
}

/// The known name closest to `key`, when it is close enough to be a
/// misspelling of it (at most 2 edits, fewer than half its letters).
pub(crate) fn nearest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (talon_eql::diag::edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2 && *d * 2 < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Where a text stops being TOML and why, in one line, from the parser's
/// place and message (toml_edit's, which the `toml` crate's errors carry
/// too): a multi-line string left open is pointed at where it opens.
pub fn syntax_error(text: &str, at: Option<Range<usize>>, message: &str) -> (Range<usize>, String) {
    let span = at.unwrap_or(0..0);
    let msg = syntax_message(message);
    match unclosed_multiline(text, &span) {
        Some((opener, delim)) => (
            opener,
            format!("{msg}: this string is never closed (no {delim} after it)"),
        ),
        None => (span, msg),
    }
}

/// When the parser gave up at the end of the file inside a multi-line
/// string (a `query = \'\'\'` whose closing quotes were deleted), where
/// that string opens: the end of the file says nothing about where to
/// look. The opener is the last of an odd number of delimiters.
fn unclosed_multiline(text: &str, at: &Range<usize>) -> Option<(Range<usize>, &'static str)> {
    if at.start < text.trim_end().len() {
        return None;
    }
    ["\'\'\'", "\"\"\""].into_iter().find_map(|delim| {
        let found: Vec<usize> = text.match_indices(delim).map(|(i, _)| i).collect();
        let last = *found.last()?;
        (found.len() % 2 == 1).then(|| (last..last + delim.len(), delim))
    })
}

/// toml_edit messages may span lines ("invalid string\nexpected ..."); one
/// line reads better after `error:`.
fn syntax_message(msg: &str) -> String {
    let parts: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if parts.is_empty() {
        "invalid TOML".to_string()
    } else {
        format!("invalid TOML: {}", parts.join("; "))
    }
}

/// The bytes of `key`'s value in `table` (or of the key itself when the
/// value has no span, e.g. an array of tables).
fn value_span(table: &Table, key: &str) -> Option<Range<usize>> {
    let (k, item) = table.get_key_value(key)?;
    item.span().or_else(|| k.span())
}

/// The bytes of `key`'s value in `table`, or of what `within` names below
/// it (an item of an array or array of tables, a key of a table), as deep
/// as the steps lead.
fn nested_span(table: &Table, key: &str, within: &[Step]) -> Option<Range<usize>> {
    let (k, item) = table.get_key_value(key)?;
    let mut span = item.span().or_else(|| k.span())?;
    let mut node = Node::of(item);
    for step in within {
        let Some((child, child_span)) = node.child(step) else {
            break;
        };
        node = child;
        if let Some(s) = child_span {
            span = s;
        }
    }
    Some(span)
}

/// A place in a parsed TOML document that [`nested_span`] steps through.
#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a Item),
    Table(&'a Table),
    Value(&'a toml_edit::Value),
}

impl<'a> Node<'a> {
    fn of(item: &'a Item) -> Node<'a> {
        match item {
            Item::Table(t) => Node::Table(t),
            Item::Value(v) => Node::Value(v),
            _ => Node::Item(item),
        }
    }

    /// The node one step down, and its span when it has one.
    fn child(self, step: &Step) -> Option<(Node<'a>, Option<Range<usize>>)> {
        use toml_edit::Value as V;
        match (self, step) {
            (Node::Item(Item::ArrayOfTables(a)), Step::Item(i)) => {
                let t = a.get(*i)?;
                Some((Node::Table(t), t.span()))
            }
            (Node::Value(V::Array(a)), Step::Item(i)) => {
                let v = a.get(*i)?;
                Some((Node::Value(v), v.span()))
            }
            (Node::Table(t), Step::Key(k)) => {
                let (key, item) = t.get_key_value(k)?;
                Some((Node::of(item), item.span().or_else(|| key.span())))
            }
            (Node::Value(V::InlineTable(t)), Step::Key(k)) => {
                let (key, item) = t.get_key_value(k)?;
                Some((Node::of(item), item.span().or_else(|| key.span())))
            }
            _ => None,
        }
    }
}

/// Maps the decoded query to its file bytes through the literal at `span`.
fn query_offsets(text: &str, span: Range<usize>, query: &str) -> Vec<u32> {
    let mapped = text
        .get(span.clone())
        .and_then(|raw| toml_string(raw, span.start));
    match mapped {
        Some(m) if m.text == query => m.offsets,
        // The re-read disagrees with the parser (should not happen): point
        // at the literal's start rather than nowhere.
        _ => identity_offsets(span.start, query.len()),
    }
}

fn table_to_json(table: &Table) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, item) in table.iter() {
        if let Some(v) = item_to_json(item) {
            map.insert(k.to_string(), v);
        }
    }
    map
}

fn item_to_json(item: &Item) -> Option<Value> {
    match item {
        Item::None => None,
        Item::Value(v) => Some(value_to_json(v)),
        Item::Table(t) => Some(Value::Object(table_to_json(t))),
        Item::ArrayOfTables(a) => Some(Value::Array(
            a.iter().map(|t| Value::Object(table_to_json(t))).collect(),
        )),
    }
}

fn value_to_json(v: &toml_edit::Value) -> Value {
    use toml_edit::Value as T;
    match v {
        T::String(s) => Value::String(s.value().clone()),
        T::Integer(i) => Value::Number((*i.value()).into()),
        // JSON has no NaN or infinity; keep their TOML spelling as a string.
        T::Float(f) => {
            let x = *f.value();
            Number::from_f64(x)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(x.to_string()))
        }
        T::Boolean(b) => Value::Bool(*b.value()),
        T::Datetime(d) => Value::String(d.value().to_string()),
        T::Array(a) => Value::Array(a.iter().map(value_to_json).collect()),
        T::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> FileOutcome {
        load_toml(Arc::from(text), Path::new("t.toml"))
    }

    /// The warnings as talon prints them, with their carets.
    fn shown_warnings(out: &FileOutcome) -> Vec<String> {
        out.warnings
            .iter()
            .map(|w| w.as_warning().to_string())
            .collect()
    }

    const MIN: &str =
        "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"n\"\nrule_id = \"r1\"\n\
        type = \"eql\"\nrisk_score = 21\nseverity = \"low\"\n";

    #[test]
    fn query_offsets_map_basic_escapes() {
        let text = format!("{MIN}query = \"a \\\"b\\\" c\"\n");
        let out = load(&text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let rule = &out.rules[0].rule;
        let q = rule.query.as_deref().unwrap();
        assert_eq!(q, "a \"b\" c");
        let c = rule.origin.file_offset(q.find('c').unwrap());
        assert_eq!(&text[c..c + 1], "c");
        let b = rule.origin.file_offset(q.find('b').unwrap());
        assert_eq!(&text[b..b + 1], "b");
    }

    #[test]
    fn transform_goes_to_extra_and_metadata_is_kept() {
        let text = format!("{MIN}query = 'x'\n[transform]\n[[transform.osquery]]\nlabel = \"l\"\n");
        let out = load(&text);
        let rule = &out.rules[0].rule;
        assert_eq!(rule.extra["transform"]["osquery"][0]["label"], "l");
        assert_eq!(rule.metadata["maturity"], "production");
    }

    #[test]
    fn field_error_points_at_value() {
        let text = MIN.replace("risk_score = 21", "risk_score = \"high\"");
        let out = load(&format!("{text}query = 'x'\n"));
        let e = &out.errors[0];
        assert_eq!(e.kind, LoadErrorKind::InvalidField);
        assert_eq!((e.line, e.column), (8, 14));
    }

    #[test]
    fn an_unreadable_schedule_loads_with_errors_at_the_values() {
        let text = format!("{MIN}query = 'x'\nfrom = \"yesterday\"\ninterval = \"5x\"\n");
        let out = load(&text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let rule = &out.rules[0].rule;
        assert!(!rule.can_schedule());
        let shown: Vec<String> = rule.schedule_errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "t.toml:12:12: error: cannot read interval = \"5x\": expected a number and s, m, h or d, like \"5m\"\n   |\n12 | interval = \"5x\"\n   |            ^^^^",
                "t.toml:11:8: error: cannot read from = \"yesterday\": expected now, or now-N / now+N with s, m, h, d or w, like \"now-9m\"\n   |\n11 | from = \"yesterday\"\n   |        ^^^^^^^^^^^",
            ]
        );
        let good = load(&format!("{MIN}query = 'x'\nfrom = \"now-9m\"\n"));
        assert!(good.rules[0].rule.can_schedule());
    }

    #[test]
    fn a_list_field_written_as_one_string_is_an_error_at_it() {
        for (line, key) in [
            ("index = \"logs-*\"", "index"),
            ("tags = \"OS: Linux\"", "tags"),
        ] {
            let out = load(&format!("{MIN}query = 'x'\n{line}\n"));
            assert!(out.rules.is_empty(), "{key}");
            let e = &out.errors[0];
            assert_eq!(e.kind, LoadErrorKind::InvalidField);
            assert_eq!((e.line, e.column), (11, key.len() + 4), "{key}");
            let value = &line[key.len() + 3..];
            assert_eq!(
                e.message,
                format!("`{key}` must be a list of strings, found a string (write it as a list: [{value}])")
            );
        }
    }

    #[test]
    fn unknown_keys_are_warnings_at_the_key() {
        let text = format!("{MIN}query = 'x'\nlicence = \"x\"\n[transfrom]\n");
        let text = text.replace("maturity =", "maturty =");
        let out = load(&text);
        assert_eq!(out.rules.len(), 1, "{:?}", out.errors);
        let shown = shown_warnings(&out);
        assert_eq!(
            shown,
            vec![
                "t.toml:12:2: warning: unknown table `transfrom` (did you mean `transform`?); talon ignores it, and detection-rules refuses it\n   |\n12 | [transfrom]\n   |  ^^^^^^^^^",
                "t.toml:11:1: warning: unknown key `licence` in [rule] (did you mean `license`?); talon ignores it, and detection-rules refuses it\n   |\n11 | licence = \"x\"\n   | ^^^^^^^",
                "t.toml:2:1: warning: unknown key `maturty` in [metadata] (did you mean `maturity`?); talon ignores it, and detection-rules refuses it\n  |\n2 | maturty = \"production\"\n  | ^^^^^^^",
            ]
        );
        // A name far from every known one gets no guess.
        let out = load(&format!("{MIN}query = 'x'\nzzz = 1\n"));
        assert_eq!(
            out.warnings[0].message,
            "unknown key `zzz` in [rule]; talon ignores it, and detection-rules refuses it"
        );
    }

    #[test]
    fn unknown_keys_in_threat_entries_are_warnings_at_the_key() {
        let threat = "[[rule.threat]]\nframework = \"MITRE ATT&CK\"\nframwork = \"x\"\n\
            [[rule.threat.technique]]\nid = \"T1090\"\nname = \"Proxy\"\n\
            refrence = \"https://attack.mitre.org/techniques/T1090/\"\n\
            [[rule.threat.technique.subtechnique]]\nid = \"T1090.001\"\nname = \"Internal Proxy\"\n\
            url = \"u\"\n\
            [rule.threat.tactic]\nid = \"TA0011\"\nname = \"Command and Control\"\n\
            reference = \"https://attack.mitre.org/tactics/TA0011/\"\nnme = \"x\"\n";
        let out = load(&format!("{MIN}query = 'x'\n{threat}"));
        assert_eq!(out.rules.len(), 1, "{:?}", out.errors);
        let shown = shown_warnings(&out);
        assert_eq!(
            shown,
            vec![
                "t.toml:13:1: warning: unknown key `framwork` in [[rule.threat]] (did you mean `framework`?); talon ignores it, and detection-rules refuses it\n   |\n13 | framwork = \"x\"\n   | ^^^^^^^^",
                "t.toml:26:1: warning: unknown key `nme` in [rule.threat.tactic] (did you mean `name`?); talon ignores it, and detection-rules refuses it\n   |\n26 | nme = \"x\"\n   | ^^^",
                "t.toml:17:1: warning: unknown key `refrence` in [[rule.threat.technique]] (did you mean `reference`?); talon ignores it, and detection-rules refuses it\n   |\n17 | refrence = \"https://attack.mitre.org/techniques/T1090/\"\n   | ^^^^^^^^",
                "t.toml:21:1: warning: unknown key `url` in [[rule.threat.technique.subtechnique]]; talon ignores it, and detection-rules refuses it\n   |\n21 | url = \"u\"\n   | ^^^",
            ]
        );
        // The same entry written inline warns the same way.
        let inline = "threat = [{framework = \"MITRE ATT&CK\", tactic = {id = \"TA0011\", \
            name = \"Command and Control\", reference = \"r\", extra = 1}}]\n";
        let out = load(&format!("{MIN}query = 'x'\n{inline}"));
        assert_eq!(out.rules.len(), 1, "{:?}", out.errors);
        let messages: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(
            messages,
            vec!["unknown key `extra` in [rule.threat.tactic]; talon ignores it, and detection-rules refuses it"]
        );
        assert_eq!((out.warnings[0].line, out.warnings[0].column), (11, 112));
    }

    #[test]
    fn the_timestamp_fallback_switch_is_a_known_key_and_must_be_a_boolean() {
        // The schedule replay reads it, so it is no unknown key.
        let out = load(&format!(
            "{MIN}query = 'x'\ntimestamp_override_fallback_disabled = true\n"
        ));
        assert_eq!(out.rules.len(), 1, "{:?}", out.errors);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            out.rules[0].rule.extra["timestamp_override_fallback_disabled"],
            serde_json::json!(true)
        );
        // A string would have been read as false in silence.
        let out = load(&format!(
            "{MIN}query = 'x'\ntimestamp_override_fallback_disabled = \"true\"\n"
        ));
        assert!(out.rules.is_empty());
        let e = &out.errors[0];
        assert_eq!(
            e.message,
            "`timestamp_override_fallback_disabled` must be true or false, found a string"
        );
        assert_eq!((e.line, e.column), (11, 40));
    }

    #[test]
    fn non_rule_toml_is_marked() {
        let out = load("[package]\nname = \"x\"\n");
        assert!(out.not_rules);
        assert_eq!(out.errors[0].kind, LoadErrorKind::NotARule);
        assert_eq!(out.errors[0].message, "no [rule] table in this file");
        let out = load(" \n\n");
        assert!(out.not_rules);
        assert_eq!(out.errors[0].message, "empty file: no [rule] table in it");
    }
}
