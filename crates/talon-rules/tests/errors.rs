//! Load errors: positions, messages, snippets, and that one bad file never
//! stops the others.

mod common;

use std::path::{Path, PathBuf};

use talon_rules::{
    load_paths, load_paths_preferring, load_str, LoadError, LoadErrorKind, RuleFormat, SkippedFile,
};

const GOOD: &str = "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"Good\"\nrule_id = \"id-1\"\n\
    type = \"eql\"\nlanguage = \"eql\"\nrisk_score = 21\nseverity = \"low\"\nquery = '''\nprocess where true\n'''\n";

#[test]
fn toml_syntax_error_line_and_column() {
    // Line 6: the string is never closed.
    let text = GOOD.replace("rule_id = \"id-1\"", "rule_id = \"id-1");
    let (rules, errors) = load_str(&text, Path::new("bad.toml"), RuleFormat::Toml);
    assert!(rules.is_empty());
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!(e.kind, LoadErrorKind::Syntax);
    assert_eq!((e.line, e.column), (6, 16));
    let shown = e.to_string();
    assert!(
        shown.starts_with("bad.toml:6:16: error: invalid TOML"),
        "{shown}"
    );
    assert!(shown.contains("6 | rule_id = \"id-1\n"), "{shown}");
    assert!(e.snippet.as_deref().unwrap().contains('^'));

    // A key without a value on line 9.
    let text = GOOD.replace("risk_score = 21", "risk_score =");
    let (_, errors) = load_str(&text, Path::new("bad.toml"), RuleFormat::Toml);
    assert_eq!((errors[0].line, errors[0].kind), (9, LoadErrorKind::Syntax));
}

#[test]
fn an_unclosed_multiline_string_is_reported_where_it_opens() {
    // The query's closing quotes deleted: the parser gives up at the end
    // of the file; the error points at the opening quotes on line 11.
    let text = GOOD.replace(
        "process where true\n'''\n",
        "process where true\n\n[x]\ny = 1\n",
    );
    let (_, errors) = load_str(&text, Path::new("bad.toml"), RuleFormat::Toml);
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert_eq!((e.kind, e.line, e.column), (LoadErrorKind::Syntax, 11, 9));
    assert_eq!(
        e.message,
        "invalid TOML: invalid multiline literal string: this string is never closed \
         (no ''' after it)"
    );
    // An error before the end of the file stays where the parser put it.
    let text = GOOD.replace("risk_score = 21", "risk_score =");
    let (_, errors) = load_str(&text, Path::new("bad.toml"), RuleFormat::Toml);
    assert_eq!((errors[0].line, errors[0].column), (9, 13));
}

#[test]
fn missing_name_points_at_the_rule_table() {
    let text = GOOD.replace("name = \"Good\"\n", "");
    let (rules, errors) = load_str(&text, Path::new("noname.toml"), RuleFormat::Toml);
    assert!(rules.is_empty());
    let e = &errors[0];
    assert_eq!(e.kind, LoadErrorKind::MissingField);
    assert_eq!(e.message, "missing required rule field `name`");
    assert_eq!((e.line, e.column), (4, 1));
    assert_eq!(
        e.to_string(),
        "noname.toml:4:1: error: missing required rule field `name`\n  |\n4 | [rule]\n  | ^^^^^^"
    );
}

/// A field-name setting left empty would have the rule read no field (no
/// event matched, no time read), silently: it is an error at its value.
#[test]
fn an_empty_field_name_setting_is_an_error_at_its_value() {
    for key in [
        "timestamp_override",
        "event_category_override",
        "timestamp_field",
        "tiebreaker_field",
    ] {
        for (value, found) in [("\"\"", "an empty string"), ("\" \"", "only whitespace")] {
            let text = GOOD.replace(
                "risk_score = 21\n",
                &format!("risk_score = 21\n{key} = {value}\n"),
            );
            let (rules, errors) = load_str(&text, Path::new("e.toml"), RuleFormat::Toml);
            assert!(rules.is_empty(), "{key}");
            let e = &errors[0];
            assert_eq!(
                e.message,
                format!("`{key}` must name a field, found {found}")
            );
            assert_eq!((e.line, e.column), (10, key.len() + 4), "{key}");
        }
    }
}

