//! The telemetry sources talon normalizes, their names, and recognising one
//! from the first bytes of a file.
//!
//! Detection looks at a bounded prefix only (callers pass what they peeked)
//! and never fails: `None` means "no source recognised", which the caller
//! reports. Compressed prefixes (gzip, zstd) are inflated as far as they go
//! before looking, so `audit.log.gz` is recognised like `audit.log`.

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use memchr::memmem;
use talon_event::read::Compression;

/// One kind of input talon can turn into Elastic Defend-shaped ECS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Raw Linux audit logs (`type=SYSCALL msg=audit(…): …`).
    Auditd,
    /// Auditbeat / Elastic Agent auditd-module ECS documents.
    Auditbeat,
    /// Sysmon for Linux: XML in syslog lines, or the pre-parsed `winlog.*`
    /// JSON shape.
    Sysmon,
    /// Falco JSON alerts.
    Falco,
    /// Cilium Tetragon JSON export.
    Tetragon,
    /// osquery `process_events` result logs.
    Osquery,
    /// SentinelOne Cloud Funnel raw events.
    SentinelOne,
    /// Documents that already are ECS (Elastic Defend, Endgame, …): passed
    /// through unchanged.
    Ecs,
}

/// Every source, in the order their names are listed to users.
pub const ALL_SOURCES: [Source; 8] = [
    Source::Auditd,
    Source::Auditbeat,
    Source::Sysmon,
    Source::Falco,
    Source::Tetragon,
    Source::Osquery,
    Source::SentinelOne,
    Source::Ecs,
];

