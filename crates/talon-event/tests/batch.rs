//! Reading in batches gives what reading event by event gives: the same
//! events (source, index, origin, fields) in the same order, and the same
//! counts and issues, whatever the batch size, for every format.

mod common;

use std::io::Write;

use talon_event::read::{Batch, ChunkCounts, EventReader, InputSpec, LineParser, ReadOptions};
use talon_event::Event;

/// What a reading gave, in a comparable form.
#[derive(Debug, PartialEq)]
struct Read {
    events: Vec<(String, Option<String>, String, u64, Vec<String>)>,
    issues: Vec<String>,
    stats: String,
}

fn describe(e: &Event) -> (String, Option<String>, String, u64, Vec<String>) {
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

fn assert_same(inputs: &[InputSpec], options: &ReadOptions, what: &str) {
    let expected = one_by_one(inputs, options);
    for target in [1, 100, 4096, 1 << 20] {
        let got = in_batches(inputs, options, target);
        assert_eq!(
            got.events, expected.events,
            "{what}: events, batches of {target}"
        );
        assert_eq!(
            got.issues, expected.issues,
            "{what}: issues, batches of {target}"
        );
        assert_eq!(
            got.stats, expected.stats,
            "{what}: stats, batches of {target}"
        );
    }
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
