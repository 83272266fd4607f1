//! Linux telemetry through the real binary: each source's native format,
//! recognised by content or named with `--source`, alerts with the seed
//! rule ("IPv4/IPv6 Forwarding Activity") exactly like Elastic Defend data
//! would; `talon convert` turns every sample of the shared corpora into
//! ECS (non-event files skipped with a reason), and what it writes reads
//! back as the same events.
//!
//! The fixtures below were written for these tests in each sensor's own
//! output format: one IP-forwarding command per source, with the process
//! that started it, so the parent comes either from the record itself or
//! from the process tree.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// Upper-case hex of a string, the way auditd writes values that hold
/// spaces or quotes (and PROCTITLE, with NUL-separated arguments).
fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

/// auditd on `db-02`: `sudo bash -c "echo 1 > /proc/sys/net/ipv4/ip_forward"`
/// typed by bob. sudo's exec, sudo's USER_CMD record, then the bash it
/// starts (the one the rule is about; its parent comes from sudo's exec).
fn auditd() -> String {
    let echo = "echo 1 > /proc/sys/net/ipv4/ip_forward";
    let path = |ts: &str, item: u32, name: &str, inode: u32| {
        format!(
            "node=db-02 type=PATH msg=audit({ts}): item={item} name=\"{name}\" inode={inode} dev=fd:01 mode=0100755 \
             ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n"
        )
    };
    let sudo = "1718040000.101:22001";
    let bash = "1718040000.109:22004";
    let mut s = String::new();
    s.push_str(&format!(
        "node=db-02 type=SYSCALL msg=audit({sudo}): arch=c000003e syscall=59 success=yes exit=0 a0=5583f1b2c0a0 \
         a1=5583f1b2c100 a2=5583f1b2c120 a3=0 items=2 ppid=8790 pid=8811 auid=1001 uid=1001 gid=1001 euid=0 suid=0 \
         fsuid=0 egid=1001 sgid=1001 fsgid=1001 tty=pts2 ses=17 comm=\"sudo\" exe=\"/usr/bin/sudo\" \
         subj=unconfined key=\"exec\"\n"
    ));
    s.push_str(&format!(
        "node=db-02 type=EXECVE msg=audit({sudo}): argc=4 a0=\"sudo\" a1=\"bash\" a2=\"-c\" a3={}\n",
        hex(echo)
    ));
    s.push_str(&format!(
        "node=db-02 type=CWD msg=audit({sudo}): cwd=\"/home/bob\"\n"
    ));
    s.push_str(&path(sudo, 0, "/usr/bin/sudo", 2230117));
    s.push_str(&path(sudo, 1, "/lib64/ld-linux-x86-64.so.2", 2229861));
    s.push_str(&format!(
        "node=db-02 type=PROCTITLE msg=audit({sudo}): proctitle={}\n",
        hex(&format!("sudo\0bash\0-c\0{echo}"))
    ));
    s.push_str(&format!("node=db-02 type=EOE msg=audit({sudo}): \n"));
    s.push_str(&format!(
        "node=db-02 type=USER_CMD msg=audit(1718040000.105:22002): pid=8811 uid=1001 auid=1001 ses=17 \
         subj=unconfined msg='cwd=\"/home/bob\" cmd={} exe=\"/usr/bin/sudo\" terminal=pts/2 res=success'\n",
        hex(&format!("bash -c {echo}"))
    ));
    s.push_str(&format!(
        "node=db-02 type=SYSCALL msg=audit({bash}): arch=c000003e syscall=59 success=yes exit=0 a0=55d7e3a41f30 \
         a1=55d7e3a41f90 a2=55d7e3a41fb0 a3=0 items=2 ppid=8811 pid=8812 auid=1001 uid=0 gid=0 euid=0 suid=0 \
         fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts2 ses=17 comm=\"bash\" exe=\"/usr/bin/bash\" subj=unconfined \
         key=\"exec\"\n"
    ));
    s.push_str(&format!(
        "node=db-02 type=EXECVE msg=audit({bash}): argc=3 a0=\"bash\" a1=\"-c\" a2={}\n",
        hex(echo)
    ));
    s.push_str(&format!(
        "node=db-02 type=CWD msg=audit({bash}): cwd=\"/home/bob\"\n"
    ));
    s.push_str(&path(bash, 0, "/usr/bin/bash", 2229355));
    s.push_str(&path(bash, 1, "/lib64/ld-linux-x86-64.so.2", 2229861));
    s.push_str(&format!(
        "node=db-02 type=PROCTITLE msg=audit({bash}): proctitle={}\n",
        hex(&format!("bash\0-c\0{echo}"))
    ));
    s.push_str(&format!("node=db-02 type=EOE msg=audit({bash}): \n"));
    s
}

/// One Auditbeat (auditd module) document for an execve.
fn auditbeat_doc(ts: &str, seq: u32, pid: u32, ppid: u32, exe: &str, args: &[&str]) -> String {
    let name = exe.rsplit('/').next().unwrap_or(exe);
    let args_json = serde_json::to_string(args).unwrap_or_default();
    format!(
        r#"{{"@timestamp":"{ts}","agent":{{"type":"auditbeat","version":"8.15.1","name":"app-03"}},"event":{{"module":"auditd","category":["process"],"type":["start"],"action":"executed","outcome":"success","kind":"event"}},"host":{{"name":"app-03","hostname":"app-03","os":{{"type":"linux","family":"redhat","name":"Rocky Linux","version":"9.4 (Blue Onyx)"}}}},"process":{{"pid":{pid},"parent":{{"pid":{ppid}}},"executable":"{exe}","name":"{name}","args":{args_json},"working_directory":"/root","title":"{title}"}},"user":{{"id":"0","name":"root","audit":{{"id":"1002","name":"carol"}}}},"auditd":{{"sequence":{seq},"result":"success","session":"9","summary":{{"actor":{{"primary":"carol","secondary":"root"}},"action":"executed","object":{{"type":"file","primary":"{exe}"}},"how":"{exe}"}},"data":{{"syscall":"execve","arch":"x86_64","argc":"{argc}","tty":"pts1"}}}},"ecs":{{"version":"8.0.0"}}}}"#,
        title = args.join(" "),
        argc = args.len()
    )
}

/// Auditbeat on `app-03`: carol's root zsh, then `sysctl --write
/// net.ipv6.conf.all.forwarding=1` from it (Auditbeat gives the parent's
/// pid only; the tree finds zsh).
fn auditbeat() -> String {
    format!(
        "{}\n{}\n",
        auditbeat_doc(
            "2024-07-02T09:14:03.220Z",
            66120,
            3100,
            3001,
            "/usr/bin/zsh",
            &["-zsh"]
        ),
        auditbeat_doc(
            "2024-07-02T09:15:41.508Z",
            66187,
            3150,
            3100,
            "/usr/sbin/sysctl",
            &["sysctl", "--write", "net.ipv6.conf.all.forwarding=1"]
        ),
    )
}

