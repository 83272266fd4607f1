//! Event readers: files, folders and stdin → a stream of [`Event`]s, with a
//! count of everything read or skipped.
//!
//! Formats are recognised per input by content: gzip and zstd (by magic
//! bytes), then NDJSON, a JSON array of events, pretty-printed or
//! concatenated objects, Elasticsearch `_search` / scroll / EQL responses,
//! bare hits (`_index`, `_id`, `_source`), Kibana esArchiver `doc` records,
//! and `//` comment lines. Every event carries its index, id, origin (file
//! and 1-based line) and a global sequence number.
//!
//! Reading never stops on bad input: each skipped line, document or input
//! is one [`ReadIssue`] (yielded in stream order and counted in
//! [`ReadStats`]), and reading goes on with the next line or input. A file
//! that is not JSON at all (a README, YAML, TOML, a raw log) is one issue
//! for the whole file, not one per line.
//!
//! Progress goes to `tracing`: at `info` each input as it is opened (with
//! its format and compression) and as it ends (with its counts), at `debug`
//! each issue.
//!
//! ```
//! use talon_event::read::{EventReader, ReadOptions};
//!
//! let ndjson = "{\"process\":{\"name\":\"bash\"}}\nnot json\n{\"process.name\":\"sh\"}\n";
//! let mut reader = EventReader::from_reader("-", ndjson.as_bytes(), ReadOptions::default());
//! let names: Vec<String> = reader
//!     .by_ref()
//!     .filter_map(Result::ok)
//!     .filter_map(|e| e.first_str("process.name").map(str::to_string))
//!     .collect();
//! assert_eq!(names, ["bash", "sh"]);
//! let stats = reader.stats();
//! assert_eq!((stats.events, stats.issue_count()), (2, 1));
//! assert_eq!(stats.issues[0].line, 2);
//! ```

pub mod batch;
mod doc;
mod file;
mod filter;
mod frame;
mod gzip;
mod input;
mod issue;
mod long;
mod mapped;
mod sieve;

use std::collections::VecDeque;
use std::io::Read;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::catalog::FieldCatalog;
use crate::event::Event;
use crate::flatten::{Flattener, Projection};
use crate::mapping::Mapping;

pub use batch::{Batch, ChunkCounts, InputOrder, LineChunk, LineParser};
pub use doc::derive_index;
pub(crate) use doc::json_message as json_error_message;
pub use filter::{line_around, number_by_search, LineFilter, Numbered};
pub use gzip::GzMembers;
pub use input::{
    broken_link_note, expand_inputs, Compression, DecodeError, Expanded, InputError, InputSpec,
    SkippedEntry,
};
pub use issue::{ReadIssue, ReadStats, SkipReason, DEFAULT_MAX_ISSUES};
pub use long::DEFAULT_MAX_LINE_BYTES;
pub use sieve::{Sieve, Verdict};

use file::FileReader;

/// How to read: forced index, which fields to keep, `null_value`s, and how
/// many issues to keep for display.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Every event gets this index (the CLI's `--index`), whatever the input
    /// says.
    pub index: Option<String>,
    /// Projection and `null_value` substitution.
    pub flattener: Flattener,
    /// Issues kept verbatim in [`ReadStats::issues`] (all are counted).
    pub max_issues: usize,
    /// NDJSON lines to parse; `None` parses every line.
    pub line_filter: Option<Arc<dyn LineFilter>>,
    /// The numbered fields to keep (see [`ReadOptions::with_catalog`]).
    pub catalog: Option<Arc<FieldCatalog>>,
    /// Map plain regular files into memory rather than read them (the
    /// default): no copy of their bytes. A file cut shorter while it is
    /// read then ends the process (SIGBUS); turn it off for files that
    /// may be truncated meanwhile (read, such a file ends with an
    /// `Unreadable` issue saying it was cut shorter).
    pub mmap: bool,
    /// Raised (by a signal handler), it stops the reading of an input
    /// that is read to its end only to be counted (not JSON, another
    /// encoding) at its next buffer, so that such an input, however long
    /// (`/dev/urandom`, a disk image), never holds up a caller that stops
    /// between items.
    pub stop: Option<Arc<AtomicBool>>,
    /// The longest NDJSON line read, in bytes; a longer one is a
    /// [`SkipReason::TooLong`] issue, never held in memory (default
    /// [`DEFAULT_MAX_LINE_BYTES`]).
    pub max_line: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            index: None,
            flattener: Flattener::default(),
            max_issues: DEFAULT_MAX_ISSUES,
            line_filter: None,
            catalog: None,
            mmap: true,
            stop: None,
            max_line: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

