//! Reading in batches, so that parsing can happen on other threads.
//!
//! [`EventReader::next_batch`](crate::read::EventReader::next_batch) hands
//! out either a [`LineChunk`] (complete NDJSON lines of one input, not yet
//! parsed: the common case, and the costly one) or items already decoded
//! (every other format, whose framing is sequential anyway). A
//! [`LineParser`], one per thread, turns a chunk's lines into events and
//! issues exactly as the reader's own line mode would; what it counted
//! ([`ChunkCounts`]) goes back to the reader, in chunk order, with
//! [`EventReader::record_chunk`](crate::read::EventReader::record_chunk),
//! so the run's [`ReadStats`](crate::read::ReadStats) are the same as
//! reading line by line.
//!
//! Events of a chunk carry no input position ([`Event::seq`]): whoever puts
//! the chunks back in order numbers them.
//!
//! With a projection, a plain event line (an object without the marker keys
//! of search responses and other wrappers) is first offered to the
//! [`Scanner`]: what it accepts is handed on as a [`Record`] view, without
//! a field map, its fields decoded only when read. Whatever the scanner
//! does not take (invalid JSON, duplicate keys, escaped keys, …) goes the
//! usual way, so the flattener gives the event or the exact issue.

use std::cell::Cell;
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::catalog::{FieldCatalog, FieldId};
use crate::event::{Binding, Event, Fields, Origin};
use crate::flatten::Flattener;
use crate::read::doc::{DocReader, Out};
use crate::read::file::line_item;
use crate::read::filter::{numbered_lines, LineFilter};
use crate::read::issue::ReadIssue;
use crate::read::long::{split_long_lines, too_long, Piece};
use crate::read::ReadOptions;
use crate::record::Record;
use crate::scan::{RawDoc, Scanner};
use crate::value::Value;
use crate::view::EventView;

/// What one step of batch reading gives.
#[derive(Debug)]
pub enum Batch {
    /// Complete NDJSON lines of one input.
    Lines(LineChunk),
    /// Events and issues read already, in order (issues are counted by the
    /// reader; events carry no position yet).
    Items(Vec<Result<Event, ReadIssue>>),
}

/// The bytes of a line chunk: read into a buffer, or a slice of a mapped
/// file.
#[derive(Debug)]
pub(crate) enum ChunkText {
    Owned(Vec<u8>),
    Mapped(Arc<super::mapped::FileMap>, Range<usize>),
}

impl std::ops::Deref for ChunkText {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            ChunkText::Owned(v) => v,
            ChunkText::Mapped(map, range) => map.get(range.clone()).unwrap_or_default(),
        }
    }
}

/// Complete lines of one NDJSON input, as read.
#[derive(Debug)]
pub struct LineChunk {
    pub(crate) file: Arc<str>,
    /// Whole lines, each ending with `\n` (the input's last one perhaps
    /// without).
    pub(crate) text: ChunkText,
    /// Where its line numbers start.
    pub(crate) start: LineStart,
    /// The input ends with this chunk.
    pub(crate) last: bool,
    /// Where `text`'s buffer goes back to once the chunk is read.
    pub(crate) pool: Option<Arc<BufferPool>>,
    /// Its line count went to its ledger (see [`LineStart::Ledger`]).
    recorded: Cell<bool>,
    /// Its first line's number, once known.
    first: Cell<Option<u64>>,
}

/// Where a chunk's line numbers start.
#[derive(Debug)]
pub(crate) enum LineStart {
    /// The 1-based number of its first line, counted by the reader.
    Known(u64),
    /// Chunk `index` of an input whose chunks are counted by the threads
    /// that parse them.
    Ledger(Arc<LineLedger>, usize),
}

/// The line counts of one input's chunks, as the parsing threads find
/// them. A chunk's first line number is known once every chunk before it
/// is counted; the reader thread then never touches the bytes, which
/// keeps it from being the bottleneck of a run on several cores.
///
/// A chunk is counted before any of its lines is parsed, and chunks are
/// taken in input order, so waiting on an earlier chunk always ends: its
/// thread is counting it (a chunk dropped unread counts as empty).
#[derive(Debug)]
pub(crate) struct LineLedger {
    state: std::sync::Mutex<LedgerState>,
    counted: std::sync::Condvar,
}

