//! The run summary printed on stderr: events read, matched and skipped (by
//! reason), how native inputs were normalized, alerts per rule, and time
//! taken. Every event read, and every record of a normalized input, is
//! accounted for in one of its lines.

use std::fmt;
use std::time::Duration;

use talon_engine::EngineStats;
use talon_event::read::ReadStats;
use talon_event::terminal::escape_controls;
use talon_event::untimed::UntimedEvents;
use talon_rules::Rule;
use talon_sources::NormalizeStats;

/// What reading the inputs gave: everything read (inputs, bytes, events,
/// issues by reason, the first issues verbatim) and, for inputs normalized
/// from a native format, how their records became events.
///
/// Shown as [`write_read_line`] and then its `Display`: the normalized
/// line (only when an input was normalized) and the skipped lines.
#[derive(Clone, Debug)]
pub struct InputStats {
    pub read: ReadStats,
    pub normalized: NormalizeStats,
}

impl fmt::Display for InputStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.normalized;
        let inputs = n.normalized_inputs();
        if inputs > 0 {
            let by_source: Vec<String> = n
                .sources
                .iter()
                .filter(|(s, _)| **s != talon_sources::Source::Ecs)
                .map(|(s, k)| format!("{s} {k}"))
                .collect();
            // NormalizeStats' own line: records, events, merged, ignored by
            // reason, parents filled from the process tree.
            writeln!(
                f,
                "talon: normalized {} ({}): {n}",
                count(inputs, "input"),
                by_source.join(", ")
            )?;
            // Values unreadable in events still read (left out, or read
            // with U+FFFD): where, and why.
            for value in &n.unread_examples {
                writeln!(f, "talon:   {}", escape_controls(&value.to_string()))?;
            }
            let hidden = n.unread_total() - n.unread_examples.len() as u64;
            if hidden > 0 {
                writeln!(f, "talon:   ... and {hidden} more (-vv lists every one)")?;
            }
        }
        write_skipped(f, &self.read)
    }
}

/// Everything a hunt reports at the end.
pub struct HuntSummary<'a> {
    pub read: &'a InputStats,
    pub engine: &'a EngineStats,
    pub rules: &'a [&'a Rule],
    pub alerts_per_rule: &'a [u64],
    /// Matched events without a usable `@timestamp`: their alerts have no
    /// `kibana.alert.original_time` (the alert's own times are the run's).
    pub matched_untimed: &'a UntimedEvents,
    /// Sequences found by sequence rules; `None` when none ran.
    pub sequences: Option<u64>,
    /// Samples found by sample rules; `None` when none ran.
    pub samples: Option<u64>,
    pub alert_errors: u64,
    pub rule_errors: usize,
    pub rules_not_supported: usize,
    pub elapsed: Duration,
}

impl fmt::Display for HuntSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.engine;
        write_read_line(f, self.read, self.elapsed)?;
        write!(f, "{}", self.read)?;
        let alerts: u64 = self.alerts_per_rule.iter().sum();
        let found: String = [(self.sequences, "sequence"), (self.samples, "sample")]
            .into_iter()
            .filter_map(|(n, what)| Some(format!(", {}", count(n?, what))))
            .collect();
        writeln!(
            f,
            "talon: {} matched{found}, {} by {} of {}",
            count(e.matched, "event"),
            count(alerts, "alert"),
            self.alerts_per_rule.iter().filter(|&&n| n > 0).count(),
            count(self.rules.len() as u64, "rule")
        )?;
        write_untimed(f, self.matched_untimed, "@timestamp", |n| match n {
            1 => ": its alerts have no kibana.alert.original_time",
            _ => ": their alerts have no kibana.alert.original_time",
        })?;
        if e.no_index > 0 {
            writeln!(
                f,
                "talon: {} without an index (neither a search hit's `_index` nor \
                 data_stream.type, .dataset and .namespace; a top-level `_index` beside the \
                 event's fields is not read): no rule searched them; use --index NAME or \
                 --all-indices",
                count(e.no_index, "event")
            )?;
        }
        if e.index_not_searched > 0 {
            let mut names = escape_controls(&e.indices_not_searched.join(", ")).into_owned();
            if e.indices_not_searched.len() == 5 {
                names.push_str(", ...");
            }
            writeln!(
                f,
                "talon: {} in indices no loaded rule searches ({names}); --all-indices \
                 ignores index patterns",
                count(e.index_not_searched, "event"),
            )?;
        }
        for (n, rule) in nonzero_by_count(self.alerts_per_rule, self.rules) {
            writeln!(
                f,
                "talon: {n:>8}  {} [{}]",
                escape_controls(&rule.name),
                rule.severity
            )?;
        }
        if self.alert_errors > 0 {
            writeln!(
                f,
                "talon: {} could not be built (see warnings)",
                count(self.alert_errors, "alert")
            )?;
        }
        if self.rule_errors > 0 || self.rules_not_supported > 0 {
            writeln!(
                f,
                "talon: rules: {} running, {} with errors, {} not supported (-v lists them)",
                self.rules.len(),
                self.rule_errors,
                self.rules_not_supported
            )?;
        }
        Ok(())
    }
}

