//! A sequence or sample search answered as the EQL search API answers it:
//! matches in Elasticsearch's order, the `head`/`tail` pipes and `size`
//! applied as one window: `size` under the first pipe, of its kind, and
//! from the end `result_position` names when there is no pipe (`tail`: the
//! latest matches, still in ascending order).
//!
//! Only as many matches as the answer can need are kept (a bounded heap);
//! every match is still counted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use talon_eql::{CompiledQuery, Limit, QueryKind};
use talon_event::mapping::Mapping;
use talon_event::Event;

use super::{SequenceError, SequenceMatch, SequenceOptions, SequenceRunner, SequenceStats};
use crate::search::ResultPosition;

/// The answer of a [`SequenceSearch`].
#[derive(Debug, Default)]
pub struct SequenceResult {
    /// Every match, before pipes and `size` (not the API's `hits.total`,
    /// which counts the matches returned).
    pub matched: u64,
    /// The returned matches, in Elasticsearch's order.
    pub sequences: Vec<SequenceMatch>,
    pub stats: SequenceStats,
}

struct Held {
    m: SequenceMatch,
    /// Flips the order so one max-heap keeps either end.
    reverse: bool,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.m.cmp_order(&other.m);
        if self.reverse {
            o.reverse()
        } else {
            o
        }
    }
}

/// Keeps the `keep` first (or last) matches of a stream of matches.
struct Window {
    from_tail: bool,
    keep: usize,
    heap: BinaryHeap<Held>,
    matched: u64,
}

impl Window {
    fn offer(&mut self, m: SequenceMatch) {
        self.matched += 1;
        if self.keep == 0 {
            return;
        }
        // The top is the entry to drop: the latest when keeping the head.
        self.heap.push(Held {
            m,
            reverse: self.from_tail,
        });
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
    }
}

/// A sequence or sample search in progress.
pub struct SequenceSearch {
    runner: SequenceRunner,
    /// The pipes and `size` together.
    limit: Limit,
    window: Window,
}

impl SequenceSearch {
    pub fn new(
        query: &CompiledQuery,
        mapping: &Mapping,
        opts: SequenceOptions,
    ) -> Result<SequenceSearch, SequenceError> {
        // Samples are ordered by key, not time: without a pipe `size`
        // keeps the first ones, as Elasticsearch's sample search does.
        let position = if query.kind() == QueryKind::Sample {
            ResultPosition::Head
        } else {
            opts.result_position
        };
        let limit = query.window(opts.size as u64, position);
        let (from_tail, keep) = limit.first_cut();
        let runner = SequenceRunner::build(query, mapping, opts, false)?;
        let window = Window {
            from_tail,
            keep,
            heap: BinaryHeap::new(),
            matched: 0,
        };
        Ok(SequenceSearch {
            runner,
            limit,
            window,
        })
    }

    pub fn push(&mut self, event: &Arc<Event>) {
        let window = &mut self.window;
        self.runner.push(event, &mut |m| window.offer(m));
    }

    /// The ordered, limited answer.
    pub fn finish(self) -> SequenceResult {
        let mut window = self.window;
        let stats = self.runner.finish(&mut |m| window.offer(m));
        let mut held: Vec<SequenceMatch> =
            window.heap.into_vec().into_iter().map(|h| h.m).collect();
        held.sort_by(|a, b| a.cmp_order(b));
        // The heap kept the end of the window the first limit takes from;
        // the window's other end is cut here.
        self.limit.apply(&mut held);
        SequenceResult {
            matched: window.matched,
            sequences: held,
            stats,
        }
    }
}
