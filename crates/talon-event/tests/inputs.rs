//! Inputs and metadata: argument expansion, folders, failures isolated to
//! one input (or one folder entry), sequence numbers across inputs, index
//! derivation precedence. (The per-input logs are tested in `input_logs.rs`.)

mod common;

use std::fs;
use std::path::PathBuf;

use common::{gzip, read_stepwise, read_text};
use talon_event::read::{
    expand_inputs, Compression, DecodeError, EventReader, InputError, InputSpec, ReadOptions,
    SkipReason,
};

/// What a reader gives, in order: `event N` (its `n`) or the issue's text.
fn items_of(reader: &mut EventReader) -> Vec<String> {
    reader
        .by_ref()
        .map(|item| match item {
            Ok(e) => format!("event {}", e.first_str("n").unwrap_or("?")),
            Err(i) => i.to_string(),
        })
        .collect()
}

fn write(dir: &std::path::Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn folders_are_walked_sorted_and_hidden_entries_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "b.ndjson", b"{\"n\":\"b\"}\n");
    write(d, "a/z.json", b"[{\"n\":\"az\"}]");
    write(d, "a/y.json.gz", &gzip(b"{\"n\":\"ay\"}\n"));
    write(d, ".hidden.ndjson", b"{\"n\":\"hidden\"}\n");
    write(d, ".git/x.ndjson", b"{\"n\":\"hidden2\"}\n");
    let expanded = expand_inputs(&[d.to_str().unwrap()]).unwrap();
    assert!(expanded.skipped.is_empty());
    let specs = expanded.inputs;
    let rel: Vec<String> = specs
        .iter()
        .map(|s| match s {
            InputSpec::Path(p) => p.strip_prefix(d).unwrap().display().to_string(),
            InputSpec::Stdin => "-".to_string(),
        })
        .collect();
    assert_eq!(rel, ["a/y.json.gz", "a/z.json", "b.ndjson"]);

    let (events, stats) = EventReader::new(specs, ReadOptions::default()).read_all();
    let names: Vec<&str> = events.iter().filter_map(|e| e.first_str("n")).collect();
    assert_eq!(names, ["ay", "az", "b"]);
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(events[0].origin.file.ends_with("a/y.json.gz"));
    assert_eq!((stats.files, stats.events, stats.issue_count()), (3, 3, 0));
}

/// A folder of rotated logs was read in name order, `audit.log` (newest)
/// before `audit.log.1`: a child's exec came before its parent's, and the
/// parent was never filled from the process tree. Rotated files now come
/// oldest first, numbered or dated (`dateext`, which a tester found read
/// newest first); other names keep name order (a year or a date after a
/// dot is not a rotation number).
#[test]
fn rotated_logs_in_a_folder_are_read_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in [
        "audit.log",
        "audit.log.1",
        "audit.log.2.gz",
        "audit.log.10",
        "audit.log.gz",
        "messages",
        "messages.1.zst",
        "events.2024",
        "events.2025",
        "part.1.ndjson",
        "part.2.ndjson",
        ".1",
        "syslog-20240502.gz",
        "syslog-20240430",
        "syslog",
        "kern.log-2024050113",
        "kern.log-2024050109",
        "kern.log-20240502",
        "kern.log-20240430-1714500000",
        "kern.log",
        "app-1.ndjson",
        "x-20241399",
        "x-2024010199",
        "x-20240101-1",
        "x",
    ] {
        write(d, name, b"");
    }
    let rel: Vec<String> = expand_inputs(&[d.to_str().unwrap()])
        .unwrap()
        .inputs
        .iter()
        .map(|s| match s {
            InputSpec::Path(p) => p.strip_prefix(d).unwrap().display().to_string(),
            InputSpec::Stdin => "-".to_string(),
        })
        .collect();
    assert_eq!(
        rel,
        [
            // `-1` is no date: a name like any other.
            "app-1.ndjson",
            "audit.log.10",
            "audit.log.2.gz",
            "audit.log.1",
            "audit.log",
            "audit.log.gz",
            "events.2024",
            "events.2025",
            // logrotate's `dateext`, by hour or with seconds too: by time,
            // whichever of its formats each file was named with.
            "kern.log-20240430-1714500000",
            "kern.log-2024050109",
            "kern.log-2024050113",
            "kern.log-20240502",
            "kern.log",
            "messages.1.zst",
            "messages",
            "part.1.ndjson",
            "part.2.ndjson",
            "syslog-20240430",
            "syslog-20240502.gz",
            "syslog",
            // Not dates (a 13th month, a 99th hour, one second digit):
            // names like any other.
            "x",
            "x-20240101-1",
            "x-2024010199",
            "x-20241399",
        ]
    );
}

