//! Corpus tests for the parser: every EQL detection rule must parse, and
//! every parsed query must survive a print/parse round trip unchanged
//! (spans aside). Likewise for the Elasticsearch QA queries.
//!
//! The corpus lives outside the repository: at `$TALON_CORPORA`, or at
//! `../../../shared/corpora` relative to this crate. When it is absent the
//! tests print "skipped: corpus not found at ..." and pass.

mod common;

use std::path::{Path, PathBuf};

use common::{corpus_root, round_trip};

/// How many EQL rules the detection-rules snapshot holds.
const EXPECTED_EQL_RULES: usize = 1024;

/// The `(file, query)` pairs of every EQL rule under `rules/`.
fn eql_rules(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let dir = root.join("detection-rules/rules");
    for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let entry = entry.unwrap_or_else(|e| panic!("walking {}: {e}", dir.display()));
        if entry.path().extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .unwrap_or_else(|e| panic!("reading {}: {e}", entry.path().display()));
        let doc: toml::Table = text
            .parse()
            .unwrap_or_else(|e| panic!("parsing {}: {e}", entry.path().display()));
        let Some(rule) = doc.get("rule").and_then(|r| r.as_table()) else {
            continue;
        };
        if rule.get("language").and_then(|l| l.as_str()) != Some("eql") {
            continue;
        }
        let query = rule
            .get("query")
            .and_then(|q| q.as_str())
            .unwrap_or_default();
        out.push((entry.path().to_path_buf(), query.to_string()));
    }
    out
}

#[test]
fn every_eql_detection_rule_parses_and_round_trips() {
    let Some(root) = corpus_root() else { return };
    let rules = eql_rules(&root);
    let failures: Vec<String> = rules
        .iter()
        .filter_map(|(p, q)| round_trip(&p.display().to_string(), q).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rules failed:\n{}",
        failures.len(),
        rules.len(),
        failures.join("\n")
    );
    assert_eq!(rules.len(), EXPECTED_EQL_RULES);
}

/// QA queries that Elasticsearch accepts (the uncommented `[[queries]]`).
fn qa_queries(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = root.join("es-eql-qa");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for path in files {
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let doc: toml::Table = quote_bare_nulls(&text)
            .parse()
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let Some(queries) = doc.get("queries").and_then(|q| q.as_array()) else {
            continue;
        };
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        for q in queries {
            let name = q.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            if let Some(query) = q.get("query").and_then(|q| q.as_str()) {
                out.push((format!("{file}:{name}"), query.to_string()));
            }
        }
    }
    out
}

/// The QA files write `null` in `join_keys` arrays, which TOML lacks; turn
/// those (outside `'''` query blocks) into strings so the files load.
fn quote_bare_nulls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let starts_in_block = in_block;
        if line.matches("'''").count() % 2 == 1 {
            in_block = !in_block;
        }
        if starts_in_block || in_block || line.trim_start().starts_with('#') {
            out.push_str(line);
        } else {
            out.push_str(&quote_nulls_in_line(line));
        }
        out.push('\n');
    }
    out
}

fn quote_nulls_in_line(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if quote.is_none() && rest.starts_with("null") {
            out.push_str("\"null\"");
            rest = &rest[4..];
            continue;
        }
        match quote {
            None if c == '"' || c == '\'' => quote = Some(c),
            Some(q) if q == c => quote = None,
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn every_es_qa_query_parses_and_round_trips() {
    let Some(root) = corpus_root() else { return };
    let queries = qa_queries(&root);
    let failures: Vec<String> = queries
        .iter()
        .filter_map(|(name, q)| round_trip(name, q).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} queries failed:\n{}",
        failures.len(),
        queries.len(),
        failures.join("\n")
    );
    assert!(
        queries.len() > 300,
        "only {} QA queries found",
        queries.len()
    );
}
