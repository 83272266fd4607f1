//! Mapping parsing: every Elasticsearch EQL QA mapping file, the accepted
//! wrappers, merging, and error positions.

mod common;

use talon_event::mapping::{FieldType, Mapping, MappingError};
use talon_event::Value;

fn qa(name: &str) -> Option<Mapping> {
    let root = common::corpora()?;
    let path = root.join("es-eql-qa").join(name);
    Some(Mapping::from_es_file(&path).unwrap_or_else(|e| panic!("{e}")))
}

fn ty(m: &Mapping, path: &str) -> Option<FieldType> {
    m.get(path).map(|f| f.ty)
}

fn assert_endgame_common(m: &Mapping) {
    assert!(m.is_explicit());
    assert_eq!(ty(m, "command_line"), Some(FieldType::Keyword));
    assert_eq!(ty(m, "event_type"), Some(FieldType::Keyword));
    assert_eq!(m.resolve("event.category"), "event_type");
    assert_eq!(m.resolve("event.sequence"), "serial_event_id");
    assert_eq!(ty(m, "event.category"), Some(FieldType::Keyword));
    assert_eq!(ty(m, "event.sequence"), Some(FieldType::Long));
    assert_eq!(ty(m, "event"), Some(FieldType::Object));
    assert_eq!(
        ty(m, "hostname"),
        Some(FieldType::Text { has_keyword: true })
    );
    assert_eq!(ty(m, "hostname.keyword"), Some(FieldType::Keyword));
    assert_eq!(m.ignore_above("hostname.keyword"), Some(256));
    assert_eq!(
        ty(m, "file_name"),
        Some(FieldType::Text { has_keyword: true })
    );
    assert_eq!(ty(m, "pid"), Some(FieldType::Long));
    assert_eq!(ty(m, "source_address"), Some(FieldType::Ip));
    assert_eq!(ty(m, "file_path"), Some(FieldType::Keyword));
    assert!(m.is_mapped("event.category"));
    assert!(!m.is_mapped("unique_ppid"));
    assert_eq!(m.field_type("unique_ppid"), None);
    let mut aliases: Vec<(&str, &str)> = m.aliases().collect();
    aliases.sort();
    assert_eq!(
        aliases,
        [
            ("event.category", "event_type"),
            ("event.sequence", "serial_event_id")
        ]
    );
}

#[test]
fn endgame_140_mapping() {
    let Some(m) = qa("data/endgame-140.mapping") else {
        return;
    };
    assert_endgame_common(&m);
    assert_eq!(ty(&m, "timestamp"), Some(FieldType::Date));
    assert_eq!(ty(&m, "@timestamp"), Some(FieldType::Date));
    // 25 mapped paths: 22 leaves, 2 keyword sub-fields and the `event`
    // object; the 2 aliases are not field paths.
    assert_eq!(m.field_paths().count(), 25);
}

#[test]
fn endgame_140_nanos_mapping() {
    let Some(m) = qa("data/endgame-140-nanos.mapping") else {
        return;
    };
    assert_endgame_common(&m);
    assert_eq!(ty(&m, "timestamp"), Some(FieldType::DateNanos));
    assert_eq!(ty(&m, "@timestamp"), Some(FieldType::DateNanos));
}

#[test]
fn endgame_shard_failures_mapping_has_a_runtime_field() {
    let Some(m) = qa("data/endgame-shard-failures.mapping") else {
        return;
    };
    assert_endgame_common(&m);
    assert_eq!(ty(&m, "broken"), Some(FieldType::Long));
    assert!(m.is_runtime("broken"));
    assert!(!m.is_runtime("pid"));
}

#[test]
fn mapping_default_json() {
    let Some(m) = qa("mapping-default.json") else {
        return;
    };
    assert_eq!(ty(&m, "command_line"), Some(FieldType::Keyword));
    assert_eq!(m.resolve("event.category"), "event_type");
    assert_eq!(
        ty(&m, "hostname"),
        Some(FieldType::Text { has_keyword: true })
    );
    assert_eq!(ty(&m, "hostname.keyword"), Some(FieldType::Keyword));
    assert_eq!(ty(&m, "file_path"), None);
}

