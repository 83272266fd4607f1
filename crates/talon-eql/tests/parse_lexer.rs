//! Lexer tests: every token kind with its span, every string escape, and the
//! lexical errors with their spans and hints.

use talon_eql::syntax::lexer::{tokenize, Keyword, TokenKind};

fn kinds(text: &str) -> Vec<TokenKind> {
    match tokenize(text) {
        Ok(tokens) => tokens.into_iter().map(|t| t.kind).collect(),
        Err(d) => panic!("{text:?} failed to lex: {d}"),
    }
}

/// Each token as (kind, start, end).
fn spanned(text: &str) -> Vec<(TokenKind, u32, u32)> {
    match tokenize(text) {
        Ok(tokens) => tokens
            .into_iter()
            .map(|t| (t.kind, t.span.start, t.span.end))
            .collect(),
        Err(d) => panic!("{text:?} failed to lex: {d}"),
    }
}

fn lex_err(text: &str) -> (String, (u32, u32), Option<String>) {
    match tokenize(text) {
        Ok(t) => panic!("{text:?} lexed: {t:?}"),
        Err(d) => (d.message, (d.span.start, d.span.end), d.hint),
    }
}

fn one_string(text: &str) -> String {
    match kinds(text).as_slice() {
        [TokenKind::Str(s), TokenKind::Eof] | [TokenKind::RawStr(s), TokenKind::Eof] => s.clone(),
        other => panic!("{text:?} gave {other:?}"),
    }
}

fn ident(s: &str) -> TokenKind {
    TokenKind::Ident(s.to_string())
}

#[test]
fn identifiers_keywords_and_quoted_names() {
    assert_eq!(
        spanned("process.name @timestamp _x9 `my-field` `a``b`"),
        vec![
            (ident("process"), 0, 7),
            (TokenKind::Dot, 7, 8),
            (ident("name"), 8, 12),
            (ident("@timestamp"), 13, 23),
            (ident("_x9"), 24, 27),
            (TokenKind::Quoted("my-field".into()), 28, 38),
            (TokenKind::Quoted("a`b".into()), 39, 45),
            (TokenKind::Eof, 45, 45),
        ]
    );
}

/// The end of the query is right after its last token, not past the
/// blanks and comments after it (a rule file's query ends with a line
/// break, and an error "at the end" belongs on the query's last line).
#[test]
fn the_end_is_right_after_the_last_token() {
    assert_eq!(
        spanned("a  // done\n\n"),
        vec![(ident("a"), 0, 1), (TokenKind::Eof, 1, 1)]
    );
    assert_eq!(spanned(" /* only */ \n"), vec![(TokenKind::Eof, 0, 0)]);
}

#[test]
fn every_keyword_is_lowercase_only() {
    let words = "and any by false in in~ join like like~ maxspan not null of or \
                 regex regex~ sample sequence true until where with";
    let expected = [
        Keyword::And,
        Keyword::Any,
        Keyword::By,
        Keyword::False,
        Keyword::In,
        Keyword::InTilde,
        Keyword::Join,
        Keyword::Like,
        Keyword::LikeTilde,
        Keyword::Maxspan,
        Keyword::Not,
        Keyword::Null,
        Keyword::Of,
        Keyword::Or,
        Keyword::Regex,
        Keyword::RegexTilde,
        Keyword::Sample,
        Keyword::Sequence,
        Keyword::True,
        Keyword::Until,
        Keyword::Where,
        Keyword::With,
    ];
    let mut want: Vec<TokenKind> = expected.iter().map(|k| TokenKind::Kw(*k)).collect();
    want.push(TokenKind::Eof);
    assert_eq!(kinds(words), want);
    assert_eq!(
        kinds("AND Where"),
        vec![ident("AND"), ident("Where"), TokenKind::Eof]
    );
    // `runs`, `head` and `tail` are plain identifiers.
    assert_eq!(
        kinds("runs head"),
        vec![ident("runs"), ident("head"), TokenKind::Eof]
    );
}

#[test]
fn tilde_names() {
    assert_eq!(
        spanned("startsWith~(x)"),
        vec![
            (TokenKind::TildeIdent("startsWith".into()), 0, 11),
            (TokenKind::LParen, 11, 12),
            (ident("x"), 12, 13),
            (TokenKind::RParen, 13, 14),
            (TokenKind::Eof, 14, 14),
        ]
    );
    assert_eq!(
        lex_err("a and~ b"),
        (
            "`and~` is not an operator".into(),
            (2, 6),
            Some("only `in~`, `like~`, `regex~` and function names take `~`".into())
        )
    );
    assert_eq!(lex_err("a ~ b").0, "unexpected `~`",);
}

#[test]
fn operators_and_punctuation() {
    use TokenKind::*;
    assert_eq!(
        kinds("== != < <= > >= = : + - * / % . , [ ![ ] ( ) | ?"),
        vec![
            EqEq,
            NotEq,
            Lt,
            Le,
            Gt,
            Ge,
            Assign,
            Colon,
            Plus,
            Minus,
            Star,
            Slash,
            Percent,
            Dot,
            Comma,
            LBracket,
            MissingOpen,
            RBracket,
            LParen,
            RParen,
            Pipe,
            Question,
            Eof
        ]
    );
    assert_eq!(spanned("![")[0], (MissingOpen, 0, 2));
    assert_eq!(spanned("a<=b")[1], (Le, 1, 3));
}

