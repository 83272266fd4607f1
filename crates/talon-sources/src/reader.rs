//! [`NormalizingReader`]: inputs in a source's native format → a stream of
//! Elastic Defend-shaped ECS [`Event`]s, with counts of everything read.
//!
//! Each input is opened (gzip/zstd undone), its source taken from the
//! caller or recognised from its first bytes, and read either line by line
//! (raw auditd, Sysmon in syslog) or as JSON documents through talon-event's
//! reader (NDJSON, pretty-printed, arrays, `{"events":[…]}` test files,
//! search responses). Records go to the source's normalizer; its events are
//! stamped with the shared fields, enriched from the process tree, and
//! flattened exactly as Elasticsearch would index their JSON.
//!
//! ECS inputs are not normalized: they go, as they are, through one
//! talon-event [`EventReader`] with the caller's [`ReadOptions`] (forced
//! index, projection, `null_value`s), so ECS reads exactly as it does
//! without this crate. So do inputs of no recognised source: that reader
//! takes what JSON they hold and reports the rest as not JSON (with a
//! pointer to naming the source). A regular file is handed over by path (the reader
//! reopens it: its fast path, its own byte counts); stdin and pipes, which
//! cannot be reread, are handed over as the stream already peeked at.
//!
//! The reader never stops on bad input: malformed records and unreadable
//! inputs are yielded as [`ReadIssue`]s, well-formed records of kinds talon
//! does not map are counted, and every record of a normalized input is
//! accounted for in [`NormalizeStats`]. Everything yielded is also counted
//! in a [`ReadStats`] ([`NormalizingReader::read_stats`]): events, issues by
//! reason, inputs and bytes of the whole run. The process tree spans all
//! inputs of one reader, so rotated logs read together keep their parents.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;

use talon_event::read::{
    Batch, ChunkCounts, DecodeError, EventReader, InputOrder, InputSpec, ReadIssue, ReadOptions,
    ReadStats, SkipReason,
};
use talon_event::{Event, Origin};

use crate::auditd::{AuditWindow, Auditd};
use crate::doc::{FinishOptions, ValueAt};
use crate::input::{self, Columns, Counters, Line, MAX_LINE};
use crate::norm::{self, DocNormalizer, LineNormalizer, Out, Outcome};
use crate::source::{detect, Source};
use crate::stats::{IgnoreReason, Ignored, NormalizeStats, UnreadValue};
use crate::tree::{ProcessTree, TreeOptions};

/// Said of an input that is neither JSON nor a log of a known source.
const UNRECOGNISED: &str =
    "; nor a log talon recognises (auditd, Sysmon syslog): name its source with --source";

/// talon-event's issue for a whole input that is not JSON (it has no
/// column), the one [`UNRECOGNISED`] goes with. A line of an input read as
/// JSON all the same (NDJSON whose first line is a header, or cut) is not
/// JSON in a file that is: naming a source would mislead.
fn not_a_json_file(issue: &ReadIssue) -> bool {
    issue.reason == SkipReason::NotJson && issue.column == 0
}

/// How to normalize.
#[derive(Clone, Debug)]
pub struct NormalizeOptions {
    /// The data stream namespace (`logs-endpoint.events.process-<namespace>`).
    pub namespace: String,
    /// `host.name` for events whose source names no host.
    pub host: Option<String>,
    /// Keep each event's source record(s) in `event.original`.
    pub keep_original: bool,
    /// Fill missing parent fields from the parent's own exec event.
    pub enrich: bool,
    pub tree: TreeOptions,
    /// How long raw auditd records wait for the rest of their event.
    pub audit_window: AuditWindow,
    /// Ignored records kept verbatim in the stats (all are counted).
    pub max_examples: usize,
    /// How ECS inputs are read, and what normalized events share with them:
    /// the forced index (`--index`, which replaces the Defend data stream
    /// an event would go to), the projection and mapping `null_value`s
    /// used to flatten, and how many issues [`ReadStats`] keeps verbatim.
    pub read: ReadOptions,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            namespace: "default".to_string(),
            host: None,
            keep_original: false,
            enrich: true,
            tree: TreeOptions::default(),
            audit_window: AuditWindow::default(),
            max_examples: 20,
            read: ReadOptions::default(),
        }
    }
}