#[test]
fn extra_mapping_null_value_and_version() {
    let Some(m) = qa("data/extra.mapping") else {
        return;
    };
    let f = m.get("optional_field_default_null").unwrap();
    assert_eq!(f.ty, FieldType::Keyword);
    assert_eq!(f.null_value, Some(Value::str("NULL")));
    assert_eq!(
        ty(&m, "optional_field_mapping_only"),
        Some(FieldType::Keyword)
    );
    assert_eq!(ty(&m, "version"), Some(FieldType::Version));
    assert_eq!(ty(&m, "date_tags"), Some(FieldType::Date));
    assert_eq!(ty(&m, "sequence"), Some(FieldType::Long));
    assert_eq!(m.resolve("event.sequence"), "sequence");
    let nulls: Vec<(&str, &Value)> = m.null_values().collect();
    assert_eq!(
        nulls,
        [("optional_field_default_null", &Value::str("NULL"))]
    );
}

#[test]
fn missing_events_mapping() {
    let Some(m) = qa("data/missing-events.mapping") else {
        return;
    };
    for k in ["tag", "k1", "k2", "event_type"] {
        assert_eq!(ty(&m, k), Some(FieldType::Keyword), "{k}");
    }
    assert_eq!(ty(&m, "sequence"), Some(FieldType::Long));
    assert_eq!(ty(&m, "@timestamp"), Some(FieldType::Date));
    assert_eq!(m.resolve("event.sequence"), "sequence");
}

#[test]
fn sample_mappings_with_tabs() {
    let Some(m1) = qa("data/sample1.mapping") else {
        return;
    };
    assert_eq!(ty(&m1, "ip"), Some(FieldType::Ip));
    assert_eq!(ty(&m1, "version"), Some(FieldType::Version));
    assert_eq!(ty(&m1, "bool"), Some(FieldType::Boolean));
    assert_eq!(ty(&m1, "@timestamp_pretty"), Some(FieldType::Date));
    assert_eq!(m1.date_format("@timestamp_pretty"), Some("dd-MM-yyyy"));
    assert_eq!(m1.resolve("event.category"), "event_type");
    let Some(m2) = qa("data/sample2.mapping") else {
        return;
    };
    assert_eq!(ty(&m2, "op_sys"), Some(FieldType::Keyword));
    let Some(m3) = qa("data/sample3.mapping") else {
        return;
    };
    assert_eq!(ty(&m3, "host_ip"), Some(FieldType::Ip));
    assert_eq!(ty(&m3, "date"), Some(FieldType::Date));
    let Some(multi) = qa("data/sample-multi.mapping") else {
        return;
    };
    assert_eq!(ty(&multi, "uptime"), Some(FieldType::Long));

    // Searching sample1,sample2,sample3 together sees all their fields.
    let (all, conflicts) = Mapping::merged([m1, m2, m3]);
    assert!(conflicts.is_empty(), "{conflicts:?}");
    assert_eq!(ty(&all, "ip"), Some(FieldType::Ip));
    assert_eq!(ty(&all, "op_sys"), Some(FieldType::Keyword));
    assert_eq!(ty(&all, "host_ip"), Some(FieldType::Ip));
    assert!(all.is_explicit());
}

#[test]
fn wrapped_shapes_are_accepted() {
    let bare = r#"{"properties":{"a":{"type":"long"}}}"#;
    let wrapped = r#"{"mappings":{"properties":{"a":{"type":"long"}}}}"#;
    let legacy = r#"{"mappings":{"_doc":{"properties":{"a":{"type":"long"}}}}}"#;
    for text in [bare, wrapped, legacy] {
        let m = Mapping::from_es_json(text).unwrap();
        assert_eq!(ty(&m, "a"), Some(FieldType::Long), "{text}");
    }
    let get_mapping = r#"{
      "logs-a": {"mappings": {"properties": {"a": {"type": "keyword"}, "host": {"properties": {"ip": {"type": "ip"}}}}}},
      "logs-b": {"mappings": {"properties": {"a": {"type": "long"}, "b": {"type": "wildcard"}}}}
    }"#;
    let m = Mapping::from_es_json(get_mapping).unwrap();
    assert_eq!(ty(&m, "a"), Some(FieldType::Keyword));
    assert_eq!(ty(&m, "b"), Some(FieldType::Wildcard));
    assert_eq!(ty(&m, "host.ip"), Some(FieldType::Ip));
    assert_eq!(ty(&m, "host"), Some(FieldType::Object));
    let per_index = Mapping::from_es_indices(get_mapping, "m.json").unwrap();
    let names: Vec<&str> = per_index.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["logs-a", "logs-b"]);
    assert_eq!(ty(&per_index[1].1, "a"), Some(FieldType::Long));
    assert_eq!(ty(&per_index[1].1, "host.ip"), None);
    let empty = Mapping::from_es_json(r#"{"mappings":{}}"#).unwrap();
    assert_eq!(empty.field_paths().count(), 0);
    assert!(empty.is_explicit());
}

