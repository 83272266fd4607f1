//! The YAML front matter of an Elastic documentation page, read into JSON.
//!
//! Those pages use a tiny slice of YAML (`applies_to:` nested maps,
//! `mapped_pages:` lists of URLs, scalar titles), so this reads block
//! mappings, block sequences of scalars, flow lists of scalars and plain or
//! quoted scalars, and nothing more. Anything else is an `Err` with the line,
//! and the caller keeps the raw text instead: a full YAML parser (with its
//! maintenance status) is not worth it for metadata that plays no part in
//! matching. Nesting is capped, so no input can exhaust the stack.

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 32;

/// A front-matter problem: 0-based index into the lines, and why.
pub(crate) type YamlError = (usize, String);

/// Parses the lines between the `---` fences into a mapping.
pub(crate) fn parse(lines: &[&str]) -> Result<Map<String, Value>, YamlError> {
    let mut p = Parser { lines, i: 0 };
    p.skip_blank();
    if p.i >= lines.len() {
        return Ok(Map::new());
    }
    let indent = p.indent(p.i)?;
    match p.block(indent, 0)? {
        Value::Object(m) if p.done() => Ok(m),
        Value::Object(_) => Err((p.i, "unexpected indentation".to_string())),
        _ => Err((0, "front matter must be a mapping".to_string())),
    }
}

struct Parser<'a> {
    lines: &'a [&'a str],
    i: usize,
}

impl Parser<'_> {
    fn is_blank(line: &str) -> bool {
        let t = line.trim();
        t.is_empty() || t.starts_with('#')
    }

    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && Self::is_blank(self.lines[self.i]) {
            self.i += 1;
        }
    }

    fn done(&mut self) -> bool {
        self.skip_blank();
        self.i >= self.lines.len()
    }

    fn indent(&self, i: usize) -> Result<usize, YamlError> {
        let line = self.lines.get(i).copied().unwrap_or("");
        let n = line.len() - line.trim_start_matches(' ').len();
        if line[n..].starts_with('\t') {
            return Err((i, "tabs are not allowed for indentation".to_string()));
        }
        Ok(n)
    }

    /// A mapping or sequence whose lines start at column `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        if depth > MAX_DEPTH {
            return Err((self.i, "front matter nests too deeply".to_string()));
        }
        let first = self.lines[self.i].trim_start();
        if first == "-" || first.starts_with("- ") {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        let mut map = Map::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i)? != indent {
                break;
            }
            let at = self.i;
            let line = self.lines[at].trim();
            if line.starts_with('-') {
                break;
            }
            let (key, rest) = split_key(line).ok_or((at, "expected `key: value`".to_string()))?;
            self.i += 1;
            let value = if rest.is_empty() {
                self.child(indent, depth)?
            } else {
                scalar_or_flow(rest, at)?
            };
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    /// The value under `key:` with nothing after the colon: a deeper block,
    /// a sequence at the key's own indentation, or null.
    fn child(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        self.skip_blank();
        if self.i >= self.lines.len() {
            return Ok(Value::Null);
        }
        let next = self.indent(self.i)?;
        let is_item = self.lines[self.i].trim_start().starts_with('-');
        if next > indent || (next == indent && is_item) {
            self.block(next, depth + 1)
        } else {
            Ok(Value::Null)
        }
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Result<Value, YamlError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() || self.indent(self.i)? != indent {
                break;
            }
            let at = self.i;
            let line = self.lines[at].trim();
            let Some(rest) = line.strip_prefix('-') else {
                break;
            };
            if !(rest.is_empty() || rest.starts_with(' ')) {
                break;
            }
            let rest = rest.trim();
            self.i += 1;
            if rest.is_empty() {
                items.push(self.child(indent, depth)?);
            } else if split_key(rest).is_some() && !rest.starts_with(['"', '\'']) {
                return Err((at, "mappings inside lists are not supported".to_string()));
            } else {
                items.push(scalar_or_flow(rest, at)?);
            }
        }
        Ok(Value::Array(items))
    }
}

