//! Rule selection: each criterion any-of, all criteria together.

use std::path::Path;

use talon_engine::{RuleSelector, Severity};
use talon_rules::{load_str, Rule, RuleFormat};

fn rule(id: &str, name: &str, severity: &str, tags: &str, threat: &str, bbr: bool) -> Rule {
    let text = format!(
        "[metadata]\ncreation_date = \"2024/01/01\"\nmaturity = \"production\"\nupdated_date = \"2024/01/01\"\n\n\
         [rule]\nauthor = [\"t\"]\ndescription = \"d\"\nindex = [\"logs-*\"]\nlanguage = \"eql\"\nlicense = \"Elastic License v2\"\n\
         name = \"{name}\"\nrisk_score = 21\nrule_id = \"{id}\"\nseverity = \"{severity}\"\ntags = [{tags}]\ntype = \"eql\"\n{}\
         query = '''\nprocess where true\n'''\n{threat}",
        if bbr { "building_block_type = \"default\"\n" } else { "" }
    );
    let (mut rules, errors) = load_str(&text, Path::new("t.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    rules.remove(0)
}

const C2_PROXY: &str = "\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[[rule.threat.technique]]\nid = \"T1090\"\nname = \"Proxy\"\nreference = \"https://attack.mitre.org/techniques/T1090/\"\n[[rule.threat.technique.subtechnique]]\nid = \"T1090.003\"\nname = \"Multi-hop Proxy\"\nreference = \"https://attack.mitre.org/techniques/T1090/003/\"\n\n[rule.threat.tactic]\nid = \"TA0011\"\nname = \"Command and Control\"\nreference = \"https://attack.mitre.org/tactics/TA0011/\"\n";
const EXEC_SHELL: &str = "\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[[rule.threat.technique]]\nid = \"T1059\"\nname = \"Command and Scripting Interpreter\"\nreference = \"https://attack.mitre.org/techniques/T1059/\"\n\n[rule.threat.tactic]\nid = \"TA0002\"\nname = \"Execution\"\nreference = \"https://attack.mitre.org/tactics/TA0002/\"\n";

fn rules() -> Vec<Rule> {
    vec![
        rule(
            "a",
            "Tor Proxy Use",
            "high",
            "\"OS: Linux\", \"Tactic: Command and Control\"",
            C2_PROXY,
            false,
        ),
        rule(
            "b",
            "Shell Spawned",
            "low",
            "\"OS: Windows\"",
            EXEC_SHELL,
            false,
        ),
        rule(
            "c",
            "Shell Building Block",
            "medium",
            "\"OS: Linux\"",
            EXEC_SHELL,
            true,
        ),
        rule("d", "Critical Thing", "critical", "", "", false),
    ]
}

fn ids(sel: &RuleSelector) -> Vec<String> {
    rules()
        .into_iter()
        .filter(|r| sel.matches(r))
        .map(|r| r.rule_id)
        .collect()
}

#[test]
fn each_criterion_selects_as_documented() {
    let all = RuleSelector::default();
    assert!(all.is_empty());
    assert_eq!(ids(&all), ["a", "b", "c", "d"]);
    let tag = RuleSelector {
        tags: vec!["os: linux".into()],
        ..Default::default()
    };
    assert_eq!(ids(&tag), ["a", "c"]);
    let tactic_name = RuleSelector {
        tactics: vec!["Command and Control".into()],
        ..Default::default()
    };
    assert_eq!(ids(&tactic_name), ["a"]);
    let tactic_id = RuleSelector {
        tactics: vec!["ta0002".into()],
        ..Default::default()
    };
    assert_eq!(ids(&tactic_id), ["b", "c"]);
    // A parent technique matches a rule mapped to it (and its subs); a
    // sub-technique matches only the rules that list it.
    let parent = RuleSelector {
        techniques: vec!["T1090".into()],
        ..Default::default()
    };
    assert_eq!(ids(&parent), ["a"]);
    let sub = RuleSelector {
        techniques: vec!["T1090.003".into()],
        ..Default::default()
    };
    assert_eq!(ids(&sub), ["a"]);
    let other_sub = RuleSelector {
        techniques: vec!["T1059.004".into()],
        ..Default::default()
    };
    assert!(ids(&other_sub).is_empty());
    let sev = RuleSelector {
        severities: vec![Severity::Low, Severity::Critical],
        ..Default::default()
    };
    assert_eq!(ids(&sev), ["b", "d"]);
    let min = RuleSelector {
        min_severity: Some(Severity::High),
        ..Default::default()
    };
    assert_eq!(ids(&min), ["a", "d"]);
    let name = RuleSelector {
        rule_names: vec!["shell*".into()],
        ..Default::default()
    };
    assert_eq!(ids(&name), ["b", "c"]);
    let id = RuleSelector {
        rule_ids: vec!["d".into(), "b".into()],
        ..Default::default()
    };
    assert_eq!(ids(&id), ["b", "d"]);
    let no_bbr = RuleSelector {
        exclude_building_blocks: true,
        ..Default::default()
    };
    assert_eq!(ids(&no_bbr), ["a", "b", "d"]);
    // All criteria together.
    let both = RuleSelector {
        tags: vec!["OS: Linux".into()],
        exclude_building_blocks: true,
        ..Default::default()
    };
    assert_eq!(ids(&both), ["a"]);
    let (kept, dropped) = both.apply(rules());
    assert_eq!((kept.len(), dropped), (1, 3));
}

#[test]
fn bad_values_are_refused() {
    assert_eq!(
        talon_engine::parse_severity("severe").map_err(|e| e.to_string()),
        Err("unknown severity `severe` (expected low, medium, high or critical)".to_string())
    );
    let empty = RuleSelector {
        tags: vec![" ".into()],
        ..Default::default()
    };
    assert_eq!(
        empty.validate().map_err(|e| e.to_string()),
        Err("empty --tag value".to_string())
    );
}