#[test]
fn arguments_keep_their_order_and_dash_is_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let f1 = write(dir.path(), "one.json", b"{}");
    let f2 = write(dir.path(), "two.json", b"{}");
    let args = [f2.to_str().unwrap(), "-", f1.to_str().unwrap()];
    let specs = expand_inputs(&args).unwrap().inputs;
    assert_eq!(
        specs,
        [InputSpec::Path(f2), InputSpec::Stdin, InputSpec::Path(f1)]
    );
    assert_eq!(InputSpec::Stdin.display_name(), "-");
}

#[test]
fn a_missing_path_is_an_error_that_names_it() {
    let err = expand_inputs(&["/definitely/not/here.ndjson"]).unwrap_err();
    assert!(matches!(&err, InputError::NotFound { path } if path == "/definitely/not/here.ndjson"));
    assert_eq!(
        err.to_string(),
        "input not found: /definitely/not/here.ndjson"
    );
}

#[test]
fn broken_symlinks_and_loops_in_a_folder_are_issues_not_errors() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.ndjson", b"{\"n\":\"a\"}\n");
    symlink("/nonexistent", d.join("b")).unwrap();
    write(d, "c/z.ndjson", b"{\"n\":\"z\"}\n");
    symlink(".", d.join("c/loop")).unwrap();
    // Hidden entries stay invisible even when broken.
    symlink("/nonexistent", d.join(".h")).unwrap();
    let arg = d.to_str().unwrap();

    let expanded = expand_inputs(&[arg]).unwrap();
    assert_eq!(
        expanded.inputs,
        [
            InputSpec::Path(d.join("a.ndjson")),
            InputSpec::Path(d.join("c/z.ndjson"))
        ]
    );
    let skipped: Vec<(PathBuf, usize)> = expanded
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.position))
        .collect();
    // `loop` sorts before `z.ndjson`: both come before the second input.
    assert_eq!(skipped, [(d.join("b"), 1), (d.join("c/loop"), 1)]);

    // Reported in walk order, between the inputs around them.
    let mut reader = EventReader::from_args(&[arg], ReadOptions::default()).unwrap();
    let items = items_of(&mut reader);
    assert_eq!(
        items,
        [
            "event a".to_string(),
            format!("{arg}/b: broken-link: broken symbolic link (to /nonexistent, which does not exist); not read"),
            format!("{arg}/c/loop: link-loop: symbolic link loop (points back to {arg}/c); not followed"),
            "event z".to_string(),
        ]
    );
    let stats = reader.stats();
    assert_eq!((stats.files, stats.events, stats.issue_count()), (4, 2, 2));
    assert_eq!(stats.skipped_for(SkipReason::BrokenLink), 1);
    // The loop leads back to a folder that is read anyway, and the broken
    // link leads nowhere (a log rotated away): nothing is lost that could
    // be read, so neither is an input cut short and the run does not fail.
    assert_eq!(stats.skipped_for(SkipReason::LinkLoop), 1);
    assert_eq!(stats.inputs_cut_short(), 0);

    // A path named on the command line is still checked strictly.
    let gone = format!("{arg}/b");
    let err = EventReader::from_args(&[gone.as_str()], ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("input is a broken symbolic link: {gone} (to /nonexistent, which does not exist)")
    );
}

/// A loop met again through another link to the folder that holds it is
/// the same link: one issue, naming the other path, not one per way in
/// (and no input cut short: the run does not fail for it).
#[test]
fn a_loop_reached_twice_is_reported_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "sub/a.ndjson", b"{\"n\":\"a\"}\n");
    symlink("..", d.join("sub/loop")).unwrap();
    symlink(d.join("sub"), d.join("sub2")).unwrap();
    let arg = d.to_str().unwrap();

    let expanded = expand_inputs(&[arg]).unwrap();
    assert_eq!(
        expanded.inputs,
        [
            InputSpec::Path(d.join("sub/a.ndjson")),
            InputSpec::Path(d.join("sub2/a.ndjson"))
        ]
    );
    let skipped: Vec<(PathBuf, SkipReason, &str, usize)> = expanded
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason, s.message.as_str(), s.position))
        .collect();
    let message = format!(
        "symbolic link loop (points back to {arg}); not followed; also reached as {arg}/sub2/loop"
    );
    assert_eq!(
        skipped,
        [(
            d.join("sub/loop"),
            SkipReason::LinkLoop,
            message.as_str(),
            1
        )]
    );

    let (events, stats) = EventReader::from_args(&[arg], ReadOptions::default())
        .unwrap()
        .read_all();
    assert_eq!(events.len(), 2);
    assert_eq!((stats.files, stats.issue_count()), (3, 1));
    assert_eq!(stats.skipped_for(SkipReason::LinkLoop), 1);
    assert_eq!(stats.inputs_cut_short(), 0);
    assert_eq!(
        stats.issues[0].to_string(),
        format!("{arg}/sub/loop: link-loop: {message}")
    );
}

