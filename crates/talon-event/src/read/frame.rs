//! Splits a stream of JSON text into top-level values without parsing them.
//!
//! Used for everything that is not one-object-per-line: a JSON array of
//! events (unwrapped one level, so a huge array streams element by element),
//! pretty-printed objects one after another, esArchiver files (objects
//! separated by blank lines), concatenated search responses. It tracks only
//! string/escape state and bracket depth, so it is cheap and never fails on
//! malformed content: a malformed value still has a boundary and is handed
//! on whole, to be reported by the parser, and the next value reads fine.
//!
//! Between values it skips whitespace, commas and `//` comment lines (the
//! Elasticsearch QA data has them). A line that cannot start a value is
//! returned as junk, whole, so stray text gives one issue per line; inside
//! an array, junk ends at the next `,` or `]` outside quotes, so the
//! elements after a stray one on the same line are still read.
//!
//! A value still open at end of input comes back with its text, so the
//! complete hits of a cut search response can still be read; a top-level
//! array whose `]` never comes is reported once its elements are read.
//!
//! A value missing its closing bracket does not swallow the values after
//! it: a line whose first byte other than blanks is a `{`, no further right
//! than the open value's own start (column 1 for a top-level value, the
//! element's column in an indented array), where the open value cannot go
//! on with an object (see [`Shape::object_would_break`]), starts a new
//! value, and the open one comes back as [`Unit::Broken`]. So does an array
//! element cut by a `]` that would close an object (see
//! [`Shape::bracket_closes_object`]): that `]` is taken for the end of the
//! array, which then ends there rather than at the end of input. A
//! pretty-printed value's inner objects are indented further than its
//! start, and an object that does belong where it stands (after `:` in an
//! object, after `[` or `,` in an array) never cuts, nor does a `]` that
//! closes an array, so valid JSON is never cut this way.

use std::io::{self, BufRead};

use crate::json_text::{Byte, Strings};
use crate::read::doc::Pos;

/// One unit of the stream.
#[derive(Debug)]
pub(crate) enum Unit {
    /// A complete value (object, array, or a scalar array element).
    Value { text: String, pos: Pos },
    /// Text that cannot start a JSON value: from `pos` to the end of its
    /// line, or inside an array to the next `,` or `]`.
    Junk { text: String, pos: Pos },
    /// A value whose bytes are not UTF-8; `col` of `pos` is where it starts.
    BadUtf8 { pos: Pos },
    /// A value that started at `pos` and was still open at end of input;
    /// `text` is what there was of it (`None` if it is not UTF-8).
    Truncated {
        text: Option<String>,
        pos: Pos,
        bytes: u64,
    },
    /// The top-level array opened at `pos` was not closed by end of input
    /// (its complete elements came before as values).
    Unclosed { pos: Pos },
    /// The top-level array opened at `pos` closed without an element
    /// (`[]`): it holds no event, and is counted as such.
    Empty { pos: Pos },
    /// A value that started at `pos` and was still open when `cut` ended
    /// it (see the module doc); `text` as for `Truncated`.
    Broken {
        text: Option<String>,
        pos: Pos,
        bytes: u64,
        cut: Cut,
    },
}

/// What ended a value that was still open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cut {
    /// A line that starts a new value, here.
    NewValue(Pos),
    /// The `]` here, which ends the top-level array the value is an
    /// element of.
    ArrayEnd(Pos),
}

/// `r`'s buffered bytes, filled when empty; a read interrupted by a signal
/// is tried again. Empty at end of input.
pub(crate) fn fill<R: BufRead + ?Sized>(r: &mut R) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    // Asked again: returning the first answer from inside the loop is
    // refused by the borrow checker.
    r.fill_buf()
}

/// Levels whose kind (object or array) [`Shape`] remembers; below them an
/// object is taken to fit anywhere, so a deeper value is never cut.
const KINDS: usize = 256;

