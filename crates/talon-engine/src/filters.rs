//! A rule's filters (read by `talon-rules`' `filters.rs`), compiled
//! against the mapping and tested on events. Kibana ANDs every enabled
//! filter with the rule's query (a negated one as `must_not`), as the
//! search's `filter`: so an event alerts for an event rule only when the
//! query matches and every applied filter holds, and an event a filter
//! leaves out is, for a sequence or sample rule, no event at all: it fills
//! no term, missing events and `until` included.
//!
//! What a query matches depends on the field's type in the mapping talon
//! uses (`--mapping` and `--schema`, else ECS's types for the fields whose
//! type changes comparisons, else the value itself), as in Elasticsearch:
//!
//! | field | `term`, `terms`, `match`, `match_phrase` | `wildcard`, `prefix` | `range` |
//! |-------|------------------------------------------|----------------------|---------|
//! | keyword, wildcard, no type known | the value exactly (a JSON number as its text) | Lucene pattern on the value | string order (a number value against number bounds in number order, for a field of no known type) |
//! | text | `term`: one word as indexed; `match`: any word (`operator: and`: every one); `match_phrase`: the words in order | on each word, pattern lower-cased | on each word |
//! | long, double, ... | the number (a string of one too) | refused | number order |
//! | date, date_nanos | every instant the date names (`2024-05` is May) | refused | rounded as Elasticsearch rounds: `gte` from the first instant, `gt` and `lte` to the last |
//! | ip | an address or CIDR block | refused | address order |
//! | boolean | true or false | refused | false before true |
//!
//! Every value of a multi-valued field counts (any one may match); a
//! keyword string longer than the mapping's `ignore_above` is not indexed,
//! so nothing matches it and it does not make the field exist. A value a
//! field's type cannot read in a query (`abc` for a `long`) makes
//! Elasticsearch refuse the search, so Kibana's rule fails each run: an
//! error at the value, and the rule does not run (`match` with `lenient`
//! matches nothing instead). With a mapping given, a field it does not
//! have matches nothing, as in Elasticsearch, with a warning. Date math
//! (`now-1d`) and formats talon does not read leave the filter not
//! applied, with a warning.

mod dates;
mod text;

use talon_eql::eval::ip::{parse_cidr, parse_ip, to_u128, IpRange};
use talon_eql::eval::wildcard::{CaseMode, Wildcard};
use talon_event::mapping::{FieldType, Mapping};
use talon_event::{EventView, Value};
use talon_rules::filters::{Bound, DateFormats, Query, QueryKind, RangeQuery, Scalar, ScalarValue};
use talon_rules::{LoadError, LoadErrorKind, Rule};

use crate::exceptions::matching::{exists, indexed, keyword_text, value_matches, Cmp};

/// What leaving out a filter Kibana applies costs, said after why.
pub const WITHOUT_IT: &str = "talon alerts without it, on more events than Kibana";

/// A rule's applied filters, ready to test.
#[derive(Debug, Default)]
pub struct RuleFilters {
    /// Each filter: negated, and its query.
    filters: Vec<(bool, Node)>,
    /// The fields the filters read (aliases resolved).
    fields: Vec<String>,
}

/// What compiling a rule's filters found besides them.
#[derive(Debug, Default)]
pub struct FilterProblems {
    /// Values Elasticsearch would refuse: the rule does not run.
    pub errors: Vec<LoadError>,
    /// Filters not applied, and fields the mapping lacks: the rule runs.
    pub warnings: Vec<LoadError>,
    /// The filters not applied, by number, and why (also among
    /// `warnings`, said for a reader).
    pub not_applied: Vec<(usize, String)>,
}

