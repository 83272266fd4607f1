//! Sequences and samples over event streams, with Elasticsearch's answers
//! and memory that stays flat however long the stream is.
//!
//! [`SequenceRunner`] runs one compiled `sequence` or `sample` query: each
//! event is offered once with [`SequenceRunner::push`], and every match is
//! handed out as soon as it is final (what `talon hunt` needs).
//! [`SequenceSearch`] wraps a runner and answers like the EQL search API:
//! ordered, with `head`/`tail` pipes, `size` and `result_position`.
//!
//! Guarantees:
//! - sequences are matched in one pass in ordinal order (timestamp,
//!   tiebreaker, input order); input out of order is re-ordered within a
//!   bounded window ([`reorder`]), and an event that arrives too late to be
//!   matched in order is counted and reported, never dropped silently;
//! - state is bounded: in-flight sequences expire with `maxspan`, and their
//!   number (and the number of sample keys) is capped, every eviction
//!   counted and reported with the query's name;
//! - events are shared (`Arc`), never copied, between the sequences they
//!   belong to;
//! - nothing here panics on any input.
//!
//! Modules: [`date`] (dates as fields index them), [`keys`] (join-key
//! tuples), [`terms`] (what an event fills, read-only), [`reorder`], [`matcher`] (the stage machine), [`missing`]
//! (missing events), [`sample`], [`collect`] (the search wrapper).

mod collect;
pub(crate) mod date;
mod keys;
mod matcher;
mod missing;
mod reorder;
mod sample;
mod terms;
mod warning;

pub(crate) use reorder::{Tie, TieKind};

// A window is shown as `--reorder-window` takes it (`5m`).
use std::cmp::Ordering;
use std::sync::Arc;
use talon_event::untimed::UntimedEvents;

use talon_eql::eval::value::FieldKind;
use talon_eql::eval::Memo;
use talon_eql::{CompiledQuery, QueryKind};
use talon_event::mapping::Mapping;
use talon_event::{Event, Origin, Value};

use crate::search::ResultPosition;
use keys::{render, KeyStyle, KeyTuple, TermHitKeys};
use matcher::{Completed, Matcher, Released};
use missing::{Layout, Place};
use reorder::{Offer, Ordinal, Reorder};
use sample::{Picked, Sampler};

pub use collect::{SequenceResult, SequenceSearch};
pub use keys::MAX_KEY_TUPLES;
pub use terms::{SequenceTerms, Settled, TermHits, TimeReader};
pub use warning::SequenceWarning;

/// How a sequence or sample query runs.
#[derive(Clone, Debug)]
pub struct SequenceOptions {
    pub timestamp_field: String,
    pub tiebreaker_field: Option<String>,
    /// How far (in event time) input may be out of order and still be
    /// matched in order.
    pub reorder_window_nanos: i64,
    /// Most events the re-ordering window holds (the oldest is released
    /// early beyond it).
    pub reorder_max_events: usize,
    /// Most in-flight sequences (or, for a sample, keys) held at once.
    pub max_pending_total: usize,
    /// The API's `size` (used by [`SequenceSearch`]).
    pub size: usize,
    /// Which end `size` keeps (used by [`SequenceSearch`]).
    pub result_position: ResultPosition,
    /// Samples per join-key tuple (Elasticsearch's default is 1).
    pub max_samples_per_key: usize,
    /// Who is asking (a rule name), for warnings.
    pub name: Option<String>,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions {
            timestamp_field: "@timestamp".into(),
            tiebreaker_field: None,
            reorder_window_nanos: 60_000_000_000,
            reorder_max_events: 100_000,
            max_pending_total: 1_000_000,
            size: 10,
            result_position: ResultPosition::Tail,
            max_samples_per_key: 1,
            name: None,
        }
    }
}

/// Why a query cannot run here.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SequenceError {
    #[error("not a sequence or sample query")]
    NotASequence,
    #[error("max_samples_per_key must be greater than 0")]
    ZeroSamplesPerKey,
}

/// One sequence or sample.
#[derive(Clone, Debug)]
pub struct SequenceMatch {
    /// The join-key values by position; `Value::Null` for a null key.
    /// Dates are ISO strings in sequences, epoch-millisecond strings in
    /// samples, as Elasticsearch shows them.
    pub join_keys: Vec<Value>,
    /// The events in term order; `None` is a missing-event placeholder.
    pub events: Vec<Option<Arc<Event>>>,
    order: Order,
}

