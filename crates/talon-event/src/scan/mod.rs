//! One pass over an NDJSON line that notes *where* the kept values are,
//! without building them: the fast path beside [`Flattener`].
//!
//! [`Scanner::scan`] walks one JSON object text and, for every leaf whose
//! flattened path has an id in its [`FieldCatalog`], appends a [`Token`]
//! (kind and byte span) to that id's list in a [`RawDoc`], in source order.
//! Everything else is skipped: strings eight bytes at a time, containers
//! by a validating loop with no recursion. A [`Record`](crate::record)
//! turns tokens into [`Value`](crate::Value)s when, and only when, a field
//! is read.
//!
//! Guarantees:
//! - a line the scanner accepts gives, field by field, exactly the values
//!   `catalog.flattener()` gives it (the flattener with
//!   [`Projection::only`](crate::flatten::Projection::only) over the same
//!   paths and the same `null_value`s);
//! - it never accepts a line the flattener rejects: anything the flattener
//!   would refuse (invalid JSON or UTF-8, nesting past [`MAX_DEPTH`], a key
//!   given twice in an object it looks into, a number out of range, a lone
//!   surrogate, not an object) and anything not worth a fast path (escaped
//!   keys in objects it looks into, leaves below a kept prefix that have no
//!   id) returns [`Fallback`], and the caller runs the flattener on that line
//!   for the exact event or the exact error;
//! - it never panics and always ends: each byte is looked at a bounded
//!   number of times, and recursion is bounded by [`MAX_DEPTH`];
//! - a [`RawDoc`] is reused from line to line without allocating once warm;
//!   clearing it costs the fields the previous line touched, not the size
//!   of the catalog.
//!
//! [`Flattener`]: crate::flatten::Flattener
//! [`MAX_DEPTH`]: crate::flatten::MAX_DEPTH

mod decode;
mod walk;

use std::cell::OnceCell;

use crate::catalog::{FieldCatalog, FieldId};
use crate::event::Values;
use crate::record::Record;

pub(crate) use decode::{number_value, unescape};

/// The line needs the full flattener: it is not valid for the fast path,
/// or not worth handling there. Run `catalog.flattener()` on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the line needs the full flattener")]
pub struct Fallback;

/// What kind of JSON leaf a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A string without backslash escapes: its span is its text.
    Str,
    /// A string with backslash escapes, to be unescaped.
    EscapedStr,
    /// A number, as written.
    Number,
    True,
    False,
    /// An explicit `null` of a field with a `null_value` (other nulls give
    /// no token, as they give no value).
    Null,
}

/// One kept leaf: its kind and where its text is in the line (a string's
/// span excludes the quotes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    start: u32,
    end: u32,
}