impl RuleFilters {
    /// Compiles the filters `rule` applies against `mapping`.
    pub fn compile(rule: &Rule, mapping: &Mapping) -> (RuleFilters, FilterProblems) {
        let mut out = RuleFilters::default();
        let mut problems = FilterProblems::default();
        let at = |span: std::ops::Range<usize>, message: String| {
            LoadError::at(
                &rule.origin.path,
                &rule.origin.text,
                span,
                LoadErrorKind::InvalidField,
                message,
            )
        };
        for (filter, negate, query) in rule.filters.applied() {
            let n = filter.number;
            let mut cx = Cx {
                mapping,
                unmapped: Vec::new(),
                fields: Vec::new(),
            };
            match cx.node(query) {
                Ok(node) => {
                    for (field, span) in cx.unmapped {
                        let keeps = match negate {
                            true => ", and this negated filter keeps every event",
                            false => "",
                        };
                        problems.warnings.push(at(
                            span,
                            format!(
                                "rule \"{}\": filter {n}: `{field}` is not in the mapping, so \
                                 Elasticsearch matches no event with this query{keeps}",
                                rule.name
                            ),
                        ));
                    }
                    out.fields.extend(cx.fields);
                    out.filters.push((negate, node));
                }
                Err(Issue::Error { span, message }) => {
                    problems
                        .errors
                        .push(at(span, format!("filter {n}: {message}")));
                }
                Err(Issue::NotApplied { span, why }) => {
                    problems.warnings.push(at(
                        span,
                        format!(
                            "rule \"{}\": filter {n} is accepted but not applied: {why}; \
                             {WITHOUT_IT}",
                            rule.name
                        ),
                    ));
                    problems.not_applied.push((n, why));
                }
            }
        }
        out.fields.sort();
        out.fields.dedup();
        (out, problems)
    }

    /// No filter to apply: every event passes.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// How many filters are applied.
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Every field the filters read, for the reader to keep.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Whether the event passes every filter (a negated one must not
    /// match).
    pub fn matches(&self, event: &dyn EventView) -> bool {
        self.filters
            .iter()
            .all(|(negate, node)| node.matches(event) != *negate)
    }
}

/// Why a filter cannot be compiled.
enum Issue {
    Error {
        span: std::ops::Range<usize>,
        message: String,
    },
    NotApplied {
        span: std::ops::Range<usize>,
        why: String,
    },
}

fn error<T>(span: &std::ops::Range<usize>, message: String) -> Result<T, Issue> {
    Err(Issue::Error {
        span: span.clone(),
        message,
    })
}

fn not_applied<T>(span: &std::ops::Range<usize>, why: String) -> Result<T, Issue> {
    Err(Issue::NotApplied {
        span: span.clone(),
        why,
    })
}

/// A compiled query.
#[derive(Debug)]
enum Node {
    All,
    Nothing,
    Bool {
        must: Vec<Node>,
        should: Vec<Node>,
        min: usize,
        must_not: Vec<Node>,
    },
    Leaf(Leaf),
}

impl Node {
    fn matches(&self, event: &dyn EventView) -> bool {
        match self {
            Node::All => true,
            Node::Nothing => false,
            Node::Leaf(l) => l.matches(event),
            Node::Bool {
                must,
                should,
                min,
                must_not,
            } => {
                must.iter().all(|n| n.matches(event))
                    && (*min == 0
                        || should
                            .iter()
                            .filter(|n| n.matches(event))
                            .take(*min)
                            .count()
                            >= *min)
                    && !must_not.iter().any(|n| n.matches(event))
            }
        }
    }
}

/// A test on one field's values.
#[derive(Debug)]
struct Leaf {
    path: Box<str>,
    test: Test,
    /// `ignore_above` of a keyword field: longer strings are not indexed.
    ignore_above: Option<u32>,
}

/// One end of a number range: the bound, and whether it is included.
type NumberBound = Option<(f64, bool)>;

#[derive(Debug)]
enum Test {
    Exists,
    /// One of the values (keyword text, number, boolean, address).
    Equals(Cmp),
    /// A Lucene wildcard or prefix on the value as keyword text.
    Pattern(Wildcard),
    /// Instants, both ends included, in the field's resolution
    /// (milliseconds, or nanoseconds for `date_nanos`).
    Dates {
        lo: i64,
        hi: i64,
        nanos: bool,
    },
    Numbers {
        lo: NumberBound,
        hi: NumberBound,
    },
    /// Keyword text in string order; `numbers`: for a field of no known
    /// type, number values against the bounds read as numbers.
    Strings {
        lo: Option<(String, bool)>,
        hi: Option<(String, bool)>,
        numbers: Option<(NumberBound, NumberBound)>,
    },
    Addresses(IpRange),
    /// On the words of a `text` field.
    Words(Words),
}

#[derive(Debug)]
enum Words {
    /// These words, in order, next to each other, in one value.
    Phrase(Vec<String>),
    /// Any of them.
    Any(Vec<String>),
    /// Every one of them (in any value).
    All(Vec<String>),
    /// A word that matches (a term, a wildcard or a prefix).
    Like(Wildcard),
    /// A word in string order.
    Between {
        lo: Option<(String, bool)>,
        hi: Option<(String, bool)>,
    },
}

fn within<T: PartialOrd>(v: &T, lo: &Option<(T, bool)>, hi: &Option<(T, bool)>) -> bool {
    let above = match lo {
        None => true,
        Some((b, true)) => v >= b,
        Some((b, false)) => v > b,
    };
    let below = match hi {
        None => true,
        Some((b, true)) => v <= b,
        Some((b, false)) => v < b,
    };
    above && below
}

/// A value as a number field indexes it (a string of a number is coerced).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn at_resolution(nanos: i64, nanosecond: bool) -> i64 {
    match nanosecond {
        true => nanos,
        false => nanos.div_euclid(1_000_000),
    }
}

