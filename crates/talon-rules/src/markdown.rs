//! Elastic rule documentation pages (the Markdown of the prebuilt-rules
//! reference): front matter, `# Title [anchor]`, the description, the
//! bold-labelled metadata lines, `## Investigation guide`, `## Setup`,
//! `## Rule query` with its fenced query, and the MITRE ATT&CK bullets.
//!
//! The page is read line by line: these pages are generated, so their shape
//! is regular, and a line reader keeps exact byte positions for the query
//! (`RuleOrigin::query_offsets` maps each query byte to its page byte).
//!
//! A page carries no rule_id. The loader derives one: a version-5 UUID of
//! the rule name under [`PAGE_RULE_ID_NAMESPACE`], so the same page (or two
//! pages of the same rule) always gets the same id. It is not the rule's
//! real rule_id; the original is only in the TOML or the Kibana export.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::{LoadError, LoadErrorKind};
use crate::fields::build_rule;
use crate::frontmatter;
use crate::load::{FileOutcome, Loaded};
use crate::mitre::parse_threat;
use crate::rule::{RuleFormat, RuleOrigin};

/// The namespace of derived page rule_ids (a fixed, arbitrary UUID; changing
/// it would change every derived id).
pub const PAGE_RULE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x3f0c_9a57_2b1e_4d8c_a6f4_71e2_d05b_9c38);

/// The rule_id derived for a page whose title is `name`.
pub fn page_rule_id(name: &str) -> String {
    Uuid::new_v5(&PAGE_RULE_ID_NAMESPACE, name.as_bytes()).to_string()
}

/// One line of the page: its text (without the line break) and where it
/// starts in the file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub start: usize,
    pub text: &'a str,
}

impl Line<'_> {
    pub fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }
}

/// The lines of `text`, a byte-order mark before the first left out (it
/// is no part of a `---` fence or a `# Title`).
fn split_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let bom = text.len() - text.trim_start_matches('\u{feff}').len();
    let mut pos = bom;
    for raw in text[bom..].split_inclusive('\n') {
        let t = raw.trim_end_matches('\n');
        let t = t.strip_suffix('\r').unwrap_or(t);
        out.push(Line {
            start: pos,
            text: t,
        });
        pos += raw.len();
    }
    out
}

/// A `## Heading [anchor]` section: lowercased title and body lines.
struct Section<'a> {
    title: String,
    lines: &'a [Line<'a>],
}

