//! Where output goes: a file or stdout, and which format by default
//! (a table on a terminal, JSON Lines when piped).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::{FormatArg, OutputArgs};

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
        .unwrap_or(if terminal { F::TABLE } else { F::JSONL });
    Ok(Output { writer, format })
}

/// The file `--output` names: none for `-`, which is stdout, as `-` among
/// the inputs is stdin.
pub fn file(output: Option<&Path>) -> Option<&Path> {
    output.filter(|p| p.as_os_str() != "-")
}

/// `--output FILE` created, or stdout (for no FILE or `-`; refused when
/// closed: `what`, the output, would be lost), buffered; and whether it
/// is a terminal.
pub fn writer(path: Option<&Path>, what: &str) -> Result<(Box<dyn Write>, bool)> {
    match file(path) {
        Some(path) => {
            let f = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            Ok((Box::new(io::BufWriter::new(f)), false))
        }
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

/// Whether talon was started with stdout closed (`>&-`). Rust's runtime
/// reopens a closed standard stream on `/dev/null` for reading and
/// writing before `main`, so writes to it would all "succeed"; a shell's
/// `>/dev/null` opens it for writing only. Linux only (it reads `/proc`).
pub fn stdout_was_closed() -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(target) = std::fs::read_link("/proc/self/fd/1") else {
            return false;
        };
        if target != std::path::Path::new("/dev/null") {
            return false;
        }
        let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
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