impl Leaf {
    /// Whether the field holds `v` as Elasticsearch indexed it.
    fn indexed(&self, v: &Value) -> bool {
        indexed(self.ignore_above, v)
    }

    fn matches(&self, event: &dyn EventView) -> bool {
        let values = event.values(&self.path);
        let mut each = values.iter().filter(|v| self.indexed(v));
        match &self.test {
            Test::Exists => match self.ignore_above {
                None => exists(event, &self.path),
                Some(_) => each.next().is_some() || event.has_values_below(&self.path),
            },
            Test::Equals(cmp) => each.any(|v| value_matches(cmp, v)),
            Test::Pattern(w) => each.any(|v| keyword_text(v).is_some_and(|s| w.matches(&s))),
            Test::Dates { lo, hi, nanos } => each.any(|v| {
                talon_event::time::parse_nanos(v)
                    .map(|n| at_resolution(n, *nanos))
                    .is_some_and(|n| (*lo..=*hi).contains(&n))
            }),
            Test::Numbers { lo, hi } => each.any(|v| number(v).is_some_and(|n| within(&n, lo, hi))),
            Test::Strings { lo, hi, numbers } => each.any(|v| match (numbers, v) {
                (Some((nlo, nhi)), Value::Int(_) | Value::Float(_)) => {
                    number(v).is_some_and(|n| within(&n, nlo, nhi))
                }
                _ => keyword_text(v).is_some_and(|s| within(&s.into_owned(), lo, hi)),
            }),
            Test::Addresses(range) => each.any(|v| {
                v.as_str()
                    .and_then(|s| parse_ip(s.trim()))
                    .is_some_and(|a| range.contains(to_u128(a)))
            }),
            Test::Words(words) => {
                let mut texts = each.filter_map(keyword_text);
                match words {
                    Words::Phrase(p) => texts.any(|t| text::has_phrase(&text::tokens(&t), p)),
                    Words::Any(ws) => {
                        texts.any(|t| text::tokens(&t).iter().any(|w| ws.contains(w)))
                    }
                    Words::All(ws) => {
                        let mut seen = vec![false; ws.len()];
                        for t in texts {
                            for w in text::tokens(&t) {
                                for (i, want) in ws.iter().enumerate() {
                                    seen[i] |= *want == w;
                                }
                            }
                        }
                        seen.iter().all(|s| *s)
                    }
                    Words::Like(p) => texts.any(|t| text::tokens(&t).iter().any(|w| p.matches(w))),
                    Words::Between { lo, hi } => {
                        texts.any(|t| text::tokens(&t).iter().any(|w| within(w, lo, hi)))
                    }
                }
            }
        }
    }
}

/// How a field's values compare, from its type.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// keyword, wildcard, constant_keyword.
    Keyword,
    Version,
    Text,
    Number(FieldType),
    Date {
        nanos: bool,
    },
    Ip,
    Boolean,
    /// No type known (no mapping, and not an ECS field of a typed kind):
    /// strings as keywords, numbers as numbers.
    Dynamic,
    /// An object (or nested) field: no values of its own.
    Object,
    /// A type talon does not compare (`geo_point`, `binary`, ...).
    Other,
    /// A mapping was given and does not have the field.
    Unmapped,
}

