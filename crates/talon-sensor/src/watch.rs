//! The watch loop: kernel events in, rules evaluated on each exec as it
//! arrives, alerts (and optionally every event) out through a
//! [`WatchSink`], and counts of everything in [`WatchStats`].
//!
//! Events come from one of two sources ([`SourceChoice`]): the process
//! connector (this module's loop) or audit netlink ([`crate::audit`]).
//! `auto` takes the process connector and falls back to audit when the
//! kernel refuses it: the connector reports forks and exits too and
//! changes nothing on the host, while audit needs an execve rule and
//! audit turned on, which talon then has to add and undo.
//!
//! The loop never blocks for longer than the socket's read timeout, so a
//! stop request (the flag a signal handler sets, or the deadline) is seen
//! within that time. Output is flushed whenever the socket has nothing
//! more queued, so an alert reaches its reader as soon as the burst that
//! raised it has been handled, and once more on every way out.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use talon_alert::{Alert, AlertBuilder, AlertContext};
use talon_engine::Engine;
use talon_event::Event;

use crate::audit::{AuditSensor, AuditStats};
use crate::builder::{Built, EventBuilder, Snapshot};
use crate::clock::wall_time_of;
use crate::error::SensorError;
use crate::host::Host;
use crate::message::{Message, ProcEvent};
use crate::netlink::{ConnectorSocket, Received};
use crate::procfs::ProcFs;
use crate::sched::Priority;

/// Most kernel messages taken off the socket before the batch is handled,
/// so a storm of events still gets its alerts out.
pub(crate) const BATCH: usize = 256;

/// The longest output waits in buffers while events keep arriving.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// Which kernel interface to take events from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceChoice {
    /// The process connector; audit netlink if the kernel refuses it.
    #[default]
    Auto,
    ProcConnector,
    Audit,
}

/// The kernel interface a watch took its events from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SourceKind {
    #[default]
    ProcConnector,
    Audit,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceKind::ProcConnector => "the process connector",
            SourceKind::Audit => "audit netlink",
        })
    }
}

/// How the sensor runs.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Also hand every event (starts and ends) to [`WatchSink::event`].
    pub all_events: bool,
    /// Stop after this long (tests, benchmarks).
    pub duration: Option<Duration>,
    /// How long one socket read may block: the longest a stop waits.
    pub poll_interval: Duration,
    /// How long to wait for the kernel to acknowledge the subscription.
    pub ack_timeout: Duration,
    /// The proc filesystem and the directory with passwd, group,
    /// machine-id and os-release.
    pub proc_root: PathBuf,
    pub etc_root: PathBuf,
    /// The alert time for every alert (as `TALON_NOW` pins it); `None`
    /// stamps each alert when it is raised.
    pub pinned_now: Option<DateTime<Utc>>,
    /// The CPU priority the sensor asks for (see [`crate::sched`]).
    pub priority: Priority,
    /// Where events come from.
    pub source: SourceChoice,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            all_events: false,
            duration: None,
            poll_interval: Duration::from_millis(100),
            ack_timeout: Duration::from_secs(2),
            proc_root: PathBuf::from("/proc"),
            etc_root: PathBuf::from("/etc"),
            pinned_now: None,
            priority: Priority::default(),
            source: SourceChoice::default(),
        }
    }
}

/// Where a watch sends what it produces. Errors stop the watch; a reader
/// that went away (`BrokenPipe`) stops it cleanly.
pub trait WatchSink {
    /// One alert: `rule_index` is the rule's place in [`Engine::rules`].
    fn alert(&mut self, rule_index: usize, alert: &Alert) -> io::Result<()>;
    /// One event, when [`WatchConfig::all_events`] is set.
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Called when no more kernel messages are queued, and at the end.
    fn flush(&mut self) -> io::Result<()>;
}