#[derive(Debug)]
struct LedgerState {
    /// Chunks `0..next` are counted; chunk `next` starts at line `line`.
    next: usize,
    line: u64,
    /// Counts of chunks after `next`, by index.
    ahead: FxHashMap<usize, u64>,
    /// First lines of counted chunks not asked for yet.
    starts: FxHashMap<usize, u64>,
}

impl LineLedger {
    pub(crate) fn new(first_line: u64) -> LineLedger {
        LineLedger {
            state: std::sync::Mutex::new(LedgerState {
                next: 0,
                line: first_line,
                ahead: FxHashMap::default(),
                starts: FxHashMap::default(),
            }),
            counted: std::sync::Condvar::new(),
        }
    }

    /// Chunk `index` holds `lines` lines.
    fn record(&self, index: usize, lines: u64) {
        let Ok(mut guard) = self.state.lock() else {
            return;
        };
        let s = &mut *guard;
        s.ahead.insert(index, lines);
        while let Some(n) = s.ahead.remove(&s.next) {
            s.starts.insert(s.next, s.line);
            s.next += 1;
            s.line += n;
        }
        self.counted.notify_all();
    }

    /// The first line number of chunk `index`, once every chunk before it
    /// (and itself) is counted. Asked once per chunk.
    fn first_line(&self, index: usize) -> u64 {
        let Ok(mut s) = self.state.lock() else {
            return 0;
        };
        loop {
            if let Some(line) = s.starts.remove(&index) {
                return line;
            }
            s = match self.counted.wait(s) {
                Ok(s) => s,
                Err(_) => return 0,
            };
        }
    }
}

impl LineChunk {
    pub(crate) fn new(
        file: Arc<str>,
        text: ChunkText,
        start: LineStart,
        last: bool,
        pool: Option<Arc<BufferPool>>,
    ) -> LineChunk {
        if let ChunkText::Mapped(map, range) = &text {
            map.hold(range);
        }
        LineChunk {
            file,
            text,
            start,
            last,
            pool,
            recorded: Cell::new(false),
            first: Cell::new(None),
        }
    }

    /// The number of the chunk's first line, given that it holds `lines`
    /// lines: for a ledger chunk, records the count and waits for the
    /// chunks before it to be counted.
    fn first_line(&self, lines: u64) -> u64 {
        match &self.start {
            LineStart::Known(line) => *line,
            LineStart::Ledger(ledger, index) => {
                if let Some(line) = self.first.get() {
                    return line;
                }
                if !self.recorded.replace(true) {
                    ledger.record(*index, lines);
                }
                let line = ledger.first_line(*index);
                self.first.set(Some(line));
                line
            }
        }
    }
}

impl Drop for LineChunk {
    fn drop(&mut self) {
        if let LineStart::Ledger(ledger, index) = &self.start {
            if !self.recorded.get() {
                ledger.record(*index, 0);
            }
        }
        match &mut self.text {
            ChunkText::Owned(text) => {
                if let Some(pool) = &self.pool {
                    pool.give_back(std::mem::take(text));
                }
            }
            ChunkText::Mapped(map, range) => map.release(range),
        }
    }
}

/// Chunk buffers, reused: a buffer read into once need not be zeroed (nor
/// its pages faulted in) again.
#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
}

/// Buffers a pool keeps; the rest are freed.
const POOLED: usize = 32;

impl BufferPool {
    /// A buffer whose length is its capacity (all of it initialized), at
    /// least `size` bytes.
    pub(crate) fn take(&self, size: usize) -> Vec<u8> {
        let reused = self.free.lock().ok().and_then(|mut f| f.pop());
        let mut buf = reused.unwrap_or_default();
        let want = size.max(buf.capacity());
        buf.resize(want, 0);
        buf
    }

    fn give_back(&self, buf: Vec<u8>) {
        if buf.capacity() == 0 {
            return;
        }
        if let Ok(mut free) = self.free.lock() {
            if free.len() < POOLED {
                free.push(buf);
            }
        }
    }
}

impl LineChunk {
    /// The input the lines come from.
    pub fn file(&self) -> &Arc<str> {
        &self.file
    }

