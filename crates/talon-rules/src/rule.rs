//! The rule model: one detection rule, whatever file it came from.
//!
//! Field names follow the Kibana detection-rule API (and the `[rule]` table
//! of detection-rules TOML), so a detection engineer recognises them.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::overrides::Overrides;

/// The most alerts Kibana's alerting lets one rule run write (its
/// `xpack.alerting.rules.run.alerts.max` setting, 1,000 by default): a
/// larger `max_signals` is cut to it, with a warning on the rule.
pub const KIBANA_MAX_ALERTS_PER_RUN: u32 = 1000;

/// A MITRE ATT&CK (or ATLAS) mapping entry: one tactic and its techniques.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Threat {
    pub framework: String,
    pub tactic: ThreatRef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub technique: Vec<Technique>,
}

/// A tactic or sub-technique: id, name and reference URL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreatRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub reference: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtechnique: Vec<ThreatRef>,
}

/// Which kind of file a rule was loaded from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFormat {
    /// detection-rules TOML (`[metadata]`, `[rule]`).
    Toml,
    /// A Kibana saved-objects / rule export line (NDJSON).
    KibanaNdjson,
    /// An Elastic rule documentation page (Markdown).
    Markdown,
}

/// Where a rule came from, and how to map a byte of its query back to the
/// file, so a query error points at the right line and column of the file.
#[derive(Clone, Debug)]
pub struct RuleOrigin {
    pub path: PathBuf,
    pub format: RuleFormat,
    /// The whole file text (shared by every rule of the file).
    pub text: Arc<str>,
    /// For each byte offset of the query text (plus one past the end), the
    /// byte offset in `text` it came from. Empty when unknown.
    pub query_offsets: Arc<[u32]>,
}

impl RuleOrigin {
    /// The file offset of query byte `pos` (best effort when unknown).
    pub fn file_offset(&self, pos: usize) -> usize {
        match self.query_offsets.get(pos).or(self.query_offsets.last()) {
            Some(&o) => o as usize,
            None => 0,
        }
    }
}

/// The default value of Kibana's `securitySolution:defaultIndex` advanced
/// setting: what the detection engine searches for a rule with neither
/// `index` nor `data_view_id`. The setting can be changed per space; talon
/// reads the default. The last expression excludes Elastic Cloud's own
/// logs from the others.
pub const DEFAULT_INDEX_PATTERNS: &[&str] = &[
    "apm-*-transaction*",
    "auditbeat-*",
    "endgame-*",
    "filebeat-*",
    "logs-*",
    "packetbeat-*",
    "traces-apm*",
    "winlogbeat-*",
    "-*elastic-cloud-logs-*",
];

/// Where the index patterns a rule searches come from, as Kibana's
/// detection engine chooses them for each run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexSource<'a> {
    /// A `data_view_id` (a non-empty string): Kibana searches that data
    /// view's patterns, even when `index` is written too. talon cannot
    /// know them, so it searches `index`, or every index without one.
    DataView(&'a str),
    /// `index`, as written. An empty list is passed on as it is (Kibana
    /// falls back to the defaults only when the key is missing or null),
    /// and an empty target list reaches every index.
    Written,
    /// Neither: [`DEFAULT_INDEX_PATTERNS`].
    Default,
    /// The rule type reads no index: an ES|QL query names its own, and a
    /// machine learning rule reads its job's results.
    NotRead,
}

/// One detection rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub rule_id: String,
    pub name: String,
    pub description: String,
    /// `eql`, `query`, `esql`, `threshold`, ...
    pub rule_type: String,
    pub language: Option<String>,
    pub query: Option<String>,
    /// The index patterns as written (empty when none are); which indices
    /// the rule searches is [`Rule::searched_index`].
    pub index: Vec<String>,
    /// Whether `index` was written, as a list (an empty one too); a missing
    /// key or `null` is not, and Kibana then searches its default index
    /// patterns (see [`Rule::index_source`]).
    pub index_written: bool,
    pub severity: String,
    pub risk_score: i64,
    /// How often the rule runs (`5m` when absent).
    pub interval: Option<String>,
    /// The start of each run's window (`now-6m` when absent).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Most alerts one run creates (100 when absent).
    pub max_signals: Option<u32>,
    pub timestamp_override: Option<String>,
    /// EQL search parameters.
    pub event_category_override: Option<String>,
    pub timestamp_field: Option<String>,
    pub tiebreaker_field: Option<String>,
    pub tags: Vec<String>,
    pub threat: Vec<Threat>,
    /// The investigation guide (Markdown).
    pub note: Option<String>,
    pub setup: Option<String>,
    pub references: Vec<String>,
    pub false_positives: Vec<String>,
    pub author: Vec<String>,
    pub license: Option<String>,
    pub building_block_type: Option<String>,
    pub version: Option<u32>,
    pub enabled: Option<bool>,
    /// `filters`, read: what Kibana ANDs with the query, and which of them
    /// talon applies (the JSON stays in `extra` too).
    pub filters: crate::filters::Filters,
    /// Every other `[rule]` / export field, kept as JSON, so nothing is lost.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// `[metadata]` of a TOML rule (creation_date, maturity, integration...).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub origin: RuleOrigin,
    /// What is wrong with `interval`, `from` or `to` (a value the schedule
    /// replay cannot read, a window that ends before it starts), each at
    /// its value in the file. Only `hunt --schedule` reads those fields,
    /// so such a rule still loads and runs without it; `check` reports
    /// these as errors, and `hunt --schedule` does not run the rule.
    pub schedule_errors: Vec<crate::error::LoadError>,
    /// Fields talon accepts but does not apply (`alert_suppression`; the
    /// `risk_score_mapping` entries after the first, which Kibana does not
    /// read either), each a note at its value in the file, naming the
    /// rule. The rule runs without them; `check` and `hunt` show these as
    /// warnings for the rules they would run.
    pub unapplied: Vec<crate::error::LoadError>,
}

