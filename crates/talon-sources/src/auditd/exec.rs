//! One complete audit event → an Elastic Defend-shaped exec event, or an
//! ignored record with its reason.
//!
//! Which records give which fields:
//! - SYSCALL: `pid`, `ppid`, `uid`/`gid`/`euid`/`auid`…, `exe` (the
//!   resolved executable), `comm`, `success`, `key`, `arch`, `syscall`,
//!   `tty`, `ses`; and the enrichment names (`UID="root"`) when present;
//! - EXECVE: the argv, `a0`…`aN` (quoted or hex), with long arguments split
//!   as `aN_len=` + `aN[0]`, `aN[1]`… across several EXECVE records;
//! - PROCTITLE: the argv as NUL-separated hex, which the kernel cuts at 128
//!   bytes; used only when there is no EXECVE record;
//! - CWD: `process.working_directory`; PATH item 0: the executable as passed
//!   to execve, used when SYSCALL has no `exe`.
//!
//! An event counts once: it becomes one event (or one ignored record), and
//! its other records count as merged.

use std::num::IntErrorKind;

use crate::auditd::record::{decode_hex, Decoded, Record};
use crate::auditd::Group;
use crate::doc::{iso_nanos, EcsDoc, Kind, ValueAt};
use crate::norm::Out;
use crate::stats::{IgnoreReason, ValueReason};

/// The unset user id (`auid=4294967295`: no login session).
const UNSET_ID: &str = "4294967295";

/// Answers for one complete group.
pub(crate) fn answer(group: Group, out: &mut Out) {
    let line = group.first_line();
    let merged = group.record_count().saturating_sub(1);
    let Some(syscall) = group.find("SYSCALL") else {
        let (reason, kind, detail) = without_syscall(&group);
        out.ignore(line, reason, kind, detail);
        out.merged(merged);
        return;
    };
    let name = syscall_name(syscall);
    if group.find("EXECVE").is_none() && !is_exec_name(&name) {
        // Where it says so: the SYSCALL record's `syscall=` value.
        out.ignore_at(
            syscall.line,
            syscall.column("syscall"),
            IgnoreReason::NotExec,
            format!("auditd syscall {name}"),
            format!("syscall {name} is not an exec (event {})", group.serial),
        );
        out.merged(merged);
        return;
    }
    if syscall.token("success") == Some("no") {
        out.ignore_at(
            syscall.line,
            syscall.column("success"),
            IgnoreReason::FailedExec,
            "auditd failed exec",
            format!(
                "exec failed (exit={}) in event {}",
                syscall.token("exit").unwrap_or("?"),
                group.serial
            ),
        );
        out.merged(merged);
        return;
    }
    if let Some(pid) = syscall
        .token("pid")
        .filter(|_| syscall.num("pid").is_none())
    {
        // A pid that is no number (`pid=18446744073709551617`, `pid=4x`) is
        // not a cut line but a damaged one: an issue at the value.
        out.ignore_at(
            syscall.line,
            syscall.column("pid"),
            IgnoreReason::MissingFields,
            "auditd SYSCALL with a bad pid",
            format!(
                "event {}: its SYSCALL record's pid `{pid}` is not a process id",
                group.serial
            ),
        );
        out.merged(merged);
        return;
    }
    // Every SYSCALL record the kernel writes names its process; one
    // without (a line cut short: the file's last, a truncated copy) would
    // be an exec of no process.
    if syscall.num("pid").is_none() {
        out.ignore(
            line,
            IgnoreReason::Incomplete,
            "auditd SYSCALL without pid",
            format!(
                "event {}: its SYSCALL record has no pid (cut short?)",
                group.serial
            ),
        );
        out.merged(merged);
        return;
    }
    let doc = exec_doc(&group, syscall, &name);
    let original: Vec<&str> = group.records.iter().map(|r| r.raw.as_str()).collect();
    out.event(doc, line, Some(original.join("\n")));
    out.merged(merged);
}

