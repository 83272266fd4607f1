//! Kernel audit records into talon-sources' raw-auditd normalizer.
//!
//! Each record the kernel multicasts becomes the line auditd would have
//! written for it ([`wire::record_line`]), and the lines are read by
//! [`talon_sources::NormalizingReader`] as a raw auditd log: the very code
//! `talon hunt` runs on `audit.log` groups the records of one event by
//! serial, decodes hex and split arguments, and answers for every record
//! (an exec event, merged into one, or ignored with its reason).
//!
//! That reader pulls bytes from a [`Read`], so the socket is wrapped in
//! one ([`Feed`]) and the reader runs on a thread of its own, sending its
//! events to the watch loop over a channel. Its [`Read::read`] blocks on
//! the socket (up to the poll interval at a time) and reports the end of
//! input once the watch is stopping, which makes the reader answer for
//! records still waiting for the rest of their event. An event whose EOE
//! record never comes (dropped with a socket overrun, which is counted)
//! is answered when the normalizer's window closes it: 64 events open, or
//! a record stamped 2 s later.
//!
//! The reader first peeks at [`talon_sources::DETECT_WINDOW`] bytes of an
//! input (to recognise compression and the source) before it yields
//! anything; a live socket would hold the first event back until that
//! many bytes of records had come. The feed therefore starts with that
//! many newlines (and a few more): blank lines, which the reader skips and
//! does not count as records. `first_event_needs_no_more_input` checks
//! this stays true.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

use talon_event::Event;
use talon_sources::{NormalizeOptions, NormalizeStats, NormalizingReader, Source, DETECT_WINDOW};

use crate::audit::socket::Readlog;
use crate::audit::wire;
use crate::error::SensorError;
use crate::netlink::Received;

/// Blank lines sent ahead of the records (see the module documentation).
pub(crate) const PRIMING: usize = DETECT_WINDOW + 64;

/// The name the records are read under (in issues and `event.original`).
pub(crate) const INPUT_NAME: &str = "audit-netlink";

/// Where the feed takes datagrams from: the record socket, or a script.
pub(crate) trait Datagrams: Send {
    /// One datagram, waiting at most the poll interval.
    fn recv(&mut self) -> Result<Received, SensorError>;
    /// The bytes of the datagram just received.
    fn datagram(&self, n: usize) -> &[u8];
}

impl Datagrams for Readlog {
    fn recv(&mut self) -> Result<Received, SensorError> {
        Readlog::recv(self, false)
    }

    fn datagram(&self, n: usize) -> &[u8] {
        Readlog::datagram(self, n)
    }
}

/// What the feed counted (shared with the watch loop).
#[derive(Debug, Default)]
pub(crate) struct FeedCounts {
    pub datagrams: u64,
    /// Kernel records handed to the normalizer.
    pub records: u64,
    /// User-space messages (logins, PAM, sudo…): single records that are
    /// never process events; counted, not normalized.
    pub user_messages: u64,
    /// Datagrams that are not netlink, or messages that are not records.
    pub undecodable: u64,
    /// Datagrams from a local process rather than the kernel.
    pub foreign: u64,
    /// Times the socket buffer overflowed: the kernel dropped records.
    pub overruns: u64,
    /// Why reading stopped, when it was not the watch stopping.
    pub error: Option<SensorError>,
}

/// The records of a socket as a byte stream of log lines.
pub(crate) struct Feed<D> {
    source: D,
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<FeedCounts>>,
    prime: usize,
    lines: Vec<u8>,
    pos: usize,
}

impl<D: Datagrams> Feed<D> {
    pub fn new(source: D, stop: Arc<AtomicBool>, counts: Arc<Mutex<FeedCounts>>) -> Feed<D> {
        Feed {
            source,
            stop,
            counts,
            prime: PRIMING,
            lines: Vec::with_capacity(16 * 1024),
            pos: 0,
        }
    }

    /// Turns one datagram into lines.
    fn take(&mut self, n: usize, counts: &mut FeedCounts) {
        counts.datagrams += 1;
        let Ok(msgs) = wire::messages(self.source.datagram(n)) else {
            counts.undecodable += 1;
            return;
        };
        for m in msgs {
            if wire::is_user_message(m.ty) {
                counts.user_messages += 1;
            } else if m.ty < wire::AUDIT_SYSCALL {
                // Netlink control messages and request types: never a
                // record on the multicast group.
                counts.undecodable += 1;
            } else {
                wire::record_line(m.ty, m.payload, &mut self.lines);
                counts.records += 1;
            }
        }
    }
}

