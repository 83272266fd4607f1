//! Opening one input for normalizing: undo gzip/zstd, peek at the start to
//! recognise the source, and read text lines with a bound on their length.
//!
//! Peeking never consumes: the bytes looked at are chained back in front of
//! the stream. Line reading never holds more than [`MAX_LINE`] bytes of one
//! line; the rest of an over-long line is skipped and reported. Bytes are
//! counted as stored and as decoded, for the run summary.

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use talon_event::read::{Compression, DecodeError};

use crate::source::DETECT_WINDOW;

/// The longest text line kept (an auditd record is at most ~8 KiB; a Sysmon
/// XML event a few KiB).
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// A decoded byte stream and its first bytes (for detection).
pub(crate) struct Peeked {
    pub reader: Box<dyn BufRead + Send>,
    pub head: Vec<u8>,
    /// Bytes read so far, as stored and as decoded (the peek included).
    pub counters: Arc<Counters>,
}

/// Byte counts of one input. Atomics because the reader they count is
/// `Send` and the counts are read while it is being read.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    raw: AtomicU64,
    decoded: AtomicU64,
}

impl Counters {
    /// (bytes as stored, bytes decoded).
    pub fn get(&self) -> (u64, u64) {
        (
            self.raw.load(Ordering::Relaxed),
            self.decoded.load(Ordering::Relaxed),
        )
    }
}

/// Counts the bytes read through it into `raw` or `decoded`.
struct Counting<R> {
    inner: R,
    counters: Arc<Counters>,
    decoded: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let counter = if self.decoded {
            &self.counters.decoded
        } else {
            &self.counters.raw
        };
        counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads up to `n` bytes (fewer only at end of stream).
fn read_head(r: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok(head)
}

/// Like [`read_head`], but an error keeps the bytes read before it.
fn read_head_partial(r: &mut dyn Read, n: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut head = vec![0u8; n];
    let mut got = 0;
    let mut failed = None;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    head.truncate(got);
    (head, failed)
}

/// The rest of a decoded stream after the peek: when the peek met an
/// error, that error on the first read and then the end; else the stream.
struct Deferred<R> {
    error: Option<io::Error>,
    inner: Option<R>,
}

impl<R: Read> Read for Deferred<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.error.take() {
            self.inner = None;
            return Err(e);
        }
        match &mut self.inner {
            Some(r) => r.read(buf),
            None => Ok(0),
        }
    }
}

/// A decoder whose errors say they are of the compressed stream
/// ([`DecodeError`]): the decoded stream of a pipe goes on to talon-event's
/// reader, which sees only text and would otherwise report a corrupt gzip
/// on stdin as a plain read error, though the same file named is a
/// decompression error.
struct Decoding<R> {
    inner: R,
    compression: Compression,
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| DecodeError::wrap(self.compression, e))
    }
}

/// Undoes compression (recognised by magic bytes) and peeks at the
/// decoded start. A decoding error is a [`DecodeError`], whose text names
/// the compression (`gzip: invalid gzip header`).
pub(crate) fn open(raw: Box<dyn Read + Send>) -> io::Result<Peeked> {
    let counters = Arc::new(Counters::default());
    let mut raw = Counting {
        inner: raw,
        counters: Arc::clone(&counters),
        decoded: false,
    };
    let magic = read_head(&mut raw, 4)?;
    let stream: Box<dyn Read + Send> = Box::new(Cursor::new(magic.clone()).chain(raw));
    let compression = Compression::detect(&magic);
    let decoded: Box<dyn Read + Send> = match compression {
        Compression::None => stream,
        Compression::Gzip => Box::new(Decoding {
            inner: talon_event::read::GzMembers::new(stream),
            compression,
        }),
        Compression::Zstd => Box::new(Decoding {
            inner: zstd::stream::read::Decoder::new(stream)
                .map_err(|e| DecodeError::wrap(compression, e))?,
            compression,
        }),
    };
    let mut decoded = Counting {
        inner: decoded,
        counters: Arc::clone(&counters),
        decoded: true,
    };
    // A stream that breaks inside the window (a cut or corrupt gzip/zstd
    // small enough to fit) still gives what it decoded: the error comes
    // after those bytes, where the reader reports it as it would later on.
    let (head, failed) = match read_head_partial(&mut decoded, DETECT_WINDOW) {
        (head, Some(e)) if head.is_empty() => return Err(e),
        other => other,
    };
    let rest = Deferred {
        inner: failed.is_none().then_some(decoded),
        error: failed,
    };
    let reader = BufReader::with_capacity(256 * 1024, Cursor::new(head.clone()).chain(rest));
    Ok(Peeked {
        reader: Box::new(reader),
        head,
        counters,
    })
}

/// One line read by [`read_line`].
pub(crate) enum Line {
    /// The line's text, without its line ending; invalid UTF-8 replaced
    /// (`lossy`: there was some).
    Text {
        text: String,
        lossy: bool,
    },
    /// The line was longer than [`MAX_LINE`]; its length in bytes.
    TooLong(u64),
    Eof,
}

