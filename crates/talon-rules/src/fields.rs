//! Turns a rule's field map (the `[rule]` table of a TOML file, a Kibana
//! export object, or what a documentation page yields, all as JSON) into the
//! typed [`Rule`], checking required fields and value types the way the
//! Kibana detection-engine API does.
//!
//! Every field the model does not type stays in `Rule::extra`, so a rule can
//! be written back without loss. Errors name the offending key so the
//! format-specific caller can point at its span in the file.

use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{LoadError, LoadErrorKind};
use crate::rule::{Rule, RuleOrigin};
use crate::schedule::check_schedule;

/// Every rule type the detection engine knows.
pub const RULE_TYPES: &[&str] = &[
    "query",
    "saved_query",
    "machine_learning",
    "eql",
    "esql",
    "threshold",
    "threat_match",
    "new_terms",
];

/// The namespaces an exception list lives in (`namespace_type`): a list of
/// one Kibana space, or one shared by every space. Kibana refuses others.
pub const NAMESPACE_TYPES: &[&str] = &["single", "agnostic"];

/// Rule types whose `query` is required (saved_query reads a saved search
/// instead, machine_learning has no query).
pub const QUERY_TYPES: &[&str] = &[
    "eql",
    "query",
    "esql",
    "threshold",
    "threat_match",
    "new_terms",
];

const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];

/// A problem with one field (`key`), or with the whole rule (`key: None`,
/// e.g. several required fields missing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub key: Option<String>,
    /// Where below the key's value the problem is (the second entry of a
    /// mapping, its `severity`); empty for the value itself.
    pub within: Vec<Step>,
    pub kind: LoadErrorKind,
    pub message: String,
}

/// One step down from a field's value: an item of a list, or a key of a
/// table (the same steps lead into a rule's JSON text).
pub(crate) use talon_event::json_span::Step;

/// Where a field error is in the file: the bytes of a key's value, or of
/// what the steps name below it (as deep as the loader can follow them),
/// or of the whole rule for an error without a key.
pub(crate) type SpanOf<'a> = dyn Fn(Option<&str>, &[Step]) -> Range<usize> + 'a;

impl FieldError {
    /// The error at its place in the file, as `span_of` finds it.
    pub(crate) fn placed(self, path: &Path, text: &str, span_of: &SpanOf<'_>) -> LoadError {
        let span = span_of(self.key.as_deref(), &self.within);
        LoadError::at(path, text, span, self.kind, self.message)
    }

    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            key: Some(key.to_string()),
            within: Vec::new(),
            kind: LoadErrorKind::InvalidField,
            message: message.into(),
        }
    }

    /// The same error, pointed at `steps` below the key's value.
    pub(crate) fn at(mut self, steps: Vec<Step>) -> FieldError {
        self.within = steps;
        self
    }
}

/// A rule built from its fields, and what does not stop it from loading:
/// the problems of its schedule fields (`interval`, `from`, `to`), and
/// the fields talon accepts but does not apply. The caller points each at
/// its value and keeps them in `Rule::schedule_errors` and
/// `Rule::unapplied`.
#[derive(Debug)]
pub(crate) struct Built {
    pub rule: Rule,
    pub schedule: Vec<FieldError>,
    pub unapplied: Vec<FieldError>,
}

impl Built {
    /// The rule, its schedule problems and unapplied fields placed as
    /// [`FieldError::placed`] places them.
    pub(crate) fn placed(self, path: &Path, text: &str, span_of: &SpanOf<'_>) -> Rule {
        let place = |errors: Vec<FieldError>| -> Vec<LoadError> {
            errors
                .into_iter()
                .map(|e| e.placed(path, text, span_of))
                .collect()
        };
        let mut rule = self.rule;
        rule.filters
            .place(&|steps: &[Step]| span_of(Some("filters"), steps));
        rule.schedule_errors = place(self.schedule);
        rule.unapplied = place(self.unapplied);
        rule.unapplied.sort_by_key(|n| (n.line, n.column));
        rule
    }
}

