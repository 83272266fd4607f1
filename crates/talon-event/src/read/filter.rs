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
    /// Pushes onto `out`, in order, the byte ranges (without the newline)
    /// of the lines of `text` to parse. `text` holds whole lines, each
    /// ending with `\n`.
    fn candidate_lines(&self, text: &[u8], out: &mut Vec<Range<usize>>);
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

    #[test]
    fn line_around_finds_the_enclosing_line() {
        let t = b"ab\ncdef\ngh\n";
        assert_eq!(line_around(t, 0), 0..2);
        assert_eq!(line_around(t, 5), 3..7);
        assert_eq!(line_around(t, 3), 3..7);
        assert_eq!(line_around(t, 8), 8..10);
    }
}
