//! What several commands share: loading rules (given or bundled), mappings
//! and event inputs, with every problem reported on stderr.
//!
//! Event inputs go through talon-sources' normalizing reader: each input's
//! source is recognised from its content (or named with `--source`), native
//! telemetry (auditd, Sysmon, Falco, …) becomes Elastic Defend-shaped ECS,
//! and ECS itself is read by talon-event exactly as before, with the
//! command's [`ReadOptions`] (forced index, mapping `null_value`s).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use talon_engine::{compile_rule, CompiledRule};
use talon_event::mapping::{Mapping, MappingError};
use talon_event::read::{expand_inputs, InputSpec, ReadIssue, ReadOptions};
use talon_event::terminal::escape_controls;
use talon_event::Event;
use talon_rules::{load_paths_preferring, LoadReport, Rule, SkippedFile};
use talon_sources::{NormalizeOptions, NormalizingReader, Source};

use crate::bundled;
use crate::cli::SourceArg;
use crate::summary::{count, InputStats};

/// Loads rules from paths, or the bundled rules when none are given.
///
/// Of two rules with one rule_id, the first is kept unless it cannot run
/// and the other can: whether a query compiles depends on the `mapping` it
/// compiles against, which the loader does not know, so it asks (only
/// about rules whose rule_id repeats). A broken first copy then no longer
/// keeps a working one from running; it stays loaded, so compiling it
/// reports its error.
pub fn load_rules(paths: &[PathBuf], mapping: &Mapping) -> LoadReport {
    if paths.is_empty() {
        return bundled::rules();
    }
    load_paths_preferring(paths, &|rule| compile_rule(rule.clone(), mapping).is_ok())
}

/// Kibana does not run a rule saved with `enabled: false`, so neither do
/// the commands that run rules, unless `include` (`--include-disabled`):
/// the rules left out are counted on stderr (unless `quiet`) and named
/// at `-v`. `Err` when every loaded rule is disabled, which would
/// otherwise look like a run with no rule at all.
pub fn leave_out_disabled(rules: Vec<Rule>, include: bool, quiet: bool) -> Result<Vec<Rule>> {
    if include {
        return Ok(rules);
    }
    let loaded = rules.len();
    let (run, disabled): (Vec<Rule>, Vec<Rule>) =
        rules.into_iter().partition(|r| r.enabled != Some(false));
    if disabled.is_empty() {
        return Ok(run);
    }
    for r in &disabled {
        tracing::info!(
            "{}: rule \"{}\" is disabled (enabled = false) and does not run",
            escape_controls(&r.origin.path.display().to_string()),
            escape_controls(&r.name)
        );
    }
    if run.is_empty() {
        anyhow::bail!(
            "every loaded rule is disabled ({} with enabled = false): Kibana would run none; \
             --include-disabled runs them",
            count(loaded as u64, "rule")
        );
    }
    if !quiet {
        eprintln!(
            "talon: {} disabled (enabled = false) left out, as Kibana would; \
             --include-disabled runs them (-v names them)",
            count(disabled.len() as u64, "rule")
        );
    }
    Ok(run)
}

/// The rules `wanted` names: every rule of a file when it is a path, else
/// the rules among `rules` (bundled when empty) whose rule_id or name is it
/// (case-insensitive). An error says where it looked when none is found.
/// `mapping` is the one the rules are compiled against ([`load_rules`]).
pub fn find_rules(
    wanted: &str,
    rules: &[PathBuf],
    mapping: &Mapping,
) -> Result<Vec<talon_rules::Rule>> {
    let path = std::path::Path::new(wanted);
    let by_path = path.exists();
    let report = if by_path {
        load_rules(&[path.to_path_buf()], mapping)
    } else {
        load_rules(rules, mapping)
    };
    report_load_problems(&report);
    let key = wanted.to_lowercase();
    let found: Vec<talon_rules::Rule> = if by_path {
        report.rules
    } else {
        report
            .rules
            .into_iter()
            .filter(|r| r.rule_id.to_lowercase() == key || r.name.to_lowercase() == key)
            .collect()
    };
    if found.is_empty() && by_path {
        // Its load errors were printed above.
        bail!(
            "no rule loaded from {wanted} ({})",
            crate::summary::count(report.errors.len() as u64, "load error")
        );
    }
    if found.is_empty() {
        let looked = if rules.is_empty() {
            "the bundled rules; use --rules PATH".to_string()
        } else {
            rules
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        bail!("no rule with id or name {wanted:?} (looked in {looked})");
    }
    Ok(found)
}

/// How writing the output ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Everything was written.
    Whole,
    /// The output's reader went away (`| head`): it has seen enough.
    CutShort,
}

