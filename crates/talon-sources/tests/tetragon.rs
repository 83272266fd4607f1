//! Tetragon: process_exec / process_exit (NDJSON or pretty-printed) become
//! Elastic Defend-shaped process events with their parent; the seed rule
//! fires on an IP-forwarding exec.

mod common;

use common::{assert_fires, run_file, run_text, strs};
use talon_event::Fields;
use talon_sources::Source;

/// Written for this test in Tetragon's export format: `sysctl -w
/// net.ipv4.ip_forward=1` from a bash in a privileged pod, its exit, and a
/// kprobe event (not mapped).
const EXPORT: &str = concat!(
    r#"{"process_exec":{"process":{"exec_id":"d2ViLTAxOjE3MTgwMzUyMDc4Nzc6NDI0Mg==","pid":4242,"uid":0,"cwd":"/root","binary":"/usr/sbin/sysctl","arguments":"-w net.ipv4.ip_forward=1","flags":"execve clone","start_time":"2024-06-10T16:00:07.877412345Z","auid":4294967295,"pod":{"namespace":"kube-system","name":"net-tuner-7c9f","container":{"id":"containerd://5f0c2ae1b7d94e0f8f1a3c1d2b4e6a7c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a","name":"tuner","image":{"id":"docker.io/library/alpine@sha256:77726ef6b57ddf65bb551896826ec38bc3e53f75cdde31354fbffb4f25238ebd","name":"docker.io/library/alpine:3.20"},"start_time":"2024-06-10T15:59:58Z","pid":12},"pod_labels":{"app":"net-tuner"}},"docker":"5f0c2ae1b7d94e0f8f1a3c1d2b4e6a7","parent_exec_id":"d2ViLTAxOjE3MTgwMzUyMDAxMjA6NDEwMA==","refcnt":1},"parent":{"exec_id":"d2ViLTAxOjE3MTgwMzUyMDAxMjA6NDEwMA==","pid":4100,"uid":0,"cwd":"/root","binary":"/bin/bash","flags":"execve clone","start_time":"2024-06-10T16:00:00.120334512Z","auid":4294967295,"parent_exec_id":"d2ViLTAxOjE3MTgwMzUxOTkwMDA6NDAwMQ==","refcnt":2}},"node_name":"web-01","time":"2024-06-10T16:00:07.877412345Z"}"#,
    "\n",
    r#"{"process_exit":{"process":{"exec_id":"d2ViLTAxOjE3MTgwMzUyMDc4Nzc6NDI0Mg==","pid":4242,"uid":0,"cwd":"/root","binary":"/usr/sbin/sysctl","arguments":"-w net.ipv4.ip_forward=1","flags":"execve clone","start_time":"2024-06-10T16:00:07.877412345Z","auid":4294967295},"parent":{"exec_id":"d2ViLTAxOjE3MTgwMzUyMDAxMjA6NDEwMA==","pid":4100,"binary":"/bin/bash"},"status":0,"time":"2024-06-10T16:00:07.881001002Z"},"node_name":"web-01","time":"2024-06-10T16:00:07.881001002Z"}"#,
    "\n",
    r#"{"process_kprobe":{"process":{"pid":4242,"binary":"/usr/sbin/sysctl"},"function_name":"security_file_permission","action":"KPROBE_ACTION_POST"},"node_name":"web-01","time":"2024-06-10T16:00:07.879000000Z"}"#,
    "\n",
);

