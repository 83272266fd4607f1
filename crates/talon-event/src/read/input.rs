//! Inputs: what the user named on the command line, expanded into files, and
//! opened as a byte stream with gzip/zstd undone.
//!
//! Compression is recognised by content (the gzip magic `1f 8b`, the zstd
//! magic `28 b5 2f fd`), never by file name, so `events.json` that is really
//! gzipped still reads. Folders are walked recursively in sorted order
//! (rotated logs oldest first: `audit.log.1` before `audit.log`),
//! skipping hidden entries, so a run over a folder is reproducible. An entry
//! the walk cannot read (a broken symlink) or will not read (a symlink
//! loop, a FIFO, a socket, a device) is set aside as a [`SkippedEntry`] and
//! the walk goes on.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use walkdir::WalkDir;

use super::issue::SkipReason;

/// One input: a file path, or standard input (`-`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InputSpec {
    Path(PathBuf),
    Stdin,
}

impl InputSpec {
    /// `-` is stdin; anything else is a path.
    pub fn parse(arg: &str) -> InputSpec {
        if arg == "-" {
            InputSpec::Stdin
        } else {
            InputSpec::Path(PathBuf::from(arg))
        }
    }

    /// The name used in origins and issues: the path as given, or `-`.
    pub fn display_name(&self) -> String {
        match self {
            InputSpec::Path(p) => p.display().to_string(),
            InputSpec::Stdin => "-".to_string(),
        }
    }
}

/// Why the command-line inputs could not be expanded. Only a path named on
/// the command line can fail this way; problems met inside a folder walk
/// are [`SkippedEntry`]s, so one bad entry never stops the run.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input not found: {path}")]
    NotFound { path: String },
    /// A symbolic link named on the command line whose target is gone
    /// (`chain`: where it leads, link by link).
    #[error("input is a broken symbolic link: {path} ({chain})")]
    BrokenLink { path: String, chain: String },
    // The source is not in the message: callers print the chain.
    #[error("cannot read input {path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// An entry met while walking a folder that cannot be read (a broken
/// symlink, a subfolder without permission), is not followed (a symlink
/// loop) or is not a regular file (a FIFO, a socket, a device). The reader
/// reports it as an issue of its `reason` in its place in the walk order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedEntry {
    /// The entry's path (the first met, for a loop met again through
    /// another link: its message names the others).
    pub path: PathBuf,
    /// [`SkipReason::Unreadable`] for an entry that cannot be read (a
    /// failure), [`SkipReason::SpecialFile`] or [`SkipReason::LinkLoop`]
    /// for one that is not read (nothing is lost: not a failure).
    pub reason: SkipReason,
    /// Why it cannot be read.
    pub message: String,
    /// How many inputs precede it in [`Expanded::inputs`], so it is reported
    /// where the walk met it.
    pub position: usize,
}

/// The command-line arguments expanded: the inputs to read, in order, and
/// the folder entries that could not be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    pub inputs: Vec<InputSpec>,
    pub skipped: Vec<SkippedEntry>,
}

/// Expands command-line arguments into inputs: `-` is stdin, a file is
/// itself, a folder is every non-hidden file below it (sorted by path).
/// A missing path named here is an error that names it; an entry inside a
/// folder that is unreadable or not a regular file is a [`SkippedEntry`]
/// and the walk goes on.
pub fn expand_inputs<S: AsRef<str>>(args: &[S]) -> Result<Expanded, InputError> {
    let mut out = Expanded::default();
    let mut loops = LinkLoops::new();
    for arg in args {
        let arg = arg.as_ref();
        if arg == "-" {
            out.inputs.push(InputSpec::Stdin);
            continue;
        }
        let path = Path::new(arg);
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(match link_chain(path) {
                    Some(chain) => InputError::BrokenLink {
                        path: arg.to_string(),
                        chain,
                    },
                    None => InputError::NotFound {
                        path: arg.to_string(),
                    },
                })
            }
            Err(source) => {
                return Err(InputError::Io {
                    path: arg.to_string(),
                    source,
                })
            }
        };
        if meta.is_dir() {
            walk_folder(path, &mut out, &mut loops);
        } else {
            out.inputs.push(InputSpec::Path(path.to_path_buf()));
        }
    }
    Ok(out)
}

