//! Wildcard patterns (`*` any run, `?` exactly one character), compiled once
//! into the cheapest matcher that decides them: exact, prefix, suffix,
//! contains, match-anything, or a general glob.
//!
//! `like`, `like~` and `:` have no escape character: a backslash is a
//! literal backslash and a pattern can never match a literal `*` or `?`.
//! The query form of `endsWith`/`stringContains` is different: Elasticsearch
//! pastes the argument into a Lucene wildcard query unescaped, where `\`
//! escapes the next character and `*`/`?` are wildcards; [`Wildcard::lucene`]
//! reproduces that.
//!
//! Characters are Unicode scalar values, as Lucene's automata match code
//! points. Case-insensitive matching follows [`CaseMode`].

use super::text::ci_char_match;

/// How letters compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseMode {
    Sensitive,
    /// Elasticsearch's case-insensitive queries, and Java regex
    /// `CASE_INSENSITIVE` without `UNICODE_CASE` (scripts running
    /// `like~`): an ASCII pattern letter also matches its other ASCII
    /// case; nothing else folds.
    Insensitive,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Lit(String),
    One,
    Run,
}

/// One part of a compiled pattern (see [`Wildcard::parts`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Run,
}

/// A compiled wildcard pattern.
#[derive(Clone, Debug)]
pub struct Wildcard {
    kind: Kind,
    case: CaseMode,
    /// The pattern as written, for display.
    source: String,
}

#[derive(Clone, Debug)]
enum Kind {
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// Case-sensitive `*text*`.
    Contains(String),
    /// Case-insensitive `*text*` with ASCII text, kept lower-cased. It
    /// needs nothing built: an automaton per pattern, even built on first
    /// use, cost more than all the searches of a hunt over a few MB.
    ContainsFolded(String),
    Anything,
    /// Case-sensitive `a*b*c` (stars only): the first and last pieces
    /// anchor, the middle ones are found left to right.
    Pieces(Vec<String>),
    General(Vec<Step>),
}

