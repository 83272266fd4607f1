//! The engine's sequence stage (every rule on one clock, woken only when
//! its next deadline passes, terms read through the witness index) finds
//! exactly what each rule's own runner finds when it is offered every
//! event: the same sequences, with the same events, in the same order.
//! Streams are generated from a seed, in time order with some jitter
//! inside the re-ordering window, over queries that exercise maxspan,
//! until, missing events, runs, multi-valued keys and samples.

use std::sync::Arc;

use talon_engine::{compile_rules, Engine, EngineOptions, SequenceOptions, SequenceRunner};
use talon_event::mapping::Mapping;
use talon_event::read::{EventReader, ReadOptions};
use talon_event::Event;

const QUERIES: &[&str] = &[
    r#"sequence by host.id with maxspan=30s
        [process where process.name == "curl"]
        [network where destination.port == 443]"#,
    r#"sequence by host.id, user.name with maxspan=1m
        [process where process.name : ("bash", "sh")]
        [file where file.path like "/tmp/*"]
        [process where process.name == "chmod"]
       until [process where process.name == "logout"]"#,
    r#"sequence by host.id with maxspan=20s
        [process where process.name == "curl"]
        ![network where destination.port == 443]"#,
    r#"sequence by host.id with maxspan=40s
        ![process where process.name == "sudo"]
        [process where process.name == "bash"]
        [file where file.path like "/tmp/*"]"#,
    r#"sequence with maxspan=10s
        [process where process.name == "sh"] with runs=2
        [network where true]"#,
    r#"sequence by process.args
        [process where process.name == "curl"]
        [process where process.name == "sh"]"#,
    r#"sample by host.id
        [process where process.name == "bash"]
        [network where destination.port == 22]"#,
];

fn rule_toml(i: usize, query: &str) -> String {
    format!(
        "[rule]\nname = \"q{i}\"\nrule_id = \"00000000-0000-0000-0000-{i:012}\"\ntype = \"eql\"\n\
         language = \"eql\"\nrisk_score = 1\nseverity = \"low\"\nindex = [\"logs-*\"]\n\
         query = '''\n{query}\n'''\n"
    )
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn stream(seed: u64, n: usize) -> String {
    let mut rng = Rng(seed | 1);
    let mut out = String::new();
    let mut t = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z in ms
    for i in 0..n {
        t += (rng.next() % 4000) as i64;
        // Jitter back in time, well inside the default window.
        let ts = t - (rng.next() % 1500) as i64;
        let host = rng.pick(&["h1", "h2", "h3"]);
        let user = rng.pick(&["root", "alice"]);
        let (cat, body) = match rng.next() % 3 {
            0 => {
                let name = rng.pick(&["curl", "bash", "sh", "chmod", "sudo", "logout", "ls"]);
                let args = rng.pick(&[r#"["a"]"#, r#"["a","b"]"#, r#"["b"]"#]);
                (
                    "process",
                    format!(r#""process":{{"name":"{name}","args":{args}}}"#),
                )
            }
            1 => {
                let port = rng.pick(&["443", "22", "80"]);
                ("network", format!(r#""destination":{{"port":{port}}}"#))
            }
            _ => {
                let path = rng.pick(&["/tmp/x", "/etc/y", "/tmp/z"]);
                ("file", format!(r#""file":{{"path":"{path}"}}"#))
            }
        };
        out.push_str(&format!(
            r#"{{"@timestamp":{ts},"event":{{"id":"{i}","category":["{cat}"]}},"host":{{"id":"{host}"}},"user":{{"name":"{user}"}},"data_stream":{{"type":"logs","dataset":"x.{cat}","namespace":"d"}},{body}}}"#
        ));
        out.push('\n');
    }
    out
}

fn ids(events: &[Option<Arc<Event>>]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Some(e) => e.first_str("event.id").unwrap_or("?").to_string(),
            None => "missing".to_string(),
        })
        .collect()
}

#[test]
fn the_engine_finds_what_each_rule_alone_finds() {
    let mut rules = Vec::new();
    for (i, q) in QUERIES.iter().enumerate() {
        let (r, errors) = talon_rules::load_str(
            &rule_toml(i, q),
            std::path::Path::new("q.toml"),
            talon_rules::RuleFormat::Toml,
        );
        assert!(errors.is_empty(), "{errors:?}");
        rules.extend(r);
    }
    let (compiled, problems) = compile_rules(rules, &Mapping::default());
    assert!(problems.is_empty(), "{problems:?}");

    let mut total = 0;
    for seed in 1..=12u64 {
        let events: Vec<Arc<Event>> = EventReader::from_reader(
            "s",
            std::io::Cursor::new(stream(seed, 600).into_bytes()),
            ReadOptions::default(),
        )
        .filter_map(Result::ok)
        .map(Arc::new)
        .collect();

        // Every rule at once, in the engine.
        let (mut engine, problems) = Engine::new(compiled.clone(), &EngineOptions::default());
        assert!(problems.is_empty());
        let mut together: Vec<Vec<(Vec<String>, String)>> = vec![Vec::new(); QUERIES.len()];
        for e in &events {
            engine.on_shared_event(
                e,
                |_| {},
                |d| {
                    together[d.rule_index]
                        .push((ids(&d.matched.events), format!("{:?}", d.matched.join_keys)))
                },
            );
        }
        engine.finish(|d| {
            together[d.rule_index]
                .push((ids(&d.matched.events), format!("{:?}", d.matched.join_keys)))
        });

        // Each rule alone, offered every event.
        for (i, r) in compiled.iter().enumerate() {
            let mut runner =
                SequenceRunner::new(&r.query, &Mapping::default(), SequenceOptions::default())
                    .expect("runner");
            let mut alone = Vec::new();
            for e in &events {
                runner.push(e, &mut |m| {
                    alone.push((ids(&m.events), format!("{:?}", m.join_keys)))
                });
            }
            runner.finish(&mut |m| alone.push((ids(&m.events), format!("{:?}", m.join_keys))));
            assert_eq!(together[i], alone, "query {i}, seed {seed}");
            total += alone.len();
        }
    }
    assert!(total > 100, "sequences found: {total}");
}
