//! Audit netlink (`NETLINK_AUDIT`) as a second event source: so far, the
//! protocol's wire format.

pub mod wire;
