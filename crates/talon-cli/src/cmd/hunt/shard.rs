//! One shard of a hunt: a share of the rules, its own engine, and its own
//! reading of every input, on its own thread.
//!
//! Splitting rules rather than events keeps each sequence rule's state in
//! one place, fed every event in input order, exactly as a single engine
//! would; the cost is that each shard parses the input itself (only the
//! fields its own rules read). A shard sends what it finds to the merger
//! ([`super::merge`]) tagged with the event's position in the input, so
//! the alerts come out in the same order whatever the number of shards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use talon_alert::{Alert, AlertBuilder};
use talon_engine::exceptions::BoundExceptions;
use talon_engine::schedule::{ScheduleStats, Scheduled, Scheduler};
use talon_engine::sequence::{SequenceMatch, SequenceWarning};
use talon_engine::{CompiledRule, Engine, EngineOptions, EngineStats, IndexCensus};
use talon_event::mapping::Mapping;
use talon_event::Event;
use tracing::warn;

use crate::cmd::common::Events;

/// What a shard sends to the merger, in its own input order.
#[derive(Debug)]
pub(super) enum Msg {
    /// The alerts of rule `slot` (event rules first, then sequence rules)
    /// found while event `at` was read; `at` is `u64::MAX` for what the
    /// end of input settled.
    Alerts {
        at: u64,
        slot: usize,
        alerts: Vec<Alert>,
    },
    /// Event `at` matched at least one of the shard's event rules.
    Matched(u64),
    /// The shard has read every event up to `at`.
    Progress(u64),
}

impl Msg {
    /// The merge order: input position, then rule slot; a shard's own
    /// messages are in this order.
    pub(super) fn key(&self) -> (u64, usize) {
        match self {
            Msg::Alerts { at, slot, .. } => (*at, *slot),
            Msg::Matched(at) | Msg::Progress(at) => (*at, usize::MAX),
        }
    }
}

/// What every shard shares, read-only.
pub(super) struct Shared<'a> {
    pub opts: &'a EngineOptions,
    pub mapping: &'a Mapping,
    pub exceptions: &'a BoundExceptions,
    pub seq_exceptions: &'a BoundExceptions,
    pub builders: &'a [AlertBuilder<'a>],
    pub seq_builders: &'a [AlertBuilder<'a>],
    /// Number of event rules: sequence rule `j` has slot `event_rules + j`.
    pub event_rules: usize,
    /// Set by the merger when alerts can no longer be written.
    pub stop: &'a AtomicBool,
}

/// One shard's rules and duties.
pub(super) struct ShardSpec {
    /// Event rules with their global index, in order.
    pub event: Vec<(usize, CompiledRule)>,
    /// Sequence rules with their global index, in order.
    pub sequence: Vec<(usize, CompiledRule)>,
    pub reader: Events,
    /// The schedule replay (only when there is one shard).
    pub scheduler: Option<Scheduler<Vec<Alert>>>,
    /// Counts the events no rule of any shard searches (one shard only).
    pub census: Option<IndexCensus>,
}

/// What a shard counted, by global rule index.
#[derive(Default)]
pub(super) struct ShardReport {
    pub reader: Option<Events>,
    pub engine: EngineStats,
    /// (global event rule index, matched) per rule of the shard.
    pub rule_matched: Vec<(usize, u64)>,
    /// (global sequence rule index, sequences found).
    pub sequences: Vec<(usize, u64)>,
    /// (slot, suppressed by exceptions).
    pub suppressed: Vec<(usize, u64)>,
    pub alert_errors: u64,
    pub seq_warnings: Vec<SequenceWarning>,
    pub schedule: Option<ScheduleStats>,
    pub truncations: u64,
    /// The census's counts of unsearched events.
    pub unsearched: Option<EngineStats>,
}

/// How often a shard tells the merger how far it has read.
const PROGRESS_EVERY: u64 = 256;

