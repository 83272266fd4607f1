//! A rule's `filters`: the filter-bar filters Kibana ANDs with the query of
//! every search it runs for the rule, read into a model the engine applies
//! (`talon-engine`'s `filters.rs` says what each one matches).
//!
//! What Kibana does with them (`buildQueryFromFilters` of `@kbn/es-query`,
//! for every rule type, EQL included, where the result is the search's
//! `filter`, so it holds for every event a sequence considers):
//! - a filter whose `meta.disabled` is truthy (as JavaScript reads it) is
//!   left out;
//! - a filter without `meta.negate` goes in the bool query's `filter`, one
//!   with `negate: true` in its `must_not`; one whose `negate` is any other
//!   value (`"true"`, `null`) goes in neither: Kibana drops it;
//! - the query is the filter's `query` when that is truthy; a legacy filter
//!   has it at the top level (every key but `meta`, `$state` and `query`),
//!   and a legacy `match: {field: {query, type: "phrase"}}` is read as
//!   `match_phrase`;
//! - a `meta.type: "combined"` filter's query is made of the filters in
//!   its `meta.params`: all of them (`relation: "AND"`) or any one of them
//!   (any other relation).
//!
//! The queries read (Elasticsearch's query DSL): `match_all`, `match_none`,
//! `term`, `terms`, `match_phrase`, `match`, `wildcard`, `prefix`,
//! `exists`, `range`, `bool` (`must`, `filter`, `should` with
//! `minimum_should_match`, `must_not`), `constant_score`, and a
//! `query_string` whose query is `*`, `field:*`, `field:value`,
//! `field:"a phrase"` or `field:pat*tern`. A filter holding another query
//! Elasticsearch knows (`geo_distance`, `script`, a `query_string` with
//! `AND`, a date-math bound read at compile time, ...) is not applied: a
//! warning at that query says so, and the rule runs without that filter
//! alone. What Elasticsearch would refuse (an unknown query or parameter,
//! a bound that is a table, two fields in a `term`) is an error at the
//! value, and the rule does not load.
//!
//! This file is the model; `filters/read.rs` reads it from the rule's
//! JSON, and `filters/read/query_string.rs` the few `query_string` queries
//! talon evaluates.

mod read;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use serde_json::Number;

use crate::fields::Step;

pub(crate) use read::read;
pub use read::zone_offset;

const KEY: &str = "filters";

/// A rule's filters, in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filters {
    pub entries: Vec<Filter>,
}

/// One item of `filters`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// 1-based position in `filters`.
    pub number: usize,
    pub state: FilterState,
    /// The item's bytes in the rule file.
    pub span: Range<usize>,
    at: Vec<Step>,
}

/// What becomes of a filter.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterState {
    /// ANDed with the rule's query: an event must match `query` (with
    /// `negate`, must not).
    Applied { negate: bool, query: Query },
    /// `meta.disabled`: left out, as Kibana leaves it out.
    Disabled,
    /// Applied neither way by Kibana (a `negate` that is not true or false,
    /// a null item): left out, with a warning saying why.
    Ignored { why: String },
    /// Applied by Kibana, but holding a query talon does not evaluate: the
    /// rule runs without it, with a warning at that query.
    NotApplied { why: String },
}

/// One query of the DSL, where it is in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub kind: QueryKind,
    /// The query's bytes in the rule file (its body, under its name).
    pub span: Range<usize>,
    at: Vec<Step>,
}

/// The queries talon evaluates.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryKind {
    /// `match_all`, an empty `bool`, `query_string` `*`.
    All,
    /// `match_none`.
    Nothing,
    /// `term`: the value as indexed (not analyzed).
    Term {
        field: String,
        value: Scalar,
        case_insensitive: bool,
    },
    /// `terms`: any of the values, as `term` reads each.
    Terms {
        field: String,
        values: Vec<Scalar>,
    },
    /// `match_phrase`: the value analyzed as the field's type reads it.
    Phrase {
        field: String,
        value: Scalar,
    },
    /// `match` (and `query_string`'s `field:value`): any of the analyzed
    /// words (`all`: every one); `lenient` drops a value the field's type
    /// cannot read instead of failing.
    Match {
        field: String,
        value: Scalar,
        all: bool,
        lenient: bool,
    },
    /// `wildcard`: Lucene syntax (`*`, `?`, `\` escapes).
    Wildcard {
        field: String,
        value: Scalar,
        case_insensitive: bool,
    },
    /// `prefix`: a literal prefix.
    Prefix {
        field: String,
        value: Scalar,
        case_insensitive: bool,
    },
    /// `exists`.
    Exists {
        field: String,
    },
    Range(Box<RangeQuery>),
    /// `bool`: every `must` (and `filter`), at least `minimum_should_match`
    /// of `should`, no `must_not`.
    Bool {
        must: Vec<Query>,
        should: Vec<Query>,
        must_not: Vec<Query>,
        minimum_should_match: usize,
    },
}

