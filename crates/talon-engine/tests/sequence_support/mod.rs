//! Helpers shared by the sequence and sample tests: locating the corpora,
//! reading the ES QA spec files, loading the suites' data sets the way the
//! ES harness loads them, and running a query through [`SequenceSearch`].
//!
//! The spec files are read with a small reader for the TOML subset they use
//! (`[[queries]]` tables; literal, basic and multi-line strings; integers;
//! nested arrays; comments), which also accepts the bare `null` that
//! `test_extra.toml` writes in `join_keys` (ES's own TOML reader accepts it).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use talon_engine::{ResultPosition, SequenceOptions, SequenceResult, SequenceSearch};
use talon_eql::{compile_str, CompileOptions};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::{Event, Value};

/// The shared corpora, or `None` after saying the tests skip.
pub fn corpora() -> Option<PathBuf> {
    let dir = match std::env::var_os("TALON_CORPORA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from("/work/shared/corpora"),
    };
    if dir.join("es-eql-qa").is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// A value of the TOML subset.
#[derive(Clone, Debug, PartialEq)]
pub enum TVal {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
    Arr(Vec<TVal>),
}

impl TVal {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TVal::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            TVal::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_arr(&self) -> &[TVal] {
        match self {
            TVal::Arr(a) => a,
            _ => &[],
        }
    }
}

struct Toml<'a> {
    s: &'a [u8],
    at: usize,
}

impl Toml<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn rest(&self) -> &[u8] {
        &self.s[self.at.min(self.s.len())..]
    }

    /// Skips blanks, newlines and comments.
    fn skip(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'#' {
                while self.peek().is_some_and(|c| c != b'\n') {
                    self.at += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.at += 1;
            } else {
                break;
            }
        }
    }

    fn until(&mut self, end: &str) -> Result<String, String> {
        let rest = self.rest();
        let n = rest
            .windows(end.len())
            .position(|w| w == end.as_bytes())
            .ok_or("unterminated string")?;
        let text = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.at += n + end.len();
        Ok(text)
    }

    fn value(&mut self) -> Result<TVal, String> {
        self.skip();
        let rest = self.rest();
        if rest.starts_with(b"'''") || rest.starts_with(b"\"\"\"") {
            let quote = if rest[0] == b'\'' { "'''" } else { "\"\"\"" };
            self.at += 3;
            let mut text = self.until(quote)?;
            if text.starts_with('\n') {
                text.remove(0);
            }
            return Ok(TVal::Str(text));
        }
        match self.peek() {
            Some(b'\'') => {
                self.at += 1;
                Ok(TVal::Str(self.until("'")?))
            }
            Some(b'"') => {
                self.at += 1;
                self.basic()
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                        return Ok(TVal::Arr(items));
                    }
                    items.push(self.value()?);
                    self.skip();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {}
                        other => return Err(format!("bad array at {}: {other:?}", self.at)),
                    }
                }
            }
            _ => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'+'))
                {
                    self.at += 1;
                }
                let word = String::from_utf8_lossy(&self.s[start..self.at]).replace('_', "");
                match word.as_str() {
                    "true" => Ok(TVal::Bool(true)),
                    "false" => Ok(TVal::Bool(false)),
                    "null" => Ok(TVal::Null),
                    w => w
                        .parse()
                        .map(TVal::Int)
                        .map_err(|_| format!("bad value {w:?} at {start}")),
                }
            }
        }
    }

    fn basic(&mut self) -> Result<TVal, String> {
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.at += 1;
            match c {
                b'"' => return Ok(TVal::Str(out)),
                b'\\' => {
                    let e = self.peek().ok_or("bad escape")?;
                    self.at += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'u' => {
                            let hex = String::from_utf8_lossy(
                                self.s.get(self.at..self.at + 4).ok_or("bad \\u")?,
                            )
                            .into_owned();
                            self.at += 4;
                            let cp = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                            out.push(char::from_u32(cp).ok_or("bad code point")?);
                        }
                        other => return Err(format!("unknown escape {}", other as char)),
                    }
                }
                _ => {
                    // Re-read multi-byte characters whole.
                    let start = self.at - 1;
                    let len = utf8_len(c);
                    self.at = start + len;
                    out.push_str(&String::from_utf8_lossy(
                        &self.s[start..self.at.min(self.s.len())],
                    ));
                }
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Parses the `[[queries]]` tables of a spec file.
pub fn parse_tables(text: &str) -> Result<Vec<BTreeMap<String, TVal>>, String> {
    let mut p = Toml {
        s: text.as_bytes(),
        at: 0,
    };
    let mut tables: Vec<BTreeMap<String, TVal>> = Vec::new();
    loop {
        p.skip();
        if p.peek().is_none() {
            return Ok(tables);
        }
        if p.rest().starts_with(b"[[") {
            p.until("]]")?;
            tables.push(BTreeMap::new());
            continue;
        }
        let start = p.at;
        while p
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            p.at += 1;
        }
        let key = String::from_utf8_lossy(&p.s[start..p.at]).into_owned();
        p.skip();
        if key.is_empty() || p.peek() != Some(b'=') {
            return Err(format!("expected `key =` at byte {start}"));
        }
        p.at += 1;
        let v = p.value()?;
        if let Some(t) = tables.last_mut() {
            t.insert(key, v);
        }
    }
}

