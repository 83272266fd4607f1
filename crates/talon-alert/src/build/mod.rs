//! Building alerts: one per matching event, or a shell plus one building
//! block per event for an EQL sequence, shaped as Kibana's detection engine
//! shapes them.
//!
//! An alert document is assembled in Kibana's order, and later steps
//! overwrite earlier values while keys keep the place they were first
//! given (a JavaScript object spread, which the ordered map reproduces):
//!
//! 1. the framework head ([`rule_fields`]), ending with `@timestamp`;
//! 2. the event's fields, cleaned, with `kibana.alert.original_event.*`
//!    appended ([`source`]);
//! 3. the detection engine's alert fields (`buildAlertFields`): `event.kind`,
//!    original time, ancestors, status, depth, reason, severity, the rule
//!    block, `kibana.alert.uuid`, then the trailer.
//!
//! Sequence alerts follow `buildAlertGroupFromSequence`: building blocks
//! get `kibana.alert.building_block_type: "default"` and the group fields,
//! and the shell is made of the fields all building blocks share, then its
//! own alert fields; the shell comes first, as `wrapSequences` emits it.
//! Every id is deterministic ([`ids`]).

mod ids;
mod intersect;
mod rule_fields;
mod source;

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use talon_event::Event;
use talon_rules::Rule;

use crate::alert::Alert;
use crate::context::AlertContext;
use crate::error::AlertError;
use crate::fields::*;
use crate::reason::reason_message;
use ids::Ancestor;
use rule_fields::{RuleFields, Run};

/// The alert for one event matched by `rule`.
pub fn build_event_alert(
    rule: &Rule,
    event: &Event,
    ctx: &AlertContext,
) -> Result<Alert, AlertError> {
    AlertBuilder::new(rule, ctx).event_alert(event)
}

/// The alerts for one EQL sequence matched by `rule`: the shell alert first,
/// then one building block per event, all sharing `kibana.alert.group.id`.
pub fn build_sequence_alerts(
    rule: &Rule,
    events: &[&Event],
    ctx: &AlertContext,
) -> Result<Vec<Alert>, AlertError> {
    AlertBuilder::new(rule, ctx).sequence_alerts(events)
}

/// Builds the alerts of one rule in one run.
///
/// The rule's fields are computed once, on the first alert: a rule that
/// matches many events pays for them once, and a rule that never matches
/// (most of a large rule folder) never does. A builder is `Sync`, so one
/// can serve several threads.
#[derive(Clone, Debug)]
pub struct AlertBuilder<'r> {
    rule: &'r Rule,
    space_id: String,
    kibana_version: String,
    now_iso: String,
    rule_uuid: String,
    fields: OnceLock<RuleFields>,
}

/// What differs between two alerts of the same rule.
struct Specific {
    original_time: Option<String>,
    ancestors: Vec<Ancestor>,
    depth: u32,
    reason: String,
    building_block_type: Option<String>,
    uuid: String,
}

