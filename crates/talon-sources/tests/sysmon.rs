//! Sysmon for Linux: syslog-wrapped XML and `winlog.*` JSON become Elastic
//! Defend-shaped events; `-`/`(null)` placeholders stay absent; the seed
//! rule fires on an IP-forwarding ProcessCreate.

mod common;

use common::{assert_fires, run_bytes, run_file, run_text, strs};
use talon_event::Fields;
use talon_sources::{IgnoreReason, Source};

/// Written for this test in Sysmon for Linux's own layout: a login shell
/// (EventID 1); `sysctl -w net.ipv4.ip_forward=1` from it; a `bash -c`
/// echoing into `/proc/sys/net/ipv6/conf/all/forwarding`, whose parent
/// Sysmon reports as `-`; the shell's exit (EventID 5); a connection (3);
/// a file created (11) and deleted (23); a service state change (4, not
/// mapped).
const SYSLOG: &str = concat!(
    r#"Jun 10 16:00:00 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:00:00.120000Z"/><EventRecordID>1201</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:00:00.120</Data><Data Name="ProcessGuid">{6a1b2c3d-2f10-6667-0c5e-8f3b12550000}</Data><Data Name="ProcessId">4100</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="FileVersion">-</Data><Data Name="Description">-</Data><Data Name="Product">-</Data><Data Name="Company">-</Data><Data Name="OriginalFileName">-</Data><Data Name="CommandLine">-bash</Data><Data Name="CurrentDirectory">/root</Data><Data Name="User">root</Data><Data Name="LogonGuid">{6a1b2c3d-0000-0000-0000-000000000000}</Data><Data Name="LogonId">0</Data><Data Name="TerminalSessionId">3</Data><Data Name="IntegrityLevel">no level</Data><Data Name="Hashes">-</Data><Data Name="ParentProcessGuid">{6a1b2c3d-2e90-6667-d1a2-7c0e9a550000}</Data><Data Name="ParentProcessId">4001</Data><Data Name="ParentImage">/usr/sbin/sshd</Data><Data Name="ParentCommandLine">sshd: alice [priv]</Data><Data Name="ParentUser">root</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:00:07 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:00:07.877000Z"/><EventRecordID>1202</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:00:07.877</Data><Data Name="ProcessGuid">{6a1b2c3d-2f17-6667-a4b1-11c0de550000}</Data><Data Name="ProcessId">4242</Data><Data Name="Image">/usr/sbin/sysctl</Data><Data Name="FileVersion">-</Data><Data Name="Description">-</Data><Data Name="Product">-</Data><Data Name="Company">-</Data><Data Name="OriginalFileName">-</Data><Data Name="CommandLine">sysctl -w net.ipv4.ip_forward=1</Data><Data Name="CurrentDirectory">/root</Data><Data Name="User">root</Data><Data Name="LogonGuid">{6a1b2c3d-0000-0000-0000-000000000000}</Data><Data Name="LogonId">0</Data><Data Name="TerminalSessionId">3</Data><Data Name="IntegrityLevel">no level</Data><Data Name="Hashes">-</Data><Data Name="ParentProcessGuid">{6a1b2c3d-2f10-6667-0c5e-8f3b12550000}</Data><Data Name="ParentProcessId">4100</Data><Data Name="ParentImage">/usr/bin/bash</Data><Data Name="ParentCommandLine">-bash</Data><Data Name="ParentUser">root</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:01 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:01.502000Z"/><EventRecordID>1203</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:01:01.502</Data><Data Name="ProcessGuid">{6a1b2c3d-2f4d-6667-77e0-52aa01550000}</Data><Data Name="ProcessId">4288</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="FileVersion">-</Data><Data Name="Description">-</Data><Data Name="Product">-</Data><Data Name="Company">-</Data><Data Name="OriginalFileName">-</Data><Data Name="CommandLine">bash -c &quot;echo 1 &gt; /proc/sys/net/ipv6/conf/all/forwarding&quot;</Data><Data Name="CurrentDirectory">/root</Data><Data Name="User">root</Data><Data Name="LogonGuid">{6a1b2c3d-0000-0000-0000-000000000000}</Data><Data Name="LogonId">0</Data><Data Name="TerminalSessionId">3</Data><Data Name="IntegrityLevel">no level</Data><Data Name="Hashes">-</Data><Data Name="ParentProcessGuid">{00000000-0000-0000-0000-000000000000}</Data><Data Name="ParentProcessId">4100</Data><Data Name="ParentImage">-</Data><Data Name="ParentCommandLine">-</Data><Data Name="ParentUser">-</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:02 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>5</EventID><Version>3</Version><Level>4</Level><Task>5</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:02.003000Z"/><EventRecordID>1204</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:01:02.003</Data><Data Name="ProcessGuid">{6a1b2c3d-2f4d-6667-77e0-52aa01550000}</Data><Data Name="ProcessId">4288</Data><Data Name="Image">/usr/bin/bash</Data><Data Name="User">root</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:03 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>3</EventID><Version>5</Version><Level>4</Level><Task>3</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:03.100000Z"/><EventRecordID>1205</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:01:03.100</Data><Data Name="ProcessGuid">{6a1b2c3d-2f50-6667-1111-52aa01550000}</Data><Data Name="ProcessId">4301</Data><Data Name="Image">/usr/bin/curl</Data><Data Name="User">root</Data><Data Name="Protocol">tcp</Data><Data Name="Initiated">true</Data><Data Name="SourceIsIpv6">false</Data><Data Name="SourceIp">10.0.3.15</Data><Data Name="SourceHostname">-</Data><Data Name="SourcePort">51234</Data><Data Name="SourcePortName">-</Data><Data Name="DestinationIsIpv6">false</Data><Data Name="DestinationIp">203.0.113.7</Data><Data Name="DestinationHostname">-</Data><Data Name="DestinationPort">443</Data><Data Name="DestinationPortName">https</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:04 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>11</EventID><Version>2</Version><Level>4</Level><Task>11</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:04.000000Z"/><EventRecordID>1206</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:01:04.000</Data><Data Name="ProcessGuid">{6a1b2c3d-2f50-6667-1111-52aa01550000}</Data><Data Name="ProcessId">4301</Data><Data Name="Image">/usr/bin/curl</Data><Data Name="TargetFilename">/tmp/payload.sh</Data><Data Name="CreationUtcTime">2024-06-10 16:01:04.000</Data><Data Name="User">root</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:05 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>23</EventID><Version>5</Version><Level>4</Level><Task>23</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:05.000000Z"/><EventRecordID>1207</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">2024-06-10 16:01:05.000</Data><Data Name="ProcessGuid">{6a1b2c3d-2f50-6667-1111-52aa01550000}</Data><Data Name="ProcessId">4301</Data><Data Name="Image">/usr/bin/rm</Data><Data Name="User">root</Data><Data Name="TargetFilename">/tmp/payload.sh</Data><Data Name="Hashes">SHA256=9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08</Data><Data Name="IsExecutable">false</Data><Data Name="Archived">false</Data></EventData></Event>"#,
    "\n",
    r#"Jun 10 16:01:06 web-01 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>4</EventID><Version>3</Version><Level>4</Level><Task>4</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="2024-06-10T16:01:06.000000Z"/><EventRecordID>1208</EventRecordID><Correlation/><Execution ProcessID="812" ThreadID="812"/><Channel>Linux-Sysmon/Operational</Channel><Computer>web-01</Computer><Security UserId="0"/></System><EventData><Data Name="UtcTime">2024-06-10 16:01:06.000</Data><Data Name="State">Started</Data><Data Name="Version">1.3.3</Data><Data Name="SchemaVersion">4.81</Data></EventData></Event>"#,
    "\n",
);

