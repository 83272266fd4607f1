//! Regressions from a tester's report: rule files with a bad language and
//! folders without rule files, option validation, the same input given
//! twice, what the summary says about unparsed lines, and a closed or
//! broken output.

mod common;

use common::*;

const FORWARDING: &str = "rules/linux/command_and_control_ip_forwarding_enabled.toml";

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn check_reports_a_bad_eql_language_at_its_place_and_fails() {
    let dir = scratch();
    let text = std::fs::read_to_string(repo().join(FORWARDING)).expect("rule");
    let bad = text.replace("language = \"eql\"", "language = \"kuery\"");
    assert_ne!(bad, text);
    let path = dir.path().join("bad_language.toml");
    std::fs::write(&path, bad).unwrap();

    let mut c = talon();
    c.arg("check").arg(&path);
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let want = format!(
        "{}:22:12: error: an `eql` rule's language must be `eql`, not `kuery`",
        path.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("^^^^^^^"), "{err}");
    assert!(!err.contains("not supported yet"), "{err}");
}

#[test]
fn check_and_rules_say_when_a_folder_holds_no_rule_files() {
    let dir = scratch();
    std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
    let mut c = talon();
    c.arg("check").arg(dir.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "talon: error: no rule files found in {}",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(err.contains("notes.txt"), "{err}");

    let empty = scratch();
    let mut c = talon();
    c.arg("rules").arg(empty.path());
    let out = run(c);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "talon: error: no rule files found in {}",
            empty.path().display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn zero_threads_and_zero_pending_sequences_are_refused() {
    for (flag, want) in [
        (
            "--threads",
            "invalid value '0' for '--threads <N>': must be at least 1 (leave --threads out to use every core)",
        ),
        (
            "--max-pending-sequences",
            "invalid value '0' for '--max-pending-sequences <N>': must be at least 1",
        ),
    ] {
        let mut c = talon();
        c.current_dir(repo()).args(["hunt", "--format", "jsonl", flag, "0"]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{flag}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_zero_reorder_window_is_accepted() {
    for w in ["0s", "0m"] {
        let mut c = talon();
        c.current_dir(repo())
            .args(["hunt", "--format", "jsonl", "--reorder-window", w]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(0), "{w}: {}", stderr(&out));
        assert_eq!(jsonl(&out).len(), 7, "{w}");
        let mut c = talon();
        c.current_dir(repo()).args([
            "hunt",
            "--format",
            "jsonl",
            "--schedule",
            "--reorder-window",
            w,
        ]);
        let out = run(c);
        assert_eq!(out.status.code(), Some(0), "{w}: {}", stderr(&out));
    }
    let mut c = talon();
    c.current_dir(repo())
        .args(["hunt", "--reorder-window", "soon"]);
    let out = run(c);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'soon' for '--reorder-window <DURATION>': expected a duration like 0s, 30s, 5m or 1h"),
        "{}",
        stderr(&out)
    );
}
