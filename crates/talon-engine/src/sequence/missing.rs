//! Missing events `![...]`: where each missing term sits, what the matcher
//! remembers about events that match one, and when a candidate sequence
//! is kept.
//!
//! Elasticsearch matches the positive terms first, exactly as if the
//! missing terms were not there, and then checks each completed candidate
//! (a discarded candidate is not replaced by another one). With `maxspan`
//! (missing terms require it) as M, and timestamps as the field stores them:
//! - a middle term discards the candidate when one of its events (same join
//!   key) lies strictly between the neighbouring positive events' timestamps;
//! - leading terms only: discarded when the latest leading event before the
//!   first positive event is at or after `last − M`;
//! - trailing terms only: discarded when the first trailing event after the
//!   last positive event is at or before `first + M`;
//! - both: the candidate survives when either side has no such event, or
//!   when `first trailing − last leading > M` (some window of length M
//!   holds every positive event and neither missing one).
//!
//! In a stream the trailing check cannot be answered when the candidate
//! completes: it waits (bounded by `first + M`) for the first trailing
//! event or for time to pass. Marks older than `now − M` can no longer
//! decide anything and are dropped by the matcher's sweeps.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use talon_eql::SequencePlan;

use super::keys::KeyTuple;
use super::matcher::Step;

/// Where a missing term sits relative to the positive terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Leading,
    /// Between positive stage `p` and `p + 1`.
    Middle(usize),
    Trailing,
}

/// One slot of the result: a positive stage or a missing placeholder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Positive(usize),
    Missing,
}

/// The shape of a sequence after `runs` expansion.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The term (index into the plan's terms) of each positive stage.
    pub stage_term: Vec<usize>,
    /// For each term, its position among missing terms, if it is one.
    pub missing_index: Vec<Option<usize>>,
    /// The role of each missing term, by missing position.
    pub roles: Vec<Role>,
    /// The result slots, in term order.
    pub places: Vec<Place>,
}

impl Layout {
    pub(crate) fn of(plan: &SequencePlan) -> Layout {
        let mut stage_term = Vec::new();
        let mut missing_index = vec![None; plan.terms.len()];
        let mut roles = Vec::new();
        let mut places = Vec::new();
        for (t, term) in plan.terms.iter().enumerate() {
            let runs = term.runs.max(1) as usize;
            if term.missing {
                missing_index[t] = Some(roles.len());
                // The role is fixed below, once the last positive is known.
                roles.push(if stage_term.is_empty() {
                    Role::Leading
                } else {
                    Role::Middle(stage_term.len() - 1)
                });
                places.extend((0..runs).map(|_| Place::Missing));
            } else {
                for _ in 0..runs {
                    places.push(Place::Positive(stage_term.len()));
                    stage_term.push(t);
                }
            }
        }
        let last = stage_term.len().saturating_sub(1);
        for r in &mut roles {
            if *r == Role::Middle(last) {
                *r = Role::Trailing;
            }
        }
        Layout {
            stage_term,
            missing_index,
            roles,
            places,
        }
    }

    pub(crate) fn has(&self, role: fn(&Role) -> bool) -> bool {
        self.roles.iter().any(role)
    }
}

/// The latest timestamps of events that matched one missing term for one
/// key: enough to answer "the latest one strictly before t" for any t not
/// older than the newest, which is all an in-order stream asks.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Marks {
    last: Option<i64>,
    before_last: Option<i64>,
}

impl Marks {
    pub(crate) fn record(&mut self, ts: i64) {
        if self.last != Some(ts) {
            self.before_last = self.last;
            self.last = Some(ts);
        }
    }

    /// The latest mark strictly before `ts`.
    pub(crate) fn latest_before(&self, ts: i64) -> Option<i64> {
        match self.last {
            Some(l) if l < ts => Some(l),
            _ => self.before_last.filter(|b| *b < ts),
        }
    }

    /// Forgets marks older than `horizon`; true when nothing is left.
    pub(crate) fn expire(&mut self, horizon: i64) -> bool {
        if self.before_last.is_some_and(|b| b < horizon) {
            self.before_last = None;
        }
        if self.last.is_some_and(|l| l < horizon) {
            self.last = None;
        }
        self.last.is_none() && self.before_last.is_none()
    }
}

/// A completed candidate waiting for the trailing check.
pub(crate) struct Waiting {
    pub key: KeyTuple,
    pub steps: Vec<Step>,
    /// The leading event found in range, when there are leading terms.
    pub lead: Option<i64>,
}