#[test]
fn process_create_for_ip_forwarding_is_a_defend_exec() {
    let run = run_text(SYSLOG, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (8, 7));
    assert_eq!(run.stats.ignored_kinds.get("sysmon EventID 4"), Some(&1));

    let e = run.named("sysctl")[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(e.first_str("@timestamp"), Some("2024-06-10T16:00:07.877Z"));
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(e.first_str("event.action"), Some("exec"));
    assert_eq!(e.first_str("event.module"), Some("sysmon_linux"));
    assert_eq!(e.first_str("event.code"), Some("1"));
    assert_eq!(e.first_str("host.name"), Some("web-01"));
    assert_eq!(e.first_str("host.os.type"), Some("linux"));
    assert_eq!(e.first_str("process.executable"), Some("/usr/sbin/sysctl"));
    assert_eq!(
        strs(e, "process.args"),
        ["sysctl", "-w", "net.ipv4.ip_forward=1"]
    );
    assert_eq!(strs(e, "process.args_count"), ["3"]);
    assert_eq!(
        e.first_str("process.command_line"),
        Some("sysctl -w net.ipv4.ip_forward=1")
    );
    assert_eq!(
        e.first_str("process.entity_id"),
        Some("{6a1b2c3d-2f17-6667-a4b1-11c0de550000}")
    );
    assert_eq!(e.first_str("process.working_directory"), Some("/root"));
    assert_eq!(e.first_str("user.name"), Some("root"));
    assert_eq!(strs(e, "process.pid"), ["4242"]);
    assert_eq!(strs(e, "process.parent.pid"), ["4100"]);
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(strs(e, "process.parent.args"), ["-bash"]);
    assert!(
        e.values("talon.enriched").is_empty(),
        "Sysmon named the parent itself"
    );
    assert!(
        e.values("process.hash.sha256").is_empty(),
        "Hashes `-` is absent"
    );
    assert!(e.values("rule.name").is_empty(), "RuleName `-` is absent");
    assert_fires(e, true);
}

#[test]
fn a_dash_parent_is_absent_then_filled_from_the_parent_exec() {
    let run = run_text(SYSLOG, Some(Source::Sysmon));
    let e = run
        .events
        .iter()
        .find(|e| {
            e.values("process.args").len() == 3 && e.first_str("process.name") == Some("bash")
        })
        .unwrap();
    assert_eq!(
        strs(e, "process.args"),
        [
            "bash",
            "-c",
            "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"
        ]
    );
    assert!(
        e.values("process.parent.entity_id").is_empty(),
        "all-zero GUID is absent"
    );
    assert!(e.values("process.parent.user.name").is_empty());
    // ParentImage `-`: filled from pid 4100's own ProcessCreate, and marked.
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.command_line"), Some("-bash"));
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

    // Without the tree, the placeholder parent keeps the rule from firing.
    let opts = talon_sources::NormalizeOptions {
        enrich: false,
        ..Default::default()
    };
    let run = common::run_text_with(SYSLOG, Some(Source::Sysmon), opts);
    let e = run
        .events
        .iter()
        .find(|e| strs(e, "process.pid") == ["4288"] && strs(e, "event.type") == ["start"])
        .unwrap();
    assert!(e.values("process.parent.executable").is_empty());
    assert_fires(e, false);
}

#[test]
fn exit_network_and_file_events() {
    let run = run_text(SYSLOG, None);
    let end = run
        .events
        .iter()
        .find(|e| strs(e, "event.type") == ["end"])
        .unwrap();
    assert_eq!(end.first_str("event.action"), Some("end"));
    assert_eq!(strs(end, "process.pid"), ["4288"]);
    assert_eq!(
        end.index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );

    let net = run
        .events
        .iter()
        .find(|e| strs(e, "event.category") == ["network"])
        .unwrap();
    assert_eq!(
        net.index.as_deref(),
        Some("logs-endpoint.events.network-default")
    );
    assert_eq!(net.first_str("event.action"), Some("connection_attempted"));
    assert_eq!(net.first_str("destination.ip"), Some("203.0.113.7"));
    assert_eq!(strs(net, "destination.port"), ["443"]);
    assert_eq!(net.first_str("network.transport"), Some("tcp"));
    assert_eq!(net.first_str("network.direction"), Some("egress"));
    assert!(net.values("source.domain").is_empty());

    let created = run
        .events
        .iter()
        .find(|e| strs(e, "event.type") == ["creation"])
        .unwrap();
    assert_eq!(
        created.index.as_deref(),
        Some("logs-endpoint.events.file-default")
    );
    assert_eq!(created.first_str("file.path"), Some("/tmp/payload.sh"));
    assert_eq!(created.first_str("file.name"), Some("payload.sh"));
    assert_eq!(created.first_str("file.directory"), Some("/tmp"));
    let deleted = run
        .events
        .iter()
        .find(|e| strs(e, "event.type") == ["deletion"])
        .unwrap();
    assert_eq!(
        deleted.first_str("file.hash.sha256"),
        Some("9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08")
    );
    assert_eq!(deleted.first_str("process.name"), Some("rm"));
}

#[test]
fn broken_lines_are_issues() {
    let text = "Jun 10 16:00:00 web-01 sysmon: <Event><System><EventID>1</EventID></Sys\nJun 10 16:00:00 web-01 kernel: hello\n";
    let run = run_text(text, Some(Source::Sysmon));
    assert_eq!(run.events.len(), 0);
    assert_eq!(run.issues.len(), 2);
    assert_eq!(run.issues[1].line, 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 2);
}

/// A broken line's column counts the line's bytes as they are in the
/// file: a byte that is not UTF-8 (a Latin-1 `é` in a command line) is one
/// byte there, though the reader shows it as a three-byte U+FFFD.
#[test]
fn a_broken_line_column_counts_the_file_bytes_not_utf8_is_read_as() {
    let mut line = b"Jun 10 16:00:00 web-01 sysmon: <Event><System><EventID>1</EventID></System><EventData><Data Name=\"CommandLine\">caf\xe9 \xe9t\xe9 ".to_vec();
    let at = line.len();
    line.extend_from_slice(b"&bogus;</Data></EventData></Event>\n");
    let mut reader = talon_sources::NormalizingReader::new(
        "test",
        std::io::Cursor::new(line),
        Some(Source::Sysmon),
        talon_sources::NormalizeOptions::default(),
    );
    let issues: Vec<_> = reader.by_ref().filter_map(Result::err).collect();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].column, at as u64 + 1, "{}", issues[0]);
}

