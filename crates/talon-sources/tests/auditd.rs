//! Raw auditd: exec groups become Elastic Defend-shaped exec events, the
//! parent is filled from its own exec, and the seed rule fires; the
//! go-libaudit sample logs convert with every record accounted for.

mod common;

use common::{run_bytes, run_file, run_text, run_text_with, seed_rule_fires, strs};
use talon_event::Fields;
use talon_sources::{AuditWindow, IgnoreReason, NormalizeOptions, Source};

/// An interactive root shell (parent), `sysctl -w net.ipv4.ip_forward=1`
/// run from it, an unrelated `openat`, and `bash -c "echo 1 > …"` with
/// its argument hex-encoded (it holds spaces), on node `web-01`, in the
/// enriched format newer auditd writes (names after a 0x1d byte).
const IP_FORWARD: &str = concat!(
    "node=web-01 type=SYSCALL msg=audit(1718035200.120:5101): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1a2b2f0 a1=55d0c1a2b350 a2=55d0c1a2b370 a3=0 items=2 ppid=4001 pid=4100 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"bash\" exe=\"/usr/bin/bash\" subj=unconfined key=\"exec\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"\n",
    "node=web-01 type=EXECVE msg=audit(1718035200.120:5101): argc=1 a0=\"bash\"\n",
    "node=web-01 type=CWD msg=audit(1718035200.120:5101): cwd=\"/root\"\n",
    "node=web-01 type=PATH msg=audit(1718035200.120:5101): item=0 name=\"/bin/bash\" inode=1835106 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=PATH msg=audit(1718035200.120:5101): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=1837463 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=PROCTITLE msg=audit(1718035200.120:5101): proctitle=\"bash\"\n",
    "node=web-01 type=EOE msg=audit(1718035200.120:5101): \n",
    "node=web-01 type=SYSCALL msg=audit(1718035207.877:5140): arch=c000003e syscall=59 success=yes exit=0 a0=5611e1f0a8c0 a1=5611e1f0a900 a2=5611e1f0a920 a3=8 items=2 ppid=4100 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"sysctl\" exe=\"/usr/sbin/sysctl\" subj=unconfined key=\"exec\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\" GID=\"root\" EUID=\"root\" SUID=\"root\" FSUID=\"root\" EGID=\"root\" SGID=\"root\" FSGID=\"root\"\n",
    "node=web-01 type=EXECVE msg=audit(1718035207.877:5140): argc=3 a0=\"sysctl\" a1=\"-w\" a2=\"net.ipv4.ip_forward=1\"\n",
    "node=web-01 type=CWD msg=audit(1718035207.877:5140): cwd=\"/root\"\n",
    "node=web-01 type=PATH msg=audit(1718035207.877:5140): item=0 name=\"/usr/sbin/sysctl\" inode=1835592 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=PATH msg=audit(1718035207.877:5140): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=1837463 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=PROCTITLE msg=audit(1718035207.877:5140): proctitle=73797363746C002D77006E65742E697076342E69705F666F72776172643D31\n",
    "node=web-01 type=EOE msg=audit(1718035207.877:5140): \n",
    "node=web-01 type=SYSCALL msg=audit(1718035207.880:5141): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd1c9e5e40 a2=80241 a3=1b6 items=2 ppid=4100 pid=4242 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"sysctl\" exe=\"/usr/sbin/sysctl\" subj=unconfined key=\"sysctl\"\n",
    "node=web-01 type=CWD msg=audit(1718035207.880:5141): cwd=\"/root\"\n",
    "node=web-01 type=PATH msg=audit(1718035207.880:5141): item=0 name=\"/proc/sys/net/ipv4/ip_forward\" inode=81234 dev=00:15 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=EOE msg=audit(1718035207.880:5141): \n",
    "node=web-01 type=SYSCALL msg=audit(1718035261.502:5177): arch=c000003e syscall=59 success=yes exit=0 a0=55d0c1a4e6a0 a1=55d0c1a4e700 a2=55d0c1a4e720 a3=0 items=2 ppid=4100 pid=4288 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"bash\" exe=\"/usr/bin/bash\" subj=unconfined key=\"exec\"\n",
    "node=web-01 type=EXECVE msg=audit(1718035261.502:5177): argc=3 a0=\"bash\" a1=\"-c\" a2=6563686F2031203E202F70726F632F7379732F6E65742F697076342F69705F666F7277617264\n",
    "node=web-01 type=CWD msg=audit(1718035261.502:5177): cwd=\"/root\"\n",
    "node=web-01 type=PATH msg=audit(1718035261.502:5177): item=0 name=\"/bin/bash\" inode=1835106 dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
    "node=web-01 type=PROCTITLE msg=audit(1718035261.502:5177): proctitle=62617368002D63006563686F2031203E202F70726F632F7379732F6E65742F697076342F69705F666F7277617264\n",
    "node=web-01 type=EOE msg=audit(1718035261.502:5177): \n",
);

