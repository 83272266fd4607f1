//! Lucene regexp syntax, translated for the `regex` crate.
//!
//! When `regex`/`regex~` tests a field, Elasticsearch sends a `regexp` query
//! with its default flags, which are ALL (the translator tests show
//! `"flags_value":255`). So besides the standard operators (`. ? + * {n,m}
//! | ( ) [ ] " \`), the optional ones are live too:
//!
//! - `#` the empty language, `@` any string, `<n-m>` a numeric interval
//!   (`<01-10>` fixed width when both ends have the same width);
//! - `&` intersection and `~` complement: expressed as a boolean combination
//!   of whole-value matches. They are supported where that is exact: a
//!   union of intersections of (possibly complemented) whole expressions.
//!   An `&` or `~` buried inside a concatenation or repetition (`a~bc`)
//!   is rejected at compile time as unsupported;
//! - `<name>` (a named automaton) is an error, as Elasticsearch has none.
//!
//! Lucene patterns are always anchored, and `^`/`$` are ordinary characters.
//! `\d \D \s \S \w \W` are the predefined ASCII classes Lucene 9 added
//! (Elasticsearch 8.x and later); the QA suite's "no character classes"
//! notes date from before them, and detection-rules#2260 records that their
//! behaviour changed between versions. Any other escaped character is that
//! character, literally (Lucene before 9 was lenient the same way; we stay
//! lenient rather than reject rules Elasticsearch may accept).
//!
//! `regex~` sets Lucene's ASCII case-insensitive flag, which folds single
//! characters and quoted strings but not ranges: `[a-z]` stays lowercase.

use crate::eval::regex::RegexMatcher;

