//! The normalizing reader itself: inputs, compression, detection per
//! input, options, and the process tree spanning inputs.

mod common;

use std::io::Write;

use common::strs;
use talon_event::read::{InputSpec, ReadOptions, SkipReason};
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
    // Read as talon-event reads text: one issue for the file, plus a word
    // on naming its source.
    assert_eq!(issues[1].reason, SkipReason::NotJson);
    assert!(
        issues[1].message.contains("not a JSON event file")
            && issues[1].message.contains("--source"),
        "{}",
        issues[1].message
    );
    let stats = r.stats();
    assert_eq!(
        (
            stats.files,
            stats.inputs_skipped,
            stats.unrecognised,
            stats.records
        ),
        (3, 1, 2, 0)
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
    // Read, not normalized: counted once, by the read counts.
    assert_eq!(
        (run.read.events, run.stats.events, run.stats.records),
        (1, 0, 0)
    );
    assert_eq!(run.stats.sources.get(&Source::Ecs), Some(&1));
    assert_eq!(run.stats.normalized_inputs(), 0);
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

/// A file under the temp dir, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("talon-sources-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const ECS_LINE: &str = r#"{"@timestamp":"2024-06-10T16:00:09Z","event":{"category":["process"]},"process":{"name":"id","title":null},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}"#;

#[test]
fn read_options_reach_ecs_and_normalized_inputs_alike() {
    // The CLI's --index and --mapping used to reach ECS read by talon-event
    // only; passthrough read with defaults and normalized events kept the
    // Defend data stream.
    let mapping = talon_event::mapping::Mapping::from_es_json(
        r#"{"properties":{"process":{"properties":{"title":{"type":"keyword","null_value":"NONE"}}}}}"#,
    )
    .unwrap();
    let opts = NormalizeOptions {
        read: ReadOptions::default()
            .with_index("forced-idx")
            .with_mapping(&mapping),
        ..Default::default()
    };
    let file = TempFile::new("ecs.ndjson", format!("{ECS_LINE}\n").as_bytes());
    let mut r = NormalizingReader::empty(opts);
    r.push_reader("audit.log", CHILD.as_bytes(), None);
    r.push_input(InputSpec::Path(file.0.clone()), None);
    r.push_reader(
        "-",
        std::io::Cursor::new(format!("{ECS_LINE}\n").into_bytes()),
        None,
    );
    let events: Vec<_> = r.by_ref().map(|i| i.unwrap()).collect();
    assert_eq!(events.len(), 3);
    for e in &events {
        assert_eq!(e.index.as_deref(), Some("forced-idx"), "{}", e.origin.file);
    }
    assert_eq!(events[1].first_str("process.title"), Some("NONE"));
    assert_eq!(events[2].first_str("process.title"), Some("NONE"));
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    let stats = r.stats();
    assert_eq!(stats.sources.get(&Source::Auditd), Some(&1));
    assert_eq!(stats.sources.get(&Source::Ecs), Some(&2));
    assert_eq!(
        (stats.files, stats.events, stats.normalized_inputs()),
        (3, 1, 1)
    );
}

#[test]
fn read_counts_cover_every_input_its_bytes_and_its_issues() {
    let ecs = format!("{ECS_LINE}\n{{broken\n");
    let file = TempFile::new("counts.ndjson", ecs.as_bytes());
    let gz = gzip(CHILD);
    let mut r = NormalizingReader::empty(NormalizeOptions::default());
    r.push_reader("audit.log.gz", std::io::Cursor::new(gz.clone()), None);
    r.push_input(InputSpec::Path(file.0.clone()), None);
    r.push_unreadable("logs/broken-link", "broken symbolic link (to nowhere)");
    r.push_reader("notes.txt", "just text\n".as_bytes(), None);
    let items: Vec<_> = r.by_ref().collect();
    let issues: Vec<_> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(items.len() - issues.len(), 2, "the exec and the ECS event");
    let reasons: Vec<_> = issues
        .iter()
        .map(|i| (i.file.to_string(), i.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (file.0.display().to_string(), SkipReason::InvalidJson),
            ("logs/broken-link".to_string(), SkipReason::Unreadable),
            ("notes.txt".to_string(), SkipReason::NotJson),
        ]
    );
    let read = r.read_stats();
    assert_eq!((read.files, read.events, read.issue_count()), (4, 2, 3));
    let stored = gz.len() + ecs.len() + "just text\n".len();
    let decoded = CHILD.len() + ecs.len() + "just text\n".len();
    assert_eq!(read.bytes, stored as u64);
    assert_eq!(read.decoded_bytes, decoded as u64);
    assert_eq!(read.issues.len(), 3);
    let stats = r.stats();
    assert_eq!(
        (stats.inputs_skipped, stats.records, stats.unaccounted()),
        (1, 3, 0)
    );
}

#[test]
fn a_forced_ecs_path_is_read_by_talon_event_as_is() {
    let text = format!("// exported by hand\n{ECS_LINE}\n");
    let file = TempFile::new("forced.ndjson", text.as_bytes());
    for source in [None, Some(Source::Ecs)] {
        let mut r = NormalizingReader::from_inputs(
            vec![InputSpec::Path(file.0.clone())],
            source,
            NormalizeOptions::default(),
        );
        let events: Vec<_> = r.by_ref().map(|i| i.unwrap()).collect();
        assert_eq!(events.len(), 1, "{source:?}");
        assert_eq!(events[0].origin.line, 2);
        assert_eq!(
            events[0].index.as_deref(),
            Some("logs-endpoint.events.process-default")
        );
        assert_eq!(r.read_stats().decoded_bytes, text.len() as u64);
    }
}

#[test]
fn json_no_marker_identifies_reads_exactly_as_talon_event_reads_it() {
    // Detection reads `[[` followed by `}` as no JSON it knows; talon-event
    // still finds the `{}` in it. Unrecognised input goes to talon-event,
    // so the CLI gives what it gave before sources were detected.
    let text = "[[\n}{}[";
    let run = common::run_text(text, None);
    let (plain, stats) = talon_event::read::EventReader::from_reader(
        "test",
        std::io::Cursor::new(text.as_bytes().to_vec()),
        ReadOptions::default(),
    )
    .read_all();
    assert_eq!((run.events.len(), plain.len()), (1, 1));
    assert_eq!(run.events[0].source(), plain[0].source());
    assert_eq!(run.read.skipped, stats.skipped);
    assert_eq!(run.stats.unrecognised, 1);
}

/// `text` gzipped and cut in half, far enough in that its start decodes
/// past the detection window (the error comes after the peek).
fn cut_gzip(text: &str) -> Vec<u8> {
    let mut bytes = gzip(text);
    bytes.truncate(bytes.len() / 2);
    bytes
}

/// The issues of reading one input: (line, reason, message).
fn issues_of(r: NormalizingReader) -> Vec<(u64, SkipReason, String)> {
    r.filter_map(Result::err)
        .map(|i| (i.line, i.reason, i.message))
        .collect()
}

/// A cut gzip on stdin (decoded here, since a pipe cannot be reopened,
/// and handed to talon-event as text) was `unreadable: read error: ...`,
/// though the same file named was `decompression: gzip: ...`. Now both
/// are the same decompression issue, for ECS and for a raw log alike.
#[test]
fn a_cut_gzip_is_a_decompression_issue_from_a_pipe_as_from_a_file() {
    let ecs: String = (0..4000)
        .map(|i| ECS_LINE.replacen("\"id\"", &format!("\"id{i}\""), 1) + "\n")
        .collect();
    let audit = PARENT.repeat(2000);
    for (name, text) in [("ecs", ecs), ("auditd", audit)] {
        let cut = cut_gzip(&text);
        let file = TempFile::new(&format!("{name}.gz"), &cut);
        let from_file = issues_of(NormalizingReader::from_inputs(
            vec![InputSpec::Path(file.0.clone())],
            None,
            NormalizeOptions::default(),
        ));
        let from_pipe = issues_of(NormalizingReader::new(
            "-",
            std::io::Cursor::new(cut),
            None,
            NormalizeOptions::default(),
        ));
        assert_eq!(from_pipe, from_file, "{name}");
        assert_eq!(from_file.len(), 1, "{name}: {from_file:?}");
        let (line, reason, message) = &from_file[0];
        assert!(*line > 1, "{name}: read up to the cut");
        assert_eq!(*reason, SkipReason::Decompression, "{name}");
        assert!(
            message.starts_with("gzip: ") && message.ends_with("; rest of input skipped"),
            "{name}: {message}"
        );
    }
}
