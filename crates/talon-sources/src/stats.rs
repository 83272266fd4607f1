//! The running count of what a normalizing reader read, produced, merged
//! and ignored, and why.
//!
//! Nothing is dropped silently. Once the input is exhausted,
//! `records == events + merged + ignored` holds exactly for the normalized
//! inputs (ECS inputs are passed through and counted by the reader's
//! `ReadStats` instead, so no document is counted twice): every record
//! became an event, was folded into another record's event (the EXECVE,
//! CWD, PATH… records of an auditd exec), or was ignored with a reason.
//! Ignored records that were malformed are also yielded as
//! [`ReadIssue`]s; those that were well-formed but of a kind talon does not
//! map (a non-exec syscall, Sysmon EventID 4) are only counted, with the
//! first few kept with file and line, since a real audit log holds millions.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use talon_event::read::{ReadIssue, SkipReason};

use crate::source::Source;

/// Why a record gave no event of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgnoreReason {
    /// The reader skipped it (not JSON, invalid JSON, bad UTF-8, …).
    Unreadable(SkipReason),
    /// Not a record of the source's format (a stray line in an audit log,
    /// JSON of another shape).
    NotARecord,
    /// A record of the right kind lacking what an event needs.
    MissingFields,
    /// A record kind talon does not map (an auditd record type, a Sysmon
    /// EventID, a Tetragon kprobe, an osquery table…).
    UnsupportedKind,
    /// An auditd syscall event whose syscall is not execve/execveat.
    NotExec,
    /// An exec that failed (`success=no`): no process started.
    FailedExec,
    /// An auditd event whose records never included the SYSCALL record.
    Incomplete,
}

impl IgnoreReason {
    /// A short stable name for summaries (`not-exec: 120`). Records
    /// yielded as issues have their issue's name: the ignored counts and
    /// the reader's skipped counts name them alike.
    pub fn name(self) -> &'static str {
        match self {
            IgnoreReason::Unreadable(r) => r.name(),
            IgnoreReason::NotARecord => SkipReason::NotARecord.name(),
            IgnoreReason::MissingFields => SkipReason::MissingFields.name(),
            IgnoreReason::UnsupportedKind => "unsupported-kind",
            IgnoreReason::NotExec => "not-exec",
            IgnoreReason::FailedExec => "failed-exec",
            IgnoreReason::Incomplete => "incomplete",
        }
    }

    /// Whether records ignored for this reason are yielded as issues
    /// (malformed input) rather than only counted.
    pub fn is_issue(self) -> bool {
        self.skip_reason().is_some()
    }

    /// The reason of the issue yielded for a record ignored for this
    /// reason; `None` when it is only counted.
    pub(crate) fn skip_reason(self) -> Option<SkipReason> {
        match self {
            IgnoreReason::Unreadable(r) => Some(r),
            IgnoreReason::NotARecord => Some(SkipReason::NotARecord),
            IgnoreReason::MissingFields => Some(SkipReason::MissingFields),
            IgnoreReason::UnsupportedKind
            | IgnoreReason::NotExec
            | IgnoreReason::FailedExec
            | IgnoreReason::Incomplete => None,
        }
    }
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a value present in a record could not be read as written: left
/// out of its event, or read as well as it could be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueReason {
    /// Not a whole number where one is needed (`"notanumber"`, `true`,
    /// `2.5`, `4x`).
    NotAnInteger,
    /// A whole number the field cannot hold (a pid past a `long`, a Unix
    /// time of `1e30`).
    OutOfRange,
    /// Bytes of a text log's line that are not UTF-8 (a Latin-1 `é`): the
    /// line is read with U+FFFD in their place, not left out.
    InvalidUtf8,
}

impl ValueReason {
    /// A short stable name for summaries (`out-of-range: 1`).
    pub fn name(self) -> &'static str {
        match self {
            ValueReason::NotAnInteger => "not-an-integer",
            ValueReason::OutOfRange => "out-of-range",
            ValueReason::InvalidUtf8 => "invalid-utf8",
        }
    }

    /// Whether what is unreadable for this reason is left out of its
    /// event (rather than read with U+FFFD).
    pub fn left_out(self) -> bool {
        !matches!(self, ValueReason::InvalidUtf8)
    }
}

impl fmt::Display for ValueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value present in a record but unreadable: left out of the event,
/// which was still produced (or, bytes that are not UTF-8, read with
/// U+FFFD in their place).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadValue {
    pub file: Arc<str>,
    /// 1-based line of the value.
    pub line: u64,
    /// 1-based column of the value in that line; 0 when it could not be
    /// located.
    pub column: u64,
    pub reason: ValueReason,
    /// The value as written and the event field it would have filled.
    pub detail: String,
}

