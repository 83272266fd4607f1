//! Every sample file of the shared corpora reads without a crash: JSON
//! samples give exactly their events and no issue, non-JSON samples (raw
//! auditd, syslog, YAML, TOML, Markdown) give no event and one "not a JSON
//! event file" issue each, whatever their length.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use talon_event::mapping::Mapping;
use talon_event::read::{expand_inputs, EventReader, InputSpec, ReadOptions, SkipReason};
use talon_event::Fields;

/// (path under corpora/events, events, issues, the only issue reason).
const EVENT_SAMPLES: &[(&str, u64, u64, Option<SkipReason>)] = &[
    ("auditbeat_ecs/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "auditbeat_ecs/integrations-auditd-test-coalesced-syscall-execve-events.json",
        1,
        0,
        None,
    ),
    ("auditd/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "auditd/go-libaudit/aucoalesce/random-internet.json.golden",
        2,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/random-internet.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/rhel-7-linux-3.10.0.json.golden",
        10,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/rhel-7-linux-3.10.0.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.04-linux-4.13.0.json.golden",
        2,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.04-linux-4.13.0.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.json.golden",
        14,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.json.golden",
        15,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.json.golden",
        1,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-21.10-linux-5.13.json.golden",
        3,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-21.10-linux-5.13.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-24.04-linux-6.8.0.json.golden",
        1,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-24.04-linux-6.8.0.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel6.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel6.log.golden",
        2,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel7.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    // The golden array holds a literal `null` for a line go-libaudit could
    // not parse: reported, not silently dropped.
    (
        "auditd/go-libaudit/auparse/audit-rhel7.log.golden",
        49,
        1,
        Some(SkipReason::NotAnObject),
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu14.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu14.log.golden",
        1,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu16.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu16.log.golden",
        3,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu17.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu17.log.golden",
        1,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/auparse/test2.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("auditd/go-libaudit/auparse/test2.log.golden", 10, 0, None),
    (
        "auditd/go-libaudit/auparse/test3.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("auditd/go-libaudit/auparse/test3.log.golden", 17, 0, None),
    (
        "auditd/go-libaudit/misc/lost_messages.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("elastic_defend/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "elastic_defend/ecs-rfc0030-real-linux-exec-event.json",
        1,
        0,
        None,
    ),
    (
        "elastic_defend/endpoint-package-linux_process_fork_exec_exit.fields.yaml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "elastic_defend/endpoint-package-process-sample_event.json",
        1,
        0,
        None,
    ),
    (
        "elastic_defend/kibana-cypress-linux_process-data.json",
        1,
        0,
        None,
    ),
    ("endgame/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    // A flat field → type schema, read as one (odd) event here; it parses
    // as a mapping in tests/mapping.rs.
    ("endgame/endgame_ecs_mapping-8.4.0.json", 1, 0, None),
    ("endgame/eql-docs-example.json", 7, 0, None),
    ("endgame/eql-test_data.json", 102, 0, None),
    (
        "endgame/eql-test_folding.toml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "endgame/eql-test_optimizer.toml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "endgame/eql-test_queries.toml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    (
        "endgame/eql-test_string_functions.toml",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("falco/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "falco/integrations-falco-test-falco.first4lines.log",
        4,
        0,
        None,
    ),
    ("osquery/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "sentinel_one_cloud_funnel/SOURCE.md",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("sentinel_one_cloud_funnel/test-process.log", 1, 0, None),
    (
        "sentinel_one_cloud_funnel/test-process.log-expected.json",
        1,
        0,
        None,
    ),
    ("sysmon_linux/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    (
        "sysmon_linux/integrations-sysmon_linux-test-sysmon.json",
        2,
        0,
        None,
    ),
    (
        "sysmon_linux/nighttardis-go_sysmon_parsing-syslog.log",
        0,
        1,
        Some(SkipReason::NotJson),
    ),
    ("tetragon/SOURCE.md", 0, 1, Some(SkipReason::NotJson)),
    ("tetragon/secobs-host-namespace-bash.json", 1, 0, None),
    ("tetragon/secobs-merlin-agent-scp-sh.json", 1, 0, None),
    ("tetragon/secobs-merlin-agent-sh.json", 1, 0, None),
    (
        "tetragon/secobs-merlin-agent-ssh-tunnel-connect.json",
        1,
        0,
        None,
    ),
    ("tetragon/secobs-nginx-execution.json", 1, 0, None),
    ("tetragon/secobs-privileged-pod-bash.json", 1, 0, None),
    ("tetragon/secobs-privileged-pod-nsenter.json", 1, 0, None),
    ("tetragon/testdata-events.json", 3, 0, None),
];

fn read_file(path: &Path) -> (Vec<talon_event::Event>, talon_event::read::ReadStats) {
    EventReader::new(
        vec![InputSpec::Path(path.to_path_buf())],
        ReadOptions::default(),
    )
    .read_all()
}

#[test]
fn every_event_sample_reads_with_exact_counts() {
    let Some(root) = common::corpora() else {
        return;
    };
    let events_dir = root.join("events");
    for (rel, events, issues, reason) in EVENT_SAMPLES {
        let path = events_dir.join(rel);
        if !path.exists() {
            println!("skipped: {} not in this corpus copy", path.display());
            continue;
        }
        let (got, stats) = read_file(&path);
        assert_eq!(got.len() as u64, *events, "{rel}: events");
        assert_eq!(stats.events, *events, "{rel}: counted events");
        assert_eq!(
            stats.issue_count(),
            *issues,
            "{rel}: issues {:?}",
            stats.issues
        );
        if let Some(reason) = reason {
            assert_eq!(
                stats.skipped_for(*reason),
                *issues,
                "{rel}: reasons {:?}",
                stats.skipped
            );
        }
        assert_eq!(
            stats.bytes,
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            "{rel}"
        );
    }
}

#[test]
fn a_non_json_sample_is_one_issue_naming_its_line_count() {
    let Some(root) = common::corpora() else {
        return;
    };
    let path = root.join("events/endgame/eql-test_folding.toml");
    if !path.exists() {
        println!("skipped: {} not in this corpus copy", path.display());
        return;
    }
    let (events, stats) = read_file(&path);
    assert!(events.is_empty());
    assert_eq!(stats.issue_count(), 1);
    let issue = &stats.issues[0];
    assert_eq!(
        (issue.line, issue.reason, issue.message.as_str()),
        (
            1,
            SkipReason::NotJson,
            "not a JSON event file (401 lines skipped)"
        )
    );
}

#[test]
fn the_whole_events_folder_reads_in_one_pass() {
    let Some(root) = common::corpora() else {
        return;
    };
    let expanded = expand_inputs(&[root.join("events").to_string_lossy().to_string()]).unwrap();
    assert!(expanded.skipped.is_empty(), "{:?}", expanded.skipped);
    let (events, stats) = EventReader::from_expanded(expanded, ReadOptions::default()).read_all();
    // Files found by the walk that the table does not list still read
    // without a crash; the table's totals must be met exactly when the
    // corpus matches it.
    let want_events: u64 = EVENT_SAMPLES.iter().map(|s| s.1).sum();
    let want_issues: u64 = EVENT_SAMPLES.iter().map(|s| s.2).sum();
    if stats.files == EVENT_SAMPLES.len() as u64 {
        assert_eq!(stats.events, want_events);
        assert_eq!(stats.issue_count(), want_issues);
    }
    // seq is global and dense across all files.
    assert!(events.iter().enumerate().all(|(i, e)| e.seq == i as u64));
    assert_eq!(stats.issues.len(), 20);
}

#[test]
fn sample_metadata_index_id_origin() {
    let Some(root) = common::corpora() else {
        return;
    };
    let d = root.join("events/elastic_defend");
    let (ev, _) = read_file(&d.join("ecs-rfc0030-real-linux-exec-event.json"));
    assert_eq!(
        ev[0].index.as_deref(),
        Some(".ds-logs-endpoint.events.process-default-2022.02.15-000001")
    );
    assert_eq!(ev[0].id.as_deref(), Some("BuvxBH8BU45FNSRmRWIK"));
    assert_eq!(ev[0].first_str("event.action"), Some("exec"));
    assert_eq!(
        ev[0].values("event.type"),
        &[talon_event::Value::str("start")]
    );
    assert_eq!(ev[0].values("user.id"), &[talon_event::Value::Int(1000)]);
    assert_eq!(
        ev[0].values("process.args"),
        &[
            talon_event::Value::str("ls"),
            talon_event::Value::str("--color=auto"),
            talon_event::Value::str("-la")
        ]
    );
    assert!(ev[0].source().starts_with('{') && !ev[0].source().contains("\"_index\""));

    let (ev, _) = read_file(&d.join("kibana-cypress-linux_process-data.json"));
    assert_eq!(ev[0].index.as_deref(), Some("run-parts"));
    assert_eq!(ev[0].id.as_deref(), Some("qxnqn3sBBf0WZxoXk7tg"));
    assert_eq!(ev[0].first_str("process.parent.name"), Some(""));
    assert_eq!(ev[0].first_str("process.parent.executable"), Some("/"));
    assert_eq!(ev[0].values("process.args").len(), 3);
    assert_eq!(ev[0].origin.line, 1);

    let (ev, _) = read_file(&d.join("endpoint-package-process-sample_event.json"));
    assert_eq!(
        ev[0].index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(ev[0].id, None);

    let s1 = root.join("events/sentinel_one_cloud_funnel/test-process.log-expected.json");
    let (ev, _) = read_file(&s1);
    assert_eq!(
        ev[0].values("event.action"),
        &[talon_event::Value::str("start")]
    );
    assert_eq!(ev[0].origin.line, 3);
}

#[test]
fn es_eql_qa_data_files() {
    let Some(root) = common::corpora() else {
        return;
    };
    let qa = root.join("es-eql-qa");
    let expected: BTreeMap<&str, u64> = [
        ("test_data.json", 102),
        ("data/endgame-shard-failures.data", 1),
        ("data/extra.data", 23),
        ("data/missing-events.data", 48),
        ("data/sample1.data", 10),
        ("data/sample2.data", 9),
        ("data/sample3.data", 9),
        ("data/sample-multi.data", 10),
    ]
    .into_iter()
    .collect();
    for (rel, n) in &expected {
        let (events, stats) = read_file(&qa.join(rel));
        assert_eq!(events.len() as u64, *n, "{rel}");
        assert_eq!(stats.issue_count(), 0, "{rel}: {:?}", stats.issues);
    }
    // missing-events.data has `//` comment lines between array elements.
    let (events, _) = read_file(&qa.join("data/missing-events.data"));
    let seqs: Vec<i64> = events
        .iter()
        .take(5)
        .filter_map(|e| match e.first("sequence") {
            Some(talon_event::Value::Int(i)) => Some(*i),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 1]);
    assert_eq!(events[4].first_str("event_type"), Some("test2"));

    // extra.data with its mapping: explicit nulls of the null_value field
    // index "NULL"; nulls elsewhere index nothing.
    let mapping = Mapping::from_es_file(&qa.join("data/extra.mapping")).unwrap();
    let (events, _) = EventReader::new(
        vec![InputSpec::Path(qa.join("data/extra.data"))],
        ReadOptions::default().with_mapping(&mapping),
    )
    .read_all();
    let nulls: Vec<i64> = events
        .iter()
        .filter(|e| e.first_str("optional_field_default_null") == Some("NULL"))
        .filter_map(|e| match e.first("sequence") {
            Some(talon_event::Value::Int(i)) => Some(*i),
            _ => None,
        })
        .collect();
    assert_eq!(nulls, [7, 9]);
    let tags = events
        .iter()
        .find(|e| e.first("sequence") == Some(&talon_event::Value::Int(10)));
    assert_eq!(tags.map(|e| e.values("optional_tags").len()), Some(1));
    assert_eq!(
        tags.map(|e| e.values("process.pid").to_vec()),
        Some(vec![talon_event::Value::Int(123)])
    );
}
