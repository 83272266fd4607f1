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

    /// The lines of `text` (whole lines) worth parsing, each with how many
    /// lines of `text` come before it, pushed onto `out`; and every line
    /// counted. The default searches with
    /// [`next_candidate`](LineFilter::next_candidate) and counts the gaps
    /// between candidates ([`number_by_search`]); a filter that can count
    /// lines in the same pass as it searches (see
    /// [`Sieve`](crate::read::Sieve)) overrides it.
    fn number_lines(&self, text: &[u8], out: &mut Vec<(Range<usize>, u64)>) -> Numbered {
        number_by_search(self, text, out)
    }
}

/// The lines of `text` (whole lines) that `filter` picks, each with how
/// many lines of `text` come before it, pushed onto `out`. Without a
/// filter every line is picked.
pub(crate) fn numbered_lines(
    text: &[u8],
    filter: Option<&dyn LineFilter>,
    out: &mut Vec<(Range<usize>, u64)>,
) -> Numbered {
    match filter {
        Some(filter) => filter.number_lines(text, out),
        None => every_line(text, out),
    }
}

/// Every line of `text`, numbered: what [`numbered_lines`] gives without
/// a filter.
fn every_line(text: &[u8], out: &mut Vec<(Range<usize>, u64)>) -> Numbered {
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', text) {
        out.push((start..nl, out.len() as u64));
        start = nl + 1;
    }
    if start < text.len() {
        out.push((start..text.len(), out.len() as u64));
    }
    Numbered {
        lines: out.len() as u64,
        blank: 0,
    }
}

/// [`LineFilter::number_lines`] by way of the filter's
/// [`next_candidate`](LineFilter::next_candidate).
///
/// Newlines are counted in the gap before each candidate just after the
/// filter has searched it, while those bytes are still in cache, so
/// numbering the lines costs no second trip through memory. The lines of
/// the gaps that are blank or `//` comments are counted apart (see
/// [`Numbered`]).
pub fn number_by_search<F: LineFilter + ?Sized>(
    filter: &F,
    text: &[u8],
    out: &mut Vec<(Range<usize>, u64)>,
) -> Numbered {
    let (mut from, mut before, mut blank) = (0usize, 0u64, 0u64);
    while from < text.len() {
        // The filter searches a window of whole lines at a time, so that
        // the gap is still in cache when its lines are counted.
        let end = match from.checked_add(WINDOW) {
            Some(w) if w < text.len() => {
                memchr::memchr(b'\n', &text[w..]).map_or(text.len(), |i| w + i + 1)
            }
            _ => text.len(),
        };
        let Some(line) = filter.next_candidate(&text[..end], from) else {
            let gap = gap_lines(&text[from..end]);
            before += gap.lines;
            blank += gap.blank;
            from = end;
            continue;
        };
        let gap = gap_lines(&text[from..line.start]);
        before += gap.lines;
        blank += gap.blank;
        from = line.end + 1;
        out.push((line, before));
        before += 1;
    }
    let rest = gap_lines(text.get(from..).unwrap_or_default());
    Numbered {
        lines: before + rest.lines,
        blank: blank + rest.blank,
    }
}

/// How many bytes past its start a filter searches at once (then on to
/// the end of the line there): small enough for the level-2 cache.
const WINDOW: usize = 64 << 10;

/// What [`LineFilter::number_lines`] counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numbered {
    /// Lines of the text (the last one counts without its newline).
    pub lines: u64,
    /// Of the lines the filter did not pick, those blank or holding a
    /// `//` comment: they hold no document, so they are not "not parsed".
    pub blank: u64,
}