/// One Sysmon for Linux event in syslog, with its EventData.
fn sysmon_line(time: &str, id: u32, record: u32, data: &[(&str, &str)]) -> String {
    let data: String = data
        .iter()
        .map(|(k, v)| format!(r#"<Data Name="{k}">{v}</Data>"#))
        .collect();
    let syslog_time = "Jul  2 11:20:05";
    format!(
        r#"{syslog_time} edge-04 sysmon: <Event><System><Provider Name="Linux-Sysmon" Guid="{{ff032593-a8d3-4f13-b0d6-01fc615a0f97}}"/><EventID>{id}</EventID><Version>5</Version><Level>4</Level><Task>{id}</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="{time}"/><EventRecordID>{record}</EventRecordID><Correlation/><Execution ProcessID="1022" ThreadID="1022"/><Channel>Linux-Sysmon/Operational</Channel><Computer>edge-04</Computer><Security UserId="0"/></System><EventData>{data}</EventData></Event>"#
    )
}

/// Sysmon for Linux on `edge-04`: a Python network script runs
/// `sysctl -w net.ipv4.ip_forward=1` (EventID 1, parent in the record),
/// and sysctl ends (EventID 5).
fn sysmon() -> String {
    let create = sysmon_line(
        "2024-07-02T11:20:05.314000Z",
        1,
        48811,
        &[
            ("RuleName", "-"),
            ("UtcTime", "2024-07-02 11:20:05.314"),
            ("ProcessGuid", "{3f6c1a2b-e3a5-6683-f1a0-9c3b7e550000}"),
            ("ProcessId", "9120"),
            ("Image", "/usr/sbin/sysctl"),
            ("FileVersion", "-"),
            ("Description", "-"),
            ("Product", "-"),
            ("Company", "-"),
            ("OriginalFileName", "-"),
            ("CommandLine", "sysctl -w net.ipv4.ip_forward=1"),
            ("CurrentDirectory", "/opt/netcfg"),
            ("User", "root"),
            ("LogonGuid", "{3f6c1a2b-0000-0000-0000-000000000000}"),
            ("LogonId", "0"),
            ("TerminalSessionId", "4294967295"),
            ("IntegrityLevel", "no level"),
            (
                "Hashes",
                "SHA256=6a2c0e2b5d8bfa3b4ac8d1e0f2a3c4b5d6e7f8091a2b3c4d5e6f708192a3b4c5",
            ),
            (
                "ParentProcessGuid",
                "{3f6c1a2b-e3a1-6683-2d5e-417a0c550000}",
            ),
            ("ParentProcessId", "9077"),
            ("ParentImage", "/usr/bin/python3.11"),
            (
                "ParentCommandLine",
                "/usr/bin/python3.11 /opt/netcfg/apply.py --profile router",
            ),
            ("ParentUser", "root"),
        ],
    );
    let end = sysmon_line(
        "2024-07-02T11:20:05.319000Z",
        5,
        48812,
        &[
            ("RuleName", "-"),
            ("UtcTime", "2024-07-02 11:20:05.319"),
            ("ProcessGuid", "{3f6c1a2b-e3a5-6683-f1a0-9c3b7e550000}"),
            ("ProcessId", "9120"),
            ("Image", "/usr/sbin/sysctl"),
            ("User", "root"),
        ],
    );
    format!("{create}\n{end}\n")
}

/// Falco on `k8s-node-5`: a container's init (tini) runs
/// `sh -c "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"`, alerted by a
/// custom rule; Falco's `proc.cmdline` joins the arguments with spaces.
fn falco() -> String {
    let cmd = "sh -c echo 1 > /proc/sys/net/ipv6/conf/all/forwarding";
    format!(
        r#"{{"hostname":"k8s-node-5","output":"09:41:12.550118203: Warning IPv6 forwarding enabled in a container (user=root command={cmd} parent=tini container_id=9b1f7e0c2d44 image=ghcr.io/acme/vpn-gw)","priority":"Warning","rule":"Enable IP forwarding in container","source":"syscall","tags":["T1090","container","network"],"time":"2024-07-02T09:41:12.550118203Z","output_fields":{{"container.id":"9b1f7e0c2d44","container.image.repository":"ghcr.io/acme/vpn-gw","container.name":"vpn-gw","evt.time":1719913272550118203,"evt.type":"execve","k8s.ns.name":"edge","k8s.pod.name":"vpn-gw-6d9c7","proc.cmdline":"{cmd}","proc.cwd":"/","proc.exepath":"/bin/sh","proc.name":"sh","proc.pcmdline":"tini -- /entrypoint.sh","proc.pexepath":"/usr/bin/tini","proc.pid":77,"proc.pname":"tini","proc.ppid":1,"proc.tty":0,"user.loginuid":-1,"user.name":"root","user.uid":0}}}}"#
    ) + "\n"
}

/// Tetragon on `gke-pool-7`: a debug pod's fish shell runs
/// `sysctl -w net.ipv4.ip_forward=1`; the exec and its exit.
fn tetragon() -> String {
    let pod = r#""pod":{"namespace":"netops","name":"debug-shell-5f8d","container":{"id":"containerd://c41a77e09f2b6d3e1a8c5b7d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f","name":"shell","image":{"id":"docker.io/nicolaka/netshoot@sha256:a7c92e1a2fad1f2c3bd9e4c7e3f8fd0a8a0e1c1b2d3e4f5a6b7c8d9e0f1a2b3c","name":"docker.io/nicolaka/netshoot:v0.13"},"start_time":"2024-07-02T10:02:11Z","pid":1}}"#;
    let exec = format!(
        r#"{{"process_exec":{{"process":{{"exec_id":"Z2tlLXBvb2wtNzo5MTIzNDU2Nzg5OjUxNTc=","pid":5157,"uid":0,"cwd":"/root","binary":"/usr/sbin/sysctl","arguments":"-w net.ipv4.ip_forward=1","flags":"execve clone","start_time":"2024-07-02T10:05:33.918204117Z","auid":4294967295,{pod},"docker":"c41a77e09f2b6d3e1a8c5b7d9e0f1a2","parent_exec_id":"Z2tlLXBvb2wtNzo5MTIwMDAwMDAwOjUxMDA=","refcnt":1}},"parent":{{"exec_id":"Z2tlLXBvb2wtNzo5MTIwMDAwMDAwOjUxMDA=","pid":5100,"uid":0,"cwd":"/root","binary":"/usr/bin/fish","flags":"execve clone","start_time":"2024-07-02T10:02:12.004417882Z","auid":4294967295,{pod},"parent_exec_id":"Z2tlLXBvb2wtNzo5MTE5OTk5OTk5OjE=","refcnt":2}}}},"node_name":"gke-pool-7","time":"2024-07-02T10:05:33.918204117Z"}}"#
    );
    let exit = r#"{"process_exit":{"process":{"exec_id":"Z2tlLXBvb2wtNzo5MTIzNDU2Nzg5OjUxNTc=","pid":5157,"uid":0,"cwd":"/root","binary":"/usr/sbin/sysctl","arguments":"-w net.ipv4.ip_forward=1","flags":"execve clone","start_time":"2024-07-02T10:05:33.918204117Z","auid":4294967295},"parent":{"exec_id":"Z2tlLXBvb2wtNzo5MTIwMDAwMDAwOjUxMDA=","pid":5100,"binary":"/usr/bin/fish"},"status":0,"time":"2024-07-02T10:05:33.921877003Z"},"node_name":"gke-pool-7","time":"2024-07-02T10:05:33.921877003Z"}"#;
    format!("{exec}\n{exit}\n")
}

/// One osquery `process_events` row (every column a string, as osquery
/// writes them).
fn osquery_row(pid: u32, parent: u32, path: &str, cmdline: &str, time: u64) -> String {
    format!(
        r#"{{"atime":"1719800000","auid":"4294967295","btime":"0","cmdline":"{cmdline}","cmdline_size":"{}","ctime":"1719800000","cwd":"\"/var/spool/cron\"","egid":"0","eid":"{}","env":"","env_count":"6","env_size":"212","euid":"0","fsgid":"0","fsuid":"0","gid":"0","mode":"0100755","mtime":"1719800000","overflows":"","owner_gid":"0","owner_uid":"0","parent":"{parent}","path":"{path}","pid":"{pid}","sgid":"0","status":"0","suid":"0","syscall":"execve","time":"{time}","uid":"0","uptime":"412233"}}"#,
        cmdline.len(),
        120000 + pid
    )
}

/// osquery on `batch-06`, filesystem logger, event format: cron starts
/// ksh, ksh is run with `-c "echo 1 > /proc/sys/net/ipv4/ip_forward"`
/// (osquery's cmdline joins the arguments with spaces; its parent is a pid,
/// filled from cron's own row).
fn osquery() -> String {
    let head = r#""hostIdentifier":"batch-06","calendarTime":"Tue Jul  2 12:00:02 2024 UTC","unixTime":1719921602,"epoch":0,"counter":3,"numerics":false,"decorations":{"host_uuid":"8e2f31c4-5a6b-4c7d-9e8f-0a1b2c3d4e5f","hostname":"batch-06"}"#;
    let line = |row: String| {
        format!(
            r#"{{"name":"pack_linux-monitoring_process_events",{head},"columns":{row},"action":"added"}}"#
        )
    };
    format!(
        "{}\n{}\n",
        line(osquery_row(
            901,
            1,
            "/usr/sbin/cron",
            "/usr/sbin/cron -f",
            1719921600
        )),
        line(osquery_row(
            24017,
            901,
            "/usr/bin/ksh",
            "ksh -c echo 1 > /proc/sys/net/ipv4/ip_forward",
            1719921601
        )),
    )
}

/// SentinelOne Cloud Funnel on `fin-07`: a tcsh creates
/// `sysctl -w net.ipv4.ip_forward=1` (src is the creator, tgt the new
/// process), then a file modification by it (counted, not mapped).
fn sentinelone() -> String {
    let create = r#"{"timestamp":"14:22:09.611","event.category":"process","event.type":"ProcessCreation","meta.event.name":"PROCESSCREATION","event.time":1719930129611,"event.id":"01J1SX4K7T2M8Q0Z9A3B5C6D7E_41","trace.id":"01J1SX4K7T2M8Q0Z9A3B5C6D7E","dataSource.name":"SentinelOne","dataSource.category":"security","i.scheme":"edr","endpoint.name":"fin-07","endpoint.os":"linux","endpoint.type":"server","os.name":"Linux","agent.uuid":"f0e1d2c3b4a5968778695a4b3c2d1e0f","agent.version":"24.2.1.12","site.id":"2100000000000000007","account.id":"2000000000000000003","group.id":"2100000000000000009","src.process.pid":6610,"src.process.name":"tcsh","src.process.displayName":"tcsh","src.process.image.path":"/usr/bin/tcsh","src.process.cmdline":"-tcsh","src.process.uid":"9A8B7C6D5E4F3021","src.process.user":"root","src.process.startTime":1719930001002,"src.process.signedStatus":"unsigned","src.process.storyline.id":"B7C8D9E0F1A2B3C4","src.process.parent.pid":6598,"src.process.parent.name":"su","src.process.parent.image.path":"/usr/bin/su","src.process.parent.user":"root","tgt.process.pid":6644,"tgt.process.name":"sysctl","tgt.process.displayName":"sysctl","tgt.process.image.path":"/usr/sbin/sysctl","tgt.process.cmdline":"sysctl -w net.ipv4.ip_forward=1","tgt.process.uid":"1F2E3D4C5B6A7980","tgt.process.user":"root","tgt.process.startTime":1719930129604,"tgt.process.image.sha256":"4b2a9e0c7d1f3a5b8c6e0d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c","tgt.process.signedStatus":"unsigned","tgt.process.storyline.id":"B7C8D9E0F1A2B3C4"}"#;
    let modify = r#"{"timestamp":"14:22:09.640","event.category":"file","event.type":"File Modification","meta.event.name":"FILEMODIFICATION","event.time":1719930129640,"endpoint.name":"fin-07","endpoint.os":"linux","src.process.pid":6644,"src.process.name":"sysctl","tgt.file.path":"/proc/sys/net/ipv4/ip_forward"}"#;
    format!("{create}\n{modify}\n")
}

/// Elastic Defend ECS on `ws-08`, passed through as it is.
fn ecs() -> String {
    r#"{"@timestamp":"2024-07-02T15:03:27.118Z","agent":{"type":"endpoint","version":"8.14.3"},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"},"event":{"category":["process"],"type":["start"],"action":"exec","kind":"event","module":"endpoint","dataset":"endpoint.events.process","id":"NqXnBZ6pQlGkL2Vd++++0aF3"},"host":{"name":"ws-08","hostname":"ws-08","os":{"type":"linux","family":"ubuntu","name":"Ubuntu","kernel":"6.5.0-41-generic"}},"process":{"pid":41877,"entity_id":"Yzk4ZDJmMzAtNDEwZi00OTg3LTk1MmUtOGE3NmNlMTQyNDc3","executable":"/usr/sbin/sysctl","name":"sysctl","args":["sysctl","-w","net.ipv6.conf.all.forwarding=1"],"args_count":3,"command_line":"sysctl -w net.ipv6.conf.all.forwarding=1","working_directory":"/home/dave","parent":{"pid":41820,"executable":"/usr/bin/bash","name":"bash","args":["bash"],"command_line":"bash"}},"user":{"id":"0","name":"root"}}"#.to_string() + "\n"
}

/// (source name, file name, text, alerted process.name, its
/// process.parent.executable).
fn cases() -> Vec<(
    &'static str,
    &'static str,
    String,
    &'static str,
    &'static str,
)> {
    vec![
        ("auditd", "audit.log", auditd(), "bash", "/usr/bin/sudo"),
        (
            "auditbeat",
            "auditbeat.ndjson",
            auditbeat(),
            "sysctl",
            "/usr/bin/zsh",
        ),
        (
            "sysmon",
            "syslog",
            sysmon(),
            "sysctl",
            "/usr/bin/python3.11",
        ),
        ("falco", "falco.json", falco(), "sh", "/usr/bin/tini"),
        (
            "tetragon",
            "tetragon.log",
            tetragon(),
            "sysctl",
            "/usr/bin/fish",
        ),
        (
            "osquery",
            "osqueryd.results.log",
            osquery(),
            "ksh",
            "/usr/sbin/cron",
        ),
        (
            "sentinelone",
            "s1-cloud-funnel.json",
            sentinelone(),
            "sysctl",
            "/usr/bin/tcsh",
        ),
        ("ecs", "defend.ndjson", ecs(), "sysctl", "/usr/bin/bash"),
    ]
}

fn seed_rule() -> Option<PathBuf> {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return None;
    };
    let rule = c.join("detection-rules/seed-rule.toml");
    if !rule.is_file() {
        eprintln!("skipped: {} is absent", rule.display());
        return None;
    }
    Some(rule)
}

/// The bundled copy of the seed rule (always there, unlike the corpora).
fn bundled_seed_rule() -> PathBuf {
    repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml")
}

/// `talon hunt --rules RULE FILE --format jsonl [extra]`, which must exit 0.
fn hunt(rule: &Path, file: &Path, extra: &[&str]) -> (Vec<Value>, String) {
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(rule)
        .arg(file)
        .args(["--format", "jsonl"])
        .args(extra);
    let out = run(c);
    assert!(
        out.status.success(),
        "talon hunt {}: {}",
        file.display(),
        stderr(&out)
    );
    (jsonl(&out), stderr(&out))
}

fn str_field<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    field(doc, path).and_then(Value::as_str)
}

