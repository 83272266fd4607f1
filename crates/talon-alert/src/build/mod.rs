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
//!
//! A single event's alert takes its severity, risk score and rule name
//! from the event when the rule's overrides say so ([`overrides`]); a
//! sequence's alerts keep the rule's, as Kibana builds them.
//!
//! JSON Lines output need not build the map: [`jsonl`] splices the rule's
//! fields, serialized once per builder, with the event's fields written
//! straight from its source text ([`tape`]). The bytes are the map's
//! serialization, and whatever the splice cannot vouch for is written from
//! the map.

mod ids;
mod intersect;
mod jsonl;
mod overrides;
mod rule_fields;
mod source;
mod tape;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use talon_event::{Event, Origin};
use talon_rules::Rule;

use crate::alert::Alert;
use crate::context::{iso_millis, AlertContext};
use crate::error::AlertError;
use crate::fields::*;
use crate::reason::{reason_message, reason_with, template_text};
use ids::Ancestor;
use jsonl::{push_json, write_after_head, EventParts, Template};
use overrides::{Applier, Stated};
use rule_fields::{RuleFields, Run};
use tape::Tape;

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

/// The ids of one sequence's alerts, from its events: each event's
/// ancestor entry (a hash of the event when it has no `_id`), the building
/// blocks' ids, and the shell's ancestors and id. See
/// [`AlertBuilder::sequence_ids`].
pub struct SequenceIds<'e> {
    events: &'e [&'e Event],
    event_ancestors: Vec<Ancestor>,
    block_ids: Vec<String>,
    shell_ancestors: Vec<Ancestor>,
    shell: String,
}

impl SequenceIds<'_> {
    /// `kibana.alert.uuid` of the shell alert.
    pub fn shell_uuid(&self) -> &str {
        &self.shell
    }
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
    /// When talon writes the alerts: the time a rule without a creation
    /// or update date says for it.
    now_iso: String,
    /// The time of the run that creates the alerts: `@timestamp`, the
    /// execution's time and uuid. `now_iso`, unless the builder is
    /// [`AlertBuilder::for_run`] of a replayed run.
    run_iso: String,
    rule_uuid: String,
    /// The rule's overrides, read when the builder is made.
    overrides: Applier,
    fields: OnceLock<RuleFields>,
    /// The rule's fields as JSON bytes, made on the first JSON Lines alert.
    template: OnceLock<Template>,
}

/// What a JSON Lines writer tells its caller about an alert it wrote, so
/// the line need not be read again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSummary {
    /// `kibana.alert.uuid`, also the document `_id` ([`Alert::uuid`]).
    pub uuid: String,
    /// Whether the alert is a building block ([`Alert::is_building_block`]).
    pub building_block: bool,
}

/// An alert less the framework head (the head extended by `doc` is the
/// alert document), with where its (first) event was read from.
struct Headless {
    doc: Map<String, Value>,
    origin: Origin,
}

impl Headless {
    fn into_alert(self, head: &Map<String, Value>) -> Alert {
        let mut doc = head.clone();
        extend(&mut doc, self.doc);
        Alert::new(doc, Some(self.origin))
    }
}

/// What differs between two alerts of the same rule.
struct Specific<'r> {
    original_time: Option<String>,
    ancestors: Vec<Ancestor>,
    depth: u32,
    reason: String,
    building_block_type: Option<String>,
    /// Severity, risk score and rule name: the rule's, or an override's.
    stated: Stated<'r>,
    /// Whether the alert is a single event's, which Kibana builds with the
    /// overrides applied (and its severity mapping sorted).
    of_event: bool,
    uuid: String,
}

