//! Reading a rule's `filters` as Kibana reads them (`meta`, legacy
//! shapes, combined filters) and their queries as Elasticsearch's query DSL
//! reads them, into the model of `filters.rs`, each place kept as the steps
//! that lead to it in the file.

mod query_string;

use serde_json::{Map, Value};

use super::{
    Bound, DateFormats, Filter, FilterState, Filters, Query, QueryKind, RangeQuery, Scalar,
    ScalarValue, KEY,
};
use crate::fields::{type_name, FieldError, Step};
use query_string::query_string;

/// What reading `filters` gave: the model, the errors (the rule does not
/// load), and the notes (warnings: filters not applied or ignored).
pub(crate) struct Read {
    pub filters: Filters,
    pub errors: Vec<FieldError>,
    pub notes: Vec<FieldError>,
}

/// Why a query cannot be used: an error Elasticsearch would raise too, or
/// a query talon does not evaluate (the filter is not applied).
enum Problem {
    Error(FieldError),
    NotApplied { why: String, at: Vec<Step> },
}

type Parsed<T> = Result<T, Problem>;

fn error<T>(at: &[Step], message: impl Into<String>) -> Parsed<T> {
    Err(Problem::Error(
        FieldError::invalid(KEY, message).at(at.to_vec()),
    ))
}

fn not_applied<T>(at: &[Step], why: impl Into<String>) -> Parsed<T> {
    Err(Problem::NotApplied {
        why: why.into(),
        at: at.to_vec(),
    })
}

fn step(at: &[Step], s: Step) -> Vec<Step> {
    let mut v = at.to_vec();
    v.push(s);
    v
}

fn key(at: &[Step], k: &str) -> Vec<Step> {
    step(at, Step::Key(k.to_string()))
}

fn item(at: &[Step], i: usize) -> Vec<Step> {
    step(at, Step::Item(i))
}

/// Reads the rule's `filters` (absent or null: none).
pub(crate) fn read(map: &Map<String, Value>) -> Read {
    let mut out = Read {
        filters: Filters::default(),
        errors: Vec::new(),
        notes: Vec::new(),
    };
    let items = match map.get(KEY) {
        None | Some(Value::Null) => return out,
        Some(Value::Array(items)) => items,
        Some(v) => {
            out.errors.push(FieldError::invalid(
                KEY,
                format!(
                    "`filters` must be a list of filters (tables), found {}",
                    type_name(v)
                ),
            ));
            return out;
        }
    };
    for (i, v) in items.iter().enumerate() {
        let number = i + 1;
        let at = vec![Step::Item(i)];
        let state = match filter_state(v, &at) {
            Ok(state) => state,
            Err(Problem::Error(e)) => {
                let mut e = e;
                e.message = format!("filter {number}: {}", e.message);
                out.errors.push(e);
                continue;
            }
            Err(Problem::NotApplied { why, at: place }) => {
                out.notes.push(
                    FieldError::invalid(
                        KEY,
                        format!(
                            "filter {number} is accepted but not applied: {why}; talon alerts \
                             without it, on more events than Kibana"
                        ),
                    )
                    .at(place),
                );
                FilterState::NotApplied { why }
            }
        };
        if let FilterState::Ignored { why } = &state {
            out.notes.push(
                FieldError::invalid(KEY, format!("filter {number} is not applied: {why}"))
                    .at(at.clone()),
            );
        }
        // `disabled = "false"` disables, as JavaScript reads it: said, as
        // it may not be what was meant.
        let disabled = v.get("meta").and_then(|m| m.get("disabled"));
        if let (FilterState::Disabled, Some(d)) = (&state, disabled) {
            if !d.is_boolean() {
                let place = key(&key(&at, "meta"), "disabled");
                out.notes.push(
                    FieldError::invalid(
                        KEY,
                        format!(
                            "filter {number} is not applied: its `meta.disabled` is {}, not \
                             true or false, and Kibana reads it as true",
                            type_name(d)
                        ),
                    )
                    .at(place),
                );
            }
        }
        out.filters.entries.push(Filter {
            number,
            state,
            span: 0..0,
            at,
        });
    }
    out
}

/// JavaScript's truthiness, which Kibana's `meta.disabled` and `query`
/// checks use.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// What becomes of one filter (an item of `filters`, or of a combined
/// filter's `meta.params`) at `at`.
fn filter_state(v: &Value, at: &[Step]) -> Parsed<FilterState> {
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => {
            return Ok(FilterState::Ignored {
                why: "it is null, which Kibana skips".to_string(),
            })
        }
        other => {
            return error(
                at,
                format!(
                    "a filter must be a table (`meta` and `query`), found {}",
                    type_name(other)
                ),
            )
        }
    };
    let meta = match obj.get("meta") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            return error(
                &key(at, "meta"),
                format!("`meta` must be a table, found {}", type_name(other)),
            )
        }
    };
    if meta.and_then(|m| m.get("disabled")).is_some_and(truthy) {
        return Ok(FilterState::Disabled);
    }
    let negate = match meta.and_then(|m| m.get("negate")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Ok(FilterState::Ignored {
                why: format!(
                    "its `meta.negate` is {}, not true or false, and Kibana applies such a \
                     filter neither as it is nor negated",
                    type_name(other)
                ),
            })
        }
    };
    if meta.and_then(|m| m.get("type")).and_then(Value::as_str) == Some("combined") {
        let query = combined(meta.unwrap_or(&Map::new()), at)?;
        return Ok(FilterState::Applied { negate, query });
    }
    let query = filter_query(obj, at)?;
    Ok(FilterState::Applied { negate, query })
}