/// A `range` query.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeQuery {
    pub field: String,
    pub lower: Option<Bound>,
    pub upper: Option<Bound>,
    /// `format` (dates); `None`: the field's own.
    pub format: Option<DateFormats>,
    /// `time_zone` as an offset from UTC in seconds, for dates written
    /// without one.
    pub time_zone: Option<i32>,
}

/// One end of a range.
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    pub value: Scalar,
    pub inclusive: bool,
}

/// The date formats a range (or a mapping) names, of those talon reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateFormats {
    /// `strict_date_optional_time` and its kin (`2024-05-01T10:00:00Z`,
    /// `2024-05`, ...).
    pub iso: bool,
    pub epoch_millis: bool,
    pub epoch_second: bool,
}

impl DateFormats {
    /// Elasticsearch's default for `date` fields:
    /// `strict_date_optional_time||epoch_millis`.
    pub const DEFAULT: DateFormats = DateFormats {
        iso: true,
        epoch_millis: true,
        epoch_second: false,
    };

    /// Reads a `format` (`a||b`); `Err` names the first format talon does
    /// not read.
    pub fn parse(written: &str) -> Result<DateFormats, String> {
        let mut f = DateFormats::default();
        for part in written.split("||") {
            match part.trim() {
                "strict_date_optional_time"
                | "date_optional_time"
                | "strict_date_optional_time_nanos"
                | "strict_date_time"
                | "date_time"
                | "strict_date_time_no_millis"
                | "date_time_no_millis"
                | "strict_date"
                | "date"
                | "strict_date_hour_minute_second"
                | "strict_date_hour_minute_second_millis"
                | "strict_date_hour_minute_second_fraction"
                | "yyyy-MM-dd" => f.iso = true,
                "epoch_millis" => f.epoch_millis = true,
                "epoch_second" => f.epoch_second = true,
                other => return Err(other.to_string()),
            }
        }
        Ok(f)
    }
}

/// A value written in a query (a string, number or boolean), and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub value: ScalarValue,
    /// The value's bytes in the rule file.
    pub span: Range<usize>,
    at: Vec<Step>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScalarValue {
    Str(String),
    Number(Number),
    Bool(bool),
}

impl Scalar {
    /// The value as text (a number or boolean as its JSON text).
    pub fn text(&self) -> Cow<'_, str> {
        match &self.value {
            ScalarValue::Str(s) => Cow::Borrowed(s),
            ScalarValue::Number(n) => Cow::Owned(n.to_string()),
            ScalarValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        }
    }
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The filters talon applies: each with `negate` and its query.
    pub fn applied(&self) -> impl Iterator<Item = (&Filter, bool, &Query)> {
        self.entries.iter().filter_map(|f| match &f.state {
            FilterState::Applied { negate, query } => Some((f, *negate, query)),
            _ => None,
        })
    }

    /// Sets every span from the steps that lead to it in the file.
    pub(crate) fn place(&mut self, span_of: &dyn Fn(&[Step]) -> Range<usize>) {
        for f in &mut self.entries {
            f.span = span_of(&f.at);
            if let FilterState::Applied { query, .. } = &mut f.state {
                query.place(span_of);
            }
        }
    }
}

impl Query {
    fn new(kind: QueryKind, at: &[Step]) -> Query {
        Query {
            kind,
            span: 0..0,
            at: at.to_vec(),
        }
    }

    fn place(&mut self, span_of: &dyn Fn(&[Step]) -> Range<usize>) {
        self.span = span_of(&self.at);
        let place_all = |qs: &mut Vec<Query>| qs.iter_mut().for_each(|q| q.place(span_of));
        match &mut self.kind {
            QueryKind::All | QueryKind::Nothing | QueryKind::Exists { .. } => {}
            QueryKind::Term { value, .. }
            | QueryKind::Phrase { value, .. }
            | QueryKind::Match { value, .. }
            | QueryKind::Wildcard { value, .. }
            | QueryKind::Prefix { value, .. } => value.place(span_of),
            QueryKind::Terms { values, .. } => values.iter_mut().for_each(|v| v.place(span_of)),
            QueryKind::Range(r) => {
                for b in [&mut r.lower, &mut r.upper].into_iter().flatten() {
                    b.value.place(span_of);
                }
            }
            QueryKind::Bool {
                must,
                should,
                must_not,
                ..
            } => {
                place_all(must);
                place_all(should);
                place_all(must_not);
            }
        }
    }

