//! The alert fields that depend only on the rule and the run: computed once
//! per rule, copied into every alert the rule creates.
//!
//! Three groups, each in the key order Kibana writes them:
//!
//! - the head the alerting framework puts first (`augmentAlerts` in the
//!   rule registry's persistence wrapper, then the common rule fields);
//! - the `kibana.alert.rule.*` block of the detection engine's
//!   `buildAlertFields`, from `actions` to `version`;
//! - the trailer after `kibana.alert.uuid` (workflow fields, meta, the
//!   duplicated rule severity and risk score, execution type).
//!
//! Values come from the [`Rule`], with Kibana's defaults for what a rule
//! file leaves out (`interval` 5m, `from` now-6m, `to` now, `max_signals`
//! 100, `version` 1, empty lists) and, for the fields only a Kibana export
//! carries (`exceptions_list`, `meta`, `namespace`, ...), the values kept in
//! `Rule::extra`. Fields Kibana leaves undefined are left out, as
//! `JSON.stringify` drops them.

use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use talon_rules::{Rule, RuleFormat};

use crate::build::overrides::{sorted_severity_mapping, with_severity_mapping};
use crate::build::source::flatten_into;
use crate::fields::*;

/// Kibana's `SERVER_APP_ID`: consumer and producer of security rules.
const SIEM: &str = "siem";

/// The rule-derived parts of every alert of one rule.
#[derive(Clone, Debug)]
pub(crate) struct RuleFields {
    pub head: Map<String, Value>,
    pub parameters: Value,
    pub rule_block: Vec<(String, Value)>,
    pub trailer: Vec<(String, Value)>,
    /// What single-event alerts show instead, when Kibana's sorting of the
    /// severity mapping changes its order
    /// ([`sorted_severity_mapping`](super::overrides::sorted_severity_mapping)).
    pub sorted: Option<SortedMapping>,
}

/// The severity mapping sorted by severity, and the parameters holding it.
#[derive(Clone, Debug)]
pub(crate) struct SortedMapping {
    pub mapping: Value,
    pub parameters: Value,
}

/// Everything about the run that a rule field needs.
pub(crate) struct Run<'a> {
    /// When talon writes the alerts (a rule's dates, when it has none).
    pub now_iso: &'a str,
    /// When the run that creates the alerts ran.
    pub run_iso: &'a str,
    pub space_id: &'a str,
    pub kibana_version: &'a str,
    pub rule_uuid: &'a str,
    pub execution_uuid: &'a str,
}

impl RuleFields {
    pub fn new(rule: &Rule, run: &Run<'_>) -> RuleFields {
        let parameters = parameters(rule);
        let sorted = sorted_severity_mapping(rule).map(|mapping| SortedMapping {
            parameters: with_severity_mapping(&parameters, &mapping),
            mapping,
        });
        RuleFields {
            head: head(rule, run, &parameters),
            rule_block: rule_block(rule, run),
            trailer: trailer(rule, run),
            parameters,
            sorted,
        }
    }
}

/// The alert type's display name and id, as the alerting framework
/// registers them for each security rule type.
fn rule_type(rule: &Rule) -> (String, String) {
    let known = match rule.rule_type.as_str() {
        "eql" => Some(("Event Correlation Rule", "siem.eqlRule")),
        "query" => Some(("Custom Query Rule", "siem.queryRule")),
        _ => None,
    };
    match known {
        Some((name, id)) => (name.to_owned(), id.to_owned()),
        // TODO: name the other rule types once talon runs them.
        None => (
            rule.rule_type.clone(),
            format!("siem.{}Rule", rule.rule_type),
        ),
    }
}

fn head(rule: &Rule, run: &Run<'_>, parameters: &Value) -> Map<String, Value> {
    let (category, type_id) = rule_type(rule);
    let revision = rule.extra.get("revision").cloned().unwrap_or(json!(0));
    let mut head = Map::with_capacity(16);
    head.insert(ALERT_RULE_EXECUTION_TIMESTAMP.into(), json!(run.run_iso));
    head.insert(ALERT_START.into(), json!(run.run_iso));
    head.insert(ALERT_LAST_DETECTED.into(), json!(run.run_iso));
    head.insert(VERSION.into(), json!(run.kibana_version));
    head.insert(ALERT_RULE_PARAMETERS.into(), parameters.clone());
    head.insert(ALERT_RULE_CATEGORY.into(), json!(category));
    head.insert(ALERT_RULE_CONSUMER.into(), json!(SIEM));
    head.insert(ALERT_RULE_EXECUTION_UUID.into(), json!(run.execution_uuid));
    head.insert(ALERT_RULE_NAME.into(), json!(rule.name));
    head.insert(ALERT_RULE_PRODUCER.into(), json!(SIEM));
    head.insert(ALERT_RULE_REVISION.into(), revision);
    head.insert(ALERT_RULE_TYPE_ID.into(), json!(type_id));
    head.insert(ALERT_RULE_UUID.into(), json!(run.rule_uuid));
    head.insert(SPACE_IDS.into(), json!([run.space_id]));
    head.insert(ALERT_RULE_TAGS.into(), json!(rule.tags));
    head.insert(TIMESTAMP.into(), json!(run.run_iso));
    head
}

