//! The netlink socket to the kernel's process connector: open, bind to the
//! process-event group, subscribe, and receive datagrams.
//!
//! Every system call lives here, each `unsafe` block on its own with the
//! reason it is sound. The socket has a receive timeout so a blocked read
//! returns often enough for the caller to notice a stop request, and a
//! large receive buffer so bursts of execs (a build, a shell loop) are not
//! dropped. When the buffer still overflows the kernel drops events and
//! the next read fails with `ENOBUFS`: that is reported as
//! [`Received::Overrun`], not as an error.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::SensorError;
use crate::message::{self, ProcEvent, CN_IDX_PROC};

/// Receive buffer asked for. Each event is ~80 bytes of payload but costs
/// a full skb in the socket's accounting, so this holds some thousands.
const RCVBUF_BYTES: libc::c_int = 8 << 20;

/// The largest datagram the connector sends is well under a page.
const RECV_BYTES: usize = 8192;

/// What one read from the socket produced.
#[derive(Debug)]
pub enum Received {
    /// A datagram of `n` bytes (at the start of the read buffer).
    Datagram(usize),
    /// Nothing arrived before the timeout (or a signal interrupted it).
    Timeout,
    /// The socket's buffer overflowed: the kernel dropped events.
    Overrun,
    /// A datagram not sent by the kernel (port id not 0): ignored.
    Foreign,
}

/// A bound, subscribed process-connector socket.
#[derive(Debug)]
pub struct ConnectorSocket {
    fd: OwnedFd,
    port: u32,
    buf: Vec<u8>,
}

impl ConnectorSocket {
    /// Opens the socket, joins the process-event group and subscribes,
    /// waiting up to `ack_timeout` for the kernel's acknowledgement.
    ///
    /// The kernel silently ignores subscriptions from outside its initial
    /// pid and user namespaces (events are reported in those namespaces),
    /// so a missing acknowledgement is a refusal too.
    pub fn subscribe(read_timeout: Duration, ack_timeout: Duration) -> Result<Self, SensorError> {
        let fd = open_socket()?;
        set_rcvbuf(&fd);
        set_timeout(&fd, read_timeout)
            .map_err(|e| SensorError::Socket("setsockopt(SO_RCVTIMEO)", e))?;
        bind_group(&fd)?;
        let port = bound_port(&fd).map_err(|e| SensorError::Socket("getsockname", e))?;
        let mut sock = ConnectorSocket {
            fd,
            port,
            buf: vec![0u8; RECV_BYTES],
        };
        // The kernel answers with `ack + 1`, which tells our acknowledgement
        // from those of other listeners subscribing at the same time (acks
        // are multicast too). Its `seq` cannot: newer kernels replace it
        // with their event counter.
        let nonce = port ^ std::process::id().rotate_left(16);
        sock.send(&message::listen_request(port, nonce))?;
        sock.wait_for_ack(nonce.wrapping_add(1), ack_timeout)?;
        Ok(sock)
    }

    /// The netlink port id the kernel gave the socket.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// The bytes of the last datagram read.
    pub fn datagram(&self, n: usize) -> &[u8] {
        &self.buf[..n.min(self.buf.len())]
    }

    /// Reads one datagram, waiting at most the read timeout; with
    /// `nonblocking`, returns [`Received::Timeout`] at once if none is
    /// queued.
    pub fn recv(&mut self, nonblocking: bool) -> Result<Received, SensorError> {
        recv_datagram(&self.fd, &mut self.buf, nonblocking)
    }

    fn send(&self, req: &[u8]) -> Result<(), SensorError> {
        send_to_kernel(&self.fd, req).map_err(|e| refusal_or(e, "send(PROC_CN_MCAST_LISTEN)"))
    }

    /// Reads until our acknowledgement arrives; events before it are from
    /// before the subscription counts as made and are dropped.
    fn wait_for_ack(&mut self, expected_ack: u32, timeout: Duration) -> Result<(), SensorError> {
        let deadline = Instant::now() + timeout;
        let mut msgs = Vec::new();
        while Instant::now() < deadline {
            let n = match self.recv(false)? {
                Received::Datagram(n) => n,
                Received::Timeout | Received::Overrun | Received::Foreign => continue,
            };
            msgs.clear();
            if message::decode_datagram(self.datagram(n), &mut msgs).is_err() {
                continue;
            }
            for m in &msgs {
                if let ProcEvent::Ack { err } = m.event {
                    if m.ack != expected_ack {
                        continue;
                    }
                    if err != 0 {
                        let e = io::Error::from_raw_os_error(err as i32);
                        return Err(SensorError::Refused {
                            call: "PROC_CN_MCAST_LISTEN",
                            error: e,
                        });
                    }
                    return Ok(());
                }
            }
        }
        Err(SensorError::NoAck(timeout))
    }
}

