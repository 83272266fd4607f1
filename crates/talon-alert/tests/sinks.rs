//! The writers: golden output of each format for two alerts (time pinned),
//! CSV quoting, table truncation, and flushing on every exit path.
//!
//! Golden files live in `tests/golden/`; after a deliberate change to the
//! alert shape, regenerate them with `TALON_UPDATE_GOLDEN=1 cargo test -p
//! talon-alert --test sinks` and review the diff.

mod common;

use std::io::Write;
use std::path::PathBuf;

use common::*;
use serde_json::json;
use talon_alert::write::{CsvSink, JsonLinesSink, TableSink, CSV_COLUMNS};
use talon_alert::{build_event_alert, sink_with, Alert, AlertSink, OutputFormat, TableOptions};

fn two_alerts() -> Vec<Alert> {
    let rule = seed_rule();
    [sysctl_event(), echo_event()]
        .iter()
        .map(|e| match build_event_alert(&rule, e, &ctx()) {
            Ok(a) => a,
            Err(err) => panic!("building an alert failed: {err}"),
        })
        .collect()
}

/// Runs `alerts` through a sink writing into a buffer.
fn render<S: AlertSink>(sink: S, alerts: &[Alert]) -> Result<(), std::io::Error> {
    let mut sink = sink;
    for alert in alerts {
        sink.write(alert)?;
    }
    sink.finish()
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| format!("<not UTF-8: {e}>"))
}

fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("TALON_UPDATE_GOLDEN").is_some() {
        if let Err(e) = std::fs::write(&path, actual) {
            panic!("cannot write {}: {e}", path.display());
        }
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

#[test]
fn jsonl_golden() {
    let mut out = Vec::new();
    let result = render(JsonLinesSink::new(&mut out), &two_alerts());
    assert!(result.is_ok());
    let out = text(out);
    assert_eq!(out.lines().count(), 2);
    for line in out.lines() {
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(parsed.is_ok_and(|v| v.is_object()));
    }
    assert_golden("two_alerts.jsonl", &out);
}

#[test]
fn csv_golden() {
    let mut out = Vec::new();
    assert!(render(CsvSink::new(&mut out), &two_alerts()).is_ok());
    assert_golden("two_alerts.csv", &text(out));
}

#[test]
fn table_golden() {
    let mut out = Vec::new();
    let options = TableOptions {
        width: 120,
        color: false,
    };
    assert!(render(TableSink::new(&mut out, options), &two_alerts()).is_ok());
    assert_golden("two_alerts.table.txt", &text(out));
}

#[test]
fn csv_header_is_the_documented_column_set_even_without_alerts() {
    let mut out = Vec::new();
    assert!(render(CsvSink::new(&mut out), &[]).is_ok());
    assert_eq!(text(out), format!("{}\n", CSV_COLUMNS.join(",")));
    assert_eq!(CSV_COLUMNS[0], "@timestamp");
    assert_eq!(CSV_COLUMNS[13], "kibana.alert.group.id");
    assert_eq!(CSV_COLUMNS[15], "location");
}

#[test]
fn csv_quotes_commas_quotes_and_line_breaks_and_writes_several_values_as_json() {
    let mut doc = echo_json();
    doc["process"]["command_line"] = json!("sh -c \"a,b\"\nnext");
    doc["process"]["name"] = json!("sh");
    doc["host"]["name"] = json!("h,1");
    // Several values are a JSON array, so one holding a comma reads back
    // (joined with ", " they could not be told from three values).
    doc["user"] = json!({"name": ["root", "ad,min"]});
    let e = event(&doc, None, Some("q-1"), 42);
    let alert = build_event_alert(&seed_rule(), &e, &ctx());
    let mut out = Vec::new();
    let alerts: Vec<Alert> = alert.into_iter().collect();
    assert!(render(CsvSink::new(&mut out), &alerts).is_ok());

    let out = text(out);
    let row = out.split_once('\n').map(|(_, row)| row).unwrap_or_default();
    let uuid = alerts
        .first()
        .map(|a| a.uuid().to_owned())
        .unwrap_or_default();
    let expected = format!(
        "{NOW},IPv4/IPv6 Forwarding Activity,{RULE_ID},low,21,\"h,1\",\"[\"\"root\"\",\"\"ad,min\"\"]\",sh,\
         \"sh -c \"\"a,b\"\"\nnext\",python3,2025-02-03T04:02:03.456Z,\
         \"process event with process sh, parent process python3, by root, ad,min on h,1 \
         created low alert IPv4/IPv6 Forwarding Activity.\",{uuid},,,events.ndjson:42\n"
    );
    assert_eq!(row, expected);
}

#[test]
fn csv_guards_text_cells_a_spreadsheet_would_run_but_not_numbers() {
    let mut doc = echo_json();
    doc["process"]["command_line"] = json!("=cmd|' /C calc'!A0");
    doc["process"]["name"] = json!("+sh");
    doc["process"]["parent"]["name"] = json!("\tpython3");
    doc["host"]["name"] = json!("@SUM(A1)");
    doc["user"] = json!({"name": "-2+3"});
    let e = event(&doc, None, Some("q-1"), 42);
    let mut rule = seed_rule();
    // A number is never a formula: a negative one is written as it is.
    rule.risk_score = -5;
    let alerts: Vec<Alert> = build_event_alert(&rule, &e, &ctx()).into_iter().collect();
    let mut out = Vec::new();
    assert!(render(CsvSink::new(&mut out), &alerts).is_ok());

    let out = text(out);
    let row = out.split_once('\n').map(|(_, row)| row).unwrap_or_default();
    let uuid = alerts
        .first()
        .map(|a| a.uuid().to_owned())
        .unwrap_or_default();
    let expected = format!(
        "{NOW},IPv4/IPv6 Forwarding Activity,{RULE_ID},low,-5,'@SUM(A1),'-2+3,'+sh,\
         '=cmd|' /C calc'!A0,'\tpython3,2025-02-03T04:02:03.456Z,\
         \"process event with process +sh, parent process \tpython3, by -2+3 on @SUM(A1) \
         created low alert IPv4/IPv6 Forwarding Activity.\",{uuid},,,events.ndjson:42\n"
    );
    assert_eq!(row, expected);
}

#[test]
fn a_narrow_table_truncates_every_column_to_fit() {
    let mut out = Vec::new();
    let options = TableOptions {
        width: 80,
        color: false,
    };
    assert!(render(TableSink::new(&mut out, options), &two_alerts()).is_ok());
    let out = text(out);
    let expected = "\
TIME                  SEVERITY  RULE             HOST      USER    COMMAND
2025-02-03T04:01:02Z  low       IPv4/IPv6 Forw…  web-01    root    sysctl -w ne…
  process event with process sysctl, parent process bash, by root on web-01 cre…
2025-02-03T04:02:03Z  low       IPv4/IPv6 Forw…  db-02     admin   bash -c \"ech…
  process event with process bash, parent process python3, by admin on db-02 cr…
";
    assert_eq!(out, expected);
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
}

#[test]
fn table_colour_marks_only_the_severity() {
    let mut out = Vec::new();
    let options = TableOptions {
        width: 120,
        color: true,
    };
    assert!(render(TableSink::new(&mut out, options), &two_alerts()[..1]).is_ok());
    let out = text(out);
    let row = out.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with("2025-02-03T04:01:02Z  \x1b[32mlow\x1b[0m       IPv4"),
        "{row:?}"
    );
    assert_eq!(out.matches('\x1b').count(), 2);
}