/// Builds a rule from its field map. `metadata` is the TOML `[metadata]`
/// table (empty for other formats). `Err` holds every field error found,
/// in the order the fields are read: the missing required fields or the
/// rule type alone, when those are wrong (the rest means little then),
/// else every field whose value is refused (it takes its default, so the
/// others are still read).
pub(crate) fn build_rule(
    mut map: Map<String, Value>,
    metadata: Map<String, Value>,
    origin: RuleOrigin,
) -> Result<Built, Vec<FieldError>> {
    let mut errors = Vec::new();
    // A field's value, or its default with its error noted.
    macro_rules! field {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => {
                    errors.push(e);
                    Default::default()
                }
            }
        };
    }
    check_required(&map).map_err(|e| vec![e])?;
    let rule_type = req_string(&mut map, "type").map_err(|e| vec![e])?;
    if !RULE_TYPES.contains(&rule_type.as_str()) {
        return Err(vec![FieldError::invalid(
            "type",
            format!(
                "unknown rule type `{rule_type}` (expected one of {})",
                RULE_TYPES.join(", ")
            ),
        )]);
    }
    if rule_type == "eql" {
        // Kibana's API accepts only `eql` (exactly, lower case) as an EQL
        // rule's language; anything else would be run as another language
        // or refused, so it is an error here, at the value.
        if let Some(Value::String(lang)) = map.get("language") {
            if lang != "eql" {
                errors.push(FieldError::invalid(
                    "language",
                    format!("an `eql` rule's language must be `eql`, not `{lang}`"),
                ));
            }
        }
    }
    let severity = field!(req_string(&mut map, "severity"));
    if !severity.is_empty() && !SEVERITIES.contains(&severity.as_str()) {
        errors.push(FieldError::invalid(
            "severity",
            format!("severity must be one of low, medium, high, critical, not `{severity}`"),
        ));
    }
    let risk_score = field!(take_int(&mut map, "risk_score", 0, 100)).unwrap_or_default();
    field!(check_exceptions_list(&map));
    // Stays in `extra` (alerts copy it into their parameters, and the
    // schedule replay reads it there), so only its type is checked here.
    const FALLBACK_DISABLED: &str = "timestamp_override_fallback_disabled";
    if let Some(v) = map.get(FALLBACK_DISABLED) {
        if !v.is_boolean() && !v.is_null() {
            errors.push(FieldError::invalid(
                FALLBACK_DISABLED,
                format!(
                    "`{FALLBACK_DISABLED}` must be true or false, found {}",
                    type_name(v)
                ),
            ));
        }
    }
    // The overrides stay in `extra`, as written: alerts copy them into
    // their parameters, and read them typed through `Rule::overrides`.
    let (_, override_errors, mut unapplied) = crate::overrides::read(&map);
    errors.extend(override_errors);
    // Kept in `extra` too (alerts copy them into their parameters).
    let filters = crate::filters::read(&map);
    errors.extend(filters.errors);
    unapplied.extend(filters.notes);
    let threat = field!(crate::threat::take_threat(&mut map));
    // Kibana falls back to its default index patterns only when `index` is
    // missing or null, not when it is an empty list.
    let index_written = map.get("index").is_some_and(|v| !v.is_null());
    let rule = Rule {
        rule_id: field!(req_string(&mut map, "rule_id")),
        name: field!(req_string(&mut map, "name")),
        description: field!(take_string(&mut map, "description")).unwrap_or_default(),
        rule_type,
        language: field!(take_string(&mut map, "language")),
        query: field!(take_string(&mut map, "query")),
        index: field!(take_strings(&mut map, "index")),
        index_written,
        severity,
        risk_score,
        interval: field!(take_string(&mut map, "interval")),
        from: field!(take_string(&mut map, "from")),
        to: field!(take_string(&mut map, "to")),
        max_signals: field!(take_int(&mut map, "max_signals", 1, u32::MAX.into())).map(narrow),
        timestamp_override: field!(take_field_name(&mut map, "timestamp_override")),
        event_category_override: field!(take_field_name(&mut map, "event_category_override")),
        timestamp_field: field!(take_field_name(&mut map, "timestamp_field")),
        tiebreaker_field: field!(take_field_name(&mut map, "tiebreaker_field")),
        tags: field!(take_strings(&mut map, "tags")),
        threat,
        note: field!(take_string(&mut map, "note")),
        setup: field!(take_string(&mut map, "setup")),
        references: field!(take_strings(&mut map, "references")),
        false_positives: field!(take_strings(&mut map, "false_positives")),
        author: field!(take_strings(&mut map, "author")),
        license: field!(take_string(&mut map, "license")),
        building_block_type: field!(take_string(&mut map, "building_block_type")),
        version: field!(take_int(&mut map, "version", 1, u32::MAX.into())).map(narrow),
        enabled: field!(take_bool(&mut map, "enabled")),
        filters: filters.filters,
        extra: map,
        metadata,
        origin,
        schedule_errors: Vec::new(),
        unapplied: Vec::new(),
    };
    unapplied.extend(alert_suppression(&rule.extra));
    unapplied.extend(max_signals_over_limit(&rule));
    unapplied.extend(data_view(&rule));
    unapplied.extend(sequence_overrides(&rule));
    for note in &mut unapplied {
        note.message = format!("rule \"{}\": {}", rule.name, note.message);
    }
    let schedule = check_schedule(
        rule.interval.as_deref(),
        rule.from.as_deref(),
        rule.to.as_deref(),
    )
    .into_iter()
    .map(|p| FieldError::invalid(p.key, p.message))
    .collect();
    match errors.is_empty() {
        true => Ok(Built {
            rule,
            schedule,
            unapplied,
        }),
        false => Err(errors),
    }
}

