//! The kernel audit netlink protocol (`NETLINK_AUDIT`), as far as talon
//! speaks it: the requests it sends (status, rules, one user message), the
//! replies it reads, and the records the kernel multicasts.
//!
//! Layouts are those of `<linux/audit.h>` and `<linux/netlink.h>`, in host
//! byte order. Every message is a 16-byte `nlmsghdr` followed by its
//! payload. Audit records are text (`audit(1700000000.123:42): k=v …`),
//! one netlink message per record, the record type in `nlmsg_type`.
//!
//! Decoding never trusts a length it has not checked against the buffer:
//! bad bytes give [`WireError`], never a panic.

use thiserror::Error;

// Called only at offsets whose bounds were checked.
use crate::message::{u16_at, u32_at};

// Netlink.
pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;

/// The read-only multicast group (`AUDIT_NLGRP_READLOG`, Linux 3.16): a
/// copy of every record, whoever else (auditd) is listening.
pub const AUDIT_NLGRP_READLOG: u32 = 1;

// Requests.
pub const AUDIT_GET: u16 = 1000;
pub const AUDIT_SET: u16 = 1001;
pub const AUDIT_ADD_RULE: u16 = 1011;
pub const AUDIT_DEL_RULE: u16 = 1012;
pub const AUDIT_LIST_RULES: u16 = 1013;

/// User-space message ranges (`AUDIT_FIRST_USER_MSG`…`AUDIT_LAST_USER_MSG`,
/// `AUDIT_FIRST_USER_MSG2`…`AUDIT_LAST_USER_MSG2`): single records that
/// programs write (logins, PAM, sudo…), never part of a syscall event.
pub const USER_MSG_RANGES: [(u16, u16); 2] = [(1100, 1199), (2100, 2999)];
/// "Trusted app message, freestyle text": the type of talon's own check
/// message (libaudit's number, in the kernel's first user range).
pub const AUDIT_TRUSTED_APP: u16 = 1121;

// Records talon reads.
pub const AUDIT_SYSCALL: u16 = 1300;
pub const AUDIT_PATH: u16 = 1302;
pub const AUDIT_CWD: u16 = 1307;
pub const AUDIT_EXECVE: u16 = 1309;
pub const AUDIT_EOE: u16 = 1320;
pub const AUDIT_PROCTITLE: u16 = 1327;

// Rules.
pub const AUDIT_FILTER_EXIT: u32 = 0x04;
/// Set in a listed rule's `flags` when it was added in front.
pub const AUDIT_FILTER_PREPEND: u32 = 0x10;
pub const AUDIT_ALWAYS: u32 = 2;
pub const AUDIT_BITMASK_SIZE: usize = 64;
pub const AUDIT_MAX_FIELDS: usize = 64;
pub const AUDIT_MAX_KEY_LEN: usize = 256;
pub const AUDIT_ARCH: u32 = 11;
pub const AUDIT_FILTERKEY: u32 = 210;
pub const AUDIT_EQUAL: u32 = 0x4000_0000;
/// `struct audit_rule_data` without its string buffer: flags, action,
/// field_count, mask[64], fields[64], values[64], fieldflags[64], buflen.
pub const RULE_DATA_LEN: usize = 4 * (3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1);

// Status.
pub const AUDIT_STATUS_ENABLED: u32 = 0x1;
/// `struct audit_status` of current kernels: 11 words.
pub const STATUS_LEN: usize = 11 * 4;

/// Rule fields whose `values[i]` is the length of a string in the rule's
/// buffer (the security labels, watch, dir, exe, key), in field order.
fn is_string_field(field: u32) -> bool {
    matches!(field, 13..=17 | 19..=23 | 105 | 107 | 112 | AUDIT_FILTERKEY)
}

/// Bytes that are not what the kernel sends.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("netlink message length {0} does not fit the datagram")]
    BadLength(u32),
    #[error("audit rule has {0} fields (at most 64)")]
    TooManyFields(u32),
}

/// The native audit architecture and its exec syscall numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arch {
    /// `AUDIT_ARCH_*`: the ELF machine, `__AUDIT_ARCH_64BIT` (0x80000000)
    /// and `__AUDIT_ARCH_LE` (0x40000000).
    pub audit_arch: u32,
    pub execve: u32,
    pub execveat: u32,
}

/// The ELF machine (`EM_*`) of this build, or `None` where unknown.
const fn elf_machine() -> Option<u32> {
    if cfg!(target_arch = "x86_64") {
        Some(62)
    } else if cfg!(target_arch = "aarch64") {
        Some(183)
    } else if cfg!(target_arch = "riscv64") {
        Some(243)
    } else if cfg!(target_arch = "x86") {
        Some(3)
    } else if cfg!(target_arch = "arm") {
        Some(40)
    } else if cfg!(target_arch = "powerpc64") {
        Some(21)
    } else if cfg!(target_arch = "s390x") {
        Some(22)
    } else if cfg!(target_arch = "loongarch64") {
        Some(258)
    } else {
        None
    }
}

