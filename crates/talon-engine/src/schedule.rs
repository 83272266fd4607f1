//! Schedule replay: the alerts Kibana's rule task runner would have
//! created had the rules been running while the events arrived.
//!
//! How Kibana runs an EQL rule, and what is reproduced here:
//! - the rule runs every `interval`; each run searches `[now + from,
//!   now + to]` (`from` like `now-9m`, `to` by default `now`), both ends
//!   inclusive;
//! - the window filters on the primary timestamp, `timestamp_override`
//!   when set, else `@timestamp`. With an override, a document that lacks
//!   the override field is selected by its `@timestamp` instead
//!   (`buildTimeRangeFilter`'s fallback), unless the rule sets
//!   `timestamp_override_fallback_disabled = true`;
//! - the EQL search has `size = max_signals` and Elasticsearch's default
//!   `result_position` (tail): when more events match, the most recent
//!   `max_signals` by the EQL `timestamp_field` (default `@timestamp`) are
//!   returned. When the total reaches `max_signals` the run carries the
//!   warning "This rule reached the maximum alert limit for the rule
//!   execution. Some alerts were not created.";
//! - runs overlap (`from` reaches back past the previous run), and an event
//!   already alerted by an earlier run gives no second alert: alert ids are
//!   deterministic, and Kibana's create of an existing id is a no-op.
//!   Events returned again still count against `max_signals`, as they do
//!   in Kibana.
//!
//! What replay has to decide, since there was no real clock:
//! - **start**: each rule's first run is at the earliest event's time (by
//!   the rule's window timestamp) rounded down to a multiple of the rule's
//!   interval since the Unix epoch, as if the rule had been enabled at that
//!   tick; runs follow every interval until the first run whose window end
//!   is at or past the last event (with a `to` ahead of the run, like
//!   `now+1h`, that can be the first run itself: replay has no arrival
//!   times, so a window holds every event dated in it), and on while the
//!   next run's window holds a match no run returned yet (one a run left
//!   out for max_signals, its search ordered by `@timestamp` and its
//!   window by `event.ingested`). Events older than
//!   the first run's window (or in the gaps of a rule whose lookback is
//!   shorter than its interval) are never searched, and are counted as
//!   such;
//! - **order**: none is needed of the input. Runs need the matches in the
//!   order of the rule's window time, and the earliest and latest event
//!   times, which take no order: matches are held until the end of input
//!   and then handed to the runs oldest first, so one event ingested hours
//!   late (a `timestamp_override` of `event.ingested` over a file sorted
//!   by `@timestamp`) is alerted by the run of its ingest time and moves
//!   no other match. At most `ScheduleOptions::max_held_matches` are held
//!   (all rules together); past that the oldest are handed to their runs
//!   early (counted), and a match that comes after its rule's runs have
//!   passed its time is *late*: counted, not alerted. Input in the order
//!   of the rules' window time is never late, whatever the cap.
//!
//! The scheduler is fed every event (`observe`), then each rule match that
//! survived exceptions (`offer`, with its alert id and a payload: what the
//! alert is built from), and hands back alerts, each with the run that
//! created it, and truncation warnings as runs are made (`advance` when
//! the cap is passed, `finish` at the end of input).

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;

use rustc_hash::FxHashMap;
use talon_event::time::{format_millis, parse_nanos};
use talon_event::untimed::{NoTime, Untimed, UntimedEvents};
use talon_event::{Event, Fields};
use talon_rules::Rule;

/// Kibana's warning when a run reaches `max_signals`.
pub const MAX_SIGNALS_WARNING: &str =
    "This rule reached the maximum alert limit for the rule execution. Some alerts were not created.";

/// A schedule field that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "rule \"{rule}\": cannot read interval `{value}` (expected a number and s, m, h or d)"
    )]
    Interval { rule: String, value: String },
    #[error("rule \"{rule}\": cannot read `{field} = \"{value}\"` (expected now, or now-N / now+N with s, m, h, d or w)")]
    DateMath {
        rule: String,
        field: &'static str,
        value: String,
    },
    #[error("rule \"{rule}\": `from` ({from}) is not before `to` ({to})")]
    EmptyWindow {
        rule: String,
        from: String,
        to: String,
    },
}

