//! What several commands share: loading rules (given or bundled), mappings
//! and event inputs, with every problem reported on stderr.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Result};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_rules::{load_paths, LoadReport};

use crate::bundled;

/// Loads rules from paths, or the bundled rules when none are given.
pub fn load_rules(paths: &[PathBuf]) -> LoadReport {
    if paths.is_empty() {
        let (rules, errors) = bundled::rules();
        return LoadReport { rules, errors, ..LoadReport::default() };
    }
    load_paths(paths)
}

/// Prints load errors and warnings; returns how many errors there were.
pub fn report_load_problems(report: &LoadReport) -> usize {
    for e in &report.errors {
        eprintln!("{e}");
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    report.errors.len()
}

/// Merges the given mapping files (none: no mapping, types from ECS).
pub fn load_mapping(paths: &[PathBuf]) -> Result<Mapping> {
    if paths.is_empty() {
        return Ok(Mapping::default());
    }
    let mut mappings = Vec::new();
    for p in paths {
        // The mapping error names the file, line and column itself.
        let m = Mapping::from_es_file(p).map_err(|e| anyhow::anyhow!("{e}"))?;
        mappings.push(m);
    }
    let (merged, conflicts) = Mapping::merged(mappings);
    for c in conflicts {
        eprintln!(
            "warning: mapping conflict on `{}`: kept {}, ignored {}",
            c.path, c.kept, c.ignored
        );
    }
    Ok(merged)
}

/// Whether stdin carries data: a pipe or a redirected file. A terminal,
/// `/dev/null` or a closed stdin do not count, so `talon hunt` run from a
/// shell or a test harness falls back to its default instead of waiting.
pub fn stdin_has_data() -> bool {
    use std::os::unix::fs::FileTypeExt;
    if std::io::stdin().is_terminal() {
        return false;
    }
    match std::fs::metadata("/dev/stdin") {
        Ok(m) => m.file_type().is_fifo() || m.file_type().is_socket() || m.is_file(),
        Err(_) => false,
    }
}

/// Opens the event inputs. No inputs: stdin when it is piped; otherwise the
/// bundled demo events when `demo` allows it, or an error.
pub fn open_events(
    events: &[String],
    options: ReadOptions,
    demo: bool,
) -> Result<EventReader> {
    if events.is_empty() {
        if stdin_has_data() {
            return EventReader::from_args(&["-"], options).map_err(Into::into);
        }
        if demo {
            return Ok(EventReader::from_reader(
                bundled::DEMO_EVENTS_NAME,
                bundled::demo_events(),
                options,
            ));
        }
        bail!("no event files given (pass files or folders, or `-` to read stdin)");
    }
    EventReader::from_args(events, options).map_err(Into::into)
}
