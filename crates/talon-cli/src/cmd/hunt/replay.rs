//! `talon hunt --schedule`: one engine, every event in input order, each
//! match offered to the schedule replay ([`Scheduler`]), which writes the
//! alerts Kibana's runs would have created and warns for each run that
//! reached max_signals.
//!
//! The replay holds the matches until the end of input (up to a cap),
//! then hands them to the runs in time order: input order does not
//! matter. It runs on one thread, event by event.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use talon_alert::Alert;
use talon_engine::schedule::{ScheduleStats, Scheduled, Scheduler};
use talon_engine::sequence::{SequenceMatch, SequenceWarning};
use talon_engine::{Engine, EngineStats};
use talon_event::Event;
use tracing::warn;

use super::pipeline::Shared;
use super::Suppressed;
use crate::cmd::common::Events;

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
    mut scheduler: Scheduler<Vec<Alert>>,
    shared: &Shared<'_>,
    mut write: impl FnMut(usize, Vec<Alert>),
) -> ReplayReport {
    let event_rules = engine.rules().len();
    let seq_rules = engine.sequence_rules().count();
    // Counted by both the event-rule and the sequence-rule callbacks.
    let suppressed = std::cell::RefCell::new(Suppressed::new(event_rules + seq_rules));
    let (mut alert_errors, mut matched) = (0u64, 0u64);
    let mut found: Vec<(usize, SequenceMatch)> = Vec::new();
    let emit = |s: Scheduled<Vec<Alert>>, write: &mut dyn FnMut(usize, Vec<Alert>)| match s {
        Scheduled::Alert {
            rule_index,
            payload,
            ..
        } => write(rule_index, payload),
        Scheduled::Truncated(t) => eprintln!("talon: warning: {t}"),
    };

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
                match shared.builders[d.rule_index].event_alert(d.event) {
                    Ok(alert) => {
                        let key = alert.uuid().to_string();
                        scheduler.offer(d.rule_index, d.event, key, vec![alert]);
                    }
                    Err(e) => {
                        alert_errors += 1;
                        warn!(
                            "{}:{}: cannot build alert: {e}",
                            d.event.origin.file, d.event.origin.line
                        );
                    }
                }
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
            offer_sequence(
                &mut scheduler,
                shared,
                event_rules,
                j,
                &m,
                &mut alert_errors,
            );
        }
        // The replay's runs span the earliest to the latest time of the
        // events some rule searches: one dated years ahead in an index no
        // rule searches must not add runs up to its time.
        if engine.searches(&event) {
            scheduler.observe(&event);
        }
        scheduler.advance(|s| emit(s, &mut write));
    }
    let seq_warnings = engine.finish(|sd| found.push((sd.rule_index, sd.matched)));
    for (j, m) in found.drain(..) {
        offer_sequence(
            &mut scheduler,
            shared,
            event_rules,
            j,
            &m,
            &mut alert_errors,
        );
    }
    let schedule = scheduler.finish(|s| emit(s, &mut write));
    ReplayReport {
        engine: engine.stats().clone(),
        sequences: engine.sequence_matches(),
        suppressed: suppressed.into_inner(),
        alert_errors,
        seq_warnings,
        schedule,
        matched,
    }
}

/// A sequence's alert group goes to the runs whose window holds its first
/// and last events.
fn offer_sequence(
    scheduler: &mut Scheduler<Vec<Alert>>,
    shared: &Shared<'_>,
    event_rules: usize,
    j: usize,
    m: &SequenceMatch,
    alert_errors: &mut u64,
) {
    let events: Vec<&Event> = m.events.iter().flatten().map(|e| e.as_ref()).collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return;
    };
    match shared.seq_builders[j].sequence_alerts(&events) {
        Ok(docs) => {
            let Some(key) = docs.first().map(|a| a.uuid().to_string()) else {
                return;
            };
            scheduler.offer_span(event_rules + j, first, last, key, docs);
        }
        Err(e) => {
            *alert_errors += 1;
            warn!("cannot build sequence alert: {e}");
        }
    }
}
