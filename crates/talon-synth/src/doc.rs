//! Everything about a generated document that is not the rule's
//! condition: the index it belongs to, timestamps, ids, a plausible host,
//! the labels, and turning an assignment into ECS-shaped nested JSON.
//!
//! The index is chosen from the rule's index patterns, data-stream shaped
//! ones (`logs-<dataset>-<namespace>`) first, and carried as `data_stream.*`
//! fields, which is how the readers derive an event's index; any other
//! pattern (`winlogbeat-*`) becomes a search hit `{"_index", "_source"}`.
//! Context fields are only added where the query reads nothing, so they
//! can never change whether the rule matches. Every document is read back
//! through the real event reader before anyone sees it.

use std::collections::BTreeSet;

use serde_json::{Map, Value as J};
use talon_eql::CompiledQuery;
use talon_event::index::IndexPatterns;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::{Event, Value};
use talon_rules::Rule;

use crate::goal::Assignment;
use crate::values::{fnv, iso, Ctx, Os};
use crate::{SynthError, SynthOptions};

/// 2025-01-01T00:00:00Z, the first generated timestamp for seed 0.
const BASE_SECS: i64 = 1_735_689_600;
const SEC: i64 = 1_000_000_000;

/// Filler words, one per seed.
const WORDS: &[&str] = &[
    "synth", "alpha", "bravo", "delta", "kilo", "oscar", "tango", "zulu",
];

/// Where a document goes: a data stream or a plain index name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Stream {
        ty: String,
        dataset: String,
        namespace: String,
    },
    Raw(String),
}

impl Target {
    pub fn name(&self) -> String {
        match self {
            Target::Stream {
                ty,
                dataset,
                namespace,
            } => format!("{ty}-{dataset}-{namespace}"),
            Target::Raw(n) => n.clone(),
        }
    }
}

/// What every document of one rule shares.
pub(crate) struct Setting {
    pub ctx: Ctx,
    pub patterns: IndexPatterns,
    pattern_list: Vec<String>,
    referenced: BTreeSet<String>,
    ts_field: String,
    base_nanos: i64,
    id_base: u64,
}