#[test]
fn sysctl_ip_forward_from_bash_is_a_defend_exec_with_its_parent() {
    let run = run_text(IP_FORWARD, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 3);
    assert_eq!(
        (run.stats.records, run.stats.events, run.stats.merged),
        (24, 3, 20)
    );
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotExec), 1);
    assert_eq!(run.stats.ignored_kinds.get("auditd syscall 257"), Some(&1));

    let e = run.named("sysctl")[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(e.first_str("@timestamp"), Some("2024-06-10T16:00:07.877Z"));
    assert_eq!(strs(e, "event.category"), ["process"]);
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(e.first_str("event.module"), Some("auditd"));
    assert_eq!(e.first_str("agent.type"), Some("auditd"));
    assert_eq!(e.first_str("host.os.type"), Some("linux"));
    assert_eq!(e.first_str("host.name"), Some("web-01"));
    assert_eq!(
        e.first_str("data_stream.dataset"),
        Some("endpoint.events.process")
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
    assert_eq!(e.first_str("user.name"), Some("root"));
    assert_eq!(e.first_str("group.id"), Some("0"));
    assert_eq!(e.first_str("user.audit.name"), Some("alice"));
    assert_eq!(strs(e, "tags"), ["exec"]);
    // The parent, from bash's own exec two groups earlier.
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(strs(e, "process.parent.args"), ["bash"]);
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
    // The source text is the normalized document, nested.
    let doc: serde_json::Value = serde_json::from_str(e.source()).unwrap();
    assert_eq!(doc["process"]["parent"]["name"], "bash");

    let shell = run
        .events
        .iter()
        .find(|e| {
            e.values("process.args").len() == 3 && e.first_str("process.name") == Some("bash")
        })
        .unwrap();
    assert_eq!(
        strs(shell, "process.args"),
        ["bash", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]
    );
    assert_eq!(
        shell.first_str("process.command_line"),
        Some("bash -c echo 1 > /proc/sys/net/ipv4/ip_forward")
    );

    if let Some(fires) = seed_rule_fires(e) {
        assert!(fires, "seed rule fires on the normalized sysctl exec");
        assert_eq!(
            seed_rule_fires(shell),
            Some(true),
            "and on bash -c \"echo 1 > …\""
        );
        assert_eq!(
            seed_rule_fires(&run.events[0]),
            Some(false),
            "not on the plain shell"
        );
    }
}

#[test]
fn without_the_parent_exec_the_rule_cannot_fire() {
    // Drop bash's own exec group: only the ppid remains.
    let child_only: String = IP_FORWARD
        .lines()
        .skip(7)
        .take(7)
        .map(|l| format!("{l}\n"))
        .collect();
    let run = run_text(&child_only, Some(Source::Auditd));
    assert_eq!(run.events.len(), 1);
    let e = &run.events[0];
    assert!(e.values("process.parent.executable").is_empty());
    assert!(e.values("talon.enriched").is_empty());
    assert_eq!(run.stats.tree.missed, 1);
    if let Some(fires) = seed_rule_fires(e) {
        assert!(!fires);
    }
}

#[test]
fn interleaved_records_and_a_missing_eoe_still_group() {
    // Two events' records interleaved, no EOE at all (older auditd).
    let text = concat!(
        "type=SYSCALL msg=audit(1492037291.036:59): arch=c000003e syscall=59 success=yes exit=0 ppid=12041 pid=13393 uid=1000 gid=1001 comm=\"grep\" exe=\"/usr/bin/grep\" key=(null)\n",
        "type=SYSCALL msg=audit(1492037291.038:60): arch=c000003e syscall=59 success=yes exit=0 ppid=12041 pid=13392 uid=1000 gid=1001 comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)\n",
        "type=EXECVE msg=audit(1492037291.038:60): argc=2 a0=\"cat\" a1=\"securitybeat\"\n",
        "type=EXECVE msg=audit(1492037291.036:59): argc=3 a0=\"grep\" a1=\"--color=auto\" a2=\"mapping\"\n",
        "type=CWD msg=audit(1492037291.036:59):  cwd=2F746D702F6120622063\n",
    );
    let run = run_text(text, None);
    assert_eq!(run.events.len(), 2);
    let grep = run.named("grep")[0];
    assert_eq!(
        strs(grep, "process.args"),
        ["grep", "--color=auto", "mapping"]
    );
    assert_eq!(
        grep.first_str("process.working_directory"),
        Some("/tmp/a b c")
    );
    assert_eq!(grep.origin.line, 1);
    assert!(grep.values("tags").is_empty(), "key=(null) is no tag");
    assert_eq!(
        strs(run.named("cat")[0], "process.args"),
        ["cat", "securitybeat"]
    );
}

#[test]
fn a_small_window_completes_groups_early() {
    let opts = NormalizeOptions {
        audit_window: AuditWindow {
            max_open: 1,
            max_age_ms: 2_000,
        },
        ..Default::default()
    };
    // With one open group allowed, the late EXECVE of event 59 finds its
    // group already answered for: it is its own incomplete event.
    let text = concat!(
        "type=SYSCALL msg=audit(10.000:59): arch=c000003e syscall=59 success=yes ppid=1 pid=2 exe=\"/bin/a\"\n",
        "type=SYSCALL msg=audit(10.001:60): arch=c000003e syscall=59 success=yes ppid=1 pid=3 exe=\"/bin/b\"\n",
        "type=EXECVE msg=audit(10.000:59): argc=1 a0=\"a\"\n",
        "type=SYSCALL msg=audit(20.000:61): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=4 exe=\"/bin/c\"\n",
    );
    let run = run_text_with(text, Some(Source::Auditd), opts);
    assert_eq!(run.events.len(), 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::Incomplete), 1);
    assert_eq!(run.stats.ignored_for(IgnoreReason::FailedExec), 1);
    assert!(
        run.issues.is_empty(),
        "ignored, well-formed records are not issues"
    );
    // Kept where they are, down to the value that decided (`-vv` shows
    // them): the failed exec at its `success=no`.
    let examples: Vec<String> = run.stats.examples.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        examples,
        [
            "test:3: incomplete: event 59 has EXECVE but no SYSCALL record (lost or filtered)",
            "test:4:69: failed-exec: exec failed (exit=-2) in event 61",
        ]
    );
}