/// Everything a watch counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchStats {
    /// Where the events came from.
    pub source: SourceKind,
    /// Datagrams read from the kernel.
    pub messages: u64,
    pub execs: u64,
    pub forks: u64,
    pub exits: u64,
    /// Events built (start events, plus end events with `all_events`).
    pub events: u64,
    /// Events built without their `/proc` details (the process had gone).
    pub partial: u64,
    /// Events the kernel dropped, from gaps in its per-CPU sequence.
    pub lost: u64,
    /// Times the socket buffer overflowed (`ENOBUFS`).
    pub overruns: u64,
    /// Datagrams that could not be decoded, or not from the kernel.
    pub malformed: u64,
    /// Alerts written.
    pub alerts: u64,
    /// Alerts or events that could not be built.
    pub build_errors: u64,
    /// How long the watch ran.
    pub elapsed: Duration,
    /// The audit source's own counts (all zero for the process connector).
    pub audit: AuditStats,
}

impl fmt::Display for WatchStats {
    /// The summary lines `talon watch` prints on stderr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        match self.source {
            SourceKind::ProcConnector => {
                writeln!(
                    f,
                    "talon: watched for {secs:.1} s via {}: {}, {}, {} seen",
                    self.source,
                    count(self.execs, "exec"),
                    count(self.forks, "fork"),
                    count(self.exits, "exit")
                )?;
                writeln!(
                    f,
                    "talon: {} built from {}, {} partial \
                     (process gone from /proc before it was read)",
                    count(self.events, "event"),
                    self.source,
                    self.partial
                )?;
                writeln!(
                    f,
                    "talon: {} lost (kernel buffer overruns: {}), {}",
                    count(self.lost, "event"),
                    self.overruns,
                    count(self.malformed, "malformed message")
                )?;
            }
            SourceKind::Audit => {
                let a = &self.audit;
                writeln!(
                    f,
                    "talon: watched for {secs:.1} s via {}: {} seen \
                     (audit reports no forks or exits)",
                    self.source,
                    count(self.execs, "exec")
                )?;
                writeln!(
                    f,
                    "talon: {} built from {}, {} without /proc details \
                     (process gone before its start time was read)",
                    count(self.events, "event"),
                    self.source,
                    a.without_proc
                )?;
                writeln!(
                    f,
                    "talon: audit: {} read: {} merged into exec events, \
                     {} of other kinds, {}, {} incomplete; {}; {} undecodable",
                    count(a.records, "record"),
                    a.merged,
                    count(a.other_events, "event"),
                    count(a.failed_execs, "failed exec"),
                    a.incomplete,
                    count(a.user_messages, "user-space message"),
                    a.undecodable + a.foreign
                )?;
                write!(
                    f,
                    "talon: records lost: socket buffer overruns {}",
                    self.overruns
                )?;
                match a.kernel_lost {
                    Some(n) => write!(f, ", kernel lost counter +{n}")?,
                    None => write!(f, ", kernel lost counter unreadable")?,
                }
                if a.unaccounted != 0 {
                    write!(
                        f,
                        "; {} unaccounted for (a talon bug)",
                        match a.unaccounted {
                            1 => "1 record".to_string(),
                            n => format!("{n} records"),
                        }
                    )?;
                }
                writeln!(f)?;
                for w in &a.cleanup {
                    writeln!(f, "talon: warning: {w}")?;
                }
            }
        }
        write!(f, "talon: {}", count(self.alerts, "alert"))?;
        if self.build_errors > 0 {
            write!(
                f,
                ", {} could not be built (see warnings)",
                match self.build_errors {
                    1 => "1 alert or event".to_string(),
                    n => format!("{n} alerts or events"),
                }
            )?;
        }
        writeln!(f)
    }
}

/// `1 exec`, `2 execs`.
fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// Sets `flag` on SIGINT and SIGTERM; a second signal while the first is
/// being handled still only sets the flag (the loop exits within
/// [`WatchConfig::poll_interval`]).
pub fn stop_on_signals(flag: &Arc<AtomicBool>) -> io::Result<()> {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(flag))?;
    }
    Ok(())
}

