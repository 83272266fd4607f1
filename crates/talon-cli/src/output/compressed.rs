//! Compressed output: `--output alerts.jsonl.gz` (gzip) or `.zst`/`.zstd`
//! (zstd), the two codecs talon also reads.
//!
//! Every `flush` ends the current gzip member or zstd frame, and the next
//! write starts another. Both formats define a file of several members or
//! frames as the concatenation of their contents (`zcat`, `zstd -d` and
//! talon's own reader read them all), so the file is whole after every
//! flush, and a flush's error (the trailer not written) reaches the caller
//! instead of being lost in a `Drop`.

use std::io::{self, Write};
use std::path::Path;

use flate2::write::GzEncoder;

/// A codec an output file's name asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Gzip,
    Zstd,
}

impl Codec {
    /// The codec `path`'s last extension names (any case), if any. A
    /// name that is only the extension (`.gz`) names it too: it ends
    /// `.gz`, and `zcat` must read it.
    pub fn of(path: &Path) -> Option<Codec> {
        let ext = extension(path)?.to_ascii_lowercase();
        match ext.as_str() {
            "gz" | "gzip" => Some(Codec::Gzip),
            "zst" | "zstd" => Some(Codec::Zstd),
            _ => None,
        }
    }
}

/// What follows the last `.` of `path`'s file name, a leading one
/// included (`.gz` for `.gz`, where [`Path::extension`] sees none).
pub fn extension(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    name.rsplit_once('.').map(|(_, ext)| ext)
}

/// `path`'s file name without its last extension (`.csv` for `.csv.gz`).
pub fn stem(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    name.rsplit_once('.').map(|(stem, _)| stem)
}

/// zstd's default level: fast, and as small as gzip's default or smaller.
const ZSTD_LEVEL: i32 = 3;

enum State<W: Write> {
    /// Between members: everything so far is written whole.
    Idle(W),
    Gzip(GzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
    /// An encoder failed to end its member or frame and took the writer
    /// with it.
    Broken,
}

/// A writer that compresses what it is given with `codec`.
pub struct Compressed<W: Write> {
    codec: Codec,
    state: State<W>,
    /// Some member or frame was ended: an output of nothing is still a
    /// compressed file (one empty member), which `zcat` reads.
    ended_any: bool,
}

impl<W: Write> Compressed<W> {
    pub fn new(inner: W, codec: Codec) -> Compressed<W> {
        Compressed {
            codec,
            state: State::Idle(inner),
            ended_any: false,
        }
    }

    /// Starts a member or frame, unless one is open.
    fn begin_member(&mut self) -> io::Result<()> {
        self.state = match std::mem::replace(&mut self.state, State::Broken) {
            State::Idle(w) => match self.codec {
                Codec::Gzip => State::Gzip(GzEncoder::new(w, flate2::Compression::default())),
                Codec::Zstd => State::Zstd(zstd::Encoder::new(w, ZSTD_LEVEL)?),
            },
            open => open,
        };
        Ok(())
    }

    /// Ends the open member or frame (an empty one when none was ever
    /// written).
    fn end_member(&mut self) -> io::Result<()> {
        if !self.ended_any {
            self.begin_member()?;
        }
        let state = std::mem::replace(&mut self.state, State::Broken);
        self.state = State::Idle(match state {
            State::Idle(w) => w,
            State::Gzip(e) => e.finish()?,
            State::Zstd(e) => e.finish()?,
            State::Broken => return Err(broken()),
        });
        self.ended_any = true;
        Ok(())
    }
}

fn broken() -> io::Error {
    io::Error::other("the compressed output was left unfinished by an earlier error")
}

impl<W: Write> Write for Compressed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.begin_member()?;
        match &mut self.state {
            State::Gzip(e) => e.write(buf),
            State::Zstd(e) => e.write(buf),
            State::Idle(_) | State::Broken => Err(broken()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.end_member()?;
        match &mut self.state {
            State::Idle(w) => w.flush(),
            _ => Err(broken()),
        }
    }
}

impl<W: Write> Drop for Compressed<W> {
    /// A writer dropped without a last flush (an error elsewhere ended the
    /// command) still leaves a readable file when it can; the command has
    /// reported its own error already.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn names_choose_the_codec() {
        for (name, codec) in [
            ("alerts.jsonl.gz", Some(Codec::Gzip)),
            ("x.CSV.GZ", Some(Codec::Gzip)),
            ("x.gzip", Some(Codec::Gzip)),
            ("x.zst", Some(Codec::Zstd)),
            ("x.ZSTD", Some(Codec::Zstd)),
            ("x.jsonl", None),
            ("gz", None),
            (".gz", Some(Codec::Gzip)),
            ("out/.ZST", Some(Codec::Zstd)),
            (".csv.gz", Some(Codec::Gzip)),
            ("x.gz.", None),
            ("x.tgz", None),
        ] {
            assert_eq!(Codec::of(Path::new(name)), codec, "{name}");
        }
    }

    /// Writes two pieces with a flush after each, the way a command ends
    /// its output, and returns the bytes.
    fn two_members(codec: Codec) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = Compressed::new(&mut out, codec);
            w.write_all(b"{\"a\":1}\n").unwrap();
            w.flush().unwrap();
            w.flush().unwrap(); // nothing open: nothing written
            w.write_all(b"{\"b\":2}\n").unwrap();
            w.flush().unwrap();
        }
        out
    }

    #[test]
    fn every_flush_leaves_a_whole_file_and_later_writes_join_it() {
        let gz = two_members(Codec::Gzip);
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"b\":2}\n");
        // Two members: each starts with gzip's magic bytes.
        assert_eq!(gz.windows(3).filter(|w| w == &[0x1f, 0x8b, 8]).count(), 2);

        let zst = two_members(Codec::Zstd);
        assert_eq!(
            zstd::decode_all(&zst[..]).unwrap(),
            b"{\"a\":1}\n{\"b\":2}\n"
        );
    }

    #[test]
    fn nothing_written_is_still_a_compressed_file() {
        for codec in [Codec::Gzip, Codec::Zstd] {
            let mut out = Vec::new();
            Compressed::new(&mut out, codec).flush().unwrap();
            assert!(!out.is_empty(), "{codec:?}");
            let text = match codec {
                Codec::Gzip => {
                    let mut t = Vec::new();
                    flate2::read::GzDecoder::new(&out[..])
                        .read_to_end(&mut t)
                        .unwrap();
                    t
                }
                Codec::Zstd => zstd::decode_all(&out[..]).unwrap(),
            };
            assert!(text.is_empty());
        }
    }

    #[test]
    fn dropping_without_a_flush_still_ends_the_member() {
        let mut out = Vec::new();
        {
            let mut w = Compressed::new(&mut out, Codec::Gzip);
            w.write_all(b"x\n").unwrap();
        }
        let mut text = String::new();
        flate2::read::GzDecoder::new(&out[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "x\n");
    }

    /// A writer that refuses everything.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_ending_is_reported_and_stays_reported() {
        let mut w = Compressed::new(Full, Codec::Zstd);
        // The encoder buffers: the write itself may succeed.
        let _ = w.write_all(b"some text\n");
        let e = w.flush().expect_err("the frame cannot be written");
        assert_eq!(e.to_string(), "disk full");
        let e = w.flush().expect_err("still broken");
        assert!(e.to_string().contains("unfinished"), "{e}");
        assert!(w.write_all(b"more").is_err());
    }
}