#[test]
fn sysctl_exec_is_a_defend_exec_with_its_parent() {
    let run = run_text(EXPORT, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (3, 2));
    assert_eq!(
        run.stats.ignored_kinds.get("tetragon process_kprobe"),
        Some(&1)
    );
    let e = &run.events[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(
        e.first_str("@timestamp"),
        Some("2024-06-10T16:00:07.877412345Z")
    );
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(e.first_str("event.module"), Some("tetragon"));
    assert_eq!(e.first_str("host.name"), Some("web-01"));
    assert_eq!(e.first_str("process.executable"), Some("/usr/sbin/sysctl"));
    assert_eq!(e.first_str("process.name"), Some("sysctl"));
    assert_eq!(
        strs(e, "process.args"),
        ["/usr/sbin/sysctl", "-w", "net.ipv4.ip_forward=1"]
    );
    assert_eq!(strs(e, "process.args_count"), ["3"]);
    assert_eq!(
        e.first_str("process.command_line"),
        Some("/usr/sbin/sysctl -w net.ipv4.ip_forward=1")
    );
    assert_eq!(
        e.first_str("process.entity_id"),
        Some("d2ViLTAxOjE3MTgwMzUyMDc4Nzc6NDI0Mg==")
    );
    assert_eq!(
        e.first_str("process.start"),
        Some("2024-06-10T16:00:07.877412345Z")
    );
    assert_eq!(e.first_str("process.working_directory"), Some("/root"));
    assert_eq!(e.first_str("user.id"), Some("0"));
    assert!(
        e.values("user.audit.id").is_empty(),
        "auid 4294967295 is unset"
    );
    assert_eq!(strs(e, "process.parent.pid"), ["4100"]);
    assert_eq!(e.first_str("process.parent.executable"), Some("/bin/bash"));
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(strs(e, "process.parent.args"), ["/bin/bash"]);
    assert_eq!(
        e.first_str("container.id"),
        Some("5f0c2ae1b7d94e0f8f1a3c1d2b4e6a7c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a")
    );
    assert_eq!(
        e.first_str("container.image.name"),
        Some("docker.io/library/alpine:3.20")
    );
    assert_eq!(e.first_str("orchestrator.namespace"), Some("kube-system"));
    assert_eq!(
        e.first_str("orchestrator.resource.name"),
        Some("net-tuner-7c9f")
    );
    assert!(e.values("talon.enriched").is_empty());
    assert_fires(e, true);

    let exit = &run.events[1];
    assert_eq!(strs(exit, "event.type"), ["end"]);
    assert_eq!(strs(exit, "process.exit_code"), ["0"]);
    assert_fires(exit, false);
}

#[test]
fn pretty_printed_and_ndjson_read_alike() {
    let one_line = EXPORT.lines().next().unwrap();
    let value: serde_json::Value = serde_json::from_str(one_line).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    let a = run_text(one_line, Some(Source::Tetragon));
    let b = run_text(&pretty, None);
    assert_eq!(a.events.len(), 1);
    assert_eq!(a.events[0].source(), b.events[0].source());
    assert_eq!(b.events[0].origin.line, 1);
}

#[test]
fn quoted_arguments_split_with_shell_rules() {
    let text = r#"{"process_exec":{"process":{"pid":7,"binary":"/bin/sh","arguments":"-c \"echo 1 > /proc/sys/net/ipv4/ip_forward\""},"parent":{"pid":6,"binary":"/usr/bin/python3","arguments":"/opt/app/run.py"}},"node_name":"n","time":"2024-06-10T16:00:00Z"}"#;
    let run = run_text(text, None);
    let e = &run.events[0];
    assert_eq!(
        strs(e, "process.args"),
        ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]
    );
    assert_eq!(
        e.first_str("process.command_line"),
        Some(r#"/bin/sh -c "echo 1 > /proc/sys/net/ipv4/ip_forward""#)
    );
    assert_fires(e, true);
}

/// (file under corpora/events/tetragon, events, the first exec's args).
const SAMPLES: &[(&str, usize, &[&str])] = &[
    ("testdata-events.json", 3, &["/usr/bin/netserver", "-D"]),
    ("secobs-host-namespace-bash.json", 1, &[]),
    ("secobs-merlin-agent-scp-sh.json", 1, &[]),
    (
        "secobs-merlin-agent-sh.json",
        1,
        &["/bin/sh", "-c", "7z a s3nsitiv3.7z ../ops_bank_accounts/"],
    ),
    ("secobs-merlin-agent-ssh-tunnel-connect.json", 1, &[]),
    ("secobs-nginx-execution.json", 1, &[]),
    ("secobs-privileged-pod-bash.json", 1, &[]),
    ("secobs-privileged-pod-nsenter.json", 1, &[]),
];

#[test]
fn corpus_samples_convert() {
    let Some(root) = common::corpora() else {
        return;
    };
    for (file, events, args) in SAMPLES {
        let run = run_file(&root.join("events/tetragon").join(file), None);
        assert!(run.issues.is_empty(), "{file}: {:?}", run.issues);
        assert_eq!(run.events.len(), *events, "{file}: {}", run.stats);
        assert_eq!(run.stats.records, *events as u64, "{file}");
        if !args.is_empty() {
            assert_eq!(strs(&run.events[0], "process.args"), *args, "{file}");
        }
        for e in &run.events {
            assert!(
                !e.values("process.parent.executable").is_empty(),
                "{file}: parent given"
            );
        }
    }
    let run = run_file(
        &root.join("events/tetragon/secobs-merlin-agent-ssh-tunnel-connect.json"),
        None,
    );
    let c = &run.events[0];
    assert_eq!(
        c.index.as_deref(),
        Some("logs-endpoint.events.network-default")
    );
    assert_eq!(c.first_str("destination.ip"), Some("34.116.205.187"));
    assert_eq!(strs(c, "destination.port"), ["22"]);
    assert_eq!(c.first_str("network.transport"), Some("tcp"));
    assert_eq!(c.first_str("process.name"), Some("ssh"));
}

/// An exec whose `time` does not read as a date takes its process's
/// `start_time`, as one without `time` does; an event without a process
/// object is ignored with its reason, not read as an empty exec.
#[test]
fn an_unreadable_time_falls_back_and_a_missing_process_is_ignored() {
    let exec = EXPORT.lines().next().expect("exec line");
    let bad_time = exec.replace(
        r#""time":"2024-06-10T16:00:07.877412345Z""#,
        r#""time":"not a time""#,
    );
    assert_ne!(bad_time, exec);
    let no_process =
        r#"{"process_exec":{"process":null},"node_name":"web-01","time":"2024-06-10T16:00:07Z"}"#;
    let empty_process =
        r#"{"process_exec":{"process":{}},"node_name":"web-01","time":"2024-06-10T16:00:07Z"}"#;
    let run = run_text(
        &format!("{bad_time}\n{no_process}\n{empty_process}\n"),
        None,
    );
    assert_eq!((run.stats.records, run.stats.events), (3, 1));
    assert_eq!(
        run.events[0].first_str("@timestamp"),
        Some("2024-06-10T16:00:07.877412345Z")
    );
    assert_eq!(
        run.stats
            .ignored_kinds
            .get("tetragon process_exec without process"),
        Some(&2),
        "{:?}",
        run.stats
    );
}

/// A uid, login uid, port or exit status that is no number was dropped
/// without a word, while the pids beside them were reported: each is said
/// at its value (its line in a pretty-printed document) and counted, and the
/// event kept without it.
#[test]
fn unreadable_uids_ports_and_statuses_are_said_where_they_are() {
    let text = concat!(
        "{\n",
        r#"  "process_connect": {"process":{"pid":4300,"uid":"root","binary":"/usr/bin/curl","arguments":"http://10.0.0.1/"},"source_ip":"10.0.0.2","source_port":"ephemeral","destination_ip":"10.0.0.1","destination_port":80,"protocol":"TCP"},"#,
        "\n  \"node_name\": \"web-01\", \"time\": \"2024-06-10T16:00:08Z\"\n",
        "}\n{\n",
        "  \"process_exit\": {\n",
        "    \"process\": {\"pid\": 4300, \"uid\": 0, \"auid\": 99999999999999999999, \"binary\": \"/usr/bin/curl\"},\n",
        "    \"status\": 2.5\n",
        "  },\n",
        "  \"node_name\": \"web-01\",\n",
        "  \"time\": \"2024-06-10T16:00:09Z\"\n",
        "}\n",
    );
    let run = run_text(text, Some(Source::Tetragon));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 2);
    let connect = &run.events[0];
    assert_eq!(
        connect.first_str("event.action"),
        Some("connection_attempted")
    );
    assert!(connect.values("user.id").is_empty());
    assert!(connect.values("source.port").is_empty());
    assert_eq!(strs(connect, "destination.port"), ["80"]);
    let exit = &run.events[1];
    assert_eq!(exit.first_str("user.id"), Some("0"));
    assert!(exit.values("user.audit.id").is_empty());
    assert!(exit.values("process.exit_code").is_empty());
    assert_eq!(
        run.unread_said(),
        [
            "test:2:51: not-an-integer: uid \"root\" is not an integer: user.id left out",
            "test:2:152: not-an-integer: source_port \"ephemeral\" is not an integer: source.port left out",
            "test:7:48: out-of-range: auid 1e+20 is out of range: user.audit.id left out",
            "test:8:15: not-an-integer: status 2.5 is not an integer: process.exit_code left out",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "2 records, 2 events, 0 merged, 0 ignored; \
         4 unreadable values left out (not-an-integer: 3, out-of-range: 1)"
    );
}
