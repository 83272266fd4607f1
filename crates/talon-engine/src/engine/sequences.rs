//! The sequence stage: every sequence and sample rule's state, fed in
//! input order with what each event filled.
//!
//! Time is one clock per way of reading it (`@timestamp`, usually one for
//! all rules): the newest time any event of the input has shown. A rule
//! whose window holds events, or whose sequences wait on a deadline, is
//! woken only when the clock passes the time it asked to be woken at
//! ([`crate::sequence::SequenceRunner::next_due`]), so an event that fills
//! nothing costs a clock update, not a visit to every rule.
//!
//! What the rules find while one event is handled comes out in rule
//! order, as a single pass over the rules would give it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use talon_event::Event;

use crate::sequence::{SequenceMatch, SequenceRunner, SequenceWarning, TermHits};

/// One rule's runner and count of matches.
struct Slot {
    runner: Option<SequenceRunner>,
    matched: u64,
    /// The earliest wake-up time this rule has in the queue.
    scheduled: Option<i64>,
}

/// The state of every sequence and sample rule.
pub struct SequenceStage {
    slots: Vec<Slot>,
    /// Per rule: its clock.
    clock_of: Vec<usize>,
    /// Per clock: the newest time seen.
    clocks: Vec<Option<i64>>,
    /// Per clock: (wake-up time, rule).
    due: Vec<BinaryHeap<Reverse<(i64, usize)>>>,
    /// Matches found while handling the current event.
    found: Vec<(usize, SequenceMatch)>,
}

impl std::fmt::Debug for SequenceStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceStage")
            .field("rules", &self.slots.len())
            .field("clocks", &self.clocks)
            .finish()
    }
}

impl SequenceStage {
    /// `runners[j]` reads time on clock `clock_of[j]` (of `clocks`).
    pub(crate) fn new(
        runners: Vec<SequenceRunner>,
        clock_of: Vec<usize>,
        clocks: usize,
    ) -> SequenceStage {
        SequenceStage {
            slots: runners
                .into_iter()
                .map(|r| Slot {
                    runner: Some(r),
                    matched: 0,
                    scheduled: None,
                })
                .collect(),
            clock_of,
            clocks: vec![None; clocks],
            due: (0..clocks).map(|_| BinaryHeap::new()).collect(),
            found: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Sequences (or samples) found so far, per rule.
    pub fn matches(&self) -> Vec<u64> {
        self.slots.iter().map(|s| s.matched).collect()
    }

    /// Handles one event, in input order: its time on each clock, and
    /// what it filled of each rule (`hits`, drained). `keep` gives the copy
    /// of the event the rules hold on to, asked for once, only when some
    /// rule needs it. Sequences that became final go to `out` with their
    /// rule's index, in rule order.
    pub fn on_event(
        &mut self,
        seq: u64,
        times: &[Option<i64>],
        hits: &mut Vec<(usize, TermHits)>,
        keep: &mut dyn FnMut() -> Arc<Event>,
        out: &mut dyn FnMut(usize, SequenceMatch),
    ) {
        for (c, t) in times.iter().enumerate() {
            let (Some(t), Some(clock)) = (*t, self.clocks.get_mut(c)) else {
                continue;
            };
            if clock.is_none_or(|now| t > now) {
                *clock = Some(t);
                self.wake(c, t);
            }
        }
        if !hits.is_empty() {
            let kept = keep();
            for (j, hit) in hits.drain(..) {
                let clock = self.clock_of.get(j).and_then(|&c| self.clocks[c]);
                let Some(slot) = self.slots.get_mut(j) else {
                    continue;
                };
                let Some(runner) = slot.runner.as_mut() else {
                    continue;
                };
                let found = &mut self.found;
                runner.push_hit(hit, seq, Arc::clone(&kept), clock, &mut |m| {
                    found.push((j, m))
                });
                self.schedule(j);
            }
        }
        self.hand_out(out);
    }

    /// Wakes every rule of clock `c` due at or before `now`.
    fn wake(&mut self, c: usize, now: i64) {
        while let Some(&Reverse((at, j))) = self.due[c].peek() {
            if at > now {
                break;
            }
            self.due[c].pop();
            let Some(slot) = self.slots.get_mut(j) else {
                continue;
            };
            // A later entry for the same rule replaced this one.
            if slot.scheduled != Some(at) {
                continue;
            }
            slot.scheduled = None;
            if let Some(runner) = slot.runner.as_mut() {
                let found = &mut self.found;
                runner.advance_to(now, &mut |m| found.push((j, m)));
            }
            self.schedule(j);
        }
    }

    /// Queues rule `j`'s next wake-up, if it has one earlier than the one
    /// queued.
    fn schedule(&mut self, j: usize) {
        let Some(slot) = self.slots.get_mut(j) else {
            return;
        };
        let Some(at) = slot.runner.as_ref().and_then(SequenceRunner::next_due) else {
            return;
        };
        if slot.scheduled.is_some_and(|s| s <= at) {
            return;
        }
        slot.scheduled = Some(at);
        if let Some(heap) = self.clock_of.get(j).and_then(|&c| self.due.get_mut(c)) {
            heap.push(Reverse((at, j)));
        }
    }

    /// Hands out what the current event brought, in rule order.
    fn hand_out(&mut self, out: &mut dyn FnMut(usize, SequenceMatch)) {
        if self.found.is_empty() {
            return;
        }
        // Stable: one rule's matches keep the order they were found in.
        self.found.sort_by_key(|(j, _)| *j);
        for (j, m) in self.found.drain(..) {
            if let Some(slot) = self.slots.get_mut(j) {
                slot.matched += 1;
            }
            out(j, m);
        }
    }

    /// Ends the input: every rule settles what it still holds, in rule
    /// order. Returns the warnings the runners raised, naming the rule.
    pub fn finish(&mut self, out: &mut dyn FnMut(usize, SequenceMatch)) -> Vec<SequenceWarning> {
        let mut warnings = Vec::new();
        for (j, slot) in self.slots.iter_mut().enumerate() {
            let Some(runner) = slot.runner.take() else {
                continue;
            };
            let matched = &mut slot.matched;
            let stats = runner.finish(&mut |m| {
                *matched += 1;
                out(j, m);
            });
            warnings.extend(stats.warnings);
        }
        warnings
    }
}