pub(crate) fn load_markdown(text: Arc<str>, path: &Path) -> FileOutcome {
    let mut out = FileOutcome::default();
    let all = split_lines(&text);
    let mut lines: &[Line] = &all;
    let mut fields = Map::new();
    let mut spans: Vec<(String, Range<usize>)> = Vec::new();

    // Front matter between `---` fences at the very top.
    if lines.first().map(|l| l.text) == Some("---") {
        let Some(close) = lines
            .iter()
            .skip(1)
            .position(|l| l.text == "---" || l.text == "...")
        else {
            let msg = "front matter opened with `---` is never closed";
            out.errors.push(LoadError::at(
                path,
                &text,
                lines[0].span(),
                LoadErrorKind::Syntax,
                msg,
            ));
            return out;
        };
        let body: Vec<&str> = lines[1..=close].iter().map(|l| l.text).collect();
        match frontmatter::parse(&body) {
            Ok(m) => fields.extend(m),
            Err((i, why)) => {
                let raw = body.join("\n");
                fields.insert("front_matter".to_string(), Value::String(raw));
                let span = lines.get(1 + i).map(Line::span).unwrap_or(0..0);
                let msg = format!("front matter kept as text: {why}");
                out.warnings
                    .push(LoadError::at(path, &text, span, LoadErrorKind::Syntax, msg));
            }
        }
        lines = &lines[close + 2..];
    }

    let Some(title_idx) = lines.iter().position(|l| l.text.starts_with("# ")) else {
        out.not_rules = true;
        out.errors.push(LoadError::file(
            path,
            LoadErrorKind::NotARule,
            "no `# Title` line: not a rule page",
        ));
        return out;
    };
    let title_line = lines[title_idx];
    let (name, anchor) = split_anchor(title_line.text[2..].trim());
    fields.insert("name".to_string(), json!(name));
    if let Some(a) = anchor {
        fields.insert("page_anchor".to_string(), json!(a));
    }
    spans.push(("name".to_string(), title_line.span()));

    let body = &lines[title_idx + 1..];
    let first_section = section_heading(body).unwrap_or(body.len());
    let preamble = &body[..first_section];
    let sections = split_sections(&body[first_section..]);

    read_preamble(preamble, &mut fields, &mut spans);
    if !fields.contains_key("type") && !sections.iter().any(|s| s.title == "rule query") {
        out.not_rules = true;
        let msg = "no `**Rule type**` line and no `## Rule query` section: not a rule page";
        out.errors.push(LoadError::at(
            path,
            &text,
            title_line.span(),
            LoadErrorKind::NotARule,
            msg,
        ));
        return out;
    }

    let mut query_offsets = Vec::new();
    let mut threat = Vec::new();
    for s in &sections {
        match s.title.as_str() {
            "investigation guide" => {
                fields.insert("note".to_string(), json!(section_text(s.lines)));
            }
            "setup" => {
                fields.insert("setup".to_string(), json!(section_text(s.lines)));
            }
            _ => {
                // Lines of a query section after the query block: another
                // block there is ignored, and said so.
                let mut after_query: &[Line] = &[];
                if s.title == "rule query" && fields.contains_key("query") {
                    after_query = s.lines;
                } else if s.title == "rule query" {
                    if let Some(block) = fenced_block(s.lines, text.len()) {
                        let end = block.span.end;
                        after_query = s
                            .lines
                            .iter()
                            .position(|l| l.start > end)
                            .map_or(&[], |i| &s.lines[i..]);
                        if let Some(open) = block.unclosed {
                            let msg = "this fence is never closed: the query runs on to the end \
                                       of its section, and whatever follows is read as EQL";
                            out.warnings.push(LoadError::at(
                                path,
                                &text,
                                open,
                                LoadErrorKind::Syntax,
                                msg,
                            ));
                        }
                        fields.insert("query".to_string(), json!(block.text));
                        spans.push(("query".to_string(), block.span));
                        query_offsets = block.offsets;
                    }
                }
                if let Some(extra) = after_query.iter().find(|l| fence(l.text).is_some()) {
                    let msg = "another query block: a rule page has one query, the first \
                               block under `## Rule query`; this one is not read";
                    out.warnings.push(LoadError::at(
                        path,
                        &text,
                        extra.span(),
                        LoadErrorKind::Syntax,
                        msg,
                    ));
                }
                threat.extend(parse_threat(s.lines));
            }
        }
    }
    if !threat.is_empty() {
        fields.insert("threat".to_string(), Value::Array(threat));
    }
    default_language(&mut fields);
    let rule_id = page_rule_id(fields.get("name").and_then(Value::as_str).unwrap_or(""));
    fields.insert("rule_id".to_string(), json!(rule_id));

    let origin = RuleOrigin {
        path: path.to_path_buf(),
        format: RuleFormat::Markdown,
        text: text.clone(),
        query_offsets: Arc::from(query_offsets),
    };
    // Page labels hold no tables: a problem below a field's value is
    // shown at the value.
    let span_of = |key: Option<&str>, _: &[crate::fields::Step]| {
        key.and_then(|k| {
            spans
                .iter()
                .rev()
                .find(|(n, _)| *n == k)
                .map(|(_, s)| s.clone())
        })
        .unwrap_or_else(|| title_line.span())
    };
    match build_rule(fields, Map::new(), origin) {
        Ok(built) => out.rules.push(Loaded {
            rule: built.placed(path, &text, &span_of),
            rule_id_span: Some(title_line.span()),
        }),
        Err(es) => out
            .errors
            .extend(crate::fields::placed_in_order(es, path, &text, &span_of)),
    }
    out
}

/// `IPv4/IPv6 Forwarding Activity [prebuilt-rule-...]` -> name and anchor.
/// Only a trailing bracket without spaces is an anchor, so a title that
/// itself ends in `[...]` words stays whole.
fn split_anchor(title: &str) -> (&str, Option<&str>) {
    if let Some(open) = title.rfind(" [") {
        let tail = &title[open + 2..];
        if let Some(anchor) = tail.strip_suffix(']') {
            if !anchor.is_empty() && !anchor.contains(char::is_whitespace) {
                return (title[..open].trim_end(), Some(anchor));
            }
        }
    }
    (title, None)
}

/// The first `## ` line of `lines` that is not inside fenced code (a
/// shell comment in an example is no section). A fence that no line
/// closes hides nothing: the section it is in still ends at the next
/// heading, as the warning about it says, and the sections after it load.
fn section_heading(lines: &[Line]) -> Option<usize> {
    let mut i = 0;
    while let Some(l) = lines.get(i) {
        if l.text.starts_with("## ") {
            return Some(i);
        }
        if let Some((_, ch, len)) = fence(l.text) {
            if let Some(k) = lines[i + 1..].iter().position(|c| closes(c.text, ch, len)) {
                i += k + 1;
            }
        }
        i += 1;
    }
    None
}

fn split_sections<'a>(lines: &'a [Line<'a>]) -> Vec<Section<'a>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].text.trim_start_matches('#').trim();
        let end = section_heading(&lines[i + 1..]).map_or(lines.len(), |p| i + 1 + p);
        let (title, _) = split_anchor(head);
        out.push(Section {
            title: title.to_ascii_lowercase(),
            lines: &lines[i + 1..end],
        });
        i = end;
    }
    out
}

