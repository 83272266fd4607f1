//! The exception model, and reading it from Kibana's JSON shapes.
//!
//! An exception list export (`_export` of the exception lists API) is
//! NDJSON: one object per list (`list_id`, `type`, `namespace_type`,
//! `name`), one per item (`item_id`, `list_id`, `namespace_type`, `name`,
//! `entries`, `os_types`), and a summary line. Entries are Kibana's:
//!
//! | `type`     | operator `included` / `excluded`            | value            |
//! |------------|---------------------------------------------|------------------|
//! | `match`    | is / is not                                 | string           |
//! | `match_any`| is one of / is not one of                   | list of strings  |
//! | `wildcard` | matches / does not match                    | Lucene wildcard  |
//! | `exists`   | exists / does not exist                     | –                |
//! | `list`     | is in list / is not in list                 | `list: {id, type}` |
//! | `nested`   | (entries below a nested field)              | `entries`        |

use serde_json::Value as Json;
use talon_event::json_span::Step;
use talon_rules::NAMESPACE_TYPES;

/// `included` (is, is one of, exists, matches, in list) or `excluded`
/// (the negations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Included,
    Excluded,
}

/// One entry of an exception item.
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Match {
        field: String,
        op: Operator,
        value: String,
    },
    MatchAny {
        field: String,
        op: Operator,
        values: Vec<String>,
    },
    Wildcard {
        field: String,
        op: Operator,
        value: String,
    },
    Exists {
        field: String,
        op: Operator,
    },
    List {
        field: String,
        op: Operator,
        list_id: String,
        list_type: String,
    },
    Nested {
        field: String,
        entries: Vec<Entry>,
    },
}

impl Entry {
    pub fn field(&self) -> &str {
        match self {
            Entry::Match { field, .. }
            | Entry::MatchAny { field, .. }
            | Entry::Wildcard { field, .. }
            | Entry::Exists { field, .. }
            | Entry::List { field, .. }
            | Entry::Nested { field, .. } => field,
        }
    }
}

/// One exception item: its entries all hold (AND) for the item to match.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionItem {
    pub item_id: String,
    pub list_id: String,
    pub namespace_type: String,
    pub name: String,
    pub entries: Vec<Entry>,
    /// `windows`, `linux`, `macos`: the item applies only to those hosts.
    pub os_types: Vec<String>,
}

/// An exception list's own object.
#[derive(Clone, Debug, PartialEq)]
pub struct ExceptionListInfo {
    pub list_id: String,
    pub namespace_type: String,
    /// `detection`, `endpoint`, `rule_default`, ...
    pub list_type: String,
    pub name: String,
}

/// Why an exception object or entry was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExceptionError {
    #[error("{origin}: exception item `{item}`: {message}")]
    Entry {
        origin: String,
        item: String,
        message: String,
        /// The value the message is about (an entry's unknown `type` or
        /// `operator`), so that a caller holding the text can point at it.
        value: Option<String>,
        /// Where in the object (the export line, or the `entries` array
        /// given to [`parse_entries`]) the error is: the keys and items
        /// that lead to the value it is about, as deep as it is known.
        at: Vec<Step>,
    },
    #[error("{origin}: {message}")]
    Object {
        origin: String,
        message: String,
        /// The keys that lead to the member the error is about (a list's
        /// `namespace_type`); empty for an error of the whole object.
        at: Vec<Step>,
    },
}

impl ExceptionError {
    /// The message without its origin, for callers that say where it is
    /// themselves (`file:line:column` and a caret).
    pub fn detail(&self) -> String {
        match self {
            ExceptionError::Entry { item, message, .. } => {
                format!("exception item `{item}`: {message}")
            }
            ExceptionError::Object { message, .. } => message.clone(),
        }
    }

    /// The value the error is about, when it names one (see
    /// [`ExceptionError::Entry`]).
    pub fn value(&self) -> Option<&str> {
        match self {
            ExceptionError::Entry { value, .. } => value.as_deref(),
            ExceptionError::Object { .. } => None,
        }
    }
}

impl ExceptionError {
    /// The path of the value the error is about (see
    /// [`ExceptionError::Entry`]); empty for an error of the whole object.
    pub fn at(&self) -> &[Step] {
        match self {
            ExceptionError::Entry { at, .. } | ExceptionError::Object { at, .. } => at,
        }
    }

    /// The same error, `steps` further out (its path led by them); an
    /// error of a whole object stays one.
    fn within(mut self, steps: &[Step]) -> Self {
        match &mut self {
            ExceptionError::Entry { at, .. } => {
                at.splice(0..0, steps.iter().cloned());
            }
            ExceptionError::Object { at, .. } if !at.is_empty() => {
                at.splice(0..0, steps.iter().cloned());
            }
            ExceptionError::Object { .. } => {}
        }
        self
    }
}

fn key(k: &str) -> Step {
    Step::Key(k.to_string())
}

/// What a JSON object of an export is.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportObject {
    List(ExceptionListInfo),
    Item(ExceptionItem),
    /// The `{"exported_exception_list_count": ..}` summary and the like.
    Other,
}

