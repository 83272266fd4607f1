//! Reading the corpus in batches (what `talon hunt` does, to parse on
//! several threads) gives what reading item by item gives: the same events
//! in the same order, the same issues and the same counts, for every
//! source, normalized or passed through.

mod common;

use talon_event::read::{expand_inputs, Batch, ChunkCounts, LineParser, ReadOptions};
use talon_event::Event;
use talon_sources::{NormalizeOptions, NormalizingReader};

fn describe(e: &Event) -> String {
    let mut fields: Vec<String> = e.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    fields.sort();
    format!(
        "{}:{} [{}] {} {}",
        e.origin.file,
        e.origin.line,
        e.index.as_deref().unwrap_or("-"),
        e.source(),
        fields.join(" ")
    )
}

fn reader(paths: &[String]) -> NormalizingReader {
    let mut r = NormalizingReader::empty(NormalizeOptions::default());
    for spec in expand_inputs(paths).expect("expand").inputs {
        r.push_input(spec, None);
    }
    r
}

#[test]
fn the_corpus_reads_the_same_in_batches() {
    let Some(corpora) = common::corpora() else {
        return;
    };
    let paths = vec![corpora.join("events").to_string_lossy().to_string()];

    let mut one = reader(&paths);
    let (mut want, mut want_issues) = (Vec::new(), Vec::new());
    for item in one.by_ref() {
        match item {
            Ok(e) => want.push(describe(&e)),
            Err(i) => want_issues.push(i.to_string()),
        }
    }

    for target in [64, 1 << 20] {
        let mut batched = reader(&paths);
        let mut parser = LineParser::new(&ReadOptions::default());
        let (mut got, mut got_issues) = (Vec::new(), Vec::new());
        while let Some(batch) = batched.next_batch(target) {
            match batch {
                Batch::Lines(chunk) => {
                    let mut counts = ChunkCounts::default();
                    parser.read(
                        &chunk,
                        &mut |e| got.push(describe(&e.to_event(None))),
                        &mut counts,
                    );
                    got_issues.extend(counts.issues.iter().map(|i| i.to_string()));
                    batched.record_chunk(&counts);
                }
                Batch::Items(items) => {
                    for item in items {
                        match item {
                            Ok(e) => got.push(describe(&e)),
                            Err(i) => got_issues.push(i.to_string()),
                        }
                    }
                }
            }
        }
        assert_eq!(got, want, "events, batches of {target} bytes");
        assert_eq!(got_issues, want_issues, "issues, batches of {target} bytes");
        assert_eq!(
            format!("{:?}", batched.read_stats()),
            format!("{:?}", one.read_stats()),
            "read counts, batches of {target} bytes"
        );
        assert_eq!(
            format!("{:?}", batched.stats()),
            format!("{:?}", one.stats()),
            "normalize counts, batches of {target} bytes"
        );
    }
    assert!(want.len() > 200, "corpus events: {}", want.len());
}
