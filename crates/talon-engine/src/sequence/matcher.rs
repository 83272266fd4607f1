//! The sequence stage machine: one pass over events in ordinal order, one
//! machine per join-key tuple.
//!
//! Elasticsearch's rules, as a stream sees them:
//! - an event matching the first positive stage starts a new sequence;
//! - an event matching stage `s > 0` advances the most recent sequence of
//!   its key waiting at stage `s − 1` and drops the older ones there. In an
//!   ordered stream every waiting sequence precedes the event, so each
//!   (key, stage) holds exactly one sequence: a newer one replaces it;
//! - one event is offered to its stages from the last to the first, so it
//!   never fills two stages of one sequence, yet it can start one sequence
//!   while it advances another;
//! - `maxspan` is inclusive and measured first → last event, at the
//!   timestamp field's resolution; a sequence past it is discarded;
//! - an `until` event kills every sequence of its key whose last event is
//!   at or before it (it may itself have just been matched), which is what
//!   Elasticsearch's check on the next advance amounts to;
//! - missing terms are checked on the completed candidate ([`super::missing`]).
//!
//! Memory: with `maxspan`, sweeps drop sequences and marks that time has
//! expired; in any case the number of waiting sequences is capped, the
//! least recently advanced being evicted first (and counted).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use talon_event::Event;

use super::keys::{KeyTuple, TermHitKeys};
use super::missing::{verdict, Layout, Marks, Role, Verdict, Waiting, Waits};

/// One matched positive event of a sequence.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub event: Arc<Event>,
    pub ts: i64,
    /// Processing position: ordinal order.
    pub pos: u64,
}

/// A sequence waiting at some stage.
struct Pending {
    steps: Vec<Step>,
    /// A middle missing term had an event between two of its steps.
    doomed: bool,
    /// Latest leading missing event before the first step.
    lead: Option<i64>,
}

impl Pending {
    fn first_ts(&self) -> i64 {
        self.steps.first().map_or(0, |s| s.ts)
    }

    fn last_pos(&self) -> u64 {
        self.steps.last().map_or(0, |s| s.pos)
    }
}

/// The state of one key tuple.
struct KeyState {
    /// `slots[s]`: the sequence whose last step filled stage `s`.
    slots: Vec<Option<Pending>>,
    /// Per missing term (leading and middle ones).
    marks: Vec<Marks>,
    /// Candidates of this key waiting for their trailing check.
    waiting: Vec<u64>,
}

impl KeyState {
    fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
            && self.waiting.is_empty()
            && self
                .marks
                .iter()
                .all(|m| m.latest_before(i64::MAX).is_none())
    }
}

/// Whether a middle missing term after positive stage `after` has an
/// event strictly between `from` and `to`.
fn missing_between(layout: &Layout, state: &KeyState, after: usize, from: i64, to: i64) -> bool {
    layout
        .roles
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Role::Middle(after))
        .any(|(i, _)| state.marks[i].latest_before(to).is_some_and(|m| m > from))
}

/// An event released in order, with the key tuples of each term it
/// matched (`hits[t]` empty when term `t` did not match).
pub(crate) struct Released {
    pub event: Arc<Event>,
    pub ts: i64,
    pub pos: u64,
    /// By term index; the until term comes last.
    pub hits: TermHitKeys,
}

/// A sequence that is final: its key and positive steps in stage order.
pub(crate) struct Completed {
    pub key: KeyTuple,
    pub steps: Vec<Step>,
}

/// Counters the runner reports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MatcherCounts {
    pub evicted: u64,
    pub peak_pending: usize,
}

pub(crate) struct Matcher {
    layout: Layout,
    maxspan: Option<i64>,
    /// Index of the until term in `Released::hits`, if there is one.
    until: Option<usize>,
    keys: FxHashMap<KeyTuple, KeyState>,
    /// Sequences waiting in slots, over all keys.
    pending: usize,
    max_pending: usize,
    waits: Waits,
    last_sweep: Option<i64>,
    /// Keys inserted since the last sweep: how much room in the key map
    /// one sweep period needs.
    inserted: usize,
    /// (term, missing index, role) of the leading and middle missing terms.
    marked: Vec<(usize, usize, Role)>,
    /// Terms of the trailing missing terms.
    trailing_terms: Vec<usize>,
    pub(crate) counts: MatcherCounts,
}

impl Matcher {
    pub(crate) fn new(
        layout: Layout,
        maxspan: Option<i64>,
        has_until: bool,
        max_pending: usize,
    ) -> Matcher {
        let until = has_until.then_some(layout.missing_index.len());
        let mut marked = Vec::new();
        let mut trailing_terms = Vec::new();
        for (t, idx) in layout.missing_index.iter().enumerate() {
            if let Some(i) = *idx {
                match layout.roles[i] {
                    Role::Trailing => trailing_terms.push(t),
                    role => marked.push((t, i, role)),
                }
            }
        }
        Matcher {
            marked,
            trailing_terms,
            layout,
            maxspan,
            until,
            keys: FxHashMap::default(),
            pending: 0,
            max_pending: max_pending.max(1),
            waits: Waits::default(),
            last_sweep: None,
            inserted: 0,
            counts: MatcherCounts::default(),
        }
    }

