//! Regressions from a fresh user's report: CSV and table output for
//! sequence and sample queries, `--output -` as stdout, the prefix of
//! every warning and error line, and where the events whose timestamp
//! cannot be used are, and `-q` with `-v`.

mod common;

use std::path::Path;

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Five events on two hosts: on h1 a download, a connection and a run of
/// what was downloaded; on h2 a listing and a connection.
const EVENTS: &str = "\
{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{\"category\":\"process\"},\"host\":{\"id\":\"h1\",\"name\":\"alpha\"},\"user\":{\"name\":\"root\"},\"process\":{\"name\":\"curl\",\"command_line\":\"curl -o /tmp/x http://e.test/x\"}}
{\"@timestamp\":\"2026-01-01T00:00:02Z\",\"event\":{\"category\":\"process\"},\"host\":{\"id\":\"h2\",\"name\":\"beta\"},\"user\":{\"name\":\"bob\"},\"process\":{\"name\":\"ls\",\"command_line\":\"ls -l\"}}
{\"@timestamp\":\"2026-01-01T00:00:03Z\",\"event\":{\"category\":\"network\"},\"host\":{\"id\":\"h1\",\"name\":\"alpha\"},\"user\":{\"name\":\"root\"},\"process\":{\"name\":\"curl\"}}
{\"@timestamp\":\"2026-01-01T00:00:04Z\",\"event\":{\"category\":\"process\"},\"host\":{\"id\":\"h1\",\"name\":\"alpha\"},\"user\":{\"name\":\"root\"},\"process\":{\"name\":\"sh\",\"command_line\":\"sh /tmp/x\"}}
{\"@timestamp\":\"2026-01-01T00:00:05Z\",\"event\":{\"category\":\"network\"},\"host\":{\"id\":\"h2\",\"name\":\"beta\"},\"user\":{\"name\":\"bob\"},\"process\":{\"name\":\"ssh\"}}
";

/// `talon query QUERY events.ndjson ARGS` in `dir`, which must succeed;
/// its stdout.
fn query(dir: &Path, eql: &str, args: &[&str]) -> String {
    stdout(&query_run(dir, eql, args))
}

/// As [`query`]: the summary on stderr.
fn query_summary(dir: &Path, eql: &str, args: &[&str]) -> String {
    stderr(&query_run(dir, eql, args))
}

fn query_run(dir: &Path, eql: &str, args: &[&str]) -> std::process::Output {
    let mut c = talon();
    c.current_dir(dir)
        .args(["query", eql, "events.ndjson"])
        .args(args);
    let out = run(c);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    out
}

#[test]
fn sequences_and_samples_are_written_as_csv_one_row_per_event() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let header = "@timestamp,event.category,host.name,user.name,process.name,\
                  process.command_line,source";

    let csv = query(
        d,
        "sequence by host.id [process where process.name == \"curl\"] [process where true]",
        &["--format", "csv"],
    );
    assert_eq!(
        csv,
        format!(
            "sequence,join_keys,{header}\n\
             1,\"[\"\"h1\"\"]\",2026-01-01T00:00:01.000Z,process,alpha,root,curl,curl -o /tmp/x http://e.test/x,events.ndjson:1\n\
             1,\"[\"\"h1\"\"]\",2026-01-01T00:00:04.000Z,process,alpha,root,sh,sh /tmp/x,events.ndjson:4\n"
        )
    );

    // Two join keys share a cell, as a JSON array; a missing event is a
    // row of its own.
    let csv = query(
        d,
        "sequence by host.id, user.name with maxspan=1m \
         [process where process.name == \"curl\"] ![file where true] [process where true]",
        &["--format", "csv"],
    );
    assert_eq!(
        csv,
        format!(
            "sequence,join_keys,{header}\n\
             1,\"[\"\"h1\"\",\"\"root\"\"]\",2026-01-01T00:00:01.000Z,process,alpha,root,curl,curl -o /tmp/x http://e.test/x,events.ndjson:1\n\
             1,\"[\"\"h1\"\",\"\"root\"\"]\",,,,,,,(missing event)\n\
             1,\"[\"\"h1\"\",\"\"root\"\"]\",2026-01-01T00:00:04.000Z,process,alpha,root,sh,sh /tmp/x,events.ndjson:4\n"
        )
    );

    let csv = query(
        d,
        "sample by host.id [process where true] [network where true]",
        &["--format", "csv"],
    );
    assert_eq!(
        csv,
        format!(
            "sample,join_keys,{header}\n\
             1,\"[\"\"h1\"\"]\",2026-01-01T00:00:01.000Z,process,alpha,root,curl,curl -o /tmp/x http://e.test/x,events.ndjson:1\n\
             1,\"[\"\"h1\"\"]\",2026-01-01T00:00:03.000Z,network,alpha,root,curl,,events.ndjson:3\n\
             2,\"[\"\"h2\"\"]\",2026-01-01T00:00:02.000Z,process,beta,bob,ls,ls -l,events.ndjson:2\n\
             2,\"[\"\"h2\"\"]\",2026-01-01T00:00:05.000Z,network,beta,bob,ssh,,events.ndjson:5\n"
        )
    );

    // JSON lines number a sample as a sample (they said `sequence`).
    let lines = query(
        d,
        "sample by host.id [process where true] [network where true]",
        &["--format", "jsonl"],
    );
    let event = |n: usize| EVENTS.lines().nth(n - 1).unwrap_or_default();
    assert_eq!(
        lines,
        format!(
            "{{\"sample\":1,\"join_keys\":[\"h1\"],\"events\":[{},{}]}}\n\
             {{\"sample\":2,\"join_keys\":[\"h2\"],\"events\":[{},{}]}}\n",
            event(1),
            event(3),
            event(2),
            event(5)
        )
    );
}

#[test]
fn a_field_with_several_values_is_a_json_array_in_csv_and_joined_in_the_table() {
    // From a fresh user: `["a,b","x,y"]` was written `a,b, x,y`, which
    // reads back as four values.
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("events.ndjson"),
        "{\"@timestamp\":\"2026-11-30T14:00:00Z\",\"event\":{\"category\":[\"process\"]},\"user\":{\"name\":[\"a,b\",\"x,y\"]},\"process\":{\"name\":\"sh\"}}\n",
    )
    .unwrap();
    let csv = query(d, "process where true", &["--format", "csv", "-q"]);
    let row = csv.lines().nth(1).unwrap_or_default();
    assert_eq!(
        row,
        "2026-11-30T14:00:00.000Z,process,,\"[\"\"a,b\"\",\"\"x,y\"\"]\",sh,,events.ndjson:1"
    );
    let table = query(d, "process where true", &["--format", "table", "-q"]);
    assert!(table.contains("a,b, x,y"), "{table}");

    // One value that starts with `[` is a list of one, or it would read
    // back as the list it looks like (a second fresh user's report).
    std::fs::write(
        d.join("events.ndjson"),
        "{\"@timestamp\":\"2026-11-30T14:00:00Z\",\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"[x]\"}}\n",
    )
    .unwrap();
    let csv = query(d, "process where true", &["--format", "csv", "-q"]);
    assert_eq!(
        csv.lines().nth(1).unwrap_or_default(),
        "2026-11-30T14:00:00.000Z,process,,,\"[\"\"[x]\"\"]\",,events.ndjson:1"
    );
}

#[test]
fn sequences_and_samples_are_written_as_a_table_one_row_per_event() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let table = query(
        d,
        "sample by host.id [process where true] [network where true]",
        &["--format", "table"],
    );
    assert_eq!(
        table,
        "SAMPLE  JOIN KEYS  TIME                      CATEGORY   HOST             USER       COMMAND\n\
         1       [\"h1\"]     2026-01-01T00:00:01.000Z  process    alpha            root       curl -o /tmp/x http://e.test/x\n\
         1       [\"h1\"]     2026-01-01T00:00:03.000Z  network    alpha            root       curl\n\
         2       [\"h2\"]     2026-01-01T00:00:02.000Z  process    beta             bob        ls -l\n\
         2       [\"h2\"]     2026-01-01T00:00:05.000Z  network    beta             bob        ssh\n"
    );
    let table = query(
        d,
        "sequence by host.id [process where process.name == \"curl\"] [process where true]",
        &["--format", "table"],
    );
    assert_eq!(
        table,
        "SEQUENCE  JOIN KEYS  TIME                      CATEGORY   HOST             USER       COMMAND\n\
         1         [\"h1\"]     2026-01-01T00:00:01.000Z  process    alpha            root       curl -o /tmp/x http://e.test/x\n\
         1         [\"h1\"]     2026-01-01T00:00:04.000Z  process    alpha            root       sh /tmp/x\n"
    );
    let table = query(
        d,
        "sequence [process where false] [process where true]",
        &["--format", "table"],
    );
    assert_eq!(table, "(no matching sequences)\n");
    // An event search's table is as it was.
    let table = query(d, "network where true", &["--format", "table"]);
    assert_eq!(
        table,
        "TIME                      CATEGORY   HOST             USER       COMMAND\n\
         2026-01-01T00:00:03.000Z  network    alpha            root       curl\n\
         2026-01-01T00:00:05.000Z  network    beta             bob        ssh\n"
    );
}

#[test]
fn output_dash_is_stdout_for_every_command_that_takes_output() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let demo = repo().join("demo/events.ndjson");
    let rule = repo().join(FORWARDING);
    let (demo, rule) = (demo.to_str().unwrap(), rule.to_str().unwrap());
    let commands: [&[&str]; 5] = [
        &["hunt", "--rules", rule, demo, "--format", "csv"],
        &[
            "query",
            "process where true",
            "events.ndjson",
            "--format",
            "csv",
        ],
        &[
            "query",
            "sequence by host.id [process where true] [any where true]",
            "events.ndjson",
        ],
        &["convert", "events.ndjson"],
        &["synth", rule],
    ];
    for args in commands {
        let mut plain = talon();
        plain.current_dir(d).args(args);
        let plain = run(plain);
        assert_eq!(plain.status.code(), Some(0), "{args:?}: {}", stderr(&plain));
        assert!(!plain.stdout.is_empty(), "{args:?}");
        let mut dash = talon();
        dash.current_dir(d).args(args).args(["--output", "-"]);
        let dash = run(dash);
        assert_eq!(dash.status.code(), Some(0), "{args:?}: {}", stderr(&dash));
        assert_eq!(stdout(&dash), stdout(&plain), "{args:?}");
        assert!(!d.join("-").exists(), "{args:?} created a file named -");
    }
    // convert's summary says where the events went.
    let mut c = talon();
    c.current_dir(d)
        .args(["convert", "events.ndjson", "-o", "-"]);
    let err = stderr(&run(c));
    assert!(err.contains("talon: wrote 5 events to stdout\n"), "{err}");
    // watch cannot write alerts and events both to stdout (refused before
    // it needs root).
    let mut c = talon();
    c.current_dir(d).args([
        "watch",
        "--rules",
        rule,
        "--output",
        "-",
        "--all-events",
        "-",
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "talon: error: --all-events - writes events to stdout; give alerts a file with \
         --output FILE\n"
    );
    assert!(!d.join("-").exists());
}

#[test]
fn watch_refuses_one_file_for_both_alerts_and_events() {
    // Two writers on one file overwrote each other's bytes: broken JSON
    // lines, or a gzip stream `zcat` rejects. Refused before root is needed.
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("old.jsonl"), "kept\n").unwrap();
    std::fs::hard_link(d.join("old.jsonl"), d.join("link.jsonl")).unwrap();
    let rule = repo().join(FORWARDING);
    for (output, events, shown) in [
        ("both.jsonl.gz", "both.jsonl.gz", "both.jsonl.gz"),
        ("both.jsonl", "./both.jsonl", "both.jsonl"),
        ("old.jsonl", "link.jsonl", "old.jsonl"),
    ] {
        let mut c = talon();
        c.current_dir(d).args([
            "watch",
            "--rules",
            rule.to_str().unwrap(),
            "--output",
            output,
            "--all-events",
            events,
            // Ends the watch should it start (as root) instead of refusing.
            "--duration",
            "0.2",
        ]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{output} {events}");
        assert_eq!(
            stderr(&out),
            format!(
                "talon: error: --all-events {events} is the file --output {shown} writes the \
                 alerts to: the two would overwrite each other; nothing was written (give them \
                 different files)\n"
            )
        );
        assert!(!d.join("both.jsonl.gz").exists() && !d.join("both.jsonl").exists());
    }
    assert_eq!(
        std::fs::read_to_string(d.join("old.jsonl")).unwrap(),
        "kept\n"
    );
}

#[test]
fn warnings_about_inputs_given_twice_are_headed_like_every_other() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let mut c = talon();
    c.current_dir(d).args([
        "query",
        "any where true",
        "events.ndjson",
        "events.ndjson",
        "-",
        "-",
    ]);
    let out = run_with_stdin(c, b"");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..2],
        [
            "talon: warning: events.ndjson was given more than once; it is read once",
            "talon: warning: - (stdin) was given more than once; it is read once",
        ],
        "{err}"
    );
}

