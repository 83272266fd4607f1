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
//! The reader never stops on bad input: malformed records and unreadable
//! inputs are yielded as [`ReadIssue`]s, well-formed records of kinds talon
//! does not map are counted, and every record is accounted for in
//! [`NormalizeStats`]. The process tree spans all inputs of one reader, so
//! rotated logs read together keep their parents.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;

use talon_event::flatten::Flattener;
use talon_event::read::{EventReader, InputSpec, ReadIssue, ReadOptions, SkipReason};
use talon_event::{Event, Origin};

use crate::auditd::{AuditWindow, Auditd};
use crate::doc::FinishOptions;
use crate::input::{self, Line, MAX_LINE};
use crate::norm::{DocNormalizer, LineNormalizer, Out, Outcome};
use crate::source::{detect, Source};
use crate::stats::{IgnoreReason, Ignored, NormalizeStats};
use crate::tree::{ProcessTree, TreeOptions};

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
    /// Projection and `null_value`s for flattening the normalized events.
    pub flattener: Flattener,
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
            flattener: Flattener::default(),
        }
    }
}

enum Opener {
    Spec(InputSpec),
    Reader(Box<dyn Read + Send>),
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
    Passthrough {
        reader: Box<EventReader>,
    },
}

struct Current {
    name: Arc<str>,
    source: Source,
    mode: Mode,
    /// The text of the JSON document being answered for (`event.original`).
    doc_text: Option<Arc<str>>,
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
    opts: NormalizeOptions,
    seq: u64,
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
            opts: options,
            seq: 0,
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

    /// Counts so far (complete once the iterator is exhausted).
    pub fn stats(&self) -> NormalizeStats {
        let mut s = self.stats.clone();
        s.tree = self.tree.stats.clone();
        s
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
        let raw: std::io::Result<Box<dyn Read + Send>> = match q.opener {
            Opener::Reader(r) => Ok(r),
            Opener::Spec(InputSpec::Stdin) => Ok(Box::new(std::io::stdin())),
            Opener::Spec(InputSpec::Path(p)) => {
                std::fs::File::open(p).map(|f| Box::new(f) as Box<dyn Read + Send>)
            }
        };
        let peeked = match raw.and_then(input::open) {
            Ok(p) => p,
            Err(e) => {
                self.input_issue(&q.name, SkipReason::Unreadable, format!("cannot read: {e}"));
                return true;
            }
        };
        let Some(source) = q.source.or_else(|| detect(&peeked.head)) else {
            if !peeked.head.iter().all(u8::is_ascii_whitespace) {
                self.input_issue(
                    &q.name,
                    SkipReason::NotAnEvent,
                    "cannot tell which source wrote this input; name it (--source)".to_string(),
                );
            }
            return true;
        };
        let mode = self.mode_for(source, &q.name, peeked);
        self.current = Some(Current {
            name: q.name,
            source,
            mode,
            doc_text: None,
        });
        true
    }

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
        let events = |r| {
            Box::new(EventReader::from_reader(
                name.to_string(),
                r,
                ReadOptions::default(),
            ))
        };
        match source {
            Source::Auditd => lines(Box::new(Auditd::new(self.opts.audit_window)), peeked.reader),
            Source::Sysmon if !looks_json => {
                lines(Box::new(crate::sysmon::SysmonLines), peeked.reader)
            }
            Source::Ecs => Mode::Passthrough {
                reader: events(peeked.reader),
            },
            other => Mode::Docs {
                reader: events(peeked.reader),
                norm: crate::doc_normalizer(other),
            },
        }
    }

    /// An issue about a whole input (it cannot be opened or recognised).
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
                Ok(Line::Text(text)) => {
                    let n = *line;
                    *line += 1;
                    if !text.trim().is_empty() {
                        self.stats.records += 1;
                        norm.line(&text, n, &mut self.out);
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
                    let issue = ReadIssue::new(
                        &cur.name,
                        n,
                        0,
                        SkipReason::Unreadable,
                        format!("read error: {e}; rest of input skipped"),
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
            Mode::Passthrough { reader } => match reader.next() {
                Some(Ok(mut event)) => {
                    self.stats.records += 1;
                    self.stats.events += 1;
                    event.seq = self.seq;
                    self.seq += 1;
                    self.ready.push_back(Ok(event));
                    true
                }
                Some(Err(issue)) => {
                    self.reader_issue(issue);
                    true
                }
                None => false,
            },
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
                match self.opts.flattener.event(&text) {
                    Ok(mut event) => {
                        event.index = Some(Arc::from(index));
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
                        line,
                        IgnoreReason::NotARecord,
                        "unflattenable",
                        e.to_string(),
                    ),
                }
            }
            Outcome::Ignored {
                line,
                reason,
                kind,
                detail,
            } => self.ignore(name, line, reason, &kind, detail),
            Outcome::Merged(n) => self.stats.merged += n,
            Outcome::MoreRecords(n) => self.stats.records += n,
        }
    }

    fn ignore(
        &mut self,
        file: Arc<str>,
        line: u64,
        reason: IgnoreReason,
        kind: &str,
        detail: String,
    ) {
        let ignored = Ignored {
            file,
            line,
            reason,
            detail,
        };
        self.stats.record_ignored(&ignored, kind);
        if reason.is_issue() {
            self.ready.push_back(Err(ignored.to_issue()));
        }
    }
}

impl Iterator for NormalizingReader {
    type Item = Result<Event, ReadIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if let Some(outcome) = self.out.pop() {
                self.handle(outcome);
                continue;
            }
            if self.current.is_some() {
                if !self.step() {
                    // Answers of the input's end are handled before the
                    // input is closed: they need its name and source.
                    while let Some(outcome) = self.out.pop() {
                        self.handle(outcome);
                    }
                    self.current = None;
                }
                continue;
            }
            if !self.open_next() {
                return None;
            }
        }
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