#[derive(Clone, Debug)]
enum Order {
    /// Processing positions of the positive events, in stage order.
    Sequence {
        positions: Vec<u64>,
        key: KeyTuple,
    },
    Sample {
        key: KeyTuple,
        index: usize,
    },
}

impl SequenceMatch {
    /// Elasticsearch's result order: sequences by their last event, then
    /// first event, then key; samples by key tuple.
    pub(crate) fn cmp_order(&self, other: &SequenceMatch) -> Ordering {
        match (&self.order, &other.order) {
            (
                Order::Sequence {
                    positions: a,
                    key: ka,
                },
                Order::Sequence {
                    positions: b,
                    key: kb,
                },
            ) => a
                .last()
                .cmp(&b.last())
                .then_with(|| a.cmp(b))
                .then_with(|| keys::cmp_tuples(ka, kb)),
            (Order::Sample { key: ka, index: ia }, Order::Sample { key: kb, index: ib }) => {
                keys::cmp_tuples(ka, kb).then_with(|| ia.cmp(ib))
            }
            (Order::Sequence { .. }, Order::Sample { .. }) => Ordering::Less,
            (Order::Sample { .. }, Order::Sequence { .. }) => Ordering::Greater,
        }
    }
}

/// Counts of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceStats {
    /// Events offered.
    pub events: u64,
    /// Events that matched at least one term (or the until term).
    pub matched_terms: u64,
    /// Sequences or samples handed out.
    pub matches: u64,
    /// Events that matched a term but had no usable timestamp, by why.
    pub untimed: UntimedEvents,
    /// Matching events that came too late for the re-ordering window.
    pub late_events: u64,
    /// The first of them, and how far behind the newest time it was.
    pub late_first: Option<(Origin, i64)>,
    /// The furthest behind the newest time a late event was.
    pub late_most_behind: i64,
    /// Events found to match a positive term but for a required join key
    /// (looked for, per term, only until the first, or the first keyed
    /// fill), and per term the first of them with the key it lacked.
    pub keyless: u64,
    pub keyless_first: std::collections::BTreeMap<usize, (Origin, Arc<str>)>,
    /// The terms some event filled with its keys.
    pub filled_terms: std::collections::BTreeSet<usize>,
    /// In-flight sequences or sample keys evicted by the cap.
    pub evicted: u64,
    pub key_tuples_capped: u64,
    /// The first event whose key tuples were cut.
    pub key_tuples_capped_first: Option<Origin>,
    /// Most sequences (or sample keys) held at once.
    pub peak_held: usize,
    pub warnings: Vec<SequenceWarning>,
}

type Buffered = (Arc<Event>, TermHitKeys);

/// The sequence side: the window and the matcher.
struct SequenceEngine {
    reorder: Reorder<Buffered>,
    matcher: Matcher,
    places: Vec<Place>,
    next_pos: u64,
}

impl SequenceEngine {
    /// Whether events wait in the window or candidates for a deadline.
    fn waits_for_time(&self) -> bool {
        self.reorder.len() > 0 || self.matcher.has_waiting()
    }
}

enum Inner {
    Sequence(Box<SequenceEngine>),
    Sample(Sampler),
}

/// Runs one sequence or sample query over a stream of events.
///
/// Two ways to feed it: [`SequenceRunner::push`] offers whole events and
/// keeps its own sense of time (what a search or a single stream needs);
/// an engine running many rules evaluates terms itself, anywhere
/// ([`SequenceTerms::evaluate`]), and hands the runner what an event
/// filled ([`SequenceRunner::push_hit`]) and how far time has come for
/// every rule ([`SequenceRunner::advance_to`], only when
/// [`SequenceRunner::next_due`] says something would happen).
pub struct SequenceRunner {
    terms: Arc<SequenceTerms>,
    /// What [`SequenceRunner::push`] settled of the terms (see
    /// [`Settled`]).
    settled: Settled,
    inner: Inner,
    opts: SequenceOptions,
    stats: SequenceStats,
    warned_eviction: bool,
}

impl SequenceRunner {
    /// A runner that hands out each match as soon as it is final.
    pub fn new(
        query: &CompiledQuery,
        mapping: &Mapping,
        opts: SequenceOptions,
    ) -> Result<SequenceRunner, SequenceError> {
        SequenceRunner::build(query, mapping, opts, true)
    }