enum Opener {
    Spec(InputSpec),
    Reader(Box<dyn Read + Send>),
    /// An input known not to be read (a folder entry the walk could not
    /// read, or a FIFO, socket or device in a folder): reported, for this
    /// reason, in its place in the input order.
    Skipped(SkipReason, String),
}

struct Queued {
    name: Arc<str>,
    opener: Opener,
    source: Option<Source>,
}

enum Mode {
    Lines {
        reader: Box<dyn std::io::BufRead + Send>,
        line: u64,
        buf: Vec<u8>,
        norm: Box<dyn LineNormalizer>,
    },
    Docs {
        reader: Box<EventReader>,
        norm: Box<dyn DocNormalizer>,
    },
    /// ECS, or an input of no source recognised: read by the shared
    /// passthrough reader, which holds the input.
    Passthrough { unrecognised: bool },
}

struct Current {
    name: Arc<str>,
    source: Source,
    mode: Mode,
    /// The text of the JSON document being answered for (`event.original`).
    doc_text: Option<Arc<str>>,
    bytes: Bytes,
    /// The counts when the input was opened, for its own `-v` line.
    before: NormalizeStats,
}

/// Where the byte counts of the input being read come from.
enum Bytes {
    /// Our own counters (inputs this reader opened and reads).
    Own(Arc<Counters>),
    /// The passthrough reader's counts, from these (stored, decoded) on
    /// (an input it opened itself).
    Passthrough((u64, u64)),
}

/// Reads inputs in their native format and yields normalized events (and
/// issues), in input order.
pub struct NormalizingReader {
    queue: VecDeque<Queued>,
    current: Option<Current>,
    out: Out,
    ready: VecDeque<Result<Event, ReadIssue>>,
    tree: ProcessTree,
    stats: NormalizeStats,
    /// Everything yielded: events, issues by reason (bytes and inputs are
    /// filled in by [`NormalizingReader::read_stats`]).
    read: ReadStats,
    /// Reads the ECS inputs, one at a time, as they come.
    passthrough: Box<EventReader>,
    forced_index: Option<Arc<str>>,
    /// Bytes (stored, decoded) of the inputs already finished.
    bytes_done: (u64, u64),
    opts: NormalizeOptions,
    seq: u64,
    /// Items of batches read after a line chunk still out, counted once
    /// it is.
    order: InputOrder,
    /// `-vv` said that ignored records past the examples kept go unlisted.
    unlisted_said: bool,
}

impl NormalizingReader {
    /// No inputs yet; add them with [`NormalizingReader::push_input`] or
    /// [`NormalizingReader::push_reader`].
    pub fn empty(options: NormalizeOptions) -> NormalizingReader {
        NormalizingReader {
            queue: VecDeque::new(),
            current: None,
            out: Out::default(),
            ready: VecDeque::new(),
            tree: ProcessTree::new(options.tree),
            stats: NormalizeStats::new(options.max_examples),
            read: ReadStats::new(options.read.max_issues),
            passthrough: Box::new(quiet_reader(EventReader::new(
                Vec::new(),
                options.read.clone(),
            ))),
            forced_index: options.read.index.as_deref().map(Arc::from),
            bytes_done: (0, 0),
            opts: options,
            seq: 0,
            order: InputOrder::default(),
            unlisted_said: false,
        }
    }

    /// Reads one byte stream named `name` as `source` (`None`: recognise it
    /// from its first bytes).
    pub fn new(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
        source: Option<Source>,
        options: NormalizeOptions,
    ) -> NormalizingReader {
        let mut r = NormalizingReader::empty(options);
        r.push_reader(name, reader, source);
        r
    }