/// Symbolic link loops met so far, by the link's own device and inode:
/// the index of their entry in [`Expanded::skipped`].
type LinkLoops = std::collections::HashMap<(u64, u64), usize>;

fn walk_folder(root: &Path, out: &mut Expanded, loops: &mut LinkLoops) {
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by(|a, b| by_rotation(a.file_name(), b.file_name()))
        .into_iter()
        // Depth 0 is the folder the user named: never hide it, even `.`.
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        match entry {
            Ok(entry) => {
                let kind = entry.file_type();
                if kind.is_file() {
                    out.inputs.push(InputSpec::Path(entry.into_path()));
                } else if let Some(what) = special_kind(kind) {
                    out.skipped.push(SkippedEntry {
                        reason: SkipReason::SpecialFile,
                        message: format!("not a regular file ({what}); not read"),
                        path: entry.into_path(),
                        position: out.inputs.len(),
                    });
                }
            }
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                // `filter_entry` only sees entries that could be read; a
                // broken hidden symlink must stay as invisible as the
                // hidden entries that work.
                if e.depth() > 0 && path.file_name().is_some_and(is_hidden) {
                    continue;
                }
                if !is_link_loop(&e) {
                    let (reason, message) = match broken_link_note(&path, e.io_error()) {
                        Some(note) => (SkipReason::BrokenLink, note),
                        None => (SkipReason::Unreadable, walk_message(&e)),
                    };
                    out.skipped.push(SkippedEntry {
                        reason,
                        message,
                        path,
                        position: out.inputs.len(),
                    });
                    continue;
                }
                // A loop is met again through every other way into the
                // folder that holds it (another link to that folder): it
                // is the same link, reported once, naming the other ways.
                let link = std::fs::symlink_metadata(&path).ok().map(|m| {
                    use std::os::unix::fs::MetadataExt;
                    (m.dev(), m.ino())
                });
                if let Some(&first) = link.as_ref().and_then(|key| loops.get(key)) {
                    // Folders named twice (`d d/sub`) reach it by the same
                    // path again: that is no other way in.
                    let entry = &mut out.skipped[first];
                    let also = format!("; also reached as {}", path.display());
                    if entry.path != path && !entry.message.contains(&also) {
                        entry.message.push_str(&also);
                    }
                    continue;
                }
                if let Some(key) = link {
                    loops.insert(key, out.skipped.len());
                }
                out.skipped.push(SkippedEntry {
                    reason: SkipReason::LinkLoop,
                    message: walk_message(&e),
                    path,
                    position: out.inputs.len(),
                });
            }
        }
    }
}

/// Whether a walk error is a symbolic link loop: a link back to a folder
/// being walked, or links that lead to each other and never to a file
/// (`ELOOP`).
fn is_link_loop(e: &walkdir::Error) -> bool {
    e.loop_ancestor().is_some()
        || e.io_error().and_then(io::Error::raw_os_error) == Some(libc::ELOOP)
}

/// Says what is wrong with an entry in words a user acts on, rather than
/// walkdir's "IO error for operation on ..." (a broken link: see
/// [`broken_link_note`]).
fn walk_message(e: &walkdir::Error) -> String {
    if let Some(ancestor) = e.loop_ancestor() {
        return format!(
            "symbolic link loop (points back to {}); not followed",
            ancestor.display()
        );
    }
    if is_link_loop(e) {
        return "symbolic link loop (links that lead to each other, never to a file); \
                not followed"
            .to_string();
    }
    match e.io_error() {
        Some(io) => format!("cannot read: {io}"),
        None => format!("cannot read: {e}"),
    }
}

