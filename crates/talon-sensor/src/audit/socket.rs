//! The two audit netlink sockets: a unicast one for requests (status,
//! rules, talon's check message) and one bound to the read-only multicast
//! group for records. The system calls are those of [`crate::netlink`].

use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use crate::audit::wire::{self, Msg, RuleData, Status};
use crate::error::SensorError;
use crate::netlink::{self, Received};

/// The largest audit message is `MAX_AUDIT_MESSAGE_LENGTH` (8970 bytes).
const RECV_BYTES: usize = 64 * 1024;

/// How often a blocked control read wakes to check its deadline.
const CONTROL_POLL: Duration = Duration::from_millis(100);

/// Turns the process connector's wording of a refusal into audit's.
pub(crate) fn audit_error(e: SensorError) -> SensorError {
    match e {
        SensorError::Refused { call, error } => SensorError::AuditRefused { call, error },
        other => other,
    }
}

/// An errno the kernel answered a request with.
fn answered(call: &'static str, errno: i32) -> SensorError {
    let error = io::Error::from_raw_os_error(errno);
    audit_error(netlink::refusal_or(error, call))
}

/// The request socket.
#[derive(Debug)]
pub(crate) struct Control {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Control {
    /// Opens it; each request then waits at most `timeout` for its answer.
    pub fn open(timeout: Duration) -> Result<Control, SensorError> {
        let fd = netlink::open_netlink(libc::NETLINK_AUDIT, "socket(NETLINK_AUDIT)")
            .map_err(audit_error)?;
        netlink::set_timeout(&fd, CONTROL_POLL)
            .map_err(|e| SensorError::Socket("setsockopt(SO_RCVTIMEO)", e))?;
        netlink::bind_groups(&fd, 0, "bind(NETLINK_AUDIT)").map_err(audit_error)?;
        Ok(Control {
            fd,
            seq: std::process::id().rotate_left(12),
            buf: vec![0u8; RECV_BYTES],
            timeout,
        })
    }

    fn send(
        &mut self,
        call: &'static str,
        ty: u16,
        flags: u16,
        payload: &[u8],
    ) -> Result<u32, SensorError> {
        self.seq = self.seq.wrapping_add(1);
        let req = wire::request(ty, flags | wire::NLM_F_REQUEST, self.seq, payload);
        netlink::send_to_kernel(&self.fd, &req)
            .map_err(|e| audit_error(netlink::refusal_or(e, call)))?;
        Ok(self.seq)
    }

    /// Reads the kernel's answers to request `seq`, handing each message
    /// to `on` until it says the exchange is over (`Ok(true)`).
    fn exchange(
        &mut self,
        call: &'static str,
        seq: u32,
        mut on: impl FnMut(&Msg<'_>) -> Result<bool, SensorError>,
    ) -> Result<(), SensorError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if Instant::now() >= deadline {
                return Err(SensorError::Socket(
                    call,
                    io::Error::new(io::ErrorKind::TimedOut, "no answer from the kernel"),
                ));
            }
            let n = match netlink::recv_datagram(&self.fd, &mut self.buf, false)
                .map_err(audit_error)?
            {
                Received::Datagram(n) => n,
                Received::Timeout | Received::Overrun | Received::Foreign => continue,
            };
            let Ok(msgs) = wire::messages(&self.buf[..n]) else {
                continue;
            };
            for m in msgs {
                if m.seq != seq {
                    continue;
                }
                if let Some((errno, _)) = m.error() {
                    if errno != 0 {
                        return Err(answered(call, errno));
                    }
                }
                if on(&m)? {
                    return Ok(());
                }
            }
        }
    }

    /// A request answered by an acknowledgement only.
    fn acked(&mut self, call: &'static str, ty: u16, payload: &[u8]) -> Result<(), SensorError> {
        let seq = self.send(call, ty, wire::NLM_F_ACK, payload)?;
        self.exchange(call, seq, |m| Ok(m.error().is_some()))
    }