/// The end of writing `what` to `output` (`--output`; stdout when none):
/// an error says it could not be written and where to, except a broken
/// pipe (`| head`: the reader has seen enough), which is
/// [`Written::CutShort`], for the command to end with [`cut_short`].
pub fn finish_output(
    r: anyhow::Result<()>,
    what: &str,
    output: Option<&std::path::Path>,
) -> anyhow::Result<Written> {
    match r {
        Ok(()) => Ok(Written::Whole),
        Err(e) if is_broken_pipe(&e) => Ok(Written::CutShort),
        Err(e) => Err(e.context(crate::output::write_context(what, output))),
    }
}

/// Whether an error is a broken pipe, however it was wrapped on the way
/// (an I/O error inside a JSON or CSV writer's error, or inside another
/// I/O error).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io_is_broken_pipe(io);
        }
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            return json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe);
        }
        if let Some(csv) = cause.downcast_ref::<csv::Error>() {
            return matches!(csv.kind(), csv::ErrorKind::Io(io) if io_is_broken_pipe(io));
        }
        false
    })
}

/// An I/O error that is a broken pipe, or wraps one.
pub fn io_is_broken_pipe(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return true;
    }
    let Some(inner) = e.get_ref() else {
        return false;
    };
    if let Some(io) = inner.downcast_ref::<std::io::Error>() {
        return io_is_broken_pipe(io);
    }
    if let Some(csv) = inner.downcast_ref::<csv::Error>() {
        return matches!(csv.kind(), csv::ErrorKind::Io(io) if io_is_broken_pipe(io));
    }
    false
}

/// What was still to do when the output's reader went away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unread {
    /// Reading stopped at once (`hunt`, `convert`, `synth`): the counts
    /// cover only what was read until then.
    Stopped,
    /// Everything was read before anything was written (`query`): the
    /// counts cover the whole input; only results were lost.
    Nothing,
    /// Events were being made rule by rule (`synth`): talon stopped, and
    /// the events the lines above count were not all written.
    Rules,
}

/// Ends a command whose output's reader went away: unless `quiet`, the
/// line that ends its summary, `talon: output cut short: ...`; and the
/// broken-pipe status.
pub fn cut_short(quiet: bool, unread: Unread) -> std::process::ExitCode {
    if !quiet {
        let rest = match unread {
            Unread::Stopped => {
                "so reading stopped early; the counts above cover only what was read until then"
            }
            Unread::Nothing => {
                "so not every result was written; the counts above cover the whole input"
            }
            Unread::Rules => {
                "so talon stopped, and not every event the lines above count was written"
            }
        };
        eprintln!("talon: output cut short: its reader closed it (broken pipe), {rest}");
    }
    std::process::ExitCode::from(crate::EXIT_BROKEN_PIPE)
}