/// `talon: read N events from F files (B) in T`.
pub fn write_read_line(
    f: &mut dyn fmt::Write,
    stats: &InputStats,
    elapsed: Duration,
) -> fmt::Result {
    let read = &stats.read;
    // Lines the prefilter passed over, and blank and comment lines, are
    // not events read: say how many there were beside the events, so that
    // they add up to the input's lines with the skipped ones.
    let mut beside = Vec::new();
    match read.unparsed {
        0 => {}
        1 => beside.push("1 more line not parsed".to_string()),
        n => beside.push(format!("{n} more lines not parsed")),
    }
    if read.blank > 0 {
        beside.push(count(read.blank, "blank or comment line"));
    }
    let unparsed = match beside.is_empty() {
        true => String::new(),
        false => format!(" (and {})", beside.join(", ")),
    };
    writeln!(
        f,
        "talon: read {}{unparsed} from {} ({}) in {}",
        count(read.events, "event"),
        count(read.files, "input"),
        human_bytes(read.decoded_bytes),
        human_duration(elapsed)
    )?;
    if read.unparsed > 0 {
        writeln!(
            f,
            "talon: {} not parsed, so not checked for being JSON either: {} no text \
             any loaded rule needs (--no-prefilter parses and checks every line)",
            count(read.unparsed, "line"),
            if read.unparsed == 1 {
                "it holds"
            } else {
                "they hold"
            }
        )?;
    }
    Ok(())
}

/// The skipped counts by reason, then the first issues verbatim.
fn write_skipped(f: &mut dyn fmt::Write, read: &ReadStats) -> fmt::Result {
    let total = read.issue_count();
    if total == 0 {
        return Ok(());
    }
    let reasons: Vec<String> = read
        .skipped
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    writeln!(f, "talon: skipped {total}: {}", reasons.join(", "))?;
    for issue in &read.issues {
        writeln!(f, "talon:   {issue}")?;
    }
    let hidden = read.issues_not_shown();
    if hidden > 0 {
        writeln!(f, "talon:   ... and {hidden} more (-vv lists every one)")?;
    }
    Ok(())
}

/// The rules with a non-zero count, largest first, then by name.
pub fn nonzero_by_count<'r>(counts: &[u64], rules: &[&'r Rule]) -> Vec<(u64, &'r Rule)> {
    let mut per: Vec<(u64, &Rule)> = counts
        .iter()
        .zip(rules)
        .filter(|(n, _)| **n > 0)
        .map(|(n, r)| (*n, *r))
        .collect();
    per.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    per
}

/// The summary's lines for matched events whose `field` gave no time:
/// one for those holding no date, one for those without it, each naming
/// the first, as in
///
/// ```text
/// talon: 2 matched events have an unusable `@timestamp` (first: f.ndjson:3: "garbage") and sort last
/// ```
///
/// `then(n)` ends the line, saying what became of them.
pub fn write_untimed(
    f: &mut impl fmt::Write,
    untimed: &UntimedEvents,
    field: &str,
    then: impl Fn(u64) -> &'static str,
) -> fmt::Result {
    for (n, first, what) in [
        (untimed.unusable, &untimed.first_unusable, "an unusable"),
        (untimed.missing, &untimed.first_missing, "no"),
    ] {
        let Some(first) = first else { continue };
        writeln!(
            f,
            "talon: {} {} {what} `{field}` (first: {}){}",
            count(n, "matched event"),
            if n == 1 { "has" } else { "have" },
            escape_controls(&first.to_string()),
            then(n)
        )?;
    }
    Ok(())
}

/// `1 event`, `2 events`; `1 match`, `2 matches`; `1 entry`, `2 entries`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

/// The plural of an English noun as talon's messages use them: `-es`
/// after a hissing end (`match`, `box`), `-ies` for a consonant and `y`
/// (`entry`), `-s` otherwise (`day`, `event`). A phrase (`near-miss that
/// must not`) is not a noun: give its last word's count with [`count`].
pub fn plural(noun: &str) -> String {
    let hisses = ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| noun.ends_with(e));
    let consonant_y = noun.strip_suffix('y').is_some_and(|stem| {
        stem.chars()
            .last()
            .is_some_and(|c| !"aeiou".contains(c.to_ascii_lowercase()))
    });
    if hisses {
        format!("{noun}es")
    } else if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else {
        format!("{noun}s")
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn human_duration(d: Duration) -> String {
    if d.as_secs() >= 10 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "match"), "1 match");
        assert_eq!(count(2, "match"), "2 matches");
        assert_eq!(count(0, "event"), "0 events");
        assert_eq!(count(1, "run"), "1 run");
        assert_eq!(count(3, "entry"), "3 entries");
        assert_eq!(count(2, "day"), "2 days");
        assert_eq!(count(2, "near-miss"), "2 near-misses");
        assert_eq!(count(2, "building block"), "2 building blocks");
    }
}
