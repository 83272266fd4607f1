//! Parsing Elasticsearch mapping JSON into a [`Mapping`], and merging the
//! mappings of several indices.
//!
//! Accepted shapes: a bare mapping (`{"properties":…}`, `{"runtime":…}`),
//! `{"mappings":{…}}`, the `GET _mapping` response
//! (`{"<index>":{"mappings":{…}}, …}`, every index merged), legacy typed
//! mappings (`{"_doc":{"properties":…}}`), and a flat field → type object
//! (`{"process.name":"keyword", …}`, as detection-rules ships schemas).
//!
//! Quirks of the Elasticsearch EQL QA mapping files are tolerated the way
//! its loader does: lines starting with `#` are comments (blanked, so line
//! numbers in errors still match the file), and the
//! `[runtime_random_keyword_type]` placeholder is read as `keyword`, both
//! as a type and as a sub-field name.
//!
//! What is recorded per field: its type (text with a keyword-like sub-field
//! → `Text { has_keyword: true }`, and the sub-field itself as a field),
//! `null_value`, `ignore_above`, date `format`, aliases (`type: alias` with
//! `path`), objects and nested objects, and `runtime` fields (which shadow
//! a mapped field of the same name, as in Elasticsearch).
//!
//! A mapping Elasticsearch would refuse is refused too, naming the file and
//! the field: a `type` that is not one of Elasticsearch's field types, an
//! alias whose `path` is not a field of the mapping, or an alias of an
//! alias (a loop among them included). A schema read through
//! [`Mapping::from_schema_str`] is not checked so: field lists come from
//! other vocabularies (a `fields.yml` has `array` and `group`), and a type
//! talon does not know is one EQL does not support.

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::{FieldMapping, FieldType, Mapping, Sources};
use crate::value::Value;

/// The EQL QA loader's stand-in for "some keyword-family type".
const PLACEHOLDER: &str = "[runtime_random_keyword_type]";

