//! Every file under the shared corpora's `events/` converts without a
//! crash and with every record accounted for (records == events + merged +
//! ignored, checked by the helper), the source recognised by content.
//!
//! The table pins, per file: the source [`detect`] sees, the events
//! produced, the records normalized (0 for ECS, whose documents are passed
//! through, not normalized), and the issues yielded. Samples of a source
//! give their events with no issue; files that are not telemetry (SOURCE.md,
//! TOML query suites, a field list) are reported as one "not JSON, nor a
//! log of a known source" issue; go-libaudit's YAML fixtures read as auditd with their YAML
//! lines reported as not records; golden outputs and Endgame data are JSON
//! that is passed through as ECS. A file missing from the table fails the
//! test, so new samples get classified.

mod common;

use std::collections::BTreeMap;

use talon_sources::{detect, Source, DETECT_WINDOW};

use Source::*;

/// (path under events/, detected source, events, records normalized, issues).
const TABLE: &[(&str, Option<Source>, usize, u64, usize)] = &[
    ("auditbeat_ecs/SOURCE.md", None, 0, 0, 1),
    (
        "auditbeat_ecs/integrations-auditd-test-coalesced-syscall-execve-events.json",
        Some(Auditbeat),
        1,
        1,
        0,
    ),
    ("auditd/SOURCE.md", None, 0, 0, 1),
    (
        "auditd/go-libaudit/aucoalesce/random-internet.json.golden",
        Some(Ecs),
        2,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/random-internet.yaml",
        Some(Auditd),
        0,
        10,
        5,
    ),
    (
        "auditd/go-libaudit/aucoalesce/rhel-7-linux-3.10.0.json.golden",
        Some(Ecs),
        10,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/rhel-7-linux-3.10.0.yaml",
        Some(Auditd),
        0,
        31,
        12,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.04-linux-4.13.0.json.golden",
        Some(Ecs),
        2,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.04-linux-4.13.0.yaml",
        Some(Auditd),
        0,
        15,
        4,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.json.golden",
        Some(Ecs),
        14,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.yaml",
        Some(Auditd),
        1,
        52,
        16,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.json.golden",
        Some(Ecs),
        15,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.yaml",
        Some(Auditd),
        1,
        53,
        17,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.json.golden",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml",
        Some(Auditd),
        1,
        9,
        4,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-21.10-linux-5.13.json.golden",
        Some(Ecs),
        3,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-21.10-linux-5.13.yaml",
        Some(Auditd),
        0,
        18,
        8,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-24.04-linux-6.8.0.json.golden",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-24.04-linux-6.8.0.yaml",
        Some(Auditd),
        0,
        5,
        4,
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel6.log",
        Some(Auditd),
        0,
        2,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel6.log.golden",
        Some(Ecs),
        2,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel7.log",
        Some(Auditd),
        0,
        50,
        1,
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel7.log.golden",
        Some(Ecs),
        49,
        0,
        1,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu14.log",
        Some(Auditd),
        0,
        1,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu14.log.golden",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu16.log",
        Some(Auditd),
        0,
        3,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu16.log.golden",
        Some(Ecs),
        3,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu17.log",
        Some(Auditd),
        1,
        1,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu17.log.golden",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/test2.log",
        Some(Auditd),
        0,
        10,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/test2.log.golden",
        Some(Ecs),
        10,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/test3.log",
        Some(Auditd),
        0,
        17,
        0,
    ),
    (
        "auditd/go-libaudit/auparse/test3.log.golden",
        Some(Ecs),
        17,
        0,
        0,
    ),
    (
        "auditd/go-libaudit/misc/lost_messages.log",
        Some(Auditd),
        2,
        17,
        0,
    ),
    ("elastic_defend/SOURCE.md", None, 0, 0, 1),
    (
        "elastic_defend/ecs-rfc0030-real-linux-exec-event.json",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "elastic_defend/endpoint-package-linux_process_fork_exec_exit.fields.yaml",
        None,
        0,
        0,
        1,
    ),
    (
        "elastic_defend/endpoint-package-process-sample_event.json",
        Some(Ecs),
        1,
        0,
        0,
    ),
    (
        "elastic_defend/kibana-cypress-linux_process-data.json",
        Some(Ecs),
        1,
        0,
        0,
    ),
    ("endgame/SOURCE.md", None, 0, 0, 1),
    ("endgame/endgame_ecs_mapping-8.4.0.json", Some(Ecs), 1, 0, 0),
    ("endgame/eql-docs-example.json", Some(Ecs), 7, 0, 0),
    ("endgame/eql-test_data.json", Some(Ecs), 102, 0, 0),
    ("endgame/eql-test_folding.toml", None, 0, 0, 1),
    ("endgame/eql-test_optimizer.toml", None, 0, 0, 1),
    ("endgame/eql-test_queries.toml", None, 0, 0, 1),
    ("endgame/eql-test_string_functions.toml", None, 0, 0, 1),
    ("falco/SOURCE.md", None, 0, 0, 1),
    (
        "falco/integrations-falco-test-falco.first4lines.log",
        Some(Falco),
        2,
        4,
        0,
    ),
    ("osquery/SOURCE.md", None, 0, 0, 1),
    ("sentinel_one_cloud_funnel/SOURCE.md", None, 0, 0, 1),
    (
        "sentinel_one_cloud_funnel/test-process.log",
        Some(SentinelOne),
        1,
        1,
        0,
    ),
    (
        "sentinel_one_cloud_funnel/test-process.log-expected.json",
        Some(Ecs),
        1,
        0,
        0,
    ),
    ("sysmon_linux/SOURCE.md", None, 0, 0, 1),
    (
        "sysmon_linux/integrations-sysmon_linux-test-sysmon.json",
        Some(Sysmon),
        2,
        2,
        0,
    ),
    (
        "sysmon_linux/nighttardis-go_sysmon_parsing-syslog.log",
        Some(Sysmon),
        2,
        2,
        0,
    ),
    ("tetragon/SOURCE.md", None, 0, 0, 1),
    (
        "tetragon/secobs-host-namespace-bash.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-merlin-agent-scp-sh.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-merlin-agent-sh.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-merlin-agent-ssh-tunnel-connect.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-nginx-execution.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-privileged-pod-bash.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    (
        "tetragon/secobs-privileged-pod-nsenter.json",
        Some(Tetragon),
        1,
        1,
        0,
    ),
    ("tetragon/testdata-events.json", Some(Tetragon), 3, 3, 0),
];