    /// `eager_samples`: pick samples as soon as they exist (streaming) or
    /// at the end over the full candidate lists (a search).
    pub(crate) fn build(
        query: &CompiledQuery,
        mapping: &Mapping,
        opts: SequenceOptions,
        eager_samples: bool,
    ) -> Result<SequenceRunner, SequenceError> {
        let terms = Arc::new(SequenceTerms::new(query, mapping, &opts)?);
        SequenceRunner::with_terms(terms, opts, eager_samples)
    }

    /// A runner over terms compiled already (and perhaps shared with the
    /// threads that evaluate them).
    pub fn with_terms(
        terms: Arc<SequenceTerms>,
        opts: SequenceOptions,
        eager_samples: bool,
    ) -> Result<SequenceRunner, SequenceError> {
        let plan = &terms.plan;
        let inner = match plan.kind {
            QueryKind::Sample => {
                if opts.max_samples_per_key == 0 {
                    return Err(SequenceError::ZeroSamplesPerKey);
                }
                Inner::Sample(Sampler::new(
                    plan.terms.len(),
                    opts.max_samples_per_key,
                    opts.max_pending_total,
                    eager_samples,
                ))
            }
            QueryKind::Sequence => {
                let layout = Layout::of(plan);
                let places = layout.places.clone();
                let matcher = Matcher::new(
                    layout,
                    plan.maxspan_nanos,
                    plan.until.is_some(),
                    opts.max_pending_total,
                );
                Inner::Sequence(Box::new(SequenceEngine {
                    reorder: Reorder::new(opts.reorder_window_nanos, opts.reorder_max_events),
                    matcher,
                    places,
                    next_pos: 0,
                }))
            }
            QueryKind::Event => return Err(SequenceError::NotASequence),
        };
        Ok(SequenceRunner {
            settled: Settled::new(&terms),
            terms,
            inner,
            opts,
            stats: SequenceStats::default(),
            warned_eviction: false,
        })
    }

    /// The rule's terms, as the threads evaluating events read them.
    pub fn terms(&self) -> &Arc<SequenceTerms> {
        &self.terms
    }

    /// The query's name in warnings.
    fn name(&self) -> String {
        self.opts.name.clone().unwrap_or_else(|| "query".into())
    }

    /// Offers one event; matches that became final go to `out`. Time moves
    /// on with the events offered (while something waits for it).
    pub fn push(&mut self, event: &Arc<Event>, out: &mut dyn FnMut(SequenceMatch)) {
        self.stats.events += 1;
        let hit = self.terms.evaluate(
            event.as_ref(),
            &|_| true,
            None,
            &mut Memo::default(),
            &self.settled,
        );
        if let Some(h) = &hit {
            self.settled.note(h);
        }
        match hit {
            Some(hit) if hit.keyless.is_none() => {
                let keep = Arc::clone(event);
                self.offer(hit, event.seq, keep, None, out);
            }
            other => {
                if let Some(hit) = other {
                    self.note_keyless(hit, event);
                }
                // An event no term matched only moves time on, which
                // matters only while something waits for time.
                let waits = matches!(&self.inner, Inner::Sequence(e) if e.waits_for_time());
                if let Some(ts) = waits
                    .then(|| self.terms.time.read(event.as_ref()))
                    .flatten()
                {
                    self.advance_to(ts, out);
                }
            }
        }
    }

    /// Hands over what event `seq` filled ([`SequenceTerms::evaluate`]);
    /// `keep` is what the runner holds on to and hands out in its matches
    /// (a slim copy will do). `clock` is the newest time seen in the input
    /// so far (this event's included), which decides what is late; `None`
    /// uses the event's own time.
    pub fn push_hit(
        &mut self,
        hit: TermHits,
        seq: u64,
        keep: Arc<Event>,
        clock: Option<i64>,
        out: &mut dyn FnMut(SequenceMatch),
    ) {
        self.stats.events += 1;
        if hit.keyless.is_some() {
            self.note_keyless(hit, &keep);
            return;
        }
        self.offer(hit, seq, keep, clock, out);
    }

    /// Counts an event that matched a term but joins nothing for want of
    /// a join key.
    fn note_keyless(&mut self, hit: TermHits, event: &Event) {
        let s = &mut self.stats;
        s.keyless += 1;
        if let Some((term, key)) = hit.keyless {
            s.keyless_first
                .entry(term)
                .or_insert_with(|| (event.origin.clone(), key));
        }
    }

