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

use std::ops::Range;
use std::sync::Arc;

use crate::event::Event;
use crate::flatten::Flattener;
use crate::read::doc::{DocReader, Out};
use crate::read::file::line_item;
use crate::read::filter::LineFilter;
use crate::read::issue::ReadIssue;
use crate::read::ReadOptions;
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

/// Complete lines of one NDJSON input, as read.
#[derive(Debug)]
pub struct LineChunk {
    pub(crate) file: Arc<str>,
    /// Whole lines, each ending with `\n`.
    pub(crate) text: Vec<u8>,
    /// The 1-based number of the first line.
    pub(crate) first_line: u64,
    /// The input ends with this chunk.
    pub(crate) last: bool,
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
    /// Issues, in line order.
    pub issues: Vec<ReadIssue>,
}

/// Turns line chunks into events: one per thread.
#[derive(Debug)]
pub struct LineParser {
    flattener: Flattener,
    forced_index: Option<Arc<str>>,
    filter: Option<Arc<dyn LineFilter>>,
    ranges: Vec<Range<usize>>,
    out: Out,
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
            out: Out::new(),
        }
    }

    /// Reads every line of `chunk`: each event goes to `on_event` in line
    /// order, each issue to `counts`.
    pub fn read(
        &mut self,
        chunk: &LineChunk,
        on_event: &mut dyn FnMut(&dyn EventView),
        counts: &mut ChunkCounts,
    ) {
        let docs = DocReader {
            flattener: &self.flattener,
            forced_index: self.forced_index.as_ref(),
            file: &chunk.file,
        };
        let text = &chunk.text[..];
        self.ranges.clear();
        match &self.filter {
            Some(f) => f.candidate_lines(text, &mut self.ranges),
            None => {
                let mut start = 0;
                for nl in memchr::memchr_iter(b'\n', text) {
                    self.ranges.push(start..nl);
                    start = nl + 1;
                }
                if start < text.len() {
                    self.ranges.push(start..text.len());
                }
            }
        }
        let total = count_lines(text);
        counts.unparsed += total - self.ranges.len() as u64;
        let (mut at, mut line) = (0usize, chunk.first_line);
        for range in &self.ranges {
            line += memchr::memchr_iter(b'\n', &text[at..range.start]).count() as u64;
            at = range.start;
            line_item(
                &chunk.file,
                &text[range.clone()],
                line,
                &docs,
                &mut self.out,
            );
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

/// Lines in `text`: its newlines, plus a last line without one.
fn count_lines(text: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', text).count() as u64;
    n + u64::from(text.last().is_some_and(|b| *b != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, first_line: u64) -> LineChunk {
        LineChunk {
            file: Arc::from("t.ndjson"),
            text: text.as_bytes().to_vec(),
            first_line,
            last: true,
        }
    }

    #[test]
    fn lines_become_events_and_issues_with_their_positions() {
        let mut p = LineParser::new(&ReadOptions::default());
        let c = chunk("{\"a\":1}\n\nnot json\n// note\n{\"a\":2}\n{\"a\":", 10);
        let mut lines = Vec::new();
        let mut counts = ChunkCounts::default();
        p.read(
            &c,
            &mut |e| lines.push(e.to_event(None).origin.line),
            &mut counts,
        );
        assert_eq!(lines, [10, 14]);
        assert_eq!(counts.events, 2);
        let at: Vec<(u64, &str)> = counts
            .issues
            .iter()
            .map(|i| (i.line, i.reason.name()))
            .collect();
        assert_eq!(at, [(12, "not-json"), (15, "invalid-json")]);
    }
}