/// Reads one datagram into `buf`, waiting at most the socket's receive
/// timeout (not at all with `nonblocking`). Datagrams from anyone but the
/// kernel (port id 0) are [`Received::Foreign`].
pub(crate) fn recv_datagram(
    fd: &OwnedFd,
    buf: &mut [u8],
    nonblocking: bool,
) -> Result<Received, SensorError> {
    // SAFETY: an all-zero sockaddr_nl is a valid value of this plain C
    // struct.
    let mut from: libc::sockaddr_nl = unsafe { mem::zeroed() };
    let mut from_len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    let flags = if nonblocking { libc::MSG_DONTWAIT } else { 0 };
    // SAFETY: buf is a live, exclusively borrowed buffer of buf.len()
    // bytes; from/from_len describe a sockaddr_nl owned by this frame;
    // the fd is open for the life of the borrow.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            (&mut from as *mut libc::sockaddr_nl).cast(),
            &mut from_len,
        )
    };
    if n < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(Received::Timeout),
            Some(libc::ENOBUFS) => Ok(Received::Overrun),
            _ => Err(SensorError::Socket("recvfrom", err)),
        };
    }
    // Only the kernel (port 0) sends events; anything else on the group is
    // a local process trying to inject some.
    if from.nl_pid != 0 {
        return Ok(Received::Foreign);
    }
    Ok(Received::Datagram(n as usize))
}

/// Sends one datagram to the kernel (port 0).
pub(crate) fn send_to_kernel(fd: &OwnedFd, req: &[u8]) -> io::Result<()> {
    // SAFETY: the kernel is the destination (an all-zero sockaddr_nl with
    // the family set); req is a live buffer of req.len() bytes.
    let sent = unsafe {
        let mut to: libc::sockaddr_nl = mem::zeroed();
        to.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::sendto(
            fd.as_raw_fd(),
            req.as_ptr().cast(),
            req.len(),
            0,
            (&to as *const libc::sockaddr_nl).cast(),
            mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn open_socket() -> Result<OwnedFd, SensorError> {
    open_netlink(libc::NETLINK_CONNECTOR, "socket(NETLINK_CONNECTOR)")
}

/// A new netlink socket of `protocol`; `call` names it in errors.
pub(crate) fn open_netlink(
    protocol: libc::c_int,
    call: &'static str,
) -> Result<OwnedFd, SensorError> {
    // SAFETY: socket(2) with constant arguments; it returns a new fd or -1.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            protocol,
        )
    };
    if fd < 0 {
        return Err(refusal_or(io::Error::last_os_error(), call));
    }
    // SAFETY: fd was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn bind_group(fd: &OwnedFd) -> Result<(), SensorError> {
    bind_groups(fd, CN_IDX_PROC, "bind(CN_IDX_PROC)")
}

/// Binds to the multicast groups of the bit mask `groups` (0: none, a
/// unicast-only socket); the kernel assigns the port id.
pub(crate) fn bind_groups(
    fd: &OwnedFd,
    groups: u32,
    call: &'static str,
) -> Result<(), SensorError> {
    // SAFETY: an all-zero sockaddr_nl is valid; nl_pid 0 asks the kernel
    // to assign the port id.
    let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_groups = groups;
    // SAFETY: addr is a valid sockaddr_nl of the given size; fd is open.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(refusal_or(io::Error::last_os_error(), call));
    }
    Ok(())
}

pub(crate) fn bound_port(fd: &OwnedFd) -> io::Result<u32> {
    // SAFETY: an all-zero sockaddr_nl is valid.
    let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: addr/len describe a sockaddr_nl owned by this frame; fd is open.
    let rc = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut addr as *mut libc::sockaddr_nl).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(addr.nl_pid)
}

/// Asks for a large receive buffer: past `rmem_max` when privileged
/// (SO_RCVBUFFORCE), else as much as `rmem_max` allows. Failure only
/// means more overruns, so it is not an error.
pub(crate) fn set_rcvbuf(fd: &OwnedFd) {
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        if setsockopt_int(fd, opt, RCVBUF_BYTES).is_ok() {
            return;
        }
    }
    tracing::info!("cannot enlarge the netlink receive buffer; bursts may overrun it");
}

fn setsockopt_int(fd: &OwnedFd, opt: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: value is a c_int living for the call, and its size is given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            opt,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(crate) fn set_timeout(fd: &OwnedFd, timeout: Duration) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros() as i32),
    };
    // SAFETY: tv is a timeval living for the call, and its size is given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Errors that mean "this kernel or this namespace will not give us
/// process events" become [`SensorError::Refused`]; the rest stay socket
/// errors.
pub(crate) fn refusal_or(err: io::Error, call: &'static str) -> SensorError {
    match err.raw_os_error() {
        Some(
            libc::EPERM
            | libc::EACCES
            | libc::EPROTONOSUPPORT
            | libc::EAFNOSUPPORT
            | libc::ECONNREFUSED,
        ) => SensorError::Refused { call, error: err },
        _ => SensorError::Socket(call, err),
    }
}