/// A subscribed sensor, ready to [`Sensor::run`]. Events from the moment
/// [`Sensor::open`] returns are delivered, so "ready" can be announced
/// then.
#[derive(Debug)]
pub struct Sensor {
    inner: Inner,
    /// Why the process connector was not used, when `auto` fell back.
    fallback: Option<SensorError>,
}

#[derive(Debug)]
enum Inner {
    Proc(Box<ProcSensor>),
    Audit(Box<AuditSensor>),
}

impl Sensor {
    /// Opens the configured source, and raises the calling thread's
    /// priority as configured (the thread that then calls
    /// [`Sensor::run`]). Not getting the priority is not an error: the
    /// sensor runs, with more partial events on a busy machine.
    pub fn open(config: WatchConfig) -> Result<Sensor, SensorError> {
        if let Err(e) = crate::sched::apply(config.priority) {
            tracing::warn!(
                "cannot raise the sensor's priority ({:?}): {e}",
                config.priority
            );
        }
        let audit = |config: &WatchConfig| AuditSensor::open(config).map(Box::new);
        let (inner, fallback) = match config.source {
            SourceChoice::ProcConnector => (Inner::Proc(Box::new(ProcSensor::open(config)?)), None),
            SourceChoice::Audit => (Inner::Audit(audit(&config)?), None),
            SourceChoice::Auto => match ProcSensor::open(config.clone()) {
                Ok(p) => (Inner::Proc(Box::new(p)), None),
                Err(proc @ (SensorError::Refused { .. } | SensorError::NoAck(_))) => {
                    tracing::info!("process connector unavailable ({proc}); trying audit netlink");
                    match audit(&config) {
                        Ok(a) => (Inner::Audit(a), Some(proc)),
                        Err(audit) => {
                            return Err(SensorError::NoSource {
                                proc: Box::new(proc),
                                audit: Box::new(audit),
                            })
                        }
                    }
                }
                Err(other) => return Err(other),
            },
        };
        Ok(Sensor { inner, fallback })
    }

    /// The source the events come from.
    pub fn source(&self) -> SourceKind {
        match self.inner {
            Inner::Proc(_) => SourceKind::ProcConnector,
            Inner::Audit(_) => SourceKind::Audit,
        }
    }

    /// Why `auto` did not use the process connector (it fell back to
    /// audit netlink).
    pub fn fallback_reason(&self) -> Option<&SensorError> {
        self.fallback.as_ref()
    }

    /// Runs until `stop` is set, the duration is over, or output fails.
    /// The sink is flushed on every way out; the audit source also undoes
    /// its audit configuration.
    pub fn run(
        self,
        engine: &mut Engine,
        sink: &mut dyn WatchSink,
        stop: &AtomicBool,
    ) -> Result<WatchStats, SensorError> {
        match self.inner {
            Inner::Proc(p) => p.run(engine, sink, stop),
            Inner::Audit(a) => a.run(engine, sink, stop),
        }
    }
}

/// The process-connector source.
#[derive(Debug)]
struct ProcSensor {
    socket: ConnectorSocket,
    builder: EventBuilder,
    config: WatchConfig,
    msgs: Vec<Message>,
}

impl ProcSensor {
    fn open(config: WatchConfig) -> Result<ProcSensor, SensorError> {
        let socket = ConnectorSocket::subscribe(config.poll_interval, config.ack_timeout)?;
        let proc = ProcFs::new(&config.proc_root);
        let host = Host::detect(&config.etc_root, &proc).with_precise_boot_time();
        let builder = EventBuilder::new(proc, &config.etc_root, host);
        tracing::info!(port = socket.port(), "subscribed to process events");
        Ok(ProcSensor {
            socket,
            builder,
            config,
            msgs: Vec::with_capacity(4),
        })
    }

