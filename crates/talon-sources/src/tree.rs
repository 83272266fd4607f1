//! Process-tree enrichment: parent fields from the parent's own exec event.
//!
//! auditd, Auditbeat and osquery name only the parent's pid, yet rules test
//! `process.parent.executable`, `.name`, `.args`. Every exec event seen is
//! remembered per host, by pid; a later exec event whose parent pid is
//! remembered gets the missing `process.parent.{name,executable,args,
//! args_count,command_line}` filled from it, and the names of the filled
//! fields listed in `talon.enriched` so a reader can tell observed from
//! inferred.
//!
//! Guarantees:
//! - bounded memory: at most [`TreeOptions::max_processes_per_host`]
//!   processes per host and [`TreeOptions::max_hosts`] hosts, least
//!   recently used evicted first, evictions counted;
//! - pid reuse: a later exec with the same pid replaces the entry, and a
//!   remembered process that started after the child's exec is not taken
//!   as its parent (counted as stale);
//! - fields the event already has are never overwritten.

use rustc_hash::FxHashMap;
use serde_json::Value;
use std::collections::BTreeMap;
use std::hash::Hash;

use crate::doc::{parse_date, EcsDoc, Kind};
use crate::stats::TreeStats;

/// Bounds of the process tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeOptions {
    pub max_processes_per_host: usize,
    pub max_hosts: usize,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            max_processes_per_host: 16_384,
            max_hosts: 256,
        }
    }
}

/// The parent fields the tree can fill, in the order they are listed.
const FILLED: [&str; 5] = ["name", "executable", "args", "args_count", "command_line"];

/// What is remembered of one exec.
#[derive(Clone, Debug)]
struct Proc {
    start: Option<i64>,
    fields: Vec<(&'static str, Value)>,
}

/// A least-recently-used map: lookups and inserts refresh an entry.
struct Lru<K, V> {
    map: FxHashMap<K, (V, u64)>,
    order: BTreeMap<u64, K>,
    tick: u64,
    cap: usize,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    fn new(cap: usize) -> Lru<K, V> {
        Lru {
            map: FxHashMap::default(),
            order: BTreeMap::new(),
            tick: 0,
            cap: cap.max(1),
        }
    }

    fn touch(&mut self, key: &K) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        let (v, t) = self.map.get_mut(key)?;
        self.order.remove(t);
        *t = tick;
        self.order.insert(tick, key.clone());
        Some(v)
    }

    /// Inserts or replaces; returns how many entries were evicted.
    fn insert(&mut self, key: K, value: V) -> u64 {
        self.tick += 1;
        if let Some((_, t)) = self.map.insert(key.clone(), (value, self.tick)) {
            self.order.remove(&t);
        }
        self.order.insert(self.tick, key);
        let mut evicted = 0;
        while self.map.len() > self.cap {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&oldest);
            evicted += 1;
        }
        evicted
    }
}

/// The remembered processes of every host.
pub(crate) struct ProcessTree {
    hosts: Lru<String, Lru<i64, Proc>>,
    per_host: usize,
    pub stats: TreeStats,
}

impl ProcessTree {
    pub fn new(opts: TreeOptions) -> ProcessTree {
        ProcessTree {
            hosts: Lru::new(opts.max_hosts),
            per_host: opts.max_processes_per_host,
            stats: TreeStats::default(),
        }
    }

    /// Fills a process-start event's missing parent fields, then remembers
    /// the event's own process.
    pub fn enrich(&mut self, doc: &mut EcsDoc) {
        if doc.kind != Kind::Process || !is_start(doc) {
            return;
        }
        let host = host_key(doc);
        let start = start_of(doc);
        if let Some(ppid) = doc.get_i64("process.parent.pid") {
            self.fill_parent(doc, &host, ppid, start);
        }
        if let Some(pid) = doc.get_i64("process.pid") {
            self.remember(doc, host, pid, start);
        }
    }

    fn fill_parent(&mut self, doc: &mut EcsDoc, host: &str, ppid: i64, start: Option<i64>) {
        let missing = FILLED
            .iter()
            .any(|f| !doc.has(&format!("process.parent.{f}")));
        if !missing {
            return;
        }
        let Some(parent) = self
            .hosts
            .touch(&host.to_string())
            .and_then(|procs| procs.touch(&ppid))
        else {
            self.stats.missed += 1;
            return;
        };
        if let (Some(child), Some(p)) = (start, parent.start) {
            if p > child {
                self.stats.stale += 1;
                return;
            }
        }
        let mut filled = Vec::new();
        for (field, value) in &parent.fields {
            let path = format!("process.parent.{field}");
            if !doc.has(&path) {
                doc.set(&path, value.clone());
                filled.push(path);
            }
        }
        if !filled.is_empty() {
            self.stats.enriched += 1;
            for path in filled {
                doc.push_str("talon.enriched", &path);
            }
        }
    }

