//! Field lists ("schemas") as mappings, so a query can be verified against
//! the fields an integration or ECS defines, as Elasticsearch's verifier
//! does against an index mapping: a plain field the schema lacks is an
//! error, an optional `?field` it lacks is null.
//!
//! Accepted shapes, detected from the text:
//! - an Elasticsearch mapping, or a flat `{"field": "type"}` object (both
//!   handled by [`Mapping::from_es_json_named`]);
//! - nested `{field: type}` objects, as detection-rules keeps integration
//!   schemas (`{"package": {"version": {"dataset": {"field": "type"}}}}`):
//!   every innermost field → type object is merged;
//! - ECS's `ecs_flat.yml`: one top-level key per field, with its `type:`
//!   one level in, and `multi_fields` entries (`flat_name`, `type`) as
//!   fields of their own;
//! - a plain text list, one `field [type]` per line (`#` starts a comment).
//!   A field without a type takes its ECS type, else `keyword`.
//!
//! The YAML reader is line-based on purpose: ECS generates the file with a
//! fixed layout (keys at column 0, attributes two spaces in), and only the
//! field names and types are needed, so no YAML library is pulled in.

use std::path::Path;

use rustc_hash::FxHashMap;
use serde_json::{Map, Value as Json};

use super::parse::Check;
use super::{ecs_type, FieldMapping, FieldType, Mapping, MappingError, Sources};

/// Which shape a schema text was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaFormat {
    /// An Elasticsearch mapping or a flat `{"field": "type"}` object.
    EsMapping,
    /// Nested objects whose leaves are `{"field": "type"}` objects.
    NestedFieldTypes,
    /// ECS `ecs_flat.yml`.
    EcsFlatYaml,
    /// `field [type]` per line.
    FieldList,
}

impl Mapping {
    /// Reads a schema file in any accepted shape (see the module docs).
    pub fn from_schema_file(path: &Path) -> Result<(Mapping, SchemaFormat), MappingError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            file: file.clone(),
            what: "schema",
            source,
        })?;
        Mapping::from_schema_str(&text, &file)
    }

    /// Parses schema text in any accepted shape; errors name `file`. Field
    /// types are taken as written, not checked as a `--mapping`'s are: a
    /// type talon does not know is one EQL does not support.
    pub fn from_schema_str(
        text: &str,
        file: &str,
    ) -> Result<(Mapping, SchemaFormat), MappingError> {
        let (mut m, format) = schema_str(text, file)?;
        m.sources = Sources {
            mapping: false,
            schema: true,
        };
        Ok((m, format))
    }
}

fn schema_str(text: &str, file: &str) -> Result<(Mapping, SchemaFormat), MappingError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return match Mapping::from_es_json_checked(text, file, Check::Leniently) {
            Ok(m) => Ok((m, SchemaFormat::EsMapping)),
            Err(MappingError::Shape { .. }) => nested_field_types(text, file),
            Err(MappingError::Json {
                file,
                line,
                column,
                offset,
                message,
                ..
            }) => Err(MappingError::Json {
                file,
                what: "schema",
                line,
                column,
                offset,
                message,
            }),
            Err(e) => Err(e),
        };
    }
    if looks_like_yaml(trimmed) {
        return ecs_flat_yaml(text, file).map(|m| (m, SchemaFormat::EcsFlatYaml));
    }
    field_list(text, file).map(|m| (m, SchemaFormat::FieldList))
}

/// A YAML mapping starts with `key:` (maybe quoted) on a line of its own,
/// or `key: value`; a field list line never has a colon.
fn looks_like_yaml(text: &str) -> bool {
    text.lines()
        .map(str::trim_end)
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "---")
        .is_some_and(|l| l.contains(':'))
}

fn shape(file: &str, message: String) -> MappingError {
    MappingError::Shape {
        file: file.to_string(),
        message,
    }
}

fn finish(fields: FxHashMap<String, FieldMapping>, file: &str) -> Result<Mapping, MappingError> {
    if fields.is_empty() {
        return Err(shape(file, "the schema defines no field".to_string()));
    }
    Ok(Mapping::from_parts(fields, FxHashMap::default()))
}

fn put(fields: &mut FxHashMap<String, FieldMapping>, path: &str, ty: FieldType) {
    // The first definition wins, as when Elasticsearch merges mappings.
    fields.entry(path.to_string()).or_insert(FieldMapping {
        ty,
        null_value: None,
    });
}

/// Nested objects down to `{"field": "type"}` leaves, all merged.
fn nested_field_types(text: &str, file: &str) -> Result<(Mapping, SchemaFormat), MappingError> {
    let json: Json = serde_json::from_str(text)
        .map_err(|e| super::parse::json_error(text, file, "schema", &e))?;
    let mut fields = FxHashMap::default();
    let mut stack: Vec<&Json> = vec![&json];
    // Depth is bounded by the JSON parser's own recursion limit.
    while let Some(v) = stack.pop() {
        let Json::Object(obj) = v else { continue };
        if is_leaf(obj) {
            for (path, ty) in obj {
                if let Json::String(ty) = ty {
                    put(&mut fields, path, FieldType::from_es_name(ty));
                }
            }
        } else {
            stack.extend(obj.values());
        }
    }
    if fields.is_empty() {
        return Err(shape(
            file,
            "not a mapping (no `properties`) and no {\"field\": \"type\"} object inside"
                .to_string(),
        ));
    }
    finish(fields, file).map(|m| (m, SchemaFormat::NestedFieldTypes))
}

fn is_leaf(obj: &Map<String, Json>) -> bool {
    !obj.is_empty() && obj.values().all(Json::is_string)
}

