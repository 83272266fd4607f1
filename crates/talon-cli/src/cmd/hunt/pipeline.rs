//! The hunt pipeline: input read in batches, events evaluated on every
//! core, findings put back in input order.
//!
//! ```text
//!  reader ──batches──▶ workers (N) ──findings──▶ merger (this thread)
//!  (cuts chunks at     search and number lines,    alerts written in order,
//!   line ends)         parse, route, event rules,  sequence state fed in
//!                      alerts built, sequence      order, counts absorbed
//!                      terms read
//! ```
//!
//! Everything that is per event and needs no state runs on the workers,
//! each with its own copy of the engine's event stage: parsing (the costly
//! part), routing, the witness index, event rules, exceptions, building
//! and serializing alerts, and reading what each event fills of the
//! sequence rules. The merger takes the batches back in order and does
//! what needs one place and one order: writing, the sequence rules' state,
//! and the reader's counts. So the output is the same, byte for byte,
//! whatever the number of threads. With one thread the same steps run one
//! after the other, without channels.
//!
//! Memory is bounded: at most [`IN_FLIGHT_PER_WORKER`] batches per worker
//! are read ahead of the merger. The threads themselves are in
//! [`super::threads`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use smallvec::SmallVec;
use talon_alert::{Alert, AlertBuilder, AlertError, SequenceIds};
use talon_engine::exceptions::BoundExceptions;
use talon_engine::schedule::{ClockTimes, ScheduleStats, Times};
use talon_engine::sequence::SequenceMatch;
use talon_engine::{EngineStats, EventStage, Outcome, SequenceStage, SequenceWarning, TermHits};
use talon_event::read::{Batch, ChunkCounts, LineParser, ReadOptions};
use talon_event::untimed::Untimed;
use talon_event::{Event, EventView};
use tracing::warn;

use super::replay::ScheduleSide;
use super::threads;
use super::Suppressed;
use crate::cmd::common::Events;

/// Bytes of input per batch: large enough that handing a batch over costs
/// nothing next to parsing it, small enough to share work evenly.
const BATCH_BYTES: usize = 512 << 10;

/// Batches each worker may have in hand or waiting before the merger
/// takes them back.
const IN_FLIGHT_PER_WORKER: usize = 4;

/// An alert as a worker hands it over.
pub(super) enum AlertOut {
    /// Serialized already: `alerts` JSON lines, newlines included.
    Json { lines: Vec<u8>, alerts: u64 },
    /// For the table and CSV writers.
    Doc(Box<Alert>),
}

impl AlertOut {
    /// How many alerts this is.
    pub fn count(&self) -> u64 {
        match self {
            AlertOut::Json { alerts, .. } => *alerts,
            AlertOut::Doc(_) => 1,
        }
    }
}

/// An event's alert, serialized (`json`) or as a document.
pub(super) fn event_alert(
    builder: &AlertBuilder<'_>,
    event: &Event,
    json: bool,
) -> Result<AlertOut, AlertError> {
    if json {
        let mut lines = Vec::new();
        builder
            .write_event_alert_jsonl(event, &mut lines)
            .map(|_| AlertOut::Json { lines, alerts: 1 })
    } else {
        builder
            .event_alert(event)
            .map(|a| AlertOut::Doc(Box::new(a)))
    }
}

/// A sequence's alerts (the shell, then a building block per event),
/// serialized (`json`) or as documents, for the events `ids` come from.
pub(super) fn sequence_alerts(
    builder: &AlertBuilder<'_>,
    ids: &SequenceIds<'_>,
    json: bool,
) -> Result<Vec<AlertOut>, AlertError> {
    if json {
        let mut lines = Vec::new();
        builder
            .write_sequence_alerts_jsonl_of(ids, &mut lines)
            .map(|s| {
                let alerts = s.len() as u64;
                vec![AlertOut::Json { lines, alerts }]
            })
    } else {
        builder.sequence_alerts_of(ids).map(|docs| {
            docs.into_iter()
                .map(|a| AlertOut::Doc(Box::new(a)))
                .collect()
        })
    }
}