/// Why a mapping could not be read. Every variant names the file (or
/// `<mapping>` for text that did not come from a file).
/// `what` is the kind of file, `mapping` or `schema`, as the user gave it.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{file}: cannot read {what}: {source}")]
    Io {
        file: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A JSON syntax error. `line` and `column` are 1-based (the column
    /// counts characters, as in rule-file errors); `offset` is the byte of
    /// the text where it was found, so a caller holding the text can show
    /// the line with a caret under it.
    #[error("{file}:{line}:{column}: invalid {what} JSON: {message}")]
    Json {
        file: String,
        what: &'static str,
        line: usize,
        column: usize,
        offset: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Shape { file: String, message: String },
}

/// Two indices map the same path differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingConflict {
    pub path: String,
    /// The definition that was kept (the first one seen).
    pub kept: String,
    /// The definition that was ignored.
    pub ignored: String,
}

impl Mapping {
    /// Parses mapping JSON text (see the module docs for accepted shapes).
    pub fn from_es_json(text: &str) -> Result<Mapping, MappingError> {
        Mapping::from_es_json_named(text, "<mapping>")
    }

    /// Parses mapping JSON text; errors name `file`. Several indices in one
    /// `GET _mapping` response are merged (first definition wins). A
    /// mapping Elasticsearch would refuse is an error (see the module docs).
    pub fn from_es_json_named(text: &str, file: &str) -> Result<Mapping, MappingError> {
        Mapping::from_es_json_checked(text, file, Check::AsElasticsearch)
    }

    /// [`Mapping::from_es_json_named`], checking the definitions as `check`
    /// says.
    pub(super) fn from_es_json_checked(
        text: &str,
        file: &str,
        check: Check,
    ) -> Result<Mapping, MappingError> {
        let indices = Mapping::indices(text, file, check)?;
        let (mut merged, _clashes) = Mapping::merged(indices.into_iter().map(|(_, m)| m));
        // Even a mapping without fields is a real mapping ("nothing mapped").
        merged.explicit = true;
        merged.sources = Sources {
            mapping: true,
            schema: false,
        };
        Ok(merged)
    }

    /// Parses mapping JSON text into one mapping per index: the index names
    /// of a `GET _mapping` response, or `""` for a bare mapping.
    pub fn from_es_indices(text: &str, file: &str) -> Result<Vec<(String, Mapping)>, MappingError> {
        Mapping::indices(text, file, Check::AsElasticsearch)
    }

    fn indices(
        text: &str,
        file: &str,
        check: Check,
    ) -> Result<Vec<(String, Mapping)>, MappingError> {
        let cleaned = blank_comment_lines(text);
        let json: Json =
            serde_json::from_str(&cleaned).map_err(|e| json_error(text, file, "mapping", &e))?;
        let shape = |message: String| MappingError::Shape {
            file: file.to_string(),
            message,
        };
        let Json::Object(root) = &json else {
            return Err(shape("a mapping must be a JSON object".to_string()));
        };
        if is_flat_types(root) {
            let mut builder = Builder::new(check);
            for (path, ty) in root {
                if let Json::String(ty) = ty {
                    builder.flat_field(path, ty).map_err(shape)?;
                }
            }
            return Ok(vec![(String::new(), builder.finish().map_err(shape)?)]);
        }
        let roots = mapping_roots(root, "", 0);
        if roots.is_empty() {
            return Err(shape("no `properties` or `mappings` found".to_string()));
        }
        let mut out = Vec::with_capacity(roots.len());
        for (name, r) in roots {
            let mut builder = Builder::new(check);
            builder.root(r).map_err(shape)?;
            out.push((name.to_string(), builder.finish().map_err(shape)?));
        }
        Ok(out)
    }

    /// Reads and parses a mapping file.
    pub fn from_es_file(path: &Path) -> Result<Mapping, MappingError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            file: file.clone(),
            what: "mapping",
            source,
        })?;
        Mapping::from_es_json_named(&text, &file)
    }

    /// Adds another index's mapping, as when a search spans several indices.
    /// A path mapped differently in both keeps this mapping's definition;
    /// each such clash is returned.
    pub fn merge(&mut self, other: &Mapping) -> Vec<MappingConflict> {
        let mut conflicts = Vec::new();
        for (path, m) in &other.fields {
            match self.fields.get(path) {
                None => {
                    self.fields.insert(path.clone(), m.clone());
                }
                Some(mine) if mine != m => conflicts.push(MappingConflict {
                    path: path.clone(),
                    kept: format!("{:?}", mine.ty),
                    ignored: format!("{:?}", m.ty),
                }),
                Some(_) => {}
            }
        }
        for (alias, target) in &other.aliases {
            match self.aliases.get(alias) {
                None => {
                    self.aliases.insert(alias.clone(), target.clone());
                }
                Some(mine) if mine != target => conflicts.push(MappingConflict {
                    path: alias.clone(),
                    kept: format!("alias of {mine}"),
                    ignored: format!("alias of {target}"),
                }),
                Some(_) => {}
            }
        }
        for (k, v) in &other.ignore_above {
            self.ignore_above.entry(k.clone()).or_insert(*v);
        }
        for (k, v) in &other.date_formats {
            self.date_formats
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        self.runtime.extend(other.runtime.iter().cloned());
        self.explicit |= other.explicit;
        self.sources.mapping |= other.sources.mapping;
        self.sources.schema |= other.sources.schema;
        conflicts
    }

    /// Merges several mappings (first definition wins on a clash).
    pub fn merged<I: IntoIterator<Item = Mapping>>(mappings: I) -> (Mapping, Vec<MappingConflict>) {
        let mut out = Mapping::default();
        let mut conflicts = Vec::new();
        for m in mappings {
            conflicts.extend(out.merge(&m));
        }
        (out, conflicts)
    }
}

/// A serde_json syntax error in `text` as a [`MappingError::Json`].
///
/// serde_json counts the column in bytes, and says column 0 when the error
/// comes right after a line break (at the end of the text, typically); the
/// user wants the character under which to look. The position is that of
/// the parsed text, whose comment lines are blanked but still there, so
/// lines match `text`; the end of the text is where `text` ends, trailing
/// comment lines included.
pub(super) fn json_error(
    text: &str,
    file: &str,
    what: &'static str,
    e: &serde_json::Error,
) -> MappingError {
    let offset = if e.classify() == serde_json::error::Category::Eof {
        text.len()
    } else {
        let line_start: usize = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum();
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        (line_start + e.column().saturating_sub(1)).min(line_end)
    };
    let offset = floor_char_boundary(text, offset);
    let (line, column) = line_col(text, offset);
    MappingError::Json {
        file: file.to_string(),
        what,
        line,
        column,
        offset,
        message: crate::read::json_error_message(e),
    }
}

