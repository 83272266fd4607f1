//! Rule selection flags on hunt, check and rules, over the bundled rules
//! (5 Linux rules: tactics TA0011 x3, TA0002 x2, TA0003, TA0004, TA0005;
//! severities low x2, medium x2, high) and, when present, the corpus.

mod common;

use common::{corpora, jsonl, run, talon};

fn stdout_of(args: &[&str]) -> (String, String, Option<i32>) {
    let mut cmd = talon();
    cmd.args(args);
    let out = run(cmd);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn hunt_keeps_only_the_selected_rules() {
    let mut cmd = talon();
    cmd.args(["hunt", "--format", "jsonl", "--min-severity", "medium"]);
    let out = run(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    let names: Vec<String> = jsonl(&out)
        .iter()
        .filter_map(|a| {
            a.get("kibana.alert.rule.name")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    assert_eq!(
        names,
        [
            "Remote Script Piped from curl or wget into a Shell",
            "Reverse Shell via /dev/tcp Stream Redirection",
            "Setuid or Setgid Bit Set with chmod"
        ]
    );
    assert!(
        err.contains("talon: selected 3 of 5 rules (2 left out by the selection)"),
        "{err}"
    );

    let mut cmd = talon();
    cmd.args([
        "hunt",
        "--format",
        "jsonl",
        "--severity",
        "low",
        "--rule-name",
        "*forwarding*",
    ]);
    assert_eq!(jsonl(&run(cmd)).len(), 3);
}

#[test]
fn rules_lists_what_the_flags_select() {
    let (out, _, code) = stdout_of(&[
        "rules",
        "--tactic",
        "command and control",
        "--severity",
        "low",
        "--severity",
        "medium",
    ]);
    assert_eq!(code, Some(0));
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.rsplit("  ").next().unwrap_or(l).trim())
        .collect();
    assert_eq!(names.len(), out.lines().count());
    assert!(
        out.contains("IPv4/IPv6 Forwarding Switched On via sysctl or procfs"),
        "{out}"
    );
    assert!(
        !out.contains("Reverse Shell"),
        "high severity left out: {out}"
    );
    let (_, err, code) = stdout_of(&["rules", "--severity", "severe"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown severity `severe`"), "{err}");
}

/// `check` with a mistyped `--rule-id` printed "0 rules loaded" and exited
/// 0, so a CI job passed having checked nothing. A selection that keeps no
/// rule is now an error (exit 1, as paths holding no rule are), quiet or
/// not; `hunt` refuses it as before (exit 2, "no rule can run").
#[test]
fn check_fails_when_the_selection_keeps_no_rule() {
    let file = "rules/linux/command_and_control_ip_forwarding_enabled.toml";
    let in_repo = |args: &[&str]| {
        let mut cmd = talon();
        cmd.current_dir(common::repo()).args(args);
        let out = run(cmd);
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (out, err, code) = in_repo(&["check", file, "--rule-id", "nope"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "talon: selected 0 of 1 rule (1 left out by the selection)\n\
         talon: error: the selection left no rule to check (1 rule loaded, none kept)\n"
    );
    assert_eq!(out, "");
    let (out, err, code) = in_repo(&["-q", "check", file, "--rule-id", "nope"]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err,
        "talon: error: the selection left no rule to check (1 rule loaded, none kept)\n"
    );
    assert_eq!(out, "");
    // The bundled rules, by name.
    let (_, err, code) = stdout_of(&["check", "--rule-name", "no such rule"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(
            "talon: error: the selection left no rule to check (5 rules loaded, none kept)\n"
        ),
        "{err}"
    );
    // The rule's own id selects it, and checks it.
    let (out, err, code) = in_repo(&[
        "check",
        file,
        "--rule-id",
        "95719b51-e9e0-446d-8fe3-b0ab368dbd75",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("1 rule loaded from 1 file: 1 ok, "),
        "{out}"
    );

    // `rules` (a listing, with or without --coverage) says so the same way.
    for coverage in [None, Some("--coverage")] {
        let mut args = vec!["rules", file, "--rule-id", "nope"];
        args.extend(coverage);
        let (out, err, code) = in_repo(&args);
        assert_eq!(code, Some(1), "{coverage:?}: {err}");
        assert!(
            err.ends_with(
                "talon: error: the selection left no rule to list (1 rule loaded, none kept)\n"
            ),
            "{coverage:?}: {err}"
        );
        assert_eq!(out, "", "{coverage:?}");
    }

    let (_, err, code) = in_repo(&["hunt", "--rules", file, "--rule-id", "nope"]);
    assert_eq!(code, Some(2), "{err}");
    // It said "no rule can run (0 loaded with errors, 0 not supported)",
    // which hid that the selection was the reason.
    assert!(
        err.ends_with(
            "talon: error: the selection left no rule to run (1 rule loaded, none kept)\n"
        ),
        "{err}"
    );
}

#[test]
fn check_counts_follow_the_selection_on_the_corpus() {
    let Some(c) = corpora() else {
        eprintln!("skipped: no corpora (set TALON_CORPORA)");
        return;
    };
    let rules = c.join("detection-rules/rules");
    if !rules.is_dir() {
        eprintln!("skipped: {} is absent", rules.display());
        return;
    }
    let rules = rules.to_string_lossy().into_owned();
    let first = |args: &[&str]| {
        let (out, err, _) = stdout_of(args);
        (out.lines().next().unwrap_or_default().to_string(), err)
    };
    // detection-rules: 128 building blocks, 17 critical rules.
    let (line, err) = first(&["check", &rules, "--exclude-building-blocks"]);
    assert!(line.starts_with("1940 rules loaded"), "{line}");
    assert!(
        err.contains("talon: selected 1940 of 2068 rules (128 left out by the selection)"),
        "{err}"
    );
    let (line, _) = first(&["check", &rules, "--severity", "critical"]);
    assert!(line.starts_with("17 rules loaded"), "{line}");
    // A parent technique selects its sub-techniques' rules too.
    let (parent, _) = first(&["check", &rules, "--technique", "T1059"]);
    let (sub, _) = first(&["check", &rules, "--technique", "T1059.004"]);
    let count = |l: &str| {
        l.split(' ')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0)
    };
    assert!(
        count(&parent) > count(&sub) && count(&sub) > 0,
        "{parent} / {sub}"
    );
    let (line, _) = first(&["check", &rules, "--tag", "os: linux", "--tactic", "TA0011"]);
    assert!(count(&line) > 0, "{line}");
}