/// Refuses to write `output` (given with `flag`) when it is the same file
/// as one of `inputs` (files, or folders: every file read below them), as
/// device and inode say, so a hard link, a symbolic link or another
/// spelling of the path is caught too. Called before the output is
/// opened: creating it would truncate the input before it is read. An
/// output that does not exist yet, or is not a regular file (`/dev/null`,
/// a FIFO), cannot be an input destroyed; nor can stdout (`-`).
pub fn refuse_output_over_inputs(
    output: Option<&Path>,
    flag: &str,
    inputs: &[PathBuf],
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Some(output) = crate::output::file(output) else {
        return Ok(());
    };
    let Ok(meta) = std::fs::metadata(output) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Ok(());
    }
    let id = (meta.dev(), meta.ino());
    // `-` is stdin: a file redirected into it (`< f`) is the same file as
    // an output named `f`, `/dev/stdin` or `/proc/self/fd/0`.
    let stdin_named = inputs.iter().any(|i| i.as_os_str() == "-");
    if stdin_named
        && std::fs::metadata("/dev/stdin").is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == id)
    {
        bail!(
            "{flag} {} is the file on standard input (the input `-`): writing it would \
             destroy the input before it is read; nothing was written (give another {flag})",
            output.display()
        );
    }
    for input in inputs {
        let Some(arg) = input.to_str() else { continue };
        // A path that cannot be found or read is reported when it is read.
        let Ok(expanded) = expand_inputs(&[arg]) else {
            continue;
        };
        for spec in expanded.inputs {
            let InputSpec::Path(p) = spec else { continue };
            let same = std::fs::metadata(&p).is_ok_and(|m| (m.dev(), m.ino()) == id);
            if !same {
                continue;
            }
            let (out, inp) = (output.display().to_string(), p.display().to_string());
            let which = if out == inp {
                format!("{flag} {out} is also an input")
            } else {
                format!("{flag} {out} is the input {inp} (the same file)")
            };
            bail!(
                "{which}: writing it would destroy the input before it is read; \
                 nothing was written (give another {flag})"
            );
        }
    }
    Ok(())
}

/// The event arguments as paths (`-` for stdin), for
/// [`refuse_output_over_inputs`].
pub fn event_paths(events: &[String]) -> Vec<PathBuf> {
    events.iter().map(PathBuf::from).collect()
}

/// Prints load errors and warnings; returns how many errors there were.
pub fn report_load_problems(report: &LoadReport) -> usize {
    for e in &report.errors {
        eprintln!("{e}");
    }
    for w in &report.warnings {
        eprintln!("{}", w.as_warning());
    }
    report.errors.len()
}

/// The warnings for what a rule that runs holds but will not apply: the
/// notes its loading made (`alert_suppression`, a sequence's overrides,
/// ...), each at its place.
pub fn unapplied_warnings(c: &CompiledRule) -> Vec<String> {
    c.rule
        .unapplied
        .iter()
        .map(|n| n.as_warning().to_string())
        .collect()
}

/// With the bundled demo as the input, an output file holding the same
/// bytes is the repository's copy of it (`demo/events.ndjson`): refused as
/// any input is, though the copy read is the one in the binary.
pub fn refuse_output_over_demo(output: Option<&Path>) -> Result<()> {
    let Some(output) = crate::output::file(output) else {
        return Ok(());
    };
    let demo = bundled::demo_events();
    let same = std::fs::metadata(output).is_ok_and(|m| m.is_file() && m.len() == demo.len() as u64)
        && std::fs::read(output).is_ok_and(|b| b == demo);
    if same {
        bail!(
            "--output {} holds the bundled demo events, the input: writing it would destroy \
             that copy of them; nothing was written (give another --output)",
            output.display()
        );
    }
    Ok(())
}

/// The error when no loaded rule can run: `load_errors` rule files (or
/// export lines) that did not load, `errors` rules that loaded but cannot
/// run (a query or schedule error), `unsupported` of a type talon does not
/// run.
pub fn no_rule_can_run(load_errors: usize, errors: usize, unsupported: usize) -> anyhow::Error {
    anyhow::anyhow!(
        "no rule can run ({load_errors} failed to load, {errors} with errors, \
         {unsupported} not supported)"
    )
}