    fn run(
        mut self,
        engine: &mut Engine,
        sink: &mut dyn WatchSink,
        stop: &AtomicBool,
    ) -> Result<WatchStats, SensorError> {
        let started = Instant::now();
        let deadline = self.config.duration.map(|d| started + d);
        let mut state = LoopState::new(engine, self.config.pinned_now);
        let result = self.pump(&mut state, sink, stop, deadline);
        let flushed = sink.flush();
        state.stats.elapsed = started.elapsed();
        result?;
        match flushed {
            Err(error) if !is_broken_pipe(&error) => Err(SensorError::Write {
                what: "output",
                error,
            }),
            _ => Ok(state.stats),
        }
    }

    fn pump(
        &mut self,
        state: &mut LoopState<'_>,
        sink: &mut dyn WatchSink,
        stop: &AtomicBool,
        deadline: Option<Instant>,
    ) -> Result<(), SensorError> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut dirty = false;
        let mut last_flush = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
            // Flush once everything queued is handled (or, on a host whose
            // queue never empties, at least every FLUSH_EVERY), then block
            // (up to the poll interval) for more.
            let mut got = self.socket.recv(true)?;
            let idle = matches!(got, Received::Timeout);
            if dirty && (idle || last_flush.elapsed() >= FLUSH_EVERY) {
                match sink.flush() {
                    Ok(()) => dirty = false,
                    Err(e) if is_broken_pipe(&e) => return Ok(()),
                    Err(error) => return Err(write_error(error)),
                }
                last_flush = Instant::now();
            }
            if idle {
                got = self.socket.recv(false)?;
            }
            // Take what is queued (up to a batch), reading each exec'd
            // process as it is taken; then do the slower work in order.
            batch.clear();
            loop {
                match got {
                    Received::Datagram(n) => self.take(state, n, &mut batch),
                    Received::Timeout => break,
                    Received::Overrun => {
                        state.stats.overruns += 1;
                        self.builder.forget_all();
                    }
                    Received::Foreign => state.stats.malformed += 1,
                }
                if batch.len() >= BATCH {
                    break;
                }
                got = self.socket.recv(true)?;
            }
            for (m, snapshot) in batch.drain(..) {
                match self.handle(state, &m, snapshot, sink) {
                    Ok(wrote) => dirty |= wrote,
                    Err(e) if is_broken_pipe(&e) => return Ok(()),
                    Err(error) => return Err(write_error(error)),
                }
            }
        }
    }

    /// Decodes one datagram into the batch, with a `/proc` snapshot of
    /// every exec'd process.
    fn take(
        &mut self,
        state: &mut LoopState<'_>,
        n: usize,
        batch: &mut Vec<(Message, Option<Snapshot>)>,
    ) {
        state.stats.messages += 1;
        // The decode buffer is kept between datagrams: no allocation per
        // message on the hot path.
        let mut msgs = std::mem::take(&mut self.msgs);
        if let Err(e) = crate::message::decode_datagram(self.socket.datagram(n), &mut msgs) {
            tracing::debug!("undecodable process-connector datagram: {e}");
            state.stats.malformed += 1;
        }
        for m in msgs.drain(..) {
            let snapshot = match m.event {
                ProcEvent::Exec { tgid, .. } => Some(self.builder.snapshot(tgid)),
                _ => None,
            };
            batch.push((m, snapshot));
        }
        self.msgs = msgs;
    }

    /// Handles one kernel event; true when something was written.
    fn handle(
        &mut self,
        state: &mut LoopState<'_>,
        m: &Message,
        snapshot: Option<Snapshot>,
        sink: &mut dyn WatchSink,
    ) -> io::Result<bool> {
        state.count_gap(m);
        let at = wall_time_of(m.timestamp_ns);
        match m.event {
            ProcEvent::Fork {
                parent_tgid,
                child_pid,
                child_tgid,
                ..
            } => {
                state.stats.forks += 1;
                self.builder.on_fork(parent_tgid, child_pid, child_tgid);
                Ok(false)
            }
            ProcEvent::Exec { tgid, .. } => {
                state.stats.execs += 1;
                let snapshot = snapshot.unwrap_or_else(|| self.builder.snapshot(tgid));
                let built = self.builder.exec_event_from(snapshot, at, m.timestamp_ns);
                state.deliver(built, sink, self.config.all_events, true)
            }
            ProcEvent::Exit {
                pid,
                tgid,
                exit_code,
                ..
            } => {
                if pid == tgid {
                    state.stats.exits += 1;
                }
                if !self.config.all_events {
                    self.builder.on_exit(pid, tgid);
                    return Ok(false);
                }
                match self
                    .builder
                    .exit_event(pid, tgid, exit_code, at, m.timestamp_ns)
                {
                    Some(built) => state.deliver(built, sink, true, false),
                    None => Ok(false),
                }
            }
            ProcEvent::Ack { .. } | ProcEvent::Other { .. } => Ok(false),
        }
    }
}

