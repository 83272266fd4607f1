//! Event building over fixture `/proc` and `/etc` trees.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::TimeZone;
use talon_event::Value as EventValue;

use super::*;

/// A fake `/proc/<pid>` for a process.
struct Fixture {
    _dir: tempfile::TempDir,
    proc: PathBuf,
    etc: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let proc = dir.path().join("proc");
        let etc = dir.path().join("etc");
        fs::create_dir_all(proc.join("sys/kernel")).unwrap();
        fs::create_dir_all(&etc).unwrap();
        fs::write(proc.join("stat"), "btime 1700000000\n").unwrap();
        fs::write(proc.join("sys/kernel/hostname"), "sensor-host\n").unwrap();
        fs::write(proc.join("sys/kernel/osrelease"), "6.1.0-test\n").unwrap();
        fs::write(etc.join("machine-id"), "abcdef\n").unwrap();
        fs::write(
            etc.join("passwd"),
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        )
        .unwrap();
        fs::write(etc.join("group"), "root:x:0:\nalice:x:1000:\n").unwrap();
        Fixture {
            _dir: dir,
            proc,
            etc,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn process(
        &self,
        pid: i32,
        comm: &str,
        state: char,
        ppid: i32,
        start: u64,
        args: &[&str],
        exe: &str,
        uid: u32,
    ) {
        let p = self.proc.join(pid.to_string());
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        let stat = format!(
            "{pid} ({comm}) {state} {ppid} {pid} {ppid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0\n"
        );
        fs::write(p.join("stat"), stat).unwrap();
        fs::write(
            p.join("status"),
            format!("Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
        )
        .unwrap();
        if state == 'Z' {
            fs::write(p.join("cmdline"), b"").unwrap();
            return;
        }
        let mut cmdline = Vec::new();
        for a in args {
            cmdline.extend_from_slice(a.as_bytes());
            cmdline.push(0);
        }
        fs::write(p.join("cmdline"), cmdline).unwrap();
        std::os::unix::fs::symlink(exe, p.join("exe")).unwrap();
        std::os::unix::fs::symlink("/work", p.join("cwd")).unwrap();
    }

    fn gone(&self, pid: i32) {
        fs::remove_dir_all(self.proc.join(pid.to_string())).unwrap();
    }

    fn builder(&self) -> EventBuilder {
        let proc = ProcFs::new(&self.proc);
        let host = Host::detect(&self.etc, &proc);
        EventBuilder::new(proc, Path::new(&self.etc), host)
    }
}

fn at() -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_100_500)
        .single()
        .unwrap()
}

fn s<'a>(e: &'a Event, path: &str) -> Option<&'a str> {
    e.first_str(path)
}