#[test]
fn junk_lines_are_issues_with_file_and_line() {
    let run = run_text(
        "tests:\n\ntype=UNKNOWN[1329] msg=?\ntype=EOE msg=audit(1.0:1):\n",
        Some(Source::Auditd),
    );
    assert_eq!(run.events.len(), 0);
    assert_eq!(run.issues.len(), 2);
    assert_eq!((run.issues[0].line, run.issues[1].line), (1, 3));
    assert_eq!(&*run.issues[0].file, "test");
    assert!(run.issues[0]
        .message
        .starts_with("not an audit record: tests:"));
    assert_eq!(
        run.issues[1].message,
        "audit record without its `msg=audit(TIME:SERIAL)` stamp, so it belongs to no \
         event: type=UNKNOWN[1329] msg=?"
    );
    assert_eq!(run.stats.records, 3, "blank lines are not records");
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::Incomplete), 1);
}

/// A log cut while being written, mid-value: `a2="net.ipv4.ip_for` was
/// read as that argument, and the exec went out with a piece of its argv.
/// The cut record is now an issue naming the value; the exec keeps what
/// its other records give (here: the executable, no argv).
#[test]
fn a_record_cut_mid_value_is_an_issue_not_a_shorter_value() {
    let lines: Vec<&str> = IP_FORWARD.lines().collect();
    let cut_at = lines[8].find("ip_for").expect("the sysctl EXECVE") + "ip_for".len();
    let text = format!("{}\n{}\n", lines[..8].join("\n"), &lines[8][..cut_at]);
    let run = run_text(&text, Some(Source::Auditd));
    assert_eq!(run.issues.len(), 1);
    assert_eq!(run.issues[0].line, 9);
    assert!(
        run.issues[0]
            .message
            .contains("audit record cut short: the value of `a2` has no closing quote"),
        "{:?}",
        run.issues[0]
    );
    let sysctl = run.named("sysctl")[0];
    assert_eq!(
        sysctl.first_str("process.executable"),
        Some("/usr/sbin/sysctl")
    );
    assert!(
        strs(sysctl, "process.args")
            .iter()
            .all(|a| a != "net.ipv4.ip_for"),
        "{:?}",
        strs(sysctl, "process.args")
    );
    assert_ne!(seed_rule_fires(sysctl), Some(true));
}