/// The query of a filter that is not combined: its legacy `match` phrase,
/// its `query`, or its legacy top-level query.
fn filter_query(obj: &Map<String, Value>, at: &[Step]) -> Parsed<Query> {
    // Kibana's `migrateFilter`: `match: {field: {query, type: "phrase"}}`,
    // at the top or under `query`, is a `match_phrase` without `type`.
    let legacy_match = match obj.get("match") {
        Some(m) => Some((m, key(at, "match"))),
        None => obj
            .get("query")
            .and_then(|q| q.get("match"))
            .map(|m| (m, key(&key(at, "query"), "match"))),
    };
    if let Some((Value::Object(m), m_at)) = legacy_match {
        if let Some((field, Value::Object(params))) = m.iter().next() {
            if params.get("type").and_then(Value::as_str) == Some("phrase") {
                let mut params = params.clone();
                params.remove("type");
                let body = Map::from_iter([(field.clone(), Value::Object(params))]);
                return phrase(&body, &m_at, "match");
            }
        }
    }
    if let Some(q) = obj.get("query").filter(|q| truthy(q)) {
        return container(q, &key(at, "query"));
    }
    // A legacy filter: every key but `meta`, `$state` and `query` is moved
    // under the query, which must then hold exactly one.
    let legacy: Vec<(&String, &Value)> = obj
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "meta" | "$state" | "query"))
        .collect();
    match legacy.as_slice() {
        [] => error(
            at,
            "the filter has no query (neither `query` nor a query such as `exists` beside \
             `meta`); Elasticsearch refuses an empty one",
        ),
        [(name, body)] => named(name, body, &key(at, name)),
        [_, (second, _), ..] => error(
            &key(at, second),
            format!(
                "the filter has more than one query beside `meta` (`{second}` is the second); \
                 Elasticsearch reads one query per table"
            ),
        ),
    }
}

/// A combined filter's query, from its `meta.params` and `meta.relation`.
fn combined(meta: &Map<String, Value>, at: &[Step]) -> Parsed<Query> {
    let meta_at = key(at, "meta");
    let params_at = key(&meta_at, "params");
    let Some(Value::Array(params)) = meta.get("params") else {
        return error(
            &meta_at,
            "a combined filter (`meta.type = \"combined\"`) needs `meta.params`, a list of filters",
        );
    };
    let and = meta.get("relation").and_then(Value::as_str) == Some("AND");
    let mut must = Vec::new();
    let mut must_not = Vec::new();
    let mut should = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let p_at = item(&params_at, i);
        let state = filter_state(p, &p_at)?;
        // What `buildQueryFromFilters` gives for this one filter alone.
        let one = match state {
            FilterState::Applied { negate, query } => Some((negate, query)),
            FilterState::Disabled | FilterState::Ignored { .. } => None,
            FilterState::NotApplied { why } => return not_applied(&p_at, why),
        };
        if and {
            match one {
                Some((false, q)) => must.push(q),
                Some((true, q)) => must_not.push(q),
                None => {}
            }
        } else {
            let kind = match one {
                Some((false, q)) => QueryKind::Bool {
                    must: vec![q],
                    should: Vec::new(),
                    must_not: Vec::new(),
                    minimum_should_match: 0,
                },
                Some((true, q)) => QueryKind::Bool {
                    must: Vec::new(),
                    should: Vec::new(),
                    must_not: vec![q],
                    minimum_should_match: 0,
                },
                // An empty bool query: every event.
                None => QueryKind::All,
            };
            should.push(Query::new(kind, &p_at));
        }
    }
    let minimum_should_match = usize::from(!and);
    Ok(Query::new(
        QueryKind::Bool {
            must,
            should,
            must_not,
            minimum_should_match,
        },
        &params_at,
    ))
}

/// A query container: a table with one key, the query's name.
fn container(v: &Value, at: &[Step]) -> Parsed<Query> {
    let Value::Object(obj) = v else {
        return error(
            at,
            format!(
                "a query must be a table holding one query (`match_phrase`, `range`, ...), \
                 found {}",
                type_name(v)
            ),
        );
    };
    let mut it = obj.iter();
    match (it.next(), it.next()) {
        (None, _) => error(
            at,
            "an empty query: Elasticsearch refuses `{}` (write `match_all` for every event)",
        ),
        (Some((name, body)), None) => named(name, body, &key(at, name)),
        (Some(_), Some((second, _))) => error(
            &key(at, second),
            format!(
                "a query table holds one query; `{second}` is a second one (put several in a \
                 `bool`)"
            ),
        ),
    }
}

