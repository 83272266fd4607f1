//! Reading in batches gives what reading event by event gives: the same
//! events (source, index, origin, fields) in the same order, and the same
//! counts and issues, whatever the batch size, for every format.

mod common;

use std::io::Write;

use common::read_stepwise;
use talon_event::read::{Batch, ChunkCounts, EventReader, InputSpec, LineParser, ReadOptions};
use talon_event::Event;

/// One event, comparable: source, index, file, line, sorted fields.
type Described = (String, Option<String>, String, u64, Vec<String>);

/// What a reading gave, in a comparable form.
#[derive(Debug, PartialEq)]
struct Read {
    events: Vec<Described>,
    issues: Vec<String>,
    stats: String,
}

fn describe(e: &Event) -> Described {
    let mut fields: Vec<String> = e.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    fields.sort();
    (
        e.source().to_string(),
        e.index.as_deref().map(str::to_string),
        e.origin.file.to_string(),
        e.origin.line,
        fields,
    )
}

fn one_by_one(inputs: &[InputSpec], options: &ReadOptions) -> Read {
    let mut reader = EventReader::new(inputs.to_vec(), options.clone());
    let mut events = Vec::new();
    let mut issues = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(e) => events.push(describe(&e)),
            Err(i) => issues.push(i.to_string()),
        }
    }
    let stats = format!("{:?}", reader.stats());
    Read {
        events,
        issues,
        stats,
    }
}

fn in_batches(inputs: &[InputSpec], options: &ReadOptions, target: usize) -> Read {
    let mut reader = EventReader::new(inputs.to_vec(), options.clone());
    let mut parser = LineParser::new(options);
    let mut events = Vec::new();
    let mut issues = Vec::new();
    while let Some(batch) = reader.next_batch(target) {
        match batch {
            Batch::Lines(chunk) => {
                let mut counts = ChunkCounts::default();
                parser.read(
                    &chunk,
                    &mut |e| events.push(describe(&e.to_event(None))),
                    &mut counts,
                );
                issues.extend(counts.issues.iter().map(|i| i.to_string()));
                reader.record_chunk(&counts);
            }
            Batch::Items(items) => {
                for item in items {
                    match item {
                        Ok(e) => events.push(describe(&e)),
                        Err(i) => issues.push(i.to_string()),
                    }
                }
            }
        }
    }
    let stats = format!("{:?}", reader.stats());
    Read {
        events,
        issues,
        stats,
    }
}

/// Reading in batches, and reading mapped files, give what reading item
/// by item from a stream gives.
fn assert_same(inputs: &[InputSpec], options: &ReadOptions, what: &str) {
    assert_same_in(inputs, options, what, &[1, 100, 4096, 1 << 20]);
}

fn assert_same_in(inputs: &[InputSpec], options: &ReadOptions, what: &str, targets: &[usize]) {
    let mut streamed = options.clone();
    streamed.mmap = false;
    let expected = one_by_one(inputs, &streamed);
    let mapped = one_by_one(inputs, options);
    assert_eq!(mapped, expected, "{what}: item by item, mapped");
    for &target in targets {
        for (how, opts) in [("mapped", options), ("streamed", &streamed)] {
            let got = in_batches(inputs, opts, target);
            let at = format!("{what}, {how}, batches of {target}");
            assert_eq!(got.events, expected.events, "events: {at}");
            assert_eq!(got.issues, expected.issues, "issues: {at}");
            assert_eq!(got.stats, expected.stats, "stats: {at}");
        }
    }
}

