//! Input that used to crash the reader or be read differently depending on
//! the projection: deep nesting (top-level arrays, skipped sub-trees) and
//! duplicate keys.

use std::time::{Duration, Instant};

use talon_event::flatten::{flatten, FlattenError, Flattener, Projection};
use talon_event::read::{EventReader, ReadOptions, SkipReason};
use talon_event::Fields;

const EVENT: &str = r#"{"process":{"name":"sysctl"},"host":{"os":{"type":"linux"}}}"#;

/// Reads `text` as one input named `t.ndjson`: the process names read, and
/// (reason, line, message) of each issue.
fn read(text: String, options: ReadOptions) -> (Vec<String>, Vec<(SkipReason, u64, String)>) {
    let mut reader = EventReader::from_reader("t.ndjson", std::io::Cursor::new(text), options);
    let names = reader
        .by_ref()
        .filter_map(Result::ok)
        .map(|e| e.first_str("process.name").unwrap_or("").to_string())
        .collect();
    let stats = reader.into_stats();
    assert_eq!(stats.issue_count() as usize, stats.issues.len());
    let issues = stats
        .issues
        .iter()
        .map(|i| (i.reason, i.line, i.message.clone()))
        .collect();
    (names, issues)
}

fn projected() -> ReadOptions {
    ReadOptions::default().with_projection(Projection::only(["process.name", "host.os.type"]))
}

fn nested_array(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_top_level_array_line_is_one_invalid_json_skip() {
    for inner in ["", "\"sysctl\"", EVENT] {
        let text = format!("{EVENT}\n{}\n{EVENT}\n", nested_array(100_000, inner));
        let (names, issues) = read(text, ReadOptions::default());
        assert_eq!(names, ["sysctl", "sysctl"], "inner {inner:?}");
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].0, SkipReason::InvalidJson);
        assert_eq!(issues[0].1, 2);
        assert_eq!(issues[0].2, "recursion limit exceeded");
    }
}