/// 1-based line and column (in characters) of byte `pos` of `text`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut pos: usize) -> usize {
    pos = pos.min(text.len());
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// Replaces every line whose first non-blank character is `#` by an empty
/// line, keeping line numbers.
fn blank_comment_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if !line.trim_start().starts_with('#') {
            out.push_str(line);
        }
    }
    out
}

fn fix_name(name: &str) -> &str {
    if name == PLACEHOLDER {
        "keyword"
    } else {
        name
    }
}

fn ty_of(name: &str) -> FieldType {
    FieldType::from_es_name(fix_name(name))
}

/// Keys that only appear at the root of a mapping definition.
const ROOT_KEYS: &[&str] = &[
    "properties",
    "runtime",
    "dynamic",
    "dynamic_templates",
    "_source",
    "_meta",
    "_routing",
    "date_detection",
    "numeric_detection",
];

/// Finds the mapping definitions inside the accepted wrappers, each with
/// the index name it was found under (`""` when there is none).
fn mapping_roots<'a>(
    obj: &'a Map<String, Json>,
    name: &'a str,
    depth: u32,
) -> Vec<(&'a str, &'a Map<String, Json>)> {
    if obj.is_empty() || obj.keys().any(|k| ROOT_KEYS.contains(&k.as_str())) {
        return vec![(name, obj)];
    }
    if let Some(Json::Object(inner)) = obj.get("mappings") {
        return mapping_roots(inner, name, depth + 1);
    }
    // `GET _mapping` ({"<index>": {...}}) or a legacy type name
    // ({"_doc": {...}}); only the outermost key names an index.
    if depth < 3 && obj.values().all(Json::is_object) {
        return obj
            .iter()
            .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
            .flat_map(|(k, o)| mapping_roots(o, if depth == 0 { k } else { name }, depth + 1))
            .collect();
    }
    Vec::new()
}

fn is_flat_types(obj: &Map<String, Json>) -> bool {
    !obj.is_empty()
        && !obj.keys().any(|k| ROOT_KEYS.contains(&k.as_str()))
        && obj.values().all(Json::is_string)
}

/// How a mapping's definitions are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// As Elasticsearch does: a type it does not have, an alias of a path
    /// that is not a field, or of another alias, is an error.
    AsElasticsearch,
    /// Any type name is taken (a type talon does not know is one EQL does
    /// not support), and aliases as they are: for field lists given as
    /// schemas.
    Leniently,
}

/// Every field type Elasticsearch's mappings accept (its "Field data
/// types", plugins' types included), besides `alias`, which has a `path`.
const ES_FIELD_TYPES: &[&str] = &[
    // common
    "binary",
    "boolean",
    "keyword",
    "constant_keyword",
    "wildcard",
    "long",
    "integer",
    "short",
    "byte",
    "double",
    "float",
    "half_float",
    "scaled_float",
    "unsigned_long",
    "date",
    "date_nanos",
    // objects and relational
    "object",
    "flattened",
    "nested",
    "join",
    "passthrough",
    // structured
    "integer_range",
    "float_range",
    "long_range",
    "double_range",
    "date_range",
    "ip_range",
    "ip",
    "version",
    "murmur3",
    // aggregate
    "aggregate_metric_double",
    "histogram",
    // text search
    "text",
    "match_only_text",
    "annotated_text",
    "completion",
    "search_as_you_type",
    "semantic_text",
    "token_count",
    // document ranking
    "dense_vector",
    "sparse_vector",
    "rank_feature",
    "rank_features",
    "rank_vectors",
    // spatial
    "geo_point",
    "geo_shape",
    "point",
    "shape",
    // other
    "percolator",
    "counted_keyword",
    "icu_collation_keyword",
];

/// The types a `runtime` field can have.
const RUNTIME_FIELD_TYPES: &[&str] = &[
    "boolean",
    "composite",
    "date",
    "double",
    "geo_point",
    "geo_shape",
    "ip",
    "keyword",
    "long",
    "lookup",
];

struct Builder {
    m: Mapping,
    check: Check,
}