    /// The chunk's bytes (whole lines).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Whether the input ends with this chunk.
    pub fn ends_input(&self) -> bool {
        self.last
    }
}

/// What parsing one chunk counted, for the reader's stats.
#[derive(Debug, Default)]
pub struct ChunkCounts {
    pub events: u64,
    /// Lines a line filter ruled out.
    pub unparsed: u64,
    /// Blank and `//` comment lines.
    pub blank: u64,
    /// Issues, in line order.
    pub issues: Vec<ReadIssue>,
    /// The chunk was its input's last.
    pub last: bool,
}

/// Keeps a run's counts in input order when batches are read ahead of
/// being counted. A line chunk is counted when its [`ChunkCounts`] come
/// back, in chunk order, from whoever parsed it; items (events and issues
/// decoded by the reader itself) are known as soon as they are read. So
/// the items read after a chunk still out wait for it: counted at once,
/// they would be listed before the issues of the chunks read before them,
/// and in an order that would depend on how far reading ran ahead (the
/// thread count).
#[derive(Debug, Default)]
pub struct InputOrder {
    /// Per line chunk handed out and not counted yet, oldest first: the
    /// items read after it (events, issues), until the next chunk.
    waiting: std::collections::VecDeque<(u64, Vec<ReadIssue>)>,
}

impl InputOrder {
    /// A line chunk was handed out.
    pub fn chunk_out(&mut self) {
        self.waiting.push_back((0, Vec::new()));
    }

    /// Items were handed out: `events` events and these issues. Returns
    /// them to be counted now when no chunk before them is still out;
    /// else they wait, and come back from [`InputOrder::chunk_counted`].
    pub fn items(&mut self, events: u64, issues: Vec<ReadIssue>) -> Option<(u64, Vec<ReadIssue>)> {
        match self.waiting.back_mut() {
            None => Some((events, issues)),
            Some((n, held)) => {
                *n += events;
                held.extend(issues);
                None
            }
        }
    }

    /// The oldest chunk out was counted: the items read after it, to be
    /// counted next.
    pub fn chunk_counted(&mut self) -> (u64, Vec<ReadIssue>) {
        self.waiting.pop_front().unwrap_or_default()
    }

    /// Items still waiting on a chunk, in input order.
    pub fn waiting(&self) -> impl Iterator<Item = &(u64, Vec<ReadIssue>)> {
        self.waiting.iter()
    }
}

/// Turns line chunks into events: one per thread.
#[derive(Debug)]
pub struct LineParser {
    flattener: Flattener,
    forced_index: Option<Arc<str>>,
    filter: Option<Arc<dyn LineFilter>>,
    /// The lines of the chunk being read worth parsing, each with the
    /// number of lines before it.
    ranges: Vec<(Range<usize>, u64)>,
    /// The chunk split around its over-long lines.
    pieces: Vec<Piece>,
    /// See [`ReadOptions::max_line`].
    max_line: usize,
    out: Out,
    /// The scanner's fast path, with a projection.
    fast: Option<Box<Fast>>,
}

/// What the fast path keeps from line to line.
#[derive(Debug)]
struct Fast {
    scanner: Scanner,
    doc: RawDoc,
    names: IndexNames,
}

/// Index names of scanned lines.
#[derive(Debug)]
struct IndexNames {
    /// `data_stream.type`, `.dataset`, `.namespace`, when all are kept.
    data_stream: Option<[FieldId; 3]>,
    /// Index names met so far, by their `type-dataset-namespace` text.
    indices: FxHashMap<String, Arc<str>>,
    key: String,
}

impl Fast {
    fn new(options: &ReadOptions) -> Option<Box<Fast>> {
        let catalog = match &options.catalog {
            Some(c) => FieldCatalog::clone(c),
            None => {
                let flattener = &options.flattener;
                let mut catalog = FieldCatalog::new(flattener.projection().paths()?);
                for (path, value) in flattener.null_values() {
                    catalog = catalog.with_null_value(path, value.clone());
                }
                catalog
            }
        };
        if catalog.keeps_all() {
            return None;
        }
        let ds = [
            "data_stream.type",
            "data_stream.dataset",
            "data_stream.namespace",
        ]
        .map(|p| catalog.lookup(p));
        let data_stream = match ds {
            [Some(t), Some(d), Some(n)] => Some([t, d, n]),
            _ => None,
        };
        Some(Box::new(Fast {
            scanner: Scanner::new(catalog),
            doc: RawDoc::new(),
            names: IndexNames {
                data_stream,
                indices: FxHashMap::default(),
                key: String::new(),
            },
        }))
    }
}