impl Waiting {
    fn first_ts(&self) -> i64 {
        self.steps.first().map_or(0, |s| s.ts)
    }

    fn last_ts(&self) -> i64 {
        self.steps.last().map_or(0, |s| s.ts)
    }
}

/// Candidates waiting for the trailing check, by id, with their deadlines.
#[derive(Default)]
pub(crate) struct Waits {
    next_id: u64,
    by_id: FxHashMap<u64, Waiting>,
    /// (deadline, id): past the deadline no trailing event can discard.
    deadlines: BinaryHeap<Reverse<(i64, u64)>>,
}

/// What the leading side says about a completed candidate.
pub(crate) enum Verdict {
    Keep,
    Drop,
    /// Trailing terms must be checked; the leading event in range, if any.
    Wait(Option<i64>),
}

/// Decides what the leading terms (and the presence of trailing terms)
/// mean for a candidate whose latest leading event before its first
/// positive event is `lead`.
pub(crate) fn verdict(layout: &Layout, maxspan: i64, lead: Option<i64>, last_ts: i64) -> Verdict {
    let has_leading = layout.has(|r| *r == Role::Leading);
    let has_trailing = layout.has(|r| *r == Role::Trailing);
    let in_range = lead.filter(|l| *l >= last_ts.saturating_sub(maxspan));
    match (has_leading, has_trailing) {
        (false, false) => Verdict::Keep,
        (true, false) => {
            if in_range.is_some() {
                Verdict::Drop
            } else {
                Verdict::Keep
            }
        }
        // Both sides: nothing on the leading side keeps the candidate.
        (true, true) if in_range.is_none() => Verdict::Keep,
        (_, true) => Verdict::Wait(in_range),
    }
}

impl Waits {
    /// Parks a candidate; returns its id for the key's list.
    pub(crate) fn park(&mut self, w: Waiting, maxspan: i64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.deadlines
            .push(Reverse((w.first_ts().saturating_add(maxspan), id)));
        self.by_id.insert(id, w);
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// The earliest deadline of a waiting candidate.
    pub(crate) fn next_deadline(&self) -> Option<i64> {
        self.deadlines.peek().map(|Reverse((d, _))| *d)
    }

    /// Keeps every candidate whose deadline is before `now`.
    pub(crate) fn expire(&mut self, now: i64, keep: &mut dyn FnMut(Waiting)) {
        while let Some(Reverse((deadline, id))) = self.deadlines.peek().copied() {
            if deadline >= now {
                break;
            }
            self.deadlines.pop();
            if let Some(w) = self.by_id.remove(&id) {
                keep(w);
            }
        }
    }

    /// A trailing event at `ts` for the key whose waiting ids are `ids`:
    /// decides each candidate that completed before `ts`. Ids of decided
    /// (or already gone) candidates are removed from `ids`.
    pub(crate) fn trailing_event(
        &mut self,
        ids: &mut Vec<u64>,
        ts: i64,
        maxspan: i64,
        keep: &mut dyn FnMut(Waiting),
    ) {
        ids.retain(|id| {
            let Some(w) = self.by_id.get(id) else {
                return false;
            };
            if w.last_ts() >= ts {
                return true;
            }
            let survives = match w.lead {
                Some(l) => ts.saturating_sub(l) > maxspan,
                None => ts > w.first_ts().saturating_add(maxspan),
            };
            if let Some(w) = self.by_id.remove(id) {
                if survives {
                    keep(w);
                }
            }
            false
        });
    }

    /// Whether the id still waits (for pruning a key's list).
    pub(crate) fn contains(&self, id: u64) -> bool {
        self.by_id.contains_key(&id)
    }

    /// Keeps every waiting candidate (end of input: no trailing event
    /// can come any more).
    pub(crate) fn drain(&mut self, keep: &mut dyn FnMut(Waiting)) {
        let mut all: Vec<(u64, Waiting)> = self.by_id.drain().collect();
        all.sort_by_key(|(id, _)| *id);
        self.deadlines.clear();
        for (_, w) in all {
            keep(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_answer_strictly_before() {
        let mut m = Marks::default();
        assert_eq!(m.latest_before(5), None);
        m.record(3);
        m.record(7);
        m.record(7);
        assert_eq!(m.latest_before(7), Some(3));
        assert_eq!(m.latest_before(8), Some(7));
        assert!(!m.expire(5));
        assert_eq!(m.latest_before(7), None);
        assert!(m.expire(8));
    }
}
