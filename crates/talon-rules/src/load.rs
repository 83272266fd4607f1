//! Loading rule files and folders into one [`LoadReport`].
//!
//! Guarantees: one bad file never stops the others; every file is read
//! exactly once, in a stable order (folders walked recursively, entries
//! sorted by name, hidden entries skipped); a rule_id seen twice keeps the
//! first rule and reports the second as an error naming both files, as the
//! detection-rules repo does, unless the caller can tell that the first
//! cannot run and the second can ([`load_paths_preferring`]): then the
//! second is kept too, the first still fails where it runs, and the
//! duplicate is still an error naming both. Deprecated rules are loaded and
//! counted.
//! A path that does not exist is one error naming it; files a walk passes
//! over are counted, and the first few named, so a folder holding no rule
//! at all can be told apart from an empty one. A file a walk reads and
//! finds holding nothing rule-like (an empty `.toml`, a `pyproject.toml`,
//! a `README.md`) is not an error but is named, with why, in
//! [`LoadReport::files_without_rules`], so every file read is accounted
//! for: it loaded rules, failed, or was skipped for a reason.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde_json::Value;
use talon_eql::diag::line_col;

use crate::error::{LoadError, LoadErrorKind};
use crate::rule::{Rule, RuleFormat};

/// Everything loaded from a set of paths.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub errors: Vec<LoadError>,
    /// Not fatal: e.g. an export summary whose `exported_count` disagrees
    /// with the rules found in the file.
    pub warnings: Vec<LoadError>,
    pub skipped: SkipCounts,
    /// Exception lists and exception items found in Kibana exports, kept as
    /// raw JSON with where they stand, for whoever applies exceptions later.
    pub exceptions: Vec<ExportedException>,
    /// How many of `rules` are deprecated (`metadata.maturity`); they are
    /// loaded, see [`Rule::is_deprecated`].
    pub deprecated: usize,
    /// Files read (whatever their outcome), those in
    /// [`files_without_rules`](Self::files_without_rules) included.
    pub files: usize,
    /// Every file read while walking a folder that holds nothing rule-like,
    /// in walk order, with why (the error it is when named directly).
    pub files_without_rules: Vec<SkippedFile>,
    /// The first 5 files met while walking folders that hold no rule, in
    /// walk order (all are counted in
    /// [`SkipCounts::non_rule_files`]); for "no rules found, skipped
    /// README.md, ..." messages.
    pub skipped_files: Vec<PathBuf>,
}

/// An exception list or item found in a Kibana export, with where it
/// stands, so that a problem with it can be shown at its place.
#[derive(Clone, Debug)]
pub struct ExportedException {
    pub value: Value,
    /// The export it was read from, and that file's text.
    pub path: PathBuf,
    pub text: Arc<str>,
    /// Where the object starts in `text`.
    pub start: usize,
}

/// How many skipped non-rule files [`LoadReport::skipped_files`] names:
/// enough to show what kind of folder it was, few enough for one line.
const SKIPPED_FILES_SHOWN: usize = 5;

/// A file read while walking a folder and skipped: it holds no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFile {
    pub path: PathBuf,
    /// Why it is not a rule file (`empty file: no [rule] table in it`).
    pub why: String,
}

impl LoadReport {
    /// Counts a non-rule file met in a walk, naming it while there is room.
    fn skip_non_rule(&mut self, path: &Path) {
        self.skipped.non_rule_files += 1;
        if self.skipped_files.len() < SKIPPED_FILES_SHOWN {
            self.skipped_files.push(path.to_path_buf());
        }
    }
}

/// What was passed over, by reason. None of these are errors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkipCounts {
    /// Files met while walking a folder that hold no rule: other
    /// extensions (`NOTICE.txt`), or a `.toml`/`.json`/`.md` that is not a
    /// rule file (a `README.md`).
    pub non_rule_files: usize,
    /// `{"exported_count": ..}` summary lines of Kibana exports.
    pub export_summaries: usize,
    /// Exception lists / items in Kibana exports (kept in
    /// [`LoadReport::exceptions`]).
    pub exception_objects: usize,
    /// Other saved objects in a saved-objects export (connectors, ...).
    pub other_saved_objects: usize,
}

impl SkipCounts {
    pub fn total(&self) -> usize {
        self.non_rule_files
            + self.export_summaries
            + self.exception_objects
            + self.other_saved_objects
    }

    fn add(&mut self, o: &SkipCounts) {
        self.non_rule_files += o.non_rule_files;
        self.export_summaries += o.export_summaries;
        self.exception_objects += o.exception_objects;
        self.other_saved_objects += o.other_saved_objects;
    }
}

/// A rule plus where its rule_id sits in the file (for duplicate reports).
#[derive(Debug)]
pub(crate) struct Loaded {
    pub rule: Rule,
    pub rule_id_span: Option<Range<usize>>,
}