impl Arch {
    /// The architecture talon was built for, as the kernel's audit names
    /// it for a native process.
    pub fn native() -> Option<Arch> {
        let mut audit_arch = elf_machine()?;
        if cfg!(target_pointer_width = "64") {
            audit_arch |= 0x8000_0000;
        }
        if cfg!(target_endian = "little") {
            audit_arch |= 0x4000_0000;
        }
        Some(Arch {
            audit_arch,
            execve: libc::SYS_execve as u32,
            execveat: libc::SYS_execveat as u32,
        })
    }
}

/// One request: header (length, type, flags, sequence, port 0) and payload.
pub fn request(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&ty.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(payload);
    b
}

/// One netlink message of a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub port: u32,
    pub payload: &'a [u8],
}

impl Msg<'_> {
    /// The errno of an `NLMSG_ERROR` message (0: an acknowledgement), and
    /// the sequence number of the request it answers.
    pub fn error(&self) -> Option<(i32, u32)> {
        if self.ty != NLMSG_ERROR {
            return None;
        }
        // struct nlmsgerr: int error, then the request's header.
        let errno = self
            .payload
            .get(..4)
            .map(|b| (u32_at(b, 0) as i32).wrapping_neg())?;
        let seq = self
            .payload
            .get(4..4 + NLMSG_HDRLEN)
            .map(|h| u32_at(h, 8))
            .unwrap_or(self.seq);
        Some((errno, seq))
    }
}

/// The messages of one datagram, in order.
///
/// The kernel's unicast records to a registered audit daemon carry
/// `nlmsg_len` without the header (a quirk auditd depends on); multicast
/// copies and replies carry the real length. A datagram whose first
/// length is exactly its size minus the header is read as one such
/// record, anything else by the netlink rules.
pub fn messages(buf: &[u8]) -> Result<Vec<Msg<'_>>, WireError> {
    let mut out = Vec::with_capacity(1);
    if buf.len() < NLMSG_HDRLEN {
        return Err(WireError::Truncated {
            what: "netlink header",
            need: NLMSG_HDRLEN,
            have: buf.len(),
        });
    }
    let first_len = u32_at(buf, 0) as usize;
    if first_len + NLMSG_HDRLEN == buf.len() && first_len != buf.len() {
        out.push(msg_at(buf, &buf[NLMSG_HDRLEN..]));
        return Ok(out);
    }
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32_at(rest, 0);
        let n = len as usize;
        if n < NLMSG_HDRLEN || n > rest.len() {
            return Err(WireError::BadLength(len));
        }
        out.push(msg_at(rest, &rest[NLMSG_HDRLEN..n]));
        let next = (n + 3) & !3;
        rest = rest.get(next..).unwrap_or(&[]);
    }
    Ok(out)
}

fn msg_at<'a>(hdr: &[u8], payload: &'a [u8]) -> Msg<'a> {
    Msg {
        ty: u16_at(hdr, 4),
        flags: u16_at(hdr, 6),
        seq: u32_at(hdr, 8),
        port: u32_at(hdr, 12),
        payload,
    }
}

/// `struct audit_status`, as much of it as the kernel sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub mask: u32,
    /// 0 off, 1 on, 2 on and locked (immutable until reboot).
    pub enabled: u32,
    pub failure: u32,
    /// The registered audit daemon (0: none).
    pub pid: u32,
    pub rate_limit: u32,
    pub backlog_limit: u32,
    /// Records the kernel could not queue or send, since boot.
    pub lost: u32,
    pub backlog: u32,
}

impl Status {
    /// Decodes a status reply; words the kernel did not send read as 0.
    pub fn decode(payload: &[u8]) -> Result<Status, WireError> {
        if payload.len() < 8 * 4 {
            return Err(WireError::Truncated {
                what: "audit status",
                need: 8 * 4,
                have: payload.len(),
            });
        }
        let w = |i: usize| u32_at(payload, 4 * i);
        Ok(Status {
            mask: w(0),
            enabled: w(1),
            failure: w(2),
            pid: w(3),
            rate_limit: w(4),
            backlog_limit: w(5),
            lost: w(6),
            backlog: w(7),
        })
    }

    /// The AUDIT_SET payload that changes only `enabled`.
    pub fn set_enabled(enabled: u32) -> Vec<u8> {
        let mut b = vec![0u8; STATUS_LEN];
        b[0..4].copy_from_slice(&AUDIT_STATUS_ENABLED.to_ne_bytes());
        b[4..8].copy_from_slice(&enabled.to_ne_bytes());
        b
    }
}

