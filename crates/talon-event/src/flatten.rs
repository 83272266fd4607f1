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
//! skipped sub-trees are scanned without allocating.
//!
//! Every document is held to the same rules whatever the projection:
//! - a number out of an `f64`'s range or a `\u` surrogate escape without
//!   its pair is an error also inside a skipped sub-tree (serde_json checks
//!   only the syntax of what it skips; a sub-tree that may hold one is
//!   parsed, without keeping anything);
//! - nesting deeper than serde_json's limit ([`MAX_DEPTH`] open arrays and
//!   objects) is an error, also inside a skipped sub-tree (serde_json itself
//!   checks only the values it visits), so a projected read and a full one
//!   reject the same documents with the same message;
//! - a key given twice in one object is an error ([`FlattenError::DuplicateKey`]),
//!   as Elasticsearch rejects such documents ("Duplicate field") since 6.0.
//!   Keys are compared per object by hash; only a hash match pays for an
//!   exact second look. Inside a sub-tree a projection skips, keys are not
//!   compared (that would mean parsing what the projection exists to skip).

use std::fmt;
use std::sync::Arc;

use std::hash::{BuildHasher, BuildHasherDefault};

use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde::de::{
    Deserialize, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::value::RawValue;
use smallvec::SmallVec;

use crate::event::{Event, Values};
use crate::json_text::{Byte, Strings};
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

    /// The paths kept, in no particular order; `None` when every field is.
    pub fn paths(&self) -> Option<Vec<&str>> {
        (!self.all).then(|| self.keep.iter().map(|p| &**p).collect())
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
    /// One object holds the same key twice; `path` is the key's dotted path,
    /// `line` and `column` (1-based, within the text) where the second one
    /// ends.
    #[error("duplicate key `{path}` at line {line} column {column}")]
    DuplicateKey {
        path: String,
        line: usize,
        column: usize,
    },
}

/// The most arrays and objects open at once that a document may have:
/// serde_json fails on the 128th, and so does every read here, projected
/// or not.
pub const MAX_DEPTH: usize = 127;

/// Where `text` (JSON, or the start of it) opens more than `allowed`
/// arrays and objects at once: the byte offset of the bracket that passes
/// the limit. Brackets inside strings do not count. Linear, and it stops
/// at that bracket; a text with fewer brackets than `allowed` is not even
/// scanned for strings.
pub fn depth_overflow(text: &[u8], allowed: usize) -> Option<usize> {
    if memchr::memchr2_iter(b'[', b'{', text).count() <= allowed {
        return None;
    }
    let (mut depth, mut strings) = (0usize, Strings::default());
    for (i, &b) in text.iter().enumerate() {
        if strings.step(b) != Byte::Outside {
            continue;
        }
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > allowed {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
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

    /// The `null_value`s indexed in place of explicit nulls, by path.
    pub fn null_values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.null_values.iter().map(|(k, v)| (&**k, v))
    }

    /// Flattens one JSON object into its fields.
    ///
    /// A document this flattener refuses is refused with the error a read
    /// of every field gives (the first fault in the text, with its
    /// position): a projected read skips parts as serde_json skips them,
    /// and may stumble on a later fault first, or name it otherwise.
    pub fn fields(&self, text: &str) -> Result<FieldMap, FlattenError> {
        match self.projected_fields(text) {
            Err(e) if !self.projection.is_all() => {
                Err(Flattener::default().fields(text).err().unwrap_or(e))
            }
            read => read,
        }
    }

    /// [`Flattener::fields`] with this flattener's projection, errors as
    /// it meets them.
    fn projected_fields(&self, text: &str) -> Result<FieldMap, FlattenError> {
        let first = text.bytes().find(|b| !b.is_ascii_whitespace());
        if first != Some(b'{') {
            // Tell "valid but not an object" apart from "not JSON at all".
            serde_json::from_str::<IgnoredAny>(text)?;
            return Err(FlattenError::NotAnObject);
        }
        match self.walk(text, true) {
            // A skipped sub-tree too deep, or holding what a read refuses:
            // `fields` asks a read of every field for its error.
            Err(stop @ (Stop::Deep | Stop::Refused)) => Err(stop.into_error()),
            Err(Stop::MaybeDuplicate) => match find_duplicate_key(text) {
                Some(dup) => Err(dup),
                // Two keys with the same hash, not the same key.
                None => self.walk(text, false).map_err(Stop::into_error),
            },
            other => other.map_err(Stop::into_error),
        }
    }

    /// One pass over `text`, comparing keys per object when `check_keys`.
    fn walk(&self, text: &str, check_keys: bool) -> Result<FieldMap, Stop> {
        let mut fields = FieldMap::default();
        let mut path = String::with_capacity(64);
        let mut de = serde_json::Deserializer::from_str(text);
        let mut sink = Sink {
            fields: &mut fields,
            path: &mut path,
            cfg: self,
            depth: 0,
            check_keys,
            stop: None,
        };
        let walked = Node(&mut sink).deserialize(&mut de);
        if let Some(stop) = sink.stop.take() {
            return Err(stop);
        }
        walked.map_err(Stop::Json)?;
        de.end().map_err(Stop::Json)?;
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

/// Why a walk stopped early.
enum Stop {
    Json(serde_json::Error),
    /// A skipped sub-tree nests deeper than [`MAX_DEPTH`].
    Deep,
    /// Two keys of one object have the same hash.
    MaybeDuplicate,
    /// A skipped sub-tree holds a number out of an `f64`'s range or a
    /// surrogate escape without its pair, which a read refuses.
    Refused,
}

impl Stop {
    fn into_error(self) -> FlattenError {
        match self {
            Stop::Json(e) => FlattenError::Json(e),
            Stop::Deep | Stop::MaybeDuplicate => {
                FlattenError::Json(serde_json::Error::custom("recursion limit exceeded"))
            }
            Stop::Refused => FlattenError::Json(serde_json::Error::custom(
                "number out of range or unpaired surrogate",
            )),
        }
    }
}

/// Where leaves are written while walking one document.
struct Sink<'a> {
    fields: &'a mut FieldMap,
    /// The dotted path of the value being visited.
    path: &'a mut String,
    cfg: &'a Flattener,
    /// Arrays and objects open around the value being visited.
    depth: usize,
    /// Compare the keys of each object.
    check_keys: bool,
    /// Set, with an error returned to unwind, when the walk must stop for a
    /// reason that is not the parser's.
    stop: Option<Stop>,
}

/// Hashes of the keys of one object seen so far: a short list, then a set.
#[derive(Default)]
struct SeenKeys {
    few: SmallVec<[u64; 16]>,
    many: FxHashSet<u64>,
}

impl SeenKeys {
    /// False when a key with this hash was seen before.
    fn insert(&mut self, hash: u64) -> bool {
        if self.many.is_empty() {
            if self.few.contains(&hash) {
                return false;
            }
            if self.few.len() < self.few.inline_size() {
                self.few.push(hash);
                return true;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(hash)
    }
}

fn key_hash(key: &str) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(key)
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
        self.0.depth += 1;
        while seq.next_element_seed(Node(&mut *self.0))?.is_some() {}
        self.0.depth -= 1;
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.depth += 1;
        let mut seen = SeenKeys::default();
        loop {
            let base = self.0.path.len();
            let key_start = if base > 0 {
                self.0.path.push('.');
                base + 1
            } else {
                0
            };
            if map.next_key_seed(Key(&mut *self.0.path))?.is_none() {
                self.0.path.truncate(base);
                self.0.depth -= 1;
                return Ok(());
            }
            if self.0.check_keys && !seen.insert(key_hash(&self.0.path[key_start..])) {
                self.0.stop = Some(Stop::MaybeDuplicate);
                return Err(A::Error::custom("duplicate key"));
            }
            if self.0.cfg.projection.may_contain(self.0.path) {
                map.next_value_seed(Node(&mut *self.0))?;
            } else {
                // serde_json does not count the depth of what it skips.
                let raw: &RawValue = map.next_value()?;
                let allowed = MAX_DEPTH.saturating_sub(self.0.depth);
                if depth_overflow(raw.get().as_bytes(), allowed).is_some() {
                    self.0.stop = Some(Stop::Deep);
                    return Err(A::Error::custom("recursion limit exceeded"));
                }
                // serde_json checks the syntax of what it skips, not the
                // range of its numbers nor the pairing of its surrogates:
                // those are checked here, so that whether a document is
                // refused does not depend on which fields are read.
                if may_be_refused(raw.get().as_bytes())
                    && serde_json::from_str::<Checked>(raw.get()).is_err()
                {
                    self.0.stop = Some(Stop::Refused);
                    return Err(A::Error::custom("refused value"));
                }
            }
            self.0.path.truncate(base);
        }
    }
}

/// Whether `raw` (valid JSON) may hold what a read refuses and serde_json's
/// skipping lets by: a `\u` escape in a string (a surrogate may be
/// unpaired), or a number with an exponent or over 300 digits (it may
/// overflow an `f64`). Only then is it parsed ([`Checked`]). Inside
/// strings only escapes count, so ids and hashes (`"3e5a…"`) cost no
/// parse.
fn may_be_refused(raw: &[u8]) -> bool {
    let (mut in_string, mut digits, mut i) = (false, 0usize, 0);
    while let Some(&b) = raw.get(i) {
        match (in_string, b) {
            (true, b'\\') => {
                if raw.get(i + 1) == Some(&b'u') {
                    return true;
                }
                i += 1;
            }
            (true, b'"') => in_string = false,
            (true, _) => {}
            (false, b'"') => in_string = true,
            (false, b'0'..=b'9') => {
                digits += 1;
                if digits > 300 {
                    return true;
                }
            }
            (false, b'e' | b'E') if digits > 0 => return true,
            (false, b'.') => {}
            (false, _) => digits = 0,
        }
        i += 1;
    }
    false
}

/// Any JSON value, parsed as a read parses it (numbers converted, strings
/// unescaped) and then dropped: the check of a skipped sub-tree.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Checked, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// The first key given twice in one object of `text`, compared exactly
/// (the slow second look after two hashes matched). Nesting is bounded by
/// serde_json's limit, as in the walk.
fn find_duplicate_key(text: &str) -> Option<FlattenError> {
    struct Dup<'p>(&'p mut String);
    impl<'de> DeserializeSeed<'de> for Dup<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Dup<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Dup(&mut *self.0))?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut keys: FxHashSet<String> = FxHashSet::default();
            while let Some(key) = map.next_key::<String>()? {
                let base = self.0.len();
                if base > 0 {
                    self.0.push('.');
                }
                self.0.push_str(&key);
                if !keys.insert(key) {
                    return Err(A::Error::custom(DUPLICATE));
                }
                map.next_value_seed(Dup(&mut *self.0))?;
                self.0.truncate(base);
            }
            Ok(())
        }
    }
    const DUPLICATE: &str = "\u{0}duplicate";
    let mut path = String::new();
    let mut de = serde_json::Deserializer::from_str(text);
    match Dup(&mut path).deserialize(&mut de) {
        Err(e) if e.to_string().starts_with(DUPLICATE) => Some(FlattenError::DuplicateKey {
            path,
            line: e.line(),
            column: e.column(),
        }),
        _ => None,
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

    /// A projected read refuses what a full one does, with the same
    /// message, even in a field it skips; and lets by what looks like it
    /// but is not (an exponent in range, a paired surrogate, `\\u`).
    #[test]
    fn skipped_fields_are_refused_as_read_ones() {
        let projected = Flattener::new().with_projection(Projection::only(["a"]));
        for bad in [
            r#"{"a":1,"z":1e999}"#,
            r#"{"a":1,"z":[{"y":-1E400}]}"#,
            r#"{"a":1,"z":"\udc00x"}"#,
            r#"{"a":1,"z":{"\ud800":2}}"#,
            // The first fault, not a later one, and named as a read of
            // every field names it.
            "{\"o\":\"a\tb\" x,\"a\":1}",
            r#"{"o":[1,],"a":1}"#,
            r#"{"a":1,"o":{"b":1,}}"#,
            r#"{"o":{"\ud800":1 x},"a":1}"#,
            r#"{"o":[1e999,x],"a":1}"#,
            r#"{"o":["\ud800", x],"a":1}"#,
            r#"{"a":1,"other":"\ud800}"#,
        ] {
            let full = flatten(bad).expect_err(bad).to_string();
            let skipped = projected.event(bad).expect_err(bad).to_string();
            assert_eq!(skipped, full, "{bad}");
        }
        for good in [
            r#"{"a":1,"z":[1e300,"3e5","\ud83d\ude00","\\u12"]}"#,
            r#"{"a":1,"z":1.5E-3}"#,
        ] {
            assert_eq!(projected.event(good).expect(good).len(), 1, "{good}");
        }
        assert!(may_be_refused(br#"[1e5]"#) && may_be_refused(br#""\u0041""#));
        assert!(!may_be_refused(br#"{"name":"e","n":[1,2.5]}"#));
        // In a string, only an escape: not a hash's `3e5`, nor `\\u`.
        assert!(!may_be_refused(br#"{"sha":"3e5a9","p":"C:\\u"}"#));
    }

    #[test]
    fn big_unsigned_numbers_become_floats() {
        let e = flatten(r#"{"a":18446744073709551615,"b":-5,"c":1.5}"#).unwrap();
        assert_eq!(e.values("a"), &[Value::Float(18446744073709551615.0)]);
        assert_eq!(e.values("b"), &[Value::Int(-5)]);
        assert_eq!(e.values("c"), &[Value::Float(1.5)]);
    }
}