#[test]
fn every_source_alerts_once_auto_detected_and_named() {
    let Some(rule) = seed_rule() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (source, name, text, process, parent) in cases() {
        let file = dir.path().join(name);
        std::fs::write(&file, &text).expect("write");
        for extra in [&[][..], &["--source", source][..]] {
            let (alerts, err) = hunt(&rule, &file, extra);
            assert_eq!(alerts.len(), 1, "{source} {extra:?}: {err}");
            let a = &alerts[0];
            assert_eq!(
                str_field(a, "process.name"),
                Some(process),
                "{source} {extra:?}"
            );
            assert_eq!(
                str_field(a, "process.parent.executable"),
                Some(parent),
                "{source} {extra:?}"
            );
            assert_eq!(
                str_field(a, "kibana.alert.rule.name"),
                Some("IPv4/IPv6 Forwarding Activity")
            );
            assert!(
                err.contains("talon: 1 event matched, 1 alert by 1 of 1 rule"),
                "{source}: {err}"
            );
            if source == "ecs" {
                assert!(
                    !err.contains("normalized"),
                    "ECS is read, not normalized: {err}"
                );
            } else {
                assert!(
                    err.contains(&format!("talon: normalized 1 input ({source} 1): ")),
                    "{source}: {err}"
                );
            }
        }
    }
}

