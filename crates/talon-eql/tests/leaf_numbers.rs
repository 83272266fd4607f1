//! Leaves that share a memo number (`Leaf::memo_key`) share their answers
//! through `Memo`, within an event and, for wildcard and regex tests,
//! across events: two leaves may share a number only when they answer
//! alike on every event.

#[path = "semantics_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::json;
use talon_eql::eval::Memo;
use talon_eql::{compile_str, CompileOptions};

/// Every query's answer on every event, evaluated in one engine's way
/// (leaves numbered together, one memo), equals its answer alone.
fn shared_answers_equal_alone(queries: &[&str], events: &[serde_json::Value]) {
    let mut numbers = rustc_hash::FxHashMap::default();
    let compiled: Vec<_> = queries
        .iter()
        .map(|q| {
            let mut c = compile_str(q, &CompileOptions::default()).expect(q);
            c.number_leaves(&mut numbers);
            c
        })
        .collect();
    let mut memo = Memo::default();
    // Twice over, so the second pass meets every string again.
    for doc in events.iter().chain(events) {
        let e = ev(doc.clone());
        memo.reset(numbers.len());
        for (q, c) in queries.iter().zip(&compiled) {
            assert_eq!(c.matches_memo(&e, &mut memo), c.matches(&e), "{q} on {doc}");
        }
    }
}

#[test]
fn starts_with_and_a_like_prefix_are_numbered_apart() {
    // `startsWith` on a field is a prefix query: its `*` is a literal.
    shared_answers_equal_alone(
        &[
            r#"process where process.name like "cmd*""#,
            r#"process where startsWith(process.name, "cmd*")"#,
        ],
        &[json!({"event.category": "process", "process.name": "cmd.exe"})],
    );
}

#[test]
fn ends_with_escapes_and_a_like_backslash_are_numbered_apart() {
    // `endsWith` is a Lucene wildcard query, where `\x` is `x`; `like`
    // has no escapes, so `*\x` ends with a backslash and an x.
    shared_answers_equal_alone(
        &[
            r#"process where process.name like "*\\x""#,
            r#"process where endsWith(process.name, "\\x")"#,
        ],
        &[json!({"event.category": "process", "process.name": "ax"})],
    );
}
