//! JSON document text → flattened [`Event`], the way Elasticsearch indexes it.
//!
//! Guarantees:
//! - nested objects and dotted keys land on one dotted path, in any mixture
//!   (`{"process":{"name":"x"}}` ≡ `{"process.name":"x"}`);
//! - arrays append their elements to the path, in order; arrays of objects
//!   recurse with the same prefix; nested arrays flatten;
//! - JSON `null` and `[]` give no value, except that an explicit `null` (also
//!   inside an array) of a field with a mapping `null_value` indexes that
//!   `null_value` — exactly Elasticsearch's documented rule;
//! - integers that fit an `i64` become [`Value::Int`], every other number
//!   [`Value::Float`];
//! - the original text is kept as the event source.
//!
//! The document is parsed once, by a serde visitor that writes leaves
//! straight into the field map: there is no intermediate `serde_json::Value`
//! tree, because reading events should cost little more than reading bytes.
//! A [`Projection`] lets callers keep only the fields rules reference;
//! skipped sub-trees are scanned by serde's `IgnoredAny` without allocating.

use std::fmt;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::event::{Event, Values};
use crate::mapping::Mapping;
use crate::value::Value;

/// The flattened fields of one document.
pub type FieldMap = FxHashMap<Box<str>, Values>;

/// Which field paths to materialise. The default keeps every field.
///
/// An entry keeps the path itself and everything below it (`process` keeps
/// `process.name`); a trailing `.*` means the same (`process.*`).
#[derive(Clone, Debug)]
pub struct Projection {
    all: bool,
    keep: FxHashSet<Box<str>>,
    /// Every proper dotted prefix of a kept path: objects we must descend
    /// into to reach a kept leaf.
    ancestors: FxHashSet<Box<str>>,
}

impl Default for Projection {
    fn default() -> Self {
        Projection::all()
    }
}

impl Projection {
    /// Keeps every field.
    pub fn all() -> Projection {
        Projection {
            all: true,
            keep: FxHashSet::default(),
            ancestors: FxHashSet::default(),
        }
    }

    /// Keeps only the given paths (and whatever lies below them).
    pub fn only<I, S>(paths: I) -> Projection
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut keep = FxHashSet::default();
        let mut ancestors = FxHashSet::default();
        for p in paths {
            let p = p.as_ref();
            let p = p.strip_suffix(".*").unwrap_or(p);
            if p == "*" {
                return Projection::all();
            }
            for (i, b) in p.bytes().enumerate() {
                if b == b'.' {
                    ancestors.insert(Box::from(&p[..i]));
                }
            }
            keep.insert(Box::from(p));
        }
        Projection {
            all: false,
            keep,
            ancestors,
        }
    }

    /// True when nothing is filtered out.
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// Whether a leaf at `path` is kept.
    pub fn keeps(&self, path: &str) -> bool {
        if self.all || self.keep.contains(path) {
            return true;
        }
        path.bytes()
            .enumerate()
            .any(|(i, b)| b == b'.' && self.keep.contains(&path[..i]))
    }

    /// Whether anything at or below `path` may be kept (so the reader has to
    /// look inside the value instead of skipping it).
    pub fn may_contain(&self, path: &str) -> bool {
        self.all || self.ancestors.contains(path) || self.keeps(path)
    }
}

/// Why a document could not be flattened.
#[derive(Debug, thiserror::Error)]
pub enum FlattenError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("the document is valid JSON but not an object")]
    NotAnObject,
}

/// Flattens documents with a projection and the mapping's `null_value`s.
#[derive(Clone, Debug, Default)]
pub struct Flattener {
    projection: Projection,
    null_values: FxHashMap<Box<str>, Value>,
}

impl Flattener {
    /// Keeps every field, and no `null_value` substitutions.
    pub fn new() -> Flattener {
        Flattener::default()
    }

    /// Only materialise the given projection.
    pub fn with_projection(mut self, projection: Projection) -> Flattener {
        self.projection = projection;
        self
    }

    /// Takes the `null_value` of every mapped field from `mapping`.
    pub fn with_mapping(mut self, mapping: &Mapping) -> Flattener {
        for (path, value) in mapping.null_values() {
            self.null_values.insert(Box::from(path), value.clone());
        }
        self
    }

    /// Indexes `value` in place of an explicit `null` at `path`.
    pub fn with_null_value(mut self, path: &str, value: Value) -> Flattener {
        self.null_values.insert(Box::from(path), value);
        self
    }

    pub fn projection(&self) -> &Projection {
        &self.projection
    }

