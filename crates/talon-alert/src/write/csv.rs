//! CSV: a fixed, documented column set, one row per alert, with a header
//! row even when there are no alerts (so a script can always read it).
//!
//! Quoting is the `csv` crate's RFC 4180 quoting: a field holding a comma,
//! a quote or a line break is quoted, and quotes inside are doubled. Rows
//! end with `\n`. A text cell a spreadsheet would run as a formula (it
//! starts with `=`, `+`, `-`, `@`, tab or carriage return) is led by `'`;
//! a number is written as it is (see [`csv_formula_guard`]).

use std::io::{self, Write};

use crate::alert::Alert;
use crate::fields;
use crate::write::{csv_formula_guard, csv_text, location_text, AlertSink};

/// The CSV columns, in order. All but the last are alert fields by their
/// dotted name; `location` is `file:line` of the event the alert came
/// from (the first event of a sequence shell). A sequence's alerts share
/// `kibana.alert.group.id`, and its building blocks (not its shell) have
/// a `kibana.alert.group.index`.
pub const CSV_COLUMNS: [&str; 16] = [
    fields::TIMESTAMP,
    fields::ALERT_RULE_NAME,
    fields::ALERT_RULE_RULE_ID,
    fields::ALERT_SEVERITY,
    fields::ALERT_RISK_SCORE,
    "host.name",
    "user.name",
    "process.name",
    "process.command_line",
    "process.parent.name",
    fields::ALERT_ORIGINAL_TIME,
    fields::ALERT_REASON,
    fields::ALERT_UUID,
    fields::ALERT_GROUP_ID,
    fields::ALERT_GROUP_INDEX,
    "location",
];

/// Writes alerts as CSV rows of [`CSV_COLUMNS`].
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    wrote_header: bool,
}

impl<W: Write> CsvSink<W> {
    pub fn new(writer: W) -> CsvSink<W> {
        let out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(writer);
        CsvSink {
            out,
            wrote_header: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.out.write_record(CSV_COLUMNS).map_err(io_error)?;
            self.wrote_header = true;
        }
        Ok(())
    }
}

/// The I/O error under a CSV writer's error, as it is: the csv crate's own
/// conversion wraps it as `ErrorKind::Other`, which hides a broken pipe
/// (`| head`) from the caller that must tell it from a failed write.
fn io_error(e: csv::Error) -> io::Error {
    if !e.is_io_error() {
        return io::Error::other(e);
    }
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl<W: Write> AlertSink for CsvSink<W> {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        self.header()?;
        let last = CSV_COLUMNS.len() - 1;
        let mut row: Vec<String> = CSV_COLUMNS[..last]
            .iter()
            .map(|c| csv_text(alert, c))
            .collect();
        row.push(csv_formula_guard(location_text(alert)));
        self.out.write_record(&row).map_err(io_error)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

impl<W: Write> Drop for CsvSink<W> {
    /// Flushes rows `finish` was not called for, ignoring errors.
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}