/// What every worker shares, read-only.
pub(super) struct Shared<'a> {
    pub exceptions: &'a BoundExceptions,
    pub seq_exceptions: &'a BoundExceptions,
    pub builders: &'a [AlertBuilder<'a>],
    pub seq_builders: &'a [AlertBuilder<'a>],
    /// Alerts as JSON lines (else as documents).
    pub json: bool,
    /// What sequence rules keep of the events they wait on; `None`: all.
    pub slim_fields: Option<&'a [String]>,
    pub read: &'a ReadOptions,
    /// Set by the merger when alerts can no longer be written.
    pub stop: &'a AtomicBool,
    /// With `--schedule`: what workers read for the schedule replay.
    pub schedule: Option<&'a ScheduleFields>,
}

/// What workers read of events for the schedule replay (`--schedule`).
pub(super) struct ScheduleFields {
    /// The window times of every event a rule searches.
    pub times: ClockTimes,
    /// What a matched event keeps for its held alert: `@timestamp` and
    /// every field the scheduler reads ([`Scheduler::fields`]).
    pub keep: Vec<String>,
}

/// What one event gave, as the merger needs it.
struct Found {
    /// The event's place in its batch.
    local: u64,
    /// Its time on each sequence clock.
    clocks: SmallVec<[Option<i64>; 1]>,
    /// (event rule, alert), in rule order.
    alerts: Vec<(usize, AlertOut)>,
    /// Some event rule matched (exceptions aside).
    matched: bool,
    /// It matched, and has no `@timestamp` its alerts can be dated by:
    /// why, and where it was read.
    untimed: Option<Untimed>,
    hits: Vec<(usize, TermHits)>,
    /// What sequence rules hold on to, when it filled some term.
    keep: Option<Event>,
    /// With `--schedule`: its window times, when some rule searches it.
    times: Option<Times>,
    /// With `--schedule`: (event rule, alert id, held event) per match,
    /// in rule order, instead of `alerts`.
    offers: Vec<(usize, String, Event)>,
}

/// What one batch gave.
struct BatchOut {
    events: u64,
    counts: Option<ChunkCounts>,
    found: Vec<Found>,
}

/// A worker's own state and counts.
pub(super) struct Worker {
    stage: EventStage,
    /// Taken out while it reads a chunk (its callback borrows the worker);
    /// made once, as it holds the scanner's tables.
    parser: Option<LineParser>,
    outcome: Outcome,
    pub suppressed: Suppressed,
    pub alert_errors: u64,
    sequences: bool,
    /// The fields of an event an alert reads besides its source text.
    alert_fields: Vec<String>,
}

impl Worker {
    pub fn new(stage: EventStage, shared: &Shared<'_>) -> Worker {
        let slots = stage.rules().len() + stage.sequence_rules().len();
        let sequences = !stage.sequence_rules().is_empty();
        Worker {
            stage,
            parser: Some(LineParser::new(shared.read)),
            outcome: Outcome::default(),
            suppressed: Suppressed::new(slots),
            alert_errors: 0,
            sequences,
            alert_fields: match shared.schedule {
                Some(s) => s.keep.clone(),
                None => vec!["@timestamp".to_string()],
            },
        }
    }

    /// The engine's counts, taken.
    pub fn take_stats(&mut self) -> EngineStats {
        self.stage.take_stats()
    }

    fn process(&mut self, batch: Batch, shared: &Shared<'_>) -> BatchOut {
        let mut out = BatchOut {
            events: 0,
            counts: None,
            found: Vec::new(),
        };
        match batch {
            Batch::Lines(chunk) => {
                let mut counts = ChunkCounts::default();
                let mut parser = self
                    .parser
                    .take()
                    .unwrap_or_else(|| LineParser::new(shared.read));
                let mut local = 0u64;
                parser.read(
                    &chunk,
                    &mut |ev| {
                        self.event(ev, local, shared, &mut out.found);
                        local += 1;
                    },
                    &mut counts,
                );
                self.parser = Some(parser);
                out.events = local;
                out.counts = Some(counts);
            }
            Batch::Items(items) => {
                // Their issues are counted by the reader, in input order
                // with the chunks' (see `talon_event::read::InputOrder`).
                for ev in items.into_iter().flatten() {
                    self.event(&ev, out.events, shared, &mut out.found);
                    out.events += 1;
                }
            }
        }
        out
    }

