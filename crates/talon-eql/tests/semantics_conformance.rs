//! A quick in-crate conformance check: the event queries of the ES QA
//! suites over the endgame dataset, with the index mapping Elasticsearch
//! would have (the mapping file plus dynamic mappings for the other fields).
//!
//! Every event query of `test_queries.toml`, `additional_test_queries.toml`
//! and `test_queries_date.toml` must give the expected ids. Reads the corpus
//! from `$TALON_CORPORA` (default /work/shared/corpora); skips when absent.

#[path = "semantics_helpers.rs"]
mod helpers;

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde_json::Value as J;
use talon_eql::{compile_str, CompileOptions, QueryKind, ResultPosition};
use talon_event::mapping::{FieldMapping, FieldType, Mapping};
use talon_event::{Event, Fields, Value};

fn corpus() -> Option<PathBuf> {
    let base = std::env::var("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| "/work/shared/corpora".into());
    let dir = base.join("es-eql-qa");
    dir.is_dir().then_some(dir)
}

/// Reads an ES QA mapping file: `#` lines dropped, the random keyword
/// placeholder read as `keyword`.
fn read_mapping(
    path: &Path,
    fields: &mut FxHashMap<String, FieldMapping>,
    aliases: &mut FxHashMap<String, String>,
) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let body = body.replace("[runtime_random_keyword_type]", "keyword");
    let json: J = serde_json::from_str(&body).unwrap_or(J::Null);
    walk_props(&json["properties"], "", fields, aliases);
}

fn walk_props(
    props: &J,
    prefix: &str,
    fields: &mut FxHashMap<String, FieldMapping>,
    aliases: &mut FxHashMap<String, String>,
) {
    let Some(map) = props.as_object() else { return };
    for (name, def) in map {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(sub) = def.get("properties") {
            walk_props(sub, &path, fields, aliases);
            continue;
        }
        let ty = def["type"].as_str().unwrap_or("object");
        if ty == "alias" {
            aliases.insert(path, def["path"].as_str().unwrap_or_default().to_string());
            continue;
        }
        let mut ft = FieldType::from_es_name(ty);
        if let FieldType::Text { .. } = ft {
            let has_kw = def.get("fields").and_then(J::as_object).is_some_and(|f| {
                f.values()
                    .any(|s| matches!(s["type"].as_str(), Some("keyword" | "wildcard")))
            });
            ft = FieldType::Text {
                has_keyword: has_kw,
            };
        }
        fields.insert(
            path,
            FieldMapping {
                ty: ft,
                null_value: None,
            },
        );
    }
}

/// Dynamic mapping for fields the mapping file does not name: strings are
/// text with a keyword sub-field, integers long, floats float, booleans
/// boolean; objects recurse.
fn add_dynamic(doc: &J, prefix: &str, fields: &mut FxHashMap<String, FieldMapping>) {
    match doc {
        J::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                add_dynamic(v, &p, fields);
            }
        }
        J::Array(items) => items.iter().for_each(|i| add_dynamic(i, prefix, fields)),
        J::Null => {}
        leaf => {
            if fields.contains_key(prefix) {
                return;
            }
            let ty = match leaf {
                J::String(_) => FieldType::Text { has_keyword: true },
                J::Bool(_) => FieldType::Boolean,
                J::Number(n) if n.is_i64() || n.is_u64() => FieldType::Long,
                _ => FieldType::Double,
            };
            fields.insert(
                prefix.to_string(),
                FieldMapping {
                    ty,
                    null_value: None,
                },
            );
        }
    }
}

struct Data {
    mapping: Mapping,
    events: Vec<(i64, i64, Event)>,
}

fn load(dir: &Path) -> Data {
    load_with(dir, "data/endgame-140.mapping", false)
}