#[test]
fn missing_query_for_a_query_type() {
    let text = GOOD.split("query = '''").next().unwrap().to_string();
    let (_, errors) = load_str(&text, Path::new("q.toml"), RuleFormat::Toml);
    assert_eq!(errors[0].message, "missing required rule field `query`");
    // Machine-learning rules have no query.
    let ml = text.replace("type = \"eql\"", "type = \"machine_learning\"");
    let (rules, errors) = load_str(&ml, Path::new("ml.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rules[0].rule_type, "machine_learning");
}

#[test]
fn folder_with_one_bad_file_loads_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(d.join(".hidden")).unwrap();
    std::fs::write(d.join("a.toml"), GOOD).unwrap();
    std::fs::write(d.join("b_bad.toml"), "[rule\nname = 1\n").unwrap();
    std::fs::write(
        d.join("sub/c.toml"),
        GOOD.replace("id-1", "id-2").replace("Good", "Other"),
    )
    .unwrap();
    std::fs::write(d.join("sub/deeper/d.toml"), GOOD.replace("id-1", "id-3")).unwrap();
    std::fs::write(d.join(".hidden/e.toml"), "garbage").unwrap();
    std::fs::write(d.join(".f.toml"), "garbage").unwrap();
    std::fs::write(d.join("notes.txt"), "not a rule").unwrap();
    std::fs::write(d.join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
    std::fs::write(d.join("latin1.toml"), b"[rule]\nname = \"caf\xe9\"\n").unwrap();

    let report = load_paths(&[d.to_path_buf()]);
    let ids: Vec<&str> = report.rules.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(ids, ["id-1", "id-2", "id-3"]);
    let kinds: Vec<(String, LoadErrorKind, usize)> = report
        .errors
        .iter()
        .map(|e| {
            (
                e.path.file_name().unwrap().to_string_lossy().into_owned(),
                e.kind,
                e.line,
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("b_bad.toml".to_string(), LoadErrorKind::Syntax, 1),
            ("latin1.toml".to_string(), LoadErrorKind::Encoding, 2),
        ]
    );
    assert_eq!(report.errors[1].column, 12);
    // notes.txt and pyproject.toml
    assert_eq!(report.skipped.non_rule_files, 2);
    assert_eq!(
        report.skipped_files,
        [d.join("notes.txt"), d.join("pyproject.toml")]
    );
    assert_eq!(report.files, 6);
}

#[test]
fn a_path_that_does_not_exist_says_so() {
    let report = load_paths(&[PathBuf::from("/nonexistent")]);
    assert!(report.rules.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].kind, LoadErrorKind::Io);
    assert_eq!(
        report.errors[0].to_string(),
        "/nonexistent: error: no such file or directory"
    );
    // Nothing was read.
    assert_eq!(report.files, 0);
}

#[test]
fn a_folder_without_rules_names_the_files_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("README.md"), "# Notes\n\nNothing here.\n").unwrap();
    std::fs::write(d.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    std::fs::write(d.join("notes.txt"), "text").unwrap();
    let report = load_paths(&[d.to_path_buf()]);
    assert!(report.rules.is_empty());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.skipped.non_rule_files, 3);
    // Walk order, whichever way each was found not to be a rule file
    // (content for .md/.toml, extension for .txt).
    assert_eq!(
        report.skipped_files,
        [
            d.join("Cargo.toml"),
            d.join("README.md"),
            d.join("notes.txt")
        ]
    );
    assert_eq!(report.files, 2);

    // Only the first few are named; all are counted.
    for i in 0..7 {
        std::fs::write(d.join(format!("x{i}.txt")), "text").unwrap();
    }
    let report = load_paths(&[d.to_path_buf()]);
    assert_eq!(report.skipped.non_rule_files, 10);
    assert_eq!(report.skipped_files.len(), 5);
    assert_eq!(report.skipped_files[4], d.join("x1.txt"));
}

