//! Shared test helpers: where the read-only corpora live.
//!
//! Tests read `$TALON_CORPORA` (or /work/shared/corpora) at run time and
//! skip, saying so, when it is absent, so the crate tests run anywhere.

#![allow(dead_code)]

use std::path::PathBuf;

/// The detection-rules corpus folder, or `None` (after printing why).
pub fn detection_rules() -> Option<PathBuf> {
    let root = std::env::var_os("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpora"));
    let dir = root.join("detection-rules");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// 1-based line and column (chars) of byte `pos` of `text`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, text[start..pos].chars().count() + 1)
}

/// Names of the typed `Rule` fields (plus extra/metadata) where `a` and `b`
/// differ, in declaration order. `origin` is never compared.
pub fn differing_fields(a: &talon_rules::Rule, b: &talon_rules::Rule) -> Vec<&'static str> {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => { $( if a.$f != b.$f { d.push(stringify!($f)); } )* };
    }
    cmp!(
        rule_id,
        name,
        description,
        rule_type,
        language,
        query,
        index,
        severity,
        risk_score,
        interval,
        from,
        to,
        max_signals,
        timestamp_override,
        event_category_override,
        timestamp_field,
        tiebreaker_field,
        tags,
        threat,
        note,
        setup,
        references,
        false_positives,
        author,
        license,
        building_block_type,
        version,
        enabled,
        extra,
        metadata
    );
    d
}