    /// Reads files (or stdin) as `source` (`None`: recognise each).
    pub fn from_inputs(
        inputs: Vec<InputSpec>,
        source: Option<Source>,
        options: NormalizeOptions,
    ) -> NormalizingReader {
        let mut r = NormalizingReader::empty(options);
        for spec in inputs {
            r.push_input(spec, source);
        }
        r
    }

    pub fn push_input(&mut self, spec: InputSpec, source: Option<Source>) {
        self.queue.push_back(Queued {
            name: Arc::from(spec.display_name()),
            opener: Opener::Spec(spec),
            source,
        });
    }

    pub fn push_reader(
        &mut self,
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
        source: Option<Source>,
    ) {
        self.queue.push_back(Queued {
            name: Arc::from(name.into()),
            opener: Opener::Reader(Box::new(reader)),
            source,
        });
    }

    /// Queues an input that cannot be read (a folder entry the walk could
    /// not read), to be reported as an `unreadable` issue in its place.
    pub fn push_unreadable(&mut self, name: impl Into<String>, message: impl Into<String>) {
        self.push_skipped(name, SkipReason::Unreadable, message);
    }

    /// Queues an input that is not read, to be reported as an issue of
    /// `reason` in its place ([`SkipReason::SpecialFile`]: a FIFO, socket
    /// or device found in a folder).
    pub fn push_skipped(
        &mut self,
        name: impl Into<String>,
        reason: SkipReason,
        message: impl Into<String>,
    ) {
        self.queue.push_back(Queued {
            name: Arc::from(name.into()),
            opener: Opener::Skipped(reason, message.into()),
            source: None,
        });
    }

    /// Counts of the normalized inputs so far (complete once the iterator
    /// is exhausted). ECS inputs only count in [`NormalizeStats::files`] and
    /// [`NormalizeStats::sources`]: their documents are read, not
    /// normalized, and are counted by [`NormalizingReader::read_stats`].
    pub fn stats(&self) -> NormalizeStats {
        let mut s = self.stats.clone();
        s.tree = self.tree.stats.clone();
        s
    }

    /// Counts of everything yielded so far, as talon-event's reader keeps
    /// them: inputs, bytes (stored and decoded), events, and every issue by
    /// reason, the first few verbatim.
    pub fn read_stats(&self) -> ReadStats {
        let mut s = self.read.clone();
        s.files = self.stats.files;
        let (cur_raw, cur_decoded) = self.current_bytes();
        s.bytes = self.bytes_done.0 + cur_raw;
        s.decoded_bytes = self.bytes_done.1 + cur_decoded;
        // Only ECS inputs go through a line filter.
        s.unparsed = self.passthrough.stats().unparsed;
        s.blank = self.passthrough.stats().blank;
        // Items waiting on a chunk not counted yet (none once all are).
        for (events, issues) in self.order.waiting() {
            s.events += events;
            for issue in issues {
                s.record(issue);
            }
        }
        s
    }

    /// Bytes of the input being read so far.
    fn current_bytes(&self) -> (u64, u64) {
        match self.current.as_ref().map(|c| &c.bytes) {
            None => (0, 0),
            Some(Bytes::Own(counters)) => counters.get(),
            Some(Bytes::Passthrough(base)) => {
                let pt = self.passthrough.stats();
                (
                    pt.bytes.saturating_sub(base.0),
                    pt.decoded_bytes.saturating_sub(base.1),
                )
            }
        }
    }

    /// Ends the input being read, keeping its byte counts.
    fn close_current(&mut self) {
        let (raw, decoded) = self.current_bytes();
        // `-v`'s end-of-input line of a normalized input: what its
        // normalizer made of it, counted as the summary counts (ECS
        // inputs get talon-event's own).
        if let Some(cur) = &self.current {
            if !matches!(cur.mode, Mode::Passthrough { .. }) {
                let bytes = match raw == decoded {
                    true => format!("{raw} bytes"),
                    false => format!("{raw} bytes ({decoded} decoded)"),
                };
                tracing::info!(
                    "{}: {}, {bytes}",
                    talon_event::terminal::escape_controls(&cur.name),
                    self.stats().since(&cur.before)
                );
            }
        }
        self.bytes_done.0 += raw;
        self.bytes_done.1 += decoded;
        self.current = None;
    }

