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

use talon_eql::eval::ip;
use talon_eql::eval::value::keyword_text;
use talon_eql::eval::version::VersionKey;
use talon_event::mapping::{FieldType, Mapping};
use talon_event::Value;

use super::date;

/// How a tiebreaker field sorts: as Elasticsearch sorts the field, by the
/// type the mapping (else ECS) gives it. Decided once per search or rule
/// from the mapping, so the event query search and the sequence runtime
/// cannot disagree, and no event pays for the lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TieKind {
    /// A string type (keyword, wildcard, constant_keyword, text): by its
    /// text, byte by byte, `"10"` before `"9"`. EQL sorts a `text` field
    /// by its keyword sub-field, which holds the same text.
    // TODO: a `text` field with no keyword sub-field cannot be sorted on
    // (no doc values; fielddata is off by default): Elasticsearch refuses
    // the search. Talon sorts it by its text instead of refusing.
    Text,
    /// `date` or `date_nanos`: by the instant, read with the field's
    /// mapped `format` as the timestamp is, at the field's resolution
    /// (milliseconds for `date`), not by the text (`...Z` and `+01:00`).
    Date { format: Option<String>, nanos: bool },
    /// `ip`: by the 16-byte address, IPv4 mapped into IPv6 (`::1` before
    /// `10.0.0.9` before `10.0.0.10` before `2001:db8::1`).
    Ip,
    /// `version`: by semantic-version precedence (`1.9.0` before `1.10.0`,
    /// `1.0.0-alpha` before `1.0.0`), invalid versions after valid ones.
    Version,
    /// A number type, or no type known: by the value, numbers before
    /// strings.
    // TODO: `integer`, `short` and `byte` are read as `long`: a value out
    // of their range, which Elasticsearch refuses to index (the document
    // is rejected, or with `ignore_malformed` indexed without the field),
    // still sorts here by its value.
    Value,
}

impl TieKind {
    /// How the tiebreaker `field` sorts under `mapping`.
    pub(crate) fn of_field(mapping: &Mapping, field: &str) -> TieKind {
        match mapping.field_type(field) {
            Some(
                FieldType::Keyword
                | FieldType::Wildcard
                | FieldType::ConstantKeyword
                | FieldType::Text { .. },
            ) => TieKind::Text,
            Some(t @ (FieldType::Date | FieldType::DateNanos)) => TieKind::Date {
                format: mapping.date_format(field).map(str::to_string),
                nanos: t == FieldType::DateNanos,
            },
            Some(FieldType::Ip) => TieKind::Ip,
            Some(FieldType::Version) => TieKind::Version,
            _ => TieKind::Value,
        }
    }
}

/// A tiebreaker value, ordered as its [`TieKind`] says.
#[derive(Clone, Debug)]
pub(crate) enum Tie {
    /// Whole numbers compare exactly (a long past 2^53 is no double); a
    /// date is its instant in epoch nanoseconds.
    Int(i64),
    Num(f64),
    /// An address, as 16 big-endian bytes (byte order is address order).
    Addr([u8; 16]),
    Version(Arc<VersionKey>),
    Str(Arc<str>),
    Missing,
}

impl Tie {
    /// The tiebreaker of an event whose field holds `values`: the least of
    /// them, as an ascending Elasticsearch sort reads a multi-valued field
    /// (sort mode `min`); missing when none sorts.
    pub(crate) fn least(values: &[Value], kind: &TieKind) -> Tie {
        Tie::pick(values, kind, Ordering::Less)
    }

    /// The greatest of `values`, as a descending sort reads a multi-valued
    /// field (sort mode `max`); missing when none sorts.
    pub(crate) fn greatest(values: &[Value], kind: &TieKind) -> Tie {
        Tie::pick(values, kind, Ordering::Greater)
    }