/// One field condition of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleField {
    pub field: u32,
    /// The operator (`fieldflags`), e.g. [`AUDIT_EQUAL`].
    pub op: u32,
    pub value: u32,
}

/// `struct audit_rule_data` with its string buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleData {
    /// The filter list (`AUDIT_FILTER_*`), maybe with
    /// [`AUDIT_FILTER_PREPEND`].
    pub flags: u32,
    pub action: u32,
    pub mask: [u32; AUDIT_BITMASK_SIZE],
    pub fields: Vec<RuleField>,
    /// The strings of the string fields, back to back, in field order.
    pub buf: Vec<u8>,
}

impl RuleData {
    /// `-a always,exit -F arch=<native> -S execve -S execveat -k <key>`.
    /// The key is cut to [`AUDIT_MAX_KEY_LEN`] bytes.
    pub fn exec_rule(arch: Arch, key: &str) -> RuleData {
        let key = &key.as_bytes()[..key.len().min(AUDIT_MAX_KEY_LEN)];
        let mut mask = [0u32; AUDIT_BITMASK_SIZE];
        for nr in [arch.execve, arch.execveat] {
            set_bit(&mut mask, nr);
        }
        RuleData {
            flags: AUDIT_FILTER_EXIT,
            action: AUDIT_ALWAYS,
            mask,
            fields: vec![
                RuleField {
                    field: AUDIT_ARCH,
                    op: AUDIT_EQUAL,
                    value: arch.audit_arch,
                },
                RuleField {
                    field: AUDIT_FILTERKEY,
                    op: AUDIT_EQUAL,
                    value: key.len() as u32,
                },
            ],
            buf: key.to_vec(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(RULE_DATA_LEN + self.buf.len());
        let put = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_ne_bytes());
        put(&mut b, self.flags);
        put(&mut b, self.action);
        put(&mut b, self.fields.len() as u32);
        for m in self.mask {
            put(&mut b, m);
        }
        let column = |b: &mut Vec<u8>, get: fn(&RuleField) -> u32| {
            for i in 0..AUDIT_MAX_FIELDS {
                let v = self.fields.get(i).map_or(0, get);
                b.extend_from_slice(&v.to_ne_bytes());
            }
        };
        column(&mut b, |f| f.field);
        column(&mut b, |f| f.value);
        column(&mut b, |f| f.op);
        put(&mut b, self.buf.len() as u32);
        b.extend_from_slice(&self.buf);
        b
    }

    pub fn decode(payload: &[u8]) -> Result<RuleData, WireError> {
        if payload.len() < RULE_DATA_LEN {
            return Err(WireError::Truncated {
                what: "audit rule",
                need: RULE_DATA_LEN,
                have: payload.len(),
            });
        }
        let w = |i: usize| u32_at(payload, 4 * i);
        let count = w(2);
        if count as usize > AUDIT_MAX_FIELDS {
            return Err(WireError::TooManyFields(count));
        }
        let mut mask = [0u32; AUDIT_BITMASK_SIZE];
        for (i, m) in mask.iter_mut().enumerate() {
            *m = w(3 + i);
        }
        let fields_at = 3 + AUDIT_BITMASK_SIZE;
        let values_at = fields_at + AUDIT_MAX_FIELDS;
        let ops_at = values_at + AUDIT_MAX_FIELDS;
        let fields = (0..count as usize)
            .map(|i| RuleField {
                field: w(fields_at + i),
                value: w(values_at + i),
                op: w(ops_at + i),
            })
            .collect();
        let buflen = w(ops_at + AUDIT_MAX_FIELDS) as usize;
        let buf = payload
            .get(RULE_DATA_LEN..RULE_DATA_LEN.saturating_add(buflen))
            .ok_or(WireError::Truncated {
                what: "audit rule strings",
                need: RULE_DATA_LEN.saturating_add(buflen),
                have: payload.len(),
            })?;
        Ok(RuleData {
            flags: w(0),
            action: w(1),
            mask,
            fields,
            buf: buf.to_vec(),
        })
    }

    /// The filter list, without the prepend flag.
    pub fn filter(&self) -> u32 {
        self.flags & !AUDIT_FILTER_PREPEND
    }

    /// The rule's key (`-k`), when it has one.
    pub fn key(&self) -> Option<String> {
        let mut at = 0usize;
        for f in &self.fields {
            if !is_string_field(f.field) {
                continue;
            }
            let len = f.value as usize;
            let s = self.buf.get(at..at.checked_add(len)?)?;
            if f.field == AUDIT_FILTERKEY {
                return Some(String::from_utf8_lossy(s).into_owned());
            }
            at += len;
        }
        None
    }

    pub fn has_syscall(&self, nr: u32) -> bool {
        let (word, bit) = ((nr / 32) as usize, nr % 32);
        self.mask.get(word).is_some_and(|m| m & (1 << bit) != 0)
    }

    /// Whether this rule records every execve and execveat of `arch`:
    /// always, at syscall exit, with no condition other than the
    /// architecture (and a key, which only labels the records).
    pub fn records_every_exec(&self, arch: Arch) -> bool {
        self.filter() == AUDIT_FILTER_EXIT
            && self.action == AUDIT_ALWAYS
            && self.has_syscall(arch.execve)
            && self.has_syscall(arch.execveat)
            && self.fields.iter().all(|f| match f.field {
                AUDIT_ARCH => f.op == AUDIT_EQUAL && f.value == arch.audit_arch,
                AUDIT_FILTERKEY => true,
                _ => false,
            })
    }
}

fn set_bit(mask: &mut [u32; AUDIT_BITMASK_SIZE], nr: u32) {
    if let Some(m) = mask.get_mut((nr / 32) as usize) {
        *m |= 1 << (nr % 32);
    }
}

/// Whether a record type is a user-space message.
pub fn is_user_message(ty: u16) -> bool {
    USER_MSG_RANGES
        .iter()
        .any(|(lo, hi)| (*lo..=*hi).contains(&ty))
}

/// The name auditd gives a kernel record type in its logs (`SYSCALL`),
/// `None` for types talon does not name.
pub fn record_name(ty: u16) -> Option<&'static str> {
    const NAMES: [(u16, &str); 45] = [
        (1300, "SYSCALL"),
        (1302, "PATH"),
        (1303, "IPC"),
        (1304, "SOCKETCALL"),
        (1305, "CONFIG_CHANGE"),
        (1306, "SOCKADDR"),
        (1307, "CWD"),
        (1309, "EXECVE"),
        (1311, "IPC_SET_PERM"),
        (1312, "MQ_OPEN"),
        (1313, "MQ_SENDRECV"),
        (1314, "MQ_NOTIFY"),
        (1315, "MQ_GETSETATTR"),
        (1316, "KERNEL_OTHER"),
        (1317, "FD_PAIR"),
        (1318, "OBJ_PID"),
        (1319, "TTY"),
        (1320, "EOE"),
        (1321, "BPRM_FCAPS"),
        (1322, "CAPSET"),
        (1323, "MMAP"),
        (1324, "NETFILTER_PKT"),
        (1325, "NETFILTER_CFG"),
        (1326, "SECCOMP"),
        (1327, "PROCTITLE"),
        (1328, "FEATURE_CHANGE"),
        (1329, "REPLACE"),
        (1330, "KERN_MODULE"),
        (1331, "FANOTIFY"),
        (1332, "TIME_INJOFFSET"),
        (1333, "TIME_ADJNTPVAL"),
        (1334, "BPF"),
        (1335, "EVENT_LISTENER"),
        (1336, "URINGOP"),
        (1337, "OPENAT2"),
        (1338, "DM_CTRL"),
        (1339, "DM_EVENT"),
        (1400, "AVC"),
        (1401, "SELINUX_ERR"),
        (1402, "AVC_PATH"),
        (1700, "ANOM_PROMISCUOUS"),
        (1701, "ANOM_ABEND"),
        (1702, "ANOM_LINK"),
        (1703, "ANOM_CREAT"),
        (2000, "KERNEL"),
    ];
    NAMES.iter().find(|(t, _)| *t == ty).map(|(_, n)| *n)
}

/// A kernel record in the form of a raw audit log line:
/// `type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e …`, which is
/// what auditd writes (less the `node=` it may add). Trailing NULs and
/// whitespace are dropped and line breaks become spaces, so one record is
/// always one line. Types without a name are written `UNKNOWN[1334]`, as
/// auditd does.
pub fn record_line(ty: u16, payload: &[u8], out: &mut Vec<u8>) {
    let end = payload
        .iter()
        .rposition(|b| !matches!(b, 0 | b' ' | b'\n' | b'\r' | b'\t'))
        .map_or(0, |i| i + 1);
    out.extend_from_slice(b"type=");
    match record_name(ty) {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => out.extend_from_slice(format!("UNKNOWN[{ty}]").as_bytes()),
    }
    out.extend_from_slice(b" msg=");
    out.extend(payload[..end].iter().map(|&b| match b {
        b'\n' | b'\r' | 0 => b' ',
        other => other,
    }));
    out.push(b'\n');
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