    /// The passthrough reader's byte counts now, to count an input from.
    fn passthrough_base(&self) -> (u64, u64) {
        let pt = self.passthrough.stats();
        (pt.bytes, pt.decoded_bytes)
    }

    /// The source of the input being read, once it is open.
    pub fn current_source(&self) -> Option<Source> {
        self.current.as_ref().map(|c| c.source)
    }

    /// Reads everything: the events and the final counts (issues are in
    /// the counts' examples).
    pub fn read_all(mut self) -> (Vec<Event>, NormalizeStats) {
        let events: Vec<Event> = self.by_ref().filter_map(Result::ok).collect();
        let stats = self.stats();
        (events, stats)
    }

    /// Opens the next queued input; false when there is none.
    fn open_next(&mut self) -> bool {
        let Some(q) = self.queue.pop_front() else {
            return false;
        };
        self.stats.files += 1;
        // Named as ECS: nothing to peek at, the passthrough reader opens it.
        if let (Some(Source::Ecs), Opener::Spec(spec)) = (q.source, &q.opener) {
            let base = self.passthrough_base();
            self.passthrough.push_input(spec.clone());
            self.start(
                q.name,
                Some(Source::Ecs),
                Mode::Passthrough {
                    unrecognised: false,
                },
                Bytes::Passthrough(base),
            );
            return true;
        }
        let reopen = match &q.opener {
            Opener::Spec(InputSpec::Path(p)) => Some(p.clone()),
            _ => None,
        };
        let raw: std::io::Result<Box<dyn Read + Send>> = match q.opener {
            Opener::Reader(r) => Ok(r),
            Opener::Spec(InputSpec::Stdin) => Ok(Box::new(std::io::stdin())),
            Opener::Spec(InputSpec::Path(p)) => {
                std::fs::File::open(p).map(|f| Box::new(f) as Box<dyn Read + Send>)
            }
            Opener::Skipped(reason, message) => {
                self.input_issue(&q.name, reason, message);
                return true;
            }
        };
        let peeked = match raw.and_then(input::open) {
            Ok(p) => p,
            Err(e) => {
                let reason = match DecodeError::of(&e) {
                    Some(_) => SkipReason::Decompression,
                    None => SkipReason::Unreadable,
                };
                self.input_issue(&q.name, reason, format!("cannot read: {e}"));
                return true;
            }
        };
        let detected = q.source.or_else(|| detect(&peeked.head));
        let Some(source) = detected.filter(|s| *s != Source::Ecs) else {
            // Unrecognised input goes to talon-event's reader too, which
            // reads whatever JSON it holds (as it always did) and reports
            // the rest as not JSON, with a word about --source.
            let mode = Mode::Passthrough {
                unrecognised: detected.is_none(),
            };
            if detected.is_none() {
                self.stats.unrecognised += 1;
            }
            // A regular file is reread by path, so ECS takes talon-event's
            // own path (and its byte counts) exactly as without this crate;
            // a pipe or stdin cannot be reread and goes as peeked.
            if let Some(path) = reopen.filter(|p| p.metadata().is_ok_and(|m| m.is_file())) {
                drop(peeked);
                let base = self.passthrough_base();
                self.passthrough.push_input(InputSpec::Path(path));
                self.start(q.name, detected, mode, Bytes::Passthrough(base));
            } else {
                let counters = Arc::clone(&peeked.counters);
                self.passthrough
                    .push_reader(q.name.to_string(), peeked.reader);
                self.start(q.name, detected, mode, Bytes::Own(counters));
            }
            return true;
        };
        let counters = Arc::clone(&peeked.counters);
        // `-v`'s per-file line; ECS inputs get talon-event's own.
        tracing::info!(
            "reading {} ({source}, normalized)",
            talon_event::terminal::escape_controls(&q.name)
        );
        let mode = self.mode_for(source, &q.name, peeked);
        self.start(q.name, Some(source), mode, Bytes::Own(counters));
        true
    }