/// Subscribes and runs in one call: see [`Sensor::open`] and
/// [`Sensor::run`].
pub fn watch(
    config: WatchConfig,
    engine: &mut Engine,
    sink: &mut dyn WatchSink,
    stop: &AtomicBool,
) -> Result<WatchStats, SensorError> {
    Sensor::open(config)?.run(engine, sink, stop)
}

/// What the loop carries between events.
pub(crate) struct LoopState<'e> {
    engine: &'e mut Engine,
    pinned: Option<AlertContext>,
    pub(crate) stats: WatchStats,
    /// Last sequence number seen per CPU.
    last_seq: FxHashMap<u32, u32>,
}

impl<'e> LoopState<'e> {
    pub(crate) fn new(engine: &'e mut Engine, pinned_now: Option<DateTime<Utc>>) -> Self {
        LoopState {
            engine,
            pinned: pinned_now.map(AlertContext::new),
            stats: WatchStats::default(),
            last_seq: FxHashMap::default(),
        }
    }

    /// The kernel numbers events per CPU; a jump means events were dropped
    /// in between (the socket buffer was full). Acknowledgements are
    /// numbered with the events since Linux 6.6; before, they had no CPU
    /// and the requester's number, and take no part.
    fn count_gap(&mut self, m: &Message) {
        if matches!(m.event, ProcEvent::Ack { .. }) && m.cpu == u32::MAX {
            return;
        }
        let Some(prev) = self.last_seq.get_mut(&m.cpu) else {
            self.last_seq.insert(m.cpu, m.seq);
            return;
        };
        let gap = m.seq.wrapping_sub(*prev);
        // Older or repeated numbers are neither losses nor progress.
        if gap == 0 || gap >= u32::MAX / 2 {
            return;
        }
        self.stats.lost += u64::from(gap - 1);
        *prev = m.seq;
    }

    /// Counts a built event, hands it to the sink when asked, and runs
    /// the rules on start events.
    pub(crate) fn deliver(
        &mut self,
        built: Result<Built, talon_event::flatten::FlattenError>,
        sink: &mut dyn WatchSink,
        emit: bool,
        detect: bool,
    ) -> io::Result<bool> {
        let built = match built {
            Ok(b) => b,
            Err(e) => {
                self.stats.build_errors += 1;
                tracing::warn!("cannot build an event: {e}");
                return Ok(false);
            }
        };
        self.stats.events += 1;
        self.stats.partial += u64::from(built.partial);
        let mut wrote = false;
        if emit {
            sink.event(&built.event)?;
            wrote = true;
        }
        if detect {
            wrote |= self.detect(&built.event, sink)?;
        }
        Ok(wrote)
    }

    fn detect(&mut self, event: &Event, sink: &mut dyn WatchSink) -> io::Result<bool> {
        let mut result = Ok(false);
        let pinned = self.pinned.as_ref();
        let stats = &mut self.stats;
        self.engine.on_event(event, |d| {
            if result.is_err() {
                return;
            }
            // Each alert is stamped when raised: a live sensor's alerts
            // span the whole watch, unlike a hunt's single run time.
            let now;
            let ctx = match pinned {
                Some(c) => c,
                None => {
                    now = AlertContext::new(Utc::now());
                    &now
                }
            };
            match AlertBuilder::new(d.rule, ctx).event_alert(d.event) {
                Ok(alert) => {
                    stats.alerts += 1;
                    result = sink.alert(d.rule_index, &alert).map(|()| true);
                }
                Err(e) => {
                    stats.build_errors += 1;
                    tracing::warn!("cannot build an alert for rule {}: {e}", d.rule.name);
                }
            }
        });
        result
    }
}

