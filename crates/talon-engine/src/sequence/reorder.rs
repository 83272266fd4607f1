//! The ordinal of an event and a bounded re-ordering window.
//!
//! Elasticsearch matches sequences in ordinal order: timestamp, then the
//! tiebreaker (missing values last), then the implicit document order
//! (here: input order). Input is rarely perfectly sorted, so events wait in
//! a window before they are matched:
//! - an event is released once the newest timestamp seen is more than the
//!   window past its own, or when the window holds its maximum number of
//!   events (then the oldest goes first);
//! - an event older than the newest timestamp minus the window, or ordered
//!   before an event already released, is *late*: it cannot be matched in
//!   order, so it is not matched, and the caller counts and reports it.
//!   That rule is what lets the matcher settle time up to the window's
//!   horizon even while no matching event arrives.
//!
//! Memory is bounded by the event cap, whatever the input.
//!
//! Events that arrive in order (the usual case) wait in a queue, the
//! others in a heap; the next to go is the smaller of their fronts.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use talon_eql::eval::value::keyword_text;
use talon_event::mapping::{FieldType, Mapping};
use talon_event::Value;

/// A tiebreaker value, ordered numerically or by text.
#[derive(Clone, Debug)]
pub(crate) enum Tie {
    /// Whole numbers compare exactly (a long past 2^53 is no double).
    Int(i64),
    Num(f64),
    Str(Arc<str>),
    Missing,
}

impl Tie {
    /// The tiebreaker value `v` of a field that sorts as text (`text`:
    /// mapped keyword), or by its value.
    pub(crate) fn of(v: Option<&Value>, text: bool) -> Tie {
        match v {
            Some(Value::Null) | None => Tie::Missing,
            Some(v) if text => keyword_text(v).map_or(Tie::Missing, Tie::Str),
            Some(Value::Int(i)) => Tie::Int(*i),
            Some(Value::Float(f)) => Tie::Num(*f),
            Some(Value::Str(s)) => match s.trim().parse::<i64>() {
                Ok(i) => Tie::Int(i),
                Err(_) => match s.trim().parse::<f64>() {
                    Ok(n) if n.is_finite() => Tie::Num(n),
                    _ => Tie::Str(s.clone()),
                },
            },
            Some(Value::Bool(b)) => Tie::Int(i64::from(*b)),
        }
    }

    /// Whether a tiebreaker `field` sorts by its text: it is mapped as a
    /// string type. Unmapped values sort by value.
    pub(crate) fn sorts_as_text(mapping: &Mapping, field: &str) -> bool {
        matches!(
            mapping.field_type(field),
            Some(
                FieldType::Keyword
                    | FieldType::Wildcard
                    | FieldType::ConstantKeyword
                    | FieldType::Text { .. }
            )
        )
    }

    fn rank(&self) -> u8 {
        match self {
            Tie::Int(_) | Tie::Num(_) => 0,
            Tie::Str(_) => 1,
            Tie::Missing => 2,
        }
    }

    pub(crate) fn cmp(&self, other: &Tie) -> Ordering {
        match (self, other) {
            (Tie::Int(a), Tie::Int(b)) => a.cmp(b),
            (Tie::Int(a), Tie::Num(b)) => cmp_int_float(*a, *b),
            (Tie::Num(a), Tie::Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Tie::Num(a), Tie::Num(b)) => a.total_cmp(b),
            (Tie::Str(a), Tie::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Compares a long with a double exactly. Converting the long to a double
/// rounds it past 2^53, and the order contradicted itself: the long
/// 2^53 + 1 tied with the double 2^53 yet sorted above the long 2^53.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_nan() {
        // NaN sorts after every number, as `total_cmp` puts positive NaN.
        return Ordering::Less;
    }
    if f >= TWO_63 {
        return Ordering::Less;
    }
    if f < -TWO_63 {
        return Ordering::Greater;
    }
    // `f` is within the longs: its whole part converts exactly.
    let whole = f.floor();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal if f > whole => Ordering::Less,
        o => o,
    }
}

/// Where an event sorts: timestamp, tiebreaker, input order.
#[derive(Clone, Debug)]
pub(crate) struct Ordinal {
    pub ts: i64,
    pub tie: Tie,
    pub seq: u64,
}

impl Ordinal {
    pub(crate) fn cmp(&self, other: &Ordinal) -> Ordering {
        self.ts
            .cmp(&other.ts)
            .then_with(|| self.tie.cmp(&other.tie))
            .then_with(|| self.seq.cmp(&other.seq))
    }
}

struct Entry<T> {
    ord: Ordinal,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ord.cmp(&other.ord) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Reversed: the heap's top is the smallest ordinal.
    fn cmp(&self, other: &Self) -> Ordering {
        other.ord.cmp(&self.ord)
    }
}

/// What happened to an offered event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Offer<T> {
    Buffered,
    /// Ordered before an event already released: the item, not taken.
    Late(T),
}