    /// Makes the input current; `source` is `None` for an unrecognised
    /// input (read as ECS, not counted as one).
    fn start(&mut self, name: Arc<str>, source: Option<Source>, mode: Mode, bytes: Bytes) {
        if let Some(s) = source {
            *self.stats.sources.entry(s).or_insert(0) += 1;
        }
        self.current = Some(Current {
            name,
            source: source.unwrap_or(Source::Ecs),
            mode,
            doc_text: None,
            bytes,
            before: self.stats(),
        });
    }

    /// How a normalized (not ECS) input is read.
    fn mode_for(&self, source: Source, name: &Arc<str>, peeked: input::Peeked) -> Mode {
        let looks_json = peeked
            .head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
        let lines = |norm: Box<dyn LineNormalizer>, reader| Mode::Lines {
            reader,
            line: 1,
            buf: Vec::new(),
            norm,
        };
        // Its documents are records: the input's `-v` lines are ours.
        let max_line = self.opts.read.max_line;
        let events = |r| {
            let mut inner = quiet_reader(EventReader::from_reader(
                name.to_string(),
                r,
                ReadOptions {
                    max_line,
                    ..ReadOptions::default()
                },
            ));
            inner.log_progress(false);
            Box::new(inner)
        };
        match source {
            Source::Auditd => lines(Box::new(Auditd::new(self.opts.audit_window)), peeked.reader),
            Source::Sysmon if !looks_json => {
                lines(Box::new(crate::sysmon::SysmonLines), peeked.reader)
            }
            // Opened by the passthrough reader instead (see open_next).
            Source::Ecs => Mode::Passthrough {
                unrecognised: false,
            },
            other => Mode::Docs {
                reader: events(peeked.reader),
                norm: crate::doc_normalizer(other),
            },
        }
    }

    /// An issue about a whole input (it cannot be opened).
    fn input_issue(&mut self, name: &Arc<str>, reason: SkipReason, message: String) {
        let issue = ReadIssue::new(name, 0, 0, reason, message);
        self.stats.inputs_skipped += 1;
        self.ready.push_back(Err(issue));
    }

    /// Reads the next unit of the current input into `out`; false when the
    /// input is exhausted (the normalizer has then answered for everything).
    fn step(&mut self) -> bool {
        let Some(cur) = &mut self.current else {
            return false;
        };
        match &mut cur.mode {
            Mode::Lines {
                reader,
                line,
                buf,
                norm,
            } => match input::read_line(reader.as_mut(), buf) {
                Ok(Line::Text { text, lossy }) => {
                    let n = *line;
                    *line += 1;
                    // A UTF-8 byte order mark opening the input (an editor
                    // on Windows wrote it) is no part of its first record:
                    // `type=` must start the line's first word.
                    let bom = if n == 1 && text.starts_with('\u{feff}') {
                        '\u{feff}'.len_utf8()
                    } else {
                        0
                    };
                    let text = &text[bom..];
                    if text.trim().is_empty() {
                        self.stats.blank += 1;
                    } else {
                        self.stats.records += 1;
                        norm.line(text, n, &Columns::new(buf, bom, lossy), &mut self.out);
                    }
                    true
                }
                Ok(Line::TooLong(len)) => {
                    let n = *line;
                    *line += 1;
                    self.stats.records += 1;
                    self.out.ignore(
                        n,
                        IgnoreReason::NotARecord,
                        "over-long line",
                        format!("line of {len} bytes is longer than {MAX_LINE}; skipped"),
                    );
                    true
                }
                Ok(Line::Eof) => {
                    norm.end(&mut self.out);
                    false
                }
                Err(e) => {
                    let n = *line;
                    norm.end(&mut self.out);
                    // Worded as talon-event words its own (a file of JSON).
                    let (reason, message) = match DecodeError::of(&e) {
                        Some(d) => (SkipReason::Decompression, format!("{d}")),
                        None => (SkipReason::Unreadable, format!("read error: {e}")),
                    };
                    let issue = ReadIssue::new(
                        &cur.name,
                        n,
                        0,
                        reason,
                        format!("{message}; rest of input skipped"),
                    );
                    self.stats.inputs_skipped += 1;
                    self.ready.push_back(Err(issue));
                    false
                }
            },
            Mode::Docs { reader, norm } => match reader.next() {
                Some(Ok(event)) => {
                    self.stats.records += 1;
                    let line = event.origin.line;
                    match serde_json::from_str::<serde_json::Value>(event.source()) {
                        Ok(value) => {
                            cur.doc_text = Some(Arc::clone(event.source_arc()));
                            norm.doc(&value, line, &mut self.out);
                        }
                        Err(e) => self.out.ignore(
                            line,
                            IgnoreReason::Unreadable(SkipReason::InvalidJson),
                            "invalid JSON",
                            e.to_string(),
                        ),
                    }
                    true
                }
                Some(Err(issue)) => {
                    self.reader_issue(issue);
                    true
                }
                None => false,
            },
            // Read in `next` directly, without the queues.
            Mode::Passthrough { .. } => false,
        }
    }