impl IndexNames {
    /// The index of a scanned line as the reader derives it: from
    /// `data_stream.{type,dataset,namespace}` when all three are strings.
    fn index(&mut self, record: &Record<'_>) -> Option<Arc<str>> {
        let [t, d, n] = self.data_stream?;
        // Most index names are plain text: read without decoding the
        // fields (an allocation each, for every event).
        let first = |id| {
            record
                .first_plain_str(id)
                .or_else(|| record.values_by_id(id).first().and_then(Value::as_str))
        };
        let (t, d, n) = (first(t)?, first(d)?, first(n)?);
        self.key.clear();
        for (i, part) in [t, d, n].into_iter().enumerate() {
            if i > 0 {
                self.key.push('-');
            }
            self.key.push_str(part);
        }
        if let Some(hit) = self.indices.get(self.key.as_str()) {
            return Some(Arc::clone(hit));
        }
        let name: Arc<str> = Arc::from(self.key.as_str());
        if self.indices.len() < MAX_CACHED_INDICES {
            self.indices.insert(self.key.clone(), Arc::clone(&name));
        }
        Some(name)
    }
}

/// Index names the fast path remembers (a few per data source in practice;
/// the bound keeps odd inputs from growing it without end).
const MAX_CACHED_INDICES: usize = 4096;

/// One line the scanner read, as the engine sees it.
struct LineEvent<'a> {
    record: Record<'a>,
    index: Option<Arc<str>>,
    file: &'a Arc<str>,
    line: u64,
}

impl Fields for LineEvent<'_> {
    fn values(&self, path: &str) -> &[Value] {
        self.record.values(path)
    }

    fn values_bound(&self, path: &str, binding: Binding) -> &[Value] {
        self.record.values_bound(path, binding)
    }
}

impl EventView for LineEvent<'_> {
    fn index(&self) -> Option<&Arc<str>> {
        self.index.as_ref()
    }

    fn seq(&self) -> u64 {
        0
    }

    fn for_each_str(&self, path: &str, f: &mut dyn FnMut(&str)) {
        self.for_each_str_bound(path, Binding::NONE, f)
    }

    fn for_each_str_bound(&self, path: &str, binding: Binding, f: &mut dyn FnMut(&str)) {
        let catalog = self.record.catalog();
        let Some(id) = catalog.bound(binding).or_else(|| catalog.lookup(path)) else {
            return;
        };
        if catalog.null_value(id).is_some() {
            // A `null_value` is not text of the line: read the values.
            for v in self.record.values_by_id(id) {
                if let Value::Str(s) = v {
                    f(s);
                }
            }
            return;
        }
        let mut scratch = String::new();
        for raw in self.record.raw_strs(id) {
            f(raw.get(&mut scratch));
        }
    }

    fn has_values_below(&self, path: &str) -> bool {
        let catalog = self.record.catalog();
        self.record
            .fields()
            .iter()
            .any(|&id| crate::view::is_below(catalog.path(id), path))
    }

    fn to_event(&self, keep: Option<&[String]>) -> Event {
        let mut event = self.record.to_event_keeping(keep).unwrap_or_default();
        event.index = self.index.clone();
        event.origin = self.origin();
        event
    }

    fn origin(&self) -> Origin {
        Origin {
            file: Arc::clone(self.file),
            line: self.line,
        }
    }
}

impl LineParser {
    /// Parses as a reader with `options` would (projection, `null_value`s,
    /// forced index, line filter).
    pub fn new(options: &ReadOptions) -> LineParser {
        LineParser {
            flattener: options.flattener.clone(),
            forced_index: options.index.as_deref().map(Arc::from),
            filter: options.line_filter.clone(),
            ranges: Vec::new(),
            pieces: Vec::new(),
            max_line: options.max_line,
            out: Out::new(),
            fast: Fast::new(options),
        }
    }

