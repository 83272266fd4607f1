//! The read-only half of a sequence or sample rule: which terms an event
//! fills, with which join keys, at what time.
//!
//! [`SequenceTerms`] holds nothing that changes while events stream by, so
//! one copy is shared by every thread that evaluates events; what it finds
//! ([`TermHits`]) is handed to the rule's [`super::SequenceRunner`], which
//! alone holds state, in input order.

use std::sync::Arc;

use talon_eql::eval::value::FieldKind;
use talon_eql::eval::Memo;
use talon_eql::{CompiledQuery, SequencePlan};
use talon_event::mapping::{FieldType, Mapping};
use talon_event::{Binding, Fields, Value};

use super::date;
use super::keys::{key_tuples, missing_key, KeyReader, TermHitKeys, TermKeys};
use super::reorder::{Tie, TieKind};
use super::{SequenceError, SequenceOptions};

/// How an event's time is read: the field, its mapped date format and
/// resolution. Rules reading time the same way share one clock.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TimeReader {
    path: String,
    format: Option<String>,
    nanos: bool,
    /// The path's number in the catalog events are read through.
    binding: Binding,
}

impl TimeReader {
    pub(crate) fn new(field: &str, mapping: &Mapping) -> TimeReader {
        let path = mapping.resolve(field).to_string();
        TimeReader {
            format: mapping.date_format(&path).map(str::to_string),
            nanos: mapping.field_type(&path) == Some(FieldType::DateNanos),
            path,
            binding: Binding::NONE,
        }
    }

    /// The time field's values on the event.
    fn field<'e>(&self, event: &'e dyn Fields) -> &'e [Value] {
        event.values_bound(&self.path, self.binding)
    }

    /// The event's time in epoch nanoseconds, at the field's resolution:
    /// the earliest of its times, as an ascending Elasticsearch sort reads
    /// a multi-valued date by its smallest value. Event queries and
    /// sequences order such an event alike (sequences used its first time).
    pub fn read(&self, event: &dyn Fields) -> Option<i64> {
        match self.field(event) {
            [one] => self.time_of(one),
            many => many.iter().filter_map(|v| self.time_of(v)).min(),
        }
    }

    /// One value's time, read with the field's format, at its resolution.
    fn time_of(&self, v: &Value) -> Option<i64> {
        date::instant(v, self.format.as_deref(), self.nanos)
    }
}

/// What one event gives one sequence rule: the key tuples of each term it
/// fills (empty for the others; the until term last), its time and its
/// tiebreaker.
#[derive(Debug)]
pub struct TermHits {
    pub(crate) hits: TermHitKeys,
    /// The key tuples of some term were cut at `MAX_KEY_TUPLES`.
    pub(crate) capped: bool,
    pub(crate) ts: Option<i64>,
    pub(crate) tie: Tie,
    /// Some positive term (of a sequence or a sample) was filled.
    positive: bool,
    /// Terms matched, but the event has no value for this join key (a
    /// required one), so it joins nothing: only counted.
    pub(crate) keyless: Option<(usize, Arc<str>)>,
}

impl TermHits {
    /// Whether the event only matched a term but for a missing join key:
    /// it fills no term, so it is no match (only named in a warning).
    pub fn is_keyless(&self) -> bool {
        self.keyless.is_some()
    }

    /// Whether the rule's runner may hold on to the event itself: it
    /// filled a term whose events a match shows, or it has no usable time
    /// (the runner reports where it was read). An event that only fills
    /// missing or `until` terms is judged by its time and keys alone, so
    /// the caller may hand the runner a stand-in instead of a copy.
    pub fn needs_event(&self) -> bool {
        // A keyless event is only counted, and named: its place suffices.
        self.is_keyless() || self.positive || self.ts.is_none()
    }
}

/// A compiled sequence or sample query, ready to read events.
#[derive(Clone, Debug)]
pub struct SequenceTerms {
    pub(crate) plan: SequencePlan,
    /// Key readers per term; the until term last.
    pub(crate) readers: Vec<Vec<KeyReader>>,
    /// Field kind per key position (for showing dates).
    pub(crate) key_kinds: Vec<FieldKind>,
    pub(crate) time: TimeReader,
    /// The tiebreaker field, and its number in the catalog events are
    /// read through.
    tie_path: Option<(String, Binding)>,
    /// How the tiebreaker sorts (by its text, number, instant, address
    /// or version), from its mapped type.
    tie_kind: TieKind,
}

/// Per term of one rule: whether an event filled it with its keys, or was
/// found to match it but for a key. From then on, events lacking a key
/// are not looked at again for it (see [`SequenceTerms::evaluate`]). Each
/// thread keeps its own, noting only the events the rule keeps (its
/// filters hold), so what a thread reports does not depend on how far the
/// others got: with no event filling a term, the first keyless one in
/// input order is reported whatever the thread count.
#[derive(Clone, Debug, Default)]
pub struct Settled(Vec<bool>);

impl Settled {
    pub fn new(terms: &SequenceTerms) -> Settled {
        Settled(vec![false; terms.plans().count()])
    }