/// Where the bytes of a value read so far leave it: its bracket depth,
/// whether the levels are objects or arrays, and the last byte of
/// structure, so as to tell whether an object may come next.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    strings: Strings,
    depth: u32,
    /// The kinds of the outermost `KINDS` open levels: true for an array.
    arrays: Vec<bool>,
    /// The last byte outside strings that is not whitespace (`"` for a
    /// string).
    last: u8,
    /// A line ended inside a string: JSON strings hold no raw newline.
    broken: bool,
}

impl Shape {
    /// Reads one byte; true when it closes the outermost level.
    /// Mismatched brackets still close a level (the parser reports the
    /// mismatch with its position).
    #[inline]
    pub fn step(&mut self, b: u8) -> bool {
        match self.strings.step(b) {
            Byte::Outside => {}
            Byte::Inside => {
                self.broken |= b == b'\n';
                return false;
            }
            Byte::Opens | Byte::Closes => {
                self.last = b'"';
                return false;
            }
        }
        let mut closed = false;
        match b {
            b'{' | b'[' => {
                if (self.depth as usize) < KINDS {
                    self.arrays.push(b == b'[');
                }
                self.depth = self.depth.saturating_add(1);
            }
            b'}' | b']' if self.depth > 0 => {
                if (self.depth as usize) <= KINDS {
                    self.arrays.pop();
                }
                self.depth -= 1;
                closed = self.depth == 0;
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            self.last = b;
        }
        closed
    }

    /// Reads bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.step(b);
        }
    }

    /// Open levels.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Whether a `]` here would close an object rather than an array:
    /// invalid JSON, whose likeliest cause inside an array element is an
    /// element missing its closing `}` before the array's own `]`. False
    /// inside a string, and when no value is open or the level is too deep
    /// to know its kind.
    pub fn bracket_closes_object(&self) -> bool {
        !self.strings.inside()
            && self.depth > 0
            && self.depth as usize <= KINDS
            && self.arrays.last() == Some(&false)
    }

    /// Whether an object starting here would begin a new value rather
    /// than go on with the open one: JSON allows one only after `:` in an
    /// object, or after `[` or `,` in an array. False when no value is
    /// open, or when the level is too deep to know its kind.
    pub fn object_would_break(&self) -> bool {
        if self.depth == 0 {
            return false;
        }
        if self.broken {
            return true;
        }
        let top_is_array = match self.depth as usize {
            d if d <= KINDS => self.arrays.last().copied(),
            _ => None,
        };
        !matches!(
            (self.last, top_is_array),
            (b'[', _) | (b':', Some(false) | None) | (b',', Some(true) | None)
        )
    }
}

pub(crate) struct Framer {
    r: Box<dyn BufRead + Send>,
    line: u64,
    col: u64,
    /// Inside a top-level array, whose elements are the values.
    in_array: bool,
    /// Where that array's `[` is.
    array_pos: Pos,
    /// Units that array gave so far.
    array_units: u64,
    /// Whether the current line has had anything but blanks so far.
    content: bool,
    /// Blank and `//` comment lines met between values, not yet taken
    /// ([`Framer::take_blank`]).
    blank: u64,
    buf: Vec<u8>,
}

impl Framer {
    /// Frames `r`, whose first byte is at the start of line `line`.
    pub fn new(r: Box<dyn BufRead + Send>, line: u64) -> Framer {
        Framer {
            r,
            line,
            col: 1,
            in_array: false,
            array_pos: Pos { line, col: 1 },
            array_units: 0,
            content: false,
            blank: 0,
            buf: Vec::new(),
        }
    }

    /// The current line (for I/O errors).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The blank and `//` comment lines met since the last call, so that
    /// the reader counts them as line mode does.
    pub fn take_blank(&mut self) -> u64 {
        std::mem::take(&mut self.blank)
    }

    /// Whether the framer is at the start of a line, outside any top-level
    /// array: where line-by-line reading could take over.
    pub fn at_line_start(&self) -> bool {
        self.col == 1 && !self.in_array
    }

