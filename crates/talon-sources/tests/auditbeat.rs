//! Auditbeat / Elastic Agent auditd documents: `executed` becomes Defend's
//! `exec` start with a command line, the parent comes from the tree, and
//! the seed rule fires; the integration sample shows what was missing.

mod common;

use common::{assert_fires, run_file, run_text, strs};
use talon_event::Fields;
use talon_sources::Source;

fn doc(ts: &str, seq: u32, pid: u32, ppid: u32, exe: &str, args: &[&str]) -> String {
    let args_json = serde_json::to_string(args).unwrap();
    let name = exe.rsplit('/').next().unwrap();
    format!(
        r#"{{"@timestamp":"{ts}","event":{{"module":"auditd","category":["process"],"type":["start"],"action":"executed","outcome":"success","kind":"event"}},"host":{{"name":"web-01","hostname":"web-01","os":{{"type":"linux","family":"debian","name":"Debian GNU/Linux","version":"12 (bookworm)"}}}},"agent":{{"type":"auditbeat","version":"8.14.0"}},"process":{{"pid":{pid},"parent":{{"pid":{ppid}}},"executable":"{exe}","name":"{name}","args":{args_json},"working_directory":"/root"}},"user":{{"id":"0","name":"root","audit":{{"id":"1000","name":"alice"}}}},"auditd":{{"sequence":{seq},"result":"success","session":"3","summary":{{"actor":{{"primary":"alice","secondary":"root"}},"action":"executed","object":{{"type":"file","primary":"{exe}"}},"how":"{exe}"}},"data":{{"syscall":"execve","arch":"x86_64","argc":"{}","tty":"pts0"}}}},"ecs":{{"version":"8.0.0"}}}}"#,
        args.len()
    )
}

/// Written for this test in Auditbeat's auditd-module output: an
/// interactive bash, `sysctl -w net.ipv4.ip_forward=1` from it, and a
/// connection (kept, routed to the network stream).
fn ip_forward() -> String {
    let connect = r#"{"@timestamp":"2024-06-10T16:00:09.000Z","event":{"module":"auditd","category":["network"],"type":["connection","start"],"action":"connected-to","outcome":"success"},"host":{"name":"web-01"},"process":{"pid":4300,"executable":"/usr/bin/curl"},"destination":{"ip":"203.0.113.7","port":443}}"#;
    format!(
        "{}\n{}\n{connect}\n",
        doc(
            "2024-06-10T16:00:00.120Z",
            5101,
            4100,
            4001,
            "/usr/bin/bash",
            &["bash"]
        ),
        doc(
            "2024-06-10T16:00:07.877Z",
            5140,
            4242,
            4100,
            "/usr/sbin/sysctl",
            &["sysctl", "-w", "net.ipv4.ip_forward=1"]
        ),
    )
}

#[test]
fn executed_becomes_exec_with_command_line_and_parent() {
    let run = run_text(&ip_forward(), None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (3, 3));
    let e = run.named("sysctl")[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(
        e.first_str("auditd.summary.action"),
        Some("executed"),
        "the original is kept"
    );
    assert_eq!(e.first_str("agent.type"), Some("auditbeat"));
    assert_eq!(e.first_str("event.module"), Some("auditd"));
    assert_eq!(e.first_str("ecs.version"), Some("8.0.0"));
    assert_eq!(
        e.first_str("process.command_line"),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );
    assert_eq!(strs(e, "process.args_count"), ["3"]);
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(
        strs(e, "talon.enriched"),
        [
            "process.parent.name",
            "process.parent.executable",
            "process.parent.args",
            "process.parent.args_count",
            "process.parent.command_line"
        ]
    );
    assert_fires(e, true);

    let net = &run.events[2];
    assert_eq!(
        net.index.as_deref(),
        Some("logs-endpoint.events.network-default")
    );
    assert_eq!(net.first_str("event.action"), Some("connected-to"));
    assert_eq!(strs(net, "destination.port"), ["443"]);
}

#[test]
fn dotted_keys_merge_with_nested_ones() {
    let text = r#"{"event.action":"executed","event":{"module":"auditd"},"process.args":["id","-u"],"process":{"executable":"/usr/bin/id","pid":9},"host.name":"h"}"#;
    let run = run_text(text, Some(Source::Auditbeat));
    let e = &run.events[0];
    assert_eq!(e.first_str("process.command_line"), Some("id -u"));
    assert_eq!(e.first_str("process.name"), Some("id"));
    let doc: serde_json::Value = serde_json::from_str(e.source()).unwrap();
    assert_eq!(doc["process"]["executable"], "/usr/bin/id");
    assert_eq!(doc["event"]["action"], "exec");
}

#[test]
fn integration_sample_gets_what_the_rule_needs() {
    let Some(root) = common::corpora() else {
        return;
    };
    let path = root
        .join("events/auditbeat_ecs/integrations-auditd-test-coalesced-syscall-execve-events.json");
    let run = run_file(&path, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.events.len()), (1, 1));
    let e = &run.events[0];
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(
        e.first_str("process.command_line"),
        Some("auditctl -a exit,always -F arch=b32 -S execve")
    );
    assert_eq!(strs(e, "process.args_count"), ["7"]);
    assert_eq!(e.first_str("host.os.type"), Some("linux"));
    assert_eq!(strs(e, "process.parent.pid"), ["1299"]);
    // Only the parent's pid is known and its exec is not in the file.
    assert!(e.values("process.parent.executable").is_empty());
    assert_eq!(run.stats.tree.missed, 1);
}