    fn event(
        &mut self,
        ev: &dyn EventView,
        local: u64,
        shared: &Shared<'_>,
        found: &mut Vec<Found>,
    ) {
        self.stage.on_event(ev, &mut self.outcome);
        let o = &mut self.outcome;
        // The schedule replay notes the time of every event searched.
        let times = shared
            .schedule
            .filter(|_| o.searched)
            .map(|s| s.times.read(ev));
        if o.matched.is_empty() && o.hits.is_empty() && !self.sequences && times.is_none() {
            return;
        }
        let n_event_rules = self.stage.rules().len();
        // Exceptions read the whole event; alerts only its source, index,
        // origin and `@timestamp` (see `AlertBuilder::write_event_alert_jsonl`).
        // Made once, only for an event something matched.
        let mut owned: Option<Event> = None;
        let exceptions = !shared.exceptions.is_empty() || !shared.seq_exceptions.is_empty();
        let alert_fields = &self.alert_fields;
        let mut whole = || ev.to_event((!exceptions).then_some(alert_fields.as_slice()));
        let mut f = Found {
            local,
            clocks: o.clocks.iter().copied().collect(),
            alerts: Vec::new(),
            matched: !o.matched.is_empty(),
            untimed: None,
            hits: Vec::new(),
            keep: None,
            times,
            offers: Vec::new(),
        };
        for &i in &o.matched {
            let event = owned.get_or_insert_with(&mut whole);
            if let Some(why) = shared.exceptions.check(i, event) {
                self.suppressed.note(i, &why);
                continue;
            }
            if shared.schedule.is_some() {
                // Its run builds the alert (see `replay`).
                let key = shared.builders[i].event_alert_uuid(event);
                f.offers.push((i, key, event.slim(alert_fields)));
                continue;
            }
            match event_alert(&shared.builders[i], event, shared.json) {
                Ok(alert) => f.alerts.push((i, alert)),
                Err(e) => {
                    self.alert_errors += 1;
                    warn!("{}: cannot build alert: {e}", event.origin);
                }
            }
        }
        // What an alert reads for kibana.alert.original_time; without it
        // the alert has only the times of the run (see `summary`).
        // The schedule replay counts untimed matches itself.
        let counted = f.matched && shared.schedule.is_none();
        if let Some(event) = owned.as_ref().filter(|_| counted) {
            let timed = event
                .first("@timestamp")
                .and_then(talon_event::time::parse_nanos)
                .is_some();
            if !timed {
                f.untimed = Some(Untimed::of(event, "@timestamp"));
            }
        }
        if !o.hits.is_empty() {
            if !shared.seq_exceptions.is_empty() {
                // An excepted event fills no term of the rule's sequences.
                let event = owned.get_or_insert_with(&mut whole);
                let suppressed = &mut self.suppressed;
                o.hits
                    .retain(|(j, h)| match shared.seq_exceptions.check(*j, event) {
                        Some(why) => {
                            // A keyless event fills no term: no match.
                            if !h.is_keyless() {
                                suppressed.note(n_event_rules + j, &why);
                            }
                            false
                        }
                        None => true,
                    });
            }
            // Only what the exceptions keep settles a term (an excepted
            // keyless event must not hide the next one).
            self.stage.settle_kept(&o.hits);
            // An event that only fills missing or `until` terms is judged
            // by its time and keys: the runners get a stand-in for it,
            // which keeps where it was read (a late one is named by it).
            f.keep = Some(if o.hits.iter().any(|(_, h)| h.needs_event()) {
                ev.to_event(shared.slim_fields)
            } else {
                let mut stand_in = Event::default();
                stand_in.origin = ev.origin();
                stand_in
            });
            f.hits = std::mem::take(&mut o.hits);
        }
        found.push(f);
    }
}