    /// Every field the query reads, as written.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &self.kind {
            QueryKind::All | QueryKind::Nothing => {}
            QueryKind::Term { field, .. }
            | QueryKind::Terms { field, .. }
            | QueryKind::Phrase { field, .. }
            | QueryKind::Match { field, .. }
            | QueryKind::Wildcard { field, .. }
            | QueryKind::Prefix { field, .. }
            | QueryKind::Exists { field } => out.push(field),
            QueryKind::Range(r) => out.push(&r.field),
            QueryKind::Bool {
                must,
                should,
                must_not,
                ..
            } => {
                for q in must.iter().chain(should).chain(must_not) {
                    q.collect_fields(out);
                }
            }
        }
    }
}

impl Scalar {
    fn new(value: ScalarValue, at: &[Step]) -> Scalar {
        Scalar {
            value,
            span: 0..0,
            at: at.to_vec(),
        }
    }

    fn place(&mut self, span_of: &dyn Fn(&[Step]) -> Range<usize>) {
        self.span = span_of(&self.at);
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            // As written (a Lucene `\\` stays two characters), quoted;
            // control characters escaped for the terminal.
            ScalarValue::Str(s) => write!(f, "\"{}\"", talon_event::terminal::escape_controls(s)),
            ScalarValue::Number(n) => write!(f, "{n}"),
            ScalarValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Query {
    /// A line for `talon rule show`: `process.name: "bash"`,
    /// `process.pid >= 10`, `(a AND NOT b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let any_case = |ci: &bool| if *ci { " (any case)" } else { "" };
        match &self.kind {
            QueryKind::All => f.write_str("every event"),
            QueryKind::Nothing => f.write_str("no event"),
            QueryKind::Term {
                field,
                value,
                case_insensitive,
            } => write!(f, "{field} is {value}{}", any_case(case_insensitive)),
            QueryKind::Terms { field, values } => {
                let vs: Vec<String> = values.iter().map(Scalar::to_string).collect();
                write!(f, "{field} is one of {}", vs.join(", "))
            }
            QueryKind::Phrase { field, value } => write!(f, "{field}: {value}"),
            QueryKind::Match {
                field, value, all, ..
            } => write!(
                f,
                "{field} matches {value}{}",
                if *all { " (every word)" } else { "" }
            ),
            QueryKind::Wildcard {
                field,
                value,
                case_insensitive,
            } => write!(f, "{field} like {value}{}", any_case(case_insensitive)),
            QueryKind::Prefix {
                field,
                value,
                case_insensitive,
            } => write!(
                f,
                "{field} starts with {value}{}",
                any_case(case_insensitive)
            ),
            QueryKind::Exists { field } => write!(f, "{field} exists"),
            QueryKind::Range(r) => {
                let mut parts = Vec::new();
                if let Some(b) = &r.lower {
                    parts.push(format!(
                        "{} {}",
                        if b.inclusive { ">=" } else { ">" },
                        b.value
                    ));
                }
                if let Some(b) = &r.upper {
                    parts.push(format!(
                        "{} {}",
                        if b.inclusive { "<=" } else { "<" },
                        b.value
                    ));
                }
                match parts.is_empty() {
                    true => write!(f, "{} has a value", r.field),
                    false => write!(f, "{} {}", r.field, parts.join(" and ")),
                }
            }
            QueryKind::Bool {
                must,
                should,
                must_not,
                minimum_should_match,
            } => {
                let mut parts: Vec<String> = must.iter().map(Query::to_string).collect();
                parts.extend(must_not.iter().map(|q| format!("NOT {q}")));
                if *minimum_should_match > 0 || (must.is_empty() && must_not.is_empty()) {
                    let alts: Vec<String> = should.iter().map(Query::to_string).collect();
                    match minimum_should_match {
                        0 | 1 if alts.len() == 1 => parts.push(alts[0].clone()),
                        0 | 1 if !alts.is_empty() => parts.push(format!("({})", alts.join(" OR "))),
                        0 | 1 => {}
                        n => parts.push(format!("at least {n} of ({})", alts.join(", "))),
                    }
                }
                match parts.len() {
                    0 => f.write_str("every event"),
                    1 => f.write_str(&parts[0]),
                    _ => write!(f, "({})", parts.join(" AND ")),
                }
            }
        }
    }
}