#[test]
fn numbers() {
    use TokenKind::*;
    assert_eq!(
        kinds("0 42 1.5 .5 5. 1e3 2.5E-2 1e+2"),
        vec![
            Int(0),
            Int(42),
            Float(1.5),
            Float(0.5),
            Float(5.0),
            Float(1000.0),
            Float(0.025),
            Float(100.0),
            Eof
        ]
    );
    // `5m` is a number then a unit, as `maxspan=5m` needs; `5e` likewise.
    assert_eq!(kinds("5m"), vec![Int(5), ident("m"), Eof]);
    assert_eq!(kinds("5e"), vec![Int(5), ident("e"), Eof]);
    assert_eq!(spanned("10ms")[..2], [(Int(10), 0, 2), (ident("ms"), 2, 4)]);
    assert_eq!(kinds("9223372036854775807"), vec![Int(i64::MAX), Eof]);
    // Past i64, Elasticsearch reads the integer as a double.
    assert_eq!(
        kinds("9223372036854775808"),
        vec![Float(9_223_372_036_854_775_808_f64), Eof]
    );
    assert_eq!(
        lex_err("1e999"),
        ("number `1e999` is too large".into(), (0, 5), None)
    );
}

#[test]
fn comments_and_whitespace_are_skipped() {
    assert_eq!(
        spanned("a // line\n/* block /* nested */ still */\tb\r\n"),
        vec![
            (ident("a"), 0, 1),
            (ident("b"), 41, 42),
            (TokenKind::Eof, 42, 42)
        ]
    );
    assert_eq!(
        lex_err("a /* open /* nested */"),
        (
            "unterminated comment".into(),
            (2, 4),
            Some("close the comment with `*/`".into())
        )
    );
    // A comment marker inside a string is just text.
    assert_eq!(one_string(r#""a // b /* c""#), "a // b /* c");
}

#[test]
fn simple_escapes() {
    assert_eq!(one_string(r#""\n\r\t\b\f\\\"\'""#), "\n\r\t\u{8}\u{c}\\\"'");
    assert_eq!(one_string(r#""*\\MACHINE\\SAM*""#), "*\\MACHINE\\SAM*");
    assert_eq!(one_string(r#""""#), "");
    assert_eq!(one_string("\"héllo ✓\""), "héllo ✓");
}

#[test]
fn unicode_escapes() {
    assert_eq!(one_string(r#""\u{41}BC""#), "ABC");
    assert_eq!(one_string(r#""\u{200f}""#), "\u{200f}");
    assert_eq!(one_string(r#""\u{200F}""#), "\u{200f}");
    assert_eq!(one_string(r#""\u{0001F600}""#), "\u{1f600}");
    assert_eq!(one_string(r#""\u{00000041}""#), "A");
    let hint =
        Some("write a code point as \\u{XX} with 2 to 8 hex digits, e.g. \\u{200f}".to_string());
    assert_eq!(
        lex_err(r#""\u{1}""#),
        (
            "invalid unicode escape: 1 hex digits, expected 2 to 8".into(),
            (1, 6),
            hint.clone()
        )
    );
    assert_eq!(
        lex_err(r#""\u{000000041}""#),
        (
            "invalid unicode escape: 9 hex digits, expected 2 to 8".into(),
            (1, 14),
            hint.clone()
        )
    );
    assert_eq!(
        lex_err(r#""\u0041""#),
        (
            "invalid unicode escape: expected `{` after `\\u`".into(),
            (1, 3),
            hint.clone()
        )
    );
    assert_eq!(
        lex_err(r#""\u{12g4}""#),
        (
            "invalid unicode escape: expected hex digits and a closing `}`".into(),
            (1, 7),
            hint
        )
    );
    assert_eq!(
        lex_err(r#""\u{d800}""#),
        (
            "invalid unicode escape: U+d800 is not a character".into(),
            (1, 9),
            None
        )
    );
    assert_eq!(
        lex_err(r#""\u{110000}""#),
        (
            "invalid unicode escape: U+110000 is not a character".into(),
            (1, 11),
            None
        )
    );
}

#[test]
fn invalid_escapes_point_at_the_escape() {
    let hint = Some(
        "valid escapes are \\n \\r \\t \\b \\f \\\\ \\\" \\' and \\u{XXXX}; \
         write \\\\ for a backslash, or use a raw string \"\"\"...\"\"\""
            .to_string(),
    );
    assert_eq!(
        lex_err(r#"x == "C:\Windows""#),
        (
            "invalid escape sequence `\\W`".into(),
            (8, 10),
            hint.clone()
        )
    );
    assert_eq!(
        lex_err(r#""\x41""#),
        ("invalid escape sequence `\\x`".into(), (1, 3), hint.clone())
    );
    assert_eq!(
        lex_err(r#""\0""#),
        ("invalid escape sequence `\\0`".into(), (1, 3), hint.clone())
    );
    // A multi-byte char after the backslash: the span ends on its boundary.
    assert_eq!(
        lex_err("\"\\é\""),
        ("invalid escape sequence `\\é`".into(), (1, 4), hint)
    );
}

#[test]
fn raw_strings() {
    assert_eq!(one_string(r#""""C:\Windows\x.exe""""#), r"C:\Windows\x.exe");
    assert_eq!(one_string(r#""""\s+\u{41}""""#), r"\s+\u{41}");
    // One or two quotes right after the closing `"""` belong to the body.
    assert_eq!(one_string("\"\"\"say \"hi\"\"\"\""), "say \"hi\"");
    assert_eq!(one_string("\"\"\"say \"hi\"\"\"\"\""), "say \"hi\"\"");
    assert_eq!(one_string(r#""""a"b""""#), r#"a"b"#);
    assert_eq!(one_string(r#""""""""#), "");
    assert_eq!(
        spanned(r#"x : """a\b""" y"#)[2..],
        [
            (TokenKind::RawStr(r"a\b".into()), 4, 13),
            (ident("y"), 14, 15),
            (TokenKind::Eof, 15, 15)
        ]
    );
    assert_eq!(
        lex_err(r#"x : """abc"#),
        (
            "unterminated raw string".into(),
            (4, 7),
            Some("close the raw string with `\"\"\"`".into())
        )
    );
}

#[test]
fn unterminated_strings() {
    let hint = Some("close the string with `\"` on the same line".to_string());
    assert_eq!(
        lex_err(r#"x == "abc"#),
        ("unterminated string".into(), (5, 9), hint.clone())
    );
    assert_eq!(
        lex_err("x == \"ab\nc\""),
        ("unterminated string".into(), (5, 8), hint.clone())
    );
    assert_eq!(
        lex_err(r#"x == "ab\"#),
        ("unterminated string".into(), (8, 9), hint)
    );
}

#[test]
fn single_quotes_and_legacy_raw_strings() {
    assert_eq!(
        lex_err("process.name == 'bash'"),
        (
            "single-quoted strings are not supported".into(),
            (16, 22),
            Some("use double quotes: \"bash\"".into())
        )
    );
    assert_eq!(
        lex_err(r#"x == 'it\'s "q"'"#),
        (
            "single-quoted strings are not supported".into(),
            (5, 16),
            Some(r#"use double quotes: "it's \"q\"""#.into())
        )
    );
    assert_eq!(
        lex_err("x == 'open"),
        (
            "single-quoted strings are not supported".into(),
            (5, 10),
            Some("use double quotes".into())
        )
    );
    assert_eq!(
        lex_err(r#"x == ?"C:\x""#),
        (
            "`?\"...\"` strings are not supported".into(),
            (5, 12),
            Some(r#"use a raw string: """C:\x""""#.into())
        )
    );
    assert_eq!(
        lex_err("x == ?'bash'"),
        (
            "`?'...'` strings are not supported".into(),
            (5, 12),
            Some(r#"use a raw string: """bash""""#.into())
        )
    );
}

#[test]
fn operator_mistakes() {
    assert_eq!(
        lex_err("a && b"),
        ("unexpected `&&`".into(), (2, 4), Some("use `and`".into()))
    );
    assert_eq!(
        lex_err("a & b"),
        ("unexpected `&`".into(), (2, 3), Some("use `and`".into()))
    );
    assert_eq!(
        lex_err("a || b"),
        ("unexpected `||`".into(), (2, 4), Some("use `or`".into()))
    );
    assert_eq!(
        lex_err("!a"),
        (
            "unexpected `!`".into(),
            (0, 1),
            Some("use `not` to negate".into())
        )
    );
    assert_eq!(
        lex_err("! [a]"),
        (
            "unexpected `!`".into(),
            (0, 1),
            Some("use `not` to negate".into())
        )
    );
    assert_eq!(
        lex_err("a !: \"x\""),
        (
            "`!:` is not an operator".into(),
            (2, 4),
            Some("negate the whole test: `not field : \"value\"`".into())
        )
    );
}

#[test]
fn stray_characters() {
    assert_eq!(
        lex_err("a # b"),
        ("unexpected character `#`".into(), (2, 3), None)
    );
    assert_eq!(
        lex_err("é"),
        ("unexpected character `é`".into(), (0, 2), None)
    );
    assert_eq!(
        lex_err("a\u{0}"),
        ("unexpected character `\\0`".into(), (1, 2), None)
    );
    assert_eq!(
        lex_err("x == `abc"),
        (
            "unterminated quoted name".into(),
            (5, 6),
            Some("close the name with a backtick".into())
        )
    );
    assert_eq!(
        lex_err("`` == 1"),
        ("empty quoted name".into(), (0, 2), None)
    );
}

#[test]
fn quoted_name_may_hold_anything() {
    assert_eq!(
        kinds("`a b.c-é`"),
        vec![TokenKind::Quoted("a b.c-é".into()), TokenKind::Eof]
    );
}