impl<'r> AlertBuilder<'r> {
    /// A builder for `rule`'s alerts in the run `ctx` describes. Cheap: the
    /// rule's fields wait for the first alert.
    pub fn new(rule: &'r Rule, ctx: &AlertContext) -> AlertBuilder<'r> {
        let now_iso = ctx.now_iso();
        AlertBuilder {
            rule,
            space_id: ctx.space_id.clone(),
            kibana_version: ctx.kibana_version.clone(),
            run_iso: now_iso.clone(),
            now_iso,
            rule_uuid: ids::rule_uuid(rule),
            overrides: Applier::new(rule),
            fields: OnceLock::new(),
            template: OnceLock::new(),
        }
    }

    /// A builder for the same rule's alerts as the rule's run at `at`
    /// creates them (a schedule replay): `@timestamp`,
    /// `kibana.alert.rule.execution.timestamp`, `kibana.alert.start`,
    /// `kibana.alert.last_detected` and `kibana.alert.intended_timestamp`
    /// are the run's time, and `kibana.alert.rule.execution.uuid` is the
    /// run's own (derived from the rule and the time, so the same on every
    /// replay). The alert ids and the rule's dates do not change. Cheap:
    /// the rule's fields wait for the first alert.
    pub fn for_run(&self, at: DateTime<Utc>) -> AlertBuilder<'r> {
        AlertBuilder {
            rule: self.rule,
            space_id: self.space_id.clone(),
            kibana_version: self.kibana_version.clone(),
            now_iso: self.now_iso.clone(),
            run_iso: iso_millis(at),
            rule_uuid: self.rule_uuid.clone(),
            overrides: self.overrides.clone(),
            fields: OnceLock::new(),
            template: OnceLock::new(),
        }
    }

