//! A scanned line read lazily: the [`Fields`] of one event, decoded field
//! by field on first read.
//!
//! A [`Record`] is a view over the line's text, the [`RawDoc`] a
//! [`Scanner`](crate::scan::Scanner) filled from it, and their
//! [`FieldCatalog`]. Guarantees:
//! - a field never read costs nothing; a field read once is decoded once
//!   (strings unescaped, numbers parsed exactly as the flattener parses
//!   them) and cached in the `RawDoc` until the next line is scanned;
//! - [`Record::raw_strs`] gives a field's strings as the line's own text
//!   when they have no escapes, without allocating, for prefilters;
//! - [`Record::to_event`] gives the event the flattener gives for the line.

use std::sync::Arc;

use crate::catalog::{FieldCatalog, FieldId};
use crate::event::{Binding, Event, Fields, Values};
use crate::flatten::FieldMap;
use crate::scan::{number_value, unescape, Fallback, RawDoc, Token, TokenKind, Tokens};
use crate::value::Value;

/// The kept fields of one scanned line.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// The line, checked as UTF-8 once here, so values borrowed from it
    /// need no check of their own.
    line: &'a str,
    doc: &'a RawDoc,
    catalog: &'a FieldCatalog,
}

impl<'a> Record<'a> {
    /// A view over `doc`, which the last scan filled from `line` with
    /// `catalog`'s scanner. `Err` when that scan failed or read a line of
    /// another length (so a record never reads spans of the wrong text),
    /// or the line is not UTF-8 (the scan refuses such lines too).
    pub fn new(
        line: &'a [u8],
        doc: &'a RawDoc,
        catalog: &'a FieldCatalog,
    ) -> Result<Record<'a>, Fallback> {
        match doc.scanned_len() {
            Some(len) if len == line.len() => Ok(Record {
                line: simdutf8::basic::from_utf8(line).map_err(|_| Fallback)?,
                doc,
                catalog,
            }),
            _ => Err(Fallback),
        }
    }

    /// The line's text.
    pub fn line(&self) -> &'a [u8] {
        self.line.as_bytes()
    }

    pub fn catalog(&self) -> &'a FieldCatalog {
        self.catalog
    }

    /// The fields with at least one value, in order of their first one.
    pub fn fields(&self) -> &'a [FieldId] {
        self.doc.fields()
    }

    /// A field's tokens (kind and span in [`Record::line`]), in source
    /// order.
    pub fn tokens(&self, id: FieldId) -> Tokens<'a> {
        self.doc.tokens(id)
    }

    /// Whether the field has no value (missing, null, `[]`).
    pub fn is_missing(&self, id: FieldId) -> bool {
        self.doc.is_missing(id)
    }

    /// A field's first value when it is a string written without escapes,
    /// borrowed from the line without decoding the field; `None` for
    /// anything else (no value, an escaped string, a number, a
    /// `null_value`), which [`Record::values_by_id`] reads.
    pub fn first_plain_str(&self, id: FieldId) -> Option<&'a str> {
        let token = self.doc.tokens(id).next()?;
        match token.kind {
            TokenKind::Str => self.line.get(token.span()),
            _ => None,
        }
    }

    /// All values of a field, in source order; decoded on the first call
    /// for this line, then cached.
    pub fn values_by_id(&self, id: FieldId) -> &'a [Value] {
        if self.doc.is_missing(id) {
            return &[];
        }
        match self.doc.cache(id) {
            Some(cell) => cell.get_or_init(|| self.decode(id)),
            None => &[],
        }
    }

    fn decode(&self, id: FieldId) -> Values {
        let mut scratch = String::new();
        self.doc
            .tokens(id)
            .filter_map(|t| self.value(id, t, &mut scratch))
            .collect()
    }

    /// One token's value. `None` only for text a scan did not accept.
    fn value(&self, id: FieldId, token: Token, scratch: &mut String) -> Option<Value> {
        let text = self.line.get(token.span())?;
        Some(match token.kind {
            TokenKind::Str => Value::str(text),
            TokenKind::EscapedStr => {
                unescape(text, scratch)?;
                Value::str(scratch)
            }
            TokenKind::Number => number_value(text.as_bytes())?,
            TokenKind::True => Value::Bool(true),
            TokenKind::False => Value::Bool(false),
            TokenKind::Null => self.catalog.null_value(id)?.clone(),
        })
    }

    /// A field's string values as they stand in the line, in source order:
    /// for a prefilter that looks for literals without building values.
    /// Other values are left out, and so is a `null_value` standing in for
    /// a `null` (it is not text of the line; [`Record::values_by_id`] has
    /// it).
    pub fn raw_strs(&self, id: FieldId) -> RawStrs<'a> {
        RawStrs {
            line: self.line,
            tokens: self.doc.tokens(id),
        }
    }

    /// The event the flattener makes of this line: the decoded kept fields,
    /// with the line as its source. For events that must outlive the line.
    /// `Err` only if the line is not the text that was scanned.
    pub fn to_event(&self) -> Result<Event, Fallback> {
        self.to_event_keeping(None)
    }

    /// As [`Record::to_event`], with only the fields in `keep` (all when
    /// `None`): what a caller holding on to many events needs, without
    /// decoding the rest.
    pub fn to_event_keeping(&self, keep: Option<&[String]>) -> Result<Event, Fallback> {
        let text = self.line;
        let mut fields = FieldMap::default();
        let mut add = |id: FieldId| {
            let values = self.values_by_id(id);
            if !values.is_empty() {
                fields.insert(Box::from(self.catalog.path(id)), Values::from(values));
            }
        };
        match keep {
            None => self.doc.fields().iter().for_each(|&id| add(id)),
            Some(paths) => paths
                .iter()
                .filter_map(|p| self.catalog.lookup(p))
                .for_each(add),
        }
        Ok(self.catalog.flattener().wrap(fields, Arc::from(text)))
    }
}

impl Fields for Record<'_> {
    fn values_bound(&self, path: &str, binding: Binding) -> &[Value] {
        match self.catalog.bound(binding) {
            Some(id) => self.values_by_id(id),
            None => self.values(path),
        }
    }

    fn values(&self, path: &str) -> &[Value] {
        match self.catalog.lookup(path) {
            Some(id) => self.values_by_id(id),
            None => &[],
        }
    }
}

/// The string values of one field, as [`RawStr`]s.
#[derive(Clone, Debug)]
pub struct RawStrs<'a> {
    line: &'a str,
    tokens: Tokens<'a>,
}

impl<'a> Iterator for RawStrs<'a> {
    type Item = RawStr<'a>;

    fn next(&mut self) -> Option<RawStr<'a>> {
        loop {
            let token = self.tokens.next()?;
            let escaped = match token.kind {
                TokenKind::Str => false,
                TokenKind::EscapedStr => true,
                _ => continue,
            };
            if let Some(raw) = self.line.get(token.span()) {
                return Some(RawStr { raw, escaped });
            }
        }
    }
}

/// One string value as written in the line, between its quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawStr<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> RawStr<'a> {
    /// The text as written, escapes included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw.as_bytes()
    }

    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The value itself, borrowed from the line, when it has no escapes.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.escaped {
            false => Some(self.raw),
            true => None,
        }
    }

    /// The value itself: borrowed from the line when it has no escapes,
    /// else unescaped into `scratch` (reuse one buffer for every call).
    pub fn get<'s>(&self, scratch: &'s mut String) -> &'s str
    where
        'a: 's,
    {
        if let Some(s) = self.as_str() {
            return s;
        }
        if unescape(self.raw, scratch).is_none() {
            scratch.clear();
        }
        scratch
    }
}