/// When rule paths were given but they hold no rule and no error (an
/// empty folder, a folder of other files, of empty `.toml` files), the
/// message saying so: "no rule files found in DIR (...)" when no file with
/// a rule file's extension was read, else "no rules found in DIR", naming
/// a few files skipped (with why, for those read).
pub fn no_rule_files(paths: &[PathBuf], report: &LoadReport) -> Option<String> {
    if paths.is_empty() || !report.rules.is_empty() || !report.errors.is_empty() {
        return None;
    }
    let given: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut msg = match report.files {
        0 => format!(
            "no rule files found in {} (rule files end in .toml, .ndjson, .jsonl, .json, .md or .markdown)",
            given.join(", ")
        ),
        _ => format!("no rules found in {}", given.join(", ")),
    };
    if !report.skipped_files.is_empty() {
        let names: Vec<String> = report
            .skipped_files
            .iter()
            .map(|p| {
                let read = report.files_without_rules.iter().find(|s| &s.path == p);
                match read {
                    Some(s) => format!("{} ({})", p.display(), s.why),
                    None => p.display().to_string(),
                }
            })
            .collect();
        let more = report.skipped.non_rule_files.saturating_sub(names.len());
        msg.push_str(&format!("; skipped {}", names.join(", ")));
        if more > 0 {
            msg.push_str(&format!(" and {more} more"));
        }
    }
    Some(msg)
}

/// The summary line naming the files a walk read and skipped because they
/// hold no rule, so that every file counted is accounted for: "  2 files
/// skipped, holding no rule: a.toml (empty file: ...), ...", the first few
/// named; `None` when there were none.
pub fn files_without_rules_line(skipped: &[SkippedFile]) -> Option<String> {
    const SHOWN: usize = 5;
    if skipped.is_empty() {
        return None;
    }
    let names: Vec<String> = skipped
        .iter()
        .take(SHOWN)
        .map(|s| {
            let path = s.path.display().to_string();
            format!("{} ({})", escape_controls(&path), s.why)
        })
        .collect();
    let more = match skipped.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    Some(format!(
        "  {} skipped, holding no rule: {}{more}",
        crate::summary::count(skipped.len() as u64, "file"),
        names.join(", ")
    ))
}

/// Merges the given mapping files (none: no mapping, types from ECS).
pub fn load_mapping(paths: &[PathBuf]) -> Result<Mapping> {
    if paths.is_empty() {
        return Ok(Mapping::default());
    }
    let mut mappings = Vec::new();
    for p in paths {
        let text = read_mapping_text(p, "mapping")?;
        let file = p.display().to_string();
        let m = Mapping::from_es_json_named(&text, &file).map_err(|e| mapping_error(e, &text))?;
        mappings.push(m);
    }
    let (merged, conflicts) = Mapping::merged(mappings);
    for c in conflicts {
        eprintln!(
            "talon: warning: mapping conflict on `{}`: kept {}, ignored {}",
            c.path, c.kept, c.ignored
        );
    }
    Ok(merged)
}

/// The text of a mapping or schema file (`what`), without a UTF-8
/// byte-order mark (editors on Windows write one; JSON parsers refuse it,
/// and columns are counted as an editor shows them, without it); the error
/// names the file and what it was to be.
pub fn read_mapping_text(path: &Path, what: &'static str) -> Result<String> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| {
        anyhow::anyhow!(
            "{}",
            MappingError::Io {
                file: file.clone(),
                what,
                source,
            }
        )
    })?;
    let text = utf8_text(bytes, &file, what)?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// `bytes`, read from `file` (a `what`: mapping, value list, ...), as text.
/// Bytes that are not UTF-8 are an error at the first of them, with its
/// line shown and a caret under it, as in a rule file: "stream did not
/// contain valid UTF-8" left the user to search the whole file for it.
pub fn utf8_text(bytes: Vec<u8>, file: &str, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[at];
        // The same text up to `at`, so the same offsets; the bad byte
        // shows as U+FFFD.
        let text = String::from_utf8_lossy(e.as_bytes());
        let message = format!("the {what} is not valid UTF-8 here (byte 0x{byte:02x})");
        anyhow::anyhow!(
            "{}",
            located(file, &text, at..at + '\u{fffd}'.len_utf8(), &message)
        )
    })
}