// Read by the rule loader too, which reports a value they cannot read
// at its place in the rule file.
pub use talon_rules::schedule::{parse_duration, parse_interval, parse_now_offset, DurationError};

/// One rule's schedule, read from its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSchedule {
    pub interval: i64,
    /// `from` as an offset from the run time (negative).
    pub from: i64,
    /// `to` as an offset from the run time (0 for `now`).
    pub to: i64,
    pub max_signals: usize,
    /// The window's timestamp: the override, else `@timestamp`.
    pub primary: String,
    /// `@timestamp` when an override is set (the fallback), unless
    /// `timestamp_override_fallback_disabled` is true.
    pub secondary: Option<String>,
    /// The EQL `timestamp_field`, which orders the search results.
    pub order_field: String,
}

impl RuleSchedule {
    pub fn from_rule(rule: &Rule) -> Result<RuleSchedule, ScheduleError> {
        let interval_text = rule.interval_or_default();
        let interval = parse_interval(interval_text).ok_or_else(|| ScheduleError::Interval {
            rule: rule.name.clone(),
            value: interval_text.to_string(),
        })?;
        let math = |field: &'static str, value: &str| {
            parse_now_offset(value).ok_or_else(|| ScheduleError::DateMath {
                rule: rule.name.clone(),
                field,
                value: value.to_string(),
            })
        };
        let from_text = rule.from_or_default();
        let to_text = rule.to.as_deref().unwrap_or("now");
        let from = math("from", from_text)?;
        let to = math("to", to_text)?;
        if from >= to {
            return Err(ScheduleError::EmptyWindow {
                rule: rule.name.clone(),
                from: from_text.to_string(),
                to: to_text.to_string(),
            });
        }
        // Kibana's `timestamp_override_fallback_disabled` turns off the
        // `@timestamp` fallback for documents without the override.
        let fallback = rule
            .extra
            .get("timestamp_override_fallback_disabled")
            .and_then(serde_json::Value::as_bool)
            != Some(true);
        let (primary, secondary) = match rule.timestamp_override.as_deref().map(str::trim) {
            Some(o) if !o.is_empty() && o != "@timestamp" => {
                (o.to_string(), fallback.then(|| "@timestamp".to_string()))
            }
            _ => ("@timestamp".to_string(), None),
        };
        Ok(RuleSchedule {
            interval,
            from,
            to,
            max_signals: rule.alerts_per_run() as usize,
            primary,
            secondary,
            order_field: rule
                .timestamp_field
                .clone()
                .unwrap_or_else(|| "@timestamp".to_string()),
        })
    }
}

/// How many matches a replay holds by default (see
/// [`ScheduleOptions::max_held_matches`]): about 500 MB when each holds a
/// slim copy of a 1.3 KB event, as `talon hunt --schedule` holds them.
/// Input in the order of the rules' window time loses nothing to the cap;
/// input out of that order loses what is more than this many matches
/// behind.
pub const DEFAULT_MAX_HELD_MATCHES: usize = 250_000;

/// How replay runs.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleOptions {
    /// Most matches held at once, all rules together, before the oldest
    /// are handed to their runs ahead of the end of input (at least 1).
    pub max_held_matches: usize,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            max_held_matches: DEFAULT_MAX_HELD_MATCHES,
        }
    }
}

/// One run of one rule: at `at`, searching `[start, end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub at: i64,
    pub start: i64,
    pub end: i64,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "run at {} (window {} to {})",
            format_millis(self.at),
            format_millis(self.start),
            format_millis(self.end)
        )
    }
}