    fn is(&self, term: usize) -> bool {
        self.0.get(term).copied().unwrap_or(false)
    }

    /// Notes what an event the rule keeps gave it.
    pub fn note(&mut self, hit: &TermHits) {
        for (t, keys) in hit.hits.iter().enumerate() {
            if !keys.is_empty() {
                if let Some(s) = self.0.get_mut(t) {
                    *s = true;
                }
            }
        }
        if let Some(s) = hit.keyless.as_ref().and_then(|(t, _)| self.0.get_mut(*t)) {
            *s = true;
        }
    }
}

impl SequenceTerms {
    pub fn new(
        query: &CompiledQuery,
        mapping: &Mapping,
        opts: &SequenceOptions,
    ) -> Result<SequenceTerms, SequenceError> {
        let plan = query
            .sequence()
            .cloned()
            .ok_or(SequenceError::NotASequence)?;
        let terms = plan.terms.iter().chain(plan.until.iter());
        let readers = terms
            .map(|t| t.keys.iter().map(|k| KeyReader::new(k, mapping)).collect())
            .collect();
        let key_kinds = plan
            .terms
            .first()
            .map(|t| t.keys.iter().map(|k| k.kind).collect())
            .unwrap_or_default();
        Ok(SequenceTerms {
            readers,
            key_kinds,
            time: TimeReader::new(&opts.timestamp_field, mapping),
            tie_path: opts
                .tiebreaker_field
                .as_deref()
                .map(|f| (mapping.resolve(f).to_string(), Binding::NONE)),
            tie_kind: opts
                .tiebreaker_field
                .as_deref()
                .map_or(TieKind::Value, |f| TieKind::of_field(mapping, f)),
            plan,
        })
    }

    /// Numbers the paths of the join keys, the time and the tiebreaker as
    /// `bind` says (the engine's field catalog, which its term plans are
    /// bound to already), so that they are read by number.
    pub(crate) fn bind_fields(&mut self, bind: &dyn Fn(&str) -> Binding) {
        for r in self.readers.iter_mut().flatten() {
            r.bind(bind);
        }
        self.time.binding = bind(&self.time.path);
        if let Some((path, binding)) = &mut self.tie_path {
            *binding = bind(path);
        }
    }

    /// The terms (then the until term), in order.
    pub fn plans(&self) -> impl Iterator<Item = &talon_eql::TermPlan> {
        self.plan.terms.iter().chain(self.plan.until.iter())
    }

    /// How this rule reads an event's time.
    pub fn time(&self) -> &TimeReader {
        &self.time
    }

    /// Which terms the event fills, evaluating only the terms `candidate`
    /// admits (the others are known not to match); `None` when it fills
    /// none. `ts` is the event's time as [`SequenceTerms::time`] reads it,
    /// when the caller has it already. When it fills none, an event lacking
    /// a join key is looked at for the terms not `settled` yet (see
    /// `keyless`); the caller notes what it keeps in `settled`.
    pub fn evaluate(
        &self,
        event: &dyn Fields,
        candidate: &dyn Fn(usize) -> bool,
        ts: Option<Option<i64>>,
        memo: &mut Memo,
        settled: &Settled,
    ) -> Option<TermHits> {
        // Most events fill no term: find that out before allocating.
        let mut terms = self.plans().enumerate();
        let Some(first) = terms
            .find(|(i, t)| candidate(*i) && t.matches_memo(event, memo))
            .map(|(i, _)| i)
        else {
            return self.keyless(event, candidate, memo, settled);
        };
        let mut any = false;
        let mut positive = false;
        let mut capped = false;
        let shown = |i: usize| self.plan.terms.get(i).is_some_and(|t| !t.missing);
        let hits: TermHitKeys = self
            .plans()
            .zip(&self.readers)
            .enumerate()
            .map(|(i, (t, r))| {
                let fills =
                    i == first || (i > first && candidate(i) && t.matches_memo(event, memo));
                if !fills {
                    return TermKeys::new();
                }
                let tuples = key_tuples(r, event, &mut capped);
                any |= !tuples.is_empty();
                positive |= !tuples.is_empty() && shown(i);
                tuples
            })
            .collect();
        if !any {
            return None;
        }
        // A multi-valued tiebreaker sorts by its least value, as an
        // ascending Elasticsearch sort reads it (sort mode `min`).
        let tie = match &self.tie_path {
            Some((p, b)) => Tie::least(event.values_bound(p, *b), &self.tie_kind),
            None => Tie::Missing,
        };
        Some(TermHits {
            hits,
            capped,
            ts: ts.unwrap_or_else(|| self.time.read(event)),
            tie,
            positive,
            keyless: None,
        })
    }
}

