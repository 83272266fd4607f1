//! Every EQL rule of the detection-rules corpus, tested with the events
//! `talon synth` generates for it, through the engine's own path: the
//! NDJSON is read back by the event reader, routed by the rule's index
//! patterns and evaluated by the compiled rule.
//!
//! - event queries: every positive must fire and every near-miss must not;
//!   a rule whose query cannot be satisfied by construction must say why;
//! - sequences and samples: the generated stream, run through the
//!   sequence engine, must fire exactly once.
//!
//! Reads `$TALON_CORPORA` (default /work/shared/corpora); prints
//! "skipped: ..." when it is absent.

use std::path::PathBuf;
use std::sync::Arc;

use talon_engine::{compile_rule, CompiledRule, SequenceOptions, SequenceRunner};
use talon_eql::QueryKind;
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::Event;
use talon_synth::{synthesize, synthesize_sequence, SynthOptions};

fn corpora() -> Option<PathBuf> {
    let base = std::env::var("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| "/work/shared/corpora".into());
    base.join("detection-rules/rules").is_dir().then_some(base)
}

/// Every EQL rule of the corpus, compiled as `talon hunt` compiles it
/// (without a mapping, every rule must compile; with one, the rules that
/// name fields it lacks are left out).
fn compiled_with(kinds: &[QueryKind], mapping: &Mapping) -> Option<Vec<CompiledRule>> {
    let dir = corpora()?.join("detection-rules/rules");
    let report = talon_rules::load_paths(&[dir]);
    let mut out = Vec::new();
    for rule in report.rules {
        if rule.rule_type != "eql" {
            continue;
        }
        let name = rule.name.clone();
        match compile_rule(rule, mapping) {
            Ok(c) if kinds.contains(&c.kind()) => out.push(c),
            Ok(_) => {}
            Err(_) if mapping.is_explicit() => {}
            Err(p) => panic!("{name} does not compile: {p}"),
        }
    }
    Some(out)
}

fn compiled(kinds: &[QueryKind]) -> Option<Vec<CompiledRule>> {
    compiled_with(kinds, &Mapping::default())
}

/// Documents as NDJSON, read back the way `talon hunt` reads a file.
fn read(docs: &[serde_json::Value]) -> Vec<Event> {
    let mut text = String::new();
    for d in docs {
        text.push_str(&d.to_string());
        text.push('\n');
    }
    let reader = EventReader::from_reader(
        "synth.ndjson",
        std::io::Cursor::new(text.into_bytes()),
        ReadOptions::default(),
    );
    let (events, stats) = reader.read_all();
    assert_eq!(
        events.len(),
        docs.len(),
        "every document reads back: {:?}",
        stats.issues
    );
    events
}

fn routed(rule: &CompiledRule, ev: &Event) -> bool {
    ev.index.as_deref().is_some_and(|i| rule.indices.matches(i))
}

/// Whether the rule alerts on the event: its index is one the rule
/// searches and the query matches.
fn alerts(rule: &CompiledRule, ev: &Event) -> bool {
    routed(rule, ev) && rule.query.matches(ev)
}

#[test]
fn event_rules_fire_on_positives_and_not_on_near_misses() {
    let Some(rules) = compiled(&[QueryKind::Event]) else {
        println!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    check_event_rules(&rules, 800, "event rules");
}

/// With a real index mapping the plans are typed (keyword, long, ip, date
/// fields instead of per-value dynamic ones); the events must still behave.
#[test]
fn event_rules_compiled_against_a_mapping_behave_too() {
    let Some(base) = corpora() else {
        println!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    let file = base.join("events/endgame/endgame_ecs_mapping-8.4.0.json");
    let Ok(mapping) = Mapping::from_es_file(&file) else {
        println!("skipped: {} not found", file.display());
        return;
    };
    let Some(rules) = compiled_with(&[QueryKind::Event], &mapping) else {
        return;
    };
    check_event_rules(&rules, 500, "event rules with the Endgame ECS mapping");
}

fn check_event_rules(rules: &[CompiledRule], at_least: usize, what: &str) {
    let opts = SynthOptions::default();
    let (mut behave, mut unsat, mut failures) = (0usize, Vec::new(), Vec::new());
    let (mut positives, mut misses, mut unflippable) = (0usize, 0usize, 0usize);
    for r in rules {
        let s = match synthesize(&r.rule, &r.query, &opts) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{}: {e}", r.rule.name));
                continue;
            }
        };
        if let Some(why) = &s.unsatisfiable {
            assert!(
                !why.trim().is_empty(),
                "{}: unsatisfiable without a reason",
                r.rule.name
            );
            unsat.push(format!("{}: {why}", r.rule.name));
            continue;
        }
        let pos = read(&s.positives);
        let neg: Vec<serde_json::Value> = s.near_misses.iter().map(|(_, d)| d.clone()).collect();
        let neg = read(&neg);
        let fired = pos.iter().all(|e| alerts(r, e)) && !pos.is_empty();
        // A near-miss must reach the rule (its index is searched) and
        // still not match: it fails on the flipped condition, not on
        // routing.
        let quiet: Vec<&str> = s
            .near_misses
            .iter()
            .zip(&neg)
            .filter(|(_, e)| alerts(r, e) || !routed(r, e))
            .map(|((label, _), _)| label.as_str())
            .collect();
        positives += pos.len();
        misses += neg.len();
        unflippable += s.unflippable.len();
        if fired && quiet.is_empty() {
            behave += 1;
        } else {
            failures.push(format!(
                "{}: positives fire: {fired}; near-misses that fire or miss the index: {quiet:?}",
                r.rule.name
            ));
        }
    }
    let satisfiable = rules.len() - unsat.len();
    println!(
        "{what}: {behave}/{satisfiable} satisfiable rules behave ({:.1}%), {} unsatisfiable, \
         of {} rules; {positives} positives, {misses} near-misses, {unflippable} conditions not flippable alone",
        100.0 * behave as f64 / satisfiable.max(1) as f64,
        unsat.len(),
        rules.len()
    );
    for u in &unsat {
        println!("  unsatisfiable: {u}");
    }
    for f in &failures {
        println!("  FAILED: {f}");
    }
    assert!(
        rules.len() > at_least,
        "the corpus has {} {what}",
        rules.len()
    );
    assert!(failures.is_empty(), "{} rules misbehave", failures.len());
    assert_eq!(behave, satisfiable);
}

/// Prebuilt sequence rules no events can fire, in Elasticsearch as in
/// talon: a condition on a join key holds in every term (Elasticsearch's
/// `PropagateJoinKeyConstraints`), and the first term's `not
/// startswith~(winlog.computer_name, ...)` meets the second's
/// `startswith~(...)` of the same key. Synth must refuse them.
const NEVER_FIRE: &[&str] = &[
    "Potential Kerberos Relay Attack against a Computer Account",
    "Potential NTLM Relay Attack against a Computer Account",
];

#[test]
fn sequences_and_samples_fire_exactly_once() {
    let Some(rules) = compiled(&[QueryKind::Sequence, QueryKind::Sample]) else {
        println!("skipped: corpus not found (set TALON_CORPORA)");
        return;
    };
    let opts = SynthOptions::default();
    let mut ok = [0usize; 2];
    let mut total = [0usize; 2];
    let mut failures = Vec::new();
    let mut refused = 0;
    for r in &rules {
        let k = usize::from(r.kind() == QueryKind::Sample);
        total[k] += 1;
        let never = NEVER_FIRE.contains(&r.rule.name.as_str());
        let stream = match synthesize_sequence(&r.rule, &r.query, &opts) {
            Ok(_) if never => {
                failures.push(format!("{}: made events for a rule none fire", r.rule.name));
                continue;
            }
            Ok(s) => s,
            Err(_) if never => {
                refused += 1;
                continue;
            }
            Err(e) => {
                failures.push(format!("{}: {e}", r.rule.name));
                continue;
            }
        };
        let events = read(&stream);
        if let Some(e) = events
            .iter()
            .find(|e| !e.index.as_deref().is_some_and(|i| r.indices.matches(i)))
        {
            failures.push(format!(
                "{}: event in index {:?} not searched",
                r.rule.name, e.index
            ));
            continue;
        }
        let seq_opts = SequenceOptions {
            timestamp_field: r
                .rule
                .timestamp_field
                .clone()
                .unwrap_or_else(|| "@timestamp".into()),
            tiebreaker_field: r.rule.tiebreaker_field.clone(),
            name: Some(r.rule.name.clone()),
            ..SequenceOptions::default()
        };
        let mut runner = match SequenceRunner::new(&r.query, &Mapping::default(), seq_opts) {
            Ok(run) => run,
            Err(e) => {
                failures.push(format!("{}: {e}", r.rule.name));
                continue;
            }
        };
        let mut fired = 0usize;
        for e in events {
            runner.push(&Arc::new(e), &mut |_| fired += 1);
        }
        let _ = runner.finish(&mut |_| fired += 1);
        if fired == 1 {
            ok[k] += 1;
        } else {
            failures.push(format!(
                "{}: fired {fired} times over {} events",
                r.rule.name,
                stream.len()
            ));
        }
    }
    println!(
        "sequences: {}/{} fire exactly once; samples: {}/{}",
        ok[0], total[0], ok[1], total[1]
    );
    for f in &failures {
        println!("  FAILED: {f}");
    }
    assert!(total[0] > 150 && total[1] >= 3, "corpus sizes {total:?}");
    assert_eq!(refused, NEVER_FIRE.len(), "{NEVER_FIRE:?} are refused");
    assert!(
        failures.is_empty(),
        "{} sequence/sample rules misbehave",
        failures.len()
    );
}
