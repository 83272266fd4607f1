//! `talon hunt --schedule`: one engine, every event in input order, each
//! match offered to the schedule replay ([`Scheduler`]), which writes the
//! alerts Kibana's runs would have created and warns for each run that
//! reached max_signals.
//!
//! The replay holds the matches until the end of input (up to a cap),
//! then hands them to the runs in time order: input order does not
//! matter. It runs on one thread, event by event.
//!
//! A match is held as its event(s), and its alerts are built when a run
//! returns it, by that run: `@timestamp`, the execution's time and its
//! uuid are the run's, as in the alerts Kibana's run would have written
//! (see [`AlertBuilder::for_run`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use talon_alert::AlertBuilder;
use talon_engine::schedule::{Run, ScheduleStats, Scheduled, Scheduler};
use talon_engine::sequence::{SequenceMatch, SequenceWarning};
use talon_engine::{Engine, EngineStats};
use talon_event::Event;
use tracing::warn;

use super::pipeline::{AlertOut, Shared};
use super::Suppressed;
use crate::cmd::common::Events;

/// The fields an event's alert reads besides its source text, index, id
/// and origin (see `AlertBuilder::write_event_alert_jsonl`).
const ALERT_FIELDS: &[&str] = &["@timestamp"];

/// What a held match's alerts are built from.
pub(super) enum Matched {
    /// The event an event rule matched, with only [`ALERT_FIELDS`].
    Event(Arc<Event>),
    /// A sequence's events, in order.
    Sequence(Vec<Arc<Event>>),
}

impl Matched {
    /// The match's event, or a sequence's first.
    fn first_event(&self) -> Option<&Event> {
        match self {
            Matched::Event(event) => Some(event),
            Matched::Sequence(events) => events.first().map(|e| e.as_ref()),
        }
    }
}

/// What the replay counted.
pub(super) struct ReplayReport {
    pub engine: EngineStats,
    pub sequences: Vec<u64>,
    pub suppressed: Suppressed,
    pub alert_errors: u64,
    pub seq_warnings: Vec<SequenceWarning>,
    pub schedule: ScheduleStats,
    /// Events some event rule matched.
    pub matched: u64,
}

/// Replays the schedule over `events`; alerts go to `write(slot, alerts)`.
pub(super) fn run(
    mut engine: Engine,
    events: &mut Events,
    mut scheduler: Scheduler<Matched>,
    shared: &Shared<'_>,
    mut write: impl FnMut(usize, Vec<AlertOut>),
) -> ReplayReport {
    let event_rules = engine.rules().len();
    let seq_rules = engine.sequence_rules().count();
    // Counted by both the event-rule and the sequence-rule callbacks.
    let suppressed = std::cell::RefCell::new(Suppressed::new(event_rules + seq_rules));
    let mut matched = 0u64;
    let mut found: Vec<(usize, SequenceMatch)> = Vec::new();
    let mut runs = RunAlerts::new(shared, event_rules);
    let mut emit = |s: Scheduled<Matched>| runs.emit(s, &mut write);

    let mut seq = 0u64;
    for item in events.by_ref() {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let Ok(mut event) = item else { continue };
        event.seq = seq;
        seq += 1;
        let event = Arc::new(event);
        let mut any = false;
        engine.on_shared_event_admitting(
            &event,
            |d| {
                any = true;
                if let Some(why) = shared.exceptions.check(d.rule_index, d.event) {
                    suppressed.borrow_mut().note(d.rule_index, &why);
                    return;
                }
                let key = shared.builders[d.rule_index].event_alert_uuid(d.event);
                // Held until the end of input: only what its alert reads.
                let held = Matched::Event(Arc::new(d.event.slim(ALERT_FIELDS)));
                scheduler.offer(d.rule_index, d.event, key, held);
            },
            |sd| found.push((sd.rule_index, sd.matched)),
            |j, e| {
                let why = shared.seq_exceptions.check(j, e);
                if let Some(why) = &why {
                    suppressed.borrow_mut().note(event_rules + j, why);
                }
                why.is_none()
            },
        );
        matched += u64::from(any);
        for (j, m) in found.drain(..) {
            offer_sequence(&mut scheduler, shared, event_rules, j, m);
        }
        // The replay's runs span the earliest to the latest time of the
        // events some rule searches: one dated years ahead in an index no
        // rule searches must not add runs up to its time.
        if engine.searches(&event) {
            scheduler.observe(&event);
        }
        scheduler.advance(&mut emit);
    }
    let seq_warnings = engine.finish(|sd| found.push((sd.rule_index, sd.matched)));
    for (j, m) in found.drain(..) {
        offer_sequence(&mut scheduler, shared, event_rules, j, m);
    }
    let schedule = scheduler.finish(&mut emit);
    ReplayReport {
        engine: engine.stats().clone(),
        sequences: engine.sequence_matches(),
        suppressed: suppressed.into_inner(),
        alert_errors: runs.alert_errors,
        seq_warnings,
        schedule,
        matched,
    }
}

