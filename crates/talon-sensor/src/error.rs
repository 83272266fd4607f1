//! The sensor's one error type. Each message is complete on its own (it
//! names the failed call and the OS error), so the OS error is not also
//! chained as a source, which would print it twice.

use std::io;
use std::time::Duration;

use thiserror::Error;

/// Why watching could not start or had to stop.
#[derive(Debug, Error)]
pub enum SensorError {
    /// The kernel will not deliver process events to this process: not
    /// privileged enough (EPERM), or a network namespace without the
    /// connector (EPROTONOSUPPORT), or a subscription it rejected.
    #[error(
        "the kernel refused the process-event subscription ({call}: {error}); \
         talon watch needs root (CAP_NET_ADMIN) in the initial network, pid and user namespaces"
    )]
    Refused {
        call: &'static str,
        error: io::Error,
    },
    /// The subscription was sent but never acknowledged: the kernel drops
    /// requests from processes outside its initial pid or user namespace.
    #[error(
        "the kernel did not acknowledge the process-event subscription within {0:?}; \
         talon watch must run in the initial pid and user namespaces (not in a container)"
    )]
    NoAck(Duration),
    /// The kernel will not let talon use audit netlink: not privileged
    /// enough (EPERM without CAP_AUDIT_CONTROL or CAP_AUDIT_READ), outside
    /// the initial user or pid namespace (ECONNREFUSED, EPERM), or a kernel
    /// built without audit (EPROTONOSUPPORT).
    #[error(
        "the kernel refused audit netlink ({call}: {error}); talon watch --source audit needs \
         root (CAP_AUDIT_CONTROL, CAP_AUDIT_READ) in the initial user and pid namespaces"
    )]
    AuditRefused {
        call: &'static str,
        error: io::Error,
    },
    /// Audit was set up, but talon's own check message never came back
    /// on the read-only multicast group.
    #[error(
        "audit records did not reach talon within {0:?}; the kernel multicasts audit records \
         only to listeners in the initial network namespace (or a rule excludes talon's \
         user message, type 1121)"
    )]
    AuditNotDelivered(Duration),
    /// talon runs in another network namespace than the host's init, where
    /// no audit record is ever multicast.
    #[error(
        "talon is not in the host's initial network namespace, where alone the kernel \
         multicasts audit records"
    )]
    AuditWrongNetns,
    /// The audit configuration is immutable (`auditctl -e 2`) and no rule
    /// records every execve.
    #[error(
        "the audit configuration is locked (enabled=2) and no loaded rule records every \
         execve; load one at boot (-a always,exit -F arch=b64 -S execve,execveat) or unlock it"
    )]
    AuditLocked,
    /// No audit architecture or syscall numbers known for this build.
    #[error("talon does not know the audit architecture of {0}")]
    AuditUnsupportedArch(&'static str),
    /// `--source auto`: the process connector failed and so did audit.
    #[error("{proc}; the audit netlink fallback failed too: {audit}")]
    NoSource {
        proc: Box<SensorError>,
        audit: Box<SensorError>,
    },
    /// Another socket call failed.
    #[error("netlink {0}: {1}")]
    Socket(&'static str, io::Error),
    /// Writing alerts or events failed (other than the reader going away).
    #[error("cannot write {what}: {error}")]
    Write {
        what: &'static str,
        error: io::Error,
    },
}