/// `<EventID>1</EventID>` alone (a line of a pretty-printed export) was
/// taken for a Sysmon `<Event>` and became an exec with no time and no
/// process; so did an `<Event>` holding only its `<System>` part. Both
/// are now ignored, with the reason.
#[test]
fn fragments_of_sysmon_xml_make_no_event() {
    let text = "<EventID>1</EventID>\n\
                <Events><EventID>1</EventID></Events>\n\
                <Event><System><EventID>1</EventID></System></Event>\n\
                <Event xmlns=\"x\"><System><EventID>5</EventID></System><EventData/></Event>\n";
    let run = run_text(text, Some(Source::Sysmon));
    assert_eq!(run.events.len(), 0);
    assert_eq!(run.issues.len(), 4);
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 2);
    assert_eq!(run.stats.ignored_for(IgnoreReason::MissingFields), 2);
}

/// Two events on one line (a forwarder that joined them, a lost newline):
/// the second was dropped without a count or an issue. Each is now read,
/// as one more record of the line; a broken one after them is an issue at
/// its column.
#[test]
fn every_event_on_a_line_is_read() {
    let lines: Vec<&str> = SYSLOG.lines().collect();
    let event = |l: &str| l[l.find("<Event>").unwrap()..].to_string();
    let (bash, sysctl, curl) = (event(lines[0]), event(lines[1]), event(lines[4]));
    let cut = &sysctl[..sysctl.find("<EventData>").unwrap()];
    let joined = format!("Jun 10 16:00:07 web-01 sysmon: {bash}{sysctl} {curl}{cut}\n");
    let run = run_text(&joined, None);
    assert_eq!(
        (run.stats.records, run.stats.events),
        (4, 3),
        "{:?}",
        run.stats
    );
    let names: Vec<_> = run
        .events
        .iter()
        .map(|e| e.first_str("process.name").unwrap_or(""))
        .collect();
    assert_eq!(names, ["bash", "sysctl", "curl"]);
    assert!(run.events.iter().all(|e| e.origin.line == 1));
    assert_eq!(run.issues.len(), 1, "{:?}", run.issues);
    assert_eq!(run.issues[0].line, 1);
    assert_eq!(run.issues[0].column, joined.trim_end().len() as u64 + 1);
    assert!(
        run.issues[0].message.starts_with("XML cut short"),
        "{}",
        run.issues[0]
    );
    assert_fires(run.named("sysctl")[0], true);
}