/// Queries Elasticsearch knows that talon does not evaluate: a filter
/// holding one is not applied.
const OTHER_QUERIES: &[&str] = &[
    "boosting",
    "combined_fields",
    "dis_max",
    "distance_feature",
    "function_score",
    "fuzzy",
    "geo_bounding_box",
    "geo_distance",
    "geo_grid",
    "geo_polygon",
    "geo_shape",
    "has_child",
    "has_parent",
    "ids",
    "intervals",
    "knn",
    "match_bool_prefix",
    "match_phrase_prefix",
    "more_like_this",
    "multi_match",
    "nested",
    "parent_id",
    "percolate",
    "pinned",
    "rank_feature",
    "regexp",
    "rule",
    "script",
    "script_score",
    "semantic",
    "shape",
    "simple_query_string",
    "span_containing",
    "span_field_masking",
    "span_first",
    "span_multi",
    "span_near",
    "span_not",
    "span_or",
    "span_term",
    "span_within",
    "sparse_vector",
    "terms_set",
    "text_expansion",
    "weighted_tokens",
    "wrapper",
];

/// The queries talon evaluates.
const QUERY_NAMES: &[&str] = &[
    "match_phrase",
    "match",
    "term",
    "terms",
    "wildcard",
    "prefix",
    "exists",
    "range",
    "bool",
    "match_all",
    "match_none",
    "constant_score",
    "query_string",
];

/// The queries talon evaluates, for messages.
const QUERIES: &str = "match_phrase, match, term, terms, wildcard, prefix, exists, range, bool, \
                       match_all, match_none, constant_score or query_string";

/// The query `name` with body `body` at `at` (the body's place).
fn named(name: &str, body: &Value, at: &[Step]) -> Parsed<Query> {
    match name {
        "match_all" | "match_none" => {
            let obj = object(body, at, name)?;
            allowed(obj, at, name, &["boost", "_name"])?;
            let kind = match name {
                "match_all" => QueryKind::All,
                _ => QueryKind::Nothing,
            };
            Ok(Query::new(kind, at))
        }
        "term" => term(body, at),
        "terms" => terms(body, at),
        "match_phrase" => phrase(object(body, at, name)?, at, name),
        "match" => match_query(body, at),
        "wildcard" | "prefix" => pattern(name, body, at),
        "exists" => exists(body, at),
        "range" => range(body, at),
        "bool" => bool_query(body, at),
        "constant_score" => {
            let obj = object(body, at, name)?;
            allowed(obj, at, name, &["filter", "boost", "_name"])?;
            match obj.get("filter") {
                Some(f) => container(f, &key(at, "filter")),
                None => error(at, "`constant_score` needs a `filter`"),
            }
        }
        "query_string" => query_string(body, at),
        other if OTHER_QUERIES.contains(&other) => not_applied(
            at,
            format!("talon does not evaluate `{other}` queries (it reads {QUERIES})"),
        ),
        other => {
            let known: Vec<&str> = QUERY_NAMES.iter().chain(OTHER_QUERIES).copied().collect();
            let message = match crate::toml::nearest(other, &known) {
                Some(near) => format!(
                    "unknown query `{other}` (did you mean `{near}`?): Elasticsearch refuses it"
                ),
                None => format!(
                    "unknown query `{other}`: Elasticsearch refuses it (talon reads {QUERIES})"
                ),
            };
            error(at, message)
        }
    }
}

fn object<'a>(v: &'a Value, at: &[Step], name: &str) -> Parsed<&'a Map<String, Value>> {
    match v {
        Value::Object(o) => Ok(o),
        other => error(
            at,
            format!("`{name}` must be a table, found {}", type_name(other)),
        ),
    }
}

/// Every key of `obj` is one of `keys` (Elasticsearch refuses others).
fn allowed(obj: &Map<String, Value>, at: &[Step], name: &str, keys: &[&str]) -> Parsed<()> {
    for k in obj.keys() {
        if !keys.contains(&k.as_str()) {
            let message = match crate::toml::nearest(k, keys) {
                Some(near) => format!("`{name}` has no parameter `{k}` (did you mean `{near}`?)"),
                None => format!(
                    "`{name}` has no parameter `{k}` (it takes {})",
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return error(&key(at, k), message);
        }
    }
    Ok(())
}

/// A scalar value (string, number, boolean) at `at`.
fn scalar(v: &Value, at: &[Step], what: &str) -> Parsed<Scalar> {
    let value = match v {
        Value::String(s) => ScalarValue::Str(s.clone()),
        Value::Number(n) => ScalarValue::Number(n.clone()),
        Value::Bool(b) => ScalarValue::Bool(*b),
        other => {
            return error(
                at,
                format!(
                    "{what} must be a string, a number or true/false, found {}",
                    type_name(other)
                ),
            )
        }
    };
    Ok(Scalar::new(value, at))
}

fn boolean(v: &Value, at: &[Step], what: &str) -> Parsed<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
        other => error(
            at,
            format!("`{what}` must be true or false, found {}", type_name(other)),
        ),
    }
}

