//! Normalizers from the Linux telemetry teams actually run to Elastic
//! Defend-shaped ECS events, so prebuilt Elastic rules fire on them.
//!
//! Sources ([`Source`]): raw auditd logs, Auditbeat / Elastic Agent auditd
//! documents, Sysmon for Linux (syslog XML or `winlog.*` JSON), Falco
//! alerts, Tetragon exports, osquery `process_events` results, SentinelOne
//! Cloud Funnel raw events, and ECS passed through.
//!
//! Every normalized event is a process (or network/file) event the way
//! Elastic Defend writes one: `event.category`/`type`/`action`,
//! `process.{pid,executable,name,args,args_count,command_line,
//! working_directory}`, `process.parent.*`, `user.*`, `host.os.type:
//! "linux"`, the `logs-endpoint.events.*-<namespace>` index and
//! `data_stream.*`, plus provenance (`event.module`, `event.dataset`,
//! `agent.type` of the source). Its `source()` is the normalized ECS
//! document (nested JSON), ready for `talon convert` to write out.
//!
//! Entry points: [`detect`] and [`NormalizingReader`].
//!
//! ```
//! use talon_sources::{NormalizeOptions, NormalizingReader, Source};
//!
//! let log = concat!(
//!     "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 ",
//!     "ppid=1 pid=42 uid=0 gid=0 euid=0 comm=\"id\" exe=\"/usr/bin/id\"\n",
//!     "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"id\" a1=\"-u\"\n",
//!     "type=EOE msg=audit(1700000000.100:7):\n",
//! );
//! let mut reader = NormalizingReader::new("audit.log", log.as_bytes(), None, NormalizeOptions::default());
//! let event = reader.next().unwrap().unwrap();
//! assert_eq!(event.first_str("process.command_line"), Some("id -u"));
//! assert_eq!(event.first_str("event.action"), Some("exec"));
//! assert_eq!(event.index.as_deref(), Some("logs-endpoint.events.process-default"));
//! assert!(reader.next().is_none());
//! let stats = reader.stats();
//! assert_eq!((stats.records, stats.events, stats.merged), (3, 1, 2));
//! ```

mod auditbeat;
mod auditd;
mod doc;
mod falco;
mod input;
mod norm;
mod osquery;
mod reader;
mod sentinelone;
mod source;
mod split;
mod stats;
mod sysmon;
mod tetragon;
mod tree;

pub use auditd::AuditWindow;
pub use input::MAX_LINE;
pub use reader::{NormalizeOptions, NormalizingReader};
pub use source::{detect, Source, UnknownSource, ALL_SOURCES, DETECT_WINDOW};
pub use split::{split_shell, split_windows};
pub use stats::{
    IgnoreReason, Ignored, NormalizeStats, TreeStats, UnreadValue, ValueReason, MAX_KINDS,
};
pub use tree::TreeOptions;

/// The JSON-document normalizer of a source. The reader reads raw auditd
/// as lines and passes ECS through, so those two never get here; answering
/// "not a record" for them keeps the match total.
fn doc_normalizer(source: Source) -> Box<dyn norm::DocNormalizer> {
    match source {
        Source::Auditbeat => Box::new(auditbeat::Auditbeat),
        Source::Sysmon => Box::new(sysmon::SysmonDocs),
        Source::Falco => Box::new(falco::Falco),
        Source::Tetragon => Box::new(tetragon::Tetragon),
        Source::Osquery => Box::new(osquery::Osquery),
        Source::SentinelOne => Box::new(sentinelone::SentinelOne),
        Source::Auditd | Source::Ecs => Box::new(NotJson(source)),
    }
}

/// Answers for JSON documents handed to a source that has none.
struct NotJson(Source);

impl norm::DocNormalizer for NotJson {
    fn doc(&mut self, _doc: &serde_json::Value, line: u64, out: &mut norm::Out) {
        let detail = format!("{} input is not JSON documents", self.0);
        out.ignore(line, IgnoreReason::NotARecord, "not a record", detail);
    }
}
