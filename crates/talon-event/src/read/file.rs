//! Reading one opened input: choosing line or framed mode, then turning its
//! text into events and issues.
//!
//! The mode is chosen from the first line with content (blank lines and
//! `//` comments are skipped; a UTF-8 byte-order mark is dropped):
//! - an object complete on its own line → NDJSON, read line by line (the
//!   fast path; a bad line is one issue and reading resumes at the next);
//! - an object the line does not complete → framed values ([`Framer`]),
//!   unless the lines after it show NDJSON whose first lines are broken
//!   (see [`ndjson_after_broken_line`]); framed mode still hands over to
//!   line mode when it finds more broken lines first than detection looks
//!   at (see [`FileReader::line_shaped`]);
//! - any other start of an array → framed values;
//! - a JSON scalar (`42`, `"text"`) → line by line, as NDJSON with a bad
//!   line;
//! - a UTF-16 or UTF-32 byte-order mark → one `encoding` issue for the
//!   whole input, naming the encoding (its lines are not counted: they
//!   would be counted wrongly, their newlines being two or four bytes);
//! - anything else (Markdown, YAML, TOML, a raw log, binary) → not a JSON
//!   file: one issue for the whole input, with the count of its lines.
//!   Reading such a file line by line used to give one issue per line,
//!   which drowned the real problems of a folder run. Unless the lines
//!   after it are mostly one-line objects (see [`ndjson_after_junk_line`]):
//!   then it is NDJSON with a bad first line (a header, a file cut at the
//!   front), read line by line, that line one issue like any other.
//!
//! I/O and decompression errors end this input with one issue; the caller
//! goes on with the next input.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::IgnoredAny;

use crate::event::Event;
use crate::read::batch::{Batch, BufferPool, ChunkText, LineChunk, LineLedger, LineStart};
use crate::read::doc::{array_may_be_json, preview, DocReader, Out, Pos};
use crate::read::filter::{blank_or_comment, numbered_lines, LineFilter};
use crate::read::frame::{fill, Cut, Framer, Shape, Unit};
use crate::read::input::{
    decode_failure, Compression, Counters, CutShort, DecodeError, Mapped, Opened,
};
use crate::read::issue::{ReadIssue, SkipReason};
use crate::read::long::{
    read_line_capped, skip_rest_of_line, split_long_lines, too_long, Capped, Piece,
    DEFAULT_MAX_LINE_BYTES,
};

enum Mode {
    /// Not looked at yet.
    Start(Box<dyn BufRead + Send>),
    Lines(Box<dyn BufRead + Send>),
    /// Line mode over a mapped file, from this byte on.
    MappedLines(usize),
    Frames(Framer),
    /// Not JSON: read to the end only to count its lines.
    NotJson(Box<dyn BufRead + Send>),
    /// Text in an encoding other than UTF-8 (named; whether a byte-order
    /// mark said so), read to the end only to count its bytes.
    Encoding(Box<dyn BufRead + Send>, &'static str, bool),
    Done,
}

impl Mode {
    /// The format's name for progress logs.
    fn format(&self, first: Option<u8>) -> &'static str {
        match (self, first) {
            (Mode::Lines(_), None) => "empty",
            (Mode::Lines(_) | Mode::MappedLines(_), _) => "ndjson",
            (Mode::Frames(_), Some(b'[')) => "json array",
            (Mode::Frames(_), _) => "json",
            (Mode::NotJson(_), _) => "not json",
            (Mode::Encoding(_, name, _), _) => name,
            (Mode::Start(_) | Mode::Done, _) => "unknown",
        }
    }
}

pub(crate) struct FileReader {
    name: Arc<str>,
    mode: Mode,
    compression: Compression,
    counters: Arc<Counters>,
    pending: Out,
    /// Line mode: the number of the next line.
    line: u64,
    buf: Vec<u8>,
    /// Lines a line filter ruled out.
    unparsed: u64,
    /// Line mode: blank and `//` comment lines (those before the first
    /// document too).
    blank: u64,
    /// Candidate lines of the buffer being filtered, each with the number
    /// of lines before it.
    ranges: Vec<(std::ops::Range<usize>, u64)>,
    /// Mapped line mode: the line counts of the chunks handed out, and the
    /// index of the next.
    ledger: Option<(Arc<LineLedger>, usize)>,
    /// Batch reading: the start of a line the last chunk cut off.
    carry: Vec<u8>,
    /// The input mapped into memory (a plain regular file).
    mapped: Option<Mapped>,
    /// Framed mode: one-line documents since the last broken one (see
    /// [`FileReader::line_shaped`]).
    one_line_run: Option<u32>,
    /// The start of the input (and a switch to line mode) is logged.
    log_progress: bool,
    /// See [`crate::read::ReadOptions::stop`].
    stop: Option<Arc<AtomicBool>>,
    /// The longest NDJSON line read.
    max_line: usize,
}

impl FileReader {
    pub fn new(name: Arc<str>, opened: Opened) -> FileReader {
        FileReader {
            name,
            mode: Mode::Start(opened.reader),
            compression: opened.compression,
            counters: opened.counters,
            pending: Out::new(),
            line: 1,
            buf: Vec::new(),
            unparsed: 0,
            blank: 0,
            ranges: Vec::new(),
            ledger: None,
            carry: Vec::new(),
            mapped: opened.mapped,
            one_line_run: None,
            log_progress: true,
            stop: None,
            max_line: DEFAULT_MAX_LINE_BYTES,
        }
    }