/// The endgame data; with `nanos` the raw timestamp digits are epoch
/// nanoseconds (the `endgame-140-nanos` index), else FILETIME ticks.
fn load_with(dir: &Path, mapping_file: &str, nanos: bool) -> Data {
    let text = std::fs::read_to_string(dir.join("test_data.json")).unwrap_or_default();
    let docs: Vec<J> = serde_json::from_str(&text).unwrap_or_default();
    let mut fields = FxHashMap::default();
    let mut aliases = FxHashMap::default();
    read_mapping(&dir.join(mapping_file), &mut fields, &mut aliases);
    let mut events = Vec::new();
    for d in &docs {
        add_dynamic(d, "", &mut fields);
        let mut e = helpers::ev(d.clone());
        let raw = d["timestamp"].as_i64().unwrap_or(0);
        let ms = if nanos {
            let iso = chrono::DateTime::from_timestamp_nanos(raw)
                .format("%Y-%m-%dT%H:%M:%S%.9fZ")
                .to_string();
            e.push("@timestamp", Value::str(&iso));
            raw
        } else {
            // FILETIME (100 ns since 1601) to epoch milliseconds.
            let ms = raw / 10_000 - 11_644_473_600_000;
            e.push("@timestamp", Value::Int(ms));
            ms
        };
        let id = d["serial_event_id"].as_i64().unwrap_or(-1);
        events.push((ms, id, e));
    }
    events.sort_by_key(|(ms, id, _)| (*ms, *id));
    Data {
        mapping: Mapping::from_parts(fields, aliases),
        events,
    }
}

fn expected(q: &toml::Value) -> Option<Vec<i64>> {
    let ids = q.get("expected_event_ids")?.as_array()?;
    ids.iter().map(|v| v.as_integer()).collect()
}

/// Runs the event queries of one file; returns (passed, total, failures).
fn run_file(data: &Data, path: &Path) -> (usize, usize, Vec<String>) {
    run_file_with(data, path, "serial_event_id")
}