/// One `ecs_flat.yml` block being read.
struct Block {
    name: String,
    ty: Option<String>,
    /// `(flat_name, type)` of its multi-fields.
    multi: Vec<(Option<String>, Option<String>)>,
    in_multi: bool,
}

/// The ECS flat YAML layout (see the module docs).
fn ecs_flat_yaml(text: &str, file: &str) -> Result<Mapping, MappingError> {
    let mut fields = FxHashMap::default();
    let mut block: Option<Block> = None;
    let flush = |b: Option<Block>, fields: &mut FxHashMap<String, FieldMapping>| {
        let Some(b) = b else { return };
        let ty =
            b.ty.as_deref()
                .map(FieldType::from_es_name)
                .unwrap_or(FieldType::Keyword);
        put(fields, &b.name, ty);
        for (name, ty) in b.multi {
            if let (Some(name), Some(ty)) = (name, ty) {
                put(fields, &name, FieldType::from_es_name(&ty));
            }
        }
    };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') || line == "---" {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if indent == 0 {
            let Some(key) = body.strip_suffix(':') else {
                return Err(shape(
                    file,
                    format!(
                        "line {}: expected `field.name:` at the start of a line",
                        n + 1
                    ),
                ));
            };
            flush(block.take(), &mut fields);
            block = Some(Block {
                name: unquote(key).to_string(),
                ty: None,
                multi: Vec::new(),
                in_multi: false,
            });
            continue;
        }
        let Some(b) = block.as_mut() else {
            return Err(shape(
                file,
                format!("line {}: attribute before any field", n + 1),
            ));
        };
        if indent == 2 {
            // ECS lists multi-fields at the same indentation as the key.
            if let Some(item) = body.strip_prefix("- ") {
                if b.in_multi {
                    start_multi(b, item);
                }
                continue;
            }
            b.in_multi = body == "multi_fields:";
            if let Some(ty) = body.strip_prefix("type:") {
                b.ty = Some(unquote(ty.trim()).to_string());
            }
            continue;
        }
        if !b.in_multi {
            continue;
        }
        if let Some(item) = body.strip_prefix("- ") {
            start_multi(b, item);
        } else if let Some(last) = b.multi.last_mut() {
            multi_attr(last, body);
        }
    }
    flush(block.take(), &mut fields);
    finish(fields, file)
}

fn start_multi(b: &mut Block, item: &str) {
    let mut entry = (None, None);
    multi_attr(&mut entry, item);
    b.multi.push(entry);
}

fn multi_attr(entry: &mut (Option<String>, Option<String>), attr: &str) {
    if let Some(v) = attr.strip_prefix("flat_name:") {
        entry.0 = Some(unquote(v.trim()).to_string());
    } else if let Some(v) = attr.strip_prefix("type:") {
        entry.1 = Some(unquote(v.trim()).to_string());
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// `field [type]` per line.
fn field_list(text: &str, file: &str) -> Result<Mapping, MappingError> {
    let mut fields = FxHashMap::default();
    for (n, raw) in text.lines().enumerate() {
        let line = match raw.find('#') {
            Some(i) => &raw[..i],
            None => raw,
        };
        let mut words = line.split_whitespace();
        let Some(path) = words.next() else { continue };
        let ty = words.next();
        if words.next().is_some() {
            return Err(shape(
                file,
                format!(
                    "line {}: expected `field [type]`, got `{}`",
                    n + 1,
                    line.trim()
                ),
            ));
        }
        let ty = match ty {
            Some(t) => FieldType::from_es_name(t),
            None => ecs_type(path).unwrap_or(FieldType::Keyword),
        };
        put(&mut fields, path, ty);
    }
    finish(fields, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_flat_yaml_reads_types_and_multi_fields() {
        let text = "'@timestamp':\n  dashed_name: timestamp\n  description: 'Date/time.\n\n    type: not this'\n  type: date\nprocess.command_line:\n  level: extended\n  multi_fields:\n  - flat_name: process.command_line.text\n    name: text\n    type: match_only_text\n  name: command_line\n  type: wildcard\nprocess.pid:\n  type: long\n";
        let (m, f) = Mapping::from_schema_str(text, "ecs_flat.yml").expect("parses");
        assert_eq!(f, SchemaFormat::EcsFlatYaml);
        assert_eq!(m.field_type("@timestamp"), Some(FieldType::Date));
        assert_eq!(
            m.field_type("process.command_line"),
            Some(FieldType::Wildcard)
        );
        assert_eq!(
            m.field_type("process.command_line.text"),
            Some(FieldType::Text { has_keyword: false })
        );
        assert_eq!(m.field_type("process.pid"), Some(FieldType::Long));
        assert_eq!(m.field_type("process.name"), None);
        assert!(m.is_explicit());
    }

    #[test]
    fn nested_integration_schema_and_field_list() {
        let text = r#"{"endpoint": {"8.0.0": {"process": {"process.name": "keyword", "process.pid": "long"}}}}"#;
        let (m, f) = Mapping::from_schema_str(text, "s.json").expect("parses");
        assert_eq!(f, SchemaFormat::NestedFieldTypes);
        assert_eq!(m.field_type("process.pid"), Some(FieldType::Long));
        let (m, f) = Mapping::from_schema_str(
            "# fields\nprocess.name keyword\nsource.ip\nx.count long # n\n",
            "l.txt",
        )
        .expect("parses");
        assert_eq!(f, SchemaFormat::FieldList);
        assert_eq!(m.field_type("source.ip"), Some(FieldType::Ip));
        assert_eq!(m.field_type("x.count"), Some(FieldType::Long));
        assert!(Mapping::from_schema_str("a b c\n", "bad.txt").is_err());
        assert!(Mapping::from_schema_str("\n# nothing\n", "empty.txt").is_err());
    }
}