/// A run that reached `max_signals`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    pub rule_index: usize,
    pub rule_name: String,
    pub run: Run,
    /// Matches in the window (after exceptions).
    pub matches: usize,
    pub max_signals: usize,
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rule \"{}\", {}: {MAX_SIGNALS_WARNING} ({} matches, max_signals {})",
            self.rule_name, self.run, self.matches, self.max_signals
        )
    }
}

/// What making runs produces, in run order per rule.
#[derive(Debug)]
pub enum Scheduled<T> {
    /// A match the run at `run` alerted on.
    Alert {
        rule_index: usize,
        run: Run,
        payload: T,
    },
    Truncated(Truncation),
}

/// Counts for the whole replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleStats {
    pub runs: u64,
    pub truncated_runs: u64,
    pub alerts: u64,
    /// Matches returned by a run but already alerted by an earlier one.
    pub already_alerted: u64,
    /// Matches not returned by any run because the run hit max_signals.
    pub dropped_by_max_signals: u64,
    /// Matches handed to their runs before the end of input, because more
    /// than `max_held_matches` were held.
    pub released_early: u64,
    /// Matches that came after their rule's runs had passed their time
    /// (only once some were released early).
    pub late: u64,
    /// Matches without the window timestamp or the ordering timestamp,
    /// with the first of each kind (missing, or no date).
    pub untimed: UntimedEvents,
    /// Matches that no run's window covers (before the first run's window,
    /// or in gaps between windows).
    pub unsearched: u64,
}

/// The field a window filters on, and its fallback when it is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
struct WindowField {
    primary: String,
    secondary: Option<String>,
}

impl WindowField {
    fn time_of(&self, event: &dyn Fields) -> Option<i64> {
        timestamp(event, &self.primary)
            .or_else(|| self.secondary.as_deref().and_then(|s| timestamp(event, s)))
    }
}

/// One window timestamp (with its fallback) and the range of times seen
/// on it.
struct Clock {
    field: WindowField,
    first: Option<i64>,
    newest: Option<i64>,
}

impl Clock {
    fn time_of(&self, event: &Event) -> Option<i64> {
        self.field.time_of(event)
    }

    /// Why `event` has no window time: the override's value when it has
    /// one, else what `@timestamp`, its fallback, holds.
    fn untimed(&self, event: &Event) -> Untimed {
        let primary = Untimed::of(event, &self.field.primary);
        match (&primary.why, &self.field.secondary) {
            (NoTime::Missing, Some(fallback)) => Untimed::of(event, fallback),
            _ => primary,
        }
    }
}

fn timestamp(event: &dyn Fields, field: &str) -> Option<i64> {
    event.values(field).first().and_then(parse_nanos)
}

/// The window times the replay notes of every event it searches, read on
/// any thread ([`Scheduler::clock_times`]): one per clock, `None` where
/// the event has none. [`Scheduler::observe_times`] takes them in input
/// order.
#[derive(Clone, Debug)]
pub struct ClockTimes {
    /// Per clock: the field it reads.
    clocks: Vec<WindowField>,
}

/// An event's time on each of the replay's clocks (most rule sets have
/// one or two: `@timestamp` and `event.ingested`).
pub type Times = smallvec::SmallVec<[Option<i64>; 2]>;

impl ClockTimes {
    pub fn read(&self, event: &dyn Fields) -> Times {
        self.clocks.iter().map(|c| c.time_of(event)).collect()
    }
}

struct Candidate<T> {
    /// The window time of the match's first event (a sequence's first
    /// event; equal to `window_t` for a single event): a run returns the
    /// match only when its window holds every event.
    first_t: i64,
    window_t: i64,
    order_t: i64,
    seq: u64,
    key: String,
    payload: Option<T>,
    /// In the window of some run.
    in_window: bool,
    /// Returned by some run (not cut by max_signals).
    returned: bool,
}

/// A match held until its runs are made, oldest (by window time) first
/// out of the heap; ties go by input position, then by rule, then by
/// the order of offers, so the order is the same on every run.
struct Held<T> {
    rule: usize,
    offer: u64,
    candidate: Candidate<T>,
}

