//! osquery `process_events`: event, batch and snapshot result logs become
//! exec events, one per row; the parent (only a pid in osquery) is filled
//! from its own row; the seed rule fires.
//!
//! No public osquery sample exists (see the corpus SOURCE.md): the logs
//! below are written from osquery's documented `process_events` schema and
//! its filesystem logger's three result formats.

mod common;

use common::{assert_fires, run_text, strs};
use talon_event::Fields;
use talon_sources::{IgnoreReason, Source};

fn row(pid: u32, parent: u32, path: &str, cmdline: &str, time: u64, syscall: &str) -> String {
    format!(
        r#"{{"atime":"1717000000","auid":"1000","btime":"0","cmdline":"{cmdline}","cmdline_size":"{}","ctime":"1717000000","cwd":"\"/root\"","egid":"0","eid":"{}","env":"","env_count":"12","env_size":"420","euid":"0","fsgid":"0","fsuid":"0","gid":"0","mode":"0100755","mtime":"1717000000","overflows":"","owner_gid":"0","owner_uid":"0","parent":"{parent}","path":"{path}","pid":"{pid}","sgid":"0","status":"0","suid":"0","syscall":"{syscall}","time":"{time}","uid":"0","uptime":"90210"}}"#,
        cmdline.len(),
        88000 + pid
    )
}

const HEAD: &str = r#""hostIdentifier":"web-01","calendarTime":"Mon Jun 10 16:00:10 2024 UTC","unixTime":1718035210,"epoch":0,"counter":12,"numerics":false,"decorations":{"host_uuid":"4c4c4544-0035-5910-8051-b8c04f4a4e31","hostname":"web-01"}"#;

fn bash() -> String {
    row(4100, 4001, "/usr/bin/bash", "bash", 1718035200, "execve")
}

fn sysctl() -> String {
    row(
        4242,
        4100,
        "/usr/sbin/sysctl",
        "sysctl -w net.ipv4.ip_forward=1",
        1718035207,
        "execve",
    )
}

/// Event format: one row per line.
fn event_format() -> String {
    let line = |r: String| {
        format!(
            r#"{{"name":"pack_process-monitoring_process_events",{HEAD},"columns":{r},"action":"added"}}"#
        )
    };
    format!("{}\n{}\n", line(bash()), line(sysctl()))
}

fn check_sysctl(e: &talon_event::Event) {
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(e.first_str("@timestamp"), Some("2024-06-10T16:00:07.000Z"));
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(e.first_str("event.module"), Some("osquery"));
    assert_eq!(e.first_str("host.name"), Some("web-01"));
    assert_eq!(
        e.first_str("host.id"),
        Some("4c4c4544-0035-5910-8051-b8c04f4a4e31")
    );
    assert_eq!(e.first_str("process.executable"), Some("/usr/sbin/sysctl"));
    assert_eq!(e.first_str("process.name"), Some("sysctl"));
    assert_eq!(
        strs(e, "process.args"),
        ["sysctl", "-w", "net.ipv4.ip_forward=1"]
    );
    assert_eq!(strs(e, "process.args_count"), ["3"]);
    assert_eq!(
        e.first_str("process.command_line"),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );
    assert_eq!(e.first_str("process.working_directory"), Some("/root"));
    assert_eq!(strs(e, "process.pid"), ["4242"]);
    assert_eq!(strs(e, "process.parent.pid"), ["4100"]);
    assert_eq!(e.first_str("user.id"), Some("0"));
    assert_eq!(e.first_str("user.audit.id"), Some("1000"));
    assert_eq!(
        e.first_str("osquery.query_name"),
        Some("pack_process-monitoring_process_events")
    );
    // osquery names only the parent's pid: the rest is from bash's row.
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(strs(e, "process.parent.args"), ["bash"]);
    assert_eq!(strs(e, "talon.enriched").len(), 5);
    assert_fires(e, true);
}

#[test]
fn event_format_rows_are_exec_events() {
    let run = run_text(&event_format(), None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (2, 2));
    check_sysctl(run.named("sysctl")[0]);
}

