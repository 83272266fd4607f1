//! The audit netlink source: exec events from the kernel's audit records
//! (`NETLINK_AUDIT`), for hosts where the process connector is refused.
//!
//! talon listens on the read-only multicast group (`AUDIT_NLGRP_READLOG`,
//! Linux 3.16), which receives a copy of every record whether or not an
//! audit daemon runs, so it never competes with auditd for the audit
//! daemon's place. It does not fall back to registering itself as the
//! audit daemon (`AUDIT_SET` pid) where the group is unavailable: that
//! needs the same privileges the group does (so it helps only on kernels
//! older than 3.16), takes the daemon's place from a later auditd, stops
//! the kernel's own logging of records, and stalls every audited syscall
//! on the host (up to the backlog wait time) whenever talon falls behind.
//!
//! - [`wire`]: the protocol's messages, decoded without trusting them;
//! - [`socket`]: the request socket and the record socket;
//! - [`setup`]: the execve rule and the enabled flag, and undoing them;
//! - [`feed`]: records as auditd log lines through talon-sources' raw
//!   auditd normalizer, on a thread of its own;
//! - [`mapping`]: its exec events back into the sensor's process model,
//!   so [`crate::builder`] writes the same documents for both sources.
//!
//! Opening proves delivery: talon writes a user message into the audit
//! trail (`op=talon-watch-start nonce=…`) and waits until it comes back on
//! the group, as the process connector acknowledges a subscription. Every
//! exec after that is reported. Processes forked before audit was first
//! enabled since boot have no audit context; their execs are not recorded
//! (a new process is, from its fork on).

pub(crate) mod feed;
pub(crate) mod mapping;
pub(crate) mod setup;
pub(crate) mod socket;
pub mod wire;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use talon_engine::Engine;
use talon_event::Event;
use talon_sources::{IgnoreReason, NormalizeStats};

use crate::builder::EventBuilder;
use crate::error::SensorError;
use crate::host::Host;
use crate::netlink::Received;
use crate::procfs::ProcFs;
use crate::watch::{is_broken_pipe, write_error, LoopState, SourceKind, WatchConfig, WatchSink};
use crate::watch::{WatchStats, BATCH, FLUSH_EVERY};
use feed::{Feed, FeedCounts, FeedMsg};
use socket::{Control, Readlog};

/// Events the normalizer thread may have sent ahead of the watch loop.
const CHANNEL: usize = 1024;

/// What the audit source counted, besides the events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Datagrams read from the record socket.
    pub datagrams: u64,
    /// Kernel records read and normalized.
    pub records: u64,
    /// Records folded into an exec event (its EXECVE, CWD, PATH… records).
    pub merged: u64,
    /// Events of other syscalls and other kernel events (not execs).
    pub other_events: u64,
    /// Execs that failed (`success=no`, a `$PATH` search's misses).
    pub failed_execs: u64,
    /// Events whose SYSCALL record never came.
    pub incomplete: u64,
    /// User-space messages (logins, PAM, sudo…): not process events.
    pub user_messages: u64,
    /// Datagrams or records that could not be decoded.
    pub undecodable: u64,
    /// Datagrams sent by a local process, not the kernel.
    pub foreign: u64,
    /// Records the normalizer did not answer for (0 unless a bug).
    pub unaccounted: i64,
    /// Exec events whose process was gone from `/proc` before its start
    /// time (and so its entity id) could be read.
    pub without_proc: u64,
    /// Rise of the kernel's global lost-record counter during the watch
    /// (backlog overflows, rate limit); `None` when it could not be read.
    pub kernel_lost: Option<u64>,
    /// Problems undoing talon's audit configuration.
    pub cleanup: Vec<String>,
}

impl AuditStats {
    fn add_normalizer(&mut self, n: &NormalizeStats) {
        self.merged = n.merged;
        for (reason, count) in &n.ignored {
            match reason {
                IgnoreReason::NotExec | IgnoreReason::UnsupportedKind => self.other_events += count,
                IgnoreReason::FailedExec => self.failed_execs += count,
                IgnoreReason::Incomplete => self.incomplete += count,
                IgnoreReason::NotARecord
                | IgnoreReason::MissingFields
                | IgnoreReason::Unreadable(_) => self.undecodable += count,
            }
        }
        self.unaccounted = n.unaccounted();
    }
}