#[test]
fn every_bad_line_of_an_exceptions_file_is_an_error_line() {
    let dir = scratch();
    let d = dir.path();
    let item = |id: &str, kind: &str| {
        format!(
            "{{\"list_id\":\"l\",\"item_id\":\"{id}\",\"entries\":[{{\"field\":\"a\",\
             \"type\":\"{kind}\",\"operator\":\"included\",\"value\":\"x\"}}]}}"
        )
    };
    let text = format!(
        "{{\"list_id\":\"l\",\"type\":\"detection\"}}\n{}\n{}\n{{\"list_id\":\n",
        item("i1", "bogus"),
        item("i2", "match")
    );
    std::fs::write(d.join("exc.ndjson"), text).unwrap();
    let mut c = talon();
    c.current_dir(d)
        .args(["hunt", "--exceptions", "exc.ndjson"])
        .arg(repo().join("demo/events.ndjson"));
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "talon: error: exc.ndjson:2:63: exception item `i1`: entry on `a`: unknown type \
         `bogus` (expected match, match_any, wildcard, exists, list or nested)\n  |\n\
         2 | {\"list_id\":\"l\",\"item_id\":\"i1\",\"entries\":[{\"field\":\"a\",\"type\":\"bogus\",\
         \"operator\":\"included\",\"value\":\"x\"}]}\n  \
         |                                                               ^^^^^\n\
         talon: error: exc.ndjson:4:12: invalid JSON: EOF while parsing a value\n  |\n\
         4 | {\"list_id\":\n  |            ^\n"
    );
    assert!(out.stdout.is_empty());
}