/// A `max_signals` above what Kibana's alerting lets a run write: Kibana
/// writes that many at most and warns, and so does `--schedule`.
fn max_signals_over_limit(rule: &Rule) -> Option<FieldError> {
    let max = rule.max_signals?;
    (max > crate::rule::KIBANA_MAX_ALERTS_PER_RUN).then(|| {
        FieldError::invalid(
            "max_signals",
            format!(
                "`max_signals` is {max}, above the {} alerts Kibana writes per rule run \
                 (xpack.alerting.rules.run.alerts.max): with --schedule, as in Kibana, a run \
                 writes {} at most",
                crate::rule::KIBANA_MAX_ALERTS_PER_RUN,
                crate::rule::KIBANA_MAX_ALERTS_PER_RUN
            ),
        )
    })
}

/// `alert_suppression` is kept (alerts copy it into their parameters) but
/// not applied: a note at its value, for `check` and `hunt` to show.
fn alert_suppression(map: &Map<String, Value>) -> Option<FieldError> {
    // TODO: suppress alerts as Kibana does: one alert per `group_by` values
    // for each `duration` (or rule run), `missing_fields_strategy` for
    // events without them, the rest counted in
    // `kibana.alert.suppression.docs_count`.
    const KEY: &str = "alert_suppression";
    (!absent(map, KEY)).then(|| {
        FieldError::invalid(
            KEY,
            "`alert_suppression` is accepted but not applied: talon writes an alert for \
             every match, without grouping them by `group_by` or suppressing repeats within \
             `duration`",
        )
    })
}

/// `data_view_id` is kept (alerts copy it into their parameters) but not
/// applied: Kibana searches the data view's index patterns (in place of
/// `index`, when both are written), which are saved in Kibana, not in the
/// rule. talon searches `index` instead, or every event without one. A
/// note at the key, for `check` and `hunt` to show.
fn data_view(rule: &Rule) -> Option<FieldError> {
    rule.data_view_id()?;
    let instead = match rule.index.is_empty() {
        true => "so talon searches every event (write `index` to choose)",
        false => "so talon searches `index` instead",
    };
    Some(FieldError::invalid(
        "data_view_id",
        format!(
            "`data_view_id` is accepted but not applied: Kibana searches the data view's index \
             patterns, which talon cannot know, {instead}"
        ),
    ))
}

/// The overrides of a sequence or sample rule, kept but not applied:
/// Kibana applies them only to the alert of a single event (a sequence's
/// shell and building blocks keep the rule's severity, risk score and
/// name). A note at each override written, for `check` and `hunt` to show.
fn sequence_overrides(rule: &Rule) -> Vec<FieldError> {
    let written: Vec<&str> = [
        "severity_mapping",
        "risk_score_mapping",
        "rule_name_override",
    ]
    .into_iter()
    .filter(|k| !absent(&rule.extra, k))
    .collect();
    // The query is lexed only for a rule that writes an override.
    if written.is_empty() || joined_query_form(rule.query.as_deref().unwrap_or_default()).is_none()
    {
        return Vec::new();
    }
    written
        .into_iter()
        .map(|k| {
            FieldError::invalid(
                k,
                format!(
                    "`{k}` is accepted but not applied: the alerts of a sequence keep the \
                     rule's severity, risk score and name, as in Kibana"
                ),
            )
        })
        .collect()
}