/// Every file a walk reads is accounted for: rules, an error, or a skip
/// named with why. Empty `.toml` files used to be read, counted among the
/// files and then dropped without a word.
#[test]
fn files_read_that_hold_no_rule_are_named_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a_empty.toml"), "").unwrap();
    std::fs::write(d.join("b_blank.toml"), "\n  \n").unwrap();
    std::fs::write(
        d.join("c_metadata.toml"),
        "[metadata]\nmaturity = \"production\"\n",
    )
    .unwrap();
    std::fs::write(d.join("d_good.toml"), GOOD).unwrap();
    std::fs::write(d.join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
    std::fs::write(d.join("README.md"), "# Notes\n\nNothing here.\n").unwrap();
    std::fs::write(d.join("NOTICE.txt"), "text").unwrap();

    let report = load_paths(&[d.to_path_buf()]);
    assert_eq!(report.rules.len(), 1);
    // A `[metadata]` table is rule-like: without `[rule]` it is an error.
    let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [format!(
            "{}:1:1: error: no [rule] table in this file\n  |\n1 | [metadata]\n  | ^^^^^^^^^^",
            d.join("c_metadata.toml").display()
        )]
    );
    let skipped = |name: &str, why: &str| SkippedFile {
        path: d.join(name),
        why: why.to_string(),
    };
    assert_eq!(
        report.files_without_rules,
        [
            skipped(
                "README.md",
                "no `**Rule type**` line and no `## Rule query` section: not a rule page"
            ),
            skipped("a_empty.toml", "empty file: no [rule] table in it"),
            skipped("b_blank.toml", "empty file: no [rule] table in it"),
            skipped("pyproject.toml", "no [rule] table in this file"),
        ]
    );
    // Six files read: 1 rule, 1 error, 4 skipped; NOTICE.txt is not read.
    assert_eq!(report.files, 6);
    assert_eq!(report.skipped.non_rule_files, 5);

    // Named directly, an empty file is an error, not a skip.
    let report = load_paths(&[d.join("a_empty.toml")]);
    assert!(report.files_without_rules.is_empty());
    assert_eq!(
        report.errors[0].message,
        "empty file: no [rule] table in it"
    );
}

/// A FIFO (or socket, or device) in a rules folder is not read, since it
/// may never end; it was passed over without a word, so a `rules.toml`
/// made a FIFO by mistake vanished from every count.
#[cfg(unix)]
#[test]
fn special_files_in_a_rules_folder_are_named_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("good.toml"), GOOD).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.toml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let report = load_paths(&[d.to_path_buf()]);
    assert_eq!(report.rules.len(), 1);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.files_without_rules,
        [SkippedFile {
            path: d.join("pipe.toml"),
            why: "not a regular file (fifo); not read".to_string(),
        }]
    );
    assert_eq!(report.skipped.non_rule_files, 1);
    assert_eq!(report.skipped_files, [d.join("pipe.toml")]);
    assert_eq!(report.files, 1, "only good.toml is read");
}

/// A symbolic link in a rules folder back to a folder above it is not
/// followed, and is named as skipped, as in an event folder: it was a load
/// error, so `check` failed and `hunt` counted a rule with errors that did
/// not exist.
#[cfg(unix)]
#[test]
fn a_link_loop_in_a_rules_folder_is_named_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("rules");
    std::fs::create_dir_all(d.join("linux")).unwrap();
    std::fs::write(d.join("linux/good.toml"), GOOD).unwrap();
    std::os::unix::fs::symlink("..", d.join("linux/up")).unwrap();
    let report = load_paths(std::slice::from_ref(&d));
    assert_eq!(report.rules.len(), 1);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.files_without_rules,
        [SkippedFile {
            path: d.join("linux/up"),
            why: format!(
                "symbolic link loop (points back to {}); not followed",
                d.display()
            ),
        }]
    );
    assert_eq!(report.skipped.non_rule_files, 1);
    assert_eq!(report.files, 1, "only good.toml is read");
}

