//! Where output goes: a file or stdout, and which format by default
//! (a table on a terminal, JSON Lines when piped); a file named `.gz` or
//! `.zst` is compressed ([`compressed`]).

pub mod compressed;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{FormatArg, OutputArgs};
use compressed::{Codec, Compressed};

/// The output stream and the format chosen for it.
pub struct Output<F> {
    pub writer: Box<dyn Write>,
    pub format: F,
}

/// Opens `--output` (or stdout) and settles the format; `what` names the
/// output (`the alerts`) for the error when stdout is closed.
pub fn open<F: FormatArg>(args: &OutputArgs<F>, what: &str) -> Result<Output<F>> {
    let (writer, terminal) = writer(args.output.as_deref(), what)?;
    let format = args
        .format
        .unwrap_or(match (names_csv(args.output.as_deref()), terminal) {
            (true, _) => F::CSV,
            (false, true) => F::TABLE,
            (false, false) => F::JSONL,
        });
    Ok(Output { writer, format })
}

/// Whether `--output` names a CSV file (`alerts.csv`, `alerts.csv.gz`:
/// the format is the name's before the codec's).
pub fn names_csv(output: Option<&Path>) -> bool {
    file(output)
        .and_then(|p| match Codec::of(p) {
            Some(_) => compressed::stem(p)
                .and_then(|s| s.rsplit_once('.'))
                .map(|(_, e)| e),
            None => compressed::extension(p),
        })
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Refuses an `--output` named `.csv` for a command that writes JSON
/// lines only (`convert`, `synth`): the file would not be what its name
/// says.
pub fn refuse_csv_name(output: Option<&Path>, command: &str) -> Result<()> {
    if names_csv(output) {
        anyhow::bail!(
            "`{command}` writes events as JSON lines, not CSV: name the output .ndjson or \
             .jsonl (compressed: .ndjson.gz, .ndjson.zst)"
        );
    }
    Ok(())
}

/// What a write error says: `what` could not be written to `output`
/// (`--output`), or to standard output.
pub fn write_context(what: &str, output: Option<&Path>) -> String {
    match file(output) {
        Some(path) => format!("cannot write {what} to {}", path.display()),
        None => format!("cannot write {what} to standard output"),
    }
}

/// The file `--output` names: none for `-`, which is stdout, as `-` among
/// the inputs is stdin.
pub fn file(output: Option<&Path>) -> Option<&Path> {
    output.filter(|p| p.as_os_str() != "-")
}

/// `--output FILE` created (compressed when its name ends `.gz` or
/// `.zst`), or stdout (for no FILE or `-`; refused when closed: `what`,
/// the output, would be lost), buffered; and whether it is a terminal.
pub fn writer(path: Option<&Path>, what: &str) -> Result<(Box<dyn Write>, bool)> {
    match file(path) {
        Some(path) => Ok((create(path, true)?, false)),
        None => {
            if stdout_was_closed() {
                anyhow::bail!(
                    "standard output is closed, so {what} would be lost; \
                     give --output FILE (or redirect stdout to /dev/null to discard them)"
                );
            }
            let out = io::stdout();
            let terminal = out.is_terminal();
            Ok((Box::new(io::BufWriter::new(out)), terminal))
        }
    }
}

/// Output file `path` created, compressed as its name asks (`.gz`,
/// `.zst`); `buffered`: written in blocks rather than as each write comes
/// (a live stream's lines should reach the file as they are written).
pub fn create(path: &Path, buffered: bool) -> Result<Box<dyn Write>> {
    let f = File::create(path)
        .with_context(|| format!("cannot create output file {}", path.display()))?;
    Ok(match (Codec::of(path), buffered) {
        (Some(codec), true) => Box::new(io::BufWriter::new(Compressed::new(
            io::BufWriter::new(f),
            codec,
        ))),
        (Some(codec), false) => Box::new(Compressed::new(io::BufWriter::new(f), codec)),
        (None, true) => Box::new(io::BufWriter::new(f)),
        (None, false) => Box::new(f),
    })
}

/// Refuses to run a command whose output is `what` on stdout when stdout
/// is closed: everything it wrote would be lost, and it would still exit 0.
pub fn require_stdout(what: &str) -> Result<()> {
    if stdout_was_closed() {
        anyhow::bail!(
            "standard output is closed, so {what} would be lost; \
             redirect it (to /dev/null to discard it)"
        );
    }
    Ok(())
}

/// Whether talon was started with stdout closed (`>&-`).
pub fn stdout_was_closed() -> bool {
    stream_was_closed(1)
}

/// Whether talon was started with the standard stream `fd` closed
/// (`>&-`, `<&-`). Rust's runtime reopens a closed standard stream on
/// `/dev/null` for reading and writing before `main`, so writes to it
/// would all "succeed" and reads find an empty input; a shell's
/// `>/dev/null` or `</dev/null` opens it one way only. Linux only (it
/// reads `/proc`).
pub fn stream_was_closed(fd: u8) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(target) = std::fs::read_link(format!("/proc/self/fd/{fd}")) else {
            return false;
        };
        if target != std::path::Path::new("/dev/null") {
            return false;
        }
        let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")) else {
            return false;
        };
        // `flags:` is octal; O_ACCMODE is 3, O_RDWR 2.
        info.lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
            .is_some_and(|flags| flags & 3 == 2)
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Where JSON Lines made elsewhere go: each piece is handed over whole and
/// kept until about `FLUSH_AT` bytes wait, then all of them are written
/// with vectored writes. A `BufWriter` would copy every piece into its
/// buffer first; a sequence alert group or an event alert is kilobytes
/// (the rule's parameters and investigation guide ride in each), so that
/// copy was a tenth of a seed-rule hunt's time over its matches.
pub struct Lines<W: Write> {
    inner: W,
    pending: Vec<Vec<u8>>,
    bytes: usize,
}

