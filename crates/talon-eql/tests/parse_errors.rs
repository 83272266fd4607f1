//! Parse errors: the exact message, span and hint of every error the parser
//! reports, and the queries Elasticsearch's QA suite keeps commented out
//! because ES rejects them while parsing.

mod common;

use common::corpus_root;
use talon_eql::parse;

type Case = (&'static str, &'static str, (u32, u32), Option<&'static str>);

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for &(query, message, (start, end), hint) in cases {
        match parse(query) {
            Ok(q) => failures.push(format!("{query:?} parsed: {q}")),
            Err(d) => {
                let got = (
                    d.message.as_str(),
                    (d.span.start, d.span.end),
                    d.hint.as_deref(),
                );
                if got != (message, (start, end), hint) {
                    failures.push(format!(
                        "{query:?}\n  got  {got:?}\n  want {:?}",
                        (message, (start, end), hint)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A query that ends inside a bracket: the error is right after the last
/// token, not past the line break and comments that end the query (in a
/// rule file, on the closing `'''` line), and a label marks the bracket
/// that is never closed.
#[test]
fn unclosed_brackets_are_marked_where_they_open() {
    // (query, message, span, label, label span)
    type Unclosed = (
        &'static str,
        &'static str,
        (u32, u32),
        &'static str,
        (u32, u32),
    );
    let cases: &[Unclosed] = &[
        (
            "process where (process.name == \"a\"\n",
            "expected `)`, found end of query",
            (34, 34),
            "this `(` is never closed",
            (14, 15),
        ),
        (
            "process where x in (\"a\", \"b\"\n\n",
            "expected `,` or `)`, found end of query",
            (28, 28),
            "this `(` is never closed",
            (19, 20),
        ),
        (
            "process where f(x, y  // and a comment\n",
            "expected `,` or `)`, found end of query",
            (20, 20),
            "this `(` is never closed",
            (15, 16),
        ),
        (
            "sequence [process where true\n",
            "expected `]`, found end of query",
            (28, 28),
            "this `[` is never closed",
            (9, 10),
        ),
    ];
    for &(query, message, span, label, label_span) in cases {
        let d = parse(query).expect_err(query);
        assert_eq!(d.message, message, "{query:?}");
        assert_eq!((d.span.start, d.span.end), span, "{query:?}");
        let (at, text) = d.label.clone().expect("a label");
        assert_eq!(text, label, "{query:?}");
        assert_eq!((at.start, at.end), label_span, "{query:?}");
    }
    // A bracket closed by something else than the end is not "never
    // closed": the error is about what was found.
    let d = parse("process where (a b)").expect_err("two names");
    assert_eq!(d.label, None);
}

#[test]
fn expression_errors() {
    check(&[
        (
            "process where x = 1",
            "unexpected `=`",
            (16, 17),
            Some("use `==` to compare"),
        ),
        (
            "process where = 1",
            "expected an expression, found `=`",
            (14, 15),
            Some("use `==` to compare"),
        ),
        (
            "process where a == 1 AND b == 2",
            "expected `and`, `or`, `|` or end of query, found `AND`",
            (21, 24),
            Some("keywords are lowercase: `and`"),
        ),
        (
            "process where NOT a",
            "unexpected `NOT`",
            (14, 17),
            Some("keywords are lowercase: `not`"),
        ),
        (
            "process where a == 1 Or b",
            "expected `and`, `or`, `|` or end of query, found `Or`",
            (21, 23),
            Some("keywords are lowercase: `or`"),
        ),
        (
            "process where a < b <= c",
            "comparison operators cannot be chained",
            (20, 22),
            Some("combine the comparisons with `and`, e.g. `a < b and b <= c`"),
        ),
        (
            "process where a == b : \"x\"",
            "comparison operators cannot be chained",
            (21, 22),
            Some("combine the comparisons with `and`, e.g. `a < b and b <= c`"),
        ),
        (
            "process where a in (1) in (2)",
            "comparison operators cannot be chained",
            (23, 25),
            Some("combine the comparisons with `and`, e.g. `a < b and b <= c`"),
        ),
        (
            "process where a not like \"x\"",
            "expected `in` or `in~` after `not`, found `like`",
            (20, 24),
            Some("negate the whole test: `not x like ...`"),
        ),
        (
            "process where a not b",
            "expected `in` or `in~` after `not`, found `b`",
            (20, 21),
            None,
        ),
        (
            "process where a == not b",
            "expected an expression, found `not`",
            (19, 22),
            Some("put the negation in parentheses: `(not ...)`"),
        ),
        (
            "process where process.args[0] == \"x\"",
            "array indexes are not supported",
            (26, 29),
            None,
        ),
        (
            "process where a[1",
            "array indexes are not supported",
            (15, 17),
            None,
        ),
        (
            "process where child of [process where true]",
            "process relationships are not supported",
            (14, 22),
            None,
        ),
        (
            "process where descendant of [process where true]",
            "process relationships are not supported",
            (14, 27),
            None,
        ),
        (
            "process where event of [process where true]",
            "process relationships are not supported",
            (14, 22),
            None,
        ),
        (
            "process where x in \"a\"",
            "expected `(` to start the list, found string \"a\"",
            (19, 22),
            Some("write the values in parentheses: `x in (\"a\", \"b\")`"),
        ),
        (
            "process where x in ()",
            "expected an expression, found `)`",
            (20, 21),
            None,
        ),
        (
            "process where x in (1, 2",
            "expected `,` or `)`, found end of query",
            (24, 24),
            None,
        ),
        (
            "process where f(1, 2",
            "expected `,` or `)`, found end of query",
            (20, 20),
            None,
        ),
        (
            "process where f~ x",
            "expected `(` after `f~`",
            (17, 18),
            Some("`~` after a name marks a case-insensitive function call"),
        ),
        (
            "process where (a",
            "expected `)`, found end of query",
            (16, 16),
            None,
        ),
        (
            "process where a)",
            "expected `and`, `or`, `|` or end of query, found `)`",
            (15, 16),
            None,
        ),
        (
            "process where",
            "expected an expression, found end of query",
            (13, 13),
            None,
        ),
        (
            "process where ?",
            "expected a field name after `?`, found end of query",
            (15, 15),
            None,
        ),
        (
            "process where ?f(x)",
            "expected a field name after `?`, found `f`",
            (15, 16),
            None,
        ),
        (
            "process where x.sequence == 1",
            "expected a field name, found `sequence`",
            (16, 24),
            Some("write a keyword used as a name in backticks: `sequence`"),
        ),
        (
            "process where x. == 1",
            "expected a field name, found `==`",
            (17, 19),
            None,
        ),
        (
            "process where x == 99999999999999999999999999999999 and f(",
            "expected an expression, found end of query",
            (58, 58),
            None,
        ),
    ]);
}

#[test]
fn query_form_errors() {
    check(&[
        (
            "SEQUENCE [process where true] [process where true]",
            "expected a query, found `SEQUENCE`",
            (0, 8),
            Some("keywords are lowercase: `sequence`"),
        ),
        (
            "Sample by x [a where true] [b where true]",
            "expected a query, found `Sample`",
            (0, 6),
            Some("keywords are lowercase: `sample`"),
        ),
        (
            "process WHERE true",
            "expected `where`, found `WHERE`",
            (8, 13),
            Some("keywords are lowercase: `where`"),
        ),
        (
            "system.cpu where cpu.cores == 16",
            "expected `where`, found `.`",
            (6, 7),
            Some("quote a category that contains a dot: \"system.cpu\""),
        ),
        (
            "",
            "expected an event category or `any`, found end of query",
            (0, 0),
            None,
        ),
        (
            "   ",
            "expected an event category or `any`, found end of query",
            (0, 0),
            None,
        ),
        (
            "where x",
            "expected an event category or `any`, found `where`",
            (0, 5),
            None,
        ),
        (
            "process x == 1",
            "expected `where`, found `x`",
            (8, 9),
            None,
        ),
        (
            "join [a where true] [b where true]",
            "join is not supported",
            (0, 4),
            Some("use `sequence` (ordered) or `sample` (unordered)"),
        ),
        (
            "join by x [a where true] [b where true] until [c where true]",
            "join is not supported",
            (0, 4),
            Some("use `sequence` (ordered) or `sample` (unordered)"),
        ),
    ]);
}

#[test]
fn pipe_errors() {
    check(&[
        (
            "process where true | unique x",
            "pipe `unique` is not supported",
            (21, 27),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | count",
            "pipe `count` is not supported",
            (21, 26),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | filter x",
            "pipe `filter` is not supported",
            (21, 27),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | sort x",
            "pipe `sort` is not supported",
            (21, 25),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | unique_count x",
            "pipe `unique_count` is not supported",
            (21, 33),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | haed 3",
            "unrecognized pipe `haed`",
            (21, 25),
            Some("did you mean `head`?"),
        ),
        (
            "process where true | tial 3",
            "unrecognized pipe `tial`",
            (21, 25),
            Some("did you mean `tail`?"),
        ),
        (
            "process where true | foo 3",
            "unrecognized pipe `foo`",
            (21, 24),
            Some("only `head` and `tail` are supported"),
        ),
        (
            "process where true | head -1",
            "pipe `head` expects a non-negative integer, found a negative number",
            (26, 27),
            None,
        ),
        (
            "process where true | head 1.5",
            "pipe `head` expects a non-negative integer, found `1.5`",
            (26, 29),
            None,
        ),
        // Numbers are quoted as written, not as the double they read as
        // (this said `1e20` and `1000.0`).
        (
            "process where true | head 99999999999999999999",
            "pipe `head` expects a non-negative integer, found `99999999999999999999`",
            (26, 46),
            None,
        ),
        (
            "process where true | tail 1e3",
            "pipe `tail` expects a non-negative integer, found `1e3`",
            (26, 29),
            None,
        ),
        (
            "process where true | head x",
            "pipe `head` expects a non-negative integer, found `x`",
            (26, 27),
            None,
        ),
        (
            "process where true | head",
            "pipe `head` needs a count, e.g. `| head 10`",
            (21, 25),
            None,
        ),
        (
            "process where true | head 1 | ",
            "expected a pipe name, found end of query",
            (29, 29),
            None,
        ),
        (
            "process where true | 5",
            "expected a pipe name, found `5`",
            (21, 22),
            None,
        ),
        (
            "process where true | head 5 6",
            "expected `|` or end of query, found `6`",
            (28, 29),
            None,
        ),
        (
            "process where true | head 5 007",
            "expected `|` or end of query, found `007`",
            (28, 31),
            None,
        ),
    ]);
}

/// Numbers in messages are the user's text, and a number run on by `.` and
/// digits is one malformed number with the caret under all of it (`1.2.3`
/// was `1.2` then `0.3`: "found `0.3`" under `.3`).
#[test]
fn number_errors_quote_what_was_written() {
    check(&[
        (
            "process where process.pid > 1.2.3",
            "malformed number `1.2.3`",
            (28, 33),
            Some("if this is an address or a version, quote it: \"1.2.3\""),
        ),
        (
            "network where destination.ip == 10.0.0.1",
            "malformed number `10.0.0.1`",
            (32, 40),
            Some("if this is an address or a version, quote it: \"10.0.0.1\""),
        ),
        (
            "process where x == .5.5 and y",
            "malformed number `.5.5`",
            (19, 23),
            Some("if this is an address or a version, quote it: \".5.5\""),
        ),
        (
            "process where process.pid > 1.2 3",
            "expected `and`, `or`, `|` or end of query, found `3`",
            (32, 33),
            None,
        ),
        (
            "process where process.pid > 1 2.50",
            "expected `and`, `or`, `|` or end of query, found `2.50`",
            (30, 34),
            None,
        ),
        (
            "process where process.pid > 1 99999999999999999999",
            "expected `and`, `or`, `|` or end of query, found `99999999999999999999`",
            (30, 50),
            None,
        ),
        (
            "process where process.pid > 1 1234567890123456789012345",
            "expected `and`, `or`, `|` or end of query, found a number",
            (30, 55),
            None,
        ),
        (
            "sequence with maxspan=99999999999999999999s [a where true] [b where true]",
            "maxspan `99999999999999999999` is too large",
            (22, 42),
            None,
        ),
        (
            "sequence with maxspan=1e3s [a where true] [b where true]",
            "maxspan must be a positive integer, found `1e3`",
            (22, 25),
            Some("write a whole number of a smaller unit, e.g. `1500ms`"),
        ),
        (
            "sequence with maxspan=00s [a where true] [b where true]",
            "maxspan must be positive, found 00",
            (22, 24),
            None,
        ),
        (
            "sequence [a where true] with runs=99999999999999999999 [b where true]",
            "runs must be between 1 and 100, found 99999999999999999999",
            (34, 54),
            None,
        ),
        (
            "sequence [a where true] with runs=2.0 [b where true]",
            "expected an integer after `runs=`, found `2.0`",
            (34, 37),
            None,
        ),
    ]);
}

#[test]
fn sequence_errors() {
    check(&[
        (
            "sequence with maxspan=5m by x [a where true] [b where true]",
            "`by` must come before `with` in a sequence",
            (25, 27),
            Some("write `sequence by <keys> with maxspan=...`"),
        ),
        (
            "sequence with maxspan=0s [a where true] [b where true]",
            "maxspan must be positive, found 0",
            (22, 23),
            None,
        ),
        (
            "sequence with maxspan=1.5s [a where true] [b where true]",
            "maxspan must be a positive integer, found `1.5`",
            (22, 25),
            Some("write a whole number of a smaller unit, e.g. `1500ms`"),
        ),
        (
            "sequence with maxspan=5 [a where true] [b where true]",
            "maxspan needs a time unit",
            (22, 23),
            Some("use one of ms, s, m, h, d, e.g. `5s`"),
        ),
        (
            "sequence with maxspan=5y [a where true] [b where true]",
            "unknown time unit `y`",
            (23, 24),
            Some("use one of ms, s, m, h, d"),
        ),
        (
            "sequence with maxspan=-5s [a where true] [b where true]",
            "maxspan must be positive, found -5",
            (22, 24),
            None,
        ),
        (
            "sequence with maxspan==5s [a where true] [b where true]",
            "expected `=` after `maxspan`, found `==`",
            (21, 23),
            Some("write `maxspan=` with a single `=`"),
        ),
        (
            "sequence with maxspan [a where true] [b where true]",
            "expected `=` after `maxspan`, found `[`",
            (22, 23),
            None,
        ),
        (
            "sequence with runs=2 [a where true] [b where true]",
            "expected `maxspan`, found `runs`",
            (14, 18),
            None,
        ),
        (
            "sequence with maxspan=x [a where true] [b where true]",
            "expected a maxspan such as `5m`, found `x`",
            (22, 23),
            None,
        ),
        (
            "sequence",
            "expected a sequence term `[`, found end of query",
            (8, 8),
            None,
        ),
        (
            "sequence by x",
            "expected a sequence term `[`, found end of query",
            (13, 13),
            None,
        ),
        (
            "sequence [a where true]",
            "a sequence needs at least two terms, found 1",
            (9, 23),
            Some("add a term, or repeat this one with `with runs=N`"),
        ),
        (
            "sequence [a where true] until [b where true]",
            "a sequence needs at least two terms, found 1",
            (9, 23),
            Some("add a term, or repeat this one with `with runs=N`"),
        ),
        (
            "sequence [a where true] with runs=101",
            "runs must be between 1 and 100, found 101",
            (34, 37),
            None,
        ),
        (
            "sequence [a where true] with runs=0 [b where true]",
            "runs must be between 1 and 100, found 0",
            (34, 35),
            None,
        ),
        (
            "sequence [a where true] with runs=1.5 [b where true]",
            "expected an integer after `runs=`, found `1.5`",
            (34, 37),
            None,
        ),
        (
            "sequence [a where true] with foo=2 [b where true]",
            "expected `runs`, found `foo`",
            (29, 32),
            None,
        ),
        (
            "sequence [a where true] with maxspan=2s [b where true]",
            "maxspan goes after `sequence`, not after a term",
            (29, 36),
            Some("write `sequence with maxspan=...` before the first term"),
        ),
        (
            "sequence [a where true] with runs 2 [b where true]",
            "expected `=` after `runs`, found `2`",
            (34, 35),
            None,
        ),
        (
            "sequence [a where true] ![b where true]",
            "missing events `![...]` require a maxspan",
            (24, 39),
            Some("add `with maxspan=...` after `sequence`"),
        ),
        (
            "sequence with maxspan=1s ![a where true] ![b where true]",
            "a sequence needs at least one term that is not missing",
            (0, 56),
            None,
        ),
        (
            "sequence [a where true] by x [b where true]",
            "inconsistent number of join keys: expected 1, found 0",
            (29, 43),
            None,
        ),
        (
            "sequence [a where true] by x [b where true] by x, y",
            "inconsistent number of join keys: expected 1, found 2",
            (47, 51),
            None,
        ),
        (
            "sequence [a where true] by x [b where true] by x until [c where true]",
            "inconsistent number of join keys: expected 1, found 0",
            (55, 69),
            None,
        ),
        (
            "sequence [a where true] [b where true] until ![c where true]",
            "`until` cannot be a missing event",
            (45, 47),
            None,
        ),
        (
            "sequence [a where true] [b where true] until [c where true] with runs=2",
            "`runs` is not allowed on `until`",
            (60, 71),
            None,
        ),
        (
            "sequence [a where true] [b where true] until c",
            "expected `[` after `until`, found `c`",
            (45, 46),
            None,
        ),
        (
            "sequence [a where true] [b where true] fork=true",
            "expected `[`, `![`, `until`, `|` or end of query, found `fork`",
            (39, 43),
            None,
        ),
        (
            "sequence [a where true] [b where true] until [c where true] [d where true]",
            "expected `|` or end of query, found `[`",
            (60, 61),
            None,
        ),
        (
            "sequence [a where true [b where true]",
            "expected `]`, found `[`",
            (23, 24),
            None,
        ),
    ]);
}

#[test]
fn sample_errors() {
    check(&[
        (
            "sample by x [a where true] [b where true] | head 1",
            "pipes are not supported after a sample",
            (42, 43),
            None,
        ),
        (
            "sample [a where true] [b where true]",
            "a sample needs at least one join key",
            (0, 36),
            Some("add `by <field>` after `sample` or after each filter"),
        ),
        (
            "sample by x [a where true] by y [b where true]",
            "inconsistent number of join keys: expected 1, found 0",
            (32, 46),
            None,
        ),
        (
            "sample by x with maxspan=1s [a where true] [b where true]",
            "a sample takes no `with` parameters",
            (12, 16),
            Some("maxspan and runs apply to sequences only"),
        ),
        (
            "sample by x [a where true] with runs=2 [b where true]",
            "`runs` is not supported in a sample",
            (27, 38),
            None,
        ),
        (
            "sample by x [a where true] ![b where true]",
            "missing events `![...]` are only allowed in sequences",
            (27, 29),
            None,
        ),
        (
            "sample by x [a where true] [b where true] until [c where true]",
            "`until` is not supported in a sample",
            (42, 47),
            None,
        ),
        (
            "sample by x",
            "expected a sample filter `[`, found end of query",
            (11, 11),
            None,
        ),
    ]);
}

#[test]
fn other_errors() {
    check(&[]);
}
/// The commented-out `#[[queries]]` entry `name` of a QA file: its query
/// text with the leading `#` of every line removed.
fn commented_query(text: &str, name: &str) -> Option<String> {
    let mut lines = text.lines().map(|l| l.strip_prefix('#').unwrap_or(l));
    lines.find(|l| l.trim() == format!("name = \"{name}\""))?;
    let first = lines.find_map(|l| l.trim().strip_prefix("query = "))?;
    if first != "'''" {
        return Some(first.trim_matches('\'').to_string());
    }
    let body: Vec<&str> = lines.take_while(|l| l.trim() != "'''").collect();
    Some(body.join("\n"))
}

/// Queries Elasticsearch rejects while parsing; the upstream suite keeps
/// them commented out. Each must fail here with the same kind of error.
#[test]
fn es_rejected_queries_fail_to_parse() {
    let Some(root) = corpus_root() else { return };
    let path = root.join("es-eql-qa/test_queries.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => panic!("reading {}: {e}", path.display()),
    };
    let cases = [
        ("lteAndGtWithFilter", "pipe `filter` is not supported"),
        ("processNameIN", "pipe `unique` is not supported"),
        ("simpleTailWithSort", "pipe `sort` is not supported"),
        ("uniqueCount1", "pipe `unique_count` is not supported"),
        ("arrayCaseInsensitive1", "array indexes are not supported"),
        ("descendant1", "process relationships are not supported"),
        ("childOf1", "process relationships are not supported"),
        ("eventOfProcess", "process relationships are not supported"),
        ("twoJoins1", "join is not supported"),
        (
            "threeSequencesWithHead",
            "expected `[`, `![`, `until`, `|` or end of query, found `fork`",
        ),
    ];
    for (name, message) in cases {
        let Some(query) = commented_query(&text, name) else {
            panic!("no commented-out query {name} in {}", path.display())
        };
        match parse(&query) {
            Ok(q) => panic!("{name} parsed: {q}"),
            Err(d) => assert_eq!(d.message, message, "{name}: {query}"),
        }
    }
}