/// A section's Markdown, without the blank lines around it.
fn section_text(lines: &[Line]) -> String {
    let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
    let start = texts
        .iter()
        .position(|t| !t.trim().is_empty())
        .unwrap_or(texts.len());
    let end = texts
        .iter()
        .rposition(|t| !t.trim().is_empty())
        .map_or(start, |e| e + 1);
    texts[start..end].join("\n")
}

/// `**Label**: value` -> (label, value).
fn bold_label(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("**")?;
    let (label, after) = rest.split_once("**")?;
    let value = after.strip_prefix(':')?;
    Some((label.trim(), value.trim()))
}

fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    t.strip_prefix("* ")
        .or_else(|| t.strip_prefix("- "))
        .map(str::trim)
}

/// `[text](url)` -> url; anything else unchanged.
pub(crate) fn unlink(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(i) = rest.find("](") {
            if let Some(url) = rest[i + 2..].strip_suffix(')') {
                return url;
            }
        }
    }
    s
}

/// The description paragraphs and the labelled metadata above the first
/// `## ` heading.
fn read_preamble(
    lines: &[Line],
    fields: &mut Map<String, Value>,
    spans: &mut Vec<(String, Range<usize>)>,
) {
    let mut description: Vec<&str> = Vec::new();
    let mut seen_label = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let Some((label, value)) = bold_label(line.text) else {
            if !seen_label {
                description.push(line.text);
            }
            continue;
        };
        seen_label = true;
        let value_span = if value.is_empty() {
            line.span()
        } else {
            let at = line.start + line.text.len() - line.text.trim_start().len();
            let off = line.text.trim().len() - value.len();
            at + off..at + line.text.trim().len()
        };
        // A label with nothing after the colon introduces a bullet list.
        let mut items = Vec::new();
        if value.is_empty() {
            while i < lines.len() {
                let t = lines[i].text;
                if let Some(b) = bullet(t) {
                    items.push(b);
                } else if !t.trim().is_empty() {
                    break;
                }
                i += 1;
            }
        }
        let list = |v: &str| -> Value {
            if v.is_empty() {
                json!(items)
            } else if v.eq_ignore_ascii_case("none") {
                json!([])
            } else {
                json!([v])
            }
        };
        let (key, v) = match label.to_ascii_lowercase().as_str() {
            "rule type" => ("type".to_string(), json!(value)),
            "rule language" | "language" => ("language".to_string(), json!(value)),
            "rule indices" => ("index".to_string(), list(value)),
            "severity" => ("severity".to_string(), json!(value)),
            "risk score" => ("risk_score".to_string(), number(value)),
            "runs every" => ("interval".to_string(), json!(value)),
            // `now-9m ({{ref}}/common-options.html#date-math[Date Math ...`:
            // the date math is the first word, the rest is commentary.
            "searches indices from" => (
                "from".to_string(),
                json!(value.split_whitespace().next().unwrap_or("")),
            ),
            "maximum alerts per execution" => ("max_signals".to_string(), number(value)),
            "references" => {
                let refs = list(value);
                let refs: Vec<Value> = refs
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|s| json!(unlink(s)))
                            .collect()
                    })
                    .unwrap_or_default();
                ("references".to_string(), Value::Array(refs))
            }
            "false positives" | "false positive examples" => {
                ("false_positives".to_string(), list(value))
            }
            "tags" => ("tags".to_string(), list(value)),
            "version" => ("version".to_string(), number(value)),
            "rule authors" | "rule author" => ("author".to_string(), list(value)),
            "rule license" => ("license".to_string(), json!(value)),
            "timestamp override" => ("timestamp_override".to_string(), json!(value)),
            _ => (
                snake_label(label),
                if value.is_empty() {
                    json!(items)
                } else {
                    json!(value)
                },
            ),
        };
        spans.push((key.clone(), value_span));
        fields.insert(key, v);
    }
    let joined = description.join("\n");
    let d = joined.trim();
    if !d.is_empty() {
        fields.insert("description".to_string(), json!(d));
    }
}

/// A number when the text is one; otherwise the text, so the field check
/// reports "must be an integer" at the value.
fn number(v: &str) -> Value {
    v.parse::<i64>()
        .map(|n| json!(n))
        .unwrap_or_else(|_| json!(v))
}

/// `Rule name override` -> `rule_name_override`.
fn snake_label(label: &str) -> String {
    let mut s = String::with_capacity(label.len());
    for c in label.chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.ends_with('_') && !s.is_empty() {
            s.push('_');
        }
    }
    s.trim_end_matches('_').to_string()
}

