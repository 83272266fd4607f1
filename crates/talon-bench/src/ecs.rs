//! The parts every Elastic Defend document shares: the envelope
//! (`@timestamp`, `agent`, `data_stream`, `event`, `host`) and the process
//! and user objects, written in the key order Defend uses.
//!
//! `data_stream.{type,dataset,namespace}` is always written, so each
//! event's index is `logs-<dataset>-default` and rules' index patterns
//! (`logs-endpoint.events.process*`, ...) route it as Elasticsearch would.

use crate::fleet::{entity_id, timestamp, Host, Os, User};
use crate::json::{object, Obj};

/// A process as it appears in `process` or `process.parent`.
#[derive(Clone, Debug)]
pub struct Proc {
    pub pid: u64,
    pub entity_id: String,
    pub executable: String,
    pub name: String,
    pub args: Vec<String>,
    pub start_ms: u64,
    pub working_directory: String,
}

impl Proc {
    pub fn new(
        host: &mut Host,
        executable: &str,
        args: Vec<String>,
        start_ms: u64,
        cwd: &str,
    ) -> Proc {
        let pid = host.pid();
        Proc {
            pid,
            entity_id: entity_id(&host.agent_id, pid, start_ms),
            name: base_name(executable, host.os).to_string(),
            executable: executable.to_string(),
            args,
            start_ms,
            working_directory: cwd.to_string(),
        }
    }

    /// Defend joins the argv with single spaces, without re-quoting.
    pub fn command_line(&self) -> String {
        self.args.join(" ")
    }

    /// The full `process` object.
    pub fn write(&self, o: &mut Obj<'_>) {
        o.strs("args", &self.args)
            .num("args_count", self.args.len() as u64)
            .str("command_line", &self.command_line())
            .str("entity_id", &self.entity_id)
            .str("executable", &self.executable)
            .str("name", &self.name)
            .num("pid", self.pid)
            .str("start", &timestamp(self.start_ms))
            .str("working_directory", &self.working_directory);
    }

    /// `process.parent`: what rules read about parents (Defend writes
    /// more, such as the parent's start and working directory).
    pub fn write_parent(&self, o: &mut Obj<'_>) {
        o.strs("args", &self.args)
            .num("args_count", self.args.len() as u64)
            .str("command_line", &self.command_line())
            .str("entity_id", &self.entity_id)
            .str("executable", &self.executable)
            .str("name", &self.name)
            .num("pid", self.pid);
    }

    /// The short form file, network and registry events carry.
    pub fn write_brief(&self, o: &mut Obj<'_>) {
        o.str("entity_id", &self.entity_id)
            .str("executable", &self.executable)
            .str("name", &self.name)
            .num("pid", self.pid);
    }
}

/// The last path component (either separator on Windows).
pub fn base_name(path: &str, os: Os) -> &str {
    let cut = match os {
        Os::Linux => path.rfind('/'),
        Os::Windows => path.rfind(['\\', '/']),
    };
    cut.map_or(path, |i| &path[i + 1..])
}

/// What the `event` object says.
pub struct EventMeta<'a> {
    pub dataset: &'static str,
    pub action: &'a str,
    pub category: &'a str,
    pub types: &'a [&'a str],
    pub id: String,
    pub sequence: u64,
}

/// One whole document: envelope first, then whatever `body` writes.
pub fn document(
    out: &mut Vec<u8>,
    host: &Host,
    ts: u64,
    ev: &EventMeta<'_>,
    body: impl FnOnce(&mut Obj<'_>),
) {
    let stamp = timestamp(ts);
    object(out, |o| {
        o.str("@timestamp", &stamp)
            .obj("agent", |a| {
                a.str("id", &host.agent_id).str("version", "8.17.3");
            })
            .obj("data_stream", |d| {
                d.str("dataset", ev.dataset)
                    .str("namespace", "default")
                    .str("type", "logs");
            })
            .obj("event", |e| {
                e.str("action", ev.action)
                    .strs("category", &[ev.category])
                    .str("dataset", ev.dataset)
                    .str("id", &ev.id)
                    .str("ingested", &timestamp(ts + 1_500 + ev.sequence % 1_000))
                    .str("kind", "event")
                    .str("module", "endpoint")
                    .num("sequence", ev.sequence)
                    .strs("type", ev.types);
            })
            .obj("host", |h| write_host(h, host));
        body(o);
    });
}

fn write_host(h: &mut Obj<'_>, host: &Host) {
    // Kernel, MAC, architecture and the duplicate `host.hostname` are left
    // out: no prebuilt rule reads them, and they would push documents well
    // past the ~1 KB the benchmark aims for.
    h.str("id", &host.id)
        .strs("ip", &host.ips)
        .str("name", &host.name)
        .obj("os", |os| {
            os.str("family", host.release.family)
                .str("full", host.release.full)
                .str("name", host.release.name)
                .str("platform", host.release.platform)
                .str("type", host.os_type())
                .str("version", host.release.version);
        });
}

pub fn write_user(o: &mut Obj<'_>, user: &User) {
    o.obj("user", |u| {
        if let Some(d) = &user.domain {
            u.str("domain", d);
        }
        u.str("id", &user.id).str("name", &user.name);
    });
}
