//! Ad-hoc EQL search over events, answered as Elasticsearch's EQL search
//! API answers: matches ordered by timestamp (as the field stores it:
//! milliseconds for `date`, nanoseconds for `date_nanos`, read with the
//! mapped `format`), then tiebreaker, then input order; the pipes
//! (`head`, `tail`) and `size` applied as one window, with `size` under
//! the first pipe and `result_position` naming its end only when there is
//! no pipe ([`talon_eql::Limit::for_request`]).
//!
//! Only as many matches as the final answer can need are kept in memory
//! (a bounded heap), so a search over any amount of input stays small;
//! every match is still counted.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use talon_eql::{CompiledQuery, Limit};
use talon_event::mapping::Mapping;
use talon_event::untimed::UntimedEvents;
use talon_event::{Event, Fields};

use crate::sequence::TimeReader;
use crate::sequence::{Tie, TieKind};

pub use talon_eql::ResultPosition;

/// The EQL search API parameters that change the answer.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    pub timestamp_field: String,
    pub tiebreaker_field: Option<String>,
    /// The API's `size` (default 10).
    pub size: usize,
    /// Which end `size` takes from when the query has no `head` or `tail`.
    pub result_position: ResultPosition,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            timestamp_field: "@timestamp".into(),
            tiebreaker_field: None,
            size: 10,
            result_position: ResultPosition::Tail,
        }
    }
}

/// The answer: how many events matched and the events returned.
#[derive(Debug, Default)]
pub struct SearchResult {
    /// Every event that matched, before pipes and `size` (not the API's
    /// `hits.total`, which counts the events returned).
    pub matched: u64,
    /// The returned events, in ascending order.
    pub events: Vec<Event>,
    /// Matched events that had no usable timestamp (sorted last), with
    /// the first of each kind.
    pub untimed: UntimedEvents,
}

/// The sort key of an event: Elasticsearch sorts ascending on the
/// timestamp, then the tiebreaker, with missing values last; input order
/// breaks remaining ties (ES's implicit shard-doc order).
/// The tiebreaker sorts as the sequence runtime sorts it ([`Tie`],
/// [`TieKind`]): longs exactly, a field mapped as a string type by its
/// text, a date by its instant, an address by its address, a version by
/// semantic-version precedence.
#[derive(Clone, Debug)]
struct Ordinal {
    timestamp: Option<i64>,
    tiebreaker: Tie,
    seq: u64,
}

impl Ordinal {
    fn cmp(&self, other: &Ordinal) -> Ordering {
        let ts = match (self.timestamp, other.timestamp) {
            (Some(a), Some(b)) => a.cmp(&b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        ts.then_with(|| self.tiebreaker.cmp(&other.tiebreaker))
            .then_with(|| self.seq.cmp(&other.seq))
    }
}

/// A heap entry ordered by ordinal; `reverse` flips it so one heap type
/// keeps either the smallest or the largest `k` entries.
struct Entry {
    ord: Ordinal,
    event: Event,
    reverse: bool,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.ord.cmp(&other.ord);
        if self.reverse {
            o.reverse()
        } else {
            o
        }
    }
}

/// An EQL event-query search in progress.
pub struct Search<'q> {
    query: &'q CompiledQuery,
    opts: SearchOptions,
    mapping: &'q Mapping,
    /// Reads the timestamp as the field stores it, as sequences do.
    time: TimeReader,
    /// The tiebreaker's path (aliases resolved) and how it sorts, from its
    /// mapped type.
    tie: Option<(String, TieKind)>,
    /// The pipes and `size` together.
    window: Limit,
    /// Keep the `keep` smallest (head) or largest (tail) ordinals.
    from_tail: bool,
    keep: usize,
    heap: BinaryHeap<Entry>,
    matched: u64,
    untimed: UntimedEvents,
}

impl<'q> Search<'q> {
    pub fn new(query: &'q CompiledQuery, mapping: &'q Mapping, opts: SearchOptions) -> Search<'q> {
        let window = query.window(opts.size as u64, opts.result_position);
        let (from_tail, keep) = window.first_cut();
        let time = TimeReader::new(&opts.timestamp_field, mapping);
        let tie = opts.tiebreaker_field.as_deref().map(|f| {
            (
                mapping.resolve(f).to_string(),
                TieKind::of_field(mapping, f),
            )
        });
        Search {
            query,
            time,
            tie,
            opts,
            mapping,
            window,
            from_tail,
            keep,
            heap: BinaryHeap::new(),
            matched: 0,
            untimed: UntimedEvents::default(),
        }
    }

    /// Offers one event; returns whether it matched.
    pub fn push(&mut self, event: Event) -> bool {
        if !self.query.matches(&event) {
            return false;
        }
        self.matched += 1;
        let ord = self.ordinal(&event);
        if ord.timestamp.is_none() {
            let field = self.mapping.resolve(&self.opts.timestamp_field);
            self.untimed.note(&event, field);
        }
        if self.keep == 0 {
            return true;
        }
        // The heap's top is the entry to evict: the largest ordinal when
        // keeping the head, the smallest when keeping the tail.
        self.heap.push(Entry {
            ord,
            event,
            reverse: self.from_tail,
        });
        if self.heap.len() > self.keep {
            self.heap.pop();
        }
        true
    }

    fn ordinal(&self, event: &Event) -> Ordinal {
        // A `date` field keeps milliseconds: events less than one apart tie
        // and keep their input order (Elasticsearch's shard-doc order).
        let timestamp = self.time.read(event);
        let tiebreaker = match &self.tie {
            Some((path, kind)) => {
                let values = event.values(path);
                // A multi-valued tiebreaker sorts by one of its values, as
                // Elasticsearch's sort reads it: the least when the search
                // runs ascending (mode `min`), the greatest when it runs
                // descending (mode `max`), which it does when its first
                // limit takes from the tail (the results are then reversed).
                if self.from_tail {
                    Tie::greatest(values, kind)
                } else {
                    Tie::least(values, kind)
                }
            }
            None => Tie::Missing,
        };
        Ordinal {
            timestamp,
            tiebreaker,
            seq: event.seq,
        }
    }

    /// The ordered answer.
    pub fn finish(self) -> SearchResult {
        let mut entries: Vec<Entry> = self.heap.into_vec();
        entries.sort_by(|a, b| a.ord.cmp(&b.ord));
        let mut events: Vec<Event> = entries.into_iter().map(|e| e.event).collect();
        // The heap kept the end of the window the first limit takes from;
        // the window's other end is cut here.
        self.window.apply(&mut events);
        SearchResult {
            matched: self.matched,
            events,
            untimed: self.untimed,
        }
    }
}