    /// Reads every line of `chunk`: each event goes to `on_event` in line
    /// order, each issue to `counts`. A line longer than
    /// [`ReadOptions::max_line`] is an issue (only a mapped file's chunk
    /// can hold one: a stream's are cut as they are read).
    pub fn read(
        &mut self,
        chunk: &LineChunk,
        on_event: &mut dyn FnMut(&dyn EventView),
        counts: &mut ChunkCounts,
    ) {
        counts.last = chunk.last;
        // A mapped chunk's pages are faulted in as the search first touches
        // them (the kernel maps a block around each fault). Asking for the
        // whole chunk at once (`MADV_POPULATE_READ`) cost more: the kernel
        // then walks it page by page (1 GB, seed rule, one core: 138 ms of
        // system time against 110 ms).
        let text = &chunk.text[..];
        let mut pieces = std::mem::take(&mut self.pieces);
        match split_long_lines(text, self.max_line, &mut pieces) {
            None => self.read_lines(chunk, text, None, on_event, counts),
            Some(lines) => {
                let first = chunk.first_line(lines);
                for piece in &pieces {
                    match piece {
                        Piece::Lines(range, before) => {
                            let lines = &text[range.clone()];
                            self.read_lines(chunk, lines, Some(first + before), on_event, counts);
                        }
                        Piece::Long(len, before) => {
                            counts.issues.push(too_long(
                                &chunk.file,
                                first + before,
                                *len,
                                true,
                                self.max_line,
                            ));
                        }
                    }
                }
            }
        }
        self.pieces = pieces;
    }

    /// Reads the lines `text` of `chunk`, the first of them line `first`
    /// (`None`: `text` is the whole chunk, numbered by the chunk).
    fn read_lines(
        &mut self,
        chunk: &LineChunk,
        text: &[u8],
        first: Option<u64>,
        on_event: &mut dyn FnMut(&dyn EventView),
        counts: &mut ChunkCounts,
    ) {
        let docs = DocReader {
            flattener: &self.flattener,
            forced_index: self.forced_index.as_ref(),
            file: &chunk.file,
        };
        self.ranges.clear();
        let n = numbered_lines(text, self.filter.as_deref(), &mut self.ranges);
        counts.unparsed += n.lines.saturating_sub(self.ranges.len() as u64 + n.blank);
        counts.blank += n.blank;
        let first_line = first.unwrap_or_else(|| chunk.first_line(n.lines));
        for (range, before) in &self.ranges {
            let line = first_line + before;
            let bytes = &text[range.clone()];
            if let Some(Fast {
                scanner,
                doc,
                names,
            }) = self.fast.as_deref_mut()
            {
                // The event's text is the line without its line ending
                // (a CRLF file's `\r` too) and without the whitespace
                // before its `{`, as `line_item` takes it: the alert ids
                // hashed from it must not depend on the path.
                let bytes = bytes.trim_ascii();
                if plain_object(bytes) && scanner.scan(bytes, doc).is_ok() {
                    if let Ok(record) = Record::new(bytes, doc, scanner.catalog()) {
                        let index = match &self.forced_index {
                            Some(forced) => Some(Arc::clone(forced)),
                            None => names.index(&record),
                        };
                        counts.events += 1;
                        on_event(&LineEvent {
                            record,
                            index,
                            file: &chunk.file,
                            line,
                        });
                        continue;
                    }
                }
            }
            counts.blank += u64::from(line_item(&chunk.file, bytes, line, &docs, &mut self.out));
            for item in self.out.drain(..) {
                match item {
                    Ok(event) => {
                        counts.events += 1;
                        on_event(&event);
                    }
                    Err(issue) => counts.issues.push(issue),
                }
            }
        }
    }
}