/// How many bytes [`Lines`] holds before it writes them.
const FLUSH_AT: usize = 256 << 10;

impl<W: Write> Lines<W> {
    pub fn new(inner: W) -> Lines<W> {
        Lines {
            inner,
            pending: Vec::new(),
            bytes: 0,
        }
    }

    /// Takes `piece` (whole lines) to write in its turn.
    pub fn push(&mut self, piece: Vec<u8>) -> io::Result<()> {
        if piece.is_empty() {
            return Ok(());
        }
        self.bytes += piece.len();
        self.pending.push(piece);
        if self.bytes >= FLUSH_AT {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Writes what is held, in order, however the writer splits it.
    fn write_pending(&mut self) -> io::Result<()> {
        let mut slices: Vec<io::IoSlice<'_>> =
            self.pending.iter().map(|p| io::IoSlice::new(p)).collect();
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match self.inner.write_vectored(left) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => io::IoSlice::advance_slices(&mut left, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.clear();
        self.bytes = 0;
        Ok(())
    }

    /// Writes what is held and flushes the writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_pending()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most 7 bytes a call, one slice at a time,
    /// and is interrupted every third call.
    struct Stingy {
        got: Vec<u8>,
        calls: usize,
    }

    impl Write for Stingy {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = buf.len().min(7);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_whole_and_in_order_however_the_writer_splits_them() {
        let mut lines = Lines::new(Stingy {
            got: Vec::new(),
            calls: 0,
        });
        let mut want = Vec::new();
        for i in 0..4000 {
            let piece = format!("{{\"n\":{i},\"pad\":\"{}\"}}\n", "x".repeat(i % 300)).into_bytes();
            want.extend_from_slice(&piece);
            lines.push(piece).expect("push");
            lines.push(Vec::new()).expect("an empty piece");
        }
        lines.flush().expect("flush");
        assert!(want.len() > 2 * FLUSH_AT, "the pieces pass the threshold");
        assert_eq!(lines.inner.got, want);
        assert!(lines.pending.is_empty());
    }

    #[test]
    fn a_writer_that_takes_nothing_is_an_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut lines = Lines::new(Full);
        lines.push(b"{}\n".to_vec()).expect("held");
        let e = lines.flush().expect_err("nothing written");
        assert_eq!(e.kind(), io::ErrorKind::WriteZero);
    }
}