/// The one field a single-field query's object names, with its value,
/// checked as a field name; keys in `beside` (`boost`, `_name`) are
/// parameters of the query, not fields.
fn the_field<'a>(
    obj: &'a Map<String, Value>,
    at: &[Step],
    name: &str,
    beside: &[&str],
) -> Parsed<(&'a String, &'a Value)> {
    let mut fields = obj.iter().filter(|(k, _)| !beside.contains(&k.as_str()));
    let (field, v) = match (fields.next(), fields.next()) {
        (None, _) => return error(at, format!("`{name}` names no field")),
        (Some(f), None) => f,
        (Some((a, _)), Some((b, _))) => {
            return error(
                &key(at, b),
                format!(
                    "`{name}` takes one field, found `{a}` and `{b}` (put several in a `bool`)"
                ),
            )
        }
    };
    check_field(field, at)?;
    Ok((field, v))
}

/// A one-field query's body: `{field: value}` or `{field: {main: value,
/// params...}}`. Returns the field, its value (`main`) and the params
/// table (empty for the short form) with its place.
struct OneField<'a> {
    field: String,
    value: Scalar,
    params: Option<&'a Map<String, Value>>,
    params_at: Vec<Step>,
}

fn one_field<'a>(
    body: &'a Value,
    at: &[Step],
    name: &str,
    main: &[&str],
    params: &[&str],
) -> Parsed<OneField<'a>> {
    let obj = object(body, at, name)?;
    let (field, v) = the_field(obj, at, name, &[])?;
    let field_at = key(at, field);
    match v {
        Value::Object(p) => {
            allowed(p, &field_at, name, params)?;
            let Some((main_key, value)) = main.iter().find_map(|m| p.get(*m).map(|v| (*m, v)))
            else {
                return error(
                    &field_at,
                    format!("`{name}` on `{field}` has no `{}`", main[0]),
                );
            };
            let value = scalar(
                value,
                &key(&field_at, main_key),
                &format!("the value of `{name}`"),
            )?;
            Ok(OneField {
                field: field.clone(),
                value,
                params: Some(p),
                params_at: field_at,
            })
        }
        Value::Null => error(
            &field_at,
            format!("`{name}` on `{field}` has a null value: Elasticsearch refuses it"),
        ),
        v => Ok(OneField {
            field: field.clone(),
            value: scalar(v, &field_at, &format!("the value of `{name}`"))?,
            params: None,
            params_at: field_at,
        }),
    }
}

fn check_field(field: &str, at: &[Step]) -> Parsed<()> {
    if field.trim().is_empty() {
        return error(at, "a query's field name is empty");
    }
    if field.contains('*') {
        return not_applied(
            at,
            format!("talon does not expand the field pattern `{field}`"),
        );
    }
    Ok(())
}

/// A boolean parameter of a one-field query, false when absent.
fn flag(f: &OneField<'_>, name: &str) -> Parsed<bool> {
    match f.params.and_then(|p| p.get(name)) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => boolean(v, &key(&f.params_at, name), name),
    }
}

fn term(body: &Value, at: &[Step]) -> Parsed<Query> {
    let f = one_field(
        body,
        at,
        "term",
        &["value"],
        &["value", "case_insensitive", "boost", "_name"],
    )?;
    let case_insensitive = flag(&f, "case_insensitive")?;
    Ok(Query::new(
        QueryKind::Term {
            field: f.field,
            value: f.value,
            case_insensitive,
        },
        at,
    ))
}

fn terms(body: &Value, at: &[Step]) -> Parsed<Query> {
    let obj = object(body, at, "terms")?;
    let (field, v) = the_field(obj, at, "terms", &["boost", "_name"])?;
    let field_at = key(at, field);
    let values = match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| scalar(x, &item(&field_at, i), "a `terms` value"))
            .collect::<Parsed<Vec<_>>>()?,
        Value::Object(_) => {
            return not_applied(
                &field_at,
                "talon does not look terms up in another index (a terms lookup)",
            )
        }
        other => {
            return error(
                &field_at,
                format!(
                    "`terms` on `{field}` needs a list of values, found {}",
                    type_name(other)
                ),
            )
        }
    };
    Ok(Query::new(
        QueryKind::Terms {
            field: field.clone(),
            values,
        },
        at,
    ))
}

/// `zero_terms_query`: only `none` (the default) is read.
fn zero_terms(f: &OneField<'_>, name: &str) -> Parsed<()> {
    match f.params.and_then(|p| p.get("zero_terms_query")) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("none") => Ok(()),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("all") => not_applied(
            &key(&f.params_at, "zero_terms_query"),
            format!("talon does not read `zero_terms_query: all` in `{name}`"),
        ),
        Some(other) => error(
            &key(&f.params_at, "zero_terms_query"),
            format!(
                "`zero_terms_query` must be `none` or `all`, found {}",
                type_name(other)
            ),
        ),
    }
}