/// Where a broken symbolic link leads, link by link, to what is missing:
/// `to /var/log/b, which does not exist`, or through other links, `to a,
/// then b, which does not exist`. `None` when it cannot be read.
fn link_chain(path: &Path) -> Option<String> {
    let mut hops = Vec::new();
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        let target = std::fs::read_link(&at).ok()?;
        hops.push(target.display().to_string());
        at = match at.parent() {
            Some(dir) => dir.join(&target),
            None => target,
        };
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => continue,
            Ok(_) => return None,
            Err(_) => break,
        }
    }
    Some(format!("to {}, which does not exist", hops.join(", then ")))
}

/// What a folder walk says of an entry it could not read (`error`) that
/// is a symbolic link to nothing: `broken symbolic link (to ..., which
/// does not exist); not read`. `None` for any other failure. Event and
/// rule folders both say it so.
pub fn broken_link_note(path: &Path, error: Option<&io::Error>) -> Option<String> {
    error.filter(|io| io.kind() == io::ErrorKind::NotFound)?;
    Some(format!(
        "broken symbolic link ({}); not read",
        link_chain(path)?
    ))
}

/// Names a folder entry that is neither a file nor a folder (a FIFO, a
/// socket, a device). Such an entry is not read: opening a FIFO nobody
/// writes to would block the walk forever, and a device may never end. It
/// is still reported, so nothing in a folder goes unread silently. Named
/// on the command line, a FIFO is read (`<(zcat x.gz)`): the user chose it.
fn special_kind(kind: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() || kind.is_dir() {
        None
    } else if kind.is_fifo() {
        Some("fifo")
    } else if kind.is_socket() {
        Some("socket")
    } else if kind.is_block_device() {
        Some("block device")
    } else if kind.is_char_device() {
        Some("character device")
    } else {
        Some("unknown kind")
    }
}

/// A folder's order: by name, except that rotated logs come oldest first,
/// as logrotate names them: `audit.log.2.gz`, `audit.log.1`, then
/// `audit.log`; with `dateext`, `audit.log-20240501`, `audit.log-20240502`,
/// then `audit.log`. A process's exec and its children's then meet in the
/// order they happened, so parents are filled from the process tree.
fn by_rotation(a: &std::ffi::OsStr, b: &std::ffi::OsStr) -> std::cmp::Ordering {
    let (ra, rb) = (rotation(a), rotation(b));
    ra.0.cmp(rb.0)
        .then_with(|| ra.1.cmp(&rb.1))
        .then_with(|| a.cmp(b))
}

/// How old a file of a rotated log is, oldest first: dated (earlier dates
/// first), numbered (higher numbers first), then the current file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Age {
    Dated(Stamp),
    Numbered(std::cmp::Reverse<u64>),
    Current,
}

/// A `dateext` stamp, compared as a time: the day, then the hour (an
/// hourly file of a day before its daily one), then the seconds after it
/// (`-%Y%m%d-%s`), so formats changed over a log's life still sort by
/// time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    day: u32,
    hour: Option<u8>,
    seconds: Option<u64>,
}

/// A file name as (the log it rotates, its age): `audit.log.3.gz` is
/// (`audit.log`, numbered 3), `audit.log-20240501.gz` (`audit.log`, dated
/// 2024-05-01); any other name is itself, current.
fn rotation(name: &std::ffi::OsStr) -> (&[u8], Age) {
    let (base, age) = numbered(name);
    match age {
        Some(n) => (base, Age::Numbered(std::cmp::Reverse(n))),
        None => match dated(name) {
            Some((base, stamp)) => (base, Age::Dated(stamp)),
            None => (base, Age::Current),
        },
    }
}