/// A sequence's alert group goes to the runs whose window holds its first
/// and last events.
fn offer_sequence(
    scheduler: &mut Scheduler<Matched>,
    shared: &Shared<'_>,
    event_rules: usize,
    j: usize,
    m: SequenceMatch,
) {
    let events: Vec<Arc<Event>> = m.events.into_iter().flatten().collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return;
    };
    let refs: Vec<&Event> = events.iter().map(|e| e.as_ref()).collect();
    let Some(key) = shared.seq_builders[j].sequence_alert_uuid(&refs) else {
        return;
    };
    let (first, last) = (Arc::clone(first), Arc::clone(last));
    scheduler.offer_span(
        event_rules + j,
        &first,
        &last,
        key,
        Matched::Sequence(events),
    );
}

/// Builds the alerts of each run as it returns them, with the builder of
/// that run.
struct RunAlerts<'a> {
    shared: &'a Shared<'a>,
    event_rules: usize,
    /// Per slot (event rules, then sequence rules): the builder of the
    /// rule's latest run, with its time. A rule's runs come out in order,
    /// so a builder (and the rule's fields it computes) serves all of its
    /// run's alerts.
    latest: Vec<Option<(i64, AlertBuilder<'a>)>>,
    alert_errors: u64,
}

impl<'a> RunAlerts<'a> {
    fn new(shared: &'a Shared<'a>, event_rules: usize) -> RunAlerts<'a> {
        let slots = shared.builders.len() + shared.seq_builders.len();
        RunAlerts {
            shared,
            event_rules,
            latest: (0..slots).map(|_| None).collect(),
            alert_errors: 0,
        }
    }

    fn emit(&mut self, s: Scheduled<Matched>, write: &mut impl FnMut(usize, Vec<AlertOut>)) {
        match s {
            Scheduled::Alert {
                rule_index,
                run,
                payload,
            } => {
                if let Some(alerts) = self.build(rule_index, run, &payload) {
                    write(rule_index, alerts);
                }
            }
            Scheduled::Truncated(t) => eprintln!("talon: warning: {t}"),
        }
    }

    /// The builder of `slot`'s rule for its run at `at`.
    fn builder(&mut self, slot: usize, at: i64) -> Option<&AlertBuilder<'a>> {
        let rule = match slot.checked_sub(self.event_rules) {
            None => self.shared.builders.get(slot)?,
            Some(j) => self.shared.seq_builders.get(j)?,
        };
        let latest = self.latest.get_mut(slot)?;
        if latest.as_ref().is_none_or(|(t, _)| *t != at) {
            let time = chrono::DateTime::from_timestamp_nanos(at);
            *latest = Some((at, rule.for_run(time)));
        }
        latest.as_ref().map(|(_, b)| b)
    }

    /// The alerts of one match, as its run writes them.
    fn build(&mut self, slot: usize, run: Run, held: &Matched) -> Option<Vec<AlertOut>> {
        let json = self.shared.json;
        let builder = self.builder(slot, run.at)?;
        let built = match held {
            Matched::Event(event) if json => {
                let mut lines = Vec::new();
                builder
                    .write_event_alert_jsonl(event, &mut lines)
                    .map(|_| vec![AlertOut::Json { lines, alerts: 1 }])
            }
            Matched::Event(event) => builder
                .event_alert(event)
                .map(|a| vec![AlertOut::Doc(Box::new(a))]),
            Matched::Sequence(events) => {
                let refs: Vec<&Event> = events.iter().map(|e| e.as_ref()).collect();
                if json {
                    let mut lines = Vec::new();
                    builder
                        .write_sequence_alerts_jsonl(&refs, &mut lines)
                        .map(|s| {
                            let alerts = s.len() as u64;
                            vec![AlertOut::Json { lines, alerts }]
                        })
                } else {
                    builder.sequence_alerts(&refs).map(|docs| {
                        docs.into_iter()
                            .map(|a| AlertOut::Doc(Box::new(a)))
                            .collect()
                    })
                }
            }
        };
        match built {
            Ok(alerts) => Some(alerts),
            Err(e) => {
                self.alert_errors += 1;
                // Where the match came from: its event, or a sequence's first.
                match held.first_event() {
                    Some(ev) => warn!("{}: cannot build alert: {e}", ev.origin),
                    None => warn!("cannot build alert: {e}"),
                }
                None
            }
        }
    }
}