/// A line that may be one JSON object: the scanner decides (and declines
/// the wrappers the reader unwraps: search responses, hits, esArchiver
/// records, test files).
fn plain_object(line: &[u8]) -> bool {
    let start = line.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|i| line[i] == b'{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, start: LineStart) -> LineChunk {
        LineChunk::new(
            Arc::from("t.ndjson"),
            ChunkText::Owned(text.as_bytes().to_vec()),
            start,
            true,
            None,
        )
    }

    /// The line numbers of a chunk's events, and its counts, read by a
    /// fresh parser with default options.
    fn event_lines(c: &LineChunk) -> (Vec<u64>, ChunkCounts) {
        let mut p = LineParser::new(&ReadOptions::default());
        let mut lines = Vec::new();
        let mut counts = ChunkCounts::default();
        p.read(
            c,
            &mut |e| lines.push(e.to_event(None).origin.line),
            &mut counts,
        );
        (lines, counts)
    }

    #[test]
    fn lines_become_events_and_issues_with_their_positions() {
        let c = chunk(
            "{\"a\":1}\n\nnot json\n// note\n{\"a\":2}\n{\"a\":",
            LineStart::Known(10),
        );
        let (lines, counts) = event_lines(&c);
        assert_eq!(lines, [10, 14]);
        assert_eq!(counts.events, 2);
        let at: Vec<(u64, &str)> = counts
            .issues
            .iter()
            .map(|i| (i.line, i.reason.name()))
            .collect();
        assert_eq!(at, [(12, "not-json"), (15, "invalid-json")]);
    }

    /// A byte order mark opening a line other than the first (files
    /// joined with `cat`) is skipped, as on the first line; columns still
    /// count it.
    #[test]
    fn a_byte_order_mark_opening_any_line_is_skipped() {
        let c = chunk(
            "\u{feff}{\"a\":1}\n\u{feff}{\"a\":2}\n\u{feff}{\"a\":\n{\"a\":\n",
            LineStart::Known(1),
        );
        let (lines, counts) = event_lines(&c);
        assert_eq!(lines, [1, 2]);
        let at: Vec<(u64, u64, &str)> = counts
            .issues
            .iter()
            .map(|i| (i.line, i.column, i.reason.name()))
            .collect();
        assert_eq!(at, [(3, 8, "invalid-json"), (4, 5, "invalid-json")]);
    }

    /// An event's text (what alert ids are hashed from) is the same
    /// whether the field-scanning fast path reads its line or the full
    /// parser does: without the line ending and the whitespace before the
    /// `{`.
    #[test]
    fn an_events_text_does_not_depend_on_the_path_that_read_it() {
        let c = chunk(
            " \t{\"a\":1,\"b\":[2]}\r\n  {\"a\":3} \n",
            LineStart::Known(1),
        );
        let sources = |opts: ReadOptions| {
            let mut p = LineParser::new(&opts);
            let mut out = Vec::new();
            p.read(
                &c,
                &mut |e| out.push(e.to_event(None).source().to_string()),
                &mut ChunkCounts::default(),
            );
            out
        };
        let fast = ReadOptions::default().with_projection(crate::flatten::Projection::only(["a"]));
        assert!(LineParser::new(&fast).fast.is_some(), "the fast path reads");
        let full = sources(ReadOptions::default());
        assert_eq!(full, ["{\"a\":1,\"b\":[2]}", "{\"a\":3}"]);
        assert_eq!(sources(fast), full);
    }

    /// Chunks counted by several threads, in any order, get the first
    /// line numbers of reading them one after the other; a chunk dropped
    /// unread counts as empty rather than leaving the next one waiting.
    #[test]
    fn ledger_chunks_are_numbered_whatever_thread_counts_them_first() {
        let text = ["{\"a\":1}\n{\"a\":2}\n", "\n{\"a\":3}\n", "{\"a\":4}"];
        let ledger = Arc::new(LineLedger::new(5));
        let chunks: Vec<LineChunk> = text
            .iter()
            .enumerate()
            .map(|(i, t)| chunk(t, LineStart::Ledger(Arc::clone(&ledger), i)))
            .collect();
        let lines: Vec<Vec<u64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .rev()
                .map(|c| scope.spawn(move || event_lines(&c).0))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(lines, [vec![9], vec![8], vec![5, 6]]);

        let ledger = Arc::new(LineLedger::new(1));
        drop(chunk(
            "{\"a\":1}\n",
            LineStart::Ledger(Arc::clone(&ledger), 0),
        ));
        let c = chunk("{\"a\":2}\n", LineStart::Ledger(Arc::clone(&ledger), 1));
        assert_eq!(c.first_line(1), 1);
        assert_eq!(c.first_line(1), 1, "asked twice, answered from the chunk");
    }
}
