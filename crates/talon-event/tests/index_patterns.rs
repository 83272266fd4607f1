//! Index pattern matching, as Elasticsearch resolves a search target.

use talon_event::index::{backing_index_stream, strip_cluster, IndexPatterns};

fn p(list: &[&str]) -> IndexPatterns {
    let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    IndexPatterns::new(&owned)
}

#[test]
fn rule_index_lists_match_their_data_streams() {
    let rule = p(&[
        "auditbeat-*",
        "endgame-*",
        "logs-auditd_manager.auditd-*",
        "logs-endpoint.events.process*",
        "logs-sentinel_one_cloud_funnel.*",
    ]);
    for yes in [
        "auditbeat-8.12.0-2024.01.01",
        "endgame-8.4.0",
        "logs-endpoint.events.process-default",
        ".ds-logs-endpoint.events.process-default-2024.01.01-000001",
        ".ds-logs-sentinel_one_cloud_funnel.event-default-2025.05.16-000012",
        "logs-auditd_manager.auditd-default",
    ] {
        assert!(rule.matches(yes), "{yes}");
    }
    for no in [
        "logs-endpoint.events.network-default",
        ".ds-logs-endpoint.events.network-default-2024.01.01-000001",
        "logs-system.security-default",
        "Auditbeat-8",
        "xauditbeat-1",
    ] {
        assert!(!rule.matches(no), "{no}");
    }
}

#[test]
fn comma_lists_and_whitespace() {
    let pats = p(&["logs-a, logs-b ,", "metrics-*"]);
    assert!(pats.matches("logs-a"));
    assert!(pats.matches("logs-b"));
    assert!(pats.matches("metrics-x"));
    assert!(!pats.matches("logs-c"));
    assert_eq!(
        pats.patterns().collect::<Vec<_>>(),
        ["logs-a", "logs-b", "metrics-*"]
    );
}

#[test]
fn exclusions_apply_in_order() {
    let pats = IndexPatterns::parse("logs-*,-logs-test*");
    assert!(pats.matches("logs-prod"));
    assert!(!pats.matches("logs-test-1"));
    assert!(!pats.matches(".ds-logs-test-default-2024.01.01-000001"));
    // A later include re-includes.
    let re = IndexPatterns::parse("logs-*,-logs-test*,logs-test-keep");
    assert!(re.matches("logs-test-keep"));
    assert!(!re.matches("logs-test-drop"));
    // An exclusion first has nothing to exclude from.
    let lead = IndexPatterns::parse("-logs-test*,logs-*");
    assert!(lead.matches("logs-test-1"));
    assert!(!IndexPatterns::parse("-logs-*").matches("logs-a"));
}

#[test]
fn matching_is_case_sensitive_and_exact_without_wildcards() {
    let pats = IndexPatterns::parse("Logs-A");
    assert!(pats.matches("Logs-A"));
    assert!(!pats.matches("logs-a"));
    assert!(!pats.matches("Logs-AB"));
    assert!(IndexPatterns::parse("logs-endpoint.events.process-default")
        .matches(".ds-logs-endpoint.events.process-default-2024.01.01-000001"));
}

#[test]
fn wildcards_skip_hidden_names_unless_the_pattern_starts_with_a_dot() {
    assert!(!IndexPatterns::parse("*").matches(".kibana_1"));
    assert!(IndexPatterns::parse(".kibana*").matches(".kibana_1"));
    assert!(IndexPatterns::parse(".ds-logs-*").matches(".ds-logs-x-default-2024.01.01-000001"));
    // A backing index still answers to its (visible) stream name.
    assert!(IndexPatterns::parse("*").matches(".ds-logs-x-default-2024.01.01-000001"));
    assert!(IndexPatterns::parse("*").matches("logs-x"));
}

#[test]
fn remote_cluster_prefixes_match_on_the_index_part() {
    let pats = IndexPatterns::parse("remote:logs-*,*:metrics-*");
    assert!(pats.matches("logs-a"));
    assert!(pats.matches("metrics-b"));
    assert!(pats.matches("cluster_one:logs-a"));
    assert!(!pats.matches("cluster_one:other"));
    assert_eq!(strip_cluster("c:idx"), "idx");
    assert_eq!(strip_cluster("idx"), "idx");
}

#[test]
fn empty_star_and_all_target_everything() {
    assert!(IndexPatterns::new::<String>(&[]).matches_all());
    assert!(IndexPatterns::new::<String>(&[]).matches("anything"));
    assert!(IndexPatterns::parse("*").matches_all());
    assert!(IndexPatterns::parse("_all").matches("x"));
    assert!(!IndexPatterns::parse("*,-x").matches_all());
    assert!(!IndexPatterns::parse("logs-*").matches_all());
}

#[test]
fn backing_index_names_are_recognised_strictly() {
    assert_eq!(
        backing_index_stream(".ds-logs-endpoint.events.process-default-2024.01.01-000001"),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(
        backing_index_stream(".ds-my-stream-2099.12.31-999999"),
        Some("my-stream")
    );
    assert_eq!(backing_index_stream(".ds--2024.01.01-000001"), None);
    assert_eq!(backing_index_stream(".ds-x-2024.01.01-"), None);
    assert_eq!(backing_index_stream(".ds-x-20240101-000001"), None);
    assert_eq!(backing_index_stream("logs-x-2024.01.01-000001"), None);
}