/// Found by a tester: a link to a rule file moved away was a load error in
/// walkdir's words ("IO error for operation on ..."), where an event
/// folder names it as a broken link and goes on.
#[cfg(unix)]
#[test]
fn a_broken_link_in_a_rules_folder_is_named_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("rules");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("good.toml"), GOOD).unwrap();
    std::os::unix::fs::symlink("/nonexistent/old.toml", d.join("old.toml")).unwrap();
    let report = load_paths(std::slice::from_ref(&d));
    assert_eq!(report.rules.len(), 1);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.files_without_rules,
        [SkippedFile {
            path: d.join("old.toml"),
            why: "broken symbolic link (to /nonexistent/old.toml, which does not exist); not read"
                .to_string(),
        }]
    );
}

#[test]
fn duplicate_rule_id_across_files_keeps_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.toml");
    let second = dir.path().join("second.toml");
    std::fs::write(&first, GOOD).unwrap();
    std::fs::write(&second, GOOD.replace("Good", "Second")).unwrap();
    let report = load_paths(&[dir.path().to_path_buf()]);
    assert_eq!(report.rules.len(), 1);
    assert_eq!(report.rules[0].name, "Good");
    let e = &report.errors[0];
    assert_eq!(e.kind, LoadErrorKind::DuplicateRuleId);
    assert_eq!(e.path, second);
    assert_eq!((e.line, e.column), (6, 11));
    assert!(
        e.message.contains(&first.display().to_string()),
        "{}",
        e.message
    );
    assert!(e.to_string().starts_with(&format!(
        "{}:6:11: error: duplicate rule_id `id-1`",
        second.display()
    )));
}

#[test]
fn a_duplicate_that_runs_is_kept_beside_a_first_copy_that_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("a.toml");
    let working = dir.path().join("b.toml");
    let third = dir.path().join("c.toml");
    let other = dir.path().join("d.toml");
    std::fs::write(&broken, GOOD.replace("Good", "Broken")).unwrap();
    std::fs::write(&working, GOOD.replace("Good", "Working")).unwrap();
    std::fs::write(&third, GOOD.replace("Good", "Third")).unwrap();
    std::fs::write(&other, GOOD.replace("id-1", "id-2")).unwrap();
    let asked = std::cell::RefCell::new(Vec::new());
    let runs = |r: &talon_rules::Rule| {
        asked.borrow_mut().push(r.name.clone());
        r.name != "Broken"
    };
    let report = load_paths_preferring(&[dir.path().to_path_buf()], &runs);

    // The broken copy stays (compiling it reports its error); the working
    // one is kept too and holds the rule_id, so the third is the duplicate.
    let kept: Vec<(&str, &str)> = report
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.rule_id.as_str()))
        .collect();
    assert_eq!(
        kept,
        [("Broken", "id-1"), ("Working", "id-1"), ("Good", "id-2")]
    );
    let errors = placed(&report.errors);
    let used = format!(
        "duplicate rule_id `id-1`: also loaded from {}:6, which cannot run; \
         this copy is used instead",
        broken.display()
    );
    let ignored = format!(
        "duplicate rule_id `id-1`: already loaded from {}:6; this rule is ignored",
        working.display()
    );
    // The working copy's note is a warning: it is no error of that file.
    let warnings = placed(&report.warnings);
    assert_eq!(
        warnings,
        [(
            LoadErrorKind::DuplicateRuleId,
            working.as_path(),
            6,
            11,
            used.as_str()
        )]
    );
    assert_eq!(
        errors,
        [(
            LoadErrorKind::DuplicateRuleId,
            third.as_path(),
            6,
            11,
            ignored.as_str()
        )]
    );
    // Asked only about rules whose rule_id repeats, each once.
    assert_eq!(*asked.borrow(), ["Broken", "Working", "Third"]);

    // When no copy runs, the first is kept, as always.
    let report = load_paths_preferring(&[dir.path().to_path_buf()], &|_| false);
    let names: Vec<&str> = report.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Broken", "Good"]);
    assert_eq!(report.errors.len(), 2);
    assert!(
        report.errors[0].message.ends_with(
            "this rule is ignored (it could not run anyway: its query does not compile)"
        ),
        "{}",
        report.errors[0].message
    );
}