/// A `sysctl -w` the forwarding rule alerts on, with `timestamp` (the
/// `"@timestamp":...,` member, or nothing) first.
fn sysctl(timestamp: &str) -> String {
    format!(
        r#"{{{timestamp}"event":{{"category":"process","type":"start","action":"exec"}},"host":{{"os":{{"type":"linux"}}}},"process":{{"name":"sysctl","args":["sysctl","-w","net.ipv4.ip_forward=1"],"command_line":"sysctl -w net.ipv4.ip_forward=1","parent":{{"executable":"/bin/bash","name":"bash"}}}},"data_stream":{{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}}}"#
    ) + "\n"
}

/// The summary's lines after the first (whose timing varies).
fn summary_lines(out: &std::process::Output) -> Vec<String> {
    stderr(out).lines().skip(1).map(str::to_string).collect()
}

#[test]
fn events_whose_timestamp_cannot_be_used_are_named_by_file_and_line() {
    let dir = scratch();
    let d = dir.path();
    let events: String = [
        r#""@timestamp":"2026-01-01T00:00:00Z","#,
        r#""@timestamp":"garbage","#,
        r#""@timestamp":"2026-13-45T99:99:99Z","#,
        r#""@timestamp":true,"#,
        r#""@timestamp":{"a":1},"#,
        r#""@timestamp":-1e300,"#,
        r#""@timestamp":"99999-01-01T00:00:00Z","#,
        // Null is no value, as Elasticsearch indexes it: missing.
        r#""@timestamp":null,"#,
        "",
    ]
    .map(sysctl)
    .concat();
    std::fs::write(d.join("bad.ndjson"), events).unwrap();
    let rule = repo().join(FORWARDING);
    let talon_in = |args: &[&str]| {
        let mut c = talon();
        c.current_dir(d).args(args);
        run(c)
    };

    // Which events match and how they sort is unchanged: the one dated
    // first, the others after it in input order.
    let out = talon_in(&[
        "query",
        "process where process.name == \"sysctl\"",
        "bad.ndjson",
        "--format",
        "csv",
    ]);
    let sources: Vec<String> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect();
    assert_eq!(
        sources,
        (1..=9)
            .map(|i| format!("bad.ndjson:{i}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        summary_lines(&out),
        [
            "talon: 9 events matched, 9 returned (--size 10)",
            "talon: 6 matched events have an unusable `@timestamp` (first: bad.ndjson:2: \
             \"garbage\") and sort last",
            "talon: 2 matched events have no `@timestamp` (first: bad.ndjson:8) and sort last",
        ]
    );

    for format in ["jsonl", "csv"] {
        for threads in ["1", "2"] {
            let mut args = vec!["hunt", "--rules", rule.to_str().unwrap(), "bad.ndjson"];
            args.extend(["--format", format, "--threads", threads]);
            let out = talon_in(&args);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            assert_eq!(
                summary_lines(&out),
                [
                    "talon: 9 events matched, 9 alerts by 1 of 1 rule",
                    "talon: 6 matched events have an unusable `@timestamp` (first: bad.ndjson:2: \
                     \"garbage\"): their alerts have no kibana.alert.original_time",
                    "talon: 2 matched events have no `@timestamp` (first: bad.ndjson:8): their \
                     alerts have no kibana.alert.original_time",
                    "talon:        9  IPv4/IPv6 Forwarding Switched On via sysctl or procfs [low]",
                ],
                "--format {format} --threads {threads}"
            );
        }
    }

    let out = talon_in(&[
        "hunt",
        "--rules",
        rule.to_str().unwrap(),
        "bad.ndjson",
        "--schedule",
    ]);
    let lines = summary_lines(&out);
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "talon: schedule: 6 matches have an unusable timestamp (not alerted; first: \
             bad.ndjson:2: `@timestamp` is \"garbage\")",
            "talon: schedule: 2 matches have no timestamp (not alerted; first: bad.ndjson:8: \
             no `@timestamp`)",
        ],
        "{}",
        stderr(&out)
    );
}