/// `"sequence"` or `"sample"` when `query` is a sequence or sample query,
/// by its first token as the EQL lexer reads it (past blanks and comments;
/// keywords are case-sensitive); else `None`, also for a query that does
/// not lex.
pub fn joined_query_form(query: &str) -> Option<&'static str> {
    use talon_eql::syntax::lexer::{tokenize, Keyword, TokenKind};
    match tokenize(query).ok()?.first()?.kind {
        TokenKind::Kw(Keyword::Sequence) => Some("sequence"),
        TokenKind::Kw(Keyword::Sample) => Some("sample"),
        _ => None,
    }
}

/// `errors` as load errors of `path`, in the order they stand in `text`.
pub(crate) fn placed_in_order(
    errors: Vec<FieldError>,
    path: &Path,
    text: &str,
    span_of: &SpanOf<'_>,
) -> Vec<crate::LoadError> {
    let mut placed: Vec<crate::LoadError> = errors
        .into_iter()
        .map(|e| e.placed(path, text, span_of))
        .collect();
    placed.sort_by_key(|e| (e.line, e.column));
    placed
}

/// `exceptions_list` stays in `extra`, but hunting reads it to find the
/// rule's exception lists: a reference it could not read would leave the
/// list out, and with it the alerts it suppresses, without a word. So each
/// must be a table with a string `list_id` (and, if given, a string
/// `namespace_type`), as Kibana requires.
fn check_exceptions_list(map: &Map<String, Value>) -> Result<(), FieldError> {
    const KEY: &str = "exceptions_list";
    let refs = match map.get(KEY) {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Array(refs)) => refs,
        Some(v) => {
            return Err(FieldError::invalid(
                KEY,
                format!("`{KEY}` must be a list of tables, found {}", type_name(v)),
            ))
        }
    };
    for (i, r) in refs.iter().enumerate() {
        let n = i + 1;
        let Value::Object(r) = r else {
            return Err(FieldError::invalid(
                KEY,
                format!("`{KEY}` item {n} must be a table, found {}", type_name(r)),
            ));
        };
        if !matches!(r.get("list_id"), Some(Value::String(s)) if !s.trim().is_empty()) {
            return Err(FieldError::invalid(
                KEY,
                format!("`{KEY}` item {n} has no `list_id` string"),
            ));
        }
        let at_namespace = || vec![Step::Item(i), Step::Key("namespace_type".into())];
        match r.get("namespace_type") {
            None => {}
            Some(Value::String(ns)) if NAMESPACE_TYPES.contains(&ns.as_str()) => {}
            Some(Value::String(ns)) => {
                return Err(FieldError::invalid(
                    KEY,
                    format!(
                        "`{KEY}` item {n}: unknown `namespace_type` {ns:?} (expected single \
                         or agnostic)"
                    ),
                )
                .at(at_namespace()))
            }
            Some(ns) => {
                return Err(FieldError::invalid(
                    KEY,
                    format!(
                        "`{KEY}` item {n}: `namespace_type` must be a string, found {}",
                        type_name(ns)
                    ),
                )
                .at(at_namespace()))
            }
        }
    }
    Ok(())
}

fn narrow(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn absent(map: &Map<String, Value>, key: &str) -> bool {
    matches!(map.get(key), None | Some(Value::Null))
}

/// All missing required fields are reported at once, so a hand-written rule
/// is fixed in one round.
fn check_required(map: &Map<String, Value>) -> Result<(), FieldError> {
    let mut missing: Vec<&str> = ["name", "rule_id", "type", "risk_score", "severity"]
        .into_iter()
        .filter(|k| absent(map, k))
        .collect();
    let needs_query = map
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| QUERY_TYPES.contains(&t));
    if needs_query && absent(map, "query") {
        missing.push("query");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
    let noun = if missing.len() == 1 {
        "field"
    } else {
        "fields"
    };
    Err(FieldError {
        key: None,
        within: Vec::new(),
        kind: LoadErrorKind::MissingField,
        message: format!("missing required rule {noun} {}", list.join(", ")),
    })
}

/// What kind of value `v` is, for messages ("found a number"); an
/// object is `a table`, as a rule file names it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

fn req_string(map: &mut Map<String, Value>, key: &str) -> Result<String, FieldError> {
    let s = take_string(map, key)?.unwrap_or_default();
    if s.trim().is_empty() {
        return Err(FieldError::invalid(
            key,
            format!("`{key}` must not be empty"),
        ));
    }
    Ok(s)
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, FieldError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(FieldError::invalid(
            key,
            format!("`{key}` must be a string, found {}", type_name(&v)),
        )),
    }
}