impl Builder {
    fn new(check: Check) -> Builder {
        Builder {
            m: Mapping::default(),
            check,
        }
    }

    /// The mapping built, once its aliases are checked.
    fn finish(mut self) -> Result<Mapping, String> {
        if self.check == Check::AsElasticsearch {
            self.check_aliases()?;
        }
        self.m.explicit = true;
        Ok(self.m)
    }

    /// Every alias must name a field of the mapping, not an object, nor
    /// another alias, nor itself: Elasticsearch refuses the mapping
    /// otherwise. The first alias by name is reported.
    fn check_aliases(&self) -> Result<(), String> {
        let mut aliases: Vec<(&String, &String)> = self.m.aliases.iter().collect();
        aliases.sort();
        for (alias, target) in aliases {
            if target == alias {
                return Err(format!(
                    "alias `{alias}` has itself as its `path`; Elasticsearch refuses an alias \
                     of itself"
                ));
            }
            if let Some(next) = self.m.aliases.get(target) {
                return Err(format!(
                    "alias `{alias}` has the path `{target}`, which is itself an alias (of \
                     `{next}`); Elasticsearch refuses an alias of an alias"
                ));
            }
            let what = match self.m.fields.get(target).map(|f| f.ty) {
                Some(FieldType::Object | FieldType::Nested) => "an object, not a field",
                Some(_) => continue,
                None => "not a field of this mapping",
            };
            return Err(format!(
                "alias `{alias}` has the path `{target}`, which is {what}; Elasticsearch \
                 refuses an alias that does not refer to an existing field"
            ));
        }
        Ok(())
    }

    /// Checks the `type` of a field, when checking as Elasticsearch does.
    fn field_type(&self, path: &str, ty: &str) -> Result<(), String> {
        if self.check == Check::Leniently || ES_FIELD_TYPES.contains(&ty) {
            return Ok(());
        }
        Err(format!(
            "field `{path}` has the type `{ty}`, which is not an Elasticsearch field type \
             (Elasticsearch refuses the mapping: no handler for type [{ty}] declared on \
             field [{path}])"
        ))
    }

    /// Checks a `null_value` of a numeric or boolean field, when checking
    /// as Elasticsearch does: one its type cannot read (`"abc"` for a
    /// `long`) makes Elasticsearch refuse the mapping, and taken as it is
    /// it would give the field a value it can never hold.
    fn null_value(&self, path: &str, ty: FieldType, v: &Json) -> Result<(), String> {
        if self.check == Check::Leniently || v.is_null() {
            return Ok(());
        }
        let fits = match ty {
            FieldType::Long | FieldType::Double | FieldType::UnsignedLong => match v {
                Json::Number(_) => true,
                Json::String(t) => t.trim().parse::<f64>().is_ok_and(f64::is_finite),
                _ => false,
            },
            FieldType::Boolean => {
                matches!(v, Json::Bool(_)) || matches!(v.as_str(), Some("true" | "false"))
            }
            _ => return Ok(()),
        };
        if fits {
            return Ok(());
        }
        Err(format!(
            "field `{path}` has the `null_value` {v}, which its type cannot hold \
             (Elasticsearch refuses the mapping: failed to parse [null_value] of [{path}])"
        ))
    }

    /// Checks the `type` of a runtime field, when checking as
    /// Elasticsearch does.
    fn runtime_type(&self, path: &str, ty: &str) -> Result<(), String> {
        if self.check == Check::Leniently || RUNTIME_FIELD_TYPES.contains(&ty) {
            return Ok(());
        }
        Err(format!(
            "runtime field `{path}` has the type `{ty}`, which a runtime field cannot have \
             (it can be {}; Elasticsearch refuses the mapping)",
            RUNTIME_FIELD_TYPES.join(", ")
        ))
    }

    /// One `"field": "type"` entry of a flat field list.
    fn flat_field(&mut self, path: &str, ty: &str) -> Result<(), String> {
        let ty = fix_name(ty);
        if ty == "alias" && self.check == Check::AsElasticsearch {
            return Err(format!(
                "field `{path}` is an alias, but a flat field list cannot give its `path`: \
                 use `{{\"properties\": {{\"{path}\": {{\"type\": \"alias\", \"path\": ...}}}}}}`"
            ));
        }
        self.field_type(path, ty)?;
        self.field(path, FieldType::from_es_name(ty), None);
        Ok(())
    }