/// Join keys were joined with `, `: the keys `a,b` and `a,b` read as the
/// keys `a` and `b, a,b`, and a null key as the text `null`. A long key
/// widened the table's join-key column until no event column was left.
#[test]
fn join_keys_read_back_unambiguously_and_a_long_one_is_cut_in_the_table() {
    let dir = scratch();
    let d = dir.path();
    let long = "x".repeat(60);
    let events = format!(
        "{{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{{\"category\":\"process\"}},\"host\":{{\"name\":\"a,b\"}},\"user\":{{\"name\":\"a,b\"}},\"process\":{{\"name\":\"p1\"}}}}\n\
         {{\"@timestamp\":\"2026-01-01T00:00:02Z\",\"event\":{{\"category\":\"process\"}},\"host\":{{\"name\":\"a,b\"}},\"user\":{{\"name\":\"a,b\"}},\"process\":{{\"name\":\"p2\"}}}}\n\
         {{\"@timestamp\":\"2026-01-01T00:00:03Z\",\"event\":{{\"category\":\"process\"}},\"host\":{{\"name\":\"{long}\"}},\"process\":{{\"name\":\"p3\"}}}}\n\
         {{\"@timestamp\":\"2026-01-01T00:00:04Z\",\"event\":{{\"category\":\"process\"}},\"host\":{{\"name\":\"{long}\"}},\"process\":{{\"name\":\"p4\"}}}}\n"
    );
    std::fs::write(d.join("events.ndjson"), events).unwrap();
    let q = "sequence by host.name, ?user.name [process where true] [process where true]";
    let csv = query(d, q, &["--format", "csv"]);
    let keys: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(",20").next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        [
            "1,\"[\"\"a,b\"\",\"\"a,b\"\"]\"",
            "1,\"[\"\"a,b\"\",\"\"a,b\"\"]\"",
            format!("2,\"[\"\"{long}\"\",null]\"").as_str(),
            format!("2,\"[\"\"{long}\"\",null]\"").as_str(),
        ]
    );
    let table = query(d, q, &["--format", "table"]);
    let rows: Vec<&str> = table.lines().collect();
    // The key column stops at 32 characters; the event columns follow.
    let lead = format!(
        "2         [\"{}…  2026-01-01T00:00:03.000Z  process    xxx",
        "x".repeat(29)
    );
    assert!(rows[3].starts_with(&lead), "{table}");
}

