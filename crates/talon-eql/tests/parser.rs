//! Parser tests: query forms, operator precedence, exact spans of nested
//! nodes, pipes, printing, and deep nesting.

use talon_eql::ast::*;
use talon_eql::syntax::parse_expression;
use talon_eql::{parse, Diagnostic};

fn ok(text: &str) -> Query {
    parse(text).unwrap_or_else(|d: Diagnostic| panic!("{}", d.render("q", text)))
}

fn expr(text: &str) -> Expr {
    parse_expression(text).unwrap_or_else(|d| panic!("{}", d.render("e", text)))
}

/// The tree as an s-expression, to assert structure (precedence) compactly.
fn sx(e: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(sx).collect::<Vec<_>>().join(" ");
    match &e.kind {
        ExprKind::Literal(Literal::Str(s)) => format!("{s:?}"),
        ExprKind::Literal(Literal::Int(n)) => n.to_string(),
        ExprKind::Literal(Literal::Float(f)) => format!("{f:?}"),
        ExprKind::Literal(Literal::Bool(b)) => b.to_string(),
        ExprKind::Literal(Literal::Null) => "null".into(),
        ExprKind::Field(f) => format!("{}{}", if f.optional { "?" } else { "" }, f.path),
        ExprKind::Not(a) => format!("(not {})", sx(a)),
        ExprKind::Neg(a) => format!("(neg {})", sx(a)),
        ExprKind::And(a, b) => format!("(and {} {})", sx(a), sx(b)),
        ExprKind::Or(a, b) => format!("(or {} {})", sx(a), sx(b)),
        ExprKind::Compare(op, a, b) => format!("({} {} {})", op.as_str(), sx(a), sx(b)),
        ExprKind::Arith(op, a, b) => format!("({} {} {})", op.as_str(), sx(a), sx(b)),
        ExprKind::Match {
            op,
            value,
            patterns,
        } => {
            format!("({} {} [{}])", op.as_str(), sx(value), list(patterns))
        }
        ExprKind::In {
            value,
            list: items,
            insensitive,
            negated,
        } => format!(
            "({}in{} {} [{}])",
            if *negated { "not " } else { "" },
            if *insensitive { "~" } else { "" },
            sx(value),
            list(items)
        ),
        ExprKind::Call {
            name,
            insensitive,
            args,
            ..
        } => {
            format!(
                "({}{} {})",
                name,
                if *insensitive { "~" } else { "" },
                list(args)
            )
        }
    }
}

fn tree(text: &str) -> String {
    sx(&expr(text))
}

fn span(start: u32, end: u32) -> Span {
    Span { start, end }
}

fn event(q: &Query) -> &EventQuery {
    match &q.body {
        QueryBody::Event(e) => e,
        other => panic!("not an event query: {other:?}"),
    }
}

fn sequence(q: &Query) -> &Sequence {
    match &q.body {
        QueryBody::Sequence(s) => s,
        other => panic!("not a sequence: {other:?}"),
    }
}

#[test]
fn logical_precedence() {
    assert_eq!(tree("a or b and c"), "(or a (and b c))");
    assert_eq!(tree("a and b or c"), "(or (and a b) c)");
    assert_eq!(tree("a or b or c"), "(or (or a b) c)");
    assert_eq!(tree("not a and b"), "(and (not a) b)");
    assert_eq!(tree("not a or not b"), "(or (not a) (not b))");
    assert_eq!(tree("not not a"), "(not (not a))");
    assert_eq!(tree("a and not b == 1"), "(and a (not (== b 1)))");
    assert_eq!(tree("not (a or b)"), "(not (or a b))");
}

#[test]
fn comparison_precedence() {
    assert_eq!(tree("not a == 1"), "(not (== a 1))");
    assert_eq!(
        tree("a == 1 or b != 2 and c < 3"),
        "(or (== a 1) (and (!= b 2) (< c 3)))"
    );
    assert_eq!(
        tree("a <= 1 and b >= 2 and c > 3"),
        "(and (and (<= a 1) (>= b 2)) (> c 3))"
    );
    assert_eq!(tree("a + b == c * d"), "(== (+ a b) (* c d))");
    assert_eq!(tree("(a == b) == c"), "(== (== a b) c)");
}

