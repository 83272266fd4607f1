//! One JSON document of an input → zero or more events.
//!
//! A document is whatever one line (NDJSON) or one framed value holds. It is
//! recognised by shape, not by file name:
//! - a search or scroll response: `hits.hits[]` (also an EQL response's
//!   `hits.events[]` and `hits.sequences[].events[]`) → one event per hit;
//! - a bare hit: an object with `_source` → its `_source`;
//! - a Kibana esArchiver record `{"type":"doc","value":{"id","index","source"}}`
//!   → its `source` (index records are reported, not read as events);
//! - an Elastic integrations pipeline-test file, `{"events":[...]}` or
//!   `{"expected":[...]}` as its only key → each element;
//! - an array → each element; any other object → one event.
//!
//! Only documents whose text mentions one of those marker keys are probed,
//! so a plain event is parsed exactly once.
//!
//! A search response cut short (a dump interrupted, a file copied half-way)
//! still yields its complete hits, followed by one `Truncated` issue where
//! the first incomplete hit starts.
//!
//! Each event's index is, in order: the forced index, the hit's `_index` (or
//! the record's `index`), else `data_stream.type-dataset-namespace` when all
//! three are present.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use memchr::memmem;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::{Event, Fields};
use crate::flatten::{depth_overflow, FlattenError, Flattener, MAX_DEPTH};
use crate::json_text::{lone_surrogates_replaced, Byte, Strings};
use crate::read::issue::{ReadIssue, SkipReason};

/// Events and issues produced from the documents read so far, in order.
pub(crate) type Out = VecDeque<Result<Event, ReadIssue>>;

/// A 1-based line and byte column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: u64,
    pub col: u64,
}

impl Pos {
    /// The position of byte `offset` of `text`, where `text` starts here.
    fn advance(self, text: &str, offset: usize) -> Pos {
        self.advance_bytes(text.as_bytes(), offset)
    }

    fn advance_bytes(self, text: &[u8], offset: usize) -> Pos {
        let head = &text[..offset.min(text.len())];
        match memchr::memrchr(b'\n', head) {
            None => Pos {
                line: self.line,
                col: self.col + offset as u64,
            },
            Some(last) => {
                let newlines = memchr::memchr_iter(b'\n', head).count() as u64;
                Pos {
                    line: self.line + newlines,
                    col: (head.len() - last) as u64,
                }
            }
        }
    }

    /// The position of `inner`, a slice borrowed from `outer` (which starts
    /// here); falls back to this position if it is not a sub-slice.
    fn of_slice(self, outer: &str, inner: &str) -> Pos {
        Positions::new(outer, self).of(inner)
    }

    /// Where a serde_json error inside `text` (which starts here) points.
    /// serde_json gives column 0 to an error found at a line's end (its
    /// newline consumed, as for `"b": tru` then a newline): that is the
    /// newline's place on the line before, not the next line's start.
    fn of_error(self, text: &str, err: &serde_json::Error) -> Pos {
        if err.column() == 0 && err.line() >= 2 {
            let nl = memchr::memchr_iter(b'\n', text.as_bytes()).nth(err.line() - 2);
            if let Some(nl) = nl {
                return self.advance(text, nl);
            }
        }
        match err.line() {
            0 => self,
            1 => Pos {
                line: self.line,
                col: self.col + err.column().saturating_sub(1) as u64,
            },
            l => Pos {
                line: self.line + l as u64 - 1,
                col: err.column() as u64,
            },
        }
    }
}

/// A serde_json error message without its own " at line L column C" suffix,
/// since issues carry the position in the file instead.
pub(crate) fn json_message(err: &serde_json::Error) -> String {
    let s = err.to_string();
    match s.rfind(" at line ") {
        Some(i) if err.line() != 0 => s[..i].to_string(),
        _ => s,
    }
}

