//! Where a sequence rule's events meet.
//!
//! Producers key events by one field (`host.id` by default), so all events
//! of one host land on one partition. A sequence whose every term joins
//! first on that field can run right there, on the event partition
//! ([`Placement::Local`]). Any other sequence needs its own grouping: its
//! events are forwarded to the repartition topic keyed by the value of
//! their first join key, so all events of one key reach the one worker
//! that owns that key's partition ([`Placement::Routed`]). A sequence with
//! no join key at all is routed with one constant key.
//!
//! Only events that can fill a term (or `until`) are forwarded, each once
//! per distinct key value; an event with several values for its first key
//! goes to each value's partition.

use std::sync::Arc;

use talon_engine::CompiledRule;
use talon_eql::eval::value::{doc_value, RVal};
use talon_eql::{JoinKey, TermPlan};
use talon_event::{Event, Fields};

/// The key of forwarded events of sequences without join keys.
const NO_KEY: &str = "\u{0}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Runs on the event partition: its keys follow the partitioning.
    Local,
    /// Runs on the repartition topic.
    Routed,
}

/// One sequence rule, as the stream runs it.
#[derive(Debug)]
pub struct SequenceRule {
    /// Position among the loaded sequence rules (what the matcher factory
    /// is given).
    pub index: usize,
    pub placement: Placement,
    pub compiled: Arc<CompiledRule>,
}

impl SequenceRule {
    /// Places a compiled sequence (or sample) rule; `None` for an event
    /// rule.
    pub fn new(
        index: usize,
        compiled: Arc<CompiledRule>,
        partition_key: &str,
    ) -> Option<SequenceRule> {
        let plan = compiled.query.sequence()?;
        let on_key =
            |t: &TermPlan| t.keys.first().and_then(|k| k.path.as_deref()) == Some(partition_key);
        let local = plan.terms.iter().chain(plan.until.iter()).all(on_key);
        let placement = if local {
            Placement::Local
        } else {
            Placement::Routed
        };
        Some(SequenceRule {
            index,
            placement,
            compiled,
        })
    }

    pub fn rule_id(&self) -> &str {
        &self.compiled.rule.rule_id
    }

    /// Whether the rule searches the event's index.
    pub fn sees(&self, event: &Event, all_indices: bool) -> bool {
        all_indices
            || event
                .index
                .as_deref()
                .is_some_and(|i| self.compiled.indices.matches(i))
    }

    /// Whether some term (or `until`) can use the event: the matcher and
    /// its replay log never need any other. An event the rule's filters
    /// leave out is none the sequence sees, as in Kibana's search.
    pub fn relevant(&self, event: &Event) -> bool {
        if !self.compiled.filters.matches(event) {
            return false;
        }
        self.compiled.query.sequence().is_some_and(|p| {
            p.terms
                .iter()
                .chain(p.until.iter())
                .any(|t| t.matches(event))
        })
    }

    /// The repartition keys of an event for this rule: empty when no term
    /// can use the event (or the rule's filters leave it out).
    pub fn route_keys(&self, event: &Event) -> Vec<String> {
        let Some(plan) = self.compiled.query.sequence() else {
            return Vec::new();
        };
        if !self.compiled.filters.matches(event) {
            return Vec::new();
        }
        let mut keys: Vec<String> = Vec::new();
        for term in plan.terms.iter().chain(plan.until.iter()) {
            if !term.matches(event) {
                continue;
            }
            match term.keys.first() {
                None => push_unique(&mut keys, NO_KEY.to_owned()),
                Some(k) => {
                    for text in key_texts(event, k) {
                        push_unique(&mut keys, text);
                    }
                }
            }
        }
        keys
    }
}

fn push_unique(keys: &mut Vec<String>, k: String) {
    if !keys.contains(&k) {
        keys.push(k);
    }
}

/// The values of one join key as text, read as the field's type reads
/// them, so `"7"` and `7` in a `long` field share a partition as they
/// share a join.
fn key_texts(event: &Event, key: &JoinKey) -> Vec<String> {
    let Some(path) = key.path.as_deref() else {
        return vec![NO_KEY.to_owned()];
    };
    let values = event.values(path);
    if values.is_empty() {
        // Only an optional key lets a term match without a value: it is
        // the null key.
        return vec![NO_KEY.to_owned()];
    }
    values
        .iter()
        .map(|v| match doc_value(v, key.kind) {
            None | Some(RVal::Null) => NO_KEY.to_owned(),
            Some(RVal::Bool(b)) => b.to_string(),
            Some(RVal::Int(i)) => i.to_string(),
            Some(RVal::Long(i)) => i.to_string(),
            Some(RVal::Double(d)) => d.to_string(),
            Some(RVal::Str(s)) => s.to_string(),
            Some(RVal::Date(n)) => n.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use talon_event::flatten::flatten;
    use talon_event::mapping::Mapping;
    use talon_rules::{load_str, RuleFormat};

    /// A sequence joined on `user.name`, whose filter leaves out `svc`.
    fn rule() -> SequenceRule {
        let text = r#"{"rule_id":"s","name":"s","type":"eql","language":"eql","query":"sequence by user.name [process where process.name == \"a\"] [process where process.name == \"b\"]","risk_score":21,"severity":"low","filters":[{"meta":{"negate":true},"query":{"match_phrase":{"user.name":"svc"}}}]}"#;
        let (mut rules, errors) = load_str(text, Path::new("r.ndjson"), RuleFormat::KibanaNdjson);
        assert!(errors.is_empty(), "{errors:?}");
        let compiled = talon_engine::compile_rule(rules.remove(0), &Mapping::default())
            .map_err(|p| p.render())
            .expect("compiles");
        SequenceRule::new(0, Arc::new(compiled), "host.id").expect("a sequence")
    }

    /// An event the rule's filters leave out is neither fed to its state
    /// nor forwarded, as the sequence in Kibana's search never sees it.
    #[test]
    fn events_the_filters_leave_out_reach_no_term() {
        let s = rule();
        let kept = flatten(
            r#"{"event":{"category":"process"},"process":{"name":"a"},"user":{"name":"bob"}}"#,
        )
        .expect("event");
        let left = flatten(
            r#"{"event":{"category":"process"},"process":{"name":"a"},"user":{"name":"svc"}}"#,
        )
        .expect("event");
        assert!(s.relevant(&kept));
        assert_eq!(s.route_keys(&kept), ["bob"]);
        assert!(!s.relevant(&left));
        assert!(s.route_keys(&left).is_empty());
    }
}