#[test]
fn a_file_named_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.toml");
    std::fs::write(&f, GOOD).unwrap();
    let report = load_paths(&[
        dir.path().to_path_buf(),
        f.clone(),
        dir.path().join(".").join("a.toml"),
    ]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!((report.rules.len(), report.files), (1, 1));
}

#[test]
fn named_files_and_missing_paths() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("rule.txt");
    std::fs::write(&txt, GOOD).unwrap();
    let toml = dir.path().join("rule.TOML");
    std::fs::write(&toml, GOOD).unwrap();
    let missing = dir.path().join("nope.toml");
    let report = load_paths(&[txt.clone(), toml, missing.clone()]);
    assert_eq!(report.rules.len(), 1);
    assert_eq!(report.errors.len(), 2);
    assert_eq!(
        (report.errors[0].kind, &report.errors[0].path),
        (LoadErrorKind::UnknownFormat, &txt)
    );
    assert_eq!(
        (report.errors[1].kind, &report.errors[1].path),
        (LoadErrorKind::Io, &missing)
    );
    assert_eq!(
        report.errors[1].to_string(),
        format!("{}: error: no such file or directory", missing.display())
    );
    // The missing path was never read; the two others were.
    assert_eq!(report.files, 2);
}

/// Whatever bytes come in, the loaders return errors, never panic.
#[test]
fn garbage_never_panics() {
    let mut inputs: Vec<String> = vec![
        String::new(),
        "\u{feff}".into(),
        "---".into(),
        "---\n---\n# \n".into(),
        "# T\n**Rule type**: eql\n## Rule query\n```".into(),
        "# T\n**Rule type**:\n* \n**Risk score**: 99999999999999999999\n".into(),
        "[rule]\nquery = \"\"\"\\\n\"\"\"".into(),
        "[rule]\nthreat = [1, 2]\nname=\"n\"\nrule_id=\"x\"\ntype=\"eql\"\nrisk_score=1\nseverity=\"low\"\nquery=\"x\"".into(),
        "{\"rule_id\": 5}".into(),
        "[{\"rule_id\": \"x\"}, 3, null]".into(),
        "{\"attributes\": {\"params\": 3}, \"type\": \"alert\"}".into(),
        "\"\\ud800\"".into(),
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".into(),
    ];
    // Every prefix of real files, cut at every char boundary.
    if let Some(dir) = common::detection_rules() {
        for f in ["seed-rule.toml", "seed-rule-page.md"] {
            let t = std::fs::read_to_string(dir.join(f)).unwrap();
            let cuts: Vec<usize> = (0..t.len())
                .step_by(7)
                .filter(|&i| t.is_char_boundary(i))
                .collect();
            inputs.extend(cuts.into_iter().map(|i| t[..i].to_string()));
        }
    }
    for text in &inputs {
        for format in [
            RuleFormat::Toml,
            RuleFormat::KibanaNdjson,
            RuleFormat::Markdown,
        ] {
            let (rules, errors) = load_str(text, &PathBuf::from("g"), format);
            for e in &errors {
                let _ = e.to_string();
            }
            for r in &rules {
                let q = r.query.as_deref().unwrap_or("");
                let _ = r.query_line_col(q.len() + 10);
            }
        }
    }
}