impl Token {
    /// The byte range of the token's text in the scanned line.
    pub fn span(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

const NONE: u32 = u32::MAX;

/// A token and the field it belongs to.
#[derive(Clone, Copy, Debug)]
struct Slot {
    token: Token,
    field: u32,
}

/// The tokens of one scanned line, per field, plus the per-field cache of
/// decoded values a [`Record`] fills. Reused from line to line; one per
/// thread (it is `Send`, not `Sync`).
#[derive(Debug, Default)]
pub struct RawDoc {
    /// Every kept token, in source order.
    slots: Vec<Slot>,
    /// Per field: index in `slots` of its first and last token (`NONE`
    /// when it has none). A field's tokens are those between the two that
    /// carry its id: pushing one is a store or two, and a field is read far
    /// less often than a token is pushed.
    ends: Vec<[u32; 2]>,
    /// The fields with at least one token, in order of first token.
    touched: Vec<FieldId>,
    /// Per field: its values, once a record decoded them.
    cache: Vec<OnceCell<Values>>,
    /// The scanner's stack of open arrays and objects, and the key hashes
    /// of the open objects it compares keys in.
    frames: Vec<walk::Frame>,
    keys: Vec<u64>,
    /// Whether the last scan succeeded, and the length of its line.
    scanned: Option<usize>,
}

impl RawDoc {
    pub fn new() -> RawDoc {
        RawDoc::default()
    }

    /// Forgets the previous line and sizes the per-field tables for
    /// `catalog` (allocating only the first time, or for a new catalog).
    fn reset(&mut self, catalog: &FieldCatalog) {
        let n = catalog.len();
        if self.ends.len() != n {
            self.ends = vec![[NONE; 2]; n];
            self.cache = (0..n).map(|_| OnceCell::new()).collect();
        } else {
            for id in &self.touched {
                self.ends[id.index()] = [NONE; 2];
                if self.cache[id.index()].get().is_some() {
                    self.cache[id.index()] = OnceCell::new();
                }
            }
        }
        self.touched.clear();
        self.slots.clear();
        self.frames.clear();
        self.keys.clear();
        self.scanned = None;
    }

    #[inline]
    fn push(&mut self, id: FieldId, kind: TokenKind, start: usize, end: usize) {
        let at = self.slots.len() as u32;
        self.slots.push(Slot {
            token: Token {
                kind,
                start: start as u32,
                end: end as u32,
            },
            field: id.0,
        });
        let Some(ends) = self.ends.get_mut(id.index()) else {
            return;
        };
        if ends[0] == NONE {
            ends[0] = at;
            self.touched.push(id);
        }
        ends[1] = at;
    }

    /// The fields of the last line that have at least one token, in order
    /// of their first one.
    pub fn fields(&self) -> &[FieldId] {
        &self.touched
    }

    /// A field's tokens, in source order.
    pub fn tokens(&self, id: FieldId) -> Tokens<'_> {
        let span = match self.ends.get(id.index()) {
            Some(&[first, last]) if first != NONE => self.slots.get(first as usize..=last as usize),
            _ => None,
        };
        Tokens {
            slots: span.unwrap_or(&[]),
            field: id.0,
        }
    }

    /// Whether the field has no token (missing, null, `[]`).
    pub fn is_missing(&self, id: FieldId) -> bool {
        !matches!(self.ends.get(id.index()), Some(&[f, _]) if f != NONE)
    }

    /// Length of the line the last successful scan read.
    pub(crate) fn scanned_len(&self) -> Option<usize> {
        self.scanned
    }

    pub(crate) fn cache(&self, id: FieldId) -> Option<&OnceCell<Values>> {
        self.cache.get(id.index())
    }
}

/// The tokens of one field, in source order.
#[derive(Clone, Debug)]
pub struct Tokens<'d> {
    slots: &'d [Slot],
    field: u32,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        while let Some((slot, rest)) = self.slots.split_first() {
            self.slots = rest;
            if slot.field == self.field {
                return Some(slot.token);
            }
        }
        None
    }
}

/// Scans lines for the fields of one catalog. Immutable: share it between
/// threads, each with its own [`RawDoc`].
#[derive(Clone, Debug)]
pub struct Scanner {
    catalog: FieldCatalog,
}

impl Scanner {
    pub fn new(catalog: FieldCatalog) -> Scanner {
        Scanner { catalog }
    }

    pub fn catalog(&self) -> &FieldCatalog {
        &self.catalog
    }

    /// Scans one JSON object text (one NDJSON line, with or without its
    /// line end) into `out`. On `Err`, `out` holds nothing usable and the
    /// line must go to `self.catalog().flattener()`.
    pub fn scan(&self, line: &[u8], out: &mut RawDoc) -> Result<(), Fallback> {
        out.reset(&self.catalog);
        if self.catalog.keeps_all() || u32::try_from(line.len()).is_err() {
            return Err(Fallback);
        }
        walk::document(line, &self.catalog, out)?;
        out.scanned = Some(line.len());
        Ok(())
    }