/// (file under corpora/events/auditd/go-libaudit, events produced).
const SAMPLES: &[(&str, usize)] = &[
    ("auparse/audit-rhel6.log", 0),
    ("auparse/audit-rhel7.log", 0),
    ("auparse/audit-ubuntu14.log", 0),
    ("auparse/audit-ubuntu16.log", 0),
    ("auparse/audit-ubuntu17.log", 1),
    ("auparse/test2.log", 0),
    ("auparse/test3.log", 0),
    ("misc/lost_messages.log", 2),
    // go-libaudit's coalescing fixtures: YAML lists of raw records. Read as
    // auditd, the YAML lines around the records are "not a record" issues.
    ("aucoalesce/random-internet.yaml", 0),
    ("aucoalesce/rhel-7-linux-3.10.0.yaml", 0),
    ("aucoalesce/ubuntu-16.04-linux-4.13.0.yaml", 0),
    ("aucoalesce/ubuntu-16.10-linux-4.8.0.yaml", 1),
    ("aucoalesce/ubuntu-17.04-linux-4.10.0.yaml", 1),
    ("aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml", 1),
    ("aucoalesce/ubuntu-21.10-linux-5.13.yaml", 0),
    ("aucoalesce/ubuntu-24.04-linux-6.8.0.yaml", 0),
];

#[test]
fn go_libaudit_logs_convert_with_every_record_accounted_for() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events/auditd/go-libaudit");
    for (file, events) in SAMPLES {
        let path = dir.join(file);
        let run = run_file(&path, None);
        assert_eq!(run.events.len(), *events, "{file}: {}", run.stats);
        // Every line with content is one record, and each is accounted for
        // (the helper checks records == events + merged + ignored).
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
        assert_eq!(run.stats.records, lines, "{file}: {}", run.stats);
        assert!(
            run.issues.iter().all(|i| i.line > 0),
            "{file}: issues name their line"
        );
        println!("{file}: {}", run.stats);
    }
}