    /// Reads no NDJSON line longer than `max` bytes (see
    /// [`crate::read::ReadOptions::max_line`]).
    pub fn cap_lines(&mut self, max: usize) {
        self.max_line = max;
    }

    /// Stops counting an input that is not read for events when `stop` is
    /// raised (see [`crate::read::ReadOptions::stop`]).
    pub fn stop_on(&mut self, stop: Option<Arc<AtomicBool>>) {
        self.stop = stop;
    }

    /// Whether the input's start (its format) is logged at `info`.
    pub fn log_progress(&mut self, on: bool) {
        self.log_progress = on;
    }

    /// Lines a line filter ruled out so far.
    pub fn unparsed(&self) -> u64 {
        self.unparsed
    }

    /// Blank and comment lines of line mode and between framed values so
    /// far (those of chunks are counted by their parsers).
    pub fn blank(&self) -> u64 {
        self.blank
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// (bytes as stored, bytes decoded) read so far.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.counters.raw.load(Ordering::Relaxed),
            self.counters.decoded.load(Ordering::Relaxed),
        )
    }

    fn io_issue(&self, line: u64, err: &io::Error) -> ReadIssue {
        if let Some(cut) = err.get_ref().and_then(|e| e.downcast_ref::<CutShort>()) {
            return ReadIssue::new(
                &self.name,
                line,
                0,
                SkipReason::Unreadable,
                format!("{cut}; this line and any after it were not read"),
            );
        }
        // A stream the caller decoded itself names its compression.
        if let Some(decode) = DecodeError::of(err) {
            return ReadIssue::new(
                &self.name,
                line,
                0,
                SkipReason::Decompression,
                format!("{decode}; rest of input skipped"),
            );
        }
        let (reason, what) = match self.compression {
            Compression::None => (SkipReason::Unreadable, format!("read error: {err}")),
            c => (SkipReason::Decompression, decode_failure(c, err)),
        };
        ReadIssue::new(
            &self.name,
            line,
            0,
            reason,
            format!("{what}; rest of input skipped"),
        )
    }

    /// The next event or issue of this input; `None` when it is exhausted.
    pub fn next_item(
        &mut self,
        flattener: &crate::flatten::Flattener,
        forced_index: Option<&Arc<str>>,
        filter: Option<&dyn LineFilter>,
    ) -> Option<Result<Event, ReadIssue>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            let mode = std::mem::replace(&mut self.mode, Mode::Done);
            let name = Arc::clone(&self.name);
            let docs = DocReader {
                flattener,
                forced_index,
                file: &name,
            };
            match mode {
                Mode::Done => return None,
                Mode::Start(r) => {
                    if let Err(e) = self.start(r) {
                        return Some(Err(self.io_issue(1, &e)));
                    }
                }
                Mode::MappedLines(pos) => {
                    let end = self.mapped_line(pos, &docs, filter);
                    match end {
                        Some(end) => self.mode = Mode::MappedLines(end),
                        None => self.note_growth(),
                    }
                }
                Mode::NotJson(mut r) => {
                    let (lines, err) = count_content_lines(&mut r, self.stop.as_deref());
                    let s = if lines == 1 { "" } else { "s" };
                    let stopped = match err {
                        Some(Counted::Stopped) => ", then reading stopped before its end",
                        _ => "",
                    };
                    self.pending.push_back(Err(ReadIssue::new(
                        &self.name,
                        self.line,
                        0,
                        SkipReason::NotJson,
                        format!("not a JSON event file ({lines} line{s} skipped{stopped})"),
                    )));
                    if let Some(Counted::Failed(e)) = err {
                        let issue = self.io_issue(0, &e);
                        self.pending.push_back(Err(issue));
                    }
                }
                Mode::Encoding(mut r, encoding, marked) => {
                    let how = if marked {
                        "byte-order mark"
                    } else {
                        "no byte-order mark, but NUL bytes between its first characters"
                    };
                    self.pending.push_back(Err(ReadIssue::new(
                        &self.name,
                        0,
                        0,
                        SkipReason::Encoding,
                        format!(
                            "file is {encoding} ({how}); convert it to UTF-8, \
                             e.g. iconv -f {encoding} -t UTF-8"
                        ),
                    )));
                    if let (_, Some(Counted::Failed(e))) =
                        count_content_lines(&mut r, self.stop.as_deref())
                    {
                        let issue = self.io_issue(0, &e);
                        self.pending.push_back(Err(issue));
                    }
                }
                Mode::Lines(mut r) => match match filter {
                    Some(f) => self.next_lines_filtered(&mut r, &docs, f),
                    None => self.next_line(&mut r, &docs),
                } {
                    Ok(true) => self.mode = Mode::Lines(r),
                    Ok(false) => {}
                    Err(e) => return Some(Err(self.io_issue(self.line, &e))),
                },
                Mode::Frames(mut f) => {
                    let next = f.next_unit();
                    self.blank += f.take_blank();
                    match next {
                        Ok(Some(unit)) => {
                            let line_shaped = self.line_shaped(&unit, &mut f);
                            self.blank += f.take_blank();
                            self.unit(unit, &docs);
                            self.mode = match line_shaped {
                                true => self.lines_from(f),
                                false => Mode::Frames(f),
                            };
                        }
                        Ok(None) => {}
                        Err(e) => return Some(Err(self.io_issue(f.line(), &e))),
                    }
                }
            }
        }
    }

    /// The next batch of this input (see [`crate::read::batch`]): complete
    /// lines in line mode, decoded items otherwise; `None` when it is
    /// exhausted. Issues met while reading lines (an I/O error) come as
    /// items after the lines read before them.
    pub fn next_batch(
        &mut self,
        target: usize,
        flattener: &crate::flatten::Flattener,
        forced_index: Option<&Arc<str>>,
        pool: &Arc<BufferPool>,
    ) -> Option<Batch> {
        loop {
            if !self.pending.is_empty() {
                return Some(Batch::Items(self.pending.drain(..).collect()));
            }
            match std::mem::replace(&mut self.mode, Mode::Done) {
                Mode::Done => return None,
                Mode::Start(r) => {
                    if let Err(e) = self.start(r) {
                        return Some(Batch::Items(vec![Err(self.io_issue(1, &e))]));
                    }
                }
                Mode::Lines(mut r) => {
                    let mut text = pool.take(target + (64 << 10));
                    let read =
                        read_lines(&mut r, &mut self.carry, &mut text, target, self.max_line);
                    let lines = count_newlines(&text);
                    let first_line = self.line;
                    self.line += lines;
                    let last = match read {
                        Ok(Filled::More) => {
                            self.mode = Mode::Lines(r);
                            false
                        }
                        Ok(Filled::End) => true,
                        Ok(Filled::Long(read)) => {
                            let more = self.pass_long_line(&mut r, read);
                            if more {
                                self.mode = Mode::Lines(r);
                            }
                            !more
                        }
                        Err(e) => {
                            let issue = self.io_issue(self.line, &e);
                            self.pending.push_back(Err(issue));
                            true
                        }
                    };
                    return Some(Batch::Lines(LineChunk::new(
                        Arc::clone(&self.name),
                        ChunkText::Owned(text),
                        LineStart::Known(first_line),
                        last,
                        Some(Arc::clone(pool)),
                    )));
                }
                Mode::MappedLines(pos) => {
                    let Some(mapped) = &self.mapped else {
                        return None;
                    };
                    let map = Arc::clone(&mapped.map);
                    let end = match pos.saturating_add(target) {
                        cut if cut >= map.len() => map.len(),
                        cut => {
                            memchr::memchr(b'\n', &map[cut..]).map_or(map.len(), |i| cut + i + 1)
                        }
                    };
                    // Not counted here: the worker that parses the chunk
                    // numbers its lines (see `LineLedger`), so this thread
                    // never reads the bytes and is never the bottleneck.
                    let (ledger, index) = self
                        .ledger
                        .get_or_insert_with(|| (Arc::new(LineLedger::new(self.line)), 0));
                    let start = LineStart::Ledger(Arc::clone(ledger), *index);
                    *index += 1;
                    let n = (end - pos) as u64;
                    self.counters.raw.fetch_add(n, Ordering::Relaxed);
                    self.counters.decoded.fetch_add(n, Ordering::Relaxed);
                    let last = end >= map.len();
                    if !last {
                        self.mode = Mode::MappedLines(end);
                    } else {
                        self.note_growth();
                    }
                    return Some(Batch::Lines(LineChunk::new(
                        Arc::clone(&self.name),
                        ChunkText::Mapped(map, pos..end),
                        start,
                        last,
                        None,
                    )));
                }
                other => {
                    self.mode = other;
                    let mut items = Vec::new();
                    while items.len() < ITEMS_PER_BATCH {
                        match self.next_item(flattener, forced_index, None) {
                            Some(item) => items.push(item),
                            None => break,
                        }
                        // Framed mode handed over to line mode: its lines
                        // go out as chunks.
                        if self.pending.is_empty()
                            && matches!(self.mode, Mode::Lines(_) | Mode::MappedLines(_))
                        {
                            break;
                        }
                    }
                    return (!items.is_empty()).then_some(Batch::Items(items));
                }
            }
        }
    }

    /// Looks at the input's start and chooses the mode (see [`detect`]);
    /// line mode over a mapped file reads the mapping itself, from the
    /// first line with content.
    fn start(&mut self, r: Box<dyn BufRead + Send>) -> io::Result<()> {
        let (mode, line, first, skipped) = detect(r, self.max_line)?;
        if matches!(mode, Mode::Lines(_)) {
            self.blank += skipped;
        }
        if self.log_progress {
            tracing::info!(
                "reading {} ({}, {}{})",
                crate::terminal::escape_controls(&self.name),
                mode.format(first),
                self.compression.name(),
                if self.mapped.is_some() {
                    ", mapped"
                } else {
                    ""
                }
            );
        }
        self.line = line;
        self.mode = match (mode, self.mapped.clone()) {
            // Detection skipped `line - 1` lines (blank or `//`).
            (Mode::Lines(_), Some(m)) => self.mapped_from(m, line),
            (mode, _) => mode,
        };
        Ok(())
    }

    /// At the end of a mapped file: if it grew while it was read, a
    /// [`SkipReason::Grown`] issue says how much was not read.
    fn note_growth(&mut self) {
        let Some(grown) = self.mapped.as_ref().and_then(|m| m.map.grown()) else {
            return;
        };
        let mapped = self.mapped.as_ref().map_or(0, |m| m.map.len());
        self.pending.push_back(Err(ReadIssue::new(
            &self.name,
            0,
            0,
            SkipReason::Grown,
            format!(
                "the file grew by {grown} bytes while talon read it; it was mapped into \
                 memory at {mapped} bytes, so what was added was not read \
                 (--no-mmap reads a growing file to its end)"
            ),
        )));
    }

    /// Reports line `line`, `len` bytes long (at least, unless `exact`),
    /// as too long to read.
    fn long_line(&mut self, line: u64, len: u64, exact: bool) {
        let issue = too_long(&self.name, line, len, exact, self.max_line);
        self.pending.push_back(Err(issue));
    }

    /// Passes over the rest of a line too long to read, of which `read`
    /// bytes were read, and reports it: it is line `self.line`. Whether the
    /// input goes on after it.
    fn pass_long_line(&mut self, r: &mut Box<dyn BufRead + Send>, read: u64) -> bool {
        let line = self.line;
        self.line += 1;
        match skip_rest_of_line(r, self.stop.as_deref()) {
            Ok((rest, ended)) => {
                let stopped = !ended
                    && self
                        .stop
                        .as_ref()
                        .is_some_and(|s| s.load(Ordering::Relaxed));
                self.long_line(line, read + rest, !stopped);
                ended
            }
            Err(e) => {
                self.long_line(line, read, false);
                let issue = self.io_issue(line, &e);
                self.pending.push_back(Err(issue));
                false
            }
        }
    }

    /// Line mode over a mapped file, item by item: the line at `pos` (all
    /// the lines up to a buffer's worth with a line filter); the position
    /// after them, `None` at the end.
    fn mapped_line(
        &mut self,
        pos: usize,
        docs: &DocReader<'_>,
        filter: Option<&dyn LineFilter>,
    ) -> Option<usize> {
        let map = Arc::clone(&self.mapped.as_ref()?.map);
        let rest = map.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            return None;
        }
        let end = match filter {
            None => memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1),
            Some(_) => match rest.len() > BATCH_REGION {
                true => memchr::memchr(b'\n', &rest[BATCH_REGION..])
                    .map_or(rest.len(), |i| BATCH_REGION + i + 1),
                false => rest.len(),
            },
        };
        let region = &rest[..end];
        let n = end as u64;
        self.counters.raw.fetch_add(n, Ordering::Relaxed);
        self.counters.decoded.fetch_add(n, Ordering::Relaxed);
        match filter {
            None => {
                let len = region.strip_suffix(b"\n").unwrap_or(region).len();
                if len > self.max_line {
                    self.long_line(self.line, len as u64, true);
                } else {
                    self.blank += u64::from(line_item(
                        &self.name,
                        region,
                        self.line,
                        docs,
                        &mut self.pending,
                    ));
                }
                self.line += 1;
            }
            Some(f) => {
                let mut pieces = Vec::new();
                match split_long_lines(region, self.max_line, &mut pieces) {
                    None => self.filtered_lines(region, f, docs),
                    Some(_) => {
                        for piece in pieces {
                            match piece {
                                Piece::Lines(range, _) => {
                                    self.filtered_lines(&region[range], f, docs);
                                }
                                Piece::Long(len, _) => {
                                    self.long_line(self.line, len, true);
                                    self.line += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(pos + end)
    }

    /// Reads one line; false at end of input.
    fn next_line(
        &mut self,
        r: &mut Box<dyn BufRead + Send>,
        docs: &DocReader<'_>,
    ) -> io::Result<bool> {
        let line = self.line;
        match read_line_capped(r, &mut self.buf, self.max_line, self.stop.as_deref())? {
            Capped::End => return Ok(false),
            Capped::Line => {}
            Capped::Long(len, exact) => {
                self.line += 1;
                self.long_line(line, len, exact);
                return Ok(true);
            }
        }
        self.line += 1;
        self.blank += u64::from(line_item(
            &self.name,
            &self.buf,
            line,
            docs,
            &mut self.pending,
        ));
        Ok(true)
    }

    /// Line mode with a filter: takes the complete lines in the read
    /// buffer at once, parses the ones the filter picks and counts the
    /// rest. A line longer than the buffer is read whole first. False at
    /// end of input.
    fn next_lines_filtered(
        &mut self,
        r: &mut Box<dyn BufRead + Send>,
        docs: &DocReader<'_>,
        filter: &dyn LineFilter,
    ) -> io::Result<bool> {
        let chunk = fill(r)?;
        if chunk.is_empty() {
            return Ok(false);
        }
        let newline = memchr::memrchr(b'\n', chunk);
        let Some(last) = newline else {
            // No newline in the buffer: one long (or last) line.
            let line = self.line;
            self.line += 1;
            if let Capped::Long(len, exact) =
                read_line_capped(r, &mut self.buf, self.max_line, self.stop.as_deref())?
            {
                self.long_line(line, len, exact);
                return Ok(true);
            }
            if self.buf.last() != Some(&b'\n') {
                self.buf.push(b'\n');
            }
            let end = self.buf.len() - 1;
            if filter.next_candidate(&self.buf, 0).is_some() {
                self.blank += u64::from(line_item(
                    &self.name,
                    &self.buf[..end],
                    line,
                    docs,
                    &mut self.pending,
                ));
            } else if blank_or_comment(&self.buf[..end]) {
                self.blank += 1;
            } else {
                self.unparsed += 1;
            }
            return Ok(true);
        };
        let region = &r.fill_buf()?[..=last];
        self.filtered_lines(region, filter, docs);
        r.consume(last + 1);
        Ok(true)
    }

    /// Parses the lines of `region` (whole lines, the last maybe without
    /// its newline) that `filter` picks, counts the others as blank or
    /// comment lines or as unparsed, and moves the line count past them
    /// all.
    fn filtered_lines(&mut self, region: &[u8], filter: &dyn LineFilter, docs: &DocReader<'_>) {
        self.ranges.clear();
        let n = numbered_lines(region, Some(filter), &mut self.ranges);
        let mut blank = n.blank;
        for (range, before) in &self.ranges {
            let line = self.line + before;
            blank += u64::from(line_item(
                &self.name,
                &region[range.clone()],
                line,
                docs,
                &mut self.pending,
            ));
        }
        self.blank += blank;
        self.unparsed += n.lines - self.ranges.len() as u64 - n.blank;
        self.line += n.lines;
    }

    fn unit(&mut self, unit: Unit, docs: &DocReader<'_>) {
        let issue = |pos: Pos, reason, msg: String| {
            Err(ReadIssue::new(&self.name, pos.line, pos.col, reason, msg))
        };
        let item = match unit {
            Unit::Value { text, pos } => {
                docs.document(&text, pos, &mut self.pending);
                return;
            }
            Unit::Junk { text, pos } => issue(
                pos,
                SkipReason::NotJson,
                format!("not JSON: {}", preview(&text)),
            ),
            Unit::BadUtf8 { pos } => issue(
                pos,
                SkipReason::InvalidUtf8,
                "document is not valid UTF-8".to_string(),
            ),
            Unit::Truncated { text, pos, bytes } => {
                if let Some(text) = &text {
                    if docs.cut_document(text, pos, "end of input", &mut self.pending) {
                        return;
                    }
                }
                issue(
                    pos,
                    SkipReason::Truncated,
                    format!("document never ends ({bytes} bytes to end of input)"),
                )
            }
            Unit::Broken {
                text,
                pos,
                bytes,
                cut,
            } => {
                let until = match cut {
                    Cut::NewValue(at) => format!("line {}, where a new document starts", at.line),
                    Cut::ArrayEnd(at) => format!("line {}, where the array ends", at.line),
                };
                if let Some(text) = &text {
                    if docs.cut_document(text, pos, &until, &mut self.pending) {
                        return;
                    }
                }
                let by = match cut {
                    Cut::NewValue(at) => {
                        format!("line {} starts a new one at column {}", at.line, at.col)
                    }
                    Cut::ArrayEnd(at) => format!(
                        "the `]` at line {}, column {} ends the array",
                        at.line, at.col
                    ),
                };
                issue(
                    pos,
                    SkipReason::InvalidJson,
                    format!("document never closed: {by} ({bytes} bytes skipped)"),
                )
            }
            Unit::Empty { pos } => issue(
                pos,
                SkipReason::Empty,
                "an empty array holds no event".to_string(),
            ),
            Unit::Unclosed { pos } => issue(
                pos,
                SkipReason::Truncated,
                "array never closed: the input ends before its `]` \
                 (the complete elements before were read)"
                    .to_string(),
            ),
        };
        self.pending.push_back(item);
    }
}

impl FileReader {
    /// Framed mode: whether the input turned out to be NDJSON after all,
    /// seen from `unit`, the unit just framed. It is once a document cut
    /// short by the next line (`Broken`) is followed by `LINE_SHAPED`
    /// documents that each fill one whole line: line mode then reads the
    /// rest (see [`FileReader::lines_from`]), with the line filter and on
    /// the worker threads, rather than framing every line.
    fn line_shaped(&mut self, unit: &Unit, f: &mut Framer) -> bool {
        self.one_line_run = match (unit, self.one_line_run) {
            (Unit::Broken { .. }, _) => Some(0),
            (Unit::Value { text, pos }, Some(n))
                if pos.col == 1 && !text.contains('\n') && f.finish_line() && f.at_line_start() =>
            {
                Some(n + 1)
            }
            _ => None,
        };
        self.one_line_run >= Some(LINE_SHAPED)
    }

    /// Line mode from where the framer stopped (the start of a line).
    fn lines_from(&mut self, f: Framer) -> Mode {
        let (r, line) = f.into_parts();
        if self.log_progress {
            tracing::info!(
                "{}: line-shaped from line {line} on: read as ndjson",
                self.name
            );
        }
        self.one_line_run = None;
        self.line = line;
        match &self.mapped {
            Some(m) => self.mapped_from(m.clone(), line),
            None => Mode::Lines(r),
        }
    }

    /// Mapped line mode from line `line` (1 at the text's start).
    fn mapped_from(&mut self, m: Mapped, line: u64) -> Mode {
        let text = &m.map[m.start..];
        let at = match line.saturating_sub(1) as usize {
            0 => 0,
            n => memchr::memchr_iter(b'\n', text)
                .nth(n - 1)
                .map_or(text.len(), |i| i + 1),
        };
        // What was read of the mapping as a stream is read again from
        // here: count bytes from here.
        self.counters
            .raw
            .store((m.start + at) as u64, Ordering::Relaxed);
        self.counters.decoded.store(at as u64, Ordering::Relaxed);
        Mode::MappedLines(m.start + at)
    }
}

/// One-line documents after a broken one that make framed mode hand over
/// to line mode: one could be a compact object among pretty-printed ones.
const LINE_SHAPED: u32 = 2;

/// One line of line mode (with or without its newline): a document, a
/// skipped blank or comment line (true: nothing is pushed, the caller
/// counts it), or an issue.
pub(crate) fn line_item(
    name: &Arc<str>,
    bytes: &[u8],
    line: u64,
    docs: &DocReader<'_>,
    out: &mut Out,
) -> bool {
    if blank_or_comment(bytes) {
        return true;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        // A last line cut inside a multi-byte character (a cut scroll
        // dump): its complete part may still hold hits.
        Err(e) if e.error_len().is_none() && !bytes[..e.valid_up_to()].trim_ascii().is_empty() => {
            Ok(std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default())
        }
        Err(e) => Err(e),
    };
    match text {
        // A byte order mark opening a line (files joined with `cat`, each
        // with its own) is not part of the document, as a JSON parser
        // reading that line alone skips it.
        Ok(text) => match text.strip_prefix('\u{feff}') {
            // Columns count bytes: the document starts after the mark's 3.
            Some(rest) => docs.document(rest.trim_end(), Pos { line, col: 4 }, out),
            None => docs.document(text.trim_end(), Pos { line, col: 1 }, out),
        },
        Err(e) => out.push_back(Err(ReadIssue::new(
            name,
            line,
            e.valid_up_to() as u64 + 1,
            SkipReason::InvalidUtf8,
            "line is not valid UTF-8",
        ))),
    }
    false
}

/// Looks at the first line with content and picks the reading mode.
/// Returns the mode, the line number reading starts at, the first byte
/// of content (`None` for an empty input), and the blank and `//` lines
/// before it (`line - 1`, and at the end of an input without content a
/// last blank line without a newline).
///
/// Blank and `//` lines before it are consumed (and counted). The content
/// line itself is only peeked at in the buffer when it starts an array. It
/// is read whole otherwise (up to `LOOK_BYTES`), with the lines after it
/// when it does not settle the mode, and put back in front of the stream:
/// an object, to see whether it is complete on its own (NDJSON); anything
/// else, to see whether it is a JSON scalar or NDJSON follows it. A huge
/// one-line array is therefore never held in memory just to choose the
/// mode.
fn detect(
    mut r: Box<dyn BufRead + Send>,
    max_line: usize,
) -> io::Result<(Mode, u64, Option<u8>, u64)> {
    if let Some((encoding, marked)) = utf16_or_32(fill(&mut r)?) {
        return Ok((Mode::Encoding(r, encoding, marked), 1, None, 0));
    }
    let mut line = 1u64;
    let mut scratch = Vec::new();
    // Blanks after the last newline consumed.
    let mut partial = false;
    // The line whose opening byte order mark was consumed (or looked
    // for), and how many of its bytes a short buffer held so far.
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let (mut bom_line, mut bom_seen) = (None, 0);
    loop {
        let buf = fill(&mut r)?;
        let Some(first) = buf.iter().position(|b| !b.is_ascii_whitespace()) else {
            if buf.is_empty() {
                let skipped = line - 1 + u64::from(partial);
                return Ok((Mode::Lines(r), line, None, skipped));
            }
            let (n, newlines) = (buf.len(), count_newlines(buf));
            partial = buf.last() != Some(&b'\n');
            r.consume(n);
            line += newlines;
            continue;
        };
        if let Some(nl) = memchr::memrchr(b'\n', &buf[..first]) {
            let newlines = count_newlines(&buf[..=nl]);
            r.consume(nl + 1);
            line += newlines;
            partial = false;
            continue;
        }
        let rest = &buf[first..];
        // A byte order mark opening a line after the first (files joined
        // with `cat`) is skipped as line mode skips it: the line is blank
        // without it, or it holds the first document. A buffer may hold
        // only the mark's first bytes.
        if first == 0 && !partial && bom_line != Some(line) {
            let want = &BOM[bom_seen..];
            let k = want.len().min(rest.len());
            if rest[..k] == want[..k] {
                r.consume(k);
                bom_seen += k;
                if bom_seen == BOM.len() {
                    (bom_line, bom_seen) = (Some(line), 0);
                }
                continue;
            }
            (bom_line, bom_seen) = (Some(line), 0);
        }
        if rest.starts_with(b"//") {
            scratch.clear();
            r.read_until(b'\n', &mut scratch)?;
            line += 1;
            partial = false;
            continue;
        }
        let rest_of_line = match memchr::memchr(b'\n', rest) {
            Some(end) => &rest[..end],
            None => rest,
        };
        let first = rest[0];
        let mode = match first {
            b'[' if array_may_be_json(rest_of_line) => Mode::Frames(Framer::new(r, line)),
            b'{' => {
                let mut prefix = Vec::new();
                r.by_ref()
                    .take(max_line as u64)
                    .read_until(b'\n', &mut prefix)?;
                // A first line too long to hold is taken as NDJSON: line
                // mode reports it and reads on. (Taking the cap, not one
                // byte more, keeps a power-of-two cap from doubling the
                // buffer; a line of exactly the cap is taken as NDJSON
                // too, which a complete object on its line is anyway.)
                let long = prefix.len() >= max_line && prefix.last() != Some(&b'\n');
                let complete = long
                    || is_complete_object(prefix.trim_ascii())
                    || ndjson_after_broken_line(&mut r, &mut prefix)?;
                let chained: Box<dyn BufRead + Send> = Box::new(Cursor::new(prefix).chain(r));
                if complete {
                    Mode::Lines(chained)
                } else {
                    Mode::Frames(Framer::new(chained, line))
                }
            }
            _ => {
                // The buffer may hold only the line's first bytes (a
                // stream's first read hands over four, see `SkipBom`):
                // `"header"` looked like `"hea`, no JSON, and `2026-12-04
                // sshd ...` like `2026`, a number. The line is read whole
                // before it is judged.
                let mut prefix = Vec::new();
                r.by_ref().take(LOOK_BYTES).read_until(b'\n', &mut prefix)?;
                let ndjson =
                    is_json_scalar(&prefix) || ndjson_after_junk_line(&mut r, &mut prefix)?;
                let chained: Box<dyn BufRead + Send> = Box::new(Cursor::new(prefix).chain(r));
                match ndjson {
                    true => Mode::Lines(chained),
                    false => Mode::NotJson(chained),
                }
            }
        };
        return Ok((mode, line, Some(first), line - 1));
    }
}

/// The encoding a UTF-16 or UTF-32 byte-order mark at the start names
/// (`true`), or, without a mark, the one the NUL bytes among the first
/// four betray (`false`): JSON text begins with an ASCII character, and
/// UTF-8 text has no NUL byte there. (A UTF-8 mark was already dropped
/// when the input was opened.)
fn utf16_or_32(start: &[u8]) -> Option<(&'static str, bool)> {
    match start {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32LE", true)),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32BE", true)),
        [0xFF, 0xFE, ..] => Some(("UTF-16LE", true)),
        [0xFE, 0xFF, ..] => Some(("UTF-16BE", true)),
        [a, 0, 0, 0, ..] if *a != 0 => Some(("UTF-32LE", false)),
        [0, 0, 0, a, ..] if *a != 0 => Some(("UTF-32BE", false)),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(("UTF-16LE", false)),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(("UTF-16BE", false)),
        _ => None,
    }
}

/// A line holding one JSON scalar: the input is JSON lines, one of them not
/// an object, rather than text that is not JSON at all.
fn is_json_scalar(line: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(line.trim_ascii()).is_ok()
}

/// Why [`count_content_lines`] did not count to the end of its input.
enum Counted {
    /// An I/O error.
    Failed(io::Error),
    /// The stop flag was raised (see [`crate::read::ReadOptions::stop`]).
    Stopped,
}

/// Reads to the end, counting lines with content (what line-by-line reading
/// would have reported). Counted chunk by chunk, so a huge file without
/// newlines is never held in memory. An I/O error stops the count, and so
/// does `stop`, raised, before each chunk: an endless input
/// (`/dev/urandom`) is only ever counted, and would hold the caller up.
fn count_content_lines(
    r: &mut Box<dyn BufRead + Send>,
    stop: Option<&AtomicBool>,
) -> (u64, Option<Counted>) {
    let (mut lines, mut content) = (0u64, false);
    loop {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return (lines + u64::from(content), Some(Counted::Stopped));
        }
        let chunk = match fill(r) {
            Ok(c) => c,
            Err(e) => return (lines + u64::from(content), Some(Counted::Failed(e))),
        };
        if chunk.is_empty() {
            return (lines + u64::from(content), None);
        }
        for &b in chunk {
            if b == b'\n' {
                lines += u64::from(content);
                content = false;
            } else if !b.is_ascii_whitespace() {
                content = true;
            }
        }
        let n = chunk.len();
        r.consume(n);
    }
}

fn is_complete_object(line: &[u8]) -> bool {
    line.first() == Some(&b'{') && serde_json::from_slice::<IgnoredAny>(line).is_ok()
}

/// When the first line starts an object it does not complete, whether the
/// input is NDJSON with broken lines after all: reads on, up to
/// `LOOK_LINES` lines with content or `LOOK_BYTES` bytes, onto `prefix`
/// (which holds the first line), following the open document as framing
/// would (see [`Shape`]). It is NDJSON when a line that holds a complete
/// object on its own, from column 1, cannot belong to the document before
/// it (framing would cut there, or the first line's document closed on the
/// first line), and the next line with content, if any, is a complete
/// object too (so that one compact object among pretty-printed documents
/// does not send them to line mode). Framing NDJSON would read it object
/// by object, without the line filter and on one thread.
fn ndjson_after_broken_line(
    r: &mut Box<dyn BufRead + Send>,
    prefix: &mut Vec<u8>,
) -> io::Result<bool> {
    let mut shape = Shape::default();
    shape.feed(prefix);
    let (mut second, mut candidate) = (true, false);
    let (mut budget, mut lines) = (LOOK_BYTES, 0);
    loop {
        let start = prefix.len();
        let n = r.by_ref().take(budget).read_until(b'\n', prefix)? as u64;
        budget -= n;
        let line = &prefix[start..];
        if n == 0 {
            // The end of input (or of what detection reads: no verdict).
            return Ok(candidate && budget > 0);
        }
        if budget == 0 && line.last() != Some(&b'\n') {
            return Ok(false);
        }
        if blank_or_comment(line) {
            continue;
        }
        let body = line.trim_ascii();
        let complete = line[0] == b'{' && is_complete_object(body);
        if candidate && complete {
            return Ok(true);
        }
        let cut = line[0] == b'{' && (shape.object_would_break() || (second && shape.depth() == 0));
        candidate = cut && complete;
        if cut {
            shape = Shape::default();
        }
        shape.feed(line);
        second = false;
        lines += 1;
        if lines > LOOK_LINES && !candidate {
            return Ok(false);
        }
    }
}

/// When the first line with content (in `prefix`) is not JSON at all,
/// whether the input is NDJSON all the same: a header line (`# exported
/// by ...`), or a file cut at the front (`tail -c`) whose first line is
/// the end of an event. Reads up to `LOOK_LINES` more lines with content
/// onto `prefix`, at most `LOOK_BYTES` in all. It is NDJSON when more than
/// half of those lines (and at least one) hold a complete object each: one
/// such line amid prose (an example in a README) leaves a file not JSON,
/// and one issue, rather than one issue per line of prose. A line the
/// budget cuts is not judged.
fn ndjson_after_junk_line(
    r: &mut Box<dyn BufRead + Send>,
    prefix: &mut Vec<u8>,
) -> io::Result<bool> {
    if prefix.last() != Some(&b'\n') {
        // The whole input is one line, or the line is longer than the look.
        return Ok(false);
    }
    let mut budget = LOOK_BYTES.saturating_sub(prefix.len() as u64);
    let (mut lines, mut objects) = (0u32, 0u32);
    while lines < LOOK_LINES {
        let start = prefix.len();
        let n = r.by_ref().take(budget).read_until(b'\n', prefix)? as u64;
        budget -= n;
        let line = &prefix[start..];
        if n == 0 || (budget == 0 && line.last() != Some(&b'\n')) {
            break;
        }
        if blank_or_comment(line) {
            continue;
        }
        lines += 1;
        objects += u32::from(is_complete_object(line.trim_ascii()));
    }
    Ok(objects > 0 && objects * 2 > lines)
}

/// Lines with content after a broken first line that detection reads at
/// most (one more to confirm a candidate), and their bytes.
const LOOK_LINES: u32 = 16;
const LOOK_BYTES: u64 = 1 << 20;

/// Bytes of a mapped file's lines one item-by-item step filters at once.
const BATCH_REGION: usize = 256 << 10;

/// Items decoded per batch in modes other than line mode.
const ITEMS_PER_BATCH: usize = 256;

/// How [`read_lines`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Filled {
    /// `text` holds lines and the input goes on.
    More,
    /// The input ended: `text` holds its last lines.
    End,
    /// `text` holds the lines before one longer than the cap,
    /// whose first bytes (this many) were read and dropped: the input is
    /// positioned inside it.
    Long(u64),
}

/// Fills `text` (a buffer whose length is its capacity, all initialized)
/// with complete lines: first `carry` (the part line the last chunk left),
/// then reads, straight into `text` (large reads bypass the reader's own
/// buffer, so bytes are copied once), until `target` bytes and a newline
/// are in. What follows the last newline is kept in `carry`; a last line
/// without a newline gets one. `text` is cut to the lines. A line that
/// grows past `max_line` bytes stops the filling ([`Filled::Long`]).
/// On an error, `text` keeps the complete lines read before it.
fn read_lines(
    r: &mut Box<dyn BufRead + Send>,
    carry: &mut Vec<u8>,
    text: &mut Vec<u8>,
    target: usize,
    max_line: usize,
) -> io::Result<Filled> {
    let mut filled = 0;
    put(text, &mut filled, carry);
    carry.clear();
    // Where the line being filled starts: after the last newline read.
    // (`carry` holds none.)
    let mut line_start = 0;
    let mut more = true;
    loop {
        if filled >= target && line_start > 0 {
            break;
        }
        if filled - line_start > max_line {
            text.truncate(line_start);
            return Ok(Filled::Long((filled - line_start) as u64));
        }
        if filled == text.len() {
            // Room for the chunk and one line of the cap at most: a long
            // line stops the filling before it needs more.
            let most = target.saturating_add(max_line).saturating_add(64 << 10);
            let grown = (text.len() * 2)
                .max(64 << 10)
                .min(most)
                .max(text.len() + (64 << 10));
            text.resize(grown, 0);
        }
        match r.read(&mut text[filled..]) {
            Ok(0) => {
                more = false;
                break;
            }
            Ok(n) => {
                if let Some(nl) = memchr::memrchr(b'\n', &text[filled..filled + n]) {
                    line_start = filled + nl + 1;
                }
                filled += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // A line cut by the error is not read: the error says
                // where reading stopped.
                text.truncate(line_start);
                return Err(e);
            }
        }
    }
    if more {
        // `filled` holds a newline: the loop only stops early at the end.
        carry.extend_from_slice(&text[line_start..filled]);
        text.truncate(line_start);
        Ok(Filled::More)
    } else {
        text.truncate(filled);
        if text.last().is_some_and(|b| *b != b'\n') {
            text.push(b'\n');
        }
        Ok(Filled::End)
    }
}

/// Copies `bytes` into `text` at `filled`, growing it as needed.
fn put(text: &mut Vec<u8>, filled: &mut usize, bytes: &[u8]) {
    let end = *filled + bytes.len();
    if end > text.len() {
        text.resize(end.max(text.len() * 2), 0);
    }
    text[*filled..end].copy_from_slice(bytes);
    *filled = end;
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}