    /// [`Scanner::scan`], then a [`Record`] over the result: the loop body
    /// of a reader.
    ///
    /// ```
    /// use talon_event::catalog::FieldCatalog;
    /// use talon_event::scan::{RawDoc, Scanner};
    /// use talon_event::{Fields, Value};
    ///
    /// let scanner = Scanner::new(FieldCatalog::new(["process.name"]));
    /// let mut doc = RawDoc::new();
    /// let line = br#"{"process":{"name":"bash","pid":7},"message":"hi"}"#;
    /// let record = scanner.read(line, &mut doc).expect("fast path");
    /// assert_eq!(record.values("process.name"), &[Value::str("bash")]);
    /// ```
    pub fn read<'a>(&'a self, line: &'a [u8], doc: &'a mut RawDoc) -> Result<Record<'a>, Fallback> {
        self.scan(line, doc)?;
        Record::new(line, doc, &self.catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Fields;
    use crate::value::Value;

    #[test]
    fn scanner_is_shared_and_docs_move_between_threads() {
        fn send<T: Send>() {}
        fn sync<T: Sync>() {}
        send::<RawDoc>();
        sync::<Scanner>();
        sync::<FieldCatalog>();
    }

    #[test]
    fn a_reused_doc_holds_only_the_last_line() {
        let scanner = Scanner::new(FieldCatalog::new(["a", "b"]));
        let (a, b) = (FieldId(0), FieldId(1));
        let mut doc = RawDoc::new();
        scanner
            .scan(br#"{"a":[1,2],"b":"x"}"#, &mut doc)
            .expect("fast path");
        assert_eq!(doc.fields(), &[a, b]);
        assert_eq!(doc.tokens(a).count(), 2);
        scanner
            .scan(br#"{"b":"y","a":3}"#, &mut doc)
            .expect("fast path");
        assert_eq!(doc.fields(), &[b, a]);
        let kinds: Vec<TokenKind> = doc.tokens(a).map(|t| t.kind).collect();
        assert_eq!(kinds, [TokenKind::Number]);
        assert_eq!(scanner.scan(b"{", &mut doc), Err(Fallback));
        assert!(doc.fields().is_empty() && doc.is_missing(a));
    }

    #[test]
    fn an_object_with_very_many_keys_is_left_to_the_flattener() {
        // Comparing each key with every earlier one was quadratic: 300,000
        // keys took minutes. Past a few hundred the flattener, which keeps
        // a map, takes the line, and finds a repeat anywhere in it.
        let scanner = Scanner::new(FieldCatalog::new(["a"]));
        let mut doc = RawDoc::new();
        let few: Vec<String> = (0..100).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let line = format!(r#"{{{},"a":1}}"#, few.join(","));
        scanner.scan(line.as_bytes(), &mut doc).expect("fast path");
        let many: Vec<String> = (0..20_000).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let line = format!(r#"{{{},"a":1}}"#, many.join(","));
        assert_eq!(scanner.scan(line.as_bytes(), &mut doc), Err(Fallback));
    }

    #[test]
    fn a_record_reads_only_the_line_that_was_scanned() {
        let scanner = Scanner::new(FieldCatalog::new(["a"]));
        let mut doc = RawDoc::new();
        let line = br#"{"a":"x"}"#;
        scanner.scan(line, &mut doc).expect("fast path");
        assert!(Record::new(br#"{"a":"xy"}"#, &doc, scanner.catalog()).is_err());
        // Text of the same length that is not UTF-8 is refused too: the
        // record checks its line once, then lends out pieces of it.
        assert!(Record::new(b"{\"a\":\"\xff\"}", &doc, scanner.catalog()).is_err());
        let record = Record::new(line, &doc, scanner.catalog()).expect("same line");
        assert_eq!(record.values("a"), &[Value::str("x")]);
        assert_eq!(scanner.scan(b"[]", &mut doc), Err(Fallback));
        assert!(Record::new(b"[]", &doc, scanner.catalog()).is_err());
    }

    #[test]
    fn raw_strings_borrow_the_line_unless_escaped() {
        let scanner = Scanner::new(FieldCatalog::new(["s"]));
        let mut doc = RawDoc::new();
        let line = br#"{"s":["plain","tab\there",7]}"#;
        let record = scanner.read(line, &mut doc).expect("fast path");
        let id = FieldId(0);
        let raws: Vec<_> = record.raw_strs(id).collect();
        assert_eq!(raws.len(), 2);
        assert_eq!(raws[0].as_str(), Some("plain"));
        assert_eq!(raws[1].as_str(), None);
        assert_eq!(raws[1].raw(), br"tab\there");
        let mut scratch = String::new();
        assert_eq!(raws[1].get(&mut scratch), "tab\there");
        assert_eq!(record.values_by_id(id).len(), 3);
    }
}