/// The kernel's audit configuration as far as talon touches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditConfig {
    /// 0 off, 1 on, 2 on and locked.
    pub enabled: u32,
    /// The registered audit daemon (0: none).
    pub daemon_pid: u32,
    /// The key of every loaded rule, in order (`None`: a rule without).
    pub rule_keys: Vec<Option<String>>,
}

/// Reads the audit configuration (changes nothing): what `talon watch
/// --source audit` leaves behind can be checked against what was there.
pub fn current_config(timeout: Duration) -> Result<AuditConfig, SensorError> {
    let mut control = Control::open(timeout)?;
    let status = control.status()?;
    let (rules, _) = control.rules()?;
    Ok(AuditConfig {
        enabled: status.enabled,
        daemon_pid: status.pid,
        rule_keys: rules.iter().map(wire::RuleData::key).collect(),
    })
}

/// An audit listener that has proved records reach it.
#[derive(Debug)]
pub(crate) struct AuditSensor {
    setup: setup::AuditSetup,
    readlog: Readlog,
    builder: EventBuilder,
    config: WatchConfig,
}

impl AuditSensor {
    /// Binds to the records, makes sure every exec is recorded, and waits
    /// for talon's check message to come back. Anything changed is undone
    /// if a later step fails.
    pub fn open(config: &WatchConfig) -> Result<AuditSensor, SensorError> {
        let mut readlog = Readlog::open(config.poll_interval)?;
        let mut setup = setup::AuditSetup::open(config.ack_timeout, &config.proc_root)?;
        confirm_delivery(setup.control(), &mut readlog, config.ack_timeout)?;
        let proc = ProcFs::new(&config.proc_root);
        let host = Host::detect(&config.etc_root, &proc).with_precise_boot_time();
        let builder = EventBuilder::new(proc, &config.etc_root, host);
        tracing::info!("listening to audit records");
        Ok(AuditSensor {
            setup,
            readlog,
            builder,
            config: config.clone(),
        })
    }

    /// Runs until `stop`, the duration, or output fails; then lets the
    /// normalizer answer for what it holds, and undoes the audit
    /// configuration.
    pub fn run(
        self,
        engine: &mut Engine,
        sink: &mut dyn WatchSink,
        stop: &AtomicBool,
    ) -> Result<WatchStats, SensorError> {
        let AuditSensor {
            mut setup,
            readlog,
            builder,
            config,
        } = self;
        let started = Instant::now();
        let deadline = config.duration.map(|d| started + d);
        let feed_stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(FeedCounts::default()));
        let (tx, rx) = mpsc::sync_channel(CHANNEL);
        let feed = Feed::new(readlog, Arc::clone(&feed_stop), Arc::clone(&counts));
        let priority = config.priority;
        let reader = thread::Builder::new()
            .name("talon-audit".into())
            .spawn(move || {
                if let Err(e) = crate::sched::apply(priority) {
                    tracing::debug!("audit reader keeps its priority: {e}");
                }
                feed::normalize(feed, &tx);
            })
            .map_err(|e| SensorError::Socket("spawn(audit reader)", e))?;

        let mut state = LoopState::new(engine, config.pinned_now);
        state.stats.source = SourceKind::Audit;
        let mut watch = Loop {
            builder,
            config: &config,
            normalized: None,
        };
        let result = watch.pump(&mut state, &rx, sink, stop, deadline);
        // The normalizer answers for the records it still holds (events
        // whose last records had not come), then sends its counts.
        feed_stop.store(true, Ordering::Relaxed);
        let mut drained = Ok(false);
        for msg in rx.iter() {
            match msg {
                FeedMsg::Event(event) if result.is_ok() && drained.is_ok() => {
                    drained = watch.handle(&mut state, &event, sink);
                }
                FeedMsg::Event(_) => {}
                FeedMsg::Done(n) => watch.normalized = Some(n),
            }
        }
        let joined = reader.join();
        let flushed = sink.flush();
        state.stats.elapsed = started.elapsed();

        let mut counts = std::mem::take(&mut *counts.lock().unwrap_or_else(|p| p.into_inner()));
        let audit = &mut state.stats.audit;
        audit.datagrams = counts.datagrams;
        audit.records = counts.records;
        audit.user_messages = counts.user_messages;
        audit.undecodable = counts.undecodable;
        audit.foreign = counts.foreign;
        state.stats.overruns = counts.overruns;
        state.stats.malformed = counts.undecodable + counts.foreign;
        if let Some(n) = &watch.normalized {
            audit.add_normalizer(n);
        }
        audit.kernel_lost = setup.kernel_lost();
        audit.cleanup = setup.restore();