    pub fn status(&mut self) -> Result<Status, SensorError> {
        const CALL: &str = "AUDIT_GET";
        let seq = self.send(CALL, wire::AUDIT_GET, 0, &[])?;
        let mut status = None;
        self.exchange(CALL, seq, |m| {
            if m.ty == wire::AUDIT_GET {
                status = Some(Status::decode(m.payload).map_err(|e| {
                    SensorError::Socket(CALL, io::Error::new(io::ErrorKind::InvalidData, e))
                })?);
                return Ok(true);
            }
            Ok(false)
        })?;
        status.ok_or_else(|| SensorError::Socket(CALL, io::ErrorKind::InvalidData.into()))
    }

    pub fn set_enabled(&mut self, enabled: u32) -> Result<(), SensorError> {
        self.acked(
            "AUDIT_SET(enabled)",
            wire::AUDIT_SET,
            &Status::set_enabled(enabled),
        )
    }

    /// Every loaded rule; those that do not decode are skipped and
    /// counted in the second value.
    pub fn rules(&mut self) -> Result<(Vec<RuleData>, usize), SensorError> {
        const CALL: &str = "AUDIT_LIST_RULES";
        let seq = self.send(CALL, wire::AUDIT_LIST_RULES, 0, &[])?;
        let mut rules = Vec::new();
        let mut bad = 0;
        self.exchange(CALL, seq, |m| match m.ty {
            wire::AUDIT_LIST_RULES => {
                match RuleData::decode(m.payload) {
                    Ok(r) => rules.push(r),
                    Err(_) => bad += 1,
                }
                Ok(false)
            }
            wire::NLMSG_DONE => Ok(true),
            _ => Ok(false),
        })?;
        Ok((rules, bad))
    }

    pub fn add_rule(&mut self, rule: &RuleData) -> Result<(), SensorError> {
        self.acked("AUDIT_ADD_RULE", wire::AUDIT_ADD_RULE, &rule.encode())
    }

    pub fn del_rule(&mut self, rule: &RuleData) -> Result<(), SensorError> {
        self.acked("AUDIT_DEL_RULE", wire::AUDIT_DEL_RULE, &rule.encode())
    }

    /// Writes a user-space message into the audit trail. The kernel
    /// overwrites the payload's last byte with a NUL, so one is sent.
    pub fn user_message(&mut self, ty: u16, text: &str) -> Result<(), SensorError> {
        let mut payload = text.as_bytes().to_vec();
        payload.push(0);
        self.acked("AUDIT_USER message", ty, &payload)
    }
}

/// The record socket, on the read-only multicast group.
#[derive(Debug)]
pub(crate) struct Readlog {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl Readlog {
    /// Opens and binds it, with the process connector's large receive
    /// buffer; a blocked read returns after `read_timeout`.
    pub fn open(read_timeout: Duration) -> Result<Readlog, SensorError> {
        let fd = netlink::open_netlink(libc::NETLINK_AUDIT, "socket(NETLINK_AUDIT)")
            .map_err(audit_error)?;
        netlink::set_rcvbuf(&fd);
        netlink::set_timeout(&fd, read_timeout)
            .map_err(|e| SensorError::Socket("setsockopt(SO_RCVTIMEO)", e))?;
        let group = 1u32 << (wire::AUDIT_NLGRP_READLOG - 1);
        netlink::bind_groups(&fd, group, "bind(AUDIT_NLGRP_READLOG)").map_err(audit_error)?;
        Ok(Readlog {
            fd,
            buf: vec![0u8; RECV_BYTES],
        })
    }

    pub fn recv(&mut self, nonblocking: bool) -> Result<Received, SensorError> {
        netlink::recv_datagram(&self.fd, &mut self.buf, nonblocking)
    }

    pub fn datagram(&self, n: usize) -> &[u8] {
        &self.buf[..n.min(self.buf.len())]
    }
}
