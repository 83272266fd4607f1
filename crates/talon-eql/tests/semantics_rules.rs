//! Every EQL rule of the detection-rules corpus compiles (no mapping, as a
//! rule check without a cluster runs) and evaluates without panicking on
//! the corpus's sample events. Reads `$TALON_CORPORA` (default
//! /work/shared/corpora); skips when absent.

#[path = "semantics_helpers.rs"]
mod helpers;

use std::path::PathBuf;

use talon_eql::{compile_str, CompileOptions};

fn corpus() -> Option<PathBuf> {
    let base = std::env::var("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| "/work/shared/corpora".into());
    base.is_dir().then_some(base)
}

/// Documents of a JSON file: an array, one object, or search hits.
fn collect(v: &serde_json::Value, out: &mut Vec<talon_event::Event>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|i| collect(i, out)),
        serde_json::Value::Object(m) => {
            if let Some(s) = m.get("_source") {
                collect(s, out);
            } else {
                out.push(helpers::ev(v.clone()));
            }
        }
        _ => {}
    }
}

#[test]
fn corpus_rules_compile_and_evaluate() {
    let Some(base) = corpus() else {
        println!("skipped: corpus not found");
        return;
    };
    let mut events = Vec::new();
    for e in walkdir::WalkDir::new(base.join("events"))
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                collect(&v, &mut events);
            }
        }
    }
    let (mut compiled, mut failed) = (0, Vec::new());
    for e in walkdir::WalkDir::new(&base)
        .into_iter()
        .filter_map(Result::ok)
    {
        match e.path().extension() {
            Some(x) if x == "toml" => {}
            _ => continue,
        }
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let Ok(doc) = toml::from_str::<toml::Value>(&text) else {
            continue;
        };
        let Some(rule) = doc.get("rule") else {
            continue;
        };
        if rule.get("language").and_then(|l| l.as_str()) != Some("eql") {
            continue;
        }
        let Some(query) = rule.get("query").and_then(|q| q.as_str()) else {
            continue;
        };
        match compile_str(query, &CompileOptions::default()) {
            Ok(c) => {
                compiled += 1;
                for ev in &events {
                    let _ = c.matches(ev);
                    if let Some(s) = c.sequence() {
                        s.terms.iter().for_each(|t| {
                            let _ = t.matches(ev);
                        });
                    }
                }
            }
            Err(ds) => failed.push(format!("{}: {}", e.path().display(), ds[0])),
        }
    }
    println!(
        "{compiled} EQL rules compiled, {} failed, {} events",
        failed.len(),
        events.len()
    );
    for f in &failed {
        println!("  {f}");
    }
    assert!(compiled > 1000);
    assert!(failed.is_empty());
}

/// Every query text of the ES QA suites, commented-out ones included
/// (those are the legacy forms Elasticsearch rejects).
fn qa_queries(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        match e.path().extension() {
            Some(x) if x == "toml" => {}
            _ => continue,
        }
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        let plain: String = text
            .lines()
            .map(|l| l.trim_start_matches('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let mut rest = plain.as_str();
        while let Some(i) = rest.find("query = ") {
            rest = &rest[i + "query = ".len()..];
            let (open, close) = if rest.starts_with("'''") {
                ("'''", "'''")
            } else if rest.starts_with('\'') {
                ("'", "'")
            } else if rest.starts_with('"') {
                ("\"", "\"")
            } else {
                continue;
            };
            rest = &rest[open.len()..];
            if let Some(j) = rest.find(close) {
                out.push(rest[..j].to_string());
                rest = &rest[j + close.len()..];
            }
        }
    }
    out
}

#[test]
fn qa_queries_never_panic() {
    let Some(base) = corpus() else {
        println!("skipped: corpus not found");
        return;
    };
    let dir = base.join("es-eql-qa");
    let text = std::fs::read_to_string(dir.join("test_data.json")).unwrap_or_default();
    let docs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let events: Vec<talon_event::Event> = docs.into_iter().map(helpers::ev).collect();
    let queries = qa_queries(&dir);
    let (mut ok, mut rejected) = (0, 0);
    for q in &queries {
        match compile_str(q, &CompileOptions::default()) {
            Ok(c) => {
                ok += 1;
                for e in &events {
                    let _ = c.matches(e);
                }
            }
            Err(_) => rejected += 1,
        }
    }
    println!(
        "{} QA queries: {ok} compiled, {rejected} rejected",
        queries.len()
    );
    assert!(queries.len() > 300);
}