#[test]
fn one_folder_of_every_source_and_the_summary_accounts_for_each() {
    let Some(rule) = seed_rule() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (_, name, text, _, _) in cases() {
        std::fs::write(dir.path().join(name), &text).expect("write");
    }
    std::fs::write(
        dir.path().join("NOTES.md"),
        "# What these logs are\n\nSamples.\n",
    )
    .expect("write");
    let (alerts, err) = hunt(&rule, dir.path(), &[]);
    let mut got: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            let name = str_field(a, "process.name").unwrap_or("?").to_string();
            // SentinelOne's integration names the host in host.hostname only.
            let host = str_field(a, "host.name")
                .or(str_field(a, "host.hostname"))
                .unwrap_or("?")
                .to_string();
            (host, name)
        })
        .collect();
    got.sort();
    let want: Vec<(String, String)> = [
        ("app-03", "sysctl"),
        ("batch-06", "ksh"),
        ("db-02", "bash"),
        ("edge-04", "sysctl"),
        ("fin-07", "sysctl"),
        ("gke-pool-7", "sysctl"),
        ("k8s-node-5", "sh"),
        ("ws-08", "sysctl"),
    ]
    .iter()
    .map(|(h, n)| (h.to_string(), n.to_string()))
    .collect();
    assert_eq!(got, want, "{err}");
    // Records: auditd 15 lines (2 execs of 7 records each, sudo's USER_CMD
    // not mapped), auditbeat 2, sysmon 2, falco 1, tetragon 2, osquery 2,
    // S1 2 (its file modification not mapped); the ECS event on top. The
    // tree gave bash its sudo, sysctl its zsh, ksh its cron.
    assert!(err.contains("talon: read 13 events from 9 inputs"), "{err}");
    assert!(
        err.contains(
            "talon: normalized 7 inputs (auditd 1, auditbeat 1, sysmon 1, falco 1, tetragon 1, osquery 1, \
             sentinelone 1): 26 records, 12 events, 12 merged, 2 ignored (unsupported-kind: 2), \
             3 parents filled from the process tree\n"
        ),
        "{err}"
    );
    assert!(err.contains("talon: skipped 1: not-json 1"), "{err}");
    assert!(
        err.contains("NOTES.md:1: not-json: not a JSON event file (2 lines skipped); nor a log"),
        "{err}"
    );
}

