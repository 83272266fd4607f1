//! Lines too long to hold: a line of NDJSON longer than the cap
//! ([`ReadOptions::max_line`](crate::read::ReadOptions::max_line), by
//! default [`DEFAULT_MAX_LINE_BYTES`]) is one [`SkipReason::TooLong`]
//! issue, not an event.
//!
//! Elasticsearch refuses a request over 100 MB (`http.max_content_length`),
//! so no indexed event comes near the default cap; a search response saved
//! on one line can (10,000 hits of 10 KB), which is why the cap is above
//! that. A line longer still is a file without newlines (a binary, a log
//! written with `\r` alone) or one document gone wrong. Held whole, it
//! cost talon four times its size in memory (a 400 MB line: 1.3-1.8 GB),
//! so an endless one ended the process. Read from a stream, the line's
//! bytes past the cap are passed over as they arrive; in a mapped file,
//! they are never parsed.

use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::read::issue::{ReadIssue, SkipReason};

/// The longest line talon reads by default, in bytes (256 MiB), line
/// ending excluded.
pub const DEFAULT_MAX_LINE_BYTES: usize = 256 << 20;

/// The issue for line `line` of `file`, `len` bytes long (at least `len`
/// when `exact` is false: reading stopped before its end), over the cap
/// `max`.
pub(crate) fn too_long(file: &Arc<str>, line: u64, len: u64, exact: bool, max: usize) -> ReadIssue {
    let size = match exact {
        true => format!("{len} bytes"),
        false => format!("at least {len} bytes"),
    };
    ReadIssue::new(
        file,
        line,
        0,
        SkipReason::TooLong,
        format!(
            "line of {size} is longer than the {} talon reads of one line \
             (--max-line); skipped",
            bytes_shown(max)
        ),
    )
}

/// A size as the message gives it: `256 MiB`, `4 KiB`, `100 bytes`.
fn bytes_shown(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Passes over the rest of a line whose start was already read: reads up
/// to and including its newline. Returns the bytes passed over (newline
/// excluded) and whether a newline ended them (false: the input ended, or
/// `stop` was raised).
pub(crate) fn skip_rest_of_line(
    r: &mut dyn BufRead,
    stop: Option<&AtomicBool>,
) -> io::Result<(u64, bool)> {
    let mut skipped = 0u64;
    loop {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Ok((skipped, false));
        }
        let buf = match r.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok((skipped, false));
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                r.consume(i + 1);
                return Ok((skipped + i as u64, true));
            }
            None => {
                let n = buf.len();
                r.consume(n);
                skipped += n as u64;
            }
        }
    }
}

/// What [`read_line_capped`] read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Capped {
    /// The end of input: nothing was read.
    End,
    /// A line (with its newline, if it had one) is in the buffer.
    Line,
    /// A line longer than the cap was passed over: its length, and
    /// whether that is exact (false: reading stopped before its end).
    Long(u64, bool),
}

/// Reads one line into `buf` (cleared first), as `read_until` would, but
/// holds at most `max` bytes of it: a longer line is passed over to its
/// newline and `buf` is left empty.
pub(crate) fn read_line_capped(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
    stop: Option<&AtomicBool>,
) -> io::Result<Capped> {
    buf.clear();
    let n = Read::take(&mut *r, (max as u64).saturating_add(1)).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Capped::End);
    }
    if buf.len() <= max || buf.last() == Some(&b'\n') {
        return Ok(Capped::Line);
    }
    let read = buf.len() as u64;
    buf.clear();
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let (rest, ended) = skip_rest_of_line(r, stop)?;
    Ok(Capped::Long(read + rest, ended || !stopped()))
}

/// One piece of a text of whole lines, split around its long lines.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Lines none of which is too long, and how many lines come before.
    Lines(Range<usize>, u64),
    /// A line longer than the cap: its length, and how many lines come
    /// before it.
    Long(u64, u64),
}