/// One `[[queries]]` entry.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub query: String,
    /// Acceptable answers (usually one).
    pub expected: Vec<Vec<i64>>,
    pub join_keys: Option<Vec<String>>,
    pub size: Option<usize>,
    pub max_samples_per_key: Option<usize>,
}

pub fn load_specs(path: &Path) -> Vec<Spec> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tables = parse_tables(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tables
        .iter()
        .map(|t| {
            let ids = t.get("expected_event_ids").map(TVal::as_arr).unwrap_or(&[]);
            let expected = if ids.first().is_some_and(|v| matches!(v, TVal::Arr(_))) {
                ids.iter()
                    .map(|alt| alt.as_arr().iter().filter_map(TVal::as_int).collect())
                    .collect()
            } else {
                vec![ids.iter().filter_map(TVal::as_int).collect()]
            };
            let join_keys = t
                .get("join_keys")
                .map(|v| v.as_arr().iter().map(tval_string).collect());
            Spec {
                name: t
                    .get("name")
                    .and_then(TVal::as_str)
                    .unwrap_or("?")
                    .to_string(),
                query: t
                    .get("query")
                    .and_then(TVal::as_str)
                    .unwrap_or("")
                    .to_string(),
                expected,
                join_keys,
                size: t.get("size").and_then(TVal::as_int).map(|n| n as usize),
                max_samples_per_key: t
                    .get("max_samples_per_key")
                    .and_then(TVal::as_int)
                    .map(|n| n as usize),
            }
        })
        .collect()
}

fn tval_string(v: &TVal) -> String {
    match v {
        TVal::Str(s) => s.clone(),
        TVal::Int(i) => i.to_string(),
        TVal::Bool(b) => b.to_string(),
        TVal::Null => "null".into(),
        TVal::Arr(_) => "[..]".into(),
    }
}

/// True for sequence and sample queries (comments skipped).
pub fn is_sequence_or_sample(query: &str) -> bool {
    let mut t = query.trim_start();
    while let Some(rest) = t.strip_prefix("//") {
        t = rest
            .split_once('\n')
            .map(|(_, r)| r)
            .unwrap_or("")
            .trim_start();
    }
    t.starts_with("sequence") || t.starts_with("sample")
}

/// A suite's events and mapping.
pub struct DataSet {
    pub events: Vec<Arc<Event>>,
    pub mapping: Mapping,
    pub tiebreaker: Option<&'static str>,
    pub id_field: &'static str,
}

/// Reads JSON-array data files (in order, as one stream) with the mapping
/// file, adding the fields the data has and the mapping lacks as
/// Elasticsearch's dynamic mapping would.
pub fn load(files: &[(&Path, &str)], mapping_files: &[&Path]) -> (Vec<Event>, Mapping) {
    let mut mapping = Mapping::default();
    for m in mapping_files {
        let one = Mapping::from_es_file(m).unwrap_or_else(|e| panic!("{}: {e}", m.display()));
        mapping.merge(&one);
    }
    let mut events = Vec::new();
    for (file, index) in files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let opts = ReadOptions::default()
            .with_index(*index)
            .with_mapping(&mapping);
        let mut reader = EventReader::from_reader(
            file.display().to_string(),
            std::io::Cursor::new(bytes),
            opts,
        );
        for item in reader.by_ref() {
            match item {
                Ok(e) => events.push(e),
                Err(issue) => panic!("{}: {issue:?}", file.display()),
            }
        }
    }
    // One stream: `seq` is the input order across the files.
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    let dynamic = dynamic_mapping(&events, &mapping);
    mapping.merge(&dynamic);
    (events, mapping)
}

/// ES dynamic mapping for unmapped fields: strings are `text` with a
/// `keyword` sub-field (or `date` when they look like one), integers
/// `long`, other numbers `float`, booleans `boolean`.
fn dynamic_mapping(events: &[Event], mapping: &Mapping) -> Mapping {
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    for e in events {
        for (path, values) in e.iter() {
            if mapping.get(path).is_some() || props.contains_key(path) {
                continue;
            }
            let Some(v) = values.first() else { continue };
            let def = match v {
                Value::Str(s) if looks_like_date(s) => r#"{"type":"date"}"#.to_string(),
                Value::Str(_) => {
                    r#"{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}}"#
                        .to_string()
                }
                Value::Int(_) => r#"{"type":"long"}"#.to_string(),
                Value::Float(_) => r#"{"type":"float"}"#.to_string(),
                Value::Bool(_) => r#"{"type":"boolean"}"#.to_string(),
                Value::Null => continue,
            };
            props.insert(path.to_string(), def);
        }
    }
    let body: Vec<String> = props.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
    let text = format!("{{\"properties\":{{{}}}}}", body.join(","));
    Mapping::from_es_json(&text).unwrap_or_else(|e| panic!("dynamic mapping: {e}"))
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && talon_event::time::parse_str_nanos(s).is_some()
}

