//! Falco: execve alerts become Elastic Defend-shaped process starts; other
//! alerts are counted as ignored by syscall; the seed rule fires.

mod common;

use common::{assert_fires, run_file, run_text, strs};
use talon_event::Fields;
use talon_sources::{IgnoreReason, Source, ValueReason};

/// Written for this test in Falco's JSON output format (`json_output:
/// true`, a "spawned process" rule whose output names the fields): an
/// interactive bash, then `sysctl -w net.ipv4.ip_forward=1` from it.
const SPAWNED: &str = concat!(
    r#"{"hostname":"web-01","output":"16:00:00.120334512: Notice Process spawned (user=root user_loginuid=1000 command=bash pid=4100 ppid=4001 parent=sshd exepath=/usr/bin/bash container_id=host)","priority":"Notice","rule":"Terminal shell in host","source":"syscall","tags":["T1059","host","mitre_execution","shell"],"time":"2024-06-10T16:00:00.120334512Z","output_fields":{"container.id":"host","container.name":"host","evt.time":1718035200120334512,"evt.type":"execve","proc.cmdline":"bash","proc.cwd":"/root/","proc.exepath":"/usr/bin/bash","proc.name":"bash","proc.pcmdline":"sshd: alice [priv]","proc.pexepath":"/usr/sbin/sshd","proc.pid":4100,"proc.pname":"sshd","proc.ppid":4001,"proc.tty":34816,"user.loginuid":1000,"user.name":"root","user.uid":0}}"#,
    "\n",
    r#"{"hostname":"web-01","output":"16:00:07.877412345: Notice IP forwarding changed by command (user=root command=sysctl -w net.ipv4.ip_forward=1 pid=4242 ppid=4100 parent=bash exepath=/usr/sbin/sysctl container_id=host)","priority":"Notice","rule":"Network forwarding enabled","source":"syscall","tags":["T1090","host","network"],"time":"2024-06-10T16:00:07.877412345Z","output_fields":{"container.id":"host","container.name":"host","evt.time":1718035207877412345,"evt.type":"execve","proc.cmdline":"sysctl -w net.ipv4.ip_forward=1","proc.cwd":"/root/","proc.exepath":"/usr/sbin/sysctl","proc.name":"sysctl","proc.pcmdline":"bash","proc.pexepath":"/usr/bin/bash","proc.pid":4242,"proc.pname":"bash","proc.ppid":4100,"proc.tty":34816,"user.loginuid":1000,"user.name":"root","user.uid":0}}"#,
    "\n",
    r#"{"hostname":"web-01","output":"16:00:07.880112001: Warning Sensitive file written (file=/proc/sys/net/ipv4/ip_forward command=sysctl -w net.ipv4.ip_forward=1)","priority":"Warning","rule":"Write below proc sys","source":"syscall","tags":["host"],"time":"2024-06-10T16:00:07.880112001Z","output_fields":{"evt.time":1718035207880112001,"evt.type":"openat","fd.name":"/proc/sys/net/ipv4/ip_forward","proc.cmdline":"sysctl -w net.ipv4.ip_forward=1","proc.exepath":"/usr/sbin/sysctl","proc.name":"sysctl","proc.pid":4242,"proc.ppid":4100,"user.name":"root","user.uid":0}}"#,
    "\n",
);

#[test]
fn sysctl_ip_forward_alert_is_a_defend_exec() {
    let run = run_text(SPAWNED, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (3, 2));
    assert_eq!(
        run.stats.ignored_kinds.get("falco evt.type openat"),
        Some(&1)
    );

    let e = run.named("sysctl")[0];
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
    assert_eq!(e.first_str("event.module"), Some("falco"));
    assert_eq!(e.first_str("agent.type"), Some("falco"));
    assert_eq!(e.first_str("rule.name"), Some("Network forwarding enabled"));
    assert_eq!(e.first_str("host.name"), Some("web-01"));
    assert_eq!(e.first_str("host.os.type"), Some("linux"));
    assert_eq!(e.first_str("process.executable"), Some("/usr/sbin/sysctl"));
    assert_eq!(
        e.first_str("process.command_line"),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );
    assert_eq!(
        strs(e, "process.args"),
        ["sysctl", "-w", "net.ipv4.ip_forward=1"]
    );
    assert_eq!(strs(e, "process.args_count"), ["3"]);
    assert_eq!(strs(e, "process.pid"), ["4242"]);
    assert_eq!(strs(e, "process.parent.pid"), ["4100"]);
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(e.first_str("process.working_directory"), Some("/root/"));
    assert_eq!(e.first_str("user.id"), Some("0"));
    assert_eq!(e.first_str("user.audit.id"), Some("1000"));
    assert!(
        e.values("container.id").is_empty(),
        "container.id `host` means no container"
    );
    assert_eq!(strs(e, "tags"), ["T1090", "host", "network"]);
    assert!(
        e.values("talon.enriched").is_empty(),
        "Falco named the parent"
    );
    assert_fires(e, true);
}