/// Cells were padded by characters: an emoji (two terminal columns) in a
/// host name shifted every column after it by one.
#[test]
fn table_cells_are_padded_by_terminal_columns() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("events.ndjson"),
        "{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{\"category\":\"process\"},\"host\":{\"name\":\"🔥web\"},\"user\":{\"name\":\"root\"},\"process\":{\"name\":\"sh\",\"command_line\":\"sh -c id\"}}\n",
    )
    .unwrap();
    let table = query(d, "process where true", &["--format", "table"]);
    assert_eq!(
        table,
        "TIME                      CATEGORY   HOST             USER       COMMAND\n\
         2026-01-01T00:00:01.000Z  process    🔥web            root       sh -c id\n"
    );
}

/// `-q` (only errors) and `-v` (more logging) contradict each other: the
/// pair is refused rather than one of them silently winning.
#[test]
fn quiet_and_verbose_together_are_refused() {
    for args in [["-q", "-v"], ["-vv", "--quiet"]] {
        let mut c = talon();
        c.args(args).args(["check", "rules/"]).current_dir(repo());
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
}

/// From a fresh user: a query whose category no event has (`proces`), or
/// an `--event-category-field` the events lack, said only "0 events
/// matched". The summary now says why.
#[test]
fn a_query_that_matches_nothing_names_a_category_the_input_lacks() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let summary = |eql: &str, args: &[&str]| query_summary(d, eql, args);
    let err = summary("proces where true", &[]);
    assert!(
        err.ends_with(
            "talon: 0 events matched, 0 returned (--size 10)\n\
             talon: no event has category `proces`; the input's categories are `process`, `network`\n"
        ),
        "{err}"
    );
    let err = summary("process where true", &["--event-category-field", "nope"]);
    assert!(
        err.ends_with(
            "talon: no event has `nope` (--event-category-field), so no `process where` query \
             or term can match; `any where` matches whatever the category\n"
        ),
        "{err}"
    );
    // The category is there and the rest of the query decided: no note.
    let err = summary("process where process.name == \"zz\"", &[]);
    assert!(
        err.ends_with("talon: 0 events matched, 0 returned (--size 10)\n"),
        "{err}"
    );

    // Nor when the category comes after more distinct ones than the line
    // lists: only the first few were remembered, and the query's was
    // taken for missing.
    let many: String = (0..10)
        .map(|i| format!("c{i}"))
        .chain(["process".to_string()])
        .map(|c| {
            format!(
                "{{\"@timestamp\":\"2026-01-01T00:00:01Z\",\"event\":{{\"category\":\"{c}\"}}}}\n"
            )
        })
        .collect();
    std::fs::write(d.join("events.ndjson"), many).unwrap();
    let err = summary("process where process.name == \"zz\"", &[]);
    assert!(
        err.ends_with("talon: 0 events matched, 0 returned (--size 10)\n"),
        "{err}"
    );
}

