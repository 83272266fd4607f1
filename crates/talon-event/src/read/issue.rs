//! What went wrong while reading, and the running count of everything read
//! or skipped.
//!
//! Nothing is dropped silently: every skipped document or unreadable input
//! is one [`ReadIssue`], counted by [`SkipReason`] in [`ReadStats`]. Only the
//! first few issues are kept verbatim (for display); the counts are exact.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::terminal::escape_controls;

/// Why a document, a line or a whole input was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// The text is not JSON at all: one line of a JSON input, or a whole
    /// input that is not JSON (a README, YAML, a raw auditd log), which is
    /// reported once for the file.
    NotJson,
    /// It starts like JSON but is malformed.
    InvalidJson,
    /// Valid JSON, but not an object (a number, a string, ...).
    NotAnObject,
    /// A line longer than [`ReadOptions::max_line`](crate::read::ReadOptions::max_line):
    /// not held in memory, so not read.
    TooLong,
    /// The bytes are not valid UTF-8.
    InvalidUtf8,
    /// A whole input in another encoding, named by its byte-order mark
    /// (UTF-16, UTF-32): reported once, not line by line.
    Encoding,
    /// A document that started but never ended before the end of the input
    /// (the complete hits of a cut search response are read first), or a
    /// top-level array whose `]` never came.
    Truncated,
    /// An object holds the same key twice: Elasticsearch refuses to index
    /// such a document ("Duplicate field"), so it is not read as one.
    DuplicateKey,
    /// A search hit without `_source` (e.g. `"_source": false` searches).
    NoSource,
    /// A record that describes an index rather than holding a document
    /// (an esArchiver `"type":"index"` entry).
    NotAnEvent,
    /// A line or document of a native log that is not a record of its
    /// format (a stray line in an audit log, a Sysmon line without its
    /// `<Event>`, JSON of another shape), met by a reader that normalizes
    /// the format to events (talon-sources).
    NotARecord,
    /// A record of a native log lacking what an event needs (an auditd
    /// SYSCALL record whose pid is no number, a Sysmon event without
    /// `<EventData>`).
    MissingFields,
    /// A document that holds no event at all: an empty array (`[]`), or a
    /// search response without hits.
    Empty,
    /// The input could not be opened or read.
    Unreadable,
    /// A FIFO, socket or device met inside a folder: not read (it may
    /// never end), only counted. Not a failure: nothing in it was lost
    /// that reading could have found.
    SpecialFile,
    /// A symbolic link met inside a folder that points back to a folder
    /// above it: not followed (the walk would never end), only counted.
    /// Not a failure: what it leads to is that folder, which is read
    /// anyway.
    LinkLoop,
    /// A symbolic link met inside a folder whose target does not exist (a
    /// log rotated away): nothing to read, only counted. Not a failure,
    /// as a link named on the command line would be.
    BrokenLink,
    /// The gzip or zstd stream is corrupt or cut short.
    Decompression,
    /// A file mapped into memory grew while it was read: the bytes added
    /// after it was mapped were not read (`--no-mmap` reads to the end).
    /// Not a failure of what was read.
    Grown,
}

impl SkipReason {
    /// A short stable name, for summaries (`invalid-json: 3`).
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::NotJson => "not-json",
            SkipReason::InvalidJson => "invalid-json",
            SkipReason::NotAnObject => "not-an-object",
            SkipReason::TooLong => "too-long",
            SkipReason::InvalidUtf8 => "invalid-utf8",
            SkipReason::Encoding => "encoding",
            SkipReason::Truncated => "truncated",
            SkipReason::DuplicateKey => "duplicate-key",
            SkipReason::NoSource => "no-source",
            SkipReason::NotAnEvent => "not-an-event",
            SkipReason::NotARecord => "not-a-record",
            SkipReason::MissingFields => "missing-fields",
            SkipReason::Empty => "empty",
            SkipReason::Unreadable => "unreadable",
            SkipReason::SpecialFile => "special-file",
            SkipReason::LinkLoop => "link-loop",
            SkipReason::BrokenLink => "broken-link",
            SkipReason::Decompression => "decompression",
            SkipReason::Grown => "grown",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing that was skipped, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ReadIssue {
    /// The input as given (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line; 0 when the issue concerns the whole input.
    pub line: u64,
    /// 1-based byte column within the line; 0 when unknown.
    pub column: u64,
    pub reason: SkipReason,
    pub message: String,
}

impl ReadIssue {
    pub fn new(
        file: &Arc<str>,
        line: u64,
        column: u64,
        reason: SkipReason,
        message: impl Into<String>,
    ) -> ReadIssue {
        ReadIssue {
            file: Arc::clone(file),
            line,
            column,
            reason,
            message: message.into(),
        }
    }

