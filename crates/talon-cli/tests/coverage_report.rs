//! `talon rules --coverage`: counts by type, OS, tactic and data source,
//! and what cannot run with its reason and place.

mod common;

use common::{corpora, run, talon};

#[test]
fn coverage_of_the_corpus() {
    let Some(c) = corpora() else {
        eprintln!("skipped: no corpora (set TALON_CORPORA)");
        return;
    };
    let rules = c.join("detection-rules/rules");
    if !rules.is_dir() {
        eprintln!("skipped: {} is absent", rules.display());
        return;
    }
    let mut cmd = talon();
    cmd.args(["rules", "--coverage"]).arg(&rules);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "2068 rules: 1024 can run, 1044 cannot (1044 of an unsupported type, 0 with query errors); 128 building blocks; 0 load errors"
    );
    for want in [
        "By type:",
        "   1024  eql",
        "    454  query",
        "    241  new_terms",
        "    209  esql",
        "    106  machine_learning",
        "     28  threshold",
        "      6  threat_match",
        "By OS tag:",
        "    630  Windows",
        "    523  Linux",
        "    175  macOS",
        "By tactic:",
        "    215  TA0011 Command and Control",
        "By index pattern family:",
        "    919  logs-endpoint.*",
        // `.alerts-security.*`, Kibana's alerts (not a family `-*`).
        "      8  .alerts-*",
        "By Data Source tag:",
        "Cannot run:",
        "    454  rule type `query` is not supported yet",
        "    209  rule type `esql` is not supported yet",
    ] {
        assert!(lines.contains(&want), "missing line {want:?} in:\n{text}");
    }
}

#[test]
fn coverage_names_what_cannot_run_and_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = |name: &str, ty: &str, lang: &str, query: &str, index: &str| {
        format!(
            "[metadata]\ncreation_date = \"2024/01/01\"\nmaturity = \"production\"\nupdated_date = \"2024/01/01\"\n\n\
             [rule]\nauthor = [\"t\"]\ndescription = \"d\"\nindex = [{index}]\nlanguage = \"{lang}\"\nlicense = \"Elastic License v2\"\n\
             name = \"{name}\"\nrisk_score = 21\nrule_id = \"{name}\"\nseverity = \"low\"\ntags = [\"OS: Linux\", \"Data Source: Auditd Manager\"]\ntype = \"{ty}\"\nquery = '''\n{query}\n'''\n"
        )
    };
    std::fs::write(
        dir.path().join("a.toml"),
        rule(
            "ok",
            "eql",
            "eql",
            "process where true",
            "\"logs-auditd_manager.auditd-*\", \"auditbeat-*\"",
        ),
    )
    .expect("w");
    std::fs::write(
        dir.path().join("b.toml"),
        rule(
            "broken",
            "eql",
            "eql",
            "process where process.name = \"x\"",
            "\"auditbeat-*\"",
        ),
    )
    .expect("w");
    std::fs::write(
        dir.path().join("c.toml"),
        rule(
            "kql",
            "query",
            "kuery",
            "process.name : x",
            "\"auditbeat-*\"",
        ),
    )
    .expect("w");
    // No `index` at all: Kibana searches its default patterns, except for
    // a rule type that reads no index.
    std::fs::write(
        dir.path().join("d.toml"),
        rule("default", "eql", "eql", "process where true", "").replace("index = []\n", ""),
    )
    .expect("w");
    std::fs::write(
        dir.path().join("e.toml"),
        rule("esql", "esql", "esql", "from logs-* | limit 1", "").replace("index = []\n", ""),
    )
    .expect("w");
    let mut cmd = talon();
    cmd.args(["rules", "--coverage"]).arg(dir.path());
    let out = run(cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "5 rules: 2 can run, 3 cannot (2 of an unsupported type, 1 with query errors); 0 building blocks; 0 load errors"
    );
    for want in [
        "      5  Linux",
        "      1  (no index: Kibana's default patterns)",
        "      1  (none: `esql` rules)",
        "      3  auditbeat-*",
        "      1  logs-auditd_manager.*",
        "      5  Auditd Manager",
        "      1  rule type `query` is not supported yet",
        "      1  rule type `esql` is not supported yet",
    ] {
        assert!(lines.contains(&want), "missing line {want:?} in:\n{text}");
    }
    assert!(
        text.contains("b.toml:19:28: error: unexpected `=`"),
        "query error with its place:\n{text}"
    );
}