#[test]
fn the_coalescing_fixture_execs_have_their_args() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events/auditd/go-libaudit/aucoalesce");
    let run = run_file(&dir.join("ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml"), None);
    let e = &run.events[0];
    assert_eq!(strs(e, "process.args"), ["dash", "-p"]);
    assert_eq!(e.first_str("process.executable"), Some("/usr/bin/dash"));
    assert_eq!(e.first_str("user.effective.id"), Some("0"));
    assert_eq!(e.first_str("user.id"), Some("1005"));
    assert_eq!(strs(e, "tags"), ["susp_shell"]);
    let run = run_file(&dir.join("ubuntu-17.04-linux-4.10.0.yaml"), None);
    let docker = run.named("docker")[0];
    // The fixture's EXECVE line ends in a stray `'`: the last argument
    // keeps it, as go-libaudit does not, but nothing is lost.
    assert_eq!(strs(docker, "process.args")[..2], ["docker", "inspect"]);
}

/// The last SYSCALL record of a copy cut short (here before `pid=`): the
/// exec is ignored as incomplete, naming its event, not read as an exec of
/// no process. The groups before it are events as usual.
#[test]
fn an_exec_whose_syscall_record_is_cut_short_is_ignored() {
    let first_group: String = IP_FORWARD
        .lines()
        .take(7)
        .map(|l| format!("{l}\n"))
        .collect();
    let syscall = IP_FORWARD
        .lines()
        .find(|l| l.contains("audit(1718035207.877:5140)") && l.contains("type=SYSCALL"))
        .expect("sysctl's SYSCALL");
    let cut = &syscall[..syscall.find(" ppid=").expect("ppid")];
    let run = run_text(&format!("{first_group}{cut}"), Some(Source::Auditd));
    assert_eq!(run.events.len(), 1, "{:?}", run.stats);
    assert_eq!(run.events[0].first_str("process.name"), Some("bash"));
    assert_eq!(
        run.stats.ignored_for(IgnoreReason::Incomplete),
        1,
        "{:?}",
        run.stats
    );
    assert_eq!(
        run.stats.ignored_kinds.get("auditd SYSCALL without pid"),
        Some(&1)
    );
}

/// A SYSCALL record whose pid is there but is no number (past a long,
/// damaged) was ignored as "no pid (cut short?)", counted only, with no
/// line anywhere. It is now an issue at the pid's value.
#[test]
fn a_syscall_pid_that_is_no_number_is_an_issue_at_its_value() {
    let syscall = "type=SYSCALL msg=audit(1700000000.100:8): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=18446744073709551617 uid=0 comm=\"id\" exe=\"/usr/bin/id\"";
    let text = format!(
        "type=SYSCALL msg=audit(1700000000.000:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=40 uid=0 comm=\"sh\" exe=\"/bin/sh\"\n\
         type=EOE msg=audit(1700000000.000:7):\n\
         {syscall}\n\
         type=EXECVE msg=audit(1700000000.100:8): argc=1 a0=\"id\"\n\
         type=EOE msg=audit(1700000000.100:8):\n"
    );
    let run = run_text(&text, Some(Source::Auditd));
    assert_eq!(run.events.len(), 1);
    assert_eq!(run.events[0].first_str("process.name"), Some("sh"));
    assert_eq!(run.issues.len(), 1, "{:?}", run.issues);
    let issue = &run.issues[0];
    assert_eq!(issue.line, 3);
    assert_eq!(issue.column, syscall.find(" pid=").unwrap() as u64 + 6);
    assert_eq!(
        issue.message,
        "event 8: its SYSCALL record's pid `18446744073709551617` is not a process id"
    );
    assert_eq!(run.stats.ignored_for(IgnoreReason::MissingFields), 1);
    assert_eq!(
        run.stats.ignored_kinds.get("auditd SYSCALL with a bad pid"),
        Some(&1)
    );
}

