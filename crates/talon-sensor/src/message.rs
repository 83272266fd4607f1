//! The process connector's wire format: the subscribe request talon sends,
//! and the process events the kernel multicasts back.
//!
//! A datagram holds one or more netlink messages (`nlmsghdr`, 16 bytes,
//! each padded to 4 bytes); the connector puts a `cn_msg` header (20 bytes)
//! in each, and the process connector a `proc_event` after that: `what`,
//! `cpu`, a monotonic `timestamp_ns`, then the event's own fields. All
//! integers are in host byte order. Decoding reads bytes at offsets and
//! never trusts a length it has not checked against the buffer, so a short
//! or corrupt datagram yields [`DecodeError`], never a panic.

use thiserror::Error;

/// Netlink message header length.
const NLMSG_HDRLEN: usize = 16;
/// `struct cn_msg` header length (id, seq, ack, len, flags).
const CN_MSG_HDRLEN: usize = 20;
/// `what` + `cpu` + `timestamp_ns`.
const PROC_EVENT_HDRLEN: usize = 16;

/// Connector index and value of the process events connector.
pub const CN_IDX_PROC: u32 = 1;
pub const CN_VAL_PROC: u32 = 1;

/// Netlink message types the decoder tells apart.
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// `enum proc_cn_mcast_op`.
const PROC_CN_MCAST_LISTEN: u32 = 1;

/// `enum what` values of the events talon uses.
const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// A datagram that is not a well-formed connector message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("truncated {what}: need {need} bytes, have {have}")]
    Truncated {
        what: &'static str,
        need: usize,
        have: usize,
    },
    #[error("netlink message length {0} is shorter than its header")]
    BadLength(u32),
    #[error("netlink error message: errno {0}")]
    Netlink(i32),
}

/// One process event, with the connector's per-CPU sequence number (gaps
/// in it are events the socket dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `cn_msg.seq`: a per-CPU event counter (acknowledgements too, since
    /// Linux 6.6; before, they carried the request's own number).
    pub seq: u32,
    /// `cn_msg.ack`: the request's `ack + 1` in an acknowledgement.
    pub ack: u32,
    /// The CPU the event was raised on (`u32::MAX` in acknowledgements
    /// before Linux 6.6).
    pub cpu: u32,
    /// `CLOCK_MONOTONIC` nanoseconds when the kernel raised it.
    pub timestamp_ns: u64,
    pub event: ProcEvent,
}

/// The process events talon acts on; the rest are kept as `Other`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcEvent {
    /// The answer to a subscribe request: 0, or an errno.
    Ack { err: u32 },
    /// A new task. It is a new process when `child_pid == child_tgid`,
    /// a thread otherwise.
    Fork {
        parent_pid: i32,
        parent_tgid: i32,
        child_pid: i32,
        child_tgid: i32,
    },
    /// A task replaced its program image.
    Exec { pid: i32, tgid: i32 },
    /// A task ended. `parent_*` are 0 on kernels before 4.18, which did not
    /// send them.
    Exit {
        pid: i32,
        tgid: i32,
        exit_code: u32,
        exit_signal: u32,
        parent_pid: i32,
        parent_tgid: i32,
    },
    /// uid, gid, sid, ptrace, comm, coredump changes, and unknown kinds.
    Other { what: u32 },
}

/// The request that joins the process-event multicast group, for a socket
/// bound to netlink port `port` (0 lets the kernel pick). The kernel's
/// acknowledgement carries `nonce + 1` in `ack`, which tells ours from
/// another listener's.
pub fn listen_request(port: u32, nonce: u32) -> Vec<u8> {
    let seq = nonce;
    let payload = PROC_CN_MCAST_LISTEN.to_ne_bytes();
    let total = NLMSG_HDRLEN + CN_MSG_HDRLEN + payload.len();
    let mut buf = Vec::with_capacity(total);
    // nlmsghdr: len, type, flags, seq, pid.
    buf.extend_from_slice(&(total as u32).to_ne_bytes());
    buf.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&port.to_ne_bytes());
    // cn_msg: id.idx, id.val, seq, ack, len, flags.
    buf.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
    buf.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&nonce.to_ne_bytes());
    buf.extend_from_slice(&(payload.len() as u16).to_ne_bytes());
    buf.extend_from_slice(&0u16.to_ne_bytes());
    buf.extend_from_slice(&payload);
    buf
}