/// `dateext`'s names: `-` and a date `%Y%m%d` (a real day of 1900-2099),
/// maybe with an hour (`%H`, 00-23) or `-` and the seconds (`%s`), before
/// a `.gz` or `.zst`: the log's name and the stamp.
fn dated(name: &std::ffi::OsStr) -> Option<(&[u8], Stamp)> {
    let plain = uncompressed(name.as_encoded_bytes());
    (1..plain.len()).rev().find_map(|dash| {
        if plain[dash] != b'-' {
            return None;
        }
        let stamp = &plain[dash + 1..];
        let day = digits_value(stamp.get(..8)?)?;
        let (year, month, date) = (day / 10_000, day / 100 % 100, day % 100);
        let real =
            (1900..2100).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&date);
        let rest = &stamp[8..];
        let (hour, seconds) = match rest {
            [] => (None, None),
            [b'-', digits @ ..] if (9..=11).contains(&digits.len()) => {
                (None, Some(digits_value(digits)?))
            }
            _ if rest.len() == 2 => (
                Some(u8::try_from(digits_value(rest)?).ok().filter(|h| *h < 24)?),
                None,
            ),
            _ => return None,
        };
        real.then_some((
            &plain[..dash],
            Stamp {
                day: day as u32,
                hour,
                seconds,
            },
        ))
    })
}

/// A file name without the `.gz` or `.zst` a rotation may add.
fn uncompressed(name: &[u8]) -> &[u8] {
    [".gz", ".zst", ".zstd"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext.as_bytes()))
        .unwrap_or(name)
}

/// The number 1 to 19 ASCII digits write; `None` for anything else.
fn digits_value(b: &[u8]) -> Option<u64> {
    (!b.is_empty() && b.len() <= 19 && b.iter().all(u8::is_ascii_digit))
        .then(|| b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// `rotation` for numbered names: the log's name and the number.
fn numbered(name: &std::ffi::OsStr) -> (&[u8], Option<u64>) {
    let bytes = name.as_encoded_bytes();
    let plain = uncompressed(bytes);
    // Up to three digits after the last dot: a year or a date is not a
    // rotation number.
    let number = |dot: usize| {
        let digits = &plain[dot + 1..];
        (dot > 0 && digits.len() <= 3)
            .then(|| digits_value(digits))
            .flatten()
    };
    let dot = plain.iter().rposition(|&c| c == b'.');
    match dot.and_then(|dot| Some((dot, number(dot)?))) {
        Some((dot, n)) => (&plain[..dot], Some(n)),
        None => (bytes, None),
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n.starts_with('.'))
}

/// How an input's bytes are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// A short name for logs: `plain`, `gzip`, `zstd`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The name of a compression or archive format talon does not read,
    /// recognised from an input's first bytes (so that such a file is an
    /// error, not a file of unreadable lines).
    pub fn unsupported(magic: &[u8]) -> Option<&'static str> {
        const KNOWN: [(&[u8], &str); 6] = [
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz-compressed"),
            (b"BZh", "bzip2-compressed"),
            (b"PK\x03\x04", "a zip archive"),
            (&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c], "a 7z archive"),
            (&[0x04, 0x22, 0x4d, 0x18], "lz4-compressed"),
            (&[0x5d, 0x00, 0x00], "lzma-compressed"),
        ];
        KNOWN
            .iter()
            .find(|(m, _)| magic.starts_with(m))
            .map(|(_, name)| *name)
    }

    /// Recognises the compression from an input's first bytes. A zstd
    /// stream may start with a skippable frame (`pzstd` writes one before
    /// each frame): its magic is 0x184D2A50 to 0x184D2A5F, little-endian.
    pub fn detect(magic: &[u8]) -> Compression {
        let skippable =
            |m: &[u8]| m.len() >= 4 && m[0] & 0xf0 == 0x50 && m[1..4] == [0x2a, 0x4d, 0x18];
        if magic.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || skippable(magic) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Byte counters shared between the reader stack and the stats.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub raw: AtomicU64,
    pub decoded: AtomicU64,
}