/// From a fresh user: a sequence or sample over events without the
/// category field (Endgame's `event_type`) said only "0 sequences found",
/// where the same test as an event query names the cause.
#[test]
fn a_sequence_that_matches_nothing_names_a_category_the_input_lacks() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let summary = |eql: &str, args: &[&str]| query_summary(d, eql, args);
    let err = summary(
        "sequence [process where true] [process where true]",
        &["--event-category-field", "nope"],
    );
    assert!(
        err.ends_with(
            "talon: 0 sequences found, 0 returned (--size 10)\n\
             talon: no event has `nope` (--event-category-field), so no `process where` query \
             or term can match; `any where` matches whatever the category\n"
        ),
        "{err}"
    );
    // The second term's category is the one missing.
    let err = summary("sequence [process where true] [file where true]", &[]);
    assert!(
        err.ends_with(
            "talon: no event has category `file`; the input's categories are `process`, \
             `network`\n"
        ),
        "{err}"
    );
    let err = summary(
        "sample by host.id [process where true] [proces where true]",
        &[],
    );
    assert!(
        err.ends_with(
            "talon: 0 samples found, 0 returned (--size 10)\n\
             talon: no event has category `proces`; the input's categories are `process`, \
             `network`\n"
        ),
        "{err}"
    );
    // Both categories are there and the rest decided: no note.
    let err = summary(
        "sequence [process where true] [network where process.name == \"zz\"]",
        &[],
    );
    assert!(
        err.ends_with("talon: 0 sequences found, 0 returned (--size 10)\n"),
        "{err}"
    );
}