impl Wildcard {
    /// Compiles an EQL `like`/`:` pattern (no escapes).
    pub fn new(pattern: &str, case: CaseMode) -> Wildcard {
        let mut toks = Vec::new();
        let mut lit = String::new();
        for c in pattern.chars() {
            match c {
                '*' => push_tok(&mut toks, &mut lit, Tok::Run),
                '?' => push_tok(&mut toks, &mut lit, Tok::One),
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Wildcard::from_toks(toks, case, pattern)
    }

    /// Compiles a Lucene wildcard-query string, where `\` escapes the next
    /// character (a trailing `\` is literal).
    pub fn lucene(pattern: &str, case: CaseMode) -> Wildcard {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => push_tok(&mut toks, &mut lit, Tok::Run),
                '?' => push_tok(&mut toks, &mut lit, Tok::One),
                '\\' => match chars.next() {
                    Some(n) => lit.push(n),
                    None => lit.push('\\'),
                },
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Wildcard::from_toks(toks, case, pattern)
    }

    /// A pattern that requires the value to equal `text` exactly.
    pub fn exact(text: &str, case: CaseMode) -> Wildcard {
        Wildcard::from_toks(vec![Tok::Lit(text.to_string())], case, text)
    }

    /// A literal prefix test (`startsWith` on a field is a prefix query:
    /// no wildcard characters, no escapes).
    pub fn prefix(text: &str, case: CaseMode) -> Wildcard {
        Wildcard::from_toks(vec![Tok::Lit(text.to_string()), Tok::Run], case, text)
    }

    /// Whether the pattern has a wildcard at all.
    pub fn is_exact(&self) -> bool {
        matches!(self.kind, Kind::Exact(_))
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How letters compare.
    pub fn case(&self) -> CaseMode {
        self.case
    }

    /// Text two patterns share exactly when they match the same values:
    /// the compiled pattern and its case mode. The source is not enough:
    /// `like "*\\x"` and `endsWith(f, "\\x")` are both written `*\x`, but
    /// the second is a Lucene query where `\x` is `x`; `like "cmd*"` and
    /// `startsWith(f, "cmd*")` are both written `cmd*`, but the second is
    /// a literal prefix.
    pub fn semantic_key(&self) -> String {
        format!("{:?}:{:?}", self.case, self.kind)
    }

    /// The compiled pattern as literal text, `?` and `*` parts in order,
    /// escapes already resolved: what a tool needs to build text the
    /// pattern matches.
    pub fn parts(&self) -> Vec<Part> {
        let text = |s: &str| (!s.is_empty()).then(|| Part::Text(s.to_string()));
        match &self.kind {
            Kind::Exact(s) => text(s).into_iter().collect(),
            Kind::Prefix(s) => text(s).into_iter().chain([Part::Run]).collect(),
            Kind::Suffix(s) => [Part::Run].into_iter().chain(text(s)).collect(),
            Kind::Contains(s) | Kind::ContainsFolded(s) => {
                let mut out = vec![Part::Run];
                out.extend(text(s));
                out.push(Part::Run);
                out
            }
            Kind::Anything => vec![Part::Run],
            Kind::Pieces(pieces) => {
                let mut out = Vec::new();
                for (i, p) in pieces.iter().enumerate() {
                    if i > 0 {
                        out.push(Part::Run);
                    }
                    out.extend(text(p));
                }
                out
            }
            Kind::General(steps) => {
                let mut out = Vec::new();
                let mut lit = String::new();
                for s in steps {
                    match s {
                        Step::Char(c) => lit.push(*c),
                        Step::Any | Step::Star => {
                            out.extend(text(&std::mem::take(&mut lit)));
                            out.push(if matches!(s, Step::Any) {
                                Part::One
                            } else {
                                Part::Run
                            });
                        }
                    }
                }
                out.extend(text(&lit));
                out
            }
        }
    }

    fn from_toks(mut toks: Vec<Tok>, case: CaseMode, source: &str) -> Wildcard {
        // Consecutive runs are one run.
        toks.dedup_by(|a, b| *a == Tok::Run && *b == Tok::Run);
        let kind = match toks.as_slice() {
            [] => Kind::Exact(String::new()),
            [Tok::Lit(s)] => Kind::Exact(s.clone()),
            [Tok::Lit(s), Tok::Run] => Kind::Prefix(s.clone()),
            [Tok::Run, Tok::Lit(s)] => Kind::Suffix(s.clone()),
            [Tok::Run] => Kind::Anything,
            [Tok::Run, Tok::Lit(s), Tok::Run] => match case {
                CaseMode::Sensitive => Kind::Contains(s.clone()),
                // An ASCII pattern folds only ASCII letters under every
                // mode, so a byte-level ASCII-insensitive search is exact.
                _ if s.is_ascii() => Kind::ContainsFolded(s.to_ascii_lowercase()),
                _ => Kind::General(steps(&toks)),
            },
            _ if case == CaseMode::Sensitive && !toks.contains(&Tok::One) => {
                Kind::Pieces(pieces(&toks))
            }
            _ => Kind::General(steps(&toks)),
        };
        Wildcard {
            kind,
            case,
            source: source.to_string(),
        }
    }

    /// Whether `value` matches the whole pattern.
    pub fn matches(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Anything => true,
            Kind::Exact(p) => self.eq_str(p, value),
            Kind::Prefix(p) => match self.case {
                CaseMode::Sensitive => value.starts_with(p.as_str()),
                _ => self.prefix_ci(p, value).is_some(),
            },
            Kind::Suffix(p) => match self.case {
                CaseMode::Sensitive => value.ends_with(p.as_str()),
                _ => self.suffix_ci(p, value),
            },
            Kind::Contains(p) => memchr::memmem::find(value.as_bytes(), p.as_bytes()).is_some(),
            Kind::ContainsFolded(p) => contains_ignoring_ascii_case(value, p),
            Kind::Pieces(p) => pieces_match(p, value),
            Kind::General(steps) => glob(steps, value, |p, c| self.char_eq(p, c)),
        }
    }

    fn char_eq(&self, p: char, v: char) -> bool {
        match self.case {
            CaseMode::Sensitive => p == v,
            CaseMode::Insensitive => ci_char_match(p, v),
        }
    }

    fn eq_str(&self, p: &str, v: &str) -> bool {
        match self.case {
            CaseMode::Sensitive => p == v,
            _ if p.is_ascii() => p.len() == v.len() && p.eq_ignore_ascii_case(v),
            _ => {
                let mut a = p.chars();
                let mut b = v.chars();
                loop {
                    match (a.next(), b.next()) {
                        (None, None) => return true,
                        (Some(x), Some(y)) if self.char_eq(x, y) => {}
                        _ => return false,
                    }
                }
            }
        }
    }

    /// Matches `p` at the start of `v` case-insensitively; returns the byte
    /// length of `v` consumed.
    fn prefix_ci(&self, p: &str, v: &str) -> Option<usize> {
        let mut vi = v.char_indices();
        for pc in p.chars() {
            let (_, vc) = vi.next()?;
            if !self.char_eq(pc, vc) {
                return None;
            }
        }
        Some(vi.next().map(|(i, _)| i).unwrap_or(v.len()))
    }

    fn suffix_ci(&self, p: &str, v: &str) -> bool {
        let mut vi = v.chars().rev();
        for pc in p.chars().rev() {
            match vi.next() {
                Some(vc) if self.char_eq(pc, vc) => {}
                _ => return false,
            }
        }
        true
    }
}

fn push_tok(toks: &mut Vec<Tok>, lit: &mut String, t: Tok) {
    if !lit.is_empty() {
        toks.push(Tok::Lit(std::mem::take(lit)));
    }
    toks.push(t);
}

/// The pattern as single-character steps.
fn steps(toks: &[Tok]) -> Vec<Step> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Lit(s) => out.extend(s.chars().map(Step::Char)),
            Tok::One => out.push(Step::Any),
            Tok::Run => out.push(Step::Star),
        }
    }
    out
}

