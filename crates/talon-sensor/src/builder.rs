//! From kernel process events to talon events: reads `/proc` for the
//! process and its parent, fills in what `/proc` no longer has from
//! earlier events, and flattens the document into a [`talon_event::Event`].
//!
//! Two small caches make short-lived processes and exited parents
//! reportable:
//! - every process built is kept by pid (with its start ticks, so a reused
//!   pid is told apart), so a parent that has exited, or a zombie whose
//!   `/proc` entry no longer shows its image, is still described;
//! - every fork is kept as child → parent, so an exec whose `/proc` entry
//!   is already gone still names its parent.
//!
//! Both are bounded; the oldest entries go first.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;
use serde_json::Value;
use talon_event::flatten::{FlattenError, Flattener};
use talon_event::Event;
use uuid::Uuid;

use crate::document::{self, IdNames, Meta, ProcessInfo, INDEX};
use crate::host::Host;
use crate::procfs::ProcFs;
use crate::users::Users;

/// Processes remembered for parent lookups.
const PROCESS_CACHE: usize = 4096;
/// Forks remembered (child → parent) until the child exits.
const FORK_CACHE: usize = 32768;
/// Longest name the kernel keeps in `comm` (TASK_COMM_LEN - 1).
const COMM_MAX: usize = 15;
/// How much later than its exec a process found in `/proc` may seem to
/// have started and still be the one that exec'd: start times are in
/// 10 ms ticks and the audit stamp comes from a coarse clock. A process
/// that started later is another one that got the pid.
const START_SLACK_MS: i64 = 100;

/// A built event and whether `/proc` was missing for it.
#[derive(Debug)]
pub struct Built {
    pub event: Event,
    /// The process was gone (or a zombie) before its details were read.
    pub partial: bool,
}

/// A process as `/proc` showed it right after its exec. Taking it is only
/// a few reads, so the sensor takes it the moment the exec is dequeued and
/// builds the event (parent, document, rules) after: a short-lived process
/// behind a burst of other events is then read before it is gone, not
/// after the burst's slower work.
#[derive(Clone, Debug)]
pub struct Snapshot {
    info: ProcessInfo,
    /// Arguments and executable were readable.
    complete: bool,
}

/// A map that forgets its oldest entries past a capacity. Each entry has
/// a generation so a pid re-inserted after removal is not evicted for
/// its older self.
#[derive(Debug)]
struct Bounded<V> {
    map: FxHashMap<i32, (u64, V)>,
    order: VecDeque<(i32, u64)>,
    next_gen: u64,
    cap: usize,
}

impl<V> Bounded<V> {
    fn new(cap: usize) -> Self {
        Bounded {
            map: FxHashMap::default(),
            order: VecDeque::new(),
            next_gen: 0,
            cap,
        }
    }

    fn insert(&mut self, key: i32, value: V) {
        let gen = self.next_gen;
        self.next_gen += 1;
        self.map.insert(key, (gen, value));
        self.order.push_back((key, gen));
        while self.order.len() > self.cap {
            if let Some((k, g)) = self.order.pop_front() {
                if self.map.get(&k).is_some_and(|(cur, _)| *cur == g) {
                    self.map.remove(&k);
                }
            }
        }
    }

    fn get(&self, key: i32) -> Option<&V> {
        self.map.get(&key).map(|(_, v)| v)
    }

    fn remove(&mut self, key: i32) -> Option<V> {
        self.map.remove(&key).map(|(_, v)| v)
    }

    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Builds the events of one host.
#[derive(Debug)]
pub struct EventBuilder {
    proc: ProcFs,
    users: Users,
    host: Host,
    host_json: Value,
    agent_json: Value,
    /// Namespace of entity ids: one per host.
    entity_ns: Uuid,
    processes: Bounded<ProcessInfo>,
    forks: Bounded<i32>,
    flattener: Flattener,
    index: Arc<str>,
    origin: Arc<str>,
    built: u64,
}

impl EventBuilder {
    /// A builder reading `proc` (normally `/proc`) and user names from
    /// `etc`, for events of `host`.
    pub fn new(proc: ProcFs, etc: &Path, host: Host) -> EventBuilder {
        let entity_ns = Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("talon-host:{}:{}", host.id, host.name).as_bytes(),
        );
        EventBuilder {
            users: Users::load(etc),
            host_json: host.host_json(),
            agent_json: host.agent_json(),
            host,
            proc,
            entity_ns,
            processes: Bounded::new(PROCESS_CACHE),
            forks: Bounded::new(FORK_CACHE),
            flattener: Flattener::default(),
            index: Arc::from(INDEX),
            origin: Arc::from("netlink"),
            built: 0,
        }
    }

    /// A new process (not a thread): remember its parent, and forget an
    /// older process that had the same pid.
    pub fn on_fork(&mut self, parent_tgid: i32, child_pid: i32, child_tgid: i32) {
        if child_pid != child_tgid {
            return;
        }
        self.processes.remove(child_tgid);
        self.forks.insert(child_tgid, parent_tgid);
    }