fn run_file_with(data: &Data, path: &Path, tiebreaker: &str) -> (usize, usize, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let doc: toml::Value = match toml::from_str(&text) {
        Ok(d) => d,
        Err(e) => return (0, 1, vec![format!("{}: {e}", path.display())]),
    };
    let queries = doc
        .get("queries")
        .and_then(|q| q.as_array())
        .cloned()
        .unwrap_or_default();
    let opts = CompileOptions {
        mapping: &data.mapping,
        tiebreaker_field: Some(tiebreaker),
        ..CompileOptions::default()
    };
    let (mut pass, mut total, mut fails) = (0, 0, Vec::new());
    for q in &queries {
        let name = q.get("name").and_then(|n| n.as_str()).unwrap_or("?");
        let text = q.get("query").and_then(|n| n.as_str()).unwrap_or("");
        let trimmed = text.trim_start();
        if trimmed.starts_with("sequence")
            || trimmed.starts_with("sample")
            || trimmed.starts_with("join")
        {
            continue;
        }
        let Some(want) = expected(q) else { continue };
        total += 1;
        let compiled = match compile_str(text, &opts) {
            Ok(c) => c,
            Err(ds) => {
                fails.push(format!(
                    "{name}: compile error: {}",
                    ds.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
                continue;
            }
        };
        if compiled.kind() != QueryKind::Event {
            total -= 1;
            continue;
        }
        let mut got: Vec<i64> = data
            .events
            .iter()
            .filter(|(_, _, e)| compiled.matches(e as &dyn Fields))
            .map(|(_, id, _)| *id)
            .collect();
        let size = q
            .get("size")
            .and_then(|s| s.as_integer())
            .unwrap_or(50)
            .max(0) as u64;
        if got.len() as u64 > size {
            println!(
                "  note: {name} has {} matches, more than size {size}",
                got.len()
            );
        }
        // The pipes and `size` as one window, as Elasticsearch applies
        // them; past `size`, Elasticsearch's default position, tail, decides.
        compiled.window(size, ResultPosition::Tail).apply(&mut got);
        if got == want {
            pass += 1;
        } else {
            fails.push(format!("{name}: want {want:?} got {got:?}"));
        }
    }
    (pass, total, fails)
}

#[test]
fn endgame_event_queries_match_elasticsearch() {
    let Some(dir) = corpus() else {
        println!("skipped: corpus not found");
        return;
    };
    let data = load(&dir);
    assert_eq!(data.events.len(), 102);
    let mut all_fails = Vec::new();
    for f in [
        "test_queries.toml",
        "additional_test_queries.toml",
        "test_queries_date.toml",
    ] {
        let (pass, total, fails) = run_file(&data, &dir.join(f));
        println!("{f}: {pass}/{total} event queries pass");
        for x in &fails {
            println!("  FAIL {x}");
        }
        all_fails.extend(fails);
    }
    assert!(
        all_fails.is_empty(),
        "{} event queries differ from Elasticsearch",
        all_fails.len()
    );
}

#[test]
fn endgame_nanos_event_queries_match_elasticsearch() {
    let Some(dir) = corpus() else {
        println!("skipped: corpus not found");
        return;
    };
    let data = load_with(&dir, "data/endgame-140-nanos.mapping", true);
    let mut all_fails = Vec::new();
    for f in ["test_queries_date_nanos.toml", "test_queries.toml"] {
        let (pass, total, fails) = run_file(&data, &dir.join(f));
        println!("{f} (nanos index): {pass}/{total} event queries pass");
        for x in &fails {
            println!("  FAIL {x}");
        }
        all_fails.extend(fails);
    }
    assert!(
        all_fails.is_empty(),
        "{} event queries differ from Elasticsearch",
        all_fails.len()
    );
}

/// The `extra` index: explicit nulls of a field with `null_value` are
/// indexed as that value, `@timestamp` strings are epoch milliseconds.
fn load_extra(dir: &Path) -> Data {
    let text = std::fs::read_to_string(dir.join("data/extra.data")).unwrap_or_default();
    let docs: Vec<J> = serde_json::from_str(&text).unwrap_or_default();
    let mut fields = FxHashMap::default();
    let mut aliases = FxHashMap::default();
    read_mapping(&dir.join("data/extra.mapping"), &mut fields, &mut aliases);
    // The mapping's null_value for optional_field_default_null.
    let mapping_text = std::fs::read_to_string(dir.join("data/extra.mapping")).unwrap_or_default();
    let mapping_json: J =
        serde_json::from_str(&mapping_text.replace("[runtime_random_keyword_type]", "keyword"))
            .unwrap_or(J::Null);
    let mut null_values = Vec::new();
    if let Some(props) = mapping_json["properties"].as_object() {
        for (name, def) in props {
            if let Some(nv) = def.get("null_value").and_then(J::as_str) {
                null_values.push((name.clone(), nv.to_string()));
            }
        }
    }
    let mut events = Vec::new();
    for d in &docs {
        add_dynamic(d, "", &mut fields);
        let mut e = helpers::ev(d.clone());
        for (name, nv) in &null_values {
            if d.get(name).is_some_and(J::is_null) {
                e.push(name, Value::str(nv));
            }
        }
        let ms: i64 = d["@timestamp"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        let id = d["sequence"].as_i64().unwrap_or(-1);
        events.push((ms, id, e));
    }
    events.sort_by_key(|(ms, id, _)| (*ms, *id));
    Data {
        mapping: Mapping::from_parts(fields, aliases),
        events,
    }
}

#[test]
fn extra_event_queries_match_elasticsearch() {
    let Some(dir) = corpus() else {
        println!("skipped: corpus not found");
        return;
    };
    let data = load_extra(&dir);
    // test_extra.toml has bare `null`s in join_keys that strict TOML rejects;
    // only the event queries matter here, so quote them.
    let text = std::fs::read_to_string(dir.join("test_extra.toml")).unwrap_or_default();
    let fixed = text
        .replace("[null]", "[\"null\"]")
        .replace(", null]", ", \"null\"]")
        .replace("[null,", "[\"null\",");
    let tmp = std::env::temp_dir().join(format!("talon-eql-extra-{}.toml", std::process::id()));
    let _ = std::fs::write(&tmp, fixed);
    let (pass, total, fails) = run_file_with(&data, &tmp, "sequence");
    let _ = std::fs::remove_file(&tmp);
    println!("test_extra.toml: {pass}/{total} event queries pass");
    for x in &fails {
        println!("  FAIL {x}");
    }
    assert!(total >= 6);
    assert!(
        fails.is_empty(),
        "{} event queries differ from Elasticsearch",
        fails.len()
    );
}