/// Where the merger puts what it takes back.
pub(super) trait Sink {
    /// Alerts of `slot` (event rules, then sequence rules), in order.
    fn alerts(&mut self, slot: usize, alerts: Vec<AlertOut>);
    /// An event some event rule matched; `untimed` when it has no usable
    /// `@timestamp`.
    fn matched(&mut self, untimed: Option<Untimed>);
}

/// The in-order half: writing, sequence state, counts.
pub(super) struct Merger<'a, S: Sink> {
    pub sink: S,
    pub sequences: SequenceStage,
    pub shared: &'a Shared<'a>,
    pub event_rules: usize,
    /// Input position of the next batch's first event.
    next_seq: u64,
    pub alert_errors: u64,
    /// The shell alert ids written (see `sequence`); an id holds its
    /// rule's, so one set serves every rule.
    written: HashSet<u128>,
    /// Sequences whose alerts were those of one written before.
    pub repeated: u64,
    /// With `--schedule`: matches go to the replay, not to `sink`.
    schedule: Option<ScheduleSide<'a>>,
}

impl<'a, S: Sink> Merger<'a, S> {
    pub fn new(
        sink: S,
        sequences: SequenceStage,
        shared: &'a Shared<'a>,
        event_rules: usize,
        schedule: Option<ScheduleSide<'a>>,
    ) -> Self {
        Merger {
            schedule,
            written: HashSet::new(),
            sink,
            sequences,
            shared,
            event_rules,
            next_seq: 0,
            alert_errors: 0,
            repeated: 0,
        }
    }

    fn take(&mut self, out: BatchOut, events: &Mutex<Events>) {
        if let Some(c) = &out.counts {
            if let Ok(mut e) = events.lock() {
                e.record_chunk(c);
            }
        }
        let base = self.next_seq;
        self.next_seq += out.events;
        for mut f in out.found {
            let seq = base + f.local;
            if f.matched {
                self.sink.matched(f.untimed.take());
            }
            // One rule's alerts for one event go out together.
            let mut alerts = f.alerts.into_iter().peekable();
            while let Some((slot, a)) = alerts.next() {
                let mut group = vec![a];
                while let Some((_, a)) = alerts.next_if(|(s, _)| *s == slot) {
                    group.push(a);
                }
                self.sink.alerts(slot, group);
            }
            if let Some(side) = &mut self.schedule {
                for (rule, key, mut event) in f.offers.drain(..) {
                    event.seq = seq;
                    side.offer_event(rule, event, key);
                }
            }
            if !self.sequences.is_empty() {
                self.sequence_event(seq, &f.clocks, &mut f.hits, f.keep.take());
            }
            self.after_event(f.times.as_deref());
        }
    }

    /// The sequence rules' side of one event taken back, at input
    /// position `seq`: its time on each clock, the terms it filled and
    /// what the runners may keep of it.
    fn sequence_event(
        &mut self,
        seq: u64,
        clocks: &[Option<i64>],
        hits: &mut Vec<(usize, TermHits)>,
        mut keep: Option<Event>,
    ) {
        let mut seq_found: Vec<(usize, SequenceMatch)> = Vec::new();
        self.sequences.on_event(
            seq,
            clocks,
            hits,
            &mut || {
                // A stand-in when every hit was on a missing or
                // `until` term.
                let mut e = keep.take().unwrap_or_default();
                e.seq = seq;
                Arc::new(e)
            },
            &mut |j, m| seq_found.push((j, m)),
        );
        for (j, m) in seq_found.drain(..) {
            match &mut self.schedule {
                Some(side) => side.offer_sequence(j, m),
                None => self.sequence(j, &m),
            }
        }
    }