/// Events waiting to be released in ordinal order.
pub(crate) struct Reorder<T> {
    window: i64,
    max_events: usize,
    /// Events that arrived after every event in it that sorts before
    /// them: in order already.
    run: VecDeque<Entry<T>>,
    /// The others.
    heap: BinaryHeap<Entry<T>>,
    newest_ts: Option<i64>,
    last_released: Option<Ordinal>,
}

impl<T> Reorder<T> {
    pub(crate) fn new(window_nanos: i64, max_events: usize) -> Reorder<T> {
        Reorder {
            window: window_nanos.max(0),
            max_events: max_events.max(1),
            run: VecDeque::new(),
            heap: BinaryHeap::new(),
            newest_ts: None,
            last_released: None,
        }
    }

    /// Notes that time reached `ts` (every event counts, even those no
    /// term matched, so the window moves on).
    pub(crate) fn observe(&mut self, ts: i64) {
        if self.newest_ts < Some(ts) {
            self.newest_ts = Some(ts);
        }
    }

    /// Offers an item; `release` gets every item that may now be matched.
    pub(crate) fn offer(
        &mut self,
        ord: Ordinal,
        item: T,
        release: &mut dyn FnMut(Ordinal, T),
    ) -> Offer<T> {
        self.observe(ord.ts);
        let outside = self.horizon().is_some_and(|h| ord.ts < h);
        let behind = self
            .last_released
            .as_ref()
            .is_some_and(|l| ord.cmp(l) == Ordering::Less);
        if outside || behind {
            return Offer::Late(item);
        }
        let entry = Entry { ord, item };
        let in_order = self
            .run
            .back()
            .is_none_or(|b| b.ord.cmp(&entry.ord) == Ordering::Less);
        if in_order {
            self.run.push_back(entry);
        } else {
            self.heap.push(entry);
        }
        self.drain_due(release);
        Offer::Buffered
    }

    /// Whether the next event to go is the queue's (else the heap's).
    fn run_first(&self) -> bool {
        match (self.run.front(), self.heap.peek()) {
            (Some(a), Some(b)) => a.ord.cmp(&b.ord) == Ordering::Less,
            (a, _) => a.is_some(),
        }
    }

    fn peek(&self) -> Option<&Entry<T>> {
        if self.run_first() {
            self.run.front()
        } else {
            self.heap.peek()
        }
    }

    fn pop(&mut self) -> Option<Entry<T>> {
        if self.run_first() {
            self.run.pop_front()
        } else {
            self.heap.pop()
        }
    }

    /// The newest timestamp seen.
    pub(crate) fn newest(&self) -> Option<i64> {
        self.newest_ts
    }

    /// Every event still to come has a timestamp at or after this one (an
    /// earlier one is late): the time up to which matching may settle.
    /// An unbounded window (`i64::MAX`, `talon query`'s) has none: only
    /// the cap on events held releases any, and nothing is late by time
    /// (`newest - i64::MAX` would make events 292 years older late).
    pub(crate) fn horizon(&self) -> Option<i64> {
        if self.window == i64::MAX {
            return None;
        }
        self.newest_ts.map(|n| n.saturating_sub(self.window))
    }

    /// Releases what the window no longer needs to hold.
    pub(crate) fn drain_due(&mut self, release: &mut dyn FnMut(Ordinal, T)) {
        let horizon = self.horizon();
        while let Some(top) = self.peek() {
            let due = horizon.is_some_and(|h| top.ord.ts < h) || self.len() > self.max_events;
            if !due {
                break;
            }
            if let Some(e) = self.pop() {
                self.last_released = Some(e.ord.clone());
                release(e.ord, e.item);
            }
        }
    }