#[test]
fn arithmetic_precedence() {
    assert_eq!(tree("a + b * c"), "(+ a (* b c))");
    assert_eq!(tree("a * b + c"), "(+ (* a b) c)");
    assert_eq!(tree("a - b - c"), "(- (- a b) c)");
    assert_eq!(tree("a - (b - c)"), "(- a (- b c))");
    assert_eq!(tree("a % b / c * d"), "(* (/ (% a b) c) d)");
    assert_eq!(tree("-a * b"), "(* (neg a) b)");
    assert_eq!(tree("a * -b"), "(* a (neg b))");
    assert_eq!(tree("- -a"), "(neg (neg a))");
    assert_eq!(tree("-(a + b)"), "(neg (+ a b))");
    assert_eq!(tree("+a"), "a");
    assert_eq!(tree("-1"), "(neg 1)");
    assert_eq!(tree("a - -1"), "(- a (neg 1))");
}

#[test]
fn set_and_pattern_operators() {
    assert_eq!(tree("a in (1, 2)"), "(in a [1 2])");
    assert_eq!(tree("a in~ (\"x\")"), "(in~ a [\"x\"])");
    assert_eq!(tree("a not in (1)"), "(not in a [1])");
    assert_eq!(
        tree("a not in~ (\"x\", \"y\")"),
        "(not in~ a [\"x\" \"y\"])"
    );
    assert_eq!(tree("not a in (1)"), "(not (in a [1]))");
    assert_eq!(tree("a + b in (1, 2)"), "(in (+ a b) [1 2])");
    assert_eq!(tree("a in (1 + 2, b or c)"), "(in a [(+ 1 2) (or b c)])");
    assert_eq!(tree("a : \"x*\""), "(: a [\"x*\"])");
    assert_eq!(tree("a : (\"x\", \"y\")"), "(: a [\"x\" \"y\"])");
    assert_eq!(tree("a like \"x\""), "(like a [\"x\"])");
    assert_eq!(tree("a like~ (\"x\")"), "(like~ a [\"x\"])");
    assert_eq!(tree("a regex \"x.*\""), "(regex a [\"x.*\"])");
    assert_eq!(tree("a regex~ (\"x\", \"y\")"), "(regex~ a [\"x\" \"y\"])");
    assert_eq!(
        tree("a : \"x\" and b : \"y\""),
        "(and (: a [\"x\"]) (: b [\"y\"]))"
    );
    assert_eq!(
        tree("a : \"x\" or not b like \"y\""),
        "(or (: a [\"x\"]) (not (like b [\"y\"])))"
    );
}

