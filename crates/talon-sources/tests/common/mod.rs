//! Helpers shared by the integration tests: locating the shared corpora,
//! normalizing text or files, and checking the seed rule against events.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use talon_event::read::{InputSpec, ReadIssue, ReadStats};
use talon_event::{Event, Fields, Value};
use talon_sources::{NormalizeOptions, NormalizeStats, NormalizingReader, Source};

/// The shared corpora: `$TALON_CORPORA`, else `/work/shared/corpora`.
/// `None` (after printing why) when absent, so corpus tests skip.
pub fn corpora() -> Option<PathBuf> {
    let dir = std::env::var_os("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpora"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// Everything one normalizing run gave.
pub struct Run {
    pub events: Vec<Event>,
    pub issues: Vec<ReadIssue>,
    pub stats: NormalizeStats,
    /// The counts of everything yielded.
    pub read: ReadStats,
}

impl Run {
    /// The events whose `process.name` is `name`.
    pub fn named(&self, name: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| e.first_str("process.name") == Some(name))
            .collect()
    }

    /// The unreadable values the run named, as the summary lists them.
    pub fn unread_said(&self) -> Vec<String> {
        self.stats
            .unread_examples
            .iter()
            .map(|v| v.to_string())
            .collect()
    }
}

fn drain(mut reader: NormalizingReader) -> Run {
    let mut events = Vec::new();
    let mut issues = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(e) => events.push(e),
            Err(i) => issues.push(i),
        }
    }
    let stats = reader.stats();
    assert_eq!(
        stats.unaccounted(),
        0,
        "every record accounted for: {stats:?}"
    );
    let read = reader.read_stats();
    assert_eq!(
        (read.events, read.issue_count()),
        (events.len() as u64, issues.len() as u64),
        "every item yielded is counted: {read}"
    );
    Run {
        events,
        issues,
        stats,
        read,
    }
}

/// Normalizes `text` as `source` (`None`: detected).
pub fn run_text(text: &str, source: Option<Source>) -> Run {
    run_text_with(text, source, NormalizeOptions::default())
}

pub fn run_text_with(text: &str, source: Option<Source>, opts: NormalizeOptions) -> Run {
    run_bytes_with(text.as_bytes(), source, opts)
}

/// Normalizes `bytes` (which need not be UTF-8) as `source` (`None`:
/// detected).
pub fn run_bytes(bytes: &[u8], source: Option<Source>) -> Run {
    run_bytes_with(bytes, source, NormalizeOptions::default())
}

fn run_bytes_with(bytes: &[u8], source: Option<Source>, opts: NormalizeOptions) -> Run {
    drain(NormalizingReader::new(
        "test",
        std::io::Cursor::new(bytes.to_vec()),
        source,
        opts,
    ))
}

/// Normalizes one file as `source` (`None`: detected).
pub fn run_file(path: &Path, source: Option<Source>) -> Run {
    let opts = NormalizeOptions::default();
    drain(NormalizingReader::from_inputs(
        vec![InputSpec::Path(path.to_path_buf())],
        source,
        opts,
    ))
}

/// The values of a field as strings (numbers rendered), for assertions.
pub fn strs(e: &Event, path: &str) -> Vec<String> {
    e.values(path).iter().map(Value::to_string).collect()
}

/// The seed rule's query ("IPv4/IPv6 Forwarding Activity"), read from the
/// corpus at run time; `None` when the corpus is absent.
pub fn seed_query() -> Option<String> {
    let path = corpora()?.join("detection-rules/seed-rule.toml");
    let text = std::fs::read_to_string(&path).ok()?;
    let doc: toml::Value = text.parse().ok()?;
    doc.get("rule")?.get("query")?.as_str().map(str::to_string)
}

/// Whether the seed rule matches the event (and the rule routes to its
/// index); `None` when the corpus is absent.
pub fn seed_rule_fires(event: &Event) -> Option<bool> {
    let query = seed_query()?;
    let compiled = match talon_eql::compile_str(&query, &talon_eql::CompileOptions::default()) {
        Ok(q) => q,
        Err(e) => panic!("seed rule does not compile: {e:?}"),
    };
    let patterns = talon_event::index::IndexPatterns::new(&[
        "endgame-*",
        "logs-endpoint.events.process*",
        "logs-sentinel_one_cloud_funnel.*",
        "logs-crowdstrike.fdr*",
    ]);
    let routed = event.index.as_deref().is_some_and(|i| patterns.matches(i));
    Some(routed && compiled.matches(event))
}

/// Asserts whether the seed rule fires on the event (nothing to check,
/// and a note printed by [`corpora`], when the corpus is absent).
pub fn assert_fires(event: &Event, expected: bool) {
    if let Some(fires) = seed_rule_fires(event) {
        assert_eq!(fires, expected, "seed rule on {}", event.source());
    }
}
