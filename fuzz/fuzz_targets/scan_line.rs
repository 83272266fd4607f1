//! Any bytes as one NDJSON line through the projected scanner: it never
//! panics, and a line it accepts is one the flattener accepts, with the
//! same values in every kept field (floats compared by their bits).
//! The first byte picks one of a few catalogs.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use talon_event::catalog::FieldCatalog;
use talon_event::record::Record;
use talon_event::scan::{RawDoc, Scanner};
use talon_event::Value;

fn scanners() -> &'static [Scanner] {
    static SCANNERS: OnceLock<Vec<Scanner>> = OnceLock::new();
    SCANNERS.get_or_init(|| {
        vec![
            Scanner::new(FieldCatalog::new(["a", "b.c", "b.d", "arr", "s", "é", "a.b"])),
            Scanner::new(
                FieldCatalog::new(["n", "a", "x.y"]).with_null_value("n", Value::str("N")),
            ),
            Scanner::new(FieldCatalog::new(["b", "a.b.c", ".a", "a.", ""])),
            Scanner::new(FieldCatalog::new([
                "process.name",
                "process.args",
                "event.category",
                "data_stream.type",
            ])),
        ]
    })
}

fn bits(values: &[Value]) -> Vec<(u8, u64, Option<&str>)> {
    values
        .iter()
        .map(|v| match v {
            Value::Null => (0, 0, None),
            Value::Bool(b) => (1, u64::from(*b), None),
            Value::Int(i) => (2, *i as u64, None),
            Value::Float(f) => (3, f.to_bits(), None),
            Value::Str(s) => (4, 0, Some(&**s)),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, line)) = data.split_first() else {
        return;
    };
    let all = scanners();
    let scanner = &all[pick as usize % all.len()];
    let mut doc = RawDoc::new();
    if scanner.scan(line, &mut doc).is_err() {
        return;
    }
    let catalog = scanner.catalog();
    let text = std::str::from_utf8(line).expect("an accepted line is UTF-8");
    let want = match catalog.flattener().fields(text) {
        Ok(fields) => fields,
        Err(e) => panic!("scanner accepted a line the flattener rejects: {e}"),
    };
    let record = Record::new(line, &doc, catalog).expect("a record of the scanned line");
    for (path, values) in &want {
        let id = catalog.lookup(path).expect("every kept field has an id");
        assert_eq!(bits(record.values_by_id(id)), bits(values), "{path}");
    }
    for &id in record.fields() {
        assert!(want.contains_key(catalog.path(id)));
    }
});