/// Counts the bytes passing through a reader.
struct Counting<R> {
    inner: R,
    counters: Arc<Counters>,
    raw: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = if self.raw {
            &self.counters.raw
        } else {
            &self.counters.decoded
        };
        c.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input: decoded bytes, and what it was encoded with.
pub(crate) struct Opened {
    pub reader: Box<dyn BufRead + Send>,
    pub compression: Compression,
    pub counters: Arc<Counters>,
    /// A plain file mapped into memory: line mode hands out slices of it
    /// instead of copies; `reader` reads the same bytes.
    pub mapped: Option<Mapped>,
}

/// A plain (uncompressed) regular file mapped into memory, and where its
/// text starts (after a UTF-8 byte-order mark).
#[derive(Clone, Debug)]
pub(crate) struct Mapped {
    pub map: Arc<super::mapped::FileMap>,
    pub start: usize,
}

/// Files smaller than this are read, not mapped: mapping costs a system
/// call and page-table work that a small file does not repay.
const MAP_FROM: u64 = 1 << 20;

/// Buffer size for reading inputs; large enough that most NDJSON lines sit
/// inside one buffer.
const BUF: usize = 256 * 1024;

/// Opens a path (or stdin) and undoes its compression. With `map`, a
/// plain regular file of some size is mapped into memory rather than read.
pub(crate) fn open_spec(spec: &InputSpec, map: bool) -> io::Result<Opened> {
    match spec {
        InputSpec::Path(p) => {
            let file = File::open(p)?;
            let name = p.display().to_string();
            match map.then(|| map_plain(&file, &name)).transpose()?.flatten() {
                Some(mapped) => Ok(open_mapped(mapped)),
                None => match file.metadata() {
                    Ok(meta) if meta.is_file() => open_read(Box::new(Watched {
                        file,
                        opened_len: meta.len(),
                        read: 0,
                    })),
                    _ => open_read(Box::new(file)),
                },
            }
        }
        InputSpec::Stdin => open_read(Box::new(io::stdin())),
    }
}

/// A regular file read as a stream, which checks at its end that it was
/// not cut shorter while it was read (another process truncating a log):
/// then its end is an error ([`CutShort`]) rather than a quiet end in the
/// middle of a line. One `fstat` per input, at its end.
struct Watched {
    file: File,
    /// Its size when opened.
    opened_len: u64,
    /// Bytes read so far.
    read: u64,
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if n == 0 && !buf.is_empty() && self.read < self.opened_len {
            // Fewer bytes than it had: shorter now (a file whose size
            // says nothing, as in /sys, keeps its size).
            let now = self.file.metadata()?.len();
            if now < self.opened_len {
                return Err(io::Error::other(CutShort {
                    opened: self.opened_len,
                    now,
                }));
            }
        }
        Ok(n)
    }
}

/// A file read as a stream ended shorter than it was when opened.
#[derive(Debug)]
pub(crate) struct CutShort {
    pub opened: u64,
    pub now: u64,
}

impl std::fmt::Display for CutShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file was cut shorter while talon read it ({} bytes when opened, {} now)",
            self.opened, self.now
        )
    }
}

impl std::error::Error for CutShort {}

/// A read error of a gzip or zstd stream, raised by the reader that undoes
/// the compression. talon-event's own decoders need none (it knows what it
/// decoded), but a caller that hands over a stream it decoded itself (stdin
/// peeked at to recognise its source, which cannot be reopened) wraps its
/// decoder's errors in this ([`DecodeError::wrap`]): the reader then
/// reports them as [`SkipReason::Decompression`], as it would for the same
/// bytes read from a file, not as a plain read error.
#[derive(Debug)]
pub struct DecodeError {
    pub compression: Compression,
    pub error: io::Error,
}

impl DecodeError {
    /// `error`, of a `compression` stream, as an I/O error carrying a
    /// `DecodeError` (of the same kind). An interrupted read is no error
    /// of the stream and stays as it is.
    pub fn wrap(compression: Compression, error: io::Error) -> io::Error {
        if error.kind() == io::ErrorKind::Interrupted || DecodeError::of(&error).is_some() {
            return error;
        }
        io::Error::new(error.kind(), DecodeError { compression, error })
    }