    /// Releases everything, in order.
    pub(crate) fn flush(&mut self, release: &mut dyn FnMut(Ordinal, T)) {
        while let Some(e) = self.pop() {
            self.last_released = Some(e.ord.clone());
            release(e.ord, e.item);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.run.len() + self.heap.len()
    }

    /// The earliest newest-timestamp at which the window releases its
    /// oldest event (the first past `ts + window`); `None` when empty.
    pub(crate) fn next_release(&self) -> Option<i64> {
        self.peek()
            .map(|top| top.ord.ts.saturating_add(self.window).saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs_and_doubles_compare_exactly_past_two_to_the_53() {
        const BIG: i64 = 1 << 53;
        // 2^53 + 1 is no double: it is above 2^53 as a double.
        assert_eq!(cmp_int_float(BIG + 1, BIG as f64), Ordering::Greater);
        assert_eq!(cmp_int_float(BIG, BIG as f64), Ordering::Equal);
        assert_eq!(cmp_int_float(2, 2.5), Ordering::Less);
        assert_eq!(cmp_int_float(3, 2.5), Ordering::Greater);
        assert_eq!(cmp_int_float(-3, -2.5), Ordering::Less);
        assert_eq!(cmp_int_float(-2, -2.5), Ordering::Greater);
        assert_eq!(cmp_int_float(i64::MAX, 9.3e18), Ordering::Less);
        assert_eq!(cmp_int_float(i64::MIN, -9.3e18), Ordering::Greater);
        assert_eq!(cmp_int_float(i64::MIN, i64::MIN as f64), Ordering::Equal);
        // The order holds together: no value is both above and tied.
        let ties = [
            Tie::Int(BIG + 1),
            Tie::Num(BIG as f64),
            Tie::Int(BIG),
            Tie::Num((BIG + 2) as f64),
        ];
        for a in &ties {
            for b in &ties {
                for c in &ties {
                    if a.cmp(b) != Ordering::Greater && b.cmp(c) != Ordering::Greater {
                        assert_ne!(a.cmp(c), Ordering::Greater, "{a:?} {b:?} {c:?}");
                    }
                }
            }
        }
    }

    fn ord(ts: i64, seq: u64) -> Ordinal {
        Ordinal {
            ts,
            tie: Tie::Missing,
            seq,
        }
    }

    #[test]
    fn an_unbounded_window_takes_any_time_until_its_cap_releases() {
        let mut r: Reorder<u64> = Reorder::new(i64::MAX, 2);
        let mut out = Vec::new();
        let mut take = |o: Ordinal, _| out.push(o.ts);
        assert_eq!(r.offer(ord(i64::MAX - 1, 1), 1, &mut take), Offer::Buffered);
        // Centuries older than the newest: not late by time.
        assert_eq!(r.offer(ord(i64::MIN + 1, 2), 2, &mut take), Offer::Buffered);
        assert_eq!(r.horizon(), None);
        // A third event overflows the cap: the oldest goes, and an event
        // ordered before it is now late.
        assert_eq!(r.offer(ord(0, 3), 3, &mut take), Offer::Buffered);
        assert_eq!(r.offer(ord(i64::MIN + 1, 0), 4, &mut take), Offer::Late(4));
        assert_eq!(out, [i64::MIN + 1]);
    }

    #[test]
    fn reorders_within_the_window_and_reports_late_events() {
        let mut r = Reorder::new(10, 100);
        let mut out = Vec::new();
        let mut rel = |o: Ordinal, _: ()| out.push(o.ts);
        assert_eq!(r.offer(ord(5, 0), (), &mut rel), Offer::Buffered);
        assert_eq!(r.offer(ord(3, 1), (), &mut rel), Offer::Buffered);
        assert_eq!(r.offer(ord(14, 2), (), &mut rel), Offer::Buffered);
        // 14 - 10 = 4: only 3 is due.
        assert_eq!(r.offer(ord(16, 3), (), &mut rel), Offer::Buffered);
        // 16 - 10 = 6: 5 goes too; a 4 now comes too late.
        assert_eq!(r.offer(ord(4, 4), (), &mut rel), Offer::Late(()));
        r.flush(&mut rel);
        assert_eq!(out, [3, 5, 14, 16]);
    }

    #[test]
    fn the_event_cap_releases_early() {
        let mut r = Reorder::new(i64::MAX, 2);
        let mut out = Vec::new();
        let mut rel = |o: Ordinal, _: ()| out.push(o.ts);
        for (i, ts) in [9, 7, 8, 10].into_iter().enumerate() {
            assert_eq!(r.offer(ord(ts, i as u64), (), &mut rel), Offer::Buffered);
        }
        assert_eq!(r.offer(ord(1, 9), (), &mut rel), Offer::Late(()));
        assert_eq!(out, [7, 8]);
        assert_eq!(r.len(), 2);
    }

    /// Input mostly in order with stragglers, repeats and a backwards
    /// run: released exactly in sorted order, whichever of the queue or
    /// the heap held each event.
    #[test]
    fn mixed_order_input_is_released_sorted() {
        let mut r = Reorder::new(1_000, 10_000);
        let mut out = Vec::new();
        let mut rel = |o: Ordinal, _: ()| out.push((o.ts, o.seq));
        let mut want = Vec::new();
        let mut x = 7u64;
        for seq in 0..3_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let ts = match seq {
                1_000..=1_100 => 2_000 - seq as i64, // backwards
                _ if x.is_multiple_of(10) => seq as i64 - (x >> 40) as i64 % 500, // straggler
                _ if x.is_multiple_of(7) => seq as i64 - 1, // repeat
                _ => seq as i64,
            };
            if r.offer(ord(ts, seq), (), &mut rel) == Offer::Buffered {
                want.push((ts, seq));
            }
        }
        r.flush(&mut rel);
        want.sort();
        assert_eq!(out, want);
        assert!(want.len() > 2_900);
    }

    #[test]
    fn tiebreaker_orders_equal_timestamps_missing_last() {
        let a = Ordinal {
            ts: 1,
            tie: Tie::of(Some(&Value::Int(10)), false),
            seq: 5,
        };
        let b = Ordinal {
            ts: 1,
            tie: Tie::of(Some(&Value::Int(9)), false),
            seq: 6,
        };
        let c = Ordinal {
            ts: 1,
            tie: Tie::Missing,
            seq: 0,
        };
        assert_eq!(b.cmp(&a), Ordering::Less);
        assert_eq!(a.cmp(&c), Ordering::Less);
    }
}