/// The start of a text, for messages about text that is not JSON.
pub(crate) fn preview(text: &str) -> String {
    const MAX: usize = 40;
    let t = text.trim();
    match t.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// The positions of slices of one text, in order: each is found from the
/// one before, reading only the bytes between them, so the hits of a
/// search response cost time in proportion to its size. (Counting from
/// the text's start for each hit made a response of 20,000 hits take a
/// minute.) A slice before the last one asked for is counted from the
/// start.
struct Positions<'t> {
    text: &'t str,
    start: Pos,
    /// The last offset asked for, and its position.
    at: usize,
    pos: Pos,
}

impl<'t> Positions<'t> {
    fn new(text: &'t str, start: Pos) -> Positions<'t> {
        Positions {
            text,
            start,
            at: 0,
            pos: start,
        }
    }

    /// The position of `inner`, a slice borrowed from the text; the
    /// text's start if it is not one.
    fn of(&mut self, inner: &str) -> Pos {
        let base = self.text.as_ptr() as usize;
        let at = inner.as_ptr() as usize;
        if at < base || at > base + self.text.len() {
            return self.start;
        }
        let offset = at - base;
        if offset < self.at {
            (self.at, self.pos) = (0, self.start);
        }
        let bytes = &self.text.as_bytes()[self.at..];
        self.pos = self.pos.advance_bytes(bytes, offset - self.at);
        self.at = offset;
        self.pos
    }
}

/// Turns documents of one input into events.
pub(crate) struct DocReader<'a> {
    pub flattener: &'a Flattener,
    pub forced_index: Option<&'a Arc<str>>,
    pub file: &'a Arc<str>,
}