/// A `ProcessId`, `ParentProcessId` or port that is no number was dropped
/// without a word. Each is said where it is written (its line and column
/// in a syslog line, counting the file's bytes where the line is not
/// UTF-8, whose bad bytes are said too), counted, and the event kept
/// without it; `-` is no value.
#[test]
fn unreadable_pids_and_ports_are_said_where_they_are() {
    let lines: Vec<&str> = SYSLOG.lines().collect();
    // The sysctl exec: a hex pid, a parent pid past a long, and a Latin-1
    // `é` (one byte, no UTF-8) in its command line before the latter.
    let sysctl = lines[1]
        .replace(">4242<", ">0x1092<")
        .replace(">4100<", ">99999999999999999999<");
    let (head, tail) = sysctl.split_at(
        sysctl
            .find("</Data><Data Name=\"CurrentDirectory\"")
            .unwrap(),
    );
    let mut text = [head.as_bytes(), b" caf\xe9", tail.as_bytes(), b"\n"].concat();
    // The curl connection: a named destination port, no source port.
    let curl = lines[4]
        .replace(">443<", ">https<")
        .replace(">51234<", ">-<");
    text.extend_from_slice(format!("{curl}\n").as_bytes());
    let column = |line: &[u8], value: &[u8]| {
        line.windows(value.len()).position(|w| w == value).unwrap() as u64 + 1
    };
    let first = text.split(|b| *b == b'\n').next().unwrap();
    let (pid, ppid) = (
        column(first, b"0x1092"),
        column(first, b"99999999999999999999"),
    );
    let port = column(curl.as_bytes(), b"https");

    let run = run_bytes(&text, Some(Source::Sysmon));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!(run.events.len(), 2);
    let exec = &run.events[0];
    assert_eq!(exec.first_str("process.name"), Some("sysctl"));
    assert!(exec.values("process.pid").is_empty());
    assert!(exec.values("process.parent.pid").is_empty());
    let connect = &run.events[1];
    assert_eq!(strs(connect, "process.pid"), ["4301"]);
    assert!(connect.values("source.port").is_empty());
    assert!(connect.values("destination.port").is_empty());
    assert_eq!(
        run.unread_said(),
        [
            format!("test:1:{pid}: not-an-integer: ProcessId \"0x1092\" is not an integer: process.pid left out"),
            "test:1:961: invalid-utf8: \\xe9 is not UTF-8: the Sysmon event read with U+FFFD in its place".to_string(),
            format!("test:1:{ppid}: out-of-range: ParentProcessId \"99999999999999999999\" is out of range: process.parent.pid left out"),
            format!("test:2:{port}: not-an-integer: DestinationPort \"https\" is not an integer: destination.port left out"),
        ]
    );
    assert_eq!((pid, ppid, port), (684, 1352, 1167));
    assert_eq!(column(first, b"\xe9"), 961);
    assert_eq!(
        run.stats.to_string(),
        "2 records, 2 events, 0 merged, 0 ignored; \
         3 unreadable values left out (not-an-integer: 2, out-of-range: 1); \
         1 unreadable value read with U+FFFD (invalid-utf8: 1)"
    );

    // The winlog JSON: the value is placed by its path.
    let doc = "{\"winlog\":{\"event_id\":\"5\",\"event_data\":{\"Image\":\"/bin/x\",\"ProcessId\":\"x1\"}}}\n";
    let run = run_text(doc, Some(Source::Sysmon));
    assert_eq!(run.events.len(), 1, "{:?}", run.issues);
    assert_eq!(
        run.unread_said(),
        ["test:1:70: not-an-integer: ProcessId \"x1\" is not an integer: process.pid left out"]
    );
    assert_eq!(doc.find("\"x1\""), Some(69));
}