    /// A task ended without an end event being built: forget its fork.
    pub fn on_exit(&mut self, pid: i32, tgid: i32) {
        if pid == tgid {
            self.forks.remove(tgid);
        }
    }

    /// Forgets everything learnt from events: after the kernel dropped
    /// some, the caches may describe images that have since changed.
    pub fn forget_all(&mut self) {
        self.processes.clear();
        self.forks.clear();
    }

    /// The start event of a process that just exec'd.
    pub fn exec_event(
        &mut self,
        tgid: i32,
        at: DateTime<Utc>,
        mono_ns: u64,
    ) -> Result<Built, FlattenError> {
        let snapshot = self.snapshot(tgid);
        self.exec_event_from(snapshot, at, mono_ns)
    }

    /// Reads a process that just exec'd from `/proc`, and nothing else:
    /// the part of an exec event that cannot wait (see [`Snapshot`]).
    pub fn snapshot(&self, tgid: i32) -> Snapshot {
        let (info, complete) = self.read_process(tgid);
        Snapshot { info, complete }
    }

    /// The start event of a process read earlier with
    /// [`EventBuilder::snapshot`].
    pub fn exec_event_from(
        &mut self,
        snapshot: Snapshot,
        at: DateTime<Utc>,
        mono_ns: u64,
    ) -> Result<Built, FlattenError> {
        let Snapshot { mut info, complete } = snapshot;
        let tgid = info.pid;
        if info.ppid.is_none() {
            info.ppid = self.forks.get(tgid).copied();
        }
        let parent = info.ppid.map(|ppid| self.parent(ppid));
        self.processes.insert(tgid, info.clone());
        self.build(
            "start",
            "exec",
            &info,
            parent.as_ref(),
            at,
            mono_ns,
            !complete,
            None,
        )
    }

    /// The start event of a process whose exec the kernel's audit records
    /// described: image, arguments, ids and parent pid come from them, so
    /// the event is complete even when the process is gone already. Its
    /// start time, entity id, process group and session come from `/proc`
    /// when it is still there; the second value tells whether it was. The
    /// parent is looked up as for the process connector.
    pub(crate) fn audit_exec_event(
        &mut self,
        mut info: ProcessInfo,
        comm: Option<&str>,
        at: DateTime<Utc>,
        id_seed: u64,
    ) -> (Result<Built, FlattenError>, bool) {
        let pid = info.pid;
        let mut from_proc = false;
        if let Ok(stat) = self.proc.stat(pid) {
            let start_ms = self.host.ticks_to_millis(stat.start_ticks);
            if start_ms <= at.timestamp_millis() + START_SLACK_MS {
                info.start_ticks = Some(stat.start_ticks);
                info.start_ms = Some(start_ms);
                info.entity_id = Some(self.entity_id(pid, stat.start_ticks));
                info.pgrp = Some(stat.pgrp);
                info.session = Some(stat.session);
                from_proc = true;
            }
        }
        if let Some(comm) = comm {
            info.name = Some(full_name(comm, info.executable.as_deref(), &info.args));
        }
        let parent = info.ppid.map(|ppid| self.parent(ppid));
        self.processes.insert(pid, info.clone());
        let built = self.build(
            "start",
            "exec",
            &info,
            parent.as_ref(),
            at,
            id_seed,
            false,
            None,
        );
        (built, from_proc)
    }

    /// The end event of a process (`None` for a thread's exit).
    pub fn exit_event(
        &mut self,
        pid: i32,
        tgid: i32,
        exit_code: u32,
        at: DateTime<Utc>,
        mono_ns: u64,
    ) -> Option<Result<Built, FlattenError>> {
        if pid != tgid {
            return None;
        }
        let fork_parent = self.forks.remove(tgid);
        // At exit the image is already unmapped, so `/proc` has only stat
        // and status left, if the process is not reaped already; the exec
        // seen earlier knows the rest. A process that never exec'd ran its
        // parent's image, so the parent's exec describes it.
        let (info, complete) = match self.processes.get(tgid) {
            Some(known) => (known.clone(), true),
            None => {
                let (mut info, _) = self.read_process(tgid);
                if info.ppid.is_none() {
                    info.ppid = fork_parent;
                }
                let image = fork_parent.and_then(|p| self.processes.get(p));
                match image {
                    Some(parent) if info.ppid == fork_parent => {
                        info.name = info.name.or_else(|| parent.name.clone());
                        info.executable = parent.executable.clone();
                        info.args = parent.args.clone();
                        info.working_directory = info
                            .working_directory
                            .or_else(|| parent.working_directory.clone());
                        info.ids = info.ids.or(parent.ids);
                        (info, true)
                    }
                    _ => (info, false),
                }
            }
        };
        let parent = info.ppid.and_then(|ppid| self.processes.get(ppid).cloned());
        let code = exit_status_code(exit_code);
        Some(self.build(
            "end",
            "end",
            &info,
            parent.as_ref(),
            at,
            mono_ns,
            !complete,
            Some(code),
        ))
    }

