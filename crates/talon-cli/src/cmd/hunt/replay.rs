//! `talon hunt --schedule`: every match, taken back in input order by the
//! pipeline's merger, is offered to the schedule replay ([`Scheduler`]),
//! which writes the alerts Kibana's runs would have created and warns for
//! each run that reached max_signals. Events are read and evaluated on
//! every thread, as without `--schedule` ([`super::pipeline`]).
//!
//! The replay holds the matches until the end of input (up to a cap),
//! then hands them to the runs in time order: input order does not
//! matter.
//!
//! A match is held as its event(s), and its alerts are built when a run
//! returns it, by that run: `@timestamp`, the execution's time and its
//! uuid are the run's, as in the alerts Kibana's run would have written
//! (see [`AlertBuilder::for_run`]).

use std::sync::Arc;

use talon_alert::{AlertBuilder, AlertError};
use talon_engine::schedule::{Run, ScheduleStats, Scheduled, Scheduler};
use talon_engine::sequence::SequenceMatch;
use talon_event::Event;
use tracing::warn;

use super::pipeline::{event_alert, sequence_alerts, AlertOut, Shared};

/// What a held match's alerts are built from.
pub(super) enum Matched {
    /// The event an event rule matched, with only the fields its alert and
    /// the scheduler read (`@timestamp`, the rule's window and order
    /// fields).
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

/// The schedule side of the merger: every match, in input order, goes to
/// the scheduler instead of being written; what its runs return is built
/// and written as they are made.
pub(super) struct ScheduleSide<'a> {
    pub scheduler: Scheduler<Matched>,
    runs: RunAlerts<'a>,
    shared: &'a Shared<'a>,
    event_rules: usize,
}

impl<'a> ScheduleSide<'a> {
    pub fn new(scheduler: Scheduler<Matched>, shared: &'a Shared<'a>, event_rules: usize) -> Self {
        ScheduleSide {
            scheduler,
            runs: RunAlerts::new(shared, event_rules),
            shared,
            event_rules,
        }
    }

    /// A match of event rule `rule` on `event` (its input position set),
    /// whose alert id is `key`.
    pub fn offer_event(&mut self, rule: usize, event: Event, key: String) {
        let event = Arc::new(event);
        self.scheduler
            .offer(rule, &event, key, Matched::Event(Arc::clone(&event)));
    }

    /// A match of sequence rule `j`.
    pub fn offer_sequence(&mut self, j: usize, m: SequenceMatch) {
        offer_sequence(&mut self.scheduler, self.shared, self.event_rules, j, m);
    }

    /// After an event: its window times (when some rule searches it), then
    /// what the cap on held matches releases.
    pub fn after_event(
        &mut self,
        times: Option<&[Option<i64>]>,
        write: &mut impl FnMut(usize, Vec<AlertOut>),
    ) {
        if let Some(times) = times {
            self.scheduler.observe_times(times);
        }
        let runs = &mut self.runs;
        self.scheduler.advance(|s| runs.emit(s, write));
    }

    /// Ends the input: every run is made. Returns the replay's counts and
    /// the alerts it could not build.
    pub fn finish(self, write: &mut impl FnMut(usize, Vec<AlertOut>)) -> (ScheduleStats, u64) {
        let mut runs = self.runs;
        let stats = self.scheduler.finish(|s| runs.emit(s, write));
        (stats, runs.alert_errors)
    }
}

/// A sequence's alert group goes to the runs whose window holds its first
/// and last events.
// TODO: a Kibana run matches sequences within its own window only: a
// trailing or leading missing event (`![...]`) outside that window, or a
// sample's other candidates, can give a run an alert the whole-input
// match does not (per-run sequence matching is missing).
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
            Matched::Event(event) => event_alert(builder, event, json).map(|a| vec![a]),
            Matched::Sequence(events) => {
                let refs: Vec<&Event> = events.iter().map(|e| e.as_ref()).collect();
                match builder.sequence_ids(&refs) {
                    Some(ids) => sequence_alerts(builder, &ids, json),
                    None => Err(AlertError::EmptySequence),
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