/// Bytes of a syslog line that are not UTF-8 were read as U+FFFD without
/// a word. Each event is still read as before, but the first bad bytes of
/// its own XML are said where they are in the file, and counted: not those
/// of the syslog prefix, which no event reads, nor another event's.
#[test]
fn bytes_not_utf8_are_said_for_the_event_that_holds_them() {
    let lines: Vec<&str> = SYSLOG.lines().collect();
    let event = |l: &str| l[l.find("<Event>").unwrap()..].to_string();
    let (bash, sysctl, curl) = (event(lines[0]), event(lines[1]), event(lines[4]));
    let (head, tail) = sysctl.split_at(sysctl.find("ip_forward=1").unwrap());
    let line = [
        &b"Jun 10 16:00:07 web-\xff01 sysmon: "[..],
        bash.as_bytes(),
        head.as_bytes(),
        b"\xe9\xe8",
        tail.as_bytes(),
        curl.as_bytes(),
        b"\n",
    ]
    .concat();
    let column = line.iter().position(|b| *b == 0xe9).unwrap() + 1;
    assert_eq!(column, 2396);
    let run = run_bytes(&line, Some(Source::Sysmon));
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    let names: Vec<_> = run
        .events
        .iter()
        .map(|e| e.first_str("process.name").unwrap_or(""))
        .collect();
    assert_eq!(names, ["bash", "sysctl", "curl"]);
    assert_eq!(
        run.events[1].first_str("process.command_line"),
        Some("sysctl -w net.ipv4.\u{FFFD}\u{FFFD}ip_forward=1")
    );
    assert_eq!(
        run.unread_said(),
        ["test:1:2396: invalid-utf8: \\xe9 is not UTF-8: the Sysmon event read with U+FFFD in its place"]
    );
    assert_eq!(
        run.stats.to_string(),
        "3 records, 3 events, 0 merged, 0 ignored; \
         1 unreadable value read with U+FFFD (invalid-utf8: 1)"
    );
}

