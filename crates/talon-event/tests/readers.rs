//! Reader formats, detected by content: NDJSON, arrays, pretty and
//! concatenated objects, search responses, hits, esArchiver, comments, and
//! the same through gzip and zstd; cut inputs keep what is complete; files
//! that are not JSON at all are one issue each.

mod common;

use common::{gzip, read_bytes_all, read_text, zstd};
use talon_event::read::{ReadIssue, ReadOptions, SkipReason};
use talon_event::{Event, Fields, Value};

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.first_str("n").unwrap_or("?").to_string())
        .collect()
}

fn lines(events: &[Event]) -> Vec<u64> {
    events.iter().map(|e| e.origin.line).collect()
}

/// Where each issue is, and why: (line, column, reason).
fn places(issues: &[ReadIssue]) -> Vec<(u64, u64, SkipReason)> {
    issues
        .iter()
        .map(|i| (i.line, i.column, i.reason))
        .collect()
}

const NDJSON: &str = "{\"n\":\"a\",\"x\":{\"y\":1}}\n{\"n\":\"b\"}\r\n\n{\"n\":\"c\"}";

const ARRAY: &str = "[\n  {\"n\": \"a\"},\n  {\n    \"n\": \"b\"\n  }, {\"n\": \"c\"}\n]\n";

const SEARCH: &str = r#"{
  "took": 3, "timed_out": false,
  "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
  "hits": {
    "total": {"value": 2, "relation": "eq"},
    "max_score": 1.0,
    "hits": [
      {"_index": "logs-endpoint.events.process-default", "_id": "id1", "_score": 1.0,
       "_source": {"n": "a", "process": {"name": "bash"}}},
      {"_index": ".ds-logs-x-default-2024.01.01-000001", "_id": "id2", "_score": 1.0,
       "_source": {"n": "b"}}
    ]
  }
}
"#;

#[test]
fn ndjson_reads_line_by_line() {
    let (events, stats) = read_text("in.ndjson", NDJSON, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(lines(&events), [1, 2, 4]);
    assert_eq!(events[0].values("x.y"), &[Value::Int(1)]);
    assert_eq!(events[1].source(), "{\"n\":\"b\"}");
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(&*events[2].origin.file, "in.ndjson");
    assert_eq!((stats.files, stats.events, stats.issue_count()), (1, 3, 0));
    assert_eq!(stats.bytes, NDJSON.len() as u64);
    assert_eq!(stats.decoded_bytes, NDJSON.len() as u64);
}

#[test]
fn bad_ndjson_lines_are_issues_and_reading_resumes() {
    let text = "{\"n\":\"a\"}\n{\"n\":\n{\"n\":\"b\"}\n[1,2]\nplain text\n{\"n\":\"c\"} trailing\n42\n{\"n\":\"d\"}\n";
    let (events, issues, stats) = read_bytes_all("bad.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "d"]);
    assert_eq!(lines(&events), [1, 3, 8]);
    let got = places(&issues);
    assert_eq!(
        got,
        [
            (2, 5, SkipReason::InvalidJson),
            (4, 2, SkipReason::NotAnObject),
            (4, 4, SkipReason::NotAnObject),
            (5, 1, SkipReason::NotJson),
            (6, 11, SkipReason::InvalidJson),
            (7, 1, SkipReason::NotAnObject),
        ]
    );
    assert_eq!(issues[3].message, "not JSON: plain text");
    assert_eq!(
        issues[3].to_string(),
        "bad.ndjson:5:1: not-json: not JSON: plain text"
    );
    assert_eq!(stats.events, 3);
    assert_eq!(stats.issue_count(), 6);
    assert_eq!(stats.skipped_for(SkipReason::InvalidJson), 2);
    assert_eq!(stats.skipped_for(SkipReason::NotAnObject), 3);
    assert_eq!(stats.skipped_for(SkipReason::NotJson), 1);
}

#[test]
fn invalid_utf8_line_is_an_issue() {
    let mut bytes = b"{\"n\":\"a\"}\n{\"n\":\"".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"\"}\n{\"n\":\"b\"}\n");
    let (events, issues, _) = read_bytes_all("u.ndjson", bytes);
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].column, issues[0].reason),
        (2, 7, SkipReason::InvalidUtf8)
    );
}