impl Setting {
    pub fn new(rule: &Rule, query: &CompiledQuery, opts: &SynthOptions) -> Setting {
        let word = WORDS[(opts.seed % WORDS.len() as u64) as usize].to_string();
        let offset = (opts.seed % 100_000) as i64 * 60;
        Setting {
            ctx: Ctx {
                os: os_of(rule),
                word,
                seed: opts.seed,
            },
            patterns: IndexPatterns::new(&rule.index),
            pattern_list: rule
                .index
                .iter()
                .flat_map(|l| l.split(','))
                .map(|p| p.trim().to_string())
                .collect(),
            referenced: query.referenced_fields().into_iter().collect(),
            ts_field: rule
                .timestamp_field
                .clone()
                .unwrap_or_else(|| "@timestamp".to_string()),
            base_nanos: (BASE_SECS + offset) * SEC,
            id_base: fnv(&rule.rule_id) ^ opts.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }

    /// The timestamp of document `n` when documents are `step` apart.
    pub fn time(&self, n: u64, step: i64) -> i64 {
        self.base_nanos
            .saturating_add(step.saturating_mul(n as i64))
    }

    /// The index a document of this category goes to.
    pub fn target(&self, category: Option<&str>) -> Result<Target, SynthError> {
        let mut candidates: Vec<Target> = Vec::new();
        let positive = self.pattern_list.iter().filter(|p| !p.starts_with('-'));
        let (streams, others): (Vec<&String>, Vec<&String>) =
            positive.partition(|p| stream_shaped(p));
        // A data stream named after the category first (`...events.process*`
        // for a process event).
        let (named, unnamed): (Vec<&String>, Vec<&String>) = streams
            .into_iter()
            .partition(|p| category.is_some_and(|c| p.contains(&format!(".{c}"))));
        for p in named.into_iter().chain(unnamed).chain(others) {
            candidates.push(target_of(p, category));
        }
        if self.pattern_list.is_empty() {
            candidates.push(target_of("logs-generic-default", None));
        }
        candidates
            .into_iter()
            .find(|t| self.patterns.matches(&t.name()))
            .ok_or_else(|| SynthError::NoIndex(self.pattern_list.join(", ")))
    }

    /// The data stream a document goes to, as `data_stream.*` fields: the
    /// target's parts where the query leaves them free, the assignment's
    /// where it sets them, if the resulting name is one the rule searches.
    /// `None` when the index has to be given as a hit's `_index` instead.
    fn stream_for(&self, a: &Assignment, target: &Target) -> Option<(String, String, String)> {
        let Target::Stream {
            ty,
            dataset,
            namespace,
        } = target
        else {
            return None;
        };
        let part = |p: &str, default: &str| -> Option<String> {
            match a.get(p).map(Vec::as_slice) {
                Some([Value::Str(v)]) => Some(v.to_string()),
                Some(_) => None,
                None if self.referenced.contains(p) => None,
                None => Some(default.to_string()),
            }
        };
        let (t, d, n) = (
            part("data_stream.type", ty)?,
            part("data_stream.dataset", dataset)?,
            part("data_stream.namespace", namespace)?,
        );
        self.patterns
            .matches(&format!("{t}-{d}-{n}"))
            .then_some((t, d, n))
    }

    /// The document for an assignment: the query's fields, then context
    /// fields where the query reads nothing, then the labels.
    pub fn build(
        &self,
        a: &Assignment,
        n: u64,
        ts: i64,
        target: &Target,
        labels: &[(&str, J)],
    ) -> J {
        let mut flat: Vec<(String, J)> = a
            .iter()
            .map(|(p, v)| (p.clone(), json_values(p, v)))
            .collect();
        let free = |p: &str| !self.referenced.contains(p) && !a.contains_key(p);
        let mut add = |p: &str, v: J| {
            if free(p) {
                flat.push((p.to_string(), v));
            }
        };
        add(&self.ts_field, J::from(iso(ts)));
        add("event.ingested", J::from(iso(ts)));
        add(
            "event.id",
            J::from(format!("{:016x}", self.id_base.wrapping_add(n))),
        );
        add("event.kind", J::from("event"));
        // Host fields only for rules about a host (cloud and SaaS logs have
        // none).
        if let Some(os) = self.ctx.os.ecs_type() {
            add("host.os.type", J::from(os));
            add(
                "host.name",
                J::from(format!("synth-host-{}", self.ctx.seed % 9000)),
            );
        }
        let mut hit_index = None;
        match self.stream_for(a, target) {
            Some((ty, dataset, namespace)) => {
                let parts = [
                    ("data_stream.type", ty),
                    ("data_stream.dataset", dataset.clone()),
                    ("data_stream.namespace", namespace),
                ];
                for (p, v) in parts {
                    add(p, J::from(v));
                }
                add("event.dataset", J::from(dataset));
            }
            None => {
                if let Target::Stream { dataset, .. } = target {
                    add("event.dataset", J::from(dataset.as_str()));
                }
                hit_index = Some(target.name());
            }
        }
        flat.sort_by(|x, y| x.0.cmp(&y.0));
        let mut root = Map::new();
        if let Some(pos) = flat.iter().position(|(p, _)| *p == self.ts_field) {
            let (p, v) = flat.remove(pos);
            insert(&mut root, &p.split('.').collect::<Vec<_>>(), v);
        }
        for (p, v) in flat {
            insert(&mut root, &p.split('.').collect::<Vec<_>>(), v);
        }
        for (p, v) in labels {
            insert(&mut root, &p.split('.').collect::<Vec<_>>(), v.clone());
        }
        match hit_index {
            Some(index) => {
                let mut hit = Map::new();
                hit.insert("_index".to_string(), J::from(index));
                hit.insert("_source".to_string(), J::Object(root));
                J::Object(hit)
            }
            None => J::Object(root),
        }
    }
}

/// The document as `talon hunt` reads it: one event, with its index.
pub(crate) fn read_back(doc: &J) -> Result<Event, SynthError> {
    let text = doc.to_string();
    let reader = EventReader::from_reader(
        "synth",
        std::io::Cursor::new(text.into_bytes()),
        ReadOptions::default(),
    );
    let (mut events, stats) = reader.read_all();
    if events.len() != 1 {
        let why = stats
            .issues
            .first()
            .map(|i| i.to_string())
            .unwrap_or_else(|| format!("{} events", events.len()));
        return Err(SynthError::ReadBack(why));
    }
    events
        .pop()
        .ok_or_else(|| SynthError::ReadBack("no event".to_string()))
}

fn os_of(rule: &Rule) -> Os {
    for t in &rule.tags {
        match t.as_str() {
            "OS: Linux" => return Os::Linux,
            "OS: Windows" => return Os::Windows,
            "OS: macOS" => return Os::Macos,
            _ => {}
        }
    }
    let idx = rule.index.join(",");
    if idx.contains("winlog") || idx.contains("windows") {
        Os::Windows
    } else {
        Os::Unknown
    }
}

fn stream_shaped(p: &str) -> bool {
    let p = talon_event::index::strip_cluster(p);
    ["logs-", "metrics-", "traces-"]
        .iter()
        .any(|t| p.starts_with(t))
        && p.len() > 5
}

/// A concrete index from a pattern: data-stream shaped patterns become a
/// data stream (the dataset's open end filled with the category), others
/// a plain name with `*` filled.
fn target_of(pattern: &str, category: Option<&str>) -> Target {
    let p = talon_event::index::strip_cluster(pattern);
    if stream_shaped(p) {
        let (ty, rest) = p.split_once('-').unwrap_or(("logs", ""));
        let (ds, ns) = rest.split_once('-').unwrap_or((rest, ""));
        let mut dataset = ds.to_string();
        if let Some(stem) = dataset.strip_suffix('*') {
            dataset = if stem.ends_with('.') {
                format!("{stem}{}", category.unwrap_or("synth"))
            } else {
                stem.to_string()
            };
        }
        let dataset = dataset.replace('*', "synth");
        let dataset = if dataset.is_empty() {
            "generic".to_string()
        } else {
            dataset
        };
        let namespace = ns.replace('*', "");
        let namespace = if namespace.is_empty() {
            "default".to_string()
        } else {
            namespace
        };
        return Target::Stream {
            ty: ty.to_string(),
            dataset,
            namespace,
        };
    }
    Target::Raw(p.replace('*', "synth"))
}

/// ECS fields that are arrays by definition; written as arrays even with
/// one value (which reads the same), as the agents write them.
const ARRAYS: &[&str] = &[
    "event.category",
    "event.type",
    "process.args",
    "process.parent.args",
    "host.ip",
    "host.mac",
    "related.ip",
    "related.user",
    "related.hosts",
    "related.hash",
    "tags",
];

fn json_values(path: &str, v: &[Value]) -> J {
    let one = |x: &Value| match x {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or_else(|| J::from(f.to_string())),
        Value::Str(s) => J::from(&**s),
    };
    match v {
        [x] if !ARRAYS.contains(&path) => one(x),
        many => J::Array(many.iter().map(one).collect()),
    }
}

/// Inserts a dotted path as nested objects; where a shorter path already
/// holds a value, the rest is kept as one dotted key (readers flatten both
/// spellings to the same field).
fn insert(obj: &mut Map<String, J>, segs: &[&str], v: J) {
    let Some((first, rest)) = segs.split_first() else {
        return;
    };
    if rest.is_empty() {
        obj.insert((*first).to_string(), v);
        return;
    }
    match obj.get(*first) {
        None => {
            obj.insert((*first).to_string(), J::Object(Map::new()));
        }
        Some(J::Object(_)) => {}
        Some(_) => {
            obj.insert(segs.join("."), v);
            return;
        }
    }
    if let Some(J::Object(m)) = obj.get_mut(*first) {
        insert(m, rest, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_names_follow_the_pattern_shape() {
        let t = |p: &str, c: Option<&str>| target_of(p, c).name();
        assert_eq!(
            t("logs-endpoint.events.process*", Some("process")),
            "logs-endpoint.events.process-default"
        );
        assert_eq!(
            t("logs-endpoint.events.*", Some("file")),
            "logs-endpoint.events.file-default"
        );
        assert_eq!(
            t("logs-aws.cloudtrail-*", None),
            "logs-aws.cloudtrail-default"
        );
        assert_eq!(t("logs-*", None), "logs-generic-default");
        assert_eq!(t("winlogbeat-*", None), "winlogbeat-synth");
        assert_eq!(t(".alerts-security.*", None), ".alerts-security.synth");
    }

    #[test]
    fn nested_insert_keeps_clashing_paths_dotted() {
        let mut m = Map::new();
        insert(&mut m, &["a", "b"], J::from(1));
        insert(&mut m, &["a", "b", "c"], J::from(2));
        assert_eq!(J::Object(m).to_string(), r#"{"a":{"b":1,"b.c":2}}"#);
    }
}