/// Why a group without SYSCALL gives no event.
fn without_syscall(group: &Group) -> (IgnoreReason, String, String) {
    let types: Vec<&str> = group.records.iter().map(|r| r.rtype.as_str()).collect();
    let first = types.first().copied().unwrap_or("?");
    if types.contains(&"EXECVE") {
        return (
            IgnoreReason::Incomplete,
            "auditd EXECVE without SYSCALL".to_string(),
            format!(
                "event {} has EXECVE but no SYSCALL record (lost or filtered)",
                group.serial
            ),
        );
    }
    if super::is_user_space(first) {
        return (
            IgnoreReason::UnsupportedKind,
            format!("auditd {first}"),
            format!("user-space {first} message is not a process event"),
        );
    }
    (
        IgnoreReason::Incomplete,
        format!("auditd {first} without SYSCALL"),
        format!(
            "event {} has no SYSCALL record ({})",
            group.serial,
            types.join(", ")
        ),
    )
}

/// The syscall's name: the enrichment's `SYSCALL=` when present, else the
/// number looked up for the architecture, else the number.
fn syscall_name(rec: &Record) -> String {
    if let Some(n) = rec.text("SYSCALL") {
        return n;
    }
    let Some(num) = rec.num("syscall") else {
        return "?".to_string();
    };
    let (execve, execveat) = match rec.token("arch").map(str::to_ascii_lowercase).as_deref() {
        Some("c000003e") => (59, 322),                    // x86_64
        Some("40000003") => (11, 358),                    // i386
        Some("c00000b7") => (221, 281),                   // aarch64
        Some("40000028") => (11, 387),                    // arm
        Some("c0000015") | Some("80000015") => (11, 362), // ppc64le / ppc64
        Some("80000016") => (11, 354),                    // s390x
        _ => return num.to_string(),
    };
    if num == execve {
        "execve".to_string()
    } else if num == execveat {
        "execveat".to_string()
    } else {
        num.to_string()
    }
}

fn is_exec_name(name: &str) -> bool {
    name == "execve" || name == "execveat"
}

fn arch_name(token: &str) -> &str {
    match token.to_ascii_lowercase().as_str() {
        "c000003e" => "x86_64",
        "40000003" => "i386",
        "c00000b7" => "aarch64",
        "40000028" => "arm",
        "c0000015" => "ppc64le",
        "80000015" => "ppc64",
        "80000016" => "s390x",
        _ => token,
    }
}

fn exec_doc(group: &Group, sys: &Record, syscall: &str) -> EcsDoc {
    let mut d = EcsDoc::new(Kind::Process);
    d.set("@timestamp", iso_nanos(group.nanos));
    d.set("event.category", vec!["process"]);
    d.set("event.type", vec!["start"]);
    d.set("event.action", "exec");
    d.set("event.outcome", "success");
    d.text("host.name", group.node.as_deref());

    if let Some(pid) = sys.num("pid") {
        d.set("process.pid", pid);
    }
    match sys.token("ppid").map(|p| (p, p.parse::<i64>())) {
        Some((_, Ok(ppid))) => d.set("process.parent.pid", ppid),
        // The event stands on its pid; a damaged ppid is said, at its
        // value, and left out.
        Some((written, Err(e))) => d.unreadable(
            ValueAt::Column(sys.line, sys.column("ppid")),
            match e.kind() {
                IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => ValueReason::OutOfRange,
                _ => ValueReason::NotAnInteger,
            },
            &format!("ppid {written}"),
            "process.parent.pid",
        ),
        None => {}
    }
    let exe = text(&mut d, sys, "exe").or_else(|| {
        // The executable as passed to execve, when it is a path.
        let (path0, name) = group
            .records
            .iter()
            .filter(|r| r.rtype == "PATH" && r.token("item") == Some("0"))
            .find_map(|r| Some((r, r.decoded("name")?)))?;
        name.text
            .starts_with('/')
            .then(|| noted(&mut d, path0, "name", name))
    });
    d.executable("process", exe.as_deref());
    // `comm` is cut at 15 bytes; the executable's name is the better one.
    if !d.has("process.name") {
        let comm = text(&mut d, sys, "comm");
        d.text("process.name", comm.as_deref());
    }

    let args = execve_args(&mut d, group).unwrap_or_else(|| proctitle_args(&mut d, group));
    d.argv("process", &args);
    if let Some(cwd) = group.find("CWD").and_then(|r| text(&mut d, r, "cwd")) {
        d.text("process.working_directory", Some(&cwd));
    }

    ids(&mut d, sys);
    if let Some(tty) = sys.token("tty").filter(|t| *t != "(none)") {
        d.set("auditd.data.tty", tty);
    }
    if let Some(arch) = sys.token("arch") {
        d.set("auditd.data.arch", arch_name(arch));
    }
    d.set("auditd.data.syscall", syscall);
    d.set("auditd.sequence", group.serial);
    if let Some(ses) = sys.token("ses").filter(|s| *s != UNSET_ID) {
        d.set("auditd.session", ses);
    }
    // Several rule keys are joined by 0x01 in one `key` field.
    if let Some(keys) = text(&mut d, sys, "key") {
        for k in keys.split('\u{1}').filter(|k| !k.is_empty()) {
            d.push_str("tags", k);
        }
    }
    // A record's line that is not UTF-8 was read with U+FFFD in place of
    // its bad bytes: said at the first of them (bytes written hex-encoded
    // are said with their value, above).
    for r in &group.records {
        if let Some((column, bytes)) = r.columns.not_utf8(0..r.raw.len()) {
            d.unreadable(
                ValueAt::Column(r.line, column),
                ValueReason::InvalidUtf8,
                &bytes,
                &format!("the {} record", r.rtype),
            );
        }
    }
    d
}