impl DocReader<'_> {
    fn issue(&self, pos: Pos, reason: SkipReason, message: impl Into<String>) -> ReadIssue {
        ReadIssue::new(self.file, pos.line, pos.col, reason, message)
    }

    /// The issue for `err`, met parsing `text`, which starts at `pos`.
    pub(crate) fn json_issue(&self, text: &str, pos: Pos, err: &serde_json::Error) -> ReadIssue {
        self.issue(
            pos.of_error(text, err),
            SkipReason::InvalidJson,
            json_message(err),
        )
    }

    /// Reads one document whose first byte is at `pos`. A document that
    /// gives neither an event nor an issue (`[]`, a response without hits)
    /// is an [`SkipReason::Empty`] issue, so that every line is counted.
    pub fn document(&self, text: &str, pos: Pos, out: &mut Out) {
        let before = out.len();
        // The scanner's fast path refuses such a text and comes here.
        match lone_surrogates_replaced(text) {
            Some(text) => self.document_in(&text, pos, out, false),
            None => self.document_in(text, pos, out, false),
        }
        let body = text.trim_start();
        if out.len() == before && !body.is_empty() {
            let what = match body.starts_with('[') {
                true => "an empty array holds no event",
                false => "a response without hits holds no event",
            };
            out.push_back(Err(self.issue(
                pos.advance(text, text.len() - body.len()),
                SkipReason::Empty,
                what,
            )));
        }
    }

    /// [`DocReader::document`]; `depth_checked` when the text is part of an
    /// array already known to nest no deeper than the limit.
    fn document_in(&self, text: &str, pos: Pos, out: &mut Out, depth_checked: bool) {
        let lead = text.len() - text.trim_start().len();
        let body = &text[lead..];
        let pos = pos.advance(text, lead);
        match body.as_bytes().first() {
            None => {}
            Some(b'{') => self.object(body, pos, out),
            Some(b'[') if array_may_be_json(body.as_bytes()) => {
                self.array(body, pos, out, depth_checked)
            }
            Some(_) => match serde_json::from_str::<IgnoredAny>(body) {
                Ok(_) => out.push_back(Err(self.issue(
                    pos,
                    SkipReason::NotAnObject,
                    format!("a JSON {} is not an event", scalar_kind(body)),
                ))),
                Err(_) => out.push_back(Err(self.issue(
                    pos,
                    SkipReason::NotJson,
                    format!("not JSON: {}", preview(body)),
                ))),
            },
        }
    }

    /// An array of documents (possibly of arrays of documents). serde_json
    /// does not count the depth of the raw elements it splits the array
    /// into, and each nested array is unwrapped by recursion, so the whole
    /// text's nesting is checked first, once, in one linear pass that stops
    /// at the bracket passing the limit: such a document is invalid JSON
    /// here as it is for serde_json, wherever the nesting is.
    fn array(&self, text: &str, pos: Pos, out: &mut Out, depth_checked: bool) {
        if !depth_checked {
            if let Some(at) = depth_overflow(text.as_bytes(), MAX_DEPTH) {
                out.push_back(Err(self.issue(
                    pos.advance(text, at),
                    SkipReason::InvalidJson,
                    "recursion limit exceeded",
                )));
                return;
            }
        }
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) => {
                let mut at = Positions::new(text, pos);
                for item in items {
                    self.document_in(item.get(), at.of(item.get()), out, true);
                }
            }
            Err(e) => self.broken_array(text, pos, &e, out),
        }
    }

    /// An array that is not valid JSON as a whole (a stray element, as in
    /// `[{..}, junk, {..}]` on one line): its elements, split at the commas
    /// outside strings and brackets, are read one by one, so one bad
    /// element costs only itself. When every element reads, the array's
    /// own error (a trailing comma, text after `]`) is the issue.
    fn broken_array(&self, text: &str, pos: Pos, err: &serde_json::Error, out: &mut Out) {
        let before = out.len();
        let bytes = text.as_bytes();
        let (mut strings, mut depth, mut start) = (Strings::default(), 0usize, 1usize);
        let mut closed = None;
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            if strings.step(b) != Byte::Outside {
                continue;
            }
            match b {
                b'{' | b'[' => depth += 1,
                b'}' | b']' if depth > 0 => depth -= 1,
                b']' | b',' if depth == 0 => {
                    let piece = &text[start..i];
                    if !piece.trim().is_empty() {
                        self.document_in(piece, pos.advance(text, start), out, true);
                    }
                    start = i + 1;
                    if b == b']' {
                        closed = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let clean = out.iter().skip(before).all(Result::is_ok);
        let rest_empty = closed.is_some_and(|i| text[i + 1..].trim().is_empty());
        if clean || !rest_empty {
            out.push_back(Err(self.json_issue(text, pos, err)));
        }
    }

    fn object(&self, text: &str, pos: Pos, out: &mut Out) {
        if may_be_wrapped(text) {
            match serde_json::from_str::<TopKeys>(text) {
                Ok(keys) => {
                    if self.wrapped(&keys, text, pos, out) {
                        return;
                    }
                }
                Err(e) => {
                    // A scroll dump's last line cut mid-write.
                    if !(e.is_eof() && self.cut_response(text, pos, "end of line", out)) {
                        out.push_back(Err(self.json_issue(text, pos, &e)));
                    }
                    return;
                }
            }
        }
        out.push_back(self.event(text, text, pos, None, None));
    }

    /// A framed document that `until` cut (the end of input, or another
    /// document) before it closed: a search response gives its complete
    /// hits ([`DocReader::cut_response`]); otherwise a JSON error before
    /// the cut says best what is wrong (a string left open at a line's end
    /// made the rest look like string text, and the document never close).
    /// False when neither applies: the caller reports the cut.
    pub fn cut_document(&self, text: &str, pos: Pos, until: &str, out: &mut Out) -> bool {
        if self.cut_response(text, pos, until, out) {
            return true;
        }
        match serde_json::from_str::<IgnoredAny>(text) {
            Err(e) if !e.is_eof() => {
                out.push_back(Err(self.json_issue(text, pos, &e)));
                true
            }
            _ => false,
        }
    }

    /// Reads the complete hits of a search response cut short (`text` is
    /// what there is of it, starting at its `{`, at `pos`), then reports the
    /// cut as one issue; `until` says where the text stops ("end of input").
    /// False, with nothing done, when the text never reaches a hit list: the
    /// caller then reports it like any other cut document.
    ///
    /// It scans brackets and strings only, remembering the keys above the
    /// current point, so it knows when it is inside `hits.hits`,
    /// `hits.events` or `hits.sequences[].events` without a parser that
    /// would reject the unfinished text.
    pub fn cut_response(&self, text: &str, pos: Pos, until: &str, out: &mut Out) -> bool {
        let b = text.as_bytes();
        if b.first() != Some(&b'{') {
            return false;
        }
        let mut stack: Vec<Frame> = Vec::new();
        let (mut strings, mut str_start) = (Strings::default(), 0usize);
        let mut lists_seen = false;
        // The element of a hit list being read: its start and the depth of
        // the list holding it.
        let mut hit: Option<(usize, usize)> = None;
        let mut found = Out::new();
        let mut hits = 0u64;
        let mut at = Positions::new(text, pos);
        for (i, &c) in b.iter().enumerate() {
            match strings.step(c) {
                Byte::Outside => {}
                Byte::Opens => {
                    str_start = i;
                    continue;
                }
                Byte::Inside => continue,
                Byte::Closes => {
                    if let Some(top) = stack.last_mut() {
                        if !top.array && top.expect_key {
                            top.key = Some((str_start + 1, i));
                            top.expect_key = false;
                        }
                    }
                    continue;
                }
            }
            match c {
                b'{' | b'[' => {
                    let seg = match stack.last() {
                        None => Seg::Root,
                        Some(f) if f.array => Seg::Index,
                        Some(f) => f.key.map_or(Seg::Index, |(s, e)| Seg::Key(s, e)),
                    };
                    if hit.is_none() && stack.last().is_some_and(|f| f.list) {
                        hit = Some((i, stack.len()));
                    }
                    let array = c == b'[';
                    let list = array && hit.is_none() && is_hit_list(text, &stack, seg);
                    lists_seen |= list;
                    stack.push(Frame {
                        array,
                        seg,
                        key: None,
                        expect_key: !array,
                        list,
                    });
                }
                b'}' | b']' => {
                    stack.pop();
                    if stack.is_empty() {
                        // The response closed after all: not a cut response
                        // (trailing text, mismatched brackets); leave it to
                        // the parser's message.
                        return false;
                    }
                    if let Some((start, depth)) = hit {
                        if stack.len() == depth {
                            let slice = &text[start..=i];
                            self.hit(slice, at.of(slice), &mut found);
                            hits += 1;
                            hit = None;
                        }
                    }
                }
                b',' => {
                    if let Some(top) = stack.last_mut() {
                        top.expect_key = !top.array;
                    }
                }
                _ => {}
            }
        }
        if !lists_seen {
            return false;
        }
        out.append(&mut found);
        let complete = match hits {
            1 => "1 complete hit".to_string(),
            n => format!("{n} complete hits"),
        };
        let issue = match hit {
            Some((start, _)) => self.issue(
                pos.advance(text, start),
                SkipReason::Truncated,
                format!(
                    "search response cut short inside this hit ({} bytes to {until}); \
                     the {complete} before it were read",
                    b.len() - start
                ),
            ),
            None => self.issue(
                pos,
                SkipReason::Truncated,
                format!(
                    "search response cut short ({} bytes to {until}); \
                     the {complete} in it were read",
                    b.len()
                ),
            ),
        };
        out.push_back(Err(issue));
        true
    }

    /// Handles the wrapping shapes; false when the object is a plain event.
    fn wrapped(&self, keys: &TopKeys<'_>, text: &str, pos: Pos, out: &mut Out) -> bool {
        if let Some(hits) = keys.get("hits") {
            if let Ok(section) = serde_json::from_str::<HitsSection>(hits.get()) {
                let lists = [section.hits, section.events];
                let seqs = section.sequences.into_iter().flatten().map(|s| s.events);
                let mut any = false;
                let mut at = Positions::new(text, pos);
                for list in lists.into_iter().flatten().chain(seqs) {
                    any = true;
                    for hit in list {
                        self.hit(hit.get(), at.of(hit.get()), out);
                    }
                }
                if any {
                    return true;
                }
            }
        }
        if keys.get("_source").is_some() || is_sourceless_hit(keys) {
            self.hit(text, pos, out);
            return true;
        }
        if let (Some(ty), Some(value)) = (keys.get("type"), keys.get("value")) {
            if let Ok(ty) = serde_json::from_str::<&str>(ty.get()) {
                if ty == "doc" {
                    if let Ok(rec) = serde_json::from_str::<ArchiveDoc>(value.get()) {
                        self.archive_doc(rec, text, pos, out);
                        return true;
                    }
                } else if ty == "index" || ty == "data_stream" {
                    out.push_back(Err(self.issue(
                        pos,
                        SkipReason::NotAnEvent,
                        format!("esArchiver \"{ty}\" record (an index definition, not a document)"),
                    )));
                    return true;
                }
            }
        }
        if keys.0.len() == 1 && (keys.0[0].0 == "events" || keys.0[0].0 == "expected") {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(keys.0[0].1.get()) {
                if items.iter().all(|i| i.get().starts_with('{')) {
                    let mut at = Positions::new(text, pos);
                    for item in items {
                        self.document(item.get(), at.of(item.get()), out);
                    }
                    return true;
                }
            }
        }
        false
    }

    fn hit(&self, text: &str, pos: Pos, out: &mut Out) {
        if !text.trim_start().starts_with('{') {
            // Valid JSON (the response parsed), but no hit: said as such,
            // not in the parser's terms.
            let what = match text.trim_start().starts_with('[') {
                true => "array",
                false => scalar_kind(text.trim_start()),
            };
            out.push_back(Err(self.issue(
                pos,
                SkipReason::NotAnObject,
                format!("a JSON {what} is not a search hit"),
            )));
            return;
        }
        let hit = match serde_json::from_str::<Hit>(text) {
            Ok(h) => h,
            Err(e) => {
                out.push_back(Err(self.json_issue(text, pos, &e)));
                return;
            }
        };
        let Some(source) = hit.source else {
            out.push_back(Err(self.issue(
                pos,
                SkipReason::NoSource,
                "search hit without _source",
            )));
            return;
        };
        let id = hit.id.and_then(scalar_string);
        out.push_back(self.event(source.get(), text, pos, hit.index, id));
    }

    fn archive_doc(&self, rec: ArchiveDoc<'_>, text: &str, pos: Pos, out: &mut Out) {
        let Some(source) = rec.source else {
            out.push_back(Err(self.issue(
                pos,
                SkipReason::NoSource,
                "esArchiver doc without source",
            )));
            return;
        };
        let id = rec.id.and_then(scalar_string);
        out.push_back(self.event(source.get(), text, pos, rec.index, id));
    }

    /// Flattens `source` (a slice of `outer`, which starts at `pos`) into an
    /// event that is reported at `pos`.
    fn event(
        &self,
        source: &str,
        outer: &str,
        pos: Pos,
        index: Option<String>,
        id: Option<String>,
    ) -> Result<Event, ReadIssue> {
        let fields = match self.flattener.fields(source) {
            Ok(f) => f,
            Err(FlattenError::NotAnObject) => {
                let at = pos.of_slice(outer, source);
                return Err(self.issue(
                    at,
                    SkipReason::NotAnObject,
                    "the document is not an object",
                ));
            }
            Err(FlattenError::Json(e)) => {
                return Err(self.json_issue(source, pos.of_slice(outer, source), &e));
            }
            Err(FlattenError::DuplicateKey { path, line, column }) => {
                let at = pos.of_slice(outer, source);
                let at = match line {
                    0 | 1 => Pos {
                        line: at.line,
                        col: at.col + column.saturating_sub(1) as u64,
                    },
                    l => Pos {
                        line: at.line + l as u64 - 1,
                        col: column as u64,
                    },
                };
                return Err(self.issue(
                    at,
                    SkipReason::DuplicateKey,
                    format!(
                        "duplicate key `{path}` (Elasticsearch rejects the document: \
                         \"Duplicate field\")"
                    ),
                ));
            }
        };
        let mut event = self.flattener.wrap(fields, Arc::from(source));
        event.index = match (self.forced_index, index) {
            (Some(forced), _) => Some(Arc::clone(forced)),
            (None, Some(i)) => Some(Arc::from(i)),
            (None, None) => derive_index(&event).map(Arc::from),
        };
        event.id = id.map(Arc::from);
        event.origin.file = Arc::clone(self.file);
        event.origin.line = pos.line;
        Ok(event)
    }
}

/// The data stream an event was (or would be) indexed into:
/// `data_stream.type-data_stream.dataset-data_stream.namespace`, when all
/// three are strings.
pub fn derive_index(event: &Event) -> Option<String> {
    let get = |p: &str| event.values(p).first().and_then(|v| v.as_str());
    let (t, d, n) = (
        get("data_stream.type")?,
        get("data_stream.dataset")?,
        get("data_stream.namespace")?,
    );
    Some(format!("{t}-{d}-{n}"))
}

/// Whether a line starting with `[` can begin a JSON array: after the
/// opening brackets must come something a JSON value can start with. This
/// keeps TOML (`[[queries]]`, `[table]`) and INI headers out of framed mode,
/// so they are reported line by line as not JSON.
pub(crate) fn array_may_be_json(line: &[u8]) -> bool {
    let start = line
        .iter()
        .position(|b| *b != b'[' && !b.is_ascii_whitespace());
    let Some(rest) = start.map(|i| &line[i..]) else {
        return true;
    };
    match rest[0] {
        b'{' | b']' | b'"' | b'-' | b'0'..=b'9' => true,
        // A literal, not a word that merely starts like one (`[null_check]`).
        _ => [&b"true"[..], b"false", b"null"].iter().any(|w| {
            rest.starts_with(w)
                && match rest.get(w.len()) {
                    None => true,
                    Some(b) => matches!(b, b',' | b']') || b.is_ascii_whitespace(),
                }
        }),
    }
}

/// A search hit fetched without `_source`: `_index` and `_id` and nothing
/// but hit metadata. Documents cannot hold `_index`/`_id` themselves (they
/// are metadata fields), so this never swallows a real event.
fn is_sourceless_hit(keys: &TopKeys<'_>) -> bool {
    const HIT_KEYS: &[&str] = &[
        "fields",
        "sort",
        "highlight",
        "inner_hits",
        "matched_queries",
        "ignored_field_values",
    ];
    keys.get("_index").is_some()
        && keys.get("_id").is_some()
        && keys
            .0
            .iter()
            .all(|(k, _)| k.starts_with('_') || HIT_KEYS.contains(&k.as_str()))
}

/// Cheap pre-check: only texts mentioning a marker key are probed.
fn may_be_wrapped(text: &str) -> bool {
    let b = text.as_bytes();
    [
        &b"\"hits\""[..],
        b"\"_source\"",
        b"\"_id\"",
        b"\"value\"",
        b"\"events\"",
        b"\"expected\"",
    ]
    .iter()
    .any(|needle| memmem::find(b, needle).is_some())
}

fn scalar_kind(text: &str) -> &'static str {
    match text.as_bytes().first() {
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// A JSON string's content, or a number's text (ids can be numbers).
fn scalar_string(raw: &RawValue) -> Option<String> {
    let t = raw.get();
    if t.starts_with('"') {
        serde_json::from_str::<String>(t).ok()
    } else if t == "null" {
        None
    } else {
        Some(t.to_string())
    }
}

/// Where an open container sits in its parent, for [`is_hit_list`].
#[derive(Clone, Copy)]
enum Seg {
    Root,
    /// An array element.
    Index,
    /// The value of the key at these bytes of the text (between quotes).
    Key(usize, usize),
}

/// An open container while scanning a cut response.
struct Frame {
    array: bool,
    seg: Seg,
    /// Objects: the last key read.
    key: Option<(usize, usize)>,
    /// Objects: the next string is a key.
    expect_key: bool,
    /// An array whose elements are hits.
    list: bool,
}

/// Whether an array opening under `stack` as `seg` is one of the hit lists
/// of a search or EQL response: `hits.hits`, `hits.events`,
/// `hits.sequences[].events` (paths from the root object).
fn is_hit_list(text: &str, stack: &[Frame], seg: Seg) -> bool {
    let key = |s: &Seg, want: &str| matches!(s, Seg::Key(a, b) if text.get(*a..*b) == Some(want));
    let path: Vec<Seg> = stack
        .iter()
        .skip(1)
        .map(|f| f.seg)
        .chain(std::iter::once(seg))
        .collect();
    match path.as_slice() {
        [h, l] => key(h, "hits") && (key(l, "hits") || key(l, "events")),
        [h, s, Seg::Index, e] => key(h, "hits") && key(s, "sequences") && key(e, "events"),
        _ => false,
    }
}

/// The top-level keys of an object with their unparsed values.
struct TopKeys<'a>(Vec<(String, &'a RawValue)>);

impl<'a> TopKeys<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

impl<'de> Deserialize<'de> for TopKeys<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKeys<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopKeys<'de>, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v: &'de RawValue = map.next_value()?;
                    keys.push((k, v));
                }
                Ok(TopKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize)]
