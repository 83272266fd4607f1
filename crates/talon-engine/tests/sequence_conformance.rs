//! Elasticsearch's EQL QA suites, every sequence and sample query, run
//! through [`talon_engine::SequenceSearch`] against the suites' own data.
//!
//! Each query runs with the spec's `size` (default 50) and with both result
//! positions, because the ES harness picks one at random, so expectations
//! hold for either. The ordered, flattened event ids (-1 for a missing
//! event) must equal the expectation (or one of the alternatives), and the
//! flattened join keys must equal `join_keys` when the spec has them.
//! `test_failing_shards.toml` is about shard failures and is not run.
//!
//! One expectation cannot hold on the nanos index and is skipped there
//! (see [`NOT_ON_NANOS`]).

mod sequence_support;

use std::path::Path;

use sequence_support::{
    corpora, data_set, endgame, is_sequence_or_sample, load_specs, run, DataSet,
};
use talon_engine::ResultPosition;

/// Queries of `test_queries.toml` whose expectation only holds on the
/// millisecond index. On `endgame-140-nanos` the raw FILETIME digits are
/// read as epoch nanoseconds, which shrinks every span a hundredfold:
/// events 67 → 70 are 5.09 s apart on the millisecond index but 50.9 ms
/// apart on the nanos one, so `maxspan=500ms` (expected: no match) admits
/// them there, while the 10s/1m/1h variants of the same query expect the
/// match on both. No single unit satisfies all of them on the nanos index.
const NOT_ON_NANOS: &[&str] = &["sequencesOnDifferentEventTypes7"];

struct Tally {
    passed: usize,
    total: usize,
    failures: Vec<String>,
}

fn run_file(corpora: &Path, file: &str, data: &DataSet, label: &str) -> Tally {
    let specs = load_specs(&corpora.join("es-eql-qa").join(file));
    let mut t = Tally {
        passed: 0,
        total: 0,
        failures: Vec::new(),
    };
    let skip = |name: &str| label.ends_with("-nanos") && NOT_ON_NANOS.contains(&name);
    for spec in specs
        .iter()
        .filter(|s| is_sequence_or_sample(&s.query) && !skip(&s.name))
    {
        t.total += 1;
        let mut failure = None;
        for position in [ResultPosition::Tail, ResultPosition::Head] {
            match run(data, spec, position) {
                Ok((answer, _)) => {
                    let ids_ok = spec.expected.contains(&answer.ids);
                    let keys_ok = !matches!(&spec.join_keys, Some(k) if *k != answer.join_keys);
                    if !(ids_ok && keys_ok) {
                        failure = Some(format!(
                            "{label} {} ({position:?}): got ids {:?} keys {:?}, expected {:?} keys {:?}\n    {}",
                            spec.name,
                            answer.ids,
                            answer.join_keys,
                            spec.expected,
                            spec.join_keys,
                            spec.query.trim().replace('\n', "\n    ")
                        ));
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(format!(
                        "{label} {}: error {e}\n    {}",
                        spec.name,
                        spec.query.trim()
                    ));
                    break;
                }
            }
        }
        match failure {
            None => t.passed += 1,
            Some(f) => t.failures.push(f),
        }
    }
    t
}

#[test]
fn elasticsearch_sequence_and_sample_suites() {
    let Some(corpora) = corpora() else { return };
    let endgame_ms = endgame(&corpora, false);
    let endgame_nanos = endgame(&corpora, true);
    let extra = data_set(&corpora, &["extra"], Some("sequence"), "sequence");
    let missing = data_set(&corpora, &["missing-events"], Some("sequence"), "sequence");
    let samples = data_set(&corpora, &["sample1", "sample2", "sample3"], None, "id");
    let multi = data_set(&corpora, &["sample-multi"], None, "id");
    let suites: Vec<(&str, &DataSet, &str)> = vec![
        ("test_queries.toml", &endgame_ms, "endgame-140"),
        ("test_queries.toml", &endgame_nanos, "endgame-140-nanos"),
        ("additional_test_queries.toml", &endgame_ms, "endgame-140"),
        ("test_queries_date.toml", &endgame_ms, "endgame-140"),
        (
            "test_queries_date_nanos.toml",
            &endgame_nanos,
            "endgame-140-nanos",
        ),
        ("test_extra.toml", &extra, "extra"),
        ("test_missing_events.toml", &missing, "missing-events"),
        ("test_sample.toml", &samples, "sample1,sample2,sample3"),
        ("test_sample_multi.toml", &multi, "sample-multi"),
    ];
    let mut failures = Vec::new();
    let (mut passed, mut total) = (0, 0);
    for (file, data, label) in suites {
        let t = run_file(&corpora, file, data, label);
        println!(
            "{file} on {label}: {}/{} sequence and sample queries pass",
            t.passed, t.total
        );
        passed += t.passed;
        total += t.total;
        failures.extend(t.failures);
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("all suites: {passed}/{total}");
    assert!(
        failures.is_empty(),
        "{} of {total} queries failed (see the output above)",
        failures.len()
    );
}