impl ReadOptions {
    pub fn with_index(mut self, index: impl Into<String>) -> ReadOptions {
        self.index = Some(index.into());
        self
    }

    pub fn with_projection(mut self, projection: Projection) -> ReadOptions {
        self.flattener = self.flattener.with_projection(projection);
        self.catalog = None;
        self
    }

    /// Keeps only the catalog's fields (its projection and `null_value`s),
    /// and reads plain event lines in batches through its numbering, so
    /// that fields bound to it ([`crate::Binding`]) are read without a
    /// lookup.
    pub fn with_catalog(mut self, catalog: Arc<FieldCatalog>) -> ReadOptions {
        self.flattener = catalog.flattener().clone();
        self.catalog = Some(catalog);
        self
    }

    /// Indexes the mapping's `null_value`s for explicit nulls.
    pub fn with_mapping(mut self, mapping: &Mapping) -> ReadOptions {
        self.flattener = self.flattener.with_mapping(mapping);
        self
    }

    pub fn with_max_issues(mut self, max_issues: usize) -> ReadOptions {
        self.max_issues = max_issues;
        self
    }

    /// Parses only the NDJSON lines `filter` picks (see [`LineFilter`]).
    pub fn with_line_filter(mut self, filter: Arc<dyn LineFilter>) -> ReadOptions {
        self.line_filter = Some(filter);
        self
    }

    /// Stops counting an input that is not read for events when `stop`
    /// is raised (see [`ReadOptions::stop`]).
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> ReadOptions {
        self.stop = Some(stop);
        self
    }
}

enum Source {
    Spec(InputSpec),
    Reader {
        name: String,
        reader: Box<dyn Read + Send>,
    },
    /// A folder entry the walk could not read: reported in its place.
    Skipped(SkippedEntry),
}

/// Counts of the input being read, for its end-of-input log line.
#[derive(Default)]
struct InputCounts {
    events: u64,
    issues: u64,
    /// Lines a line filter ruled out (counted here for chunks only).
    unparsed: u64,
}

/// Reads all inputs in order, as one stream of events and issues.
///
/// `seq` numbers events 0, 1, 2, … across all inputs in reading order.
pub struct EventReader {
    sources: VecDeque<Source>,
    current: Option<FileReader>,
    flattener: Flattener,
    forced_index: Option<Arc<str>>,
    line_filter: Option<Arc<dyn LineFilter>>,
    stats: ReadStats,
    seq: u64,
    /// Byte counts of the current input already added to the stats.
    seen: (u64, u64),
    /// Unparsed lines of the current input already added to the stats.
    seen_unparsed: u64,
    /// Blank and comment lines of the current input already added.
    seen_blank: u64,
    /// Events and issues of the current input.
    counts: InputCounts,
    /// The current input went out (partly) as line chunks: its counts are
    /// known only once they are parsed, see [`EventReader::record_chunk`].
    chunked: bool,
    /// Inputs read to their end whose chunks are not all counted yet:
    /// name, bytes, what the reader itself counted (in input order).
    deferred: VecDeque<(String, String, InputCounts)>,
    /// What the chunks of the oldest deferred input held so far.
    chunk_counts: InputCounts,
    /// Inputs whose last chunk was counted before the reader saw their
    /// end (reading and counting in one thread): what their chunks held.
    counted: VecDeque<InputCounts>,
    /// Buffers of line chunks, reused.
    pool: Arc<batch::BufferPool>,
    /// See [`ReadOptions::mmap`].
    mmap: bool,
    /// See [`ReadOptions::stop`].
    stop: Option<Arc<AtomicBool>>,
    /// See [`ReadOptions::max_line`].
    max_line: usize,
    /// Items read after a line chunk still out, counted once it is.
    order: batch::InputOrder,
    /// Issues are logged (at `debug`) as they are counted.
    log_issues: bool,
    /// Each input's start and end are logged (at `info`, `-v`).
    log_progress: bool,
}

