//! The Elastic documentation page of the seed rule yields the same rule as
//! its TOML twin (seed-rule.fed7b216-2025-01-24.toml), except for what a
//! page cannot carry or writes differently.

mod common;

use std::path::Path;

use talon_rules::{load_paths, load_str, page_rule_id, LoadErrorKind, Rule, RuleFormat};

fn load_one(path: &Path) -> Rule {
    let report = load_paths(&[path.to_path_buf()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.rules.len(), 1);
    report.rules.into_iter().next().unwrap()
}

/// Each warning of `report` as (line, column, message).
fn warnings_at(report: &talon_rules::LoadReport) -> Vec<(usize, usize, &str)> {
    report
        .warnings
        .iter()
        .map(|w| (w.line, w.column, w.message.as_str()))
        .collect()
}

fn words(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn page_matches_its_toml_twin() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let page = load_one(&dir.join("seed-rule-page.md"));
    let toml = load_one(&dir.join("seed-rule.fed7b216-2025-01-24.toml"));

    // Exactly these differ, each for a stated reason:
    // rule_id: derived from the name (a page has none);
    // description: the TOML wraps lines, the page does not;
    // interval / max_signals: the page states the defaults (5m, 100);
    // timestamp_override: not on the page;
    // note: the page renders the guide differently (bold, `*` bullets);
    // version: the page states 102, the TOML has none (version.lock);
    // extra: the page's front matter and anchor; metadata: TOML only.
    assert_eq!(
        common::differing_fields(&toml, &page),
        [
            "rule_id",
            "description",
            "interval",
            "max_signals",
            "timestamp_override",
            "note",
            "version",
            "extra",
            "metadata"
        ]
    );
    assert_eq!(page.rule_id, page_rule_id("IPv4/IPv6 Forwarding Activity"));
    // Pinned: the derived id must never change between releases.
    assert_eq!(page.rule_id, "b434d20b-221e-5d88-9b0f-679babae12d1");
    assert_eq!(words(&page.description), words(&toml.description));
    assert_eq!(page.interval.as_deref(), Some("5m"));
    assert_eq!(page.interval_or_default(), toml.interval_or_default());
    assert_eq!(page.max_signals, Some(100));
    assert_eq!(page.max_signals_or_default(), toml.max_signals_or_default());
    assert_eq!(page.timestamp_override, None);
    assert_eq!(page.version, Some(102));
    let note = page.note.as_deref().unwrap();
    assert!(note.starts_with("**Triage and analysis**"), "{note}");
    assert!(note.ends_with("patterns associated with IP forwarding misuse."));
    assert_eq!(page.metadata.len(), 0);
    assert_eq!(
        page.extra["page_anchor"],
        "prebuilt-rule-8-17-4-ipv4-ipv6-forwarding-activity"
    );
    assert_eq!(page.extra["applies_to"]["serverless"]["security"], "all");
    assert_eq!(
        page.extra["mapped_pages"][0],
        "https://www.elastic.co/guide/en/security/current/prebuilt-rule-8-17-4-ipv4-ipv6-forwarding-activity.html"
    );
    assert_eq!(page.extra.len(), 3);

    // And the fields the brief names, spelled out.
    assert_eq!(page.name, "IPv4/IPv6 Forwarding Activity");
    assert_eq!((page.severity.as_str(), page.risk_score), ("low", 21));
    assert_eq!(
        page.index,
        [
            "logs-endpoint.events.*",
            "logs-sentinel_one_cloud_funnel.*",
            "endgame-*"
        ]
    );
    assert_eq!(page.from.as_deref(), Some("now-9m"));
    assert_eq!(page.language.as_deref(), Some("eql"));
    assert_eq!(page.tags, toml.tags);
    assert_eq!(page.threat, toml.threat);
    assert_eq!(
        page.threat[0].technique[0].reference,
        "https://attack.mitre.org/techniques/T1572/"
    );
    assert_eq!(page.query, toml.query);
    assert!(page.references.is_empty());
    assert_eq!(page.author, ["Elastic"]);
    assert_eq!(page.license.as_deref(), Some("Elastic License v2"));
}

#[test]
fn page_query_offsets_point_into_the_page() {
    let Some(dir) = common::detection_rules() else {
        return;
    };
    let path = dir.join("seed-rule-page.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let page = load_one(&path);
    let q = page.query.as_deref().unwrap();
    assert_eq!(page.origin.query_offsets.len(), q.len() + 1);
    for needle in [
        "process where host.os.type",
        "process.parent.executable != null",
        "\"wsl-bootstrap\")",
    ] {
        let qi = q.find(needle).unwrap();
        let fi = text.find(needle).unwrap();
        assert_eq!(page.origin.file_offset(qi), fi, "{needle}");
        assert_eq!(page.query_line_col(qi), common::line_col(&text, fi));
    }
    // Every query byte is the page byte it maps to.
    for (i, b) in q.bytes().enumerate() {
        assert_eq!(text.as_bytes()[page.origin.file_offset(i)], b);
    }
    // One past the end is the closing fence.
    assert!(text[page.origin.file_offset(q.len())..].starts_with("```\n"));
}

const PAGE: &str = "# Some Rule [some-rule]\n\nDoes things.\n\n**Rule type**: query\n\n**Severity**: high\n\n\
    **Risk score**: 73\n\n**References**:\n\n* [https://a.example/x](https://a.example/x)\n* https://b.example/\n\n\
    **Rule name override**: user.name\n\n## Setup [_setup_1]\n\nInstall the integration.\n\n\
    ## Rule query [_rule_query_1]\n\n```js\nevent.action:\"x\"\n```\n";

#[test]
fn query_page_defaults_and_other_labels() {
    let (rules, errors) = load_str(PAGE, Path::new("p.md"), RuleFormat::Markdown);
    assert!(errors.is_empty(), "{errors:?}");
    let r = &rules[0];
    assert_eq!(
        (r.rule_type.as_str(), r.language.as_deref()),
        ("query", Some("kuery"))
    );
    assert_eq!(r.description, "Does things.");
    assert_eq!(r.references, ["https://a.example/x", "https://b.example/"]);
    assert_eq!(r.extra["rule_name_override"], "user.name");
    assert_eq!(r.setup.as_deref(), Some("Install the integration."));
    assert_eq!(r.query.as_deref(), Some("event.action:\"x\"\n"));
    assert!(r.threat.is_empty());
}

#[test]
fn bad_page_values_are_errors_at_the_value() {
    let text = PAGE.replace("**Risk score**: 73", "**Risk score**: lots");
    let (rules, errors) = load_str(&text, Path::new("p.md"), RuleFormat::Markdown);
    assert!(rules.is_empty());
    assert_eq!(errors[0].kind, LoadErrorKind::InvalidField);
    assert_eq!((errors[0].line, errors[0].column), (9, 17));
    let text = PAGE.replace("**Severity**: high\n\n", "");
    let (_, errors) = load_str(&text, Path::new("p.md"), RuleFormat::Markdown);
    assert_eq!(errors[0].kind, LoadErrorKind::MissingField);
    assert_eq!(errors[0].message, "missing required rule field `severity`");
    assert_eq!(errors[0].line, 1);
}

/// A page saved with a byte-order mark and no front matter: its first line
/// is still its `# Title` (it was "not a rule page"), and places after the
/// mark stay where they are in the file.
#[test]
fn a_page_starting_with_a_byte_order_mark_is_a_rule_page() {
    let with_bom = format!("\u{feff}{PAGE}");
    let (rules, errors) = load_str(&with_bom, Path::new("p.md"), RuleFormat::Markdown);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules[0].name, "Some Rule");
    let (plain, _) = load_str(PAGE, Path::new("p.md"), RuleFormat::Markdown);
    assert_eq!(
        common::differing_fields(&plain[0], &rules[0]),
        Vec::<String>::new()
    );
    let text = with_bom.replace("**Risk score**: 73", "**Risk score**: lots");
    let (_, errors) = load_str(&text, Path::new("p.md"), RuleFormat::Markdown);
    assert_eq!((errors[0].line, errors[0].column), (9, 17));
}

#[test]
fn readme_in_a_folder_is_skipped_but_named_readme_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "# Rules\n\nSome notes.\n").unwrap();
    std::fs::write(dir.path().join("r.md"), PAGE).unwrap();
    let report = load_paths(&[dir.path().to_path_buf()]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.rules.len(), 1);
    assert_eq!(report.skipped.non_rule_files, 1);
    let report = load_paths(&[dir.path().join("README.md")]);
    assert_eq!(report.errors[0].kind, LoadErrorKind::NotARule);
}

