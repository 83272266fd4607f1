//! Exception items as Kibana exports them, bound to rules by their
//! `exceptions_list`, by target, and by silencing; each operator's meaning
//! checked on events built for it.

use std::path::Path;

use talon_engine::exceptions::{
    parse_entries, BoundExceptions, ExceptionItem, ExceptionSet, RuleTarget, Suppression,
};
use talon_event::flatten::flatten;
use talon_event::mapping::Mapping;
use talon_event::Event;
use talon_rules::{load_str, Rule, RuleFormat};

fn rule(id: &str, name: &str, exceptions_list: &str) -> Rule {
    let text = format!(
        "[metadata]\ncreation_date = \"2024/01/01\"\nmaturity = \"production\"\nupdated_date = \"2024/01/01\"\n\n\
         [rule]\nauthor = [\"t\"]\ndescription = \"d\"\nindex = [\"logs-*\"]\nlanguage = \"eql\"\nlicense = \"Elastic License v2\"\n\
         name = \"{name}\"\nrisk_score = 21\nrule_id = \"{id}\"\nseverity = \"low\"\ntype = \"eql\"\n{exceptions_list}\
         query = '''\nprocess where true\n'''\n"
    );
    let (mut rules, errors) = load_str(&text, Path::new("test.toml"), RuleFormat::Toml);
    assert!(errors.is_empty(), "{errors:?}");
    rules.remove(0)
}

fn ev(json: &str) -> Event {
    flatten(json).expect("event JSON")
}

const EXPORT: &str = r#"{"list_id":"fp-list","type":"detection","namespace_type":"single","name":"FP list","description":"d"}
{"item_id":"i-is","list_id":"fp-list","namespace_type":"single","name":"backup job","type":"simple","entries":[{"field":"process.name","operator":"included","type":"match","value":"backup"},{"field":"user.name","operator":"excluded","type":"match","value":"root"}]}
{"item_id":"i-any","list_id":"fp-list","namespace_type":"single","name":"package managers","type":"simple","entries":[{"field":"process.parent.name","operator":"included","type":"match_any","value":["apt","dnf"]}]}
{"item_id":"i-wild","list_id":"fp-list","namespace_type":"single","name":"opt tools","type":"simple","entries":[{"field":"process.executable","operator":"included","type":"wildcard","value":"/opt/*/bin/?ool"}]}
{"item_id":"i-exists","list_id":"fp-list","namespace_type":"single","name":"scanner tag","type":"simple","entries":[{"field":"labels.scanner","operator":"included","type":"exists"},{"field":"process.args","operator":"excluded","type":"match_any","value":["--real"]}]}
{"item_id":"i-list","list_id":"fp-list","namespace_type":"single","name":"trusted nets","type":"simple","entries":[{"field":"source.ip","operator":"included","type":"list","list":{"id":"trusted-nets","type":"ip_range"}}]}
{"item_id":"i-nested","list_id":"fp-list","namespace_type":"single","name":"signed by us","type":"simple","entries":[{"field":"process.Ext.code_signature","type":"nested","entries":[{"field":"subject_name","operator":"included","type":"match","value":"Us Inc"},{"field":"trusted","operator":"included","type":"match","value":"true"}]}]}
{"item_id":"i-os","list_id":"fp-list","namespace_type":"single","name":"windows only","type":"simple","os_types":["windows"],"entries":[{"field":"process.name","operator":"included","type":"match","value":"winonly"}]}
{"item_id":"i-text-list","list_id":"fp-list","namespace_type":"single","name":"text list item","type":"simple","entries":[{"field":"process.name","operator":"included","type":"list","list":{"id":"names","type":"text"}}]}
{"item_id":"other","list_id":"other-list","namespace_type":"agnostic","name":"not referenced","type":"simple","entries":[{"field":"process.name","operator":"included","type":"match","value":"sh"}]}
{"exported_exception_list_count":1,"exported_exception_list_item_count":9,"missing_exception_lists":[],"missing_exception_lists_count":0}
"#;

fn bound(rules: &[Rule], set: &ExceptionSet) -> BoundExceptions {
    let refs: Vec<&Rule> = rules.iter().collect();
    set.bind(&refs, &Mapping::default())
}

