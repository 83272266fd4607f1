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