/// Compiles a Lucene regexp; the error is a message for a diagnostic.
pub fn compile(pattern: &str, case_insensitive: bool) -> Result<RegexMatcher, String> {
    let mut p = Parser {
        chars: pattern.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let node = if p.chars.is_empty() {
        Node::Str(String::new())
    } else {
        p.union()?
    };
    if p.pos < p.chars.len() {
        return Err(format!("end-of-string expected at position {}", p.pos));
    }
    to_matcher(&node, case_insensitive)
}

/// The one string the pattern matches when it is a plain literal (no
/// operator at all), as Elasticsearch's optimizer turns such a `regex` into
/// an equality.
pub fn exact_match(pattern: &str) -> Option<String> {
    let node = parse_only(pattern)?;
    literal_of(&node)
}

/// Whether the pattern matches every string (`.*`, `@`): Elasticsearch turns
/// such a `regex` into an existence test.
pub fn matches_all(pattern: &str) -> bool {
    match parse_only(pattern) {
        Some(Node::AnyString) => true,
        Some(Node::Repeat {
            node,
            min: 0,
            max: None,
        }) => matches!(*node, Node::AnyChar | Node::AnyString),
        _ => false,
    }
}

fn parse_only(pattern: &str) -> Option<Node> {
    if pattern.is_empty() {
        return Some(Node::Str(String::new()));
    }
    let mut p = Parser {
        chars: pattern.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let node = p.union().ok()?;
    (p.pos == p.chars.len()).then_some(node)
}

fn literal_of(n: &Node) -> Option<String> {
    match n {
        Node::Char(c) => Some(c.to_string()),
        Node::Str(s) => Some(s.clone()),
        Node::Concat(items) => items.iter().map(literal_of).collect(),
        _ => None,
    }
}

/// Deepest nesting of groups we accept (the parser recurses per level).
const MAX_DEPTH: usize = 200;

#[derive(Clone, Debug)]
enum Node {
    Char(char),
    Str(String),
    AnyChar,
    AnyString,
    Empty,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    Pre(char),
    Interval {
        min: u64,
        max: u64,
        digits: usize,
    },
    Concat(Vec<Node>),
    Union(Vec<Node>),
    Inter(Vec<Node>),
    Compl(Box<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Clone, Debug)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Pre(char),
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn more(&self) -> bool {
        self.pos < self.chars.len()
    }

    fn peek(&self, set: &str) -> bool {
        self.chars.get(self.pos).is_some_and(|c| set.contains(*c))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.chars.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Result<char, String> {
        match self.chars.get(self.pos) {
            Some(c) => {
                self.pos += 1;
                Ok(*c)
            }
            None => Err("unexpected end-of-string".to_string()),
        }
    }

    fn union(&mut self) -> Result<Node, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("regular expression nested too deeply".to_string());
        }
        let mut items = vec![self.inter()?];
        while self.eat('|') {
            items.push(self.inter()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Union(items)
        })
    }

    fn inter(&mut self) -> Result<Node, String> {
        let mut items = vec![self.concat()?];
        while self.eat('&') {
            items.push(self.concat()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Inter(items)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut items = vec![self.repeat()?];
        while self.more() && !self.peek(")|&") {
            items.push(self.repeat()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Node::Concat(items)
        })
    }

    fn repeat(&mut self) -> Result<Node, String> {
        let mut e = self.compl()?;
        while self.peek("?*+{") {
            let (min, max) = match self.next()? {
                '?' => (0, Some(1)),
                '*' => (0, None),
                '+' => (1, None),
                _ => {
                    let n = self.integer()?;
                    let range = if self.eat(',') {
                        if self.peek("0123456789") {
                            (n, Some(self.integer()?))
                        } else {
                            (n, None)
                        }
                    } else {
                        (n, Some(n))
                    };
                    if !self.eat('}') {
                        return Err(format!("expected '}}' at position {}", self.pos));
                    }
                    if let (lo, Some(hi)) = range {
                        if hi < lo {
                            return Err(format!("invalid repetition {{{lo},{hi}}}"));
                        }
                    }
                    range
                }
            };
            e = Node::Repeat {
                node: Box::new(e),
                min,
                max,
            };
        }
        Ok(e)
    }

    fn integer(&mut self) -> Result<u32, String> {
        let start = self.pos;
        while self.peek("0123456789") {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("integer expected at position {}", self.pos));
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse::<u32>()
            .map_err(|_| format!("repetition count {text} is too large"))
    }

    fn compl(&mut self) -> Result<Node, String> {
        if self.eat('~') {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("regular expression nested too deeply".to_string());
            }
            let inner = self.compl()?;
            self.depth -= 1;
            return Ok(Node::Compl(Box::new(inner)));
        }
        self.char_class()
    }

    fn char_class(&mut self) -> Result<Node, String> {
        if !self.eat('[') {
            return self.simple();
        }
        let negated = self.eat('^');
        let mut items = vec![self.class_item()?];
        while self.more() && !self.peek("]") {
            items.push(self.class_item()?);
        }
        if !self.eat(']') {
            return Err(format!("expected ']' at position {}", self.pos));
        }
        Ok(Node::Class { negated, items })
    }

    fn class_item(&mut self) -> Result<ClassItem, String> {
        if let Some(p) = self.predefined() {
            return Ok(ClassItem::Pre(p));
        }
        let c = self.char_exp()?;
        if self.eat('-') {
            let d = self.char_exp()?;
            if c > d {
                return Err(format!("invalid range: from ({c}) cannot be > to ({d})"));
            }
            return Ok(ClassItem::Range(c, d));
        }
        Ok(ClassItem::Char(c))
    }

    /// `\d` and friends.
    fn predefined(&mut self) -> Option<char> {
        if self.chars.get(self.pos) == Some(&'\\') {
            if let Some(c) = self.chars.get(self.pos + 1) {
                if "dDsSwW".contains(*c) {
                    self.pos += 2;
                    return Some(*c);
                }
            }
        }
        None
    }

    fn char_exp(&mut self) -> Result<char, String> {
        if self.eat('\\') {
            return self.next();
        }
        self.next()
    }

    fn simple(&mut self) -> Result<Node, String> {
        if let Some(p) = self.predefined() {
            return Ok(Node::Pre(p));
        }
        if self.eat('.') {
            return Ok(Node::AnyChar);
        }
        if self.eat('#') {
            return Ok(Node::Empty);
        }
        if self.eat('@') {
            return Ok(Node::AnyString);
        }
        if self.eat('"') {
            let start = self.pos;
            while self.more() && !self.peek("\"") {
                self.pos += 1;
            }
            if !self.eat('"') {
                return Err(format!("expected '\"' at position {}", self.pos));
            }
            return Ok(Node::Str(self.chars[start..self.pos - 1].iter().collect()));
        }
        if self.eat('(') {
            if self.eat(')') {
                return Ok(Node::Str(String::new()));
            }
            let e = self.union()?;
            if !self.eat(')') {
                return Err(format!("expected ')' at position {}", self.pos));
            }
            return Ok(e);
        }
        if self.eat('<') {
            let start = self.pos;
            while self.more() && !self.peek(">") {
                self.pos += 1;
            }
            if !self.eat('>') {
                return Err(format!("expected '>' at position {}", self.pos));
            }
            let body: String = self.chars[start..self.pos - 1].iter().collect();
            return interval(&body);
        }
        Ok(Node::Char(self.char_exp()?))
    }
}

fn interval(body: &str) -> Result<Node, String> {
    let Some((a, b)) = body.split_once('-') else {
        return Err(format!(
            "'{body}' not found: named automata are not available"
        ));
    };
    let bad = || format!("interval syntax error in <{body}>");
    let digits_only = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits_only(a) || !digits_only(b) {
        return Err(bad());
    }
    // Lucene parses both ends as Java ints.
    let lo: u64 = a
        .parse::<u32>()
        .ok()
        .filter(|v| *v <= i32::MAX as u32)
        .ok_or_else(bad)?
        .into();
    let hi: u64 = b
        .parse::<u32>()
        .ok()
        .filter(|v| *v <= i32::MAX as u32)
        .ok_or_else(bad)?
        .into();
    let digits = if a.len() == b.len() { a.len() } else { 0 };
    let (min, max) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    Ok(Node::Interval { min, max, digits })
}

fn has_bool_ops(n: &Node) -> bool {
    match n {
        Node::Inter(_) | Node::Compl(_) => true,
        Node::Concat(v) | Node::Union(v) => v.iter().any(has_bool_ops),
        Node::Repeat { node, .. } => has_bool_ops(node),
        _ => false,
    }
}

fn to_matcher(n: &Node, ci: bool) -> Result<RegexMatcher, String> {
    match n {
        Node::Union(items) if items.iter().any(has_bool_ops) => Ok(RegexMatcher::Any(
            items
                .iter()
                .map(|i| to_matcher(i, ci))
                .collect::<Result<_, _>>()?,
        )),
        Node::Inter(items) => Ok(RegexMatcher::All(
            items
                .iter()
                .map(|i| to_matcher(i, ci))
                .collect::<Result<_, _>>()?,
        )),
        Node::Compl(inner) => Ok(RegexMatcher::Not(Box::new(to_matcher(inner, ci)?))),
        Node::Empty => Ok(RegexMatcher::Never),
        other if has_bool_ops(other) => Err(
            "`&` and `~` are supported only around whole alternatives (e.g. `@&~(abc.*)`), \
             not inside a concatenation or repetition"
                .to_string(),
        ),
        other => {
            let mut out = String::from("^(?:");
            emit(other, ci, &mut out);
            out.push_str(")$");
            regex::RegexBuilder::new(&out)
                .size_limit(1 << 24)
                .build()
                .map(RegexMatcher::Rx)
                .map_err(|e| format!("regular expression too complex: {e}"))
        }
    }
}

fn push_char(c: char, ci: bool, out: &mut String) {
    if ci && c.is_ascii_alphabetic() {
        out.push('[');
        out.push(c.to_ascii_lowercase());
        out.push(c.to_ascii_uppercase());
        out.push(']');
    } else {
        out.push_str(&regex::escape(c.encode_utf8(&mut [0u8; 4])));
    }
}

fn class_char(c: char, out: &mut String) {
    // Inside a class, escape everything that could be syntax.
    if c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_whitespace()) {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", c as u32));
    }
}

fn pre_class(p: char) -> &'static str {
    match p {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        's' => "[ \\t\\n\\x0B\\f\\r]",
        'S' => "[^ \\t\\n\\x0B\\f\\r]",
        'w' => "[a-zA-Z0-9_]",
        _ => "[^a-zA-Z0-9_]",
    }
}