    /// Whether the input stopped being read here: it could not be read
    /// ([`SkipReason::Unreadable`]) or its gzip/zstd stream is corrupt or
    /// cut short ([`SkipReason::Decompression`]).
    pub fn cuts_input_short(&self) -> bool {
        matches!(
            self.reason,
            SkipReason::Unreadable | SkipReason::Decompression
        )
    }

    /// As shown on a terminal: the file name and the message (which may
    /// quote the input) with their control characters escaped.
    fn render(&self) -> String {
        let file = escape_controls(&self.file);
        let message = escape_controls(&self.message);
        match (self.line, self.column) {
            (0, _) => format!("{file}: {}: {message}", self.reason),
            (l, 0) => format!("{file}:{l}: {}: {message}", self.reason),
            (l, c) => format!("{file}:{l}:{c}: {}: {message}", self.reason),
        }
    }
}

/// Counts of everything read and skipped, across all inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadStats {
    /// Inputs opened (or attempted).
    pub files: u64,
    /// Bytes read from the inputs as stored (compressed size for .gz/.zst).
    pub bytes: u64,
    /// Bytes after decompression (equal to `bytes` for plain inputs).
    pub decoded_bytes: u64,
    /// Events produced.
    pub events: u64,
    /// NDJSON lines a [`LineFilter`](crate::read::LineFilter) ruled out
    /// without parsing them.
    pub unparsed: u64,
    /// Blank and `//` comment lines of NDJSON input (read line by line),
    /// whether a line filter looked at them or not: they hold no document.
    /// For NDJSON, `events + unparsed + blank + issue_count()` is the
    /// number of lines (a last line without a newline counts), as long as
    /// every document is one event (search responses and other wrappers on
    /// one line give several, or none).
    pub blank: u64,
    /// Issues by reason; the sum is [`ReadStats::issue_count`].
    pub skipped: BTreeMap<SkipReason, u64>,
    /// The first [`ReadStats::max_issues`] issues, in input order.
    pub issues: Vec<ReadIssue>,
    /// How many issues are kept verbatim.
    pub max_issues: usize,
    /// Every input that could not be read to its end (see
    /// [`ReadStats::inputs_cut_short`]), in input order, whether or not
    /// its issue is among those kept verbatim.
    pub cut_short: Vec<Arc<str>>,
}

impl Default for ReadStats {
    fn default() -> Self {
        ReadStats::new(DEFAULT_MAX_ISSUES)
    }
}

/// Issues kept for display unless configured otherwise.
pub const DEFAULT_MAX_ISSUES: usize = 20;

impl ReadStats {
    pub fn new(max_issues: usize) -> ReadStats {
        ReadStats {
            files: 0,
            bytes: 0,
            decoded_bytes: 0,
            events: 0,
            unparsed: 0,
            blank: 0,
            skipped: BTreeMap::new(),
            issues: Vec::new(),
            max_issues,
            cut_short: Vec::new(),
        }
    }

    /// Counts an issue, keeping it verbatim while there is room.
    pub fn record(&mut self, issue: &ReadIssue) {
        *self.skipped.entry(issue.reason).or_insert(0) += 1;
        if issue.cuts_input_short() && self.cut_short.last() != Some(&issue.file) {
            self.cut_short.push(Arc::clone(&issue.file));
        }
        if self.issues.len() < self.max_issues {
            self.issues.push(issue.clone());
        }
    }

    /// Total number of issues, kept or not.
    pub fn issue_count(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Issues of one reason.
    pub fn skipped_for(&self, reason: SkipReason) -> u64 {
        self.skipped.get(&reason).copied().unwrap_or(0)
    }

    /// Inputs that could not be opened or read to their end: unreadable
    /// (an I/O error), or a gzip/zstd stream that is corrupt or cut short.
    /// What came before the failure was read and counted. Their names are
    /// [`ReadStats::cut_short`].
    pub fn inputs_cut_short(&self) -> u64 {
        self.cut_short.len() as u64
    }

    /// Issues counted but not kept verbatim.
    pub fn issues_not_shown(&self) -> u64 {
        self.issue_count().saturating_sub(self.issues.len() as u64)
    }
}

impl fmt::Display for ReadStats {
    /// One-line summary: `3 files, 1234 bytes, 10 events, 2 skipped (invalid-json: 2)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {} bytes, {}, {} skipped",
            counted(self.files, "file", "files"),
            self.bytes,
            counted(self.events, "event", "events"),
            self.issue_count()
        )?;
        if !self.skipped.is_empty() {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

/// `1 event`, `2 events`: a count with its noun in the right number.
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