/// Two links that lead to each other (`ELOOP`) are a loop like a link back
/// to a parent: one counted skip each, not an input that failed; and a
/// folder named twice (`d d/sub`) does not list a loop as "also reached"
/// through its own path.
#[test]
fn links_that_lead_to_each_other_are_a_loop_and_are_not_repeated() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.ndjson", b"{\"n\":\"a\"}\n");
    symlink("loopA", d.join("loopB")).unwrap();
    symlink("loopB", d.join("loopA")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    symlink("..", d.join("sub/up")).unwrap();
    let arg = d.to_str().unwrap();
    let sub = d.join("sub");
    let expanded = expand_inputs(&[arg, sub.to_str().unwrap()]).unwrap();
    let skipped: Vec<(PathBuf, SkipReason, &str)> = expanded
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason, s.message.as_str()))
        .collect();
    let each_other =
        "symbolic link loop (links that lead to each other, never to a file); not followed";
    let up = format!("symbolic link loop (points back to {arg}); not followed");
    assert_eq!(
        skipped,
        [
            (d.join("loopA"), SkipReason::LinkLoop, each_other),
            (d.join("loopB"), SkipReason::LinkLoop, each_other),
            (d.join("sub/up"), SkipReason::LinkLoop, up.as_str()),
        ]
    );
}

/// Makes a FIFO at `path` with the system's `mkfifo`.
fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn a_fifo_in_a_folder_is_reported_not_silently_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.ndjson", b"{\"n\":\"a\"}\n");
    mkfifo(&d.join("p"));
    let arg = d.to_str().unwrap();

    // Checked before reading: were the FIFO an input, reading would block.
    let expanded = expand_inputs(&[arg]).unwrap();
    assert_eq!(expanded.inputs, [InputSpec::Path(d.join("a.ndjson"))]);
    let skipped: Vec<(PathBuf, SkipReason, &str, usize)> = expanded
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason, s.message.as_str(), s.position))
        .collect();
    assert_eq!(
        skipped,
        [(
            d.join("p"),
            SkipReason::SpecialFile,
            "not a regular file (fifo); not read",
            1
        )]
    );

    let mut reader = EventReader::from_expanded(expanded, ReadOptions::default());
    let items = items_of(&mut reader);
    assert_eq!(
        items,
        [
            "event a".to_string(),
            format!("{arg}/p: special-file: not a regular file (fifo); not read"),
        ]
    );
    let stats = reader.stats();
    assert_eq!((stats.files, stats.events, stats.issue_count()), (2, 1, 1));
    assert_eq!(stats.skipped_for(SkipReason::SpecialFile), 1);
    // Counted, but not an input cut short.
    assert_eq!(stats.inputs_cut_short(), 0);
}

#[test]
fn a_fifo_named_as_an_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("p");
    mkfifo(&fifo);
    let writer_path = fifo.clone();
    // Opening the write end blocks until the reader opens the other.
    let writer = std::thread::spawn(move || {
        fs::write(writer_path, b"{\"n\":\"piped\"}\n").unwrap();
    });
    let expanded = expand_inputs(&[fifo.to_str().unwrap()]).unwrap();
    assert!(expanded.skipped.is_empty());
    let (events, stats) = EventReader::from_expanded(expanded, ReadOptions::default()).read_all();
    let names: Vec<&str> = events.iter().filter_map(|e| e.first_str("n")).collect();
    assert_eq!(names, ["piped"]);
    assert_eq!((stats.files, stats.events, stats.issue_count()), (1, 1, 0));
    // Joined last: had the FIFO not been opened, a failed assertion ends
    // the test instead of waiting on the writer.
    writer.join().unwrap();
}