/// What one file yielded.
#[derive(Debug, Default)]
pub(crate) struct FileOutcome {
    pub rules: Vec<Loaded>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadError>,
    pub exceptions: Vec<ExportedException>,
    pub skipped: SkipCounts,
    /// The file holds nothing rule-like at all; while walking a folder it is
    /// skipped as a non-rule file instead of reporting its errors.
    pub not_rules: bool,
}

impl RuleFormat {
    /// The format a file extension denotes (case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<RuleFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "toml" => Some(RuleFormat::Toml),
            "ndjson" | "jsonl" | "json" => Some(RuleFormat::KibanaNdjson),
            "md" | "markdown" => Some(RuleFormat::Markdown),
            _ => None,
        }
    }
}

/// Loads rules from files and folders. A folder is walked recursively
/// (sorted, hidden entries skipped) and its `.toml`, `.ndjson`/`.jsonl`/
/// `.json` and `.md`/`.markdown` files loaded; other files are counted as
/// skipped. A file named directly must have one of those extensions.
pub fn load_paths(paths: &[PathBuf]) -> LoadReport {
    load_paths_preferring(paths, &|_| true)
}

/// [`load_paths`], judging duplicate rule_ids with `runs`: whether a rule
/// can run (its query compiles, in the caller's terms; only the loader's
/// caller knows the mapping queries compile against).
///
/// A rule_id is held by the first rule that has it. A later copy is
/// dropped as a duplicate, unless `runs` says the holder cannot run and
/// the copy can: then the copy is kept too and holds the rule_id from then
/// on, and the duplicate error names the holder. The holder stays among the
/// rules, so that whoever compiles them reports its error as it is, rather
/// than a broken first copy silently keeping a working one from running.
/// `runs` is asked only about rules whose rule_id repeats.
pub fn load_paths_preferring(paths: &[PathBuf], runs: &dyn Fn(&Rule) -> bool) -> LoadReport {
    let mut found: Vec<Found> = Vec::new();
    let mut report = LoadReport::default();
    for p in paths {
        collect(p, &mut found);
    }
    // `talon rules/ rules/x.toml` names x.toml twice; reading it once avoids
    // a bogus duplicate-rule_id error against itself.
    let mut unique = rustc_hash::FxHashSet::default();
    found.retain(|f| match f {
        Found::File { path, .. } => {
            unique.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
        }
        Found::Error(_) | Found::Passed(..) => true,
    });
    let files: Vec<(PathBuf, bool)> = found
        .iter()
        .filter_map(|f| match f {
            Found::File {
                path,
                explicit,
                candidate: true,
            } => Some((path.clone(), *explicit)),
            _ => None,
        })
        .collect();
    let mut outcomes = load_files(&files).into_iter();
    let mut claims = Claims::new(runs);
    // In the order the paths were given and walked, so errors follow the
    // arguments and the names kept for the report are the first a user
    // would see listed.
    for f in found {
        let (path, explicit) = match f {
            Found::Error(e) => {
                report.errors.push(e);
                continue;
            }
            Found::Passed(path, why) => {
                report.skip_non_rule(&path);
                report.files_without_rules.push(SkippedFile { path, why });
                continue;
            }
            Found::File {
                path,
                candidate: false,
                ..
            } => {
                report.skip_non_rule(&path);
                continue;
            }
            Found::File { path, explicit, .. } => (path, explicit),
        };
        let Some(outcome) = outcomes.next() else {
            break;
        };
        report.files += 1;
        if outcome.not_rules && !explicit {
            report.skip_non_rule(&path);
            let why = outcome.errors.first().map(|e| e.message.clone());
            report.files_without_rules.push(SkippedFile {
                path,
                why: why.unwrap_or_else(|| "no rules in this file".to_string()),
            });
            continue;
        }
        merge(&mut report, outcome, &path, &mut claims);
    }
    report
}

/// What [`collect`] found, in order.
enum Found {
    File {
        path: PathBuf,
        /// Named directly rather than found by a walk.
        explicit: bool,
        /// To be loaded: named directly, or with a rule file extension.
        candidate: bool,
    },
    /// A path that cannot be looked at, or a walk entry that cannot be read.
    Error(LoadError),
    /// A walk entry not read, and named as skipped with why: a FIFO,
    /// socket or device (a FIFO may never end), or a symbolic link back to
    /// a folder above it.
    Passed(PathBuf, String),
}

/// Loads rules from text in the given format (stdin, tests). `path` names
/// the text in errors and in `RuleOrigin`.
pub fn load_str(text: &str, path: &Path, format: RuleFormat) -> (Vec<Rule>, Vec<LoadError>) {
    let outcome = load_text(Arc::from(text), path, format);
    let mut rules = Vec::with_capacity(outcome.rules.len());
    let mut errors = outcome.errors;
    let mut claims = Claims::new(&|_| true);
    for loaded in outcome.rules {
        match claims.claim(&loaded, path, &rules) {
            // A note that this copy replaces one that cannot run: the
            // caller reports the other copy's own error.
            Claim::Keep(_) => rules.push(loaded.rule),
            Claim::Drop(e) => errors.push(e),
        }
    }
    (rules, errors)
}