/// The endgame data set (`test_data.json`) with `@timestamp` set as the
/// ES DataLoader sets it: FILETIME → epoch ms, or for the nanos index the
/// raw digits read as epoch nanoseconds.
pub fn endgame(corpora: &Path, nanos: bool) -> DataSet {
    let qa = corpora.join("es-eql-qa");
    let mapping_name = if nanos {
        "endgame-140-nanos.mapping"
    } else {
        "endgame-140.mapping"
    };
    let index = if nanos {
        "endgame-140-nanos"
    } else {
        "endgame-140"
    };
    let (mut events, _) = load(&[(&qa.join("test_data.json"), index)], &[]);
    for e in &mut events {
        let Some(raw) = e
            .first("timestamp")
            .and_then(Value::as_f64)
            .map(|f| f as i64)
        else {
            continue;
        };
        if nanos {
            e.set(
                "@timestamp",
                std::iter::once(Value::str(&talon_event::time::format_nanos(raw))).collect(),
            );
            e.set(
                "timestamp",
                std::iter::once(Value::Int(raw / 1_000_000)).collect(),
            );
        } else {
            e.set(
                "@timestamp",
                std::iter::once(Value::Int(raw / 10_000 - 11_644_473_600_000)).collect(),
            );
        }
    }
    let file_mapping = Mapping::from_es_file(&qa.join("data").join(mapping_name))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut mapping = file_mapping.clone();
    mapping.merge(&dynamic_mapping(&events, &file_mapping));
    DataSet {
        events: events.into_iter().map(Arc::new).collect(),
        mapping,
        tiebreaker: Some("serial_event_id"),
        id_field: "serial_event_id",
    }
}

/// A data set under `es-eql-qa/data`: `names` are the `.data`/`.mapping`
/// pairs searched together.
pub fn data_set(
    corpora: &Path,
    names: &[&str],
    tiebreaker: Option<&'static str>,
    id_field: &'static str,
) -> DataSet {
    let dir = corpora.join("es-eql-qa/data");
    let data: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(format!("{n}.data")))
        .collect();
    let maps: Vec<PathBuf> = names
        .iter()
        .map(|n| dir.join(format!("{n}.mapping")))
        .collect();
    let files: Vec<(&Path, &str)> = data
        .iter()
        .zip(names)
        .map(|(p, n)| (p.as_path(), *n))
        .collect();
    let map_refs: Vec<&Path> = maps.iter().map(PathBuf::as_path).collect();
    let (events, mapping) = load(&files, &map_refs);
    DataSet {
        events: events.into_iter().map(Arc::new).collect(),
        mapping,
        tiebreaker,
        id_field,
    }
}

/// What a run returned: the flattened ids (-1 for a missing event) and the
/// flattened join keys as strings.
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub ids: Vec<i64>,
    pub join_keys: Vec<String>,
}

pub fn key_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Compiles and runs a query over the data set.
pub fn run(
    data: &DataSet,
    spec: &Spec,
    position: ResultPosition,
) -> Result<(Answer, SequenceResult), String> {
    let copts = CompileOptions {
        mapping: &data.mapping,
        event_category_field: "event.category",
        timestamp_field: "@timestamp",
        tiebreaker_field: data.tiebreaker,
    };
    let query = compile_str(&spec.query, &copts).map_err(|d| format!("{d:?}"))?;
    let opts = SequenceOptions {
        tiebreaker_field: data.tiebreaker.map(str::to_string),
        reorder_window_nanos: i64::MAX,
        reorder_max_events: usize::MAX,
        size: spec.size.unwrap_or(50),
        result_position: position,
        max_samples_per_key: spec.max_samples_per_key.unwrap_or(1),
        name: Some(spec.name.clone()),
        ..SequenceOptions::default()
    };
    let mut search = SequenceSearch::new(&query, &data.mapping, opts).map_err(|e| e.to_string())?;
    for e in &data.events {
        search.push(e);
    }
    let result = search.finish();
    let mut ids = Vec::new();
    let mut join_keys = Vec::new();
    for m in &result.sequences {
        for e in &m.events {
            ids.push(match e {
                Some(e) => e
                    .first(data.id_field)
                    .and_then(Value::as_f64)
                    .map_or(-2, |f| f as i64),
                None => -1,
            });
        }
        join_keys.extend(m.join_keys.iter().map(key_string));
    }
    Ok((Answer { ids, join_keys }, result))
}