impl<T> Held<T> {
    fn order(&self) -> (i64, u64, usize, u64) {
        let c = &self.candidate;
        (c.window_t, c.seq, self.rule, self.offer)
    }
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}

impl<T> Eq for Held<T> {}

impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Held<T> {
    /// Reversed: the standard heap hands out its greatest.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.order().cmp(&self.order())
    }
}

/// What runs need of a rule's schedule.
#[derive(Clone, Copy)]
struct Cadence {
    interval: i64,
    from: i64,
    to: i64,
    max_signals: usize,
}

impl Cadence {
    fn run_at(&self, at: i64) -> Run {
        Run {
            at,
            start: at.saturating_add(self.from),
            end: at.saturating_add(self.to),
        }
    }
}

struct RuleState<T> {
    name: String,
    sched: RuleSchedule,
    cadence: Cadence,
    clock: usize,
    /// The next run to make.
    next_run: Option<i64>,
    /// The last run is made: the one after it could not be dated (it
    /// would be past the end of 2262, where nanosecond times end).
    ended: bool,
    /// Matches handed to the runs, in window-time order.
    candidates: VecDeque<Candidate<T>>,
    /// The window time of the newest match handed to the runs: the runs
    /// made all end before it, so an older match offered now is late.
    released_to: Option<i64>,
    /// Alert ids created, with the window time of their event (pruned once
    /// no later window can return the event again).
    alerted: FxHashMap<String, i64>,
}

/// Replays rule schedules over a stream of events.
pub struct Scheduler<T> {
    rules: Vec<RuleState<T>>,
    clocks: Vec<Clock>,
    held: BinaryHeap<Held<T>>,
    offers: u64,
    opts: ScheduleOptions,
    stats: ScheduleStats,
}

/// Accounts for a match leaving the buffer without an alert of its own.
fn count_unalerted<T>(stats: &mut ScheduleStats, c: &Candidate<T>) {
    if c.payload.is_none() || c.returned {
        // Alerted, or returned again after an alert (already counted).
        return;
    }
    if c.in_window {
        stats.dropped_by_max_signals += 1;
    } else {
        stats.unsearched += 1;
    }
}

impl<T> RuleState<T> {
    /// The rule has made its last run (the next one could not be dated):
    /// what it still holds was returned by no run.
    fn end(&mut self, stats: &mut ScheduleStats) {
        self.ended = true;
        self.alerted.clear();
        for c in self.candidates.drain(..) {
            count_unalerted(stats, &c);
        }
    }

    /// Makes the runs `go` allows, from the next one (or, before any run,
    /// from the one at `first` rounded down to the interval).
    fn make_runs(
        &mut self,
        i: usize,
        first: i64,
        mut go: impl FnMut(&Run) -> bool,
        stats: &mut ScheduleStats,
        out: &mut impl FnMut(Scheduled<T>),
    ) {
        if self.ended {
            return;
        }
        let cadence = self.cadence;
        let mut at = self
            .next_run
            .unwrap_or_else(|| floor_to(first, cadence.interval));
        // A run whose successor's time cannot be represented (events dated
        // near the end of 2262, where nanosecond times end, or an interval
        // of more than half of what they hold, 53,375 days) is made, and is
        // the last: `at` cannot move on. Skipping it instead would lose
        // every match of a rule with such an interval: its run one interval
        // past the epoch is the only one that can search today's events.
        let mut made = |at: i64| go(&cadence.run_at(at));
        loop {
            if !made(at) {
                break;
            }
            if self.candidates.is_empty() {
                // Runs with no match to return are only counted: events
                // years apart (a clock at 1970 in a log of today) would
                // otherwise mean billions of empty runs, one by one.
                let n = empty_runs(at, cadence.interval, &mut made);
                stats.runs += n;
                let Some(next) = run_after(at, cadence.interval, n) else {
                    self.end(stats);
                    return;
                };
                at = next;
                self.next_run = Some(at);
                let next_start = at.saturating_add(cadence.from);
                self.alerted.retain(|_, t| *t >= next_start);
                continue;
            }
            let run = cadence.run_at(at);
            self.run(i, run, stats, out);
            let Some(next) = at.checked_add(cadence.interval) else {
                self.end(stats);
                return;
            };
            at = next;
            self.next_run = Some(at);
            // What no later window can return goes: the oldest, since the
            // candidates are in window-time order.
            let next_start = at.saturating_add(cadence.from);
            while let Some(c) = self.candidates.front() {
                if c.window_t >= next_start {
                    break;
                }
                count_unalerted(stats, c);
                self.candidates.pop_front();
            }
            if self.alerted.len() > 1024 {
                self.alerted.retain(|_, t| *t >= next_start);
            }
        }
    }

