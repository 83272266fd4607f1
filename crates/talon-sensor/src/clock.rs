//! The kernel's clocks as wall-clock time. Process events are stamped on
//! `CLOCK_MONOTONIC`, `/proc` start times count from boot on
//! `CLOCK_BOOTTIME`; both become dates by subtracting how long ago they
//! were from the current real time.

use chrono::{DateTime, Utc};

/// Nanoseconds on `clock`, or `None` if the kernel does not have it.
fn now_ns(clock: libc::clockid_t) -> Option<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec owned by this frame for the call.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return None;
    }
    Some(
        (ts.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(ts.tv_nsec as u64),
    )
}

pub fn monotonic_ns() -> Option<u64> {
    now_ns(libc::CLOCK_MONOTONIC)
}

/// A `CLOCK_MONOTONIC` time (a process event's stamp) as a date.
pub fn wall_time_of(mono_ns: u64) -> DateTime<Utc> {
    let now = Utc::now();
    let Some(mono_now) = monotonic_ns() else {
        return now;
    };
    let ago = mono_now.saturating_sub(mono_ns).min(i64::MAX as u64) as i64;
    now - chrono::Duration::nanoseconds(ago)
}

/// When the machine booted, in milliseconds since the epoch, to the
/// millisecond (`/proc/stat`'s `btime` is whole seconds, which would put
/// every process start up to a second early).
pub fn boot_time_ms() -> Option<i64> {
    let since_boot = now_ns(libc::CLOCK_BOOTTIME)?;
    let now = Utc::now().timestamp_nanos_opt()?;
    Some((now - since_boot.min(i64::MAX as u64) as i64) / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_to_wall_time() {
        let mono = monotonic_ns().unwrap();
        let t = wall_time_of(mono.saturating_sub(1_000_000_000));
        let diff = Utc::now() - t;
        assert!(
            diff >= chrono::Duration::milliseconds(999) && diff < chrono::Duration::seconds(2),
            "{diff}"
        );
    }

    #[test]
    fn boot_time_agrees_with_btime() {
        let precise = boot_time_ms().unwrap();
        let btime = crate::procfs::ProcFs::new("/proc").boot_time().unwrap();
        // btime is the same instant, truncated to the second (and NTP may
        // have slewed the clock a little since boot).
        assert!((precise / 1000 - btime).abs() <= 2, "{precise} vs {btime}");
    }
}