#[test]
fn primaries() {
    assert_eq!(tree("f()"), "(f )");
    assert_eq!(tree("CONCAT(a, \"b\", 1)"), "(CONCAT a \"b\" 1)");
    assert_eq!(tree("startsWith~(a, \"b\")"), "(startsWith~ a \"b\")");
    assert_eq!(tree("length (a) > 1"), "(> (length a) 1)");
    assert_eq!(tree("f(g(h(x)))"), "(f (g (h x)))");
    assert_eq!(tree("?a.b == null"), "(== ?a.b null)");
    assert_eq!(tree("? `a b`.c"), "?a b.c");
    assert_eq!(tree("`my-field`.`x``y`.z"), "my-field.x`y.z");
    assert_eq!(tree("a.`sequence`"), "a.sequence");
    assert_eq!(tree("process . name"), "process.name");
    assert_eq!(tree("@timestamp"), "@timestamp");
    assert_eq!(tree("true and false or null"), "(or (and true false) null)");
    assert_eq!(tree("1.5 + .5 + 1e3"), "(+ (+ 1.5 0.5) 1000.0)");
    assert_eq!(tree(r#""""a\b""""#), "\"a\\\\b\"");
    // `NULL` is not the keyword: it is a field, and the checker says so.
    assert_eq!(tree("a == NULL"), "(== a NULL)");
}

#[test]
fn call_and_field_details() {
    let e = expr("startsWith~(process.name, \"a\")");
    let ExprKind::Call {
        name,
        name_span,
        insensitive,
        args,
    } = &e.kind
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (name.as_str(), *name_span, *insensitive),
        ("startsWith", span(0, 11), true)
    );
    assert_eq!(args.len(), 2);
    assert_eq!(e.span, span(0, 30));
    let f = expr("?`a.b`.c");
    assert_eq!(
        f.kind,
        ExprKind::Field(FieldRef {
            path: "a.b.c".into(),
            optional: true
        })
    );
    assert_eq!(f.span, span(0, 8));
}

#[test]
fn spans_of_nested_nodes() {
    let text = "process where (a == 1) and not b.c : (\"x\", \"y\")";
    let q = ok(text);
    let e = event(&q);
    assert_eq!(q.span, span(0, 47));
    assert_eq!(e.span, span(0, 47));
    assert_eq!(e.category, Category::Named("process".into(), span(0, 7)));
    let cond = &e.condition;
    assert_eq!(cond.span, span(14, 47));
    let ExprKind::And(l, r) = &cond.kind else {
        panic!("{cond:?}")
    };
    // The parenthesized comparison spans its parentheses.
    assert_eq!(&text[l.span.range()], "(a == 1)");
    assert_eq!(l.span, span(14, 22));
    let ExprKind::Compare(_, a, one) = &l.kind else {
        panic!("{l:?}")
    };
    assert_eq!((a.span, one.span), (span(15, 16), span(20, 21)));
    assert_eq!(r.span, span(27, 47));
    let ExprKind::Not(m) = &r.kind else {
        panic!("{r:?}")
    };
    assert_eq!(&text[m.span.range()], "b.c : (\"x\", \"y\")");
    assert_eq!(m.span, span(31, 47));
    let ExprKind::Match {
        value, patterns, ..
    } = &m.kind
    else {
        panic!("{m:?}")
    };
    assert_eq!(value.span, span(31, 34));
    assert_eq!(
        patterns.iter().map(|p| p.span).collect::<Vec<_>>(),
        [span(38, 41), span(43, 46)]
    );
}

#[test]
fn spans_of_operators_and_prefixes() {
    let text = "-x * (y + 2) in (1, 2) or +z";
    let e = expr(text);
    assert_eq!(e.span, span(0, 28));
    let ExprKind::Or(l, r) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(&text[l.span.range()], "-x * (y + 2) in (1, 2)");
    // Unary plus is dropped, but its operand keeps the `+` in its span.
    assert_eq!(
        (r.span, &r.kind),
        (
            span(26, 28),
            &ExprKind::Field(FieldRef {
                path: "z".into(),
                optional: false
            })
        )
    );
    let ExprKind::In { value, list, .. } = &l.kind else {
        panic!("{l:?}")
    };
    assert_eq!(value.span, span(0, 12));
    assert_eq!(
        list.iter().map(|i| i.span).collect::<Vec<_>>(),
        [span(17, 18), span(20, 21)]
    );
    let ExprKind::Arith(ArithOp::Mul, neg, paren) = &value.kind else {
        panic!("{value:?}")
    };
    assert_eq!((neg.span, paren.span), (span(0, 2), span(5, 12)));
    let e = expr("  a   ");
    assert_eq!(e.span, span(2, 3));
}

#[test]
fn categories() {
    let cat = |text: &str| event(&ok(text)).category.clone();
    assert_eq!(
        cat("process where true"),
        Category::Named("process".into(), span(0, 7))
    );
    assert_eq!(cat("any where true"), Category::Any(span(0, 3)));
    assert_eq!(
        cat("`system.cpu` where true"),
        Category::Named("system.cpu".into(), span(0, 12))
    );
    assert_eq!(
        cat("\"my-cat\" where true"),
        Category::Named("my-cat".into(), span(0, 8))
    );
    assert_eq!(
        cat("\"\"\"raw\\cat\"\"\" where true"),
        Category::Named("raw\\cat".into(), span(0, 13))
    );
    assert_eq!(
        cat("PROCESS where true"),
        Category::Named("PROCESS".into(), span(0, 7))
    );
}

#[test]
fn sequence_with_everything() {
    let text = "sequence by user.name with maxspan=5m\n  \
                [process where a == 1] by pid\n  \
                ![file where true] by ppid with runs=2\n  \
                [network where true] by pid with runs=3\n\
                until [process where stop] by pid";
    let q = ok(text);
    let s = sequence(&q);
    assert_eq!(s.span, Span::new(0, text.len()));
    assert_eq!(s.by.len(), 1);
    assert_eq!(&text[s.by[0].span.range()], "user.name");
    assert_eq!(
        s.maxspan,
        Some(TimeSpan {
            value: 5,
            unit: TimeUnit::Minutes,
            span: span(35, 37)
        })
    );
    assert_eq!(s.terms.len(), 3);
    let t0 = &s.terms[0];
    assert_eq!(&text[t0.span.range()], "[process where a == 1] by pid");
    assert_eq!(&text[t0.query.span.range()], "process where a == 1");
    assert!(!t0.missing);
    assert_eq!(t0.runs, None);
    let t1 = &s.terms[1];
    assert!(t1.missing);
    assert_eq!(
        &text[t1.span.range()],
        "![file where true] by ppid with runs=2"
    );
    let (n, runs_span) = t1.runs.unwrap_or_default();
    assert_eq!((n, &text[runs_span.range()]), (2, "with runs=2"));
    assert_eq!(s.terms[2].runs.map(|r| r.0), Some(3));
    let until = s.until.as_ref().map(|u| &text[u.span.range()]);
    assert_eq!(until, Some("[process where stop] by pid"));
    assert!(q.pipes.is_empty());
}

#[test]
fn sequence_forms_that_are_legal() {
    // Two plain terms; a single term repeated; a missing term with maxspan.
    assert_eq!(
        sequence(&ok("sequence [a where true] [b where true]"))
            .terms
            .len(),
        2
    );
    assert_eq!(
        sequence(&ok("sequence [a where true] with runs=2"))
            .terms
            .len(),
        1
    );
    let s = ok("sequence with maxspan=1s [a where true] ![b where true]");
    assert_eq!(
        sequence(&s)
            .terms
            .iter()
            .map(|t| t.missing)
            .collect::<Vec<_>>(),
        [false, true]
    );
    let s = ok("sequence with maxspan=1s ![a where true] [b where true] ![c where true]");
    assert_eq!(sequence(&s).terms.len(), 3);
    for (unit_text, unit) in [
        ("ms", TimeUnit::Millis),
        ("s", TimeUnit::Seconds),
        ("m", TimeUnit::Minutes),
        ("h", TimeUnit::Hours),
        ("d", TimeUnit::Days),
    ] {
        let q = ok(&format!(
            "sequence with maxspan=30{unit_text} [a where true] [b where true]"
        ));
        assert_eq!(
            sequence(&q).maxspan.map(|m| (m.value, m.unit)),
            Some((30, unit))
        );
    }
    // Spaces around `=` and before the unit are allowed, as in Elasticsearch.
    let q = ok("sequence with maxspan = 2 h [a where true] [b where true]");
    assert_eq!(
        sequence(&q).maxspan.map(|m| (m.value, m.unit, m.span)),
        Some((2, TimeUnit::Hours, span(24, 27)))
    );
    let q = ok("sequence by a, b [x where true] by c [y where true] by d");
    assert_eq!(sequence(&q).by.len(), 2);
    assert_eq!(
        ok("sequence [a where true] with runs=100 [b where true]").pipes,
        []
    );
}

#[test]
fn samples() {
    let text = "sample by host [any where uptime > 0] by os [any where port > 100] by op_sys";
    let q = ok(text);
    let QueryBody::Sample(s) = &q.body else {
        panic!("{q:?}")
    };
    assert_eq!(s.span, Span::new(0, text.len()));
    assert_eq!(s.by.len(), 1);
    assert_eq!(s.filters.len(), 2);
    assert_eq!(
        &text[s.filters[1].span.range()],
        "[any where port > 100] by op_sys"
    );
    assert!(s.filters.iter().all(|f| !f.missing && f.runs.is_none()));
    // Keys only on the filters, or only on the sample.
    assert!(parse("sample [a where true] by x [b where true] by y").is_ok());
    assert!(parse("sample by x [a where true] [b where true]").is_ok());
}

#[test]
fn pipes() {
    let text = "process where true | head 4 | tail 2";
    let q = ok(text);
    assert_eq!(
        q.pipes,
        [Pipe::Head(4, span(19, 27)), Pipe::Tail(2, span(28, 36))]
    );
    assert_eq!(q.span, span(0, 36));
    assert_eq!(
        ok("process where true | head 0").pipes,
        [Pipe::Head(0, span(19, 27))]
    );
    let q = ok("sequence [a where true] [b where true] | tail 9223372036854775807");
    assert_eq!(q.pipes.len(), 1);
    assert!(matches!(
        q.pipes[0],
        Pipe::Tail(9_223_372_036_854_775_807, _)
    ));
}

#[test]
fn comments_anywhere() {
    let q = ok("/* lead */ process // trailing\n where /* x /* y */ */ a == 1 // end");
    assert_eq!(q.span, span(11, 60));
    assert_eq!(sx(&event(&q).condition), "(== a 1)");
}

#[test]
fn print_is_canonical() {
    let cases = [
        ("process where a == 1", "process where a == 1"),
        ("process where (a or b) and c", "process where (a or b) and c"),
        ("process where a or (b and c)", "process where a or b and c"),
        ("process where not (a == 1)", "process where not a == 1"),
        ("process where a - (b - c)", "process where a - (b - c)"),
        ("process where (a - b) - c", "process where a - b - c"),
        ("process where (a == b) == c", "process where (a == b) == c"),
        ("process where a : (\"x\")", "process where a : \"x\""),
        ("process where a : (b or c)", "process where a : (b or c)"),
        ("process where a : (\"x\") + \"y\"", "process where (a : \"x\") + \"y\""),
        ("process where a : ((\"x\") + \"y\")", "process where a : (\"x\" + \"y\")"),
        ("process where a : -1", "process where a : (-1)"),
        ("process where a in~ (1,2)", "process where a in~ (1, 2)"),
        ("process where a not in (1)", "process where a not in (1)"),
        ("process where - -a", "process where - -a"),
        ("process where -(a + 1)", "process where -(a + 1)"),
        ("process where +a", "process where a"),
        ("process where x == \"\"\"C:\\a\"b\"\"\"", "process where x == \"C:\\\\a\\\"b\""),
        ("process where x == \"\\u{200f}\\u{01}\\t\"", "process where x == \"\u{200f}\\u{01}\\t\""),
        ("process where x == 1.0 and y == 1e20", "process where x == 1.0 and y == 1e20"),
        ("process where `a-b`.c == ?`sequence`", "process where `a-b.c` == ?`sequence`"),
        ("`my cat` where true", "\"my cat\" where true"),
        ("\"sequence\" where true", "\"sequence\" where true"),
        ("process where f~(a) | head 1 | tail 2", "process where f~(a) | head 1 | tail 2"),
        (
            "sequence by a with maxspan=1h [x where true] by b ![y where true] by c with runs=2 until [z where true] by d",
            "sequence by a with maxspan=1h\n  [x where true] by b\n  ![y where true] by c with runs=2\nuntil [z where true] by d",
        ),
        ("sample by h [a where true] [b where true]", "sample by h\n  [a where true]\n  [b where true]"),
    ];
    for (input, printed) in cases {
        assert_eq!(ok(input).to_string(), printed, "printing {input}");
    }
}

#[test]
fn deep_but_legal_nesting_parses_prints_and_drops() {
    let n = 190;
    let text = format!(
        "process where {}x == 1{}",
        "a or b and c == d + e * (".repeat(n),
        ")".repeat(n)
    );
    let q = ok(&text);
    let printed = q.to_string();
    assert!(
        printed.starts_with("process where a or b and c == d + e * (a or"),
        "{}",
        &printed[..60]
    );
    assert!(format!("{q:?}").len() > 1000);
    let nots = format!("process where {}a", "not ".repeat(150));
    assert!(parse(&nots).is_ok());
}

#[test]
fn nesting_limits() {
    let text = format!("process where {}a{}", "(".repeat(201), ")".repeat(201));
    let d = parse(&text).err();
    assert_eq!(
        d.map(|d| (d.message, d.span)),
        Some((
            "expression nested too deeply (more than 200 levels)".to_string(),
            span(214, 215)
        ))
    );
    let d = parse(&format!("process where {}a", "-".repeat(100_000))).err();
    assert_eq!(
        d.map(|d| d.message),
        Some("expression nested too deeply (more than 200 levels)".to_string())
    );
    let chain = vec!["a"; 1001].join(" or ");
    let d = parse(&format!("process where {chain}")).err();
    assert_eq!(
        d.map(|d| (d.message, d.hint)),
        Some((
            "expression too deep (more than 1000 nested operators)".to_string(),
            Some(
                "split the condition, or use `in (...)` for long lists of alternatives".to_string()
            )
        ))
    );
    let chain = vec!["a"; 1000].join(" or ");
    assert!(parse(&format!("process where {chain}")).is_ok());
    // Long lists are wide, not deep.
    let list = vec!["1"; 50_000].join(", ");
    assert!(parse(&format!("process where a in ({list})")).is_ok());
}