#[test]
fn a_named_source_applies_to_every_input() {
    let Some(rule) = seed_rule() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.log");
    std::fs::write(&file, auditd()).expect("write");
    // Raw auditd named as Falco: not the JSON Falco writes, one issue.
    let (alerts, err) = hunt(&rule, &file, &["--source", "falco"]);
    assert!(alerts.is_empty(), "{alerts:?}");
    assert!(err.contains("talon: read 0 events from 1 input"), "{err}");
    assert!(
        err.contains("talon: normalized 1 input (falco 1): 1 record, 0 events, 0 merged, 1 ignored (not-json: 1)\n"),
        "{err}"
    );
    assert!(err.contains("talon: skipped 1: not-json 1\n"), "{err}");
    // A source name is checked, and the error lists the names.
    let mut c = talon();
    c.args(["hunt", "--source", "splunk"]).arg(&file);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("auditd, auditbeat, sysmon, falco"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn compressed_and_piped_native_inputs_are_recognised() {
    let Some(rule) = seed_rule() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("audit.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(auditd().as_bytes()).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    let (alerts, _) = hunt(&rule, &gz, &[]);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        str_field(&alerts[0], "process.parent.executable"),
        Some("/usr/bin/sudo")
    );

    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(&rule)
        .args(["-", "--format", "jsonl"]);
    let out = run_with_stdin(c, falco().as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let alerts = jsonl(&out);
    assert_eq!(alerts.len(), 1, "{}", stderr(&out));
    assert_eq!(
        str_field(&alerts[0], "process.parent.executable"),
        Some("/usr/bin/tini")
    );
}

#[test]
fn a_forced_index_reaches_normalized_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("tetragon.log");
    std::fs::write(&file, tetragon()).expect("write");
    let query = "process where process.name == \"sysctl\"";
    let mut c = talon();
    c.args(["query", query, "--format", "es", "-q"]).arg(&file);
    let out = run(c);
    let body: Value = serde_json::from_slice(&out.stdout).expect("json");
    let indices: Vec<&str> = body["hits"]["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["_index"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        indices,
        [
            "logs-endpoint.events.process-default",
            "logs-endpoint.events.process-default"
        ]
    );
    let mut c = talon();
    c.args([
        "query",
        query,
        "--format",
        "es",
        "-q",
        "--index",
        "tetragon-lab",
    ])
    .arg(&file);
    let out = run(c);
    let body: Value = serde_json::from_slice(&out.stdout).expect("json");
    let indices: Vec<&str> = body["hits"]["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["_index"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(indices, ["tetragon-lab", "tetragon-lab"]);
}

/// Events per sample file of the shared corpora, and what is skipped
/// (count and reason) for the files that are not events: (path under
/// events/, events written, issues, their reason).
const CONVERTED: &[(&str, usize, u64, Option<&str>)] = &[
    ("auditbeat_ecs/SOURCE.md", 0, 1, Some("not-json")),
    (
        "auditbeat_ecs/integrations-auditd-test-coalesced-syscall-execve-events.json",
        1,
        0,
        None,
    ),
    ("auditd/SOURCE.md", 0, 1, Some("not-json")),
    (
        "auditd/go-libaudit/aucoalesce/random-internet.json.golden",
        2,
        0,
        None,
    ),
    // go-libaudit's YAML test tables: audit records inside YAML. The
    // records convert; the YAML lines around them are not records.
    (
        "auditd/go-libaudit/aucoalesce/random-internet.yaml",
        0,
        5,
        Some("not-a-record"),
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
        12,
        Some("not-a-record"),
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
        4,
        Some("not-a-record"),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.json.golden",
        14,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-16.10-linux-4.8.0.yaml",
        1,
        16,
        Some("not-a-record"),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.json.golden",
        15,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-17.04-linux-4.10.0.yaml",
        1,
        17,
        Some("not-a-record"),
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.json.golden",
        1,
        0,
        None,
    ),
    (
        "auditd/go-libaudit/aucoalesce/ubuntu-20.04.6-linux-5.15.0-1034-gcp.yaml",
        1,
        4,
        Some("not-a-record"),
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
        8,
        Some("not-a-record"),
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
        4,
        Some("not-a-record"),
    ),
    // Raw logs without an exec: every record read and counted, no event.
    ("auditd/go-libaudit/auparse/audit-rhel6.log", 0, 0, None),
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
        Some("not-a-record"),
    ),
    (
        "auditd/go-libaudit/auparse/audit-rhel7.log.golden",
        49,
        1,
        Some("not-an-object"),
    ),
    ("auditd/go-libaudit/auparse/audit-ubuntu14.log", 0, 0, None),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu14.log.golden",
        1,
        0,
        None,
    ),
    ("auditd/go-libaudit/auparse/audit-ubuntu16.log", 0, 0, None),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu16.log.golden",
        3,
        0,
        None,
    ),
    ("auditd/go-libaudit/auparse/audit-ubuntu17.log", 1, 0, None),
    (
        "auditd/go-libaudit/auparse/audit-ubuntu17.log.golden",
        1,
        0,
        None,
    ),
    ("auditd/go-libaudit/auparse/test2.log", 0, 0, None),
    ("auditd/go-libaudit/auparse/test2.log.golden", 10, 0, None),
    ("auditd/go-libaudit/auparse/test3.log", 0, 0, None),
    ("auditd/go-libaudit/auparse/test3.log.golden", 17, 0, None),
    ("auditd/go-libaudit/misc/lost_messages.log", 2, 0, None),
    ("elastic_defend/SOURCE.md", 0, 1, Some("not-json")),
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
        Some("not-json"),
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
    ("endgame/SOURCE.md", 0, 1, Some("not-json")),
    ("endgame/endgame_ecs_mapping-8.4.0.json", 1, 0, None),
    ("endgame/eql-docs-example.json", 7, 0, None),
    ("endgame/eql-test_data.json", 102, 0, None),
    ("endgame/eql-test_folding.toml", 0, 1, Some("not-json")),
    ("endgame/eql-test_optimizer.toml", 0, 1, Some("not-json")),
    ("endgame/eql-test_queries.toml", 0, 1, Some("not-json")),
    (
        "endgame/eql-test_string_functions.toml",
        0,
        1,
        Some("not-json"),
    ),
    ("falco/SOURCE.md", 0, 1, Some("not-json")),
    (
        "falco/integrations-falco-test-falco.first4lines.log",
        2,
        0,
        None,
    ),
    ("osquery/SOURCE.md", 0, 1, Some("not-json")),
    (
        "sentinel_one_cloud_funnel/SOURCE.md",
        0,
        1,
        Some("not-json"),
    ),
    ("sentinel_one_cloud_funnel/test-process.log", 1, 0, None),
    (
        "sentinel_one_cloud_funnel/test-process.log-expected.json",
        1,
        0,
        None,
    ),
    ("sysmon_linux/SOURCE.md", 0, 1, Some("not-json")),
    (
        "sysmon_linux/integrations-sysmon_linux-test-sysmon.json",
        2,
        0,
        None,
    ),
    (
        "sysmon_linux/nighttardis-go_sysmon_parsing-syslog.log",
        2,
        0,
        None,
    ),
    ("tetragon/SOURCE.md", 0, 1, Some("not-json")),
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

/// Every file under `dir`, sorted, as (path relative to `dir`, path).
fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                out.push((rel.to_string_lossy().replace('\\', "/"), path.clone()));
            }
        }
    }
    out.sort();
    out
}

/// `talon convert ARGS`, which must exit 0: (output lines, stderr).
fn convert(args: &[&std::ffi::OsStr]) -> (Vec<String>, String) {
    let mut c = talon();
    c.arg("convert").args(args);
    let out = run(c);
    assert!(
        out.status.success(),
        "talon convert {args:?}: {}",
        stderr(&out)
    );
    let lines = stdout(&out).lines().map(str::to_string).collect();
    (lines, stderr(&out))
}