fn str_of<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str)
}

/// The namespace Kibana uses when none is given.
pub const DEFAULT_NAMESPACE: &str = "single";

/// Reads one object of an exception-list export. `origin` names it in
/// errors (`file:line`).
pub fn parse_export_object(v: &Json, origin: &str) -> Result<ExportObject, ExceptionError> {
    let obj_err = |message: String| ExceptionError::Object {
        origin: origin.to_string(),
        message,
        at: Vec::new(),
    };
    if !v.is_object() {
        return Err(obj_err(
            "an exception export line must be a JSON object".to_string(),
        ));
    }
    // A saved-objects export holds lists and items as `{"type":
    // "exception-list", "attributes": {...}}`: the object is its
    // attributes, in the namespace its type names.
    if let (Some(Json::String(t)), Some(Json::Object(attrs))) = (v.get("type"), v.get("attributes"))
    {
        let namespace = match t.as_str() {
            "exception-list" => Some("single"),
            "exception-list-agnostic" => Some("agnostic"),
            _ => None,
        };
        if let Some(namespace) = namespace {
            let mut inner = attrs.clone();
            inner
                .entry("namespace_type")
                .or_insert_with(|| Json::String(namespace.to_string()));
            return parse_export_object(&Json::Object(inner), origin)
                .map_err(|e| e.within(&[key("attributes")]));
        }
    }
    // Absent (or null) is Kibana's default; anything but its two
    // namespaces is refused, at the value, as Kibana's import refuses it.
    let namespace = |what: String| -> Result<String, ExceptionError> {
        let problem = match v.get("namespace_type") {
            None | Some(Json::Null) => return Ok(DEFAULT_NAMESPACE.to_string()),
            Some(Json::String(ns)) if NAMESPACE_TYPES.contains(&ns.as_str()) => {
                return Ok(ns.clone())
            }
            Some(Json::String(ns)) => {
                format!("unknown `namespace_type` {ns:?} (expected single or agnostic)")
            }
            Some(other) => format!(
                "`namespace_type` must be single or agnostic, found {}",
                talon_rules::type_name(other)
            ),
        };
        Err(ExceptionError::Object {
            origin: origin.to_string(),
            message: format!("{what}: {problem}"),
            at: vec![key("namespace_type")],
        })
    };
    if let Some(item_id) = str_of(v, "item_id") {
        let namespace = namespace(format!("exception item `{item_id}`"))?;
        let list_id = str_of(v, "list_id")
            .ok_or_else(|| obj_err(format!("exception item `{item_id}` has no list_id")))?
            .to_string();
        let entries_json = v
            .get("entries")
            .and_then(Json::as_array)
            .ok_or_else(|| obj_err(format!("exception item `{item_id}` has no entries")))?;
        let entries = parse_entries(entries_json, origin, item_id)
            .map_err(|e| e.within(&[key("entries")]))?;
        let os_types = v
            .get("os_types")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        return Ok(ExportObject::Item(ExceptionItem {
            item_id: item_id.to_string(),
            list_id,
            namespace_type: namespace,
            name: str_of(v, "name").unwrap_or(item_id).to_string(),
            entries,
            os_types,
        }));
    }
    if let Some(list_id) = str_of(v, "list_id") {
        let namespace = namespace(format!("exception list `{list_id}`"))?;
        return Ok(ExportObject::List(ExceptionListInfo {
            list_id: list_id.to_string(),
            namespace_type: namespace,
            list_type: str_of(v, "type").unwrap_or("detection").to_string(),
            name: str_of(v, "name").unwrap_or(list_id).to_string(),
        }));
    }
    Ok(ExportObject::Other)
}

