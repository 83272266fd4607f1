//! Alert writers: JSON Lines for machines, CSV for spreadsheets, a table
//! for people at a terminal.
//!
//! Every writer is an [`AlertSink`]. A sink buffers, so what `write` has
//! accepted reaches the underlying writer at `finish` at the latest.
//! `finish` may be called on every exit path (it is idempotent), and a sink
//! dropped without `finish` still flushes, ignoring errors, so an early
//! return loses nothing that was written; only `finish` reports a failed
//! flush, so call it where the error can still be shown.

mod csv;
mod jsonl;
mod table;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use serde_json::Value;

use crate::alert::Alert;

pub use self::csv::{CsvSink, CSV_COLUMNS};
pub use self::jsonl::JsonLinesSink;
pub use self::table::{TableOptions, TableSink};

/// Somewhere alerts go.
pub trait AlertSink {
    /// Writes one alert (buffered).
    fn write(&mut self, alert: &Alert) -> io::Result<()>;

    /// Writes whatever the format needs at the end and flushes. Safe to
    /// call more than once.
    fn finish(&mut self) -> io::Result<()>;
}

/// The output formats talon writes alerts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// One compact JSON alert document per line (`_source` as Kibana
    /// indexes it).
    Jsonl,
    /// A fixed set of columns ([`CSV_COLUMNS`]) with a header row.
    Csv,
    /// A table sized to the terminal, with each alert's reason below it.
    Table,
}

impl OutputFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [OutputFormat; 3] =
        [OutputFormat::Jsonl, OutputFormat::Csv, OutputFormat::Table];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Csv => "csv",
            OutputFormat::Table => "table",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An output format name that is not one of [`OutputFormat::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format {0:?} (expected jsonl, csv or table)")]
pub struct UnknownFormat(pub String);

impl FromStr for OutputFormat {
    type Err = UnknownFormat;

    /// `jsonl` (also `ndjson`, `json`), `csv`, `table`; any case.
    fn from_str(s: &str) -> Result<OutputFormat, UnknownFormat> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" | "json" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            "table" => Ok(OutputFormat::Table),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// A sink of `format` on `writer`; a table takes its width and colour from
/// the environment ([`TableOptions::from_env`]).
pub fn sink_for(format: OutputFormat, writer: Box<dyn Write>) -> Box<dyn AlertSink> {
    sink_with(format, writer, TableOptions::from_env())
}

/// A sink of `format` on `writer`, with explicit table options.
pub fn sink_with(
    format: OutputFormat,
    writer: Box<dyn Write>,
    table: TableOptions,
) -> Box<dyn AlertSink> {
    match format {
        OutputFormat::Jsonl => Box::new(JsonLinesSink::new(writer)),
        OutputFormat::Csv => Box::new(CsvSink::new(writer)),
        OutputFormat::Table => Box::new(TableSink::new(writer, table)),
    }
}

/// A field as one line of text: strings as they are, several values joined
/// with `", "`, nothing for a missing field or null.
pub(crate) fn field_text(alert: &Alert, path: &str) -> String {
    match alert.get(path) {
        Some(value) => value_text(value),
        None => String::new(),
    }
}

/// Whether a CSV cell of `count` values, the first of them `first` when it
/// is a string, is written as a JSON array (`["a,b","c"]`) so that it
/// reads back: several values (joined, values holding commas could not be
/// told apart), or one string that starts with `[` (it would read as such
/// an array). Both CSV writers (alerts, `query`'s events) ask this.
pub fn csv_cell_is_list(count: usize, first: Option<&str>) -> bool {
    count > 1 || first.is_some_and(|s| s.starts_with('['))
}

/// The characters a spreadsheet takes a cell starting with as a formula
/// (OWASP's CSV injection list): `=`, `+`, `-`, `@`, tab and carriage
/// return.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell made safe to open in a spreadsheet, the OWASP way: one that
/// starts with a character of [`FORMULA_STARTS`] (`=cmd|' /C calc'!A0`,
/// `-2+3`, `@SUM(A1)`) is led by a single quote, so it is shown as text
/// and never evaluated. Only text goes through this: a number (a
/// negative risk score, `-5`) is written as it is, since it cannot be a
/// formula. Both CSV writers (alerts, `query`'s events) ask this.
pub fn csv_formula_guard(cell: String) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// A field as one CSV cell: as [`field_text`], or a JSON array when
/// [`csv_cell_is_list`] says so; text that a spreadsheet would run as a
/// formula is guarded ([`csv_formula_guard`]), a number is as it is.
pub(crate) fn csv_text(alert: &Alert, path: &str) -> String {
    let Some(value) = alert.get(path) else {
        return String::new();
    };
    let items = match value {
        Value::Array(items) => items.as_slice(),
        one => std::slice::from_ref(one),
    };
    if csv_cell_is_list(items.len(), items.first().and_then(Value::as_str)) {
        Value::Array(items.to_vec()).to_string()
    } else if items.first().is_some_and(Value::is_number) {
        value_text(value)
    } else {
        csv_formula_guard(value_text(value))
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().map(value_text).collect();
            texts.join(", ")
        }
        other => other.to_string(),
    }
}

/// Where the alert's event was read from, as `file:line`; empty when the
/// event did not come from a file.
pub(crate) fn location_text(alert: &Alert) -> String {
    match alert.origin() {
        Some(origin) if !origin.file.is_empty() => origin.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_reads_back_as_the_values_it_was_written_from() {
        let alert = |v: Value| {
            let mut doc = serde_json::Map::new();
            doc.insert("f".to_string(), v);
            Alert::new(doc, None)
        };
        let cell = |v: Value| csv_text(&alert(v), "f");
        assert_eq!(cell(serde_json::json!("plain")), "plain");
        assert_eq!(cell(serde_json::json!(["a,b", "c"])), r#"["a,b","c"]"#);
        assert_eq!(cell(serde_json::json!(["one"])), "one");
        // A string that starts with `[` would read as a list: a list of one.
        assert_eq!(cell(serde_json::json!("[x]")), r#"["[x]"]"#);
        assert_eq!(cell(serde_json::json!(["[x]"])), r#"["[x]"]"#);
        // Text a spreadsheet would run is led by a quote; numbers are not.
        assert_eq!(cell(serde_json::json!("=1+1")), "'=1+1");
        assert_eq!(cell(serde_json::json!(["-1"])), "'-1");
        assert_eq!(cell(serde_json::json!(-5)), "-5");
        assert_eq!(cell(serde_json::json!([-0.5])), "-0.5");
        assert_eq!(cell(serde_json::json!(["=a", "b"])), r#"["=a","b"]"#);
    }

    #[test]
    fn the_formula_guard_quotes_every_owasp_start_and_nothing_else() {
        for start in ['=', '+', '-', '@', '\t', '\r'] {
            let cell = format!("{start}x");
            assert_eq!(csv_formula_guard(cell.clone()), format!("'{cell}"));
        }
        for plain in ["", "x=1", " =1", "'=1", "2024-01-01"] {
            assert_eq!(csv_formula_guard(plain.to_owned()), plain);
        }
    }

    #[test]
    fn format_names_round_trip() {
        for format in OutputFormat::ALL {
            assert_eq!(format.name().parse::<OutputFormat>(), Ok(format));
        }
        assert_eq!("NDJSON".parse::<OutputFormat>(), Ok(OutputFormat::Jsonl));
        let err = "xml".parse::<OutputFormat>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown output format \"xml\" (expected jsonl, csv or table)")
        );
    }
}