impl fmt::Display for UnreadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if self.column > 0 {
            write!(f, ":{}", self.column)?;
        }
        write!(f, ": {}: {}", self.reason, self.detail)
    }
}

/// One ignored record, where it was and what it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ignored {
    pub file: Arc<str>,
    /// 1-based line of the record's first byte.
    pub line: u64,
    /// 1-based column of the problem in that line; 0 when it is the whole
    /// record's.
    pub column: u64,
    pub reason: IgnoreReason,
    /// What it was (`auditd AVC`, `sysmon EventID 4`, the parse problem).
    pub detail: String,
}

impl Ignored {
    /// The issue yielded for it; `None` when it is only counted.
    pub(crate) fn to_issue(&self) -> Option<ReadIssue> {
        Some(ReadIssue::new(
            &self.file,
            self.line,
            self.column,
            self.reason.skip_reason()?,
            self.detail.clone(),
        ))
    }
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if self.column > 0 {
            write!(f, ":{}", self.column)?;
        }
        write!(f, ": {}: {}", self.reason, self.detail)
    }
}

/// Counts of the process-tree enrichment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    /// Exec events remembered as possible parents.
    pub remembered: u64,
    /// Events whose parent fields were filled from the tree.
    pub enriched: u64,
    /// Parent pid found, but the remembered process started after the
    /// child (pid reuse): not its parent.
    pub stale: u64,
    /// Parent pid not (or no longer) in the tree.
    pub missed: u64,
    /// Processes dropped to stay within the per-host cap.
    pub evicted: u64,
    /// Hosts dropped to stay within the host cap.
    pub hosts_evicted: u64,
}

/// Everything a normalizing reader counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalizeStats {
    /// Inputs read (ECS and unreadable ones included).
    pub files: u64,
    /// Inputs by the source they were read as (named or recognised);
    /// inputs that could not be opened or recognised are not here.
    pub sources: BTreeMap<Source, u64>,
    /// Inputs of no source recognised. They are read as ECS anyway (JSON
    /// that no marker identifies is ECS), and what is not JSON in them is
    /// reported by that reader.
    pub unrecognised: u64,
    /// Inputs (or their rest) of a normalizer, or never opened, that could
    /// not be read; each was yielded as an issue.
    pub inputs_skipped: u64,
    /// Source records read: lines of a text log, JSON documents, osquery
    /// rows.
    pub records: u64,
    /// Blank lines of a text log: no record, but counted, so that records
    /// and blank lines add up to the log's lines.
    pub blank: u64,
    /// Events produced.
    pub events: u64,
    /// Records folded into another record's event.
    pub merged: u64,
    /// Ignored records by reason; the sum is [`NormalizeStats::ignored_total`].
    pub ignored: BTreeMap<IgnoreReason, u64>,
    /// Ignored records by what they were (`auditd AVC`, `sysmon EventID 4`),
    /// for up to [`MAX_KINDS`] distinct kinds; the rest count under `other`.
    pub ignored_kinds: BTreeMap<String, u64>,
    /// The first [`NormalizeStats::max_examples`] ignored records.
    pub examples: Vec<Ignored>,
    pub max_examples: usize,
    /// Values present but unreadable, by reason: left out of events that
    /// were still produced, or read with U+FFFD where their bytes are not
    /// UTF-8 ([`ValueReason::left_out`]). Not records: they are counted
    /// within [`NormalizeStats::events`].
    pub unread_values: BTreeMap<ValueReason, u64>,
    /// The first [`NormalizeStats::max_examples`] unreadable values.
    pub unread_examples: Vec<UnreadValue>,
    pub tree: TreeStats,
}

/// Distinct ignored kinds kept by name.
pub const MAX_KINDS: usize = 64;

impl NormalizeStats {
    pub(crate) fn new(max_examples: usize) -> NormalizeStats {
        NormalizeStats {
            files: 0,
            sources: BTreeMap::new(),
            unrecognised: 0,
            inputs_skipped: 0,
            records: 0,
            blank: 0,
            events: 0,
            merged: 0,
            ignored: BTreeMap::new(),
            ignored_kinds: BTreeMap::new(),
            examples: Vec::new(),
            max_examples,
            unread_values: BTreeMap::new(),
            unread_examples: Vec::new(),
            tree: TreeStats::default(),
        }
    }

    pub(crate) fn record_unread(&mut self, value: &UnreadValue) {
        *self.unread_values.entry(value.reason).or_insert(0) += 1;
        if self.unread_examples.len() < self.max_examples {
            self.unread_examples.push(value.clone());
        }
    }