#[test]
fn batch_and_snapshot_formats_count_one_record_per_row() {
    let batch = format!(
        r#"{{"name":"process_events",{HEAD},"diffResults":{{"added":[{},{},{}],"removed":[{}]}}}}"#,
        bash(),
        row(4243, 4100, "/usr/bin/bash", "bash", 1718035206, "fork"),
        sysctl(),
        row(3999, 1, "/usr/bin/old", "old", 1718035100, "execve"),
    );
    let snapshot = format!(
        r#"{{"snapshot":[{},{}],"action":"snapshot","name":"process_events",{HEAD}}}"#,
        bash(),
        sysctl()
    );
    let other = format!(
        r#"{{"name":"pack_it_listening_ports",{HEAD},"columns":{{"pid":"812","port":"22","address":"0.0.0.0"}},"action":"added"}}"#
    );
    let text = format!("{batch}\n{snapshot}\n{other}\n");
    let run = run_text(&text, Some(Source::Osquery));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.stats.records, 4 + 2 + 1, "rows, not documents");
    assert_eq!(run.stats.events, 4);
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotExec), 1);
    assert_eq!(
        run.stats.ignored_kinds.get("osquery syscall fork"),
        Some(&1)
    );
    assert_eq!(run.stats.ignored_kinds.get("osquery removed row"), Some(&1));
    assert_eq!(
        run.stats
            .ignored_kinds
            .get("osquery pack_it_listening_ports"),
        Some(&1)
    );
    let sysctls = run.named("sysctl");
    assert_eq!(sysctls.len(), 2);
    let lines: Vec<u64> = sysctls.iter().map(|e| e.origin.line).collect();
    assert_eq!(lines, [1, 2], "each row keeps its document's line");
    assert_eq!(
        sysctls[0].first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
}

#[test]
fn results_without_rows_are_counted() {
    let empty =
        format!(r#"{{"name":"process_events",{HEAD},"diffResults":{{"added":[],"removed":[]}}}}"#);
    let run = run_text(&format!("{empty}\n{{\"x\":1}}\n"), Some(Source::Osquery));
    assert_eq!(run.events.len(), 0);
    assert_eq!(run.stats.records, 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::MissingFields), 1);
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 1);
    assert_eq!(run.issues.len(), 2);
}

/// A `unixTime` of `"notanumber"` or `1e30` left `@timestamp` out without
/// a word, as did a pid of the wrong type: each is now said at its value,
/// counted by reason, and the row is still an event.
#[test]
fn unreadable_times_and_pids_are_said_where_they_are() {
    let text = concat!(
        r#"{"name":"process_events","hostIdentifier":"h1","unixTime":"notanumber","columns":{"pid":"12","parent":"1","path":"/bin/ls","cmdline":"ls -l","time":"0"},"action":"added"}"#,
        "\n",
        r#"{"name":"process_events","hostIdentifier":"h1","unixTime":1e30,"columns":{"pid":true,"parent":"1","path":"/bin/ls","cmdline":"ls -l"},"action":"added"}"#,
        "\n",
        r#"{"name":"process_events","hostIdentifier":"h1","unixTime":1700000000,"snapshot":[{"pid":"5","parent":"1","path":"/bin/a","cmdline":"a"},{"pid":"6","parent":"99999999999999999999","path":"/bin/b","cmdline":"b","time":"9300000000000"}],"action":"snapshot"}"#,
        "\n",
    );
    let run = run_text(text, Some(Source::Osquery));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 4);
    assert!(run.events[0].values("@timestamp").is_empty());
    assert_eq!(strs(&run.events[0], "process.pid"), ["12"]);
    assert!(run.events[1].values("process.pid").is_empty());
    assert_eq!(
        run.events[2].first_str("@timestamp"),
        Some("2023-11-14T22:13:20.000Z")
    );
    assert!(run.events[3].values("@timestamp").is_empty());
    let said = run.unread_said();
    assert_eq!(
        said,
        [
            "test:1:59: not-an-integer: unixTime \"notanumber\" is not an integer: @timestamp left out",
            "test:2:59: out-of-range: unixTime 1e+30 is out of range: @timestamp left out",
            "test:2:81: not-an-integer: pid true is not an integer: process.pid left out",
            "test:3:157: out-of-range: parent \"99999999999999999999\" is out of range: process.parent.pid left out",
            "test:3:217: out-of-range: time 9300000000000 is out of range: @timestamp left out",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "4 records, 4 events, 0 merged, 0 ignored; \
         5 unreadable values left out (not-an-integer: 2, out-of-range: 3)"
    );
}