/// From a fresh user: a page whose query fence is never closed reported
/// an EQL error in the MITRE text after it, with no word about the fence.
/// The fence is now named, as a warning at its line.
#[test]
fn an_unclosed_query_fence_is_named_at_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("open.md");
    let text = PAGE.trim_end_matches("```\n").to_string() + "\n### MITRE\n* Tactic: x\n";
    std::fs::write(&path, &text).unwrap();
    let report = load_paths(std::slice::from_ref(&path));
    let w = warnings_at(&report);
    assert_eq!(
        w,
        [(
            24,
            1,
            "this fence is never closed: the query runs on to the end of its section, and \
             whatever follows is read as EQL"
        )]
    );
    // A closed fence gives no warning.
    std::fs::write(&path, PAGE).unwrap();
    assert!(load_paths(&[path]).warnings.is_empty());
}

/// From a fresh user: a second query block, in the query section or in a
/// second one, was dropped without a word. The first block stays the
/// query, and the other is named as a warning at its fence.
#[test]
fn a_second_query_block_is_named_and_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("two.md");
    let message = "another query block: a rule page has one query, the first block under \
                   `## Rule query`; this one is not read";
    let second = "\nThen:\n\n```js\nevent.action:\"y\"\n```\n";
    let in_a_second_section = format!("\n## Rule query [_again]\n{second}");
    for (extra, line) in [(second.to_string(), 30), (in_a_second_section, 32)] {
        std::fs::write(&path, format!("{PAGE}{extra}")).unwrap();
        let report = load_paths(std::slice::from_ref(&path));
        let w = warnings_at(&report);
        assert_eq!(w, [(line, 1, message)], "{extra}");
        assert_eq!(
            report.rules[0].query.as_deref(),
            Some("event.action:\"x\"\n")
        );
    }
}