#[test]
fn corpus_samples_convert() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events/sysmon_linux");

    let run = run_file(&dir.join("nighttardis-go_sysmon_parsing-syslog.log"), None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.events.len()), (2, 2));
    let create = &run.events[0];
    assert_eq!(create.first_str("process.command_line"), Some("sysmon -h"));
    assert_eq!(strs(create, "process.args"), ["sysmon", "-h"]);
    assert_eq!(create.first_str("host.name"), Some("lsys"));
    assert_eq!(
        create.first_str("@timestamp"),
        Some("2021-10-16T00:41:20.017Z")
    );
    assert_eq!(strs(create, "process.parent.pid"), ["1571"]);
    // ParentImage, ParentCommandLine and ParentUser are `-`: absent.
    for f in [
        "process.parent.executable",
        "process.parent.command_line",
        "process.parent.args",
        "process.parent.name",
        "process.parent.user.name",
        "process.parent.entity_id",
    ] {
        assert!(create.values(f).is_empty(), "{f}");
    }
    assert_eq!(strs(&run.events[1], "event.type"), ["end"]);

    let run = run_file(
        &dir.join("integrations-sysmon_linux-test-sysmon.json"),
        None,
    );
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.events.len()), (2, 2));
    let first = &run.events[0];
    assert_eq!(first.first_str("host.name"), Some("user-ubuntu"));
    assert_eq!(first.first_str("process.name"), Some("osqueryd"));
    assert_eq!(
        first.first_str("@timestamp"),
        Some("2022-10-24T17:06:14.200Z")
    );
    // `Image: "(null)"` gives no executable and no name.
    let second = &run.events[1];
    assert!(second.values("process.executable").is_empty());
    assert!(second.values("process.name").is_empty());
    assert_eq!(strs(second, "process.pid"), ["3100"]);
}

/// Found by a tester: a real syslog holds many other lines before its
/// first Sysmon one; past the first 64 KiB (about 1,000 lines) the file
/// was taken for text that is not JSON and its events were lost. The
/// source is now recognised within its first MiB.
#[test]
fn a_syslog_whose_first_sysmon_line_comes_late_is_still_sysmon() {
    let mut text = String::new();
    for i in 0..8000 {
        text.push_str(&format!(
            "Jun 10 15:59:{:02} web-01 systemd[1]: Started Session {i} of user root.\n",
            i % 60
        ));
    }
    assert!(text.len() > 512 * 1024, "{}", text.len());
    text.push_str(SYSLOG);
    let run = run_text(&text, None);
    assert_eq!(run.stats.events, 7, "{:?}", run.issues.first());
    assert_eq!(run.stats.ignored_for(IgnoreReason::NotARecord), 8000);
}