#[test]
fn every_sample_converts_with_every_record_accounted_for() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events");
    let expected: BTreeMap<&str, _> = TABLE.iter().map(|r| (r.0, r)).collect();
    let mut seen = 0;
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some(&&(_, source, events, records, issues)) = expected.get(rel.as_str()) else {
            panic!("{rel} is not in the table: classify it");
        };
        let bytes = std::fs::read(entry.path()).unwrap();
        assert_eq!(
            detect(&bytes[..bytes.len().min(DETECT_WINDOW)]),
            source,
            "{rel}"
        );
        let run = common::run_file(entry.path(), None);
        let got = (run.events.len(), run.stats.records, run.issues.len());
        assert_eq!(got, (events, records, issues), "{rel}: {}", run.stats);
        seen += 1;
    }
    assert_eq!(seen, TABLE.len(), "every table row has its file");
}

#[test]
fn normalized_samples_are_defend_shaped() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events");
    for &(rel, source, events, _, _) in TABLE {
        if events == 0 || matches!(source, None | Some(Ecs)) {
            continue;
        }
        let run = common::run_file(&dir.join(rel), None);
        for e in &run.events {
            let index = e.index.as_deref().unwrap_or("");
            assert!(
                index.starts_with("logs-endpoint.events.")
                    || index.starts_with("logs-sentinel_one_cloud_funnel."),
                "{rel}: {index}"
            );
            for field in [
                "@timestamp",
                "event.category",
                "event.type",
                "event.action",
                "event.module",
                "event.dataset",
                "agent.type",
                "data_stream.dataset",
                "ecs.version",
            ] {
                assert!(e.first(field).is_some(), "{rel}: {field} missing");
            }
            let doc: serde_json::Value = serde_json::from_str(e.source()).unwrap();
            assert!(
                doc.get("process").is_some_and(|p| p.is_object()),
                "{rel}: nested source"
            );
        }
    }
}