#[test]
fn json_array_streams_its_elements() {
    let (events, stats) = read_text("a.json", ARRAY, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(lines(&events), [2, 3, 5]);
    assert_eq!(events[1].source(), "{\n    \"n\": \"b\"\n  }");
    assert_eq!(stats.issue_count(), 0);
}

#[test]
fn array_with_bad_elements_reports_each_and_goes_on() {
    let text = "[\n {\"n\":\"a\"},\n 7,\n {\"n\": oops},\n \"s\",\n {\"n\":\"b\"}\n]";
    let (events, issues, _) = read_bytes_all("a.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    let got = places(&issues);
    assert_eq!(
        got,
        [
            (3, 2, SkipReason::NotAnObject),
            (4, 8, SkipReason::InvalidJson),
            (5, 2, SkipReason::NotAnObject),
        ]
    );
}

#[test]
fn a_stray_element_in_a_one_line_array_loses_only_itself() {
    // Found by a fresh user: `garbage` took the rest of its line with it,
    // `n: b` and `n: c` were lost, and the closed array was reported as
    // never closed.
    let text = "[{\"n\":\"a\"}, garbage, {\"n\":\"b\"}, @x, {\"n\":\"c\"}]\n";
    let (events, issues, stats) = read_bytes_all("one.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "c"]);
    let got: Vec<(u64, u64, SkipReason, &str)> = issues
        .iter()
        .map(|i| (i.line, i.column, i.reason, i.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 13, SkipReason::NotJson, "not JSON: garbage"),
            (1, 33, SkipReason::NotJson, "not JSON: @x"),
        ]
    );
    assert_eq!(stats.events, 3);

    // A comma or bracket inside quotes does not end the junk: one issue.
    let text = "[{\"n\":\"a\"}, bad\"x,]y\\\",z\", {\"n\":\"b\"}]\n";
    let (events, issues, _) = read_bytes_all("q.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    let got: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(got, ["not JSON: bad\"x,]y\\\",z\""]);

    // A `//` comment line inside an array is still skipped whole, commas
    // and all.
    let text = "[\n{\"n\":\"a\"},\n// a, b]\n{\"n\":\"b\"}]\n";
    let (events, issues, _) = read_bytes_all("c.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert!(issues.is_empty(), "{issues:?}");
}

/// From a second fresh user: in an NDJSON file, an array line with one
/// stray element lost every element of the line as one `invalid-json`.
#[test]
fn a_stray_element_in_an_ndjson_array_line_loses_only_itself() {
    let text = "{\"n\":\"a\"}\n[{\"n\":\"b\"}, junk, {\"n\":\"c\"}]\n[{\"n\":\"d\"}, \"s,]\", {\"n\":\"e\"}]\n[{\"n\":\"f\"},]\n";
    let (events, issues, stats) = read_bytes_all("l.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "c", "d", "e", "f"]);
    let got = places(&issues);
    assert_eq!(
        got,
        [
            (2, 13, SkipReason::NotJson),
            (3, 13, SkipReason::NotAnObject),
            // Every element read: the trailing comma is the issue.
            (4, 12, SkipReason::InvalidJson),
        ]
    );
    assert_eq!(stats.events, 6);
}

#[test]
fn single_pretty_object_and_concatenated_objects() {
    let one = "{\n  \"n\": \"a\",\n  \"process\": {\"pid\": 3}\n}\n";
    let (events, stats) = read_text("one.json", one, ReadOptions::default());
    assert_eq!(names(&events), ["a"]);
    assert_eq!(events[0].values("process.pid"), &[Value::Int(3)]);
    assert_eq!(stats.issue_count(), 0);

    let many = "{\n \"n\": \"a\"\n}\n{\n \"n\": \"b\"\n}{\"n\":\"c\"}\n\n\n{\n \"n\": \"d\"\n}";
    let (events, stats) = read_text("many.json", many, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c", "d"]);
    assert_eq!(lines(&events), [1, 4, 6, 9]);
    assert_eq!(stats.issue_count(), 0);
}

/// From a tester: an error at the end of a line of a pretty-printed
/// document (`"b": tru` then a newline) was placed at the next line, with
/// no column; it is at the newline that ended the bad value.
#[test]
fn an_error_at_a_line_end_is_placed_on_that_line() {
    let text = "{\n  \"n\": \"a\",\n  \"b\": tru\n}\n{\n  \"n\": \"c\"\n}\n";
    let (events, issues, _) = read_bytes_all("p.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["c"]);
    assert_eq!(places(&issues), [(3, 11, SkipReason::InvalidJson)]);
    // Inside a line, the column was right and stays so.
    let text = "{\n  \"n\": \"a\"\n  \"c\": 3\n}\n";
    let (_, issues, _) = read_bytes_all("q.json", text.as_bytes().to_vec());
    assert_eq!(places(&issues), [(3, 3, SkipReason::InvalidJson)]);
}

/// Found by a tester: a string left open at a line's end made the rest of
/// the input look like text, and the document was "never ending" at 1:1;
/// the raw newline in the string is the error, and where it is.
#[test]
fn a_string_open_at_a_line_end_is_the_error_not_a_document_never_ending() {
    let text = "{\n  \"a\": 1,\n  \"b\": \"abc\n}\n";
    let (events, issues, _) = read_bytes_all("j.json", text.as_bytes().to_vec());
    assert!(events.is_empty());
    assert_eq!(places(&issues), [(3, 11, SkipReason::InvalidJson)]);
    assert_eq!(
        issues[0].message,
        "control character (\\u0000-\\u001F) found while parsing a string"
    );
}

#[test]
fn truncated_pretty_object_is_reported() {
    let text = "{\n \"n\": \"a\"\n}\n{\n \"n\": \"b\"\n";
    let (events, issues, _) = read_bytes_all("t.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a"]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].reason),
        (4, SkipReason::Truncated)
    );
}

#[test]
fn search_response_yields_hits_with_index_and_id() {
    let (events, stats) = read_text("resp.json", SEARCH, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(
        events[0].index.as_deref(),
        Some("logs-endpoint.events.process-default")
    );
    assert_eq!(events[0].id.as_deref(), Some("id1"));
    assert_eq!(
        events[1].index.as_deref(),
        Some(".ds-logs-x-default-2024.01.01-000001")
    );
    assert_eq!(events[1].id.as_deref(), Some("id2"));
    assert_eq!(events[0].first_str("process.name"), Some("bash"));
    // The source is the hit's _source, not the whole hit.
    assert_eq!(events[1].source(), "{\"n\": \"b\"}");
    assert_eq!(lines(&events), [8, 10]);
    assert_eq!(stats.issue_count(), 0);
}

#[test]
fn scroll_dumps_concatenated_or_one_response_per_line() {
    let page = |ids: &[&str]| {
        let hits: Vec<String> = ids
            .iter()
            .map(|i| format!(r#"{{"_index":"idx","_id":"{i}","_source":{{"n":"{i}"}}}}"#))
            .collect();
        format!(
            r#"{{"_scroll_id":"abc","hits":{{"hits":[{}]}}}}"#,
            hits.join(",")
        )
    };
    let per_line = format!("{}\n{}\n{}\n", page(&["a", "b"]), page(&["c"]), page(&[]));
    let (events, stats) = read_text("scroll.ndjson", &per_line, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(lines(&events), [1, 1, 2]);
    // The last page, without hits, is counted: every line adds up.
    assert_eq!(stats.issue_count(), 1);
    assert_eq!(stats.skipped_for(SkipReason::Empty), 1);

    let concatenated = format!("{SEARCH}{SEARCH}");
    let (events, _) = read_text("two.json", &concatenated, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "a", "b"]);
    assert_eq!(lines(&events), [8, 10, 22, 24]);
}

#[test]
fn bare_hits_one_per_line() {
    let text = concat!(
        r#"{"_index":"logs-a","_id":"1","_source":{"n":"a"}}"#,
        "\n",
        r#"{"_id":2,"_source":{"n":"b"}}"#,
        "\n",
        r#"{"_index":"logs-a","_id":"3"}"#,
        "\n",
    );
    let (events, issues, _) = read_bytes_all("hits.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(events[0].index.as_deref(), Some("logs-a"));
    assert_eq!(events[1].index, None);
    assert_eq!(events[1].id.as_deref(), Some("2"));
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].reason),
        (3, SkipReason::NoSource)
    );
}

#[test]
fn eql_response_events_and_sequences() {
    let text = r#"{"is_partial":false,"hits":{"total":{"value":1},"sequences":[{"join_keys":["x"],"events":[{"_index":"i","_id":"1","_source":{"n":"a"}},{"_index":"i","_id":"2","_source":{"n":"b"}}]}]}}
{"hits":{"events":[{"_index":"i","_id":"3","_source":{"n":"c"}}]}}"#;
    let (events, stats) = read_text("eql.ndjson", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(stats.issue_count(), 0);
}

#[test]
fn esarchiver_docs_separated_by_blank_lines() {
    let text = r#"{
  "type": "doc",
  "value": {
    "id": "doc1",
    "index": "run-parts",
    "source": {
      "n": "a"
    }
  }
}

{
  "type": "doc",
  "value": {
    "index": "other",
    "id": "doc2",
    "source": {"n": "b"}
  }
}

{"type": "index", "value": {"index": "x", "mappings": {}}}
"#;
    let (events, issues, _) = read_bytes_all("data.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(events[0].index.as_deref(), Some("run-parts"));
    assert_eq!(events[0].id.as_deref(), Some("doc1"));
    assert_eq!(events[1].id.as_deref(), Some("doc2"));
    assert_eq!(lines(&events), [1, 12]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].reason),
        (21, SkipReason::NotAnEvent)
    );
}

#[test]
fn comment_lines_are_skipped_in_every_mode() {
    let array = "// leading\n[\n {\"n\":\"a\"},\n\n ////test2\n {\"n\":\"b\"}\n]\n";
    let (events, stats) = read_text("c.json", array, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [3, 6]);
    assert_eq!(stats.issue_count(), 0);
    let ndjson = "// header\n{\"n\":\"a\"}\n  // note\n{\"n\":\"b\"}\n";
    let (events, stats) = read_text("c.ndjson", ndjson, ReadOptions::default());
    assert_eq!(lines(&events), [2, 4]);
    assert_eq!(stats.issue_count(), 0);
}

#[test]
fn utf8_bom_is_ignored() {
    let text = "\u{feff}{\"n\":\"a\"}\n{\"n\":\"b\"}\n";
    let (events, stats) = read_text("bom.ndjson", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(stats.issue_count(), 0);
}

/// A byte order mark opening the first line with content, after blank
/// lines or a line holding only a mark (files joined with `cat`), does not
/// make the file "not JSON": detection skips it as line mode does.
#[test]
fn a_byte_order_mark_after_blank_lines_is_skipped_too() {
    let marked = "\n\u{feff}{\"n\":\"a\"}\n\u{feff}{\"n\":\"b\"}\n";
    let only_mark = "\u{feff}\n\u{feff}{\"n\":\"a\"}\n\u{feff}{\"n\":\"b\"}\n";
    let spaced = "\n\n\u{feff}  {\"n\":\"a\"}\n{\"n\":\"b\"}\n";
    for text in [marked, only_mark] {
        let (events, stats) = read_text("bom.ndjson", text, ReadOptions::default());
        assert_eq!(names(&events), ["a", "b"], "{text:?}");
        assert_eq!(lines(&events), [2, 3], "{text:?}");
        assert_eq!(stats.issue_count(), 0, "{text:?}");
    }
    let (events, stats) = read_text("bom.ndjson", spaced, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [3, 4]);
    assert_eq!(stats.issue_count(), 0);
    // A mapped file (over 1 MiB) reads its lines from the mapping.
    let dir = std::env::temp_dir().join(format!("talon-bom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.ndjson");
    let mut big = String::from("\n");
    for i in 0..40_000 {
        big.push_str(&format!(
            "\u{feff}{{\"n\":\"e{i}\",\"pad\":\"{}\"}}\n",
            "x".repeat(20)
        ));
    }
    std::fs::write(&path, &big).unwrap();
    let (events, stats) = talon_event::read::EventReader::new(
        vec![talon_event::read::InputSpec::Path(path)],
        ReadOptions::default(),
    )
    .read_all();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(events.len(), 40_000);
    assert_eq!(events[0].values("n"), &[Value::str("e0")]);
    assert_eq!(lines(&events)[..2], [2, 3]);
    assert_eq!(stats.issue_count(), 0);
}

#[test]
fn pipeline_test_wrappers_unwrap_their_events() {
    let text = "{\n \"events\": [\n  {\"n\": \"a\"},\n  {\"n\": \"b\"}\n ]\n}\n";
    let (events, _) = read_text("test.json", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [3, 4]);
    let expected = "{\"expected\": [{\"n\": \"c\"}]}";
    let (events, _) = read_text("expected.json", expected, ReadOptions::default());
    assert_eq!(names(&events), ["c"]);
    // With another key beside it, "events" is just a field.
    let plain = "{\"events\": [{\"n\": \"a\"}], \"n\": \"x\"}";
    let (events, _) = read_text("plain.json", plain, ReadOptions::default());
    assert_eq!(names(&events), ["x"]);
    assert_eq!(events[0].values("events.n"), &[Value::str("a")]);
}

#[test]
fn gzip_and_zstd_are_detected_by_content() {
    let inputs = [
        ("nd", NDJSON, vec!["a", "b", "c"]),
        ("arr", ARRAY, vec!["a", "b", "c"]),
        ("resp", SEARCH, vec!["a", "b"]),
    ];
    for (label, text, expected) in inputs {
        for (kind, bytes) in [
            ("gz", gzip(text.as_bytes())),
            ("zst", zstd(text.as_bytes())),
        ] {
            // Deliberately misleading name: detection is by magic bytes.
            let name = format!("{label}.{kind}.txt");
            let raw_len = bytes.len() as u64;
            let (events, issues, stats) = read_bytes_all(&name, bytes);
            assert_eq!(names(&events), expected, "{name}");
            assert!(issues.is_empty(), "{name}: {issues:?}");
            assert_eq!(stats.bytes, raw_len, "{name}");
            assert_eq!(stats.decoded_bytes, text.len() as u64, "{name}");
        }
    }
    // Concatenated gzip members read as one stream, like gunzip.
    let mut two = gzip(b"{\"n\":\"a\"}\n");
    two.extend(gzip(b"{\"n\":\"b\"}\n"));
    let (events, issues, _) = read_bytes_all("two.gz", two);
    assert_eq!(names(&events), ["a", "b"]);
    assert!(issues.is_empty());
}

/// From a fresh user: a zstd stream that starts with a skippable frame
/// (as `pzstd` writes them) read as one "not JSON" issue, nothing read.
#[test]
fn zstd_starting_with_a_skippable_frame_is_zstd() {
    let skippable = |magic: u8| {
        let mut frame = vec![magic, 0x2a, 0x4d, 0x18, 4, 0, 0, 0];
        frame.extend_from_slice(b"meta");
        frame
    };
    let text = format!("{NDJSON}\n");
    for magic in [0x50, 0x5a, 0x5f] {
        let mut bytes = skippable(magic);
        bytes.extend(zstd(text.as_bytes()));
        bytes.extend(skippable(magic));
        bytes.extend(zstd(b"{\"n\":\"d\"}\n"));
        let (events, issues, stats) = read_bytes_all("pz.zst", bytes);
        assert_eq!(names(&events), ["a", "b", "c", "d"], "{magic:#x}");
        assert!(issues.is_empty(), "{magic:#x}: {issues:?}");
        assert_eq!(stats.decoded_bytes, text.len() as u64 + 10, "{magic:#x}");
    }
    // A skippable frame alone is an empty zstd stream: nothing, no issue.
    let (events, issues, _) = read_bytes_all("only.zst", skippable(0x50));
    assert!(events.is_empty());
    assert!(issues.is_empty(), "{issues:?}");
}

/// From a fresh user: `gzip -c f.gz` read as one "not JSON" issue. A
/// compressed input inside a compressed input is undone too; a format
/// talon cannot read inside one is named.
#[test]
fn compression_inside_compression_is_undone() {
    let text = NDJSON.as_bytes();
    for (label, bytes) in [
        ("gz.gz", gzip(&gzip(text))),
        ("zst.gz", gzip(&zstd(text))),
        ("gz.zst", zstd(&gzip(text))),
        ("gz.gz.gz", gzip(&gzip(&gzip(text)))),
    ] {
        let (events, issues, stats) = read_bytes_all(label, bytes);
        assert_eq!(names(&events), ["a", "b", "c"], "{label}");
        assert!(issues.is_empty(), "{label}: {issues:?}");
        assert_eq!(stats.decoded_bytes, text.len() as u64, "{label}");
    }
    let mut xz = vec![0xfd, b'7', b'z', b'X', b'Z', 0x00];
    xz.extend_from_slice(b"rest");
    let (events, issues, _) = read_bytes_all("xz.gz", gzip(&xz));
    assert!(events.is_empty());
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].reason, SkipReason::Decompression);
    assert!(
        issues[0]
            .message
            .contains("xz-compressed data inside the compressed input"),
        "{}",
        issues[0].message
    );
    // Five layers are refused rather than undone without end.
    let mut deep = text.to_vec();
    for _ in 0..6 {
        deep = gzip(&deep);
    }
    let (events, issues, _) = read_bytes_all("deep.gz", deep);
    assert!(events.is_empty());
    assert!(
        issues[0]
            .message
            .contains("compressed more than 4 times over"),
        "{}",
        issues[0].message
    );
}

#[test]
fn corrupt_compressed_input_is_one_issue() {
    let mut bytes = gzip("{\"n\":\"a\"}\n".repeat(1000).as_bytes());
    let len = bytes.len();
    bytes.truncate(len / 2);
    let (_events, issues, stats) = read_bytes_all("cut.gz", bytes);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].reason, SkipReason::Decompression);
    assert_eq!(stats.skipped_for(SkipReason::Decompression), 1);

    let mut bad = vec![0x28, 0xb5, 0x2f, 0xfd];
    bad.extend_from_slice(b"garbage that is not a zstd frame");
    let (events, issues, _) = read_bytes_all("bad.zst", bad);
    assert!(events.is_empty());
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].reason, SkipReason::Decompression);
}

