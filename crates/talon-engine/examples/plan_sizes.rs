//! Prints, per rule, the number of condition nodes and leaves of its
//! compiled plan (terms summed for sequences): a quick look at which rules
//! cost the most per evaluation.
//!
//! `cargo run --release -p talon-engine --example plan_sizes -- RULES_DIR`

use talon_eql::plan::ir::Cond;

fn size(c: &Cond) -> (usize, usize) {
    match c {
        Cond::Const(_) => (1, 0),
        Cond::Leaf(_) => (1, 1),
        Cond::Not(x) => {
            let (n, l) = size(x);
            (n + 1, l)
        }
        Cond::And(k) | Cond::Or(k) => k
            .iter()
            .map(size)
            .fold((1, 0), |(n, l), (a, b)| (n + a, l + b)),
    }
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: plan_sizes RULES_DIR");
        std::process::exit(2);
    };
    let report = talon_rules::load_paths(&[dir.into()]);
    let (compiled, _) = talon_engine::compile_rules(report.rules, &Default::default());
    for r in &compiled {
        let plans: Vec<&talon_eql::EventPlan> = match r.query.event_plan() {
            Some(p) => vec![p],
            None => r
                .query
                .sequence()
                .map(|s| {
                    s.terms
                        .iter()
                        .chain(s.until.iter())
                        .map(|t| &t.plan)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let (n, l) = plans
            .iter()
            .map(|p| size(p.condition()))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
        println!("{n}\t{l}\t{}", r.rule.name);
    }
}