/// `analyzer`: a named analyzer talon does not have.
fn no_analyzer(f: &OneField<'_>, name: &str) -> Parsed<()> {
    match f.params.and_then(|p| p.get("analyzer")) {
        None | Some(Value::Null) => Ok(()),
        Some(_) => not_applied(
            &key(&f.params_at, "analyzer"),
            format!("talon does not read a named `analyzer` in `{name}`"),
        ),
    }
}

fn phrase(body: &Map<String, Value>, at: &[Step], name: &str) -> Parsed<Query> {
    let body_value = Value::Object(body.clone());
    let f = one_field(
        &body_value,
        at,
        "match_phrase",
        &["query"],
        &[
            "query",
            "slop",
            "analyzer",
            "zero_terms_query",
            "boost",
            "_name",
        ],
    )
    .map_err(|p| match p {
        // A legacy `match` phrase is reported under its own name.
        Problem::Error(mut e) if name != "match_phrase" => {
            e.message = e.message.replace("`match_phrase`", "`match` (type phrase)");
            Problem::Error(e)
        }
        p => p,
    })?;
    zero_terms(&f, "match_phrase")?;
    no_analyzer(&f, "match_phrase")?;
    match f.params.and_then(|p| p.get("slop")) {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64() == Some(0) => {}
        Some(Value::Number(n)) if n.as_u64().is_some() => {
            return not_applied(
                &key(&f.params_at, "slop"),
                "talon does not read a phrase `slop` other than 0",
            )
        }
        Some(other) => {
            return error(
                &key(&f.params_at, "slop"),
                format!("`slop` must be a whole number, found {}", type_name(other)),
            )
        }
    }
    Ok(Query::new(
        QueryKind::Phrase {
            field: f.field,
            value: f.value,
        },
        at,
    ))
}

fn match_query(body: &Value, at: &[Step]) -> Parsed<Query> {
    const UNREAD: &[&str] = &[
        "fuzziness",
        "prefix_length",
        "max_expansions",
        "fuzzy_transpositions",
        "fuzzy_rewrite",
        "minimum_should_match",
        "cutoff_frequency",
    ];
    let f = one_field(
        body,
        at,
        "match",
        &["query"],
        &[
            "query",
            "operator",
            "lenient",
            "zero_terms_query",
            "analyzer",
            "auto_generate_synonyms_phrase_query",
            "boost",
            "_name",
            "fuzziness",
            "prefix_length",
            "max_expansions",
            "fuzzy_transpositions",
            "fuzzy_rewrite",
            "minimum_should_match",
            "cutoff_frequency",
        ],
    )?;
    zero_terms(&f, "match")?;
    no_analyzer(&f, "match")?;
    if let Some(p) = f.params {
        if let Some(k) = UNREAD
            .iter()
            .find(|k| p.get(**k).is_some_and(|v| !v.is_null()))
        {
            return not_applied(
                &key(&f.params_at, k),
                format!("talon does not read `{k}` in `match`"),
            );
        }
    }
    let all = match f.params.and_then(|p| p.get("operator")) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("or") => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("and") => true,
        Some(other) => {
            return error(
                &key(&f.params_at, "operator"),
                format!(
                    "`operator` must be `or` or `and`, found {}",
                    match other {
                        Value::String(s) => format!("`{s}`"),
                        v => type_name(v).to_string(),
                    }
                ),
            )
        }
    };
    let lenient = flag(&f, "lenient")?;
    Ok(Query::new(
        QueryKind::Match {
            field: f.field,
            value: f.value,
            all,
            lenient,
        },
        at,
    ))
}

fn pattern(name: &str, body: &Value, at: &[Step]) -> Parsed<Query> {
    let (main, params): (&[&str], &[&str]) = match name {
        "wildcard" => (
            &["value", "wildcard"],
            &[
                "value",
                "wildcard",
                "case_insensitive",
                "rewrite",
                "boost",
                "_name",
            ],
        ),
        _ => (
            &["value"],
            &["value", "case_insensitive", "rewrite", "boost", "_name"],
        ),
    };
    let f = one_field(body, at, name, main, params)?;
    let case_insensitive = flag(&f, "case_insensitive")?;
    let kind = match name {
        "wildcard" => QueryKind::Wildcard {
            field: f.field,
            value: f.value,
            case_insensitive,
        },
        _ => QueryKind::Prefix {
            field: f.field,
            value: f.value,
            case_insensitive,
        },
    };
    Ok(Query::new(kind, at))
}