    /// Whether candidates wait for their trailing check.
    pub(crate) fn has_waiting(&self) -> bool {
        self.waits.len() > 0
    }

    /// The earliest settling time (see [`Matcher::settle`]) at which
    /// settling would do anything: a trailing deadline passes, or a sweep
    /// of expired state is due; `None` while nothing is held.
    pub(crate) fn next_settle(&self) -> Option<i64> {
        let m = self.maxspan?;
        let deadline = self.waits.next_deadline().map(|d| d.saturating_add(1));
        let sweep = (!self.keys.is_empty()).then(|| match self.last_sweep {
            None => i64::MIN,
            Some(s) => s.saturating_add(m),
        });
        match (deadline, sweep) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Sequences currently held (waiting in stages or for a trailing check).
    pub(crate) fn held(&self) -> usize {
        self.pending + self.waits.len()
    }

    /// Matches one event; completed sequences go to `out`. Returns the
    /// number of sequences evicted by the cap while doing so.
    pub(crate) fn process(&mut self, ev: &Released, out: &mut dyn FnMut(Completed)) -> u64 {
        self.settle(ev.ts, out);
        if let Some(m) = self.maxspan {
            self.trailing(ev, m, out);
        }
        let stages = self.layout.stage_term.len();
        for stage in (0..stages).rev() {
            let term = self.layout.stage_term[stage];
            for key in &ev.hits[term] {
                self.advance(stage, key, ev, out);
            }
        }
        if let Some(u) = self.until {
            for key in &ev.hits[u] {
                self.kill(key);
            }
        }
        self.record_marks(ev);
        self.counts.peak_pending = self.counts.peak_pending.max(self.pending);
        if self.pending > self.max_pending {
            return self.evict();
        }
        0
    }

    /// Time has reached `now` (no event before it can come any more):
    /// candidates whose trailing window closed are kept, and expired state
    /// is swept from time to time.
    pub(crate) fn settle(&mut self, now: i64, out: &mut dyn FnMut(Completed)) {
        let Some(m) = self.maxspan else { return };
        self.waits.expire(now, &mut |w| {
            out(Completed {
                key: w.key,
                steps: w.steps,
            })
        });
        let due = match self.last_sweep {
            None => true,
            Some(s) => now.saturating_sub(s) >= m,
        };
        if due {
            self.sweep(now.saturating_sub(m));
            self.last_sweep = Some(now);
        }
    }

    /// Trailing missing events decide the candidates of their key.
    fn trailing(&mut self, ev: &Released, maxspan: i64, out: &mut dyn FnMut(Completed)) {
        for &t in &self.trailing_terms {
            for key in &ev.hits[t] {
                if let Some(state) = self.keys.get_mut(key) {
                    let waits = &mut self.waits;
                    waits.trailing_event(&mut state.waiting, ev.ts, maxspan, &mut |w| {
                        out(Completed {
                            key: w.key,
                            steps: w.steps,
                        })
                    });
                }
            }
        }
    }

    fn state(&mut self, key: &KeyTuple) -> &mut KeyState {
        let slots = self.layout.stage_term.len().saturating_sub(1);
        let marks = self.layout.roles.len();
        let inserted = &mut self.inserted;
        self.keys.entry(key.clone()).or_insert_with(|| {
            *inserted += 1;
            KeyState {
                slots: (0..slots).map(|_| None).collect(),
                marks: vec![Marks::default(); marks],
                waiting: Vec::new(),
            }
        })
    }

    fn advance(
        &mut self,
        stage: usize,
        key: &KeyTuple,
        ev: &Released,
        out: &mut dyn FnMut(Completed),
    ) {
        let step = Step {
            event: ev.event.clone(),
            ts: ev.ts,
            pos: ev.pos,
        };
        let last_stage = self.layout.stage_term.len() - 1;
        let seq = if stage == 0 {
            let lead = self.lead_before(key, ev.ts);
            Pending {
                steps: vec![step],
                doomed: false,
                lead,
            }
        } else {
            let Some(state) = self.keys.get_mut(key) else {
                return;
            };
            let Some(mut seq) = state.slots[stage - 1].take() else {
                return;
            };
            self.pending -= 1;
            let expired = self
                .maxspan
                .is_some_and(|m| ev.ts.saturating_sub(seq.first_ts()) > m);
            if !expired {
                let prev_ts = seq.steps.last().map_or(i64::MIN, |s| s.ts);
                seq.doomed |= missing_between(&self.layout, state, stage - 1, prev_ts, ev.ts);
            }
            // A key left with nothing goes now rather than at the next
            // sweep: otherwise every completed sequence's key stays for
            // up to two maxspans, ~10% more entries than sequences held.
            if state.is_empty() {
                self.keys.remove(key);
            }
            if expired {
                return;
            }
            seq.steps.push(step);
            seq
        };
        if stage == last_stage {
            self.complete(key, seq, out);
            return;
        }
        if self.state(key).slots[stage].replace(seq).is_none() {
            self.pending += 1;
        }
    }

    /// The latest leading missing event of the key strictly before `ts`.
    fn lead_before(&self, key: &KeyTuple, ts: i64) -> Option<i64> {
        let state = self.keys.get(key)?;
        self.layout
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == Role::Leading)
            .filter_map(|(i, _)| state.marks[i].latest_before(ts))
            .max()
    }