#[test]
fn empty_and_blank_inputs_read_nothing_without_issues() {
    for text in ["", "\n\n  \n"] {
        let (events, stats) = read_text("e", text, ReadOptions::default());
        assert!(events.is_empty(), "{text:?}");
        assert_eq!(stats.issue_count(), 0, "{text:?}");
    }
    // An empty array is a document, counted as holding no event.
    for text in ["[]", "[\n]\n"] {
        let (events, stats) = read_text("e", text, ReadOptions::default());
        assert!(events.is_empty(), "{text:?}");
        assert_eq!(stats.skipped_for(SkipReason::Empty), 1, "{text:?}");
    }
}

#[test]
fn max_issues_limits_what_is_kept_not_what_is_counted() {
    // An NDJSON file with 30 bad lines after its first event: per-line
    // issues (a whole non-JSON file would be one).
    let text = format!("{{}}\n{}", "x\n".repeat(30));
    let (_, stats) = read_text("junk", &text, ReadOptions::default());
    assert_eq!(stats.issue_count(), 30);
    assert_eq!(stats.issues.len(), 20);
    assert_eq!(stats.issues_not_shown(), 10);
    assert_eq!(stats.issues[19].line, 21);
    let (_, stats) = read_text("junk", &text, ReadOptions::default().with_max_issues(3));
    assert_eq!((stats.issue_count(), stats.issues.len()), (30, 3));
    assert_eq!(
        stats.to_string(),
        "1 file, 63 bytes, 1 event, 30 skipped (not-json: 30)"
    );
}