fn exists(body: &Value, at: &[Step]) -> Parsed<Query> {
    let obj = object(body, at, "exists")?;
    allowed(obj, at, "exists", &["field", "boost", "_name"])?;
    let field = match obj.get("field") {
        Some(Value::String(f)) => f,
        Some(other) => {
            return error(
                &key(at, "field"),
                format!("`exists` needs a `field` name, found {}", type_name(other)),
            )
        }
        None => return error(at, "`exists` needs a `field`"),
    };
    check_field(field, &key(at, "field"))?;
    Ok(Query::new(
        QueryKind::Exists {
            field: field.clone(),
        },
        at,
    ))
}

fn range(body: &Value, at: &[Step]) -> Parsed<Query> {
    let obj = object(body, at, "range")?;
    let (field, v) = the_field(obj, at, "range", &["boost", "_name"])?;
    let field_at = key(at, field);
    let params = match v {
        Value::Object(p) => p,
        other => {
            return error(
                &field_at,
                format!(
                    "`range` on `{field}` needs a table of bounds (`gte`, `lt`, ...), found {}",
                    type_name(other)
                ),
            )
        }
    };
    allowed(
        params,
        &field_at,
        "range",
        &[
            "gt",
            "gte",
            "lt",
            "lte",
            "from",
            "to",
            "include_lower",
            "include_upper",
            "format",
            "time_zone",
            "relation",
            "boost",
            "_name",
        ],
    )?;
    // Read in order, as Elasticsearch does: a later bound replaces an
    // earlier one; a null bound is no bound.
    let mut lower: Option<Scalar> = None;
    let mut upper: Option<Scalar> = None;
    let (mut include_lower, mut include_upper) = (true, true);
    let mut format = None;
    let mut time_zone = None;
    for (k, v) in params {
        let k_at = key(&field_at, k);
        let bound = |v: &Value| -> Parsed<Option<Scalar>> {
            match v {
                Value::Null => Ok(None),
                Value::Object(_) | Value::Array(_) => error(
                    &k_at,
                    format!(
                        "a `range` bound must be a number, a string or true/false, found {}",
                        type_name(v)
                    ),
                ),
                v => scalar(v, &k_at, "a `range` bound").map(Some),
            }
        };
        match k.as_str() {
            "gt" | "gte" => {
                lower = bound(v)?;
                include_lower = k == "gte";
            }
            "lt" | "lte" => {
                upper = bound(v)?;
                include_upper = k == "lte";
            }
            "from" => lower = bound(v)?,
            "to" => upper = bound(v)?,
            "include_lower" => include_lower = boolean(v, &k_at, k)?,
            "include_upper" => include_upper = boolean(v, &k_at, k)?,
            "format" => match v {
                Value::Null => {}
                Value::String(s) => match DateFormats::parse(s) {
                    Ok(f) => format = Some(f),
                    Err(unread) => {
                        return not_applied(
                            &k_at,
                            format!("talon does not read the date format `{unread}`"),
                        )
                    }
                },
                other => {
                    return error(
                        &k_at,
                        format!("`format` must be a string, found {}", type_name(other)),
                    )
                }
            },
            "time_zone" => match v {
                Value::Null => {}
                Value::String(s) => match zone_offset(s) {
                    Some(o) => time_zone = Some(o),
                    None => {
                        return not_applied(
                            &k_at,
                            format!(
                                "talon reads a `time_zone` written as an offset (`+01:00`) or \
                                 UTC, not `{s}`"
                            ),
                        )
                    }
                },
                other => {
                    return error(
                        &k_at,
                        format!("`time_zone` must be a string, found {}", type_name(other)),
                    )
                }
            },
            "relation" => match v {
                Value::String(s) if s.eq_ignore_ascii_case("intersects") => {}
                Value::String(s) => {
                    return not_applied(
                        &k_at,
                        format!("talon does not read the range relation `{s}`"),
                    )
                }
                other => {
                    return error(
                        &k_at,
                        format!("`relation` must be a string, found {}", type_name(other)),
                    )
                }
            },
            _ => {}
        }
    }
    Ok(Query::new(
        QueryKind::Range(Box::new(RangeQuery {
            field: field.clone(),
            lower: lower.map(|value| Bound {
                value,
                inclusive: include_lower,
            }),
            upper: upper.map(|value| Bound {
                value,
                inclusive: include_upper,
            }),
            format,
            time_zone,
        })),
        at,
    ))
}