/// Decodes every process-connector message in one datagram, in order.
/// Messages for other connectors and netlink no-ops are skipped.
pub fn decode_datagram(buf: &[u8], out: &mut Vec<Message>) -> Result<(), DecodeError> {
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32_at(rest, 0);
        let ty = u16_at(rest, 4);
        let len_usize = len as usize;
        if len_usize < NLMSG_HDRLEN {
            return Err(DecodeError::BadLength(len));
        }
        let body = rest
            .get(NLMSG_HDRLEN..len_usize)
            .ok_or(DecodeError::Truncated {
                what: "netlink message",
                need: len_usize,
                have: rest.len(),
            })?;
        match ty {
            NLMSG_NOOP => {}
            NLMSG_ERROR => {
                let errno = body.get(..4).map(|b| u32_at(b, 0) as i32).unwrap_or(0);
                // An error message with errno 0 is a plain acknowledgement.
                if errno != 0 {
                    return Err(DecodeError::Netlink(-errno));
                }
            }
            _ => {
                if let Some(msg) = decode_connector(body)? {
                    out.push(msg);
                }
            }
        }
        let advance = align4(len_usize).min(rest.len());
        rest = &rest[advance..];
    }
    Ok(())
}

/// One `cn_msg` with its `proc_event`; `None` for other connectors.
fn decode_connector(body: &[u8]) -> Result<Option<Message>, DecodeError> {
    need(body, CN_MSG_HDRLEN, "connector header")?;
    if u32_at(body, 0) != CN_IDX_PROC || u32_at(body, 4) != CN_VAL_PROC {
        return Ok(None);
    }
    let seq = u32_at(body, 8);
    let ack = u32_at(body, 12);
    let data_len = usize::from(u16_at(body, 16));
    let data = body
        .get(CN_MSG_HDRLEN..CN_MSG_HDRLEN + data_len)
        .ok_or(DecodeError::Truncated {
            what: "connector payload",
            need: CN_MSG_HDRLEN + data_len,
            have: body.len(),
        })?;
    need(data, PROC_EVENT_HDRLEN, "process event header")?;
    let what = u32_at(data, 0);
    let cpu = u32_at(data, 4);
    let timestamp_ns = u64_at(data, 8);
    let ev = &data[PROC_EVENT_HDRLEN..];
    let event = match what {
        PROC_EVENT_NONE => {
            need(ev, 4, "acknowledgement")?;
            ProcEvent::Ack { err: u32_at(ev, 0) }
        }
        PROC_EVENT_FORK => {
            need(ev, 16, "fork event")?;
            ProcEvent::Fork {
                parent_pid: i32_at(ev, 0),
                parent_tgid: i32_at(ev, 4),
                child_pid: i32_at(ev, 8),
                child_tgid: i32_at(ev, 12),
            }
        }
        PROC_EVENT_EXEC => {
            need(ev, 8, "exec event")?;
            ProcEvent::Exec {
                pid: i32_at(ev, 0),
                tgid: i32_at(ev, 4),
            }
        }
        PROC_EVENT_EXIT => {
            need(ev, 16, "exit event")?;
            // The parent fields came in 4.18; older kernels end here.
            let (parent_pid, parent_tgid) = if ev.len() >= 24 {
                (i32_at(ev, 16), i32_at(ev, 20))
            } else {
                (0, 0)
            };
            ProcEvent::Exit {
                pid: i32_at(ev, 0),
                tgid: i32_at(ev, 4),
                exit_code: u32_at(ev, 8),
                exit_signal: u32_at(ev, 12),
                parent_pid,
                parent_tgid,
            }
        }
        other => ProcEvent::Other { what: other },
    };
    Ok(Some(Message {
        seq,
        ack,
        cpu,
        timestamp_ns,
        event,
    }))
}

