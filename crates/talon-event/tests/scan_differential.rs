//! The scanner against the flattener: for every line of the shared corpora,
//! of generated ECS events and of hand-written edge cases, under several
//! projections, the scanner either hands the line back or gives exactly the
//! flattener's values, and it never accepts a line the flattener rejects.

mod common;
mod scan_common;

use std::collections::BTreeSet;

use scan_common::{
    check, files_under, generated, prebuilt_fields, prebuilt_leaves, Outcome, Tally,
};
use talon_event::catalog::FieldCatalog;
use talon_event::flatten::{Flattener, MAX_DEPTH};
use talon_event::scan::{RawDoc, Scanner};
use talon_event::Value;

const FEW: &[&str] = &[
    "@timestamp",
    "event.category",
    "process.name",
    "process.args",
    "process.parent.name",
    "host.os.type",
    "user.name",
];

fn scanner(paths: &[impl AsRef<str>]) -> Scanner {
    Scanner::new(FieldCatalog::new(paths))
}

/// Every leaf path of every line that flattens, plus every proper dotted
/// prefix of one as a path of its own every seventh time (kept prefixes
/// keep whatever lies below them, which the scanner leaves to the
/// flattener).
fn leaves_of<'l>(lines: impl IntoIterator<Item = &'l [u8]>) -> Vec<String> {
    let mut out = BTreeSet::new();
    let all = Flattener::new();
    for line in lines {
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        if let Ok(fields) = all.fields(text) {
            out.extend(fields.keys().map(|k| k.to_string()));
        }
    }
    out.into_iter().collect()
}

/// Scanners over the hand-written cases' fields.
fn edge_scanners(leaves: &[String]) -> Vec<(&'static str, Scanner)> {
    let kept = [
        "a", "b.c", "b.d", "x.y.z", "arr", "arr.k", "n", "s", "f", "é",
    ];
    let with_nulls = FieldCatalog::new(kept)
        .with_null_value("n", Value::str("NULL"))
        .with_null_value("arr", Value::Int(-1));
    vec![
        ("kept", scanner(&kept)),
        ("with null_values", Scanner::new(with_nulls)),
        ("prefix b", scanner(&["b", "a"])),
        ("deep", scanner(&["a.b.c", "deep"])),
        ("empty segments", scanner(&["", ".a", "a.", "a..b"])),
        ("every leaf", scanner(leaves)),
        ("nothing", scanner(&[] as &[&str])),
    ]
}