    /// Reads a process from `/proc`; `complete` is false when its image
    /// (arguments, executable) could not be read.
    fn read_process(&self, pid: i32) -> (ProcessInfo, bool) {
        let mut info = ProcessInfo {
            pid,
            ..ProcessInfo::default()
        };
        // The image goes first at exit (arguments, executable and cwd are
        // unreadable from then on), stat and status only when the process
        // is reaped: read in that order, to catch short-lived ones.
        info.args = self.proc.args(pid).unwrap_or_default();
        info.executable = self.proc.exe(pid).ok();
        info.working_directory = self.proc.cwd(pid).ok();
        let stat = self.proc.stat(pid).ok();
        if let Some(s) = &stat {
            info.ppid = Some(s.ppid).filter(|p| *p > 0);
            info.start_ticks = Some(s.start_ticks);
            info.start_ms = Some(self.host.ticks_to_millis(s.start_ticks));
            info.entity_id = Some(self.entity_id(pid, s.start_ticks));
            info.pgrp = Some(s.pgrp);
            info.session = Some(s.session);
            info.name = Some(full_name(&s.comm, info.executable.as_deref(), &info.args));
        }
        info.ids = self.proc.ids(pid).ok();
        let complete = stat.is_some() && info.executable.is_some() && !info.args.is_empty();
        (info, complete)
    }

    /// The parent as it is now, or as it was when last seen if it exited
    /// (or is a zombie) since. A cached entry is used only when its start
    /// time matches the live process, so a reused pid is never mistaken.
    fn parent(&mut self, ppid: i32) -> ProcessInfo {
        match self.proc.stat(ppid) {
            Ok(stat) => {
                if let Some(known) = self.processes.get(ppid) {
                    if known.start_ticks == Some(stat.start_ticks) {
                        return known.clone();
                    }
                }
                let (info, complete) = self.read_process(ppid);
                if complete {
                    self.processes.insert(ppid, info.clone());
                }
                info
            }
            Err(_) => match self.processes.get(ppid) {
                Some(known) => known.clone(),
                None => ProcessInfo {
                    pid: ppid,
                    ..ProcessInfo::default()
                },
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        event_type: &'static str,
        action: &'static str,
        info: &ProcessInfo,
        parent: Option<&ProcessInfo>,
        at: DateTime<Utc>,
        mono_ns: u64,
        partial: bool,
        exit_code: Option<i64>,
    ) -> Result<Built, FlattenError> {
        let names = self.names(info);
        let event_id = Uuid::new_v5(
            &self.entity_ns,
            format!("{action}:{}:{mono_ns}", info.pid).as_bytes(),
        );
        let meta = Meta {
            event_type,
            action,
            event_id: &event_id.to_string(),
            timestamp: at,
            ingested: Utc::now(),
            partial,
            exit_code,
        };
        let doc = document::document(
            &meta,
            info,
            &names,
            parent,
            &self.host_json,
            &self.agent_json,
        );
        let mut event = self.flattener.event(&doc.to_string())?;
        event.index = Some(Arc::clone(&self.index));
        event.origin.file = Arc::clone(&self.origin);
        self.built += 1;
        event.origin.line = self.built;
        event.seq = self.built - 1;
        Ok(Built { event, partial })
    }

    fn names(&mut self, info: &ProcessInfo) -> IdNames {
        let Some(ids) = info.ids else {
            return IdNames::default();
        };
        let mut user = |uid| self.users.user_name(uid).map(str::to_owned);
        let (u, ru) = (user(ids.effective_uid()), user(ids.real_uid()));
        let mut group = |gid| self.users.group_name(gid).map(str::to_owned);
        let (g, rg) = (group(ids.effective_gid()), group(ids.real_gid()));
        IdNames {
            user: u,
            real_user: ru,
            group: g,
            real_group: rg,
        }
    }

    /// A stable id for one process on this host: the same pid and start
    /// time always give the same id, so a parent's id in a child's event
    /// equals the id in the parent's own event.
    fn entity_id(&self, pid: i32, start_ticks: u64) -> String {
        Uuid::new_v5(&self.entity_ns, format!("{pid}:{start_ticks}").as_bytes()).to_string()
    }
}

/// `comm` is cut at 15 bytes; when it looks cut, the executable's or the
/// first argument's base name that starts with it is the real name.
fn full_name(comm: &str, exe: Option<&str>, args: &[String]) -> String {
    if comm.len() < COMM_MAX {
        return comm.to_owned();
    }
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
    let candidates = exe
        .map(base)
        .into_iter()
        .chain(args.first().map(|a| base(a)));
    candidates
        .into_iter()
        .find(|c| c.len() > comm.len() && c.starts_with(comm))
        .unwrap_or_else(|| comm.to_owned())
}

/// The kernel's exit status (`wait(2)` encoding) as the number a shell
/// would show: the exit code, or 128 + the signal that killed it.
fn exit_status_code(status: u32) -> i64 {
    let signal = status & 0x7f;
    if signal == 0 {
        i64::from((status >> 8) & 0xff)
    } else {
        128 + i64::from(signal)
    }
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