    /// Flattens one JSON object into its fields.
    pub fn fields(&self, text: &str) -> Result<FieldMap, FlattenError> {
        let first = text.bytes().find(|b| !b.is_ascii_whitespace());
        if first != Some(b'{') {
            // Tell "valid but not an object" apart from "not JSON at all".
            serde_json::from_str::<IgnoredAny>(text)?;
            return Err(FlattenError::NotAnObject);
        }
        let mut fields = FieldMap::default();
        let mut path = String::with_capacity(64);
        let mut de = serde_json::Deserializer::from_str(text);
        let mut sink = Sink {
            fields: &mut fields,
            path: &mut path,
            cfg: self,
        };
        Node(&mut sink).deserialize(&mut de)?;
        de.end()?;
        Ok(fields)
    }

    /// Flattens one JSON object into an event whose source is `text`.
    pub fn event(&self, text: &str) -> Result<Event, FlattenError> {
        let fields = self.fields(text)?;
        Ok(self.wrap(fields, Arc::from(text)))
    }

    /// Like [`Flattener::event`], reusing an already shared source text.
    pub fn event_from_arc(&self, text: Arc<str>) -> Result<Event, FlattenError> {
        let fields = self.fields(&text)?;
        Ok(self.wrap(fields, text))
    }

    /// The event of fields this flattener made from `text`: its fields all
    /// come from the text unless a `null_value` may have stood in for a
    /// null ([`Event::fields_from_source`]).
    pub fn wrap(&self, fields: FieldMap, text: Arc<str>) -> Event {
        if self.null_values.is_empty() {
            Event::from_source(fields, text)
        } else {
            Event::new(fields, text)
        }
    }
}

/// Flattens one JSON object with the default settings (all fields, no
/// `null_value`s).
pub fn flatten(text: &str) -> Result<Event, FlattenError> {
    Flattener::default().event(text)
}

/// Where leaves are written while walking one document.
struct Sink<'a> {
    fields: &'a mut FieldMap,
    /// The dotted path of the value being visited.
    path: &'a mut String,
    cfg: &'a Flattener,
}

impl Sink<'_> {
    fn leaf(&mut self, value: Value) {
        if !self.cfg.projection.keeps(self.path) {
            return;
        }
        match self.fields.get_mut(self.path.as_str()) {
            Some(values) => values.push(value),
            None => {
                let mut values = Values::new();
                values.push(value);
                self.fields.insert(Box::from(self.path.as_str()), values);
            }
        }
    }

    fn null(&mut self) {
        if let Some(v) = self.cfg.null_values.get(self.path.as_str()) {
            let v = v.clone();
            self.leaf(v);
        }
    }
}

/// Visits one JSON value at the sink's current path.
struct Node<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.leaf(Value::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.leaf(Value::Int(v));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        let value = match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(v as f64),
        };
        self.0.leaf(value);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.leaf(Value::Float(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.leaf(Value::str(v));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.0.null();
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.0.null();
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Elements share the array's path: `[1,[2,3]]` and `[{"a":1},{"a":2}]`
        // both append to the same leaf paths, as Elasticsearch indexes them.
        while seq.next_element_seed(Node(&mut *self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        loop {
            let base = self.0.path.len();
            if base > 0 {
                self.0.path.push('.');
            }
            if map.next_key_seed(Key(&mut *self.0.path))?.is_none() {
                self.0.path.truncate(base);
                return Ok(());
            }
            if self.0.cfg.projection.may_contain(self.0.path) {
                map.next_value_seed(Node(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            self.0.path.truncate(base);
        }
    }
}

/// Appends an object key to the path without allocating a `String` for it.
struct Key<'p>(&'p mut String);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Fields;

    #[test]
    fn nested_and_dotted_keys_meet_on_one_path() {
        let a = flatten(r#"{"process":{"name":"x","parent":{"pid":1}}}"#).unwrap();
        let b = flatten(r#"{"process.name":"x","process.parent.pid":1}"#).unwrap();
        let c = flatten(r#"{"process":{"parent.pid":1},"process.name":"x"}"#).unwrap();
        for e in [&a, &b, &c] {
            assert_eq!(e.values("process.name"), &[Value::str("x")]);
            assert_eq!(e.values("process.parent.pid"), &[Value::Int(1)]);
            assert_eq!(e.len(), 2);
        }
    }

    #[test]
    fn projection_skips_unreferenced_fields() {
        let f = Flattener::new().with_projection(Projection::only(["process.name", "host"]));
        let e = f
            .event(r#"{"process":{"name":"x","pid":3},"host":{"os":{"type":"linux"}},"user":"u"}"#)
            .unwrap();
        assert_eq!(e.values("process.name"), &[Value::str("x")]);
        assert_eq!(e.values("host.os.type"), &[Value::str("linux")]);
        assert!(e.values("process.pid").is_empty());
        assert!(e.values("user").is_empty());
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn big_unsigned_numbers_become_floats() {
        let e = flatten(r#"{"a":18446744073709551615,"b":-5,"c":1.5}"#).unwrap();
        assert_eq!(e.values("a"), &[Value::Float(18446744073709551615.0)]);
        assert_eq!(e.values("b"), &[Value::Int(-5)]);
        assert_eq!(e.values("c"), &[Value::Float(1.5)]);
    }
}