/// A mapping error as the user sees it. A JSON syntax error names the file,
/// line and column itself; below that it shows the line of `text` (the
/// file's text) with a caret under the error, as rule-file errors do, since
/// a column alone is hard to find in a long mapping.
pub fn mapping_error(e: MappingError, text: &str) -> anyhow::Error {
    let MappingError::Json {
        file,
        offset,
        message,
        ..
    } = &e
    else {
        return anyhow::anyhow!("{e}");
    };
    let rendered = talon_eql::diag::render_span(file, text, *offset, offset + 1, message, None);
    // render_span starts with its own `file:line:col: error:` heading; the
    // error's own names the same place.
    let snippet = rendered.split_once('\n').map_or("", |(_, rest)| rest);
    anyhow::anyhow!("{e}\n{}", snippet.trim_end_matches('\n'))
}

/// `file:line:col: message`, then the line of `text` with a caret under
/// `span`, as rule, mapping and schema files report problems.
pub fn located(file: &str, text: &str, span: std::ops::Range<usize>, message: &str) -> String {
    let rendered = talon_eql::diag::render_span(file, text, span.start, span.end, message, None);
    let (line, column) = talon_eql::diag::line_col(text, span.start);
    // render_span's own heading says `error:`; the caller says what it is.
    let snippet = rendered.split_once('\n').map_or("", |(_, rest)| rest);
    // The message quotes the file's text (an item id, a field, a type).
    let message = talon_event::terminal::escape_controls(message);
    let snippet: Vec<_> = snippet
        .trim_end()
        .lines()
        .map(talon_event::terminal::escape_controls)
        .collect();
    let snippet = snippet.join("\n");
    format!("{file}:{line}:{column}: {message}\n{snippet}")
}

/// Whether stdin could carry data: a pipe or a redirected file (not a
/// terminal, `/dev/null` or a closed stdin). Only to say, when no input is
/// named, that stdin is not read without `-`.
fn stdin_has_data() -> bool {
    use std::os::unix::fs::FileTypeExt;
    if std::io::stdin().is_terminal() {
        return false;
    }
    match std::fs::metadata("/dev/stdin") {
        Ok(m) => m.file_type().is_fifo() || m.file_type().is_socket() || m.is_file(),
        Err(_) => false,
    }
}

/// The events of all inputs, in order, and the counts of what was read.
pub struct Events {
    reader: NormalizingReader,
}

impl Events {
    /// The next batch of about `target` bytes of lines, or of decoded
    /// events (see `talon_event::read::batch`).
    pub fn next_batch(&mut self, target: usize) -> Option<talon_event::read::Batch> {
        self.reader.next_batch(target)
    }

    /// Counts what parsing a line chunk found, in chunk order.
    pub fn record_chunk(&mut self, counts: &talon_event::read::ChunkCounts) {
        self.reader.record_chunk(counts);
    }

    /// Counts so far (complete once the events are exhausted).
    pub fn stats(&self) -> InputStats {
        InputStats {
            read: self.reader.read_stats(),
            normalized: self.reader.stats(),
        }
    }
}

/// The exit code once the output is written: 2 (an I/O error, as for an
/// input that cannot be found) when some input could not be read to its
/// end, with a line on stderr saying so even under `-q`; else 0.
pub fn input_exit_code(stats: &InputStats) -> std::process::ExitCode {
    let cut = stats.read.inputs_cut_short();
    if cut == 0 {
        return std::process::ExitCode::SUCCESS;
    }
    eprintln!(
        "talon: error: {} could not be read to the end (unreadable or corrupt): {}; \
         what was read before is in the output and the counts",
        crate::summary::count(cut, "input"),
        first_names(&stats.read.cut_short, 5)
    );
    std::process::ExitCode::from(2)
}