/// `key: rest` (`rest` may be empty). The colon must be followed by a space
/// or end the line, so URLs (`https://...`) are not split.
fn split_key(line: &str) -> Option<(String, &str)> {
    let (key, rest) = if let Some(q) = line.strip_prefix('"') {
        let end = q.find('"')?;
        (q[..end].to_string(), q[end + 1..].strip_prefix(':')?)
    } else if let Some(q) = line.strip_prefix('\'') {
        let end = q.find('\'')?;
        (q[..end].to_string(), q[end + 1..].strip_prefix(':')?)
    } else {
        let idx = line.match_indices(':').map(|(i, _)| i).find(|&i| {
            let after = &line[i + 1..];
            after.is_empty() || after.starts_with(' ')
        })?;
        (line[..idx].trim().to_string(), &line[idx + 1..])
    };
    if !(rest.is_empty() || rest.starts_with(' ')) || key.is_empty() {
        return None;
    }
    Some((key, rest.trim()))
}

fn scalar_or_flow(s: &str, at: usize) -> Result<Value, YamlError> {
    let s = strip_comment(s);
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or((at, "unclosed `[`".to_string()))?;
        if inner.contains(['[', '{']) {
            return Err((at, "nested flow collections are not supported".to_string()));
        }
        let items = inner.split(',').map(str::trim).filter(|x| !x.is_empty());
        return items
            .map(|x| scalar(x, at))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if s.starts_with(['{', '|', '>', '&', '*', '!']) {
        return Err((at, "this YAML construct is not supported".to_string()));
    }
    scalar(s, at)
}

/// Drops a trailing ` # comment` outside quotes.
fn strip_comment(s: &str) -> &str {
    if s.starts_with(['"', '\'']) {
        return s;
    }
    match s.find(" #") {
        Some(i) => s[..i].trim_end(),
        None => s,
    }
}

fn scalar(s: &str, at: usize) -> Result<Value, YamlError> {
    if let Some(q) = s.strip_prefix('\'') {
        let inner = q
            .strip_suffix('\'')
            .ok_or((at, "unclosed quote".to_string()))?;
        return Ok(Value::String(inner.replace("''", "'")));
    }
    if let Some(q) = s.strip_prefix('"') {
        let inner = q
            .strip_suffix('"')
            .ok_or((at, "unclosed quote".to_string()))?;
        let json = format!("\"{inner}\"");
        // YAML double-quoted escapes are a superset of JSON's; the common
        // ones coincide, anything else is reported rather than guessed.
        return serde_json::from_str::<String>(&json)
            .map(Value::String)
            .map_err(|_| (at, "unsupported escape in quoted string".to_string()));
    }
    Ok(match s {
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        "null" | "Null" | "NULL" | "~" => Value::Null,
        _ => match s.parse::<i64>() {
            Ok(n) => Value::Number(n.into()),
            Err(_) => Value::String(s.to_string()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    #[test]
    fn page_front_matter() {
        let t = "applies_to:\n  stack: all\n  serverless:\n    security: all\nmapped_pages:\n  - https://x.example/a.html\n";
        let m = parse(&lines(t)).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"applies_to": {"stack": "all", "serverless": {"security": "all"}},
            "mapped_pages": ["https://x.example/a.html"]})
        );
    }

    #[test]
    fn scalars_flow_lists_and_same_indent_lists() {
        let t =
            "title: 'It''s'\nn: 3\nok: true\ntags: [a, \"b c\"]\nlist:\n- x\n- y # note\nempty:\n";
        let m = parse(&lines(t)).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"title": "It's", "n": 3, "ok": true, "tags": ["a", "b c"],
            "list": ["x", "y"], "empty": null})
        );
    }

    #[test]
    fn unsupported_input_is_an_error_not_a_panic() {
        assert!(parse(&lines("a: |\n  text\n")).is_err());
        assert!(parse(&lines("- a\n")).is_err());
        assert!(parse(&lines("a:\n  - k: v\n")).is_err());
        assert!(parse(&lines("a: 1\n    b: 2\n")).is_err());
        assert!(parse(&lines("\ta: 1\n")).is_err());
        assert!(parse(&lines("just text\n")).is_err());
        let deep: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&lines(&deep)).is_err());
        assert_eq!(parse(&[]).unwrap(), Map::new());
    }
}