#[test]
fn a_non_json_file_is_one_issue_for_the_whole_file() {
    let text = "type=SYSCALL msg=audit(1.1:2): arch=c000003e\n\n<13>Oct 16 lsys sysmon: <Event/>\n[[queries]]\nname = \"x\"\n";
    let (events, issues, stats) = read_bytes_all("audit.log", text.as_bytes().to_vec());
    assert!(events.is_empty());
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].column, issues[0].reason),
        (1, 0, SkipReason::NotJson)
    );
    assert_eq!(
        issues[0].to_string(),
        "audit.log:1: not-json: not a JSON event file (4 lines skipped)"
    );
    assert_eq!(stats.skipped_for(SkipReason::NotJson), 1);
    assert_eq!(stats.bytes, text.len() as u64);

    // A TOML file (the `[table]` header is not a JSON array), one line,
    // gzipped: still one issue, and the count says "line".
    let (_, issues, _) = read_bytes_all("t.toml", gzip(b"[rule]\n"));
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].message, "not a JSON event file (1 line skipped)");

    // Leading blank and `//` lines are not the file's content: the issue
    // points at the first line that is.
    let md = "\n// generated\n\n# Title\n\nSome text.\n";
    let (_, issues, _) = read_bytes_all("README.md", md.as_bytes().to_vec());
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        "README.md:4: not-json: not a JSON event file (2 lines skipped)"
    );
}

