//! `talon.toml` for hunting: rule exceptions and silencing, plus the flags
//! that add to them, assembled into one [`ExceptionSet`].
//!
//! ```toml
//! [silence]
//! rules = ["5a138e2e-aec3-4240-9843-56825d0bc569", "Suspicious * Activity"]
//! hosts = ["build-*.example.com"]
//!
//! [[exceptions]]
//! rule_id = "5a138e2e-aec3-4240-9843-56825d0bc569"   # or rule_name = "glob"
//! name = "sysctl from our provisioning"
//! entries = [
//!   { field = "process.parent.name", operator = "included", type = "match_any", value = ["ansible", "salt-minion"] },
//!   { field = "user.name", operator = "excluded", type = "match", value = "root" },
//! ]
//! ```
//!
//! Entries have Kibana's exception entry shape (see
//! `talon_engine::exceptions`); `operator` may also be written as the UI
//! words (`is`, `is not`, `is one of`, `exists`, `does not match`, ...).
//! `[stream]` belongs to `talon stream` and is ignored here; any other
//! section or key is a warning naming its line (a misspelled `[silenc]`
//! would otherwise silence nothing, without a word).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value as Json;
use talon_engine::exceptions::{parse_entries, ExceptionItem, ExceptionSet, RuleTarget};
use talon_rules::ExportedException;

use crate::cmd::common::{self, located};

/// Exception and silencing flags (hunt).
#[derive(Debug, Args, Default)]
pub struct ExceptionArgs {
    /// An exception-list export (Kibana NDJSON: lists and items); items
    /// apply to the rules whose `exceptions_list` names their list.
    #[arg(long = "exceptions", value_name = "FILE")]
    pub exceptions: Vec<PathBuf>,

    /// Items of a value list used by `list` entries, one value per line.
    #[arg(long = "value-list", value_name = "ID=FILE")]
    pub value_lists: Vec<String>,

    /// Silence a rule: its rule_id, or a name glob (`*`).
    #[arg(long = "silence-rule", value_name = "RULE")]
    pub silence_rules: Vec<String>,

    /// Silence events whose host.name matches this glob (`*`).
    #[arg(long = "silence-host", value_name = "GLOB")]
    pub silence_hosts: Vec<String>,

    /// talon.toml with [[exceptions]] and [silence] (default: ./talon.toml
    /// when it exists).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The config file to read: the one given, or `./talon.toml` if present.
fn config_path(given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = PathBuf::from("talon.toml");
            p.is_file().then_some(p)
        }
    }
}

/// The files these flags read: exception lists, value lists, the config
/// file (given, or `./talon.toml` when present).
pub fn input_files(args: &ExceptionArgs) -> Vec<PathBuf> {
    let mut files = args.exceptions.clone();
    files.extend(
        args.value_lists
            .iter()
            .filter_map(|spec| spec.split_once('='))
            .map(|(_, file)| PathBuf::from(file)),
    );
    files.extend(config_path(args.config.as_deref()));
    files
}

/// Adds the exception lists and items found among the rule files
/// (`LoadReport::exceptions`) to `set`; the problems of those it cannot
/// use, each as `file:line:col: message` with the line and a caret.
pub fn add_exported(set: &mut ExceptionSet, exported: &[ExportedException]) -> Vec<String> {
    let mut problems = Vec::new();
    for x in exported {
        let file = x.path.display().to_string();
        for e in set.add_export_object_at(&x.value, &file, &x.text, x.start) {
            problems.push(located(&file, &x.text, e.span, &e.message));
        }
    }
    problems
}