fn need(buf: &[u8], n: usize, what: &'static str) -> Result<(), DecodeError> {
    if buf.len() < n {
        return Err(DecodeError::Truncated {
            what,
            need: n,
            have: buf.len(),
        });
    }
    Ok(())
}

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

// The readers below (shared with the audit wire format) are only called
// at offsets whose bounds were checked (here with `need` or the
// header-length loop guard), so the slices are whole.
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_ne_bytes(a)
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(a)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram as the kernel builds it: nlmsghdr(DONE) + cn_msg +
    /// proc_event header + `fields`.
    fn datagram(seq: u32, what: u32, cpu: u32, ts: u64, fields: &[u32]) -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&what.to_ne_bytes());
        data.extend_from_slice(&cpu.to_ne_bytes());
        data.extend_from_slice(&ts.to_ne_bytes());
        for f in fields {
            data.extend_from_slice(&f.to_ne_bytes());
        }
        let mut cn = Vec::new();
        cn.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        cn.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        cn.extend_from_slice(&seq.to_ne_bytes());
        cn.extend_from_slice(&0u32.to_ne_bytes());
        cn.extend_from_slice(&(data.len() as u16).to_ne_bytes());
        cn.extend_from_slice(&0u16.to_ne_bytes());
        cn.extend_from_slice(&data);
        let len = (NLMSG_HDRLEN + cn.len()) as u32;
        let mut nl = Vec::new();
        nl.extend_from_slice(&len.to_ne_bytes());
        nl.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        nl.extend_from_slice(&0u16.to_ne_bytes());
        nl.extend_from_slice(&seq.to_ne_bytes());
        nl.extend_from_slice(&0u32.to_ne_bytes());
        nl.extend_from_slice(&cn);
        while nl.len() % 4 != 0 {
            nl.push(0);
        }
        nl
    }

    fn decode(buf: &[u8]) -> Result<Vec<Message>, DecodeError> {
        let mut out = Vec::new();
        decode_datagram(buf, &mut out).map(|()| out)
    }

    #[test]
    fn exec_event() {
        let buf = datagram(41, PROC_EVENT_EXEC, 1, 123_456_789, &[4242, 4242]);
        let msgs = decode(&buf).unwrap();
        assert_eq!(
            msgs,
            vec![Message {
                seq: 41,
                ack: 0,
                cpu: 1,
                timestamp_ns: 123_456_789,
                event: ProcEvent::Exec {
                    pid: 4242,
                    tgid: 4242
                },
            }]
        );
    }

    #[test]
    fn fork_and_exit_in_one_datagram() {
        let mut buf = datagram(7, PROC_EVENT_FORK, 0, 10, &[100, 100, 101, 101]);
        buf.extend(datagram(
            8,
            PROC_EVENT_EXIT,
            0,
            20,
            &[101, 101, 256, 17, 100, 100],
        ));
        let msgs = decode(&buf).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(
            msgs[0].event,
            ProcEvent::Fork {
                parent_pid: 100,
                parent_tgid: 100,
                child_pid: 101,
                child_tgid: 101
            }
        );
        assert_eq!(
            msgs[1].event,
            ProcEvent::Exit {
                pid: 101,
                tgid: 101,
                exit_code: 256,
                exit_signal: 17,
                parent_pid: 100,
                parent_tgid: 100
            }
        );
        assert_eq!((msgs[1].seq, msgs[1].timestamp_ns), (8, 20));
    }

    #[test]
    fn exit_without_parent_fields_from_old_kernels() {
        let buf = datagram(1, PROC_EVENT_EXIT, 0, 5, &[9, 9, 0, 17]);
        let msgs = decode(&buf).unwrap();
        assert_eq!(
            msgs[0].event,
            ProcEvent::Exit {
                pid: 9,
                tgid: 9,
                exit_code: 0,
                exit_signal: 17,
                parent_pid: 0,
                parent_tgid: 0
            }
        );
    }

    #[test]
    fn acknowledgement_and_other_kinds() {
        let ack = datagram(77, PROC_EVENT_NONE, 0, 0, &[0]);
        assert_eq!(decode(&ack).unwrap()[0].event, ProcEvent::Ack { err: 0 });
        assert_eq!(decode(&ack).unwrap()[0].seq, 77);
        // PROC_EVENT_COMM carries a 16-byte name the sensor does not use.
        let comm = datagram(3, 0x200, 0, 0, &[5, 5, 0, 0, 0, 0]);
        assert_eq!(
            decode(&comm).unwrap()[0].event,
            ProcEvent::Other { what: 0x200 }
        );
    }

    #[test]
    fn truncated_and_corrupt_datagrams_are_errors() {
        let buf = datagram(1, PROC_EVENT_EXEC, 0, 0, &[1, 1]);
        // Cut inside the exec fields: the nlmsg length now exceeds the data.
        let cut = &buf[..buf.len() - 6];
        assert!(matches!(
            decode(cut),
            Err(DecodeError::Truncated {
                what: "netlink message",
                ..
            })
        ));
        // A header claiming a length shorter than itself.
        let mut bad = buf.clone();
        bad[..4].copy_from_slice(&8u32.to_ne_bytes());
        assert_eq!(decode(&bad), Err(DecodeError::BadLength(8)));
        // A fork event with only two of its four fields.
        let short = datagram(1, PROC_EVENT_FORK, 0, 0, &[1, 1]);
        assert!(matches!(
            decode(&short),
            Err(DecodeError::Truncated {
                what: "fork event",
                ..
            })
        ));
        // Trailing bytes shorter than a header are ignored, as the kernel's
        // own NLMSG_OK loop does.
        let mut trailing = buf.clone();
        trailing.extend_from_slice(&[0, 0, 0]);
        assert_eq!(decode(&trailing).unwrap().len(), 1);
    }

    #[test]
    fn other_connectors_are_skipped() {
        let mut buf = datagram(1, PROC_EVENT_EXEC, 0, 0, &[1, 1]);
        // Connector index 2 (not the process connector).
        buf[NLMSG_HDRLEN..NLMSG_HDRLEN + 4].copy_from_slice(&2u32.to_ne_bytes());
        assert_eq!(decode(&buf).unwrap(), vec![]);
    }

    #[test]
    fn netlink_error_message() {
        let mut buf = Vec::new();
        buf.extend_from_slice(&20u32.to_ne_bytes());
        buf.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        buf.extend_from_slice(&[0; 10]);
        buf.extend_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(decode(&buf), Err(DecodeError::Netlink(1)));
    }

    #[test]
    fn listen_request_layout() {
        let req = listen_request(555, 9);
        assert_eq!(req.len(), 40);
        assert_eq!(u32_at(&req, 0), 40);
        assert_eq!(u16_at(&req, 4), NLMSG_DONE);
        assert_eq!(u32_at(&req, 8), 9);
        assert_eq!(u32_at(&req, 12), 555);
        assert_eq!(
            (u32_at(&req, 16), u32_at(&req, 20)),
            (CN_IDX_PROC, CN_VAL_PROC)
        );
        assert_eq!(u32_at(&req, 24), 9);
        assert_eq!(u32_at(&req, 28), 9);
        assert_eq!(u16_at(&req, 32), 4);
        assert_eq!(u32_at(&req, 36), PROC_CN_MCAST_LISTEN);
    }
}
