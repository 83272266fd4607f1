//! The seed rule (both versions) loaded from detection-rules TOML, field by
//! field, and its query bytes mapped back to the file.

mod common;

use std::path::{Path, PathBuf};

use talon_rules::{load_paths, load_str, Rule, RuleFormat};

fn load_one(path: &Path) -> Rule {
    let report = load_paths(&[path.to_path_buf()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.rules.len(), 1);
    report.rules.into_iter().next().unwrap()
}

fn check_common(rule: &Rule) {
    assert_eq!(rule.name, "IPv4/IPv6 Forwarding Activity");
    assert_eq!(rule.rule_id, "5a138e2e-aec3-4240-9843-56825d0bc569");
    assert_eq!(rule.rule_type, "eql");
    assert_eq!(rule.language.as_deref(), Some("eql"));
    assert_eq!(rule.severity, "low");
    assert_eq!(rule.risk_score, 21);
    assert_eq!(rule.interval, None);
    assert_eq!(rule.interval_or_default(), "5m");
    assert_eq!(rule.from.as_deref(), Some("now-9m"));
    assert_eq!(rule.to, None);
    assert_eq!(rule.max_signals, None);
    assert_eq!(rule.max_signals_or_default(), 100);
    assert_eq!(rule.timestamp_override.as_deref(), Some("event.ingested"));
    assert_eq!(rule.author, vec!["Elastic"]);
    assert_eq!(rule.license.as_deref(), Some("Elastic License v2"));
    assert!(rule
        .note
        .as_deref()
        .unwrap()
        .starts_with("## Triage and analysis"));
    assert!(rule
        .description
        .starts_with("This rule monitors for the execution of commands"));
    assert_eq!(rule.version, None);
    assert_eq!(rule.building_block_type, None);
    assert!(rule.references.is_empty());
    assert_eq!(rule.metadata["maturity"], "production");
    assert_eq!(rule.metadata["creation_date"], "2024/11/04");
    assert!(rule.extra.is_empty(), "{:?}", rule.extra);
    assert!(!rule.is_deprecated());
    let q = rule.query.as_deref().unwrap();
    assert!(q.starts_with("process where host.os.type == \"linux\""));
    assert!(q.ends_with("\n"));
    let threat = &rule.threat;
    assert_eq!(threat.len(), 1);
    assert_eq!(threat[0].framework, "MITRE ATT&CK");
    assert_eq!(threat[0].tactic.id, "TA0011");
    assert_eq!(threat[0].tactic.name, "Command and Control");
    assert_eq!(
        threat[0].tactic.reference,
        "https://attack.mitre.org/tactics/TA0011/"
    );
}

const TAGS_OLD: [&str; 8] = [
    "Domain: Endpoint",
    "OS: Linux",
    "Use Case: Threat Detection",
    "Tactic: Command and Control",
    "Data Source: Elastic Defend",
    "Data Source: SentinelOne",
    "Data Source: Elastic Endgame",
    "Resources: Investigation Guide",
];

#[test]
fn seed_rule_current() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let rule = load_one(&dir.join("seed-rule.toml"));
    check_common(&rule);
    assert_eq!(
        rule.index,
        vec![
            "endgame-*",
            "logs-endpoint.events.process*",
            "logs-sentinel_one_cloud_funnel.*",
            "logs-crowdstrike.fdr*"
        ]
    );
    let mut tags: Vec<&str> = TAGS_OLD.to_vec();
    tags.push("Data Source: Crowdstrike");
    assert_eq!(rule.tags, tags);
    let t = &rule.threat[0].technique;
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].id.as_str(), t[0].name.as_str()), ("T1090", "Proxy"));
    assert_eq!(t[0].reference, "https://attack.mitre.org/techniques/T1090/");
    assert_eq!(t[0].subtechnique.len(), 1);
    assert_eq!(t[0].subtechnique[0].id, "T1090.001");
    assert_eq!(t[0].subtechnique[0].name, "Internal Proxy");
    assert_eq!(
        t[0].subtechnique[0].reference,
        "https://attack.mitre.org/techniques/T1090/001/"
    );
    assert_eq!(
        (t[1].id.as_str(), t[1].name.as_str()),
        ("T1572", "Protocol Tunneling")
    );
    assert_eq!(t[1].reference, "https://attack.mitre.org/techniques/T1572/");
    assert!(t[1].subtechnique.is_empty());
    assert_eq!(
        rule.metadata["integration"],
        serde_json::json!(["endpoint", "sentinel_one_cloud_funnel", "crowdstrike"])
    );
    assert_eq!(rule.metadata.get("min_stack_version"), None);
}