/// Everything the flags, the config file and the rule exports say about
/// exceptions. `exported` are the exception objects found among the rule
/// files (`LoadReport::exceptions`).
///
/// An exception that cannot be read is an error, wherever it is (a rule
/// export, an `--exceptions` file), as a broken mapping or value list is:
/// the exceptions left out would let through the alerts they were meant to
/// suppress.
pub fn exception_set(args: &ExceptionArgs, exported: &[ExportedException]) -> Result<ExceptionSet> {
    let mut set = ExceptionSet::default();
    let problems = add_exported(&mut set, exported);
    if !problems.is_empty() {
        // One error: `main` heads it with `talon: error: `, so every line
        // after the first is headed the same way here.
        bail!("{}", problems.join("\ntalon: error: "));
    }
    for path in &args.exceptions {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read exception list export {}", path.display()))?;
        let text = common::utf8_text(bytes, &path.display().to_string(), "exception list export")?;
        // Without a byte-order mark, so that columns count what an editor
        // shows (as for a mapping file).
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        let file = path.display().to_string();
        let before = set.lists().len() + set.item_count();
        let errors = set.add_export_ndjson(&text, &file);
        if errors.is_empty() && set.lists().len() + set.item_count() == before {
            eprintln!(
                "talon: warning: {file} holds no exception list or item (objects with `list_id`, \
                 and `item_id` for items): it excepts nothing"
            );
        }
        if !errors.is_empty() {
            let shown: Vec<String> = errors
                .iter()
                .map(|e| located(&file, &text, e.span.clone(), &e.message))
                .collect();
            // One error: `main` heads it with `talon: error: `, so every
            // line after the first is headed the same way here.
            bail!("{}", shown.join("\ntalon: error: "));
        }
    }
    let mut list_files: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for spec in &args.value_lists {
        let Some((id, file)) = spec
            .split_once('=')
            .filter(|(id, f)| !id.trim().is_empty() && !f.is_empty())
        else {
            bail!("--value-list wants ID=FILE, got `{spec}`");
        };
        // The later list replaced the earlier: its values were dropped
        // without a word, and the alerts they excepted went out.
        if let Some(first) = list_files.insert(id.trim(), file) {
            bail!(
                "--value-list {} is given twice ({first} and {file}): a list has one file; \
                 put all its values in one",
                id.trim()
            );
        }
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read value list {file}"))?;
        let text = common::utf8_text(bytes, file, "value list")?;
        set.add_value_list_text(id.trim(), &text);
    }
    if let Some(path) = config_path(args.config.as_deref()) {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = common::utf8_text(bytes, &path.display().to_string(), "config file")?;
        apply_config(&mut set, &text, &path.display().to_string())?;
    }
    for r in &args.silence_rules {
        set.silence_rule(r);
    }
    for h in &args.silence_hosts {
        set.silence_host(h);
    }
    Ok(set)
}

/// The sections of `talon.toml`: `[stream]` is `talon stream`'s, which
/// checks it itself.
const SECTIONS: &[&str] = &["exceptions", "silence", "stream"];
const SILENCE_KEYS: &[&str] = &["hosts", "rules"];
const EXCEPTION_KEYS: &[&str] = &["entries", "name", "os_types", "rule_id", "rule_name"];

/// A warning for each section, `[silence]` key or `[[exceptions]]` key that
/// talon does not know (`[silenc]`, `host = [...]`): ignored otherwise, a
/// misspelling would silently silence nothing. Each names the file, line
/// and key, with a caret under it.
fn unknown_config_keys(text: &str, file: &str) -> Vec<String> {
    use toml_edit::{ImDocument, Item, TableLike};
    let Ok(doc) = ImDocument::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut check = |table: &dyn TableLike, known: &[&str], what: &str, place: &str| {
        for k in talon_rules::unknown_table_keys(table, known) {
            // At the top, `[x]` is a section and `x = 1` a key.
            let what = match table.get(&k.key) {
                Some(Item::Table(_) | Item::ArrayOfTables(_)) | None => what,
                Some(_) if what == "section" => "top-level key",
                Some(_) => what,
            };
            let near = k
                .near
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            let msg = format!("unknown {what} `{}`{place}{near}; it is ignored", k.key);
            out.push(
                talon_eql::diag::render_span(file, text, k.span.start, k.span.end, &msg, None)
                    .replacen(": error: ", ": warning: ", 1)
                    .trim_end()
                    .to_string(),
            );
        }
    };
    let root = doc.as_table();
    check(root, SECTIONS, "section", "");
    if let Some(t) = root.get("silence").and_then(Item::as_table_like) {
        check(t, SILENCE_KEYS, "key", " in [silence]");
    }
    match root.get("exceptions") {
        Some(Item::ArrayOfTables(items)) => {
            for t in items.iter() {
                check(t, EXCEPTION_KEYS, "key", " in [[exceptions]]");
            }
        }
        Some(Item::Value(toml_edit::Value::Array(items))) => {
            for t in items.iter().filter_map(toml_edit::Value::as_inline_table) {
                check(t, EXCEPTION_KEYS, "key", " in [[exceptions]]");
            }
        }
        _ => {}
    }
    out
}