#[test]
fn deep_top_level_array_is_rejected_in_linear_time() {
    // 20,000 levels took 1.8 s when each level re-parsed the rest.
    let text = format!("{}\n", nested_array(20_000, ""));
    let start = Instant::now();
    let (_, issues) = read(text, ReadOptions::default());
    assert!(
        start.elapsed() < Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(issues[0].0, SkipReason::InvalidJson);
}

#[test]
fn deep_framed_array_element_is_skipped() {
    // A pretty-printed array file: the framer streams the outer array and
    // hands each element to the document reader.
    let text = format!("[\n{EVENT},\n{},\n{EVENT}\n]\n", nested_array(50_000, ""));
    let (names, issues) = read(text, ReadOptions::default());
    assert_eq!(names, ["sysctl", "sysctl"]);
    assert_eq!(issues.len(), 1);
    assert_eq!((issues[0].0, issues[0].1), (SkipReason::InvalidJson, 3));
}

#[test]
fn nested_arrays_within_the_limit_still_unwrap() {
    let text = format!("{}\n", nested_array(100, EVENT));
    let (names, issues) = read(text, ReadOptions::default());
    assert_eq!(names, ["sysctl"]);
    assert!(issues.is_empty(), "{issues:?}");
}

/// An event with an extra field nested `depth` arrays deep.
fn event_with_deep_field(depth: usize) -> String {
    format!(
        r#"{{"process":{{"name":"sysctl"}},"x":{}}}"#,
        nested_array(depth, "\"sysctl\"")
    )
}

#[test]
fn projection_enforces_the_same_depth_limit() {
    for depth in [125, 126, 127, 200, 10_000] {
        let text = format!("{EVENT}\n{}\n{EVENT}\n", event_with_deep_field(depth));
        let full = read(text.clone(), ReadOptions::default());
        let proj = read(text, projected());
        assert_eq!(full, proj, "depth {depth}");
        // The object is one level, so 126 nested arrays is the most allowed.
        if depth <= 126 {
            assert_eq!(full.0.len(), 3, "depth {depth}");
        } else {
            assert_eq!(full.0, ["sysctl", "sysctl"], "depth {depth}");
            assert_eq!(full.1.len(), 1);
            assert_eq!((full.1[0].0, full.1[0].1), (SkipReason::InvalidJson, 2));
            assert_eq!(full.1[0].2, "recursion limit exceeded");
        }
    }
}

#[test]
fn projected_flatten_rejects_deep_skipped_subtree() {
    let f = Flattener::new().with_projection(Projection::only(["process.name"]));
    let text = event_with_deep_field(200);
    let projected = f.fields(&text).unwrap_err().to_string();
    let full = flatten(&text).unwrap_err().to_string();
    assert_eq!(projected, full);
    assert!(
        projected.starts_with("recursion limit exceeded"),
        "{projected}"
    );
}

#[test]
fn duplicate_keys_are_skipped_with_their_path() {
    let text = format!(
        "{EVENT}\n{}\n{}\n{EVENT}\n",
        r#"{"process":{"name":"sysctl","name":"foo"}}"#, r#"{"a":1,"user.id":2,"user.id":3}"#,
    );
    for options in [ReadOptions::default(), projected()] {
        let (names, issues) = read(text.clone(), options);
        assert_eq!(names, ["sysctl", "sysctl"]);
        assert_eq!(issues.len(), 2);
        assert_eq!((issues[0].0, issues[0].1), (SkipReason::DuplicateKey, 2));
        assert!(issues[0].2.contains("`process.name`"), "{}", issues[0].2);
        assert_eq!((issues[1].0, issues[1].1), (SkipReason::DuplicateKey, 3));
        assert!(issues[1].2.contains("`user.id`"), "{}", issues[1].2);
    }
    let stats = {
        let mut r = EventReader::from_reader("t", std::io::Cursor::new(text), projected());
        r.by_ref().for_each(drop);
        r.into_stats()
    };
    assert_eq!(stats.skipped_for(SkipReason::DuplicateKey), 2);
    assert_eq!(stats.events, 2);
}

#[test]
fn duplicate_key_error_names_the_key_and_where() {
    match flatten(r#"{"a":{"b":1,"c":2,"b":3}}"#) {
        Err(FlattenError::DuplicateKey { path, line, .. }) => {
            assert_eq!((path.as_str(), line), ("a.b", 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn same_key_in_different_objects_or_dotted_is_not_a_duplicate() {
    let e = flatten(r#"{"a":{"name":1},"b":{"name":2},"a.name":3,"l":[{"k":1},{"k":2}]}"#).unwrap();
    assert_eq!(e.values("a.name").len(), 2);
    assert_eq!(e.values("l.k").len(), 2);
    // Many keys: the hash list turns into a set.
    let keys: Vec<String> = (0..200).map(|i| format!("\"k{i}\":{i}")).collect();
    let many = format!("{{{}}}", keys.join(","));
    assert_eq!(flatten(&many).unwrap().len(), 200);
    let dup = format!("{{{},\"k150\":0}}", keys.join(","));
    assert!(matches!(
        flatten(&dup),
        Err(FlattenError::DuplicateKey { path, .. }) if path == "k150"
    ));
}

#[test]
fn utf16_and_utf32_inputs_are_one_encoding_issue() {
    let text = format!("{EVENT}\n{EVENT}\n{EVENT}\n");
    let u16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let u16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let u32le: Vec<u8> = text
        .chars()
        .flat_map(|c| (c as u32).to_le_bytes())
        .collect();
    let cases = [
        ("UTF-16LE", [&[0xFF, 0xFE][..], &u16le].concat()),
        ("UTF-16BE", [&[0xFE, 0xFF][..], &u16be].concat()),
        ("UTF-32LE", [&[0xFF, 0xFE, 0, 0][..], &u32le].concat()),
    ];
    for (encoding, bytes) in cases {
        let len = bytes.len() as u64;
        let mut r = EventReader::from_reader("u.json", std::io::Cursor::new(bytes), projected());
        assert_eq!(r.by_ref().filter_map(Result::ok).count(), 0);
        let stats = r.into_stats();
        assert_eq!(stats.issue_count(), 1, "{encoding}");
        assert_eq!(stats.skipped_for(SkipReason::Encoding), 1, "{encoding}");
        assert_eq!(stats.bytes, len, "{encoding}: read to the end");
        let issue = &stats.issues[0];
        assert_eq!(issue.line, 0);
        assert!(
            issue
                .message
                .starts_with(&format!("file is {encoding} (byte-order mark)")),
            "{}",
            issue.message
        );
    }
}