impl EventReader {
    /// Reads the given inputs, in order.
    pub fn new(inputs: Vec<InputSpec>, options: ReadOptions) -> EventReader {
        let mut r = EventReader {
            sources: VecDeque::new(),
            current: None,
            flattener: options.flattener,
            forced_index: options.index.map(Arc::from),
            line_filter: options.line_filter,
            stats: ReadStats::new(options.max_issues),
            seq: 0,
            seen: (0, 0),
            seen_unparsed: 0,
            seen_blank: 0,
            counts: InputCounts::default(),
            chunked: false,
            deferred: VecDeque::new(),
            chunk_counts: InputCounts::default(),
            counted: VecDeque::new(),
            pool: Arc::default(),
            mmap: options.mmap,
            stop: options.stop,
            max_line: options.max_line,
            order: batch::InputOrder::default(),
            log_issues: true,
            log_progress: true,
        };
        r.sources.extend(inputs.into_iter().map(Source::Spec));
        r
    }

    /// Reads expanded arguments: the inputs in order, with each folder entry
    /// that could not be read, or was not, reported as an issue of its
    /// reason ([`SkippedEntry::reason`]) where the walk met it.
    pub fn from_expanded(expanded: Expanded, options: ReadOptions) -> EventReader {
        let mut r = EventReader::new(Vec::new(), options);
        let mut skipped = expanded.skipped.into_iter().peekable();
        for (i, spec) in expanded.inputs.into_iter().enumerate() {
            while let Some(entry) = skipped.next_if(|s| s.position <= i) {
                r.sources.push_back(Source::Skipped(entry));
            }
            r.sources.push_back(Source::Spec(spec));
        }
        r.sources.extend(skipped.map(Source::Skipped));
        r
    }

    /// Expands command-line arguments ([`expand_inputs`]) and reads them.
    /// Only a named path that cannot be found or read is an error.
    pub fn from_args<S: AsRef<str>>(
        args: &[S],
        options: ReadOptions,
    ) -> Result<EventReader, InputError> {
        Ok(EventReader::from_expanded(expand_inputs(args)?, options))
    }

    /// Reads any byte stream (stdin, a socket, a buffer) named `name`.
    pub fn from_reader(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
        options: ReadOptions,
    ) -> EventReader {
        let mut r = EventReader::new(Vec::new(), options);
        r.push_reader(name, reader);
        r
    }

    /// Queues one more input after those already queued.
    pub fn push_input(&mut self, input: InputSpec) {
        self.sources.push_back(Source::Spec(input));
    }

    /// Queues one more byte stream after those already queued.
    pub fn push_reader(&mut self, name: impl Into<String>, reader: impl Read + Send + 'static) {
        self.sources.push_back(Source::Reader {
            name: name.into(),
            reader: Box::new(reader),
        });
    }

    /// Whether issues are logged (at `debug`) as they are counted: on by
    /// default; off for a reader inside another that logs them itself.
    pub fn log_issues(&mut self, on: bool) {
        self.log_issues = on;
    }

    /// Whether each input's start and end are logged (at `info`): on by
    /// default; off for a reader inside another that tells its own truth
    /// about the input (a normalizer counts records, not documents).
    pub fn log_progress(&mut self, on: bool) {
        self.log_progress = on;
    }