impl Kind {
    /// `a long`, `an ip`: the type's name for a message.
    fn a(self) -> String {
        let name = self.name();
        match name.starts_with(['a', 'e', 'i', 'o', 'u']) {
            true => format!("an {name}"),
            false => format!("a {name}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Keyword | Kind::Dynamic => "keyword",
            Kind::Version => "version",
            Kind::Text => "text",
            Kind::Number(FieldType::Double) => "double",
            Kind::Number(FieldType::UnsignedLong) => "unsigned_long",
            Kind::Number(_) => "long",
            Kind::Date { nanos: false } => "date",
            Kind::Date { nanos: true } => "date_nanos",
            Kind::Ip => "ip",
            Kind::Boolean => "boolean",
            Kind::Object => "object",
            Kind::Other => "geo, binary or other",
            Kind::Unmapped => "unmapped",
        }
    }
}

struct Cx<'m> {
    mapping: &'m Mapping,
    /// Fields the mapping lacks, where a query names them.
    unmapped: Vec<(String, std::ops::Range<usize>)>,
    fields: Vec<String>,
}

/// What a full-text query asks of a `text` field's words.
#[derive(Clone, Copy)]
enum Full {
    Phrase,
    Any,
    All,
}

impl Cx<'_> {
    fn kind(&self, field: &str) -> Kind {
        let m = self.mapping;
        match m.field_type(field) {
            None if m.is_explicit() => match m.is_mapped(field) {
                true => Kind::Object,
                false => Kind::Unmapped,
            },
            None => Kind::Dynamic,
            Some(FieldType::Keyword | FieldType::Wildcard | FieldType::ConstantKeyword) => {
                Kind::Keyword
            }
            Some(FieldType::Version) => Kind::Version,
            Some(FieldType::Text { .. }) => Kind::Text,
            Some(t) if t.is_numeric() => Kind::Number(t),
            Some(FieldType::Date) => Kind::Date { nanos: false },
            Some(FieldType::DateNanos) => Kind::Date { nanos: true },
            Some(FieldType::Ip) => Kind::Ip,
            Some(FieldType::Boolean) => Kind::Boolean,
            Some(FieldType::Object | FieldType::Nested) => Kind::Object,
            Some(_) => Kind::Other,
        }
    }

    /// A leaf on `field`; the field's kind decides nothing here.
    fn leaf(&mut self, field: &str, kind: Kind, test: Test) -> Node {
        let path = self.mapping.resolve(field).to_string();
        let ignore_above = match kind {
            Kind::Keyword | Kind::Dynamic | Kind::Version => self.mapping.ignore_above(field),
            _ => None,
        };
        self.fields.push(path.clone());
        Node::Leaf(Leaf {
            path: path.into(),
            test,
            ignore_above,
        })
    }

    /// The field's kind, or the node a query on it is whatever it asks:
    /// nothing for a field the mapping lacks (noted) or an object, a query
    /// not applied for a type talon does not compare.
    fn kind_or(&mut self, field: &str, q: &Query) -> Result<Result<Kind, Node>, Issue> {
        match self.kind(field) {
            Kind::Unmapped => {
                self.unmapped.push((field.to_string(), q.span.clone()));
                Ok(Err(Node::Nothing))
            }
            Kind::Object => Ok(Err(Node::Nothing)),
            Kind::Other => not_applied(
                &q.span,
                format!(
                    "talon does not compare values of `{field}`, a geo, binary or other such field"
                ),
            ),
            k => Ok(Ok(k)),
        }
    }

    fn node(&mut self, q: &Query) -> Result<Node, Issue> {
        Ok(match &q.kind {
            QueryKind::All => Node::All,
            QueryKind::Nothing => Node::Nothing,
            QueryKind::Bool {
                must,
                should,
                must_not,
                minimum_should_match,
            } => Node::Bool {
                must: must
                    .iter()
                    .map(|q| self.node(q))
                    .collect::<Result<_, _>>()?,
                should: should
                    .iter()
                    .map(|q| self.node(q))
                    .collect::<Result<_, _>>()?,
                min: *minimum_should_match,
                must_not: must_not
                    .iter()
                    .map(|q| self.node(q))
                    .collect::<Result<_, _>>()?,
            },
            QueryKind::Exists { field } => match self.kind(field) {
                Kind::Unmapped => {
                    self.unmapped.push((field.clone(), q.span.clone()));
                    Node::Nothing
                }
                kind => self.leaf(field, kind, Test::Exists),
            },
            QueryKind::Term {
                field,
                value,
                case_insensitive,
            } => self.term(q, field, value, *case_insensitive, false)?,
            QueryKind::Terms { field, values } => Node::Bool {
                must: Vec::new(),
                should: values
                    .iter()
                    .map(|v| self.term(q, field, v, false, false))
                    .collect::<Result<_, _>>()?,
                min: 1,
                must_not: Vec::new(),
            },
            QueryKind::Phrase { field, value } => {
                self.full_text(q, field, value, Full::Phrase, false)?
            }
            QueryKind::Match {
                field,
                value,
                all,
                lenient,
            } => {
                let full = if *all { Full::All } else { Full::Any };
                self.full_text(q, field, value, full, *lenient)?
            }
            QueryKind::Wildcard {
                field,
                value,
                case_insensitive,
            } => self.pattern(q, field, value, *case_insensitive, false)?,
            QueryKind::Prefix {
                field,
                value,
                case_insensitive,
            } => self.pattern(q, field, value, *case_insensitive, true)?,
            QueryKind::Range(r) => self.range(q, r)?,
        })
    }

    /// A `term` (and each value of `terms`); `lenient`: a value the field
    /// cannot read matches nothing instead of failing.
    fn term(
        &mut self,
        q: &Query,
        field: &str,
        value: &Scalar,
        case_insensitive: bool,
        lenient: bool,
    ) -> Result<Node, Issue> {
        let kind = match self.kind_or(field, q)? {
            Ok(k) => k,
            Err(node) => return Ok(node),
        };
        let case = case_mode(case_insensitive);
        let text = value.text();
        if case_insensitive
            && !matches!(
                kind,
                Kind::Keyword | Kind::Version | Kind::Text | Kind::Dynamic
            )
        {
            return error(
                &q.span,
                format!(
                    "`case_insensitive` is for keyword and text fields; `{field}` is {} field, \
                     and Elasticsearch refuses the search",
                    kind.a()
                ),
            );
        }
        let test = match kind {
            Kind::Keyword | Kind::Version | Kind::Dynamic => match case_insensitive {
                true => Test::Pattern(Wildcard::exact(&text, case)),
                false => Test::Equals(Cmp::Str(vec![text.into_owned()])),
            },
            Kind::Text => Test::Words(Words::Like(Wildcard::exact(&text, case))),
            _ => match self.typed(field, kind, value) {
                Ok(test) => test,
                Err(_) if lenient => return Ok(Node::Nothing),
                Err(e) => return Err(e),
            },
        };
        Ok(self.leaf(field, kind, test))
    }

    /// A value of a number, date, ip or boolean field, as a `term` reads
    /// it.
    fn typed(&self, field: &str, kind: Kind, value: &Scalar) -> Result<Test, Issue> {
        let text = value.text();
        let refuse = |what: &str| {
            error(
                &value.span,
                format!(
                    "`{field}` is {} field and {value} is not {what}: Elasticsearch refuses \
                     the search, so Kibana's rule fails each run",
                    kind.a()
                ),
            )
        };
        match kind {
            Kind::Number(_) => match scalar_number(value) {
                Some(n) => Ok(Test::Equals(Cmp::Num(vec![n]))),
                None => refuse("a number"),
            },
            Kind::Ip => match parse_cidr(text.trim()) {
                Some(r) => Ok(Test::Equals(Cmp::Ip(vec![r]))),
                None => refuse("an IP address or CIDR block"),
            },
            Kind::Boolean => match scalar_bool(value) {
                Some(b) => Ok(Test::Equals(Cmp::Bool(vec![b]))),
                None => refuse("true or false"),
            },
            Kind::Date { nanos } => {
                let span = self.date(field, value, None, None)?;
                Ok(Test::Dates {
                    lo: at_resolution(span.lo, nanos),
                    hi: at_resolution(span.hi, nanos),
                    nanos,
                })
            }
            _ => Ok(Test::Equals(Cmp::Str(vec![text.into_owned()]))),
        }
    }

    /// The instants a date value names, in `formats` (the field's own when
    /// `None`) and `zone`.
    fn date(
        &self,
        field: &str,
        value: &Scalar,
        formats: Option<DateFormats>,
        zone: Option<i32>,
    ) -> Result<dates::Span, Issue> {
        let text = value.text();
        if dates::is_date_math(&text) {
            return not_applied(
                &value.span,
                format!(
                    "{value} is date math, read against the time of each of Kibana's runs, \
                     which talon does not replay in filters"
                ),
            );
        }
        let formats = match formats {
            Some(f) => f,
            None => match self.mapping.date_format(field) {
                None => DateFormats::DEFAULT,
                Some(written) => match DateFormats::parse(written) {
                    Ok(f) => f,
                    Err(unread) => {
                        return not_applied(
                            &value.span,
                            format!(
                                "the mapping gives `{field}` the date format `{unread}`, which \
                                 talon does not read"
                            ),
                        )
                    }
                },
            },
        };
        match dates::parse(&text, formats, zone.unwrap_or(0)) {
            Some(span) => Ok(span),
            None => error(
                &value.span,
                format!(
                    "`{field}` is a date field and {value} is not a date its format reads: \
                     Elasticsearch refuses the search, so Kibana's rule fails each run"
                ),
            ),
        }
    }

    fn full_text(
        &mut self,
        q: &Query,
        field: &str,
        value: &Scalar,
        full: Full,
        lenient: bool,
    ) -> Result<Node, Issue> {
        if self.kind(field) != Kind::Text {
            return self.term(q, field, value, false, lenient);
        }
        let words = text::tokens(&value.text());
        if words.is_empty() {
            // `zero_terms_query: none`.
            return Ok(Node::Nothing);
        }
        let words = match full {
            Full::Phrase => Words::Phrase(words),
            Full::Any => Words::Any(words),
            Full::All => Words::All(words),
        };
        Ok(self.leaf(field, Kind::Text, Test::Words(words)))
    }

    fn pattern(
        &mut self,
        q: &Query,
        field: &str,
        value: &Scalar,
        case_insensitive: bool,
        prefix: bool,
    ) -> Result<Node, Issue> {
        let kind = match self.kind_or(field, q)? {
            Ok(k) => k,
            Err(node) => return Ok(node),
        };
        let case = case_mode(case_insensitive);
        let compile = |text: &str| match prefix {
            true => Wildcard::prefix(text, case),
            false => Wildcard::lucene(text, case),
        };
        let text = value.text();
        let test = match kind {
            Kind::Keyword | Kind::Version | Kind::Dynamic => Test::Pattern(compile(&text)),
            // The pattern is normalized as the field's words are.
            Kind::Text => Test::Words(Words::Like(compile(&text.to_lowercase()))),
            _ => {
                let name = if prefix { "prefix" } else { "wildcard" };
                return error(
                    &q.span,
                    format!(
                        "Elasticsearch runs `{name}` queries on keyword and text fields only, \
                         and `{field}` is {} field: it refuses the search",
                        kind.a()
                    ),
                );
            }
        };
        Ok(self.leaf(field, kind, test))
    }

    fn range(&mut self, q: &Query, r: &RangeQuery) -> Result<Node, Issue> {
        let field = r.field.as_str();
        let kind = match self.kind_or(field, q)? {
            Ok(k) => k,
            Err(node) => return Ok(node),
        };
        let bounds = |f: &dyn Fn(&Scalar) -> Result<f64, Issue>| -> Result<_, Issue> {
            let side = |b: &Option<Bound>| -> Result<Option<(f64, bool)>, Issue> {
                b.as_ref()
                    .map(|b| f(&b.value).map(|n| (n, b.inclusive)))
                    .transpose()
            };
            Ok((side(&r.lower)?, side(&r.upper)?))
        };
        let refuse = |value: &Scalar, what: &str| Issue::Error {
            span: value.span.clone(),
            message: format!(
                "`{field}` is {} field and the bound {value} is not {what}: \
                 Elasticsearch refuses the search, so Kibana's rule fails each run",
                kind.a()
            ),
        };
        let strings = |b: &Option<Bound>| {
            b.as_ref()
                .map(|b| (b.value.text().into_owned(), b.inclusive))
        };
        let test = match kind {
            Kind::Number(_) => {
                let (lo, hi) = bounds(&|v| scalar_number(v).ok_or_else(|| refuse(v, "a number")))?;
                Test::Numbers { lo, hi }
            }
            Kind::Date { nanos } => {
                let end = |b: &Option<Bound>, upper: bool| -> Result<Option<i64>, Issue> {
                    let Some(b) = b else { return Ok(None) };
                    let span = self.date(field, &b.value, r.format, r.time_zone)?;
                    // Rounded as Elasticsearch rounds: `gte` and `lt` from
                    // the first instant the date names, `gt` and `lte`
                    // from its last.
                    let t = match (upper, b.inclusive) {
                        (false, true) | (true, false) => span.lo,
                        (false, false) | (true, true) => span.hi,
                    };
                    let t = at_resolution(t, nanos);
                    Ok(Some(match (upper, b.inclusive) {
                        (_, true) => t,
                        (false, false) => t.saturating_add(1),
                        (true, false) => t.saturating_sub(1),
                    }))
                };
                Test::Dates {
                    lo: end(&r.lower, false)?.unwrap_or(i64::MIN),
                    hi: end(&r.upper, true)?.unwrap_or(i64::MAX),
                    nanos,
                }
            }
            Kind::Keyword | Kind::Dynamic => {
                // For a field of no known type, number values compare as
                // numbers when every bound reads as one.
                let numbers = match kind {
                    Kind::Dynamic => {
                        let read = |b: &Option<Bound>| match b {
                            None => Some(None),
                            Some(b) => scalar_number(&b.value).map(|n| Some((n, b.inclusive))),
                        };
                        read(&r.lower).zip(read(&r.upper))
                    }
                    _ => None,
                };
                Test::Strings {
                    lo: strings(&r.lower),
                    hi: strings(&r.upper),
                    numbers,
                }
            }
            Kind::Text => Test::Words(Words::Between {
                lo: strings(&r.lower),
                hi: strings(&r.upper),
            }),
            Kind::Ip => {
                let address = |v: &Scalar| -> Result<u128, Issue> {
                    match parse_ip(v.text().trim()) {
                        Some(a) => Ok(to_u128(a)),
                        None => Err(refuse(v, "an IP address")),
                    }
                };
                let lo = match &r.lower {
                    None => Some(0),
                    Some(b) if b.inclusive => Some(address(&b.value)?),
                    Some(b) => address(&b.value)?.checked_add(1),
                };
                let hi = match &r.upper {
                    None => Some(u128::MAX),
                    Some(b) if b.inclusive => Some(address(&b.value)?),
                    Some(b) => address(&b.value)?.checked_sub(1),
                };
                match lo.zip(hi) {
                    Some((lo, hi)) => Test::Addresses(IpRange { lo, hi }),
                    None => return Ok(Node::Nothing),
                }
            }
            Kind::Boolean => {
                let (lo, hi) = bounds(&|v| match scalar_bool(v) {
                    Some(b) => Ok(f64::from(u8::from(b))),
                    None => Err(refuse(v, "true or false")),
                })?;
                let kept: Vec<bool> = [false, true]
                    .into_iter()
                    .filter(|b| within(&f64::from(u8::from(*b)), &lo, &hi))
                    .collect();
                Test::Equals(Cmp::Bool(kept))
            }
            Kind::Version => {
                return not_applied(
                    &q.span,
                    format!("talon does not order the values of `{field}`, a version field"),
                )
            }
            Kind::Object | Kind::Other | Kind::Unmapped => return Ok(Node::Nothing),
        };
        Ok(self.leaf(field, kind, test))
    }
}

/// How a `case_insensitive` parameter compares text.
fn case_mode(case_insensitive: bool) -> CaseMode {
    match case_insensitive {
        true => CaseMode::Insensitive,
        false => CaseMode::Sensitive,
    }
}

fn scalar_number(v: &Scalar) -> Option<f64> {
    match &v.value {
        ScalarValue::Number(n) => n.as_f64(),
        ScalarValue::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        ScalarValue::Bool(_) => None,
    }
}

fn scalar_bool(v: &Scalar) -> Option<bool> {
    match &v.value {
        ScalarValue::Bool(b) => Some(*b),
        ScalarValue::Str(s) if s == "true" => Some(true),
        ScalarValue::Str(s) if s == "false" => Some(false),
        _ => None,
    }
}