impl<D: Datagrams> Read for Feed<D> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.prime > 0 {
            let n = self.prime.min(out.len());
            out[..n].fill(b'\n');
            self.prime -= n;
            return Ok(n);
        }
        loop {
            if self.pos < self.lines.len() {
                let n = (self.lines.len() - self.pos).min(out.len());
                out[..n].copy_from_slice(&self.lines[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.lines.clear();
            self.pos = 0;
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            let got = self.source.recv();
            // A panic elsewhere while the lock was held leaves counts that
            // are still worth reporting.
            let counts = Arc::clone(&self.counts);
            let mut counts = counts.lock().unwrap_or_else(|p| p.into_inner());
            match got {
                Ok(Received::Datagram(n)) => self.take(n, &mut counts),
                Ok(Received::Timeout) => {}
                Ok(Received::Overrun) => counts.overruns += 1,
                Ok(Received::Foreign) => counts.foreign += 1,
                Err(e) => {
                    counts.error = Some(e);
                    return Ok(0);
                }
            }
        }
    }
}

/// What the normalizer thread sends the watch loop.
#[derive(Debug)]
pub(crate) enum FeedMsg {
    /// One exec event, as talon-sources normalized it.
    Event(Box<Event>),
    /// The input ended; the normalizer's final counts.
    Done(Box<NormalizeStats>),
}

/// How the records are normalized: each event keeps its records in
/// `event.original` (the watch reads `comm` from the SYSCALL record), and
/// parents are left to the sensor, which fills them from `/proc` and its
/// own cache exactly as for the process connector.
pub(crate) fn options() -> NormalizeOptions {
    NormalizeOptions {
        keep_original: true,
        enrich: false,
        max_examples: 8,
        ..NormalizeOptions::default()
    }
}

/// Runs the normalizer over the feed until it ends, sending each event;
/// the counts go last. Stops early if the watch loop has gone.
pub(crate) fn normalize<D: Datagrams + 'static>(feed: Feed<D>, tx: &SyncSender<FeedMsg>) {
    let mut reader = NormalizingReader::new(INPUT_NAME, feed, Some(Source::Auditd), options());
    for item in reader.by_ref() {
        match item {
            Ok(event) => {
                if tx.send(FeedMsg::Event(Box::new(event))).is_err() {
                    return;
                }
            }
            // Also counted in the normalizer's statistics.
            Err(issue) => tracing::debug!("audit record not read: {issue}"),
        }
    }
    let _ = tx.send(FeedMsg::Done(Box::new(reader.stats())));
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::mpsc;

    /// Datagrams as the kernel sent them, then the end: when the script
    /// is used up the source notes it was asked for more and stops the
    /// feed.
    pub(crate) struct Script {
        items: VecDeque<Vec<u8>>,
        current: Vec<u8>,
        stop: Arc<AtomicBool>,
        pub asked_past_end: Arc<AtomicBool>,
    }

    impl Script {
        pub fn new(items: Vec<Vec<u8>>, stop: Arc<AtomicBool>) -> Script {
            Script {
                items: items.into(),
                current: Vec::new(),
                stop,
                asked_past_end: Arc::new(AtomicBool::new(false)),
            }
        }
    }

    impl Datagrams for Script {
        fn recv(&mut self) -> Result<Received, SensorError> {
            match self.items.pop_front() {
                Some(d) if d.is_empty() => Ok(Received::Overrun),
                Some(d) => {
                    self.current = d;
                    Ok(Received::Datagram(self.current.len()))
                }
                None => {
                    self.asked_past_end.store(true, Ordering::Relaxed);
                    self.stop.store(true, Ordering::Relaxed);
                    Ok(Received::Timeout)
                }
            }
        }

        fn datagram(&self, n: usize) -> &[u8] {
            &self.current[..n]
        }
    }

    /// One record as the kernel multicasts it.
    pub(crate) fn record(ty: u16, text: &str) -> Vec<u8> {
        let mut d = wire::request(ty, 0, 0, text.as_bytes());
        // The kernel's records carry no request flag.
        d[6..8].copy_from_slice(&0u16.to_ne_bytes());
        d
    }

    /// `sh -c "echo net.ipv4.ip_forward=1 > /dev/null"` exec'd by pid
    /// 16746, as this machine's kernel recorded it (serial 37), after a
    /// failed `$PATH` probe (serial 36) and with a user message between.
    pub(crate) fn sh_exec() -> Vec<Vec<u8>> {
        let stamp = |serial: u32| format!("audit(1796350699.337:{serial}):");
        let failed = format!(
            "{} arch=c000003e syscall=59 success=no exit=-2 a0=7fa448b4c7b0 a1=7fa448588710 \
             a2=7ffe3d5260d0 a3=8 items=1 ppid=16746 pid=16790 auid=4294967295 uid=0 gid=0 \
             euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 \
             comm=\"python3\" exe=\"/usr/bin/python3.11\" key=\"talon-watch-16746\"",
            stamp(36)
        );
        let syscall = format!(
            "{} arch=c000003e syscall=59 success=yes exit=0 a0=7fa448b4c7c0 a1=7fa448588710 \
             a2=7ffe3d5260d0 a3=8 items=2 ppid=16746 pid=16790 auid=4294967295 uid=1000 \
             gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=(none) \
             ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"talon-watch-16746\"",
            stamp(37)
        );
        // An argument with spaces is written in hex.
        let arg = "echo net.ipv4.ip_forward=1 > /dev/null";
        let hex: String = arg.bytes().map(|b| format!("{b:02X}")).collect();
        vec![
            record(wire::AUDIT_SYSCALL, &failed),
            record(
                wire::AUDIT_CWD,
                &format!("{} cwd=\"/work/main\"", stamp(36)),
            ),
            record(wire::AUDIT_SYSCALL, &syscall),
            record(
                wire::AUDIT_EXECVE,
                &format!("{} argc=3 a0=\"sh\" a1=\"-c\" a2={hex}", stamp(37)),
            ),
            record(
                1112,
                "audit(1796350699.338:38): pid=1 uid=0 msg='op=login res=success'",
            ),
            record(wire::AUDIT_EOE, &format!("{} ", stamp(36))),
            record(
                wire::AUDIT_CWD,
                &format!("{} cwd=\"/work/main\"", stamp(37)),
            ),
            record(
                wire::AUDIT_PATH,
                &format!(
                    "{} item=0 name=\"/usr/bin/sh\" inode=325 dev=fe:00 mode=0100755 ouid=0 \
                     ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0",
                    stamp(37)
                ),
            ),
            record(
                wire::AUDIT_PATH,
                &format!(
                    "{} item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=32 dev=fe:00 \
                     mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL",
                    stamp(37)
                ),
            ),
            record(
                wire::AUDIT_PROCTITLE,
                &format!("{} proctitle=7368002D63006563686F", stamp(37)),
            ),
            record(wire::AUDIT_EOE, &format!("{} ", stamp(37))),
        ]
    }

    fn run(items: Vec<Vec<u8>>) -> (Vec<Event>, NormalizeStats, FeedCounts, bool) {
        let stop = Arc::new(AtomicBool::new(false));
        let script = Script::new(items, Arc::clone(&stop));
        let asked = Arc::clone(&script.asked_past_end);
        let counts = Arc::new(Mutex::new(FeedCounts::default()));
        let feed = Feed::new(script, stop, Arc::clone(&counts));
        let mut reader = NormalizingReader::new(INPUT_NAME, feed, Some(Source::Auditd), options());
        let first = reader.next();
        let asked_before_first = asked.load(Ordering::Relaxed);
        let mut events: Vec<Event> = first.into_iter().filter_map(Result::ok).collect();
        events.extend(reader.by_ref().filter_map(Result::ok));
        let stats = reader.stats();
        let counts = std::mem::take(&mut *counts.lock().unwrap());
        (events, stats, counts, asked_before_first)
    }

    #[test]
    fn first_event_needs_no_more_input() {
        let (events, stats, counts, asked_before_first) = run(sh_exec());
        assert!(
            !asked_before_first,
            "the exec event must come out at its EOE record, without waiting for more"
        );
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.first_str("process.executable"), Some("/usr/bin/dash"));
        assert_eq!(
            e.first_str("process.command_line"),
            Some("sh -c echo net.ipv4.ip_forward=1 > /dev/null")
        );
        // Every record is accounted for: 10 kernel records (the user
        // message is counted apart): one event, 8 merged, 1 failed exec.
        assert_eq!(counts.records, 10);
        assert_eq!(counts.user_messages, 1);
        assert_eq!(counts.datagrams, 11);
        assert_eq!(stats.records, 10);
        assert_eq!(stats.events, 1);
        assert_eq!(stats.merged, 8);
        assert_eq!(
            stats.ignored_for(talon_sources::IgnoreReason::FailedExec),
            1
        );
        assert_eq!(stats.unaccounted(), 0);
    }

    #[test]
    fn the_exec_maps_back_to_the_process() {
        let (events, ..) = run(sh_exec());
        let exec = crate::audit::mapping::exec_of(&events[0]).unwrap();
        assert_eq!(exec.info.pid, 16790);
        assert_eq!(exec.info.ppid, Some(16746));
        assert_eq!(exec.info.executable.as_deref(), Some("/usr/bin/dash"));
        assert_eq!(
            exec.info.args,
            ["sh", "-c", "echo net.ipv4.ip_forward=1 > /dev/null"]
        );
        assert_eq!(exec.info.working_directory.as_deref(), Some("/work/main"));
        let ids = exec.info.ids.unwrap();
        assert_eq!(ids.uid, [1000, 0, 0, 0]);
        assert_eq!(ids.gid, [1000, 1000, 1000, 1000]);
        assert_eq!(exec.comm.as_deref(), Some("sh"));
        assert_eq!(exec.name.as_deref(), Some("dash"));
        assert_eq!(exec.serial, 37);
        assert_eq!(exec.at.timestamp_millis(), 1_796_350_699_337);
    }

    #[test]
    fn split_arguments_and_odd_datagrams_are_counted() {
        let stamp = "audit(1700000000.100:7):";
        let items = vec![
            record(
                wire::AUDIT_SYSCALL,
                &format!(
                    "{stamp} arch=c000003e syscall=322 success=yes exit=0 ppid=1 pid=42 uid=0 \
                     gid=0 euid=0 egid=0 comm=\"x\" exe=\"/usr/bin/x\""
                ),
            ),
            // A long argument in chunks, the second EXECVE record
            // continuing it.
            record(
                wire::AUDIT_EXECVE,
                &format!("{stamp} argc=2 a0=\"x\" a1_len=10 a1[0]=3031323334"),
            ),
            record(wire::AUDIT_EXECVE, &format!("{stamp} a1[1]=3536373839")),
            b"\x05\x00\x00".to_vec(),
            record(wire::NLMSG_DONE, ""),
            record(wire::AUDIT_CWD, "no header at all"),
            Vec::new(),
            record(wire::AUDIT_EOE, stamp),
        ];
        let (events, stats, counts, _) = run(items);
        assert_eq!(events.len(), 1);
        let exec = crate::audit::mapping::exec_of(&events[0]).unwrap();
        assert_eq!(exec.info.args, ["x", "0123456789"]);
        assert_eq!(counts.undecodable, 2, "the short datagram and NLMSG_DONE");
        assert_eq!(counts.overruns, 1);
        assert_eq!(counts.records, 5);
        assert_eq!(
            stats.ignored_for(talon_sources::IgnoreReason::NotARecord),
            1,
            "the record without an audit( header"
        );
        assert_eq!(stats.unaccounted(), 0);
    }

    #[test]
    fn the_thread_sends_events_then_counts() {
        let stop = Arc::new(AtomicBool::new(false));
        let script = Script::new(sh_exec(), Arc::clone(&stop));
        let counts = Arc::new(Mutex::new(FeedCounts::default()));
        let feed = Feed::new(script, stop, counts);
        let (tx, rx) = mpsc::sync_channel(4);
        let t = std::thread::spawn(move || normalize(feed, &tx));
        let msgs: Vec<FeedMsg> = rx.iter().collect();
        t.join().unwrap();
        assert!(matches!(msgs[0], FeedMsg::Event(_)));
        match &msgs[1] {
            FeedMsg::Done(stats) => assert_eq!(stats.records, 10),
            other => panic!("{other:?}"),
        }
        assert_eq!(msgs.len(), 2);
    }
}
