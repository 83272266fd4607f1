//! A table for a terminal: one line per alert (time, severity, rule, host,
//! user, process or command line) and the alert's reason on the line below.
//!
//! Column widths are fixed when the sink is made, from the terminal width
//! (`$COLUMNS`, else 120), so the table streams: an alert is printed the
//! moment it is written, never held back to measure later rows. Text wider
//! than its column is cut and ends with `…`; widths are display widths, so
//! wide characters line up. Control characters in event data (line breaks,
//! tabs, terminal escape sequences) are printed as spaces: a command line
//! can neither break the layout nor drive the terminal.
//!
//! Colour marks the severity and is off when `NO_COLOR` is set or standard
//! output is not a terminal.

use std::io::{self, BufWriter, IsTerminal, Write};

use talon_event::terminal::{display_width, fit};

use crate::alert::Alert;
use crate::fields;
use crate::write::{field_text, AlertSink};

/// Terminal width when `$COLUMNS` does not say.
pub const DEFAULT_WIDTH: usize = 120;

const GAP: &str = "  ";
const TIME_WIDTH: usize = 20;
const SEVERITY_WIDTH: usize = 8;
/// The last column shows the command line, or the process name when the
/// event has no command line.
const HEADERS: [&str; 6] = ["TIME", "SEVERITY", "RULE", "HOST", "USER", "COMMAND"];

/// The flexible columns (rule, host, user, process): their share of the
/// width left after time and severity, and the narrowest they get.
const FLEX_WEIGHTS: [usize; 4] = [8, 4, 3, 7];
const FLEX_MINIMUMS: [usize; 4] = [10, 8, 6, 10];

/// How a table is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableOptions {
    /// Total line width in terminal columns.
    pub width: usize,
    /// Whether to colour severities with ANSI escapes.
    pub color: bool,
}

impl TableOptions {
    /// Width from `$COLUMNS`, else the terminal on standard output, else
    /// [`DEFAULT_WIDTH`]; colour unless
    /// `NO_COLOR` is set, `TERM` is `dumb`, or standard output is not a
    /// terminal.
    pub fn from_env() -> TableOptions {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .or_else(|| {
                terminal_size::terminal_size_of(io::stdout()).map(|(w, _)| usize::from(w.0))
            });
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let term = std::env::var_os("TERM");
        TableOptions {
            width: width.filter(|w| *w > 0).unwrap_or(DEFAULT_WIDTH),
            color: !no_color && !is_dumb(term.as_deref()) && io::stdout().is_terminal(),
        }
    }
}

/// Whether `TERM` names a terminal that shows escape codes as text
/// (`dumb`: Emacs shells, some CI logs).
fn is_dumb(term: Option<&std::ffi::OsStr>) -> bool {
    term.is_some_and(|t| t == "dumb")
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            width: DEFAULT_WIDTH,
            color: false,
        }
    }
}

/// Writes alerts as a terminal table.
pub struct TableSink<W: Write> {
    out: BufWriter<W>,
    widths: [usize; 6],
    options: TableOptions,
    wrote_header: bool,
}

impl<W: Write> TableSink<W> {
    pub fn new(writer: W, options: TableOptions) -> TableSink<W> {
        TableSink {
            out: BufWriter::new(writer),
            widths: column_widths(options.width),
            options,
            wrote_header: false,
        }
    }

    fn line(&mut self, cells: [String; 6], severity: Option<&str>) -> io::Result<()> {
        let mut line = String::with_capacity(self.options.width + 16);
        let last = cells.len() - 1;
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            let text = fit(cell, self.widths[i]);
            let padding = if i == last {
                0
            } else {
                self.widths[i].saturating_sub(display_width(&text))
            };
            match (i, severity.and_then(|s| self.colour(s))) {
                (1, Some(code)) => line.push_str(&format!("\x1b[{code}m{text}\x1b[0m")),
                _ => line.push_str(&text),
            }
            line.push_str(&" ".repeat(padding));
        }
        writeln!(self.out, "{}", line.trim_end())
    }

    fn colour(&self, severity: &str) -> Option<&'static str> {
        if !self.options.color {
            return None;
        }
        match severity {
            "low" => Some("32"),
            "medium" => Some("33"),
            "high" => Some("31"),
            "critical" => Some("1;31"),
            _ => None,
        }
    }
}