    /// An issue from talon-event's reader: one record, ignored, yielded.
    fn reader_issue(&mut self, issue: ReadIssue) {
        if issue.line == 0 {
            // About the whole input (an I/O or decompression error), not a
            // record.
            self.stats.inputs_skipped += 1;
        } else {
            self.stats.records += 1;
            let ignored = Ignored {
                file: Arc::clone(&issue.file),
                line: issue.line,
                column: issue.column,
                reason: IgnoreReason::Unreadable(issue.reason),
                detail: issue.message.clone(),
            };
            self.stats.record_ignored(&ignored, issue.reason.name());
        }
        self.ready.push_back(Err(issue));
    }

    /// Turns one normalizer answer into events, issues and counts.
    fn handle(&mut self, outcome: Outcome) {
        let Some(cur) = &self.current else {
            return;
        };
        let name = Arc::clone(&cur.name);
        let source = cur.source;
        let doc_text = cur.doc_text.clone();
        match outcome {
            Outcome::Event {
                mut doc,
                line,
                original,
            } => {
                let mut unread: Vec<UnreadValue> = std::mem::take(&mut doc.unread)
                    .into_iter()
                    .map(|u| {
                        let (line, column) = match &u.at {
                            ValueAt::Column(line, column) => (*line, *column),
                            ValueAt::Path(path) => doc_text
                                .as_deref()
                                .and_then(|text| Some(line_column(text, norm::locate(text, path)?)))
                                .map_or((line, 0), |(down, column)| (line + down, column)),
                        };
                        UnreadValue {
                            file: Arc::clone(&name),
                            line,
                            column,
                            reason: u.reason,
                            detail: u.detail,
                        }
                    })
                    .collect();
                // In the order they are written.
                unread.sort_by_key(|u| (u.line, u.column));
                for value in unread {
                    self.stats.record_unread(&value);
                    // Not an issue (the event is read): `-vv` lists every
                    // one with the issues, the summary the first few.
                    tracing::debug!(
                        "{}",
                        talon_event::terminal::escape_controls(&value.to_string())
                    );
                }
                let index = doc.finish(
                    source,
                    &FinishOptions {
                        namespace: &self.opts.namespace,
                        host: self.opts.host.as_deref(),
                    },
                );
                if self.opts.enrich {
                    self.tree.enrich(&mut doc);
                }
                if self.opts.keep_original && !doc.has("event.original") {
                    let text = original.or_else(|| doc_text.as_deref().map(str::to_string));
                    doc.text("event.original", text.as_deref());
                }
                let text = doc.to_json();
                match self.opts.read.flattener.event(&text) {
                    Ok(mut event) => {
                        event.index = Some(match &self.forced_index {
                            Some(forced) => Arc::clone(forced),
                            None => Arc::from(index),
                        });
                        event.origin = Origin { file: name, line };
                        event.seq = self.seq;
                        self.seq += 1;
                        self.stats.events += 1;
                        self.ready.push_back(Ok(event));
                    }
                    // Cannot happen for a document we serialized; reported
                    // rather than lost should it ever.
                    Err(e) => self.ignore(
                        name,
                        (line, 0),
                        IgnoreReason::NotARecord,
                        "unflattenable",
                        e.to_string(),
                    ),
                }
            }
            Outcome::Ignored {
                line,
                column,
                reason,
                kind,
                detail,
            } => self.ignore(name, (line, column), reason, &kind, detail),
            Outcome::Merged(n) => self.stats.merged += n,
            Outcome::MoreRecords(n) => self.stats.records += n,
        }
    }