/// User and group ids, and their names when auditd enriched the record.
fn ids(d: &mut EcsDoc, sys: &Record) {
    let pairs = [
        ("uid", "UID", "user"),
        ("gid", "GID", "group"),
        ("euid", "EUID", "user.effective"),
        ("egid", "EGID", "user.effective.group"),
        ("auid", "AUID", "user.audit"),
    ];
    for (id_key, name_key, prefix) in pairs {
        let Some(id) = sys
            .token(id_key)
            .filter(|v| *v != UNSET_ID && !v.is_empty())
        else {
            continue;
        };
        d.set(&format!("{prefix}.id"), id);
        if let Some(name) = text(d, sys, name_key).filter(|n| !n.starts_with("unknown(")) {
            d.text(&format!("{prefix}.name"), Some(&name));
        }
    }
}

/// The text of `key` in `rec` ([`Record::text`]), for the event `d`:
/// hex-encoded bytes that are not UTF-8, read as U+FFFD, are noted on it.
fn text(d: &mut EcsDoc, rec: &Record, key: &str) -> Option<String> {
    Some(noted(d, rec, key, rec.decoded(key)?))
}

/// The text of `value`, `key`'s in `rec`, its bytes that are not UTF-8
/// noted on `d`.
fn noted(d: &mut EcsDoc, rec: &Record, key: &str, value: Decoded) -> String {
    if let Some((at, bytes)) = &value.not_utf8 {
        hex_not_utf8(d, rec, key, *at, bytes);
    }
    value.text
}

/// Notes that hex-encoded `bytes`, `at` bytes into the value of `key` in
/// `rec`, are not UTF-8 and were read as U+FFFD: at their hex digits.
fn hex_not_utf8(d: &mut EcsDoc, rec: &Record, key: &str, at: usize, bytes: &str) {
    let column = match rec.column(key) {
        0 => 0,
        // Two hex digits a byte, every one ASCII.
        value => value + 2 * at as u64,
    };
    d.unreadable(
        ValueAt::Column(rec.line, column),
        ValueReason::InvalidUtf8,
        &format!("{bytes} (hex-encoded, byte {} of the value)", at + 1),
        &format!("the {} record's {key}", rec.rtype),
    );
}

/// Collects the argv from the EXECVE records (several when arguments are
/// long); `None` when there is no EXECVE record.
fn execve_args(d: &mut EcsDoc, group: &Group) -> Option<Vec<String>> {
    let records: Vec<&Record> = group
        .records
        .iter()
        .filter(|r| r.rtype == "EXECVE")
        .collect();
    if records.is_empty() {
        return None;
    }
    let argc = records
        .iter()
        .find_map(|r| r.num("argc"))
        .unwrap_or(0)
        .clamp(0, 1 << 16) as usize;
    let mut args = Vec::with_capacity(argc);
    for i in 0..argc {
        match arg(d, &records, i) {
            Some(a) => args.push(a),
            // The kernel drops what does not fit its buffer; keep what came.
            None => break,
        }
    }
    Some(args)
}