    /// One run: what its window holds, the most recent `max_signals` of it
    /// returned, alerts for those not alerted before.
    fn run(
        &mut self,
        i: usize,
        run: Run,
        stats: &mut ScheduleStats,
        out: &mut impl FnMut(Scheduled<T>),
    ) {
        stats.runs += 1;
        let max_signals = self.cadence.max_signals;
        // In window-time order: the window holds a prefix of them, less
        // any before its start (a sequence whose first event is earlier, or
        // a match in a gap between windows, which the pruning after the
        // run counts).
        let reach = self.candidates.partition_point(|c| c.window_t <= run.end);
        let mut hits: Vec<usize> = (0..reach)
            .filter(|&k| run.start <= self.candidates[k].first_t)
            .collect();
        for &k in &hits {
            self.candidates[k].in_window = true;
        }
        hits.sort_by_key(|&k| (self.candidates[k].order_t, self.candidates[k].seq));
        let total = hits.len();
        if total >= max_signals {
            stats.truncated_runs += 1;
            out(Scheduled::Truncated(Truncation {
                rule_index: i,
                rule_name: self.name.clone(),
                run,
                matches: total,
                max_signals,
            }));
        }
        // Elasticsearch's default result position: the most recent.
        for &k in &hits[total.saturating_sub(max_signals)..] {
            let c = &mut self.candidates[k];
            c.returned = true;
            if self.alerted.contains_key(&c.key) {
                stats.already_alerted += 1;
                continue;
            }
            if let Some(payload) = c.payload.take() {
                self.alerted.insert(c.key.clone(), c.window_t);
                stats.alerts += 1;
                out(Scheduled::Alert {
                    rule_index: i,
                    run,
                    payload,
                });
            }
        }
    }
}

/// The time of the run `k` intervals after the one at `at`, when it can
/// be represented. Computed wide: the span from `at` may itself exceed
/// what 64 bits of nanoseconds hold (292 years) while the time reached
/// does not (an event of 1700 beside one of today).
fn run_after(at: i64, interval: i64, k: u64) -> Option<i64> {
    let t = i128::from(at) + i128::from(interval) * i128::from(k);
    i64::try_from(t).ok()
}