impl Rule {
    /// The rule's `data_view_id`, when it is a non-empty string (Kibana
    /// ignores an empty one).
    pub fn data_view_id(&self) -> Option<&str> {
        self.extra
            .get("data_view_id")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// Where the patterns the rule searches come from.
    pub fn index_source(&self) -> IndexSource<'_> {
        if matches!(self.rule_type.as_str(), "esql" | "machine_learning") {
            return IndexSource::NotRead;
        }
        match self.data_view_id() {
            Some(id) => IndexSource::DataView(id),
            None if self.index_written => IndexSource::Written,
            None => IndexSource::Default,
        }
    }

    /// The index patterns the rule searches: `index` as written, or
    /// Kibana's default patterns when there is neither `index` nor
    /// `data_view_id`. With a data view, whose patterns talon cannot know,
    /// `index` (empty, so every index, when not written). An empty list
    /// searches every index.
    pub fn searched_index(&self) -> Vec<String> {
        match self.index_source() {
            IndexSource::Default => DEFAULT_INDEX_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            IndexSource::DataView(_) | IndexSource::Written | IndexSource::NotRead => {
                self.index.clone()
            }
        }
    }

    pub fn interval_or_default(&self) -> &str {
        self.interval.as_deref().unwrap_or("5m")
    }

    pub fn from_or_default(&self) -> &str {
        self.from.as_deref().unwrap_or("now-6m")
    }

    /// Whether `hunt --schedule` can replay this rule's schedule (see
    /// [`Rule::schedule_errors`]).
    pub fn can_schedule(&self) -> bool {
        self.schedule_errors.is_empty()
    }

    pub fn max_signals_or_default(&self) -> u32 {
        self.max_signals.unwrap_or(100)
    }

    /// The alerts one run of the rule writes at most, as Kibana runs it:
    /// `max_signals`, but no more than Kibana's alerting allows a run
    /// ([`KIBANA_MAX_ALERTS_PER_RUN`]).
    pub fn alerts_per_run(&self) -> u32 {
        self.max_signals_or_default()
            .clamp(1, KIBANA_MAX_ALERTS_PER_RUN)
    }

    pub fn is_building_block(&self) -> bool {
        self.building_block_type.is_some()
    }

    /// `metadata.maturity = "deprecated"` (detection-rules TOML only). Such
    /// rules load normally; the package build drops them, so callers may
    /// choose to skip or flag them.
    pub fn is_deprecated(&self) -> bool {
        self.metadata.get("maturity").and_then(|v| v.as_str()) == Some("deprecated")
    }

    /// The new_terms fields, from either shape: the API's flat
    /// `new_terms_fields` (Kibana exports) or detection-rules TOML's
    /// `[rule.new_terms] field = "new_terms_fields", value = [...]`.
    pub fn new_terms_fields(&self) -> Vec<String> {
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        if let Some(v) = self.extra.get("new_terms_fields") {
            return strings(v);
        }
        self.extra
            .get("new_terms")
            .and_then(|nt| nt.get("value"))
            .map(strings)
            .unwrap_or_default()
    }

    /// The new_terms history window start (`now-7d`), from either shape: the
    /// API's `history_window_start` or TOML's
    /// `[[rule.new_terms.history_window_start]] value = "now-7d"`.
    pub fn history_window_start(&self) -> Option<&str> {
        if let Some(v) = self
            .extra
            .get("history_window_start")
            .and_then(|v| v.as_str())
        {
            return Some(v);
        }
        let hw = self.extra.get("new_terms")?.get("history_window_start")?;
        let first = hw.as_array().and_then(|a| a.first()).unwrap_or(hw);
        first.get("value")?.as_str()
    }

    /// The rule's `severity_mapping`, `risk_score_mapping` and
    /// `rule_name_override`, typed. A loaded rule's were checked when it
    /// loaded; of a rule built otherwise, entries that are not well formed
    /// are left out.
    pub fn overrides(&self) -> Overrides {
        crate::overrides::read(&self.extra).0
    }

    /// 1-based file line and column of query byte `pos`, for pointing a
    /// query diagnostic at the rule file.
    pub fn query_line_col(&self, pos: usize) -> (usize, usize) {
        talon_eql::diag::line_col(&self.origin.text, self.origin.file_offset(pos))
    }
}