/// A `time_zone` as seconds east of UTC: `Z`, `UTC`, `GMT`, `Etc/UTC`,
/// `+01:00`, `-0500`, `+01`.
pub fn zone_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if matches!(
        s,
        "Z" | "z" | "UTC" | "utc" | "GMT" | "Etc/UTC" | "Etc/GMT" | "UT" | "+00:00" | "-00:00"
    ) {
        return Some(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
        _ => return None,
    };
    if h > 18 || m > 59 || (s[1..].contains(':') && digits.len() != 4) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn bool_query(body: &Value, at: &[Step]) -> Parsed<Query> {
    let obj = object(body, at, "bool")?;
    allowed(
        obj,
        at,
        "bool",
        &[
            "must",
            "filter",
            "should",
            "must_not",
            "minimum_should_match",
            "boost",
            "_name",
            "adjust_pure_negative",
        ],
    )?;
    let clauses = |k: &str| -> Parsed<Vec<Query>> {
        let k_at = key(at, k);
        match obj.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, q)| container(q, &item(&k_at, i)))
                .collect(),
            Some(q @ Value::Object(_)) => Ok(vec![container(q, &k_at)?]),
            Some(other) => error(
                &k_at,
                format!(
                    "`bool.{k}` must be a query or a list of queries, found {}",
                    type_name(other)
                ),
            ),
        }
    };
    let mut must = clauses("must")?;
    must.extend(clauses("filter")?);
    let should = clauses("should")?;
    let must_not = clauses("must_not")?;
    // With no `must` or `filter`, Lucene wants one `should` at least
    // whatever `minimum_should_match` says (and that is its default).
    let least = usize::from(must.is_empty() && !should.is_empty());
    let minimum_should_match = match obj.get("minimum_should_match") {
        None | Some(Value::Null) => least,
        Some(v) => {
            minimum_should_match(v, should.len(), &key(at, "minimum_should_match"))?.max(least)
        }
    };
    Ok(Query::new(
        QueryKind::Bool {
            must,
            should,
            must_not,
            minimum_should_match,
        },
        at,
    ))
}

/// `minimum_should_match` of `n` should clauses, as Elasticsearch's
/// `Queries.calculateMinShouldMatch` reads it: a whole number (negative:
/// all but that many) or a percentage (`75%`, `-25%`, rounded down).
fn minimum_should_match(v: &Value, n: usize, at: &[Step]) -> Parsed<usize> {
    let spec = match v {
        Value::Number(x) => x.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => {
            return error(
                at,
                format!(
                    "`minimum_should_match` must be a number or a percentage, found {}",
                    type_name(other)
                ),
            )
        }
    };
    let count = n as i64;
    let result = if let Some(p) = spec.strip_suffix('%') {
        let Ok(p) = p.trim().parse::<f32>() else {
            return bad_msm(&spec, at);
        };
        // Java: (int) ((count * percent) * (1 / 100f)), toward zero.
        let calc = ((count as f32 * p) * (1.0 / 100.0)) as i64;
        if calc < 0 {
            count + calc
        } else {
            calc
        }
    } else if spec.contains('<') || spec.contains(' ') {
        return not_applied(
            at,
            format!("talon does not read the conditional `minimum_should_match` `{spec}`"),
        );
    } else {
        let Ok(calc) = spec.parse::<i64>() else {
            return bad_msm(&spec, at);
        };
        if calc < 0 {
            count + calc
        } else {
            calc
        }
    };
    Ok(result.max(0) as usize)
}