#[test]
fn every_corpus_sample_converts_and_non_event_files_are_skipped_with_a_reason() {
    let Some(c) = corpora() else {
        eprintln!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    let dir = c.join("events");
    let table: BTreeMap<&str, _> = CONVERTED.iter().map(|r| (r.0, r)).collect();
    let files = files_under(&dir);
    for (rel, path) in &files {
        let Some(&&(_, events, issues, reason)) = table.get(rel.as_str()) else {
            panic!("{rel} is not in the table: convert it and pin its counts");
        };
        let (lines, err) = convert(&[path.as_os_str()]);
        assert_eq!(lines.len(), events, "{rel}: {err}");
        for line in &lines {
            let doc: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{rel}: {e}: {line}"));
            assert!(doc.is_object(), "{rel}: {line}");
        }
        assert!(
            err.contains(&format!(
                "talon: wrote {} to stdout",
                count(events, "event")
            )),
            "{rel}: {err}"
        );
        match reason {
            Some(reason) => {
                assert!(
                    err.contains(&format!("talon: skipped {issues}: {reason} {issues}\n")),
                    "{rel}: {err}"
                )
            }
            None => assert!(!err.contains("talon: skipped"), "{rel}: {err}"),
        }
    }
    assert_eq!(files.len(), CONVERTED.len(), "every table row has its file");
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `talon query 'any where true'` over `input` (a path, or `-` with
/// `stdin`), every match, as JSON values.
fn query_all(input: &std::ffi::OsStr, stdin: Option<&[u8]>) -> Vec<Value> {
    let mut c = talon();
    c.args([
        "query",
        "any where true",
        "--size",
        "100000",
        "--format",
        "jsonl",
        "-q",
    ])
    .arg(input);
    let out = match stdin {
        Some(bytes) => run_with_stdin(c, bytes),
        None => run(c),
    };
    assert!(out.status.success(), "{}", stderr(&out));
    jsonl(&out)
}

/// `convert` logged each skipped line itself at -v, and the reader logged
/// it again at -vv: two lines per issue. Like `hunt` and `query`, it now
/// lists every issue once, at -vv, in input order.
#[test]
fn convert_logs_each_issue_once_at_vv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("alerts.json");
    let text = format!("{}[1]\n{{\"output_fields\": 3}}\n", falco());
    std::fs::write(&file, text).expect("write");
    let issue_lines = |verbosity: &str| -> Vec<String> {
        let (_, err) = convert(&[std::ffi::OsStr::new(verbosity), file.as_os_str()]);
        err.lines()
            .filter(|l| !l.starts_with("talon:") && l.contains("alerts.json:"))
            .filter(|l| l.contains(": not-a"))
            // Not the input's `-v` end line, which counts them by reason.
            .filter(|l| !l.contains(" merged, "))
            .map(|l| l.split_once("alerts.json").unwrap().1.to_string())
            .collect()
    };
    let lines = falco().lines().count();
    assert_eq!(
        issue_lines("-vv"),
        [
            format!(
                ":{}:2: not-an-object: a JSON number is not an event",
                lines + 1
            ),
            format!(
                ":{}: not-a-record: JSON document without output_fields",
                lines + 2
            ),
        ]
    );
    assert_eq!(issue_lines("-v"), Vec::<String>::new());
}

#[test]
fn converted_output_queries_as_the_same_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (_, name, text, _, _) in cases() {
        std::fs::write(dir.path().join(name), &text).expect("write");
    }
    let mut inputs = vec![dir.path().to_path_buf()];
    if let Some(c) = corpora() {
        inputs.push(c.join("events"));
    }
    for input in inputs {
        let (lines, _) = convert(&[input.as_os_str()]);
        assert!(!lines.is_empty(), "{}", input.display());
        let converted = lines.join("\n") + "\n";
        let direct = query_all(input.as_os_str(), None);
        let again = query_all(std::ffi::OsStr::new("-"), Some(converted.as_bytes()));
        assert_eq!(direct.len(), lines.len(), "{}", input.display());
        assert_eq!(again, direct, "{}", input.display());
    }
}

#[test]
fn bulk_output_is_create_actions_into_each_events_data_stream() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (_, name, text, _, _) in cases() {
        std::fs::write(dir.path().join(name), &text).expect("write");
    }
    let out_file = dir.path().join("out").join("bulk.ndjson");
    std::fs::create_dir_all(out_file.parent().expect("parent")).expect("mkdir");
    let (lines, err) = convert(&[
        dir.path().as_os_str(),
        "--bulk".as_ref(),
        "-o".as_ref(),
        out_file.as_os_str(),
    ]);
    assert!(lines.is_empty(), "written to the file");
    let text = std::fs::read_to_string(&out_file).expect("bulk file");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 26, "13 events, each after its action: {err}");
    let mut per_index: BTreeMap<String, usize> = BTreeMap::new();
    for pair in lines.chunks(2) {
        let index = pair[0]["create"]["_index"]
            .as_str()
            .expect("_index")
            .to_string();
        assert!(
            pair[1].get("create").is_none() && pair[1].get("@timestamp").is_some(),
            "{}",
            pair[1]
        );
        *per_index.entry(index).or_default() += 1;
    }
    let want: BTreeMap<String, usize> = [
        ("logs-endpoint.events.process-default".to_string(), 12),
        (
            "logs-sentinel_one_cloud_funnel.event-default".to_string(),
            1,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(per_index, want);
    assert!(err.contains("talon: wrote 13 events to "), "{err}");
    assert!(err.contains(" as _bulk create actions"), "{err}");

    // --index names the target of every action.
    let (lines, _) = convert(&[
        dir.path().join("falco.json").as_os_str(),
        "--bulk".as_ref(),
        "--index".as_ref(),
        "lab-falco".as_ref(),
    ]);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], r#"{"create":{"_index":"lab-falco"}}"#);
}

#[test]
fn ecs_that_mentions_a_sensor_passes_through_unchanged() {
    // Winlogbeat's Windows Sysmon and Elastic's Falco integration write ECS
    // with Sysmon's `winlog` shape and Falco's `output_fields`; both were
    // once taken for native input (rewritten as Linux execs, or dropped).
    let windows = r#"{"@timestamp":"2024-07-02T10:00:00.000Z","agent":{"type":"winlogbeat","version":"8.14.0"},"event":{"category":["process"],"type":["start"],"code":"1","kind":"event","module":"sysmon","provider":"Microsoft-Windows-Sysmon"},"host":{"name":"WS-01","os":{"type":"windows","family":"windows"}},"process":{"pid":4242,"executable":"C:\\Windows\\System32\\cmd.exe","name":"cmd.exe","command_line":"cmd.exe /c whoami","parent":{"pid":100,"executable":"C:\\Windows\\explorer.exe","name":"explorer.exe"}},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","provider_name":"Microsoft-Windows-Sysmon","computer_name":"WS-01"}}"#;
    let falco = r#"{"@timestamp":"2024-06-10T16:00:07.877Z","data_stream":{"type":"logs","dataset":"falco.alerts","namespace":"default"},"event":{"module":"falco","kind":"alert"},"falco":{"rule":"Network forwarding enabled","priority":"Notice","output_fields":{"proc.cmdline":"sysctl -w net.ipv4.ip_forward=1","proc.pid":4242,"evt.type":"execve"}},"process":{"command_line":"sysctl -w net.ipv4.ip_forward=1","pid":4242,"name":"sysctl"},"host":{"name":"web-01"}}"#;
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, line) in [
        ("winlogbeat.ndjson", windows),
        ("falco-alerts.ndjson", falco),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, format!("{line}\n")).expect("write");
        let mut c = talon();
        c.args(["query", "any where true", "--format", "jsonl"])
            .arg(&file);
        let out = run(c);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            format!("{line}\n"),
            "{name}: {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("normalized"),
            "{name}: {}",
            stderr(&out)
        );
    }
}

/// `talon hunt /var/log/audit/` read `audit.log` (newest) before
/// `audit.log.1`: bash's exec came before sudo's, its parent was never
/// filled, and the forwarding rule (which needs a parent) did not fire,
/// without a word. Rotated logs are now read oldest first.
#[test]
fn a_folder_of_rotated_audit_logs_fills_parents_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = auditd();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 15);
    let logs = dir.path().join("audit");
    std::fs::create_dir(&logs).expect("mkdir");
    std::fs::write(logs.join("audit.log.1"), lines[..8].join("\n") + "\n").expect("write");
    std::fs::write(logs.join("audit.log"), lines[8..].join("\n") + "\n").expect("write");
    let mut c = talon();
    c.arg("hunt")
        .arg("--rules")
        .arg(repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml"))
        .arg(&logs)
        .args(["--format", "jsonl"]);
    let out = run(c);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let alerts = jsonl(&out);
    assert_eq!(alerts.len(), 1, "{err}");
    assert_eq!(
        field(&alerts[0], "process.parent.executable").and_then(Value::as_str),
        Some("/usr/bin/sudo")
    );
    assert!(
        err.contains("1 parent filled from the process tree"),
        "{err}"
    );
    // `-v` names each file as it is read (it said nothing for normalized
    // sources), oldest first.
    let mut c = talon();
    c.arg("hunt")
        .arg("-v")
        .arg("--rules")
        .arg(repo().join("rules/linux/command_and_control_ip_forwarding_enabled.toml"))
        .arg(&logs)
        .args(["--format", "jsonl"]);
    let err = stderr(&run(c));
    let reading: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split_once(" INFO reading ").map(|(_, r)| r))
        .collect();
    let old = logs.join("audit.log.1").display().to_string();
    let new = logs.join("audit.log").display().to_string();
    assert_eq!(
        reading,
        [
            format!("{old} (auditd, normalized)"),
            format!("{new} (auditd, normalized)")
        ],
        "{err}"
    );
}