/// Adds a `talon.toml`'s `[silence]` and `[[exceptions]]` to the set.
pub fn apply_config(set: &mut ExceptionSet, text: &str, file: &str) -> Result<()> {
    let doc: toml::Table = match toml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            // Read as a rule file's TOML is: one line, at the place.
            let (span, message) = talon_rules::toml_syntax_error(text, e.span(), e.message());
            bail!("{}", located(file, text, span, &message))
        }
    };
    for w in unknown_config_keys(text, file) {
        eprintln!("{w}");
    }
    let doc =
        serde_json::to_value(doc).with_context(|| format!("{file}: unreadable TOML values"))?;
    if let Some(silence) = doc.get("silence") {
        for r in silence_strings(silence.get("rules"), text, file, "rules")? {
            set.silence_rule(&r);
        }
        for h in silence_strings(silence.get("hosts"), text, file, "hosts")? {
            set.silence_host(&h);
        }
    }
    let Some(items) = doc.get("exceptions") else {
        return Ok(());
    };
    let Some(items) = items.as_array() else {
        let message = "`exceptions` must be an array of tables ([[exceptions]])";
        bail!("{}", at_exception(text, file, None, message));
    };
    for (n, item) in items.iter().enumerate() {
        // Shown where item `n` is written (the value of `key`, else the
        // item), with a caret, as a `[silence]` value is.
        let error = |key: Option<&str>, message: &str| {
            let message = format!("[[exceptions]] #{}: {message}", n + 1);
            anyhow::anyhow!("{}", at_exception(text, file, Some((n, key)), &message))
        };
        for key in ["rule_id", "rule_name"] {
            if item.get(key).is_some_and(|v| !v.is_string()) {
                return Err(error(Some(key), &format!("{key} must be a string")));
            }
        }
        let target = match (
            item.get("rule_id").and_then(Json::as_str),
            item.get("rule_name").and_then(Json::as_str),
        ) {
            (Some(id), None) => RuleTarget::RuleId(id.to_string()),
            (None, Some(glob)) => RuleTarget::NameGlob(glob.to_string()),
            _ => return Err(error(None, "give exactly one of rule_id or rule_name")),
        };
        // Named after the file it is written in: `--config` may name any.
        let item_id = format!("{file}#{}", n + 1);
        let Some(entries) = item.get("entries").and_then(Json::as_array) else {
            let message = "`entries` must be an array of entry tables";
            return Err(error(Some("entries"), message));
        };
        let entries = parse_entries(entries, file, &item_id).map_err(|e| {
            let span = entry_span(text, n, entries, &e, file, &item_id);
            match span {
                Some(span) => anyhow::anyhow!("{}", located(file, text, span, &e.detail())),
                None => anyhow::anyhow!("{e}"),
            }
        })?;
        let os_types = strings(item.get("os_types"), file, "os_types")
            .map_err(|_| error(Some("os_types"), "`os_types` must be a list of strings"))?;
        let name = item
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or(&item_id)
            .to_string();
        set.add_rule_item(
            target,
            ExceptionItem {
                item_id,
                list_id: file.to_string(),
                namespace_type: "single".to_string(),
                name,
                entries,
                os_types,
            },
        );
    }
    Ok(())
}