    fn field(&mut self, path: &str, ty: FieldType, null_value: Option<Value>) {
        self.m
            .fields
            .insert(path.to_string(), FieldMapping { ty, null_value });
    }

    fn root(&mut self, root: &Map<String, Json>) -> Result<(), String> {
        if let Some(props) = root.get("properties") {
            let props = props.as_object().ok_or("`properties` must be an object")?;
            self.properties(props, "")?;
        }
        if let Some(runtime) = root.get("runtime") {
            let runtime = runtime.as_object().ok_or("`runtime` must be an object")?;
            for (name, def) in runtime {
                let ty = fix_name(def.get("type").and_then(Json::as_str).unwrap_or("keyword"));
                self.runtime_type(name, ty)?;
                self.field(name, FieldType::from_es_name(ty), None);
                self.m.runtime.insert(name.clone());
            }
        }
        Ok(())
    }

    fn properties(&mut self, props: &Map<String, Json>, prefix: &str) -> Result<(), String> {
        for (name, def) in props {
            let path = join(prefix, fix_name(name));
            let def = def
                .as_object()
                .ok_or_else(|| format!("mapping of `{path}` must be an object"))?;
            self.definition(&path, def)?;
        }
        Ok(())
    }

    fn definition(&mut self, path: &str, def: &Map<String, Json>) -> Result<(), String> {
        // Elasticsearch refuses a `type` that is not a string ("No type
        // specified for field"); taken as absent, it would make the field
        // an object and hide its values.
        if let Some(t) = def.get("type").filter(|t| !t.is_string()) {
            return Err(format!(
                "field `{path}` has the type {t}, which is not a type name (a string)"
            ));
        }
        let ty_name = def.get("type").and_then(Json::as_str).map(fix_name);
        if ty_name == Some("alias") {
            let target = def
                .get("path")
                .and_then(Json::as_str)
                .ok_or_else(|| format!("alias `{path}` has no `path`"))?;
            self.m.aliases.insert(path.to_string(), target.to_string());
            return Ok(());
        }
        if let Some(name) = ty_name {
            self.field_type(path, name)?;
        }
        // No type means an object (whether or not it lists properties).
        let mut ty = ty_name
            .map(FieldType::from_es_name)
            .unwrap_or(FieldType::Object);
        if let Some(Json::Object(subs)) = def.get("fields") {
            for (sub, sub_def) in subs {
                let sub_path = join(path, fix_name(sub));
                let sub_def = sub_def
                    .as_object()
                    .ok_or_else(|| format!("mapping of `{sub_path}` must be an object"))?;
                let sub_ty = sub_def
                    .get("type")
                    .and_then(Json::as_str)
                    .map(ty_of)
                    .unwrap_or(FieldType::Object);
                if matches!(ty, FieldType::Text { .. })
                    && matches!(sub_ty, FieldType::Keyword | FieldType::Wildcard)
                {
                    ty = FieldType::Text { has_keyword: true };
                }
                self.definition(&sub_path, sub_def)?;
            }
        }
        if let Some(v) = def.get("null_value") {
            self.null_value(path, ty, v)?;
        }
        let null_value = def.get("null_value").and_then(json_scalar);
        self.field(path, ty, null_value);
        if let Some(n) = def.get("ignore_above").and_then(Json::as_u64) {
            self.m
                .ignore_above
                .insert(path.to_string(), n.min(u64::from(u32::MAX)) as u32);
        }
        if let Some(f) = def.get("format").and_then(Json::as_str) {
            self.m.date_formats.insert(path.to_string(), f.to_string());
        }
        if let Some(props) = def.get("properties") {
            let props = props
                .as_object()
                .ok_or_else(|| format!("`properties` of `{path}` must be an object"))?;
            self.properties(props, path)?;
        }
        Ok(())
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A `null_value` as an event value (strings, numbers, booleans).
fn json_scalar(v: &Json) -> Option<Value> {
    match v {
        Json::String(s) => Some(Value::str(s)),
        Json::Bool(b) => Some(Value::Bool(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Some(Value::Int(i)),
            None => n.as_f64().map(Value::Float),
        },
        _ => None,
    }
}