/// How many runs from `at` on, `interval` apart, are `made` (which holds
/// for the first, and for a first stretch of them only): found in a
/// number of steps that grows with the log of the answer.
fn empty_runs(at: i64, interval: i64, made: &mut impl FnMut(i64) -> bool) -> u64 {
    let mut made_k = |k: u64| run_after(at, interval, k).is_some_and(&mut *made);
    // Runs 0..lo are made, run `hi` is not.
    let (mut lo, mut hi) = (1u64, 1u64);
    while made_k(hi) {
        lo = hi + 1;
        hi = hi.saturating_mul(2);
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if made_k(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn floor_to(t: i64, step: i64) -> i64 {
    t.div_euclid(step).saturating_mul(step)
}

impl<T> Scheduler<T> {
    /// A scheduler for rules (by position), each with its name and schedule.
    pub fn new(rules: Vec<(String, RuleSchedule)>, opts: ScheduleOptions) -> Scheduler<T> {
        let mut clocks: Vec<Clock> = Vec::new();
        let rules = rules
            .into_iter()
            .map(|(name, sched)| {
                let field = WindowField {
                    primary: sched.primary.clone(),
                    secondary: sched.secondary.clone(),
                };
                let clock = match clocks.iter().position(|c| c.field == field) {
                    Some(i) => i,
                    None => {
                        clocks.push(Clock {
                            field,
                            first: None,
                            newest: None,
                        });
                        clocks.len() - 1
                    }
                };
                RuleState {
                    name,
                    cadence: Cadence {
                        interval: sched.interval,
                        from: sched.from,
                        to: sched.to,
                        max_signals: sched.max_signals,
                    },
                    sched,
                    clock,
                    next_run: None,
                    ended: false,
                    candidates: VecDeque::new(),
                    released_to: None,
                    alerted: FxHashMap::default(),
                }
            })
            .collect();
        Scheduler {
            rules,
            clocks,
            held: BinaryHeap::new(),
            offers: 0,
            opts: ScheduleOptions {
                max_held_matches: opts.max_held_matches.max(1),
            },
            stats: ScheduleStats::default(),
        }
    }

    pub fn stats(&self) -> &ScheduleStats {
        &self.stats
    }

    /// Notes an event's times (every event a rule searches, matching or
    /// not, in any order): the replay's runs span the earliest to the
    /// latest.
    pub fn observe(&mut self, event: &Event) {
        let times: Times = self.clocks.iter().map(|c| c.time_of(event)).collect();
        self.observe_times(&times);
    }

    /// [`Scheduler::observe`] with the times already read
    /// ([`Scheduler::clock_times`]), by clock.
    pub fn observe_times(&mut self, times: &[Option<i64>]) {
        for (c, t) in self.clocks.iter_mut().zip(times) {
            if let Some(t) = *t {
                c.first = Some(c.first.map_or(t, |f| f.min(t)));
                c.newest = Some(c.newest.map_or(t, |n| n.max(t)));
            }
        }
    }

    /// What reads an event's times for [`Scheduler::observe_times`].
    pub fn clock_times(&self) -> ClockTimes {
        ClockTimes {
            clocks: self.clocks.iter().map(|c| c.field.clone()).collect(),
        }
    }

    /// Every field [`Scheduler::offer`] reads of a match's events: the
    /// windows' timestamps and fallbacks, and the rules' order fields.
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .clocks
            .iter()
            .flat_map(|c| std::iter::once(c.field.primary.clone()).chain(c.field.secondary.clone()))
            .chain(self.rules.iter().map(|r| r.sched.order_field.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// A match of rule `rule_index` on `event`, whose alert id is `key`.
    /// Call after [`Scheduler::observe`] for the same event.
    pub fn offer(&mut self, rule_index: usize, event: &Event, key: String, payload: T) {
        self.offer_span(rule_index, event, event, key, payload);
    }

    /// A match spanning several events, from `first` to `last` (an EQL
    /// sequence): a run returns it only when its window holds both ends, as
    /// the run's time range filters every event of an EQL search; it is
    /// ordered by its last event.
    pub fn offer_span(
        &mut self,
        rule_index: usize,
        first: &Event,
        event: &Event,
        key: String,
        payload: T,
    ) {
        let Some(rule) = self.rules.get_mut(rule_index) else {
            return;
        };
        let Some(clock) = self.clocks.get(rule.clock) else {
            return;
        };
        let (Some(window_t), Some(order_t), Some(first_t)) = (
            clock.time_of(event),
            timestamp(event, &rule.sched.order_field),
            clock.time_of(first),
        ) else {
            // The field to blame, in the order the times were read.
            let untimed = if clock.time_of(event).is_none() {
                clock.untimed(event)
            } else if timestamp(event, &rule.sched.order_field).is_none() {
                Untimed::of(event, &rule.sched.order_field)
            } else {
                clock.untimed(first)
            };
            self.stats.untimed.add(untimed);
            return;
        };
        if rule.released_to.is_some_and(|r| window_t < r) {
            // The runs that could return it are made.
            self.stats.late += 1;
            return;
        }
        if rule.ended {
            // After the last run.
            self.stats.unsearched += 1;
            return;
        }
        if let Some(next) = rule.next_run {
            // Before the window of every run still to come.
            if first_t.min(window_t) < next.saturating_add(rule.sched.from) {
                self.stats.unsearched += 1;
                return;
            }
        }
        self.offers += 1;
        self.held.push(Held {
            rule: rule_index,
            offer: self.offers,
            candidate: Candidate {
                first_t: first_t.min(window_t),
                window_t,
                order_t,
                seq: event.seq,
                key,
                payload: Some(payload),
                in_window: false,
                returned: false,
            },
        });
    }

    /// Keeps what is held within `max_held_matches`: the oldest matches
    /// past it go to their runs now, and the runs that end before them are
    /// made.
    pub fn advance(&mut self, mut out: impl FnMut(Scheduled<T>)) {
        while self.held.len() > self.opts.max_held_matches {
            let Some(h) = self.held.pop() else { break };
            self.stats.released_early += 1;
            self.release(h, &mut out);
        }
    }

    /// Hands every match held to its runs, oldest first, then makes the
    /// remaining runs, up to the first whose window end is at or past the
    /// last event, and on while a match no run returned yet is in the
    /// next run's window.
    pub fn finish(mut self, mut out: impl FnMut(Scheduled<T>)) -> ScheduleStats {
        while let Some(h) = self.held.pop() {
            self.release(h, &mut out);
        }
        let Scheduler {
            rules,
            clocks,
            stats,
            ..
        } = &mut self;
        for (i, rule) in rules.iter_mut().enumerate() {
            let Some(clock) = clocks.get(rule.clock) else {
                continue;
            };
            let (Some(first), Some(newest)) = (clock.first, clock.newest) else {
                continue;
            };
            let interval = rule.cadence.interval;
            let start = floor_to(first, interval);
            // Make runs while the previous run ended before the last event.
            // The first run (at `start`, as `make_runs` dates it) has none
            // and is made: with a `to` ahead of the run (`now+1h`), the
            // window of the run before it would already reach the last
            // event, and no run was made at all.
            rule.make_runs(
                i,
                first,
                |run| run.at == start || run.end.saturating_sub(interval) < newest,
                stats,
                &mut out,
            );
            // Kibana's runs go on after the last event: a match a run left
            // out for max_signals (its search ordered by a field other than
            // the window's) is returned by a later run whose window still
            // holds it. The candidates left are all in the next window.
            while !rule.ended
                && rule
                    .candidates
                    .iter()
                    .any(|c| c.payload.is_some() && !c.returned)
            {
                let next = rule.next_run;
                rule.make_runs(i, first, |run| Some(run.at) == next, stats, &mut out);
                // Each pass makes the next run; one that could not (no
                // run time known) would loop for ever.
                if rule.next_run == next {
                    break;
                }
            }
            for c in rule.candidates.drain(..) {
                count_unalerted(stats, &c);
            }
        }
        self.stats
    }

    /// Hands one held match to its rule's runs: the runs that end before
    /// it are made first (every match they could return is older, so
    /// handed over already), then it waits for the runs that may return
    /// it.
    fn release(&mut self, h: Held<T>, out: &mut impl FnMut(Scheduled<T>)) {
        let Some(rule) = self.rules.get_mut(h.rule) else {
            return;
        };
        let c = h.candidate;
        let first = self
            .clocks
            .get(rule.clock)
            .and_then(|clock| clock.first)
            .unwrap_or(c.first_t);
        let window_t = c.window_t;
        rule.make_runs(
            h.rule,
            first,
            |run| run.end < window_t,
            &mut self.stats,
            out,
        );
        if rule.ended {
            self.stats.unsearched += 1;
            return;
        }
        rule.released_to = Some(window_t);
        rule.candidates.push_back(c);
    }
}