fn pre_class_items(p: char) -> &'static str {
    match p {
        'd' => "0-9",
        's' => " \\t\\n\\x0B\\f\\r",
        _ => "a-zA-Z0-9_",
    }
}

fn emit(n: &Node, ci: bool, out: &mut String) {
    match n {
        Node::Char(c) => push_char(*c, ci, out),
        Node::Str(s) => {
            out.push_str("(?:");
            for c in s.chars() {
                push_char(c, ci, out);
            }
            out.push(')');
        }
        Node::AnyChar => out.push_str("(?s:.)"),
        Node::AnyString => out.push_str("(?s:.*)"),
        Node::Empty => out.push_str("[^\\x00-\\x{10FFFF}]"),
        Node::Pre(p) => out.push_str(pre_class(*p)),
        Node::Class { negated, items } => {
            // Negated predefined classes inside a class need set subtraction,
            // so build the class as (union of items), then negate if asked.
            out.push_str(if *negated { "[^" } else { "[" });
            let mut subtract = Vec::new();
            for it in items {
                match it {
                    ClassItem::Char(c) => class_char(*c, out),
                    ClassItem::Range(a, b) => {
                        class_char(*a, out);
                        out.push('-');
                        class_char(*b, out);
                    }
                    ClassItem::Pre(p) if p.is_lowercase() => out.push_str(pre_class_items(*p)),
                    ClassItem::Pre(p) => subtract.push(*p),
                }
            }
            if !subtract.is_empty() {
                // [x\D] = [x] ∪ [^0-9]: emit the complement classes as nested
                // negated classes, which the regex crate unions.
                for p in subtract {
                    out.push_str(pre_class(p));
                }
            }
            out.push(']');
        }
        Node::Interval { min, max, digits } => {
            out.push_str("(?:");
            if *digits > 0 {
                fixed(*min, *max, *digits, out);
            } else {
                out.push_str("0*(?:");
                let mut first = true;
                let (lo_len, hi_len) = (num_len(*min), num_len(*max));
                for d in lo_len..=hi_len {
                    let floor = if d == 1 { 0 } else { 10u64.pow(d as u32 - 1) };
                    let ceil = 10u64.pow(d as u32) - 1;
                    let (a, b) = ((*min).max(floor), (*max).min(ceil));
                    if a > b {
                        continue;
                    }
                    if !first {
                        out.push('|');
                    }
                    first = false;
                    fixed(a, b, d, out);
                }
                out.push(')');
            }
            out.push(')');
        }
        Node::Concat(items) => {
            out.push_str("(?:");
            for i in items {
                emit(i, ci, out);
            }
            out.push(')');
        }
        Node::Union(items) => {
            out.push_str("(?:");
            for (k, i) in items.iter().enumerate() {
                if k > 0 {
                    out.push('|');
                }
                emit(i, ci, out);
            }
            out.push(')');
        }
        Node::Repeat { node, min, max } => {
            out.push_str("(?:");
            emit(node, ci, out);
            out.push(')');
            match (min, max) {
                (0, Some(1)) => out.push('?'),
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (m, None) => out.push_str(&format!("{{{m},}}")),
                (m, Some(x)) => out.push_str(&format!("{{{m},{x}}}")),
            }
        }
        // Boolean operators never reach emit (to_matcher rejects them).
        Node::Inter(_) | Node::Compl(_) => out.push_str("[^\\x00-\\x{10FFFF}]"),
    }
}