impl SequenceTerms {
    /// When no term matched: whether a positive term would have but for a
    /// missing mandatory join key (a source that does not write `host.id`,
    /// say), as a [`TermHits`] naming the term and the key, for the runner
    /// to report when no event ever fills that term with its keys (the
    /// rule cannot fire). Only an event that lacks a key is looked at
    /// again, and for each term only until the first such event or the
    /// first that fills it ([`Settled`]), so the hot path is not slowed
    /// for long.
    fn keyless(
        &self,
        event: &dyn Fields,
        candidate: &dyn Fn(usize) -> bool,
        memo: &mut Memo,
        settled: &Settled,
    ) -> Option<TermHits> {
        let positive = |i: usize| self.plan.terms.get(i).is_some_and(|t| !t.missing);
        let (term, key) = self
            .plans()
            .zip(&self.readers)
            .enumerate()
            .filter(|(i, (t, _))| {
                t.unkeyed.is_some() && positive(*i) && !settled.is(*i) && candidate(*i)
            })
            .find_map(|(i, (t, r))| {
                let key = missing_key(r, event)?;
                let unkeyed = t.unkeyed.as_ref()?;
                unkeyed.matches_memo(event, memo).then_some((i, key))
            })?;
        Some(TermHits {
            hits: TermHitKeys::new(),
            capped: false,
            ts: None,
            tie: Tie::Missing,
            positive: false,
            keyless: Some((term, key)),
        })
    }
}

#[cfg(test)]
mod tests {
    use talon_event::{Event, Value};

    use super::*;

    fn terms(query: &str) -> SequenceTerms {
        let q = talon_eql::compile_str(query, &Default::default()).expect(query);
        SequenceTerms::new(&q, &Mapping::default(), &SequenceOptions::default()).expect(query)
    }

    fn event(action: &str, timed: bool) -> Event {
        let mut e = Event::default();
        e.set("event.category", vec![Value::str("process")].into());
        e.set("event.action", vec![Value::str(action)].into());
        e.set("host.id", vec![Value::str("h1")].into());
        if timed {
            e.set(
                "@timestamp",
                vec![Value::str("2026-01-12T08:00:00Z")].into(),
            );
        }
        e
    }

    fn hits(t: &SequenceTerms, e: &Event) -> Option<TermHits> {
        t.evaluate(e, &|_| true, None, &mut Memo::default(), &Settled::new(t))
    }

    /// [`hits`], noting what the event gave in `settled`.
    fn settling(t: &SequenceTerms, e: &Event, settled: &mut Settled) -> Option<TermHits> {
        let h = t.evaluate(e, &|_| true, None, &mut Memo::default(), settled);
        if let Some(h) = &h {
            settled.note(h);
        }
        h
    }

    #[test]
    fn only_events_a_match_can_show_are_needed_whole() {
        let t = terms(
            r#"sequence by host.id with maxspan=1m
               [process where event.action == "a"]
               ![process where event.action in ("b", "ab")]
               [process where event.action in ("c", "ab")]
               until [process where event.action == "u"]"#,
        );
        let needs =
            |action: &str, timed: bool| hits(&t, &event(action, timed)).map(|h| h.needs_event());
        assert_eq!(needs("a", true), Some(true));
        // A missing term or the until term alone: time and keys suffice.
        assert_eq!(needs("b", true), Some(false));
        assert_eq!(needs("u", true), Some(false));
        // Filling a positive term as well as a missing one.
        assert_eq!(needs("ab", true), Some(true));
        // Without a usable time the runner reports where the event was.
        assert_eq!(needs("b", false), Some(true));
        assert_eq!(needs("z", true), None);
        // A sample's terms are all shown.
        let s =
            terms(r#"sample by host.id [process where event.action == "b"] [process where true]"#);
        assert!(hits(&s, &event("b", true)).is_some_and(|h| h.needs_event()));
    }

    #[test]
    fn an_event_without_a_join_key_is_named_not_dropped() {
        let t = terms(
            r#"sequence by host.id, user.name
               [process where event.action == "a"]
               [process where event.action == "c"]"#,
        );
        let mut e = Event::default();
        e.set("event.category", vec![Value::str("process")].into());
        e.set("event.action", vec![Value::str("a")].into());
        e.set("host.id", vec![Value::str("h1")].into());
        let mut settled = Settled::new(&t);
        let h = settling(&t, &e, &mut settled).expect("counted");
        assert_eq!(h.keyless, Some((0, Arc::from("user.name"))));
        assert!(h.hits.is_empty());
        // An event no term matches is still nothing.
        assert!(settling(&t, &event("z", true), &mut settled).is_none());
        // The first such event settles it: the next is not looked at,
        // by this thread; another thread's settled terms are its own.
        assert!(settling(&t, &e, &mut settled).is_none());
        assert!(hits(&t, &e).is_some_and(|h| h.keyless.is_some()));
        // Once an event filled a term with its keys, the rule can fire:
        // events lacking a key are not looked at again either.
        let t = terms(
            r#"sequence by host.id, user.name
               [process where event.action == "a"]
               [process where event.action == "c"]"#,
        );
        let mut keyed = event("a", true);
        keyed.set("user.name", vec![Value::str("root")].into());
        let mut settled = Settled::new(&t);
        assert!(settling(&t, &keyed, &mut settled).is_some_and(|h| h.keyless.is_none()));
        assert!(settling(&t, &e, &mut settled).is_none());
    }
}