#[test]
fn dotted_property_names_nested_and_multi_fields() {
    let text = r#"{"properties":{
        "process.parent": {"properties": {"name": {"type": "keyword", "fields": {"text": {"type": "match_only_text"}}}}},
        "message": {"type": "match_only_text"},
        "title": {"type": "text", "fields": {"raw": {"type": "wildcard"}}},
        "threat": {"type": "nested", "properties": {"id": {"type": "keyword"}}},
        "n": {"type": "integer", "null_value": 0},
        "f": {"type": "float", "null_value": 1.5},
        "b": {"type": "boolean", "null_value": false}
    }}"#;
    let m = Mapping::from_es_json(text).unwrap();
    assert_eq!(ty(&m, "process.parent.name"), Some(FieldType::Keyword));
    assert_eq!(
        ty(&m, "process.parent.name.text"),
        Some(FieldType::Text { has_keyword: false })
    );
    assert_eq!(
        ty(&m, "message"),
        Some(FieldType::Text { has_keyword: false })
    );
    assert_eq!(ty(&m, "title"), Some(FieldType::Text { has_keyword: true }));
    assert_eq!(ty(&m, "threat"), Some(FieldType::Nested));
    assert_eq!(ty(&m, "threat.id"), Some(FieldType::Keyword));
    assert_eq!(m.get("n").unwrap().null_value, Some(Value::Int(0)));
    assert_eq!(m.get("f").unwrap().null_value, Some(Value::Float(1.5)));
    assert_eq!(m.get("b").unwrap().null_value, Some(Value::Bool(false)));
}

#[test]
fn flat_field_type_schemas() {
    let m = Mapping::from_es_json(
        r#"{"process.name":"keyword","process.pid":"long","@timestamp":"date"}"#,
    )
    .unwrap();
    assert_eq!(ty(&m, "process.name"), Some(FieldType::Keyword));
    assert_eq!(ty(&m, "process.pid"), Some(FieldType::Long));
    assert_eq!(ty(&m, "@timestamp"), Some(FieldType::Date));
    let Some(root) = common::corpora() else {
        return;
    };
    let path = root.join("events/endgame/endgame_ecs_mapping-8.4.0.json");
    let m = Mapping::from_es_file(&path).unwrap();
    assert_eq!(m.field_paths().count(), 237);
    assert_eq!(ty(&m, "process.args"), Some(FieldType::Keyword));
    assert_eq!(ty(&m, "data_stream.type"), Some(FieldType::ConstantKeyword));
    assert_eq!(ty(&m, "process.pid"), Some(FieldType::Long));
}