#[test]
fn eql_rule_with_another_language_is_an_error_at_the_value() {
    // Line 8: `language = "kuery"`, the value at column 12.
    for lang in ["kuery", "EQL"] {
        let text = GOOD.replace("language = \"eql\"", &format!("language = \"{lang}\""));
        let (rules, errors) = load_str(&text, Path::new("lang.toml"), RuleFormat::Toml);
        assert!(rules.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert_eq!(e.kind, LoadErrorKind::InvalidField);
        assert_eq!((e.line, e.column), (8, 12));
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!(
                "lang.toml:8:12: error: an `eql` rule's language must be `eql`, not `{lang}`"
            )),
            "{shown}"
        );
        assert!(shown.contains('^'), "{shown}");
    }
    // The same in a Kibana export: the error points at the value on its line.
    let line = r#"{"rule_id":"r1","name":"n","type":"eql","language":"kuery","risk_score":21,"severity":"low","query":"process where true"}"#;
    let (rules, errors) = load_str(line, Path::new("e.ndjson"), RuleFormat::KibanaNdjson);
    assert!(rules.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let col = line.find("\"kuery\"").unwrap() + 1;
    assert_eq!((errors[0].line, errors[0].column), (1, col));
    assert!(errors[0].message.contains("`kuery`"), "{}", errors[0]);
}

/// Each problem's kind, file, line, column and message.
fn placed(problems: &[LoadError]) -> Vec<(LoadErrorKind, &Path, usize, usize, &str)> {
    problems
        .iter()
        .map(|e| {
            (
                e.kind,
                e.path.as_path(),
                e.line,
                e.column,
                e.message.as_str(),
            )
        })
        .collect()
}

/// Every refused value of a rule is an error, in the order they stand in
/// the file (the fields are read in another order).
#[test]
fn every_refused_value_of_a_rule_is_an_error_in_file_order() {
    let text = GOOD.replace(
        "risk_score = 21\n",
        "risk_score = 21\ntiebreaker_field = \"\"\ntimestamp_field = \"\"\n",
    );
    let (rules, errors) = load_str(&text, Path::new("two.toml"), RuleFormat::Toml);
    assert!(rules.is_empty());
    let at: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            (
                10,
                "`tiebreaker_field` must name a field, found an empty string"
            ),
            (
                11,
                "`timestamp_field` must name a field, found an empty string"
            ),
        ]
    );
}

#[test]
fn a_threat_problem_is_reported_at_the_entry_it_is_in() {
    // The second tactic's technique lacks its name (`nme`): the
    // error names it and points at its table, not at the first tactic.
    let text = format!(
        "{GOOD}\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[rule.threat.tactic]\n\
         id = \"TA0002\"\nname = \"Execution\"\n\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n\
         [rule.threat.tactic]\nid = \"TA0011\"\nname = \"Command and Control\"\n\
         [[rule.threat.technique]]\nid = \"T1572\"\nnme = \"Protocol Tunneling\"\n"
    );
    let (rules, errors) = load_str(&text, Path::new("t.toml"), RuleFormat::Toml);
    assert!(rules.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.message, "`threat` item 2, technique 1 has no `name`");
    assert_eq!((e.line, e.column), (26, 1));
    assert!(
        e.to_string().contains("26 | [[rule.threat.technique]]\n"),
        "{e}"
    );

    // In a Kibana export line, at the value that is wrong.
    let line = r#"{"rule_id":"r-1","name":"N","type":"eql","language":"eql","query":"process where true","severity":"low","risk_score":21,"description":"d","threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0002","name":"Execution"}},{"framework":"MITRE ATT&CK","tactic":{"id":"TA0011","name":7}}]}"#;
    let (rules, errors) = load_str(line, Path::new("e.ndjson"), RuleFormat::KibanaNdjson);
    assert!(rules.is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(
        e.message,
        "`threat` item 2, tactic: `name` must be a string, found a number"
    );
    assert_eq!((e.line, e.column), (1, line.rfind('7').unwrap() + 1));
}