    /// The `DecodeError` an I/O error carries, if any.
    pub fn of(error: &io::Error) -> Option<&DecodeError> {
        error.get_ref()?.downcast_ref::<DecodeError>()
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&decode_failure(self.compression, &self.error))
    }
}

/// What went wrong decoding a `compression` stream, in a user's words:
/// `gzip: unexpected end of file`.
pub(crate) fn decode_failure(compression: Compression, error: &io::Error) -> String {
    // The input began with zstd's magic bytes, so a frame the decoder
    // cannot recognise follows a complete one: what gzip's reader calls
    // trailing garbage.
    if compression == Compression::Zstd && error.to_string() == "Unknown frame descriptor" {
        return "zstd: data that is not zstd after a complete frame (trailing garbage; not read)"
            .to_string();
    }
    format!("{}: {error}", compression.name())
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Maps a plain regular file; `None` for anything else (small, not a
/// regular file, compressed), which is then read as a stream.
fn map_plain(file: &File, name: &str) -> io::Result<Option<Mapped>> {
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() < MAP_FROM {
        return Ok(None);
    }
    // SAFETY: the mapping is only ever read. Its bytes may change if
    // another process writes the file while talon reads it (then lines
    // read may be garbled, and are reported as such like any bad line);
    // a file cut shorter meanwhile makes the next read of a lost page
    // fault (SIGBUS): `FileMap` turns that into an error naming the file,
    // and `--no-mmap` reads such files instead (see the README).
    let map = unsafe { memmap2::Mmap::map(file)? };
    let head = &map[..map.len().min(6)];
    if Compression::detect(head) != Compression::None || Compression::unsupported(head).is_some() {
        return Ok(None);
    }
    let start = if map.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    Ok(Some(Mapped {
        map: Arc::new(super::mapped::FileMap::of_file(map, name, file)),
        start,
    }))
}

/// An opened mapped file: its reader reads the mapping.
fn open_mapped(mapped: Mapped) -> Opened {
    let counters = Arc::new(Counters::default());
    let reader = MapReader {
        mapped: mapped.clone(),
        pos: mapped.start,
        counters: Arc::clone(&counters),
    };
    counters
        .raw
        .fetch_add(mapped.start as u64, Ordering::Relaxed);
    Opened {
        reader: Box::new(reader),
        compression: Compression::None,
        counters,
        mapped: Some(mapped),
    }
}

/// Reads a mapped file as a stream (mode detection, framed formats),
/// counting what it hands out.
struct MapReader {
    mapped: Mapped,
    pos: usize,
    counters: Arc<Counters>,
}

impl Read for MapReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.fill_buf()?;
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for MapReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let map = &self.mapped.map;
        let end = map.len().min(self.pos.saturating_add(BUF));
        Ok(map.get(self.pos..end).unwrap_or_default())
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.mapped.map.len());
        self.counters.raw.fetch_add(n as u64, Ordering::Relaxed);
        self.counters.decoded.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Detects compression of any byte stream and wraps it for reading.
pub(crate) fn open_read(inner: Box<dyn Read + Send>) -> io::Result<Opened> {
    let counters = Arc::new(Counters::default());
    let mut raw = Counting {
        inner,
        counters: Arc::clone(&counters),
        raw: true,
    };
    let mut magic = [0u8; 6];
    let got = read_up_to(&mut raw, &mut magic)?;
    if let Some(format) = Compression::unsupported(&magic[..got]) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{format}: talon reads plain, gzip and zstd input; unpack it first"),
        ));
    }
    let compression = Compression::detect(&magic[..got]);
    let head = magic[..got].to_vec();
    let stream = Cursor::new(head).chain(raw);
    let decoded: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(stream),
        compressed => Box::new(Nested::Unchecked {
            inner: decoder(compressed, Box::new(stream))?,
            layers: 1,
        }),
    };
    let counted = Counting {
        inner: SkipBom {
            inner: decoded,
            head: None,
        },
        counters: Arc::clone(&counters),
        raw: false,
    };
    Ok(Opened {
        reader: Box::new(BufReader::with_capacity(BUF, counted)),
        compression,
        counters,
        mapped: None,
    })
}