fn nest(open: &str, close: &str, n: usize, inner: &str) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// Documents that take the scanner through every rule it mirrors.
fn edge_cases() -> Vec<Vec<u8>> {
    let mut docs: Vec<String> = [
        r#"{"a":1}"#,
        r#"{"a.b":1,"a":{"b":2}}"#,
        r#"{"b":{"c":"x"},"b.c":"y","b.d":true}"#,
        r#"{"b":{"c":"x"},"b":{"d":1}}"#,
        r#"{"x":{"y.z":1},"x.y":{"z":2},"x.y.z":[3]}"#,
        r#"{"x":{"y":{"z":{"deeper":1}}}}"#,
        r#"{"arr":[1,[2,[3,[]]],{"k":1},null,[{"k":[2,{"k":3}]}]]}"#,
        r#"{"arr":[{"a":1},{"a":2}],"a":[[[]]]}"#,
        r#"{"arr":[null,[null],{}]}"#,
        r#"{"s":"\u00e9\ud83d\ude00\/\\\"\n\t\b\f\r\u0000"}"#,
        r#"{"s":"plain","b":{"c":"caf\u00e9 ☕"}}"#,
        r#"{"s":"\ud800"}"#,
        r#"{"s":"\udc00x"}"#,
        r#"{"s":"\ud800\u0041"}"#,
        r#"{"zz":"\ud800","s":"ok"}"#,
        r#"{"zz":{"q":"\udfff"}}"#,
        r#"{"s":"\x"}"#,
        r#"{"zz":"\x"}"#,
        r#"{"s":"\u12G4"}"#,
        r#"{"n":null}"#,
        r#"{"n":[null,1,null]}"#,
        r#"{"b":null,"b.c":null}"#,
        r#"{"f":1e400}"#,
        r#"{"f":-1e400}"#,
        r#"{"zz":1e400,"f":1}"#,
        r#"{"zz":[1e400,{"q":-1E+99999}]}"#,
        r#"{"b":1e400}"#,
        r#"{"f":-0}"#,
        r#"{"f":-0.0}"#,
        r#"{"f":0}"#,
        r#"{"f":0.1}"#,
        r#"{"f":1e308}"#,
        r#"{"f":1.7976931348623157e308}"#,
        r#"{"f":1.7976931348623159e308}"#,
        r#"{"f":2.5e-324}"#,
        r#"{"f":1.5e-400}"#,
        r#"{"f":12345678901234567890}"#,
        r#"{"f":123456789012345678901234567890}"#,
        r#"{"f":-9223372036854775808}"#,
        r#"{"f":-9223372036854775809}"#,
        r#"{"f":9223372036854775807}"#,
        r#"{"f":9223372036854775808}"#,
        r#"{"f":18446744073709551615}"#,
        r#"{"f":18446744073709551616}"#,
        r#"{"f":1E2,"a":1e-2,"s":0.000001}"#,
        r#"{"f":[1.0,2.50,3e0]}"#,
        r#"{"a":[]}"#,
        r#"{"a":{}}"#,
        r#"{}"#,
        r#"{"a":1,"a":2}"#,
        r#"{"a":1,"\u0061":2}"#,
        r#"{"\u0061":1}"#,
        r#"{"zz":{"\u0061":1,"a":2}}"#,
        r#"{"zz":{"q":1,"q":2}}"#,
        r#"{"b":{"c":1,"c":2}}"#,
        r#"{"b":{"zz":1,"zz":2}}"#,
        r#"{"b":[{"c":1},{"c":2}]}"#,
        r#"{"b":[{"c":1,"c":2}]}"#,
        r#"{"zz":[{"c":1,"c":2}]}"#,
        r#"{"":{"a":1}}"#,
        r#"{"":1,"a":2}"#,
        r#"{"a":{"":1}}"#,
        r#"{"a.":1,".a":2,"a..b":3}"#,
        r#"{"a":{"":{"b":4}}}"#,
        r#"{"é":1,"b":{"é":2}}"#,
        r#"{"a":1}x"#,
        r#"{"a":1} "#,
        "{\"a\":1}\n",
        "{\"a\":1}\r\n",
        r#"{"a":1}{}"#,
        r#"{"a":1},"#,
        " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { \"c\" : \"x\" , \"zz\" : [ { } , [ ] ] } } \t",
        "\u{feff}{\"a\":1}",
        "\x0c{\"a\":1}",
        "{\"a\":1}\x0c",
        "{\"a\":\"x\u{1}\"}",
        "{\"zz\":\"x\u{1f}\"}",
        "{\"a\":\"x\u{7f}\"}",
        r#"{"a":"x\u0001"}"#,
        "[1]",
        r#""x""#,
        "1",
        "null",
        "true",
        "",
        " ",
        "[]",
        "{",
        "}",
        r#"{"a":01}"#,
        r#"{"zz":01}"#,
        r#"{"a":1.}"#,
        r#"{"a":.5}"#,
        r#"{"a":+1}"#,
        r#"{"a":-}"#,
        r#"{"a":1e}"#,
        r#"{"a":1e+}"#,
        r#"{"a":-01}"#,
        r#"{"a":1.5.2}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        r#"{"a":truee}"#,
        r#"{"zz":nulll}"#,
        r#"{"a":NaN}"#,
        r#"{"a":Infinity}"#,
        r#"{"a":1,}"#,
        r#"{,"a":1}"#,
        r#"{"a" 1}"#,
        r#"{"a"::1}"#,
        r#"{"a":[1,]}"#,
        r#"{"a":[,1]}"#,
        r#"{"zz":[1,]}"#,
        r#"{"zz":{"a":1,}}"#,
        r#"{"zz":{"a"}}"#,
        r#"{"zz":[}"#,
        r#"{"zz":{]}"#,
        r#"{'a':1}"#,
        r#"{"a":1}}"#,
        r#"{"a":{"b":1}"#,
        r#"{"a":"x"#,
        r#"{"zz":"x"#,
        r#"{"a":"x\"#,
        r#"{"a":1 /* c */}"#,
        r#"{"zz":"quotes \" and brackets [{ inside"}"#,
    ]
    .map(String::from)
    .to_vec();

    // The depth limit, in kept and in skipped parts: 127 open arrays and
    // objects are allowed, the 128th is not.
    for n in [MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 5] {
        let arrays = nest("[", "]", n, "1");
        docs.push(format!(r#"{{"a":{arrays}}}"#));
        docs.push(format!(r#"{{"zz":{arrays}}}"#));
        docs.push(format!(r#"{{"zz":{arrays},"a":1}}"#));
        let objects = nest(r#"{"deep":"#, "}", n, "1");
        docs.push(format!(r#"{{"deep":{objects}}}"#));
        docs.push(format!(r#"{{"zz":{objects}}}"#));
        let mixed = nest(r#"[{"b":"#, "}]", n / 2, "2");
        docs.push(format!(r#"{{"a":{mixed}}}"#));
        docs.push(format!(r#"{{"zz":{mixed}}}"#));
    }
    docs.push(format!(r#"{{"a":"{}"}}"#, "x".repeat(1000)));
    docs.push(format!(
        r#"{{"zz":"{}\u00e9{}"}}"#,
        "y".repeat(77),
        "é".repeat(40)
    ));
    docs.push(format!(r#"{{"a":{}}}"#, "9".repeat(400)));
    docs.push(format!(r#"{{"a":{}.5}}"#, "9".repeat(300)));
    docs.push(format!(r#"{{"zz":{}}}"#, "9".repeat(400)));
    let many: Vec<String> = (0..300).map(|i| format!(r#""k{i}":{i}"#)).collect();
    docs.push(format!("{{{},\"a\":1}}", many.join(",")));
    docs.push(format!("{{{},\"k7\":1}}", many.join(",")));

    let mut out: Vec<Vec<u8>> = docs.into_iter().map(String::into_bytes).collect();
    out.push(b"{\"a\":\"\xff\"}".to_vec());
    out.push(b"{\"zz\":\"\xc3\"}".to_vec());
    out.push(b"{\"a\":\"\xed\xa0\x80\"}".to_vec());
    out.push(b"{\"a\":1}\xff".to_vec());
    out.push(b"{\xc3\xa9:1}".to_vec());
    out
}

#[test]
fn edge_cases_match_the_flattener() {
    let docs = edge_cases();
    let leaves = leaves_of(docs.iter().map(Vec::as_slice));
    let mut doc = RawDoc::new();
    for (name, scanner) in edge_scanners(&leaves) {
        let mut tally = Tally::default();
        for line in &docs {
            tally.add(check(&scanner, &mut doc, line));
        }
        println!("{name}: {tally:?}");
        assert!(tally.fast > 0, "{name}: nothing took the fast path");
    }
}

/// The cases the scanner must handle itself rather than hand back.
#[test]
fn common_shapes_take_the_fast_path() {
    let leaves: Vec<String> = [
        "a", "a.b", "b.c", "b.d", "x.y.z", "arr", "arr.k", "n", "s", "f",
    ]
    .map(String::from)
    .to_vec();
    let scanner = scanner(&leaves);
    let mut doc = RawDoc::new();
    let fast = [
        r#"{"a.b":1,"a":{"b":2}}"#,
        r#"{"x":{"y.z":1},"x.y":{"z":2},"x.y.z":[3]}"#,
        r#"{"arr":[1,[2,[3,[]]],{"k":1},null]}"#,
        r#"{"s":"\u00e9\ud83d\ude00\/\\\"\n"}"#,
        r#"{"f":[-0,1e308,12345678901234567890,-9223372036854775808,0.1]}"#,
        r#"{"zz":{"q":1,"q":2},"zz2":"\ud83d\ude00","zz3":1e300}"#,
        r#"{"zz":{"\u0061":1}}"#,
        " { \"a\" : { \"b\" : [ 1 , 2 ] } } \r\n",
        r#"{"n":null,"a":[],"b":{}}"#,
    ];
    for line in fast {
        assert_eq!(
            check(&scanner, &mut doc, line.as_bytes()),
            Outcome::Fast,
            "{line}"
        );
    }
    // And those it must hand back, because the flattener rejects them.
    let rejected = [
        r#"{"a":1,"a":2}"#,
        r#"{"b":{"c":1,"c":2}}"#,
        r#"{"s":"\ud800"}"#,
        r#"{"f":1e400}"#,
        // Also where no field is read: a read of every field refuses them.
        r#"{"zz2":"\ud800"}"#,
        r#"{"zz":[{"q":-1e400}]}"#,
        "\u{feff}{\"a\":1}",
        r#"{"a":1}x"#,
        "[1]",
    ];
    for line in rejected {
        assert!(Flattener::new().fields(line).is_err(), "{line}");
        assert_eq!(
            check(&scanner, &mut doc, line.as_bytes()),
            Outcome::Rejected,
            "{line}"
        );
    }
}

#[test]
fn null_values_stand_in_for_explicit_nulls_only() {
    let catalog = FieldCatalog::new(["n", "m"]).with_null_value("n", Value::str("NULL"));
    let scanner = Scanner::new(catalog);
    let mut doc = RawDoc::new();
    let line = br#"{"n":[null,"x",[null]],"m":null}"#;
    assert_eq!(check(&scanner, &mut doc, line), Outcome::Fast);
    let record = scanner.read(line, &mut doc).expect("fast path");
    use talon_event::Fields;
    assert_eq!(
        record.values("n"),
        &[Value::str("NULL"), Value::str("x"), Value::str("NULL")]
    );
    assert!(record.values("m").is_empty());
    assert!(!record.to_event().expect("event").fields_from_source());
}

#[test]
fn generated_events_match_the_flattener() {
    // As `talon-bench-gen --size 5MB --seed 7 --matches 50`.
    let data = generated(5_000_000, 7, 50);
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut doc = RawDoc::new();
    for (name, scanner, all_fast) in [
        ("prebuilt leaves", scanner(&prebuilt_leaves()), true),
        (
            "prebuilt (data_stream as a prefix)",
            scanner(&prebuilt_fields()),
            false,
        ),
        ("few", scanner(FEW), true),
        ("one", scanner(&["process.name"]), true),
        (
            "every leaf",
            scanner(&leaves_of(lines.iter().copied())),
            true,
        ),
    ] {
        let mut tally = Tally::default();
        for line in &lines {
            tally.add(check(&scanner, &mut doc, line));
        }
        println!("{name}: {tally:?}");
        if all_fast {
            assert_eq!(tally.fallback, 0, "{name}");
        }
    }
}

/// One document per line of each file, and, for a file that is one JSON
/// value, that value (pretty, as written) and each element of it compact.
fn corpus_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
        out.push(bytes.to_vec());
        let elements = match &value {
            serde_json::Value::Array(items) => items.clone(),
            serde_json::Value::Object(_) => vec![value.clone()],
            _ => Vec::new(),
        };
        for e in elements {
            if let Ok(text) = serde_json::to_string(&e) {
                out.push(text.into_bytes());
            }
        }
    }
    out
}

#[test]
fn corpus_lines_match_the_flattener() {
    let Some(root) = common::corpora() else {
        return;
    };
    let mut lines = Vec::new();
    for dir in ["events", "es-eql-qa"] {
        for file in files_under(&root.join(dir)) {
            if let Ok(bytes) = std::fs::read(&file) {
                lines.extend(corpus_lines(&bytes));
            }
        }
    }
    assert!(
        lines.len() > 1000,
        "only {} lines in the corpus",
        lines.len()
    );
    let leaves = leaves_of(lines.iter().map(Vec::as_slice));
    let mut doc = RawDoc::new();
    for (name, scanner) in [
        ("prebuilt", scanner(&prebuilt_fields())),
        ("prebuilt leaves", scanner(&prebuilt_leaves())),
        ("few", scanner(FEW)),
        ("one", scanner(&["process.name"])),
        ("every leaf", scanner(&leaves)),
    ] {
        let mut tally = Tally::default();
        for line in &lines {
            let outcome = check(&scanner, &mut doc, line);
            if outcome == Outcome::Fallback && tally.fallback < 5 {
                println!("{name}: handed back {}", scan_common::show(line));
            }
            tally.add(outcome);
        }
        println!("{name}: {tally:?} of {} lines", lines.len());
        assert!(tally.fast > 100, "{name}: {tally:?}");
    }
}
