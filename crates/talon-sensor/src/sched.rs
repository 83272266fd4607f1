//! The sensor's own CPU priority.
//!
//! A process is read from `/proc` after the kernel reports its exec; a
//! `sh -c` that only echoes is gone about half a millisecond later. On a
//! busy machine a normal-priority sensor often wakes after that, and the
//! event is partial (no arguments, so no rule on the command line can
//! match). Measured here (2 cores, load average near 4 from builds, 1,000
//! such execs, `examples/watch_latency.rs`): normal priority missed 84,
//! nice -10 13, SCHED_FIFO 1. So the sensor raises its own priority, as
//! audit daemons do; this changes only the sensor process and ends with
//! it.

use std::io;

/// How the sensor asks to be scheduled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Priority {
    /// Leave the priority as inherited.
    Normal,
    /// Nice -10: ahead of ordinary work, never starving it.
    #[default]
    Boost,
    /// SCHED_FIFO 10: runs the moment an event arrives. A fork storm then
    /// costs the rest of the machine up to a CPU (the kernel's real-time
    /// throttling still leaves it 5%).
    Realtime,
}

/// Nice value of [`Priority::Boost`].
const BOOST_NICE: libc::c_int = -10;
/// SCHED_FIFO priority of [`Priority::Realtime`] (1..=99; low, so kernel
/// threads that matter more still come first).
const REALTIME_PRIORITY: libc::c_int = 10;

/// Applies `priority` to the calling thread (the one that will read the
/// socket: on Linux both calls act on the calling thread only).
pub fn apply(priority: Priority) -> io::Result<()> {
    match priority {
        Priority::Normal => Ok(()),
        Priority::Boost => {
            // SAFETY: setpriority takes plain integers; who = 0 is the
            // calling thread.
            let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, BOOST_NICE) };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
        Priority::Realtime => {
            let param = libc::sched_param {
                sched_priority: REALTIME_PRIORITY,
            };
            // SAFETY: param is a valid sched_param for the call; pid 0 is
            // the calling thread. RESET_ON_FORK keeps any child ordinary.
            let rc = unsafe {
                libc::sched_setscheduler(0, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, &param)
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }
}