/// The reader that undoes `compression` on `stream`.
fn decoder(
    compression: Compression,
    stream: Box<dyn Read + Send>,
) -> io::Result<Box<dyn Read + Send>> {
    Ok(match compression {
        Compression::None => stream,
        // Multi-member so `cat a.gz b.gz` reads as one stream, and zero
        // padding after the last member ignored, like gunzip.
        Compression::Gzip => Box::new(super::GzMembers::new(stream)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(stream)?),
    })
}

/// Most layers of compression undone (`gzip` of a `.gz` is two).
const MAX_LAYERS: u32 = 4;

/// A decompressed stream that may be compressed again (a `.gz` gzipped
/// once more, which read as "not JSON"): its first bytes are looked at on
/// the first read, so a decoding error there is an ordinary read error.
enum Nested {
    Unchecked {
        inner: Box<dyn Read + Send>,
        layers: u32,
    },
    Ready(Box<dyn Read + Send>),
    /// Only while the first read replaces `Unchecked`.
    Taken,
}

impl Nested {
    fn check(inner: Box<dyn Read + Send>, layers: u32) -> io::Result<Box<dyn Read + Send>> {
        let mut inner = inner;
        let mut magic = [0u8; 6];
        let got = read_up_to(&mut inner, &mut magic)?;
        if let Some(format) = Compression::unsupported(&magic[..got]) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{format} data inside the compressed input: talon reads plain, gzip and \
                     zstd input; unpack it first"
                ),
            ));
        }
        let stream: Box<dyn Read + Send> =
            Box::new(Cursor::new(magic[..got].to_vec()).chain(inner));
        match Compression::detect(&magic[..got]) {
            Compression::None => Ok(stream),
            _ if layers >= MAX_LAYERS => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("compressed more than {MAX_LAYERS} times over: unpack it first"),
            )),
            again => Ok(Box::new(Nested::Unchecked {
                inner: decoder(again, stream)?,
                layers: layers + 1,
            })),
        }
    }
}

impl Read for Nested {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if matches!(self, Nested::Unchecked { .. }) {
            if let Nested::Unchecked { inner, layers } = std::mem::replace(self, Nested::Taken) {
                *self = Nested::Ready(Nested::check(inner, layers)?);
            }
        }
        match self {
            Nested::Ready(r) => r.read(buf),
            // A first read that failed: the error was given then.
            _ => Ok(0),
        }
    }
}

/// Fills as much of `buf` as the stream has; a pipe may hand over fewer
/// bytes per read than asked for.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Drops a UTF-8 byte-order mark at the start of the decoded text: it is
/// not content, and JSON parsers reject it. The check happens on the first
/// read, so a decoding error there is reported like any other read error.
struct SkipBom<R> {
    inner: R,
    /// Bytes read while looking for the mark, not yet handed out; `None`
    /// until the first read.
    head: Option<Cursor<Vec<u8>>>,
}

impl<R: Read> Read for SkipBom<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.head.is_none() {
            // Four bytes, so that the reader sees a UTF-32 mark whole.
            let mut first = [0u8; 4];
            let got = read_up_to(&mut self.inner, &mut first)?;
            let keep = if first[..got].starts_with(b"\xEF\xBB\xBF") {
                first[3..got].to_vec()
            } else {
                first[..got].to_vec()
            };
            self.head = Some(Cursor::new(keep));
        }
        if let Some(head) = &mut self.head {
            let n = head.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
        }
        self.inner.read(buf)
    }
}