#[test]
fn a_failing_input_is_one_issue_and_the_others_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let good1 = write(dir.path(), "1.ndjson", b"{\"n\":\"a\"}\n");
    let mut cut = gzip("{\"n\":\"x\"}\n".repeat(500).as_bytes());
    cut.truncate(cut.len() / 2);
    let broken = write(dir.path(), "2.gz", &cut);
    let good2 = write(dir.path(), "3.ndjson", b"{\"n\":\"b\"}\n");
    let missing = dir.path().join("gone.ndjson");
    let folder = dir.path().join("sub");
    fs::create_dir(&folder).unwrap();
    let specs = vec![
        InputSpec::Path(good1),
        InputSpec::Path(broken),
        InputSpec::Path(missing),
        // A folder opened as a file: reading it fails.
        InputSpec::Path(folder),
        InputSpec::Path(good2),
    ];
    let mut reader = EventReader::new(specs, ReadOptions::default());
    let mut names = Vec::new();
    let mut reasons = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(e) => names.push(e.first_str("n").unwrap_or("?").to_string()),
            Err(i) => reasons.push((
                i.file.rsplit('/').next().unwrap_or("").to_string(),
                i.reason,
            )),
        }
    }
    assert_eq!(names.first().map(String::as_str), Some("a"));
    assert_eq!(names.last().map(String::as_str), Some("b"));
    assert_eq!(
        reasons,
        [
            ("2.gz".to_string(), SkipReason::Decompression),
            ("gone.ndjson".to_string(), SkipReason::Unreadable),
            ("sub".to_string(), SkipReason::Unreadable),
        ]
    );
    let stats = reader.stats();
    assert_eq!(stats.files, 5);
    assert_eq!(stats.skipped_for(SkipReason::Unreadable), 2);
    assert_eq!(stats.skipped_for(SkipReason::Decompression), 1);
}

/// A stream its caller decoded itself (stdin, which talon-sources
/// decompresses to recognise its source and cannot reopen) whose decoder
/// fails: a `decompression` issue naming the compression, as the same
/// bytes in a named file give, not a plain read error.
#[test]
fn a_decode_error_of_a_stream_decoded_by_the_caller_is_a_decompression_issue() {
    use std::io::{self, Read};
    struct Cut(io::Cursor<Vec<u8>>);
    impl Read for Cut {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(DecodeError::wrap(
                    Compression::Gzip,
                    io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete deflate stream"),
                )),
                n => Ok(n),
            }
        }
    }
    let text = b"{\"n\":\"a\"}\n{\"n\":\"b\"}\n".to_vec();
    let reader = EventReader::from_reader("-", Cut(io::Cursor::new(text)), ReadOptions::default());
    let (events, stats) = reader.read_all();
    assert_eq!(events.len(), 2);
    let issues: Vec<String> = stats.issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        issues,
        ["-:3: decompression: gzip: incomplete deflate stream; rest of input skipped"]
    );
    assert_eq!(stats.inputs_cut_short(), 1);
}

#[test]
fn seq_runs_across_readers_in_input_order() {
    let mut reader = EventReader::from_reader(
        "first",
        &b"{\"n\":1}\n{\"n\":2}\n"[..],
        ReadOptions::default(),
    );
    reader.push_reader("second", &b"[{\"n\":3}]"[..]);
    let (events, stats) = reader.read_all();
    let got: Vec<(String, u64, u64)> = events
        .iter()
        .map(|e| (e.origin.file.to_string(), e.origin.line, e.seq))
        .collect();
    assert_eq!(
        got,
        [
            ("first".into(), 1, 0),
            ("first".into(), 2, 1),
            ("second".into(), 1, 2)
        ]
    );
    assert_eq!(stats.files, 2);
}

const DS: &str =
    r#""data_stream":{"type":"logs","dataset":"endpoint.events.process","namespace":"default"}"#;

#[test]
fn index_precedence_forced_then_hit_then_data_stream() {
    let text = format!(
        "{{{DS}}}\n{{\"_index\":\"from-hit\",\"_id\":\"1\",\"_source\":{{{DS}}}}}\n{{\"data_stream\":{{\"type\":\"logs\",\"dataset\":\"x\"}}}}\n{{\"data_stream.type\":\"metrics\",\"data_stream\":{{\"dataset\":\"d\"}},\"data_stream.namespace\":\"ns\"}}\n"
    );
    let (events, _) = read_text("ds.ndjson", &text, ReadOptions::default());
    let idx: Vec<Option<&str>> = events.iter().map(|e| e.index.as_deref()).collect();
    assert_eq!(
        idx,
        [
            Some("logs-endpoint.events.process-default"),
            Some("from-hit"),
            None,
            Some("metrics-d-ns"),
        ]
    );
    let (forced, _) = read_text(
        "ds.ndjson",
        &text,
        ReadOptions::default().with_index("forced"),
    );
    assert!(forced.iter().all(|e| e.index.as_deref() == Some("forced")));
    // Forcing the index keeps the hit's id.
    assert_eq!(forced[1].id.as_deref(), Some("1"));
}

