//! `query_string` filters, when their query is one talon reads: `*`,
//! `field:*`, `field:value` (a `match`), `field:"a phrase"` or
//! `field:pat*tern`. Anything else (`AND`, ranges, several terms, a term
//! without a field) leaves the filter not applied.

use serde_json::Value;

use super::{allowed, boolean, error, key, not_applied, object, Parsed};
use crate::fields::{type_name, Step};
use crate::filters::{Query, QueryKind, Scalar, ScalarValue};

/// `query_string`, when its query is one talon reads: `*`, `field:*`,
/// `field:value` (a `match`), `field:"a phrase"` or `field:pat*tern`.
pub(super) fn query_string(body: &Value, at: &[Step]) -> Parsed<Query> {
    const PARAMS: &[&str] = &[
        "query",
        "default_field",
        "fields",
        "default_operator",
        "analyze_wildcard",
        "allow_leading_wildcard",
        "analyzer",
        "quote_analyzer",
        "auto_generate_synonyms_phrase_query",
        "boost",
        "_name",
        "enable_position_increments",
        "fuzziness",
        "fuzzy_max_expansions",
        "fuzzy_prefix_length",
        "fuzzy_transpositions",
        "fuzzy_rewrite",
        "lenient",
        "max_determinized_states",
        "minimum_should_match",
        "phrase_slop",
        "quote_field_suffix",
        "rewrite",
        "time_zone",
        "type",
        "tie_breaker",
        "escape",
    ];
    // Parameters that change what a simple query matches.
    const UNREAD: &[&str] = &[
        "analyzer",
        "quote_analyzer",
        "minimum_should_match",
        "quote_field_suffix",
        "phrase_slop",
    ];
    let obj = object(body, at, "query_string")?;
    allowed(obj, at, "query_string", PARAMS)?;
    if let Some(k) = UNREAD
        .iter()
        .find(|k| obj.get(**k).is_some_and(|v| !v.is_null()))
    {
        return not_applied(
            &key(at, k),
            format!("talon does not read `{k}` in `query_string`"),
        );
    }
    let q_at = key(at, "query");
    let text = match obj.get("query") {
        Some(Value::String(s)) => s,
        Some(other) => {
            return error(
                &q_at,
                format!(
                    "`query_string` needs a `query` string, found {}",
                    type_name(other)
                ),
            )
        }
        None => return error(at, "`query_string` needs a `query`"),
    };
    let all = match obj.get("default_operator") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("or") => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("and") => true,
        Some(other) => {
            return error(
                &key(at, "default_operator"),
                format!(
                    "`default_operator` must be `OR` or `AND`, found {}",
                    type_name(other)
                ),
            )
        }
    };
    let lenient = match obj.get("lenient") {
        None | Some(Value::Null) => false,
        Some(v) => boolean(v, &key(at, "lenient"), "lenient")?,
    };
    let Some(simple) = simple_query_string(text) else {
        return not_applied(
            &q_at,
            format!(
                "talon reads a `query_string` of one `field:value` (or `*`), not `{}`",
                text.trim()
            ),
        );
    };
    let value = |s: String| Scalar::new(ScalarValue::Str(s), &q_at);
    let kind = match simple {
        SimpleQuery::All => QueryKind::All,
        SimpleQuery::Exists(field) => QueryKind::Exists { field },
        SimpleQuery::Word(field, w) => QueryKind::Match {
            field,
            value: value(w),
            all,
            lenient,
        },
        SimpleQuery::Phrase(field, p) => QueryKind::Phrase {
            field,
            value: value(p),
        },
        SimpleQuery::Pattern(field, p) => QueryKind::Wildcard {
            field,
            value: value(p),
            case_insensitive: false,
        },
    };
    Ok(Query::new(kind, at))
}

/// The few `query_string` queries talon reads.
#[derive(Debug, PartialEq)]
enum SimpleQuery {
    All,
    Exists(String),
    /// An unquoted value, escapes resolved.
    Word(String, String),
    /// A quoted value, escapes resolved.
    Phrase(String, String),
    /// A value with `*` or `?`, in Lucene wildcard syntax (escapes kept).
    Pattern(String, String),
}

/// Characters Lucene's query syntax reserves: outside quotes and unescaped,
/// they make a query more than one `field:value`.
const RESERVED: &[char] = &[
    '+', '-', '=', '&', '|', '>', '<', '!', '(', ')', '{', '}', '[', ']', '^', '"', '~', ':', '/',
    ' ', '\t', '\n', '\r',
];

fn simple_query_string(text: &str) -> Option<SimpleQuery> {
    let t = text.trim();
    if t == "*" || t == "*:*" {
        return Some(SimpleQuery::All);
    }
    // The field: up to the first unescaped `:`.
    let mut field = String::new();
    let mut chars = t.char_indices();
    let mut rest_at = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => field.push(chars.next()?.1),
            ':' => {
                rest_at = Some(i + 1);
                break;
            }
            c if RESERVED.contains(&c) || c == '*' || c == '?' => return None,
            c => field.push(c),
        }
    }
    let rest = &t[rest_at?..];
    if field.is_empty() || matches!(field.as_str(), "AND" | "OR" | "NOT") {
        return None;
    }
    if rest == "*" {
        return Some(SimpleQuery::Exists(field));
    }
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.chars();
        loop {
            match chars.next()? {
                '\\' => out.push(chars.next()?),
                '"' => break,
                c => out.push(c),
            }
        }
        return chars
            .as_str()
            .is_empty()
            .then_some(SimpleQuery::Phrase(field, out));
    }
    let mut word = String::new();
    let mut wild = false;
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.push(chars.next()?),
            '*' | '?' => {
                wild = true;
                word.push(c);
            }
            c if RESERVED.contains(&c) => return None,
            c => word.push(c),
        }
    }
    if rest.is_empty() || matches!(rest, "AND" | "OR" | "NOT") {
        return None;
    }
    Some(match wild {
        true => SimpleQuery::Pattern(field, rest.to_string()),
        false => SimpleQuery::Word(field, word),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_query_strings() {
        use SimpleQuery::*;
        let s = simple_query_string;
        assert_eq!(s("*"), Some(All));
        assert_eq!(s("user.name:*"), Some(Exists("user.name".into())));
        assert_eq!(
            s("process.name:bash"),
            Some(Word("process.name".into(), "bash".into()))
        );
        assert_eq!(
            s(r#"message:"a b""#),
            Some(Phrase("message".into(), "a b".into()))
        );
        assert_eq!(s(r"path:C\:\\x"), Some(Word("path".into(), r"C:\x".into())));
        assert_eq!(s("name:ba*"), Some(Pattern("name".into(), "ba*".into())));
        assert_eq!(s("a:b AND c:d"), None);
        assert_eq!(s("bash"), None);
        assert_eq!(s("a:[1 TO 2]"), None);
    }
}