    /// Counts so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub fn into_stats(self) -> ReadStats {
        self.stats
    }

    /// Reads everything: the events, and the final counts (issues are in
    /// the stats).
    pub fn read_all(mut self) -> (Vec<Event>, ReadStats) {
        let events: Vec<Event> = self.by_ref().filter_map(Result::ok).collect();
        (events, self.stats)
    }

    /// Reads the next batch (see [`batch`]): about `target` bytes of
    /// complete NDJSON lines, or items decoded already. A line chunk's
    /// events and issues are counted when its [`ChunkCounts`] come back
    /// through [`EventReader::record_chunk`]; items are counted here, or,
    /// read after a chunk not counted yet, right after it (so the stats
    /// list issues in input order). Events get no position
    /// ([`Event::seq`]) in this mode.
    pub fn next_batch(&mut self, target: usize) -> Option<Batch> {
        loop {
            if let Some(cur) = &mut self.current {
                let step = cur.next_batch(
                    target,
                    &self.flattener,
                    self.forced_index.as_ref(),
                    &self.pool,
                );
                self.sync_bytes();
                match step {
                    Some(Batch::Items(items)) => {
                        let mut events = 0;
                        let mut issues = Vec::new();
                        for item in &items {
                            match item {
                                Ok(_) => events += 1,
                                Err(issue) => issues.push(issue.clone()),
                            }
                        }
                        self.counts.events += events;
                        self.counts.issues += issues.len() as u64;
                        self.items_out(events, issues);
                        return Some(Batch::Items(items));
                    }
                    Some(lines) => {
                        self.chunked = true;
                        self.order.chunk_out();
                        return Some(lines);
                    }
                    None => {
                        if let Some(done) = self.current.take() {
                            if self.chunked {
                                let items = std::mem::take(&mut self.counts);
                                let bytes = self.bytes_text();
                                match self.counted.pop_front() {
                                    Some(chunks) if self.log_progress => {
                                        log_input(done.name(), &bytes, &items, &chunks)
                                    }
                                    Some(_) => {}
                                    None => self.deferred.push_back((
                                        done.name().to_string(),
                                        bytes,
                                        items,
                                    )),
                                }
                            } else {
                                self.log_end(done.name());
                            }
                        }
                    }
                }
            }
            match self.open_next()? {
                Ok(()) => {}
                Err(issue) => {
                    self.counts.issues += 1;
                    self.items_out(0, vec![issue.clone()]);
                    return Some(Batch::Items(vec![Err(issue)]));
                }
            }
        }
    }

    /// Items handed out in a batch: counted now, or after the chunks
    /// before them (see [`batch::InputOrder`]).
    fn items_out(&mut self, events: u64, issues: Vec<ReadIssue>) {
        if let Some((events, issues)) = self.order.items(events, issues) {
            self.count_items(events, &issues);
        }
    }

    fn count_items(&mut self, events: u64, issues: &[ReadIssue]) {
        self.stats.events += events;
        for issue in issues {
            self.count_issue(issue);
        }
    }

    /// Counts an issue in the run's stats, logging it.
    fn count_issue(&mut self, issue: &ReadIssue) {
        self.stats.record(issue);
        if self.log_issues {
            tracing::debug!("{issue}");
        }
    }

    /// Counts what parsing a line chunk found (in chunk order), then the
    /// items read after it.
    pub fn record_chunk(&mut self, counts: &ChunkCounts) {
        self.stats.events += counts.events;
        self.stats.unparsed += counts.unparsed;
        self.stats.blank += counts.blank;
        for issue in &counts.issues {
            self.count_issue(issue);
        }
        self.chunk_counts.events += counts.events;
        self.chunk_counts.issues += counts.issues.len() as u64;
        self.chunk_counts.unparsed += counts.unparsed;
        if counts.last {
            let chunks = std::mem::take(&mut self.chunk_counts);
            match self.deferred.pop_front() {
                Some((name, bytes, items)) if self.log_progress => {
                    log_input(&name, &bytes, &items, &chunks)
                }
                Some(_) => {}
                None => self.counted.push_back(chunks),
            }
        }
        let (events, issues) = self.order.chunk_counted();
        self.count_items(events, &issues);
    }

    fn sync_bytes(&mut self) {
        if let Some(cur) = &self.current {
            let (raw, decoded) = cur.bytes();
            self.stats.bytes += raw.saturating_sub(self.seen.0);
            self.stats.decoded_bytes += decoded.saturating_sub(self.seen.1);
            self.seen = (raw, decoded);
            let unparsed = cur.unparsed();
            self.stats.unparsed += unparsed.saturating_sub(self.seen_unparsed);
            self.seen_unparsed = unparsed;
            let blank = cur.blank();
            self.stats.blank += blank.saturating_sub(self.seen_blank);
            self.seen_blank = blank;
        }
    }

    /// Opens the next input; an issue if it cannot be opened.
    fn open_next(&mut self) -> Option<Result<(), ReadIssue>> {
        let source = self.sources.pop_front()?;
        self.stats.files += 1;
        self.seen = (0, 0);
        self.seen_unparsed = 0;
        self.seen_blank = 0;
        self.counts = InputCounts::default();
        self.chunked = false;
        let (name, opened) = match source {
            Source::Spec(spec) => (spec.display_name(), input::open_spec(&spec, self.mmap)),
            Source::Reader { name, reader } => {
                let opened = input::open_read(reader);
                (name, opened)
            }
            Source::Skipped(entry) => {
                let name: Arc<str> = Arc::from(entry.path.display().to_string());
                return Some(Err(ReadIssue::new(
                    &name,
                    0,
                    0,
                    entry.reason,
                    entry.message,
                )));
            }
        };
        let name: Arc<str> = Arc::from(name);
        match opened {
            Ok(o) => {
                let mut file = FileReader::new(name, o);
                file.log_progress(self.log_progress);
                file.stop_on(self.stop.clone());
                file.cap_lines(self.max_line);
                self.current = Some(file);
                Some(Ok(()))
            }
            Err(e) => Some(Err(ReadIssue::new(
                &name,
                0,
                0,
                SkipReason::Unreadable,
                format!("cannot open: {e}"),
            ))),
        }
    }

    /// Counts an issue of the current input (or of one that failed to open).
    fn record(&mut self, issue: &ReadIssue) {
        self.counts.issues += 1;
        self.count_issue(issue);
    }

    /// The end-of-input progress line.
    fn bytes_text(&self) -> String {
        let (raw, decoded) = self.seen;
        if raw == decoded {
            format!("{raw} bytes")
        } else {
            format!("{raw} bytes ({decoded} decoded)")
        }
    }

    fn log_end(&self, name: &str) {
        if !self.log_progress {
            return;
        }
        let bytes = self.bytes_text();
        let events = issue::counted(self.counts.events, "event", "events");
        let name = crate::terminal::escape_controls(name);
        tracing::info!("{name}: {events}, {} skipped, {bytes}", self.counts.issues);
    }
}