/// Pages do not state the query language; it follows from the rule type
/// as the detection engine defaults it.
fn default_language(fields: &mut Map<String, Value>) {
    if fields.contains_key("language") {
        return;
    }
    let lang = match fields.get("type").and_then(Value::as_str) {
        Some("eql") => "eql",
        Some("esql") => "esql",
        Some("query" | "threshold" | "new_terms" | "threat_match" | "saved_query") => "kuery",
        _ => return,
    };
    fields.insert("language".to_string(), json!(lang));
}

/// A fenced code block (see [`fenced_block`]).
struct Fenced {
    /// Each line plus `\n`.
    text: String,
    /// The page byte of each text byte, and one past the end.
    offsets: Vec<u32>,
    /// The block's content in the page.
    span: Range<usize>,
    /// The opening fence's line, when no line closes it.
    unclosed: Option<Range<usize>>,
}

/// The first fenced code block of `lines`. `eof` is the file length (an
/// unclosed fence runs to the end of `lines`).
fn fenced_block(lines: &[Line], eof: usize) -> Option<Fenced> {
    let open = lines.iter().position(|l| fence(l.text).is_some())?;
    let (indent, ch, len) = fence(lines[open].text)?;
    let mut text = String::new();
    let mut offsets = Vec::new();
    let (mut end, mut closed) = (eof, false);
    for l in &lines[open + 1..] {
        if closes(l.text, ch, len) {
            (end, closed) = (l.start, true);
            break;
        }
        // CommonMark removes up to the fence's own indentation from each
        // content line.
        let strip = l.text.len() - l.text.trim_start_matches(' ').len();
        let strip = strip.min(indent);
        let content = &l.text[strip..];
        text.push_str(content);
        offsets.extend((0..content.len()).map(|i| to_u32(l.start + strip + i)));
        text.push('\n');
        offsets.push(to_u32(l.start + l.text.len()));
    }
    let content_start = lines.get(open + 1).map_or(end, |l| l.start);
    offsets.push(to_u32(end));
    Some(Fenced {
        text,
        offsets,
        span: content_start..end.max(content_start),
        unclosed: (!closed).then(|| lines[open].span()),
    })
}

/// Whether `line` closes a fence of `len` characters `ch`: as many or more
/// of them, and nothing after.
fn closes(line: &str, ch: u8, len: usize) -> bool {
    fence(line).is_some_and(|(_, c, n)| c == ch && n >= len && line.trim()[n..].trim().is_empty())
}

/// A fence line (``` or ~~~, at most 3 spaces in): (indent, char, length).
fn fence(line: &str) -> Option<(usize, u8, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line.as_bytes()[indent..];
    let ch = *rest.first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let n = rest.iter().take_while(|&&b| b == ch).count();
    (n >= 3).then_some((indent, ch, n))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_only_when_they_look_like_anchors() {
        assert_eq!(
            split_anchor("Rule [rule-anchor]"),
            ("Rule", Some("rule-anchor"))
        );
        assert_eq!(
            split_anchor("Rule [Deprecated use]"),
            ("Rule [Deprecated use]", None)
        );
        assert_eq!(split_anchor("Rule"), ("Rule", None));
    }

    #[test]
    fn fenced_block_strips_fence_indent_and_maps_bytes() {
        let text = "x\n  ```\n  a\n    b\n  ````\n";
        let lines = split_lines(text);
        let Fenced {
            text: q,
            offsets,
            span,
            ..
        } = fenced_block(&lines, text.len()).unwrap();
        assert_eq!(q, "a\n  b\n");
        assert_eq!(offsets.len(), q.len() + 1);
        assert_eq!(offsets[0] as usize, text.find('a').unwrap());
        assert_eq!(
            offsets[q.find('b').unwrap()] as usize,
            text.find('b').unwrap()
        );
        assert_eq!(
            *offsets.last().unwrap() as usize,
            text.find("  ````").unwrap()
        );
        assert_eq!(span.start, text.find("  a").unwrap());
    }

    #[test]
    fn unclosed_fence_runs_to_the_end() {
        let text = "~~~\nq\n";
        let Fenced {
            text: q, offsets, ..
        } = fenced_block(&split_lines(text), text.len()).unwrap();
        assert_eq!(q, "q\n");
        assert_eq!(*offsets.last().unwrap() as usize, text.len());
        assert!(fenced_block(&split_lines("``\nq\n"), 5).is_none());
    }

    #[test]
    fn labels_and_links() {
        assert_eq!(bold_label("**Risk score**: 21"), Some(("Risk score", "21")));
        assert_eq!(bold_label("**Triage and analysis**"), None);
        assert_eq!(snake_label("Rule name override"), "rule_name_override");
        assert_eq!(snake_label("Timeline (template)"), "timeline_template");
        assert_eq!(unlink("[a](https://x/)"), "https://x/");
        assert_eq!(unlink("plain"), "plain");
    }
}
