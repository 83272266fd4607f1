//! `talon watch`'s engine room: a live Linux sensor.
//!
//! The kernel's process connector (netlink, `NETLINK_CONNECTOR`,
//! `CN_IDX_PROC`) reports every fork, exec and exit as it happens. For
//! each exec the sensor reads `/proc/<pid>` (arguments, executable,
//! working directory, user, parent) into an Elastic Defend-shaped process
//! start event, runs the loaded rules on it at once, and hands alerts (and,
//! when asked, every event) to a [`WatchSink`].
//!
//! - [`message`]: the connector's wire format, decoded without trusting it;
//! - [`netlink`]: the socket (every system call is there);
//! - [`procfs`]: reading one process from `/proc`;
//! - [`sched`]: the sensor's own CPU priority, so it reads `/proc` before
//!   short-lived processes are gone;
//! - [`users`]: uid/gid → names from `/etc/passwd` and `/etc/group`;
//! - [`host`]: the `host.*` and `agent.*` fields;
//! - [`document`]: the ECS document of one process event;
//! - [`builder`]: events from kernel messages, `/proc` and what earlier
//!   events taught (for processes gone before they could be read);
//! - [`watch`]: the loop, its configuration and its counts.
//!
//! A process that exits before its `/proc` entry is read is still
//! reported, with what the kernel message carried (pid, and the parent
//! its fork named), marked `talon.partial: true` and counted. Events the
//! kernel dropped because the socket buffer was full are counted from
//! gaps in its sequence numbers.
//!
//! Where the kernel refuses the process connector, [`audit`] takes exec
//! events from audit netlink instead (`NETLINK_AUDIT`, the read-only
//! multicast group), through the same raw-auditd normalizer `talon hunt`
//! uses for `audit.log`, into the same documents; [`SourceChoice`] picks.

pub mod audit;
pub mod builder;
mod clock;
pub mod document;
pub mod error;
pub mod host;
pub mod message;
pub mod netlink;
pub mod procfs;
pub mod sched;
pub mod users;
pub mod watch;

pub use audit::{AuditConfig, AuditStats};
pub use builder::{Built, EventBuilder, Snapshot};
pub use error::SensorError;
pub use sched::Priority;
pub use watch::{
    stop_on_signals, watch, Sensor, SourceChoice, SourceKind, WatchConfig, WatchSink, WatchStats,
};