    /// Skips the blanks after a value up to the end of its line; true
    /// when nothing else is on the line (the newline is then consumed
    /// too). An I/O error gives false: the next unit reports it.
    pub fn finish_line(&mut self) -> bool {
        loop {
            match self.peek() {
                Ok(None) => return true,
                Ok(Some(b'\n')) => {
                    self.bump(b'\n');
                    return true;
                }
                Ok(Some(b @ (b' ' | b'\t' | b'\r'))) => self.bump(b),
                Ok(Some(_)) | Err(_) => return false,
            }
        }
    }

    /// The stream, positioned where framing stopped, and that line's
    /// number.
    pub fn into_parts(self) -> (Box<dyn BufRead + Send>, u64) {
        (self.r, self.line)
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(fill(&mut self.r)?.first().copied())
    }

    fn bump(&mut self, b: u8) {
        self.r.consume(1);
        if b == b'\n' {
            self.blank += u64::from(!self.content);
            self.content = false;
            self.line += 1;
            self.col = 1;
        } else {
            self.content |= !matches!(b, b' ' | b'\t' | b'\r');
            self.col += 1;
        }
    }

    pub fn next_unit(&mut self) -> io::Result<Option<Unit>> {
        let unit = self.next_unit_in()?;
        if self.in_array && unit.is_some() {
            self.array_units += 1;
        }
        // A value leaves its last line with content, unless it took the
        // line's end with it (junk read to the end of its line).
        if unit.is_some() {
            self.content = self.col > 1;
        }
        Ok(unit)
    }