    fn offer(
        &mut self,
        hit: TermHits,
        seq: u64,
        keep: Arc<Event>,
        clock: Option<i64>,
        out: &mut dyn FnMut(SequenceMatch),
    ) {
        self.stats.matched_terms += 1;
        if hit.capped {
            self.stats.key_tuples_capped += 1;
            if self.stats.key_tuples_capped_first.is_none() {
                self.stats.key_tuples_capped_first = Some(keep.origin.clone());
            }
        }
        for (t, tuples) in hit.hits.iter().enumerate() {
            if !tuples.is_empty() && !self.stats.filled_terms.contains(&t) {
                self.stats.filled_terms.insert(t);
            }
        }
        let mut matches = 0u64;
        let evicted = match &mut self.inner {
            Inner::Sample(s) => {
                let kinds = &self.terms.key_kinds;
                let n = s.push(&keep, &hit.hits, &mut |p| {
                    matches += 1;
                    out(sample_match(p, kinds));
                });
                self.stats.peak_held = self.stats.peak_held.max(s.held());
                n
            }
            Inner::Sequence(engine) => {
                let Some(ts) = hit.ts else {
                    let field = &self.opts.timestamp_field;
                    self.stats.untimed.note(&keep, field);
                    return;
                };
                let kinds = &self.terms.key_kinds;
                let SequenceEngine {
                    reorder,
                    matcher,
                    places,
                    next_pos,
                } = &mut **engine;
                let places = &*places;
                let mut emit = |c: Completed| {
                    matches += 1;
                    out(sequence_match(c, places, kinds));
                };
                let mut evicted = 0;
                let mut on_release = |ord: Ordinal, item: Buffered| {
                    evicted += release(matcher, next_pos, ord, item, &mut emit);
                };
                if let Some(c) = clock {
                    reorder.observe(c);
                }
                let ord = Ordinal {
                    ts,
                    tie: hit.tie,
                    seq,
                };
                let behind = reorder.newest().map_or(0, |n| n.saturating_sub(ts));
                if let Offer::Late((late, _)) =
                    reorder.offer(ord, (keep, hit.hits), &mut on_release)
                {
                    let s = &mut self.stats;
                    s.late_events += 1;
                    s.late_first
                        .get_or_insert_with(|| (late.origin.clone(), behind));
                    s.late_most_behind = s.late_most_behind.max(behind);
                }
                if let Some(h) = reorder.horizon() {
                    matcher.settle(h, &mut emit);
                }
                self.stats.peak_held = self.stats.peak_held.max(matcher.held());
                evicted
            }
        };
        self.stats.matches += matches;
        self.note_evictions(evicted);
    }

    /// Time has reached `clock` in the input: events the window held long
    /// enough are matched, and sequences whose time is up are settled.
    pub fn advance_to(&mut self, clock: i64, out: &mut dyn FnMut(SequenceMatch)) {
        let Inner::Sequence(engine) = &mut self.inner else {
            return;
        };
        let kinds = &self.terms.key_kinds;
        let SequenceEngine {
            reorder,
            matcher,
            places,
            next_pos,
        } = &mut **engine;
        let places = &*places;
        let mut matches = 0u64;
        let mut emit = |c: Completed| {
            matches += 1;
            out(sequence_match(c, places, kinds));
        };
        let mut evicted = 0;
        reorder.observe(clock);
        reorder.drain_due(&mut |ord, item| {
            evicted += release(matcher, next_pos, ord, item, &mut emit)
        });
        if let Some(h) = reorder.horizon() {
            matcher.settle(h, &mut emit);
        }
        self.stats.matches += matches;
        self.note_evictions(evicted);
    }