impl Source {
    /// The name used on the command line (`--source auditd`).
    pub fn name(self) -> &'static str {
        match self {
            Source::Auditd => "auditd",
            Source::Auditbeat => "auditbeat",
            Source::Sysmon => "sysmon",
            Source::Falco => "falco",
            Source::Tetragon => "tetragon",
            Source::Osquery => "osquery",
            Source::SentinelOne => "sentinelone",
            Source::Ecs => "ecs",
        }
    }

    /// The `event.module` this source's events carry (provenance).
    pub fn module(self) -> &'static str {
        match self {
            Source::Auditd | Source::Auditbeat => "auditd",
            Source::Sysmon => "sysmon_linux",
            Source::Falco => "falco",
            Source::Tetragon => "tetragon",
            Source::Osquery => "osquery",
            Source::SentinelOne => "sentinel_one_cloud_funnel",
            Source::Ecs => "endpoint",
        }
    }

    /// The `event.dataset` this source's events carry (provenance), named
    /// after the Elastic integration's data stream where there is one.
    pub fn dataset(self) -> &'static str {
        match self {
            Source::Auditd | Source::Auditbeat => "auditd.log",
            Source::Sysmon => "sysmon_linux.log",
            Source::Falco => "falco.alerts",
            Source::Tetragon => "tetragon.events",
            Source::Osquery => "osquery.result",
            Source::SentinelOne => "sentinel_one_cloud_funnel.event",
            Source::Ecs => "endpoint.events.process",
        }
    }

    /// The `agent.type` of the sensor that produced the records.
    pub fn agent_type(self) -> &'static str {
        match self {
            Source::Auditd => "auditd",
            Source::Auditbeat => "auditbeat",
            Source::Sysmon => "sysmon",
            Source::Falco => "falco",
            Source::Tetragon => "tetragon",
            Source::Osquery => "osquery",
            Source::SentinelOne => "sentinelone",
            Source::Ecs => "endpoint",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--source` name that names no source.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown source {given:?}; expected one of: {}", source_names())]
pub struct UnknownSource {
    pub given: String,
}

fn source_names() -> String {
    let names: Vec<&str> = ALL_SOURCES.iter().map(|s| s.name()).collect();
    names.join(", ")
}

impl FromStr for Source {
    type Err = UnknownSource;

    /// Parses a source name, case-insensitively; a few spellings people use
    /// for the same thing are accepted (`s1`, `sysmon_linux`, `defend`).
    fn from_str(s: &str) -> Result<Source, UnknownSource> {
        let lower = s.trim().to_ascii_lowercase();
        let source = match lower.as_str() {
            "auditd" | "audit" => Source::Auditd,
            "auditbeat" | "auditd_manager" => Source::Auditbeat,
            "sysmon" | "sysmon_linux" | "sysmonforlinux" => Source::Sysmon,
            "falco" => Source::Falco,
            "tetragon" => Source::Tetragon,
            "osquery" => Source::Osquery,
            "sentinelone" | "s1" | "sentinel_one_cloud_funnel" => Source::SentinelOne,
            "ecs" | "endpoint" | "defend" | "elastic_defend" => Source::Ecs,
            _ => {
                return Err(UnknownSource {
                    given: s.to_string(),
                })
            }
        };
        Ok(source)
    }
}

/// How much of an input [`detect`] looks at.
pub const DETECT_WINDOW: usize = 1024 * 1024;

/// Recognises the source of an input from its first bytes (up to
/// [`DETECT_WINDOW`] are looked at; more is ignored).
///
/// JSON inputs are told apart by keys only one source writes
/// (`output_fields` for Falco, `process_exec` for Tetragon, `tgt.process.`
/// for SentinelOne, …); JSON that matches none of them is taken as ECS.
/// Text inputs are auditd when a line holds `msg=audit(`, Sysmon when one
/// holds a Sysmon `<Event>`; other text gives `None`.
///
/// ```
/// use talon_sources::{detect, Source};
/// let line = b"type=EXECVE msg=audit(1700000000.123:42): argc=1 a0=\"id\"\n";
/// assert_eq!(detect(line), Some(Source::Auditd));
/// assert_eq!(detect(b"{\"output_fields\":{},\"rule\":\"x\"}"), Some(Source::Falco));
/// assert_eq!(detect(b"hello"), None);
/// ```
pub fn detect(first_bytes: &[u8]) -> Option<Source> {
    let head = &first_bytes[..first_bytes.len().min(DETECT_WINDOW)];
    let inflated;
    let text: &[u8] = match inflate_prefix(head) {
        Some(bytes) => {
            inflated = bytes;
            &inflated
        }
        None => head,
    };
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let body = skip_comment_lines(text)?;
    if looks_like_json(body) {
        Some(detect_json(body))
    } else {
        detect_text(body)
    }
}

/// The text from its first line of content on: leading whitespace and `//`
/// comment lines skipped, as talon-event's reader skips them before an ECS
/// file's first document (a commented export must still pass through).
/// `None` when nothing else is there.
fn skip_comment_lines(text: &[u8]) -> Option<&[u8]> {
    let mut rest = text;
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        rest = &rest[start..];
        if !rest.starts_with(b"//") {
            return Some(rest);
        }
        let end = memchr::memchr(b'\n', rest)?;
        rest = &rest[end + 1..];
    }
}

/// An object, or an array whose first element starts like a JSON value
/// (a TOML `[section]` or `[[table]]` does not).
fn looks_like_json(body: &[u8]) -> bool {
    if body.first() == Some(&b'{') {
        return true;
    }
    let rest = body
        .iter()
        .position(|b| *b != b'[' && !b.is_ascii_whitespace());
    let Some(at) = rest else {
        return body.first() == Some(&b'[');
    };
    if body.first() != Some(&b'[') {
        return false;
    }
    let rest = &body[at..];
    let word = |w: &[u8]| {
        rest.starts_with(w)
            && rest
                .get(w.len())
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_')
    };
    matches!(rest[0], b'{' | b']' | b'"' | b'-' | b'0'..=b'9')
        || word(b"true")
        || word(b"false")
        || word(b"null")
}

fn has(hay: &[u8], needle: &str) -> bool {
    memmem::find(hay, needle.as_bytes()).is_some()
}

/// Like [`has`], but not inside a JSON string (an escaped `\"key` in an
/// `event.original` copy of another document does not count).
fn has_key(hay: &[u8], needle: &str) -> bool {
    memmem::find_iter(hay, needle.as_bytes()).any(|at| at == 0 || hay[at - 1] != b'\\')
}

fn detect_json(body: &[u8]) -> Source {
    // Documents already in an Elastic Defend data stream are ECS, whatever
    // else they hold: talon's own normalized output keeps Auditbeat's
    // `auditd.summary`, and reading `talon convert`'s output back (alone or
    // with other sources' events in one stream) must not normalize it again.
    if has_key(body, "\"endpoint.events.") {
        return Source::Ecs;
    }
    // Ordered from the most specific marker to the least: a Falco alert or
    // an Auditbeat document may well mention "process" too.
    if [
        "\"process_exec\"",
        "\"process_exit\"",
        "\"process_kprobe\"",
        "\"process_connect\"",
    ]
    .iter()
    .any(|k| has(body, k))
    {
        return Source::Tetragon;
    }
    // Elastic's Falco integration indexes an alert with its fields under a
    // `falco` object: that is ECS already (and has no top-level
    // `output_fields` for the Falco normalizer to read).
    let falco_integration = has(body, "\"falco\":") || has(body, "\"falco\" :");
    if has(body, "\"output_fields\"") && !falco_integration {
        return Source::Falco;
    }
    if has(body, "\"hostIdentifier\"")
        || (has(body, "\"unixTime\"")
            && ["\"columns\"", "\"diffResults\"", "\"snapshot\""]
                .iter()
                .any(|k| has(body, k)))
    {
        return Source::Osquery;
    }
    if has_key(body, "\"tgt.process.")
        || has_key(body, "\"src.process.")
        || has_key(body, "\"dataSource.name\"")
    {
        return Source::SentinelOne;
    }
    // Winlogbeat's Windows Sysmon documents have the same `winlog` shape and
    // `event.module: "sysmon"`, but they are ECS for the Windows rules, not
    // Sysmon for Linux: rewriting them as Linux execs would hide them.
    let windows = has(body, "Microsoft-Windows-Sysmon") || has(body, "\"windows\"");
    if has(body, "\"winlog\"") && !windows && (has(body, "Linux-Sysmon") || has(body, "\"sysmon\""))
    {
        return Source::Sysmon;
    }
    if has(body, "\"auditd\"") && (has(body, "\"messages\"") || has(body, "\"summary\"")) {
        return Source::Auditbeat;
    }
    Source::Ecs
}

fn detect_text(body: &[u8]) -> Option<Source> {
    if has(body, "msg=audit(") {
        return Some(Source::Auditd);
    }
    if has(body, "<Event") && (has(body, "Linux-Sysmon") || has(body, "<EventID>")) {
        return Some(Source::Sysmon);
    }
    None
}

/// The decompressed start of a gzip or zstd prefix, as far as it inflates
/// (a cut-off stream still yields what came before the cut).
fn inflate_prefix(head: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut limited: Box<dyn Read> = match Compression::detect(head) {
        Compression::Gzip => {
            Box::new(talon_event::read::GzMembers::new(head).take(DETECT_WINDOW as u64))
        }
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(head)
                .ok()?
                .take(DETECT_WINDOW as u64),
        ),
        Compression::None => return None,
    };
    let mut buf = [0u8; 8192];
    loop {
        match limited.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ALL_SOURCES {
            assert_eq!(s.name().parse::<Source>(), Ok(s));
        }
        assert_eq!("S1".parse::<Source>(), Ok(Source::SentinelOne));
        let err = "splunk".parse::<Source>().unwrap_err();
        assert!(
            err.to_string().contains("auditd, auditbeat, sysmon"),
            "{err}"
        );
    }

    #[test]
    fn detects_by_content() {
        assert_eq!(
            detect(b"node=h type=SYSCALL msg=audit(1.2:3): pid=1"),
            Some(Source::Auditd)
        );
        assert_eq!(
            detect(b"Oct 15 19:41:20 lsys sysmon: <Event><System><EventID>1</EventID>"),
            Some(Source::Sysmon)
        );
        assert_eq!(detect(b"{\"process_exec\":{}}"), Some(Source::Tetragon));
        assert_eq!(
            detect(b"{\"name\":\"process_events\",\"hostIdentifier\":\"h\"}"),
            Some(Source::Osquery)
        );
        assert_eq!(
            detect(b"{\"tgt.process.pid\":1}"),
            Some(Source::SentinelOne)
        );
        assert_eq!(
            detect(b"{\"@timestamp\":\"x\",\"process\":{}}"),
            Some(Source::Ecs)
        );
        assert_eq!(detect(b"   \n"), None);
        assert_eq!(detect(b"[section]\nkey = 1\n"), None);
        assert_eq!(detect(b"[[tests]]\nquery = 1\n"), None);
        assert_eq!(detect(b"[[1, 2]]"), Some(Source::Ecs));
        assert_eq!(detect(b"[ true ]"), Some(Source::Ecs));
        assert_eq!(detect(b"[{\"a\":1}]"), Some(Source::Ecs));
        assert_eq!(
            detect(br#"{"event":{"original":"{\"tgt.process.pid\":1}"}}"#),
            Some(Source::Ecs)
        );
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn winlogbeat_windows_sysmon_is_ecs_not_sysmon_for_linux() {
        // Detection used to take these for Sysmon for Linux and rewrite
        // them as Linux execs (host.os.type "linux", a Linux index).
        let windows = br#"{"event":{"module":"sysmon","code":"1"},"host":{"os":{"type":"windows"}},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","provider_name":"Microsoft-Windows-Sysmon","event_id":"1"}}"#;
        assert_eq!(detect(windows), Some(Source::Ecs));
        let no_provider = br#"{"event":{"module":"sysmon"},"host":{"os":{"family":"windows"}},"winlog":{"event_id":"1"}}"#;
        assert_eq!(detect(no_provider), Some(Source::Ecs));
        let linux = br#"{"event":{"module":"sysmon_linux"},"winlog":{"provider_name":"Linux-Sysmon","event_id":"1"}}"#;
        assert_eq!(detect(linux), Some(Source::Sysmon));
    }

    #[test]
    fn falco_alerts_indexed_by_the_integration_are_ecs() {
        let indexed = br#"{"data_stream":{"dataset":"falco.alerts"},"falco":{"rule":"r","output_fields":{"proc.pid":1}},"process":{"pid":1}}"#;
        assert_eq!(detect(indexed), Some(Source::Ecs));
        let raw =
            br#"{"output":"x","priority":"Notice","rule":"r","output_fields":{"proc.pid":1}}"#;
        assert_eq!(detect(raw), Some(Source::Falco));
    }

    #[test]
    fn documents_in_a_defend_data_stream_are_ecs() {
        // talon convert's output of an Auditbeat document: still has
        // auditd.summary, but it is Defend-shaped ECS now.
        let converted = br#"{"event":{"action":"exec"},"auditd":{"summary":{"how":"/usr/bin/id"}},"data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}}"#;
        assert_eq!(detect(converted), Some(Source::Ecs));
        let flat = br#"{"data_stream.dataset":"endpoint.events.process","auditd":{"messages":[]}}"#;
        assert_eq!(detect(flat), Some(Source::Ecs));
        // A raw Auditbeat document that only quotes such a string is not.
        let quoted = br#"{"auditd":{"summary":{}},"message":"see \"endpoint.events.process"}"#;
        assert_eq!(detect(quoted), Some(Source::Auditbeat));
    }

    #[test]
    fn comment_lines_before_the_first_document_are_skipped() {
        // talon-event reads such ECS files; detection used to see text.
        assert_eq!(
            detect(b"// exported 2024-06-10\n  // by hand\n{\"process\":{}}\n"),
            Some(Source::Ecs)
        );
        assert_eq!(
            detect(b"// note\ntype=EOE msg=audit(1.2:3):\n"),
            Some(Source::Auditd)
        );
        assert_eq!(detect(b"// only a comment"), None);
        assert_eq!(detect(b"// only a comment\n\n"), None);
    }

    #[test]
    fn detects_inside_gzip() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"type=EOE msg=audit(1.2:3):\n").unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(detect(&bytes), Some(Source::Auditd));
        // Cut short: still recognised from what inflates.
        assert_eq!(detect(&bytes[..bytes.len() - 4]), Some(Source::Auditd));
    }

    #[test]
    fn detects_inside_zstd_after_a_skippable_frame() {
        // pzstd starts its output with a skippable frame.
        let text: String = (0..200)
            .map(|n| format!("type=EOE msg=audit({n}.{}:{}):\n", n * 7, n * 13))
            .collect();
        let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        bytes.extend(zstd::encode_all(text.as_bytes(), 19).unwrap());
        // The marker is compressed: only what inflates can show it.
        assert!(!has(&bytes, "msg=audit("));
        assert_eq!(detect(&bytes), Some(Source::Auditd));
    }
}