/// A log opening with a UTF-8 byte order mark lost its first record (its
/// `type=` hid behind the mark: "no type= before msg=audit("), and with it
/// the exec. The mark is now passed over; columns still count it.
#[test]
fn a_byte_order_mark_before_the_first_record_is_passed_over() {
    let plain = run_text(IP_FORWARD, Some(Source::Auditd));
    let run = run_text(&format!("\u{feff}{IP_FORWARD}"), None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(
        (run.stats.records, run.stats.events, run.stats.merged),
        (plain.stats.records, plain.stats.events, plain.stats.merged)
    );
    let sysctl = run.named("sysctl");
    assert_eq!(sysctl.len(), 1);
    assert_ne!(seed_rule_fires(sysctl[0]), Some(false));
    // A mark alone on the first line is a blank line.
    let run = run_text(&format!("\u{feff}\n{IP_FORWARD}"), Some(Source::Auditd));
    assert_eq!(run.stats.blank, 1);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    // A problem in the first line is placed in the file's bytes, the
    // mark's included.
    let line = "<Event><System><EventID>1</EventID></System><EventData><Data Name=\"a\">&bogus;</Data></EventData></Event>";
    let run = run_text(&format!("\u{feff}{line}\n"), Some(Source::Sysmon));
    assert_eq!(run.issues.len(), 1, "{:?}", run.issues);
    assert_eq!(
        (run.issues[0].line, run.issues[0].column),
        (1, line.find("&bogus").unwrap() as u64 + 4)
    );
}

#[test]
fn blank_lines_of_a_log_are_counted_beside_its_records() {
    // Found by a fresh user: blank lines of a raw audit log were counted
    // nowhere, so records and skips did not add up to the log's lines.
    let text = format!("\n{IP_FORWARD}\n  \n");
    let lines = text.lines().count() as u64;
    let run = run_text(&text, Some(Source::Auditd));
    assert_eq!((run.stats.records, run.stats.blank), (24, 3));
    assert_eq!(run.stats.records + run.stats.blank, lines);
    assert!(
        run.stats.to_string().contains("; 3 blank lines"),
        "{}",
        run.stats
    );
}

/// A ppid out of range (or no number) was dropped without a word. The
/// exec stands on its pid, so it is still an event; the ppid is said at
/// its value and counted.
#[test]
fn a_damaged_ppid_is_said_at_its_value_and_the_exec_kept() {
    let text = concat!(
        "type=SYSCALL msg=audit(10.000:59): arch=c000003e syscall=59 success=yes ppid=18446744073709551617 pid=2 exe=\"/bin/a\"\n",
        "type=EXECVE msg=audit(10.000:59): argc=1 a0=\"a\"\n",
        "type=EOE msg=audit(10.000:59):\n",
        "type=SYSCALL msg=audit(10.001:60): arch=c000003e syscall=59 success=yes ppid=1x pid=3 exe=\"/bin/b\"\n",
        "type=EOE msg=audit(10.001:60):\n",
    );
    let run = run_text(text, Some(Source::Auditd));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 2);
    assert_eq!(strs(&run.events[0], "process.pid"), ["2"]);
    assert!(run.events[0].values("process.parent.pid").is_empty());
    let said = run.unread_said();
    assert_eq!(
        said,
        [
            "test:1:78: out-of-range: ppid 18446744073709551617 is out of range: process.parent.pid left out",
            "test:4:78: not-an-integer: ppid 1x is not an integer: process.parent.pid left out",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "5 records, 2 events, 3 merged, 0 ignored; \
         2 unreadable values left out (not-an-integer: 1, out-of-range: 1)"
    );
}

/// A column counts the line's bytes as they are in the file, also on a
/// record answered for on a later line (its event's EOE): a byte that is
/// not UTF-8 before the value (a Latin-1 `é`, one byte in the file, a
/// three-byte U+FFFD in the text) no longer shifts it two to the right.
#[test]
fn columns_count_the_file_bytes_on_records_answered_later() {
    let syscall = b"type=SYSCALL msg=audit(10.000:59): arch=c000003e syscall=59 success=yes comm=\"caf\xe9\" ppid=1x pid=2 exe=\"/bin/a\"";
    let openat = b"type=SYSCALL msg=audit(10.001:60): arch=c000003e comm=\"\xe9\" syscall=2 success=yes pid=3";
    let text = [
        &syscall[..],
        b"\ntype=EOE msg=audit(10.000:59):\n",
        openat,
        b"\ntype=EOE msg=audit(10.001:60):\n",
    ]
    .concat();
    let column = |line: &[u8], value: &[u8]| {
        line.windows(value.len()).position(|w| w == value).unwrap() as u64 + 1
    };
    let (ppid, not_exec) = (column(syscall, b"1x pid"), column(openat, b"2 success"));
    assert_eq!((ppid, not_exec), (90, 67));
    let run = run_bytes(&text, Some(Source::Auditd));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 1);
    assert_eq!(
        run.unread_said(),
        [
            "test:1:82: invalid-utf8: \\xe9 is not UTF-8: the SYSCALL record read with U+FFFD \
             in its place",
            "test:1:90: not-an-integer: ppid 1x is not an integer: process.parent.pid left out",
        ]
    );
    let examples: Vec<String> = run.stats.examples.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        examples,
        ["test:3:67: not-exec: syscall 2 is not an exec (event 60)"]
    );
}