fn suppressed_by(b: &BoundExceptions, rule: usize, json: &str) -> Option<String> {
    b.check(rule, &ev(json)).map(|s| match s {
        Suppression::RuleSilenced => "rule silenced".to_string(),
        Suppression::HostSilenced { glob } => format!("host {glob}"),
        Suppression::Item { item_id, .. } => item_id.to_string(),
    })
}

#[test]
fn every_operator_of_a_kibana_export_applies_as_kibana_filters() {
    let mut set = ExceptionSet::default();
    let errors = set.add_export_ndjson(EXPORT, "export.ndjson");
    assert!(errors.is_empty(), "{errors:?}");
    set.add_value_list_text(
        "trusted-nets",
        "10.0.0.0/8\n192.168.1.10-192.168.1.20\n\n2001:db8::/32\n",
    );
    set.add_value_list_text("names", "bash\n");
    let rules = vec![
        rule("r1", "With list", "exceptions_list = [{id = \"x\", list_id = \"fp-list\", namespace_type = \"single\", type = \"detection\"}]\n"),
        rule("r2", "Without list", ""),
        rule("r3", "Missing list", "exceptions_list = [{id = \"y\", list_id = \"nope\", namespace_type = \"single\", type = \"detection\"}]\n"),
    ];
    let b = bound(&rules, &set);
    assert_eq!(
        b.warnings,
        vec![
            "rule \"With list\": The following exceptions won't be applied to rule execution: text list item \
             (text list item: value list `names` cannot be used (an exception cannot match a list of type `text`))".to_string(),
            "rule \"Missing list\": exception list `nope` (single) is not loaded; pass its export with --exceptions".to_string(),
        ]
    );
    assert_eq!(b.rule(0).map(|r| r.item_count()), Some(7));
    let s = |json: &str| suppressed_by(&b, 0, json);
    // is + is not: the missing user.name satisfies "is not root".
    assert_eq!(
        s(r#"{"process":{"name":"backup"},"user":{"name":"alice"}}"#).as_deref(),
        Some("i-is")
    );
    assert_eq!(
        s(r#"{"process":{"name":"backup"}}"#).as_deref(),
        Some("i-is")
    );
    assert_eq!(
        s(r#"{"process":{"name":"backup"},"user":{"name":"root"}}"#),
        None
    );
    // match_phrase on a keyword is case-sensitive.
    assert_eq!(s(r#"{"process":{"name":"Backup"}}"#), None);
    // is one of, over a multi-valued field too.
    assert_eq!(
        s(r#"{"process":{"parent":{"name":["x","dnf"]}}}"#).as_deref(),
        Some("i-any")
    );
    assert_eq!(s(r#"{"process":{"parent":{"name":"yum"}}}"#), None);
    // wildcard: `*` and `?`, case-sensitive.
    assert_eq!(
        s(r#"{"process":{"executable":"/opt/acme/bin/tool"}}"#).as_deref(),
        Some("i-wild")
    );
    assert_eq!(
        s(r#"{"process":{"executable":"/opt/acme/bin/TOOL"}}"#),
        None
    );
    assert_eq!(
        s(r#"{"process":{"executable":"/opt/acme/bin/xtool"}}"#),
        None
    );
    // exists (an object counts when a field below it has a value) and
    // is not one of.
    assert_eq!(
        s(r#"{"labels":{"scanner":"x"},"process":{"args":["a"]}}"#).as_deref(),
        Some("i-exists")
    );
    assert_eq!(
        s(r#"{"labels":{"scanner":"x"},"process":{"args":["a","--real"]}}"#),
        None
    );
    assert_eq!(s(r#"{"labels":{"other":"x"}}"#), None);
    // value list of ip_range: CIDR, dash range, IPv6.
    assert_eq!(
        s(r#"{"source":{"ip":"10.1.2.3"}}"#).as_deref(),
        Some("i-list")
    );
    assert_eq!(
        s(r#"{"source":{"ip":"192.168.1.15"}}"#).as_deref(),
        Some("i-list")
    );
    assert_eq!(
        s(r#"{"source":{"ip":"2001:db8::1"}}"#).as_deref(),
        Some("i-list")
    );
    assert_eq!(s(r#"{"source":{"ip":"192.168.1.21"}}"#), None);
    // nested: both entries on the same object of the array.
    assert_eq!(
        s(r#"{"process":{"Ext":{"code_signature":[{"subject_name":"Other","trusted":true},{"subject_name":"Us Inc","trusted":true}]}}}"#).as_deref(),
        Some("i-nested")
    );
    assert_eq!(
        s(
            r#"{"process":{"Ext":{"code_signature":[{"subject_name":"Us Inc","trusted":false},{"subject_name":"Other","trusted":true}]}}}"#
        ),
        None
    );
    // Dotted keys stand for the objects they name, as Elasticsearch
    // expands them (found by a tester: a nested entry on `process.parent`
    // missed `"process.parent.name": "bash"`, which a plain entry matched).
    assert_eq!(
        s(r#"{"process.Ext.code_signature":{"subject_name":"Us Inc","trusted":true}}"#).as_deref(),
        Some("i-nested")
    );
    // Each dotted key is expanded alone: two keys below the nested path
    // are two nested documents, each holding one of the values, so no one
    // object holds both (found by the next tester: an object and a
    // one-element array of it answered differently).
    assert_eq!(
        s(
            r#"{"process.Ext.code_signature.subject_name":"Us Inc","process.Ext.code_signature.trusted":true}"#
        ),
        None
    );
    assert_eq!(
        s(
            r#"{"process":{"Ext":{"code_signature":{"subject_name":"Us Inc"}}},"process.Ext.code_signature.trusted":true}"#
        ),
        None
    );
    assert_eq!(
        s(
            r#"{"process":{"Ext":{"code_signature":[{"subject_name":"Us Inc"}]}},"process.Ext.code_signature.trusted":true}"#
        ),
        None
    );
    assert_eq!(
        s(r#"{"process":{"Ext.code_signature":[{"subject_name":"Other","trusted":true},{"subject_name":"Us Inc","trusted":"true"}]}}"#).as_deref(),
        Some("i-nested")
    );
    assert_eq!(
        s(
            r#"{"process.Ext":{"code_signature":[{"subject_name":"Us Inc","trusted":false},{"subject_name":"Other","trusted":true}]}}"#
        ),
        None
    );
    // os_types: host.os.type, or host.os.name.caseless.
    assert_eq!(
        s(r#"{"process":{"name":"winonly"},"host":{"os":{"type":"windows"}}}"#).as_deref(),
        Some("i-os")
    );
    assert_eq!(
        s(r#"{"process":{"name":"winonly"},"host":{"os":{"name":{"caseless":"Windows"}}}}"#)
            .as_deref(),
        Some("i-os")
    );
    assert_eq!(
        s(r#"{"process":{"name":"winonly"},"host":{"os":{"type":"linux"}}}"#),
        None
    );
    // The text-typed value list is not applied (Kibana cannot either).
    assert_eq!(s(r#"{"process":{"name":"bash"}}"#), None);
    // Rules without the list reference are not affected.
    assert_eq!(
        suppressed_by(&b, 1, r#"{"process":{"name":"backup"}}"#),
        None
    );
    assert_eq!(
        suppressed_by(&b, 2, r#"{"process":{"name":"backup"}}"#),
        None
    );
}

#[test]
fn targeted_items_and_silencing() {
    let mut set = ExceptionSet::default();
    let entries: serde_json::Value = serde_json::from_str(
        r#"[{"field":"process.name","operator":"is","type":"match","value":"cron"}]"#,
    )
    .expect("json");
    let entries =
        parse_entries(entries.as_array().expect("array"), "talon.toml", "cfg-1").expect("entries");
    let item = ExceptionItem {
        item_id: "cfg-1".into(),
        list_id: "talon.toml".into(),
        namespace_type: "single".into(),
        name: "cron is fine".into(),
        entries,
        os_types: Vec::new(),
    };
    set.add_rule_item(RuleTarget::NameGlob("*forwarding*".into()), item);
    set.silence_rule("r-noisy");
    set.silence_rule("Chatty *");
    set.silence_host("build-*.example.com");
    let rules = vec![
        rule("r1", "IP Forwarding Activity", ""),
        rule("r-noisy", "Noisy", ""),
        rule("r3", "chatty rule", ""),
        rule("r4", "Other", ""),
    ];
    let b = bound(&rules, &set);
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    assert_eq!(
        suppressed_by(&b, 0, r#"{"process":{"name":"cron"}}"#).as_deref(),
        Some("cfg-1")
    );
    assert_eq!(suppressed_by(&b, 3, r#"{"process":{"name":"cron"}}"#), None);
    assert_eq!(
        suppressed_by(&b, 1, r#"{"process":{"name":"x"}}"#).as_deref(),
        Some("rule silenced")
    );
    assert_eq!(
        suppressed_by(&b, 2, r#"{"process":{"name":"x"}}"#).as_deref(),
        Some("rule silenced")
    );
    assert_eq!(
        suppressed_by(&b, 3, r#"{"host":{"name":"BUILD-7.example.com"}}"#).as_deref(),
        Some("host build-*.example.com")
    );
    assert_eq!(
        suppressed_by(&b, 3, r#"{"host":{"name":"web-1.example.com"}}"#),
        None
    );
}

/// Each error says where it is in the text: the value an entry cannot
/// use, the place the JSON breaks (after the last byte when the line just
/// stops), or else the object's first byte; the message itself names no
/// place, so the caller gives it once.
#[test]
fn bad_objects_are_errors_at_their_place_in_the_text() {
    let mut set = ExceptionSet::default();
    let text = "{\"item_id\":\"a\",\"list_id\":\"l\",\"entries\":[{\"field\":\"x\",\"operator\":\"included\",\"type\":\"regex\",\"value\":\"y\"}]}\nnot json\n  {\"item_id\":\"b\",\"list_id\":\"l\",\"entries\":[]}\n{\"list_id\":\"x\",\n";
    let errors = set.add_export_ndjson(text, "e.ndjson");
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "exception item `a`: entry on `x`: unknown type `regex` \
             (expected match, match_any, wildcard, exists, list or nested)",
            "invalid JSON: expected ident",
            "exception item `b`: an exception item needs at least one entry",
            "invalid JSON: EOF while parsing a value",
        ]
    );
    let spans: Vec<std::ops::Range<usize>> = errors.into_iter().map(|e| e.span).collect();
    // The unknown type, without its quotes.
    let regex = text.find("regex").unwrap();
    assert_eq!(spans[0], regex..regex + 5);
    // `not json`: serde_json stops at its second byte.
    let not_json = text.find("not json").unwrap();
    assert_eq!(spans[1], not_json + 1..not_json + 1);
    // An item without entries: at its empty `entries` list.
    let empty = text.find("[]}").unwrap();
    assert_eq!(spans[2], empty..empty + 2);
    // The cut line: right after its last byte (the `,`), not on the line
    // after it.
    let comma = text.len() - 2;
    assert_eq!(&text[comma..comma + 1], ",");
    assert_eq!(spans[3], comma + 1..comma + 1);
}

/// `is_empty` is what `talon hunt` asks to skip exceptions altogether: it
/// must say "empty" only when nothing at all can be suppressed.
#[test]
fn bound_exceptions_are_empty_only_when_nothing_can_be_suppressed() {
    let rules = vec![rule("r1", "One", ""), rule("r2", "Two", "")];
    assert!(BoundExceptions::default().is_empty());
    assert!(bound(&rules, &ExceptionSet::default()).is_empty());

    let mut by_rule = ExceptionSet::default();
    by_rule.silence_rule("r2");
    assert!(!bound(&rules, &by_rule).is_empty());
    // Silencing a rule that is not loaded suppresses nothing.
    let mut other = ExceptionSet::default();
    other.silence_rule("r9");
    assert!(bound(&rules, &other).is_empty());

    let mut by_host = ExceptionSet::default();
    by_host.silence_host("build-*");
    assert!(!bound(&rules, &by_host).is_empty());
}

/// A value list saved by a Windows editor (a byte-order mark, CRLF) and an
/// export starting with a mark hold the same values as plain ones.
#[test]
fn a_byte_order_mark_is_not_part_of_the_first_value_or_line() {
    let mut set = ExceptionSet::default();
    let errors = set.add_export_ndjson(&format!("\u{feff}{EXPORT}"), "export.ndjson");
    assert!(errors.is_empty(), "{errors:?}");
    set.add_value_list_text("trusted-nets", "\u{feff}10.0.0.0/8\r\n");
    let rules = vec![rule(
        "r1",
        "With list",
        "exceptions_list = [{id = \"x\", list_id = \"fp-list\", namespace_type = \"single\", type = \"detection\"}]\n",
    )];
    let b = bound(&rules, &set);
    assert_eq!(
        suppressed_by(&b, 0, r#"{"source":{"ip":"10.1.2.3"}}"#).as_deref(),
        Some("i-list")
    );
}

/// An error deep in an item's entries is at the value it is about, found
/// by its path in the object: not at the object's first byte (a bad value
/// of a `match_any` list inside a nested entry), and not at an earlier
/// value that happens to hold the same text (the item's name `iz` before
/// the unknown operator `iz`); a saved-objects item's path runs through
/// its `attributes`.
#[test]
fn entry_errors_point_at_their_value_by_path() {
    let lines = [
        r#"{"item_id":"a","list_id":"l","name":"x","entries":[{"field":"p","type":"nested","entries":[{"field":"q","type":"match_any","operator":"included","value":["x",{"b":1}]}]}]}"#,
        r#"{"item_id":"b","list_id":"l","name":"iz","entries":[{"field":"a","type":"match","operator":"included","value":"iz"},{"field":"c","type":"match","operator":"iz","value":"y"}]}"#,
        r#"{"type":"exception-list","attributes":{"item_id":"c","list_id":"l","entries":[{"field":"f","type":"list","operator":"included","list":{"type":"ip"}}]}}"#,
        r#"{"item_id":"d","list_id":"l","entries":[{"field":"g","type":"match_any","operator":"included","value":[]}]}"#,
        r#"{"item_id":"e","list_id":"l","entries":[{"field":"h","type":"match","operator":"included","value":" \ufeff"}]}"#,
        r#"{"item_id":"f","list_id":"l","entries":[{"field":"i","type":"match_any","operator":"included","value":["ok",""]}]}"#,
    ];
    let text = lines.join("\n") + "\n";
    let mut set = ExceptionSet::default();
    let errors = set.add_export_ndjson(&text, "e.ndjson");
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.message.as_str(), &text[e.span.clone()]))
        .collect();
    assert_eq!(
        found,
        [
            (
                "exception item `a`: entry `match_any` on `q`: values must be strings",
                r#"{"b":1}"#
            ),
            (
                "exception item `b`: entry on `c`: unknown operator `iz`",
                "iz"
            ),
            (
                "exception item `c`: entry `list` on `f` has no `list.id`",
                r#"{"type":"ip"}"#
            ),
            (
                "exception item `d`: entry `match_any` on `g` has no values",
                "[]"
            ),
            // Found by a tester: an empty value was taken, and matched an
            // empty string.
            (
                "exception item `e`: entry `match` on `h`: `value` is empty or blank, which \
                 Kibana refuses",
                " \\ufeff"
            ),
            (
                "exception item `f`: entry `match_any` on `i`: value 2 is empty or blank, which \
                 Kibana refuses",
                ""
            ),
        ]
    );
    let offsets: Vec<usize> = errors.iter().map(|e| e.span.start).collect();
    let line2 = lines[0].len() + 1;
    assert_eq!(offsets[0], lines[0].find(r#"{"b":1}"#).unwrap());
    assert_eq!(offsets[1], line2 + lines[1].rfind(r#""iz""#).unwrap() + 1);
}

/// A list or item whose `namespace_type` is neither `single` nor
/// `agnostic` was kept, in a namespace no rule can name; Kibana refuses
/// it. It is an error at the value (through a saved object's
/// `attributes` too), and the object is not kept; absent or null is
/// Kibana's default, `single`.
#[test]
fn a_namespace_type_kibana_does_not_have_is_an_error_at_the_value() {
    let lines = [
        r#"{"list_id":"l","type":"detection","name":"L","namespace_type":"global"}"#,
        r#"{"item_id":"a","list_id":"l","name":"A","namespace_type":"Agnostic","entries":[{"field":"f","type":"exists","operator":"included"}]}"#,
        r#"{"item_id":"b","list_id":"l","name":"B","namespace_type":1,"entries":[{"field":"f","type":"exists","operator":"included"}]}"#,
        r#"{"type":"exception-list-agnostic","attributes":{"list_id":"m","name":"M","namespace_type":"space"}}"#,
        r#"{"item_id":"c","list_id":"l","name":"C","namespace_type":null,"entries":[{"field":"f","type":"exists","operator":"included"}]}"#,
        r#"{"list_id":"n","type":"detection","name":"N","namespace_type":"agnostic"}"#,
    ];
    let text = lines.join("\n") + "\n";
    let mut set = ExceptionSet::default();
    let errors = set.add_export_ndjson(&text, "e.ndjson");
    let found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.message.as_str(), &text[e.span.clone()]))
        .collect();
    assert_eq!(
        found,
        [
            (
                "exception list `l`: unknown `namespace_type` \"global\" (expected single or agnostic)",
                "global"
            ),
            (
                "exception item `a`: unknown `namespace_type` \"Agnostic\" (expected single or agnostic)",
                "Agnostic"
            ),
            (
                "exception item `b`: `namespace_type` must be single or agnostic, found a number",
                "1"
            ),
            (
                "exception list `m`: unknown `namespace_type` \"space\" (expected single or agnostic)",
                "space"
            ),
        ]
    );
    // The good ones (`c` with a null namespace, list `n`) are kept: item
    // `c` applies to a rule naming list `l` in the default namespace.
    let rules = vec![rule(
        "r1",
        "With list",
        "exceptions_list = [{id = \"x\", list_id = \"l\", type = \"detection\"}]\n",
    )];
    let b = bound(&rules, &set);
    assert_eq!(suppressed_by(&b, 0, r#"{"f":"x"}"#).as_deref(), Some("c"));
}

/// A keyword string longer than the field's `ignore_above` is not indexed:
/// Kibana's exception filter (a query, as a rule filter is) cannot match
/// it, nor does it make the field exist. Exceptions compared it as text,
/// where rule filters did not, so an alert Kibana raises was suppressed.
#[test]
fn a_keyword_past_ignore_above_is_not_matched_by_an_exception() {
    const ITEMS: &str = r#"{"list_id":"long","type":"detection","namespace_type":"single","name":"l","description":"d"}
{"item_id":"i-name","list_id":"long","namespace_type":"single","name":"by name","type":"simple","entries":[{"field":"host.name","operator":"included","type":"match","value":"a-very-long-name"}]}
{"item_id":"i-wild","list_id":"long","namespace_type":"single","name":"by pattern","type":"simple","entries":[{"field":"host.name","operator":"included","type":"wildcard","value":"b-very-*"}]}
{"item_id":"i-exists","list_id":"long","namespace_type":"single","name":"has it","type":"simple","entries":[{"field":"host.name","operator":"included","type":"exists"},{"field":"process.name","operator":"included","type":"match","value":"probe"}]}
"#;
    let mapping = Mapping::from_es_json(
        r#"{"mappings":{"properties":{
            "host":{"properties":{"name":{"type":"keyword","ignore_above":8}}},
            "process":{"properties":{"name":{"type":"keyword"}}}
        }}}"#,
    )
    .expect("mapping");
    let mut set = ExceptionSet::default();
    let errors = set.add_export_ndjson(ITEMS, "long.ndjson");
    assert!(errors.is_empty(), "{errors:?}");
    let rules = [rule(
        "r1",
        "With list",
        "exceptions_list = [{id = \"x\", list_id = \"long\", namespace_type = \"single\", type = \"detection\"}]\n",
    )];
    let refs: Vec<&Rule> = rules.iter().collect();
    let b = set.bind(&refs, &mapping);
    let check = |json: &str| suppressed_by(&b, 0, json);
    // Longer than 8: not indexed, so not matched, and not there for `exists`.
    assert_eq!(check(r#"{"host":{"name":"a-very-long-name"}}"#), None);
    assert_eq!(check(r#"{"host":{"name":"b-very-long"}}"#), None);
    assert_eq!(
        check(r#"{"host":{"name":"too-long-x"},"process":{"name":"probe"}}"#),
        None
    );
    // Within it, as before.
    assert_eq!(
        check(r#"{"host":{"name":"b-very-"}}"#),
        Some("i-wild".to_string())
    );
    assert_eq!(
        check(r#"{"host":{"name":["short","too-long-x"]},"process":{"name":"probe"}}"#),
        Some("i-exists".to_string())
    );
    // Without the mapping's cap, the long name is an ordinary value.
    let plain = set.bind(&refs, &Mapping::default());
    assert_eq!(
        suppressed_by(&plain, 0, r#"{"host":{"name":"a-very-long-name"}}"#),
        Some("i-name".to_string())
    );
}