/// `-v` lines of `hunt` about `name`, from after its name on.
fn verbose_lines(err: &str, level: &str, name: &str) -> Vec<String> {
    err.lines()
        .filter(|l| l.trim_start().starts_with(level))
        .filter_map(|l| l.split_once(name).map(|(_, rest)| rest.to_string()))
        .collect()
}

/// A normalized JSON input was read by talon-event's reader inside, which
/// logged its own start and end at `-v` too: `reading f (ndjson, plain)`
/// and `f: 2 events, 1 skipped`, counting documents the normalizer ignored
/// as events, against a summary of 1 event and 2 ignored. `-v` now says
/// what the normalizer made of the input, once, in the summary's terms.
#[test]
fn verbose_tells_a_normalized_input_once_as_the_summary_counts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("f.ndjson");
    let open = r#"{"output":"x","priority":"Notice","rule":"r","time":"2024-06-10T17:20:00.000000000Z","output_fields":{"evt.type":"open","proc.pid":10}}"#;
    let text = format!("{}not json\n{open}\n", falco());
    std::fs::write(&file, &text).expect("write");
    let (_, err) = hunt(&bundled_seed_rule(), &file, &["--source", "falco", "-v"]);
    let lines = falco().lines().count();
    assert_eq!(
        verbose_lines(&err, "INFO", "f.ndjson"),
        [
            " (falco, normalized)".to_string(),
            format!(
                ": {} records, 1 event, 0 merged, 2 ignored (not-json: 1, unsupported-kind: 1), {} bytes",
                lines + 2,
                text.len()
            )
        ],
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "talon: normalized 1 input (falco 1): {} records, 1 event, 0 merged, 2 ignored \
             (not-json: 1, unsupported-kind: 1)",
            lines + 2
        )),
        "{err}"
    );
    assert!(err.contains("talon: read 1 event from 1 input"), "{err}");
}

/// Records ignored as incomplete, not an exec or a failed exec were
/// counted by reason, and the first few kept, but never shown. `-vv` lists
/// them with the issues, at the record (and the value that decided it).
#[test]
fn vv_lists_the_records_ignored_as_not_mapped_where_they_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.log");
    let log = concat!(
        "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 uid=0 gid=0 euid=0 comm=\"id\" exe=\"/usr/bin/id\"\n",
        "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"id\" a1=\"-u\"\n",
        "type=EOE msg=audit(1700000000.100:7):\n",
        "type=SYSCALL msg=audit(1700000000.200:8): arch=c000003e syscall=2 success=yes exit=3 ppid=1 pid=43 uid=0 gid=0 euid=0 comm=\"cat\" exe=\"/usr/bin/cat\"\n",
        "type=EOE msg=audit(1700000000.200:8):\n",
        "type=SYSCALL msg=audit(1700000000.300:9): arch=c000003e syscall=59 success=no exit=-2 ppid=1 pid=44 uid=0 gid=0 euid=0 comm=\"x\" exe=\"/usr/bin/x\"\n",
        "type=EOE msg=audit(1700000000.300:9):\n",
        "type=EXECVE msg=audit(1700000000.400:10): argc=1 a0=\"lost\"\n",
    );
    std::fs::write(&file, log).expect("write");
    let err = |verbosity: &str| hunt(&bundled_seed_rule(), &file, &[verbosity]).1;
    let vv = err("-vv");
    assert_eq!(
        verbose_lines(&vv, "DEBUG", "a.log"),
        [
            ":4:65: not-exec: syscall 2 is not an exec (event 8)",
            ":6:76: failed-exec: exec failed (exit=-2) in event 9",
            ":8: incomplete: event 10 has EXECVE but no SYSCALL record (lost or filtered)",
        ],
        "{vv}"
    );
    assert!(
        vv.contains(
            "talon: normalized 1 input (auditd 1): 8 records, 1 event, 4 merged, 3 ignored \
             (not-exec: 1, failed-exec: 1, incomplete: 1)"
        ),
        "{vv}"
    );
    assert_eq!(
        verbose_lines(&err("-v"), "DEBUG", "a.log"),
        Vec::<String>::new()
    );
}

/// A stray line and a record lacking what an event needs were counted as
/// `not-a-record` and `missing-fields` on the normalized line, but as
/// `not-an-event` on the skipped line and each issue's: two names for one
/// record. Both lines, and `-vv`, now name each by its own reason.
#[test]
fn ignored_records_are_named_alike_in_the_normalized_and_skipped_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.log");
    let bad_pid = "type=SYSCALL msg=audit(1700000000.200:8): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=4x uid=0 comm=\"x\" exe=\"/usr/bin/x\"";
    let log = [
        "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 uid=0 gid=0 euid=0 comm=\"id\" exe=\"/usr/bin/id\"",
        "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"id\" a1=\"-u\"",
        "type=EOE msg=audit(1700000000.100:7):",
        // ausearch's separator, in a log pasted from its output.
        "----",
        bad_pid,
        "type=EOE msg=audit(1700000000.200:8):",
        "",
    ]
    .join("\n");
    std::fs::write(&file, &log).expect("write");
    assert_eq!(bad_pid.find("pid=4x").map(|at| at + 5), Some(98));
    let not_a_record = ":4: not-a-record: not an audit record: ----";
    let missing =
        ":5:98: missing-fields: event 8: its SYSCALL record's pid `4x` is not a process id";
    let (_, vv) = hunt(&bundled_seed_rule(), &file, &["-vv"]);
    assert_eq!(
        verbose_lines(&vv, "DEBUG", "a.log"),
        [not_a_record, missing],
        "{vv}"
    );
    assert_eq!(
        verbose_lines(&vv, "INFO", "a.log")[1],
        format!(
            ": 6 records, 1 event, 3 merged, 2 ignored (not-a-record: 1, missing-fields: 1), {} \
             bytes",
            log.len()
        ),
        "{vv}"
    );
    let name = file.display().to_string();
    let summary: Vec<&str> = vv.lines().filter(|l| l.starts_with("talon:")).collect();
    assert_eq!(
        summary[1..],
        [
            "talon: normalized 1 input (auditd 1): 6 records, 1 event, 3 merged, 2 ignored \
             (not-a-record: 1, missing-fields: 1)"
                .to_string(),
            "talon: skipped 2: not-a-record 1, missing-fields 1".to_string(),
            format!("talon:   {name}{not_a_record}"),
            format!("talon:   {name}{missing}"),
            "talon: 0 events matched, 0 alerts by 0 of 1 rule".to_string(),
        ][..],
        "{vv}"
    );

    // Sysmon, through `convert`: a syslog line of another program, and an
    // event without its <EventData>.
    let file = dir.path().join("s.log");
    let stray = "Jul  2 11:20:06 edge-04 systemd[1]: Started Sysmon.";
    let empty = sysmon_line("2024-07-02T11:20:06.000000Z", 1, 48813, &[]);
    std::fs::write(&file, format!("{}{stray}\n{empty}\n", sysmon())).expect("write");
    let (lines, vv) = convert(&[std::ffi::OsStr::new("-vv"), file.as_os_str()]);
    assert_eq!(lines.len(), 2);
    let not_a_record = format!(":3: not-a-record: no Sysmon <Event> on this line: {stray}");
    let missing = ":4: missing-fields: Sysmon EventID 1 with no <EventData> values";
    assert_eq!(
        verbose_lines(&vv, "DEBUG", "s.log"),
        [not_a_record.as_str(), missing],
        "{vv}"
    );
    let name = file.display().to_string();
    let summary: Vec<&str> = vv.lines().filter(|l| l.starts_with("talon:")).collect();
    assert_eq!(
        summary[1..],
        [
            "talon: normalized 1 input (sysmon 1): 4 records, 2 events, 0 merged, 2 ignored \
             (not-a-record: 1, missing-fields: 1)"
                .to_string(),
            "talon: skipped 2: not-a-record 1, missing-fields 1".to_string(),
            format!("talon:   {name}{not_a_record}"),
            format!("talon:   {name}{missing}"),
            "talon: wrote 2 events to stdout".to_string(),
        ][..],
        "{vv}"
    );
}