#[test]
fn seed_rule_brief_version() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let rule = load_one(&dir.join("seed-rule.fed7b216-2025-01-24.toml"));
    check_common(&rule);
    assert_eq!(
        rule.index,
        vec![
            "logs-endpoint.events.*",
            "logs-sentinel_one_cloud_funnel.*",
            "endgame-*"
        ]
    );
    assert_eq!(rule.tags, TAGS_OLD);
    let t = &rule.threat[0].technique;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].id, "T1572");
    assert_eq!(t[0].reference, "https://attack.mitre.org/techniques/T1572/");
    assert_eq!(rule.metadata["min_stack_version"], "8.13.0");
    assert_eq!(rule.metadata["updated_date"], "2025/01/24");
}

/// Every occurrence of `needle` in the query maps to the place in the file
/// where the same text sits, at the line and column found by searching the
/// file text itself.
fn assert_offsets(rule: &Rule, file_text: &str, needle: &str, expect_count: usize) {
    let q = rule.query.as_deref().unwrap();
    let q_hits: Vec<usize> = q.match_indices(needle).map(|(i, _)| i).collect();
    let f_hits: Vec<usize> = file_text.match_indices(needle).map(|(i, _)| i).collect();
    assert_eq!(q_hits.len(), expect_count);
    assert_eq!(
        f_hits.len(),
        expect_count,
        "needle only in the query part of the file"
    );
    for (qi, fi) in q_hits.iter().zip(&f_hits) {
        assert_eq!(rule.origin.file_offset(*qi), *fi);
        assert_eq!(rule.query_line_col(*qi), common::line_col(file_text, *fi));
    }
}

#[test]
fn query_offsets_point_into_the_file() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let path = dir.join("seed-rule.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let rule = load_one(&path);
    assert_offsets(&rule, &text, "?process.parent.executable", 2);
    assert_offsets(&rule, &text, "?process.parent.args", 2);
    // The first token of the query is on the line after `query = '''`.
    let first = text.find("process where host.os.type").unwrap();
    assert_eq!(rule.query_line_col(0), common::line_col(&text, first));
    assert_eq!(rule.query_line_col(0).1, 1);
    // One past the end maps to the closing delimiter.
    let q = rule.query.as_deref().unwrap();
    let close = text[first..].find("'''").unwrap() + first;
    assert_eq!(rule.origin.file_offset(q.len()), close);
    assert_eq!(rule.origin.query_offsets.len(), q.len() + 1);
}

#[test]
fn query_offsets_brief_version() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let path = dir.join("seed-rule.fed7b216-2025-01-24.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let rule = load_one(&path);
    assert_offsets(&rule, &text, "not process.parent.name like~", 1);
    assert_offsets(&rule, &text, "\"wsl-bootstrap\"", 1);
}

#[test]
fn basic_multiline_query_maps_through_escapes() {
    let text = "[rule]\nname = \"n\"\nrule_id = \"x\"\ntype = \"eql\"\nrisk_score = 1\nseverity = \"low\"\n\
        query = \"\"\"\nprocess where \\\n    process.name == \\\"a\\\\b\\\" and\n  true\n\"\"\"\n";
    let (rules, errors) = load_str(text, &PathBuf::from("m.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    let q = rules[0].query.as_deref().unwrap();
    assert_eq!(q, "process where process.name == \"a\\b\" and\n  true\n");
    let at = q.find("and").unwrap();
    assert_eq!(rules[0].origin.file_offset(at), text.find("and").unwrap());
    let t = q.find("true").unwrap();
    assert_eq!(
        rules[0].query_line_col(t),
        common::line_col(text, text.find("true").unwrap())
    );
    // The escaped quote maps to its backslash.
    let quote = q.find('"').unwrap();
    assert_eq!(&text[rules[0].origin.file_offset(quote)..][..2], "\\\"");
}