    fn pick(values: &[Value], kind: &TieKind, want: Ordering) -> Tie {
        let mut best = Tie::Missing;
        for v in values {
            let t = Tie::one(v, kind);
            if matches!(t, Tie::Missing) {
                continue;
            }
            if matches!(best, Tie::Missing) || t.cmp(&best) == want {
                best = t;
            }
        }
        best
    }

    /// One value of a tiebreaker field of `kind`. A value the field could
    /// not have indexed (a date or an address it cannot read) is missing: Elasticsearch rejects such a document, or with
    /// `ignore_malformed` indexes it without the field, so it has no sort
    /// value and sorts with the missing ones, last. An invalid version is
    /// no such value: a `version` field indexes it and sorts it after the
    /// valid ones.
    fn one(v: &Value, kind: &TieKind) -> Tie {
        if matches!(v, Value::Null) {
            return Tie::Missing;
        }
        match kind {
            TieKind::Text => keyword_text(v).map_or(Tie::Missing, Tie::Str),
            TieKind::Date { format, nanos } => {
                date::instant(v, format.as_deref(), *nanos).map_or(Tie::Missing, Tie::Int)
            }
            TieKind::Ip => keyword_text(v)
                .and_then(|s| ip::parse_ip(&s))
                .map_or(Tie::Missing, |a| Tie::Addr(ip::to_u128(a).to_be_bytes())),
            TieKind::Version => keyword_text(v).map_or(Tie::Missing, |s| {
                Tie::Version(Arc::new(VersionKey::parse(&s)))
            }),
            TieKind::Value => match v {
                Value::Int(i) => Tie::Int(*i),
                Value::Float(f) => Tie::Num(*f),
                Value::Str(s) => match s.trim().parse::<i64>() {
                    Ok(i) => Tie::Int(i),
                    Err(_) => match s.trim().parse::<f64>() {
                        Ok(n) if n.is_finite() => Tie::Num(n),
                        _ => Tie::Str(s.clone()),
                    },
                },
                Value::Bool(b) => Tie::Int(i64::from(*b)),
                Value::Null => Tie::Missing,
            },
        }
    }

    /// Where values of different variants sort among each other; one
    /// field's values share a variant but for numbers and strings of a
    /// field of no known type.
    fn rank(&self) -> u8 {
        match self {
            Tie::Int(_) | Tie::Num(_) => 0,
            Tie::Addr(_) => 1,
            Tie::Version(_) => 2,
            Tie::Str(_) => 3,
            Tie::Missing => 4,
        }
    }