#[test]
fn a_json_file_with_bad_lines_keeps_per_line_issues() {
    // A first line that is JSON (a scalar) means JSON lines, one of them
    // not an event, not a text file.
    let text = "42\n{\"n\":\"a\"}\nnot json\n";
    let (events, issues, _) = read_bytes_all("s.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a"]);
    let got: Vec<(u64, SkipReason)> = issues.iter().map(|i| (i.line, i.reason)).collect();
    assert_eq!(
        got,
        [(1, SkipReason::NotAnObject), (3, SkipReason::NotJson)]
    );
    assert_eq!(issues[1].message, "not JSON: not json");
}

/// A search response with hits `0..n`, one hit per line after the first.
fn response(n: usize) -> String {
    let hits: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"_index":"i","_id":"{i}","_source":{{"n":"{i}"}}}}"#))
        .collect();
    format!(
        "{{\"took\":1,\"hits\":{{\"total\":{{\"value\":{n}}},\"hits\":[\n{}\n]}}}}\n",
        hits.join(",\n")
    )
}

#[test]
fn a_cut_search_response_keeps_its_complete_hits() {
    let full = response(120);
    let hit60 = full.find(r#"{"_index":"i","_id":"60""#).unwrap();
    // Cut in the middle of hit 60 (line 62).
    let cut = &full[..hit60 + 20];
    let (events, issues, stats) = read_bytes_all("resp.json", cut.as_bytes().to_vec());
    assert_eq!(events.len(), 60);
    assert_eq!(events[59].first_str("n"), Some("59"));
    assert_eq!(events[59].id.as_deref(), Some("59"));
    assert_eq!(events[59].index.as_deref(), Some("i"));
    assert_eq!((events[0].origin.line, events[59].origin.line), (2, 61));
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        "resp.json:62:1: truncated: search response cut short inside this hit \
         (20 bytes to end of input); the 60 complete hits before it were read"
    );
    assert_eq!(stats.skipped_for(SkipReason::Truncated), 1);

    // Cut between two hits: nothing is inside a hit, the response is cut.
    let cut = &full[..hit60];
    let (events, issues, _) = read_bytes_all("resp.json", cut.as_bytes().to_vec());
    assert_eq!(events.len(), 60);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        format!(
            "resp.json:1:1: truncated: search response cut short ({hit60} bytes to end of \
             input); the 60 complete hits in it were read"
        )
    );

    // The same response on one line (curl's output), cut inside a
    // multi-byte character of hit 2.
    let one_line = full.replace('\n', "").replace(r#""n":"2""#, r#""n":"é2""#);
    let at = one_line.find('é').unwrap() + 1;
    let (events, issues, _) = read_bytes_all("resp.json", one_line.as_bytes()[..at].to_vec());
    assert_eq!(names(&events), ["0", "1"]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].reason),
        (1, SkipReason::Truncated)
    );
    assert!(issues[0]
        .message
        .ends_with("the 2 complete hits before it were read"));
}

#[test]
fn a_cut_scroll_dump_keeps_the_hits_of_its_last_page() {
    // One response per line; the last line cut mid-write.
    // A page of `n` hits (ids 0..n), on one line.
    let page = |n: usize| {
        response(n)
            .replace('\n', "")
            .replace(r#""took":1,"#, r#""_scroll_id":"s","#)
    };
    let dump = format!("{}\n{}", page(2), page(5));
    let cut_at = dump.rfind(r#"{"_index":"i","_id":"4""#).unwrap() + 5;
    let (events, issues, _) = read_bytes_all("scroll.ndjson", dump.as_bytes()[..cut_at].to_vec());
    assert_eq!(names(&events), ["0", "1", "0", "1", "2", "3"]);
    assert_eq!(lines(&events), [1, 1, 2, 2, 2, 2]);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].reason, SkipReason::Truncated);
    assert_eq!(issues[0].line, 2);
    assert_eq!(
        issues[0].message,
        "search response cut short inside this hit (5 bytes to end of line); \
         the 4 complete hits before it were read"
    );
}

#[test]
fn a_cut_eql_response_keeps_its_complete_sequence_events() {
    let text = r#"{"hits":{"sequences":[{"join_keys":["x"],"events":[{"_index":"i","_id":"1","_source":{"n":"a"}},{"_index":"i","_id":"2","_source":{"n":"b"}}]},{"events":[{"_index":"i","_id":"3","_source":{"n":"c"}},{"_index":"i","_id":"4","_sou"#;
    let (events, issues, _) = read_bytes_all("eql.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].reason, SkipReason::Truncated);
    assert!(issues[0]
        .message
        .ends_with("the 3 complete hits before it were read"));
}

#[test]
fn a_response_cut_before_its_hits_is_one_truncated_document() {
    let text = "{\"took\":1,\"_shards\":{\"total\":";
    let (events, issues, _) = read_bytes_all("r.json", text.as_bytes().to_vec());
    assert!(events.is_empty());
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        "r.json:1:1: truncated: document never ends (29 bytes to end of input)"
    );
}

#[test]
fn an_array_missing_its_closing_bracket_is_reported() {
    let text = "[\n {\"n\":\"a\"},\n {\"n\":\"b\"}\n";
    let (events, issues, _) = read_bytes_all("a.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        "a.json:1:1: truncated: array never closed: the input ends before its `]` \
         (the complete elements before were read)"
    );
    // A cut element already says the array is incomplete: one issue only.
    let text = "[\n {\"n\":\"a\"},\n {\"n\":";
    let (events, issues, _) = read_bytes_all("a.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a"]);
    let got = places(&issues);
    assert_eq!(got, [(3, 2, SkipReason::Truncated)]);
}