#[test]
fn control_characters_cannot_reach_the_terminal() {
    let mut doc = echo_json();
    doc["process"]["command_line"] = json!("evil\x1b]0;pwned\x07\ncmd");
    let e = event(&doc, None, Some("esc-1"), 1);
    let alerts: Vec<Alert> = build_event_alert(&seed_rule(), &e, &ctx())
        .into_iter()
        .collect();
    let mut out = Vec::new();
    assert!(render(TableSink::new(&mut out, TableOptions::default()), &alerts).is_ok());
    let out = text(out);
    assert!(!out.contains('\x1b') && !out.contains('\x07'));
    assert!(out.contains("evil ]0;pwned  cmd"), "{out}");
}

#[test]
fn a_sink_dropped_without_finish_still_flushes() {
    let alerts = two_alerts();
    let mut out = Vec::new();
    {
        let mut sink = JsonLinesSink::new(&mut out);
        assert!(sink.write(&alerts[0]).is_ok());
    }
    assert_eq!(text(out).lines().count(), 1);

    let mut out = Vec::new();
    {
        let mut sink = CsvSink::new(&mut out);
        assert!(sink.write(&alerts[0]).is_ok());
    }
    assert_eq!(text(out).lines().count(), 2);
}

#[test]
fn finish_is_safe_to_call_on_every_exit_path() {
    let alerts = two_alerts();
    for format in OutputFormat::ALL {
        let buffer = SharedBuffer::default();
        let mut sink = sink_with(format, Box::new(buffer.clone()), TableOptions::default());
        assert!(sink.write(&alerts[0]).is_ok());
        assert!(sink.finish().is_ok());
        let once = buffer.contents();
        assert!(sink.finish().is_ok());
        drop(sink);
        assert_eq!(
            buffer.contents(),
            once,
            "{format}: a second finish or the drop wrote more"
        );
        assert!(!once.is_empty(), "{format}: nothing was written");
    }
}

/// A writer whose bytes stay readable after the sink owning it is gone.
#[derive(Clone, Default)]
struct SharedBuffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl SharedBuffer {
    fn contents(&self) -> String {
        text(self.0.borrow().clone())
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