/// Splits `text` (whole lines, the last maybe without its newline) into
/// runs of ordinary lines and the lines longer than `max` between them,
/// in order, and returns how many lines it holds; `None` for a text no
/// longer than `max`, which is one run, found without reading it.
pub(crate) fn split_long_lines(text: &[u8], max: usize, pieces: &mut Vec<Piece>) -> Option<u64> {
    pieces.clear();
    if text.len() <= max {
        pieces.push(Piece::Lines(0..text.len(), 0));
        return None;
    }
    let (mut run, mut run_before) = (0usize, 0u64);
    let (mut start, mut before) = (0usize, 0u64);
    while start < text.len() {
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
        let next = (end + 1).min(text.len());
        if end - start > max {
            if run < start {
                pieces.push(Piece::Lines(run..start, run_before));
            }
            pieces.push(Piece::Long((end - start) as u64, before));
            (run, run_before) = (next, before + 1);
        }
        before += 1;
        start = next;
    }
    if run < text.len() {
        pieces.push(Piece::Lines(run..text.len(), run_before));
    }
    Some(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1000;

    #[test]
    fn a_text_within_the_cap_is_one_run_and_is_not_read() {
        let mut pieces = Vec::new();
        assert_eq!(split_long_lines(b"{}\n{}\n", MAX, &mut pieces), None);
        assert_eq!(pieces, [Piece::Lines(0..6, 0)]);
    }

    #[test]
    fn long_lines_are_cut_out_of_the_runs_with_their_numbers() {
        let long = vec![b'x'; MAX + 1];
        let mut text = b"{\"a\":1}\n".to_vec();
        text.extend_from_slice(&long);
        text.extend_from_slice(b"\n{\"b\":2}\n\n");
        text.extend_from_slice(&long);
        let mut pieces = Vec::new();
        let lines = split_long_lines(&text, MAX, &mut pieces);
        let second = 8 + long.len() + 1;
        assert_eq!(
            pieces,
            [
                Piece::Lines(0..8, 0),
                Piece::Long(long.len() as u64, 1),
                Piece::Lines(second..second + 9, 2),
                Piece::Long(long.len() as u64, 4),
            ]
        );
        assert_eq!(lines, Some(5));
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_kept() {
        let mut text = vec![b'x'; MAX];
        text.extend_from_slice(b"\n{}");
        let mut pieces = Vec::new();
        assert_eq!(split_long_lines(&text, MAX, &mut pieces), Some(2));
        assert_eq!(pieces, [Piece::Lines(0..text.len(), 0)]);
    }

    #[test]
    fn skipping_stops_after_the_newline_and_counts_the_bytes() {
        let mut r = io::BufReader::with_capacity(4, &b"abcdefghij\nnext\n"[..]);
        assert_eq!(skip_rest_of_line(&mut r, None).unwrap(), (10, true));
        let mut rest = String::new();
        r.read_line(&mut rest).unwrap();
        assert_eq!(rest, "next\n");
        assert_eq!(skip_rest_of_line(&mut r, None).unwrap(), (0, false));
    }

    #[test]
    fn a_capped_read_passes_over_a_long_line_to_the_next() {
        let mut text = vec![b'x'; MAX + 5];
        text.extend_from_slice(b"\n{}\n");
        let mut r = io::BufReader::new(&text[..]);
        let mut buf = Vec::new();
        let long = (MAX + 5) as u64;
        assert_eq!(
            read_line_capped(&mut r, &mut buf, MAX, None).unwrap(),
            Capped::Long(long, true)
        );
        assert!(buf.is_empty());
        assert_eq!(
            read_line_capped(&mut r, &mut buf, MAX, None).unwrap(),
            Capped::Line
        );
        assert_eq!(buf, b"{}\n");
        assert_eq!(
            read_line_capped(&mut r, &mut buf, MAX, None).unwrap(),
            Capped::End
        );
    }

    #[test]
    fn a_capped_read_keeps_a_line_of_exactly_the_cap() {
        let mut text = vec![b'x'; MAX];
        text.push(b'\n');
        let mut r = io::BufReader::new(&text[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line_capped(&mut r, &mut buf, MAX, None).unwrap(),
            Capped::Line
        );
        assert_eq!(buf.len(), MAX + 1);
    }

    #[test]
    fn the_message_gives_the_cap_in_its_unit() {
        let issue = too_long(&Arc::from("f"), 3, 2000, false, 1 << 10);
        assert_eq!(
            issue.to_string(),
            "f:3: too-long: line of at least 2000 bytes is longer than the 1 KiB talon reads \
             of one line (--max-line); skipped"
        );
        assert_eq!(bytes_shown(DEFAULT_MAX_LINE_BYTES), "256 MiB");
        assert_eq!(bytes_shown(1500), "1500 bytes");
    }

    #[test]
    fn the_largest_cap_reads_lines_rather_than_wrapping_to_none() {
        let mut r = io::BufReader::new(&b"{}\n{}"[..]);
        let mut buf = Vec::new();
        let got = read_line_capped(&mut r, &mut buf, usize::MAX, None).unwrap();
        assert_eq!((got, buf.as_slice()), (Capped::Line, &b"{}\n"[..]));
    }

    #[test]
    fn skipping_stops_when_asked() {
        let stop = AtomicBool::new(true);
        let mut r = io::repeat(b'x');
        let mut r = io::BufReader::new(&mut r);
        assert_eq!(skip_rest_of_line(&mut r, Some(&stop)).unwrap(), (0, false));
    }
}