/// Reads an `entries` array (Kibana's shape; see the module docs).
pub fn parse_entries(
    entries: &[Json],
    origin: &str,
    item: &str,
) -> Result<Vec<Entry>, ExceptionError> {
    if entries.is_empty() {
        return Err(entry_err(
            origin,
            item,
            "an exception item needs at least one entry".to_string(),
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| parse_entry(e, origin, item, false).map_err(|e| e.within(&[Step::Item(i)])))
        .collect()
}

fn entry_err(origin: &str, item: &str, message: String) -> ExceptionError {
    ExceptionError::Entry {
        origin: origin.to_string(),
        item: item.to_string(),
        message,
        value: None,
        at: Vec::new(),
    }
}

/// An entry error about `value` (see [`ExceptionError::Entry`]).
fn value_err(origin: &str, item: &str, message: String, value: &str) -> ExceptionError {
    ExceptionError::Entry {
        origin: origin.to_string(),
        item: item.to_string(),
        message,
        value: Some(value.to_string()),
        at: Vec::new(),
    }
}

fn parse_entry(
    e: &Json,
    origin: &str,
    item: &str,
    in_nested: bool,
) -> Result<Entry, ExceptionError> {
    let err = |m: String| entry_err(origin, item, m);
    // An error about the member `k` of the entry, at it when it is there.
    let err_at = |k: &str, m: String| match e.get(k) {
        Some(_) => err(m).within(&[key(k)]),
        None => err(m),
    };
    let field = str_of(e, "field")
        .filter(|f| !f.trim().is_empty())
        .ok_or_else(|| err("an entry has no `field`".to_string()))?
        .trim()
        .to_string();
    let ty = str_of(e, "type").ok_or_else(|| err(format!("entry on `{field}` has no `type`")))?;
    let op = match str_of(e, "operator") {
        Some(o) => parse_operator(o).ok_or_else(|| {
            let msg = format!("entry on `{field}`: unknown operator `{o}`");
            value_err(origin, item, msg, o).within(&[key("operator")])
        })?,
        None if ty == "nested" => Operator::Included,
        None => return Err(err(format!("entry on `{field}` has no `operator`"))),
    };
    // Kibana's schema wants a value that is not empty or only blanks (its
    // `NonEmptyString`), and refuses the item otherwise.
    let blank = |what: &str| {
        format!("entry `{ty}` on `{field}`: {what} is empty or blank, which Kibana refuses")
    };
    let value_str = || -> Result<String, ExceptionError> {
        match e.get("value") {
            Some(Json::String(s)) if is_blank(s) => Err(err_at("value", blank("`value`"))),
            Some(Json::String(s)) => Ok(s.clone()),
            // Numbers and booleans are written as strings by Kibana; take
            // them as their JSON text if a hand-written file has them.
            Some(v @ (Json::Number(_) | Json::Bool(_))) => Ok(v.to_string()),
            // (Kibana's own schema wants a string: the message says so.)
            _ => Err(err_at(
                "value",
                format!(
                    "entry `{ty}` on `{field}` needs a `value` (a string; a number or true/false \
                     is read as its text)"
                ),
            )),
        }
    };
    let entry = match ty {
        "match" => Entry::Match {
            value: value_str()?,
            field,
            op,
        },
        "match_any" => {
            let values: Vec<String> = match e.get("value") {
                Some(Json::Array(a)) => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| match v {
                        Json::String(s) if is_blank(s) => {
                            Err(err(blank(&format!("value {}", i + 1)))
                                .within(&[key("value"), Step::Item(i)]))
                        }
                        Json::String(s) => Ok(s.clone()),
                        Json::Number(_) | Json::Bool(_) => Ok(v.to_string()),
                        _ => Err(err(format!(
                            "entry `match_any` on `{field}`: values must be strings"
                        ))
                        .within(&[key("value"), Step::Item(i)])),
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(err_at(
                        "value",
                        format!("entry `match_any` on `{field}` needs a list `value`"),
                    ))
                }
            };
            if values.is_empty() {
                return Err(err_at(
                    "value",
                    format!("entry `match_any` on `{field}` has no values"),
                ));
            }
            Entry::MatchAny { field, op, values }
        }
        "wildcard" => Entry::Wildcard {
            value: value_str()?,
            field,
            op,
        },
        "exists" => Entry::Exists { field, op },
        "list" => {
            let list = e
                .get("list")
                .ok_or_else(|| err(format!("entry `list` on `{field}` has no `list`")))?;
            let list_id = str_of(list, "id")
                .ok_or_else(|| {
                    err_at(
                        "list",
                        format!("entry `list` on `{field}` has no `list.id`"),
                    )
                })?
                .to_string();
            let list_type = str_of(list, "type").unwrap_or("keyword").to_string();
            Entry::List {
                field,
                op,
                list_id,
                list_type,
            }
        }
        "nested" => {
            if in_nested {
                return Err(err(format!(
                    "entry `nested` on `{field}` inside a nested entry"
                )));
            }
            let inner = e
                .get("entries")
                .and_then(Json::as_array)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| {
                    err_at(
                        "entries",
                        format!("entry `nested` on `{field}` needs `entries`"),
                    )
                })?;
            let entries = inner
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    parse_entry(x, origin, item, true)
                        .map_err(|e| e.within(&[key("entries"), Step::Item(i)]))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Entry::Nested { field, entries }
        }
        other => {
            let msg = format!(
                "entry on `{field}`: unknown type `{other}` (expected match, match_any, wildcard, exists, list or nested)"
            );
            return Err(value_err(origin, item, msg, other).within(&[key("type")]));
        }
    };
    Ok(entry)
}

/// Kibana's `included` / `excluded`, plus the words the UI shows, so a
/// hand-written `talon.toml` may say `operator = "is not"`.
fn parse_operator(o: &str) -> Option<Operator> {
    match o.trim().to_ascii_lowercase().as_str() {
        "included" | "is" | "is one of" | "exists" | "matches" | "is in list" => {
            Some(Operator::Included)
        }
        "excluded" | "is not" | "is not one of" | "does not exist" | "does not match"
        | "is not in list" => Some(Operator::Excluded),
        _ => None,
    }
}

/// Whether a value is blank as Kibana's `NonEmptyString` judges it: empty
/// once JavaScript's `trim` has run, which also drops U+FEFF.
fn is_blank(s: &str) -> bool {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .is_empty()
}
