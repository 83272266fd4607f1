//! From talon-sources' normalized exec event to what the sensor's event
//! builder needs: the process as the kernel's audit records described it
//! at its exec.
//!
//! The builder then writes the same Elastic Defend document as for the
//! process connector (host, agent, entity ids, the parent from `/proc` or
//! its cache), so the two sources differ only in what each knows.

use chrono::{DateTime, Utc};
use serde_json::Value;
use talon_event::Event;

use crate::document::ProcessInfo;
use crate::procfs::Ids;

/// One exec, as audit saw it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AuditExec {
    /// pid, ppid, executable, arguments, working directory and ids.
    pub info: ProcessInfo,
    /// The task's `comm` after the exec (the SYSCALL record's `comm`).
    pub comm: Option<String>,
    /// The name talon-sources gave (the executable's base name).
    pub name: Option<String>,
    /// When the kernel stamped the event.
    pub at: DateTime<Utc>,
    /// The audit serial of the event.
    pub serial: u64,
}

/// The exec a normalized event describes; `None` when it names no pid or
/// time (the normalizer always writes both for an exec).
pub(crate) fn exec_of(event: &Event) -> Option<AuditExec> {
    let doc: Value = serde_json::from_str(event.source()).ok()?;
    let get =
        |path: &str| -> Option<&Value> { path.split('.').try_fold(&doc, |v, key| v.get(key)) };
    let text = |path: &str| get(path).and_then(Value::as_str).map(str::to_owned);
    let int = |path: &str| get(path).and_then(Value::as_i64);
    let id = |path: &str| -> Option<u32> {
        match get(path)? {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            _ => None,
        }
    };
    let pid = i32::try_from(int("process.pid")?).ok()?;
    let at = DateTime::parse_from_rfc3339(&text("@timestamp")?)
        .ok()?
        .with_timezone(&Utc);
    let args = get("process.args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let info = ProcessInfo {
        pid,
        ppid: int("process.parent.pid")
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0),
        executable: text("process.executable"),
        args,
        working_directory: text("process.working_directory"),
        ids: ids(
            id("user.id"),
            id("user.effective.id"),
            id("group.id"),
            id("user.effective.group.id"),
        ),
        ..ProcessInfo::default()
    };
    Some(AuditExec {
        info,
        comm: text("event.original").and_then(|o| syscall_comm(&o)),
        name: text("process.name"),
        at,
        serial: get("auditd.sequence").and_then(Value::as_u64).unwrap_or(0),
    })
}

/// The ids after a successful exec. execve(2) copies the effective ids
/// into the saved ones, and the filesystem ids follow the effective ones,
/// so real and effective (both in the SYSCALL record) give all four.
fn ids(uid: Option<u32>, euid: Option<u32>, gid: Option<u32>, egid: Option<u32>) -> Option<Ids> {
    let (uid, gid) = (uid?, gid?);
    let (euid, egid) = (euid.unwrap_or(uid), egid.unwrap_or(gid));
    Some(Ids {
        uid: [uid, euid, euid, euid],
        gid: [gid, egid, egid, egid],
    })
}

/// `comm` of the SYSCALL record among an event's records: quoted
/// (`comm="sh"`) or, when it holds spaces, quotes or control bytes, hex.
pub(crate) fn syscall_comm(records: &str) -> Option<String> {
    let line = records.lines().find(|l| l.starts_with("type=SYSCALL "))?;
    let at = line.find(" comm=")? + " comm=".len();
    let value = &line[at..];
    if let Some(quoted) = value.strip_prefix('"') {
        return Some(quoted[..quoted.find('"')?].to_owned());
    }
    let token = value.split_ascii_whitespace().next()?;
    if token == "(null)" || token.is_empty() {
        return None;
    }
    Some(match decode_hex(token) {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => token.to_owned(),
    })
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 == 1 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_quoted_hex_and_missing() {
        let rec = |comm: &str| {
            format!("type=EXECVE msg=audit(1.0:1): argc=1 a0=\"x\"\ntype=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=59 comm={comm} exe=\"/bin/x\"")
        };
        assert_eq!(syscall_comm(&rec("\"sh\"")).as_deref(), Some("sh"));
        assert_eq!(
            syscall_comm(&rec("6D7920636F6D6D")).as_deref(),
            Some("my comm")
        );
        assert_eq!(syscall_comm(&rec("(null)")), None);
        assert_eq!(syscall_comm("type=EXECVE msg=audit(1.0:1): argc=0"), None);
    }

    #[test]
    fn ids_after_exec() {
        let ids = ids(Some(1000), Some(0), Some(100), None).unwrap();
        assert_eq!(ids.uid, [1000, 0, 0, 0]);
        assert_eq!(ids.gid, [100, 100, 100, 100]);
        assert_eq!(super::ids(None, Some(0), Some(0), Some(0)), None);
    }
}