/// The 1-based byte column in `raw` (a line's bytes) of 1-based `column`
/// in its text as [`read_line`] gave it, where every sequence that is not
/// UTF-8 is a three-byte U+FFFD; past the text's end, past `raw`'s.
fn file_column(raw: &[u8], column: u64) -> u64 {
    const REPLACEMENT: u64 = '\u{FFFD}'.len_utf8() as u64;
    let mut left = column.saturating_sub(1);
    let mut at = 0u64;
    for chunk in raw.utf8_chunks() {
        let valid = chunk.valid().len() as u64;
        if left <= valid {
            return at + left + 1;
        }
        left -= valid;
        at += valid;
        let bad = chunk.invalid().len() as u64;
        if bad > 0 {
            if left < REPLACEMENT {
                return at + 1;
            }
            left -= REPLACEMENT;
            at += bad;
        }
    }
    at + left + 1
}

/// Where a text line's columns are in the file. A normalizer reads the
/// line as [`read_line`] gave it (each sequence that is not UTF-8 a
/// three-byte U+FFFD, without a byte order mark opening the input); the
/// columns it gives count the file's bytes. Cheap to keep with a record
/// answered for later: the line's bytes are only kept when they are not
/// UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Columns {
    /// The line's bytes, when they are not UTF-8.
    raw: Option<Box<[u8]>>,
    /// Bytes of the line before its text (a byte order mark).
    skip: u64,
}

impl Columns {
    /// The columns of the line whose bytes are `raw`, its text starting
    /// `skip` bytes in; `lossy`: some bytes were not UTF-8 ([`Line::Text`]
    /// says so, having checked them once already).
    pub fn new(raw: &[u8], skip: usize, lossy: bool) -> Columns {
        Columns {
            raw: lossy.then(|| raw.into()),
            skip: skip as u64,
        }
    }

    /// The 1-based column in the file of 1-based `column` of the text; 0
    /// (no column) stays 0.
    pub fn file(&self, column: u64) -> u64 {
        match (&self.raw, column) {
            (_, 0) => 0,
            (Some(raw), c) => file_column(raw, c + self.skip),
            (None, c) => c + self.skip,
        }
    }

    /// The first bytes that are not UTF-8 among those the text's bytes
    /// `text` (a range of byte offsets) were read from: their 1-based
    /// column in the file, and the bytes as written (`\xe9`).
    pub fn not_utf8(&self, text: Range<usize>) -> Option<(u64, String)> {
        const REPLACEMENT: usize = '\u{FFFD}'.len_utf8();
        let raw = self.raw.as_deref()?;
        // Where each chunk starts, in the line's whole text (the skipped
        // bytes included) and in its bytes.
        let (mut in_text, mut in_raw) = (0usize, 0usize);
        for chunk in raw.utf8_chunks() {
            in_text += chunk.valid().len();
            in_raw += chunk.valid().len();
            let bad = chunk.invalid();
            if bad.is_empty() {
                break;
            }
            let at = in_text.saturating_sub(self.skip as usize);
            if at >= text.end {
                break;
            }
            if at >= text.start {
                return Some((in_raw as u64 + 1, shown(bad)));
            }
            in_text += REPLACEMENT;
            in_raw += bad.len();
        }
        None
    }
}

/// The first bytes of `bytes` that are not UTF-8 (those read as one
/// U+FFFD): their 0-based offset, and as written (`\xe9`).
pub(crate) fn first_not_utf8(bytes: &[u8]) -> Option<(usize, String)> {
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            return Some((at, shown(chunk.invalid())));
        }
    }
    None
}