#[test]
fn merge_keeps_the_first_definition_and_reports_clashes() {
    let mut a = Mapping::from_es_json(
        r#"{"properties":{"x":{"type":"keyword"},"al":{"type":"alias","path":"x"}}}"#,
    )
    .unwrap();
    let b = Mapping::from_es_json(r#"{"properties":{"x":{"type":"long"},"y":{"type":"ip"},"al":{"type":"alias","path":"y"}}}"#).unwrap();
    let conflicts = a.merge(&b);
    assert_eq!(ty(&a, "x"), Some(FieldType::Keyword));
    assert_eq!(ty(&a, "y"), Some(FieldType::Ip));
    assert_eq!(a.resolve("al"), "x");
    let mut paths: Vec<&str> = conflicts.iter().map(|c| c.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["al", "x"]);
    let x = conflicts.iter().find(|c| c.path == "x").unwrap();
    assert_eq!((x.kept.as_str(), x.ignored.as_str()), ("Keyword", "Long"));
}

/// `(line, column, offset)` of the JSON syntax error parsing `text` makes.
fn json_error_at(text: &str) -> (usize, usize, usize) {
    match Mapping::from_es_json_named(text, "m.json") {
        Err(MappingError::Json {
            line,
            column,
            offset,
            ..
        }) => (line, column, offset),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn json_errors_have_a_1_based_character_column_and_their_offset() {
    let text = "{\n  \"a\": ,\n}";
    assert_eq!(json_error_at(text), (2, 8, 9));
    assert_eq!(&text[9..10], ",");
    assert_eq!(
        Mapping::from_es_json_named(text, "m.json")
            .unwrap_err()
            .to_string(),
        "m.json:2:8: invalid mapping JSON: expected value"
    );
    // serde_json says column 0 at the end of a text ending in a newline.
    let cut = "{\n  \"a\": 1,\n";
    assert_eq!(json_error_at(cut), (3, 1, cut.len()));
    // It counts bytes; the column counts characters, as in rule errors.
    assert_eq!(json_error_at("{\"é\": ,}"), (1, 7, 7));
    // The end of a text whose last line is a comment is after the comment.
    assert_eq!(json_error_at("{\n# open"), (2, 7, 8));
}

#[test]
fn errors_name_file_line_and_column() {
    // Comment lines are blanked, not removed, so positions match the file.
    let text =
        "# comment\n# another\n{\n  \"properties\": {\n    \"a\": {\"type\": \"long\",}\n  }\n}\n";
    match Mapping::from_es_json_named(text, "bad.mapping") {
        Err(MappingError::Json {
            file, line, column, ..
        }) => {
            assert_eq!((file.as_str(), line, column), ("bad.mapping", 5, 26));
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
    let err = Mapping::from_es_json_named("{\"properties\": 3}", "m.json").unwrap_err();
    assert_eq!(err.to_string(), "m.json: `properties` must be an object");
    let err = Mapping::from_es_json("[1]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "<mapping>: a mapping must be a JSON object"
    );
    let err = Mapping::from_es_json(r#"{"properties":{"a":{"type":"alias"}}}"#).unwrap_err();
    assert_eq!(err.to_string(), "<mapping>: alias `a` has no `path`");
    let err = Mapping::from_es_json(r#"{"x": 1}"#).unwrap_err();
    assert!(matches!(err, MappingError::Shape { .. }));
    let missing = Mapping::from_es_file(std::path::Path::new("/no/such.mapping")).unwrap_err();
    assert!(missing
        .to_string()
        .starts_with("/no/such.mapping: cannot read mapping"));
}

/// What Elasticsearch refuses, talon refuses, naming the file and field: a
/// type it does not have, an alias of a missing path, of an object, of
/// itself or of another alias (a loop). These used to load, and then the
/// query said `unknown field 'x'` with `did you mean 'x'?`.
#[test]
fn a_mapping_elasticsearch_refuses_is_an_error_naming_file_and_field() {
    let err = |json: &str| {
        Mapping::from_es_json_named(json, "m.json")
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(r#"{"mappings":{"properties":{"x":{"type":"nonsense"}}}}"#),
        "m.json: field `x` has the type `nonsense`, which is not an Elasticsearch field type \
         (Elasticsearch refuses the mapping: no handler for type [nonsense] declared on field [x])"
    );
    // A type that is not a string was taken as no type (an object).
    for t in ["5", "null", r#"["keyword"]"#] {
        assert_eq!(
            err(&format!(r#"{{"properties":{{"x":{{"type":{t}}}}}}}"#)),
            format!("m.json: field `x` has the type {t}, which is not a type name (a string)")
        );
    }
    // Sub-fields and flat field lists are checked too.
    assert_eq!(
        err(
            r#"{"properties":{"p":{"properties":{"n":{"type":"text","fields":{"k":{"type":"kw"}}}}}}}"#
        ),
        "m.json: field `p.n.k` has the type `kw`, which is not an Elasticsearch field type \
         (Elasticsearch refuses the mapping: no handler for type [kw] declared on field [p.n.k])"
    );
    assert_eq!(
        err(r#"{"process.name":"keywrd"}"#),
        "m.json: field `process.name` has the type `keywrd`, which is not an Elasticsearch \
         field type (Elasticsearch refuses the mapping: no handler for type [keywrd] declared \
         on field [process.name])"
    );
    // A `null_value` its field's type cannot read: the field would be
    // given a value it can never hold (`x == null` stopped matching).
    assert_eq!(
        err(r#"{"properties":{"x":{"type":"long","null_value":"abc"}}}"#),
        "m.json: field `x` has the `null_value` \"abc\", which its type cannot hold \
         (Elasticsearch refuses the mapping: failed to parse [null_value] of [x])"
    );
    assert_eq!(
        err(r#"{"properties":{"b":{"type":"boolean","null_value":"yes"}}}"#),
        "m.json: field `b` has the `null_value` \"yes\", which its type cannot hold \
         (Elasticsearch refuses the mapping: failed to parse [null_value] of [b])"
    );
    for ok in [
        r#"{"properties":{"x":{"type":"long","null_value":-1}}}"#,
        r#"{"properties":{"x":{"type":"long","null_value":"7"}}}"#,
        r#"{"properties":{"x":{"type":"double","null_value":1.5}}}"#,
        r#"{"properties":{"b":{"type":"boolean","null_value":"false"}}}"#,
        r#"{"properties":{"k":{"type":"keyword","null_value":"NULL"}}}"#,
    ] {
        assert!(Mapping::from_es_json_named(ok, "m.json").is_ok(), "{ok}");
    }
    assert_eq!(
        err(r#"{"runtime":{"r":{"type":"text"}}}"#),
        "m.json: runtime field `r` has the type `text`, which a runtime field cannot have (it \
         can be boolean, composite, date, double, geo_point, geo_shape, ip, keyword, long, \
         lookup; Elasticsearch refuses the mapping)"
    );
    assert_eq!(
        err(r#"{"mappings":{"properties":{"x":{"type":"alias","path":"nope"}}}}"#),
        "m.json: alias `x` has the path `nope`, which is not a field of this mapping; \
         Elasticsearch refuses an alias that does not refer to an existing field"
    );
    assert_eq!(
        err(
            r#"{"properties":{"x":{"type":"alias","path":"o"},"o":{"properties":{"a":{"type":"long"}}}}}"#
        ),
        "m.json: alias `x` has the path `o`, which is an object, not a field; Elasticsearch \
         refuses an alias that does not refer to an existing field"
    );
    assert_eq!(
        err(r#"{"properties":{"x":{"type":"alias","path":"y"},"y":{"type":"alias","path":"x"}}}"#),
        "m.json: alias `x` has the path `y`, which is itself an alias (of `x`); Elasticsearch \
         refuses an alias of an alias"
    );
    assert_eq!(
        err(r#"{"properties":{"x":{"type":"alias","path":"x"}}}"#),
        "m.json: alias `x` has itself as its `path`; Elasticsearch refuses an alias of itself"
    );
    // Each index of a `GET _mapping` response is checked on its own.
    assert_eq!(
        err(
            r#"{"a":{"mappings":{"properties":{"y":{"type":"long"}}}},"b":{"mappings":{"properties":{"x":{"type":"alias","path":"y"}}}}}"#
        ),
        "m.json: alias `x` has the path `y`, which is not a field of this mapping; \
         Elasticsearch refuses an alias that does not refer to an existing field"
    );
}

#[test]
fn every_elasticsearch_field_type_is_accepted() {
    let types = [
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
        "object",
        "flattened",
        "nested",
        "join",
        "passthrough",
        "integer_range",
        "float_range",
        "long_range",
        "double_range",
        "date_range",
        "ip_range",
        "ip",
        "version",
        "murmur3",
        "aggregate_metric_double",
        "histogram",
        "text",
        "match_only_text",
        "annotated_text",
        "completion",
        "search_as_you_type",
        "semantic_text",
        "token_count",
        "dense_vector",
        "sparse_vector",
        "rank_feature",
        "rank_features",
        "rank_vectors",
        "geo_point",
        "geo_shape",
        "point",
        "shape",
        "percolator",
        "counted_keyword",
        "icu_collation_keyword",
    ];
    let props: Vec<String> = types
        .iter()
        .map(|t| format!(r#""f_{t}":{{"type":"{t}"}}"#))
        .collect();
    let json = format!(
        r#"{{"properties":{{{},"a":{{"type":"alias","path":"f_long"}}}},"runtime":{{"r":{{"type":"lookup"}}}}}}"#,
        props.join(",")
    );
    let m = Mapping::from_es_json_named(&json, "all.json").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.field_paths().count(), types.len() + 1);
    assert_eq!(m.get("a").map(|f| f.ty), Some(FieldType::Long));
}

/// A schema is a field list, maybe from another vocabulary (`fields.yml`
/// has `array`): its types are taken as written, and its aliases too.
#[test]
fn a_schema_is_not_checked_as_a_mapping() {
    let (m, _) = Mapping::from_schema_str(
        r#"{"properties":{"tags":{"type":"array"},"x":{"type":"alias","path":"nope"}}}"#,
        "s.json",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.get("tags").map(|f| f.ty), Some(FieldType::Other));
    assert_eq!(m.resolve("x"), "nope");
}

/// A schema's fields know they came from a schema, and its read errors say
/// "schema", not "mapping".
#[test]
fn a_schemas_read_errors_say_schema() {
    let (m, _) = Mapping::from_schema_str("process.name keyword\n", "fields.txt").unwrap();
    assert!(m.sources().schema && !m.sources().mapping);
    let m = Mapping::from_es_json(r#"{"properties":{"a":{"type":"long"}}}"#).unwrap();
    assert!(m.sources().mapping && !m.sources().schema);
    let err = Mapping::from_schema_str("{\n  \"a\": ,\n}", "s.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "s.json:2:8: invalid schema JSON: expected value"
    );
    let missing =
        Mapping::from_schema_file(std::path::Path::new("/no/such/ecs_flat.yml")).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("/no/such/ecs_flat.yml: cannot read schema: "),
        "{missing}"
    );
}
