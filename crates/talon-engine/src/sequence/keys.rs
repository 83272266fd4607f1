//! Join keys: reading an event's key values for one term, and the key
//! tuples that event belongs to.
//!
//! As Elasticsearch joins:
//! - each key is read as its field type indexes it (a `long` held as `"7"`
//!   is 7, an `ip` is its canonical text, a date is an instant), so values
//!   written differently in different indices still join;
//! - a multi-valued key gives one tuple per distinct value, and several
//!   multi-valued keys give their cartesian product (in value order, first
//!   occurrence wins for duplicates);
//! - an optional `?key` without a value is the null key, which joins with
//!   null; a mandatory key without a value gives no tuple at all.
//!
//! The product is capped at [`MAX_KEY_TUPLES`] per event and term so one
//! pathological event cannot exhaust memory; the caller counts the events
//! that hit the cap.

use std::cmp::Ordering;
use std::sync::Arc;

use talon_eql::eval::value::{
    coerce_bool, coerce_double, coerce_long, doc_value, keyword_text, FieldKind,
};
use talon_eql::JoinKey;
use talon_event::mapping::Mapping;
use talon_event::{time, Binding, Fields, Value};

use super::date;

/// Most key tuples one event gives for one term.
pub const MAX_KEY_TUPLES: usize = 4096;

/// One join-key value, hashable and totally ordered.
///
/// The order (null first, then booleans, numbers, dates, strings in byte
/// order) is the order Elasticsearch returns samples in. Whole numbers
/// and fractions of one unmapped field compare by value (1 < 2.5 < 3):
/// Elasticsearch indexes the field as one numeric type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KeyPart {
    Null,
    Bool(bool),
    Int(i64),
    /// A double's bits mapped so that integer order is numeric order.
    Float(i64),
    /// Epoch nanoseconds.
    Date(i64),
    Str(Arc<str>),
}

impl KeyPart {
    fn rank(&self) -> u8 {
        match self {
            KeyPart::Null => 0,
            KeyPart::Bool(_) => 1,
            KeyPart::Int(_) | KeyPart::Float(_) => 2,
            KeyPart::Date(_) => 3,
            KeyPart::Str(_) => 4,
        }
    }
}