#[test]
fn mapping_null_values_apply_while_reading() {
    let mapping = talon_event::mapping::Mapping::from_es_json(
        r#"{"properties":{"f":{"type":"keyword","null_value":"NULL"}}}"#,
    )
    .unwrap();
    let (events, _) = read_text(
        "n.ndjson",
        "{\"f\":null}\n{\"g\":1}\n",
        ReadOptions::default().with_mapping(&mapping),
    );
    assert_eq!(events[0].first_str("f"), Some("NULL"));
    assert_eq!(events[1].first_str("f"), None);
}

#[test]
fn projection_applies_while_reading() {
    let (events, _) = read_text(
        "p.ndjson",
        "{\"process\":{\"name\":\"a\",\"pid\":1},\"host\":\"h\"}\n",
        ReadOptions::default()
            .with_projection(talon_event::flatten::Projection::only(["process.name"])),
    );
    assert_eq!(events[0].len(), 1);
    assert_eq!(events[0].first_str("process.name"), Some("a"));
}

/// A mapped file that grows while it is read: what was there when it was
/// mapped is read, and the bytes added after are one `grown` issue that
/// says how many (they used to be left out without a word), item by item
/// and batch by batch (as `hunt` reads); read without mapping, the file
/// is read to its end.
#[test]
fn a_mapped_file_that_grows_while_read_says_what_was_not_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.ndjson");
    let line = format!("{{\"n\":1,\"pad\":\"{}\"}}\n", "x".repeat(1000));
    let before = line.repeat(1500); // over the 1 MiB from which files are mapped
    let added = "{\"n\":2}\n";
    for (mmap, batches) in [(true, false), (true, true), (false, false)] {
        fs::write(&path, &before).unwrap();
        let opts = ReadOptions {
            mmap,
            ..ReadOptions::default()
        };
        let mut reader = EventReader::new(vec![InputSpec::Path(path.clone())], opts.clone());
        let mut grown = false;
        let (events, issues) =
            read_stepwise(&mut reader, &opts, batches.then_some(64 << 10), &mut || {
                if !grown {
                    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
                    f.write_all(added.as_bytes()).unwrap();
                    grown = true;
                }
            });
        let issues: Vec<(SkipReason, String)> =
            issues.into_iter().map(|i| (i.reason, i.message)).collect();
        let at = format!("mmap {mmap}, batches {batches}");
        if mmap {
            assert_eq!(events, 1500, "{at}");
            assert_eq!(
                issues,
                [(
                    SkipReason::Grown,
                    format!(
                        "the file grew by {} bytes while talon read it; it was mapped into \
                         memory at {} bytes, so what was added was not read (--no-mmap reads \
                         a growing file to its end)",
                        added.len(),
                        before.len()
                    )
                )],
                "{at}"
            );
        } else {
            assert_eq!((events, issues), (1501, Vec::new()), "{at}");
        }
    }
}

/// Found by a tester: a link to a link to nothing was said to point at
/// "a, which does not exist", when `a` exists and only the end is missing.
#[test]
fn a_chain_of_links_to_nothing_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("logs");
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::symlink("/nonexistent/y.ndjson", d.join("last")).unwrap();
    std::os::unix::fs::symlink("last", d.join("chain")).unwrap();
    let arg = d.to_str().unwrap();
    let mut reader = EventReader::from_args(&[arg], ReadOptions::default()).unwrap();
    let items = items_of(&mut reader);
    assert_eq!(
        items,
        [
            format!(
                "{arg}/chain: broken-link: broken symbolic link (to last, then \
                 /nonexistent/y.ndjson, which does not exist); not read"
            ),
            format!(
                "{arg}/last: broken-link: broken symbolic link (to /nonexistent/y.ndjson, \
                 which does not exist); not read"
            ),
        ]
    );
    let chain = format!("{arg}/chain");
    let err = EventReader::from_args(&[chain.as_str()], ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "input is a broken symbolic link: {chain} (to last, then /nonexistent/y.ndjson, \
             which does not exist)"
        )
    );
}