pub(crate) fn write_error(error: io::Error) -> SensorError {
    SensorError::Write {
        what: "output",
        error,
    }
}

pub(crate) fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(cpu: u32, seq: u32) -> Message {
        Message {
            seq,
            ack: 0,
            cpu,
            timestamp_ns: 0,
            event: ProcEvent::Exec { pid: 1, tgid: 1 },
        }
    }

    #[test]
    fn sequence_gaps_count_lost_events() {
        let (mut engine, _) = Engine::new(Vec::new(), &talon_engine::EngineOptions::default());
        let mut st = LoopState::new(&mut engine, None);
        for (cpu, seq) in [
            (0, 10),
            (0, 11),
            (1, 5),
            (0, 15),
            (1, 6),
            (1, 6),
            (0, 14),
            (0, 16),
        ] {
            st.count_gap(&msg(cpu, seq));
        }
        // 12, 13 and 14 missing on CPU 0; the late 14 and the repeated 6
        // are not losses.
        assert_eq!(st.stats.lost, 3);
        // The counter wraps.
        st.count_gap(&msg(2, u32::MAX));
        st.count_gap(&msg(2, 1));
        assert_eq!(st.stats.lost, 4);
        // A numbered acknowledgement is part of the sequence; an old-style
        // one (no CPU, the requester's number) is not.
        let ack = |cpu, seq| Message {
            seq,
            ack: 1,
            cpu,
            timestamp_ns: 0,
            event: ProcEvent::Ack { err: 0 },
        };
        st.count_gap(&ack(2, 2));
        st.count_gap(&ack(u32::MAX, 999));
        st.count_gap(&msg(2, 3));
        assert_eq!(st.stats.lost, 4);
    }

    #[test]
    fn summary_lines() {
        let stats = WatchStats {
            execs: 3,
            events: 3,
            partial: 1,
            lost: 2,
            overruns: 1,
            alerts: 1,
            ..WatchStats::default()
        };
        let text = stats.to_string();
        assert!(
            text.contains(
                "talon: watched for 0.0 s via the process connector: 3 execs, 0 forks, 0 exits seen\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("talon: 3 events built from the process connector, 1 partial"),
            "{text}"
        );
        assert!(
            text.contains("talon: 2 events lost (kernel buffer overruns: 1)"),
            "{text}"
        );
        assert!(text.ends_with("talon: 1 alert\n"), "{text}");
    }

    #[test]
    fn audit_summary_lines() {
        let stats = WatchStats {
            source: SourceKind::Audit,
            execs: 2,
            events: 2,
            overruns: 1,
            alerts: 1,
            audit: AuditStats {
                records: 30,
                merged: 10,
                other_events: 3,
                failed_execs: 4,
                user_messages: 5,
                undecodable: 1,
                foreign: 1,
                without_proc: 1,
                kernel_lost: Some(0),
                cleanup: vec!["cannot delete talon's audit rule x".into()],
                ..AuditStats::default()
            },
            ..WatchStats::default()
        };
        let text = stats.to_string();
        for line in [
            "talon: watched for 0.0 s via audit netlink: 2 execs seen (audit reports no forks or exits)\n",
            "talon: 2 events built from audit netlink, 1 without /proc details",
            "talon: audit: 30 records read: 10 merged into exec events, 3 events of other kinds, \
             4 failed execs, 0 incomplete; 5 user-space messages; 2 undecodable\n",
            "talon: records lost: socket buffer overruns 1, kernel lost counter +0\n",
            "talon: warning: cannot delete talon's audit rule x\n",
        ] {
            assert!(text.contains(line), "{line:?} not in:\n{text}");
        }
        assert!(text.ends_with("talon: 1 alert\n"), "{text}");
    }
}