    fn complete(&mut self, key: &KeyTuple, seq: Pending, out: &mut dyn FnMut(Completed)) {
        if seq.doomed {
            return;
        }
        let Some(maxspan) = self.maxspan else {
            out(Completed {
                key: key.clone(),
                steps: seq.steps,
            });
            return;
        };
        let last_ts = seq.steps.last().map_or(0, |s| s.ts);
        match verdict(&self.layout, maxspan, seq.lead, last_ts) {
            Verdict::Keep => out(Completed {
                key: key.clone(),
                steps: seq.steps,
            }),
            Verdict::Drop => {}
            Verdict::Wait(lead) => {
                let id = self.waits.park(
                    Waiting {
                        key: key.clone(),
                        steps: seq.steps,
                        lead,
                    },
                    maxspan,
                );
                self.state(key).waiting.push(id);
            }
        }
    }

    /// An until event: every waiting sequence of the key is dead.
    fn kill(&mut self, key: &KeyTuple) {
        if let Some(state) = self.keys.get_mut(key) {
            for slot in &mut state.slots {
                if slot.take().is_some() {
                    self.pending -= 1;
                }
            }
            if state.is_empty() {
                self.keys.remove(key);
            }
        }
    }

    /// Records the event's timestamp for the leading and middle missing
    /// terms it matched. Middle marks only matter to a key that has a
    /// sequence in flight; leading marks matter to sequences yet to start.
    fn record_marks(&mut self, ev: &Released) {
        for j in 0..self.marked.len() {
            let (t, i, role) = self.marked[j];
            for key in &ev.hits[t] {
                let state = if role == Role::Leading {
                    self.state(key)
                } else {
                    match self.keys.get_mut(key) {
                        Some(s) => s,
                        None => continue,
                    }
                };
                state.marks[i].record(ev.ts);
            }
        }
    }

    /// Drops what time has expired: sequences that started before
    /// `horizon`, marks older than it, and keys left with nothing.
    fn sweep(&mut self, horizon: i64) {
        let mut removed = 0;
        let waits = &self.waits;
        self.keys.retain(|_, state| {
            for slot in &mut state.slots {
                if slot.as_ref().is_some_and(|p| p.first_ts() < horizon) {
                    *slot = None;
                    removed += 1;
                }
            }
            for m in &mut state.marks {
                m.expire(horizon);
            }
            state.waiting.retain(|id| waits.contains(*id));
            !state.is_empty()
        });
        self.pending -= removed;
        self.reclaim_tombstones();
    }

    /// The key map (hashbrown) leaves a tombstone for many removals, and
    /// tombstones use up its free room. When the room runs out while the
    /// map is over half full, the next insert doubles the table, even though
    /// the live keys fit. That doubling happened once, after ~1.9M
    /// events of the benchmark, and made peak memory depend on input
    /// length. When the room left cannot take another sweep period's
    /// inserts, the survivors are put back into the same (cleared)
    /// allocation, which drops the tombstones without a second table.
    fn reclaim_tombstones(&mut self) {
        let room = self.keys.capacity().saturating_sub(self.keys.len());
        if room < self.inserted {
            let live: Vec<(KeyTuple, KeyState)> = self.keys.drain().collect();
            self.keys.extend(live);
        }
        self.inserted = 0;
    }

    /// Evicts the least recently advanced sequences down to 90% of the cap.
    fn evict(&mut self) -> u64 {
        let target = self.max_pending - self.max_pending / 10;
        let excess = self.pending.saturating_sub(target);
        if excess == 0 {
            return 0;
        }
        let mut ages: Vec<u64> = self
            .keys
            .values()
            .flat_map(|s| s.slots.iter().flatten().map(Pending::last_pos))
            .collect();
        // The counters match the entries; the bound is a belt and braces.
        let excess = excess.min(ages.len());
        if excess == 0 {
            return 0;
        }
        let (_, cut, _) = ages.select_nth_unstable(excess - 1);
        let cut = *cut;
        let mut evicted = 0u64;
        let mut budget = excess;
        self.keys.retain(|_, state| {
            for slot in &mut state.slots {
                if budget > 0 && slot.as_ref().is_some_and(|p| p.last_pos() <= cut) {
                    *slot = None;
                    budget -= 1;
                    evicted += 1;
                }
            }
            !state.is_empty()
        });
        self.pending -= evicted as usize;
        self.counts.evicted += evicted;
        evicted
    }

    /// End of input: candidates waiting for a trailing check are kept.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Completed)) {
        self.waits.drain(&mut |w| {
            out(Completed {
                key: w.key,
                steps: w.steps,
            })
        });
    }
}
