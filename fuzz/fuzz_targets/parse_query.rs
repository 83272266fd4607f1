//! Any text: parsing, printing and compiling a query never panics, and
//! diagnostics always point inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match talon_eql::parse(text) {
        Ok(q) => {
            let printed = q.to_string();
            // What the printer writes must parse again.
            assert!(talon_eql::parse(&printed).is_ok(), "printed query does not parse: {printed}");
            let _ = talon_eql::compile(&q, &talon_eql::CompileOptions::default());
        }
        Err(d) => {
            assert!(d.span.end as usize <= text.len());
            let _ = d.render("<fuzz>", text);
        }
    }
});