impl Ord for KeyPart {
    fn cmp(&self, other: &KeyPart) -> Ordering {
        use KeyPart::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) | (Float(a), Float(b)) | (Date(a), Date(b)) => a.cmp(b),
            (Str(a), Str(b)) => a.cmp(b),
            // A whole float is read as an integer (`KeyReader::read`), so
            // these are never the same key: on a tie the integer is first.
            (Int(a), Float(b)) => (*a as f64).total_cmp(&float_of(*b)).then(Ordering::Less),
            (Float(a), Int(b)) => float_of(*a).total_cmp(&(*b as f64)).then(Ordering::Greater),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for KeyPart {
    fn partial_cmp(&self, other: &KeyPart) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn float_key(f: f64) -> KeyPart {
    // -0.0 and 0.0 are the same key.
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits() as i64;
    KeyPart::Float(if bits < 0 { bits ^ i64::MAX } else { bits })
}

fn float_of(key: i64) -> f64 {
    let bits = if key < 0 { key ^ i64::MAX } else { key };
    f64::from_bits(bits as u64)
}

/// The key tuples one event gives one term: almost always none or one.
pub(crate) type TermKeys = smallvec::SmallVec<[KeyTuple; 1]>;

/// The key tuples one event gives each term of one rule (the until term
/// last): inline for the usual two or three terms.
pub(crate) type TermHitKeys = smallvec::SmallVec<[TermKeys; 3]>;

/// A key tuple: the values of every join key, by position.
///
/// Most rules join on one key (`by process.entity_id`), so a one-part
/// tuple is held inline and costs no allocation; longer ones share one
/// `Arc`. Compared, hashed and ordered as the slice of its parts, so the
/// two forms of one tuple are the same key.
#[derive(Clone)]
pub(crate) struct KeyTuple(Parts);

#[derive(Clone)]
enum Parts {
    One(KeyPart),
    Many(Arc<[KeyPart]>),
}

impl std::ops::Deref for KeyTuple {
    type Target = [KeyPart];

    fn deref(&self) -> &[KeyPart] {
        match &self.0 {
            Parts::One(p) => std::slice::from_ref(p),
            Parts::Many(ps) => ps,
        }
    }
}

impl From<&[KeyPart]> for KeyTuple {
    fn from(parts: &[KeyPart]) -> KeyTuple {
        match parts {
            [one] => KeyTuple(Parts::One(one.clone())),
            _ => KeyTuple(Parts::Many(Arc::from(parts))),
        }
    }
}

impl From<Vec<KeyPart>> for KeyTuple {
    fn from(mut parts: Vec<KeyPart>) -> KeyTuple {
        match parts.len() {
            1 => KeyTuple(Parts::One(parts.remove(0))),
            _ => KeyTuple(Parts::Many(Arc::from(parts))),
        }
    }
}

impl PartialEq for KeyTuple {
    fn eq(&self, other: &KeyTuple) -> bool {
        **self == **other
    }
}

impl Eq for KeyTuple {}

impl std::hash::Hash for KeyTuple {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialOrd for KeyTuple {
    fn partial_cmp(&self, other: &KeyTuple) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KeyTuple {
    fn cmp(&self, other: &KeyTuple) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl std::fmt::Debug for KeyTuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// How one join key of one term is read.
#[derive(Clone, Debug)]
pub(crate) struct KeyReader {
    path: Option<Arc<str>>,
    optional: bool,
    kind: FieldKind,
    /// The mapping's date `format`, for date keys.
    format: Option<String>,
    /// The path's number in the catalog events are read through
    /// ([`KeyReader::bind`]): read by number, not looked up by name.
    binding: Binding,
}

impl KeyReader {
    pub(crate) fn new(key: &JoinKey, mapping: &Mapping) -> KeyReader {
        let format = match (&key.path, key.kind) {
            (Some(p), FieldKind::Date { .. }) => mapping.date_format(p).map(str::to_string),
            _ => None,
        };
        KeyReader {
            path: key.path.clone(),
            optional: key.optional,
            kind: key.kind,
            format,
            binding: Binding::NONE,
        }
    }

    /// Numbers the key's path as `bind` says (an engine's field catalog).
    pub(crate) fn bind(&mut self, bind: &dyn Fn(&str) -> Binding) {
        if let Some(path) = &self.path {
            self.binding = bind(path);
        }
    }

    /// The key field's values on the event.
    fn field<'e>(&self, path: &str, event: &'e dyn Fields) -> &'e [Value] {
        event.values_bound(path, self.binding)
    }

    /// The distinct values of this key on the event, in source order.
    fn values(&self, event: &dyn Fields) -> Vec<KeyPart> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        let mut out: Vec<KeyPart> = Vec::new();
        for v in self.field(path, event) {
            if let Some(k) = self.read(v) {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        out
    }

    fn read(&self, v: &Value) -> Option<KeyPart> {
        match self.kind {
            FieldKind::Keyword | FieldKind::Version => keyword_text(v).map(KeyPart::Str),
            FieldKind::Long => coerce_long(v).map(KeyPart::Int),
            FieldKind::Double => coerce_double(v).map(float_key),
            FieldKind::Bool => coerce_bool(v).map(KeyPart::Bool),
            FieldKind::Date { nanos } => {
                date::instant(v, self.format.as_deref(), nanos).map(KeyPart::Date)
            }
            FieldKind::Ip => match doc_value(v, FieldKind::Ip)? {
                talon_eql::eval::value::RVal::Str(s) => Some(KeyPart::Str(s)),
                _ => None,
            },
            FieldKind::Dynamic => match v {
                Value::Null => None,
                Value::Bool(b) => Some(KeyPart::Bool(*b)),
                Value::Int(i) => Some(KeyPart::Int(*i)),
                // `1.0` is the key `1`, as one numeric field indexes both.
                Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                    Some(KeyPart::Int(*f as i64))
                }
                Value::Float(f) => Some(float_key(*f)),
                // A whole number written as a string joins with the
                // number: one field of an index has one type, and either
                // type indexes both alike (a `long` reads `"7"` as 7, a
                // `keyword` 7 as `"7"`). Only its plain form: `"07"` is 7
                // to a `long` but not to a `keyword`, so it stays text.
                Value::Str(s) => Some(match s.parse::<i64>() {
                    Ok(n) if n.to_string() == **s => KeyPart::Int(n),
                    _ => KeyPart::Str(s.clone()),
                }),
            },
        }
    }
}

/// Reads the key tuples of an event for a term; `truncated` is set when
/// the cartesian product was cut at [`MAX_KEY_TUPLES`].
pub(crate) fn key_tuples(
    readers: &[KeyReader],
    event: &dyn Fields,
    truncated: &mut bool,
) -> TermKeys {
    if let Some(tuple) = single_tuple(readers, event) {
        return tuple.into_iter().collect();
    }
    let mut columns = Vec::with_capacity(readers.len());
    for r in readers {
        let mut vals = r.values(event);
        if vals.is_empty() {
            if !r.optional {
                return TermKeys::new();
            }
            vals.push(KeyPart::Null);
        }
        columns.push(vals);
    }
    let mut tuples: Vec<Vec<KeyPart>> = vec![Vec::with_capacity(readers.len())];
    for col in &columns {
        let mut next =
            Vec::with_capacity(tuples.len().saturating_mul(col.len()).min(MAX_KEY_TUPLES));
        'outer: for t in &tuples {
            for v in col {
                if next.len() == MAX_KEY_TUPLES {
                    *truncated = true;
                    break 'outer;
                }
                let mut t = t.clone();
                t.push(v.clone());
                next.push(t);
            }
        }
        tuples = next;
    }
    tuples.into_iter().map(KeyTuple::from).collect()
}

/// The first required join key of `readers` the event holds no usable
/// value for (why [`key_tuples`] gave it none); `None` when every one has
/// a value.
pub(crate) fn missing_key(readers: &[KeyReader], event: &dyn Fields) -> Option<Arc<str>> {
    readers
        .iter()
        .filter(|r| !r.optional)
        .find_map(|r| match &r.path {
            Some(path) => {
                let has = r.field(path, event).iter().any(|v| r.read(v).is_some());
                (!has).then(|| Arc::clone(path))
            }
            None => Some(Arc::from("null")),
        })
}

/// The usual case, built without the cross product: every key holds at
/// most one value. `None` when some key holds several (the caller builds
/// every combination); `Some(None)` when a required key is missing.
fn single_tuple(readers: &[KeyReader], event: &dyn Fields) -> Option<Option<KeyTuple>> {
    let mut parts: smallvec::SmallVec<[KeyPart; 4]> = smallvec::SmallVec::new();
    for r in readers {
        let Some(path) = &r.path else {
            if !r.optional {
                return Some(None);
            }
            parts.push(KeyPart::Null);
            continue;
        };
        let values = r.field(path, event);
        let mut read = values.iter().filter_map(|v| r.read(v));
        match read.next() {
            None if r.optional => parts.push(KeyPart::Null),
            None => return Some(None),
            Some(first) => {
                if read.any(|k| k != first) {
                    return None;
                }
                parts.push(first);
            }
        }
    }
    Some(Some(KeyTuple::from(&parts[..])))
}

/// How key values are shown in results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyStyle {
    /// Sequences show dates as ISO strings.
    Sequence,
    /// Samples show dates as epoch-millisecond strings.
    Sample,
}

/// The result form of a key value.
pub(crate) fn render(part: &KeyPart, kind: FieldKind, style: KeyStyle) -> Value {
    match part {
        KeyPart::Null => Value::Null,
        KeyPart::Bool(b) => Value::Bool(*b),
        KeyPart::Int(i) => Value::Int(*i),
        KeyPart::Float(bits) => Value::Float(float_of(*bits)),
        KeyPart::Str(s) => Value::Str(s.clone()),
        KeyPart::Date(n) => match style {
            KeyStyle::Sample => Value::Str(Arc::from(n.div_euclid(1_000_000).to_string())),
            KeyStyle::Sequence => {
                let nanos = matches!(kind, FieldKind::Date { nanos: true });
                let text = if nanos {
                    time::format_nanos(*n)
                } else {
                    time::format_millis(*n)
                };
                Value::Str(Arc::from(text))
            }
        },
    }
}

/// Compares key tuples position by position (shorter first on a tie).
pub(crate) fn cmp_tuples(a: &[KeyPart], b: &[KeyPart]) -> Ordering {
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use talon_event::Event;

    fn reader(path: &str, optional: bool, kind: FieldKind) -> KeyReader {
        KeyReader {
            path: Some(Arc::from(path)),
            optional,
            kind,
            format: None,
            binding: Binding::NONE,
        }
    }

    fn event(fields: &[(&str, Vec<Value>)]) -> Event {
        let mut e = Event::default();
        for (p, vals) in fields {
            for v in vals {
                e.push(p, v.clone());
            }
        }
        e
    }

    fn strs(t: &KeyTuple) -> Vec<String> {
        t.iter()
            .map(|p| match p {
                KeyPart::Str(s) => s.to_string(),
                KeyPart::Null => "null".into(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_tuple_is_its_parts_whichever_way_it_was_built() {
        use std::hash::BuildHasher;
        let hash = |t: &KeyTuple| rustc_hash::FxBuildHasher.hash_one(t);
        let s = |x: &str| KeyPart::Str(Arc::from(x));
        // One part is held inline, several share an Arc; built from a
        // slice or a Vec, equal parts are one key in a hash map.
        let one = KeyTuple::from(&[s("a")][..]);
        assert_eq!(one, KeyTuple::from(vec![s("a")]));
        assert_eq!(hash(&one), hash(&KeyTuple::from(vec![s("a")])));
        assert_eq!(&*one, &[s("a")][..]);
        let two = KeyTuple::from(vec![s("a"), KeyPart::Int(7)]);
        assert_eq!(two, KeyTuple::from(&[s("a"), KeyPart::Int(7)][..]));
        assert_eq!(two.len(), 2);
        assert_ne!(one, two);
        // Ordered as slices: a prefix first, then part by part.
        let mut keys = [
            KeyTuple::from(vec![s("b")]),
            two.clone(),
            one.clone(),
            KeyTuple::from(vec![KeyPart::Null]),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        assert_eq!(
            shown,
            [
                "[Null]",
                r#"[Str("a")]"#,
                r#"[Str("a"), Int(7)]"#,
                r#"[Str("b")]"#
            ]
        );
        // No tuple: the empty slice (a rule without keys).
        assert!(KeyTuple::from(Vec::new()).is_empty());
    }

    #[test]
    fn cartesian_product_in_value_order_without_duplicates() {
        let e = event(&[
            ("tags", vec!["t3".into(), "t4".into(), "t3".into()]),
            ("items", vec!["i1".into(), "i2".into()]),
        ]);
        let readers = [
            reader("tags", false, FieldKind::Keyword),
            reader("items", false, FieldKind::Keyword),
        ];
        let mut cut = false;
        let got: Vec<_> = key_tuples(&readers, &e, &mut cut)
            .iter()
            .map(strs)
            .collect();
        assert_eq!(
            got,
            [["t3", "i1"], ["t3", "i2"], ["t4", "i1"], ["t4", "i2"]]
        );
        assert!(!cut);
    }

    #[test]
    fn missing_keys_null_only_when_optional() {
        let e = event(&[("a", vec!["x".into()])]);
        let mut cut = false;
        let mandatory = [
            reader("a", false, FieldKind::Keyword),
            reader("b", false, FieldKind::Keyword),
        ];
        assert!(key_tuples(&mandatory, &e, &mut cut).is_empty());
        let optional = [
            reader("a", false, FieldKind::Keyword),
            reader("b", true, FieldKind::Keyword),
        ];
        let got: Vec<_> = key_tuples(&optional, &e, &mut cut)
            .iter()
            .map(strs)
            .collect();
        assert_eq!(got, [["x", "null"]]);
        let unmapped = [KeyReader {
            path: None,
            optional: true,
            kind: FieldKind::Dynamic,
            format: None,
            binding: Binding::NONE,
        }];
        assert_eq!(key_tuples(&unmapped, &e, &mut cut)[0][0], KeyPart::Null);
    }

    #[test]
    fn values_read_as_the_field_type_indexes_them() {
        let e = event(&[
            ("n", vec![Value::str("7")]),
            ("ip", vec![Value::str("::ffff:10.0.0.1")]),
        ]);
        let mut cut = false;
        let t = key_tuples(
            &[
                reader("n", false, FieldKind::Long),
                reader("ip", false, FieldKind::Ip),
            ],
            &e,
            &mut cut,
        );
        assert_eq!(t[0][0], KeyPart::Int(7));
        assert_eq!(t[0][1], KeyPart::Str(Arc::from("10.0.0.1")));
    }

    #[test]
    fn an_unmapped_whole_number_joins_with_its_plain_text() {
        let e = event(&[("n", vec![Value::str("7"), Value::Int(7), Value::str("07")])]);
        let mut cut = false;
        let t = key_tuples(&[reader("n", false, FieldKind::Dynamic)], &e, &mut cut);
        // `"7"` and 7 are one key; `"07"` another.
        assert_eq!(t.len(), 2);
        assert_eq!(t[0][0], KeyPart::Int(7));
        assert_eq!(t[1][0], KeyPart::Str(Arc::from("07")));
        let e = event(&[(
            "n",
            vec![Value::str("-12"), Value::str("+12"), Value::str("1e3")],
        )]);
        let t = key_tuples(&[reader("n", false, FieldKind::Dynamic)], &e, &mut cut);
        let parts: Vec<&KeyPart> = t.iter().map(|t| &t[0]).collect();
        assert_eq!(
            parts,
            [
                &KeyPart::Int(-12),
                &KeyPart::Str(Arc::from("+12")),
                &KeyPart::Str(Arc::from("1e3"))
            ]
        );
    }

    #[test]
    fn product_is_capped() {
        let many: Vec<Value> = (0..100).map(Value::Int).collect();
        let e = event(&[("a", many.clone()), ("b", many)]);
        let readers = [
            reader("a", false, FieldKind::Long),
            reader("b", false, FieldKind::Long),
        ];
        let mut cut = false;
        assert_eq!(key_tuples(&readers, &e, &mut cut).len(), MAX_KEY_TUPLES);
        assert!(cut);
    }

    #[test]
    fn order_nulls_first_then_byte_order() {
        let mut v = [
            KeyPart::Str(Arc::from("doom")),
            KeyPart::Null,
            KeyPart::Str(Arc::from("GTA")),
        ];
        v.sort();
        assert_eq!(v[0], KeyPart::Null);
        assert_eq!(v[1], KeyPart::Str(Arc::from("GTA")));
        assert!(
            float_key(-2.5) < float_key(-1.0)
                && float_key(-1.0) < float_key(0.0)
                && float_key(0.0) < float_key(3.0)
        );
        assert_eq!(
            float_of(match float_key(-2.5) {
                KeyPart::Float(b) => b,
                _ => 0,
            }),
            -2.5
        );
    }

    #[test]
    fn dates_render_per_result_kind() {
        let d = KeyPart::Date(86_400_000_000_000);
        let kind = FieldKind::Date { nanos: false };
        assert_eq!(
            render(&d, kind, KeyStyle::Sequence),
            Value::str("1970-01-02T00:00:00.000Z")
        );
        assert_eq!(render(&d, kind, KeyStyle::Sample), Value::str("86400000"));
    }
}