/// A string that names a field: an empty one names none (a rule with
/// `event_category_override = ""` would match no event, silently), so it
/// is an error at the value.
fn take_field_name(map: &mut Map<String, Value>, key: &str) -> Result<Option<String>, FieldError> {
    match take_string(map, key)? {
        Some(s) if s.trim().is_empty() => Err(FieldError::invalid(
            key,
            format!(
                "`{key}` must name a field, found {}",
                match s.is_empty() {
                    true => "an empty string",
                    false => "only whitespace",
                }
            ),
        )),
        other => Ok(other),
    }
}

/// A list of strings. A single string is an error, not a one-item list:
/// Kibana's API and detection-rules both refuse it, so a rule that ran here
/// would fail to import there (and `tags = "a, b"` is not two tags).
fn take_strings(map: &mut Map<String, Value>, key: &str) -> Result<Vec<String>, FieldError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Err(FieldError::invalid(
            key,
            format!(
                "`{key}` must be a list of strings, found a string (write it as a list: [{s:?}])"
            ),
        )),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(FieldError::invalid(
                    key,
                    format!(
                        "`{key}` must be a list of strings, found {} in it",
                        type_name(&other)
                    ),
                )),
            })
            .collect(),
        Some(v) => Err(FieldError::invalid(
            key,
            format!("`{key}` must be a list of strings, found {}", type_name(&v)),
        )),
    }
}

fn take_int(
    map: &mut Map<String, Value>,
    key: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, FieldError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
            Some(i) => Err(FieldError::invalid(
                key,
                format!("`{key}` must be between {min} and {max}, not {i}"),
            )),
            None => Err(FieldError::invalid(
                key,
                format!("`{key}` must be an integer, not {n}"),
            )),
        },
        Some(v) => Err(FieldError::invalid(
            key,
            format!("`{key}` must be an integer, found {}", type_name(&v)),
        )),
    }
}