fn merge(report: &mut LoadReport, outcome: FileOutcome, path: &Path, claims: &mut Claims) {
    report.errors.extend(outcome.errors);
    report.warnings.extend(outcome.warnings);
    report.exceptions.extend(outcome.exceptions);
    report.skipped.add(&outcome.skipped);
    for loaded in outcome.rules {
        match claims.claim(&loaded, path, &report.rules) {
            // Not an error of this copy: the one it replaces reports its
            // own (its query), and this one runs.
            Claim::Keep(note) => report.warnings.extend(note),
            Claim::Drop(e) => {
                report.errors.push(e);
                continue;
            }
        }
        if loaded.rule.is_deprecated() {
            report.deprecated += 1;
        }
        report.rules.push(loaded.rule);
    }
}

/// Which rule holds each rule_id so far, to judge the next copy.
struct Claims<'r> {
    held: FxHashMap<String, Holder>,
    /// Whether a rule can run; see [`load_paths_preferring`].
    runs: &'r dyn Fn(&Rule) -> bool,
}

/// The rule holding a rule_id.
struct Holder {
    /// Where its rule_id is (an export holds many rules), in the text of
    /// the rule kept at `index`; made into `file:line` only when a
    /// duplicate asks for it.
    path: PathBuf,
    rule_id_at: Option<usize>,
    /// Its place in the rules kept.
    index: usize,
    /// Whether it can run; asked when a copy first comes.
    runs: Option<bool>,
}

/// What to do with a loaded rule.
enum Claim {
    /// Keep it; with a note (a warning) when it takes the rule_id from a
    /// copy that cannot run.
    Keep(Option<LoadError>),
    /// Drop it: its rule_id is held by a rule loaded before.
    Drop(LoadError),
}

impl<'r> Claims<'r> {
    fn new(runs: &'r dyn Fn(&Rule) -> bool) -> Claims<'r> {
        Claims {
            held: FxHashMap::default(),
            runs,
        }
    }

    /// Judges `loaded`, from `path`, against the rules kept so far (`kept`,
    /// to which it is pushed next if kept).
    fn claim(&mut self, loaded: &Loaded, path: &Path, kept: &[Rule]) -> Claim {
        let rule = &loaded.rule;
        let Some(holder) = self.held.get_mut(&rule.rule_id) else {
            self.held.insert(
                rule.rule_id.clone(),
                Holder::new(loaded, path, kept.len(), None),
            );
            return Claim::Keep(None);
        };
        let runs = self.runs;
        let holder_runs = *holder.runs.get_or_insert_with(|| runs(&kept[holder.index]));
        let this_runs = runs(rule);
        if holder_runs || !this_runs {
            // Said whatever the order the copies come in: a copy that
            // cannot run is reported as such even when it is the one
            // ignored.
            let anyway = match this_runs {
                true => "",
                false => " (it could not run anyway: its query does not compile)",
            };
            let msg = format!(
                "duplicate rule_id `{}`: already loaded from {}; this rule is ignored{anyway}",
                rule.rule_id,
                holder.place(kept)
            );
            return Claim::Drop(duplicate_error(loaded, path, msg));
        }
        let msg = format!(
            "duplicate rule_id `{}`: also loaded from {}, which cannot run; this copy is used instead",
            rule.rule_id,
            holder.place(kept)
        );
        *holder = Holder::new(loaded, path, kept.len(), Some(true));
        Claim::Keep(Some(duplicate_error(loaded, path, msg)))
    }
}

impl Holder {
    fn new(loaded: &Loaded, path: &Path, index: usize, runs: Option<bool>) -> Holder {
        Holder {
            path: path.to_path_buf(),
            rule_id_at: loaded.rule_id_span.as_ref().map(|s| s.start),
            index,
            runs,
        }
    }

