//! Field types: from an Elasticsearch index mapping, or from ECS and the
//! values themselves when there is no mapping.
//!
//! The type of a field decides how a comparison works (an `ip` compares as an
//! address, a `date` as an instant, a `long` held as a string as a number),
//! and whether an optional `?field` exists at all.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::value::Value;

mod parse;
mod schema;

pub use parse::{MappingConflict, MappingError};
pub use schema::SchemaFormat;

/// The Elasticsearch field types that change how EQL compares values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    Keyword,
    /// `text`; searchable only through a keyword sub-field.
    Text {
        has_keyword: bool,
    },
    Wildcard,
    ConstantKeyword,
    Long,
    Double,
    UnsignedLong,
    Boolean,
    Date,
    DateNanos,
    Ip,
    Version,
    Object,
    Nested,
    /// Anything else a mapping may name (geo_point, binary, ...).
    Other,
}

impl FieldType {
    /// Parses a mapping `type` name.
    pub fn from_es_name(name: &str) -> FieldType {
        match name {
            "keyword" => FieldType::Keyword,
            "text" | "match_only_text" => FieldType::Text { has_keyword: false },
            "wildcard" => FieldType::Wildcard,
            "constant_keyword" => FieldType::ConstantKeyword,
            "long" | "integer" | "short" | "byte" => FieldType::Long,
            "double" | "float" | "half_float" | "scaled_float" => FieldType::Double,
            "unsigned_long" => FieldType::UnsignedLong,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "date_nanos" => FieldType::DateNanos,
            "ip" => FieldType::Ip,
            "version" => FieldType::Version,
            "object" => FieldType::Object,
            "nested" => FieldType::Nested,
            _ => FieldType::Other,
        }
    }

    pub fn is_string(self) -> bool {
        matches!(
            self,
            FieldType::Keyword
                | FieldType::Text { .. }
                | FieldType::Wildcard
                | FieldType::ConstantKeyword
        )
    }

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Long | FieldType::Double | FieldType::UnsignedLong
        )
    }

    pub fn is_date(self) -> bool {
        matches!(self, FieldType::Date | FieldType::DateNanos)
    }
}

/// What a mapping says about one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldMapping {
    pub ty: FieldType,
    /// `null_value`: the value indexed in place of an explicit JSON null.
    pub null_value: Option<Value>,
}

/// An index mapping: field path → type, plus aliases.
///
/// Without a mapping ([`Mapping::default`]) nothing is mapped and field types
/// come from ECS ([`ecs_type`]) and the values.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    fields: FxHashMap<String, FieldMapping>,
    aliases: FxHashMap<String, String>,
    /// True when this came from a real mapping file; false for "no mapping".
    explicit: bool,
    /// `ignore_above` of keyword fields: longer strings are not indexed.
    ignore_above: FxHashMap<String, u32>,
    /// Date `format`s (e.g. `dd-MM-yyyy`), for fields that have one.
    date_formats: FxHashMap<String, String>,
    /// Fields defined in the `runtime` section (computed by a script, so
    /// absent from `_source`).
    runtime: FxHashSet<String>,
    /// What the fields were read from.
    sources: Sources,
}

/// What a mapping's fields were read from: an index mapping, a schema (a
/// field list such as ECS's), or both merged. Messages about a field the
/// mapping lacks name what the user gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    pub mapping: bool,
    pub schema: bool,
}

impl Mapping {
    /// A mapping with the given fields and aliases (alias → target path).
    pub fn from_parts(
        fields: FxHashMap<String, FieldMapping>,
        aliases: FxHashMap<String, String>,
    ) -> Mapping {
        Mapping {
            fields,
            aliases,
            explicit: true,
            sources: Sources {
                mapping: true,
                schema: false,
            },
            ..Mapping::default()
        }
    }

    /// What the fields were read from (nothing for "no mapping").
    pub fn sources(&self) -> Sources {
        self.sources
    }

    /// True when this mapping came from a mapping file.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// Follows an alias to the field it points at (or returns the path).
    pub fn resolve<'a>(&'a self, path: &'a str) -> &'a str {
        self.aliases.get(path).map(String::as_str).unwrap_or(path)
    }

    /// The mapping of a field (after alias resolution), if it is mapped.
    pub fn get(&self, path: &str) -> Option<&FieldMapping> {
        self.fields.get(self.resolve(path))
    }

    /// Whether the field (or an alias of it, or an object above it) is mapped.
    pub fn is_mapped(&self, path: &str) -> bool {
        let p = self.resolve(path);
        if self.fields.contains_key(p) {
            return true;
        }
        let prefix = format!("{p}.");
        self.fields.keys().any(|k| k.starts_with(&prefix))
    }

    /// The type used for comparisons: the mapping's, else ECS's, else `None`
    /// (meaning "decide from the value").
    pub fn field_type(&self, path: &str) -> Option<FieldType> {
        match self.get(path) {
            Some(m) => Some(m.ty),
            None if self.explicit => None,
            None => ecs_type(path),
        }
    }

    /// All mapped field paths (not aliases).
    pub fn field_paths(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// All aliases as (alias, target).
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases.iter().map(|(a, t)| (a.as_str(), t.as_str()))
    }

    /// The `ignore_above` of a field (after alias resolution): strings longer
    /// than this are kept in `_source` but not indexed, so term-level
    /// matches never see them.
    pub fn ignore_above(&self, path: &str) -> Option<u32> {
        self.ignore_above.get(self.resolve(path)).copied()
    }

    /// The date `format` a field declares, if any.
    pub fn date_format(&self, path: &str) -> Option<&str> {
        self.date_formats
            .get(self.resolve(path))
            .map(String::as_str)
    }

    /// Whether the field is a runtime field (from the `runtime` section).
    pub fn is_runtime(&self, path: &str) -> bool {
        self.runtime.contains(self.resolve(path))
    }

    /// Every field with a `null_value`, as (path, value).
    pub fn null_values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields
            .iter()
            .filter_map(|(p, m)| m.null_value.as_ref().map(|v| (p.as_str(), v)))
    }
}

/// The ECS type of well-known fields whose type changes comparisons
/// (dates, addresses, numbers). Everything else in ECS is a keyword.
pub fn ecs_type(path: &str) -> Option<FieldType> {
    // TODO: cover the full ECS field list, not only the fields whose type
    // changes how a comparison behaves.
    let ty = match path {
        "@timestamp"
        | "event.created"
        | "event.ingested"
        | "event.start"
        | "event.end"
        | "process.start"
        | "process.end"
        | "process.parent.start"
        | "file.created"
        | "file.ctime"
        | "file.mtime"
        | "file.accessed" => FieldType::Date,
        "source.ip" | "destination.ip" | "client.ip" | "server.ip" | "host.ip" | "related.ip"
        | "observer.ip" | "source.nat.ip" | "destination.nat.ip" | "dns.resolved_ip" => {
            FieldType::Ip
        }
        "process.pid"
        | "process.ppid"
        | "process.parent.pid"
        | "process.parent.ppid"
        | "process.exit_code"
        | "process.args_count"
        | "process.parent.args_count"
        | "process.thread.id"
        | "source.port"
        | "destination.port"
        | "client.port"
        | "server.port"
        | "source.bytes"
        | "destination.bytes"
        | "network.bytes"
        | "file.size"
        | "event.sequence"
        | "event.severity"
        | "event.duration"
        | "process.group_leader.pid"
        | "process.session_leader.pid"
        | "process.entry_leader.pid"
        | "http.response.status_code" => FieldType::Long,
        _ => return None,
    };
    Some(ty)
}