    fn ignore(
        &mut self,
        file: Arc<str>,
        (line, column): (u64, u64),
        reason: IgnoreReason,
        kind: &str,
        detail: String,
    ) {
        let ignored = Ignored {
            file,
            line,
            column,
            reason,
            detail,
        };
        let kept = self.stats.examples.len();
        self.stats.record_ignored(&ignored, kind);
        if let Some(issue) = ignored.to_issue() {
            self.ready.push_back(Err(issue));
        } else if self.stats.examples.len() > kept {
            // Only counted, not yielded: `-vv` lists the examples kept, as
            // it lists every issue (a real audit log ignores millions).
            tracing::debug!(
                "{}",
                talon_event::terminal::escape_controls(&ignored.to_string())
            );
        } else if !self.unlisted_said {
            self.unlisted_said = true;
            tracing::debug!(
                "{}:{line}: further records ignored as well-formed but not mapped are counted \
                 by reason, not listed",
                talon_event::terminal::escape_controls(&ignored.file)
            );
        }
    }
}

/// Lines below a document's first, and the 1-based column in that line,
/// of byte `at` of its text. Columns count bytes, as the reader's do; on
/// the document's first line they count from where the document starts,
/// its line's start for NDJSON and pretty-printed documents.
fn line_column(text: &str, at: usize) -> (u64, u64) {
    let before = &text.as_bytes()[..at];
    let down = before.iter().filter(|b| **b == b'\n').count() as u64;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    (down, (at - start) as u64 + 1)
}

/// Items per batch of a normalized input.
const ITEMS_PER_BATCH: usize = 256;

/// What the item loop reached.
enum Reached {
    Item(Result<Event, ReadIssue>),
    /// The current input is read by the passthrough reader (batch mode
    /// hands its lines out unparsed).
    Passthrough,
    End,
}

impl NormalizingReader {
    /// Reads the next batch (see [`talon_event::read::batch`]): about
    /// `target` bytes of unparsed NDJSON lines of an ECS input, or items
    /// decoded (and normalized) already, in input order. A line chunk's
    /// counts come back through [`NormalizingReader::record_chunk`]; items
    /// are counted here, or, read after a chunk not counted yet, right
    /// after it, so the counts list issues in input order whatever the
    /// number of threads parsing chunks. Events get no position.
    pub fn next_batch(&mut self, target: usize) -> Option<Batch> {
        let mut items = Vec::new();
        loop {
            if items.len() >= ITEMS_PER_BATCH {
                return Some(self.items_out(items));
            }
            match self.next_reached(true) {
                Reached::Item(item) => items.push(item),
                Reached::End => return (!items.is_empty()).then(|| self.items_out(items)),
                Reached::Passthrough => {
                    if !items.is_empty() {
                        return Some(self.items_out(items));
                    }
                    let unrecognised = matches!(
                        self.current.as_ref().map(|c| &c.mode),
                        Some(Mode::Passthrough { unrecognised: true })
                    );
                    match self.passthrough.next_batch(target) {
                        Some(Batch::Items(mut got)) => {
                            for item in &mut got {
                                if let Err(issue) = item {
                                    if unrecognised && not_a_json_file(issue) {
                                        issue.message.push_str(UNRECOGNISED);
                                    }
                                }
                            }
                            return Some(self.items_out(got));
                        }
                        Some(lines) => {
                            self.order.chunk_out();
                            return Some(lines);
                        }
                        None => self.close_current(),
                    }
                }
            }
        }
    }

