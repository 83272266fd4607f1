//! Where output goes: a file or stdout, and which format by default
//! (a table on a terminal, JSON Lines when piped).

use std::fs::File;
use std::io::{self, IsTerminal, Write};

use anyhow::{Context, Result};

use crate::cli::{Format, OutputArgs};

/// The output stream and the format chosen for it.
pub struct Output {
    pub writer: Box<dyn Write>,
    pub format: Format,
}

/// Opens `--output` (or stdout) and settles the format.
pub fn open(args: &OutputArgs) -> Result<Output> {
    let (writer, terminal): (Box<dyn Write>, bool) = match &args.output {
        Some(path) => {
            let f = File::create(path)
                .with_context(|| format!("cannot create output file {}", path.display()))?;
            (Box::new(io::BufWriter::new(f)), false)
        }
        None => {
            let out = io::stdout();
            let terminal = out.is_terminal();
            (Box::new(io::BufWriter::new(out)), terminal)
        }
    };
    let format = args.format.unwrap_or(if terminal {
        Format::Table
    } else {
        Format::Jsonl
    });
    Ok(Output { writer, format })
}
