//! Reading one opened input: choosing line or framed mode, then turning its
//! text into events and issues.
//!
//! The mode is chosen from the first line with content (blank lines and
//! `//` comments are skipped; a UTF-8 byte-order mark is dropped):
//! - an object complete on its own line → NDJSON, read line by line (the
//!   fast path; a bad line is one issue and reading resumes at the next);
//! - any other start of an object or array → framed values ([`Framer`]);
//! - anything else → line by line, which reports every non-JSON line.
//!
//! I/O and decompression errors end this input with one issue; the caller
//! goes on with the next input.

use std::io::{self, BufRead, Cursor, Read};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::de::IgnoredAny;

use crate::event::Event;
use crate::read::doc::{array_may_be_json, preview, DocReader, Out, Pos};
use crate::read::frame::{Framer, Unit};
use crate::read::input::{Compression, Counters, Opened};
use crate::read::issue::{ReadIssue, SkipReason};

enum Mode {
    /// Not looked at yet.
    Start(Box<dyn BufRead + Send>),
    Lines(Box<dyn BufRead + Send>),
    Frames(Framer),
    Done,
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
        }
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
        let (reason, what) = match self.compression {
            Compression::None => (SkipReason::Unreadable, "read error"),
            Compression::Gzip => (SkipReason::Decompression, "gzip"),
            Compression::Zstd => (SkipReason::Decompression, "zstd"),
        };
        ReadIssue::new(
            &self.name,
            line,
            0,
            reason,
            format!("{what}: {err}; rest of input skipped"),
        )
    }

    /// The next event or issue of this input; `None` when it is exhausted.
    pub fn next_item(
        &mut self,
        flattener: &crate::flatten::Flattener,
        forced_index: Option<&Arc<str>>,
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
                Mode::Start(r) => match detect(r) {
                    Ok(m) => self.mode = m,
                    Err(e) => return Some(Err(self.io_issue(1, &e))),
                },
                Mode::Lines(mut r) => match self.next_line(&mut r, &docs) {
                    Ok(true) => self.mode = Mode::Lines(r),
                    Ok(false) => {}
                    Err(e) => return Some(Err(self.io_issue(self.line, &e))),
                },
                Mode::Frames(mut f) => match f.next_unit() {
                    Ok(Some(unit)) => {
                        self.unit(unit, &docs);
                        self.mode = Mode::Frames(f);
                    }
                    Ok(None) => {}
                    Err(e) => return Some(Err(self.io_issue(f.line(), &e))),
                },
            }
        }
    }

    /// Reads one line; false at end of input.
    fn next_line(
        &mut self,
        r: &mut Box<dyn BufRead + Send>,
        docs: &DocReader<'_>,
    ) -> io::Result<bool> {
        self.buf.clear();
        if r.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(false);
        }
        let line = self.line;
        self.line += 1;
        match std::str::from_utf8(&self.buf) {
            Ok(text) => {
                let text = text.trim_end();
                let body = text.trim_start();
                if !body.is_empty() && !body.starts_with("//") {
                    docs.document(text, Pos { line, col: 1 }, &mut self.pending);
                }
            }
            Err(e) => self.pending.push_back(Err(ReadIssue::new(
                &self.name,
                line,
                e.valid_up_to() as u64 + 1,
                SkipReason::InvalidUtf8,
                "line is not valid UTF-8",
            ))),
        }
        Ok(true)
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
            Unit::Truncated { pos, bytes } => issue(
                pos,
                SkipReason::Truncated,
                format!("document never ends ({bytes} bytes to end of input)"),
            ),
        };
        self.pending.push_back(item);
    }
}

/// Looks at the first line with content and picks the reading mode; the
/// bytes looked at are put back in front of the stream.
fn detect(mut r: Box<dyn BufRead + Send>) -> io::Result<Mode> {
    let mut prefix = Vec::new();
    let mut lines_mode = true;
    loop {
        let start = prefix.len();
        if r.read_until(b'\n', &mut prefix)? == 0 {
            break;
        }
        if start == 0 && prefix.starts_with(b"\xEF\xBB\xBF") {
            prefix.drain(..3);
        }
        let line = prefix[start..].trim_ascii();
        if line.is_empty() || line.starts_with(b"//") {
            continue;
        }
        lines_mode = match line.first() {
            Some(b'{') => serde_json::from_slice::<IgnoredAny>(line).is_ok(),
            Some(b'[') => !array_may_be_json(line),
            _ => true,
        };
        break;
    }
    let chained: Box<dyn BufRead + Send> = Box::new(Cursor::new(prefix).chain(r));
    Ok(if lines_mode {
        Mode::Lines(chained)
    } else {
        Mode::Frames(Framer::new(chained))
    })
}