/// Bytes as a message writes them: `\xe2\x82`.
fn shown(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

/// Reads one line of at most [`MAX_LINE`] bytes.
pub(crate) fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    let mut total: u64 = 0;
    let mut any = false;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (part, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], i + 1),
            None => (chunk, chunk.len()),
        };
        total += part.len() as u64;
        if buf.len() + part.len() <= MAX_LINE {
            buf.extend_from_slice(part);
        }
        let ended = done <= chunk.len() && done > part.len();
        r.consume(done);
        if ended {
            break;
        }
    }
    if !any {
        return Ok(Line::Eof);
    }
    if total as usize > MAX_LINE {
        return Ok(Line::TooLong(total));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(match String::from_utf8_lossy(buf) {
        std::borrow::Cow::Borrowed(text) => Line::Text {
            text: text.to_owned(),
            lossy: false,
        },
        std::borrow::Cow::Owned(text) => Line::Text { text, lossy: true },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_columns_count_bytes_that_are_not_utf8_once() {
        // `a`, a bad byte (U+FFFD, three bytes in the text), `é` (two
        // bytes either way), a bad two-byte sequence (one U+FFFD), `b`.
        let raw = b"a\xff\xc3\xa9\xe2\x82b";
        let text = String::from_utf8_lossy(raw);
        assert_eq!(text, "a\u{FFFD}é\u{FFFD}b");
        let column_of = |needle: &str| text.find(needle).unwrap() as u64 + 1;
        assert_eq!(file_column(raw, column_of("a")), 1);
        assert_eq!(file_column(raw, column_of("\u{FFFD}")), 2);
        assert_eq!(file_column(raw, column_of("é")), 3);
        assert_eq!(file_column(raw, column_of("b")), 7);
        // Just past the end of the text is just past the end of the line.
        assert_eq!(
            file_column(raw, text.len() as u64 + 1),
            raw.len() as u64 + 1
        );
        // Valid UTF-8: columns are unchanged.
        for c in 1..=8 {
            assert_eq!(file_column("ab é c".as_bytes(), c), c);
        }
    }

    /// A byte order mark before the text counts; no column stays none;
    /// the line's bytes are kept only when they are not UTF-8.
    #[test]
    fn columns_count_a_byte_order_mark_and_keep_no_column() {
        let marked = Columns::new("\u{feff}ab".as_bytes(), 3, false);
        assert_eq!((marked.file(1), marked.file(0)), (4, 0));
        assert_eq!(marked.raw, None);
        // `b` is the text's fifth byte (after a three-byte U+FFFD), the
        // file's third.
        assert_eq!(Columns::new(b"a\xffb", 0, true).file(5), 3);
    }

    /// The first bad bytes read into a range of the text, where they are
    /// in the file, whatever came before them.
    #[test]
    fn bytes_not_utf8_are_found_in_a_range_of_the_text() {
        // Text: `a`, U+FFFD (1..4), `é` (4..6), U+FFFD (6..9), `b` (9).
        let raw = b"\xef\xbb\xbfa\xff\xc3\xa9\xe2\x82b";
        let line = Columns::new(raw, 3, true);
        assert_eq!(line.not_utf8(0..10), Some((5, "\\xff".to_string())));
        assert_eq!(line.not_utf8(2..10), Some((8, "\\xe2\\x82".to_string())));
        assert_eq!(line.not_utf8(7..10), None);
        assert_eq!(line.not_utf8(0..1), None);
        assert_eq!(Columns::new(b"plain", 0, false).not_utf8(0..5), None);
    }

    /// The first bad bytes of decoded bytes: where, and as written; a
    /// sequence cut short is one.
    #[test]
    fn the_first_bytes_not_utf8_are_found() {
        assert_eq!(first_not_utf8(b"caf\xc3\xa9"), None);
        assert_eq!(first_not_utf8(b""), None);
        assert_eq!(first_not_utf8(b"caf\xe9!\xff"), Some((3, "\\xe9".into())));
        assert_eq!(
            first_not_utf8(b"\xc3\xa9\xe2\x82"),
            Some((2, "\\xe2\\x82".into()))
        );
    }

    fn lines(text: &[u8]) -> Vec<String> {
        let mut r = Cursor::new(text.to_vec());
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line(&mut r, &mut buf).unwrap() {
                Line::Text { text, .. } => out.push(text),
                Line::TooLong(n) => out.push(format!("<{n}>")),
                Line::Eof => return out,
            }
        }
    }

    #[test]
    fn lines_end_at_newlines_with_or_without_the_last_one() {
        assert_eq!(lines(b"a\r\nb\n\nc"), ["a", "b", "", "c"]);
        assert_eq!(lines(b""), Vec::<String>::new());
        assert_eq!(lines(b"\xff\n"), ["\u{fffd}"]);
    }

    #[test]
    fn over_long_lines_are_skipped_and_measured() {
        let mut text = vec![b'x'; MAX_LINE + 10];
        text.extend_from_slice(b"\nnext\n");
        assert_eq!(
            lines(&text),
            [format!("<{}>", MAX_LINE + 10), "next".to_string()]
        );
    }

    #[test]
    fn a_stream_cut_inside_the_peek_keeps_what_it_decoded() {
        use std::io::Write;
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        let mut p = open(Box::new(Cursor::new(bytes))).unwrap();
        assert!(!p.head.is_empty() && text.starts_with(std::str::from_utf8(&p.head).unwrap()));
        let mut all = Vec::new();
        let err = p.reader.read_to_end(&mut all).unwrap_err();
        assert!(err.to_string().contains("deflate"), "{err}");
        let decode = DecodeError::of(&err).expect("a decoding error");
        assert_eq!(decode.compression, Compression::Gzip);
        assert!(all.len() >= p.head.len());
        assert!(text.as_bytes().starts_with(&all));
        // A stream that decodes nothing at all is an error at once.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let err = open(Box::new(Cursor::new(bytes[..12].to_vec())))
            .err()
            .unwrap();
        assert!(err.to_string().starts_with("gzip: "), "{err}");
        assert!(DecodeError::of(&err).is_some(), "{err:?}");
    }

    #[test]
    fn gzip_is_undone_and_peeked() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"hello\nworld\n").unwrap();
        let bytes = gz.finish().unwrap();
        let stored = bytes.len() as u64;
        let mut p = open(Box::new(Cursor::new(bytes))).unwrap();
        assert_eq!(p.head, b"hello\nworld\n");
        let mut all = String::new();
        p.reader.read_to_string(&mut all).unwrap();
        assert_eq!(all, "hello\nworld\n");
        let (raw, decoded) = p.counters.get();
        assert_eq!((raw, decoded), (stored, 12), "the peek counted once");
    }
}