    /// The earliest input time at which [`SequenceRunner::advance_to`]
    /// would do anything (release an event, settle or sweep a sequence);
    /// `None` while nothing waits for time.
    pub fn next_due(&self) -> Option<i64> {
        let Inner::Sequence(engine) = &self.inner else {
            return None;
        };
        let window = self.opts.reorder_window_nanos.max(0);
        let release = engine.reorder.next_release();
        let settle = engine
            .matcher
            .next_settle()
            .map(|h| h.saturating_add(window));
        match (release, settle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn note_evictions(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.stats.evicted += n;
        if !self.warned_eviction {
            self.warned_eviction = true;
            // The run's warnings (`finish`) count every eviction; this is
            // the moment it began, for `-v`.
            tracing::info!(
                "{}: in-flight state reached its cap of {}; the oldest is evicted from here on",
                self.name(),
                self.opts.max_pending_total
            );
        }
    }

    /// Ends the stream: what was held back is matched, and every match
    /// left is handed out. Returns the counts and warnings.
    pub fn finish(mut self, out: &mut dyn FnMut(SequenceMatch)) -> SequenceStats {
        let mut matches = 0u64;
        let mut evicted = 0u64;
        let newest_time = match &self.inner {
            Inner::Sequence(engine) => engine.reorder.newest(),
            Inner::Sample(_) => None,
        };
        if let Inner::Sequence(engine) = &mut self.inner {
            let kinds = &self.terms.key_kinds;
            let SequenceEngine {
                reorder,
                matcher,
                places,
                next_pos,
            } = &mut **engine;
            let places = &*places;
            let mut emit = |c: Completed| {
                matches += 1;
                out(sequence_match(c, places, kinds));
            };
            reorder.flush(&mut |ord, item| {
                evicted += release(matcher, next_pos, ord, item, &mut emit)
            });
            matcher.finish(&mut emit);
        }
        if let Inner::Sample(sampler) = &mut self.inner {
            let kinds = &self.terms.key_kinds;
            sampler.finish(&mut |p| {
                matches += 1;
                out(sample_match(p, kinds));
            });
        }
        self.stats.matches += matches;
        self.note_evictions(evicted);
        let name = self.name();
        let s = &mut self.stats;
        if s.late_events > 0 {
            s.warnings.push(SequenceWarning::LateEvents {
                name: name.clone(),
                count: s.late_events,
                window_nanos: self.opts.reorder_window_nanos,
                newest: newest_time,
                held: self.opts.reorder_max_events,
                first: s.late_first.clone(),
                most_behind: s.late_most_behind,
            });
        }
        // Only a term no event ever filled with its keys: elsewhere, events
        // of another source that lack a key are as Elasticsearch leaves
        // them, unjoined, and not worth a warning.
        let never_keyed = s
            .keyless_first
            .iter()
            .find(|(t, _)| !s.filled_terms.contains(t));
        if let Some((term, (first, key))) = never_keyed {
            s.warnings.push(SequenceWarning::Keyless {
                name: name.clone(),
                term: term + 1,
                key: Arc::clone(key),
                first: first.clone(),
            });
        }
        if s.evicted > 0 {
            s.warnings.push(SequenceWarning::Evicted {
                name: name.clone(),
                count: s.evicted,
                cap: self.opts.max_pending_total,
            });
        }
        if s.untimed.total() > 0 {
            s.warnings.push(SequenceWarning::WithoutTimestamp {
                name: name.clone(),
                untimed: s.untimed.clone(),
            });
        }
        if s.key_tuples_capped > 0 {
            s.warnings.push(SequenceWarning::KeyTuplesCapped {
                name,
                count: s.key_tuples_capped,
                first: s.key_tuples_capped_first.clone(),
            });
        }
        self.stats
    }

    /// The counts so far.
    pub fn stats(&self) -> &SequenceStats {
        &self.stats
    }
}

/// Matches one event the window released, at the next position.
fn release(
    matcher: &mut Matcher,
    next_pos: &mut u64,
    ord: Ordinal,
    item: Buffered,
    emit: &mut dyn FnMut(Completed),
) -> u64 {
    let (event, hits) = item;
    let r = Released {
        event,
        ts: ord.ts,
        pos: *next_pos,
        hits,
    };
    *next_pos += 1;
    matcher.process(&r, emit)
}

fn sequence_match(c: Completed, places: &[Place], kinds: &[FieldKind]) -> SequenceMatch {
    let events = places
        .iter()
        .map(|p| match p {
            Place::Positive(i) => c.steps.get(*i).map(|s| s.event.clone()),
            Place::Missing => None,
        })
        .collect();
    let join_keys = render_keys(&c.key, kinds, KeyStyle::Sequence);
    let positions = c.steps.iter().map(|s| s.pos).collect();
    SequenceMatch {
        join_keys,
        events,
        order: Order::Sequence {
            positions,
            key: c.key,
        },
    }
}

fn sample_match(p: Picked, kinds: &[FieldKind]) -> SequenceMatch {
    let join_keys = render_keys(&p.key, kinds, KeyStyle::Sample);
    let events = p.events.into_iter().map(Some).collect();
    SequenceMatch {
        join_keys,
        events,
        order: Order::Sample {
            key: p.key,
            index: p.index,
        },
    }
}

fn render_keys(key: &KeyTuple, kinds: &[FieldKind], style: KeyStyle) -> Vec<Value> {
    key.iter()
        .enumerate()
        .map(|(i, part)| {
            render(
                part,
                kinds.get(i).copied().unwrap_or(FieldKind::Dynamic),
                style,
            )
        })
        .collect()
}
