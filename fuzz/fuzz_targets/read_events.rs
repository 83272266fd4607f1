//! Any bytes as an event file: reading never panics, and every event or
//! issue is accounted for in the stats.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talon_event::read::{EventReader, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let mut reader = EventReader::from_reader("fuzz", std::io::Cursor::new(data.to_vec()), ReadOptions::default());
    let mut events = 0u64;
    let mut issues = 0u64;
    for item in reader.by_ref() {
        match item {
            Ok(_) => events += 1,
            Err(_) => issues += 1,
        }
    }
    let stats = reader.stats();
    assert_eq!(stats.events, events);
    assert_eq!(stats.issue_count(), issues);
});