fn strs(e: &Event, path: &str) -> Vec<String> {
    use talon_event::Fields;
    e.values(path)
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn int(e: &Event, path: &str) -> Option<i64> {
    match e.first(path) {
        Some(EventValue::Int(n)) => Some(*n),
        _ => None,
    }
}

#[test]
fn exec_of_a_live_process() {
    let fx = Fixture::new();
    fx.process(
        100,
        "bash",
        'S',
        1,
        1000,
        &["/bin/bash", "--login"],
        "/usr/bin/bash",
        1000,
    );
    fx.process(
        101,
        "sh",
        'R',
        100,
        2050,
        &["sh", "-c", "echo net.ipv4.ip_forward=1 > /dev/null"],
        "/usr/bin/dash",
        0,
    );
    let mut b = fx.builder();
    let built = b.exec_event(101, at(), 42).unwrap();
    let e = &built.event;
    assert!(!built.partial);
    assert_eq!(e.index.as_deref(), Some(INDEX));
    assert_eq!(s(e, "@timestamp"), Some("2023-11-14T22:15:00.500Z"));
    assert_eq!(strs(e, "event.type"), vec!["start"]);
    assert_eq!(strs(e, "event.category"), vec!["process"]);
    assert_eq!(s(e, "event.action"), Some("exec"));
    assert_eq!(s(e, "event.kind"), Some("event"));
    assert_eq!(s(e, "host.os.type"), Some("linux"));
    assert_eq!(s(e, "host.name"), Some("sensor-host"));
    assert_eq!(s(e, "host.os.kernel"), Some("6.1.0-test"));
    assert_eq!(s(e, "data_stream.dataset"), Some("endpoint.events.process"));
    assert_eq!(s(e, "agent.type"), Some("talon"));
    assert_eq!(int(e, "process.pid"), Some(101));
    assert_eq!(s(e, "process.name"), Some("sh"));
    assert_eq!(s(e, "process.executable"), Some("/usr/bin/dash"));
    assert_eq!(
        strs(e, "process.args"),
        vec!["sh", "-c", "echo net.ipv4.ip_forward=1 > /dev/null"]
    );
    assert_eq!(int(e, "process.args_count"), Some(3));
    assert_eq!(
        s(e, "process.command_line"),
        Some("sh -c echo net.ipv4.ip_forward=1 > /dev/null")
    );
    assert_eq!(s(e, "process.working_directory"), Some("/work"));
    // 2050 ticks at 100 Hz = 20.5 s after boot.
    assert_eq!(s(e, "process.start"), Some("2023-11-14T22:13:40.500Z"));
    assert_eq!(s(e, "user.id"), Some("0"));
    assert_eq!(s(e, "user.name"), Some("root"));
    assert_eq!(s(e, "process.parent.name"), Some("bash"));
    assert_eq!(s(e, "process.parent.executable"), Some("/usr/bin/bash"));
    assert_eq!(strs(e, "process.parent.args"), vec!["/bin/bash", "--login"]);
    assert_eq!(int(e, "process.parent.pid"), Some(100));
    assert!(e.first("talon.partial").is_none());

    // The parent's entity id in the child equals the parent's own.
    fx.process(
        100,
        "bash",
        'S',
        1,
        1000,
        &["/bin/bash", "--login"],
        "/usr/bin/bash",
        1000,
    );
    let parent_event = b.exec_event(100, at(), 41).unwrap().event;
    assert_eq!(
        s(&parent_event, "process.entity_id"),
        s(e, "process.parent.entity_id")
    );
    assert_ne!(s(e, "process.entity_id"), s(e, "process.parent.entity_id"));
    assert_eq!(s(&parent_event, "user.name"), Some("alice"));
}

#[test]
fn exec_after_the_process_is_gone_uses_the_fork_and_the_cache() {
    let fx = Fixture::new();
    fx.process(
        200,
        "python3",
        'S',
        1,
        500,
        &["python3", "runner.py"],
        "/usr/bin/python3.11",
        0,
    );
    let mut b = fx.builder();
    // The parent's own exec was seen, then it forked 201, which exec'd
    // and exited before we looked; then the parent exited too.
    b.exec_event(200, at(), 1).unwrap();
    b.on_fork(200, 201, 201);
    fx.gone(200);
    let built = b.exec_event(201, at(), 2).unwrap();
    let e = &built.event;
    assert!(built.partial);
    assert_eq!(e.first("talon.partial"), Some(&EventValue::Bool(true)));
    assert_eq!(int(e, "process.pid"), Some(201));
    assert!(e.first("process.name").is_none());
    assert!(e.first("process.command_line").is_none());
    assert_eq!(int(e, "process.parent.pid"), Some(200));
    assert_eq!(
        s(e, "process.parent.executable"),
        Some("/usr/bin/python3.11")
    );
    assert_eq!(
        s(e, "process.parent.command_line"),
        Some("python3 runner.py")
    );
}

#[test]
fn zombie_parent_is_described_from_its_exec_but_not_a_reused_pid() {
    let fx = Fixture::new();
    fx.process(
        300,
        "make",
        'S',
        1,
        700,
        &["make", "-j2"],
        "/usr/bin/make",
        0,
    );
    let mut b = fx.builder();
    b.exec_event(300, at(), 1).unwrap();
    // 300 exits but is not reaped yet: its image is gone from /proc.
    fx.process(300, "make", 'Z', 1, 700, &[], "", 0);
    fx.process(
        301,
        "cc",
        'R',
        300,
        800,
        &["cc", "-c", "x.c"],
        "/usr/bin/gcc-12",
        0,
    );
    let e = b.exec_event(301, at(), 2).unwrap().event;
    assert_eq!(s(&e, "process.parent.executable"), Some("/usr/bin/make"));
    assert_eq!(s(&e, "process.parent.command_line"), Some("make -j2"));

    // Pid 300 reused by another process (another start time): the cached
    // make must not be reported as its image.
    fx.process(300, "sleep", 'Z', 1, 900, &[], "", 0);
    fx.process(302, "cc", 'R', 300, 950, &["cc"], "/usr/bin/gcc-12", 0);
    let e = b.exec_event(302, at(), 3).unwrap().event;
    assert_eq!(s(&e, "process.parent.name"), Some("sleep"));
    assert!(e.first("process.parent.executable").is_none());
}

#[test]
fn exit_event_from_the_exec_seen_earlier() {
    let fx = Fixture::new();
    fx.process(400, "bash", 'S', 1, 100, &["bash"], "/usr/bin/bash", 0);
    fx.process(401, "false", 'R', 400, 200, &["false"], "/usr/bin/false", 0);
    let mut b = fx.builder();
    b.exec_event(400, at(), 1).unwrap();
    b.exec_event(401, at(), 2).unwrap();
    fx.gone(401);
    let built = b.exit_event(401, 401, 1 << 8, at(), 3).unwrap().unwrap();
    let e = &built.event;
    assert!(!built.partial);
    assert_eq!(strs(e, "event.type"), vec!["end"]);
    assert_eq!(s(e, "event.action"), Some("end"));
    assert_eq!(int(e, "process.exit_code"), Some(1));
    assert_eq!(s(e, "process.executable"), Some("/usr/bin/false"));
    assert_eq!(s(e, "process.parent.executable"), Some("/usr/bin/bash"));
    assert_eq!(s(e, "process.end"), Some("2023-11-14T22:15:00.500Z"));
    // A thread's exit is not a process end.
    assert!(b.exit_event(402, 401, 0, at(), 4).is_none());
    // Killed by SIGKILL: 128 + 9.
    assert_eq!(exit_status_code(9), 137);
    assert_eq!(exit_status_code(0), 0);
}

#[test]
fn long_names_are_recovered_from_the_executable() {
    assert_eq!(full_name("sh", Some("/usr/bin/dash"), &[]), "sh");
    assert_eq!(
        full_name(
            "systemd-journal",
            Some("/usr/lib/systemd/systemd-journald"),
            &[]
        ),
        "systemd-journald"
    );
    assert_eq!(
        full_name(
            "containerd-shim",
            None,
            &["/usr/bin/containerd-shim-runc-v2".into()]
        ),
        "containerd-shim-runc-v2"
    );
    assert_eq!(
        full_name("abcdefghijklmno", Some("/bin/other"), &[]),
        "abcdefghijklmno"
    );
}

#[test]
fn bounded_map_forgets_the_oldest() {
    let mut m = Bounded::new(2);
    m.insert(1, "a");
    m.insert(2, "b");
    m.insert(1, "a2");
    // Over capacity: the first insertion of 1 is evicted from the order,
    // but 1 was re-inserted since, so the entry stays.
    assert_eq!(m.get(1), Some(&"a2"));
    assert_eq!(m.get(2), Some(&"b"));
    m.insert(3, "c");
    assert_eq!(m.get(2), None);
    assert_eq!(m.get(1), Some(&"a2"));
    assert_eq!(m.get(3), Some(&"c"));
    assert_eq!(m.len(), 2);
}

#[test]
fn exit_of_a_fork_that_never_exec_d_runs_its_parent_s_image() {
    let fx = Fixture::new();
    fx.process(
        500,
        "bash",
        'S',
        1,
        100,
        &["bash", "build.sh"],
        "/usr/bin/bash",
        0,
    );
    let mut b = fx.builder();
    b.exec_event(500, at(), 1).unwrap();
    // A subshell: forked, never exec'd, reaped before we read it.
    b.on_fork(500, 501, 501);
    let built = b.exit_event(501, 501, 0, at(), 2).unwrap().unwrap();
    let e = &built.event;
    assert!(!built.partial);
    assert_eq!(int(e, "process.pid"), Some(501));
    assert_eq!(s(e, "process.executable"), Some("/usr/bin/bash"));
    assert_eq!(s(e, "process.command_line"), Some("bash build.sh"));
    assert_eq!(int(e, "process.parent.pid"), Some(500));
    assert_eq!(s(e, "process.parent.executable"), Some("/usr/bin/bash"));

    // Nothing known about the parent either: partial, with the pids.
    b.on_fork(600, 601, 601);
    let built = b.exit_event(601, 601, 0, at(), 3).unwrap().unwrap();
    assert!(built.partial);
    assert_eq!(int(&built.event, "process.parent.pid"), Some(600));
    assert!(built.event.first("process.executable").is_none());
}

/// The process-connector event and the audit event of the same exec: the
/// same document, field for field, but for the event's own id and times.
#[test]
fn audit_exec_matches_the_process_connector_event() {
    let fx = Fixture::new();
    fx.process(
        100,
        "bash",
        'S',
        1,
        1000,
        &["/bin/bash", "--login"],
        "/usr/bin/bash",
        1000,
    );
    let args = ["sh", "-c", "echo net.ipv4.ip_forward=1 > /dev/null"];
    fx.process(101, "sh", 'R', 100, 2050, &args, "/usr/bin/dash", 0);
    let from_proc = fx.builder().exec_event(101, at(), 42).unwrap().event;

    let info = ProcessInfo {
        pid: 101,
        ppid: Some(100),
        executable: Some("/usr/bin/dash".into()),
        args: args.iter().map(|a| a.to_string()).collect(),
        working_directory: Some("/work".into()),
        ids: Some(crate::procfs::Ids {
            uid: [0; 4],
            gid: [0; 4],
        }),
        name: Some("dash".into()),
        ..ProcessInfo::default()
    };
    let mut b = fx.builder();
    let (built, from_proc_details) = b.audit_exec_event(info.clone(), Some("sh"), at(), 37);
    assert!(from_proc_details);
    let from_audit = built.unwrap();
    assert!(!from_audit.partial);
    let doc = |e: &Event| {
        let mut v: serde_json::Value = serde_json::from_str(e.source()).unwrap();
        let ev = v["event"].as_object_mut().unwrap();
        ev.remove("id");
        ev.remove("ingested");
        v
    };
    assert_eq!(doc(&from_audit.event), doc(&from_proc));

    // Gone from /proc at once: still the whole image, from the records,
    // and the parent from /proc; no entity id or start time.
    fx.gone(101);
    let (built, from_proc_details) = b.audit_exec_event(info.clone(), Some("sh"), at(), 38);
    assert!(!from_proc_details);
    let e = built.unwrap().event;
    assert_eq!(strs(&e, "process.args"), args);
    assert_eq!(s(&e, "process.name"), Some("sh"));
    assert_eq!(s(&e, "process.parent.executable"), Some("/usr/bin/bash"));
    assert_eq!(s(&e, "process.saved_user.id"), Some("0"));
    assert!(e.first("process.entity_id").is_none());
    assert!(e.first("talon.partial").is_none());

    // The pid taken by a process that started after the exec: not it.
    fx.process(101, "cron", 'S', 1, 999_999, &["cron"], "/usr/sbin/cron", 0);
    let (built, from_proc_details) = b.audit_exec_event(info, None, at(), 39);
    assert!(!from_proc_details);
    let e = built.unwrap().event;
    assert!(e.first("process.entity_id").is_none());
    // Without a comm, the normalizer's name stands.
    assert_eq!(s(&e, "process.name"), Some("dash"));
}