/// The end-of-input log line of an input read (partly) in chunks.
fn log_input(name: &str, bytes: &str, items: &InputCounts, chunks: &InputCounts) {
    let unparsed = match chunks.unparsed {
        0 => String::new(),
        n => format!(
            " ({} not parsed)",
            issue::counted(n, "more line", "more lines")
        ),
    };
    let events = issue::counted(items.events + chunks.events, "event", "events");
    let name = crate::terminal::escape_controls(name);
    tracing::info!(
        "{name}: {events}{unparsed}, {} skipped, {bytes}",
        items.issues + chunks.issues
    );
}

impl Iterator for EventReader {
    type Item = Result<Event, ReadIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(cur) = &mut self.current {
                let item = cur.next_item(
                    &self.flattener,
                    self.forced_index.as_ref(),
                    self.line_filter.as_deref(),
                );
                self.sync_bytes();
                match item {
                    Some(Ok(mut event)) => {
                        event.seq = self.seq;
                        self.seq += 1;
                        self.stats.events += 1;
                        self.counts.events += 1;
                        return Some(Ok(event));
                    }
                    Some(Err(issue)) => {
                        self.record(&issue);
                        return Some(Err(issue));
                    }
                    None => {
                        if let Some(done) = self.current.take() {
                            self.log_end(done.name());
                        }
                    }
                }
            }
            match self.open_next()? {
                Ok(()) => {}
                // Never opened, so no end-of-input line: the issue says it all.
                Err(issue) => {
                    self.record(&issue);
                    return Some(Err(issue));
                }
            }
        }
    }
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReader")
            .field("queued", &self.sources.len())
            .field(
                "current",
                &self.current.as_ref().map(|c| c.name().to_string()),
            )
            .field("stats", &self.stats)
            .finish()
    }
}