    /// With `--schedule`, after each event: its times to the replay, and
    /// what the cap on held matches releases to the writer.
    fn after_event(&mut self, times: Option<&[Option<i64>]>) {
        if let Some(side) = &mut self.schedule {
            let sink = &mut self.sink;
            side.after_event(times, &mut |slot, alerts| sink.alerts(slot, alerts));
        }
    }

    /// The alerts of one sequence: the shell alert, then a building block
    /// per event, linked by `kibana.alert.group.id`, as Kibana writes EQL
    /// sequence alerts.
    ///
    /// A sequence made of the same events as one written before (on
    /// another value of a multi-valued `by` field) has the same alert ids,
    /// which depend only on the events and the rule. Kibana indexes one
    /// document per id, so its alerts are written once and the repeat is
    /// counted.
    ///
    /// The id is checked before the alerts are built: an event with many
    /// values for the `by` field gives as many sequences of the same
    /// events, and building each one's alerts (which hold those events)
    /// made such input take minutes.
    fn sequence(&mut self, j: usize, m: &SequenceMatch) {
        let events: Vec<&Event> = m.events.iter().flatten().map(|e| e.as_ref()).collect();
        let builder = &self.shared.seq_builders[j];
        let Some(ids) = builder.sequence_ids(&events) else {
            return;
        };
        let key = id_key(ids.shell_uuid());
        if key.is_some_and(|k| self.written.contains(&k)) {
            self.repeated += 1;
            return;
        }
        match sequence_alerts(builder, &ids, self.shared.json) {
            Ok(out) => {
                if let Some(k) = key {
                    self.written.insert(k);
                }
                self.sink.alerts(self.event_rules + j, out)
            }
            Err(e) => {
                self.alert_errors += 1;
                // Where the sequence starts: its first event.
                match events.first() {
                    Some(first) => warn!("{}: cannot build sequence alert: {e}", first.origin),
                    None => warn!("cannot build sequence alert: {e}"),
                }
            }
        }
    }

    /// Ends the input: what sequence rules still hold is settled, and with
    /// `--schedule` every run is made (its counts are returned).
    pub fn finish(&mut self) -> (Vec<SequenceWarning>, Option<ScheduleStats>) {
        let mut found = Vec::new();
        let warnings = self.sequences.finish(&mut |j, m| found.push((j, m)));
        for (j, m) in found {
            match &mut self.schedule {
                Some(side) => side.offer_sequence(j, m),
                None => self.sequence(j, &m),
            }
        }
        let schedule = self.schedule.take().map(|side| {
            let sink = &mut self.sink;
            let (stats, errors) = side.finish(&mut |slot, alerts| sink.alerts(slot, alerts));
            self.alert_errors += errors;
            stats
        });
        (warnings, schedule)
    }
}

/// An alert id (64 hex digits of a SHA-256) as the 128 bits it starts
/// with; `None` for any other text, which is then never taken for a
/// repeat.
fn id_key(uuid: &str) -> Option<u128> {
    u128::from_str_radix(uuid.get(..32)?, 16).ok()
}

/// Runs the pipeline over `events` with `workers` (one per thread).
/// Returns the workers, for their counts.
pub(super) fn run<S: Sink>(
    events: &Mutex<Events>,
    mut workers: Vec<Worker>,
    merger: &mut Merger<'_, S>,
    shared: &Shared<'_>,
) -> Vec<Worker> {
    let next = || match events.lock() {
        Ok(mut e) => e.next_batch(BATCH_BYTES),
        Err(_) => None,
    };
    if workers.len() <= 1 {
        let Some(mut w) = workers.pop() else {
            return workers;
        };
        while !shared.stop.load(Ordering::Relaxed) {
            let Some(batch) = next() else { break };
            let out = w.process(batch, shared);
            merger.take(out, events);
        }
        return vec![w];
    }

    let in_flight = workers.len() * IN_FLIGHT_PER_WORKER;
    threads::ordered_parallel(
        workers,
        in_flight,
        shared.stop,
        next,
        |w: &mut Worker, batch| w.process(batch, shared),
        |out| merger.take(out, events),
    )
}