fn strings(v: Option<&Json>, file: &str, what: &str) -> Result<Vec<String>> {
    match v {
        None => Ok(Vec::new()),
        Some(Json::Array(a)) => a
            .iter()
            .map(|s| match s.as_str() {
                Some(s) => Ok(s.to_string()),
                None => bail!("{file}: `{what}` must be a list of strings"),
            })
            .collect(),
        Some(_) => bail!("{file}: `{what}` must be a list of strings"),
    }
}

/// `message` where `[[exceptions]]` item `n` (from 0) is written: the
/// value of its `key` when given and written, else the item (its
/// `[[exceptions]]` header, or its inline table); with no item, the
/// `exceptions` key. Without a place (never, for a file that parsed),
/// `file: message`.
fn at_exception(
    text: &str,
    file: &str,
    item: Option<(usize, Option<&str>)>,
    message: &str,
) -> String {
    use toml_edit::{ImDocument, Item};
    let doc = ImDocument::parse(text).ok();
    let exceptions = doc.as_ref().and_then(|d| d.as_table().get("exceptions"));
    let span = match (exceptions, item) {
        (Some(all), None) => all.span(),
        (Some(all), Some((n, key))) => {
            talon_rules::toml_array_elements(all)
                .get(n)
                .and_then(|(span, table)| {
                    key.and_then(|k| table.and_then(|t| t.get(k)).and_then(Item::span))
                        .or_else(|| span.clone())
                })
        }
        (None, _) => None,
    };
    match span {
        Some(span) => located(file, text, span, message),
        None => format!("{file}: {message}"),
    }
}

/// Where the entry an error of item `n`'s `entries` is about is written:
/// the entry the error comes from (the first that fails, as
/// [`parse_entries`] stops there), at the `type` or `operator` value it
/// names when it names one; `entries` itself for an error of the whole
/// list (no entries at all).
fn entry_span(
    text: &str,
    n: usize,
    entries: &[Json],
    error: &talon_engine::exceptions::ExceptionError,
    file: &str,
    item_id: &str,
) -> Option<std::ops::Range<usize>> {
    use toml_edit::{ImDocument, Item};
    let doc = ImDocument::parse(text).ok()?;
    let (item_span, item) = talon_rules::toml_array_elements(doc.as_table().get("exceptions")?)
        .into_iter()
        .nth(n)?;
    let listed = item?.get("entries")?;
    let Some(failing) = entries
        .iter()
        .position(|e| parse_entries(std::slice::from_ref(e), file, item_id).is_err())
    else {
        return listed.span().or(item_span);
    };
    let (span, entry) = talon_rules::toml_array_elements(listed)
        .into_iter()
        .nth(failing)?;
    let named = error.value().and_then(|value| {
        ["type", "operator"]
            .into_iter()
            .filter_map(|k| entry?.get(k))
            .find(|v| v.as_str() == Some(value))
            .and_then(Item::span)
    });
    named.or(span)
}

/// As [`strings`], for a `[silence]` key: a wrong value is shown where it
/// is written, with a caret.
fn silence_strings(v: Option<&Json>, text: &str, file: &str, key: &str) -> Result<Vec<String>> {
    strings(v, file, &format!("silence.{key}")).map_err(|e| {
        use toml_edit::{ImDocument, Item};
        let span = ImDocument::parse(text).ok().and_then(|doc| {
            doc.as_table()
                .get("silence")
                .and_then(Item::as_table_like)
                .and_then(|t| t.get(key))
                .and_then(Item::span)
        });
        match span {
            Some(span) => anyhow::anyhow!(
                "{}",
                located(
                    file,
                    text,
                    span,
                    &format!("`silence.{key}` must be a list of strings")
                )
            ),
            None => e,
        }
    })
}