/// Delivers its bytes a few at a time, like a slow pipe.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[test]
fn slow_pipes_read_like_files() {
    let archive = "{\n \"type\": \"doc\",\n \"value\": {\"id\": \"1\", \"source\": {\"n\": \"a\"}}\n}\n\n{\"type\":\"doc\",\"value\":{\"id\":\"2\",\"source\":{\"n\":\"b\"}}}\n";
    let bad = "{\"n\":\"a\"}\n{\"n\":\n{\"n\":\"b\"}\n";
    let bom = "\u{feff}{\"n\":\"a\"}\n";
    let later_bom = "\u{feff}\n\n\u{feff}{\"n\":\"a\"}\n\u{feff}{\"n\":\"b\"}\n";
    for text in [NDJSON, ARRAY, SEARCH, archive, bad, bom, later_bom] {
        let (want, want_stats) = read_text("-", text, ReadOptions::default());
        for bytes in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
            let trickle = Trickle {
                data: bytes,
                at: 0,
                step: 0,
            };
            let (got, stats) =
                talon_event::read::EventReader::from_reader("-", trickle, ReadOptions::default())
                    .read_all();
            assert_eq!(names(&got), names(&want), "{text:?}");
            assert_eq!(lines(&got), lines(&want), "{text:?}");
            assert_eq!(stats.issues, want_stats.issues, "{text:?}");
        }
    }
}

#[test]
fn a_broken_first_ndjson_line_does_not_swallow_the_file() {
    let text = "{\"n\":\n{\"n\":\"a\"}\n{\"n\":\"b\"}\n";
    let (events, issues, _) = read_bytes_all("first-bad.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [2, 3]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        (issues[0].line, issues[0].reason),
        (1, SkipReason::InvalidJson)
    );
}

#[test]
fn a_multi_valued_timestamp_is_read_as_is() {
    // The reader does not interpret `@timestamp`: every value is kept, in
    // order, for the engine to decide which one orders the event.
    let text = "{\"@timestamp\":[\"2024-01-02T00:00:00Z\",\"2024-01-01T00:00:00Z\"]}\n";
    let (events, stats) = read_text("ts.ndjson", text, ReadOptions::default());
    assert_eq!(stats.issue_count(), 0);
    assert_eq!(
        events[0].values("@timestamp"),
        &[
            Value::str("2024-01-02T00:00:00Z"),
            Value::str("2024-01-01T00:00:00Z")
        ]
    );
}

fn issue_places(issues: &[talon_event::read::ReadIssue]) -> Vec<(u64, u64, SkipReason)> {
    issues
        .iter()
        .map(|i| (i.line, i.column, i.reason))
        .collect()
}

