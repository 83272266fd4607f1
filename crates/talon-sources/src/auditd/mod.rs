//! Raw Linux audit logs → exec events.
//!
//! The kernel writes one audit event as several records (SYSCALL, EXECVE,
//! CWD, PATH…, PROCTITLE, EOE) sharing a serial (`msg=audit(T:SERIAL)`),
//! and records of neighbouring events may interleave. Records are grouped
//! by (node, serial) and a group is answered for when it is complete:
//! - its EOE record arrives;
//! - it is a user-space message (USER_*, CRED_*, …), which is one record;
//! - more than [`AuditWindow::max_open`] groups are open (the oldest goes);
//! - a record arrives more than [`AuditWindow::max_age_ms`] (audit clock)
//!   after the group's own timestamp;
//! - the input ends.
//!
//! Memory is bounded by the window: at most `max_open` groups of at most
//! [`MAX_GROUP_RECORDS`] records each are held.

mod exec;
pub(crate) mod record;

use crate::input::Columns;
use crate::norm::{LineNormalizer, Out};
use crate::stats::IgnoreReason;
use record::{Record, RecordError};

/// How long records wait for the rest of their event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditWindow {
    /// Open (incomplete) events held at most.
    pub max_open: usize,
    /// An open event is complete once a record this much later (by the
    /// audit timestamps) has been read.
    pub max_age_ms: i64,
}

impl Default for AuditWindow {
    fn default() -> Self {
        AuditWindow {
            max_open: 64,
            max_age_ms: 2_000,
        }
    }
}

/// Records of one event held at most; the rest are counted as merged but
/// not kept (a PATH-heavy syscall can have hundreds).
pub const MAX_GROUP_RECORDS: usize = 256;

/// Record types written by user-space programs as single-record events.
fn is_user_space(rtype: &str) -> bool {
    const PREFIXES: [&str; 13] = [
        "USER_", "CRED_", "DAEMON_", "CRYPTO_", "SERVICE_", "SYSTEM_", "ADD_", "DEL_", "GRP_",
        "CHGRP_", "CHUSER_", "ROLE_", "USYS_",
    ];
    PREFIXES.iter().any(|p| rtype.starts_with(p)) || rtype == "LOGIN" || rtype == "CONFIG_CHANGE"
}

/// The records of one audit event.
pub(crate) struct Group {
    pub node: Option<String>,
    pub serial: u64,
    pub nanos: i64,
    pub records: Vec<Record>,
    /// Records beyond [`MAX_GROUP_RECORDS`], counted but not kept.
    pub dropped: u64,
    /// Whether an EOE record closed it (it is then one of the merged).
    pub eoe: bool,
}

impl Group {
    pub fn first_line(&self) -> u64 {
        self.records.first().map_or(0, |r| r.line)
    }

    pub fn find(&self, rtype: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.rtype == rtype)
    }

    /// Every record this group answers for.
    pub fn record_count(&self) -> u64 {
        self.records.len() as u64 + self.dropped + u64::from(self.eoe)
    }
}

/// The auditd normalizer: groups records, then maps complete groups.
pub(crate) struct Auditd {
    window: AuditWindow,
    /// Open groups in arrival order (small: bounded by the window).
    open: Vec<Group>,
}

impl Auditd {
    pub fn new(window: AuditWindow) -> Auditd {
        Auditd {
            window: AuditWindow {
                max_open: window.max_open.max(1),
                max_age_ms: window.max_age_ms.max(0),
            },
            open: Vec::new(),
        }
    }

    fn position(&self, node: &Option<String>, serial: u64) -> Option<usize> {
        self.open
            .iter()
            .position(|g| g.serial == serial && &g.node == node)
    }

    fn complete(&mut self, idx: usize, out: &mut Out) {
        let group = self.open.remove(idx);
        exec::answer(group, out);
    }

    /// Completes groups that the window says can get no more records.
    fn expire(&mut self, now: i64, out: &mut Out) {
        let max_age = self.window.max_age_ms.saturating_mul(1_000_000);
        while let Some(idx) = self
            .open
            .iter()
            .position(|g| now.saturating_sub(g.nanos) > max_age)
        {
            self.complete(idx, out);
        }
        while self.open.len() > self.window.max_open {
            self.complete(0, out);
        }
    }
}

impl LineNormalizer for Auditd {
    fn line(&mut self, text: &str, line: u64, columns: &Columns, out: &mut Out) {
        let rec = match Record::parse(text, line) {
            Ok(r) => Record {
                columns: columns.clone(),
                ..r
            },
            Err(e) => {
                let detail = match e {
                    // `type=UNKNOWN[1329] msg=?`: a record auditd wrote
                    // without its time and serial, so it joins no event.
                    RecordError::NoHeader if text.starts_with("type=") => format!(
                        "audit record without its `msg=audit(TIME:SERIAL)` stamp, so it \
                         belongs to no event: {}",
                        preview(text)
                    ),
                    RecordError::NoHeader => format!("not an audit record: {}", preview(text)),
                    RecordError::BadHeader(why) => format!("audit record header: {why}"),
                    RecordError::Cut(key) => {
                        format!("audit record cut short: the value of `{key}` has no closing quote")
                    }
                };
                out.ignore(
                    line,
                    IgnoreReason::NotARecord,
                    "not an audit record",
                    detail,
                );
                return;
            }
        };
        let now = rec.nanos;
        match self.position(&rec.node, rec.serial) {
            Some(idx) if rec.rtype == "EOE" => {
                self.open[idx].eoe = true;
                self.complete(idx, out);
            }
            Some(idx) => {
                let g = &mut self.open[idx];
                if g.records.len() < MAX_GROUP_RECORDS {
                    g.records.push(rec);
                } else {
                    g.dropped += 1;
                }
            }
            None if rec.rtype == "EOE" => out.ignore(
                line,
                IgnoreReason::Incomplete,
                "auditd EOE",
                format!(
                    "end of event {} whose records were already answered for",
                    rec.serial
                ),
            ),
            None => {
                let single = is_user_space(&rec.rtype);
                self.open.push(Group {
                    node: rec.node.clone(),
                    serial: rec.serial,
                    nanos: rec.nanos,
                    records: vec![rec],
                    dropped: 0,
                    eoe: false,
                });
                if single {
                    let idx = self.open.len() - 1;
                    self.complete(idx, out);
                }
            }
        }
        self.expire(now, out);
    }

    fn end(&mut self, out: &mut Out) {
        // Oldest first, so parents (earlier serials) come before children.
        self.open.sort_by_key(|g| (g.nanos, g.serial));
        for group in std::mem::take(&mut self.open) {
            exec::answer(group, out);
        }
    }
}

/// The start of a line, for messages.
pub(crate) fn preview(text: &str) -> String {
    const MAX: usize = 60;
    let t = text.trim();
    match t.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}
