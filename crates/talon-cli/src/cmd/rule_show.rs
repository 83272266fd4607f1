//! `talon rule show`: a rule's metadata, schedule, MITRE mapping, query,
//! filters and investigation guide, laid out for a terminal.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use talon_engine::{compile_rule, RuleProblem};
use talon_event::mapping::Mapping;
use talon_rules::Rule;

use crate::cli::RuleShowArgs;
use crate::cmd::common;

/// Shows every rule found; a query that does not compile is shown as
/// written, and its error printed after it with a caret, as `check`
/// prints it: exit 1, as `check` would.
pub fn run(args: RuleShowArgs) -> Result<ExitCode> {
    crate::output::require_stdout("the rule text")?;
    let mapping = Mapping::default();
    let found = common::find_rules(&args.rule, &args.rules, &mapping)?;
    let mut query_errors = 0usize;
    for (i, rule) in found.iter().enumerate() {
        if i > 0 {
            println!();
        }
        // Shown whole, but the bad value is pointed at, as `check` does.
        for e in &rule.schedule_errors {
            eprintln!("{}", e.as_warning());
        }
        // Filters found not applied only once compiled against the
        // mapping (date math in a `range`) are marked on their line.
        let (_, problems) = talon_engine::filters::RuleFilters::compile(rule, &mapping);
        print!("{}", render(rule, &problems.not_applied));
        let compiled = compile_rule(rule.clone(), &mapping);
        // A type talon does not run is not an error of the rule.
        if let Err(p @ (RuleProblem::Query { .. } | RuleProblem::Filter { .. })) = compiled {
            query_errors += 1;
            eprint!("{}", p.render());
        }
    }
    Ok(match query_errors {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

/// The whole rule as text, with the filters `not_applied` names marked as
/// talon's compiling them found them.
fn render(rule: &Rule, not_applied: &[(usize, String)]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", rule.name);
    let _ = writeln!(s, "{}", "=".repeat(rule.name.chars().count()));
    let _ = writeln!(s);
    for line in wrap(rule.description.trim(), 88) {
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s);
    let row = |s: &mut String, k: &str, v: &str| {
        let _ = writeln!(s, "  {k:<20} {v}");
    };
    row(&mut s, "rule_id", &rule.rule_id);
    let lang = rule.language.as_deref().unwrap_or("-");
    row(&mut s, "type", &format!("{} ({lang})", rule.rule_type));
    row(
        &mut s,
        "severity",
        &format!("{} (risk score {})", rule.severity, rule.risk_score),
    );
    // No pattern (an empty list, or only blanks) searches every index; no
    // `index` at all, Kibana's default patterns.
    let written = talon_event::index::IndexPatterns::new(&rule.index)
        .patterns()
        .next()
        .is_some();
    let index = match (rule.index_source(), written) {
        (talon_rules::IndexSource::Default, _) => format!(
            "(none given: Kibana's default index patterns) {}",
            rule.searched_index().join(", ")
        ),
        (talon_rules::IndexSource::DataView(id), true) => format!(
            "{} (Kibana searches data view `{id}` instead)",
            rule.index.join(", ")
        ),
        (talon_rules::IndexSource::DataView(id), false) => {
            format!("(data view `{id}`: its patterns are unknown, every index is searched)")
        }
        (talon_rules::IndexSource::Written, true) => rule.index.join(", "),
        (talon_rules::IndexSource::Written, false) => {
            "(no pattern given: every index is searched)".to_string()
        }
        (talon_rules::IndexSource::NotRead, _) => format!(
            "(none: a rule of type `{}` does not search index patterns)",
            rule.rule_type
        ),
    };
    row(&mut s, "index", &index);
    // A blank value (a schedule error, pointed at when loading) is named,
    // or the line would read `looking back to , at most ...`.
    let part = |written: &str, key: &str, shown: String| match written.trim().is_empty() {
        true => format!("`{key}` is empty"),
        false => shown,
    };
    let (interval, from) = (rule.interval_or_default(), rule.from_or_default());
    let schedule = format!(
        "{}, {}, at most {} a run",
        part(interval, "interval", format!("every {interval}")),
        match rule.to.as_deref() {
            // Only a written `to` other than `now` changes the window's end.
            Some(to) if to.trim() != "now" => part(
                to,
                "to",
                format!(
                    "{}, up to {to}",
                    part(from, "from", format!("looking back to {from}"))
                )
            ),
            _ => part(from, "from", format!("looking back to {from}")),
        },
        crate::summary::count(u64::from(rule.max_signals_or_default()), "alert")
    );
    let schedule = match rule.can_schedule() {
        true => schedule,
        false => format!("{schedule} (unreadable: --schedule cannot replay it)"),
    };
    row(&mut s, "schedule", &schedule);
    if let Some(ts) = &rule.timestamp_override {
        row(&mut s, "timestamp_override", ts);
    }
    // What an event may say in the rule's place (applied to single-event
    // alerts; `check` says when a sequence rule's are not).
    let overrides = rule.overrides();
    for o in &overrides.severity {
        let shown = format!(
            "{} when {} is \"{}\"",
            o.severity.as_str(),
            o.field,
            o.value
        );
        row(&mut s, "severity_mapping", &shown);
    }
    if let Some(f) = &overrides.risk_score_field {
        row(&mut s, "risk_score_mapping", &format!("from {f}"));
    }
    if let Some(f) = &overrides.rule_name_field {
        row(&mut s, "rule_name_override", &format!("from {f}"));
    }
    if let Some(v) = rule.version {
        row(&mut s, "version", &v.to_string());
    }
    if let Some(bb) = &rule.building_block_type {
        row(&mut s, "building_block", bb);
    }
    if !rule.author.is_empty() {
        row(&mut s, "author", &rule.author.join(", "));
    }
    if let Some(l) = &rule.license {
        row(&mut s, "license", l);
    }
    row(&mut s, "file", &rule.origin.path.display().to_string());
    if !rule.tags.is_empty() {
        let _ = writeln!(s, "\nTags");
        for t in &rule.tags {
            let _ = writeln!(s, "  - {t}");
        }
    }
    if !rule.threat.is_empty() {
        let _ = writeln!(s, "\nMITRE ATT&CK");
        for t in &rule.threat {
            let _ = writeln!(s, "  {} {} ({})", t.tactic.id, t.tactic.name, t.framework);
            for tech in &t.technique {
                let _ = writeln!(s, "    {} {}  {}", tech.id, tech.name, tech.reference);
                for sub in &tech.subtechnique {
                    let _ = writeln!(s, "      {} {}  {}", sub.id, sub.name, sub.reference);
                }
            }
        }
    }
    if let Some(q) = &rule.query {
        let _ = writeln!(s, "\nQuery");
        for line in q.trim_end().lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    if !rule.filters.is_empty() {
        let _ = writeln!(
            s,
            "\nFilters (ANDed with the query, as Kibana applies them)"
        );
        for f in &rule.filters.entries {
            use talon_rules::filters::FilterState;
            let why = not_applied.iter().find(|(n, _)| *n == f.number);
            let shown = match &f.state {
                FilterState::Applied { negate, query } => {
                    let query = match negate {
                        true => format!("NOT {query}"),
                        false => query.to_string(),
                    };
                    match why {
                        Some((_, why)) => format!(
                            "{query}: not applied by talon: {why}; {}",
                            talon_engine::filters::WITHOUT_IT
                        ),
                        None => query,
                    }
                }
                FilterState::Disabled => "disabled: left out, as in Kibana".to_string(),
                FilterState::Ignored { why } => format!("left out: {why}"),
                FilterState::NotApplied { why } => format!("not applied by talon: {why}"),
            };
            let _ = writeln!(s, "  {}. {shown}", f.number);
        }
    }
    if !rule.references.is_empty() {
        let _ = writeln!(s, "\nReferences");
        for r in &rule.references {
            let _ = writeln!(s, "  - {r}");
        }
    }
    if let Some(note) = &rule.note {
        let _ = writeln!(s, "\nInvestigation guide\n");
        s.push_str(&render_markdown(note));
    }
    s
}

/// Light Markdown for a terminal: headings underlined, list items (`-`,
/// `*`, `+`, `1.`, `1)`, nested ones too) indented with their wrapped lines
/// under their text, block quotes kept as quotes, paragraphs wrapped;
/// fenced and indented code, tables and setext underlines as written. A
/// list item, quote or paragraph written over several lines is one block,
/// wrapped as a whole.
fn render_markdown(md: &str) -> String {
    let mut out = String::new();
    let mut block: Option<Block> = None;
    let mut fenced = false;
    for line in md.lines() {
        let t = line.trim_end();
        let body = t.trim_start();
        let indent = t.len() - body.len();
        let fence = body.starts_with("```") || body.starts_with("~~~");
        let verbatim = fenced
            || fence
            || body.starts_with('|')
            || (body.len() >= 3 && body.bytes().all(|b| b == b'=' || b == b'-'))
            || (indent >= 4 && block.is_none());
        if verbatim {
            flush(&mut out, &mut block);
            fenced ^= fence;
            let _ = writeln!(out, "  {t}");
            continue;
        }
        if let Some(h) = body.strip_prefix('#') {
            flush(&mut out, &mut block);
            let title = h.trim_start_matches('#').trim();
            let _ = writeln!(out, "  {title}\n  {}", "-".repeat(title.chars().count()));
        } else if body.is_empty() {
            flush(&mut out, &mut block);
            let _ = writeln!(out);
        } else if let Some(quoted) = body.strip_prefix('>') {
            let quoted = quoted.trim_start();
            match &mut block {
                Some(b) if b.marker == QUOTE => b.push(quoted),
                _ => {
                    flush(&mut out, &mut block);
                    block = Some(Block::new(indent, QUOTE.to_string(), quoted));
                }
            }
        } else if let Some((marker, item)) = list_item(body) {
            flush(&mut out, &mut block);
            block = Some(Block::new(indent, marker, item));
        } else if let Some(b) = &mut block {
            // The next line of the same item, quote or paragraph.
            b.push(body);
        } else {
            block = Some(Block::new(indent, String::new(), body));
        }
    }
    flush(&mut out, &mut block);
    out
}

/// A block quote's marker.
const QUOTE: &str = "> ";

/// A list item's marker as shown (`- ` for every bullet, `1. ` or `12) `
/// as written) and its text; the marker is `-`, `*`, `+`, `N.` or `N)`
/// followed by a space or tab.
fn list_item(body: &str) -> Option<(String, &str)> {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let (marker_len, bullet) = match body.as_bytes().get(digits) {
        Some(b'.' | b')') if (1..=9).contains(&digits) => (digits + 1, false),
        Some(b'-' | b'*' | b'+') if digits == 0 => (1, true),
        _ => return None,
    };
    if !matches!(body.as_bytes().get(marker_len), Some(b' ' | b'\t')) {
        return None;
    }
    let marker = match bullet {
        true => "- ".to_string(),
        false => format!("{} ", &body[..marker_len]),
    };
    Some((marker, body[marker_len + 1..].trim_start()))
}

/// A list item, block quote or paragraph, with the indentation of its
/// first line.
struct Block {
    indent: usize,
    /// `"- "`, `"1. "`, [`QUOTE`] for a quote, `""` for a paragraph.
    marker: String,
    text: String,
}

impl Block {
    fn new(indent: usize, marker: String, text: &str) -> Block {
        Block {
            indent,
            marker,
            text: text.to_string(),
        }
    }

    fn push(&mut self, line: &str) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(line);
    }
}

/// Writes the open block, if any, wrapped to the guide's width: a quote's
/// every line starts with `> `, a list item's later lines line up with
/// its text.
fn flush(out: &mut String, block: &mut Option<Block>) {
    let Some(b) = block.take() else { return };
    let lead = " ".repeat(2 + b.indent.min(40));
    let first = format!("{lead}{}", b.marker);
    let rest = match b.marker.as_str() {
        QUOTE => first.clone(),
        m => format!("{lead}{}", " ".repeat(m.len())),
    };
    let width = 88usize.saturating_sub(first.len()).max(20);
    for (i, l) in wrap(&b.text, width).iter().enumerate() {
        let _ = writeln!(out, "{}{l}", if i == 0 { &first } else { &rest });
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::render_markdown;

    #[test]
    fn an_item_written_over_two_lines_wraps_as_one() {
        // From a fresh user: the second line came out at the paragraph
        // indent, under the bullet rather than under its text.
        let md = "- Review NAT and firewall rules added in the same window and any credentials \
                  used on the host; assume the host was\n  used to reach the networks behind it \
                  and scope the investigation accordingly.\n";
        assert_eq!(
            render_markdown(md),
            "  - Review NAT and firewall rules added in the same window and any credentials used on\n    \
             the host; assume the host was used to reach the networks behind it and scope the\n    \
             investigation accordingly.\n"
        );
    }

    #[test]
    fn numbered_items_quotes_tables_and_indented_code_are_not_run_together() {
        // From a second fresh user: these were joined into the paragraph
        // before them (the prebuilt rules' "> **Disclaimer**:" quotes too).
        let md = "> **Disclaimer**:\n> This guide was generated.\n\n1. first\n2) second\n   continued\n10. tenth\n+ plus\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTitle\n=====\n\n    indented code\n";
        assert_eq!(
            render_markdown(md),
            "  > **Disclaimer**: This guide was generated.\n\n  1. first\n  2) second continued\n  \
             10. tenth\n  - plus\n\n  | a | b |\n  |---|---|\n  | 1 | 2 |\n\n  Title\n  =====\n\n      \
             indented code\n"
        );
    }

    #[test]
    fn nested_bullets_headings_and_code_keep_their_shape() {
        let md = "### Steps\n- Look at:\n  - the parent\n  - the user\n\n```sh\nps  -ef | grep x\n```\nA paragraph\nover two lines.\n";
        assert_eq!(
            render_markdown(md),
            "  Steps\n  -----\n  - Look at:\n    - the parent\n    - the user\n\n  ```sh\n  ps  -ef | grep x\n  ```\n  A paragraph over two lines.\n"
        );
    }
}