/// The literal pieces between stars, with empty first/last pieces when the
/// pattern starts/ends with a star.
fn pieces(toks: &[Tok]) -> Vec<String> {
    let mut out = vec![String::new()];
    for t in toks {
        match t {
            Tok::Lit(s) => {
                if let Some(last) = out.last_mut() {
                    last.push_str(s);
                }
            }
            _ => out.push(String::new()),
        }
    }
    out
}

fn pieces_match(p: &[String], v: &str) -> bool {
    let (Some(first), Some(last)) = (p.first(), p.last()) else {
        return true;
    };
    if p.len() == 1 {
        return v == first;
    }
    if v.len() < first.len() + last.len()
        || !v.starts_with(first.as_str())
        || !v.ends_with(last.as_str())
    {
        return false;
    }
    // The middle pieces, leftmost first, within what the two ends leave.
    let mut rest = &v.as_bytes()[first.len()..v.len() - last.len()];
    for piece in &p[1..p.len() - 1] {
        match memchr::memmem::find(rest, piece.as_bytes()) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Glob matching over the value's characters with backtracking to the
/// last `*`: never worse than O(pattern × value), no allocation.
fn glob(pat: &[Step], v: &str, eq: impl Fn(char, char) -> bool) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    // (index of the last star, byte position its run currently ends at)
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = v.get(i..).and_then(|r| r.chars().next()) {
        match pat.get(p) {
            Some(Step::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Step::Any) => {
                p += 1;
                i += c.len_utf8();
            }
            Some(Step::Char(pc)) if eq(*pc, c) => {
                p += 1;
                i += c.len_utf8();
            }
            _ => match star {
                Some((sp, si)) => {
                    // Let the star swallow one more character.
                    let skip = v
                        .get(si..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8);
                    p = sp + 1;
                    i = si + skip;
                    star = Some((sp, si + skip));
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|rest| rest.iter().all(|s| matches!(s, Step::Star)))
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Char(char),
    Any,
    Star,
}

/// Whether `hay` holds `lower` (ASCII, lower case) with ASCII letters in
/// any case: each place its first byte occurs in either case (found with
/// `memchr2`) is compared whole.
fn contains_ignoring_ascii_case(hay: &str, lower: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), lower.as_bytes());
    let Some(&first) = needle.first() else {
        return true;
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    let window = &hay[..last_start + 1];
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), window)
        .any(|i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, case: CaseMode, v: &str) -> bool {
        Wildcard::new(p, case).matches(v)
    }

    #[test]
    fn a_folded_contains_finds_its_text_in_any_ascii_case() {
        let w = Wildcard::new("*Net.IPv4*", CaseMode::Insensitive);
        assert!(matches!(&w.kind, Kind::ContainsFolded(t) if t == "net.ipv4"));
        let cases = [
            ("sysctl -w NET.ipv4.ip_forward=1", true),
            ("net.ipv4", true),
            ("net.ipv", false),
            ("", false),
            ("xnet_ipv4", false),
            ("é net.IPV4 é", true),
            // The first byte recurs before the match, and near the end.
            ("nnnet.ipvnet.ipv4", true),
            ("net.ipvnet.ipvnet.ipv", false),
        ];
        for (v, want) in cases {
            assert_eq!(w.matches(v), want, "{v:?}");
        }
        // Non-letters have one case; an empty text is in every value.
        assert!(Wildcard::new("*-9*", CaseMode::Insensitive).matches("a-9"));
        assert!(contains_ignoring_ascii_case("", ""));
        assert!(!contains_ignoring_ascii_case("ab", "abc"));
    }

    #[test]
    fn shapes() {
        assert!(m("a?c", CaseMode::Sensitive, "abc"));
        assert!(!m("a?c", CaseMode::Sensitive, "ac"));
        assert!(m(
            "*net.ipv4*",
            CaseMode::Sensitive,
            "sysctl -w net.ipv4.ip_forward=1"
        ));
        assert!(!m(
            "*NET.IPV4*",
            CaseMode::Sensitive,
            "sysctl -w net.ipv4.ip_forward=1"
        ));
        assert!(m(
            "*NET.IPV4*",
            CaseMode::Insensitive,
            "sysctl -w net.ipv4.ip_forward=1"
        ));
        assert!(m("%*%*", CaseMode::Sensitive, "%SystemRoot%\\x"));
        assert!(m(
            "*\\MACHINE\\SAM\\SAM\\*\\Account\\Us*ers\\00*03E9\\F",
            CaseMode::Insensitive,
            "\\REGISTRY\\MACHINE\\SAM\\SAM\\DOMAINS\\Account\\Users\\000003E9\\F"
        ));
        assert!(m("*", CaseMode::Sensitive, ""));
        assert!(m(
            "platform-python*",
            CaseMode::Insensitive,
            "Platform-Python3.6"
        ));
        assert!(!m("*É*", CaseMode::Insensitive, "café"));
        assert!(m("*É*", CaseMode::Insensitive, "CAFÉ"));
    }

    #[test]
    fn star_only_pieces_and_general() {
        assert!(m("*ab*ab", CaseMode::Sensitive, "xabab"));
        assert!(!m("ab*ab", CaseMode::Sensitive, "ab"));
        assert!(m("ab*ab", CaseMode::Sensitive, "abab"));
        assert!(m(
            "C:\\*\\cmd.exe",
            CaseMode::Sensitive,
            "C:\\Windows\\System32\\cmd.exe"
        ));
        assert!(!m("C:\\*\\cmd.exe", CaseMode::Sensitive, "C:\\cmd.exe"));
        assert!(m("*a*b*c*", CaseMode::Sensitive, "xxaxxbxxcxx"));
        assert!(!m("*a*b*c*", CaseMode::Sensitive, "xxcxxbxxaxx"));
        assert!(m("é?*ß", CaseMode::Insensitive, "éXyzß"));
        assert!(!m("é?*ß", CaseMode::Insensitive, "Éxyzß"));
        assert!(m("?", CaseMode::Sensitive, "😀"));
        assert!(!m("??", CaseMode::Sensitive, "😀"));
    }

    #[test]
    fn parts_rebuild_the_pattern() {
        let parts = |w: Wildcard| w.parts();
        use Part::{One, Run, Text};
        let t = |s: &str| Text(s.to_string());
        assert_eq!(
            parts(Wildcard::new("*a*", CaseMode::Sensitive)),
            vec![Run, t("a"), Run]
        );
        assert_eq!(
            parts(Wildcard::new("a*b*c", CaseMode::Sensitive)),
            vec![t("a"), Run, t("b"), Run, t("c")]
        );
        assert_eq!(
            parts(Wildcard::new("*x?y", CaseMode::Insensitive)),
            vec![Run, t("x"), One, t("y")]
        );
        assert_eq!(
            parts(Wildcard::prefix("ab*", CaseMode::Sensitive)),
            vec![t("ab*"), Run]
        );
        assert_eq!(
            parts(Wildcard::lucene("*\\*", CaseMode::Sensitive)),
            vec![Run, t("*")]
        );
        assert_eq!(parts(Wildcard::new("", CaseMode::Sensitive)), vec![]);
    }

    #[test]
    fn lucene_escapes() {
        assert!(Wildcard::lucene("*\\cmd.exe", CaseMode::Sensitive).matches("C:\\xcmd.exe"));
        assert!(Wildcard::lucene("*\\\\cmd.exe", CaseMode::Sensitive).matches("C:\\cmd.exe"));
        assert!(!Wildcard::lucene("*\\\\cmd.exe", CaseMode::Sensitive).matches("C:xcmd.exe"));
    }
}