    /// The rule's fields, computed on first use.
    fn fields(&self) -> &RuleFields {
        self.fields.get_or_init(|| {
            let execution_uuid = ids::execution_uuid(&self.rule_uuid, &self.run_iso);
            let run = Run {
                now_iso: &self.now_iso,
                run_iso: &self.run_iso,
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

    /// `kibana.alert.uuid` of the alert [`AlertBuilder::event_alert`]
    /// builds for `event`, without building it.
    pub fn event_alert_uuid(&self, event: &Event) -> String {
        let ancestor = Ancestor::of_event(event);
        ids::event_alert_id(&ancestor, &self.space_id, &self.rule_uuid)
    }

    /// `kibana.alert.uuid` of the shell alert
    /// [`AlertBuilder::sequence_alerts`] builds for `events`, without
    /// building it; `None` for no events.
    pub fn sequence_alert_uuid(&self, events: &[&Event]) -> Option<String> {
        self.sequence_ids(events).map(|ids| ids.shell)
    }

    /// The ids of the alerts [`AlertBuilder::sequence_alerts`] builds for
    /// `events`, worked out once: a caller that checks the shell's id
    /// before building (to skip a repeat) builds with them, rather than
    /// hash every event again. `None` for no events.
    pub fn sequence_ids<'e>(&self, events: &'e [&'e Event]) -> Option<SequenceIds<'e>> {
        if events.is_empty() {
            return None;
        }
        let event_ancestors: Vec<Ancestor> = events.iter().map(|e| Ancestor::of_event(e)).collect();
        let block_ids = ids::building_block_ids(&event_ancestors, &self.rule_uuid);
        let shell_ancestors = self.shell_ancestors(&event_ancestors, &block_ids);
        let shell = ids::alert_id_from_ancestors(&shell_ancestors, &self.rule_uuid);
        Some(SequenceIds {
            events,
            event_ancestors,
            block_ids,
            shell_ancestors,
            shell,
        })
    }

    /// A shell's ancestors: every event, each followed by its building
    /// block.
    fn shell_ancestors(&self, event_ancestors: &[Ancestor], block_ids: &[String]) -> Vec<Ancestor> {
        let mut ancestors = Vec::with_capacity(event_ancestors.len() * 2);
        for (event, block_id) in event_ancestors.iter().zip(block_ids) {
            ancestors.push(event.clone());
            ancestors.push(Ancestor::of_alert(block_id, 1, &self.rule_uuid));
        }
        ancestors
    }

    /// The alert for one event, with the rule's overrides applied: its
    /// severity, risk score and rule name may come from the event's fields
    /// ([`overrides`]).
    pub fn event_alert(&self, event: &Event) -> Result<Alert, AlertError> {
        let raw = source::parse_source(event)?;
        let original_time = source::original_time(event, &raw);
        let stated = self
            .overrides
            .stated(self.rule, |path| crate::path::lookup(&raw, path).cloned());
        let reason = reason_message(stated.name(), stated.severity, &raw);
        let ancestor = Ancestor::of_event(event);
        let uuid = ids::event_alert_id(&ancestor, &self.space_id, &self.rule_uuid);

        let specific = self.event_specific(original_time, ancestor, reason, stated, uuid);
        let mut doc = self.fields().head.clone();
        extend(&mut doc, source::alert_body(raw));
        self.fill(&mut doc, &specific);
        Ok(Alert::new(doc, Some(event.origin.clone())))
    }

    /// Appends the alert for one event as a JSON Lines line (the document
    /// and `\n`): the bytes [`JsonLinesSink`](crate::write::JsonLinesSink)
    /// writes for [`AlertBuilder::event_alert`], without building the map.
    /// On an error nothing is appended.
    ///
    /// Of the event, only the source text, `index`, `id` and `origin` are
    /// read, and one field: `@timestamp`, for `kibana.alert.original_time`,
    /// is asked of the flattened fields first and of the source text when
    /// they have none. An event with an empty field map therefore gets the
    /// same alert unless its flattened `@timestamp` differs from its
    /// source's: a reader-derived time or a mapping's `null_value` for a
    /// document without one, the first of an array (the source path reads
    /// no time from an array), the first of repeated `@timestamp` keys (the
    /// source path reads the last).
    ///
    /// Callable from several threads at once: the rule's fields and their
    /// bytes are made once, by whichever call comes first.
    pub fn write_event_alert_jsonl(
        &self,
        event: &Event,
        out: &mut Vec<u8>,
    ) -> Result<AlertSummary, AlertError> {
        let start = out.len();
        if let Some(summary) = self.fast_event_jsonl(event, out) {
            return Ok(summary);
        }
        out.truncate(start);
        let alert = self.event_alert(event)?;
        Ok(push_alert_line(&alert, out))
    }

    /// [`AlertBuilder::write_event_alert_jsonl`] from the template and the
    /// source text; `None` when the event needs the map (the caller cuts
    /// `out` back).
    fn fast_event_jsonl(&self, event: &Event, out: &mut Vec<u8>) -> Option<AlertSummary> {
        let template = self.template();
        if !template.splices_events() {
            return None;
        }
        let tape = Tape::scan(event.source()).ok()?;
        let mut unreadable = false;
        let mut value_at = |path: &str| -> Option<Value> {
            let node = tape.lookup(0, path)?;
            tape.value(node).map_err(|_| unreadable = true).ok()
        };
        let original_time = source::original_time_with(event, || {
            value_at(TIMESTAMP).as_ref().and_then(source::source_nanos)
        });
        let stated = self.overrides.stated(self.rule, &mut value_at);
        let reason = reason_with(stated.name(), stated.severity, |path| {
            template_text(value_at(path))
        });
        if unreadable {
            return None;
        }
        let ancestor = Ancestor::of_event(event);
        let uuid = ids::event_alert_id(&ancestor, &self.space_id, &self.rule_uuid);
        let parts = EventParts {
            original_time: original_time.as_deref(),
            ancestor: &ancestor,
            reason: &reason,
            severity: stated.severity,
            risk_score: &stated.risk_score,
            rule_name: stated.name(),
            uuid: &uuid,
        };
        template.write_event(&tape, &parts, out).ok()?;
        Some(AlertSummary {
            uuid,
            building_block: self.rule.building_block_type.is_some(),
        })
    }

    /// The alert fields of an event alert (see [`AlertBuilder::fill`]).
    fn event_specific(
        &self,
        original_time: Option<String>,
        ancestor: Ancestor,
        reason: String,
        stated: Stated<'r>,
        uuid: String,
    ) -> Specific<'r> {
        Specific {
            original_time,
            ancestors: vec![ancestor],
            depth: 1,
            reason,
            building_block_type: self.rule.building_block_type.clone(),
            stated,
            of_event: true,
            uuid,
        }
    }

    /// The rule's fields as bytes, made on first use.
    fn template(&self) -> &Template {
        self.template.get_or_init(|| {
            // Placeholders stand for what differs between alerts; the
            // template keeps their keys' places, not their values.
            let placeholder = Ancestor::of_alert("", 0, "");
            let specific = self.event_specific(
                Some(String::new()),
                placeholder,
                String::new(),
                Stated::rule_own(self.rule),
                String::new(),
            );
            let mut fields = Map::new();
            self.fill(&mut fields, &specific);
            Template::new(&self.fields().head, &fields)
        })
    }

    /// The shell alert and the building blocks of one sequence.
    pub fn sequence_alerts(&self, events: &[&Event]) -> Result<Vec<Alert>, AlertError> {
        let ids = self.sequence_ids(events).ok_or(AlertError::EmptySequence)?;
        self.sequence_alerts_of(&ids)
    }

    /// [`AlertBuilder::sequence_alerts`] for the events `ids` were worked
    /// out from.
    pub fn sequence_alerts_of(&self, ids: &SequenceIds<'_>) -> Result<Vec<Alert>, AlertError> {
        let head = &self.fields().head;
        let docs = self.sequence_docs(ids)?;
        Ok(docs.into_iter().map(|d| d.into_alert(head)).collect())
    }

    /// Appends the JSON Lines lines of one sequence's alerts, shell first:
    /// the bytes [`JsonLinesSink`](crate::write::JsonLinesSink) writes for
    /// [`AlertBuilder::sequence_alerts`], without copying the rule's fields
    /// into each. On an error nothing is appended. Events are read as
    /// [`AlertBuilder::write_event_alert_jsonl`] reads them.
    ///
    /// TODO: stream the building blocks from their source text as event
    /// alerts are; the shell needs their fields as maps to intersect them,
    /// so the maps are built as [`AlertBuilder::sequence_alerts`] builds
    /// them.
    pub fn write_sequence_alerts_jsonl(
        &self,
        events: &[&Event],
        out: &mut Vec<u8>,
    ) -> Result<Vec<AlertSummary>, AlertError> {
        let ids = self.sequence_ids(events).ok_or(AlertError::EmptySequence)?;
        self.write_sequence_alerts_jsonl_of(&ids, out)
    }

    /// [`AlertBuilder::write_sequence_alerts_jsonl`] for the events `ids`
    /// were worked out from.
    pub fn write_sequence_alerts_jsonl_of(
        &self,
        ids: &SequenceIds<'_>,
        out: &mut Vec<u8>,
    ) -> Result<Vec<AlertSummary>, AlertError> {
        let docs = self.sequence_docs(ids)?;
        let head = &self.fields().head;
        let head_bytes = self.template().head();
        let mut summaries = Vec::with_capacity(docs.len());
        for headless in docs {
            let rest = &headless.doc;
            let spliced = head_bytes.is_some_and(|bytes| write_after_head(head, bytes, rest, out));
            let summary = if spliced {
                summary_of(head, rest)
            } else {
                push_alert_line(&headless.into_alert(head), out)
            };
            summaries.push(summary);
        }
        Ok(summaries)
    }

    /// A sequence's alerts, shell first, each without the framework head
    /// (the head extended by the document is the alert), with the origin
    /// of its (first) event.
    fn sequence_docs(&self, ids: &SequenceIds<'_>) -> Result<Vec<Headless>, AlertError> {
        let events = ids.events;
        let first = events.first().ok_or(AlertError::EmptySequence)?;

        // Building blocks as Kibana has them before the framework head and
        // the group fields: what the shell's common fields come from.
        // Kibana builds them without the rule's overrides (and the shell
        // from their common fields, with the rule's own severity, risk
        // score and name), so a sequence's alerts take nothing from its
        // events there.
        let mut stages: Vec<Map<String, Value>> = Vec::with_capacity(events.len());
        let mut first_time = None;
        let blocks = events.iter().zip(&ids.event_ancestors).zip(&ids.block_ids);
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
                stated: Stated::rule_own(self.rule),
                of_event: false,
                uuid: block_id.clone(),
            };
            let mut stage = source::alert_body(raw);
            self.fill(&mut stage, &specific);
            stages.push(stage);
        }

        let (shell, group_id) = self.shell(&stages, ids, first_time);
        let mut docs = Vec::with_capacity(events.len() + 1);
        docs.push(Headless {
            doc: shell,
            origin: first.origin.clone(),
        });
        for (i, (mut stage, event)) in stages.into_iter().zip(events).enumerate() {
            stage.insert(ALERT_GROUP_ID.into(), json!(group_id));
            stage.insert(ALERT_GROUP_INDEX.into(), json!(i));
            docs.push(Headless {
                doc: stage,
                origin: event.origin.clone(),
            });
        }
        Ok(docs)
    }

    /// The shell without the head (and its id, the group id): the building
    /// blocks' common fields, then alert fields whose ancestors are every
    /// event and every building block.
    ///
    /// Kibana takes the shell's original time from its first building
    /// block's `@timestamp`, which is the alert time; talon takes the first
    /// event's time, as Kibana's earlier versions did, since that is what
    /// an analyst reads the field for.
    fn shell(
        &self,
        stages: &[Map<String, Value>],
        ids: &SequenceIds<'_>,
        original_time: Option<String>,
    ) -> (Map<String, Value>, String) {
        let common = intersect::intersect_all(stages);
        let specific = Specific {
            original_time,
            reason: self.reason(&common),
            ancestors: ids.shell_ancestors.clone(),
            depth: 2,
            building_block_type: self.rule.building_block_type.clone(),
            stated: Stated::rule_own(self.rule),
            of_event: false,
            uuid: ids.shell.clone(),
        };
        let mut doc = common;
        self.fill(&mut doc, &specific);
        doc.insert(ALERT_GROUP_ID.into(), json!(specific.uuid));
        (doc, specific.uuid)
    }

    fn reason(&self, doc: &Map<String, Value>) -> String {
        reason_message(&self.rule.name, &self.rule.severity, doc)
    }

    /// Writes the detection engine's alert fields (`buildAlertFields`) in
    /// its order. Keys the head already placed keep their place.
    fn fill(&self, doc: &mut Map<String, Value>, s: &Specific<'_>) {
        doc.insert(TIMESTAMP.into(), json!(self.run_iso));
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
        doc.insert(ALERT_SEVERITY.into(), json!(s.stated.severity));
        doc.insert(ALERT_RISK_SCORE.into(), json!(s.stated.risk_score));
        let fields = self.fields();
        let sorted = fields.sorted.as_ref().filter(|_| s.of_event);
        let parameters = sorted.map_or(&fields.parameters, |m| &m.parameters);
        doc.insert(ALERT_RULE_PARAMETERS.into(), parameters.clone());
        for (key, value) in &fields.rule_block {
            doc.insert(key.clone(), value.clone());
        }
        if let Some(sorted) = sorted {
            doc.insert(ALERT_RULE_SEVERITY_MAPPING.into(), sorted.mapping.clone());
        }
        if let Some(name) = &s.stated.name {
            doc.insert(ALERT_RULE_NAME.into(), json!(name));
        }
        doc.insert(ALERT_UUID.into(), json!(s.uuid));
        for (key, value) in &fields.trailer {
            doc.insert(key.clone(), value.clone());
        }
    }
}

/// The JSON Lines line of a built alert, as the sink writes it.
fn push_alert_line(alert: &Alert, out: &mut Vec<u8>) -> AlertSummary {
    push_json(out, alert.doc());
    out.push(b'\n');
    AlertSummary {
        uuid: alert.uuid().to_owned(),
        building_block: alert.is_building_block(),
    }
}

/// The summary of the alert that is `head` extended by `rest`, read as
/// [`Alert::uuid`] and [`Alert::is_building_block`] read it.
fn summary_of(head: &Map<String, Value>, rest: &Map<String, Value>) -> AlertSummary {
    let uuid = rest.get(ALERT_UUID).or_else(|| head.get(ALERT_UUID));
    AlertSummary {
        uuid: uuid.and_then(Value::as_str).unwrap_or_default().to_owned(),
        building_block: rest.contains_key(ALERT_BUILDING_BLOCK_TYPE)
            || head.contains_key(ALERT_BUILDING_BLOCK_TYPE),
    }
}

/// Inserts every field of `more`, in its order: a key `doc` has keeps its
/// place and takes the new value (a JavaScript object spread).
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
