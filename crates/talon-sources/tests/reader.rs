//! The normalizing reader itself: inputs, compression, detection per
//! input, options, and the process tree spanning inputs.

mod common;

use std::io::Write;

use common::strs;
use talon_event::read::{InputSpec, SkipReason};
use talon_sources::{NormalizeOptions, NormalizingReader, Source, TreeOptions};

const PARENT: &str = "type=SYSCALL msg=audit(1718035200.120:5101): arch=c000003e syscall=59 success=yes exit=0 ppid=4001 pid=4100 uid=0 gid=0 comm=\"bash\" exe=\"/usr/bin/bash\"\ntype=EXECVE msg=audit(1718035200.120:5101): argc=1 a0=\"bash\"\ntype=EOE msg=audit(1718035200.120:5101):\n";
const CHILD: &str = "type=SYSCALL msg=audit(1718035207.877:5140): arch=c000003e syscall=59 success=yes exit=0 ppid=4100 pid=4242 uid=0 gid=0 comm=\"sysctl\" exe=\"/usr/sbin/sysctl\"\ntype=EXECVE msg=audit(1718035207.877:5140): argc=3 a0=\"sysctl\" a1=\"-w\" a2=\"net.ipv4.ip_forward=1\"\ntype=EOE msg=audit(1718035207.877:5140):\n";

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn inputs_are_detected_one_by_one_and_share_the_tree() {
    // A rotated, gzipped log with the parent; the current log with the
    // child; then a Falco file: three inputs, two sources, one tree.
    let falco = r#"{"output_fields":{"evt.type":"execve","proc.cmdline":"id","proc.pid":9,"proc.ppid":4242},"rule":"r","time":"2024-06-10T16:00:09Z"}"#;
    let mut r = NormalizingReader::empty(NormalizeOptions::default());
    r.push_reader("audit.log.1.gz", std::io::Cursor::new(gzip(PARENT)), None);
    r.push_reader("audit.log", CHILD.as_bytes(), None);
    r.push_reader("falco.json", falco.as_bytes(), None);
    let events: Vec<_> = r.by_ref().map(|i| i.unwrap()).collect();
    assert_eq!(events.len(), 3);
    assert_eq!(&*events[0].origin.file, "audit.log.1.gz");
    assert_eq!(
        events[1].first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    // Falco's event has no host: the tree's "no host" bucket is shared.
    assert_eq!(
        events[2].first_str("process.parent.executable"),
        Some("/usr/sbin/sysctl")
    );
    assert_eq!(events[2].first_str("event.module"), Some("falco"));
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    let stats = r.stats();
    assert_eq!(
        (stats.files, stats.records, stats.events, stats.merged),
        (3, 7, 3, 4)
    );
    assert_eq!(stats.tree.enriched, 2);
}

#[test]
fn options_namespace_host_and_original() {
    let opts = NormalizeOptions {
        namespace: "prod".to_string(),
        host: Some("fallback-host".to_string()),
        keep_original: true,
        ..Default::default()
    };
    let run = common::run_text_with(CHILD, None, opts);
    let e = &run.events[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-prod")
    );
    assert_eq!(e.first_str("data_stream.namespace"), Some("prod"));
    assert_eq!(e.first_str("host.name"), Some("fallback-host"));
    // The event's records as read (the empty EOE marker is not one).
    let records: Vec<&str> = CHILD.lines().take(2).collect();
    assert_eq!(
        e.first_str("event.original"),
        Some(records.join("\n").as_str())
    );

    let json = r#"{"process_exec":{"process":{"pid":1,"binary":"/bin/true"}},"node_name":"n1","time":"2024-06-10T16:00:00Z"}"#;
    let opts = NormalizeOptions {
        keep_original: true,
        host: Some("fallback-host".to_string()),
        ..Default::default()
    };
    let run = common::run_text_with(json, None, opts);
    assert_eq!(run.events[0].first_str("event.original"), Some(json));
    assert_eq!(
        run.events[0].first_str("host.name"),
        Some("n1"),
        "the source's host wins"
    );
}

#[test]
fn unrecognised_and_unreadable_inputs_are_issues() {
    let mut r = NormalizingReader::from_inputs(
        vec![InputSpec::Path("/nonexistent/audit.log".into())],
        None,
        NormalizeOptions::default(),
    );
    r.push_reader("notes.txt", "just some text\n".as_bytes(), None);
    r.push_reader("empty", "\n\n".as_bytes(), None);
    let items: Vec<_> = r.by_ref().collect();
    assert_eq!(items.len(), 2, "an empty input is no issue");
    let issues: Vec<_> = items.into_iter().map(|i| i.unwrap_err()).collect();
    assert_eq!(issues[0].reason, SkipReason::Unreadable);
    assert_eq!(&*issues[0].file, "/nonexistent/audit.log");
    assert_eq!(issues[1].reason, SkipReason::NotAnEvent);
    assert!(
        issues[1].message.contains("--source"),
        "{}",
        issues[1].message
    );
    let stats = r.stats();
    assert_eq!(
        (stats.files, stats.inputs_skipped, stats.records),
        (3, 2, 0)
    );
}

#[test]
fn a_forced_source_reads_what_detection_would_not() {
    // A Tetragon line that also mentions output_fields: forced wins.
    let line = r#"{"process_exec":{"process":{"pid":1,"binary":"/bin/true","arguments":"output_fields"}},"time":"2024-06-10T16:00:00Z"}"#;
    let run = common::run_text(line, Some(Source::Tetragon));
    assert_eq!(
        strs(&run.events[0], "process.args"),
        ["/bin/true", "output_fields"]
    );
    let run = common::run_text(line, Some(Source::Ecs));
    assert_eq!(
        run.events[0].source(),
        line,
        "ECS is passed through untouched"
    );
    assert_eq!(run.stats.events, 1);
}

#[test]
fn the_tree_can_be_turned_off_or_bounded() {
    let text = format!("{PARENT}{CHILD}");
    let off = NormalizeOptions {
        enrich: false,
        ..Default::default()
    };
    let run = common::run_text_with(&text, None, off);
    assert!(run.events[1]
        .first_str("process.parent.executable")
        .is_none());
    let tiny = NormalizeOptions {
        tree: TreeOptions {
            max_processes_per_host: 1,
            max_hosts: 1,
        },
        ..Default::default()
    };
    let run = common::run_text_with(&text, None, tiny);
    assert_eq!(
        run.events[1].first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(run.stats.tree.evicted, 1, "bash made room for sysctl");
}