/// `a, b, c`, or with more than `most`, the first `most` and `and N more`.
fn first_names(names: &[std::sync::Arc<str>], most: usize) -> String {
    let shown: Vec<&str> = names.iter().take(most).map(|n| &**n).collect();
    let mut text = shown.join(", ");
    if names.len() > most {
        text.push_str(&format!(" and {} more", names.len() - most));
    }
    text
}

impl Iterator for Events {
    type Item = Result<Event, ReadIssue>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next()
    }
}

/// Opens the event inputs, each read as `source` (`auto`: recognised from
/// its content). No inputs: the bundled demo events when `demo` allows
/// it, or an error. Stdin is read only when named (`-`): read unasked, a
/// pipe left open by whatever started talon (a CI step, `ssh`, a wrapper)
/// would make `talon hunt` wait forever instead of running its demo. A
/// named path that does not exist is an error; a folder entry that cannot
/// be read is an issue in its place.
pub fn open_events(
    events: &[String],
    source: SourceArg,
    options: ReadOptions,
    demo: bool,
) -> Result<Events> {
    let mut reader = NormalizingReader::empty(NormalizeOptions {
        read: options,
        ..NormalizeOptions::default()
    });
    if events.is_empty() {
        let piped = stdin_has_data();
        if demo {
            if piped {
                eprintln!(
                    "talon: no event files named: hunting the bundled demo events \
                     (stdin is read only when named: `-`)"
                );
            }
            // The demo events are Elastic Defend ECS whatever --source says.
            reader.push_reader(
                bundled::DEMO_EVENTS_NAME,
                bundled::demo_events(),
                Some(Source::Ecs),
            );
        } else if piped {
            bail!("no event files given (stdin is read only when named: pass `-`)");
        } else {
            bail!("no event files given (pass files or folders, or `-` to read stdin)");
        }
        return Ok(Events { reader });
    }
    if events.iter().any(|e| e == "-") && crate::output::stream_was_closed(0) {
        // Read, it would be an empty input and a clean exit.
        bail!("`-` names standard input, but it is closed (`<&-`): there are no events to read");
    }
    let expanded = expand_inputs(events)?;
    if expanded.inputs.is_empty() && expanded.skipped.is_empty() {
        // Only empty folders were named: say so, or "read 0 events from 0
        // inputs" looks like a run over data that matched nothing.
        eprintln!(
            "talon: warning: no event files found in {}",
            events.join(", ")
        );
    }
    let mut skipped = expanded.skipped.into_iter().peekable();
    // The same file named twice (or named and inside a folder also named,
    // or reached again through a hard or symbolic link) is read once:
    // reading it again would only repeat its alerts, with the same ids.
    let mut seen: std::collections::HashMap<FileKey, PathBuf> = Default::default();
    let mut repeated = Vec::new();
    let mut stdin_named = false;
    for (i, spec) in expanded.inputs.into_iter().enumerate() {
        while let Some(entry) = skipped.next_if(|s| s.position <= i) {
            reader.push_skipped(
                entry.path.display().to_string(),
                entry.reason,
                entry.message,
            );
        }
        if matches!(spec, InputSpec::Stdin) {
            if stdin_named {
                repeated.push("- (stdin) was given more than once; it is read once".to_string());
                continue;
            }
            stdin_named = true;
            // `< f` makes stdin the file f: named too, it was read twice,
            // and every alert of it came out twice.
            if let Some(key) = stdin_file() {
                match seen.entry(key) {
                    std::collections::hash_map::Entry::Occupied(first) => {
                        let f = first.get().display();
                        repeated.push(format!(
                            "- (stdin) is the same file as {f} (stdin is redirected from it); \
                             it is read once, as {f}"
                        ));
                        continue;
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(PathBuf::from("-"));
                    }
                }
            }
        }
        if let InputSpec::Path(p) = &spec {
            match seen.entry(FileKey::of(p)) {
                std::collections::hash_map::Entry::Occupied(first) => {
                    repeated.push(repeat_warning(first.get(), p));
                    continue;
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(p.clone());
                }
            }
        }
        reader.push_input(spec, source.0);
    }
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !repeated.is_empty() && !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        for w in &repeated {
            eprintln!("talon: warning: {w}");
        }
    }
    for entry in skipped {
        reader.push_skipped(
            entry.path.display().to_string(),
            entry.reason,
            entry.message,
        );
    }
    Ok(Events { reader })
}