/// Two broken lines first (so that the second line is no complete object
/// either) used to send the file to framed mode, where the first line's
/// object never ended: the whole file was one `truncated` issue.
#[test]
fn two_broken_first_ndjson_lines_do_not_swallow_the_file() {
    let text = "{\"n\": 1\n{\"m\": 2\n{\"n\":\"a\"}\n\n{\"n\":\"b\"}\n{\"n\":\"c\"}\n";
    let (events, issues, stats) = read_bytes_all("two-bad.ndjson", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(lines(&events), [3, 5, 6]);
    assert_eq!(
        issue_places(&issues),
        [
            (1, 7, SkipReason::InvalidJson),
            (2, 7, SkipReason::InvalidJson)
        ]
    );
    assert_eq!(issues[0].message, "EOF while parsing an object");
    assert_eq!((stats.events, stats.issue_count()), (3, 2));
}

/// Pretty-printed objects one after another: one missing its closing `}`
/// used to swallow every later object (one `truncated` issue at the end).
/// The next object starting at column 1 where the open one cannot take an
/// object starts a new document.
#[test]
fn a_pretty_object_missing_its_brace_does_not_swallow_the_next_ones() {
    let text = "{\n  \"n\": \"a\"\n}\n{\n  \"x\": 1,\n  \"y\": {\n    \"z\": 2\n  }\n{\n  \"n\": \"b\"\n}\n{\n  \"n\": \"c\"\n}\n";
    let (events, issues, stats) = read_bytes_all("p.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(lines(&events), [1, 9, 12]);
    assert_eq!(issues.len(), 1);
    assert_eq!(
        issues[0].to_string(),
        "p.json:4:1: invalid-json: document never closed: line 9 starts a new one \
         at column 1 (36 bytes skipped)"
    );
    assert_eq!((stats.events, stats.issue_count()), (3, 1));

    // An error before the cut is reported where it is.
    let text = "{\n  \"x\": 1\n  \"y\": 2\n{\n  \"n\": \"b\"\n}\n";
    let (events, issues, _) = read_bytes_all("p.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["b"]);
    assert_eq!(issue_places(&issues), [(3, 3, SkipReason::InvalidJson)]);
    assert_eq!(issues[0].message, "expected `,` or `}`");

    // A line cut inside a string: strings hold no raw newline.
    let text = "{\"n\": \"a\n{\"n\": \"b\"}\n{\n  \"n\": \"c\"\n}\n";
    let (events, issues, _) = read_bytes_all("s.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["b", "c"]);
    assert_eq!(issue_places(&issues), [(1, 8, SkipReason::InvalidJson)]);
    assert_eq!(
        issues[0].message,
        "control character (\\u0000-\\u001F) found while parsing a string"
    );
}

/// Objects at column 1 where the open document may hold one (after `:`
/// in an object, after `[` or `,` in an array) are part of it: valid JSON
/// is never cut.
#[test]
fn objects_at_column_1_inside_a_document_do_not_cut_it() {
    let text = "{\"hits\":{\"hits\":[\n{\"_source\":{\"n\":\"a\"}},\n{\"_source\":{\"n\":\"b\"}}\n]}}\n{\"n\":\n{\"m\":1}}\n";
    let (events, issues, _) = read_bytes_all("r.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b", "?"]);
    assert_eq!(lines(&events), [2, 3, 5]);
    assert!(issues.is_empty(), "{issues:?}");
}

/// A broken pretty object, then a compact object, then pretty ones again:
/// one compact object is not taken for NDJSON, which would read the pretty
/// ones line by line.
#[test]
fn a_compact_object_among_pretty_ones_keeps_them_framed() {
    let text = "{\n  \"n\": \"x\"\n{\"n\":\"a\"}\n{\n  \"n\": \"b\"\n}\n";
    let (events, issues, _) = read_bytes_all("m.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [3, 4]);
    assert_eq!(issue_places(&issues), [(1, 1, SkipReason::InvalidJson)]);
}

/// A first line that is no JSON at all (a header, an event cut at its
/// start by `tail -c`) used to make the whole file one `not-json` issue,
/// every event after it lost. When most lines after it are one-line
/// objects, it is NDJSON with one bad line: that line is one issue, at
/// line 1, and the counts still add up to the file's lines.
#[test]
fn a_junk_first_line_before_ndjson_loses_only_itself() {
    let rest = "{\"n\":\"a\"}\n\n{\"n\":\"b\"}\n{\"n\":\"c\"}\n";
    for (first, issue) in [
        (
            "# exported by some tool",
            "not-json: not JSON: # exported by some tool",
        ),
        (
            "ss\":{\"name\":\"bash\",\"pid\":42}}",
            "not-json: not JSON: ss\":{\"name\":\"bash\",\"pid\":42}}",
        ),
        (
            "\"name\":\"bash\",\"pid\":42}}",
            "not-json: not JSON: \"name\":\"bash\",\"pid\":42}}",
        ),
        ("\"header\"", "not-an-object: a JSON string is not an event"),
    ] {
        let text = format!("{first}\n{rest}");
        let (events, issues, stats) = read_bytes_all("cut.ndjson", text.into_bytes());
        assert_eq!(names(&events), ["a", "b", "c"], "{first}");
        assert_eq!(lines(&events), [2, 4, 5], "{first}");
        let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(got, [format!("cut.ndjson:1:1: {issue}")], "{first}");
        // 3 events, 1 blank line, 1 issue: the 5 lines.
        assert_eq!(
            (stats.events, stats.blank, stats.issue_count()),
            (3, 1, 1),
            "{first}"
        );
    }
}

/// Text with one object line amid other lines (an example in a README)
/// is still not a JSON file: one issue counting its lines, not one issue
/// per line of prose.
#[test]
fn prose_with_an_object_line_is_still_one_not_json_issue() {
    let text = "# Notes\n\nSome prose.\n```json\n{\"n\":\"a\"}\n```\nMore prose.\n";
    let (events, issues, _) = read_bytes_all("notes.md", text.as_bytes().to_vec());
    assert!(events.is_empty());
    let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        got,
        ["notes.md:1: not-json: not a JSON event file (6 lines skipped)"]
    );
    // A header and a single object after it: the object is the file.
    let (events, issues, _) = read_bytes_all("one.ndjson", b"# header\n{\"n\":\"a\"}\n".to_vec());
    assert_eq!(names(&events), ["a"]);
    assert_eq!(issue_places(&issues), [(1, 1, SkipReason::NotJson)]);
}

/// An array element missing its closing `}` used to run on to the
/// array's `]`, which closed it (a mismatch), so the array itself never
/// closed: one `truncated: array never closed` issue at the `[`, and every
/// element after the broken one lost. The broken element is one issue
/// where it starts; the next element, on a line of its own no further
/// right than the broken one, is read; the array ends at its `]`.
#[test]
fn an_array_element_missing_its_brace_loses_only_itself() {
    for indent in ["", "  "] {
        let text = format!(
            "[\n{indent}{{\"n\":\"a\"}},\n{indent}{{\"n\":\"b\",\n{indent}{{\"n\":\"c\"}}\n]\n"
        );
        let (events, issues, stats) = read_bytes_all("arr_bad.json", text.into_bytes());
        assert_eq!(names(&events), ["a", "c"], "{indent:?}");
        assert_eq!(lines(&events), [2, 4], "{indent:?}");
        let col = indent.len() + 1;
        let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            got,
            [format!(
                "arr_bad.json:3:{col}: invalid-json: document never closed: line 4 starts \
                 a new one at column {col} ({} bytes skipped)",
                10 + indent.len()
            )],
            "{indent:?}"
        );
        assert_eq!((stats.events, stats.issue_count()), (2, 1));
    }

    // The last element: the array's `]` ends it, and the array.
    let text = "[\n  {\"n\":\"a\"},\n  {\"n\":\"b\"\n]\n";
    let (events, issues, _) = read_bytes_all("last.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a"]);
    let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        got,
        [
            "last.json:3:3: invalid-json: document never closed: the `]` at line 4, \
          column 1 ends the array (9 bytes skipped)"
        ]
    );

    // An inner object missing its brace: the same.
    let text = "[\n  {\"n\":\"a\",\"x\":{\"y\":1,\n  {\"n\":\"b\"}\n]\n";
    let (events, issues, _) = read_bytes_all("inner.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["b"]);
    assert_eq!(issue_places(&issues), [(2, 3, SkipReason::InvalidJson)]);

    // A mistake the parser sees before the cut is reported where it is.
    let text = "[\n  {\"n\":\"a\" \"m\":1,\n  {\"n\":\"b\"}\n]\n";
    let (events, issues, _) = read_bytes_all("err.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["b"]);
    assert_eq!(issue_places(&issues), [(2, 12, SkipReason::InvalidJson)]);
    assert_eq!(issues[0].message, "expected `,` or `}`");
}

/// Objects and `]` inside an element, at its column or left of it, where
/// JSON allows them (an object after `[` or `,` in an inner array, a `]`
/// closing an inner array) do not cut it: valid JSON is never cut.
#[test]
fn valid_array_elements_are_never_cut() {
    let text = "[\n{\"n\":\"a\",\"list\":[\n{\"x\":1},\n{\"x\":\"]\"}\n]},\n  {\"n\":\"b\"}\n]\n";
    let (events, issues, _) = read_bytes_all("ok.json", text.as_bytes().to_vec());
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(lines(&events), [2, 6]);
}

/// A stream's first read hands over a few bytes only, and detection
/// judged the first line by them: a log whose lines start with a date
/// (`2026-12-04 ...`, seen as `2026`, a number) was taken for JSON lines,
/// one `not-json` issue per line, and a first line `"header"` (seen as
/// `"hea`) made JSON lines one `not-json` issue. The line is judged whole.
#[test]
fn the_first_line_is_judged_whole() {
    let log: String = (1..=5)
        .map(|i| format!("2026-12-04 10:00:0{i} host sshd[1]: session opened\n"))
        .collect();
    let (events, issues, _) = read_bytes_all("auth.log", log.into_bytes());
    assert!(events.is_empty());
    let got: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        got,
        ["auth.log:1: not-json: not a JSON event file (5 lines skipped)"]
    );

    let text = "\"header\"\nplain text\n";
    let (events, issues, _) = read_bytes_all("lines.json", text.as_bytes().to_vec());
    assert!(events.is_empty());
    assert_eq!(
        issue_places(&issues),
        [(1, 1, SkipReason::NotAnObject), (2, 1, SkipReason::NotJson)]
    );
}

#[test]
fn documents_without_events_are_counted_as_empty() {
    // Found by a fresh user: `[]` lines were counted nowhere, so the
    // events and skips no longer added up to the input's lines.
    // (file name, text, events read, issues where and why)
    type Case = (
        &'static str,
        &'static str,
        Vec<&'static str>,
        Vec<(u64, u64, SkipReason)>,
    );
    let cases: [Case; 4] = [
        // A file of `[]` lines starts like a JSON array: framed mode.
        (
            "e.ndjson",
            "[]\n[]\n  []\n",
            vec![],
            vec![
                (1, 1, SkipReason::Empty),
                (2, 1, SkipReason::Empty),
                (3, 3, SkipReason::Empty),
            ],
        ),
        // After an event, line mode: one issue per empty line.
        (
            "l.ndjson",
            "{\"n\":\"a\"}\n[]\n [ ]\n[{\"n\":\"b\"}]\n",
            vec!["a", "b"],
            vec![(2, 1, SkipReason::Empty), (3, 2, SkipReason::Empty)],
        ),
        // A search response without hits holds no event either.
        (
            "r.ndjson",
            "{\"n\":\"a\"}\n{\"hits\":{\"hits\":[]}}\n",
            vec!["a"],
            vec![(2, 1, SkipReason::Empty)],
        ),
        // An array whose elements are empty arrays holds none: one issue
        // for each, none for the array that held events.
        (
            "n.json",
            "[[], {\"n\":\"a\"}]\n",
            vec!["a"],
            vec![(1, 2, SkipReason::Empty)],
        ),
    ];
    for (name, text, want, issues) in cases {
        let (events, got, stats) = read_bytes_all(name, text.as_bytes().to_vec());
        assert_eq!(names(&events), want, "{name}");
        assert_eq!(places(&got), issues, "{name}");
        assert_eq!(
            stats.skipped.get(&SkipReason::Empty).copied().unwrap_or(0),
            issues.len() as u64,
            "{name}"
        );
    }
    // The whole-file `[]` of an export with no events.
    let (events, got, _) = read_bytes_all("a.json", b"[\n]\n".to_vec());
    assert!(events.is_empty());
    assert_eq!(places(&got), [(1, 1, SkipReason::Empty)]);
    assert_eq!(got[0].message, "an empty array holds no event");
}

#[test]
fn blank_and_comment_lines_between_framed_values_are_counted() {
    // Found by a fresh user: a file whose first line is a JSON array is
    // read in framed mode, where blank and `//` lines went uncounted.
    let text = "[{\"n\":\"a\"}]\n\n// note\n{\"n\":\"b\"}\n";
    let (events, stats) = read_text("arr.ndjson", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(stats.blank, 2);
    // A pretty array with a blank and a comment line inside, a blank line
    // after it and a last line of spaces: 4 of its 9 lines.
    let text = "[\n  {\"n\":\"a\"},\n\n  // c\n  {\"n\":\"b\"}\n]\n\n{\"n\":\"c\"}\n  \n";
    let (events, stats) = read_text("p.json", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(stats.blank, 4);
    // A comment after a value on its line is not a comment line.
    let text = "[{\"n\":\"a\"}] // trailing\n{\"n\":\"b\"}\n";
    let (events, stats) = read_text("t.json", text, ReadOptions::default());
    assert_eq!(names(&events), ["a", "b"]);
    assert_eq!(stats.blank, 0);
}

#[test]
fn a_search_hit_that_is_not_an_object_is_said_to_be_none() {
    // Found by a fresh user: the parser's own words ("invalid type:
    // integer `5`, expected struct Hit") for valid JSON.
    let text = "{\"hits\":{\"hits\":[5,\"s\",[1],{\"_source\":{\"n\":\"a\"}}]}}\n";
    let (events, issues, _) = read_bytes_all("h.json", text.as_bytes().to_vec());
    assert_eq!(names(&events), ["a"]);
    let got: Vec<(SkipReason, &str)> = issues
        .iter()
        .map(|i| (i.reason, i.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (SkipReason::NotAnObject, "a JSON number is not a search hit"),
            (SkipReason::NotAnObject, "a JSON string is not a search hit"),
            (SkipReason::NotAnObject, "a JSON array is not a search hit"),
        ]
    );
}

/// Found by a tester: `--max-line 18446744073709551615` made a reader's
/// limit wrap to 0, and every input read as empty, with no issue. The
/// largest cap reads everything, streamed or mapped.
#[test]
fn the_largest_line_cap_reads_every_line() {
    let options = || ReadOptions {
        max_line: usize::MAX,
        ..ReadOptions::default()
    };
    let (events, stats) = read_text("big.ndjson", NDJSON, options());
    assert_eq!(names(&events), ["a", "b", "c"]);
    assert_eq!(stats.issue_count(), 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.ndjson");
    std::fs::write(&path, NDJSON).unwrap();
    for mmap in [true, false] {
        let opts = ReadOptions { mmap, ..options() };
        let mut reader =
            talon_event::read::EventReader::from_args(&[path.to_str().unwrap()], opts).unwrap();
        let events: Vec<Event> = reader.by_ref().filter_map(Result::ok).collect();
        assert_eq!(names(&events), ["a", "b", "c"], "mmap {mmap}");
    }
}

/// Found by a tester: bytes after a complete zstd frame were reported in
/// the decoder's words, "Unknown frame descriptor"; gzip's trailing garbage
/// was already named as such.
#[test]
fn trailing_garbage_after_a_zstd_frame_is_named_as_such() {
    let mut bytes = zstd(format!("{NDJSON}\n").as_bytes());
    bytes.extend_from_slice(b"garbage\n");
    let (events, issues, _) = read_bytes_all("t.ndjson.zst", bytes);
    assert_eq!(names(&events), ["a", "b", "c"]);
    let said: Vec<(SkipReason, &str)> = issues
        .iter()
        .map(|i| (i.reason, i.message.as_str()))
        .collect();
    assert_eq!(
        said,
        [(
            SkipReason::Decompression,
            "zstd: data that is not zstd after a complete frame (trailing garbage; not read); \
             rest of input skipped"
        )]
    );
}