/// Argument `i`: whole (`aI=`), or reassembled from `aI[0]`, `aI[1]`… hex
/// chunks (which may spread over several EXECVE records, and split a
/// character between two).
fn arg(d: &mut EcsDoc, records: &[&Record], i: usize) -> Option<String> {
    let key = format!("a{i}");
    if let Some(r) = records.iter().find(|r| r.raw(&key).is_some()) {
        return Some(text(d, r, &key).unwrap_or_default());
    }
    let mut bytes = Vec::new();
    // Each chunk's record and key, and where its bytes start.
    let mut chunks = Vec::new();
    for j in 0.. {
        let chunk_key = format!("a{i}[{j}]");
        let Some((r, chunk)) = records
            .iter()
            .find_map(|r| Some((*r, r.token(&chunk_key)?)))
        else {
            break;
        };
        chunks.push((r, chunk_key, bytes.len()));
        match decode_hex(chunk) {
            Some(b) => bytes.extend_from_slice(&b),
            None => bytes.extend_from_slice(chunk.as_bytes()),
        }
    }
    if chunks.is_empty() {
        return None;
    }
    let Decoded { text, not_utf8 } = Decoded::from_bytes(&bytes);
    if let Some((at, shown)) = not_utf8 {
        // Said in the chunk where they start (a hex one: a chunk written
        // as text is UTF-8 whole).
        if let Some((r, chunk_key, start)) = chunks.iter().rev().find(|(_, _, s)| *s <= at) {
            hex_not_utf8(d, r, chunk_key, at - start, &shown);
        }
    }
    Some(text)
}

/// The argv from PROCTITLE (NUL-separated); empty when there is none.
fn proctitle_args(d: &mut EcsDoc, group: &Group) -> Vec<String> {
    let Some(title) = group
        .find("PROCTITLE")
        .and_then(|r| text(d, r, "proctitle"))
    else {
        return Vec::new();
    };
    title
        .split('\0')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::norm::Outcome;

    fn group(lines: &[&str]) -> Group {
        let records: Vec<Record> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| Record::parse(l, i as u64 + 1).unwrap())
            .collect();
        Group {
            node: records[0].node.clone(),
            serial: records[0].serial,
            nanos: records[0].nanos,
            records,
            dropped: 0,
            eoe: false,
        }
    }

    #[test]
    fn split_arguments_are_reassembled() {
        let g = group(&[
            "type=EXECVE msg=audit(1.0:9): argc=3 a0=\"echo\" a1_len=6 a1[0]=616263 a1[1]=646566",
            "type=EXECVE msg=audit(1.0:9): a2=\"x y\"",
        ]);
        let mut d = EcsDoc::new(Kind::Process);
        assert_eq!(execve_args(&mut d, &g).unwrap(), ["echo", "abcdef", "x y"]);
        assert_eq!(d.unread, []);
    }

    #[test]
    fn proctitle_is_the_fallback() {
        let g = group(&["type=PROCTITLE msg=audit(1.0:9): proctitle=64617368002D70"]);
        let mut d = EcsDoc::new(Kind::Process);
        assert_eq!(execve_args(&mut d, &g), None);
        assert_eq!(proctitle_args(&mut d, &g), ["dash", "-p"]);
    }

    #[test]
    fn non_exec_syscalls_are_counted() {
        let g = group(&[
            "type=SYSCALL msg=audit(1.0:9): arch=c000003e syscall=2 success=yes pid=1",
            "type=CWD msg=audit(1.0:9): cwd=\"/\"",
        ]);
        let mut out = Out::default();
        answer(g, &mut out);
        match out.pop() {
            Some(Outcome::Ignored { reason, kind, .. }) => {
                assert_eq!(reason, IgnoreReason::NotExec);
                assert_eq!(kind, "auditd syscall 2");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(out.pop(), Some(Outcome::Merged(1))));
    }
}