/// The lines of `gap` (whole lines, the last one perhaps without its
/// newline), and how many of them are blank or comments.
fn gap_lines(gap: &[u8]) -> Numbered {
    let (mut lines, mut blank, mut start) = (0u64, 0u64, 0usize);
    for nl in memchr::memchr_iter(b'\n', gap) {
        lines += 1;
        blank += u64::from(blank_or_comment(&gap[start..nl]));
        start = nl + 1;
    }
    if start < gap.len() {
        lines += 1;
        blank += u64::from(blank_or_comment(&gap[start..]));
    }
    Numbered { lines, blank }
}

/// A line that holds no document: blank (whitespace only, Unicode
/// whitespace included), or a `//` comment. Decided on the bytes, so a
/// comment is one whether or not the rest of it is valid UTF-8, and
/// whether or not a line filter picked it.
pub(crate) fn blank_or_comment(line: &[u8]) -> bool {
    let body = line.trim_ascii_start();
    match body.first() {
        None => true,
        Some(b'/') => body.starts_with(b"//"),
        Some(b) if *b >= 0x80 => std::str::from_utf8(body).is_ok_and(|t| {
            let t = t.trim_start();
            t.is_empty() || t.starts_with("//")
        }),
        Some(_) => false,
    }
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
        let n = numbered_lines(text, Some(&HasX), &mut out);
        assert_eq!(n, Numbered { lines: 6, blank: 1 });
        assert_eq!(out, [(0..2, 0), (6..11, 3), (14..16, 5)]);
        out.clear();
        let n = numbered_lines(b"a\n\nb\n", None, &mut out);
        assert_eq!(n, Numbered { lines: 3, blank: 0 });
        assert_eq!(out, [(0..1, 0), (2..2, 1), (3..4, 2)]);
        out.clear();
        let n = numbered_lines(b"a\nb", Some(&HasX), &mut out);
        assert_eq!(n, Numbered { lines: 2, blank: 0 });
        assert!(out.is_empty());
    }

    /// Blank and comment lines the filter passes over are counted apart
    /// from the other lines it passes over; a comment it picks is its
    /// caller's to count.
    #[test]
    fn blank_and_comment_lines_between_candidates_are_counted() {
        let text = b"// c\n  \t\r\nx1\n  // c2\n\xc2\xa0\ny\n// x\nz\n \n";
        let mut out = Vec::new();
        let n = numbered_lines(text, Some(&HasX), &mut out);
        assert_eq!(n, Numbered { lines: 9, blank: 5 });
        let picked: Vec<u64> = out.iter().map(|(_, before)| *before).collect();
        assert_eq!(picked, [2, 6]);
        assert!(blank_or_comment(b"// \xff not utf-8"));
        assert!(blank_or_comment("\u{2003}".as_bytes()));
        assert!(!blank_or_comment(b"/ x"));
        assert!(!blank_or_comment("\u{e9}".as_bytes()));
    }

    /// Text of several search windows: every line is numbered as a plain
    /// count would, whether a candidate sits at a window's edge or a
    /// window holds none.
    #[test]
    fn lines_are_numbered_across_search_windows() {
        let mut text = Vec::new();
        let mut want = Vec::new();
        let mut n = 0u64;
        // Long runs without an `x`, then lines with one, around the edges.
        for i in 0..(3 * WINDOW / 50) {
            let x = i % 997 == 0 || (1300..1320).contains(&i);
            let start = text.len();
            text.extend(
                format!("{{\"n\":{i},\"pad\":\"{:30}\"}}", if x { "x" } else { "" }).bytes(),
            );
            if x {
                want.push((start..text.len(), n));
            }
            if i % 13 == 0 {
                text.push(b'\n');
                n += 1;
            }
            text.push(b'\n');
            n += 1;
        }
        let mut out = Vec::new();
        let got = numbered_lines(&text, Some(&HasX), &mut out);
        assert!(text.len() > 2 * WINDOW);
        assert_eq!(got.lines, n);
        assert_eq!(
            got.blank,
            (0..(3 * WINDOW / 50)).filter(|i| i % 13 == 0).count() as u64
        );
        assert_eq!(out, want);
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