#[test]
fn an_output_file_named_csv_gets_csv_unless_a_format_is_given() {
    // Found by a fresh user: `-o out.csv` silently wrote JSON Lines.
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    query(
        d,
        "process where process.name == \"ls\"",
        &["-o", "out.CSV"],
    );
    let csv = std::fs::read_to_string(d.join("out.CSV")).unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "@timestamp,event.category,host.name,user.name,process.name,\
             process.command_line,source",
            "2026-01-01T00:00:02.000Z,process,beta,bob,ls,ls -l,events.ndjson:2",
        ]
    );
    // --format still decides.
    query(
        d,
        "process where process.name == \"ls\"",
        &["-o", "out.csv", "--format", "jsonl"],
    );
    let jsonl = std::fs::read_to_string(d.join("out.csv")).unwrap();
    assert!(
        jsonl.starts_with("{\"@timestamp\":\"2026-01-01T00:00:02Z\""),
        "{jsonl}"
    );
}

#[test]
fn a_write_error_names_where_the_output_went() {
    // Found by a fresh user: `-o /dev/full` said "cannot write alerts"
    // without saying where to.
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("events.ndjson"), EVENTS).unwrap();
    let mut c = talon();
    c.current_dir(d).args([
        "query",
        "any where true",
        "events.ndjson",
        "-o",
        "/dev/full",
    ]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("talon: error: cannot write results to /dev/full: No space left on device"),
        "{}",
        stderr(&out)
    );
    // The bundled default hunt alerts (its demo events and rules).
    let mut c = talon();
    c.current_dir(repo()).args(["hunt", "-o", "/dev/full"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("talon: error: cannot write alerts to /dev/full: No space left on device"),
        "{}",
        stderr(&out)
    );
}