fn bad_msm<T>(spec: &str, at: &[Step]) -> Parsed<T> {
    error(
        at,
        format!(
            "`minimum_should_match` `{spec}` is neither a whole number nor a percentage \
             (`2`, `-1`, `75%`)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_one(filter: Value) -> (Option<FilterState>, Vec<String>, Vec<String>) {
        let map = Map::from_iter([(KEY.to_string(), json!([filter]))]);
        let r = read(&map);
        let state = r.filters.entries.first().map(|f| f.state.clone());
        let msgs = |es: Vec<FieldError>| es.into_iter().map(|e| e.message).collect();
        (state, msgs(r.errors), msgs(r.notes))
    }

    fn applied(filter: Value) -> (bool, Query) {
        match read_one(filter) {
            (Some(FilterState::Applied { negate, query }), errors, notes) => {
                assert!(
                    errors.is_empty() && notes.is_empty(),
                    "{errors:?} {notes:?}"
                );
                (negate, query)
            }
            other => panic!("not applied: {other:?}"),
        }
    }

    #[test]
    fn kibana_filter_shapes_read_as_their_queries() {
        let (negate, q) = applied(json!({
            "meta": {"negate": false, "type": "phrase", "key": "host.name"},
            "query": {"match_phrase": {"host.name": "web-01"}}
        }));
        assert!(!negate);
        assert_eq!(q.to_string(), r#"host.name: "web-01""#);
        // Legacy: the query at the top level.
        let (negate, q) = applied(json!({
            "meta": {"negate": true}, "exists": {"field": "user.name"}, "$state": {"store": "appState"}
        }));
        assert!(negate);
        assert_eq!(q.to_string(), "user.name exists");
        // Legacy `match` phrase.
        let (_, q) = applied(json!({
            "query": {"match": {"process.name": {"query": "bash", "type": "phrase"}}}
        }));
        assert_eq!(q.to_string(), r#"process.name: "bash""#);
        // Phrases: a should of phrases.
        let (_, q) = applied(json!({"query": {"bool": {"should": [
            {"match_phrase": {"a": "x"}}, {"match_phrase": {"a": 2}}
        ], "minimum_should_match": 1}}}));
        assert_eq!(q.to_string(), r#"(a: "x" OR a: 2)"#);
        let (_, q) = applied(json!({"range": {"process.pid": {"gte": 10, "lt": "20"}}}));
        assert_eq!(q.to_string(), r#"process.pid >= 10 and < "20""#);
    }

    #[test]
    fn disabled_and_odd_negates_are_left_out_as_kibana_leaves_them() {
        let (state, errors, notes) =
            read_one(json!({"meta": {"disabled": true}, "query": {"bogus": {}}}));
        assert_eq!(state, Some(FilterState::Disabled));
        assert!(errors.is_empty() && notes.is_empty());
        // JavaScript truthiness: a string disables too, even "false",
        // which is said.
        let (state, _, notes) =
            read_one(json!({"meta": {"disabled": "false"}, "query": {"match_all": {}}}));
        assert_eq!(state, Some(FilterState::Disabled));
        assert_eq!(
            notes,
            [
                "filter 1 is not applied: its `meta.disabled` is a string, not true or false, \
              and Kibana reads it as true"
            ]
        );
        let (state, _, notes) =
            read_one(json!({"meta": {"disabled": 0}, "query": {"match_all": {}}}));
        assert!(
            matches!(state, Some(FilterState::Applied { .. })),
            "{state:?}"
        );
        assert!(notes.is_empty());
        let (state, errors, notes) =
            read_one(json!({"meta": {"negate": "true"}, "query": {"match_all": {}}}));
        assert!(
            matches!(state, Some(FilterState::Ignored { .. })),
            "{state:?}"
        );
        assert!(errors.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("`meta.negate` is a string"), "{notes:?}");
    }

    #[test]
    fn unknown_queries_are_errors_and_known_others_are_not_applied() {
        let (state, errors, _) = read_one(json!({"query": {"match_phraze": {"a": "b"}}}));
        assert_eq!(state, None);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0],
            "filter 1: unknown query `match_phraze` (did you mean `match_phrase`?): \
             Elasticsearch refuses it"
        );
        let (_, errors, _) = read_one(json!({"query": {"florb": {}}}));
        assert!(
            errors[0].starts_with(
                "filter 1: unknown query `florb`: Elasticsearch refuses it (talon reads \
                 match_phrase,"
            ),
            "{errors:?}"
        );
        let (_, errors, _) = read_one(json!({"query": {"term": {"a": {"valeu": "x"}}}}));
        assert_eq!(
            errors[0],
            "filter 1: `term` has no parameter `valeu` (did you mean `value`?)"
        );
        let (state, errors, notes) =
            read_one(json!({"query": {"geo_distance": {"distance": "1km", "loc": [0, 0]}}}));
        assert!(matches!(state, Some(FilterState::NotApplied { .. })));
        assert!(errors.is_empty());
        assert!(
            notes[0].starts_with("filter 1 is accepted but not applied"),
            "{notes:?}"
        );
        let (_, errors, _) = read_one(json!({"query": {"range": {"a": {"gte": {"x": 1}}}}}));
        assert!(
            errors[0].contains("a `range` bound must be a number"),
            "{errors:?}"
        );
        let (_, errors, _) = read_one(json!({"query": {"term": {"a": "x", "b": "y"}}}));
        assert!(errors[0].contains("takes one field"), "{errors:?}");
        // `terms` and `range` take `boost` and `_name` beside their field,
        // and say the same as `term` of a second field or of none.
        let (_, errors, _) =
            read_one(json!({"query": {"terms": {"a": ["x"], "boost": 2, "b": ["y"]}}}));
        assert!(
            errors[0]
                .contains("`terms` takes one field, found `a` and `b` (put several in a `bool`)"),
            "{errors:?}"
        );
        let (_, errors, _) = read_one(json!({"query": {"range": {"_name": "n"}}}));
        assert!(errors[0].contains("`range` names no field"), "{errors:?}");
        let (state, errors, _) =
            read_one(json!({"query": {"terms": {"a": ["x"], "boost": 2, "_name": "n"}}}));
        assert!(errors.is_empty() && state.is_some(), "{errors:?}");
        let (_, errors, _) = read_one(json!({"meta": {}}));
        assert!(errors[0].contains("has no query"), "{errors:?}");
    }

    #[test]
    fn minimum_should_match_reads_as_elasticsearch_computes_it() {
        let m = |v: Value, n| minimum_should_match(&v, n, &[]).ok();
        assert_eq!(m(json!(1), 3), Some(1));
        assert_eq!(m(json!("-1"), 3), Some(2));
        assert_eq!(m(json!("75%"), 3), Some(2));
        assert_eq!(m(json!("-25%"), 4), Some(3));
        assert_eq!(m(json!(5), 2), Some(5));
        assert_eq!(m(json!(-5), 2), Some(0));
        assert!(m(json!("2<75%"), 3).is_none());
    }

    #[test]
    fn time_zones_as_offsets() {
        assert_eq!(zone_offset("+01:00"), Some(3600));
        assert_eq!(zone_offset("-0530"), Some(-19800));
        assert_eq!(zone_offset("UTC"), Some(0));
        assert_eq!(zone_offset("Europe/Paris"), None);
    }
}