fn take_bool(map: &mut Map<String, Value>, key: &str) -> Result<Option<bool>, FieldError> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(v) => Err(FieldError::invalid(
            key,
            format!("`{key}` must be true or false, found {}", type_name(&v)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::RuleFormat;
    use serde_json::json;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn origin() -> RuleOrigin {
        RuleOrigin {
            path: PathBuf::from("t"),
            format: RuleFormat::KibanaNdjson,
            text: Arc::from(""),
            query_offsets: Arc::from(Vec::new()),
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_joined_query_is_known_by_its_first_token() {
        use super::joined_query_form as form;
        assert_eq!(
            form("sequence by host.id [any where true]"),
            Some("sequence")
        );
        assert_eq!(
            form("// lead\n/* c */ sample by host.id [any where true]"),
            Some("sample")
        );
        assert_eq!(form("process where true"), None);
        // Keywords are case-sensitive: this is a field, not a sequence.
        assert_eq!(form("Sequence where true"), None);
        assert_eq!(form(""), None);
    }

    #[test]
    fn builds_and_keeps_extra() {
        let m = map(
            json!({"rule_id": "x", "name": "n", "type": "eql", "risk_score": 21, "severity": "low",
            "query": "any where true", "investigation_fields": {"field_names": ["a"]}}),
        );
        let r = build_rule(m, Map::new(), origin()).unwrap().rule;
        assert_eq!(r.risk_score, 21);
        assert_eq!(
            r.extra.get("investigation_fields"),
            Some(&json!({"field_names": ["a"]}))
        );
        assert!(!r.extra.contains_key("query"));
    }

    /// The one error of a rule that has one.
    fn only(mut errors: Vec<FieldError>) -> FieldError {
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    /// Every refused value of a rule is reported, not only the first
    /// (a fresh user's `check` showed one of two empty field names).
    #[test]
    fn every_refused_value_is_reported() {
        let m = map(
            json!({"rule_id": "x", "name": "n", "type": "eql", "risk_score": 101,
            "severity": "urgent", "query": "any where true", "tags": "a",
            "tiebreaker_field": "", "timestamp_field": " "}),
        );
        let keys: Vec<Option<String>> = build_rule(m, Map::new(), origin())
            .unwrap_err()
            .into_iter()
            .map(|e| e.key)
            .collect();
        let want = [
            "severity",
            "risk_score",
            "timestamp_field",
            "tiebreaker_field",
            "tags",
        ];
        assert_eq!(keys, want.map(|k| Some(k.to_string())));
    }

    #[test]
    fn reports_all_missing_fields() {
        let m = map(json!({"type": "eql", "risk_score": 1}));
        let e = only(build_rule(m, Map::new(), origin()).unwrap_err());
        assert_eq!(e.kind, LoadErrorKind::MissingField);
        assert_eq!(
            e.message,
            "missing required rule fields `name`, `rule_id`, `severity`, `query`"
        );
    }

    #[test]
    fn exception_list_references_must_be_readable() {
        let base = json!({"rule_id": "x", "name": "n", "type": "machine_learning", "risk_score": 21, "severity": "low"});
        let with = |v: Value| {
            let mut m = map(base.clone());
            m.insert("exceptions_list".into(), v);
            build_rule(m, Map::new(), origin())
                .map(|b| b.rule)
                .map_err(only)
        };
        let good = json!([{"id": "e", "list_id": "endpoint_list", "namespace_type": "agnostic", "type": "endpoint"}]);
        assert!(with(good).is_ok());
        let cases = [
            (
                json!("endpoint_list"),
                "`exceptions_list` must be a list of tables, found a string",
            ),
            (
                json!(["endpoint_list"]),
                "`exceptions_list` item 1 must be a table, found a string",
            ),
            (
                json!([{"list_id": "a"}, {"id": "b"}]),
                "`exceptions_list` item 2 has no `list_id` string",
            ),
            (
                json!([{"list_id": "a", "namespace_type": 1}]),
                "`exceptions_list` item 1: `namespace_type` must be a string, found a number",
            ),
            (
                json!([{"list_id": "a"}, {"list_id": "b", "namespace_type": "global"}]),
                "`exceptions_list` item 2: unknown `namespace_type` \"global\" (expected single or agnostic)",
            ),
            (
                json!([{"list_id": "a", "namespace_type": "Single"}]),
                "`exceptions_list` item 1: unknown `namespace_type` \"Single\" (expected single or agnostic)",
            ),
        ];
        for (v, want) in cases {
            let e = with(v).unwrap_err();
            assert_eq!(e.key.as_deref(), Some("exceptions_list"));
            assert_eq!(e.message, want);
        }
        // A namespace_type error points at the value, not at the list.
        let e = with(json!([{"list_id": "a"}, {"list_id": "b", "namespace_type": "global"}]))
            .unwrap_err();
        assert_eq!(
            e.within,
            vec![Step::Item(1), Step::Key("namespace_type".into())]
        );
    }

    #[test]
    fn rejects_wrong_types_and_ranges() {
        let base = json!({"rule_id": "x", "name": "n", "type": "machine_learning", "risk_score": 21, "severity": "low"});
        let mut m = map(base.clone());
        m.insert("risk_score".into(), json!(101));
        let e = only(build_rule(m, Map::new(), origin()).unwrap_err());
        assert_eq!(e.key.as_deref(), Some("risk_score"));
        let mut m = map(base.clone());
        m.insert("tags".into(), json!([1]));
        assert_eq!(
            only(build_rule(m, Map::new(), origin()).unwrap_err())
                .key
                .as_deref(),
            Some("tags")
        );
        let mut m = map(base);
        m.insert("severity".into(), json!("urgent"));
        assert_eq!(
            only(build_rule(m, Map::new(), origin()).unwrap_err())
                .key
                .as_deref(),
            Some("severity")
        );
    }
}