/// From a second fresh user: a `## ` line inside fenced code (a shell
/// comment in an example) ended the section there, so the guide lost the
/// rest of its text, and in the query fence it cut the query.
#[test]
fn a_heading_inside_fenced_code_is_code() {
    let guide = "## Investigation guide [_g]\n\nExample config:\n```\n## comment in a shell snippet\necho hi\n```\nAfter code.\n\n";
    let text = PAGE.replace("## Rule query", &format!("{guide}## Rule query"));
    let (rules, errors) = load_str(&text, Path::new("p.md"), RuleFormat::Markdown);
    assert!(errors.is_empty(), "{errors:?}");
    let note = rules[0].note.as_deref().unwrap_or_default();
    assert_eq!(
        note,
        "Example config:\n```\n## comment in a shell snippet\necho hi\n```\nAfter code."
    );
    assert_eq!(rules[0].query.as_deref(), Some("event.action:\"x\"\n"));

    let text = PAGE.replace(
        "event.action:\"x\"\n",
        "event.action:\"x\"\n## not a heading\n",
    );
    let (rules, errors) = load_str(&text, Path::new("p.md"), RuleFormat::Markdown);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rules[0].query.as_deref(),
        Some("event.action:\"x\"\n## not a heading\n")
    );
}

/// A query fence never closed runs to the end of its section, as its
/// warning says, not to the end of the page: the section after it (here
/// the guide) still loads. Skipping fenced code when looking for sections
/// had let the open fence swallow every later section.
#[test]
fn an_unclosed_query_fence_ends_with_its_section() {
    let text = PAGE.trim_end_matches("```\n").to_string()
        + "\n## Investigation guide [_g]\n\nLook at the parent.\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("open.md");
    std::fs::write(&path, &text).unwrap();
    let report = load_paths(std::slice::from_ref(&path));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert_eq!(report.rules.len(), 1, "{:?}", report.errors);
    let r = &report.rules[0];
    assert_eq!(r.note.as_deref(), Some("Look at the parent."));
    assert_eq!(r.query.as_deref(), Some("event.action:\"x\"\n\n"));
}