fn num_len(n: u64) -> usize {
    n.to_string().len()
}

/// Exactly `w` digits whose value lies in `[lo, hi]` (both < 10^w).
fn fixed(lo: u64, hi: u64, w: usize, out: &mut String) {
    if w == 0 {
        return;
    }
    let p = 10u64.pow(w as u32 - 1);
    let (a, b) = (lo / p, hi / p);
    let (lr, hr) = (lo % p, hi % p);
    if a == b {
        out.push_str(&a.to_string());
        fixed(lr, hr, w - 1, out);
        return;
    }
    let full = |out: &mut String, from: u64, to: u64| {
        out.push_str(&format!("[{from}-{to}]"));
        if w > 1 {
            out.push_str(&format!("[0-9]{{{}}}", w - 1));
        }
    };
    if lr == 0 && hr == p - 1 {
        out.push_str("(?:");
        full(out, a, b);
        out.push(')');
        return;
    }
    out.push_str("(?:");
    out.push_str(&a.to_string());
    fixed(lr, p - 1, w - 1, out);
    if b >= a + 2 {
        out.push('|');
        full(out, a + 1, b - 1);
    }
    out.push('|');
    out.push_str(&b.to_string());
    fixed(0, hr, w - 1, out);
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        match compile(p, false) {
            Ok(r) => r.matches(v),
            Err(e) => panic!("{p}: {e}"),
        }
    }

    #[test]
    fn lucene_basics() {
        assert!(m(
            ".*?net1[ ]+localgroup.*?",
            "C:\\Windows\\system32\\net1  localgroup administrators"
        ));
        assert!(!m("net", "net1"));
        assert!(m("^abc", "^abc"));
        assert!(!m("^abc", "abc"));
        assert!(m("a{2,3}", "aaa"));
        assert!(m("\"a.b\"c", "a.bc"));
        assert!(!m("\"a.b\"c", "axbc"));
        assert!(m("[^abc]", "d"));
        assert!(m("\\d+\\s\\w", "12 x"));
        assert!(m("[\\d.]+", "1.2"));
        assert!(m("()", ""));
        assert!(m("", ""));
        assert!(!m("#", ""));
    }

    #[test]
    fn optional_operators() {
        assert!(m("@", "anything"));
        assert!(m("@&~(abc.+)", "xyz"));
        assert!(!m("@&~(abc.+)", "abcd"));
        assert!(m("aaa.+&.+bbb", "aaabbb"));
        assert!(m("foo<1-100>", "foo42"));
        assert!(m("foo<1-100>", "foo042"));
        assert!(!m("foo<1-100>", "foo101"));
        assert!(m("<01-10>", "07"));
        assert!(!m("<01-10>", "7"));
        assert!(compile("a~bc", false).is_err());
        assert!(compile("<name>", false).is_err());
        assert!(compile("a{2", false).is_err());
        assert!(compile("(a", false).is_err());
        assert!(compile("[b-a]", false).is_err());
    }

    #[test]
    fn ascii_case_folding() {
        let r = compile("net[1]?", true).map(|r| (r.matches("NET1"), r.matches("Net")));
        assert_eq!(r, Ok((true, true)));
        let r = compile("[a-z]+", true).map(|r| r.matches("ABC"));
        assert_eq!(r, Ok(false));
    }
}