/// Bytes of an audit log that are not UTF-8 were read as U+FFFD without a
/// word. They are counted beside the normalized line, the first of each
/// record named where it is in the summary and at `-vv`, and the event is
/// still read.
#[test]
fn bytes_not_utf8_are_counted_and_named_in_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.log");
    let execve = b"type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"id\" a1=\"caf\xe9\"";
    let log = [
        &b"type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 uid=0 gid=0 euid=0 comm=\"id\" exe=\"/usr/bin/id\"\n"[..],
        execve,
        b"\ntype=EOE msg=audit(1700000000.100:7):\n",
    ]
    .concat();
    std::fs::write(&file, log).expect("write");
    assert_eq!(execve.iter().position(|b| *b == 0xe9), Some(63));
    let (_, vv) = hunt(&bundled_seed_rule(), &file, &["-vv"]);
    let said = "invalid-utf8: \\xe9 is not UTF-8: the EXECVE record read with U+FFFD in its place";
    assert_eq!(
        verbose_lines(&vv, "DEBUG", "a.log"),
        [format!(":2:64: {said}")],
        "{vv}"
    );
    let name = file.display().to_string();
    let summary: Vec<&str> = vv.lines().filter(|l| l.starts_with("talon:")).collect();
    assert_eq!(
        summary[1..3],
        [
            "talon: normalized 1 input (auditd 1): 3 records, 1 event, 2 merged, 0 ignored; \
             1 unreadable value read with U+FFFD (invalid-utf8: 1)"
                .to_string(),
            format!("talon:   {name}:2:64: {said}"),
        ][..],
        "{vv}"
    );
    assert!(vv.contains("talon: read 1 event from 1 input"), "{vv}");
    assert!(!vv.contains("talon: skipped"), "{vv}");
}

/// A value the kernel hex-encoded (`a1=2F746D702F66E96C6C65`,
/// `/tmp/f\xe9lle`) was read with U+FFFD for its byte that is not UTF-8,
/// without a word. It is counted and named at its hex digits like raw
/// bytes, and the event still written; a UTF-8 `é` (`C3A9`) says nothing.
#[test]
fn hex_encoded_bytes_not_utf8_are_counted_and_named_in_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.log");
    let log = concat!(
        "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=42 uid=0 gid=0 euid=0 comm=\"cat\" exe=\"/usr/bin/cat\"\n",
        "type=EXECVE msg=audit(1700000000.100:7): argc=3 a0=\"cat\" a1=2F746D702F66E96C6C65 a2=2F746D702F636166C3A9\n",
        "type=EOE msg=audit(1700000000.100:7):\n",
    );
    std::fs::write(&file, log).expect("write");
    let execve = log.lines().nth(1).unwrap();
    assert_eq!(execve.find("E9").map(|at| at + 1), Some(73));
    let (lines, vv) = convert(&[std::ffi::OsStr::new("-vv"), file.as_os_str()]);
    let said = "invalid-utf8: \\xe9 (hex-encoded, byte 7 of the value) is not UTF-8: the EXECVE \
                record's a1 read with U+FFFD in its place";
    assert_eq!(
        verbose_lines(&vv, "DEBUG", "a.log"),
        [format!(":2:73: {said}")],
        "{vv}"
    );
    let name = file.display().to_string();
    let summary: Vec<&str> = vv.lines().filter(|l| l.starts_with("talon:")).collect();
    assert_eq!(
        summary[1..],
        [
            "talon: normalized 1 input (auditd 1): 3 records, 1 event, 2 merged, 0 ignored; \
             1 unreadable value read with U+FFFD (invalid-utf8: 1)"
                .to_string(),
            format!("talon:   {name}:2:73: {said}"),
            "talon: wrote 1 event to stdout".to_string(),
        ][..],
        "{vv}"
    );
    assert_eq!(lines.len(), 1);
    let event: Value = serde_json::from_str(&lines[0]).expect("json");
    assert_eq!(
        event["process"]["command_line"],
        "cat /tmp/f\u{FFFD}lle /tmp/café"
    );
}

/// An osquery `unixTime` of `"notanumber"` left `@timestamp` out, and a
/// Falco pid of the wrong type was dropped, without a word. The summary
/// now counts such values by reason beside the normalized line and names
/// each where it is; the events are still read and matched.
#[test]
fn unreadable_values_are_counted_and_named_in_the_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("o.ndjson");
    let text = concat!(
        r#"{"name":"process_events","hostIdentifier":"h1","unixTime":"notanumber","columns":{"pid":"12","parent":"1","path":"/bin/ls","cmdline":"ls -l"},"action":"added"}"#,
        "\n",
        r#"{"name":"process_events","hostIdentifier":"h1","unixTime":1e30,"columns":{"pid":true,"parent":"1","path":"/bin/ls","cmdline":"ls -l"},"action":"added"}"#,
        "\n",
    );
    std::fs::write(&file, text).expect("write");
    let (_, err) = hunt(&bundled_seed_rule(), &file, &["--source", "osquery"]);
    let name = file.display().to_string();
    let summary: Vec<&str> = err.lines().filter(|l| l.starts_with("talon:")).collect();
    assert_eq!(
        summary[1..5],
        [
            "talon: normalized 1 input (osquery 1): 2 records, 2 events, 0 merged, 0 ignored; \
             3 unreadable values left out (not-an-integer: 2, out-of-range: 1)"
                .to_string(),
            format!(
                "talon:   {name}:1:59: not-an-integer: unixTime \"notanumber\" is not an integer: \
                 @timestamp left out"
            ),
            format!(
                "talon:   {name}:2:59: out-of-range: unixTime 1e+30 is out of range: @timestamp \
                 left out"
            ),
            format!(
                "talon:   {name}:2:81: not-an-integer: pid true is not an integer: process.pid \
                 left out"
            ),
        ][..],
        "{err}"
    );
    assert!(err.contains("talon: read 2 events from 1 input"), "{err}");
    assert!(!err.contains("talon: skipped"), "{err}");
}