/// The file redirected into stdin (`< f`), when it is a regular file to be
/// read from its start: reading `-` reads that file whole. Linux only (the
/// start is read from `/proc`); elsewhere stdin is never taken for a file.
fn stdin_file() -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata("/dev/stdin")
        .ok()
        .filter(|m| m.is_file())?;
    // A stdin read partly already (`(read -r first; talon hunt - f) < f`)
    // holds only the rest of the file.
    let info = std::fs::read_to_string("/proc/self/fdinfo/0").ok()?;
    let pos = info.lines().find_map(|l| l.strip_prefix("pos:"))?;
    (pos.trim() == "0").then(|| FileKey::Inode(meta.dev(), meta.ino()))
}

/// What makes two input paths one file: its device and inode (so a hard
/// link is the file it links to), or, when those cannot be read, the
/// path with every link resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

impl FileKey {
    fn of(p: &Path) -> FileKey {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(p) {
            Ok(m) => FileKey::Inode(m.dev(), m.ino()),
            Err(_) => FileKey::Path(resolved(p)),
        }
    }
}

/// `p` with every link resolved; for a path that does not exist (yet), its
/// folder resolved and its name kept (`a.jsonl` and `./a.jsonl` are one).
fn resolved(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty());
        match (
            std::fs::canonicalize(parent.unwrap_or(Path::new("."))),
            p.file_name(),
        ) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => p.to_path_buf(),
        }
    })
}

/// Whether two paths name one file: the same device and inode when both
/// exist (a hard or symbolic link too), else the same resolved path, as
/// two outputs about to be created.
pub fn same_file(a: &Path, b: &Path) -> bool {
    FileKey::of(a) == FileKey::of(b)
}

/// The warning for `later`, the same file as `first` (read already):
/// both paths, and how one leads to the other.
fn repeat_warning(first: &Path, later: &Path) -> String {
    let (f, l) = (first.display(), later.display());
    if first == later {
        return format!("{l} was given more than once; it is read once");
    }
    if first == Path::new("-") {
        return format!(
            "{l} is the same file as - (stdin is redirected from it); it is read once, as -"
        );
    }
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_symlink());
    let same_path = match (std::fs::canonicalize(first), std::fs::canonicalize(later)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let how = match (same_path, is_link(first), is_link(later)) {
        (false, _, _) => format!("{l} is a hard link to {f}"),
        (true, false, true) => format!("{l} is a symbolic link to {f}"),
        (true, true, false) => format!("{f} is a symbolic link to {l}"),
        (true, true, true) => "both are symbolic links to one file".to_string(),
        (true, false, false) => {
            "the same path, spelled differently or through a linked folder".to_string()
        }
    };
    format!("{l} is the same file as {f} ({how}); it is read once, as {f}")
}

/// An event's document as it was read, on one line (NDJSON needs it so):
/// borrowed when it is one already, else [`one_line`].
pub fn source_line(event: &talon_event::Event) -> std::borrow::Cow<'_, str> {
    let source = event.source().trim();
    match source.contains(['\n', '\r']) {
        true => std::borrow::Cow::Owned(one_line(source)),
        false => std::borrow::Cow::Borrowed(source),
    }
}

/// A pretty-printed JSON document on one line: whitespace outside strings
/// dropped, everything else (numbers as written, key order, escapes) kept,
/// which re-serializing would not guarantee (`1.50` would become `1.5`).
/// JSON strings cannot hold a raw line break, so every one is outside them.
fn one_line(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}