        result?;
        if let Some(e) = counts.error.take() {
            return Err(e);
        }
        if joined.is_err() {
            return Err(SensorError::Socket(
                "audit reader",
                io::Error::other("the thread reading audit records panicked"),
            ));
        }
        match drained {
            Err(error) if !is_broken_pipe(&error) => return Err(write_error(error)),
            _ => {}
        }
        match flushed {
            Err(error) if !is_broken_pipe(&error) => Err(write_error(error)),
            _ => Ok(state.stats),
        }
    }
}

/// The watch loop's side of the audit source.
struct Loop<'c> {
    builder: EventBuilder,
    config: &'c WatchConfig,
    normalized: Option<Box<NormalizeStats>>,
}

impl Loop<'_> {
    fn pump(
        &mut self,
        state: &mut LoopState<'_>,
        rx: &Receiver<FeedMsg>,
        sink: &mut dyn WatchSink,
        stop: &AtomicBool,
        deadline: Option<Instant>,
    ) -> Result<(), SensorError> {
        let mut dirty = false;
        let mut last_flush = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
            let mut next = match rx.recv_timeout(self.config.poll_interval) {
                Ok(msg) => Some(msg),
                Err(RecvTimeoutError::Timeout) => None,
                // The reader ended on its own: a socket error, reported
                // once the counts are in.
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            // Handle what is queued (up to a batch); flush once the queue
            // is empty, or at least every FLUSH_EVERY while it is not.
            let mut taken = 0;
            let mut idle = next.is_none();
            while let Some(msg) = next.take() {
                match msg {
                    FeedMsg::Event(event) => match self.handle(state, &event, sink) {
                        Ok(wrote) => dirty |= wrote,
                        Err(e) if is_broken_pipe(&e) => return Ok(()),
                        Err(error) => return Err(write_error(error)),
                    },
                    FeedMsg::Done(n) => {
                        self.normalized = Some(n);
                        return Ok(());
                    }
                }
                taken += 1;
                if taken >= BATCH {
                    break;
                }
                match rx.try_recv() {
                    Ok(msg) => next = Some(msg),
                    Err(TryRecvError::Empty) => idle = true,
                    Err(TryRecvError::Disconnected) => return Ok(()),
                }
            }
            if dirty && (idle || last_flush.elapsed() >= FLUSH_EVERY) {
                match sink.flush() {
                    Ok(()) => dirty = false,
                    Err(e) if is_broken_pipe(&e) => return Ok(()),
                    Err(error) => return Err(write_error(error)),
                }
                last_flush = Instant::now();
            }
        }
    }

    /// Builds, counts and runs the rules on one exec; true when something
    /// was written.
    fn handle(
        &mut self,
        state: &mut LoopState<'_>,
        event: &Event,
        sink: &mut dyn WatchSink,
    ) -> io::Result<bool> {
        state.stats.execs += 1;
        let Some(exec) = mapping::exec_of(event) else {
            state.stats.build_errors += 1;
            tracing::warn!(
                "an audit exec event without pid or time: {}",
                event.source()
            );
            return Ok(false);
        };
        let mut info = exec.info;
        info.name = exec.name;
        let (built, from_proc) =
            self.builder
                .audit_exec_event(info, exec.comm.as_deref(), exec.at, exec.serial);
        state.stats.audit.without_proc += u64::from(!from_proc);
        state.deliver(built, sink, self.config.all_events, true)
    }
}

/// Writes talon's check message into the audit trail and waits for it on
/// the record socket: once it is back, every later record reaches talon.
fn confirm_delivery(
    control: &mut Control,
    readlog: &mut Readlog,
    timeout: Duration,
) -> Result<(), SensorError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let nonce = format!("{:08x}{nanos:08x}", std::process::id());
    let text = format!("op=talon-watch-start nonce={nonce} res=success");
    control.user_message(wire::AUDIT_TRUSTED_APP, &text)?;
    let needle = format!("nonce={nonce}");
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let n = match readlog.recv(false)? {
            Received::Datagram(n) => n,
            Received::Timeout | Received::Overrun | Received::Foreign => continue,
        };
        let Ok(msgs) = wire::messages(readlog.datagram(n)) else {
            continue;
        };
        let found = msgs.iter().any(|m| {
            m.ty == wire::AUDIT_TRUSTED_APP
                && m.payload
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
        });
        if found {
            return Ok(());
        }
    }
    Err(SensorError::AuditNotDelivered(timeout))
}
