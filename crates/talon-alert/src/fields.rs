//! The names of the fields a Kibana security alert carries.
//!
//! Kibana writes these as flat, dotted top-level keys in the `_source` of
//! `.alerts-security.alerts-<space>` documents (`"kibana.alert.rule.name"`,
//! not `{"kibana": {"alert": ...}}`), while the copied event fields keep the
//! nesting they had in the event. Talon writes them the same way, so an
//! alert from talon and one from Kibana can be compared key by key.
//!
//! The names come from `@kbn/rule-data-utils` (`ALERT_*`, `SPACE_IDS`,
//! `VERSION`) and the security solution's `common/field_maps/field_names.ts`.

pub const TIMESTAMP: &str = "@timestamp";
pub const EVENT_KIND: &str = "event.kind";
pub const SPACE_IDS: &str = "kibana.space_ids";
pub const VERSION: &str = "kibana.version";

pub const ALERT_UUID: &str = "kibana.alert.uuid";
pub const ALERT_START: &str = "kibana.alert.start";
pub const ALERT_LAST_DETECTED: &str = "kibana.alert.last_detected";
pub const ALERT_ORIGINAL_TIME: &str = "kibana.alert.original_time";
pub const ALERT_ORIGINAL_EVENT: &str = "kibana.alert.original_event";
pub const ALERT_ORIGINAL_DATA_STREAM: &str = "kibana.alert.original_data_stream";
pub const ALERT_ANCESTORS: &str = "kibana.alert.ancestors";
pub const ALERT_DEPTH: &str = "kibana.alert.depth";
pub const ALERT_STATUS: &str = "kibana.alert.status";
pub const ALERT_WORKFLOW_STATUS: &str = "kibana.alert.workflow_status";
pub const ALERT_WORKFLOW_TAGS: &str = "kibana.alert.workflow_tags";
pub const ALERT_WORKFLOW_ASSIGNEE_IDS: &str = "kibana.alert.workflow_assignee_ids";
pub const ALERT_REASON: &str = "kibana.alert.reason";
pub const ALERT_SEVERITY: &str = "kibana.alert.severity";
pub const ALERT_RISK_SCORE: &str = "kibana.alert.risk_score";
pub const ALERT_BUILDING_BLOCK_TYPE: &str = "kibana.alert.building_block_type";
pub const ALERT_GROUP_ID: &str = "kibana.alert.group.id";
pub const ALERT_GROUP_INDEX: &str = "kibana.alert.group.index";
pub const ALERT_INTENDED_TIMESTAMP: &str = "kibana.alert.intended_timestamp";

pub const ALERT_RULE_PARAMETERS: &str = "kibana.alert.rule.parameters";
pub const ALERT_RULE_CATEGORY: &str = "kibana.alert.rule.category";
pub const ALERT_RULE_CONSUMER: &str = "kibana.alert.rule.consumer";
pub const ALERT_RULE_PRODUCER: &str = "kibana.alert.rule.producer";
pub const ALERT_RULE_EXECUTION_UUID: &str = "kibana.alert.rule.execution.uuid";
pub const ALERT_RULE_EXECUTION_TIMESTAMP: &str = "kibana.alert.rule.execution.timestamp";
pub const ALERT_RULE_EXECUTION_TYPE: &str = "kibana.alert.rule.execution.type";
pub const ALERT_RULE_NAME: &str = "kibana.alert.rule.name";
pub const ALERT_RULE_REVISION: &str = "kibana.alert.rule.revision";
pub const ALERT_RULE_TYPE_ID: &str = "kibana.alert.rule.rule_type_id";
pub const ALERT_RULE_UUID: &str = "kibana.alert.rule.uuid";
pub const ALERT_RULE_TAGS: &str = "kibana.alert.rule.tags";
pub const ALERT_RULE_RULE_ID: &str = "kibana.alert.rule.rule_id";
pub const ALERT_RULE_SEVERITY: &str = "kibana.alert.rule.severity";
pub const ALERT_RULE_RISK_SCORE: &str = "kibana.alert.rule.risk_score";
pub const ALERT_RULE_SEVERITY_MAPPING: &str = "kibana.alert.rule.severity_mapping";
pub const ALERT_RULE_BUILDING_BLOCK_TYPE: &str = "kibana.alert.rule.building_block_type";
pub const ALERT_RULE_META: &str = "kibana.alert.rule.meta";

/// The namespace every `kibana.alert.rule.<name>` field lives under.
pub const ALERT_RULE_NAMESPACE: &str = "kibana.alert.rule";