/// `kibana.alert.rule.parameters`: the rule's params in snake case, as
/// `commonParamsCamelToSnake` and the EQL branch of
/// `typeSpecificCamelToSnake` order them (`output_index` removed).
fn parameters(rule: &Rule) -> Value {
    let mut p = Params(Map::with_capacity(48));
    p.put("description", json!(rule.description));
    p.put("risk_score", json!(rule.risk_score));
    p.put("severity", json!(rule.severity));
    p.opt(
        "building_block_type",
        rule.building_block_type.as_ref().map(|v| json!(v)),
    );
    p.extra(rule, "namespace");
    p.opt("note", rule.note.as_ref().map(|v| json!(v)));
    p.opt("license", rule.license.as_ref().map(|v| json!(v)));
    for key in [
        "timeline_id",
        "timeline_title",
        "meta",
        "rule_name_override",
    ] {
        p.extra(rule, key);
    }
    p.opt(
        "timestamp_override",
        rule.timestamp_override.as_ref().map(|v| json!(v)),
    );
    p.extra(rule, "timestamp_override_fallback_disabled");
    p.extra(rule, "investigation_fields");
    p.put("author", json!(rule.author));
    p.put("false_positives", json!(rule.false_positives));
    p.put("from", json!(rule.from_or_default()));
    p.put("rule_id", json!(rule.rule_id));
    p.put("max_signals", json!(rule.max_signals_or_default()));
    p.put(
        "risk_score_mapping",
        extra_or_empty(rule, "risk_score_mapping"),
    );
    p.put("severity_mapping", extra_or_empty(rule, "severity_mapping"));
    p.put("threat", threat(rule));
    p.put("to", json!(to(rule)));
    p.put("references", json!(rule.references));
    p.put("version", json!(rule.version.unwrap_or(1)));
    p.put("exceptions_list", extra_or_empty(rule, "exceptions_list"));
    p.put("immutable", json!(is_prebuilt(rule)));
    p.put("rule_source", rule_source(rule));
    p.put(
        "related_integrations",
        extra_or_empty(rule, "related_integrations"),
    );
    p.put("required_fields", extra_or_empty(rule, "required_fields"));
    p.put("setup", json!(rule.setup.as_deref().unwrap_or_default()));

    p.put("type", json!(rule.rule_type));
    let language = rule
        .language
        .as_deref()
        .or((rule.rule_type == "eql").then_some("eql"));
    p.opt("language", language.map(|v| json!(v)));
    // The rule's own `index`, when it has one (a rule without it searches
    // its data view or Kibana's default patterns: `indices` says which).
    if rule.index_written {
        p.put("index", json!(rule.index));
    }
    p.extra(rule, "data_view_id");
    p.opt("query", rule.query.as_ref().map(|v| json!(v)));
    p.extra(rule, "filters");
    p.opt(
        "timestamp_field",
        rule.timestamp_field.as_ref().map(|v| json!(v)),
    );
    let category = rule.event_category_override.as_ref();
    p.opt("event_category_override", category.map(|v| json!(v)));
    p.opt(
        "tiebreaker_field",
        rule.tiebreaker_field.as_ref().map(|v| json!(v)),
    );
    p.extra(rule, "alert_suppression");
    Value::Object(p.0)
}

/// `kibana.alert.rule.actions` .. `kibana.alert.rule.version`.
fn rule_block(rule: &Rule, run: &Run<'_>) -> Vec<(String, Value)> {
    let mut b = Block(Vec::with_capacity(36));
    b.put("actions", json!([]));
    b.put("author", json!(rule.author));
    b.put(
        "created_at",
        json!(rule_date(rule, "creation_date", "created_at", run.now_iso)),
    );
    b.put("created_by", extra_str_or_empty(rule, "created_by"));
    b.put("description", json!(rule.description));
    b.put("enabled", json!(rule.enabled.unwrap_or(true)));
    b.put("exceptions_list", extra_or_empty(rule, "exceptions_list"));
    b.put("false_positives", json!(rule.false_positives));
    b.put("from", json!(rule.from_or_default()));
    b.put("immutable", json!(is_prebuilt(rule)));
    b.put("interval", json!(rule.interval_or_default()));
    // What the run searched, as Kibana writes it: the default patterns for
    // a rule without `index` (a data view's are unknown here).
    b.put("indices", json!(rule.searched_index()));
    b.opt("license", rule.license.as_ref().map(|v| json!(v)));
    b.put("max_signals", json!(rule.max_signals_or_default()));
    b.put("name", json!(rule.name));
    b.extra(rule, "namespace");
    b.opt("note", rule.note.as_ref().map(|v| json!(v)));
    b.put("references", json!(rule.references));
    b.put(
        "risk_score_mapping",
        extra_or_empty(rule, "risk_score_mapping"),
    );
    b.put("rule_id", json!(rule.rule_id));
    b.extra(rule, "rule_name_override");
    b.put("severity_mapping", extra_or_empty(rule, "severity_mapping"));
    b.put("tags", json!(rule.tags));
    b.put("threat", threat(rule));
    b.extra(rule, "timeline_id");
    b.extra(rule, "timeline_title");
    b.opt(
        "timestamp_override",
        rule.timestamp_override.as_ref().map(|v| json!(v)),
    );
    b.put("to", json!(to(rule)));
    b.put("type", json!(rule.rule_type));
    b.put(
        "updated_at",
        json!(rule_date(rule, "updated_date", "updated_at", run.now_iso)),
    );
    b.put("updated_by", extra_str_or_empty(rule, "updated_by"));
    b.put("uuid", json!(run.rule_uuid));
    b.put("version", json!(rule.version.unwrap_or(1)));
    b.0
}