/// Bytes of an audit log that are not UTF-8 (a Latin-1 `é` and `è` in an
/// argument written as is) were read as U+FFFD without a word. The exec
/// is still an event, read as before, but the first bad bytes of each of
/// its records are said where they are in the file, and counted; a record
/// that gives no event (a syscall that is not an exec) is counted as
/// ignored, as it was.
#[test]
fn bytes_not_utf8_are_said_and_the_exec_kept() {
    let execve = b"type=EXECVE msg=audit(10.000:61): argc=2 a0=\"echo\" a1=\"caf\xe9 cr\xe8me\"";
    let text = [
        &b"type=SYSCALL msg=audit(10.000:61): arch=c000003e syscall=59 success=yes ppid=1 pid=2 exe=\"/bin/echo\"\n"[..],
        execve,
        b"\ntype=EOE msg=audit(10.000:61):\n",
        b"type=SYSCALL msg=audit(10.001:62): arch=c000003e syscall=2 success=yes pid=3 comm=\"\xff\"\n",
        b"type=EOE msg=audit(10.001:62):\n",
    ]
    .concat();
    let column = execve.iter().position(|b| *b == 0xe9).unwrap() + 1;
    assert_eq!(column, 59);
    let run = run_bytes(&text, Some(Source::Auditd));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 1);
    assert_eq!(
        run.events[0].first_str("process.command_line"),
        Some("echo caf\u{FFFD} cr\u{FFFD}me")
    );
    assert_eq!(
        run.unread_said(),
        [
            "test:2:59: invalid-utf8: \\xe9 is not UTF-8: the EXECVE record read with U+FFFD in \
             its place"
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "5 records, 1 event, 3 merged, 1 ignored (not-exec: 1); \
         1 unreadable value read with U+FFFD (invalid-utf8: 1)"
    );
}