    /// `file:line` of its rule_id (the file alone when that is not known);
    /// `kept` holds the rule at `index`.
    fn place(&self, kept: &[Rule]) -> String {
        let text = kept.get(self.index).map(|r| &*r.origin.text);
        match (self.rule_id_at, text) {
            (Some(at), Some(text)) => {
                format!("{}:{}", self.path.display(), line_col(text, at).0)
            }
            _ => self.path.display().to_string(),
        }
    }
}

/// A duplicate rule_id error at the rule_id of `loaded`.
fn duplicate_error(loaded: &Loaded, path: &Path, msg: String) -> LoadError {
    let span = loaded.rule_id_span.clone().unwrap_or(0..0);
    LoadError::at(
        path,
        &loaded.rule.origin.text,
        span,
        LoadErrorKind::DuplicateRuleId,
        msg,
    )
}

/// Expands `p` into files. A path that cannot be looked at is an error
/// here, before its extension is judged: `talon check /nonexistent` must
/// say it does not exist, not that `.` is an unknown format.
fn collect(p: &Path, files: &mut Vec<Found>) {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => {
            let msg = if e.kind() == std::io::ErrorKind::NotFound {
                "no such file or directory".to_string()
            } else {
                format!("cannot read: {e}")
            };
            files.push(Found::Error(LoadError::file(p, LoadErrorKind::Io, msg)));
            return;
        }
    };
    if !meta.is_dir() {
        files.push(Found::File {
            path: p.to_path_buf(),
            explicit: true,
            candidate: true,
        });
        return;
    }
    let walk = walkdir::WalkDir::new(p)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let candidate = RuleFormat::from_path(e.path()).is_some();
                files.push(Found::File {
                    path: e.into_path(),
                    explicit: false,
                    candidate,
                });
            }
            Ok(e) if e.file_type().is_dir() => {}
            // Passed over without a word, a `.toml` FIFO was a rule file
            // that vanished from the count.
            Ok(e) => {
                let kind = special_kind(&e.file_type());
                let why = format!("not a regular file ({kind}); not read");
                files.push(Found::Passed(e.into_path(), why));
            }
            Err(e) => {
                let path = e.path().unwrap_or(p).to_path_buf();
                // As in an event folder: a link back to a folder above is
                // not followed, and is no error. It was a load error, so
                // `check` failed and `hunt` counted a rule with errors
                // that did not exist.
                if let Some(above) = e.loop_ancestor() {
                    let why = format!(
                        "symbolic link loop (points back to {}); not followed",
                        above.display()
                    );
                    files.push(Found::Passed(path, why));
                    continue;
                }
                // A link whose target is gone (a file moved away) holds
                // nothing to load, as in an event folder: named, not an
                // error with walkdir's words.
                if let Some(note) = talon_event::read::broken_link_note(&path, e.io_error()) {
                    files.push(Found::Passed(path, note));
                    continue;
                }
                files.push(Found::Error(LoadError::file(
                    &path,
                    LoadErrorKind::Io,
                    e.to_string(),
                )));
            }
        }
    }
}

/// What kind of special file a walk met.
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "fifo"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

/// Loads files on a few threads (TOML parsing dominates a corpus load);
/// results come back in input order so reports are deterministic.
fn load_files(files: &[(PathBuf, bool)]) -> Vec<FileOutcome> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads <= 1 || files.len() < 64 {
        return files.iter().map(|(p, _)| load_file(p)).collect();
    }
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|(p, _)| load_file(p)).collect::<Vec<_>>()))
            .collect();
        let mut all = Vec::with_capacity(files.len());
        for (h, part) in handles.into_iter().zip(files.chunks(chunk)) {
            match h.join() {
                Ok(v) => all.extend(v),
                // A loader panic is a bug; still report every file of the
                // chunk instead of losing them silently.
                Err(_) => all.extend(part.iter().map(|(p, _)| FileOutcome {
                    errors: vec![LoadError::file(
                        p,
                        LoadErrorKind::Io,
                        "internal error while loading this file",
                    )],
                    ..FileOutcome::default()
                })),
            }
        }
        all
    })
}

fn load_file(path: &Path) -> FileOutcome {
    let Some(format) = RuleFormat::from_path(path) else {
        let msg =
            "unknown rule file format (expected .toml, .ndjson, .jsonl, .json, .md or .markdown)";
        return FileOutcome {
            errors: vec![LoadError::file(path, LoadErrorKind::UnknownFormat, msg)],
            ..Default::default()
        };
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let msg = format!("cannot read: {e}");
            return FileOutcome {
                errors: vec![LoadError::file(path, LoadErrorKind::Io, msg)],
                ..Default::default()
            };
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => load_text(Arc::from(text), path, format),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes());
            let (line, column) = line_col(&lossy, good);
            let err = LoadError {
                path: path.to_path_buf(),
                line,
                column,
                message: "file is not valid UTF-8".to_string(),
                snippet: None,
                kind: LoadErrorKind::Encoding,
                span: Some(good..good + 1),
            };
            FileOutcome {
                errors: vec![err],
                ..Default::default()
            }
        }
    }
}

pub(crate) fn load_text(text: Arc<str>, path: &Path, format: RuleFormat) -> FileOutcome {
    match format {
        RuleFormat::Toml => crate::toml::load_toml(text, path),
        RuleFormat::KibanaNdjson => crate::kibana::load_kibana(text, path),
        RuleFormat::Markdown => crate::markdown::load_markdown(text, path),
    }
}
