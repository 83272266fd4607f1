//! Rules saved with `enabled = false` (TOML) or `"enabled": false` (a
//! Kibana export) do not run, as Kibana runs none of them, unless
//! `--include-disabled`; the summary counts the rules left out.

mod common;

use std::path::Path;

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";
const CHMOD: &str = "rules/linux/privilege_escalation_setuid_setgid_bit_via_chmod.toml";

/// `rule` (a bundled rule's path) written into `dir`, disabled or not.
fn copy_rule(dir: &Path, rule: &str, enabled: Option<bool>) {
    let text = std::fs::read_to_string(repo().join(rule)).unwrap();
    let text = match enabled {
        Some(e) => text.replacen("[rule]\n", &format!("[rule]\nenabled = {e}\n"), 1),
        None => text,
    };
    let name = Path::new(rule).file_name().unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

fn hunt(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut c = talon();
    c.args(["hunt", "--format", "jsonl", "--rules"])
        .arg(dir)
        .arg(repo().join("demo/events.ndjson"))
        .args(extra);
    run(c)
}

fn rule_names(out: &std::process::Output) -> Vec<String> {
    let mut names: Vec<String> = jsonl(out)
        .iter()
        .filter_map(|a| {
            field(a, "kibana.alert.rule.name")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn a_disabled_rule_does_not_run_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    copy_rule(dir.path(), FORWARDING, Some(true));
    copy_rule(dir.path(), CHMOD, Some(false));

    let out = hunt(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        rule_names(&out),
        ["IPv4/IPv6 Forwarding Switched On via sysctl or procfs"]
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "talon: 1 rule disabled (enabled = false) left out, as Kibana would; \
             --include-disabled runs them (-v names them)"
        ),
        "{err}"
    );
    assert!(err.contains("3 alerts by 1 of 1 rule"), "{err}");

    let out = hunt(dir.path(), &["--include-disabled"]);
    assert_eq!(
        rule_names(&out),
        [
            "IPv4/IPv6 Forwarding Switched On via sysctl or procfs",
            "Setuid or Setgid Bit Set with chmod"
        ]
    );
    let alerts = jsonl(&out);
    let chmod = alerts
        .iter()
        .find(|a| {
            field(a, "kibana.alert.rule.name").and_then(|v| v.as_str())
                == Some("Setuid or Setgid Bit Set with chmod")
        })
        .unwrap();
    assert_eq!(
        field(chmod, "kibana.alert.rule.enabled"),
        Some(&serde_json::json!(false))
    );
    assert!(!stderr(&out).contains("disabled"), "{}", stderr(&out));

    // -v names the rule and its file.
    let out = hunt(dir.path(), &["-v"]);
    let err = stderr(&out);
    assert!(
        err.contains("privilege_escalation_setuid_setgid_bit_via_chmod.toml: rule \"Setuid or Setgid Bit Set with chmod\" is disabled (enabled = false) and does not run"),
        "{err}"
    );
}

#[test]
fn rules_without_enabled_run() {
    let dir = tempfile::tempdir().unwrap();
    copy_rule(dir.path(), FORWARDING, None);
    let out = hunt(dir.path(), &[]);
    assert_eq!(rule_names(&out).len(), 1);
    assert!(!stderr(&out).contains("disabled"), "{}", stderr(&out));
}

#[test]
fn a_disabled_rule_in_a_kibana_export_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |id: &str, enabled: bool| {
        serde_json::json!({
            "id": id, "rule_id": id, "name": format!("rule {id}"), "type": "eql",
            "language": "eql", "enabled": enabled, "risk_score": 21, "severity": "low",
            "description": "d", "index": ["logs-*"],
            "query": "process where process.name == \"sysctl\""
        })
        .to_string()
    };
    std::fs::write(
        dir.path().join("export.ndjson"),
        format!("{}\n{}\n", rule("on", true), rule("off", false)),
    )
    .unwrap();
    let out = hunt(dir.path(), &["--all-indices"]);
    assert_eq!(rule_names(&out), ["rule on"], "{}", stderr(&out));
    assert!(
        stderr(&out).contains("talon: 1 rule disabled"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn when_every_rule_is_disabled_nothing_runs_and_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    copy_rule(dir.path(), FORWARDING, Some(false));
    copy_rule(dir.path(), CHMOD, Some(false));
    let out = hunt(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "talon: error: every loaded rule is disabled (2 rules with enabled = false): Kibana \
         would run none; --include-disabled runs them\n"
    );
}