    fn remember(&mut self, doc: &EcsDoc, host: String, pid: i64, start: Option<i64>) {
        let fields: Vec<(&'static str, Value)> = FILLED
            .iter()
            .filter_map(|f| doc.get(&format!("process.{f}")).map(|v| (*f, v.clone())))
            .collect();
        if fields.is_empty() {
            return;
        }
        let proc = Proc { start, fields };
        self.stats.remembered += 1;
        let per_host = self.per_host;
        if let Some(procs) = self.hosts.touch(&host) {
            self.stats.evicted += procs.insert(pid, proc);
            return;
        }
        let mut procs = Lru::new(per_host);
        procs.insert(pid, proc);
        self.stats.hosts_evicted += self.hosts.insert(host, procs);
    }
}

fn is_start(doc: &EcsDoc) -> bool {
    match doc.get("event.type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "start"),
        Some(Value::String(t)) => t == "start",
        _ => false,
    }
}

fn host_key(doc: &EcsDoc) -> String {
    ["host.name", "host.hostname", "host.id"]
        .iter()
        .find_map(|p| doc.get_str(p))
        .unwrap_or("")
        .to_string()
}

/// When the process started: `process.start` if the source knows it, else
/// the event time (the exec).
fn start_of(doc: &EcsDoc) -> Option<i64> {
    doc.get_str("process.start")
        .or_else(|| doc.get_str("@timestamp"))
        .and_then(parse_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(host: &str, pid: i64, ppid: i64, exe: &str, at: &str) -> EcsDoc {
        let mut d = EcsDoc::new(Kind::Process);
        d.set("@timestamp", at);
        d.set("event.type", vec!["start"]);
        d.set("host.name", host);
        d.set("process.pid", pid);
        d.set("process.parent.pid", ppid);
        d.executable("process", Some(exe));
        d.argv("process", &[exe.to_string(), "-x".to_string()]);
        d
    }

    #[test]
    fn fills_missing_parent_fields_and_marks_them() {
        let mut t = ProcessTree::new(TreeOptions::default());
        let mut bash = exec("h", 10, 1, "/bin/bash", "2024-01-01T00:00:00Z");
        t.enrich(&mut bash);
        let mut child = exec("h", 11, 10, "/usr/sbin/sysctl", "2024-01-01T00:00:01Z");
        child.set("process.parent.name", "keep-me");
        t.enrich(&mut child);
        assert_eq!(
            child.get_str("process.parent.executable"),
            Some("/bin/bash")
        );
        assert_eq!(child.get_str("process.parent.name"), Some("keep-me"));
        assert_eq!(
            child.get_str("process.parent.command_line"),
            Some("/bin/bash -x")
        );
        assert_eq!(child.get_i64("process.parent.args_count"), Some(2));
        let enriched = child.get("talon.enriched").cloned();
        assert_eq!(
            enriched,
            Some(serde_json::json!([
                "process.parent.executable",
                "process.parent.args",
                "process.parent.args_count",
                "process.parent.command_line"
            ]))
        );
        // Other hosts do not share pids.
        let mut other = exec("g", 12, 10, "/bin/ls", "2024-01-01T00:00:02Z");
        t.enrich(&mut other);
        assert!(!other.has("process.parent.executable"));
        assert_eq!((t.stats.enriched, t.stats.missed), (1, 2));
    }

    #[test]
    fn pid_reuse_is_resolved_by_start_time() {
        let mut t = ProcessTree::new(TreeOptions::default());
        t.enrich(&mut exec("h", 10, 1, "/bin/old", "2024-01-01T00:00:00Z"));
        t.enrich(&mut exec("h", 10, 1, "/bin/new", "2024-01-01T00:00:05Z"));
        let mut early = exec("h", 20, 10, "/bin/ls", "2024-01-01T00:00:03Z");
        t.enrich(&mut early);
        assert!(!early.has("process.parent.executable"));
        assert_eq!(t.stats.stale, 1);
        let mut late = exec("h", 21, 10, "/bin/ls", "2024-01-01T00:00:06Z");
        t.enrich(&mut late);
        assert_eq!(late.get_str("process.parent.executable"), Some("/bin/new"));
    }

    #[test]
    fn caps_evict_least_recently_used() {
        let mut t = ProcessTree::new(TreeOptions {
            max_processes_per_host: 2,
            max_hosts: 1,
        });
        for pid in 1..=3 {
            t.enrich(&mut exec("h", pid, 0, "/bin/x", "2024-01-01T00:00:00Z"));
        }
        assert_eq!(t.stats.evicted, 1);
        let mut c = exec("h", 9, 1, "/bin/y", "2024-01-01T00:00:01Z");
        t.enrich(&mut c);
        assert!(!c.has("process.parent.executable"), "pid 1 was evicted");
        t.enrich(&mut exec("g", 1, 0, "/bin/x", "2024-01-01T00:00:00Z"));
        assert_eq!(t.stats.hosts_evicted, 1);
    }
}
