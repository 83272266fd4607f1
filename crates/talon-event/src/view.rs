//! [`EventView`]: an event as the engine reads it while deciding what
//! matches, whether it is an owned [`Event`] or a borrowed view over the
//! line it was read from.
//!
//! The engine only ever needs an event's fields, its index, its position
//! in the input and, for the rare event that must outlive the moment (an
//! alert, a sequence waiting on it), an owned copy. Keeping that behind
//! one trait lets a reader hand over events without building a field map
//! for each, and lets the engine stay the same for every kind of input.

use std::sync::Arc;

use crate::event::{Binding, Event, Fields, Origin};
use crate::value::Value;

/// Read access to one event during evaluation.
pub trait EventView: Fields {
    /// The index the event belongs to.
    fn index(&self) -> Option<&Arc<str>>;

    /// The event's position in the input stream (0-based).
    fn seq(&self) -> u64;

    /// Calls `f` with each string value of the field, in source order,
    /// without allocating where the view can avoid it. Values that are not
    /// strings are left out.
    fn for_each_str(&self, path: &str, f: &mut dyn FnMut(&str)) {
        for v in self.values(path) {
            if let Value::Str(s) = v {
                f(s);
            }
        }
    }

    /// As [`EventView::for_each_str`], for a path perhaps known by number
    /// (see [`Fields::values_bound`]).
    fn for_each_str_bound(&self, path: &str, binding: Binding, f: &mut dyn FnMut(&str)) {
        let _ = binding;
        self.for_each_str(path, f)
    }

    /// Whether a field below `path` (an object: `process` for
    /// `process.name`) has a value: what an `exists` query on an object
    /// field asks beside the field's own values.
    fn has_values_below(&self, path: &str) -> bool;

    /// An owned copy of the event; with `keep`, only those fields (and
    /// the same source text, index, id, origin and position).
    fn to_event(&self, keep: Option<&[String]>) -> Event;

    /// Where the event was read (file and line), without copying it.
    fn origin(&self) -> Origin;
}

impl EventView for Event {
    fn index(&self) -> Option<&Arc<str>> {
        self.index.as_ref()
    }

    fn seq(&self) -> u64 {
        self.seq
    }

    fn has_values_below(&self, path: &str) -> bool {
        self.iter().any(|(k, v)| !v.is_empty() && is_below(k, path))
    }

    fn to_event(&self, keep: Option<&[String]>) -> Event {
        match keep {
            Some(fields) => self.slim(fields),
            None => self.clone(),
        }
    }

    fn origin(&self) -> Origin {
        self.origin.clone()
    }
}

/// Whether `field` is a dotted path below `path` (`process.name` below
/// `process`).
pub fn is_below(field: &str, path: &str) -> bool {
    field.len() > path.len() + 1
        && field.starts_with(path)
        && field.as_bytes().get(path.len()) == Some(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Values;

    #[test]
    fn an_event_lists_only_its_string_values() {
        let mut e = Event::default();
        let mut vals = Values::new();
        vals.push(Value::str("a"));
        vals.push(Value::Int(3));
        vals.push(Value::str("b"));
        e.set("x", vals);
        let mut seen = Vec::new();
        e.for_each_str("x", &mut |s| seen.push(s.to_string()));
        assert_eq!(seen, ["a", "b"]);
        let mut none = 0;
        e.for_each_str("missing", &mut |_| none += 1);
        assert_eq!(none, 0);
    }
}