impl<'r> AlertBuilder<'r> {
    /// A builder for `rule`'s alerts in the run `ctx` describes. Cheap: the
    /// rule's fields wait for the first alert.
    pub fn new(rule: &'r Rule, ctx: &AlertContext) -> AlertBuilder<'r> {
        AlertBuilder {
            rule,
            space_id: ctx.space_id.clone(),
            kibana_version: ctx.kibana_version.clone(),
            now_iso: ctx.now_iso(),
            rule_uuid: ids::rule_uuid(rule),
            fields: OnceLock::new(),
        }
    }

    /// The rule's fields, computed on first use.
    fn fields(&self) -> &RuleFields {
        self.fields.get_or_init(|| {
            let execution_uuid = ids::execution_uuid(&self.rule_uuid, &self.now_iso);
            let run = Run {
                now_iso: &self.now_iso,
                space_id: &self.space_id,
                kibana_version: &self.kibana_version,
                rule_uuid: &self.rule_uuid,
                execution_uuid: &execution_uuid,
            };
            RuleFields::new(self.rule, &run)
        })
    }

    /// `kibana.alert.rule.uuid` of every alert this builder makes.
    pub fn rule_uuid(&self) -> &str {
        &self.rule_uuid
    }

    /// The alert for one event.
    ///
    /// TODO: apply `severity_mapping`, `risk_score_mapping` and
    /// `rule_name_override` as Kibana does for single-event alerts (no EQL
    /// rule in detection-rules uses them yet).
    pub fn event_alert(&self, event: &Event) -> Result<Alert, AlertError> {
        let raw = source::parse_source(event)?;
        let original_time = source::original_time(event, &raw);
        let reason = self.reason(&raw);
        let ancestor = Ancestor::of_event(event);
        let uuid = ids::event_alert_id(&ancestor, &self.space_id, &self.rule_uuid);

        let specific = Specific {
            original_time,
            ancestors: vec![ancestor],
            depth: 1,
            reason,
            building_block_type: self.rule.building_block_type.clone(),
            uuid,
        };
        let mut doc = self.fields().head.clone();
        extend(&mut doc, source::alert_body(raw));
        self.fill(&mut doc, &specific);
        Ok(Alert::new(doc, Some(event.origin.clone())))
    }

    /// The shell alert and the building blocks of one sequence.
    pub fn sequence_alerts(&self, events: &[&Event]) -> Result<Vec<Alert>, AlertError> {
        let first = events.first().ok_or(AlertError::EmptySequence)?;

        // Building blocks as Kibana has them before the framework head and
        // the group fields: what the shell's common fields come from.
        let event_ancestors: Vec<Ancestor> = events.iter().map(|e| Ancestor::of_event(e)).collect();
        let block_ids = ids::building_block_ids(&event_ancestors, &self.rule_uuid);
        let mut stages: Vec<Map<String, Value>> = Vec::with_capacity(events.len());
        let mut first_time = None;
        let blocks = events.iter().zip(&event_ancestors).zip(&block_ids);
        for (i, ((event, ancestor), block_id)) in blocks.enumerate() {
            let raw = source::parse_source(event)?;
            let original_time = source::original_time(event, &raw);
            if i == 0 {
                first_time.clone_from(&original_time);
            }
            let specific = Specific {
                original_time,
                ancestors: vec![ancestor.clone()],
                depth: 1,
                reason: self.reason(&raw),
                building_block_type: Some("default".to_owned()),
                uuid: block_id.clone(),
            };
            let mut stage = source::alert_body(raw);
            self.fill(&mut stage, &specific);
            stages.push(stage);
        }

        let (shell, group_id) = self.shell(&stages, &event_ancestors, &block_ids, first_time);
        let mut alerts = Vec::with_capacity(events.len() + 1);
        alerts.push(Alert::new(shell, Some(first.origin.clone())));
        for (i, (stage, event)) in stages.into_iter().zip(events).enumerate() {
            let mut doc = self.fields().head.clone();
            extend(&mut doc, stage);
            doc.insert(ALERT_GROUP_ID.into(), json!(group_id));
            doc.insert(ALERT_GROUP_INDEX.into(), json!(i));
            alerts.push(Alert::new(doc, Some(event.origin.clone())));
        }
        Ok(alerts)
    }

    /// The shell (and its id, the group id): the building blocks' common
    /// fields, then alert fields whose ancestors are every event and every
    /// building block.
    ///
    /// Kibana takes the shell's original time from its first building
    /// block's `@timestamp`, which is the alert time; talon takes the first
    /// event's time, as Kibana's earlier versions did, since that is what
    /// an analyst reads the field for.
    fn shell(
        &self,
        stages: &[Map<String, Value>],
        event_ancestors: &[Ancestor],
        block_ids: &[String],
        original_time: Option<String>,
    ) -> (Map<String, Value>, String) {
        let common = intersect::intersect_all(stages);
        let mut ancestors = Vec::with_capacity(event_ancestors.len() * 2);
        for (event, block_id) in event_ancestors.iter().zip(block_ids) {
            ancestors.push(event.clone());
            ancestors.push(Ancestor::of_alert(block_id, 1, &self.rule_uuid));
        }
        let uuid = ids::alert_id_from_ancestors(&ancestors, &self.rule_uuid);
        let specific = Specific {
            original_time,
            reason: self.reason(&common),
            ancestors,
            depth: 2,
            building_block_type: self.rule.building_block_type.clone(),
            uuid,
        };
        let mut doc = self.fields().head.clone();
        extend(&mut doc, common);
        self.fill(&mut doc, &specific);
        doc.insert(ALERT_GROUP_ID.into(), json!(specific.uuid));
        (doc, specific.uuid)
    }

    fn reason(&self, doc: &Map<String, Value>) -> String {
        reason_message(&self.rule.name, &self.rule.severity, doc)
    }

    /// Writes the detection engine's alert fields (`buildAlertFields`) in
    /// its order. Keys the head already placed keep their place.
    fn fill(&self, doc: &mut Map<String, Value>, s: &Specific) {
        doc.insert(TIMESTAMP.into(), json!(self.now_iso));
        doc.insert(SPACE_IDS.into(), json!([self.space_id]));
        doc.insert(EVENT_KIND.into(), json!("signal"));
        // A field Kibana leaves undefined also unsets what a shell's common
        // fields brought under that key.
        match &s.original_time {
            Some(time) => doc.insert(ALERT_ORIGINAL_TIME.into(), json!(time)),
            None => doc.shift_remove(ALERT_ORIGINAL_TIME),
        };
        doc.insert(ALERT_RULE_CONSUMER.into(), json!("siem"));
        let ancestors: Vec<Value> = s.ancestors.iter().map(ancestor_json).collect();
        doc.insert(ALERT_ANCESTORS.into(), Value::Array(ancestors));
        doc.insert(ALERT_STATUS.into(), json!("active"));
        doc.insert(ALERT_WORKFLOW_STATUS.into(), json!("open"));
        doc.insert(ALERT_DEPTH.into(), json!(s.depth));
        doc.insert(ALERT_REASON.into(), json!(s.reason));
        match &s.building_block_type {
            Some(kind) => doc.insert(ALERT_BUILDING_BLOCK_TYPE.into(), json!(kind)),
            None => doc.shift_remove(ALERT_BUILDING_BLOCK_TYPE),
        };
        doc.insert(ALERT_SEVERITY.into(), json!(self.rule.severity));
        doc.insert(ALERT_RISK_SCORE.into(), json!(self.rule.risk_score));
        let fields = self.fields();
        doc.insert(ALERT_RULE_PARAMETERS.into(), fields.parameters.clone());
        for (key, value) in &fields.rule_block {
            doc.insert(key.clone(), value.clone());
        }
        doc.insert(ALERT_UUID.into(), json!(s.uuid));
        for (key, value) in &fields.trailer {
            doc.insert(key.clone(), value.clone());
        }
    }
}

fn extend(doc: &mut Map<String, Value>, more: Map<String, Value>) {
    for (key, value) in more {
        doc.insert(key, value);
    }
}

/// An ancestor as Kibana writes it: `id`, `type`, `index`, `depth`, and
/// `rule` for alerts.
fn ancestor_json(a: &Ancestor) -> Value {
    let mut m = Map::with_capacity(5);
    m.insert("id".into(), json!(a.id));
    m.insert("type".into(), json!(a.kind));
    m.insert("index".into(), json!(a.index));
    m.insert("depth".into(), json!(a.depth));
    if let Some(rule) = &a.rule {
        m.insert("rule".into(), json!(rule));
    }
    Value::Object(m)
}