    /// Counts what parsing a line chunk of an ECS input found (in chunk
    /// order).
    pub fn record_chunk(&mut self, counts: &ChunkCounts) {
        self.read.events += counts.events;
        for issue in &counts.issues {
            self.count_issue(issue);
        }
        self.passthrough.record_chunk(counts);
        let (events, issues) = self.order.chunk_counted();
        self.count_items(events, &issues);
    }

    /// A batch of items handed out: counted now, or after the chunks
    /// before them are.
    fn items_out(&mut self, items: Vec<Result<Event, ReadIssue>>) -> Batch {
        let events = items.iter().filter(|i| i.is_ok()).count() as u64;
        let issues: Vec<ReadIssue> = items.iter().filter_map(|i| i.clone().err()).collect();
        if let Some((events, issues)) = self.order.items(events, issues) {
            self.count_items(events, &issues);
        }
        Batch::Items(items)
    }

    fn count_items(&mut self, events: u64, issues: &[ReadIssue]) {
        self.read.events += events;
        for issue in issues {
            self.count_issue(issue);
        }
    }

    fn count(&mut self, item: &Result<Event, ReadIssue>) {
        match item {
            Ok(_) => self.read.events += 1,
            Err(issue) => self.count_issue(issue),
        }
    }

    /// Counts an issue of the run, and logs it (at `debug`, so `-vv`
    /// lists every one, in input order; the readers inside do not log
    /// their own).
    fn count_issue(&mut self, issue: &ReadIssue) {
        self.read.record(issue);
        tracing::debug!("{issue}");
    }

    fn next_item(&mut self) -> Option<Result<Event, ReadIssue>> {
        match self.next_reached(false) {
            Reached::Item(item) => Some(item),
            Reached::Passthrough | Reached::End => None,
        }
    }

    /// The next item; with `batch`, stops at an input the passthrough
    /// reader reads instead of reading it line by line.
    fn next_reached(&mut self, batch: bool) -> Reached {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Reached::Item(item);
            }
            if let Some(outcome) = self.out.pop() {
                self.handle(outcome);
                continue;
            }
            let Some(cur) = &self.current else {
                if !self.open_next() {
                    return Reached::End;
                }
                continue;
            };
            if let Mode::Passthrough { unrecognised } = cur.mode {
                if batch {
                    return Reached::Passthrough;
                }
                // The hot path of plain ECS input: straight from the
                // reader, nothing queued. Its `None` is the end of this
                // input, the only one it was given.
                match self.passthrough.next() {
                    Some(Ok(mut event)) => {
                        event.seq = self.seq;
                        self.seq += 1;
                        return Reached::Item(Ok(event));
                    }
                    Some(Err(mut issue)) => {
                        if unrecognised && not_a_json_file(&issue) {
                            issue.message.push_str(UNRECOGNISED);
                        }
                        return Reached::Item(Err(issue));
                    }
                    None => self.close_current(),
                }
                continue;
            }
            if !self.step() {
                // Answers of the input's end are handled before the input
                // is closed: they need its name and source.
                while let Some(outcome) = self.out.pop() {
                    self.handle(outcome);
                }
                self.close_current();
            }
        }
    }
}

impl Iterator for NormalizingReader {
    type Item = Result<Event, ReadIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_item()?;
        self.count(&item);
        Some(item)
    }
}

impl std::fmt::Debug for NormalizingReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NormalizingReader")
            .field("queued", &self.queue.len())
            .field(
                "current",
                &self
                    .current
                    .as_ref()
                    .map(|c| (c.name.to_string(), c.source)),
            )
            .field("stats", &self.stats)
            .finish()
    }
}

/// A talon-event reader whose issues are logged by the normalizing reader
/// that counts them, not by itself.
fn quiet_reader(mut r: EventReader) -> EventReader {
    r.log_issues(false);
    r
}