    pub(crate) fn cmp(&self, other: &Tie) -> Ordering {
        match (self, other) {
            (Tie::Int(a), Tie::Int(b)) => a.cmp(b),
            (Tie::Int(a), Tie::Num(b)) => cmp_int_float(*a, *b),
            (Tie::Num(a), Tie::Int(b)) => cmp_int_float(*b, *a).reverse(),
            (Tie::Num(a), Tie::Num(b)) => a.total_cmp(b),
            (Tie::Addr(a), Tie::Addr(b)) => a.cmp(b),
            (Tie::Version(a), Tie::Version(b)) => a.cmp(b),
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
            tie: Tie::least(&[Value::Int(10)], &TieKind::Value),
            seq: 5,
        };
        let b = Ordinal {
            ts: 1,
            tie: Tie::least(&[Value::Int(9)], &TieKind::Value),
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

    fn kind(mapping: &str) -> TieKind {
        let m = Mapping::from_es_json(&format!(r#"{{"properties":{{"tie":{mapping}}}}}"#))
            .expect("mapping");
        TieKind::of_field(&m, "tie")
    }

    /// How the tiebreaker values `a` and `b` (JSON) of a field of `kind`
    /// compare.
    fn tie_cmp(kind: &TieKind, a: &str, b: &str) -> Ordering {
        let tie = |json: &str| {
            let v: Value = match serde_json::from_str::<serde_json::Value>(json).expect(json) {
                serde_json::Value::String(s) => Value::str(&s),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Value::Int(i),
                    None => Value::Float(n.as_f64().expect(json)),
                },
                other => panic!("{other}"),
            };
            Tie::least(&[v], kind)
        };
        tie(a).cmp(&tie(b))
    }

    #[test]
    fn a_date_tiebreaker_orders_by_its_instant_not_its_text() {
        let date = kind(r#"{"type":"date"}"#);
        assert_eq!(
            tie_cmp(
                &date,
                r#""2024-01-02T00:00:00Z""#,
                r#""2023-12-31T23:59:59.999Z""#
            ),
            Ordering::Greater
        );
        // As text "...00Z" sorts after "...00.5Z" ('Z' after '.'); in time
        // it is half a second earlier.
        assert_eq!(
            tie_cmp(
                &date,
                r#""2024-01-01T00:00:00Z""#,
                r#""2024-01-01T00:00:00.5Z""#
            ),
            Ordering::Less
        );
        // 01:00+02:00 is 23:00Z the day before: earlier, though its text
        // sorts after.
        assert_eq!(
            tie_cmp(
                &date,
                r#""2024-01-02T01:00:00+02:00""#,
                r#""2024-01-01T23:30:00Z""#
            ),
            Ordering::Less
        );
        // One instant written two ways ties.
        assert_eq!(
            tie_cmp(
                &date,
                r#""2024-01-01T12:00:00-05:00""#,
                r#""2024-01-01T17:00:00Z""#
            ),
            Ordering::Equal
        );
        // Epoch milliseconds as a number or a string of digits: "9" would
        // sort after "10" as text.
        assert_eq!(tie_cmp(&date, r#""9""#, "10"), Ordering::Less);
        // A `date` keeps milliseconds: these tie; `date_nanos` keeps more.
        let (a, b) = (
            r#""2024-01-01T00:00:00.0009Z""#,
            r#""2024-01-01T00:00:00.0001Z""#,
        );
        assert_eq!(tie_cmp(&date, a, b), Ordering::Equal);
        let nanos = kind(r#"{"type":"date_nanos"}"#);
        assert_eq!(tie_cmp(&nanos, a, b), Ordering::Greater);
        // A mapped format reads the dates, as it does the timestamp's.
        let dmy = kind(r#"{"type":"date","format":"dd-MM-yyyy"}"#);
        // 1 February after 2 January, though "01-..." sorts first as text.
        assert_eq!(
            tie_cmp(&dmy, r#""01-02-2024""#, r#""02-01-2024""#),
            Ordering::Greater
        );
        // A date the field cannot read sorts as missing: last.
        assert_eq!(
            tie_cmp(&date, r#""not a date""#, r#""2262-01-01T00:00:00Z""#),
            Ordering::Greater
        );
        assert!(matches!(
            Tie::least(&[Value::str("soon")], &date),
            Tie::Missing
        ));
    }

    #[test]
    fn an_ip_tiebreaker_orders_by_its_address() {
        let ip = kind(r#"{"type":"ip"}"#);
        assert_eq!(
            tie_cmp(&ip, r#""10.0.0.9""#, r#""10.0.0.10""#),
            Ordering::Less
        );
        assert_eq!(
            tie_cmp(&ip, r#""9.255.255.255""#, r#""10.0.0.0""#),
            Ordering::Less
        );
        // IPv4 is mapped into IPv6 (::ffff:a.b.c.d): after ::1, before
        // 2001:db8::, and equal to its mapped form.
        assert_eq!(tie_cmp(&ip, r#""::1""#, r#""10.0.0.1""#), Ordering::Less);
        assert_eq!(
            tie_cmp(&ip, r#""255.255.255.255""#, r#""2001:db8::1""#),
            Ordering::Less
        );
        assert_eq!(
            tie_cmp(&ip, r#""::ffff:10.0.0.1""#, r#""10.0.0.1""#),
            Ordering::Equal
        );
        assert_eq!(
            tie_cmp(&ip, r#""2001:db8::2""#, r#""2001:db8::10""#),
            Ordering::Less
        );
        // Not an address: missing, last.
        assert_eq!(
            tie_cmp(&ip, r#""10.0.0.256""#, r#""ffff::""#),
            Ordering::Greater
        );
        assert!(matches!(
            Tie::least(&[Value::str("host-1")], &ip),
            Tie::Missing
        ));
    }

    #[test]
    fn a_version_tiebreaker_orders_by_semver_precedence() {
        let version = kind(r#"{"type":"version"}"#);
        assert_eq!(
            tie_cmp(&version, r#""1.9.0""#, r#""1.10.0""#),
            Ordering::Less
        );
        assert_eq!(
            tie_cmp(&version, r#""1.0.0-alpha""#, r#""1.0.0""#),
            Ordering::Less
        );
        assert_eq!(
            tie_cmp(&version, r#""1.0.0-alpha""#, r#""1.0.0-beta""#),
            Ordering::Less
        );
        assert_eq!(
            tie_cmp(&version, r#""2.1""#, r#""2.0.5""#),
            Ordering::Greater
        );
        // An invalid version is indexed, after every valid one, but before
        // a missing value.
        assert_eq!(
            tie_cmp(&version, r#""bad""#, r#""99.0.0""#),
            Ordering::Greater
        );
        let bad = Tie::least(&[Value::str("bad")], &version);
        assert_eq!(bad.cmp(&Tie::Missing), Ordering::Less);
    }

    #[test]
    fn a_keyword_tiebreaker_still_orders_by_its_text() {
        for ty in ["keyword", "wildcard", "constant_keyword"] {
            let text = kind(&format!(r#"{{"type":"{ty}"}}"#));
            assert_eq!(text, TieKind::Text, "{ty}");
            assert_eq!(tie_cmp(&text, r#""10""#, r#""9""#), Ordering::Less, "{ty}");
        }
        let long = kind(r#"{"type":"long"}"#);
        assert_eq!(tie_cmp(&long, r#""10""#, r#""9""#), Ordering::Greater);
    }

    #[test]
    fn a_multi_valued_tiebreaker_sorts_by_its_least_value_ascending() {
        let ip = kind(r#"{"type":"ip"}"#);
        let addrs = [
            Value::str("10.0.0.10"),
            Value::str("10.0.0.9"),
            Value::str("x"),
        ];
        let least = Tie::least(&addrs, &ip);
        let one = |s: &str| Tie::least(&[Value::str(s)], &ip);
        assert_eq!(least.cmp(&one("10.0.0.9")), Ordering::Equal);
        assert_eq!(
            Tie::greatest(&addrs, &ip).cmp(&one("10.0.0.10")),
            Ordering::Equal
        );
        // Values that do not sort are passed over; none at all is missing.
        let nulls = [Value::Null, Value::str("x")];
        assert!(matches!(Tie::least(&nulls, &ip), Tie::Missing));
        assert!(matches!(Tie::greatest(&nulls, &ip), Tie::Missing));
        assert!(matches!(Tie::least(&[], &ip), Tie::Missing));
        // By the field's order, not the first value's: a version's least
        // is 1.9.0, a keyword's "1.10.0".
        let versions = [Value::str("1.10.0"), Value::str("1.9.0")];
        let v = |s: &str, k: &TieKind| Tie::least(&[Value::str(s)], k);
        let version = kind(r#"{"type":"version"}"#);
        assert_eq!(
            Tie::least(&versions, &version).cmp(&v("1.9.0", &version)),
            Ordering::Equal
        );
        assert_eq!(
            Tie::least(&versions, &TieKind::Text).cmp(&v("1.10.0", &TieKind::Text)),
            Ordering::Equal
        );
        // Numbers of a field of no known type: 3 of [10, 3].
        let nums = [Value::Int(10), Value::Int(3)];
        assert_eq!(
            Tie::least(&nums, &TieKind::Value).cmp(&Tie::Int(3)),
            Ordering::Equal
        );
    }
}
