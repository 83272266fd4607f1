//! A flattened event and where it came from.
//!
//! Flattening happens once, when the event is read: nested objects and dotted
//! keys (`{"process": {"name": ..}}` and `{"process.name": ..}`) land on the
//! same path, arrays append to their path (arrays of objects too), and nulls
//! are dropped. Lookups afterwards are a single hash probe and never allocate.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::value::Value;

/// The values of one field: usually one, several for a multi-valued field.
pub type Values = SmallVec<[Value; 1]>;

/// Read access to an event's fields by dotted path.
///
/// The EQL evaluator is written against this trait, so anything that can
/// answer "what values does field X have" can be searched.
pub trait Fields {
    /// All values of the field, in source order; empty when the field is
    /// missing, null or an empty array.
    fn values(&self, path: &str) -> &[Value];

    /// As [`Fields::values`], for a path that may also be known by number
    /// in a [`FieldCatalog`](crate::catalog::FieldCatalog): an event read
    /// through that same catalog answers without looking the path up.
    fn values_bound(&self, path: &str, binding: Binding) -> &[Value] {
        let _ = binding;
        self.values(path)
    }
}

/// A field path's number in one [`FieldCatalog`](crate::catalog::FieldCatalog)
/// (told apart from others by its tag); [`Binding::NONE`] when unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Binding {
    /// The catalog's tag; 0 for none.
    pub catalog: u64,
    pub id: u32,
}

impl Binding {
    /// Bound to no catalog.
    pub const NONE: Binding = Binding { catalog: 0, id: 0 };
}

/// Where an event was read from, for error messages and `_id`-less events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file name as given by the user (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line of the event's first byte.
    pub line: u64,
}

impl std::fmt::Display for Origin {
    /// `file:line`, as messages name a place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One event: its flattened fields, its original JSON, and its metadata.
#[derive(Clone, Debug, Default)]
pub struct Event {
    fields: FxHashMap<Box<str>, Values>,
    /// The event document exactly as read (the `_source` of a search hit).
    source: Arc<str>,
    /// The index the event belongs to (`_index`, data stream, or `--index`).
    pub index: Option<Arc<str>>,
    /// The document id (`_id`), when the input had one.
    pub id: Option<Arc<str>>,
    /// Where the event was read from.
    pub origin: Origin,
    /// Position in the input stream (0-based), a stable final tiebreaker.
    pub seq: u64,
    /// Every field value was read from `source` as written there (no
    /// `null_value` stood in, nothing was set afterwards).
    from_source: bool,
}

impl Event {
    /// An event from already flattened fields and its source text.
    pub fn new(fields: FxHashMap<Box<str>, Values>, source: Arc<str>) -> Event {
        Event {
            fields,
            source,
            ..Event::default()
        }
    }

    /// An event whose fields were all flattened from `source` itself.
    pub fn from_source(fields: FxHashMap<Box<str>, Values>, source: Arc<str>) -> Event {
        Event {
            fields,
            source,
            from_source: true,
            ..Event::default()
        }
    }

    /// Whether every field value is written in [`Event::source`] (so a
    /// value a test needs is text the source contains). Any change to the
    /// fields clears it.
    pub fn fields_from_source(&self) -> bool {
        self.from_source
    }

    /// A copy with only the given fields (and the same source text,
    /// index, id, origin and position), for holding on to many events.
    pub fn slim(&self, keep: &[impl AsRef<str>]) -> Event {
        let mut fields = FxHashMap::default();
        for k in keep {
            if let Some((key, v)) = self.fields.get_key_value(k.as_ref()) {
                fields.insert(key.clone(), v.clone());
            }
        }
        Event {
            fields,
            source: Arc::clone(&self.source),
            index: self.index.clone(),
            id: self.id.clone(),
            origin: self.origin.clone(),
            seq: self.seq,
            from_source: self.from_source,
        }
    }

    /// The original JSON document text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A shared handle on the original JSON text.
    pub fn source_arc(&self) -> &Arc<str> {
        &self.source
    }

    /// The first value of a field, if any.
    pub fn first(&self, path: &str) -> Option<&Value> {
        self.values(path).first()
    }

    /// The first value of a field as a string, if it is one.
    pub fn first_str(&self, path: &str) -> Option<&str> {
        self.first(path).and_then(Value::as_str)
    }

    /// Iterates over every field and its values (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.fields.iter().map(|(k, v)| (&**k, v.as_slice()))
    }

    /// Number of distinct leaf fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Sets (replaces) a field's values; used by readers and normalizers.
    pub fn set(&mut self, path: &str, values: Values) {
        self.from_source = false;
        if values.is_empty() {
            self.fields.remove(path);
        } else {
            self.fields.insert(path.into(), values);
        }
    }

    /// Appends one value to a field.
    pub fn push(&mut self, path: &str, value: Value) {
        if value.is_null() {
            return;
        }
        self.from_source = false;
        match self.fields.get_mut(path) {
            Some(v) => v.push(value),
            None => {
                let mut v = Values::new();
                v.push(value);
                self.fields.insert(path.into(), v);
            }
        }
    }
}

impl Fields for Event {
    fn values(&self, path: &str) -> &[Value] {
        match self.fields.get(path) {
            Some(v) => v.as_slice(),
            None => &[],
        }
    }
}