/// A file large enough to be mapped: leading blank and comment lines, a
/// byte-order mark, events of every kind, bad lines, no final newline.
fn big_file(bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(b"\n  \n// a comment\n");
    let mut i = 0u64;
    while out.len() < (1 << 20) + 5000 {
        let line = match i % 7 {
            // The index name: plain text (read without decoding), an
            // escaped part (decoded), a part that is no string (no index).
            0 => match (i / 7) % 3 {
                0 => format!(
                    r#"{{"a":{i},"x":"v{i}","data_stream":{{"type":"logs","dataset":"d","namespace":"n"}}}}"#
                ),
                1 => format!(
                    r#"{{"a":{i},"data_stream":{{"type":"logs","dataset":"d","namespace":"n"}}}}"#
                ),
                _ => format!(
                    r#"{{"a":{i},"data_stream":{{"type":"logs","dataset":"d","namespace":5}}}}"#
                ),
            },
            1 => format!(r#"{{"a":"C:\\Windows\\{i}","x":[1,2,{{"y":3}}]}}"#),
            2 => "not json".to_string(),
            3 => String::new(),
            4 => format!(r#"{{"_index":"i","_source":{{"a":{i}}}}}"#),
            5 => format!(r#"{{"a":{i},"a":1}}"#),
            _ => format!(r#"{{"x":"\u00e9{i}"}}"#),
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        i += 1;
    }
    out.extend_from_slice(br#"{"last":true}"#);
    out
}

fn temp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> InputSpec {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    f.write_all(bytes).expect("write");
    InputSpec::Path(path)
}

#[test]
fn hand_made_inputs_read_the_same_in_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ndjson = "{\"a\":1,\"data_stream\":{\"type\":\"logs\",\"dataset\":\"x\",\"namespace\":\"d\"}}\n\
                  \n// comment\nnot json\n{\"a\":\n{\"_index\":\"i\",\"_id\":\"7\",\"_source\":{\"b\":2}}\n\
                  {\"a\":1,\"a\":2}\n\u{0}\n{\"last\":true}";
    let long_line = format!("{{\"x\":\"{}\"}}\n{{\"y\":1}}\n", "z".repeat(200_000));
    let array = "[{\"a\":1},\n{\"a\":2},\n 3]\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(ndjson.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let inputs = vec![
        temp_file(&dir, "a.ndjson", ndjson.as_bytes()),
        temp_file(&dir, "long.ndjson", long_line.as_bytes()),
        temp_file(&dir, "array.json", array.as_bytes()),
        temp_file(&dir, "readme.md", b"# title\n\nsome text\n"),
        temp_file(&dir, "a.ndjson.gz", &gz),
        temp_file(&dir, "cut.gz", &gz[..gz.len() / 2]),
        temp_file(&dir, "empty.ndjson", b""),
        InputSpec::Path(dir.path().join("missing.ndjson")),
    ];
    let r = one_by_one(&inputs, &ReadOptions::default());
    assert_eq!(
        (r.events.len(), r.issues.len()),
        (10, 12),
        "{:#?}",
        r.issues
    );
    assert_same(&inputs, &ReadOptions::default(), "hand-made");
    // Files large enough to be mapped.
    let big = vec![
        temp_file(&dir, "big.ndjson", &big_file(false)),
        temp_file(&dir, "big-bom.ndjson", &big_file(true)),
    ];
    let r = one_by_one(&big, &ReadOptions::default());
    assert!(r.events.len() > 10_000 && r.issues.len() > 10_000);
    // Each way of writing the index name is there to be compared.
    let index_of = |a: i64| {
        let prefix = format!("{{\"a\":{a},");
        r.events
            .iter()
            .find(|(source, ..)| source.starts_with(&prefix))
            .map(|(_, index, ..)| index.clone())
    };
    assert_eq!(index_of(0), Some(Some("logs-d-n".to_string())));
    assert_eq!(index_of(7), Some(Some("logs-d-n".to_string())));
    assert_eq!(index_of(14), Some(None));
    let leaves = ReadOptions::default().with_projection(talon_event::flatten::Projection::only([
        "a",
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
    ]));
    for options in [ReadOptions::default(), leaves] {
        assert_same_in(&big, &options, "mapped files", &[300_000, 4 << 20]);
    }

    let projected = ReadOptions::default()
        .with_projection(talon_event::flatten::Projection::only(["a", "data_stream"]))
        .with_index("forced");
    assert_same(&inputs, &projected, "hand-made, projected, forced index");
    // Leaves only: plain lines take the scanner's path.
    let leaves = ReadOptions::default().with_projection(talon_event::flatten::Projection::only([
        "a",
        "x",
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
    ]));
    assert_same(&inputs, &leaves, "hand-made, projected to leaves");
}

#[test]
fn every_corpus_file_reads_the_same_in_batches() {
    let Some(corpora) = common::corpora() else {
        return;
    };
    let mut inputs = Vec::new();
    for sub in ["events", "es-eql-qa"] {
        let dir = corpora.join(sub);
        let expanded =
            talon_event::read::expand_inputs(&[dir.to_string_lossy().to_string()]).expect("expand");
        inputs.extend(expanded.inputs);
    }
    assert!(inputs.len() > 20, "corpus files found: {}", inputs.len());
    assert_same(&inputs, &ReadOptions::default(), "corpus");
    let leaves = ReadOptions::default().with_projection(talon_event::flatten::Projection::only([
        "@timestamp",
        "event.category",
        "event.type",
        "process.name",
        "process.args",
        "host.os.type",
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
    ]));
    assert_same(&inputs, &leaves, "corpus, projected to leaves");
    // Fields are compared above; one event from each kind must have some.
    let read = in_batches(&inputs, &ReadOptions::default(), 4096);
    assert!(read.events.iter().filter(|e| !e.4.is_empty()).count() > 100);
}

/// A line filter keeping the lines that hold `keep`.
#[derive(Debug)]
struct Keep;

impl talon_event::read::LineFilter for Keep {
    fn next_candidate(&self, text: &[u8], from: usize) -> Option<std::ops::Range<usize>> {
        let at = from + memchr::memmem::find(&text[from..], b"keep")?;
        Some(talon_event::read::line_around(text, at))
    }
}

/// With a line filter, the lines it picks keep their line numbers (in
/// events and issues), the others are counted as not parsed, and the sum
/// is every line, whether the file is mapped or read, and whatever the
/// batch size.
#[test]
fn filtered_lines_keep_their_numbers_and_the_rest_is_counted() {
    let mut text = String::new();
    let (mut kept, mut bad, mut total) = (Vec::new(), Vec::new(), 0u64);
    while text.len() < (1 << 20) + 3000 {
        total += 1;
        match total % 5 {
            0 => {
                text.push_str(&format!("{{\"keep\":{total}}}\n"));
                kept.push(total);
            }
            3 if total % 15 == 3 => {
                text.push_str("keep but not json\n");
                bad.push(total);
            }
            _ => text.push_str(&format!(
                "{{\"other\":{total},\"pad\":\"{}\"}}\n",
                "p".repeat(60)
            )),
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = temp_file(&dir, "f.ndjson", text.as_bytes());
    for mmap in [true, false] {
        let mut options = ReadOptions::default().with_line_filter(std::sync::Arc::new(Keep));
        options.mmap = mmap;
        for read in [
            one_by_one(std::slice::from_ref(&input), &options),
            in_batches(std::slice::from_ref(&input), &options, 7),
            in_batches(std::slice::from_ref(&input), &options, 100_000),
        ] {
            let lines: Vec<u64> = read.events.iter().map(|e| e.3).collect();
            assert_eq!(lines, kept, "mmap {mmap}");
            let issue_lines: Vec<u64> = read
                .issues
                .iter()
                .map(|i| {
                    let at = i.split(':').nth(1).expect("file:line:col");
                    at.parse().expect("line number")
                })
                .collect();
            assert_eq!(issue_lines, bad, "mmap {mmap}: {:?}", read.issues);
            let unparsed = total - kept.len() as u64 - bad.len() as u64;
            assert!(
                read.stats.contains(&format!("unparsed: {unparsed},")),
                "mmap {mmap}: {} (want {unparsed} unparsed)",
                read.stats
            );
        }
    }
}

/// More broken lines first than mode detection looks at: framed mode cuts
/// each at the next line, and once the lines turn out to be one complete
/// object each, hands the rest over to line mode (chunks, mapped, the line
/// filter) from the line after them. Every path reads the same events and
/// issues, and the filter's count shows line mode read the rest: framed
/// mode parses every document.
#[test]
fn broken_lines_first_hand_over_to_line_mode() {
    let mut text = String::new();
    for i in 1..=20 {
        text.push_str(&format!("{{\"a\": {i}\n"));
    }
    let (mut kept, mut total) = (Vec::new(), 20u64);
    while text.len() < (1 << 20) + 3000 {
        total += 1;
        if total % 10 == 0 {
            text.push_str(&format!("{{\"keep\":{total}}}\n"));
            kept.push(total);
        } else {
            text.push_str(&format!(
                "{{\"other\":{total},\"pad\":\"{}\"}}\n",
                "p".repeat(60)
            ));
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = temp_file(&dir, "b.ndjson", text.as_bytes());
    let inputs = std::slice::from_ref(&input);
    let filtered = ReadOptions::default().with_line_filter(std::sync::Arc::new(Keep));
    assert_same_in(
        inputs,
        &filtered,
        "broken lines first, filtered",
        &[1, 4096, 1 << 20],
    );
    let read = one_by_one(inputs, &filtered);
    let lines: Vec<u64> = read.events.iter().map(|e| e.3).collect();
    // Lines 21 and 22 are framed (they show the lines are NDJSON), then
    // line mode parses only the kept lines.
    let mut want = vec![21, 22];
    want.extend(kept.iter().filter(|l| **l > 22));
    assert_eq!(lines, want);
    let dir_name = format!("{}/", dir.path().display());
    let issues: Vec<String> = read
        .issues
        .iter()
        .take(2)
        .map(|i| i.replacen(&dir_name, "", 1))
        .collect();
    assert_eq!(
        issues,
        [
            "b.ndjson:1:1: invalid-json: document never closed: line 2 starts a new one \
             at column 1 (8 bytes skipped)",
            "b.ndjson:2:1: invalid-json: document never closed: line 3 starts a new one \
             at column 1 (8 bytes skipped)",
        ]
    );
    assert_eq!(read.issues.len(), 20);
    let unparsed = total - 22 - (want.len() as u64 - 2);
    assert!(
        read.stats
            .contains(&format!("events: {}, unparsed: {unparsed},", want.len())),
        "{} (want {unparsed} unparsed)",
        read.stats
    );

    assert_same(inputs, &ReadOptions::default(), "broken lines first");
    let read = one_by_one(inputs, &ReadOptions::default());
    assert_eq!(read.events.len() as u64, total - 20);
    assert_eq!(read.issues.len(), 20);
}

/// A counter of a `ReadStats` debug text (`name: N,`).
fn stat(stats: &str, name: &str) -> u64 {
    let at = stats.find(&format!(" {name}: ")).expect(name) + name.len() + 3;
    let digits: String = stats[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect(name)
}

/// Every line of an NDJSON input is counted once: as an event, a line the
/// filter passed over, a blank or comment line, or an issue. Blank and
/// comment lines are their own count whether the filter is on or off (a
/// comment holding the filter's text included), before the first event
/// too, mapped or read, item by item or in batches.
#[test]
fn every_ndjson_line_is_counted_once() {
    let mut text = String::from("\n  \n// head keep\n// head\n");
    let (mut total, mut blank) = (4u64, 4u64);
    let (mut kept, mut other, mut bad) = (0u64, 0u64, 0u64);
    while text.len() < (1 << 20) + 3000 {
        let line = match total % 6 {
            0 => {
                kept += 1;
                format!("{{\"keep\":{total}}}")
            }
            1 => {
                other += 1;
                format!("{{\"other\":{total},\"pad\":\"{}\"}}", "p".repeat(60))
            }
            2 => {
                blank += 1;
                String::new()
            }
            3 => {
                blank += 1;
                "  // a comment to keep".to_string()
            }
            4 => {
                blank += 1;
                "\t\r".to_string()
            }
            _ => {
                bad += 1;
                "{\"keep\": broken".to_string()
            }
        };
        text.push_str(&line);
        text.push('\n');
        total += 1;
    }
    // A last blank line without a newline.
    text.push_str("  ");
    total += 1;
    blank += 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = temp_file(&dir, "c.ndjson", text.as_bytes());
    let inputs = std::slice::from_ref(&input);
    let filtered = ReadOptions::default().with_line_filter(std::sync::Arc::new(Keep));
    for (options, events, unparsed) in [
        (ReadOptions::default(), kept + other, 0),
        (filtered, kept, other),
    ] {
        assert_same_in(
            inputs,
            &options,
            "blank and comment lines",
            &[1, 4096, 1 << 20],
        );
        let read = one_by_one(inputs, &options);
        assert_eq!(stat(&read.stats, "events"), events);
        assert_eq!(stat(&read.stats, "unparsed"), unparsed);
        assert_eq!(stat(&read.stats, "blank"), blank);
        assert_eq!(read.issues.len() as u64, bad);
        assert_eq!(events + unparsed + blank + bad, total);
    }
}

/// A file read as a stream (`mmap` off) that another process cuts shorter
/// while it is read ends with one `unreadable` issue saying so, at the
/// first line not read, and counts as an input cut short; the line the cut
/// went through is not read (it was `invalid-json: EOF while parsing a
/// string`, and the input seemed read to its end). Item by item and in
/// batches.
#[test]
fn a_streamed_file_cut_shorter_while_read_says_so() {
    let line = format!("{{\"n\":0,\"pad\":\"{}\"}}\n", "p".repeat(100));
    let text = line.repeat(20_000);
    let cut = line.len() * 5000 + 10;
    let dir = tempfile::tempdir().expect("tempdir");
    for batches in [false, true] {
        let input = temp_file(&dir, "cut.ndjson", text.as_bytes());
        let InputSpec::Path(path) = &input else {
            unreachable!()
        };
        let options = ReadOptions {
            mmap: false,
            ..ReadOptions::default()
        };
        let mut reader = EventReader::new(vec![input.clone()], options.clone());
        let mut truncated = false;
        let (events, issues) =
            read_stepwise(&mut reader, &options, batches.then_some(4096), &mut || {
                if !truncated {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .and_then(|f| f.set_len(cut as u64))
                        .expect("truncate");
                    truncated = true;
                }
            });
        let issues: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        assert_eq!(events, 5000, "batches: {batches}");
        assert_eq!(
            issues,
            [format!(
                "{}:5001: unreadable: the file was cut shorter while talon read it ({} bytes \
                 when opened, {cut} now); this line and any after it were not read",
                path.display(),
                text.len()
            )],
            "batches: {batches}"
        );
        let stats = reader.stats();
        assert_eq!(stats.inputs_cut_short(), 1);
        assert_eq!(stats.events, 5000);
    }
}

/// A file cut at its front (its first line the end of an event) large
/// enough to be mapped: NDJSON on every path (mapped or streamed, item by
/// item or in batches, with a line filter or not), the first line one
/// issue without a filter, one line not parsed with one that passes over
/// it. It used to be one `not-json` issue for the whole file.
#[test]
fn a_junk_first_line_reads_as_ndjson_on_every_path() {
    let mut text = String::from("ess\":{\"name\":\"bash\"}}\n");
    let mut total = 1u64;
    while text.len() < (1 << 20) + 3000 {
        total += 1;
        let keep = if total.is_multiple_of(10) {
            "keep"
        } else {
            "other"
        };
        text.push_str(&format!(
            "{{\"{keep}\":{total},\"pad\":\"{}\"}}\n",
            "p".repeat(60)
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = temp_file(&dir, "cut.ndjson", text.as_bytes());
    let inputs = std::slice::from_ref(&input);
    let path = dir.path().join("cut.ndjson");

    assert_same(inputs, &ReadOptions::default(), "junk first line");
    let read = one_by_one(inputs, &ReadOptions::default());
    assert_eq!(read.events.len() as u64, total - 1);
    assert_eq!(read.events[0].3, 2);
    assert_eq!(
        read.issues,
        [format!(
            "{}:1:1: not-json: not JSON: ess\":{{\"name\":\"bash\"}}}}",
            path.display()
        )]
    );

    let filtered = ReadOptions::default().with_line_filter(std::sync::Arc::new(Keep));
    assert_same(inputs, &filtered, "junk first line, filtered");
    let read = one_by_one(inputs, &filtered);
    assert_eq!(read.events.len() as u64, total / 10);
    assert!(read.issues.is_empty(), "{:?}", read.issues);
    let unparsed = total - total / 10;
    assert!(
        read.stats.contains(&format!("unparsed: {unparsed},")),
        "{} (want {unparsed} unparsed)",
        read.stats
    );
}