/// Runs one shard over its reader to the end (or until the merger stops
/// listening), sending what it finds on `tx`.
pub(super) fn run(spec: ShardSpec, shared: &Shared<'_>, tx: SyncSender<Msg>) -> ShardReport {
    let ShardSpec {
        event,
        sequence,
        mut reader,
        mut scheduler,
        mut census,
    } = spec;
    let event_slots: Vec<usize> = event.iter().map(|(g, _)| *g).collect();
    let seq_slots: Vec<usize> = sequence.iter().map(|(g, _)| *g).collect();
    let rules: Vec<CompiledRule> = event.into_iter().chain(sequence).map(|(_, r)| r).collect();
    let (mut engine, problems) = Engine::with_mapping(rules, shared.opts, shared.mapping);
    // The rules were checked to be runnable before they were shared out.
    debug_assert!(problems.is_empty());

    let mut report = ShardReport::default();
    let mut unsearched = EngineStats::default();
    let mut suppressed = vec![0u64; event_slots.len()];
    let mut seq_suppressed = vec![0u64; seq_slots.len()];
    let mut found: Vec<(usize, SequenceMatch)> = Vec::new();
    // A send fails only when the merger is gone; then there is no one to
    // tell, and the shard stops at the next event.
    let send = |m: Msg| {
        let _ = tx.send(m);
    };
    let mut sink = Sink {
        send: &send,
        scheduler: scheduler.as_mut(),
        alert_errors: &mut report.alert_errors,
        truncations: &mut report.truncations,
    };

    for item in reader.by_ref() {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let event = match item {
            Ok(e) => Arc::new(e),
            // Counted in the reader's stats and logged there at -vv.
            Err(_) => continue,
        };
        let at = event.seq;
        if let Some(c) = census.as_mut() {
            if !c.searched(&*event) {
                unsearched.count_unsearched(&*event);
            }
        }
        if let Some(s) = sink.scheduler.as_mut() {
            s.observe(&event);
        }
        let mut matched = false;
        engine.on_shared_event_admitting(
            &event,
            |d| {
                matched = true;
                let g = event_slots[d.rule_index];
                if shared.exceptions.check(g, d.event).is_some() {
                    suppressed[d.rule_index] += 1;
                    return;
                }
                match shared.builders[g].event_alert(d.event) {
                    Ok(alert) => sink.alerts(at, g, Span::One(d.event), vec![alert]),
                    Err(e) => {
                        *sink.alert_errors += 1;
                        warn!(
                            "{}:{}: cannot build alert: {e}",
                            d.event.origin.file, d.event.origin.line
                        );
                    }
                }
            },
            |sd| found.push((sd.rule_index, sd.matched)),
            |i, e| {
                // An excepted event fills no term of the rule's sequences.
                let excepted = shared.seq_exceptions.check(seq_slots[i], e).is_some();
                if excepted {
                    seq_suppressed[i] += 1;
                }
                !excepted
            },
        );
        for (i, m) in found.drain(..) {
            let g = seq_slots[i];
            sink.sequence(at, shared, g, &m);
        }
        if matched {
            send(Msg::Matched(at));
        }
        if let Some(s) = sink.scheduler.as_mut() {
            let (send, errors) = (&send, &mut *sink.truncations);
            s.advance(|x| emit(x, at, send, errors));
        }
        if at % PROGRESS_EVERY == 0 {
            send(Msg::Progress(at));
        }
    }
    // Sequences still settling at the end of input, then the last runs.
    report.seq_warnings = engine.finish(|sd| found.push((sd.rule_index, sd.matched)));
    for (i, m) in found.drain(..) {
        sink.sequence(u64::MAX, shared, seq_slots[i], &m);
    }
    if let Some(s) = scheduler.take() {
        let errors = &mut report.truncations;
        report.schedule = Some(s.finish(|x| emit(x, u64::MAX, &send, errors)));
    }

    report.engine = engine.stats().clone();
    let (seen, evaluated) = engine
        .stats()
        .rules
        .iter()
        .fold((0, 0), |(s, e), st| (s + st.seen, e + st.evaluated));
    tracing::debug!(
        "shard: {} events; event rules reached {seen} times, evaluated {evaluated} times",
        engine.stats().events
    );
    report.rule_matched = event_slots
        .iter()
        .zip(&engine.stats().rules)
        .map(|(g, st)| (*g, st.matched))
        .collect();
    report.sequences = seq_slots
        .iter()
        .copied()
        .zip(engine.sequence_matches())
        .collect();
    report.suppressed = event_slots.iter().copied().zip(suppressed).collect();
    report.suppressed.extend(
        seq_slots
            .iter()
            .map(|g| shared.event_rules + g)
            .zip(seq_suppressed),
    );
    report.unsearched = census.map(|_| unsearched);
    report.reader = Some(reader);
    report
}

/// The events alerts are about, for the schedule replay's windows.
enum Span<'e> {
    One(&'e Event),
    Many(&'e Event, &'e Event),
}

/// Where a shard's alerts go: straight to the merger, or through the
/// schedule replay.
struct Sink<'s> {
    send: &'s dyn Fn(Msg),
    scheduler: Option<&'s mut Scheduler<Vec<Alert>>>,
    alert_errors: &'s mut u64,
    truncations: &'s mut u64,
}

impl Sink<'_> {
    /// Alerts of `slot` about the events of `span`.
    fn alerts(&mut self, at: u64, slot: usize, span: Span<'_>, alerts: Vec<Alert>) {
        let key = alerts.first().map(|a| a.uuid().to_string());
        match (self.scheduler.as_mut(), key) {
            (Some(s), Some(key)) => match span {
                Span::One(e) => s.offer(slot, e, key, alerts),
                Span::Many(first, last) => s.offer_span(slot, first, last, key, alerts),
            },
            _ => (self.send)(Msg::Alerts { at, slot, alerts }),
        }
    }

    /// The alerts of one sequence: the shell alert, then a building block
    /// per event, linked by `kibana.alert.group.id`, as Kibana writes EQL
    /// sequence alerts. With a schedule replay, the group goes to the runs
    /// whose window holds its first and last events.
    fn sequence(&mut self, at: u64, shared: &Shared<'_>, g: usize, m: &SequenceMatch) {
        let events: Vec<&Event> = m.events.iter().flatten().map(|e| e.as_ref()).collect();
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return;
        };
        match shared.seq_builders[g].sequence_alerts(&events) {
            Ok(docs) => self.alerts(at, shared.event_rules + g, Span::Many(first, last), docs),
            Err(e) => {
                *self.alert_errors += 1;
                warn!("cannot build sequence alert: {e}");
            }
        }
    }
}

/// A schedule replay's output: alerts to the merger, truncated runs
/// warned about and counted.
fn emit(s: Scheduled<Vec<Alert>>, at: u64, send: &dyn Fn(Msg), truncations: &mut u64) {
    match s {
        Scheduled::Alert {
            rule_index,
            payload,
            ..
        } => send(Msg::Alerts {
            at,
            slot: rule_index,
            alerts: payload,
        }),
        Scheduled::Truncated(t) => {
            *truncations += 1;
            eprintln!("warning: {t}");
        }
    }
}