    fn next_unit_in(&mut self) -> io::Result<Option<Unit>> {
        loop {
            let Some(b) = self.peek()? else {
                if self.in_array {
                    // Reported once: the next call ends the input.
                    self.in_array = false;
                    return Ok(Some(Unit::Unclosed {
                        pos: self.array_pos,
                    }));
                }
                return Ok(None);
            };
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | b',' => self.bump(b),
                b'[' if !self.in_array => {
                    self.in_array = true;
                    self.array_units = 0;
                    self.array_pos = Pos {
                        line: self.line,
                        col: self.col,
                    };
                    self.bump(b);
                }
                b']' if self.in_array => {
                    self.in_array = false;
                    self.bump(b);
                    if self.array_units == 0 {
                        return Ok(Some(Unit::Empty {
                            pos: self.array_pos,
                        }));
                    }
                }
                b'{' | b'[' => return self.balanced().map(Some),
                b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' if self.in_array => {
                    return self.scalar().map(Some)
                }
                _ => {
                    let pos = Pos {
                        line: self.line,
                        col: self.col,
                    };
                    let after_content = self.content;
                    match self.in_array {
                        true => self.junk_element()?,
                        false => self.rest_of_line()?,
                    }
                    if self.buf.starts_with(b"//") {
                        // A comment line, commas and all.
                        if self.in_array {
                            self.rest_of_line()?;
                        }
                        self.blank += u64::from(!after_content);
                        self.content = false;
                        continue;
                    }
                    let text = String::from_utf8_lossy(&self.buf).into_owned();
                    return Ok(Some(Unit::Junk { text, pos }));
                }
            }
        }
    }

    /// Consumes into `buf`, up to (not including) the next `,` or `]`
    /// outside a quoted string, or the next newline: the extent of a stray
    /// array element, so the elements after it on the same line are still
    /// read (`garbage"a,b"` is one piece of junk).
    fn junk_element(&mut self) -> io::Result<()> {
        self.buf.clear();
        let mut strings = Strings::default();
        loop {
            let chunk = fill(&mut self.r)?;
            if chunk.is_empty() {
                return Ok(());
            }
            let end = chunk.iter().position(|&b| {
                let outside = strings.step(b) == Byte::Outside;
                b == b'\n' || (outside && matches!(b, b',' | b']'))
            });
            let n = end.unwrap_or(chunk.len());
            self.buf.extend_from_slice(&chunk[..n]);
            self.r.consume(n);
            self.col += n as u64;
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// Consumes up to and including the next newline into `buf`.
    fn rest_of_line(&mut self) -> io::Result<()> {
        self.buf.clear();
        let n = self.r.read_until(b'\n', &mut self.buf)?;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            self.line += 1;
            self.col = 1;
        } else {
            self.col += n as u64;
        }
        Ok(())
    }

    fn finish(&mut self, pos: Pos) -> Unit {
        match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(text) => Unit::Value { text, pos },
            Err(_) => Unit::BadUtf8 { pos },
        }
    }

    /// Frames an object or array: up to the bracket that closes the first,
    /// or up to a line that starts a new value, or, for an array element,
    /// up to a `]` that ends the array (see the module doc).
    fn balanced(&mut self) -> io::Result<Unit> {
        let pos = Pos {
            line: self.line,
            col: self.col,
        };
        self.buf.clear();
        // TODO: a framed document is held whole, with no cap like line
        // mode's `--max-line`: a search response can rightly be larger.
        let mut shape = Shape::default();
        // Only blanks so far on the current line (not on the value's own
        // first line, where the value itself comes first).
        let mut indent = false;
        loop {
            let chunk = fill(&mut self.r)?;
            if chunk.is_empty() {
                let bytes = self.buf.len() as u64;
                // The cut already says the enclosing array is incomplete.
                self.in_array = false;
                let text = truncated_text(std::mem::take(&mut self.buf));
                return Ok(Unit::Truncated { text, pos, bytes });
            }
            let (mut done, mut cut) = (false, None);
            let mut used = 0;
            for &b in chunk {
                let here = Pos {
                    line: self.line,
                    col: self.col,
                };
                if b == b'{' && indent && self.col <= pos.col && shape.object_would_break() {
                    cut = Some(Cut::NewValue(here));
                    break;
                }
                if b == b']' && self.in_array && shape.bracket_closes_object() {
                    cut = Some(Cut::ArrayEnd(here));
                    break;
                }
                used += 1;
                done = shape.step(b);
                if b == b'\n' {
                    self.line += 1;
                    self.col = 1;
                    indent = true;
                } else {
                    self.col += 1;
                    indent &= matches!(b, b' ' | b'\t' | b'\r');
                }
                if done {
                    break;
                }
            }
            self.buf.extend_from_slice(&chunk[..used]);
            self.r.consume(used);
            if done {
                return Ok(self.finish(pos));
            }
            if let Some(cut) = cut {
                let bytes = self.buf.len() as u64;
                let text = truncated_text(std::mem::take(&mut self.buf));
                return Ok(Unit::Broken {
                    text,
                    pos,
                    bytes,
                    cut,
                });
            }
        }
    }

    /// Frames a scalar array element (so it can be reported as not an
    /// object): a string, or anything up to the next delimiter.
    fn scalar(&mut self) -> io::Result<Unit> {
        let pos = Pos {
            line: self.line,
            col: self.col,
        };
        self.buf.clear();
        let (mut in_str, mut esc, mut first) = (false, false, true);
        while let Some(b) = self.peek()? {
            if in_str {
                if esc {
                    esc = false;
                } else if b == b'\\' {
                    esc = true;
                } else if b == b'"' {
                    self.buf.push(b);
                    self.bump(b);
                    break;
                }
            } else if first && b == b'"' {
                in_str = true;
            } else if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n') {
                break;
            }
            first = false;
            self.buf.push(b);
            self.bump(b);
        }
        Ok(self.finish(pos))
    }
}

/// The text of a value cut by the end of input. A cut can fall inside a
/// multi-byte character; that partial character is dropped so the complete
/// part still reads. Other invalid UTF-8 gives `None`.
fn truncated_text(bytes: Vec<u8>) -> Option<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(e) => {
            let utf8 = e.utf8_error();
            if utf8.error_len().is_some() {
                return None;
            }
            let good = utf8.valid_up_to();
            let mut bytes = e.into_bytes();
            bytes.truncate(good);
            String::from_utf8(bytes).ok()
        }
    }
}