/// The kernel hex-encodes a value holding bytes outside printable ASCII
/// (`a1=2F746D702F66E96C6C65`, `/tmp/f\xe9lle` with a Latin-1 `é`), and
/// bytes of it that were not UTF-8 became U+FFFD without a word. The exec
/// is still an event, read as before, but the first such bytes of each
/// value read are said at their hex digits, and counted like raw bytes
/// that are not UTF-8; a UTF-8 `é` (`C3A9`) is no loss, and a PROCTITLE
/// not read (EXECVE gives the arguments) says nothing.
#[test]
fn hex_encoded_bytes_not_utf8_are_said_at_their_value() {
    let execve = "type=EXECVE msg=audit(10.000:61): argc=3 a0=\"cat\" a1=2F746D702F66E96C6C65 a2=2F746D702F636166C3A9";
    let cwd = "type=CWD msg=audit(10.000:61): cwd=2F686F6D652F72E96D69";
    let text = [
        "type=SYSCALL msg=audit(10.000:61): arch=c000003e syscall=59 success=yes ppid=1 pid=2 comm=\"cat\" exe=\"/usr/bin/cat\"",
        execve,
        cwd,
        "type=PROCTITLE msg=audit(10.000:61): proctitle=636174002F746D702F66E96C6C65",
        "type=EOE msg=audit(10.000:61):",
        "",
    ]
    .join("\n");
    // `E9` is the 7th byte of a1 (after `/tmp/f`), the 8th of cwd (after
    // `/home/r`): two hex digits a byte into the value.
    let a1 = execve.find("a1=").unwrap() + "a1=".len() + 1;
    assert_eq!((a1, &execve[a1 + 11..a1 + 13]), (54, "E9"));
    let at_cwd = cwd.find("cwd=").unwrap() + "cwd=".len() + 1;
    assert_eq!((at_cwd, &cwd[at_cwd + 13..at_cwd + 15]), (36, "E9"));
    let run = run_text(&text, Some(Source::Auditd));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 1);
    let e = &run.events[0];
    assert_eq!(
        strs(e, "process.args"),
        ["cat", "/tmp/f\u{FFFD}lle", "/tmp/café"]
    );
    assert_eq!(
        e.first_str("process.command_line"),
        Some("cat /tmp/f\u{FFFD}lle /tmp/café")
    );
    assert_eq!(
        e.first_str("process.working_directory"),
        Some("/home/r\u{FFFD}mi")
    );
    assert_eq!(
        run.unread_said(),
        [
            "test:2:66: invalid-utf8: \\xe9 (hex-encoded, byte 7 of the value) is not UTF-8: the \
             EXECVE record's a1 read with U+FFFD in its place",
            "test:3:50: invalid-utf8: \\xe9 (hex-encoded, byte 8 of the value) is not UTF-8: the \
             CWD record's cwd read with U+FFFD in its place",
        ]
    );
    assert_eq!(
        run.stats.to_string(),
        "5 records, 1 event, 4 merged, 0 ignored; \
         2 unreadable values read with U+FFFD (invalid-utf8: 2)"
    );
}

/// An argument too long for one EXECVE record is written in hex chunks
/// (`a1[0]=`, `a1[1]=`…), which may spread over several records and split
/// a character between two: a `é` split so is read whole, and a byte that
/// is not UTF-8 is said in the chunk that holds it, at its hex digits.
#[test]
fn hex_chunks_of_an_argument_are_read_whole() {
    let second = "type=EXECVE msg=audit(10.000:61): a1[1]=A92F66E9";
    let text = [
        "type=SYSCALL msg=audit(10.000:61): arch=c000003e syscall=59 success=yes ppid=1 pid=2 exe=\"/usr/bin/cat\"",
        "type=EXECVE msg=audit(10.000:61): argc=2 a0=\"cat\" a1_len=11 a1[0]=2F746D702F63C3",
        second,
        "type=EOE msg=audit(10.000:61):",
        "",
    ]
    .join("\n");
    let chunk = second.find("a1[1]=").unwrap() + "a1[1]=".len() + 1;
    assert_eq!((chunk, &second[chunk + 5..chunk + 7]), (41, "E9"));
    let run = run_text(&text, Some(Source::Auditd));
    assert_eq!(run.events.len(), 1);
    assert_eq!(
        strs(&run.events[0], "process.args"),
        ["cat", "/tmp/cé/f\u{FFFD}"]
    );
    assert_eq!(
        run.unread_said(),
        [
            "test:3:47: invalid-utf8: \\xe9 (hex-encoded, byte 4 of the value) is not UTF-8: the \
          EXECVE record's a1[1] read with U+FFFD in its place"
        ]
    );
}