    /// All unreadable values, whatever the reason.
    pub fn unread_total(&self) -> u64 {
        self.unread_values.values().sum()
    }

    pub(crate) fn record_ignored(&mut self, ignored: &Ignored, kind: &str) {
        *self.ignored.entry(ignored.reason).or_insert(0) += 1;
        let key = if self.ignored_kinds.contains_key(kind) || self.ignored_kinds.len() < MAX_KINDS {
            kind.to_string()
        } else {
            "other".to_string()
        };
        *self.ignored_kinds.entry(key).or_insert(0) += 1;
        if self.examples.len() < self.max_examples {
            self.examples.push(ignored.clone());
        }
    }

    /// Inputs read by a normalizer (not passed through as ECS).
    pub fn normalized_inputs(&self) -> u64 {
        self.sources
            .iter()
            .filter(|(s, _)| **s != Source::Ecs)
            .map(|(_, n)| n)
            .sum()
    }

    /// All ignored records, whatever the reason.
    pub fn ignored_total(&self) -> u64 {
        self.ignored.values().sum()
    }

    pub fn ignored_for(&self, reason: IgnoreReason) -> u64 {
        self.ignored.get(&reason).copied().unwrap_or(0)
    }

    /// What was counted since `earlier` (a copy of these counts taken
    /// before): records, blank lines, events, merged and ignored records by
    /// reason, parents filled. One input's share, for its `-v` line.
    pub fn since(&self, earlier: &NormalizeStats) -> NormalizeStats {
        let mut d = NormalizeStats::new(0);
        d.records = self.records - earlier.records;
        d.blank = self.blank - earlier.blank;
        d.events = self.events - earlier.events;
        d.merged = self.merged - earlier.merged;
        for (reason, n) in &self.ignored {
            let n = n - earlier.ignored_for(*reason);
            if n > 0 {
                d.ignored.insert(*reason, n);
            }
        }
        for (reason, n) in &self.unread_values {
            let n = n - earlier.unread_values.get(reason).copied().unwrap_or(0);
            if n > 0 {
                d.unread_values.insert(*reason, n);
            }
        }
        d.tree.enriched = self.tree.enriched - earlier.tree.enriched;
        d
    }

    /// Records not yet accounted for (0 once the input is exhausted).
    pub fn unaccounted(&self) -> i64 {
        self.records as i64 - (self.events + self.merged + self.ignored_total()) as i64
    }
}

impl fmt::Display for NormalizeStats {
    /// `12 records, 3 events, 8 merged, 1 ignored (not-exec: 1)`, then
    /// blank lines, unreadable values and parents filled, when any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {} merged, {} ignored",
            count(self.records, "record"),
            count(self.events, "event"),
            self.merged,
            self.ignored_total()
        )?;
        if !self.ignored.is_empty() {
            let parts: Vec<String> = self
                .ignored
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        if self.blank > 0 {
            write!(f, "; {}", count(self.blank, "blank line"))?;
        }
        for (left_out, said) in [(true, "left out"), (false, "read with U+FFFD")] {
            let mut total = 0;
            let mut parts = Vec::new();
            for (r, n) in self
                .unread_values
                .iter()
                .filter(|(r, _)| r.left_out() == left_out)
            {
                total += n;
                parts.push(format!("{r}: {n}"));
            }
            if total > 0 {
                let values = count(total, "unreadable value");
                write!(f, "; {values} {said} ({})", parts.join(", "))?;
            }
        }
        if self.tree.enriched > 0 {
            write!(
                f,
                ", {} filled from the process tree",
                count(self.tree.enriched, "parent")
            )?;
        }
        Ok(())
    }
}

/// `1 record`, `2 records`.
fn count(n: impl Into<u64>, noun: &str) -> String {
    match n.into() {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record yielded as an issue is named alike in the ignored counts
    /// and in the reader's skipped counts; one only counted is no issue.
    #[test]
    fn records_yielded_as_issues_are_named_as_their_issues() {
        let issues = [
            (IgnoreReason::NotARecord, "not-a-record"),
            (IgnoreReason::MissingFields, "missing-fields"),
            (IgnoreReason::Unreadable(SkipReason::NotJson), "not-json"),
        ];
        for (reason, name) in issues {
            assert_eq!(reason.name(), name);
            assert_eq!(reason.skip_reason().map(SkipReason::name), Some(name));
            assert!(reason.is_issue());
        }
        for reason in [
            IgnoreReason::UnsupportedKind,
            IgnoreReason::NotExec,
            IgnoreReason::FailedExec,
            IgnoreReason::Incomplete,
        ] {
            assert_eq!(reason.skip_reason(), None, "{reason}");
            assert!(!reason.is_issue());
        }
    }
}