impl<W: Write> AlertSink for TableSink<W> {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        if !self.wrote_header {
            let header = HEADERS.map(str::to_owned);
            self.line(header, None)?;
            self.wrote_header = true;
        }
        let severity = field_text(alert, fields::ALERT_SEVERITY);
        let cells = [
            short_time(&field_text(alert, fields::ALERT_ORIGINAL_TIME)),
            or_dash(severity.clone()),
            rule_text(alert),
            or_dash(field_text(alert, "host.name")),
            or_dash(field_text(alert, "user.name")),
            or_dash(process_text(alert)),
        ];
        self.line(cells, Some(&severity))?;
        let reason = field_text(alert, fields::ALERT_REASON);
        let room = self.options.width.saturating_sub(GAP.len()).max(10);
        writeln!(self.out, "{GAP}{}", fit(&reason, room).trim_end())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> Drop for TableSink<W> {
    /// Flushes rows `finish` was not called for, ignoring errors.
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

/// The rule cell: the rule's name, marked in front (where a narrow column
/// does not cut it) on a sequence's or sample's alerts, so that the shell
/// (`[seq]`, `[sample]`) and each building block (`#1`, `#2`, … in order)
/// tell apart from one another and from event alerts.
fn rule_text(alert: &Alert) -> String {
    let name = or_dash(field_text(alert, fields::ALERT_RULE_NAME));
    if alert.get(fields::ALERT_GROUP_ID).is_none() {
        return name;
    }
    match alert
        .get(fields::ALERT_GROUP_INDEX)
        .and_then(serde_json::Value::as_u64)
    {
        Some(i) => format!("#{} {name}", i + 1),
        None if is_sample(alert) => format!("[sample] {name}"),
        None => format!("[seq] {name}"),
    }
}

/// Whether the alert's rule is a sample query (its alerts are grouped as
/// a sequence's are).
fn is_sample(alert: &Alert) -> bool {
    alert
        .get_str("kibana.alert.rule.parameters.query")
        .and_then(talon_rules::joined_query_form)
        == Some("sample")
}

/// Widths of the six columns for a line of `width` terminal columns.
fn column_widths(width: usize) -> [usize; 6] {
    let fixed = TIME_WIDTH + SEVERITY_WIDTH + GAP.len() * (HEADERS.len() - 1);
    let flex = width.saturating_sub(fixed);
    let total: usize = FLEX_WEIGHTS.iter().sum();
    let mut shares = [0usize; 4];
    for i in 0..4 {
        shares[i] = (flex * FLEX_WEIGHTS[i] / total).max(FLEX_MINIMUMS[i]);
    }
    // Rounding leftovers go to the process column, which needs them most;
    // what the minimums added beyond the line is taken back from the
    // process, then the rule column, as far as their minimums allow.
    let used: usize = shares.iter().sum();
    if used < flex {
        shares[3] += flex - used;
    }
    let mut excess = shares.iter().sum::<usize>().saturating_sub(flex);
    for i in [3, 0] {
        let give = excess.min(shares[i] - FLEX_MINIMUMS[i]);
        shares[i] -= give;
        excess -= give;
    }
    [
        TIME_WIDTH,
        SEVERITY_WIDTH,
        shares[0],
        shares[1],
        shares[2],
        shares[3],
    ]
}

/// The command line when there is one, else the process name.
fn process_text(alert: &Alert) -> String {
    let command_line = field_text(alert, "process.command_line");
    if !command_line.is_empty() {
        return command_line;
    }
    let name = field_text(alert, "process.name");
    if !name.is_empty() {
        return name;
    }
    field_text(alert, "process.executable")
}

/// `2024-05-01T10:00:00.123Z` as `2024-05-01T10:00:00Z`: the milliseconds
/// do not help a reader and cost a column.
fn short_time(iso: &str) -> String {
    match (iso.find('.'), iso.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &iso[..dot]),
        _ => or_dash(iso.to_owned()),
    }
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_fill_the_line_and_keep_minimums() {
        let w = column_widths(120);
        assert_eq!(w.iter().sum::<usize>() + 10, 120);
        assert_eq!(w, [20, 8, 29, 14, 11, 28]);
        assert_eq!(column_widths(80), [20, 8, 15, 8, 6, 13]);
        assert_eq!(column_widths(75), [20, 8, 13, 8, 6, 10]);
        assert_eq!(column_widths(72), [20, 8, 10, 8, 6, 10]);
        assert_eq!(column_widths(40), [20, 8, 10, 8, 6, 10]);
    }

    #[test]
    fn a_dumb_terminal_gets_no_colour() {
        assert!(is_dumb(Some(std::ffi::OsStr::new("dumb"))));
        assert!(!is_dumb(Some(std::ffi::OsStr::new("xterm-256color"))));
        assert!(!is_dumb(None));
    }
}