struct HitsSection<'a> {
    #[serde(borrow, default)]
    hits: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    events: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    sequences: Option<Vec<SequenceSection<'a>>>,
}

#[derive(Deserialize)]
struct SequenceSection<'a> {
    #[serde(borrow, default)]
    events: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Hit<'a> {
    #[serde(rename = "_index", default)]
    index: Option<String>,
    #[serde(rename = "_id", borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(rename = "_source", borrow, default)]
    source: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ArchiveDoc<'a> {
    #[serde(default)]
    index: Option<String>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    source: Option<&'a RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_found_one_from_the_last_are_those_counted_from_the_start() {
        let text = "{\"hits\": [\n  {\"a\": 1},\n  {\"b\": 2}, {\"c\": 3},\n\n    {\"d\": 4}\n]}";
        let start = Pos { line: 7, col: 5 };
        let slices: Vec<&str> = ["{\"a\"", "{\"b\"", "{\"c\"", "{\"d\""]
            .iter()
            .map(|s| {
                let at = text.find(s).unwrap();
                &text[at..at + 3]
            })
            .collect();
        let want: Vec<Pos> = slices.iter().map(|s| start.of_slice(text, s)).collect();
        assert_eq!(
            want,
            [
                Pos { line: 8, col: 3 },
                Pos { line: 9, col: 3 },
                Pos { line: 9, col: 13 },
                Pos { line: 11, col: 5 }
            ]
        );
        let mut at = Positions::new(text, start);
        let got: Vec<Pos> = slices.iter().map(|s| at.of(s)).collect();
        assert_eq!(got, want);
        // Asked out of order, it counts again from the start.
        assert_eq!(at.of(slices[1]), want[1]);
        assert_eq!(at.of(slices[3]), want[3]);
        // Not a slice of the text: the text's start.
        assert_eq!(at.of("elsewhere"), start);
        // On the first line, columns count from the text's own column.
        let line = "{\"hits\":[{\"x\":1},{\"y\":2}]}";
        let mut at = Positions::new(line, start);
        assert_eq!(at.of(&line[17..]), Pos { line: 7, col: 22 });
    }
}