/// The fields after `kibana.alert.uuid`.
fn trailer(rule: &Rule, run: &Run<'_>) -> Vec<(String, Value)> {
    let mut t = vec![
        (ALERT_WORKFLOW_TAGS.to_owned(), json!([])),
        (ALERT_WORKFLOW_ASSIGNEE_IDS.to_owned(), json!([])),
    ];
    if let Some(meta) = rule.extra.get("meta") {
        flatten_into(ALERT_RULE_META.to_owned(), meta, &mut t);
    }
    t.push((ALERT_RULE_RISK_SCORE.to_owned(), json!(rule.risk_score)));
    t.push((ALERT_RULE_SEVERITY.to_owned(), json!(rule.severity)));
    if let Some(bb) = &rule.building_block_type {
        t.push((ALERT_RULE_BUILDING_BLOCK_TYPE.to_owned(), json!(bb)));
    }
    t.push((ALERT_INTENDED_TIMESTAMP.to_owned(), json!(run.run_iso)));
    t.push((ALERT_RULE_EXECUTION_TYPE.to_owned(), json!("scheduled")));
    t
}

/// Whether Kibana would hold this rule as a prebuilt (Elastic) rule: what a
/// Kibana export says, else an Elastic-authored rule from the
/// detection-rules repository or the Elastic rule pages.
fn is_prebuilt(rule: &Rule) -> bool {
    match rule.extra.get("immutable").and_then(Value::as_bool) {
        Some(immutable) => immutable,
        None => {
            let from_elastic =
                matches!(rule.origin.format, RuleFormat::Toml | RuleFormat::Markdown);
            from_elastic && rule.author.iter().any(|a| a == "Elastic")
        }
    }
}

fn rule_source(rule: &Rule) -> Value {
    match rule.extra.get("rule_source") {
        Some(source) => source.clone(),
        None if is_prebuilt(rule) => json!({"type": "external", "is_customized": false}),
        None => json!({"type": "internal"}),
    }
}

fn threat(rule: &Rule) -> Value {
    // Serializing plain structs of strings cannot fail.
    serde_json::to_value(&rule.threat).unwrap_or_else(|_| json!([]))
}

fn to(rule: &Rule) -> &str {
    rule.to.as_deref().unwrap_or("now")
}

fn extra_or_empty(rule: &Rule, key: &str) -> Value {
    rule.extra.get(key).cloned().unwrap_or_else(|| json!([]))
}

fn extra_str_or_empty(rule: &Rule, key: &str) -> Value {
    rule.extra.get(key).cloned().unwrap_or_else(|| json!(""))
}

/// A rule's creation or update time: the repository date of a TOML rule
/// (`2024/11/04` in `[metadata]`), what a Kibana export says, else now.
fn rule_date(rule: &Rule, metadata_key: &str, export_key: &str, now_iso: &str) -> String {
    let repo_date = rule.metadata.get(metadata_key).and_then(Value::as_str);
    if let Some(date) = repo_date.and_then(|d| NaiveDate::parse_from_str(d, "%Y/%m/%d").ok()) {
        return date.format("%Y-%m-%dT00:00:00.000Z").to_string();
    }
    match rule.extra.get(export_key).and_then(Value::as_str) {
        Some(date) => date.to_owned(),
        None => now_iso.to_owned(),
    }
}

/// Builder for `kibana.alert.rule.parameters`.
struct Params(Map<String, Value>);

impl Params {
    fn put(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_owned(), value);
    }

    fn opt(&mut self, key: &str, value: Option<Value>) {
        if let Some(value) = value {
            self.put(key, value);
        }
    }

    fn extra(&mut self, rule: &Rule, key: &str) {
        self.opt(key, rule.extra.get(key).cloned());
    }
}

/// Builder for the `kibana.alert.rule.<name>` block.
struct Block(Vec<(String, Value)>);

impl Block {
    fn put(&mut self, name: &str, value: Value) {
        self.0
            .push((format!("{ALERT_RULE_NAMESPACE}.{name}"), value));
    }

    fn opt(&mut self, name: &str, value: Option<Value>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    fn extra(&mut self, rule: &Rule, name: &str) {
        self.opt(name, rule.extra.get(name).cloned());
    }
}
