//! Line filters: which lines of NDJSON input are worth parsing at all.
//!
//! Parsing a line costs far more than looking at its bytes. A caller that
//! knows what text every useful event must hold (a rule engine whose rules
//! all need some literal) gives the reader a [`LineFilter`]; in line mode
//! the reader hands it whole buffers of complete lines and parses only the
//! lines it returns. Every other line is counted in
//! [`ReadStats::unparsed`](crate::read::ReadStats::unparsed), never lost
//! silently. A filtered line is not checked for being valid JSON, so a
//! malformed line the filter rejects is counted there, not as an issue.

use std::fmt;
use std::ops::Range;

/// Chooses the lines worth parsing from raw bytes.
pub trait LineFilter: Send + Sync + fmt::Debug {
    /// The first line of `text` at or after byte `from` (a line start)
    /// worth parsing: its byte range, without the newline. `text` holds
    /// whole lines, each ending with `\n` (the last one perhaps without).
    fn next_candidate(&self, text: &[u8], from: usize) -> Option<Range<usize>>;
}

/// The lines of `text` (whole lines) that `filter` picks, each with how
/// many lines of `text` come before it, pushed onto `out`; returns how
/// many lines `text` holds. Without a filter every line is picked.
///
/// Newlines are counted in the gap before each candidate just after the
/// filter has searched it, while those bytes are still in cache, so
/// numbering the lines costs no second trip through memory.
pub(crate) fn numbered_lines(
    text: &[u8],
    filter: Option<&dyn LineFilter>,
    out: &mut Vec<(Range<usize>, u64)>,
) -> u64 {
    let unterminated = u64::from(text.last().is_some_and(|b| *b != b'\n'));
    let Some(filter) = filter else {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', text) {
            out.push((start..nl, out.len() as u64));
            start = nl + 1;
        }
        if start < text.len() {
            out.push((start..text.len(), out.len() as u64));
        }
        return out.len() as u64;
    };
    let (mut from, mut counted, mut before) = (0usize, 0usize, 0u64);
    while from < text.len() {
        let Some(line) = filter.next_candidate(text, from) else {
            break;
        };
        before += count_newlines(&text[counted..line.start]);
        counted = line.start;
        from = line.end + 1;
        out.push((line, before));
    }
    before + count_newlines(&text[counted..]) + unterminated
}

fn count_newlines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

/// The line around byte `at` of `text`: from after the previous newline to
/// before the next one.
pub fn line_around(text: &[u8], at: usize) -> Range<usize> {
    let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines holding an `x`.
    #[derive(Debug)]
    struct HasX;

    impl LineFilter for HasX {
        fn next_candidate(&self, text: &[u8], from: usize) -> Option<Range<usize>> {
            let at = from + memchr::memchr(b'x', &text[from..])?;
            Some(line_around(text, at))
        }
    }

    #[test]
    fn picked_lines_are_numbered_and_every_line_counted() {
        let text = b"x1\n\nb\nx2 x3\nc\nx4";
        let mut out = Vec::new();
        let lines = numbered_lines(text, Some(&HasX), &mut out);
        assert_eq!(lines, 6);
        assert_eq!(out, [(0..2, 0), (6..11, 3), (14..16, 5)]);
        out.clear();
        assert_eq!(numbered_lines(b"a\n\nb\n", None, &mut out), 3);
        assert_eq!(out, [(0..1, 0), (2..2, 1), (3..4, 2)]);
        out.clear();
        assert_eq!(numbered_lines(b"a\nb", Some(&HasX), &mut out), 2);
        assert!(out.is_empty());
    }

    #[test]
    fn line_around_finds_the_enclosing_line() {
        let t = b"ab\ncdef\ngh\n";
        assert_eq!(line_around(t, 0), 0..2);
        assert_eq!(line_around(t, 5), 3..7);
        assert_eq!(line_around(t, 3), 3..7);
        assert_eq!(line_around(t, 8), 8..10);
    }
}