#[test]
fn without_pexepath_the_tree_fills_the_parent() {
    // Falco before 0.35 has no proc.pexepath: only the parent's name.
    let old = SPAWNED.replace(r#""proc.pexepath":"/usr/bin/bash","#, "");
    let run = run_text(&old, Some(Source::Falco));
    let e = run.named("sysctl")[0];
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(strs(e, "talon.enriched"), ["process.parent.executable"]);
    assert_fires(e, true);
}

/// Falco writes `<NA>` for a field it has no value for. A sysctl whose
/// parent Falco never saw had `process.parent.executable: "<NA>"`, which
/// passed the seed rule's `?process.parent.executable != null` guard, and
/// the rule fired. `<NA>` is now no value, and the process tree fills the
/// parent when it saw one.
#[test]
fn not_available_placeholders_are_no_value() {
    let na = SPAWNED
        .replace(
            r#""proc.pexepath":"/usr/bin/bash""#,
            r#""proc.pexepath":"<NA>""#,
        )
        .replace(r#""proc.pname":"bash""#, r#""proc.pname":"<NA>""#)
        .replace(r#""proc.pcmdline":"bash""#, r#""proc.pcmdline":"<NA>""#);
    assert_ne!(na, SPAWNED);
    // Without the parent's own exec, there is no parent at all.
    let alone: String = na.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let run = run_text(&alone, Some(Source::Falco));
    let e = run.named("sysctl")[0];
    assert_eq!(e.first_str("process.parent.executable"), None);
    assert_eq!(e.first_str("process.parent.name"), None);
    assert!(e.values("process.parent.args").is_empty());
    assert_fires(e, false);
    // With it, the tree fills the parent as when the fields are absent.
    let run = run_text(&na, Some(Source::Falco));
    let e = run.named("sysctl")[0];
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_fires(e, true);
}

/// An alert whose `time` is no date, without `evt.time`, lost its time
/// without a trace: a hunt then said the event had no `@timestamp`. The
/// text is now kept, so the hunt names it as a time that is no date.
#[test]
fn a_time_that_is_no_date_is_kept_as_written() {
    let line = SPAWNED.lines().nth(1).expect("the sysctl alert");
    let odd = line
        .replace(
            "\"time\":\"2024-06-10T16:00:07.877412345Z\"",
            "\"time\":\"yesterday\"",
        )
        .replace("\"evt.time\":1718035207877412345,", "");
    assert_ne!(odd, line);
    let run = run_text(&format!("{odd}\n"), Some(Source::Falco));
    let e = run.named("sysctl")[0];
    assert_eq!(e.first_str("@timestamp"), Some("yesterday"));
    let run = run_text(&format!("{line}\n"), Some(Source::Falco));
    assert_eq!(
        run.named("sysctl")[0].first_str("@timestamp"),
        Some("2024-06-10T16:00:07.877412345Z")
    );
}

#[test]
fn alerts_without_output_fields_are_issues() {
    let run = run_text(
        "{\"rule\":\"x\",\"output_fields\":{}}\n{\"rule\":\"y\"}\nnot json\n",
        Some(Source::Falco),
    );
    assert_eq!(run.events.len(), 0);
    assert_eq!(run.stats.records, 3);
    assert_eq!(run.issues.len(), 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 1);
    assert_eq!(
        run.stats.ignored_for(IgnoreReason::UnsupportedKind),
        1,
        "empty output_fields: no command line"
    );
}

/// Pids past a `long` were read as `i64::MAX`: two different ones became
/// the same pid, and the process tree made the first exec the second's
/// parent (so the seed rule fired on a parent nobody saw). They are now
/// no pid at all.
#[test]
fn pids_past_a_long_are_no_pid() {
    let text = concat!(
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:00Z","output_fields":{"evt.type":"execve","proc.cmdline":"bash","proc.exepath":"/usr/bin/bash","proc.name":"bash","proc.pid":18446744073709551615,"proc.ppid":1}}"#,
        "\n",
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:07Z","output_fields":{"evt.type":"execve","proc.cmdline":"sysctl -w net.ipv4.ip_forward=1","proc.exepath":"/usr/sbin/sysctl","proc.name":"sysctl","proc.pid":4242,"proc.ppid":1e19}}"#,
        "\n",
    );
    let run = run_text(text, None);
    assert_eq!(run.events.len(), 2, "{:?}", run.issues);
    let bash = run.named("bash")[0];
    assert!(bash.values("process.pid").is_empty());
    assert_eq!(strs(bash, "process.parent.pid"), ["1"]);
    let sysctl = run.named("sysctl")[0];
    assert_eq!(strs(sysctl, "process.pid"), ["4242"]);
    assert!(sysctl.values("process.parent.pid").is_empty());
    assert!(sysctl.values("process.parent.executable").is_empty());
    assert_eq!(run.stats.tree.enriched, 0);
    assert_fires(sysctl, false);
    // Not silently: each is said at its value, and counted; the events
    // still count as events, not ignored records.
    let said = run.unread_said();
    assert_eq!(
        said,
        [
            "test:1:216: out-of-range: proc.pid 18446744073709551615 is out of range: process.pid left out",
            "test:2:265: out-of-range: proc.ppid 1e+19 is out of range: process.parent.pid left out",
        ]
    );
    assert_eq!(
        run.stats.unread_values.get(&ValueReason::OutOfRange),
        Some(&2)
    );
    assert_eq!((run.stats.records, run.stats.events), (2, 2));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(
        text.lines().next().unwrap().find("18446744073709551615"),
        Some(215)
    );
}

/// A pid of the wrong type (`true`, `"4x"`, `2.5`) was dropped without a
/// word; it is said, where it is, and the event kept.
#[test]
fn pids_of_the_wrong_type_are_said_where_they_are() {
    let text = concat!(
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:00Z","#,
        "\n  ",
        r#""output_fields":{"evt.type":"execve","proc.cmdline":"bash","proc.name":"bash","proc.pid":"4x","proc.ppid":2.5}}"#,
        "\n",
    );
    let run = run_text(text, Some(Source::Falco));
    assert_eq!(run.events.len(), 1, "{:?}", run.issues);
    assert!(run.events[0].values("process.pid").is_empty());
    let said = run.unread_said();
    assert_eq!(
        said,
        [
            "test:2:92: not-an-integer: proc.pid \"4x\" is not an integer: process.pid left out",
            "test:2:109: not-an-integer: proc.ppid 2.5 is not an integer: process.parent.pid left out",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "1 record, 1 event, 0 merged, 0 ignored; 2 unreadable values left out (not-an-integer: 2)"
    );
}

/// A login uid that is no number was dropped without a word, as the pids
/// were: it is said at its value and counted, and the exec kept; `-1`
/// (no login session) is no value, and not said.
#[test]
fn an_unreadable_loginuid_is_said_where_it_is() {
    let text = concat!(
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:00Z","output_fields":{"evt.type":"execve","proc.cmdline":"bash","proc.name":"bash","proc.pid":4100,"user.loginuid":"alice"}}"#,
        "\n",
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:01Z","output_fields":{"evt.type":"execve","proc.cmdline":"id","proc.name":"id","proc.pid":4101,"user.loginuid":-1}}"#,
        "\n",
        r#"{"hostname":"web-01","output":"x","priority":"Notice","rule":"r","time":"2024-06-10T16:00:02Z","output_fields":{"evt.type":"execve","proc.cmdline":"w","proc.name":"w","proc.pid":4102,"user.loginuid":18446744073709551616}}"#,
        "\n",
    );
    let run = run_text(text, Some(Source::Falco));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 3);
    for e in &run.events {
        assert!(e.values("user.audit.id").is_empty(), "{}", e.source());
    }
    assert_eq!(strs(&run.events[0], "process.pid"), ["4100"]);
    assert_eq!(
        run.unread_said(),
        [
            "test:1:206: not-an-integer: user.loginuid \"alice\" is not an integer: user.audit.id left out",
            "test:3:200: out-of-range: user.loginuid 1.8446744073709552e+19 is out of range: user.audit.id left out",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "3 records, 3 events, 0 merged, 0 ignored; \
         2 unreadable values left out (not-an-integer: 1, out-of-range: 1)"
    );
}

#[test]
fn corpus_sample_converts() {
    let Some(root) = common::corpora() else {
        return;
    };
    let run = run_file(
        &root.join("events/falco/integrations-falco-test-falco.first4lines.log"),
        None,
    );
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.events.len()), (4, 2));
    assert_eq!(
        run.stats.ignored_kinds.get("falco evt.type openat"),
        Some(&2)
    );
    let login = run.named("login")[0];
    assert_eq!(
        login.first_str("process.executable"),
        Some("/bin/busybox"),
        "an applet keeps its name"
    );
    assert_eq!(login.first_str("user.name"), Some("daemon"));
    assert_eq!(login.first_str("container.id"), Some("9656db3bb358"));
    assert_eq!(
        login.first_str("@timestamp"),
        Some("2024-05-07T18:54:20.008519431Z")
    );
    let bash = run.named("bash")[0];
    // Falco joined the argv with spaces; the split cannot restore "ls > /dev/null".
    assert_eq!(
        strs(bash, "process.args"),
        ["bash", "-c", "ls", ">", "/dev/null"]
    );
    assert_eq!(
        bash.first_str("process.parent.executable"),
        Some("/bin/event-generator")
    );
    assert_eq!(
        bash.first_str("process.parent.command_line"),
        Some("httpd --loglevel info run ^helper.RunShell$")
    );
}
